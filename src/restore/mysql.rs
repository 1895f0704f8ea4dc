//! `dbstash restore mysql|mariadb`: a SQL dump back into the server with the `mariadb` (or
//! `mysql`) client, the dump's connection and `MYSQL_PWD`.
//!
//! MySQL's DDL commits on its own, so a partial apply cannot be rolled back: the backup is
//! downloaded into a 0600 file and its SHA-256 checked first, and only a verified file reaches
//! the client (`.sql.gz` and `.sql.zst` decompressed in-process on the way).
//!
//! The target: a single-database dump goes into DB_NAME (or `--target-db`), created when
//! missing; an all-databases dump (`--all-databases`) names its own databases (`CREATE
//! DATABASE`, `USE`). A database that already has tables is refused, unless
//! - `--drop-existing`: the database is dropped and created again, with its character set and
//!   collation, before the apply (its tables, views, routines, triggers and events go; the
//!   privileges granted on it stay, they live in `mysql.db`). The target then holds exactly
//!   the backup.
//! - `--force`: the dump is applied on top. mysqldump writes `DROP TABLE IF EXISTS` before each
//!   table, so the tables it holds are replaced and the others kept.
//!
//! The server's own databases (`mysql`, `sys`, `performance_schema`, `information_schema`)
//! always have tables and are neither checked nor dropped; an all-databases dump holds
//! `mysql`, so its restore replaces the server's accounts and grants with the source's.

use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader};
use std::path::Path;

use anyhow::Context as _;
use tracing::{info, warn};

use super::decompress::Compression;
use super::{download_plain, query, run_tool, Done, Options, Selected};
use crate::config::Config;
use crate::engine::MySql;
use crate::rclone::Rclone;

/// The server's own databases: never checked, never dropped.
const SYSTEM_DATABASES: &[&str] = &["mysql", "sys", "performance_schema", "information_schema"];

/// How long dropping the databases a failed restore created may take.
const CLEANUP_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// A database the server already has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    pub name: String,
    pub charset: String,
    pub collation: String,
    /// Tables and views in it (as far as the user may see them).
    pub tables: u64,
}

/// What to do with a single-database target before the apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prepare {
    /// It does not exist: create it.
    Create,
    /// It exists without tables: restore into it.
    Empty,
    /// `--drop-existing`: drop it and create it again like it was.
    Recreate(Existing),
    /// `--force`: restore on top of its tables.
    Over(u64),
}

/// The verdict on a single-database target: refused when it has tables and neither
/// `--drop-existing` nor `--force` was given.
pub fn judge(target: &str, existing: Option<&Existing>, opts: &Options) -> anyhow::Result<Prepare> {
    Ok(match existing {
        None => Prepare::Create,
        Some(e) if e.tables == 0 => Prepare::Empty,
        Some(e) if opts.drop_existing => Prepare::Recreate(e.clone()),
        Some(e) if opts.force => Prepare::Over(e.tables),
        Some(e) => anyhow::bail!(
            "database {target} already has {}: refusing to restore into it, which would mix the backup with what is there. Give --drop-existing (RESTORE_DROP_EXISTING=true) to drop the database and restore it as backed up, or --force (RESTORE_FORCE=true) to restore on top (the dump replaces the tables it holds and keeps the others), or restore into another database with --target-db",
            tables(e.tables)
        ),
    })
}

pub(super) fn tables(n: u64) -> String {
    if n == 1 {
        "1 table".into()
    } else {
        format!("{n} tables")
    }
}

/// A database name as a MySQL identifier: in backquotes, inner ones doubled.
pub fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A string as a hex literal (`X'…'`): no quoting or escaping (nor `NO_BACKSLASH_ESCAPES`)
/// can change what it means; compared with a name it compares the bytes.
fn hex_literal(s: &str) -> String {
    let mut out = String::from("X'");
    for b in s.as_bytes() {
        let _ = write!(out, "{b:02x}");
    }
    out.push('\'');
    out
}

