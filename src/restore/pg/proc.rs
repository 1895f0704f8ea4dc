//! The database tools a restore runs (psql, pg_restore): spawned with their secret file, and
//! killed as a process group before psql could see the end of its input.

use std::process::Stdio;

use anyhow::anyhow;
use tokio::io::AsyncWriteExt as _;
use tokio::process::{Child, ChildStdin, ChildStdout};
use tracing::info;

use crate::engine::DumpCommand;
use crate::process::{self, ChildFailed, Tail};

/// Run a query command; its stdout.
pub(super) async fn run_query(dc: &DumpCommand) -> anyhow::Result<String> {
    let secret = secret_file(dc)?;
    let cmd = process::tool_command(dc, &dc.program, secret.as_ref());
    let out = process::run(cmd, &dc.program, None).await?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn secret_file(dc: &DumpCommand) -> anyhow::Result<Option<process::SecretFile>> {
    use secrecy::ExposeSecret as _;
    dc.secret_file
        .as_ref()
        .map(|sf| process::secret_file(sf.content.expose_secret()))
        .transpose()
}

/// What a [`Proc`] does with its stdout.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Output {
    /// Discarded; stderr's tail kept for errors.
    Tail,
    /// Piped for the caller (pg_restore's script).
    Piped,
    /// Discarded; stderr left to the caller (which reads every error of a cluster restore).
    Errors,
}

/// A database tool run by the restore. Dropping it kills its process group *before* its
/// stdin closes: psql must never see the end of its input unless [`Proc::finish`] says so.
pub(super) struct Proc {
    what: String,
    pub(super) child: Child,
    pgid: Option<u32>,
    pub(super) stdin: Option<ChildStdin>,
    pub(super) stdout: Option<ChildStdout>,
    stderr: Option<Tail>,
    /// The tool's secret file (libpq's service file), alive while it runs.
    _secret: Option<process::SecretFile>,
}

impl Proc {
    pub(super) fn spawn(dc: &DumpCommand, stdin: bool, output: Output) -> anyhow::Result<Proc> {
        let secret = secret_file(dc)?;
        let mut cmd = process::tool_command(dc, &dc.program, secret.as_ref());
        if stdin {
            cmd.stdin(Stdio::piped());
        }
        if output != Output::Piped {
            cmd.stdout(Stdio::null());
        }
        info!(command = %dc, "starting");
        let mut child = cmd
            .spawn()
            .map_err(|e| process::spawn_error(&dc.program, e))?;
        Ok(Proc {
            what: dc.program.clone(),
            pgid: child.id(),
            stdin: child.stdin.take(),
            stdout: child.stdout.take(),
            stderr: match output {
                Output::Errors => None,
                _ => child.stderr.take().map(Tail::drain),
            },
            child,
            _secret: secret,
        })
    }

    /// Close stdin and wait: `Ok` only for exit status 0.
    pub(super) async fn finish(mut self) -> anyhow::Result<()> {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.shutdown().await;
        }
        let status = self.child.wait().await?;
        process::group_reaped(self.pgid.take());
        if status.success() {
            return Ok(());
        }
        let tail = match self.stderr.take() {
            Some(t) => t.text().await,
            None => String::new(),
        };
        Err(ChildFailed::new(&self.what, status, tail).into())
    }

    /// Writing to it failed: kill it (stdin still open), and say how it ended.
    pub(super) async fn failure(&mut self, context: &str) -> anyhow::Error {
        process::kill_group(self.pgid.take());
        let status = self.child.wait().await;
        let tail = match self.stderr.take() {
            Some(t) => t.text().await,
            None => String::new(),
        };
        match status {
            Ok(status) if !is_sigkill(status) => ChildFailed::new(&self.what, status, tail).into(),
            _ => anyhow!("{context}"),
        }
    }

    /// If it already exited with a failure, that failure; it is killed either way.
    pub(super) async fn exited_failed(&mut self) -> Option<anyhow::Error> {
        let exited = self.child.try_wait().ok().flatten();
        let exited = match exited {
            Some(s) => Some(s),
            None => {
                // Give a tool that is exiting a moment to finish.
                tokio::time::timeout(std::time::Duration::from_millis(500), self.child.wait())
                    .await
                    .ok()
                    .and_then(Result::ok)
            }
        };
        process::kill_group(self.pgid.take());
        let status = exited.filter(|s| !s.success())?;
        let tail = self.stderr.take()?.text().await;
        Some(ChildFailed::new(&self.what, status, tail).into())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // Runs before the fields drop, i.e. before stdin closes.
        process::kill_group(self.pgid);
    }
}

fn is_sigkill(status: std::process::ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt as _;
    status.signal() == Some(libc::SIGKILL)
}
