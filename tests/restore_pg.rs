//! `dbstash restore pg` with the real binary: backups taken by dbstash into `rclone serve s3`
//! are restored into fresh databases of a real PostgreSQL and compared table by table (row
//! counts and a checksum of the rows), never byte by byte. A corrupted, truncated or
//! unverifiable backup must leave the target exactly as it was.

use std::path::{Path, PathBuf};

use crate::support::pg::{self, Pg};
use crate::support::*;

fn servers() -> Option<(&'static Pg, &'static s3::S3)> {
    let pg = pg::server()?;
    let s3 = s3::server()?;
    Some((pg, s3))
}

/// A remote folder on the S3 server with its rclone config.
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

/// dbstash for `db` on `pg` with the backups in `r`; the password in DB_PASSWORD (env).
fn dbstash(pg: &Pg, r: &Remote, db: &str) -> Dbstash {
    pg.dbstash()
        .env("DB_HOST", "127.0.0.1")
        .env("DB_PORT", pg.port.to_string())
        .env("DB_USER", pg::USER)
        .env("DB_PASSWORD", pg::PASSWORD)
        .env("DB_NAME", db)
        .env("RCLONE_REMOTE", &r.remote)
        .env("RCLONE_CONFIG_FILE", &r.conf)
        .env("BACKUP_SCHEDULE", "once")
}

fn backup(pg: &Pg, r: &Remote, db: &str, extra: &[(&str, &str)]) -> PathBuf {
    let mut d = dbstash(pg, r, db).args(["pg"]);
    for (k, v) in extra {
        d = d.env(k, v);
    }
    d.run().assert_code(0);
    let names = files_in(&r.dir);
    let name = names
        .iter()
        .find(|n| !n.ends_with(".sha256"))
        .unwrap_or_else(|| panic!("no backup in {names:?}"));
    r.dir.join(name)
}

