//! MongoDB without a server (none can be installed here): a fake `mongodump` on PATH records
//! its argv and `--config` file and writes an archive-shaped stream. The real round trip runs
//! in the GitHub workflow against a mongo service container.

use std::path::Path;

use tempfile::TempDir;

use crate::support::*;

/// mongodump's archive magic number, then some payload.
const ARCHIVE: &str = r#"printf '\155\342\231\201'; printf 'collection-data-%s\n' $(seq 1 2000)"#;

fn fake_mongodump(dir: &Path, tail: &str) {
    write_script(
        dir,
        "mongodump",
        &format!(
            r#"echo "$@" > "$FAKE_DIR/argv"
for a in "$@"; do
  case "$a" in --config=*) f="${{a#--config=}}"; cp "$f" "$FAKE_DIR/config"; stat -L -c %a "$f" > "$FAKE_DIR/config.mode"; readlink "$f" > "$FAKE_DIR/config.link" ;; esac
done
{ARCHIVE}
{tail}"#
        ),
    );
}

/// A fake mongodump ending with `tail`, a local remote, and dbstash with both wired in;
/// `None` (skipped loudly, or failed under CI) without rclone.
fn with_fake_mongodump(tail: &str) -> Option<(TempDir, TempDir, Dbstash)> {
    require("rclone", s3::INSTALL)?;
    let fake = tempfile::tempdir().unwrap();
    fake_mongodump(fake.path(), tail);
    let remote = tempfile::tempdir().unwrap();
    let cmd = Dbstash::new()
        .fake_bin(fake.path())
        .env("FAKE_DIR", fake.path())
        .env("RCLONE_REMOTE", local_remote(remote.path()));
    Some((fake, remote, cmd))
}

fn read(dir: &Path, f: &str) -> String {
    std::fs::read_to_string(dir.join(f)).unwrap_or_default()
}

#[test]
fn uri_credentials_travel_in_a_0600_config_file() {
    let Some((fake, remote, cmd)) = with_fake_mongodump("exit 0") else {
        return;
    };
    let out = cmd
        .env("ENGINE", "mongo")
        .env(
            "DB_URI",
            "mongodb://app:Mongo%24ecret@m1:27017,m2:27017/analytics?replicaSet=rs0",
        )
        .env("BACKUP_COMPRESS", "true")
        .env("BACKUP_SCHEDULE", "once")
        .run();
    out.assert_code(0);
    let argv = read(fake.path(), "argv");
    assert!(argv.starts_with("--config=/"), "{argv}");
    assert!(
        argv.trim().ends_with(" --archive --gzip --db=analytics"),
        "{argv}"
    );
    assert!(!argv.contains("Mongo"), "password on argv: {argv}");
    assert_eq!(
        read(fake.path(), "config"),
        "uri: \"mongodb://app:Mongo%24ecret@m1:27017,m2:27017/?replicaSet=rs0&authSource=analytics\"\n"
    );
    assert_eq!(read(fake.path(), "config.mode").trim(), "600");
    assert!(
        read(fake.path(), "config.link").starts_with("/memfd:dbstash-secret"),
        "the config is a memory file, gone with dbstash: {}",
        read(fake.path(), "config.link")
    );
    let backup = single_backup(remote.path(), ".archive.gz");
    assert!(backup
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("analytics-"));
    let bytes = std::fs::read(&backup).unwrap();
    assert_eq!(&bytes[..4], &[0x6d, 0xe2, 0x99, 0x81], "archive magic");
    assert!(bytes.ends_with(b"collection-data-2000\n"));
    assert!(
        !out.stderr.contains("Mongo$") && !out.stderr.contains("Mongo%24"),
        "{}",
        out.stderr
    );
}

#[test]
fn host_fields_with_auth_source_and_all_databases() {
    let Some((fake, remote, cmd)) = with_fake_mongodump("exit 0") else {
        return;
    };
    let out = cmd
        .args([
            "mongo",
            "--db-host",
            "mongo.internal",
            "--db-user",
            "root",
            "--db-auth-source",
            "users",
            "--backup-all-databases",
        ])
        .args(["--backup-schedule", "once"])
        .env("DB_PASSWORD", "pa\"ss")
        .run();
    out.assert_code(0);
    assert_eq!(
        read(fake.path(), "argv").split_once(' ').unwrap().1.trim(),
        "--archive --host=mongo.internal --port=27017 --username=root --authenticationDatabase=users"
    );
    assert_eq!(read(fake.path(), "config"), "password: \"pa\\\"ss\"\n");
    let backup = single_backup(remote.path(), ".archive");
    assert!(backup
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("all-"));
}

#[test]
fn db_auth_source_is_a_mongo_flag() {
    let out = Dbstash::new()
        .args([
            "pg",
            "--db-auth-source",
            "users",
            "--db-host",
            "h",
            "--db-name",
            "d",
            "--rclone-remote",
            "r:",
            "--backup-schedule",
            "once",
            "--dry-run",
        ])
        .run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--db-auth-source"), "{}", out.stderr);
    let help = Dbstash::new().args(["mongo", "--help"]).run();
    help.assert_code(0);
    assert!(
        help.stdout.contains("--db-auth-source <DB>"),
        "{}",
        help.stdout
    );
}

#[test]
fn failed_mongodump_leaves_nothing() {
    let Some((_fake, remote, cmd)) = with_fake_mongodump(
        "echo 'Failed: error connecting to db server: server selection timeout' >&2; exit 1",
    ) else {
        return;
    };
    let out = cmd
        .args([
            "mongo",
            "--db-host",
            "h",
            "--db-name",
            "d",
            "--backup-schedule",
            "once",
        ])
        .run();
    out.assert_code(1);
    assert!(
        out.stderr
            .contains("mongodump exited with status 1: Failed: error connecting"),
        "{}",
        out.stderr
    );
    assert_eq!(all_files_in(remote.path()), Vec::<String>::new());
}
