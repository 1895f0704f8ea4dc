//! PostgreSQL: `pg_dump` for one database, `pg_dumpall` for all of them.

use super::{Completeness, Content, DumpCommand, Engine, EngineKind, PassPath, SecretFile};
use crate::config::{BackupMode, Config, ConfigError};

pub struct Postgres;

/// The libpq option holding a client key's passphrase, and the service-file section that
/// carries it (libpq has no environment variable for it).
const SSL_PASSWORD: &str = "sslpassword";
const SERVICE: &str = "dbstash";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Plain,
    Custom,
    Directory,
    Tar,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    None,
    Gzip,
    Zstd,
    Lz4,
}

/// What the final argv asks pg_dump for; later flags win, as in pg_dump itself.
#[derive(Debug, Default)]
struct Effective {
    format: Option<Format>,
    compression: Option<Compression>,
    writes_file: bool,
}

fn parse_format(v: &str) -> Option<Format> {
    match v.to_ascii_lowercase().as_str() {
        "p" | "plain" => Some(Format::Plain),
        "c" | "custom" => Some(Format::Custom),
        "d" | "directory" => Some(Format::Directory),
        "t" | "tar" => Some(Format::Tar),
        _ => None,
    }
}

fn parse_compression(v: &str) -> Compression {
    let method = v.split(':').next().unwrap_or_default().to_ascii_lowercase();
    match method.as_str() {
        "0" | "none" => Compression::None,
        "zstd" => Compression::Zstd,
        "lz4" => Compression::Lz4,
        _ => Compression::Gzip,
    }
}

fn effective(args: &[String]) -> Effective {
    let mut e = Effective::default();
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        let a = a.as_str();
        let mut value = |inline: &str| -> String {
            if inline.is_empty() {
                it.next().cloned().unwrap_or_default()
            } else {
                inline.to_string()
            }
        };
        if a == "--Fd" {
            e.format = Some(Format::Directory);
        } else if let Some(v) = a.strip_prefix("--format=") {
            e.format = parse_format(v).or(e.format);
        } else if a == "--format" {
            e.format = parse_format(&value("")).or(e.format);
        } else if let Some(v) = a.strip_prefix("-F") {
            e.format = parse_format(&value(v)).or(e.format);
        } else if let Some(v) = a.strip_prefix("--compress=") {
            e.compression = Some(parse_compression(v));
        } else if a == "--compress" {
            e.compression = Some(parse_compression(&value("")));
        } else if let Some(v) = a.strip_prefix("-Z") {
            e.compression = Some(parse_compression(&value(v)));
        } else if a == "-f" || a == "--file" {
            e.writes_file = true;
            value("");
        } else if a.starts_with("--file=") || (a.starts_with("-f") && !a.starts_with("--")) {
            e.writes_file = true;
        }
    }
    e
}

impl Postgres {
    fn base_args(&self, cfg: &Config) -> Vec<String> {
        let mut args = vec!["--no-password".to_string()];
        if !cfg.all_databases {
            args.push(
                if cfg.native_compress() {
                    "--format=custom"
                } else {
                    "--format=plain"
                }
                .into(),
            );
        }
        args.extend(connection_args(cfg, None));
        args
    }

    /// The same secrets as the dump: PGPASSWORD, and the sslpassword service file.
    fn with_secrets(&self, cfg: &Config, cmd: DumpCommand) -> DumpCommand {
        let mut cmd = cmd.secret_env("PGPASSWORD", cfg.conn.password.as_ref());
        let ssl_password = cfg
            .conn
            .uri
            .as_ref()
            .and_then(|u| u.credentials().find(|(k, _)| k == SSL_PASSWORD));
        if let Some((_, pw)) = ssl_password {
            cmd.secret_file = Some(SecretFile {
                pass: PassPath::Env("PGSERVICEFILE"),
                content: secrecy::SecretString::from(format!("[{SERVICE}]\n{SSL_PASSWORD}={pw}\n")),
            });
        }
        cmd
    }
}