/// Every user table of `db` with its row count and an md5 of its rows, sorted: what a
/// restore must reproduce (and a failed one must leave alone).
fn snapshot(pg: &Pg, db: &str) -> Vec<String> {
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

fn exists(pg: &Pg, db: &str) -> bool {
    pg.psql(
        "postgres",
        &format!("select count(*) from pg_database where datname = '{db}'"),
    ) == "1"
}

fn flip_a_byte(path: &Path) {
    let mut b = std::fs::read(path).unwrap();
    let i = b.len() / 2;
    b[i] ^= 0x01;
    std::fs::write(path, b).unwrap();
}

#[test]
fn plain_backup_round_trip_with_the_password_never_on_argv() {
    let Some((pg, s3)) = servers() else { return };
    let db = pg.seeded_db("rp_plain");
    let r = remote(s3, "rp-plain");
    let backup = backup(pg, &r, &db, &[]);
    assert!(backup.to_string_lossy().ends_with(".sql"), "{backup:?}");

    // psql and pg_restore as wrappers that record their argv and whether PGPASSWORD is set.
    let wrappers = tempfile::tempdir().unwrap();
    let log = recording_wrapper(wrappers.path(), "psql", &pg.bin.join("psql"), "PGPASSWORD");
    let target = unique("rp_plain_target");
    let out = dbstash(pg, &r, &db)
        .fake_bin(wrappers.path())
        .args([
            "restore",
            "pg",
            "--backup",
            "latest",
            "--target-db",
            &target,
        ])
        .run();
    out.assert_code(0);
    assert!(out.stderr.contains("restore succeeded"), "{}", out.stderr);
    assert_eq!(snapshot(pg, &target), snapshot(pg, &db));
    assert_eq!(pg.contents(&target), pg.contents(&db));
    let calls = std::fs::read_to_string(&log).unwrap();
    assert!(calls.contains("--single-transaction"), "{calls}");
    assert!(calls.contains("ON_ERROR_STOP=1"), "{calls}");
    assert!(!calls.contains(pg::PASSWORD), "password on argv: {calls}");
    assert!(
        !calls.contains("PGPASSWORD: \n"),
        "a call without PGPASSWORD: {calls}"
    );
    assert!(!out.stderr.contains(pg::PASSWORD), "{}", out.stderr);
}

#[test]
fn custom_format_round_trip_through_pg_restore() {
    let Some((pg, s3)) = servers() else { return };
    let db = pg.seeded_db("rp_custom");
    pg.psql(
        &db,
        "create view v as select id from customers; create index on orders(total);",
    );
    let r = remote(s3, "rp-custom");
    let backup = backup(pg, &r, &db, &[("BACKUP_COMPRESS", "true")]);
    assert!(backup.to_string_lossy().ends_with(".dump"), "{backup:?}");
    let wrappers = tempfile::tempdir().unwrap();
    let log = recording_wrapper(
        wrappers.path(),
        "pg_restore",
        &pg.bin.join("pg_restore"),
        "PGPASSWORD",
    );
    let target = unique("rp_custom_target");
    dbstash(pg, &r, &db)
        .fake_bin(wrappers.path())
        .args(["restore", "pg", "--target-db", &target])
        .run()
        .assert_code(0);
    assert_eq!(snapshot(pg, &target), snapshot(pg, &db));
    assert_eq!(
        pg.psql(&target, "select count(*) from v"),
        pg.psql(&db, "select count(*) from v")
    );
    let calls = std::fs::read_to_string(&log).unwrap();
    assert!(calls.contains("argv: --file=-"), "{calls}");
    assert!(!calls.contains(pg::PASSWORD), "{calls}");
}

#[test]
fn all_databases_restore_into_a_second_cluster() {
    let Some((_, s3)) = servers() else { return };
    let Some(source) = pg::start() else { return };
    let a = source.seeded_db("rp_alla");
    let b = source.seeded_db("rp_allb");
    let r = remote(s3, "rp-all");
    let cluster_env = |d: Dbstash, pg: &Pg| {
        d.env("DB_HOST", "127.0.0.1")
            .env("DB_PORT", pg.port.to_string())
            .env("DB_USER", pg::USER)
            .env("DB_PASSWORD", pg::PASSWORD)
            .env("BACKUP_ALL_DATABASES", "true")
            .env("RCLONE_REMOTE", &r.remote)
            .env("RCLONE_CONFIG_FILE", &r.conf)
            .env("BACKUP_SCHEDULE", "once")
    };
    cluster_env(source.dbstash(), &source)
        .args(["pg"])
        .run()
        .assert_code(0);
    let target = pg::start().expect("second cluster");
    let out = cluster_env(target.dbstash(), &target)
        .args(["restore", "pg"])
        .run();
    out.assert_code(0);
    assert_eq!(snapshot(&target, &a), snapshot(&source, &a));
    assert_eq!(snapshot(&target, &b), snapshot(&source, &b));
    assert_eq!(target.contents(&a), source.contents(&a));

    // Again: its databases have tables now, so it is refused, and nothing changes.
    let before = snapshot(&target, &a);
    let out = cluster_env(target.dbstash(), &target)
        .args(["restore", "pg"])
        .run();
    out.assert_code(1);
    assert!(out.stderr.contains("already have tables"), "{}", out.stderr);
    assert_eq!(snapshot(&target, &a), before);
    // --drop-existing has no meaning for a cluster: a configuration error.
    cluster_env(target.dbstash(), &target)
        .args(["restore", "pg", "--drop-existing"])
        .run()
        .assert_code(2);
}

/// `rclone` against the S3 server, `input` on stdin. Changes go through the server (its
/// listing cache would not see files written into its directory behind its back).
fn rclone(r: &Remote, args: &[&str], input: &[u8]) {
    use std::io::Write as _;
    let mut child = std::process::Command::new("rclone")
        .args(["-q", "--config"])
        .arg(&r.conf)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    assert!(child.wait().unwrap().success(), "rclone {args:?}");
}

/// Upload `content` as `name` (with a correct sidecar unless `sidecar` is false).
fn upload(r: &Remote, name: &str, content: &[u8], sidecar: bool) {
    use sha2::Digest as _;
    rclone(r, &["rcat", &format!("{}/{name}", r.remote)], content);
    if sidecar {
        let sum = format!("{:x}", sha2::Sha256::digest(content));
        let line = format!("{sum}  {name}\n");
        rclone(
            r,
            &["rcat", &format!("{}/{name}.sha256", r.remote)],
            line.as_bytes(),
        );
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn compressed_plain_backups_are_decompressed_in_process() {
    let Some((pg, s3)) = servers() else { return };
    let db = pg.seeded_db("rp_gz");
    let dump = std::process::Command::new(pg.bin.join("pg_dump"))
        .env("PGPASSWORD", pg::PASSWORD)
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &pg.port.to_string(),
            "-U",
            pg::USER,
            "-d",
            &db,
        ])
        .output()
        .unwrap();
    assert!(dump.status.success());
    let r = remote(s3, "rp-gz");
    for (ext, bytes) in [
        (".sql.gz", gzip(&dump.stdout)),
        (".sql.zst", zstd::encode_all(&dump.stdout[..], 3).unwrap()),
    ] {
        let name = format!("{db}-2026-01-01-000000{ext}");
        upload(&r, &name, &bytes, true);
        let target = unique("rp_gz_target");
        let out = dbstash(pg, &r, &db)
            .args(["restore", "pg", "--backup", &name, "--target-db", &target])
            .run();
        out.assert_code(0);
        assert_eq!(snapshot(pg, &target), snapshot(pg, &db), "{ext}");
    }
}

#[test]
fn a_corrupted_backup_leaves_the_target_exactly_as_it_was() {
    let Some((pg, s3)) = servers() else { return };
    let db = pg.seeded_db("rp_bad");
    for (label, extra) in [("plain", "false"), ("custom", "true")] {
        let r = remote(s3, &format!("rp-bad-{label}"));
        let backup = backup(pg, &r, &db, &[("BACKUP_COMPRESS", extra)]);
        flip_a_byte(&backup);

        // A target with data of its own: --drop-existing would drop it, in the same
        // transaction as the restore, so a rollback must bring it back whole.
        let target = unique("rp_bad_target");
        pg.create_db(&target);
        pg.psql(
            &target,
            "create table mine(id int primary key, s text); insert into mine select g, md5(g::text) from generate_series(1, 300) g; create table customers(id int);",
        );
        let before = snapshot(pg, &target);
        let out = dbstash(pg, &r, &db)
            .args(["restore", "pg", "--target-db", &target, "--drop-existing"])
            .run();
        out.assert_code(1);
        assert!(
            out.stderr.contains("checksum mismatch"),
            "{label}: {}",
            out.stderr
        );
        assert_eq!(snapshot(pg, &target), before, "{label}: the target changed");

        // A missing target: created for the restore, and gone again.
        let fresh = unique("rp_bad_fresh");
        dbstash(pg, &r, &db)
            .args(["restore", "pg", "--target-db", &fresh])
            .run()
            .assert_code(1);
        assert!(!exists(pg, &fresh), "{label}: {fresh} left behind");
    }
}

#[test]
fn a_target_with_tables_needs_drop_existing_or_force() {
    let Some((pg, s3)) = servers() else { return };
    let db = pg.seeded_db("rp_busy");
    for (label, compress) in [("plain", "false"), ("custom", "true")] {
        let r = remote(s3, &format!("rp-busy-{label}"));
        backup(pg, &r, &db, &[("BACKUP_COMPRESS", compress)]);
        let target = unique("rp_busy_target");
        pg.create_db(&target);
        pg.psql(
            &target,
            "create table extra(i int); insert into extra values (7);",
        );
        // An extension the backup does not have: --drop-existing on a plain backup drops it
        // too (a plain script cannot say what it replaces), on a custom one it stays.
        pg.psql(
            &target,
            "create schema ext; create extension citext schema ext;",
        );
        let before = snapshot(pg, &target);

        let out = dbstash(pg, &r, &db)
            .args(["restore", "pg", "--target-db", &target])
            .run();
        out.assert_code(1);
        assert!(
            out.stderr.contains("already has 1 table(s) (public.extra)")
                && out.stderr.contains("--drop-existing")
                && out.stderr.contains("--force"),
            "{label}: {}",
            out.stderr
        );
        assert_eq!(snapshot(pg, &target), before, "{label}");

        // --force: restored on top; what was there stays.
        dbstash(pg, &r, &db)
            .args(["restore", "pg", "--target-db", &target, "--force"])
            .run()
            .assert_code(0);
        assert_eq!(pg.contents(&target), pg.contents(&db), "{label}");
        assert_eq!(pg.psql(&target, "select i from extra"), "7", "{label}");

        // --force again: the tables exist now, so the restore fails and rolls back whole.
        let before = snapshot(pg, &target);
        dbstash(pg, &r, &db)
            .args(["restore", "pg", "--target-db", &target, "--force"])
            .run()
            .assert_code(1);
        assert_eq!(snapshot(pg, &target), before, "{label}");

        // --drop-existing: plain drops every schema first; custom drops what it recreates.
        dbstash(pg, &r, &db)
            .args(["restore", "pg", "--target-db", &target, "--drop-existing"])
            .run()
            .assert_code(0);
        assert_eq!(pg.contents(&target), pg.contents(&db), "{label}");
        let extra_left = pg.try_psql(&target, "select i from extra").is_ok();
        assert_eq!(extra_left, label == "custom", "{label}: extra table");
        let citext = pg.psql(
            &target,
            "select count(*) from pg_extension where extname = 'citext'",
        );
        assert_eq!(citext == "1", label == "custom", "{label}: extension");
    }
}

#[test]
fn a_backup_without_sidecar_is_refused_unless_no_verify() {
    let Some((pg, s3)) = servers() else { return };
    let db = pg.seeded_db("rp_nosum");
    let r = remote(s3, "rp-nosum");
    let backup = backup(pg, &r, &db, &[]);
    let name = file_name(&backup);
    rclone(
        &r,
        &["deletefile", &format!("{}/{name}.sha256", r.remote)],
        b"",
    );

    let target = unique("rp_nosum_target");
    let out = dbstash(pg, &r, &db)
        .args(["restore", "pg", "--backup", &name, "--target-db", &target])
        .run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("no .sha256 sidecar") && out.stderr.contains("--no-verify"),
        "{}",
        out.stderr
    );
    assert!(!exists(pg, &target));

    dbstash(pg, &r, &db)
        .args([
            "restore",
            "pg",
            "--backup",
            &name,
            "--target-db",
            &target,
            "--no-verify",
        ])
        .run()
        .assert_code(0);
    assert_eq!(snapshot(pg, &target), snapshot(pg, &db));

    // Without a checksum a truncated script is caught by its missing completion line.
    let content = std::fs::read(&backup).unwrap();
    upload(&r, &name, &content[..content.len() * 2 / 3], false);
    let truncated = unique("rp_nosum_trunc");
    let out = dbstash(pg, &r, &db)
        .args([
            "restore",
            "pg",
            "--backup",
            &name,
            "--target-db",
            &truncated,
            "--no-verify",
        ])
        .run();
    out.assert_code(1);
    assert!(out.stderr.contains("completion line"), "{}", out.stderr);
    assert!(!exists(pg, &truncated));
}

