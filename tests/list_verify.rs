//! `dbstash list` and `dbstash verify` through the real binary: backups made by dbstash from
//! real servers into a real S3-protocol remote (`rclone serve s3`), then damaged in the
//! server's backing directory; and VERIFY_AFTER_BACKUP with fake dump tools.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::pg::{self, Pg};
use crate::support::receiver::{ok, Receiver};
use crate::support::*;

/// Unique per run: backups a second apart sort by time, and names never collide.
const TEMPLATE: &str = "{db}-{date}-{time}-{uuid}";

/// One PostgreSQL database backed up into one bucket, and the dbstash invocations on it.
struct PgSetup {
    pg: &'static Pg,
    db: String,
    remote: String,
    bucket: PathBuf,
    conf: PathBuf,
    _tmp: tempfile::TempDir,
}

impl PgSetup {
    fn new(prefix: &str) -> Option<PgSetup> {
        let pg = pg::server()?;
        let s3 = s3::server()?;
        let tmp = tempfile::tempdir().unwrap();
        let conf = s3.conf_file(tmp.path());
        let (remote, bucket) = s3.bucket(prefix);
        Some(PgSetup {
            db: pg.seeded_db(prefix),
            pg,
            remote,
            bucket,
            conf,
            _tmp: tmp,
        })
    }

    fn dbstash(&self, args: &[&str]) -> Dbstash {
        self.pg
            .dbstash()
            .args(args)
            .env("ENGINE", "pg")
            .env("DB_URI", self.pg.uri(&self.db))
            .env("RCLONE_REMOTE", &self.remote)
            .env("RCLONE_CONFIG_FILE", &self.conf)
            .env("BACKUP_NAME_TEMPLATE", TEMPLATE)
    }

    /// A backup; its name.
    fn backup(&self, compress: bool) -> String {
        let before = files_in(&self.bucket);
        self.dbstash(&[])
            .env("BACKUP_SCHEDULE", "once")
            .env("BACKUP_COMPRESS", compress.to_string())
            .run()
            .assert_code(0);
        let new: Vec<String> = files_in(&self.bucket)
            .into_iter()
            .filter(|n| !before.contains(n) && !n.ends_with(".sha256"))
            .collect();
        assert_eq!(new.len(), 1, "{new:?}");
        new[0].clone()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.bucket.join(name)
    }

    fn put(&self, name: &str, data: &[u8]) {
        rclone(
            &self.conf,
            &["rcat", &format!("{}/{name}", self.remote)],
            Some(data),
        );
    }

    fn delete(&self, name: &str) {
        rclone(
            &self.conf,
            &["deletefile", &format!("{}/{name}", self.remote)],
            None,
        );
    }
}

