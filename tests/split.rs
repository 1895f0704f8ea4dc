//! One object per database (BACKUP_SPLIT_DATABASES) against real PostgreSQL (a cluster of
//! its own per test: a split run lists every database of the server) and MariaDB (a user
//! that sees only its databases), through `rclone serve s3`: the right objects appear, a
//! database the backup user cannot read fails the run and is named while the others' backups
//! stay, each object restores alone, retention applies per database, a SIGTERM stops every
//! running dump. MongoDB by argv with fake `mongosh` and `mongodump`.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::process::Stdio;

use crate::compression::{remote, unzstd, Remote};
use crate::orphans::TableLock;
use crate::support::*;

const BACKUP_USER: &str = "bk";
const BACKUP_PASSWORD: &str = "bk-Secret-41";

/// Objects of a folder (sidecars apart) grouped by the database their name starts with
/// (`{db}-…` templates); every object must have its sidecar.
fn objects_by_db(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let files = all_files_in(dir);
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in files.iter().filter(|f| !f.ends_with(".sha256")) {
        assert!(
            !f.starts_with('.') && !f.contains("/."),
            "a staging or claim file stayed: {files:?}"
        );
        assert!(
            files.contains(&format!("{f}.sha256")),
            "{f} has no sidecar: {files:?}"
        );
        let db = f.split('-').next().unwrap().to_string();
        out.entry(db).or_default().push(f.clone());
    }
    out
}

/// The run part of a name `{db}-{date}-{time}-{uuid}.ext`: everything after the database.
fn run_part(name: &str) -> String {
    let rest = name.split_once('-').unwrap().1;
    rest.split('.').next().unwrap().to_string()
}

fn split_env(d: Dbstash, r: &Remote) -> Dbstash {
    r.on(d)
        .env("ENGINE", "pg")
        .env("BACKUP_ALL_DATABASES", "true")
        .env("BACKUP_SPLIT_DATABASES", "true")
        .env("BACKUP_NAME_TEMPLATE", "{db}-{date}-{time}-{uuid}")
}

/// A cluster of the test's own with a non-superuser backup role that can read two seeded
/// databases, and a third one it may not connect to.
struct PgSetup {
    pg: pg::Pg,
    app: String,
    shop: String,
    locked: String,
}

fn pg_setup() -> Option<PgSetup> {
    let pg = pg::start()?;
    pg.psql(
        "postgres",
        &format!("create role {BACKUP_USER} login password '{BACKUP_PASSWORD}'"),
    );
    let app = pg.seeded_db("app");
    let shop = pg.seeded_db("shop");
    for db in [&app, &shop] {
        pg.psql(
            db,
            &format!("grant select on all tables in schema public to {BACKUP_USER}; grant select on all sequences in schema public to {BACKUP_USER}"),
        );
    }
    let locked = pg.seeded_db("locked");
    pg.psql(
        "postgres",
        &format!("revoke connect on database {locked} from public"),
    );
    Some(PgSetup {
        pg,
        app,
        shop,
        locked,
    })
}

