//! Public-key encryption (age) at its edges, without database servers: every exit-2 rule
//! through the binary, the dry runs, a failed dump that never becomes an encrypted backup,
//! and MongoDB with fake tools. The round trips with real servers are in `encryption.rs`.

use crate::compression::unzstd;
use crate::encryption::{age, age_key, assert_encrypted};
use crate::support::*;

#[test]
fn a_failed_or_empty_dump_never_becomes_an_encrypted_backup() {
    const PUBLIC: &str = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
    for (body, says) in [
        (
            "seq 1 200000 | sed 's/^/INSERT INTO t VALUES (/'; exit 1",
            "exited with status 1",
        ),
        // The encryptor writes its header even for no input: still no backup.
        ("exit 0", "wrote nothing to stdout"),
    ] {
        let Some((_fake, remote, d)) = crate::compression::fake_dump(body) else {
            return;
        };
        let out = d.env("BACKUP_ENCRYPT_RECIPIENTS", PUBLIC).run();
        out.assert_code(1);
        assert!(out.stderr.contains(says), "{}", out.stderr);
        assert_eq!(all_files_in(remote.path()), Vec::<String>::new());
    }
}

#[test]
fn mongo_archive_zst_age_restores_the_same_archive() {
    // MongoDB is not obtainable here: fake mongodump/mongorestore that keep their archive.
    let Some(_) = require("rclone", s3::INSTALL) else {
        return;
    };
    let keys = tempfile::tempdir().unwrap();
    let Some(key) = age_key(keys.path(), "key.txt") else {
        return;
    };
    let fake = tempfile::tempdir().unwrap();
    let f = fake.path();
    crate::compression::fake_mongo(f);
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
            .env("BACKUP_ENCRYPT_RECIPIENTS", &key.public)
    };
    run().args(["mongo"]).run().assert_code(0);
    let backup = single_backup(remote.path(), ".archive.zst.age");
    assert_encrypted(&std::fs::read(&backup).unwrap(), "orders");
    let zst = keys.path().join("a.zst");
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
    assert_eq!(unzstd(&zst), archive);
    run()
        .args(["restore", "mongo"])
        .env("FAKE_PROBE", "1")
        .env("RESTORE_IDENTITY_FILE", &key.file)
        .run()
        .assert_code(0);
    assert_eq!(std::fs::read(f.join("restored.archive")).unwrap(), archive);
}

// ------------------------------------------------------------------ configuration: exit 2

