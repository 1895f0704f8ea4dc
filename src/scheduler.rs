//! How runs happen: once (`BACKUP_SCHEDULE=once`), or as a daemon on a cron schedule in `TZ`
//! with the health endpoint. Every run goes through the lock (`BACKUP_LOCK`).

use std::process::ExitCode;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tracing::{error, info, warn};

use crate::backup::{self, Shutdown};
use crate::check;
use crate::config::Config;
use crate::health;
use crate::lock;
use crate::notify::Notifier;
use crate::report::{Report, Stage, Status};
use crate::{EXIT_BACKUP_FAILED, EXIT_BAD_CONFIG};
use tokio::task::JoinSet;

/// One attempt: take the lock, ping the start, back up, tell the health state, and queue
/// the notifications. A skipped run (another holds the lock) is reported as a failure, and
/// counted apart in the health state.
async fn attempt(
    cfg: &Config,
    shutdown: &mut Shutdown,
    state: Option<&health::State>,
    outbox: &mut Outbox,
) -> Report {
    let report = match locked(cfg) {
        Ok(Locked::Taken(_guard)) => {
            if let Some(s) = state {
                s.run_started();
            }
            let start = outbox.started();
            let report = backup::run_once(cfg, shutdown).await;
            if let (Some(s), true) = (state, cfg.verify_after_backup) {
                match (report.status, report.stage) {
                    (Status::Success, _) => s.verified(true),
                    (Status::Failure, Stage::Verify) => s.verified(false),
                    _ => {}
                }
            }
            outbox.finished(Some(start), report.clone());
            report
        }
        Ok(Locked::Busy { holder }) => {
            let holder = holder.unwrap_or_else(|| "holder unknown".into());
            let why = format!(
                "backup skipped: another run still holds the lock (BACKUP_LOCK_FILE={}, held by {holder})",
                cfg.lock_file.display()
            );
            warn!(engine = cfg.engine.key(), database = cfg.db_label(), lock = %cfg.lock_file.display(), holder = %holder, "{why}");
            if let Some(s) = state {
                s.run_skipped(why.clone());
            }
            let report = Report::failed(cfg.engine.key(), cfg.db_label(), Stage::Skipped, &why);
            outbox.finished(None, report.clone());
            return report;
        }
        Err(e) => {
            let error = format!("{e:#}");
            error!(engine = cfg.engine.key(), database = cfg.db_label(), error = %error, "backup failed");
            let report = Report::failed(cfg.engine.key(), cfg.db_label(), Stage::Backup, &error);
            outbox.finished(None, report.clone());
            report
        }
    };
    if let Some(s) = state {
        s.run_finished(match report.status {
            Status::Success => Ok((report.duration, report.size.unwrap_or(0))),
            Status::Failure => Err(report.error.clone().unwrap_or_default()),
        });
    }
    report
}

/// Notifications in flight. They run in the background so a slow receiver never delays a
/// backup or the schedule; each is bounded by the notifier's own limits, and all are
/// awaited before dbstash exits.
pub struct Outbox {
    notifier: Notifier,
    pending: JoinSet<()>,
}

impl Outbox {
    pub fn new(notifier: Notifier) -> Outbox {
        Outbox {
            notifier,
            pending: JoinSet::new(),
        }
    }

    /// The start ping, sent in the background; the run's result waits for it, so pings
    /// arrive in order.
    fn started(&mut self) -> tokio::task::JoinHandle<()> {
        let notifier = self.notifier.clone();
        tokio::spawn(async move { notifier.started().await })
    }

    /// The run is over: its notifications go out. A start ping still unanswered by now is
    /// abandoned, so the end of the run is announced within the notifier's bound (33 s) of
    /// its end, not after the start ping's 33 s and then its own.
    pub fn finished(&mut self, start: Option<tokio::task::JoinHandle<()>>, report: Report) {
        while self.pending.try_join_next().is_some() {}
        if let Some(start) = &start {
            start.abort();
        }
        let notifier = self.notifier.clone();
        self.pending.spawn(async move {
            if let Some(start) = start {
                let _ = start.await;
            }
            notifier.finished(&report).await;
        });
    }

    /// Wait for every notification still in flight.
    pub async fn flush(&mut self) {
        while self.pending.join_next().await.is_some() {}
    }
}

/// Signal handling and the notification channels, before anything runs.
fn setup(cfg: &Config) -> anyhow::Result<(Shutdown, Notifier)> {
    Ok((Shutdown::new()?, Notifier::new(&cfg.notify)?))
}

