//! In-process compression (BACKUP_COMPRESS, BACKUP_COMPRESS_ALGO, BACKUP_COMPRESS_LEVEL)
//! end to end: real MariaDB and Redis servers (PostgreSQL in `compression_pg.rs`), backups through `rclone serve s3`,
//! the stored bytes checked (compressed, their `.sha256` of what is stored), and `verify` and
//! `restore` reading them back into the same data. MongoDB by exact argv with fakes on PATH.

use std::path::{Path, PathBuf};

use crate::support::mariadb::{self, Maria};
use crate::support::redis;
use crate::support::*;

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// A folder on the S3 server with its rclone config.
pub(crate) struct Remote {
    pub(crate) remote: String,
    pub(crate) dir: PathBuf,
    conf: PathBuf,
    _tmp: tempfile::TempDir,
}

pub(crate) fn remote(s3: &s3::S3, prefix: &str) -> Remote {
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
    pub(crate) fn on(&self, d: Dbstash) -> Dbstash {
        d.env("RCLONE_REMOTE", &self.remote)
            .env("RCLONE_CONFIG_FILE", &self.conf)
            .env("BACKUP_SCHEDULE", "once")
    }

    /// The one backup in the folder (not its sidecar), checked: named with `ext`, its
    /// sidecar holding the SHA-256 of the stored bytes.
    pub(crate) fn backup(&self, ext: &str) -> PathBuf {
        let names = files_in(&self.dir);
        let backups: Vec<&String> = names.iter().filter(|n| !n.ends_with(".sha256")).collect();
        assert_eq!(backups.len(), 1, "one backup expected: {names:?}");
        let name = backups[0];
        assert!(name.ends_with(ext), "{name} should end with {ext}");
        let path = self.dir.join(name);
        let sidecar = std::fs::read_to_string(self.dir.join(format!("{name}.sha256"))).unwrap();
        assert_eq!(sidecar, format!("{}  {name}\n", sha256_hex(&path)));
        path
    }

    /// `rclone ARGS` against the server, `input` on stdin (serve s3 caches its listings:
    /// objects change through its API, not behind its back).
    pub(crate) fn rclone(&self, args: &[&str], input: &[u8]) {
        use std::io::Write as _;
        let mut child = std::process::Command::new("rclone")
            .args(["-q", "--config"])
            .arg(&self.conf)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        assert!(child.wait().unwrap().success(), "rclone {args:?}");
    }
}

pub(crate) fn unzstd(path: &Path) -> Vec<u8> {
    zstd::stream::decode_all(std::fs::File::open(path).unwrap()).unwrap()
}

/// The stored size, the dump's own size and the line saying so.
pub(crate) fn sizes_logged(stderr: &str) -> (u64, u64) {
    let line = stderr
        .lines()
        .find(|l| l.contains("backup succeeded"))
        .unwrap_or_else(|| panic!("no success line:\n{stderr}"));
    let field = |k: &str| -> u64 {
        let v = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("{k}= missing: {line}"));
        v.parse().unwrap()
    };
    (field("stored"), field("dumped"))
}

// ------------------------------------------------------------------------------ MariaDB

fn maria(m: &Maria, r: &Remote, db: &str) -> Dbstash {
    r.on(m.dbstash())
        .env("DB_HOST", "127.0.0.1")
        .env("DB_PORT", m.port.to_string())
        .env("DB_USER", mariadb::USER)
        .env("DB_PASSWORD", mariadb::PASSWORD)
        .env("DB_NAME", db)
}

