//! One backup run: plan the name, stream the dump, write the checksum sidecar, apply
//! retention. `DRY_RUN` prints the same [`Plan`] instead of running it.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tracing::{error, info, warn, Instrument as _};

use crate::config::{describe, Config, LogFormat};
use crate::engine::{self, DumpCommand};
use crate::hooks::{self, Hook};
use crate::pipeline;
use crate::progress;
use crate::rclone::{self, Rclone};
use crate::report::{Report, Stage, Status};
use crate::retention;
use crate::template::NameVars;

/// Everything a run will do, decided before anything runs.
pub struct Plan {
    pub backup_id: String,
    pub name: String,
    pub target: String,
    pub dump: DumpCommand,
}

impl Plan {
    pub fn new(cfg: &Config) -> Plan {
        let backup_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
        let now = chrono::Utc::now().with_timezone(&cfg.tz);
        let name = format!(
            "{}{}",
            cfg.template.render(&NameVars {
                db: cfg.db_label(),
                engine: cfg.engine.key(),
                now,
                uuid: &backup_id,
            }),
            engine::extension(cfg)
        );
        Plan {
            target: rclone::join(&cfg.remote, &name),
            dump: cfg.engine().dump_command(cfg),
            backup_id,
            name,
        }
    }

    fn sidecar(&self) -> String {
        format!("{}.sha256", self.target)
    }

    /// The dry-run report: resolved config, dump command and rclone calls, secrets redacted.
    pub fn describe(&self, cfg: &Config) -> String {
        let mut s = String::from("dbstash dry run: nothing is executed.\n\nConfiguration:\n");
        for (k, v) in describe(cfg) {
            let _ = writeln!(s, "  {k:<22} {v}");
        }
        let _ = writeln!(s, "\nDump command:\n  {}", self.dump);
        let _ = writeln!(
            s,
            "\nUpload:\n  {} | {}",
            self.dump.program,
            Rclone::describe(cfg, "rcat", &self.target)
        );
        if cfg.checksum {
            let _ = writeln!(
                s,
                "  then: {}",
                Rclone::describe(cfg, "rcat", &self.sidecar())
            );
        }
        let r = cfg.retention;
        let _ = writeln!(s, "\nRetention:");
        if r.max_files == 0 && r.max_days == 0 {
            let _ = writeln!(
                s,
                "  keep everything (RETENTION_MAX_FILES=0, RETENTION_MAX_DAYS=0)"
            );
        } else {
            let m = cfg
                .template
                .matcher(cfg.db_label(), cfg.engine.key(), &engine::extension(cfg));
            let _ = writeln!(
                s,
                "  among objects in {} matching {}:",
                rclone::redact_remote(&cfg.remote),
                m.as_str()
            );
            if r.max_files > 0 {
                let _ = writeln!(
                    s,
                    "  keep at most {} complete backups (with their .sha256)",
                    r.max_files
                );
            }
            if r.max_days > 0 {
                let _ = writeln!(s, "  delete backups older than {} days", r.max_days);
            }
        }
        s
    }
}

/// What a successful run produced.
#[derive(Debug)]
pub struct Outcome {
    pub target: String,
    pub bytes: u64,
    pub sha256: String,
    pub duration: Duration,
}

/// Longest error text carried by a report (hook variables, notifications); the log has it all.
const REPORT_ERROR_CHARS: usize = 2000;