/// libpq connection flags, shared by pg_dump, pg_dumpall and psql. `database` replaces the
/// configured database (pg_dumpall's maintenance database, for the connection check).
fn connection_args(cfg: &Config, database: Option<&str>) -> Vec<String> {
    let c = &cfg.conn;
    let mut args = Vec::new();
    match &c.uri {
        Some(uri) => {
            // The database dumped (DB_NAME or the URI's path, resolved into conn.database;
            // one database of a split run), or the one asked for.
            let mut uri = match database.or(c.database.as_deref()) {
                Some(db) => uri.with_path(db),
                None => uri.clone(),
            };
            if uri.credentials().any(|(k, _)| k == SSL_PASSWORD) {
                // libpq has no variable for sslpassword: it comes from a 0600 service file.
                uri.query.push(("service".into(), SERVICE.into()));
            }
            args.push(format!("--dbname={}", uri.for_argv()));
        }
        None => {
            args.push(format!("--host={}", c.host.as_deref().unwrap_or_default()));
            args.push(format!("--port={}", c.port));
            if let Some(u) = &c.user {
                args.push(format!("--username={u}"));
            }
            if let Some(db) = database.or(c.database.as_deref()) {
                args.push(format!("--dbname={}", dbname_arg(db)));
            }
        }
    }
    args
}

/// A database name for `--dbname`: libpq reads a value with `=`, or starting with
/// `postgresql://` or `postgres://`, as connection settings (a database named
/// `postgresql://elsewhere/x` would send the password to another host; BACKUP_SPLIT_DATABASES
/// takes the names from the server). Such a name goes as `dbname='…'`, quoted.
fn dbname_arg(db: &str) -> std::borrow::Cow<'_, str> {
    if db.contains('=') || db.starts_with("postgresql://") || db.starts_with("postgres://") {
        let quoted = db.replace('\\', "\\\\").replace('\'', "\\'");
        std::borrow::Cow::Owned(format!("dbname='{quoted}'"))
    } else {
        std::borrow::Cow::Borrowed(db)
    }
}

/// The database pg_dumpall connects to first: `-l`/`--database` from DUMP_EXTRA_ARGS, else
/// `postgres` (pg_dumpall falls back to template1 only when postgres does not exist).
fn maintenance_db(extra: &[String]) -> String {
    let mut db = "postgres".to_string();
    let mut it = extra.iter();
    while let Some(a) = it.next() {
        if let Some(v) = a.strip_prefix("--database=") {
            db = v.to_string();
        } else if a == "--database" || a == "-l" {
            if let Some(v) = it.next() {
                db = v.clone();
            }
        } else if let Some(v) = a.strip_prefix("-l").filter(|v| !v.is_empty()) {
            db = v.to_string();
        }
    }
    db
}

/// Restoring: the same connection as the dump (flags, `PGPASSWORD`, the sslpassword service
/// file), to the database being restored into. Plain values in, commands out: what to run is
/// decided here, how bytes reach it in `restore::pg`.
impl Postgres {
    /// `psql` applying a plain SQL script to `database` in one transaction, from stdin
    /// (`file: None`: the streaming restore, which holds psql's input open until the backup's
    /// checksum matched; psql commits only at the end of its input) or from a file. The first
    /// error ends psql (`ON_ERROR_STOP`), and the transaction is rolled back.
    pub fn restore_psql(&self, cfg: &Config, database: &str, file: Option<&str>) -> DumpCommand {
        let mut args = restore_psql_flags();
        args.extend([
            "--set=ON_ERROR_STOP=1".to_string(),
            "--single-transaction".to_string(),
        ]);
        args.extend(connection_args(cfg, Some(database)));
        args.push(format!("--file={}", file.unwrap_or("-")));
        self.with_secrets(cfg, DumpCommand::new("psql", args))
    }

    /// `pg_restore` turning a custom or tar archive on stdin into its SQL script on stdout,
    /// for [`Self::restore_psql`]: it connects to nothing, so the transaction, and when it
    /// commits, stay psql's (pg_restore's own `--single-transaction` commits as soon as it
    /// has read the last data block, which can be before the checksum is known).
    pub fn restore_script(&self, drop: bool) -> DumpCommand {
        let mut args = vec!["--file=-".to_string()];
        if drop {
            args.extend(["--clean".to_string(), "--if-exists".to_string()]);
        }
        DumpCommand::new("pg_restore", args)
    }

