//! Public-key encryption (age): BACKUP_ENCRYPT_RECIPIENTS and RESTORE_IDENTITY_FILE end to
//! end against real PostgreSQL and MariaDB through `rclone serve s3`, and interoperability
//! with the reference `age` command-line tool both ways (a dbstash backup decrypts with
//! `age -d`, a file encrypted by `age -r` restores with dbstash), with age and SSH keys.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::compression::{remote, unzstd, Remote};
use crate::support::mariadb::{self, Maria};
use crate::support::pg::{self, Pg};
use crate::support::redis;
use crate::support::*;

pub(crate) const AGE_HEADER: &[u8] = b"age-encryption.org/v1";
pub(crate) const INSTALL: &str = "apt-get install -y age";

/// An age key pair made by `age-keygen`: the identity file and its public key.
pub(crate) struct Key {
    pub(crate) file: PathBuf,
    pub(crate) public: String,
    /// The secret line (`AGE-SECRET-KEY-1…`), to prove it is printed nowhere.
    pub(crate) secret: String,
}

pub(crate) fn age_key(dir: &Path, name: &str) -> Option<Key> {
    require("age-keygen", INSTALL)?;
    let file = dir.join(name);
    let out = Command::new("age-keygen")
        .arg("-o")
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "age-keygen: {out:?}");
    let public = Command::new("age-keygen")
        .arg("-y")
        .arg(&file)
        .output()
        .unwrap();
    let secret = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .unwrap()
        .to_string();
    Some(Key {
        file,
        public: String::from_utf8(public.stdout).unwrap().trim().to_string(),
        secret,
    })
}

/// `age ARGS`: its stdout.
pub(crate) fn age(args: &[&str]) -> Vec<u8> {
    let out = Command::new("age").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "age {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn pg_env(pg: &Pg, r: &Remote, db: &str) -> Dbstash {
    r.on(pg.dbstash())
        .env("DB_HOST", "127.0.0.1")
        .env("DB_PORT", pg.port.to_string())
        .env("DB_USER", pg::USER)
        .env("DB_PASSWORD", pg::PASSWORD)
        .env("DB_NAME", db)
}

pub(crate) fn assert_encrypted(stored: &[u8], plain_marker: &str) {
    assert!(
        stored.starts_with(AGE_HEADER),
        "not an age file: {:?}",
        &stored[..32.min(stored.len())]
    );
    assert!(
        !String::from_utf8_lossy(stored).contains(plain_marker),
        "the stored bytes hold the plaintext ({plain_marker})"
    );
}

