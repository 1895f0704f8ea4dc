//! The rows of the design's PostgreSQL tables, as exact argv.

use super::*;
use crate::cli::CommonArgs;
use crate::config::Config;
use crate::engine;
use secrecy::ExposeSecret;

fn cfg(edit: impl FnOnce(&mut CommonArgs)) -> Config {
    let mut a = CommonArgs {
        rclone_remote: Some("s3:b".into()),
        backup_schedule: Some("once".into()),
        ..CommonArgs::default()
    };
    edit(&mut a);
    Config::resolve(EngineKind::Pg, a).expect("valid config")
}

fn host(a: &mut CommonArgs) {
    a.db_host = Some("db".into());
    a.db_user = Some("app".into());
    a.db_password = Some("pw".into());
}

fn argv(c: &Config) -> String {
    let d = Postgres.dump_command(c);
    format!("{} {}", d.program, d.args.join(" "))
}

#[test]
fn rows() {
    type Edit = fn(&mut CommonArgs);
    let cases: &[(&str, Edit, &str, &str)] = &[
        (
            "single db, host fields",
            |a| { host(a); a.db_name = Some("shop".into()); },
            "pg_dump --no-password --format=plain --host=db --port=5432 --username=app --dbname=shop",
            ".sql",
        ),
        (
            "single db, host fields, custom port, no user",
            |a| { a.db_host = Some("db".into()); a.db_port = Some("6432".into()); a.db_name = Some("shop".into()); },
            "pg_dump --no-password --format=plain --host=db --port=6432 --dbname=shop",
            ".sql",
        ),
        (
            "single db, compress",
            |a| { host(a); a.db_name = Some("shop".into()); a.backup_compress = Some("true".into()); },
            "pg_dump --no-password --format=custom --host=db --port=5432 --username=app --dbname=shop",
            ".dump",
        ),
        (
            "single db, URI",
            |a| a.db_uri = Some("postgresql://app:pw@db:5433/shop?sslmode=require".into()),
            "pg_dump --no-password --format=plain --dbname=postgresql://app@db:5433/shop?sslmode=require",
            ".sql",
        ),
        (
            "single db, URI, compress",
            |a| { a.db_uri = Some("postgres://app:pw@db/shop".into()); a.backup_compress = Some("true".into()); },
            "pg_dump --no-password --format=custom --dbname=postgres://app@db/shop",
            ".dump",
        ),
        (
            "all dbs, host fields",
            |a| { host(a); a.backup_all_databases = Some("true".into()); },
            "pg_dumpall --no-password --host=db --port=5432 --username=app",
            ".sql",
        ),
        (
            "all dbs, compress: zstd in-process (pg_dumpall writes plain SQL only)",
            |a| { host(a); a.backup_all_databases = Some("true".into()); a.backup_compress = Some("true".into()); },
            "pg_dumpall --no-password --host=db --port=5432 --username=app",
            ".sql.zst",
        ),
        (
            "single db, an algorithm: plain format, compressed in-process",
            |a| { host(a); a.db_name = Some("shop".into()); a.backup_compress = Some("true".into()); a.backup_compress_algo = Some("zstd".into()); },
            "pg_dump --no-password --format=plain --host=db --port=5432 --username=app --dbname=shop",
            ".sql.zst",
        ),
        (
            "single db, gzip at level 9",
            |a| { host(a); a.db_name = Some("shop".into()); a.backup_compress = Some("true".into()); a.backup_compress_algo = Some("gzip".into()); a.backup_compress_level = Some("9".into()); },
            "pg_dump --no-password --format=plain --host=db --port=5432 --username=app --dbname=shop",
            ".sql.gz",
        ),
        (
            "an algorithm with a custom format from extra args",
            |a| { host(a); a.db_name = Some("shop".into()); a.backup_compress = Some("true".into()); a.backup_compress_algo = Some("zstd".into()); a.dump_extra_args = Some("-Fc".into()); },
            "pg_dump --no-password --format=plain --host=db --port=5432 --username=app --dbname=shop -Fc",
            ".dump.zst",
        ),
        (
            "all dbs, URI (its database name is ignored by pg_dumpall)",
            |a| { a.db_uri = Some("postgresql://app:pw@db/postgres".into()); a.backup_all_databases = Some("true".into()); },
            "pg_dumpall --no-password --dbname=postgresql://app@db/postgres",
            ".sql",
        ),
        (
            "extra args come last",
            |a| { host(a); a.db_name = Some("shop".into()); a.dump_extra_args = Some("--schema=public --no-owner".into()); },
            "pg_dump --no-password --format=plain --host=db --port=5432 --username=app --dbname=shop --schema=public --no-owner",
            ".sql",
        ),
        (
            "extra args override compress: tar format",
            |a| { host(a); a.db_name = Some("shop".into()); a.backup_compress = Some("true".into()); a.dump_extra_args = Some("-Ft".into()); },
            "pg_dump --no-password --format=custom --host=db --port=5432 --username=app --dbname=shop -Ft",
            ".tar",
        ),
        (
            "plain with gzip compression",
            |a| { host(a); a.db_name = Some("shop".into()); a.dump_extra_args = Some("--compress=6".into()); },
            "pg_dump --no-password --format=plain --host=db --port=5432 --username=app --dbname=shop --compress=6",
            ".sql.gz",
        ),
        (
            "plain with zstd compression",
            |a| { host(a); a.db_name = Some("shop".into()); a.dump_extra_args = Some("--compress=zstd:9".into()); },
            "pg_dump --no-password --format=plain --host=db --port=5432 --username=app --dbname=shop --compress=zstd:9",
            ".sql.zst",
        ),
        (
            "custom via extra args, compression inside the format",
            |a| { host(a); a.db_name = Some("shop".into()); a.dump_extra_args = Some("-F c -Z 9".into()); },
            "pg_dump --no-password --format=plain --host=db --port=5432 --username=app --dbname=shop -F c -Z 9",
            ".dump",
        ),
        (
            "BACKUP_EXTENSION wins",
            |a| { host(a); a.db_name = Some("shop".into()); a.backup_extension = Some("pgsql".into()); },
            "pg_dump --no-password --format=plain --host=db --port=5432 --username=app --dbname=shop",
            ".pgsql",
        ),
    ];
    for (what, edit, want_argv, want_ext) in cases {
        let c = cfg(edit);
        assert_eq!(argv(&c), *want_argv, "{what}");
        assert_eq!(engine::extension(&c), *want_ext, "{what}");
    }
}