#[test]
fn mariadb_compressed_with_zstd_and_gzip_verifies_and_restores() {
    let Some(m) = mariadb::server() else { return };
    let Some(s3) = s3::server() else { return };
    let db = m.seeded_db("cz_maria");

    // BACKUP_COMPRESS alone: MariaDB cannot compress, so dbstash does (zstd).
    let r = remote(s3, "cz-maria");
    let out = maria(m, &r, &db)
        .args(["mariadb"])
        .env("BACKUP_COMPRESS", "true")
        .run();
    out.assert_code(0);
    assert!(!out.stderr.contains("no effect"), "{}", out.stderr);
    let backup = r.backup(".sql.zst");
    let stored = std::fs::read(&backup).unwrap();
    assert_eq!(stored[..4], ZSTD_MAGIC, "zstd-compressed, not plain");
    let plain = unzstd(&backup);
    assert!(String::from_utf8_lossy(&plain).contains("-- Dump completed"));
    assert_eq!(
        sizes_logged(&out.stderr),
        (stored.len() as u64, plain.len() as u64)
    );
    assert!(
        stored.len() * 3 < plain.len(),
        "compressed: {} of {}",
        stored.len(),
        plain.len()
    );

    let out = maria(m, &r, &db).args(["verify", "mariadb"]).run();
    out.assert_code(0);
    assert!(out.stdout.contains("Dump completed"), "{}", out.stdout);
    let target = unique("cz_maria_target");
    let out = maria(m, &r, &db)
        .args(["restore", "mariadb", "--target-db", &target])
        .run();
    out.assert_code(0);
    assert_eq!(m.contents(&target), m.contents(&db));

    // gzip at level 9: `.sql.gz`, readable by gzip itself, verified right after the backup.
    let r = remote(s3, "cz-maria-gz");
    maria(m, &r, &db)
        .args(["mariadb"])
        .env("BACKUP_COMPRESS", "true")
        .env("BACKUP_COMPRESS_ALGO", "gzip")
        .env("BACKUP_COMPRESS_LEVEL", "9")
        .env("VERIFY_AFTER_BACKUP", "true")
        .run()
        .assert_code(0);
    let backup = r.backup(".sql.gz");
    assert_eq!(std::fs::read(&backup).unwrap()[..2], GZIP_MAGIC);
    if let Some(gzip) = require("gzip", "apt-get install -y gzip") {
        let t = std::process::Command::new(gzip)
            .arg("-t")
            .arg(&backup)
            .output()
            .unwrap();
        assert!(t.status.success(), "gzip -t: {t:?}");
    }
    let target = unique("cz_maria_gz_target");
    maria(m, &r, &db)
        .args(["restore", "mariadb", "--target-db", &target])
        .run()
        .assert_code(0);
    assert_eq!(m.contents(&target), m.contents(&db));
}

