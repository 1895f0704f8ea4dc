//! Calendar retention (RETENTION_KEEP_*) and `dbstash prune` against a real PostgreSQL and
//! `rclone serve s3`: the rules keep what restic's would, only this configuration's complete
//! backups are candidates, prune --dry-run deletes nothing, and the two kinds of retention
//! never mix.

use crate::support::*;

/// Old backups of `db` (complete unless named in `incomplete`), a foreign file and a
/// foreign database's backup, uploaded through the S3 API with their times (rclone keeps a
/// file's time as the object's).
fn seed(s3: &s3::S3, remote: &str, db: &str, days: &[u32], incomplete: &[u32]) {
    let ago = |d: u32| format!("{d} days ago");
    let mut files = Vec::new();
    for &d in days {
        let name = format!("{db}-{}-020000.sql", stamp(d));
        if !incomplete.contains(&d) {
            files.push((format!("{name}.sha256"), ago(d)));
        }
        files.push((name, ago(d)));
    }
    files.push(("README.txt".into(), ago(400)));
    let other = format!("other{db}-{}-020000.sql", stamp(300));
    files.push((format!("{other}.sha256"), ago(300)));
    files.push((other, ago(300)));
    s3.upload_aged(remote, b"-- PostgreSQL database dump complete\n", &files);
}

/// The date `days` ago, as `{date}` renders it (UTC).
fn stamp(days: u32) -> String {
    (chrono::Utc::now() - chrono::Duration::days(i64::from(days)))
        .format("%Y-%m-%d")
        .to_string()
}

fn name(db: &str, days: u32) -> String {
    format!("{db}-{}-020000.sql", stamp(days))
}

#[test]
fn prune_applies_calendar_rules_and_dry_run_deletes_nothing() {
    let Some(pg) = pg::server() else { return };
    let Some(s3) = s3::server() else { return };
    let db = pg.seeded_db("calprune");
    let (remote, bucket) = s3.bucket("calprune");
    let dir = tempfile::tempdir().unwrap();
    let conf = s3.conf_file(dir.path());
    // One a day for 10 days, then a gap, then two old ones 60 and 61 days ago; the one 3 days
    // ago is incomplete (no .sha256).
    let days: Vec<u32> = (1..=10).chain([60, 61]).collect();
    seed(s3, &remote, &db, &days, &[3]);
    let prune = |dry: bool| {
        let mut c = pg
            .dbstash()
            .args(["prune", "pg"])
            .env("DB_URI", pg.uri(&db))
            .env("RCLONE_REMOTE", &remote)
            .env("RCLONE_CONFIG_FILE", &conf)
            .env("RETENTION_KEEP_DAILY", "3")
            .env("RETENTION_KEEP_MONTHLY", "2");
        if dry {
            c = c.env("DRY_RUN", "true");
        }
        c.run()
    };
    let before = all_files_in(&bucket);

    // daily 3: days 1, 2, 4 (3 is incomplete: no candidate, takes no day); monthly 2: the
    // newest of this month and of the month before (which of the seeded days they are
    // depends on today's date), and 60/61 days ago only if a month is left.
    let out = prune(true);
    out.assert_code(0);
    assert_eq!(all_files_in(&bucket), before, "a dry run deletes nothing");
    for d in [1, 2, 4] {
        let line = out
            .stdout
            .lines()
            .find(|l| l.starts_with(&name(&db, d)))
            .unwrap_or_else(|| panic!("no line for day {d}:\n{}", out.stdout));
        assert!(line.contains("keep") && line.contains("daily"), "{line}");
    }
    let incomplete = out
        .stdout
        .lines()
        .find(|l| l.starts_with(&name(&db, 3)))
        .unwrap();
    assert!(incomplete.contains("incomplete"), "{incomplete}");
    assert!(out.stdout.contains("would delete"), "{}", out.stdout);
    assert!(out.stdout.contains("DRY_RUN: nothing deleted"));
    assert!(!out.stdout.contains("README.txt") && !out.stdout.contains("other"));
    let doomed: Vec<String> = out
        .stdout
        .lines()
        .filter(|l| l.contains("would delete"))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert!(doomed.len() >= 5, "{}", out.stdout);

    // `list` shows the same verdicts, as a column and in JSON, and deletes nothing.
    let list = |format: &str| {
        let out = pg
            .dbstash()
            .args(["list", "pg", "--list-format", format])
            .env("DB_URI", pg.uri(&db))
            .env("RCLONE_REMOTE", &remote)
            .env("RCLONE_CONFIG_FILE", &conf)
            .env("RETENTION_KEEP_DAILY", "3")
            .env("RETENTION_KEEP_MONTHLY", "2")
            .run();
        out.assert_code(0);
        out.stdout
    };
    let text = list("text");
    for d in [1, 2, 4] {
        let line = text
            .lines()
            .find(|l| l.starts_with(&name(&db, d)))
            .unwrap_or_else(|| panic!("no line for day {d}:\n{text}"));
        assert!(line.contains("keep: ") && line.contains("daily"), "{line}");
    }
    let listed_doomed: Vec<String> = text
        .lines()
        .filter(|l| l.contains("would delete: "))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    let prune_doomed: Vec<String> = doomed
        .iter()
        .filter(|n| n.starts_with(&db))
        .cloned()
        .collect();
    assert_eq!(listed_doomed, prune_doomed, "{text}");
    let json: serde_json::Value = serde_json::from_str(&list("json")).unwrap();
    let row = json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name(&db, 1))
        .unwrap();
    assert_eq!(row["retention"]["verdict"], "keep", "{row}");
    assert!(
        row["retention"]["why"].as_str().unwrap().contains("daily"),
        "{row}"
    );
    assert_eq!(all_files_in(&bucket), before, "list deletes nothing");

    let out = prune(false);
    out.assert_code(0);
    let left = all_files_in(&bucket);
    for n in &doomed {
        assert!(!left.contains(n), "{n} should be gone: {left:?}");
        assert!(
            !left.contains(&format!("{n}.sha256")),
            "{n}.sha256: {left:?}"
        );
    }
    for d in [1, 2, 4] {
        assert!(left.contains(&name(&db, d)), "day {d}: {left:?}");
        assert!(left.contains(&format!("{}.sha256", name(&db, d))));
    }
    assert!(left.contains(&name(&db, 3)), "the incomplete one stays");
    assert!(left.contains(&"README.txt".to_string()));
    assert!(left.iter().filter(|n| n.starts_with("other")).count() == 2);

    // A second prune finds nothing more to delete.
    let again = prune(false);
    again.assert_code(0);
    assert!(!again.stdout.contains("deleted  "), "{}", again.stdout);
    assert_eq!(all_files_in(&bucket), left);
}

