//! Exact argv, environment and credential files for MySQL, MariaDB, Redis and MongoDB:
//! engine × {one database, all} × {compress off, on} × {URI, host fields}, the rows of the
//! design's tables. (PostgreSQL's rows are in `postgres/tests.rs`.)

use secrecy::ExposeSecret;

use super::*;
use crate::cli::CommonArgs;

type Edit = fn(&mut CommonArgs);

fn cfg(kind: EngineKind, edit: impl FnOnce(&mut CommonArgs)) -> Config {
    let mut a = CommonArgs {
        rclone_remote: Some("s3:b".into()),
        backup_schedule: Some("once".into()),
        ..CommonArgs::default()
    };
    edit(&mut a);
    Config::resolve(kind, a).expect("valid config")
}

struct Row {
    argv: String,
    env: Vec<String>,
    file: Option<String>,
    ext: String,
}

fn row(c: &Config) -> Row {
    let d = c.engine().dump_command(c);
    Row {
        argv: format!("{} {}", d.program, d.args.join(" ")),
        env: d
            .env
            .iter()
            .map(|(k, v)| format!("{k}={}", v.expose_secret()))
            .collect(),
        file: d.secret_file.as_ref().map(|f| {
            let how = match f.pass {
                PassPath::Flag(flag) => flag.to_string(),
                PassPath::Env(var) => format!("{var}="),
            };
            format!("{how}{}", f.content.expose_secret())
        }),
        ext: extension(c),
    }
}

fn host(a: &mut CommonArgs) {
    a.db_host = Some("db".into());
    a.db_user = Some("app".into());
    a.db_password = Some("pw".into());
}

fn all(a: &mut CommonArgs) {
    a.backup_all_databases = Some("true".into());
}

fn compress(a: &mut CommonArgs) {
    a.backup_compress = Some("true".into());
}

#[test]
fn mysql_and_mariadb_rows() {
    let cases: &[(Edit, &str, &str)] = &[
        (
            |a| {
                host(a);
                a.db_name = Some("shop".into());
            },
            "--host=db --port=3306 --user=app --single-transaction shop",
            "single, host",
        ),
        (
            |a| {
                host(a);
                a.db_name = Some("shop".into());
                compress(a);
            },
            "--host=db --port=3306 --user=app --single-transaction shop",
            "single, host, compress is a no-op",
        ),
        (
            |a| {
                host(a);
                all(a);
            },
            "--host=db --port=3306 --user=app --single-transaction --all-databases",
            "all, host",
        ),
        (
            |a| {
                host(a);
                all(a);
                compress(a);
            },
            "--host=db --port=3306 --user=app --single-transaction --all-databases",
            "all, host, compress",
        ),
        (
            |a| a.db_uri = Some("mysql://app:pw@db:3307/shop".into()),
            "--host=db --port=3307 --user=app --single-transaction shop",
            "single, URI",
        ),
        (
            |a| {
                a.db_uri = Some("mariadb://app:pw@db/shop?ssl-mode=REQUIRED".into());
                compress(a);
            },
            "--host=db --port=3306 --user=app --ssl-mode=REQUIRED --single-transaction shop",
            "single, URI with options, compress",
        ),
        (
            |a| {
                a.db_uri = Some("mysql://app:pw@db:3306/ignored".into());
                all(a);
            },
            "--host=db --port=3306 --user=app --single-transaction --all-databases",
            "all, URI",
        ),
        (
            |a| {
                host(a);
                a.db_name = Some("shop".into());
                a.dump_extra_args = Some("--routines --events".into());
            },
            "--host=db --port=3306 --user=app --single-transaction --routines --events shop",
            "extra args before the database name",
        ),
    ];
    for (kind, program) in [
        (EngineKind::Mysql, "mysqldump"),
        (EngineKind::Mariadb, "mariadb-dump"),
    ] {
        for (edit, want, what) in cases {
            let c = cfg(kind, edit);
            let r = row(&c);
            assert_eq!(r.argv, format!("{program} {want}"), "{program}: {what}");
            assert_eq!(r.env, ["MYSQL_PWD=pw"], "{what}");
            assert!(r.file.is_none());
            // BACKUP_COMPRESS: zstd in-process (the tool cannot compress).
            let want_ext = if c.compress { ".sql.zst" } else { ".sql" };
            assert_eq!(r.ext, want_ext, "{what}");
            assert_eq!(c.engine.key(), kind.key());
        }
    }
    let d = cfg(EngineKind::Mariadb, |a| {
        host(a);
        a.db_name = Some("s".into());
    })
    .engine()
    .dump_command(&cfg(EngineKind::Mariadb, |a| {
        host(a);
        a.db_name = Some("s".into());
    }));
    assert_eq!(d.fallback.as_deref(), Some("mysqldump"));
    assert!(cfg(EngineKind::Mysql, |a| {
        host(a);
        a.db_name = Some("s".into());
    })
    .engine()
    .dump_command(&cfg(EngineKind::Mysql, |a| {
        host(a);
        a.db_name = Some("s".into());
    }))
    .fallback
    .is_none());
    // {db} is `all` for all databases.
    assert_eq!(
        cfg(EngineKind::Mysql, |a| {
            host(a);
            all(a);
        })
        .db_label(),
        "all"
    );
}

