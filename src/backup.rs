//! One backup run: plan the name, stream the dump, write the checksum sidecar, apply
//! retention. `DRY_RUN` prints the same [`Plan`] instead of running it.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tracing::{error, info, warn, Instrument as _};

use crate::config::{describe, Config, LogFormat};
pub use crate::durations::{fmt_duration, fmt_human};
use crate::engine::{self, DumpCommand};
use crate::hooks::{self, Hook};
use crate::pipeline;
use crate::progress;
use crate::rclone::{self, Rclone};
use crate::report::{Report, Stage, Status};
use crate::retention;
pub use crate::shutdown::{Cancel, Shutdown};
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
                db: cfg.conn.database.as_deref(),
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
        if cfg.verify_after_backup {
            let _ = writeln!(
                s,
                "\nVerify (VERIFY_AFTER_BACKUP):\n  {} into {}, its SHA-256 checked, then the dump's completeness (see dbstash verify); a failure fails the run, the backup stays",
                Rclone::describe(cfg, "cat", &self.target),
                cfg.temp_dir.display()
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
            let m = cfg.template.matcher(
                cfg.conn.database.as_deref(),
                cfg.engine.key(),
                &engine::extension(cfg),
            );
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
#[derive(Debug, Clone)]
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
                            None,
                        )
                    })?;
            }
            let outcome = execute(cfg, &plan, started, &mut cancel)
                .await
                .map_err(|e| (Stage::Backup, e, None))?;
            if cfg.verify_after_backup {
                crate::restore::verify::after_backup(
                    cfg,
                    &plan.name,
                    &outcome.target,
                    outcome.bytes,
                    &outcome.sha256,
                    &mut cancel,
                )
                .await
                .map_err(|e| (Stage::Verify, e, Some(outcome.clone())))?;
            }
            Ok(outcome)
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
            Err((stage, e, written)) => {
                let error = format!("{e:#}");
                if let Some(o) = written {
                    // The object is complete and checksummed: it stays, and the report
                    // says what it is.
                    error!(
                        target = %rclone::redact_remote(&o.target),
                        duration = %fmt_duration(report.duration),
                        bytes = o.bytes,
                        sha256 = %o.sha256,
                        error = %error,
                        "backup written but its verification failed (VERIFY_AFTER_BACKUP): the object stays on the remote, but it is not restorable as it is"
                    );
                    report.size = Some(o.bytes);
                    report.sha256 = Some(o.sha256);
                } else {
                    error!(
                        duration = %fmt_duration(report.duration),
                        error = %error,
                        "backup failed"
                    );
                }
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
    let mut rclone = Rclone::new(cfg)?;
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
    // Where the backend keeps user metadata, uploads carry this run's backup_id: an object
    // under the backup's name is then known to be this run's, not another writer's.
    let features = match cancel.guard(rclone.features(&cfg.remote)).await {
        Ok(f) => f,
        Err(_) => rclone::Features {
            server_side_move: true,
            user_metadata: false,
        },
    };
    if features.user_metadata {
        rclone.tag_uploads(&plan.backup_id);
    }
    let commit = Commit {
        rclone: &rclone,
        dir: &cfg.remote,
        name: &plan.name,
        sidecar: format!("{}.sha256", plan.name),
        id: &plan.backup_id,
        tagged: AtomicBool::new(features.user_metadata),
        staged: features.server_side_move,
        claim_written: AtomicBool::new(false),
        stale_after: stale_age(cfg),
    };
    let upload_name = if commit.staged {
        staging_name(&plan.name, &plan.backup_id)
    } else {
        plan.name.clone()
    };
    let upload_target = rclone::join(&cfg.remote, &upload_name);
    let line_of = |s: &pipeline::Streamed| format!("{}  {}\n", s.sha256, plan.name);

    // A signal or the timeout drops the stream future: its guards kill the dump and rclone
    // (before rclone's stdin closes), and the partial upload is deleted below. A direct
    // upload claims its name right before rclone's input closes (the commit).
    let commit_attempted = AtomicBool::new(false);
    let before_commit = |s: pipeline::Streamed| {
        let (commit, attempted) = (&commit, &commit_attempted);
        async move {
            if s.bytes == 0 {
                anyhow::bail!("{} exited 0 but wrote nothing to stdout (does DUMP_EXTRA_ARGS redirect its output?)", plan.dump.program);
            }
            if !commit.staged {
                commit.claim(&line_of(&s)).await?;
                attempted.store(true, Ordering::SeqCst);
            }
            Ok(())
        }
    };
    let streamed = cancel
        .guard(pipeline::stream(
            &plan.dump,
            &rclone,
            &upload_target,
            progress::Display::choose(cfg.progress_interval, cfg.log_format == LogFormat::Text),
            before_commit,
        ))
        .await;
    let streamed = match streamed {
        Ok(s) => s,
        Err(e) => {
            if commit.staged {
                remove_partial(&rclone, &upload_target).await;
            }
            commit.remove_claim().await;
            if !commit.staged && commit_attempted.load(Ordering::SeqCst) {
                // rclone's input had closed: the object may have been committed.
                commit.remove_ours(None).await;
            }
            return Err(e);
        }
    };

    // From here on, a failure deletes only what is verifiably this run's.
    let line = line_of(&streamed);
    let bytes = streamed.bytes;
    let committed = async {
        let staged_as = if commit.staged {
            let staging = cancel
                .guard(commit.check_staged(&upload_name, bytes))
                .await?;
            cancel.guard(commit.claim(&line)).await?;
            commit_attempted.store(true, Ordering::SeqCst);
            cancel
                .guard(async {
                    rclone
                        .move_no_overwrite(&upload_target, &plan.target)
                        .await
                        .context("renaming the finished upload to its backup name failed")
                })
                .await?;
            Some(staging)
        } else {
            cancel.guard(commit.check_direct(bytes)).await?;
            None
        };
        cancel
            .guard(commit.finish(cfg.checksum, &line, bytes, staged_as.as_ref()))
            .await
    }
    .await;
    if let Err(e) = committed {
        if commit.staged {
            remove_partial(&rclone, &upload_target).await;
        }
        commit.remove_claim().await;
        if commit_attempted.load(Ordering::SeqCst) {
            commit
                .remove_ours(cfg.checksum.then_some(line.as_str()))
                .await;
        }
        return Err(e);
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

/// The hidden name an upload is written under before its rename: `.NAME.partial-ID`.
fn staging_name(name: &str, backup_id: &str) -> String {
    format!(".{name}.partial-{backup_id}")
}

/// A run's claim on a name (see [`Commit::claim`]), which becomes its checksum file:
/// `.NAME.claim-ID`. No longer than the staging name, so the name-length limit covers it.
fn claim_name(name: &str, backup_id: &str) -> String {
    format!(".{name}.claim-{backup_id}")
}

/// The backup_id in `entry` if it is a claim on `name` (`.NAME.claim-ID`).
fn claim_id<'a>(entry: &'a str, name: &str) -> Option<&'a str> {
    let id = entry
        .strip_prefix('.')?
        .strip_prefix(name)?
        .strip_prefix(".claim-")?;
    let hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    (id.len() == 8 && id.bytes().all(hex)).then_some(id)
}