#[test]
fn pg_one_object_per_database_the_unreadable_one_named_the_others_restorable() {
    let Some(s3) = s3::server() else { return };
    let Some(PgSetup {
        pg,
        app,
        shop,
        locked,
    }) = pg_setup()
    else {
        return;
    };
    let r = remote(s3, "split-pg");
    let as_backup_user = |d: Dbstash| {
        split_env(d, &r)
            .env("DB_HOST", "127.0.0.1")
            .env("DB_PORT", pg.port.to_string())
            .env("DB_USER", BACKUP_USER)
            .env("DB_PASSWORD", BACKUP_PASSWORD)
    };

    // 1. The backup role: not a superuser, no CONNECT on `locked`.
    let out = as_backup_user(pg.dbstash())
        .env("BACKUP_COMPRESS", "true")
        .env("BACKUP_PARALLELISM", "2")
        .run();
    out.assert_code(1);
    assert!(
        out.stderr
            .contains(&format!("1 of 5 backups failed: {locked}")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("permission denied for database"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(BACKUP_PASSWORD), "{}", out.stderr);
    let objects = objects_by_db(&r.dir);
    let dbs: Vec<&str> = objects.keys().map(String::as_str).collect();
    let mut want = vec!["globals", "postgres", app.as_str(), shop.as_str()];
    want.sort();
    assert_eq!(dbs, want, "template1 is a system database, {locked} failed");
    let runs: std::collections::BTreeSet<String> =
        objects.values().flatten().map(|n| run_part(n)).collect();
    assert_eq!(runs.len(), 1, "one run, one time and id: {objects:?}");

    // Each restores alone: the custom-format dump of app into a new database.
    let app_file = &objects[&app][0];
    assert!(app_file.ends_with(".dump"), "{app_file}");
    let copy = unique("apprestored");
    pg.create_db(&copy);
    pg.restore_custom(&copy, &r.dir.join(app_file));
    assert_eq!(pg.contents(&copy), pg.contents(&app));
    let shop_copy = unique("shoprestored");
    pg.create_db(&shop_copy);
    pg.restore_custom(&shop_copy, &r.dir.join(&objects[&shop][0]));
    assert_eq!(pg.contents(&shop_copy), pg.contents(&shop));

    // The globals: roles without their passwords (only a superuser may read them), in-process
    // zstd (pg_dumpall writes plain SQL).
    let globals = &objects["globals"][0];
    assert!(globals.ends_with(".sql.zst"), "{globals}");
    let sql = String::from_utf8(unzstd(&r.dir.join(globals))).unwrap();
    assert!(
        sql.contains(&format!("CREATE ROLE {BACKUP_USER};")),
        "{sql}"
    );
    assert!(!sql.contains("SCRAM-SHA-256"), "{sql}");
    assert!(
        out.stderr.contains("without the roles' passwords"),
        "{}",
        out.stderr
    );

    // 2. The superuser, template1 included, `locked` and `postgres` excluded, one backup kept
    // per database: retention per database, never touching the others.
    let out = split_env(pg.dbstash(), &r)
        .env("DB_URI", pg.uri("postgres"))
        .env("BACKUP_COMPRESS", "true")
        .env("BACKUP_INCLUDE_DATABASES", "template1")
        .env("BACKUP_EXCLUDE_DATABASES", format!("{locked},postgres"))
        .env("BACKUP_PARALLELISM", "3")
        .env("RETENTION_MAX_FILES", "1")
        .env("VERIFY_AFTER_BACKUP", "true")
        .run();
    out.assert_code(0);
    // Each database's backup is verified on its own, the globals too.
    let verified = out
        .stderr
        .lines()
        .filter(|l| l.contains("backup verified"))
        .count();
    let written = out
        .stderr
        .lines()
        .filter(|l| l.contains("backup succeeded engine=pg") && !l.contains("database=all"))
        .count();
    assert!(verified >= 5 && verified == written, "{}", out.stderr);
    // Each database is a backup of its own (its own backup_id: claims, staging and upload
    // tags never mistake another's object for its own), all in one run (run_id, {uuid}).
    let field = |line: &str, k: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{k}=")))
            .map(str::to_string)
    };
    let done: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("backup succeeded engine=pg") && !l.contains("database=all"))
        .collect();
    assert!(done.len() >= 4, "{}", out.stderr);
    let ids: std::collections::BTreeSet<Option<String>> =
        done.iter().map(|l| field(l, "backup_id")).collect();
    assert_eq!(ids.len(), done.len(), "{done:?}");
    let runs: std::collections::BTreeSet<Option<String>> =
        done.iter().map(|l| field(l, "run_id")).collect();
    assert_eq!(runs.len(), 1, "{done:?}");
    let run = runs.into_iter().next().flatten().unwrap();
    assert!(!ids.contains(&Some(run.clone())));
    let after = objects_by_db(&r.dir);
    for db in ["globals", "template1", app.as_str(), shop.as_str()] {
        assert_eq!(after[db].len(), 1, "{db}: {after:?}");
        assert!(after[db][0].contains(&run), "named for the run: {after:?}");
        assert_ne!(
            after[db][0],
            objects.get(db).map_or(String::new(), |o| o[0].clone())
        );
    }
    assert_eq!(
        after["postgres"], objects["postgres"],
        "an excluded database's backups are not this run's to delete"
    );
    let sql = String::from_utf8(unzstd(&r.dir.join(&after["globals"][0]))).unwrap();
    assert!(
        sql.contains("SCRAM-SHA-256"),
        "a superuser's globals keep the passwords: {sql}"
    );

    // `dbstash check` lists what a run would back up now.
    let out = as_backup_user(pg.dbstash())
        .env("BACKUP_EXCLUDE_DATABASES", format!("{shop},gone_db"))
        .args(["check"])
        .run();
    out.assert_code(0);
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("databases "))
        .unwrap_or_else(|| panic!("{}", out.stdout))
        .to_string();
    let (n, dbs) = pg
        .psql(
            "postgres",
            &format!("select count(*) || '|' || string_agg(datname, ', ' order by datname collate \"C\") from pg_database where datallowconn and datname not in ('template1', '{shop}')"),
        )
        .split_once('|')
        .map(|(n, d)| (n.to_string(), d.to_string()))
        .unwrap();
    assert!(
        line.contains(&format!("ok    {n} to back up: {dbs}, and the globals")),
        "{line}"
    );
    assert!(
        line.contains("system databases skipped: template1"),
        "{line}"
    );
    assert!(line.contains(&format!("excluded: {shop}")), "{line}");
    assert!(
        line.contains("names gone_db, which the server does not list"),
        "{line}"
    );
}

