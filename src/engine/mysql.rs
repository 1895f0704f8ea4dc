//! MySQL (`mysqldump`) and MariaDB (`mariadb-dump`, falling back to `mysqldump`): plain SQL
//! to stdout, consistent InnoDB snapshots with `--single-transaction`.

use super::{compress_noop_warning, disk_flag_warnings, DumpCommand, Engine, EngineKind};
use crate::config::{Config, ConfigError};

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

    fn uri_schemes(&self) -> &'static [&'static str] {
        &["mysql", "mariadb"]
    }

    fn uri_example(&self) -> &'static str {
        "mysql://user:pass@host:3306/mydb"
    }

    fn default_port(&self) -> u16 {
        3306
    }

    fn check(&self, cfg: &Config) -> Result<Vec<String>, ConfigError> {
        let mut w = compress_noop_warning(
            cfg,
            "the dump tool has no native compression; the dump is plain SQL",
        );
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
            args.push(db.clone());
        }
        let mut cmd =
            DumpCommand::new(self.program(), args).secret_env("MYSQL_PWD", c.password.as_ref());
        if self.kind == EngineKind::Mariadb {
            cmd.fallback = Some("mysqldump".into());
        }
        cmd
    }

    /// `mysql -e 'SELECT 1' DB` (`mariadb`, falling back to `mysql`) with the dump's
    /// connection flags and `MYSQL_PWD`; both clients read the same option files. DUMP_EXTRA_ARGS
    /// are the dump tool's, not the client's: not passed.
    fn check_command(&self, cfg: &Config) -> DumpCommand {
        let c = &cfg.conn;
        let mut args = connection_args(cfg);
        args.extend(["--batch", "--skip-column-names", "--execute=SELECT 1"].map(String::from));
        if let Some(db) = &c.database {
            args.push(db.clone());
        }
        let program = match self.kind {
            EngineKind::Mariadb => "mariadb",
            _ => "mysql",
        };
        let mut cmd = DumpCommand::new(program, args).secret_env("MYSQL_PWD", c.password.as_ref());
        if self.kind == EngineKind::Mariadb {
            cmd.fallback = Some("mysql".into());
        }
        cmd
    }

    fn check_replies(&self) -> &'static [&'static str] {
        &["1"]
    }

    fn auto_extension(&self, _cfg: &Config) -> String {
        ".sql".into()
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
