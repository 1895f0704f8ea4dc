//! Email over SMTP with lettre on rustls: `SMTP_TLS=starttls` (required, never silently
//! plain), `tls` (implicit TLS, port 465) or `none`; a login when SMTP_USER is set. The
//! message is plain text with the same facts as the webhook.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use secrecy::{ExposeSecret as _, SecretString};

use super::delivery::{self, Attempt, Policy};
use super::settings::{Email, SmtpTls};
use super::{human_duration, outcome, size_text, started_at, subject_line};
use crate::report::Report;

pub struct Mailer {
    from: Mailbox,
    to: Vec<Mailbox>,
    host: String,
    port: u16,
    tls: SmtpTls,
    login: Option<(String, SecretString)>,
}

impl Mailer {
    pub fn new(e: &Email) -> anyhow::Result<Mailer> {
        let mailbox = |var: &str, a: &str| -> anyhow::Result<Mailbox> {
            a.parse()
                .map_err(|err| anyhow::anyhow!("{var}: '{a}' is not an email address: {err}"))
        };
        Ok(Mailer {
            from: mailbox("NOTIFY_EMAIL_FROM", &e.from)?,
            to: e
                .to
                .iter()
                .map(|a| mailbox("NOTIFY_EMAIL_TO", a))
                .collect::<anyhow::Result<_>>()?,
            host: e.host.clone(),
            port: e.port,
            tls: e.tls,
            login: e.user.clone().zip(e.password.clone()),
        })
    }

    pub async fn send(&self, policy: Policy, report: &Report) -> bool {
        let to = format!("smtp://{}:{}", self.host, self.port);
        let message = match self.message(report) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(channel = "email", to, "notification not delivered: {e}");
                return false;
            }
        };
        delivery::deliver(policy, "email", &to, || {
            self.attempt(policy.timeout, &message, report)
        })
        .await
    }

    fn message(&self, report: &Report) -> anyhow::Result<Message> {
        let mut b = Message::builder()
            .from(self.from.clone())
            .subject(subject(report))
            .message_id(Some(format!(
                "<{}@dbstash>",
                uuid::Uuid::new_v4().as_simple()
            )))
            .header(ContentType::TEXT_PLAIN);
        for to in &self.to {
            b = b.to(to.clone());
        }
        Ok(b.body(body(report))?)
    }

    async fn attempt(&self, timeout: Duration, message: &Message, report: &Report) -> Attempt {
        let transport = match self.transport(timeout, report) {
            Ok(t) => t,
            Err(e) => return Attempt::GiveUp(format!("cannot set up TLS: {e}")),
        };
        match transport.send(message.clone()).await {
            Ok(response) => Attempt::Delivered(format!("SMTP {}", response.code())),
            Err(e) => classify(&e),
        }
    }

    /// Built per attempt: setting up TLS reads the system's CA certificates, and a system
    /// without them must cost a warning, not the backup.
    fn transport(
        &self,
        timeout: Duration,
        report: &Report,
    ) -> Result<AsyncSmtpTransport<Tokio1Executor>, lettre::transport::smtp::Error> {
        let tls = match self.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::StartTls => Tls::Required(TlsParameters::new(self.host.clone())?),
            SmtpTls::Tls => Tls::Wrapper(TlsParameters::new(self.host.clone())?),
        };
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(self.host.as_str())
            .port(self.port)
            .tls(tls)
            .timeout(Some(timeout))
            .hello_name(hello_name(&report.host));
        if let Some((user, password)) = &self.login {
            b = b.credentials(Credentials::new(
                user.clone(),
                password.expose_secret().to_string(),
            ));
        }
        Ok(b.build())
    }
}

