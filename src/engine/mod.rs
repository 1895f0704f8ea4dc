//! Engines are data: for a [`Config`] they say which program to run, with which arguments
//! and environment, and what extension the result gets. They spawn nothing, so unit tests can
//! assert the exact argv for every row of the design's tables.

mod mongo;
mod mysql;
mod postgres;
mod redis;

use crate::config::{BackupMode, CompressAlgo, Config, ConfigError};

pub use mongo::Mongo;
pub use mysql::MySql;
pub use postgres::Postgres;
pub use redis::Redis;

pub use crate::argv::{arg_secrets, is_secret_name, quote, redact_args, ShortSecret};
pub use crate::command::{DumpCommand, PassPath, SecretFile};
pub use crate::engine_kind::EngineKind;

impl EngineKind {
    /// The engine's behaviour: argv, checks, extensions.
    pub fn engine(self) -> &'static dyn Engine {
        match self {
            EngineKind::Pg => &Postgres,
            EngineKind::Mysql => &MySql::MYSQL,
            EngineKind::Mariadb => &MySql::MARIADB,
            EngineKind::Redis => &Redis,
            EngineKind::Mongo => &Mongo,
        }
    }
}

impl Config {
    pub fn engine(&self) -> &'static dyn Engine {
        self.engine.engine()
    }
}

/// Secrets the dump tool gets besides the password, for [`crate::redact`]: credential
/// options in DB_URI (`sslpassword=…`), and the secrets in DUMP_EXTRA_ARGS, short options of
/// the engine's tools included: MySQL and MariaDB `-pVALUE` (a separate `-p VALUE` prompts
/// instead), mongodump `-p VALUE`, redis-cli `-a VALUE`.
pub fn dump_secrets(cfg: &Config) -> Vec<String> {
    let short: &[ShortSecret] = match cfg.engine {
        EngineKind::Mysql | EngineKind::Mariadb => &[ShortSecret {
            flag: "-p",
            separate: false,
        }],
        EngineKind::Mongo => &[ShortSecret {
            flag: "-p",
            separate: true,
        }],
        EngineKind::Redis => &[ShortSecret {
            flag: "-a",
            separate: true,
        }],
        EngineKind::Pg => &[],
    };
    let mut out = arg_secrets(&cfg.dump_extra_args, short);
    out.extend(
        cfg.conn
            .uri
            .iter()
            .flat_map(|u| u.credentials())
            .map(|(_, v)| v.clone()),
    );
    out
}

/// Warn about `DUMP_EXTRA_ARGS` flags that would make the tool write to disk instead of
/// stdout. `flags` match as `--flag`, `--flag=…` and, for short ones, `-f…`.
pub fn disk_flag_warnings(cfg: &Config, program: &str, flags: &[&str]) -> Vec<String> {
    if cfg.mode != BackupMode::Stream {
        return Vec::new();
    }
    let mut found: Vec<&str> = Vec::new();
    for arg in &cfg.dump_extra_args {
        for flag in flags {
            let hit = if flag.starts_with("--") {
                arg == flag || arg.starts_with(&format!("{flag}="))
            } else {
                arg.starts_with(flag)
            };
            if hit && !found.contains(flag) {
                found.push(flag);
            }
        }
    }
    found
        .into_iter()
        .map(|flag| {
            format!("DUMP_EXTRA_ARGS has {flag}: {program} would write to local files instead of stdout, so the backup would be empty or fail in BACKUP_MODE=stream")
        })
        .collect()
}