/// Run one backup with its own span (engine, database, backup_id on every line): the
/// pre-backup hook, the backup, then the post-backup hook. It stops early, cleaning up, on
/// SIGTERM/SIGINT or when BACKUP_TIMEOUT runs out. The report says how it went.
pub async fn run_once(cfg: &Config, shutdown: &mut Shutdown) -> Report {
    let plan = Plan::new(cfg);
    let span = tracing::info_span!(
        "backup",
        engine = cfg.engine.key(),
        database = cfg.db_label(),
        backup_id = %plan.backup_id
    );
    let started = Instant::now();
    let mut report = Report {
        status: Status::Failure,
        stage: Stage::Backup,
        engine: cfg.engine.key().to_string(),
        database: cfg.db_label().to_string(),
        file: Some(rclone::redact_remote(&plan.target)),
        size: None,
        sha256: None,
        backup_id: Some(plan.backup_id.clone()),
        started_at: chrono::Utc::now(),
        duration: Duration::ZERO,
        host: crate::report::host_name(),
        error: None,
    };
    let result = {
        let mut cancel = Cancel {
            shutdown: &mut *shutdown,
            deadline: cfg.timeout.map(|t| (tokio::time::Instant::now() + t, t)),
        };
        async {
            if let Some(script) = &cfg.hooks.pre_backup {
                let vars = hooks::pre_variables(&report);
                cancel
                    .guard(hooks::run(Hook::PreBackup, script, &vars))
                    .await
                    .map_err(|e| {
                        (
                            Stage::PreHook,
                            e.context("HOOK_PRE_BACKUP failed: backup aborted"),
                        )
                    })?;
            }
            execute(cfg, &plan, started, &mut cancel)
                .await
                .map_err(|e| (Stage::Backup, e))
        }
        .instrument(span.clone())
        .await
    };
    report.duration = started.elapsed();
    {
        let _enter = span.enter();
        match result {
            Ok(o) => {
                info!(
                    target = %rclone::redact_remote(&o.target),
                    duration = %fmt_duration(o.duration),
                    bytes = o.bytes,
                    sha256 = %o.sha256,
                    "backup succeeded"
                );
                report.status = Status::Success;
                report.size = Some(o.bytes);
                report.sha256 = Some(o.sha256);
            }
            Err((stage, e)) => {
                let error = format!("{e:#}");
                error!(
                    duration = %fmt_duration(report.duration),
                    error = %error,
                    "backup failed"
                );
                report.stage = stage;
                report.error = Some(crate::report::error_tail(&error, REPORT_ERROR_CHARS));
            }
        }
    }
    if let Some(script) = &cfg.hooks.post_backup {
        post_hook(cfg, shutdown, script, &report)
            .instrument(span)
            .await;
    }
    report
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

async fn execute(
    cfg: &Config,
    plan: &Plan,
    started: Instant,
    cancel: &mut Cancel<'_>,
) -> anyhow::Result<Outcome> {
    let rclone = Rclone::new(cfg)?;
    info!(target = %rclone::redact_remote(&plan.target), command = %plan.dump, "backup started");

    // One listing serves two purposes: it proves the remote is reachable before the dump
    // starts, and it holds the retention candidates (the new backup is never one).
    let listing = cancel
        .guard(rclone.list(&cfg.remote))
        .await
        .with_context(|| format!("listing {} failed", rclone::redact_remote(&cfg.remote)))?;
    if listing
        .iter()
        .any(|e| e.name == plan.name || e.name == format!("{}.sha256", plan.name))
    {
        anyhow::bail!(
            "{} already exists: refusing to overwrite an existing backup (make BACKUP_NAME_TEMPLATE unique per run with {{time}}, {{ts}} or {{uuid}})",
            plan.name
        );
    }

    // On backends with a server-side move (file systems: local, sftp, smb, …) an upload is
    // visible while it is written, so it goes to a hidden staging name first and is renamed
    // once complete: even a SIGKILLed dbstash leaves no truncated file under a backup's name.
    // Object stores (S3, GCS, Azure) have no move, and commit uploads atomically anyway.
    let staged = match cancel.guard(rclone.has_server_side_move(&cfg.remote)).await {
        Ok(false) => None,
        Ok(true) | Err(_) => Some(format!(".{}.partial-{}", plan.name, plan.backup_id)),
    };
    let upload_name = staged.as_deref().unwrap_or(&plan.name);
    let upload_target = rclone::join(&cfg.remote, upload_name);

    // A signal or the timeout drops the stream future: its guards kill the dump and rclone
    // (before rclone's stdin closes), and the partial object is deleted below.
    let streamed = cancel
        .guard(pipeline::stream(
            &plan.dump,
            &rclone,
            &upload_target,
            progress::Display::choose(cfg.progress_interval, cfg.log_format == LogFormat::Text),
        ))
        .await;
    let streamed = match streamed {
        Ok(s) => verify_upload(&rclone, cancel, cfg, upload_name, &plan.dump.program, s).await,
        Err(e) => Err(e),
    };
    let streamed = match streamed {
        Ok(s) => s,
        Err(e) => {
            remove_partial(&rclone, &upload_target).await;
            return Err(e);
        }
    };
    if staged.is_some() {
        if let Err(e) = cancel
            .guard(rclone.move_to(&upload_target, &plan.target))
            .await
        {
            remove_partial(&rclone, &upload_target).await;
            remove_partial(&rclone, &plan.target).await;
            return Err(e.context("renaming the finished upload to its backup name failed"));
        }
    }

    if cfg.checksum {
        let line = format!("{}  {}\n", streamed.sha256, plan.name);
        let sidecar = plan.sidecar();
        let put = cancel.guard(rclone.put(&sidecar, line.as_bytes())).await;
        if let Err(e) = put {
            // A backup without its checksum is incomplete: do not leave half of the pair.
            remove_partial(&rclone, &sidecar).await;
            remove_partial(&rclone, &plan.target).await;
            return Err(e.context("writing the checksum file failed"));
        }
    }

    // Retention is bounded by the timeout too, but the backup it follows stands either way.
    if let Err(e) = cancel
        .guard(async {
            apply_retention(cfg, &rclone, &listing, &plan.name).await;
            Ok(())
        })
        .await
    {
        error!(error = %format!("{e:#}"), "retention stopped");
    }

    Ok(Outcome {
        target: plan.target.clone(),
        bytes: streamed.bytes,
        sha256: streamed.sha256,
        duration: started.elapsed(),
    })
}

/// Trust, but verify: the dump must have produced something, and the remote must hold
/// exactly the bytes that went through the pipe.
async fn verify_upload(
    rclone: &Rclone,
    cancel: &mut Cancel<'_>,
    cfg: &Config,
    upload_name: &str,
    program: &str,
    s: pipeline::Streamed,
) -> anyhow::Result<pipeline::Streamed> {
    if s.bytes == 0 {
        anyhow::bail!("{program} exited 0 but wrote nothing to stdout (does DUMP_EXTRA_ARGS redirect its output?)");
    }
    match cancel.guard(rclone.size_of(&cfg.remote, upload_name)).await {
        Ok(Some(size)) if size < 0 || size as u64 == s.bytes => Ok(s),
        Ok(Some(size)) => Err(anyhow::anyhow!(
            "the remote holds {size} bytes under {upload_name} but {} were streamed",
            s.bytes
        )),
        Ok(None) => Err(anyhow::anyhow!(
            "rclone rcat exited 0 but {upload_name} is not on the remote"
        )),
        Err(e) => Err(e.context("checking the uploaded object failed")),
    }
}

/// The longest the cleanup of one failed object may take.
const CLEANUP_LIMIT: Duration = Duration::from_secs(60);

/// Staging uploads older than this are leftovers of a killed run, not uploads in progress.
const STALE_STAGING: Duration = Duration::from_secs(24 * 3600);

/// What ends a run early: a signal, or the deadline of BACKUP_TIMEOUT.
pub struct Cancel<'a> {
    shutdown: &'a mut Shutdown,
    deadline: Option<(tokio::time::Instant, Duration)>,
}

