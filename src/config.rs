//! Turns the raw command line into one validated [`Config`] before anything runs.
//!
//! Every later stage trusts the `Config`: a bad value is reported here, as one line naming the
//! variable and flag at fault and what was expected, and the process exits 2.
//!
//! The bottom floor: it imports only parsing helpers and the clap structs (kept so by
//! `tests/layers.rs`). The engine's own rules and the registration of secrets come one layer
//! up, in [`crate::setup`] (`Config::resolve`, `Config::from_cli`, `Config::register_secrets`).

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use chrono_tz::Tz;
use secrecy::{ExposeSecret, SecretString};

use crate::uri::{self, DbUri};

pub use crate::input::{flag_of, parse_bool, parse_duration, ConfigError};
use crate::input::{
    no_control_chars, nonempty, open_regular_file, parse_bool_opt, parse_count, read_secret_file,
    split_words,
};

use crate::cli::{Cli, Command, CommonArgs, EngineCommand};
use crate::engine_kind::EngineKind;
use crate::hooks::settings::Hooks;
pub use crate::notify::settings::{NotifyOn, NotifySettings};
use crate::template::NameTemplate;

/// Default values, in one place; `--help` repeats them in prose.
pub mod encryption;
pub use encryption::Encryption;
pub mod split;
pub use split::Split;
mod connection;
use connection::resolve_connection;
mod describe;
pub use describe::describe;
mod schedule;
use schedule::{longest_gap, parse_tz, shortest_gap};
pub use schedule::{parse_cron, parse_health_addr, parse_schedule};

pub mod defaults {
    pub const SCHEDULE: &str = "0 2 * * *";
    pub const NAME_TEMPLATE: &str = "{db}-{date}-{time}";
    pub const AUTH_SOURCE: &str = "admin";
    pub const TEMP_DIR: &str = "/tmp/dbstash-work";
    pub const HEALTH_ADDR: &str = "0.0.0.0:8080";
    pub const PROGRESS_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);
}

/// Upper bounds of numeric settings, checked at start (exit 2): beyond them a value is a typo,
/// and the date arithmetic it feeds could overflow.
pub mod limits {
    /// RETENTION_MAX_FILES.
    pub const RETENTION_MAX_FILES: u32 = 1_000_000;
    /// RETENTION_MAX_DAYS: a hundred years.
    pub const RETENTION_MAX_DAYS: u32 = 36_500;
    /// RETENTION_KEEP_*: as many periods as RETENTION_MAX_FILES has files.
    pub const RETENTION_KEEP: u32 = 1_000_000;
    /// BACKUP_PROGRESS_INTERVAL: shorter would flood the log.
    pub const PROGRESS_INTERVAL_MIN: std::time::Duration = std::time::Duration::from_secs(1);
    /// The longest object name a backup may get, in bytes: a path component on most file
    /// systems and many backends (local, SFTP, SMB, WebDAV, Drive, OneDrive) holds 255.
    pub const NAME_BYTES: usize = 255;
    /// What a backup's name grows by on the remote: the staging name `.NAME.partial-XXXXXXXX`
    /// on file-system backends (18 bytes); the `NAME.sha256` sidecar adds less (7).
    pub const NAME_SUFFIX_BYTES: usize = ".".len() + ".partial-".len() + 8;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupMode {
    Stream,
    Directory,
    Tar,
}

/// `BACKUP_COMPRESS_ALGO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompressAlgo {
    Zstd,
    Gzip,
}

