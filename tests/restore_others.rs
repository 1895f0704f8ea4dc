//! `dbstash restore mysql|mariadb|redis|mongo` with the real binary. MariaDB and Redis are
//! real servers and the backups go through `rclone serve s3`; data is compared table by
//! table and key by key, never byte by byte. A corrupted or unverifiable backup must leave
//! the target exactly as it was. MongoDB cannot be installed here: fake `mongodump` (the
//! target probe) and `mongorestore` on PATH prove the exact argv and the credentials file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::mariadb::{self, Maria};
use crate::support::redis;
use crate::support::*;

// ------------------------------------------------------------------------------ helpers

/// A folder on the S3 server with its rclone config.
struct Remote {
    remote: String,
    dir: PathBuf,
    conf: PathBuf,
    _tmp: tempfile::TempDir,
}

fn remote(s3: &s3::S3, prefix: &str) -> Remote {
    let tmp = tempfile::tempdir().unwrap();
    let (remote, dir) = s3.bucket(prefix);
    Remote {
        conf: s3.conf_file(tmp.path()),
        remote,
        dir,
        _tmp: tmp,
    }
}

impl Remote {
    fn on(&self, d: Dbstash) -> Dbstash {
        d.env("RCLONE_REMOTE", &self.remote)
            .env("RCLONE_CONFIG_FILE", &self.conf)
            .env("BACKUP_SCHEDULE", "once")
    }

    /// The one backup in the folder (not its sidecar).
    fn backup(&self) -> PathBuf {
        let names = files_in(&self.dir);
        let backups: Vec<&String> = names.iter().filter(|n| !n.ends_with(".sha256")).collect();
        assert_eq!(backups.len(), 1, "one backup expected: {names:?}");
        self.dir.join(backups[0])
    }
}

impl Remote {
    /// `rclone ARGS` with this remote's config: objects are added and removed through the
    /// S3 API, since serve s3 caches its listings (a file removed from its directory behind
    /// its back is still listed).
    fn rclone(&self, args: &[&str]) {
        let out = std::process::Command::new("rclone")
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

    /// Upload `content` as backup `name`, with its sidecar.
    fn put(&self, name: &str, content: &[u8]) {
        let tmp = tempfile::tempdir().unwrap();
        put_backup(tmp.path(), name, content);
        for f in [name.to_string(), format!("{name}.sha256")] {
            let from = tmp.path().join(&f);
            self.rclone(&[
                "copyto",
                from.to_str().unwrap(),
                &format!("{}/{f}", self.remote),
            ]);
        }
    }
}

fn flip_a_byte(path: &Path) {
    let mut b = std::fs::read(path).unwrap();
    let i = b.len() / 2;
    b[i] ^= 0x01;
    std::fs::write(path, b).unwrap();
}

/// Put `content` into `dir` as backup `name` with its sidecar.
fn put_backup(dir: &Path, name: &str, content: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), content).unwrap();
    let sha = sha256_hex(&dir.join(name));
    std::fs::write(
        dir.join(format!("{name}.sha256")),
        format!("{sha}  {name}\n"),
    )
    .unwrap();
}

