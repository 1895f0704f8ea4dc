//! `dbstash check`: the preflight, step by step, without taking a backup.

use std::process::ExitCode;

use crate::config::Config;

pub async fn run(_cfg: &Config) -> ExitCode {
    ExitCode::SUCCESS
}
