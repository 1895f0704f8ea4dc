//! BACKUP_SPLIT_DATABASES: one run, one backup object per database. The server is asked
//! which databases it has; each selected one is backed up as a normal single-database
//! backup (its own name, claim, checksum, retention and verification), BACKUP_PARALLELISM at
//! once, after PostgreSQL's globals object (roles and tablespaces). A failing database fails
//! the run and is named; the others' backups stay.

use std::fmt::Write as _;
use std::time::Instant;

use anyhow::Context as _;
use tracing::{error, info, warn, Instrument as _};

use super::{
    backup_object, log_object, new_backup_id, post_hook, pre_hook, report_object, started_report,
    Cancel, ObjectResult, Plan, Shutdown,
};
use crate::config::{Config, Split};
use crate::engine::EngineKind;
use crate::report::{Report, Stage, Status};
use crate::shutdown::Relay;

/// How long listing the databases may take.
const LIST_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// The longest part of one database's error in the run's summary (the log has it all).
const SUMMARY_ERROR_CHARS: usize = 400;

/// One object of a split run.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Unit {
    /// PostgreSQL's roles and tablespaces: `pg_dumpall --globals-only`, with
    /// `--no-role-passwords` when the user may not read them (not a superuser).
    Globals {
        passwords: bool,
    },
    Database(String),
}

impl Unit {
    fn config(&self, cfg: &Config) -> Config {
        match self {
            Unit::Globals { passwords } => {
                let mut c = cfg.for_globals();
                if !passwords {
                    c.dump_extra_args.push("--no-role-passwords".into());
                }
                c
            }
            Unit::Database(db) => cfg.for_database(db),
        }
    }

    /// How the unit is named in the run's report (notifications, hooks): as in object
    /// names, so a name from the server cannot forge lines (`%0A`) there.
    fn shown(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Unit::Globals { .. } => crate::template::GLOBALS.into(),
            Unit::Database(db) => crate::template::escape_db(db),
        }
    }
}

/// What the listing command printed: the databases, and facts about the login.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Listing {
    pub databases: Vec<String>,
    /// Lines starting with `#`, without it (pg: `superuser`).
    pub facts: Vec<String>,
}

/// Which of the listed databases a run backs up.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Selection {
    pub databases: Vec<String>,
    /// System databases skipped (not in BACKUP_INCLUDE_DATABASES).
    pub system: Vec<String>,
    /// Listed databases skipped by BACKUP_EXCLUDE_DATABASES.
    pub excluded: Vec<String>,
    /// BACKUP_EXCLUDE_DATABASES names the server did not list.
    pub unknown_excluded: Vec<String>,
}

/// The databases to back up: every listed one that is not a system database (unless
/// BACKUP_INCLUDE_DATABASES names it) nor excluded. An included database the server does
/// not list is an error (it would silently not be backed up), and so is an empty selection.
pub fn select(listed: &[String], system: &[&str], split: &Split) -> Result<Selection, String> {
    if let Some(missing) = split.include.iter().find(|d| !listed.contains(d)) {
        return Err(format!(
            "BACKUP_INCLUDE_DATABASES names '{missing}', which the server does not list for this user (listed: {}): is it misspelt, or may the user not see it?",
            shown(listed)
        ));
    }
    let mut s = Selection::default();
    for db in listed {
        if split.exclude.contains(db) {
            s.excluded.push(db.clone());
        } else if system.contains(&db.as_str()) && !split.include.contains(db) {
            s.system.push(db.clone());
        } else {
            s.databases.push(db.clone());
        }
    }
    // In name order (bytes), whatever order the server listed them in.
    s.databases.sort();
    s.system.sort();
    s.excluded.sort();
    s.unknown_excluded = split
        .exclude
        .iter()
        .filter(|d| !listed.contains(d))
        .cloned()
        .collect();
    if s.databases.is_empty() {
        return Err(format!(
            "no database to back up: the server lists {} (system databases are skipped unless in BACKUP_INCLUDE_DATABASES; excluded: {})",
            shown(listed),
            shown(&s.excluded)
        ));
    }
    Ok(s)
}

