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
use crate::restore::select;
use crate::shutdown::{Cancel, Shutdown};
use crate::template::DbSlot;
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
        let units = match &cfg.split {
            None => vec![cfg.clone()],
            Some(_) => cancel.guard(split_units(cfg, &rclone)).await?,
        };
        let mut entries: Vec<Entry> = Vec::new();
        let (mut deleted, mut failed) = (0, 0);
        for unit in &units {
            let (mut e, d, f) = prune(unit, &rclone, &mut cancel).await?;
            if cfg.split.is_some() {
                // As in names: a name from the server cannot forge lines.
                let db = crate::template::db_in_names(unit.name_db()).into_owned();
                for x in &mut e {
                    x.database = Some(db.clone());
                }
            }
            entries.extend(e);
            deleted += d;
            failed += f;
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

/// The configurations of a split configuration's databases that have backups in the folder
/// (read from the names, as `list` reads them), pg's globals first.
async fn split_units(cfg: &Config, rclone: &Rclone) -> anyhow::Result<Vec<Config>> {
    let items = crate::restore::split::list(cfg, rclone).await?;
    let mut slots: Vec<DbSlot> = items.into_iter().map(|i| i.slot).collect();
    slots.sort();
    slots.dedup();
    Ok(slots
        .iter()
        .map(|s| crate::restore::split::slot_config(cfg, s))
        .collect())
}

/// Retention over one configuration's backups: each backup with its verdict (done, or to
/// do under DRY_RUN), how many were deleted and how many deletions failed.
async fn prune(
    cfg: &Config,
    rclone: &Rclone,
    cancel: &mut Cancel<'_>,
) -> anyhow::Result<(Vec<Entry>, usize, usize)> {
    let backups = cancel.guard(select::list_backups(cfg, rclone)).await?;
    let folder = cfg.mode == crate::config::BackupMode::Directory;
    let entries: Vec<Entry> = backups
        .iter()
        .cloned()
        .map(|b| Entry {
            folder,
            ..Entry::from(b)
        })
        .collect();
    let mut entries = list::with_verdicts(cfg, entries, None);
    let (mut deleted, mut failed) = (0, 0);
    if !cfg.dry_run {
        for e in entries.iter_mut() {
            let Some(r) = e.retention.as_mut().filter(|r| r.verdict != "keep") else {
                continue;
            };
            let name = &e.backup.name;
            match cancel
                .guard(crate::backup::delete_backup(
                    cfg,
                    rclone,
                    name,
                    e.backup.has_sidecar,
                ))
                .await
            {
                Ok(()) => {
                    deleted += 1;
                    r.verdict = "deleted";
                    info!(database = cfg.db_label(), object = %name, why = %r.why, "prune: deleted");
                }
                Err(err) => {
                    failed += 1;
                    r.verdict = "delete failed";
                    error!(database = cfg.db_label(), object = %name, error = %format!("{err:#}"), "prune: could not delete");
                }
            }
        }
    }
    Ok((entries, deleted, failed))
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
