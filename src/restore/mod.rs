//! Getting the data back: `list` (this configuration's backups on the remote), `verify`
//! (download, checksum and completeness, nothing applied) and `restore` (into the database,
//! never from a corrupted backup).

pub mod archive;
pub mod decompress;
pub mod decrypt;
pub mod download;
pub mod list;
pub mod mongo;
pub mod mysql;
mod pg;
pub mod redis;
pub mod select;
pub mod settings;
pub mod split;
pub mod tree;
pub mod tree_check;
mod tree_restore;
pub mod verify;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use tracing::{error, info, warn, Instrument as _};

use crate::config::{parse_bool, Config, ConfigError};
use crate::durations::fmt_duration;
use crate::engine::{DumpCommand, EngineKind};
use crate::input::{no_control_chars, nonempty};
use crate::process;
use crate::rclone::{self, Rclone};
use crate::shutdown::{Cancel, Shutdown};
use decompress::Compression;
use settings::{ListArgs, RestoreArgs, VerifyArgs};

pub async fn list(cfg: &Config, args: &ListArgs) -> ExitCode {
    list::run(cfg, args).await
}

pub async fn verify(cfg: &Config, args: &VerifyArgs) -> ExitCode {
    verify::run(cfg, args).await
}

pub async fn restore(cfg: &Config, args: &RestoreArgs) -> ExitCode {
    if split::is_split(cfg) {
        return split::restore(cfg, args).await;
    }
    if let Err(e) = split::wanted_database(cfg, &args.database) {
        eprintln!("dbstash: invalid configuration: {e}");
        return ExitCode::from(crate::EXIT_BAD_CONFIG);
    }
    restore_one(cfg, args).await
}

/// The restore of one backup of `cfg` (a split run's database: its own configuration).
/// Every line it logs names the engine and the database.
async fn restore_one(cfg: &Config, args: &RestoreArgs) -> ExitCode {
    let span = tracing::info_span!(
        "restore",
        engine = cfg.engine.key(),
        database = cfg.db_label()
    );
    async {
        if tree::is_tree(cfg) {
            return tree_restore::restore(cfg, args).await;
        }
        match cfg.engine {
            // `--output` (the verified file, nothing applied) is the same for every engine.
            crate::engine::EngineKind::Pg if nonempty(&args.output).is_none() => {
                pg::restore(cfg, args).await
            }
            _ => restore_others(cfg, args).await,
        }
    }
    .instrument(span)
    .await
}

// ------------------------------------------------------------------ shared by the three
// commands: which backup (`select`), and its bytes checked against the sidecar (`download`).
// Wrap the futures in `crate::shutdown::Cancel::guard` for BACKUP_TIMEOUT and signals.

pub use download::{
    checksum_mismatch, download_plain, download_stream, download_verified, ChecksumMismatch,
    DownloadStream, Downloaded, Verified,
};
pub use select::{select, Selected};

// ---------------------------------------------------- MySQL/MariaDB, Redis and MongoDB
// Their restores share these steps: the flags checked (exit 2 before anything runs), the
// backup selected, then downloaded into a 0600 file and verified *before* anything is
// applied (neither the mysql client nor mongorestore can undo a partial apply, and Redis
// loads an RDB only from a file), BACKUP_TIMEOUT and signals, the dry run, `--output`.

/// The restore flags of MySQL/MariaDB, Redis and MongoDB, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// RESTORE_TARGET_DB: where a single-database backup goes instead of DB_NAME.
    pub target_db: Option<String>,
    pub drop_existing: bool,
    pub force: bool,
    pub no_verify: bool,
    /// RESTORE_OUTPUT: write the verified backup to this file instead of a database.
    pub output: Option<PathBuf>,
}

