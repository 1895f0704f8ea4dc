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
pub(crate) fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("dbstash-modes-")
        .tempdir()
        .unwrap()
}

/// What a run left in BACKUP_TEMP_DIR besides lock files.
pub(crate) fn work_dirs(temp: &Path) -> Vec<String> {
    all_files_in(temp)
        .into_iter()
        .filter(|n| !n.ends_with(".lock"))
        .collect()
}

/// Every file under `dir`, as relative paths, sorted.
pub(crate) fn tree(dir: &Path) -> Vec<String> {
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

    // BACKUP_COMPRESS with an uncompressed -Fd dump: .tar.zst.
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
    let backup = single_backup(&bucket.join("gz"), ".tar.zst");
    let y = tempfile::tempdir().unwrap();
    untar_zst(&backup, y.path());
    assert!(tree(y.path())
        .iter()
        .any(|f| f.ends_with(".dat") && f != "toc.dat"));
    pg_restore_dir(pg, &db, y.path());
}

/// Unpack a `.tar.zst` into `into` (zstd in-process, then the real `tar -x`).
fn untar_zst(backup: &Path, into: &Path) {
    let tar = zstd::stream::decode_all(std::fs::File::open(backup).unwrap()).unwrap();
    let file = into.join(".backup.tar");
    std::fs::write(&file, tar).unwrap();
    let untar = Command::new("tar")
        .arg("-xf")
        .arg(&file)
        .arg("-C")
        .arg(into)
        .output()
        .unwrap();
    assert!(untar.status.success(), "{untar:?}");
    std::fs::remove_file(file).unwrap();
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
    let backup = single_backup(remote.path(), ".tar.zst");
    let x = tempfile::tempdir().unwrap();
    untar_zst(&backup, x.path());
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

#[test]
fn directory_retention_on_s3_counts_folders_by_their_sha256sums() {
    let Some(pg) = pg::server() else { return };
    let Some(s3) = s3::server() else { return };
    let db = pg.seeded_db("dirret3");
    let (remote, bucket) = s3.bucket("dirret3");
    let conf = tempfile::tempdir().unwrap();
    let ago = |d: u32| format!("{d} days ago");
    let mut files = Vec::new();
    for (name, days) in [("2026-01-01-020000", 30), ("2026-01-02-020000", 20)] {
        files.push((format!("{db}-{name}/toc.dat"), ago(days)));
        files.push((format!("{db}-{name}/SHA256SUMS"), ago(days)));
    }
    // Incomplete and old: object stores give folders no time, so retention cannot age it,
    // but nothing was written to it for 40 days: a killed run's, removed as abandoned.
    files.push((format!("{db}-2026-01-03-020000/toc.dat"), ago(40)));
    files.push(("foreign/SHA256SUMS".into(), ago(90)));
    s3.upload_aged(&remote, b"x", &files);
    let out = pg
        .dbstash()
        .env("ENGINE", "pg")
        .env("DB_URI", pg.uri(&db))
        .env("RCLONE_REMOTE", &remote)
        .env("RCLONE_CONFIG_FILE", s3.conf_file(conf.path()))
        .env("BACKUP_MODE", "directory")
        .env("RETENTION_MAX_FILES", "2")
        .env("RETENTION_MAX_DAYS", "25")
        .env("BACKUP_SCHEDULE", "once")
        .run();
    out.assert_code(0);
    let left = all_files_in(&bucket);
    assert!(
        !left.contains(&format!("{db}-2026-01-01-020000")),
        "{left:?}"
    );
    assert!(
        left.contains(&format!("{db}-2026-01-02-020000")),
        "{left:?}"
    );
    assert!(
        !left.contains(&format!("{db}-2026-01-03-020000")),
        "{left:?}"
    );
    assert!(left.contains(&"foreign".to_string()), "{left:?}");
    assert_eq!(left.len(), 3, "the new backup too: {left:?}");
}