#[test]
fn mysql_warnings() {
    let c = cfg(EngineKind::Mysql, |a| {
        host(a);
        a.db_name = Some("s".into());
        compress(a);
    });
    // BACKUP_COMPRESS compresses in-process now: no "no effect" warning.
    assert!(
        !c.warnings.iter().any(|w| w.contains("no effect")),
        "{:?}",
        c.warnings
    );
    for extra in [
        "--tab=/tmp/x",
        "--tab /tmp/x",
        "-T/tmp/x",
        "--result-file=/tmp/x.sql",
    ] {
        let c = cfg(EngineKind::Mariadb, |a| {
            host(a);
            a.db_name = Some("s".into());
            a.dump_extra_args = Some(extra.into());
        });
        assert!(
            c.warnings
                .iter()
                .any(|w| w.contains("would write to local files")),
            "{extra}: {:?}",
            c.warnings
        );
    }
    let quiet = cfg(EngineKind::Mariadb, |a| {
        host(a);
        a.db_name = Some("s".into());
        a.dump_extra_args = Some("--routines --tables t1".into());
    });
    assert!(quiet.warnings.is_empty(), "{:?}", quiet.warnings);
}

#[test]
fn redis_rows() {
    let cases: &[(Edit, &str, &[&str], &str)] = &[
        (
            |a| a.db_uri = Some("redis://:s3cret@cache:6380/0".into()),
            "redis-cli -h cache -p 6380 --rdb -",
            &["REDISCLI_AUTH=s3cret"],
            "all",
        ),
        (
            |a| {
                a.db_uri = Some("redis://:s3cret@cache/0".into());
                compress(a);
                all(a);
            },
            "redis-cli -h cache -p 6379 --rdb -",
            &["REDISCLI_AUTH=s3cret"],
            "all",
        ),
        (
            |a| a.db_uri = Some("rediss://backup:s3cret@cache:6390".into()),
            "redis-cli -h cache -p 6390 --user backup --tls --rdb -",
            &["REDISCLI_AUTH=s3cret"],
            "all",
        ),
        (
            |a| {
                a.db_host = Some("cache".into());
            },
            "redis-cli -h cache -p 6379 --rdb -",
            &[],
            "all",
        ),
        (
            |a| {
                a.db_host = Some("cache".into());
                a.db_user = Some("backup".into());
                a.db_password = Some("pw".into());
                a.db_name = Some("sessions".into());
            },
            "redis-cli -h cache -p 6379 --user backup --rdb -",
            &["REDISCLI_AUTH=pw"],
            "sessions",
        ),
        (
            |a| {
                a.db_host = Some("cache".into());
                all(a);
                compress(a);
                a.dump_extra_args = Some("--cacert /ca.pem".into());
            },
            "redis-cli -h cache -p 6379 --rdb - --cacert /ca.pem",
            &[],
            "all",
        ),
    ];
    for (edit, want, env, label) in cases {
        let c = cfg(EngineKind::Redis, edit);
        let r = row(&c);
        assert_eq!(r.argv, *want);
        assert_eq!(r.env, *env, "{want}");
        assert_eq!(r.ext, ".rdb");
        assert_eq!(c.db_label(), *label, "{want}");
    }
    let c = cfg(EngineKind::Redis, |a| {
        a.db_host = Some("h".into());
        compress(a);
    });
    assert!(
        c.warnings.iter().any(|w| w.contains("already compact")),
        "{:?}",
        c.warnings
    );
    let silent = cfg(EngineKind::Redis, |a| {
        a.db_host = Some("h".into());
        all(a);
    });
    assert!(
        silent.warnings.is_empty(),
        "all-databases is silently ignored: {:?}",
        silent.warnings
    );
    for mode in ["directory", "tar"] {
        let mut a = CommonArgs {
            db_host: Some("h".into()),
            rclone_remote: Some("r:".into()),
            backup_schedule: Some("once".into()),
            ..CommonArgs::default()
        };
        a.backup_mode = Some(mode.into());
        let e = Config::resolve(EngineKind::Redis, a)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("BACKUP_MODE (--backup-mode): redis supports only `stream`"),
            "{e}"
        );
    }
}

