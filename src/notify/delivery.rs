//! How one notification is delivered: a time limit per attempt, a few attempts with backoff
//! for failures that may pass (network errors, timeouts, HTTP 5xx and 429, SMTP 4xx), none
//! for those that will not (other HTTP 4xx, SMTP 5xx, a TLS setup the server refuses), and
//! one warning when it could not be delivered. Nothing here can fail a backup.

use std::future::Future;
use std::time::Duration;

use tracing::{debug, info, warn};
use url::Url;

/// The retry policy. [`Policy::DEFAULT`] is what dbstash uses; tests shrink the times.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// The limit on one attempt, from connecting to reading the answer.
    pub timeout: Duration,
    /// The pause before each retry: its length is the number of retries.
    pub backoff: &'static [Duration],
}

impl Policy {
    pub const DEFAULT: Policy = Policy {
        timeout: Duration::from_secs(10),
        backoff: &[Duration::from_secs(1), Duration::from_secs(2)],
    };

    pub fn attempts(&self) -> usize {
        self.backoff.len() + 1
    }

    /// The longest one channel can take: every attempt timing out, plus the pauses
    /// (33 s with the default policy). Channels are sent concurrently, so this also bounds
    /// [`super::Notifier::finished`].
    pub fn bound(&self) -> Duration {
        self.timeout * self.attempts() as u32 + self.backoff.iter().sum::<Duration>()
    }
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Delivered; the text says how the receiver answered (for the debug log).
    Delivered(String),
    /// Failed in a way that may pass: try again (if attempts are left).
    Retry(String),
    /// Failed in a way another attempt will not fix.
    GiveUp(String),
}

/// The HTTP rule: 2xx is delivered; 429 and 5xx are retried; anything else (other 4xx, and
/// 3xx: redirects are not followed, as they would turn a POST into a GET) is not.
pub fn http_status(status: reqwest::StatusCode) -> Attempt {
    let text = match status.canonical_reason() {
        Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    };
    if status.is_success() {
        Attempt::Delivered(text)
    } else if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        Attempt::Retry(text)
    } else if status.is_redirection() {
        Attempt::GiveUp(format!(
            "{text} (redirects are not followed: use the final URL)"
        ))
    } else {
        Attempt::GiveUp(text)
    }
}

/// A reqwest error as text, without the URL (it holds the webhook's token). The innermost
/// cause is the one that says what happened ("Connection refused", "invalid peer
/// certificate: UnknownIssuer"); hyper's layers above it ("client error (Connect)") do not.
pub fn http_error(e: reqwest::Error) -> String {
    let e = e.without_url();
    if e.is_timeout() {
        return "timed out".into();
    }
    let mut innermost: Option<&(dyn std::error::Error + 'static)> = None;
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        innermost = Some(s);
        source = s.source();
    }
    let cause = innermost.map(|s| s.to_string());
    match (e.is_connect(), cause) {
        (true, Some(cause)) => format!("cannot connect: {cause}"),
        (true, None) => "cannot connect".into(),
        (false, Some(cause)) => format!("{e}: {cause}"),
        (false, None) => e.to_string(),
    }
}

/// A failed HTTP request as an [`Attempt`]: a TLS failure is not retried, anything else
/// (refused, reset, timed out, no DNS answer) is.
pub fn http_failure(e: reqwest::Error) -> Attempt {
    if e.is_connect() && tls_failed(&e) {
        Attempt::GiveUp(format!("TLS failed: {}", http_error(e)))
    } else {
        Attempt::Retry(http_error(e))
    }
}

/// Whether `e` was caused by a failed TLS handshake: rustls reports one (a server that does
/// not speak TLS on that port, a certificate that does not verify) as an I/O error of kind
/// `InvalidData`, which reqwest and lettre wrap. Another attempt would fail the same way.
pub fn tls_failed(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = e.source();
    while let Some(s) = source {
        if s.downcast_ref::<std::io::Error>().is_some_and(invalid_data) {
            return true;
        }
        source = s.source();
    }
    false
}

/// An `InvalidData` I/O error, or one wrapped in another I/O error (hyper wraps rustls's in
/// one of kind `Other`; `source()` skips the wrapped one, so look inside).
fn invalid_data(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::InvalidData
        || e.get_ref()
            .and_then(|inner| inner.downcast_ref::<std::io::Error>())
            .is_some_and(invalid_data)
}

/// The part of a secret URL that may be logged: scheme, host and port. The path and query
/// hold webhook tokens and ping UUIDs.
pub fn origin(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

/// `text` (a receiver's answer, for the log) with every part of `url` that could be secret
/// removed: the whole URL, its path and query, each longer path segment, and a password in
/// it, also as the Basic credentials the request carried it in. Some servers echo the request
/// line ("Cannot POST /hooks/<token>"), some the whole request.
pub fn scrub(text: &str, url: &Url) -> String {
    let mut secrets: Vec<String> = vec![url.as_str().to_string(), url.path().to_string()];
    if let Some(q) = url.query() {
        secrets.push(q.to_string());
    }
    if let Some(password) = url.password() {
        use base64::Engine as _;
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let (user, plain) = (decode(url.username()), decode(password));
        secrets.push(base64::engine::general_purpose::STANDARD.encode(format!("{user}:{plain}")));
        secrets.extend([password.to_string(), plain]);
    }
    if let Some(segments) = url.path_segments() {
        secrets.extend(segments.filter(|s| s.len() >= 6).map(str::to_string));
    }
    // Longest first, so a segment never splits a longer match.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| s.len() > 1) {
        out = out.replace(s.as_str(), "***");
    }
    out
}