/// Every table of `db` with its row count and checksum: what a refused or failed restore
/// must leave as it was.
fn snapshot(m: &Maria, db: &str) -> String {
    m.sql(db, "SHOW TABLES")
        .lines()
        .map(|t| {
            let sum = m.sql(db, &format!("CHECKSUM TABLE `{t}`"));
            let n = m.sql(db, &format!("SELECT COUNT(*) FROM `{t}`"));
            format!("{sum} rows={n}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn exists(m: &Maria, db: &str) -> bool {
    m.sql(
        "",
        &format!("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '{db}'"),
    ) == "1"
}

/// Back up `db` of `m` with the mariadb engine into `r`.
fn maria_backup(m: &Maria, r: &Remote, db: &str) -> PathBuf {
    r.on(m.dbstash())
        .args(["mariadb"])
        .env("DB_URI", m.uri(db))
        .run()
        .assert_code(0);
    r.backup()
}

/// `dbstash restore mariadb` for backups of `db`, connected to `m` with the password in
/// DB_PASSWORD.
fn maria_restore(m: &Maria, r: &Remote, db: &str) -> Dbstash {
    r.on(m.dbstash())
        .args(["restore", "mariadb"])
        .env("DB_HOST", "127.0.0.1")
        .env("DB_PORT", m.port.to_string())
        .env("DB_USER", mariadb::USER)
        .env("DB_PASSWORD", mariadb::PASSWORD)
        .env("DB_NAME", db)
}

fn maria_and_s3() -> Option<(&'static Maria, &'static s3::S3)> {
    let m = mariadb::server()?;
    let s3 = s3::server()?;
    Some((m, s3))
}

// ------------------------------------------------------------------------------ MariaDB

#[test]
fn mariadb_round_trip_with_the_password_never_on_argv() {
    let Some((m, s3)) = maria_and_s3() else {
        return;
    };
    let Some(client) = require("mariadb", mariadb::INSTALL) else {
        return;
    };
    let db = m.seeded_db("ro_single");
    let r = remote(s3, "ro-single");
    maria_backup(m, &r, &db);

    let wrappers = tempfile::tempdir().unwrap();
    let log = recording_wrapper(wrappers.path(), "mariadb", &client, "MYSQL_PWD");
    let target = unique("ro_single_target");
    let out = maria_restore(m, &r, &db)
        .fake_bin(wrappers.path())
        .args(["--backup", "latest", "--target-db", &target])
        .run();
    out.assert_code(0);
    assert!(out.stderr.contains("restore succeeded"), "{}", out.stderr);
    assert!(
        out.stderr.contains("created the target database"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(mariadb::PASSWORD), "{}", out.stderr);
    assert_eq!(m.contents(&target), m.contents(&db));
    let calls = std::fs::read_to_string(&log).unwrap();
    assert!(
        !calls.contains(mariadb::PASSWORD),
        "password on argv:\n{calls}"
    );
    assert!(
        !calls.contains("MYSQL_PWD: \n"),
        "a call without MYSQL_PWD:\n{calls}"
    );
    let apply: Vec<&str> = calls
        .lines()
        .filter(|l| l.starts_with("argv: ") && !l.contains("--execute="))
        .collect();
    assert_eq!(
        apply,
        [format!(
            "argv: --host=127.0.0.1 --port={} --user=root {target}",
            m.port
        )],
        "{calls}"
    );

    // Again, without a flag: the target has tables now. Refused, untouched.
    let before = snapshot(m, &target);
    let out = maria_restore(m, &r, &db)
        .args(["--target-db", &target])
        .run();
    out.assert_code(1);
    assert!(
        out.stderr
            .contains(&format!("database {target} already has 2 tables")),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--drop-existing"), "{}", out.stderr);
    assert_eq!(snapshot(m, &target), before);

    // --force: on top; the dump's tables are replaced, another table stays.
    m.sql(
        &target,
        "CREATE TABLE extra (x INT); INSERT INTO extra VALUES (7); DELETE FROM orders WHERE id < 10;",
    );
    maria_restore(m, &r, &db)
        .args(["--target-db", &target, "--force"])
        .run()
        .assert_code(0);
    assert_eq!(m.sql(&target, "SELECT x FROM extra"), "7");
    assert_eq!(
        m.sql(&target, "SELECT COUNT(*) FROM orders"),
        m.sql(&db, "SELECT COUNT(*) FROM orders")
    );

    // --drop-existing: exactly the backup, the database's collation kept.
    m.sql(
        "",
        &format!("ALTER DATABASE `{target}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"),
    );
    let out = maria_restore(m, &r, &db)
        .args(["--target-db", &target, "--drop-existing"])
        .run();
    out.assert_code(0);
    assert!(
        out.stderr.contains("dropped the target database"),
        "{}",
        out.stderr
    );
    assert_eq!(m.sql(&target, "SHOW TABLES"), "customers\norders");
    assert_eq!(m.contents(&target), m.contents(&db));
    assert_eq!(
        m.sql(
            "",
            &format!("SELECT default_collation_name FROM information_schema.schemata WHERE schema_name = '{target}'")
        ),
        "utf8mb4_bin"
    );
}

/// A single-database backup into a second server, under its own name (DB_NAME), with the
/// mysql engine and a URI.
#[test]
fn mysql_backup_restores_into_a_second_server() {
    let Some((m, s3)) = maria_and_s3() else {
        return;
    };
    let Some(second) = mariadb::start() else {
        return;
    };
    let db = m.seeded_db("ro_second");
    let r = remote(s3, "ro-second");
    r.on(m.dbstash())
        .args(["mysql", "--db-uri", &m.uri(&db)])
        .run()
        .assert_code(0);
    let out = r
        .on(second.dbstash())
        .args(["restore", "mysql", "--db-uri", &second.uri(&db)])
        .run();
    out.assert_code(0);
    assert_eq!(second.contents(&db), m.contents(&db));
}

#[test]
fn mariadb_all_databases_restore_into_a_new_server() {
    let Some(s3) = s3::server() else { return };
    let (source, target) = std::thread::scope(|s| {
        let source = s.spawn(mariadb::start);
        let target = s.spawn(mariadb::start);
        (source.join().unwrap(), target.join().unwrap())
    });
    let (Some(source), Some(target)) = (source, target) else {
        return;
    };
    let a = source.seeded_db("ro_alla");
    let b = source.seeded_db("ro_allb");
    let r = remote(s3, "ro-all");
    // Docker mode: ENGINE and the environment only.
    let env = |d: Dbstash, m: &Maria| {
        r.on(d)
            .env("ENGINE", "mariadb")
            .env("DB_HOST", "127.0.0.1")
            .env("DB_PORT", m.port.to_string())
            .env("DB_USER", mariadb::USER)
            .env("DB_PASSWORD", mariadb::PASSWORD)
            .env("BACKUP_ALL_DATABASES", "true")
    };
    env(source.dbstash(), &source).run().assert_code(0);
    assert!(file_name(&r.backup()).starts_with("all-"));

    let out = env(target.dbstash(), &target).args(["restore"]).run();
    out.assert_code(0);
    assert!(
        out.stderr.contains("mysql system database"),
        "{}",
        out.stderr
    );
    assert_eq!(target.contents(&a), source.contents(&a));
    assert_eq!(target.contents(&b), source.contents(&b));

    // Again: the backup's databases have tables now. Refused, nothing changes.
    target.sql(&a, "DELETE FROM orders WHERE id < 100");
    let before = (snapshot(&target, &a), snapshot(&target, &b));
    let out = env(target.dbstash(), &target).args(["restore"]).run();
    out.assert_code(1);
    for needle in [
        "already have tables",
        &format!("{a} (2 tables)"),
        &format!("{b} (2 tables)"),
    ] {
        assert!(out.stderr.contains(needle), "{needle}: {}", out.stderr);
    }
    assert_eq!((snapshot(&target, &a), snapshot(&target, &b)), before);

    // --drop-existing: dropped and restored as backed up.
    target.sql(&b, "CREATE TABLE extra (x INT)");
    env(target.dbstash(), &target)
        .args(["restore", "--drop-existing"])
        .run()
        .assert_code(0);
    assert_eq!(target.contents(&a), source.contents(&a));
    assert_eq!(target.sql(&b, "SHOW TABLES"), "customers\norders");
}

#[test]
fn a_corrupted_backup_is_never_applied() {
    let Some((m, s3)) = maria_and_s3() else {
        return;
    };
    let db = m.seeded_db("ro_corrupt");
    let r = remote(s3, "ro-corrupt");
    let backup = maria_backup(m, &r, &db);
    flip_a_byte(&backup);

    // A target with tables, restored over with --force: the checksum stops it first.
    let target = unique("ro_corrupt_target");
    m.create_db(&target);
    m.sql(
        &target,
        "CREATE TABLE keep (x INT); INSERT INTO keep VALUES (1), (2);",
    );
    let before = snapshot(m, &target);
    let work = tempfile::tempdir().unwrap();
    let out = maria_restore(m, &r, &db)
        .env("BACKUP_TEMP_DIR", work.path())
        .args(["--target-db", &target, "--force"])
        .run();
    out.assert_code(1);
    assert!(out.stderr.contains("checksum mismatch"), "{}", out.stderr);
    assert_eq!(snapshot(m, &target), before);
    assert_eq!(
        all_files_in(work.path()),
        Vec::<String>::new(),
        "download removed"
    );

    // A missing target is not even created.
    let missing = unique("ro_corrupt_missing");
    maria_restore(m, &r, &db)
        .args(["--target-db", &missing])
        .run()
        .assert_code(1);
    assert!(!exists(m, &missing));
}

#[test]
fn a_backup_without_its_sidecar_needs_no_verify() {
    let Some((m, s3)) = maria_and_s3() else {
        return;
    };
    let db = m.seeded_db("ro_nosidecar");
    let r = remote(s3, "ro-nosidecar");
    let name = file_name(&maria_backup(m, &r, &db));
    r.rclone(&["deletefile", &format!("{}/{name}.sha256", r.remote)]);
    let target = unique("ro_nosidecar_target");
    let out = maria_restore(m, &r, &db)
        .args(["--backup", &name, "--target-db", &target])
        .run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("has no .sha256 sidecar"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--no-verify"), "{}", out.stderr);
    assert!(!exists(m, &target));
    // latest skips it: there is no complete backup.
    maria_restore(m, &r, &db)
        .args(["--target-db", &target])
        .run()
        .assert_code(1);

    let out = maria_restore(m, &r, &db)
        .args(["--backup", &name, "--target-db", &target, "--no-verify"])
        .run();
    out.assert_code(0);
    assert!(
        out.stderr.contains("without a .sha256 sidecar"),
        "{}",
        out.stderr
    );
    assert_eq!(m.contents(&target), m.contents(&db));
}

/// A gzip-compressed plain dump (BACKUP_EXTENSION names it) is decompressed in-process.
#[test]
fn a_compressed_dump_is_decompressed_in_process() {
    use std::io::Write as _;
    let Some((m, s3)) = maria_and_s3() else {
        return;
    };
    let db = m.seeded_db("ro_gz");
    let plain = std::fs::read(maria_backup(m, &remote(s3, "ro-gz-plain"), &db)).unwrap();
    let r = remote(s3, "ro-gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).unwrap();
    r.put(
        &format!("{db}-2026-02-07-020000.sql.gz"),
        &gz.finish().unwrap(),
    );
    let target = unique("ro_gz_target");
    maria_restore(m, &r, &db)
        .env("BACKUP_EXTENSION", ".sql.gz")
        .args(["--target-db", &target])
        .run()
        .assert_code(0);
    assert_eq!(m.contents(&target), m.contents(&db));
}

/// A fake `mariadb` client: queries answer nothing (no such database), the apply hangs.
fn hanging_client(dir: &Path) {
    write_script(
        dir,
        "mariadb",
        &format!(
            r#"case "$*" in *--execute=*) exit 0 ;; esac
touch '{}/started'
sleep 3171"#,
            dir.display()
        ),
    );
}

fn hand_made_backup() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    put_backup(
        &dir.path().join("remote"),
        "shop-2026-02-07-020000.sql",
        b"CREATE TABLE t (id INT);\n-- Dump completed on 2026-02-07\n",
    );
    let remote = local_remote(&dir.path().join("remote"));
    (dir, remote)
}

#[test]
fn timeout_and_sigterm_stop_the_client() {
    let Some(_) = require("rclone", s3::INSTALL) else {
        return;
    };
    let (dir, remote) = hand_made_backup();
    let fake = tempfile::tempdir().unwrap();
    hanging_client(fake.path());
    let base = || {
        Dbstash::new()
            .fake_bin(fake.path())
            .args([
                "restore",
                "mariadb",
                "--db-uri",
                "mariadb://root:pw-xyz@127.0.0.1:1/shop",
            ])
            .env("RCLONE_REMOTE", &remote)
    };
    let (out, _) = base()
        .env("BACKUP_TIMEOUT", "2s")
        .run_within(Duration::from_secs(30));
    out.assert_code(1);
    assert!(out.stderr.contains("timed out after 2s"), "{}", out.stderr);
    assert_no_process_left("sleep 3171", 10);

    std::fs::remove_file(fake.path().join("started")).ok();
    let running = base().spawn();
    wait_for("the client to start", 30, || {
        fake.path().join("started").exists()
    });
    unsafe { libc::kill(running.child.id() as libc::pid_t, libc::SIGTERM) };
    let (code, stderr) = running.finish();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("interrupted by SIGTERM"), "{stderr}");
    assert_no_process_left("sleep 3171", 10);
    assert!(!stderr.contains("pw-xyz"), "{stderr}");
    drop(dir);
}

#[test]
fn dry_run_prints_the_plan_with_secrets_redacted_and_runs_nothing() {
    let Some(_) = require("rclone", s3::INSTALL) else {
        return;
    };
    let (_dir, remote) = hand_made_backup();
    let fake = tempfile::tempdir().unwrap();
    let log = fake.path().join("called");
    write_script(
        fake.path(),
        "mariadb",
        &format!("echo \"$@\" >> '{}'", log.display()),
    );
    let out = Dbstash::new()
        .fake_bin(fake.path())
        .args(["restore", "mariadb", "--target-db", "shop_copy"])
        .env("DB_URI", "mariadb://root:pw-xyz@db.internal:3306/shop")
        .env("RCLONE_REMOTE", &remote)
        .env("DRY_RUN", "true")
        .run();
    out.assert_code(0);
    for needle in [
        "dbstash dry run: nothing is executed.",
        "shop-2026-02-07-020000.sql",
        "checksum   sha256 ",
        "rclone cat ",
        "MYSQL_PWD=*** mariadb --host=db.internal --port=3306 --user=root shop_copy < shop-2026-02-07-020000.sql",
        "CREATE DATABASE `shop_copy`",
    ] {
        assert!(out.stdout.contains(needle), "{needle}:\n{}", out.stdout);
    }
    assert!(!out.stdout.contains("pw-xyz") && !out.stderr.contains("pw-xyz"));
    assert!(!log.exists(), "the client ran in a dry run");
}

#[test]
fn bad_restore_flags_are_exit_2() {
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        (&["redis"], &[("DB_HOST", "cache")], "is required for redis"),
        (
            &["redis", "--output", "/tmp/x.rdb", "--target-db", "x"],
            &[("DB_HOST", "cache")],
            "does not apply to redis",
        ),
        (
            &["mariadb", "--target-db", "x"],
            &[("DB_HOST", "db"), ("BACKUP_ALL_DATABASES", "true")],
            "does not apply to an all-databases backup",
        ),
        (
            &["mongo", "--drop-existing", "--force"],
            &[("DB_HOST", "m"), ("DB_NAME", "shop")],
            "choose one",
        ),
        (
            &["mysql", "--output", "/tmp/x.sql", "--drop-existing"],
            &[("DB_HOST", "db"), ("DB_NAME", "shop")],
            "restores nothing into a database",
        ),
        (
            &["mysql", "--target-db=-x"],
            &[("DB_HOST", "db"), ("DB_NAME", "shop")],
            "starts with '-'",
        ),
    ];
    for (args, env, needle) in cases {
        let mut d = Dbstash::new()
            .args(["restore"])
            .args(*args)
            .env("RCLONE_REMOTE", ":local:/nonexistent");
        for (k, v) in *env {
            d = d.env(k, v);
        }
        let out = d.run();
        out.assert_code(2);
        assert!(out.stderr.contains(needle), "{args:?}: {}", out.stderr);
    }
    let out = Dbstash::new()
        .args(["restore", "mysql", "--db-host", "db", "--db-name", "shop"])
        .env("RCLONE_REMOTE", ":local:/nonexistent")
        .env("RESTORE_FORCE", "maybe")
        .run();
    out.assert_code(2);
    assert!(
        out.stderr.contains("RESTORE_FORCE (--") && out.stderr.contains("not a boolean"),
        "{}",
        out.stderr
    );
}

/// `--restore-output` for an engine that restores into a database: the verified file, and no
/// client run.
#[test]
fn output_writes_the_verified_backup_and_applies_nothing() {
    let Some(_) = require("rclone", s3::INSTALL) else {
        return;
    };
    let (dir, remote) = hand_made_backup();
    let fake = tempfile::tempdir().unwrap();
    let log = fake.path().join("called");
    write_script(
        fake.path(),
        "mariadb",
        &format!("echo \"$@\" >> '{}'", log.display()),
    );
    let out_dir = tempfile::tempdir().unwrap();
    let out_file = out_dir.path().join("shop.sql");
    let run = |extra: &[&str]| {
        Dbstash::new()
            .fake_bin(fake.path())
            .args(["restore", "mariadb", "--db-host", "db", "--db-name", "shop"])
            .args(["--restore-output"])
            .args([&out_file])
            .args(extra)
            .env("RCLONE_REMOTE", &remote)
            .run()
    };
    run(&[]).assert_code(0);
    let backup = dir.path().join("remote/shop-2026-02-07-020000.sql");
    assert_eq!(
        std::fs::read(&out_file).unwrap(),
        std::fs::read(&backup).unwrap()
    );
    assert!(!log.exists(), "the client ran");
    let out = run(&[]);
    out.assert_code(1);
    assert!(
        out.stderr.contains("exists: refusing to overwrite it"),
        "{}",
        out.stderr
    );
    std::fs::write(&out_file, "old").unwrap();
    run(&["--restore-force"]).assert_code(0);
    assert_eq!(
        std::fs::read(&out_file).unwrap(),
        std::fs::read(&backup).unwrap()
    );

    // Corrupted: nothing written, nothing left beside it.
    std::fs::remove_file(&out_file).unwrap();
    flip_a_byte(&backup);
    let out = run(&[]);
    out.assert_code(1);
    assert!(out.stderr.contains("checksum mismatch"), "{}", out.stderr);
    assert_eq!(all_files_in(out_dir.path()), Vec::<String>::new());
}

// -------------------------------------------------------------------------------- Redis

#[test]
fn redis_rdb_to_output_loads_into_a_fresh_server() {
    let Some(r) = redis::server() else { return };
    let Some(s3) = s3::server() else { return };
    let Some(redis_cli) = require("redis-cli", redis::INSTALL) else {
        return;
    };
    let prefix = r.seed("ro_rdb");
    let rem = remote(s3, "ro-redis");
    rem.on(r.dbstash())
        .args(["redis"])
        .env("DB_URI", r.uri(0))
        .run()
        .assert_code(0);

    let tmp = tempfile::tempdir().unwrap();
    let wrappers = tmp.path().join("bin");
    std::fs::create_dir(&wrappers).unwrap();
    let log = recording_wrapper(&wrappers, "redis-cli", &redis_cli, "REDISCLI_AUTH");
    let out_file = tmp.path().join("restored.rdb");
    let restore = || {
        rem.on(r.dbstash())
            .fake_bin(&wrappers)
            .args(["restore", "redis", "--output"])
            .args([&out_file])
            .env("DB_URI", r.uri(0))
    };
    let out = restore().run();
    out.assert_code(0);
    // The steps name the server's own file (CONFIG GET dir, dbfilename).
    for needle in [
        format!("The RDB snapshot is in {}", out_file.display()),
        "SHA-256 checked".to_string(),
        format!(
            "cp {} {}",
            out_file.display(),
            r.dir.join("dump.rdb").display()
        ),
        "This server has appendonly no".to_string(),
        "SHUTDOWN NOSAVE".to_string(),
    ] {
        assert!(out.stdout.contains(&needle), "{needle}:\n{}", out.stdout);
    }
    assert!(!out.stdout.contains(redis::PASSWORD) && !out.stderr.contains(redis::PASSWORD));
    let calls = std::fs::read_to_string(&log).unwrap();
    assert!(
        !calls.contains(redis::PASSWORD),
        "password on argv:\n{calls}"
    );
    assert!(calls.contains("REDISCLI_AUTH: set"), "{calls}");
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&out_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        all_files_in(tmp.path()),
        ["bin", "restored.rdb"],
        "no leftovers"
    );

    // The file loads into a fresh server with every key of every database.
    let loaded = redis::load_rdb(&out_file).expect("redis-server was there a moment ago");
    let source = r.contents(&prefix);
    assert!(source.contains(&format!("db3 {prefix}:")), "{source}");
    assert_eq!(loaded.contents(&prefix), source);

    // An existing file is not overwritten, unless --force.
    let out = restore().run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("exists: refusing to overwrite it"),
        "{}",
        out.stderr
    );
    restore().args(["--force"]).run().assert_code(0);

    // A user that may not run CONFIG GET: the steps say where to look instead.
    let acl_file = tmp.path().join("acl.rdb");
    let out = rem
        .on(r.dbstash())
        .args(["restore", "redis", "--output"])
        .args([&acl_file])
        .env(
            "DB_URI",
            format!(
                "redis://{}:{}@127.0.0.1:{}",
                redis::BACKUP_USER,
                redis::BACKUP_PASSWORD,
                r.port
            ),
        )
        .run();
    out.assert_code(0);
    assert!(
        out.stdout.contains("CONFIG GET dir, CONFIG GET dbfilename"),
        "{}",
        out.stdout
    );
    assert!(acl_file.exists());
}

#[test]
fn a_corrupted_rdb_is_not_written() {
    let Some(r) = redis::server() else { return };
    let Some(s3) = s3::server() else { return };
    r.seed("ro_rdb_bad");
    let rem = remote(s3, "ro-redis-bad");
    rem.on(r.dbstash())
        .args(["redis"])
        .env("DB_URI", r.uri(0))
        .run()
        .assert_code(0);
    flip_a_byte(&rem.backup());
    let tmp = tempfile::tempdir().unwrap();
    let out = rem
        .on(r.dbstash())
        .args(["restore", "redis", "--output"])
        .args([tmp.path().join("x.rdb")])
        .env("DB_URI", r.uri(0))
        .run();
    out.assert_code(1);
    assert!(out.stderr.contains("checksum mismatch"), "{}", out.stderr);
    assert_eq!(all_files_in(tmp.path()), Vec::<String>::new());
}

// ------------------------------------------------------------------------------ MongoDB

/// A BSON document of string and int32 fields.
pub(crate) fn bson(fields: &[(&str, Result<&str, i32>)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, v) in fields {
        match v {
            Ok(s) => {
                body.push(0x02);
                body.extend(name.as_bytes());
                body.push(0);
                body.extend(((s.len() + 1) as i32).to_le_bytes());
                body.extend(s.as_bytes());
                body.push(0);
            }
            Err(i) => {
                body.push(0x10);
                body.extend(name.as_bytes());
                body.push(0);
                body.extend(i.to_le_bytes());
            }
        }
    }
    let mut out = ((body.len() + 5) as i32).to_le_bytes().to_vec();
    out.extend(body);
    out.push(0);
    out
}

/// The start of a mongodump archive listing `namespaces`, then a little data.
pub(crate) fn archive(namespaces: &[(&str, &str)]) -> Vec<u8> {
    let mut a = vec![0x6d, 0xe2, 0x99, 0x81];
    a.extend(bson(&[
        ("concurrent_collections", Err(4)),
        ("version", Ok("0.1")),
        ("server_version", Ok("7.0.0")),
        ("tool_version", Ok("100.9.0")),
    ]));
    for (db, coll) in namespaces {
        a.extend(bson(&[
            ("db", Ok(db)),
            ("collection", Ok(coll)),
            ("metadata", Ok(r#"{"indexes":[]}"#)),
            ("size", Err(0)),
        ]));
    }
    a.extend([0xff; 4]);
    a.extend(bson(&[("db", Ok("x")), ("collection", Ok("y"))]));
    a
}

/// Fake `mongodump` (prints `probe.bin` as its archive's start, then would go on dumping)
/// and `mongorestore` (records its argv, its config file and mode, and the archive it got;
/// reports `FAKE_FAILED` failed documents), both in `dir`.
fn fake_mongo_tools(dir: &Path) {
    write_script(
        dir,
        "mongodump",
        r#"echo "$@" >> "$FAKE_DIR/mongodump.argv"
for a in "$@"; do
  case "$a" in --config=*) cat "${a#--config=}" > "$FAKE_DIR/mongodump.config" ;; esac
done
cat "$FAKE_DIR/probe.bin"
sleep 4242"#,
    );
    write_script(
        dir,
        "mongorestore",
        r#"echo "$@" >> "$FAKE_DIR/mongorestore.argv"
for a in "$@"; do
  case "$a" in
    --config=*) f="${a#--config=}"; cat "$f" > "$FAKE_DIR/mongorestore.config"; stat -L -c %a "$f" > "$FAKE_DIR/mongorestore.mode" ;;
    --archive=*) cp "${a#--archive=}" "$FAKE_DIR/restored.archive" ;;
  esac
done
if [ -n "${FAKE_SLEEP-}" ]; then sleep "$FAKE_SLEEP"; fi
echo "2026-02-07T02:00:00.000+0000	3 document(s) restored successfully. ${FAKE_FAILED:-0} document(s) failed to restore." >&2"#,
    );
}

struct MongoFixture {
    fake: tempfile::TempDir,
    remote_dir: tempfile::TempDir,
}

impl MongoFixture {
    fn new(probe: &[(&str, &str)]) -> Option<MongoFixture> {
        require("rclone", s3::INSTALL)?;
        let fake = tempfile::tempdir().unwrap();
        fake_mongo_tools(fake.path());
        std::fs::write(fake.path().join("probe.bin"), archive(probe)).unwrap();
        Some(MongoFixture {
            fake,
            remote_dir: tempfile::tempdir().unwrap(),
        })
    }

    fn dbstash(&self) -> Dbstash {
        Dbstash::new()
            .fake_bin(self.fake.path())
            .env("FAKE_DIR", self.fake.path())
            .env("RCLONE_REMOTE", local_remote(self.remote_dir.path()))
    }

    fn read(&self, f: &str) -> String {
        std::fs::read_to_string(self.fake.path().join(f)).unwrap_or_default()
    }

    /// mongorestore's argv with the changing paths replaced.
    fn restore_argv(&self) -> String {
        self.read("mongorestore.argv")
            .split_whitespace()
            .map(|a| {
                if a.starts_with("--config=/proc/") {
                    "--config=FILE".to_string()
                } else if a.starts_with("--archive=/") {
                    "--archive=FILE".to_string()
                } else {
                    a.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn reset(&self) {
        for f in ["mongorestore.argv", "mongodump.argv", "mongorestore.config"] {
            let _ = std::fs::remove_file(self.fake.path().join(f));
        }
    }
}

const MONGO_URI: &str = "mongodb://app:Mongo%24ecret@m1:27017/shop?replicaSet=rs0";

#[test]
fn mongo_restore_argv_and_credentials() {
    let Some(f) = MongoFixture::new(&[]) else {
        return;
    };
    let content = archive(&[("shop", "orders"), ("shop", "users")]);
    put_backup(
        f.remote_dir.path(),
        "shop-2026-02-07-020000.archive",
        &content,
    );
    let out = f
        .dbstash()
        .args(["restore", "mongo"])
        .env("DB_URI", MONGO_URI)
        .run();
    out.assert_code(0);
    assert!(out.stderr.contains("restore succeeded"), "{}", out.stderr);
    assert_eq!(
        f.restore_argv(),
        "--config=FILE --archive=FILE --nsInclude=shop.*"
    );
    let config = "uri: \"mongodb://app:Mongo%24ecret@m1:27017/?replicaSet=rs0&authSource=shop\"\n";
    assert_eq!(f.read("mongorestore.config"), config);
    assert_eq!(f.read("mongorestore.mode").trim(), "600");
    assert_eq!(
        std::fs::read(f.fake.path().join("restored.archive")).unwrap(),
        content
    );
    // The target was looked at first, with the same credentials.
    assert_eq!(
        f.read("mongodump.argv").trim().split_once(' ').unwrap().1,
        "--db=shop --archive"
    );
    assert_eq!(f.read("mongodump.config"), config);
    for text in [
        f.read("mongorestore.argv"),
        f.read("mongodump.argv"),
        out.stderr,
    ] {
        assert!(!text.contains("ecret"), "password shown: {text}");
    }
    assert_no_process_left("sleep 4242", 10);

    // BACKUP_TIMEOUT stops mongorestore (and its children).
    let (out, _) = f
        .dbstash()
        .args(["restore", "mongo"])
        .env("DB_URI", MONGO_URI)
        .env("FAKE_SLEEP", "5151")
        .env("BACKUP_TIMEOUT", "2s")
        .run_within(Duration::from_secs(30));
    out.assert_code(1);
    assert!(out.stderr.contains("timed out after 2s"), "{}", out.stderr);
    assert_no_process_left("sleep 5151", 10);

    // --drop only with --drop-existing; another target through --nsFrom/--nsTo.
    f.reset();
    f.dbstash()
        .args([
            "restore",
            "mongo",
            "--target-db",
            "shop_copy",
            "--drop-existing",
        ])
        .env("DB_URI", MONGO_URI)
        .run()
        .assert_code(0);
    assert_eq!(
        f.restore_argv(),
        "--config=FILE --archive=FILE --nsInclude=shop.* --nsFrom=shop.* --nsTo=shop_copy.* --drop"
    );
    assert_eq!(
        f.read("mongodump.argv").trim().split_once(' ').unwrap().1,
        "--db=shop_copy --archive"
    );
}

#[test]
fn mongo_target_with_collections_is_refused_unless_forced() {
    let Some(f) = MongoFixture::new(&[("shop", "orders"), ("shop", "system.views")]) else {
        return;
    };
    put_backup(
        f.remote_dir.path(),
        "shop-2026-02-07-020000.archive",
        &archive(&[("shop", "orders")]),
    );
    let run = |extra: &[&str]| {
        f.dbstash()
            .args(["restore", "mongo", "--db-host", "m", "--db-name", "shop"])
            .args(extra)
            .run()
    };
    let out = run(&[]);
    out.assert_code(1);
    assert!(
        out.stderr
            .contains("database shop already has 1 collection (shop.orders)"),
        "{}",
        out.stderr
    );
    assert_eq!(f.read("mongorestore.argv"), "", "mongorestore must not run");

    // --force: on top, no --drop; documents that were there are reported, not fatal.
    let out = f
        .dbstash()
        .env("FAKE_FAILED", "2")
        .args([
            "restore",
            "mongo",
            "--db-host",
            "m",
            "--db-name",
            "shop",
            "--force",
        ])
        .run();
    out.assert_code(0);
    assert_eq!(
        f.restore_argv(),
        "--host=m --port=27017 --archive=FILE --nsInclude=shop.*"
    );
    assert!(out.stderr.contains("kept 2 document(s)"), "{}", out.stderr);

    // Without --force, failed documents fail the restore.
    f.reset();
    let out = f
        .dbstash()
        .env("FAKE_FAILED", "2")
        .args([
            "restore",
            "mongo",
            "--db-host",
            "m",
            "--db-name",
            "shop",
            "--drop-existing",
        ])
        .run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("2 document(s) failed to restore"),
        "{}",
        out.stderr
    );
    assert!(
        f.restore_argv().ends_with(" --drop"),
        "{}",
        f.restore_argv()
    );
}

#[test]
fn mongo_gzip_all_databases_and_a_corrupted_archive() {
    use std::io::Write as _;
    // The server has other databases' collections and its own: none is the backup's.
    let Some(f) = MongoFixture::new(&[("admin", "system.version"), ("other", "x")]) else {
        return;
    };
    let plain = archive(&[("shop", "orders"), ("app", "users")]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).unwrap();
    let name = "all-2026-02-07-020000.archive.gz";
    put_backup(f.remote_dir.path(), name, &gz.finish().unwrap());
    let all = |d: Dbstash| {
        d.args([
            "restore",
            "mongo",
            "--db-host",
            "m",
            "--db-user",
            "root",
            "--backup-all-databases",
        ])
        .env("DB_PASSWORD", "pa\"ss")
    };
    let out = all(f.dbstash()).run();
    out.assert_code(0);
    assert_eq!(
        f.restore_argv(),
        "--config=FILE --host=m --port=27017 --username=root --authenticationDatabase=admin --archive=FILE --gzip"
    );
    assert_eq!(f.read("mongorestore.config"), "password: \"pa\\\"ss\"\n");
    assert!(
        f.read("mongodump.argv")
            .trim()
            .ends_with("--authenticationDatabase=admin --archive"),
        "{}",
        f.read("mongodump.argv")
    );
    assert!(out.stderr.contains("databases app, shop"), "{}", out.stderr);

    // One byte flipped: refused before mongorestore runs.
    f.reset();
    flip_a_byte(&f.remote_dir.path().join(name));
    let out = all(f.dbstash()).run();
    out.assert_code(1);
    assert!(out.stderr.contains("checksum mismatch"), "{}", out.stderr);
    assert_eq!(f.read("mongorestore.argv"), "");
}

#[test]
fn mongo_dry_run_shows_the_commands_without_credentials() {
    let Some(f) = MongoFixture::new(&[]) else {
        return;
    };
    put_backup(
        f.remote_dir.path(),
        "shop-2026-02-07-020000.archive.gz",
        b"not read in a dry run",
    );
    let out = f
        .dbstash()
        .args(["restore", "mongo", "--drop-existing", "--dry-run"])
        .env("DB_URI", MONGO_URI)
        .run();
    out.assert_code(0);
    for needle in [
        "mongodump --config=<0600 memory file> --db=shop --archive",
        "mongorestore --config=<0600 memory file> '--archive=<downloaded file>'",
        "--gzip '--nsInclude=shop.*' --drop",
    ] {
        assert!(out.stdout.contains(needle), "{needle}:\n{}", out.stdout);
    }
    assert!(!out.stdout.contains("ecret"), "{}", out.stdout);
    assert_eq!(f.read("mongodump.argv"), "");
    assert_eq!(f.read("mongorestore.argv"), "");
}
