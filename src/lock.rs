//! The overlap guard: an OS file lock (`flock`) on a lock file. It holds between processes
//! sharing the file (a volume), and dies with its process, so a stale file left by a killed
//! dbstash never blocks anything.
//!
//! The path is not trusted: it may sit in a shared temp directory. It is opened without
//! following a symlink and without blocking (a FIFO there would otherwise hang `open()`), and
//! must turn out to be a regular file with one link; anything else is refused with an error
//! naming BACKUP_LOCK_FILE. The holder writes who it is into the file, so a run that finds
//! the lock taken can say by whom.

use std::fs::{File, TryLockError};
use std::io::{self, Read as _, Write as _};
use std::os::unix::fs::{FileExt as _, MetadataExt as _};
use std::path::Path;

use anyhow::Context as _;

/// Held while a backup runs; the lock is released when this is dropped.
pub struct LockGuard {
    file: File,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // The holder line would name a process that no longer holds the lock.
        let _ = self.file.set_len(0);
    }
}

/// The outcome of [`try_acquire`].
pub enum Acquired {
    Held(LockGuard),
    /// Another process holds the lock; who, when it can be told (pid, host, since when).
    Busy {
        holder: Option<String>,
    },
}

/// What the lock path is, when it is something other than a regular file (or absent).
fn refused_kind(meta: &std::fs::Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    use std::os::unix::fs::FileTypeExt as _;
    if t.is_file() {
        None
    } else if t.is_symlink() {
        Some("a symbolic link (not followed: in a shared directory it could point anywhere)")
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if t.is_socket() {
        Some("a socket")
    } else if t.is_char_device() || t.is_block_device() {
        Some("a device")
    } else {
        Some("not a regular file")
    }
}

fn refusal(path: &Path, what: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "BACKUP_LOCK_FILE={} is {what}; it must be a regular file (or not exist yet)",
        path.display()
    )
}

/// The start-up check: refuse a lock path that exists and is not a plain regular file, before
/// anything runs (the caller exits 2). Absent is fine: the first run creates it.
pub fn check_path(path: &Path) -> anyhow::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) => match refused_kind(&meta) {
            Some(what) => Err(refusal(path, what)),
            None if meta.nlink() > 1 => Err(refusal(path, &hard_links(meta.nlink()))),
            None => Ok(()),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("checking BACKUP_LOCK_FILE={}", path.display())),
    }
}

/// A hard link to someone else's file would make us truncate it.
fn hard_links(n: u64) -> String {
    format!("a file with {n} hard links (refused: it could be another file's name)")
}

/// Take the lock without waiting. `Busy` when another process holds it; an error when the
/// path is not a regular file or cannot be opened.
pub fn try_acquire(path: &Path) -> anyhow::Result<Acquired> {
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating the lock directory {}", dir.display()))?;
    }
    // O_NOFOLLOW: a planted symlink must not make us write to its target. O_NONBLOCK: a FIFO
    // must not hang the open (it is refused just below).
    let opened = File::options()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .mode(0o600)
        .open(path);
    let mut file = match opened {
        Ok(f) => f,
        Err(e) => {
            // ELOOP is O_NOFOLLOW meeting a symlink; EISDIR, ENXIO (a FIFO with no reader)
            // and the like are named by what lies at the path.
            if let Ok(meta) = std::fs::symlink_metadata(path) {
                if let Some(what) = refused_kind(&meta) {
                    return Err(refusal(path, what));
                }
            }
            return Err(e).with_context(|| {
                format!("opening the lock file BACKUP_LOCK_FILE={}", path.display())
            });
        }
    };
    let meta = file
        .metadata()
        .with_context(|| format!("inspecting BACKUP_LOCK_FILE={}", path.display()))?;
    if let Some(what) = refused_kind(&meta) {
        return Err(refusal(path, what));
    }
    if meta.nlink() > 1 {
        return Err(refusal(path, &hard_links(meta.nlink())));
    }
    match file.try_lock() {
        Ok(()) => {
            let _ = file.set_len(0).and_then(|_| {
                writeln!(
                    file,
                    "pid {} on {} since {}",
                    std::process::id(),
                    crate::report::host_name(),
                    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                )
            });
            Ok(Acquired::Held(LockGuard { file }))
        }
        Err(TryLockError::WouldBlock) => Ok(Acquired::Busy {
            holder: holder(&file, &meta),
        }),
        Err(TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking BACKUP_LOCK_FILE={}", path.display()))
        }
    }
}

