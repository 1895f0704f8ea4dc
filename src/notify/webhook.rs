//! The webhook: one JSON POST per event, shaped for Slack (a coloured attachment with
//! fields), Discord (an embed coloured by status) or anything else (a documented flat
//! object, [`json`]). The payload builders are pure; [`Sender`] posts them.

use secrecy::ExposeSecret as _;
use serde::Serialize;
use serde_json::{json, Value};
use url::Url;

use super::delivery::{self, Attempt, Policy};
use super::settings::{Webhook, WebhookFormat};
use super::{human_duration, outcome, size_text, started_at, subject_line};
use crate::report::{error_tail, Report, Status};

/// How much of the error a chat message shows: its end, where tools put the reason.
/// Slack's section text and Discord's embed description both allow more.
const CHAT_ERROR_CHARS: usize = 1500;
/// Shown for a fact the attempt does not have (no size for a failed backup, say).
const NONE: &str = "—";

const GREEN: &str = "#2eb67d";
const RED: &str = "#e01e5a";

/// The webhook, ready to post.
pub struct Sender {
    url: Url,
    format: WebhookFormat,
}

impl Sender {
    pub fn new(w: &Webhook) -> anyhow::Result<Sender> {
        let url = Url::parse(w.url.expose_secret().trim())
            .map_err(|_| anyhow::anyhow!("NOTIFY_WEBHOOK_URL is not a URL"))?;
        Ok(Sender {
            url,
            format: w.format,
        })
    }

    pub async fn send(
        &self,
        http: &Result<reqwest::Client, String>,
        policy: Policy,
        report: &Report,
    ) -> bool {
        let body = payload(self.format, report);
        let to = delivery::origin(&self.url);
        delivery::deliver(policy, "webhook", &to, || post(http, &self.url, &body)).await
    }
}

/// One POST of `body` to `url`, judged by [`delivery::http_status`]. A rejection's answer
/// (Slack says `invalid_payload`, Discord says why in JSON) goes into the reason, with any
/// echo of the URL removed.
pub(super) async fn post(
    http: &Result<reqwest::Client, String>,
    url: &Url,
    body: &[u8],
) -> Attempt {
    let client = match http {
        Ok(c) => c,
        Err(e) => return Attempt::GiveUp(e.clone()),
    };
    let request = client
        .post(url.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_vec());
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => return delivery::http_failure(e),
    };
    judge(response, url).await
}

/// An HTTP answer as an [`Attempt`], with a short excerpt of the body when it failed.
pub(super) async fn judge(mut response: reqwest::Response, url: &Url) -> Attempt {
    let (retry, why) = match delivery::http_status(response.status()) {
        delivered @ Attempt::Delivered(_) => return delivered,
        Attempt::Retry(why) => (true, why),
        Attempt::GiveUp(why) => (false, why),
    };
    let mut body = Vec::new();
    while body.len() < 1024 {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let answer = delivery::scrub(&delivery::snippet(&body), url);
    let why = if answer.is_empty() {
        why
    } else {
        format!("{why}: {answer}")
    };
    if retry {
        Attempt::Retry(why)
    } else {
        Attempt::GiveUp(why)
    }
}

/// The request body for `format`. The generic object is serialized from its struct, so
/// its keys keep their documented order.
pub fn payload(format: WebhookFormat, report: &Report) -> Vec<u8> {
    let body = match format {
        WebhookFormat::Slack => serde_json::to_vec(&slack(report)),
        WebhookFormat::Discord => serde_json::to_vec(&discord(report)),
        WebhookFormat::Json => serde_json::to_vec(&Generic::new(report)),
    };
    body.expect("payloads serialize")
}

/// The generic payload: one flat object, every key always present (`null` when the attempt
/// has no such fact). Documented in docs/notifications.md.
#[derive(Debug, Serialize)]
pub struct Generic<'a> {
    /// Always `"backup"`.
    pub event: &'static str,
    /// `success` or `failure`.
    pub status: &'static str,
    /// Where it stopped: `backup`, `pre_hook`, `preflight` or `skipped`.
    pub stage: &'static str,
    pub engine: &'a str,
    pub database: &'a str,
    /// The remote path of the backup (credentials redacted).
    pub file: Option<&'a str>,
    pub size_bytes: Option<u64>,
    pub sha256: Option<&'a str>,
    pub backup_id: Option<&'a str>,
    pub host: &'a str,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub duration_ms: u64,
    /// The end of the error (secrets redacted), for failures.
    pub error: Option<&'a str>,
    pub dbstash_version: &'static str,
}

