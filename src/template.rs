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

/// What `{db}` stands for in a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db<'a> {
    /// A dump of all databases (pg_dumpall, mysqldump --all-databases): [`ALL_DATABASES`].
    All,
    /// PostgreSQL's roles and tablespaces (`pg_dumpall --globals-only`) in a run with
    /// BACKUP_SPLIT_DATABASES: [`GLOBALS`].
    Globals,
    /// One database, by its name on the server (escaped in names by [`escape_db`]).
    Named(&'a str),
}

impl<'a> From<Option<&'a str>> for Db<'a> {
    fn from(db: Option<&'a str>) -> Db<'a> {
        db.map_or(Db::All, Db::Named)
    }
}

impl<'a> From<&'a str> for Db<'a> {
    fn from(db: &'a str) -> Db<'a> {
        Db::Named(db)
    }
}

/// The values a name is rendered from.
pub struct NameVars<'a> {
    /// The database, or the special objects.
    pub db: Db<'a>,
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
    /// Which database a name of this template, engine and extension is a backup of, and the
    /// rest of the name (the run's part: its times and id, the same for every database of
    /// one BACKUP_SPLIT_DATABASES run). `None`: not a name of this template. Unique: every
    /// other token has a fixed width, and a `{db}` written twice must be the same twice.
    pub fn split_db(&self, name: &str, engine: &str, extension: &str) -> Option<(DbSlot, String)> {
        let mut re = String::from("^");
        let mut slots = 0;
        for part in &self.parts {
            match part {
                Part::Db => {
                    re.push_str(&format!("({DB_SLOT})"));
                    slots += 1;
                }
                other => re.push_str(&token_pattern(other, engine)),
            }
        }
        re.push_str(&regex::escape(extension));
        re.push('$');
        let caps = Regex::new(&re).ok()?.captures(name)?;
        let first = caps.get(1)?;
        if (2..=slots).any(|i| caps.get(i).map(|m| m.as_str()) != Some(first.as_str())) {
            return None;
        }
        let mut rest = String::new();
        let mut at = 0;
        for i in 1..=slots {
            let m = caps.get(i)?;
            rest.push_str(&name[at..m.start()]);
            rest.push('\0');
            at = m.end();
        }
        rest.push_str(&name[at..]);
        Some((DbSlot::parse(first.as_str())?, rest))
    }

    pub fn matcher<'d>(&self, db: impl Into<Db<'d>>, engine: &str, extension: &str) -> Regex {
        let db = db.into();
        let mut re = String::from("^");
        for part in &self.parts {
            match part {
                Part::Db => re.push_str(&regex::escape(&db_in_names(db))),
                other => re.push_str(&token_pattern(other, engine)),
            }
        }
        re.push_str(&regex::escape(extension));
        re.push('$');
        Regex::new(&re).expect("escaped template pattern is a valid regex")
    }
}

/// What a dump of all databases writes for `{db}`.
/// The pattern of every token but `{db}`.
fn token_pattern(part: &Part, engine: &str) -> String {
    match part {
        Part::Lit(s) => regex::escape(s),
        Part::Db => unreachable!("{{db}} has its own pattern"),
        Part::Engine => regex::escape(engine),
        Part::Date => r"[0-9]{4}-[0-9]{2}-[0-9]{2}".into(),
        Part::Time => r"[0-9]{6}".into(),
        Part::Ts => r"[0-9]{10}".into(),
        Part::Uuid => r"[0-9a-f]{8}".into(),
    }
}

/// What [`escape_db`] writes: no `/`, no control character, `%` only before two hex digits.
const DB_SLOT: &str = r"(?:[^%/\x00-\x1f\x7f-\x{9f}]|%[0-9A-F]{2})+";

/// `{db}` read back from a name: the owned [`Db`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DbSlot {
    All,
    Globals,
    Named(String),
}

impl DbSlot {
    /// The inverse of [`db_in_names`]; `None` for text it never writes.
    pub fn parse(slot: &str) -> Option<DbSlot> {
        match slot {
            ALL_DATABASES => return Some(DbSlot::All),
            GLOBALS => return Some(DbSlot::Globals),
            _ => {}
        }
        let bytes: Vec<u8> = percent_encoding::percent_decode_str(slot).collect();
        let name = String::from_utf8(bytes).ok()?;
        (escape_db(&name) == slot).then_some(DbSlot::Named(name))
    }

