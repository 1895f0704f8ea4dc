//! Which objects on the remote are this configuration's backups, and which one a command
//! works on: `latest` (the newest complete one) or an exact name.
//!
//! A backup of this configuration is an object whose name the configured template matches
//! for this database and engine, with any extension the engine can write: BACKUP_COMPRESS
//! or DUMP_EXTRA_ARGS may have changed between runs (a `.sql` yesterday, a `.dump` today),
//! and both are still this database's backups. BACKUP_EXTENSION, when set, counts too.
//! Staging uploads and claims (`.NAME.partial-ID`, `.NAME.claim-ID`), checksum files and
//! foreign files never match.

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use regex::Regex;

use crate::config::Config;
use crate::rclone::{self, Object, Rclone};

/// A backup chosen on the remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    /// The object's name in RCLONE_REMOTE.
    pub name: String,
    /// Its full rclone path (`remote:dir/name`). Holds credentials when RCLONE_REMOTE does:
    /// show it through [`rclone::redact_remote`].
    pub path: String,
    /// -1 when the backend cannot tell.
    pub size: i64,
    pub mod_time: DateTime<Utc>,
    /// The SHA-256 its sidecar records (64 lowercase hex digits); `None` when it has no
    /// sidecar (incomplete). For a folder (directory mode): the SHA-256 its SHA256SUMS must
    /// have when the caller knows it (VERIFY_AFTER_BACKUP), else `None`.
    pub sha256: Option<String>,
}

/// One of this configuration's backups in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    pub name: String,
    /// -1 when the backend cannot tell.
    pub size: i64,
    pub mod_time: DateTime<Utc>,
    /// Whether `NAME.sha256` is beside it: a complete backup. Without it the backup is
    /// incomplete (a killed run, or BACKUP_CHECKSUM=false).
    pub has_sidecar: bool,
}

/// The sidecar's name for a backup.
pub fn sidecar_name(name: &str) -> String {
    format!("{name}.sha256")
}

/// Every extension a backup of this configuration may carry: BACKUP_EXTENSION or the
/// extension of today's settings first, then every one the engine can write, and each of
/// those encrypted (`.age`).
pub fn extensions(cfg: &Config) -> Vec<String> {
    if super::tree::is_tree(cfg) {
        return super::tree::extensions(cfg);
    }
    let mut out = vec![crate::engine::extension(cfg)];
    // An encrypted backup is any of them with `.age` appended, whether or not this
    // configuration encrypts (a restore host normally sets no recipients).
    for e in cfg.engine().known_extensions() {
        for e in [e.to_string(), format!("{e}.age")] {
            if !out.contains(&e) {
                out.push(e);
            }
        }
    }
    out
}

/// The name patterns of this configuration's backups, one per extension.
pub fn matchers(cfg: &Config) -> Vec<Regex> {
    extensions(cfg)
        .iter()
        .map(|ext| cfg.template.matcher(cfg.name_db(), cfg.engine.key(), ext))
        .collect()
}

/// This configuration's backups among `objects` (one folder's listing), newest first (the
/// name breaks ties, newest name first, so the order never depends on the listing's).
pub fn backups(matchers: &[Regex], objects: &[Object]) -> Vec<Backup> {
    let names: std::collections::HashSet<&str> = objects.iter().map(|o| o.name.as_str()).collect();
    let mut out: Vec<Backup> = objects
        .iter()
        .filter(|o| matchers.iter().any(|m| m.is_match(&o.name)))
        .map(|o| Backup {
            name: o.name.clone(),
            size: o.size,
            mod_time: o.mod_time,
            has_sidecar: names.contains(sidecar_name(&o.name).as_str()),
        })
        .collect();
    out.sort_by(|a, b| {
        b.mod_time
            .cmp(&a.mod_time)
            .then_with(|| b.name.cmp(&a.name))
    });
    out
}

