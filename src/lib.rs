//! dbstash: stream database dumps into rclone remotes. `main` is a thin shell around [`run`].

pub mod argv;
pub mod backup;
pub mod calendar;
pub mod check;
pub mod cli;
pub mod command;
pub mod config;
pub mod docgen;
pub mod durations;
pub mod engine;
pub mod engine_kind;
pub mod health;
pub mod healthcheck;
pub mod hooks;
pub mod input;
pub mod lock;
pub mod logging;
pub mod notify;
pub mod pipeline;
pub mod process;
pub mod progress;
pub mod prune;
pub mod rclone;
pub mod redact;
pub mod remote;
pub mod report;
pub mod restore;
pub mod retention;
pub mod scheduler;
pub mod setup;
pub mod shutdown;
pub mod template;
pub mod tool_args;
pub mod transform;
pub mod uri;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{Cli, Command};
use crate::config::Config;

/// The version: `DBSTASH_VERSION` at build time (the release tag without `v`), else Cargo's
/// with `-dev` appended (see `build.rs`).
pub const VERSION: &str = env!("DBSTASH_BUILD_VERSION");
/// What `--version` prints after the name: the version and the commit it was built from
/// (`DBSTASH_COMMIT`), or a development-build marker.
pub const VERSION_LINE: &str = env!("DBSTASH_BUILD_VERSION_LINE");

/// Exit codes of the fixed decisions.
pub const EXIT_BACKUP_FAILED: u8 = 1;
pub const EXIT_BAD_CONFIG: u8 = 2;

/// How long the exit waits for leftover blocking tasks.
const RUNTIME_SHUTDOWN: std::time::Duration = std::time::Duration::from_secs(1);

/// A panic is a bug. It is logged like any error (in the configured format, redacted) and
/// ends the whole process with 101, whichever thread it hit: a daemon must never go on
/// half-alive with its health server or a notification task silently gone. The children
/// end with it (`PR_SET_PDEATHSIG` and the watchdog), as after any crash.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        tracing::error!(
            location = %info.location().map(|l| l.to_string()).unwrap_or_default(),
            "internal error, a bug in dbstash (please report it): {}; exiting",
            panic_message(info.payload())
        );
        std::process::exit(101);
    }));
}

/// The text a panic was raised with.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_string())
}