impl CompressAlgo {
    pub fn parse(s: &str) -> Option<CompressAlgo> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zstd" | "zst" => Some(CompressAlgo::Zstd),
            "gzip" | "gz" => Some(CompressAlgo::Gzip),
            _ => None,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            CompressAlgo::Zstd => "zstd",
            CompressAlgo::Gzip => "gzip",
        }
    }

    /// The extension the compressed bytes add: `.zst`, `.gz`.
    pub fn extension(self) -> &'static str {
        match self {
            CompressAlgo::Zstd => ".zst",
            CompressAlgo::Gzip => ".gz",
        }
    }

    /// The levels `BACKUP_COMPRESS_LEVEL` accepts, and the default.
    pub fn levels(self) -> (std::ops::RangeInclusive<i32>, i32) {
        match self {
            CompressAlgo::Zstd => (1..=19, 3),
            CompressAlgo::Gzip => (1..=9, 6),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub enum Schedule {
    Once,
    Cron {
        expr: String,
        cron: Box<croner::Cron>,
    },
}

/// Where rclone's own configuration comes from.
#[derive(Debug, Clone)]
pub enum RcloneConfig {
    /// rclone's default lookup (~/.config/rclone/rclone.conf) or `RCLONE_CONFIG_*` variables.
    Default,
    /// `RCLONE_CONFIG_FILE`.
    File(PathBuf),
    /// Decoded `RCLONE_CONFIG`: handed to rclone as a 0600 memory file at run time.
    Inline(SecretString),
}

/// How to reach the database. The URI never holds the password: that lives in `password`.
#[derive(Debug, Clone)]
pub struct Connection {
    pub uri: Option<DbUri>,
    pub host: Option<String>,
    pub port: u16,
    pub user: Option<String>,
    pub password: Option<SecretString>,
    /// `None` exactly when all databases are dumped.
    pub database: Option<String>,
    /// DB_AUTH_SOURCE when set; mongo falls back to the URI's database, then `admin`.
    pub auth_source: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// 0 = unlimited.
    pub max_files: u32,
    /// 0 = unlimited.
    pub max_days: u32,
    /// Calendar rules; never set together with the two caps above.
    pub keep: KeepRules,
}

impl RetentionPolicy {
    /// Some rule deletes backups.
    pub fn is_on(&self) -> bool {
        self.max_files > 0 || self.max_days > 0 || !self.keep.is_empty()
    }
}

/// `RETENTION_KEEP_*`: calendar retention with restic's `forget --keep-*` meaning (see
/// [`crate::calendar`]); 0 turns a rule off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeepRules {
    pub last: u32,
    pub hourly: u32,
    pub daily: u32,
    pub weekly: u32,
    pub monthly: u32,
    pub yearly: u32,
}

impl KeepRules {
    /// `(variable, count)` of every rule, in restic's order.
    pub fn vars(&self) -> [(&'static str, u32); 6] {
        [
            ("RETENTION_KEEP_LAST", self.last),
            ("RETENTION_KEEP_HOURLY", self.hourly),
            ("RETENTION_KEEP_DAILY", self.daily),
            ("RETENTION_KEEP_WEEKLY", self.weekly),
            ("RETENTION_KEEP_MONTHLY", self.monthly),
            ("RETENTION_KEEP_YEARLY", self.yearly),
        ]
    }

    /// No rule set: calendar retention is off.
    pub fn is_empty(&self) -> bool {
        self.vars().iter().all(|(_, n)| *n == 0)
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub engine: EngineKind,
    pub conn: Connection,
    pub remote: String,
    pub rclone_config: RcloneConfig,
    pub rclone_extra_args: Vec<String>,
    pub schedule: Schedule,
    pub mode: BackupMode,
    pub template: NameTemplate,
    pub compress: bool,
    /// BACKUP_COMPRESS_ALGO when set: compress in-process with it, whatever the engine.
    pub compress_algo: Option<CompressAlgo>,
    /// BACKUP_COMPRESS_LEVEL when set (checked against the algorithm's range).
    pub compress_level: Option<i32>,
    pub extension: Option<String>,
    /// BACKUP_ENCRYPT_RECIPIENTS[_FILE] and RESTORE_IDENTITY_FILE.
    pub encryption: Encryption,
    pub all_databases: bool,
    /// BACKUP_SPLIT_DATABASES (with BACKUP_ALL_DATABASES): one backup per database.
    pub split: Option<Split>,
    /// Set by a split run for its PostgreSQL globals object (`pg_dumpall --globals-only`,
    /// `{db}` = `globals`); never from the environment.
    pub globals_only: bool,
    pub on_start: bool,
    pub dump_extra_args: Vec<String>,
    pub tz: Tz,
    pub retention: RetentionPolicy,
    pub notify: NotifySettings,
    pub log_level: tracing::Level,
    pub log_format: LogFormat,
    pub hooks: Hooks,
    /// How often a running backup logs its progress; `None`: never.
    pub progress_interval: Option<Duration>,
    /// VERIFY_AFTER_BACKUP: download and verify each backup after writing it.
    pub verify_after_backup: bool,
    pub timeout: Option<Duration>,
    pub lock: bool,
    pub dry_run: bool,
    pub checksum: bool,
    pub temp_dir: PathBuf,
    pub lock_file: PathBuf,
    pub health_addr: std::net::SocketAddr,
    pub health_max_age: Option<Duration>,
    /// Things worth a warning that do not stop the run; logged once logging is up.
    pub warnings: Vec<String>,
}

impl Config {
    /// The engine's own compression is asked for: BACKUP_COMPRESS=true without
    /// BACKUP_COMPRESS_ALGO (pg_dump's custom format, mongodump `--gzip`). With an algorithm
    /// dbstash compresses in-process instead and the tool writes uncompressed output.
    pub fn native_compress(&self) -> bool {
        self.compress && self.compress_algo.is_none()
    }

    /// The engine the command line names, and the settings to read for it (DB_AUTH_SOURCE
    /// given after `mongo` or a tool subcommand folded in). `setup` resolves them.
    pub fn engine_and_args(cli: Cli) -> Result<(EngineKind, CommonArgs), ConfigError> {
        let mut common = cli.common;
        let command = cli.command.as_ref().and_then(Command::engine);
        let tool = cli.command.as_ref().and_then(Command::tool);
        common.db_auth_source = match (command, tool) {
            // After `mongo` or before it: both mean the same.
            (Some(EngineCommand::Mongo(m)), _) => {
                m.db_auth_source.clone().or(cli.db_auth_source.clone())
            }
            (_, Some(t)) => t.db_auth_source.clone().or(cli.db_auth_source.clone()),
            _ => cli.db_auth_source.clone(),
        };
        let positional = tool.and_then(|t| t.engine.as_deref());
        let engine = resolve_engine(command, positional.or(cli.engine.as_deref()))?;
        Ok((engine, common))
    }

    /// The database name used in logs: `all` for all-databases backups, `globals` for the
    /// globals object of a split run.
    pub fn db_label(&self) -> &str {
        if self.globals_only {
            return crate::template::GLOBALS;
        }
        self.conn
            .database
            .as_deref()
            .unwrap_or(crate::template::ALL_DATABASES)
    }

    /// What `{db}` stands for in this configuration's names.
    pub fn name_db(&self) -> crate::template::Db<'_> {
        if self.globals_only {
            crate::template::Db::Globals
        } else {
            self.conn.database.as_deref().into()
        }
    }

    /// The configuration of one database of a split run: a normal single-database backup.
    pub fn for_database(&self, db: &str) -> Config {
        let mut c = self.clone();
        c.all_databases = false;
        c.split = None;
        c.globals_only = false;
        c.conn.database = Some(db.to_string());
        c
    }

    /// The configuration of a split PostgreSQL run's globals object: `pg_dumpall
    /// --globals-only` streamed as one object, without DUMP_EXTRA_ARGS (they are pg_dump's)
    /// and with the extension of what it is (plain SQL; BACKUP_EXTENSION names the
    /// databases' backups).
    pub fn for_globals(&self) -> Config {
        let mut c = self.clone();
        c.split = None;
        c.globals_only = true;
        c.mode = BackupMode::Stream;
        c.dump_extra_args.clear();
        c.extension = None;
        c
    }

    /// Every setting read and checked on its own and against the others; what the engine
    /// says about them comes after, one layer up (`Config::resolve` in [`crate::setup`]).
    pub fn parse(kind: EngineKind, a: CommonArgs) -> Result<Config, ConfigError> {
        let mut warnings = Vec::new();

        let all_databases = match (
            parse_bool_opt("BACKUP_ALL_DATABASES", &a.backup_all_databases)?,
            parse_bool_opt("BACKUP_ALL_DBS", &a.backup_all_dbs)?,
        ) {
            (Some(v), _) => v,
            (None, Some(v)) => v,
            (None, None) => false,
        };
        let db_name = nonempty(&a.db_name);
        if all_databases && db_name.is_some() {
            return Err(ConfigError::combo(
                "DB_NAME (--db-name) and BACKUP_ALL_DATABASES (--backup-all-databases)",
                "mutually exclusive: set only one of them",
            ));
        }

        let conn = resolve_connection(kind, &a, all_databases, &mut warnings)?;

        let remote = nonempty(&a.rclone_remote)
            .ok_or_else(|| {
                ConfigError::var(
                    "RCLONE_REMOTE",
                    "is required: the rclone remote folder to store backups in, e.g. s3:my-bucket/backups",
                )
            })?
            .to_string();
        check_remote(&remote)?;

        let rclone_config = match (nonempty(&a.rclone_config_file), nonempty(&a.rclone_config)) {
            (Some(path), inline) => {
                // rclone reads it, dbstash does not: it must be a readable regular file (a
                // directory or a FIFO would fail, or hang, every rclone call later).
                open_regular_file("RCLONE_CONFIG_FILE", path)?;
                if let Some(name) = crate::input::per_process_path(path) {
                    return Err(ConfigError::var(
                        "RCLONE_CONFIG_FILE",
                        format!(
                            "'{path}' names a file through {name}, which every process reads as its own: rclone (another process, whose stdin is empty) would not open the file dbstash checked (give the file's own path)"
                        ),
                    ));
                }
                if inline.is_some() {
                    warnings
                        .push("RCLONE_CONFIG is ignored because RCLONE_CONFIG_FILE is set".into());
                }
                RcloneConfig::File(PathBuf::from(path))
            }
            (None, Some(b64)) => RcloneConfig::Inline(decode_rclone_config(b64)?),
            (None, None) => RcloneConfig::Default,
        };
        let rclone_extra_args = split_words("RCLONE_EXTRA_ARGS", &a.rclone_extra_args)?;
        if rclone_extra_args.iter().any(|w| w == "--") {
            // dbstash ends rclone's flags with its own `--` before the paths: a second one
            // would make them extra arguments, and every call fail.
            return Err(ConfigError::var(
                "RCLONE_EXTRA_ARGS",
                "holds '--': give flags only (dbstash puts the paths after its own '--')",
            ));
        }

        let schedule = parse_schedule(nonempty(&a.backup_schedule).unwrap_or(defaults::SCHEDULE))?;
        if let Some(gap) = shortest_gap(&schedule) {
            warnings.push(format!(
                "BACKUP_SCHEDULE fires every {}: a backup that often is most likely a mistake (6 fields start with seconds: '0 * * * * *' is every minute)",
                crate::durations::fmt_human(gap)
            ));
        }
        let mode = match nonempty(&a.backup_mode)
            .unwrap_or("stream")
            .to_ascii_lowercase()
            .as_str()
        {
            "stream" => BackupMode::Stream,
            "directory" => BackupMode::Directory,
            "tar" => BackupMode::Tar,
            other => {
                return Err(ConfigError::var(
                    "BACKUP_MODE",
                    format!("unknown mode '{other}' (expected stream, directory or tar)"),
                ))
            }
        };
        let template_source = nonempty(&a.backup_name_template).unwrap_or(defaults::NAME_TEMPLATE);
        no_control_chars("BACKUP_NAME_TEMPLATE", template_source)?;
        let template = NameTemplate::parse(template_source)
            .map_err(|e| ConfigError::var("BACKUP_NAME_TEMPLATE", e))?;
        if !template.is_unique_per_run() {
            warnings.push(format!(
                "BACKUP_NAME_TEMPLATE '{template}' has no {{time}}, {{ts}} or {{uuid}}: a second backup with the same name fails instead of overwriting the first"
            ));
        }
        let split = Split::parse(
            split::SplitVars {
                split: &a.backup_split_databases,
                include: &a.backup_include_databases,
                exclude: &a.backup_exclude_databases,
                parallelism: &a.backup_parallelism,
            },
            kind,
            all_databases,
            &template,
        )?;
        let compress = parse_bool("BACKUP_COMPRESS", &a.backup_compress, false)?;
        let (compress_algo, compress_level) = parse_compression(compress, &a)?;
        let encryption = Encryption::parse(
            &a.backup_encrypt_recipients,
            &a.backup_encrypt_recipients_file,
            &a.restore_identity_file,
            &mut warnings,
        )?;
        let extension = nonempty(&a.backup_extension)
            .map(|e| {
                if e.contains('/') {
                    return Err(ConfigError::var(
                        "BACKUP_EXTENSION",
                        format!("'{e}' must not contain '/'"),
                    ));
                }
                no_control_chars("BACKUP_EXTENSION", e)?;
                if e.to_ascii_lowercase().ends_with("sha256") {
                    // `app-….sql.sha256` is another backup's checksum file: the retention of
                    // this job would take those files for its backups and delete them.
                    return Err(ConfigError::var(
                        "BACKUP_EXTENSION",
                        format!("'{e}' ends in sha256: backups would be named like the .sha256 checksum files of other backups"),
                    ));
                }
                Ok(if e.starts_with('.') {
                    e.to_string()
                } else {
                    format!(".{e}")
                })
            })
            .transpose()?;
        let on_start = parse_bool("BACKUP_ON_START", &a.backup_on_start, false)?;
        let dump_extra_args = split_words("DUMP_EXTRA_ARGS", &a.dump_extra_args)?;
        let tz = parse_tz(nonempty(&a.tz))?;

        let keep_count =
            |var: &str, v: &Option<String>| parse_count(var, v, limits::RETENTION_KEEP);
        let retention = RetentionPolicy {
            max_files: parse_count(
                "RETENTION_MAX_FILES",
                &a.retention_max_files,
                limits::RETENTION_MAX_FILES,
            )?,
            max_days: parse_count(
                "RETENTION_MAX_DAYS",
                &a.retention_max_days,
                limits::RETENTION_MAX_DAYS,
            )?,
            keep: KeepRules {
                last: keep_count("RETENTION_KEEP_LAST", &a.retention_keep_last)?,
                hourly: keep_count("RETENTION_KEEP_HOURLY", &a.retention_keep_hourly)?,
                daily: keep_count("RETENTION_KEEP_DAILY", &a.retention_keep_daily)?,
                weekly: keep_count("RETENTION_KEEP_WEEKLY", &a.retention_keep_weekly)?,
                monthly: keep_count("RETENTION_KEEP_MONTHLY", &a.retention_keep_monthly)?,
                yearly: keep_count("RETENTION_KEEP_YEARLY", &a.retention_keep_yearly)?,
            },
        };
        check_one_kind_of_retention(&retention)?;
        if !template.has_db() && retention.is_on() {
            warnings.push(format!(
                "BACKUP_NAME_TEMPLATE '{template}' has no {{db}}, and retention is on: backups of every database written to RCLONE_REMOTE with this template and extension count as this job's, and its retention deletes them; add {{db}} or give each database its own folder"
            ));
        }

        let notify = a.notify.validate()?;
        let hooks = a.hooks.validate();
        let progress_interval = match nonempty(&a.backup_progress_interval) {
            None => Some(defaults::PROGRESS_INTERVAL),
            Some(s) => match parse_duration(s)
                .map_err(|e| ConfigError::var("BACKUP_PROGRESS_INTERVAL", e))?
            {
                Some(d) if d < limits::PROGRESS_INTERVAL_MIN => {
                    return Err(ConfigError::var(
                        "BACKUP_PROGRESS_INTERVAL",
                        format!(
                            "'{s}' is too short (at least 1s, or 0 to turn progress lines off)"
                        ),
                    ))
                }
                d => d,
            },
        };
        let log_level = match nonempty(&a.log_level)
            .unwrap_or("info")
            .to_ascii_lowercase()
            .as_str()
        {
            "debug" => tracing::Level::DEBUG,
            "info" => tracing::Level::INFO,
            "warn" | "warning" => tracing::Level::WARN,
            "error" => tracing::Level::ERROR,
            other => {
                return Err(ConfigError::var(
                    "LOG_LEVEL",
                    format!("unknown level '{other}' (expected debug, info, warn or error)"),
                ))
            }
        };
        let log_format = match nonempty(&a.log_format)
            .unwrap_or("text")
            .to_ascii_lowercase()
            .as_str()
        {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::var(
                    "LOG_FORMAT",
                    format!("unknown format '{other}' (expected text or json)"),
                ))
            }
        };

        let timeout = match nonempty(&a.backup_timeout) {
            None => None,
            Some(s) => parse_duration(s).map_err(|e| ConfigError::var("BACKUP_TIMEOUT", e))?,
        };
        if nonempty(&a.backup_timeout).is_none() && matches!(schedule, Schedule::Cron { .. }) {
            warnings.push("BACKUP_TIMEOUT is not set: a dump that hangs (waiting on a lock, a server that stopped answering) would run forever, and every later scheduled run would be skipped; set BACKUP_TIMEOUT (e.g. 6h), or 0 for no limit without this warning".into());
        }

        let temp_dir = PathBuf::from(nonempty(&a.backup_temp_dir).unwrap_or(defaults::TEMP_DIR));
        let health_addr = parse_health_addr(nonempty(&a.health_addr))?;
        let health_max_age = match nonempty(&a.health_max_age) {
            None => None,
            Some(s) => parse_duration(s).map_err(|e| ConfigError::var("HEALTH_MAX_AGE", e))?,
        };
        if let (Some(max_age), Some(gap)) = (health_max_age, longest_gap(&schedule, tz)) {
            if max_age <= gap {
                warnings.push(format!(
                    "HEALTH_MAX_AGE ({}) is not longer than the longest time between two runs of BACKUP_SCHEDULE ({}): /healthz turns 503 (stale) between runs even when every backup succeeds (give it that time plus a backup's duration)",
                    crate::durations::fmt_human(max_age),
                    crate::durations::fmt_human(gap)
                ));
            }
        }
        let config = Config {
            engine: kind,
            conn,
            remote,
            rclone_config,
            rclone_extra_args,
            schedule,
            mode,
            template,
            compress,
            compress_algo,
            compress_level,
            extension,
            encryption,
            all_databases,
            split,
            globals_only: false,
            on_start,
            dump_extra_args,
            tz,
            retention,
            notify,
            hooks,
            progress_interval,
            verify_after_backup: parse_bool("VERIFY_AFTER_BACKUP", &a.verify_after_backup, false)?,
            log_level,
            log_format,
            timeout,
            lock: parse_bool("BACKUP_LOCK", &a.backup_lock, true)?,
            dry_run: parse_bool("DRY_RUN", &a.dry_run, false)?,
            checksum: parse_bool("BACKUP_CHECKSUM", &a.backup_checksum, true)?,
            temp_dir: temp_dir.clone(),
            lock_file: PathBuf::new(),
            health_addr,
            health_max_age,
            warnings,
        };
        let mut config = config;
        config.lock_file = match nonempty(&a.backup_lock_file) {
            Some(p) => PathBuf::from(p),
            None => config.temp_dir.join(default_lock_name(&config)),
        };
        Ok(config)
    }
}