/// What this configuration's retention decides for each of `backups` when no backup is
/// being written (`prune`, and `list`'s RETENTION column): the candidates are exactly a run's
/// (names with today's extension; complete ones count), and the newest complete backup is
/// never deleted. Backups with another extension get no verdict.
pub fn retention_verdicts(cfg: &Config, backups: &[Backup]) -> Vec<crate::retention::Verdict> {
    use crate::retention::{self, Current};
    let matcher = cfg.template.matcher(
        cfg.name_db(),
        cfg.engine.key(),
        &crate::engine::extension(cfg),
    );
    let listing: Vec<crate::remote::Entry> = backups
        .iter()
        .filter(|b| matcher.is_match(&b.name))
        .map(|b| crate::remote::Entry {
            name: b.name.clone(),
            mod_time: b.mod_time,
        })
        .collect();
    let complete = |n: &str| {
        backups
            .iter()
            .any(|b| b.name == n && (b.has_sidecar || !cfg.checksum))
    };
    retention::decide(
        &listing,
        |n| matcher.is_match(n),
        complete,
        Current::None,
        cfg.retention,
        cfg.tz,
        Utc::now(),
    )
}

/// List RCLONE_REMOTE: this configuration's backups, newest first. A missing folder is
/// empty; a remote that cannot be listed is an error.
pub async fn list_backups(cfg: &Config, rclone: &Rclone) -> anyhow::Result<Vec<Backup>> {
    if cfg.mode == crate::config::BackupMode::Directory {
        let files = rclone
            .tree(&cfg.remote)
            .await
            .with_context(|| format!("listing {} failed", rclone::redact_remote(&cfg.remote)))?;
        return Ok(super::tree::folders(&matchers(cfg), &files));
    }
    let objects = rclone
        .objects(&cfg.remote)
        .await
        .with_context(|| format!("listing {} failed", rclone::redact_remote(&cfg.remote)))?;
    Ok(backups(&matchers(cfg), &objects))
}

/// What `--backup` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted<'a> {
    Latest,
    Name(&'a str),
}

impl<'a> Wanted<'a> {
    /// `None`, empty and `latest` (any case) mean the newest complete backup.
    pub fn parse(backup: Option<&'a str>) -> Wanted<'a> {
        match backup.map(str::trim) {
            None | Some("") => Wanted::Latest,
            Some(s) if s.eq_ignore_ascii_case("latest") => Wanted::Latest,
            Some(s) => Wanted::Name(s),
        }
    }
}

/// The backup `wanted` names among `backups` (newest first, as [`backups`] sorts them):
/// the pure part of [`select`]. The error names what is there.
pub fn choose<'b>(
    cfg: &Config,
    backups: &'b [Backup],
    wanted: Wanted<'_>,
) -> anyhow::Result<&'b Backup> {
    let remote = rclone::redact_remote(&cfg.remote);
    match wanted {
        Wanted::Latest => {
            if let Some(b) = backups.iter().find(|b| b.has_sidecar) {
                return Ok(b);
            }
            if backups.is_empty() {
                anyhow::bail!(
                    "no backup of this configuration in {remote} (engine {}, database {}, BACKUP_NAME_TEMPLATE {}, extensions {})",
                    cfg.engine.key(),
                    cfg.db_label(),
                    cfg.template,
                    extensions(cfg).join(" ")
                );
            }
            anyhow::bail!(
                "no complete backup of this configuration in {remote}: every one lacks its {} ({}); name one with --backup NAME to use it anyway",
                completion_marker(cfg),
                available(backups)
            );
        }
        Wanted::Name(name) => backups.iter().find(|b| b.name == name).ok_or_else(|| {
            if backups.is_empty() {
                anyhow::anyhow!(
                    "{name} is not a backup of this configuration in {remote}: there are none (engine {}, database {}, BACKUP_NAME_TEMPLATE {})",
                    cfg.engine.key(),
                    cfg.db_label(),
                    cfg.template
                )
            } else {
                anyhow::anyhow!(
                    "{name} is not a backup of this configuration in {remote}; available: {}",
                    available(backups)
                )
            }
        }),
    }
}

/// What makes a backup of this configuration complete, for messages.
pub fn completion_marker(cfg: &Config) -> &'static str {
    if cfg.mode == crate::config::BackupMode::Directory {
        "SHA256SUMS (written last in the folder)"
    } else {
        ".sha256 sidecar"
    }
}