/// Staging uploads and claims older than this are leftovers of a killed run.
fn stale_age(cfg: &Config) -> Duration {
    cfg.timeout.map_or(STALE_STAGING, |t| t.max(STALE_STAGING))
}

/// How this run's upload becomes a backup without overwriting or deleting anything another
/// writer (a concurrent run of the same job, another host) put under the same name.
///
/// rclone has no conditional write. So a run first *claims* the name: it writes its claim
/// (the checksum file's staging object, which carries its backup_id in its name), then lists
/// the folder, and goes on only if the name and its checksum file are absent and no other
/// run's claim is older (by the remote's time, then backup_id). Two runs that see each
/// other's claims agree on which goes on. Each lists after its own write, so at least one
/// sees the other: the only way both go on is that the younger one did not see the older
/// claim and yet its own claim sorts first (both written within the remote's time
/// precision). Then the run commits (renames the staged upload without overwriting, or
/// closes rclone's input), turns its claim into the checksum file (renamed without
/// overwriting), and looks once more: both objects must be its own. Cleanup deletes only
/// objects proven to be this run's: by its backup_id in their metadata
/// ([`rclone::TAG_KEY`]), or in their staging name.
struct Commit<'a> {
    rclone: &'a Rclone,
    dir: &'a str,
    name: &'a str,
    sidecar: String,
    id: &'a str,
    /// Uploads carry `id` as metadata (the backend keeps user metadata).
    tagged: AtomicBool,
    /// Uploads go to a staging name and are renamed (the backend moves server-side).
    staged: bool,
    /// The claim may exist (its upload was started).
    claim_written: AtomicBool,
    /// Claims older than this (by the remote's clock) are a killed run's leftovers.
    stale_after: Duration,
}

/// What the remote holds under a name, compared with what this run uploaded.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Ours,
    /// This run's object (or, untagged, possibly another's) with another size.
    WrongSize(i64),
    Other,
}

