//! Tar backups unpacked safely: the object's compression sniffed, then regular files and
//! directories only, every path inside the destination, within the free space.

use std::io::Read as _;
use std::path::{Component, Path, PathBuf};

use super::check_rel;
use crate::restore::decompress::Compression;

/// Most entries a tar backup may hold.
const MAX_ENTRIES: usize = 1_000_000;
/// Compression of a tar object by its first bytes.
pub(super) fn sniff(path: &Path) -> std::io::Result<Compression> {
    let mut head = [0u8; 4];
    let mut f = std::fs::File::open(path)?;
    let mut n = 0;
    while n < head.len() {
        let r = f.read(&mut head[n..])?;
        if r == 0 {
            break;
        }
        n += r;
    }
    Ok(if head[..n].starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head[..n] == [0x28, 0xb5, 0x2f, 0xfd] {
        Compression::Zstd
    } else {
        Compression::None
    })
}

/// Free bytes for an unprivileged writer in the file system holding `dir`.
fn free_space(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt as _;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs writes into the zeroed struct we own; `c` is a valid C string.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

/// Untar `r` into the empty directory `dest`: regular files (0600) and directories (0700)
/// only, every path relative and inside (no `..`, not absolute), each once; a link, a
/// device or a FIFO fails it, naming the entry, and so does a file larger than the free
/// space. `Ok`: the number of files.
pub fn untar(r: impl std::io::Read, dest: &Path) -> Result<usize, String> {
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
    use tar::EntryType;
    let mut archive = tar::Archive::new(r);
    let entries = archive
        .entries()
        .map_err(|e| format!("not a tar archive: {e}"))?;
    let mut files = 0usize;
    for (i, entry) in entries.enumerate() {
        if i >= MAX_ENTRIES {
            return Err(format!("more than {MAX_ENTRIES} entries"));
        }
        let mut entry = entry.map_err(|e| format!("a damaged tar (entry {}): {e}", i + 1))?;
        let kind = entry.header().entry_type();
        let raw = entry
            .path()
            .map_err(|e| format!("entry {}: an unreadable path: {e}", i + 1))?
            .into_owned();
        let shown = raw.display().to_string();
        if kind == EntryType::XGlobalHeader {
            continue;
        }
        let mut rel = PathBuf::new();
        for c in raw.components() {
            match c {
                Component::Normal(n) => rel.push(n),
                Component::CurDir => {}
                Component::ParentDir => {
                    return Err(format!("the entry '{shown}' has a '..' component: it would be written outside the directory"))
                }
                Component::RootDir | Component::Prefix(_) => {
                    return Err(format!("the entry '{shown}' is an absolute path"))
                }
            }
        }
        let rel_str = rel.to_string_lossy().into_owned();
        if rel.as_os_str().is_empty() {
            if kind == EntryType::Directory {
                continue; // `./` itself
            }
            return Err(format!("the entry '{shown}' has no name"));
        }
        check_rel(&rel_str).map_err(|e| format!("the entry {e}"))?;
        let target = dest.join(&rel);
        match kind {
            EntryType::Directory => {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(&target)
                    .map_err(|e| format!("creating '{rel_str}': {e}"))?;
            }
            EntryType::Regular | EntryType::Continuous => {
                let size = entry.size();
                if let Some(free) = free_space(dest) {
                    if size > free {
                        return Err(format!(
                            "'{rel_str}' is {size} bytes, more than the {free} bytes free in BACKUP_TEMP_DIR"
                        ));
                    }
                }
                if let Some(parent) = target.parent() {
                    std::fs::DirBuilder::new()
                        .recursive(true)
                        .mode(0o700)
                        .create(parent)
                        .map_err(|e| format!("creating the folder of '{rel_str}': {e}"))?;
                }
                let mut out = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&target)
                    .map_err(|e| match e.kind() {
                        std::io::ErrorKind::AlreadyExists => {
                            format!("'{rel_str}' appears twice in the tar")
                        }
                        _ => format!("writing '{rel_str}': {e}"),
                    })?;
                let copied = std::io::copy(&mut entry, &mut out)
                    .map_err(|e| format!("writing '{rel_str}': {e}"))?;
                if copied != size {
                    return Err(format!("'{rel_str}' is cut short in the tar"));
                }
                files += 1;
            }
            other => {
                let what = match other {
                    EntryType::Symlink => "a symbolic link",
                    EntryType::Link => "a hard link",
                    EntryType::Char | EntryType::Block => "a device",
                    EntryType::Fifo => "a FIFO",
                    _ => "not a regular file nor a directory",
                };
                return Err(format!(
                    "the entry '{shown}' is {what}: a dump's tar holds regular files and directories only"
                ));
            }
        }
    }
    if files == 0 {
        return Err("the tar holds no file".into());
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_with(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        build(&mut b);
        b.into_inner().unwrap()
    }

    fn header(kind: tar::EntryType, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(0o644);
        h
    }

    /// A header whose name field holds `name` as is (the builder refuses `..`).
    fn raw_name(h: &mut tar::Header, name: &str) {
        let n = &mut h.as_old_mut().name;
        n.fill(0);
        n[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
    }

    #[test]
    fn untar_writes_files_and_refuses_escapes_links_and_devices() {
        let ok = tar_with(|b| {
            let mut h = header(tar::EntryType::Directory, 0);
            b.append_data(&mut h, "shop/", &[][..]).unwrap();
            let mut h = header(tar::EntryType::Regular, 3);
            b.append_data(&mut h, "shop/a.bson", &b"abc"[..]).unwrap();
        });
        let d = tempfile::tempdir().unwrap();
        assert_eq!(untar(&ok[..], d.path()).unwrap(), 1);
        assert_eq!(std::fs::read(d.path().join("shop/a.bson")).unwrap(), b"abc");

        let cases: Vec<(Vec<u8>, &str)> = vec![
            (
                tar_with(|b| {
                    let mut h = header(tar::EntryType::Regular, 1);
                    raw_name(&mut h, "../evil");
                    b.append(&h, &b"x"[..]).unwrap();
                }),
                "'..'",
            ),
            (
                tar_with(|b| {
                    let mut h = header(tar::EntryType::Regular, 1);
                    raw_name(&mut h, "/tmp/evil");
                    b.append(&h, &b"x"[..]).unwrap();
                }),
                "absolute",
            ),
            (
                tar_with(|b| {
                    let mut h = header(tar::EntryType::Symlink, 0);
                    b.append_link(&mut h, "link", "/etc").unwrap();
                }),
                "symbolic link",
            ),
            (
                tar_with(|b| {
                    let mut h = header(tar::EntryType::Link, 0);
                    b.append_link(&mut h, "hard", "x").unwrap();
                }),
                "hard link",
            ),
            (
                tar_with(|b| {
                    let mut h = header(tar::EntryType::Char, 0);
                    b.append_data(&mut h, "null", &[][..]).unwrap();
                }),
                "device",
            ),
            (
                tar_with(|b| {
                    for _ in 0..2 {
                        let mut h = header(tar::EntryType::Regular, 1);
                        b.append_data(&mut h, "a", &b"x"[..]).unwrap();
                    }
                }),
                "twice",
            ),
            (b"not a tar at all, just some bytes".repeat(40), "damaged"),
        ];
        for (bytes, why) in cases {
            let d = tempfile::tempdir().unwrap();
            let dest = d.path().join("t");
            std::fs::create_dir(&dest).unwrap();
            let e = untar(&bytes[..], &dest).unwrap_err();
            assert!(e.contains(why), "{why}: {e}");
            assert!(!d.path().join("evil").exists());
        }
    }
}
