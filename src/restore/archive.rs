//! Is a mongodump archive complete? Read natively to its end, no MongoDB tools needed.
//!
//! The framing (mongo-tools' archive format, version 0.1):
//!
//! ```text
//! archive   = magic header *collection-metadata terminator *(segment | namespace-eof)
//! magic     = 6d e2 99 81             (0x8199e26d, little-endian)
//! segment   = namespace-header 1*document terminator
//! namespace-eof = namespace-header{EOF: true} terminator
//! terminator = ff ff ff ff
//! ```
//!
//! Every item is a BSON document (an int32 length that counts itself, the elements, a final
//! 0x00). The archive is complete when it ends exactly after a segment or an EOF marker, and
//! every collection that has data, or that the prelude lists (views excepted: they have no
//! data), got its EOF marker: mongodump writes it when a collection is finished.

use std::collections::BTreeSet;
use std::io::{self, Read};

const MAGIC: [u8; 4] = [0x6d, 0xe2, 0x99, 0x81];
const TERMINATOR: i32 = -1;
/// The smallest BSON document: its length and the final 0x00.
const MIN_DOC: i32 = 5;
/// The largest document accepted: MongoDB's limit is 16 MiB; anything far above it is a
/// corrupted length, which must not make us allocate gigabytes.
const MAX_DOC: i32 = 64 * 1024 * 1024;
/// Header documents are small; their content is read into memory.
const MAX_HEADER_DOC: i32 = 16 * 1024 * 1024;

/// What a complete archive held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Collections closed with their EOF marker.
    pub collections: usize,
    pub documents: u64,
}

/// Read the archive `r` to its end. `Err` says where and why it is not complete.
pub fn check(r: impl Read) -> Result<Summary, String> {
    let mut r = Reader {
        inner: r,
        offset: 0,
    };
    let mut magic = [0u8; 4];
    r.exact(&mut magic, "the magic number")?;
    if magic != MAGIC {
        return Err(format!(
            "not a mongodump archive: it starts with {:02x?}, not the magic number 0x8199e26d",
            magic
        ));
    }
    match r.length("the archive header")? {
        Some(TERMINATOR) | None => return Err("the archive header is missing".into()),
        Some(len) => {
            r.header_doc(len, "the archive header")?;
        }
    }
    // The prelude: one metadata document per collection, up to the terminator.
    let mut listed: BTreeSet<String> = BTreeSet::new();
    loop {
        match r.length("the collection list")? {
            None => return Err(r.truncated("the collection list")),
            Some(TERMINATOR) => break,
            Some(len) => {
                let at = r.offset - 4;
                let doc = r.header_doc(len, "a collection's metadata")?;
                let (db, coll) = namespace(&doc)
                    .map_err(|e| format!("a collection's metadata at byte {at}: {e}"))?;
                let is_view = string_field(&doc, "metadata")
                    .is_some_and(|m| m.replace(' ', "").contains("\"type\":\"view\""));
                if !is_view {
                    listed.insert(format!("{db}.{coll}"));
                }
            }
        }
    }
    let mut open: BTreeSet<String> = BTreeSet::new();
    let mut closed: BTreeSet<String> = BTreeSet::new();
    let mut documents = 0u64;
    loop {
        let at = r.offset;
        let len = match r.length("a namespace header")? {
            None => break, // the end, exactly between two blocks
            Some(TERMINATOR) => {
                return Err(format!(
                    "a terminator at byte {at} where a namespace header belongs"
                ))
            }
            Some(len) => len,
        };
        let doc = r.header_doc(len, "a namespace header")?;
        let (db, coll) =
            namespace(&doc).map_err(|e| format!("the namespace header at byte {at}: {e}"))?;
        let ns = format!("{db}.{coll}");
        if closed.contains(&ns) {
            return Err(format!("{ns} has more at byte {at} after its end marker"));
        }
        if bool_field(&doc, "EOF") {
            match r.length("an end marker's terminator")? {
                Some(TERMINATOR) => {}
                None => return Err(r.truncated(&format!("{ns}'s end marker"))),
                Some(_) => {
                    return Err(format!(
                        "{ns}'s end marker at byte {at} is not followed by a terminator"
                    ))
                }
            }
            open.remove(&ns);
            closed.insert(ns);
            continue;
        }
        open.insert(ns.clone());
        loop {
            match r.length(&format!("{ns}'s documents"))? {
                None => return Err(r.truncated(&format!("{ns}'s documents"))),
                Some(TERMINATOR) => break,
                Some(len) => {
                    r.skip_doc(len, &format!("a document of {ns}"))?;
                    documents += 1;
                }
            }
        }
    }
    let unfinished: Vec<&String> = open
        .iter()
        .chain(
            listed
                .iter()
                .filter(|n| !closed.contains(*n) && !open.contains(*n)),
        )
        .collect();
    if !unfinished.is_empty() {
        let shown: Vec<&str> = unfinished.iter().take(5).map(|s| s.as_str()).collect();
        return Err(format!(
            "it ends at byte {} before the end marker of {} collection{} ({}{}): truncated",
            r.offset,
            unfinished.len(),
            if unfinished.len() == 1 { "" } else { "s" },
            shown.join(", "),
            if unfinished.len() > 5 { ", …" } else { "" }
        ));
    }
    Ok(Summary {
        collections: closed.len(),
        documents,
    })
}

