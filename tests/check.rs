//! `dbstash check`, the daemon's preflight, and failing early: real PostgreSQL, MariaDB,
//! Redis and `rclone serve s3`; a fake mongodump (MongoDB is not obtainable here); closed and
//! black-hole S3 endpoints with default settings.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// The line of step `name` in `check`'s output.
fn step<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no `{name}` step in:\n{out}"))
}

fn assert_ok(out: &str, name: &str) {
    let line = step(out, name);
    let status = line[11..].split_whitespace().next().unwrap_or_default();
    assert_eq!(status, "ok", "{line}\n--- all:\n{out}");
}

fn assert_fail<'a>(out: &'a str, name: &str) -> &'a str {
    let line = step(out, name);
    let status = line[11..].split_whitespace().next().unwrap_or_default();
    assert_eq!(status, "FAIL", "{line}\n--- all:\n{out}");
    line
}

/// Neither stream mentions any of `secrets`.
fn assert_no_secret(out: &Output, secrets: &[&str]) {
    for s in secrets {
        assert!(
            !out.stdout.contains(s) && !out.stderr.contains(s),
            "{s} leaked:\n--- stdout\n{}\n--- stderr\n{}",
            out.stdout,
            out.stderr
        );
    }
}

const S3_SECRET: &str = "dbstash-test-secret-key-0123456789";

/// A pg check against the shared server and a fresh S3 bucket.
fn pg_check(db: &str, password: &str) -> Option<(Dbstash, tempfile::TempDir)> {
    let pg = pg::server()?;
    let s3 = s3::server()?;
    let tmp = tempfile::tempdir().unwrap();
    let (remote, _) = s3.bucket("check");
    let d = pg
        .dbstash()
        .env("DB_HOST", "127.0.0.1")
        .env("DB_PORT", pg.port.to_string())
        .env("DB_USER", pg::USER)
        .env("DB_PASSWORD", password)
        .env("DB_NAME", db)
        .env("RCLONE_CONFIG_FILE", s3.conf_file(tmp.path()))
        .env("RCLONE_REMOTE", remote);
    Some((d, tmp))
}

#[test]
fn a_good_pg_config_passes_every_step_and_the_engine_comes_from_env_or_argument() {
    let Some(pg) = pg::server() else { return };
    let db = pg.seeded_db("check_ok");
    let Some((d, _tmp)) = pg_check(&db, pg::PASSWORD) else {
        return;
    };
    let out = d.args(["check", "pg"]).run();
    out.assert_code(0);
    for s in ["config", "dump tool", "rclone", "remote", "database"] {
        assert_ok(&out.stdout, s);
    }
    assert!(step(&out.stdout, "dump tool").contains("pg_dump (PostgreSQL)"));
    assert!(step(&out.stdout, "rclone").contains("rclone v1."));
    assert!(
        step(&out.stdout, "remote").contains("s3test:check-"),
        "{}",
        out.stdout
    );
    assert!(
        step(&out.stdout, "database").contains(&format!("database {db}")),
        "{}",
        out.stdout
    );
    assert!(out.stdout.ends_with("check passed\n"), "{}", out.stdout);
    assert_no_secret(&out, &[pg::PASSWORD, S3_SECRET]);

    // The engine from ENGINE when no argument is given; the argument wins over ENGINE.
    for (args, engine) in [(vec!["check"], "pg"), (vec!["check", "pg"], "redis")] {
        let (d, _tmp) = pg_check(&db, pg::PASSWORD).unwrap();
        let out = d.env("ENGINE", engine).args(args).run();
        out.assert_code(0);
        assert!(
            step(&out.stdout, "config").contains("pg: database"),
            "{}",
            out.stdout
        );
    }
    // Neither: the configuration is invalid.
    let (d, _tmp) = pg_check(&db, pg::PASSWORD).unwrap();
    let out = d.args(["check"]).run();
    out.assert_code(2);
    assert!(out.stderr.contains("ENGINE"), "{}", out.stderr);
}

