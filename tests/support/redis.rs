//! A throwaway Redis with a password (`requirepass`) and a least-privilege ACL user for
//! backups, on a free loopback port; plus fresh servers that load a backup's RDB so its
//! keys can be compared with the source's.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
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
        r.connect(0).ok(&[
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
    let ready = || {
        r.try_connect(0)
            .is_ok_and(|mut c| c.call(&["PING"]) == Reply::Status("PONG".into()))
    };
    while !ready() {
        assert!(
            Instant::now() < deadline,
            "Redis did not start: {}",
            std::fs::read_to_string(r.dir.join("server.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(r)
}

/// A reply of the RESP2 protocol; bulk strings stay bytes, so binary values compare exactly.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reply {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
}

impl Reply {
    fn bytes(&self) -> &[u8] {
        match self {
            Reply::Bulk(Some(b)) => b,
            other => panic!("expected a bulk string, got {other:?}"),
        }
    }

    fn items(self) -> Vec<Reply> {
        match self {
            Reply::Array(items) => items,
            other => panic!("expected an array, got {other:?}"),
        }
    }

    /// One line, bytes outside printable ASCII escaped.
    fn render(&self) -> String {
        match self {
            Reply::Status(s) => s.clone(),
            Reply::Error(e) => format!("(error) {e}"),
            Reply::Int(i) => i.to_string(),
            Reply::Bulk(None) => "(nil)".into(),
            Reply::Bulk(Some(b)) => format!("\"{}\"", b.escape_ascii()),
            Reply::Array(items) => {
                let items: Vec<String> = items.iter().map(Reply::render).collect();
                format!("[{}]", items.join(", "))
            }
        }
    }
}

/// A minimal RESP2 connection: binary-safe where redis-cli's quoting is not (its
/// `--quoted-json` prints `"` inside values unescaped).
pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Reply {
        let mut msg = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            let a = a.as_ref();
            msg.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            msg.extend_from_slice(a);
            msg.extend_from_slice(b"\r\n");
        }
        self.writer.write_all(&msg).unwrap();
        self.read()
    }

    /// A command that must not answer with an error.
    pub fn ok<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Reply {
        let reply = self.call(args);
        if let Reply::Error(e) = &reply {
            let args: Vec<String> = args
                .iter()
                .map(|a| a.as_ref().escape_ascii().to_string())
                .collect();
            panic!("redis {args:?}: {e}");
        }
        reply
    }

    fn read(&mut self) -> Reply {
        let mut line = Vec::new();
        self.reader.read_until(b'\n', &mut line).unwrap();
        assert!(line.ends_with(b"\r\n"), "truncated reply {line:?}");
        let text = String::from_utf8_lossy(&line[1..line.len() - 2]).into_owned();
        let int = || text.parse::<i64>().unwrap();
        match line[0] {
            b'+' => Reply::Status(text),
            b'-' => Reply::Error(text),
            b':' => Reply::Int(int()),
            b'$' if int() < 0 => Reply::Bulk(None),
            b'$' => {
                let mut b = vec![0; int() as usize + 2];
                self.reader.read_exact(&mut b).unwrap();
                b.truncate(b.len() - 2);
                Reply::Bulk(Some(b))
            }
            b'*' => Reply::Array((0..int().max(0)).map(|_| self.read()).collect()),
            _ => panic!("not a RESP reply: {line:?}"),
        }
    }
}

impl Redis {
    /// A connection as the default user, with `db` selected.
    pub fn try_connect(&self, db: u32) -> Result<Conn, String> {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        let mut conn = Conn {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        };
        for cmd in [vec!["AUTH", PASSWORD], vec!["SELECT", &db.to_string()]] {
            if let Reply::Error(e) = conn.call(&cmd) {
                return Err(e);
            }
        }
        Ok(conn)
    }

    pub fn connect(&self, db: u32) -> Conn {
        self.try_connect(db)
            .unwrap_or_else(|e| panic!("connecting to Redis on port {}: {e}", self.port))
    }

    /// Keys of every type, in databases 0 and 3, all named `<prefix>:…`; returns the prefix.
    /// Values hold quotes, spaces, newlines, NUL and 0xFF bytes and 4-byte UTF-8; the large
    /// list, hash and set use Redis' big encodings (quicklist, hashtable) as well.
    pub fn seed(&self, prefix: &str) -> String {
        let p = unique(prefix);
        let k = |name: &str| format!("{p}:{name}").into_bytes();
        let mut c = self.connect(0);
        c.ok(&[
            b"SET".to_vec(),
            k("str"),
            "plain ünïcode 🐘 \"quoted\" value".into(),
        ]);
        c.ok(&[b"SET".to_vec(), k("bin"), b"\x00\xff\r\n\\ binary".to_vec()]);
        c.ok(&[&b"SET"[..], &k("ttl"), b"expires tomorrow", b"EX", b"86400"]);
        c.ok(&[
            &b"HSET"[..],
            &k("hash"),
            b"f1",
            b"v1",
            b"field two",
            "ü\nnewline".as_bytes(),
        ]);
        c.ok(&[&b"RPUSH"[..], &k("list"), b"a", b"b c", b"x\ny", b"a"]);
        c.ok(&[&b"SADD"[..], &k("set"), b"m1", b"m2", "m3 ✓".as_bytes()]);
        c.ok(&[
            &b"ZADD"[..],
            &k("zset"),
            b"1",
            b"a",
            b"2.5",
            b"b",
            b"-3",
            b"c",
        ]);
        let mut rpush = vec![b"RPUSH".to_vec(), k("biglist")];
        rpush.extend((0..1000).map(|i| format!("element {i}").into_bytes()));
        c.ok(&rpush);
        let mut hset = vec![b"HSET".to_vec(), k("bighash")];
        for i in 0..600 {
            hset.push(format!("f{i}").into_bytes());
            hset.push(format!("v{i}").repeat(5).into_bytes());
        }
        c.ok(&hset);
        let mut sadd = vec![b"SADD".to_vec(), k("bigset")];
        sadd.extend((0..600).map(|i| i.to_string().into_bytes()));
        c.ok(&sadd);

        let mut c = self.connect(3);
        c.ok(&[&b"SET"[..], &k("db3str"), b"in db 3"]);
        c.ok(&[&b"HSET"[..], &k("db3hash"), b"a", b"1", b"b", b"2"]);
        c.ok(&[&b"SADD"[..], &k("db3set"), b"x", b"y"]);
        c.ok(&[&b"LPUSH"[..], &k("db3list"), b"1", b"2", b"3"]);
        p
    }

    /// Every key named `<prefix>:…` in every database, with its type, value and whether it
    /// expires, one sorted line per key (set members and hash fields sorted).
    pub fn contents(&self, prefix: &str) -> String {
        let mut lines = Vec::new();
        for db in 0..16 {
            let mut c = self.connect(db);
            let mut keys = Vec::new();
            let mut cursor = b"0".to_vec();
            loop {
                let pattern = format!("{prefix}:*");
                let mut page = c
                    .ok(&[
                        &b"SCAN"[..],
                        &cursor,
                        b"MATCH",
                        pattern.as_bytes(),
                        b"COUNT",
                        b"1000",
                    ])
                    .items();
                keys.extend(page.pop().unwrap().items());
                cursor = page.pop().unwrap().bytes().to_vec();
                if cursor == b"0" {
                    break;
                }
            }
            for key in keys {
                let key = key.bytes().to_vec();
                let Reply::Status(ty) = c.ok(&[&b"TYPE"[..], &key]) else {
                    panic!("TYPE")
                };
                let value = match ty.as_str() {
                    "string" => c.ok(&[&b"GET"[..], &key]),
                    "list" => c.ok(&[&b"LRANGE"[..], &key, b"0", b"-1"]),
                    "zset" => c.ok(&[&b"ZRANGE"[..], &key, b"0", b"-1", b"WITHSCORES"]),
                    "set" => {
                        let mut members = c.ok(&[&b"SMEMBERS"[..], &key]).items();
                        members.sort();
                        Reply::Array(members)
                    }
                    "hash" => {
                        let flat = c.ok(&[&b"HGETALL"[..], &key]).items();
                        let mut pairs: Vec<Reply> =
                            flat.chunks(2).map(|p| Reply::Array(p.to_vec())).collect();
                        pairs.sort();
                        Reply::Array(pairs)
                    }
                    other => panic!("unexpected type {other}"),
                };
                let ttl = match c.ok(&[&b"PTTL"[..], &key]) {
                    Reply::Int(-1) => "persistent",
                    Reply::Int(t) if t > 0 => "expires",
                    other => panic!("PTTL: {other:?}"),
                };
                lines.push(format!(
                    "db{db} {} {ty} {ttl} {}",
                    key.escape_ascii(),
                    value.render()
                ));
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
