//! The command line and configuration, end to end through the binary. No servers needed:
//! fake `pg_dump` and `rclone` on PATH record what they were given.

use std::path::Path;

use base64::Engine as _;

use crate::support::*;

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn help_names_engines_flags_and_variables() {
    let top = Dbstash::new().args(["--help"]).run();
    top.assert_code(0);
    for needle in [
        "pg",
        "ENGINE",
        "Exit codes: 0 success, 1 the backup failed, 2 the configuration is invalid",
    ] {
        assert!(
            top.stdout.contains(needle),
            "--help lacks {needle}:\n{}",
            top.stdout
        );
    }
    let pg = Dbstash::new().args(["pg", "--help"]).run();
    pg.assert_code(0);
    for needle in [
        "--db-uri <URI>",
        "[env: DB_URI]",
        "--rclone-remote",
        "--backup-schedule",
        "--retention-max-files",
        "--backup-checksum",
        "{db}-{date}-{time}]",
    ] {
        assert!(
            pg.stdout.contains(needle),
            "pg --help lacks {needle}:\n{}",
            pg.stdout
        );
    }
}

#[test]
fn help_never_shows_secret_values() {
    for args in [vec!["--help"], vec!["pg", "--help"]] {
        let out = Dbstash::new()
            .args(&args)
            .env("DB_PASSWORD", "hunter2")
            .env("DB_URI", "postgresql://u:hunter2@h/db")
            .env(
                "RCLONE_CONFIG",
                b64("[x]\ntype = s3\nsecret_access_key = hunter2\n"),
            )
            .env(
                "NOTIFY_WEBHOOK_URL",
                "https://hooks.slack.com/services/hunter2",
            )
            .run();
        out.assert_code(0);
        assert!(!out.stdout.contains("hunter2"), "{}", out.stdout);
        assert!(!out.stdout.contains(&b64("[x]")[..4]), "{}", out.stdout);
    }
}