/// The query for the databases among `names` that exist: hex name, character set,
/// collation, and how many tables (and views) they hold; one row each, tab-separated.
pub fn existing_sql(names: &[&str]) -> String {
    let list: Vec<String> = names.iter().map(|n| hex_literal(n)).collect();
    format!(
        "SELECT HEX(s.schema_name), s.default_character_set_name, s.default_collation_name, (SELECT COUNT(*) FROM information_schema.tables t WHERE t.table_schema = s.schema_name) FROM information_schema.schemata s WHERE s.schema_name IN ({})",
        list.join(", ")
    )
}

/// The rows of [`existing_sql`].
pub fn parse_existing(out: &str) -> anyhow::Result<Vec<Existing>> {
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let bad = || anyhow::anyhow!("unexpected answer about the target database: {l:?}");
            let [hex, charset, collation, count] = f[..] else {
                return Err(bad());
            };
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| {
                    hex.get(i..i + 2)
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                })
                .collect::<Option<Vec<u8>>>()
                .ok_or_else(bad)?;
            Ok(Existing {
                name: String::from_utf8(bytes).map_err(|_| bad())?,
                charset: charset.to_string(),
                collation: collation.to_string(),
                tables: count.trim().parse().map_err(|_| bad())?,
            })
        })
        .collect()
}

/// A character set or collation name as the server reported it, safe to put in SQL.
fn plain_word(w: &str) -> Option<&str> {
    (!w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')).then_some(w)
}

/// `CREATE DATABASE`, with the character set and collation of `like` when given.
pub fn create_sql(name: &str, like: Option<&Existing>) -> String {
    let mut sql = format!("CREATE DATABASE {}", ident(name));
    if let Some(e) = like {
        if let (Some(cs), Some(co)) = (plain_word(&e.charset), plain_word(&e.collation)) {
            let _ = write!(sql, " CHARACTER SET {cs} COLLATE {co}");
        }
    }
    sql
}

/// `DROP DATABASE IF EXISTS` for each name.
pub fn drop_sql(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("DROP DATABASE IF EXISTS {}", ident(n)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The databases a dump switches to (`USE `db`;` at the start of a line, as mysqldump writes
/// it for `--all-databases` and `--databases`), in order, each once.
pub fn databases_in(r: impl std::io::Read) -> std::io::Result<Vec<String>> {
    let mut r = BufReader::with_capacity(256 * 1024, r);
    let mut found: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line)? == 0 {
            return Ok(found);
        }
        if let Some(name) = use_statement(&line) {
            if !found.contains(&name) {
                found.push(name);
            }
        }
    }
}

/// The database of a ``USE `name`;`` line.
fn use_statement(line: &[u8]) -> Option<String> {
    let rest = line.strip_prefix(b"USE `")?;
    let mut name = Vec::new();
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            b'`' if rest.get(i + 1) == Some(&b'`') => {
                name.push(b'`');
                i += 2;
            }
            b'`' => {
                let tail = String::from_utf8_lossy(&rest[i + 1..]);
                return (tail.trim() == ";")
                    .then(|| String::from_utf8(name).ok())
                    .flatten();
            }
            b => {
                name.push(b);
                i += 1;
            }
        }
    }
    None
}

pub(super) async fn existing(cfg: &Config, names: &[&str]) -> anyhow::Result<Vec<Existing>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let m = MySql::of(cfg.engine);
    let out = query(&m.sql_command(cfg, &existing_sql(names)), None)
        .await
        .context("looking at the target database failed")?;
    parse_existing(&out)
}

pub(super) async fn execute(cfg: &Config, sql: &str) -> anyhow::Result<()> {
    query(&MySql::of(cfg.engine).sql_command(cfg, sql), None).await?;
    Ok(())
}

/// The databases a dump file switches to (decompressed on a blocking thread).
async fn databases_in_file(path: &Path, compression: Compression) -> anyhow::Result<Vec<String>> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || databases_in(compression.open(&path)?))
        .await?
        .context("reading the downloaded backup failed")
}

