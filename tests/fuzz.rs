//! A property test over the whole flag/env surface: every variable `cli::env_vars()` lists
//! gets random values (valid ones, values at and past every limit, huge and negative
//! numbers, Unicode, control characters, empty and very long strings), and nothing may
//! panic:
//! - in process: clap's parse, `Config::from_cli`, the plan and its dry-run text, every
//!   engine's dump and check command, the rclone calls, the retention matcher and
//!   `select_expired` over random listings and clocks, the next scheduled run, the
//!   notification channels. A rejected value names its variable on one line; an accepted
//!   one gives a name that fits a path component and no child argument a NUL;
//! - through the real binary with `DRY_RUN=true`: the exit code is 0 or 2, never 101 (a
//!   panic) or a hang, and exit 2 names a variable.
//!
//! Bounded and deterministic: a fixed number of cases from a fixed seed, both printed;
//! `DBSTASH_FUZZ_CASES` and `DBSTASH_FUZZ_SEED` change them (e.g. a long run before a
//! release). A failure is shrunk to a smallest failing set of variables.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use proptest::test_runner::{
    Config as RunnerConfig, RngAlgorithm, TestCaseError, TestRng, TestRunner,
};
use secrecy::ExposeSecret as _;

use dbstash::backup::Plan;
use dbstash::cli::{env_vars, Cli};
use dbstash::config::{self, Config, Schedule};
use dbstash::retention::{self, Entry};

/// Cases per property when DBSTASH_FUZZ_CASES is not set: a few seconds in a debug build.
const IN_PROCESS_CASES: u32 = 1000;
const BINARY_CASES: u32 = 250;
const DEFAULT_SEED: u64 = 9;

/// The longest one binary run may take before it counts as a hang.
const RUN_LIMIT: Duration = Duration::from_secs(20);