impl Options {
    /// The flags of `args` for `cfg`'s engine; an error names the flag at fault (exit 2).
    pub fn parse(cfg: &Config, args: &RestoreArgs) -> Result<Options, ConfigError> {
        let drop_existing = parse_bool("RESTORE_DROP_EXISTING", &args.drop_existing, false)?;
        let force = parse_bool("RESTORE_FORCE", &args.force, false)?;
        let no_verify = parse_bool("RESTORE_NO_VERIFY", &args.no_verify, false)?;
        if drop_existing && force {
            return Err(ConfigError::combo(
                "RESTORE_DROP_EXISTING (--restore-drop-existing) and RESTORE_FORCE (--restore-force)",
                "choose one: --drop-existing drops what is there first, --force restores on top of it",
            ));
        }
        let target = |msg: String| ConfigError::var("RESTORE_TARGET_DB", msg);
        let target_db = nonempty(&args.target_db).map(|t| t.trim().to_string());
        if let Some(t) = &target_db {
            no_control_chars("RESTORE_TARGET_DB", t)?;
            if t.starts_with('-') {
                return Err(target(format!(
                    "'{t}' starts with '-', which the client would read as a flag"
                )));
            }
            if cfg.engine == EngineKind::Redis {
                return Err(target(
                    "does not apply to redis: an RDB snapshot holds every database of the server"
                        .into(),
                ));
            }
            if cfg.conn.database.is_none() {
                return Err(target(
                    "does not apply to an all-databases backup (BACKUP_ALL_DATABASES): it creates and fills each database under its own name".into(),
                ));
            }
        }
        let output = nonempty(&args.output).map(PathBuf::from);
        if output.is_some() && (target_db.is_some() || drop_existing) {
            return Err(ConfigError::combo(
                "RESTORE_OUTPUT (--restore-output) and RESTORE_TARGET_DB (--restore-target-db) or RESTORE_DROP_EXISTING (--restore-drop-existing)",
                "--output writes the backup to a file and restores nothing into a database: give one or the other",
            ));
        }
        if output.is_none() && cfg.engine == EngineKind::Redis {
            return Err(ConfigError::var(
                "RESTORE_OUTPUT",
                "is required for redis: a server cannot load an RDB snapshot over the wire; give the path to write the verified RDB file to (dbstash then prints how to load it)",
            ));
        }
        Ok(Options {
            target_db,
            drop_existing,
            force,
            no_verify,
            output,
        })
    }
}

/// What a restore did, for its last log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    /// Where the data went: `database shop`, `the server`, a file.
    pub into: String,
    pub bytes: u64,
    /// Whether the bytes were checked against a sidecar (not with `--no-verify`).
    pub verified: bool,
}

