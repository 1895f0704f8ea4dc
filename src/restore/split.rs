//! `list`, `verify` and `restore` of BACKUP_SPLIT_DATABASES backups: one object per database
//! (and PostgreSQL's `globals` object), each a normal single-database backup.
//!
//! A split configuration's backups are the objects whose names its template matches with any
//! `{db}` but `all` ([`classify`]): the database's own configuration
//! ([`Config::for_database`], or [`Config::for_globals`]) must recognise the name as its own,
//! so each object is read with the extensions and mode it was written with (a folder in
//! directory mode, the globals object always a stream). The objects of one run share every
//! part of their names but `{db}` (the same time and `{uuid}`): that rest is the run's key.
//!
//! Everything that touches one object is the single-database code, called with that
//! database's configuration; this module only chooses the objects and the order, and sums up.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use regex::Regex;
use tracing::{error, info, warn};

use super::select::{self, Backup, Wanted};
use super::settings::{RestoreArgs, VerifyArgs};
use super::verify::{self, Line, Mark};
use crate::config::{BackupMode, Config, ConfigError};
use crate::durations::fmt_duration;
use crate::engine::EngineKind;
use crate::input::{no_control_chars, nonempty};
use crate::rclone::{self, Object, Rclone};
use crate::shutdown::{Cancel, Shutdown};
use crate::template::DbSlot;

/// One object (or folder) of a split run on the remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The database it holds, or the globals object.
    pub slot: DbSlot,
    /// Its name without `{db}` and the extension: the same for every object of one run.
    pub run: String,
    pub backup: Backup,
    /// A directory-mode folder (complete with its SHA256SUMS), not one object.
    pub folder: bool,
}

/// Whether this configuration writes one backup per database.
pub fn is_split(cfg: &Config) -> bool {
    cfg.split.is_some()
}

/// The configuration an object of `slot` was written with.
pub fn slot_config(cfg: &Config, slot: &DbSlot) -> Config {
    match slot {
        DbSlot::Globals => cfg.for_globals(),
        DbSlot::Named(db) => cfg.for_database(db),
        DbSlot::All => cfg.clone(),
    }
}

/// A database's configuration: its extensions and mode do not depend on its name.
fn one_database(cfg: &Config) -> Config {
    cfg.for_database("db")
}

/// The modes' rules for a split configuration: those of one of its databases.
pub fn check_mode(cfg: &Config) -> Result<(), ConfigError> {
    super::tree::check_mode(&one_database(cfg))
}

/// RESTORE_DATABASE, read: `None` when unset; `globals` is PostgreSQL's globals object (a
/// database named `globals` is reached by its object's name with `--backup`). Exit 2 when
/// the configuration is not split, or the engine has no globals object.
pub fn wanted_database(
    cfg: &Config,
    value: &Option<String>,
) -> Result<Option<DbSlot>, ConfigError> {
    let Some(v) = nonempty(value).map(str::trim) else {
        return Ok(None);
    };
    if !is_split(cfg) {
        return Err(ConfigError::var(
            "RESTORE_DATABASE",
            "only applies to BACKUP_SPLIT_DATABASES backups (one object per database): this configuration's backups hold one database (DB_NAME) or all of them in one object; unset it",
        ));
    }
    no_control_chars("RESTORE_DATABASE", v)?;
    if v.starts_with('-') {
        return Err(ConfigError::var(
            "RESTORE_DATABASE",
            format!("'{v}' starts with '-', which the client would read as a flag"),
        ));
    }
    if v == crate::template::GLOBALS {
        if cfg.engine != EngineKind::Pg {
            return Err(ConfigError::var(
                "RESTORE_DATABASE",
                format!(
                    "globals is PostgreSQL's roles and tablespaces object: {} backups have none (name a database)",
                    cfg.engine.key()
                ),
            ));
        }
        return Ok(Some(DbSlot::Globals));
    }
    Ok(Some(DbSlot::Named(v.to_string())))
}

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
        let folders = super::tree::folders(&any, &files);
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
fn nothing(cfg: &Config, items: &[Item], slot: Option<&DbSlot>) -> String {
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

fn bad_config(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("dbstash: invalid configuration: {e}");
    ExitCode::from(crate::EXIT_BAD_CONFIG)
}

// ------------------------------------------------------------------------ restore

/// What `restore` works on, from RESTORE_DATABASE and RESTORE_BACKUP.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// Every database of the newest run.
    LatestRun,
    /// One database's newest complete backup.
    Latest(DbSlot),
    /// One object by its exact name.
    Named(DbSlot, String),
}

