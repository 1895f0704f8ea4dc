//! HOOK_PRE_BACKUP and HOOK_POST_BACKUP through the real binary, with a fake `pg_dump` on
//! PATH and the real rclone writing to `:local:`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// A dump that records that it ran.
const RECORDING_DUMP: &str = r#"echo ran >> "$FAKE_DIR/dump.ran"; echo "create table t(x int);""#;

fn backup(fake: &Path, remote: &Path) -> Dbstash {
    Dbstash::new()
        .fake_bin(fake)
        .env("FAKE_DIR", fake)
        .env("ENGINE", "pg")
        .env("DB_HOST", "127.0.0.1")
        .env("DB_NAME", "app")
        .env("DB_PASSWORD", "hunter2-secret")
        .env("BACKUP_SCHEDULE", "once")
        .env("BACKUP_NAME_TEMPLATE", "{db}-{uuid}")
        .env("RCLONE_REMOTE", local_remote(remote))
}

/// `KEY=value` lines a hook wrote with `env > FILE`, as pairs.
fn env_file(path: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn get<'a>(vars: &'a [(String, String)], key: &str) -> &'a str {
    vars.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("{key} not set: {vars:?}"))
}

#[test]
fn post_hook_sees_what_the_backup_wrote_and_no_secret() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    write_script(tmp.path(), "pg_dump", RECORDING_DUMP);
    let remote = tmp.path().join("remote");
    let out = backup(tmp.path(), &remote)
        .env(
            "HOOK_PRE_BACKUP",
            r#"env > "$FAKE_DIR/pre.env"; echo pre-hook says hi"#,
        )
        .env(
            "HOOK_POST_BACKUP",
            r#"env > "$FAKE_DIR/post.env"; echo post-hook complains >&2"#,
        )
        .env("DB_URI", "postgresql://u:uri-secret@127.0.0.1/app")
        // A complete email setup (never used: NOTIFY_ON=failure and the backup succeeds).
        .env("NOTIFY_EMAIL_TO", "ops@example.com")
        .env("NOTIFY_EMAIL_FROM", "dbstash@example.com")
        .env("SMTP_HOST", "127.0.0.1")
        .env("SMTP_USER", "u")
        .env("SMTP_PASSWORD", "smtp-secret")
        .env("NOTIFY_WEBHOOK_URL", "http://127.0.0.1:9/hook-secret")
        .run();
    out.assert_code(0);
    assert!(out.stderr.contains("pre-hook says hi"), "{}", out.stderr);
    assert!(out.stderr.contains("post-hook complains"), "{}", out.stderr);

    let backup = single_backup(&remote, ".sql");
    let post = env_file(&tmp.path().join("post.env"));
    assert_eq!(get(&post, "DBSTASH_STATUS"), "success");
    assert_eq!(get(&post, "DBSTASH_STAGE"), "backup");
    assert_eq!(get(&post, "DBSTASH_ENGINE"), "pg");
    assert_eq!(get(&post, "DBSTASH_DATABASE"), "app");
    assert!(
        get(&post, "DBSTASH_FILE").ends_with(&file_name(&backup)),
        "{post:?}"
    );
    assert_eq!(
        get(&post, "DBSTASH_SIZE"),
        std::fs::metadata(&backup).unwrap().len().to_string()
    );
    assert_eq!(get(&post, "DBSTASH_SHA256"), sha256_hex(&backup));
    assert!(get(&post, "DBSTASH_DURATION_MS").parse::<u64>().is_ok());
    assert_eq!(get(&post, "DBSTASH_ERROR"), "");
    assert_eq!(get(&post, "DBSTASH_BACKUP_ID").len(), 8);

    let pre = env_file(&tmp.path().join("pre.env"));
    assert_eq!(get(&pre, "DBSTASH_FILE"), get(&post, "DBSTASH_FILE"));
    assert!(!pre.iter().any(|(k, _)| k == "DBSTASH_STATUS"), "{pre:?}");

    for (name, vars) in [("pre", &pre), ("post", &post)] {
        for secret_var in [
            "DB_PASSWORD",
            "DB_URI",
            "SMTP_PASSWORD",
            "NOTIFY_WEBHOOK_URL",
        ] {
            assert!(
                !vars.iter().any(|(k, _)| k == secret_var),
                "{name} hook got {secret_var}"
            );
        }
        let text = std::fs::read_to_string(tmp.path().join(format!("{name}.env"))).unwrap();
        for secret in ["hunter2-secret", "uri-secret", "smtp-secret", "hook-secret"] {
            assert!(!text.contains(secret), "{name} hook saw {secret}");
        }
    }
}

