//! PostgreSQL: `pg_dump` for one database, `pg_dumpall` for all of them.

use super::{DumpCommand, Engine, EngineKind, PassPath, SecretFile};
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
                if cfg.compress {
                    "--format=custom"
                } else {
                    "--format=plain"
                }
                .into(),
            );
        }
        let c = &cfg.conn;
        match &c.uri {
            Some(uri) if uri.credentials().any(|(k, _)| k == SSL_PASSWORD) => {
                // libpq has no variable for sslpassword: it comes from a 0600 service file.
                let mut uri = uri.clone();
                uri.query.push(("service".into(), SERVICE.into()));
                args.push(format!("--dbname={}", uri.for_argv()));
            }
            Some(uri) => args.push(format!("--dbname={}", uri.for_argv())),
            None => {
                args.push(format!("--host={}", c.host.as_deref().unwrap_or_default()));
                args.push(format!("--port={}", c.port));
                if let Some(u) = &c.user {
                    args.push(format!("--username={u}"));
                }
                if let Some(db) = &c.database {
                    args.push(format!("--dbname={db}"));
                }
            }
        }
        args
    }
}

impl Engine for Postgres {
    fn kind(&self) -> EngineKind {
        EngineKind::Pg
    }

    fn key(&self) -> &'static str {
        "pg"
    }

    fn uri_schemes(&self) -> &'static [&'static str] {
        &["postgresql", "postgres"]
    }

    fn uri_example(&self) -> &'static str {
        "postgresql://user:pass@host:5432/mydb?sslmode=require"
    }

    fn default_port(&self) -> u16 {
        5432
    }

    fn check(&self, cfg: &Config) -> Result<Vec<String>, ConfigError> {
        let mut w = Vec::new();
        if cfg.compress && cfg.all_databases {
            w.push("BACKUP_COMPRESS has no effect with BACKUP_ALL_DATABASES: pg_dumpall writes plain SQL only".into());
        }
        let extra = effective(&cfg.dump_extra_args);
        if cfg.compress && extra.format.is_some() {
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
        let mut cmd =
            DumpCommand::new(program, args).secret_env("PGPASSWORD", cfg.conn.password.as_ref());
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
}

#[cfg(test)]
mod tests;