fn target(
    cfg: &Config,
    database: &Option<String>,
    backup: Option<&str>,
) -> Result<Target, ConfigError> {
    let slot = wanted_database(cfg, database)?;
    match (Wanted::parse(backup), slot) {
        (Wanted::Latest, None) => Ok(Target::LatestRun),
        (Wanted::Latest, Some(s)) => Ok(Target::Latest(s)),
        (Wanted::Name(name), wanted) => {
            let Some((slot, _)) = classify(cfg, name) else {
                // Not a split object's name: the single-database code says what is there.
                return Ok(Target::Named(
                    wanted.unwrap_or(DbSlot::All),
                    name.to_string(),
                ));
            };
            if let Some(w) = wanted.filter(|w| *w != slot) {
                return Err(ConfigError::combo(
                    "RESTORE_DATABASE (--restore-database) and RESTORE_BACKUP (--restore-backup)",
                    format!("{name} is a backup of {slot}, not of {w}: give one or the other"),
                ));
            }
            Ok(Target::Named(slot, name.to_string()))
        }
    }
}

/// The flags that only make sense for one database, checked against what is restored: exit
/// 2 before anything runs. The per-database checks are those of a single-database restore.
fn check_restore(cfg: &Config, args: &RestoreArgs, target: &Target) -> Result<(), ConfigError> {
    check_mode(cfg)?;
    let target_db = nonempty(&args.target_db).is_some();
    let output = nonempty(&args.output).is_some();
    let globals = matches!(
        target,
        Target::Latest(DbSlot::Globals) | Target::Named(DbSlot::Globals, _)
    );
    if *target == Target::LatestRun {
        if target_db {
            return Err(ConfigError::var(
                "RESTORE_TARGET_DB",
                "cannot take every database of a BACKUP_SPLIT_DATABASES run (each is restored into the database of its own name): give RESTORE_DATABASE (--restore-database NAME) to restore one database into it",
            ));
        }
        if output {
            return Err(ConfigError::var(
                "RESTORE_OUTPUT",
                "writes one backup to one file, and a BACKUP_SPLIT_DATABASES run has one per database: give RESTORE_DATABASE (--restore-database NAME) or --backup NAME",
            ));
        }
    }
    if globals && !output {
        if target_db {
            return Err(ConfigError::var(
                "RESTORE_TARGET_DB",
                "does not apply to the globals object: roles and tablespaces belong to the server, not to a database",
            ));
        }
        let drop = crate::config::parse_bool("RESTORE_DROP_EXISTING", &args.drop_existing, false)?;
        if drop {
            return Err(ConfigError::var(
                "RESTORE_DROP_EXISTING",
                "does not apply to the globals object: roles that already exist are kept (their CREATE ROLE errors are ignored, their ALTER ROLE applied)",
            ));
        }
    }
    if let Target::Named(DbSlot::Named(db), name) = target {
        let mysql = matches!(cfg.engine, EngineKind::Mysql | EngineKind::Mariadb);
        if mysql && db.starts_with('-') && !target_db && !output {
            return Err(ConfigError::var(
                "RESTORE_TARGET_DB",
                format!("is needed for {name}: its database '{db}' starts with '-', which the mysql client would read as a flag; restore it under another name"),
            ));
        }
    }
    // A database's own restore would refuse the same flags.
    let one = one_database(cfg);
    let opts = super::Options::parse(&one, args)?;
    if cfg.engine == EngineKind::Pg && opts.output.is_none() && !globals {
        super::pg::options(&one, args)?;
    }
    if opts.output.is_some() && one.mode == BackupMode::Directory && !globals {
        return Err(ConfigError::var(
            "RESTORE_OUTPUT",
            "does not apply to a directory backup (BACKUP_MODE=directory): it is a folder of files, not one file; download it with rclone copy, or check it with dbstash verify",
        ));
    }
    Ok(())
}

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
            super::restore_one(&slot_config(cfg, &slot), &one).await
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
            super::restore_one(&slot_config(cfg, &slot), &one).await
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
        let code = super::restore_one(&c, &one).await;
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

