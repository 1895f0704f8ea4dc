//! One long-lived `rclone rcd` per [`Rclone`](super::Rclone) answers its control calls
//! (list, stat, features, small uploads, renames, deletes) over a unix socket in a private
//! 0700 directory: each fresh rclone process costs 45-60 ms of wall time and as much CPU, a
//! call to the running daemon 1-7 ms.
//!
//! The daemon is a child like the others ([`process::command_with`]): its own process group,
//! registered with the watchdog, SIGKILLed at once if dbstash dies (an upload it is serving
//! must not complete from a request cut short). Dropping the [`Daemon`] stops it: SIGTERM,
//! then SIGKILL. Requests are HTTP/1.1 POSTs of JSON, one connection each.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::UnixStream;
use tokio::process::{Child, Command};

use crate::process;

/// How long the daemon may take to answer `rc/noop` after its start (it takes 0.08-0.09 s).
const START_LIMIT: Duration = Duration::from_secs(5);

/// A socket directory this old whose socket answers no one was left by a killed dbstash.
const STALE_AFTER: Duration = Duration::from_secs(60);

/// The prefix of the socket directories in the temp dir.
const DIR_PREFIX: &str = "dbstash-rcd-";

/// How long the daemon gets to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_millis(500);

/// The environment variable that turns the daemon off: `0` (or `false`, `off`, `no`) runs
/// every control call as its own rclone process, as before.
pub const SWITCH: &str = "DBSTASH_RCLONE_RCD";

/// Whether control calls may go to a daemon (see [`SWITCH`]).
pub fn enabled() -> bool {
    !matches!(
        std::env::var(SWITCH)
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref(),
        Ok("0" | "false" | "off" | "no")
    )
}

/// A running `rclone rcd`.
pub struct Daemon {
    child: Child,
    /// The daemon's process group (its pid).
    pgid: Option<u32>,
    socket: PathBuf,
    /// The private directory of the socket, removed when dropped.
    _dir: tempfile::TempDir,
}

/// An answer of the daemon other than 200: rclone's error text (redacted) and the HTTP
/// status (404: the directory or object does not exist).
#[derive(Debug)]
pub struct RcFailed {
    pub what: String,
    pub status: u16,
    pub error: String,
}

impl std::fmt::Display for RcFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} failed: {}", self.what, self.error)
    }
}

impl std::error::Error for RcFailed {}

/// Why a call did not get an answer.
#[derive(Debug)]
pub enum CallError {
    /// The daemon could not be reached: the request was never sent, another way is safe.
    Unreachable(std::io::Error),
    /// rclone answered with an error.
    Failed(RcFailed),
    /// The request was sent but the exchange broke off: whether it took effect is unknown.
    Broken(anyhow::Error),
}