/// The names, newest first, incomplete ones marked; at most 20.
fn available(backups: &[Backup]) -> String {
    const SHOWN: usize = 20;
    let mut names: Vec<String> = backups
        .iter()
        .take(SHOWN)
        .map(|b| {
            if b.has_sidecar {
                b.name.clone()
            } else {
                format!("{} (incomplete)", b.name)
            }
        })
        .collect();
    if backups.len() > SHOWN {
        names.push(format!("… {} more (dbstash list)", backups.len() - SHOWN));
    }
    names.join(", ")
}

/// The longest sidecar read: a SHA-256 line for a name of up to 255 bytes fits many times.
pub const SIDECAR_MAX: u64 = 4096;

/// `latest` (or `None`, or empty: the newest complete backup of this configuration) or an
/// exact object name, which must be one of this configuration's backups (else the error
/// lists the available ones). The SHA-256 comes from the sidecar, read with `rclone cat` and
/// parsed strictly ([`parse_sidecar`]); a backup without a sidecar (only by exact name) is
/// returned with `sha256: None`, and the caller decides (verify fails, restore asks for
/// `--no-verify`).
pub async fn select(
    cfg: &Config,
    rclone: &Rclone,
    backup: Option<&str>,
) -> anyhow::Result<Selected> {
    let backups = list_backups(cfg, rclone).await?;
    let chosen = choose(cfg, &backups, Wanted::parse(backup))?;
    let path = rclone::join(&cfg.remote, &chosen.name);
    let sha256 = if chosen.has_sidecar {
        Some(read_sidecar(rclone, &path, &chosen.name).await?)
    } else {
        None
    };
    Ok(Selected {
        name: chosen.name.clone(),
        path,
        size: chosen.size,
        mod_time: chosen.mod_time,
        sha256,
    })
}

/// [`select`] for any mode, and whether the backup is complete: a folder (directory mode)
/// has its SHA256SUMS (its [`Selected::sha256`] is `None` here: each file has its own hash
/// there), an object its sidecar.
pub async fn select_any(
    cfg: &Config,
    rclone: &Rclone,
    backup: Option<&str>,
) -> anyhow::Result<(Selected, bool)> {
    if cfg.mode != crate::config::BackupMode::Directory {
        let s = select(cfg, rclone, backup).await?;
        let complete = s.sha256.is_some();
        return Ok((s, complete));
    }
    let backups = list_backups(cfg, rclone).await?;
    let chosen = choose(cfg, &backups, Wanted::parse(backup))?;
    Ok((
        Selected {
            name: chosen.name.clone(),
            path: rclone::join(&cfg.remote, &chosen.name),
            size: chosen.size,
            mod_time: chosen.mod_time,
            sha256: None,
        },
        chosen.has_sidecar,
    ))
}

/// The SHA-256 in the sidecar of the backup at `path` (named `name`).
pub async fn read_sidecar(rclone: &Rclone, path: &str, name: &str) -> anyhow::Result<String> {
    let sidecar = format!("{path}.sha256");
    let content = rclone
        .cat_head(&sidecar, SIDECAR_MAX + 1)
        .await
        .with_context(|| {
            format!(
                "reading the checksum file {} failed",
                rclone::redact_remote(&sidecar)
            )
        })?;
    parse_sidecar(&content, name)
        .with_context(|| format!("{} is not a valid checksum file", sidecar_name(name)))
}

