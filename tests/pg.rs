//! PostgreSQL against a real throwaway server, uploading to a real S3-protocol remote
//! (`rclone serve s3`) and to `:local:`; every backup is restored and compared.

use std::path::Path;
use std::process::Command;

use base64::Engine as _;

use crate::support::pg::{self, Pg};
use crate::support::*;

/// Servers, or `None` (test skipped loudly outside CI, failed under CI).
fn pg_and_s3() -> Option<(&'static Pg, &'static s3::S3)> {
    let pg = pg::server()?;
    let s3 = s3::server()?;
    Some((pg, s3))
}

fn restore_matches(pg: &Pg, source_db: &str, backup: &Path, custom: bool) {
    let fresh = unique("restored");
    pg.create_db(&fresh);
    if custom {
        pg.restore_custom(&fresh, backup);
    } else {
        pg.restore_sql(&fresh, backup);
    }
    assert_eq!(
        pg.contents(&fresh),
        pg.contents(source_db),
        "restored data differs"
    );
}

#[test]
fn plain_backup_to_s3_in_docker_mode_restores() {
    let Some((pg, s3)) = pg_and_s3() else { return };
    let db = pg.seeded_db("plain");
    let (remote, bucket) = s3.bucket("plain");
    let out = pg
        .dbstash()
        .env("ENGINE", "pg")
        .env("DB_URI", pg.uri(&db))
        .env("RCLONE_REMOTE", format!("{remote}/nightly"))
        .env(
            "RCLONE_CONFIG",
            base64::engine::general_purpose::STANDARD.encode(s3.rclone_conf()),
        )
        .env("BACKUP_SCHEDULE", "once")
        .run();
    out.assert_code(0);
    let backup = single_backup(&bucket.join("nightly"), ".sql");
    assert!(backup
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with(&format!("{db}-")));
    restore_matches(pg, &db, &backup, false);
    assert!(out.stderr.contains("backup succeeded"), "{}", out.stderr);
}

#[test]
fn compressed_backup_with_host_fields_restores_with_pg_restore() {
    let Some(pg) = pg::server() else { return };
    let db = pg.seeded_db("custom");
    let remote = tempfile::tempdir().unwrap();
    let pwfile = remote.path().join("pw");
    std::fs::write(&pwfile, format!("{}\n", pg::PASSWORD)).unwrap();
    let out = pg
        .dbstash()
        .args([
            "pg",
            "--db-host",
            "127.0.0.1",
            "--db-port",
            &pg.port.to_string(),
            "--db-user",
            pg::USER,
            "--db-name",
            &db,
        ])
        .args(["--backup-compress", "--backup-schedule", "once"])
        .env("DB_PASSWORD_FILE", &pwfile)
        .env("RCLONE_REMOTE", local_remote(&remote.path().join("out")))
        .run();
    out.assert_code(0);
    let backup = single_backup(&remote.path().join("out"), ".dump");
    restore_matches(pg, &db, &backup, true);
}

#[test]
fn all_databases_use_pg_dumpall_and_restore_into_a_new_cluster() {
    let Some(source) = pg::start() else { return };
    let a = source.seeded_db("alla");
    let b = source.seeded_db("allb");
    let remote = tempfile::tempdir().unwrap();
    let out = source
        .dbstash()
        .args(["pg", "--backup-all-databases", "--backup-schedule=once"])
        .env(
            "DB_URI",
            format!(
                "postgresql://{}:{}@127.0.0.1:{}",
                pg::USER,
                pg::PASSWORD,
                source.port
            ),
        )
        .env("RCLONE_REMOTE", local_remote(remote.path()))
        .run();
    out.assert_code(0);
    let backup = single_backup(remote.path(), ".sql");
    assert!(
        backup
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("all-"),
        "{backup:?}"
    );

    let target = pg::start().expect("second cluster");
    // pg_dumpall recreates the roles; the superuser already exists, so no ON_ERROR_STOP here.
    let restore = Command::new(target.bin.join("psql"))
        .env("PGPASSWORD", pg::PASSWORD)
        .args([
            "-X",
            "-q",
            "-h",
            "127.0.0.1",
            "-p",
            &target.port.to_string(),
            "-U",
            pg::USER,
            "-d",
            "postgres",
            "-f",
        ])
        .arg(&backup)
        .output()
        .unwrap();
    assert!(
        restore.status.success(),
        "{}",
        String::from_utf8_lossy(&restore.stderr)
    );
    assert_eq!(target.contents(&a), source.contents(&a));
    assert_eq!(target.contents(&b), source.contents(&b));
}