#[test]
fn bad_keys_and_combinations_exit_2_naming_the_variable_without_echoing_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let keyfile = dir.path().join("key.txt");
    let secret = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ";
    std::fs::write(&keyfile, "not a key\n").unwrap();
    let public = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
    let base = || {
        Dbstash::new()
            .args(["pg"])
            .env("DB_HOST", "127.0.0.1")
            .env("DB_NAME", "app")
            .env("RCLONE_REMOTE", ":local:/tmp/x")
            .env("DRY_RUN", "true")
    };
    let cases: Vec<(Dbstash, &str)> = vec![
        (
            base().env("BACKUP_ENCRYPT_RECIPIENTS", "age1nonsense"),
            "BACKUP_ENCRYPT_RECIPIENTS (--backup-encrypt-recipients)",
        ),
        (
            base().env("BACKUP_ENCRYPT_RECIPIENTS", secret),
            "BACKUP_ENCRYPT_RECIPIENTS (--backup-encrypt-recipients)",
        ),
        (
            base().env("BACKUP_ENCRYPT_RECIPIENTS", "ssh-ed25519 AAAAnotbase64"),
            "BACKUP_ENCRYPT_RECIPIENTS (--backup-encrypt-recipients)",
        ),
        (
            base()
                .env("BACKUP_ENCRYPT_RECIPIENTS", public)
                .env("BACKUP_ENCRYPT_RECIPIENTS_FILE", &keyfile),
            "BACKUP_ENCRYPT_RECIPIENTS_FILE",
        ),
        (
            base().env("BACKUP_ENCRYPT_RECIPIENTS_FILE", dir.path()),
            "BACKUP_ENCRYPT_RECIPIENTS_FILE (--backup-encrypt-recipients-file)",
        ),
        (
            base()
                .env("BACKUP_ENCRYPT_RECIPIENTS", public)
                .env("BACKUP_MODE", "directory"),
            "BACKUP_MODE (--backup-mode)",
        ),
        (
            base()
                .env("BACKUP_ENCRYPT_RECIPIENTS", public)
                .env("BACKUP_EXTENSION", ".sql"),
            "BACKUP_EXTENSION (--backup-extension)",
        ),
        (
            base().env("RESTORE_IDENTITY_FILE", &keyfile),
            "RESTORE_IDENTITY_FILE (--restore-identity-file)",
        ),
    ];
    for (d, want) in cases {
        let out = d.run();
        out.assert_code(2);
        assert!(out.stderr.contains(want), "want {want}:\n{}", out.stderr);
        assert!(!out.stderr.contains(secret), "{}", out.stderr);
    }
    // The dry run shows the encryption and its public keys.
    let out = base().env("BACKUP_ENCRYPT_RECIPIENTS", public).run();
    out.assert_code(0);
    assert!(
        out.stdout
            .contains("age-encrypted in dbstash to 1 recipient(s)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(public), "{}", out.stdout);
    assert!(out.stdout.contains(".sql.age"), "{}", out.stdout);
}

#[test]
fn the_restore_dry_run_says_how_an_encrypted_backup_is_decrypted() {
    let Some(_) = require("rclone", s3::INSTALL) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let name = "app-2026-11-30-020000.sql.zst.age";
    std::fs::write(dir.path().join(name), b"age-encryption.org/v1\n").unwrap();
    std::fs::write(
        dir.path().join(format!("{name}.sha256")),
        format!("{}  {name}\n", sha256_hex(&dir.path().join(name))),
    )
    .unwrap();
    let keys = tempfile::tempdir().unwrap();
    let Some(key) = age_key(keys.path(), "key.txt") else {
        return;
    };
    let run = || {
        Dbstash::new()
            .args(["restore", "mariadb"])
            .env("DB_HOST", "127.0.0.1")
            .env("DB_NAME", "app")
            .env("RCLONE_REMOTE", local_remote(dir.path()))
            .env("DRY_RUN", "true")
    };
    let out = run().run();
    out.assert_code(0);
    assert!(out.stdout.contains(name), "{}", out.stdout);
    assert!(out.stdout.contains("restore would FAIL"), "{}", out.stdout);
    let out = run().env("RESTORE_IDENTITY_FILE", &key.file).run();
    out.assert_code(0);
    assert!(
        out.stdout.contains("before anything is applied"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains(&key.secret), "{}", out.stdout);
}

/// A passphrase-protected SSH key cannot be used (dbstash never prompts): exit 2 naming
/// RESTORE_IDENTITY_FILE and what to do, before anything is downloaded or touched.
#[test]
fn a_passphrase_protected_ssh_key_is_refused_with_exit_2() {
    let Some(_) = require("ssh-keygen", "apt-get install -y openssh-client") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("id_ed25519");
    let made = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "hunter22-pass", "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    for args in [vec!["pg"], vec!["restore", "pg"], vec!["verify", "pg"]] {
        let out = Dbstash::new()
            .args(&args)
            .env("DB_HOST", "127.0.0.1")
            .env("DB_NAME", "app")
            .env("RCLONE_REMOTE", ":local:/nonexistent-dbstash-passphrase")
            .env("BACKUP_SCHEDULE", "once")
            .env("RESTORE_IDENTITY_FILE", &key)
            .run();
        out.assert_code(2);
        assert!(
            out.stderr
                .contains("RESTORE_IDENTITY_FILE (--restore-identity-file): the SSH private key is passphrase-protected"),
            "{args:?}: {}",
            out.stderr
        );
        assert!(!out.stderr.contains("hunter22-pass"), "{}", out.stderr);
    }
}
