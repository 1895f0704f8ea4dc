//! How a backup's bytes reach the remote: the three `BACKUP_MODE`s behind one interface,
//! [`Mode`], which the run (`backup`) drives without knowing which one it holds.
//!
//! - `stream` ([`stream`]): the dump's stdout straight into `rclone rcat`; one object.
//! - `tar` ([`tar`]): the dump into a work dir ([`workdir`]), then a tar of it into
//!   `rclone rcat`; one object, committed exactly like stream's ([`commit`]).
//! - `directory` ([`directory`]): the dump into a work dir, then its tree `rclone copy`-ed
//!   into a folder, `SHA256SUMS` last.
//!
//! Adding a mode is one more implementation of [`Mode`] and one line in [`of`].

pub mod commit;
pub mod directory;
pub mod stream;
pub mod tar;
pub mod workdir;

use std::future::Future;
use std::path::Path;
use std::pin::Pin;

use anyhow::Context as _;
use tracing::info;

pub use stream::{Source, Streamed};

use crate::config::{BackupMode, Config};
use crate::engine::DumpCommand;
use crate::process::{self, ChildFailed, Tail};
use crate::rclone::{self, Rclone};
use crate::shutdown::Cancel;

/// One run's backup, as the run planned it.
pub struct Job<'a> {
    pub cfg: &'a Config,
    /// The backup's name in RCLONE_REMOTE (a file, or a folder in directory mode).
    pub name: &'a str,
    /// `RCLONE_REMOTE/name`.
    pub target: &'a str,
    pub backup_id: &'a str,
    pub dump: &'a DumpCommand,
    /// This run's work dir (directory and tar modes).
    pub work_dir: Option<&'a Path>,
}

/// What a successful upload wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub target: String,
    /// The object's size, or the sum of the folder's files' sizes.
    pub bytes: u64,
    /// What the dump produced before in-process compression (the tar's size in tar mode);
    /// `bytes` when nothing was compressed.
    pub dumped: u64,
    /// The object's SHA-256, or the SHA-256 of the folder's `SHA256SUMS`.
    pub sha256: String,
}

/// What retention counts as one backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Files with their `.sha256` (stream, tar).
    Files,
    /// Top-level folders with their `SHA256SUMS` (directory).
    Folders,
}

pub type Upload<'a> = Pin<Box<dyn Future<Output = anyhow::Result<Written>> + Send + 'a>>;

/// A backup mode: how the dump becomes a backup on the remote.
pub trait Mode: Sync {
    /// What retention counts.
    fn unit(&self) -> Unit;
    /// The dry run's "Upload:" lines.
    fn describe(&self, job: &Job<'_>) -> String;
    /// Dump and upload. On `Err` nothing is left under the backup's name that this run
    /// wrote (beyond what the cleanup reports it could not delete), and the work dir is gone.
    fn upload<'a>(
        &'a self,
        job: &'a Job<'a>,
        rclone: &'a mut Rclone,
        cancel: &'a mut Cancel<'_>,
    ) -> Upload<'a>;
}

/// The implementation of `mode`.
pub fn of(mode: BackupMode) -> &'static dyn Mode {
    match mode {
        BackupMode::Stream => &StreamMode,
        BackupMode::Tar => &TarMode,
        BackupMode::Directory => &directory::DirectoryMode,
    }
}

struct StreamMode;

impl Mode for StreamMode {
    fn unit(&self) -> Unit {
        Unit::Files
    }

    fn describe(&self, job: &Job<'_>) -> String {
        let mut between = match crate::engine::in_process_compression(job.cfg) {
            Some((algo, level)) => format!(" | {} level {level} (in dbstash)", algo.key()),
            None => String::new(),
        };
        between.push_str(&describe_encryption(job.cfg));
        if !between.is_empty() {
            between.push_str(" (the SHA-256 is of the stored bytes)");
        }
        format!(
            "  {}{between} | {}\n",
            job.dump.program,
            Rclone::describe(job.cfg, "rcat", job.target)
        )
    }

    fn upload<'a>(
        &'a self,
        job: &'a Job<'a>,
        rclone: &'a mut Rclone,
        cancel: &'a mut Cancel<'_>,
    ) -> Upload<'a> {
        Box::pin(async move {
            let chain = chain_for(job.cfg)?;
            commit::upload_object(job, Source::Dump(job.dump, chain), rclone, cancel).await
        })
    }
}

struct TarMode;

impl Mode for TarMode {
    fn unit(&self) -> Unit {
        Unit::Files
    }

    fn describe(&self, job: &Job<'_>) -> String {
        let dir = job.work_dir.map(|d| d.display().to_string());
        format!(
            "  {} (into the work dir {}, removed after the run)\n  then: a tar of {}/{} ({}){} | {}\n",
            job.dump.program,
            dir.as_deref().unwrap_or_default(),
            dir.as_deref().unwrap_or_default(),
            workdir::DUMP,
            match crate::engine::in_process_compression(job.cfg) {
                Some((algo, level)) => format!("{}-compressed at level {level}", algo.key()),
                None => "uncompressed".to_string(),
            },
            describe_encryption(job.cfg),
            Rclone::describe(job.cfg, "rcat", job.target)
        )
    }

    fn upload<'a>(
        &'a self,
        job: &'a Job<'a>,
        rclone: &'a mut Rclone,
        cancel: &'a mut Cancel<'_>,
    ) -> Upload<'a> {
        Box::pin(async move {
            let work = start_work_dir(job)?;
            let root = cancel.guard(dump_into(job, &work)).await?;
            let of = tar::TarOf {
                root,
                compress: crate::engine::in_process_compression(job.cfg),
                mtime: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or_default(),
            };
            let mut stages = Vec::new();
            push_encryptor(job.cfg, &mut stages)?;
            let chain = crate::transform::Chain::new(stages);
            let written = commit::upload_object(job, Source::Tar(of, chain), rclone, cancel).await;
            drop(work);
            written
        })
    }
}

