//! HOOK_PRE_BACKUP and HOOK_POST_BACKUP: their flags and their validated form.

use clap::Args;

use crate::input::nonempty;

#[derive(Debug, Default, Clone, Args)]
pub struct HookArgs {
    /// Shell command (sh -c) run before each backup; a non-zero exit, or running past BACKUP_TIMEOUT, aborts the backup as a failure
    #[arg(
        long,
        env = "HOOK_PRE_BACKUP",
        hide_env_values = true,
        global = true,
        value_name = "CMD",
        allow_hyphen_values = true,
        help_heading = "Hooks"
    )]
    pub hook_pre_backup: Option<String>,
    /// Shell command (sh -c) run after every attempt, with DBSTASH_STATUS, DBSTASH_FILE, DBSTASH_ERROR and more; its failure is only a warning
    #[arg(
        long,
        env = "HOOK_POST_BACKUP",
        hide_env_values = true,
        global = true,
        value_name = "CMD",
        allow_hyphen_values = true,
        help_heading = "Hooks"
    )]
    pub hook_post_backup: Option<String>,
}

/// The hooks to run; each is a `sh -c` script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hooks {
    pub pre_backup: Option<String>,
    pub post_backup: Option<String>,
}

impl HookArgs {
    pub fn validate(&self) -> Hooks {
        Hooks {
            pre_backup: nonempty(&self.hook_pre_backup).map(str::to_string),
            post_backup: nonempty(&self.hook_post_backup).map(str::to_string),
        }
    }
}