/// Each bad input exits 2 with one line naming the variable and what it expected.
#[test]
fn invalid_configuration_exits_2_with_one_line() {
    let base = [
        ("DB_HOST", "127.0.0.1"),
        ("DB_NAME", "app"),
        ("RCLONE_REMOTE", ":local:/nonexistent"),
        ("BACKUP_SCHEDULE", "once"),
    ];
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        (&[], &[], "ENGINE (--engine): no engine given"),
        (&[], &[("ENGINE", "oracle")], "ENGINE (--engine): unknown engine 'oracle'"),
        (&["redis"], &[("BACKUP_MODE", "directory")], "BACKUP_MODE (--backup-mode): redis supports only `stream`"),
        (&["pg"], &[("RCLONE_REMOTE", "")], "RCLONE_REMOTE (--rclone-remote): is required"),
        (&["pg"], &[("BACKUP_SCHEDULE", "0 25 * * *")], "BACKUP_SCHEDULE (--backup-schedule): '0 25 * * *' is not a valid cron"),
        (&["pg", "--backup-schedule", "daily"], &[], "BACKUP_SCHEDULE (--backup-schedule): 'daily' is not a valid cron"),
        (&["pg"], &[("RCLONE_CONFIG", "%%%")], "RCLONE_CONFIG (--rclone-config): not valid base64"),
        (&["pg"], &[("DB_URI_FILE", "/nonexistent/secret")], "DB_URI_FILE (--db-uri-file): cannot read '/nonexistent/secret'"),
        (&["pg"], &[("DB_PASSWORD_FILE", "/nonexistent/pw")], "DB_PASSWORD_FILE (--db-password-file): cannot read"),
        (&["pg"], &[("DB_URI", "http://u:pw@h/db")], "DB_URI (--db-uri): scheme 'http' does not fit engine pg"),
        (&["pg"], &[("BACKUP_ALL_DATABASES", "true")], "DB_NAME (--db-name) and BACKUP_ALL_DATABASES (--backup-all-databases): mutually exclusive"),
        (&["pg"], &[("BACKUP_NAME_TEMPLATE", "{db}-{when}")], "BACKUP_NAME_TEMPLATE (--backup-name-template): unknown token '{when}'"),
        (&["pg"], &[("BACKUP_MODE", "zip")], "BACKUP_MODE (--backup-mode): unknown mode 'zip'"),
        (&["pg"], &[("NOTIFY_ON", "sometimes")], "NOTIFY_ON (--notify-on): unknown value 'sometimes'"),
        (&["pg"], &[("LOG_FORMAT", "xml")], "LOG_FORMAT (--log-format): unknown format 'xml'"),
        (&["pg"], &[("TZ", "Nowhere/City")], "TZ (--tz): unknown time zone 'Nowhere/City'"),
        (&["pg"], &[("BACKUP_TIMEOUT", "1 hour")], "BACKUP_TIMEOUT (--backup-timeout): '1 hour' is not a duration"),
        (&["pg", "--backup-compress=maybe"], &[], "BACKUP_COMPRESS (--backup-compress): 'maybe' is not a boolean"),
        (&["pg"], &[("RETENTION_MAX_FILES", "many")], "RETENTION_MAX_FILES (--retention-max-files): 'many' is not a whole number"),
        (&["pg"], &[("SMTP_HOST", "mail")], "NOTIFY_EMAIL_TO (--notify-email-to): not set, but SMTP_HOST is"),
        (&["pg"], &[("BACKUP_PROGRESS_INTERVAL", "often")], "BACKUP_PROGRESS_INTERVAL (--backup-progress-interval): 'often' is not a duration"),
        (&["pg"], &[("HEALTH_ADDR", "8080")], "HEALTH_ADDR (--health-addr): '8080' is not an address"),
        // Kubernetes service links: a Service named db or smtp in the namespace.
        (&["pg"], &[("DB_PORT", "tcp://10.0.0.5:5432")], "DB_PORT (--db-port): 'tcp://10.0.0.5:5432' is not a port (expected a number from 1 to 65535); Kubernetes sets it so for a Service named db: set enableServiceLinks: false in the pod spec"),
        (&["pg"], &[("SMTP_PORT", "tcp://10.0.0.7:25")], "NOTIFY_EMAIL_TO (--notify-email-to): not set, but SMTP_PORT is: set the recipients too, or unset those; SMTP_PORT 'tcp://10.0.0.7:25': Kubernetes sets it so for a Service named smtp: set enableServiceLinks: false in the pod spec"),
    ];
    for (args, env, want) in cases {
        let mut cmd = Dbstash::new().args(*args);
        for (k, v) in base.iter().chain(env.iter()) {
            cmd = cmd.env(k, v);
        }
        let out = cmd.run();
        assert_eq!(out.code, 2, "{want}: {}", out.stderr);
        let line = out.stderr.trim_end();
        assert!(!line.contains('\n'), "one line expected: {line}");
        assert!(
            line.starts_with("dbstash: invalid configuration: "),
            "{line}"
        );
        assert!(line.contains(want), "wanted {want:?} in {line:?}");
    }
    // clap's own parse errors exit 2 as well.
    let out = Dbstash::new().args(["pg", "--no-such-flag"]).run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--no-such-flag"), "{}", out.stderr);
}

/// `dbstash pg` for host `h`, database `app`, remote `r:b`, once, with the fakes in `dir`
/// first on PATH.
fn with_fakes(dir: &Path) -> Dbstash {
    Dbstash::new().fake_bin(dir).env("FAKE_DIR", dir).args([
        "pg",
        "--db-host",
        "h",
        "--db-name",
        "app",
        "--rclone-remote",
        "r:b",
        "--backup-schedule",
        "once",
    ])
}

