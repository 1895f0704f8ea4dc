//! Secrets for children, as files they read: in memory (`memfd_create`, sealed) where
//! possible, else a 0600 temp file, and the sweep of temp files a SIGKILLed run left behind.

use std::io;
use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};
use std::path::{Path, PathBuf};

use tokio::process::Command;

/// A secret handed to a child as a file it reads: the tool's credentials file (mongodump's
/// `--config`, libpq's service file) or rclone's inline configuration.
///
/// It lives in memory (`memfd_create`, mode 0600, sealed against writes). The child inherits
/// the descriptor (see [`SecretFile::hand_to`]) and is given the path `/proc/self/fd/<fd>`,
/// which names its own copy: a process may always open its own descriptors, even when
/// dbstash's `/proc/<pid>/fd` is closed to its children (a dbstash that is not dumpable: an
/// execute-only binary, file capabilities). What the child starts inherits it too (pg_dumpall's
/// pg_dump). It vanishes with the last process holding it, however dbstash ends. Where that
/// does not work (no memfd, no /proc), a 0600 temp file `dbstash-secret-*` in TMPDIR, removed
/// on drop, is the fallback; one a SIGKILL leaves behind is removed by a later run (see
/// [`remove_stale_secret_files`]).
pub struct SecretFile {
    path: PathBuf,
    backing: Backing,
}