#[test]
fn mongo_rows() {
    let cases: &[(Edit, &str, Option<&str>, &str)] = &[
        (
            |a| a.db_uri = Some("mongodb://app:pw@m1:27017,m2:27017/shop?replicaSet=rs0".into()),
            "mongodump --archive --db=shop",
            Some("--config=uri: \"mongodb://app:pw@m1:27017,m2:27017/?replicaSet=rs0&authSource=shop\"\n"),
            ".archive",
        ),
        (
            |a| { a.db_uri = Some("mongodb://app:pw@m1/shop?authSource=users".into()); compress(a); },
            "mongodump --archive --gzip --db=shop",
            Some("--config=uri: \"mongodb://app:pw@m1/?authSource=users\"\n"),
            ".archive.gz",
        ),
        (
            |a| { a.db_uri = Some("mongodb+srv://app:p%22w@cluster.example/shop".into()); all(a); },
            "mongodump --archive",
            Some("--config=uri: \"mongodb+srv://app:p%22w@cluster.example/?authSource=shop\"\n"),
            ".archive",
        ),
        (
            |a| { a.db_uri = Some("mongodb://m1:27017/shop".into()); all(a); compress(a); },
            "mongodump --archive --gzip",
            Some("--config=uri: \"mongodb://m1:27017\"\n"),
            ".archive.gz",
        ),
        (
            |a| { a.db_uri = Some("mongodb://app:pw@m1/shop".into()); a.db_auth_source = Some("users".into()); },
            "mongodump --archive --db=shop",
            Some("--config=uri: \"mongodb://app:pw@m1/?authSource=users\"\n"),
            ".archive",
        ),
        (
            |a| { a.db_uri = Some("mongodb://app:pw@m1".into()); all(a); },
            "mongodump --archive",
            Some("--config=uri: \"mongodb://app:pw@m1/?authSource=admin\"\n"),
            ".archive",
        ),
        (
            |a| { host(a); a.db_name = Some("shop".into()); },
            "mongodump --archive --host=db --port=27017 --username=app --authenticationDatabase=admin --db=shop",
            Some("--config=password: \"pw\"\n"),
            ".archive",
        ),
        (
            |a| { host(a); a.db_password = Some("p\"w\\x".into()); all(a); compress(a); a.db_auth_source = Some("users".into()); },
            "mongodump --archive --gzip --host=db --port=27017 --username=app --authenticationDatabase=users",
            Some("--config=password: \"p\\\"w\\\\x\"\n"),
            ".archive.gz",
        ),
        (
            |a| { a.db_host = Some("db".into()); a.db_port = Some("27018".into()); a.db_name = Some("shop".into()); a.dump_extra_args = Some("--gzip --numParallelCollections=2".into()); },
            "mongodump --archive --host=db --port=27018 --db=shop --gzip --numParallelCollections=2",
            None,
            ".archive.gz",
        ),
    ];
    for (edit, want, file, ext) in cases {
        let c = cfg(EngineKind::Mongo, edit);
        let r = row(&c);
        assert_eq!(r.argv, *want);
        assert!(!r.argv.contains("pw"), "no password on argv: {}", r.argv);
        assert!(r.env.is_empty());
        assert_eq!(r.file.as_deref(), *file, "{want}");
        assert_eq!(r.ext, *ext, "{want}");
    }
    let c = cfg(EngineKind::Mongo, |a| {
        a.db_uri = Some("mongodb://h/x".into());
        all(a);
    });
    assert_eq!(c.db_label(), "all");
    for extra in [
        "--out=/tmp/d",
        "-o /tmp/d",
        "--out /tmp/d",
        "--archive=/tmp/a",
    ] {
        let c = cfg(EngineKind::Mongo, |a| {
            a.db_host = Some("h".into());
            a.db_name = Some("s".into());
            a.dump_extra_args = Some(extra.into());
        });
        assert!(!c.warnings.is_empty(), "{extra} must warn");
    }
}

#[test]
fn default_ports_when_db_port_is_empty() {
    for (kind, port) in [
        (EngineKind::Pg, 5432),
        (EngineKind::Mysql, 3306),
        (EngineKind::Mariadb, 3306),
        (EngineKind::Redis, 6379),
        (EngineKind::Mongo, 27017),
    ] {
        let c = cfg(kind, |a| {
            a.db_host = Some("h".into());
            a.db_name = Some("d".into());
            a.db_port = Some("".into());
        });
        assert_eq!(c.conn.port, port, "{}", kind.key());
    }
}

