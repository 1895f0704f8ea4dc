//! From the command line to a [`Config`] the run can trust: `config` reads and checks every
//! setting (it knows no engine's behaviour), then the engine's own rules, the checks that
//! need the engine's extension, and the registration of every secret with
//! [`crate::redact`]. One layer above `config`, `engine` and `rclone`, so none of them
//! imports another to get there.

use secrecy::ExposeSecret as _;

use crate::cli::{Cli, CommonArgs};
use crate::config::{Config, ConfigError};
use crate::engine::EngineKind;

impl Config {
    /// The whole configuration of a command line: [`Config::resolve`] for the engine it names.
    pub fn from_cli(cli: Cli) -> Result<Config, ConfigError> {
        let (kind, common) = Config::engine_and_args(cli)?;
        Config::resolve(kind, common)
    }

    /// [`Config::parse`], then what the engine says about the result (its hard errors and
    /// warnings), and the checks that hold for every engine once it has spoken.
    pub fn resolve(kind: EngineKind, a: CommonArgs) -> Result<Config, ConfigError> {
        let mut config = Config::parse(kind, a)?;
        // With BACKUP_SPLIT_DATABASES each database is a single-database backup: the engine
        // judges that (one named `db` stands for all), and pg's globals object.
        let one = config.split.as_ref().map(|_| config.for_database("db"));
        let checked = one.as_ref().unwrap_or(&config);
        let engine_warnings = kind.engine().check(checked)?;
        if config.split.is_some() {
            kind.engine().check_split(&config)?;
            if kind == EngineKind::Pg {
                kind.engine().check(&config.for_globals())?;
            }
        }
        let compression_warnings = crate::engine::check_compression(checked)?;
        config.warnings.extend(engine_warnings);
        config.warnings.extend(compression_warnings);
        if config.conn.auth_source.is_some() && kind != EngineKind::Mongo {
            config
                .warnings
                .push("DB_AUTH_SOURCE is ignored: it applies to mongo only".into());
        }
        let checked = one.as_ref().unwrap_or(&config);
        check_encryption(checked)?;
        check_name_length(checked)?;
        Ok(config)
    }

    /// Register every secret value with [`crate::redact`], so no output carries it.
    pub fn register_secrets(&self) {
        let mut secrets: Vec<&str> = Vec::new();
        if let Some(p) = &self.conn.password {
            secrets.push(p.expose_secret());
        }
        if let Some(w) = &self.notify.webhook {
            secrets.push(w.url.expose_secret());
        }
        if let Some(p) = &self.notify.ping {
            secrets.push(p.expose_secret());
        }
        if let Some(p) = self.notify.email.as_ref().and_then(|e| e.password.as_ref()) {
            secrets.push(p.expose_secret());
        }
        if let Some(id) = &self.encryption.identity {
            secrets.push(id.expose_secret());
            // Each line too: an error quoting one line of the key must not show it.
            secrets.extend(
                id.expose_secret()
                    .lines()
                    .map(str::trim)
                    // Not the comments (age-keygen's `# public key: age1…` is public) nor
                    // PEM armour lines.
                    .filter(|l| l.len() >= 16 && !l.starts_with('#') && !l.starts_with("-----")),
            );
        }
        for s in secrets {
            crate::redact::register(s);
        }
        // Secrets passed on without being dbstash's own: flag values, inline credentials.
        crate::redact::register_all(crate::engine::dump_secrets(self));
        crate::redact::register_all(crate::rclone::secrets(self));
    }
}

/// The longest name this configuration can render (every token at its widest: the date of
/// year 9999 in TZ, the longest `{ts}`), plus the staging suffix, must fit in one path
/// component of the remote; else every upload would fail after the whole dump was streamed.
fn check_name_length(c: &Config) -> Result<(), ConfigError> {
    use chrono::TimeZone as _;
    // Late in year 9999: the year still has four digits in every zone, and `{ts}` has 12,
    // more than any real run's.
    let widest = chrono::Utc
        .with_ymd_and_hms(9999, 12, 30, 23, 59, 59)
        .single()
        .map(|t| t.with_timezone(&c.tz));
    let Some(now) = widest else { return Ok(()) };
    let extension = crate::engine::extension(c);
    let name = c.template.render(&crate::template::NameVars {
        db: c.name_db(),
        engine: c.engine.key(),
        now,
        uuid: "ffffffff",
    });
    let longest = name.len() + extension.len() + crate::config::limits::NAME_SUFFIX_BYTES;
    if longest <= crate::config::limits::NAME_BYTES {
        return Ok(());
    }
    let db: String = c.db_label().chars().take(40).collect();
    Err(ConfigError::var(
        "BACKUP_NAME_TEMPLATE",
        format!(
            "'{}' renders names of up to {} bytes with database '{db}{}' and extension '{extension}', and {} more on the remote while uploading: over the {} bytes a file name may have on most backends (shorten the template, BACKUP_EXTENSION or DB_NAME)",
            c.template,
            name.len() + extension.len(),
            if db.len() < c.db_label().len() { "…" } else { "" },
            crate::config::limits::NAME_SUFFIX_BYTES,
            crate::config::limits::NAME_BYTES,
        ),
    ))
}