impl Cancel<'_> {
    /// Run `fut` unless cancelled first; cancelling drops it (and so kills its children).
    async fn guard<T>(
        &mut self,
        fut: impl std::future::Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        let deadline = self.deadline;
        let timeout = async {
            match deadline {
                Some((at, _)) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            sig = self.shutdown.recv() => Err(anyhow::anyhow!("interrupted by {sig}")),
            _ = timeout => Err(anyhow::anyhow!(
                "timed out after {} (BACKUP_TIMEOUT)",
                fmt_human(deadline.map(|(_, d)| d).unwrap_or_default())
            )),
            r = fut => r,
        }
    }
}

/// `1h30m`, `2s`, `1500ms`: how a user would have written it.
pub fn fmt_human(d: Duration) -> String {
    if d.subsec_millis() != 0 || d.as_secs() == 0 {
        return format!("{}ms", d.as_millis());
    }
    let (h, m, s) = (d.as_secs() / 3600, d.as_secs() / 60 % 60, d.as_secs() % 60);
    let mut out = String::new();
    for (n, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    out
}

/// SIGTERM and SIGINT, as a stream of events. Once created, these signals no longer kill
/// dbstash outright: whoever holds it decides (stop a backup and clean up, or exit).
pub struct Shutdown {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    pub received: Option<&'static str>,
}

impl Shutdown {
    pub fn new() -> anyhow::Result<Shutdown> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Shutdown {
            term: signal(SignalKind::terminate()).context("installing the SIGTERM handler")?,
            int: signal(SignalKind::interrupt()).context("installing the SIGINT handler")?,
            received: None,
        })
    }

    /// The name of the next signal received.
    pub async fn recv(&mut self) -> &'static str {
        if let Some(sig) = self.received {
            return sig;
        }
        let sig = tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        };
        self.received = Some(sig);
        sig
    }
}