/// Fake `pg_dump` and `rclone` that record argv, environment and the config file they see.
fn fakes(dir: &Path) {
    write_script(
        dir,
        "pg_dump",
        r#"echo "$@" > "$FAKE_DIR/pg_dump.argv"
printf '%s' "${PGPASSWORD-}" > "$FAKE_DIR/pg_dump.pgpassword"
env | grep -E '^(DB_URI|DB_PASSWORD|RCLONE_CONFIG)=' > "$FAKE_DIR/pg_dump.env"
echo "select 1;""#,
    );
    write_script(
        dir,
        "pg_dumpall",
        r#"touch "$FAKE_DIR/pg_dumpall.ran"; echo "select 1;""#,
    );
    fake_rclone(dir);
}

#[test]
fn secrets_stay_off_argv_and_rclone_config_arrives_as_a_0600_file() {
    let tmp = tempfile::tempdir().unwrap();
    fakes(tmp.path());
    let conf = "[mys3]\ntype = s3\nsecret_access_key = S3-SECRET\n";
    let out = Dbstash::new()
        .fake_bin(tmp.path())
        .env("FAKE_DIR", tmp.path())
        .env("ENGINE", "pg")
        .env(
            "DB_URI",
            "postgresql://app:Pa55%21word@db.example:5432/shop",
        )
        .env("RCLONE_REMOTE", "mys3:bucket/pg")
        .env("RCLONE_CONFIG", b64(conf))
        .env("BACKUP_SCHEDULE", "once")
        .run();
    out.assert_code(0);
    let read = |f: &str| std::fs::read_to_string(tmp.path().join(f)).unwrap_or_default();
    assert_eq!(
        read("pg_dump.argv").trim(),
        "--no-password --format=plain --dbname=postgresql://app@db.example:5432/shop"
    );
    assert_eq!(read("pg_dump.pgpassword"), "Pa55!word");
    assert_eq!(read("config.copy"), conf);
    assert_eq!(read("config.mode").trim(), "600");
    assert_eq!(
        read("rclone.env"),
        "",
        "dbstash's secrets must not reach rclone's environment"
    );
    assert_eq!(
        read("pg_dump.env"),
        "",
        "dbstash's secrets must not reach pg_dump's environment"
    );
    let argv = read("rclone.argv");
    assert!(
        !argv.contains("Pa55") && !argv.contains("S3-SECRET"),
        "{argv}"
    );
    assert!(
        argv.lines()
            .any(|l| l.contains(" rcat -- mys3:bucket/pg/shop-") && l.ends_with(".sql")),
        "{argv}"
    );
    // The checksum file is written as the run's claim on the name, then renamed.
    assert!(
        argv.lines()
            .any(|l| l.contains(" rcat -- mys3:bucket/pg/.shop-") && l.contains(".sql.claim-")),
        "{argv}"
    );
    assert!(
        argv.lines()
            .any(|l| l.contains(" moveto -- mys3:bucket/pg/.shop-") && l.ends_with(".sql.sha256")),
        "{argv}"
    );
    assert!(
        read("config.link").starts_with("/memfd:dbstash-secret"),
        "the config is a memory file, gone with dbstash: {}",
        read("config.link")
    );
    assert!(
        !out.stderr.contains("Pa55") && !out.stderr.contains("S3-SECRET"),
        "{}",
        out.stderr
    );
    // The object is the dump; its sidecar names it with the dump's SHA-256.
    let argv_line = argv
        .lines()
        .find(|l| l.contains(" rcat ") && l.ends_with(".sql"))
        .unwrap();
    let target = argv_line.rsplit(' ').next().unwrap();
    assert_eq!(fake_object(tmp.path(), target).unwrap(), b"select 1;\n");
    let sidecar =
        String::from_utf8(fake_object(tmp.path(), &format!("{target}.sha256")).unwrap()).unwrap();
    let name = target.rsplit('/').next().unwrap();
    assert_eq!(sidecar, format!("{}  {name}\n", sha256_of(b"select 1;\n")));
}

fn sha256_of(data: &[u8]) -> String {
    use sha2::Digest as _;
    format!("{:x}", sha2::Sha256::digest(data))
}

