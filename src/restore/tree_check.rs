//! `verify` of directory and tar backups: the tree fetched and checked ([`super::tree`]),
//! then whether the dump tool finished it, per engine:
//! - PostgreSQL (`pg_dump -Fd`): `pg_restore --list DIR`, then `pg_restore --file=/dev/null
//!   DIR` (every entry read to its end);
//! - MySQL/MariaDB (`--tab`): each `TABLE.sql` ends with the dump's completion trailer, and
//!   each table's (not a view's) `TABLE.txt` is there; no `.txt` without its `.sql`;
//! - MongoDB (`--out`): each `.bson` (`.bson.gz`) reads as BSON documents to its very end,
//!   each `.metadata.json` (`.gz`) parses as JSON.

use std::io::Read as _;
use std::path::Path;

use super::decompress::Compression;
use super::select::Selected;
use super::tree::{self, walk};
use super::verify::{find_trailer, tool_line, Line, Mark};
use crate::config::Config;
use crate::engine::EngineKind;
use crate::rclone::Rclone;
use crate::shutdown::Cancel;

/// Fetch `sel`'s tree, check every byte, then its completeness. The tree is removed when
/// done, whatever happens.
pub async fn verify(
    cfg: &Config,
    rclone: &Rclone,
    sel: &Selected,
    complete: bool,
    cancel: &mut Cancel<'_>,
) -> Vec<Line> {
    if super::decrypt::is_encrypted(&sel.name) && cfg.encryption.identity.is_none() {
        return checksum_only(cfg, rclone, sel, cancel).await;
    }
    let fetched = cancel
        .guard(tree::fetch(cfg, rclone, sel, complete, false))
        .await;
    let fetched = match fetched {
        Ok(f) => f,
        Err(e) => {
            let text = format!("{e:#}");
            let check = if text.contains("mismatch")
                || text.contains(tree::SUMS)
                || text.contains("no .sha256")
            {
                "checksum"
            } else if text.contains("tar") || text.contains("entry") {
                "untar"
            } else {
                "download"
            };
            return vec![Line::new(check, Mark::Failed, text)];
        }
    };
    let mut lines = vec![Line::new("checksum", Mark::Ok, fetched.how.clone())];
    let root = fetched.root.clone();
    let checked = cancel
        .guard(async { Ok(completeness(cfg, &root).await) })
        .await;
    match checked {
        Ok(more) => lines.extend(more),
        Err(e) => lines.push(Line::new("complete", Mark::Failed, format!("{e:#}"))),
    }
    drop(fetched);
    lines
}

/// An encrypted tar without RESTORE_IDENTITY_FILE: its stored bytes checked against the
/// sidecar, and a line saying that the dump inside was not.
async fn checksum_only(
    cfg: &Config,
    rclone: &Rclone,
    sel: &Selected,
    cancel: &mut Cancel<'_>,
) -> Vec<Line> {
    let downloaded = cancel
        .guard(super::download::download_verified(
            rclone,
            sel,
            &cfg.temp_dir,
            false,
        ))
        .await;
    match downloaded {
        Ok(d) => vec![
            Line::new(
                "checksum",
                Mark::Ok,
                format!(
                    "SHA-256 {} matches {} ({} bytes)",
                    d.verified.sha256,
                    super::select::sidecar_name(&sel.name),
                    d.verified.bytes
                ),
            ),
            Line::new("complete", Mark::Skipped, super::decrypt::NOT_CHECKED),
        ],
        Err(e) => {
            let check = if super::checksum_mismatch(e.as_ref()).is_some() {
                "checksum"
            } else {
                "download"
            };
            vec![Line::new(check, Mark::Failed, format!("{e:#}"))]
        }
    }
}

/// The completeness checks of a dump tree at `root`.
pub async fn completeness(cfg: &Config, root: &Path) -> Vec<Line> {
    match cfg.engine {
        EngineKind::Pg => {
            if !root.join("toc.dat").is_file() {
                return vec![Line::new(
                    "format",
                    Mark::Failed,
                    "no toc.dat at the top: not a pg_dump directory-format dump",
                )];
            }
            vec![
                tool_line("pg_restore", &["--list"], false, root).await,
                tool_line("pg_restore", &["--file=/dev/null"], false, root).await,
            ]
        }
        EngineKind::Mysql | EngineKind::Mariadb => {
            let root = root.to_path_buf();
            vec![blocking_line("tables", move || mysql_tab(&root)).await]
        }
        EngineKind::Mongo => {
            let root = root.to_path_buf();
            vec![blocking_line("collections", move || mongo_out(&root)).await]
        }
        EngineKind::Redis => vec![Line::new(
            "format",
            Mark::Failed,
            "redis backups are single RDB files (BACKUP_MODE=stream)",
        )],
    }
}

