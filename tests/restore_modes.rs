//! `list`, `verify` and `restore` of directory and tar backups (BACKUP_MODE=directory|tar)
//! with the real binary. The fixtures follow the layout contract of issue 11 with the real
//! tools: `pg_dump -Fd` / `mariadb-dump --tab` into a directory, `SHA256SUMS` by
//! `sha256sum`, tars by the `tar` crate, uploaded with rclone into `rclone serve s3`.
//! Restores go into fresh databases and are compared table by table; tampered folders and
//! hostile tars must leave the target untouched and nothing outside the temp dir.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::mariadb::{self, Maria};
use crate::support::pg::{self, Pg};
use crate::support::*;

const STAMP: &str = "2026-02-07-020000";

struct Remote {
    remote: String,
    /// The S3 server's backing directory for this bucket.
    dir: PathBuf,
    conf: PathBuf,
    tmp: tempfile::TempDir,
}

fn remote(s3: &s3::S3, prefix: &str) -> Remote {
    let tmp = tempfile::tempdir().unwrap();
    let (remote, dir) = s3.bucket(prefix);
    Remote {
        conf: s3.conf_file(tmp.path()),
        remote,
        dir,
        tmp,
    }
}

impl Remote {
    fn rclone(&self, args: &[&str]) {
        let out = Command::new("rclone")
            .arg("--config")
            .arg(&self.conf)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "rclone {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Upload a dump tree as folder `name`, its SHA256SUMS last (when it has one).
    fn upload_folder(&self, tree: &Path, name: &str) {
        let target = format!("{}/{name}", self.remote);
        self.rclone(&[
            "copy",
            "--exclude",
            "/SHA256SUMS",
            tree.to_str().unwrap(),
            &target,
        ]);
        if tree.join("SHA256SUMS").exists() {
            self.rclone(&[
                "copyto",
                tree.join("SHA256SUMS").to_str().unwrap(),
                &format!("{target}/SHA256SUMS"),
            ]);
        }
    }

    /// Upload `bytes` as object `name` with its `.sha256` sidecar.
    fn upload_object(&self, bytes: &[u8], name: &str) {
        let local = self.tmp.path().join(name);
        std::fs::write(&local, bytes).unwrap();
        let sum = sha256_hex(&local);
        let side = self.tmp.path().join(format!("{name}.sha256"));
        std::fs::write(&side, format!("{sum}  {name}\n")).unwrap();
        for f in [&local, &side] {
            self.rclone(&["copy", f.to_str().unwrap(), &self.remote]);
        }
    }
}

/// `sha256sum` of every file of `tree` (sorted relative paths) into `tree/SHA256SUMS`.
fn write_sums(tree: &Path) {
    let out = Command::new("sh")
        .arg("-c")
        .arg("find . -type f ! -path ./SHA256SUMS | sed 's|^\\./||' | LC_ALL=C sort | xargs -r -d '\\n' sha256sum > ../SHA256SUMS.new && mv ../SHA256SUMS.new SHA256SUMS")
        .current_dir(tree)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The tar of a tree as the contract says: sorted, relative paths, files and directories.
fn tar_of(tree: &Path) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut files = all_tree_files(tree);
    files.sort();
    for rel in files {
        if rel == "SHA256SUMS" {
            continue;
        }
        let data = std::fs::read(tree.join(&rel)).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_770_429_600);
        b.append_data(&mut h, &rel, &data[..]).unwrap();
    }
    b.into_inner().unwrap()
}

