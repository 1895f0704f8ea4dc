//! The completeness checks on a downloaded file, chosen by the engine from what its bytes
//! are: the dump's trailer, a tool reading it (pg_restore, redis-check-rdb), mongodump's
//! archive framing.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use super::{Line, Mark};
use crate::config::Config;
use crate::engine::{Completeness, Content};
use crate::process::{self, ChildFailed};
use crate::restore::decompress::Compression;

/// How much of a plain dump's end is kept to look for its trailer.
const TAIL: usize = 4096;

/// The completeness checks on a downloaded file.
pub async fn completeness(cfg: &Config, name: &str, path: &Path) -> Vec<Line> {
    if name.ends_with(".lz4") {
        return vec![Line::new(
            "complete",
            Mark::Skipped,
            "an lz4-compressed dump: dbstash reads gzip and zstd only, so its completeness is not checked",
        )];
    }
    let compression = Compression::of(name);
    let head = {
        let path = path.to_path_buf();
        blocking(move || {
            let mut head = Vec::with_capacity(Content::HEAD);
            compression
                .open(&path)?
                .take(Content::HEAD as u64)
                .read_to_end(&mut head)?;
            Ok(head)
        })
        .await
    };
    let head = match head {
        Ok(h) => h,
        Err(e) => return vec![Line::new("decompress", Mark::Failed, e)],
    };
    let content = Content::sniff(&head);
    let checks = match cfg.engine().completeness(cfg, content) {
        Ok(c) => c,
        Err(why) => {
            return vec![Line::new(
                "format",
                Mark::Failed,
                format!("{name} cannot be a {} backup: {why}", cfg.engine.key()),
            )]
        }
    };
    let mut lines = Vec::new();
    // Tools read plain files: a compressed download is decompressed once, beside it (in
    // the download's private directory), for all of them.
    let mut plain: Option<Result<PathBuf, String>> = None;
    for check in checks {
        lines.push(match check {
            Completeness::Trailer(trailer) => trailer_line(path, compression, trailer).await,
            Completeness::Tool {
                program,
                args,
                optional,
            } if compression == Compression::None => tool_line(program, args, optional, path).await,
            Completeness::Tool {
                program,
                args,
                optional,
            } => {
                if plain.is_none() {
                    let to = path.with_file_name("decompressed-for-check");
                    plain = Some(
                        crate::restore::decompress::to_file(path, compression, &to)
                            .await
                            .map(|_| to)
                            .map_err(|e| format!("{e} (a truncated or damaged file?)")),
                    );
                }
                match plain.as_ref() {
                    Some(Ok(p)) => tool_line(program, args, optional, p).await,
                    Some(Err(e)) => Line::new("decompress", Mark::Failed, e.clone()),
                    None => Line::new("decompress", Mark::Failed, "not decompressed"),
                }
            }
            Completeness::MongoArchive => {
                let path = path.to_path_buf();
                let read =
                    blocking(move || Ok(crate::restore::archive::check(compression.open(&path)?)))
                        .await;
                match read {
                    Ok(Ok(s)) => Line::new(
                        "archive",
                        Mark::Ok,
                        format!(
                            "read to its end: {} collection{} closed, {} documents",
                            s.collections,
                            if s.collections == 1 { "" } else { "s" },
                            s.documents
                        ),
                    ),
                    Ok(Err(e)) => Line::new("archive", Mark::Failed, format!("incomplete: {e}")),
                    Err(e) => Line::new("archive", Mark::Failed, e),
                }
            }
        });
    }
    if let Some(Ok(p)) = plain {
        let _ = std::fs::remove_file(p);
    }
    lines
}

/// Run blocking file work off the runtime; I/O errors as text.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, String> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("reading the download failed: {e}")),
        Err(e) => Err(format!("reading the download failed: {e}")),
    }
}