#[test]
fn failed_dump_leaves_nothing_on_either_remote() {
    let Some((_, s3)) = pg_and_s3() else { return };
    // Data first, then failure: small (fits the pipe) and large (rclone already received it).
    for (size, label) in [(20, "small"), (6_000_000, "large")] {
        let fake = tempfile::tempdir().unwrap();
        write_script(
            fake.path(),
            "pg_dump",
            &format!(
                "head -c {size} /dev/zero\necho 'pg_dump: error: connection lost' >&2\nexit 1"
            ),
        );
        let local = tempfile::tempdir().unwrap();
        let (s3_remote, bucket) = s3.bucket("failed");
        let conf = s3.conf_file(local.path());
        for (remote, dir) in [
            (
                local_remote(&local.path().join("out")),
                local.path().join("out"),
            ),
            (s3_remote, bucket),
        ] {
            let out = Dbstash::new()
                .fake_bin(fake.path())
                .args([
                    "pg",
                    "--db-host",
                    "127.0.0.1",
                    "--db-name",
                    "app",
                    "--backup-schedule",
                    "once",
                ])
                .env("RCLONE_REMOTE", &remote)
                .env("RCLONE_CONFIG_FILE", &conf)
                .run();
            out.assert_code(1);
            assert!(
                out.stderr
                    .contains("pg_dump exited with status 1: pg_dump: error: connection lost"),
                "{label}: {}",
                out.stderr
            );
            // serve s3 may keep a hidden multipart temp file of the killed upload; the local
            // remote must not even keep a hidden staging file.
            let left = if remote.starts_with(":local:") {
                all_files_in(&dir)
            } else {
                files_in(&dir)
            };
            assert_eq!(
                left,
                Vec::<String>::new(),
                "{label} {remote}: nothing may be left"
            );
        }
    }
}

#[test]
fn wrong_password_fails_with_the_tools_message_and_leaves_nothing() {
    let Some((pg, s3)) = pg_and_s3() else { return };
    let db = pg.seeded_db("badpw");
    let (remote, bucket) = s3.bucket("badpw");
    let tmp = tempfile::tempdir().unwrap();
    let conf = s3.conf_file(tmp.path());
    let out = pg
        .dbstash()
        .args(["pg", "--backup-schedule", "once"])
        .env(
            "DB_URI",
            format!("postgresql://{}:wrong@127.0.0.1:{}/{db}", pg::USER, pg.port),
        )
        .env("RCLONE_REMOTE", &remote)
        .env("RCLONE_CONFIG_FILE", &conf)
        .run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("password authentication failed"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("wrong@"), "{}", out.stderr);
    assert_eq!(files_in(&bucket), Vec::<String>::new());
}

#[test]
fn retention_deletes_only_this_configs_expired_backups() {
    let Some(pg) = pg::server() else { return };
    let db = pg.seeded_db("ret");
    let remote = tempfile::tempdir().unwrap();
    let dir = remote.path();
    let touch_old = |name: &str, days: u32| {
        std::fs::write(dir.join(name), "old").unwrap();
        let ok = Command::new("touch")
            .args(["-d", &format!("{days} days ago")])
            .arg(dir.join(name))
            .status()
            .unwrap();
        assert!(ok.success());
    };
    // An expired backup of this config (with sidecar) and things that only look similar.
    let old = format!("{db}-2020-01-01-000000-deadbeef.sql");
    touch_old(&old, 30);
    touch_old(&format!("{old}.sha256"), 30);
    let foreign = [
        "notes.txt".to_string(),
        format!("other{db}-2020-01-01-000000-deadbeef.sql"),
        format!("{db}-2020-01-01-000000-deadbeef.sql.bak"),
        format!("{db}-2020-01-01-000000-deadbeef.dump"),
        format!("{db}-latest.sql"),
    ];
    for f in &foreign {
        touch_old(f, 400);
    }
    let run = |extra: &[&str]| {
        let out = pg
            .dbstash()
            .args([
                "pg",
                "--backup-schedule",
                "once",
                "--backup-name-template",
                "{db}-{date}-{time}-{uuid}",
            ])
            .args(extra)
            .env("DB_URI", pg.uri(&db))
            .env("RCLONE_REMOTE", local_remote(dir))
            .run();
        out.assert_code(0);
        out
    };

    let out = run(&["--retention-max-days", "7"]);
    assert!(
        out.stderr.contains(&format!(
            "retention: deleted expired backup engine=pg database={db}"
        )),
        "{}",
        out.stderr
    );
    let files = files_in(dir);
    assert!(
        !files.contains(&old) && !files.contains(&format!("{old}.sha256")),
        "expired backup and sidecar go: {files:?}"
    );
    for f in &foreign {
        assert!(files.contains(f), "{f} must survive: {files:?}");
    }
    let first: Vec<String> = files
        .iter()
        .filter(|f| f.ends_with(".sql") && !foreign.contains(f))
        .cloned()
        .collect();
    assert_eq!(first.len(), 1, "{files:?}");

    run(&[]);
    run(&["--retention-max-files", "2"]);
    let files = files_in(dir);
    let ours: Vec<&String> = files
        .iter()
        .filter(|f| f.starts_with(&format!("{db}-2")) && f.ends_with(".sql"))
        .filter(|f| !foreign.contains(f))
        .collect();
    assert_eq!(ours.len(), 2, "max files 2: {files:?}");
    assert!(
        !files.contains(&first[0]) && !files.contains(&format!("{}.sha256", first[0])),
        "oldest goes with its sidecar: {files:?}"
    );
    for f in &foreign {
        assert!(files.contains(f), "{f} must survive: {files:?}");
    }
    for b in ours {
        assert!(files.contains(&format!("{b}.sha256")), "{files:?}");
    }
}

