//! rclone's processes: the command line every call shares, the bounds of control calls
//! (rclone's timeouts as environment defaults, a wall-clock limit), and their exit codes.

use std::time::Duration;

use tokio::process::Command;

use super::{rcd, redact_remote, Rclone};
use crate::config::{Config, RcloneConfig};
use crate::process::{self, ChildFailed};

/// rclone's exit codes for "directory not found" and "file not found".
pub(super) const EXIT_DIR_NOT_FOUND: i32 = 3;
pub(super) const EXIT_FILE_NOT_FOUND: i32 = 4;

/// The idle timeout dbstash gives control calls (rclone's default is 5 min).
pub(super) const CONTROL_TIMEOUT: Duration = Duration::from_secs(20);

/// Defaults for control calls, as the environment variables rclone reads every flag's
/// default from: connect within 10 s, an answer within 20 s, one retry of a failed request,
/// no retry of the whole command. A refused connection fails in seconds (measured 5.7 s
/// against a closed S3 port, instead of 693 s). A flag in RCLONE_EXTRA_ARGS wins over them
/// (rclone: command line over environment), and so does the same variable set for dbstash.
pub(super) const CONTROL_DEFAULTS: [(&str, &str); 4] = [
    ("RCLONE_CONTIMEOUT", "10s"),
    ("RCLONE_TIMEOUT", "20s"),
    ("RCLONE_LOW_LEVEL_RETRIES", "2"),
    ("RCLONE_RETRIES", "1"),
];

/// The wall-clock bound of one control call is this many times its `--timeout`: a remote
/// that accepts connections but never answers would otherwise be asked again and again
/// (each backend makes several requests per command, each retried).
const CONTROL_LIMIT_FACTOR: u32 = 3;

/// The shortest wall-clock bound of a control call.
const MIN_CONTROL_LIMIT: Duration = Duration::from_secs(60);

/// How long `rclone version` may take.
const VERSION_LIMIT: Duration = Duration::from_secs(10);

/// The wall-clock bound of a control call: [`CONTROL_LIMIT_FACTOR`] × the rclone idle
/// timeout in effect (the last `--timeout` in RCLONE_EXTRA_ARGS, else `RCLONE_TIMEOUT` from
/// dbstash's environment, else ours), at least [`MIN_CONTROL_LIMIT`]; `None` for a timeout of
/// 0 (rclone's "off"). A value dbstash cannot read counts as ours.
pub fn control_limit(extra_args: &[String], env_timeout: Option<&str>) -> Option<Duration> {
    let mut timeout = env_timeout.map(str::to_string);
    let mut it = extra_args.iter();
    while let Some(a) = it.next() {
        if let Some(v) = a.strip_prefix("--timeout=") {
            timeout = Some(v.to_string());
        } else if a == "--timeout" {
            timeout = it.next().cloned().or(timeout);
        }
    }
    let t = match timeout.as_deref().map(str::trim) {
        None => CONTROL_TIMEOUT,
        Some("off") => return None,
        Some(t) => match crate::input::parse_duration(t) {
            Ok(Some(t)) => t,
            // Zero in any unit (0, 0s, 0m): rclone's timeouts are off.
            Ok(None) => return None,
            Err(_) => CONTROL_TIMEOUT,
        },
    };
    Some((t * CONTROL_LIMIT_FACTOR).max(MIN_CONTROL_LIMIT))
}

impl Rclone {
    /// The argv of an rclone call, for dry runs and logs (remote credentials redacted).
    pub fn describe(cfg: &Config, subcommand: &str, target: &str) -> String {
        let mut argv = vec!["rclone".to_string()];
        match &cfg.rclone_config {
            RcloneConfig::Default => {}
            RcloneConfig::File(p) => argv.extend(["--config".into(), p.display().to_string()]),
            RcloneConfig::Inline(_) => argv.extend([
                "--config".into(),
                "<0600 memory file from RCLONE_CONFIG>".into(),
            ]),
        }
        argv.push(subcommand.to_string());
        argv.extend(crate::argv::redact_args(&cfg.rclone_extra_args));
        argv.push(redact_remote(target));
        argv.iter()
            .map(|a| crate::argv::quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// `rclone [--config FILE] SUBCOMMAND RCLONE_EXTRA_ARGS`. Callers add `--` before the
    /// paths they pass, so no path is ever read as a flag.
    pub(super) fn base(&self, subcommand: &str) -> Command {
        // SIGKILLed at once if dbstash dies: its input ends then, and it must not commit.
        let mut cmd = process::command_with("rclone", process::Stop::AtOnce);
        cmd.env_remove("RCLONE_CONFIG");
        if let Some(p) = &self.config_path {
            cmd.arg("--config").arg(p);
        }
        if let Some(f) = &self.inline_config {
            f.hand_to(&mut cmd);
        }
        cmd.arg(subcommand).args(&self.extra_args);
        cmd
    }

    /// A control call: short timeouts and few retries, unless the user set them.
    pub(super) fn command(&self, subcommand: &str) -> Command {
        let mut cmd = self.base(subcommand);
        for (var, value) in CONTROL_DEFAULTS {
            if std::env::var_os(var).is_none() {
                cmd.env(var, value);
            }
        }
        cmd
    }

    /// Run a control call within its wall-clock bound. When the bound passes, the call is
    /// dropped, which kills rclone's process group.
    pub(super) async fn run_control(
        &self,
        cmd: Command,
        what: &str,
        input: Option<&[u8]>,
    ) -> anyhow::Result<Vec<u8>> {
        let Some(limit) = self.control_limit else {
            return process::run(cmd, what, input).await;
        };
        match tokio::time::timeout(limit, process::run(cmd, what, input)).await {
            Ok(result) => result,
            Err(_) => Err(self.no_answer(what, limit)),
        }
    }

    /// A control call ran out of its wall-clock bound.
    pub(super) fn no_answer(&self, what: &str, limit: Duration) -> anyhow::Error {
        anyhow::anyhow!(
            "{what}: no answer from {} within {} (stopped): it refuses connections, never answers or is very slow; check RCLONE_REMOTE and the network, or give a slow remote more time with a larger --timeout in RCLONE_EXTRA_ARGS (the bound is {CONTROL_LIMIT_FACTOR}x it)",
            self.remote,
            crate::durations::fmt_human(limit)
        )
    }

    /// The first line of `rclone version`, e.g. `rclone v1.75.2`.
    pub async fn version() -> anyhow::Result<String> {
        let mut cmd = process::command_with("rclone", process::Stop::AtOnce);
        cmd.env_remove("RCLONE_CONFIG").arg("version");
        let out = tokio::time::timeout(VERSION_LIMIT, process::run(cmd, "rclone version", None))
            .await
            .map_err(|_| {
                anyhow::anyhow!(
                    "rclone version: no answer within {}",
                    crate::durations::fmt_human(VERSION_LIMIT)
                )
            })??;
        Ok(String::from_utf8_lossy(&out)
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_string())
    }
}

pub(super) fn exit_code(e: &anyhow::Error) -> Option<i32> {
    e.downcast_ref::<ChildFailed>().and_then(|c| c.code)
}

/// The HTTP status of a call the daemon answered with an error (404: not found).
pub(super) fn rc_status(e: &anyhow::Error) -> Option<u16> {
    e.downcast_ref::<rcd::RcFailed>().map(|f| f.status)
}