#[test]
fn displayed_commands_hide_every_secret() {
    for (kind, uri) in [
        (EngineKind::Mysql, "mysql://app:hunter2@db/shop"),
        (EngineKind::Redis, "redis://:hunter2@cache:6379/0"),
        (EngineKind::Mongo, "mongodb://app:hunter2@m1/shop"),
    ] {
        let c = cfg(kind, |a| a.db_uri = Some(uri.into()));
        let shown = c.engine().dump_command(&c).to_string();
        assert!(!shown.contains("hunter2"), "{shown}");
    }
    let c = cfg(EngineKind::Mongo, |a| {
        a.db_uri = Some("mongodb://app:hunter2@m1/shop".into())
    });
    assert_eq!(
        c.engine().dump_command(&c).to_string(),
        "mongodump --config=<0600 memory file> --archive --db=shop"
    );
}

#[test]
fn pg_uri_credentials_go_to_the_environment() {
    let c = cfg(EngineKind::Pg, |a| {
        a.db_uri = Some("postgresql://app:pw@db/shop?sslmode=verify-full&sslpassword=KEYPASS&application_name=nightly%20backup".into())
    });
    let r = row(&c);
    assert_eq!(
        r.argv,
        "pg_dump --no-password --format=plain --dbname=postgresql://app@db/shop?sslmode=verify-full&application_name=nightly%20backup&service=dbstash"
    );
    assert_eq!(r.env, ["PGPASSWORD=pw"]);
    assert_eq!(
        r.file.as_deref(),
        Some("PGSERVICEFILE=[dbstash]\nsslpassword=KEYPASS\n")
    );
    let shown = c.engine().dump_command(&c).to_string();
    assert!(!shown.contains("KEYPASS"), "{shown}");
    let described = format!("{:?}", crate::config::describe(&c));
    assert!(
        !described.contains("KEYPASS") && described.contains("sslpassword=***"),
        "{described}"
    );
}

#[test]
fn mysql_uri_credentials_stay_off_argv() {
    let c = cfg(EngineKind::Mysql, |a| {
        a.db_uri = Some("mysql://app:pw@db/shop?ssl-mode=REQUIRED&token=T0K".into())
    });
    assert_eq!(
        row(&c).argv,
        "mysqldump --host=db --port=3306 --user=app --ssl-mode=REQUIRED --single-transaction shop"
    );
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("option token looks like a credential")),
        "{:?}",
        c.warnings
    );
}

