//! Daemon mode through the real binary: cron firing, /healthz and /metrics, the lock,
//! BACKUP_TIMEOUT and signals. Fake dumps on PATH make timing deterministic; uploads go
//! through the real rclone to `:local:`.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

struct Daemon {
    child: Option<Child>,
    port: u16,
    remote: PathBuf,
    _tmp: tempfile::TempDir,
    fake: PathBuf,
}

/// A fake pg_dump: fails while `$FAKE_DIR/fail` exists, else prints a small dump.
const TOGGLED_DUMP: &str = r#"echo $$ >> "$FAKE_DIR/dump.pids"
if [ -e "$FAKE_DIR/fail" ]; then echo "pg_dump: error: server closed the connection" >&2; exit 1; fi
echo "create table t(x int);""#;

/// A dump that sends 100 kB, then hangs; records its pid.
const HANGING_DUMP: &str =
    r#"echo $$ > "$FAKE_DIR/dump.pid"; head -c 100000 /dev/zero; exec sleep 60"#;

/// A dump that sends 3 MB (a partial upload appears on the remote), then hangs; records
/// its pid.
const STREAMING_DUMP: &str =
    r#"echo $$ > "$FAKE_DIR/dump.pid"; head -c 3000000 /dev/zero; exec sleep 60"#;

/// The process whose pid `pid_file` holds is gone (or a zombie waiting for init).
fn assert_gone(pid_file: &Path) {
    let pid = std::fs::read_to_string(pid_file).unwrap();
    let proc_dir = format!("/proc/{}", pid.trim());
    wait_until("the dump to die with dbstash", 5, || {
        std::fs::read_to_string(format!("{proc_dir}/stat"))
            .map_or(true, |s| s.split_whitespace().nth(2) == Some("Z"))
    });
}

/// Wait until rclone has written part of an upload into the local remote `dir`.
fn wait_for_partial_upload(dir: &Path) {
    wait_until("a partial upload", 20, || {
        std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .any(|e| e.metadata().is_ok_and(|m| m.len() > 0))
            })
            .unwrap_or(false)
    });
}

/// No process (dump, rclone, anything) still runs with `dir` on its command line.
fn assert_no_process_mentions(dir: &Path) {
    let needle = dir.display().to_string();
    wait_until("no process left for this test", 5, || {
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok())
            .all(|e| {
                let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
                let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
                let zombie = stat.split_whitespace().nth(2) == Some("Z");
                zombie || !String::from_utf8_lossy(&cmdline).contains(&needle)
            })
    });
}

