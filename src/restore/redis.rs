//! `dbstash restore redis`: a server cannot load an RDB snapshot over the wire, only from
//! its own file when it starts. So the verified RDB goes to `--output PATH` (see
//! `write_output` in the parent module), and dbstash prints the steps to load it, with the
//! server's `dir`, `dbfilename` and `appendonly` when the configured connection may read
//! them (`redis-cli CONFIG GET`; a backup user limited to `+sync +replconf` may not: then
//! the steps say where to look).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use super::{query, Done};
use crate::config::Config;
use crate::engine::Redis;

/// How long `CONFIG GET` may take: the steps are printed either way.
const CONFIG_LIMIT: Duration = Duration::from_secs(10);

/// What `CONFIG GET` told about where the server keeps its data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerFiles {
    pub dir: Option<String>,
    pub dbfilename: Option<String>,
    pub appendonly: Option<String>,
}

/// The replies of [`Redis::CONFIG_INPUT`]: each setting's name on a line, its value on the
/// next. Error replies (`NOPERM …`, `NOAUTH …`) leave the settings unknown.
pub fn parse_config(out: &str) -> ServerFiles {
    let lines: Vec<&str> = out.lines().collect();
    let value = |name: &str| {
        lines
            .iter()
            .position(|l| l.trim() == name)
            .and_then(|i| lines.get(i + 1))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    ServerFiles {
        dir: value("dir"),
        dbfilename: value("dbfilename"),
        appendonly: value("appendonly"),
    }
}

/// Ask the server where it keeps its RDB; an error says why it could not.
async fn server_files(cfg: &Config) -> Result<ServerFiles, String> {
    let dc = Redis.config_command(cfg);
    let asked = query(&dc, Some(Redis::CONFIG_INPUT.as_bytes()));
    let out = match tokio::time::timeout(CONFIG_LIMIT, asked).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => return Err(format!("{e:#}")),
        Err(_) => return Err("no answer".into()),
    };
    let files = parse_config(&out);
    if files.dir.is_none() || files.dbfilename.is_none() {
        let first = out
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("nothing");
        return Err(format!("redis-cli answered {first:?}"));
    }
    Ok(files)
}

/// The steps to load the RDB at `rdb` into the configured server, for stdout.
pub async fn steps(cfg: &Config, rdb: &Path, done: &Done) -> String {
    let files = server_files(cfg).await;
    if let Err(e) = &files {
        tracing::info!(
            reason = %e,
            "could not read the server's dir and dbfilename (CONFIG GET): the steps name them generically"
        );
    }
    render_steps(cfg, rdb, done, files.as_ref().ok())
}

