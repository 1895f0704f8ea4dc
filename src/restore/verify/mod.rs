//! `dbstash verify`: download a backup, check its SHA-256 against the sidecar, then check
//! that the dump is complete, without restoring anything. `VERIFY_AFTER_BACKUP=true` runs the
//! same on every backup just written ([`after_backup`]).
//!
//! Which completeness checks apply is engine data ([`Engine::completeness`]) chosen by what
//! the (decompressed) bytes are ([`Content::sniff`]): pg_restore on custom and tar archives,
//! the dump tool's trailer on plain SQL, `redis-check-rdb` on an RDB (skipped, said so, when
//! it is not installed), the archive framing of mongodump ([`super::archive`]).
//!
//! [`Engine::completeness`]: crate::engine::Engine::completeness
//! [`Content::sniff`]: crate::engine::Content::sniff
//!
//! This file holds the command ([`run`], [`check`]), the check of a stream backup
//! ([`verify`]) and [`after_backup`]; `report` is the report's lines and rendering,
//! `completeness` the checks on a downloaded file.

mod completeness;
mod report;

use std::process::ExitCode;

use tracing::{error, info, warn};

use super::download::{checksum_mismatch, download_verified};
use super::select::{self, Selected};
use super::settings::VerifyArgs;
use crate::config::Config;
use crate::rclone::{self, Rclone};
use crate::shutdown::{Cancel, Shutdown};

pub(super) use completeness::tool_line;
pub use completeness::{completeness, find_trailer};
pub use report::{passed, render, Line, Mark};

/// Download `sel` into BACKUP_TEMP_DIR, check its checksum, then its completeness. Every
/// step bounded by `cancel`; the download is removed when done.
pub async fn verify(
    cfg: &Config,
    rclone: &Rclone,
    sel: &Selected,
    cancel: &mut Cancel<'_>,
) -> Vec<Line> {
    let Some(expected) = &sel.sha256 else {
        return vec![Line::new(
            "checksum",
            Mark::Failed,
            format!(
                "{} has no .sha256 sidecar: its integrity cannot be checked (the run that wrote it may have been killed, or BACKUP_CHECKSUM was false)",
                sel.name
            ),
        )];
    };
    let downloaded = cancel
        .guard(download_verified(rclone, sel, &cfg.temp_dir, false))
        .await;
    let d = match downloaded {
        Ok(d) => d,
        Err(e) => {
            let check = if checksum_mismatch(e.as_ref()).is_some() {
                "checksum"
            } else {
                "download"
            };
            return vec![Line::new(check, Mark::Failed, format!("{e:#}"))];
        }
    };
    let mut lines = vec![Line::new(
        "checksum",
        Mark::Ok,
        format!(
            "SHA-256 {expected} matches {} ({} bytes)",
            select::sidecar_name(&sel.name),
            d.verified.bytes
        ),
    )];
    if super::decrypt::is_encrypted(&sel.name) {
        let Some(identity) = cfg.encryption.identity.as_ref() else {
            lines.push(Line::new(
                "complete",
                Mark::Skipped,
                super::decrypt::NOT_CHECKED,
            ));
            return lines;
        };
        let plain = d.dir().join("decrypted");
        let decrypted = cancel
            .guard(super::decrypt::to_file(
                &d.path,
                plain.clone(),
                identity,
                &sel.name,
            ))
            .await;
        if let Err(e) = decrypted {
            lines.push(Line::new("decrypt", Mark::Failed, format!("{e:#}")));
            return lines;
        }
        let name = super::decrypt::plain_name(&sel.name);
        let checked = cancel
            .guard(async { Ok(completeness(cfg, name, &plain).await) })
            .await;
        match checked {
            Ok(more) => lines.extend(more),
            Err(e) => lines.push(Line::new("complete", Mark::Failed, format!("{e:#}"))),
        }
        return lines;
    }
    let checked = cancel
        .guard(async { Ok(completeness(cfg, &sel.name, &d.path).await) })
        .await;
    match checked {
        Ok(more) => lines.extend(more),
        Err(e) => lines.push(Line::new("complete", Mark::Failed, format!("{e:#}"))),
    }
    lines
}
/// `dbstash verify`: exit 0 when every check passed, 1 otherwise.
pub async fn run(cfg: &Config, args: &VerifyArgs) -> ExitCode {
    if super::split::is_split(cfg) {
        return super::split::verify(cfg, args).await;
    }
    if let Err(e) = super::split::wanted_database(cfg, &args.database) {
        eprintln!("dbstash: invalid configuration: {e}");
        return ExitCode::from(crate::EXIT_BAD_CONFIG);
    }
    if let Err(e) = super::tree::check_mode(cfg) {
        eprintln!("dbstash: invalid configuration: {e}");
        return ExitCode::from(crate::EXIT_BAD_CONFIG);
    }
    let mut shutdown = match Shutdown::new() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("dbstash: {e:#}");
            return ExitCode::from(crate::EXIT_BACKUP_FAILED);
        }
    };
    let mut cancel = Cancel::new(&mut shutdown, cfg.timeout);
    let lines = check(cfg, args.backup.as_deref(), &mut cancel).await;
    print!("{}", render(&lines));
    if passed(&lines) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::EXIT_BACKUP_FAILED)
    }
}

