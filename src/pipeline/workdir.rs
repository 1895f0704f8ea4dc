//! Work dirs of the `directory` and `tar` modes: one fresh private folder per run under
//! BACKUP_TEMP_DIR, `dbstash-run-<config hash>-<backup_id>`, removed when the run ends however
//! it ends (success, failure, timeout, SIGTERM: the guard's drop). A SIGKILLed run leaves its
//! folder behind: the next run of the *same configuration* removes it at start, once the
//! process recorded in its `owner` file is gone. Folders of other configurations (another
//! hash) and of live runs are never touched.

use std::io;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::config::Config;

/// Prefix of every work dir's name.
const PREFIX: &str = "dbstash-run-";
/// The file inside a work dir naming the process that owns it: `PID STARTTIME`.
const OWNER: &str = "owner";
/// The folder inside the work dir the dump tool writes into.
pub const DUMP: &str = "dump";

/// The configuration's identity in work-dir names: engine, database as names write it, and
/// the remote in one spelling (the lock's identity), hashed.
pub fn config_hash(cfg: &Config) -> String {
    use sha2::Digest as _;
    let remote = crate::rclone::normalize_remote(&cfg.remote);
    let db = crate::template::db_in_names(cfg.name_db());
    let digest = sha2::Sha256::digest(format!("{}\n{db}\n{remote}", cfg.engine.key()).as_bytes());
    format!("{digest:x}")[..12].to_string()
}

/// Where this run's work dir will be (nothing is created).
pub fn path_for(cfg: &Config, backup_id: &str) -> PathBuf {
    cfg.temp_dir
        .join(format!("{PREFIX}{}-{backup_id}", config_hash(cfg)))
}

/// A run's work dir, removed on drop.
pub struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    /// Create `path` (BACKUP_TEMP_DIR first, if missing), private to this user (0700), or
    /// 0711 when another user (the MySQL server of `--tab`) must reach `dump/` inside it.
    /// `dump/` itself is made by [`Self::dump_dir`].
    pub fn create(cfg: &Config, path: PathBuf) -> anyhow::Result<WorkDir> {
        use std::os::unix::fs::DirBuilderExt as _;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(&cfg.temp_dir)
            .with_context(|| {
                format!("creating BACKUP_TEMP_DIR {} failed", cfg.temp_dir.display())
            })?;
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .with_context(|| {
                format!(
                    "creating the work dir {} in BACKUP_TEMP_DIR failed",
                    path.display()
                )
            })?;
        let dir = WorkDir { path };
        std::fs::write(dir.path.join(OWNER), own_identity())
            .with_context(|| format!("writing {} failed", dir.path.join(OWNER).display()))?;
        Ok(dir)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The folder the dump tool writes into: `WORKDIR/dump`. `server_writes`: another user
    /// (the MySQL/MariaDB server, `--tab`) creates files in it. The work dir then lets others
    /// pass (0711, not list) and `dump/` lets them create files (1733: not list, and not
    /// remove or rename this user's files); the tree is checked after the dump (see
    /// `engine`'s `--tab` rules in `directory.rs`).
    pub fn dump_dir(&self, server_writes: bool) -> anyhow::Result<PathBuf> {
        use std::os::unix::fs::PermissionsExt as _;
        let dump = self.path.join(DUMP);
        if !server_writes {
            // pg_dump -Fd and mongodump --out create it themselves.
            return Ok(dump);
        }
        std::fs::create_dir(&dump)
            .with_context(|| format!("creating {} failed", dump.display()))?;
        // Modes set explicitly: the umask must not take the server's access away.
        std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o711))
            .and_then(|_| std::fs::set_permissions(&dump, std::fs::Permissions::from_mode(0o1733)))
            .with_context(|| format!("opening {} to the database server failed", dump.display()))?;
        // The server (most likely another user) must pass every folder above it.
        use std::os::unix::fs::MetadataExt as _;
        for dir in self.path.ancestors().skip(1) {
            let Ok(meta) = std::fs::metadata(dir) else {
                continue;
            };
            if meta.mode() & 0o001 == 0 {
                tracing::warn!(
                    folder = %dir.display(),
                    "other users cannot pass through {} (mode {:o}): a MySQL/MariaDB server running as another user cannot write the --tab files into BACKUP_TEMP_DIR; make it and the folders above it searchable (chmod o+x, e.g. 0711)",
                    dir.display(),
                    meta.mode() & 0o7777
                );
                break;
            }
        }
        Ok(dump)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        remove(&self.path);
    }
}

