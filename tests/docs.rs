//! `docs/` and the command line in step, without running the binary: the CLI's own
//! definition (`dbstash::cli`) is the reference.
//!
//! - docs/configuration.md documents every variable the CLI reads, in a table row, and its
//!   tables hold no variable the CLI does not read;
//! - the flag beside each variable follows the 1:1 rule (`DB_HOST` ↔ `--db-host`), and every
//!   flag on a `dbstash` command line in README.md or docs/ exists;
//! - every relative link in README.md and docs/*.md reaches a file (and heading), and the
//!   README links every docs/ page.
//!
//! Each check is a plain function over text; the `*_catches_*` tests feed it inline strings
//! with the mistake it exists to catch, so a check that can never fail does not pass silently.
//!
//! A documented variable is the first cell of a row in a table whose first header cell is
//! `Variable`; the second cell (header `Flag`) holds its flag. Variables that dbstash does not
//! read (`PGPASSWORD`, rclone's own `RCLONE_CONFIG_<REMOTE>_<OPTION>`, ...) may appear in
//! configuration.md's prose only, and only when listed in [`NOT_CLI_INPUTS`] with a reason.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use clap::CommandFactory as _;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const CONFIGURATION: &str = "docs/configuration.md";

/// Upper-case names that configuration.md may mention although no flag or variable of dbstash
/// reads them, each with the reason it is there. Never allowed in a table.
const NOT_CLI_INPUTS: &[(&str, &str)] = &[
    (
        "RCLONE_CONFIG_<REMOTE>_<OPTION>",
        "rclone's own configuration variables, read by rclone from the environment dbstash passes on",
    ),
    (
        "DBSTASH_STATUS",
        "set by dbstash for HOOK_POST_BACKUP (see docs/hooks.md), not read by it",
    ),
    (
        "DBSTASH_FILE",
        "set by dbstash for the hooks (see docs/hooks.md), not read by it",
    ),
    (
        "RCLONE_S3_SECRET_ACCESS_KEY",
        "an rclone backend option set by environment, read by rclone, not by dbstash",
    ),
];

// ------------------------------------------------------------------------- the real files

fn read(rel: &str) -> String {
    let path = Path::new(ROOT).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// README.md and every docs/*.md, as paths relative to the repository root.
fn pages() -> Vec<String> {
    let mut out = vec!["README.md".to_string()];
    out.extend(docs_pages());
    out
}

fn docs_pages() -> Vec<String> {
    let dir = Path::new(ROOT).join("docs");
    let mut out: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    out.sort();
    out
}

/// A file in the repository as the link check sees it: `Some(text)` for a Markdown file,
/// `Some("")` for any other file or a directory, `None` when missing.
fn repo_file(rel: &Path) -> Option<String> {
    let path = Path::new(ROOT).join(rel);
    if path.extension().is_some_and(|e| e == "md") && path.is_file() {
        std::fs::read_to_string(path).ok()
    } else {
        path.exists().then(String::new)
    }
}

/// Every variable the CLI reads, and the long flag of each.
fn cli_flags_by_var() -> BTreeMap<String, BTreeSet<String>> {
    fn walk(cmd: &clap::Command, out: &mut BTreeMap<String, BTreeSet<String>>) {
        for arg in cmd.get_arguments() {
            if let (Some(var), Some(long)) =
                (arg.get_env().and_then(|v| v.to_str()), arg.get_long())
            {
                out.entry(var.to_string())
                    .or_default()
                    .insert(format!("--{long}"));
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, out);
        }
    }
    let mut out = BTreeMap::new();
    walk(&dbstash::cli::Cli::command(), &mut out);
    out
}

/// Every long flag of every (sub)command, including clap's `--help` and `--version`.
fn cli_flags() -> BTreeSet<String> {
    fn walk(cmd: &clap::Command, out: &mut BTreeSet<String>) {
        for arg in cmd.get_arguments() {
            if let Some(long) = arg.get_long() {
                out.insert(format!("--{long}"));
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, out);
        }
    }
    // Built, so clap's own `--help` and `--version` are among the arguments.
    let mut cli = dbstash::cli::Cli::command();
    cli.build();
    let mut out = BTreeSet::new();
    walk(&cli, &mut out);
    out
}

fn fail_if_any(what: &str, problems: Vec<String>) {
    assert!(problems.is_empty(), "{what}:\n  {}", problems.join("\n  "));
}

// ------------------------------------------------------------------------- Markdown parsing

/// The lines outside fenced code blocks, numbered from 1.
fn prose_lines(md: &str) -> Vec<(usize, &str)> {
    let mut fence: Option<&str> = None;
    let mut out = Vec::new();
    for (i, line) in md.lines().enumerate() {
        let t = line.trim_start();
        let marker = ["```", "~~~"].into_iter().find(|m| t.starts_with(m));
        match (fence, marker) {
            (None, Some(m)) => fence = Some(m),
            (Some(open), Some(m)) if open == m && t.trim_end() == m => fence = None,
            (None, None) => out.push((i + 1, line)),
            _ => {}
        }
    }
    out
}

/// The lines inside fenced code blocks, numbered from 1, with backslash continuations joined.
fn code_lines(md: &str) -> Vec<(usize, String)> {
    let prose: BTreeSet<usize> = prose_lines(md).into_iter().map(|(n, _)| n).collect();
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut continued = false;
    for (i, line) in md.lines().enumerate() {
        let n = i + 1;
        let t = line.trim_start();
        if prose.contains(&n) || t.starts_with("```") || t.starts_with("~~~") {
            continued = false;
            continue;
        }
        let body = line.trim_end().strip_suffix('\\');
        let text = body.unwrap_or(line).to_string();
        match out.last_mut() {
            Some(last) if continued => last.1.push_str(&format!(" {text}")),
            _ => out.push((n, text)),
        }
        continued = body.is_some();
    }
    out
}

/// The cells of a table row: split on unescaped `|`, trimmed, outer pipes dropped.
fn cells(row: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = row.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                out.last_mut().unwrap().push('|');
                chars.next();
            }
            '|' => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    let out: Vec<String> = out.into_iter().map(|c| c.trim().to_string()).collect();
    let start = usize::from(out.first().is_some_and(String::is_empty));
    let end =
        out.len() - usize::from(out.len() > start && out.last().is_some_and(String::is_empty));
    out[start..end].to_vec()
}