/// The in-process stages of a stream-mode upload, built once per run from the config: the
/// compressor of [`crate::engine::in_process_compression`], then the age encryptor
/// (compressed bytes are encrypted: encrypted bytes do not compress), or none.
fn chain_for(cfg: &Config) -> anyhow::Result<crate::transform::Chain> {
    let mut stages = Vec::new();
    if let Some((algo, level)) = crate::engine::in_process_compression(cfg) {
        stages.push(
            crate::transform::compressor(algo, level)
                .with_context(|| format!("starting the {} compressor", algo.key()))?,
        );
    }
    push_encryptor(cfg, &mut stages)?;
    Ok(crate::transform::Chain::new(stages))
}

/// The age encryptor to BACKUP_ENCRYPT_RECIPIENTS[_FILE], when set (checked by `setup`).
fn push_encryptor(
    cfg: &Config,
    stages: &mut Vec<Box<dyn crate::transform::Transform>>,
) -> anyhow::Result<()> {
    if let Some(r) = &cfg.encryption.recipients {
        let recipients =
            crate::transform::parse_recipients(&r.text, r.var).map_err(anyhow::Error::msg)?;
        stages
            .push(crate::transform::encryptor(&recipients).context("starting the age encryptor")?);
    }
    Ok(())
}

/// The dry run's encryption step: ` | age to N recipients (KEY, …)`, or nothing.
fn describe_encryption(cfg: &Config) -> String {
    let Some(r) = &cfg.encryption.recipients else {
        return String::new();
    };
    let keys: Vec<String> = r
        .text
        .split(['\n', ','])
        .map(str::trim)
        .filter(|k| !k.is_empty() && !k.starts_with('#'))
        .map(|k| k.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        .collect();
    format!(
        " | age-encrypted in dbstash to {} recipient(s) from {}: {}",
        keys.len(),
        r.var,
        keys.join(", ")
    )
}

/// Remove what killed runs of this configuration left in BACKUP_TEMP_DIR, then create this
/// run's work dir.
pub(crate) fn start_work_dir(job: &Job<'_>) -> anyhow::Result<workdir::WorkDir> {
    for stale in workdir::remove_stale(job.cfg) {
        tracing::warn!(work_dir = %stale.display(), "removed the work dir of an earlier run that was killed");
    }
    let path = job
        .work_dir
        .context("no work dir planned for this mode")?
        .to_path_buf();
    workdir::WorkDir::create(job.cfg, path)
}

/// Run the dump tool into `WORKDIR/dump` and wait for it; the folder it wrote. A dump that
/// fails, or exits 0 having written nothing, is an error; one that ran out of room says so,
/// naming BACKUP_TEMP_DIR.
pub(crate) async fn dump_into(
    job: &Job<'_>,
    work: &workdir::WorkDir,
) -> anyhow::Result<std::path::PathBuf> {
    let cfg = job.cfg;
    let engine = cfg.engine();
    let dump_dir = work.dump_dir(engine.server_writes_dir())?;
    let free = workdir::free_space(&cfg.temp_dir);
    info!(
        work_dir = %work.path().display(),
        free = %free.map_or_else(|| "unknown".to_string(), workdir::fmt_bytes),
        "dumping into the work dir in BACKUP_TEMP_DIR"
    );
    let stream::Spawned { child, program, .. } = stream::spawn_dump(job.dump)?;
    // Cancelled (a signal, the timeout): SIGTERM first, so it can end its session.
    let mut dumper = process::Graceful::new(child);
    let stderr = Tail::drain(dumper.child().stderr.take().expect("stderr is piped"));
    let stdout = Tail::drain(dumper.child().stdout.take().expect("stdout is piped"));
    let status = process::wait_ending_group(dumper.child())
        .await
        .with_context(|| format!("waiting for {program} failed"))?;
    dumper.disarm();
    let _ = stdout.text().await;
    let tail = stderr.text().await;
    let full = workdir::free_space(&cfg.temp_dir).is_some_and(|f| f < 64 * 1024);
    if !status.success() {
        let failed = ChildFailed::new(&program, status, tail.clone());
        if full || tail.contains("No space left") || tail.contains("Errcode: 28") {
            return Err(anyhow::Error::new(failed).context(format!(
                "no space left on device in BACKUP_TEMP_DIR ({}): the dump needs more room than the {} that were free when it started (give BACKUP_TEMP_DIR a larger volume, or use BACKUP_MODE=stream, which needs none)",
                cfg.temp_dir.display(),
                free.map_or_else(|| "unknown amount".to_string(), workdir::fmt_bytes)
            )));
        }
        return Err(failed.into());
    }
    let empty = std::fs::read_dir(&dump_dir)
        .map(|mut d| d.next().is_none())
        .unwrap_or(true);
    if empty {
        anyhow::bail!(
            "{program} exited 0 but wrote nothing into {} (does DUMP_EXTRA_ARGS redirect its output?)",
            dump_dir.display()
        );
    }
    if engine.server_writes_dir() {
        directory::check_tab_tree(&dump_dir)?;
    }
    Ok(dump_dir)
}

/// `RCLONE_REMOTE/name` for logs.
pub fn shown(target: &str) -> String {
    rclone::redact_remote(target)
}
