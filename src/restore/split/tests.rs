//! Tests of the split configurations' object selection, run selection and flag checks.

use super::target::{check_restore, target, Target};
use super::*;
use crate::engine::EngineKind;
use crate::rclone::Object;
use crate::restore::settings::RestoreArgs;
use chrono::DateTime;

fn cfg(kind: EngineKind, split: bool, extra: &[(&str, &str)]) -> Config {
    let mut a = crate::cli::CommonArgs {
        db_host: Some("h".into()),
        db_name: (!split).then(|| "app".into()),
        backup_all_databases: split.then(|| "true".into()),
        backup_split_databases: split.then(|| "true".into()),
        rclone_remote: Some("s3:b/x".into()),
        backup_schedule: Some("once".into()),
        ..Default::default()
    };
    for (k, v) in extra {
        match *k {
            "mode" => a.backup_mode = Some(v.to_string()),
            "template" => a.backup_name_template = Some(v.to_string()),
            _ => unreachable!(),
        }
    }
    Config::resolve(kind, a).unwrap()
}

fn obj(name: &str, secs: i64) -> Object {
    Object {
        name: name.into(),
        size: 10,
        mod_time: DateTime::from_timestamp(1_770_000_000 + secs, 0).unwrap(),
        tag: None,
    }
}

fn named(db: &str) -> DbSlot {
    DbSlot::Named(db.into())
}

#[test]
fn names_are_read_back_to_their_database_and_run() {
    let pg = cfg(EngineKind::Pg, true, &[]);
    let run = "\0-2026-02-07-020000".to_string();
    for (name, want) in [
        ("app-2026-02-07-020000.sql", Some(named("app"))),
        ("app-2026-02-07-020000.dump", Some(named("app"))),
        ("app-2026-02-07-020000.sql.zst.age", Some(named("app"))),
        ("globals-2026-02-07-020000.sql", Some(DbSlot::Globals)),
        ("globals-2026-02-07-020000.sql.zst", Some(DbSlot::Globals)),
        ("%67lobals-2026-02-07-020000.sql", Some(named("globals"))),
        ("%61ll-2026-02-07-020000.sql", Some(named("all"))),
        ("a%2Fb-2026-02-07-020000.dump", Some(named("a/b"))),
        ("all-2026-02-07-020000.sql", None),
        ("app-2026-02-07-020000.sql.sha256", None),
        (".app-2026-02-07-020000.sql.partial-0a1b2c3d", None),
        ("app-2026-02-07-020000.rdb", None),
        ("app-latest.sql", None),
        ("a%zzb-2026-02-07-020000.sql", None),
        ("notes.txt", None),
    ] {
        let got = classify(&pg, name);
        assert_eq!(got.as_ref().map(|(s, _)| s), want.as_ref(), "{name}");
        if let Some((_, r)) = got {
            assert_eq!(
                r, run,
                "{name}: the run's key has no database nor extension"
            );
        }
    }
    // MySQL has no globals object: a database named so is always escaped.
    let my = cfg(EngineKind::Mysql, true, &[]);
    assert_eq!(classify(&my, "globals-2026-02-07-020000.sql"), None);
    assert_eq!(
        classify(&my, "shop-2026-02-07-020000.sql").map(|(s, _)| s),
        Some(named("shop"))
    );
    assert_eq!(classify(&my, "shop-2026-02-07-020000.dump"), None);
}