/// Run `d` while another thread reads every process's command line: the command lines
/// that held `needle` (none expected), and the run's output.
fn run_watching_argv(d: Dbstash, needle: &str) -> (Output, Vec<String>) {
    let stop = Arc::new(AtomicBool::new(false));
    let (stop2, needle2) = (stop.clone(), needle.to_string());
    let watcher = std::thread::spawn(move || {
        let mut seen = Vec::new();
        while !stop2.load(Ordering::Relaxed) {
            seen.extend(processes_mentioning(&needle2));
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        seen
    });
    let out = d.run();
    stop.store(true, Ordering::Relaxed);
    (out, watcher.join().unwrap())
}

fn exists(pg: &Pg, db: &str) -> bool {
    pg.psql(
        "postgres",
        &format!("select count(*) from pg_database where datname = '{db}'"),
    ) == "1"
}

#[test]
fn pg_backup_decrypts_with_the_age_cli_and_restores_only_with_the_right_identity() {
    let Some(pg) = pg::server() else { return };
    let Some(s3) = s3::server() else { return };
    let Some(_) = require("age", INSTALL) else {
        return;
    };
    let keys = tempfile::tempdir().unwrap();
    let key = age_key(keys.path(), "key.txt").unwrap();
    let other = age_key(keys.path(), "other.txt").unwrap();
    let db = pg.seeded_db("age_pg");
    let r = remote(s3, "age-pg");

    let out = pg_env(pg, &r, &db)
        .args(["pg"])
        .env("BACKUP_ENCRYPT_RECIPIENTS", &key.public)
        .env("VERIFY_AFTER_BACKUP", "true")
        .run();
    out.assert_code(0);
    assert!(out.stderr.contains("only the checksum"), "{}", out.stderr);
    let backup = r.backup(".sql.age");
    let stored = std::fs::read(&backup).unwrap();
    assert_encrypted(&stored, "PostgreSQL database dump");

    // The reference tool reads it; psql applies what it wrote.
    let plain = age(&[
        "-d",
        "-i",
        key.file.to_str().unwrap(),
        backup.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&plain).contains("PostgreSQL database dump"));
    let sql = keys.path().join("dump.sql");
    std::fs::write(&sql, &plain).unwrap();
    let by_hand = unique("age_pg_hand");
    pg.create_db(&by_hand);
    let psql = pg
        .client("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &by_hand, "-f"])
        .arg(&sql)
        .output()
        .unwrap();
    assert!(
        psql.status.success(),
        "{}",
        String::from_utf8_lossy(&psql.stderr)
    );
    assert_eq!(pg.contents(&by_hand), pg.contents(&db));

    // verify without the identity: the checksum only, and it says so.
    let out = pg_env(pg, &r, &db).args(["verify", "pg"]).run();
    out.assert_code(0);
    assert!(
        out.stdout.contains("NOT the dump's completeness"),
        "{}",
        out.stdout
    );
    // With it: decrypted and checked whole.
    let out = pg_env(pg, &r, &db)
        .args(["verify", "pg"])
        .env("RESTORE_IDENTITY_FILE", &key.file)
        .run();
    out.assert_code(0);
    assert!(
        !out.stdout.contains("NOT the dump's completeness"),
        "{}",
        out.stdout
    );

    // A wrong identity: exit 1, a clear message, the target never created.
    let wrong = unique("age_pg_wrong");
    let out = pg_env(pg, &r, &db)
        .args(["restore", "pg", "--target-db", &wrong])
        .env("RESTORE_IDENTITY_FILE", &other.file)
        .run();
    out.assert_code(1);
    assert!(
        out.stderr
            .contains("could not be decrypted with RESTORE_IDENTITY_FILE"),
        "{}",
        out.stderr
    );
    assert!(!exists(pg, &wrong));
    // No identity at all: exit 1, naming the variable.
    let out = pg_env(pg, &r, &db)
        .args(["restore", "pg", "--target-db", &wrong])
        .run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("RESTORE_IDENTITY_FILE"),
        "{}",
        out.stderr
    );
    assert!(!exists(pg, &wrong));

    // The right one restores; the key is in no command line and no output.
    let target = unique("age_pg_target");
    let (out, argv) = run_watching_argv(
        pg_env(pg, &r, &db)
            .args(["restore", "pg", "--target-db", &target])
            .env("RESTORE_IDENTITY_FILE", &key.file)
            .env("LOG_LEVEL", "debug"),
        &key.secret,
    );
    out.assert_code(0);
    assert!(argv.is_empty(), "the identity on a command line: {argv:?}");
    for o in [&out.stdout, &out.stderr] {
        assert!(!o.contains(&key.secret), "{o}");
    }
    assert_eq!(pg.contents(&target), pg.contents(&db));
}

#[test]
fn a_dump_encrypted_by_the_age_cli_restores_and_ssh_ed25519_keys_work() {
    let Some(pg) = pg::server() else { return };
    let Some(s3) = s3::server() else { return };
    let Some(_) = require("age", INSTALL) else {
        return;
    };
    let Some(_) = require("ssh-keygen", "apt-get install -y openssh-client") else {
        return;
    };
    let keys = tempfile::tempdir().unwrap();
    let key = age_key(keys.path(), "key.txt").unwrap();
    let db = pg.seeded_db("age_cli");

    // A plain backup, encrypted by `age -r` and uploaded beside its sidecar as `NAME.age`.
    let plain_remote = remote(s3, "age-cli-plain");
    pg_env(pg, &plain_remote, &db)
        .args(["pg"])
        .run()
        .assert_code(0);
    let plain = plain_remote.backup(".sql");
    let name = format!("{}.age", file_name(&plain));
    let enc = keys.path().join(&name);
    age(&[
        "-r",
        &key.public,
        "-o",
        enc.to_str().unwrap(),
        plain.to_str().unwrap(),
    ]);
    let r = remote(s3, "age-cli");
    r.rclone(
        &["rcat", &format!("{}/{name}", r.remote)],
        &std::fs::read(&enc).unwrap(),
    );
    let sidecar = format!("{}  {name}\n", sha256_hex(&enc));
    r.rclone(
        &["rcat", &format!("{}/{name}.sha256", r.remote)],
        sidecar.as_bytes(),
    );
    let target = unique("age_cli_target");
    pg_env(pg, &r, &db)
        .args(["restore", "pg", "--target-db", &target])
        .env("RESTORE_IDENTITY_FILE", &key.file)
        .run()
        .assert_code(0);
    assert_eq!(pg.contents(&target), pg.contents(&db));

    // An SSH ed25519 key pair as recipient and identity, custom format compressed by pg_dump.
    let ssh_key = keys.path().join("id_ed25519");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "backup@test", "-f"])
        .arg(&ssh_key)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let ssh_pub = std::fs::read_to_string(keys.path().join("id_ed25519.pub")).unwrap();
    let r = remote(s3, "age-ssh");
    pg_env(pg, &r, &db)
        .args(["pg"])
        .env("BACKUP_COMPRESS", "true")
        .env("BACKUP_ENCRYPT_RECIPIENTS", ssh_pub.trim())
        .run()
        .assert_code(0);
    let backup = r.backup(".dump.age");
    assert_encrypted(&std::fs::read(&backup).unwrap(), "PGDMP");
    let archive = age(&[
        "-d",
        "-i",
        ssh_key.to_str().unwrap(),
        backup.to_str().unwrap(),
    ]);
    assert!(
        archive.starts_with(b"PGDMP"),
        "a pg_dump custom archive inside"
    );
    let target = unique("age_ssh_target");
    pg_env(pg, &r, &db)
        .args(["restore", "pg", "--target-db", &target])
        .env("RESTORE_IDENTITY_FILE", &ssh_key)
        .run()
        .assert_code(0);
    assert_eq!(pg.contents(&target), pg.contents(&db));
}