enum Locked {
    /// Ours for the run (`None` with BACKUP_LOCK=false: nothing to hold).
    Taken(Option<lock::LockGuard>),
    /// Another process holds it; who, when known.
    Busy { holder: Option<String> },
}

fn locked(cfg: &Config) -> anyhow::Result<Locked> {
    if !cfg.lock {
        return Ok(Locked::Taken(None));
    }
    Ok(match lock::try_acquire(&cfg.lock_file)? {
        lock::Acquired::Held(guard) => Locked::Taken(Some(guard)),
        lock::Acquired::Busy { holder } => Locked::Busy { holder },
    })
}

/// A lock path that can never work (a FIFO, a symlink, a directory) is a configuration error:
/// exit 2 before anything runs.
fn check_lock_path(cfg: &Config) -> Result<(), ExitCode> {
    if !cfg.lock {
        return Ok(());
    }
    lock::check_path(&cfg.lock_file).map_err(|e| {
        error!("invalid configuration: {e:#}");
        ExitCode::from(EXIT_BAD_CONFIG)
    })
}

/// `BACKUP_SCHEDULE=once`: one backup, then exit 0 or 1. No health server.
pub async fn run_single(cfg: &Config) -> ExitCode {
    if let Err(code) = check_lock_path(cfg) {
        return code;
    }
    let (mut shutdown, notifier) = match setup(cfg) {
        Ok(s) => s,
        Err(e) => {
            error!("{e:#}");
            return ExitCode::from(EXIT_BACKUP_FAILED);
        }
    };
    let mut outbox = Outbox::new(notifier);
    let report = attempt(cfg, &mut shutdown, None, &mut outbox).await;
    outbox.flush().await;
    match report.status {
        Status::Success => ExitCode::SUCCESS,
        // A skipped one-off made no backup: the caller (a CronJob, CI) must know.
        Status::Failure => ExitCode::from(EXIT_BACKUP_FAILED),
    }
}

