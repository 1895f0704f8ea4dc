//! One backup run: plan the name, stream the dump, write the checksum sidecar, apply
//! retention. `DRY_RUN` prints the same [`Plan`] instead of running it.

mod cleanup;
mod split;
pub use cleanup::delete_backup;
pub use split::{selection as split_selection, Selection};

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tracing::{error, info, warn, Instrument as _};

use crate::config::{describe, BackupMode, Config};
pub use crate::durations::{fmt_duration, fmt_human};
use crate::engine::{self, DumpCommand};
use crate::hooks::{self, Hook};
use crate::pipeline::{self, workdir, Job, Unit};
use crate::rclone::{self, Rclone};
use crate::report::{Report, Stage, Status};
pub use crate::shutdown::{Cancel, Shutdown};
use crate::template::NameVars;

/// The dry run's report: the plan of the backup, or of a split run.
pub fn dry_run(cfg: &Config) -> String {
    if cfg.split.is_some() {
        split::describe(cfg)
    } else {
        Plan::new(cfg).describe(cfg)
    }
}

/// The dry run's heading and the resolved configuration, secrets redacted.
fn describe_config(cfg: &Config) -> String {
    let mut s = String::from("dbstash dry run: nothing is executed.\n\nConfiguration:\n");
    for (k, v) in describe(cfg) {
        let _ = writeln!(s, "  {k:<22} {v}");
    }
    s
}

/// A run's id: `{uuid}` in names, `backup_id` in logs.
fn new_backup_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_string()
}

/// Everything a run will do, decided before anything runs.
pub struct Plan {
    pub backup_id: String,
    pub name: String,
    pub target: String,
    pub dump: DumpCommand,
    /// This run's work dir in BACKUP_TEMP_DIR (directory and tar modes).
    pub work_dir: Option<PathBuf>,
}

impl Plan {
    pub fn new(cfg: &Config) -> Plan {
        let id = new_backup_id();
        Plan::at(cfg, id.clone(), &id, chrono::Utc::now())
    }