#[test]
fn failing_pre_hook_aborts_before_the_dump_and_the_post_hook_hears_of_it() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    write_script(tmp.path(), "pg_dump", RECORDING_DUMP);
    let remote = tmp.path().join("remote");
    let out = backup(tmp.path(), &remote)
        .env("HOOK_PRE_BACKUP", "echo replica lag too high >&2; exit 3")
        .env("HOOK_POST_BACKUP", r#"env > "$FAKE_DIR/post.env""#)
        .run();
    out.assert_code(1);
    assert!(!tmp.path().join("dump.ran").exists(), "the dump ran");
    assert!(
        out.stderr.contains("HOOK_PRE_BACKUP failed"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("replica lag too high"),
        "{}",
        out.stderr
    );
    assert_eq!(all_files_in(&remote), Vec::<String>::new());

    let post = env_file(&tmp.path().join("post.env"));
    assert_eq!(get(&post, "DBSTASH_STATUS"), "failure");
    assert_eq!(get(&post, "DBSTASH_STAGE"), "pre_hook");
    assert!(
        get(&post, "DBSTASH_ERROR").contains("exited with status 3"),
        "{post:?}"
    );
    assert_eq!(get(&post, "DBSTASH_SIZE"), "");
}

#[test]
fn failing_post_hook_is_a_warning_and_a_failed_backup_still_runs_it() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    write_script(tmp.path(), "pg_dump", RECORDING_DUMP);
    let remote = tmp.path().join("remote");
    let out = backup(tmp.path(), &remote)
        .env("HOOK_POST_BACKUP", "exit 7")
        .run();
    out.assert_code(0);
    assert!(
        out.stderr.contains("HOOK_POST_BACKUP failed"),
        "{}",
        out.stderr
    );
    single_backup(&remote, ".sql");

    write_script(
        tmp.path(),
        "pg_dump",
        r#"echo "pg_dump: error: connection refused" >&2; exit 1"#,
    );
    let out = backup(tmp.path(), &remote)
        .env("HOOK_POST_BACKUP", r#"env > "$FAKE_DIR/post.env""#)
        .run();
    out.assert_code(1);
    let post = env_file(&tmp.path().join("post.env"));
    assert_eq!(get(&post, "DBSTASH_STATUS"), "failure");
    assert_eq!(get(&post, "DBSTASH_STAGE"), "backup");
    assert!(
        get(&post, "DBSTASH_ERROR").contains("connection refused"),
        "{post:?}"
    );
    assert!(get(&post, "DBSTASH_FILE").contains("app-"), "{post:?}");
}

/// A pre hook that forks a long sleep and records both pids.
const HANGING_HOOK: &str =
    r#"echo $$ > "$FAKE_DIR/hook.pid"; sleep 300 & echo $! > "$FAKE_DIR/sleep.pid"; wait"#;

fn assert_pids_gone(dir: &Path) {
    for file in ["hook.pid", "sleep.pid"] {
        let pid = std::fs::read_to_string(dir.join(file)).unwrap();
        let stat = format!("/proc/{}/stat", pid.trim());
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::fs::read_to_string(&stat).is_ok_and(|s| s.split_whitespace().nth(2) != Some("Z"))
        {
            assert!(
                Instant::now() < deadline,
                "{file} ({}) outlived the hook",
                pid.trim()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn pre_hook_past_backup_timeout_is_killed_with_its_children() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    write_script(tmp.path(), "pg_dump", RECORDING_DUMP);
    let remote = tmp.path().join("remote");
    let started = Instant::now();
    let out = backup(tmp.path(), &remote)
        .env("HOOK_PRE_BACKUP", HANGING_HOOK)
        .env("BACKUP_TIMEOUT", "2s")
        .run();
    out.assert_code(1);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert!(out.stderr.contains("timed out after 2s"), "{}", out.stderr);
    assert!(!tmp.path().join("dump.ran").exists(), "the dump ran");
    assert_pids_gone(tmp.path());
}

#[test]
fn sigterm_during_the_pre_hook_kills_it_and_skips_the_post_hook() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    write_script(tmp.path(), "pg_dump", RECORDING_DUMP);
    let remote = tmp.path().join("remote");
    let child = Command::new(BIN)
        .env_clear()
        .env(
            "PATH",
            format!(
                "{}:{}",
                tmp.path().display(),
                std::env::var("PATH").unwrap()
            ),
        )
        .env("FAKE_DIR", tmp.path())
        .env("ENGINE", "pg")
        .env("DB_HOST", "127.0.0.1")
        .env("DB_NAME", "app")
        .env("BACKUP_SCHEDULE", "once")
        .env("BACKUP_TEMP_DIR", tmp.path().join("work"))
        .env("RCLONE_REMOTE", local_remote(&remote))
        .env("HOOK_PRE_BACKUP", HANGING_HOOK)
        .env("HOOK_POST_BACKUP", r#"touch "$FAKE_DIR/post.ran""#)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !tmp.path().join("sleep.pid").exists() {
        assert!(Instant::now() < deadline, "the hook never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("interrupted by SIGTERM"), "{stderr}");
    assert!(stderr.contains("HOOK_POST_BACKUP not run"), "{stderr}");
    assert!(!tmp.path().join("post.ran").exists());
    assert!(!tmp.path().join("dump.ran").exists());
    assert_pids_gone(tmp.path());
}

#[test]
fn a_tool_that_echoes_the_password_never_carries_it_into_logs_or_hooks() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    write_script(
        tmp.path(),
        "pg_dump",
        r#"echo "pg_dump: error: auth failed for password $PGPASSWORD" >&2; exit 1"#,
    );
    let remote = tmp.path().join("remote");
    let out = backup(tmp.path(), &remote)
        .env(
            "HOOK_POST_BACKUP",
            r#"printf %s "$DBSTASH_ERROR" > "$FAKE_DIR/error""#,
        )
        .run();
    out.assert_code(1);
    assert!(!out.stderr.contains("hunter2-secret"), "{}", out.stderr);
    assert!(
        out.stderr.contains("auth failed for password ***"),
        "{}",
        out.stderr
    );
    let error = std::fs::read_to_string(tmp.path().join("error")).unwrap();
    assert!(error.contains("auth failed for password ***"), "{error}");
    assert!(!error.contains("hunter2-secret"), "{error}");
}

/// Wait until the process whose pid is in `file` is gone (or a zombie); fail after 5 s.
fn assert_gone(file: &Path) {
    let pid = std::fs::read_to_string(file).unwrap();
    let stat = format!("/proc/{}/stat", pid.trim());
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::fs::read_to_string(&stat).is_ok_and(|s| s.split_whitespace().nth(2) != Some("Z")) {
        if Instant::now() > deadline {
            unsafe { libc::kill(pid.trim().parse().unwrap(), libc::SIGKILL) };
            panic!("{} ({}) outlived the hook", file.display(), pid.trim());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_process_that_leaves_the_hooks_group_neither_holds_up_the_run_nor_outlives_the_hook() {
    if require("rclone", s3::INSTALL).is_none()
        || require("setsid", "apt-get install -y util-linux").is_none()
    {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    write_script(tmp.path(), "pg_dump", RECORDING_DUMP);
    let remote = tmp.path().join("remote");
    // A daemonizing command (setsid, `ssh -f`, a service start script) leaves the hook's
    // process group and keeps the hook's stdout and stderr open.
    let (out, _) = backup(tmp.path(), &remote)
        .env(
            "HOOK_PRE_BACKUP",
            r#"setsid sh -c 'echo $$ > "$FAKE_DIR/escaped.pid"; exec sleep 300' &
while [ ! -s "$FAKE_DIR/escaped.pid" ]; do sleep 0.05; done; echo pre hook done"#,
        )
        .run_within(Duration::from_secs(30));
    out.assert_code(0);
    single_backup(&remote, ".sql");
    assert!(out.stderr.contains("pre hook done"), "{}", out.stderr);
    assert_gone(&tmp.path().join("escaped.pid"));

    // One that also cleared its environment cannot be found; the run still goes on.
    let (out, _) = backup(tmp.path(), &remote)
        .env(
            "HOOK_POST_BACKUP",
            r#"env -i setsid sh -c 'echo $$ > "$1/cleared.pid"; exec sleep 60' - "$FAKE_DIR" &
while [ ! -s "$FAKE_DIR/cleared.pid" ]; do sleep 0.05; done"#,
        )
        .run_within(Duration::from_secs(30));
    let cleared = std::fs::read_to_string(tmp.path().join("cleared.pid")).unwrap();
    unsafe { libc::kill(cleared.trim().parse().unwrap(), libc::SIGKILL) };
    out.assert_code(0);
    assert!(
        out.stderr.contains("left its process group"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_hook_printing_a_huge_line_costs_no_memory_and_its_lines_carry_the_run() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    write_script(tmp.path(), "pg_dump", RECORDING_DUMP);
    let remote = tmp.path().join("remote");
    // 300 MB without a newline, then a normal line.
    let (out, max_rss_kib) = backup(tmp.path(), &remote)
        .env(
            "HOOK_PRE_BACKUP",
            "head -c 300000000 /dev/zero | tr '\\0' x; echo; echo second line",
        )
        .run_within(Duration::from_secs(60));
    out.assert_code(0);
    eprintln!("peak RSS with a 300 MB hook line: {max_rss_kib} KiB");
    assert!(max_rss_kib < 64 * 1024, "peak RSS {max_rss_kib} KiB");
    let long = out
        .stderr
        .lines()
        .find(|l| l.contains("xxxxxxxx"))
        .unwrap_or_else(|| panic!("{}", out.stderr));
    assert!(long.len() < 5000 && long.contains('…'), "{}", long.len());
    let second = out
        .stderr
        .lines()
        .find(|l| l.contains("second line"))
        .unwrap_or_else(|| panic!("{}", out.stderr));
    // Like every line of a run: its engine, database and backup_id.
    for field in ["engine=pg", "database=app", "backup_id="] {
        assert!(second.contains(field), "{field} in {second}");
    }
}

#[test]
fn a_hooks_script_is_not_on_any_command_line() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    write_script(tmp.path(), "pg_dump", RECORDING_DUMP);
    let remote = tmp.path().join("remote");
    // A hook holding a credential (the dry run shows hooks as ***): /proc/PID/cmdline is
    // world-readable, so the script must not be the shell's argument.
    let hook = r#"PGPASSWORD=hook-s3cret-pw; echo $$ > "$FAKE_DIR/sh.pid"; sleep 2; echo ran > "$FAKE_DIR/hook.ran""#;
    let child = Command::new(BIN)
        .env_clear()
        .env(
            "PATH",
            format!(
                "{}:{}",
                tmp.path().display(),
                std::env::var("PATH").unwrap()
            ),
        )
        .env("FAKE_DIR", tmp.path())
        .env("ENGINE", "pg")
        .env("DB_HOST", "127.0.0.1")
        .env("DB_NAME", "app")
        .env("BACKUP_SCHEDULE", "once")
        .env("BACKUP_TEMP_DIR", tmp.path().join("work"))
        .env("RCLONE_REMOTE", local_remote(&remote))
        .env("HOOK_PRE_BACKUP", hook)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid_file = tmp.path().join("sh.pid");
    wait_for("the hook to start", 10, || {
        std::fs::read_to_string(&pid_file).is_ok_and(|p| p.ends_with('\n'))
    });
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", pid.trim())).unwrap();
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(tmp.path().join("hook.ran").exists(), "{stderr}");
    assert!(!cmdline.contains("hook-s3cret-pw"), "{cmdline}");
    assert!(cmdline.starts_with("sh -c "), "{cmdline}");
}
