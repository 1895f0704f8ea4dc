//! VERIFY_AFTER_BACKUP in directory and tar mode, against a real PostgreSQL and a real
//! `rclone serve s3` (or `:local:`): what the run wrote is downloaded and verified; a check
//! that fails (a fake `pg_restore` first on PATH, or the backup changed on the remote
//! between the upload and the verification) fails the run and leaves the backup in place.

use std::path::Path;

use crate::modes::{temp_dir, tree, work_dirs};
use crate::support::pg::{self, Pg};
use crate::support::*;

/// A pg backup of `db` in `mode` with VERIFY_AFTER_BACKUP=true, once.
fn verified(pg: &Pg, db: &str, mode: &str, remote: &str, temp: &Path) -> Dbstash {
    pg.dbstash()
        .env("ENGINE", "pg")
        .env("DB_URI", pg.uri(db))
        .env("RCLONE_REMOTE", remote)
        .env("BACKUP_MODE", mode)
        .env("BACKUP_SCHEDULE", "once")
        .env("BACKUP_TEMP_DIR", temp)
        .env("VERIFY_AFTER_BACKUP", "true")
}

/// The one non-hidden entry of `dir` (a backup folder, or a tar object with its sidecar).
fn backups_in(dir: &Path) -> Vec<String> {
    all_files_in(dir)
        .into_iter()
        .filter(|n| !n.starts_with('.'))
        .collect()
}

#[test]
fn pg_directory_and_tar_backups_are_verified_after_writing_them() {
    let Some(pg) = pg::server() else { return };
    let Some(s3) = s3::server() else { return };
    let db = pg.seeded_db("vab");
    let conf = tempfile::tempdir().unwrap();
    for (mode, ext) in [("directory", ""), ("tar", ".tar")] {
        let (remote, bucket) = s3.bucket(&format!("vab{mode}"));
        let temp = temp_dir();
        let out = verified(pg, &db, mode, &remote, temp.path())
            .env("RCLONE_CONFIG_FILE", s3.conf_file(conf.path()))
            .run();
        out.assert_code(0);
        for needle in [
            "verifying the backup (VERIFY_AFTER_BACKUP)",
            "pg_restore --list",
            "pg_restore --file=/dev/null",
            "backup verified",
            "backup succeeded",
        ] {
            assert!(
                out.stderr.contains(needle),
                "{mode}: {needle}\n{}",
                out.stderr
            );
        }
        let checked = if mode == "directory" {
            "every file matches SHA256SUMS"
        } else {
            "matches"
        };
        assert!(out.stderr.contains(checked), "{mode}: {}", out.stderr);
        if mode == "directory" {
            let names = backups_in(&bucket);
            assert_eq!(names.len(), 1, "{names:?}");
            assert!(tree(&bucket.join(&names[0])).contains(&"SHA256SUMS".to_string()));
        } else {
            single_backup(&bucket, ext);
        }
        assert!(
            work_dirs(temp.path()).is_empty(),
            "{mode}: neither the work dir nor the verification's download is left: {:?}",
            work_dirs(temp.path())
        );
    }
}

#[test]
fn the_dry_run_says_how_each_mode_is_verified() {
    let Some(pg) = pg::server() else { return };
    let temp = temp_dir();
    for (mode, needle) in [
        (
            "directory",
            "SHA256SUMS checked against the one this run wrote",
        ),
        ("tar", "then untarred"),
    ] {
        let out = verified(pg, "shop", mode, ":local:/nowhere", temp.path())
            .env("DRY_RUN", "true")
            .run();
        out.assert_code(0);
        assert!(
            out.stdout.contains("Verify (VERIFY_AFTER_BACKUP):")
                && out.stdout.contains(needle)
                && out
                    .stdout
                    .contains("a failure fails the run, the backup stays"),
            "{mode}: {}",
            out.stdout
        );
    }
}