impl Commit<'_> {
    fn target(&self, name: &str) -> String {
        rclone::join(self.dir, name)
    }

    fn tagged(&self) -> bool {
        self.tagged.load(Ordering::SeqCst)
    }

    fn claim_name(&self) -> String {
        claim_name(self.name, self.id)
    }

    /// Claim the backup's name right before it becomes visible (see [`Commit`]).
    async fn claim(&self, line: &str) -> anyhow::Result<()> {
        let claim = self.claim_name();
        self.claim_written.store(true, Ordering::SeqCst);
        self.rclone
            .put(&self.target(&claim), line.as_bytes())
            .await
            .context("claiming the backup's name failed")?;
        let listing = self
            .rclone
            .list(self.dir)
            .await
            .context("checking that the backup's name is still free failed")?;
        let Some(mine) = listing.iter().find(|e| e.name == claim) else {
            anyhow::bail!(
                "{claim}, just written to claim {}, is missing from the folder's listing: this remote's listings lag behind its writes, so concurrent runs cannot be told apart; nothing was committed",
                self.name
            );
        };
        let stale = chrono::Duration::from_std(self.stale_after).unwrap_or(chrono::Duration::MAX);
        for e in &listing {
            if e.name == self.name || e.name == self.sidecar {
                return Err(self.taken(&e.name, None, false));
            }
            let Some(other) = claim_id(&e.name, self.name) else {
                continue;
            };
            let live = mine
                .mod_time
                .checked_sub_signed(stale)
                .is_none_or(|cutoff| e.mod_time >= cutoff);
            // The oldest claim goes on: runs that see each other's claims agree on it.
            let first = (e.mod_time, other) < (mine.mod_time, self.id);
            if other != self.id && live && first {
                anyhow::bail!(
                    "another dbstash run (backup_id {other}) is writing {} at the same time and claimed it first (its claim {} is from {}): this run's upload is not kept (make BACKUP_NAME_TEMPLATE unique per run with {{time}}, {{ts}} or {{uuid}}, keep BACKUP_LOCK on, and give each database and server its own folder; a claim left by a killed run is ignored after {})",
                    self.name,
                    e.name,
                    e.mod_time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    fmt_human(self.stale_after)
                );
            }
        }
        Ok(())
    }

    /// Delete this run's claim, if it may exist (a claim carries this run's id in its name).
    async fn remove_claim(&self) {
        if self.claim_written.load(Ordering::SeqCst) {
            remove_partial(self.rclone, &self.target(&self.claim_name())).await;
        }
    }

    /// The error for a name some other writer holds: it was there before this run wrote
    /// the name (`replaced` false), or it replaced this run's object right after.
    fn taken(&self, name: &str, tag: Option<&str>, replaced: bool) -> anyhow::Error {
        let by = match tag {
            Some(id) => format!("another dbstash run, backup_id {id}"),
            None => "another writer".to_string(),
        };
        let what = if replaced {
            format!("was overwritten by {by} right after this run wrote it (rclone cannot write conditionally, see docs/safety.md); the other object stays")
        } else {
            format!("already exists: written by {by} while this run was uploading; it is left as it is and this run's upload is not kept")
        };
        anyhow::anyhow!(
            "{name} {what} (two runs wrote the same name: make BACKUP_NAME_TEMPLATE unique per run with {{time}}, {{ts}} or {{uuid}}, keep BACKUP_LOCK on, and give each database and server its own folder)"
        )
    }

    /// Is `o` this run's upload of `bytes` bytes? Tagged: its backup_id says so. Untagged
    /// and staged: same size and modification time as this run's staging object had.
    /// Untagged and direct: only the size can tell.
    fn judge(&self, o: &rclone::Object, bytes: u64, staged_as: Option<&rclone::Object>) -> Verdict {
        let size_ok = o.size < 0 || o.size.unsigned_abs() == bytes;
        let tagged = self.tagged();
        if tagged && o.tag.as_deref() != Some(self.id) {
            return Verdict::Other;
        }
        match staged_as {
            Some(s) if !tagged && (o.mod_time != s.mod_time || !size_ok) => Verdict::Other,
            _ if size_ok => Verdict::Ours,
            _ => Verdict::WrongSize(o.size),
        }
    }

    /// A tag that did not stick (a file system without extended attributes, a
    /// `--metadata-set` of the user's): identify by size and time from here on.
    fn untag_if_missing(&self, own: &rclone::Object) {
        if self.tagged() && own.tag.is_none() {
            warn!(
                object = %own.name,
                "the remote did not keep this run's backup_id in the object's metadata: concurrent writers under the same name are told apart by size and time only"
            );
            self.tagged.store(false, Ordering::SeqCst);
        }
    }

    /// Staged uploads, before the rename: the staging object holds exactly what was
    /// streamed. Returns it as listed (its size and time identify it when untagged).
    async fn check_staged(&self, upload_name: &str, bytes: u64) -> anyhow::Result<rclone::Object> {
        let found = self
            .rclone
            .stat(self.dir, &[upload_name])
            .await
            .context("checking the uploaded object failed")?;
        let Some(own) = found.into_iter().next() else {
            anyhow::bail!("rclone rcat exited 0 but {upload_name} is not on the remote");
        };
        if own.size >= 0 && own.size.unsigned_abs() != bytes {
            anyhow::bail!(
                "the remote holds {} bytes under {upload_name} but {bytes} were streamed",
                own.size
            );
        }
        self.untag_if_missing(&own);
        Ok(own)
    }

    /// Direct uploads, after the commit: the name holds this run's object, of the size
    /// streamed, and no checksum file yet.
    async fn check_direct(&self, bytes: u64) -> anyhow::Result<()> {
        let found = self
            .rclone
            .stat(self.dir, &[self.name, &self.sidecar])
            .await
            .context("checking the uploaded object failed")?;
        let get = |n: &str| found.iter().find(|o| o.name == n);
        let Some(o) = get(self.name) else {
            anyhow::bail!(
                "rclone rcat exited 0 but {} is not on the remote",
                self.name
            );
        };
        // Ours without the tag, or another writer's untagged object: rclone exited 0 a
        // moment ago, so most likely ours.
        self.untag_if_missing(o);
        self.expect_ours(o, bytes, None)?;
        match get(&self.sidecar) {
            Some(other) => Err(self.taken(&other.name, other.tag.as_deref(), false)),
            None => Ok(()),
        }
    }

    fn expect_ours(
        &self,
        o: &rclone::Object,
        bytes: u64,
        staged_as: Option<&rclone::Object>,
    ) -> anyhow::Result<()> {
        match self.judge(o, bytes, staged_as) {
            Verdict::Ours => Ok(()),
            Verdict::WrongSize(size) => Err(anyhow::anyhow!(
                "the remote holds {size} bytes under {} but {bytes} were streamed",
                self.name
            )),
            Verdict::Other => Err(self.taken(&o.name, o.tag.as_deref(), true)),
        }
    }

    /// After the commit: turn the claim into the checksum file (renamed without
    /// overwriting), or drop it; then look once more: the backup's object and its checksum
    /// file must be this run's.
    async fn finish(
        &self,
        checksum: bool,
        line: &str,
        bytes: u64,
        staged_as: Option<&rclone::Object>,
    ) -> anyhow::Result<()> {
        let claim = self.claim_name();
        if checksum {
            self.rclone
                .move_no_overwrite(&self.target(&claim), &self.target(&self.sidecar))
                .await
                .context("writing the checksum file failed")?;
        } else {
            self.remove_claim().await;
            if !self.staged {
                return Ok(()); // check_direct looked at the object already
            }
        }
        let staging = staging_name(self.name, self.id);
        let mut names = vec![self.name];
        if checksum {
            names.extend([self.sidecar.as_str(), &claim]);
        }
        if self.staged {
            names.push(&staging);
        }
        let found = self
            .rclone
            .stat(self.dir, &names)
            .await
            .context("checking the backup and its checksum file failed")?;
        let get = |n: &str| found.iter().find(|o| o.name == n);
        let object = get(self.name);
        if self.staged && get(&staging).is_some() {
            // rclone skipped the rename: the name was taken.
            return Err(match object {
                Some(o) => self.taken(&o.name, o.tag.as_deref(), false),
                None => anyhow::anyhow!(
                    "rclone moveto left {staging} in place, but {} is not on the remote",
                    self.name
                ),
            });
        }
        let Some(object) = object else {
            anyhow::bail!("{} is not on the remote after this run wrote it", self.name);
        };
        self.expect_ours(object, bytes, staged_as)?;
        if !checksum {
            return Ok(());
        }
        let side = get(&self.sidecar);
        match side {
            _ if get(&claim).is_some() => Err(match side {
                // rclone skipped the rename: another checksum file took the name.
                Some(o) => self.taken(&o.name, o.tag.as_deref(), false),
                None => anyhow::anyhow!(
                    "rclone moveto left {claim} in place, but {} is not on the remote",
                    self.sidecar
                ),
            }),
            None => Err(anyhow::anyhow!(
                "{} is not on the remote after this run wrote it",
                self.sidecar
            )),
            Some(o) if !self.sidecar_is_ours(o, line).await => {
                Err(self.taken(&o.name, o.tag.as_deref(), true))
            }
            Some(_) => Ok(()),
        }
    }

    /// Tagged: the backup_id says so. Untagged: its content is this run's line (which holds
    /// the SHA-256 of what this run streamed).
    async fn sidecar_is_ours(&self, o: &rclone::Object, line: &str) -> bool {
        if self.tagged() {
            return o.tag.as_deref() == Some(self.id);
        }
        self.rclone.cat(&self.target(&o.name)).await.ok().as_deref() == Some(line.as_bytes())
    }

    /// After a failure: delete the backup's object and, given its line, the checksum file,
    /// if (and only if) they are verifiably this run's. Bounded in time.
    async fn remove_ours(&self, sidecar_line: Option<&str>) {
        let work = async {
            let mut names = vec![self.name];
            if sidecar_line.is_some() {
                names.push(&self.sidecar);
            }
            let found = self.rclone.stat(self.dir, &names).await?;
            for o in &found {
                let ours = match sidecar_line {
                    Some(line) if o.name == self.sidecar => self.sidecar_is_ours(o, line).await,
                    _ => self.tagged() && o.tag.as_deref() == Some(self.id),
                };
                if ours {
                    remove_partial(self.rclone, &self.target(&o.name)).await;
                } else if o.name == self.name && !self.tagged() {
                    warn!(
                        object = %o.name,
                        "left in place: this remote keeps no metadata, so dbstash cannot tell whether it is this failed run's upload or another writer's backup; without its .sha256 retention counts it as incomplete. Delete it by hand if it is this run's"
                    );
                }
            }
            anyhow::Ok(())
        };
        match tokio::time::timeout(CLEANUP_LIMIT, work).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => error!(
                object = %rclone::redact_remote(&self.target(self.name)),
                error = %format!("{e:#}"),
                "could not check what the failed backup left: delete it by hand if it is this run's"
            ),
            Err(_) => error!(
                object = %rclone::redact_remote(&self.target(self.name)),
                "no answer within {} while cleaning up the failed backup: delete it by hand if it is this run's",
                fmt_human(CLEANUP_LIMIT)
            ),
        }
    }
}

