//! A throwaway Redis with a password (`requirepass`) and a least-privilege ACL user for
//! backups, on a free loopback port; plus fresh servers that load a backup's RDB so its
//! keys can be compared with the source's.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::*;

pub const PASSWORD: &str = "Redis-Secret-7";
/// An ACL user allowed nothing but what `redis-cli --rdb` sends (SYNC, REPLCONF).
pub const BACKUP_USER: &str = "backup";
pub const BACKUP_PASSWORD: &str = "Backup-Only-9";
pub const INSTALL: &str = "apt-get install -y redis-server redis-tools";

/// Databases a seed writes to (0 is the default, 3 checks that every db is in the RDB).
pub const SEEDED_DBS: [u32; 2] = [0, 3];

pub struct Redis {
    pub port: u16,
    pub dir: PathBuf,
}

/// The test binary's shared server (with the ACL user), started on first use.
pub fn server() -> Option<&'static Redis> {
    static R: OnceLock<Option<Redis>> = OnceLock::new();
    R.get_or_init(|| {
        let r = launch(server_dir("dbstash-redis-"))?;
        r.cli_ok(&[
            "ACL",
            "SETUSER",
            BACKUP_USER,
            "reset",
            "on",
            &format!(">{BACKUP_PASSWORD}"),
            "+sync",
            "+replconf",
        ]);
        Some(r)
    })
    .as_ref()
}

/// A fresh server that starts from `rdb` (copied in as its `dump.rdb`), with the same
/// password as the shared one. Panics if Redis cannot load the file.
pub fn load_rdb(rdb: &Path) -> Option<Redis> {
    let dir = server_dir("dbstash-redis-load-");
    std::fs::copy(rdb, dir.join("dump.rdb")).unwrap();
    let r = launch(dir)?;
    let log = std::fs::read_to_string(r.dir.join("server.log")).unwrap_or_default();
    assert!(
        log.contains("Done loading RDB"),
        "Redis did not load {}:\n{log}",
        rdb.display()
    );
    Some(r)
}

/// `redis-check-rdb FILE` must accept the file; returns its report.
pub fn check_rdb(rdb: &Path) -> Option<String> {
    let tool = require("redis-check-rdb", INSTALL)?;
    let out = Command::new(tool).arg(rdb).output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "redis-check-rdb {}: {report}",
        rdb.display()
    );
    Some(report)
}