/// The calendar rules and the two caps are two ways to say what to keep. Together, one
/// would silently override the other (a monthly backup older than RETENTION_MAX_DAYS, kept or
/// not?), so a configuration chooses one kind.
fn check_one_kind_of_retention(r: &RetentionPolicy) -> Result<(), ConfigError> {
    let Some((keep_var, _)) = r.keep.vars().into_iter().find(|(_, n)| *n > 0) else {
        return Ok(());
    };
    let cap = if r.max_files > 0 {
        "RETENTION_MAX_FILES"
    } else if r.max_days > 0 {
        "RETENTION_MAX_DAYS"
    } else {
        return Ok(());
    };
    Err(ConfigError::var(
        keep_var,
        format!("cannot be combined with {cap}: calendar rules (RETENTION_KEEP_*) and the caps (RETENTION_MAX_FILES, RETENTION_MAX_DAYS) are two ways to choose what to keep; set one kind (RETENTION_KEEP_LAST=N keeps the newest N, like RETENTION_MAX_FILES=N)"),
    ))
}

/// BACKUP_COMPRESS_ALGO and BACKUP_COMPRESS_LEVEL: each only with BACKUP_COMPRESS=true (set
/// alone they would silently do nothing), the level within the algorithm's range.
fn parse_compression(
    compress: bool,
    a: &CommonArgs,
) -> Result<(Option<CompressAlgo>, Option<i32>), ConfigError> {
    let algo = nonempty(&a.backup_compress_algo)
        .map(|v| {
            CompressAlgo::parse(v).ok_or_else(|| {
                ConfigError::var(
                    "BACKUP_COMPRESS_ALGO",
                    format!(
                        "'{}' is not an algorithm dbstash compresses with (expected zstd or gzip)",
                        v.trim()
                    ),
                )
            })
        })
        .transpose()?;
    let level = nonempty(&a.backup_compress_level)
        .map(|v| {
            let effective = algo.unwrap_or(CompressAlgo::Zstd);
            let (range, _) = effective.levels();
            let expected = format!(
                "expected a whole number from {} to {} for {}",
                range.start(),
                range.end(),
                effective.key()
            );
            match v.trim().parse::<i32>() {
                Ok(n) if range.contains(&n) => Ok(n),
                Ok(_) => Err(ConfigError::var(
                    "BACKUP_COMPRESS_LEVEL",
                    format!("'{}' is out of range ({expected})", v.trim()),
                )),
                Err(_) => Err(ConfigError::var(
                    "BACKUP_COMPRESS_LEVEL",
                    format!("'{}' is not a whole number ({expected})", v.trim()),
                )),
            }
        })
        .transpose()?;
    if !compress {
        for (var, set) in [
            ("BACKUP_COMPRESS_ALGO", algo.is_some()),
            ("BACKUP_COMPRESS_LEVEL", level.is_some()),
        ] {
            if set {
                return Err(ConfigError::var(
                    var,
                    "has no effect while BACKUP_COMPRESS is false: set BACKUP_COMPRESS=true to compress".to_string(),
                ));
            }
        }
    }
    Ok((algo, level))
}

