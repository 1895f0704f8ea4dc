//! After a successful backup: retention (files, or folders in directory mode) and the
//! staging leftovers of killed runs.

use tracing::{error, info, warn};

use crate::config::Config;
use crate::engine;
use crate::pipeline::commit::stale_age;
use crate::pipeline::directory::SUMS;
use crate::pipeline::{self, Unit};
use crate::rclone::{self, Rclone};
use crate::retention;

/// Retention failures are logged, not fatal: the backup itself succeeded.
pub(super) async fn apply_retention(
    cfg: &Config,
    rclone: &Rclone,
    listing: &[retention::Entry],
    current: &str,
) {
    let matcher = cfg
        .template
        .matcher(cfg.name_db(), cfg.engine.key(), &engine::extension(cfg));
    remove_stale_staging(cfg, rclone, listing, &matcher).await;
    if !cfg.retention.is_on() {
        return;
    }
    // With checksums on, an object without its .sha256 is incomplete (e.g. left by a killed
    // process): it never takes one of the RETENTION_MAX_FILES places of a good backup.
    let has_sidecar = |n: &str| {
        let sidecar = format!("{n}.sha256");
        listing.iter().any(|e| e.name == sidecar)
    };
    let expired = retention::select_expired(
        listing,
        |n| matcher.is_match(n),
        |n| !cfg.checksum || has_sidecar(n),
        current,
        cfg.retention,
        cfg.tz,
        chrono::Utc::now(),
    );
    let kept = listing.iter().filter(|e| matcher.is_match(&e.name)).count() + 1 - expired.len();
    for name in &expired {
        match delete_backup(cfg, rclone, name, has_sidecar(name)).await {
            Ok(()) => info!(object = %name, "retention: deleted expired backup"),
            Err(e) => {
                error!(object = %name, error = %format!("{e:#}"), "retention: could not delete expired backup")
            }
        }
    }
    info!(deleted = expired.len(), kept, "retention applied");
}

/// Leftovers older than this (the staging age before now) are a killed run's, not a run's
/// in progress.
fn stale_cutoff(cfg: &Config) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::Duration::from_std(stale_age(cfg))
        .ok()
        .and_then(|age| chrono::Utc::now().checked_sub_signed(age))
}

/// Whether a folder's time can be trusted to be old: object stores have no folder times and
/// report the epoch (refused here) or the listing's time (recent, so never old enough).
fn has_folder_time(folder: &retention::Entry) -> bool {
    folder.mod_time > chrono::DateTime::from_timestamp(946_684_800, 0).unwrap_or_default()
}

/// Delete one backup of this configuration: a folder (directory mode) with `rclone purge`,
/// else the object, then its `.sha256` when there is one (`sidecar`). The object goes
/// first: a backup without its sidecar is incomplete, never one that looks complete.
pub async fn delete_backup(
    cfg: &Config,
    rclone: &Rclone,
    name: &str,
    sidecar: bool,
) -> anyhow::Result<()> {
    let target = rclone::join(&cfg.remote, name);
    if pipeline::of(cfg.mode).unit() == Unit::Folders {
        return rclone.purge(&target).await;
    }
    rclone.delete(&target).await?;
    if sidecar {
        rclone
            .delete(&format!("{target}.sha256"))
            .await
            .map_err(|e| {
                e.context(format!(
                    "{name} deleted, but not its checksum file {name}.sha256"
                ))
            })?;
    }
    Ok(())
}

/// Staging uploads (`.NAME.partial-ID`) and claims (`.NAME.claim-ID`) of this
/// config's backups left by a killed run.
pub(super) async fn remove_stale_staging(
    cfg: &Config,
    rclone: &Rclone,
    listing: &[retention::Entry],
    matcher: &regex::Regex,
) {
    let inner = matcher
        .as_str()
        .trim_start_matches('^')
        .trim_end_matches('$');
    // Uploads (`.NAME.partial-ID`) and claims (`.NAME.claim-ID`).
    let staging = regex::Regex::new(&format!(r"^\.{inner}\.(partial|claim)-[0-9a-f]{{8}}$"))
        .expect("valid staging pattern");
    let Some(cutoff) = stale_cutoff(cfg) else {
        return;
    };
    for e in listing
        .iter()
        .filter(|e| staging.is_match(&e.name) && e.mod_time < cutoff)
    {
        match rclone.delete(&rclone::join(&cfg.remote, &e.name)).await {
            Ok(_) => info!(object = %e.name, "deleted a stale partial upload of a killed run"),
            Err(err) => {
                warn!(object = %e.name, error = %format!("{err:#}"), "could not delete a stale partial upload")
            }
        }
    }
}