#[test]
fn the_latest_run_is_every_object_of_the_newest_complete_one_globals_first() {
    let pg = cfg(EngineKind::Pg, true, &[("template", "{db}_{ts}_{uuid}")]);
    let objects = [
        // An older run with a database the newest no longer has.
        obj("globals_1770000000_0a0a0a0a.sql", 0),
        obj("globals_1770000000_0a0a0a0a.sql.sha256", 0),
        obj("old_1770000000_0a0a0a0a.sql", 1),
        obj("old_1770000000_0a0a0a0a.sql.sha256", 1),
        // The newest run: app is incomplete (no sidecar), shop complete.
        obj("globals_1770000100_1b1b1b1b.sql", 100),
        obj("globals_1770000100_1b1b1b1b.sql.sha256", 100),
        obj("shop_1770000100_1b1b1b1b.dump", 102),
        obj("shop_1770000100_1b1b1b1b.dump.sha256", 102),
        obj("app_1770000100_1b1b1b1b.sql", 101),
        // A run that failed before anything was complete, newer still.
        obj("app_1770000200_2c2c2c2c.sql", 200),
        // Other configurations' files.
        obj("all_1770000300_3d3d3d3d.sql", 300),
        obj("all_1770000300_3d3d3d3d.sql.sha256", 300),
        obj("notes.txt", 400),
    ];
    let found = items(&pg, &objects, &[]);
    let names: Vec<&str> = found.iter().map(|i| i.backup.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "app_1770000200_2c2c2c2c.sql",
            "shop_1770000100_1b1b1b1b.dump",
            "app_1770000100_1b1b1b1b.sql",
            "globals_1770000100_1b1b1b1b.sql",
            "old_1770000000_0a0a0a0a.sql",
            "globals_1770000000_0a0a0a0a.sql",
        ]
    );
    let run = latest_run(&found).unwrap();
    let run: Vec<(String, bool)> = run
        .iter()
        .map(|i| (i.slot.to_string(), i.backup.has_sidecar))
        .collect();
    assert_eq!(
        run,
        [
            ("globals".to_string(), true),
            ("app".to_string(), false),
            ("shop".to_string(), true)
        ]
    );
    let latest = latest_run(&found).unwrap();
    assert_eq!(missing_from_run(&found, &latest), ["old"]);
    assert_eq!(
        latest_of(&found, &named("app")).map(|i| i.backup.name.as_str()),
        None,
        "app has no complete backup"
    );
    assert_eq!(
        latest_of(&found, &named("old")).map(|i| i.backup.name.as_str()),
        Some("old_1770000000_0a0a0a0a.sql")
    );
    assert!(latest_run(&items(&pg, &objects[9..10], &[])).is_none());
}

#[test]
fn directory_mode_databases_are_folders_and_globals_an_object() {
    let pg = cfg(EngineKind::Pg, true, &[("mode", "directory")]);
    let folder = |name: &str, secs: i64, complete: bool| Backup {
        name: name.into(),
        size: 10,
        mod_time: DateTime::from_timestamp(1_770_000_000 + secs, 0).unwrap(),
        has_sidecar: complete,
    };
    let objects = [
        obj("globals-2026-02-07-020000.sql", 0),
        obj("globals-2026-02-07-020000.sql.sha256", 0),
        obj("app-2026-02-07-020000", 1), // a file, not a folder: not a backup
    ];
    let folders = [
        folder("app-2026-02-07-020000", 2, true),
        folder("globals-2026-02-07-020000", 2, true),
    ];
    let found = items(&pg, &objects, &folders);
    let got: Vec<(String, bool)> = found
        .iter()
        .map(|i| (i.slot.to_string(), i.folder))
        .collect();
    assert_eq!(
        got,
        [("app".to_string(), true), ("globals".to_string(), false)]
    );
    assert_eq!(found[0].run, found[1].run);
}