#[test]
fn password_travels_in_pgpassword_never_argv() {
    for edit in [
        (|a: &mut CommonArgs| {
            host(a);
            a.db_name = Some("shop".into());
        }) as fn(&mut CommonArgs),
        |a| a.db_uri = Some("postgresql://app:pw@db/shop".into()),
        |a| a.db_uri = Some("postgresql://app@db/shop?password=pw".into()),
        |a| {
            host(a);
            a.backup_all_databases = Some("true".into());
        },
    ] {
        let c = cfg(edit);
        let d = Postgres.dump_command(&c);
        assert!(!d.args.iter().any(|a| a.contains("pw")), "{:?}", d.args);
        assert_eq!(d.env.len(), 1);
        assert_eq!(d.env[0].0, "PGPASSWORD");
        assert_eq!(d.env[0].1.expose_secret(), "pw");
        assert!(d.to_string().starts_with("PGPASSWORD=*** pg_dump"), "{d}");
    }
    let c = cfg(|a| {
        a.db_host = Some("db".into());
        a.db_name = Some("x".into());
    });
    assert!(Postgres.dump_command(&c).env.is_empty());
}

#[test]
fn warnings() {
    type Edit = fn(&mut CommonArgs);
    let cases: &[(Edit, &str)] = &[
        (
            |a| {
                host(a);
                a.db_name = Some("shop".into());
                a.backup_compress = Some("1".into());
                a.backup_compress_algo = Some("zstd".into());
                a.dump_extra_args = Some("--compress=6".into());
            },
            "DUMP_EXTRA_ARGS make the dump tool compress its output, and dbstash compresses it again with zstd",
        ),
        (
            |a| {
                host(a);
                a.db_name = Some("s".into());
                a.backup_compress = Some("1".into());
                a.dump_extra_args = Some("--format=tar".into());
            },
            "overrides BACKUP_COMPRESS",
        ),
        (
            |a| {
                host(a);
                a.db_name = Some("s".into());
                a.dump_extra_args = Some("-Fd".into());
            },
            "directory format",
        ),
        (
            |a| {
                host(a);
                a.db_name = Some("s".into());
                a.dump_extra_args = Some("--format=directory".into());
            },
            "directory format",
        ),
        (
            |a| {
                host(a);
                a.db_name = Some("s".into());
                a.dump_extra_args = Some("--Fd".into());
            },
            "directory format",
        ),
        (
            |a| {
                host(a);
                a.db_name = Some("s".into());
                a.dump_extra_args = Some("-f /tmp/out.sql".into());
            },
            "-f/--file",
        ),
        (
            |a| {
                host(a);
                a.db_name = Some("s".into());
                a.dump_extra_args = Some("--file=/tmp/out.sql".into());
            },
            "-f/--file",
        ),
        (
            |a| {
                host(a);
                a.db_name = Some("s".into());
                a.db_auth_source = Some("other".into());
            },
            "DB_AUTH_SOURCE is ignored",
        ),
    ];
    for (edit, needle) in cases {
        let c = cfg(edit);
        assert!(
            c.warnings.iter().any(|w| w.contains(needle)),
            "{needle}: {:?}",
            c.warnings
        );
    }
    let quiet = cfg(|a| {
        host(a);
        a.db_name = Some("s".into());
        a.dump_extra_args = Some("--schema=public -v".into());
    });
    assert!(quiet.warnings.is_empty(), "{:?}", quiet.warnings);
}

