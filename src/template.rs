//! Backup names: render `BACKUP_NAME_TEMPLATE` for a run, and recognise names it produced.
//!
//! Retention only ever deletes objects whose names match this config's template (with this
//! config's `{db}`, `{engine}` and extension), so a pattern that matched too much would delete
//! someone else's files. Matching is therefore anchored and token-exact, and names are
//! unambiguous:
//!
//! - `{db}` is written with an injective escape ([`escape_db`]): `a/b` and `a_b` differ.
//! - Every other token has a fixed width (`{ts}` is always 10 digits). So within one
//!   template and engine, a name's length fixes the length of its `{db}` part, and where it
//!   sits: `{db}{ts}` for `small` can never match a name of `small1`. No template needs a
//!   separator between tokens for this, so none is refused.
//!
//! A value that would not fit its width (a clock before 1970 or after 2286, a year past
//! 9999) renders a name the matcher does not recognise: such a backup is kept, never
//! deleted by mistake.

use std::borrow::Cow;
use std::fmt;

use chrono::DateTime;
use chrono_tz::Tz;
use regex::Regex;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(String),
    Db,
    Engine,
    Date,
    Time,
    Ts,
    Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameTemplate {
    source: String,
    parts: Vec<Part>,
}

/// The values a name is rendered from.
pub struct NameVars<'a> {
    /// The database; `None` for a dump of all databases (`{db}` is then `all`).
    pub db: Option<&'a str>,
    pub engine: &'a str,
    pub now: DateTime<Tz>,
    /// 8 lowercase hex digits; the run's backup_id.
    pub uuid: &'a str,
}

const TOKENS: &str = "{db} {engine} {date} {time} {ts} {uuid}";

impl NameTemplate {
    pub fn parse(source: &str) -> Result<NameTemplate, String> {
        if source.contains('/') {
            return Err(format!(
                "'{source}' must not contain '/': put folders in RCLONE_REMOTE instead"
            ));
        }
        let mut parts = Vec::new();
        let mut rest = source;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Lit(rest[..open].to_string()));
            }
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| format!("'{source}' has an unclosed '{{' (tokens: {TOKENS})"))?;
            parts.push(match &after[..close] {
                "db" => Part::Db,
                "engine" => Part::Engine,
                "date" => Part::Date,
                "time" => Part::Time,
                "ts" => Part::Ts,
                "uuid" => Part::Uuid,
                other => {
                    return Err(format!(
                        "unknown token '{{{other}}}' in '{source}' (expected {TOKENS})"
                    ))
                }
            });
            rest = &after[close + 1..];
        }
        if rest.contains('}') {
            return Err(format!(
                "'{source}' has a '}}' without '{{' (tokens: {TOKENS})"
            ));
        }
        if !rest.is_empty() {
            parts.push(Part::Lit(rest.to_string()));
        }
        if parts.is_empty() {
            return Err(format!(
                "is empty (expected e.g. {{db}}-{{date}}-{{time}}; tokens: {TOKENS})"
            ));
        }
        Ok(NameTemplate {
            source: source.to_string(),
            parts,
        })
    }

    /// Whether names carry the database (without `{db}`, all databases share names).
    pub fn has_db(&self) -> bool {
        self.parts.contains(&Part::Db)
    }

    /// Whether two runs, a second or more apart, always get different names.
    pub fn is_unique_per_run(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Time | Part::Ts | Part::Uuid))
    }

    /// The object name (without extension) for one run.
    pub fn render(&self, v: &NameVars) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Lit(s) => out.push_str(s),
                Part::Db => out.push_str(&db_in_names(v.db)),
                Part::Engine => out.push_str(v.engine),
                Part::Date => out.push_str(&v.now.format("%Y-%m-%d").to_string()),
                Part::Time => out.push_str(&v.now.format("%H%M%S").to_string()),
                Part::Ts => out.push_str(&format!("{:010}", v.now.timestamp())),
                Part::Uuid => out.push_str(v.uuid),
            }
        }
        out
    }

    /// An anchored pattern matching exactly the names `render` can produce for this `db`
    /// (`None`: all databases), `engine` and extension.
    pub fn matcher(&self, db: Option<&str>, engine: &str, extension: &str) -> Regex {
        let mut re = String::from("^");
        for part in &self.parts {
            match part {
                Part::Lit(s) => re.push_str(&regex::escape(s)),
                Part::Db => re.push_str(&regex::escape(&db_in_names(db))),
                Part::Engine => re.push_str(&regex::escape(engine)),
                Part::Date => re.push_str(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"),
                Part::Time => re.push_str(r"[0-9]{6}"),
                Part::Ts => re.push_str(r"[0-9]{10}"),
                Part::Uuid => re.push_str(r"[0-9a-f]{8}"),
            }
        }
        re.push_str(&regex::escape(extension));
        re.push('$');
        Regex::new(&re).expect("escaped template pattern is a valid regex")
    }
}

