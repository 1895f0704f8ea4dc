//! Pre- and post-backup hooks: `sh -c` scripts run around each attempt.

pub mod settings;