/// RCLONE_REMOTE: one line, not an rclone flag, and not a relative path.
fn check_remote(remote: &str) -> Result<(), ConfigError> {
    // A newline would put the backups in a folder whose name holds it (and exit 0).
    no_control_chars("RCLONE_REMOTE", remote)?;
    if remote.starts_with('-') {
        return Err(ConfigError::var(
            "RCLONE_REMOTE",
            format!(
                "'{}' starts with '-', which rclone would read as a flag (expected name:path, e.g. s3:my-bucket/backups; put flags in RCLONE_EXTRA_ARGS)",
                crate::remote::redact_remote(remote)
            ),
        ));
    }
    crate::remote::check_remote(remote).map_err(|e| ConfigError::var("RCLONE_REMOTE", e))
}

/// One lock per backup job: same engine, database and remote. Two processes backing up the
/// same thing share it; unrelated jobs sharing the temp dir do not block each other.
fn default_lock_name(c: &Config) -> String {
    use sha2::Digest as _;
    // The remote as one spelling: `s3:b/x/` and `s3:b/x` are one folder, so one lock. The
    // database as names write it: the readable part below folds `a/b` into `a_b` and cuts
    // long names, and `all` is also a dump of all databases; jobs that never write the same
    // names must not skip each other's runs.
    let remote = crate::remote::normalize_remote(&c.remote);
    let db_in_names = crate::template::db_in_names(c.name_db());
    let digest = format!(
        "{:x}",
        sha2::Sha256::digest(format!("{db_in_names}\n{remote}").as_bytes())
    );
    let db: String = c
        .db_label()
        .chars()
        .take(64)
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' {
                ch
            } else {
                '_'
            }
        })
        .collect();
    format!("dbstash-{}-{db}-{}.lock", c.engine.key(), &digest[..12])
}

