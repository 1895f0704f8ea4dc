//! MySQL (`mysqldump`) and MariaDB (`mariadb-dump`, falling back to `mysqldump`): plain SQL
//! to stdout, consistent InnoDB snapshots with `--single-transaction`.

use super::{disk_flag_warnings, Completeness, Content, DumpCommand, Engine, EngineKind};
use crate::config::{BackupMode, Config, ConfigError};

pub struct MySql {
    kind: EngineKind,
}

impl MySql {
    pub const MYSQL: MySql = MySql {
        kind: EngineKind::Mysql,
    };
    pub const MARIADB: MySql = MySql {
        kind: EngineKind::Mariadb,
    };
}

impl Engine for MySql {
    fn kind(&self) -> EngineKind {
        self.kind
    }

    fn key(&self) -> &'static str {
        match self.kind {
            EngineKind::Mariadb => "mariadb",
            _ => "mysql",
        }
    }

    fn check(&self, cfg: &Config) -> Result<Vec<String>, ConfigError> {
        if cfg.mode != BackupMode::Stream {
            let mode = format!("{:?}", cfg.mode).to_ascii_lowercase();
            if cfg.all_databases {
                return Err(ConfigError::var(
                    "BACKUP_MODE",
                    format!("{mode} does not work with BACKUP_ALL_DATABASES for {}: --tab (one .sql and .txt per table) dumps one database, and --all-databases is stream-only (use BACKUP_MODE=stream, or one job per database)", self.key()),
                ));
            }
            if let Some(a) = cfg.dump_extra_args.iter().find(|a| {
                a.starts_with("--tab")
                    || a.starts_with("-T")
                    || a.starts_with("--result-file")
                    || a.starts_with("-r")
            }) {
                return Err(ConfigError::var(
                    "DUMP_EXTRA_ARGS",
                    format!("has {a}, but in BACKUP_MODE={mode} dbstash chooses the folder {} writes into (--tab, in BACKUP_TEMP_DIR); remove it", self.program()),
                ));
            }
        }
        let mut w = Vec::new();
        w.extend(super::directory_compress_warning(
            cfg,
            "--tab writes plain .sql and .txt files",
        ));
        w.extend(disk_flag_warnings(
            cfg,
            self.program(),
            &["--tab", "-T", "--result-file", "-r"],
        ));
        for (k, _) in cfg.conn.uri.iter().flat_map(|u| u.credentials()) {
            w.push(format!(
                "DB_URI option {k} looks like a credential and is not passed on {}'s command line",
                self.program()
            ));
        }
        Ok(w)
    }

    fn dump_command(&self, cfg: &Config) -> DumpCommand {
        let c = &cfg.conn;
        let mut args = connection_args(cfg);
        args.push("--single-transaction".into());
        if cfg.all_databases {
            args.push("--all-databases".into());
        }
        args.extend(cfg.dump_extra_args.iter().cloned());
        if let Some(db) = &c.database {
            // Last, as mysqldump's usage puts it: `mysqldump [options] db_name`.
            args.extend(db_args(db));
        }
        let mut cmd =
            DumpCommand::new(self.program(), args).secret_env("MYSQL_PWD", c.password.as_ref());
        if self.kind == EngineKind::Mariadb {
            cmd.fallback = Some("mysqldump".into());
        }
        cmd
    }

    /// `mysqldump --tab=DIR DB`: the client writes `TABLE.sql` (the table's definition), the
    /// *server* writes `TABLE.txt` (its rows, `SELECT … INTO OUTFILE`).
    fn dump_to_dir(&self, cfg: &Config, dir: &str) -> DumpCommand {
        let c = &cfg.conn;
        let mut args = connection_args(cfg);
        args.push("--single-transaction".into());
        args.push(format!("--tab={dir}"));
        args.extend(cfg.dump_extra_args.iter().cloned());
        args.extend(c.database.iter().flat_map(|db| db_args(db)));
        let mut cmd =
            DumpCommand::new(self.program(), args).secret_env("MYSQL_PWD", c.password.as_ref());
        if self.kind == EngineKind::Mariadb {
            cmd.fallback = Some("mysqldump".into());
        }
        cmd
    }

    fn server_writes_dir(&self) -> bool {
        true
    }

    /// `mysql -e 'SELECT 1' DB` (`mariadb`, falling back to `mysql`) with the dump's
    /// connection flags and `MYSQL_PWD`; both clients read the same option files. DUMP_EXTRA_ARGS
    /// are the dump tool's, not the client's: not passed.
    fn check_command(&self, cfg: &Config) -> DumpCommand {
        let mut args = ["--batch", "--skip-column-names", "--execute=SELECT 1"]
            .map(String::from)
            .to_vec();
        args.extend(cfg.conn.database.iter().flat_map(|db| db_args(db)));
        self.client(cfg, args)
    }

    fn check_replies(&self) -> &'static [&'static str] {
        &["1"]
    }

    /// The schemas the user can see: with the SHOW DATABASES privilege all of them, else
    /// only those it has some privilege on (the others are not backed up: documented).
    fn list_databases_command(&self, cfg: &Config) -> Option<DumpCommand> {
        let args = [
            "--batch",
            "--skip-column-names",
            "--execute=SELECT HEX(SCHEMA_NAME) FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME",
        ]
        .map(String::from)
        .to_vec();
        Some(self.client(cfg, args))
    }

    fn system_databases(&self) -> &'static [&'static str] {
        &["information_schema", "performance_schema", "mysql", "sys"]
    }

    fn auto_extension(&self, _cfg: &Config) -> String {
        ".sql".into()
    }

    fn known_extensions(&self) -> &'static [&'static str] {
        &[".sql", ".sql.zst", ".sql.gz"]
    }

    /// mysqldump and mariadb-dump end with `-- Dump completed on DATE` (`-- Dump completed`
    /// with --skip-dump-date).
    fn completeness(&self, _cfg: &Config, content: Content) -> Result<Vec<Completeness>, String> {
        match content {
            Content::Text => Ok(vec![Completeness::Trailer("-- Dump completed")]),
            other => Err(format!("it is {}, not a SQL dump", other.describe())),
        }
    }
}