struct Table {
    header: Vec<String>,
    /// Line number and cells of each body row.
    rows: Vec<(usize, Vec<String>)>,
}

/// Every table outside code blocks: a `|` row followed by a `|---|` separator row, then rows.
fn tables(md: &str) -> Vec<Table> {
    let lines = prose_lines(md);
    let is_row = |l: &str| l.trim_start().starts_with('|');
    let is_separator = |l: &str| {
        is_row(l)
            && cells(l)
                .iter()
                .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':' | ' ')))
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < lines.len() {
        let (n, line) = lines[i];
        let (m, next) = lines[i + 1];
        if is_row(line) && m == n + 1 && is_separator(next) {
            let mut table = Table {
                header: cells(line),
                rows: Vec::new(),
            };
            i += 2;
            while i < lines.len() && is_row(lines[i].1) && lines[i].0 == lines[i - 1].0 + 1 {
                table.rows.push((lines[i].0, cells(lines[i].1)));
                i += 1;
            }
            out.push(table);
        } else {
            i += 1;
        }
    }
    out
}

/// `` `X` `` → `X`, when the cell is exactly one code span.
fn code_cell(cell: &str) -> Option<&str> {
    let inner = cell.strip_prefix('`')?.strip_suffix('`')?;
    (!inner.is_empty() && !inner.contains('`')).then_some(inner)
}

fn is_var_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

#[derive(Debug, PartialEq)]
struct DocVar {
    line: usize,
    var: String,
    /// The `Flag` cell, if the table has one.
    flag: Option<String>,
}

/// The variables documented in `md`'s `Variable` tables, or what is malformed about a row.
fn documented_variables(md: &str) -> (Vec<DocVar>, Vec<String>) {
    let (mut vars, mut problems) = (Vec::new(), Vec::new());
    for table in tables(md) {
        if table.header.first().map(String::as_str) != Some("Variable") {
            continue;
        }
        let flag_col = table.header.iter().position(|h| h == "Flag");
        for (line, row) in table.rows {
            let Some(var) = row
                .first()
                .and_then(|c| code_cell(c))
                .filter(|v| is_var_name(v))
            else {
                problems.push(format!(
                    "line {line}: first cell {:?} is not one backticked VARIABLE_NAME",
                    row.first().map(String::as_str).unwrap_or("")
                ));
                continue;
            };
            let flag = match flag_col.map(|c| row.get(c).map(String::as_str).unwrap_or("")) {
                None => None,
                Some(cell) => match code_cell(cell).filter(|f| f.starts_with("--")) {
                    Some(f) => Some(f.to_string()),
                    None => {
                        problems.push(format!(
                            "line {line}: {var}: Flag cell {cell:?} is not one backticked --flag"
                        ));
                        None
                    }
                },
            };
            vars.push(DocVar {
                line,
                var: var.to_string(),
                flag,
            });
        }
    }
    (vars, problems)
}