fn shown(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// The listing command's output: one hex-encoded UTF-8 name per line, facts after `#`.
pub fn parse_listing(out: &[u8]) -> Result<Listing, String> {
    let text = std::str::from_utf8(out).map_err(|_| "the listing is not text".to_string())?;
    let mut listing = Listing::default();
    let names = &mut listing.databases;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(fact) = line.strip_prefix('#') {
            listing.facts.push(fact.to_string());
            continue;
        }
        let bytes = (0..line.len())
            .step_by(2)
            .map(|i| {
                line.get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
            .filter(|_| line.len() % 2 == 0);
        let name = bytes
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                let l: String = line.chars().take(80).collect();
                format!("the listing has a line that is not a hex-encoded name: '{l}'")
            })?;
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(listing)
}

/// Ask the server which databases it has, with the dump's connection.
async fn list_databases(cfg: &Config) -> anyhow::Result<Listing> {
    let cmd = cfg
        .engine()
        .list_databases_command(cfg)
        .with_context(|| format!("{} has no databases to split", cfg.engine.key()))?;
    let out = tokio::time::timeout(LIST_LIMIT, crate::process::capture(&cmd))
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "{}: no answer within {} (stopped it)",
                cmd.program,
                super::fmt_human(LIST_LIMIT)
            )
        })?
        .context("listing the databases (BACKUP_SPLIT_DATABASES) failed")?;
    parse_listing(&out)
        .map_err(|e| anyhow::anyhow!("listing the databases with {}: {e}", cmd.program))
}

/// The databases a run would back up now (`dbstash check`, the daemon's start-up check).
pub async fn selection(cfg: &Config) -> anyhow::Result<Selection> {
    Ok(plan_databases(cfg).await?.0)
}

/// The listing, and the databases chosen from it, with the facts the listing told (pg:
/// whether the user is a superuser).
async fn plan_databases(cfg: &Config) -> anyhow::Result<(Selection, Vec<String>)> {
    let split = cfg
        .split
        .as_ref()
        .context("not a BACKUP_SPLIT_DATABASES configuration")?;
    let listed = list_databases(cfg).await?;
    let selection = select(&listed.databases, cfg.engine().system_databases(), split)
        .map_err(anyhow::Error::msg)?;
    Ok((selection, listed.facts))
}

/// The run: HOOK_PRE_BACKUP, the listing, every database (pg's globals first), then one
/// report for the run and HOOK_POST_BACKUP.
pub(super) async fn run(cfg: &Config, shutdown: &mut Shutdown) -> Report {
    let split = cfg
        .split
        .clone()
        .expect("run only for BACKUP_SPLIT_DATABASES");
    let backup_id = new_backup_id();
    let now = chrono::Utc::now();
    let span = tracing::info_span!(
        "backup",
        engine = cfg.engine.key(),
        database = cfg.db_label(),
        backup_id = %backup_id
    );
    let started = Instant::now();
    let mut report = Report {
        backup_id: Some(backup_id.clone()),
        ..started_report(cfg)
    };
    let deadline = cfg.timeout.map(|t| (tokio::time::Instant::now() + t, t));
    let planned = {
        let mut cancel = Cancel {
            shutdown: &mut *shutdown,
            deadline,
        };
        let report = &report;
        async {
            pre_hook(cfg, report, &mut cancel)
                .await
                .map_err(|e| (Stage::PreHook, e))?;
            cancel
                .guard(plan_databases(cfg))
                .await
                .map_err(|e| (Stage::Backup, e))
        }
        .instrument(span.clone())
        .await
    };
    let (selection, facts) = match planned {
        Ok(s) => s,
        Err((stage, e)) => {
            report.duration = started.elapsed();
            let result = Err((stage, e, None));
            span.in_scope(|| log_object(&result, report.duration));
            report_object(&mut report, result);
            return finish(cfg, shutdown, report, span).await;
        }
    };
    let mut units: Vec<Unit> = Vec::new();
    if cfg.engine == EngineKind::Pg {
        let passwords = facts.iter().any(|f| f == "superuser");
        if !passwords {
            span.in_scope(|| warn!("the globals object is dumped without the roles' passwords (pg_dumpall --no-role-passwords): only a superuser may read them; restored roles need new passwords"));
        }
        units.push(Unit::Globals { passwords });
    }
    units.extend(selection.databases.iter().cloned().map(Unit::Database));
    span.in_scope(|| {
        info!(
            databases = %selection.databases.join(","),
            skipped_system = %selection.system.join(","),
            excluded = %selection.excluded.join(","),
            parallelism = split.parallelism,
            "backing up {} database{} one object each{}",
            selection.databases.len(),
            if selection.databases.len() == 1 { "" } else { "s" },
            if cfg.engine == EngineKind::Pg { ", and the globals (roles, tablespaces)" } else { "" }
        );
        if !selection.unknown_excluded.is_empty() {
            warn!(
                "BACKUP_EXCLUDE_DATABASES names {} that the server does not list",
                selection.unknown_excluded.join(", ")
            );
        }
    });

    let results = run_units(
        cfg,
        &units,
        &backup_id,
        now,
        deadline,
        split.parallelism,
        shutdown,
    )
    .await;
    report.duration = started.elapsed();
    span.in_scope(|| summarize(&mut report, &units, results));
    finish(cfg, shutdown, report, span).await
}