/// Exit code and stderr of a finished run.
fn result(out: &std::process::Output) -> (Option<i32>, String) {
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn start(schedule: &str, dump: &str, extra_env: &[(&str, &str)]) -> Option<Daemon> {
    start_with_psql(schedule, dump, "echo 1", extra_env)
}

/// [`start`] with `psql` (the start-up check's login) as given.
fn start_with_psql(
    schedule: &str,
    dump: &str,
    psql: &str,
    extra_env: &[(&str, &str)],
) -> Option<Daemon> {
    require("rclone", s3::INSTALL)?;
    let tmp = tempfile::tempdir().unwrap();
    let fake = tmp.path().join("bin");
    std::fs::create_dir(&fake).unwrap();
    // The daemon's start-up check asks the dump tool for its version and logs in with psql:
    // both answer at once, so every daemon here starts healthy.
    write_script(
        &fake,
        "pg_dump",
        &format!(
            "if [ \"$1\" = --version ]; then echo 'pg_dump (PostgreSQL) 15'; exit 0; fi\n{dump}"
        ),
    );
    write_script(&fake, "psql", psql);
    let remote = tmp.path().join("remote");
    let port = free_port();
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env(
            "PATH",
            format!("{}:{}", fake.display(), std::env::var("PATH").unwrap()),
        )
        .env("FAKE_DIR", &fake)
        .env("ENGINE", "pg")
        .env("DB_HOST", "127.0.0.1")
        .env("DB_NAME", "app")
        .env("RCLONE_REMOTE", local_remote(&remote))
        .env("BACKUP_SCHEDULE", schedule)
        .env("BACKUP_NAME_TEMPLATE", "{db}-{date}-{time}-{uuid}")
        .env("BACKUP_TEMP_DIR", tmp.path().join("work"))
        .env("HEALTH_ADDR", format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().unwrap();
    wait_for_port(port, "dbstash health endpoint");
    Some(Daemon {
        child: Some(child),
        port,
        remote,
        _tmp: tmp,
        fake,
    })
}

impl Daemon {
    fn get(&self, path: &str) -> (u16, String) {
        http_get(self.port, path)
    }

    fn backups(&self) -> Vec<String> {
        files_in(&self.remote)
            .into_iter()
            .filter(|f| f.ends_with(".sql"))
            .collect()
    }

    fn signal(&self, sig: i32) {
        unsafe {
            libc::kill(self.child.as_ref().unwrap().id() as i32, sig);
        }
    }

    /// `dbstash healthcheck` against this daemon, configured as a container's HEALTHCHECK
    /// would be: by the same HEALTH_ADDR and BACKUP_SCHEDULE. Its exit code.
    fn healthcheck(&self) -> i32 {
        let out = Dbstash::new()
            .args(["healthcheck"])
            .env("HEALTH_ADDR", format!("0.0.0.0:{}", self.port))
            .env("BACKUP_SCHEDULE", "*/2 * * * * *")
            .run();
        out.code
    }

    /// Wait for exit; the exit code and stderr.
    fn finish(mut self) -> (Option<i32>, String, Duration) {
        let started = Instant::now();
        let out = self.child.take().unwrap().wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            started.elapsed(),
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

fn http_get(port: u16, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn wait_until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A tiny Prometheus text parser: every sample line is `name{labels} value`.
fn parse_metrics(text: &str) -> Vec<(String, String, f64)> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (series, value) = l
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("bad sample: {l}"));
            let (name, labels) = series.split_once('{').unwrap_or((series, "}"));
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "bad name: {l}"
            );
            assert!(labels.ends_with('}'), "bad labels: {l}");
            (
                name.to_string(),
                labels.trim_end_matches('}').to_string(),
                value.parse().unwrap_or_else(|_| panic!("bad value: {l}")),
            )
        })
        .collect()
}

fn metric(samples: &[(String, String, f64)], name: &str, label: &str) -> f64 {
    samples
        .iter()
        .find(|(n, l, _)| n == name && l.contains(label))
        .unwrap_or_else(|| panic!("no {name}{{{label}}} in {samples:?}"))
        .2
}

#[test]
fn cron_fires_uploads_and_sigterm_while_idle_exits_0() {
    let Some(d) = start("*/3 * * * * *", TOGGLED_DUMP, &[]) else {
        return;
    };
    wait_until("two scheduled backups", 20, || d.backups().len() >= 2);
    // Signal while idle: wait until no backup is running.
    wait_until("idle", 10, || {
        d.get("/healthz").1.contains("\"running\":false")
    });
    d.signal(libc::SIGTERM);
    let (code, stderr, took) = d.finish();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(took < Duration::from_secs(3), "exit took {took:?}");
    assert!(stderr.contains("next backup scheduled"), "{stderr}");
    assert!(
        stderr.contains("SIGTERM received while idle: exiting"),
        "{stderr}"
    );
    // Each run had its own backup_id.
    let ids: std::collections::HashSet<&str> = stderr
        .lines()
        .filter(|l| l.contains("backup succeeded"))
        .filter_map(|l| l.split("backup_id=").nth(1).map(|r| &r[..8]))
        .collect();
    assert!(ids.len() >= 2, "{stderr}");
}

