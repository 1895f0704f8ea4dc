//! Every call to the `rclone` binary (found on PATH): streaming upload, listing, deleting.
//!
//! dbstash's `RCLONE_CONFIG` holds base64 *content*, while rclone reads an env `RCLONE_CONFIG`
//! as a *path*: so the variable is removed from rclone's environment, and the config reaches
//! rclone as `--config FILE` (for inline content, a memory file that dies with dbstash: see
//! [`process::secret_file`]).
//!
//! Control calls (list, stat, move, delete, the checksum file) are bounded: rclone's own
//! defaults retry a remote that refuses connections or never answers for many minutes (a
//! listing of a closed S3 port took 693 s with rclone 1.75). The streaming upload keeps
//! rclone's defaults: a dump may legitimately pause for minutes.
//!
//! This file holds the [`Rclone`] handle, built from the configuration, and the secrets that
//! reach rclone; `invoke` builds and bounds rclone's processes, `listing` reads what is on
//! the remote, `transfer` writes, reads and deletes objects, and `calls` answers control
//! calls through the `rclone rcd` of `rcd`.

mod calls;
mod invoke;
mod listing;
mod rcd;
mod transfer;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;

use crate::config::{Config, RcloneConfig};
use crate::process;
use crate::remote::remote_secrets;
pub use crate::remote::{
    check_remote, describe_remote, join, location, normalize_remote, redact_remote, Entry, Location,
};
pub use invoke::control_limit;
pub use listing::TreeFile;
pub use rcd::SWITCH as RCD_SWITCH;

/// The user-metadata key of the backup_id dbstash tags its uploads with: it tells this run's
/// object from another writer's under the same name.
pub const TAG_KEY: &str = "dbstash-backup-id";

/// What a remote can do, as far as dbstash cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    /// Renames server-side (file-system-like backends: local, sftp, webdav, …).
    pub server_side_move: bool,
    /// Keeps user metadata written with `--metadata-set` (local on xattr-capable file
    /// systems, S3, GCS, Azure Blob, Drive, …; not sftp, webdav, ftp, smb).
    pub user_metadata: bool,
    /// Renames a whole folder server-side (local, sftp, webdav, Drive, …; not S3).
    pub dir_move: bool,
}

/// One object as [`Rclone::stat`] found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub name: String,
    /// -1 on backends that cannot tell.
    pub size: i64,
    pub mod_time: DateTime<Utc>,
    /// The [`TAG_KEY`] metadata: the backup_id of the dbstash run that wrote it.
    pub tag: Option<String>,
}

pub struct Rclone {
    config_path: Option<PathBuf>,
    extra_args: Vec<String>,
    /// How long one control call may take in all; `None` when the user turned rclone's
    /// timeouts off (`--timeout 0` in RCLONE_EXTRA_ARGS, or `RCLONE_TIMEOUT=0`).
    control_limit: Option<Duration>,
    /// The remote as logs show it (credentials redacted), for errors.
    remote: String,
    /// Keeps the decoded `RCLONE_CONFIG` alive for rclone to read.
    inline_config: Option<process::SecretFile>,
    /// The backup_id uploads carry as user metadata ([`TAG_KEY`]), once set.
    tag: Option<String>,
    /// Control calls may go to an `rclone rcd` ([`rcd::SWITCH`]).
    use_rcd: bool,
    /// The daemon, started by the first control call; `None` inside when it cannot run.
    daemon: tokio::sync::OnceCell<Option<rcd::Daemon>>,
}

impl Rclone {
    /// Ready to run: an inline config goes to a memory file (see [`process::secret_file`]).
    pub fn new(cfg: &Config) -> anyhow::Result<Rclone> {
        let (config_path, inline) = match &cfg.rclone_config {
            RcloneConfig::Default => (None, None),
            RcloneConfig::File(p) => (Some(p.clone()), None),
            RcloneConfig::Inline(content) => {
                let f = process::secret_file(content.expose_secret())
                    .context("handing RCLONE_CONFIG to rclone")?;
                (Some(f.path().to_path_buf()), Some(f))
            }
        };
        Ok(Rclone {
            config_path,
            extra_args: cfg.rclone_extra_args.clone(),
            control_limit: control_limit(
                &cfg.rclone_extra_args,
                std::env::var("RCLONE_TIMEOUT").ok().as_deref(),
            ),
            remote: redact_remote(&cfg.remote),
            inline_config: inline,
            tag: None,
            use_rcd: rcd::enabled(),
            daemon: tokio::sync::OnceCell::new(),
        })
    }

    /// Every control call as its own rclone process, as `DBSTASH_RCLONE_RCD=0` asks.
    pub fn processes_only(&mut self) {
        self.use_rcd = false;
    }

    /// The pid of the `rclone rcd` answering the control calls, started if need be; `None`
    /// when they run as processes.
    pub async fn daemon_pid(&self) -> Option<u32> {
        self.daemon().await.and_then(rcd::Daemon::pid)
    }
}

/// Secrets that reach rclone besides dbstash's own, for [`crate::redact`]: values of
/// secret-looking flags in RCLONE_EXTRA_ARGS, credentials written inline in the remote string
/// and in an inline RCLONE_CONFIG, and the values of secret-looking `RCLONE_*` variables in
/// dbstash's environment (rclone -vv prints flags it takes from there, values and all).
pub fn secrets(cfg: &Config) -> Vec<String> {
    let mut out = crate::argv::arg_secrets(&cfg.rclone_extra_args, &[]);
    out.extend(remote_secrets(&cfg.remote));
    if let RcloneConfig::Inline(content) = &cfg.rclone_config {
        out.extend(config_secrets(content.expose_secret()));
    }
    out.extend(std::env::vars_os().filter_map(|(k, v)| {
        let k = k.into_string().ok()?;
        let name = k.strip_prefix("RCLONE_")?;
        crate::argv::is_secret_name(name)
            .then(|| v.into_string().ok())
            .flatten()
    }));
    out
}

/// `key = value` lines of an rclone config whose key names a secret.
fn config_secrets(content: &str) -> Vec<String> {
    content
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| crate::argv::is_secret_name(k.trim()))
        .map(|(_, v)| v.trim().to_string())
        .collect()
}

#[cfg(test)]
mod tests;
