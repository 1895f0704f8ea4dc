//! The command line: clap structs only. Every value arrives as a string and is validated in
//! `config`, so a bad value gets one line naming its variable instead of clap's usage dump,
//! and defaults live in one place (`config::defaults`).
//!
//! Every flag maps 1:1 to an environment variable (`DB_HOST` ↔ `--db-host`); clap gives the
//! precedence flag > env > default. Common flags are `global`, so they work both before and
//! after the engine subcommand, and in Docker mode (no subcommand, `ENGINE` set). `--help`
//! never shows environment values, so secrets cannot leak through it.

mod common;
mod hints;

use clap::{Args, Parser, Subcommand};

pub use crate::tool_args::ToolArgs;
pub use common::CommonArgs;
pub use hints::{bool_flag_hint, env_vars, unknown_vars, VAR_PREFIXES};

#[derive(Debug, Parser)]
#[command(
    name = "dbstash",
    version = crate::VERSION_LINE,
    about = "Stream database dumps straight into an rclone remote: no temp files, with checksums and retention.",
    long_about = "Stream database dumps straight into an rclone remote: no temp files, with checksums and retention.\n\n\
Every flag can also be set by the environment variable of the same name in upper case \
(--db-host ↔ DB_HOST). A flag wins over the variable, the variable over the default.\n\n\
Docker mode: run `dbstash` with no subcommand and set ENGINE instead.\n\n\
Exit codes: 0 success, 1 the backup failed, 2 the configuration is invalid.",
    args_override_self = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Engine when no subcommand is given (Docker mode): pg, mysql, mariadb, redis or mongo
    #[arg(long, env = "ENGINE", hide_env_values = true, value_name = "ENGINE")]
    pub engine: Option<String>,

    /// DB_AUTH_SOURCE in Docker mode (mongo only; `dbstash mongo --db-auth-source` otherwise)
    #[arg(
        long,
        env = "DB_AUTH_SOURCE",
        hide_env_values = true,
        value_name = "DB",
        hide = true
    )]
    pub db_auth_source: Option<String>,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// Everything after `dbstash`: an engine (take a backup) or one of the tool commands.
#[derive(Debug, Subcommand, Clone, PartialEq, Eq)]
pub enum Command {
    #[command(flatten)]
    Engine(EngineCommand),
    /// Print a shell completion script: bash, zsh, fish, powershell or elvish
    Completions {
        /// The shell to generate completions for
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) for dbstash(1)
    Man,
    /// Check the configuration without taking a backup: the dump tool and rclone (with versions), the remote, and a database connection with the dump's own credentials. Exit 0 all ok, 1 a step failed, 2 bad configuration
    Check(ToolArgs),
    /// List this configuration's backups on the remote, newest first: name, time, size, checksum state (ok, or incomplete without its .sha256)
    List(crate::restore::settings::ListArgs),
    /// Restore a backup (latest, or --backup NAME) into the database, checking its SHA-256 first; refuses a database that has tables unless --drop-existing or --force
    Restore(crate::restore::settings::RestoreArgs),
    /// Apply this configuration's retention (RETENTION_MAX_*, RETENTION_KEEP_*) without taking a backup: prints each backup as kept (and by which rule) or deleted. With --dry-run nothing is deleted. Exit 0, or 1 when the remote cannot be listed or a deletion failed
    Prune(ToolArgs),
    /// Download a backup and check its checksum and that the dump is complete, without restoring it. Exit 0 or 1
    Verify(crate::restore::settings::VerifyArgs),
    /// Probe this process's own /healthz (HEALTH_ADDR) and exit 0 when healthy, 1 otherwise; always 0 with BACKUP_SCHEDULE=once. For Docker's HEALTHCHECK: needs no curl or wget
    Healthcheck,
}

impl Command {
    /// The engine and flags of a tool command that works on one backup configuration.
    pub fn tool(&self) -> Option<&ToolArgs> {
        match self {
            Command::Check(t) | Command::Prune(t) => Some(t),
            Command::List(a) => Some(&a.tool),
            Command::Restore(a) => Some(&a.tool),
            Command::Verify(a) => Some(&a.tool),
            _ => None,
        }
    }

    /// The engine subcommand, if this is one.
    pub fn engine(&self) -> Option<&EngineCommand> {
        match self {
            Command::Engine(e) => Some(e),
            _ => None,
        }
    }
}

#[derive(Debug, Subcommand, Clone, PartialEq, Eq)]
pub enum EngineCommand {
    /// Back up PostgreSQL with pg_dump (one database) or pg_dumpall (all databases)
    Pg,
    /// Back up MySQL with mysqldump
    Mysql,
    /// Back up MariaDB with mariadb-dump (or mysqldump when mariadb-dump is missing)
    Mariadb,
    /// Back up Redis with redis-cli --rdb (the whole RDB snapshot)
    Redis,
    /// Back up MongoDB with mongodump --archive
    Mongo(MongoArgs),
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Args)]
pub struct MongoArgs {
    /// Authentication database, when DB_URI has no authSource [default: admin]
    #[arg(
        long,
        env = "DB_AUTH_SOURCE",
        hide_env_values = true,
        value_name = "DB",
        help_heading = "Connection"
    )]
    pub db_auth_source: Option<String>,
}
