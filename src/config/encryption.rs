//! BACKUP_ENCRYPT_RECIPIENTS[_FILE] and RESTORE_IDENTITY_FILE read as text: which variable
//! gave the recipients, and the identity file's content (a secret). The keys themselves are
//! parsed by `setup` with `transform` (config knows no transform).

use secrecy::SecretString;

use crate::input::{nonempty, read_regular_file, ConfigError};

/// The largest recipients or identity file read (an RSA private key is about 3.4 KiB).
const KEY_FILE_MAX: u64 = 64 * 1024;

/// Where the age recipients came from, and their text (public keys: not secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipients {
    /// `BACKUP_ENCRYPT_RECIPIENTS` or `BACKUP_ENCRYPT_RECIPIENTS_FILE`, for errors.
    pub var: &'static str,
    pub text: String,
}

/// The encryption settings, as read.
#[derive(Debug, Clone, Default)]
pub struct Encryption {
    /// Encrypt backups to these (age); `None`: backups are not encrypted.
    pub recipients: Option<Recipients>,
    /// RESTORE_IDENTITY_FILE's content: decrypts `.age` backups in restore and verify.
    pub identity: Option<SecretString>,
    /// RESTORE_IDENTITY_FILE's path, for messages.
    pub identity_path: Option<String>,
}

impl Encryption {
    /// Read the variables. Both BACKUP_ENCRYPT_RECIPIENTS and its `_FILE` set is an error:
    /// two lists of who can read the backups must not be settled silently. An identity file
    /// readable by others is a warning in `warnings`.
    pub fn parse(
        recipients: &Option<String>,
        recipients_file: &Option<String>,
        identity_file: &Option<String>,
        warnings: &mut Vec<String>,
    ) -> Result<Encryption, ConfigError> {
        let recipients = match (nonempty(recipients), nonempty(recipients_file)) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::combo(
                    "BACKUP_ENCRYPT_RECIPIENTS (--backup-encrypt-recipients) and BACKUP_ENCRYPT_RECIPIENTS_FILE (--backup-encrypt-recipients-file)",
                    "both are set: give the recipients in one of them (two lists of who can read the backups are not merged or overridden silently)",
                ))
            }
            (Some(text), None) => Some(Recipients {
                var: "BACKUP_ENCRYPT_RECIPIENTS",
                text: text.to_string(),
            }),
            (None, Some(path)) => {
                let var = "BACKUP_ENCRYPT_RECIPIENTS_FILE";
                let bytes = read_regular_file(var, path, KEY_FILE_MAX)?;
                let text = String::from_utf8(bytes).map_err(|_| {
                    ConfigError::var(var, format!("'{path}' is not UTF-8 text: expected one public key per line"))
                })?;
                Some(Recipients { var, text })
            }
            (None, None) => None,
        };
        let (identity, identity_path) = match nonempty(identity_file) {
            None => (None, None),
            Some(path) => {
                let var = "RESTORE_IDENTITY_FILE";
                let bytes = read_regular_file(var, path, KEY_FILE_MAX)?;
                // Never echo the content: it is a secret key.
                let text = String::from_utf8(bytes).map_err(|_| {
                    ConfigError::var(var, format!("'{path}' is not UTF-8 text: expected an age identity file or an SSH private key"))
                })?;
                if text.trim().is_empty() {
                    return Err(ConfigError::var(var, format!("'{path}' is empty: expected an age identity file or an SSH private key")));
                }
                if let Some(mode) = group_or_world_readable(path) {
                    warnings.push(format!(
                        "RESTORE_IDENTITY_FILE '{path}' is readable by other users (mode {mode:o}): it holds a secret key (chmod 600 it)"
                    ));
                }
                (Some(SecretString::from(text)), Some(path.to_string()))
            }
        };
        Ok(Encryption {
            recipients,
            identity,
            identity_path,
        })
    }
}

/// The file's permission bits when group or others may read it.
fn group_or_world_readable(path: &str) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o044 != 0).then_some(mode)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn recipients_from_the_variable_or_the_file_not_both() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("r.txt");
        std::fs::write(&f, "# backups\nage1abc\n").unwrap();
        let f = f.to_string_lossy().into_owned();
        let mut w = Vec::new();
        let e = Encryption::parse(&None, &s(&f), &None, &mut w).unwrap();
        assert_eq!(e.recipients.unwrap().var, "BACKUP_ENCRYPT_RECIPIENTS_FILE");
        let e = Encryption::parse(&s("age1x"), &None, &None, &mut w).unwrap();
        assert_eq!(e.recipients.unwrap().text, "age1x");
        let e = Encryption::parse(&None, &None, &None, &mut w).unwrap();
        assert!(e.recipients.is_none() && e.identity.is_none());
        assert!(w.is_empty());
    }

    #[test]
    fn every_file_rule_names_its_variable() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_string_lossy().into_owned();
        let missing = dir.path().join("nope").to_string_lossy().into_owned();
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'a'; 70 * 1024]).unwrap();
        let big = big.to_string_lossy().into_owned();
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").unwrap();
        let empty = empty.to_string_lossy().into_owned();
        let mut w = Vec::new();
        let both = Encryption::parse(&s("age1x"), &s(&big), &None, &mut w).unwrap_err();
        assert!(
            both.subject.contains("BACKUP_ENCRYPT_RECIPIENTS_FILE"),
            "{both}"
        );
        assert!(both.message.contains("both are set"), "{both}");
        for path in [&d, &missing, &big] {
            let e = Encryption::parse(&None, &s(path), &None, &mut w).unwrap_err();
            assert_eq!(
                e.subject, "BACKUP_ENCRYPT_RECIPIENTS_FILE (--backup-encrypt-recipients-file)",
                "{e}"
            );
            let e = Encryption::parse(&None, &None, &s(path), &mut w).unwrap_err();
            assert_eq!(
                e.subject, "RESTORE_IDENTITY_FILE (--restore-identity-file)",
                "{e}"
            );
        }
        let e = Encryption::parse(&None, &None, &s(&empty), &mut w).unwrap_err();
        assert!(e.message.contains("is empty"), "{e}");
    }

    #[test]
    fn an_identity_readable_by_others_is_a_warning_and_its_content_is_kept_secret() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("key.txt");
        std::fs::write(&f, "AGE-SECRET-KEY-1SECRET\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        let p = f.to_string_lossy().into_owned();
        let mut w = Vec::new();
        let e = Encryption::parse(&None, &None, &s(&p), &mut w).unwrap();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("RESTORE_IDENTITY_FILE") && w[0].contains("644"),
            "{w:?}"
        );
        assert!(!format!("{e:?}").contains("SECRET\n"), "{e:?}");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut w = Vec::new();
        Encryption::parse(&None, &None, &s(&p), &mut w).unwrap();
        assert!(w.is_empty(), "{w:?}");
    }
}