async fn blocking_line(
    check: &'static str,
    f: impl FnOnce() -> Result<String, String> + Send + 'static,
) -> Line {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(text)) => Line::new(check, Mark::Ok, text),
        Ok(Err(text)) => Line::new(check, Mark::Failed, text),
        Err(e) => Line::new(check, Mark::Failed, format!("the check failed: {e}")),
    }
}

/// The last `n` bytes of a file.
fn tail(path: &Path, n: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Seek as _, SeekFrom};
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(n)))?;
    let mut out = Vec::new();
    f.read_to_end(&mut out)?;
    Ok(out)
}

/// Whether a `--tab` `.sql` file creates a table (which has a `.txt`), not a view.
fn creates_table(path: &Path) -> std::io::Result<bool> {
    let text = std::fs::read(path)?;
    Ok(text
        .windows(b"CREATE TABLE".len())
        .any(|w| w.eq_ignore_ascii_case(b"CREATE TABLE")))
}

/// mysqldump `--tab`: the per-table files at the top.
pub fn mysql_tab(root: &Path) -> Result<String, String> {
    let files = walk(root).map_err(|e| format!("reading the tree: {e}"))?;
    let (mut tables, mut views) = (0usize, 0usize);
    let mut sql_names = std::collections::BTreeSet::new();
    for f in &files {
        if f.contains('/') {
            return Err(format!("'{f}' is in a subfolder: mysqldump --tab writes TABLE.sql and TABLE.txt at the top only"));
        }
        if let Some(table) = f.strip_suffix(".sql") {
            let path = root.join(f);
            let end = tail(&path, 4096).map_err(|e| format!("reading '{f}': {e}"))?;
            find_trailer(&end, "-- Dump completed")
                .map_err(|e| format!("'{f}' is incomplete: {e}"))?;
            if creates_table(&path).map_err(|e| format!("reading '{f}': {e}"))? {
                if !files.iter().any(|g| g == &format!("{table}.txt")) {
                    return Err(format!(
                        "'{table}.txt' (the data of table {table}) is missing"
                    ));
                }
                tables += 1;
            } else {
                views += 1;
            }
            sql_names.insert(table.to_string());
        }
    }
    if let Some(orphan) = files
        .iter()
        .filter_map(|f| f.strip_suffix(".txt"))
        .find(|t| !sql_names.contains(*t))
    {
        return Err(format!(
            "'{orphan}.txt' has no '{orphan}.sql' (its table's definition)"
        ));
    }
    if tables + views == 0 {
        return Err("no TABLE.sql file: not a mysqldump --tab dump".into());
    }
    Ok(format!(
        "{tables} table{} with data, {views} other definition{}, each .sql complete (-- Dump completed)",
        if tables == 1 { "" } else { "s" },
        if views == 1 { "" } else { "s" }
    ))
}

/// The largest BSON document read (MongoDB's limit is 16 MiB; its tools allow a little more).
const BSON_MAX: u32 = 48 << 20;

/// Count the documents of a `.bson` stream, to its very end.
pub fn bson_documents(mut r: impl std::io::Read) -> Result<u64, String> {
    let mut n = 0u64;
    let mut len = [0u8; 4];
    let mut doc = Vec::new();
    loop {
        let mut got = 0;
        while got < 4 {
            let k = r.read(&mut len[got..]).map_err(|e| e.to_string())?;
            if k == 0 {
                break;
            }
            got += k;
        }
        if got == 0 {
            return Ok(n);
        }
        if got < 4 {
            return Err(format!("cut short after {n} documents (a partial length)"));
        }
        let size = u32::from_le_bytes(len);
        if !(5..=BSON_MAX).contains(&size) {
            return Err(format!(
                "document {} has an impossible length {size}",
                n + 1
            ));
        }
        doc.resize(size as usize - 4, 0);
        r.read_exact(&mut doc)
            .map_err(|_| format!("cut short inside document {}", n + 1))?;
        if doc.last() != Some(&0) {
            return Err(format!(
                "document {} does not end with its terminator",
                n + 1
            ));
        }
        n += 1;
    }
}

