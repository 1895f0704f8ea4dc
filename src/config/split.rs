//! BACKUP_SPLIT_DATABASES and its settings: one backup object per database instead of one
//! dump of all databases. Which databases exist is asked of the server at run time
//! (`crate::split`); here only the settings are read and checked against each other.

use crate::engine_kind::EngineKind;
use crate::input::{nonempty, parse_bool_opt, ConfigError};
use crate::template::NameTemplate;

/// The most databases backed up at once.
pub const MAX_PARALLELISM: u32 = 32;

/// One backup per database (BACKUP_ALL_DATABASES with BACKUP_SPLIT_DATABASES).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// BACKUP_INCLUDE_DATABASES: databases backed up besides the non-system ones (system
    /// databases are skipped unless named here). Each must exist when the run starts.
    pub include: Vec<String>,
    /// BACKUP_EXCLUDE_DATABASES: databases never backed up.
    pub exclude: Vec<String>,
    /// BACKUP_PARALLELISM: how many databases are dumped at once.
    pub parallelism: u32,
}

/// The raw values, as the command line and environment give them.
pub struct SplitVars<'a> {
    pub split: &'a Option<String>,
    pub include: &'a Option<String>,
    pub exclude: &'a Option<String>,
    pub parallelism: &'a Option<String>,
}

impl Split {
    /// `Some` exactly when BACKUP_SPLIT_DATABASES is true. Settings that only mean something
    /// with it are errors without it (they would be ignored silently).
    pub fn parse(
        v: SplitVars,
        kind: EngineKind,
        all_databases: bool,
        template: &NameTemplate,
    ) -> Result<Option<Split>, ConfigError> {
        let on = parse_bool_opt("BACKUP_SPLIT_DATABASES", v.split)?.unwrap_or(false);
        let include = names("BACKUP_INCLUDE_DATABASES", v.include)?;
        let exclude = names("BACKUP_EXCLUDE_DATABASES", v.exclude)?;
        if !on {
            for (var, set) in [
                ("BACKUP_INCLUDE_DATABASES", !include.is_empty()),
                ("BACKUP_EXCLUDE_DATABASES", !exclude.is_empty()),
                ("BACKUP_PARALLELISM", nonempty(v.parallelism).is_some()),
            ] {
                if set {
                    return Err(ConfigError::var(
                        var,
                        "only applies with BACKUP_SPLIT_DATABASES=true (one backup per database): set that too, or unset this",
                    ));
                }
            }
            return Ok(None);
        }
        if kind == EngineKind::Redis {
            return Err(ConfigError::var(
                "BACKUP_SPLIT_DATABASES",
                "does not apply to redis: an RDB snapshot holds every Redis database, and redis-cli cannot dump one of them (unset it)",
            ));
        }
        if !all_databases {
            return Err(ConfigError::var(
                "BACKUP_SPLIT_DATABASES",
                "needs BACKUP_ALL_DATABASES=true (and no DB_NAME): it backs up every database of the server, one backup object each",
            ));
        }
        if !template.has_db() {
            return Err(ConfigError::var(
                "BACKUP_NAME_TEMPLATE",
                format!("'{template}' has no {{db}}: with BACKUP_SPLIT_DATABASES every database of a run would get the same name (add {{db}})"),
            ));
        }
        if let Some(both) = include.iter().find(|d| exclude.contains(d)) {
            return Err(ConfigError::combo(
                "BACKUP_INCLUDE_DATABASES and BACKUP_EXCLUDE_DATABASES",
                format!("both name '{both}': say once whether it is backed up"),
            ));
        }
        let parallelism = match nonempty(v.parallelism).map(str::trim) {
            None => 1,
            Some(s) => match s.parse::<u32>() {
                Ok(n) if (1..=MAX_PARALLELISM).contains(&n) => n,
                _ => {
                    return Err(ConfigError::var(
                        "BACKUP_PARALLELISM",
                        format!("'{s}' is not a whole number from 1 to {MAX_PARALLELISM} (how many databases are dumped at once)"),
                    ))
                }
            },
        };
        Ok(Some(Split {
            include,
            exclude,
            parallelism,
        }))
    }
}