/// The checks of `verify` on one backup of `cfg` (`backup`: latest, or an exact name).
pub async fn check(cfg: &Config, backup: Option<&str>, cancel: &mut Cancel<'_>) -> Vec<Line> {
    let rclone = match Rclone::new(cfg) {
        Ok(r) => r,
        Err(e) => return vec![Line::new("rclone", Mark::Failed, format!("{e:#}"))],
    };
    let (sel, complete) = match cancel.guard(select::select_any(cfg, &rclone, backup)).await {
        Ok(s) => s,
        Err(e) => return vec![Line::new("backup", Mark::Failed, format!("{e:#}"))],
    };
    let mut lines = vec![Line::new(
        "backup",
        Mark::Ok,
        format!(
            "{} ({}, {}) in {}",
            sel.name,
            super::list::human_size(sel.size),
            sel.mod_time
                .with_timezone(&cfg.tz)
                .format("%Y-%m-%d %H:%M:%S %:z"),
            rclone::redact_remote(&cfg.remote)
        ),
    )];
    if super::tree::is_tree(cfg) {
        lines.extend(super::tree_check::verify(cfg, &rclone, &sel, complete, cancel).await);
    } else {
        lines.extend(verify(cfg, &rclone, &sel, cancel).await);
    }
    lines
}

/// VERIFY_AFTER_BACKUP: verify the backup a run just wrote (`name` at `target`), within what
/// is left of the run's BACKUP_TIMEOUT, against what the run wrote, not against what the
/// remote holds now: `sha256` is the object's SHA-256 as streamed (stream and tar modes:
/// what its sidecar says), or the SHA-256 of the folder's SHA256SUMS (directory mode). Each
/// check is logged; `Err` when one failed. The backup itself stays on the remote whatever
/// the outcome: it is complete and checksummed, and the error says it is not restorable as
/// it is.
pub async fn after_backup(
    cfg: &Config,
    name: &str,
    target: &str,
    bytes: u64,
    sha256: &str,
    cancel: &mut Cancel<'_>,
) -> anyhow::Result<()> {
    let rclone = Rclone::new(cfg)?;
    let sel = Selected {
        name: name.to_string(),
        path: target.to_string(),
        size: i64::try_from(bytes).unwrap_or(-1),
        mod_time: chrono::Utc::now(),
        sha256: Some(sha256.to_string()),
    };
    info!(object = %name, "verifying the backup (VERIFY_AFTER_BACKUP)");
    let lines = if super::tree::is_tree(cfg) {
        // The run wrote it whole: a folder with its SHA256SUMS, an object with its sidecar.
        super::tree_check::verify(cfg, &rclone, &sel, true, cancel).await
    } else {
        verify(cfg, &rclone, &sel, cancel).await
    };
    for l in &lines {
        match l.mark {
            Mark::Ok => info!(check = %l.check, "verify: {}", l.text),
            Mark::Skipped => warn!(check = %l.check, "verify: skipped: {}", l.text),
            Mark::Failed => error!(check = %l.check, "verify: {}", l.text),
        }
    }
    let failed: Vec<String> = lines
        .iter()
        .filter(|l| l.mark == Mark::Failed)
        .map(|l| format!("{}: {}", l.check, l.text))
        .collect();
    if failed.is_empty() {
        info!(object = %name, "backup verified");
        return Ok(());
    }
    anyhow::bail!(
        "verification of {name} failed ({}); the backup stays on the remote (complete and checksummed), but it is not restorable as it is",
        failed.join("; ")
    )
}
