//! Backup names: render `BACKUP_NAME_TEMPLATE` for a run, and recognise names it produced.
//!
//! Retention only ever deletes objects whose names match this config's template (with this
//! config's `{db}`, `{engine}` and extension), so a pattern that matched too much would delete
//! someone else's files. Matching is therefore anchored and token-exact.

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
    pub db: &'a str,
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
                Part::Db => out.push_str(&v.db.replace('/', "_")),
                Part::Engine => out.push_str(v.engine),
                Part::Date => out.push_str(&v.now.format("%Y-%m-%d").to_string()),
                Part::Time => out.push_str(&v.now.format("%H%M%S").to_string()),
                Part::Ts => out.push_str(&v.now.timestamp().to_string()),
                Part::Uuid => out.push_str(v.uuid),
            }
        }
        out
    }

    /// An anchored pattern matching exactly the names `render` can produce for this `db`,
    /// `engine` and extension.
    pub fn matcher(&self, db: &str, engine: &str, extension: &str) -> Regex {
        let mut re = String::from("^");
        for part in &self.parts {
            match part {
                Part::Lit(s) => re.push_str(&regex::escape(s)),
                Part::Db => re.push_str(&regex::escape(&db.replace('/', "_"))),
                Part::Engine => re.push_str(&regex::escape(engine)),
                Part::Date => re.push_str(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"),
                Part::Time => re.push_str(r"[0-9]{6}"),
                Part::Ts => re.push_str(r"[0-9]{1,12}"),
                Part::Uuid => re.push_str(r"[0-9a-f]{8}"),
            }
        }
        re.push_str(&regex::escape(extension));
        re.push('$');
        Regex::new(&re).expect("escaped template pattern is a valid regex")
    }
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
            db: "myapp",
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
        let m = t.matcher("myapp", "pg", ".sql");
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
        let m = t.matcher("d", "pg", ".sql");
        assert!(m.is_match("db.(x)+1770496200.sql"));
        assert!(!m.is_match("dbX(x)+1770496200.sql"));
    }

    #[test]
    fn all_databases_label_matches_only_all() {
        let t = NameTemplate::parse("{db}-{uuid}").unwrap();
        let m = t.matcher("all", "pg", ".sql");
        assert!(m.is_match("all-0123abcd.sql"));
        assert!(!m.is_match("app-0123abcd.sql"));
    }
}
