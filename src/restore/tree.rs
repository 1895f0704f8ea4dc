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

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::{Component, Path, PathBuf};

use anyhow::Context as _;
use regex::Regex;
use sha2::{Digest, Sha256};

use super::decompress::Compression;
use super::download::download_plain;
use super::select::{Backup, Selected};
use crate::config::{BackupMode, Config, ConfigError};
use crate::engine::EngineKind;
use crate::process;
use crate::rclone::{self, Rclone, TreeFile};

/// The completion marker of a directory backup.
pub const SUMS: &str = "SHA256SUMS";

/// The longest SHA256SUMS read (a line per file: a million files fit).
pub const SUMS_MAX: u64 = 128 << 20;

/// Most entries a tar backup may hold.
const MAX_ENTRIES: usize = 1_000_000;

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

/// SHA256SUMS: `<64 hex>  <path>` per line (`*` for sha256sum's binary marker too), every
/// path checked ([`check_rel`]) and listed once. Path → lowercase hash.
pub fn parse_sums(content: &[u8]) -> Result<BTreeMap<String, String>, String> {
    let text = std::str::from_utf8(content).map_err(|_| "not UTF-8 text".to_string())?;
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.starts_with('\\') {
            return Err(format!("line {n}: an escaped name (sha256sum writes those for names with '\\' or a newline, which a dump tree never has)"));
        }
        let (hash, rest) = line
            .split_at_checked(64)
            .ok_or_else(|| format!("line {n} is too short for '<sha256>  <path>'"))?;
        if !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "line {n}: '{hash}' is not a SHA-256 (64 hex digits)"
            ));
        }
        let path = rest
            .strip_prefix("  ")
            .or_else(|| rest.strip_prefix(" *"))
            .ok_or_else(|| {
                format!("line {n}: the hash is not followed by two spaces and the path")
            })?;
        check_rel(path).map_err(|e| format!("line {n}: {e}"))?;
        if path == SUMS {
            return Err(format!("line {n}: {SUMS} lists itself"));
        }
        if out
            .insert(path.to_string(), hash.to_ascii_lowercase())
            .is_some()
        {
            return Err(format!("line {n}: '{path}' is listed twice"));
        }
    }
    if out.is_empty() {
        return Err("it lists no file".into());
    }
    Ok(out)
}

/// Every regular file below `root` (relative, `/`-separated, sorted); anything that is
/// neither a file nor a directory (a symlink, a device, a FIFO) is an error naming it.
pub fn walk(root: &Path) -> std::io::Result<Vec<String>> {
    fn go(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path)?;
            let rel = path
                .strip_prefix(root)
                .map_err(std::io::Error::other)?
                .to_string_lossy()
                .into_owned();
            if meta.is_dir() {
                go(root, &path, out)?;
            } else if meta.is_file() {
                out.push(rel);
            } else {
                return Err(std::io::Error::other(format!(
                    "'{rel}' is not a regular file (a symlink, device or FIFO)"
                )));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    go(root, root, &mut out)?;
    out.sort();
    Ok(out)
}

fn sha256_of(path: &Path) -> std::io::Result<(String, u64)> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut n_total = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        n_total += n as u64;
        h.update(&buf[..n]);
    }
    Ok((format!("{:x}", h.finalize()), n_total))
}

/// Check the files below `root` against `sums`: each listed file there with its hash, and no
/// other file (SHA256SUMS at the top aside). `Ok`: files and bytes checked.
pub fn check_tree(root: &Path, sums: &BTreeMap<String, String>) -> Result<(usize, u64), String> {
    let found = walk(root).map_err(|e| format!("reading the downloaded folder: {e}"))?;
    let found: BTreeSet<String> = found.into_iter().filter(|p| p != SUMS).collect();
    if let Some(extra) = found.iter().find(|p| !sums.contains_key(*p)) {
        return Err(format!(
            "'{extra}' is in the backup's folder but not in {SUMS}: the folder was changed after the backup was written"
        ));
    }
    if let Some(missing) = sums.keys().find(|p| !found.contains(*p)) {
        return Err(format!(
            "'{missing}' is listed in {SUMS} but missing from the backup's folder"
        ));
    }
    let mut bytes = 0;
    for (path, expected) in sums {
        let (actual, n) =
            sha256_of(&root.join(path)).map_err(|e| format!("reading '{path}': {e}"))?;
        if &actual != expected {
            return Err(format!(
                "checksum mismatch: '{path}' hashes to SHA-256 {actual} but {SUMS} says {expected}: the backup is corrupted (or was changed after it was written)"
            ));
        }
        bytes += n;
    }
    Ok((sums.len(), bytes))
}

