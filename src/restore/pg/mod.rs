//! `dbstash restore pg`: a PostgreSQL backup back into the database, never from a corrupted
//! one.
//!
//! Single-database backups are streamed: `rclone cat` (hashed as it is read, see
//! [`super::download`]) → decompressed in-process (`.sql.gz`, `.sql.zst`) or turned into its
//! SQL script by `pg_restore --file=-` (custom and tar archives) → `psql --single-transaction`.
//! psql commits only when its input ends, and its input ends only after the whole backup was
//! read *and* its SHA-256 matched the sidecar: on a mismatch, a failed rclone, a timeout or a
//! signal, psql's process group is killed while its input is still open, and the server rolls
//! the transaction back. (pg_restore's own `--single-transaction` is not used for streams: it
//! commits as soon as it has read the last data block, before the end of the stream is
//! known.)
//!
//! What cannot run in one transaction is downloaded and verified first, then applied:
//! pg_dumpall's cluster scripts (`CREATE DATABASE`, `\connect`), and scripts that hold their
//! own transaction control (pg_dump wraps large objects in `BEGIN`/`COMMIT`), which the
//! stream's [`TxGuard`](guard::TxGuard) spots before psql sees them. An archive is then
//! applied with `pg_restore --single-transaction` from the verified file (still one
//! transaction); a plain script with psql (its own `COMMIT`s end dbstash's transaction early:
//! verified, but not atomic).

mod cluster;
mod dry_run;
mod guard;
mod proc;
mod single;
mod source;
mod stream;
mod target;

use std::path::Path;
use std::process::ExitCode;

use tracing::{error, info};

use self::cluster::restore_cluster;
use self::dry_run::describe;
use self::single::restore_single;
use super::decompress::Compression;
use super::settings::RestoreArgs;
use crate::config::{parse_bool, Config, ConfigError};
use crate::durations::fmt_duration;
use crate::engine::Postgres;
use crate::input::no_control_chars;
use crate::shutdown::{Cancel, Shutdown};

pub(super) use self::target::{drop_created, inspect, prepare_target, TargetState};

/// The user's choices, checked.
#[derive(Debug, Clone)]
pub(super) struct Options {
    pub(super) drop_existing: bool,
    pub(super) force: bool,
    pub(super) no_verify: bool,
    /// The database restored into (single-database backups).
    pub(super) target: String,
    /// Where the target's name came from, for messages.
    pub(super) target_from: &'static str,
}

pub(super) fn options(cfg: &Config, args: &RestoreArgs) -> Result<Options, ConfigError> {
    let drop_existing = parse_bool("RESTORE_DROP_EXISTING", &args.drop_existing, false)?;
    let force = parse_bool("RESTORE_FORCE", &args.force, false)?;
    let no_verify = parse_bool("RESTORE_NO_VERIFY", &args.no_verify, false)?;
    if drop_existing && force {
        return Err(ConfigError::combo(
            "RESTORE_DROP_EXISTING (--restore-drop-existing) and RESTORE_FORCE (--restore-force)",
            "choose one: --drop-existing drops the target's objects first, --force restores on top of them",
        ));
    }
    let target_db = args
        .target_db
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let (target, target_from) = match (target_db, &cfg.conn.database) {
        (Some(_), None) => {
            return Err(ConfigError::var(
                "RESTORE_TARGET_DB",
                "does not apply to an all-databases backup (BACKUP_ALL_DATABASES): pg_dumpall's script creates and fills each database under its own name",
            ))
        }
        (Some(t), Some(_)) => (t.to_string(), "--target-db"),
        (None, Some(db)) => (db.clone(), "DB_NAME"),
        (None, None) => (Postgres.maintenance_database(cfg), "maintenance database"),
    };
    no_control_chars("RESTORE_TARGET_DB", &target)?;
    Ok(Options {
        drop_existing,
        force,
        no_verify,
        target,
        target_from,
    })
}