async fn finish(
    cfg: &Config,
    shutdown: &mut Shutdown,
    report: Report,
    span: tracing::Span,
) -> Report {
    if let Some(script) = &cfg.hooks.post_backup {
        post_hook(cfg, shutdown, script, &report)
            .instrument(span)
            .await;
    }
    report
}

/// Every unit's backup, `parallelism` at once, each in its own task with its own span and
/// cancellation: a signal is relayed to the running ones (each stops and cleans up), and
/// none starts after a signal or the deadline. The results in the units' order.
async fn run_units(
    cfg: &Config,
    units: &[Unit],
    run_id: &str,
    now: chrono::DateTime<chrono::Utc>,
    deadline: Option<(tokio::time::Instant, std::time::Duration)>,
    parallelism: u32,
    shutdown: &mut Shutdown,
) -> Vec<ObjectResult> {
    let relay = Relay::new();
    let mut results: Vec<Option<ObjectResult>> = units.iter().map(|_| None).collect();
    let mut tasks = tokio::task::JoinSet::new();
    let mut next = 0;
    let mut stopped: Option<String> = None;
    loop {
        while stopped.is_none() && next < units.len() && tasks.len() < parallelism as usize {
            if let Some((_, limit)) = deadline.filter(|(at, _)| tokio::time::Instant::now() >= *at)
            {
                stopped = Some(format!(
                    "timed out after {} (BACKUP_TIMEOUT)",
                    super::fmt_human(limit)
                ));
                break;
            }
            let unit_cfg = units[next].config(cfg);
            let follower = relay.follower();
            let id = run_id.to_string();
            let i = next;
            tasks.spawn(async move {
                let r = one(&unit_cfg, id, now, follower, deadline).await;
                (i, r)
            });
            next += 1;
        }
        if tasks.is_empty() {
            break;
        }
        tokio::select! {
            sig = shutdown.recv(), if stopped.is_none() => {
                relay.send(sig);
                stopped = Some(format!("interrupted by {sig}"));
            }
            joined = tasks.join_next() => match joined {
                Some(Ok((i, r))) => results[i] = Some(r),
                Some(Err(e)) => error!(error = %e, "a database's backup task ended abnormally"),
                None => {}
            },
        }
    }
    let why = stopped.unwrap_or_else(|| "its task ended abnormally".into());
    results
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| Err((Stage::Backup, anyhow::anyhow!("not started: {why}"), None)))
        })
        .collect()
}