fn cases(default: u32) -> u32 {
    std::env::var("DBSTASH_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn runner(default_cases: u32, what: &str) -> TestRunner {
    let seed = std::env::var("DBSTASH_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let cases = cases(default_cases);
    eprintln!("fuzz {what}: {cases} cases, seed {seed} (DBSTASH_FUZZ_CASES, DBSTASH_FUZZ_SEED)");
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_mut(8) {
        chunk.copy_from_slice(&seed.to_le_bytes());
    }
    let config = RunnerConfig {
        cases,
        failure_persistence: None,
        // A failing case is shrunk for at most this long: values are up to 24,000
        // characters, and a shrink step runs the whole case again.
        max_shrink_iters: 300,
        max_shrink_time: 60_000,
        ..RunnerConfig::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

// ------------------------------------------------------------------ values

/// Fragments every kind of value is also built from: delimiters, tokens, escapes, numbers at
/// and past every limit. Never NUL: neither the environment nor argv can carry one (files
/// and percent-encoding can, and are generated below).
const ATOMS: &[&str] = &[
    "",
    " ",
    "  ",
    "\n",
    "\r\n",
    "\t",
    "\u{7}",
    "\u{1b}[31m",
    "\u{7f}",
    "\u{85}",
    "\u{202e}",
    "\u{feff}",
    "é",
    "日本",
    "😀",
    "-",
    "--",
    "--help",
    "-x",
    "=",
    "'",
    "\"",
    "\\",
    "/",
    "//",
    ":",
    ",",
    ";",
    "{",
    "}",
    "{db}",
    "{ts}",
    "{time}",
    "{uuid}",
    "{date}",
    "{engine}",
    "{x}",
    "%",
    "%00",
    "%0A",
    "%FF",
    "%zz",
    "@",
    "?",
    "#",
    "&",
    "[",
    "]",
    "*",
    "~",
    "$HOME",
    "`id`",
    "0",
    "1",
    "-1",
    "+1",
    "007",
    "65535",
    "65536",
    "36500",
    "36501",
    "1000000",
    "1000001",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999",
    "1e9",
    "0x10",
    "1.5",
    "NaN",
    "3650d",
    "3651d",
    "87600h",
    "1ms",
    "0s",
    "once",
    "true",
    "false",
    "null",
];

fn text() -> BoxedStrategy<String> {
    let piece = prop_oneof![
        6 => prop::sample::select(ATOMS).prop_map(str::to_string),
        3 => any::<char>().prop_filter("no NUL", |c| *c != '\0').prop_map(String::from),
        // Mostly lengths up to and past the longest name a backend takes (255 bytes): the
        // boundary the name-length check guards, reached by accepted configurations too.
        1 => (
            prop_oneof![3 => 1usize..260, 1 => 1usize..6000],
            prop::sample::select(&["x", "é", "9", "/", "%", "{db}"][..]),
        )
            .prop_map(|(n, s)| s.repeat(n)),
    ];
    prop::collection::vec(piece, 0..6)
        .prop_map(|v| v.concat())
        .boxed()
}

fn one_of(values: &'static [&'static str]) -> BoxedStrategy<String> {
    prop::sample::select(values)
        .prop_map(str::to_string)
        .boxed()
}

fn numbers() -> BoxedStrategy<String> {
    prop_oneof![
        one_of(&[
            "0",
            "1",
            "2",
            "5432",
            "65535",
            "65536",
            "36499",
            "36500",
            "36501",
            "999999",
            "1000000",
            "1000001",
            "97000000",
            "4294967295",
            "4294967296",
            "-0",
            "-1",
            "+5",
            " 7 ",
            "1_000",
            "1e3",
            "0x1F",
            "١٢",
            "18446744073709551616",
        ]),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        (0u32..100).prop_map(|n| n.to_string()),
    ]
    .boxed()
}

fn durations() -> BoxedStrategy<String> {
    let part = (
        prop_oneof![
            any::<u64>(),
            0u64..100,
            Just(3650u64),
            Just(87600),
            Just(315_360_000)
        ],
        prop::sample::select(&["ms", "s", "m", "h", "d", "w", "", " ", "S"][..]),
    )
        .prop_map(|(n, u)| format!("{n}{u}"));
    prop_oneof![
        one_of(&[
            "0",
            "1s",
            "30m",
            "1h30m",
            "3650d",
            "3651d",
            "87600h",
            "87601h",
            "315360000s",
            "315360000001ms",
            "18446744073709551615ms",
            "1ms",
            "0s",
            "0m0s",
            "-1s",
            "1.5h",
            "5",
            "1d1d1d",
            "3649d23h59m59s999ms",
        ]),
        prop::collection::vec(part, 1..4).prop_map(|v| v.concat()),
    ]
    .boxed()
}

fn booleans() -> BoxedStrategy<String> {
    one_of(&[
        "true", "false", "1", "0", "yes", "no", "on", "off", "TRUE", " true ", "maybe", "", "2",
        "t",
    ])
}

fn uris() -> BoxedStrategy<String> {
    let scheme = one_of(&[
        "postgresql",
        "postgres",
        "mysql",
        "mariadb",
        "redis",
        "rediss",
        "mongodb",
        "mongodb+srv",
        "http",
        "",
        "pg sql",
        "PostgreSQL",
    ]);
    let user = prop_oneof![
        Just(String::new()),
        one_of(&[
            "u@",
            "u:p@",
            ":p@",
            "u:p%40ss@",
            "u:p%00@",
            "u%0A:p@",
            "u:p%FF@",
            "-u:p@"
        ]),
        text().prop_map(|t| format!("{t}@")),
    ];
    let host = one_of(&[
        "h",
        "127.0.0.1",
        "[::1]",
        "h1,h2",
        "",
        "h h",
        "[::1",
        "db\u{1}",
        "-h",
        "h:0",
        "h:1",
        "h:5432",
        "h:65535",
        "h:65536",
        "h:",
        "h:x",
        "[::1]:0",
        "h1:1,h2:0",
    ]);
    let path = prop_oneof![
        one_of(&["", "/", "/app", "/-x", "/a%2Fb", "/a%00b", "/a%0Ab", "/%FF", "/0", "/all"]),
        text().prop_map(|t| format!("/{t}")),
    ];
    let query = prop_oneof![
        Just(String::new()),
        one_of(&[
            "?sslmode=require",
            "?password=pw",
            "?sslpassword=x%0Ahost%3Devil",
            "?authSource=admin&replicaSet=rs0",
            "?a=%FF",
            "?=",
            "?&&",
            "?options=-c%20x%3Dy",
        ]),
        text().prop_map(|t| format!("?{t}")),
    ];
    (scheme, user, host, path, query)
        .prop_map(|(s, u, h, p, q)| format!("{s}://{u}{h}{p}{q}"))
        .boxed()
}

fn remotes() -> BoxedStrategy<String> {
    prop_oneof![
        4 => one_of(&[
            ":local:/tmp/dbstash-fuzz", "s3:bucket/x", "s3:bucket/x/", "/backups", "r:", "-x",
            "--config=/etc/passwd", "a/b", "backups", ":s3,secret_access_key=SK:b",
            "my remote:x", "C:\\x", ":", "::", "r:\nx", "r:x\u{1b}", "r:../..",
        ]),
        1 => (one_of(&["r:", "/b/", ":local:"]), text()).prop_map(|(a, b)| a + &b),
    ]
    .boxed()
}

fn templates() -> BoxedStrategy<String> {
    prop::collection::vec(
        prop_oneof![
            3 => one_of(&[
                "{db}", "{engine}", "{date}", "{time}", "{ts}", "{uuid}", "-", "_", ".", "x",
            ]),
            1 => text(),
        ],
        0..8,
    )
    .prop_map(|v| v.concat())
    .boxed()
}

fn schedules() -> BoxedStrategy<String> {
    one_of(&[
        "once",
        "ONCE",
        "0 2 * * *",
        "* * * * *",
        "* * * * * *",
        "*/1 * * * * *",
        "@daily",
        "@yearly",
        "@reboot",
        "0 0 30 2 *",
        "0 0 29 2 1",
        "60 * * * *",
        "0 0 31 4 *",
        "* * * *",
        "*/0 * * * *",
        "0 0 L * *",
        "0 0 * * 5#5",
        "0 0 * * MON-FRI",
        "59 23 31 12 *",
        "0 0 1 1 * 2099",
        "0 0 1 1 *",
    ])
}

fn zones() -> BoxedStrategy<String> {
    one_of(&[
        "UTC",
        "Europe/Berlin",
        ":UTC",
        "Asia/Kolkata",
        "Pacific/Kiritimati",
        "Etc/GMT+12",
        "America/St_Johns",
        "EST5EDT",
        "Mars/Olympus",
        "",
        "local",
        "/etc/localtime",
        "Australia/Lord_Howe",
    ])
}

fn words() -> BoxedStrategy<String> {
    prop::collection::vec(
        prop_oneof![
            3 => one_of(&[
                "--timeout", "3650d", "--timeout=0", "--timeout 99999999999h", "--timeout=3651d",
                "-F", "c", "--format=directory", "-f", "/tmp/x", "--", "'unclosed", "\"",
                "--gzip", "--archive=/tmp/x", "-o", "--compress=9", "-Z", "zstd:3", "--help",
                "--s3-secret-access-key", "X", "-l", "db", "--file=x", "-Fd", "--rdb",
                "'a b'", "\\",
            ]),
            1 => text(),
        ],
        0..6,
    )
    .prop_map(|v| v.join(" "))
    .boxed()
}

fn urls() -> BoxedStrategy<String> {
    one_of(&[
        "http://127.0.0.1:9/hook",
        "https://hooks.slack.com/services/x",
        "https://discord.com/api/webhooks/1/x",
        "http://127.0.0.1:9/ping/",
        "ftp://x",
        "http://",
        "http://[::1",
        "https://x:0/",
        "https://u:p@x/%FF",
        "not a url",
    ])
}

fn emails() -> BoxedStrategy<String> {
    one_of(&[
        "a@example.com",
        "a@example.com, b@example.com",
        "Name <a@example.com>",
        "not an email",
        "a@@b",
        ",",
        "a@example.com\nBcc: x@y",
    ])
}

fn words_of_choice() -> BoxedStrategy<String> {
    one_of(&[
        "debug",
        "info",
        "warn",
        "error",
        "json",
        "text",
        "stream",
        "tar",
        "directory",
        "always",
        "failure",
        "success",
        "auto",
        "slack",
        "discord",
        "starttls",
        "tls",
        "none",
        "pg",
        "postgres",
        "mysql",
        "mariadb",
        "redis",
        "mongo",
        "oracle",
        "admin",
    ])
}

/// Paths for the `_FILE` variables and RCLONE_CONFIG_FILE: every kind of file, made once.
struct Files {
    _dir: tempfile::TempDir,
    paths: Vec<String>,
}

fn files() -> &'static Files {
    static FILES: std::sync::OnceLock<Files> = std::sync::OnceLock::new();
    FILES.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name);
        let write = |name: &str, content: &[u8]| {
            std::fs::write(p(name), content).unwrap();
            p(name).display().to_string()
        };
        let fifo = p("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let uri = write("uri", b"postgresql://u:pw@h:5432/app\n");
        std::os::unix::fs::symlink(&uri, p("link")).unwrap();
        let mut paths = vec![
            uri,
            write("pw", b"secret\n"),
            write("conf", b"[r]\ntype = local\n"),
            write("empty", b""),
            write("nul", b"post\0gres\n"),
            write("lines", b"a\nb\n"),
            write("latin1", b"caf\xe9"),
            write("big", &vec![b'x'; 1 << 20]),
            write("uri0", b"mysql://u@h:0/db"),
            fifo.display().to_string(),
            p("link").display().to_string(),
            dir.path().display().to_string(),
            p("missing").display().to_string(),
        ];
        paths.extend(
            [
                "/dev/zero",
                "/dev/null",
                "/dev/stdin",
                "/proc/self/mem",
                "",
                "/",
            ]
            .map(String::from),
        );
        Files { _dir: dir, paths }
    })
}