/// SMTP's rule: 4xx answers and network trouble may pass (retried); 5xx answers, a server
/// without STARTTLS, a failed TLS handshake and a refused login will not.
fn classify(e: &lettre::transport::smtp::Error) -> Attempt {
    let text = without_repeats(&e.to_string());
    if e.is_tls() || delivery::tls_failed(e) {
        Attempt::GiveUp(format!("TLS failed (check SMTP_TLS and SMTP_PORT): {text}"))
    } else if e.is_transient() || e.is_timeout() {
        Attempt::Retry(text)
    } else if e.is_permanent() || e.is_client() || e.is_response() {
        Attempt::GiveUp(text)
    } else {
        // Connection and network errors.
        Attempt::Retry(text)
    }
}

/// "Connection error: Connection error: x" → "Connection error: x".
fn without_repeats(text: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in text.split(": ") {
        if parts.last() != Some(&part) {
            parts.push(part);
        }
    }
    parts.join(": ")
}

/// The EHLO name: this host's name when it is a plain DNS name, else `localhost`.
fn hello_name(host: &str) -> ClientId {
    let plain = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    ClientId::Domain(if plain {
        host.into()
    } else {
        "localhost".into()
    })
}

/// `[dbstash] failure: postgres app on db-1`.
pub fn subject(r: &Report) -> String {
    format!("[dbstash] {}: {}", r.status.as_str(), subject_line(r))
}

/// The plain-text body: a sentence, the facts one per line, then the error.
pub fn body(r: &Report) -> String {
    let none = || "-".to_string();
    let facts = [
        ("Status", r.status.as_str().to_string()),
        ("Stage", r.stage.as_str().to_string()),
        ("Engine", r.engine.clone()),
        ("Database", r.database.clone()),
        ("Host", r.host.clone()),
        ("File", r.file.clone().unwrap_or_else(none)),
        ("Size", size_text(r).unwrap_or_else(none)),
        ("SHA-256", r.sha256.clone().unwrap_or_else(none)),
        ("Backup ID", r.backup_id.clone().unwrap_or_else(none)),
        ("Started", started_at(r)),
        ("Duration", human_duration(r.duration)),
    ];
    let mut text = format!("{}: {}.\n\n", outcome(r), subject_line(r));
    for (name, value) in facts {
        text.push_str(&format!("{:<11}{value}\n", format!("{name}:")));
    }
    if let Some(e) = &r.error {
        text.push_str("\nError:\n");
        for line in e.lines() {
            text.push_str("  ");
            text.push_str(line);
            text.push('\n');
        }
    }
    text.push_str(&format!("\n-- \ndbstash {}\n", crate::VERSION));
    text
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;

    #[test]
    fn subject_and_body_carry_the_facts() {
        let r = fixtures::failure();
        assert_eq!(subject(&r), "[dbstash] failure: postgres app on db-1");
        let b = body(&r);
        assert!(
            b.starts_with("Backup failed: postgres app on db-1.\n\nStatus:    failure\n"),
            "{b}"
        );
        for want in [
            "\nStage:     backup\n",
            "\nFile:      s3:backups/pg/app-2026-11-24T020000Z.sql.gz\n",
            "\nSize:      -\n",
            "\nDuration:  4.2s\n",
            "\nBackup ID: 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\n",
            "Error:\n  pg_dump exited with status 1:\n    pg_dump: error",
        ] {
            assert!(b.contains(want), "{want:?} in\n{b}");
        }
        let ok = body(&fixtures::success());
        assert!(
            ok.contains("Size:      12.3 MiB (12912345 bytes)") && !ok.contains("Error"),
            "{ok}"
        );
    }

    #[test]
    fn repeated_error_prefixes_are_shown_once() {
        assert_eq!(
            without_repeats("Connection error: Connection error: refused"),
            "Connection error: refused"
        );
        assert_eq!(without_repeats("a: b: a"), "a: b: a");
    }

    #[test]
    fn hello_names_are_plain_dns_names() {
        assert_eq!(hello_name("db-1.example").to_string(), "db-1.example");
        assert_eq!(hello_name("bad_name").to_string(), "localhost");
        assert_eq!(hello_name("").to_string(), "localhost");
    }
}
