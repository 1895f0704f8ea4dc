//! Engines are data: for a [`Config`] they say which program to run, with which arguments
//! and environment, and what extension the result gets. They spawn nothing, so unit tests can
//! assert the exact argv for every row of the design's tables.

mod postgres;

use std::fmt;

use secrecy::SecretString;

use crate::config::{Config, ConfigError};

pub use postgres::Postgres;

/// The engine keys of the design (`pg`, `mysql`, …). Only engines this build implements
/// have a variant; the others are recognised and reported as not yet supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    Pg,
}

const PLANNED: &[&str] = &["mysql", "mariadb", "redis", "mongo"];

impl EngineKind {
    pub fn parse(name: &str) -> Result<EngineKind, String> {
        match name.to_ascii_lowercase().as_str() {
            "pg" | "postgres" | "postgresql" => Ok(EngineKind::Pg),
            other if PLANNED.contains(&other) => Err(format!(
                "engine '{other}' is not yet supported by dbstash {} (supported: pg)",
                crate::VERSION
            )),
            other => Err(format!(
                "unknown engine '{other}' (expected one of pg, mysql, mariadb, redis, mongo)"
            )),
        }
    }

    pub fn key(self) -> &'static str {
        self.engine().key()
    }

    pub fn engine(self) -> &'static dyn Engine {
        match self {
            EngineKind::Pg => &Postgres,
        }
    }
}

/// A dump tool invocation. Secrets travel in `env`, never in `args`.
#[derive(Debug, Clone)]
pub struct DumpCommand {
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<(&'static str, SecretString)>,
}

impl fmt::Display for DumpCommand {
    /// Shell-like rendering with every secret value redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, _) in &self.env {
            write!(f, "{k}=*** ")?;
        }
        f.write_str(&quote(&self.program))?;
        for a in &self.args {
            write!(f, " {}", quote(a))?;
        }
        Ok(())
    }
}

/// Quote an argument for display only when a shell would need it (`--format=plain` stays bare).
pub fn quote(arg: &str) -> std::borrow::Cow<'_, str> {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=+:,./@%".contains(c));
    if plain {
        arg.into()
    } else {
        shell_words::quote(arg)
    }
}

pub trait Engine: Send + Sync {
    fn kind(&self) -> EngineKind;
    fn key(&self) -> &'static str;
    /// URI schemes accepted in `DB_URI`.
    fn uri_schemes(&self) -> &'static [&'static str];
    fn uri_example(&self) -> &'static str;
    fn default_port(&self) -> u16;
    /// Whether a single-database backup needs a database name (Redis dumps everything).
    fn needs_database(&self) -> bool {
        true
    }
    /// The database a URI names: its path, for most engines.
    fn uri_database(&self, uri: &crate::uri::DbUri) -> Option<String> {
        Some(uri.path.clone()).filter(|p| !p.is_empty())
    }
    /// Engine rules over a resolved config: hard errors, or warnings that do not stop the run
    /// (a compress no-op, `DUMP_EXTRA_ARGS` that would write to disk in stream mode).
    fn check(&self, cfg: &Config) -> Result<Vec<String>, ConfigError>;
    fn dump_command(&self, cfg: &Config) -> DumpCommand;
    /// The extension `BACKUP_EXTENSION` defaults to, following compression and extra args.
    fn auto_extension(&self, cfg: &Config) -> String;
}

/// The extension in effect: `BACKUP_EXTENSION` or the engine's choice.
pub fn extension(cfg: &Config) -> String {
    cfg.extension
        .clone()
        .unwrap_or_else(|| cfg.engine().auto_extension(cfg))
}