fn paths() -> BoxedStrategy<String> {
    prop::sample::select(files().paths.clone()).boxed()
}

/// Plausible values for `var`, by what its name says it holds.
fn typed(var: &str, bools: &[String]) -> BoxedStrategy<String> {
    let b64 = |s: String| base64::engine::general_purpose::STANDARD.encode(s);
    match var {
        _ if bools.iter().any(|b| b == var) => booleans(),
        _ if var.ends_with("_FILE") => paths(),
        "DB_URI" => uris(),
        "RCLONE_REMOTE" => remotes(),
        "BACKUP_NAME_TEMPLATE" => templates(),
        "BACKUP_SCHEDULE" => schedules(),
        "TZ" => zones(),
        "RCLONE_CONFIG" => prop_oneof![
            one_of(&["W3JdCnR5cGUgPSBsb2NhbAo=", "not base64!", "//79", "===="]),
            text().prop_map(b64),
        ]
        .boxed(),
        "HEALTH_ADDR" => one_of(&[
            "127.0.0.1:8080",
            "0.0.0.0:0",
            "[::1]:65535",
            "127.0.0.1:65536",
            "localhost:80",
            "8080",
            ":8080",
            "[::]:1",
            "127.0.0.1:0",
        ]),
        "BACKUP_EXTENSION" => one_of(&[".sql", "sql", ".", "..", ".tar.gz", "a/b", ".x\n", "-"]),
        _ if var.ends_with("_EXTRA_ARGS") => words(),
        _ if var.ends_with("_URL") => urls(),
        _ if var.starts_with("NOTIFY_EMAIL") => emails(),
        _ if var.ends_with("PORT") || var.starts_with("RETENTION_") => numbers(),
        // Mostly in range (1 to 32), so the cases go on past it.
        "BACKUP_PARALLELISM" => prop_oneof![3 => "[1-9]|[12][0-9]|3[0-2]", 1 => numbers()].boxed(),
        "BACKUP_INCLUDE_DATABASES" | "BACKUP_EXCLUDE_DATABASES" => one_of(&[
            "app",
            "a,b",
            " , ",
            "postgres",
            "template1",
            "a,,b,a",
            "-x",
            "é",
            "",
        ]),
        _ if var.ends_with("TIMEOUT") || var.ends_with("INTERVAL") || var.ends_with("MAX_AGE") => {
            durations()
        }
        "DB_HOST" | "SMTP_HOST" => one_of(&[
            "h",
            "127.0.0.1",
            "::1",
            "/var/run/postgresql",
            "/var/run/my sockets",
            "db internal",
            "-h",
            "db\n",
            "",
        ]),
        "DB_NAME" => prop_oneof![
            3 => one_of(&[
                "app", "all", "my-app", "a/b", "a_b", "-x", "--help", "app\u{7}", "é",
            ]),
            // Long names, some growing under escaping (`%` and `/` take 3 bytes, `é` 2),
            // around the longest name that still fits.
            1 => prop_oneof!["[a-z0-9_.-]{180,240}", "[a-z0-9é%/_.-]{120,240}"],
        ]
        .boxed(),
        _ => prop_oneof![words_of_choice(), text()].boxed(),
    }
}

