//! The shape of the crate, kept: no two modules import each other (directly or round a
//! circle), configuration sits at the bottom, engines are data, and retention is pure policy.
//!
//! The graph is read from the sources: every `crate::x` (and `super::` from a submodule) in
//! `src/**/*.rs`, comments and test code left out. A node is a top-level module (`engine`,
//! `restore`), except the leaf `settings` submodules (`restore::settings`, the clap flags
//! `cli` flattens), which are nodes of their own.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// What `config` may reach, directly or through the modules it imports: plain parsing
/// helpers and the clap structs. Nothing that runs, spawns or knows an engine's behaviour.
const CONFIG_MAY_REACH: &[&str] = &[
    "argv",
    "cli",
    "durations",
    "engine_kind",
    "hooks::settings",
    "input",
    "notify::settings",
    "redact",
    "remote",
    "restore::settings",
    "template",
    "tool_args",
    "uri",
];

/// Edges the design rules out even where they would close no circle today.
const FORBIDDEN: &[(&str, &str, &str)] = &[
    ("engine", "process", "engines are data: they spawn nothing"),
    ("engine", "rclone", "engines are data: they spawn nothing"),
    ("engine", "pipeline", "engines are data: they spawn nothing"),
    (
        "engine",
        "backup",
        "engines are data: the run uses them, not the reverse",
    ),
    (
        "process",
        "engine",
        "process runs any child described by `command`",
    ),
    ("rclone", "backup", "the rclone layer sits below the run"),
    ("rclone", "retention", "the listing row lives in `remote`"),
    (
        "retention",
        "rclone",
        "retention is pure policy over a listing",
    ),
    (
        "retention",
        "process",
        "retention is pure policy over a listing",
    ),
];

#[test]
fn the_module_graph_has_no_cycle() {
    let graph = crate_graph();
    assert!(graph.len() > 20, "too few modules found: {graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "module cycle: {} (move the shared piece into a module below both)\n{}",
            cycle.join(" -> "),
            render(&graph)
        );
    }
}

#[test]
fn config_depends_only_on_bottom_modules() {
    let graph = crate_graph();
    let reached = reachable(&graph, "config");
    let bad: Vec<&String> = reached
        .iter()
        .filter(|m| !CONFIG_MAY_REACH.contains(&m.as_str()))
        .collect();
    assert!(
        bad.is_empty(),
        "config reaches {bad:?}: configuration must depend on nothing above it (allowed: {CONFIG_MAY_REACH:?})\n{}",
        render(&graph)
    );
}

#[test]
fn forbidden_imports_stay_absent() {
    let graph = crate_graph();
    let found: Vec<String> = FORBIDDEN
        .iter()
        .filter(|(from, to, _)| graph.get(*from).is_some_and(|t| t.contains(*to)))
        .map(|(from, to, why)| format!("{from} -> {to}: {why}"))
        .collect();
    assert!(found.is_empty(), "{found:#?}");
}

