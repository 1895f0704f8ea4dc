//! `dbstash prune [ENGINE]`: apply this configuration's retention without taking a backup,
//! and print for each backup whether it is kept (and by which rule) or deleted. With
//! DRY_RUN=true (`--dry-run`) nothing is deleted.
//!
//! The candidates are exactly those of a backup run's retention (this configuration's names
//! with today's extension); with no new backup behind them, the newest complete backup is
//! never deleted, whatever the rules say. With BACKUP_SPLIT_DATABASES each database's
//! backups (and pg's globals) are pruned apart, as a run does.

use std::fmt::Write as _;
use std::process::ExitCode;

use tracing::{error, info};

use crate::config::Config;
use crate::rclone::{self, Rclone};
use crate::restore::list::{self, Entry};
use crate::shutdown::{Cancel, Shutdown};
use crate::{EXIT_BACKUP_FAILED, EXIT_BAD_CONFIG};

/// Exit 0 when every deletion the rules ask for succeeded (or none was asked), 1 when the
/// remote cannot be listed or a deletion failed, 2 for a configuration prune cannot serve.
/// With BACKUP_SPLIT_DATABASES the rules apply to each database's backups apart (every
/// database with backups in the folder, and pg's globals), as a backup run applies them.
pub async fn run(cfg: &Config) -> ExitCode {
    // A split configuration's databases are single-database backups: judged as one.
    let checked = match &cfg.split {
        None => crate::restore::tree::check_mode(cfg),
        Some(_) => crate::restore::split::check_mode(cfg),
    };
    if let Err(e) = checked {
        eprintln!("dbstash: invalid configuration: {e}");
        return ExitCode::from(EXIT_BAD_CONFIG);
    }
    let result = async {
        let mut shutdown = Shutdown::new()?;
        let mut cancel = Cancel::new(&mut shutdown, cfg.timeout);
        let rclone = Rclone::new(cfg)?;
        // One listing, as `list` makes it; each database of a split configuration judged
        // apart, and deleted with its own configuration (a folder or a file).
        let (entries, slots) = cancel.guard(list::entries(cfg, &rclone)).await?;
        let mut entries = list::with_verdicts(cfg, entries, slots.as_deref());
        let (mut deleted, mut failed) = (0, 0);
        for (i, e) in entries.iter_mut().enumerate() {
            if let Some(slots) = &slots {
                // As in names: a name from the server cannot forge lines.
                e.database = Some(crate::template::db_in_names(slots[i].as_db()).into_owned());
            }
            let doomed = e.retention.as_ref().is_some_and(|r| r.verdict != "keep");
            if cfg.dry_run || !doomed {
                continue;
            }
            let unit = match &slots {
                None => std::borrow::Cow::Borrowed(cfg),
                Some(slots) => {
                    std::borrow::Cow::Owned(crate::restore::split::slot_config(cfg, &slots[i]))
                }
            };
            if delete(&unit, &rclone, e, &mut cancel).await {
                deleted += 1;
            } else {
                failed += 1;
            }
        }
        let table = render(cfg, &entries);
        anyhow::Ok((table, deleted, failed))
    }
    .await;
    match result {
        Ok((table, deleted, failed)) => {
            print!("{}", crate::redact::redact(&table));
            if failed > 0 {
                eprintln!(
                    "dbstash: prune: {failed} deletion(s) failed ({deleted} done); see the log"
                );
                ExitCode::from(EXIT_BACKUP_FAILED)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            error!(
                engine = cfg.engine.key(),
                database = cfg.db_label(),
                error = %format!("{e:#}"),
                "prune failed"
            );
            ExitCode::from(EXIT_BACKUP_FAILED)
        }
    }
}

/// Delete the backup `e` (of configuration `cfg`), marking its verdict `deleted` or
/// `delete failed`; `true` when it was deleted.
async fn delete(cfg: &Config, rclone: &Rclone, e: &mut Entry, cancel: &mut Cancel<'_>) -> bool {
    let Entry {
        backup,
        retention: Some(r),
        ..
    } = e
    else {
        return false; // no verdict: nothing asked to delete it
    };
    let name = &backup.name;
    match cancel
        .guard(crate::backup::delete_backup(
            cfg,
            rclone,
            name,
            backup.has_sidecar,
        ))
        .await
    {
        Ok(()) => {
            r.verdict = "deleted";
            info!(database = cfg.db_label(), object = %name, why = %r.why, "prune: deleted");
            true
        }
        Err(err) => {
            r.verdict = "delete failed";
            error!(database = cfg.db_label(), object = %name, error = %format!("{err:#}"), "prune: could not delete");
            false
        }
    }
}

/// `list`'s table with each backup's verdict, then what was (or would be) deleted.
fn render(cfg: &Config, entries: &[Entry]) -> String {
    let remote = rclone::redact_remote(&cfg.remote);
    if entries.is_empty() {
        return format!("no backups of this configuration in {remote}\n");
    }
    let marker = if cfg.mode == crate::config::BackupMode::Directory {
        "SHA256SUMS"
    } else {
        ".sha256 sidecar"
    };
    let mut out = list::render_table(entries, cfg.tz, &remote, marker);
    let count = |v: &str| {
        entries
            .iter()
            .filter(|e| e.retention.as_ref().is_some_and(|r| r.verdict == v))
            .count()
    };
    let (kept, doomed) = (count("keep"), count("would delete"));
    let _ = write!(out, "{kept} kept");
    if cfg.dry_run {
        let _ = write!(out, ", {doomed} would delete (DRY_RUN: nothing deleted)");
    } else {
        let _ = write!(out, ", {} deleted", count("deleted"));
        match count("delete failed") {
            0 => {}
            n => {
                let _ = write!(out, ", {n} delete failed");
            }
        }
    }
    let others = entries.iter().filter(|e| e.retention.is_none()).count();
    if others > 0 {
        let _ = write!(
            out,
            ", {others} not candidates (another extension than today's)"
        );
    }
    out.push('\n');
    out
}