/// Every variable once, most of them unset. `focused` cases keep a working base and change a
/// few variables; the others set many at random.
fn env_strategy() -> BoxedStrategy<BTreeMap<String, String>> {
    let bools = bool_vars();
    let value = |var: &str, weight: f64| {
        let v = prop_oneof![3 => typed(var, &bools), 1 => text()];
        prop::option::weighted(weight, v).boxed()
    };
    let vars = env_vars();
    let build = move |weight: f64| {
        let names = vars.clone();
        let strategies: Vec<_> = vars.iter().map(|v| value(v, weight)).collect();
        strategies.prop_map(move |values| {
            names
                .iter()
                .zip(values)
                .filter_map(|(k, v)| Some((k.clone(), v?)))
                .collect::<BTreeMap<_, _>>()
        })
    };
    prop_oneof![3 => build(0.025), 1 => build(0.25)]
        .prop_map(|mut env| {
            // A working base that the random values override.
            for (k, v) in [
                ("ENGINE", "pg"),
                ("DB_HOST", "db.internal"),
                ("DB_NAME", "app"),
                ("RCLONE_REMOTE", "s3:bucket/backups"),
                ("BACKUP_SCHEDULE", "once"),
            ] {
                env.entry(k.to_string()).or_insert_with(|| v.to_string());
            }
            // A split setting makes most such cases a split configuration (all databases,
            // no DB_NAME), so its rules are reached past the first one.
            let split = [
                "BACKUP_SPLIT_DATABASES",
                "BACKUP_INCLUDE_DATABASES",
                "BACKUP_EXCLUDE_DATABASES",
                "BACKUP_PARALLELISM",
            ];
            if split.iter().any(|v| env.contains_key(*v)) {
                env.remove("DB_NAME");
                for k in ["BACKUP_ALL_DATABASES", "BACKUP_SPLIT_DATABASES"] {
                    env.entry(k.to_string())
                        .or_insert_with(|| "true".to_string());
                }
            }
            env
        })
        .boxed()
}

