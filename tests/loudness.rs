//! Failing early and loudly, through the real binary: progress while a backup streams,
//! warnings for variables that look like dbstash's but are not, readable multi-line errors,
//! and the `--flag=false` hint.

use crate::support::*;

fn backup(fake: &std::path::Path, remote: &std::path::Path) -> Dbstash {
    Dbstash::new()
        .fake_bin(fake)
        .env("ENGINE", "pg")
        .env("DB_HOST", "127.0.0.1")
        .env("DB_NAME", "app")
        .env("BACKUP_SCHEDULE", "once")
        .env("BACKUP_NAME_TEMPLATE", "{db}-{uuid}")
        .env("RCLONE_REMOTE", local_remote(remote))
}

#[test]
fn a_long_backup_logs_its_progress() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // 3 MB, a pause of 2.5 s, 1 MB more.
    write_script(
        tmp.path(),
        "pg_dump",
        "head -c 3000000 /dev/zero; sleep 2.5; head -c 1000000 /dev/zero",
    );
    let remote = tmp.path().join("remote");
    let out = backup(tmp.path(), &remote)
        .env("BACKUP_PROGRESS_INTERVAL", "1s")
        .run();
    out.assert_code(0);
    let progress: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("backup in progress"))
        .collect();
    assert!(progress.len() >= 2, "{}", out.stderr);
    // During the pause the copy holds at most one unfinished batch (128 KiB) back.
    let bytes: u64 = progress[0]
        .split_whitespace()
        .find_map(|f| f.strip_prefix("bytes="))
        .and_then(|b| b.parse().ok())
        .unwrap_or_else(|| panic!("no bytes= in {}", progress[0]));
    assert!(
        (3_000_000 - 128 * 1024..=3_000_000).contains(&bytes),
        "{}",
        progress[0]
    );
    assert!(progress[0].contains("rate="), "{}", progress[0]);
    assert!(progress[0].contains("elapsed="), "{}", progress[0]);
    assert!(progress[0].contains(" MiB so far"), "{}", progress[0]);
    // Like every line of a run: its engine, database and backup_id.
    for field in ["engine=pg", "database=app", "backup_id="] {
        assert!(progress[0].contains(field), "{field} in {}", progress[0]);
    }

    // 0 turns it off.
    let out = backup(tmp.path(), &remote)
        .env("BACKUP_PROGRESS_INTERVAL", "0")
        .run();
    out.assert_code(0);
    assert!(!out.stderr.contains("backup in progress"), "{}", out.stderr);
}

#[test]
fn variables_that_look_like_dbstashs_get_a_warning_naming_the_right_one() {
    let tmp = tempfile::tempdir().unwrap();
    let out = backup(tmp.path(), &tmp.path().join("remote"))
        .env("DB_PASS", "x")
        .env("BACKUP_SHEDULE", "0 3 * * *")
        .env("DRY_RUN", "true")
        .run();
    out.assert_code(0);
    assert!(
        out.stderr.contains(
            "DB_PASS is not a dbstash variable and is ignored (did you mean DB_PASSWORD?)"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean BACKUP_SCHEDULE?"),
        "{}",
        out.stderr
    );
    // The value of an unknown variable may be a secret: never shown.
    assert!(!out.stderr.contains("=x"), "{}", out.stderr);
}

#[test]
fn a_boolean_flag_with_a_separate_value_gets_the_equals_form() {
    let out = Dbstash::new()
        .args(["pg", "--backup-compress", "false"])
        .run();
    out.assert_code(2);
    assert!(
        out.stderr.contains("unexpected argument 'false'"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("--backup-compress=false"),
        "{}",
        out.stderr
    );

    // Without an engine subcommand (ENGINE set, as in the images) clap reads the value as a
    // subcommand; after `check` it is taken for the engine. Both need the same hint.
    for (args, flag) in [
        (
            vec!["--backup-compress", "false"],
            "--backup-compress=false",
        ),
        (vec!["--dry-run", "no", "pg"], "--dry-run=no"),
        (
            vec!["check", "--backup-lock", "false"],
            "--backup-lock=false",
        ),
        (
            vec!["check", "--backup-checksum", "0", "pg"],
            "--backup-checksum=0",
        ),
    ] {
        let out = Dbstash::new().env("ENGINE", "pg").args(&args).run();
        out.assert_code(2);
        assert!(out.stderr.contains(flag), "{args:?}:\n{}", out.stderr);
    }
}

#[test]
fn multi_line_tool_errors_read_as_indented_lines_in_text_and_one_field_in_json() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    write_script(
        tmp.path(),
        "pg_dump",
        r#"printf 'pg_dump: error: connection to server failed\n\tIs the server running on that host?\n' >&2; exit 1"#,
    );
    let remote = tmp.path().join("remote");
    let out = backup(tmp.path(), &remote).run();
    out.assert_code(1);
    assert!(!out.stderr.contains("\\n\\t"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("\n        Is the server running on that host?"),
        "{}",
        out.stderr
    );

    let out = backup(tmp.path(), &remote).env("LOG_FORMAT", "json").run();
    out.assert_code(1);
    let failed: serde_json::Value = out
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["message"] == "backup failed")
        .unwrap_or_else(|| panic!("no failure record:\n{}", out.stderr));
    let error = failed["error"].as_str().unwrap();
    assert!(error.contains("failed\n\tIs the server running"), "{error}");
}

#[test]
fn a_password_with_quotes_and_backslashes_is_redacted_in_text_and_json_logs() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // Both log formats escape `"` and `\` inside values: the escaped form must not slip by.
    write_script(
        tmp.path(),
        "pg_dump",
        r#"printf 'pg_dump: error: auth failed for %s\n' "$PGPASSWORD" >&2; exit 1"#,
    );
    let remote = tmp.path().join("remote");
    for format in ["text", "json"] {
        let out = backup(tmp.path(), &remote)
            .env("DB_PASSWORD", r#"Kq"Zr\Wv9"#)
            .env("LOG_FORMAT", format)
            .run();
        out.assert_code(1);
        assert!(
            !out.stderr.contains("Kq") && !out.stderr.contains("Wv9"),
            "{format}:\n{}",
            out.stderr
        );
        assert!(out.stderr.contains("auth failed for ***"), "{}", out.stderr);
    }

    // A password that is an everyday word is hidden in values; the log's structure (JSON
    // keys such as backup_id) stays intact.
    let out = backup(tmp.path(), &remote)
        .env("DB_PASSWORD", "backup")
        .env("LOG_FORMAT", "json")
        .run();
    out.assert_code(1);
    let failed: serde_json::Value = out
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["level"] == "error")
        .unwrap_or_else(|| panic!("no error record:\n{}", out.stderr));
    assert!(failed["backup_id"].is_string(), "{failed}");
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("auth failed for ***"),
        "{failed}"
    );
}
