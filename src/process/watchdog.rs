//! The watchdog: ends what dbstash started when dbstash itself ends without doing so
//! (SIGKILL, a crash, the OOM killer).
//!
//! `PR_SET_PDEATHSIG` reaches dbstash's direct children only, not what they fork: pg_dumpall
//! runs pg_dump through `sh -c`, a hook may start background jobs. Each child runs in a
//! process group of its own, so ending the groups ends everything, but a dead dbstash ends
//! nothing. The watchdog does: dbstash itself, started on the first child as
//! `dbstash __watchdog` (dispatched before the CLI is parsed; a real process: forking a multithreaded program and running Rust in
//! the child is not safe), in a process group of its own, with an empty environment. It holds
//! one end of a socket pair whose other end only dbstash holds (close-on-exec: no child
//! inherits it). Each child registers its process group on the socket between fork and exec,
//! before it can fork anything; dbstash says when a group is over (reaped or killed). When
//! dbstash's end closes (dbstash is gone, however it went) the watchdog reads end-of-file and
//! ends the groups still registered: SIGTERM, then SIGKILL after [`GRACE`] for those still
//! there (rclone: SIGKILL at once), and exits.
//!
//! Never a stranger: the watchdog holds a pidfd of each group's leader, and signals a group
//! only while its leader lives, or once no process has the leader's id (then only the
//! group's remaining members can carry it). A group that was neither reaped nor killed (a
//! child whose exec failed) is dropped once empty.
//!
//! Limits: a process that leaves its process group on purpose (`setsid`, `setpgid`: daemons
//! a hook starts) is not reached; nor is anything if the watchdog itself is SIGKILLed (it
//! ignores the terminal's and the service manager's SIGINT, SIGHUP, SIGTERM and SIGQUIT; it
//! is restarted for later children when dbstash notices).