#[test]
fn a_failing_check_fails_the_run_and_the_backup_stays() {
    let Some(pg) = pg::server() else { return };
    let Some(s3) = s3::server() else { return };
    let db = pg.seeded_db("vabfail");
    let conf = tempfile::tempdir().unwrap();
    // Everything is real but pg_restore's reading of the table of contents.
    let fake = tempfile::tempdir().unwrap();
    write_script(
        fake.path(),
        "pg_restore",
        &format!(
            "for a in \"$@\"; do if [ \"$a\" = --list ]; then echo 'pg_restore: error: fake: unreadable TOC' >&2; exit 1; fi; done\nexec {} \"$@\"",
            pg.bin.join("pg_restore").display()
        ),
    );
    for mode in ["directory", "tar"] {
        let (remote, bucket) = s3.bucket(&format!("vabfail{mode}"));
        let temp = temp_dir();
        let out = verified(pg, &db, mode, &remote, temp.path())
            .env("RCLONE_CONFIG_FILE", s3.conf_file(conf.path()))
            .fake_bin(fake.path())
            .run();
        out.assert_code(1);
        for needle in [
            "backup written but its verification failed",
            "pg_restore --list: pg_restore",
            "fake: unreadable TOC",
            "not restorable as it is",
        ] {
            assert!(
                out.stderr.contains(needle),
                "{mode}: {needle}\n{}",
                out.stderr
            );
        }
        // Only the TOC check failed: the bytes and the other pg_restore check passed.
        assert!(
            !out.stderr.contains("pg_restore --file=/dev/null: "),
            "{}",
            out.stderr
        );
        let names = backups_in(&bucket);
        if mode == "directory" {
            assert_eq!(names.len(), 1, "the folder stays: {names:?}");
            let sums = tree(&bucket.join(&names[0]));
            assert!(sums.contains(&"SHA256SUMS".to_string()), "{sums:?}");
        } else {
            single_backup(&bucket, ".tar");
        }
        assert!(
            work_dirs(temp.path()).is_empty(),
            "{mode}: {:?}",
            work_dirs(temp.path())
        );
    }
}

#[test]
fn a_backup_changed_between_upload_and_verification_fails_it() {
    let Some(pg) = pg::server() else { return };
    let Some(rclone) = require("rclone", s3::INSTALL) else {
        return;
    };
    let db = pg.seeded_db("vabtamper");
    for mode in ["directory", "tar"] {
        let remote = tempfile::tempdir().unwrap();
        let r = remote.path().display();
        let temp = temp_dir();
        // rclone as dbstash calls it, but just before the verification's download another
        // writer rewrites the backup consistently: a byte of the dump changed, and
        // SHA256SUMS (the tar's sidecar) recomputed to match, so only what the run itself
        // wrote can tell.
        let (when, tamper) = if mode == "directory" {
            (
                "*\" copy \"*dbstash-tree-*",
                format!(
                    "cd {r}/[!.]* && printf X | dd of=toc.dat bs=1 seek=5 conv=notrunc 2>/dev/null && find . -type f ! -name SHA256SUMS | sed 's|^\\./||' | LC_ALL=C sort | xargs sha256sum > ../sums && mv ../sums SHA256SUMS"
                ),
            )
        } else {
            (
                "*\" cat \"*.tar\" \"",
                format!(
                    "cd {r} && t=$(ls *.tar) && printf X | dd of=$t bs=1 seek=600 conv=notrunc 2>/dev/null && sha256sum $t > $t.sha256"
                ),
            )
        };
        let wrappers = tempfile::tempdir().unwrap();
        let marker = wrappers.path().join("tampered");
        write_script(
            wrappers.path(),
            "rclone",
            &format!(
                "case \" $* \" in {when}) if [ ! -e {m} ]; then touch {m}; ( {tamper} ) || exit 99; fi;; esac\nexec {} \"$@\"",
                rclone.display(),
                m = marker.display(),
            ),
        );
        let out = verified(pg, &db, mode, &local_remote(remote.path()), temp.path())
            .fake_bin(wrappers.path())
            .run();
        assert!(
            marker.exists(),
            "{mode}: the wrapper never tampered\n{}",
            out.stderr
        );
        out.assert_code(1);
        // The check's name, then what it found.
        let needle = if mode == "directory" {
            format!("checksum: {db}-")
        } else {
            format!("checksum: checksum mismatch: {db}-")
        };
        assert!(out.stderr.contains(&needle), "{mode}\n{}", out.stderr);
        let why = if mode == "directory" {
            "SHA256SUMS hashes to SHA-256"
        } else {
            "mismatch"
        };
        assert!(
            out.stderr.contains(why)
                && out
                    .stderr
                    .contains("backup written but its verification failed"),
            "{mode}\n{}",
            out.stderr
        );
        assert_eq!(
            backups_in(remote.path()).len(),
            if mode == "directory" { 1 } else { 2 }
        );
        assert!(
            work_dirs(temp.path()).is_empty(),
            "{:?}",
            work_dirs(temp.path())
        );
    }
}
