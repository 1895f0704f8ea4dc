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
        } else if let Some(a) = extra.iter().find(|a| {
            a.starts_with("--archive")
                || a.starts_with("--out")
                || (a.starts_with("-o") && !a.starts_with("--"))
        }) {
            return Err(ConfigError::var(
                "DUMP_EXTRA_ARGS",
                format!(
                    "has {a}, but in BACKUP_MODE={} dbstash has mongodump write its folder tree (--out, in BACKUP_TEMP_DIR); remove it",
                    format!("{:?}", cfg.mode).to_ascii_lowercase()
                ),
            ));
        }
        Ok(w)
    }

    fn dump_command(&self, cfg: &Config) -> DumpCommand {
        let mut args = vec!["--archive".to_string()];
        if cfg.native_compress() {
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

    /// `mongodump --out=DIR`: `DB/COLL.bson` and `DB/COLL.metadata.json` (`.gz` with
    /// `--gzip`, added by BACKUP_COMPRESS); every database without DB_NAME.
    fn dump_to_dir(&self, cfg: &Config, dir: &str) -> DumpCommand {
        let mut args = vec![format!("--out={dir}")];
        if cfg.native_compress() {
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

    fn dir_compressed(&self, cfg: &Config) -> bool {
        cfg.native_compress() || self.extra_args_compress(cfg)
    }

    /// `--gzip`, added by BACKUP_COMPRESS without BACKUP_COMPRESS_ALGO.
    fn native_compression(&self, _cfg: &Config) -> bool {
        true
    }

    fn extra_args_compress(&self, cfg: &Config) -> bool {
        cfg.dump_extra_args.iter().any(|a| a == "--gzip")
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

    /// `mongosh --nodb`, connecting from its script to the URI in [`LIST_URI_VAR`] (the
    /// database tools cannot list databases; the password never reaches argv). TLS and
    /// authentication options must then be in DB_URI: DUMP_EXTRA_ARGS are mongodump's.
    fn list_databases_command(&self, cfg: &Config) -> Option<DumpCommand> {
        let args = ["--nodb", "--quiet", "--norc", "--eval", LIST_SCRIPT].map(String::from);
        let uri = SecretString::from(listing_uri(cfg));
        Some(DumpCommand::new("mongosh", args.to_vec()).secret_env(LIST_URI_VAR, Some(&uri)))
    }

    fn system_databases(&self) -> &'static [&'static str] {
        &["admin", "config", "local"]
    }

    fn auto_extension(&self, cfg: &Config) -> String {
        let gzip = cfg.native_compress() || self.extra_args_compress(cfg);
        if gzip { ".archive.gz" } else { ".archive" }.into()
    }

    fn known_extensions(&self) -> &'static [&'static str] {
        &[".archive", ".archive.gz", ".archive.zst"]
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
            let full = uri_with_password(cfg, uri);
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

/// DB_URI for the tools, with the password: the database travels in `--db`, the URI keeps
/// only where and how to connect. Without an authSource, MongoDB authenticates against the
/// URI's database: that meaning is kept when the path is stripped.
fn uri_with_password(cfg: &Config, uri: &crate::uri::DbUri) -> String {
    let c = &cfg.conn;
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
    uri.render_with_password(c.password.as_ref().map(|p| p.expose_secret()))
}

/// The connection as one URI with the password (for mongosh, which takes no config file):
/// DB_URI as the tools get it, or one made of the host fields.
fn listing_uri(cfg: &Config) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let c = &cfg.conn;
    if let Some(uri) = &c.uri {
        return uri_with_password(cfg, uri);
    }
    let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
    let mut s = String::from("mongodb://");
    if let Some(u) = &c.user {
        s.push_str(&enc(u));
        if let Some(p) = &c.password {
            s.push(':');
            s.push_str(&enc(p.expose_secret()));
        }
        s.push('@');
    }
    let host = c.host.as_deref().unwrap_or_default();
    if host.contains(':') && !host.starts_with('[') {
        s.push_str(&format!("[{host}]:{}/", c.port));
    } else {
        s.push_str(&format!("{host}:{}/", c.port));
    }
    if c.user.is_some() {
        s.push_str("?authSource=");
        s.push_str(&enc(c
            .auth_source
            .as_deref()
            .unwrap_or(defaults::AUTH_SOURCE)));
    }
    s
}

/// The variable mongosh reads the listing's connection URI from.
pub const LIST_URI_VAR: &str = "DBSTASH_MONGO_URI";

/// mongosh's script for BACKUP_SPLIT_DATABASES: every database the user may see, hex-encoded.
const LIST_SCRIPT: &str = "const r = connect(process.env.DBSTASH_MONGO_URI).getSiblingDB('admin').runCommand({listDatabases: 1, nameOnly: true, authorizedDatabases: true}); if (!r.ok) { throw new Error('listDatabases failed: ' + r.errmsg); } r.databases.forEach(d => print(Buffer.from(d.name, 'utf8').toString('hex')));";

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
    connection_flags_of(extra, CONNECTION_FLAGS)
}

/// The flags among `extra` that start like one of `flags`, with their separate values.
fn connection_flags_of(extra: &[String], flags: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut take_value = false;
    for a in extra {
        if std::mem::take(&mut take_value) && !a.starts_with('-') {
            out.push(a.clone());
            continue;
        }
        if flags.iter().any(|f| a.starts_with(f)) {
            out.push(a.clone());
            // `--tlsCAFile X`, not `--tls` (a switch) or `--tlsCAFile=X`.
            take_value = !a.contains('=') && !matches!(a.as_str(), "--ssl" | "--tls");
        }
    }
    out
}

/// Restore: `mongorestore --archive=FILE` with mongodump's connection and credentials file,
/// and a probe of the target's collections through mongodump (the database tools have no
/// query mode).
impl Mongo {
    /// `mongorestore [--config=FILE] CONN --archive=ARCHIVE [--gzip] [--nsInclude=FROM.*]
    /// [--nsFrom=FROM.* --nsTo=TO.*] [--drop] FLAGS`: `gzip` for a `.archive.gz` (mongodump
    /// compressed the whole archive); `namespace` is the database a single-database archive
    /// holds and the one it goes to (an all-databases archive restores every database it
    /// holds, under its own name); `drop` drops each collection of the archive before
    /// restoring it (RESTORE_DROP_EXISTING only). FLAGS are DUMP_EXTRA_ARGS' connection flags
    /// (TLS, authentication mechanism, compressors), not `--readPreference`: a restore
    /// writes to the primary.
    pub fn restore_command(
        &self,
        cfg: &Config,
        archive: &std::path::Path,
        gzip: bool,
        namespace: Option<(&str, &str)>,
        drop: bool,
    ) -> DumpCommand {
        self.restore_from(
            cfg,
            format!("--archive={}", archive.display()),
            gzip,
            namespace,
            drop,
        )
    }

    /// [`Self::restore_command`] for a directory or tar backup: `--dir=DIR`, the tree
    /// mongodump `--out` wrote (`gzip` when its files are `.bson.gz`).
    pub fn restore_dir_command(
        &self,
        cfg: &Config,
        dir: &std::path::Path,
        gzip: bool,
        namespace: Option<(&str, &str)>,
        drop: bool,
    ) -> DumpCommand {
        self.restore_from(
            cfg,
            format!("--dir={}", dir.display()),
            gzip,
            namespace,
            drop,
        )
    }

    fn restore_from(
        &self,
        cfg: &Config,
        source: String,
        gzip: bool,
        namespace: Option<(&str, &str)>,
        drop: bool,
    ) -> DumpCommand {
        let (mut args, yaml) = connection(cfg);
        args.push(source);
        if gzip {
            args.push("--gzip".into());
        }
        if let Some((from, to)) = namespace {
            let (from, to) = (namespace_pattern(from), namespace_pattern(to));
            args.push(format!("--nsInclude={from}.*"));
            if from != to {
                args.push(format!("--nsFrom={from}.*"));
                args.push(format!("--nsTo={to}.*"));
            }
        }
        if drop {
            args.push("--drop".into());
        }
        args.extend(connection_flags_of(
            &cfg.dump_extra_args,
            &CONNECTION_FLAGS
                .iter()
                .copied()
                .filter(|f| *f != "--readPreference")
                .collect::<Vec<_>>(),
        ));
        with_config_file(DumpCommand::new("mongorestore", args), yaml)
    }

    /// `mongodump [--config=FILE] CONN [--db=DB] --archive FLAGS`: the archive's first part
    /// (its prelude) lists every collection it is about to dump, in `db` or in every
    /// database; the caller reads that far and stops it. The connection and flags are the
    /// backup's, as for the connection check.
    pub fn probe_command(&self, cfg: &Config, db: Option<&str>) -> DumpCommand {
        let (mut args, yaml) = connection(cfg);
        if let Some(db) = db {
            args.push(format!("--db={db}"));
        }
        args.push("--archive".into());
        args.extend(connection_flags(&cfg.dump_extra_args));
        with_config_file(DumpCommand::new("mongodump", args), yaml)
    }
}

/// A database name in a mongorestore namespace pattern: `*` and `\\` are wildcards and
/// escapes there, so literal ones are escaped.
fn namespace_pattern(db: &str) -> String {
    let mut out = String::with_capacity(db.len());
    for c in db.chars() {
        if matches!(c, '*' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod restore_tests {
    use std::path::Path;

    use super::*;
    use crate::cli::CommonArgs;

    fn cfg(edit: impl FnOnce(&mut CommonArgs)) -> Config {
        let mut a = CommonArgs {
            rclone_remote: Some("s3:b".into()),
            backup_schedule: Some("once".into()),
            ..CommonArgs::default()
        };
        edit(&mut a);
        Config::resolve(EngineKind::Mongo, a).expect("valid config")
    }

    fn render(d: &DumpCommand) -> (String, Option<String>) {
        (
            format!("{} {}", d.program, d.args.join(" ")),
            d.secret_file.as_ref().map(|f| {
                assert_eq!(f.pass, PassPath::Flag("--config="));
                f.content.expose_secret().to_string()
            }),
        )
    }

    #[test]
    fn restore_rows() {
        let uri = |a: &mut CommonArgs| {
            a.db_uri =
                Some("mongodb://app:Mongo%24ecret@m1:27017,m2:27017/shop?replicaSet=rs0".into());
            a.dump_extra_args =
                Some("--readPreference secondary --tls --tlsCAFile /ca.pem --gzip".into());
        };
        let c = cfg(uri);
        let archive = Path::new("/work/dbstash-download-x/shop.archive.gz");
        let yaml = "uri: \"mongodb://app:Mongo%24ecret@m1:27017,m2:27017/?replicaSet=rs0&authSource=shop\"\n";
        type Case<'a> = (bool, Option<(&'a str, &'a str)>, bool, &'a str);
        let cases: &[Case] = &[
            (
                true,
                Some(("shop", "shop")),
                false,
                "mongorestore --archive=/work/dbstash-download-x/shop.archive.gz --gzip --nsInclude=shop.* --tls --tlsCAFile /ca.pem",
            ),
            (
                false,
                Some(("shop", "shop_copy")),
                true,
                "mongorestore --archive=/work/dbstash-download-x/shop.archive.gz --nsInclude=shop.* --nsFrom=shop.* --nsTo=shop_copy.* --drop --tls --tlsCAFile /ca.pem",
            ),
            (
                false,
                None,
                false,
                "mongorestore --archive=/work/dbstash-download-x/shop.archive.gz --tls --tlsCAFile /ca.pem",
            ),
        ];
        for (gzip, ns, drop, want) in cases {
            let r = Mongo.restore_command(&c, archive, *gzip, *ns, *drop);
            let (argv, file) = render(&r);
            assert_eq!(argv, *want);
            assert_eq!(file.as_deref(), Some(yaml));
            assert!(!argv.contains("ecret"), "{argv}");
        }

        let c = cfg(|a| {
            a.db_host = Some("mongo.internal".into());
            a.db_user = Some("root".into());
            a.db_password = Some("pa\"ss".into());
            a.db_auth_source = Some("users".into());
            a.backup_all_databases = Some("true".into());
        });
        let (argv, file) =
            render(&Mongo.restore_command(&c, Path::new("/t/all.archive"), false, None, true));
        assert_eq!(
            argv,
            "mongorestore --host=mongo.internal --port=27017 --username=root --authenticationDatabase=users --archive=/t/all.archive --drop"
        );
        assert_eq!(file.as_deref(), Some("password: \"pa\\\"ss\"\n"));

        // No credentials: no config file at all.
        let c = cfg(|a| {
            a.db_host = Some("m".into());
            a.db_name = Some("odd*name".into());
        });
        let (argv, file) = render(&Mongo.restore_command(
            &c,
            Path::new("/t/a.archive"),
            false,
            Some(("odd*name", "odd*name")),
            false,
        ));
        assert_eq!(
            argv,
            "mongorestore --host=m --port=27017 --archive=/t/a.archive --nsInclude=odd\\*name.*"
        );
        assert_eq!(file, None);
    }

    #[test]
    fn probe_rows() {
        let c = cfg(|a| {
            a.db_uri = Some("mongodb://app:pw@m1:27017/shop".into());
            a.dump_extra_args =
                Some("--readPreference=secondary --gzip --numParallelCollections 2".into());
        });
        let (argv, file) = render(&Mongo.probe_command(&c, Some("shop_copy")));
        assert_eq!(
            argv,
            "mongodump --db=shop_copy --archive --readPreference=secondary"
        );
        assert_eq!(
            file.as_deref(),
            Some("uri: \"mongodb://app:pw@m1:27017/?authSource=shop\"\n")
        );
        let (argv, _) = render(&Mongo.probe_command(&c, None));
        assert_eq!(argv, "mongodump --archive --readPreference=secondary");
    }
}