    /// The plan of backup `backup_id` (its claims, staging and upload tags), named for `now`
    /// and `run_id` (`{uuid}`): every database of a split run shares the run's time and id in
    /// its name, so names differ only in `{db}`, but each has its own backup id, so no
    /// database's cleanup can take another's object for its own.
    pub fn at(
        cfg: &Config,
        backup_id: String,
        run_id: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Plan {
        let now = now.with_timezone(&cfg.tz);
        let name = format!(
            "{}{}",
            cfg.template.render(&NameVars {
                db: cfg.name_db(),
                engine: cfg.engine.key(),
                now,
                uuid: run_id,
            }),
            engine::extension(cfg)
        );
        let work_dir = (cfg.mode != BackupMode::Stream).then(|| workdir::path_for(cfg, &backup_id));
        let dump = match &work_dir {
            None => cfg.engine().dump_command(cfg),
            Some(w) => cfg
                .engine()
                .dump_to_dir(cfg, &w.join(workdir::DUMP).display().to_string()),
        };
        Plan {
            target: rclone::join(&cfg.remote, &name),
            dump,
            backup_id,
            name,
            work_dir,
        }
    }

    fn sidecar(&self) -> String {
        format!("{}.sha256", self.target)
    }

    /// The mode's view of this plan.
    pub fn job<'a>(&'a self, cfg: &'a Config) -> Job<'a> {
        Job {
            cfg,
            name: &self.name,
            target: &self.target,
            backup_id: &self.backup_id,
            dump: &self.dump,
            work_dir: self.work_dir.as_deref(),
        }
    }

    /// The dry-run report: resolved config, dump command and rclone calls, secrets redacted.
    pub fn describe(&self, cfg: &Config) -> String {
        let mut s = describe_config(cfg);
        s.push_str(&self.describe_steps(cfg));
        s
    }

    /// The dump, upload, verification and retention of this plan.
    pub fn describe_steps(&self, cfg: &Config) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "\nDump command:\n  {}", self.dump);
        let mode = pipeline::of(cfg.mode);
        let _ = write!(
            s,
            "\nUpload (BACKUP_MODE={}):\n{}",
            mode_name(cfg.mode),
            mode.describe(&self.job(cfg))
        );
        if cfg.mode != BackupMode::Stream {
            let _ = writeln!(
                s,
                "  work dirs: BACKUP_TEMP_DIR {}; stale work dirs of this configuration (runs that were killed) are removed first",
                cfg.temp_dir.display()
            );
        }
        if cfg.checksum && mode.unit() == Unit::Files {
            let _ = writeln!(
                s,
                "  then: {}",
                Rclone::describe(cfg, "rcat", &self.sidecar())
            );
        }
        if cfg.verify_after_backup {
            let temp = cfg.temp_dir.display();
            let fetch = match cfg.mode {
                BackupMode::Stream => format!(
                    "{} into {temp}, its SHA-256 checked against the one streamed",
                    Rclone::describe(cfg, "cat", &self.target)
                ),
                BackupMode::Tar => format!(
                    "{} into {temp}, its SHA-256 checked against the one streamed, then untarred (regular files and directories only)",
                    Rclone::describe(cfg, "cat", &self.target)
                ),
                BackupMode::Directory => format!(
                    "{} into {temp}, SHA256SUMS checked against the one this run wrote, then every file against it (none missing, none unlisted)",
                    Rclone::describe(cfg, "copy", &format!("{}/", self.target))
                ),
            };
            let _ = writeln!(
                s,
                "\nVerify (VERIFY_AFTER_BACKUP):\n  {fetch}\n  then the dump's completeness (see dbstash verify); a failure fails the run, the backup stays"
            );
        }
        let r = cfg.retention;
        let _ = writeln!(s, "\nRetention:");
        if !r.is_on() {
            let _ = writeln!(
                s,
                "  keep everything (RETENTION_MAX_FILES=0, RETENTION_MAX_DAYS=0, no RETENTION_KEEP_*)"
            );
        } else {
            let m = cfg
                .template
                .matcher(cfg.name_db(), cfg.engine.key(), &engine::extension(cfg));
            let folders = mode.unit() == Unit::Folders;
            let _ = writeln!(
                s,
                "  among {} in {} matching {}:",
                if folders {
                    "top-level folders"
                } else {
                    "objects"
                },
                rclone::redact_remote(&cfg.remote),
                m.as_str()
            );
            if r.max_files > 0 {
                let _ = writeln!(
                    s,
                    "  keep at most {} complete backups (with their {})",
                    r.max_files,
                    if folders { "SHA256SUMS" } else { ".sha256" }
                );
            }
            if r.max_days > 0 {
                let _ = writeln!(s, "  delete backups older than {} days", r.max_days);
            }
            if !r.keep.is_empty() {
                let _ = writeln!(
                    s,
                    "  keep the complete backups the calendar rules keep ({}; periods in {}), delete the other complete ones; incomplete ones are left alone",
                    r.keep.describe(),
                    cfg.tz
                );
            }
            if folders {
                let _ = writeln!(s, "  expired folders are removed with rclone purge");
            }
        }
        s
    }
}

/// What a successful run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub target: String,
    /// What was stored (after in-process compression).
    pub bytes: u64,
    /// What the dump produced (the tar's size in tar mode).
    pub dumped: u64,
    pub sha256: String,
    pub duration: Duration,
}

/// Longest error text carried by a report (hook variables, notifications); the log has it all.
const REPORT_ERROR_CHARS: usize = 2000;

/// Run one backup with its own span (engine, database, backup_id on every line): the
/// pre-backup hook, the backup, then the post-backup hook. It stops early, cleaning up, on
/// SIGTERM/SIGINT or when BACKUP_TIMEOUT runs out. The report says how it went.
pub async fn run_once(cfg: &Config, shutdown: &mut Shutdown) -> Report {
    if cfg.split.is_some() {
        return split::run(cfg, shutdown).await;
    }
    let plan = Plan::new(cfg);
    let span = tracing::info_span!(
        "backup",
        engine = cfg.engine.key(),
        database = cfg.db_label(),
        backup_id = %plan.backup_id
    );
    let started = Instant::now();
    let mut report = Report {
        file: Some(rclone::redact_remote(&plan.target)),
        backup_id: Some(plan.backup_id.clone()),
        ..started_report(cfg)
    };
    let result = {
        let mut cancel = Cancel {
            shutdown: &mut *shutdown,
            deadline: cfg.timeout.map(|t| (tokio::time::Instant::now() + t, t)),
        };
        async {
            pre_hook(cfg, &report, &mut cancel)
                .await
                .map_err(|e| (Stage::PreHook, e, None))?;
            backup_object(cfg, &plan, started, &mut cancel).await
        }
        .instrument(span.clone())
        .await
    };
    report.duration = started.elapsed();
    span.in_scope(|| log_object(&result, report.duration));
    report_object(&mut report, result);
    if let Some(script) = &cfg.hooks.post_backup {
        post_hook(cfg, shutdown, script, &report)
            .instrument(span)
            .await;
    }
    report
}

