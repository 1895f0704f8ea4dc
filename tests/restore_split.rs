//! `list`, `verify` and `restore` of BACKUP_SPLIT_DATABASES backups with the real binary:
//! one object per database (and PostgreSQL's globals object) written by a real split run into
//! `rclone serve s3`, then listed, verified, corrupted and restored into real servers.
//!
//! PostgreSQL gets a server of its own: a split run backs up every database of the server, and
//! the shared one holds the other tests' databases.

use crate::compression::{remote, Remote};
use crate::support::mariadb::{self, Maria};
use crate::support::pg::{self, Pg};
use crate::support::*;

const DBS: [&str; 3] = ["app", "shop", "logs"];
const ROLE: &str = "split_reader";

/// dbstash on `pg` with the backups in `r`, every database split (DB_NAME unset).
fn split_pg(pg: &Pg, r: &Remote) -> Dbstash {
    r.on(pg.dbstash())
        .env("ENGINE", "pg")
        .env("DB_HOST", "127.0.0.1")
        .env("DB_PORT", pg.port.to_string())
        .env("DB_USER", pg::USER)
        .env("DB_PASSWORD", pg::PASSWORD)
        .env("BACKUP_ALL_DATABASES", "true")
        .env("BACKUP_SPLIT_DATABASES", "true")
}

/// A table of its own in each database, so that a database restored into the wrong place
/// shows.
fn seed(pg: &Pg, db: &str, rows: u32) {
    pg.psql("postgres", &format!("create database {db}"));
    pg.psql(
        db,
        &format!(
            "create table items(id int primary key, owner text, note text);
             insert into items select g, '{db}', repeat(md5(g::text), 2) from generate_series(1, {rows}) g;
             create table {db}_only(x int); insert into {db}_only values ({rows});"
        ),
    );
}

fn contents(pg: &Pg, db: &str) -> String {
    let items = pg.psql(
        db,
        "select count(*) || ' ' || md5(string_agg(format('%s|%s|%s', id, owner, note), ',' order by id)) from items",
    );
    let tables = pg.psql(
        db,
        "select string_agg(tablename, ',' order by tablename) from pg_tables where schemaname = 'public'",
    );
    format!("{items} / {tables}")
}

fn db_exists(pg: &Pg, db: &str) -> bool {
    pg.psql(
        "postgres",
        &format!("select count(*) from pg_database where datname = '{db}'"),
    ) == "1"
}

fn role_exists(pg: &Pg, role: &str) -> bool {
    pg.psql(
        "postgres",
        &format!("select count(*) from pg_roles where rolname = '{role}'"),
    ) == "1"
}

fn drop_db(pg: &Pg, db: &str) {
    pg.psql(
        "postgres",
        &format!("drop database if exists {db} with (force)"),
    );
}

/// The backup objects (not sidecars) in the remote folder.
fn objects(r: &Remote) -> Vec<String> {
    files_in(&r.dir)
        .into_iter()
        .filter(|n| !n.ends_with(".sha256"))
        .collect()
}

fn object_of(r: &Remote, db: &str) -> String {
    let objs = objects(r);
    objs.iter()
        .find(|n| n.starts_with(&format!("{db}-")))
        .unwrap_or_else(|| panic!("no object of {db} in {objs:?}"))
        .clone()
}

