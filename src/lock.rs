//! The overlap guard: an OS file lock (`flock`) on a lock file. It holds between processes
//! sharing the file (a volume), and dies with its process, so a stale file left by a killed
//! dbstash never blocks anything.

use std::fs::{File, TryLockError};
use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;

/// Held while a backup runs; the lock is released when this is dropped.
pub struct LockGuard {
    _file: File,
}

/// `Ok(None)` when another run holds the lock.
pub fn try_acquire(path: &Path) -> anyhow::Result<Option<LockGuard>> {
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating the lock directory {}", dir.display()))?;
    }
    // O_NOFOLLOW: in a shared /tmp, a planted symlink must not make us truncate its target.
    let mut file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("opening the lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {
            // For humans looking at the file: who holds it.
            let _ = file
                .set_len(0)
                .and_then(|_| writeln!(file, "{}", std::process::id()));
            Ok(Some(LockGuard { _file: file }))
        }
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking {}", path.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/dbstash.lock");
        let first = try_acquire(&path).unwrap().expect("free lock");
        assert!(try_acquire(&path).unwrap().is_none(), "held lock refused");
        drop(first);
        assert!(
            try_acquire(&path).unwrap().is_some(),
            "released lock free again"
        );
    }
}