/// The SHA-256 (lowercase) in a sidecar for `name`: one line in `sha256sum` format,
/// `<64 hex digits>  NAME` (or ` *NAME`, sha256sum's binary marker), with or without a final
/// newline; sha256sum's escaped form (a leading `\` when the name holds `\` or a newline)
/// too. Anything else is an error: another name, more lines, a short hash.
pub fn parse_sidecar(content: &[u8], name: &str) -> anyhow::Result<String> {
    if content.len() as u64 > SIDECAR_MAX {
        anyhow::bail!("larger than {SIDECAR_MAX} bytes");
    }
    let text = std::str::from_utf8(content).map_err(|_| anyhow::anyhow!("not UTF-8 text"))?;
    let line = text.strip_suffix('\n').unwrap_or(text);
    if line.contains(['\n', '\r']) {
        anyhow::bail!("more than one line (expected '<sha256>  {name}')");
    }
    let (escaped, line) = match line.strip_prefix('\\') {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let (hash, rest) = line.split_at_checked(64).ok_or_else(|| {
        anyhow::anyhow!("too short for a SHA-256 line (expected '<sha256>  {name}')")
    })?;
    if !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        anyhow::bail!("'{hash}' is not a SHA-256 (64 hex digits)");
    }
    let listed = rest
        .strip_prefix("  ")
        .or_else(|| rest.strip_prefix(" *"))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "the hash is not followed by two spaces and the name (expected '<sha256>  {name}')"
            )
        })?;
    let listed = if escaped {
        unescape(listed).ok_or_else(|| anyhow::anyhow!("a bad escape in the name"))?
    } else {
        listed.to_string()
    };
    if listed != name {
        anyhow::bail!("it is for '{listed}', not for '{name}'");
    }
    Ok(hash.to_ascii_lowercase())
}

