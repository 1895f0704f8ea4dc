//! Which database engine a configuration is for, and the facts about it that reading the
//! configuration needs: its key, its URI schemes, its default port, whether it needs a
//! database name. Plain data: the engine's behaviour (argv, checks, extensions) lives in
//! [`crate::engine`], which reaches it through `EngineKind::engine`.

use crate::uri::DbUri;

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

    /// The engine's key, as `{engine}` and logs write it.
    pub fn key(self) -> &'static str {
        match self {
            EngineKind::Pg => "pg",
            EngineKind::Mysql => "mysql",
            EngineKind::Mariadb => "mariadb",
            EngineKind::Redis => "redis",
            EngineKind::Mongo => "mongo",
        }
    }

    /// URI schemes accepted in `DB_URI`.
    pub fn uri_schemes(self) -> &'static [&'static str] {
        match self {
            EngineKind::Pg => &["postgresql", "postgres"],
            EngineKind::Mysql | EngineKind::Mariadb => &["mysql", "mariadb"],
            EngineKind::Redis => &["redis", "rediss"],
            EngineKind::Mongo => &["mongodb", "mongodb+srv"],
        }
    }

    pub fn uri_example(self) -> &'static str {
        match self {
            EngineKind::Pg => "postgresql://user:pass@host:5432/mydb?sslmode=require",
            EngineKind::Mysql | EngineKind::Mariadb => "mysql://user:pass@host:3306/mydb",
            EngineKind::Redis => "redis://:pass@host:6379/0",
            EngineKind::Mongo => "mongodb://user:pass@host:27017/mydb?authSource=admin",
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            EngineKind::Pg => 5432,
            EngineKind::Mysql | EngineKind::Mariadb => 3306,
            EngineKind::Redis => 6379,
            EngineKind::Mongo => 27017,
        }
    }

    /// Whether a single-database backup needs a database name. Redis dumps everything: there
    /// DB_NAME is only a label for `{db}`.
    pub fn needs_database(self) -> bool {
        self != EngineKind::Redis
    }

    /// The database a URI names: its path, for most engines. A Redis URI's path is a
    /// database index, which `--rdb` ignores.
    pub fn uri_database(self, uri: &DbUri) -> Option<String> {
        match self {
            EngineKind::Redis => None,
            _ => Some(uri.path.clone()).filter(|p| !p.is_empty()),
        }
    }
}
