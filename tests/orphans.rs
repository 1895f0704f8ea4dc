//! No process dbstash started, directly or not, outlives it, even when dbstash is SIGKILLed
//! (no handler runs): its watchdog ends the children's process groups, and the database
//! holds no connection of theirs afterwards. Real PostgreSQL (a table locked from a psql
//! session, so the dump blocks) and the real rclone.

use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// A psql session holding `ACCESS EXCLUSIVE` on `table` of `db` until it is dropped: a dump
/// that reaches the table waits for it.
pub(crate) struct TableLock(Child);

impl TableLock {
    pub(crate) fn take(pg: &pg::Pg, db: &str, table: &str) -> TableLock {
        let mut psql = Command::new(pg.bin.join("psql"))
            .env("PGPASSWORD", pg::PASSWORD)
            .args(["-X", "-q", "-h", "127.0.0.1", "-U", pg::USER])
            .args(["-p", &pg.port.to_string(), "-d", db])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        writeln!(
            psql.stdin.as_mut().unwrap(),
            "begin; lock table {table} in access exclusive mode;"
        )
        .unwrap();
        let lock = TableLock(psql);
        wait_for("the table lock", 20, || {
            pg.psql(
                db,
                &format!("select count(*) from pg_locks where relation = '{table}'::regclass and mode = 'AccessExclusiveLock' and granted"),
            ) == "1"
        });
        lock
    }
}

impl Drop for TableLock {
    fn drop(&mut self) {
        // End of input: psql exits and the transaction (and its lock) ends with it.
        drop(self.0.stdin.take());
        let _ = self.0.wait();
    }
}

/// Connections of application `app` that the server still holds, with what they wait for.
fn connections(pg: &pg::Pg, app: &str) -> String {
    pg.psql(
        "postgres",
        &format!("select coalesce(string_agg(pid || ' ' || state || ' ' || coalesce(wait_event_type, '-'), ', '), '') from pg_stat_activity where application_name = '{app}'"),
    )
}

/// The PostgreSQL of these tests: its own cluster, so pg_dumpall meets no database another
/// test creates or drops meanwhile.
fn own_server() -> Option<&'static pg::Pg> {
    static PG: std::sync::OnceLock<Option<pg::Pg>> = std::sync::OnceLock::new();
    PG.get_or_init(pg::start).as_ref()
}

/// dbstash dumping `db` (or every database) of `pg` as application `app` into a local
/// remote; `app` appears in the dump tools' command lines and in `pg_stat_activity`.
fn blocked_backup(pg: &pg::Pg, db: &str, all: bool, app: &str, remote: &Path) -> Running {
    let mut d = pg
        .dbstash()
        .env("ENGINE", "pg")
        .env("DB_URI", format!("{}?application_name={app}", pg.uri(db)))
        .env("RCLONE_REMOTE", local_remote(remote))
        .env("BACKUP_SCHEDULE", "once");
    if all {
        d = d.env("BACKUP_ALL_DATABASES", "true");
    }
    d.spawn()
}

/// Wait until a dump of application `app` waits for a lock.
fn wait_until_blocked(pg: &pg::Pg, app: &str) {
    wait_for("the dump to block on the table lock", 60, || {
        connections(pg, app).contains("active Lock")
    });
}

#[test]
fn pg_dumpall_blocked_on_a_lock_leaves_no_process_and_no_connection_after_sigkill() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let Some(pg) = own_server() else { return };
    let db = pg.seeded_db("orphan_all");
    let app = unique("dbstash_orphan_all");
    let _lock = TableLock::take(pg, &db, "customers");
    let remote = tempfile::tempdir().unwrap();
    let running = blocked_backup(pg, &db, true, &app, remote.path());
    wait_until_blocked(pg, &app);
    // pg_dumpall runs pg_dump through `sh -c`: dbstash's grandchildren.
    let before = processes_mentioning(&app);
    assert!(
        before.iter().any(|p| p.contains("sh -c")) && before.len() >= 3,
        "pg_dumpall, sh and pg_dump expected: {before:?}"
    );
    let killed = Instant::now();
    running.sigkill();
    assert_no_process_left(&app, 10);
    // pg_dump was asked to stop (SIGTERM), so it cancelled its query: the server does not
    // keep the connection waiting for the lock.
    wait_for("the server to drop the dump's connections", 10, || {
        connections(pg, &app).is_empty()
    });
    eprintln!(
        "pg_dumpall's processes and connections gone {:?} after SIGKILL",
        killed.elapsed()
    );
}

