//! Daemon state and its HTTP face: `/healthz` (200 while the last backup succeeded or none has
//! run yet; 503 after a failure, after a failed start-up check until a backup succeeds, when
//! no success happened within HEALTH_MAX_AGE, or after [`SKIPS_UNHEALTHY`] runs in a row found
//! the lock held) and `/metrics` in Prometheus text format. The listener and its limits:
//! [`server`].

pub mod server;

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use serde_json::json;

#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    pub started: Option<DateTime<Utc>>,
    pub last_run: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_failed: bool,
    pub next_run: Option<DateTime<Utc>>,
    pub last_duration: Option<Duration>,
    pub last_bytes: Option<u64>,
    pub successes: u64,
    pub failures: u64,
    pub running: bool,
    /// Why the start-up check failed; cleared by the next successful backup.
    pub preflight_error: Option<String>,
    /// Runs skipped because another process held the lock: in all, and since the last run
    /// that took it.
    pub skips: u64,
    pub consecutive_skips: u32,
    pub last_skip: Option<DateTime<Utc>>,
    /// Why the last run was skipped (who holds the lock, when known); cleared by a run.
    pub skip_reason: Option<String>,
    /// VERIFY_AFTER_BACKUP: backups verified, and verifications that failed.
    pub verifications_ok: u64,
    pub verifications_failed: u64,
}

/// Runs in a row that found the lock held before `/healthz` turns 503 (`skipping`): one or two
/// can be a manual run or a slow neighbour; three mean no backup is being taken.
pub const SKIPS_UNHEALTHY: u32 = 3;

/// Shared between the scheduler (writer) and the HTTP handlers (readers).
#[derive(Clone)]
pub struct State {
    inner: Arc<Mutex<Snapshot>>,
    max_age: Option<Duration>,
    labels: String,
    http: Arc<server::Stats>,
}

impl State {
    pub fn new(max_age: Option<Duration>, engine: &str, database: &str) -> State {
        let snapshot = Snapshot {
            started: Some(Utc::now()),
            ..Snapshot::default()
        };
        State {
            inner: Arc::new(Mutex::new(snapshot)),
            max_age,
            labels: format!(
                "engine=\"{}\",database=\"{}\"",
                escape_label(engine),
                escape_label(database)
            ),
            http: Arc::default(),
        }
    }

    /// The listener's counters, shown in `/metrics`.
    pub fn http_stats(&self) -> Arc<server::Stats> {
        self.http.clone()
    }

