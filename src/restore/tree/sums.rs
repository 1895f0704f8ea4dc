//! SHA256SUMS, a directory backup's completion marker: parsed strictly, and a downloaded tree
//! checked against it (every listed file there with its hash, nothing unlisted).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::check_rel;

/// The completion marker of a directory backup.
pub const SUMS: &str = "SHA256SUMS";

/// The longest SHA256SUMS read (a line per file: a million files fit).
pub const SUMS_MAX: u64 = 128 << 20;
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
pub(super) fn check_sums_hash(content: &[u8], expected: &str) -> Result<(), String> {
    let actual = format!("{:x}", Sha256::digest(content));
    if actual.eq_ignore_ascii_case(expected) {
        return Ok(());
    }
    Err(format!(
        "checksum mismatch: {SUMS} hashes to SHA-256 {actual} but the one this run wrote hashes to {expected}: the folder was changed after the backup was written"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
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
