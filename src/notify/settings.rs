//! The notification channels' flags and their validated form: a webhook (Slack, Discord or
//! generic JSON), email over SMTP, and a ping URL (healthchecks.io / Uptime Kuma style).

mod email;
mod flags;

use secrecy::SecretString;
use url::Url;

use crate::input::{nonempty, ConfigError};

pub use flags::NotifyArgs;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyOn {
    Always,
    Failure,
    Success,
}

impl NotifyOn {
    /// Whether a run with this outcome is announced on the webhook and by email.
    pub fn wants(self, success: bool) -> bool {
        match self {
            NotifyOn::Always => true,
            NotifyOn::Failure => !success,
            NotifyOn::Success => success,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    Slack,
    Discord,
    Json,
}

#[derive(Debug, Clone)]
pub struct Webhook {
    pub url: SecretString,
    /// Resolved: `auto` has already been decided from the URL.
    pub format: WebhookFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    StartTls,
    Tls,
    None,
}

impl SmtpTls {
    /// The value as SMTP_TLS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpTls::StartTls => "starttls",
            SmtpTls::Tls => "tls",
            SmtpTls::None => "none",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Email {
    pub to: Vec<String>,
    pub from: String,
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub user: Option<String>,
    pub password: Option<SecretString>,
}

#[derive(Debug, Clone)]
pub struct NotifySettings {
    pub on: NotifyOn,
    pub webhook: Option<Webhook>,
    pub email: Option<Email>,
    pub ping: Option<SecretString>,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            on: NotifyOn::Failure,
            webhook: None,
            email: None,
            ping: None,
        }
    }
}

impl NotifySettings {
    pub fn any(&self) -> bool {
        self.webhook.is_some() || self.email.is_some() || self.ping.is_some()
    }
}

impl NotifyArgs {
    pub fn validate(&self) -> Result<NotifySettings, ConfigError> {
        let on = match nonempty(&self.notify_on)
            .map(|s| s.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("failure") => NotifyOn::Failure,
            Some("always") => NotifyOn::Always,
            Some("success") => NotifyOn::Success,
            Some(other) => {
                return Err(ConfigError::var(
                    "NOTIFY_ON",
                    format!("unknown value '{other}' (expected always, failure or success)"),
                ))
            }
        };
        let webhook = match nonempty(&self.notify_webhook_url) {
            None => {
                if nonempty(&self.notify_webhook_format).is_some() {
                    return Err(ConfigError::combo(
                        "NOTIFY_WEBHOOK_FORMAT (--notify-webhook-format)",
                        "set without NOTIFY_WEBHOOK_URL: there is no webhook to format for",
                    ));
                }
                None
            }
            Some(s) => {
                let url = http_url(
                    "NOTIFY_WEBHOOK_URL",
                    s,
                    "a Slack, Discord or other webhook URL",
                )?;
                let format = match nonempty(&self.notify_webhook_format)
                    .map(|s| s.trim().to_ascii_lowercase())
                    .as_deref()
                {
                    None | Some("auto") => detect_format(&url),
                    Some("slack") => WebhookFormat::Slack,
                    Some("discord") => WebhookFormat::Discord,
                    Some("json") => WebhookFormat::Json,
                    Some(other) => {
                        return Err(ConfigError::var(
                            "NOTIFY_WEBHOOK_FORMAT",
                            format!(
                                "unknown value '{other}' (expected auto, slack, discord or json)"
                            ),
                        ))
                    }
                };
                Some(Webhook {
                    url: SecretString::from(s.trim().to_string()),
                    format,
                })
            }
        };
        let ping = match nonempty(&self.notify_ping_url) {
            None => None,
            Some(s) => {
                http_url(
                    "NOTIFY_PING_URL",
                    s,
                    "a ping URL such as https://hc-ping.com/<uuid>",
                )?;
                Some(SecretString::from(
                    s.trim().trim_end_matches('/').to_string(),
                ))
            }
        };
        Ok(NotifySettings {
            on,
            webhook,
            email: self.email()?,
            ping,
        })
    }
}

fn http_url(var: &str, s: &str, expected: &str) -> Result<Url, ConfigError> {
    match Url::parse(s.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(u),
        // The value may hold a token: never echo it.
        _ => Err(ConfigError::var(
            var,
            format!("not an http(s) URL (expected {expected})"),
        )),
    }
}

/// Slack for hooks.slack.com, Discord for `/api/webhooks/` paths (discord.com, discordapp.com
/// or a proxy on any host), generic JSON otherwise.
pub fn detect_format(url: &Url) -> WebhookFormat {
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    if host == "hooks.slack.com" {
        WebhookFormat::Slack
    } else if url.path().starts_with("/api/webhooks/") {
        WebhookFormat::Discord
    } else {
        WebhookFormat::Json
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(f: impl FnOnce(&mut NotifyArgs)) -> Result<NotifySettings, ConfigError> {
        let mut a = NotifyArgs::default();
        f(&mut a);
        a.validate()
    }

    #[test]
    fn defaults_notify_nothing_on_failure() {
        let s = args(|_| {}).unwrap();
        assert_eq!(s.on, NotifyOn::Failure);
        assert!(!s.any());
        assert!(NotifyOn::Failure.wants(false) && !NotifyOn::Failure.wants(true));
        assert!(NotifyOn::Success.wants(true) && !NotifyOn::Success.wants(false));
        assert!(NotifyOn::Always.wants(true) && NotifyOn::Always.wants(false));
    }

    #[test]
    fn webhook_format_is_detected_or_forced() {
        let fmt = |url: &str, format: Option<&str>| {
            args(|a| {
                a.notify_webhook_url = Some(url.into());
                a.notify_webhook_format = format.map(Into::into);
            })
            .unwrap()
            .webhook
            .unwrap()
            .format
        };
        assert_eq!(
            fmt("https://hooks.slack.com/services/T/B/x", None),
            WebhookFormat::Slack
        );
        assert_eq!(
            fmt("https://discord.com/api/webhooks/1/x", None),
            WebhookFormat::Discord
        );
        assert_eq!(
            fmt("https://discordapp.com/api/webhooks/1/x", Some("auto")),
            WebhookFormat::Discord
        );
        assert_eq!(
            fmt("http://127.0.0.1:9/api/webhooks/1/x", None),
            WebhookFormat::Discord
        );
        assert_eq!(fmt("https://example.org/hook", None), WebhookFormat::Json);
        assert_eq!(
            fmt("https://example.org/hook", Some("SLACK")),
            WebhookFormat::Slack
        );
        assert_eq!(
            fmt("https://hooks.slack.com/services/x", Some("json")),
            WebhookFormat::Json
        );
    }

    #[test]
    fn bad_values_name_their_variable_and_never_echo_urls() {
        type Edit = Box<dyn Fn(&mut NotifyArgs)>;
        let cases: Vec<(&str, Edit)> = vec![
            (
                "NOTIFY_ON (--notify-on)",
                Box::new(|a| a.notify_on = Some("never".into())),
            ),
            (
                "NOTIFY_WEBHOOK_URL",
                Box::new(|a| a.notify_webhook_url = Some("ftp://secret-token@x".into())),
            ),
            (
                "NOTIFY_WEBHOOK_FORMAT",
                Box::new(|a| {
                    a.notify_webhook_url = Some("https://x.org/h".into());
                    a.notify_webhook_format = Some("teams".into());
                }),
            ),
            (
                "NOTIFY_WEBHOOK_FORMAT",
                Box::new(|a| a.notify_webhook_format = Some("slack".into())),
            ),
            (
                "NOTIFY_PING_URL",
                Box::new(|a| a.notify_ping_url = Some("hc-ping.com/secret-token".into())),
            ),
            (
                "NOTIFY_EMAIL_TO",
                Box::new(|a| a.smtp_host = Some("mail".into())),
            ),
            (
                "NOTIFY_EMAIL_TO",
                Box::new(|a| a.smtp_password = Some("secret-token".into())),
            ),
            (
                "NOTIFY_EMAIL_FROM",
                Box::new(|a| {
                    a.notify_email_to = Some("ops@example.com".into());
                    a.smtp_host = Some("mail".into());
                }),
            ),
            (
                "SMTP_HOST",
                Box::new(|a| {
                    a.notify_email_to = Some("ops@example.com".into());
                    a.notify_email_from = Some("db@example.com".into());
                }),
            ),
            (
                "NOTIFY_EMAIL_TO",
                Box::new(|a| a.notify_email_to = Some("ops, dev".into())),
            ),
            (
                "NOTIFY_EMAIL_TO",
                Box::new(|a| a.notify_email_to = Some(" , ".into())),
            ),
            (
                "NOTIFY_EMAIL_TO",
                Box::new(|a| a.notify_email_to = Some("ops@exa mple.com".into())),
            ),
            (
                "NOTIFY_EMAIL_FROM",
                Box::new(|a| {
                    a.notify_email_to = Some("ops@example.com".into());
                    a.notify_email_from = Some("db@@example.com".into());
                }),
            ),
        ];
        for (want, f) in cases {
            let e = args(f).unwrap_err();
            assert!(e.to_string().starts_with(want), "want {want}, got {e}");
            assert!(!e.to_string().contains("secret-token"), "{e}");
        }
    }

    fn email(f: impl FnOnce(&mut NotifyArgs)) -> Result<Email, ConfigError> {
        args(|a| {
            a.notify_email_to = Some("ops@example.com, Dev Team <dev@example.com>".into());
            a.notify_email_from = Some("dbstash@example.com".into());
            a.smtp_host = Some("smtp.example.com".into());
            f(a);
        })
        .map(|s| s.email.unwrap())
    }

    #[test]
    fn email_ports_follow_tls_and_credentials_come_in_pairs() {
        let e = email(|_| {}).unwrap();
        assert_eq!(e.to, vec!["ops@example.com", "Dev Team <dev@example.com>"]);
        assert_eq!((e.port, e.tls), (587, SmtpTls::StartTls));
        assert_eq!(
            email(|a| a.smtp_tls = Some("tls".into())).unwrap().port,
            465
        );
        assert_eq!(
            email(|a| a.smtp_tls = Some("none".into())).unwrap().port,
            25
        );
        assert_eq!(
            email(|a| a.smtp_port = Some("2525".into())).unwrap().port,
            2525
        );
        for bad in ["0", "70000", "smtp"] {
            let e = email(|a| a.smtp_port = Some(bad.into())).unwrap_err();
            assert!(e.to_string().starts_with("SMTP_PORT"), "{e}");
        }
        assert!(email(|a| a.smtp_tls = Some("ssl".into()))
            .unwrap_err()
            .to_string()
            .starts_with("SMTP_TLS"));
        assert!(email(|a| a.smtp_user = Some("u".into()))
            .unwrap_err()
            .to_string()
            .starts_with("SMTP_PASSWORD"));
        assert!(email(|a| a.smtp_password = Some("p".into()))
            .unwrap_err()
            .to_string()
            .starts_with("SMTP_USER"));

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "from-file\n").unwrap();
        let e = email(|a| {
            a.smtp_user = Some("u".into());
            a.smtp_password = Some("from-env".into());
            a.smtp_password_file = Some(file.display().to_string());
        })
        .unwrap();
        use secrecy::ExposeSecret as _;
        assert_eq!(e.password.unwrap().expose_secret(), "from-file");
    }

    #[test]
    fn smtp_host_and_user_are_one_word_without_control_characters() {
        for (edit, var) in [
            (
                (|a: &mut NotifyArgs| a.smtp_host = Some("smtp.example.com\r\nx".into()))
                    as fn(&mut NotifyArgs),
                "SMTP_HOST",
            ),
            (
                |a| a.smtp_host = Some("smtp example.com".into()),
                "SMTP_HOST",
            ),
            (
                |a| {
                    a.smtp_user = Some("u\u{8}".into());
                    a.smtp_password = Some("p".into());
                },
                "SMTP_USER",
            ),
        ] {
            let e = email(edit).unwrap_err();
            assert!(e.to_string().starts_with(var), "{e}");
            assert!(!e.to_string().chars().any(char::is_control), "{e:?}");
        }
    }
}
