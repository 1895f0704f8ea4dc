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
use crate::remote::Entry;
use crate::restore::select;
use crate::retention::{self, Current, Verdict};
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
        let mut table = String::new();
        let (mut deleted, mut failed) = (0, 0);
        for unit in &units {
            let (verdicts, d, f) = prune(unit, &rclone, &mut cancel).await?;
            if cfg.split.is_some() {
                // As in names: a name from the server cannot forge lines.
                let _ = writeln!(
                    table,
                    "database {}:",
                    crate::template::db_in_names(unit.name_db())
                );
            }
            table.push_str(&render(unit, &verdicts, &f));
            deleted += d;
            failed += f.len();
        }
        if units.is_empty() {
            let _ = writeln!(
                table,
                "no backups of this configuration in {}",
                rclone::redact_remote(&cfg.remote)
            );
        }
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

/// Retention over one configuration's backups: the verdicts, how many were deleted, and the
/// names whose deletion failed.
async fn prune(
    cfg: &Config,
    rclone: &Rclone,
    cancel: &mut Cancel<'_>,
) -> anyhow::Result<(Vec<Verdict>, usize, Vec<String>)> {
    let backups = cancel.guard(select::list_backups(cfg, rclone)).await?;
    let matcher = cfg.template.matcher(
        cfg.name_db(),
        cfg.engine.key(),
        &crate::engine::extension(cfg),
    );
    let listing: Vec<Entry> = backups
        .iter()
        .filter(|b| matcher.is_match(&b.name))
        .map(|b| Entry {
            name: b.name.clone(),
            mod_time: b.mod_time,
        })
        .collect();
    let complete = |n: &str| {
        backups
            .iter()
            .any(|b| b.name == n && (b.has_sidecar || !cfg.checksum))
    };
    let verdicts = retention::decide(
        &listing,
        |n| matcher.is_match(n),
        complete,
        Current::None,
        cfg.retention,
        cfg.tz,
        chrono::Utc::now(),
    );
    let mut failed: Vec<String> = Vec::new();
    let mut deleted = 0usize;
    if !cfg.dry_run {
        for v in verdicts.iter().filter(|v| !v.keep) {
            let sidecar = backups.iter().any(|b| b.name == v.name && b.has_sidecar);
            match cancel
                .guard(crate::backup::delete_backup(cfg, rclone, &v.name, sidecar))
                .await
            {
                Ok(()) => {
                    deleted += 1;
                    info!(database = cfg.db_label(), object = %v.name, why = %v.why, "prune: deleted");
                }
                Err(e) => {
                    failed.push(v.name.clone());
                    error!(database = cfg.db_label(), object = %v.name, error = %format!("{e:#}"), "prune: could not delete");
                }
            }
        }
    }
    Ok((verdicts, deleted, failed))
}

/// One line per backup, newest first: the verdict and why.
fn render(cfg: &Config, verdicts: &[Verdict], failed: &[String]) -> String {
    let mut out = String::new();
    let remote = rclone::redact_remote(&cfg.remote);
    if verdicts.is_empty() {
        let _ = writeln!(out, "no backups of this configuration in {remote}");
        return out;
    }
    let name_w = verdicts
        .iter()
        .map(|v| v.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    let delete_word = if cfg.dry_run {
        "would delete"
    } else {
        "deleted"
    };
    let _ = writeln!(
        out,
        "{:<name_w$}  {:<25}  {:<13}  WHY",
        "NAME",
        format!("TIME ({})", cfg.tz.name()),
        "VERDICT"
    );
    for v in verdicts {
        let _ = writeln!(
            out,
            "{:<name_w$}  {:<25}  {:<13}  {}",
            v.name,
            v.mod_time
                .with_timezone(&cfg.tz)
                .format("%Y-%m-%d %H:%M:%S %:z")
                .to_string(),
            if v.keep {
                "keep"
            } else if failed.contains(&v.name) {
                "delete failed"
            } else {
                delete_word
            },
            v.why
        );
    }
    let gone = verdicts.iter().filter(|v| !v.keep).count();
    let _ = writeln!(
        out,
        "{} backup{} in {remote}: {} kept, {gone} {delete_word}{}",
        verdicts.len(),
        if verdicts.len() == 1 { "" } else { "s" },
        verdicts.len() - gone,
        if cfg.dry_run {
            " (DRY_RUN: nothing deleted)"
        } else {
            ""
        }
    );
    out
}