/// The next time `cron` fires strictly after `after`, evaluated in `tz` (DST-aware).
pub fn next_run(cron: &croner::Cron, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cron.find_next_occurrence(&after.with_timezone(&tz), false)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Sleep until a wall-clock instant; re-checks the clock so a suspended machine or a clock
/// change cannot make a run late by more than a few seconds.
async fn sleep_until(at: DateTime<Utc>) {
    loop {
        let left = (at - Utc::now()).to_std().unwrap_or_default();
        if left.is_zero() {
            return;
        }
        tokio::time::sleep(left.min(std::time::Duration::from_secs(30))).await;
    }
}

/// Daemon mode: serve /healthz and /metrics, optionally back up at start, then on schedule.
/// SIGTERM/SIGINT while idle exit 0; during a backup the backup is stopped and cleaned up,
/// and the exit is 1.
pub async fn run_daemon(cfg: &Config, cron: &croner::Cron, expr: &str) -> ExitCode {
    if let Err(code) = check_lock_path(cfg) {
        return code;
    }
    let (mut shutdown, notifier) = match setup(cfg) {
        Ok(s) => s,
        Err(e) => {
            error!("{e:#}");
            return ExitCode::from(EXIT_BACKUP_FAILED);
        }
    };
    // A daemon's first run may be hours away: what a killed run left goes now.
    sweep_work_dirs(cfg);
    let mut outbox = Outbox::new(notifier);
    let code = daemon_loop(cfg, cron, expr, &mut shutdown, &mut outbox).await;
    outbox.flush().await;
    code
}

/// Work dirs in BACKUP_TEMP_DIR of this configuration's runs that were killed (directory
/// and tar modes); each run also sweeps before it creates its own.
fn sweep_work_dirs(cfg: &Config) {
    if cfg.mode == crate::config::BackupMode::Stream {
        return;
    }
    for stale in crate::pipeline::workdir::remove_stale(cfg) {
        warn!(work_dir = %stale.display(), "removed the work dir of an earlier run that was killed");
    }
}

async fn daemon_loop(
    cfg: &Config,
    cron: &croner::Cron,
    expr: &str,
    shutdown: &mut Shutdown,
    outbox: &mut Outbox,
) -> ExitCode {
    let state = health::State::new(cfg.health_max_age, cfg.engine.key(), cfg.db_label());
    // Its own thread and runtime, with connection limits: see health::server.
    let addr = match health::server::start(
        cfg.health_addr,
        health::router(state.clone()),
        health::server::Limits::for_this_process(),
        state.http_stats(),
    )
    .await
    {
        Ok(a) => a.to_string(),
        Err(e) => {
            error!(addr = %cfg.health_addr, "cannot serve the health endpoint (HEALTH_ADDR): {e}");
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    info!(engine = cfg.engine.key(), database = cfg.db_label(), schedule = expr, tz = cfg.tz.name(), health = %addr, "dbstash started");

    // `dbstash check` at start: a configuration that cannot work is reported now, not at the
    // first scheduled run hours later. The daemon keeps running (the database may come up
    // later); /healthz answers 503 until a backup succeeds. It can take a minute (a remote or
    // a database that never answers): a run due meanwhile starts when it is over, late rather
    // than skipped.
    let started = Utc::now();
    tokio::select! {
        sig = shutdown.recv() => {
            info!("{sig} received during the start-up check: exiting");
            return ExitCode::SUCCESS;
        }
        checked = check::preflight(cfg) => match checked {
            Ok(()) => info!(
                engine = cfg.engine.key(),
                database = cfg.db_label(),
                "preflight passed: dump tool, rclone, remote and database login ok"
            ),
            Err(reason) => {
                error!(
                    engine = cfg.engine.key(),
                    database = cfg.db_label(),
                    error = %reason,
                    "preflight failed: backups will fail until this is fixed (see `dbstash check`)"
                );
                state.preflight_failed(reason.clone());
                let report = Report::failed(cfg.engine.key(), cfg.db_label(), Stage::Preflight, &reason);
                outbox.finished(None, report);
            }
        }
    }

    let mut after = started;
    if cfg.on_start {
        attempt(cfg, shutdown, Some(&state), outbox).await;
        if shutdown.received.is_some() {
            return ExitCode::from(EXIT_BACKUP_FAILED);
        }
        after = warn_missed(cfg, cron, after);
    }
    loop {
        let Some(next) = next_run(cron, cfg.tz, after) else {
            error!(schedule = expr, "the schedule has no future run: exiting");
            return ExitCode::from(EXIT_BAD_CONFIG);
        };
        state.update(|s| s.next_run = Some(next));
        info!(
            engine = cfg.engine.key(),
            database = cfg.db_label(),
            next_run = %next.with_timezone(&cfg.tz).to_rfc3339(),
            "next backup scheduled"
        );
        tokio::select! {
            sig = shutdown.recv() => {
                info!("{sig} received while idle: exiting");
                return ExitCode::SUCCESS;
            }
            _ = sleep_until(next) => {}
        }
        attempt(cfg, shutdown, Some(&state), outbox).await;
        if let Some(sig) = shutdown.received {
            warn!("{sig} received during the backup: stopped it and exiting");
            return ExitCode::from(EXIT_BACKUP_FAILED);
        }
        after = warn_missed(cfg, cron, next);
    }
}

/// Runs whose time passed while a backup (started at `since`) was still going are skipped,
/// not queued; say so. Returns now, the point to schedule from.
fn warn_missed(cfg: &Config, cron: &croner::Cron, since: DateTime<Utc>) -> DateTime<Utc> {
    let now = Utc::now();
    let missed = count_between(cron, cfg.tz, since, now);
    if missed > 0 {
        warn!(
            engine = cfg.engine.key(),
            database = cfg.db_label(),
            missed,
            "scheduled runs skipped: the previous backup was still running"
        );
    }
    now
}

/// Occurrences in `(from, to]`, counted up to 1000.
fn count_between(cron: &croner::Cron, tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> u32 {
    let mut n = 0;
    let mut t = from;
    while let Some(next) = next_run(cron, tz, t).filter(|x| *x <= to) {
        n += 1;
        t = next;
        if n >= 1000 {
            break;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn cron(expr: &str) -> croner::Cron {
        crate::config::parse_cron(expr).unwrap()
    }

    /// (expression, zone, after, expected next) — local wall-clock times across DST changes.
    #[test]
    fn next_occurrence_table() {
        let cases = [
            // Berlin, spring forward 2026-03-29 02:00 → 03:00: 02:30 does not exist that day.
            (
                "30 2 * * *",
                Tz::Europe__Berlin,
                "2026-03-28T12:00:00Z",
                "2026-03-29T03:00:00+02:00",
            ),
            (
                "30 2 * * *",
                Tz::Europe__Berlin,
                "2026-03-29T12:00:00Z",
                "2026-03-30T02:30:00+02:00",
            ),
            // Berlin, fall back 2026-10-25 03:00 → 02:00: 02:30 happens once.
            (
                "30 2 * * *",
                Tz::Europe__Berlin,
                "2026-10-24T12:00:00Z",
                "2026-10-25T02:30:00+02:00",
            ),
            (
                "30 2 * * *",
                Tz::Europe__Berlin,
                "2026-10-25T00:31:00Z",
                "2026-10-26T02:30:00+01:00",
            ),
            // Before and after the change, 02:00 daily keeps local time: 01:00Z then 00:00Z… in UTC.
            (
                "0 3 * * *",
                Tz::Europe__Berlin,
                "2026-03-28T03:00:00Z",
                "2026-03-29T03:00:00+02:00",
            ),
            // New York, spring forward 2026-03-08 02:00 → 03:00.
            (
                "30 2 * * *",
                Tz::America__New_York,
                "2026-03-07T12:00:00Z",
                "2026-03-08T03:00:00-04:00",
            ),
            (
                "0 2 * * *",
                Tz::America__New_York,
                "2026-03-08T12:00:00Z",
                "2026-03-09T02:00:00-04:00",
            ),
            // New York, fall back 2026-11-01 02:00 → 01:00: 01:30 happens once.
            (
                "30 1 * * *",
                Tz::America__New_York,
                "2026-10-31T12:00:00Z",
                "2026-11-01T01:30:00-04:00",
            ),
            (
                "30 1 * * *",
                Tz::America__New_York,
                "2026-11-01T05:31:00Z",
                "2026-11-02T01:30:00-05:00",
            ),
            // UTC, every 6 hours, and a 6-field every-2-seconds schedule.
            (
                "0 */6 * * *",
                Tz::UTC,
                "2026-02-07T07:00:00Z",
                "2026-02-07T12:00:00+00:00",
            ),
            (
                "*/2 * * * * *",
                Tz::UTC,
                "2026-02-07T07:00:01Z",
                "2026-02-07T07:00:02+00:00",
            ),
            (
                "@daily",
                Tz::Asia__Kolkata,
                "2026-02-07T07:00:00Z",
                "2026-02-08T00:00:00+05:30",
            ),
            // Day of month OR day of week, like standard cron.
            (
                "0 0 13 * 5",
                Tz::UTC,
                "2026-02-07T00:00:00Z",
                "2026-02-13T00:00:00+00:00",
            ),
        ];
        for (expr, tz, after, want) in cases {
            let got = next_run(&cron(expr), tz, utc(after)).unwrap();
            assert_eq!(
                got,
                utc(want),
                "{expr} in {tz} after {after}: got {}",
                got.with_timezone(&tz)
            );
        }
    }

    #[test]
    fn missed_runs_are_counted_between_two_instants() {
        let every_minute = cron("* * * * *");
        let from = utc("2026-02-07T07:00:00Z");
        assert_eq!(
            count_between(&every_minute, Tz::UTC, from, utc("2026-02-07T07:00:59Z")),
            0
        );
        assert_eq!(
            count_between(&every_minute, Tz::UTC, from, utc("2026-02-07T07:03:00Z")),
            3
        );
        assert_eq!(
            count_between(
                &cron("0 2 * * *"),
                Tz::UTC,
                from,
                utc("2026-03-07T07:00:00Z")
            ),
            28
        );
        assert_eq!(
            count_between(
                &cron("*/2 * * * * *"),
                Tz::UTC,
                from,
                utc("2026-02-08T07:00:00Z")
            ),
            1000
        );
    }

    #[test]
    fn five_and_six_fields() {
        let after = Utc.with_ymd_and_hms(2026, 2, 7, 7, 0, 0).unwrap();
        // 5 fields: minute resolution, second 0.
        assert_eq!(
            next_run(&cron("*/5 * * * *"), Tz::UTC, after).unwrap(),
            utc("2026-02-07T07:05:00Z")
        );
        // 6 fields: the first is seconds.
        assert_eq!(
            next_run(&cron("30 */5 * * * *"), Tz::UTC, after).unwrap(),
            utc("2026-02-07T07:00:30Z")
        );
        for bad in [
            "* * * *",
            "0 0 0 0 0 0 0",
            "60 * * * *",
            "* * 32 * *",
            "@sometimes",
        ] {
            assert!(crate::config::parse_cron(bad).is_err(), "{bad}");
        }
    }
}