/// Restore `sel`. The databases it created (they did not exist before) go into `created`,
/// so that the caller drops them when the restore fails or is stopped.
pub async fn restore(
    cfg: &Config,
    opts: &Options,
    rclone: &Rclone,
    sel: &Selected,
    created: &mut Vec<String>,
) -> anyhow::Result<Done> {
    match &cfg.conn.database {
        Some(source) => {
            let target = opts.target_db.as_deref().unwrap_or(source);
            restore_one(cfg, opts, rclone, sel, target, created).await
        }
        None => restore_all(cfg, opts, rclone, sel, created).await,
    }
}

async fn restore_one(
    cfg: &Config,
    opts: &Options,
    rclone: &Rclone,
    sel: &Selected,
    target: &str,
    created: &mut Vec<String>,
) -> anyhow::Result<Done> {
    // Refused before a byte is downloaded.
    judge(target, existing(cfg, &[target]).await?.first(), opts)?;
    let file = download_plain(
        rclone,
        sel,
        &cfg.temp_dir,
        opts.no_verify,
        cfg.encryption.identity.as_ref(),
    )
    .await?;
    info!(
        bytes = file.verified.bytes,
        checked = file.verified.checked,
        "downloaded the backup"
    );
    let compression = Compression::of(&sel.name);
    let foreign: Vec<String> = databases_in_file(&file.path, compression)
        .await?
        .into_iter()
        .filter(|d| d != target)
        .collect();
    if !foreign.is_empty() {
        anyhow::bail!(
            "{} switches to database{} {} (USE statements: it was dumped with --databases): restored into {target} it would write there too. Restore it with BACKUP_ALL_DATABASES=true",
            sel.name,
            if foreign.len() == 1 { "" } else { "s" },
            foreign.join(", ")
        );
    }
    // Looked at again: the download may have taken a while.
    match judge(target, existing(cfg, &[target]).await?.first(), opts)? {
        Prepare::Create => {
            execute(cfg, &create_sql(target, None)).await?;
            created.push(target.to_string());
            info!(database = %target, "created the target database (it did not exist)");
        }
        Prepare::Empty => {}
        Prepare::Recreate(e) => {
            execute(
                cfg,
                &format!("{}; {}", drop_sql(&[target]), create_sql(target, Some(&e))),
            )
            .await?;
            warn!(database = %target, dropped_tables = e.tables, "dropped the target database and created it again (--drop-existing)");
        }
        Prepare::Over(n) => {
            warn!(database = %target, "restoring on top of the {} already in the target (--force): the dump replaces the tables it holds, the others stay", tables(n));
        }
    }
    let m = MySql::of(cfg.engine);
    run_tool(
        &m.restore_command(cfg, Some(target)),
        Some((&file.path, compression)),
    )
    .await?;
    Ok(Done {
        into: format!("database {target}"),
        bytes: file.verified.bytes,
        verified: file.verified.checked,
    })
}

async fn restore_all(
    cfg: &Config,
    opts: &Options,
    rclone: &Rclone,
    sel: &Selected,
    created: &mut Vec<String>,
) -> anyhow::Result<Done> {
    let file = download_plain(
        rclone,
        sel,
        &cfg.temp_dir,
        opts.no_verify,
        cfg.encryption.identity.as_ref(),
    )
    .await?;
    info!(
        bytes = file.verified.bytes,
        checked = file.verified.checked,
        "downloaded the backup"
    );
    let compression = Compression::of(&sel.name);
    let databases = databases_in_file(&file.path, compression).await?;
    if databases.is_empty() {
        anyhow::bail!(
            "{} names no database (no USE statement): it is not an all-databases dump; restore it with DB_NAME set to the database it holds",
            sel.name
        );
    }
    let user: Vec<&str> = databases
        .iter()
        .map(String::as_str)
        .filter(|d| !SYSTEM_DATABASES.contains(d))
        .collect();
    let there = existing(cfg, &user).await?;
    let full: Vec<&Existing> = there.iter().filter(|e| e.tables > 0).collect();
    if !full.is_empty() {
        let list = full
            .iter()
            .map(|e| format!("{} ({})", e.name, tables(e.tables)))
            .collect::<Vec<_>>()
            .join(", ");
        if opts.force {
            warn!(databases = %list, "restoring on top of databases that have tables (--force): the dump replaces the tables it holds, the others stay");
        } else if !opts.drop_existing {
            anyhow::bail!(
                "the backup's databases already have tables on this server: {list}. Refusing to restore over them; give --drop-existing (RESTORE_DROP_EXISTING=true) to drop them first, or --force (RESTORE_FORCE=true) to restore on top"
            );
        }
    }
    if opts.drop_existing && !there.is_empty() {
        let names: Vec<&str> = there.iter().map(|e| e.name.as_str()).collect();
        execute(cfg, &drop_sql(&names)).await?;
        warn!(databases = %names.join(", "), "dropped the backup's databases before restoring them (--drop-existing)");
    }
    created.extend(
        user.iter()
            .filter(|d| !there.iter().any(|e| e.name == **d))
            .map(|d| d.to_string()),
    );
    if databases.iter().any(|d| d == "mysql") {
        warn!("the backup holds the mysql system database: its accounts and grants replace the server's");
    }
    run_tool(
        &MySql::of(cfg.engine).restore_command(cfg, None),
        Some((&file.path, compression)),
    )
    .await?;
    Ok(Done {
        into: format!("the server (databases {})", databases.join(", ")),
        bytes: file.verified.bytes,
        verified: file.verified.checked,
    })
}