#[test]
fn a_truncated_zstd_backup_fails_verify() {
    let Some(m) = mariadb::server() else { return };
    let Some(s3) = s3::server() else { return };
    let db = m.seeded_db("cz_cut");
    let r = remote(s3, "cz-cut");
    maria(m, &r, &db)
        .args(["mariadb"])
        .env("BACKUP_COMPRESS", "true")
        .run()
        .assert_code(0);
    let backup = r.backup(".sql.zst");
    let name = file_name(&backup);
    // Cut the frame in half and give it a matching sidecar: only the zstd stream is broken.
    let bytes = std::fs::read(&backup).unwrap();
    let cut = &bytes[..bytes.len() / 2];
    use sha2::Digest as _;
    let sum = format!("{:x}", sha2::Sha256::digest(cut));
    r.rclone(&["rcat", &format!("{}/{name}", r.remote)], cut);
    r.rclone(
        &["rcat", &format!("{}/{name}.sha256", r.remote)],
        format!("{sum}  {name}\n").as_bytes(),
    );
    assert_eq!(std::fs::read(&backup).unwrap(), cut);
    let out = maria(m, &r, &db).args(["verify", "mariadb"]).run();
    out.assert_code(1);
    assert!(
        out.stdout.contains(&format!("matches {name}.sha256")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("truncated or damaged"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    // A restore refuses it too, leaving no database behind.
    let target = unique("cz_cut_target");
    maria(m, &r, &db)
        .args(["restore", "mariadb", "--target-db", &target])
        .run()
        .assert_code(1);
    assert_eq!(
        m.sql(
            "",
            &format!(
                "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '{target}'"
            )
        ),
        "0"
    );
}

#[test]
fn retention_counts_and_deletes_only_this_configurations_compressed_names() {
    let Some(m) = mariadb::server() else { return };
    require("rclone", s3::INSTALL);
    let db = m.seeded_db("cz_ret");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let old = |ext: &str, day: u32| format!("{db}-2026-01-{day:02}-020000{ext}");
    // Three older zstd backups of this config, and plain and gzip ones (another config's).
    for day in [1, 2, 3] {
        for ext in [".sql.zst", ".sql", ".sql.gz"] {
            for f in [old(ext, day), format!("{}.sha256", old(ext, day))] {
                std::fs::write(d.join(&f), b"x").unwrap();
                // Older by name and by time: day 1 is the oldest.
                let ok = std::process::Command::new("touch")
                    .arg("-d")
                    .arg(format!("{} days ago", 10 - day))
                    .arg(d.join(&f))
                    .status()
                    .unwrap();
                assert!(ok.success());
            }
        }
    }
    let out = m
        .dbstash()
        .args(["mariadb"])
        .env("DB_URI", m.uri(&db))
        .env("RCLONE_REMOTE", local_remote(d))
        .env("BACKUP_SCHEDULE", "once")
        .env("BACKUP_COMPRESS", "true")
        .env("RETENTION_MAX_FILES", "2")
        .run();
    out.assert_code(0);
    let left = files_in(d);
    let zst: Vec<&String> = left.iter().filter(|n| n.ends_with(".sql.zst")).collect();
    assert_eq!(zst.len(), 2, "{left:?}");
    assert!(zst.contains(&&old(".sql.zst", 3)), "{left:?}");
    for day in [1, 2, 3] {
        for ext in [".sql", ".sql.gz"] {
            assert!(
                left.contains(&old(ext, day)),
                "{} was deleted: {left:?}",
                old(ext, day)
            );
        }
    }
    assert!(
        !left.contains(&old(".sql.zst", 1))
            && !left.contains(&format!("{}.sha256", old(".sql.zst", 1)))
    );
}

// ------------------------------------------------------------------------------ Redis

#[test]
fn redis_rdb_zst_restores_to_a_loadable_rdb() {
    let Some(rs) = redis::server() else { return };
    let Some(s3) = s3::server() else { return };
    let prefix = rs.seed("cz_rdb");
    let r = remote(s3, "cz-redis");
    let out = r
        .on(rs.dbstash())
        .args(["redis"])
        .env("DB_URI", rs.uri(0))
        .env("BACKUP_COMPRESS", "true")
        .env("BACKUP_COMPRESS_ALGO", "zstd")
        .run();
    out.assert_code(0);
    let backup = r.backup(".rdb.zst");
    assert!(unzstd(&backup).starts_with(b"REDIS"));
    r.on(rs.dbstash())
        .args(["verify", "redis"])
        .env("DB_URI", rs.uri(0))
        .run()
        .assert_code(0);
    let tmp = tempfile::tempdir().unwrap();
    let rdb = tmp.path().join("restored.rdb");
    let out = r
        .on(rs.dbstash())
        .args(["restore", "redis", "--output"])
        .args([&rdb])
        .env("DB_URI", rs.uri(0))
        .run();
    out.assert_code(0);
    assert!(
        std::fs::read(&rdb).unwrap().starts_with(b"REDIS"),
        "written decompressed"
    );
    assert_eq!(all_files_in(tmp.path()), ["restored.rdb"]);
    redis::check_rdb(&rdb);
    let Some(loaded) = redis::load_rdb(&rdb) else {
        return;
    };
    assert_eq!(loaded.contents(&prefix), rs.contents(&prefix));
}

// ------------------------------------------------------------------------------ MongoDB

/// A fake `mongodump` that records its argv and prints `archive.bin` (the backup, or the
/// restore's probe of the target with `FAKE_PROBE`), and a fake `mongorestore` that records
/// its argv and keeps the archive it was given.
pub(crate) fn fake_mongo(dir: &Path) {
    write_script(
        dir,
        "mongodump",
        r#"echo "$@" >> "$FAKE_DIR/mongodump.argv"
if [ -n "${FAKE_PROBE-}" ]; then cat "$FAKE_DIR/probe.bin"; exit 0; fi
cat "$FAKE_DIR/archive.bin""#,
    );
    write_script(
        dir,
        "mongorestore",
        r#"echo "$@" >> "$FAKE_DIR/mongorestore.argv"
for a in "$@"; do
  case "$a" in --archive=*) cp "${a#--archive=}" "$FAKE_DIR/restored.archive" ;; esac
done
echo "3 document(s) restored successfully. 0 document(s) failed to restore." >&2"#,
    );
}

#[test]
fn mongo_archive_zst_by_exact_argv() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let fake = tempfile::tempdir().unwrap();
    let f = fake.path();
    fake_mongo(f);
    let archive = crate::restore_others::archive(&[("shop", "orders")]);
    std::fs::write(f.join("archive.bin"), &archive).unwrap();
    std::fs::write(f.join("probe.bin"), crate::restore_others::archive(&[])).unwrap();
    let remote = tempfile::tempdir().unwrap();
    let run = || {
        Dbstash::new()
            .fake_bin(f)
            .env("FAKE_DIR", f)
            .env("RCLONE_REMOTE", local_remote(remote.path()))
            .env("BACKUP_SCHEDULE", "once")
            .env("DB_URI", "mongodb://app:Mongo%24ecret@m1:27017/shop")
            .env("BACKUP_COMPRESS", "true")
            .env("BACKUP_COMPRESS_ALGO", "zstd")
    };
    run().args(["mongo"]).run().assert_code(0);
    let argv = std::fs::read_to_string(f.join("mongodump.argv")).unwrap();
    let argv = argv.trim().split_once(' ').unwrap().1; // after --config=FILE
    assert_eq!(argv, "--archive --db=shop", "no --gzip: dbstash compresses");
    let backup = single_backup(remote.path(), ".archive.zst");
    assert_eq!(unzstd(&backup), archive);

    let out = run()
        .args(["restore", "mongo"])
        .env("FAKE_PROBE", "1")
        .run();
    out.assert_code(0);
    let argv = std::fs::read_to_string(f.join("mongorestore.argv")).unwrap();
    let argv: Vec<&str> = argv
        .split_whitespace()
        .map(|a| {
            if a.starts_with("--config=") {
                "--config=FILE"
            } else if a.starts_with("--archive=/") {
                "--archive=FILE"
            } else {
                a
            }
        })
        .collect();
    assert_eq!(
        argv.join(" "),
        "--config=FILE --archive=FILE --nsInclude=shop.*"
    );
    assert_eq!(
        std::fs::read(f.join("restored.archive")).unwrap(),
        archive,
        "decompressed for mongorestore"
    );
}

// ------------------------------------------------------------------------------ failures

/// A fake `mariadb-dump` running `body`, and a `:local:` remote.
pub(crate) fn fake_dump(body: &str) -> Option<(tempfile::TempDir, tempfile::TempDir, Dbstash)> {
    require("rclone", s3::INSTALL)?;
    let fake = tempfile::tempdir().unwrap();
    write_script(fake.path(), "mariadb-dump", body);
    let remote = tempfile::tempdir().unwrap();
    let d = Dbstash::new()
        .fake_bin(fake.path())
        .args(["mariadb"])
        .env("DB_HOST", "127.0.0.1")
        .env("DB_NAME", "shop")
        .env("RCLONE_REMOTE", local_remote(remote.path()))
        .env("BACKUP_SCHEDULE", "once")
        .env("BACKUP_COMPRESS", "true");
    Some((fake, remote, d))
}

#[test]
fn a_failed_or_empty_dump_never_becomes_a_compressed_backup() {
    // Half a dump, then exit 1: the compressed bytes already sent are never committed.
    let Some((_fake, remote, d)) =
        fake_dump("seq 1 200000 | sed 's/^/INSERT INTO t VALUES (/'; exit 1")
    else {
        return;
    };
    let out = d.run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("exited with status 1"),
        "{}",
        out.stderr
    );
    assert_eq!(all_files_in(remote.path()), Vec::<String>::new());

    // Nothing at all on stdout, exit 0: still no backup, although the compressor wrote a
    // frame header.
    let Some((_fake, remote, d)) = fake_dump("exit 0") else {
        return;
    };
    let out = d.run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("wrote nothing to stdout"),
        "{}",
        out.stderr
    );
    assert_eq!(all_files_in(remote.path()), Vec::<String>::new());
}

#[test]
fn compression_settings_that_would_do_nothing_are_exit_2() {
    for (engine, env, var) in [
        (
            "pg",
            &[("BACKUP_COMPRESS_LEVEL", "9")][..],
            "BACKUP_COMPRESS_LEVEL",
        ),
        (
            "mariadb",
            &[
                ("BACKUP_MODE", "directory"),
                ("BACKUP_COMPRESS_ALGO", "zstd"),
            ][..],
            "BACKUP_COMPRESS_ALGO",
        ),
    ] {
        let mut d = Dbstash::new()
            .args([engine, "--dry-run"])
            .env("DB_HOST", "h")
            .env("DB_NAME", "shop")
            .env("RCLONE_REMOTE", "r:b")
            .env("BACKUP_SCHEDULE", "once")
            .env("BACKUP_COMPRESS", "true");
        for (k, v) in env {
            d = d.env(k, v);
        }
        let out = d.run();
        out.assert_code(2);
        assert!(out.stderr.contains(var), "{engine}: {}", out.stderr);
    }
}