/// The contents of inline code spans outside code blocks, with their line numbers.
fn code_spans(md: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in prose_lines(md) {
        let mut parts = line.split('`');
        parts.next();
        while let (Some(code), Some(_)) = (parts.next(), parts.next()) {
            out.push((n, code.to_string()));
        }
    }
    out
}

/// Upper-case, variable-like names in code spans (`VAR` or `VAR=value`), with line numbers:
/// names with an underscore (`DB_HOST`, `RCLONE_CONFIG_<REMOTE>_<OPTION>`); single words such
/// as `ENGINE` are too often something else.
fn mentioned_variables(md: &str) -> Vec<(usize, String)> {
    code_spans(md)
        .into_iter()
        .filter_map(|(n, code)| {
            let name = code.split('=').next().unwrap_or("").to_string();
            let shape = name.contains('_')
                && name.starts_with(|c: char| c.is_ascii_uppercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "_<>".contains(c));
            shape.then_some((n, name))
        })
        .collect()
}

/// What is wrong with `page` (configuration.md) measured against the CLI's variables.
fn variable_problems(page: &str, cli_vars: &[String]) -> Vec<String> {
    let known: BTreeSet<&str> = cli_vars.iter().map(String::as_str).collect();
    let (documented, mut problems) = documented_variables(page);
    let mut seen = BTreeMap::new();
    for d in &documented {
        if let Some(first) = seen.insert(d.var.as_str(), d.line) {
            problems.push(format!(
                "line {}: {} is documented twice (first on line {first})",
                d.line, d.var
            ));
        }
        if !known.contains(d.var.as_str()) {
            problems.push(format!(
                "line {}: {} is in a table but the CLI does not read it (a typo, or a child's variable: mention those in prose and list them in NOT_CLI_INPUTS)",
                d.line, d.var
            ));
        }
    }
    for var in cli_vars {
        if !seen.contains_key(var.as_str()) {
            problems.push(format!(
                "{var} is read by the CLI but has no table row (Variable | Flag | Default | Description)"
            ));
        }
    }
    let excluded: BTreeMap<&str, &str> = NOT_CLI_INPUTS.iter().copied().collect();
    for (line, name) in mentioned_variables(page) {
        if !known.contains(name.as_str()) && !excluded.contains_key(name.as_str()) {
            problems.push(format!(
                "line {line}: `{name}` is neither a CLI variable nor in NOT_CLI_INPUTS (with a reason)"
            ));
        }
    }
    problems
}

/// Flags beside variables that break the 1:1 rule or that the CLI does not have for them.
fn flag_column_problems(page: &str, cli: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let (documented, _) = documented_variables(page);
    let mut problems = Vec::new();
    for d in documented {
        let rule = dbstash::config::flag_of(&d.var);
        match &d.flag {
            None => problems.push(format!("line {}: {} has no Flag cell", d.line, d.var)),
            Some(f) if *f != rule => problems.push(format!(
                "line {}: {} is documented with {f}; by the 1:1 rule it is {rule}",
                d.line, d.var
            )),
            Some(f) => {
                if let Some(longs) = cli.get(&d.var) {
                    if !longs.contains(f) {
                        problems.push(format!(
                            "line {}: the CLI reads {} through {longs:?}, not {f}",
                            d.line, d.var
                        ));
                    }
                }
            }
        }
    }
    problems
}

