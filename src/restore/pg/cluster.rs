//! pg_dumpall's scripts (the whole cluster, or its globals): downloaded and verified first,
//! then applied by psql connected to the maintenance database, its errors read from psql's
//! stderr.

use std::path::Path;

use anyhow::Context as _;
use tokio::io::{AsyncBufReadExt as _, AsyncRead};
use tracing::info;

use super::proc::{Output, Proc};
use super::target::{inspect, TargetState};
use super::{compression_of, file_head, Done, Options};
use crate::config::Config;
use crate::engine::Postgres;
use crate::rclone::Rclone;
use crate::restore::decompress::Compression;
use crate::restore::{download_plain, Selected};

pub(super) async fn restore_cluster(
    cfg: &Config,
    opts: &Options,
    rclone: &Rclone,
    sel: &Selected,
) -> anyhow::Result<Done> {
    // CREATE DATABASE and \connect cannot run in one transaction: verify first, then apply.
    let file = download_plain(
        rclone,
        sel,
        &cfg.temp_dir,
        opts.no_verify,
        cfg.encryption.identity.as_ref(),
    )
    .await?;
    let compression = compression_of(&file_head(&file.path)?);
    let (databases, whole) = cluster_databases(&file.path, compression)?;
    if !whole && !file.verified.checked {
        anyhow::bail!(
            "the backup (restored without a checksum, --no-verify) does not end with pg_dumpall's completion line: it is truncated or not a pg_dumpall script; nothing was applied"
        );
    }
    if !opts.force {
        let mut busy = Vec::new();
        for db in &databases {
            if let TargetState::Tables(n, _) = inspect(cfg, db).await? {
                if n > 0 {
                    busy.push(format!("{db} ({n} tables)"));
                }
            }
        }
        if !busy.is_empty() {
            anyhow::bail!(
                "databases of this cluster backup already have tables on the server: {}. Refusing to restore over them: restore into a new (empty) server, or give --force (RESTORE_FORCE=true) to apply it anyway (existing objects make statements fail, and those errors fail the restore)",
                busy.join(", ")
            );
        }
    }
    let maintenance = Postgres.maintenance_database(cfg);
    let dc = Postgres.restore_cluster(cfg, "-");
    let mut p = Proc::spawn(&dc, true, Output::Errors)?;
    // Errors are counted from psql's stderr: ON_ERROR_STOP cannot be on (see the engine).
    let errors = p
        .child
        .stderr
        .take()
        .map(|e| tokio::spawn(cluster_errors(e, opts.force)));
    let stdin = p.stdin.as_mut().expect("stdin is piped");
    if let Err(e) = crate::restore::decompress::copy_file(&file.path, compression, stdin).await {
        return Err(p.failure(&format!("feeding psql failed: {e}")).await);
    }
    let finished = p.finish().await;
    let errors = match errors {
        Some(h) => h.await.unwrap_or_default(),
        None => ClusterErrors::default(),
    };
    finished?;
    if errors.count > 0 {
        anyhow::bail!(
            "psql reported {} error(s) applying the cluster backup (connected to {maintenance}); a cluster restore is not one transaction, so what ran without error stays applied. First errors:\n{}",
            errors.count,
            errors.first.join("\n")
        );
    }
    if errors.tolerated > 0 {
        info!(
            count = errors.tolerated,
            "ignored errors about roles (and with --force databases) that already exist"
        );
    }
    Ok(Done {
        name: sel.name.clone(),
        into: if cfg.globals_only {
            "the server's roles and tablespaces (globals)".to_string()
        } else {
            format!("the cluster ({} databases)", databases.len())
        },
        bytes: file.verified.bytes,
        verified: file.verified.checked,
    })
}

/// The databases a pg_dumpall script fills (its `\connect` lines), and whether it ends with
/// pg_dumpall's completion line.
fn cluster_databases(path: &Path, c: Compression) -> anyhow::Result<(Vec<String>, bool)> {
    use std::io::BufRead as _;
    let reader = std::io::BufReader::new(c.open(path)?);
    let mut dbs: Vec<String> = Vec::new();
    let mut whole = false;
    for line in reader.split(b'\n') {
        let line = line.context("reading the downloaded backup")?;
        let line = String::from_utf8_lossy(&line);
        if let Some(db) = connect_target(&line) {
            if !dbs.contains(&db) {
                dbs.push(db);
            }
        }
        if line.starts_with("-- PostgreSQL database cluster dump complete") {
            whole = true;
        }
    }
    Ok((dbs, whole))
}

/// The database of a `\connect` line as pg_dumpall writes it: `\connect name`,
/// `\connect "Name"`, or `\connect -reuse-previous=on "dbname='name'"`.
fn connect_target(line: &str) -> Option<String> {
    let rest = line.strip_prefix("\\connect ")?.trim();
    if let Some(conn) = rest.strip_prefix("-reuse-previous=on ") {
        let inner = conn
            .trim()
            .strip_prefix('"')?
            .strip_suffix('"')?
            .replace("\"\"", "\"");
        let v = inner.strip_prefix("dbname='")?.strip_suffix('\'')?;
        let mut out = String::new();
        let mut chars = v.chars();
        while let Some(ch) = chars.next() {
            if ch == '\\' {
                out.extend(chars.next());
            } else {
                out.push(ch);
            }
        }
        return Some(out);
    }
    if let Some(q) = rest.strip_prefix('"') {
        return Some(q.strip_suffix('"')?.replace("\"\"", "\""));
    }
    Some(rest.to_string()).filter(|s| !s.is_empty())
}

#[derive(Debug, Default)]
struct ClusterErrors {
    count: u64,
    tolerated: u64,
    first: Vec<String>,
}

/// Read psql's stderr: `ERROR:` lines counted, except those about roles (and, with
/// `--force`, databases) that already exist.
async fn cluster_errors<R: AsyncRead + Unpin>(r: R, force: bool) -> ClusterErrors {
    let mut lines = tokio::io::BufReader::new(r).lines();
    let mut out = ClusterErrors::default();
    while let Ok(Some(line)) = lines.next_line().await {
        if !line.contains("ERROR:") {
            continue;
        }
        let exists = line.contains("already exists");
        if exists
            && (line.contains("ERROR:  role ") || (force && line.contains("ERROR:  database ")))
        {
            out.tolerated += 1;
            continue;
        }
        out.count += 1;
        if out.first.len() < 10 {
            out.first.push(crate::rclone::redact_remote(&line));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_lines_name_the_databases() {
        for (line, want) in [
            ("\\connect template1", Some("template1")),
            ("\\connect shop", Some("shop")),
            ("\\connect \"Shop\"", Some("Shop")),
            (
                "\\connect -reuse-previous=on \"dbname='we ird'\"",
                Some("we ird"),
            ),
            (
                "\\connect -reuse-previous=on \"dbname='it\\'s \"\"x\"\"'\"",
                Some("it's \"x\""),
            ),
            ("CREATE DATABASE x;", None),
        ] {
            assert_eq!(connect_target(line).as_deref(), want, "{line}");
        }
    }
}
