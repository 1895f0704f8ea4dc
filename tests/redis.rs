//! The Redis engine against a real throwaway Redis 7 with a password and an ACL user: every
//! backup must pass `redis-check-rdb` and load into a fresh server with the same keys.

use std::path::Path;

use crate::support::redis::{self, Redis};
use crate::support::*;

/// The backup is a valid RDB that brings back every seeded key of every database.
fn loads_with_same_keys(r: &Redis, prefix: &str, backup: &Path) {
    let Some(report) = redis::check_rdb(backup) else {
        return;
    };
    assert!(report.contains("RDB looks OK"), "{report}");
    let source = r.contents(prefix);
    for db in redis::SEEDED_DBS {
        assert!(source.contains(&format!("db{db} {prefix}:")), "{source}");
    }
    let loaded = redis::load_rdb(backup).expect("redis-server was there a moment ago");
    assert_eq!(loaded.contents(prefix), source, "loaded keys differ");
}

/// What the wrapper saw: `redis-cli --rdb -` with the password in REDISCLI_AUTH only.
fn assert_rdb_invocation(log: &Path, password: &str) -> String {
    let log = std::fs::read_to_string(log)
        .unwrap_or_else(|e| panic!("redis-cli was not run ({e}): {}", log.display()));
    assert!(log.contains("--rdb -"), "{log}");
    assert!(!log.contains(password), "password on argv:\n{log}");
    assert!(log.contains("REDISCLI_AUTH: set"), "{log}");
    log
}

#[test]
fn uri_backup_through_s3_loads_into_a_fresh_server() {
    let Some(redis_cli) = require("redis-cli", redis::INSTALL) else {
        return;
    };
    let Some(r) = redis::server() else { return };
    let Some(s3) = s3::server() else { return };
    let prefix = r.seed("uri");
    let tmp = tempfile::tempdir().unwrap();
    let conf = s3.conf_file(tmp.path());
    let log = recording_wrapper(tmp.path(), "redis-cli", &redis_cli, "REDISCLI_AUTH");
    let (remote, bucket) = s3.bucket("redis");

    let out = r
        .dbstash()
        .fake_bin(tmp.path())
        .args(["redis", "--backup-schedule", "once"])
        .env("DB_URI", r.uri(0))
        .env("RCLONE_REMOTE", &remote)
        .env("RCLONE_CONFIG_FILE", &conf)
        .run();
    out.assert_code(0);
    assert!(out.stderr.contains("backup succeeded"), "{}", out.stderr);
    assert!(!out.stderr.contains(redis::PASSWORD), "{}", out.stderr);
    assert_rdb_invocation(&log, redis::PASSWORD);
    let backup = single_backup(&bucket, ".rdb");
    loads_with_same_keys(r, &prefix, &backup);
}

/// An ACL user that may run only SYNC and REPLCONF is enough; DB_NAME is just the label.
#[test]
fn acl_user_with_host_fields_backs_up_every_database() {
    let Some(r) = redis::server() else { return };
    let prefix = r.seed("acl");
    let remote = tempfile::tempdir().unwrap();
    let out = r
        .dbstash()
        .args([
            "redis",
            "--db-host",
            "127.0.0.1",
            "--db-port",
            &r.port.to_string(),
            "--db-user",
            redis::BACKUP_USER,
            "--db-name",
            "cache",
            "--backup-schedule",
            "once",
        ])
        .env("DB_PASSWORD", redis::BACKUP_PASSWORD)
        .env("RCLONE_REMOTE", local_remote(remote.path()))
        .run();
    out.assert_code(0);
    let backup = single_backup(remote.path(), ".rdb");
    assert!(file_name(&backup).starts_with("cache-"), "{backup:?}");
    loads_with_same_keys(r, &prefix, &backup);
}

/// Without DB_NAME, `{db}` is `all` (Docker mode, env only).
#[test]
fn without_a_database_name_the_backup_is_named_all() {
    let Some(r) = redis::server() else { return };
    let prefix = r.seed("noname");
    let remote = tempfile::tempdir().unwrap();
    let out = r
        .dbstash()
        .env("ENGINE", "redis")
        .env("DB_HOST", "127.0.0.1")
        .env("DB_PORT", r.port.to_string())
        .env("DB_PASSWORD", redis::PASSWORD)
        .env("BACKUP_SCHEDULE", "once")
        .env("RCLONE_REMOTE", local_remote(remote.path()))
        .run();
    out.assert_code(0);
    let backup = single_backup(remote.path(), ".rdb");
    assert!(file_name(&backup).starts_with("all-"), "{backup:?}");
    loads_with_same_keys(r, &prefix, &backup);
}

#[test]
fn wrong_or_missing_password_fails_with_redis_clis_message_and_leaves_nothing() {
    let Some(r) = redis::server() else { return };
    let Some(s3) = s3::server() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let conf = s3.conf_file(tmp.path());
    let port = r.port.to_string();
    let uri = |user: &str| format!("redis://{user}:wrong-pw@127.0.0.1:{port}/0");
    let cases = [
        (
            "wrong password",
            vec!["--db-uri".into(), uri("")],
            "WRONGPASS",
        ),
        (
            "wrong ACL password",
            vec!["--db-uri".into(), uri(redis::BACKUP_USER)],
            "WRONGPASS",
        ),
        (
            "no password",
            ["--db-host", "127.0.0.1", "--db-port", &port]
                .map(String::from)
                .to_vec(),
            "NOAUTH Authentication required",
        ),
    ];
    for (label, args, expected) in cases {
        let (remote, bucket) = s3.bucket("redisbad");
        let out = r
            .dbstash()
            .args(["redis", "--backup-schedule", "once"])
            .args(&args)
            .env("RCLONE_REMOTE", &remote)
            .env("RCLONE_CONFIG_FILE", &conf)
            .run();
        out.assert_code(1);
        for needle in ["redis-cli exited with status", expected] {
            assert!(out.stderr.contains(needle), "{label}: {}", out.stderr);
        }
        assert!(!out.stderr.contains("wrong-pw"), "{label}: {}", out.stderr);
        assert_eq!(files_in(&bucket), Vec::<String>::new(), "{label}");
    }
}