#[test]
fn pg_split_run_is_listed_verified_and_restored_database_by_database() {
    let Some(pg) = pg::start() else { return };
    let Some(s3) = s3::server() else { return };
    for (i, db) in DBS.iter().enumerate() {
        seed(&pg, db, 100 * (i as u32 + 1));
    }
    pg.psql(
        "postgres",
        &format!("create role {ROLE} login password 'Reader-Pw-1' connection limit 7"),
    );
    let before: Vec<String> = DBS.iter().map(|db| contents(&pg, db)).collect();
    let r = remote(s3, "split-pg");
    let out = split_pg(&pg, &r).env("BACKUP_SCHEDULE", "once").run();
    out.assert_code(0);
    let objs = objects(&r);
    // `postgres` too: only template0 and template1 are system databases.
    assert_eq!(
        objs.len(),
        5,
        "globals, postgres and three databases: {objs:?}"
    );
    let globals = object_of(&r, "globals");
    assert!(globals.ends_with(".sql"), "{globals}");

    // list: every object, with its database.
    let out = split_pg(&pg, &r).args(["list"]).run();
    out.assert_code(0);
    let header = out.stdout.lines().next().unwrap_or_default();
    assert!(header.starts_with("DATABASE  NAME"), "{}", out.stdout);
    for db in ["globals", "app", "shop", "logs"] {
        let name = object_of(&r, db);
        assert!(
            out.stdout.lines().any(|l| l.starts_with(&format!("{db} "))
                && l.contains(&name)
                && l.ends_with("ok")),
            "{db} ({name}) in\n{}",
            out.stdout
        );
    }
    assert!(out.stdout.contains("5 backups in"), "{}", out.stdout);
    let out = split_pg(&pg, &r).args(["list", "--format", "json"]).run();
    out.assert_code(0);
    let rows: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 5, "{}", out.stdout);
    let app = rows
        .iter()
        .find(|r| r["database"] == "app")
        .unwrap_or_else(|| panic!("no database app in {}", out.stdout));
    assert_eq!(app["name"], object_of(&r, "app").as_str());
    assert_eq!(app["state"], "ok");
    assert_eq!(app["sha256"].as_str().map(str::len), Some(64), "{app}");

    // verify: every object of the run.
    let out = split_pg(&pg, &r)
        .args(["verify", "--backup", "latest"])
        .run();
    out.assert_code(0);
    for db in ["globals", "app", "shop", "logs"] {
        assert!(
            out.stdout.contains(&format!("{db}: checksum")),
            "{db}: {}",
            out.stdout
        );
    }
    assert!(out.stdout.ends_with("verify passed\n"), "{}", out.stdout);
    let out = split_pg(&pg, &r)
        .args(["verify", "--restore-database", "globals"])
        .run();
    out.assert_code(0);
    assert!(out.stdout.contains(&globals), "{}", out.stdout);

    // Everything gone, then the latest run back: globals first, each database by its name.
    for db in DBS {
        drop_db(&pg, db);
    }
    pg.psql("postgres", &format!("drop role {ROLE}"));
    let out = split_pg(&pg, &r)
        .args(["restore", "--backup", "latest"])
        .run();
    out.assert_code(0);
    assert!(role_exists(&pg, ROLE), "{}", out.stderr);
    assert_eq!(
        pg.psql(
            "postgres",
            &format!("select rolconnlimit from pg_roles where rolname = '{ROLE}'")
        ),
        "7"
    );
    for (db, want) in DBS.iter().zip(&before) {
        assert_eq!(&contents(&pg, db), want, "{db}: {}", out.stderr);
    }
    let globals_at = out.stderr.find("database=globals").unwrap_or(usize::MAX);
    let app_at = out.stderr.find("database=app").unwrap_or(0);
    assert!(globals_at < app_at, "globals first: {}", out.stderr);
    assert!(
        out.stderr.contains("every database of the run restored"),
        "{}",
        out.stderr
    );

    // One database that has tables: refused as in a single-database restore, the others
    // still restored (the globals' existing role is no error), exit 1 naming it.
    drop_db(&pg, "shop");
    pg.psql("logs", "insert into items values (100000, 'later', 'x')");
    drop_db(&pg, "app");
    pg.psql("postgres", "create database app");
    pg.psql("app", "create table squatter(x int)");
    let out = split_pg(&pg, &r)
        .args(["restore", "--backup", "latest"])
        .run();
    out.assert_code(1);
    assert_eq!(contents(&pg, "shop"), before[1], "{}", out.stderr);
    assert!(
        pg.try_psql("app", "select count(*) from items").is_err(),
        "app was refused, untouched"
    );
    assert!(
        out.stderr
            .contains("restore failed for database(s) app, logs"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("already has 1 table(s)"),
        "{}",
        out.stderr
    );

    // --restore-drop-existing applies to each database.
    let out = split_pg(&pg, &r)
        .args(["restore", "--backup", "latest", "--restore-drop-existing"])
        .run();
    out.assert_code(0);
    for (db, want) in DBS.iter().zip(&before) {
        assert_eq!(&contents(&pg, db), want, "{db}: {}", out.stderr);
    }

    // One database alone: its newest backup; the others untouched.
    drop_db(&pg, "app");
    pg.psql("logs", "insert into items values (100000, 'later', 'x')");
    let out = split_pg(&pg, &r)
        .args(["restore", "--restore-database", "app"])
        .run();
    out.assert_code(0);
    assert_eq!(contents(&pg, "app"), before[0], "{}", out.stderr);
    assert_ne!(contents(&pg, "logs"), before[2], "logs was not restored");

    // Into another name.
    let out = split_pg(&pg, &r)
        .args([
            "restore",
            "--restore-database",
            "app",
            "--restore-target-db",
            "app_copy",
        ])
        .run();
    out.assert_code(0);
    assert_eq!(contents(&pg, "app_copy"), before[0], "{}", out.stderr);
    // An object by its exact name goes into the database it holds.
    drop_db(&pg, "shop");
    let out = split_pg(&pg, &r)
        .args(["restore", "--backup", &object_of(&r, "shop")])
        .run();
    out.assert_code(0);
    assert_eq!(contents(&pg, "shop"), before[1], "{}", out.stderr);
    // The globals alone, over roles that exist: their CREATE ROLE errors are tolerated.
    let out = split_pg(&pg, &r)
        .args(["restore", "--restore-database", "globals"])
        .run();
    out.assert_code(0);

    // Flags that cannot apply: exit 2, naming them, nothing touched.
    let out = split_pg(&pg, &r)
        .args(["restore", "--restore-target-db", "elsewhere"])
        .run();
    out.assert_code(2);
    assert!(out.stderr.contains("RESTORE_TARGET_DB"), "{}", out.stderr);
    assert!(!db_exists(&pg, "elsewhere"));
    let out = split_pg(&pg, &r)
        .args([
            "restore",
            "--restore-database",
            "app",
            "--backup",
            &object_of(&r, "shop"),
        ])
        .run();
    out.assert_code(2);
    assert!(out.stderr.contains("RESTORE_DATABASE"), "{}", out.stderr);
    let out = split_pg(&pg, &r)
        .args(["restore", "--restore-output", "/tmp/x.sql"])
        .run();
    out.assert_code(2);
    assert!(out.stderr.contains("RESTORE_OUTPUT"), "{}", out.stderr);
    // A database without backups: exit 1, saying which have some.
    let out = split_pg(&pg, &r)
        .args(["restore", "--restore-database", "nosuch"])
        .run();
    out.assert_code(1);
    assert!(!db_exists(&pg, "nosuch"));

    // One object of the run corrupted (its bytes replaced through rclone, the sidecar kept):
    // verify fails naming that database; restore restores the others and fails naming it.
    let shop = object_of(&r, "shop");
    r.rclone(
        &["rcat", &format!("{}/{shop}", r.remote)],
        b"-- not the backup\n",
    );
    let out = split_pg(&pg, &r)
        .args(["verify", "--backup", "latest"])
        .run();
    out.assert_code(1);
    assert!(
        out.stdout.contains("verify failed: shop: checksum"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("app: checksum"), "{}", out.stdout);
    let out = split_pg(&pg, &r)
        .args(["verify", "--restore-database", "app"])
        .run();
    out.assert_code(0);
    for db in DBS {
        drop_db(&pg, db);
    }
    let out = split_pg(&pg, &r)
        .args(["restore", "--backup", "latest"])
        .run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("restore failed for database(s) shop"),
        "{}",
        out.stderr
    );
    assert_eq!(contents(&pg, "app"), before[0]);
    assert_eq!(contents(&pg, "logs"), before[2]);
    assert!(
        !db_exists(&pg, "shop"),
        "a failed restore drops what it created"
    );
}

