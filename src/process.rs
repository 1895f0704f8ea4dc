//! Child processes: every child gets its own process group (so a kill reaches whatever it
//! forked, e.g. pg_dumpall's pg_dump), dies with dbstash (`PR_SET_PDEATHSIG`), and has its
//! stderr drained while it runs, the tail kept for error messages.
//!
//! `PR_SET_PDEATHSIG` reaches only the direct child. What the children fork (pg_dumpall's
//! `sh -c pg_dump`, a hook's background jobs) is ended by the watchdog
//! (`process/watchdog.rs`), a small process that outlives a SIGKILLed dbstash just long
//! enough to end the process groups of its children. Secrets for children travel in memory
//! files ([`secret_file`]) that die with dbstash.

mod failure;
mod group;
mod secret;
mod watchdog;

use std::io;
use std::process::Stdio;

use tokio::io::AsyncReadExt;
use tokio::process::Command;

pub use failure::{auth_hint, ChildFailed, Tail};
pub use group::{group_reaped, kill_group, wait_ending_group, Graceful, GroupGuard};
pub use secret::{remove_stale_secret_files, secret_file, SecretFile};
pub use watchdog::{run as run_watchdog, SUBCOMMAND as WATCHDOG_SUBCOMMAND};

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