#[test]
fn pg_dump_blocked_on_a_lock_leaves_no_connection_after_sigkill() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let Some(pg) = own_server() else { return };
    let db = pg.seeded_db("orphan_one");
    let app = unique("dbstash_orphan_one");
    let _lock = TableLock::take(pg, &db, "orders");
    let remote = tempfile::tempdir().unwrap();
    let running = blocked_backup(pg, &db, false, &app, remote.path());
    wait_until_blocked(pg, &app);
    running.sigkill();
    assert_no_process_left(&app, 10);
    // A SIGKILLed pg_dump would leave its backend waiting for the lock until it is released.
    wait_for("the server to drop the dump's connection", 10, || {
        connections(pg, &app).is_empty()
    });
}

/// A hook script whose background child (`naptime`, a link to sleep in the test's directory,
/// so the test can find it) runs until the hook ends.
fn hook_backup(tmp: &Path, hook: &str) -> Running {
    std::os::unix::fs::symlink(which("sleep").unwrap(), tmp.join("naptime")).unwrap();
    write_script(tmp, "pg_dump", "echo 'create table t(x int);'");
    Dbstash::new()
        .fake_bin(tmp)
        .env("FAKE_DIR", tmp)
        .env("ENGINE", "pg")
        .env("DB_HOST", "127.0.0.1")
        .env("DB_NAME", "app")
        .env("BACKUP_SCHEDULE", "once")
        .env("RCLONE_REMOTE", local_remote(&tmp.join("remote")))
        .env("HOOK_PRE_BACKUP", hook)
        .spawn()
}

/// dbstash's watchdog: the child of `pid` that runs `dbstash __watchdog`.
fn watchdog_of(pid: u32) -> Option<u32> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("children")).ok())
        .flat_map(|c| {
            c.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok())
                .collect::<Vec<_>>()
        })
        .find(|child| {
            std::fs::read(format!("/proc/{child}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains("\0__watchdog"))
        })
}

/// The process `pid` has exited (it may wait as a zombie for its new parent).
fn gone(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| {
        s.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X")
    })
}

#[test]
fn the_watchdog_runs_beside_dbstash_and_ends_with_it() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let running = hook_backup(tmp.path(), "sleep 1");
    let pid = running.child.id();
    let mut watchdog = None;
    wait_for("dbstash's watchdog", 10, || {
        watchdog = watchdog_of(pid);
        watchdog.is_some()
    });
    let watchdog = watchdog.unwrap();
    // It names itself first thing, before it tells dbstash it is ready (found before
    // that, it may still be `exe`).
    let comm = || std::fs::read_to_string(format!("/proc/{watchdog}/comm")).unwrap_or_default();
    wait_for("the watchdog's name in ps and top", 5, || {
        comm().trim() == "dbstash"
    });
    // Its own process group: a Ctrl-C at the terminal is dbstash's to handle.
    let pgid = |p: u32| unsafe { libc::getpgid(p as i32) };
    assert_eq!(pgid(watchdog), watchdog as i32);
    assert_ne!(pgid(watchdog), pgid(pid));
    let (code, stderr) = running.finish();
    assert_eq!(code, 0, "{stderr}");
    let ended = Instant::now();
    wait_for("the watchdog to end with dbstash", 2, || gone(watchdog));
    eprintln!("watchdog gone {:?} after dbstash exited", ended.elapsed());
}

#[test]
fn a_hooks_background_children_die_with_a_sigkilled_dbstash() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let naptime = tmp.path().join("naptime").display().to_string();
    let running = hook_backup(
        tmp.path(),
        r#""$FAKE_DIR/naptime" 1000 & "$FAKE_DIR/naptime" 1001 & wait"#,
    );
    wait_for("the hook's children", 10, || {
        processes_mentioning(&naptime).len() == 2
    });
    let watchdog = watchdog_of(running.child.id()).expect("dbstash's watchdog");
    running.sigkill();
    assert_no_process_left(&naptime, 5);
    wait_for("the watchdog to exit once done", 5, || gone(watchdog));
}

