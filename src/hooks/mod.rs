//! Pre- and post-backup hooks: `sh -c` scripts run around each attempt.
//!
//! A hook runs in dbstash's environment minus dbstash's secret variables (like every child),
//! in its own process group that is killed with everything else on timeout and signals. Its
//! stdout and stderr go to the log line by line. The pre-backup hook gates the dump; the
//! post-backup hook runs after every attempt (rustic's `finally`) and only ever warns.

pub mod settings;

use std::process::ExitStatus;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};
use tracing::{info, warn, Instrument as _};

use crate::process::{self, ChildFailed};
use crate::report::Report;

/// Which hook: names it in logs and errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    PreBackup,
    PostBackup,
}

impl Hook {
    pub fn var(self) -> &'static str {
        match self {
            Hook::PreBackup => "HOOK_PRE_BACKUP",
            Hook::PostBackup => "HOOK_POST_BACKUP",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Hook::PreBackup => "pre_backup",
            Hook::PostBackup => "post_backup",
        }
    }
}

/// Longest output line logged as is; longer lines are cut (a hook printing a binary blob
/// must not produce a multi-megabyte log record).
const MAX_LINE: usize = 4096;
/// Lines of stderr kept for the error message of a failed hook.
const TAIL_LINES: usize = 20;

/// The variables a hook sees about the run: before it (what is about to happen) or after it
/// (what happened).
pub fn variables(report: &Report) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("DBSTASH_STATUS", report.status.as_str().to_string()),
        ("DBSTASH_STAGE", report.stage.as_str().to_string()),
        ("DBSTASH_ENGINE", report.engine.clone()),
        ("DBSTASH_DATABASE", report.database.clone()),
        ("DBSTASH_FILE", report.file.clone().unwrap_or_default()),
        (
            "DBSTASH_BACKUP_ID",
            report.backup_id.clone().unwrap_or_default(),
        ),
        (
            "DBSTASH_SIZE",
            report.size.map(|s| s.to_string()).unwrap_or_default(),
        ),
        ("DBSTASH_SHA256", report.sha256.clone().unwrap_or_default()),
        (
            "DBSTASH_DURATION_MS",
            report.duration.as_millis().to_string(),
        ),
        ("DBSTASH_ERROR", report.error.clone().unwrap_or_default()),
    ];
    vars.retain(|(_, v)| !v.contains('\0'));
    vars
}

/// What the pre-backup hook knows: the backup about to be taken.
pub fn pre_variables(report: &Report) -> Vec<(&'static str, String)> {
    let keep = [
        "DBSTASH_ENGINE",
        "DBSTASH_DATABASE",
        "DBSTASH_FILE",
        "DBSTASH_BACKUP_ID",
    ];
    variables(report)
        .into_iter()
        .filter(|(k, _)| keep.contains(k))
        .collect()
}

/// Every process a hook starts inherits this variable, set to a value unique to the hook's
/// run: it finds those that left the hook's process group (`setsid`, a daemonizing tool such
/// as `ssh -f`), which a kill of the group misses.
pub const MARKER: &str = "DBSTASH_HOOK_ID";

/// The variable the hook's script travels in: `sh -c 'eval "$DBSTASH_HOOK_SCRIPT"'` runs it
/// as `sh -c SCRIPT` would, but the script (which may hold a credential) is not on the
/// shell's command line, which every user can read (`/proc/PID/cmdline`, `ps`).
pub const SCRIPT: &str = "DBSTASH_HOOK_SCRIPT";

/// How long the hook's output may stay open once the hook has exited and everything it
/// started was killed: only a process that left the group and cleared its environment can
/// still hold it, and the run does not wait for that one.
const OUTPUT_GRACE: Duration = Duration::from_secs(2);