struct Reader<R> {
    inner: R,
    offset: u64,
}

impl<R: Read> Reader<R> {
    fn truncated(&self, what: &str) -> String {
        format!("it ends at byte {} inside {what}: truncated", self.offset)
    }

    fn io(&self, e: io::Error, what: &str) -> String {
        format!("reading {what} at byte {}: {e}", self.offset)
    }

    /// Fill `buf`; `Ok(false)` at a clean end before the first byte.
    fn fill(&mut self, buf: &mut [u8], what: &str) -> Result<bool, String> {
        let mut got = 0;
        while got < buf.len() {
            match self.inner.read(&mut buf[got..]) {
                Ok(0) if got == 0 => return Ok(false),
                Ok(0) => {
                    self.offset += got as u64;
                    return Err(self.truncated(what));
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io(e, what)),
            }
        }
        self.offset += got as u64;
        Ok(true)
    }

    fn exact(&mut self, buf: &mut [u8], what: &str) -> Result<(), String> {
        if self.fill(buf, what)? {
            Ok(())
        } else {
            Err(self.truncated(what))
        }
    }

    /// The next int32 (a length or the terminator); `None` at a clean end.
    fn length(&mut self, what: &str) -> Result<Option<i32>, String> {
        let mut b = [0u8; 4];
        Ok(self.fill(&mut b, what)?.then(|| i32::from_le_bytes(b)))
    }

    fn check_len(&self, len: i32, max: i32, what: &str) -> Result<(), String> {
        if !(MIN_DOC..=max).contains(&len) {
            return Err(format!(
                "{what} at byte {} claims {len} bytes: not a BSON document",
                self.offset - 4
            ));
        }
        Ok(())
    }

    /// The rest of a document whose length was just read: its elements (without the final
    /// 0x00, which is checked).
    fn header_doc(&mut self, len: i32, what: &str) -> Result<Vec<u8>, String> {
        self.check_len(len, MAX_HEADER_DOC, what)?;
        let mut body = vec![0u8; len as usize - 4];
        self.exact(&mut body, what)?;
        if body.pop() != Some(0) {
            return Err(format!(
                "{what} ending at byte {} lacks its final 0x00",
                self.offset
            ));
        }
        Ok(body)
    }

    /// Skip a data document (its length just read), checking its final 0x00.
    fn skip_doc(&mut self, len: i32, what: &str) -> Result<(), String> {
        self.check_len(len, MAX_DOC, what)?;
        let rest = len as u64 - 5;
        let skipped = io::copy(&mut (&mut self.inner).take(rest), &mut io::sink())
            .map_err(|e| self.io(e, what))?;
        self.offset += skipped;
        if skipped < rest {
            return Err(self.truncated(what));
        }
        let mut last = [0u8; 1];
        self.exact(&mut last, what)?;
        if last[0] != 0 {
            return Err(format!(
                "{what} ending at byte {} lacks its final 0x00",
                self.offset
            ));
        }
        Ok(())
    }
}

/// A BSON value of a top-level element, as far as headers need them.
#[derive(Debug, PartialEq)]
enum Value<'a> {
    Str(&'a str),
    Bool(bool),
    Other,
}