/// The keys of BACKUP_ENCRYPT_RECIPIENTS[_FILE] and RESTORE_IDENTITY_FILE parse; directory
/// mode is refused with encryption (its files are uploaded as the dump tool wrote them).
fn check_encryption(config: &Config) -> Result<(), ConfigError> {
    let enc = &config.encryption;
    if let Some(r) = &enc.recipients {
        crate::transform::parse_recipients(&r.text, r.var)
            .map_err(|e| ConfigError::var(r.var, strip_var(&e, r.var)))?;
        if config.mode == crate::config::BackupMode::Directory {
            return Err(ConfigError::var(
                "BACKUP_MODE",
                format!("directory cannot be combined with {}: its files are uploaded as the dump tool wrote them, unencrypted; use BACKUP_MODE=tar (one encrypted .tar.age) or stream", r.var),
            ));
        }
        if let Some(e) = config.extension.as_deref().filter(|e| !e.ends_with(".age")) {
            return Err(ConfigError::var(
                "BACKUP_EXTENSION",
                format!("{e} does not end with .age, but the backup is encrypted ({}): restore, verify and retention tell an encrypted backup by its name", r.var),
            ));
        }
    }
    if let Some(id) = &enc.identity {
        crate::transform::parse_identities(id.expose_secret(), "RESTORE_IDENTITY_FILE")
            .map(drop)
            .map_err(|e| {
                ConfigError::var(
                    "RESTORE_IDENTITY_FILE",
                    strip_var(&e, "RESTORE_IDENTITY_FILE"),
                )
            })?;
    }
    Ok(())
}

/// `transform`'s messages start with the name they were given; [`ConfigError::var`] adds it.
fn strip_var(message: &str, var: &str) -> String {
    message
        .strip_prefix(var)
        .and_then(|m| m.strip_prefix(": "))
        .unwrap_or(message)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: &str = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

    fn args() -> CommonArgs {
        CommonArgs {
            db_host: Some("h".into()),
            db_name: Some("shop".into()),
            rclone_remote: Some("s3:b".into()),
            backup_schedule: Some("once".into()),
            ..CommonArgs::default()
        }
    }

    fn resolve(a: CommonArgs) -> Result<Config, ConfigError> {
        Config::resolve(EngineKind::Pg, a)
    }

    #[test]
    fn recipients_are_checked_and_name_their_variable() {
        let secret = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ";
        for (value, says) in [
            ("age1nonsense", "not an age public key"),
            ("ssh-ed25519 AAAAnotbase64", "not a usable SSH public key"),
            ("hello", "neither an age public key"),
            (" , ", "no recipient given"),
            (secret, "*secret* key"),
        ] {
            let e = resolve(CommonArgs {
                backup_encrypt_recipients: Some(value.into()),
                ..args()
            })
            .unwrap_err();
            assert_eq!(
                e.subject, "BACKUP_ENCRYPT_RECIPIENTS (--backup-encrypt-recipients)",
                "{e}"
            );
            assert!(e.message.contains(says), "{value}: {e}");
            assert!(!e.to_string().contains("QQQQQQQQ"), "{e}");
            assert!(
                !e.message.starts_with("BACKUP_ENCRYPT_RECIPIENTS"),
                "named once: {e}"
            );
        }
        let c = resolve(CommonArgs {
            backup_encrypt_recipients: Some(format!("{PUBLIC}, {PUBLIC}")),
            ..args()
        })
        .unwrap();
        assert_eq!(crate::engine::extension(&c), ".sql.age");
    }

    #[test]
    fn directory_mode_and_an_extension_without_age_are_refused() {
        let e = resolve(CommonArgs {
            backup_encrypt_recipients: Some(PUBLIC.into()),
            backup_mode: Some("directory".into()),
            ..args()
        })
        .unwrap_err();
        assert_eq!(e.subject, "BACKUP_MODE (--backup-mode)", "{e}");
        let e = resolve(CommonArgs {
            backup_encrypt_recipients: Some(PUBLIC.into()),
            backup_extension: Some(".sql".into()),
            ..args()
        })
        .unwrap_err();
        assert_eq!(e.subject, "BACKUP_EXTENSION (--backup-extension)", "{e}");
        let c = resolve(CommonArgs {
            backup_encrypt_recipients: Some(PUBLIC.into()),
            backup_extension: Some(".sql.age".into()),
            ..args()
        })
        .unwrap();
        assert_eq!(crate::engine::extension(&c), ".sql.age");
        let c = resolve(CommonArgs {
            backup_encrypt_recipients: Some(PUBLIC.into()),
            backup_mode: Some("tar".into()),
            backup_compress: Some("true".into()),
            dump_extra_args: Some("--compress=0".into()),
            ..args()
        })
        .unwrap();
        assert_eq!(crate::engine::extension(&c), ".tar.zst.age");
    }

    #[test]
    fn an_identity_file_without_a_key_is_refused_without_echoing_it() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.txt");
        std::fs::write(&bad, "hunter2-not-a-key\n").unwrap();
        std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o600)).unwrap();
        let e = resolve(CommonArgs {
            restore_identity_file: Some(bad.to_string_lossy().into_owned()),
            ..args()
        })
        .unwrap_err();
        assert_eq!(
            e.subject, "RESTORE_IDENTITY_FILE (--restore-identity-file)",
            "{e}"
        );
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let good = dir.path().join("key.txt");
        let key = age::x25519::Identity::generate();
        std::fs::write(
            &good,
            format!("# key\n{}\n", key.to_string().expose_secret()),
        )
        .unwrap();
        std::fs::set_permissions(&good, std::fs::Permissions::from_mode(0o600)).unwrap();
        let c = resolve(CommonArgs {
            restore_identity_file: Some(good.to_string_lossy().into_owned()),
            ..args()
        })
        .unwrap();
        assert!(c.encryption.identity.is_some());
        assert!(c
            .warnings
            .iter()
            .all(|w| !w.contains("RESTORE_IDENTITY_FILE")));
    }
}