#[test]
fn restore_database_needs_a_split_configuration() {
    let Some(s3) = s3::server() else { return };
    let r = remote(s3, "split-not");
    for command in ["restore", "verify"] {
        let out = r
            .on(Dbstash::new())
            .env("ENGINE", "pg")
            .env("DB_HOST", "127.0.0.1")
            .env("DB_NAME", "app")
            .args([command, "--restore-database", "app"])
            .run();
        out.assert_code(2);
        assert!(
            out.stderr.contains("RESTORE_DATABASE")
                && out.stderr.contains("BACKUP_SPLIT_DATABASES"),
            "{command}: {}",
            out.stderr
        );
    }
    // globals is PostgreSQL's only.
    let out = r
        .on(Dbstash::new())
        .env("ENGINE", "mariadb")
        .env("DB_HOST", "127.0.0.1")
        .env("BACKUP_ALL_DATABASES", "true")
        .env("BACKUP_SPLIT_DATABASES", "true")
        .args(["restore", "--restore-database", "globals"])
        .run();
    out.assert_code(2);
    assert!(out.stderr.contains("globals"), "{}", out.stderr);
}

fn split_maria(m: &Maria, r: &Remote, user: &str, password: &str) -> Dbstash {
    r.on(m.dbstash())
        .env("ENGINE", "mariadb")
        .env("DB_HOST", "127.0.0.1")
        .env("DB_PORT", m.port.to_string())
        .env("DB_USER", user)
        .env("DB_PASSWORD", password)
        .env("BACKUP_ALL_DATABASES", "true")
        .env("BACKUP_SPLIT_DATABASES", "true")
}

