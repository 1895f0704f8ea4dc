//! Telling people how a run went: a webhook (Slack, Discord or generic JSON), email over
//! SMTP, and a ping URL. Delivery is bounded and never fails a backup.
//!
//! Every channel gets [`delivery::Policy::DEFAULT`]: 10 s per attempt, 3 attempts, 1 s and
//! 2 s between them, so one channel gives up after at most 33 s. The channels of one event
//! are sent concurrently, so [`Notifier::finished`] returns within that bound too, whatever
//! the receivers do. A notification that cannot be delivered is a warning naming the channel
//! and the receiver's scheme and host (webhook and ping URLs are secrets: their paths hold
//! tokens), never an error of the backup.

pub mod delivery;
pub mod email;
pub mod ping;
pub mod settings;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use tracing::warn;

use crate::report::{Report, Stage, Status};
use delivery::Policy;
use settings::{NotifyOn, NotifySettings};

/// The configured channels, ready to send. Cheap to clone, so the daemon can send from a
/// background task without blocking its schedule.
#[derive(Clone)]
pub struct Notifier {
    inner: Arc<Inner>,
}

struct Inner {
    on: NotifyOn,
    policy: Policy,
    /// One HTTP client for the webhook and the ping URL, built once. An error (no CA
    /// certificates on this system, say) is kept and reported with each delivery, rather
    /// than failing the backup that would have been announced.
    http: Result<reqwest::Client, String>,
    webhook: Option<webhook::Sender>,
    email: Option<email::Mailer>,
    ping: Option<ping::Pinger>,
}

impl Notifier {
    pub fn new(settings: &NotifySettings) -> anyhow::Result<Notifier> {
        let policy = Policy::DEFAULT;
        let webhook = settings
            .webhook
            .as_ref()
            .map(webhook::Sender::new)
            .transpose()?;
        let ping = settings.ping.as_ref().map(ping::Pinger::new).transpose()?;
        let email = settings
            .email
            .as_ref()
            .map(email::Mailer::new)
            .transpose()?;
        let http = if webhook.is_some() || ping.is_some() {
            http_client(policy)
        } else {
            Err("no HTTP channel configured".into())
        };
        Ok(Notifier {
            inner: Arc::new(Inner {
                on: settings.on,
                policy,
                http,
                webhook,
                email,
                ping,
            }),
        })
    }

    /// A run is starting: `NOTIFY_PING_URL/start`.
    pub async fn started(&self) {
        let i = &self.inner;
        if let Some(p) = &i.ping {
            p.send(&i.http, i.policy, ping::Event::Start).await;
        }
    }

    /// A run is over: the webhook and email when NOTIFY_ON wants this outcome, and the ping
    /// URL (success or `/fail`) always. Returns within [`Policy::bound`] (33 s).
    pub async fn finished(&self, report: &Report) {
        let i = &self.inner;
        let wanted = i.on.wants(report.status == Status::Success);
        let webhook = async {
            if let (true, Some(w)) = (wanted, &i.webhook) {
                w.send(&i.http, i.policy, report).await;
            }
        };
        let email = async {
            if let (true, Some(m)) = (wanted, &i.email) {
                m.send(i.policy, report).await;
            }
        };
        let ping = async {
            if let Some(p) = &i.ping {
                p.send(&i.http, i.policy, ping::Event::Finished(report))
                    .await;
            }
        };
        tokio::join!(webhook, email, ping);
    }
}

/// The HTTP client for webhooks and pings. On a system without CA certificates (an image
/// `FROM scratch`, say) it is built without any, with a warning: `http://` receivers still
/// work, and `https://` ones fail their TLS handshake with a warning each.
fn http_client(policy: Policy) -> Result<reqwest::Client, String> {
    let builder = || {
        reqwest::Client::builder()
            .user_agent(format!("dbstash/{}", crate::VERSION))
            .connect_timeout(policy.timeout)
            .timeout(policy.timeout)
            // A redirect would turn the webhook's POST into a GET, and could send the ping's
            // token elsewhere: a 3xx is reported instead.
            .redirect(reqwest::redirect::Policy::none())
    };
    match builder().build() {
        Ok(client) => Ok(client),
        Err(e) => {
            warn!(
                "notifications: no usable CA certificates ({}): HTTPS webhooks and ping URLs will fail (install ca-certificates)",
                delivery::http_error(e)
            );
            builder()
                .tls_certs_only(Vec::new())
                .build()
                .map_err(delivery::http_error)
        }
    }
}

