//! `dbstash list`: this configuration's backups on the remote, newest first, as a table or
//! as one JSON array (`--format json`, LIST_FORMAT) for scripts.
//!
//! A backup is `ok` when its `.sha256` sidecar is beside it, `incomplete` when not (a killed
//! run, or BACKUP_CHECKSUM=false): `restore` and `verify` refuse those unless named. Staging
//! uploads, claims and foreign files are never listed (see [`super::select`]).

use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use chrono_tz::Tz;
use serde::Serialize;
use tracing::error;

use super::select::{self, Backup};
use super::settings::ListArgs;
use crate::config::Config;
use crate::rclone::{self, Rclone};
use crate::shutdown::{Cancel, Shutdown};
use crate::{EXIT_BACKUP_FAILED, EXIT_BAD_CONFIG};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// LIST_FORMAT / `--format`: `text` (the default) or `json`, in any case.
pub fn parse_format(v: Option<&str>) -> Result<Format, String> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(Format::Text),
        Some(v) if v.eq_ignore_ascii_case("text") => Ok(Format::Text),
        Some(v) if v.eq_ignore_ascii_case("json") => Ok(Format::Json),
        Some(v) => Err(format!(
            "invalid configuration: LIST_FORMAT (--format): unknown format '{v}' (expected text or json)"
        )),
    }
}

/// One backup as `--format json` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// BACKUP_SPLIT_DATABASES: the database the object holds (`globals`: PostgreSQL's roles
    /// and tablespaces); absent for other configurations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    pub name: String,
    /// The rclone path, credentials redacted.
    pub path: String,
    /// The object's time on the remote (its upload), RFC 3339 in TZ.
    pub time: String,
    /// Bytes; `null` when the backend cannot tell.
    pub size: Option<u64>,
    /// `ok` (sidecar present) or `incomplete` (none).
    pub state: &'static str,
    /// The sidecar's SHA-256; `null` without one, or when it could not be read.
    pub sha256: Option<String>,
    /// With RETENTION_* set: what retention would do with it, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention: Option<Retention>,
    /// Why the sidecar could not be read (only then).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sidecar_error: Option<String>,
}

pub fn state(b: &Backup) -> &'static str {
    if b.has_sidecar {
        "ok"
    } else {
        "incomplete"
    }
}

fn time_in(b: &Backup, tz: Tz) -> chrono::DateTime<Tz> {
    b.mod_time.with_timezone(&tz)
}

/// `1.2 MiB`, `512 B`; `?` when unknown.
pub fn human_size(size: i64) -> String {
    if size < 0 {
        return "?".into();
    }
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if size < 1024 {
        return format!("{size} B");
    }
    let mut v = size as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// The table: a header, one line per backup, and a summary line. `remote` is shown as is
/// (redact it first).
pub fn render_text(backups: &[Backup], tz: Tz, remote: &str, marker: &str) -> String {
    let entries: Vec<Entry> = backups.iter().cloned().map(Entry::from).collect();
    render_table(&entries, tz, remote, marker)
}

/// One line of the listing: a backup, and its database for a split configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub database: Option<String>,
    pub backup: Backup,
    /// A directory-mode folder: no one SHA-256 to show.
    pub folder: bool,
    /// What retention says of it (with RETENTION_* set; `prune`).
    pub retention: Option<Retention>,
}

/// Retention's verdict on one backup, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Retention {
    /// `keep`, `would delete`; `prune` also says `deleted` and `delete failed`.
    pub verdict: &'static str,
    /// The rules that keep it, or what expires it.
    pub why: String,
}

impl From<Backup> for Entry {
    fn from(backup: Backup) -> Entry {
        Entry {
            database: None,
            backup,
            folder: false,
            retention: None,
        }
    }
}

impl From<super::split::Item> for Entry {
    fn from(i: super::split::Item) -> Entry {
        Entry {
            database: Some(i.slot.to_string()),
            backup: i.backup,
            folder: i.folder,
            retention: None,
        }
    }
}

