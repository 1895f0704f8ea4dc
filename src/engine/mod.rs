//! Engines are data: for a [`Config`] they say which program to run, with which arguments
//! and environment, and what extension the result gets. They spawn nothing, so unit tests can
//! assert the exact argv for every row of the design's tables.

mod mongo;
mod mysql;
mod postgres;
mod redis;

use std::fmt;

use secrecy::SecretString;

use crate::config::{BackupMode, Config, ConfigError};

pub use mongo::Mongo;
pub use mysql::MySql;
pub use postgres::Postgres;
pub use redis::Redis;

/// The engine keys of the design: `pg`, `mysql`, `mariadb`, `redis`, `mongo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    Pg,
    Mysql,
    Mariadb,
    Redis,
    Mongo,
}

impl EngineKind {
    pub fn parse(name: &str) -> Result<EngineKind, String> {
        match name.trim().to_ascii_lowercase().as_str() {
            "pg" | "postgres" | "postgresql" => Ok(EngineKind::Pg),
            "mysql" => Ok(EngineKind::Mysql),
            "mariadb" => Ok(EngineKind::Mariadb),
            "redis" => Ok(EngineKind::Redis),
            "mongo" | "mongodb" => Ok(EngineKind::Mongo),
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
            EngineKind::Mysql => &MySql::MYSQL,
            EngineKind::Mariadb => &MySql::MARIADB,
            EngineKind::Redis => &Redis,
            EngineKind::Mongo => &Mongo,
        }
    }
}

/// A dump tool invocation. Secrets travel in `env` or `secret_file`, never in `args`.
#[derive(Debug, Clone)]
pub struct DumpCommand {
    pub program: String,
    /// Run this instead when `program` is not on PATH (`mariadb-dump` → `mysqldump`).
    pub fallback: Option<String>,
    pub args: Vec<String>,
    pub env: Vec<(&'static str, SecretString)>,
    /// Handed to the tool as a 0600 memory file at run time ([`crate::process::secret_file`]).
    pub secret_file: Option<SecretFile>,
}

#[derive(Debug, Clone)]
pub struct SecretFile {
    pub pass: PassPath,
    pub content: SecretString,
}

/// How the tool learns the secret file's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassPath {
    /// As the first argument, `{flag}{path}` (mongodump `--config=`).
    Flag(&'static str),
    /// In an environment variable (libpq's `PGSERVICEFILE`).
    Env(&'static str),
}

impl DumpCommand {
    pub fn new(program: &str, args: Vec<String>) -> DumpCommand {
        DumpCommand {
            program: program.to_string(),
            fallback: None,
            args,
            env: Vec::new(),
            secret_file: None,
        }
    }

    /// Add `var` to the environment when a secret is set.
    pub fn secret_env(mut self, var: &'static str, value: Option<&SecretString>) -> DumpCommand {
        if let Some(v) = value {
            self.env.push((var, v.clone()));
        }
        self
    }
}

impl fmt::Display for DumpCommand {
    /// Shell-like rendering with every secret value redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, _) in &self.env {
            write!(f, "{k}=*** ")?;
        }
        if let Some(SecretFile {
            pass: PassPath::Env(var),
            ..
        }) = &self.secret_file
        {
            write!(f, "{var}=<0600 memory file> ")?;
        }
        f.write_str(&quote(&self.program))?;
        if let Some(SecretFile {
            pass: PassPath::Flag(flag),
            ..
        }) = &self.secret_file
        {
            write!(f, " {flag}<0600 memory file>")?;
        }
        for a in redact_args(&self.args) {
            write!(f, " {}", quote(&a))?;
        }
        Ok(())
    }
}

/// Words in option names whose values are credentials whatever else the name says:
/// passwords, secrets, tokens, service-account credentials (a JSON private key: rclone's
/// `service_account_credentials`), an Azure SAS URL (its `sig=` signs requests) and a
/// connection string (it holds the account key). Written with `-`: `_` is read as `-`.
const CREDENTIAL_WORDS: [&str; 6] = [
    "pass",
    "secret",
    "token",
    "credential",
    "sas-url",
    "connection-string",
];

/// Whether a flag or option name names a secret: `--s3-secret-access-key`, `sslpassword`,
/// `RCLONE_GCS_SERVICE_ACCOUNT_CREDENTIALS`, `sas_url`.
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace('_', "-");
    n.contains("key") || CREDENTIAL_WORDS.iter().any(|w| n.contains(w))
}

/// Whether `--flag VALUE` takes a credential as its next argument: the flag names one
/// itself. `key` counts as a word of the name (`--sftp-key-pem`, `--s3-sse-customer-key-base64`)
/// or its end (`--apikey`), not inside another word (`--disable-keys db`).
fn takes_secret_value(flag: &str) -> bool {
    let n = flag.to_ascii_lowercase().replace('_', "-");
    CREDENTIAL_WORDS.iter().any(|w| n.contains(w))
        || n.ends_with("key")
        || n.split('-').any(|w| w == "key")
}

