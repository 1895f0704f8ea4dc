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
//!
//! This file holds a split run's [`Item`] and the configuration each object was written with;
//! `objects` finds and classifies the objects and picks the latest run, `target` reads what
//! to work on and checks the flags against it, `restore` and `verify` do the work.

mod objects;
mod restore;
mod target;
mod verify;

use std::process::ExitCode;

use crate::config::{Config, ConfigError};
use crate::restore::select::Backup;
use crate::template::DbSlot;

pub use objects::{classify, empty_listing, items, latest_of, latest_run, list, missing_from_run};
pub use restore::restore;
pub use target::wanted_database;
pub use verify::verify;

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

fn bad_config(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("dbstash: invalid configuration: {e}");
    ExitCode::from(crate::EXIT_BAD_CONFIG)
}

#[cfg(test)]
mod tests;
