//! MongoDB: `mongodump --archive` to stdout, `--gzip` when compressing. Credentials go in a
//! 0600 `--config` YAML file (mongodump reads `uri:` and `password:` there), never argv.

use secrecy::{ExposeSecret, SecretString};

use super::{DumpCommand, Engine, EngineKind, PassPath, SecretFile};
use crate::config::{defaults, Config, ConfigError};

pub struct Mongo;

/// A YAML double-quoted scalar: JSON string syntax is valid YAML.
fn yaml_str(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

impl Engine for Mongo {
    fn kind(&self) -> EngineKind {
        EngineKind::Mongo
    }

    fn key(&self) -> &'static str {
        "mongo"
    }

    fn uri_schemes(&self) -> &'static [&'static str] {
        &["mongodb", "mongodb+srv"]
    }

    fn uri_example(&self) -> &'static str {
        "mongodb://user:pass@host:27017/mydb?authSource=admin"
    }

    fn default_port(&self) -> u16 {
        27017
    }

    fn check(&self, cfg: &Config) -> Result<Vec<String>, ConfigError> {
        let mut w = Vec::new();
        let extra = &cfg.dump_extra_args;
        let archive_to_stdout = !extra.iter().any(|a| a.starts_with("--archive="));
        if cfg.mode == crate::config::BackupMode::Stream {
            if extra.iter().any(|a| {
                a == "-o"
                    || a == "--out"
                    || a.starts_with("--out=")
                    || (a.starts_with("-o") && !a.starts_with("--"))
            }) {
                w.push("DUMP_EXTRA_ARGS has --out/-o: mongodump would write a directory instead of the --archive stream, so the backup would be empty or fail in BACKUP_MODE=stream".into());
            }
            if !archive_to_stdout {
                w.push("DUMP_EXTRA_ARGS has --archive=<file>: mongodump would write the archive to a local file instead of stdout, so the backup would be empty in BACKUP_MODE=stream".into());
            }
        }
        Ok(w)
    }

    fn dump_command(&self, cfg: &Config) -> DumpCommand {
        let c = &cfg.conn;
        let mut args = vec!["--archive".to_string()];
        if cfg.compress {
            args.push("--gzip".into());
        }
        let mut yaml = String::new();
        match &c.uri {
            Some(uri) => {
                // The database travels in --db; the URI keeps only where and how to connect.
                // Without an authSource, MongoDB authenticates against the URI's database:
                // keep that meaning when the path is stripped.
                let path_db = Some(uri.path.clone()).filter(|p| !p.is_empty());
                let mut uri = uri.with_path("");
                if uri.user.is_some() && uri.query_value("authSource").is_none() {
                    let source = c
                        .auth_source
                        .clone()
                        .or(path_db)
                        .unwrap_or_else(|| defaults::AUTH_SOURCE.into());
                    uri.query.push(("authSource".into(), source));
                }
                let full = uri.render_with_password(c.password.as_ref().map(|p| p.expose_secret()));
                yaml.push_str(&format!("uri: {}\n", yaml_str(&full)));
            }
            None => {
                args.push(format!("--host={}", c.host.as_deref().unwrap_or_default()));
                args.push(format!("--port={}", c.port));
                if let Some(u) = &c.user {
                    args.push(format!("--username={u}"));
                    args.push(format!(
                        "--authenticationDatabase={}",
                        c.auth_source.as_deref().unwrap_or(defaults::AUTH_SOURCE)
                    ));
                }
                if let Some(p) = &c.password {
                    yaml.push_str(&format!("password: {}\n", yaml_str(p.expose_secret())));
                }
            }
        }
        if let Some(db) = &c.database {
            args.push(format!("--db={db}"));
        }
        args.extend(cfg.dump_extra_args.iter().cloned());
        let mut cmd = DumpCommand::new("mongodump", args);
        if !yaml.is_empty() {
            cmd.secret_file = Some(SecretFile {
                pass: PassPath::Flag("--config="),
                content: SecretString::from(yaml),
            });
        }
        cmd
    }

    fn auto_extension(&self, cfg: &Config) -> String {
        let gzip = cfg.compress || cfg.dump_extra_args.iter().any(|a| a == "--gzip");
        if gzip { ".archive.gz" } else { ".archive" }.into()
    }
}