// ------------------------------------------------------------------------ verify

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

fn log_missing(items: &[Item], run: &[&Item]) {
    let gone = missing_from_run(items, run);
    if !gone.is_empty() {
        warn!(databases = %gone.join(", "), "older runs also have these databases, which the latest run does not: they are not restored (--restore-database NAME restores one's newest backup)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn cfg(kind: EngineKind, split: bool, extra: &[(&str, &str)]) -> Config {
        let mut a = crate::cli::CommonArgs {
            db_host: Some("h".into()),
            db_name: (!split).then(|| "app".into()),
            backup_all_databases: split.then(|| "true".into()),
            backup_split_databases: split.then(|| "true".into()),
            rclone_remote: Some("s3:b/x".into()),
            backup_schedule: Some("once".into()),
            ..Default::default()
        };
        for (k, v) in extra {
            match *k {
                "mode" => a.backup_mode = Some(v.to_string()),
                "template" => a.backup_name_template = Some(v.to_string()),
                _ => unreachable!(),
            }
        }
        Config::resolve(kind, a).unwrap()
    }

    fn obj(name: &str, secs: i64) -> Object {
        Object {
            name: name.into(),
            size: 10,
            mod_time: DateTime::from_timestamp(1_770_000_000 + secs, 0).unwrap(),
            tag: None,
        }
    }

    fn named(db: &str) -> DbSlot {
        DbSlot::Named(db.into())
    }

    #[test]
    fn names_are_read_back_to_their_database_and_run() {
        let pg = cfg(EngineKind::Pg, true, &[]);
        let run = "\0-2026-02-07-020000".to_string();
        for (name, want) in [
            ("app-2026-02-07-020000.sql", Some(named("app"))),
            ("app-2026-02-07-020000.dump", Some(named("app"))),
            ("app-2026-02-07-020000.sql.zst.age", Some(named("app"))),
            ("globals-2026-02-07-020000.sql", Some(DbSlot::Globals)),
            ("globals-2026-02-07-020000.sql.zst", Some(DbSlot::Globals)),
            ("%67lobals-2026-02-07-020000.sql", Some(named("globals"))),
            ("%61ll-2026-02-07-020000.sql", Some(named("all"))),
            ("a%2Fb-2026-02-07-020000.dump", Some(named("a/b"))),
            ("all-2026-02-07-020000.sql", None),
            ("app-2026-02-07-020000.sql.sha256", None),
            (".app-2026-02-07-020000.sql.partial-0a1b2c3d", None),
            ("app-2026-02-07-020000.rdb", None),
            ("app-latest.sql", None),
            ("a%zzb-2026-02-07-020000.sql", None),
            ("notes.txt", None),
        ] {
            let got = classify(&pg, name);
            assert_eq!(got.as_ref().map(|(s, _)| s), want.as_ref(), "{name}");
            if let Some((_, r)) = got {
                assert_eq!(
                    r, run,
                    "{name}: the run's key has no database nor extension"
                );
            }
        }
        // MySQL has no globals object: a database named so is always escaped.
        let my = cfg(EngineKind::Mysql, true, &[]);
        assert_eq!(classify(&my, "globals-2026-02-07-020000.sql"), None);
        assert_eq!(
            classify(&my, "shop-2026-02-07-020000.sql").map(|(s, _)| s),
            Some(named("shop"))
        );
        assert_eq!(classify(&my, "shop-2026-02-07-020000.dump"), None);
    }

    #[test]
    fn the_latest_run_is_every_object_of_the_newest_complete_one_globals_first() {
        let pg = cfg(EngineKind::Pg, true, &[("template", "{db}_{ts}_{uuid}")]);
        let objects = [
            // An older run with a database the newest no longer has.
            obj("globals_1770000000_0a0a0a0a.sql", 0),
            obj("globals_1770000000_0a0a0a0a.sql.sha256", 0),
            obj("old_1770000000_0a0a0a0a.sql", 1),
            obj("old_1770000000_0a0a0a0a.sql.sha256", 1),
            // The newest run: app is incomplete (no sidecar), shop complete.
            obj("globals_1770000100_1b1b1b1b.sql", 100),
            obj("globals_1770000100_1b1b1b1b.sql.sha256", 100),
            obj("shop_1770000100_1b1b1b1b.dump", 102),
            obj("shop_1770000100_1b1b1b1b.dump.sha256", 102),
            obj("app_1770000100_1b1b1b1b.sql", 101),
            // A run that failed before anything was complete, newer still.
            obj("app_1770000200_2c2c2c2c.sql", 200),
            // Other configurations' files.
            obj("all_1770000300_3d3d3d3d.sql", 300),
            obj("all_1770000300_3d3d3d3d.sql.sha256", 300),
            obj("notes.txt", 400),
        ];
        let found = items(&pg, &objects, &[]);
        let names: Vec<&str> = found.iter().map(|i| i.backup.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "app_1770000200_2c2c2c2c.sql",
                "shop_1770000100_1b1b1b1b.dump",
                "app_1770000100_1b1b1b1b.sql",
                "globals_1770000100_1b1b1b1b.sql",
                "old_1770000000_0a0a0a0a.sql",
                "globals_1770000000_0a0a0a0a.sql",
            ]
        );
        let run = latest_run(&found).unwrap();
        let run: Vec<(String, bool)> = run
            .iter()
            .map(|i| (i.slot.to_string(), i.backup.has_sidecar))
            .collect();
        assert_eq!(
            run,
            [
                ("globals".to_string(), true),
                ("app".to_string(), false),
                ("shop".to_string(), true)
            ]
        );
        let latest = latest_run(&found).unwrap();
        assert_eq!(missing_from_run(&found, &latest), ["old"]);
        assert_eq!(
            latest_of(&found, &named("app")).map(|i| i.backup.name.as_str()),
            None,
            "app has no complete backup"
        );
        assert_eq!(
            latest_of(&found, &named("old")).map(|i| i.backup.name.as_str()),
            Some("old_1770000000_0a0a0a0a.sql")
        );
        assert!(latest_run(&items(&pg, &objects[9..10], &[])).is_none());
    }

    #[test]
    fn directory_mode_databases_are_folders_and_globals_an_object() {
        let pg = cfg(EngineKind::Pg, true, &[("mode", "directory")]);
        let folder = |name: &str, secs: i64, complete: bool| Backup {
            name: name.into(),
            size: 10,
            mod_time: DateTime::from_timestamp(1_770_000_000 + secs, 0).unwrap(),
            has_sidecar: complete,
        };
        let objects = [
            obj("globals-2026-02-07-020000.sql", 0),
            obj("globals-2026-02-07-020000.sql.sha256", 0),
            obj("app-2026-02-07-020000", 1), // a file, not a folder: not a backup
        ];
        let folders = [
            folder("app-2026-02-07-020000", 2, true),
            folder("globals-2026-02-07-020000", 2, true),
        ];
        let found = items(&pg, &objects, &folders);
        let got: Vec<(String, bool)> = found
            .iter()
            .map(|i| (i.slot.to_string(), i.folder))
            .collect();
        assert_eq!(
            got,
            [("app".to_string(), true), ("globals".to_string(), false)]
        );
        assert_eq!(found[0].run, found[1].run);
    }

    #[test]
    fn restore_database_needs_a_split_configuration() {
        let single = cfg(EngineKind::Pg, false, &[]);
        assert_eq!(wanted_database(&single, &None).unwrap(), None);
        let e = wanted_database(&single, &Some("app".into()))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("RESTORE_DATABASE") && e.contains("BACKUP_SPLIT_DATABASES"),
            "{e}"
        );
        let pg = cfg(EngineKind::Pg, true, &[]);
        assert_eq!(
            wanted_database(&pg, &Some(" app ".into())).unwrap(),
            Some(named("app"))
        );
        assert_eq!(
            wanted_database(&pg, &Some("globals".into())).unwrap(),
            Some(DbSlot::Globals)
        );
        assert_eq!(wanted_database(&pg, &Some(" ".into())).unwrap(), None);
        let my = cfg(EngineKind::Mariadb, true, &[]);
        let e = wanted_database(&my, &Some("globals".into()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("mariadb backups have none"), "{e}");
        let e = wanted_database(&my, &Some("--help".into()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("read as a flag"), "{e}");
    }

    #[test]
    fn flags_for_one_database_are_refused_for_many() {
        let args = |f: &dyn Fn(&mut RestoreArgs)| {
            let mut a = RestoreArgs::default();
            f(&mut a);
            a
        };
        let check = |c: &Config, a: &RestoreArgs| {
            let t = target(c, &a.database, a.backup.as_deref()).map_err(|e| e.to_string())?;
            check_restore(c, a, &t).map_err(|e| e.to_string())
        };
        let pg = cfg(EngineKind::Pg, true, &[]);
        assert_eq!(check(&pg, &args(&|_| {})), Ok(()));
        for (a, var) in [
            (
                args(&|a| a.target_db = Some("x".into())),
                "RESTORE_TARGET_DB",
            ),
            (
                args(&|a| a.output = Some("/tmp/x".into())),
                "RESTORE_OUTPUT",
            ),
            (
                args(&|a| {
                    a.database = Some("globals".into());
                    a.drop_existing = Some("true".into());
                }),
                "RESTORE_DROP_EXISTING",
            ),
            (
                args(&|a| {
                    a.database = Some("globals".into());
                    a.target_db = Some("x".into());
                }),
                "RESTORE_TARGET_DB",
            ),
            (
                args(&|a| {
                    a.database = Some("app".into());
                    a.force = Some("true".into());
                    a.drop_existing = Some("true".into());
                }),
                "RESTORE_DROP_EXISTING (--restore-drop-existing) and RESTORE_FORCE",
            ),
        ] {
            let e = check(&pg, &a).unwrap_err();
            assert!(e.starts_with(var), "{a:?}: {e}");
        }
        for ok in [
            args(&|a| {
                a.database = Some("app".into());
                a.target_db = Some("x".into());
            }),
            args(&|a| a.drop_existing = Some("true".into())),
            args(&|a| {
                a.database = Some("globals".into());
                a.output = Some("/tmp/x".into());
            }),
        ] {
            assert_eq!(check(&pg, &ok), Ok(()), "{ok:?}");
        }
        let my = cfg(EngineKind::Mariadb, true, &[]);
        // A database named `--help` (legal in MySQL): its name is not escaped.
        assert_eq!(
            classify(&my, "--help-2026-02-07-020000.sql").map(|(s, _)| s),
            Some(named("--help"))
        );
        let dash = args(&|a| a.backup = Some("--help-2026-02-07-020000.sql".into()));
        let e = check(&my, &dash).unwrap_err();
        assert!(e.contains("read as a flag"), "{e}");
        let under_another = RestoreArgs {
            target_db: Some("help".into()),
            ..dash
        };
        assert_eq!(check(&my, &under_another), Ok(()));
    }

    #[test]
    fn what_a_restore_works_on() {
        let pg = cfg(EngineKind::Pg, true, &[]);
        let t = |db: Option<&str>, backup: Option<&str>| {
            target(&pg, &db.map(String::from), backup).map_err(|e| e.to_string())
        };
        assert_eq!(t(None, None), Ok(Target::LatestRun));
        assert_eq!(t(None, Some("LATEST")), Ok(Target::LatestRun));
        assert_eq!(t(Some("app"), None), Ok(Target::Latest(named("app"))));
        let name = "shop-2026-02-07-020000.sql";
        assert_eq!(
            t(None, Some(name)),
            Ok(Target::Named(named("shop"), name.into()))
        );
        assert_eq!(
            t(Some("shop"), Some(name)),
            Ok(Target::Named(named("shop"), name.into()))
        );
        let e = t(Some("app"), Some(name)).unwrap_err();
        assert!(e.contains("is a backup of shop, not of app"), "{e}");
        assert_eq!(
            t(None, Some("notes.txt")),
            Ok(Target::Named(DbSlot::All, "notes.txt".into()))
        );
    }
}