// ------------------------------------------------------------------ facts, for every format

/// "Backup succeeded", "Backup failed", "Pre-backup hook failed", … for titles.
pub fn outcome(report: &Report) -> &'static str {
    match (report.status, report.stage) {
        (Status::Success, _) => "Backup succeeded",
        (Status::Failure, Stage::Backup) => "Backup failed",
        (Status::Failure, Stage::PreHook) => "Backup failed in the pre-backup hook",
        (Status::Failure, Stage::Preflight) => "Preflight check failed",
        (Status::Failure, Stage::Skipped) => "Backup skipped",
        (Status::Failure, Stage::Verify) => "Backup verification failed",
    }
}

/// "postgres app on db-1": what the notification is about.
pub fn subject_line(report: &Report) -> String {
    format!("{} {} on {}", report.engine, report.database, report.host)
}

/// 1536 → "1.5 KiB"; exact below 1 KiB.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// 4.2 s → "4.2s", 65 s → "1m 05s", 2 h 3 m → "2h 03m 00s".
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 60 {
        return format!("{:.1}s", d.as_secs_f64());
    }
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}h {m:02}m {s:02}s")
    } else {
        format!("{m}m {s:02}s")
    }
}

/// The start time as RFC 3339 in UTC, to the second.
pub fn started_at(report: &Report) -> String {
    report
        .started_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The size as "12.3 MiB (12912345 bytes)", or `None`.
pub fn size_text(report: &Report) -> Option<String> {
    report
        .size
        .map(|b| format!("{} ({b} bytes)", human_size(b)))
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;
    use chrono::TimeZone as _;

    pub fn success() -> Report {
        Report {
            status: Status::Success,
            stage: Stage::Backup,
            engine: "postgres".into(),
            database: "app".into(),
            file: Some("s3:backups/pg/app-2026-11-24T020000Z.sql.gz".into()),
            size: Some(12_912_345),
            sha256: Some("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into()),
            backup_id: Some("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d".into()),
            started_at: Utc.with_ymd_and_hms(2026, 11, 24, 2, 0, 0).unwrap(),
            duration: Duration::from_millis(65_250),
            host: "db-1".into(),
            error: None,
        }
    }

    pub fn failure() -> Report {
        Report {
            status: Status::Failure,
            size: None,
            sha256: None,
            duration: Duration::from_millis(4_200),
            error: Some(
                "pg_dump exited with status 1:\n  pg_dump: error: connection to server failed: <fatal> & \"app\""
                    .into(),
            ),
            ..success()
        }
    }

    use chrono::Utc;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_units() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(12_912_345), "12.3 MiB");
        assert_eq!(human_size(5 << 40), "5.0 TiB");
        assert_eq!(human_duration(Duration::from_millis(4_200)), "4.2s");
        assert_eq!(human_duration(Duration::from_secs(65)), "1m 05s");
        assert_eq!(human_duration(Duration::from_secs(7_380)), "2h 03m 00s");
    }

    #[test]
    fn titles_name_the_stage() {
        let mut r = fixtures::failure();
        assert_eq!(outcome(&r), "Backup failed");
        r.stage = Stage::Skipped;
        assert_eq!(outcome(&r), "Backup skipped");
        assert_eq!(outcome(&fixtures::success()), "Backup succeeded");
        assert_eq!(subject_line(&r), "postgres app on db-1");
        assert_eq!(started_at(&r), "2026-11-24T02:00:00Z");
    }
}
