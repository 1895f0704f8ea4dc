//! How a child's failure is told: the tail of its stderr ([`Tail`]), and [`ChildFailed`],
//! its exit status and error output (redacted) with a hint when a database login failed.

use std::fmt;
use std::process::ExitStatus;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::task::JoinHandle;

/// Bytes of a child's stderr kept for its error message.
const TAIL_BYTES: usize = 4096;

/// The tail of a child's stderr, collected by a background task.
pub struct Tail(JoinHandle<String>);

impl Tail {
    pub fn drain<R: AsyncRead + Unpin + Send + 'static>(mut r: R) -> Tail {
        Tail(tokio::spawn(async move {
            let mut kept: Vec<u8> = Vec::new();
            let mut buf = [0u8; 8192];
            loop {
                match r.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        kept.extend_from_slice(&buf[..n]);
                        if kept.len() > 2 * TAIL_BYTES {
                            kept.drain(..kept.len() - TAIL_BYTES);
                        }
                    }
                }
            }
            let start = kept.len().saturating_sub(TAIL_BYTES);
            String::from_utf8_lossy(&kept[start..]).trim().to_string()
        }))
    }

    pub async fn text(self) -> String {
        self.0.await.unwrap_or_default()
    }
}

/// A child that did not exit 0, described for humans: `pg_dump exited with status 1: <stderr>`,
/// and for a database tool whose login failed, a line pointing at the settings to fix.
#[derive(Debug)]
pub struct ChildFailed {
    pub what: String,
    pub code: Option<i32>,
    pub status: String,
    pub stderr: String,
    pub hint: Option<&'static str>,
}

/// The database tools dbstash runs (dumps and connection checks): their stderr is where
/// an authentication failure shows.
const DATABASE_TOOLS: &[&str] = &[
    "pg_dump",
    "pg_dumpall",
    "psql",
    "mysqldump",
    "mariadb-dump",
    "mysql",
    "mariadb",
    "redis-cli",
    "mongodump",
];

const HINT_NO_PASSWORD: &str = "hint: the server asks for a password and none was given: set DB_PASSWORD or DB_PASSWORD_FILE, or put it in DB_URI (scheme://user:password@host/…)";
const HINT_WRONG_PASSWORD: &str = "hint: the database rejected the login: check DB_PASSWORD, DB_PASSWORD_FILE or the password in DB_URI (and the user name)";

/// The hint for a failed login, recognised in a database tool's error output: PostgreSQL,
/// MySQL/MariaDB, Redis and MongoDB each word it their own way. A rejected password wins over
/// Redis's `NOAUTH`, which follows it (`AUTH failed: WRONGPASS …`, then `NOAUTH …`).
pub fn auth_hint(output: &str) -> Option<&'static str> {
    let no_password = ["fe_sendauth: no password supplied", "(using password: NO)"];
    let rejected = [
        "password authentication failed",
        "Access denied for user",
        "WRONGPASS",
        "invalid password",
        "invalid username-password pair",
        "Authentication failed",
        "AuthenticationFailed",
    ];
    if no_password.iter().any(|p| output.contains(p)) {
        Some(HINT_NO_PASSWORD)
    } else if rejected.iter().any(|p| output.contains(p)) {
        Some(HINT_WRONG_PASSWORD)
    } else if output.contains("NOAUTH") {
        Some(HINT_NO_PASSWORD)
    } else {
        None
    }
}

impl ChildFailed {
    pub fn new(what: &str, status: ExitStatus, stderr: String) -> ChildFailed {
        use std::os::unix::process::ExitStatusExt;
        let status_text = match (status.code(), status.signal()) {
            (Some(c), _) => format!("exited with status {c}"),
            (None, Some(s)) => format!("was killed by signal {s}"),
            _ => format!("ended with {status}"),
        };
        ChildFailed {
            what: what.to_string(),
            code: status.code(),
            status: status_text,
            hint: DATABASE_TOOLS
                .contains(&what)
                .then(|| auth_hint(&stderr))
                .flatten(),
            // rclone echoes remote strings, credentials included, in its errors. Registered
            // secrets go first: the remote pattern, cutting a quoted value at its first
            // escaped quote, would leave the rest of such a secret unrecognisable.
            stderr: crate::remote::redact_remote(&crate::redact::redact(&stderr)),
        }
    }
}

impl fmt::Display for ChildFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.what, self.status)?;
        if self.stderr.is_empty() {
            f.write_str(" (no error output)")?;
        } else {
            write!(f, ": {}", self.stderr)?;
        }
        if let Some(hint) = self.hint {
            write!(f, "\n{hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ChildFailed {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    /// Real error output of each engine's tools for a missing or a wrong password.
    #[test]
    fn authentication_failures_point_at_the_password_settings() {
        let cases = [
            ("pg_dump", "pg_dump: error: connection to server at \"127.0.0.1\", port 5432 failed: fe_sendauth: no password supplied", Some(HINT_NO_PASSWORD)),
            ("psql", "psql: error: connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  password authentication failed for user \"postgres\"", Some(HINT_WRONG_PASSWORD)),
            ("mariadb-dump", "mariadb-dump: Got error: 1045: \"Access denied for user 'root'@'localhost' (using password: YES)\" when trying to connect", Some(HINT_WRONG_PASSWORD)),
            ("mysql", "ERROR 1045 (28000): Access denied for user 'app'@'10.0.0.2' (using password: NO)", Some(HINT_NO_PASSWORD)),
            ("redis-cli", "NOAUTH Authentication required.", Some(HINT_NO_PASSWORD)),
            ("redis-cli", "AUTH failed: WRONGPASS invalid username-password pair or user is disabled.", Some(HINT_WRONG_PASSWORD)),
            ("redis-cli", "AUTH failed: ERR invalid password", Some(HINT_WRONG_PASSWORD)),
            // redis-cli --rdb with a wrong password, as Redis 7 words it.
            ("redis-cli", "AUTH failed: WRONGPASS invalid username-password pair or user is disabled.\nsending REPLCONF capa eof\nREPLCONF capa error: NOAUTH Authentication required.\nSYNC with master failed: -NOAUTH Authentication required.", Some(HINT_WRONG_PASSWORD)),
            ("mongodump", "Failed: can't create session: failed to connect to mongodb://m:27017/: connection() error occurred during connection handshake: auth error: sasl conversation error: unable to authenticate using mechanism \"SCRAM-SHA-256\": (AuthenticationFailed) Authentication failed.", Some(HINT_WRONG_PASSWORD)),
            ("pg_dump", "pg_dump: error: connection to server at \"127.0.0.1\", port 5432 failed: Connection refused", None),
            ("mysqldump", "mysqldump: Got error: 1049: \"Unknown database 'shop'\" when selecting the database", None),
        ];
        for (program, stderr, want) in cases {
            assert_eq!(auth_hint(stderr), want, "{stderr}");
            let e = ChildFailed::new(program, ExitStatus::from_raw(1 << 8), stderr.into());
            assert_eq!(e.hint, want, "{program}");
            let text = e.to_string();
            match want {
                Some(h) => assert!(text.ends_with(&format!("\n{h}")), "{text}"),
                None => assert!(!text.contains("hint:"), "{text}"),
            }
        }
        // Not a database tool: rclone's and hooks' errors get no password hint.
        for what in ["rclone rcat", "HOOK_PRE_BACKUP"] {
            let e = ChildFailed::new(
                what,
                ExitStatus::from_raw(1 << 8),
                "Access denied for user 'x'".into(),
            );
            assert_eq!(e.hint, None, "{what}");
        }
    }
}