/// What a dump of all databases writes for `{db}`.
pub const ALL_DATABASES: &str = "all";

/// `{db}` as it appears in names: [`ALL_DATABASES`] for a dump of all databases (`None`),
/// else the database's name escaped by [`escape_db`].
pub fn db_in_names(db: Option<&str>) -> Cow<'_, str> {
    match db {
        None => Cow::Borrowed(ALL_DATABASES),
        Some(name) => escape_db(name),
    }
}

/// A database's name as it appears in names: `%`, `/` and control characters as `%XX`
/// (uppercase hex of each UTF-8 byte), everything else as is; and a database named exactly
/// `all` as `%61ll`, so that it never shares names with a dump of all databases. Injective
/// (`%` itself is escaped), so two databases never share a name: `a/b` → `a%2Fb`, `a_b` →
/// `a_b`, `50%` → `50%25`.
pub fn escape_db(db: &str) -> Cow<'_, str> {
    if db == ALL_DATABASES {
        return Cow::Owned(format!("%{:02X}{}", db.as_bytes()[0], &db[1..]));
    }
    let escaped = |c: char| c == '%' || c == '/' || c.is_control();
    if !db.contains(escaped) {
        return Cow::Borrowed(db);
    }
    let mut out = String::with_capacity(db.len() + 8);
    for c in db.chars() {
        if escaped(c) {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

impl fmt::Display for NameTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn vars(tz: Tz) -> NameVars<'static> {
        NameVars {
            db: Some("myapp"),
            engine: "pg",
            // 2026-02-07T20:30:00Z
            now: tz.timestamp_opt(1_770_496_200, 0).unwrap(),
            uuid: "a1b2c3d4",
        }
    }

    #[test]
    fn renders_every_token() {
        let t = NameTemplate::parse("{engine}_{db}-{date}-{time}-{ts}-{uuid}").unwrap();
        assert_eq!(
            t.render(&vars(Tz::UTC)),
            "pg_myapp-2026-02-07-203000-1770496200-a1b2c3d4"
        );
    }

    #[test]
    fn date_and_time_follow_the_time_zone() {
        let t = NameTemplate::parse("{db}-{date}-{time}").unwrap();
        assert_eq!(
            t.render(&vars(Tz::Asia__Kolkata)),
            "myapp-2026-02-08-020000"
        );
        assert_eq!(
            t.render(&vars(Tz::America__New_York)),
            "myapp-2026-02-07-153000"
        );
    }

    #[test]
    fn rejects_bad_templates() {
        for (tpl, needle) in [
            ("{db}-{nope}", "unknown token '{nope}'"),
            ("{db", "unclosed"),
            ("db}", "without"),
            ("", "empty"),
            ("backups/{db}", "must not contain '/'"),
        ] {
            let err = NameTemplate::parse(tpl).unwrap_err();
            assert!(err.contains(needle), "{tpl}: {err}");
        }
    }

    #[test]
    fn uniqueness() {
        assert!(NameTemplate::parse("{db}-{date}-{time}")
            .unwrap()
            .is_unique_per_run());
        assert!(NameTemplate::parse("{uuid}").unwrap().is_unique_per_run());
        assert!(!NameTemplate::parse("{db}-{date}")
            .unwrap()
            .is_unique_per_run());
    }

    #[test]
    fn matches_exactly_what_it_renders() {
        let t = NameTemplate::parse("{db}-{date}-{time}").unwrap();
        let m = t.matcher(Some("myapp"), "pg", ".sql");
        let made = format!("{}.sql", t.render(&vars(Tz::UTC)));
        assert!(m.is_match(&made));
        for foreign in [
            "myapp-2026-02-07-203000.sql.sha256", // a sidecar is not a backup
            "myapp-2026-02-07-203000.dump",       // other extension
            "myapp2-2026-02-07-203000.sql",       // other database
            "xmyapp-2026-02-07-203000.sql",
            "myapp-2026-02-07-20300.sql",
            "myapp-2026-02-07-203000.sql.bak",
            "myapp-latest.sql",
            "notes.txt",
        ] {
            assert!(!m.is_match(foreign), "{foreign} must not match");
        }
    }

    #[test]
    fn literal_regex_characters_are_escaped() {
        let t = NameTemplate::parse("db.(x)+{ts}").unwrap();
        let m = t.matcher(Some("d"), "pg", ".sql");
        assert!(m.is_match("db.(x)+1770496200.sql"));
        assert!(!m.is_match("dbX(x)+1770496200.sql"));
    }

    #[test]
    fn database_names_are_escaped_injectively() {
        for (db, want) in [
            ("shop", "shop"),
            ("a/b", "a%2Fb"),
            ("a_b", "a_b"),
            ("50%", "50%25"),
            ("a%2Fb", "a%252Fb"),
            ("tab\there", "tab%09here"),
            ("del\u{7f}", "del%7F"),
            ("\u{85}c1", "%C2%85c1"),
            ("caf\u{e9}", "caf\u{e9}"),
            ("all", "%61ll"),
            ("All", "All"),
            ("all2", "all2"),
        ] {
            assert_eq!(escape_db(db), want, "{db:?}");
        }
        assert_eq!(db_in_names(None), "all", "a dump of all databases");
    }

    #[test]
    fn timestamps_are_always_ten_digits() {
        let t = NameTemplate::parse("{db}{ts}").unwrap();
        let at = |secs| NameVars {
            now: Tz::UTC.timestamp_opt(secs, 0).unwrap(),
            ..vars(Tz::UTC)
        };
        assert_eq!(t.render(&at(5)), "myapp0000000005");
        assert_eq!(t.render(&at(1_770_496_200)), "myapp1770496200");
        let m = t.matcher(Some("myapp"), "pg", ".sql");
        assert!(m.is_match("myapp0000000005.sql"));
        // Outside 10 digits the name is kept, never matched.
        assert!(!m.is_match(&format!("{}.sql", t.render(&at(10_000_000_000)))));
        assert!(!m.is_match(&format!("{}.sql", t.render(&at(-1)))));
    }

    /// The cases of issue 9: `{db}{ts}` with `small` and `small1`, and `a/b` next to `a_b`
    /// with the default template; and a database named `all` next to a dump of all
    /// databases (`None`).
    #[test]
    fn look_alike_databases_never_match_each_other() {
        for (tpl, a, b) in [
            ("{db}{ts}", Some("small"), Some("small1")),
            ("{db}{ts}", Some("small"), Some("small17")),
            ("{db}{date}", Some("small"), Some("small2")),
            ("{db}{time}{uuid}", Some("db"), Some("db0")),
            ("{db}-{date}-{time}", Some("a/b"), Some("a_b")),
            ("{db}-{date}-{time}", Some("a/b"), Some("a%2Fb")),
            ("{db}-{date}-{time}", Some("a"), Some("a-2026-02-07")),
            ("{ts}{db}", Some("1"), Some("21")),
            ("{uuid}{db}", Some("x"), Some("ax")),
            ("{db}-{date}-{time}", Some("all"), None),
            ("{db}-{date}-{time}", Some("%61ll"), None),
            ("{db}-{date}-{time}", Some("all"), Some("%61ll")),
        ] {
            let t = NameTemplate::parse(tpl).unwrap();
            for (one, other) in [(a, b), (b, a)] {
                let name = format!(
                    "{}.sql",
                    t.render(&NameVars {
                        db: one,
                        ..vars(Tz::UTC)
                    })
                );
                assert!(
                    t.matcher(one, "pg", ".sql").is_match(&name),
                    "{tpl}: {name}"
                );
                assert!(
                    !t.matcher(other, "pg", ".sql").is_match(&name),
                    "{tpl}: {other:?}'s matcher took {one:?}'s {name}"
                );
            }
        }
    }

    mod property {
        use super::*;
        use proptest::prelude::*;

        const ENGINES: [&str; 5] = ["pg", "mysql", "mariadb", "mongo", "redis"];
        /// Every extension dbstash picks by itself.
        const EXTENSIONS: [&str; 8] = [
            ".sql",
            ".dump",
            ".sql.gz",
            ".sql.zst",
            ".sql.lz4",
            ".archive",
            ".archive.gz",
            ".rdb",
        ];
        const TOKENS: [&str; 6] = ["{db}", "{engine}", "{date}", "{time}", "{ts}", "{uuid}"];

        /// Templates of 1 to 5 tokens with short literals (often none) between them, always
        /// with a `{db}`.
        fn template() -> impl Strategy<Value = String> {
            (
                prop::collection::vec(
                    (prop::sample::select(&TOKENS[..]), "[-_.a-z0-9]{0,2}"),
                    0..5,
                ),
                0..5usize,
                "[-_a-z]{0,2}",
            )
                .prop_map(|(parts, at, lead)| {
                    let mut s = lead;
                    let at = at.min(parts.len());
                    for (i, (tok, lit)) in parts.iter().enumerate() {
                        if i == at {
                            s.push_str("{db}");
                        }
                        s.push_str(tok);
                        s.push_str(lit);
                    }
                    if at == parts.len() {
                        s.push_str("{db}");
                    }
                    s
                })
        }

        /// Database names full of the characters that make trouble: digits, separators,
        /// the escape character, `/`, a control character; a database named `all`, and a
        /// dump of all databases (`None`).
        fn database() -> impl Strategy<Value = Option<String>> {
            prop_oneof![
                8 => "[a-c0-9_%/.\n-]{1,8}".prop_map(Some),
                1 => Just(Some("all".to_string())),
                1 => Just(None),
            ]
        }

        type Run = (Option<String>, &'static str, &'static str, i64, String);

        /// A run: database, engine, extension, clock (2001 to 2286) and backup_id.
        fn run() -> impl Strategy<Value = Run> {
            (
                database(),
                prop::sample::select(&ENGINES[..]),
                prop::sample::select(&EXTENSIONS[..]),
                1_000_000_000i64..9_999_999_999,
                "[0-9a-f]{8}",
            )
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1000))]

            /// Within one template, a name rendered for one (database, engine, extension)
            /// matches only its own matcher. Without `{engine}` in the template, two engines
            /// with the same extension share names (documented): those pairs are skipped.
            #[test]
            fn names_of_one_config_never_match_another(
                tpl in template(),
                a in run(),
                b in run(),
            ) {
                let t = NameTemplate::parse(&tpl).unwrap();
                let has_engine = tpl.contains("{engine}");
                prop_assume!(a.0 != b.0 || a.1 != b.1 || a.2 != b.2);
                prop_assume!(has_engine || a.1 == b.1 || a.0 != b.0 || a.2 != b.2);
                let name = |r: &Run| {
                    let v = NameVars {
                        db: r.0.as_deref(),
                        engine: r.1,
                        now: Tz::UTC.timestamp_opt(r.3, 0).unwrap(),
                        uuid: &r.4,
                    };
                    format!("{}{}", t.render(&v), r.2)
                };
                let (na, nb) = (name(&a), name(&b));
                prop_assert!(t.matcher(a.0.as_deref(), a.1, a.2).is_match(&na), "{} {}", tpl, na);
                prop_assert!(t.matcher(b.0.as_deref(), b.1, b.2).is_match(&nb), "{} {}", tpl, nb);
                if !has_engine && a.0 == b.0 && a.2 == b.2 {
                    return Ok(());
                }
                prop_assert!(
                    !t.matcher(b.0.as_deref(), b.1, b.2).is_match(&na),
                    "{}: {:?}/{}/{} took {:?}", tpl, b.0, b.1, b.2, na
                );
            }
        }
    }

    #[test]
    fn all_databases_label_matches_only_all() {
        let t = NameTemplate::parse("{db}-{uuid}").unwrap();
        let m = t.matcher(None, "pg", ".sql");
        assert!(m.is_match("all-0123abcd.sql"));
        assert!(!m.is_match("app-0123abcd.sql"));
        assert!(!m.is_match("%61ll-0123abcd.sql"), "a database named all");
    }
}