/// Who holds the lock. The kernel knows the pid (`/proc/locks`) when the holder is in our pid
/// namespace; the file says what a dbstash holder wrote (pid, host, start). The file's line is
/// used when it names the kernel's pid, or when the kernel cannot tell (another container);
/// else the kernel's pid and that process's name.
fn holder(file: &File, meta: &std::fs::Metadata) -> Option<String> {
    let written = written_holder(file);
    let written_pid = written.as_deref().and_then(|w| {
        w.strip_prefix("pid ")?
            .split(' ')
            .next()?
            .parse::<u32>()
            .ok()
    });
    match (kernel_holder(meta), written) {
        (Some(pid), Some(w)) if written_pid == Some(pid) => Some(w),
        (Some(pid), _) => {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            let comm = printable(comm.trim(), 64);
            Some(if comm.is_empty() {
                format!("pid {pid}")
            } else {
                format!("pid {pid} ({comm})")
            })
        }
        (None, Some(w)) => Some(format!("{w} (as written in the lock file)")),
        (None, None) => None,
    }
}

/// The holder line a dbstash wrote, if any: the file is not trusted, so only a short,
/// printable first line.
fn written_holder(file: &File) -> Option<String> {
    let mut buf = [0u8; 256];
    let n = file.read_at(&mut buf, 0).ok()?;
    let text = String::from_utf8_lossy(&buf[..n]);
    let line = printable(text.lines().next()?.trim(), 200);
    (!line.is_empty()).then_some(line)
}

fn printable(s: &str, max: usize) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect::<String>()
}

/// The pid holding a `flock` on the file `meta` describes, from `/proc/locks` (Linux).
fn kernel_holder(meta: &std::fs::Metadata) -> Option<u32> {
    let mut text = String::new();
    File::open("/proc/locks")
        .ok()?
        .take(1 << 20)
        .read_to_string(&mut text)
        .ok()?;
    holder_in_proc_locks(&text, meta.dev(), meta.ino())
}

/// Lines look like `1: FLOCK  ADVISORY  WRITE 4242 00:2e:1234567 0 EOF`; waiters have `->`
/// after the number and are not holders. The device is `major:minor` in hex.
fn holder_in_proc_locks(text: &str, dev: u64, ino: u64) -> Option<u32> {
    let want = format!(
        "{:02x}:{:02x}:{ino}",
        libc::major(dev as libc::dev_t),
        libc::minor(dev as libc::dev_t)
    );
    text.lines().find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.get(1) != Some(&"FLOCK") || f.get(5) != Some(&want.as_str()) {
            return None;
        }
        f.get(4)?.parse::<u32>().ok().filter(|pid| *pid > 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(a: Acquired) -> Option<LockGuard> {
        match a {
            Acquired::Held(g) => Some(g),
            Acquired::Busy { .. } => None,
        }
    }

    #[test]
    fn second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/dbstash.lock");
        let first = held(try_acquire(&path).unwrap()).expect("free lock");
        let content = std::fs::read_to_string(&path).unwrap();
        assert!(
            content.starts_with(&format!("pid {} on ", std::process::id())),
            "{content}"
        );
        match try_acquire(&path).unwrap() {
            Acquired::Busy { holder } => {
                // Same process: the kernel's pid matches the line, so the line is shown.
                let holder = holder.expect("holder known");
                assert!(
                    holder.starts_with(&format!("pid {} on ", std::process::id())),
                    "{holder}"
                );
            }
            Acquired::Held(_) => panic!("held lock refused"),
        }
        drop(first);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "", "line cleared");
        assert!(
            held(try_acquire(&path).unwrap()).is_some(),
            "released lock free again"
        );
    }

    #[test]
    fn only_a_regular_file_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let target = dir.path().join("target");
        std::fs::write(&target, "precious").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let hard = dir.path().join("hard");
        std::fs::hard_link(&target, &hard).unwrap();
        let subdir = dir.path().join("dir");
        std::fs::create_dir(&subdir).unwrap();
        for (path, what) in [
            (&fifo, "a FIFO"),
            (&link, "a symbolic link"),
            (&subdir, "a directory"),
            (&hard, "2 hard links"),
        ] {
            let e = format!("{:#}", check_path(path).unwrap_err());
            assert!(e.contains("BACKUP_LOCK_FILE=") && e.contains(what), "{e}");
            let e = format!("{:#}", try_acquire(path).err().expect(what));
            assert!(e.contains("BACKUP_LOCK_FILE=") && e.contains(what), "{e}");
        }
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
        check_path(&dir.path().join("absent")).unwrap();
    }

    #[test]
    fn proc_locks_lines_name_the_holder_not_the_waiters() {
        let dev = libc::makedev(0, 0x2e) as u64;
        let text = "1: POSIX  ADVISORY  WRITE 11 00:2e:99 0 EOF\n\
                    2: FLOCK  ADVISORY  WRITE 4242 00:2e:1234567 0 EOF\n\
                    2: -> FLOCK  ADVISORY  WRITE 77 00:2e:1234567 0 EOF\n";
        assert_eq!(holder_in_proc_locks(text, dev, 1234567), Some(4242));
        assert_eq!(holder_in_proc_locks(text, dev, 99), None, "POSIX lock");
        assert_eq!(holder_in_proc_locks(text, dev, 5), None);
    }
}
