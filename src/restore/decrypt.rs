//! `.age` backups (BACKUP_ENCRYPT_RECIPIENTS) decrypted with RESTORE_IDENTITY_FILE, after the
//! download was checked against the sidecar (the SHA-256 is of the stored, encrypted bytes)
//! and before anything reads the dump: the whole file is decrypted into a 0600 file beside
//! it first, so a wrong identity or a damaged file fails with nothing applied (age
//! authenticates every 64 KiB chunk; a tool fed while decrypting could have applied part).

use std::io;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use secrecy::{ExposeSecret as _, SecretString};

/// `verify`'s line for an `.age` backup without RESTORE_IDENTITY_FILE.
pub const NOT_CHECKED: &str = "encrypted (age) and RESTORE_IDENTITY_FILE is not set: only the checksum of the stored bytes was checked, NOT the dump's completeness (the backup host normally holds only the public key; run verify with RESTORE_IDENTITY_FILE where the key is to check it)";

/// The dry run's line about decryption (`width` aligns it with its neighbours), or none
/// for a backup that is not encrypted.
pub fn describe(cfg: &crate::config::Config, name: &str, width: usize) -> Option<String> {
    if !is_encrypted(name) {
        return None;
    }
    let how = match &cfg.encryption.identity_path {
        Some(p) => format!("age, with RESTORE_IDENTITY_FILE {p}, whole into a 0600 file beside the download after the checksum, before anything is applied"),
        None => "age, but RESTORE_IDENTITY_FILE is not set: the restore would FAIL (verify checks the checksum only)".to_string(),
    };
    Some(format!("  {:<width$}{how}\n", "decrypt"))
}

/// Whether a backup's name says it is age-encrypted.
pub fn is_encrypted(name: &str) -> bool {
    name.ends_with(".age")
}

/// The name without `.age`: what the decrypted bytes are (`app.sql.zst`).
pub fn plain_name(name: &str) -> &str {
    name.strip_suffix(".age").unwrap_or(name)
}

/// The error for an `.age` backup and no RESTORE_IDENTITY_FILE.
pub fn no_identity(name: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "{name} is encrypted (age): set RESTORE_IDENTITY_FILE (--restore-identity-file) to the age identity or SSH private key of one of its recipients; nothing was applied"
    )
}

/// Decrypt `from` (a verified download) into a new 0600 file `to`, removing `from` once
/// done; the plaintext's size. On any error `to` is removed.
pub async fn to_file(
    from: &Path,
    to: PathBuf,
    identity: &SecretString,
    name: &str,
) -> anyhow::Result<u64> {
    let from = from.to_path_buf();
    let identity = identity.clone();
    let task = tokio::task::spawn_blocking(move || -> Result<u64, String> {
        use std::os::unix::fs::OpenOptionsExt as _;
        // age's identities are not Send: parsed on this thread.
        let ids =
            crate::transform::parse_identities(identity.expose_secret(), "RESTORE_IDENTITY_FILE")?;
        let result = (|| -> io::Result<u64> {
            let file = std::fs::File::open(&from)?;
            let mut r = crate::transform::decrypting_reader(
                io::BufReader::with_capacity(256 * 1024, file),
                &ids,
            )?;
            let mut out = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&to)?;
            let n = io::copy(&mut r, &mut out)?;
            out.sync_all()?;
            Ok(n)
        })();
        match result {
            Ok(n) => {
                let _ = std::fs::remove_file(&from);
                Ok(n)
            }
            Err(e) => {
                let _ = std::fs::remove_file(&to);
                Err(e.to_string())
            }
        }
    });
    let n = task
        .await
        .context("the decryption task failed")?
        .map_err(|e| {
            anyhow::anyhow!(
                "{name} could not be decrypted with RESTORE_IDENTITY_FILE: {e} (the identity is not one of the backup's recipients, or the file is damaged); nothing was applied"
            )
        })?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &[u8] = b"-- PostgreSQL database dump\nSELECT 1;\n";

    fn encrypt(pubkey: &str) -> Vec<u8> {
        let rs = crate::transform::parse_recipients(pubkey, "test").unwrap();
        let mut chain =
            crate::transform::Chain::new(vec![crate::transform::encryptor(&rs).unwrap()]);
        let mut out = Vec::new();
        chain.update(TEXT, &mut out).unwrap();
        chain.finish(&mut out).unwrap();
        out
    }

    #[tokio::test]
    async fn the_right_identity_decrypts_a_wrong_one_leaves_nothing() {
        let key = age::x25519::Identity::generate();
        let other = age::x25519::Identity::generate();
        let dir = tempfile::tempdir().unwrap();
        let enc = dir.path().join("a.sql.age");
        std::fs::write(&enc, encrypt(&key.to_public().to_string())).unwrap();

        let wrong = SecretString::from(other.to_string().expose_secret().to_string());
        let to = dir.path().join("a.sql");
        let e = to_file(&enc, to.clone(), &wrong, "a.sql.age")
            .await
            .unwrap_err();
        assert!(e.to_string().contains("could not be decrypted"), "{e}");
        assert!(!e.to_string().contains("AGE-SECRET-KEY"), "{e}");
        assert!(!to.exists() && enc.exists());

        let right = SecretString::from(key.to_string().expose_secret().to_string());
        let n = to_file(&enc, to.clone(), &right, "a.sql.age")
            .await
            .unwrap();
        assert_eq!(n, TEXT.len() as u64);
        assert_eq!(std::fs::read(&to).unwrap(), TEXT);
        assert!(!enc.exists());
    }

    #[test]
    fn names() {
        assert!(is_encrypted("a.sql.zst.age"));
        assert!(!is_encrypted("a.sql.zst"));
        assert_eq!(plain_name("a.sql.zst.age"), "a.sql.zst");
        assert_eq!(plain_name("a.sql"), "a.sql");
    }
}