    pub fn update(&self, f: impl FnOnce(&mut Snapshot)) {
        let mut s = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut s);
    }

    pub fn snapshot(&self) -> Snapshot {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// A run took the lock and starts: the skip streak is over.
    pub fn run_started(&self) {
        self.update(|s| {
            s.running = true;
            s.last_run = Some(Utc::now());
            s.consecutive_skips = 0;
            s.skip_reason = None;
        });
    }

    /// A run was skipped: another process holds the lock. `reason` says who, when known.
    pub fn run_skipped(&self, reason: String) {
        self.update(|s| {
            s.skips += 1;
            s.consecutive_skips = s.consecutive_skips.saturating_add(1);
            s.last_skip = Some(Utc::now());
            s.skip_reason = Some(reason);
        });
    }

    /// The start-up check failed: unhealthy, with `reason`, until a backup succeeds (the
    /// database may come up later).
    pub fn preflight_failed(&self, reason: String) {
        self.update(|s| s.preflight_error = Some(reason));
    }

    /// VERIFY_AFTER_BACKUP verified the run's backup (`ok`), or found it not restorable.
    /// The run's own result ([`State::run_finished`]) counts the failure for `/healthz`.
    pub fn verified(&self, ok: bool) {
        self.update(|s| {
            if ok {
                s.verifications_ok += 1;
            } else {
                s.verifications_failed += 1;
            }
        });
    }

    /// A run ended (or could not start: taking the lock failed).
    pub fn run_finished(&self, result: Result<(Duration, u64), String>) {
        self.update(|s| {
            s.running = false;
            s.consecutive_skips = 0;
            s.skip_reason = None;
            match result {
                Ok((duration, bytes)) => {
                    s.successes += 1;
                    s.last_failed = false;
                    s.preflight_error = None;
                    s.last_success = Some(Utc::now());
                    s.last_duration = Some(duration);
                    s.last_bytes = Some(bytes);
                    s.last_error = None;
                }
                Err(e) => {
                    s.failures += 1;
                    s.last_failed = true;
                    s.last_error = Some(e);
                }
            }
        });
    }

    /// HTTP status and a small JSON body.
    pub fn health(&self, now: DateTime<Utc>) -> (StatusCode, String) {
        let s = self.snapshot();
        let stale = self.max_age.is_some_and(|max| {
            let since = s.last_success.or(s.started).unwrap_or(now);
            (now - since).to_std().unwrap_or_default() > max
        });
        let (code, status) = if s.consecutive_skips >= SKIPS_UNHEALTHY {
            (StatusCode::SERVICE_UNAVAILABLE, "skipping")
        } else if s.last_failed {
            (StatusCode::SERVICE_UNAVAILABLE, "failing")
        } else if s.preflight_error.is_some() {
            (StatusCode::SERVICE_UNAVAILABLE, "preflight_failed")
        } else if stale {
            (StatusCode::SERVICE_UNAVAILABLE, "stale")
        } else {
            (StatusCode::OK, "ok")
        };
        let rfc = |t: Option<DateTime<Utc>>| {
            t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        };
        let body = json!({
            "status": status,
            "running": s.running,
            "last_run": rfc(s.last_run),
            "last_success": rfc(s.last_success),
            "last_error": s.last_error,
            "preflight_error": s.preflight_error,
            "next_run": rfc(s.next_run),
            "last_skip": rfc(s.last_skip),
            "consecutive_skips": s.consecutive_skips,
            "skip_reason": s.skip_reason,
        });
        // Everything in it was redacted when stored; once more, for whatever is added later.
        (code, crate::redact::redact(&body.to_string()))
    }

    pub fn metrics(&self) -> String {
        let s = self.snapshot();
        let l = &self.labels;
        let ts = |t: Option<DateTime<Utc>>| t.map_or(0.0, |t| t.timestamp_millis() as f64 / 1000.0);
        let mut out = String::new();
        let mut gauge = |name: &str, help: &str, kind: &str, lines: &[(String, f64)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, v) in lines {
                let _ = writeln!(out, "{name}{{{labels}}} {v}");
            }
        };
        gauge(
            "dbstash_last_success_timestamp_seconds",
            "Unix time of the last successful backup (0: none yet).",
            "gauge",
            &[(l.clone(), ts(s.last_success))],
        );
        gauge(
            "dbstash_last_duration_seconds",
            "Duration of the last successful backup.",
            "gauge",
            &[(l.clone(), s.last_duration.map_or(0.0, |d| d.as_secs_f64()))],
        );
        gauge(
            "dbstash_last_size_bytes",
            "Size of the last successful backup.",
            "gauge",
            &[(l.clone(), s.last_bytes.unwrap_or(0) as f64)],
        );
        gauge(
            "dbstash_backups_total",
            "Backups run, by result.",
            "counter",
            &[
                (format!("{l},result=\"success\""), s.successes as f64),
                (format!("{l},result=\"failure\""), s.failures as f64),
                (format!("{l},result=\"skipped\""), s.skips as f64),
            ],
        );
        gauge(
            "dbstash_verifications_total",
            "Backups verified after writing them (VERIFY_AFTER_BACKUP), by result: a failure means the backup is not restorable as it is.",
            "counter",
            &[
                (format!("{l},result=\"success\""), s.verifications_ok as f64),
                (format!("{l},result=\"failure\""), s.verifications_failed as f64),
            ],
        );
        gauge(
            "dbstash_consecutive_skips",
            "Runs skipped in a row because another process held the lock (0 after a run).",
            "gauge",
            &[(l.clone(), f64::from(s.consecutive_skips))],
        );
        gauge(
            "dbstash_last_skip_timestamp_seconds",
            "Unix time of the last run skipped for the lock (0: none).",
            "gauge",
            &[(l.clone(), ts(s.last_skip))],
        );
        gauge(
            "dbstash_backup_running",
            "1 while a backup is running.",
            "gauge",
            &[(l.clone(), if s.running { 1.0 } else { 0.0 })],
        );
        gauge(
            "dbstash_next_run_timestamp_seconds",
            "Unix time of the next scheduled backup.",
            "gauge",
            &[(l.clone(), ts(s.next_run))],
        );
        let http = &self.http;
        let n = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed) as f64;
        gauge(
            "dbstash_http_connections",
            "Connections open to this endpoint.",
            "gauge",
            &[(l.clone(), n(&http.open))],
        );
        gauge(
            "dbstash_http_connections_closed_total",
            "Connections closed by a limit: evicted for a newer one (the cap), no request head in time, or too old.",
            "counter",
            &[
                (format!("{l},reason=\"evicted\""), n(&http.evicted)),
                (format!("{l},reason=\"header_timeout\""), n(&http.header_timeouts)),
                (format!("{l},reason=\"lifetime\""), n(&http.lifetime_ends)),
            ],
        );
        out
    }
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