#[test]
fn secret_flag_values_are_redacted_for_display() {
    let args: Vec<String> = [
        "--s3-secret-access-key=SK",
        "--s3-chunk-size",
        "64M",
        "--sftp-pass",
        "PW",
        "--verbose",
        "--token",
        "--x",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(
        redact_args(&args),
        [
            "--s3-secret-access-key=***",
            "--s3-chunk-size",
            "64M",
            "--sftp-pass",
            "***",
            "--verbose",
            "--token",
            "--x"
        ]
    );
    let c = cfg(EngineKind::Pg, |a| {
        a.db_host = Some("h".into());
        a.db_name = Some("d".into());
        a.dump_extra_args = Some("--no-owner".into());
        a.rclone_extra_args = Some("--s3-secret-access-key SECRETVALUE".into());
    });
    let described = format!("{:?}", crate::config::describe(&c));
    assert!(!described.contains("SECRETVALUE"), "{described}");
}

/// The connection check of each engine: exact argv, the dump's secrets in the same place,
/// none on argv.
fn check_row(c: &Config) -> Row {
    let d = c.engine().check_command(c);
    Row {
        argv: format!("{} {}", d.program, d.args.join(" ")),
        env: d
            .env
            .iter()
            .map(|(k, v)| format!("{k}={}", v.expose_secret()))
            .collect(),
        file: d.secret_file.as_ref().map(|f| {
            let how = match f.pass {
                PassPath::Flag(flag) => flag.to_string(),
                PassPath::Env(var) => format!("{var}="),
            };
            format!("{how}{}", f.content.expose_secret())
        }),
        ext: String::new(),
    }
}

#[test]
fn check_commands_use_the_dump_connection() {
    type Case = (
        EngineKind,
        Edit,
        &'static str,
        &'static [&'static str],
        Option<&'static str>,
    );
    let cases: &[Case] = &[
        (
            EngineKind::Mysql,
            |a| {
                host(a);
                a.db_name = Some("shop".into());
                a.dump_extra_args = Some("--routines".into());
            },
            "mysql --host=db --port=3306 --user=app --batch --skip-column-names --execute=SELECT 1 shop",
            &["MYSQL_PWD=pw"],
            None,
        ),
        (
            EngineKind::Mariadb,
            |a| a.db_uri = Some("mariadb://app:pw@db:3307/shop?ssl-mode=REQUIRED".into()),
            "mariadb --host=db --port=3307 --user=app --ssl-mode=REQUIRED --batch --skip-column-names --execute=SELECT 1 shop",
            &["MYSQL_PWD=pw"],
            None,
        ),
        (
            EngineKind::Mariadb,
            |a| {
                host(a);
                all(a);
            },
            "mariadb --host=db --port=3306 --user=app --batch --skip-column-names --execute=SELECT 1",
            &["MYSQL_PWD=pw"],
            None,
        ),
        (
            EngineKind::Redis,
            |a| a.db_uri = Some("rediss://backup:s3cret@cache:6390".into()),
            "redis-cli -h cache -p 6390 --user backup --tls PING",
            &["REDISCLI_AUTH=s3cret"],
            None,
        ),
        (
            EngineKind::Redis,
            |a| {
                a.db_host = Some("cache".into());
                a.dump_extra_args = Some("--cacert /ca.pem".into());
            },
            "redis-cli -h cache -p 6379 --cacert /ca.pem PING",
            &[],
            None,
        ),
        (
            EngineKind::Mongo,
            |a| a.db_uri = Some("mongodb://app:pw@m1:27017,m2:27017/shop?replicaSet=rs0".into()),
            "mongodump --db=shop --collection=dbstash-check-no-such-collection --archive=/dev/null",
            &[],
            Some("--config=uri: \"mongodb://app:pw@m1:27017,m2:27017/?replicaSet=rs0&authSource=shop\"\n"),
        ),
        (
            EngineKind::Mongo,
            |a| {
                host(a);
                a.db_name = Some("shop".into());
                compress(a);
                a.dump_extra_args = Some(
                    "--tls --tlsCAFile /ca.pem --oplog --excludeCollection=logs --readPreference=secondary".into(),
                );
            },
            "mongodump --host=db --port=27017 --username=app --authenticationDatabase=admin --db=shop --collection=dbstash-check-no-such-collection --archive=/dev/null --tls --tlsCAFile /ca.pem --readPreference=secondary",
            &[],
            Some("--config=password: \"pw\"\n"),
        ),
        (
            EngineKind::Mongo,
            |a| {
                a.db_host = Some("m".into());
                all(a);
            },
            "mongodump --host=m --port=27017 --db=admin --collection=dbstash-check-no-such-collection --archive=/dev/null",
            &[],
            None,
        ),
    ];
    for (kind, edit, want, env, file) in cases {
        let c = cfg(*kind, edit);
        let r = check_row(&c);
        assert_eq!(r.argv, *want);
        assert_eq!(r.env, *env, "{want}");
        assert_eq!(r.file.as_deref(), *file, "{want}");
        for secret in ["pw", "s3cret"] {
            assert!(
                !c.engine()
                    .check_command(&c)
                    .args
                    .iter()
                    .any(|a| a.contains(secret)),
                "{want}"
            );
        }
    }
    let mariadb = cfg(EngineKind::Mariadb, |a| {
        host(a);
        a.db_name = Some("s".into());
    });
    assert_eq!(
        mariadb.engine().check_command(&mariadb).fallback.as_deref(),
        Some("mysql")
    );
    assert_eq!(
        EngineKind::Redis.engine().check_replies(),
        ["PONG", "NOPERM"]
    );
    assert_eq!(EngineKind::Mysql.engine().check_replies(), ["1"]);
    assert!(EngineKind::Mongo.engine().check_replies().is_empty());
}