/// Remove a work dir. A process killed a moment ago (the dump) may still create a file in
/// it while it goes: a few attempts.
fn remove(path: &Path) {
    for attempt in 0..10 {
        match std::fs::remove_dir_all(path) {
            Ok(()) => return,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return,
            Err(e) if attempt == 9 => {
                tracing::error!(
                    work_dir = %path.display(),
                    error = %e,
                    "could not remove the work dir: delete it by hand"
                );
            }
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
}

/// `PID STARTTIME` of this process (its start time from /proc: a pid alone may be reused).
fn own_identity() -> String {
    let pid = std::process::id();
    format!("{pid} {}\n", start_time(pid).unwrap_or_default())
}

/// Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count after its end.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Whether the owner recorded as `PID STARTTIME` still runs.
fn owner_alive(owner: &str) -> bool {
    let mut it = owner.split_whitespace();
    let (Some(pid), start) = (it.next().and_then(|p| p.parse::<u32>().ok()), it.next()) else {
        return false;
    };
    match (start_time(pid), start.and_then(|s| s.parse::<u64>().ok())) {
        (Some(now), Some(then)) => now == then,
        // No /proc entry: gone.
        (None, _) => false,
        // An owner file without a start time: only the pid can tell.
        (Some(_), None) => true,
    }
}

/// Remove the work dirs of this configuration left by runs that are gone (SIGKILLed): names
/// `dbstash-run-<this config's hash>-<8 hex>` whose owner process no longer runs. A work
/// dir without an owner file yet is a run being set up: left alone unless over an hour old.
/// Returns the folders removed.
pub fn remove_stale(cfg: &Config) -> Vec<PathBuf> {
    let prefix = format!("{PREFIX}{}-", config_hash(cfg));
    let Ok(entries) = std::fs::read_dir(&cfg.temp_dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(id) = name.strip_prefix(&prefix) else {
            continue;
        };
        let hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        if id.len() != 8 || !id.bytes().all(hex) {
            continue;
        }
        // Never follow a symlink someone put there.
        let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
            continue;
        };
        if !meta.is_dir() {
            continue;
        }
        let stale = match std::fs::read_to_string(e.path().join(OWNER)) {
            Ok(owner) => !owner_alive(&owner),
            Err(_) => meta
                .modified()
                .ok()
                .and_then(|m| m.elapsed().ok())
                .is_some_and(|age| age > std::time::Duration::from_secs(3600)),
        };
        if stale {
            remove(&e.path());
            if !e.path().exists() {
                removed.push(e.path());
            }
        }
    }
    removed
}

/// Free bytes for this user in the file system holding `dir`.
pub fn free_space(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt as _;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: statvfs fills the struct we own from a valid C string.
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return None;
    }
    Some((s.f_bavail as u64).saturating_mul(s.f_frsize as u64))
}

/// `1.5 GiB`, for the free-space log line and errors.
pub fn fmt_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_told_alive_by_pid_and_start_time() {
        assert!(owner_alive(&own_identity()));
        let pid = std::process::id();
        let start = start_time(pid).unwrap();
        assert!(!owner_alive(&format!("{pid} {}", start + 1)), "pid reused");
        assert!(!owner_alive("4194999 1"), "no such process");
        assert!(!owner_alive("garbage"));
        assert!(!owner_alive(""));
    }

    #[test]
    fn bytes_read_like_a_human_wrote_them() {
        assert_eq!(fmt_bytes(512), "512 B");
        assert_eq!(fmt_bytes(2 * 1024 * 1024), "2.0 MiB");
        assert_eq!(fmt_bytes(u64::MAX), "16777216.0 TiB");
    }
}