#[test]
fn dry_run_prints_the_plan_redacted_and_runs_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    fakes(tmp.path());
    let out = Dbstash::new()
        .fake_bin(tmp.path())
        .env("FAKE_DIR", tmp.path())
        .args(["pg", "--dry-run", "--backup-compress"])
        .env(
            "DB_URI",
            "postgresql://app:hunter2@db:5432/shop?sslmode=require",
        )
        .env(
            "RCLONE_REMOTE",
            ":s3,provider=Rclone,access_key_id=AKID,secret_access_key=hunter3:bucket",
        )
        .env("RCLONE_CONFIG", b64("[x]\ntype = local\n"))
        .env("BACKUP_SCHEDULE", "once")
        .env("TZ", "Asia/Kolkata")
        .env("RETENTION_MAX_FILES", "5")
        .run();
    out.assert_code(0);
    let s = &out.stdout;
    for needle in [
        "PGPASSWORD=*** pg_dump --no-password --format=custom '--dbname=postgresql://app@db:5432/shop?sslmode=require'",
        "rclone --config '<0600 memory file from RCLONE_CONFIG>' rcat ",
        "secret_access_key=***:bucket/shop-",
        ".dump.sha256",
        "Asia/Kolkata",
        "keep at most 5",
    ] {
        assert!(s.contains(needle), "dry run lacks {needle:?}:\n{s}");
    }
    for secret in ["hunter2", "hunter3", "AKID", "type = local"] {
        assert!(
            !s.contains(secret) && !out.stderr.contains(secret),
            "{secret} leaked:\n{s}\n{}",
            out.stderr
        );
    }
    let ran: Vec<String> = files_in(tmp.path())
        .into_iter()
        .filter(|f| !["pg_dump", "pg_dumpall", "rclone"].contains(&f.as_str()))
        .collect();
    assert!(ran.is_empty(), "dry run executed something: {ran:?}");
}

#[test]
fn flag_beats_env_beats_default() {
    let plan = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = Dbstash::new().args(["pg", "--dry-run"]).args(args);
        for (k, v) in [
            ("DB_HOST", "h"),
            ("RCLONE_REMOTE", "r:"),
            ("BACKUP_SCHEDULE", "once"),
        ]
        .iter()
        .chain(env)
        {
            cmd = cmd.env(k, v);
        }
        let out = cmd.run();
        out.assert_code(0);
        out.stdout
    };
    let s = plan(&["--db-name", "fromflag"], &[("DB_NAME", "fromenv")]);
    assert!(
        s.contains("--dbname=fromflag") && !s.contains("fromenv"),
        "{s}"
    );
    let s = plan(&[], &[("DB_NAME", "fromenv")]);
    assert!(s.contains("--dbname=fromenv"), "{s}");
    // Default port, overridden by env, overridden by flag.
    assert!(plan(&[], &[("DB_NAME", "d")]).contains("--port=5432"));
    assert!(plan(&[], &[("DB_NAME", "d"), ("DB_PORT", "6000")]).contains("--port=6000"));
    assert!(plan(
        &["--db-port", "7000"],
        &[("DB_NAME", "d"), ("DB_PORT", "6000")]
    )
    .contains("--port=7000"));
    // Boolean flag without a value means true, and `=false` turns an env `true` off.
    assert!(plan(&["--backup-compress"], &[("DB_NAME", "d")]).contains("--format=custom"));
    assert!(plan(
        &["--backup-compress=false"],
        &[("DB_NAME", "d"), ("BACKUP_COMPRESS", "true")]
    )
    .contains("--format=plain"));
    // Flags work before the subcommand too.
    let out = Dbstash::new()
        .args(["--db-name", "before", "pg", "--dry-run"])
        .env("DB_HOST", "h")
        .env("RCLONE_REMOTE", "r:")
        .env("BACKUP_SCHEDULE", "once")
        .run();
    out.assert_code(0);
    assert!(out.stdout.contains("--dbname=before"), "{}", out.stdout);
}

