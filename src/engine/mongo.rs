//! MongoDB: `mongodump --archive` to stdout, `--gzip` when compressing. Credentials go in a
//! 0600 `--config` YAML file (mongodump reads `uri:` and `password:` there), never argv.

use secrecy::{ExposeSecret, SecretString};

use super::{Completeness, Content, DumpCommand, Engine, EngineKind, PassPath, SecretFile};
use crate::config::{defaults, Config, ConfigError};

pub struct Mongo;

/// A collection name no database has, for the connection check.
const CHECK_COLLECTION: &str = "dbstash-check-no-such-collection";

/// DUMP_EXTRA_ARGS flags that change how mongodump connects, kept for the connection check.
const CONNECTION_FLAGS: &[&str] = &[
    "--ssl",
    "--tls",
    "--authenticationMechanism",
    "--gssapi",
    "--readPreference",
    "--compressors",
];

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
        let mut args = vec!["--archive".to_string()];
        if cfg.compress {
            args.push("--gzip".into());
        }
        let (conn, yaml) = connection(cfg);
        args.extend(conn);
        if let Some(db) = &cfg.conn.database {
            args.push(format!("--db={db}"));
        }
        args.extend(cfg.dump_extra_args.iter().cloned());
        with_config_file(DumpCommand::new("mongodump", args), yaml)
    }

    /// mongodump itself (the database tools have no shell), asked for a collection that
    /// cannot exist: it connects, authenticates and lists the database's collections, then
    /// logs "namespace … does not exist" and exits 0 without writing anything. All-databases
    /// backups check against `admin`. Of DUMP_EXTRA_ARGS only connection flags (TLS,
    /// authentication mechanism, read preference, compressors) are passed: the others select
    /// what to dump and could conflict with `--collection`.
    fn check_command(&self, cfg: &Config) -> DumpCommand {
        let (mut args, yaml) = connection(cfg);
        let db = cfg.conn.database.as_deref().unwrap_or("admin");
        args.push(format!("--db={db}"));
        args.push(format!("--collection={CHECK_COLLECTION}"));
        args.push("--archive=/dev/null".into());
        args.extend(connection_flags(&cfg.dump_extra_args));
        with_config_file(DumpCommand::new("mongodump", args), yaml)
    }

    fn auto_extension(&self, cfg: &Config) -> String {
        let gzip = cfg.compress || cfg.dump_extra_args.iter().any(|a| a == "--gzip");
        if gzip { ".archive.gz" } else { ".archive" }.into()
    }

    fn known_extensions(&self) -> &'static [&'static str] {
        &[".archive", ".archive.gz"]
    }

    /// The archive is read natively to its end (no MongoDB tools needed): the framing, and a
    /// closing marker for every collection (`restore::archive`).
    fn completeness(&self, _cfg: &Config, content: Content) -> Result<Vec<Completeness>, String> {
        match content {
            Content::MongoArchive => Ok(vec![Completeness::MongoArchive]),
            other => Err(format!(
                "it is {}, not a mongodump archive",
                other.describe()
            )),
        }
    }
}

/// Connection and authentication: flags for host fields, or a `uri:` line in the 0600 config
/// file (with the password, which never goes on argv either way).
fn connection(cfg: &Config) -> (Vec<String>, String) {
    let c = &cfg.conn;
    let mut args = Vec::new();
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
    (args, yaml)
}

fn with_config_file(mut cmd: DumpCommand, yaml: String) -> DumpCommand {
    if !yaml.is_empty() {
        cmd.secret_file = Some(SecretFile {
            pass: PassPath::Flag("--config="),
            content: SecretString::from(yaml),
        });
    }
    cmd
}

/// The connection flags among `extra` (with their separate values: `--tlsCAFile X`).
fn connection_flags(extra: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut take_value = false;
    for a in extra {
        if std::mem::take(&mut take_value) && !a.starts_with('-') {
            out.push(a.clone());
            continue;
        }
        if CONNECTION_FLAGS.iter().any(|f| a.starts_with(f)) {
            out.push(a.clone());
            // `--tlsCAFile X`, not `--tls` (a switch) or `--tlsCAFile=X`.
            take_value = !a.contains('=') && !matches!(a.as_str(), "--ssl" | "--tls");
        }
    }
    out
}