    /// `pg_restore` applying an archive *file* (downloaded and verified first) to `database`
    /// in one transaction: for archives whose script holds its own transactions (large
    /// objects), which psql cannot run inside one.
    pub fn restore_archive(
        &self,
        cfg: &Config,
        database: &str,
        drop: bool,
        file: &str,
    ) -> DumpCommand {
        let mut args = vec![
            "--no-password".to_string(),
            "--single-transaction".to_string(),
            "--exit-on-error".to_string(),
        ];
        if drop {
            args.extend(["--clean".to_string(), "--if-exists".to_string()]);
        }
        args.extend(connection_args(cfg, Some(database)));
        args.push(file.to_string());
        self.with_secrets(cfg, DumpCommand::new("pg_restore", args))
    }

    /// `psql` applying a pg_dumpall script *file* (downloaded and verified first) against the
    /// maintenance database. Neither one transaction (`CREATE DATABASE` cannot run in one;
    /// the script `\connect`s to each database) nor `ON_ERROR_STOP` (the script creates
    /// every role, the connecting one included, which already exists): `restore::pg` reads
    /// psql's errors instead.
    pub fn restore_cluster(&self, cfg: &Config, file: &str) -> DumpCommand {
        let mut args = restore_psql_flags();
        args.extend(connection_args(cfg, Some(&self.maintenance_database(cfg))));
        args.push(format!("--file={file}"));
        self.with_secrets(cfg, DumpCommand::new("psql", args))
    }

    /// `psql` running one statement on `database`, its rows unaligned: the restore's checks
    /// (does the target have tables?) and `CREATE DATABASE` for a missing target.
    pub fn restore_query(&self, cfg: &Config, database: &str, sql: &str) -> DumpCommand {
        let mut args = restore_psql_flags();
        args.push("--set=ON_ERROR_STOP=1".to_string());
        args.extend(connection_args(cfg, Some(database)));
        args.extend([
            "--tuples-only".to_string(),
            "--no-align".to_string(),
            format!("--command={sql}"),
        ]);
        self.with_secrets(cfg, DumpCommand::new("psql", args))
    }

    /// The database a cluster restore connects to first, and where a missing target
    /// database is created from: pg_dumpall's (`-l` in DUMP_EXTRA_ARGS, else `postgres`).
    pub fn maintenance_database(&self, cfg: &Config) -> String {
        maintenance_db(&cfg.dump_extra_args)
    }
}

impl Postgres {
    /// BACKUP_MODE=directory and tar: pg_dump's directory format, one database.
    fn check_dir_mode(&self, cfg: &Config) -> Result<Vec<String>, ConfigError> {
        let mode = format!("{:?}", cfg.mode).to_ascii_lowercase();
        if cfg.all_databases {
            return Err(ConfigError::var(
                "BACKUP_MODE",
                format!("{mode} does not work with BACKUP_ALL_DATABASES for pg: pg_dumpall is stream-only, it writes one plain SQL stream (use BACKUP_MODE=stream, or one job per database)"),
            ));
        }
        let extra = effective(&cfg.dump_extra_args);
        if let Some(f) = extra.format.filter(|f| *f != Format::Directory) {
            return Err(ConfigError::var(
                "DUMP_EXTRA_ARGS",
                format!("asks pg_dump for the {f:?} format, but BACKUP_MODE={mode} dumps with the directory format (-Fd); remove --format").to_ascii_lowercase(),
            ));
        }
        if extra.writes_file {
            return Err(ConfigError::var(
                "DUMP_EXTRA_ARGS",
                format!("has -f/--file, but in BACKUP_MODE={mode} dbstash chooses the folder pg_dump writes into (in BACKUP_TEMP_DIR); remove it"),
            ));
        }
        let mut w = Vec::new();
        if cfg.compress && cfg.mode == BackupMode::Directory && self.dir_compressed(cfg) {
            w.push("BACKUP_COMPRESS has no effect for pg in BACKUP_MODE=directory: pg_dump's directory format compresses its data files already".into());
        }
        for (k, _) in cfg.conn.uri.iter().flat_map(|u| u.credentials()) {
            if k != "sslpassword" {
                w.push(format!("DB_URI option {k} looks like a credential and is not passed to pg_dump (only sslpassword is, through a 0600 service file)"));
            }
        }
        Ok(w)
    }
}

fn restore_psql_flags() -> Vec<String> {
    ["--no-password", "--no-psqlrc", "--quiet"]
        .map(String::from)
        .to_vec()
}

impl Engine for Postgres {
    fn kind(&self) -> EngineKind {
        EngineKind::Pg
    }

