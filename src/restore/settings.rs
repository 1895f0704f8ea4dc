//! The flags of `list`, `restore` and `verify`, beside the backup flags they share.
//!
//! Each flag is its variable's name (the 1:1 rule, `--list-format` for LIST_FORMAT, checked
//! by tests/docs.rs); the short spelling of the issue (`--format`, `--backup`) is a visible
//! alias.

use clap::Args;

use crate::tool_args::ToolArgs;

#[derive(Debug, Default, Clone, PartialEq, Eq, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub tool: ToolArgs,
    /// text (a table) or json (one array, for scripts) [default: text]
    #[arg(
        long = "list-format",
        visible_alias = "format",
        env = "LIST_FORMAT",
        hide_env_values = true,
        value_name = "FORMAT"
    )]
    pub format: Option<String>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub tool: ToolArgs,
    /// The backup to restore: latest (the newest complete one) or an object name [default: latest]
    #[arg(
        long = "restore-backup",
        visible_alias = "backup",
        env = "RESTORE_BACKUP",
        hide_env_values = true,
        value_name = "latest|NAME"
    )]
    pub backup: Option<String>,
    /// BACKUP_SPLIT_DATABASES backups only: the one database to restore (its newest backup with --backup latest); globals: PostgreSQL's roles and tablespaces object [default: every database of the latest run]
    #[arg(
        long = "restore-database",
        visible_alias = "database",
        env = "RESTORE_DATABASE",
        hide_env_values = true,
        value_name = "NAME"
    )]
    pub database: Option<String>,
    /// Restore into this database instead of DB_NAME (the backups are still found by DB_NAME)
    #[arg(
        long = "restore-target-db",
        visible_alias = "target-db",
        env = "RESTORE_TARGET_DB",
        hide_env_values = true,
        value_name = "NAME"
    )]
    pub target_db: Option<String>,
    /// Drop what the target holds first (pg: its schemas; mysql: the database, created again; mongo: mongorestore --drop of the backup's collections)
    #[arg(long = "restore-drop-existing", visible_alias = "drop-existing", env = "RESTORE_DROP_EXISTING", hide_env_values = true, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub drop_existing: Option<String>,
    /// Restore into a database that already has tables, without dropping anything (with --output: replace an existing file)
    #[arg(long = "restore-force", visible_alias = "force", env = "RESTORE_FORCE", hide_env_values = true, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub force: Option<String>,
    /// Restore a backup that has no .sha256 sidecar (its integrity cannot be checked)
    #[arg(long = "restore-no-verify", visible_alias = "no-verify", env = "RESTORE_NO_VERIFY", hide_env_values = true, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub no_verify: Option<String>,
    /// Write the verified backup to this file instead of restoring it (required for redis: an RDB file)
    #[arg(
        long = "restore-output",
        visible_alias = "output",
        env = "RESTORE_OUTPUT",
        hide_env_values = true,
        value_name = "PATH"
    )]
    pub output: Option<String>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub tool: ToolArgs,
    /// The backup to verify: latest (the newest complete one) or an object name [default: latest]
    #[arg(
        long = "restore-backup",
        visible_alias = "backup",
        env = "RESTORE_BACKUP",
        hide_env_values = true,
        value_name = "latest|NAME"
    )]
    pub backup: Option<String>,
    /// BACKUP_SPLIT_DATABASES backups only: the one database to verify (its newest backup with --backup latest); globals: PostgreSQL's roles and tablespaces object [default: every database of the latest run]
    #[arg(
        long = "restore-database",
        visible_alias = "database",
        env = "RESTORE_DATABASE",
        hide_env_values = true,
        value_name = "NAME"
    )]
    pub database: Option<String>,
}
