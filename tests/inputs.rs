//! Inputs that used to pass validation and fail later (a panic after the upload, a hang on a
//! FIFO, 4 GB read from /dev/zero, exit 0 into an odd folder): each is now exit 2 at start,
//! naming its variable, before anything runs. Every run is bounded in time, so a hang fails
//! the test instead of stalling the suite. Fake `pg_dump`, `mysqldump` and `rclone` sit on
//! PATH: had validation let a value through, the run would go on and exit 0 or 1.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// How long a run that must stop at validation may take.
const LIMIT: Duration = Duration::from_secs(20);

pub struct Output {
    /// `None`: killed by a signal.
    pub code: Option<i32>,
    /// Still running at the limit, and killed.
    pub hung: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Run `cmd` to its end within `limit`, reading its output as it comes; a run still going
/// at the limit is killed (`hung`).
pub fn output_within(mut cmd: Command, limit: Duration) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run dbstash");
    let pipe = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = r.read_to_end(&mut s);
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let out = pipe(Box::new(child.stdout.take().unwrap()));
    let err = pipe(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + limit;
    let mut hung = false;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            hung = true;
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    Output {
        code: status.code(),
        hung,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// At most 1 GiB of address space for `cmd`: a run that reads a device without end fails
/// fast instead of taking the machine's memory.
pub fn limit_memory(cmd: &mut Command) {
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 1 << 30,
                rlim_max: 1 << 30,
            };
            libc::setrlimit(libc::RLIMIT_AS, &limit);
            Ok(())
        });
    }
}