/// Change a bucket through the server: `rclone serve s3` caches its directory listings, so
/// files added, removed or resized behind its back are not seen at once.
fn rclone(conf: &Path, args: &[&str], input: Option<&[u8]>) {
    use std::io::Write as _;
    let mut child = Command::new("rclone")
        .arg("--config")
        .arg(conf)
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(data) = input {
        child.stdin.take().unwrap().write_all(data).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "rclone {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn sidecar_line(path: &Path) -> String {
    format!("{}  {}\n", sha256_hex(path), file_name(path))
}

#[test]
fn list_shows_complete_and_incomplete_backups_and_verify_checks_them() {
    let Some(s) = PgSetup::new("lv") else { return };
    let plain = s.backup(false);
    std::thread::sleep(Duration::from_millis(1100));
    let custom = s.backup(true);
    std::thread::sleep(Duration::from_millis(1100));
    let orphan = s.backup(false);
    s.delete(&format!("{orphan}.sha256"));
    assert!(
        plain.ends_with(".sql") && custom.ends_with(".dump"),
        "{plain} {custom}"
    );
    // Neither a foreign file nor a staging upload is a backup.
    s.put("notes.txt", b"hello");
    s.put(&format!(".{plain}.partial-0a1b2c3d"), b"partial");

    // The table: newest first, the one without its sidecar incomplete.
    let out = s.dbstash(&["list"]).run();
    out.assert_code(0);
    let rows: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(rows.len(), 5, "{}", out.stdout);
    assert!(
        rows[0].starts_with("NAME") && rows[0].contains("TIME (UTC)"),
        "{}",
        out.stdout
    );
    assert!(
        rows[1].starts_with(&orphan) && rows[1].ends_with("incomplete"),
        "{}",
        out.stdout
    );
    assert!(
        rows[2].starts_with(&custom) && rows[2].ends_with(" ok"),
        "{}",
        out.stdout
    );
    assert!(
        rows[3].starts_with(&plain) && rows[3].ends_with(" ok"),
        "{}",
        out.stdout
    );
    assert!(
        rows[4].starts_with(&format!("3 backups in {} (1 incomplete", s.remote)),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("notes.txt") && !out.stdout.contains("partial"));
    assert!(
        !out.stderr.contains("BACKUP_TIMEOUT"),
        "no warning about how backups are taken: {}",
        out.stderr
    );

    // JSON for scripts, with each sidecar's SHA-256.
    let out = s.dbstash(&["list", "--format", "json"]).run();
    out.assert_code(0);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let items = v.as_array().unwrap();
    let names: Vec<&str> = items.iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, [orphan.as_str(), custom.as_str(), plain.as_str()]);
    assert_eq!(items[0]["state"], "incomplete");
    assert_eq!(items[0]["sha256"], serde_json::Value::Null);
    for (i, name) in [(1, &custom), (2, &plain)] {
        assert_eq!(items[i]["state"], "ok");
        assert_eq!(items[i]["sha256"], sha256_hex(&s.path(name)));
        assert_eq!(
            items[i]["size"],
            std::fs::metadata(s.path(name)).unwrap().len()
        );
        assert_eq!(items[i]["path"], format!("{}/{name}", s.remote));
        let t = items[i]["time"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(t).is_ok(), "{t}");
    }
    s.dbstash(&["list"])
        .env("LIST_FORMAT", "yaml")
        .run()
        .assert_code(2);

    // latest: the newest complete one, a custom-format dump read by pg_restore.
    let out = s.dbstash(&["verify"]).run();
    out.assert_code(0);
    assert!(out.stdout.contains(&custom), "{}", out.stdout);
    assert!(
        out.stdout.contains(&format!("matches {custom}.sha256")),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("pg_restore --list "), "{}", out.stdout);
    assert!(out.stdout.ends_with("verify passed\n"), "{}", out.stdout);

    // A plain dump by name: its trailer.
    let out = s.dbstash(&["verify", "--backup", &plain]).run();
    out.assert_code(0);
    assert!(
        out.stdout
            .contains("ends with \"-- PostgreSQL database dump complete\""),
        "{}",
        out.stdout
    );

    // Without its sidecar: no verification, said so.
    let out = s.dbstash(&["verify", "--backup", &orphan]).run();
    out.assert_code(1);
    assert!(
        out.stdout.contains("has no .sha256 sidecar"),
        "{}",
        out.stdout
    );

    // A name that is not a backup of this configuration: the available ones are named.
    let out = s
        .dbstash(&["verify"])
        .env("RESTORE_BACKUP", "notes.txt")
        .run();
    out.assert_code(1);
    assert!(
        out.stdout
            .contains("notes.txt is not a backup of this configuration")
            && out
                .stdout
                .contains(&format!("available: {orphan} (incomplete), {custom}")),
        "{}",
        out.stdout
    );

    // One byte flipped on the server: the checksum names both hashes.
    let target = s.path(&plain);
    let original = std::fs::read(&target).unwrap();
    let good = sha256_hex(&target);
    let mut flipped = original.clone();
    flipped[original.len() / 2] ^= 0x01;
    std::fs::write(&target, &flipped).unwrap();
    let bad = sha256_hex(&target);
    let out = s.dbstash(&["verify", "--backup", &plain]).run();
    out.assert_code(1);
    assert!(out.stdout.contains("checksum mismatch"), "{}", out.stdout);
    assert!(
        out.stdout.contains(&good) && out.stdout.contains(&bad),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.ends_with("verify failed: checksum\n"),
        "{}",
        out.stdout
    );

    // Truncated, with a sidecar that matches it: the missing trailer fails it.
    let cut = &original[..original.len() * 2 / 3];
    s.put(&plain, cut);
    s.put(&format!("{plain}.sha256"), sidecar_line(&target).as_bytes());
    let out = s.dbstash(&["verify", "--backup", &plain]).run();
    out.assert_code(1);
    assert!(
        out.stdout
            .contains("the dump's trailer \"-- PostgreSQL database dump complete\" is missing"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.ends_with("verify failed: trailer\n"),
        "{}",
        out.stdout
    );

    // Nothing downloaded is left behind in BACKUP_TEMP_DIR.
    let work = tempfile::tempdir().unwrap();
    s.dbstash(&["verify", "--backup", &custom])
        .env("BACKUP_TEMP_DIR", work.path())
        .run()
        .assert_code(0);
    assert_eq!(all_files_in(work.path()), Vec::<String>::new());
}

#[test]
fn list_of_an_empty_folder_and_of_an_unreachable_remote() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let base = |remote: String| {
        Dbstash::new()
            .args(["list", "mysql"])
            .env("DB_HOST", "127.0.0.1")
            .env("DB_NAME", "shop")
            .env("RCLONE_REMOTE", remote)
    };
    let out = base(local_remote(&tmp.path().join("none"))).run();
    out.assert_code(0);
    assert!(
        out.stdout
            .starts_with("no backups of this configuration in"),
        "{}",
        out.stdout
    );
    let out = base(local_remote(&tmp.path().join("none")))
        .env("LIST_FORMAT", "json")
        .run();
    out.assert_code(0);
    assert_eq!(out.stdout.trim(), "[]");

    let port = closed_port();
    let out = base(format!(
        ":s3,provider=Rclone,endpoint='http://127.0.0.1:{port}',access_key_id=AKIDX1,secret_access_key=SECRETX1:b"
    ))
    .run();
    out.assert_code(1);
    assert!(out.stderr.contains("list failed"), "{}", out.stderr);
    assert!(!out.stderr.contains("SECRETX1"), "{}", out.stderr);
}