use std::io;
use std::os::fd::{AsRawFd as _, FromRawFd as _, IntoRawFd as _, OwnedFd, RawFd};
use std::os::unix::process::CommandExt as _;
use std::process::{Child, ExitCode, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Stop;

/// The first argument that makes dbstash the watchdog (see `crate::run`).
pub const SUBCOMMAND: &str = "__watchdog";

/// How long a group asked to stop (SIGTERM) has before it is killed.
pub const GRACE: Duration = Duration::from_secs(5);

/// How long dbstash waits for a new watchdog to say it is ready.
const READY_WITHIN: Duration = Duration::from_secs(5);

/// How often the watchdog looks whether the groups it asked to stop are gone.
const POLL: Duration = Duration::from_millis(20);

/// A message: one byte saying what, then a process group id (little-endian i32).
const MSG_LEN: usize = 5;
const REGISTER_GRACEFUL: u8 = b'T';
const REGISTER_AT_ONCE: u8 = b'K';
const FORGET: u8 = b'F';
/// The watchdog's only message to dbstash.
const READY: u8 = b'R';

fn message(op: u8, pgid: i32) -> [u8; MSG_LEN] {
    let p = pgid.to_le_bytes();
    [op, p[0], p[1], p[2], p[3]]
}

// ------------------------------------------------------------------------- dbstash's side

/// dbstash's end of the socket. Its number never changes once set (a restarted watchdog's
/// socket takes the same number), because children's `pre_exec` closures captured it.
static SOCKET: AtomicI32 = AtomicI32::new(-1);

struct Running {
    /// `None` once starting failed: children then run without a watchdog.
    child: Option<Child>,
}

static WATCHDOG: Mutex<Option<Running>> = Mutex::new(None);

/// dbstash's end of the watchdog's socket, for a child to register on; starts the watchdog
/// on first use (and again if it died). `None` when it cannot run (said once, as a warning):
/// children still die with dbstash (`PR_SET_PDEATHSIG`), what they fork may not.
pub(super) fn socket() -> Option<RawFd> {
    // Unit tests run in the test harness, which has no watchdog subcommand.
    if cfg!(test) {
        return None;
    }
    let mut w = WATCHDOG.lock().unwrap_or_else(|e| e.into_inner());
    match w.as_mut().map(|r| r.child.as_mut()) {
        Some(None) => return None,
        Some(Some(child)) => match child.try_wait() {
            Ok(None) => return Some(SOCKET.load(Ordering::Relaxed)),
            _ => tracing::warn!(
                pid = child.id(),
                "the watchdog ended while dbstash runs: starting another; what children started before it forked is no longer covered"
            ),
        },
        None => {}
    }
    let started = start();
    if let Err(e) = &started {
        tracing::warn!(
            "cannot start the watchdog ({e}): if dbstash is killed with SIGKILL, what its children started (pg_dumpall's pg_dump, a hook's background jobs) may keep running"
        );
    }
    let child = started.ok();
    let ok = child.is_some();
    *w = Some(Running { child });
    ok.then(|| SOCKET.load(Ordering::Relaxed))
}

/// Start `dbstash __watchdog` and wait until it is ready; its socket goes to [`SOCKET`].
fn start() -> io::Result<Child> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: socketpair fills `fds` with two descriptors we own from here on.
    let (ours, theirs) = unsafe {
        if libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        ) != 0
        {
            return Err(io::Error::last_os_error());
        }
        (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
    };
    let mut cmd = std::process::Command::new("/proc/self/exe");
    cmd.arg0(
        std::env::args_os()
            .next()
            .unwrap_or_else(|| "dbstash".into()),
    )
    .arg(SUBCOMMAND)
    .env_clear()
    .stdin(Stdio::from(theirs))
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    // Not in dbstash's group: a Ctrl-C at the terminal is for dbstash, not for it.
    .process_group(0);
    // Where earlier runs may have left secret files (see `remove_stale_secret_files`).
    if let Some(tmp) = std::env::var_os("TMPDIR") {
        cmd.env("TMPDIR", tmp);
    }
    let mut child = cmd.spawn()?;
    if let Err(e) = wait_ready(&ours) {
        let _ = child.kill();
        let _ = child.wait();
        return Err(e);
    }
    let fd = SOCKET.load(Ordering::Relaxed);
    if fd < 0 {
        SOCKET.store(ours.into_raw_fd(), Ordering::Relaxed);
    } else {
        // SAFETY: `fd` is ours for the life of the process; dup3 replaces it atomically.
        if unsafe { libc::dup3(ours.as_raw_fd(), fd, libc::O_CLOEXEC) } < 0 {
            let e = io::Error::last_os_error();
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
    }
    Ok(child)
}

fn wait_ready(sock: &OwnedFd) -> io::Result<()> {
    let mut pfd = libc::pollfd {
        fd: sock.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: poll and recv on our own descriptor, into a local buffer.
    let n = unsafe { libc::poll(&mut pfd, 1, READY_WITHIN.as_millis() as libc::c_int) };
    if n == 0 {
        return Err(io::Error::other(format!(
            "it did not answer within {READY_WITHIN:?}"
        )));
    }
    let mut byte = 0u8;
    let got = unsafe { libc::recv(sock.as_raw_fd(), (&mut byte as *mut u8).cast(), 1, 0) };
    if got == 1 && byte == READY {
        Ok(())
    } else {
        Err(io::Error::other("it exited before it was ready"))
    }
}

/// In a child, between fork and exec: register the child's process group (its own pid).
/// Async-signal-safe: one `send`, no allocation. A watchdog that is gone costs nothing, and
/// one that does not read (stopped, frozen) never holds the child up: the socket's buffer
/// full, the registration is dropped (the watchdog could not act on it anyway) instead of
/// blocking the child, and dbstash's spawn with it, for ever.
pub(super) fn register_from_child(fd: RawFd, stop: Stop) {
    let op = match stop {
        Stop::Gracefully => REGISTER_GRACEFUL,
        Stop::AtOnce => REGISTER_AT_ONCE,
    };
    // SAFETY: getpid and send are async-signal-safe; the buffer is on the stack.
    unsafe {
        let msg = message(op, libc::getpid());
        libc::send(
            fd,
            msg.as_ptr().cast(),
            MSG_LEN,
            libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
        );
    }
}

/// The group `pgid` is over (reaped or killed): the watchdog must never signal it again.
pub(super) fn forget(pgid: u32) {
    let fd = SOCKET.load(Ordering::Relaxed);
    if fd < 0 {
        return;
    }
    let msg = message(FORGET, pgid as i32);
    // SAFETY: send on our own socket; a full buffer or a gone watchdog is not an error here.
    unsafe {
        libc::send(
            fd,
            msg.as_ptr().cast(),
            MSG_LEN,
            libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
        );
    }
}

// ------------------------------------------------------------------------ the watchdog

/// `dbstash __watchdog`: register groups until dbstash's end of the socket (our stdin)
/// closes, then end the groups left, and exit.
pub fn run() -> ExitCode {
    // Started as /proc/self/exe, the kernel would name it `exe` in ps and top.
    // SAFETY: PR_SET_NAME copies at most 16 bytes from a NUL-terminated string.
    unsafe {
        libc::prctl(libc::PR_SET_NAME, c"dbstash".as_ptr());
    }
    // Signals for dbstash's terminal or service must not end the watchdog first: dbstash
    // handles them, and the watchdog ends when dbstash does.
    for sig in [
        libc::SIGINT,
        libc::SIGHUP,
        libc::SIGTERM,
        libc::SIGQUIT,
        libc::SIGPIPE,
    ] {
        // SAFETY: setting a signal to be ignored.
        unsafe {
            libc::signal(sig, libc::SIG_IGN);
        }
    }
    let ready = [READY];
    // SAFETY: send on stdin, which dbstash made our end of the socket pair.
    if unsafe { libc::send(0, ready.as_ptr().cast(), 1, libc::MSG_NOSIGNAL) } != 1 {
        eprintln!("dbstash {SUBCOMMAND}: dbstash starts this itself; it is not a command");
        return ExitCode::from(crate::EXIT_BAD_CONFIG);
    }
    // Off dbstash's path: files that killed runs of earlier versions left.
    let sweep = std::thread::spawn(|| super::remove_stale_secret_files(&std::env::temp_dir()));
    let mut groups = Groups::default();
    let mut buf = [0u8; 64];
    loop {
        // SAFETY: recv into a local buffer.
        let n = unsafe { libc::recv(0, buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        if n <= 0 {
            break; // dbstash is gone
        }
        if n as usize == MSG_LEN {
            let pgid = i32::from_le_bytes([buf[1], buf[2], buf[3], buf[4]]);
            groups.apply(buf[0], pgid);
        }
    }
    groups.end_all();
    let _ = sweep.join();
    ExitCode::SUCCESS
}

#[derive(Default)]
struct Groups(Vec<Group>);

struct Group {
    pgid: i32,
    leader: Leader,
    at_once: bool,
}

/// What the watchdog knows of a group's leader (the process whose pid is the group's id).
enum Leader {
    /// A pidfd: refers to that very process, never to one that reuses its id.
    Pidfd(OwnedFd),
    /// Gone before the watchdog looked (it exec'd, ran and was reaped, or its exec failed).
    Gone,
    /// No pidfds (Linux before 5.3): the registration and dbstash's word are all we have.
    Unknown,
}

impl Leader {
    fn open(pid: i32) -> Leader {
        // SAFETY: pidfd_open returns a new descriptor we own, or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd >= 0 {
            Leader::Pidfd(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
        } else if io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH) {
            Leader::Gone
        } else {
            Leader::Unknown
        }
    }
}

/// Whether some process has id `pid`.
fn pid_in_use(pid: i32) -> bool {
    // SAFETY: signal 0 only checks.
    unsafe {
        libc::kill(pid, 0) == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
}

impl Group {
    /// Whether signalling the group reaches only what dbstash started: its leader still
    /// lives (or is a zombie, which keeps its id), or no process has the leader's id, so no
    /// stranger can have made a group of that id either.
    fn ours(&self) -> bool {
        match &self.leader {
            Leader::Pidfd(fd) => {
                // SAFETY: signal 0 through our pidfd only checks.
                let alive = unsafe {
                    libc::syscall(
                        libc::SYS_pidfd_send_signal,
                        fd.as_raw_fd(),
                        0,
                        std::ptr::null::<libc::siginfo_t>(),
                        0,
                    )
                } == 0;
                alive || !pid_in_use(self.pgid)
            }
            Leader::Gone => !pid_in_use(self.pgid),
            Leader::Unknown => true,
        }
    }

    /// Whether any process is still in the group.
    fn occupied(&self) -> bool {
        // SAFETY: signal 0 only checks.
        unsafe { libc::killpg(self.pgid, 0) == 0 }
    }

    fn signal(&self, sig: libc::c_int) {
        // SAFETY: a plain syscall; a group that is gone gives ESRCH.
        unsafe {
            libc::killpg(self.pgid, sig);
        }
    }
}

impl Groups {
    fn apply(&mut self, op: u8, pgid: i32) {
        if pgid <= 1 {
            return;
        }
        self.0.retain(|g| g.pgid != pgid);
        if op == FORGET {
            return;
        }
        // Groups nobody forgot (a child whose exec failed) go once they are empty.
        self.0.retain(|g| g.ours() && g.occupied());
        self.0.push(Group {
            pgid,
            leader: Leader::open(pgid),
            at_once: op == REGISTER_AT_ONCE,
        });
    }

    /// SIGTERM (or SIGKILL, for those stopped at once) to every group left; SIGKILL to
    /// those still there after [`GRACE`].
    fn end_all(&mut self) {
        let mut waiting = Vec::new();
        for g in self.0.drain(..) {
            if !g.ours() {
                continue;
            }
            if g.at_once {
                g.signal(libc::SIGKILL);
            } else {
                g.signal(libc::SIGTERM);
                // A stopped process acts on SIGTERM only once it runs again.
                g.signal(libc::SIGCONT);
                waiting.push(g);
            }
        }
        let deadline = Instant::now() + GRACE;
        loop {
            waiting.retain(|g| g.ours() && g.occupied());
            if waiting.is_empty() || Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(POLL);
        }
        for g in waiting {
            if g.ours() {
                g.signal(libc::SIGKILL);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_the_group_id() {
        let m = message(REGISTER_GRACEFUL, 4_194_301);
        assert_eq!(m[0], b'T');
        assert_eq!(i32::from_le_bytes([m[1], m[2], m[3], m[4]]), 4_194_301);
    }

    /// A group of our own (a child in a new process group) is ended; one whose leader was
    /// reaped and whose id a stranger took is not.
    #[test]
    fn ends_its_groups_and_never_a_stranger() {
        let sleeper = || {
            std::process::Command::new("sleep")
                .arg("30")
                .process_group(0)
                .spawn()
                .unwrap()
        };
        let mut ours = sleeper();
        let mut groups = Groups::default();
        groups.apply(REGISTER_GRACEFUL, ours.id() as i32);
        assert!(groups.0[0].ours() && groups.0[0].occupied());
        // Reaped as soon as it dies, as init reaps a dead dbstash's children.
        let reaper = std::thread::spawn(move || ours.wait().unwrap());
        let started = Instant::now();
        groups.end_all();
        use std::os::unix::process::ExitStatusExt as _;
        assert_eq!(reaper.join().unwrap().signal(), Some(libc::SIGTERM));
        assert!(started.elapsed() < GRACE, "{:?}", started.elapsed());

        // A leader that is gone while a process with its id runs: a stranger's, not ours.
        let stranger = sleeper();
        let g = Group {
            pgid: stranger.id() as i32,
            leader: Leader::Gone,
            at_once: true,
        };
        assert!(!g.ours());
        let mut groups = Groups(vec![g]);
        groups.end_all();
        let mut stranger = stranger;
        assert!(stranger.try_wait().unwrap().is_none(), "the stranger lives");
        stranger.kill().unwrap();
        stranger.wait().unwrap();
    }
}