/// Run `script` with `sh -c` and the given variables; `Ok` when it exits 0. Whatever the
/// hook started is killed when it exits, and when the future is dropped (timeout, signal).
pub async fn run(hook: Hook, script: &str, vars: &[(&'static str, String)]) -> anyhow::Result<()> {
    let marker = uuid::Uuid::new_v4().simple().to_string();
    let mut cmd = process::command("sh");
    cmd.arg("-c")
        .arg(format!("eval \"${SCRIPT}\""))
        .env(SCRIPT, script)
        .env(MARKER, &marker);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    info!(hook = hook.name(), "running {}", hook.var());
    let mut child = cmd
        .spawn()
        .map_err(|e| process::spawn_error(hook.var(), e))?;
    let strays = Strays {
        _group: process::GroupGuard::new(child.id()),
        marker,
    };
    let mut stdout = tokio::spawn(
        log_lines(
            hook,
            "stdout",
            child.stdout.take().expect("stdout is piped"),
        )
        .in_current_span(),
    );
    let mut stderr = tokio::spawn(
        log_lines(
            hook,
            "stderr",
            child.stderr.take().expect("stderr is piped"),
        )
        .in_current_span(),
    );
    let status = child.wait().await?;
    // The hook is done: so is everything it started, which may still hold the pipes open.
    drop(strays);
    let drained = tokio::time::timeout(OUTPUT_GRACE, async {
        let _ = (&mut stdout).await;
        (&mut stderr).await.unwrap_or_default()
    })
    .await;
    let tail = drained.unwrap_or_else(|_| {
        stdout.abort();
        stderr.abort();
        warn!(
            hook = hook.name(),
            "a process started by {} left its process group and cleared its environment: it still runs and its output is no longer logged",
            hook.var()
        );
        Vec::new()
    });
    check(hook, status, tail)
}

/// Kills, when dropped, the hook's process group and every process carrying the hook's
/// [`MARKER`].
struct Strays {
    _group: process::GroupGuard,
    marker: String,
}

impl Drop for Strays {
    fn drop(&mut self) {
        kill_marked(&format!("{MARKER}={}", self.marker));
    }
}

/// SIGKILL every process (of ours: others' environments cannot be read) whose environment
/// holds `entry`. Scans again while it finds new ones: a process may fork as it is killed.
fn kill_marked(entry: &str) {
    let me = std::process::id() as libc::pid_t;
    let mut killed = std::collections::HashSet::new();
    for _ in 0..10 {
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return;
        };
        let mut found = false;
        for e in dir.flatten() {
            let Some(pid) = e
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<libc::pid_t>().ok())
            else {
                continue;
            };
            if pid == me || killed.contains(&pid) {
                continue;
            }
            let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
                continue;
            };
            if env.split(|b| *b == 0).any(|kv| kv == entry.as_bytes()) {
                // SAFETY: plain syscall on a pid just seen.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
                killed.insert(pid);
                found = true;
            }
        }
        if !found {
            return;
        }
    }
}

fn check(hook: Hook, status: ExitStatus, tail: Vec<String>) -> anyhow::Result<()> {
    if status.success() {
        info!(hook = hook.name(), "{} succeeded", hook.var());
        return Ok(());
    }
    Err(ChildFailed::new(hook.var(), status, tail.join("\n")).into())
}

/// Log each line the hook prints; keep the last lines (for stderr's error message). A line
/// longer than [`MAX_LINE`] is cut, and the rest of it is read and dropped, not buffered.
async fn log_lines(hook: Hook, stream: &'static str, r: impl AsyncRead + Unpin) -> Vec<String> {
    let mut r = BufReader::new(r);
    let mut tail = std::collections::VecDeque::new();
    let mut raw: Vec<u8> = Vec::new();
    let mut cut = false;
    loop {
        let (used, end_of_line, eof) = match r.fill_buf().await {
            Err(_) => (0, false, true),
            Ok([]) => (0, false, true),
            Ok(buf) => {
                let (chunk, end_of_line) = match buf.iter().position(|b| *b == b'\n') {
                    Some(i) => (&buf[..i], true),
                    None => (buf, false),
                };
                // A few bytes past the limit, so a character cut at it can be told.
                let room = (MAX_LINE + 4).saturating_sub(raw.len());
                raw.extend_from_slice(&chunk[..chunk.len().min(room)]);
                cut |= chunk.len() > room;
                (chunk.len() + usize::from(end_of_line), end_of_line, false)
            }
        };
        r.consume(used);
        if end_of_line || (eof && (!raw.is_empty() || cut)) {
            let line = text(&raw, cut);
            if stream == "stderr" {
                warn!(hook = hook.name(), stream, "{line}");
            } else {
                info!(hook = hook.name(), stream, "{line}");
            }
            tail.push_back(line);
            if tail.len() > TAIL_LINES {
                tail.pop_front();
            }
            raw.clear();
            cut = false;
        }
        if eof {
            break;
        }
    }
    tail.into()
}

/// One output line as logged: at most [`MAX_LINE`] bytes, `…` where it was cut.
fn text(raw: &[u8], cut: bool) -> String {
    let mut line = String::from_utf8_lossy(raw)
        .trim_end_matches('\r')
        .to_string();
    if cut || line.len() > MAX_LINE {
        let at = (0..=MAX_LINE.min(line.len()))
            .rev()
            .find(|&i| line.is_char_boundary(i))
            .unwrap_or(0);
        line.truncate(at);
        line.push('…');
    }
    line
}

/// The post-backup hook: its failure (or a missing shell) is a warning, never a changed
/// outcome.
pub async fn run_post(script: &str, report: &Report) {
    if let Err(e) = run(Hook::PostBackup, script, &variables(report)).await {
        warn!(error = %format!("{e:#}"), "HOOK_POST_BACKUP failed; the backup's outcome stands");
    }
}