#[test]
fn check_command_is_psql_with_the_dump_connection() {
    type Edit = fn(&mut CommonArgs);
    let tail = "--no-psqlrc --tuples-only --no-align --command=SELECT 1";
    let cases: &[(&str, Edit, String)] = &[
        (
            "host fields",
            |a| {
                host(a);
                a.db_name = Some("shop".into());
                a.dump_extra_args = Some("--schema=public".into());
            },
            format!("psql --no-password --host=db --port=5432 --username=app --dbname=shop {tail}"),
        ),
        (
            "URI",
            |a| a.db_uri = Some("postgresql://app:pw@db:5433/shop?sslmode=require".into()),
            format!("psql --no-password --dbname=postgresql://app@db:5433/shop?sslmode=require {tail}"),
        ),
        (
            "pg_dumpall: its maintenance database",
            |a| {
                host(a);
                a.backup_all_databases = Some("true".into());
            },
            format!("psql --no-password --host=db --port=5432 --username=app --dbname=postgres {tail}"),
        ),
        (
            "pg_dumpall with -l",
            |a| {
                a.db_uri = Some("postgresql://app:pw@db/ignored".into());
                a.backup_all_databases = Some("true".into());
                a.dump_extra_args = Some("-l maint --clean".into());
            },
            format!("psql --no-password --dbname=postgresql://app@db/maint {tail}"),
        ),
        (
            "sslpassword through the service file",
            |a| a.db_uri = Some("postgresql://app@db/shop?sslpassword=kp&sslmode=verify-full".into()),
            format!("psql --no-password --dbname=postgresql://app@db/shop?sslmode=verify-full&service=dbstash {tail}"),
        ),
    ];
    for (what, edit, want) in cases {
        let c = cfg(edit);
        let d = Postgres.check_command(&c);
        assert_eq!(
            format!("{} {}", d.program, d.args.join(" ")),
            *want,
            "{what}"
        );
        assert!(
            !d.args.iter().any(|a| a.contains("pw") || a.contains("kp")),
            "{what}"
        );
        // The same secrets as the dump, in the same places.
        let dump = Postgres.dump_command(&c);
        let names = |d: &DumpCommand| d.env.iter().map(|(k, _)| *k).collect::<Vec<_>>();
        assert_eq!(names(&d), names(&dump), "{what}");
        assert_eq!(
            d.secret_file
                .as_ref()
                .map(|f| f.content.expose_secret().to_string()),
            dump.secret_file
                .as_ref()
                .map(|f| f.content.expose_secret().to_string()),
            "{what}"
        );
    }
    assert_eq!(Postgres.check_replies(), ["1"]);
    for (extra, want) in [
        ("--database=a", "a"),
        ("--database b", "b"),
        ("-lc", "c"),
        ("-l d -l e", "e"),
        ("--clean", "postgres"),
    ] {
        let args: Vec<String> = extra.split(' ').map(String::from).collect();
        assert_eq!(maintenance_db(&args), want, "{extra}");
    }
}