    pub fn as_db(&self) -> Db<'_> {
        match self {
            DbSlot::All => Db::All,
            DbSlot::Globals => Db::Globals,
            DbSlot::Named(n) => Db::Named(n),
        }
    }
}

impl fmt::Display for DbSlot {
    /// The database's name; `all` and `globals` for the two special objects.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbSlot::All => f.write_str(ALL_DATABASES),
            DbSlot::Globals => f.write_str(GLOBALS),
            DbSlot::Named(n) => f.write_str(n),
        }
    }
}

pub const ALL_DATABASES: &str = "all";

/// `{db}` of the globals object (roles, tablespaces) of a PostgreSQL run with
/// BACKUP_SPLIT_DATABASES. A database of this name is escaped like one named [`ALL_DATABASES`].
pub const GLOBALS: &str = "globals";

/// `{db}` as it appears in names: [`ALL_DATABASES`] for a dump of all databases (`None`),
/// else the database's name escaped by [`escape_db`].
pub fn db_in_names<'a>(db: impl Into<Db<'a>>) -> Cow<'a, str> {
    match db.into() {
        Db::All => Cow::Borrowed(ALL_DATABASES),
        Db::Globals => Cow::Borrowed(GLOBALS),
        Db::Named(name) => escape_db(name),
    }
}

/// A database's name as it appears in names: `%`, `/` and control characters as `%XX`
/// (uppercase hex of each UTF-8 byte), everything else as is; and a database named exactly
/// `all` as `%61ll`, so that it never shares names with a dump of all databases. Injective
/// (`%` itself is escaped), so two databases never share a name: `a/b` → `a%2Fb`, `a_b` →
/// `a_b`, `50%` → `50%25`.
pub fn escape_db(db: &str) -> Cow<'_, str> {
    if db == ALL_DATABASES || db == GLOBALS {
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
            db: Db::Named("myapp"),
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
                        db: one.into(),
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
                        db: r.0.as_deref().into(),
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

    /// `split_db` reads back what `render` wrote, for every kind of `{db}`, and the rest is
    /// the same for every database of one run.
    #[test]
    fn split_db_reads_back_the_database() {
        for tpl in [
            "{db}-{date}-{time}",
            "{engine}_{db}{ts}",
            "{ts}{db}",
            "{db}.{uuid}.{db}",
            "x{db}",
        ] {
            let t = NameTemplate::parse(tpl).unwrap();
            let mut rests = Vec::new();
            for db in [
                Db::Named("shop"),
                Db::Named("a/b"),
                Db::Named("50%"),
                Db::Named("all"),
                Db::Named("globals"),
                Db::Named("tab\there"),
                Db::Named("2026-01-01-000000"),
                Db::All,
                Db::Globals,
            ] {
                let name = format!(
                    "{}.sql",
                    t.render(&NameVars {
                        db,
                        ..vars(Tz::UTC)
                    })
                );
                let (slot, rest) = t
                    .split_db(&name, "pg", ".sql")
                    .unwrap_or_else(|| panic!("{tpl}: {name}"));
                assert_eq!(slot.as_db(), db, "{tpl}: {name}");
                assert!(t.matcher(slot.as_db(), "pg", ".sql").is_match(&name));
                rests.push(rest);
            }
            rests.dedup();
            assert_eq!(rests.len(), 1, "{tpl}: {rests:?}");
            for foreign in [
                "shop-2026-02-07-203000.dump",
                "notes.txt",
                "%zz-2026-02-07-203000.sql",
                "%2fb-2026-02-07-203000.sql",
            ] {
                assert_eq!(t.split_db(foreign, "pg", ".sql"), None, "{tpl}: {foreign}");
            }
        }
        let t = NameTemplate::parse("{db}.{uuid}.{db}").unwrap();
        assert_eq!(
            t.split_db("a.0123abcd.b.sql", "pg", ".sql"),
            None,
            "two different {{db}}"
        );
        assert_eq!(DbSlot::parse("%61ll"), Some(DbSlot::Named("all".into())));
        assert_eq!(
            DbSlot::parse("%67lobals"),
            Some(DbSlot::Named("globals".into()))
        );
        assert_eq!(
            DbSlot::parse("%61"),
            None,
            "not what escape_db writes for 'a'"
        );
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
