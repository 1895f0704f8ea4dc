//! Email notification settings: NOTIFY_EMAIL_* and SMTP_* validated into an [`Email`]
//! (recipients, sender, server, TLS, port and credentials).

use secrecy::SecretString;

use super::{Email, NotifyArgs, SmtpTls};
use crate::input::{no_control_chars, nonempty, read_secret_file, service_link_note, ConfigError};

impl NotifyArgs {
    pub(super) fn email(&self) -> Result<Option<Email>, ConfigError> {
        let to = nonempty(&self.notify_email_to);
        let from = nonempty(&self.notify_email_from);
        let host = nonempty(&self.smtp_host);
        let rest = [
            ("SMTP_PORT", &self.smtp_port),
            ("SMTP_USER", &self.smtp_user),
            ("SMTP_PASSWORD", &self.smtp_password),
            ("SMTP_PASSWORD_FILE", &self.smtp_password_file),
            ("SMTP_TLS", &self.smtp_tls),
        ];
        let Some(to) = to else {
            if from.is_some() || host.is_some() || rest.iter().any(|(_, v)| nonempty(v).is_some()) {
                let set: Vec<&str> = [
                    ("NOTIFY_EMAIL_FROM", from.is_some()),
                    ("SMTP_HOST", host.is_some()),
                ]
                .into_iter()
                .filter(|(_, set)| *set)
                .map(|(v, _)| v)
                .chain(
                    rest.iter()
                        .filter(|(_, v)| nonempty(v).is_some())
                        .map(|(k, _)| *k),
                )
                .collect();
                let mut message = format!(
                    "not set, but {} is: set the recipients too, or unset those",
                    set.join(", ")
                );
                if let Some(note) = nonempty(&self.smtp_port)
                    .and_then(|p| service_link_note("SMTP_PORT", p).map(|n| (p, n)))
                {
                    message = format!("{message}; SMTP_PORT '{}': {}", note.0, note.1);
                }
                return Err(ConfigError::var("NOTIFY_EMAIL_TO", message));
            }
            return Ok(None);
        };
        let to: Vec<String> = to
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(|a| address("NOTIFY_EMAIL_TO", a))
            .collect::<Result<_, _>>()?;
        if to.is_empty() {
            return Err(ConfigError::var(
                "NOTIFY_EMAIL_TO",
                "no address given (expected a@example.com, b@example.com)",
            ));
        }
        let from = address(
            "NOTIFY_EMAIL_FROM",
            from.ok_or_else(|| {
                ConfigError::var(
                    "NOTIFY_EMAIL_FROM",
                    "required with NOTIFY_EMAIL_TO (the sender address)",
                )
            })?,
        )?;
        let host = host
            .ok_or_else(|| {
                ConfigError::var(
                    "SMTP_HOST",
                    "required with NOTIFY_EMAIL_TO (the SMTP server)",
                )
            })?
            .trim()
            .to_string();
        no_control_chars("SMTP_HOST", &host)?;
        if host.contains(char::is_whitespace) {
            return Err(ConfigError::var(
                "SMTP_HOST",
                format!("'{host}' contains a space (expected a host name or an IP address)"),
            ));
        }
        let tls = match nonempty(&self.smtp_tls)
            .map(|s| s.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("starttls") => SmtpTls::StartTls,
            Some("tls") => SmtpTls::Tls,
            Some("none") => SmtpTls::None,
            Some(other) => {
                return Err(ConfigError::var(
                    "SMTP_TLS",
                    format!("unknown value '{other}' (expected starttls, tls or none)"),
                ))
            }
        };
        let port = match nonempty(&self.smtp_port) {
            None => match tls {
                SmtpTls::StartTls => 587,
                SmtpTls::Tls => 465,
                SmtpTls::None => 25,
            },
            Some(s) => match s.trim().parse::<u16>() {
                Ok(p) if p > 0 => p,
                _ => {
                    let mut message = format!("'{s}' is not a port (expected 1-65535)");
                    if let Some(note) = service_link_note("SMTP_PORT", s) {
                        message = format!("{message}; {note}");
                    }
                    return Err(ConfigError::var("SMTP_PORT", message));
                }
            },
        };
        let password = match nonempty(&self.smtp_password_file) {
            Some(path) => Some(read_secret_file("SMTP_PASSWORD_FILE", path)?),
            None => nonempty(&self.smtp_password).map(str::to_string),
        };
        let user = nonempty(&self.smtp_user).map(|s| s.trim().to_string());
        if let Some(u) = &user {
            no_control_chars("SMTP_USER", u)?;
        }
        match (&user, &password) {
            (Some(_), None) => {
                return Err(ConfigError::var(
                    "SMTP_PASSWORD",
                    "required with SMTP_USER (or SMTP_PASSWORD_FILE)",
                ))
            }
            (None, Some(_)) => {
                return Err(ConfigError::var(
                    "SMTP_USER",
                    "required with SMTP_PASSWORD (the login name)",
                ))
            }
            _ => {}
        }
        Ok(Some(Email {
            to,
            from,
            host,
            port,
            tls,
            user,
            password: password.map(SecretString::from),
        }))
    }
}

/// A plain `local@domain` address (or `Name <local@domain>`) that the SMTP library accepts
/// too, so a typo is a configuration error at start rather than a failed notification.
fn address(var: &str, a: &str) -> Result<String, ConfigError> {
    let bare = match (a.find('<'), a.rfind('>')) {
        (Some(i), Some(j)) if i < j && j == a.len() - 1 => &a[i + 1..j],
        _ => a,
    };
    let ok = match bare.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !bare
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == ',')
        }
        None => false,
    };
    // lettre parses it again when sending: what it refuses must be refused here, at start.
    if ok && a.parse::<lettre::message::Mailbox>().is_ok() {
        Ok(a.to_string())
    } else {
        Err(ConfigError::var(
            var,
            format!("'{a}' is not an email address (expected name@example.com)"),
        ))
    }
}