#[test]
fn a_hook_child_that_ignores_sigterm_is_killed_after_the_grace_period() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let naptime = tmp.path().join("naptime").display().to_string();
    // An ignored signal stays ignored across exec: naptime ignores SIGTERM too.
    let running = hook_backup(
        tmp.path(),
        r#"trap '' TERM; "$FAKE_DIR/naptime" 1000 & wait"#,
    );
    wait_for("the hook's child", 10, || {
        processes_mentioning(&naptime).len() == 1
    });
    let killed = Instant::now();
    running.sigkill();
    assert_no_process_left(&naptime, 12);
    let took = killed.elapsed();
    assert!(
        took >= Duration::from_secs(4),
        "SIGTERM first, SIGKILL after the grace period: gone after {took:?}"
    );
}

/// A dump tool that leaves a process running in its group (stdout elsewhere, so the dump
/// still ends) and then exits, 0 or 1: what it left ends with the run, not after it. Before,
/// the group was forgotten once the tool was reaped and the process outlived dbstash.
#[test]
fn what_a_dump_tool_leaves_in_its_group_ends_with_the_run() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    for code in [0, 1] {
        let tmp = tempfile::tempdir().unwrap();
        write_script(tmp.path(), "lingerer", "sleep 300");
        write_script(
            tmp.path(),
            "pg_dump",
            &format!(
                "\"$FAKE_DIR/lingerer\" >/dev/null 2>&1 &\necho 'create table t(x int);'\nexit {code}"
            ),
        );
        let remote = tmp.path().join("remote");
        let out = Dbstash::new()
            .fake_bin(tmp.path())
            .env("FAKE_DIR", tmp.path())
            .env("ENGINE", "pg")
            .env("DB_HOST", "127.0.0.1")
            .env("DB_NAME", "app")
            .env("BACKUP_SCHEDULE", "once")
            .env("RCLONE_REMOTE", local_remote(&remote))
            .run();
        out.assert_code(code);
        assert_no_process_left(&tmp.path().join("lingerer").display().to_string(), 2);
    }
}

/// A watchdog that does not read (stopped with SIGSTOP, frozen, traced) must not stop the
/// backups: a child registers its group without waiting. Before, once the socket's buffer
/// was full (some 15 runs of a daemon), the next child blocked between fork and exec, and
/// with it dbstash, deaf to BACKUP_TIMEOUT and SIGTERM, while /healthz said ok.
#[test]
fn a_stopped_watchdog_never_blocks_the_backups() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    write_script(tmp.path(), "pg_dump", "echo 'create table t(x int);'");
    write_script(tmp.path(), "psql", "echo 1");
    let port = free_port();
    let running = Dbstash::new()
        .fake_bin(tmp.path())
        .env("ENGINE", "pg")
        .env("DB_HOST", "127.0.0.1")
        .env("DB_NAME", "app")
        .env("BACKUP_SCHEDULE", "* * * * * *")
        .env("BACKUP_TIMEOUT", "20s")
        .env("HOOK_PRE_BACKUP", "true")
        .env("HOOK_POST_BACKUP", "true")
        .env("HEALTH_ADDR", format!("127.0.0.1:{port}"))
        .env("RCLONE_REMOTE", local_remote(&tmp.path().join("remote")))
        .spawn();
    let pid = running.child.id();
    let mut watchdog = None;
    wait_for("dbstash's watchdog", 20, || {
        watchdog = watchdog_of(pid);
        watchdog.is_some()
    });
    let watchdog = watchdog.unwrap();
    unsafe { libc::kill(watchdog as i32, libc::SIGSTOP) };
    let successes = || {
        http_get(port, "/metrics")
            .1
            .lines()
            .find(|l| l.starts_with("dbstash_backups_total") && l.contains("success"))
            .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let started = Instant::now();
    while successes() < 20.0 {
        if started.elapsed() > Duration::from_secs(120) {
            let n = successes();
            unsafe { libc::kill(watchdog as i32, libc::SIGCONT) };
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!(
                "only {n} backups in 120 s with the watchdog stopped:\n{}",
                running.finish().1
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    unsafe { libc::kill(watchdog as i32, libc::SIGCONT) };
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let (code, stderr) = running.finish();
    // 0 if idle, 1 if the signal stopped a run (a run starts every second).
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    wait_for("the watchdog to end with dbstash", 10, || gone(watchdog));
}