#[test]
fn healthz_turns_503_after_a_failure_and_back_after_a_success_and_metrics_parse() {
    let Some(d) = start("*/2 * * * * *", TOGGLED_DUMP, &[]) else {
        return;
    };
    let (code, body) = d.get("/healthz");
    assert_eq!(code, 200, "before any run: {body}");
    assert_eq!(
        d.healthcheck(),
        0,
        "`dbstash healthcheck` while /healthz is 200"
    );
    wait_until("a success", 20, || {
        d.get("/healthz").1.contains("\"last_success\":\"")
    });
    assert_eq!(d.get("/healthz").0, 200);

    std::fs::write(d.fake.join("fail"), "").unwrap();
    wait_until("503 after a failed run", 20, || d.get("/healthz").0 == 503);
    let (_, body) = d.get("/healthz");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "failing");
    assert_eq!(
        d.healthcheck(),
        1,
        "`dbstash healthcheck` while /healthz is 503"
    );
    assert!(
        json["last_error"]
            .as_str()
            .unwrap()
            .contains("pg_dump exited with status 1"),
        "{body}"
    );
    assert!(json["next_run"].is_string(), "{body}");

    std::fs::remove_file(d.fake.join("fail")).unwrap();
    wait_until("200 after a good run", 20, || d.get("/healthz").0 == 200);

    let (code, text) = d.get("/metrics");
    assert_eq!(code, 200);
    let m = parse_metrics(&text);
    assert!(
        metric(&m, "dbstash_backups_total", "result=\"success\"") >= 2.0,
        "{text}"
    );
    assert!(
        metric(&m, "dbstash_backups_total", "result=\"failure\"") >= 1.0,
        "{text}"
    );
    assert!(
        metric(
            &m,
            "dbstash_last_success_timestamp_seconds",
            "engine=\"pg\""
        ) > 1.7e9,
        "{text}"
    );
    assert_eq!(
        metric(&m, "dbstash_last_size_bytes", "database=\"app\""),
        "create table t(x int);\n".len() as f64
    );
    assert!(metric(&m, "dbstash_last_duration_seconds", "") > 0.0);
    assert!(metric(&m, "dbstash_next_run_timestamp_seconds", "") > 1.7e9);
    let running = metric(&m, "dbstash_backup_running", "");
    assert!(running == 0.0 || running == 1.0);
    // Failed runs left nothing behind.
    let files = files_in(&d.remote);
    for f in &files {
        if f.ends_with(".sql") {
            assert!(files.contains(&format!("{f}.sha256")), "{files:?}");
        }
    }
    d.signal(libc::SIGTERM);
}

#[test]
fn backup_on_start_then_sigterm_mid_backup_cleans_up_and_exits_1() {
    let slow = r#"echo $$ >> "$FAKE_DIR/dump.pids"; head -c 2000000 /dev/zero; exec sleep 60"#;
    let Some(d) = start("0 2 * * *", slow, &[("BACKUP_ON_START", "true")]) else {
        return;
    };
    wait_for_partial_upload(&d.remote);
    assert!(d.get("/healthz").1.contains("\"running\":true"));
    d.signal(libc::SIGTERM);
    let remote = d.remote.clone();
    let pids = std::fs::read_to_string(d.fake.join("dump.pids")).unwrap();
    let (code, stderr, took) = d.finish();
    assert_eq!(code, Some(1), "{stderr}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(stderr.contains("interrupted by SIGTERM"), "{stderr}");
    assert_eq!(all_files_in(&remote), Vec::<String>::new());
    assert_no_process_mentions(&remote);
    for pid in pids.lines() {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "dump {pid} outlived dbstash"
        );
    }
}

