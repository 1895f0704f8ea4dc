//! [`TxGuard`]: a SQL script read the way psql splits it into statements, to stop any that
//! would end or leave the stream's one transaction before psql sees it.

/// A statement in a script that would end (or escape) psql's single transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unsafe {
    /// 1-based line of the script.
    pub line: u64,
    /// The statement or meta-command, e.g. `COMMIT` or `\connect`.
    pub what: String,
}

/// Reads a SQL script the way psql splits it into statements, and stops at any that would
/// end the transaction psql runs the script in (`BEGIN`, `COMMIT`, `END`, `ROLLBACK`,
/// `ABORT`, `START TRANSACTION`, `PREPARE TRANSACTION`) or leave it (`\connect`, `\i`, any
/// meta-command but the harmless ones pg_dump writes: `\restrict`, `\unrestrict`,
/// `\encoding`, `\echo`). Quotes (`'…'`, `E'…'`, `"…"`, `$tag$…$tag$`), comments (`--`,
/// nested `/* */`), parentheses and `COPY … FROM stdin` data are skipped as psql skips them,
/// so a function body's `BEGIN` or a row reading `COMMIT;` is not a statement. Fed in
/// chunks of any size; a stop is reported before the statement's end reached psql.
#[derive(Debug, Default)]
pub(crate) struct TxGuard {
    st: St,
    /// Lines completed so far.
    lines: u64,
    paren: u32,
    /// The word being read (upper case, at most [`WORD_MAX`] bytes kept).
    word: Vec<u8>,
    in_word: bool,
    /// Words of the current statement seen so far.
    words: u32,
    first: Vec<u8>,
    prev: Vec<u8>,
    copy_stdin: bool,
    /// A `COPY … FROM stdin` ended: its data starts on the next line.
    copy_pending: bool,
    /// `standard_conforming_strings` off: backslashes escape in plain `'…'` strings too.
    backslash_strings: bool,
    /// `SET standard_conforming_strings` seen: its value is the next word.
    scs_pending: bool,
}

const WORD_MAX: usize = 40;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
enum St {
    #[default]
    Normal,
    /// After `-`: a comment if another follows.
    Dash,
    /// After `/`: a comment if `*` follows.
    Slash,
    LineComment,
    Block {
        depth: u32,
        star: bool,
        slash: bool,
    },
    Single {
        escapes: bool,
        backslash: bool,
        quote: bool,
    },
    Double {
        quote: bool,
    },
    /// After `$`: reading a dollar-quote's tag.
    DollarTag(Vec<u8>),
    /// Inside `$tag$…`, `matched` bytes of the closing `$tag$` seen.
    Dollar {
        tag: Vec<u8>,
        matched: usize,
    },
    /// A backslash meta-command, to the end of the line.
    Meta {
        name: Vec<u8>,
        reading: bool,
    },
    /// `COPY … FROM stdin` data: `at` bytes of the line matched `\.` (255: not the end).
    CopyData {
        at: u8,
    },
}

fn ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

fn tag_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

/// Meta-commands pg_dump and pg_dumpall write that cannot touch the transaction.
const SAFE_META: &[&[u8]] = &[
    b"restrict",
    b"unrestrict",
    b"encoding",
    b"echo",
    b"qecho",
    b"warn",
];

impl TxGuard {
    pub fn scan(&mut self, data: &[u8]) -> Result<(), Unsafe> {
        for &b in data {
            self.byte(b)?;
            if b == b'\n' {
                self.lines += 1;
            }
        }
        Ok(())
    }

    /// The end of the script: a last statement without its `;` still runs in psql.
    pub fn finish(&mut self) -> Result<(), Unsafe> {
        match std::mem::take(&mut self.st) {
            St::Meta { name, .. } if !SAFE_META.contains(&name.as_slice()) => {
                Err(self.stop(format!("\\{}", String::from_utf8_lossy(&name))))
            }
            St::Normal | St::Dash | St::Slash => self.normal(b'\n'),
            _ => Ok(()),
        }
    }

    fn stop(&self, what: String) -> Unsafe {
        Unsafe {
            line: self.lines + 1,
            what,
        }
    }

