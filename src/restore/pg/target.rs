//! The target database of a restore: what it holds, refused or prepared (created when
//! missing, dropped again after a failed restore), and `--drop-existing`'s SQL for plain
//! scripts.

use std::fmt::Write as _;

use anyhow::Context as _;
use tracing::{error, info};

use super::proc::run_query;
use super::Options;
use crate::config::Config;
use crate::engine::Postgres;
use crate::process::ChildFailed;

/// `--drop-existing` for plain SQL, which psql cannot "clean": every extension (but plpgsql),
/// every schema of the target (`CASCADE`: its tables, views, functions, types) and every
/// large object are dropped, and an empty `public` schema is made as `CREATE DATABASE`
/// makes it; all inside the restore's transaction, so a failed or corrupted restore rolls
/// the drop back too.
pub(super) const DROP_EXISTING_SQL: &str = r#"-- dbstash --drop-existing: drop the target's schemas and large objects first
DO $dbstash$
DECLARE
  s name;
BEGIN
  -- Extensions first: a schema an extension owns cannot be dropped before it.
  FOR s IN SELECT extname FROM pg_catalog.pg_extension WHERE extname <> 'plpgsql' LOOP
    EXECUTE format('DROP EXTENSION %I CASCADE', s);
  END LOOP;
  FOR s IN SELECT nspname FROM pg_catalog.pg_namespace
           WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
             AND nspname NOT LIKE 'pg\_temp\_%' AND nspname NOT LIKE 'pg\_toast\_temp\_%'
  LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', s);
  END LOOP;
  PERFORM pg_catalog.lo_unlink(oid) FROM pg_catalog.pg_largeobject_metadata;
  IF current_setting('server_version_num')::int >= 150000 THEN
    CREATE SCHEMA public AUTHORIZATION pg_database_owner;
    GRANT USAGE ON SCHEMA public TO PUBLIC;
  ELSE
    CREATE SCHEMA public;
    GRANT USAGE, CREATE ON SCHEMA public TO PUBLIC;
  END IF;
  COMMENT ON SCHEMA public IS 'standard public schema';
END
$dbstash$;
"#;

/// The SQL that finds the user tables of a database: `count|first names`.
const TABLES_SQL: &str = "SELECT count(*) || '|' || coalesce(string_agg(name, ', '), '') FROM (SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%' ORDER BY 1) t";

/// What a target database holds.
#[derive(Debug, PartialEq, Eq)]
pub(in crate::restore) enum TargetState {
    Missing,
    /// The number of user tables and the first few names.
    Tables(u64, String),
}

pub(in crate::restore) async fn inspect(cfg: &Config, db: &str) -> anyhow::Result<TargetState> {
    let dc = Postgres.restore_query(cfg, db, TABLES_SQL);
    match run_query(&dc).await {
        Ok(out) => {
            let (n, names) = out.trim().split_once('|').unwrap_or(("0", ""));
            let n: u64 = n.parse().unwrap_or(0);
            let shown: Vec<&str> = names
                .split(", ")
                .filter(|s| !s.is_empty())
                .take(5)
                .collect();
            let mut shown = shown.join(", ");
            if n > 5 {
                let _ = write!(shown, ", …");
            }
            Ok(TargetState::Tables(n, shown))
        }
        Err(e) if is_missing_database(&e, db) => Ok(TargetState::Missing),
        Err(e) => Err(e.context(format!("checking the target database {db} failed"))),
    }
}

fn is_missing_database(e: &anyhow::Error, db: &str) -> bool {
    e.downcast_ref::<ChildFailed>().is_some_and(|c| {
        c.stderr
            .contains(&format!("database \"{db}\" does not exist"))
    })
}

/// A quoted SQL identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Refuse a target with tables (unless `--drop-existing` or `--force`); create a missing one.
pub(in crate::restore) async fn prepare_target(
    cfg: &Config,
    opts: &Options,
    created: &mut Option<String>,
) -> anyhow::Result<()> {
    match inspect(cfg, &opts.target).await? {
        TargetState::Missing => {
            let maintenance = Postgres.maintenance_database(cfg);
            info!(database = %opts.target, "the target database does not exist: creating it");
            let sql = format!("CREATE DATABASE {}", ident(&opts.target));
            run_query(&Postgres.restore_query(cfg, &maintenance, &sql))
                .await
                .with_context(|| format!("the target database {} does not exist, and creating it (connected to {maintenance}) failed: create it yourself (createdb, or CREATE DATABASE) or let the user create databases", opts.target))?;
            *created = Some(opts.target.clone());
            Ok(())
        }
        TargetState::Tables(0, _) => Ok(()),
        TargetState::Tables(n, names) => {
            if opts.drop_existing {
                info!(database = %opts.target, tables = n, "--drop-existing: the target's objects are dropped in the restore's transaction");
                Ok(())
            } else if opts.force {
                info!(database = %opts.target, tables = n, "--force: restoring on top of the existing tables (a conflict fails the restore, and it is rolled back)");
                Ok(())
            } else {
                anyhow::bail!(
                    "the target database {} ({}) already has {n} table(s) ({names}): refusing to restore into it. Give --drop-existing (RESTORE_DROP_EXISTING=true) to drop its objects first (in the restore's transaction), --force (RESTORE_FORCE=true) to restore on top of them, or --target-db NAME for another database",
                    opts.target, opts.target_from
                )
            }
        }
    }
}

/// Drop the database this restore created, after a failure: bounded, logged.
pub(in crate::restore) async fn drop_created(cfg: &Config, db: &str) {
    let maintenance = Postgres.maintenance_database(cfg);
    let dc = Postgres.restore_query(
        cfg,
        &maintenance,
        &format!("DROP DATABASE IF EXISTS {}", ident(db)),
    );
    match tokio::time::timeout(std::time::Duration::from_secs(30), run_query(&dc)).await {
        Ok(Ok(_)) => info!(database = %db, "dropped the database this failed restore had created"),
        Ok(Err(e)) => {
            error!(database = %db, error = %format!("{e:#}"), "could not drop the database this failed restore had created: drop it by hand")
        }
        Err(_) => {
            error!(database = %db, "no answer while dropping the database this failed restore had created: drop it by hand")
        }
    }
}