pub fn run() -> ExitCode {
    // The watchdog dbstash starts for itself (see `process`): no user command, so not in the
    // CLI, its help or its completions.
    if std::env::args_os().nth(1).as_deref() == Some(process::WATCHDOG_SUBCOMMAND.as_ref()) {
        return process::run_watchdog();
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version exit 0; a parse error exits 2. A boolean flag's separate
            // value is an unexpected argument after an engine, an unknown subcommand without
            // one (ENGINE set).
            let _ = e.print();
            if e.use_stderr() {
                print_bool_flag_hint();
            }
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    match &cli.command {
        Some(Command::Completions { shell }) => return docgen::completions(*shell),
        Some(Command::Man) => return docgen::man(),
        Some(Command::Healthcheck) => return healthcheck::run(&cli.common),
        Some(_) | None => {}
    }
    let command = cli.command.clone();
    let cfg = match Config::from_cli(cli) {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("dbstash: invalid configuration: {e}");
            // After `check`, a boolean flag's separate value is taken for the engine.
            print_bool_flag_hint();
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    cfg.register_secrets();
    logging::init(cfg.log_level, cfg.log_format);
    install_panic_hook();
    health::server::raise_nofile_limit();
    let reads_backups = matches!(
        command,
        Some(Command::List(_) | Command::Verify(_) | Command::Restore(_) | Command::Prune(_))
    );
    for w in cfg
        .warnings
        .iter()
        .filter(|w| !(reads_backups && concerns_backups_only(w)))
    {
        tracing::warn!(engine = cfg.engine.key(), database = cfg.db_label(), "{w}");
    }
    let names: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .collect();
    for (unknown, closest) in cli::unknown_vars(names.iter().map(String::as_str)) {
        tracing::warn!(
            variable = %unknown,
            "{unknown} is not a dbstash variable and is ignored (did you mean {closest}?)"
        );
    }

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("dbstash: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_BACKUP_FAILED);
        }
    };
    let tool_code = match &command {
        Some(Command::Check(_)) => Some(runtime.block_on(check::run(&cfg))),
        Some(Command::List(a)) => Some(runtime.block_on(restore::list(&cfg, a))),
        Some(Command::Prune(_)) => Some(runtime.block_on(prune::run(&cfg))),
        Some(Command::Restore(a)) => Some(runtime.block_on(restore::restore(&cfg, a))),
        Some(Command::Verify(a)) => Some(runtime.block_on(restore::verify(&cfg, a))),
        _ => None,
    };
    if let Some(code) = tool_code {
        runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
        return code;
    }
    if cfg.dry_run {
        print!("{}", backup::dry_run(&cfg));
        return ExitCode::SUCCESS;
    }

    let code = runtime.block_on(async {
        match &cfg.schedule {
            config::Schedule::Once => scheduler::run_single(&cfg).await,
            config::Schedule::Cron { expr, cron } => scheduler::run_daemon(&cfg, cron, expr).await,
        }
    });
    // Everything that matters has finished (notifications are bounded and awaited); a
    // blocking task still waiting (a DNS lookup that never answers) must not hold the exit.
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
    code
}

/// Configuration warnings about how backups are *taken* (no BACKUP_TIMEOUT for the default
/// cron schedule, a schedule that fires too often, names that are not unique per run, a
/// BACKUP_COMPRESS or DUMP_EXTRA_ARGS the dump tool ignores): `list`, `verify` and `restore`
/// take none, so they do not print them.
fn concerns_backups_only(warning: &str) -> bool {
    const PREFIXES: [&str; 4] = [
        "BACKUP_TIMEOUT ",
        "BACKUP_SCHEDULE ",
        "BACKUP_COMPRESS ",
        "DUMP_EXTRA_ARGS ",
    ];
    PREFIXES.iter().any(|p| warning.starts_with(p))
        || (warning.starts_with("BACKUP_NAME_TEMPLATE ")
            && warning.contains("has no {time}, {ts} or {uuid}"))
}

/// `tip: … write --flag=false` when the command line holds a boolean flag followed by a
/// separate value: the cause of the error just printed.
fn print_bool_flag_hint() {
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if let Some(hint) = cli::bool_flag_hint(&args) {
        eprintln!("\n{hint}");
    }
}

#[cfg(test)]
mod tests {
    /// Every warning a backup-only setting raises is left out of list/verify/restore; the
    /// others (a credential in DB_URI, an ignored RCLONE_CONFIG) stay.
    #[test]
    fn warnings_about_taking_backups_are_recognised() {
        let conf = tempfile::NamedTempFile::new().unwrap();
        let a = crate::cli::CommonArgs {
            db_host: Some("h".into()),
            db_name: Some("d".into()),
            rclone_remote: Some("r:".into()),
            backup_name_template: Some("{db}-{date}".into()),
            backup_compress: Some("true".into()),
            dump_extra_args: Some("--result-file=x".into()),
            backup_schedule: Some("* * * * * *".into()),
            rclone_config_file: Some(conf.path().display().to_string()),
            rclone_config: Some("eA==".into()),
            ..Default::default()
        };
        let cfg = crate::config::Config::resolve(crate::engine::EngineKind::Mysql, a).unwrap();
        let (backup_only, other): (Vec<&String>, Vec<&String>) = cfg
            .warnings
            .iter()
            .partition(|w| super::concerns_backups_only(w));
        assert_eq!(backup_only.len(), 4, "{backup_only:#?}");
        assert_eq!(other.len(), 1, "{other:#?}");
        assert!(
            other[0].starts_with("RCLONE_CONFIG is ignored"),
            "{other:?}"
        );
    }

    #[test]
    fn panic_messages_are_read_from_either_payload_type() {
        let s = std::panic::catch_unwind(|| panic!("plain")).unwrap_err();
        assert_eq!(super::panic_message(s.as_ref()), "plain");
        let n = 7;
        let f = std::panic::catch_unwind(|| panic!("formatted {n}")).unwrap_err();
        assert_eq!(super::panic_message(f.as_ref()), "formatted 7");
        let o = std::panic::catch_unwind(|| std::panic::panic_any(3u8)).unwrap_err();
        assert_eq!(super::panic_message(o.as_ref()), "(no message)");
    }
}
