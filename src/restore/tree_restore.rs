//! `dbstash restore` of directory and tar backups (BACKUP_MODE=directory|tar). A tree
//! cannot be streamed: it is fetched into a private directory under BACKUP_TEMP_DIR and every
//! byte checked ([`super::tree::fetch`]: SHA256SUMS, or the tar's sidecar), then the dump's
//! completeness ([`super::tree_check`]), and only then applied:
//! - PostgreSQL: `pg_restore --single-transaction --exit-on-error [--clean --if-exists] -d
//!   DB DIR` (one transaction: an error rolls everything back);
//! - MySQL/MariaDB: each `TABLE.sql` through the client (tables before views), then the data
//!   with `LOAD DATA LOCAL INFILE` through the same client (`--local-infile=1`), the password
//!   in `MYSQL_PWD` as always;
//! - MongoDB: `mongorestore --dir=DIR` (`--gzip` for `.bson.gz` files, `--drop` only with
//!   `--drop-existing`), credentials in its 0600 `--config` file.
//!
//! A target with tables is refused (before the download, and again before the apply) unless
//! `--drop-existing` or `--force`, as for stream backups.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use tracing::{error, info, warn};

use super::decompress::Compression;
use super::mysql::{create_sql, drop_sql, judge as mysql_judge, Prepare};
use super::select::{self, Selected};
use super::settings::RestoreArgs;
use super::tree::{self, Fetched};
use super::{run_tool, Done, Options};
use crate::config::{BackupMode, Config, ConfigError};
use crate::durations::fmt_duration;
use crate::engine::{EngineKind, Mongo, MySql, Postgres};
use crate::rclone::{self, Rclone};
use crate::shutdown::{Cancel, Shutdown};

fn bad_config(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("dbstash: invalid configuration: {e}");
    ExitCode::from(crate::EXIT_BAD_CONFIG)
}

