//! The health endpoint's limits through the real binary on loopback: thousands of idle
//! connections, slowloris, half-sent requests and clients that never read cannot exhaust
//! dbstash's file descriptors, lock probes out, or stop a scheduled backup.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// The listener's limits (src/health/server.rs), as the tests rely on them.
const CAP: usize = 128;
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
const LIFETIME: Duration = Duration::from_secs(10);

/// A daemon with a fake pg_dump and psql on PATH that answer at once, uploading with the real
/// rclone to `:local:`.
pub(crate) struct Daemon {
    child: Option<Child>,
    pub port: u16,
    pub remote: PathBuf,
    _tmp: tempfile::TempDir,
}

/// Start dbstash in daemon mode on `schedule`. `nofile`: its open-files limit (soft and
/// hard), as a container's default would set it.
pub(crate) fn daemon(schedule: &str, env: &[(&str, &str)], nofile: Option<u64>) -> Option<Daemon> {
    require("rclone", s3::INSTALL)?;
    let tmp = tempfile::tempdir().unwrap();
    let fake = tmp.path().join("bin");
    std::fs::create_dir(&fake).unwrap();
    write_script(
        &fake,
        "pg_dump",
        "if [ \"$1\" = --version ]; then echo 'pg_dump (PostgreSQL) 15'; exit 0; fi\necho 'create table t(x int);'",
    );
    write_script(&fake, "psql", "echo 1");
    let remote = tmp.path().join("remote");
    let port = free_port();
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env(
            "PATH",
            format!("{}:{}", fake.display(), std::env::var("PATH").unwrap()),
        )
        .env("HOME", tmp.path())
        .env("ENGINE", "pg")
        .env("DB_HOST", "127.0.0.1")
        .env("DB_NAME", "app")
        .env("RCLONE_REMOTE", local_remote(&remote))
        .env("BACKUP_SCHEDULE", schedule)
        .env("BACKUP_NAME_TEMPLATE", "{db}-{date}-{time}-{uuid}")
        .env("BACKUP_TEMP_DIR", tmp.path().join("work"))
        .env("BACKUP_TIMEOUT", "1m")
        .env("HEALTH_ADDR", format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(n) = nofile {
        unsafe {
            cmd.pre_exec(move || {
                let lim = libc::rlimit {
                    rlim_cur: n,
                    rlim_max: n,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let child = cmd.spawn().unwrap();
    wait_for_port(port, "dbstash health endpoint");
    Some(Daemon {
        child: Some(child),
        port,
        remote,
        _tmp: tmp,
    })
}

impl Daemon {
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        http_get(self.port, path)
    }

    /// Backups on the remote (their sidecars checked).
    pub fn backups(&self) -> Vec<String> {
        let files = files_in(&self.remote);
        files
            .iter()
            .filter(|f| f.ends_with(".sql") && files.contains(&format!("{f}.sha256")))
            .cloned()
            .collect()
    }

    /// The file descriptors dbstash holds now.
    pub fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .unwrap()
            .count()
    }

    /// Child processes running now, other than dbstash's own helpers (its watchdog runs the
    /// same executable).
    fn children(&self) -> usize {
        let exe = |pid: &str| std::fs::read_link(format!("/proc/{pid}/exe")).ok();
        let own = exe(&self.pid().to_string());
        std::fs::read_dir(format!("/proc/{}/task", self.pid()))
            .unwrap()
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("children")).ok())
            .flat_map(|c| c.split_whitespace().map(&exe).collect::<Vec<_>>())
            .filter(|child| child.is_some() && *child != own)
            .count()
    }

    /// CPU time used so far (user + system).
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap();
        // Fields after the command name (which may hold spaces): utime and stime are the
        // 12th and 13th.
        let rest = stat.rsplit_once(')').unwrap().1;
        let f: Vec<u64> = rest
            .split_whitespace()
            .skip(11)
            .take(2)
            .map(|v| v.parse().unwrap())
            .collect();
        let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
        Duration::from_millis((f[0] + f[1]) * 1000 / tick)
    }

    /// SIGTERM while no backup runs (so the exit is 0), then the exit code and everything
    /// dbstash logged.
    pub fn stop(mut self) -> (Option<i32>, String) {
        wait_for("no backup running", 20, || {
            try_get_body(self.port, "/healthz").is_some_and(|b| b.contains("\"running\":false"))
        });
        let child = self.child.take().unwrap();
        unsafe {
            libc::kill(child.id() as i32, libc::SIGTERM);
        }
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Raise this test process's open-files limit so it can hold `want` sockets; how many it may
/// open (fewer when the hard limit is low).
fn allow_fds(want: usize) -> usize {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        let need = (want as u64 + 512).min(lim.rlim_max);
        if lim.rlim_cur < need {
            lim.rlim_cur = need;
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
        }
    }
    // Other tests in this binary hold files too: leave them room.
    want.min(lim.rlim_cur.saturating_sub(512) as usize)
}

/// Read until the server closes the connection (or `limit` passes): how long that took and
/// what was read. `None` when still open after `limit`.
fn closed_within(s: &mut TcpStream, limit: Duration) -> Option<(Duration, Vec<u8>)> {
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = limit.checked_sub(start.elapsed())?;
        s.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        match s.read(&mut buf) {
            Ok(0) => return Some((start.elapsed(), got)),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some((start.elapsed(), got))
            }
            Err(_) => return None,
        }
    }
}