fn resolve_engine(
    command: Option<&EngineCommand>,
    env_engine: Option<&str>,
) -> Result<EngineKind, ConfigError> {
    match command {
        Some(EngineCommand::Pg) => Ok(EngineKind::Pg),
        Some(EngineCommand::Mysql) => Ok(EngineKind::Mysql),
        Some(EngineCommand::Mariadb) => Ok(EngineKind::Mariadb),
        Some(EngineCommand::Redis) => Ok(EngineKind::Redis),
        Some(EngineCommand::Mongo(_)) => Ok(EngineKind::Mongo),
        None => match env_engine.map(str::trim).filter(|s| !s.is_empty()) {
            None => Err(ConfigError::var(
                "ENGINE",
                "no engine given: run `dbstash <pg|mysql|mariadb|redis|mongo> [flags]`, or set ENGINE (Docker mode)",
            )),
            Some(name) => EngineKind::parse(name).map_err(|e| ConfigError::var("ENGINE", e)),
        },
    }
}

fn decode_rclone_config(b64: &str) -> Result<SecretString, ConfigError> {
    let compact: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    let hint = "expected base64-encoded rclone.conf content (`base64 -w0 rclone.conf`); for a path use RCLONE_CONFIG_FILE";
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| ConfigError::var("RCLONE_CONFIG", format!("not valid base64: {hint}")))?;
    let text = String::from_utf8(bytes)
        .ok()
        .filter(|t| !t.contains('\0'))
        .ok_or_else(|| {
            ConfigError::var(
                "RCLONE_CONFIG",
                format!("decodes to binary, not text: {hint}"),
            )
        })?;
    Ok(SecretString::from(text))
}

#[cfg(test)]
mod tests;