#[test]
fn mariadb_split_run_of_the_databases_a_user_sees_and_one_restored_alone() {
    let Some(m) = mariadb::server() else { return };
    let Some(s3) = s3::server() else { return };
    let a = m.seeded_db("split_a");
    let b = m.seeded_db("split_b");
    let user = unique("splitter");
    let password = "Split-Pw-42";
    m.sql(
        "",
        &format!(
            "CREATE USER '{user}'@'%' IDENTIFIED BY '{password}';
             GRANT ALL PRIVILEGES ON `{a}`.* TO '{user}'@'%';
             GRANT ALL PRIVILEGES ON `{b}`.* TO '{user}'@'%';"
        ),
    );
    let (want_a, want_b) = (m.contents(&a), m.contents(&b));
    let r = remote(s3, "split-maria");
    let out = split_maria(m, &r, &user, password).run();
    out.assert_code(0);
    let objs = objects(&r);
    assert_eq!(objs.len(), 2, "the two databases the user sees: {objs:?}");
    assert!(object_of(&r, &a).ends_with(".sql"));

    let out = split_maria(m, &r, &user, password)
        .args(["list", "--format", "json"])
        .run();
    out.assert_code(0);
    let rows: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let mut dbs: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["database"].as_str().unwrap())
        .collect();
    dbs.sort();
    assert_eq!(dbs, [a.as_str(), b.as_str()]);

    // b changes after the backup; a is dropped and restored alone: b keeps its change.
    m.sql(&b, "DELETE FROM orders WHERE id = 1");
    let b_later = m.contents(&b);
    m.sql("", &format!("DROP DATABASE `{a}`"));
    let out = split_maria(m, &r, &user, password)
        .args(["restore", "--restore-database", &a])
        .run();
    out.assert_code(0);
    assert_eq!(m.contents(&a), want_a, "{}", out.stderr);
    assert_eq!(m.contents(&b), b_later);
    assert_ne!(b_later, want_b);

    // The whole run over it: a has tables now (refused), b too: exit 1 naming both.
    let out = split_maria(m, &r, &user, password)
        .args(["restore", "--backup", "latest"])
        .run();
    out.assert_code(1);
    let mut names = [a.as_str(), b.as_str()];
    names.sort();
    assert!(
        out.stderr.contains(&format!(
            "restore failed for database(s) {}",
            names.join(", ")
        )),
        "{}",
        out.stderr
    );
    assert_eq!(m.contents(&b), b_later, "refused: untouched");
}