/// Delete whatever a failed run may have left under a backup's name. Bounded in time: a
/// remote that stopped answering must not hold up a timeout or a shutdown for long.
async fn remove_partial(rclone: &Rclone, target: &str) {
    let deleted = tokio::time::timeout(CLEANUP_LIMIT, rclone.delete(target))
        .await
        .unwrap_or_else(|_| {
            Err(anyhow::anyhow!(
                "no answer within {}",
                fmt_human(CLEANUP_LIMIT)
            ))
        });
    match deleted {
        Ok(true) => {
            warn!(object = %rclone::redact_remote(target), "deleted the partial object of the failed backup")
        }
        Ok(false) => {}
        Err(e) => error!(
            object = %rclone::redact_remote(target),
            error = %format!("{e:#}"),
            "could not delete the partial object of the failed backup: delete it by hand"
        ),
    }
}

/// Retention failures are logged, not fatal: the backup itself succeeded.
async fn apply_retention(
    cfg: &Config,
    rclone: &Rclone,
    listing: &[retention::Entry],
    current: &str,
) {
    let matcher = cfg
        .template
        .matcher(cfg.db_label(), cfg.engine.key(), &engine::extension(cfg));
    remove_stale_staging(cfg, rclone, listing, &matcher).await;
    if cfg.retention.max_files == 0 && cfg.retention.max_days == 0 {
        return;
    }
    // With checksums on, an object without its .sha256 is incomplete (e.g. left by a killed
    // process): it never takes one of the RETENTION_MAX_FILES places of a good backup.
    let has_sidecar = |n: &str| {
        let sidecar = format!("{n}.sha256");
        listing.iter().any(|e| e.name == sidecar)
    };
    let expired = retention::select_expired(
        listing,
        |n| matcher.is_match(n),
        |n| !cfg.checksum || has_sidecar(n),
        current,
        cfg.retention,
        chrono::Utc::now(),
    );
    let kept = listing.iter().filter(|e| matcher.is_match(&e.name)).count() + 1 - expired.len();
    for name in &expired {
        let target = rclone::join(&cfg.remote, name);
        match rclone.delete(&target).await {
            Ok(_) => info!(object = %name, "retention: deleted expired backup"),
            Err(e) => {
                error!(object = %name, error = %format!("{e:#}"), "retention: could not delete expired backup");
                continue;
            }
        }
        let sidecar = format!("{name}.sha256");
        if listing.iter().any(|e| e.name == sidecar) {
            if let Err(e) = rclone.delete(&rclone::join(&cfg.remote, &sidecar)).await {
                error!(object = %sidecar, error = %format!("{e:#}"), "retention: could not delete checksum file");
            }
        }
    }
    info!(deleted = expired.len(), kept, "retention applied");
}

/// Staging uploads (`.NAME.partial-ID`) of this config's backups left by a killed run.
async fn remove_stale_staging(
    cfg: &Config,
    rclone: &Rclone,
    listing: &[retention::Entry],
    matcher: &regex::Regex,
) {
    let inner = matcher
        .as_str()
        .trim_start_matches('^')
        .trim_end_matches('$');
    let staging = regex::Regex::new(&format!(r"^\.{inner}\.partial-[0-9a-f]{{8}}$"))
        .expect("valid staging pattern");
    let age = cfg.timeout.map_or(STALE_STAGING, |t| t.max(STALE_STAGING));
    let cutoff = chrono::Utc::now() - chrono::Duration::from_std(age).unwrap_or_default();
    for e in listing
        .iter()
        .filter(|e| staging.is_match(&e.name) && e.mod_time < cutoff)
    {
        match rclone.delete(&rclone::join(&cfg.remote, &e.name)).await {
            Ok(_) => info!(object = %e.name, "deleted a stale partial upload of a killed run"),
            Err(err) => {
                warn!(object = %e.name, error = %format!("{err:#}"), "could not delete a stale partial upload")
            }
        }
    }
}

pub fn fmt_duration(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}