/// `dbstash restore mysql|mariadb|redis|mongo`: exit 0 restored, 1 failed (the target
/// untouched, unless the log says otherwise), 2 bad flags.
async fn restore_others(cfg: &Config, args: &RestoreArgs) -> ExitCode {
    let opts = match Options::parse(cfg, args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("dbstash: invalid configuration: {e}");
            return ExitCode::from(crate::EXIT_BAD_CONFIG);
        }
    };
    let mut shutdown = match Shutdown::new() {
        Ok(s) => s,
        Err(e) => {
            error!(error = %format!("{e:#}"), "restore failed");
            return ExitCode::from(crate::EXIT_BACKUP_FAILED);
        }
    };
    let started = Instant::now();
    let mut cancel = Cancel::new(&mut shutdown, cfg.timeout);
    let result = run_others(cfg, args.backup.as_deref(), &opts, &mut cancel).await;
    match result {
        Ok(Some((name, done))) => {
            info!(
                backup = %name,
                into = %done.into,
                bytes = done.bytes,
                verified = done.verified,
                duration = %fmt_duration(started.elapsed()),
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

/// The backup a restore works on (`latest` or a name), chosen the same way for every
/// engine: one without a `.sha256` sidecar is refused unless --no-verify; under DRY_RUN its
/// plan (`dry`) is printed and `None` returned; else "restore started" is logged.
pub(crate) async fn start(
    cfg: &Config,
    backup: Option<&str>,
    no_verify: bool,
    cancel: &mut Cancel<'_>,
    dry: impl FnOnce(&Selected) -> String,
) -> anyhow::Result<Option<(Rclone, Selected)>> {
    let rclone = Rclone::new(cfg)?;
    let sel = cancel.guard(select(cfg, &rclone, backup)).await?;
    if sel.sha256.is_none() && !no_verify && !cfg.dry_run {
        anyhow::bail!(
            "{} has no .sha256 sidecar, so its integrity cannot be checked: refusing to restore it (the run that wrote it may have been killed). Give --no-verify (RESTORE_NO_VERIFY=true) to restore it anyway",
            sel.name
        );
    }
    if cfg.dry_run {
        print!("{}", dry(&sel));
        return Ok(None);
    }
    info!(
        backup = %rclone::redact_remote(&sel.path),
        size = sel.size,
        checksum = if sel.sha256.is_some() { "sha256 sidecar" } else { "none (--no-verify)" },
        "restore started"
    );
    Ok(Some((rclone, sel)))
}

async fn run_others(
    cfg: &Config,
    backup: Option<&str>,
    opts: &Options,
    cancel: &mut Cancel<'_>,
) -> anyhow::Result<Option<(String, Done)>> {
    let Some((rclone, sel)) = start(cfg, backup, opts.no_verify, cancel, |sel| {
        describe_others(cfg, opts, sel)
    })
    .await?
    else {
        return Ok(None);
    };
    if sel.sha256.is_none() {
        warn!(backup = %sel.name, "restoring a backup without a .sha256 sidecar (--no-verify): its integrity is not checked");
    }
    let done = match (&opts.output, cfg.engine) {
        (Some(out), kind) => {
            // An RDB is useful to a server only as it is: a compressed one (`.rdb.zst`,
            // `.rdb.gz`) is written decompressed. Other engines' files stay as stored.
            let decompress = kind == EngineKind::Redis;
            let done = cancel
                .guard(write_output(
                    opts,
                    &rclone,
                    &sel,
                    out,
                    decompress,
                    cfg.encryption.identity.as_ref(),
                ))
                .await?;
            if kind == EngineKind::Redis {
                print!("{}", redis::steps(cfg, out, &done).await);
            }
            done
        }
        (None, EngineKind::Mysql | EngineKind::Mariadb) => {
            let mut created = Vec::new();
            let result = cancel
                .guard(mysql::restore(cfg, opts, &rclone, &sel, &mut created))
                .await;
            if result.is_err() {
                mysql::drop_created(cfg, &created).await;
            }
            result?
        }
        (None, EngineKind::Mongo) => {
            cancel
                .guard(mongo::restore(cfg, opts, &rclone, &sel))
                .await?
        }
        (None, kind) => anyhow::bail!("restore of {} is not handled here", kind.key()),
    };
    Ok(Some((sel.name, done)))
}

/// The dry run: the backup, its download and check, and what would run, secrets redacted.
fn describe_others(cfg: &Config, opts: &Options, sel: &Selected) -> String {
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
        (Some(h), _) => format!(
            "sha256 {h} (from {}.sha256): checked after the download, before anything is applied",
            sel.name
        ),
        (None, true) => format!(
            "none ({}.sha256 is missing): restored unverified (--no-verify)",
            sel.name
        ),
        (None, false) => format!(
            "none ({}.sha256 is missing): the restore would be REFUSED without --no-verify",
            sel.name
        ),
    };
    let _ = writeln!(s, "  checksum   {checksum}");
    s.push_str(&decrypt::describe(cfg, &sel.name, 11).unwrap_or_default());
    let _ = writeln!(s, "\nDownload:");
    let into = match &opts.output {
        Some(out) => format!(
            "a 0600 file in a private directory beside {}, renamed to it once verified{}",
            out.display(),
            if opts.force {
                " (replacing it: --force)"
            } else {
                " (refused if it exists)"
            }
        ),
        None => format!(
            "a 0600 file in a private directory under {} (BACKUP_TEMP_DIR), removed afterwards",
            cfg.temp_dir.display()
        ),
    };
    let _ = writeln!(s, "  {} > {into}", Rclone::describe(cfg, "cat", &sel.path));
    let _ = writeln!(s, "\nRestore:");
    let steps = match (&opts.output, cfg.engine) {
        (Some(_), EngineKind::Redis) => vec![
            "nothing is applied: the RDB file stays where --output says; the steps to load it are printed (with the server's dir and dbfilename, asked with redis-cli CONFIG GET)".to_string(),
            format!("{} <<< 'CONFIG GET dir / dbfilename / appendonly'", crate::engine::Redis.config_command(cfg)),
        ],
        (Some(_), _) => vec!["nothing is applied: the backup stays where --output says".to_string()],
        (None, EngineKind::Mysql | EngineKind::Mariadb) => mysql::describe(cfg, opts, sel),
        (None, EngineKind::Mongo) => mongo::describe(cfg, opts, sel),
        (None, _) => Vec::new(),
    };
    for (i, step) in steps.iter().enumerate() {
        let _ = writeln!(s, "  {}. {step}", i + 1);
    }
    s
}

/// `--output`: download and verify into a private directory beside `out` (`decompress`:
/// then decompress it there, when it is gzip or zstd), then move the file to `out`
/// (refusing to replace an existing file unless `--force`). The file stays 0600.
async fn write_output(
    opts: &Options,
    rclone: &Rclone,
    sel: &Selected,
    out: &Path,
    decompress: bool,
    identity: Option<&secrecy::SecretString>,
) -> anyhow::Result<Done> {
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        anyhow::bail!(
            "RESTORE_OUTPUT {}: the directory {} does not exist",
            out.display(),
            dir.display()
        );
    }
    match std::fs::symlink_metadata(out) {
        Ok(m) if m.is_dir() => anyhow::bail!(
            "RESTORE_OUTPUT {} is a directory: give the path of the file to write",
            out.display()
        ),
        Ok(_) if !opts.force => anyhow::bail!(
            "RESTORE_OUTPUT {} exists: refusing to overwrite it (--force replaces it)",
            out.display()
        ),
        _ => {}
    }
    let file = if identity.is_none() && decrypt::is_encrypted(&sel.name) {
        // Without the identity the file is written as stored, still encrypted: decrypt it
        // by hand where the key is (`age -d -i KEY`).
        warn!(backup = %sel.name, "the backup is encrypted (age) and RESTORE_IDENTITY_FILE is not set: --output gets it as stored, encrypted");
        download_verified(rclone, sel, dir, opts.no_verify).await?
    } else {
        download_plain(rclone, sel, dir, opts.no_verify, identity).await?
    };
    let mut bytes = file.verified.bytes;
    let compression = if decompress {
        decompress::sniff_file(&file.path)?
    } else {
        Compression::None
    };
    let path = if compression == Compression::None {
        file.path.clone()
    } else {
        let plain = file.dir().join("decompressed");
        bytes = decompress::to_file(&file.path, compression, &plain)
            .await
            .with_context(|| format!("{} could not be decompressed ({compression:?})", sel.name))?;
        info!(
            stored = file.verified.bytes,
            bytes, "decompressed the verified backup"
        );
        plain
    };
    if opts.force {
        std::fs::rename(&path, out)
            .with_context(|| format!("moving the verified backup to {}", out.display()))?;
    } else {
        // A hard link never replaces an existing file: another writer that created `out`
        // meanwhile keeps it. The private directory (and its name for the file) goes on drop.
        match std::fs::hard_link(&path, out) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => anyhow::bail!(
                "RESTORE_OUTPUT {} appeared while the backup was downloaded: refusing to overwrite it (--force replaces it)",
                out.display()
            ),
            // File systems without hard links.
            Err(_) if !out.exists() => std::fs::rename(&path, out)
                .with_context(|| format!("moving the verified backup to {}", out.display()))?,
            Err(e) => {
                return Err(e).with_context(|| format!("writing {}", out.display()));
            }
        }
    }
    info!(file = %out.display(), bytes, "wrote the verified backup");
    Ok(Done {
        into: out.display().to_string(),
        bytes,
        verified: file.verified.checked,
    })
}

