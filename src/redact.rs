//! The last line of defence for secrets: every secret value of the configuration is
//! registered once at start, and every text that leaves dbstash (log lines, tool errors,
//! notifications, hook variables) has them replaced by `***`. A dump tool that echoes its
//! password (or a URI holding it) in an error must not carry it into a Slack channel.

use std::sync::RwLock;

/// Shorter values are not redacted: replacing every `ab` in every log line would make logs
/// unreadable, and such a password protects nothing anyway.
const MIN_LEN: usize = 4;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Remember `secret` (and its percent-encoded form, as it appears inside URIs).
pub fn register(secret: &str) {
    if secret.chars().count() < MIN_LEN {
        return;
    }
    let encoded = percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC)
        .to_string();
    let Ok(mut all) = SECRETS.write() else { return };
    for s in [secret.to_string(), encoded] {
        if !all.contains(&s) {
            all.push(s);
        }
    }
    // Longest first, so a secret containing another is replaced whole.
    all.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// `text` with every registered secret replaced by `***`.
pub fn redact(text: &str) -> String {
    let Ok(all) = SECRETS.read() else {
        return text.to_string();
    };
    if all.is_empty() || !all.iter().any(|s| text.contains(s.as_str())) {
        return text.to_string();
    }
    let mut out = text.to_string();
    for s in all.iter() {
        out = out.replace(s.as_str(), "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_disappear_from_any_text() {
        register("hunter2-pass");
        register("p@ss word/1");
        register("abc"); // too short to redact
        assert_eq!(
            redact("FATAL: password authentication failed for hunter2-pass"),
            "FATAL: password authentication failed for ***"
        );
        assert_eq!(
            redact("uri postgresql://u:p%40ss%20word%2F1@h/db"),
            "uri postgresql://u:***@h/db"
        );
        assert_eq!(redact("abc stays"), "abc stays");
        assert_eq!(redact("nothing here"), "nothing here");
    }
}
