//! BACKUP_MODE=directory and tar against real PostgreSQL and MariaDB, a real `rclone serve
//! s3` and `:local:`; MongoDB by exact argv with a fake `mongodump` that writes a tree.
//! Every backup is restored from what the remote holds, and every failure path is checked
//! for leftovers: the work dir in BACKUP_TEMP_DIR, and anything under the backup's name.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::mariadb::{self, Maria};
use crate::support::pg::{self, Pg};
use crate::support::*;

/// A BACKUP_TEMP_DIR of the test's own, to look into afterwards.
fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("dbstash-modes-")
        .tempdir()
        .unwrap()
}

/// What a run left in BACKUP_TEMP_DIR besides lock files.
fn work_dirs(temp: &Path) -> Vec<String> {
    all_files_in(temp)
        .into_iter()
        .filter(|n| !n.ends_with(".lock"))
        .collect()
}

/// Every file under `dir`, as relative paths, sorted.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let rel = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if e.file_type().unwrap().is_dir() {
                walk(&e.path(), &rel, out);
            } else {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out);
    out.sort();
    out
}

/// The one backup folder in `dir`, its SHA256SUMS checked against its files with the
/// real `sha256sum -c`, and its lines against the contract (sorted, relative, all files).
fn single_folder(dir: &Path) -> PathBuf {
    let folders: Vec<String> = all_files_in(dir)
        .into_iter()
        .filter(|n| dir.join(n).is_dir())
        .collect();
    assert_eq!(folders.len(), 1, "one backup folder expected: {folders:?}");
    assert!(!folders[0].starts_with('.'), "{folders:?}");
    let folder = dir.join(&folders[0]);
    let sums = std::fs::read_to_string(folder.join("SHA256SUMS")).expect("SHA256SUMS");
    let paths: Vec<&str> = sums
        .lines()
        .map(|l| {
            let (hash, path) = l.split_once("  ").expect("two spaces");
            assert!(
                hash.len() == 64
                    && hash
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
                "{l}"
            );
            path
        })
        .collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted, "sorted by path");
    let mut files = tree(&folder);
    files.retain(|f| f != "SHA256SUMS");
    assert_eq!(paths, files, "one line per file");
    let check = Command::new("sha256sum")
        .args(["-c", "--quiet", "SHA256SUMS"])
        .current_dir(&folder)
        .output()
        .unwrap();
    assert!(check.status.success(), "sha256sum -c: {check:?}");
    folder
}

fn pg_restore_dir(pg: &Pg, source: &str, dir: &Path) {
    let fresh = unique("restored");
    pg.create_db(&fresh);
    pg.restore_custom(&fresh, dir); // pg_restore -d reads a directory-format dump too
    assert_eq!(
        pg.contents(&fresh),
        pg.contents(source),
        "restored data differs"
    );
}