/// `dbstash restore` in directory or tar mode: exit 0 restored, 1 failed (the target as
/// before, unless the log says otherwise), 2 bad flags.
pub async fn restore(cfg: &Config, args: &RestoreArgs) -> ExitCode {
    if let Err(e) = tree::check_mode(cfg) {
        return bad_config(e);
    }
    let opts = match Options::parse(cfg, args) {
        Ok(o) => o,
        Err(e) => return bad_config(e),
    };
    if opts.output.is_some() && cfg.mode == BackupMode::Directory {
        return bad_config(ConfigError::var(
            "RESTORE_OUTPUT",
            "does not apply to a directory backup (BACKUP_MODE=directory): it is a folder of files, not one file; download it with rclone copy, or check it with dbstash verify",
        ));
    }
    let pg_opts = if cfg.engine == EngineKind::Pg && opts.output.is_none() {
        match super::pg::options(cfg, args) {
            Ok(o) => Some(o),
            Err(e) => return bad_config(e),
        }
    } else {
        None
    };
    let mut shutdown = match Shutdown::new() {
        Ok(s) => s,
        Err(e) => {
            error!(error = %format!("{e:#}"), "restore failed");
            return ExitCode::from(crate::EXIT_BACKUP_FAILED);
        }
    };
    let started = Instant::now();
    let mut cancel = Cancel::new(&mut shutdown, cfg.timeout);
    let result = run(cfg, args, &opts, pg_opts.as_ref(), &mut cancel).await;
    match result {
        Ok(Some((name, done))) => {
            info!(
                backup = %name,
                into = %done.into,
                bytes = done.bytes,
                verified = done.verified,
                mode = tree::mode_name(cfg.mode),
                duration = %fmt_duration(started.elapsed()),
                "restore succeeded"
            );
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(e) => {
            error!(
                duration = %fmt_duration(started.elapsed()),
                error = %format!("{e:#}"),
                "restore failed"
            );
            ExitCode::from(crate::EXIT_BACKUP_FAILED)
        }
    }
}

async fn run(
    cfg: &Config,
    args: &RestoreArgs,
    opts: &Options,
    pg_opts: Option<&super::pg::Options>,
    cancel: &mut Cancel<'_>,
) -> anyhow::Result<Option<(String, Done)>> {
    let rclone = Rclone::new(cfg)?;
    let (sel, complete) = cancel
        .guard(select::select_any(cfg, &rclone, args.backup.as_deref()))
        .await?;
    if !complete && !opts.no_verify && !cfg.dry_run {
        anyhow::bail!(
            "{} has no {}, so its integrity cannot be checked: refusing to restore it (the run that wrote it may have been killed). Give --no-verify (RESTORE_NO_VERIFY=true) to restore it anyway",
            sel.name,
            select::completion_marker(cfg)
        );
    }
    if cfg.dry_run {
        print!("{}", describe(cfg, opts, &sel, complete));
        return Ok(None);
    }
    info!(
        backup = %rclone::redact_remote(&sel.path),
        size = sel.size,
        mode = tree::mode_name(cfg.mode),
        complete,
        "restore started"
    );
    if let Some(out) = &opts.output {
        // A tar backup is one object: written as is, verified, nothing applied.
        let done = cancel
            .guard(super::write_output(
                opts,
                &rclone,
                &sel,
                out,
                false,
                cfg.encryption.identity.as_ref(),
            ))
            .await?;
        return Ok(Some((sel.name, done)));
    }
    let done = match cfg.engine {
        EngineKind::Pg => {
            let popts = pg_opts.expect("pg options are parsed for pg");
            let mut created = None;
            let r = cancel
                .guard(restore_pg(
                    cfg,
                    popts,
                    &rclone,
                    &sel,
                    complete,
                    &mut created,
                ))
                .await;
            if r.is_err() {
                if let Some(db) = created {
                    super::pg::drop_created(cfg, &db).await;
                }
            }
            r?
        }
        EngineKind::Mysql | EngineKind::Mariadb => {
            let mut created = Vec::new();
            let r = cancel
                .guard(restore_mysql(
                    cfg,
                    opts,
                    &rclone,
                    &sel,
                    complete,
                    &mut created,
                ))
                .await;
            if r.is_err() {
                super::mysql::drop_created(cfg, &created).await;
            }
            r?
        }
        EngineKind::Mongo => {
            cancel
                .guard(restore_mongo(cfg, opts, &rclone, &sel, complete))
                .await?
        }
        EngineKind::Redis => anyhow::bail!("redis backups are single files (BACKUP_MODE=stream)"),
    };
    Ok(Some((sel.name, done)))
}

/// Fetch, check every byte and the dump's completeness: the tree ready to apply.
async fn fetch_checked(
    cfg: &Config,
    rclone: &Rclone,
    sel: &Selected,
    complete: bool,
    no_verify: bool,
) -> anyhow::Result<Fetched> {
    let fetched = tree::fetch(cfg, rclone, sel, complete, no_verify).await?;
    info!(
        files = fetched.files,
        bytes = fetched.bytes,
        checked = fetched.checked,
        "{}",
        fetched.how
    );
    let lines = super::tree_check::completeness(cfg, &fetched.root).await;
    if !super::verify::passed(&lines) {
        let why: Vec<String> = lines
            .iter()
            .filter(|l| l.mark == super::verify::Mark::Failed)
            .map(|l| format!("{}: {}", l.check, l.text))
            .collect();
        anyhow::bail!(
            "{} is not a complete dump, nothing was applied: {}",
            sel.name,
            why.join("; ")
        );
    }
    Ok(fetched)
}

async fn restore_pg(
    cfg: &Config,
    opts: &super::pg::Options,
    rclone: &Rclone,
    sel: &Selected,
    complete: bool,
    created: &mut Option<String>,
) -> anyhow::Result<Done> {
    use super::pg::TargetState;
    // Refused before a byte is downloaded (and again, below, before anything is applied).
    if let TargetState::Tables(n, names) = super::pg::inspect(cfg, &opts.target).await? {
        if n > 0 && !opts.drop_existing && !opts.force {
            anyhow::bail!(
                "the target database {} ({}) already has {n} table(s) ({names}): refusing to restore into it. Give --drop-existing (RESTORE_DROP_EXISTING=true) to drop what the backup recreates first (pg_restore --clean --if-exists, in the restore's transaction), --force (RESTORE_FORCE=true) to restore on top of them, or --target-db NAME for another database",
                opts.target, opts.target_from
            );
        }
    }
    let fetched = fetch_checked(cfg, rclone, sel, complete, opts.no_verify).await?;
    super::pg::prepare_target(cfg, opts, created).await?;
    let dir = fetched.root.to_string_lossy().into_owned();
    let dc = Postgres.restore_archive(cfg, &opts.target, opts.drop_existing, &dir);
    run_tool(&dc, None).await?;
    Ok(Done {
        into: format!("database {}", opts.target),
        bytes: fetched.bytes,
        verified: fetched.checked,
    })
}

/// The `.sql` files of a `--tab` tree: tables first, then views (which may select from
/// them), each group by name.
fn tab_files(root: &Path) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let (mut tables, mut others) = (Vec::new(), Vec::new());
    for f in tree::walk(root)? {
        if let Some(t) = f.strip_suffix(".sql") {
            if root.join(format!("{t}.txt")).is_file() {
                tables.push(t.to_string());
            } else {
                others.push(t.to_string());
            }
        }
    }
    Ok((tables, others))
}