/// The checks above can fail: a planted circle, a planted upward import and a test module's
/// imports (which may reach anywhere) are each seen or ignored as they should be.
#[test]
fn the_checks_see_what_they_look_for() {
    fn edge(g: &mut Graph, a: &str, b: &str) {
        g.entry(a.into()).or_default().insert(b.into());
    }
    let mut g = Graph::new();
    edge(&mut g, "cli", "tool_args");
    edge(&mut g, "config", "cli");
    edge(&mut g, "engine", "config");
    edge(&mut g, "backup", "engine");
    assert_eq!(find_cycle(&g), None);
    edge(&mut g, "config", "backup");
    let cycle = find_cycle(&g).expect("the planted cycle is found");
    assert_eq!(cycle.first(), cycle.last(), "{cycle:?}");
    for m in ["config", "backup", "engine"] {
        assert!(cycle.contains(&m.to_string()), "{cycle:?}");
    }
    assert!(reachable(&g, "config").contains("engine"));

    let known: BTreeSet<String> = ["config", "backup", "engine", "restore"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let src = "//! [`crate::backup`] in a comment is no import\n\
               use crate::{engine::{self, Engine}, uri};\n\
               use super::x;\n\
               fn f() { crate::restore::settings::ListArgs::default(); crate::VERSION; }\n\
               #[cfg(test)]\nmod tests;\n\
               fn g() {}\n\
               #[cfg(test)]\nmod tests {\n    use crate::backup;\n}\n";
    let refs = references(&["config".into(), "sub".into()], src, &known);
    let want: BTreeSet<String> = ["engine", "restore::settings", "config"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    // `uri` is not in `known`; `super::x` from config::sub is config itself (dropped later).
    assert_eq!(refs, want);
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `src/engine/mod.rs` → `[engine]`, `src/restore/settings.rs` → `[restore, settings]`.
fn module_path(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src_dir()).expect("a file under src/");
    let mut parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The graph node of a module path: its top-level module, or `a::settings` for a leaf
/// settings module and the files under it (`notify/settings/flags.rs`).
fn node(path: &[String]) -> Option<String> {
    match path {
        [] => None,
        [top, second, ..] if second == "settings" => Some(format!("{top}::settings")),
        [top, .., last] if last == "settings" => Some(format!("{top}::settings")),
        [top, ..] => Some(top.clone()),
    }
}

fn is_test_module(path: &[String]) -> bool {
    path.iter()
        .any(|p| p == "tests" || p.ends_with("_tests") || p.starts_with("tests_"))
}

/// The source without comments and without `#[cfg(test)]` modules (an inline one runs to the
/// end of the file, as everywhere in this crate; `mod tests;` files are skipped by path).
fn non_test_code(src: &str) -> String {
    let mut out = String::new();
    let mut lines = src.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim();
        if t == "#[cfg(test)]" {
            let next = lines.peek().map(|l| l.trim()).unwrap_or("");
            if next.starts_with("mod ") || next.starts_with("pub mod ") {
                if next.ends_with(';') {
                    lines.next();
                    continue;
                }
                break;
            }
        }
        let code = match t.find("//") {
            Some(i) => &t[..i],
            None => t,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// The nodes `src` (the file of module `path`) refers to, among the top-level modules `known`.
fn references(path: &[String], src: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let code = non_test_code(src);
    let mut paths: Vec<Vec<String>> = Vec::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let end = matching_brace(group);
            for item in split_top_level(&group[..end]) {
                paths.push(item.split("::").map(|s| s.trim().to_string()).collect());
            }
        } else {
            paths.push(ident_path(after));
        }
        rest = after;
    }
    // `super::` from a submodule names its parent.
    if path.len() >= 2 {
        let parent = &path[..path.len() - 1];
        let mut rest = code.as_str();
        while let Some(i) = rest.find("super::") {
            let before_ok = i == 0
                || !rest[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
            let after = &rest[i + "super::".len()..];
            if before_ok {
                let mut p = parent.to_vec();
                p.extend(ident_path(after));
                paths.push(p);
            }
            rest = after;
        }
    }
    paths
        .into_iter()
        .filter(|p| p.first().is_some_and(|top| known.contains(top)))
        .filter_map(|p| {
            // `a::settings…` is the leaf node; anything else is `a`.
            let leaf = p.get(1).is_some_and(|s| s == "settings");
            node(if leaf { &p[..2] } else { &p[..1] })
        })
        .collect()
}

/// `a::b::C` at the start of `s`.
fn ident_path(s: &str) -> Vec<String> {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(s.len());
    s[..end]
        .split("::")
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

fn matching_brace(s: &str) -> usize {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return i,
            '}' => depth -= 1,
            _ => {}
        }
    }
    s.len()
}

/// `a, b::{c, d}, e` → `a`, `b::{c, d}`, `e`.
fn split_top_level(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur).trim().to_string());
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur.trim().to_string());
    out.retain(|s| !s.is_empty());
    out
}

fn crate_graph() -> Graph {
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    let modules: Vec<(Vec<String>, PathBuf)> = files
        .into_iter()
        .map(|f| (module_path(&f), f))
        // The crate root wires the modules together and is no layer of its own.
        .filter(|(p, _)| !matches!(p.as_slice(), [one] if one == "lib" || one == "main"))
        .collect();
    let known: BTreeSet<String> = modules.iter().map(|(p, _)| p[0].clone()).collect();
    let mut graph = Graph::new();
    for (path, file) in &modules {
        if is_test_module(path) {
            continue;
        }
        let from = node(path).expect("a module path");
        let src = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        let targets = graph.entry(from.clone()).or_default();
        for to in references(path, &src, &known) {
            if to != from {
                targets.insert(to);
            }
        }
    }
    graph
}

/// One cycle, as `a -> b -> … -> a`, if there is any.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        n: &str,
        graph: &Graph,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(n) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = stack.iter().position(|s| s == n).expect("on the stack");
                let mut cycle = stack[start..].to_vec();
                cycle.push(n.to_string());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(n.to_string(), Mark::Open);
        stack.push(n.to_string());
        for next in graph.get(n).into_iter().flatten() {
            if let Some(c) = visit(next, graph, marks, stack) {
                return Some(c);
            }
        }
        stack.pop();
        marks.insert(n.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for n in graph.keys() {
        if let Some(c) = visit(n, graph, &mut marks, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

fn reachable(graph: &Graph, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_string()];
    while let Some(n) = todo.pop() {
        for next in graph.get(&n).into_iter().flatten() {
            if next != from && seen.insert(next.clone()) {
                todo.push(next.clone());
            }
        }
    }
    seen
}

fn render(graph: &Graph) -> String {
    graph
        .iter()
        .map(|(from, to)| {
            format!(
                "  {from} -> {}",
                to.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Files under a settings module belong to its leaf node, so what they import is checked
/// as the settings module's own.
#[test]
fn files_under_a_settings_module_are_that_leaf() {
    let p = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        node(&p(&["notify", "settings", "flags"])).as_deref(),
        Some("notify::settings")
    );
    assert_eq!(
        node(&p(&["restore", "settings"])).as_deref(),
        Some("restore::settings")
    );
    assert_eq!(node(&p(&["notify", "webhook"])).as_deref(), Some("notify"));
    assert_eq!(node(&p(&["config", "split"])).as_deref(), Some("config"));
}