/// The top-level elements of a document body (its bytes after the length, without the final
/// 0x00).
fn elements(mut body: &[u8]) -> Result<Vec<(&str, Value<'_>)>, String> {
    let mut out = Vec::new();
    let take = |b: &mut &[u8], n: usize| -> Result<(), String> {
        if b.len() < n {
            return Err("an element runs past the document's end".into());
        }
        *b = &b[n..];
        Ok(())
    };
    let i32_at = |b: &[u8]| -> Result<usize, String> {
        let v = b
            .get(..4)
            .map(|s| i32::from_le_bytes(s.try_into().expect("4 bytes")))
            .ok_or("an element runs past the document's end")?;
        usize::try_from(v).map_err(|_| "a negative length inside the document".to_string())
    };
    while !body.is_empty() {
        let kind = body[0];
        body = &body[1..];
        let nul = body
            .iter()
            .position(|&c| c == 0)
            .ok_or("an element name without its 0x00")?;
        let name = std::str::from_utf8(&body[..nul]).map_err(|_| "an element name is not UTF-8")?;
        body = &body[nul + 1..];
        let value = match kind {
            0x02 => {
                let n = i32_at(body)?;
                if n == 0 || body.len() < 4 + n || body[4 + n - 1] != 0 {
                    return Err(format!("the string {name} is malformed"));
                }
                let s = std::str::from_utf8(&body[4..4 + n - 1])
                    .map_err(|_| format!("the string {name} is not UTF-8"))?;
                take(&mut body, 4 + n)?;
                Value::Str(s)
            }
            0x08 => {
                let v = *body
                    .first()
                    .ok_or("an element runs past the document's end")?;
                take(&mut body, 1)?;
                Value::Bool(v != 0)
            }
            // double, datetime, timestamp, int64
            0x01 | 0x09 | 0x11 | 0x12 => {
                take(&mut body, 8)?;
                Value::Other
            }
            0x10 => {
                take(&mut body, 4)?;
                Value::Other
            }
            0x07 => {
                take(&mut body, 12)?;
                Value::Other
            }
            0x13 => {
                take(&mut body, 16)?;
                Value::Other
            }
            0x0A | 0x06 | 0x7F | 0xFF => Value::Other,
            // document, array: their length counts itself
            0x03 | 0x04 => {
                let n = i32_at(body)?;
                take(&mut body, n)?;
                Value::Other
            }
            // binary: length, subtype, bytes
            0x05 => {
                let n = i32_at(body)?;
                take(&mut body, 5 + n)?;
                Value::Other
            }
            // JavaScript, symbol: a string
            0x0D | 0x0E => {
                let n = i32_at(body)?;
                take(&mut body, 4 + n)?;
                Value::Other
            }
            other => {
                return Err(format!(
                    "the element {name} has the unknown BSON type {other:#04x}"
                ))
            }
        };
        out.push((name, value));
    }
    Ok(out)
}

fn string_field<'a>(body: &'a [u8], field: &str) -> Option<&'a str> {
    elements(body).ok()?.into_iter().find_map(|(n, v)| match v {
        Value::Str(s) if n == field => Some(s),
        _ => None,
    })
}

fn bool_field(body: &[u8], field: &str) -> bool {
    elements(body).is_ok_and(|els| {
        els.iter()
            .any(|(n, v)| *n == field && *v == Value::Bool(true))
    })
}