    fn key(&self) -> &'static str {
        "pg"
    }

    fn check(&self, cfg: &Config) -> Result<Vec<String>, ConfigError> {
        if cfg.mode != BackupMode::Stream {
            return self.check_dir_mode(cfg);
        }
        let mut w = Vec::new();
        let extra = effective(&cfg.dump_extra_args);
        if cfg.native_compress() && !cfg.all_databases && extra.format.is_some() {
            w.push("DUMP_EXTRA_ARGS sets --format, which overrides BACKUP_COMPRESS".into());
        }
        if cfg.mode == BackupMode::Stream {
            if extra.format == Some(Format::Directory) {
                w.push("DUMP_EXTRA_ARGS asks pg_dump for the directory format, which cannot be streamed: the dump will fail in BACKUP_MODE=stream".into());
            }
            if extra.writes_file {
                w.push("DUMP_EXTRA_ARGS has -f/--file: pg_dump would write to a local file instead of stdout, and the backup would be empty or fail in BACKUP_MODE=stream".into());
            }
        }
        for (k, _) in cfg.conn.uri.iter().flat_map(|u| u.credentials()) {
            if k != "sslpassword" {
                w.push(format!("DB_URI option {k} looks like a credential and is not passed to pg_dump (only sslpassword is, through a 0600 service file)"));
            }
        }
        Ok(w)
    }

    fn dump_command(&self, cfg: &Config) -> DumpCommand {
        let mut args = self.base_args(cfg);
        args.extend(cfg.dump_extra_args.iter().cloned());
        let program = if cfg.all_databases {
            "pg_dumpall"
        } else {
            "pg_dump"
        };
        if cfg.globals_only {
            // Roles and tablespaces only (a split run's `globals` object).
            args.push("--globals-only".into());
        }
        self.with_secrets(cfg, DumpCommand::new(program, args))
    }

    /// `pg_dump --format=directory --file=DIR`: one `NNNN.dat.gz` per table and `toc.dat`;
    /// `--jobs N` in DUMP_EXTRA_ARGS dumps N tables at once.
    fn dump_to_dir(&self, cfg: &Config, dir: &str) -> DumpCommand {
        let mut args = vec![
            "--no-password".to_string(),
            "--format=directory".to_string(),
            format!("--file={dir}"),
        ];
        args.extend(connection_args(cfg, None));
        args.extend(cfg.dump_extra_args.iter().cloned());
        self.with_secrets(cfg, DumpCommand::new("pg_dump", args))
    }

    /// The directory format compresses its data files (gzip) unless told otherwise.
    fn dir_compressed(&self, cfg: &Config) -> bool {
        effective(&cfg.dump_extra_args).compression != Some(Compression::None)
    }

    /// pg_dump's custom format compresses; pg_dumpall writes plain SQL only.
    fn native_compression(&self, cfg: &Config) -> bool {
        !cfg.all_databases
    }

    /// `--compress`/`-Z` (other than 0/none) on a plain dump.
    fn extra_args_compress(&self, cfg: &Config) -> bool {
        let mut args = self.base_args(cfg);
        args.extend(cfg.dump_extra_args.iter().cloned());
        let e = effective(&args);
        e.format.unwrap_or(Format::Plain) == Format::Plain
            && e.compression.is_some_and(|c| c != Compression::None)
    }

    /// `psql SELECT 1` with pg_dump's connection flags and secrets (pg_dumpall's: its
    /// maintenance database). DUMP_EXTRA_ARGS are pg_dump's, not psql's: not passed.
    fn check_command(&self, cfg: &Config) -> DumpCommand {
        let maintenance = cfg
            .all_databases
            .then(|| maintenance_db(&cfg.dump_extra_args));
        let mut args = vec!["--no-password".to_string()];
        args.extend(connection_args(cfg, maintenance.as_deref()));
        args.extend(
            [
                "--no-psqlrc",
                "--tuples-only",
                "--no-align",
                "--command=SELECT 1",
            ]
            .map(String::from),
        );
        self.with_secrets(cfg, DumpCommand::new("psql", args))
    }

    fn check_replies(&self) -> &'static [&'static str] {
        &["1"]
    }

    /// `psql` on the maintenance database (as pg_dumpall would connect), every database that
    /// accepts connections (template0 does not), and `#superuser` when the user is one: only
    /// a superuser may read the roles' passwords (the globals object is dumped without them
    /// otherwise).
    fn list_databases_command(&self, cfg: &Config) -> Option<DumpCommand> {
        let mut args = vec!["--no-password".to_string()];
        args.extend(connection_args(
            cfg,
            Some(&maintenance_db(&cfg.dump_extra_args)),
        ));
        args.extend(
            [
                "--no-psqlrc",
                "--tuples-only",
                "--no-align",
                "--set=ON_ERROR_STOP=1",
                "--command=SELECT encode(convert_to(datname, 'UTF8'), 'hex') FROM pg_database WHERE datallowconn UNION ALL SELECT '#superuser' FROM pg_roles WHERE rolname = current_user AND rolsuper ORDER BY 1",
            ]
            .map(String::from),
        );
        Some(self.with_secrets(cfg, DumpCommand::new("psql", args)))
    }

    /// DUMP_EXTRA_ARGS go to each database's pg_dump: pg_dumpall's own flags (the ones an
    /// all-databases configuration may have carried) would fail every database, every run.
    fn check_split(&self, cfg: &Config) -> Result<(), ConfigError> {
        const DUMPALL_ONLY: [&str; 9] = [
            "-l",
            "--database",
            "-g",
            "--globals-only",
            "-r",
            "--roles-only",
            "--tablespaces-only",
            "--exclude-database",
            "--no-role-passwords",
        ];
        for a in &cfg.dump_extra_args {
            let flag = a.split('=').next().unwrap_or(a);
            let short = DUMPALL_ONLY
                .iter()
                .any(|f| f.len() == 2 && a.starts_with(f) && !a.starts_with("--"));
            if DUMPALL_ONLY.contains(&flag) || short {
                return Err(ConfigError::var(
                    "DUMP_EXTRA_ARGS",
                    format!("{a} is pg_dumpall's, but with BACKUP_SPLIT_DATABASES each database is dumped by pg_dump, which DUMP_EXTRA_ARGS go to (the databases are listed from the postgres database; the globals object is always pg_dumpall --globals-only)"),
                ));
            }
        }
        Ok(())
    }

    /// The template databases. `postgres` is not one: it is an ordinary database that
    /// initdb creates, and tables put there are backed up (exclude it to skip it).
    fn system_databases(&self) -> &'static [&'static str] {
        &["template0", "template1"]
    }

    fn auto_extension(&self, cfg: &Config) -> String {
        if cfg.all_databases {
            return ".sql".into();
        }
        let mut args = self.base_args(cfg);
        args.extend(cfg.dump_extra_args.iter().cloned());
        let e = effective(&args);
        match e.format.unwrap_or(Format::Plain) {
            Format::Custom => ".dump".into(),
            Format::Tar => ".tar".into(),
            Format::Directory => ".dir".into(),
            Format::Plain => match e.compression.unwrap_or(Compression::None) {
                Compression::None => ".sql".into(),
                Compression::Gzip => ".sql.gz".into(),
                Compression::Zstd => ".sql.zst".into(),
                Compression::Lz4 => ".sql.lz4".into(),
            },
        }
    }

    fn known_extensions(&self) -> &'static [&'static str] {
        &[
            ".sql",
            ".dump",
            ".sql.gz",
            ".sql.zst",
            ".sql.lz4",
            ".tar",
            ".dump.zst",
            ".dump.gz",
            ".tar.zst",
            ".tar.gz",
        ]
    }

    /// Custom and tar archives: pg_restore lists the table of contents, then reads every
    /// entry (`--file=/dev/null` restores into nothing). Plain SQL: pg_dump's or pg_dumpall's
    /// last comment (pg_dumpall's output holds a pg_dump trailer per database: only the
    /// cluster's says the whole dump is there).
    fn completeness(&self, cfg: &Config, content: Content) -> Result<Vec<Completeness>, String> {
        match content {
            Content::PgCustom | Content::Tar => Ok(vec![
                Completeness::Tool {
                    program: "pg_restore",
                    args: &["--list"],
                    optional: false,
                },
                Completeness::Tool {
                    program: "pg_restore",
                    args: &["--file=/dev/null"],
                    optional: false,
                },
            ]),
            Content::Text if cfg.all_databases => Ok(vec![Completeness::Trailer(
                "-- PostgreSQL database cluster dump complete",
            )]),
            Content::Text => Ok(vec![Completeness::Trailer(
                "-- PostgreSQL database dump complete",
            )]),
            other => Err(format!("it is {}, not a PostgreSQL dump", other.describe())),
        }
    }
}

#[cfg(test)]
mod tests;