/// A database name as the tools' last argument: after `--` when it starts with `-` (a
/// server may hold a database named `--result-file=/x`, which mysqldump would otherwise read
/// as a flag; BACKUP_SPLIT_DATABASES takes the names from the server).
fn db_args(db: &str) -> Vec<String> {
    if db.starts_with('-') {
        vec!["--".into(), db.into()]
    } else {
        vec![db.into()]
    }
}

/// Client flags for the server: host, port, user and the URI's options
/// (`mysql://…/db?ssl-mode=REQUIRED` → `--ssl-mode=REQUIRED`).
fn connection_args(cfg: &Config) -> Vec<String> {
    let c = &cfg.conn;
    let mut args = Vec::new();
    if let Some(h) = c.host.as_deref().filter(|h| !h.is_empty()) {
        args.push(format!("--host={h}"));
    }
    args.push(format!("--port={}", c.port));
    if let Some(u) = &c.user {
        args.push(format!("--user={u}"));
    }
    if let Some(uri) = &c.uri {
        args.extend(
            uri.query
                .iter()
                .filter(|(k, _)| !crate::uri::is_credential(k))
                .map(|(k, v)| format!("--{k}={v}")),
        );
    }
    args
}

impl MySql {
    fn program(&self) -> &'static str {
        match self.kind {
            EngineKind::Mariadb => "mariadb-dump",
            _ => "mysqldump",
        }
    }
}