/// `db` and `collection` of a header.
fn namespace(body: &[u8]) -> Result<(String, String), String> {
    let els = elements(body)?;
    let get = |field: &str| {
        els.iter()
            .find_map(|(n, v)| match v {
                Value::Str(s) if *n == field => Some(s.to_string()),
                _ => None,
            })
            .ok_or_else(|| format!("no {field} string"))
    };
    Ok((get("db")?, get("collection")?))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A tiny BSON encoder for synthetic archives.
    pub enum B<'a> {
        S(&'a str),
        Bool(bool),
        I32(i32),
        I64(i64),
    }

    pub fn doc(fields: &[(&str, B)]) -> Vec<u8> {
        let mut body = Vec::new();
        for (name, v) in fields {
            let (kind, bytes) = match v {
                B::S(s) => {
                    let mut b = ((s.len() + 1) as i32).to_le_bytes().to_vec();
                    b.extend(s.as_bytes());
                    b.push(0);
                    (0x02u8, b)
                }
                B::Bool(x) => (0x08, vec![u8::from(*x)]),
                B::I32(x) => (0x10, x.to_le_bytes().to_vec()),
                B::I64(x) => (0x12, x.to_le_bytes().to_vec()),
            };
            body.push(kind);
            body.extend(name.as_bytes());
            body.push(0);
            body.extend(bytes);
        }
        let mut out = ((body.len() + 5) as i32).to_le_bytes().to_vec();
        out.extend(body);
        out.push(0);
        out
    }

    const T: [u8; 4] = [0xff; 4];

    fn header(db: &str, coll: &str, eof: bool) -> Vec<u8> {
        doc(&[
            ("db", B::S(db)),
            ("collection", B::S(coll)),
            ("EOF", B::Bool(eof)),
            ("CRC", B::I64(0)),
        ])
    }

    /// An archive of two collections (one empty, one view) as mongodump writes it, with its
    /// data interleaved; and the offsets where each block ends.
    pub fn archive() -> (Vec<u8>, Vec<usize>) {
        let mut a = MAGIC.to_vec();
        a.extend(doc(&[
            ("concurrent_collections", B::I32(4)),
            ("version", B::S("0.1")),
            ("server_version", B::S("7.0.0")),
            ("tool_version", B::S("100.9.0")),
        ]));
        for (coll, meta) in [
            ("users", r#"{"indexes":[],"uuid":"x"}"#),
            ("empty", r#"{"indexes":[]}"#),
            ("recent", r#"{"options":{"viewOn":"users"},"type":"view"}"#),
        ] {
            a.extend(doc(&[
                ("db", B::S("app")),
                ("collection", B::S(coll)),
                ("metadata", B::S(meta)),
                ("size", B::I32(0)),
            ]));
        }
        a.extend(T);
        let mut ends = vec![a.len()];
        for (coll, n) in [("users", 2), ("empty", 0), ("users", 1)] {
            if n > 0 {
                a.extend(header("app", coll, false));
                for i in 0..n {
                    a.extend(doc(&[("_id", B::I32(i)), ("name", B::S("ü"))]));
                }
                a.extend(T);
                ends.push(a.len());
            }
        }
        for coll in ["users", "empty"] {
            a.extend(header("app", coll, true));
            a.extend(T);
            ends.push(a.len());
        }
        (a, ends)
    }

    #[test]
    fn a_complete_archive_reads_to_its_end() {
        let (a, _) = archive();
        assert_eq!(
            check(&a[..]),
            Ok(Summary {
                collections: 2,
                documents: 3
            })
        );
        // No collections at all: magic, header, terminator.
        let mut empty = MAGIC.to_vec();
        empty.extend(doc(&[("version", B::S("0.1"))]));
        empty.extend(T);
        assert_eq!(
            check(&empty[..]),
            Ok(Summary {
                collections: 0,
                documents: 0
            })
        );
    }

    #[test]
    fn every_truncation_is_found() {
        let (a, ends) = archive();
        let last = *ends.last().unwrap();
        assert_eq!(last, a.len());
        for cut in 0..a.len() {
            let r = check(&a[..cut]);
            assert!(r.is_err(), "cut at {cut} of {} passed: {r:?}", a.len());
        }
        let e = check(&a[..ends[ends.len() - 2]]).unwrap_err();
        assert!(
            e.contains("before the end marker of 1 collection (app.empty): truncated"),
            "{e}"
        );
        let e = check(&a[..ends[0]]).unwrap_err();
        assert!(e.contains("2 collections (app.empty, app.users)"), "{e}");
        let e = check(&a[..a.len() - 3]).unwrap_err();
        assert!(e.contains("truncated"), "{e}");
    }

    #[test]
    fn damage_is_named() {
        let e = check(&b"{\"not\": \"an archive\"}"[..]).unwrap_err();
        assert!(e.contains("not a mongodump archive"), "{e}");
        let (mut a, ends) = archive();
        // A document length gone wild.
        a[ends[0] + header("app", "users", false).len()] = 0x7f;
        a[ends[0] + header("app", "users", false).len() + 3] = 0x7f;
        let e = check(&a[..]).unwrap_err();
        assert!(e.contains("not a BSON document"), "{e}");
        // Trailing garbage after the last marker.
        let (mut a, _) = archive();
        a.extend([1, 2]);
        assert!(check(&a[..]).is_err());
        // Data after a collection's end marker.
        let (mut a, _) = archive();
        a.extend(header("app", "users", false));
        a.extend(doc(&[("_id", B::I32(9))]));
        a.extend(T);
        let e = check(&a[..]).unwrap_err();
        assert!(e.contains("app.users has more"), "{e}");
    }
}