async fn trailer_line(path: &Path, compression: Compression, trailer: &'static str) -> Line {
    let path: PathBuf = path.to_path_buf();
    let tail = blocking(move || {
        let mut r = compression.open(&path)?;
        let mut tail: Vec<u8> = Vec::with_capacity(2 * TAIL);
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            tail.extend_from_slice(&buf[..n]);
            if tail.len() > 2 * TAIL {
                tail.drain(..tail.len() - TAIL);
            }
        }
        let start = tail.len().saturating_sub(TAIL);
        Ok(tail.split_off(start))
    })
    .await;
    match tail {
        Err(e) => Line::new("trailer", Mark::Failed, format!("{e} (a truncated or damaged file?)")),
        Ok(tail) => match find_trailer(&tail, trailer) {
            Ok(line) => Line::new("trailer", Mark::Ok, format!("ends with \"{line}\"")),
            Err(last) => Line::new(
                "trailer",
                Mark::Failed,
                format!(
                    "the dump's trailer \"{trailer}\" is missing: the dump is incomplete (truncated); its last line is \"{}\"",
                    shorten(&last, 120)
                ),
            ),
        },
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

/// The line starting with `trailer` among a dump's last lines (`tail`: its last bytes),
/// after which only blank lines, `--` comments and psql's `\unrestrict` may follow; else the
/// last line that is none of those (what the dump ends with instead).
pub fn find_trailer(tail: &[u8], trailer: &str) -> Result<String, String> {
    let text = String::from_utf8_lossy(tail);
    let mut last_other: Option<&str> = None;
    for line in text.lines().rev() {
        let line = line.trim_end();
        if line.starts_with(trailer) {
            return Ok(line.to_string());
        }
        let ignorable =
            line.is_empty() || line.starts_with("--") || line.starts_with("\\unrestrict ");
        if !ignorable {
            last_other = Some(line);
            break;
        }
        last_other.get_or_insert(line);
    }
    Err(last_other.unwrap_or_default().to_string())
}

pub(in crate::restore) async fn tool_line(
    program: &str,
    args: &[&str],
    optional: bool,
    path: &Path,
) -> Line {
    let what = std::iter::once(program)
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = process::command(program);
    cmd.args(args).arg(path);
    match process::run(cmd, program, None).await {
        Ok(out) => {
            let out = String::from_utf8_lossy(&out);
            let detail = if args.contains(&"--list") {
                let entries = out
                    .lines()
                    .filter(|l| !l.trim().is_empty() && !l.starts_with(';'))
                    .count();
                format!("reads its table of contents: {entries} entries")
            } else if program == "pg_restore" {
                "reads every entry to its end".to_string()
            } else {
                out.lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .map(|l| l.trim().to_string())
                    .unwrap_or_else(|| "exited 0".into())
            };
            Line::new(what, Mark::Ok, detail)
        }
        Err(e) if e.downcast_ref::<ChildFailed>().is_none() && optional => Line::new(
            what,
            Mark::Skipped,
            format!("{e:#}: not checked (install it to check this backup)"),
        ),
        Err(e) => Line::new(what, Mark::Failed, format!("{e:#}")),
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    const PG: &str = "-- PostgreSQL database dump complete";

    #[test]
    fn trailers_are_found_among_the_last_lines() {
        let pg = "CREATE TABLE t ();\n\n--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict AbC123\n\n";
        assert_eq!(find_trailer(pg.as_bytes(), PG).unwrap(), PG);
        let my = "UNLOCK TABLES;\n/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;\n\n-- Dump completed on 2026-02-07 20:30:00\n";
        assert_eq!(
            find_trailer(my.as_bytes(), "-- Dump completed").unwrap(),
            "-- Dump completed on 2026-02-07 20:30:00"
        );
        assert_eq!(
            find_trailer(b"x;\r\n-- Dump completed\r\n", "-- Dump completed").unwrap(),
            "-- Dump completed"
        );
        // Truncated: the data ends mid-statement, or a comment of the next object follows.
        let cut = "COPY t (id) FROM stdin;\n1\n2\n";
        assert_eq!(find_trailer(cut.as_bytes(), PG).unwrap_err(), "2");
        let cut = "CREATE TABLE a ();\n\n--\n-- Name: b; Type: TABLE\n--\n\nCREATE TAB";
        assert_eq!(find_trailer(cut.as_bytes(), PG).unwrap_err(), "CREATE TAB");
        // A pg_dumpall cut after one database's trailer is not complete.
        let all = "\\connect app\n--\n-- PostgreSQL database dump complete\n--\n\n";
        assert_eq!(
            find_trailer(
                all.as_bytes(),
                "-- PostgreSQL database cluster dump complete"
            )
            .unwrap_err(),
            "\\connect app"
        );
        // A partial trailer line is not the trailer.
        assert!(find_trailer(b"x;\n-- Dump compl", "-- Dump completed").is_err());
        assert_eq!(find_trailer(b"", PG).unwrap_err(), "");
    }
    fn cfg(kind: crate::engine::EngineKind, all: bool) -> Config {
        let a = crate::cli::CommonArgs {
            db_host: Some("h".into()),
            db_name: (!all).then(|| "shop".into()),
            backup_all_databases: all.then(|| "true".into()),
            rclone_remote: Some("s3:b/x".into()),
            backup_schedule: Some("once".into()),
            ..Default::default()
        };
        Config::resolve(kind, a).unwrap()
    }

    #[tokio::test]
    async fn files_are_checked_by_their_content_and_compression() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let my = cfg(crate::engine::EngineKind::Mariadb, false);
        let dump = b"CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n-- Dump completed on 2026-02-07 20:30:00\n";
        let cases: Vec<(&str, Vec<u8>, Mark)> = vec![
            ("a.sql", dump.to_vec(), Mark::Ok),
            ("b.sql", dump[..40].to_vec(), Mark::Failed),
            (
                "c.sql.gz",
                {
                    let mut e =
                        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                    e.write_all(dump).unwrap();
                    e.finish().unwrap()
                },
                Mark::Ok,
            ),
            (
                "d.sql.zst",
                zstd::encode_all(&dump[..40], 3).unwrap(),
                Mark::Failed,
            ),
            ("e.sql.gz", b"not gzip".to_vec(), Mark::Failed),
        ];
        for (name, bytes, want) in cases {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            let lines = completeness(&my, name, &p).await;
            assert_eq!(lines.len(), 1, "{name}: {lines:?}");
            assert_eq!(lines[0].mark, want, "{name}: {lines:?}");
        }
        let p = dir.path().join("f.sql.lz4");
        std::fs::write(&p, b"x").unwrap();
        assert_eq!(
            completeness(&my, "f.sql.lz4", &p).await[0].mark,
            Mark::Skipped
        );

        let mongo = cfg(crate::engine::EngineKind::Mongo, false);
        let (archive, _) = crate::restore::archive::tests::archive();
        for (name, bytes, want) in [
            ("m.archive", archive.clone(), Mark::Ok),
            (
                "n.archive",
                archive[..archive.len() - 10].to_vec(),
                Mark::Failed,
            ),
            (
                "o.archive.gz",
                {
                    let mut e =
                        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                    e.write_all(&archive).unwrap();
                    e.finish().unwrap()
                },
                Mark::Ok,
            ),
            ("p.archive", dump.to_vec(), Mark::Failed),
        ] {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            let lines = completeness(&mongo, name, &p).await;
            assert_eq!(lines[0].mark, want, "{name}: {lines:?}");
        }
    }

    #[tokio::test]
    async fn a_missing_optional_tool_is_skipped_and_a_missing_required_one_fails() {
        let f = tempfile::NamedTempFile::new().unwrap();
        let l = tool_line("dbstash-no-such-tool", &[], true, f.path()).await;
        assert_eq!(l.mark, Mark::Skipped, "{l:?}");
        assert!(l.text.contains("not found on PATH"), "{l:?}");
        let l = tool_line("dbstash-no-such-tool", &["--list"], false, f.path()).await;
        assert_eq!(l.mark, Mark::Failed, "{l:?}");
        let l = tool_line("false", &[], true, f.path()).await;
        assert_eq!(
            l.mark,
            Mark::Failed,
            "a tool that fails is a failure: {l:?}"
        );
        let l = tool_line("true", &[], false, f.path()).await;
        assert_eq!(l.mark, Mark::Ok, "{l:?}");
    }
}