/// mongodump `--out`: DB/COLL.bson and DB/COLL.metadata.json (gzipped with `--gzip`).
pub fn mongo_out(root: &Path) -> Result<String, String> {
    let files = walk(root).map_err(|e| format!("reading the tree: {e}"))?;
    let (mut collections, mut documents) = (0u64, 0u64);
    let mut metadata = 0u64;
    for f in &files {
        let path = root.join(f);
        let c = Compression::of(f);
        let base = f.strip_suffix(".gz").unwrap_or(f);
        if base.ends_with(".bson") {
            let r = c.open(&path).map_err(|e| format!("reading '{f}': {e}"))?;
            documents += bson_documents(r).map_err(|e| format!("'{f}': {e}"))?;
            collections += 1;
        } else if base.ends_with(".metadata.json") {
            let mut text = Vec::new();
            c.open(&path)
                .and_then(|mut r| r.read_to_end(&mut text))
                .map_err(|e| format!("reading '{f}': {e}"))?;
            serde_json::from_slice::<serde_json::Value>(&text)
                .map_err(|e| format!("'{f}' is not valid JSON: {e}"))?;
            metadata += 1;
        }
    }
    if collections + metadata == 0 {
        return Err("no .bson nor .metadata.json file: not a mongodump --out dump".into());
    }
    Ok(format!(
        "{collections} .bson file{} read to their end ({documents} documents), {metadata} .metadata.json parsed",
        if collections == 1 { "" } else { "s" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bson_is_read_to_its_end() {
        let doc = [5u8, 0, 0, 0, 0];
        let two: Vec<u8> = doc.iter().chain(doc.iter()).copied().collect();
        assert_eq!(bson_documents(&two[..]).unwrap(), 2);
        assert_eq!(bson_documents(&[][..]).unwrap(), 0);
        assert!(bson_documents(&two[..7]).unwrap_err().contains("cut short"));
        assert!(bson_documents(&[5u8, 0, 0, 0, 1][..])
            .unwrap_err()
            .contains("terminator"));
        assert!(bson_documents(&[1u8, 0, 0, 0][..])
            .unwrap_err()
            .contains("impossible"));
        assert!(bson_documents(&[255u8, 255, 255, 255][..])
            .unwrap_err()
            .contains("impossible"));
    }

    #[test]
    fn tab_dumps_need_trailers_and_data() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::write(
            r.join("t.sql"),
            "CREATE TABLE `t` (a int);\n-- Dump completed on 2026-02-07\n",
        )
        .unwrap();
        assert!(mysql_tab(r).unwrap_err().contains("'t.txt'"));
        std::fs::write(r.join("t.txt"), "1\n").unwrap();
        std::fs::write(
            r.join("v.sql"),
            "CREATE VIEW v AS SELECT 1;\n-- Dump completed on 2026-02-07\n",
        )
        .unwrap();
        assert!(mysql_tab(r)
            .unwrap()
            .starts_with("1 table with data, 1 other"));
        std::fs::write(r.join("u.txt"), "1\n").unwrap();
        assert!(mysql_tab(r).unwrap_err().contains("'u.txt' has no"));
        std::fs::remove_file(r.join("u.txt")).unwrap();
        std::fs::write(r.join("t.sql"), "CREATE TABLE `t` (a int);\n").unwrap();
        assert!(mysql_tab(r).unwrap_err().contains("'t.sql' is incomplete"));
    }

    #[test]
    fn mongo_trees_are_read_whole() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::create_dir(r.join("shop")).unwrap();
        std::fs::write(r.join("shop/users.bson"), [5u8, 0, 0, 0, 0]).unwrap();
        std::fs::write(r.join("shop/users.metadata.json"), "{\"indexes\":[]}").unwrap();
        assert!(mongo_out(r).unwrap().contains("1 documents"));
        std::fs::write(r.join("shop/users.metadata.json"), "{\"indexes\":").unwrap();
        assert!(mongo_out(r).unwrap_err().contains("not valid JSON"));
        std::fs::write(r.join("shop/users.metadata.json"), "{}").unwrap();
        std::fs::write(r.join("shop/users.bson"), [5u8, 0, 0, 0, 0, 9]).unwrap();
        assert!(mongo_out(r).unwrap_err().contains("cut short"));
    }
}