fn launch(dir: PathBuf) -> Option<Redis> {
    let server = require("redis-server", INSTALL)?;
    require("redis-cli", INSTALL)?;
    let port = free_port();
    let log = std::fs::File::create(dir.join("server.log")).unwrap();
    let mut cmd = Command::new(server);
    cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--dir"])
        .arg(&dir)
        .args(["--dbfilename", "dump.rdb"])
        // Diskless replication starts at once instead of waiting 5 s for more replicas.
        .args(["--repl-diskless-sync-delay", "0"])
        .args(["--requirepass", PASSWORD])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    spawn_server(cmd, &dir, libc::SIGTERM);
    let r = Redis { port, dir };
    // PING fails (connection refused, or -LOADING) until the server is ready.
    let deadline = Instant::now() + Duration::from_secs(30);
    while r.try_cli(&["PING"]).as_deref() != Ok("PONG") {
        assert!(
            Instant::now() < deadline,
            "Redis did not start: {}",
            std::fs::read_to_string(r.dir.join("server.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(r)
}

/// `s` as one redis-cli argument on its stdin: double-quoted, every byte outside printable
/// ASCII as `\xHH`.
fn quote(s: &[u8]) -> String {
    let mut q = String::from("\"");
    for &b in s {
        match b {
            b'"' | b'\\' => {
                q.push('\\');
                q.push(b as char);
            }
            0x20..=0x7e => q.push(b as char),
            _ => q.push_str(&format!("\\x{b:02x}")),
        }
    }
    q.push('"');
    q
}

impl Redis {
    /// redis-cli for this server as the default user, the password in `REDISCLI_AUTH`.
    pub fn cli(&self) -> Command {
        let mut c = Command::new("redis-cli");
        c.env("REDISCLI_AUTH", PASSWORD)
            .args(["--no-auth-warning", "-h", "127.0.0.1", "-p"])
            .arg(self.port.to_string());
        c
    }

    /// One command; redis-cli exits 0 on most server errors, so those are checked by callers.
    pub fn try_cli(&self, args: &[&str]) -> Result<String, String> {
        let out = self.cli().args(args).output().unwrap();
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// One command that must answer OK.
    pub fn cli_ok(&self, args: &[&str]) {
        let out = self
            .try_cli(args)
            .unwrap_or_else(|e| panic!("redis-cli {args:?}: {e}"));
        assert_eq!(out, "OK", "redis-cli {args:?}");
    }

    /// Run `commands` (each a list of raw arguments) in `db` through one redis-cli, and
    /// return one JSON reply per command (`--quoted-json`: ASCII-safe, one line each).
    pub fn batch(&self, db: u32, commands: &[Vec<Vec<u8>>]) -> Vec<serde_json::Value> {
        let script: String = commands
            .iter()
            .map(|c| {
                let args: Vec<String> = c.iter().map(|a| quote(a)).collect();
                args.join(" ") + "\n"
            })
            .collect();
        let mut child = self
            .cli()
            .args(["-n", &db.to_string(), "--quoted-json"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "redis-cli batch: {}{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        let replies: Vec<serde_json::Value> = stdout
            .lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("redis-cli reply {l:?}: {e}"))
            })
            .collect();
        assert_eq!(replies.len(), commands.len(), "one reply per command:\n{stdout}");
        replies
    }

    /// Keys of every type, in databases 0 and 3, all named `<prefix>:…`; returns the prefix.
    /// Values hold quotes, spaces, newlines, NUL and 0xFF bytes and 4-byte UTF-8; the large
    /// list, hash and set use Redis' big encodings (quicklist, hashtable) as well.
    pub fn seed(&self, prefix: &str) -> String {
        let p = unique(prefix);
        let cmd = |parts: &[&[u8]]| -> Vec<Vec<u8>> { parts.iter().map(|s| s.to_vec()).collect() };
        let k = |name: &str| format!("{p}:{name}").into_bytes();
        let big = |n: usize, f: &dyn Fn(usize) -> Vec<Vec<u8>>| -> Vec<Vec<u8>> {
            (0..n).flat_map(f).collect()
        };
        let mut db0 = vec![
            cmd(&[b"SET", &k("str"), "plain ünïcode 🐘 \"quoted\" value".as_bytes()]),
            cmd(&[b"SET", &k("bin"), b"\x00\xff\r\n\\ binary"]),
            cmd(&[b"SET", &k("ttl"), b"expires tomorrow", b"EX", b"86400"]),
            cmd(&[b"HSET", &k("hash"), b"f1", b"v1", b"field two", "ü\nnewline".as_bytes()]),
            cmd(&[b"RPUSH", &k("list"), b"a", b"b c", b"x\ny", b"a"]),
            cmd(&[b"SADD", &k("set"), b"m1", b"m2", "m3 ✓".as_bytes()]),
            cmd(&[b"ZADD", &k("zset"), b"1", b"a", b"2.5", b"b", b"-3", b"c"]),
        ];
        let mut rpush = vec![b"RPUSH".to_vec(), k("biglist")];
        rpush.extend(big(1000, &|i| vec![format!("element {i}").into_bytes()]));
        let mut hset = vec![b"HSET".to_vec(), k("bighash")];
        hset.extend(big(600, &|i| {
            vec![format!("f{i}").into_bytes(), format!("v{i}").repeat(5).into_bytes()]
        }));
        let mut sadd = vec![b"SADD".to_vec(), k("bigset")];
        sadd.extend(big(600, &|i| vec![format!("{i}").into_bytes()]));
        db0.extend([rpush, hset, sadd]);
        let db3 = vec![
            cmd(&[b"SET", &k("db3str"), b"in db 3"]),
            cmd(&[b"HSET", &k("db3hash"), b"a", b"1", b"b", b"2"]),
            cmd(&[b"SADD", &k("db3set"), b"x", b"y"]),
            cmd(&[b"LPUSH", &k("db3list"), b"1", b"2", b"3"]),
        ];
        for (db, cmds) in [(0, db0), (3, db3)] {
            for reply in self.batch(db, &cmds) {
                assert!(
                    !reply.as_str().is_some_and(|s| s.starts_with("(error)")),
                    "seeding: {reply}"
                );
            }
        }
        p
    }

    /// Every key named `<prefix>:…` in every database, with its type, value and whether it
    /// expires, one sorted line per key (sets and hashes normalised).
    pub fn contents(&self, prefix: &str) -> String {
        let mut lines = Vec::new();
        for db in 0..16 {
            let out = self
                .cli()
                .args(["-n", &db.to_string(), "--scan", "--pattern"])
                .arg(format!("{prefix}:*"))
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let keys: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_string)
                .collect();
            if keys.is_empty() {
                continue;
            }
            let types = self.batch(
                db,
                &keys
                    .iter()
                    .map(|k| vec![b"TYPE".to_vec(), k.clone().into_bytes()])
                    .collect::<Vec<_>>(),
            );
            let mut cmds = Vec::new();
            for (key, ty) in keys.iter().zip(&types) {
                let ty = ty.as_str().unwrap_or_else(|| panic!("TYPE {key}: {ty}"));
                let read: &[&str] = match ty {
                    "string" => &["GET"],
                    "hash" => &["HGETALL"],
                    "list" => &["LRANGE", "0", "-1"],
                    "set" => &["SMEMBERS"],
                    "zset" => &["ZRANGE", "0", "-1", "WITHSCORES"],
                    other => panic!("unexpected type {other} of {key}"),
                };
                let mut c = vec![read[0].as_bytes().to_vec(), key.clone().into_bytes()];
                c.extend(read[1..].iter().map(|a| a.as_bytes().to_vec()));
                cmds.push(c);
                cmds.push(vec![b"PTTL".to_vec(), key.clone().into_bytes()]);
            }
            let replies = self.batch(db, &cmds);
            for ((key, ty), pair) in keys.iter().zip(&types).zip(replies.chunks(2)) {
                let mut value = pair[0].clone();
                if let serde_json::Value::Array(items) = &mut value {
                    if ty == "set" {
                        items.sort_by_key(|v| v.to_string());
                    }
                }
                let ttl = match pair[1].as_i64() {
                    Some(-1) => "persistent",
                    Some(t) if t > 0 => "expires",
                    _ => panic!("PTTL {key}: {}", pair[1]),
                };
                // serde_json's map is sorted, so hashes print in a stable order.
                lines.push(format!("db{db} {key} {} {ttl} {value}", ty.as_str().unwrap()));
            }
        }
        lines.sort();
        lines.join("\n")
    }

    pub fn uri(&self, db: u32) -> String {
        format!("redis://:{PASSWORD}@127.0.0.1:{}/{db}", self.port)
    }

    /// dbstash; redis-cli is on PATH already.
    pub fn dbstash(&self) -> Dbstash {
        Dbstash::new()
    }
}