/// The variables of boolean flags (written `--flag=VALUE`).
fn bool_vars() -> Vec<String> {
    fn walk(cmd: &clap::Command, out: &mut Vec<String>) {
        for a in cmd.get_arguments() {
            if a.is_require_equals_set() {
                if let Some(v) = a.get_env().and_then(|v| v.to_str()) {
                    out.push(v.to_string());
                }
            }
        }
        for s in cmd.get_subcommands() {
            walk(s, out);
        }
    }
    let mut out = Vec::new();
    walk(&<Cli as clap::CommandFactory>::command(), &mut out);
    out
}

fn subcommands() -> BoxedStrategy<Option<&'static str>> {
    prop::option::weighted(
        0.8,
        prop::sample::select(&["pg", "mysql", "mariadb", "redis", "mongo", "check"][..]),
    )
    .boxed()
}

fn instants() -> BoxedStrategy<DateTime<Utc>> {
    prop_oneof![
        Just(DateTime::<Utc>::MIN_UTC),
        Just(DateTime::<Utc>::MAX_UTC),
        Just(DateTime::<Utc>::UNIX_EPOCH),
        (0i64..7_258_118_400).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap()),
        any::<i64>()
            .prop_map(|s| DateTime::from_timestamp(s, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)),
    ]
    .boxed()
}

// ------------------------------------------------------------------ in process

/// Whether a configuration error names one of dbstash's variables, on one line.
fn names_a_variable(e: &config::ConfigError, vars: &[String]) -> bool {
    vars.iter().any(|v| e.subject.contains(v.as_str()))
}

/// `Cli::try_parse_from`, with the command built once: building it is most of a parse.
fn parse(argv: &[String]) -> Option<Cli> {
    use clap::FromArgMatches as _;
    static COMMAND: std::sync::OnceLock<clap::Command> = std::sync::OnceLock::new();
    let mut cmd = COMMAND
        .get_or_init(|| {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            cmd.build();
            cmd
        })
        .clone();
    let matches = cmd.try_get_matches_from_mut(argv).ok()?;
    Cli::from_arg_matches(&matches).ok()
}