    fn byte(&mut self, b: u8) -> Result<(), Unsafe> {
        match std::mem::take(&mut self.st) {
            St::Normal => self.normal(b),
            St::Dash => {
                if b == b'-' {
                    self.st = St::LineComment;
                    Ok(())
                } else {
                    self.normal(b)
                }
            }
            St::Slash => {
                if b == b'*' {
                    self.st = St::Block {
                        depth: 1,
                        star: false,
                        slash: false,
                    };
                    Ok(())
                } else {
                    self.normal(b)
                }
            }
            St::LineComment => {
                if b == b'\n' {
                    self.end_of_line();
                } else {
                    self.st = St::LineComment;
                }
                Ok(())
            }
            St::Block { depth, star, slash } => {
                self.st = if star && b == b'/' {
                    if depth == 1 {
                        St::Normal
                    } else {
                        St::Block {
                            depth: depth - 1,
                            star: false,
                            slash: false,
                        }
                    }
                } else if slash && b == b'*' {
                    St::Block {
                        depth: depth + 1,
                        star: false,
                        slash: false,
                    }
                } else {
                    St::Block {
                        depth,
                        star: b == b'*',
                        slash: b == b'/',
                    }
                };
                Ok(())
            }
            St::Single {
                escapes,
                backslash,
                quote,
            } => {
                if quote {
                    if b == b'\'' {
                        // '' inside a string.
                        self.st = St::Single {
                            escapes,
                            backslash: false,
                            quote: false,
                        };
                        return Ok(());
                    }
                    return self.normal(b);
                }
                self.st = if backslash {
                    St::Single {
                        escapes,
                        backslash: false,
                        quote: false,
                    }
                } else {
                    St::Single {
                        escapes,
                        backslash: escapes && b == b'\\',
                        quote: b == b'\'',
                    }
                };
                Ok(())
            }
            St::Double { quote } => {
                if quote && b != b'"' {
                    return self.normal(b);
                }
                self.st = St::Double {
                    quote: !quote && b == b'"',
                };
                Ok(())
            }
            St::DollarTag(mut tag) => {
                if b == b'$' {
                    self.st = St::Dollar { tag, matched: 0 };
                    Ok(())
                } else if tag_start(b) || (!tag.is_empty() && b.is_ascii_digit()) {
                    tag.push(b);
                    self.st = St::DollarTag(tag);
                    Ok(())
                } else {
                    // `$1` and the like: not a quote.
                    self.normal(b)
                }
            }
            St::Dollar { tag, matched } => {
                // The closing delimiter is `$` + tag + `$`.
                let want = if matched == 0 || matched == tag.len() + 1 {
                    b'$'
                } else {
                    tag[matched - 1]
                };
                let matched = if b == want {
                    matched + 1
                } else if b == b'$' {
                    1
                } else {
                    0
                };
                if matched == tag.len() + 2 {
                    self.st = St::Normal;
                } else {
                    self.st = St::Dollar { tag, matched };
                }
                Ok(())
            }
            St::Meta { mut name, reading } => {
                let reading = reading && !b.is_ascii_whitespace() && b != b'\\';
                if reading {
                    name.push(b);
                }
                if !reading && !SAFE_META.contains(&name.as_slice()) {
                    return Err(self.stop(format!("\\{}", String::from_utf8_lossy(&name))));
                }
                if b == b'\n' {
                    self.end_of_line();
                } else {
                    self.st = St::Meta { name, reading };
                }
                Ok(())
            }
            St::CopyData { at } => {
                self.st = match (at, b) {
                    (0, b'\\') => St::CopyData { at: 1 },
                    (1, b'.') => St::CopyData { at: 2 },
                    (2, b'\n') => St::Normal,
                    (2, b'\r') => St::CopyData { at: 3 },
                    (3, b'\n') => St::Normal,
                    (_, b'\n') => St::CopyData { at: 0 },
                    _ => St::CopyData { at: 255 },
                };
                Ok(())
            }
        }
    }

    fn end_of_line(&mut self) {
        if std::mem::take(&mut self.copy_pending) {
            self.st = St::CopyData { at: 0 };
        }
    }

    /// A byte outside quotes and comments.
    fn normal(&mut self, b: u8) -> Result<(), Unsafe> {
        if ident_byte(b) && (self.in_word || b != b'$') {
            self.in_word = true;
            if self.word.len() < WORD_MAX {
                self.word.push(b.to_ascii_uppercase());
            }
            return Ok(());
        }
        let word = std::mem::take(&mut self.word);
        let was_word = std::mem::take(&mut self.in_word);
        if b == b'\'' && was_word && word == b"E" {
            self.st = St::Single {
                escapes: true,
                backslash: false,
                quote: false,
            };
            return Ok(());
        }
        if was_word {
            self.word_done(word)?;
        }
        match b {
            b'\'' => {
                self.st = St::Single {
                    escapes: self.backslash_strings,
                    backslash: false,
                    quote: false,
                }
            }
            b'"' => self.st = St::Double { quote: false },
            b'$' => self.st = St::DollarTag(Vec::new()),
            b'-' => self.st = St::Dash,
            b'/' => self.st = St::Slash,
            b'\\' => {
                self.st = St::Meta {
                    name: Vec::new(),
                    reading: true,
                }
            }
            b'(' => self.paren += 1,
            b')' => self.paren = self.paren.saturating_sub(1),
            b';' if self.paren == 0 => self.statement_done(),
            b'\n' => self.end_of_line(),
            _ => {}
        }
        Ok(())
    }

