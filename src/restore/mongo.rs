//! `dbstash restore mongo`: `mongorestore --archive=FILE` with mongodump's connection and
//! its 0600 `--config` credentials file (never argv).
//!
//! mongorestore cannot undo a partial apply either: the archive is downloaded into a 0600
//! file and its SHA-256 checked first; `.archive.gz` (mongodump `--gzip` compressed the whole
//! archive) gets `--gzip`.
//!
//! The target: a single-database archive goes into DB_NAME (or `--target-db`, through
//! `--nsFrom`/`--nsTo`), and only that database's namespaces are restored (`--nsInclude`);
//! an all-databases archive restores every database it holds under its own name. A target
//! that already has collections is refused unless `--drop-existing` (`mongorestore --drop`:
//! each collection of the backup is dropped before it is restored; collections the backup
//! does not hold stay) or `--force` (restored on top: documents whose `_id` is already there
//! are kept as they are and counted as failed by mongorestore).
//!
//! The database tools have no query mode, so the target is looked at through mongodump
//! itself ([`crate::engine::Mongo::probe_command`]): an archive starts with a prelude that
//! lists every collection about to be dumped, before any data; dbstash reads that far and
//! stops mongodump. Only the backup's credentials and a read of the collection list are
//! needed.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::AsyncReadExt as _;
use tracing::{info, warn};

use super::decompress::Compression;
use super::{download_plain, run_tool, Done, Options, Selected};
use crate::config::Config;
use crate::engine::Mongo;
use crate::process;
use crate::rclone::Rclone;

const MAGIC: [u8; 4] = [0x6d, 0xe2, 0x99, 0x81];
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// The prelude holds one small document per collection (its options and index
/// definitions): far below this even for thousands of collections.
const PRELUDE_MAX: usize = 64 * 1024 * 1024;
/// How long the probe may take to list the target's collections (mongodump waits 30 s for
/// a server to select by default).
const PROBE_LIMIT: Duration = Duration::from_secs(60);
/// The server's own databases: never checked.
pub(super) const SYSTEM_DATABASES: &[&str] = &["admin", "config", "local"];

/// A collection (or view) a prelude lists.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Namespace {
    pub db: String,
    pub collection: String,
}

impl Namespace {
    /// A user's collection: not `system.*` (users, views' definitions, profiles).
    pub(super) fn is_user(&self) -> bool {
        !self.collection.starts_with("system.")
    }
}

impl std::fmt::Display for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.db, self.collection)
    }
}

/// The collections an archive's prelude lists, read from its first bytes `buf`: `Ok(None)`
/// while the prelude is not complete yet, `Err` when `buf` is not a mongodump archive.
pub fn parse_prelude(buf: &[u8]) -> Result<Option<Vec<Namespace>>, String> {
    if buf.len() < 4 {
        return Ok(None);
    }
    if buf[..4] != MAGIC {
        return Err(format!(
            "not a mongodump archive: it starts with {:02x?}, not the magic number 0x8199e26d",
            &buf[..4]
        ));
    }
    let mut pos = 4;
    let mut header = true;
    let mut out = Vec::new();
    loop {
        let Some(len) = buf.get(pos..pos + 4) else {
            return Ok(None);
        };
        let len = i32::from_le_bytes(len.try_into().expect("4 bytes"));
        if len == -1 && !header {
            return Ok(Some(out));
        }
        if !(5..=16 * 1024 * 1024).contains(&len) {
            return Err(format!(
                "the archive prelude has a document of {len} bytes at byte {pos}: not a mongodump archive"
            ));
        }
        let end = pos + len as usize;
        let Some(doc) = buf.get(pos + 4..end) else {
            return Ok(None);
        };
        if !header {
            let field = |name: &str| {
                string_field(doc, name)
                    .ok_or_else(|| format!("the collection metadata at byte {pos} has no {name}"))
            };
            out.push(Namespace {
                db: field("db")?,
                collection: field("collection")?,
            });
        }
        header = false;
        pos = end;
    }
}