#[test]
fn docker_mode_all_databases_alias_and_name_rules() {
    let out = Dbstash::new()
        .env("ENGINE", "pg")
        .env("DB_HOST", "db")
        .env("BACKUP_ALL_DBS", "true")
        .env("BACKUP_COMPRESS", "true")
        .env("RCLONE_REMOTE", "remote:backups")
        .env("BACKUP_SCHEDULE", "once")
        .env("BACKUP_NAME_TEMPLATE", "{engine}-{db}-{date}")
        .env("DRY_RUN", "true")
        .run();
    out.assert_code(0);
    assert!(
        out.stdout
            .contains("pg_dumpall --no-password --host=db --port=5432\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("rcat remote:backups/pg-all-"),
        "{}",
        out.stdout
    );
    // pg_dumpall writes plain SQL only: BACKUP_COMPRESS compresses it in-process (zstd).
    assert!(
        out.stdout.contains("| zstd level 3 (in dbstash") && out.stdout.contains(".sql.zst"),
        "{}",
        out.stdout
    );
    assert!(!out.stderr.contains("no effect"), "{}", out.stderr);
    assert!(
        out.stderr.contains("has no {time}, {ts} or {uuid}"),
        "{}",
        out.stderr
    );
}

#[test]
fn rclone_failing_mid_stream_stops_the_dump_and_fails() {
    let tmp = tempfile::tempdir().unwrap();
    // An endless dump, and an rclone that gives up after 100 kB.
    write_script(
        tmp.path(),
        "pg_dump",
        r#"echo $$ > "$FAKE_DIR/dump.pid"; exec yes 'insert into t values (1);'"#,
    );
    write_script(
        tmp.path(),
        "rclone",
        r#"echo "$@" >> "$FAKE_DIR/rclone.argv"
case " $* " in
  *" lsjson "*) echo "[]" ;;
  *" rcat "*) head -c 100000 > /dev/null; echo "Failed to rcat: upload quota exceeded" >&2; exit 5 ;;
  *" deletefile "*) exit 4 ;;
esac"#,
    );
    let out = with_fakes(tmp.path()).run();
    out.assert_code(1);
    assert!(
        out.stderr
            .contains("rclone rcat exited with status 5: Failed to rcat: upload quota exceeded"),
        "{}",
        out.stderr
    );
    let pid = std::fs::read_to_string(tmp.path().join("dump.pid")).unwrap();
    assert!(
        !Path::new(&format!("/proc/{}", pid.trim())).exists(),
        "the dump process outlived dbstash"
    );
    let argv = std::fs::read_to_string(tmp.path().join("rclone.argv")).unwrap();
    assert!(
        argv.lines()
            .any(|l| l.starts_with("deletefile --retries 1 -- r:b/") && l.contains("app-")),
        "partial object deleted: {argv}"
    );
}

#[test]
fn log_level_filters_lines() {
    let tmp = tempfile::tempdir().unwrap();
    fakes(tmp.path());
    let run = |level: &str| {
        let out = with_fakes(tmp.path())
            .args([
                "--backup-name-template",
                "{db}-{uuid}",
                "--log-level",
                level,
            ])
            .run();
        out.assert_code(0);
        out.stderr
    };
    assert!(run("info").contains("backup succeeded"));
    assert_eq!(run("error"), "", "nothing below error");
    let debug = run("debug");
    assert!(debug.contains("backup succeeded"), "{debug}");
}

