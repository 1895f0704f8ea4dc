//! In-process compression with a real PostgreSQL: pg_dump with an algorithm (plain SQL or a
//! custom archive inside), pg_dumpall with BACKUP_COMPRESS, and tar mode's `.tar.zst`, all
//! through `rclone serve s3`, verified and restored by dbstash into the same data.

use crate::compression::{remote, sizes_logged, unzstd, Remote, GZIP_MAGIC};
use crate::support::pg::{self, Pg};
use crate::support::*;

fn pg_env(d: Dbstash, pg: &Pg, r: &Remote) -> Dbstash {
    r.on(d)
        .env("DB_HOST", "127.0.0.1")
        .env("DB_PORT", pg.port.to_string())
        .env("DB_USER", pg::USER)
        .env("DB_PASSWORD", pg::PASSWORD)
}

#[test]
fn pg_single_database_with_zstd_is_plain_sql_compressed_and_restores() {
    let Some(pg) = pg::server() else { return };
    let Some(s3) = s3::server() else { return };
    let db = pg.seeded_db("cz_pg");
    let r = remote(s3, "cz-pg");
    let out = pg_env(pg.dbstash(), pg, &r)
        .args(["pg"])
        .env("DB_NAME", &db)
        .env("BACKUP_COMPRESS", "true")
        .env("BACKUP_COMPRESS_ALGO", "zstd")
        .env("BACKUP_COMPRESS_LEVEL", "5")
        .run();
    out.assert_code(0);
    let backup = r.backup(".sql.zst");
    let plain = unzstd(&backup);
    let head = String::from_utf8_lossy(&plain[..200]);
    assert!(
        !plain.starts_with(b"PGDMP") && head.contains("-- PostgreSQL database dump"),
        "plain format inside, not custom: {head}"
    );
    let out = pg_env(pg.dbstash(), pg, &r)
        .args(["verify", "pg"])
        .env("DB_NAME", &db)
        .run();
    out.assert_code(0);
    let target = unique("cz_pg_target");
    let out = pg_env(pg.dbstash(), pg, &r)
        .args(["restore", "pg", "--target-db", &target])
        .env("DB_NAME", &db)
        .run();
    out.assert_code(0);
    assert_eq!(pg.contents(&target), pg.contents(&db));
}

#[test]
fn pg_custom_archive_compressed_in_dbstash_verifies_and_restores() {
    let Some(pg) = pg::server() else { return };
    let Some(s3) = s3::server() else { return };
    let db = pg.seeded_db("cz_pgfc");
    let r = remote(s3, "cz-pgfc");
    let run = || {
        pg_env(pg.dbstash(), pg, &r)
            .env("DB_NAME", &db)
            .env("BACKUP_COMPRESS", "true")
            .env("BACKUP_COMPRESS_ALGO", "gzip")
            .env("DUMP_EXTRA_ARGS", "-Fc -Z 0")
    };
    run().args(["pg"]).run().assert_code(0);
    let backup = r.backup(".dump.gz");
    assert_eq!(std::fs::read(&backup).unwrap()[..2], GZIP_MAGIC);
    // verify runs pg_restore on a decompressed copy, and leaves nothing behind.
    let temp = tempfile::tempdir().unwrap();
    let out = run()
        .args(["verify", "pg"])
        .env("BACKUP_TEMP_DIR", temp.path())
        .run();
    out.assert_code(0);
    assert!(out.stdout.contains("pg_restore --list"), "{}", out.stdout);
    assert!(all_files_in(temp.path())
        .iter()
        .all(|f| f.ends_with(".lock")));
    let target = unique("cz_pgfc_target");
    run()
        .args(["restore", "pg", "--target-db", &target])
        .run()
        .assert_code(0);
    assert_eq!(pg.contents(&target), pg.contents(&db));
}

#[test]
fn pg_dumpall_compressed_verifies_and_restores_into_another_cluster() {
    let Some(s3) = s3::server() else { return };
    let Some(source) = pg::start() else { return };
    let a = source.seeded_db("cz_all");
    let r = remote(s3, "cz-all");
    let cluster = |pg: &Pg| {
        pg_env(pg.dbstash(), pg, &r)
            .env("BACKUP_ALL_DATABASES", "true")
            .env("BACKUP_COMPRESS", "true")
    };
    let out = cluster(&source).args(["pg"]).run();
    out.assert_code(0);
    assert!(!out.stderr.contains("no effect"), "{}", out.stderr);
    let backup = r.backup(".sql.zst");
    let plain = unzstd(&backup);
    let head = String::from_utf8_lossy(&plain[..200]);
    assert!(
        head.contains("-- PostgreSQL database cluster dump"),
        "{head}"
    );
    let out = cluster(&source).args(["verify", "pg"]).run();
    out.assert_code(0);
    assert!(
        out.stdout.contains("cluster dump complete"),
        "{}",
        out.stdout
    );
    let target = pg::start().expect("second cluster");
    let out = cluster(&target).args(["restore", "pg"]).run();
    out.assert_code(0);
    assert_eq!(target.contents(&a), source.contents(&a));
}

#[test]
fn tar_mode_with_uncompressed_files_stores_a_tar_zst_that_restores() {
    let Some(pg) = pg::server() else { return };
    let Some(s3) = s3::server() else { return };
    let db = pg.seeded_db("cz_tar");
    let r = remote(s3, "cz-tar");
    let temp = tempfile::tempdir().unwrap();
    let run = || {
        pg_env(pg.dbstash(), pg, &r)
            .env("DB_NAME", &db)
            .env("BACKUP_MODE", "tar")
            .env("BACKUP_TEMP_DIR", temp.path())
            .env("BACKUP_COMPRESS", "true")
            .env("DUMP_EXTRA_ARGS", "--compress=0")
    };
    let out = run().args(["pg"]).run();
    out.assert_code(0);
    let backup = r.backup(".tar.zst");
    let tar = unzstd(&backup);
    assert_eq!(&tar[257..262], b"ustar");
    let (stored, dumped) = sizes_logged(&out.stderr);
    assert_eq!(
        (stored, dumped),
        (std::fs::metadata(&backup).unwrap().len(), tar.len() as u64)
    );
    run().args(["verify", "pg"]).run().assert_code(0);
    let target = unique("cz_tar_target");
    run()
        .args(["restore", "pg", "--target-db", &target])
        .run()
        .assert_code(0);
    assert_eq!(pg.contents(&target), pg.contents(&db));
}