impl<'a> Generic<'a> {
    pub fn new(r: &'a Report) -> Generic<'a> {
        Generic {
            event: "backup",
            status: r.status.as_str(),
            stage: r.stage.as_str(),
            engine: &r.engine,
            database: &r.database,
            file: r.file.as_deref(),
            size_bytes: r.size,
            sha256: r.sha256.as_deref(),
            backup_id: r.backup_id.as_deref(),
            host: &r.host,
            started_at: started_at(r),
            duration_ms: u64::try_from(r.duration.as_millis()).unwrap_or(u64::MAX),
            error: r.error.as_deref(),
            dbstash_version: crate::VERSION,
        }
    }
}

pub fn json(report: &Report) -> Value {
    serde_json::to_value(Generic::new(report)).expect("a flat struct serializes")
}

/// Slack's mrkdwn needs `&`, `<` and `>` escaped; unescaped, `<!channel>` in an error
/// message would ping a whole channel.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// At most `max` characters of `s` (its start), for the chat services' field limits
/// (Discord: 256 for a title, 1024 for a field value; Slack: 2000 for a field).
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// `s` as inline code, unless a backtick in it would end the code early.
fn code(s: &str) -> String {
    if s.contains('`') {
        s.to_string()
    } else {
        format!("`{s}`")
    }
}

/// An error as a code block that no ``` inside it can close early.
fn code_block(error: &str) -> String {
    format!("```\n{}\n```", error.replace("```", "'''"))
}

/// The facts as (name, value) pairs, in the order every chat format shows them.
fn facts(r: &Report) -> Vec<(&'static str, String)> {
    let mut f = vec![
        ("Status", r.status.as_str().to_string()),
        ("Engine", r.engine.clone()),
        ("Database", r.database.clone()),
        ("Host", r.host.clone()),
    ];
    if r.status == Status::Failure {
        f.push(("Stage", r.stage.as_str().to_string()));
    }
    f.extend([
        ("Size", size_text(r).unwrap_or_else(|| NONE.into())),
        ("Duration", human_duration(r.duration)),
        ("Started", started_at(r)),
        (
            "Backup ID",
            r.backup_id.as_deref().map_or(NONE.into(), code),
        ),
        ("File", r.file.as_deref().map_or(NONE.into(), code)),
        ("SHA-256", r.sha256.as_deref().map_or(NONE.into(), code)),
    ]);
    f
}

/// Slack: `text` (the notification's one line) and an attachment coloured by status whose
/// blocks hold the facts as fields, then the error as a code block.
pub fn slack(r: &Report) -> Value {
    let title = format!("{}: {}", outcome(r), subject_line(r));
    let facts = facts(r);
    // Short facts side by side (a section takes at most 10 fields); long ones full width.
    let (long, short): (Vec<_>, Vec<_>) = facts
        .iter()
        .partition(|(name, _)| matches!(*name, "File" | "SHA-256"));
    let mut blocks = vec![
        json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": format!("*{}*", slack_escape(&title))},
        }),
        json!({
            "type": "section",
            "fields": short
                .iter()
                .map(|(name, value)| json!({
                    "type": "mrkdwn",
                    "text": clip(&format!("*{name}*\n{}", slack_escape(value)), 2000),
                }))
                .collect::<Vec<_>>(),
        }),
    ];
    for (name, value) in long {
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": clip(&format!("*{name}*\n{}", slack_escape(value)), 3000)},
        }));
    }
    if let Some(error) = &r.error {
        blocks.push(json!({
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": format!("*Error*\n{}", slack_escape(&code_block(&error_tail(error, CHAT_ERROR_CHARS)))),
            },
        }));
    }
    blocks.push(json!({
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": format!("dbstash {}", crate::VERSION)}],
    }));
    json!({
        "text": slack_escape(&title),
        "attachments": [{
            "color": if r.status == Status::Success { GREEN } else { RED },
            "fallback": slack_escape(&title),
            "blocks": blocks,
        }],
    })
}

