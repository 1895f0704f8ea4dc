//! Notifications against real receivers on loopback: an HTTP server that records requests
//! (Slack-, Discord- and generic-shaped webhooks, ping URLs) and a real SMTP server
//! (aiosmtpd). The library's `Notifier` is driven directly here; the end-to-end tests run
//! the binary.

use std::time::{Duration, Instant};

use chrono::TimeZone as _;
use dbstash::notify::settings::{NotifyArgs, NotifySettings};
use dbstash::notify::Notifier;
use dbstash::report::{Report, Stage, Status};
use serde_json::Value;

use crate::support::logs::Logs;
use crate::support::receiver::{ok, Receiver, Reply};
use crate::support::smtp::SmtpSink;

/// The token part of every webhook and ping URL here: it must never reach a log or payload.
const TOKEN: &str = "T0KEN-s3cr3t-path";
const SMTP_PASSWORD: &str = "smtp-pa55word";

fn success() -> Report {
    Report {
        status: Status::Success,
        stage: Stage::Backup,
        engine: "postgres".into(),
        database: "app".into(),
        file: Some(":s3:backups/pg/app-20261124-020000.sql.gz".into()),
        size: Some(12_912_345),
        sha256: Some("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into()),
        backup_id: Some("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d".into()),
        started_at: chrono::Utc.with_ymd_and_hms(2026, 11, 24, 2, 0, 0).unwrap(),
        duration: Duration::from_millis(65_250),
        host: "db-1".into(),
        error: None,
    }
}

fn failure() -> Report {
    Report {
        status: Status::Failure,
        size: None,
        sha256: None,
        duration: Duration::from_millis(4_200),
        error: Some(
            "pg_dump exited with status 1:\n  pg_dump: error: connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  password authentication failed for user \"app\""
                .into(),
        ),
        ..success()
    }
}

/// Settings through the real flag validation, as `dbstash` would build them.
fn settings(f: impl FnOnce(&mut NotifyArgs)) -> NotifySettings {
    let mut a = NotifyArgs::default();
    f(&mut a);
    a.validate().expect("valid notification settings")
}

fn webhook(url: &str, format: Option<&str>, on: &str) -> NotifySettings {
    settings(|a| {
        a.notify_webhook_url = Some(url.into());
        a.notify_webhook_format = format.map(Into::into);
        a.notify_on = Some(on.into());
    })
}

/// No log line and no request may show the token or the SMTP password.
fn assert_no_secret(what: &str, text: &str) {
    assert!(
        !text.contains(TOKEN) && !text.contains(SMTP_PASSWORD),
        "a secret in {what}:\n{text}"
    );
}

// ------------------------------------------------------------------ payload snapshots

/// `v` with the version (which changes with every release) replaced by `VERSION`.
fn normalized(v: &Value) -> Value {
    let text = serde_json::to_string(v)
        .unwrap()
        .replace(dbstash::VERSION, "VERSION");
    serde_json::from_str(&text).unwrap()
}

/// Compare with `tests/snapshots/notify/<name>.json`; `UPDATE_SNAPSHOTS=1` rewrites it.
fn assert_snapshot(name: &str, v: &Value) {
    let path = format!(
        "{}/tests/snapshots/notify/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let got = normalized(v);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(std::path::Path::new(&path).parent().unwrap()).unwrap();
        std::fs::write(&path, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
        return;
    }
    let want: Value = serde_json::from_str(
        &std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{path}: {e} (UPDATE_SNAPSHOTS=1 writes it)")),
    )
    .unwrap();
    assert_eq!(
        got,
        want,
        "{name} payload changed (UPDATE_SNAPSHOTS=1 rewrites {path}); got:\n{}",
        serde_json::to_string_pretty(&got).unwrap()
    );
}

#[tokio::test]
async fn each_webhook_format_posts_its_snapshot_payload() {
    let rx = Receiver::start(vec![ok()]);
    let (logs, _guard) = Logs::capture();
    // The Discord case uses auto-detection: an /api/webhooks/ path on any host.
    let cases = [
        ("slack", Some("slack"), format!("/services/T1/B1/{TOKEN}")),
        ("discord", None, format!("/api/webhooks/1/{TOKEN}")),
        ("json", Some("json"), format!("/hook/{TOKEN}")),
    ];
    for (name, format, path) in &cases {
        let n = Notifier::new(&webhook(&rx.url(path), *format, "always")).unwrap();
        n.finished(&failure()).await;
        n.finished(&success()).await;
        let got = rx.requests();
        let [.., fail, ok] = got.as_slice() else {
            panic!("two requests expected, got {got:?}")
        };
        for (status, req) in [("failure", fail), ("success", ok)] {
            assert_eq!(req.method, "POST");
            assert_eq!(&req.path, path);
            assert_eq!(req.header("content-type"), Some("application/json"));
            assert!(req.header("user-agent").unwrap().starts_with("dbstash/"));
            assert_no_secret("a payload", &req.text());
            assert_snapshot(&format!("{name}-{status}"), &req.json());
        }
    }
    assert_eq!(rx.requests().len(), 6);
    assert!(logs.at("WARN").is_empty(), "{}", logs.all());
}

#[tokio::test]
async fn every_payload_carries_the_facts_and_the_error_on_failure() {
    let rx = Receiver::start(vec![ok()]);
    for format in ["slack", "discord", "json"] {
        let n = Notifier::new(&webhook(&rx.url("/h"), Some(format), "always")).unwrap();
        n.finished(&failure()).await;
        n.finished(&success()).await;
    }
    let got = rx.requests();
    assert_eq!(got.len(), 6);
    for (i, req) in got.iter().enumerate() {
        let body = req.text();
        let r = if i % 2 == 0 { failure() } else { success() };
        let mut facts = vec![
            r.status.as_str().to_string(),
            r.engine.clone(),
            r.database.clone(),
            r.file.clone().unwrap(),
            r.backup_id.clone().unwrap(),
            r.host.clone(),
        ];
        if r.status == Status::Success {
            facts.push(r.sha256.clone().unwrap());
            facts.push("12912345".into());
            facts.push(
                if body.contains("duration_ms") {
                    "65250"
                } else {
                    "1m 05s"
                }
                .into(),
            );
        } else {
            facts.push("password authentication failed for user".into());
            facts.push(
                if body.contains("duration_ms") {
                    "4200"
                } else {
                    "4.2s"
                }
                .into(),
            );
        }
        for fact in facts {
            assert!(body.contains(&fact), "{fact:?} missing from {body}");
        }
    }
}

#[tokio::test]
async fn notify_on_picks_the_webhook_and_email_outcomes_but_pings_always() {
    let hook = Receiver::start(vec![ok()]);
    let ping = Receiver::start(vec![ok()]);
    for (on, wants_failure, wants_success) in [
        ("failure", true, false),
        ("success", false, true),
        ("always", true, true),
    ] {
        let s = settings(|a| {
            a.notify_webhook_url = Some(hook.url(&format!("/{on}")));
            a.notify_on = Some(on.into());
            a.notify_ping_url = Some(ping.url(&format!("/{on}")));
        });
        let n = Notifier::new(&s).unwrap();
        n.finished(&failure()).await;
        n.finished(&success()).await;
        let statuses: Vec<String> = hook
            .requests()
            .iter()
            .filter(|r| r.path == format!("/{on}"))
            .map(|r| r.json()["status"].as_str().unwrap().to_string())
            .collect();
        let mut want = Vec::new();
        if wants_failure {
            want.push("failure");
        }
        if wants_success {
            want.push("success");
        }
        assert_eq!(statuses, want, "NOTIFY_ON={on}");
        let pings: Vec<String> = ping
            .requests()
            .iter()
            .filter(|r| r.path.starts_with(&format!("/{on}")))
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        assert_eq!(pings, [format!("POST /{on}/fail"), format!("GET /{on}")]);
    }
}

// ------------------------------------------------------------------ delivery rules

#[tokio::test]
async fn a_receiver_failing_twice_gets_the_message_once() {
    let rx = Receiver::start(vec![
        Reply::Status(500, "oops".into()),
        Reply::Status(500, "oops".into()),
        ok(),
    ]);
    let (logs, _guard) = Logs::capture();
    let n = Notifier::new(&webhook(
        &rx.url(&format!("/hook/{TOKEN}")),
        None,
        "failure",
    ))
    .unwrap();
    let start = Instant::now();
    n.finished(&failure()).await;
    let took = start.elapsed();
    let got = rx.requests();
    assert_eq!(got.len(), 3, "three attempts: {got:?}");
    assert!(
        got.iter().all(|r| r.body == got[0].body),
        "the same message each time"
    );
    // Backoff: 1 s, then 2 s.
    let gaps: Vec<Duration> = got.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert!(
        gaps[0] >= Duration::from_millis(950) && gaps[0] < Duration::from_secs(2),
        "{gaps:?}"
    );
    assert!(
        gaps[1] >= Duration::from_millis(1950) && gaps[1] < Duration::from_secs(3),
        "{gaps:?}"
    );
    assert!(took < Duration::from_secs(6), "{took:?}");
    assert!(logs.at("WARN").is_empty(), "{}", logs.all());
    let info = logs.at("INFO").join("\n");
    assert!(
        info.contains("delivered after a retry") && info.contains("attempt=3"),
        "{info}"
    );
    assert_no_secret("the log", &logs.all());
}

#[tokio::test]
async fn a_4xx_is_not_retried_and_its_echo_of_the_url_is_not_logged() {
    let rx = Receiver::start(vec![Reply::Status(
        404,
        format!("Cannot POST /hook/{TOKEN}"),
    )]);
    let (logs, _guard) = Logs::capture();
    let n = Notifier::new(&webhook(
        &rx.url(&format!("/hook/{TOKEN}")),
        None,
        "failure",
    ))
    .unwrap();
    n.finished(&failure()).await;
    assert_eq!(rx.requests().len(), 1);
    let warn = logs.at("WARN");
    assert_eq!(warn.len(), 1, "{}", logs.all());
    for want in [
        "channel=webhook",
        &format!("to=http://127.0.0.1:{}", rx.port),
        "HTTP 404 Not Found: Cannot POST ***",
        "not retried",
    ] {
        assert!(warn[0].contains(want), "{want:?} in {}", warn[0]);
    }
    assert_no_secret("the log", &logs.all());
}

#[tokio::test]
async fn credentials_in_the_url_stay_out_of_the_log_when_the_receiver_echoes_the_request() {
    // A receiver (or a proxy in front of it) answering an error with the request it got:
    // the Basic credentials reqwest made of the URL's user:password, and the password.
    let (user, password) = ("hookuser", "Pa55-in-url");
    let basic = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    };
    let rx = Receiver::start(vec![Reply::Status(
        400,
        format!("bad request: authorization: Basic {basic}; password {password}"),
    )]);
    let (logs, _guard) = Logs::capture();
    for (webhook_url, ping_url) in [
        (
            Some(format!(
                "http://{user}:{password}@127.0.0.1:{}/hook",
                rx.port
            )),
            None,
        ),
        (
            None,
            Some(format!("http://{user}:{password}@127.0.0.1:{}/p", rx.port)),
        ),
    ] {
        let n = Notifier::new(&settings(|a| {
            a.notify_webhook_url = webhook_url;
            a.notify_ping_url = ping_url;
        }))
        .unwrap();
        n.finished(&failure()).await;
    }
    assert_eq!(rx.requests().len(), 2);
    assert_eq!(
        rx.requests()[0].header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    let warn = logs.at("WARN");
    assert_eq!(warn.len(), 2, "{}", logs.all());
    for w in warn {
        assert!(w.contains("HTTP 400 Bad Request: bad request"), "{w}");
        assert!(!w.contains(&basic) && !w.contains(password), "{w}");
    }
}

#[tokio::test]
async fn receivers_that_never_answer_cost_at_most_the_bound_together() {
    let hook = Receiver::start(vec![Reply::Hang]);
    let ping = Receiver::start(vec![Reply::Hang]);
    let (logs, _guard) = Logs::capture();
    let s = settings(|a| {
        a.notify_webhook_url = Some(hook.url(&format!("/hook/{TOKEN}")));
        a.notify_ping_url = Some(ping.url(&format!("/ping/{TOKEN}")));
    });
    let n = Notifier::new(&s).unwrap();
    let start = Instant::now();
    n.finished(&failure()).await;
    let took = start.elapsed();
    eprintln!("two hanging receivers: finished() took {took:?}");
    // 3 × 10 s + 1 s + 2 s = 33 s; the channels run side by side, not one after the other.
    assert!(took >= Duration::from_secs(32), "{took:?}");
    assert!(took < Duration::from_secs(45), "{took:?}");
    assert_eq!(hook.requests().len(), 3);
    assert_eq!(ping.requests().len(), 3);
    let warn = logs.at("WARN").join("\n");
    assert!(
        warn.contains("channel=webhook") && warn.contains("channel=ping"),
        "{warn}"
    );
    assert!(warn.contains("after 3 attempts"), "{warn}");
    assert_no_secret("the log", &logs.all());
}

#[tokio::test]
async fn a_closed_port_fails_fast() {
    let port = crate::support::free_port();
    let (logs, _guard) = Logs::capture();
    let url = format!("http://127.0.0.1:{port}/hook/{TOKEN}");
    let n = Notifier::new(&webhook(&url, None, "failure")).unwrap();
    let start = Instant::now();
    n.finished(&failure()).await;
    let took = start.elapsed();
    // Three refused connections and the two pauses.
    assert!(took < Duration::from_secs(5), "{took:?}");
    let warn = logs.at("WARN").join("\n");
    assert!(
        warn.contains("cannot connect") && warn.contains(&format!("to=http://127.0.0.1:{port}")),
        "{warn}"
    );
    assert_no_secret("the log", &logs.all());
}

#[tokio::test]
async fn a_tls_failure_is_not_retried() {
    let rx = Receiver::start(vec![Reply::PlainFirst]);
    let (logs, _guard) = Logs::capture();
    let url = format!("https://127.0.0.1:{}/hook/{TOKEN}", rx.port);
    let n = Notifier::new(&webhook(&url, None, "failure")).unwrap();
    let start = Instant::now();
    n.finished(&failure()).await;
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(rx.connections(), 1);
    let warn = logs.at("WARN").join("\n");
    assert!(
        warn.contains("TLS failed") && warn.contains("not retried"),
        "{}",
        logs.all()
    );
    assert_no_secret("the log", &logs.all());
}

// ------------------------------------------------------------------ ping URLs

#[tokio::test]
async fn the_ping_url_sees_start_then_success_or_start_then_fail() {
    let rx = Receiver::start(vec![ok()]);
    let n = Notifier::new(&settings(|a| {
        a.notify_ping_url = Some(rx.url(&format!("/{TOKEN}/")));
    }))
    .unwrap();
    n.started().await;
    n.finished(&success()).await;
    n.started().await;
    n.finished(&failure()).await;
    let got: Vec<(String, String)> = rx
        .requests()
        .iter()
        .map(|r| (r.method.clone(), r.path.replace(TOKEN, "TOKEN")))
        .collect();
    let want = [
        ("GET", "/TOKEN/start"),
        ("GET", "/TOKEN"),
        ("GET", "/TOKEN/start"),
        ("POST", "/TOKEN/fail"),
    ];
    assert_eq!(got, want.map(|(m, p)| (m.to_string(), p.to_string())),);
    let fail = &rx.requests()[3];
    assert_eq!(
        fail.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    let body = fail.text();
    assert!(
        body.starts_with("Backup failed: postgres app on db-1 (stage backup)\n")
            && body.contains("password authentication failed"),
        "{body}"
    );
}

// ------------------------------------------------------------------ email

fn email(port: u16, f: impl FnOnce(&mut NotifyArgs)) -> NotifySettings {
    settings(|a| {
        a.notify_email_to = Some("ops@example.com, Dev Team <dev@example.com>".into());
        a.notify_email_from = Some("dbstash <dbstash@example.com>".into());
        a.smtp_host = Some("127.0.0.1".into());
        a.smtp_port = Some(port.to_string());
        a.smtp_tls = Some("none".into());
        f(a);
    })
}

#[tokio::test]
async fn email_is_delivered_as_plain_text_with_the_facts() {
    let Some(sink) = SmtpSink::start(None) else {
        return;
    };
    let (logs, _guard) = Logs::capture();
    let n = Notifier::new(&email(sink.port, |_| {})).unwrap();
    n.finished(&failure()).await;
    let mail = sink.wait_for(1, Duration::from_secs(10));
    assert_eq!(mail.len(), 1, "{}", logs.all());
    let m = &mail[0];
    assert_eq!(m.mail_from, "dbstash@example.com");
    assert_eq!(m.rcpt_tos, ["ops@example.com", "dev@example.com"]);
    assert_eq!(
        m.header("subject").as_deref(),
        Some("[dbstash] failure: postgres app on db-1")
    );
    assert_eq!(
        m.header("to").as_deref(),
        Some("ops@example.com, \"Dev Team\" <dev@example.com>")
    );
    assert!(m
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; charset=utf-8"));
    let body = m.body();
    for want in [
        "Backup failed: postgres app on db-1.",
        "Status:    failure",
        "Stage:     backup",
        "File:      :s3:backups/pg/app-20261124-020000.sql.gz",
        "Backup ID: 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "Duration:  4.2s",
        "Error:\n  pg_dump exited with status 1:\n    pg_dump: error: connection to server",
    ] {
        assert!(body.contains(want), "{want:?} missing from\n{body}");
    }
    assert!(logs.at("WARN").is_empty(), "{}", logs.all());

    // NOTIFY_ON=failure (the default): a success sends nothing.
    n.finished(&success()).await;
    assert_eq!(sink.wait_for(2, Duration::from_millis(500)).len(), 1);
}

#[tokio::test]
async fn email_logs_in_with_smtp_user_and_a_wrong_password_is_not_retried() {
    let Some(sink) = SmtpSink::start(Some(("dbstash", SMTP_PASSWORD))) else {
        return;
    };
    let (logs, _guard) = Logs::capture();
    let n = Notifier::new(&email(sink.port, |a| {
        a.smtp_user = Some("dbstash".into());
        a.smtp_password = Some(SMTP_PASSWORD.into());
        a.notify_on = Some("always".into());
    }))
    .unwrap();
    n.finished(&success()).await;
    let mail = sink.wait_for(1, Duration::from_secs(10));
    assert_eq!(mail.len(), 1, "{}", logs.all());
    assert_eq!(mail[0].login.as_deref(), Some("dbstash"));
    assert!(mail[0].body().contains("SHA-256:   9f86d081884c7d65"));
    assert_no_secret("the message", &mail[0].raw);

    let wrong = Notifier::new(&email(sink.port, |a| {
        a.smtp_user = Some("dbstash".into());
        a.smtp_password = Some(format!("{SMTP_PASSWORD}-wrong"));
    }))
    .unwrap();
    let start = Instant::now();
    wrong.finished(&failure()).await;
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    let warn = logs.at("WARN").join("\n");
    assert!(
        warn.contains("channel=email") && warn.contains("535") && warn.contains("not retried"),
        "{warn}"
    );
    assert_no_secret("the log", &logs.all());
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn tls_against_a_server_without_it_fails_fast_with_a_warning() {
    let Some(sink) = SmtpSink::start(None) else {
        return;
    };
    for (mode, why) in [
        ("starttls", "STARTTLS is not supported"),
        ("tls", "TLS failed (check SMTP_TLS and SMTP_PORT)"),
    ] {
        let (logs, _guard) = Logs::capture();
        let n = Notifier::new(&email(sink.port, |a| a.smtp_tls = Some(mode.into()))).unwrap();
        let start = Instant::now();
        n.finished(&failure()).await;
        let took = start.elapsed();
        assert!(took < Duration::from_secs(5), "SMTP_TLS={mode}: {took:?}");
        let warn = logs.at("WARN").join("\n");
        assert!(
            warn.contains("channel=email")
                && warn.contains(&format!("to=smtp://127.0.0.1:{}", sink.port))
                && warn.contains(why),
            "SMTP_TLS={mode}: {}",
            logs.all()
        );
    }
    assert!(sink.messages().is_empty(), "nothing is sent in the clear");
}

// ------------------------------------------------------------------ through the binary

mod binary {
    use std::path::Path;
    use std::time::{Duration, Instant};

    use super::TOKEN;
    use crate::support::receiver::{ok, Receiver, Reply};
    use crate::support::smtp::SmtpSink;
    use crate::support::*;

    const DB_PASSWORD: &str = "hunter2-db-secret";
    const FAILING_DUMP: &str = r#"echo "-- partial dump"
echo "pg_dump: error: connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  password authentication failed for user \"app\"" >&2
exit 1"#;
    const GOOD_DUMP: &str = r#"echo "create table t(x int);"; echo "insert into t values (1);""#;

    /// A once-mode pg backup with `dump` as pg_dump, writing to a local remote.
    fn backup(tmp: &Path, dump: &str) -> Dbstash {
        write_script(tmp, "pg_dump", dump);
        Dbstash::new()
            .fake_bin(tmp)
            .env("ENGINE", "pg")
            .env("DB_HOST", "127.0.0.1")
            .env("DB_NAME", "app")
            .env("DB_PASSWORD", DB_PASSWORD)
            .env("BACKUP_SCHEDULE", "once")
            .env("BACKUP_NAME_TEMPLATE", "{db}-{uuid}")
            .env("RCLONE_REMOTE", local_remote(&tmp.join("remote")))
    }

    fn assert_no_secret(what: &str, text: &str) {
        for secret in [DB_PASSWORD, TOKEN] {
            assert!(!text.contains(secret), "{secret} in {what}:\n{text}");
        }
    }

    #[test]
    fn a_failed_backup_exits_1_and_notifies_once_with_the_error() {
        if require("rclone", s3::INSTALL).is_none() {
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let hook = Receiver::start(vec![ok()]);
        let ping = Receiver::start(vec![ok()]);
        let out = backup(tmp.path(), FAILING_DUMP)
            .env("NOTIFY_WEBHOOK_URL", hook.url(&format!("/hook/{TOKEN}")))
            .env("NOTIFY_PING_URL", ping.url(&format!("/ping/{TOKEN}")))
            .run();
        out.assert_code(1);
        assert_no_secret("stderr", &out.stderr);
        assert_no_secret("stdout", &out.stdout);

        let got = hook.requests();
        assert_eq!(got.len(), 1, "one failure notification: {got:?}");
        let body = got[0].text();
        assert_no_secret("the payload", &body);
        let v = got[0].json();
        assert_eq!(v["event"], "backup");
        assert_eq!(v["status"], "failure");
        assert_eq!(v["stage"], "backup");
        assert_eq!(v["engine"], "pg");
        assert_eq!(v["database"], "app");
        assert_eq!(v["size_bytes"], serde_json::Value::Null);
        assert_eq!(v["sha256"], serde_json::Value::Null);
        assert!(v["duration_ms"].is_u64(), "{v}");
        assert_eq!(v["dbstash_version"], dbstash::VERSION);
        let error = v["error"].as_str().unwrap();
        assert!(
            error.contains("password authentication failed for user"),
            "{error}"
        );

        let pings: Vec<String> = ping
            .requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path.replace(TOKEN, "TOKEN")))
            .collect();
        assert_eq!(pings, ["GET /ping/TOKEN/start", "POST /ping/TOKEN/fail"]);
        let fail = ping.requests()[1].text();
        assert!(fail.contains("password authentication failed"), "{fail}");
        assert_no_secret("the failure ping", &fail);
    }

    #[test]
    fn notify_on_always_announces_a_success_with_its_size_and_sha256() {
        if require("rclone", s3::INSTALL).is_none() {
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let hook = Receiver::start(vec![ok()]);
        let ping = Receiver::start(vec![ok()]);
        let out = backup(tmp.path(), GOOD_DUMP)
            .env("NOTIFY_WEBHOOK_URL", hook.url(&format!("/hook/{TOKEN}")))
            .env("NOTIFY_ON", "always")
            .env("NOTIFY_PING_URL", ping.url(&format!("/ping/{TOKEN}")))
            .run();
        out.assert_code(0);
        assert_no_secret("stderr", &out.stderr);

        let file = single_backup(&tmp.path().join("remote"), ".sql");
        let got = hook.requests();
        assert_eq!(got.len(), 1, "{got:?}");
        assert_no_secret("the payload", &got[0].text());
        let v = got[0].json();
        assert_eq!(v["status"], "success");
        assert_eq!(v["error"], serde_json::Value::Null);
        assert_eq!(
            v["size_bytes"].as_u64(),
            Some(std::fs::metadata(&file).unwrap().len())
        );
        assert_eq!(v["sha256"].as_str(), Some(sha256_hex(&file).as_str()));
        assert!(
            v["file"].as_str().unwrap().ends_with(&file_name(&file)),
            "{v}"
        );
        assert!(v["backup_id"].is_string(), "{v}");
        let pings: Vec<String> = ping
            .requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path.replace(TOKEN, "TOKEN")))
            .collect();
        assert_eq!(pings, ["GET /ping/TOKEN/start", "GET /ping/TOKEN"]);
    }

    #[test]
    fn a_failed_backup_is_emailed() {
        if require("rclone", s3::INSTALL).is_none() {
            return;
        }
        let Some(sink) = SmtpSink::start(None) else {
            return;
        };
        let tmp = tempfile::tempdir().unwrap();
        let out = backup(tmp.path(), FAILING_DUMP)
            .env("NOTIFY_EMAIL_TO", "ops@example.com")
            .env("NOTIFY_EMAIL_FROM", "dbstash@example.com")
            .env("SMTP_HOST", "127.0.0.1")
            .env("SMTP_PORT", sink.port.to_string())
            .env("SMTP_TLS", "none")
            .run();
        out.assert_code(1);
        let mail = sink.wait_for(1, Duration::from_secs(5));
        assert_eq!(mail.len(), 1, "{}", out.stderr);
        let subject = mail[0].header("subject").unwrap();
        assert!(
            subject.starts_with("[dbstash] failure: pg app on "),
            "{subject}"
        );
        let body = mail[0].body();
        assert!(
            body.contains("  pg_dump exited with status 1: pg_dump: error: connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  password authentication failed for user \"app\"\n"),
            "{body}"
        );
        assert_no_secret("the email", &mail[0].raw);
    }

    #[test]
    fn without_ca_certificates_http_webhooks_still_work() {
        if require("rclone", s3::INSTALL).is_none() {
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let hook = Receiver::start(vec![ok()]);
        // rustls-native-certs reads only these when they are set: no CA certificate at all,
        // as in an image FROM scratch.
        let out = backup(tmp.path(), FAILING_DUMP)
            .env("SSL_CERT_FILE", tmp.path().join("none.pem"))
            .env("SSL_CERT_DIR", tmp.path().join("no-certs"))
            .env("NOTIFY_WEBHOOK_URL", hook.url(&format!("/hook/{TOKEN}")))
            .run();
        out.assert_code(1);
        assert!(
            out.stderr.contains("no usable CA certificates"),
            "{}",
            out.stderr
        );
        assert_eq!(hook.requests().len(), 1, "{}", out.stderr);
    }

    #[test]
    fn an_unanswering_webhook_delays_the_exit_by_at_most_the_bound() {
        if require("rclone", s3::INSTALL).is_none() {
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let hook = Receiver::start(vec![Reply::Hang]);
        let start = Instant::now();
        let out = backup(tmp.path(), FAILING_DUMP)
            .env("NOTIFY_WEBHOOK_URL", hook.url(&format!("/hook/{TOKEN}")))
            .run();
        let took = start.elapsed();
        eprintln!("dbstash with a hanging webhook exited after {took:?}");
        out.assert_code(1);
        assert!(took < Duration::from_secs(45), "{took:?}");
        assert_eq!(hook.requests().len(), 3);
        assert!(
            out.stderr
                .contains("notification not delivered after 3 attempts")
                && out
                    .stderr
                    .contains(&format!("http://127.0.0.1:{}", hook.port)),
            "{}",
            out.stderr
        );
        assert_no_secret("stderr", &out.stderr);
    }

    #[test]
    fn a_ping_url_that_never_answers_delays_the_exit_by_at_most_the_bound() {
        if require("rclone", s3::INSTALL).is_none() {
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let ping = Receiver::start(vec![Reply::Hang]);
        let hook = Receiver::start(vec![Reply::Hang]);
        let start = Instant::now();
        let out = backup(tmp.path(), GOOD_DUMP)
            .env("NOTIFY_PING_URL", ping.url(&format!("/ping/{TOKEN}")))
            .env("NOTIFY_WEBHOOK_URL", hook.url(&format!("/hook/{TOKEN}")))
            .env("NOTIFY_ON", "always")
            .run();
        let took = start.elapsed();
        eprintln!("dbstash with a hanging ping URL and webhook exited after {took:?}");
        out.assert_code(0);
        // The start ping, unanswered when the run ends, must not push the end's 33 s back.
        assert!(took < Duration::from_secs(45), "{took:?}");
        let ends = ping
            .requests()
            .iter()
            .filter(|r| r.path == format!("/ping/{TOKEN}"))
            .count();
        assert_eq!(ends, 3, "{:?}", ping.requests());
        assert_eq!(hook.requests().len(), 3);
    }
}