#[test]
fn secret_flag_values_are_found_for_redaction() {
    let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    assert_eq!(
        arg_secrets(
            &args("-vv --s3-secret-access-key SK1 --sftp-pass=PW2 --webdav-bearer-token TK3 --s3-sse-customer-key=CK4 --ask-password=false --s3-chunk-size 64M --token --x --api-key=1234 --password"),
            &[]
        ),
        ["SK1", "PW2", "TK3", "CK4", "false"],
        "switch values are dropped by redact::register, numbers here"
    );
    assert_eq!(
        arg_secrets(
            &[
                "--header",
                "Authorization: Bearer Tok-1",
                "--header-upload=X-Api-Key: Key-2",
                "--header",
                "Accept: text/plain",
            ]
            .map(String::from),
            &[]
        ),
        ["Tok-1", "Key-2"]
    );
    // Credentials named otherwise, and backend header lists (name,value pairs, CSV quotes).
    assert_eq!(
        arg_secrets(
            &args("--sftp-key-pem Pem-1 --s3-sse-customer-key-base64 B64-2 --azureblob-sas-url Sas-3 --drive-service-account-credentials Cred-4 --azurefiles_connection_string Conn-5 --apikey Api-6 --disable-keys shop --keyring-dir /k"),
            &[]
        ),
        ["Pem-1", "B64-2", "Sas-3", "Cred-4", "Conn-5", "Api-6"],
        "`--disable-keys shop`: shop is not a secret"
    );
    assert_eq!(
        arg_secrets(
            &[
                "--webdav-headers",
                "Authorization,Bearer Dav-1,X-Trace,abc",
                "--http-headers=\"Cookie\",\"id=Cookie-2\"",
            ]
            .map(String::from),
            &[]
        ),
        ["Dav-1", "id=Cookie-2"]
    );
    for name in [
        "RCLONE_GCS_SERVICE_ACCOUNT_CREDENTIALS",
        "RCLONE_AZUREBLOB_SAS_URL",
        "connection_string",
        "sslpassword",
    ] {
        assert!(is_secret_name(name), "{name}");
    }
    assert!(!is_secret_name("RCLONE_S3_REGION"));
    let mysql = [ShortSecret {
        flag: "-p",
        separate: false,
    }];
    assert_eq!(
        arg_secrets(&args("-pShortPw --port 3306 -p shop"), &mysql),
        ["ShortPw"],
        "`-p shop` prompts: shop is the database"
    );
    let mongo = [ShortSecret {
        flag: "-p",
        separate: true,
    }];
    assert_eq!(
        arg_secrets(&args("-p MongoPw -pInline"), &mongo),
        ["MongoPw", "Inline"]
    );
    let c = cfg(EngineKind::Redis, |a| {
        a.db_host = Some("h".into());
        a.dump_extra_args = Some("-a RedisPw --tls".into());
    });
    assert_eq!(dump_secrets(&c), ["RedisPw"]);
    let c = cfg(EngineKind::Pg, |a| {
        a.db_uri = Some("postgresql://u:pw@h/d?sslpassword=Ssl-Pass&sslmode=require".into());
    });
    assert_eq!(dump_secrets(&c), ["Ssl-Pass"]);
}

// ------------------------------------------------------------------ verify facts

/// A config for one database (`shop`) or all of them.
fn facts_cfg(kind: EngineKind, all: bool) -> Config {
    cfg(kind, |a| {
        a.db_host = Some("h".into());
        if all {
            a.backup_all_databases = Some("true".into());
        } else {
            a.db_name = Some("shop".into());
        }
    })
}

#[test]
fn every_engine_lists_the_extensions_it_can_write() {
    for (kind, want) in [
        (
            EngineKind::Pg,
            &[
                ".sql",
                ".dump",
                ".sql.gz",
                ".sql.zst",
                ".sql.lz4",
                ".tar",
                ".dump.zst",
                ".dump.gz",
                ".tar.zst",
                ".tar.gz",
            ][..],
        ),
        (EngineKind::Mysql, &[".sql", ".sql.zst", ".sql.gz"]),
        (EngineKind::Mariadb, &[".sql", ".sql.zst", ".sql.gz"]),
        (EngineKind::Redis, &[".rdb", ".rdb.zst", ".rdb.gz"]),
        (
            EngineKind::Mongo,
            &[".archive", ".archive.gz", ".archive.zst"],
        ),
    ] {
        assert_eq!(kind.engine().known_extensions(), want, "{kind:?}");
        // Whatever the settings, the extension picked is one of them.
        for (compress, algo) in [
            (false, None),
            (true, None),
            (true, Some("zstd")),
            (true, Some("gzip")),
        ] {
            let c = cfg(kind, |a| {
                a.db_host = Some("h".into());
                a.db_name = Some("shop".into());
                a.backup_compress = Some(compress.to_string());
                a.backup_compress_algo = algo.map(Into::into);
            });
            assert!(
                want.contains(&extension(&c).as_str()),
                "{kind:?} {compress} {algo:?}: {}",
                extension(&c)
            );
        }
    }
}

