//! The last line of defence for secrets: every secret value of the configuration is
//! registered once at start, and every text that leaves dbstash (log lines, tool errors,
//! notifications, hook variables, `/healthz`) has them replaced by `***`. A dump tool that
//! echoes its password (or a URI holding it) in an error must not carry it into a Slack
//! channel.
//!
//! Secrets are registered in every form they can take on the way out: as a child may echo
//! them (raw, percent-encoded in a URI, quoted Go-style by rclone's "starting with parameters"
//! line, JSON-escaped by a tool's JSON log), each as dbstash may print that (as is, escaped
//! in a JSON log line, escaped in a text log line). Besides dbstash's own secrets, the
//! values of secret-looking flags and options it passes on (RCLONE_EXTRA_ARGS,
//! DUMP_EXTRA_ARGS, the remote string, rclone's environment) are registered too: see
//! `argv::arg_secrets` and `rclone::secrets`.

use std::sync::RwLock;

/// Shorter values are not redacted: replacing every `ab` in every log line would make logs
/// unreadable, and such a password protects nothing anyway.
const MIN_LEN: usize = 4;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Percent-encoding that keeps RFC 3986's unreserved characters (`-._~`), as URL libraries
/// write userinfo and query values.
const URI_COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Values that flags take which are never secrets, though a secret-looking flag may carry
/// them (`--ask-password=false`): redacting them would garble every log line.
const NOT_SECRETS: &[&str] = &["true", "false", "yes", "no", "on", "off"];

/// Remember `secret` in every form it may be printed in.
pub fn register(secret: &str) {
    if secret.chars().count() < MIN_LEN
        || NOT_SECRETS.contains(&secret.to_ascii_lowercase().as_str())
    {
        return;
    }
    let forms = forms(secret);
    let Ok(mut all) = SECRETS.write() else { return };
    for s in forms {
        if !all.contains(&s) {
            all.push(s);
        }
    }
    // Longest first, so a secret containing another is replaced whole.
    all.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// [`register`] each of `secrets`.
pub fn register_all<S: AsRef<str>>(secrets: impl IntoIterator<Item = S>) {
    for s in secrets {
        register(s.as_ref());
    }
}

/// How `secret` may look in dbstash's output: each form a child may echo it in, as each of
/// dbstash's outputs may escape it.
fn forms(secret: &str) -> Vec<String> {
    let echoed = [
        secret.to_string(),
        percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC)
            .to_string(),
        percent_encoding::utf8_percent_encode(secret, URI_COMPONENT).to_string(),
        // Query strings and forms: a space becomes `+`.
        percent_encoding::utf8_percent_encode(secret, URI_COMPONENT)
            .to_string()
            .replace("%20", "+"),
        go_quoted(secret),
        json_escaped(secret),
    ];
    let mut out: Vec<String> = Vec::new();
    for e in echoed {
        // As is (hook variables, notifications, /healthz before its JSON encoding), in a JSON
        // log line, in a text log line (Rust's debug escaping: quoted field values, messages
        // and the lines of multi-line blocks).
        for printed in [
            json_escaped(&e),
            format!("{e:?}").trim_matches('"').to_string(),
            e.escape_debug().to_string(),
            block_escaped(&e),
            e,
        ] {
            if !out.contains(&printed) {
                out.push(printed);
            }
        }
    }
    out
}

/// The inside of a JSON string.
fn json_escaped(s: &str) -> String {
    let quoted = serde_json::Value::from(s).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

/// The inside of a Go `%q` (strconv.Quote) string, as rclone prints its command line.
fn go_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// A line of a multi-line value in a text log record (see `logging`): tabs become four
/// spaces, other control characters are escaped.
fn block_escaped(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' => "    ".to_string(),
            c if c.is_control() => c.escape_debug().to_string(),
            c => c.to_string(),
        })
        .collect()
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
        register("false"); // a flag's switch value, not a secret
        assert_eq!(
            redact("FATAL: password authentication failed for hunter2-pass"),
            "FATAL: password authentication failed for ***"
        );
        assert_eq!(
            redact("uri postgresql://u:p%40ss%20word%2F1@h/db"),
            "uri postgresql://u:***@h/db"
        );
        assert_eq!(redact("q=p%40ss+word%2F1&x"), "q=***&x");
        assert_eq!(redact("abc stays"), "abc stays");
        assert_eq!(redact("\"running\":false"), "\"running\":false");
        assert_eq!(redact("nothing here"), "nothing here");
    }

    /// A secret with characters each layer escapes, as rclone echoes it and as dbstash's
    /// JSON and text log lines then escape that again.
    #[test]
    fn escaped_forms_of_a_secret_are_redacted_too() {
        let secret = "Sec\"ret\\Back\tTab";
        register(secret);
        let rclone = format!(
            "starting with parameters [\"rclone\" \"--s3-secret-access-key\" \"{}\"]",
            go_quoted(secret)
        );
        assert_eq!(
            rclone,
            r#"starting with parameters ["rclone" "--s3-secret-access-key" "Sec\"ret\\Back\tTab"]"#
        );
        let json_line = serde_json::json!({ "error": rclone }).to_string();
        let text_field = format!("error={rclone:?}");
        let text_block = block_escaped(&rclone);
        for printed in [&rclone, &json_line, &text_field, &text_block] {
            let shown = redact(printed);
            assert!(!shown.contains("Sec"), "{shown}");
            assert!(shown.contains("***"), "{shown}");
        }
        let raw_json = serde_json::json!({ "error": secret }).to_string();
        assert_eq!(redact(&raw_json), r#"{"error":"***"}"#);
        assert_eq!(redact(&format!("{secret:?}")), "\"***\"");
    }

    #[test]
    fn go_quoting_matches_strconv_quote() {
        assert_eq!(go_quoted("a\"b\\c"), r#"a\"b\\c"#);
        assert_eq!(go_quoted("\u{1}\u{7f}\n"), r"\x01\x7f\n");
        assert_eq!(go_quoted("ünï €"), "ünï €");
    }
}
