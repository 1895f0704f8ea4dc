//! MySQL and MariaDB engines against a real throwaway MariaDB 10.11 (Debian's `mysqldump`
//! is its `mariadb-dump`), uploading to a real S3-protocol remote (`rclone serve s3`) and to
//! `:local:`; every backup is restored with the `mariadb` client and compared.

use std::path::Path;

use crate::support::mariadb::{self, Maria};
use crate::support::*;

fn restore_matches(m: &Maria, source_db: &str, backup: &Path) {
    let fresh = unique("restored");
    m.create_db(&fresh);
    m.restore(&fresh, backup);
    assert_eq!(
        m.contents(&fresh),
        m.contents(source_db),
        "restored data differs"
    );
}

/// What the wrapper saw: the dump tool ran once, with --single-transaction and
/// `must_have`, the password in MYSQL_PWD and nowhere on its command line.
fn assert_dump_invocation(log: &Path, tool: &str, must_have: &str) {
    let log = std::fs::read_to_string(log)
        .unwrap_or_else(|e| panic!("{tool} was not run ({e}): {}", log.display()));
    let argv: Vec<&str> = log.lines().filter(|l| l.starts_with("argv: ")).collect();
    assert_eq!(argv.len(), 1, "{tool} runs once:\n{log}");
    for needle in ["--single-transaction", must_have] {
        assert!(argv[0].contains(needle), "{tool} lacks {needle}:\n{log}");
    }
    assert!(!log.contains(mariadb::PASSWORD), "password on argv:\n{log}");
    assert!(log.contains("MYSQL_PWD: set"), "MYSQL_PWD not set:\n{log}");
}

/// Back up a seeded database with `engine` through serve s3, check the name, the sidecar,
/// the tool's invocation and the dump's shape, and restore it into a new database.
fn round_trip_through_s3(
    engine: &str,
    tool: &str,
    connect: impl FnOnce(Dbstash, &Maria, &str) -> Dbstash,
) {
    let Some(real_tool) = require(tool, mariadb::INSTALL) else {
        return;
    };
    let Some(m) = mariadb::server() else { return };
    let Some(s3) = s3::server() else { return };
    let db = m.seeded_db(engine);
    let tmp = tempfile::tempdir().unwrap();
    let conf = s3.conf_file(tmp.path());
    let wrappers = tmp.path().join("bin");
    std::fs::create_dir(&wrappers).unwrap();
    let log = recording_wrapper(&wrappers, tool, &real_tool, "MYSQL_PWD");
    let (remote, bucket) = s3.bucket(engine);

    let out = connect(m.dbstash(), m, &db)
        .fake_bin(&wrappers)
        .args(["--backup-schedule", "once"])
        .env("RCLONE_REMOTE", format!("{remote}/{engine}"))
        .env("RCLONE_CONFIG_FILE", &conf)
        .run();
    out.assert_code(0);
    assert!(out.stderr.contains("backup succeeded"), "{}", out.stderr);
    assert!(!out.stderr.contains(mariadb::PASSWORD), "{}", out.stderr);
    assert_dump_invocation(&log, tool, &db);

    let backup = single_backup(&bucket.join(engine), ".sql");
    assert!(
        file_name(&backup).starts_with(&format!("{db}-")),
        "{backup:?}"
    );
    // Binary columns are written as raw bytes (no --hex-blob), so not UTF-8 as a whole.
    let sql = String::from_utf8_lossy(&std::fs::read(&backup).unwrap()).into_owned();
    assert!(
        sql.contains("-- Dump completed"),
        "a complete dump: {sql:.300}"
    );
    // A single-database dump names no database, so it restores under any name.
    assert!(!sql.contains("CREATE DATABASE"), "{sql:.600}");
    assert!(!sql.contains("\nUSE `"), "{sql:.600}");
    restore_matches(m, &db, &backup);
}

#[test]
fn mysql_backup_from_a_uri_through_s3_restores_into_a_new_database() {
    round_trip_through_s3("mysql", "mysqldump", |d, m, db| {
        d.args(["mysql", "--db-uri", &m.uri(db)])
    });
}