fn connect(port: u16) -> TcpStream {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("connecting to the health endpoint: {e} (not accepting?)"))
}

/// The value of the sample `name{...label...}` in Prometheus text.
fn metric(text: &str, name: &str, label: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) && l.contains(label))
        .find_map(|l| l.rsplit_once(' ')?.1.parse().ok())
        .unwrap_or_else(|| panic!("no {name}{{{label}}} in\n{text}"))
}

/// `GET path`, or `None` when the connection fails or closes without an answer.
fn try_get(port: u16, path: &str) -> Option<u16> {
    try_get_raw(port, path)?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn try_get_body(port: u16, path: &str) -> Option<String> {
    Some(
        try_get_raw(port, path)?
            .split_once("\r\n\r\n")?
            .1
            .to_string(),
    )
}

fn try_get_raw(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).ok()?;
    Some(raw)
}

#[test]
fn two_thousand_idle_connections_starve_neither_probes_nor_backups() {
    // 1,024 open files, as many containers get by default: before the limits, 1,100 idle
    // connections used them all and the backups failed with "Too many open files".
    let Some(d) = daemon("*/2 * * * * *", &[], Some(1024)) else {
        return;
    };
    let n = allow_fds(2000);
    wait_for("a first backup", 20, || !d.backups().is_empty());
    let base = d.fds();

    let opened = Instant::now();
    let idle: Vec<TcpStream> = (0..n).map(|_| connect(d.port)).collect();
    let opened = opened.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    let held = d.fds();
    assert!(
        held <= base + CAP + 8,
        "dbstash holds {held} fds with {n} idle connections open (at rest: {base}, cap {CAP})"
    );

    // A fresh probe is answered at once: the newest connection evicts the oldest.
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let t = Instant::now();
        let (code, body) = d.get("/healthz");
        slowest = slowest.max(t.elapsed());
        assert_eq!(code, 200, "{body}");
    }
    assert!(slowest < Duration::from_secs(1), "probe took {slowest:?}");

    // Backups go on meanwhile.
    let before = d.backups().len();
    wait_for("two more backups during the flood", 15, || {
        d.backups().len() >= before + 2
    });
    let during = d.fds();
    let (_, metrics) = d.get("/metrics");
    let evicted = metric(
        &metrics,
        "dbstash_http_connections_closed_total",
        "reason=\"evicted\"",
    );
    assert!(evicted >= (n - CAP) as f64, "{metrics}");
    assert_eq!(
        metric(&metrics, "dbstash_backups_total", "result=\"failure\""),
        0.0,
        "{metrics}"
    );
    eprintln!(
        "{n} idle connections opened in {opened:?}: dbstash held {held} fds (at rest {base}, \
         after two more backups {during}); slowest of 20 probes {slowest:?}; evicted {evicted}"
    );
    drop(idle);
    let (code, stderr) = d.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("Too many open files"), "{stderr}");
}

/// Connect, send `request`, then read until the server closes: in a thread, timed from the
/// send. `None` when still open after 20 s.
fn until_closed(
    port: u16,
    request: Vec<u8>,
) -> std::thread::JoinHandle<Option<(Duration, Vec<u8>)>> {
    std::thread::spawn(move || {
        let mut s = connect(port);
        s.write_all(&request).unwrap();
        closed_within(&mut s, Duration::from_secs(20))
    })
}