enum Backing {
    Memory(#[allow(dead_code)] OwnedFd),
    Disk(#[allow(dead_code)] tempfile::NamedTempFile),
}

impl SecretFile {
    /// The path the child is given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the secret lives in memory (not in a file in TMPDIR).
    pub fn in_memory(&self) -> bool {
        matches!(self.backing, Backing::Memory(_))
    }

    /// Let `cmd`'s child inherit the memory file (its descriptor stays close-on-exec in
    /// dbstash, so no other child gets it), for [`Self::path`] to name in the child.
    pub fn hand_to(&self, cmd: &mut Command) {
        let Backing::Memory(fd) = &self.backing else {
            return;
        };
        let fd = fd.as_raw_fd();
        // SAFETY: fcntl is async-signal-safe; it changes the child's copy of the descriptor.
        unsafe {
            cmd.pre_exec(move || {
                if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
}

/// The prefix of the fallback temp files (and of earlier versions' files).
const SECRET_FILE_PREFIX: &str = "dbstash-secret-";

/// A [`SecretFile`] holding `content`.
pub fn secret_file(content: &str) -> anyhow::Result<SecretFile> {
    match memory_file(content) {
        Ok(f) => Ok(f),
        Err(e) => {
            tracing::debug!(
                "no memory file for a secret ({e}): using a 0600 temp file in {}",
                std::env::temp_dir().display()
            );
            disk_file(content)
        }
    }
}

fn memory_file(content: &str) -> io::Result<SecretFile> {
    use std::io::{Read as _, Seek as _, Write as _};
    // SAFETY: plain syscalls on a descriptor we own from here on.
    let fd = unsafe {
        let fd = libc::memfd_create(
            c"dbstash-secret".as_ptr(),
            libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING,
        );
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        OwnedFd::from_raw_fd(fd)
    };
    // SAFETY: fchmod and fcntl on our own descriptor.
    if unsafe { libc::fchmod(fd.as_raw_fd(), 0o600) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut file = std::fs::File::from(fd);
    file.write_all(content.as_bytes())?;
    // Children read it; none may change it for the next.
    let seals = libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE | libc::F_SEAL_SEAL;
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, seals) } != 0 {
        return Err(io::Error::last_os_error());
    }
    file.rewind()?;
    // In the child, which inherits the descriptor under the same number (see `hand_to`).
    let path = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
    // What a child will do: open the path and read it back (proves /proc is there).
    let mut back = String::new();
    std::fs::File::open(&path)?.read_to_string(&mut back)?;
    if back != content {
        return Err(io::Error::other("the memory file reads back differently"));
    }
    Ok(SecretFile {
        path,
        backing: Backing::Memory(file.into()),
    })
}

/// A 0600 temp file (tempfile creates files with mode 0600), removed when dropped.
fn disk_file(content: &str) -> anyhow::Result<SecretFile> {
    use std::io::Write as _;
    let mut f = tempfile::Builder::new()
        .prefix(SECRET_FILE_PREFIX)
        .tempfile()
        .map_err(|e| anyhow::anyhow!("creating a temp file for the credentials: {e}"))?;
    f.write_all(content.as_bytes())
        .and_then(|_| f.flush())
        .map_err(|e| anyhow::anyhow!("writing the credentials file: {e}"))?;
    Ok(SecretFile {
        path: f.path().to_path_buf(),
        backing: Backing::Disk(f),
    })
}

/// Secret files older than this may be removed when no process has them open.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Remove the secret files that dbstash runs killed by SIGKILL left in `dir` (the fallback's
/// `dbstash-secret-*`, and earlier versions' `dbstash-secret-*` and `dbstash-rclone-*.conf`):
/// regular files of our user, older than a minute, that no process has open (the run that
/// created one keeps it open until it removes it). Nothing is removed when the open files of
/// one of our user's processes cannot be read. Returns how many were removed.
pub fn remove_stale_secret_files(dir: &Path) -> usize {
    use std::os::unix::fs::MetadataExt as _;
    let uid = unsafe { libc::geteuid() };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let now = std::time::SystemTime::now();
    let candidates: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(SECRET_FILE_PREFIX)
                || (name.starts_with("dbstash-rclone-") && name.ends_with(".conf"))
        })
        .filter(|e| {
            e.metadata().is_ok_and(|m| {
                m.file_type().is_file()
                    && m.uid() == uid
                    && m.modified()
                        .is_ok_and(|t| now.duration_since(t).unwrap_or_default() > STALE_AFTER)
            })
        })
        .map(|e| e.path())
        .collect();
    if candidates.is_empty() {
        return 0;
    }
    let Some(open) = files_open_by_our_user(uid) else {
        return 0;
    };
    let mut removed = 0;
    for path in candidates {
        let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if !open.contains(&real) && std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Every path that a process of user `uid` has open; `None` when one of them cannot be
/// inspected.
fn files_open_by_our_user(uid: u32) -> Option<std::collections::HashSet<PathBuf>> {
    use std::os::unix::fs::MetadataExt as _;
    let mut open = std::collections::HashSet::new();
    for proc_dir in std::fs::read_dir("/proc").ok()?.filter_map(|e| e.ok()) {
        let is_pid = proc_dir
            .file_name()
            .to_str()
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
        let ours = proc_dir.metadata().is_ok_and(|m| m.uid() == uid);
        if !is_pid || !ours {
            continue;
        }
        let fds = match std::fs::read_dir(proc_dir.path().join("fd")) {
            Ok(fds) => fds,
            // It exited meanwhile.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(_) => return None,
        };
        for fd in fds.filter_map(|e| e.ok()) {
            if let Ok(target) = std::fs::read_link(fd.path()) {
                open.insert(target);
            }
        }
    }
    Some(open)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The secret lives in memory: the child it is handed to opens the path and reads it
    /// (another child, not handed it, cannot), it is 0600 and sealed, and it vanishes when
    /// dropped.
    #[tokio::test]
    async fn secret_files_live_in_memory_and_vanish() {
        use std::os::unix::fs::PermissionsExt as _;
        let f = secret_file("uri: \"mongodb://u:pw@h/\"\n").unwrap();
        assert!(f.in_memory());
        let path = f.path().to_path_buf();
        assert!(path.starts_with("/proc/self/fd/"), "{}", path.display());
        let cat = |handed: bool| {
            let mut cmd = Command::new("cat");
            cmd.arg(&path);
            if handed {
                f.hand_to(&mut cmd);
            }
            cmd.output()
        };
        let out = cat(true).await.unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "uri: \"mongodb://u:pw@h/\"\n"
        );
        let other = cat(false).await.unwrap();
        assert!(
            !other.status.success(),
            "not handed the file: no such descriptor"
        );
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(
            std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .and_then(|mut w| std::io::Write::write_all(&mut w, b"x"))
                .is_err(),
            "sealed against writes"
        );
        drop(f);
        // The number may be reused by another descriptor; it is no longer our secret.
        assert!(std::fs::read_to_string(&path).map_or(true, |s| !s.contains("pw@h")));
    }
}