    fn word_done(&mut self, word: Vec<u8>) -> Result<(), Unsafe> {
        self.words += 1;
        if self.words == 1 {
            if matches!(
                word.as_slice(),
                b"BEGIN" | b"START" | b"COMMIT" | b"END" | b"ROLLBACK" | b"ABORT"
            ) {
                return Err(self.stop(String::from_utf8_lossy(&word).into_owned()));
            }
            self.first = word.clone();
        } else {
            match (self.first.as_slice(), self.prev.as_slice(), word.as_slice()) {
                (b"PREPARE", b"PREPARE", b"TRANSACTION") => {
                    return Err(self.stop("PREPARE TRANSACTION".into()))
                }
                (b"COPY", b"FROM", b"STDIN") => self.copy_stdin = true,
                (b"SET", b"SET", b"STANDARD_CONFORMING_STRINGS") => self.scs_pending = true,
                (b"SET", _, b"TO") => {}
                (b"SET", _, value) if std::mem::take(&mut self.scs_pending) => {
                    self.backslash_strings = matches!(value, b"OFF" | b"FALSE");
                }
                _ => {}
            }
        }
        self.prev = word;
        Ok(())
    }

    fn statement_done(&mut self) {
        // A `;` right after a word: that word is done first (handled by the caller).
        self.copy_pending = std::mem::take(&mut self.copy_stdin);
        self.words = 0;
        self.first.clear();
        self.prev.clear();
        self.scs_pending = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(script: &str) -> Result<(), Unsafe> {
        let mut g = TxGuard::default();
        g.scan(script.as_bytes()).and_then(|_| g.finish())
    }

    /// Every split of `script` into two chunks gives the same answer as one chunk.
    fn scan_split(script: &str) -> Result<(), Unsafe> {
        let whole = scan(script);
        for i in 0..=script.len() {
            let mut g = TxGuard::default();
            let r = g
                .scan(&script.as_bytes()[..i])
                .and_then(|_| g.scan(&script.as_bytes()[i..]))
                .and_then(|_| g.finish());
            assert_eq!(r, whole, "split at {i}");
        }
        whole
    }

    #[test]
    fn pg_dump_scripts_pass() {
        let dump = r#"--
-- PostgreSQL database dump
--

\restrict 8slvkefjKz

SET statement_timeout = 0;
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);

CREATE FUNCTION public.f() RETURNS integer
    LANGUAGE plpgsql
    AS $$
BEGIN
  RETURN 1;
END;
$$;

CREATE FUNCTION public.g() RETURNS text LANGUAGE sql AS $body$SELECT 'COMMIT; $$'$body$;
CREATE RULE r AS ON INSERT TO t DO ( INSERT INTO a VALUES (1); INSERT INTO b VALUES (2); );
COMMENT ON TABLE t IS 'it''s ok; BEGIN';
COMMENT ON COLUMN t.s IS E'escaped \' quote; COMMIT';
/* a /* nested */ comment; COMMIT; */
CREATE TABLE "Begin" (id int);

COPY public.t (id, s) FROM stdin;
1	a
2	COMMIT;
3	\.x
\.

COPY public.u FROM stdin;
BEGIN;
\.
ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id);
-- COMMIT;
SELECT $1, $$;$$;

--
-- PostgreSQL database dump complete
--

\unrestrict 8slvkefjKz
"#;
        assert_eq!(scan_split(dump), Ok(()));
    }

    #[test]
    fn transaction_control_is_stopped_before_it_runs() {
        for (script, what, line) in [
            (
                "SELECT 1;\nBEGIN;\nSELECT lo_open(1, 2);\nCOMMIT;\n",
                "BEGIN",
                2,
            ),
            ("CREATE TABLE t(i int);\ncommit;", "COMMIT", 2),
            ("  end ;", "END", 1),
            ("rollback", "ROLLBACK", 1),
            ("SELECT 1; START TRANSACTION;", "START", 1),
            ("abort;", "ABORT", 1),
            ("PREPARE TRANSACTION 'x';", "PREPARE TRANSACTION", 1),
            ("/* c */ -- c\nCOMMIT;", "COMMIT", 2),
            ("SELECT 'a''b';COMMIT;", "COMMIT", 1),
            ("SELECT $q$ $$ $q$; COMMIT;", "COMMIT", 1),
            ("COPY t FROM stdin;\nCOMMIT\n\\.\nCOMMIT;", "COMMIT", 4),
            ("\\connect other\n", "\\connect", 1),
            ("SELECT 1;\n\\c other", "\\c", 2),
            ("\\i /etc/x.sql\n", "\\i", 1),
            ("\\set x 'COMMIT'\n:x;", "\\set", 1),
        ] {
            let got = scan_split(script).expect_err(script);
            assert_eq!((got.what.as_str(), got.line), (what, line), "{script}");
        }
        // PREPARE of a statement is not a transaction's.
        assert_eq!(scan("PREPARE p AS SELECT 1;"), Ok(()));
    }

    #[test]
    fn old_dumps_without_standard_strings_escape_with_backslashes() {
        let off = "SET standard_conforming_strings = off;\nSELECT 'it\\'s; COMMIT';\nSELECT 1;";
        assert_eq!(scan_split(off), Ok(()));
        // With it on, the same backslash ends nothing: the quote closes the string.
        let on = "SELECT 'a\\';\nCOMMIT;";
        assert_eq!(scan(on).unwrap_err().what, "COMMIT");
    }
}