/// Arguments for display: the values of secret-looking flags (`--x-secret=V`, `--x-secret V`)
/// become `***`, and so do registered secrets ([`crate::redact`]) anywhere else. Display
/// only: the real values still go to the child.
pub fn redact_args(args: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut hide_next = false;
    for a in args {
        if std::mem::take(&mut hide_next) && !a.starts_with('-') {
            out.push("***".to_string());
            continue;
        }
        match a.split_once('=') {
            Some((flag, _)) if flag.starts_with('-') && is_secret_name(flag) => {
                out.push(format!("{flag}=***"))
            }
            // `--flag VALUE`: only flags that name a credential themselves take the next
            // argument with them (`--sftp-pass X`, `--api-key X`, not `--disable-keys db`).
            None if a.starts_with("--") && takes_secret_value(a) => {
                hide_next = true;
                out.push(a.clone());
            }
            // Registered secrets too: `-pSECRET` names no flag this function knows.
            _ => out.push(crate::redact::redact(a)),
        }
    }
    out
}

/// The values of secret-looking flags in `args`, to be registered with [`crate::redact`]:
/// `--flag=VALUE` where the flag names a secret ([`is_secret_name`]), `--flag VALUE` where it
/// names a credential itself (as [`redact_args`] hides them), and the tool's short options
/// `short` (`-pVALUE`; `-p VALUE` too when `separate` allows it). Numbers and switch values
/// (`--ask-password=false`) are left out: redacting them would garble every log line.
pub fn arg_secrets(args: &[String], short: &[ShortSecret]) -> Vec<String> {
    let mut out = Vec::new();
    let mut take_next = false;
    let mut header_next = false;
    for a in args {
        if std::mem::take(&mut take_next) && !a.starts_with('-') {
            out.push(a.clone());
            continue;
        }
        if std::mem::take(&mut header_next) {
            out.extend(header_secrets(a));
            continue;
        }
        if let Some(body) = a.strip_prefix("--") {
            let is_header = |flag: &str| flag.starts_with("header") || flag.ends_with("-headers");
            match body.split_once('=') {
                Some((flag, v)) if is_header(flag) => out.extend(header_secrets(v)),
                Some((flag, v)) if is_secret_name(flag) => out.push(v.to_string()),
                None if is_header(body) => header_next = true,
                None => take_next = takes_secret_value(a),
                _ => {}
            }
        } else if let Some(s) = short.iter().find(|s| a.starts_with(s.flag)) {
            match &a[s.flag.len()..] {
                "" => take_next = s.separate,
                v => out.push(v.trim_start_matches('=').to_string()),
            }
        }
    }
    out.retain(|v| !v.chars().all(|c| c.is_ascii_digit()));
    out
}

/// The credentials among HTTP headers given to rclone: one `Name: value` header (`--header
/// "Authorization: Bearer T"`, `--header-upload`), or a backend's comma-separated list of
/// name,value pairs (`--webdav-headers "Authorization,Bearer T,Cookie,id=C"`, `--http-headers`;
/// CSV quotes allowed).
fn header_secrets(headers: &str) -> Vec<String> {
    if let Some((name, value)) = headers.split_once(':') {
        if !name.contains(',') {
            return header_secret(name, value).into_iter().collect();
        }
    }
    let fields: Vec<&str> = headers
        .split(',')
        .map(|f| f.trim().trim_matches('"'))
        .collect();
    fields
        .chunks(2)
        .filter_map(|pair| match pair {
            [name, value] => header_secret(name, value),
            _ => None,
        })
        .collect()
}

/// The value of header `name` when the header carries a credential.
fn header_secret(name: &str, value: &str) -> Option<String> {
    let name = name.trim().to_ascii_lowercase();
    let credential = ["authorization", "proxy-authorization", "cookie"].contains(&name.as_str())
        || is_secret_name(&name)
        || name.contains("auth");
    let value = value.trim();
    // `Bearer T`: the token alone is what other output may show.
    let value = value.split_once(' ').map_or(value, |(_, t)| t.trim());
    (credential && !value.is_empty()).then(|| value.to_string())
}

/// A dump tool's short option that carries a password.
#[derive(Debug, Clone, Copy)]
pub struct ShortSecret {
    pub flag: &'static str,
    /// Whether the value may follow as the next argument (`-p VALUE`), not only attached.
    pub separate: bool,
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

/// The standard warning for engines whose dump tool cannot compress.
pub fn compress_noop_warning(cfg: &Config, why: &str) -> Vec<String> {
    if cfg.compress && cfg.mode == BackupMode::Stream {
        vec![format!(
            "BACKUP_COMPRESS has no effect for {}: {why}",
            cfg.engine.key()
        )]
    } else {
        Vec::new()
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
/// engine's in stream mode, none for a directory-mode folder, `.tar` (`.tar.gz` when
/// [`tar_gzip`]) in tar mode.
pub fn extension(cfg: &Config) -> String {
    if let Some(e) = &cfg.extension {
        return e.clone();
    }
    match cfg.mode {
        BackupMode::Stream => cfg.engine().auto_extension(cfg),
        BackupMode::Directory => String::new(),
        BackupMode::Tar if tar_gzip(cfg) => ".tar.gz".into(),
        BackupMode::Tar => ".tar".into(),
    }
}

/// Tar mode compresses the tar (gzip) when BACKUP_COMPRESS asks and the dump's files are
/// not compressed already.
pub fn tar_gzip(cfg: &Config) -> bool {
    cfg.mode == BackupMode::Tar && cfg.compress && !cfg.engine().dir_compressed(cfg)
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