#[test]
fn restore_database_needs_a_split_configuration() {
    let single = cfg(EngineKind::Pg, false, &[]);
    assert_eq!(wanted_database(&single, &None).unwrap(), None);
    let e = wanted_database(&single, &Some("app".into()))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("RESTORE_DATABASE") && e.contains("BACKUP_SPLIT_DATABASES"),
        "{e}"
    );
    let pg = cfg(EngineKind::Pg, true, &[]);
    assert_eq!(
        wanted_database(&pg, &Some(" app ".into())).unwrap(),
        Some(named("app"))
    );
    assert_eq!(
        wanted_database(&pg, &Some("globals".into())).unwrap(),
        Some(DbSlot::Globals)
    );
    assert_eq!(wanted_database(&pg, &Some(" ".into())).unwrap(), None);
    let my = cfg(EngineKind::Mariadb, true, &[]);
    let e = wanted_database(&my, &Some("globals".into()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("mariadb backups have none"), "{e}");
    let e = wanted_database(&my, &Some("--help".into()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("read as a flag"), "{e}");
}

#[test]
fn flags_for_one_database_are_refused_for_many() {
    let args = |f: &dyn Fn(&mut RestoreArgs)| {
        let mut a = RestoreArgs::default();
        f(&mut a);
        a
    };
    let check = |c: &Config, a: &RestoreArgs| {
        let t = target(c, &a.database, a.backup.as_deref()).map_err(|e| e.to_string())?;
        check_restore(c, a, &t).map_err(|e| e.to_string())
    };
    let pg = cfg(EngineKind::Pg, true, &[]);
    assert_eq!(check(&pg, &args(&|_| {})), Ok(()));
    for (a, var) in [
        (
            args(&|a| a.target_db = Some("x".into())),
            "RESTORE_TARGET_DB",
        ),
        (
            args(&|a| a.output = Some("/tmp/x".into())),
            "RESTORE_OUTPUT",
        ),
        (
            args(&|a| {
                a.database = Some("globals".into());
                a.drop_existing = Some("true".into());
            }),
            "RESTORE_DROP_EXISTING",
        ),
        (
            args(&|a| {
                a.database = Some("globals".into());
                a.target_db = Some("x".into());
            }),
            "RESTORE_TARGET_DB",
        ),
        (
            args(&|a| {
                a.database = Some("app".into());
                a.force = Some("true".into());
                a.drop_existing = Some("true".into());
            }),
            "RESTORE_DROP_EXISTING (--restore-drop-existing) and RESTORE_FORCE",
        ),
    ] {
        let e = check(&pg, &a).unwrap_err();
        assert!(e.starts_with(var), "{a:?}: {e}");
    }
    for ok in [
        args(&|a| {
            a.database = Some("app".into());
            a.target_db = Some("x".into());
        }),
        args(&|a| a.drop_existing = Some("true".into())),
        args(&|a| {
            a.database = Some("globals".into());
            a.output = Some("/tmp/x".into());
        }),
    ] {
        assert_eq!(check(&pg, &ok), Ok(()), "{ok:?}");
    }
    let my = cfg(EngineKind::Mariadb, true, &[]);
    // A database named `--help` (legal in MySQL): its name is not escaped.
    assert_eq!(
        classify(&my, "--help-2026-02-07-020000.sql").map(|(s, _)| s),
        Some(named("--help"))
    );
    let dash = args(&|a| a.backup = Some("--help-2026-02-07-020000.sql".into()));
    let e = check(&my, &dash).unwrap_err();
    assert!(e.contains("read as a flag"), "{e}");
    let under_another = RestoreArgs {
        target_db: Some("help".into()),
        ..dash
    };
    assert_eq!(check(&my, &under_another), Ok(()));
}

#[test]
fn what_a_restore_works_on() {
    let pg = cfg(EngineKind::Pg, true, &[]);
    let t = |db: Option<&str>, backup: Option<&str>| {
        target(&pg, &db.map(String::from), backup).map_err(|e| e.to_string())
    };
    assert_eq!(t(None, None), Ok(Target::LatestRun));
    assert_eq!(t(None, Some("LATEST")), Ok(Target::LatestRun));
    assert_eq!(t(Some("app"), None), Ok(Target::Latest(named("app"))));
    let name = "shop-2026-02-07-020000.sql";
    assert_eq!(
        t(None, Some(name)),
        Ok(Target::Named(named("shop"), name.into()))
    );
    assert_eq!(
        t(Some("shop"), Some(name)),
        Ok(Target::Named(named("shop"), name.into()))
    );
    let e = t(Some("app"), Some(name)).unwrap_err();
    assert!(e.contains("is a backup of shop, not of app"), "{e}");
    assert_eq!(
        t(None, Some("notes.txt")),
        Ok(Target::Named(DbSlot::All, "notes.txt".into()))
    );
}