/// The checks each engine asks for, by content: engine facts, asserted here in one table.
#[test]
fn each_engine_checks_what_it_writes() {
    use EngineKind::*;
    let tool = |program, args: &'static [&'static str], optional| Completeness::Tool {
        program,
        args,
        optional,
    };
    type Want = Result<Vec<Completeness>, &'static str>;
    let table: Vec<(Config, Content, Want)> = vec![
        (
            facts_cfg(Pg, false),
            Content::PgCustom,
            Ok(vec![
                tool("pg_restore", &["--list"], false),
                tool("pg_restore", &["--file=/dev/null"], false),
            ]),
        ),
        (
            facts_cfg(Pg, false),
            Content::Tar,
            Ok(vec![
                tool("pg_restore", &["--list"], false),
                tool("pg_restore", &["--file=/dev/null"], false),
            ]),
        ),
        (
            facts_cfg(Pg, false),
            Content::Text,
            Ok(vec![Completeness::Trailer(
                "-- PostgreSQL database dump complete",
            )]),
        ),
        (
            facts_cfg(Pg, true),
            Content::Text,
            Ok(vec![Completeness::Trailer(
                "-- PostgreSQL database cluster dump complete",
            )]),
        ),
        (
            facts_cfg(Pg, false),
            Content::Rdb,
            Err("not a PostgreSQL dump"),
        ),
        (
            facts_cfg(Mysql, false),
            Content::Text,
            Ok(vec![Completeness::Trailer("-- Dump completed")]),
        ),
        (
            facts_cfg(Mariadb, true),
            Content::Text,
            Ok(vec![Completeness::Trailer("-- Dump completed")]),
        ),
        (
            facts_cfg(Mariadb, false),
            Content::PgCustom,
            Err("not a SQL dump"),
        ),
        (
            facts_cfg(Redis, false),
            Content::Rdb,
            Ok(vec![tool("redis-check-rdb", &[], true)]),
        ),
        (
            facts_cfg(Redis, false),
            Content::Text,
            Err("not a Redis RDB snapshot"),
        ),
        (
            facts_cfg(Mongo, false),
            Content::MongoArchive,
            Ok(vec![Completeness::MongoArchive]),
        ),
        (
            facts_cfg(Mongo, false),
            Content::Text,
            Err("not a mongodump archive"),
        ),
    ];
    for (c, content, want) in table {
        let got = c.engine().completeness(&c, content);
        match want {
            Ok(w) => assert_eq!(got, Ok(w), "{} {content:?}", c.engine.key()),
            Err(needle) => {
                let e = got.unwrap_err();
                assert!(e.contains(needle), "{} {content:?}: {e}", c.engine.key());
            }
        }
    }
}

#[test]
fn content_is_sniffed_from_the_first_bytes() {
    assert_eq!(Content::sniff(b"PGDMP\x01\x0e"), Content::PgCustom);
    assert_eq!(Content::sniff(b"REDIS0011\xfa"), Content::Rdb);
    assert_eq!(
        Content::sniff(&[0x6d, 0xe2, 0x99, 0x81, 5]),
        Content::MongoArchive
    );
    let mut tar = vec![0u8; 512];
    tar[257..262].copy_from_slice(b"ustar");
    assert_eq!(Content::sniff(&tar), Content::Tar);
    assert_eq!(
        Content::sniff(b"--\n-- PostgreSQL database dump\n"),
        Content::Text
    );
    assert_eq!(Content::sniff(b""), Content::Text);
}

fn split(a: &mut CommonArgs) {
    a.backup_all_databases = Some("true".into());
    a.backup_split_databases = Some("true".into());
}