/// A folder's SHA256SUMS is the one whose SHA-256 the caller knows (VERIFY_AFTER_BACKUP: the
/// one the run wrote), so a folder rewritten consistently since (its files and SHA256SUMS
/// both) is not taken for the backup.
fn check_sums_hash(content: &[u8], expected: &str) -> Result<(), String> {
    let actual = format!("{:x}", Sha256::digest(content));
    if actual.eq_ignore_ascii_case(expected) {
        return Ok(());
    }
    Err(format!(
        "checksum mismatch: {SUMS} hashes to SHA-256 {actual} but the one this run wrote hashes to {expected}: the folder was changed after the backup was written"
    ))
}

/// A backup's tree in a private directory, checked; removed on drop.
#[derive(Debug)]
pub struct Fetched {
    _dir: tempfile::TempDir,
    /// The tree's root: what the dump tool wrote.
    pub root: PathBuf,
    pub files: usize,
    /// Bytes downloaded (the tar object's, or the folder's files').
    pub bytes: u64,
    /// Whether the bytes were checked (not with `--no-verify` on an incomplete backup).
    pub checked: bool,
    /// What the check was, for the report.
    pub how: String,
}

fn private_dir(temp: &Path) -> anyhow::Result<tempfile::TempDir> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir_all(temp).with_context(|| {
        format!(
            "creating the temp directory {} (BACKUP_TEMP_DIR)",
            temp.display()
        )
    })?;
    tempfile::Builder::new()
        .prefix("dbstash-tree-")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir_in(temp)
        .with_context(|| {
            format!(
                "creating a private directory in {} (BACKUP_TEMP_DIR)",
                temp.display()
            )
        })
}

/// Download and check `sel` (a folder when `cfg` is in directory mode, else a tar object)
/// into a private directory under BACKUP_TEMP_DIR. `complete`: the folder has SHA256SUMS
/// (the object its sidecar); without, it fails unless `allow_unverified`. A folder's
/// `sel.sha256`, when set, is the SHA-256 its SHA256SUMS must have.
pub async fn fetch(
    cfg: &Config,
    rclone: &Rclone,
    sel: &Selected,
    complete: bool,
    allow_unverified: bool,
) -> anyhow::Result<Fetched> {
    match cfg.mode {
        BackupMode::Directory => fetch_folder(cfg, rclone, sel, complete, allow_unverified).await,
        _ => fetch_tar(cfg, rclone, sel, allow_unverified).await,
    }
}

async fn fetch_folder(
    cfg: &Config,
    rclone: &Rclone,
    sel: &Selected,
    complete: bool,
    allow_unverified: bool,
) -> anyhow::Result<Fetched> {
    if !complete && !allow_unverified {
        anyhow::bail!(
            "{}/ has no {SUMS}, so its integrity cannot be checked (the run that wrote it may have been killed)",
            sel.name
        );
    }
    // The remote's own names are checked before rclone writes any of them locally.
    let listed = rclone
        .tree(&sel.path)
        .await
        .with_context(|| format!("listing {} failed", rclone::redact_remote(&sel.path)))?;
    if listed.is_empty() {
        anyhow::bail!("{}/ holds no file (any more)", sel.name);
    }
    for f in &listed {
        check_rel(&f.path).map_err(|e| {
            anyhow::anyhow!(
                "{}/ holds an unsafe name: {e}; nothing was downloaded",
                sel.name
            )
        })?;
    }
    let dir = private_dir(&cfg.temp_dir)?;
    let root = dir.path().join("tree");
    std::fs::create_dir(&root).with_context(|| format!("creating {}", root.display()))?;
    let cmd = rclone.copy_down(&sel.path, &root);
    process::run(cmd, "rclone copy", None)
        .await
        .with_context(|| format!("downloading {} failed", rclone::redact_remote(&sel.path)))?;
    let root2 = root.clone();
    let expected = sel.sha256.clone();
    let checked = tokio::task::spawn_blocking(move || -> Result<(usize, u64, bool), String> {
        let sums_path = root2.join(SUMS);
        match std::fs::symlink_metadata(&sums_path) {
            Ok(m) if m.is_file() && m.len() <= SUMS_MAX => {
                let content =
                    std::fs::read(&sums_path).map_err(|e| format!("reading {SUMS}: {e}"))?;
                if let Some(expected) = &expected {
                    check_sums_hash(&content, expected)?;
                }
                let sums = parse_sums(&content).map_err(|e| format!("{SUMS} is not valid: {e}"))?;
                let (n, bytes) = check_tree(&root2, &sums)?;
                // Not part of the dump: the restore tools see exactly what the dump wrote.
                std::fs::remove_file(&sums_path).map_err(|e| format!("removing {SUMS}: {e}"))?;
                Ok((n, bytes, true))
            }
            Ok(m) if m.is_file() => Err(format!("{SUMS} is larger than {SUMS_MAX} bytes")),
            Ok(_) => Err(format!("{SUMS} is not a regular file")),
            Err(_) if allow_unverified => {
                let files =
                    walk(&root2).map_err(|e| format!("reading the downloaded folder: {e}"))?;
                for f in &files {
                    check_rel(f)?;
                }
                let bytes = files
                    .iter()
                    .map(|f| {
                        std::fs::metadata(root2.join(f))
                            .map(|m| m.len())
                            .unwrap_or(0)
                    })
                    .sum();
                Ok((files.len(), bytes, false))
            }
            Err(_) => Err(format!(
                "{SUMS} vanished from the folder while it was downloaded"
            )),
        }
    })
    .await
    .map_err(|e| anyhow::anyhow!("checking the download failed: {e}"))?
    .map_err(|e| anyhow::anyhow!("{}/: {e}", sel.name))?;
    let (files, bytes, ok) = checked;
    Ok(Fetched {
        _dir: dir,
        root,
        files,
        bytes,
        checked: ok,
        how: if ok {
            format!("every file matches {SUMS} ({files} files, {bytes} bytes), none missing, none unlisted")
        } else {
            format!("not checked: no {SUMS} (--no-verify), {files} files")
        },
    })
}