#[test]
fn split_settings_that_cannot_work_exit_2_naming_the_variable() {
    for (env, needle) in [
        (
            vec![("BACKUP_SPLIT_DATABASES", "true"), ("DB_NAME", "app")],
            "needs BACKUP_ALL_DATABASES=true",
        ),
        (
            vec![
                ("BACKUP_ALL_DATABASES", "true"),
                ("BACKUP_SPLIT_DATABASES", "true"),
                ("BACKUP_NAME_TEMPLATE", "nightly-{ts}"),
            ],
            "BACKUP_NAME_TEMPLATE",
        ),
        (
            vec![("DB_NAME", "app"), ("BACKUP_EXCLUDE_DATABASES", "x")],
            "BACKUP_EXCLUDE_DATABASES (--backup-exclude-databases): only applies with BACKUP_SPLIT_DATABASES=true",
        ),
        (
            vec![
                ("BACKUP_ALL_DATABASES", "true"),
                ("BACKUP_SPLIT_DATABASES", "true"),
                ("BACKUP_PARALLELISM", "0"),
            ],
            "BACKUP_PARALLELISM",
        ),
    ] {
        let mut d = Dbstash::new()
            .env("ENGINE", "pg")
            .env("DB_HOST", "127.0.0.1")
            .env("RCLONE_REMOTE", ":local:/nonexistent-dbstash-split")
            .env("BACKUP_SCHEDULE", "once");
        for (k, v) in &env {
            d = d.env(k, v);
        }
        let out = d.run();
        out.assert_code(2);
        assert!(out.stderr.contains(needle), "{env:?}: {}", out.stderr);
    }
    let out = Dbstash::new()
        .env("ENGINE", "redis")
        .env("DB_HOST", "127.0.0.1")
        .env("BACKUP_SPLIT_DATABASES", "true")
        .env("BACKUP_ALL_DATABASES", "true")
        .env("RCLONE_REMOTE", ":local:/nonexistent-dbstash-split")
        .env("BACKUP_SCHEDULE", "once")
        .run();
    out.assert_code(2);
    assert!(
        out.stderr.contains("BACKUP_SPLIT_DATABASES"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_included_database_the_server_does_not_have_fails_the_run_before_any_dump() {
    let Some(s3) = s3::server() else { return };
    let Some(pg) = pg::server() else { return };
    let r = remote(s3, "split-missing");
    let out = split_env(pg.dbstash(), &r)
        .env("DB_URI", pg.uri("postgres"))
        .env("BACKUP_INCLUDE_DATABASES", "no_such_db_4711")
        .run();
    out.assert_code(1);
    assert!(
        out.stderr
            .contains("BACKUP_INCLUDE_DATABASES names 'no_such_db_4711'"),
        "{}",
        out.stderr
    );
    assert_eq!(all_files_in(&r.dir), Vec::<String>::new());

    // A listing that fails (a wrong password) fails the run, saying what failed.
    let out = split_env(pg.dbstash(), &r)
        .env("DB_HOST", "127.0.0.1")
        .env("DB_PORT", pg.port.to_string())
        .env("DB_USER", pg::USER)
        .env("DB_PASSWORD", "wrong-password-1")
        .run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("listing the databases"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("wrong-password-1"), "{}", out.stderr);
    assert_eq!(all_files_in(&r.dir), Vec::<String>::new());
}

#[test]
fn mariadb_a_user_sees_its_databases_the_unreadable_one_fails_the_others_restore() {
    let Some(s3) = s3::server() else { return };
    let Some(m) = mariadb::server() else { return };
    let user = unique("spu");
    let password = "Maria-split-9";
    let one = m.seeded_db("spa");
    let two = m.seeded_db("spb");
    let three = m.seeded_db("spc");
    m.sql(
        "",
        &format!(
            "CREATE USER '{user}'@'%' IDENTIFIED BY '{password}';
             GRANT ALL PRIVILEGES ON `{one}`.* TO '{user}'@'%';
             GRANT ALL PRIVILEGES ON `{two}`.* TO '{user}'@'%';
             GRANT INSERT ON `{three}`.* TO '{user}'@'%';"
        ),
    );
    let r = remote(s3, "split-maria");
    let out = r
        .on(m.dbstash())
        .env("ENGINE", "mariadb")
        .env("DB_HOST", "127.0.0.1")
        .env("DB_PORT", m.port.to_string())
        .env("DB_USER", &user)
        .env("DB_PASSWORD", password)
        .env("BACKUP_ALL_DATABASES", "true")
        .env("BACKUP_SPLIT_DATABASES", "true")
        .env("BACKUP_PARALLELISM", "2")
        .run();
    out.assert_code(1);
    assert!(
        out.stderr
            .contains(&format!("1 of 3 backups failed: {three}")),
        "{}",
        out.stderr
    );
    let objects = objects_by_db(&r.dir);
    let dbs: Vec<&str> = objects.keys().map(String::as_str).collect();
    assert_eq!(
        dbs,
        [one.as_str(), two.as_str()],
        "information_schema is a system database, {three} failed"
    );
    // Each restores alone, into a database of another name.
    for db in [&one, &two] {
        let file = r.dir.join(&objects[db][0]);
        let copy = unique("sprestored");
        m.create_db(&copy);
        m.restore(&copy, &file);
        assert_eq!(m.contents(&copy), m.contents(db), "{db}");
    }
}

#[test]
fn sigterm_stops_every_running_dump_and_leaves_no_partial_object() {
    let Some(s3) = s3::server() else { return };
    let Some(pg) = pg::start() else { return };
    let a = pg.seeded_db("terma");
    let b = pg.seeded_db("termb");
    let c = pg.seeded_db("termc");
    let locks = [
        TableLock::take(&pg, &a, "customers"),
        TableLock::take(&pg, &b, "customers"),
    ];
    let r = remote(s3, "split-term");
    let app = unique("splitterm");
    let running = split_env(pg.dbstash(), &r)
        .env(
            "DB_URI",
            format!("{}?application_name={app}", pg.uri("postgres")),
        )
        .env("BACKUP_PARALLELISM", "2")
        .env("BACKUP_EXCLUDE_DATABASES", "postgres")
        .spawn();
    let waiting = || {
        pg.psql(
            "postgres",
            &format!("select count(*) from pg_stat_activity where application_name = '{app}' and wait_event_type = 'Lock'"),
        )
    };
    wait_for("both dumps to wait for their table locks", 60, || {
        waiting() == "2"
    });
    let pid = running.child.id() as i32;
    unsafe { libc::kill(pid, libc::SIGTERM) };
    // A dbstash that does not stop is killed after 30 s (and the test fails on its code).
    let (done, watched) = std::sync::mpsc::channel::<()>();
    let guard = std::thread::spawn(move || {
        if watched
            .recv_timeout(std::time::Duration::from_secs(30))
            .is_err()
        {
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    let (code, stderr) = running.finish();
    let _ = done.send(());
    guard.join().unwrap();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("interrupted by SIGTERM"), "{stderr}");
    assert!(
        stderr.contains(&format!("{c}: not started: interrupted by SIGTERM")),
        "{c} never started: {stderr}"
    );
    // The globals finished before; nothing of the interrupted databases stays.
    let objects = objects_by_db(&r.dir);
    let dbs: Vec<&str> = objects.keys().map(String::as_str).collect();
    assert_eq!(dbs, ["globals"], "{:?}", all_files_in(&r.dir));
    wait_for("no process of the run left", 10, || {
        processes_mentioning(&app).is_empty()
    });
    // Each dump was stopped with SIGTERM first, so it cancelled its query: the server drops
    // the connections while the locks are still held (a SIGKILLed pg_dump cannot, and its
    // backend would wait for the lock).
    wait_for("the server to drop the dumps' connections", 10, || {
        pg.psql(
            "postgres",
            &format!("select count(*) from pg_stat_activity where application_name = '{app}'"),
        ) == "0"
    });
    drop(locks);
}

#[test]
fn mongo_lists_with_mongosh_the_password_never_on_argv_system_databases_skipped() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let fake = tempfile::tempdir().unwrap();
    // admin, config, local, app, "we ird" (a space), hex-encoded as the real script prints them.
    write_script(
        fake.path(),
        "mongosh",
        r#"echo "$@" > "$FAKE_DIR/mongosh.argv"
printf '%s' "$DBSTASH_MONGO_URI" > "$FAKE_DIR/mongosh.uri"
printf '61646d696e\n636f6e666967\n6c6f63616c\n617070\n776520697264\n'"#,
    );
    write_script(
        fake.path(),
        "mongodump",
        r#"for a in "$@"; do case "$a" in --db=*) echo "$@" > "$FAKE_DIR/argv.${a#--db=}" ;; esac; done
printf '\155\342\231\201'; printf 'data-%s\n' $(seq 1 100)"#,
    );
    let dir = tempfile::tempdir().unwrap();
    let out = Dbstash::new()
        .fake_bin(fake.path())
        .env("FAKE_DIR", fake.path())
        .env("ENGINE", "mongo")
        .env("DB_URI", "mongodb://root:Mongo%24plit@m1:27017/?tls=true")
        .env("BACKUP_ALL_DATABASES", "true")
        .env("BACKUP_SPLIT_DATABASES", "true")
        .env("RCLONE_REMOTE", local_remote(dir.path()))
        .env("BACKUP_SCHEDULE", "once")
        .run();
    out.assert_code(0);
    let read = |f: &str| std::fs::read_to_string(fake.path().join(f)).unwrap_or_default();
    let argv = read("mongosh.argv");
    assert!(argv.starts_with("--nodb --quiet --norc --eval "), "{argv}");
    assert!(!argv.contains("Mongo"), "password on argv: {argv}");
    assert_eq!(
        read("mongosh.uri"),
        "mongodb://root:Mongo%24plit@m1:27017/?tls=true&authSource=admin"
    );
    for db in ["app", "we ird"] {
        let argv = read(&format!("argv.{db}"));
        assert!(argv.contains(&format!("--db={db}")), "{db}: {argv}");
        assert!(!argv.contains("Mongo$plit"), "{argv}");
    }
    for system in ["admin", "config", "local"] {
        assert!(
            !fake.path().join(format!("argv.{system}")).exists(),
            "{system} is a system database"
        );
    }
    let objects = objects_by_db(dir.path());
    let dbs: Vec<&str> = objects.keys().map(String::as_str).collect();
    assert_eq!(dbs, ["app", "we ird"], "no globals object for mongo");
}

/// `dbstash --dry-run` of a split configuration says how the databases are found and what
/// each one's backup is, and runs nothing.
#[test]
fn the_dry_run_describes_the_listing_and_one_database() {
    let out = Dbstash::new()
        .env("ENGINE", "mysql")
        .env("DB_HOST", "127.0.0.1")
        .env("DB_PASSWORD", "dry-Secret-5")
        .env("BACKUP_ALL_DATABASES", "true")
        .env("BACKUP_SPLIT_DATABASES", "true")
        .env("BACKUP_EXCLUDE_DATABASES", "scratch")
        .env("RCLONE_REMOTE", ":local:/nonexistent-dbstash-split")
        .env("BACKUP_SCHEDULE", "once")
        .env("DRY_RUN", "true")
        .run();
    out.assert_code(0);
    for needle in [
        "BACKUP_SPLIT_DATABASES true",
        "listed at run time with: MYSQL_PWD=*** mysql",
        "skipped unless in BACKUP_INCLUDE_DATABASES: information_schema, performance_schema, mysql, sys",
        "BACKUP_EXCLUDE_DATABASES: scratch",
        "Each database, shown for one named <db>:",
        "mysqldump",
    ] {
        assert!(out.stdout.contains(needle), "{needle}: {}", out.stdout);
    }
    assert!(!out.stdout.contains("dry-Secret-5"));
}

/// `dbstash prune` of a split configuration keeps RETENTION_MAX_FILES per database (and for
/// pg's globals), never touching a dump of all databases or another engine's objects.
#[test]
fn prune_applies_retention_to_each_database_apart() {
    let Some(s3) = s3::server() else { return };
    let r = remote(s3, "split-prune");
    let put = |name: &str, day: u32| {
        let target = format!("{}/{name}", r.remote);
        r.rclone(&["rcat", &target], name.as_bytes());
        let sum = format!("{}  {name}\n", sha256_hex_of(name.as_bytes()));
        r.rclone(&["rcat", &format!("{target}.sha256")], sum.as_bytes());
        let at = format!("2026-01-{day:02}T03:00:00");
        r.rclone(&["touch", "--no-create", "--timestamp", &at, &target], b"");
    };
    let name =
        |db: &str, day: u32, ext: &str| format!("{db}-2026-01-{day:02}-030000-0000000{day}{ext}");
    for day in 1..=3 {
        put(&name("app", day, ".sql"), day);
    }
    put(&name("shop", 2, ".sql"), 2);
    put(&name("globals", 1, ".sql"), 1);
    put(&name("globals", 2, ".sql"), 2);
    put(&name("all", 1, ".sql"), 1);
    put(&name("all", 2, ".sql"), 2);
    let prune = |dry: bool| {
        let mut d = split_env(Dbstash::new(), &r)
            .env("DB_HOST", "127.0.0.1")
            .env("RETENTION_MAX_FILES", "1")
            .args(["prune"]);
        if dry {
            d = d.args(["--dry-run"]);
        }
        d.run()
    };
    let out = prune(true);
    out.assert_code(0);
    assert!(
        out.stdout
            .lines()
            .next()
            .unwrap()
            .starts_with("DATABASE  NAME"),
        "{}",
        out.stdout
    );
    let doomed = |stdout: &str| -> Vec<String> {
        stdout
            .lines()
            .filter(|l| l.contains("would delete: "))
            .map(|l| l.split_whitespace().nth(1).unwrap().to_string())
            .collect()
    };
    let mut want = vec![
        name("app", 1, ".sql"),
        name("app", 2, ".sql"),
        name("globals", 1, ".sql"),
    ];
    want.sort();
    let mut got = doomed(&out.stdout);
    got.sort();
    assert_eq!(got, want, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("3 kept, 3 would delete (DRY_RUN: nothing deleted)"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("all-2026"), "{}", out.stdout);

    // `list` shows the same verdicts (RETENTION column) without deleting anything.
    let listed = split_env(Dbstash::new(), &r)
        .env("DB_HOST", "127.0.0.1")
        .env("RETENTION_MAX_FILES", "1")
        .args(["list"])
        .run();
    listed.assert_code(0);
    let mut got = doomed(&listed.stdout);
    got.sort();
    assert_eq!(got, want, "{}", listed.stdout);
    assert!(listed.stdout.contains("RETENTION"), "{}", listed.stdout);
    let before = all_files_in(&r.dir);
    assert_eq!(before.len(), 16, "{before:?}");

    let out = prune(false);
    out.assert_code(0);
    let left: Vec<String> = all_files_in(&r.dir)
        .into_iter()
        .filter(|f| !f.ends_with(".sha256"))
        .collect();
    assert_eq!(
        left,
        [
            name("all", 1, ".sql"),
            name("all", 2, ".sql"),
            name("app", 3, ".sql"),
            name("globals", 2, ".sql"),
            name("shop", 2, ".sql"),
        ],
        "{}",
        out.stdout
    );
}

fn sha256_hex_of(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// Database names come from the server, so a tenant who may create databases chooses them:
/// names that libpq reads as connection settings (`a=b`, `postgresql://elsewhere/x`, which
/// would send the password to another host), that a tool reads as a flag (`-dash`), with a
/// quote, a newline, a `/`, or the reserved `all` and `globals`: each is backed up as itself,
/// under an escaped name, and says so inside.
#[test]
fn hostile_database_names_are_each_backed_up_as_themselves() {
    // pg's longest name (63 bytes): with this template its object's name is too long for a
    // remote, which the configuration check (made with a short name) could not know.
    const LONG: &str = "l23456789012345678901234567890123456789012345678901234567890123";
    let literal = "x".repeat(150);
    let Some(s3) = s3::server() else { return };
    let Some(pg) = pg::start() else { return };
    let names = [
        "a=b",
        "postgresql://127.0.0.1:1/evil",
        "-dash",
        "quo'te",
        "new\nline",
        "x/y",
        "all",
        "globals",
        LONG,
    ];
    for n in names {
        let mut psql = pg
            .client("psql")
            .args(["-X", "-q", "-d", "postgres"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        let ident = n.replace('"', "\"\"");
        writeln!(psql.stdin.as_mut().unwrap(), "create database \"{ident}\";").unwrap();
        drop(psql.stdin.take());
        assert!(psql.wait().unwrap().success(), "{n:?}");
    }
    let r = remote(s3, "split-hostile");
    let out = split_env(pg.dbstash(), &r)
        .env("DB_HOST", "127.0.0.1")
        .env("DB_PORT", pg.port.to_string())
        .env("DB_USER", pg::USER)
        .env("DB_PASSWORD", pg::PASSWORD)
        .env("BACKUP_COMPRESS", "true")
        .env("BACKUP_EXCLUDE_DATABASES", "postgres")
        .env(
            "BACKUP_NAME_TEMPLATE",
            format!("{{db}}-{literal}-{{date}}-{{time}}-{{uuid}}"),
        )
        .run();
    out.assert_code(1);
    assert!(
        out.stderr
            .contains(&format!("1 of 10 backups failed: {LONG}")),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("over the 255 bytes"), "{}", out.stderr);
    let files = all_files_in(&r.dir);
    for (db, escaped) in [
        ("a=b", "a=b"),
        (
            "postgresql://127.0.0.1:1/evil",
            "postgresql:%2F%2F127.0.0.1:1%2Fevil",
        ),
        ("-dash", "-dash"),
        ("quo'te", "quo'te"),
        ("new\nline", "new%0Aline"),
        ("x/y", "x%2Fy"),
        ("all", "%61ll"),
        ("globals", "%67lobals"),
    ] {
        let object = files
            .iter()
            .find(|f| f.starts_with(&format!("{escaped}-{literal}-")) && f.ends_with(".dump"))
            .unwrap_or_else(|| panic!("{db:?}: no {escaped}-….dump in {files:?}"));
        let toc = pg
            .client("pg_restore")
            .arg("-l")
            .arg(r.dir.join(object))
            .output()
            .unwrap();
        let toc = String::from_utf8_lossy(&toc.stdout).into_owned();
        // pg_restore -l shows a newline in the name as a space.
        let inside = db.replace('\n', " ");
        assert!(
            toc.lines().any(|l| l == format!(";     dbname: {inside}")),
            "{db:?} holds another database: {toc}"
        );
    }
    assert!(
        files
            .iter()
            .any(|f| f.starts_with("globals-") && f.ends_with(".sql.zst")),
        "{files:?}"
    );
}