/// This configuration's backups, newest first, as `list` shows them; for a split
/// configuration also each one's database (its slot).
pub async fn entries(
    cfg: &Config,
    rclone: &Rclone,
) -> anyhow::Result<(Vec<Entry>, Option<Vec<crate::template::DbSlot>>)> {
    if super::split::is_split(cfg) {
        let items = super::split::list(cfg, rclone).await?;
        let slots = items.iter().map(|i| i.slot.clone()).collect();
        return Ok((items.into_iter().map(Entry::from).collect(), Some(slots)));
    }
    let folder = cfg.mode == crate::config::BackupMode::Directory;
    let entries = select::list_backups(cfg, rclone)
        .await?
        .into_iter()
        .map(|backup| Entry {
            folder,
            ..Entry::from(backup)
        })
        .collect();
    Ok((entries, None))
}

/// Retention's verdicts (without a new backup, as `prune` decides) on `entries`, each
/// database of a split configuration apart; `slots` gives each entry's database then.
/// Backups that are not candidates (another extension) get none.
pub fn with_verdicts(
    cfg: &Config,
    mut entries: Vec<Entry>,
    slots: Option<&[crate::template::DbSlot]>,
) -> Vec<Entry> {
    let mut groups: Vec<(Config, Vec<usize>)> = Vec::new();
    match slots {
        None => groups.push((cfg.clone(), (0..entries.len()).collect())),
        Some(slots) => {
            let mut distinct: Vec<&crate::template::DbSlot> = slots.iter().collect();
            distinct.sort();
            distinct.dedup();
            for slot in distinct {
                let members = (0..entries.len()).filter(|&i| &slots[i] == slot).collect();
                groups.push((super::split::slot_config(cfg, slot), members));
            }
        }
    }
    for (unit, members) in groups {
        let backups: Vec<Backup> = members.iter().map(|&i| entries[i].backup.clone()).collect();
        for v in select::retention_verdicts(&unit, &backups) {
            if let Some(&i) = members.iter().find(|&&i| entries[i].backup.name == v.name) {
                entries[i].retention = Some(Retention {
                    verdict: if v.keep { "keep" } else { "would delete" },
                    why: v.why,
                });
            }
        }
    }
    entries
}