/// sha256sum's name escapes: `\\` and `\n`.
fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next()? {
                '\\' => out.push('\\'),
                'n' => out.push('\n'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineKind;

    const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn cfg(kind: EngineKind, extra: &[(&str, &str)]) -> Config {
        let mut a = crate::cli::CommonArgs {
            db_host: Some("h".into()),
            db_name: Some("shop".into()),
            rclone_remote: Some("s3:b/x".into()),
            backup_schedule: Some("once".into()),
            ..Default::default()
        };
        for (k, v) in extra {
            match *k {
                "template" => a.backup_name_template = Some(v.to_string()),
                "extension" => a.backup_extension = Some(v.to_string()),
                "compress" => a.backup_compress = Some(v.to_string()),
                _ => unreachable!(),
            }
        }
        Config::resolve(kind, a).unwrap()
    }

    fn obj(name: &str, secs: i64) -> Object {
        Object {
            name: name.into(),
            size: 10,
            mod_time: DateTime::from_timestamp(1_770_000_000 + secs, 0).unwrap(),
            tag: None,
        }
    }

    #[test]
    fn sidecars_are_parsed_strictly() {
        let n = "shop-2026-02-07-020000.sql";
        for ok in [
            format!("{HASH}  {n}\n"),
            format!("{HASH}  {n}"),
            format!("{HASH} *{n}\n"),
            format!("{}  {n}\n", HASH.to_uppercase()),
        ] {
            assert_eq!(parse_sidecar(ok.as_bytes(), n).unwrap(), HASH, "{ok:?}");
        }
        let odd = "a\\b.sql";
        assert_eq!(
            parse_sidecar(format!("\\{HASH}  a\\\\b.sql\n").as_bytes(), odd).unwrap(),
            HASH
        );
        assert_eq!(
            parse_sidecar(format!("{HASH}  a\\b.sql\n").as_bytes(), odd).unwrap(),
            HASH,
            "dbstash writes names as they are"
        );
        for (bad, why) in [
            (format!("{HASH}  other.sql\n"), "not for 'shop"),
            (format!("{HASH} {n}\n"), "two spaces"),
            (format!("{HASH}  {n}\n\n"), "more than one line"),
            (format!("{HASH}  {n}\r\n"), "more than one line"),
            (format!("{HASH}  {n}\n{HASH}  {n}\n"), "more than one line"),
            (format!("{}  {n}\n", &HASH[1..]), "not a SHA-256"),
            (format!("{}g  {n}\n", &HASH[1..]), "not a SHA-256"),
            ("abc".to_string(), "too short"),
            (String::new(), "too short"),
            (format!("{HASH}  {n}\n{}", "x".repeat(5000)), "larger than"),
        ] {
            let e = parse_sidecar(bad.as_bytes(), n).unwrap_err().to_string();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
        assert!(parse_sidecar(b"\xff\xfe", n).is_err());
    }

    #[test]
    fn backups_of_this_configuration_with_any_extension_newest_first() {
        let c = cfg(EngineKind::Pg, &[]);
        let objects = [
            obj("shop-2026-02-01-020000.sql", 1),
            obj("shop-2026-02-01-020000.sql.sha256", 1),
            obj("shop-2026-02-02-020000.dump", 2),
            obj("shop-2026-02-02-020000.dump.sha256", 2),
            obj("shop-2026-02-03-020000.sql.gz", 3), // no sidecar: incomplete
            obj(".shop-2026-02-04-020000.sql.partial-0a1b2c3d", 4),
            obj(".shop-2026-02-04-020000.sql.claim-0a1b2c3d", 4),
            obj("shop2-2026-02-05-020000.sql", 5),
            obj("shop-2026-02-05-020000.rdb", 5),
            obj("notes.txt", 6),
            obj("shop-latest.sql", 6),
        ];
        let found = backups(&matchers(&c), &objects);
        let names: Vec<(&str, bool)> = found
            .iter()
            .map(|b| (b.name.as_str(), b.has_sidecar))
            .collect();
        assert_eq!(
            names,
            [
                ("shop-2026-02-03-020000.sql.gz", false),
                ("shop-2026-02-02-020000.dump", true),
                ("shop-2026-02-01-020000.sql", true),
            ]
        );
        assert_eq!(
            choose(&c, &found, Wanted::Latest).unwrap().name,
            "shop-2026-02-02-020000.dump",
            "latest skips the incomplete one"
        );
        let b = choose(&c, &found, Wanted::Name("shop-2026-02-03-020000.sql.gz")).unwrap();
        assert!(!b.has_sidecar);
        let e = choose(&c, &found, Wanted::Name("notes.txt"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("notes.txt is not a backup of this configuration in s3:b/x; available: shop-2026-02-03-020000.sql.gz (incomplete), shop-2026-02-02-020000.dump, shop-2026-02-01-020000.sql"),
            "{e}"
        );
    }

    #[test]
    fn ties_in_time_are_broken_by_name() {
        let c = cfg(EngineKind::Mysql, &[]);
        let objects = [
            obj("shop-2026-02-01-020000.sql", 1),
            obj("shop-2026-02-01-020001.sql", 1),
        ];
        let found = backups(&matchers(&c), &objects);
        assert_eq!(found[0].name, "shop-2026-02-01-020001.sql");
    }

    #[test]
    fn latest_needs_a_complete_backup() {
        let c = cfg(EngineKind::Redis, &[]);
        let e = choose(&c, &[], Wanted::Latest).unwrap_err().to_string();
        assert!(
            e.contains("no backup of this configuration in s3:b/x"),
            "{e}"
        );
        assert!(e.contains("extensions .rdb"), "{e}");
        let only = backups(&matchers(&c), &[obj("shop-2026-02-01-020000.rdb", 1)]);
        let e = choose(&c, &only, Wanted::Latest).unwrap_err().to_string();
        assert!(e.contains("no complete backup"), "{e}");
        assert!(e.contains("shop-2026-02-01-020000.rdb (incomplete)"), "{e}");
        let e = choose(&c, &[], Wanted::Name("x.rdb"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("there are none"), "{e}");
    }

    #[test]
    fn a_custom_extension_and_template_count() {
        let c = cfg(
            EngineKind::Mongo,
            &[("template", "{engine}_{db}_{ts}"), ("extension", "bak")],
        );
        assert_eq!(
            extensions(&c),
            [
                ".bak",
                ".archive",
                ".archive.age",
                ".archive.gz",
                ".archive.gz.age",
                ".archive.zst",
                ".archive.zst.age"
            ]
        );
        let found = backups(
            &matchers(&c),
            &[
                obj("mongo_shop_1770000000.bak", 1),
                obj("mongo_shop_1770000001.archive.gz", 2),
                obj("pg_shop_1770000002.bak", 3),
            ],
        );
        assert_eq!(found.len(), 2);
    }

    #[test]
    fn wanted_reads_latest_in_any_case() {
        assert_eq!(Wanted::parse(None), Wanted::Latest);
        assert_eq!(Wanted::parse(Some(" ")), Wanted::Latest);
        assert_eq!(Wanted::parse(Some("LATEST")), Wanted::Latest);
        assert_eq!(Wanted::parse(Some("a.sql")), Wanted::Name("a.sql"));
    }
}