/// Fake dump tools and rclone, recording that they ran.
fn fakes(dir: &Path) {
    for tool in ["pg_dump", "pg_dumpall", "mysqldump", "mariadb-dump"] {
        write_script(
            dir,
            tool,
            &format!(r#"touch "$FAKE_DIR/{tool}.ran"; echo "select 1;""#),
        );
    }
    fake_rclone(dir);
}

/// One run of `dbstash pg` (or `engine`) with a working base configuration and `env` over
/// it, in a clean environment, with at most 1 GiB of address space: the old read of
/// /dev/zero fails fast instead of taking the machine's memory.
fn run(engine: &str, env: &[(&str, &str)]) -> Output {
    let tmp = tempfile::tempdir().unwrap();
    fakes(tmp.path());
    let mut vars: BTreeMap<&str, String> = [
        ("DB_HOST", "db.internal"),
        ("DB_NAME", "app"),
        ("RCLONE_REMOTE", "r:backups"),
        ("BACKUP_SCHEDULE", "once"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect();
    for (k, v) in env {
        vars.insert(k, v.to_string());
    }
    let path = std::env::join_paths(std::iter::once(tmp.path().to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", path)
        .env("HOME", tmp.path())
        .env("FAKE_DIR", tmp.path())
        .env("BACKUP_TEMP_DIR", tmp.path())
        .envs(vars.iter().filter(|(_, v)| !v.is_empty()))
        .arg(engine)
        .stdin(Stdio::null());
    limit_memory(&mut cmd);
    let out = output_within(cmd, LIMIT);
    assert!(
        !out.hung,
        "dbstash still running after {LIMIT:?} with {env:?} (killed); stderr: {}",
        out.stderr
    );
    for tool in ["pg_dump", "mysqldump", "mariadb-dump"] {
        assert!(
            !tmp.path().join(format!("{tool}.ran")).exists(),
            "{tool} ran: validation let {env:?} through\n{}",
            out.stderr
        );
    }
    out
}

/// Exit 2, one line naming `var` and saying `needle`.
#[track_caller]
fn assert_rejected(out: &Output, var: &str, needle: &str) {
    assert_eq!(
        out.code,
        Some(2),
        "{var}: stdout {}\nstderr {}",
        out.stdout,
        out.stderr
    );
    let prefix = format!("dbstash: invalid configuration: {var} (");
    let line = out
        .stderr
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no line naming {var}: {}", out.stderr));
    assert!(line.contains(needle), "{line}");
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

fn fifo(dir: &Path) -> String {
    let path = dir.join("fifo");
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    path.display().to_string()
}

#[test]
fn file_variables_refuse_devices_fifos_directories_and_big_files() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = fifo(dir.path());
    let big = dir.path().join("big");
    std::fs::write(&big, vec![b'x'; 64 * 1024]).unwrap();
    let big = big.display().to_string();
    let folder = dir.path().display().to_string();
    let smtp = [
        ("NOTIFY_EMAIL_TO", "ops@example.com"),
        ("NOTIFY_EMAIL_FROM", "dbstash@example.com"),
        ("SMTP_HOST", "127.0.0.1"),
        ("SMTP_USER", "u"),
    ];
    for var in ["DB_URI_FILE", "DB_PASSWORD_FILE", "SMTP_PASSWORD_FILE"] {
        for (path, needle) in [
            (
                "/dev/zero",
                "'/dev/zero' is a device: expected a regular file",
            ),
            (
                fifo.as_str(),
                "is a named pipe (FIFO): expected a regular file",
            ),
            (folder.as_str(), "is a directory: expected a regular file"),
            (big.as_str(), "is larger than 8 KiB"),
        ] {
            let started = Instant::now();
            let mut env = vec![(var, path)];
            if var == "SMTP_PASSWORD_FILE" {
                env.extend(smtp);
            }
            let out = run("pg", &env);
            assert_rejected(&out, var, needle);
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{var}={path} took {:?}",
                started.elapsed()
            );
        }
    }
}

#[test]
fn rclone_config_file_must_be_a_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = fifo(dir.path());
    for (path, needle) in [
        (dir.path().display().to_string(), "is a directory"),
        (fifo, "is a named pipe (FIFO)"),
        ("/dev/null".into(), "is a device"),
    ] {
        let out = run("pg", &[("RCLONE_CONFIG_FILE", &path)]);
        assert_rejected(&out, "RCLONE_CONFIG_FILE", needle);
    }
}

/// `/dev/stdin` (or `/dev/fd/0`, `/proc/self/fd/0`, a symlink to one of them) is a regular
/// file for dbstash when its input is redirected from one, but rclone, whose stdin is
/// empty, would read its own: every rclone call failed later ("didn't find section in
/// config file"), exit 1. Refused at start instead.
#[test]
fn rclone_config_file_through_stdin_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("rclone.conf");
    std::fs::write(&conf, "[dest]\ntype = local\n").unwrap();
    let link = dir.path().join("conf-link");
    std::os::unix::fs::symlink("/dev/stdin", &link).unwrap();
    let link = link.display().to_string();
    for path in [
        "/dev/stdin",
        "/dev/fd/0",
        "/proc/self/fd/0",
        "/dev/./stdin",
        &link,
    ] {
        let out = std::process::Command::new(BIN)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .env("BACKUP_TEMP_DIR", dir.path())
            .env("RCLONE_CONFIG_FILE", path)
            .env(
                "RCLONE_REMOTE",
                format!("dest:{}", dir.path().join("out").display()),
            )
            .args(["pg", "--db-host", "127.0.0.1", "--db-name", "app"])
            .args(["--backup-schedule", "once"])
            .stdin(std::fs::File::open(&conf).unwrap())
            .output()
            .unwrap();
        let out = Output {
            code: out.status.code(),
            hung: false,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert_rejected(&out, "RCLONE_CONFIG_FILE", "every process reads as its own");
    }
    // The file's own path is fine.
    let out = run(
        "pg",
        &[
            ("RCLONE_CONFIG_FILE", conf.to_str().unwrap()),
            ("DRY_RUN", "true"),
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

#[test]
fn values_that_failed_later_are_refused_at_start() {
    let long_db = "d".repeat(220);
    // Engine, variables, the variable named, what the message says.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: &[Case] = &[
        (
            "pg",
            &[("RETENTION_MAX_DAYS", "97000000")],
            "RETENTION_MAX_DAYS",
            "'97000000' is too large (expected 0 for unlimited, or a whole number from 1 to 36500)",
        ),
        (
            "pg",
            &[("RETENTION_MAX_FILES", "4294967295")],
            "RETENTION_MAX_FILES",
            "from 1 to 1000000",
        ),
        (
            "pg",
            &[("DB_URI", "postgresql://u@h:0/app")],
            "DB_URI",
            "a port is not a number from 1 to 65535",
        ),
        (
            "pg",
            &[("BACKUP_NAME_TEMPLATE", "{db}\n{ts}")],
            "BACKUP_NAME_TEMPLATE",
            "control character \\n",
        ),
        (
            "pg",
            &[("BACKUP_EXTENSION", ".sql\n")],
            "BACKUP_EXTENSION",
            "control character \\n",
        ),
        // Names like other backups' checksum files, which this job's retention would delete.
        (
            "pg",
            &[("BACKUP_EXTENSION", ".sql.SHA256")],
            "BACKUP_EXTENSION",
            "named like the .sha256 checksum files",
        ),
        (
            "pg",
            &[("RCLONE_REMOTE", "r:backups\nx")],
            "RCLONE_REMOTE",
            "control character \\n",
        ),
        (
            "pg",
            &[("RCLONE_REMOTE", "-vv")],
            "RCLONE_REMOTE",
            "starts with '-', which rclone would read as a flag",
        ),
        (
            "pg",
            &[("DB_NAME", &long_db)],
            "BACKUP_NAME_TEMPLATE",
            "over the 255 bytes a file name may have",
        ),
        (
            "pg",
            &[("DB_HOST", "db\tinternal")],
            "DB_HOST",
            "control character \\t",
        ),
        (
            "pg",
            &[("DB_USER", "bob\u{1b}[2J")],
            "DB_USER",
            "control character \\u{1b}",
        ),
        (
            "pg",
            &[("DB_URI", "postgresql://u@h/app%00")],
            "DB_URI",
            "control character",
        ),
        // mysqldump takes the database as its last argument: `--help` would print the
        // usage on stdout, exit 0, and be uploaded as a backup.
        (
            "mysql",
            &[("DB_NAME", "--help")],
            "DB_NAME",
            "starts with '-'",
        ),
        (
            "pg",
            &[("HEALTH_ADDR", "0.0.0.0:0")],
            "HEALTH_ADDR",
            "has port 0",
        ),
    ];
    for (engine, env, var, needle) in cases {
        let out = run(engine, env);
        assert_rejected(&out, var, needle);
    }
}

/// Every number at its documented maximum, through a real backup with retention into a
/// `:local:` remote: no arithmetic on them may fail (RETENTION_MAX_DAYS=97000000 used to
/// panic right after the upload, exit 101).
#[test]
fn a_backup_with_every_limit_at_its_maximum_succeeds() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let remote = tmp.path().join("remote");
    std::fs::create_dir(&remote).unwrap();
    // An old backup of this job, and its checksum: 36500 days keep it.
    for name in [
        "app-1971-01-01-000000.sql",
        "app-1971-01-01-000000.sql.sha256",
    ] {
        let p = remote.join(name);
        std::fs::write(&p, "x").unwrap();
        let old = std::fs::File::options().write(true).open(&p).unwrap();
        old.set_modified(std::time::UNIX_EPOCH + Duration::from_secs(86400 * 365))
            .unwrap();
    }
    write_script(tmp.path(), "pg_dump", r#"echo "select 1;""#);
    let out = Dbstash::new()
        .fake_bin(tmp.path())
        .env("ENGINE", "pg")
        .env("DB_HOST", "db.internal")
        .env("DB_NAME", "app")
        .env("RCLONE_REMOTE", local_remote(&remote))
        .env("RCLONE_CONFIG", "")
        .env("BACKUP_SCHEDULE", "once")
        .env("RETENTION_MAX_DAYS", "36500")
        .env("RETENTION_MAX_FILES", "1000000")
        .env("BACKUP_TIMEOUT", "3650d")
        .env("BACKUP_PROGRESS_INTERVAL", "3650d")
        .env("HEALTH_MAX_AGE", "3650d")
        .run();
    out.assert_code(0);
    assert!(out.stderr.contains("retention applied"), "{}", out.stderr);
    let files = files_in(&remote);
    assert_eq!(files.len(), 4, "{files:?}");
    assert!(files.contains(&"app-1971-01-01-000000.sql".to_string()));
}