/// Discord: one embed, green or red, with the facts as inline fields and the error as its
/// description. Mentions are switched off, so `@everyone` in an error pings nobody.
pub fn discord(r: &Report) -> Value {
    let colour: u32 = if r.status == Status::Success {
        0x2e_b6_7d
    } else {
        0xe0_1e_5a
    };
    let fields: Vec<Value> = facts(r)
        .into_iter()
        .map(|(name, value)| {
            json!({
                "name": name,
                "value": clip(&value, 1024),
                "inline": !matches!(name, "File" | "SHA-256" | "Backup ID"),
            })
        })
        .collect();
    let mut embed = json!({
        "title": clip(&format!("{}: {}", outcome(r), subject_line(r)), 256),
        "color": colour,
        "fields": fields,
        "timestamp": started_at(r),
        "footer": {"text": format!("dbstash {}", crate::VERSION)},
    });
    if let Some(error) = &r.error {
        embed["description"] = Value::String(code_block(&error_tail(error, CHAT_ERROR_CHARS)));
    }
    json!({
        "username": "dbstash",
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;

    fn without_version(mut v: Value) -> Value {
        let text = serde_json::to_string(&v).unwrap();
        let text = text.replace(crate::VERSION, "VERSION");
        v = serde_json::from_str(&text).unwrap();
        v
    }

    #[test]
    fn generic_json_is_flat_and_complete() {
        let v = without_version(json(&fixtures::failure()));
        assert_eq!(
            v,
            json!({
                "event": "backup",
                "status": "failure",
                "stage": "backup",
                "engine": "postgres",
                "database": "app",
                "file": "s3:backups/pg/app-2026-11-24T020000Z.sql.gz",
                "size_bytes": null,
                "sha256": null,
                "backup_id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                "host": "db-1",
                "started_at": "2026-11-24T02:00:00Z",
                "duration_ms": 4200,
                "error": "pg_dump exited with status 1:\n  pg_dump: error: connection to server failed: <fatal> & \"app\"",
                "dbstash_version": "VERSION",
            })
        );
        // On the wire, the keys come in their documented order.
        let text = String::from_utf8(payload(WebhookFormat::Json, &fixtures::success())).unwrap();
        let order = [
            "event",
            "status",
            "stage",
            "engine",
            "database",
            "file",
            "size_bytes",
            "sha256",
            "backup_id",
            "host",
            "started_at",
            "duration_ms",
            "error",
            "dbstash_version",
        ];
        let at: Vec<usize> = order
            .iter()
            .map(|k| text.find(&format!("\"{k}\":")).unwrap())
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
    }

    #[test]
    fn slack_escapes_and_colours() {
        let v = slack(&fixtures::failure());
        assert_eq!(v["attachments"][0]["color"], RED);
        assert_eq!(v["text"], "Backup failed: postgres app on db-1");
        let text = serde_json::to_string(&v).unwrap();
        assert!(text.contains("&lt;fatal&gt; &amp;"), "{text}");
        assert!(!text.contains("<fatal>"), "{text}");
        let fields = &v["attachments"][0]["blocks"][1]["fields"];
        assert!(fields.as_array().unwrap().len() <= 10);
        assert_eq!(
            slack(&fixtures::success())["attachments"][0]["color"],
            GREEN
        );
    }

    #[test]
    fn discord_embeds_are_coloured_and_within_limits() {
        let v = discord(&fixtures::failure());
        let embed = &v["embeds"][0];
        assert_eq!(embed["color"], 0xe01e5a);
        assert!(embed["description"]
            .as_str()
            .unwrap()
            .starts_with("```\npg_dump"));
        assert_eq!(v["allowed_mentions"]["parse"], json!([]));
        let ok = discord(&fixtures::success());
        assert_eq!(ok["embeds"][0]["color"], 0x2eb67d);
        assert!(ok["embeds"][0].get("description").is_none());
        for f in ok["embeds"][0]["fields"].as_array().unwrap() {
            let value = f["value"].as_str().unwrap();
            assert!(!value.is_empty() && value.len() <= 1024, "{f}");
        }
    }

    #[test]
    fn long_values_fit_the_chat_limits() {
        let mut r = fixtures::success();
        r.database = "d".repeat(400);
        r.file = Some("f".repeat(3000));
        let d = discord(&r);
        assert_eq!(
            d["embeds"][0]["title"].as_str().unwrap().chars().count(),
            256
        );
        for f in d["embeds"][0]["fields"].as_array().unwrap() {
            assert!(f["value"].as_str().unwrap().chars().count() <= 1024, "{f}");
        }
        let s = slack(&r);
        for f in s["attachments"][0]["blocks"][1]["fields"]
            .as_array()
            .unwrap()
        {
            assert!(f["text"].as_str().unwrap().chars().count() <= 2000, "{f}");
        }
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcd", 3), "ab…");
    }

    #[test]
    fn long_errors_keep_their_end_and_fences_stay_closed() {
        let mut r = fixtures::failure();
        r.error = Some(format!("{}```the reason", "x".repeat(5000)));
        let d = discord(&r)["embeds"][0]["description"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            d.chars().count() < 1600 && d.ends_with("'''the reason\n```"),
            "{d}"
        );
        let s = serde_json::to_string(&slack(&r)).unwrap();
        assert!(s.contains("the reason") && s.len() < 6000);
    }
}