#[test]
fn pg_tar_mode_encrypted_round_trip() {
    let Some(pg) = pg::server() else { return };
    let Some(s3) = s3::server() else { return };
    let Some(_) = require("age", INSTALL) else {
        return;
    };
    let keys = tempfile::tempdir().unwrap();
    let key = age_key(keys.path(), "key.txt").unwrap();
    let db = pg.seeded_db("age_tar");
    let r = remote(s3, "age-tar");
    let temp = tempfile::tempdir().unwrap();
    let run = || {
        pg_env(pg, &r, &db)
            .env("BACKUP_MODE", "tar")
            .env("BACKUP_TEMP_DIR", temp.path())
            .env("BACKUP_COMPRESS", "true")
            .env("DUMP_EXTRA_ARGS", "--compress=0")
            .env("BACKUP_ENCRYPT_RECIPIENTS", &key.public)
    };
    run().args(["pg"]).run().assert_code(0);
    let backup = r.backup(".tar.zst.age");
    assert_encrypted(&std::fs::read(&backup).unwrap(), "toc.dat");
    let tar_zst = keys.path().join("b.tar.zst");
    std::fs::write(
        &tar_zst,
        age(&[
            "-d",
            "-i",
            key.file.to_str().unwrap(),
            backup.to_str().unwrap(),
        ]),
    )
    .unwrap();
    assert_eq!(&unzstd(&tar_zst)[257..262], b"ustar");
    let out = run().args(["verify", "pg"]).run();
    out.assert_code(0);
    assert!(
        out.stdout.contains("NOT the dump's completeness"),
        "{}",
        out.stdout
    );
    run()
        .args(["verify", "pg"])
        .env("RESTORE_IDENTITY_FILE", &key.file)
        .run()
        .assert_code(0);
    let target = unique("age_tar_target");
    run()
        .args(["restore", "pg", "--target-db", &target])
        .env("RESTORE_IDENTITY_FILE", &key.file)
        .run()
        .assert_code(0);
    assert_eq!(pg.contents(&target), pg.contents(&db));
}

fn maria(m: &Maria, r: &Remote, db: &str) -> Dbstash {
    r.on(m.dbstash())
        .env("DB_HOST", "127.0.0.1")
        .env("DB_PORT", m.port.to_string())
        .env("DB_USER", mariadb::USER)
        .env("DB_PASSWORD", mariadb::PASSWORD)
        .env("DB_NAME", db)
}

#[test]
fn mariadb_compressed_and_encrypted_round_trip() {
    let Some(m) = mariadb::server() else { return };
    let Some(s3) = s3::server() else { return };
    let Some(_) = require("age", INSTALL) else {
        return;
    };
    let keys = tempfile::tempdir().unwrap();
    let key = age_key(keys.path(), "key.txt").unwrap();
    let recipients = keys.path().join("recipients.txt");
    std::fs::write(&recipients, format!("# the restore key\n{}\n", key.public)).unwrap();
    let db = m.seeded_db("age_maria");
    let r = remote(s3, "age-maria");
    let out = maria(m, &r, &db)
        .args(["mariadb"])
        .env("BACKUP_COMPRESS", "true")
        .env("BACKUP_ENCRYPT_RECIPIENTS_FILE", &recipients)
        .run();
    out.assert_code(0);
    let backup = r.backup(".sql.zst.age");
    assert_encrypted(&std::fs::read(&backup).unwrap(), "Dump completed");
    let zst = keys.path().join("d.sql.zst");
    std::fs::write(
        &zst,
        age(&[
            "-d",
            "-i",
            key.file.to_str().unwrap(),
            backup.to_str().unwrap(),
        ]),
    )
    .unwrap();
    assert!(String::from_utf8_lossy(&unzstd(&zst)).contains("-- Dump completed"));
    let out = maria(m, &r, &db)
        .args(["verify", "mariadb"])
        .env("RESTORE_IDENTITY_FILE", &key.file)
        .run();
    out.assert_code(0);
    assert!(out.stdout.contains("Dump completed"), "{}", out.stdout);
    let target = unique("age_maria_target");
    maria(m, &r, &db)
        .args(["restore", "mariadb", "--target-db", &target])
        .env("RESTORE_IDENTITY_FILE", &key.file)
        .run()
        .assert_code(0);
    assert_eq!(m.contents(&target), m.contents(&db));
}