pub use crate::process::program_of;

/// Run a short database command to its end (a query, a `CREATE DATABASE`), `input` on its
/// stdin: its stdout. Its program is [`program_of`]; no secret file (the engines that need
/// one run [`run_tool`]).
pub async fn query(dc: &DumpCommand, input: Option<&[u8]>) -> anyhow::Result<String> {
    let program = program_of(dc);
    let out = process::run(process::tool_command(dc, &program, None), &program, input).await?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Run a restore tool to its end: [`program_of`] `dc`, its secret file alive meanwhile,
/// `stdin` (a verified file, decompressed in-process) fed to it. The tool sees the end of its
/// input only when all of it was read: on a read or decompression error it is killed first.
/// Dropping the future kills its process group. `Ok`: the tail of its stderr.
pub async fn run_tool(
    dc: &DumpCommand,
    stdin: Option<(&Path, Compression)>,
) -> anyhow::Result<String> {
    use secrecy::ExposeSecret as _;
    use tokio::io::AsyncWriteExt as _;
    let secret = match &dc.secret_file {
        Some(sf) => Some(process::secret_file(sf.content.expose_secret())?),
        None => None,
    };
    let program = program_of(dc);
    let mut cmd = process::tool_command(dc, &program, secret.as_ref());
    if stdin.is_some() {
        cmd.stdin(std::process::Stdio::piped());
    }
    let mut child = cmd.spawn().map_err(|e| process::spawn_error(&program, e))?;
    let pgid = child.id();
    let mut group = process::GroupGuard::new(pgid);
    let stderr = process::Tail::drain(child.stderr.take().expect("stderr is piped"));
    let stdout = process::Tail::drain(child.stdout.take().expect("stdout is piped"));
    if let (Some((path, compression)), Some(mut w)) = (stdin, child.stdin.take()) {
        let fed = decompress::copy_file(path, compression, &mut w).await;
        let fed = match fed {
            Ok(_) => w.shutdown().await,
            Err(e) => Err(e),
        };
        if let Err(e) = fed {
            // Killed while its input is still open: it never sees the end of a partial dump.
            process::kill_group(pgid);
            drop(w);
            let status = child.wait().await?;
            group.disarm();
            use std::os::unix::process::ExitStatusExt as _;
            if status.signal() != Some(libc::SIGKILL) {
                // It stopped reading because it failed: its own message says why.
                return Err(
                    process::ChildFailed::new(&program, status, stderr.text().await).into(),
                );
            }
            anyhow::bail!("feeding the backup to {program} failed: {e}");
        }
        drop(w);
    }
    let status = child.wait().await?;
    group.disarm();
    let _ = stdout.text().await;
    let err = stderr.text().await;
    if !status.success() {
        return Err(process::ChildFailed::new(&program, status, err).into());
    }
    Ok(err)
}
