//! Look-alike backups in one folder (issue 9, item 2): retention of one database never
//! deletes another's backups, with `{db}{ts}` (`small` next to `small1`) and with the default
//! template (`a/b` next to `a_b`).

use std::path::Path;

use crate::support::*;

/// `dbstash pg` backing up `db` once into `dir` (`:local:`), keeping one backup.
fn backup(fake: &Path, dir: &Path, db: &str, template: &str) -> Output {
    Dbstash::new()
        .fake_bin(fake)
        .args([
            "pg",
            "--db-host",
            "127.0.0.1",
            "--db-name",
            db,
            "--backup-schedule",
            "once",
        ])
        .env("RCLONE_REMOTE", local_remote(dir))
        .env("BACKUP_NAME_TEMPLATE", template)
        .env("RETENTION_MAX_FILES", "1")
        .env("TZ", "UTC")
        .run()
}

/// Older complete backups (object and sidecar) under these names.
fn plant(dir: &Path, names: &[&str]) {
    std::fs::create_dir_all(dir).unwrap();
    for n in names {
        std::fs::write(dir.join(n), "old\n").unwrap();
        std::fs::write(
            dir.join(format!("{n}.sha256")),
            format!("{}  {n}\n", sha256_hex(&dir.join(n))),
        )
        .unwrap();
    }
}

fn backups(dir: &Path) -> Vec<String> {
    files_in(dir)
        .into_iter()
        .filter(|n| n.ends_with(".sql"))
        .collect()
}

#[test]
fn retention_of_one_database_keeps_a_look_alike_databases_backups() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let fake = tempfile::tempdir().unwrap();
    write_script(fake.path(), "pg_dump", "echo 'select 1;'");

    // `{db}{ts}`: small's names are small + 10 digits, small1's are small1 + 10 digits.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("remote");
    let small_old = ["small1700000000.sql", "small1700000100.sql"];
    let small1_old = ["small11700000000.sql", "small11700000100.sql"];
    plant(&dir, &small_old);
    plant(&dir, &small1_old);
    backup(fake.path(), &dir, "small", "{db}{ts}").assert_code(0);
    let after = backups(&dir);
    for n in small_old {
        assert!(
            !after.contains(&n.to_string()),
            "small's own {n} expires: {after:?}"
        );
    }
    for n in small1_old {
        assert!(
            after.contains(&n.to_string()),
            "small1's {n} must stay: {after:?}"
        );
    }
    let small_new: Vec<String> = after
        .iter()
        .filter(|n| n.len() == "small1770000000.sql".len() && n.starts_with("small"))
        .cloned()
        .collect();
    assert_eq!(small_new.len(), 1, "{after:?}");
    backup(fake.path(), &dir, "small1", "{db}{ts}").assert_code(0);
    let after = backups(&dir);
    assert!(
        after.contains(&small_new[0]),
        "small's backup must stay: {after:?}"
    );
    assert_eq!(after.len(), 2, "one backup each: {after:?}");
    single_sidecars(&dir);

    // The default template: `a/b` is written `a%2Fb`, so it no longer shares names with `a_b`.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("remote");
    let slash_old = "a%2Fb-2026-01-01-000000.sql";
    let under_old = "a_b-2026-01-01-000000.sql";
    plant(&dir, &[slash_old, under_old]);
    let t = "{db}-{date}-{time}";
    backup(fake.path(), &dir, "a/b", t).assert_code(0);
    let after = backups(&dir);
    assert!(!after.contains(&slash_old.to_string()), "{after:?}");
    assert!(
        after.contains(&under_old.to_string()),
        "a_b's backup must stay: {after:?}"
    );
    let slash_new = after
        .iter()
        .find(|n| n.starts_with("a%2Fb-"))
        .unwrap_or_else(|| panic!("a/b's backup is named a%2Fb-…: {after:?}"))
        .clone();
    backup(fake.path(), &dir, "a_b", t).assert_code(0);
    let after = backups(&dir);
    assert!(!after.contains(&under_old.to_string()), "{after:?}");
    assert!(
        after.contains(&slash_new),
        "a/b's backup must stay: {after:?}"
    );
    assert_eq!(after.len(), 2, "one backup each: {after:?}");
    single_sidecars(&dir);
}