/// [`render_text`], with a DATABASE column first when the entries have one.
pub fn render_table(entries: &[Entry], tz: Tz, remote: &str, marker: &str) -> String {
    let mut out = String::new();
    let backups: Vec<&Backup> = entries.iter().map(|e| &e.backup).collect();
    let name_w = backups
        .iter()
        .map(|b| b.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    let db_w = entries
        .iter()
        .filter_map(|e| e.database.as_ref())
        .map(|d| d.chars().count())
        .max()
        .map(|w| w.max("DATABASE".len()));
    let db_cell = |d: Option<&str>| match db_w {
        Some(w) => format!("{:<w$}  ", d.unwrap_or_default()),
        None => String::new(),
    };
    let time_head = format!("TIME ({})", tz.name());
    // RETENTION last, when there are verdicts: its reasons are long.
    let verdicts = entries.iter().any(|e| e.retention.is_some());
    let _ = writeln!(
        out,
        "{}{:<name_w$}  {:<25}  {:>10}  {}",
        db_cell(Some("DATABASE")),
        "NAME",
        time_head,
        "SIZE",
        if verdicts {
            format!("{:<10}  RETENTION", "CHECKSUM")
        } else {
            "CHECKSUM".into()
        }
    );
    for e in entries {
        let b = &e.backup;
        let checksum = if verdicts {
            let r = e.retention.as_ref().map_or_else(
                || "-: not a candidate (another extension than today's)".to_string(),
                |r| format!("{}: {}", r.verdict, r.why),
            );
            format!("{:<10}  {r}", state(b))
        } else {
            state(b).to_string()
        };
        let _ = writeln!(
            out,
            "{}{:<name_w$}  {:<25}  {:>10}  {checksum}",
            db_cell(e.database.as_deref()),
            b.name,
            time_in(b, tz).format("%Y-%m-%d %H:%M:%S %:z").to_string(),
            human_size(b.size),
        );
    }
    let incomplete = backups.iter().filter(|b| !b.has_sidecar).count();
    let _ = write!(
        out,
        "{} backup{} in {remote}",
        backups.len(),
        if backups.len() == 1 { "" } else { "s" }
    );
    if incomplete > 0 {
        let _ = write!(out, " ({incomplete} incomplete: no {marker})");
    }
    out.push('\n');
    out
}

/// The JSON rows, each sidecar's SHA-256 read (up to [`SIDECAR_READS`] at a time).
async fn rows(cfg: &Config, rclone: Arc<Rclone>, entries: &[Entry]) -> Vec<Row> {
    let mut shas: Vec<Option<Result<String, String>>> = vec![None; entries.len()];
    let mut set = tokio::task::JoinSet::new();
    let mut next = 0;
    loop {
        while set.len() < SIDECAR_READS && next < entries.len() {
            let i = next;
            next += 1;
            // A folder has no one hash: each of its files has its own in its SHA256SUMS.
            if !entries[i].backup.has_sidecar || entries[i].folder {
                continue;
            }
            let rclone = rclone.clone();
            let name = entries[i].backup.name.clone();
            let path = rclone::join(&cfg.remote, &name);
            set.spawn(async move {
                let r = select::read_sidecar(&rclone, &path, &name)
                    .await
                    .map_err(|e| format!("{e:#}"));
                (i, r)
            });
        }
        match set.join_next().await {
            Some(Ok((i, r))) => shas[i] = Some(r),
            Some(Err(e)) => error!("reading a checksum file: {e}"),
            None => break,
        }
    }
    entries
        .iter()
        .zip(shas)
        .map(|(e, sha)| (&e.backup, e.database.clone(), e.retention.clone(), sha))
        .map(|(b, database, retention, sha)| Row {
            database,
            retention,
            name: b.name.clone(),
            path: rclone::redact_remote(&rclone::join(&cfg.remote, &b.name)),
            time: time_in(b, cfg.tz).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            size: u64::try_from(b.size).ok(),
            state: state(b),
            sidecar_error: sha
                .as_ref()
                .and_then(|r| r.as_ref().err())
                .map(|e| crate::redact::redact(e)),
            sha256: sha.and_then(Result::ok),
        })
        .collect()
}

/// Sidecars read at once for `--format json`.
const SIDECAR_READS: usize = 8;

/// `dbstash list`: exit 0 (an empty list too), 1 when the remote cannot be listed, 2 for a
/// bad LIST_FORMAT.
pub async fn run(cfg: &Config, args: &ListArgs) -> ExitCode {
    let split = super::split::is_split(cfg);
    let checked = if split {
        super::split::check_mode(cfg)
    } else {
        super::tree::check_mode(cfg)
    };
    if let Err(e) = checked {
        eprintln!("dbstash: invalid configuration: {e}");
        return ExitCode::from(EXIT_BAD_CONFIG);
    }
    let format = match parse_format(args.format.as_deref()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("dbstash: {e}");
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    let result = async {
        let mut shutdown = Shutdown::new()?;
        let mut cancel = Cancel::new(&mut shutdown, cfg.timeout);
        let rclone = Arc::new(Rclone::new(cfg)?);
        let (entries, slots) = cancel.guard(entries(cfg, &rclone)).await?;
        let entries = if cfg.retention.is_on() {
            with_verdicts(cfg, entries, slots.as_deref())
        } else {
            entries
        };
        let out = match format {
            Format::Text if entries.is_empty() && split => super::split::empty_listing(cfg),
            Format::Text if entries.is_empty() => format!(
                "no backups of this configuration in {} (engine {}, database {}, BACKUP_NAME_TEMPLATE {}, extensions {})\n",
                rclone::redact_remote(&cfg.remote),
                cfg.engine.key(),
                cfg.db_label(),
                cfg.template,
                select::extensions(cfg).join(" ")
            ),
            Format::Text => render_table(
                &entries,
                cfg.tz,
                &rclone::redact_remote(&cfg.remote),
                match (cfg.mode == crate::config::BackupMode::Directory, split) {
                    (true, false) => "SHA256SUMS",
                    // The globals object is a stream beside the folders.
                    (true, true) => "SHA256SUMS or .sha256 sidecar",
                    _ => ".sha256 sidecar",
                },
            ),
            Format::Json => {
                let rows = cancel
                    .guard(async { Ok(rows(cfg, rclone.clone(), &entries).await) })
                    .await?;
                let mut s = serde_json::to_string_pretty(&rows)?;
                s.push('\n');
                s
            }
        };
        anyhow::Ok(out)
    }
    .await;
    match result {
        Ok(out) => {
            print!("{}", crate::redact::redact(&out));
            ExitCode::SUCCESS
        }
        Err(e) => {
            error!(
                engine = cfg.engine.key(),
                database = cfg.db_label(),
                error = %format!("{e:#}"),
                "list failed"
            );
            ExitCode::from(EXIT_BACKUP_FAILED)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backup(name: &str, secs: i64, size: i64, has_sidecar: bool) -> Backup {
        Backup {
            name: name.into(),
            size,
            mod_time: chrono::DateTime::from_timestamp(1_770_496_200 + secs, 0).unwrap(),
            has_sidecar,
        }
    }

    #[test]
    fn formats() {
        assert_eq!(parse_format(None), Ok(Format::Text));
        assert_eq!(parse_format(Some("")), Ok(Format::Text));
        assert_eq!(parse_format(Some("JSON")), Ok(Format::Json));
        assert_eq!(parse_format(Some("text")), Ok(Format::Text));
        let e = parse_format(Some("yaml")).unwrap_err();
        assert!(
            e.contains("LIST_FORMAT (--format): unknown format 'yaml' (expected text or json)"),
            "{e}"
        );
    }

    #[test]
    fn sizes_read_like_a_person_writes_them() {
        assert_eq!(human_size(-1), "?");
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(5 * 1024 * 1024), "5.0 MiB");
        assert_eq!(human_size(3 << 40), "3.0 TiB");
    }

    #[test]
    fn the_table_shows_time_in_tz_and_the_state() {
        let t = render_text(
            &[
                backup("shop-2026-02-08-020000.sql", 3600, 2048, false),
                backup("shop-2026-02-07-020000.sql", 0, 10, true),
            ],
            Tz::Europe__Berlin,
            "s3:b/x",
            ".sha256 sidecar",
        );
        assert_eq!(
            t,
            "NAME                        TIME (Europe/Berlin)             SIZE  CHECKSUM\n\
             shop-2026-02-08-020000.sql  2026-02-07 22:30:00 +01:00     2.0 KiB  incomplete\n\
             shop-2026-02-07-020000.sql  2026-02-07 21:30:00 +01:00        10 B  ok\n\
             2 backups in s3:b/x (1 incomplete: no .sha256 sidecar)\n"
        );
    }

    #[test]
    fn a_split_configuration_has_a_database_column() {
        let entry = |db: &str, name: &str, secs: i64| Entry {
            database: Some(db.into()),
            backup: backup(name, secs, 10, true),
            folder: false,
            retention: None,
        };
        let t = render_table(
            &[
                entry("globals", "globals-2026-02-07-203000.sql", 0),
                entry("a_long_name", "a_long_name-2026-02-07-203000.dump", 1),
            ],
            Tz::UTC,
            "s3:b/x",
            ".sha256 sidecar",
        );
        assert_eq!(
            t,
            "DATABASE     NAME                                TIME (UTC)                       SIZE  CHECKSUM\n\
             globals      globals-2026-02-07-203000.sql       2026-02-07 20:30:00 +00:00        10 B  ok\n\
             a_long_name  a_long_name-2026-02-07-203000.dump  2026-02-07 20:30:01 +00:00        10 B  ok\n\
             2 backups in s3:b/x\n"
        );
    }
}