#[test]
fn mariadb_backup_from_host_fields_through_s3_restores_into_a_new_database() {
    round_trip_through_s3("mariadb", "mariadb-dump", |d, m, db| {
        d.args([
            "mariadb",
            "--db-host",
            "127.0.0.1",
            "--db-port",
            &m.port.to_string(),
            "--db-user",
            mariadb::USER,
            "--db-name",
            db,
        ])
        .env("DB_PASSWORD", mariadb::PASSWORD)
    });
}

/// A dump of every database (Docker mode: ENGINE and env only) restores into another
/// server. The source is a server of its own: a consistent snapshot of a server where other
/// tests create tables meanwhile can fail with "Table definition has changed".
#[test]
fn mariadb_all_databases_restore_into_a_new_server() {
    let Some(real_tool) = require("mariadb-dump", mariadb::INSTALL) else {
        return;
    };
    let (source, target) = std::thread::scope(|s| {
        let source = s.spawn(mariadb::start);
        let target = s.spawn(mariadb::start);
        (source.join().unwrap(), target.join().unwrap())
    });
    let (Some(source), Some(target)) = (source, target) else {
        return;
    };
    let a = source.seeded_db("alla");
    let b = source.seeded_db("allb");
    let remote = tempfile::tempdir().unwrap();
    let wrappers = tempfile::tempdir().unwrap();
    let log = recording_wrapper(wrappers.path(), "mariadb-dump", &real_tool, "MYSQL_PWD");
    let out = source
        .dbstash()
        .fake_bin(wrappers.path())
        .env("ENGINE", "mariadb")
        .env("DB_HOST", "127.0.0.1")
        .env("DB_PORT", source.port.to_string())
        .env("DB_USER", mariadb::USER)
        .env("DB_PASSWORD", mariadb::PASSWORD)
        .env("BACKUP_ALL_DATABASES", "true")
        .env("BACKUP_SCHEDULE", "once")
        .env("RCLONE_REMOTE", local_remote(remote.path()))
        .run();
    out.assert_code(0);
    assert_dump_invocation(&log, "mariadb-dump", "--all-databases");
    let backup = single_backup(remote.path(), ".sql");
    assert!(file_name(&backup).starts_with("all-"), "{backup:?}");

    target.restore("", &backup);
    assert_eq!(target.contents(&a), source.contents(&a));
    assert_eq!(target.contents(&b), source.contents(&b));
}

#[test]
fn wrong_password_fails_with_the_tools_message_and_leaves_nothing() {
    let Some(m) = mariadb::server() else { return };
    let Some(s3) = s3::server() else { return };
    let db = m.seeded_db("badpw");
    let tmp = tempfile::tempdir().unwrap();
    let conf = s3.conf_file(tmp.path());
    for engine in ["mysql", "mariadb"] {
        let (remote, bucket) = s3.bucket("badpw");
        let out = m
            .dbstash()
            .args([engine, "--backup-schedule", "once"])
            .env(
                "DB_URI",
                format!(
                    "{engine}://{}:wrong-pw@127.0.0.1:{}/{db}",
                    mariadb::USER,
                    m.port
                ),
            )
            .env("RCLONE_REMOTE", &remote)
            .env("RCLONE_CONFIG_FILE", &conf)
            .run();
        out.assert_code(1);
        for needle in ["exited with status 2", "Access denied for user 'root'"] {
            assert!(out.stderr.contains(needle), "{engine}: {}", out.stderr);
        }
        assert!(!out.stderr.contains("wrong-pw"), "{engine}: {}", out.stderr);
        assert_eq!(files_in(&bucket), Vec::<String>::new(), "{engine}");
    }
}

#[test]
fn a_missing_database_fails_and_leaves_nothing() {
    let Some(m) = mariadb::server() else { return };
    let remote = tempfile::tempdir().unwrap();
    let out = m
        .dbstash()
        .args(["mariadb", "--backup-schedule", "once"])
        .env("DB_URI", m.uri("no_such_db"))
        .env("RCLONE_REMOTE", local_remote(&remote.path().join("out")))
        .run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("Unknown database 'no_such_db'"),
        "{}",
        out.stderr
    );
    assert_eq!(
        all_files_in(&remote.path().join("out")),
        Vec::<String>::new()
    );
}