/// The top-level string `name` of a BSON document's bytes after its length.
fn string_field(mut body: &[u8], name: &str) -> Option<String> {
    let len_at = |b: &[u8]| -> Option<usize> {
        usize::try_from(i32::from_le_bytes(b.get(..4)?.try_into().ok()?)).ok()
    };
    while let Some((&kind, rest)) = body.split_first() {
        if kind == 0 {
            return None; // the document's end
        }
        let nul = rest.iter().position(|&c| c == 0)?;
        let key = &rest[..nul];
        let value = &rest[nul + 1..];
        let size = match kind {
            0x02 | 0x0D | 0x0E => 4 + len_at(value)?,
            0x03 | 0x04 | 0x0F => len_at(value)?,
            0x05 => 5 + len_at(value)?,
            0x01 | 0x09 | 0x11 | 0x12 => 8,
            0x10 => 4,
            0x07 => 12,
            0x08 => 1,
            0x13 => 16,
            0x06 | 0x0A | 0x7F | 0xFF => 0,
            _ => return None,
        };
        if kind == 0x02 && key == name.as_bytes() {
            let s = value.get(4..size - 1)?;
            return String::from_utf8(s.to_vec()).ok();
        }
        body = value.get(size..)?;
    }
    None
}

/// The collections of the archive file at `path` (gzipped or not), from its prelude.
async fn archive_namespaces(path: &Path, gzip: bool) -> anyhow::Result<Vec<Namespace>> {
    use std::io::Read as _;
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let compression = if gzip {
            super::decompress::Compression::Gzip
        } else {
            super::decompress::Compression::None
        };
        let mut r = compression.open(&path)?;
        let mut buf = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            if let Some(list) = parse_prelude(&buf).map_err(anyhow::Error::msg)? {
                return Ok(list);
            }
            let n = r.read(&mut chunk)?;
            if n == 0 || buf.len() > PRELUDE_MAX {
                anyhow::bail!("the archive ends inside its prelude: truncated");
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    })
    .await?
    .context("reading the downloaded archive failed")
}

/// The collections the server has, in `db` or in every database, as mongodump lists them
/// before dumping (see the module doc). mongodump is stopped once its prelude is read.
pub async fn probe(cfg: &Config, db: Option<&str>) -> anyhow::Result<Vec<Namespace>> {
    let what = match db {
        Some(db) => format!("listing the collections of database {db} with mongodump"),
        None => "listing the server's collections with mongodump".to_string(),
    };
    match tokio::time::timeout(PROBE_LIMIT, probe_unbounded(cfg, db)).await {
        Ok(r) => r.with_context(|| format!("{what} failed")),
        Err(_) => anyhow::bail!(
            "{what}: no answer within {} (stopped it): is the server reachable?",
            crate::durations::fmt_human(PROBE_LIMIT)
        ),
    }
}

