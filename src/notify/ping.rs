//! The ping URL (healthchecks.io style): `GET URL/start` when a run starts, `GET URL` when
//! it succeeded, `POST URL/fail` with the error as a plain-text body when it failed
//! (healthchecks.io keeps the body in its event log). Sent whatever NOTIFY_ON says: a
//! monitor needs every run to tell a late one from a missing one.
//!
//! Uptime Kuma push URLs (`…/api/push/<token>`) know no `/start` or `/fail`: for them the
//! start is not sent, and the outcome is `GET URL?status=up|down&msg=…&ping=<ms>`.

use secrecy::{ExposeSecret as _, SecretString};
use url::Url;

use super::delivery::{self, Attempt, Policy};
use super::{outcome, subject_line};
use crate::report::{error_tail, Report, Status};

/// The most of an error sent as a failure ping's body (healthchecks.io keeps 100 kB).
const BODY_ERROR_CHARS: usize = 10_000;
/// The most of an error sent in an Uptime Kuma `msg` (it is part of the URL).
const KUMA_MSG_CHARS: usize = 200;

pub enum Event<'a> {
    Start,
    Finished(&'a Report),
}

/// One ping, as data (so tests can see what would be sent).
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    Get(Url),
    Post(Url, String),
}

pub struct Pinger {
    base: Url,
    kuma: bool,
}

impl Pinger {
    pub fn new(url: &SecretString) -> anyhow::Result<Pinger> {
        let base = Url::parse(url.expose_secret().trim())
            .ok()
            .filter(|u| !u.cannot_be_a_base())
            .ok_or_else(|| anyhow::anyhow!("NOTIFY_PING_URL is not an http(s) URL"))?;
        let kuma = base.path().contains("/api/push/");
        Ok(Pinger { base, kuma })
    }

    /// What `event` sends, if anything.
    pub fn request(&self, event: &Event) -> Option<Request> {
        match (event, self.kuma) {
            (Event::Start, false) => Some(Request::Get(self.with_segment("start"))),
            (Event::Start, true) => None,
            (Event::Finished(r), false) => Some(match r.status {
                Status::Success => Request::Get(self.base.clone()),
                Status::Failure => Request::Post(self.with_segment("fail"), fail_body(r)),
            }),
            (Event::Finished(r), true) => Some(Request::Get(self.kuma(r))),
        }
    }

    pub async fn send(
        &self,
        http: &Result<reqwest::Client, String>,
        policy: Policy,
        event: Event<'_>,
    ) {
        let Some(request) = self.request(&event) else {
            return;
        };
        let to = delivery::origin(&self.base);
        delivery::deliver(policy, "ping", &to, || attempt(http, &request, &self.base)).await;
    }

    /// The base URL with `/segment` added to its path (its query, if any, kept).
    fn with_segment(&self, segment: &str) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("checked in new: a base URL")
            .pop_if_empty()
            .push(segment);
        url
    }

    fn kuma(&self, r: &Report) -> Url {
        let mut url = self.base.clone();
        let kept: Vec<(String, String)> = self
            .base
            .query_pairs()
            .filter(|(k, _)| !matches!(k.as_ref(), "status" | "msg" | "ping"))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let (status, msg) = match r.status {
            Status::Success => ("up", "OK".to_string()),
            Status::Failure => {
                let first_line = r
                    .error
                    .as_deref()
                    .and_then(|e| e.lines().rev().find(|l| !l.trim().is_empty()))
                    .unwrap_or("");
                (
                    "down",
                    format!(
                        "{}: {}",
                        outcome(r),
                        error_tail(first_line.trim(), KUMA_MSG_CHARS)
                    ),
                )
            }
        };
        url.query_pairs_mut()
            .clear()
            .extend_pairs(kept)
            .append_pair("status", status)
            .append_pair("msg", &msg)
            .append_pair("ping", &r.duration.as_millis().to_string());
        url
    }
}

/// A failure ping's body: what failed, then the error.
pub fn fail_body(r: &Report) -> String {
    let mut body = format!(
        "{}: {} (stage {})\n",
        outcome(r),
        subject_line(r),
        r.stage.as_str()
    );
    if let Some(e) = &r.error {
        body.push('\n');
        body.push_str(&error_tail(e, BODY_ERROR_CHARS));
        body.push('\n');
    }
    body
}

async fn attempt(http: &Result<reqwest::Client, String>, request: &Request, base: &Url) -> Attempt {
    let client = match http {
        Ok(c) => c,
        Err(e) => return Attempt::GiveUp(e.clone()),
    };
    let sent = match request {
        Request::Get(url) => client.get(url.clone()).send().await,
        Request::Post(url, body) => {
            client
                .post(url.clone())
                .header(reqwest::header::CONTENT_TYPE, "text/plain; charset=utf-8")
                .body(body.clone())
                .send()
                .await
        }
    };
    match sent {
        Ok(response) => super::webhook::judge(response, base).await,
        Err(e) => delivery::http_failure(e),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;

    fn pinger(url: &str) -> Pinger {
        Pinger::new(&SecretString::from(url.to_string())).unwrap()
    }

    fn url(r: Option<Request>) -> String {
        match r.unwrap() {
            Request::Get(u) => format!("GET {u}"),
            Request::Post(u, _) => format!("POST {u}"),
        }
    }

    #[test]
    fn healthchecks_style_paths() {
        let p = pinger("https://hc-ping.com/5f3a-uuid");
        let (ok, bad) = (fixtures::success(), fixtures::failure());
        assert_eq!(
            url(p.request(&Event::Start)),
            "GET https://hc-ping.com/5f3a-uuid/start"
        );
        assert_eq!(
            url(p.request(&Event::Finished(&ok))),
            "GET https://hc-ping.com/5f3a-uuid"
        );
        assert_eq!(
            url(p.request(&Event::Finished(&bad))),
            "POST https://hc-ping.com/5f3a-uuid/fail"
        );
        let Some(Request::Post(_, body)) = p.request(&Event::Finished(&bad)) else {
            panic!()
        };
        assert!(
            body.starts_with(
                "Backup failed: postgres app on db-1 (stage backup)\n\npg_dump exited"
            ),
            "{body}"
        );

        // A query stays a query; the segment goes into the path.
        let q = pinger("http://127.0.0.1:8000/ping/abc?rid=1");
        assert_eq!(
            url(q.request(&Event::Start)),
            "GET http://127.0.0.1:8000/ping/abc/start?rid=1"
        );
    }

    #[test]
    fn uptime_kuma_push_urls_get_status_parameters() {
        let p = pinger("https://kuma.example/api/push/Tok3n?status=up&msg=OK&ping=&x=1");
        assert!(p.request(&Event::Start).is_none());
        assert_eq!(
            url(p.request(&Event::Finished(&fixtures::success()))),
            "GET https://kuma.example/api/push/Tok3n?x=1&status=up&msg=OK&ping=65250"
        );
        let down = url(p.request(&Event::Finished(&fixtures::failure())));
        assert!(
            down.starts_with("GET https://kuma.example/api/push/Tok3n?x=1&status=down&msg=Backup+failed%3A+pg_dump%3A+error"),
            "{down}"
        );
    }
}