fn once(fake: &Path, remote: &Path, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env(
            "PATH",
            format!("{}:{}", fake.display(), std::env::var("PATH").unwrap()),
        )
        .env("FAKE_DIR", fake)
        .args([
            "pg",
            "--db-host",
            "h",
            "--db-name",
            "app",
            "--backup-schedule",
            "once",
        ])
        .args(["--backup-name-template", "{db}-{uuid}"])
        .arg("--backup-temp-dir")
        .arg(fake.join("work"))
        .arg("--rclone-remote")
        .arg(local_remote(remote))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

#[test]
fn a_second_process_skips_while_the_first_holds_the_lock() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    write_script(
        tmp.path(),
        "pg_dump",
        r#"touch "$FAKE_DIR/started"; sleep 3; echo "select 1;""#,
    );
    let lock = tmp.path().join("shared/dbstash.lock");
    let lock_s = lock.display().to_string();
    let remote = tmp.path().join("remote");
    let first = once(tmp.path(), &remote, &[("BACKUP_LOCK_FILE", &lock_s)])
        .spawn()
        .unwrap();
    wait_until("first dump started", 20, || {
        tmp.path().join("started").exists()
    });
    let (code, err) = result(
        &once(tmp.path(), &remote, &[("BACKUP_LOCK_FILE", &lock_s)])
            .output()
            .unwrap(),
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("backup skipped: another run still holds the lock"),
        "{err}"
    );
    let first = first.wait_with_output().unwrap();
    let (code, err) = result(&first);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(all_files_in(&remote).len(), 2, "one backup and its sidecar");

    // The lock file stays behind, but a stale file never blocks: the OS lock died with its
    // process.
    assert!(lock.exists());
    let third = once(tmp.path(), &remote, &[("BACKUP_LOCK_FILE", &lock_s)])
        .output()
        .unwrap();
    let (code, err) = result(&third);
    assert_eq!(code, Some(0), "{err}");
    // And BACKUP_LOCK=false does not take it at all.
    let held = std::fs::File::open(&lock).unwrap();
    held.lock().unwrap();
    let fourth = once(
        tmp.path(),
        &remote,
        &[("BACKUP_LOCK_FILE", &lock_s), ("BACKUP_LOCK", "false")],
    )
    .output()
    .unwrap();
    let (code, err) = result(&fourth);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn backup_timeout_kills_the_dump_and_leaves_nothing() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    write_script(tmp.path(), "pg_dump", HANGING_DUMP);
    let remote = tmp.path().join("remote");
    let started = Instant::now();
    let (code, err) = result(
        &once(tmp.path(), &remote, &[("BACKUP_TIMEOUT", "2s")])
            .output()
            .unwrap(),
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(err.contains("timed out after 2s"), "{err}");
    assert_eq!(all_files_in(&remote), Vec::<String>::new());
    assert_gone(&tmp.path().join("dump.pid"));
    assert_no_process_mentions(tmp.path());
}

#[test]
fn sigterm_mid_backup_in_once_mode_stops_children_and_leaves_nothing() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // Several MB reach rclone (a partial file appears under the final name) before the signal.
    write_script(tmp.path(), "pg_dump", STREAMING_DUMP);
    let remote = tmp.path().join("remote");
    let child = once(tmp.path(), &remote, &[]).spawn().unwrap();
    wait_for_partial_upload(&remote);
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let started = Instant::now();
    let (code, err) = result(&child.wait_with_output().unwrap());
    assert_eq!(code, Some(1), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(err.contains("interrupted by SIGTERM"), "{err}");
    assert_eq!(
        all_files_in(&remote),
        Vec::<String>::new(),
        "partial object removed: {err}"
    );
    assert_gone(&tmp.path().join("dump.pid"));
    assert_no_process_mentions(tmp.path());
}

#[test]
fn once_mode_serves_no_health_endpoint() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    write_script(tmp.path(), "pg_dump", r#"echo "select 1;""#);
    // Hold the port: a bind attempt would fail the run.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = held.local_addr().unwrap().to_string();
    let (code, err) = result(
        &once(
            tmp.path(),
            &tmp.path().join("remote"),
            &[("HEALTH_ADDR", &addr)],
        )
        .output()
        .unwrap(),
    );
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn children_die_with_dbstash_even_on_sigkill_and_no_truncated_backup_stays() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    write_script(tmp.path(), "pg_dump", STREAMING_DUMP);
    let remote = tmp.path().join("remote");
    let mut child = once(tmp.path(), &remote, &[]).spawn().unwrap();
    wait_for_partial_upload(&remote);
    child.kill().unwrap(); // SIGKILL: no handler runs
    child.wait().unwrap();
    assert_gone(&tmp.path().join("dump.pid"));
    // rclone too (it has the remote dir on its command line).
    assert_no_process_mentions(tmp.path());
    // The local remote renames server-side, so the upload went to a hidden staging name:
    // nothing truncated stands under a backup's name.
    assert_eq!(files_in(&remote), Vec::<String>::new());
    let staged = all_files_in(&remote);
    assert_eq!(staged.len(), 1, "{staged:?}");
    assert!(
        staged[0].starts_with(".app-") && staged[0].contains(".sql.partial-"),
        "{staged:?}"
    );
}

#[test]
fn stale_staging_uploads_of_this_config_are_removed_and_others_kept() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    write_script(tmp.path(), "pg_dump", r#"echo "select 1;""#);
    let remote = tmp.path().join("remote");
    std::fs::create_dir(&remote).unwrap();
    let old = |name: &str, age: &str| {
        std::fs::write(remote.join(name), "partial").unwrap();
        assert!(Command::new("touch")
            .args(["-d", age])
            .arg(remote.join(name))
            .status()
            .unwrap()
            .success());
    };
    old(".app-0123abcd.sql.partial-deadbeef", "2 days ago"); // ours, stale: goes
    old(".app-4567abcd.sql.partial-feedface", "10 minutes ago"); // ours, maybe in progress: stays
    old(".other-0123abcd.sql.partial-deadbeef", "2 days ago"); // another database's: stays
    old(".app-0123abcd.sql.partial-notours", "2 days ago"); // not our pattern: stays
    let (code, err) = result(&once(tmp.path(), &remote, &[]).output().unwrap());
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("deleted a stale partial upload of a killed run"),
        "{err}"
    );
    let all = all_files_in(&remote);
    assert!(
        !all.contains(&".app-0123abcd.sql.partial-deadbeef".to_string()),
        "{all:?}"
    );
    for kept in [
        ".app-4567abcd.sql.partial-feedface",
        ".other-0123abcd.sql.partial-deadbeef",
        ".app-0123abcd.sql.partial-notours",
    ] {
        assert!(all.contains(&kept.to_string()), "{kept} must stay: {all:?}");
    }
    assert_eq!(
        files_in(&remote).len(),
        2,
        "the new backup and its sidecar: {all:?}"
    );
}