/// A string literal for MySQL.
fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The character set `mysqldump --tab` wrote the data in: `--default-character-set` from
/// DUMP_EXTRA_ARGS, else `binary` (what it writes with its default, utf8mb4: no conversion).
fn tab_charset(cfg: &Config) -> String {
    let mut charset = "binary".to_string();
    let mut it = cfg.dump_extra_args.iter();
    while let Some(a) = it.next() {
        if let Some(v) = a.strip_prefix("--default-character-set=") {
            charset = v.to_string();
        } else if a == "--default-character-set" {
            if let Some(v) = it.next() {
                charset = v.clone();
            }
        }
    }
    if charset.eq_ignore_ascii_case("utf8mb4")
        || !charset
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        "binary".into()
    } else {
        charset
    }
}

/// `LOAD DATA LOCAL INFILE` for each table's `.txt` (mysqldump `--tab`'s defaults: tab
/// separated, `\` escapes, one line a row).
pub fn load_sql(cfg: &Config, root: &Path, tables: &[String]) -> String {
    let mut s = String::from(
        "SET SESSION FOREIGN_KEY_CHECKS=0;\nSET SESSION UNIQUE_CHECKS=0;\nSET SESSION SQL_MODE='NO_AUTO_VALUE_ON_ZERO';\n",
    );
    let charset = tab_charset(cfg);
    for t in tables {
        let file = root.join(format!("{t}.txt"));
        let _ = writeln!(
            s,
            "LOAD DATA LOCAL INFILE {} INTO TABLE {} CHARACTER SET {charset};",
            sql_string(&file.to_string_lossy()),
            super::mysql::ident(t)
        );
    }
    s
}

async fn restore_mysql(
    cfg: &Config,
    opts: &Options,
    rclone: &Rclone,
    sel: &Selected,
    complete: bool,
    created: &mut Vec<String>,
) -> anyhow::Result<Done> {
    let Some(source) = cfg.conn.database.as_deref() else {
        anyhow::bail!("BACKUP_ALL_DATABASES is stream-only for mysql and mariadb");
    };
    let target = opts.target_db.as_deref().unwrap_or(source);
    // Refused before a byte is downloaded.
    mysql_judge(
        target,
        super::mysql::existing(cfg, &[target]).await?.first(),
        opts,
    )?;
    let fetched = fetch_checked(cfg, rclone, sel, complete, opts.no_verify).await?;
    // Looked at again: the download may have taken a while.
    match mysql_judge(
        target,
        super::mysql::existing(cfg, &[target]).await?.first(),
        opts,
    )? {
        Prepare::Create => {
            super::mysql::execute(cfg, &create_sql(target, None)).await?;
            created.push(target.to_string());
            info!(database = %target, "created the target database (it did not exist)");
        }
        Prepare::Empty => {}
        Prepare::Recreate(e) => {
            super::mysql::execute(
                cfg,
                &format!("{}; {}", drop_sql(&[target]), create_sql(target, Some(&e))),
            )
            .await?;
            warn!(database = %target, dropped_tables = e.tables, "dropped the target database and created it again (--drop-existing)");
        }
        Prepare::Over(n) => {
            warn!(database = %target, "restoring on top of the {} already in the target (--force): the dump replaces the tables it holds, the others stay", super::mysql::tables(n));
        }
    }
    let m = MySql::of(cfg.engine);
    let (tables, others) = tab_files(&fetched.root)?;
    for name in tables.iter().chain(&others) {
        let path = fetched.root.join(format!("{name}.sql"));
        run_tool(
            &m.restore_command(cfg, Some(target)),
            Some((&path, Compression::None)),
        )
        .await
        .map_err(|e| e.context(format!("applying {name}.sql")))?;
    }
    if !tables.is_empty() {
        // Beside the tree, in the same private directory.
        let load = fetched
            .root
            .parent()
            .unwrap_or(&fetched.root)
            .join("dbstash-load.sql");
        std::fs::write(&load, load_sql(cfg, &fetched.root, &tables))?;
        run_tool(
            &m.restore_tab_command(cfg, target),
            Some((&load, Compression::None)),
        )
        .await
        .map_err(|e| e.context("loading the tables' data (LOAD DATA LOCAL INFILE; the server must allow it: local_infile=ON)"))?;
    }
    info!(
        tables = tables.len(),
        others = others.len(),
        "applied the tables' definitions and loaded their data"
    );
    Ok(Done {
        into: format!("database {target}"),
        bytes: fetched.bytes,
        verified: fetched.checked,
    })
}

