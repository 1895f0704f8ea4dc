//! `verify` of a split configuration: one database's backup, or every object of the latest
//! run, each checked as a single backup.

use std::process::ExitCode;

use super::objects::{latest_run, list, nothing};
use super::target::{target, Target};
use super::{bad_config, check_mode, slot_config};
use crate::config::Config;
use crate::rclone::Rclone;
use crate::restore::settings::VerifyArgs;
use crate::restore::verify::{self, Line, Mark};
use crate::shutdown::{Cancel, Shutdown};
use crate::template::DbSlot;

/// `dbstash verify` of a split configuration: RESTORE_DATABASE's newest backup (or the one
/// named), else every object of the latest run, each checked as a single backup; the report
/// names each database's checks (`app: checksum`). Exit 0 when all passed, 1 otherwise.
pub async fn verify(cfg: &Config, args: &VerifyArgs) -> ExitCode {
    let target = match target(cfg, &args.database, args.backup.as_deref()) {
        Ok(t) => t,
        Err(e) => return bad_config(e),
    };
    if let Err(e) = check_mode(cfg) {
        return bad_config(e);
    }
    let mut shutdown = match Shutdown::new() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("dbstash: {e:#}");
            return ExitCode::from(crate::EXIT_BACKUP_FAILED);
        }
    };
    let mut cancel = Cancel::new(&mut shutdown, cfg.timeout);
    let lines = match target {
        Target::Latest(slot) => {
            let c = slot_config(cfg, &slot);
            verify::check(&c, None, &mut cancel).await
        }
        Target::Named(DbSlot::All, name) => vec![Line::new(
            "backup",
            Mark::Failed,
            format!("{name} is not a backup of this configuration (BACKUP_SPLIT_DATABASES: an object per database); dbstash list shows them"),
        )],
        Target::Named(slot, name) => {
            let c = slot_config(cfg, &slot);
            verify::check(&c, Some(&name), &mut cancel).await
        }
        Target::LatestRun => verify_run(cfg, &mut cancel).await,
    };
    print!("{}", verify::render(&lines));
    if verify::passed(&lines) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::EXIT_BACKUP_FAILED)
    }
}

async fn verify_run(cfg: &Config, cancel: &mut Cancel<'_>) -> Vec<Line> {
    let listed = cancel
        .guard(async {
            let rclone = Rclone::new(cfg)?;
            list(cfg, &rclone).await
        })
        .await;
    let items = match listed {
        Ok(i) => i,
        Err(e) => return vec![Line::new("backup", Mark::Failed, format!("{e:#}"))],
    };
    let Some(run) = latest_run(&items) else {
        return vec![Line::new(
            "backup",
            Mark::Failed,
            nothing(cfg, &items, None),
        )];
    };
    let mut lines = vec![Line::new(
        "run",
        Mark::Ok,
        format!(
            "{} object(s) of the latest BACKUP_SPLIT_DATABASES run: {}",
            run.len(),
            run.iter()
                .map(|i| i.slot.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )];
    for item in run {
        let c = slot_config(cfg, &item.slot);
        let checked = verify::check(&c, Some(&item.backup.name), cancel).await;
        lines.extend(checked.into_iter().map(|l| Line {
            check: format!("{}: {}", item.slot, l.check),
            ..l
        }));
    }
    lines
}