impl Daemon {
    /// Start `cmd` (`rclone [--config F] rcd EXTRA_ARGS`, its environment set) serving on a
    /// socket in a new private directory, and wait until it answers `rc/noop`.
    pub async fn start(mut cmd: Command) -> anyhow::Result<Daemon> {
        remove_stale(&std::env::temp_dir());
        // Created 0700 (mkdir's mode, not a chmod after it): with a permissive umask the
        // directory must never be open to others, who could bind rc.sock first and answer
        // dbstash's control calls.
        let dir = {
            use std::os::unix::fs::PermissionsExt as _;
            tempfile::Builder::new()
                .prefix(DIR_PREFIX)
                .permissions(std::fs::Permissions::from_mode(0o700))
                .tempdir()
                .context("creating the private directory of rclone rcd's socket")?
        };
        let socket = dir.path().join("rc.sock");
        let mut addr = std::ffi::OsString::from("unix://");
        addr.push(&socket);
        cmd.arg("--rc-addr")
            .arg(addr)
            .arg("--rc-no-auth")
            .stdout(std::process::Stdio::null());
        let mut child = cmd.spawn().context("starting rclone rcd")?;
        let pgid = child.id();
        // Its log (errors of calls it answered, -v output) goes nowhere: each answer carries
        // its own error.
        let stderr = child.stderr.take().map(process::Tail::drain);
        let mut daemon = Daemon {
            child,
            pgid,
            socket,
            _dir: dir,
        };
        let started = Instant::now();
        loop {
            match daemon
                .call("rc/noop", &Value::Object(Default::default()))
                .await
            {
                Ok(_) => return Ok(daemon),
                Err(CallError::Unreachable(_)) => {}
                Err(CallError::Failed(e)) => anyhow::bail!("rclone rcd: rc/noop: {e}"),
                Err(CallError::Broken(e)) => anyhow::bail!("rclone rcd: rc/noop: {e:#}"),
            }
            if let Ok(Some(status)) = daemon.child.try_wait() {
                // Reaped: its group id must not be signalled again.
                process::group_reaped(daemon.pgid.take());
                let tail = match stderr {
                    Some(t) => t.text().await,
                    None => String::new(),
                };
                anyhow::bail!("rclone rcd ended ({status}) before answering: {tail}");
            }
            if started.elapsed() > START_LIMIT {
                anyhow::bail!(
                    "rclone rcd did not answer within {}",
                    crate::durations::fmt_human(START_LIMIT)
                );
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The daemon's pid.
    pub fn pid(&self) -> Option<u32> {
        self.pgid
    }

    /// POST `body` (JSON) to `method` (`operations/list`); the JSON answer.
    pub async fn call(&self, method: &str, body: &Value) -> Result<Value, CallError> {
        let body = serde_json::to_vec(body).map_err(|e| CallError::Broken(e.into()))?;
        self.post(method, "application/json", body.into(), method)
            .await
    }

    /// `operations/uploadfile`: `content` becomes `name` in folder `remote` of `fs`,
    /// `config` (JSON, the `_config` parameter) overriding rclone's options for this call.
    /// `None` when `name` cannot travel in a multipart header (the caller uses a process).
    pub async fn upload(
        &self,
        fs: &str,
        remote: &str,
        name: &str,
        content: &[u8],
        config: Option<&Value>,
    ) -> Option<Result<Value, CallError>> {
        if name.is_empty()
            || name
                .chars()
                .any(|c| matches!(c, '"' | '\\' | '/' | '\r' | '\n' | '\0'))
        {
            return None;
        }
        let boundary = format!("dbstash-{}", uuid::Uuid::new_v4().simple());
        let mut body = Vec::with_capacity(content.len() + 256);
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file0\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let query = {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            q.append_pair("fs", fs).append_pair("remote", remote);
            if let Some(c) = config {
                q.append_pair("_config", &c.to_string());
            }
            q.finish()
        };
        let target = format!("operations/uploadfile?{query}");
        Some(
            self.post(
                &target,
                &format!("multipart/form-data; boundary={boundary}"),
                body.into(),
                "operations/uploadfile",
            )
            .await,
        )
    }

    async fn post(
        &self,
        target: &str,
        content_type: &str,
        body: Bytes,
        method: &str,
    ) -> Result<Value, CallError> {
        let stream = UnixStream::connect(&self.socket)
            .await
            .map_err(CallError::Unreachable)?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| CallError::Unreachable(std::io::Error::other(e)))?;
        let conn = tokio::spawn(conn);
        let request = hyper::Request::post(format!("/{target}"))
            .header(hyper::header::HOST, "localhost")
            .header(hyper::header::CONTENT_TYPE, content_type)
            .body(Full::new(body))
            .map_err(|e| CallError::Broken(e.into()))?;
        let broken =
            |e: anyhow::Error| CallError::Broken(e.context(format!("rclone rcd: {method}")));
        let answer = async {
            let response = sender.send_request(request).await?;
            let status = response.status().as_u16();
            let bytes = response.into_body().collect().await?.to_bytes();
            Ok::<_, anyhow::Error>((status, bytes))
        }
        .await;
        conn.abort();
        let (status, bytes) = answer.map_err(broken)?;
        let value: Value = serde_json::from_slice(&bytes)
            .context("its answer is not JSON")
            .map_err(broken)?;
        if status == 200 {
            return Ok(value);
        }
        let error = value
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("(no error text)");
        // rclone echoes remote strings, credentials included, in its errors.
        Err(CallError::Failed(RcFailed {
            what: String::new(),
            status,
            error: crate::remote::redact_remote(&crate::redact::redact(error)),
        }))
    }
}

impl Drop for Daemon {
    /// SIGTERM, a short wait for the daemon to exit (without reaping it, so its group id
    /// stays ours), then SIGKILL of whatever is left in its group.
    fn drop(&mut self) {
        let Some(pid) = self.pgid.take() else {
            return;
        };
        // SAFETY: plain syscalls on our own, unreaped child's group.
        unsafe {
            libc::killpg(pid as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + STOP_GRACE;
        while !exited(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        // SIGKILL the group, and the watchdog forgets it; tokio reaps the child.
        process::kill_group(Some(pid));
        let _ = self.child.start_kill();
    }
}

/// Remove the socket directories in `tmp` that SIGKILLed runs left (a dbstash that is
/// killed cannot remove its own): ours (same user), older than [`STALE_AFTER`], their socket
/// refusing connections. A young or answering one belongs to a running dbstash. Returns how
/// many were removed.
pub fn remove_stale(tmp: &std::path::Path) -> usize {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return 0;
    };
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    let mut removed = 0;
    for e in entries.filter_map(Result::ok) {
        if !e.file_name().to_string_lossy().starts_with(DIR_PREFIX) {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
            continue;
        };
        let old = meta
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age > STALE_AFTER);
        if !meta.is_dir() || meta.uid() != uid || !old {
            continue;
        }
        if std::os::unix::net::UnixStream::connect(e.path().join("rc.sock")).is_ok() {
            continue;
        }
        if std::fs::remove_dir_all(e.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Whether our child `pid` has exited (it stays a zombie: not reaped).
fn exited(pid: u32) -> bool {
    // SAFETY: waitid with WNOWAIT only looks; the struct is ours.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let r = libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        );
        r == 0 && info.si_pid() != 0
    }
}

/// `remote:path` split where rclone splits it: the remote (`name:`, `:backend,opt='v':`, or
/// nothing for a local path) and the path.
fn split(target: &str) -> (&str, &str) {
    match crate::remote::location(target) {
        crate::remote::Location::Remote => {
            target.split_at(crate::remote::remote_prefix_len(target))
        }
        _ => ("", target),
    }
}

/// A folder as the `fs` of a call: with a trailing `/`, so that an object store does not
/// first look for an object of the folder's name (rclone's check whether a path is a file).
pub fn fs_dir(dir: &str) -> String {
    let (_, path) = split(dir);
    if path.is_empty() || path.ends_with('/') {
        dir.to_string()
    } else {
        format!("{dir}/")
    }
}

/// An object's path as the `fs` (its folder, see [`fs_dir`]) and `remote` (its name) of a
/// call.
pub fn fs_file(target: &str) -> (String, String) {
    let (prefix, path) = split(target);
    match path.rfind('/') {
        Some(i) => (
            format!("{prefix}{}", &path[..=i]),
            path[i + 1..].to_string(),
        ),
        None => (prefix.to_string(), path.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_socket_dirs_go_and_live_or_young_ones_stay() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = |name: &str| {
            let d = tmp.path().join(name);
            std::fs::create_dir(&d).unwrap();
            d
        };
        // Set after the directory's content: adding an entry changes its time.
        let age = |d: &std::path::Path, secs: u64| {
            let then = std::time::SystemTime::now() - Duration::from_secs(secs);
            std::fs::File::open(d).unwrap().set_modified(then).unwrap();
        };
        let stale = dir("dbstash-rcd-stale");
        std::fs::write(stale.join("rc.sock"), "").unwrap();
        age(&stale, 120);
        let live = dir("dbstash-rcd-live");
        let _listener = std::os::unix::net::UnixListener::bind(live.join("rc.sock")).unwrap();
        age(&live, 120);
        let young = dir("dbstash-rcd-young");
        let other = dir("other-stale");
        age(&other, 120);
        assert_eq!(remove_stale(tmp.path()), 1);
        assert!(!stale.exists());
        assert!(live.exists() && young.exists() && other.exists());
    }

    #[test]
    fn paths_split_into_fs_and_remote_where_rclone_splits_them() {
        assert_eq!(fs_dir("s3:bucket/x"), "s3:bucket/x/");
        assert_eq!(fs_dir("s3:bucket/x/"), "s3:bucket/x/");
        assert_eq!(fs_dir("s3:"), "s3:");
        assert_eq!(fs_dir("/backups"), "/backups/");
        assert_eq!(
            fs_dir(":s3,endpoint='http://h:1/p':b"),
            ":s3,endpoint='http://h:1/p':b/"
        );
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(fs_file("s3:bucket/x/a.sql"), pair("s3:bucket/x/", "a.sql"));
        assert_eq!(fs_file("crypt:a.sql"), pair("crypt:", "a.sql"));
        assert_eq!(fs_file("sftp:/a.sql"), pair("sftp:/", "a.sql"));
        assert_eq!(fs_file("/srv/b/a.sql"), pair("/srv/b/", "a.sql"));
        assert_eq!(
            fs_file(":s3,endpoint='http://h:1/p':a.sql"),
            pair(":s3,endpoint='http://h:1/p':", "a.sql")
        );
    }
}