/// The longest one in-process case may take: reading a FIFO used to block for ever.
const CASE_LIMIT: Duration = Duration::from_secs(10);

/// Run one case on its own thread: a panic reaches proptest as if raised here, and a case
/// still running after `limit` fails (its thread is left behind, blocked).
fn within(
    limit: Duration,
    case: impl FnOnce() -> Result<(), TestCaseError> + Send + 'static,
) -> Result<(), TestCaseError> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(case)));
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(result)) => result,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => Err(TestCaseError::fail(format!(
            "still running after {limit:?}: it blocks"
        ))),
    }
}

static RESOLVED: AtomicUsize = AtomicUsize::new(0);

fn exercise(cfg: &Config, listing_names: &[String], times: &[DateTime<Utc>], now: DateTime<Utc>) {
    let plan = Plan::new(cfg);
    assert!(
        plan.name.len() + dbstash::config::limits::NAME_SUFFIX_BYTES
            <= dbstash::config::limits::NAME_BYTES,
        "name too long for a path component: {}",
        plan.name
    );
    let _ = plan.describe(cfg);
    let _ = config::describe(cfg);
    let engine = cfg.engine();
    for cmd in [engine.dump_command(cfg), engine.check_command(cfg)] {
        let _ = cmd.to_string();
        assert!(
            cmd.args.iter().all(|a| !a.contains('\0')),
            "a NUL in {}'s arguments would fail the spawn: {:?}",
            cmd.program,
            cmd.args
        );
        assert!(
            cmd.env
                .iter()
                .all(|(_, v)| !v.expose_secret().contains('\0')),
            "a NUL in {}'s environment would fail the spawn",
            cmd.program
        );
        if let Some(f) = &cmd.secret_file {
            assert!(!f.content.expose_secret().contains('\0'));
        }
    }
    let _ = dbstash::rclone::Rclone::describe(cfg, "rcat", &plan.target);
    let _ = dbstash::rclone::control_limit(&cfg.rclone_extra_args, None);
    let _ = dbstash::rclone::Rclone::new(cfg).expect("rclone setup");
    if cfg.notify.any() {
        let _ = dbstash::notify::Notifier::new(&cfg.notify);
    }
    let extension = dbstash::engine::extension(cfg);
    let matcher = cfg
        .template
        .matcher(cfg.conn.database.as_deref(), cfg.engine.key(), &extension);
    let mut names: Vec<String> = listing_names.to_vec();
    names.push(plan.name.clone());
    names.push(format!("{}.sha256", plan.name));
    let listing: Vec<Entry> = names
        .iter()
        .zip(times.iter().cycle())
        .map(|(n, t)| Entry {
            name: n.clone(),
            mod_time: *t,
        })
        .collect();
    let expired = retention::select_expired(
        &listing,
        |n| matcher.is_match(n),
        |n| !n.ends_with('x'),
        &plan.name,
        cfg.retention,
        cfg.tz,
        now,
    );
    assert!(!expired.contains(&plan.name), "the current backup expired");
    if let Schedule::Cron { cron, .. } = &cfg.schedule {
        let after = now.min(DateTime::from_timestamp(7_258_118_400, 0).unwrap());
        let after = after.max(DateTime::UNIX_EPOCH);
        let _ = dbstash::scheduler::next_run(cron, cfg.tz, after);
    }
    RESOLVED.fetch_add(1, Ordering::Relaxed);
}

