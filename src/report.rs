//! What one attempt tells the world once it is over: the post-backup hook's `DBSTASH_*`
//! variables, notifications and ping URLs all read this one record.

use std::time::Duration;

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Success,
    Failure,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Failure => "failure",
        }
    }
}

/// Where a failed attempt stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The start-up checks (daemon mode) failed.
    Preflight,
    /// Another run held the lock: no backup was taken.
    Skipped,
    /// HOOK_PRE_BACKUP failed: no dump ran.
    PreHook,
    /// The backup itself (dump, upload, checksum, retention).
    Backup,
    /// VERIFY_AFTER_BACKUP: the backup was written (complete and checksummed, it stays),
    /// but verifying it failed: it is not restorable as it is.
    Verify,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Preflight => "preflight",
            Stage::Skipped => "skipped",
            Stage::PreHook => "pre_hook",
            Stage::Backup => "backup",
            Stage::Verify => "verify",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Report {
    pub status: Status,
    pub stage: Stage,
    pub engine: String,
    pub database: String,
    /// The backup's remote path (credentials redacted): the object written, or the one a
    /// failed attempt was writing. `None` when no backup was started.
    pub file: Option<String>,
    pub size: Option<u64>,
    pub sha256: Option<String>,
    pub backup_id: Option<String>,
    pub started_at: DateTime<Utc>,
    pub duration: Duration,
    /// This machine's host name.
    pub host: String,
    /// The error, for failures: its tail, secrets redacted.
    pub error: Option<String>,
}

impl Report {
    /// A failure before any backup started (the lock was taken, the start-up checks failed).
    pub fn failed(engine: &str, database: &str, stage: Stage, error: &str) -> Report {
        Report {
            status: Status::Failure,
            stage,
            engine: engine.to_string(),
            database: database.to_string(),
            file: None,
            size: None,
            sha256: None,
            backup_id: None,
            started_at: Utc::now(),
            duration: Duration::ZERO,
            host: host_name(),
            error: Some(error_tail(error, 2000)),
        }
    }
}

/// The host name, for reports: `HOSTNAME` (set in containers) or the kernel's.
pub fn host_name() -> String {
    if let Some(h) = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.trim().is_empty())
    {
        return h.trim().to_string();
    }
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// The last `max` characters of an error, on a character boundary: notifications and hook
/// variables carry the tail, where tools put the reason.
pub fn error_tail(error: &str, max: usize) -> String {
    let error = &crate::redact::redact(error);
    let count = error.chars().count();
    if count <= max {
        return error.to_string();
    }
    let skip = count - max;
    let start = error.char_indices().nth(skip).map_or(0, |(i, _)| i);
    format!("…{}", &error[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_tail_keeps_the_end_on_char_boundaries() {
        assert_eq!(error_tail("short", 10), "short");
        assert_eq!(error_tail("abcdefghij", 4), "…ghij");
        assert_eq!(error_tail("ééééé", 2), "…éé");
    }
}