/// [`steps`] for what `CONFIG GET` told (`None`: nothing).
pub fn render_steps(cfg: &Config, rdb: &Path, done: &Done, files: Option<&ServerFiles>) -> String {
    let rdb = std::path::absolute(rdb).unwrap_or_else(|_| rdb.to_path_buf());
    let server = format!(
        "{}:{}",
        cfg.conn.host.as_deref().unwrap_or("127.0.0.1"),
        cfg.conn.port
    );
    let mut s = String::new();
    let _ = writeln!(
        s,
        "The RDB snapshot is in {} ({} bytes{}, mode 0600).",
        rdb.display(),
        done.bytes,
        if done.verified {
            ", SHA-256 checked"
        } else {
            ", NOT checked: no .sha256 sidecar"
        }
    );
    let _ = writeln!(
        s,
        "A Redis server loads an RDB only when it starts. To load it into the server at {server}:"
    );
    let _ = writeln!(
        s,
        "  1. Stop the server: redis-cli -h {} -p {} SHUTDOWN NOSAVE (or stop its service or container).",
        cfg.conn.host.as_deref().unwrap_or("127.0.0.1"),
        cfg.conn.port
    );
    match files.and_then(|f| Some((f.dir.as_deref()?, f.dbfilename.as_deref()?))) {
        Some((dir, name)) => {
            let target = Path::new(dir).join(name);
            let _ = writeln!(
                s,
                "  2. Copy the file over the server's RDB file ({dir}/{name}, from CONFIG GET dir and dbfilename), owned by the user Redis runs as:\n       cp {} {}",
                rdb.display(),
                target.display()
            );
        }
        None => {
            let _ = writeln!(
                s,
                "  2. Copy the file over the server's RDB file, owned by the user Redis runs as: its directory and name are the settings dir and dbfilename (redis-cli CONFIG GET dir, CONFIG GET dbfilename; often /data/dump.rdb in containers, /var/lib/redis/dump.rdb in packages)."
            );
        }
    }
    let aof = "With appendonly yes the server loads its AOF at start, not the RDB: start it once with appendonly no (redis-server ... --appendonly no), then run redis-cli CONFIG SET appendonly yes, which writes a new AOF from the loaded data (and CONFIG REWRITE or the config file to keep it on).";
    match files.and_then(|f| f.appendonly.as_deref()) {
        Some("yes") => {
            let _ = writeln!(s, "  3. This server has appendonly yes. {aof}");
        }
        Some(_) => {
            let _ = writeln!(
                s,
                "  3. This server has appendonly no: it loads the RDB at start. (If you turn AOF on in its configuration first: {aof})"
            );
        }
        None => {
            let _ = writeln!(s, "  3. AOF: {aof}");
        }
    }
    let _ = writeln!(
        s,
        "  4. Start the server; its log says \"DB loaded from disk\". Check with redis-cli INFO keyspace."
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_replies_are_read_by_name() {
        assert_eq!(
            parse_config("dir\n/data\ndbfilename\ndump.rdb\nappendonly\nyes\n"),
            ServerFiles {
                dir: Some("/data".into()),
                dbfilename: Some("dump.rdb".into()),
                appendonly: Some("yes".into()),
            }
        );
        assert_eq!(
            parse_config("NOPERM this user has no permissions to run the 'config|get' command\n\n"),
            ServerFiles::default()
        );
        assert_eq!(parse_config("dir\n"), ServerFiles::default());
    }

    fn cfg() -> Config {
        Config::resolve(
            crate::engine::EngineKind::Redis,
            crate::cli::CommonArgs {
                db_host: Some("cache".into()),
                db_password: Some("pw".into()),
                rclone_remote: Some("s3:b".into()),
                backup_schedule: Some("once".into()),
                ..Default::default()
            },
        )
        .unwrap()
    }

    #[test]
    fn the_steps_name_the_servers_files_when_known() {
        let done = Done {
            into: "/tmp/x.rdb".into(),
            bytes: 42,
            verified: true,
        };
        let files = ServerFiles {
            dir: Some("/var/lib/redis".into()),
            dbfilename: Some("dump.rdb".into()),
            appendonly: Some("yes".into()),
        };
        let s = render_steps(&cfg(), Path::new("/tmp/x.rdb"), &done, Some(&files));
        for needle in [
            "The RDB snapshot is in /tmp/x.rdb (42 bytes, SHA-256 checked, mode 0600).",
            "the server at cache:6379",
            "redis-cli -h cache -p 6379 SHUTDOWN NOSAVE",
            "cp /tmp/x.rdb /var/lib/redis/dump.rdb",
            "This server has appendonly yes.",
            "CONFIG SET appendonly yes",
            "DB loaded from disk",
        ] {
            assert!(s.contains(needle), "{needle}:\n{s}");
        }
        assert!(!s.contains("pw"), "{s}");
        let s = render_steps(&cfg(), Path::new("/tmp/x.rdb"), &done, None);
        assert!(s.contains("CONFIG GET dir, CONFIG GET dbfilename"), "{s}");
        assert!(s.contains("AOF: With appendonly yes"), "{s}");
    }
}
