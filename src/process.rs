//! Child processes: every child gets its own process group (so a kill reaches whatever it
//! forked, e.g. pg_dumpall's pg_dump), dies with dbstash (`PR_SET_PDEATHSIG`), and has its
//! stderr drained while it runs, the tail kept for error messages.
//!
//! `PR_SET_PDEATHSIG` reaches only the direct child. What the children fork (pg_dumpall's
//! `sh -c pg_dump`, a hook's background jobs) is ended by the watchdog
//! (`process/watchdog.rs`), a small process that outlives a SIGKILLed dbstash just long
//! enough to end the process groups of its children. Secrets for children travel in memory
//! files ([`secret_file`]) that die with dbstash.

mod watchdog;

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::task::JoinHandle;

pub use watchdog::{run as run_watchdog, SUBCOMMAND as WATCHDOG_SUBCOMMAND};

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

/// How a child is stopped when dbstash dies without stopping it (SIGKILLed, or crashed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGTERM, then SIGKILL after the watchdog's grace period: a dump tool gets to end its
    /// session (pg_dump cancels its query, so the server does not keep a backend waiting
    /// for a lock), a hook gets to clean up.
    Gracefully,
    /// SIGKILL at once: rclone, which must never get to commit an upload whose input ended
    /// because dbstash died.
    AtOnce,
}

/// A command with stdin closed, stdout and stderr piped, in a new process group, stopped
/// gracefully when dbstash dies (see [`Stop`]).
pub fn command(program: &str) -> Command {
    command_with(program, Stop::Gracefully)
}

/// [`command`], stopped as `stop` says when dbstash dies. The child registers its process
/// group with the watchdog itself, between fork and exec: nothing it forks can predate that.
pub fn command_with(program: &str, stop: Stop) -> Command {
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
    let watchdog = watchdog::socket();
    // Without a watchdog to follow up with SIGKILL, a SIGTERM could be ignored: kill.
    let death_signal = match (stop, watchdog) {
        (Stop::Gracefully, Some(_)) => libc::SIGTERM,
        _ => libc::SIGKILL,
    };
    // SAFETY: only async-signal-safe calls (prctl, getppid, getpid, getpgrp, setpgid, send,
    // _exit) between fork and exec; no allocation.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, death_signal) != 0 {
                return Err(io::Error::last_os_error());
            }
            // dbstash died before prctl took effect: do not run orphaned.
            if libc::getppid() as u32 != parent {
                libc::_exit(1);
            }
            // The group the watchdog will end must be this child's own.
            if libc::getpgrp() != libc::getpid() && libc::setpgid(0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            if let Some(fd) = watchdog {
                watchdog::register_from_child(fd, stop);
            }
            Ok(())
        });
    }
    cmd
}

/// SIGKILL a child's whole process group. Harmless if it is already gone. The group is
/// doomed: the watchdog forgets it.
pub fn kill_group(pgid: Option<u32>) {
    if let Some(pid) = pgid {
        // SAFETY: plain syscall; a stale group gives ESRCH, which we ignore.
        unsafe {
            libc::killpg(pid as libc::pid_t, libc::SIGKILL);
        }
        watchdog::forget(pid);
    }
}

/// Wait for `child` (the leader of its own process group, see [`command_with`]) to exit,
/// SIGKILL whatever is still in its group (a process the child started in the background:
/// it would outlive dbstash), and reap it. The group is ended while its leader is a zombie,
/// not yet reaped, so its id cannot belong to anyone else yet. Where the kernel has no pidfd
/// (Linux before 5.3), the child is only reaped.
pub async fn wait_ending_group(child: &mut tokio::process::Child) -> io::Result<ExitStatus> {
    if let Some(pid) = child.id() {
        if leader_exited(pid).await {
            // SAFETY: a plain syscall on the group of our unreaped child.
            unsafe {
                libc::killpg(pid as libc::pid_t, libc::SIGKILL);
            }
        }
    }
    child.wait().await
}

/// Wait until process `pid` (our child) has exited, without reaping it. `false` when that
/// cannot be told (no pidfd): the caller must not assume it exited.
async fn leader_exited(pid: u32) -> bool {
    // SAFETY: pidfd_open returns a new descriptor we own, or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return false;
    }
    let fd = unsafe { OwnedFd::from_raw_fd(fd as std::os::fd::RawFd) };
    // SAFETY: the AsyncFd owns the descriptor, open and unchanged for its whole life.
    let registered = unsafe {
        tokio::io::unix::AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE)
    };
    match registered {
        // A pidfd turns readable when its process exits.
        Ok(fd) => fd.readable().await.is_ok(),
        Err(_) => false,
    }
}