/// A receiver's answer shortened to one line for the log.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut chars = one_line.chars();
    let short: String = chars.by_ref().take(200).collect();
    if chars.next().is_some() {
        format!("{short}…")
    } else {
        short
    }
}

/// Run `attempt` until it delivers, gives up, or the attempts run out, each one cut off at
/// the policy's timeout. `channel` ("webhook", "email", "ping") and `to` (never a secret:
/// an origin or an SMTP host) name the delivery in the log. Returns whether it was delivered.
pub async fn deliver<F, Fut>(policy: Policy, channel: &str, to: &str, mut attempt: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Attempt>,
{
    let attempts = policy.attempts();
    let mut last = String::new();
    for n in 1..=attempts {
        let outcome = match tokio::time::timeout(policy.timeout, attempt()).await {
            Ok(outcome) => outcome,
            Err(_) => Attempt::Retry(format!("no answer within {:?}", policy.timeout)),
        };
        match outcome {
            Attempt::Delivered(how) => {
                if n > 1 {
                    info!(
                        channel,
                        to,
                        attempt = n,
                        "notification delivered after a retry ({how})"
                    );
                } else {
                    debug!(channel, to, "notification delivered ({how})");
                }
                return true;
            }
            Attempt::GiveUp(why) => {
                warn!(
                    channel,
                    to,
                    attempt = n,
                    "notification not delivered: {why} (not retried)"
                );
                return false;
            }
            Attempt::Retry(why) => {
                if let Some(pause) = policy.backoff.get(n - 1) {
                    debug!(
                        channel,
                        to,
                        attempt = n,
                        "notification attempt failed: {why}; retrying in {pause:?}"
                    );
                    tokio::time::sleep(*pause).await;
                }
                last = why;
            }
        }
    }
    warn!(
        channel,
        to, attempts, "notification not delivered after {attempts} attempts: {last}"
    );
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const FAST: Policy = Policy {
        timeout: Duration::from_millis(200),
        backoff: &[Duration::from_millis(1), Duration::from_millis(2)],
    };

    #[test]
    fn the_default_bound_is_33_seconds() {
        assert_eq!(Policy::DEFAULT.attempts(), 3);
        assert_eq!(Policy::DEFAULT.bound(), Duration::from_secs(33));
    }

    #[test]
    fn http_statuses_are_retried_only_when_they_may_pass() {
        let kind = |code: u16| match http_status(StatusCode::from_u16(code).unwrap()) {
            Attempt::Delivered(_) => "delivered",
            Attempt::Retry(_) => "retry",
            Attempt::GiveUp(_) => "give up",
        };
        for (code, want) in [
            (200, "delivered"),
            (204, "delivered"),
            (301, "give up"),
            (400, "give up"),
            (403, "give up"),
            (404, "give up"),
            (410, "give up"),
            (429, "retry"),
            (500, "retry"),
            (502, "retry"),
            (503, "retry"),
        ] {
            assert_eq!(kind(code), want, "HTTP {code}");
        }
        assert_eq!(
            http_status(StatusCode::NOT_FOUND),
            Attempt::GiveUp("HTTP 404 Not Found".into())
        );
    }

    #[test]
    fn logs_see_only_the_origin_and_scrubbed_answers() {
        let url =
            Url::parse("https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX?x=tok").unwrap();
        assert_eq!(origin(&url), "https://hooks.slack.com");
        let url2 = Url::parse("http://user:pw@127.0.0.1:8080/api/webhooks/1/abcdef").unwrap();
        assert_eq!(origin(&url2), "http://127.0.0.1:8080");
        let answer = "Cannot POST /services/T000/B000/XXXXsecretXXXX?x=tok; token XXXXsecretXXXX";
        let s = scrub(answer, &url);
        assert!(!s.contains("secret") && !s.contains("tok;"), "{s}");
        assert_eq!(snippet(b"  no_service\n\n "), "no_service");
        assert_eq!(snippet("x".repeat(300).as_bytes()).chars().count(), 201);
    }

    async fn run(outcomes: Vec<Attempt>) -> (bool, usize) {
        let calls = AtomicUsize::new(0);
        let delivered = deliver(FAST, "test", "nowhere", || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            let outcome = outcomes[n].clone();
            async move { outcome }
        })
        .await;
        (delivered, calls.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn retries_until_delivered_or_out_of_attempts() {
        let retry = || Attempt::Retry("HTTP 500".into());
        let ok = || Attempt::Delivered("HTTP 200".into());
        assert_eq!(run(vec![ok()]).await, (true, 1));
        assert_eq!(run(vec![retry(), retry(), ok()]).await, (true, 3));
        assert_eq!(run(vec![retry(), retry(), retry()]).await, (false, 3));
        assert_eq!(
            run(vec![retry(), Attempt::GiveUp("HTTP 404".into())]).await,
            (false, 2)
        );
    }

    #[tokio::test]
    async fn an_attempt_that_never_ends_is_cut_off_and_retried() {
        let calls = AtomicUsize::new(0);
        let start = std::time::Instant::now();
        let delivered = deliver(FAST, "test", "nowhere", || {
            calls.fetch_add(1, Ordering::SeqCst);
            std::future::pending::<Attempt>()
        })
        .await;
        assert!(!delivered);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        let took = start.elapsed();
        assert!(took >= FAST.timeout * 3, "{took:?}");
        assert!(took < FAST.bound() + Duration::from_millis(500), "{took:?}");
    }
}