#[test]
fn mariadb_falls_back_to_mysqldump_when_mariadb_dump_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    // PATH holds only these fakes and a few basic tools, so mariadb-dump is missing.
    write_script(
        tmp.path(),
        "mysqldump",
        r#"echo "$@" > "$FAKE_DIR/mysqldump.argv"; echo "-- dump""#,
    );
    fake_rclone(tmp.path());
    let tools = tools_dir(
        tmp.path(),
        &["cat", "wc", "tr", "mkdir", "cp", "stat", "printenv", "rm"],
    );
    let run = || {
        Dbstash::new()
            .env(
                "PATH",
                format!("{}:{}", tmp.path().display(), tools.display()),
            )
            .env("FAKE_DIR", tmp.path())
            .args([
                "mariadb",
                "--db-host",
                "db",
                "--db-name",
                "shop",
                "--rclone-remote",
                "r:b",
                "--backup-schedule",
                "once",
            ])
            .run()
    };
    let out = run();
    out.assert_code(0);
    assert!(
        out.stderr
            .contains("mariadb-dump not found on PATH: using mysqldump"),
        "{}",
        out.stderr
    );
    let argv = std::fs::read_to_string(tmp.path().join("mysqldump.argv")).unwrap();
    assert_eq!(
        argv.trim(),
        "--host=db --port=3306 --single-transaction shop"
    );

    // Errors name the program that ran. (A fresh remote: the same second renders the same
    // name, which would fail first.)
    std::fs::remove_dir_all(tmp.path().join("objects")).unwrap();
    write_script(
        tmp.path(),
        "mysqldump",
        r#"echo "mysqldump: Got error: 1045" >&2; exit 2"#,
    );
    let out = run();
    out.assert_code(1);
    assert!(
        out.stderr
            .contains("mysqldump exited with status 2: mysqldump: Got error: 1045"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_empty_dump_or_a_short_object_is_not_a_backup() {
    let cases = [
        (
            "exit 0",
            false,
            "pg_dump exited 0 but wrote nothing to stdout",
        ),
        (
            r#"echo "select 1;""#,
            true,
            "the remote holds 5 bytes under ",
        ),
    ];
    for (dump, truncate, want) in cases {
        // Direct upload (object stores) and staged upload (renaming backends).
        for staged in [false, true] {
            let tmp = tempfile::tempdir().unwrap();
            write_script(tmp.path(), "pg_dump", dump);
            fake_rclone(tmp.path());
            let mut cmd = with_fakes(tmp.path());
            if truncate {
                cmd = cmd.env("FAKE_TRUNCATE", "1");
            }
            if staged {
                cmd = cmd.env("FAKE_MOVE", "1");
            }
            let out = cmd.run();
            out.assert_code(1);
            let want = if truncate {
                format!("{want}{}app-", if staged { "." } else { "" })
            } else {
                want.to_string()
            };
            assert!(out.stderr.contains(&want), "{}", out.stderr);
            let left = all_files_in(&tmp.path().join("objects"));
            assert_eq!(left, Vec::<String>::new(), "nothing stays behind");
        }
    }
}

#[test]
fn on_renaming_backends_the_upload_is_staged_then_moved() {
    let tmp = tempfile::tempdir().unwrap();
    write_script(tmp.path(), "pg_dump", r#"echo "select 1;""#);
    fake_rclone(tmp.path());
    let out = with_fakes(tmp.path())
        .env("FAKE_MOVE", "1")
        .args(["--backup-name-template", "{db}-{uuid}"])
        .run();
    out.assert_code(0);
    let argv = std::fs::read_to_string(tmp.path().join("rclone.argv")).unwrap();
    let rcat = argv
        .lines()
        .find(|l| l.starts_with("rcat ") && l.contains(".partial-"))
        .expect("staged upload");
    let staged = rcat.rsplit(' ').next().unwrap();
    let moved = argv
        .lines()
        .find(|l| l.starts_with("moveto "))
        .expect("moveto");
    let final_target = moved.rsplit(' ').next().unwrap();
    assert_eq!(moved, format!("moveto -- {staged} {final_target}"));
    assert!(
        final_target.starts_with("r:b/app-") && final_target.ends_with(".sql"),
        "{argv}"
    );
    assert_eq!(
        fake_object(tmp.path(), final_target).unwrap(),
        b"select 1;\n"
    );
    assert!(fake_object(tmp.path(), staged).is_none());
    assert!(fake_object(tmp.path(), &format!("{final_target}.sha256")).is_some());
}

#[test]
fn names_with_colons_work() {
    let tmp = tempfile::tempdir().unwrap();
    write_script(tmp.path(), "pg_dump", r#"echo "select 1;""#);
    fake_rclone(tmp.path());
    let out = with_fakes(tmp.path())
        .args(["--backup-name-template", "bk:{uuid}"])
        .run();
    out.assert_code(0);
}