/// `--flags` on `dbstash` command lines (in code blocks, and in code spans that start with
/// `dbstash `), with line numbers. Words after a pipe, `;`, `&&`, a redirection or a comment
/// belong to another command.
fn dbstash_flags(md: &str) -> Vec<(usize, String)> {
    let mut commands: Vec<(usize, String)> = code_lines(md);
    commands.extend(
        code_spans(md)
            .into_iter()
            .filter(|(_, code)| code.starts_with("dbstash ")),
    );
    let mut out = Vec::new();
    for (line, command) in commands {
        let words = shell_words::split(&command)
            .unwrap_or_else(|_| command.split_whitespace().map(str::to_string).collect());
        let mut in_dbstash = false;
        for word in words {
            if ["|", "||", ";", "&&", "&"].contains(&word.as_str())
                || word.starts_with('>')
                || word.starts_with('#')
            {
                in_dbstash = false;
            } else if word == "dbstash" || word.ends_with("/dbstash") {
                in_dbstash = true;
            } else if in_dbstash && word.starts_with("--") && word.len() > 2 {
                let flag = word.split('=').next().unwrap_or("");
                out.push((line, flag.to_string()));
            }
        }
    }
    out.sort_by_key(|(line, _)| *line);
    out
}

fn unknown_flag_problems(page_name: &str, md: &str, known: &BTreeSet<String>) -> Vec<String> {
    dbstash_flags(md)
        .into_iter()
        .filter(|(_, flag)| !known.contains(flag))
        .map(|(line, flag)| format!("{page_name}:{line}: dbstash has no flag {flag}"))
        .collect()
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of every heading in `md`, with GitHub's `-1`, `-2` suffixes for repeats.
fn anchors(md: &str) -> BTreeSet<String> {
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for (_, line) in prose_lines(md) {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if !(1..=6).contains(&hashes) || !line[hashes..].starts_with(' ') {
            continue;
        }
        let base = slug(&line[hashes..]);
        let n = count.entry(base.clone()).or_insert(0);
        out.insert(if *n == 0 {
            base.clone()
        } else {
            format!("{base}-{n}")
        });
        *n += 1;
    }
    out
}

/// Link targets in `md` (inline links, images, reference definitions), outside code.
fn links(md: &str) -> Vec<(usize, String)> {
    static INLINE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)"#).unwrap()
    });
    static REFERENCE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(\s|$)").unwrap()
    });
    let mut out = Vec::new();
    for (n, line) in prose_lines(md) {
        // Code spans are not links: blank them out, keeping the rest of the line.
        let mut plain = String::new();
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 0 {
                plain.push_str(part);
            } else {
                plain.push_str(&" ".repeat(part.len()));
            }
        }
        for cap in INLINE.captures_iter(&plain) {
            out.push((n, cap[1].to_string()));
        }
        if let Some(cap) = REFERENCE.captures(&plain) {
            out.push((n, cap[1].to_string()));
        }
    }
    out
}

fn is_external(target: &str) -> bool {
    target.contains("://") || target.starts_with("mailto:")
}

/// `dir/../x` → `x`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// The repository path a relative link in `from` points to (`None` for external links and
/// same-page anchors).
fn resolve(from: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split('#').next().unwrap_or("");
    if is_external(target) || path.is_empty() {
        return None;
    }
    Some(normalize(
        &from.parent().unwrap_or(Path::new("")).join(path),
    ))
}

/// Broken relative links in `md` (the page at `from`): missing files, headings that do not
/// exist in the Markdown page linked to, links that leave the repository.
fn link_problems(from: &Path, md: &str, file: &dyn Fn(&Path) -> Option<String>) -> Vec<String> {
    let mut problems = Vec::new();
    for (line, target) in links(md) {
        if is_external(&target) {
            continue;
        }
        let at = format!("{}:{line}: ({target})", from.display());
        let (path, anchor) = match target.split_once('#') {
            Some((p, a)) => (p, Some(a)),
            None => (target.as_str(), None),
        };
        let text = if path.is_empty() {
            Some(md.to_string())
        } else {
            let rel = resolve(from, &target).unwrap();
            if rel.starts_with("..") || rel.is_absolute() {
                problems.push(format!("{at} leaves the repository"));
                continue;
            }
            match file(&rel) {
                Some(text) => Some(text),
                None => {
                    problems.push(format!("{at} {} does not exist", rel.display()));
                    continue;
                }
            }
        };
        if let (Some(anchor), Some(text)) = (anchor, text) {
            let is_md = path.is_empty() || path.ends_with(".md");
            if is_md && !anchors(&text).contains(anchor) {
                problems.push(format!("{at} has no heading for #{anchor}"));
            }
        }
    }
    problems
}

/// docs/ pages that `readme` (README.md) does not link to.
fn unlinked_pages(readme: &str, docs: &[String]) -> Vec<String> {
    let linked: BTreeSet<PathBuf> = links(readme)
        .into_iter()
        .filter_map(|(_, t)| resolve(Path::new("README.md"), &t))
        .collect();
    docs.iter()
        .filter(|page| !linked.contains(Path::new(page.as_str())))
        .map(|page| format!("README.md does not link {page}"))
        .collect()
}