/// A comma-separated list of database names, each trimmed; empty items are dropped.
fn names(var: &str, v: &Option<String>) -> Result<Vec<String>, ConfigError> {
    let Some(s) = nonempty(v) else {
        return Ok(Vec::new());
    };
    let mut out: Vec<String> = Vec::new();
    for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if name.chars().any(char::is_control) {
            return Err(ConfigError::var(
                var,
                "holds a control character: expected database names separated by commas",
            ));
        }
        if !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(
        split: Option<&str>,
        include: Option<&str>,
        exclude: Option<&str>,
        parallelism: Option<&str>,
    ) -> Result<Option<Split>, ConfigError> {
        let s = |v: Option<&str>| v.map(String::from);
        let (split, include, exclude, parallelism) =
            (s(split), s(include), s(exclude), s(parallelism));
        Split::parse(
            SplitVars {
                split: &split,
                include: &include,
                exclude: &exclude,
                parallelism: &parallelism,
            },
            EngineKind::Pg,
            true,
            &NameTemplate::parse("{db}-{date}-{time}").unwrap(),
        )
    }

    #[test]
    fn reads_the_lists_and_the_parallelism() {
        let s = parse(Some("true"), Some(" postgres, ,a ,a"), Some("b"), Some("4"))
            .unwrap()
            .unwrap();
        assert_eq!(s.include, ["postgres", "a"]);
        assert_eq!(s.exclude, ["b"]);
        assert_eq!(s.parallelism, 4);
        assert_eq!(
            parse(Some("true"), None, None, None)
                .unwrap()
                .unwrap()
                .parallelism,
            1
        );
        assert_eq!(parse(Some("false"), None, None, None).unwrap(), None);
        assert_eq!(parse(None, None, None, None).unwrap(), None);
    }

    #[test]
    fn refuses_what_would_be_ignored_or_ambiguous() {
        for (args, needle) in [
            ((None, Some("a"), None, None), "BACKUP_INCLUDE_DATABASES"),
            (
                (Some("false"), None, Some("a"), None),
                "BACKUP_EXCLUDE_DATABASES",
            ),
            ((None, None, None, Some("2")), "BACKUP_PARALLELISM"),
            ((Some("true"), None, None, Some("0")), "from 1 to 32"),
            ((Some("true"), None, None, Some("33")), "from 1 to 32"),
            ((Some("true"), None, None, Some("-1")), "from 1 to 32"),
            ((Some("true"), None, None, Some("two")), "'two'"),
            (
                (Some("true"), Some("a,b"), Some("c,b"), None),
                "both name 'b'",
            ),
            (
                (Some("true"), Some("a\nb"), None, None),
                "control character",
            ),
            ((Some("maybe"), None, None, None), "BACKUP_SPLIT_DATABASES"),
        ] {
            let e = parse(args.0, args.1, args.2, args.3)
                .unwrap_err()
                .to_string();
            assert!(e.contains(needle), "{args:?}: {e}");
        }
    }

    #[test]
    fn needs_all_databases_a_db_token_and_not_redis() {
        let on = Some("true".to_string());
        let none = None;
        let vars = || SplitVars {
            split: &on,
            include: &none,
            exclude: &none,
            parallelism: &none,
        };
        let t = NameTemplate::parse("{db}-{ts}").unwrap();
        let e = Split::parse(vars(), EngineKind::Pg, false, &t).unwrap_err();
        assert!(
            e.to_string().contains("needs BACKUP_ALL_DATABASES=true"),
            "{e}"
        );
        let e = Split::parse(vars(), EngineKind::Redis, true, &t).unwrap_err();
        assert!(e.to_string().contains("redis"), "{e}");
        let no_db = NameTemplate::parse("backup-{ts}").unwrap();
        let e = Split::parse(vars(), EngineKind::Mysql, true, &no_db).unwrap_err();
        assert!(
            e.to_string().contains("BACKUP_NAME_TEMPLATE") && e.to_string().contains("{db}"),
            "{e}"
        );
        for kind in [
            EngineKind::Pg,
            EngineKind::Mysql,
            EngineKind::Mariadb,
            EngineKind::Mongo,
        ] {
            assert!(Split::parse(vars(), kind, true, &t).unwrap().is_some());
        }
    }
}