pub trait Engine: Send + Sync {
    fn kind(&self) -> EngineKind;
    fn key(&self) -> &'static str;
    /// Engine rules over a resolved config: hard errors, or warnings that do not stop the run
    /// (a compress no-op, `DUMP_EXTRA_ARGS` that would write to disk in stream mode).
    fn check(&self, cfg: &Config) -> Result<Vec<String>, ConfigError>;
    fn dump_command(&self, cfg: &Config) -> DumpCommand;
    /// BACKUP_MODE=directory and tar: the dump command writing the tool's tree into `dir`
    /// (`pg_dump -Fd -f DIR`, `mongodump --out=DIR`, `mysqldump --tab=DIR`). Only asked for
    /// configurations [`Engine::check`] accepted in those modes.
    fn dump_to_dir(&self, cfg: &Config, _dir: &str) -> DumpCommand {
        self.dump_command(cfg)
    }
    /// Whether the files [`Engine::dump_to_dir`] writes are compressed already (pg_dump's
    /// directory format by default, mongodump with `--gzip`): a tar of them is not
    /// compressed again.
    fn dir_compressed(&self, _cfg: &Config) -> bool {
        false
    }
    /// Whether the dump tool compresses its stream-mode output itself when
    /// [`Config::native_compress`] asks (pg_dump's custom format, mongodump `--gzip`) or its
    /// output is compact already (a Redis RDB): then BACKUP_COMPRESS alone adds no in-process
    /// compression.
    fn native_compression(&self, _cfg: &Config) -> bool {
        false
    }
    /// Whether DUMP_EXTRA_ARGS make the tool compress its stream output (pg_dump
    /// `--compress`/`-Z` on a plain dump, mongodump `--gzip`): with in-process compression
    /// on top the bytes are compressed twice.
    fn extra_args_compress(&self, _cfg: &Config) -> bool {
        false
    }
    /// Whether the database *server* writes into the dump folder (`mysqldump --tab`).
    fn server_writes_dir(&self) -> bool {
        false
    }
    /// A quick login to the database with exactly the dump's connection: the same host,
    /// user, TLS options, environment and secret file, through the engine's client (`psql`,
    /// `mysql`) or the dump tool itself. Used by `dbstash check` and the daemon's preflight.
    fn check_command(&self, cfg: &Config) -> DumpCommand;
    /// How the check command's output (trimmed) starts when the login worked, for clients
    /// whose exit status alone does not prove it (`redis-cli` exits 0 on `NOAUTH`). Empty:
    /// the exit status decides.
    fn check_replies(&self) -> &'static [&'static str] {
        &[]
    }
    /// BACKUP_SPLIT_DATABASES: a command with the dump's connection that prints the
    /// server's databases, one per line, each hex-encoded UTF-8 (no name can break the
    /// list), and facts about the login on lines starting with `#` (pg: `#superuser`).
    /// `None`: the engine has no databases to split (redis).
    fn list_databases_command(&self, _cfg: &Config) -> Option<DumpCommand> {
        None
    }
    /// Engine rules for a BACKUP_SPLIT_DATABASES configuration as a whole (its databases
    /// are checked one layer up as single-database configurations).
    fn check_split(&self, _cfg: &Config) -> Result<(), ConfigError> {
        Ok(())
    }
    /// The databases BACKUP_SPLIT_DATABASES skips unless BACKUP_INCLUDE_DATABASES names them.
    fn system_databases(&self) -> &'static [&'static str] {
        &[]
    }
    /// The extension `BACKUP_EXTENSION` defaults to, following compression and extra args.
    fn auto_extension(&self, cfg: &Config) -> String;
    /// Every extension [`Engine::auto_extension`] can give, whatever the settings: `list`,
    /// `verify` and `restore` find the backups made before BACKUP_COMPRESS or
    /// DUMP_EXTRA_ARGS changed.
    fn known_extensions(&self) -> &'static [&'static str];
    /// How `verify` proves a downloaded dump of this engine complete, given what its
    /// (decompressed) bytes are; `Err` names what this engine never writes.
    fn completeness(&self, cfg: &Config, content: Content) -> Result<Vec<Completeness>, String>;
}

/// What a backup's bytes are (after decompression), read from their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// pg_dump's custom format (`PGDMP`).
    PgCustom,
    /// A tar archive (pg_dump's tar format).
    Tar,
    /// A Redis RDB snapshot (`REDIS`).
    Rdb,
    /// A mongodump archive (magic number 0x8199e26d, little-endian).
    MongoArchive,
    /// Anything else: plain SQL, for the engines that write it.
    Text,
}

impl Content {
    /// The bytes [`Content::sniff`] needs at most.
    pub const HEAD: usize = 512;

    pub fn sniff(head: &[u8]) -> Content {
        if head.starts_with(b"PGDMP") {
            Content::PgCustom
        } else if head.starts_with(b"REDIS") {
            Content::Rdb
        } else if head.starts_with(&[0x6d, 0xe2, 0x99, 0x81]) {
            Content::MongoArchive
        } else if head.get(257..262) == Some(b"ustar") {
            Content::Tar
        } else {
            Content::Text
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Content::PgCustom => "a pg_dump custom-format archive",
            Content::Tar => "a tar archive",
            Content::Rdb => "a Redis RDB snapshot",
            Content::MongoArchive => "a mongodump archive",
            Content::Text => "text (plain SQL or unknown)",
        }
    }
}

/// One check of `verify`: engine facts, run by `restore::verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completeness {
    /// The dump tool's completion line: the text's last lines hold a line starting with it
    /// (only blank lines, `--` comments and psql's `\unrestrict` may follow).
    Trailer(&'static str),
    /// `program ARGS… FILE` must exit 0. An `optional` tool missing from PATH skips the check
    /// (and says so) instead of failing it.
    Tool {
        program: &'static str,
        args: &'static [&'static str],
        optional: bool,
    },
    /// The mongodump archive framing reads to its end, every namespace closed.
    MongoArchive,
}