fn all_tree_files(root: &Path) -> Vec<String> {
    fn go(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                go(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    go(root, root, &mut out);
    out
}

fn flip_a_byte(path: &Path) {
    let mut b = std::fs::read(path).unwrap();
    let i = b.len() / 2;
    b[i] ^= 0x01;
    std::fs::write(path, b).unwrap();
}

/// Every file left under `dir` (a BACKUP_TEMP_DIR: nothing may remain).
fn leftovers(dir: &Path) -> Vec<String> {
    if !dir.exists() {
        return Vec::new();
    }
    all_tree_files(dir)
}

// ------------------------------------------------------------------ PostgreSQL

fn pg_servers() -> Option<(&'static Pg, &'static s3::S3)> {
    let pg = pg::server()?;
    let s3 = s3::server()?;
    Some((pg, s3))
}

fn pg_dbstash(pg: &Pg, r: &Remote, db: &str, mode: &str, temp: &Path) -> Dbstash {
    pg.dbstash()
        .env("DB_HOST", "127.0.0.1")
        .env("DB_PORT", pg.port.to_string())
        .env("DB_USER", pg::USER)
        .env("DB_PASSWORD", pg::PASSWORD)
        .env("DB_NAME", db)
        .env("RCLONE_REMOTE", &r.remote)
        .env("RCLONE_CONFIG_FILE", &r.conf)
        .env("BACKUP_MODE", mode)
        .env("BACKUP_TEMP_DIR", temp)
}

/// `pg_dump -Fd` of `db` into `<tmp>/dump`, with SHA256SUMS.
fn pg_tree(pg: &Pg, db: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dump = tmp.path().join("dump");
    let out = Command::new(pg.bin.join("pg_dump"))
        .env("PGPASSWORD", pg::PASSWORD)
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &pg.port.to_string(),
            "-U",
            pg::USER,
        ])
        .arg("-Fd")
        .arg("-f")
        .arg(&dump)
        .arg(db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    write_sums(&dump);
    (tmp, dump)
}

fn pg_snapshot(pg: &Pg, db: &str) -> Vec<String> {
    let tables = pg.psql(
        db,
        "select string_agg(format('%I.%I', schemaname, tablename), ' ' order by 1) from pg_tables where schemaname not in ('pg_catalog', 'information_schema')",
    );
    tables
        .split_whitespace()
        .map(|t| {
            let row = pg.psql(
                db,
                &format!("select count(*) || ' ' || md5(coalesce(string_agg(x::text, E'\\n' order by x::text), '')) from {t} x"),
            );
            format!("{t} {row}")
        })
        .collect()
}

fn pg_exists(pg: &Pg, db: &str) -> bool {
    pg.psql(
        "postgres",
        &format!("select count(*) from pg_database where datname = '{db}'"),
    ) == "1"
}

#[test]
fn pg_directory_list_verify_restore_and_refusal() {
    let Some((pg, s3)) = pg_servers() else { return };
    let db = pg.seeded_db("rm_dir");
    let r = remote(s3, "rm-dir");
    let temp = tempfile::tempdir().unwrap();
    let (_t, tree) = pg_tree(pg, &db);
    let complete = format!("{db}-{STAMP}");
    let newer = format!("{db}-2026-02-08-020000");
    r.upload_folder(&tree, &complete);
    // A newer folder without SHA256SUMS: incomplete, never `latest`.
    std::fs::remove_file(tree.join("SHA256SUMS")).unwrap();
    // Its files an hour newer (rclone keeps modification times; a folder's time is its
    // newest file's).
    let later = format!("@{}", chrono::Utc::now().timestamp() + 3600);
    for f in all_tree_files(&tree) {
        let ok = Command::new("touch")
            .args(["-d", &later])
            .arg(tree.join(f))
            .status()
            .unwrap();
        assert!(ok.success());
    }
    r.upload_folder(&tree, &newer);
    // Foreign things: a file with a backup's name pattern, another database's folder.
    std::fs::write(r.dir.join(format!("{db}-2026-02-09-020000")), "x").unwrap();

    let out = pg_dbstash(pg, &r, &db, "directory", temp.path())
        .args(["list", "pg", "--format", "json"])
        .run();
    out.assert_code(0);
    let rows: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{}", out.stdout);
    assert_eq!(rows[0]["name"], newer.as_str());
    assert_eq!(rows[0]["state"], "incomplete");
    assert_eq!(rows[1]["name"], complete.as_str());
    assert_eq!(rows[1]["state"], "ok");
    let size: u64 = all_tree_files(&tree)
        .iter()
        .map(|f| std::fs::metadata(tree.join(f)).unwrap().len())
        .sum();
    assert_eq!(rows[1]["size"], size, "the sum of the dump's files");
    let text = pg_dbstash(pg, &r, &db, "directory", temp.path())
        .args(["list", "pg"])
        .run();
    text.assert_code(0);
    assert!(
        text.stdout.contains("(1 incomplete: no SHA256SUMS)"),
        "{}",
        text.stdout
    );

    let out = pg_dbstash(pg, &r, &db, "directory", temp.path())
        .args(["verify", "pg"])
        .run();
    out.assert_code(0);
    assert!(out.stdout.contains(&complete), "{}", out.stdout);
    assert!(
        out.stdout.contains("every file matches SHA256SUMS"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("pg_restore --list"), "{}", out.stdout);
    assert!(out.stdout.contains("verify passed"), "{}", out.stdout);
    assert_eq!(leftovers(temp.path()), Vec::<String>::new());

    // The incomplete one by name: verify fails, restore refuses.
    let out = pg_dbstash(pg, &r, &db, "directory", temp.path())
        .args(["verify", "pg", "--backup", &newer])
        .run();
    out.assert_code(1);
    assert!(out.stdout.contains("has no SHA256SUMS"), "{}", out.stdout);

    // Dry run: what would be downloaded and run, the password nowhere.
    let target = unique("rm_dir_target");
    let out = pg_dbstash(pg, &r, &db, "directory", temp.path())
        .env("DRY_RUN", "true")
        .args(["restore", "pg", "--target-db", &target])
        .run();
    out.assert_code(0);
    assert!(out.stdout.contains("rclone"), "{}", out.stdout);
    assert!(out.stdout.contains(" copy "), "{}", out.stdout);
    assert!(out.stdout.contains("pg_restore"), "{}", out.stdout);
    assert!(
        out.stdout.contains("--single-transaction"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains(pg::PASSWORD), "{}", out.stdout);
    assert!(!pg_exists(pg, &target));

    let out = pg_dbstash(pg, &r, &db, "directory", temp.path())
        .args(["restore", "pg", "--target-db", &target])
        .run();
    out.assert_code(0);
    assert_eq!(pg_snapshot(pg, &target), pg_snapshot(pg, &db));
    assert_eq!(leftovers(temp.path()), Vec::<String>::new());

    // Again into the same (now non-empty) target: refused, untouched.
    pg.psql(
        &target,
        "insert into orders(customer, total) values (1, 9.99)",
    );
    let before = pg_snapshot(pg, &target);
    let out = pg_dbstash(pg, &r, &db, "directory", temp.path())
        .args(["restore", "pg", "--target-db", &target])
        .run();
    out.assert_code(1);
    assert!(out.stderr.contains("refusing to restore"), "{}", out.stderr);
    assert_eq!(pg_snapshot(pg, &target), before);
    // --drop-existing: pg_restore --clean --if-exists, back to the backup.
    let out = pg_dbstash(pg, &r, &db, "directory", temp.path())
        .args(["restore", "pg", "--target-db", &target, "--drop-existing"])
        .run();
    out.assert_code(0);
    assert_eq!(pg_snapshot(pg, &target), pg_snapshot(pg, &db));
}

#[test]
fn pg_directory_tampering_fails_verify_and_restore_with_the_target_untouched() {
    let Some((pg, s3)) = pg_servers() else { return };
    let db = pg.seeded_db("rm_tamper");
    let (_t, tree) = pg_tree(pg, &db);
    let temp = tempfile::tempdir().unwrap();
    let data_file = all_tree_files(&tree)
        .into_iter()
        .filter(|f| f.ends_with(".dat.gz") || f.ends_with(".dat"))
        .filter(|f| f != "toc.dat")
        .max_by_key(|f| std::fs::metadata(tree.join(f)).unwrap().len())
        .unwrap();
    // The flip happens in the server's backing directory (the server's listing caches
    // names, not contents); files are added and removed through the server.
    type Tamper = Box<dyn Fn(&Remote, &str)>;
    let df = data_file.clone();
    let cases: Vec<(&str, Tamper, String)> = vec![
        (
            "flipped",
            Box::new(move |r: &Remote, name: &str| flip_a_byte(&r.dir.join(name).join(&df))),
            format!("checksum mismatch: '{data_file}'"),
        ),
        (
            "extra",
            Box::new(|r: &Remote, name: &str| {
                let extra = r.tmp.path().join("9999.dat");
                std::fs::write(&extra, "x").unwrap();
                r.rclone(&[
                    "copyto",
                    extra.to_str().unwrap(),
                    &format!("{}/{name}/9999.dat", r.remote),
                ]);
            }),
            "'9999.dat' is in the backup's folder but not in SHA256SUMS".to_string(),
        ),
        (
            "missing",
            Box::new(|r: &Remote, name: &str| {
                r.rclone(&["deletefile", &format!("{}/{name}/toc.dat", r.remote)])
            }),
            "'toc.dat' is listed in SHA256SUMS but missing".to_string(),
        ),
    ];
    for (what, tamper, expected) in cases {
        let r = remote(s3, &format!("rm-tamper-{what}"));
        let name = format!("{db}-{STAMP}");
        r.upload_folder(&tree, &name);
        tamper(&r, &name);
        let out = pg_dbstash(pg, &r, &db, "directory", temp.path())
            .args(["verify", "pg"])
            .run();
        out.assert_code(1);
        assert!(out.stdout.contains(&expected), "{what}: {}", out.stdout);

        // Into a fresh database: refused before it is even created.
        let target = unique("rm_tamper_target");
        let out = pg_dbstash(pg, &r, &db, "directory", temp.path())
            .args(["restore", "pg", "--target-db", &target])
            .run();
        out.assert_code(1);
        assert!(out.stderr.contains(&expected), "{what}: {}", out.stderr);
        assert!(!pg_exists(pg, &target), "{what}");
        // Into an existing one with --drop-existing: nothing dropped, nothing applied.
        pg.create_db(&target);
        pg.psql(
            &target,
            "create table keep(x int); insert into keep values (7)",
        );
        let before = pg_snapshot(pg, &target);
        let out = pg_dbstash(pg, &r, &db, "directory", temp.path())
            .args(["restore", "pg", "--target-db", &target, "--drop-existing"])
            .run();
        out.assert_code(1);
        assert_eq!(pg_snapshot(pg, &target), before, "{what}");
        assert_eq!(leftovers(temp.path()), Vec::<String>::new(), "{what}");
    }
}

#[test]
fn pg_tar_round_trip_and_a_corrupted_tar() {
    let Some((pg, s3)) = pg_servers() else { return };
    let db = pg.seeded_db("rm_tar");
    let (_t, tree) = pg_tree(pg, &db);
    let r = remote(s3, "rm-tar");
    let temp = tempfile::tempdir().unwrap();
    let name = format!("{db}-{STAMP}.tar");
    r.upload_object(&tar_of(&tree), &name);

    let out = pg_dbstash(pg, &r, &db, "tar", temp.path())
        .args(["list", "pg"])
        .run();
    out.assert_code(0);
    assert!(
        out.stdout.contains(&name) && out.stdout.contains(" ok"),
        "{}",
        out.stdout
    );

    let out = pg_dbstash(pg, &r, &db, "tar", temp.path())
        .args(["verify", "pg"])
        .run();
    out.assert_code(0);
    assert!(out.stdout.contains("untarred"), "{}", out.stdout);
    assert!(out.stdout.contains("verify passed"), "{}", out.stdout);

    let target = unique("rm_tar_target");
    let out = pg_dbstash(pg, &r, &db, "tar", temp.path())
        .args(["restore", "pg", "--target-db", &target])
        .run();
    out.assert_code(0);
    assert_eq!(pg_snapshot(pg, &target), pg_snapshot(pg, &db));
    assert_eq!(leftovers(temp.path()), Vec::<String>::new());

    // One byte flipped in the stored object: both fail on the checksum, nothing applied.
    flip_a_byte(&r.dir.join(&name));
    let out = pg_dbstash(pg, &r, &db, "tar", temp.path())
        .args(["verify", "pg"])
        .run();
    out.assert_code(1);
    assert!(out.stdout.contains("checksum mismatch"), "{}", out.stdout);
    let target2 = unique("rm_tar_target");
    let out = pg_dbstash(pg, &r, &db, "tar", temp.path())
        .args(["restore", "pg", "--target-db", &target2])
        .run();
    out.assert_code(1);
    assert!(!pg_exists(pg, &target2));
    assert_eq!(leftovers(temp.path()), Vec::<String>::new());
}

/// A GNU header named `name` as is (the builder refuses `..` and absolute names).
fn raw_header(kind: tar::EntryType, name: &str, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    let n = &mut h.as_old_mut().name;
    n.fill(0);
    n[..name.len()].copy_from_slice(name.as_bytes());
    h.set_cksum();
    h
}

#[test]
fn hostile_tars_are_refused_and_write_nothing_outside_the_temp_dir() {
    let Some((pg, s3)) = pg_servers() else { return };
    let db = pg.seeded_db("rm_evil");
    let (_t, tree) = pg_tree(pg, &db);
    let sandbox = tempfile::tempdir().unwrap();
    let temp = sandbox.path().join("temp");
    let abs_target = sandbox.path().join("abs-evil");
    let good = tar_of(&tree);
    // The real dump first, then the hostile entry (a restore would need it all).
    let with = |h: tar::Header, data: &[u8], link: Option<&str>| {
        let mut b = tar::Builder::new(Vec::new());
        let mut a = tar::Archive::new(&good[..]);
        for e in a.entries().unwrap() {
            let mut e = e.unwrap();
            let hh = e.header().clone();
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut buf).unwrap();
            b.append(&hh, &buf[..]).unwrap();
        }
        let mut h = h;
        if let Some(l) = link {
            h.set_link_name(l).unwrap();
            h.set_cksum();
        }
        b.append(&h, data).unwrap();
        b.into_inner().unwrap()
    };
    let cases = [
        (
            "dotdot",
            with(
                raw_header(tar::EntryType::Regular, "../evil", 4),
                b"evil",
                None,
            ),
            "'..'",
        ),
        (
            "absolute",
            with(
                raw_header(tar::EntryType::Regular, abs_target.to_str().unwrap(), 4),
                b"evil",
                None,
            ),
            "absolute",
        ),
        (
            "symlink",
            with(
                raw_header(tar::EntryType::Symlink, "toc.link", 0),
                b"",
                Some(sandbox.path().to_str().unwrap()),
            ),
            "symbolic link",
        ),
        (
            "hardlink",
            with(
                raw_header(tar::EntryType::Link, "hard", 0),
                b"",
                Some("/etc/passwd"),
            ),
            "hard link",
        ),
    ];
    for (what, bytes, expected) in cases {
        let r = remote(s3, &format!("rm-evil-{what}"));
        r.upload_object(&bytes, &format!("{db}-{STAMP}.tar"));
        let out = pg_dbstash(pg, &r, &db, "tar", &temp)
            .args(["verify", "pg"])
            .run();
        out.assert_code(1);
        assert!(out.stdout.contains(expected), "{what}: {}", out.stdout);
        let target = unique("rm_evil_target");
        let out = pg_dbstash(pg, &r, &db, "tar", &temp)
            .args(["restore", "pg", "--target-db", &target])
            .run();
        out.assert_code(1);
        assert!(out.stderr.contains(expected), "{what}: {}", out.stderr);
        assert!(!pg_exists(pg, &target), "{what}");
        // Nothing outside the temp dir, and nothing left in it.
        assert!(!sandbox.path().join("evil").exists(), "{what}");
        assert!(!abs_target.exists(), "{what}");
        let mut outside: Vec<String> = std::fs::read_dir(sandbox.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        outside.sort();
        assert_eq!(outside, ["temp"], "{what}");
        assert_eq!(leftovers(&temp), Vec::<String>::new(), "{what}");
    }
}

#[test]
fn modes_that_cannot_exist_are_bad_configuration() {
    let Some(_) = require("rclone", s3::INSTALL) else {
        return;
    };
    let remote_dir = tempfile::tempdir().unwrap();
    for (engine, extra, needle) in [
        ("redis", vec![("DB_NAME", "0")], "BACKUP_MODE"),
        ("pg", vec![("BACKUP_ALL_DATABASES", "true")], "stream-only"),
        (
            "mariadb",
            vec![("BACKUP_ALL_DATABASES", "true")],
            "stream-only",
        ),
    ] {
        for mode in ["directory", "tar"] {
            for cmd in ["list", "verify", "restore"] {
                let mut d = Dbstash::new()
                    .env("DB_HOST", "127.0.0.1")
                    .env("RCLONE_REMOTE", local_remote(remote_dir.path()))
                    .env("BACKUP_MODE", mode)
                    .env("RESTORE_OUTPUT", remote_dir.path().join("x.rdb"));
                for (k, v) in &extra {
                    d = d.env(k, v);
                }
                let out = d.args([cmd, engine]).run();
                out.assert_code(2);
                assert!(
                    out.stderr.contains(needle),
                    "{engine} {mode} {cmd}: {}",
                    out.stderr
                );
            }
        }
    }
    let out = Dbstash::new()
        .env("DB_HOST", "127.0.0.1")
        .env("DB_NAME", "shop")
        .env("RCLONE_REMOTE", local_remote(remote_dir.path()))
        .env("BACKUP_MODE", "directory")
        .args(["restore", "pg", "--output", "/tmp/x"])
        .run();
    out.assert_code(2);
    assert!(out.stderr.contains("RESTORE_OUTPUT"), "{}", out.stderr);
}

// ------------------------------------------------------------------ MariaDB

fn maria_servers() -> Option<(&'static Maria, &'static s3::S3)> {
    let m = mariadb::server()?;
    let s3 = s3::server()?;
    Some((m, s3))
}

fn maria_dbstash(m: &Maria, r: &Remote, db: &str, mode: &str, temp: &Path) -> Dbstash {
    m.dbstash()
        .env("DB_URI", m.uri(db))
        .env("RCLONE_REMOTE", &r.remote)
        .env("RCLONE_CONFIG_FILE", &r.conf)
        .env("BACKUP_MODE", mode)
        .env("BACKUP_TEMP_DIR", temp)
}

/// `mariadb-dump --tab` of `db` into `<tmp>/dump` (the server writes the .txt files: the
/// directory is world-writable), with SHA256SUMS.
fn maria_tree(m: &Maria, db: &str) -> (tempfile::TempDir, PathBuf) {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let dump = tmp.path().join("dump");
    std::fs::create_dir(&dump).unwrap();
    std::fs::set_permissions(&dump, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = Command::new("mariadb-dump")
        .env("MYSQL_PWD", mariadb::PASSWORD)
        .args(["--no-defaults", "--protocol=TCP", "-h", "127.0.0.1", "-P"])
        .arg(m.port.to_string())
        .args(["-u", mariadb::USER, "--single-transaction"])
        .arg(format!("--tab={}", dump.display()))
        .arg(db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    write_sums(&dump);
    (tmp, dump)
}

#[test]
fn mariadb_directory_and_tar_round_trips_and_refusals() {
    let Some((m, s3)) = maria_servers() else {
        return;
    };
    let db = m.seeded_db("rm_maria");
    m.sql(
        &db,
        "CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100",
    );
    let (_t, tree) = maria_tree(m, &db);
    assert!(
        tree.join("customers.txt").exists(),
        "{:?}",
        all_tree_files(&tree)
    );
    let temp = tempfile::tempdir().unwrap();
    let r = remote(s3, "rm-maria");
    let name = format!("{db}-{STAMP}");
    r.upload_folder(&tree, &name);

    let out = maria_dbstash(m, &r, &db, "directory", temp.path())
        .args(["verify", "mariadb"])
        .run();
    out.assert_code(0);
    assert!(
        out.stdout.contains("2 tables with data, 1 other"),
        "{}",
        out.stdout
    );

    let target = unique("rm_maria_target");
    let out = maria_dbstash(m, &r, &db, "directory", temp.path())
        .args(["restore", "mariadb", "--target-db", &target])
        .run();
    out.assert_code(0);
    assert_eq!(m.contents(&target), m.contents(&db));
    assert_eq!(
        m.sql(&target, "SELECT COUNT(*) FROM big_orders"),
        m.sql(&db, "SELECT COUNT(*) FROM big_orders")
    );
    assert_eq!(leftovers(temp.path()), Vec::<String>::new());

    // A non-empty target without --drop-existing/--force: refused, untouched.
    m.sql(
        &target,
        "INSERT INTO orders(customer, total) VALUES (1, 9.99)",
    );
    let before = m.contents(&target);
    let out = maria_dbstash(m, &r, &db, "directory", temp.path())
        .args(["restore", "mariadb", "--target-db", &target])
        .run();
    out.assert_code(1);
    assert_eq!(m.contents(&target), before);

    // A flipped byte in one table's data: verify and restore fail, nothing created.
    flip_a_byte(&r.dir.join(&name).join("customers.txt"));
    let out = maria_dbstash(m, &r, &db, "directory", temp.path())
        .args(["verify", "mariadb"])
        .run();
    out.assert_code(1);
    assert!(out.stdout.contains("'customers.txt'"), "{}", out.stdout);
    let fresh = unique("rm_maria_fresh");
    let out = maria_dbstash(m, &r, &db, "directory", temp.path())
        .args(["restore", "mariadb", "--target-db", &fresh])
        .run();
    out.assert_code(1);
    assert_eq!(
        m.sql(
            "",
            &format!(
                "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '{fresh}'"
            )
        ),
        "0"
    );

    // Tar mode: the same tree as one object; the password never on argv (MYSQL_PWD).
    let rt = remote(s3, "rm-maria-tar");
    rt.upload_object(&tar_of(&tree), &format!("{db}-{STAMP}.tar"));
    let wrappers = tempfile::tempdir().unwrap();
    let real = which("mariadb").unwrap();
    let log = recording_wrapper(wrappers.path(), "mariadb", &real, "MYSQL_PWD");
    let target = unique("rm_maria_tar");
    let out = maria_dbstash(m, &rt, &db, "tar", temp.path())
        .fake_bin(wrappers.path())
        .args(["restore", "mariadb", "--target-db", &target])
        .run();
    out.assert_code(0);
    assert_eq!(m.contents(&target), m.contents(&db));
    let argv = std::fs::read_to_string(log).unwrap();
    assert!(argv.contains("--local-infile=1"), "{argv}");
    assert!(!argv.contains(mariadb::PASSWORD), "{argv}");
    assert_eq!(leftovers(temp.path()), Vec::<String>::new());
}

// ------------------------------------------------------------------ MongoDB (fakes)

#[test]
fn mongo_directory_restore_by_exact_argv() {
    let Some(_) = require("rclone", s3::INSTALL) else {
        return;
    };
    let fake = tempfile::tempdir().unwrap();
    write_script(
        fake.path(),
        "mongodump",
        r#"cat "$FAKE_DIR/probe.bin"
sleep 4242"#,
    );
    write_script(
        fake.path(),
        "mongorestore",
        r#"echo "$@" >> "$FAKE_DIR/mongorestore.argv"
for a in "$@"; do
  case "$a" in
    --config=*) cat "${a#--config=}" > "$FAKE_DIR/mongorestore.config" ;;
    --dir=*) (cd "${a#--dir=}" && find . -type f | LC_ALL=C sort) > "$FAKE_DIR/restored.files" ;;
  esac
done
echo "2026-02-07T02:00:00.000+0000	1 document(s) restored successfully. 0 document(s) failed to restore." >&2"#,
    );
    std::fs::write(
        fake.path().join("probe.bin"),
        crate::restore_others::archive(&[]),
    )
    .unwrap();
    // The tree mongodump --out --gzip writes, and its SHA256SUMS.
    let src = tempfile::tempdir().unwrap();
    let tree = src.path().join("dump");
    std::fs::create_dir_all(tree.join("shop")).unwrap();
    let doc = crate::restore_others::bson(&[("_id", Err(1)), ("name", Ok("ann"))]);
    let gz = |bytes: &[u8]| {
        use std::io::Write as _;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    };
    std::fs::write(tree.join("shop/users.bson.gz"), gz(&doc)).unwrap();
    std::fs::write(
        tree.join("shop/users.metadata.json.gz"),
        gz(br#"{"indexes":[]}"#),
    )
    .unwrap();
    write_sums(&tree);
    let remote_dir = tempfile::tempdir().unwrap();
    let folder = remote_dir.path().join(format!("shop-{STAMP}"));
    std::fs::create_dir(&folder).unwrap();
    for f in all_tree_files(&tree) {
        let to = folder.join(&f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(tree.join(&f), to).unwrap();
    }
    let temp = tempfile::tempdir().unwrap();
    let out = Dbstash::new()
        .fake_bin(fake.path())
        .env("FAKE_DIR", fake.path())
        .env("RCLONE_REMOTE", local_remote(remote_dir.path()))
        .env("DB_URI", "mongodb://app:Mongo%24ecret@m1:27017/shop")
        .env("BACKUP_MODE", "directory")
        .env("BACKUP_TEMP_DIR", temp.path())
        .args([
            "restore",
            "mongo",
            "--target-db",
            "shop_copy",
            "--drop-existing",
        ])
        .run();
    out.assert_code(0);
    let argv = std::fs::read_to_string(fake.path().join("mongorestore.argv")).unwrap();
    let argv: Vec<String> = argv
        .split_whitespace()
        .map(|a| {
            if a.starts_with("--config=/") {
                "--config=FILE".into()
            } else if a.starts_with("--dir=/") {
                "--dir=DIR".into()
            } else {
                a.to_string()
            }
        })
        .collect();
    assert_eq!(
        argv.join(" "),
        "--config=FILE --dir=DIR --gzip --nsInclude=shop.* --nsFrom=shop.* --nsTo=shop_copy.* --drop"
    );
    assert!(!argv.join(" ").contains("Mongo%24ecret"));
    assert!(
        std::fs::read_to_string(fake.path().join("mongorestore.config"))
            .unwrap()
            .contains("Mongo%24ecret")
    );
    assert_eq!(
        std::fs::read_to_string(fake.path().join("restored.files")).unwrap(),
        "./shop/users.bson.gz\n./shop/users.metadata.json.gz\n"
    );
    assert_eq!(leftovers(temp.path()), Vec::<String>::new());

    // A truncated .bson (with a SHA256SUMS that matches it) fails verify: incomplete dump.
    std::fs::write(folder.join("shop/users.bson.gz"), gz(&doc[..doc.len() - 3])).unwrap();
    write_sums(&folder);
    let out = Dbstash::new()
        .fake_bin(fake.path())
        .env("FAKE_DIR", fake.path())
        .env("RCLONE_REMOTE", local_remote(remote_dir.path()))
        .env("DB_URI", "mongodb://m1:27017/shop")
        .env("BACKUP_MODE", "directory")
        .env("BACKUP_TEMP_DIR", temp.path())
        .args(["verify", "mongo"])
        .run();
    out.assert_code(1);
    assert!(out.stdout.contains("cut short"), "{}", out.stdout);
}