#[test]
fn retention_on_s3_keeps_foreign_objects() {
    let Some((pg, s3)) = pg_and_s3() else { return };
    let db = pg.seeded_db("rets3");
    let (remote, bucket) = s3.bucket("rets3");
    std::fs::write(bucket.join("README.txt"), "not a backup").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let conf = s3.conf_file(tmp.path());
    for _ in 0..3 {
        pg.dbstash()
            .args([
                "pg",
                "--backup-schedule",
                "once",
                "--retention-max-files",
                "1",
                "--backup-name-template",
                "{db}-{ts}-{uuid}",
            ])
            .env("DB_URI", pg.uri(&db))
            .env("RCLONE_REMOTE", &remote)
            .env("RCLONE_CONFIG_FILE", &conf)
            .run()
            .assert_code(0);
    }
    let files = files_in(&bucket);
    assert!(files.contains(&"README.txt".to_string()), "{files:?}");
    assert_eq!(
        files.len(),
        3,
        "README + one backup + its sidecar: {files:?}"
    );
    let backup = single_backup(&bucket, ".sql");
    restore_matches(pg, &db, &backup, false);
}

#[test]
fn an_existing_backup_is_never_overwritten() {
    let Some(pg) = pg::server() else { return };
    let db = pg.seeded_db("clash");
    let remote = tempfile::tempdir().unwrap();
    let run = || {
        pg.dbstash()
            .args([
                "pg",
                "--backup-schedule",
                "once",
                "--backup-name-template",
                "{db}-fixed",
            ])
            .env("DB_URI", pg.uri(&db))
            .env("RCLONE_REMOTE", local_remote(remote.path()))
            .run()
    };
    run().assert_code(0);
    let backup = single_backup(remote.path(), ".sql");
    let before = sha256_hex(&backup);
    pg.psql(&db, "insert into orders(customer, total) values (1, 99)");
    let out = run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("already exists: refusing to overwrite"),
        "{}",
        out.stderr
    );
    assert_eq!(sha256_hex(&backup), before, "the first backup is untouched");
    single_backup(remote.path(), ".sql");
}

#[test]
fn json_logs_carry_engine_database_and_backup_id_on_every_line() {
    let Some(pg) = pg::server() else { return };
    let db = pg.seeded_db("json");
    let remote = tempfile::tempdir().unwrap();
    let out = pg
        .dbstash()
        .args([
            "pg",
            "--backup-schedule",
            "once",
            "--log-format",
            "json",
            "--retention-max-files",
            "3",
        ])
        .env("DB_URI", pg.uri(&db))
        .env("RCLONE_REMOTE", local_remote(remote.path()))
        .run();
    out.assert_code(0);
    let lines: Vec<serde_json::Value> = out
        .stderr
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))
        })
        .collect();
    assert!(lines.len() >= 3, "{}", out.stderr);
    let id = lines[0]["backup_id"]
        .as_str()
        .expect("backup_id")
        .to_string();
    assert_eq!(id.len(), 8);
    for l in &lines {
        assert_eq!(l["engine"], "pg", "{l}");
        assert_eq!(l["database"], db.as_str(), "{l}");
        assert_eq!(l["backup_id"], id.as_str(), "{l}");
        assert!(l["timestamp"].is_string() && l["level"].is_string(), "{l}");
    }
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "backup succeeded");
    let backup = single_backup(remote.path(), ".sql");
    assert_eq!(last["sha256"], sha256_hex(&backup).as_str());
    assert_eq!(
        last["bytes"].as_u64(),
        Some(std::fs::metadata(&backup).unwrap().len())
    );
    assert!(last["duration"].as_str().unwrap().ends_with('s'), "{last}");
    assert!(!out.stderr.contains(pg::PASSWORD));
}

#[test]
fn sslpassword_in_the_uri_reaches_libpq_through_a_service_file() {
    let Some(pg) = pg::server() else { return };
    let db = pg.seeded_db("svc");
    let remote = tempfile::tempdir().unwrap();
    // sslmode=disable: the passphrase is not needed, but libpq must find the service
    // `dbstash` that carries it, or it refuses to connect.
    let out = pg
        .dbstash()
        .args(["pg", "--backup-schedule", "once"])
        .env(
            "DB_URI",
            format!(
                "{}?sslmode=disable&sslpassword=Key-Pass-9&application_name=db%20stash",
                pg.uri(&db)
            ),
        )
        .env("RCLONE_REMOTE", local_remote(remote.path()))
        .run();
    out.assert_code(0);
    assert!(!out.stderr.contains("Key-Pass-9"), "{}", out.stderr);
    assert!(
        out.stderr.contains("PGSERVICEFILE=<0600 memory file>"),
        "{}",
        out.stderr
    );
    let backup = single_backup(remote.path(), ".sql");
    restore_matches(pg, &db, &backup, false);
}