/// A child whose group was registered with the watchdog was reaped and nothing else runs in
/// its group: the watchdog forgets it, since its id may be reused by a stranger.
pub fn group_reaped(pgid: Option<u32>) {
    if let Some(pid) = pgid {
        watchdog::forget(pid);
    }
}

/// A database tool's command: `program` (the engine's, or its fallback) with the command's
/// arguments and environment, and its secret file (see [`secret_file`]) passed the way the
/// engine asks for.
pub fn tool_command(
    dc: &crate::command::DumpCommand,
    program: &str,
    secret_file: Option<&SecretFile>,
) -> Command {
    use crate::command::PassPath;
    use secrecy::ExposeSecret as _;
    let mut cmd = command(program);
    if let (Some(sf), Some(file)) = (&dc.secret_file, secret_file) {
        file.hand_to(&mut cmd);
        let path = file.path();
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

/// A secret handed to a child as a file it reads: the tool's credentials file (mongodump's
/// `--config`, libpq's service file) or rclone's inline configuration.
///
/// It lives in memory (`memfd_create`, mode 0600, sealed against writes). The child inherits
/// the descriptor (see [`SecretFile::hand_to`]) and is given the path `/proc/self/fd/<fd>`,
/// which names its own copy: a process may always open its own descriptors, even when
/// dbstash's `/proc/<pid>/fd` is closed to its children (a dbstash that is not dumpable: an
/// execute-only binary, file capabilities). What the child starts inherits it too (pg_dumpall's
/// pg_dump). It vanishes with the last process holding it, however dbstash ends. Where that
/// does not work (no memfd, no /proc), a 0600 temp file `dbstash-secret-*` in TMPDIR, removed
/// on drop, is the fallback; one a SIGKILL leaves behind is removed by a later run (see
/// [`remove_stale_secret_files`]).
pub struct SecretFile {
    path: PathBuf,
    backing: Backing,
}

enum Backing {
    Memory(#[allow(dead_code)] OwnedFd),
    Disk(#[allow(dead_code)] tempfile::NamedTempFile),
}

impl SecretFile {
    /// The path the child is given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the secret lives in memory (not in a file in TMPDIR).
    pub fn in_memory(&self) -> bool {
        matches!(self.backing, Backing::Memory(_))
    }

    /// Let `cmd`'s child inherit the memory file (its descriptor stays close-on-exec in
    /// dbstash, so no other child gets it), for [`Self::path`] to name in the child.
    pub fn hand_to(&self, cmd: &mut Command) {
        let Backing::Memory(fd) = &self.backing else {
            return;
        };
        let fd = fd.as_raw_fd();
        // SAFETY: fcntl is async-signal-safe; it changes the child's copy of the descriptor.
        unsafe {
            cmd.pre_exec(move || {
                if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
}

/// The prefix of the fallback temp files (and of earlier versions' files).
const SECRET_FILE_PREFIX: &str = "dbstash-secret-";

/// A [`SecretFile`] holding `content`.
pub fn secret_file(content: &str) -> anyhow::Result<SecretFile> {
    match memory_file(content) {
        Ok(f) => Ok(f),
        Err(e) => {
            tracing::debug!(
                "no memory file for a secret ({e}): using a 0600 temp file in {}",
                std::env::temp_dir().display()
            );
            disk_file(content)
        }
    }
}

fn memory_file(content: &str) -> io::Result<SecretFile> {
    use std::io::{Read as _, Seek as _, Write as _};
    // SAFETY: plain syscalls on a descriptor we own from here on.
    let fd = unsafe {
        let fd = libc::memfd_create(
            c"dbstash-secret".as_ptr(),
            libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING,
        );
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        OwnedFd::from_raw_fd(fd)
    };
    // SAFETY: fchmod and fcntl on our own descriptor.
    if unsafe { libc::fchmod(fd.as_raw_fd(), 0o600) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut file = std::fs::File::from(fd);
    file.write_all(content.as_bytes())?;
    // Children read it; none may change it for the next.
    let seals = libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE | libc::F_SEAL_SEAL;
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, seals) } != 0 {
        return Err(io::Error::last_os_error());
    }
    file.rewind()?;
    // In the child, which inherits the descriptor under the same number (see `hand_to`).
    let path = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
    // What a child will do: open the path and read it back (proves /proc is there).
    let mut back = String::new();
    std::fs::File::open(&path)?.read_to_string(&mut back)?;
    if back != content {
        return Err(io::Error::other("the memory file reads back differently"));
    }
    Ok(SecretFile {
        path,
        backing: Backing::Memory(file.into()),
    })
}

/// A 0600 temp file (tempfile creates files with mode 0600), removed when dropped.
fn disk_file(content: &str) -> anyhow::Result<SecretFile> {
    use std::io::Write as _;
    let mut f = tempfile::Builder::new()
        .prefix(SECRET_FILE_PREFIX)
        .tempfile()
        .map_err(|e| anyhow::anyhow!("creating a temp file for the credentials: {e}"))?;
    f.write_all(content.as_bytes())
        .and_then(|_| f.flush())
        .map_err(|e| anyhow::anyhow!("writing the credentials file: {e}"))?;
    Ok(SecretFile {
        path: f.path().to_path_buf(),
        backing: Backing::Disk(f),
    })
}

/// Secret files older than this may be removed when no process has them open.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Remove the secret files that dbstash runs killed by SIGKILL left in `dir` (the fallback's
/// `dbstash-secret-*`, and earlier versions' `dbstash-secret-*` and `dbstash-rclone-*.conf`):
/// regular files of our user, older than a minute, that no process has open (the run that
/// created one keeps it open until it removes it). Nothing is removed when the open files of
/// one of our user's processes cannot be read. Returns how many were removed.
pub fn remove_stale_secret_files(dir: &Path) -> usize {
    use std::os::unix::fs::MetadataExt as _;
    let uid = unsafe { libc::geteuid() };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let now = std::time::SystemTime::now();
    let candidates: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(SECRET_FILE_PREFIX)
                || (name.starts_with("dbstash-rclone-") && name.ends_with(".conf"))
        })
        .filter(|e| {
            e.metadata().is_ok_and(|m| {
                m.file_type().is_file()
                    && m.uid() == uid
                    && m.modified()
                        .is_ok_and(|t| now.duration_since(t).unwrap_or_default() > STALE_AFTER)
            })
        })
        .map(|e| e.path())
        .collect();
    if candidates.is_empty() {
        return 0;
    }
    let Some(open) = files_open_by_our_user(uid) else {
        return 0;
    };
    let mut removed = 0;
    for path in candidates {
        let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if !open.contains(&real) && std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Every path that a process of user `uid` has open; `None` when one of them cannot be
/// inspected.
fn files_open_by_our_user(uid: u32) -> Option<std::collections::HashSet<PathBuf>> {
    use std::os::unix::fs::MetadataExt as _;
    let mut open = std::collections::HashSet::new();
    for proc_dir in std::fs::read_dir("/proc").ok()?.filter_map(|e| e.ok()) {
        let is_pid = proc_dir
            .file_name()
            .to_str()
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
        let ours = proc_dir.metadata().is_ok_and(|m| m.uid() == uid);
        if !is_pid || !ours {
            continue;
        }
        let fds = match std::fs::read_dir(proc_dir.path().join("fd")) {
            Ok(fds) => fds,
            // It exited meanwhile.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(_) => return None,
        };
        for fd in fds.filter_map(|e| e.ok()) {
            if let Ok(target) = std::fs::read_link(fd.path()) {
                open.insert(target);
            }
        }
    }
    Some(open)
}

/// Kills a process group when dropped: whatever a child forked dies with it.
pub struct GroupGuard(Option<u32>);

impl GroupGuard {
    pub fn new(pgid: Option<u32>) -> GroupGuard {
        GroupGuard(pgid)
    }

    /// The group's leader was reaped and nothing else runs in it: its id may be reused, so
    /// never signal it again (nor may the watchdog).
    pub fn disarm(&mut self) {
        group_reaped(self.0.take());
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        kill_group(self.0);
    }
}

/// A dump tool that, when dropped still running (its future was cancelled: a signal,
/// BACKUP_TIMEOUT), is stopped as the watchdog would stop it: SIGTERM to its group at once,
/// so pg_dump cancels its query (the server would otherwise keep the backend waiting for a
/// lock), then SIGKILL to whatever is left after [`watchdog::GRACE`], in a background task
/// that also reaps it. The group is killed while its leader is an unreaped zombie, so its id
/// is never anyone else's. Without a runtime (or a pidfd) it is killed at once.
pub struct Graceful {
    child: Option<tokio::process::Child>,
    pgid: Option<u32>,
}

impl Graceful {
    pub fn new(child: tokio::process::Child) -> Graceful {
        Graceful {
            pgid: child.id(),
            child: Some(child),
        }
    }

    pub fn child(&mut self) -> &mut tokio::process::Child {
        self.child
            .as_mut()
            .expect("the child is held until dropped or disarmed")
    }

    pub fn pgid(&self) -> Option<u32> {
        self.pgid
    }

    /// The child was reaped here (it ended, or was killed and waited for): nothing to stop.
    pub fn disarm(&mut self) {
        self.child = None;
        group_reaped(self.pgid.take());
    }
}

impl Drop for Graceful {
    fn drop(&mut self) {
        let (Some(mut child), Some(pgid)) = (self.child.take(), self.pgid.take()) else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            kill_group(Some(pgid));
            return;
        };
        // SAFETY: our child's group, its leader not reaped yet.
        unsafe {
            libc::killpg(pgid as libc::pid_t, libc::SIGTERM);
        }
        runtime.spawn(async move {
            let _ = tokio::time::timeout(watchdog::GRACE, leader_exited(pgid)).await;
            // The leader exited (a zombie until reaped below) or the grace ran out.
            kill_group(Some(pgid));
            let _ = child.wait().await;
        });
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
    let status = wait_ending_group(&mut child).await?;
    group.disarm();
    let write = writer.await?;
    if !status.success() {
        return Err(ChildFailed::new(what, status, stderr.text().await).into());
    }
    read?;
    write.map_err(|e| anyhow::anyhow!("{what}: writing its input failed: {e}"))?;
    Ok(stdout)
}

/// Where `program` is on PATH.
pub fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|d| {
            d.join(program)
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// The program to run for `dc`: its own, or its fallback when only that is on PATH (as the
/// dump does: `mariadb` → `mysql`).
pub fn program_of(dc: &crate::command::DumpCommand) -> String {
    match &dc.fallback {
        Some(f) if !on_path(&dc.program) && on_path(f) => f.clone(),
        _ => dc.program.clone(),
    }
}

/// Run a database tool's short command (a query) to its end: [`program_of`] `dc`, with
/// its environment and its secret file alive meanwhile; its stdout on success, a
/// [`ChildFailed`] otherwise. Dropping the future kills its process group.
pub async fn capture(dc: &crate::command::DumpCommand) -> anyhow::Result<Vec<u8>> {
    use secrecy::ExposeSecret as _;
    let secret = match &dc.secret_file {
        Some(sf) => Some(secret_file(sf.content.expose_secret())?),
        None => None,
    };
    let program = program_of(dc);
    let out = run(tool_command(dc, &program, secret.as_ref()), &program, None).await;
    drop(secret);
    out
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

    /// The secret lives in memory: the child it is handed to opens the path and reads it
    /// (another child, not handed it, cannot), it is 0600 and sealed, and it vanishes when
    /// dropped.
    #[tokio::test]
    async fn secret_files_live_in_memory_and_vanish() {
        use std::os::unix::fs::PermissionsExt as _;
        let f = secret_file("uri: \"mongodb://u:pw@h/\"\n").unwrap();
        assert!(f.in_memory());
        let path = f.path().to_path_buf();
        assert!(path.starts_with("/proc/self/fd/"), "{}", path.display());
        let cat = |handed: bool| {
            let mut cmd = Command::new("cat");
            cmd.arg(&path);
            if handed {
                f.hand_to(&mut cmd);
            }
            cmd.output()
        };
        let out = cat(true).await.unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "uri: \"mongodb://u:pw@h/\"\n"
        );
        let other = cat(false).await.unwrap();
        assert!(
            !other.status.success(),
            "not handed the file: no such descriptor"
        );
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(
            std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .and_then(|mut w| std::io::Write::write_all(&mut w, b"x"))
                .is_err(),
            "sealed against writes"
        );
        drop(f);
        // The number may be reused by another descriptor; it is no longer our secret.
        assert!(std::fs::read_to_string(&path).map_or(true, |s| !s.contains("pw@h")));
    }

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