#[test]
fn a_wrong_or_missing_password_fails_the_database_step_with_a_hint() {
    let Some(pg) = pg::server() else { return };
    let db = pg.seeded_db("check_pw");
    let Some((d, _tmp)) = pg_check(&db, "not-the-Password-99") else {
        return;
    };
    let out = d.args(["check", "pg"]).run();
    out.assert_code(1);
    let line = assert_fail(&out.stdout, "database");
    assert!(
        line.contains("password authentication failed"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("hint: the database rejected the login: check DB_PASSWORD, DB_PASSWORD_FILE or the password in DB_URI"),
        "{}",
        out.stdout
    );
    // The other steps still ran and passed.
    for s in ["config", "dump tool", "rclone", "remote"] {
        assert_ok(&out.stdout, s);
    }
    assert!(
        out.stdout.ends_with("check failed: database\n"),
        "{}",
        out.stdout
    );
    assert_no_secret(&out, &["not-the-Password-99", pg::PASSWORD, S3_SECRET]);

    // No password at all: libpq's fe_sendauth.
    let (d, _tmp) = pg_check(&db, "").unwrap();
    let out = d.args(["check", "pg"]).run();
    out.assert_code(1);
    assert!(
        assert_fail(&out.stdout, "database").contains("fe_sendauth: no password supplied"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("hint: the server asks for a password and none was given: set DB_PASSWORD or DB_PASSWORD_FILE"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_backup_with_a_wrong_password_points_at_the_password_settings() {
    let Some(pg) = pg::server() else { return };
    let db = pg.seeded_db("check_dump_pw");
    let remote = tempfile::tempdir().unwrap();
    let out = pg
        .dbstash()
        .args(["pg", "--backup-schedule", "once"])
        .env("DB_URI", pg.uri(&db).replace(pg::PASSWORD, "Wrong-Pass-77"))
        .env("RCLONE_REMOTE", local_remote(remote.path()))
        .run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("password authentication failed")
            && out.stderr.contains("hint: the database rejected the login: check DB_PASSWORD, DB_PASSWORD_FILE or the password in DB_URI"),
        "{}",
        out.stderr
    );
    assert_no_secret(&out, &["Wrong-Pass-77"]);
    assert_eq!(all_files_in(remote.path()), Vec::<String>::new());
}

#[test]
fn a_missing_dump_tool_fails_its_step_and_the_others_still_report() {
    let Some(rclone) = real_binary("rclone") else {
        missing::<()>("the rclone binary", s3::INSTALL);
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // PATH: rclone and nothing else, so neither pg_dump nor psql is found.
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(&rclone, bin.join("rclone")).unwrap();
    let remote = tmp.path().join("remote");
    let out = Dbstash::new()
        .env("PATH", &bin)
        .args(["check", "pg", "--db-host", "127.0.0.1", "--db-name", "app"])
        .env("RCLONE_REMOTE", local_remote(&remote))
        .run();
    out.assert_code(1);
    assert!(
        assert_fail(&out.stdout, "dump tool").contains(
            "pg_dump is not on PATH: install the PostgreSQL client, e.g. postgresql-client"
        ),
        "{}",
        out.stdout
    );
    assert!(
        assert_fail(&out.stdout, "database").contains("psql is not on PATH"),
        "{}",
        out.stdout
    );
    assert_ok(&out.stdout, "rclone");
    // A local folder that does not exist yet is fine: the first backup creates it.
    assert!(
        step(&out.stdout, "remote").contains("empty (created on first backup)"),
        "{}",
        out.stdout
    );
    assert_ok(&out.stdout, "remote");
    assert!(
        out.stdout.ends_with("check failed: dump tool, database\n"),
        "{}",
        out.stdout
    );
}

/// An S3 remote at `port` with the test server's credentials, written inline.
fn s3_remote_at(port: u16) -> String {
    format!(
        ":s3,provider=Rclone,endpoint='http://127.0.0.1:{port}',access_key_id=AKIDDBSTASHTEST01,secret_access_key={S3_SECRET}:bucket/backups"
    )
}

#[test]
fn an_unreachable_remote_fails_the_remote_step_fast_and_redacted() {
    let Some(pg) = pg::server() else { return };
    let db = pg.seeded_db("check_remote");
    let Some((d, _tmp)) = pg_check(&db, pg::PASSWORD) else {
        return;
    };
    let started = Instant::now();
    let out = d
        .env("RCLONE_REMOTE", s3_remote_at(closed_port()))
        .args(["check", "pg"])
        .run();
    let took = started.elapsed();
    eprintln!("check against a closed S3 port took {took:?}");
    out.assert_code(1);
    let line = assert_fail(&out.stdout, "remote");
    assert!(line.contains("listing :s3,provider=Rclone"), "{line}");
    assert!(line.contains("secret_access_key=***"), "{line}");
    assert!(out.stdout.contains("connection refused"), "{}", out.stdout);
    assert_ok(&out.stdout, "database");
    assert_no_secret(&out, &[S3_SECRET, pg::PASSWORD]);
    assert!(took < Duration::from_secs(30), "{took:?}");
}

/// A once-mode pg backup to `remote` with default rclone settings and a fake dump (the run
/// must fail before the dump starts); its output and how long it took.
fn backup_to(remote: &str) -> (Output, Duration) {
    let tmp = tempfile::tempdir().unwrap();
    write_script(
        tmp.path(),
        "pg_dump",
        "touch \"$FAKE_DIR/dumped\"; echo 'select 1;'",
    );
    let started = Instant::now();
    let out = Dbstash::new()
        .fake_bin(tmp.path())
        .env("FAKE_DIR", tmp.path())
        .args(["pg", "--db-host", "127.0.0.1", "--db-name", "app"])
        .args(["--backup-schedule", "once", "--rclone-remote", remote])
        .run();
    let took = started.elapsed();
    assert!(!tmp.path().join("dumped").exists(), "the dump ran");
    (out, took)
}

#[test]
fn a_closed_s3_port_fails_the_backup_within_the_bound() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let (out, took) = backup_to(&s3_remote_at(closed_port()));
    eprintln!("backup to a closed S3 port failed after {took:?}");
    out.assert_code(1);
    assert!(
        out.stderr
            .contains("listing :s3,provider=Rclone,endpoint='http://127.0.0.1:")
            && out
                .stderr
                .contains("secret_access_key=***:bucket/backups failed"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("connection refused"), "{}", out.stderr);
    assert_no_secret(&out, &[S3_SECRET]);
    assert!(took < Duration::from_secs(120), "{took:?}");
}

#[test]
fn an_s3_port_that_never_answers_fails_the_backup_within_the_bound() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let (out, took) = backup_to(&s3_remote_at(black_hole()));
    eprintln!("backup to a black-hole S3 port failed after {took:?}");
    out.assert_code(1);
    assert!(
        out.stderr
            .contains("listing :s3,provider=Rclone,endpoint='http://127.0.0.1:")
            && out
                .stderr
                .contains("rclone lsjson: no answer from :s3,provider=Rclone")
            && out
                .stderr
                .contains("secret_access_key=***:bucket/backups within 1m (stopped)"),
        "{}",
        out.stderr
    );
    assert_no_secret(&out, &[S3_SECRET]);
    assert!(took < Duration::from_secs(120), "{took:?}");
}

#[test]
fn a_dump_that_pauses_mid_stream_still_uploads_to_s3() {
    let Some(s3) = s3::server() else { return };
    let tmp = tempfile::tempdir().unwrap();
    // Longer than the control calls' idle timeout (20 s): the upload keeps rclone's own.
    write_script(
        tmp.path(),
        "pg_dump",
        "head -c 6000000 /dev/zero; sleep 25; head -c 1000000 /dev/zero",
    );
    let (remote, dir) = s3.bucket("pause");
    let started = Instant::now();
    let out = Dbstash::new()
        .fake_bin(tmp.path())
        .args(["pg", "--db-host", "127.0.0.1", "--db-name", "app"])
        .args(["--backup-schedule", "once", "--rclone-remote", &remote])
        .env("RCLONE_CONFIG_FILE", s3.conf_file(tmp.path()))
        .run();
    out.assert_code(0);
    assert!(started.elapsed() >= Duration::from_secs(25));
    let backup = single_backup(&dir, ".sql");
    assert_eq!(std::fs::metadata(backup).unwrap().len(), 7_000_000);
}

#[test]
fn mariadb_and_mysql_checks_log_in_with_the_dump_credentials() {
    let Some(m) = mariadb::server() else { return };
    let db = m.seeded_db("check_maria");
    let remote = tempfile::tempdir().unwrap();
    let run = |engine: &str, password: &str| {
        m.dbstash()
            .args(["check", engine])
            .env("DB_HOST", "127.0.0.1")
            .env("DB_PORT", m.port.to_string())
            .env("DB_USER", mariadb::USER)
            .env("DB_PASSWORD", password)
            .env("DB_NAME", &db)
            .env("RCLONE_REMOTE", local_remote(remote.path()))
            .run()
    };
    for engine in ["mariadb", "mysql"] {
        let out = run(engine, mariadb::PASSWORD);
        out.assert_code(0);
        assert!(
            step(&out.stdout, "database").contains(&format!("database {db}")),
            "{}",
            out.stdout
        );
        assert_no_secret(&out, &[mariadb::PASSWORD]);
    }
    let out = run("mariadb", "Wrong-Maria-1");
    out.assert_code(1);
    assert!(
        assert_fail(&out.stdout, "database").contains("Access denied for user 'root'"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("hint: the database rejected the login"),
        "{}",
        out.stdout
    );
    assert_no_secret(&out, &["Wrong-Maria-1", mariadb::PASSWORD]);
    // A database that does not exist fails the login too, as it would fail the dump.
    let out = m
        .dbstash()
        .args(["check", "mariadb"])
        .env("DB_URI", m.uri("no_such_db_here"))
        .env("RCLONE_REMOTE", local_remote(remote.path()))
        .run();
    out.assert_code(1);
    assert!(
        assert_fail(&out.stdout, "database").contains("Unknown database"),
        "{}",
        out.stdout
    );
}

#[test]
fn redis_checks_expect_a_pong_or_a_login() {
    let Some(r) = redis::server() else { return };
    let remote = tempfile::tempdir().unwrap();
    let run = |uri: String| {
        r.dbstash()
            .args(["check", "redis"])
            .env("DB_URI", uri)
            .env("RCLONE_REMOTE", local_remote(remote.path()))
            .run()
    };
    let out = run(r.uri(0));
    out.assert_code(0);
    assert!(
        step(&out.stdout, "database").contains("redis-cli logged in"),
        "{}",
        out.stdout
    );
    // The least-privilege backup user may not PING, but its login works (and so does --rdb).
    let out = run(format!(
        "redis://{}:{}@127.0.0.1:{}",
        redis::BACKUP_USER,
        redis::BACKUP_PASSWORD,
        r.port
    ));
    out.assert_code(0);
    // redis-cli exits 0 on a wrong password: the reply decides.
    let out = run(r.uri(0).replace(redis::PASSWORD, "Wrong-Redis-5"));
    out.assert_code(1);
    let line = assert_fail(&out.stdout, "database");
    assert!(line.contains("instead of PONG"), "{}", out.stdout);
    assert!(out.stdout.contains("WRONGPASS"), "{}", out.stdout);
    assert!(
        out.stdout.contains("hint: the database rejected the login"),
        "{}",
        out.stdout
    );
    // No password: NOAUTH.
    let out = run(format!("redis://127.0.0.1:{}", r.port));
    out.assert_code(1);
    assert!(
        out.stdout
            .contains("hint: the server asks for a password and none was given"),
        "{}",
        out.stdout
    );
    assert_no_secret(&out, &[redis::PASSWORD]);
}

/// A fake mongodump recording its argv and the --config file it got.
fn fake_mongodump(dir: &Path, on_check: &str) {
    write_script(
        dir,
        "mongodump",
        &format!(
            r#"if [ "$1" = "--version" ]; then echo "mongodump version: 100.9.4"; echo "git version: x"; exit 0; fi
echo "$@" >> "$FAKE_DIR/mongodump.argv"
case "$1" in --config=*) f="${{1#--config=}}"; cp "$f" "$FAKE_DIR/config.copy"; stat -L -c %a "$f" > "$FAKE_DIR/config.mode";; esac
{on_check}"#
        ),
    );
}

#[test]
fn the_mongo_check_runs_mongodump_on_a_collection_that_cannot_exist() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    fake_mongodump(
        tmp.path(),
        r#"echo "namespace with DB shop and collection dbstash-check-no-such-collection does not exist" >&2"#,
    );
    let remote = tmp.path().join("remote");
    let run = || {
        Dbstash::new()
            .fake_bin(tmp.path())
            .env("FAKE_DIR", tmp.path())
            .args(["check", "mongo"])
            .env(
                "DB_URI",
                "mongodb://app:Mongo-Secret-3@m1:27017/shop?tls=true",
            )
            .env("DB_AUTH_SOURCE", "users")
            .env("DUMP_EXTRA_ARGS", "--tlsCAFile /ca.pem --oplog")
            .env("RCLONE_REMOTE", local_remote(&remote))
            .run()
    };
    let out = run();
    out.assert_code(0);
    assert!(
        step(&out.stdout, "dump tool").contains("mongodump version: 100.9.4"),
        "{}",
        out.stdout
    );
    let argv = std::fs::read_to_string(tmp.path().join("mongodump.argv")).unwrap();
    let argv = argv.trim();
    let (config, rest) = argv.split_once(' ').unwrap();
    assert!(config.starts_with("--config=/"), "{argv}");
    assert_eq!(
        rest,
        "--db=shop --collection=dbstash-check-no-such-collection --archive=/dev/null --tlsCAFile /ca.pem"
    );
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("config.copy")).unwrap(),
        "uri: \"mongodb://app:Mongo-Secret-3@m1:27017/?tls=true&authSource=users\"\n"
    );
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("config.mode"))
            .unwrap()
            .trim(),
        "600"
    );
    assert_no_secret(&out, &["Mongo-Secret-3"]);

    // Authentication failed, as mongodump reports it.
    std::fs::remove_file(tmp.path().join("mongodump")).unwrap();
    fake_mongodump(
        tmp.path(),
        r#"echo "Failed: can't create session: failed to connect to mongodb://m1:27017/: connection() error occurred during connection handshake: auth error: sasl conversation error: unable to authenticate using mechanism \"SCRAM-SHA-256\": (AuthenticationFailed) Authentication failed." >&2; exit 1"#,
    );
    let out = run();
    out.assert_code(1);
    assert!(
        assert_fail(&out.stdout, "database").contains("mongodump exited with status 1"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("hint: the database rejected the login"),
        "{}",
        out.stdout
    );
}