/// Compression of a tar object by its first bytes.
fn sniff(path: &Path) -> std::io::Result<Compression> {
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

async fn fetch_tar(
    cfg: &Config,
    rclone: &Rclone,
    sel: &Selected,
    allow_unverified: bool,
) -> anyhow::Result<Fetched> {
    let file = download_plain(
        rclone,
        sel,
        &cfg.temp_dir,
        allow_unverified,
        cfg.encryption.identity.as_ref(),
    )
    .await?;
    let dir = private_dir(&cfg.temp_dir)?;
    let root = dir.path().join("tree");
    std::fs::create_dir(&root).with_context(|| format!("creating {}", root.display()))?;
    let (archive, dest) = (file.path.clone(), root.clone());
    let files = tokio::task::spawn_blocking(move || -> Result<usize, String> {
        let c = sniff(&archive).map_err(|e| format!("reading the download: {e}"))?;
        let r = c
            .open(&archive)
            .map_err(|e| format!("reading the download: {e}"))?;
        untar(r, &dest)
    })
    .await
    .map_err(|e| anyhow::anyhow!("untarring failed: {e}"))?
    .map_err(|e| anyhow::anyhow!("{}: {e}; nothing was applied", sel.name))?;
    let bytes = file.verified.bytes;
    let checked = file.verified.checked;
    let how = if checked {
        format!(
            "SHA-256 {} matches {} ({bytes} bytes); untarred {files} files",
            file.verified.sha256,
            super::select::sidecar_name(&sel.name)
        )
    } else {
        format!("not checked: no sidecar (--no-verify); untarred {files} files")
    };
    drop(file); // the tree is what is kept
    Ok(Fetched {
        _dir: dir,
        root,
        files,
        bytes,
        checked,
        how,
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

    const H: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

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

    #[test]
    fn sums_are_parsed_strictly() {
        let s = parse_sums(format!("{H}  toc.dat\n{H} *3001.dat.gz\n").as_bytes()).unwrap();
        assert_eq!(s.len(), 2);
        for (bad, why) in [
            (format!("{H}  ../x\n"), "'..'"),
            (format!("{H}  /x\n"), "absolute"),
            (format!("{H}  a\n{H}  a\n"), "twice"),
            (format!("{H} a\n"), "two spaces"),
            (format!("{H}  {SUMS}\n"), "itself"),
            ("".to_string(), "no file"),
            (format!("\\{H}  a\\\\b\n"), "escaped"),
            (format!("{}  a\n", &H[1..]), "SHA-256"),
        ] {
            let e = parse_sums(bad.as_bytes()).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
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

    #[test]
    fn a_tree_matches_its_sums_exactly() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("db")).unwrap();
        std::fs::write(d.path().join("db/a"), b"test").unwrap();
        let sums = parse_sums(format!("{H}  db/a\n").as_bytes()).unwrap();
        assert_eq!(check_tree(d.path(), &sums).unwrap(), (1, 4));
        std::fs::write(d.path().join("extra"), b"x").unwrap();
        assert!(check_tree(d.path(), &sums).unwrap_err().contains("'extra'"));
        std::fs::remove_file(d.path().join("extra")).unwrap();
        std::fs::write(d.path().join("db/a"), b"tesT").unwrap();
        assert!(check_tree(d.path(), &sums)
            .unwrap_err()
            .contains("mismatch: 'db/a'"));
        std::fs::remove_file(d.path().join("db/a")).unwrap();
        assert!(check_tree(d.path(), &sums)
            .unwrap_err()
            .contains("'db/a' is listed"));
        std::os::unix::fs::symlink("/etc/passwd", d.path().join("db/a")).unwrap();
        assert!(check_tree(d.path(), &sums)
            .unwrap_err()
            .contains("not a regular file"));
    }
}
