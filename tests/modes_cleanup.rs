//! Directory and tar modes when things go wrong: nothing left in BACKUP_TEMP_DIR (a failed
//! dump, a timeout, SIGTERM, a full file system, a killed run's leftovers) and nothing kept
//! on the remote that a failed run wrote (a tree that cannot be tarred, a failed upload).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::modes::{temp_dir, tree, work_dirs};
use crate::support::pg;
use crate::support::*;

/// A fake pg_dump for directory mode: writes `--file`'s folder, then runs `tail`.
fn fake_pg_dump(dir: &Path, tail: &str) {
    write_script(
        dir,
        "pg_dump",
        &format!(
            r#"for a in "$@"; do case "$a" in --file=*) out="${{a#--file=}}" ;; esac; done
mkdir -p "$out" && echo data > "$out/toc.dat" && echo "$$" > "$FAKE_DIR/pid"
{tail}"#
        ),
    );
}

fn fake_pg_run(tail: &str, temp: &Path, remote: &Path, fake: &Path) -> Dbstash {
    fake_pg_dump(fake, tail);
    Dbstash::new()
        .fake_bin(fake)
        .env("FAKE_DIR", fake)
        .env("ENGINE", "pg")
        .env("DB_HOST", "127.0.0.1")
        .env("DB_NAME", "app")
        .env("RCLONE_REMOTE", local_remote(remote))
        .env("BACKUP_MODE", "directory")
        .env("BACKUP_SCHEDULE", "once")
        .env("BACKUP_TEMP_DIR", temp)
}

#[test]
fn no_work_dir_is_left_after_a_failing_dump_or_a_timeout() {
    require("rclone", s3::INSTALL);
    for (tail, timeout, want) in [
        ("echo 'pg_dump: error: boom' >&2; exit 1", None, "boom"),
        ("exit 0", None, ""),
        ("sleep 30", Some("2s"), "timed out"),
    ] {
        for mode in ["directory", "tar"] {
            let (temp, remote, fake) = (
                temp_dir(),
                tempfile::tempdir().unwrap(),
                tempfile::tempdir().unwrap(),
            );
            let mut cmd =
                fake_pg_run(tail, temp.path(), remote.path(), fake.path()).env("BACKUP_MODE", mode);
            if let Some(t) = timeout {
                cmd = cmd.env("BACKUP_TIMEOUT", t);
            }
            let out = cmd.run();
            if tail == "exit 0" {
                // A complete fake dump is a backup: the work dir goes on success too.
                out.assert_code(0);
            } else {
                out.assert_code(1);
                assert!(out.stderr.contains(want), "{}", out.stderr);
                assert!(
                    all_files_in(remote.path()).is_empty(),
                    "{mode}: nothing uploaded: {:?}",
                    all_files_in(remote.path())
                );
            }
            assert!(
                work_dirs(temp.path()).is_empty(),
                "{mode} {tail}: {:?}",
                work_dirs(temp.path())
            );
        }
    }
}

