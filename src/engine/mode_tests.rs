//! Exact argv of the dump into a folder (BACKUP_MODE=directory and tar) for every engine
//! that has one, with secrets still off argv, and the extension each mode gives.

use secrecy::ExposeSecret;

use super::*;
use crate::cli::CommonArgs;

fn cfg(kind: EngineKind, mode: &str, edit: impl FnOnce(&mut CommonArgs)) -> Config {
    let mut a = CommonArgs {
        rclone_remote: Some("s3:b".into()),
        backup_schedule: Some("once".into()),
        backup_mode: Some(mode.into()),
        db_host: Some("db".into()),
        db_user: Some("app".into()),
        db_password: Some("pw".into()),
        db_name: Some("shop".into()),
        ..CommonArgs::default()
    };
    edit(&mut a);
    Config::resolve(kind, a).expect("valid config")
}

fn argv(c: &Config) -> (String, Vec<String>) {
    let d = c.engine().dump_to_dir(c, "/w/dump");
    (
        format!("{} {}", d.program, d.args.join(" ")),
        d.env
            .iter()
            .map(|(k, v)| format!("{k}={}", v.expose_secret()))
            .collect(),
    )
}

#[test]
fn folder_dumps_by_exact_argv() {
    for mode in ["directory", "tar"] {
        let c = cfg(EngineKind::Pg, mode, |a| {
            a.dump_extra_args = Some("--jobs 2".into())
        });
        assert_eq!(
            argv(&c),
            (
                "pg_dump --no-password --format=directory --file=/w/dump --host=db --port=5432 --username=app --dbname=shop --jobs 2".into(),
                vec!["PGPASSWORD=pw".into()]
            )
        );
        for (kind, program) in [
            (EngineKind::Mysql, "mysqldump"),
            (EngineKind::Mariadb, "mariadb-dump"),
        ] {
            let c = cfg(kind, mode, |a| {
                a.dump_extra_args = Some("--skip-lock-tables".into())
            });
            assert_eq!(
                argv(&c),
                (
                    format!("{program} --host=db --port=3306 --user=app --single-transaction --tab=/w/dump --skip-lock-tables shop"),
                    vec!["MYSQL_PWD=pw".into()]
                )
            );
            assert!(c.engine().server_writes_dir());
        }
        let c = cfg(EngineKind::Mongo, mode, |a| {
            a.backup_compress = Some("true".into())
        });
        let d = c.engine().dump_to_dir(&c, "/w/dump");
        assert_eq!(
            d.args.join(" "),
            "--out=/w/dump --gzip --host=db --port=27017 --username=app --authenticationDatabase=admin --db=shop"
        );
        assert!(d.secret_file.is_some(), "the password goes in --config");
        assert!(!d.args.iter().any(|a| a.contains("pw")));
        // All databases: no --db, one folder per database.
        let c = cfg(EngineKind::Mongo, mode, |a| {
            a.db_name = None;
            a.backup_all_databases = Some("true".into());
        });
        let d = c.engine().dump_to_dir(&c, "/w/dump");
        assert!(
            !d.args.iter().any(|a| a.starts_with("--db")),
            "{:?}",
            d.args
        );
    }
}

#[test]
fn stream_mode_keeps_its_commands() {
    let c = cfg(EngineKind::Pg, "stream", |_| {});
    assert_eq!(
        c.engine().dump_command(&c).args[..2],
        ["--no-password".to_string(), "--format=plain".to_string()]
    );
    assert_eq!(extension(&c), ".sql");
}