pub fn router(state: State) -> Router {
    let h = state.clone();
    Router::new()
        .route(
            "/healthz",
            get(move || {
                let h = h.clone();
                async move {
                    let (code, body) = h.health(Utc::now());
                    (code, [(header::CONTENT_TYPE, "application/json")], body).into_response()
                }
            }),
        )
        .route(
            "/metrics",
            get(move || {
                let m = state.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                        m.metrics(),
                    )
                        .into_response()
                }
            }),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_follows_the_last_run_and_max_age() {
        let st = State::new(Some(Duration::from_secs(3600)), "pg", "app");
        let now = Utc::now();
        assert_eq!(st.health(now).0, StatusCode::OK, "nothing run yet");
        st.run_started();
        st.run_finished(Err("pg_dump exited with status 1".into()));
        let (code, body) = st.health(now);
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            body.contains("\"status\":\"failing\"") && body.contains("pg_dump exited"),
            "{body}"
        );
        st.run_started();
        st.run_finished(Ok((Duration::from_secs(2), 1234)));
        assert_eq!(st.health(Utc::now()).0, StatusCode::OK);
        let (code, body) = st.health(Utc::now() + chrono::Duration::hours(2));
        assert_eq!(
            code,
            StatusCode::SERVICE_UNAVAILABLE,
            "no success within max age"
        );
        assert!(body.contains("\"status\":\"stale\""), "{body}");
    }

    #[test]
    fn a_failed_preflight_is_503_until_a_backup_succeeds() {
        let st = State::new(None, "pg", "app");
        st.preflight_failed("database: psql exited with status 2".into());
        let (code, body) = st.health(Utc::now());
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["status"], "preflight_failed");
        assert_eq!(
            json["preflight_error"],
            "database: psql exited with status 2"
        );
        // A failed backup keeps it unhealthy; only a success clears the preflight's verdict.
        st.run_started();
        st.run_finished(Err("pg_dump exited with status 1".into()));
        assert_eq!(st.health(Utc::now()).0, StatusCode::SERVICE_UNAVAILABLE);
        st.run_started();
        st.run_finished(Ok((Duration::from_secs(1), 10)));
        let (code, body) = st.health(Utc::now());
        assert_eq!(code, StatusCode::OK, "{body}");
        assert!(body.contains("\"preflight_error\":null"), "{body}");
    }

    #[test]
    fn repeated_skips_turn_503_until_a_run_takes_the_lock() {
        let st = State::new(None, "pg", "app");
        let why = "backup skipped: another run still holds the lock (held by pid 42 (flock))";
        for n in 1..SKIPS_UNHEALTHY {
            st.run_skipped(why.into());
            let (code, body) = st.health(Utc::now());
            assert_eq!(code, StatusCode::OK, "{n} skip(s) only: {body}");
            let json: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(json["consecutive_skips"], n);
            assert!(json["last_skip"].is_string(), "{body}");
        }
        st.run_skipped(why.into());
        let (code, body) = st.health(Utc::now());
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["status"], "skipping");
        assert_eq!(json["skip_reason"], why);
        let m = st.metrics();
        assert!(
            m.contains(
                "dbstash_backups_total{engine=\"pg\",database=\"app\",result=\"skipped\"} 3\n"
            ),
            "{m}"
        );
        assert!(
            m.contains("dbstash_consecutive_skips{engine=\"pg\",database=\"app\"} 3\n"),
            "{m}"
        );
        // A run that takes the lock ends the streak, whatever its result.
        st.run_started();
        st.run_finished(Ok((Duration::from_secs(1), 10)));
        let (code, body) = st.health(Utc::now());
        assert_eq!(code, StatusCode::OK, "{body}");
        assert!(body.contains("\"skip_reason\":null"), "{body}");
        assert!(
            st.metrics().contains("result=\"skipped\"} 3\n"),
            "the total stays"
        );
    }

    #[test]
    fn metrics_are_prometheus_text() {
        let st = State::new(None, "pg", "a\"b");
        st.run_started();
        st.run_finished(Ok((Duration::from_millis(1500), 42)));
        let m = st.metrics();
        assert!(
            m.contains("dbstash_last_size_bytes{engine=\"pg\",database=\"a\\\"b\"} 42\n"),
            "{m}"
        );
        assert!(
            m.contains(
                "dbstash_backups_total{engine=\"pg\",database=\"a\\\"b\",result=\"success\"} 1\n"
            ),
            "{m}"
        );
        assert!(
            m.contains("dbstash_last_duration_seconds{engine=\"pg\",database=\"a\\\"b\"} 1.5\n"),
            "{m}"
        );
        assert!(m.contains("# TYPE dbstash_backups_total counter"), "{m}");
    }

    #[test]
    fn verifications_are_counted_by_result() {
        let st = State::new(None, "pg", "app");
        st.verified(true);
        st.verified(true);
        st.verified(false);
        let m = st.metrics();
        assert!(
            m.contains("# TYPE dbstash_verifications_total counter"),
            "{m}"
        );
        assert!(
            m.contains("dbstash_verifications_total{engine=\"pg\",database=\"app\",result=\"success\"} 2\n"),
            "{m}"
        );
        assert!(
            m.contains("dbstash_verifications_total{engine=\"pg\",database=\"app\",result=\"failure\"} 1\n"),
            "{m}"
        );
    }
}
