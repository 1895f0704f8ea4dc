//! The notification flags ([`NotifyArgs`]), as clap reads them: webhook, email (SMTP) and
//! ping, each an optional string validated in the parent module.

use clap::Args;

#[derive(Debug, Default, Clone, Args)]
pub struct NotifyArgs {
    /// Webhook to notify: Slack, Discord, or any URL taking a JSON POST
    #[arg(
        long,
        env = "NOTIFY_WEBHOOK_URL",
        hide_env_values = true,
        global = true,
        value_name = "URL",
        help_heading = "Notifications"
    )]
    pub notify_webhook_url: Option<String>,
    /// Payload shape: auto (Slack for hooks.slack.com, Discord for /api/webhooks/ paths, JSON otherwise), slack, discord or json [default: auto]
    #[arg(
        long,
        env = "NOTIFY_WEBHOOK_FORMAT",
        hide_env_values = true,
        global = true,
        value_name = "FORMAT",
        help_heading = "Notifications"
    )]
    pub notify_webhook_format: Option<String>,
    /// When the webhook and email are sent: always, failure or success [default: failure]
    #[arg(
        long,
        env = "NOTIFY_ON",
        hide_env_values = true,
        global = true,
        value_name = "WHEN",
        help_heading = "Notifications"
    )]
    pub notify_on: Option<String>,
    /// Email recipients, comma-separated (needs NOTIFY_EMAIL_FROM and SMTP_HOST)
    #[arg(
        long,
        env = "NOTIFY_EMAIL_TO",
        hide_env_values = true,
        global = true,
        value_name = "ADDRS",
        help_heading = "Notifications"
    )]
    pub notify_email_to: Option<String>,
    /// Sender address of notification emails
    #[arg(
        long,
        env = "NOTIFY_EMAIL_FROM",
        hide_env_values = true,
        global = true,
        value_name = "ADDR",
        help_heading = "Notifications"
    )]
    pub notify_email_from: Option<String>,
    /// SMTP server host for notification emails
    #[arg(
        long,
        env = "SMTP_HOST",
        hide_env_values = true,
        global = true,
        value_name = "HOST",
        help_heading = "Notifications"
    )]
    pub smtp_host: Option<String>,
    /// SMTP port [default: 587 with starttls, 465 with tls, 25 with none]
    #[arg(
        long,
        env = "SMTP_PORT",
        hide_env_values = true,
        global = true,
        value_name = "PORT",
        help_heading = "Notifications"
    )]
    pub smtp_port: Option<String>,
    /// SMTP user name (with SMTP_PASSWORD or SMTP_PASSWORD_FILE)
    #[arg(
        long,
        env = "SMTP_USER",
        hide_env_values = true,
        global = true,
        value_name = "USER",
        help_heading = "Notifications"
    )]
    pub smtp_user: Option<String>,
    /// SMTP password (prefer SMTP_PASSWORD_FILE)
    #[arg(
        long,
        env = "SMTP_PASSWORD",
        hide_env_values = true,
        global = true,
        value_name = "PASSWORD",
        help_heading = "Notifications"
    )]
    pub smtp_password: Option<String>,
    /// File holding the SMTP password (Docker secrets); wins over SMTP_PASSWORD
    #[arg(
        long,
        env = "SMTP_PASSWORD_FILE",
        hide_env_values = true,
        global = true,
        value_name = "PATH",
        help_heading = "Notifications"
    )]
    pub smtp_password_file: Option<String>,
    /// starttls, tls (implicit, port 465) or none [default: starttls]
    #[arg(
        long,
        env = "SMTP_TLS",
        hide_env_values = true,
        global = true,
        value_name = "MODE",
        help_heading = "Notifications"
    )]
    pub smtp_tls: Option<String>,
    /// Ping URL (healthchecks.io, Uptime Kuma): URL/start when a run starts, URL on success, URL/fail on failure, whatever NOTIFY_ON says
    #[arg(
        long,
        env = "NOTIFY_PING_URL",
        hide_env_values = true,
        global = true,
        value_name = "URL",
        help_heading = "Notifications"
    )]
    pub notify_ping_url: Option<String>,
}