#[test]
fn restore_commands_use_the_dump_connection_and_one_transaction() {
    type Edit = fn(&mut CommonArgs);
    let shop: Edit = |a| {
        host(a);
        a.db_name = Some("shop".into());
    };
    let uri: Edit = |a| a.db_uri = Some("postgresql://app:pw@db:5433/shop?sslmode=require".into());
    let all: Edit = |a| {
        host(a);
        a.backup_all_databases = Some("true".into());
    };
    let line = |d: DumpCommand| format!("{} {}", d.program, d.args.join(" "));
    let host_conn = "--host=db --port=5432 --username=app";
    type Build = fn(&Config) -> DumpCommand;
    let cases: Vec<(&str, Edit, Build, String)> = vec![
        (
            "plain from stdin, into another database",
            shop,
            |c| Postgres.restore_psql(c, "shop_copy", None),
            format!("psql --no-password --no-psqlrc --quiet --set=ON_ERROR_STOP=1 --single-transaction {host_conn} --dbname=shop_copy --file=-"),
        ),
        (
            "plain from a file, URI (its database replaced)",
            uri,
            |c| Postgres.restore_psql(c, "shop", Some("/tmp/x/b.sql")),
            "psql --no-password --no-psqlrc --quiet --set=ON_ERROR_STOP=1 --single-transaction --dbname=postgresql://app@db:5433/shop?sslmode=require --file=/tmp/x/b.sql".into(),
        ),
        (
            "archive to script: connects nowhere",
            shop,
            |_| Postgres.restore_script(false),
            "pg_restore --file=-".into(),
        ),
        (
            "archive to script, dropping what it recreates",
            shop,
            |_| Postgres.restore_script(true),
            "pg_restore --file=- --clean --if-exists".into(),
        ),
        (
            "archive file, one transaction",
            shop,
            |c| Postgres.restore_archive(c, "shop", false, "/tmp/x/b.dump"),
            format!("pg_restore --no-password --single-transaction --exit-on-error {host_conn} --dbname=shop /tmp/x/b.dump"),
        ),
        (
            "archive file with --drop-existing",
            uri,
            |c| Postgres.restore_archive(c, "other", true, "/tmp/x/b.dump"),
            "pg_restore --no-password --single-transaction --exit-on-error --clean --if-exists --dbname=postgresql://app@db:5433/other?sslmode=require /tmp/x/b.dump".into(),
        ),
        (
            "pg_dumpall script: the maintenance database, no single transaction",
            all,
            |c| Postgres.restore_cluster(c, "/tmp/x/all.sql"),
            format!("psql --no-password --no-psqlrc --quiet {host_conn} --dbname=postgres --file=/tmp/x/all.sql"),
        ),
        (
            "query",
            shop,
            |c| Postgres.restore_query(c, "postgres", "SELECT 1"),
            format!("psql --no-password --no-psqlrc --quiet --set=ON_ERROR_STOP=1 {host_conn} --dbname=postgres --tuples-only --no-align --command=SELECT 1"),
        ),
    ];
    for (what, edit, build, want) in cases {
        let c = cfg(edit);
        let d = build(&c);
        assert!(
            !d.args.iter().any(|a| a.contains("pw")),
            "{what}: {:?}",
            d.args
        );
        let connects = d.program == "psql" || d.args.iter().any(|a| a.starts_with("--dbname"));
        // Whatever connects gets the password as the dump does: in PGPASSWORD.
        let env: Vec<&str> = d.env.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            env,
            if connects { vec!["PGPASSWORD"] } else { vec![] },
            "{what}"
        );
        assert_eq!(line(d), want, "{what}");
    }
    // pg_dumpall's -l names the maintenance database of restores too.
    let c = cfg(|a| {
        host(a);
        a.backup_all_databases = Some("true".into());
        a.dump_extra_args = Some("-l maint".into());
    });
    assert_eq!(Postgres.maintenance_database(&c), "maint");
    // The sslpassword service file goes along, as for the dump.
    let c = cfg(|a| a.db_uri = Some("postgresql://app@db/shop?sslpassword=kp".into()));
    let d = Postgres.restore_psql(&c, "shop", None);
    assert!(d.secret_file.is_some());
    assert!(
        d.args.iter().any(|a| a.ends_with("?service=dbstash")),
        "{:?}",
        d.args
    );
    assert!(!d.args.iter().any(|a| a.contains("kp")));
}