#[test]
fn pg_split_run_in_directory_mode_has_folders_and_a_globals_object() {
    let Some(pg) = pg::start() else { return };
    let Some(s3) = s3::server() else { return };
    seed(&pg, "app", 50);
    seed(&pg, "shop", 70);
    let before = [contents(&pg, "app"), contents(&pg, "shop")];
    let r = remote(s3, "split-pg-dir");
    let split = || {
        split_pg(&pg, &r)
            .env("BACKUP_MODE", "directory")
            .env("BACKUP_EXCLUDE_DATABASES", "postgres")
    };
    split().run().assert_code(0);

    let out = split().args(["list"]).run();
    out.assert_code(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{}", out.stdout);
    for db in ["app", "shop", "globals"] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("{db} ")) && l.ends_with("ok")),
            "{db}: {}",
            out.stdout
        );
    }
    let out = split().args(["list", "--format", "json"]).run();
    out.assert_code(0);
    let rows: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    for row in rows.as_array().unwrap() {
        // A folder has no one SHA-256; the globals object has its sidecar's.
        assert_eq!(
            row["sha256"].is_string(),
            row["database"] == "globals",
            "{row}"
        );
    }

    let out = split().args(["verify"]).run();
    out.assert_code(0);
    assert!(
        out.stdout
            .contains("app: checksum                      ok      every file matches SHA256SUMS"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("globals: checksum"), "{}", out.stdout);

    drop_db(&pg, "app");
    drop_db(&pg, "shop");
    let out = split().env("DRY_RUN", "true").args(["restore"]).run();
    out.assert_code(0);
    assert_eq!(
        out.stdout
            .matches("dbstash dry run: nothing is executed.")
            .count(),
        3,
        "a plan for globals, app and shop: {}",
        out.stdout
    );
    assert!(!db_exists(&pg, "app") && !db_exists(&pg, "shop"));
    let out = split().args(["restore"]).run();
    out.assert_code(0);
    assert_eq!(contents(&pg, "app"), before[0], "{}", out.stderr);
    assert_eq!(contents(&pg, "shop"), before[1], "{}", out.stderr);
    let out = split()
        .args([
            "restore",
            "--restore-database",
            "shop",
            "--restore-target-db",
            "shop2",
        ])
        .run();
    out.assert_code(0);
    assert_eq!(contents(&pg, "shop2"), before[1], "{}", out.stderr);
}

#[test]
fn sigterm_and_timeout_stop_the_run_and_leave_the_rest_untouched() {
    let Some(pg) = pg::start() else { return };
    let Some(s3) = s3::server() else { return };
    let Some(real) = real_binary("rclone") else {
        panic!("rclone not found")
    };
    // logs big enough that its restore has started psql before its download ends.
    for (db, rows) in DBS.iter().zip([100, 100, 5000]) {
        seed(&pg, db, rows);
    }
    let app = contents(&pg, "app");
    let r = remote(s3, "split-pg-stop");
    let split = || split_pg(&pg, &r).env("BACKUP_EXCLUDE_DATABASES", "postgres");
    split().run().assert_code(0);
    // `rclone cat` of logs' backup prints it, then hangs; everything else is the real rclone.
    let fake = tempfile::tempdir().unwrap();
    write_script(
        fake.path(),
        "rclone",
        &format!(
            "for a in \"$@\"; do last=\"$a\"; case \"$a\" in cat) cat=1;; esac; done\ncase \"$last\" in */logs-*.sql) if [ -n \"$cat\" ]; then '{0}' \"$@\"; sleep 60; exit 0; fi;; esac\nexec '{0}' \"$@\"",
            real.display()
        ),
    );
    for how in ["SIGTERM", "BACKUP_TIMEOUT"] {
        for db in DBS {
            drop_db(&pg, db);
        }
        let mut d = split().fake_bin(fake.path()).args(["restore"]);
        if how == "BACKUP_TIMEOUT" {
            d = d.env("BACKUP_TIMEOUT", "8s");
        }
        let running = d.spawn();
        // logs' psql has applied its whole script and waits, its transaction open.
        wait_for("psql idle in its transaction", 30, || {
            pg.psql(
                "postgres",
                "select count(*) from pg_stat_activity where datname = 'logs' and state = 'idle in transaction'",
            ) == "1"
        });
        if how == "SIGTERM" {
            unsafe { libc::kill(running.child.id() as libc::pid_t, libc::SIGTERM) };
        }
        let (code, stderr) = running.finish();
        assert_eq!(code, 1, "{how}: {stderr}");
        assert!(
            stderr.contains("restore failed for database(s) logs, shop"),
            "{how}: {stderr}"
        );
        // logs was started (and rolled back), shop never was.
        assert!(stderr.contains("not_restored=shop"), "{how}: {stderr}");
        assert_no_process_left("--dbname=logs", 10);
        assert_eq!(contents(&pg, "app"), app, "{how}: app was restored first");
        wait_for("logs' session ended", 10, || {
            pg.psql(
                "postgres",
                "select count(*) from pg_stat_activity where datname = 'logs'",
            ) == "0"
        });
        assert!(
            !db_exists(&pg, "logs"),
            "{how}: created, rolled back, dropped"
        );
        assert!(!db_exists(&pg, "shop"), "{how}: never started");
    }
}