async fn probe_unbounded(cfg: &Config, db: Option<&str>) -> anyhow::Result<Vec<Namespace>> {
    use secrecy::ExposeSecret as _;
    let dc = Mongo.probe_command(cfg, db);
    let secret = match &dc.secret_file {
        Some(sf) => Some(process::secret_file(sf.content.expose_secret())?),
        None => None,
    };
    let mut child = process::tool_command(&dc, &dc.program, secret.as_ref())
        .spawn()
        .map_err(|e| process::spawn_error(&dc.program, e))?;
    let mut group = process::GroupGuard::new(child.id());
    let stderr = process::Tail::drain(child.stderr.take().expect("stderr is piped"));
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let found = loop {
        match parse_prelude(&buf) {
            Ok(Some(list)) => break Ok(list),
            Ok(None) if buf.len() > PRELUDE_MAX => {
                break Err(anyhow::anyhow!(
                    "mongodump's prelude is over {PRELUDE_MAX} bytes"
                ))
            }
            Ok(None) => {}
            Err(e) => break Err(anyhow::anyhow!("mongodump printed {e}")),
        }
        let n = stdout.read(&mut chunk).await?;
        if n == 0 {
            let status = child.wait().await?;
            group.disarm();
            if !status.success() {
                return Err(
                    process::ChildFailed::new("mongodump", status, stderr.text().await).into(),
                );
            }
            break Err(anyhow::anyhow!(
                "mongodump's output ended inside the archive prelude"
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    // Read enough: mongodump goes on to dump data nobody reads.
    drop(stdout);
    drop(group);
    let _ = child.wait().await;
    found
}

/// `N document(s) failed to restore` in mongorestore's summary.
pub(super) fn failed_documents(stderr: &str) -> u64 {
    let re = regex::Regex::new(r"(\d+) document\(s\) failed to restore").expect("valid");
    re.captures_iter(stderr)
        .filter_map(|c| c[1].parse::<u64>().ok())
        .last()
        .unwrap_or(0)
}

/// Restore `sel` into the server.
pub async fn restore(
    cfg: &Config,
    opts: &Options,
    rclone: &Rclone,
    sel: &Selected,
) -> anyhow::Result<Done> {
    let single = cfg
        .conn
        .database
        .as_deref()
        .map(|source| (source, opts.target_db.as_deref().unwrap_or(source)));
    // Refused before a byte is downloaded.
    if let Some((_, target)) = single {
        let there: Vec<Namespace> = probe(cfg, Some(target))
            .await?
            .into_iter()
            .filter(Namespace::is_user)
            .collect();
        judge(&format!("database {target}"), &there, opts)?;
    }
    let file = download_plain(
        rclone,
        sel,
        &cfg.temp_dir,
        opts.no_verify,
        cfg.encryption.identity.as_ref(),
    )
    .await?;
    info!(
        bytes = file.verified.bytes,
        checked = file.verified.checked,
        "downloaded the backup"
    );
    // An in-process zstd-compressed archive (`.archive.zst`): mongorestore reads gzip only,
    // so it is decompressed beside the download (its checksum was of the stored bytes).
    let archive = if super::decompress::sniff_file(&file.path)? == Compression::Zstd {
        let plain = file.dir().join("decompressed.archive");
        let n = super::decompress::to_file(&file.path, Compression::Zstd, &plain)
            .await
            .with_context(|| format!("{} is not a readable zstd stream", sel.name))?;
        info!(
            bytes = n,
            "decompressed the archive (zstd) for mongorestore"
        );
        plain
    } else {
        file.path.clone()
    };
    let mut head = [0u8; 4];
    {
        use std::io::Read as _;
        let n = std::fs::File::open(&archive)?.read(&mut head)?;
        if n < head.len() {
            anyhow::bail!("{} is not a mongodump archive: too short", sel.name);
        }
    }
    let gzip = head[..2] == GZIP_MAGIC;
    if !gzip && head != MAGIC {
        anyhow::bail!(
            "{} is not a mongodump archive (nor a gzipped one): it starts with {head:02x?}",
            sel.name
        );
    }
    let held = archive_namespaces(&archive, gzip).await?;
    let into = match single {
        Some((source, target)) => {
            if !held.iter().any(|n| n.db == source) {
                let dbs: std::collections::BTreeSet<&str> =
                    held.iter().map(|n| n.db.as_str()).collect();
                anyhow::bail!(
                    "{} holds no collection of database {source} (it holds {}): nothing would be restored",
                    sel.name,
                    if dbs.is_empty() { "none".to_string() } else { dbs.into_iter().collect::<Vec<_>>().join(", ") }
                );
            }
            format!("database {target}")
        }
        None => {
            let dbs: std::collections::BTreeSet<&str> = held
                .iter()
                .map(|n| n.db.as_str())
                .filter(|d| !SYSTEM_DATABASES.contains(d))
                .collect();
            let there: Vec<Namespace> = probe(cfg, None)
                .await?
                .into_iter()
                .filter(|n| n.is_user() && dbs.contains(n.db.as_str()))
                .collect();
            judge("the backup's databases", &there, opts)?;
            format!(
                "the server (databases {})",
                dbs.into_iter().collect::<Vec<_>>().join(", ")
            )
        }
    };
    let dc = Mongo.restore_command(cfg, &archive, gzip, single, opts.drop_existing);
    let stderr = run_tool(&dc, None).await?;
    let failed = failed_documents(&stderr);
    if failed > 0 {
        if opts.force {
            warn!(
                failed,
                "mongorestore kept {failed} document(s) already in the target (the same _id) instead of the backup's (--force)"
            );
        } else {
            anyhow::bail!(
                "mongorestore exited 0 but {failed} document(s) failed to restore: {stderr}"
            );
        }
    }
    Ok(Done {
        into,
        bytes: file.verified.bytes,
        verified: file.verified.checked,
    })
}

/// Refuse a target with collections unless `--drop-existing` or `--force`.
pub(super) fn judge(what: &str, there: &[Namespace], opts: &Options) -> anyhow::Result<()> {
    if there.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = there.iter().take(5).map(Namespace::to_string).collect();
    let list = format!(
        "{} collection{} ({}{})",
        there.len(),
        if there.len() == 1 { "" } else { "s" },
        shown.join(", "),
        if there.len() > 5 { ", …" } else { "" }
    );
    if opts.drop_existing {
        warn!(existing = %list, "mongorestore --drop replaces the backup's collections (--drop-existing); collections the backup does not hold stay");
        return Ok(());
    }
    if opts.force {
        warn!(existing = %list, "restoring on top of existing collections (--force): documents whose _id is already there are kept");
        return Ok(());
    }
    anyhow::bail!(
        "{what} already has {list}: refusing to restore into it, which would mix the backup with what is there. Give --drop-existing (RESTORE_DROP_EXISTING=true: mongorestore --drop replaces each collection the backup holds) or --force (RESTORE_FORCE=true: restore on top), or restore into another database with --target-db"
    )
}

/// The dry run's steps.
pub fn describe(cfg: &Config, opts: &Options, sel: &Selected) -> Vec<String> {
    let single = cfg
        .conn
        .database
        .as_deref()
        .map(|source| (source, opts.target_db.as_deref().unwrap_or(source)));
    let gzip = sel.name.ends_with(".gz");
    let archive = if sel.name.ends_with(".zst") {
        Path::new("<downloaded file, zstd-decompressed beside it>")
    } else {
        Path::new("<downloaded file>")
    };
    let if_there = if opts.drop_existing {
        "mongorestore --drop replaces the backup's collections (--drop-existing)"
    } else if opts.force {
        "restore on top of them (--force)"
    } else {
        "REFUSE (neither --drop-existing nor --force)"
    };
    let probe = Mongo.probe_command(cfg, single.map(|(_, t)| t));
    vec![
        format!(
            "list the {}'s collections from mongodump's archive prelude (stopped after it): {probe}",
            match single {
                Some((_, t)) => format!("database {t}"),
                None => "backup's databases".to_string(),
            }
        ),
        format!("collections there: {if_there}"),
        format!(
            "{}",
            Mongo.restore_command(cfg, archive, gzip, single, opts.drop_existing)
        ),
    ]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A BSON document of string and int32 fields.
    pub fn doc(fields: &[(&str, Result<&str, i32>)]) -> Vec<u8> {
        let mut body = Vec::new();
        for (name, v) in fields {
            match v {
                Ok(s) => {
                    body.push(0x02);
                    body.extend(name.as_bytes());
                    body.push(0);
                    body.extend(((s.len() + 1) as i32).to_le_bytes());
                    body.extend(s.as_bytes());
                    body.push(0);
                }
                Err(i) => {
                    body.push(0x10);
                    body.extend(name.as_bytes());
                    body.push(0);
                    body.extend(i.to_le_bytes());
                }
            }
        }
        let mut out = ((body.len() + 5) as i32).to_le_bytes().to_vec();
        out.extend(body);
        out.push(0);
        out
    }

    /// The start of an archive listing `namespaces`, then some data bytes.
    pub fn prelude(namespaces: &[(&str, &str)]) -> Vec<u8> {
        let mut a = MAGIC.to_vec();
        a.extend(doc(&[
            ("concurrent_collections", Err(4)),
            ("version", Ok("0.1")),
            ("server_version", Ok("7.0.0")),
            ("tool_version", Ok("100.9.0")),
        ]));
        for (db, coll) in namespaces {
            a.extend(doc(&[
                ("size", Err(10)),
                ("db", Ok(db)),
                ("collection", Ok(coll)),
                ("metadata", Ok(r#"{"indexes":[{"v":2,"key":{"_id":1}}]}"#)),
            ]));
        }
        a.extend([0xff; 4]);
        a
    }

    #[test]
    fn the_prelude_lists_the_collections_and_is_read_incrementally() {
        let mut a = prelude(&[("shop", "orders"), ("shop", "system.views"), ("app", "u")]);
        let end = a.len();
        a.extend(doc(&[("db", Ok("shop")), ("collection", Ok("orders"))]));
        let want = vec![
            Namespace {
                db: "shop".into(),
                collection: "orders".into(),
            },
            Namespace {
                db: "shop".into(),
                collection: "system.views".into(),
            },
            Namespace {
                db: "app".into(),
                collection: "u".into(),
            },
        ];
        for cut in 0..end {
            assert_eq!(parse_prelude(&a[..cut]), Ok(None), "cut at {cut}");
        }
        assert_eq!(parse_prelude(&a[..end]).unwrap().unwrap(), want);
        assert_eq!(parse_prelude(&a).unwrap().unwrap(), want);
        assert!(!want[1].is_user());
        assert_eq!(parse_prelude(&prelude(&[])).unwrap().unwrap(), []);

        assert!(parse_prelude(b"-- MariaDB dump")
            .unwrap_err()
            .contains("not a mongodump archive"));
        let mut bad = MAGIC.to_vec();
        bad.extend(1_000_000_000i32.to_le_bytes());
        assert!(parse_prelude(&bad).is_err());
        // A terminator where the header belongs.
        let mut bad = MAGIC.to_vec();
        bad.extend([0xff; 4]);
        assert!(parse_prelude(&bad).is_err());
        let mut nodb = MAGIC.to_vec();
        nodb.extend(doc(&[("version", Ok("0.1"))]));
        nodb.extend(doc(&[("collection", Ok("c"))]));
        nodb.extend([0xff; 4]);
        assert!(parse_prelude(&nodb).unwrap_err().contains("no db"));
    }

    #[test]
    fn failed_documents_are_read_from_the_summary() {
        assert_eq!(
            failed_documents("2026-02-07T02:00:00.000+0000\t2001 document(s) restored successfully. 0 document(s) failed to restore.\n"),
            0
        );
        assert_eq!(
            failed_documents(
                "x\t1990 document(s) restored successfully. 11 document(s) failed to restore.\n"
            ),
            11
        );
        assert_eq!(failed_documents("no summary"), 0);
    }

    #[test]
    fn a_target_with_collections_needs_drop_existing_or_force() {
        let ns = |c: &str| Namespace {
            db: "shop".into(),
            collection: c.into(),
        };
        let plain = Options::default();
        assert!(judge("database shop", &[], &plain).is_ok());
        let e = judge("database shop", &[ns("a"), ns("b")], &plain)
            .unwrap_err()
            .to_string();
        for needle in [
            "database shop already has 2 collections (shop.a, shop.b)",
            "--drop-existing",
            "--force",
        ] {
            assert!(e.contains(needle), "{e}");
        }
        let many: Vec<Namespace> = (0..7).map(|i| ns(&format!("c{i}"))).collect();
        let e = judge("database shop", &many, &plain)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("7 collections (shop.c0, shop.c1, shop.c2, shop.c3, shop.c4, …)"),
            "{e}"
        );
        for ok in [
            Options {
                drop_existing: true,
                ..Options::default()
            },
            Options {
                force: true,
                ..Options::default()
            },
        ] {
            assert!(judge("database shop", &[ns("a")], &ok).is_ok());
        }
    }
}