/// After a failed or stopped restore: drop the databases it created (they did not exist
/// before, and must not now). Bounded in time; a failure is logged.
pub async fn drop_created(cfg: &Config, created: &[String]) {
    if created.is_empty() {
        return;
    }
    let names: Vec<&str> = created.iter().map(String::as_str).collect();
    let dropped = tokio::time::timeout(CLEANUP_LIMIT, execute(cfg, &drop_sql(&names))).await;
    match dropped {
        Ok(Ok(())) => {
            warn!(databases = %names.join(", "), "dropped the databases this failed restore had created")
        }
        Ok(Err(e)) => tracing::error!(
            databases = %names.join(", "),
            error = %format!("{e:#}"),
            "could not drop the databases this failed restore had created: drop them by hand"
        ),
        Err(_) => tracing::error!(
            databases = %names.join(", "),
            "no answer while dropping the databases this failed restore had created: drop them by hand"
        ),
    }
}

/// The dry run's steps.
pub fn describe(cfg: &Config, opts: &Options, sel: &Selected) -> Vec<String> {
    let m = MySql::of(cfg.engine);
    let decompress = match Compression::of(&sel.name) {
        Compression::None => "",
        Compression::Gzip => " (gunzipped in-process)",
        Compression::Zstd => " (zstd-decompressed in-process)",
    };
    let if_tables = if opts.drop_existing {
        "drop it and create it again with its character set (--drop-existing)"
    } else if opts.force {
        "restore on top of them (--force)"
    } else {
        "REFUSE (neither --drop-existing nor --force)"
    };
    match &cfg.conn.database {
        Some(source) => {
            let target = opts.target_db.as_deref().unwrap_or(source);
            vec![
                format!(
                    "look at database {target}, before and after the download: {}",
                    m.sql_command(cfg, &existing_sql(&[target]))
                ),
                format!("missing: {}", m.sql_command(cfg, &create_sql(target, None))),
                format!("has tables: {if_tables}"),
                "refuse a dump with USE statements for another database (made with --databases)"
                    .to_string(),
                format!("{} < {}{decompress}", m.restore_command(cfg, Some(target)), sel.name),
            ]
        }
        None => vec![
            "read the databases the dump names (its USE statements); the server's own (mysql, sys, performance_schema, information_schema) are not checked".to_string(),
            format!(
                "look at them: {}",
                m.sql_command(cfg, &existing_sql(&["<each database>"]))
            ),
            format!("a database with tables: {if_tables}"),
            format!("{} < {}{decompress}", m.restore_command(cfg, None), sel.name),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(name: &str, tables: u64) -> Existing {
        Existing {
            name: name.into(),
            charset: "utf8mb4".into(),
            collation: "utf8mb4_unicode_ci".into(),
            tables,
        }
    }

    #[test]
    fn a_target_with_tables_needs_drop_existing_or_force() {
        let plain = Options::default();
        let drop = Options {
            drop_existing: true,
            ..Options::default()
        };
        let force = Options {
            force: true,
            ..Options::default()
        };
        assert_eq!(judge("shop", None, &plain).unwrap(), Prepare::Create);
        assert_eq!(judge("shop", None, &drop).unwrap(), Prepare::Create);
        assert_eq!(
            judge("shop", Some(&e("shop", 0)), &plain).unwrap(),
            Prepare::Empty
        );
        assert_eq!(
            judge("shop", Some(&e("shop", 3)), &drop).unwrap(),
            Prepare::Recreate(e("shop", 3))
        );
        assert_eq!(
            judge("shop", Some(&e("shop", 3)), &force).unwrap(),
            Prepare::Over(3)
        );
        let refused = judge("shop", Some(&e("shop", 3)), &plain)
            .unwrap_err()
            .to_string();
        for needle in [
            "database shop already has 3 tables",
            "--drop-existing",
            "--force",
        ] {
            assert!(refused.contains(needle), "{refused}");
        }
        let one = judge("shop", Some(&e("shop", 1)), &plain)
            .unwrap_err()
            .to_string();
        assert!(one.contains("has 1 table:"), "{one}");
    }

    #[test]
    fn names_are_quoted_and_compared_as_bytes() {
        assert_eq!(ident("shop"), "`shop`");
        assert_eq!(ident("we`ird"), "`we``ird`");
        assert_eq!(
            existing_sql(&["a1", "we`ird"]),
            "SELECT HEX(s.schema_name), s.default_character_set_name, s.default_collation_name, (SELECT COUNT(*) FROM information_schema.tables t WHERE t.table_schema = s.schema_name) FROM information_schema.schemata s WHERE s.schema_name IN (X'6131', X'776560697264')"
        );
        assert_eq!(existing_sql(&["x'; DROP"]).matches('\'').count(), 2);
        assert_eq!(
            parse_existing(
                "6131\tlatin1\tlatin1_swedish_ci\t2\n776560697264\tutf8mb4\tutf8mb4_bin\t0\n"
            )
            .unwrap(),
            [
                Existing {
                    name: "a1".into(),
                    charset: "latin1".into(),
                    collation: "latin1_swedish_ci".into(),
                    tables: 2
                },
                Existing {
                    name: "we`ird".into(),
                    charset: "utf8mb4".into(),
                    collation: "utf8mb4_bin".into(),
                    tables: 0
                }
            ]
        );
        assert_eq!(parse_existing("").unwrap(), []);
        assert!(parse_existing("zz\ta\tb\t1").is_err());
        assert!(parse_existing("6131\ta\tb").is_err());
    }

    #[test]
    fn create_and_drop_statements() {
        assert_eq!(create_sql("s`x", None), "CREATE DATABASE `s``x`");
        assert_eq!(
            create_sql("shop", Some(&e("shop", 1))),
            "CREATE DATABASE `shop` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        );
        let mut odd = e("shop", 1);
        odd.collation = "x; DROP".into();
        assert_eq!(create_sql("shop", Some(&odd)), "CREATE DATABASE `shop`");
        assert_eq!(
            drop_sql(&["a", "b`c"]),
            "DROP DATABASE IF EXISTS `a`; DROP DATABASE IF EXISTS `b``c`"
        );
    }

    #[test]
    fn the_databases_a_dump_switches_to() {
        let dump = b"/*M!999999\\- enable the sandbox mode */ \n-- Current Database: `a1`\nCREATE DATABASE /*!32312 IF NOT EXISTS*/ `a1`;\n\nUSE `a1`;\nINSERT INTO t VALUES ('USE `x`;');\nUSE `mysql`;\nUSE `we``ird`;\nUSE `a1`;\n  USE `indented`;\nUSE `broken\n-- Dump completed\n";
        assert_eq!(databases_in(&dump[..]).unwrap(), ["a1", "mysql", "we`ird"]);
        assert_eq!(
            databases_in(&b"CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);"[..]).unwrap(),
            Vec::<String>::new()
        );
    }
}