async fn restore_mongo(
    cfg: &Config,
    opts: &Options,
    rclone: &Rclone,
    sel: &Selected,
    complete: bool,
) -> anyhow::Result<Done> {
    use super::mongo::{judge, probe, Namespace};
    let single = cfg
        .conn
        .database
        .as_deref()
        .map(|source| (source, opts.target_db.as_deref().unwrap_or(source)));
    if let Some((_, target)) = single {
        let there: Vec<Namespace> = probe(cfg, Some(target))
            .await?
            .into_iter()
            .filter(Namespace::is_user)
            .collect();
        judge(&format!("database {target}"), &there, opts)?;
    }
    let fetched = fetch_checked(cfg, rclone, sel, complete, opts.no_verify).await?;
    let files = tree::walk(&fetched.root)?;
    let gzip = files.iter().any(|f| f.ends_with(".bson.gz"));
    let dbs: std::collections::BTreeSet<&str> = files
        .iter()
        .filter_map(|f| f.split_once('/').map(|(d, _)| d))
        .collect();
    let into = match single {
        Some((source, target)) => {
            if !dbs.contains(source) {
                anyhow::bail!(
                    "{} holds no collection of database {source} (it holds {}): nothing would be restored",
                    sel.name,
                    if dbs.is_empty() { "none".to_string() } else { dbs.iter().copied().collect::<Vec<_>>().join(", ") }
                );
            }
            format!("database {target}")
        }
        None => {
            let user: std::collections::BTreeSet<&str> = dbs
                .iter()
                .copied()
                .filter(|d| !super::mongo::SYSTEM_DATABASES.contains(d))
                .collect();
            let there: Vec<Namespace> = probe(cfg, None)
                .await?
                .into_iter()
                .filter(|n| n.is_user() && user.contains(n.db.as_str()))
                .collect();
            judge("the backup's databases", &there, opts)?;
            format!(
                "the server (databases {})",
                user.into_iter().collect::<Vec<_>>().join(", ")
            )
        }
    };
    let dc = Mongo.restore_dir_command(cfg, &fetched.root, gzip, single, opts.drop_existing);
    let stderr = run_tool(&dc, None).await?;
    let failed = super::mongo::failed_documents(&stderr);
    if failed > 0 {
        if opts.force {
            warn!(failed, "mongorestore kept {failed} document(s) already in the target (the same _id) instead of the backup's (--force)");
        } else {
            anyhow::bail!(
                "mongorestore exited 0 but {failed} document(s) failed to restore: {stderr}"
            );
        }
    }
    Ok(Done {
        into,
        bytes: fetched.bytes,
        verified: fetched.checked,
    })
}

