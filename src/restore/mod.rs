//! Getting the data back: `list` (this configuration's backups on the remote), `verify`
//! (download, checksum and completeness, nothing applied) and `restore` (into the database,
//! never from a corrupted backup).

pub mod decompress;
pub mod settings;

use std::process::ExitCode;

use crate::config::Config;
use settings::{ListArgs, RestoreArgs, VerifyArgs};

pub async fn list(cfg: &Config, args: &ListArgs) -> ExitCode {
    let _ = (cfg, args);
    ExitCode::from(crate::EXIT_BACKUP_FAILED)
}

pub async fn verify(cfg: &Config, args: &VerifyArgs) -> ExitCode {
    let _ = (cfg, args);
    ExitCode::from(crate::EXIT_BACKUP_FAILED)
}

pub async fn restore(cfg: &Config, args: &RestoreArgs) -> ExitCode {
    let _ = (cfg, args);
    ExitCode::from(crate::EXIT_BACKUP_FAILED)
}

// ------------------------------------------------------------------ shared by the three
// commands. Stubs: the list/verify engineer implements them first; the restore engineers
// code against these signatures.

/// A backup chosen on the remote.
#[derive(Debug, Clone)]
pub struct Selected {
    /// The object's name in RCLONE_REMOTE.
    pub name: String,
    /// Its full rclone path (`remote:dir/name`).
    pub path: String,
    pub size: i64,
    pub mod_time: chrono::DateTime<chrono::Utc>,
    /// The SHA-256 its sidecar records; `None` when it has no sidecar (incomplete).
    pub sha256: Option<String>,
}

/// `latest` (the newest complete backup of this configuration) or an exact object name.
pub async fn select(
    cfg: &Config,
    rclone: &crate::rclone::Rclone,
    backup: Option<&str>,
) -> anyhow::Result<Selected> {
    let _ = (cfg, rclone, backup);
    anyhow::bail!("not implemented yet")
}

/// Download `sel` into a private 0600 temp file under `dir`, hashing as it streams; fails
/// (and removes the file) when the SHA-256 differs from the sidecar's. Without a sidecar it
/// fails unless `allow_unverified`.
pub async fn download_verified(
    rclone: &crate::rclone::Rclone,
    sel: &Selected,
    dir: &std::path::Path,
    allow_unverified: bool,
) -> anyhow::Result<tempfile::NamedTempFile> {
    let _ = (rclone, sel, dir, allow_unverified);
    anyhow::bail!("not implemented yet")
}
