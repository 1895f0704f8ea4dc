//! Which objects on the remote are a split configuration's, which database and run each
//! belongs to ([`classify`]), and which run is the latest.

use std::collections::HashSet;
use std::fmt::Write as _;

use anyhow::Context as _;
use regex::Regex;

use super::{one_database, slot_config, Item};
use crate::config::{BackupMode, Config};
use crate::engine::EngineKind;
use crate::rclone::{self, Object, Rclone};
use crate::restore::select::{self, Backup};
use crate::template::DbSlot;

/// The extensions any object of this split configuration may carry, longest first (so that
/// `.sql.gz` is tried before a BACKUP_EXTENSION of `.gz`).
fn extensions(cfg: &Config) -> Vec<String> {
    let mut out = select::extensions(&one_database(cfg));
    if cfg.engine == EngineKind::Pg {
        for e in select::extensions(&cfg.for_globals()) {
            if !out.contains(&e) {
                out.push(e);
            }
        }
    }
    out.sort_by_key(|e| std::cmp::Reverse(e.len()));
    out
}

/// Which database `name` is a backup of, and its run's key: `None` when it is not an object
/// of this split configuration (another template, engine or extension; `{db}` = `all`; a
/// `globals` object of an engine that writes none; an extension its database's
/// configuration would not write).
pub fn classify(cfg: &Config, name: &str) -> Option<(DbSlot, String)> {
    classify_with(cfg, &extensions(cfg), name)
}

fn classify_with(cfg: &Config, extensions: &[String], name: &str) -> Option<(DbSlot, String)> {
    for ext in extensions.iter().filter(|e| name.ends_with(e.as_str())) {
        let Some((slot, rest)) = cfg.template.split_db(name, cfg.engine.key(), ext) else {
            continue;
        };
        match &slot {
            DbSlot::All => continue,
            DbSlot::Globals if cfg.engine != EngineKind::Pg => continue,
            _ => {}
        }
        let own = select::matchers(&slot_config(cfg, &slot));
        if own.iter().any(|m| m.is_match(name)) {
            let run = rest.strip_suffix(ext.as_str()).unwrap_or(&rest).to_string();
            return Some((slot, run));
        }
    }
    None
}

/// The split objects among `objects` (a folder's listing), newest first; `folders`: the
/// directory-mode folders found in a recursive listing.
pub fn items(cfg: &Config, objects: &[Object], folders: &[Backup]) -> Vec<Item> {
    let exts = extensions(cfg);
    let names: HashSet<&str> = objects.iter().map(|o| o.name.as_str()).collect();
    let directory = cfg.mode == BackupMode::Directory;
    let mut out: Vec<Item> = Vec::new();
    for o in objects {
        let Some((slot, run)) = classify_with(cfg, &exts, &o.name) else {
            continue;
        };
        if directory && slot != DbSlot::Globals {
            continue; // a database's backup is a folder in directory mode
        }
        out.push(Item {
            slot,
            run,
            backup: Backup {
                name: o.name.clone(),
                size: o.size,
                mod_time: o.mod_time,
                has_sidecar: names.contains(select::sidecar_name(&o.name).as_str()),
            },
            folder: false,
        });
    }
    for f in folders {
        let Some((slot, run)) = classify_with(cfg, &exts, &f.name) else {
            continue;
        };
        if slot == DbSlot::Globals {
            continue;
        }
        out.push(Item {
            slot,
            run,
            backup: f.clone(),
            folder: true,
        });
    }
    out.sort_by(|a, b| {
        b.backup
            .mod_time
            .cmp(&a.backup.mod_time)
            .then_with(|| b.backup.name.cmp(&a.backup.name))
    });
    out
}