#[test]
fn relative_remote_paths_are_refused_and_absolute_ones_shown_as_local() {
    let out = Dbstash::new()
        .args(["pg", "--db-host", "h", "--db-name", "app"])
        .args(["--backup-schedule", "once"])
        .env("RCLONE_REMOTE", "s3/my-bucket/backups")
        .run();
    out.assert_code(2);
    assert!(
        out.stderr.contains(
            "RCLONE_REMOTE (--rclone-remote): 's3/my-bucket/backups' is a relative local path"
        ) && out.stderr.contains(
            "Did you forget the colon? A remote is written name:path, e.g. 's3:my-bucket/backups'"
        ) && out.stderr.contains("absolute path such as /backups"),
        "{}",
        out.stderr
    );
    let out = Dbstash::new()
        .args(["check", "pg", "--db-host", "h", "--db-name", "app"])
        .env("RCLONE_REMOTE", "backups")
        .run();
    out.assert_code(2);

    let out = Dbstash::new()
        .args(["pg", "--db-host", "h", "--db-name", "app", "--dry-run"])
        .args(["--backup-schedule", "once"])
        .env("RCLONE_REMOTE", "/backups/pg")
        .run();
    out.assert_code(0);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.contains("RCLONE_REMOTE") && l.ends_with("/backups/pg (local path)")),
        "{}",
        out.stdout
    );
}