/// The longest the cleanup of one failed object may take.
const CLEANUP_LIMIT: Duration = Duration::from_secs(60);

/// Staging uploads older than this are leftovers of a killed run, not uploads in progress.
const STALE_STAGING: Duration = Duration::from_secs(24 * 3600);

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
    let matcher = cfg.template.matcher(
        cfg.conn.database.as_deref(),
        cfg.engine.key(),
        &engine::extension(cfg),
    );
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

/// Staging uploads (`.NAME.partial-ID`) and claims (`.NAME.claim-ID`) of this
/// config's backups left by a killed run.
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
    // Uploads (`.NAME.partial-ID`) and claims (`.NAME.claim-ID`).
    let staging = regex::Regex::new(&format!(r"^\.{inner}\.(partial|claim)-[0-9a-f]{{8}}$"))
        .expect("valid staging pattern");
    let Some(cutoff) = chrono::Duration::from_std(stale_age(cfg))
        .ok()
        .and_then(|age| chrono::Utc::now().checked_sub_signed(age))
    else {
        return;
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_recognised_by_name() {
        let name = "app-2026-02-07.sql";
        assert_eq!(
            claim_id(".app-2026-02-07.sql.claim-0a1b2c3d", name),
            Some("0a1b2c3d")
        );
        for other in [
            ".app-2026-02-07.sql.partial-0a1b2c3d", // an upload, not a claim
            "app-2026-02-07.sql.claim-0a1b2c3d",    // not hidden
            ".app-2026-02-07.sql.claim-0a1b2c3",    // 7 digits
            ".app-2026-02-07.sql.claim-0a1b2c3dd",
            ".app-2026-02-07.sql.claim-0a1b2c3g",
            ".app-2026-02-07.sql.claim-0A1B2C3D",
            ".xapp-2026-02-07.sql.claim-0a1b2c3d", // another name
            ".app-2026-02-07.sql.sha256",
        ] {
            assert_eq!(claim_id(other, name), None, "{other}");
        }
        assert_eq!(
            claim_name(name, "0a1b2c3d"),
            ".app-2026-02-07.sql.claim-0a1b2c3d"
        );
        // The claim is no longer than the staging name: the name-length limit covers both.
        assert!(claim_name(name, "0a1b2c3d").len() <= staging_name(name, "0a1b2c3d").len());
    }
}