#[test]
fn mariadb_and_redis_backups_verify() {
    let Some(s3) = s3::server() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let conf = s3.conf_file(tmp.path());

    if let Some(m) = mariadb::server() {
        let db = m.seeded_db("lvm");
        let (remote, bucket) = s3.bucket("lvm");
        let run = |args: &[&str]| {
            m.dbstash()
                .args(args)
                .env("ENGINE", "mariadb")
                .env("DB_URI", m.uri(&db))
                .env("RCLONE_REMOTE", &remote)
                .env("RCLONE_CONFIG_FILE", &conf)
                .env("BACKUP_SCHEDULE", "once")
                .run()
        };
        run(&[]).assert_code(0);
        let backup = single_backup(&bucket, ".sql");
        let out = run(&["verify"]);
        out.assert_code(0);
        assert!(
            out.stdout.contains("ends with \"-- Dump completed"),
            "{}",
            out.stdout
        );
        // Cut before its trailer, the sidecar recomputed.
        let data = std::fs::read(&backup).unwrap();
        let name = file_name(&backup);
        let put = |n: &str, d: &[u8]| rclone(&conf, &["rcat", &format!("{remote}/{n}")], Some(d));
        put(&name, &data[..data.len() - 60]);
        put(&format!("{name}.sha256"), sidecar_line(&backup).as_bytes());
        let out = run(&["verify", "--backup=latest"]);
        out.assert_code(1);
        assert!(
            out.stdout
                .contains("the dump's trailer \"-- Dump completed\" is missing"),
            "{}",
            out.stdout
        );
    }

    if let Some(r) = redis::server() {
        if require("redis-check-rdb", redis::INSTALL).is_none() {
            return;
        }
        r.seed("lvr");
        let (remote, bucket) = s3.bucket("lvr");
        let run = |args: &[&str]| {
            r.dbstash()
                .args(args)
                .env("ENGINE", "redis")
                .env("DB_URI", r.uri(0))
                .env("RCLONE_REMOTE", &remote)
                .env("RCLONE_CONFIG_FILE", &conf)
                .env("BACKUP_SCHEDULE", "once")
                .run()
        };
        run(&[]).assert_code(0);
        single_backup(&bucket, ".rdb");
        let out = run(&["verify"]);
        out.assert_code(0);
        assert!(out.stdout.contains("redis-check-rdb"), "{}", out.stdout);
        let out = run(&["list", "--format=json"]);
        out.assert_code(0);
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 1);
        assert_eq!(v[0]["state"], "ok");
    }
}