/// A report of a run that has not ended yet (a failure until it succeeds).
fn started_report(cfg: &Config) -> Report {
    Report {
        status: Status::Failure,
        stage: Stage::Backup,
        engine: cfg.engine.key().to_string(),
        database: cfg.db_label().to_string(),
        file: None,
        size: None,
        sha256: None,
        backup_id: None,
        started_at: chrono::Utc::now(),
        duration: Duration::ZERO,
        host: crate::report::host_name(),
        error: None,
    }
}

/// How one backup object ended: its outcome, or the stage that failed, why, and what was
/// written when a verification failed.
type ObjectResult = Result<Outcome, (Stage, anyhow::Error, Option<Outcome>)>;

/// HOOK_PRE_BACKUP, if set: its failure aborts the run.
async fn pre_hook(cfg: &Config, report: &Report, cancel: &mut Cancel<'_>) -> anyhow::Result<()> {
    if let Some(script) = &cfg.hooks.pre_backup {
        let vars = hooks::pre_variables(report);
        cancel
            .guard(hooks::run(Hook::PreBackup, script, &vars))
            .await
            .map_err(|e| e.context("HOOK_PRE_BACKUP failed: backup aborted"))?;
    }
    Ok(())
}

/// One backup object: the dump and its upload, VERIFY_AFTER_BACKUP, then retention (only
/// after the new backup is written and, when asked, proven restorable).
async fn backup_object(
    cfg: &Config,
    plan: &Plan,
    started: Instant,
    cancel: &mut Cancel<'_>,
) -> ObjectResult {
    let (rclone, outcome, cleanup) = execute(cfg, plan, started, cancel)
        .await
        .map_err(|e| (Stage::Backup, e, None))?;
    if cfg.verify_after_backup {
        crate::restore::verify::after_backup(
            cfg,
            &plan.name,
            &outcome.target,
            outcome.bytes,
            &outcome.sha256,
            cancel,
        )
        .await
        .map_err(|e| (Stage::Verify, e, Some(outcome.clone())))?;
    }
    // Retention is bounded by the timeout too, but the backup it follows stands either way.
    if let Err(e) = cancel.guard(cleanup.apply(cfg, &rclone, &plan.name)).await {
        error!(error = %format!("{e:#}"), "retention stopped");
    }
    Ok(outcome)
}

/// Log how one object went (inside its span); `duration` is the attempt's.
fn log_object(result: &ObjectResult, duration: Duration) {
    match result {
        Ok(o) => info!(
            target = %rclone::redact_remote(&o.target),
            duration = %fmt_duration(o.duration),
            bytes = o.bytes,
            dumped = o.dumped,
            stored = o.bytes,
            sha256 = %o.sha256,
            "backup succeeded"
        ),
        Err((_, e, Some(o))) => {
            // The object is complete and checksummed: it stays, and the report says what
            // it is.
            error!(
                target = %rclone::redact_remote(&o.target),
                duration = %fmt_duration(duration),
                bytes = o.bytes,
                sha256 = %o.sha256,
                error = %format!("{e:#}"),
                "backup written but its verification failed (VERIFY_AFTER_BACKUP): the backup stays on the remote, but it is not restorable as it is"
            );
        }
        Err((_, e, None)) => error!(
            duration = %fmt_duration(duration),
            error = %format!("{e:#}"),
            "backup failed"
        ),
    }
}

