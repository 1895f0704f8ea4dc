//! The arguments `check`, `list`, `restore` and `verify` share: the engine as a positional
//! argument, and DB_AUTH_SOURCE. A leaf of its own so that `cli` (which lists the commands)
//! and `restore::settings` (which flattens it into each tool's flags) both use it, neither
//! the other.

use clap::Args;

/// The arguments of a tool command that works on one backup configuration: the engine as a
/// positional argument (or ENGINE), then the same flags as a backup.
#[derive(Debug, Default, Clone, PartialEq, Eq, Args)]
pub struct ToolArgs {
    /// pg, mysql, mariadb, redis or mongo [default: ENGINE]
    #[arg(value_name = "ENGINE")]
    pub engine: Option<String>,
    /// Authentication database for mongo, when DB_URI has no authSource [default: admin]
    #[arg(
        long,
        env = "DB_AUTH_SOURCE",
        hide_env_values = true,
        value_name = "DB",
        help_heading = "Connection"
    )]
    pub db_auth_source: Option<String>,
}
