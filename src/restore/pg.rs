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
//! stream's [`TxGuard`] spots before psql sees them. An archive is then applied with
//! `pg_restore --single-transaction` from the verified file (still one transaction); a plain
//! script with psql (its own `COMMIT`s end dbstash's transaction early: verified, but not
//! atomic).

use std::fmt::Write as _;
use std::path::Path;
use std::process::{ExitCode, Stdio};

use anyhow::{anyhow, Context as _};
use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncReadExt as _, AsyncWriteExt as _};
use tokio::process::{Child, ChildStdin, ChildStdout};
use tracing::{error, info, warn};

use super::decompress::Compression;
use super::settings::RestoreArgs;
use super::{download_plain, download_stream, select, Selected};
use crate::config::{parse_bool, Config, ConfigError};
use crate::durations::fmt_duration;
use crate::engine::{DumpCommand, Postgres};
use crate::input::no_control_chars;
use crate::process::{self, ChildFailed, Tail};
use crate::rclone::{self, Rclone};
use crate::shutdown::{Cancel, Shutdown};

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

async fn run(
    cfg: &Config,
    args: &RestoreArgs,
    opts: &Options,
    cancel: &mut Cancel<'_>,
) -> anyhow::Result<Option<Done>> {
    let rclone = Rclone::new(cfg)?;
    let sel = cancel
        .guard(select(cfg, &rclone, args.backup.as_deref()))
        .await?;
    if sel.sha256.is_none() && !opts.no_verify && !cfg.dry_run {
        anyhow::bail!(
            "{} has no .sha256 sidecar, so its integrity cannot be checked: refusing to restore it (the run that wrote it may have been killed). Give --no-verify (RESTORE_NO_VERIFY=true) to restore it anyway",
            sel.name
        );
    }
    if cfg.dry_run {
        print!("{}", describe(cfg, opts, &sel));
        return Ok(None);
    }
    info!(
        backup = %rclone::redact_remote(&sel.path),
        size = sel.size,
        checksum = if sel.sha256.is_some() { "sha256 sidecar" } else { "none (--no-verify)" },
        "restore started"
    );
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

// ------------------------------------------------------------------------ one database

async fn restore_single(
    cfg: &Config,
    opts: &Options,
    rclone: &Rclone,
    sel: &Selected,
    created: &mut Option<String>,
) -> anyhow::Result<Done> {
    let mut source = if super::decrypt::is_encrypted(&sel.name) {
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
                        super::decompress::to_file(&file.path, compression, &plain).await?;
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
                        super::decompress::copy_file(&file.path, compression, stdin).await
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

fn file_head(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut head = Vec::with_capacity(8);
    std::fs::File::open(path)?.take(8).read_to_end(&mut head)?;
    Ok(head)
}

/// `--drop-existing` for plain SQL, which psql cannot "clean": every extension (but plpgsql),
/// every schema of the target (`CASCADE`: its tables, views, functions, types) and every
/// large object are dropped, and an empty `public` schema is made as `CREATE DATABASE`
/// makes it; all inside the restore's transaction, so a failed or corrupted restore rolls
/// the drop back too.
const DROP_EXISTING_SQL: &str = r#"-- dbstash --drop-existing: drop the target's schemas and large objects first
DO $dbstash$
DECLARE
  s name;
BEGIN
  -- Extensions first: a schema an extension owns cannot be dropped before it.
  FOR s IN SELECT extname FROM pg_catalog.pg_extension WHERE extname <> 'plpgsql' LOOP
    EXECUTE format('DROP EXTENSION %I CASCADE', s);
  END LOOP;
  FOR s IN SELECT nspname FROM pg_catalog.pg_namespace
           WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
             AND nspname NOT LIKE 'pg\_temp\_%' AND nspname NOT LIKE 'pg\_toast\_temp\_%'
  LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', s);
  END LOOP;
  PERFORM pg_catalog.lo_unlink(oid) FROM pg_catalog.pg_largeobject_metadata;
  IF current_setting('server_version_num')::int >= 150000 THEN
    CREATE SCHEMA public AUTHORIZATION pg_database_owner;
    GRANT USAGE ON SCHEMA public TO PUBLIC;
  ELSE
    CREATE SCHEMA public;
    GRANT USAGE, CREATE ON SCHEMA public TO PUBLIC;
  END IF;
  COMMENT ON SCHEMA public IS 'standard public schema';
END
$dbstash$;
"#;

/// The SQL that finds the user tables of a database: `count|first names`.
const TABLES_SQL: &str = "SELECT count(*) || '|' || coalesce(string_agg(name, ', '), '') FROM (SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%' ORDER BY 1) t";

/// What a target database holds.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum TargetState {
    Missing,
    /// The number of user tables and the first few names.
    Tables(u64, String),
}

pub(super) async fn inspect(cfg: &Config, db: &str) -> anyhow::Result<TargetState> {
    let dc = Postgres.restore_query(cfg, db, TABLES_SQL);
    match run_query(&dc).await {
        Ok(out) => {
            let (n, names) = out.trim().split_once('|').unwrap_or(("0", ""));
            let n: u64 = n.parse().unwrap_or(0);
            let shown: Vec<&str> = names
                .split(", ")
                .filter(|s| !s.is_empty())
                .take(5)
                .collect();
            let mut shown = shown.join(", ");
            if n > 5 {
                let _ = write!(shown, ", …");
            }
            Ok(TargetState::Tables(n, shown))
        }
        Err(e) if is_missing_database(&e, db) => Ok(TargetState::Missing),
        Err(e) => Err(e.context(format!("checking the target database {db} failed"))),
    }
}

fn is_missing_database(e: &anyhow::Error, db: &str) -> bool {
    e.downcast_ref::<ChildFailed>().is_some_and(|c| {
        c.stderr
            .contains(&format!("database \"{db}\" does not exist"))
    })
}

/// Run a query command; its stdout.
async fn run_query(dc: &DumpCommand) -> anyhow::Result<String> {
    let secret = secret_file(dc)?;
    let cmd = process::tool_command(dc, &dc.program, secret.as_ref());
    let out = process::run(cmd, &dc.program, None).await?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn secret_file(dc: &DumpCommand) -> anyhow::Result<Option<process::SecretFile>> {
    use secrecy::ExposeSecret as _;
    dc.secret_file
        .as_ref()
        .map(|sf| process::secret_file(sf.content.expose_secret()))
        .transpose()
}

/// A quoted SQL identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Refuse a target with tables (unless `--drop-existing` or `--force`); create a missing one.
pub(super) async fn prepare_target(
    cfg: &Config,
    opts: &Options,
    created: &mut Option<String>,
) -> anyhow::Result<()> {
    match inspect(cfg, &opts.target).await? {
        TargetState::Missing => {
            let maintenance = Postgres.maintenance_database(cfg);
            info!(database = %opts.target, "the target database does not exist: creating it");
            let sql = format!("CREATE DATABASE {}", ident(&opts.target));
            run_query(&Postgres.restore_query(cfg, &maintenance, &sql))
                .await
                .with_context(|| format!("the target database {} does not exist, and creating it (connected to {maintenance}) failed: create it yourself (createdb, or CREATE DATABASE) or let the user create databases", opts.target))?;
            *created = Some(opts.target.clone());
            Ok(())
        }
        TargetState::Tables(0, _) => Ok(()),
        TargetState::Tables(n, names) => {
            if opts.drop_existing {
                info!(database = %opts.target, tables = n, "--drop-existing: the target's objects are dropped in the restore's transaction");
                Ok(())
            } else if opts.force {
                info!(database = %opts.target, tables = n, "--force: restoring on top of the existing tables (a conflict fails the restore, and it is rolled back)");
                Ok(())
            } else {
                anyhow::bail!(
                    "the target database {} ({}) already has {n} table(s) ({names}): refusing to restore into it. Give --drop-existing (RESTORE_DROP_EXISTING=true) to drop its objects first (in the restore's transaction), --force (RESTORE_FORCE=true) to restore on top of them, or --target-db NAME for another database",
                    opts.target, opts.target_from
                )
            }
        }
    }
}

/// Drop the database this restore created, after a failure: bounded, logged.
pub(super) async fn drop_created(cfg: &Config, db: &str) {
    let maintenance = Postgres.maintenance_database(cfg);
    let dc = Postgres.restore_query(
        cfg,
        &maintenance,
        &format!("DROP DATABASE IF EXISTS {}", ident(db)),
    );
    match tokio::time::timeout(std::time::Duration::from_secs(30), run_query(&dc)).await {
        Ok(Ok(_)) => info!(database = %db, "dropped the database this failed restore had created"),
        Ok(Err(e)) => {
            error!(database = %db, error = %format!("{e:#}"), "could not drop the database this failed restore had created: drop it by hand")
        }
        Err(_) => {
            error!(database = %db, "no answer while dropping the database this failed restore had created: drop it by hand")
        }
    }
}

// ------------------------------------------------------------------------ streaming

/// What a stream applied.
struct Streamed {
    bytes: u64,
    verified: bool,
}

enum StreamError {
    /// The script ends transactions itself: nothing was committed; apply from a file.
    OwnTransactions(Unsafe),
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for StreamError {
    fn from(e: anyhow::Error) -> Self {
        StreamError::Failed(e)
    }
}

/// Bytes gathered per read of the backup.
const CHUNK: usize = 256 * 1024;
/// Decoded bytes read before deciding what the backup is.
const HEAD: usize = 8 * 1024;

/// The backup's bytes: `rclone cat`, hashed (end-of-file only once verified), decompressed.
struct Source {
    stream: Raw,
    compression: Compression,
    decoder: Option<Decoder>,
    /// Decoded bytes read for [`Source::head`], not yet handed on.
    decoded_head: Vec<u8>,
    buf: Vec<u8>,
}

/// Where a [`Source`]'s raw bytes come from: `rclone cat` verified as it is read, or a
/// verified (and decrypted) download.
enum Raw {
    Remote(Box<super::DownloadStream>),
    Local {
        file: tokio::fs::File,
        downloaded: super::Downloaded,
    },
}

impl Raw {
    async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Raw::Remote(s) => s.read(buf).await,
            Raw::Local { file, .. } => file.read(buf).await,
        }
    }

    fn checked(&self) -> bool {
        match self {
            Raw::Remote(s) => s.verified().is_some_and(|v| v.checked),
            Raw::Local { downloaded, .. } => downloaded.verified.checked,
        }
    }

    /// The stored bytes read (all of them, for a download).
    fn bytes(&self) -> u64 {
        match self {
            Raw::Remote(s) => s.bytes(),
            Raw::Local { downloaded, .. } => downloaded.verified.bytes,
        }
    }
}

impl Source {
    /// A verified download's (decrypted) file, read as a stream.
    async fn local(downloaded: super::Downloaded) -> anyhow::Result<Source> {
        let file = tokio::fs::File::open(&downloaded.path)
            .await
            .with_context(|| format!("opening {}", downloaded.path.display()))?;
        Ok(Source {
            stream: Raw::Local { file, downloaded },
            compression: Compression::None,
            decoder: None,
            decoded_head: Vec::new(),
            buf: vec![0u8; CHUNK],
        })
    }

    fn start(rclone: &Rclone, sel: &Selected, no_verify: bool) -> anyhow::Result<Source> {
        Ok(Source {
            stream: Raw::Remote(Box::new(download_stream(rclone, sel, no_verify)?)),
            compression: Compression::None,
            decoder: None,
            decoded_head: Vec::new(),
            buf: vec![0u8; CHUNK],
        })
    }

    /// Read until [`HEAD`] decoded bytes (or the end) are in `decoded_head`; the compression
    /// is known from then on.
    async fn head(&mut self) -> anyhow::Result<()> {
        let mut raw = Vec::new();
        let mut ended = false;
        while raw.len() < 4 {
            let n = self.read_raw().await?;
            if n == 0 {
                ended = true;
                break;
            }
            raw.extend_from_slice(&self.buf[..n]);
        }
        self.compression = compression_of(&raw);
        self.decoder = Decoder::new(self.compression)?;
        self.decode_into_head(&raw)?;
        while !ended && self.decoded_head.len() < HEAD {
            let n = self.read_raw().await?;
            if n == 0 {
                ended = true;
                break;
            }
            let chunk = self.buf[..n].to_vec();
            self.decode_into_head(&chunk)?;
        }
        if ended {
            self.finish_decoder_into_head()?;
        }
        Ok(())
    }

    fn decode_into_head(&mut self, raw: &[u8]) -> anyhow::Result<()> {
        match &mut self.decoder {
            Some(d) => d.push(raw, &mut self.decoded_head),
            None => {
                self.decoded_head.extend_from_slice(raw);
                Ok(())
            }
        }
    }

    fn finish_decoder_into_head(&mut self) -> anyhow::Result<()> {
        if let Some(mut d) = self.decoder.take() {
            d.finish(&mut self.decoded_head)?;
        }
        Ok(())
    }

    /// One read of verified-so-far raw bytes into `buf`; 0 at the (verified) end. No
    /// batching: what arrived goes on at once, so a stalled stream holds nothing back.
    async fn read_raw(&mut self) -> anyhow::Result<usize> {
        self.stream
            .read(&mut self.buf)
            .await
            .map_err(download_error)
    }

    /// The next decoded bytes, appended to `out`; `false` at the verified end (the decoder
    /// finished too).
    async fn next(&mut self, out: &mut Vec<u8>) -> anyhow::Result<bool> {
        if !self.decoded_head.is_empty() {
            out.append(&mut self.decoded_head);
            return Ok(true);
        }
        let n = self.read_raw().await?;
        if n == 0 {
            if let Some(mut d) = self.decoder.take() {
                d.finish(out)?;
                if !out.is_empty() {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        match &mut self.decoder {
            Some(d) => d.push(&self.buf[..n], out)?,
            None => out.extend_from_slice(&self.buf[..n]),
        }
        Ok(true)
    }

    fn verified(&self) -> bool {
        self.stream.checked()
    }
}

/// A download error, with the checksum mismatch (if that is what it is) kept findable.
fn download_error(e: std::io::Error) -> anyhow::Error {
    match super::checksum_mismatch(&e) {
        Some(m) => anyhow::Error::new(m.clone()),
        None => anyhow!("reading the backup failed: {e}"),
    }
}

/// Plain SQL: decoded bytes → guard → psql, which commits when its input ends.
async fn stream_plain(
    cfg: &Config,
    opts: &Options,
    mut source: Source,
) -> Result<Streamed, StreamError> {
    let dc = Postgres.restore_psql(cfg, &opts.target, None);
    let mut sink = Sink::start(&dc, opts.no_verify)?;
    if opts.drop_existing {
        sink.write_trusted(DROP_EXISTING_SQL.as_bytes()).await?;
    }
    let mut chunk = Vec::with_capacity(CHUNK);
    loop {
        chunk.clear();
        let more = match source.next(&mut chunk).await {
            Ok(more) => more,
            // psql is killed (dropped) with its input still open: nothing commits.
            Err(e) => return Err(StreamError::Failed(e)),
        };
        if !more {
            break;
        }
        sink.feed(&chunk).await?;
    }
    // The backup ended and its SHA-256 matched: only now may psql see the end (and commit).
    let bytes = sink.bytes;
    sink.commit().await?;
    Ok(Streamed {
        bytes,
        verified: source.verified(),
    })
}

/// An archive: its bytes (decompressed when dbstash compressed it: `.dump.zst`) →
/// `pg_restore --file=-` → its script → guard → psql.
async fn stream_archive(
    cfg: &Config,
    opts: &Options,
    mut source: Source,
) -> Result<Streamed, StreamError> {
    let script = Postgres.restore_script(opts.drop_existing);
    let mut converter = Proc::spawn(&script, true, Output::Piped)?;
    let mut script_out = converter.stdout.take().expect("stdout is piped");
    let dc = Postgres.restore_psql(cfg, &opts.target, None);
    let mut sink = Sink::start(&dc, opts.no_verify)?;

    // Both directions at once: the first to fail ends the other (dropped), and then every
    // child is killed before psql's input closes.
    let feed = async {
        let stdin = converter.stdin.as_mut().expect("stdin is piped");
        let mut chunk = Vec::with_capacity(CHUNK);
        loop {
            chunk.clear();
            if !source.next(&mut chunk).await.map_err(StreamError::Failed)? {
                break;
            }
            if let Err(e) = stdin.write_all(&chunk).await {
                return Err(StreamError::Failed(anyhow!(
                    "pg_restore stopped reading the backup: {e}"
                )));
            }
        }
        Ok::<(), StreamError>(())
    };
    let apply = async {
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = script_out
                .read(&mut buf)
                .await
                .map_err(|e| StreamError::Failed(anyhow!("reading pg_restore's script: {e}")))?;
            if n == 0 {
                return Ok::<(), StreamError>(());
            }
            sink.feed(&buf[..n]).await?;
        }
    };
    let joined = tokio::try_join!(feed, apply);
    if let Err(e) = joined {
        // pg_restore's own failure (not an archive, damaged) is the one worth telling.
        if let StreamError::Failed(inner) = e {
            if super::checksum_mismatch(inner.as_ref()).is_none() {
                if let Some(failed) = converter.exited_failed().await {
                    return Err(StreamError::Failed(failed));
                }
            }
            return Err(StreamError::Failed(inner));
        }
        return Err(e);
    }
    // Verified: pg_restore gets its end of input, must exit 0, and its script must be whole.
    converter.finish().await?;
    let bytes = source.stream.bytes();
    sink.commit().await?;
    Ok(Streamed {
        bytes,
        verified: source.verified(),
    })
}

/// psql reading a script on stdin in one transaction, watched by a [`TxGuard`].
struct Sink {
    proc: Proc,
    guard: TxGuard,
    /// The last bytes, for the completion line (required when nothing else proves the
    /// script whole: `--no-verify`).
    tail: Vec<u8>,
    require_trailer: bool,
    bytes: u64,
}

impl Sink {
    fn start(dc: &DumpCommand, require_trailer: bool) -> anyhow::Result<Sink> {
        Ok(Sink {
            proc: Proc::spawn(dc, true, Output::Tail)?,
            guard: TxGuard::default(),
            tail: Vec::new(),
            require_trailer,
            bytes: 0,
        })
    }

    /// dbstash's own SQL, not scanned.
    async fn write_trusted(&mut self, data: &[u8]) -> anyhow::Result<()> {
        let stdin = self.proc.stdin.as_mut().expect("stdin until commit");
        if let Err(e) = stdin.write_all(data).await {
            return Err(self
                .proc
                .failure(&format!("psql stopped reading: {e}"))
                .await);
        }
        Ok(())
    }

    async fn feed(&mut self, data: &[u8]) -> Result<(), StreamError> {
        // Checked before psql sees any of it: a COMMIT here would end the transaction.
        self.guard
            .scan(data)
            .map_err(StreamError::OwnTransactions)?;
        self.bytes += data.len() as u64;
        self.tail.extend_from_slice(data);
        if self.tail.len() > 2 * TAIL_KEPT {
            self.tail.drain(..self.tail.len() - TAIL_KEPT);
        }
        self.write_trusted(data).await.map_err(StreamError::Failed)
    }

    /// End psql's input (it commits) and wait for it.
    async fn commit(mut self) -> Result<(), StreamError> {
        self.guard.finish().map_err(StreamError::OwnTransactions)?;
        if self.require_trailer && !contains(&self.tail, DUMP_TRAILER) {
            return Err(StreamError::Failed(anyhow!(
                "the backup (restored without a checksum, --no-verify) does not end with pg_dump's completion line ({}): it is truncated or not a pg_dump script; nothing was committed",
                String::from_utf8_lossy(DUMP_TRAILER)
            )));
        }
        Ok(self.proc.finish().await?)
    }
}

const TAIL_KEPT: usize = 1024;

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// What a [`Proc`] does with its stdout.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Output {
    /// Discarded; stderr's tail kept for errors.
    Tail,
    /// Piped for the caller (pg_restore's script).
    Piped,
    /// Discarded; stderr left to the caller (which reads every error of a cluster restore).
    Errors,
}

/// A database tool run by the restore. Dropping it kills its process group *before* its
/// stdin closes: psql must never see the end of its input unless [`Proc::finish`] says so.
struct Proc {
    what: String,
    child: Child,
    pgid: Option<u32>,
    stdin: Option<ChildStdin>,
    stdout: Option<ChildStdout>,
    stderr: Option<Tail>,
    /// The tool's secret file (libpq's service file), alive while it runs.
    _secret: Option<process::SecretFile>,
}

impl Proc {
    fn spawn(dc: &DumpCommand, stdin: bool, output: Output) -> anyhow::Result<Proc> {
        let secret = secret_file(dc)?;
        let mut cmd = process::tool_command(dc, &dc.program, secret.as_ref());
        if stdin {
            cmd.stdin(Stdio::piped());
        }
        if output != Output::Piped {
            cmd.stdout(Stdio::null());
        }
        info!(command = %dc, "starting");
        let mut child = cmd
            .spawn()
            .map_err(|e| process::spawn_error(&dc.program, e))?;
        Ok(Proc {
            what: dc.program.clone(),
            pgid: child.id(),
            stdin: child.stdin.take(),
            stdout: child.stdout.take(),
            stderr: match output {
                Output::Errors => None,
                _ => child.stderr.take().map(Tail::drain),
            },
            child,
            _secret: secret,
        })
    }

    /// Close stdin and wait: `Ok` only for exit status 0.
    async fn finish(mut self) -> anyhow::Result<()> {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.shutdown().await;
        }
        let status = self.child.wait().await?;
        process::group_reaped(self.pgid.take());
        if status.success() {
            return Ok(());
        }
        let tail = match self.stderr.take() {
            Some(t) => t.text().await,
            None => String::new(),
        };
        Err(ChildFailed::new(&self.what, status, tail).into())
    }

    /// Writing to it failed: kill it (stdin still open), and say how it ended.
    async fn failure(&mut self, context: &str) -> anyhow::Error {
        process::kill_group(self.pgid.take());
        let status = self.child.wait().await;
        let tail = match self.stderr.take() {
            Some(t) => t.text().await,
            None => String::new(),
        };
        match status {
            Ok(status) if !is_sigkill(status) => ChildFailed::new(&self.what, status, tail).into(),
            _ => anyhow!("{context}"),
        }
    }

    /// If it already exited with a failure, that failure; it is killed either way.
    async fn exited_failed(&mut self) -> Option<anyhow::Error> {
        let exited = self.child.try_wait().ok().flatten();
        let exited = match exited {
            Some(s) => Some(s),
            None => {
                // Give a tool that is exiting a moment to finish.
                tokio::time::timeout(std::time::Duration::from_millis(500), self.child.wait())
                    .await
                    .ok()
                    .and_then(Result::ok)
            }
        };
        process::kill_group(self.pgid.take());
        let status = exited.filter(|s| !s.success())?;
        let tail = self.stderr.take()?.text().await;
        Some(ChildFailed::new(&self.what, status, tail).into())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // Runs before the fields drop, i.e. before stdin closes.
        process::kill_group(self.pgid);
    }
}

fn is_sigkill(status: std::process::ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt as _;
    status.signal() == Some(libc::SIGKILL)
}

/// Push decompression for the stream: compressed chunks in, decoded bytes out.
enum Decoder {
    Gzip(Box<flate2::write::MultiGzDecoder<Vec<u8>>>),
    Zstd(Box<zstd::stream::write::Decoder<'static, Vec<u8>>>),
}

impl Decoder {
    fn new(c: Compression) -> anyhow::Result<Option<Decoder>> {
        Ok(match c {
            Compression::None => None,
            Compression::Gzip => Some(Decoder::Gzip(Box::new(flate2::write::MultiGzDecoder::new(
                Vec::new(),
            )))),
            Compression::Zstd => Some(Decoder::Zstd(Box::new(
                zstd::stream::write::Decoder::new(Vec::new())
                    .context("starting the zstd decoder")?,
            ))),
        })
    }

    fn push(&mut self, data: &[u8], out: &mut Vec<u8>) -> anyhow::Result<()> {
        use std::io::Write as _;
        let written = match self {
            Decoder::Gzip(d) => d.write_all(data).and_then(|_| d.flush()),
            Decoder::Zstd(d) => d.write_all(data).and_then(|_| d.flush()),
        };
        written.map_err(|e| anyhow!("decompressing the backup failed: {e}"))?;
        out.append(self.inner());
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<u8>) -> anyhow::Result<()> {
        use std::io::Write as _;
        let done = match self {
            Decoder::Gzip(d) => d.try_finish(),
            Decoder::Zstd(d) => d.flush(),
        };
        done.map_err(|e| anyhow!("decompressing the backup failed: {e}"))?;
        out.append(self.inner());
        Ok(())
    }

    fn inner(&mut self) -> &mut Vec<u8> {
        match self {
            Decoder::Gzip(d) => d.get_mut(),
            Decoder::Zstd(d) => d.get_mut(),
        }
    }
}

// ------------------------------------------------------------------------ a whole cluster

async fn restore_cluster(
    cfg: &Config,
    opts: &Options,
    rclone: &Rclone,
    sel: &Selected,
) -> anyhow::Result<Done> {
    // CREATE DATABASE and \connect cannot run in one transaction: verify first, then apply.
    let file = download_plain(
        rclone,
        sel,
        &cfg.temp_dir,
        opts.no_verify,
        cfg.encryption.identity.as_ref(),
    )
    .await?;
    let compression = compression_of(&file_head(&file.path)?);
    let (databases, whole) = cluster_databases(&file.path, compression)?;
    if !whole && !file.verified.checked {
        anyhow::bail!(
            "the backup (restored without a checksum, --no-verify) does not end with pg_dumpall's completion line: it is truncated or not a pg_dumpall script; nothing was applied"
        );
    }
    if !opts.force {
        let mut busy = Vec::new();
        for db in &databases {
            if let TargetState::Tables(n, _) = inspect(cfg, db).await? {
                if n > 0 {
                    busy.push(format!("{db} ({n} tables)"));
                }
            }
        }
        if !busy.is_empty() {
            anyhow::bail!(
                "databases of this cluster backup already have tables on the server: {}. Refusing to restore over them: restore into a new (empty) server, or give --force (RESTORE_FORCE=true) to apply it anyway (existing objects make statements fail, and those errors fail the restore)",
                busy.join(", ")
            );
        }
    }
    let maintenance = Postgres.maintenance_database(cfg);
    let dc = Postgres.restore_cluster(cfg, "-");
    let mut p = Proc::spawn(&dc, true, Output::Errors)?;
    // Errors are counted from psql's stderr: ON_ERROR_STOP cannot be on (see the engine).
    let errors = p
        .child
        .stderr
        .take()
        .map(|e| tokio::spawn(cluster_errors(e, opts.force)));
    let stdin = p.stdin.as_mut().expect("stdin is piped");
    if let Err(e) = super::decompress::copy_file(&file.path, compression, stdin).await {
        return Err(p.failure(&format!("feeding psql failed: {e}")).await);
    }
    let finished = p.finish().await;
    let errors = match errors {
        Some(h) => h.await.unwrap_or_default(),
        None => ClusterErrors::default(),
    };
    finished?;
    if errors.count > 0 {
        anyhow::bail!(
            "psql reported {} error(s) applying the cluster backup (connected to {maintenance}); a cluster restore is not one transaction, so what ran without error stays applied. First errors:\n{}",
            errors.count,
            errors.first.join("\n")
        );
    }
    if errors.tolerated > 0 {
        info!(
            count = errors.tolerated,
            "ignored errors about roles (and with --force databases) that already exist"
        );
    }
    Ok(Done {
        name: sel.name.clone(),
        into: if cfg.globals_only {
            "the server's roles and tablespaces (globals)".to_string()
        } else {
            format!("the cluster ({} databases)", databases.len())
        },
        bytes: file.verified.bytes,
        verified: file.verified.checked,
    })
}

/// The databases a pg_dumpall script fills (its `\connect` lines), and whether it ends with
/// pg_dumpall's completion line.
fn cluster_databases(path: &Path, c: Compression) -> anyhow::Result<(Vec<String>, bool)> {
    use std::io::BufRead as _;
    let reader = std::io::BufReader::new(c.open(path)?);
    let mut dbs: Vec<String> = Vec::new();
    let mut whole = false;
    for line in reader.split(b'\n') {
        let line = line.context("reading the downloaded backup")?;
        let line = String::from_utf8_lossy(&line);
        if let Some(db) = connect_target(&line) {
            if !dbs.contains(&db) {
                dbs.push(db);
            }
        }
        if line.starts_with("-- PostgreSQL database cluster dump complete") {
            whole = true;
        }
    }
    Ok((dbs, whole))
}

/// The database of a `\connect` line as pg_dumpall writes it: `\connect name`,
/// `\connect "Name"`, or `\connect -reuse-previous=on "dbname='name'"`.
fn connect_target(line: &str) -> Option<String> {
    let rest = line.strip_prefix("\\connect ")?.trim();
    if let Some(conn) = rest.strip_prefix("-reuse-previous=on ") {
        let inner = conn
            .trim()
            .strip_prefix('"')?
            .strip_suffix('"')?
            .replace("\"\"", "\"");
        let v = inner.strip_prefix("dbname='")?.strip_suffix('\'')?;
        let mut out = String::new();
        let mut chars = v.chars();
        while let Some(ch) = chars.next() {
            if ch == '\\' {
                out.extend(chars.next());
            } else {
                out.push(ch);
            }
        }
        return Some(out);
    }
    if let Some(q) = rest.strip_prefix('"') {
        return Some(q.strip_suffix('"')?.replace("\"\"", "\""));
    }
    Some(rest.to_string()).filter(|s| !s.is_empty())
}

#[derive(Debug, Default)]
struct ClusterErrors {
    count: u64,
    tolerated: u64,
    first: Vec<String>,
}

/// Read psql's stderr: `ERROR:` lines counted, except those about roles (and, with
/// `--force`, databases) that already exist.
async fn cluster_errors<R: AsyncRead + Unpin>(r: R, force: bool) -> ClusterErrors {
    let mut lines = tokio::io::BufReader::new(r).lines();
    let mut out = ClusterErrors::default();
    while let Ok(Some(line)) = lines.next_line().await {
        if !line.contains("ERROR:") {
            continue;
        }
        let exists = line.contains("already exists");
        if exists
            && (line.contains("ERROR:  role ") || (force && line.contains("ERROR:  database ")))
        {
            out.tolerated += 1;
            continue;
        }
        out.count += 1;
        if out.first.len() < 10 {
            out.first.push(crate::rclone::redact_remote(&line));
        }
    }
    out
}

// ------------------------------------------------------------------------ dry run

fn describe(cfg: &Config, opts: &Options, sel: &Selected) -> String {
    let kind = Kind::by_name(cfg, &sel.name);
    let mut s = String::from("dbstash dry run: nothing is executed.\n\nBackup:\n");
    let _ = writeln!(s, "  object     {}", rclone::redact_remote(&sel.path));
    let size = if sel.size >= 0 {
        format!("{} bytes", sel.size)
    } else {
        "unknown (the backend does not say)".into()
    };
    let _ = writeln!(s, "  size       {size}");
    let _ = writeln!(s, "  modified   {}", sel.mod_time.to_rfc3339());
    let checksum = match (&sel.sha256, opts.no_verify) {
        (Some(h), _) => format!("sha256 {h} (from {}.sha256): checked while the backup is read; nothing is committed unless it matches", sel.name),
        (None, true) => format!("none ({}.sha256 is missing): restored unverified (--no-verify); a plain script must end with pg_dump's completion line", sel.name),
        (None, false) => format!("none ({}.sha256 is missing): the restore would be REFUSED without --no-verify", sel.name),
    };
    let _ = writeln!(s, "  checksum   {checksum}");
    s.push_str(&super::decrypt::describe(cfg, &sel.name, 11).unwrap_or_default());
    let _ = writeln!(
        s,
        "  format     {} (by its name; the restore reads its first bytes)",
        kind.describe()
    );
    let cat = Rclone::describe(cfg, "cat", &sel.path);
    let _ = writeln!(s, "\nTarget:");
    match kind {
        Kind::Cluster => {
            let _ = writeln!(s, "  the cluster: pg_dumpall's script connects to {} first, then creates and fills each database", Postgres.maintenance_database(cfg));
            let _ = writeln!(
                s,
                "  refused if one of its databases already has tables{}",
                if opts.force {
                    " (--force: applied anyway)"
                } else {
                    " (unless --force)"
                }
            );
            let _ = writeln!(
                s,
                "\nSteps:\n  1. download and verify: {cat} > <0600 file in {}>",
                cfg.temp_dir.display()
            );
            let _ = writeln!(
                s,
                "  2. {} < <that file>",
                Postgres.restore_cluster(cfg, "-")
            );
            let _ = writeln!(s, "  (not one transaction: CREATE DATABASE cannot run in one; errors other than existing roles fail the restore)");
        }
        _ => {
            let _ = writeln!(s, "  database   {} ({})", opts.target, opts.target_from);
            let policy = if opts.drop_existing {
                match kind {
                    Kind::Archive => "with tables: pg_restore --clean --if-exists drops what the backup recreates, in the restore's transaction",
                    _ => "with tables: every schema and large object is dropped first, in the restore's transaction (--drop-existing)",
                }
            } else if opts.force {
                "with tables: restored on top of them (--force); a conflict fails and rolls back the restore"
            } else {
                "with tables: REFUSED (give --drop-existing or --force)"
            };
            let _ = writeln!(s, "  if missing: created (CREATE DATABASE, connected to {}); dropped again if the restore fails", Postgres.maintenance_database(cfg));
            let _ = writeln!(s, "  {policy}");
            let psql = Postgres.restore_psql(cfg, &opts.target, None);
            let _ = writeln!(s, "\nSteps:");
            match kind {
                Kind::Archive => {
                    let _ = writeln!(
                        s,
                        "  {cat} | dbstash (SHA-256) | {} | {psql}",
                        Postgres.restore_script(opts.drop_existing)
                    );
                }
                _ => {
                    let _ = writeln!(
                        s,
                        "  {cat} | dbstash (SHA-256, decompressing .gz/.zst) | {psql}"
                    );
                }
            }
            let _ = writeln!(s, "  psql commits only when its input ends, and its input ends only after the whole backup was read and its SHA-256 matched; otherwise psql is killed and nothing is committed");
            let _ = writeln!(s, "  (a script with its own BEGIN/COMMIT, e.g. large objects, is downloaded and verified first instead)");
        }
    }
    s
}

// ------------------------------------------------------------------------ the guard

/// A statement in a script that would end (or escape) psql's single transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unsafe {
    /// 1-based line of the script.
    pub line: u64,
    /// The statement or meta-command, e.g. `COMMIT` or `\connect`.
    pub what: String,
}

/// Reads a SQL script the way psql splits it into statements, and stops at any that would
/// end the transaction psql runs the script in (`BEGIN`, `COMMIT`, `END`, `ROLLBACK`,
/// `ABORT`, `START TRANSACTION`, `PREPARE TRANSACTION`) or leave it (`\connect`, `\i`, any
/// meta-command but the harmless ones pg_dump writes: `\restrict`, `\unrestrict`,
/// `\encoding`, `\echo`). Quotes (`'…'`, `E'…'`, `"…"`, `$tag$…$tag$`), comments (`--`,
/// nested `/* */`), parentheses and `COPY … FROM stdin` data are skipped as psql skips them,
/// so a function body's `BEGIN` or a row reading `COMMIT;` is not a statement. Fed in
/// chunks of any size; a stop is reported before the statement's end reached psql.
#[derive(Debug, Default)]
pub(crate) struct TxGuard {
    st: St,
    /// Lines completed so far.
    lines: u64,
    paren: u32,
    /// The word being read (upper case, at most [`WORD_MAX`] bytes kept).
    word: Vec<u8>,
    in_word: bool,
    /// Words of the current statement seen so far.
    words: u32,
    first: Vec<u8>,
    prev: Vec<u8>,
    copy_stdin: bool,
    /// A `COPY … FROM stdin` ended: its data starts on the next line.
    copy_pending: bool,
    /// `standard_conforming_strings` off: backslashes escape in plain `'…'` strings too.
    backslash_strings: bool,
    /// `SET standard_conforming_strings` seen: its value is the next word.
    scs_pending: bool,
}

const WORD_MAX: usize = 40;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
enum St {
    #[default]
    Normal,
    /// After `-`: a comment if another follows.
    Dash,
    /// After `/`: a comment if `*` follows.
    Slash,
    LineComment,
    Block {
        depth: u32,
        star: bool,
        slash: bool,
    },
    Single {
        escapes: bool,
        backslash: bool,
        quote: bool,
    },
    Double {
        quote: bool,
    },
    /// After `$`: reading a dollar-quote's tag.
    DollarTag(Vec<u8>),
    /// Inside `$tag$…`, `matched` bytes of the closing `$tag$` seen.
    Dollar {
        tag: Vec<u8>,
        matched: usize,
    },
    /// A backslash meta-command, to the end of the line.
    Meta {
        name: Vec<u8>,
        reading: bool,
    },
    /// `COPY … FROM stdin` data: `at` bytes of the line matched `\.` (255: not the end).
    CopyData {
        at: u8,
    },
}

fn ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

fn tag_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

/// Meta-commands pg_dump and pg_dumpall write that cannot touch the transaction.
const SAFE_META: &[&[u8]] = &[
    b"restrict",
    b"unrestrict",
    b"encoding",
    b"echo",
    b"qecho",
    b"warn",
];

impl TxGuard {
    pub fn scan(&mut self, data: &[u8]) -> Result<(), Unsafe> {
        for &b in data {
            self.byte(b)?;
            if b == b'\n' {
                self.lines += 1;
            }
        }
        Ok(())
    }

    /// The end of the script: a last statement without its `;` still runs in psql.
    pub fn finish(&mut self) -> Result<(), Unsafe> {
        match std::mem::take(&mut self.st) {
            St::Meta { name, .. } if !SAFE_META.contains(&name.as_slice()) => {
                Err(self.stop(format!("\\{}", String::from_utf8_lossy(&name))))
            }
            St::Normal | St::Dash | St::Slash => self.normal(b'\n'),
            _ => Ok(()),
        }
    }

    fn stop(&self, what: String) -> Unsafe {
        Unsafe {
            line: self.lines + 1,
            what,
        }
    }

    fn byte(&mut self, b: u8) -> Result<(), Unsafe> {
        match std::mem::take(&mut self.st) {
            St::Normal => self.normal(b),
            St::Dash => {
                if b == b'-' {
                    self.st = St::LineComment;
                    Ok(())
                } else {
                    self.normal(b)
                }
            }
            St::Slash => {
                if b == b'*' {
                    self.st = St::Block {
                        depth: 1,
                        star: false,
                        slash: false,
                    };
                    Ok(())
                } else {
                    self.normal(b)
                }
            }
            St::LineComment => {
                if b == b'\n' {
                    self.end_of_line();
                } else {
                    self.st = St::LineComment;
                }
                Ok(())
            }
            St::Block { depth, star, slash } => {
                self.st = if star && b == b'/' {
                    if depth == 1 {
                        St::Normal
                    } else {
                        St::Block {
                            depth: depth - 1,
                            star: false,
                            slash: false,
                        }
                    }
                } else if slash && b == b'*' {
                    St::Block {
                        depth: depth + 1,
                        star: false,
                        slash: false,
                    }
                } else {
                    St::Block {
                        depth,
                        star: b == b'*',
                        slash: b == b'/',
                    }
                };
                Ok(())
            }
            St::Single {
                escapes,
                backslash,
                quote,
            } => {
                if quote {
                    if b == b'\'' {
                        // '' inside a string.
                        self.st = St::Single {
                            escapes,
                            backslash: false,
                            quote: false,
                        };
                        return Ok(());
                    }
                    return self.normal(b);
                }
                self.st = if backslash {
                    St::Single {
                        escapes,
                        backslash: false,
                        quote: false,
                    }
                } else {
                    St::Single {
                        escapes,
                        backslash: escapes && b == b'\\',
                        quote: b == b'\'',
                    }
                };
                Ok(())
            }
            St::Double { quote } => {
                if quote && b != b'"' {
                    return self.normal(b);
                }
                self.st = St::Double {
                    quote: !quote && b == b'"',
                };
                Ok(())
            }
            St::DollarTag(mut tag) => {
                if b == b'$' {
                    self.st = St::Dollar { tag, matched: 0 };
                    Ok(())
                } else if tag_start(b) || (!tag.is_empty() && b.is_ascii_digit()) {
                    tag.push(b);
                    self.st = St::DollarTag(tag);
                    Ok(())
                } else {
                    // `$1` and the like: not a quote.
                    self.normal(b)
                }
            }
            St::Dollar { tag, matched } => {
                // The closing delimiter is `$` + tag + `$`.
                let want = if matched == 0 || matched == tag.len() + 1 {
                    b'$'
                } else {
                    tag[matched - 1]
                };
                let matched = if b == want {
                    matched + 1
                } else if b == b'$' {
                    1
                } else {
                    0
                };
                if matched == tag.len() + 2 {
                    self.st = St::Normal;
                } else {
                    self.st = St::Dollar { tag, matched };
                }
                Ok(())
            }
            St::Meta { mut name, reading } => {
                let reading = reading && !b.is_ascii_whitespace() && b != b'\\';
                if reading {
                    name.push(b);
                }
                if !reading && !SAFE_META.contains(&name.as_slice()) {
                    return Err(self.stop(format!("\\{}", String::from_utf8_lossy(&name))));
                }
                if b == b'\n' {
                    self.end_of_line();
                } else {
                    self.st = St::Meta { name, reading };
                }
                Ok(())
            }
            St::CopyData { at } => {
                self.st = match (at, b) {
                    (0, b'\\') => St::CopyData { at: 1 },
                    (1, b'.') => St::CopyData { at: 2 },
                    (2, b'\n') => St::Normal,
                    (2, b'\r') => St::CopyData { at: 3 },
                    (3, b'\n') => St::Normal,
                    (_, b'\n') => St::CopyData { at: 0 },
                    _ => St::CopyData { at: 255 },
                };
                Ok(())
            }
        }
    }

    fn end_of_line(&mut self) {
        if std::mem::take(&mut self.copy_pending) {
            self.st = St::CopyData { at: 0 };
        }
    }

    /// A byte outside quotes and comments.
    fn normal(&mut self, b: u8) -> Result<(), Unsafe> {
        if ident_byte(b) && (self.in_word || b != b'$') {
            self.in_word = true;
            if self.word.len() < WORD_MAX {
                self.word.push(b.to_ascii_uppercase());
            }
            return Ok(());
        }
        let word = std::mem::take(&mut self.word);
        let was_word = std::mem::take(&mut self.in_word);
        if b == b'\'' && was_word && word == b"E" {
            self.st = St::Single {
                escapes: true,
                backslash: false,
                quote: false,
            };
            return Ok(());
        }
        if was_word {
            self.word_done(word)?;
        }
        match b {
            b'\'' => {
                self.st = St::Single {
                    escapes: self.backslash_strings,
                    backslash: false,
                    quote: false,
                }
            }
            b'"' => self.st = St::Double { quote: false },
            b'$' => self.st = St::DollarTag(Vec::new()),
            b'-' => self.st = St::Dash,
            b'/' => self.st = St::Slash,
            b'\\' => {
                self.st = St::Meta {
                    name: Vec::new(),
                    reading: true,
                }
            }
            b'(' => self.paren += 1,
            b')' => self.paren = self.paren.saturating_sub(1),
            b';' if self.paren == 0 => self.statement_done(),
            b'\n' => self.end_of_line(),
            _ => {}
        }
        Ok(())
    }

    fn word_done(&mut self, word: Vec<u8>) -> Result<(), Unsafe> {
        self.words += 1;
        if self.words == 1 {
            if matches!(
                word.as_slice(),
                b"BEGIN" | b"START" | b"COMMIT" | b"END" | b"ROLLBACK" | b"ABORT"
            ) {
                return Err(self.stop(String::from_utf8_lossy(&word).into_owned()));
            }
            self.first = word.clone();
        } else {
            match (self.first.as_slice(), self.prev.as_slice(), word.as_slice()) {
                (b"PREPARE", b"PREPARE", b"TRANSACTION") => {
                    return Err(self.stop("PREPARE TRANSACTION".into()))
                }
                (b"COPY", b"FROM", b"STDIN") => self.copy_stdin = true,
                (b"SET", b"SET", b"STANDARD_CONFORMING_STRINGS") => self.scs_pending = true,
                (b"SET", _, b"TO") => {}
                (b"SET", _, value) if std::mem::take(&mut self.scs_pending) => {
                    self.backslash_strings = matches!(value, b"OFF" | b"FALSE");
                }
                _ => {}
            }
        }
        self.prev = word;
        Ok(())
    }

    fn statement_done(&mut self) {
        // A `;` right after a word: that word is done first (handled by the caller).
        self.copy_pending = std::mem::take(&mut self.copy_stdin);
        self.words = 0;
        self.first.clear();
        self.prev.clear();
        self.scs_pending = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(script: &str) -> Result<(), Unsafe> {
        let mut g = TxGuard::default();
        g.scan(script.as_bytes()).and_then(|_| g.finish())
    }

    /// Every split of `script` into two chunks gives the same answer as one chunk.
    fn scan_split(script: &str) -> Result<(), Unsafe> {
        let whole = scan(script);
        for i in 0..=script.len() {
            let mut g = TxGuard::default();
            let r = g
                .scan(&script.as_bytes()[..i])
                .and_then(|_| g.scan(&script.as_bytes()[i..]))
                .and_then(|_| g.finish());
            assert_eq!(r, whole, "split at {i}");
        }
        whole
    }

    #[test]
    fn pg_dump_scripts_pass() {
        let dump = r#"--
-- PostgreSQL database dump
--

\restrict 8slvkefjKz

SET statement_timeout = 0;
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);

CREATE FUNCTION public.f() RETURNS integer
    LANGUAGE plpgsql
    AS $$
BEGIN
  RETURN 1;
END;
$$;

CREATE FUNCTION public.g() RETURNS text LANGUAGE sql AS $body$SELECT 'COMMIT; $$'$body$;
CREATE RULE r AS ON INSERT TO t DO ( INSERT INTO a VALUES (1); INSERT INTO b VALUES (2); );
COMMENT ON TABLE t IS 'it''s ok; BEGIN';
COMMENT ON COLUMN t.s IS E'escaped \' quote; COMMIT';
/* a /* nested */ comment; COMMIT; */
CREATE TABLE "Begin" (id int);

COPY public.t (id, s) FROM stdin;
1	a
2	COMMIT;
3	\.x
\.

COPY public.u FROM stdin;
BEGIN;
\.
ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id);
-- COMMIT;
SELECT $1, $$;$$;

--
-- PostgreSQL database dump complete
--

\unrestrict 8slvkefjKz
"#;
        assert_eq!(scan_split(dump), Ok(()));
    }

    #[test]
    fn transaction_control_is_stopped_before_it_runs() {
        for (script, what, line) in [
            (
                "SELECT 1;\nBEGIN;\nSELECT lo_open(1, 2);\nCOMMIT;\n",
                "BEGIN",
                2,
            ),
            ("CREATE TABLE t(i int);\ncommit;", "COMMIT", 2),
            ("  end ;", "END", 1),
            ("rollback", "ROLLBACK", 1),
            ("SELECT 1; START TRANSACTION;", "START", 1),
            ("abort;", "ABORT", 1),
            ("PREPARE TRANSACTION 'x';", "PREPARE TRANSACTION", 1),
            ("/* c */ -- c\nCOMMIT;", "COMMIT", 2),
            ("SELECT 'a''b';COMMIT;", "COMMIT", 1),
            ("SELECT $q$ $$ $q$; COMMIT;", "COMMIT", 1),
            ("COPY t FROM stdin;\nCOMMIT\n\\.\nCOMMIT;", "COMMIT", 4),
            ("\\connect other\n", "\\connect", 1),
            ("SELECT 1;\n\\c other", "\\c", 2),
            ("\\i /etc/x.sql\n", "\\i", 1),
            ("\\set x 'COMMIT'\n:x;", "\\set", 1),
        ] {
            let got = scan_split(script).expect_err(script);
            assert_eq!((got.what.as_str(), got.line), (what, line), "{script}");
        }
        // PREPARE of a statement is not a transaction's.
        assert_eq!(scan("PREPARE p AS SELECT 1;"), Ok(()));
    }

    #[test]
    fn old_dumps_without_standard_strings_escape_with_backslashes() {
        let off = "SET standard_conforming_strings = off;\nSELECT 'it\\'s; COMMIT';\nSELECT 1;";
        assert_eq!(scan_split(off), Ok(()));
        // With it on, the same backslash ends nothing: the quote closes the string.
        let on = "SELECT 'a\\';\nCOMMIT;";
        assert_eq!(scan(on).unwrap_err().what, "COMMIT");
    }

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

    #[test]
    fn connect_lines_name_the_databases() {
        for (line, want) in [
            ("\\connect template1", Some("template1")),
            ("\\connect shop", Some("shop")),
            ("\\connect \"Shop\"", Some("Shop")),
            (
                "\\connect -reuse-previous=on \"dbname='we ird'\"",
                Some("we ird"),
            ),
            (
                "\\connect -reuse-previous=on \"dbname='it\\'s \"\"x\"\"'\"",
                Some("it's \"x\""),
            ),
            ("CREATE DATABASE x;", None),
        ] {
            assert_eq!(connect_target(line).as_deref(), want, "{line}");
        }
    }

    #[test]
    fn decoders_push_in_chunks() {
        use std::io::Write as _;
        let text: Vec<u8> = b"SELECT 1;\n"
            .iter()
            .copied()
            .cycle()
            .take(100_000)
            .collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&text).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::encode_all(&text[..], 3).unwrap();
        for (c, data) in [(Compression::Gzip, gz), (Compression::Zstd, zst)] {
            let mut d = Decoder::new(c).unwrap().unwrap();
            let mut out = Vec::new();
            for piece in data.chunks(777) {
                d.push(piece, &mut out).unwrap();
            }
            d.finish(&mut out).unwrap();
            assert_eq!(out, text, "{c:?}");
        }
    }
}