#[test]
fn pg_directory_mode_to_s3_uploads_the_tree_and_pg_restore_restores_it() {
    let Some(pg) = pg::server() else { return };
    let Some(s3) = s3::server() else { return };
    let db = pg.seeded_db("dirmode");
    let (remote, bucket) = s3.bucket("dirmode");
    let conf = tempfile::tempdir().unwrap();
    let temp = temp_dir();
    let out = pg
        .dbstash()
        .env("ENGINE", "pg")
        .env("DB_URI", pg.uri(&db))
        .env("RCLONE_REMOTE", &remote)
        .env("RCLONE_CONFIG_FILE", s3.conf_file(conf.path()))
        .env("BACKUP_MODE", "directory")
        .env("DUMP_EXTRA_ARGS", "--jobs 2")
        .env("BACKUP_SCHEDULE", "once")
        .env("BACKUP_TEMP_DIR", temp.path())
        .run();
    out.assert_code(0);
    assert!(
        out.stderr.contains("free="),
        "free space logged: {}",
        out.stderr
    );
    let folder = single_folder(&bucket);
    assert!(
        file_name(&folder).starts_with(&format!("{db}-")) && !file_name(&folder).contains('.'),
        "no extension for a folder: {folder:?}"
    );
    let files = tree(&folder);
    assert!(files.contains(&"toc.dat".to_string()), "{files:?}");
    assert!(files.iter().any(|f| f.ends_with(".dat.gz")), "{files:?}");
    assert!(
        !all_files_in(&bucket).iter().any(|n| n.starts_with('.')),
        "no claim or staging left: {:?}",
        all_files_in(&bucket)
    );
    assert!(
        work_dirs(temp.path()).is_empty(),
        "{:?}",
        work_dirs(temp.path())
    );
    pg_restore_dir(pg, &db, &folder);
    // The same name again is refused: the folder is never written into twice.
    let out = pg
        .dbstash()
        .env("ENGINE", "pg")
        .env("DB_URI", pg.uri(&db))
        .env("RCLONE_REMOTE", &remote)
        .env("RCLONE_CONFIG_FILE", s3.conf_file(conf.path()))
        .env("BACKUP_MODE", "directory")
        .env("BACKUP_NAME_TEMPLATE", file_name(&folder))
        .env("BACKUP_SCHEDULE", "once")
        .env("BACKUP_TEMP_DIR", temp.path())
        .run();
    out.assert_code(1);
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);
    single_folder(&bucket);
}

#[test]
fn pg_directory_mode_on_local_goes_through_a_staging_folder() {
    let Some(pg) = pg::server() else { return };
    let db = pg.seeded_db("dirlocal");
    let remote = tempfile::tempdir().unwrap();
    let temp = temp_dir();
    let out = pg
        .dbstash()
        .env("ENGINE", "pg")
        .env("DB_URI", pg.uri(&db))
        .env("RCLONE_REMOTE", local_remote(remote.path()))
        .env("BACKUP_MODE", "directory")
        .env("BACKUP_SCHEDULE", "once")
        .env("BACKUP_TEMP_DIR", temp.path())
        .env("LOG_LEVEL", "debug")
        .run();
    out.assert_code(0);
    let folder = single_folder(remote.path());
    assert_eq!(
        all_files_in(remote.path()).len(),
        1,
        "{:?}",
        all_files_in(remote.path())
    );
    pg_restore_dir(pg, &db, &folder);
    assert!(work_dirs(temp.path()).is_empty());
    assert!(!out.stderr.contains("failed backup"), "{}", out.stderr);
}

#[test]
fn pg_tar_mode_untars_to_the_directory_tree_and_restores() {
    let Some(pg) = pg::server() else { return };
    let Some(s3) = s3::server() else { return };
    let db = pg.seeded_db("tarmode");
    let (remote, bucket) = s3.bucket("tarmode");
    let conf = tempfile::tempdir().unwrap();
    let temp = temp_dir();
    let out = pg
        .dbstash()
        .env("ENGINE", "pg")
        .env("DB_URI", pg.uri(&db))
        .env("RCLONE_REMOTE", &remote)
        .env("RCLONE_CONFIG_FILE", s3.conf_file(conf.path()))
        .env("BACKUP_MODE", "tar")
        .env("BACKUP_SCHEDULE", "once")
        .env("BACKUP_TEMP_DIR", temp.path())
        .run();
    out.assert_code(0);
    let backup = single_backup(&bucket, ".tar");
    let x = tempfile::tempdir().unwrap();
    let untar = Command::new("tar")
        .arg("-xf")
        .arg(&backup)
        .arg("-C")
        .arg(x.path())
        .output()
        .unwrap();
    assert!(untar.status.success(), "{untar:?}");
    let files = tree(x.path());
    assert!(files.contains(&"toc.dat".to_string()), "{files:?}");
    assert!(
        !files
            .iter()
            .any(|f| f.contains("SHA256SUMS") || f.starts_with("./")),
        "{files:?}"
    );
    let listing = Command::new("tar")
        .arg("-tvf")
        .arg(&backup)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    for line in listing.lines() {
        assert!(
            line.starts_with("-rw-r--r-- 0/0") || line.starts_with("drwxr-xr-x 0/0"),
            "{line}"
        );
    }
    pg_restore_dir(pg, &db, x.path());
    assert!(work_dirs(temp.path()).is_empty());

    // BACKUP_COMPRESS with an uncompressed -Fd dump: .tar.gz.
    let out = pg
        .dbstash()
        .env("ENGINE", "pg")
        .env("DB_URI", pg.uri(&db))
        .env("RCLONE_REMOTE", format!("{remote}/gz"))
        .env("RCLONE_CONFIG_FILE", s3.conf_file(conf.path()))
        .env("BACKUP_MODE", "tar")
        .env("BACKUP_COMPRESS", "true")
        .env("DUMP_EXTRA_ARGS", "--compress=0")
        .env("BACKUP_SCHEDULE", "once")
        .run();
    out.assert_code(0);
    let backup = single_backup(&bucket.join("gz"), ".tar.gz");
    let y = tempfile::tempdir().unwrap();
    let untar = Command::new("tar")
        .arg("-xzf")
        .arg(&backup)
        .arg("-C")
        .arg(y.path())
        .output()
        .unwrap();
    assert!(untar.status.success(), "{untar:?}");
    assert!(tree(y.path())
        .iter()
        .any(|f| f.ends_with(".dat") && f != "toc.dat"));
    pg_restore_dir(pg, &db, y.path());
}

