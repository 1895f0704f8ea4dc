//! `restore` of a split configuration: one database's backup, or every object of the
//! latest run in turn, each by the single-database restore.

use std::process::ExitCode;
use std::time::Instant;

use tracing::{error, info, warn};

use super::objects::{latest_run, list, missing_from_run, nothing};
use super::target::{check_restore, target, Target};
use super::{bad_config, slot_config, Item};
use crate::config::Config;
use crate::durations::fmt_duration;
use crate::engine::EngineKind;
use crate::rclone::Rclone;
use crate::restore::select;
use crate::restore::settings::RestoreArgs;
use crate::shutdown::{Cancel, Shutdown};
use crate::template::DbSlot;

/// `dbstash restore` of a split configuration: exit 0 when every object was restored, 1
/// when one failed (the others are still restored; the log names each), 2 bad flags.
pub async fn restore(cfg: &Config, args: &RestoreArgs) -> ExitCode {
    let target = match target(cfg, &args.database, args.backup.as_deref()) {
        Ok(t) => t,
        Err(e) => return bad_config(e),
    };
    if let Err(e) = check_restore(cfg, args, &target) {
        return bad_config(e);
    }
    match target {
        Target::Latest(slot) => {
            // The single-database restore finds the database's newest backup itself.
            let mut one = args.clone();
            one.database = None;
            crate::restore::restore_one(&slot_config(cfg, &slot), &one).await
        }
        Target::Named(slot, name) => {
            if slot == DbSlot::All {
                error!(
                    backup = %name,
                    "restore failed: {name} is not a backup of this configuration (BACKUP_SPLIT_DATABASES: an object per database, named by BACKUP_NAME_TEMPLATE with its database for {{db}}); dbstash list shows them"
                );
                return ExitCode::from(crate::EXIT_BACKUP_FAILED);
            }
            let mut one = args.clone();
            one.database = None;
            crate::restore::restore_one(&slot_config(cfg, &slot), &one).await
        }
        Target::LatestRun => restore_run(cfg, args).await,
    }
}

/// Every object of the latest run, globals first; a failure does not stop the others.
async fn restore_run(cfg: &Config, args: &RestoreArgs) -> ExitCode {
    let started = Instant::now();
    let mut shutdown = match Shutdown::new() {
        Ok(s) => s,
        Err(e) => {
            error!(error = %format!("{e:#}"), "restore failed");
            return ExitCode::from(crate::EXIT_BACKUP_FAILED);
        }
    };
    let deadline = cfg.timeout.map(|t| (started + t, t));
    let listed = {
        let mut cancel = Cancel::new(&mut shutdown, cfg.timeout);
        cancel
            .guard(async {
                let rclone = Rclone::new(cfg)?;
                list(cfg, &rclone).await
            })
            .await
    };
    let items = match listed {
        Ok(i) => i,
        Err(e) => {
            error!(error = %format!("{e:#}"), "restore failed");
            return ExitCode::from(crate::EXIT_BACKUP_FAILED);
        }
    };
    let Some(run) = latest_run(&items) else {
        error!(error = %nothing(cfg, &items, None), "restore failed");
        return ExitCode::from(crate::EXIT_BACKUP_FAILED);
    };
    log_missing(&items, &run);
    let no_verify =
        crate::config::parse_bool("RESTORE_NO_VERIFY", &args.no_verify, false).unwrap_or(false);
    let names: Vec<String> = run.iter().map(|i| i.slot.to_string()).collect();
    info!(
        run = %run[0].backup.name,
        databases = %names.join(", "),
        "restoring every database of the latest BACKUP_SPLIT_DATABASES run"
    );
    let mut failed: Vec<String> = Vec::new();
    let mut restored: Vec<String> = Vec::new();
    let mut pending: Vec<&Item> = run.clone();
    pending.reverse();
    while let Some(item) = pending.pop() {
        let db = item.slot.to_string();
        // This database and the ones after it: not started.
        let left = || {
            std::iter::once(db.clone())
                .chain(pending.iter().rev().map(|i| i.slot.to_string()))
                .collect::<Vec<_>>()
        };
        if let Some(sig) = received(&mut shutdown).await {
            error!(signal = sig, not_restored = %left().join(", "), "restore interrupted: the databases not restored yet are left as they are");
            failed.extend(left());
            break;
        }
        let mut c = slot_config(cfg, &item.slot);
        if let Some((_, limit)) = deadline {
            let time_left = limit.saturating_sub(started.elapsed());
            if time_left.is_zero() {
                error!(not_restored = %left().join(", "), "restore timed out (BACKUP_TIMEOUT): the databases not restored yet are left as they are");
                failed.extend(left());
                break;
            }
            c.timeout = Some(time_left);
        }
        if !item.backup.has_sidecar && !no_verify && !cfg.dry_run {
            error!(
                database = %db,
                backup = %item.backup.name,
                "restore failed: this database's object of the run has no {}, so its integrity cannot be checked (give --no-verify to restore it anyway)",
                select::completion_marker(&c)
            );
            failed.push(db);
            continue;
        }
        if db.starts_with('-') && matches!(cfg.engine, EngineKind::Mysql | EngineKind::Mariadb) {
            error!(database = %db, backup = %item.backup.name, "restore failed: the database's name starts with '-', which the mysql client would read as a flag (restore it with --backup NAME --restore-target-db OTHER)");
            failed.push(db);
            continue;
        }
        let mut one = args.clone();
        one.database = None;
        one.backup = Some(item.backup.name.clone());
        if item.slot == DbSlot::Globals {
            // Roles and tablespaces are the server's: nothing to drop, no target database.
            one.drop_existing = None;
            one.target_db = None;
        }
        info!(database = %db, backup = %item.backup.name, "restoring");
        let code = crate::restore::restore_one(&c, &one).await;
        if code == ExitCode::SUCCESS {
            restored.push(db);
        } else {
            error!(database = %db, backup = %item.backup.name, "this database's restore failed (the log above says why); going on with the others");
            failed.push(db);
        }
    }
    if failed.is_empty() && cfg.dry_run {
        info!(databases = %restored.join(", "), "dry run: each database's plan is above; nothing was restored");
        ExitCode::SUCCESS
    } else if failed.is_empty() {
        info!(
            databases = %restored.join(", "),
            duration = %fmt_duration(started.elapsed()),
            "every database of the run restored"
        );
        ExitCode::SUCCESS
    } else {
        error!(
            failed = %failed.join(", "),
            restored = %if restored.is_empty() { "none".to_string() } else { restored.join(", ") },
            duration = %fmt_duration(started.elapsed()),
            "restore failed for database(s) {}",
            failed.join(", ")
        );
        ExitCode::from(crate::EXIT_BACKUP_FAILED)
    }
}

/// The signal received so far, without waiting for one.
async fn received(shutdown: &mut Shutdown) -> Option<&'static str> {
    tokio::select! {
        biased;
        sig = shutdown.recv() => Some(sig),
        _ = std::future::ready(()) => None,
    }
}

fn log_missing(items: &[Item], run: &[&Item]) {
    let gone = missing_from_run(items, run);
    if !gone.is_empty() {
        warn!(databases = %gone.join(", "), "older runs also have these databases, which the latest run does not: they are not restored (--restore-database NAME restores one's newest backup)");
    }
}