#[test]
fn redis_compressed_and_encrypted_restores_to_a_loadable_rdb() {
    let Some(rs) = redis::server() else { return };
    let Some(s3) = s3::server() else { return };
    let Some(_) = require("age", INSTALL) else {
        return;
    };
    let keys = tempfile::tempdir().unwrap();
    let key = age_key(keys.path(), "key.txt").unwrap();
    let prefix = rs.seed("age_rdb");
    let r = remote(s3, "age-redis");
    let run = || {
        r.on(rs.dbstash())
            .env("DB_URI", rs.uri(0))
            .env("BACKUP_COMPRESS", "true")
            .env("BACKUP_COMPRESS_ALGO", "zstd")
            .env("BACKUP_ENCRYPT_RECIPIENTS", &key.public)
    };
    run().args(["redis"]).run().assert_code(0);
    let backup = r.backup(".rdb.zst.age");
    assert_encrypted(&std::fs::read(&backup).unwrap(), "REDIS");
    let tmp = tempfile::tempdir().unwrap();
    let rdb = tmp.path().join("restored.rdb");
    run()
        .args(["restore", "redis", "--output"])
        .args([&rdb])
        .env("RESTORE_IDENTITY_FILE", &key.file)
        .run()
        .assert_code(0);
    assert!(
        std::fs::read(&rdb).unwrap().starts_with(b"REDIS"),
        "decrypted and decompressed"
    );
    redis::check_rdb(&rdb);
    let Some(loaded) = redis::load_rdb(&rdb) else {
        return;
    };
    assert_eq!(loaded.contents(&prefix), rs.contents(&prefix));
}

/// An encrypted dump of all databases (pg_dumpall, zstd, age) restores with `dbstash
/// restore` and the identity into a cluster of its own where the database was dropped.
#[test]
fn an_encrypted_pg_dumpall_backup_restores_the_dropped_database() {
    let Some(s3) = s3::server() else { return };
    let Some(_) = require("age-keygen", INSTALL) else {
        return;
    };
    let Some(pg) = pg::start() else { return };
    let keys = tempfile::tempdir().unwrap();
    let key = age_key(keys.path(), "key.txt").unwrap();
    let db = pg.seeded_db("age_all");
    let before = pg.contents(&db);
    let r = remote(s3, "age-dumpall");
    let all = |d: Dbstash| {
        r.on(d)
            .env("DB_HOST", "127.0.0.1")
            .env("DB_PORT", pg.port.to_string())
            .env("DB_USER", pg::USER)
            .env("DB_PASSWORD", pg::PASSWORD)
            .env("BACKUP_ALL_DATABASES", "true")
    };
    all(pg.dbstash())
        .args(["pg"])
        .env("BACKUP_COMPRESS", "true")
        .env("BACKUP_ENCRYPT_RECIPIENTS", &key.public)
        .run()
        .assert_code(0);
    let backup = r.backup(".sql.zst.age");
    assert_encrypted(
        &std::fs::read(&backup).unwrap(),
        "PostgreSQL database cluster dump",
    );
    pg.psql("postgres", &format!("drop database {db}"));

    // Without the identity: exit 2 before anything is applied.
    let out = all(pg.dbstash()).args(["restore", "pg"]).run();
    assert_ne!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("RESTORE_IDENTITY_FILE"),
        "{}",
        out.stderr
    );
    assert!(pg.try_psql(&db, "select 1").is_err(), "nothing restored");

    let out = all(pg.dbstash())
        .args(["restore", "pg"])
        .env("RESTORE_IDENTITY_FILE", &key.file)
        .run();
    out.assert_code(0);
    assert!(!out.stderr.contains(&key.secret), "{}", out.stderr);
    assert_eq!(pg.contents(&db), before);
}
