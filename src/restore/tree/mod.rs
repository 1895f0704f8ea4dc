//! Directory and tar backups (BACKUP_MODE=directory|tar) for `list`, `verify` and
//! `restore`: a dump tool's tree of files, either as a folder `REMOTE/NAME/` with a
//! `SHA256SUMS` file uploaded last (its completion marker), or as one tar object with the
//! usual `.sha256` sidecar.
//!
//! Both end the same way: the tree in a private 0700 directory under BACKUP_TEMP_DIR, every
//! byte checked (a folder: each file against SHA256SUMS, nothing missing and nothing
//! unlisted; a tar: the object against its sidecar, then untarred with regular files and
//! directories only, no path leaving the directory), removed when dropped. Only then does a
//! restore tool see it.
//!
//! This file holds the modes' rules (which configurations read trees, their extensions, the
//! matrix of what applies), the directory backups among a listing ([`folders`]) and the rule
//! for a path inside a tree ([`check_rel`]); `sums` checks a tree against SHA256SUMS, `untar`
//! unpacks a tar safely, `fetch` downloads and checks a backup's tree.

mod fetch;
mod sums;
mod untar;

use std::collections::BTreeMap;

use regex::Regex;

use super::select::Backup;
use crate::config::{BackupMode, Config, ConfigError};
use crate::engine::EngineKind;
use crate::rclone::TreeFile;

pub use fetch::{fetch, Fetched};
pub use sums::{check_tree, parse_sums, walk, SUMS, SUMS_MAX};
pub use untar::untar;

/// Longest path inside a tree.
const MAX_PATH: usize = 4096;

/// Whether this configuration's backups are trees (directory or tar mode).
pub fn is_tree(cfg: &Config) -> bool {
    cfg.mode != BackupMode::Stream
}

pub fn mode_name(mode: BackupMode) -> &'static str {
    match mode {
        BackupMode::Stream => "stream",
        BackupMode::Directory => "directory",
        BackupMode::Tar => "tar",
    }
}

/// The compatibility matrix of the modes, for the commands that read backups: exit 2 for a
/// combination no backup can have been written with.
pub fn check_mode(cfg: &Config) -> Result<(), ConfigError> {
    if cfg.mode == BackupMode::Stream {
        return Ok(());
    }
    let mode = mode_name(cfg.mode);
    if cfg.engine == EngineKind::Redis {
        return Err(ConfigError::var(
            "BACKUP_MODE",
            format!("{mode} does not apply to redis: an RDB snapshot is one file (use stream)"),
        ));
    }
    if cfg.all_databases && cfg.engine != EngineKind::Mongo {
        let tool = if cfg.engine == EngineKind::Pg {
            "pg_dumpall writes one script"
        } else {
            "mysqldump --all-databases writes one script (--tab dumps one database)"
        };
        return Err(ConfigError::var(
            "BACKUP_MODE",
            format!("{mode} does not apply to an all-databases backup (BACKUP_ALL_DATABASES): {tool}, so it is stream-only"),
        ));
    }
    Ok(())
}

/// The extensions a tree backup of this configuration may carry: BACKUP_EXTENSION when set;
/// else none for a folder, `.tar`, `.tar.gz` or `.tar.zst` for a tar.
pub fn extensions(cfg: &Config) -> Vec<String> {
    if let Some(e) = &cfg.extension {
        return vec![e.clone()];
    }
    match cfg.mode {
        BackupMode::Directory => vec![String::new()],
        _ => [".tar", ".tar.gz", ".tar.zst"]
            .into_iter()
            .flat_map(|e| [e.to_string(), format!("{e}.age")])
            .collect(),
    }
}

/// The folders among `files` (a recursive listing of RCLONE_REMOTE) that are this
/// configuration's directory backups, newest first: size is the sum of their files but
/// SHA256SUMS, time the newest file's (SHA256SUMS goes last: the backup's end), complete
/// with a SHA256SUMS at their top.
pub fn folders(matchers: &[Regex], files: &[TreeFile]) -> Vec<Backup> {
    let mut by_folder: BTreeMap<&str, Backup> = BTreeMap::new();
    for f in files {
        let Some((top, rest)) = f.path.split_once('/') else {
            continue; // a file directly in the folder: not a directory backup
        };
        if !matchers.iter().any(|m| m.is_match(top)) {
            continue;
        }
        let b = by_folder.entry(top).or_insert_with(|| Backup {
            name: top.to_string(),
            size: 0,
            mod_time: f.mod_time,
            has_sidecar: false,
        });
        if rest == SUMS {
            b.has_sidecar = true;
        } else if b.size >= 0 {
            b.size = if f.size < 0 { -1 } else { b.size + f.size };
        }
        b.mod_time = b.mod_time.max(f.mod_time);
    }
    let mut out: Vec<Backup> = by_folder.into_values().collect();
    out.sort_by(|a, b| {
        b.mod_time
            .cmp(&a.mod_time)
            .then_with(|| b.name.cmp(&a.name))
    });
    out
}

/// A relative path inside a tree as SHA256SUMS or a tar names it: `/`-separated normal
/// components only (no `..`, no `.`, not absolute, no empty component, no control
/// character). The error says why.
pub fn check_rel(p: &str) -> Result<(), String> {
    if p.is_empty() {
        return Err("an empty path".into());
    }
    if p.len() > MAX_PATH {
        return Err(format!("a path longer than {MAX_PATH} bytes"));
    }
    if p.starts_with('/') {
        return Err(format!("'{p}' is absolute"));
    }
    if p.chars().any(char::is_control) {
        return Err(format!("{p:?} holds a control character"));
    }
    for c in p.split('/') {
        match c {
            "" => return Err(format!("'{p}' has an empty component")),
            "." | ".." => {
                return Err(format!(
                    "'{p}' has a '{c}' component: it could leave the backup's folder"
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_must_stay_inside() {
        for ok in ["toc.dat", "shop/users.bson", "a b/c..d"] {
            assert!(check_rel(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../evil",
            "a/../../b",
            "a//b",
            "./a",
            "a/.",
            "a\nb",
        ] {
            assert!(check_rel(bad).is_err(), "{bad:?}");
        }
    }

    fn tf(path: &str, size: i64, secs: i64) -> TreeFile {
        TreeFile {
            path: path.into(),
            size,
            mod_time: chrono::DateTime::from_timestamp(1_770_000_000 + secs, 0).unwrap(),
        }
    }

    #[test]
    fn folders_group_by_their_top_and_need_sums() {
        let m = [Regex::new(r"^shop-[0-9]{4}$").unwrap()];
        let found = folders(
            &m,
            &[
                tf("shop-0001/toc.dat", 10, 1),
                tf("shop-0001/3001.dat.gz", 5, 2),
                tf("shop-0001/SHA256SUMS", 100, 3),
                tf("shop-0002/toc.dat", 7, 4),
                tf("shop-0003", 7, 5),
                tf("other-0004/toc.dat", 7, 6),
                tf(".shop-0005.partial-1/toc.dat", 7, 7),
            ],
        );
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].name.as_str(), found[0].size, found[0].has_sidecar),
            ("shop-0002", 7, false)
        );
        assert_eq!(
            (found[1].name.as_str(), found[1].size, found[1].has_sidecar),
            ("shop-0001", 15, true)
        );
    }
}