/// A backup and its sidecar written straight into a local remote.
fn put_backup(dir: &std::path::Path, name: &str) {
    std::fs::write(dir.join(name), format!("archive of {name}")).unwrap();
    let sha = sha256_hex(&dir.join(name));
    std::fs::write(
        dir.join(format!("{name}.sha256")),
        format!("{sha}  {name}\n"),
    )
    .unwrap();
}

#[test]
fn mongo_split_objects_are_listed_and_planned_database_by_database() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "app-2026-02-06-020000.archive",
        "old-2026-02-06-020000.archive",
        "app-2026-02-07-020000.archive",
        "logs-2026-02-07-020000.archive",
        "all-2026-02-07-020000.archive", // a BACKUP_ALL_DATABASES backup without the split
    ] {
        put_backup(dir.path(), name);
    }
    // The older run an hour older (the listing's order is by time, then by name).
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for name in std::fs::read_dir(dir.path()).unwrap() {
        let path = name.unwrap().path();
        if path.to_string_lossy().contains("2026-02-06") {
            let f = std::fs::File::options().write(true).open(&path).unwrap();
            f.set_modified(hour_ago).unwrap();
        }
    }
    let mongo = || {
        Dbstash::new()
            .env("ENGINE", "mongo")
            .env("DB_HOST", "127.0.0.1")
            .env("BACKUP_ALL_DATABASES", "true")
            .env("BACKUP_SPLIT_DATABASES", "true")
            .env("RCLONE_REMOTE", local_remote(dir.path()))
    };
    let out = mongo().args(["list", "--format", "json"]).run();
    out.assert_code(0);
    let rows: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let mut got: Vec<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["database"].as_str().unwrap(),
                r["name"].as_str().unwrap()
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            "app app-2026-02-06-020000.archive",
            "app app-2026-02-07-020000.archive",
            "logs logs-2026-02-07-020000.archive",
            "old old-2026-02-06-020000.archive",
        ]
    );

    // The latest run: app and logs of 2026-02-07 (old is only in the older run).
    let out = mongo().env("DRY_RUN", "true").args(["restore"]).run();
    out.assert_code(0);
    for needle in [
        "app-2026-02-07-020000.archive",
        "'--nsInclude=app.*'",
        "logs-2026-02-07-020000.archive",
        "'--nsInclude=logs.*'",
    ] {
        assert!(out.stdout.contains(needle), "{needle}:\n{}", out.stdout);
    }
    assert!(!out.stdout.contains("old-"), "{}", out.stdout);
    assert!(
        out.stderr.contains("databases=old"),
        "the older run's database is named: {}",
        out.stderr
    );
    // One database, into another name.
    let out = mongo()
        .env("DRY_RUN", "true")
        .args([
            "restore",
            "--restore-database",
            "old",
            "--restore-target-db",
            "old2",
        ])
        .run();
    out.assert_code(0);
    assert!(
        out.stdout.contains("old-2026-02-06-020000.archive"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("old2"), "{}", out.stdout);
    assert!(!out.stdout.contains("app-"), "{}", out.stdout);
}