/// List RCLONE_REMOTE: this split configuration's objects, newest first.
pub async fn list(cfg: &Config, rclone: &Rclone) -> anyhow::Result<Vec<Item>> {
    let failed = || format!("listing {} failed", rclone::redact_remote(&cfg.remote));
    if cfg.mode == BackupMode::Directory {
        // One recursive listing holds both: the folders, and the globals object beside them.
        let files = rclone.tree(&cfg.remote).await.with_context(failed)?;
        let any = [Regex::new(".").expect("a valid regex")];
        let folders = crate::restore::tree::folders(&any, &files);
        let objects: Vec<Object> = files
            .iter()
            .filter(|f| !f.path.contains('/'))
            .map(|f| Object {
                name: f.path.clone(),
                size: f.size,
                mod_time: f.mod_time,
                tag: None,
            })
            .collect();
        return Ok(items(cfg, &objects, &folders));
    }
    let objects = rclone.objects(&cfg.remote).await.with_context(failed)?;
    Ok(items(cfg, &objects, &[]))
}

/// The objects of the newest run that has a complete object, globals first, then by
/// database; one per database (the newest, when a template without a time wrote several).
pub fn latest_run(items: &[Item]) -> Option<Vec<&Item>> {
    let newest = items.iter().find(|i| i.backup.has_sidecar)?;
    let mut run: Vec<&Item> = Vec::new();
    for i in items.iter().filter(|i| i.run == newest.run) {
        if !run.iter().any(|r| r.slot == i.slot) {
            run.push(i); // newest first: the first of each database is its newest
        }
    }
    run.sort_by(|a, b| a.slot.cmp(&b.slot));
    Some(run)
}

/// The newest complete object of `slot`.
pub fn latest_of<'a>(items: &'a [Item], slot: &DbSlot) -> Option<&'a Item> {
    items
        .iter()
        .find(|i| &i.slot == slot && i.backup.has_sidecar)
}

/// Why there is nothing to work on, naming what is there.
pub(super) fn nothing(cfg: &Config, items: &[Item], slot: Option<&DbSlot>) -> String {
    let remote = rclone::redact_remote(&cfg.remote);
    let what = match slot {
        Some(s) => format!("database {s}"),
        None => "every database".into(),
    };
    let mine: Vec<&Item> = items
        .iter()
        .filter(|i| slot.is_none_or(|s| &i.slot == s))
        .collect();
    if mine.is_empty() {
        let dbs: Vec<String> = dbs_of(items);
        return format!(
            "no backup of {what} in {remote} (engine {}, BACKUP_SPLIT_DATABASES, BACKUP_NAME_TEMPLATE {}){}",
            cfg.engine.key(),
            cfg.template,
            if dbs.is_empty() {
                String::new()
            } else {
                format!("; databases with backups: {}", dbs.join(", "))
            }
        );
    }
    format!(
        "no complete backup of {what} in {remote}: every one lacks its {} ({}); name one with --backup NAME to use it anyway",
        select::completion_marker(&one_database(cfg)),
        mine.iter()
            .take(20)
            .map(|i| format!("{} (incomplete)", i.backup.name))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn dbs_of(items: &[Item]) -> Vec<String> {
    let mut dbs: Vec<String> = items.iter().map(|i| i.slot.to_string()).collect();
    dbs.sort();
    dbs.dedup();
    dbs
}

// ------------------------------------------------------------------------ list

/// What `list` prints when there is nothing.
pub fn empty_listing(cfg: &Config) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "no backups of this configuration in {} (engine {}, BACKUP_SPLIT_DATABASES: any database, BACKUP_NAME_TEMPLATE {}, extensions {})",
        rclone::redact_remote(&cfg.remote),
        cfg.engine.key(),
        cfg.template,
        extensions(cfg)
            .iter()
            .map(|e| if e.is_empty() { "(folder)" } else { e.as_str() })
            .collect::<Vec<_>>()
            .join(" ")
    );
    s
}

/// The databases older runs have and the latest run has not (dropped since, or excluded).
pub fn missing_from_run(items: &[Item], run: &[&Item]) -> Vec<String> {
    let have: HashSet<&DbSlot> = run.iter().map(|i| &i.slot).collect();
    let mut gone: Vec<String> = items
        .iter()
        .filter(|i| !have.contains(&i.slot))
        .map(|i| i.slot.to_string())
        .collect();
    gone.sort();
    gone.dedup();
    gone
}
