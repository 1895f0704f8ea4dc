//! What `restore` and `verify` of a split configuration work on (RESTORE_DATABASE and
//! RESTORE_BACKUP), and the flags checked against it before anything runs.

use super::{check_mode, classify, is_split, one_database};
use crate::config::{BackupMode, Config, ConfigError};
use crate::engine::EngineKind;
use crate::input::{no_control_chars, nonempty};
use crate::restore::select::Wanted;
use crate::restore::settings::RestoreArgs;
use crate::template::DbSlot;

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

/// What `restore` works on, from RESTORE_DATABASE and RESTORE_BACKUP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    /// Every database of the newest run.
    LatestRun,
    /// One database's newest complete backup.
    Latest(DbSlot),
    /// One object by its exact name.
    Named(DbSlot, String),
}

pub(super) fn target(
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
pub(super) fn check_restore(
    cfg: &Config,
    args: &RestoreArgs,
    target: &Target,
) -> Result<(), ConfigError> {
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
    let opts = crate::restore::Options::parse(&one, args)?;
    if cfg.engine == EngineKind::Pg && opts.output.is_none() && !globals {
        crate::restore::pg::options(&one, args)?;
    }
    if opts.output.is_some() && one.mode == BackupMode::Directory && !globals {
        return Err(ConfigError::var(
            "RESTORE_OUTPUT",
            "does not apply to a directory backup (BACKUP_MODE=directory): it is a folder of files, not one file; download it with rclone copy, or check it with dbstash verify",
        ));
    }
    Ok(())
}