/// A BACKUP_TEMP_DIR the MariaDB server (another user) can pass through.
fn shared_temp_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt as _;
    let t = temp_dir();
    std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    t
}

fn maria_restore_tab(m: &Maria, dir: &Path) -> String {
    let fresh = unique("tabrestored");
    m.create_db(&fresh);
    let mut files = tree(dir);
    files.retain(|f| f != "SHA256SUMS");
    // Definitions first (customers before orders: the foreign key), then the rows.
    for f in files.iter().filter(|f| f.ends_with(".sql")) {
        m.restore(&fresh, &dir.join(f));
    }
    for f in files.iter().filter(|f| f.ends_with(".txt")) {
        let out = m
            .client()
            .arg(&fresh)
            .arg("-e")
            .arg(format!(
                "SET foreign_key_checks=0; LOAD DATA LOCAL INFILE '{}' INTO TABLE `{}` CHARACTER SET utf8mb4",
                dir.join(f).display(),
                f.trim_end_matches(".txt")
            ))
            .arg("--local-infile=1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "LOAD DATA {f}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    fresh
}

#[test]
fn mariadb_tab_directory_mode_round_trips_through_s3() {
    let Some(m) = mariadb::server() else { return };
    let Some(s3) = s3::server() else { return };
    let db = m.seeded_db("tabdir");
    let (remote, bucket) = s3.bucket("tabdir");
    let conf = tempfile::tempdir().unwrap();
    let temp = shared_temp_dir();
    let out = m
        .dbstash()
        .env("ENGINE", "mariadb")
        .env("DB_URI", m.uri(&db))
        .env("RCLONE_REMOTE", &remote)
        .env("RCLONE_CONFIG_FILE", s3.conf_file(conf.path()))
        .env("BACKUP_MODE", "directory")
        .env("BACKUP_SCHEDULE", "once")
        .env("BACKUP_TEMP_DIR", temp.path())
        .run();
    out.assert_code(0);
    let folder = single_folder(&bucket);
    assert_eq!(
        tree(&folder),
        [
            "SHA256SUMS",
            "customers.sql",
            "customers.txt",
            "orders.sql",
            "orders.txt"
        ]
    );
    let fresh = maria_restore_tab(m, &folder);
    assert_eq!(m.contents(&fresh), m.contents(&db));
    assert!(
        work_dirs(temp.path()).is_empty(),
        "{:?}",
        work_dirs(temp.path())
    );
}

#[test]
fn mariadb_tab_tar_mode_compressed_round_trips() {
    let Some(m) = mariadb::server() else { return };
    require("rclone", s3::INSTALL);
    let db = m.seeded_db("tabtar");
    let remote = tempfile::tempdir().unwrap();
    let temp = shared_temp_dir();
    let out = m
        .dbstash()
        .env("ENGINE", "mariadb")
        .env("DB_URI", m.uri(&db))
        .env("RCLONE_REMOTE", local_remote(remote.path()))
        .env("BACKUP_MODE", "tar")
        .env("BACKUP_COMPRESS", "true")
        .env("BACKUP_SCHEDULE", "once")
        .env("BACKUP_TEMP_DIR", temp.path())
        .run();
    out.assert_code(0);
    assert!(
        !out.stderr.contains("BACKUP_COMPRESS has no effect"),
        "{}",
        out.stderr
    );
    let backup = single_backup(remote.path(), ".tar.gz");
    let x = tempfile::tempdir().unwrap();
    let untar = Command::new("tar")
        .arg("-xzf")
        .arg(&backup)
        .arg("-C")
        .arg(x.path())
        .output()
        .unwrap();
    assert!(untar.status.success(), "{untar:?}");
    assert_eq!(
        tree(x.path()),
        ["customers.sql", "customers.txt", "orders.sql", "orders.txt"]
    );
    let fresh = maria_restore_tab(m, x.path());
    assert_eq!(m.contents(&fresh), m.contents(&db));
}

/// `touch -d` a path to `days` ago.
fn age(path: &Path, days: u32) {
    let ok = Command::new("touch")
        .arg("-d")
        .arg(format!("{days} days ago"))
        .arg(path)
        .status()
        .unwrap();
    assert!(ok.success());
}

#[test]
fn directory_retention_purges_only_matching_folders_and_keeps_the_newest() {
    let Some(pg) = pg::server() else { return };
    let db = pg.seeded_db("dirret");
    let remote = tempfile::tempdir().unwrap();
    let r = remote.path();
    // Three earlier complete backups, one incomplete, and foreign things.
    for (name, days) in [
        (format!("{db}-2026-01-01-020000"), 30),
        (format!("{db}-2026-01-02-020000"), 20),
        (format!("{db}-2026-01-03-020000"), 10),
    ] {
        std::fs::create_dir(r.join(&name)).unwrap();
        std::fs::write(r.join(&name).join("toc.dat"), b"x").unwrap();
        std::fs::write(r.join(&name).join("SHA256SUMS"), b"x").unwrap();
        age(&r.join(&name).join("SHA256SUMS"), days);
        age(&r.join(&name), days);
    }
    let incomplete = format!("{db}-2026-01-04-020000");
    std::fs::create_dir(r.join(&incomplete)).unwrap();
    std::fs::write(r.join(&incomplete).join("toc.dat"), b"x").unwrap();
    let foreign_dir = "someone-elses-folder";
    std::fs::create_dir(r.join(foreign_dir)).unwrap();
    std::fs::write(r.join(foreign_dir).join("SHA256SUMS"), b"x").unwrap();
    age(&r.join(foreign_dir), 100);
    // A file named like a backup folder, and a stream backup of the same db: not folders.
    let file_like = format!("{db}-2026-01-01-010000");
    std::fs::write(r.join(&file_like), b"x").unwrap();
    std::fs::write(r.join(format!("{db}-2025-01-01-010000.sql")), b"x").unwrap();
    age(&r.join(&file_like), 100);

    let out = pg
        .dbstash()
        .env("ENGINE", "pg")
        .env("DB_URI", pg.uri(&db))
        .env("RCLONE_REMOTE", local_remote(r))
        .env("BACKUP_MODE", "directory")
        .env("RETENTION_MAX_FILES", "2")
        .env("BACKUP_SCHEDULE", "once")
        .run();
    out.assert_code(0);
    let left = all_files_in(r);
    assert!(
        left.contains(&format!("{db}-2026-01-03-020000")),
        "newest earlier kept: {left:?}"
    );
    assert!(
        !left.contains(&format!("{db}-2026-01-02-020000")),
        "{left:?}"
    );
    assert!(
        !left.contains(&format!("{db}-2026-01-01-020000")),
        "{left:?}"
    );
    // Incomplete folders take no place and expire by age only.
    assert!(left.contains(&incomplete), "{left:?}");
    assert!(left.contains(&foreign_dir.to_string()), "{left:?}");
    assert!(left.contains(&file_like), "{left:?}");
    assert!(
        left.contains(&format!("{db}-2025-01-01-010000.sql")),
        "{left:?}"
    );
    let new: Vec<&String> = left
        .iter()
        .filter(|n| {
            n.starts_with(&format!("{db}-"))
                && !n.starts_with(&format!("{db}-2026-01-0"))
                && !n.starts_with(&format!("{db}-2025"))
        })
        .collect();
    assert_eq!(new.len(), 1, "the new backup: {left:?}");
    assert!(
        out.stderr.contains("purged expired backup folder"),
        "{}",
        out.stderr
    );

    // By age: the folder of 10 days goes with RETENTION_MAX_DAYS=5, the new one stays.
    let out = pg
        .dbstash()
        .env("ENGINE", "pg")
        .env("DB_URI", pg.uri(&db))
        .env("RCLONE_REMOTE", local_remote(r))
        .env("BACKUP_MODE", "directory")
        .env("RETENTION_MAX_DAYS", "5")
        .env("BACKUP_SCHEDULE", "once")
        .run();
    out.assert_code(0);
    let left = all_files_in(r);
    assert!(
        !left.contains(&format!("{db}-2026-01-03-020000")),
        "{left:?}"
    );
    assert!(left.contains(new[0]), "yesterday's run is young: {left:?}");
    assert!(left.contains(&foreign_dir.to_string()), "{left:?}");
}

#[test]
fn incompatible_modes_exit_2_naming_the_variable() {
    for (engine, extra) in [
        ("redis", vec![]),
        ("pg", vec![("BACKUP_ALL_DATABASES", "true")]),
        ("mariadb", vec![("BACKUP_ALL_DATABASES", "true")]),
    ] {
        for mode in ["directory", "tar"] {
            let mut cmd = Dbstash::new()
                .env("ENGINE", engine)
                .env("DB_HOST", "127.0.0.1")
                .env("RCLONE_REMOTE", "/tmp/nowhere")
                .env("BACKUP_MODE", mode)
                .env("BACKUP_SCHEDULE", "once");
            if extra.is_empty() {
                cmd = cmd.env("DB_NAME", "x");
            }
            for (k, v) in &extra {
                cmd = cmd.env(k, v);
            }
            let out = cmd.run();
            out.assert_code(2);
            assert!(
                out.stderr.contains("BACKUP_MODE"),
                "{engine} {mode}: {}",
                out.stderr
            );
        }
    }
}

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
fn mongo_directory_mode_runs_mongodump_out_and_uploads_its_tree() {
    require("rclone", s3::INSTALL);
    let fake = tempfile::tempdir().unwrap();
    write_script(
        fake.path(),
        "mongodump",
        r#"echo "$@" > "$FAKE_DIR/argv"
for a in "$@"; do case "$a" in --out=*) out="${a#--out=}" ;; esac; done
mkdir -p "$out/analytics" "$out/admin"
echo bson > "$out/analytics/events.bson"; echo '{}' > "$out/analytics/events.metadata.json"
echo bson > "$out/admin/system.version.bson""#,
    );
    for (mode, all) in [("directory", false), ("directory", true), ("tar", false)] {
        let remote = tempfile::tempdir().unwrap();
        let temp = temp_dir();
        let mut cmd = Dbstash::new()
            .fake_bin(fake.path())
            .env("FAKE_DIR", fake.path())
            .env("ENGINE", "mongo")
            .env("DB_HOST", "127.0.0.1")
            .env("DB_USER", "app")
            .env("DB_PASSWORD", "Mongo-Secret-9")
            .env("RCLONE_REMOTE", local_remote(remote.path()))
            .env("BACKUP_MODE", mode)
            .env("BACKUP_COMPRESS", "true")
            .env("BACKUP_SCHEDULE", "once")
            .env("BACKUP_TEMP_DIR", temp.path());
        cmd = if all {
            cmd.env("BACKUP_ALL_DATABASES", "true")
        } else {
            cmd.env("DB_NAME", "analytics")
        };
        let out = cmd.run();
        out.assert_code(0);
        let argv = std::fs::read_to_string(fake.path().join("argv")).unwrap();
        let config = argv.split_whitespace().next().unwrap();
        assert!(config.starts_with("--config=/proc/self/fd/"), "{argv}");
        let work = argv.split_whitespace().nth(1).unwrap();
        assert!(
            work.starts_with(&format!("--out={}/dbstash-run-", temp.path().display())),
            "{argv}"
        );
        assert!(work.ends_with("/dump"), "{argv}");
        let rest: Vec<&str> = argv.split_whitespace().skip(2).collect();
        let mut want = vec![
            "--gzip",
            "--host=127.0.0.1",
            "--port=27017",
            "--username=app",
            "--authenticationDatabase=admin",
        ];
        if !all {
            want.push("--db=analytics");
        }
        assert_eq!(rest, want, "{argv}");
        assert!(!argv.contains("Mongo-Secret"), "{argv}");
        if mode == "directory" {
            let folder = single_folder(remote.path());
            assert_eq!(
                tree(&folder),
                [
                    "SHA256SUMS",
                    "admin/system.version.bson",
                    "analytics/events.bson",
                    "analytics/events.metadata.json"
                ]
            );
        } else {
            // mongodump --gzip compressed the files: the tar is not compressed again.
            let backup = single_backup(remote.path(), ".tar");
            let list = Command::new("tar")
                .arg("-tf")
                .arg(&backup)
                .output()
                .unwrap();
            assert_eq!(
                String::from_utf8_lossy(&list.stdout),
                "admin/\nadmin/system.version.bson\nanalytics/\nanalytics/events.bson\nanalytics/events.metadata.json\n"
            );
        }
        assert!(work_dirs(temp.path()).is_empty());
    }
}

#[test]
fn dry_run_shows_the_modes_plan() {
    let out = Dbstash::new()
        .env("ENGINE", "pg")
        .env("DB_HOST", "127.0.0.1")
        .env("DB_NAME", "app")
        .env("RCLONE_REMOTE", "s3:b/x")
        .env("BACKUP_MODE", "directory")
        .env("DUMP_EXTRA_ARGS", "--jobs 2")
        .env("RETENTION_MAX_FILES", "3")
        .env("BACKUP_SCHEDULE", "once")
        .env("DRY_RUN", "true")
        .run();
    out.assert_code(0);
    let s = &out.stdout;
    assert!(s.contains("Upload (BACKUP_MODE=directory)"), "{s}");
    assert!(
        s.contains("pg_dump --no-password --format=directory --file="),
        "{s}"
    );
    assert!(s.contains("--jobs 2"), "{s}");
    assert!(s.contains("rclone copy"), "{s}");
    assert!(s.contains("SHA256SUMS last"), "{s}");
    assert!(s.contains("top-level folders"), "{s}");
    assert!(s.contains("rclone purge"), "{s}");
    assert!(!s.contains(".sha256"), "no sidecar in directory mode: {s}");
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

#[test]
fn tab_mode_warns_when_backup_temp_dir_is_closed_to_the_server() {
    let Some(m) = mariadb::server() else { return };
    require("rclone", s3::INSTALL);
    let db = m.seeded_db("tabclosed");
    let remote = tempfile::tempdir().unwrap();
    let temp = temp_dir();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let out = m
        .dbstash()
        .env("ENGINE", "mariadb")
        .env("DB_URI", m.uri(&db))
        .env("RCLONE_REMOTE", local_remote(remote.path()))
        .env("BACKUP_MODE", "directory")
        .env("BACKUP_SCHEDULE", "once")
        .env("BACKUP_TEMP_DIR", temp.path())
        .run();
    // The server runs as another user (mysql) here when the tests run as root: it cannot
    // write; either way the warning names the folder.
    assert!(
        out.stderr.contains("cannot write the --tab files"),
        "{}",
        out.stderr
    );
    if out.code != 0 {
        out.assert_code(1);
        assert!(all_files_in(remote.path()).is_empty());
    }
    assert!(work_dirs(temp.path()).is_empty());
}

/// Back up with dbstash in `mode`, then `list`, `verify` and `restore` the result with
/// dbstash itself into a fresh database: the two halves of issue 11 against each other.
fn dbstash_round_trip(
    mk: &dyn Fn() -> Dbstash,
    engine: &str,
    mode: &str,
    contents: &dyn Fn(&str) -> String,
    source: &str,
) {
    let out = mk()
        .env("BACKUP_MODE", mode)
        .env("BACKUP_SCHEDULE", "once")
        .run();
    out.assert_code(0);
    let list = mk()
        .env("BACKUP_MODE", mode)
        .args(["list", engine, "--format", "json"])
        .run();
    list.assert_code(0);
    let rows: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{engine} {mode}: {}", list.stdout);
    assert_eq!(rows[0]["state"], "ok", "{engine} {mode}: {}", list.stdout);
    let verify = mk().env("BACKUP_MODE", mode).args(["verify", engine]).run();
    verify.assert_code(0);
    assert!(verify.stdout.contains("verify passed"), "{}", verify.stdout);
    // A database that does not exist yet: restore creates it.
    let target = unique("rt");
    let restore = mk()
        .env("BACKUP_MODE", mode)
        .args(["restore", engine, "--target-db", &target])
        .run();
    restore.assert_code(0);
    assert_eq!(contents(&target), contents(source), "{engine} {mode}");
}

#[test]
fn pg_directory_and_tar_backups_restore_through_dbstash_restore() {
    let Some(pg) = pg::server() else { return };
    let Some(s3) = s3::server() else { return };
    let db = pg.seeded_db("rtpg");
    let conf = tempfile::tempdir().unwrap();
    for mode in ["directory", "tar"] {
        let (remote, _bucket) = s3.bucket(&format!("rtpg-{mode}"));
        let conf_file = s3.conf_file(conf.path());
        let mk = || {
            pg.dbstash()
                .env("ENGINE", "pg")
                .env("DB_URI", pg.uri(&db))
                .env("RCLONE_REMOTE", &remote)
                .env("RCLONE_CONFIG_FILE", &conf_file)
                .env("DUMP_EXTRA_ARGS", "--jobs=2")
        };
        dbstash_round_trip(&mk, "pg", mode, &|d| pg.contents(d), &db);
    }
}

#[test]
fn mariadb_tab_backups_restore_through_dbstash_restore() {
    let Some(m) = mariadb::server() else { return };
    let Some(s3) = s3::server() else { return };
    let db = m.seeded_db("rtmaria");
    let conf = tempfile::tempdir().unwrap();
    for mode in ["directory", "tar"] {
        let (remote, _bucket) = s3.bucket(&format!("rtmaria-{mode}"));
        let conf_file = s3.conf_file(conf.path());
        let temp = shared_temp_dir();
        let mk = || {
            m.dbstash()
                .env("ENGINE", "mariadb")
                .env("DB_URI", m.uri(&db))
                .env("RCLONE_REMOTE", &remote)
                .env("RCLONE_CONFIG_FILE", &conf_file)
                .env("BACKUP_COMPRESS", "true")
                .env("BACKUP_TEMP_DIR", temp.path())
        };
        dbstash_round_trip(&mk, "mariadb", mode, &|d| m.contents(d), &db);
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
