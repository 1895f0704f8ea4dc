//! Redis: `redis-cli --rdb -` streams the server's RDB snapshot (every database) to stdout.

use super::{Completeness, Content, DumpCommand, Engine, EngineKind};
use crate::config::{BackupMode, Config, ConfigError};

pub struct Redis;

impl Engine for Redis {
    fn kind(&self) -> EngineKind {
        EngineKind::Redis
    }

    fn key(&self) -> &'static str {
        "redis"
    }

    fn check(&self, cfg: &Config) -> Result<Vec<String>, ConfigError> {
        if cfg.mode != BackupMode::Stream {
            return Err(ConfigError::var(
                "BACKUP_MODE",
                "redis supports only `stream`: an RDB snapshot is a single file",
            ));
        }
        if cfg.native_compress() {
            return Ok(vec![
                "BACKUP_COMPRESS alone has no effect for redis: an RDB snapshot is already compact (set BACKUP_COMPRESS_ALGO=zstd to compress it in-process anyway)".into(),
            ]);
        }
        Ok(Vec::new())
    }

    fn dump_command(&self, cfg: &Config) -> DumpCommand {
        let mut args = connection_args(cfg);
        args.extend(["--rdb".to_string(), "-".to_string()]);
        args.extend(cfg.dump_extra_args.iter().cloned());
        DumpCommand::new("redis-cli", args).secret_env("REDISCLI_AUTH", cfg.conn.password.as_ref())
    }

    /// `redis-cli PING` with the dump's flags (DUMP_EXTRA_ARGS included: they are redis-cli's
    /// own, e.g. `--cacert`) and `REDISCLI_AUTH`. redis-cli exits 0 even when the server
    /// answers `NOAUTH`, so the reply decides.
    fn check_command(&self, cfg: &Config) -> DumpCommand {
        let mut args = connection_args(cfg);
        args.extend(cfg.dump_extra_args.iter().cloned());
        args.push("PING".into());
        DumpCommand::new("redis-cli", args).secret_env("REDISCLI_AUTH", cfg.conn.password.as_ref())
    }

    /// `NOPERM` is a login too: a least-privilege backup user may run only what `--rdb`
    /// needs (`+sync +replconf`), not PING.
    fn check_replies(&self) -> &'static [&'static str] {
        &["PONG", "NOPERM"]
    }

    fn auto_extension(&self, _cfg: &Config) -> String {
        ".rdb".into()
    }

    /// An RDB is compact already (its strings LZF-compressed).
    fn native_compression(&self, _cfg: &Config) -> bool {
        true
    }

    fn known_extensions(&self) -> &'static [&'static str] {
        &[".rdb", ".rdb.zst", ".rdb.gz"]
    }

    /// `redis-check-rdb FILE` reads the whole snapshot and its checksum; where it is not
    /// installed (it comes with redis-tools / redis-server) the check is skipped, said so.
    fn completeness(&self, _cfg: &Config, content: Content) -> Result<Vec<Completeness>, String> {
        match content {
            Content::Rdb => Ok(vec![Completeness::Tool {
                program: "redis-check-rdb",
                args: &[],
                optional: true,
            }]),
            other => Err(format!(
                "it is {}, not a Redis RDB snapshot",
                other.describe()
            )),
        }
    }
}

fn connection_args(cfg: &Config) -> Vec<String> {
    let c = &cfg.conn;
    let mut args = vec![
        "-h".to_string(),
        c.host
            .clone()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "127.0.0.1".into()),
        "-p".to_string(),
        c.port.to_string(),
    ];
    if let Some(u) = &c.user {
        args.extend(["--user".to_string(), u.clone()]);
    }
    if c.uri.as_ref().is_some_and(|u| u.scheme == "rediss") {
        args.push("--tls".into());
    }
    args
}

/// Restore: a server loads an RDB only at start, so dbstash writes the file and asks the
/// server where it keeps its own ([`Redis::config_command`]) to print the steps.
impl Redis {
    /// What [`Redis::config_command`] reads on stdin: the settings that say where the server
    /// loads its RDB from, and whether it loads an AOF instead. Never `CONFIG GET *`: that
    /// would print `requirepass`.
    pub const CONFIG_INPUT: &'static str =
        "CONFIG GET dir\nCONFIG GET dbfilename\nCONFIG GET appendonly\n";

    /// `redis-cli` with the dump's connection and flags (DUMP_EXTRA_ARGS included, as for the
    /// connection check) and `REDISCLI_AUTH`, reading [`Redis::CONFIG_INPUT`] on stdin. It
    /// prints each reply's name and value on lines of their own; a user without the right
    /// to run CONFIG gets `NOPERM …` (and exit 0).
    pub fn config_command(&self, cfg: &Config) -> DumpCommand {
        let mut args = connection_args(cfg);
        args.extend(cfg.dump_extra_args.iter().cloned());
        DumpCommand::new("redis-cli", args).secret_env("REDISCLI_AUTH", cfg.conn.password.as_ref())
    }
}

#[cfg(test)]
mod restore_tests {
    use secrecy::ExposeSecret as _;

    use super::*;
    use crate::cli::CommonArgs;

    #[test]
    fn the_config_query_uses_the_dump_connection() {
        let c = Config::resolve(
            EngineKind::Redis,
            CommonArgs {
                db_uri: Some("rediss://backup:s3cret@cache:6390/2".into()),
                dump_extra_args: Some("--cacert /ca.pem".into()),
                rclone_remote: Some("s3:b".into()),
                backup_schedule: Some("once".into()),
                ..CommonArgs::default()
            },
        )
        .unwrap();
        let q = Redis.config_command(&c);
        assert_eq!(
            format!("{} {}", q.program, q.args.join(" ")),
            "redis-cli -h cache -p 6390 --user backup --tls --cacert /ca.pem"
        );
        let env: Vec<String> = q
            .env
            .iter()
            .map(|(k, v)| format!("{k}={}", v.expose_secret()))
            .collect();
        assert_eq!(env, ["REDISCLI_AUTH=s3cret"]);
        assert!(!Redis::CONFIG_INPUT.contains('*'));
    }
}