#[test]
fn dry_run_prints_the_plan_and_does_nothing() {
    let Some((pg, s3)) = servers() else { return };
    let db = pg.seeded_db("rp_dry");
    let r = remote(s3, "rp-dry");
    let backup = backup(pg, &r, &db, &[]);
    let target = unique("rp_dry_target");
    let wrappers = tempfile::tempdir().unwrap();
    let log = recording_wrapper(wrappers.path(), "psql", &pg.bin.join("psql"), "PGPASSWORD");
    let out = dbstash(pg, &r, &db)
        .fake_bin(wrappers.path())
        .env("DRY_RUN", "true")
        .args(["restore", "pg", "--target-db", &target])
        .run();
    out.assert_code(0);
    let name = file_name(&backup);
    for want in [
        "dbstash dry run: nothing is executed.",
        &name,
        &format!("{} bytes", std::fs::metadata(&backup).unwrap().len()),
        "sha256 ",
        &format!("database   {target} (--target-db)"),
        "psql --no-password",
        "--single-transaction",
        "PGPASSWORD=***",
    ] {
        assert!(out.stdout.contains(want), "{want} missing:\n{}", out.stdout);
    }
    assert!(!out.stdout.contains(pg::PASSWORD), "{}", out.stdout);
    assert!(
        !out.stdout.contains("dbstash-test-secret-key"),
        "{}",
        out.stdout
    );
    assert!(!exists(pg, &target));
    assert!(!log.exists(), "psql ran during a dry run");

    // Bad flags are exit 2, before anything runs.
    for (args, says) in [
        (
            &["--restore-drop-existing", "--restore-force"][..],
            "choose one",
        ),
        (&["--restore-force=maybe"][..], "RESTORE_FORCE"),
    ] {
        let out = dbstash(pg, &r, &db)
            .fake_bin(wrappers.path())
            .args(["restore", "pg"])
            .args(args)
            .run();
        out.assert_code(2);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
    }
    assert!(!log.exists(), "psql ran with bad flags");
}