#[test]
fn the_daemon_preflight_reports_a_wrong_password_at_start_and_turns_healthz_503() {
    let Some(pg) = pg::server() else { return };
    let Some(s3) = s3::server() else { return };
    let db = pg.seeded_db("preflight");
    let tmp = tempfile::tempdir().unwrap();
    let (remote, _) = s3.bucket("preflight");
    let port = free_port();
    let started = Instant::now();
    let child = Command::new(BIN)
        .env_clear()
        .env(
            "PATH",
            format!("{}:{}", pg.bin.display(), std::env::var("PATH").unwrap()),
        )
        .env("HOME", tmp.path())
        .env("ENGINE", "pg")
        .env(
            "DB_URI",
            pg.uri(&db).replace(pg::PASSWORD, "Wrong-Daemon-8"),
        )
        .env("RCLONE_CONFIG_FILE", s3.conf_file(tmp.path()))
        .env("RCLONE_REMOTE", &remote)
        // Far away: no scheduled run happens during the test.
        .env("BACKUP_SCHEDULE", "0 0 1 1 *")
        .env("BACKUP_TEMP_DIR", tmp.path().join("work"))
        .env("HEALTH_ADDR", format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_port(port, "dbstash health endpoint");
    wait_for("/healthz 503 after the preflight", 20, || {
        http_get(port, "/healthz").0 == 503
    });
    let took = started.elapsed();
    let (_, body) = http_get(port, "/healthz");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "preflight_failed", "{body}");
    let reason = json["preflight_error"].as_str().unwrap();
    assert!(
        reason.starts_with("database: psql exited with status 2")
            && reason.contains("password authentication failed")
            && reason.contains("hint: the database rejected the login"),
        "{reason}"
    );
    assert!(json["last_run"].is_null(), "no backup ran: {body}");
    assert!(!body.contains("Wrong-Daemon-8"), "{body}");
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    eprintln!("preflight failure visible after {took:?}");
    assert!(took < Duration::from_secs(15), "{took:?}");
    let error_line = stderr
        .lines()
        .find(|l| l.contains("error preflight failed"))
        .unwrap_or_else(|| panic!("no preflight error in:\n{stderr}"));
    assert!(error_line.contains("engine=pg"), "{error_line}");
    assert!(
        stderr.contains("database: psql exited with status 2"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warn BACKUP_TIMEOUT is not set: a dump that hangs"),
        "{stderr}"
    );
    assert!(!stderr.contains("Wrong-Daemon-8"), "{stderr}");
    assert!(!stderr.contains("backup started"), "{stderr}");
}