#[test]
fn a_backup_applies_the_calendar_rules_and_the_kinds_never_mix() {
    let Some(pg) = pg::server() else { return };
    let Some(s3) = s3::server() else { return };
    let db = pg.seeded_db("calrun");
    let (remote, bucket) = s3.bucket("calrun");
    let dir = tempfile::tempdir().unwrap();
    let conf = s3.conf_file(dir.path());
    seed(s3, &remote, &db, &[1, 2, 3, 30], &[]);
    let run = |vars: &[(&str, &str)]| {
        let mut c = pg
            .dbstash()
            .env("ENGINE", "pg")
            .env("DB_URI", pg.uri(&db))
            .env("RCLONE_REMOTE", &remote)
            .env("RCLONE_CONFIG_FILE", &conf)
            .env("BACKUP_SCHEDULE", "once");
        for (k, v) in vars {
            c = c.env(k, v);
        }
        c.run()
    };

    // Mixing the kinds: exit 2 naming both, nothing touched.
    let before = all_files_in(&bucket);
    let out = run(&[("RETENTION_KEEP_LAST", "2"), ("RETENTION_MAX_DAYS", "7")]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("RETENTION_KEEP_LAST")
            && out
                .stderr
                .contains("cannot be combined with RETENTION_MAX_DAYS"),
        "{}",
        out.stderr
    );
    assert_eq!(all_files_in(&bucket), before);

    // last 2: the new backup and yesterday's stay; the rest of this database's go.
    let out = run(&[("RETENTION_KEEP_LAST", "2")]);
    out.assert_code(0);
    let left = files_in(&bucket);
    let mine: Vec<&String> = left
        .iter()
        .filter(|n| n.starts_with(&format!("{db}-")) && n.ends_with(".sql"))
        .collect();
    assert_eq!(mine.len(), 2, "{left:?}");
    assert!(left.contains(&name(&db, 1)), "{left:?}");
    for d in [2, 3, 30] {
        assert!(!left.contains(&name(&db, d)), "day {d}: {left:?}");
    }
    assert!(left.contains(&"README.txt".to_string()));
    assert_eq!(left.iter().filter(|n| n.starts_with("other")).count(), 2);
    assert!(out.stderr.contains("retention applied"), "{}", out.stderr);
}

/// RETENTION_MAX_DAYS expires an incomplete backup (no `.sha256`) by its age too: prune
/// deletes it without failing on the checksum file it never had.
#[test]
fn prune_deletes_an_old_incomplete_backup_without_a_sidecar() {
    let Some(pg) = pg::server() else { return };
    let Some(s3) = s3::server() else { return };
    let db = pg.seeded_db("maxdaysprune");
    let (remote, bucket) = s3.bucket("maxdaysprune");
    let dir = tempfile::tempdir().unwrap();
    let conf = s3.conf_file(dir.path());
    seed(s3, &remote, &db, &[1, 30, 31], &[31]);
    let out = pg
        .dbstash()
        .args(["prune", "pg"])
        .env("DB_URI", pg.uri(&db))
        .env("RCLONE_REMOTE", &remote)
        .env("RCLONE_CONFIG_FILE", &conf)
        .env("RETENTION_MAX_DAYS", "7")
        .run();
    out.assert_code(0);
    let left = all_files_in(&bucket);
    for d in [30, 31] {
        assert!(
            !left.contains(&name(&db, d)),
            "day {d}: {left:?}\n{}",
            out.stdout
        );
    }
    assert!(
        !left.contains(&format!("{}.sha256", name(&db, 30))),
        "{left:?}"
    );
    assert!(left.contains(&name(&db, 1)) && left.contains(&format!("{}.sha256", name(&db, 1))));
}