/// The dry run: the backup, how it is fetched and checked, and what would run, secrets
/// redacted.
fn describe(cfg: &Config, opts: &Options, sel: &Selected, complete: bool) -> String {
    let mut s = String::from("dbstash dry run: nothing is executed.\n\n");
    let dir = cfg.mode == BackupMode::Directory;
    let _ = writeln!(s, "Backup (BACKUP_MODE={}):", tree::mode_name(cfg.mode));
    let _ = writeln!(
        s,
        "  {}  {}{}",
        if dir { "folder  " } else { "object  " },
        rclone::redact_remote(&sel.path),
        if dir { "/" } else { "" }
    );
    let _ = writeln!(s, "  size      {}", super::list::human_size(sel.size));
    let _ = writeln!(s, "  modified  {}", sel.mod_time.to_rfc3339());
    let check = match (dir, complete, opts.no_verify) {
        (true, true, _) => format!("{}: every file hashed after the download and compared; a file missing, changed or not listed fails the restore before anything is applied", tree::SUMS),
        (false, true, _) => format!("{}: the object's SHA-256 checked after the download, before it is untarred", select::sidecar_name(&sel.name)),
        (_, false, true) => "none (the backup is incomplete): restored unverified (--no-verify)".to_string(),
        (_, false, false) => format!("none ({} is missing): the restore would be REFUSED without --no-verify", select::completion_marker(cfg)),
    };
    let _ = writeln!(s, "  checksum  {check}");
    s.push_str(&super::decrypt::describe(cfg, &sel.name, 10).unwrap_or_default());
    let _ = writeln!(s, "\nDownload:");
    let private = format!(
        "<private 0700 directory under {} (BACKUP_TEMP_DIR), removed afterwards>",
        cfg.temp_dir.display()
    );
    if dir {
        let _ = writeln!(
            s,
            "  {} {private}",
            Rclone::describe(cfg, "copy", &sel.path)
        );
    } else {
        let _ = writeln!(
            s,
            "  {} > {private}/{}",
            Rclone::describe(cfg, "cat", &sel.path),
            sel.name
        );
        let _ = writeln!(s, "  untarred in-process into {private}/tree: regular files and directories only, no absolute path, no '..', no link or device");
    }
    let _ = writeln!(
        s,
        "  then the dump's completeness is checked (as dbstash verify does)"
    );
    let _ = writeln!(s, "\nRestore:");
    let tree_dir = std::path::PathBuf::from("<tree>");
    let if_tables = if opts.drop_existing {
        "drop first (--drop-existing)"
    } else if opts.force {
        "restore on top of them (--force)"
    } else {
        "REFUSE (neither --drop-existing nor --force)"
    };
    let steps: Vec<String> = match (&opts.output, cfg.engine) {
        (Some(out), _) => vec![format!(
            "nothing is applied: the verified tar is written to {}",
            out.display()
        )],
        (None, EngineKind::Pg) => {
            let target = opts
                .target_db
                .clone()
                .or(cfg.conn.database.clone())
                .unwrap_or_default();
            vec![
                format!("look at database {target}: missing → CREATE DATABASE; has tables → {if_tables}"),
                format!(
                    "{}",
                    Postgres.restore_archive(cfg, &target, opts.drop_existing, "<tree>")
                ),
            ]
        }
        (None, EngineKind::Mysql | EngineKind::Mariadb) => {
            let m = MySql::of(cfg.engine);
            let target = opts
                .target_db
                .clone()
                .or(cfg.conn.database.clone())
                .unwrap_or_default();
            vec![
                format!("look at database {target}: missing → created; has tables → {if_tables}"),
                format!(
                    "{} < <tree>/TABLE.sql, for each table, then each view",
                    m.restore_command(cfg, Some(&target))
                ),
                format!(
                    "{} < LOAD DATA LOCAL INFILE '<tree>/TABLE.txt' INTO TABLE `TABLE` CHARACTER SET {}; for each table",
                    m.restore_tab_command(cfg, &target),
                    tab_charset(cfg)
                ),
            ]
        }
        (None, EngineKind::Mongo) => {
            let single = cfg
                .conn
                .database
                .as_deref()
                .map(|source| (source, opts.target_db.as_deref().unwrap_or(source)));
            vec![
                format!("look at the target's collections (mongodump's archive prelude): there → {if_tables}"),
                format!(
                    "{} (--gzip when the files are .bson.gz)",
                    Mongo.restore_dir_command(cfg, &tree_dir, false, single, opts.drop_existing)
                ),
            ]
        }
        (None, EngineKind::Redis) => Vec::new(),
    };
    for (i, step) in steps.iter().enumerate() {
        let _ = writeln!(s, "  {}. {step}", i + 1);
    }
    crate::redact::redact(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(extra: &str) -> Config {
        let a = crate::cli::CommonArgs {
            db_host: Some("h".into()),
            db_name: Some("shop".into()),
            rclone_remote: Some("s3:b/x".into()),
            backup_schedule: Some("once".into()),
            dump_extra_args: Some(extra.into()),
            ..Default::default()
        };
        Config::resolve(EngineKind::Mariadb, a).unwrap()
    }

    #[test]
    fn data_is_loaded_in_the_charset_it_was_written_in() {
        assert_eq!(tab_charset(&cfg("")), "binary");
        assert_eq!(
            tab_charset(&cfg("--default-character-set=utf8mb4")),
            "binary"
        );
        assert_eq!(
            tab_charset(&cfg("--default-character-set=latin1")),
            "latin1"
        );
        assert_eq!(
            tab_charset(&cfg("--default-character-set latin1")),
            "latin1"
        );
        assert_eq!(tab_charset(&cfg("--default-character-set=x;y")), "binary");
        let sql = load_sql(&cfg(""), Path::new("/tmp/it's\\here"), &["t`1".to_string()]);
        assert!(
            sql.ends_with(
                "LOAD DATA LOCAL INFILE '/tmp/it\\'s\\\\here/t`1.txt' INTO TABLE `t``1` CHARACTER SET binary;\n"
            ),
            "{sql}"
        );
        assert!(
            sql.starts_with("SET SESSION FOREIGN_KEY_CHECKS=0;"),
            "{sql}"
        );
    }
}
