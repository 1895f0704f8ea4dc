//! After a successful backup: retention (files, or folders in directory mode) and the
//! staging leftovers of killed runs.

use tracing::{error, info, warn};

use crate::config::Config;
use crate::engine;
use crate::pipeline::commit::stale_age;
use crate::pipeline::directory::SUMS;
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
        let target = rclone::join(&cfg.remote, name);
        match rclone.delete(&target).await {
            Ok(_) => info!(object = %name, "retention: deleted expired backup"),
            Err(e) => {
                error!(object = %name, error = %format!("{e:#}"), "retention: could not delete expired backup");
                continue;
            }
        }
        let sidecar = format!("{name}.sha256");
        if listing.iter().any(|e| e.name == sidecar) {
            if let Err(e) = rclone.delete(&rclone::join(&cfg.remote, &sidecar)).await {
                error!(object = %sidecar, error = %format!("{e:#}"), "retention: could not delete checksum file");
            }
        }
    }
    info!(deleted = expired.len(), kept, "retention applied");
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
    let Some(cutoff) = chrono::Duration::from_std(stale_age(cfg))
        .ok()
        .and_then(|age| chrono::Utc::now().checked_sub_signed(age))
    else {
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
    if !cfg.retention.is_on() {
        return;
    }
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
    let sums_time = |name: &str| {
        let path = format!("{name}/{SUMS}");
        sums.iter().find(|o| o.name == path).map(|o| o.mod_time)
    };
    // Object stores report no folder time (the epoch, or the listing's time): an
    // incomplete folder without a plausible time never expires by age.
    let plausible = chrono::DateTime::from_timestamp(946_684_800, 0).unwrap_or_default();
    let candidates: Vec<retention::Entry> = folders
        .iter()
        .filter(|e| matcher.is_match(&e.name))
        .filter_map(|e| {
            let mod_time = match sums_time(&e.name) {
                Some(t) => t,
                None if e.mod_time > plausible => e.mod_time,
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
        match rclone.purge(&rclone::join(&cfg.remote, name)).await {
            Ok(()) => info!(folder = %name, "retention: purged expired backup folder"),
            Err(e) => {
                error!(folder = %name, error = %format!("{e:#}"), "retention: could not purge expired backup folder")
            }
        }
    }
    info!(deleted = expired.len(), kept, "retention applied");
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
    let Some(cutoff) = chrono::Duration::from_std(stale_age(cfg))
        .ok()
        .and_then(|age| chrono::Utc::now().checked_sub_signed(age))
    else {
        return;
    };
    let plausible = chrono::DateTime::from_timestamp(946_684_800, 0).unwrap_or_default();
    for e in folders
        .iter()
        .filter(|e| staging.is_match(&e.name) && e.mod_time < cutoff && e.mod_time > plausible)
    {
        match rclone.purge(&rclone::join(&cfg.remote, &e.name)).await {
            Ok(()) => info!(folder = %e.name, "purged a stale partial upload of a killed run"),
            Err(err) => {
                warn!(folder = %e.name, error = %format!("{err:#}"), "could not purge a stale partial upload")
            }
        }
    }
}
