//! What the clap definitions tell about user input: every variable the command line reads,
//! likely typos of them, and the `=` form boolean flags need.

use super::Cli;

/// Every environment variable the command line reads, in definition order, each once: the
/// list that `docs/` and the examples are checked against.
pub fn env_vars() -> Vec<String> {
    fn walk(cmd: &clap::Command, out: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            if let Some(var) = arg.get_env().and_then(|v| v.to_str()) {
                if !out.iter().any(|known| known == var) {
                    out.push(var.to_string());
                }
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, out);
        }
    }
    let mut out = Vec::new();
    walk(&<Cli as clap::CommandFactory>::command(), &mut out);
    out
}

/// The prefixes of dbstash's variables: an unknown variable with one of them is most likely
/// a typo (`DB_PASS` for `DB_PASSWORD`) and gets a warning at start.
pub const VAR_PREFIXES: &[&str] = &[
    "DB_",
    "BACKUP_",
    "RETENTION_",
    "NOTIFY_",
    "HOOK_",
    "SMTP_",
    "HEALTH_",
    "LOG_",
    "DUMP_",
];

/// Variables in `names` that look like dbstash's but are not, each with the closest known
/// one. Pure: the caller passes the environment's names.
pub fn unknown_vars<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<(String, String)> {
    let known = env_vars();
    let mut out: Vec<(String, String)> = names
        .into_iter()
        .filter(|n| VAR_PREFIXES.iter().any(|p| n.starts_with(p)))
        .filter(|n| !known.iter().any(|k| k == n))
        .map(|n| {
            let closest = known
                .iter()
                // A cut-short or extended name (DB_PASS, RETENTION_MAX_FILES_X) first, then
                // the fewest edits.
                .min_by_key(|k| {
                    let related = k.starts_with(n) || n.starts_with(k.as_str());
                    (!related, edit_distance(n, k), k.len().abs_diff(n.len()))
                })
                .cloned()
                .unwrap_or_default();
            (n.to_string(), closest)
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of
/// neighbours each cost 1.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// A boolean flag written with its value as a separate word (`--backup-compress false`)
/// makes clap reject `false` as an unexpected argument; name the form that works.
pub fn bool_flag_hint(args: &[String]) -> Option<String> {
    let cmd = <Cli as clap::CommandFactory>::command();
    let mut bool_flags = Vec::new();
    fn collect(cmd: &clap::Command, out: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            if arg.is_require_equals_set() {
                if let Some(long) = arg.get_long() {
                    out.push(format!("--{long}"));
                }
            }
        }
        for sub in cmd.get_subcommands() {
            collect(sub, out);
        }
    }
    collect(&cmd, &mut bool_flags);
    args.windows(2).find_map(|w| {
        let value = w[1].to_ascii_lowercase();
        let is_bool = matches!(
            value.as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "1" | "0"
        );
        (is_bool && bool_flags.contains(&w[0])).then(|| {
            format!(
                "tip: boolean flags take their value after '=': write {}={} (or {} alone for true)",
                w[0], w[1], w[0]
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_of_known_variables_are_named_with_the_closest() {
        let env = [
            "DB_PASS",
            "BACKUP_SHEDULE",
            "DB_PASSWORD",
            "PATH",
            "HOME",
            "RETENTION_MAX_FILE",
            "LOG_LEVLE",
            "DBSTASH_X",
            "DB_PASS",
        ];
        assert_eq!(
            unknown_vars(env),
            vec![
                ("BACKUP_SHEDULE".to_string(), "BACKUP_SCHEDULE".to_string()),
                ("DB_PASS".to_string(), "DB_PASSWORD".to_string()),
                ("LOG_LEVLE".to_string(), "LOG_LEVEL".to_string()),
                (
                    "RETENTION_MAX_FILE".to_string(),
                    "RETENTION_MAX_FILES".to_string()
                ),
            ]
        );
        assert!(unknown_vars(env_vars().iter().map(String::as_str)).is_empty());
    }

    #[test]
    fn a_separate_boolean_value_gets_the_equals_form() {
        let args = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let hint = bool_flag_hint(&args("dbstash pg --backup-compress false")).unwrap();
        assert!(hint.contains("--backup-compress=false"), "{hint}");
        assert!(bool_flag_hint(&args("dbstash pg --dry-run TRUE"))
            .unwrap()
            .contains("--dry-run=TRUE"));
        assert_eq!(bool_flag_hint(&args("dbstash pg --db-name false")), None);
        assert_eq!(
            bool_flag_hint(&args("dbstash pg --backup-compress mydb")),
            None
        );
    }
}
