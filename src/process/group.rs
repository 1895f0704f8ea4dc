//! Process groups: killing a child's whole group, waiting for a leader without letting its
//! group's id be reused, and the guards that end a group when dropped ([`GroupGuard`], and
//! [`Graceful`]: SIGTERM, then SIGKILL after the grace period).

use std::io;
use std::os::fd::{FromRawFd as _, OwnedFd};
use std::process::ExitStatus;

use super::watchdog;

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
///
/// [`command_with`]: super::command_with
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