/// One unit: its plan (named for the run's time and id), its backup, its log lines.
async fn one(
    cfg: &Config,
    run_id: String,
    now: chrono::DateTime<chrono::Utc>,
    mut shutdown: Shutdown,
    deadline: Option<(tokio::time::Instant, std::time::Duration)>,
) -> ObjectResult {
    let plan = Plan::at(cfg, new_backup_id(), &run_id, now);
    let span = tracing::info_span!(
        parent: None,
        "backup",
        engine = cfg.engine.key(),
        database = cfg.db_label(),
        backup_id = %plan.backup_id,
        run_id = %run_id
    );
    let started = Instant::now();
    let mut cancel = Cancel {
        shutdown: &mut shutdown,
        deadline,
    };
    let result = match name_too_long(&plan) {
        // Checked with a short name when the configuration was read; this database's own
        // name decides, before anything is dumped.
        Some(e) => Err((Stage::Backup, e, None)),
        None => {
            backup_object(cfg, &plan, started, &mut cancel)
                .instrument(span.clone())
                .await
        }
    };
    // The log line of this database, in its span; the result goes on to the run's report.
    span.in_scope(|| log_object(&result, started.elapsed()));
    result
}

/// A name longer than a remote's path component may be, with its staging suffix.
fn name_too_long(plan: &Plan) -> Option<anyhow::Error> {
    use crate::config::limits::{NAME_BYTES, NAME_SUFFIX_BYTES};
    let longest = plan.name.len() + NAME_SUFFIX_BYTES;
    (longest > NAME_BYTES).then(|| {
        anyhow::anyhow!(
            "the backup's name is {} bytes, and {NAME_SUFFIX_BYTES} more while uploading: over the {NAME_BYTES} bytes a file name may have on most backends (shorten BACKUP_NAME_TEMPLATE or BACKUP_EXTENSION, or exclude this database with BACKUP_EXCLUDE_DATABASES)",
            plan.name.len()
        )
    })
}

/// The run's report from its units': a success when every one succeeded; else the
/// failing ones are named, with their errors.
fn summarize(report: &mut Report, units: &[Unit], results: Vec<ObjectResult>) {
    let mut bytes = 0u64;
    let mut failed: Vec<(String, Stage, String)> = Vec::new();
    for (unit, r) in units.iter().zip(results) {
        match r {
            Ok(o) => bytes += o.bytes,
            Err((stage, e, written)) => {
                if let Some(o) = written {
                    bytes += o.bytes;
                }
                failed.push((unit.shown().into_owned(), stage, format!("{e:#}")));
            }
        }
    }
    report.size = Some(bytes);
    if failed.is_empty() {
        report.status = Status::Success;
        info!(
            objects = units.len(),
            bytes,
            duration = %super::fmt_duration(report.duration),
            "backup succeeded: {} objects",
            units.len()
        );
        return;
    }
    let names: Vec<&str> = failed.iter().map(|(n, _, _)| n.as_str()).collect();
    let mut error = format!(
        "{} of {} backups failed: {}",
        failed.len(),
        units.len(),
        names.join(", ")
    );
    for (name, _, e) in &failed {
        let e = crate::report::error_tail(e, SUMMARY_ERROR_CHARS);
        let _ = write!(error, "\n{name}: {e}");
    }
    let details: Vec<String> = failed
        .iter()
        .map(|(name, _, e)| format!("{name}: {}", e.lines().next().unwrap_or_default()))
        .collect();
    error!(
        failed = %names.join(","),
        succeeded = units.len() - failed.len(),
        errors = %details.join("; "),
        duration = %super::fmt_duration(report.duration),
        "backup failed: {}",
        error.lines().next().unwrap_or_default()
    );
    report.stage = failed[0].1;
    report.error = Some(crate::report::error_tail(&error, super::REPORT_ERROR_CHARS));
}