#[test]
fn slow_half_sent_and_unread_requests_are_dropped() {
    let Some(d) = daemon("0 2 * * *", &[], None) else {
        return;
    };
    let port = d.port;
    let bound = HEADER_TIMEOUT + Duration::from_secs(2);

    // Slowloris: one byte a second, never a complete head. Between bytes it waits for the
    // server to close (a read returning EOF or a reset).
    let slowloris = std::thread::spawn(move || {
        let mut s = connect(port);
        s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        let start = Instant::now();
        let mut buf = [0u8; 64];
        for b in b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaa" {
            if s.write_all(&[*b]).is_err() {
                return Some(start.elapsed());
            }
            match s.read(&mut buf) {
                Ok(0) => return Some(start.elapsed()),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                    return Some(start.elapsed())
                }
                _ => {}
            }
        }
        None
    });
    // A head that stops half-way.
    let half_head = until_closed(
        port,
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n".to_vec(),
    );
    // A body announced and never finished: answered, then closed (the endpoints read none).
    let half_body = until_closed(
        port,
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n0123".to_vec(),
    );
    // A keep-alive connection left idle after its response.
    let idle = until_closed(
        port,
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_vec(),
    );
    // Headers beyond the limit: 431 at once.
    let mut big = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ".to_vec();
    big.extend(std::iter::repeat_n(b'a', 10_000));
    big.extend(b"\r\n\r\n");
    let big = until_closed(port, big);
    // A client that pipelines requests and never reads the responses.
    let unread = std::thread::spawn(move || {
        let s = connect(port);
        s.set_write_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let start = Instant::now();
        let burst = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".repeat(50);
        while start.elapsed() < LIFETIME + Duration::from_secs(5) {
            match (&s).write(&burst) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => return Some(start.elapsed()),
            }
        }
        None
    });

    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let (took, got) = big.join().unwrap().expect("oversized head: closed");
    assert!(got.starts_with(b"HTTP/1.1 431"), "{took:?}: {}", text(&got));
    assert!(took < Duration::from_secs(1), "{took:?}");
    let (took, got) = half_body.join().unwrap().expect("half body: closed");
    assert!(got.starts_with(b"HTTP/1.1 200"), "{took:?}: {}", text(&got));
    assert!(took < Duration::from_secs(1), "half body held {took:?}");
    let (took_head, got) = half_head.join().unwrap().expect("half head: closed");
    assert!(got.is_empty(), "{}", text(&got));
    assert!(took_head <= bound, "half head held {took_head:?}");
    let (took_idle, got) = idle.join().unwrap().expect("idle keep-alive: closed");
    assert!(got.starts_with(b"HTTP/1.1 200"), "{}", text(&got));
    assert!(took_idle <= bound, "idle keep-alive held {took_idle:?}");
    let slow = slowloris.join().unwrap().expect("slowloris dropped");
    assert!(slow <= bound, "slowloris held {slow:?}");
    let unread = unread.join().unwrap().expect("non-reading client dropped");
    assert!(
        unread <= LIFETIME + Duration::from_secs(3),
        "non-reading client held {unread:?}"
    );
    eprintln!(
        "dropped after: half head {took_head:?}, idle keep-alive {took_idle:?}, slowloris \
         {slow:?}, non-reading pipeliner {unread:?}"
    );

    // Nothing of theirs is left, and the endpoint still answers.
    wait_for("connections closed", 5, || {
        let (_, m) = d.get("/metrics");
        metric(&m, "dbstash_http_connections", "") <= 1.0
    });
    let (_, m) = d.get("/metrics");
    assert!(
        metric(
            &m,
            "dbstash_http_connections_closed_total",
            "reason=\"header_timeout\""
        ) >= 3.0,
        "{m}"
    );
    assert_eq!(d.get("/healthz").0, 200);
    let (code, stderr) = d.stop();
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn a_failing_accept_backs_off_instead_of_spinning() {
    let Some(d) = daemon("0 2 * * *", &[], None) else {
        return;
    };
    // Let the start-up check's children come and go first.
    std::thread::sleep(Duration::from_secs(1));
    wait_for("the start-up check's children gone", 20, || {
        d.children() == 0
    });
    // Lower dbstash's open-files limit to the lowest free descriptor: every accept() now
    // fails with EMFILE while the connections wait in the backlog.
    let pid = d.pid() as libc::pid_t;
    let used: std::collections::BTreeSet<u64> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().parse().unwrap())
        .collect();
    let lowest_free = (0..).find(|n| !used.contains(n)).unwrap();
    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    let low = libc::rlimit {
        rlim_cur: lowest_free,
        rlim_max: libc::RLIM_INFINITY,
    };
    unsafe {
        assert_eq!(
            libc::prlimit(pid, libc::RLIMIT_NOFILE, std::ptr::null(), &mut old),
            0
        );
        let low = libc::rlimit {
            rlim_max: old.rlim_max,
            ..low
        };
        assert_eq!(
            libc::prlimit(pid, libc::RLIMIT_NOFILE, &low, std::ptr::null_mut()),
            0
        );
    }
    let conns: Vec<TcpStream> = (0..50).map(|_| connect(d.port)).collect();
    std::thread::sleep(Duration::from_millis(300));
    let cpu = d.cpu();
    std::thread::sleep(Duration::from_secs(2));
    let spent = d.cpu() - cpu;
    unsafe {
        assert_eq!(
            libc::prlimit(pid, libc::RLIMIT_NOFILE, &old, std::ptr::null_mut()),
            0
        );
    }
    assert!(
        spent < Duration::from_millis(300),
        "dbstash used {spent:?} of CPU in 2 s while accept() failed"
    );
    drop(conns);
    // With descriptors to spare again, probes are answered.
    wait_for("a probe answered", 10, || {
        try_get(d.port, "/healthz") == Some(200)
    });
    let (code, stderr) = d.stop();
    assert_eq!(code, Some(0), "{stderr}");
    let warnings = stderr
        .lines()
        .filter(|l| l.contains("accepting a connection failed"))
        .count();
    assert_eq!(warnings, 1, "one warning a minute at most:\n{stderr}");
    assert!(stderr.contains("Too many open files"), "{stderr}");
    eprintln!("EMFILE for 2 s: dbstash used {spent:?} of CPU");
}
