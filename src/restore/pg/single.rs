//! One database's restore: streamed into psql's one transaction (see [`super::stream`]), or,
//! when its script holds its own transaction control, downloaded and verified first, then
//! applied from the file.

use std::path::Path;

use anyhow::Context as _;
use tokio::io::AsyncWriteExt as _;
use tracing::{info, warn};

use super::proc::{Output, Proc};
use super::source::{Source, CHUNK};
use super::stream::{contains, stream_archive, stream_plain, StreamError, TAIL_KEPT};
use super::target::{prepare_target, DROP_EXISTING_SQL};
use super::{compression_of, file_head, Done, Kind, Options, DUMP_TRAILER};
use crate::config::Config;
use crate::engine::Postgres;
use crate::rclone::Rclone;
use crate::restore::decompress::Compression;
use crate::restore::{download_plain, Selected};

pub(super) async fn restore_single(
    cfg: &Config,
    opts: &Options,
    rclone: &Rclone,
    sel: &Selected,
    created: &mut Option<String>,
) -> anyhow::Result<Done> {
    let mut source = if crate::restore::decrypt::is_encrypted(&sel.name) {
        // Decrypted whole before anything is applied (see `decrypt`), then read like a stream.
        let file = download_plain(
            rclone,
            sel,
            &cfg.temp_dir,
            opts.no_verify,
            cfg.encryption.identity.as_ref(),
        )
        .await?;
        Source::local(file).await?
    } else {
        Source::start(rclone, sel, opts.no_verify)?
    };
    source.head().await?;
    let kind = Kind::sniff(&source.decoded_head);
    info!(format = kind.describe(), compression = ?source.compression, "read the backup's first bytes");
    if kind == Kind::Cluster {
        anyhow::bail!(
            "{} is pg_dumpall's script of a whole cluster, not one database's dump: restore it with BACKUP_ALL_DATABASES=true (its databases keep their own names)",
            sel.name
        );
    }
    prepare_target(cfg, opts, created).await?;

    let streamed = match kind {
        Kind::Plain => stream_plain(cfg, opts, source).await,
        _ => stream_archive(cfg, opts, source).await,
    };
    match streamed {
        Ok(s) => Ok(Done {
            name: sel.name.clone(),
            into: opts.target.clone(),
            bytes: s.bytes,
            verified: s.verified,
        }),
        Err(StreamError::Failed(e)) => Err(e),
        Err(StreamError::OwnTransactions(u)) => {
            warn!(
                line = u.line,
                statement = %u.what,
                "the backup's script holds its own transaction control ({} at line {} of the SQL; pg_dump writes BEGIN/COMMIT around large objects): it cannot be applied inside dbstash's one transaction while streaming, so it is downloaded and verified first, then applied{}",
                u.what,
                u.line,
                if kind == Kind::Archive { " with pg_restore --single-transaction" } else { " (its own COMMITs make that apply non-atomic)" }
            );
            let file = download_plain(
                rclone,
                sel,
                &cfg.temp_dir,
                opts.no_verify,
                cfg.encryption.identity.as_ref(),
            )
            .await?;
            let bytes = file.verified.bytes;
            match kind {
                Kind::Archive => {
                    // An archive compressed in dbstash (`.dump.zst`: BACKUP_COMPRESS_ALGO
                    // with -Fc): pg_restore reads a decompressed copy beside it.
                    let compression = compression_of(&file_head(&file.path)?);
                    let path = if compression == Compression::None {
                        file.path.clone()
                    } else {
                        let plain = file.dir().join("decompressed.dump");
                        crate::restore::decompress::to_file(&file.path, compression, &plain)
                            .await?;
                        plain
                    };
                    let path = path.to_string_lossy().into_owned();
                    let dc = Postgres.restore_archive(cfg, &opts.target, opts.drop_existing, &path);
                    let p = Proc::spawn(&dc, false, Output::Tail)?;
                    p.finish().await?;
                }
                _ => {
                    let compression = compression_of(&file_head(&file.path)?);
                    if !file.verified.checked && !ends_with_trailer(&file.path, compression)? {
                        anyhow::bail!(
                            "the backup (restored without a checksum, --no-verify) does not end with pg_dump's completion line ({}): it is truncated or not a pg_dump script; nothing was applied",
                            String::from_utf8_lossy(DUMP_TRAILER)
                        );
                    }
                    let dc = Postgres.restore_psql(cfg, &opts.target, None);
                    let mut p = Proc::spawn(&dc, true, Output::Tail)?;
                    let stdin = p.stdin.as_mut().expect("stdin is piped");
                    let fed = async {
                        if opts.drop_existing {
                            stdin.write_all(DROP_EXISTING_SQL.as_bytes()).await?;
                        }
                        crate::restore::decompress::copy_file(&file.path, compression, stdin).await
                    }
                    .await;
                    if let Err(e) = fed {
                        return Err(p.failure(&format!("feeding psql failed: {e}")).await);
                    }
                    p.finish().await?;
                }
            }
            Ok(Done {
                name: sel.name.clone(),
                into: opts.target.clone(),
                bytes,
                verified: file.verified.checked,
            })
        }
    }
}

/// Whether the (decompressed) file's last bytes hold pg_dump's completion line.
fn ends_with_trailer(path: &Path, c: Compression) -> anyhow::Result<bool> {
    use std::io::Read as _;
    let mut r = c.open(path)?;
    let mut tail: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = r.read(&mut buf).context("reading the downloaded backup")?;
        if n == 0 {
            return Ok(contains(&tail, DUMP_TRAILER));
        }
        tail.extend_from_slice(&buf[..n]);
        if tail.len() > 2 * TAIL_KEPT {
            tail.drain(..tail.len() - TAIL_KEPT);
        }
    }
}