#[test]
fn no_flag_or_variable_value_panics_in_process() {
    let vars = env_vars();
    let strategy = (
        env_strategy(),
        subcommands(),
        prop::collection::vec(
            prop_oneof![text(), Just("app-2026-01-01-000000.sql".into())],
            0..6,
        ),
        prop::collection::vec(instants(), 1..6),
        prop_oneof![Just(Utc::now()), instants()],
    );
    let total = cases(IN_PROCESS_CASES);
    RESOLVED.store(0, Ordering::Relaxed);
    let mut runner = runner(IN_PROCESS_CASES, "in process");
    let result = runner.run(&strategy, |(env, sub, names, times, now)| {
        let vars = vars.clone();
        within(CASE_LIMIT, move || {
            let mut argv = vec!["dbstash".to_string()];
            for (var, value) in &env {
                argv.push(format!("{}={value}", config::flag_of(var)));
            }
            argv.extend(sub.map(str::to_string));
            // clap reads the process environment for whatever the flags leave unset: the
            // developer's TZ or DB_HOST is just one more input.
            let cli = match parse(&argv) {
                Some(cli) => cli,
                None => return Ok(()),
            };
            match Config::from_cli(cli) {
                Err(e) => {
                    prop_assert!(names_a_variable(&e, &vars), "names no variable: {e}");
                    prop_assert!(
                        !e.to_string().chars().any(char::is_control),
                        "not one line: {e:?}"
                    );
                }
                Ok(cfg) => exercise(&cfg, &names, &times, now),
            }
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let resolved = RESOLVED.load(Ordering::Relaxed);
    eprintln!("fuzz in process: {resolved} of {total} cases resolved to a configuration");
    assert!(
        resolved * 5 >= total as usize,
        "only {resolved} of {total} cases got past validation: the generator no longer reaches the code after it"
    );
}

// ------------------------------------------------------------------ the binary

/// Run dbstash with `env` (a clean environment otherwise) within [`RUN_LIMIT`]; a run still
/// going then is killed and counts as a hang.
fn run_env(
    env: &BTreeMap<String, String>,
    sub: Option<&str>,
    work: &Path,
) -> crate::inputs::Output {
    use std::process::{Command, Stdio};
    let mut cmd = Command::new(crate::support::BIN);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", work)
        .env("BACKUP_TEMP_DIR", work)
        .envs(env)
        .env("DRY_RUN", "true")
        .args(sub)
        .stdin(Stdio::null());
    crate::inputs::limit_memory(&mut cmd);
    crate::inputs::output_within(cmd, RUN_LIMIT)
}

/// What is wrong with one binary run, if anything.
fn judge(out: &crate::inputs::Output, vars: &[String]) -> Option<String> {
    let (code, stdout, stderr) = (out.code, &out.stdout, &out.stderr);
    if out.hung {
        return Some(format!("still running after {RUN_LIMIT:?} (killed)"));
    }
    if stderr.contains("panicked") {
        return Some("it panicked".into());
    }
    match code {
        Some(0) if stdout.starts_with("dbstash dry run") => None,
        Some(2) => {
            let line = stderr
                .lines()
                .find(|l| l.starts_with("dbstash: invalid configuration: "))
                .unwrap_or_default();
            let named = vars.iter().any(|v| line.contains(&format!("{v} (")));
            (!named).then(|| "exit 2 without naming a variable".into())
        }
        other => Some(format!("exit {other:?}")),
    }
}

/// The cases are drawn from the seeded generator up front and run on a few threads (a
/// debug binary takes some 40 ms to start); a failure shows its whole environment.
#[test]
fn no_environment_panics_or_hangs_the_binary() {
    use proptest::strategy::ValueTree as _;
    let vars = env_vars();
    let work = tempfile::tempdir().unwrap();
    let strategy = (
        env_strategy(),
        prop::option::weighted(
            0.8,
            prop::sample::select(&["pg", "mysql", "mariadb", "redis", "mongo"][..]),
        ),
    );
    let mut runner = runner(BINARY_CASES, "binary");
    let runs: Vec<_> = (0..cases(BINARY_CASES))
        .map(|_| {
            let (mut env, sub) = strategy.new_tree(&mut runner).unwrap().current();
            env.remove("DRY_RUN");
            (env, sub)
        })
        .collect();
    let failures: Vec<String> = std::thread::scope(|s| {
        let workers: Vec<_> = runs
            .chunks(runs.len().div_ceil(4).max(1))
            .map(|chunk| {
                let (vars, work) = (&vars, work.path());
                s.spawn(move || {
                    chunk
                        .iter()
                        .filter_map(|(env, sub)| {
                            let out = run_env(env, *sub, work);
                            judge(&out, vars).map(|why| {
                                format!(
                                    "{why}: dbstash {sub:?} with {env:?}\n--- stdout\n{}\n--- stderr\n{}",
                                    out.stdout, out.stderr
                                )
                            })
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} runs failed; the first: {}",
        failures.len(),
        runs.len(),
        failures[0]
    );
}