// ------------------------------------------------------------------------- the checks

#[test]
fn configuration_documents_exactly_the_cli_variables() {
    let cli_vars = dbstash::cli::env_vars();
    assert!(cli_vars.len() > 30, "env_vars() looks wrong: {cli_vars:?}");
    let page = read(CONFIGURATION);
    fail_if_any(
        &format!("{CONFIGURATION} and the CLI's variables (dbstash::cli::env_vars()) disagree"),
        variable_problems(&page, &cli_vars),
    );
    for (name, reason) in NOT_CLI_INPUTS {
        assert!(!reason.is_empty());
        assert!(
            !cli_vars.iter().any(|v| v == name),
            "{name} is in NOT_CLI_INPUTS but the CLI reads it"
        );
        assert!(
            page.contains(&format!("`{name}`")),
            "{name} is in NOT_CLI_INPUTS but {CONFIGURATION} no longer mentions it: drop it"
        );
    }
}

#[test]
fn documented_flags_follow_their_variables() {
    let cli = cli_flags_by_var();
    for (var, longs) in &cli {
        assert!(
            longs.contains(&dbstash::config::flag_of(var)),
            "the CLI reads {var} through {longs:?}, against the 1:1 rule ({})",
            dbstash::config::flag_of(var)
        );
    }
    let mut problems = flag_column_problems(&read(CONFIGURATION), &cli);
    let known = cli_flags();
    for page in pages() {
        problems.extend(unknown_flag_problems(&page, &read(&page), &known));
    }
    fail_if_any(
        &format!("flags beside variables in {CONFIGURATION}, and on dbstash command lines"),
        problems,
    );
}

#[test]
fn relative_links_resolve() {
    let mut problems = Vec::new();
    for page in pages() {
        problems.extend(link_problems(Path::new(&page), &read(&page), &repo_file));
    }
    fail_if_any("broken relative links", problems);
}

#[test]
fn readme_links_every_docs_page() {
    let docs = docs_pages();
    assert!(docs.len() >= 5, "docs/ looks empty: {docs:?}");
    fail_if_any(
        "docs/ pages missing from README.md",
        unlinked_pages(&read("README.md"), &docs),
    );
}

// ------------------------------------------------------------------------- the checks can fail

#[test]
fn variable_check_catches_missing_unknown_duplicate_and_stray_names() {
    let cli = ["DB_HOST".to_string(), "DB_PORT".to_string()];
    let page = "\
| Variable | Flag | Default | Description |
|---|---|---|---|
| `DB_HOST` | `--db-host` | — | Host. |
| `DB_HOTS` | `--db-hots` | — | A typo. |
| `DB_HOST` | `--db-host` | — | Again. |
| DB_NAME | `--db-name` | — | Not backticked. |

| Token | Meaning |
|---|---|
| `DB_PORT` | not a Variable table, so not documentation of DB_PORT |

Children get `PGPASSWORD`; rclone reads `RCLONE_CONFIG_<REMOTE>_<OPTION>` and `RCLONE_S3_REGION=x`.

```
| `DB_PORT` | `--db-port` | in a code block: not a table |
```
";
    let problems = variable_problems(page, &cli).join("\n");
    for expected in [
        "line 4: DB_HOTS is in a table but the CLI does not read it",
        "line 5: DB_HOST is documented twice (first on line 3)",
        "line 6: first cell \"DB_NAME\" is not one backticked VARIABLE_NAME",
        "DB_PORT is read by the CLI but has no table row",
        "`RCLONE_S3_REGION` is neither a CLI variable nor in NOT_CLI_INPUTS",
    ] {
        assert!(
            problems.contains(expected),
            "missed {expected:?} in:\n{problems}"
        );
    }
    // Excluded with a reason, and PGPASSWORD (one word) is not taken for a variable name.
    assert!(!problems.contains("RCLONE_CONFIG_<REMOTE>"), "{problems}");
    assert!(!problems.contains("PGPASSWORD"), "{problems}");
    let fixed = "\
| Variable | Flag | Default | Description |
|---|---|---|---|
| `DB_HOST` | `--db-host` | — | Host. |
| `DB_PORT` | `--db-port` | `5432` | Port; `DB_HOST` too. |
";
    assert_eq!(variable_problems(fixed, &cli), Vec::<String>::new());
}