/// BACKUP_SPLIT_DATABASES: the listing command of each engine (the dump's connection and
/// secrets, never on argv), and the single-database dump each database gets.
#[test]
fn split_listing_and_per_database_rows() {
    // pg: psql on the maintenance database, PGPASSWORD.
    let c = cfg(EngineKind::Pg, |a| {
        host(a);
        split(a);
    });
    let l = c.engine().list_databases_command(&c).unwrap();
    assert_eq!(l.program, "psql");
    assert_eq!(
        l.args[..5].join(" "),
        "--no-password --host=db --port=5432 --username=app --dbname=postgres"
    );
    assert!(l
        .args
        .last()
        .unwrap()
        .contains("FROM pg_database WHERE datallowconn"));
    assert!(l.args.last().unwrap().contains("'#superuser'"));
    assert_eq!(l.env.len(), 1);
    assert_eq!(l.env[0].0, "PGPASSWORD");
    assert_eq!(c.engine().system_databases(), ["template0", "template1"]);
    let one = c.for_database("shop");
    assert_eq!(
        row(&one).argv,
        "pg_dump --no-password --format=plain --host=db --port=5432 --username=app --dbname=shop"
    );
    let globals = c.for_globals();
    assert_eq!(
        row(&globals).argv,
        "pg_dumpall --no-password --host=db --port=5432 --username=app --globals-only"
    );
    assert_eq!(row(&globals).ext, ".sql");
    // Names libpq would read as connection settings go quoted as `dbname='…'`.
    for (db, arg) in [
        ("a=b", "--dbname=dbname='a=b'"),
        (
            "postgresql://evil/x",
            "--dbname=dbname='postgresql://evil/x'",
        ),
        ("it's=\\", r"--dbname=dbname='it\'s=\\'"),
        ("-dash", "--dbname=-dash"),
    ] {
        let argv = row(&c.for_database(db)).argv;
        assert!(argv.ends_with(&format!(" {arg}")), "{db}: {argv}");
    }
    assert_eq!(crate::template::db_in_names(globals.name_db()), "globals");

    // pg with a URI: each database replaces the URI's path, its options stay.
    let c = cfg(EngineKind::Pg, |a| {
        a.db_uri = Some("postgresql://app:pw@db/postgres?sslmode=require".into());
        split(a);
        compress(a);
    });
    assert_eq!(
        row(&c.for_database("a b")).argv,
        "pg_dump --no-password --format=custom --dbname=postgresql://app@db/a%20b?sslmode=require"
    );

    // mysql / mariadb: the client, MYSQL_PWD, hex-encoded schema names.
    for (kind, program) in [
        (EngineKind::Mysql, "mysql"),
        (EngineKind::Mariadb, "mariadb"),
    ] {
        let c = cfg(kind, |a| {
            host(a);
            split(a);
        });
        let l = c.engine().list_databases_command(&c).unwrap();
        assert_eq!(
            format!("{} {}", l.program, l.args.join(" ")),
            format!("{program} --host=db --port=3306 --user=app --batch --skip-column-names --execute=SELECT HEX(SCHEMA_NAME) FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME")
        );
        assert_eq!(l.env[0].0, "MYSQL_PWD");
        assert!(row(&c.for_database("shop")).argv.ends_with(" shop"));
        let c = cfg(kind, |a| {
            a.db_uri = Some("mysql://app:pw@db:3307/".into());
            split(a);
        });
        let argv = row(&c.for_database("shop")).argv;
        assert!(
            argv.contains("--port=3307") && argv.ends_with(" shop"),
            "{argv}"
        );
    }
    // BACKUP_EXTENSION names the databases' backups; the globals keep what they are.
    let c = cfg(EngineKind::Pg, |a| {
        host(a);
        split(a);
        a.backup_extension = Some(".pgdump".into());
    });
    assert_eq!(row(&c.for_database("shop")).ext, ".pgdump");
    assert_eq!(row(&c.for_globals()).ext, ".sql");

    // mongo: mongosh --nodb, the URI with the password in its environment only.
    let c = cfg(EngineKind::Mongo, |a| {
        a.db_host = Some("::1".into());
        a.db_user = Some("r@ot".into());
        a.db_password = Some("p:w/1".into());
        split(a);
    });
    let l = c.engine().list_databases_command(&c).unwrap();
    assert_eq!(l.program, "mongosh");
    assert_eq!(l.args[..4].join(" "), "--nodb --quiet --norc --eval");
    assert!(!l.args.join(" ").contains("p:w/1"));
    assert_eq!(l.env[0].0, "DBSTASH_MONGO_URI");
    assert_eq!(
        l.env[0].1.expose_secret(),
        "mongodb://r%40ot:p%3Aw%2F1@[::1]:27017/?authSource=admin"
    );
    assert_eq!(c.engine().system_databases(), ["admin", "config", "local"]);
    assert!(row(&c.for_database("app")).argv.contains("--db=app"));

    // redis has no databases to split (and the setting is exit 2 there).
    let r = cfg(EngineKind::Redis, |a| a.db_host = Some("r".into()));
    assert!(r.engine().list_databases_command(&r).is_none());
}

/// With BACKUP_SPLIT_DATABASES, DUMP_EXTRA_ARGS go to each database's pg_dump: pg_dumpall's
/// own flags are exit 2 naming DUMP_EXTRA_ARGS; pg_dump's are fine.
#[test]
fn split_refuses_pg_dumpall_flags_in_dump_extra_args() {
    let resolve = |extra: &str| {
        let mut a = CommonArgs {
            rclone_remote: Some("s3:b".into()),
            backup_schedule: Some("once".into()),
            dump_extra_args: Some(extra.into()),
            ..CommonArgs::default()
        };
        host(&mut a);
        split(&mut a);
        Config::resolve(EngineKind::Pg, a)
    };
    for bad in [
        "-l maint",
        "-lmaint",
        "--database=maint",
        "--globals-only",
        "--exclude-database=x",
        "--no-role-passwords",
        "-r",
    ] {
        let e = resolve(bad).unwrap_err().to_string();
        assert!(
            e.contains("DUMP_EXTRA_ARGS") && e.contains("pg_dumpall's"),
            "{bad}: {e}"
        );
    }
    for fine in [
        "--no-owner",
        "--schema=app",
        "-t orders",
        "--no-sync",
        "--lock-wait-timeout=5s",
    ] {
        assert!(resolve(fine).is_ok(), "{fine}");
    }
}