/// The dry run of a split configuration: how the databases are found and chosen, then the
/// plan of one database (`<db>`) and of pg's globals object.
pub fn describe(cfg: &Config) -> String {
    let split = cfg
        .split
        .as_ref()
        .expect("describe only for BACKUP_SPLIT_DATABASES");
    let example = cfg.for_database("<db>");
    let mut s = super::describe_config(cfg);
    let mut head = String::from("\nDatabases (BACKUP_SPLIT_DATABASES): one backup per database\n");
    if let Some(cmd) = cfg.engine().list_databases_command(cfg) {
        let _ = writeln!(head, "  listed at run time with: {cmd}");
    }
    let system = cfg.engine().system_databases();
    let _ = writeln!(
        head,
        "  skipped unless in BACKUP_INCLUDE_DATABASES: {}",
        if system.is_empty() {
            "none".into()
        } else {
            system.join(", ")
        }
    );
    let _ = writeln!(
        head,
        "  BACKUP_INCLUDE_DATABASES: {}",
        shown(&split.include)
    );
    let _ = writeln!(
        head,
        "  BACKUP_EXCLUDE_DATABASES: {}",
        shown(&split.exclude)
    );
    let _ = writeln!(head, "  BACKUP_PARALLELISM: {} at once", split.parallelism);
    if cfg.engine == EngineKind::Pg {
        let globals = Unit::Globals { passwords: true }.config(cfg);
        let plan = Plan::new(&globals);
        let _ = writeln!(
            head,
            "  first the globals (roles, tablespaces): {}\n    (with --no-role-passwords when the user is not a superuser)\n    as {}",
            plan.dump,
            crate::rclone::redact_remote(&plan.target)
        );
    }
    let _ = write!(head, "\nEach database, shown for one named <db>:\n");
    s.push_str(&head);
    s.push_str(&Plan::new(&example).describe_steps(&example));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(include: &[&str], exclude: &[&str]) -> Split {
        Split {
            include: include.iter().map(|s| s.to_string()).collect(),
            exclude: exclude.iter().map(|s| s.to_string()).collect(),
            parallelism: 1,
        }
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn system_databases_are_skipped_unless_included() {
        let listed = names(&["app", "mysql", "shop", "sys", "information_schema"]);
        let system = ["information_schema", "performance_schema", "mysql", "sys"];
        let s = select(&listed, &system, &split(&[], &[])).unwrap();
        assert_eq!(s.databases, ["app", "shop"]);
        assert_eq!(s.system, ["information_schema", "mysql", "sys"]);
        let unsorted = names(&["shop", "App", "app"]);
        let s = select(&unsorted, &system, &split(&[], &[])).unwrap();
        assert_eq!(s.databases, ["App", "app", "shop"], "byte order");
        let s = select(&listed, &system, &split(&["mysql"], &["shop", "gone"])).unwrap();
        assert_eq!(s.databases, ["app", "mysql"]);
        assert_eq!(s.excluded, ["shop"]);
        assert_eq!(s.unknown_excluded, ["gone"]);
    }

    #[test]
    fn an_included_database_that_is_not_listed_fails() {
        let e = select(&names(&["app"]), &[], &split(&["aap"], &[])).unwrap_err();
        assert!(
            e.contains("BACKUP_INCLUDE_DATABASES names 'aap'") && e.contains("listed: app"),
            "{e}"
        );
    }

    #[test]
    fn nothing_to_back_up_fails() {
        let e = select(&names(&["template1"]), &["template1"], &split(&[], &[])).unwrap_err();
        assert!(e.contains("no database to back up"), "{e}");
        let e = select(&names(&["a"]), &[], &split(&[], &["a"])).unwrap_err();
        assert!(e.contains("excluded: a"), "{e}");
    }

    #[test]
    fn the_listing_is_hex_per_line() {
        // "app", "a\nb" (a newline in a name cannot break the list), "café".
        let out = b"#superuser\n617070\n610a62\r\n636166c3a9\n\n617070\n";
        let l = parse_listing(out).unwrap();
        assert_eq!(l.databases, ["app", "a\nb", "caf\u{e9}"]);
        assert_eq!(l.facts, ["superuser"]);
        for bad in [&b"6170z0\n"[..], b"617\n", b"ff\n", b"\xff\n"] {
            assert!(parse_listing(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_listing(b"").unwrap(), Listing::default());
    }
}
