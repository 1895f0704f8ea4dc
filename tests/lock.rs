//! The lock path is not trusted: a FIFO, a symlink or a directory there is refused (exit 2 at
//! start, a failed run later) without hanging; a lock held by another process is counted in
//! /metrics and, after repeated skips, turns /healthz 503 with who holds it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::health_limits::daemon;
use crate::support::*;

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

/// Run dbstash with `env`, killed (and the test failed) if it is not done within `secs`: a
/// hang in `open()` must fail the test, not stall it.
fn run_bounded(env: &[(&str, &str)], secs: u64) -> (Option<i32>, String, Duration) {
    let tmp = tempfile::tempdir().unwrap();
    write_script(
        tmp.path(),
        "pg_dump",
        "if [ \"$1\" = --version ]; then echo 'pg_dump (PostgreSQL) 15'; exit 0; fi\necho 'select 1;'",
    );
    write_script(tmp.path(), "psql", "echo 1");
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env(
            "PATH",
            format!(
                "{}:{}",
                tmp.path().display(),
                std::env::var("PATH").unwrap()
            ),
        )
        .env("HOME", tmp.path())
        .env("ENGINE", "pg")
        .env("DB_HOST", "127.0.0.1")
        .env("DB_NAME", "app")
        .env("RCLONE_REMOTE", local_remote(&tmp.path().join("remote")))
        .env("BACKUP_TIMEOUT", "1m")
        .env("HEALTH_ADDR", format!("127.0.0.1:{}", free_port()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "dbstash still running after {secs}s (hung?):\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        start.elapsed(),
    )
}

#[test]
fn a_fifo_a_symlink_or_a_directory_at_the_lock_path_is_exit_2_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo.lock");
    mkfifo(&fifo);
    let precious = tmp.path().join("precious");
    std::fs::write(&precious, "do not truncate").unwrap();
    let link = tmp.path().join("link.lock");
    std::os::unix::fs::symlink(&precious, &link).unwrap();
    let dangling = tmp.path().join("dangling.lock");
    std::os::unix::fs::symlink(tmp.path().join("nowhere"), &dangling).unwrap();
    let dir = tmp.path().join("dir.lock");
    std::fs::create_dir(&dir).unwrap();
    for (path, what) in [
        (&fifo, "is a FIFO"),
        (&link, "is a symbolic link"),
        (&dangling, "is a symbolic link"),
        (&dir, "is a directory"),
    ] {
        let lock = path.display().to_string();
        for schedule in ["once", "*/2 * * * * *"] {
            let (code, stderr, took) = run_bounded(
                &[("BACKUP_LOCK_FILE", &lock), ("BACKUP_SCHEDULE", schedule)],
                10,
            );
            assert_eq!(code, Some(2), "{what}, {schedule}: {stderr}");
            assert!(
                stderr.contains(&format!("BACKUP_LOCK_FILE={lock} {what}")),
                "{what}, {schedule}: {stderr}"
            );
            assert!(took < Duration::from_secs(5), "{what}: took {took:?}");
        }
    }
    assert_eq!(
        std::fs::read_to_string(&precious).unwrap(),
        "do not truncate"
    );
    assert!(!tmp.path().join("nowhere").exists(), "nothing created");
    // BACKUP_LOCK=false takes no lock, so the path is not looked at.
    if require("rclone", s3::INSTALL).is_some() {
        let lock = fifo.display().to_string();
        let (code, stderr, _) = run_bounded(
            &[
                ("BACKUP_LOCK_FILE", &lock),
                ("BACKUP_LOCK", "false"),
                ("BACKUP_SCHEDULE", "once"),
            ],
            20,
        );
        assert_eq!(code, Some(0), "{stderr}");
    }
}

#[test]
fn a_fifo_planted_after_start_fails_the_run_and_sigterm_still_works() {
    let tmp = tempfile::tempdir().unwrap();
    let lock = tmp.path().join("dbstash.lock");
    let lock_s = lock.display().to_string();
    let Some(d) = daemon("*/2 * * * * *", &[("BACKUP_LOCK_FILE", &lock_s)], None) else {
        return;
    };
    wait_for("a first backup", 20, || !d.backups().is_empty());
    // Between runs, the regular file is swapped for a FIFO (no reader: a blocking open for
    // writing would hang forever).
    wait_for("the lock free", 10, || {
        std::fs::read_to_string(&lock).is_ok_and(|c| c.is_empty())
    });
    std::fs::remove_file(&lock).unwrap();
    mkfifo(&lock);
    wait_for("a failed run", 10, || d.get("/healthz").0 == 503);
    let (_, body) = d.get("/healthz");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "failing", "{body}");
    assert!(
        json["last_error"]
            .as_str()
            .unwrap()
            .contains(&format!("BACKUP_LOCK_FILE={lock_s} is a FIFO")),
        "{body}"
    );
    let started = Instant::now();
    let (code, stderr) = d.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(5), "{stderr}");
}

#[test]
fn a_lock_held_elsewhere_is_counted_and_turns_healthz_503_until_released() {
    let tmp = tempfile::tempdir().unwrap();
    let lock = tmp.path().join("shared/dbstash.lock");
    let lock_s = lock.display().to_string();
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    // A stuck holder: this test process, through flock(2) as dbstash uses it.
    let held = std::fs::File::create(&lock).unwrap();
    held.lock().unwrap();
    let Some(d) = daemon("*/2 * * * * *", &[("BACKUP_LOCK_FILE", &lock_s)], None) else {
        return;
    };
    wait_for("503 after repeated skips", 20, || {
        d.get("/healthz").0 == 503
    });
    let (_, body) = d.get("/healthz");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "skipping", "{body}");
    assert!(json["consecutive_skips"].as_u64().unwrap() >= 3, "{body}");
    assert!(json["last_skip"].is_string(), "{body}");
    let reason = json["skip_reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("BACKUP_LOCK_FILE={lock_s}"))
            && reason.contains(&format!("held by pid {}", std::process::id())),
        "the reason names the lock and its holder: {body}"
    );
    assert!(d.backups().is_empty());
    let (_, metrics) = d.get("/metrics");
    let skipped = metrics
        .lines()
        .find(|l| l.starts_with("dbstash_backups_total{") && l.contains("result=\"skipped\""))
        .and_then(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("{metrics}"));
    assert!(skipped >= 3.0, "{metrics}");

    // The holder lets go: the next run takes the lock, succeeds, and /healthz is 200 again.
    drop(held);
    wait_for("200 after a run", 10, || d.get("/healthz").0 == 200);
    let (_, body) = d.get("/healthz");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "ok", "{body}");
    assert_eq!(json["consecutive_skips"], 0, "{body}");
    assert!(json["skip_reason"].is_null(), "{body}");
    wait_for("a backup", 10, || !d.backups().is_empty());
    let (code, stderr) = d.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("backup skipped: another run still holds the lock"),
        "{stderr}"
    );
}