/// Every backup has its sidecar, and no sidecar is left without its backup.
fn single_sidecars(dir: &Path) {
    let files = files_in(dir);
    for f in &files {
        match f.strip_suffix(".sha256") {
            Some(b) => assert!(files.contains(&b.to_string()), "{f} alone: {files:?}"),
            None => assert!(files.contains(&format!("{f}.sha256")), "{f}: {files:?}"),
        }
    }
}

#[test]
fn a_template_without_db_warns_when_retention_is_on() {
    let fake = tempfile::tempdir().unwrap();
    write_script(fake.path(), "pg_dump", "echo 'select 1;'");
    let run = |retention: &str| {
        Dbstash::new()
            .fake_bin(fake.path())
            .args(["pg", "--db-host", "h", "--db-name", "app"])
            .env("RCLONE_REMOTE", ":local:/nonexistent")
            .env("BACKUP_SCHEDULE", "once")
            .env("BACKUP_NAME_TEMPLATE", "nightly-{date}-{uuid}")
            .env("RETENTION_MAX_DAYS", retention)
            .env("DRY_RUN", "true")
            .run()
    };
    let warned = run("7");
    warned.assert_code(0);
    assert!(
        warned.stderr.contains(
            "BACKUP_NAME_TEMPLATE 'nightly-{date}-{uuid}' has no {db}, and retention is on"
        ),
        "{}",
        warned.stderr
    );
    let quiet = run("0");
    quiet.assert_code(0);
    assert!(!quiet.stderr.contains("has no {db}"), "{}", quiet.stderr);
}

/// A database named `all` and a dump of all databases (`BACKUP_ALL_DATABASES`, whose `{db}`
/// is `all`) in one folder: before, they rendered the same names and each job's retention
/// deleted the other's backups. The database named `all` is written `%61ll` now.
#[test]
fn a_database_named_all_never_matches_a_dump_of_all_databases() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let fake = tempfile::tempdir().unwrap();
    write_script(fake.path(), "pg_dump", "echo 'select 1;'");
    write_script(fake.path(), "pg_dumpall", "echo 'select 2;'");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("remote");
    let every_db_old = ["all-2020-01-01-000000.sql", "all-2020-01-02-000000.sql"];
    let db_all_old = ["%61ll-2020-01-01-000000.sql", "%61ll-2020-01-02-000000.sql"];
    plant(&dir, &every_db_old);
    plant(&dir, &db_all_old);
    let run = |all_databases: bool| {
        let d = Dbstash::new()
            .fake_bin(fake.path())
            .args(["pg", "--db-host", "127.0.0.1", "--backup-schedule", "once"])
            .env("RCLONE_REMOTE", local_remote(&dir))
            .env("RETENTION_MAX_FILES", "2")
            .env("TZ", "UTC");
        if all_databases {
            d.env("BACKUP_ALL_DATABASES", "true").run()
        } else {
            d.env("DB_NAME", "all").run()
        }
    };
    // The database named all: its own older backup goes, the dumps of all databases stay.
    run(false).assert_code(0);
    let after = backups(&dir);
    assert!(!after.contains(&db_all_old[0].to_string()), "{after:?}");
    for n in every_db_old {
        assert!(after.contains(&n.to_string()), "{n} must stay: {after:?}");
    }
    // And the other way round.
    run(true).assert_code(0);
    let after = backups(&dir);
    assert!(!after.contains(&every_db_old[0].to_string()), "{after:?}");
    assert!(after.contains(&db_all_old[1].to_string()), "{after:?}");
    assert_eq!(after.iter().filter(|n| n.starts_with("%61ll-")).count(), 2);
    assert_eq!(after.iter().filter(|n| n.starts_with("all-")).count(), 2);
}