#[test]
fn sigterm_during_the_dump_removes_the_work_dir() {
    require("rclone", s3::INSTALL);
    let (temp, remote, fake) = (
        temp_dir(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let running = fake_pg_run("sleep 30", temp.path(), remote.path(), fake.path()).spawn();
    wait_for("the fake dump", 20, || fake.path().join("pid").exists());
    assert_eq!(
        work_dirs(temp.path()).len(),
        1,
        "{:?}",
        work_dirs(temp.path())
    );
    unsafe { libc::kill(running.child.id() as i32, libc::SIGTERM) };
    let (code, stderr) = running.finish();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("SIGTERM"), "{stderr}");
    assert!(
        work_dirs(temp.path()).is_empty(),
        "{:?}",
        work_dirs(temp.path())
    );
    assert!(all_files_in(remote.path()).is_empty());
}

#[test]
fn a_killed_runs_work_dir_is_removed_at_the_next_start_and_no_one_elses() {
    require("rclone", s3::INSTALL);
    let (temp, remote, fake) = (
        temp_dir(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    // The dry run names this configuration's work dir: dbstash-run-<hash>-<id>.
    let plan = fake_pg_run("exit 0", temp.path(), remote.path(), fake.path())
        .env("DRY_RUN", "true")
        .run();
    plan.assert_code(0);
    let hash = plan
        .stdout
        .split("dbstash-run-")
        .nth(1)
        .and_then(|s| s.get(..12))
        .unwrap_or_else(|| panic!("{}", plan.stdout))
        .to_string();
    let dead = temp.path().join(format!("dbstash-run-{hash}-0badc0de"));
    std::fs::create_dir(&dead).unwrap();
    std::fs::write(dead.join("owner"), "4194303 1\n").unwrap();
    std::fs::create_dir(dead.join("dump")).unwrap();
    // A live run of this configuration (this test process owns it), another config's.
    let live = temp.path().join(format!("dbstash-run-{hash}-00000001"));
    std::fs::create_dir(&live).unwrap();
    let me = std::fs::read_to_string("/proc/self/stat").unwrap();
    let start = me[me.rfind(')').unwrap() + 1..]
        .split_whitespace()
        .nth(19)
        .unwrap()
        .to_string();
    std::fs::write(
        live.join("owner"),
        format!("{} {start}\n", std::process::id()),
    )
    .unwrap();
    let other = temp.path().join("dbstash-run-0123456789ab-0badc0de");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("owner"), "4194303 1\n").unwrap();

    let out = fake_pg_run("exit 0", temp.path(), remote.path(), fake.path()).run();
    out.assert_code(0);
    assert!(!dead.exists(), "{}", out.stderr);
    assert!(live.exists() && other.exists());
    assert!(
        out.stderr
            .contains("removed the work dir of an earlier run"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_dump_that_fills_backup_temp_dir_fails_cleanly() {
    let Some(pg) = pg::server() else { return };
    if unsafe { libc::geteuid() } != 0 {
        missing::<()>(
            "root, to mount a 2 MB tmpfs as BACKUP_TEMP_DIR",
            "run the tests as root",
        );
        return;
    }
    let db = unique("full");
    pg.create_db(&db);
    // About 6 MB of table data, not compressed by pg_dump (--compress=0).
    pg.psql(
        &db,
        "create table big(id int, v text); insert into big select g, repeat(md5(g::text), 4) from generate_series(1, 40000) g;",
    );
    let mnt = temp_dir();
    let mount = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs"])
        .arg(mnt.path())
        .output()
        .unwrap();
    if !mount.status.success() {
        missing::<()>(
            &format!(
                "a tmpfs mount ({})",
                String::from_utf8_lossy(&mount.stderr).trim()
            ),
            "run the tests as root with CAP_SYS_ADMIN",
        );
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(mnt.path().to_path_buf());
    let remote = tempfile::tempdir().unwrap();
    for mode in ["directory", "tar"] {
        let out = pg
            .dbstash()
            .env("ENGINE", "pg")
            .env("DB_URI", pg.uri(&db))
            .env("RCLONE_REMOTE", local_remote(remote.path()))
            .env("BACKUP_MODE", mode)
            .env("DUMP_EXTRA_ARGS", "--compress=0")
            .env("BACKUP_SCHEDULE", "once")
            .env("BACKUP_TEMP_DIR", mnt.path())
            .run();
        out.assert_code(1);
        assert!(
            out.stderr.contains("no space left"),
            "{mode}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("BACKUP_TEMP_DIR"), "{}", out.stderr);
        assert!(
            work_dirs(mnt.path()).is_empty(),
            "{mode}: {:?}",
            work_dirs(mnt.path())
        );
        assert!(
            all_files_in(remote.path()).is_empty(),
            "{mode}: nothing uploaded: {:?}",
            all_files_in(remote.path())
        );
    }
}

#[test]
fn a_tree_that_cannot_be_tarred_or_uploaded_never_becomes_a_backup() {
    require("rclone", s3::INSTALL);
    // A symlink (to a secret) or a FIFO in the dump's tree: neither is read nor uploaded.
    for (what, make) in [
        ("symlink", "ln -s /etc/passwd \"$out/passwd.dat\""),
        ("fifo", "mkfifo \"$out/pipe.dat\""),
    ] {
        for mode in ["directory", "tar"] {
            let (temp, remote, fake) = (
                temp_dir(),
                tempfile::tempdir().unwrap(),
                tempfile::tempdir().unwrap(),
            );
            let out = fake_pg_run(make, temp.path(), remote.path(), fake.path())
                .env("BACKUP_MODE", mode)
                .run();
            out.assert_code(1);
            assert!(
                out.stderr
                    .contains("neither a regular file nor a directory"),
                "{what} {mode}: {}",
                out.stderr
            );
            assert!(
                all_files_in(remote.path()).is_empty(),
                "{what} {mode}: {:?}",
                all_files_in(remote.path())
            );
            assert!(work_dirs(temp.path()).is_empty());
        }
    }
}

/// rclone, except that `copy` fails after copying (a connection lost at the end).
fn rclone_whose_copy_fails(dir: &Path) {
    let real = which("rclone").expect("rclone");
    write_script(
        dir,
        "rclone",
        &format!(
            r#"for a in "$@"; do
  [ "$a" = -- ] && break
  if [ "$a" = copy ]; then "{real}" "$@"; echo 'copy failed: connection reset' >&2; exit 1; fi
done
exec "{real}" "$@""#,
            real = real.display()
        ),
    );
}

#[test]
fn a_failed_folder_upload_deletes_what_it_wrote_and_nothing_else() {
    let Some(pg) = pg::server() else { return };
    let Some(s3) = s3::server() else { return };
    let db = pg.seeded_db("dirfail");
    let fake = tempfile::tempdir().unwrap();
    rclone_whose_copy_fails(fake.path());
    let conf = tempfile::tempdir().unwrap();
    // S3 (in place: NAME/ itself) and :local: (the staging folder).
    let (s3_remote, bucket) = s3.bucket("dirfail");
    let local = tempfile::tempdir().unwrap();
    for (remote, dir) in [
        (s3_remote, bucket),
        (local_remote(local.path()), local.path().to_path_buf()),
    ] {
        // Someone else's folder and file stay.
        std::fs::create_dir(dir.join("other")).unwrap();
        std::fs::write(dir.join("other/keep.dat"), b"x").unwrap();
        let temp = temp_dir();
        let out = pg
            .dbstash()
            .fake_bin(fake.path())
            .env("ENGINE", "pg")
            .env("DB_URI", pg.uri(&db))
            .env("RCLONE_REMOTE", &remote)
            .env("RCLONE_CONFIG_FILE", s3.conf_file(conf.path()))
            .env("BACKUP_MODE", "directory")
            .env("BACKUP_SCHEDULE", "once")
            .env("BACKUP_TEMP_DIR", temp.path())
            .run();
        out.assert_code(1);
        assert!(out.stderr.contains("connection reset"), "{}", out.stderr);
        assert!(
            out.stderr
                .contains("deleted what the failed backup uploaded"),
            "{}",
            out.stderr
        );
        assert_eq!(all_files_in(&dir), ["other"], "{remote}");
        assert_eq!(tree(&dir.join("other")), ["keep.dat"]);
        assert!(work_dirs(temp.path()).is_empty());
    }
}

#[test]
fn a_daemon_removes_a_killed_runs_work_dir_when_it_starts() {
    require("rclone", s3::INSTALL);
    let (temp, remote, fake) = (
        temp_dir(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let plan = fake_pg_run("exit 0", temp.path(), remote.path(), fake.path())
        .env("DRY_RUN", "true")
        .run();
    let hash = plan
        .stdout
        .split("dbstash-run-")
        .nth(1)
        .and_then(|s| s.get(..12))
        .unwrap_or_else(|| panic!("{}", plan.stdout))
        .to_string();
    let dead = temp.path().join(format!("dbstash-run-{hash}-0badc0de"));
    std::fs::create_dir(&dead).unwrap();
    std::fs::write(dead.join("owner"), "4194303 1\n").unwrap();
    let running = fake_pg_run("exit 0", temp.path(), remote.path(), fake.path())
        // Once a year: no run during the test.
        .env("BACKUP_SCHEDULE", "0 0 1 1 *")
        .env("BACKUP_TIMEOUT", "1h")
        .env("HEALTH_ADDR", format!("127.0.0.1:{}", free_port()))
        .spawn();
    wait_for("the stale work dir to go", 20, || !dead.exists());
    unsafe { libc::kill(running.child.id() as i32, libc::SIGTERM) };
    let (code, stderr) = running.finish();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("removed the work dir of an earlier run"),
        "{stderr}"
    );
    assert!(all_files_in(remote.path()).is_empty());
}

/// On an object store a directory-mode run writes its folder in place, so a SIGKILLed run
/// leaves NAME/ without SHA256SUMS, which no folder time ever ages. The next run removes such
/// a folder once nothing was written to it for the staging age (24 h) and no claim of a
/// running backup names it; a recent one, a claimed one, a complete one and another
/// database's stay.
#[test]
fn an_abandoned_incomplete_folder_on_an_object_store_is_removed_by_the_next_run() {
    let Some(pg) = pg::server() else { return };
    let Some(s3) = s3::server() else { return };
    let db = pg.seeded_db("abandoned");
    let (remote, bucket) = s3.bucket("abandoned");
    let conf_dir = tempfile::tempdir().unwrap();
    let conf = s3.conf_file(conf_dir.path());
    let folder = |day: u32, id: &str| format!("{db}-2020-01-{day:02}-000000-{id}");
    let abandoned = folder(1, "aaaaaaaa");
    let recent = folder(2, "bbbbbbbb");
    let complete = folder(3, "cccccccc");
    let claimed = folder(4, "eeeeeeee");
    let foreign = format!("other{db}-2020-01-01-000000-dddddddd");
    let files: Vec<(String, String)> = [
        (format!("{abandoned}/toc.dat"), "2 days ago"),
        (format!("{abandoned}/3001.dat.gz"), "3 days ago"),
        (format!("{recent}/toc.dat"), "1 hour ago"),
        (format!("{complete}/toc.dat"), "5 days ago"),
        (format!("{complete}/SHA256SUMS"), "5 days ago"),
        (format!("{claimed}/toc.dat"), "2 days ago"),
        (format!(".{claimed}.claim-12345678"), "10 minutes ago"),
        (format!("{foreign}/toc.dat"), "2 days ago"),
    ]
    .into_iter()
    .map(|(p, a)| (p, a.to_string()))
    .collect();
    s3.upload_aged(&remote, b"data\n", &files);

    let out = pg
        .dbstash()
        .env("ENGINE", "pg")
        .env("DB_URI", pg.uri(&db))
        .env("RCLONE_REMOTE", &remote)
        .env("RCLONE_CONFIG_FILE", &conf)
        .env("BACKUP_MODE", "directory")
        .env("BACKUP_NAME_TEMPLATE", "{db}-{date}-{time}-{uuid}")
        .env("BACKUP_SCHEDULE", "once")
        .run();
    out.assert_code(0);
    assert!(
        out.stderr
            .contains("purged an incomplete backup folder left by a killed run"),
        "{}",
        out.stderr
    );
    let left = all_files_in(&bucket);
    assert!(
        !left.iter().any(|f| f.starts_with(&abandoned)),
        "{abandoned} should be gone: {left:?}"
    );
    for kept in [&recent, &complete, &claimed, &foreign] {
        assert!(
            left.iter().any(|f| f.starts_with(kept.as_str())),
            "{kept} must stay: {left:?}"
        );
    }
}

/// A directory-mode pg_dump blocked on a table lock, then SIGTERM: the dump is stopped with
/// SIGTERM first, so it cancels its query and the server drops its connection while the lock
/// is still held; the work dir and the remote are left empty.
#[test]
fn sigterm_lets_a_blocked_directory_dump_cancel_its_query() {
    let Some(pg) = pg::server() else { return };
    let Some(_) = require("rclone", s3::INSTALL) else {
        return;
    };
    let db = pg.seeded_db("dirterm");
    let lock = crate::orphans::TableLock::take(pg, &db, "customers");
    let app = unique("dirterm");
    let remote = tempfile::tempdir().unwrap();
    let temp = tempfile::tempdir().unwrap();
    let running = pg
        .dbstash()
        .env("ENGINE", "pg")
        .env("DB_URI", format!("{}?application_name={app}", pg.uri(&db)))
        .env("RCLONE_REMOTE", local_remote(remote.path()))
        .env("BACKUP_MODE", "directory")
        .env("BACKUP_TEMP_DIR", temp.path())
        .env("BACKUP_SCHEDULE", "once")
        .spawn();
    let waiting = || {
        pg.psql(
            "postgres",
            &format!("select count(*) from pg_stat_activity where application_name = '{app}' and wait_event_type = 'Lock'"),
        )
    };
    wait_for("the dump to wait for the table lock", 60, || {
        waiting() != "0"
    });
    unsafe { libc::kill(running.child.id() as i32, libc::SIGTERM) };
    let (code, stderr) = running.finish();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("interrupted by SIGTERM"), "{stderr}");
    wait_for("the server to drop the dump's connections", 10, || {
        pg.psql(
            "postgres",
            &format!("select count(*) from pg_stat_activity where application_name = '{app}'"),
        ) == "0"
    });
    drop(lock);
    assert_eq!(all_files_in(remote.path()), Vec::<String>::new());
    assert_eq!(work_dirs(temp.path()), Vec::<String>::new());
}