/// The extension in effect: `BACKUP_EXTENSION`, else the mode's and engine's choice: the
/// engine's in stream mode (with `.zst`/`.gz` appended when dbstash compresses in-process,
/// then `.age` when it encrypts),
/// none for a directory-mode folder, `.tar` (`.tar.zst`, `.tar.gz` when compressed) in tar
/// mode.
pub fn extension(cfg: &Config) -> String {
    if let Some(e) = &cfg.extension {
        return e.clone();
    }
    let added = in_process_compression(cfg).map_or("", |(algo, _)| algo.extension());
    let encrypted = if cfg.encryption.recipients.is_some() {
        ".age"
    } else {
        ""
    };
    match cfg.mode {
        BackupMode::Stream => format!("{}{added}{encrypted}", cfg.engine().auto_extension(cfg)),
        BackupMode::Directory => String::new(),
        BackupMode::Tar => format!(".tar{added}{encrypted}"),
    }
}

/// What dbstash compresses in-process, with which algorithm and level, between the dump and
/// rclone (stream mode) or around the tar (tar mode):
/// - stream: BACKUP_COMPRESS_ALGO when set (the tool's native compression is then off);
///   else, with BACKUP_COMPRESS, zstd for engines without native compression (MySQL,
///   MariaDB, pg_dumpall);
/// - tar: with BACKUP_COMPRESS, the algorithm (zstd by default) when set, or when the dump's
///   files are not compressed already;
/// - directory: never (the files are uploaded as the tool wrote them).
///
/// The level is BACKUP_COMPRESS_LEVEL, else the algorithm's default.
pub fn in_process_compression(cfg: &Config) -> Option<(CompressAlgo, i32)> {
    if !cfg.compress {
        return None;
    }
    let engine = cfg.engine();
    let algo = match cfg.mode {
        BackupMode::Stream => cfg
            .compress_algo
            .or_else(|| (!engine.native_compression(cfg)).then_some(CompressAlgo::Zstd)),
        BackupMode::Tar => cfg
            .compress_algo
            .or_else(|| (!engine.dir_compressed(cfg)).then_some(CompressAlgo::Zstd)),
        BackupMode::Directory => None,
    }?;
    Some((algo, cfg.compress_level.unwrap_or(algo.levels().1)))
}

/// The compression rules that need the engine: BACKUP_COMPRESS_ALGO and
/// BACKUP_COMPRESS_LEVEL where they would do nothing are errors (directory mode; a level
/// where the engine compresses natively); in-process compression on top of the tool's own
/// (DUMP_EXTRA_ARGS) or under a BACKUP_EXTENSION without its suffix is a warning.
pub fn check_compression(cfg: &Config) -> Result<Vec<String>, ConfigError> {
    if cfg.mode == BackupMode::Directory {
        for (var, set) in [
            ("BACKUP_COMPRESS_ALGO", cfg.compress_algo.is_some()),
            ("BACKUP_COMPRESS_LEVEL", cfg.compress_level.is_some()),
        ] {
            if set {
                return Err(ConfigError::var(
                    var,
                    "has no effect in BACKUP_MODE=directory: the files are uploaded as the dump tool wrote them (unset it, or use BACKUP_MODE=tar to compress the tar)",
                ));
            }
        }
    }
    let in_process = in_process_compression(cfg);
    if cfg.compress_level.is_some() && in_process.is_none() {
        return Err(ConfigError::var(
            "BACKUP_COMPRESS_LEVEL",
            format!(
                "sets the level of dbstash's in-process compression, but without BACKUP_COMPRESS_ALGO {} compresses natively here ({}): set BACKUP_COMPRESS_ALGO=zstd or gzip to compress in-process at this level, or pass the dump tool's own level in DUMP_EXTRA_ARGS",
                cfg.engine.key(),
                if cfg.mode == BackupMode::Tar {
                    "the dump's files are compressed already"
                } else {
                    "the dump tool's own compression"
                }
            ),
        ));
    }
    let mut w = Vec::new();
    if let Some((algo, _)) = in_process {
        if cfg.mode == BackupMode::Stream && cfg.engine().extra_args_compress(cfg) {
            w.push(format!(
                "DUMP_EXTRA_ARGS make the dump tool compress its output, and dbstash compresses it again with {}: the bytes are compressed twice (remove the tool's compression flag, or set BACKUP_COMPRESS=false)",
                algo.key()
            ));
        }
        if let Some(e) = cfg
            .extension
            .as_deref()
            .filter(|e| !e.ends_with(algo.extension()))
        {
            w.push(format!(
                "BACKUP_EXTENSION {e} does not end with {}, but the backup is {}-compressed: restore and verify tell compression by the name",
                algo.extension(),
                algo.key()
            ));
        }
    }
    Ok(w)
}

/// BACKUP_COMPRESS in directory mode for a tool that cannot compress its files.
pub fn directory_compress_warning(cfg: &Config, why: &str) -> Vec<String> {
    if cfg.compress && cfg.mode == BackupMode::Directory {
        vec![format!(
            "BACKUP_COMPRESS has no effect for {} in BACKUP_MODE=directory: {why} (BACKUP_MODE=tar compresses the tar instead)",
            cfg.engine.key()
        )]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod mode_tests;

#[cfg(test)]
mod compress_tests;