#[test]
fn runs_due_during_a_long_backup_are_skipped_with_a_warning() {
    let slow = r#"sleep 3; echo "select 1;""#;
    let Some(d) = start("*/2 * * * * *", slow, &[]) else {
        return;
    };
    // The warning follows the end of the run at once; /healthz shows that end. (The file
    // appearing is not enough: the sidecar and retention follow it, and a signal during
    // those stops the run before the warning.)
    wait_until("a first run to finish", 30, || {
        d.get("/healthz").1.contains("\"last_success\":\"")
    });
    d.signal(libc::SIGTERM);
    let (_, stderr, _) = d.finish();
    assert!(
        stderr.contains("scheduled runs skipped: the previous backup was still running"),
        "{stderr}"
    );
}

#[test]
fn a_run_due_while_the_start_up_check_runs_is_taken_late_not_skipped() {
    // Once a day, 3 s from now; the start-up check's login takes 6 s (a database slow to
    // answer, a login timing out).
    let at = chrono::Utc::now() + chrono::Duration::seconds(3);
    let schedule = at.format("%S %M %H * * *").to_string();
    let Some(d) = start_with_psql(&schedule, TOGGLED_DUMP, "sleep 6; echo 1", &[]) else {
        return;
    };
    wait_until("the day's backup", 30, || !d.backups().is_empty());
}