/// `dbstash restore pg`: exit 0 restored, 1 failed (nothing committed unless said), 2 bad
/// flags.
pub async fn restore(cfg: &Config, args: &RestoreArgs) -> ExitCode {
    let opts = match options(cfg, args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("dbstash: invalid configuration: {e}");
            return ExitCode::from(crate::EXIT_BAD_CONFIG);
        }
    };
    if cfg.all_databases && opts.drop_existing {
        eprintln!("dbstash: invalid configuration: RESTORE_DROP_EXISTING (--restore-drop-existing) does not apply to an all-databases backup: restore a cluster into a new (empty) server, or drop its databases yourself; --force applies it over existing ones");
        return ExitCode::from(crate::EXIT_BAD_CONFIG);
    }
    let mut shutdown = match Shutdown::new() {
        Ok(s) => s,
        Err(e) => {
            error!(error = %format!("{e:#}"), "restore failed");
            return ExitCode::from(crate::EXIT_BACKUP_FAILED);
        }
    };
    let started = std::time::Instant::now();
    let mut cancel = Cancel::new(&mut shutdown, cfg.timeout);
    let result = run(cfg, args, &opts, &mut cancel).await;
    match result {
        Ok(Some(done)) => {
            info!(
                backup = %done.name,
                database = %done.into,
                duration = %fmt_duration(started.elapsed()),
                bytes = done.bytes,
                verified = done.verified,
                "restore succeeded"
            );
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS, // dry run
        Err(e) => {
            error!(
                duration = %fmt_duration(started.elapsed()),
                error = %format!("{e:#}"),
                "restore failed"
            );
            ExitCode::from(crate::EXIT_BACKUP_FAILED)
        }
    }
}

/// What a restore did.
struct Done {
    name: String,
    into: String,
    bytes: u64,
    verified: bool,
}

/// What a backup is, as far as the restore cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Plain SQL of one database (pg_dump), maybe compressed.
    Plain,
    /// A custom or tar archive: pg_restore reads it.
    Archive,
    /// pg_dumpall's script: the whole cluster.
    Cluster,
}

impl Kind {
    /// By the object's name and the configuration, for the dry run (the real run reads the
    /// first bytes).
    fn by_name(cfg: &Config, name: &str) -> Kind {
        if cfg.all_databases {
            Kind::Cluster
        } else if name.ends_with(".dump") || name.ends_with(".tar") {
            Kind::Archive
        } else {
            Kind::Plain
        }
    }

    /// By the first (decompressed) bytes.
    fn sniff(head: &[u8]) -> Kind {
        if head.starts_with(b"PGDMP") || head.get(257..262) == Some(b"ustar") {
            Kind::Archive
        } else if head
            .windows(CLUSTER_HEADER.len())
            .take(64)
            .any(|w| w == CLUSTER_HEADER)
        {
            Kind::Cluster
        } else {
            Kind::Plain
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Kind::Plain => "plain SQL (pg_dump)",
            Kind::Archive => "a pg_dump archive (custom or tar format)",
            Kind::Cluster => "pg_dumpall's script of the whole cluster",
        }
    }
}

/// pg_dumpall's first comment.
const CLUSTER_HEADER: &[u8] = b"-- PostgreSQL database cluster dump";
/// The last comment of pg_dump's (and pg_restore's) scripts: a plain backup restored without
/// a checksum must end with it, or it is truncated.
const DUMP_TRAILER: &[u8] = b"-- PostgreSQL database dump complete";

/// How compressed the raw bytes are, by their magic number.
fn compression_of(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

fn file_head(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut head = Vec::with_capacity(8);
    std::fs::File::open(path)?.take(8).read_to_end(&mut head)?;
    Ok(head)
}

async fn run(
    cfg: &Config,
    args: &RestoreArgs,
    opts: &Options,
    cancel: &mut Cancel<'_>,
) -> anyhow::Result<Option<Done>> {
    let Some((rclone, sel)) =
        super::start(cfg, args.backup.as_deref(), opts.no_verify, cancel, |sel| {
            describe(cfg, opts, sel)
        })
        .await?
    else {
        return Ok(None);
    };
    if cfg.all_databases {
        return cancel
            .guard(restore_cluster(cfg, opts, &rclone, &sel))
            .await
            .map(Some);
    }
    let mut created = None;
    let result = cancel
        .guard(restore_single(cfg, opts, &rclone, &sel, &mut created))
        .await;
    if result.is_err() {
        if let Some(db) = created {
            // Nothing was committed into it (or only what a non-atomic script committed
            // before failing): it did not exist before, and it does not now.
            drop_created(cfg, &db).await;
        }
    }
    result.map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_compression_are_read_from_the_first_bytes() {
        assert_eq!(Kind::sniff(b"PGDMP\x01\x0e"), Kind::Archive);
        let mut tar = vec![0u8; 300];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(Kind::sniff(&tar), Kind::Archive);
        assert_eq!(
            Kind::sniff(b"--\n-- PostgreSQL database cluster dump\n--\n"),
            Kind::Cluster
        );
        assert_eq!(
            Kind::sniff(b"--\n-- PostgreSQL database dump\n--\n"),
            Kind::Plain
        );
        assert_eq!(compression_of(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(compression_of(&[0x28, 0xb5, 0x2f, 0xfd]), Compression::Zstd);
        assert_eq!(compression_of(b"--"), Compression::None);
    }
}
