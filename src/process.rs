//! Child processes: every child gets its own process group (so a kill reaches whatever it
//! forked, e.g. pg_dumpall's pg_dump), dies with dbstash (`PR_SET_PDEATHSIG`), and has its
//! stderr drained while it runs, the tail kept for error messages.

use std::fmt;
use std::io;
use std::process::{ExitStatus, Stdio};

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::task::JoinHandle;

/// Bytes of a child's stderr kept for its error message.
const TAIL_BYTES: usize = 4096;

/// dbstash's own secret variables: children get what they need explicitly (`PGPASSWORD`,
/// `--config FILE`), never these.
const SECRET_VARS: &[&str] = &[
    "DB_URI",
    "DB_PASSWORD",
    "RCLONE_CONFIG",
    "NOTIFY_WEBHOOK_URL",
    "NOTIFY_PING_URL",
    "SMTP_PASSWORD",
];

/// A command with stdin closed, stdout and stderr piped, in a new process group, killed with
/// dbstash.
pub fn command(program: &str) -> Command {
    let mut cmd = Command::new(program);
    for var in SECRET_VARS {
        cmd.env_remove(var);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    let parent = std::process::id();
    // SAFETY: only async-signal-safe calls (prctl, getppid, _exit) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            // dbstash died before prctl took effect: do not run orphaned.
            if libc::getppid() as u32 != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    cmd
}

/// SIGKILL a child's whole process group. Harmless if it is already gone.
pub fn kill_group(pgid: Option<u32>) {
    if let Some(pid) = pgid {
        // SAFETY: plain syscall; a stale group gives ESRCH, which we ignore.
        unsafe {
            libc::killpg(pid as libc::pid_t, libc::SIGKILL);
        }
    }
}

/// A database tool's command: `program` (the engine's, or its fallback) with the command's
/// arguments and environment, and its secret file (see [`secret_file`]) passed the way the
/// engine asks for.
pub fn tool_command(
    dc: &crate::engine::DumpCommand,
    program: &str,
    secret_file: Option<&std::path::Path>,
) -> Command {
    use crate::engine::PassPath;
    use secrecy::ExposeSecret as _;
    let mut cmd = command(program);
    if let (Some(sf), Some(path)) = (&dc.secret_file, secret_file) {
        match sf.pass {
            PassPath::Flag(flag) => {
                cmd.arg(format!("{flag}{}", path.display()));
            }
            PassPath::Env(var) => {
                cmd.env(var, path);
            }
        }
    }
    cmd.args(&dc.args);
    for (k, v) in &dc.env {
        cmd.env(k, v.expose_secret());
    }
    cmd
}

/// A 0600 temp file holding a secret for a child (tempfile creates files with mode 0600);
/// removed when dropped, so it cannot outlive the run.
pub fn secret_file(content: &str) -> anyhow::Result<tempfile::NamedTempFile> {
    use std::io::Write as _;
    let mut f = tempfile::Builder::new()
        .prefix("dbstash-secret-")
        .tempfile()
        .map_err(|e| anyhow::anyhow!("creating a temp file for the credentials: {e}"))?;
    f.write_all(content.as_bytes())
        .and_then(|_| f.flush())
        .map_err(|e| anyhow::anyhow!("writing the credentials file: {e}"))?;
    Ok(f)
}

/// Kills a process group when dropped: whatever a child forked dies with it.
pub struct GroupGuard(Option<u32>);

impl GroupGuard {
    pub fn new(pgid: Option<u32>) -> GroupGuard {
        GroupGuard(pgid)
    }

    /// The group's leader was reaped and nothing else runs in it: its id may be reused, so
    /// never signal it again.
    pub fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        kill_group(self.0);
    }
}

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
            // rclone echoes remote strings, credentials included, in its errors.
            stderr: crate::rclone::redact_remote(&stderr),
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

/// Run a short command to completion, optionally feeding `input` on stdin; its stdout on
/// success, a [`ChildFailed`] otherwise.
pub async fn run(mut cmd: Command, what: &str, input: Option<&[u8]>) -> anyhow::Result<Vec<u8>> {
    use tokio::io::AsyncWriteExt;
    if input.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = cmd.spawn().map_err(|e| spawn_error(what, e))?;
    // Dropped early (a caller's time limit ran out): the whole group dies.
    let mut group = GroupGuard::new(child.id());
    let stderr = Tail::drain(child.stderr.take().expect("stderr is piped"));
    let mut stdout_pipe = child.stdout.take().expect("stdout is piped");
    let writer = {
        let stdin = child.stdin.take();
        let input = input.map(<[u8]>::to_vec);
        tokio::spawn(async move {
            if let (Some(mut stdin), Some(input)) = (stdin, input) {
                stdin.write_all(&input).await?;
                stdin.shutdown().await?;
            }
            Ok::<(), io::Error>(())
        })
    };
    let mut stdout = Vec::new();
    let read = stdout_pipe.read_to_end(&mut stdout).await;
    let status = child.wait().await?;
    group.disarm();
    let write = writer.await?;
    if !status.success() {
        return Err(ChildFailed::new(what, status, stderr.text().await).into());
    }
    read?;
    write.map_err(|e| anyhow::anyhow!("{what}: writing its input failed: {e}"))?;
    Ok(stdout)
}

/// Spawning failed: say which program, and how to get it when it is missing.
pub fn spawn_error(what: &str, e: io::Error) -> anyhow::Error {
    if e.kind() == io::ErrorKind::NotFound {
        anyhow::anyhow!("{what}: program not found on PATH ({e})")
    } else {
        anyhow::anyhow!("{what}: could not start: {e}")
    }
}

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