#[test]
fn flag_check_catches_flags_against_the_rule_or_the_cli() {
    let cli = BTreeMap::from([
        (
            "DB_HOST".to_string(),
            BTreeSet::from(["--db-host".to_string()]),
        ),
        (
            "TZ".to_string(),
            BTreeSet::from(["--time-zone".to_string()]),
        ),
    ]);
    let page = "\
| Variable | Flag | Default | Description |
|---|---|---|---|
| `DB_HOST` | `--dbhost` | — | Host. |
| `TZ` | `--tz` | `UTC` | Zone. |
| `DB_USER` | user | — | No flag. |
";
    let problems = flag_column_problems(page, &cli).join("\n");
    for expected in [
        "line 3: DB_HOST is documented with --dbhost; by the 1:1 rule it is --db-host",
        "line 4: the CLI reads TZ through {\"--time-zone\"}, not --tz",
        "line 5: DB_USER has no Flag cell",
    ] {
        assert!(
            problems.contains(expected),
            "missed {expected:?} in:\n{problems}"
        );
    }
    let (_, malformed) = documented_variables(page);
    assert_eq!(
        malformed,
        ["line 5: DB_USER: Flag cell \"user\" is not one backticked --flag"]
    );

    let known = BTreeSet::from(["--db-host".to_string(), "--dry-run".to_string()]);
    let md = "\
Run `dbstash pg --db-hots h` or `pg_dump --format=custom` (not dbstash's).

```bash
DB_HOST=h dbstash pg --dry-run \\
  --rclone-remot s3:x | grep --count x   # --not-a-flag
./target/debug/dbstash --db-host=h --backup-compress=true
```
";
    assert_eq!(
        unknown_flag_problems("x.md", md, &known),
        [
            "x.md:1: dbstash has no flag --db-hots",
            "x.md:4: dbstash has no flag --rclone-remot",
            "x.md:6: dbstash has no flag --backup-compress",
        ]
    );
}

#[test]
fn link_check_catches_missing_files_anchors_and_escapes() {
    let files = BTreeMap::from([
        (
            PathBuf::from("docs/a.md"),
            "# A page\n\n## Health (daemon mode only)\n## Run\n## Run\n",
        ),
        (PathBuf::from("LICENSE"), ""),
        (PathBuf::from("bench"), ""),
    ]);
    let file = |p: &Path| files.get(p).map(|s| s.to_string());
    let md = "\
# Here

[ok](a.md) [ok](a.md#health-daemon-mode-only) [ok](a.md#run-1) [ok](#here) [ok](../LICENSE)
[ok](../bench) [ok](https://example.com/x.md#nowhere) `[not a link](nowhere.md)`
[gone](b.md) [bad anchor](a.md#health) [bad local](#there) [out](../../etc/passwd)
![image](missing.png)

```
[in code](nowhere.md)
```
[ref]: c.md
";
    assert_eq!(
        link_problems(Path::new("docs/x.md"), md, &file),
        [
            "docs/x.md:5: (b.md) docs/b.md does not exist",
            "docs/x.md:5: (a.md#health) has no heading for #health",
            "docs/x.md:5: (#there) has no heading for #there",
            "docs/x.md:5: (../../etc/passwd) leaves the repository",
            "docs/x.md:6: (missing.png) docs/missing.png does not exist",
            "docs/x.md:11: (c.md) docs/c.md does not exist",
        ]
    );
}

#[test]
fn slugs_follow_github() {
    assert_eq!(slug(" MongoDB (`mongo`)"), "mongodb-mongo");
    assert_eq!(
        slug("MySQL and MariaDB (`mysql`, `mariadb`)"),
        "mysql-and-mariadb-mysql-mariadb"
    );
    assert_eq!(slug("Secrets in files (`_FILE`)"), "secrets-in-files-_file");
    assert_eq!(slug("`dbstash healthcheck`"), "dbstash-healthcheck");
}

#[test]
fn readme_check_catches_an_unlinked_page() {
    let docs = ["docs/a.md".to_string(), "docs/b.md".to_string()];
    assert_eq!(
        unlinked_pages("See [A](docs/a.md#x) and `[B](docs/b.md)`.", &docs),
        ["README.md does not link docs/b.md"]
    );
    assert!(unlinked_pages("[A](docs/a.md) [B](./docs/b.md)", &docs).is_empty());
}