/// Restore: the client reads the dump on stdin; before it, short SQL statements (is the
/// target empty? create it, drop it) run through the same client.
impl MySql {
    /// The engine of `kind`, which must be mysql or mariadb.
    pub fn of(kind: EngineKind) -> &'static MySql {
        match kind {
            EngineKind::Mariadb => &MySql::MARIADB,
            _ => &MySql::MYSQL,
        }
    }

    /// The client with the dump's connection flags and `MYSQL_PWD`, then `args`: `mariadb`
    /// (falling back to `mysql`, as the dump falls back to `mysqldump`) or `mysql`; both read
    /// the same option files. DUMP_EXTRA_ARGS are the dump tool's, not the client's: not passed.
    fn client(&self, cfg: &Config, args: Vec<String>) -> DumpCommand {
        let mut all = connection_args(cfg);
        all.extend(args);
        let program = match self.kind {
            EngineKind::Mariadb => "mariadb",
            _ => "mysql",
        };
        let mut cmd =
            DumpCommand::new(program, all).secret_env("MYSQL_PWD", cfg.conn.password.as_ref());
        if self.kind == EngineKind::Mariadb {
            cmd.fallback = Some("mysql".into());
        }
        cmd
    }

    /// `mysql CONN DB`, the dump on stdin: the client stops at the first error (it is not
    /// interactive) and exits non-zero. Without a database (an all-databases dump) the
    /// dump's own `CREATE DATABASE` and `USE` statements say where everything goes.
    pub fn restore_command(&self, cfg: &Config, database: Option<&str>) -> DumpCommand {
        self.client(cfg, database.map(db_args).unwrap_or_default())
    }

    /// `mysql CONN --local-infile=1 DB`: a directory or tar backup's `LOAD DATA LOCAL INFILE`
    /// statements on stdin (the client reads each `TABLE.txt` and sends it; the server must
    /// allow it with `local_infile`).
    pub fn restore_tab_command(&self, cfg: &Config, database: &str) -> DumpCommand {
        let mut args = vec!["--local-infile=1".to_string()];
        args.extend(db_args(database));
        self.client(cfg, args)
    }

    /// `mysql CONN --batch --skip-column-names --execute=SQL`: rows on stdout, one a line,
    /// columns separated by tabs. No default database: `sql` names the ones it means.
    pub fn sql_command(&self, cfg: &Config, sql: &str) -> DumpCommand {
        self.client(
            cfg,
            vec![
                "--batch".into(),
                "--skip-column-names".into(),
                format!("--execute={sql}"),
            ],
        )
    }
}

#[cfg(test)]
mod restore_tests {
    use secrecy::ExposeSecret as _;

    use super::*;
    use crate::cli::CommonArgs;

    fn cfg(kind: EngineKind, edit: impl FnOnce(&mut CommonArgs)) -> Config {
        let mut a = CommonArgs {
            rclone_remote: Some("s3:b".into()),
            backup_schedule: Some("once".into()),
            ..CommonArgs::default()
        };
        edit(&mut a);
        Config::resolve(kind, a).expect("valid config")
    }

    fn argv(d: &DumpCommand) -> String {
        format!("{} {}", d.program, d.args.join(" "))
    }

    fn env(d: &DumpCommand) -> Vec<String> {
        d.env
            .iter()
            .map(|(k, v)| format!("{k}={}", v.expose_secret()))
            .collect()
    }

    #[test]
    fn restore_commands_use_the_dump_connection_and_keep_the_password_off_argv() {
        let host = |a: &mut CommonArgs| {
            a.db_host = Some("db".into());
            a.db_user = Some("app".into());
            a.db_password = Some("pw".into());
            a.db_name = Some("shop".into());
            a.dump_extra_args = Some("--routines --hex-blob".into());
        };
        let c = cfg(EngineKind::Mysql, host);
        let m = MySql::of(c.engine);
        let r = m.restore_command(&c, Some("shop_copy"));
        assert_eq!(argv(&r), "mysql --host=db --port=3306 --user=app shop_copy");
        assert_eq!(r.fallback, None);
        assert_eq!(env(&r), ["MYSQL_PWD=pw"]);
        let q = m.sql_command(&c, "SELECT 1");
        assert_eq!(
            argv(&q),
            "mysql --host=db --port=3306 --user=app --batch --skip-column-names --execute=SELECT 1"
        );
        assert_eq!(env(&q), ["MYSQL_PWD=pw"]);

        let c = cfg(EngineKind::Mariadb, |a| {
            a.db_uri = Some("mariadb://app:s%40cret@db:3307/shop?ssl-mode=REQUIRED".into());
            a.backup_all_databases = Some("true".into());
        });
        let m = MySql::of(c.engine);
        let r = m.restore_command(&c, None);
        assert_eq!(
            argv(&r),
            "mariadb --host=db --port=3307 --user=app --ssl-mode=REQUIRED"
        );
        assert_eq!(r.fallback.as_deref(), Some("mysql"));
        assert_eq!(env(&r), ["MYSQL_PWD=s@cret"]);
        assert!(!argv(&m.sql_command(&c, "SELECT 1")).contains("cret"));
        assert!(r.to_string().starts_with("MYSQL_PWD=*** mariadb "), "{r}");

        // No password: no MYSQL_PWD (the client then reads its option files).
        let c = cfg(EngineKind::Mariadb, |a| {
            a.db_host = Some("db".into());
            a.db_name = Some("shop".into());
        });
        assert!(MySql::of(c.engine)
            .restore_command(&c, Some("shop"))
            .env
            .is_empty());
    }
}
