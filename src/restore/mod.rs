//! Getting the data back: `list` (this configuration's backups on the remote), `verify`
//! (download, checksum and completeness, nothing applied) and `restore` (into the database,
//! never from a corrupted backup).

pub mod archive;
pub mod decompress;
pub mod download;
mod pg;
pub mod list;
pub mod select;
pub mod settings;
pub mod verify;

use std::process::ExitCode;

use crate::config::Config;
use settings::{ListArgs, RestoreArgs, VerifyArgs};

pub async fn list(cfg: &Config, args: &ListArgs) -> ExitCode {
    list::run(cfg, args).await
}

pub async fn verify(cfg: &Config, args: &VerifyArgs) -> ExitCode {
    verify::run(cfg, args).await
}

pub async fn restore(cfg: &Config, args: &RestoreArgs) -> ExitCode {
    match cfg.engine {
        crate::engine::EngineKind::Pg => pg::restore(cfg, args).await,
        _ => {
            let _ = (cfg, args);
            ExitCode::from(crate::EXIT_BACKUP_FAILED)
        }
    }
}

// ------------------------------------------------------------------ shared by the three
// commands: which backup (`select`), and its bytes checked against the sidecar (`download`).
// Wrap the futures in `crate::backup::Cancel::guard` for BACKUP_TIMEOUT and signals.

pub use download::{
    checksum_mismatch, download_stream, download_verified, ChecksumMismatch, DownloadStream,
    Downloaded, Verified,
};
pub use select::{select, Selected};