/// A fake `pg_dump` printing a plain dump, with or without its trailer.
fn fake_pg_dump(dir: &Path, complete: bool) {
    let trailer = if complete {
        "\n--\n-- PostgreSQL database dump complete\n--\n"
    } else {
        ""
    };
    write_script(
        dir,
        "pg_dump",
        &format!(
            "if [ \"$1\" = --version ]; then echo 'pg_dump (PostgreSQL) 15'; exit 0; fi\nprintf '%s\\n' '--' '-- PostgreSQL database dump' '--' 'CREATE TABLE t (x int);'\nprintf '{}'",
            trailer.replace('\n', "\\n")
        ),
    );
    write_script(dir, "psql", "echo 1");
}

fn verify_after_backup(dir: &Path, remote: &Path) -> Dbstash {
    Dbstash::new()
        .fake_bin(dir)
        .env("ENGINE", "pg")
        .env("DB_HOST", "127.0.0.1")
        .env("DB_NAME", "app")
        .env("RCLONE_REMOTE", local_remote(remote))
        .env("BACKUP_NAME_TEMPLATE", TEMPLATE)
        .env("VERIFY_AFTER_BACKUP", "true")
}

#[test]
fn verify_after_backup_fails_the_run_on_an_incomplete_dump_and_keeps_the_object() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let remote = tmp.path().join("remote");

    fake_pg_dump(&bin, true);
    let out = verify_after_backup(&bin, &remote)
        .env("BACKUP_SCHEDULE", "once")
        .run();
    out.assert_code(0);
    assert!(out.stderr.contains("backup verified"), "{}", out.stderr);

    fake_pg_dump(&bin, false);
    let hook = Receiver::start(vec![ok()]);
    // With RETENTION_MAX_FILES=1 retention would delete the first backup, but it runs only
    // after the new one is proven: a failed verification fails the run, and nothing goes.
    let out = verify_after_backup(&bin, &remote)
        .env("BACKUP_SCHEDULE", "once")
        .env("NOTIFY_WEBHOOK_URL", hook.url("/hook"))
        .env("RETENTION_MAX_FILES", "1")
        .run();
    out.assert_code(1);
    assert!(
        out.stderr
            .contains("backup written but its verification failed"),
        "{}",
        out.stderr
    );
    let got = hook.wait_for(1, Duration::from_secs(10));
    let v = got[0].json();
    assert_eq!(v["status"], "failure");
    assert_eq!(v["stage"], "verify");
    assert!(v["sha256"].is_string() && v["size_bytes"].is_u64(), "{v}");
    let error = v["error"].as_str().unwrap();
    assert!(
        error.contains("the dump's trailer \"-- PostgreSQL database dump complete\" is missing")
            && error.contains("not restorable"),
        "{error}"
    );
    // Both backups stay, each with its sidecar: the second is complete and checksummed, and
    // no retention ran after the failed run.
    let files = files_in(&remote);
    assert_eq!(files.len(), 4, "{files:?}");
    assert_eq!(files.iter().filter(|f| f.ends_with(".sha256")).count(), 2);
}