/// Directory mode: the candidates are the top-level folders matching the template (never
/// files, never foreign folders, never the new one). A folder with its `SHA256SUMS` is
/// complete and takes a RETENTION_MAX_FILES place; its age is that file's time (written
/// last; object stores have no folder times). Incomplete folders expire by age only, their
/// own time where the backend keeps one. Expired folders are removed with `rclone purge`.
pub(super) async fn apply_folder_retention(
    cfg: &Config,
    rclone: &Rclone,
    listing: &[retention::Entry],
    folders: &[retention::Entry],
    current: &str,
) {
    let matcher = cfg
        .template
        .matcher(cfg.name_db(), cfg.engine.key(), &engine::extension(cfg));
    remove_stale_staging(cfg, rclone, listing, &matcher).await;
    remove_stale_folders(cfg, rclone, folders, &matcher).await;
    let include = format!("/*/{SUMS}");
    let sums = match rclone
        .files_under(&cfg.remote, &["--max-depth", "2", "--include", &include])
        .await
    {
        Ok(s) => s,
        Err(e) => {
            error!(error = %format!("{e:#}"), "retention: could not list the backup folders' {SUMS} files; nothing deleted");
            return;
        }
    };
    let has_sums = |name: &str| {
        let path = format!("{name}/{SUMS}");
        sums.iter().any(|o| o.name == path)
    };
    remove_abandoned_folders(cfg, rclone, listing, folders, &matcher, current, has_sums).await;
    if !cfg.retention.is_on() {
        return;
    }
    let sums_time = |name: &str| {
        let path = format!("{name}/{SUMS}");
        sums.iter().find(|o| o.name == path).map(|o| o.mod_time)
    };
    // An incomplete folder without a plausible time never expires by age.
    let candidates: Vec<retention::Entry> = folders
        .iter()
        .filter(|e| matcher.is_match(&e.name))
        .filter_map(|e| {
            let mod_time = match sums_time(&e.name) {
                Some(t) => t,
                None if has_folder_time(e) => e.mod_time,
                None => return None,
            };
            Some(retention::Entry {
                name: e.name.clone(),
                mod_time,
            })
        })
        .collect();
    let expired = retention::select_expired(
        &candidates,
        |n| matcher.is_match(n),
        |n| sums_time(n).is_some(),
        current,
        cfg.retention,
        cfg.tz,
        chrono::Utc::now(),
    );
    let kept = folders.iter().filter(|e| matcher.is_match(&e.name)).count() + 1 - expired.len();
    for name in &expired {
        match delete_backup(cfg, rclone, name, false).await {
            Ok(()) => info!(folder = %name, "retention: purged expired backup folder"),
            Err(e) => {
                error!(folder = %name, error = %format!("{e:#}"), "retention: could not purge expired backup folder")
            }
        }
    }
    info!(deleted = expired.len(), kept, "retention applied");
}

/// Incomplete backup folders (no `SHA256SUMS`) left by a killed run that wrote in place
/// (object stores: no server-side folder move, and no folder times, so retention could never
/// age them): removed when their newest file is older than the staging age and no claim of a
/// run in progress names them, whatever the retention (an incomplete folder is no backup).
/// Complete folders, the new one and foreign folders are never touched.
async fn remove_abandoned_folders(
    cfg: &Config,
    rclone: &Rclone,
    listing: &[retention::Entry],
    folders: &[retention::Entry],
    matcher: &regex::Regex,
    current: &str,
    has_sums: impl Fn(&str) -> bool,
) {
    let Some(cutoff) = stale_cutoff(cfg) else {
        return;
    };
    for f in folders
        .iter()
        .filter(|f| f.name != current && matcher.is_match(&f.name) && !has_sums(&f.name))
    {
        // A claim newer than the cutoff: a run (here or on another host) may be writing it.
        let claim = format!(".{}.claim-", f.name);
        if listing
            .iter()
            .any(|e| e.name.starts_with(&claim) && e.mod_time >= cutoff)
        {
            continue;
        }
        let target = rclone::join(&cfg.remote, &f.name);
        let newest = match rclone.files_under(&target, &[]).await {
            Ok(files) => files.iter().map(|o| o.mod_time).max(),
            Err(e) => {
                warn!(folder = %f.name, error = %format!("{e:#}"), "could not list an incomplete backup folder");
                continue;
            }
        };
        if newest.is_some_and(|t| t >= cutoff) {
            continue;
        }
        match rclone.purge(&target).await {
            Ok(()) => {
                info!(folder = %f.name, "purged an incomplete backup folder left by a killed run (no {SUMS}, nothing written to it for the staging age)")
            }
            Err(e) => {
                warn!(folder = %f.name, error = %format!("{e:#}"), "could not purge an incomplete backup folder left by a killed run")
            }
        }
    }
}

/// Hidden staging folders (`.NAME.partial-ID/`) of this config's backups left by a killed
/// run, older than the staging age (by the backend's folder time; none on object stores,
/// where nothing is staged).
async fn remove_stale_folders(
    cfg: &Config,
    rclone: &Rclone,
    folders: &[retention::Entry],
    matcher: &regex::Regex,
) {
    let inner = matcher
        .as_str()
        .trim_start_matches('^')
        .trim_end_matches('$');
    let staging = regex::Regex::new(&format!(r"^\.{inner}\.partial-[0-9a-f]{{8}}$"))
        .expect("valid staging pattern");
    let Some(cutoff) = stale_cutoff(cfg) else {
        return;
    };
    for e in folders
        .iter()
        .filter(|e| staging.is_match(&e.name) && e.mod_time < cutoff && has_folder_time(e))
    {
        match rclone.purge(&rclone::join(&cfg.remote, &e.name)).await {
            Ok(()) => info!(folder = %e.name, "purged a stale partial upload of a killed run"),
            Err(err) => {
                warn!(folder = %e.name, error = %format!("{err:#}"), "could not purge a stale partial upload")
            }
        }
    }
}