#[test]
fn large_objects_are_restored_from_a_verified_download() {
    let Some((pg, s3)) = servers() else { return };
    let db = pg.seeded_db("rp_lo");
    pg.psql(&db, "select lo_from_bytea(0, 'large object bytes')");
    for (label, compress) in [("plain", "false"), ("custom", "true")] {
        let r = remote(s3, &format!("rp-lo-{label}"));
        backup(pg, &r, &db, &[("BACKUP_COMPRESS", compress)]);
        let target = unique("rp_lo_target");
        let out = dbstash(pg, &r, &db)
            .args(["restore", "pg", "--target-db", &target])
            .run();
        out.assert_code(0);
        assert!(
            out.stderr.contains("own transaction control"),
            "{label}: {}",
            out.stderr
        );
        assert_eq!(pg.contents(&target), pg.contents(&db), "{label}");
        assert_eq!(
            pg.psql(
                &target,
                "select convert_from(lo_get(oid), 'UTF8') from pg_largeobject_metadata"
            ),
            "large object bytes",
            "{label}"
        );
    }
}

/// A stream that stalls after its last byte (rclone still running): psql has run every
/// statement inside its transaction and waits for the end of its input. BACKUP_TIMEOUT, or
/// SIGTERM, must kill it there, so the server rolls everything back, and leave no process.
#[test]
fn timeout_and_sigterm_roll_the_restore_back_and_leave_no_process() {
    let Some((pg, s3)) = servers() else { return };
    let Some(real) = real_binary("rclone") else {
        panic!("rclone not found")
    };
    let db = pg.seeded_db("rp_stop");
    let r = remote(s3, "rp-stop");
    backup(pg, &r, &db, &[]);
    let fake = tempfile::tempdir().unwrap();
    // `rclone cat` of the backup prints it, then hangs; everything else is the real rclone.
    write_script(
        fake.path(),
        "rclone",
        &format!(
            "for a in \"$@\"; do last=\"$a\"; case \"$a\" in cat) cat=1;; esac; done\nif [ -n \"$cat\" ] && [ \"${{last%.sha256}}\" = \"$last\" ]; then '{0}' \"$@\"; sleep 60; exit 0; fi\nexec '{0}' \"$@\"",
            real.display()
        ),
    );
    for how in ["BACKUP_TIMEOUT", "SIGTERM"] {
        let target = unique("rp_stop_target");
        pg.create_db(&target);
        pg.psql(
            &target,
            "create table mine(i int); insert into mine values (1), (2);",
        );
        let before = snapshot(pg, &target);
        let mut d = dbstash(pg, &r, &db).fake_bin(fake.path()).args([
            "restore",
            "pg",
            "--target-db",
            &target,
            "--drop-existing",
        ]);
        if how == "BACKUP_TIMEOUT" {
            d = d.env("BACKUP_TIMEOUT", "4s");
        }
        let running = d.spawn();
        // psql has applied the whole script and waits, its transaction open.
        wait_for("psql idle in its transaction", 30, || {
            pg.psql(
                "postgres",
                &format!("select count(*) from pg_stat_activity where datname = '{target}' and state = 'idle in transaction'"),
            ) == "1"
        });
        if how == "SIGTERM" {
            unsafe { libc::kill(running.child.id() as libc::pid_t, libc::SIGTERM) };
        }
        let (code, stderr) = running.finish();
        assert_eq!(code, 1, "{how}: {stderr}");
        let want = if how == "SIGTERM" {
            "interrupted by SIGTERM"
        } else {
            "timed out"
        };
        assert!(stderr.contains(want), "{how}: {stderr}");
        assert_no_process_left(&format!("--dbname={target}"), 10);
        wait_for("the server ended the session", 10, || {
            pg.psql(
                "postgres",
                &format!("select count(*) from pg_stat_activity where datname = '{target}'"),
            ) == "0"
        });
        assert_eq!(snapshot(pg, &target), before, "{how}: the target changed");
    }
}