#[test]
fn verify_after_backup_counts_in_healthz_and_metrics() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    fake_pg_dump(&bin, false);
    let port = free_port();
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .env("HOME", std::env::temp_dir())
        .env("ENGINE", "pg")
        .env("DB_HOST", "127.0.0.1")
        .env("DB_NAME", "app")
        .env("RCLONE_REMOTE", local_remote(&tmp.path().join("remote")))
        .env("BACKUP_NAME_TEMPLATE", TEMPLATE)
        .env("BACKUP_TEMP_DIR", tmp.path().join("work"))
        .env("BACKUP_SCHEDULE", "0 0 1 1 *")
        .env("BACKUP_TIMEOUT", "5m")
        .env("BACKUP_ON_START", "true")
        .env("VERIFY_AFTER_BACKUP", "true")
        .env("HEALTH_ADDR", format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    wait_for_port(port, "dbstash health endpoint");
    let failure =
        "dbstash_verifications_total{engine=\"pg\",database=\"app\",result=\"failure\"} 1\n";
    wait_for("the verification to be counted", 30, || {
        http_get(port, "/metrics").1.contains(failure)
    });
    let (code, body) = http_get(port, "/healthz");
    assert_eq!(code, 503, "{body}");
    assert!(
        body.contains("\"failing\"") && body.contains("verification of"),
        "{body}"
    );
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn compressed_plain_and_all_databases_dumps_verify_by_their_trailers() {
    let Some(s) = PgSetup::new("lvz") else { return };
    // pg_dump's own gzip on a plain dump: decompressed in-process to find the trailer.
    let out = s
        .dbstash(&[])
        .env("BACKUP_SCHEDULE", "once")
        .env("DUMP_EXTRA_ARGS", "--compress=6")
        .run();
    out.assert_code(0);
    let gz = single_backup(&s.bucket, ".sql.gz");
    let out = s.dbstash(&["verify"]).run();
    out.assert_code(0);
    assert!(out.stdout.contains(&file_name(&gz)), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("ends with \"-- PostgreSQL database dump complete\""),
        "{}",
        out.stdout
    );

    // pg_dumpall on a cluster of its own: the cluster's trailer, not a database's.
    let Some(cluster) = pg::start() else { return };
    cluster.seeded_db("lvall");
    let s3 = s3::server().unwrap();
    let (remote, bucket) = s3.bucket("lvall");
    let run = |args: &[&str]| {
        cluster
            .dbstash()
            .args(args)
            .env("ENGINE", "pg")
            .env("BACKUP_ALL_DATABASES", "true")
            .env(
                "DB_URI",
                format!(
                    "postgresql://{}:{}@127.0.0.1:{}",
                    pg::USER,
                    pg::PASSWORD,
                    cluster.port
                ),
            )
            .env("RCLONE_REMOTE", &remote)
            .env("RCLONE_CONFIG_FILE", &s.conf)
            .env("BACKUP_SCHEDULE", "once")
            .run()
    };
    run(&[]).assert_code(0);
    let all = single_backup(&bucket, ".sql");
    let out = run(&["verify"]);
    out.assert_code(0);
    assert!(
        out.stdout
            .contains("ends with \"-- PostgreSQL database cluster dump complete\""),
        "{}",
        out.stdout
    );
    // Cut after the last database's own trailer: not complete.
    let data = std::fs::read_to_string(&all).unwrap();
    let cut = data.rfind("-- PostgreSQL database dump complete").unwrap()
        + "-- PostgreSQL database dump complete\n".len();
    let name = file_name(&all);
    rclone(
        &s.conf,
        &["rcat", &format!("{remote}/{name}")],
        Some(&data.as_bytes()[..cut]),
    );
    rclone(
        &s.conf,
        &["rcat", &format!("{remote}/{name}.sha256")],
        Some(sidecar_line(&all).as_bytes()),
    );
    let out = run(&["verify", "--restore-backup", &name]);
    out.assert_code(1);
    assert!(
        out.stdout.contains("cluster dump complete\" is missing"),
        "{}",
        out.stdout
    );
}