/// Put how one object went in `report`.
fn report_object(report: &mut Report, result: ObjectResult) {
    match result {
        Ok(o) => {
            report.status = Status::Success;
            report.size = Some(o.bytes);
            report.sha256 = Some(o.sha256);
        }
        Err((stage, e, written)) => {
            if let Some(o) = written {
                report.size = Some(o.bytes);
                report.sha256 = Some(o.sha256);
            }
            report.stage = stage;
            let error = format!("{e:#}");
            report.error = Some(crate::report::error_tail(&error, REPORT_ERROR_CHARS));
        }
    }
}

/// The post-backup hook runs after every attempt, within its own BACKUP_TIMEOUT; after a
/// signal nothing new starts, and a signal while it runs kills it.
async fn post_hook(cfg: &Config, shutdown: &mut Shutdown, script: &str, report: &Report) {
    if let Some(sig) = shutdown.received {
        warn!("HOOK_POST_BACKUP not run: dbstash is stopping ({sig})");
        return;
    }
    let mut cancel = Cancel {
        shutdown,
        deadline: cfg.timeout.map(|t| (tokio::time::Instant::now() + t, t)),
    };
    let ran = cancel
        .guard(async {
            hooks::run_post(script, report).await;
            Ok(())
        })
        .await;
    if let Err(e) = ran {
        warn!(error = %format!("{e:#}"), "HOOK_POST_BACKUP stopped; the backup's outcome stands");
    }
}

/// What retention needs after the upload: the listing taken before it (the new backup is
/// never a candidate).
struct Retention {
    unit: Unit,
    listing: Vec<crate::remote::Entry>,
    folders: Vec<crate::remote::Entry>,
}

impl Retention {
    async fn apply(&self, cfg: &Config, rclone: &Rclone, current: &str) -> anyhow::Result<()> {
        match self.unit {
            Unit::Files => cleanup::apply_retention(cfg, rclone, &self.listing, current).await,
            Unit::Folders => {
                cleanup::apply_folder_retention(cfg, rclone, &self.listing, &self.folders, current)
                    .await
            }
        }
        Ok(())
    }
}

/// The backup itself: list the remote, refuse an existing name, upload through the mode.
async fn execute(
    cfg: &Config,
    plan: &Plan,
    started: Instant,
    cancel: &mut Cancel<'_>,
) -> anyhow::Result<(Rclone, Outcome, Retention)> {
    let mut rclone = Rclone::new(cfg)?;
    let mode = pipeline::of(cfg.mode);
    info!(target = %rclone::redact_remote(&plan.target), command = %plan.dump, mode = mode_name(cfg.mode), "backup started");

    // One listing serves two purposes: it proves the remote is reachable before the dump
    // starts, and it holds the retention candidates (the new backup is never one).
    let listing = cancel
        .guard(rclone.list(&cfg.remote))
        .await
        .with_context(|| format!("listing {} failed", rclone::redact_remote(&cfg.remote)))?;
    let folders = match mode.unit() {
        Unit::Files => Vec::new(),
        Unit::Folders => cancel
            .guard(rclone.dirs(&cfg.remote))
            .await
            .with_context(|| format!("listing {} failed", rclone::redact_remote(&cfg.remote)))?,
    };
    if listing
        .iter()
        .chain(&folders)
        .any(|e| e.name == plan.name || e.name == format!("{}.sha256", plan.name))
    {
        anyhow::bail!(
            "{} already exists: refusing to overwrite an existing backup (make BACKUP_NAME_TEMPLATE unique per run with {{time}}, {{ts}} or {{uuid}})",
            plan.name
        );
    }

    let job = plan.job(cfg);
    let written = mode.upload(&job, &mut rclone, cancel).await?;
    let outcome = Outcome {
        target: written.target,
        bytes: written.bytes,
        dumped: written.dumped,
        sha256: written.sha256,
        duration: started.elapsed(),
    };
    let retention = Retention {
        unit: mode.unit(),
        listing,
        folders,
    };
    Ok((rclone, outcome, retention))
}

/// `stream`, `directory` or `tar`.
pub fn mode_name(mode: BackupMode) -> &'static str {
    match mode {
        BackupMode::Stream => "stream",
        BackupMode::Directory => "directory",
        BackupMode::Tar => "tar",
    }
}
