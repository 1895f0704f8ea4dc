//! The tool commands: `healthcheck` against hostile and absent peers, `completions`, `man`
//! and `--version`. The daemon-backed healthcheck cases live in `daemon.rs`.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::support::*;

fn healthcheck(addr: &str) -> (Output, Duration) {
    let started = Instant::now();
    let out = Dbstash::new()
        .args(["healthcheck"])
        .env("HEALTH_ADDR", addr)
        .env("BACKUP_SCHEDULE", "0 2 * * *")
        .run();
    (out, started.elapsed())
}

/// A one-connection peer on a free loopback port that answers with `reply` (None: accepts
/// and says nothing until the client gives up).
fn peer(reply: Option<&'static [u8]>) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(15)))
            .unwrap();
        match reply {
            Some(bytes) => {
                let mut buf = [0u8; 1024];
                let _ = conn.read(&mut buf);
                let _ = conn.write_all(bytes);
            }
            // Hold the connection open until the client closes it.
            None => {
                let mut sink = Vec::new();
                let _ = conn.read_to_end(&mut sink);
            }
        }
    });
    (addr, handle)
}

#[test]
fn healthcheck_passes_in_once_mode_without_any_endpoint() {
    let out = Dbstash::new()
        .args(["healthcheck"])
        .env("BACKUP_SCHEDULE", " ONCE ")
        .env("HEALTH_ADDR", "127.0.0.1:1")
        .run();
    out.assert_code(0);
    assert!(out.stdout.contains("once"), "{}", out.stdout);
}

#[test]
fn healthcheck_fails_with_1_never_2_when_nothing_answers_or_the_address_is_bad() {
    // A port nobody listens on: bind, note the port, close.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let (out, _) = healthcheck(&closed);
    out.assert_code(1);
    assert!(out.stdout.starts_with("unhealthy:"), "{}", out.stdout);

    // Docker reserves exit code 2: a bad HEALTH_ADDR is unhealthy, and says why.
    let (out, _) = healthcheck("localhost");
    out.assert_code(1);
    assert!(out.stdout.contains("HEALTH_ADDR"), "{}", out.stdout);
}

#[test]
fn healthcheck_reads_the_status_and_never_trusts_a_peer() {
    let (addr, h) = peer(Some(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"));
    healthcheck(&addr).0.assert_code(0);
    h.join().unwrap();

    let (addr, h) = peer(Some(
        b"HTTP/1.1 503 Service Unavailable\r\n\r\n{\"status\":\"failing\"}",
    ));
    let (out, _) = healthcheck(&addr);
    out.assert_code(1);
    assert!(out.stdout.contains("failing"), "{}", out.stdout);
    h.join().unwrap();

    for junk in [
        &b"SSH-2.0-OpenSSH_9.2\r\n"[..],
        b"",
        b"HTTP/1.1 2000000 OK\r\n\r\n",
    ] {
        let (addr, h) = peer(Some(junk));
        healthcheck(&addr).0.assert_code(1);
        h.join().unwrap();
    }
}

#[test]
fn healthcheck_gives_up_on_a_peer_that_never_answers() {
    let (addr, h) = peer(None);
    let (out, took) = healthcheck(&addr);
    out.assert_code(1);
    assert!(out.stdout.contains("within"), "{}", out.stdout);
    // Well inside Docker's default HEALTHCHECK timeout of 30 s.
    assert!(took < Duration::from_secs(15), "took {took:?}");
    h.join().unwrap();
}

#[test]
fn completions_and_man_come_from_the_cli() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = Dbstash::new().args(["completions", shell]).run();
        out.assert_code(0);
        assert!(
            out.stdout.contains("rclone-remote"),
            "{shell}: {}",
            out.stdout
        );
    }
    let bad = Dbstash::new().args(["completions", "tcsh"]).run();
    bad.assert_code(2);
    assert!(bad.stderr.contains("bash"), "{}", bad.stderr);

    let man = Dbstash::new().args(["man"]).run();
    man.assert_code(0);
    assert!(man.stdout.contains(".TH dbstash 1"), "{}", man.stdout);
    assert!(man.stdout.contains("RCLONE_REMOTE"));
}

#[test]
fn tool_commands_ignore_a_containers_backup_environment() {
    // In an image, ENGINE and the whole backup configuration are in the environment, some
    // of it invalid for a backup: the tool commands must not care.
    let out = Dbstash::new()
        .args(["completions", "bash"])
        .env("ENGINE", "pg")
        .env("RETENTION_MAX_FILES", "lots")
        .run();
    out.assert_code(0);
}

#[test]
fn version_names_the_build() {
    let out = Dbstash::new().args(["--version"]).run();
    out.assert_code(0);
    let line = out.stdout.trim();
    // Tests build without DBSTASH_VERSION: the development marker must show.
    assert_eq!(
        line,
        format!(
            "dbstash {}-dev (development build)",
            env!("CARGO_PKG_VERSION")
        )
    );
}
