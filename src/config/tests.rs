use super::*;
use std::io::Write as _;

fn args() -> CommonArgs {
    CommonArgs {
        db_host: Some("db.internal".into()),
        db_name: Some("app".into()),
        rclone_remote: Some("s3:bucket/backups".into()),
        backup_schedule: Some("once".into()),
        ..CommonArgs::default()
    }
}

fn resolve(a: CommonArgs) -> Result<Config, ConfigError> {
    Config::resolve(EngineKind::Pg, a)
}

fn err(a: CommonArgs) -> String {
    resolve(a).unwrap_err().to_string()
}

fn secret_file(content: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(content.as_bytes()).unwrap();
    f
}

#[test]
fn host_fields_with_defaults() {
    let c = resolve(args()).unwrap();
    assert_eq!(c.conn.host.as_deref(), Some("db.internal"));
    assert_eq!(c.conn.port, 5432);
    assert_eq!(c.conn.database.as_deref(), Some("app"));
    assert!(c.conn.uri.is_none());
    assert_eq!(c.mode, BackupMode::Stream);
    assert_eq!(c.template.to_string(), "{db}-{date}-{time}");
    assert_eq!(c.tz, Tz::UTC);
    assert_eq!(c.notify.on, NotifyOn::Failure);
    assert_eq!(c.log_format, LogFormat::Text);
    assert_eq!(c.log_level, tracing::Level::INFO);
    assert!(c.lock && c.checksum && !c.compress && !c.dry_run && !c.all_databases);
    assert_eq!(c.retention, RetentionPolicy::default());
    assert_eq!(c.temp_dir, PathBuf::from("/tmp/dbstash-work"));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn uri_password_is_split_off_and_decoded() {
    let mut a = args();
    a.db_host = None;
    a.db_name = None;
    a.db_uri = Some("postgresql://bob:p%40ss%2Fw0rd@pg.example:6543/shop?sslmode=require".into());
    let c = resolve(a).unwrap();
    let uri = c.conn.uri.as_ref().unwrap().to_string();
    assert_eq!(uri, "postgresql://bob@pg.example:6543/shop?sslmode=require");
    assert_eq!(
        c.conn.password.as_ref().unwrap().expose_secret(),
        "p@ss/w0rd"
    );
    assert_eq!(c.conn.database.as_deref(), Some("shop"));
    assert_eq!(c.conn.port, 6543);
    assert_eq!(c.conn.user.as_deref(), Some("bob"));
}

#[test]
fn uri_password_query_parameter_is_split_off() {
    let mut a = args();
    a.db_host = None;
    a.db_name = None;
    a.db_uri = Some("postgres://bob@h/shop?password=s3cret&sslmode=disable".into());
    let c = resolve(a).unwrap();
    assert_eq!(
        c.conn.uri.as_ref().unwrap().to_string(),
        "postgres://bob@h/shop?sslmode=disable"
    );
    assert_eq!(c.conn.password.as_ref().unwrap().expose_secret(), "s3cret");
}

#[test]
fn uri_wins_over_fields_with_a_warning() {
    let mut a = args();
    a.db_uri = Some("postgresql://u@h/shop".into());
    let c = resolve(a).unwrap();
    assert_eq!(c.conn.database.as_deref(), Some("shop"));
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("DB_HOST, DB_NAME ignored")),
        "{:?}",
        c.warnings
    );
}

#[test]
fn uri_without_password_uses_db_password() {
    let mut a = args();
    a.db_uri = Some("postgresql://u@h/shop".into());
    a.db_name = None;
    a.db_password = Some("pw".into());
    let c = resolve(a).unwrap();
    assert_eq!(c.conn.password.as_ref().unwrap().expose_secret(), "pw");
}

#[test]
fn file_variants_win_over_plain_ones() {
    let uri = secret_file("postgresql://u:from-file@h/filedb\n");
    let pw = secret_file("pw-from-file\n");
    let mut a = args();
    a.db_uri = Some("postgresql://u:plain@h/plaindb".into());
    a.db_uri_file = Some(uri.path().display().to_string());
    a.db_name = None;
    let c = resolve(a).unwrap();
    assert_eq!(c.conn.database.as_deref(), Some("filedb"));
    assert_eq!(
        c.conn.password.as_ref().unwrap().expose_secret(),
        "from-file"
    );

    let mut a = args();
    a.db_password = Some("plain".into());
    a.db_password_file = Some(pw.path().display().to_string());
    let c = resolve(a).unwrap();
    assert_eq!(
        c.conn.password.as_ref().unwrap().expose_secret(),
        "pw-from-file"
    );
}

#[test]
fn rclone_config_inline_and_file() {
    let mut a = args();
    a.rclone_config = Some("W3JdCnR5cGUgPSBsb2NhbAo=".into()); // "[r]\ntype = local\n"
    match resolve(a).unwrap().rclone_config {
        RcloneConfig::Inline(s) => assert_eq!(s.expose_secret(), "[r]\ntype = local\n"),
        other => panic!("{other:?}"),
    }
    let f = secret_file("[r]\ntype = local\n");
    let mut a = args();
    a.rclone_config = Some("W3JdCnR5cGUgPSBsb2NhbAo=".into());
    a.rclone_config_file = Some(f.path().display().to_string());
    let c = resolve(a).unwrap();
    assert!(matches!(c.rclone_config, RcloneConfig::File(ref p) if p == f.path()));
    assert!(c
        .warnings
        .iter()
        .any(|w| w.contains("RCLONE_CONFIG is ignored")));
}

#[test]
fn booleans_accept_common_spellings_and_the_all_dbs_alias() {
    for (v, want) in [
        ("true", true),
        ("1", true),
        ("yes", true),
        ("ON", true),
        ("false", false),
        ("0", false),
        ("no", false),
    ] {
        let mut a = args();
        a.backup_compress = Some(v.into());
        assert_eq!(resolve(a).unwrap().compress, want, "{v}");
    }
    let mut a = args();
    a.db_name = None;
    a.backup_all_dbs = Some("true".into());
    let c = resolve(a).unwrap();
    assert!(c.all_databases);
    assert_eq!(c.db_label(), "all");
}

#[test]
fn empty_values_count_as_unset() {
    let mut a = args();
    a.backup_mode = Some("".into());
    a.tz = Some("".into());
    a.db_port = Some(" ".into());
    let c = resolve(a).unwrap();
    assert_eq!(c.mode, BackupMode::Stream);
    assert_eq!(c.conn.port, 5432);
}

#[test]
fn values_parse() {
    let mut a = args();
    a.tz = Some("Europe/Berlin".into());
    a.retention_max_files = Some("7".into());
    a.retention_max_days = Some("30".into());
    a.log_format = Some("JSON".into());
    a.log_level = Some("debug".into());
    a.notify.notify_on = Some("always".into());
    a.backup_extension = Some("sql.gz".into());
    a.dump_extra_args = Some("--schema 'my schema' -v".into());
    a.rclone_extra_args = Some("--s3-chunk-size 64M".into());
    a.backup_lock = Some("false".into());
    let c = resolve(a).unwrap();
    assert_eq!(c.tz, Tz::Europe__Berlin);
    assert_eq!(
        c.retention,
        RetentionPolicy {
            keep: Default::default(),
            max_files: 7,
            max_days: 30
        }
    );
    assert_eq!(c.log_format, LogFormat::Json);
    assert_eq!(c.log_level, tracing::Level::DEBUG);
    assert_eq!(c.notify.on, NotifyOn::Always);
    assert_eq!(c.extension.as_deref(), Some(".sql.gz"));
    assert_eq!(c.dump_extra_args, ["--schema", "my schema", "-v"]);
    assert_eq!(c.rclone_extra_args, ["--s3-chunk-size", "64M"]);
    assert!(!c.lock);
}

#[test]
fn durations() {
    assert_eq!(parse_duration("30m"), Ok(Some(Duration::from_secs(1800))));
    assert_eq!(parse_duration("1h"), Ok(Some(Duration::from_secs(3600))));
    assert_eq!(parse_duration("1h30m"), Ok(Some(Duration::from_secs(5400))));
    assert_eq!(parse_duration("90s"), Ok(Some(Duration::from_secs(90))));
    assert_eq!(
        parse_duration("1500ms"),
        Ok(Some(Duration::from_millis(1500)))
    );
    assert_eq!(parse_duration("2d"), Ok(Some(Duration::from_secs(172_800))));
    assert_eq!(parse_duration("0"), Ok(None));
    assert_eq!(
        parse_duration("3650d"),
        Ok(Some(Duration::from_secs(3650 * 86400)))
    );
    for bad in [
        "",
        "30",
        "m",
        "1x",
        "1h-5m",
        "-1h",
        "1.5h",
        "h1",
        "18446744073709551615s1s",
        "150000000000000d",
        "3651d",
        "99999999999999999999s",
    ] {
        assert!(parse_duration(bad).is_err(), "{bad:?} must be rejected");
    }
}

#[test]
fn schedules() {
    assert!(matches!(parse_schedule("once"), Ok(Schedule::Once)));
    assert!(matches!(parse_schedule("ONCE"), Ok(Schedule::Once)));
    for ok in ["0 2 * * *", "*/2 * * * * *", "@daily", "0 3 * * MON-FRI"] {
        assert!(
            matches!(parse_schedule(ok), Ok(Schedule::Cron { .. })),
            "{ok}"
        );
    }
    for bad in [
        "",
        "daily",
        "0 2 * *",
        "61 * * * *",
        "0 0 2 * * * 2026",
        "0 0 30 2 *",
    ] {
        let Err(e) = parse_schedule(bad) else {
            panic!("{bad:?} accepted")
        };
        let e = e.to_string();
        assert!(
            e.starts_with("BACKUP_SCHEDULE (--backup-schedule): "),
            "{e}"
        );
    }
}

/// Every invalid input: one line naming the variable (and flag) and what was expected.
#[test]
fn every_invalid_input_names_its_variable() {
    type Edit = fn(&mut CommonArgs);
    let cases: &[(&str, Edit, &str)] = &[
        (
            "RCLONE_REMOTE (--rclone-remote)",
            |a| a.rclone_remote = None,
            "is required",
        ),
        (
            "DB_URI (--db-uri) or DB_HOST (--db-host)",
            |a| a.db_host = None,
            "no database connection",
        ),
        (
            "DB_NAME (--db-name)",
            |a| a.db_name = None,
            "is required with DB_HOST",
        ),
        (
            "DB_URI (--db-uri)",
            |a| a.db_uri = Some("not a uri".into()),
            "not a URI: expected scheme://",
        ),
        (
            "DB_URI (--db-uri)",
            |a| a.db_uri = Some("mysql://u@h/db".into()),
            "scheme 'mysql' does not fit engine pg",
        ),
        (
            "DB_URI (--db-uri)",
            |a| a.db_uri = Some("postgresql://u@h".into()),
            "has no database name",
        ),
        (
            "DB_URI_FILE (--db-uri-file)",
            |a| a.db_uri_file = Some("/nonexistent/uri".into()),
            "cannot read '/nonexistent/uri'",
        ),
        (
            "DB_PASSWORD_FILE (--db-password-file)",
            |a| a.db_password_file = Some("/nonexistent/pw".into()),
            "cannot read",
        ),
        (
            "DB_PORT (--db-port)",
            |a| a.db_port = Some("70000".into()),
            "not a port",
        ),
        (
            "RCLONE_CONFIG (--rclone-config)",
            |a| a.rclone_config = Some("not base64!".into()),
            "not valid base64",
        ),
        (
            "RCLONE_CONFIG (--rclone-config)",
            |a| a.rclone_config = Some("//79".into()),
            "binary",
        ),
        (
            "RCLONE_CONFIG_FILE (--rclone-config-file)",
            |a| a.rclone_config_file = Some("/nonexistent/rclone.conf".into()),
            "cannot read",
        ),
        (
            "RCLONE_EXTRA_ARGS (--rclone-extra-args)",
            |a| a.rclone_extra_args = Some("--x 'unclosed".into()),
            "cannot split",
        ),
        (
            "DUMP_EXTRA_ARGS (--dump-extra-args)",
            |a| a.dump_extra_args = Some("\"unclosed".into()),
            "cannot split",
        ),
        (
            "BACKUP_SCHEDULE (--backup-schedule)",
            |a| a.backup_schedule = Some("every day".into()),
            "not a valid cron",
        ),
        (
            "BACKUP_MODE (--backup-mode)",
            |a| a.backup_mode = Some("zip".into()),
            "expected stream, directory or tar",
        ),
        (
            "BACKUP_NAME_TEMPLATE (--backup-name-template)",
            |a| a.backup_name_template = Some("{db}-{hour}".into()),
            "unknown token '{hour}'",
        ),
        (
            "BACKUP_COMPRESS (--backup-compress)",
            |a| a.backup_compress = Some("maybe".into()),
            "not a boolean",
        ),
        (
            "BACKUP_ALL_DATABASES (--backup-all-databases)",
            |a| a.backup_all_databases = Some("sure".into()),
            "not a boolean",
        ),
        (
            "BACKUP_EXTENSION (--backup-extension)",
            |a| a.backup_extension = Some("a/b".into()),
            "must not contain '/'",
        ),
        (
            "TZ (--tz)",
            |a| a.tz = Some("Mars/Olympus".into()),
            "unknown time zone 'Mars/Olympus'",
        ),
        (
            "RETENTION_MAX_FILES (--retention-max-files)",
            |a| a.retention_max_files = Some("-1".into()),
            "not a whole number",
        ),
        (
            "RETENTION_MAX_DAYS (--retention-max-days)",
            |a| a.retention_max_days = Some("ten".into()),
            "not a whole number",
        ),
        (
            "NOTIFY_WEBHOOK_URL (--notify-webhook-url)",
            |a| a.notify.notify_webhook_url = Some("ftp://x".into()),
            "not an http(s) URL",
        ),
        (
            "NOTIFY_ON (--notify-on)",
            |a| a.notify.notify_on = Some("never".into()),
            "expected always, failure or success",
        ),
        (
            "LOG_LEVEL (--log-level)",
            |a| a.log_level = Some("loud".into()),
            "expected debug, info, warn or error",
        ),
        (
            "LOG_FORMAT (--log-format)",
            |a| a.log_format = Some("xml".into()),
            "expected text or json",
        ),
        (
            "BACKUP_TIMEOUT (--backup-timeout)",
            |a| a.backup_timeout = Some("soon".into()),
            "not a duration",
        ),
        (
            "BACKUP_LOCK (--backup-lock)",
            |a| a.backup_lock = Some("2".into()),
            "not a boolean",
        ),
        (
            "DRY_RUN (--dry-run)",
            |a| a.dry_run = Some("y e s".into()),
            "not a boolean",
        ),
        (
            "DB_NAME (--db-name) and BACKUP_ALL_DATABASES (--backup-all-databases)",
            |a| a.backup_all_databases = Some("true".into()),
            "mutually exclusive",
        ),
    ];
    for (subject, edit, needle) in cases {
        let mut a = args();
        edit(&mut a);
        let e = resolve(a).unwrap_err();
        assert_eq!(&e.subject, subject, "for {needle}");
        assert!(
            e.message.contains(needle),
            "{subject}: {} (wanted {needle})",
            e.message
        );
        assert!(!e.to_string().contains('\n'), "one line: {e}");
    }
}

#[test]
fn errors_never_echo_a_uri_password() {
    let mut a = args();
    a.db_uri = Some("mysql://u:topsecret@h/db".into());
    assert!(!err(a).contains("topsecret"));
    let mut a = args();
    a.db_uri = Some("postgresql://u:topsecret@h:notaport/db".into());
    assert!(!err(a).contains("topsecret"));
}

#[test]
fn modes_follow_the_compatibility_matrix() {
    let with = |engine: EngineKind, mode: &str, edit: fn(&mut CommonArgs)| {
        let mut a = args();
        a.backup_mode = Some(mode.into());
        edit(&mut a);
        Config::resolve(engine, a)
    };
    for mode in ["directory", "tar", "Directory", "TAR"] {
        for engine in [
            EngineKind::Pg,
            EngineKind::Mysql,
            EngineKind::Mariadb,
            EngineKind::Mongo,
        ] {
            let c = with(engine, mode, |_| {}).unwrap();
            assert_ne!(c.mode, BackupMode::Stream);
        }
        let e = with(EngineKind::Redis, mode, |_| {})
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("BACKUP_MODE ("), "{e}");
        assert!(e.contains("single file"), "{e}");
        for engine in [EngineKind::Pg, EngineKind::Mysql, EngineKind::Mariadb] {
            let e = with(engine, mode, |a| {
                a.db_name = None;
                a.backup_all_databases = Some("true".into());
            })
            .unwrap_err()
            .to_string();
            assert!(e.starts_with("BACKUP_MODE ("), "{e}");
            assert!(e.contains("BACKUP_ALL_DATABASES"), "{e}");
            assert!(e.contains("stream"), "{e}");
        }
        // mongodump --out writes one folder per database: all databases work.
        with(EngineKind::Mongo, mode, |a| {
            a.db_name = None;
            a.backup_all_databases = Some("true".into());
        })
        .unwrap();
        // Flags that choose where the tool writes are dbstash's in these modes.
        for (engine, flag) in [
            (EngineKind::Pg, "--format=custom"),
            (EngineKind::Pg, "-f /tmp/x"),
            (EngineKind::Mysql, "--tab=/tmp"),
            (EngineKind::Mariadb, "--result-file=/tmp/x"),
            (EngineKind::Mongo, "--archive"),
            (EngineKind::Mongo, "--out=/tmp/x"),
        ] {
            let mut a = args();
            a.backup_mode = Some(mode.into());
            a.dump_extra_args = Some(flag.into());
            let e = Config::resolve(engine, a).unwrap_err().to_string();
            assert!(e.starts_with("DUMP_EXTRA_ARGS ("), "{engine:?} {flag}: {e}");
        }
        // VERIFY_AFTER_BACKUP verifies the folder or tar object the run wrote.
        let c = with(EngineKind::Pg, mode, |a| {
            a.verify_after_backup = Some("true".into())
        })
        .unwrap();
        assert!(c.verify_after_backup);
    }
    // --jobs and the directory format itself are fine.
    let mut a = args();
    a.backup_mode = Some("directory".into());
    a.dump_extra_args = Some("--jobs 2 -Fd".into());
    Config::resolve(EngineKind::Pg, a).unwrap();
}

#[test]
fn extensions_follow_the_mode() {
    let ext = |engine: EngineKind, mode: &str, compress: bool, extra: &str, set: Option<&str>| {
        let mut a = args();
        a.backup_mode = Some(mode.into());
        a.backup_compress = Some(compress.to_string());
        a.dump_extra_args = Some(extra.into());
        a.backup_extension = set.map(String::from);
        crate::engine::extension(&Config::resolve(engine, a).unwrap())
    };
    assert_eq!(ext(EngineKind::Pg, "directory", false, "", None), "");
    assert_eq!(ext(EngineKind::Pg, "directory", false, "", Some("d")), ".d");
    assert_eq!(ext(EngineKind::Pg, "tar", false, "", None), ".tar");
    // pg -Fd compresses its files: the tar is not compressed again, unless told not to.
    assert_eq!(ext(EngineKind::Pg, "tar", true, "", None), ".tar");
    assert_eq!(
        ext(EngineKind::Pg, "tar", true, "--compress=0", None),
        ".tar.zst"
    );
    assert_eq!(ext(EngineKind::Mysql, "tar", true, "", None), ".tar.zst");
    assert_eq!(ext(EngineKind::Mysql, "tar", false, "", None), ".tar");
    // mongodump --gzip (from BACKUP_COMPRESS) compresses its files.
    assert_eq!(ext(EngineKind::Mongo, "tar", true, "", None), ".tar");
    assert_eq!(ext(EngineKind::Mongo, "tar", false, "", None), ".tar");
    assert_eq!(ext(EngineKind::Mongo, "tar", false, "", Some(".x")), ".x");
}

#[test]
fn stream_only_warnings_stay_in_stream_mode() {
    for (engine, extra) in [
        (EngineKind::Mysql, "--skip-lock-tables"),
        (EngineKind::Pg, "--jobs=2"),
    ] {
        let mut a = args();
        a.backup_mode = Some("directory".into());
        a.dump_extra_args = Some(extra.into());
        let c = Config::resolve(engine, a).unwrap();
        assert!(
            !c.warnings.iter().any(|w| w.contains("local file")),
            "{:?}",
            c.warnings
        );
    }
    // BACKUP_COMPRESS compresses a tar of mysql's files: no "no effect" warning there.
    let mut a = args();
    a.backup_mode = Some("tar".into());
    a.backup_compress = Some("true".into());
    let c = Config::resolve(EngineKind::Mysql, a).unwrap();
    assert!(
        !c.warnings.iter().any(|w| w.starts_with("BACKUP_COMPRESS")),
        "{:?}",
        c.warnings
    );
    let mut a = args();
    a.backup_mode = Some("directory".into());
    a.backup_compress = Some("true".into());
    let c = Config::resolve(EngineKind::Mysql, a).unwrap();
    assert!(
        c.warnings
            .iter()
            .any(|w| w.starts_with("BACKUP_COMPRESS has no effect")),
        "{:?}",
        c.warnings
    );
}

#[test]
fn defaults_pass() {
    let mut a = args();
    a.backup_mode = Some("stream".into());
    a.backup_on_start = Some("true".into());
    a.backup_timeout = Some("1h".into());
    a.backup_schedule = None;
    a.notify.notify_on = Some("failure".into());
    let c = resolve(a).unwrap();
    assert!(matches!(c.schedule, Schedule::Cron { ref expr, .. } if expr == "0 2 * * *"));
    assert_eq!(c.timeout, Some(Duration::from_secs(3600)));
}

#[test]
fn lock_file_and_health_settings() {
    let c = resolve(args()).unwrap();
    let name = c
        .lock_file
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        c.lock_file.starts_with("/tmp/dbstash-work"),
        "{:?}",
        c.lock_file
    );
    assert!(
        name.starts_with("dbstash-pg-app-") && name.ends_with(".lock"),
        "{name}"
    );
    assert_eq!(c.health_addr.to_string(), "0.0.0.0:8080");
    assert_eq!(c.health_max_age, None);
    let mut other = args();
    other.rclone_remote = Some("s3:other".into());
    assert_ne!(
        resolve(other).unwrap().lock_file,
        c.lock_file,
        "another remote, another lock"
    );
    // Databases whose names differ get locks that differ, however alike the names look
    // (before, `a/b` and `a_b`, names sharing their first 64 characters, and a database
    // named `all` next to a dump of all databases shared a lock: one job's run was skipped
    // whenever the other's ran).
    let lock = |edit: fn(&mut CommonArgs)| {
        let mut a = args();
        edit(&mut a);
        resolve(a).unwrap().lock_file
    };
    let long = |suffix: &str| format!("{}{suffix}", "t".repeat(64));
    assert_ne!(
        lock(|a| a.db_name = Some("a/b".into())),
        lock(|a| a.db_name = Some("a_b".into()))
    );
    assert_ne!(
        lock(|a| a.db_name = Some("all".into())),
        lock(|a| {
            a.db_name = None;
            a.backup_all_databases = Some("true".into())
        })
    );
    let mut x = args();
    x.db_name = Some(long("x"));
    let mut y = args();
    y.db_name = Some(long("y"));
    assert_ne!(resolve(x).unwrap().lock_file, resolve(y).unwrap().lock_file);
    // One folder written two ways: one lock.
    let mut slash = args();
    slash.rclone_remote = Some(format!("{}/", args().rclone_remote.unwrap()));
    assert_eq!(resolve(slash).unwrap().lock_file, c.lock_file);

    let mut a = args();
    a.backup_lock_file = Some("/run/dbstash.lock".into());
    a.health_addr = Some("127.0.0.1:9099".into());
    a.health_max_age = Some("26h".into());
    let c = resolve(a).unwrap();
    assert_eq!(c.lock_file, PathBuf::from("/run/dbstash.lock"));
    assert_eq!(c.health_addr.to_string(), "127.0.0.1:9099");
    assert_eq!(c.health_max_age, Some(Duration::from_secs(26 * 3600)));

    for (edit, var) in [
        (
            (|a: &mut CommonArgs| a.health_addr = Some("localhost".into())) as fn(&mut CommonArgs),
            "HEALTH_ADDR",
        ),
        (
            |a| a.health_max_age = Some("a day".into()),
            "HEALTH_MAX_AGE",
        ),
    ] {
        let mut a = args();
        edit(&mut a);
        assert!(err(a).starts_with(&format!("{var} (")));
    }
}

#[test]
fn engine_selection() {
    assert_eq!(
        resolve_engine(Some(&EngineCommand::Pg), Some("mysql")),
        Ok(EngineKind::Pg)
    );
    assert_eq!(resolve_engine(None, Some("pg")), Ok(EngineKind::Pg));
    assert_eq!(resolve_engine(None, Some("PostgreSQL")), Ok(EngineKind::Pg));
    let e = resolve_engine(None, Some("oracle"))
        .unwrap_err()
        .to_string();
    assert_eq!(e, "ENGINE (--engine): unknown engine 'oracle' (expected one of pg, mysql, mariadb, redis, mongo)");
    for (name, kind) in [
        ("mysql", EngineKind::Mysql),
        ("mariadb", EngineKind::Mariadb),
        ("redis", EngineKind::Redis),
        ("mongo", EngineKind::Mongo),
    ] {
        assert_eq!(resolve_engine(None, Some(name)), Ok(kind));
        assert_eq!(kind.key(), name);
    }
    let mongo = EngineCommand::Mongo(crate::cli::MongoArgs::default());
    assert_eq!(
        resolve_engine(Some(&mongo), Some("pg")),
        Ok(EngineKind::Mongo)
    );
    let e = resolve_engine(None, None).unwrap_err().to_string();
    assert!(e.starts_with("ENGINE (--engine): no engine given"), "{e}");
}

#[test]
fn describe_redacts_secrets() {
    let mut a = args();
    a.db_host = None;
    a.db_name = None;
    a.db_uri = Some("postgresql://u:hunter2@h/db".into());
    a.rclone_config = Some("W3JdCnR5cGUgPSBsb2NhbAo=".into());
    a.rclone_remote = Some(":s3,secret_access_key=SK123:bucket".into());
    let c = resolve(a).unwrap();
    let text = format!("{:?}", describe(&c));
    for secret in ["hunter2", "SK123", "type = local", "W3JdCnR5"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
}

/// Resolve on another thread: a value that made resolution block (a FIFO) fails the test
/// instead of hanging the suite.
fn resolve_within(a: CommonArgs) -> Result<Config, ConfigError> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(resolve(a));
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("configuration resolution blocked for 10 s")
}

fn fifo(dir: &std::path::Path) -> String {
    let path = dir.join("fifo");
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    path.display().to_string()
}

#[test]
fn file_variables_take_only_small_regular_files() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = fifo(dir.path());
    let big = secret_file(&"x".repeat(crate::input::SECRET_FILE_MAX as usize + 1));
    let at_cap = secret_file(&format!(
        "{}\n",
        "p".repeat(crate::input::SECRET_FILE_MAX as usize - 1)
    ));
    let nul = secret_file("pass\0word\n");
    let two_lines = secret_file("first\nsecond\n");
    let latin1 = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(latin1.path(), b"caf\xe9\n").unwrap();
    type Set = fn(&mut CommonArgs, String);
    let vars: [(&str, Set); 3] = [
        ("DB_URI_FILE", |a, p| a.db_uri_file = Some(p)),
        ("DB_PASSWORD_FILE", |a, p| a.db_password_file = Some(p)),
        ("SMTP_PASSWORD_FILE", |a, p| {
            a.notify.notify_email_to = Some("ops@example.com".into());
            a.notify.notify_email_from = Some("dbstash@example.com".into());
            a.notify.smtp_host = Some("smtp.example.com".into());
            a.notify.smtp_user = Some("u".into());
            a.notify.smtp_password_file = Some(p);
        }),
    ];
    for (var, set) in vars {
        for (path, needle) in [
            (
                "/dev/zero".to_string(),
                "is a device: expected a regular file",
            ),
            ("/dev/null".to_string(), "is a device"),
            (dir.path().display().to_string(), "is a directory"),
            (fifo.clone(), "is a named pipe (FIFO)"),
            (big.path().display().to_string(), "is larger than 8 KiB"),
            (
                nul.path().display().to_string(),
                "control character \\u{0} at byte 4",
            ),
            (
                two_lines.path().display().to_string(),
                "control character \\n at byte 5",
            ),
            (latin1.path().display().to_string(), "is not UTF-8 text"),
        ] {
            let mut a = args();
            set(&mut a, path.clone());
            let e = resolve_within(a).unwrap_err();
            assert_eq!(e.subject, format!("{var} ({})", flag_of(var)), "{path}");
            assert!(e.message.contains(needle), "{var}={path}: {e}");
        }
    }
    // A file of exactly the cap (with its newline) is fine, and so is a symlink to a
    // regular file (how Docker and Kubernetes mount secrets).
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(at_cap.path(), &link).unwrap();
    let mut a = args();
    a.db_password_file = Some(link.display().to_string());
    let c = resolve_within(a).unwrap();
    assert_eq!(
        c.conn.password.unwrap().expose_secret().len(),
        crate::input::SECRET_FILE_MAX as usize - 1
    );
}

#[test]
fn rclone_config_file_must_be_a_readable_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = fifo(dir.path());
    for (path, needle) in [
        (dir.path().display().to_string(), "is a directory"),
        (fifo, "is a named pipe (FIFO)"),
        ("/dev/null".to_string(), "is a device"),
        ("/nonexistent/rclone.conf".to_string(), "cannot read"),
    ] {
        let mut a = args();
        a.rclone_config_file = Some(path.clone());
        let e = resolve_within(a).unwrap_err();
        assert_eq!(e.subject, "RCLONE_CONFIG_FILE (--rclone-config-file)");
        assert!(e.message.contains(needle), "{path}: {e}");
    }
}

#[test]
fn numbers_are_range_checked() {
    let retention = |files: &str, days: &str| {
        let mut a = args();
        a.retention_max_files = Some(files.into());
        a.retention_max_days = Some(days.into());
        resolve(a).map(|c| c.retention)
    };
    assert_eq!(
        retention("1000000", "36500"),
        Ok(RetentionPolicy {
            keep: Default::default(),
            max_files: limits::RETENTION_MAX_FILES,
            max_days: limits::RETENTION_MAX_DAYS
        })
    );
    for (files, days, subject, needle) in [
        (
            "0",
            "97000000",
            "RETENTION_MAX_DAYS",
            "'97000000' is too large (expected 0 for unlimited, or a whole number from 1 to 36500)",
        ),
        ("0", "36501", "RETENTION_MAX_DAYS", "too large"),
        ("0", "4294967296", "RETENTION_MAX_DAYS", "too large"),
        (
            "0",
            "99999999999999999999999",
            "RETENTION_MAX_DAYS",
            "too large",
        ),
        ("1000001", "0", "RETENTION_MAX_FILES", "from 1 to 1000000"),
        ("-1", "0", "RETENTION_MAX_FILES", "not a whole number"),
        ("+5", "0", "RETENTION_MAX_FILES", "not a whole number"),
        ("1e3", "0", "RETENTION_MAX_FILES", "not a whole number"),
    ] {
        let e = retention(files, days).unwrap_err();
        assert!(e.subject.starts_with(subject), "{files}/{days}: {e}");
        assert!(e.message.contains(needle), "{files}/{days}: {e}");
    }
    let progress = |v: &str| {
        let mut a = args();
        a.backup_progress_interval = Some(v.into());
        resolve(a).map(|c| c.progress_interval)
    };
    assert_eq!(progress("1s"), Ok(Some(Duration::from_secs(1))));
    assert_eq!(progress("0"), Ok(None));
    let e = progress("999ms").unwrap_err();
    assert_eq!(
        e.subject,
        "BACKUP_PROGRESS_INTERVAL (--backup-progress-interval)"
    );
    assert!(e.message.contains("too short (at least 1s"), "{e}");
    // Ports: 0 is no port, anywhere.
    for (edit, subject) in [
        (
            (|a: &mut CommonArgs| a.db_port = Some("0".into())) as fn(&mut CommonArgs),
            "DB_PORT (--db-port)",
        ),
        (
            |a| a.db_uri = Some("postgresql://u@h:0/db".into()),
            "DB_URI (--db-uri)",
        ),
        (
            |a| a.db_uri = Some("postgresql://u@h:65536/db".into()),
            "DB_URI (--db-uri)",
        ),
        (
            |a| a.health_addr = Some("127.0.0.1:0".into()),
            "HEALTH_ADDR (--health-addr)",
        ),
    ] {
        let mut a = args();
        edit(&mut a);
        let e = resolve(a).unwrap_err();
        assert_eq!(e.subject, subject, "{e}");
        assert!(e.message.contains("65535"), "{e}");
    }
}

#[test]
fn control_characters_and_flags_are_refused_where_values_become_names_or_arguments() {
    type Edit = fn(&mut CommonArgs);
    let cases: &[(&str, Edit, &str)] = &[
        (
            "BACKUP_NAME_TEMPLATE",
            |a| a.backup_name_template = Some("{db}\n-{ts}".into()),
            "control character \\n at byte 4",
        ),
        (
            "BACKUP_EXTENSION",
            |a| a.backup_extension = Some(".sql\r".into()),
            "control character \\r",
        ),
        (
            "RCLONE_REMOTE",
            |a| a.rclone_remote = Some("s3:bucket/backups\nevil".into()),
            "control character \\n",
        ),
        (
            "RCLONE_REMOTE",
            |a| a.rclone_remote = Some("\u{1b}[2Js3:b".into()),
            "control character \\u{1b}",
        ),
        (
            "RCLONE_REMOTE",
            |a| a.rclone_remote = Some("--config=/etc/passwd".into()),
            "starts with '-', which rclone would read as a flag",
        ),
        (
            "RCLONE_REMOTE",
            |a| a.rclone_remote = Some("-s3:bucket".into()),
            "starts with '-'",
        ),
        (
            "RCLONE_EXTRA_ARGS",
            |a| a.rclone_extra_args = Some("--fast-list -- x".into()),
            "holds '--'",
        ),
        (
            "DB_NAME",
            |a| a.db_name = Some("app\u{7}".into()),
            "control character \\u{7}",
        ),
        (
            "DB_NAME",
            |a| a.db_name = Some("--help".into()),
            "starts with '-', which a dump tool would read as a flag",
        ),
        (
            "DB_USER",
            |a| a.db_user = Some("bob\tx".into()),
            "control character \\t",
        ),
        (
            "DB_HOST",
            |a| a.db_host = Some("db\n".into()),
            "control character \\n",
        ),
        (
            "DB_HOST",
            |a| a.db_host = Some("db internal".into()),
            "contains a space",
        ),
        (
            "DB_URI",
            |a| a.db_uri = Some("postgresql://u@h/-x".into()),
            "starts with '-'",
        ),
        (
            "DB_URI",
            |a| a.db_uri = Some("postgresql://u@h/app%00x".into()),
            "the database path holds a control character",
        ),
        (
            "DB_URI",
            |a| a.db_uri = Some("postgresql://u%0A@h/app".into()),
            "the user holds a control character",
        ),
        (
            "DB_URI",
            |a| a.db_uri = Some("postgresql://u:p%00w@h/app".into()),
            "the password holds a control character",
        ),
        (
            "DB_URI",
            |a| a.db_uri = Some("postgresql://u:p%FFw@h/app".into()),
            "the password holds percent-encoded bytes that are not UTF-8",
        ),
        (
            // A line break would add its own line to pg's 0600 service file.
            "DB_URI",
            |a| a.db_uri = Some("postgresql://u@h/app?sslpassword=x%0Ahost%3Devil".into()),
            "the query holds a control character",
        ),
        (
            "DB_URI",
            |a| a.db_uri = Some("postgresql://u@h/app?sslpassword=%FF".into()),
            "not UTF-8",
        ),
    ];
    for (var, edit, needle) in cases {
        let mut a = args();
        edit(&mut a);
        if *var == "DB_URI" {
            a.db_host = None;
            a.db_name = None;
        }
        let e = resolve(a).unwrap_err();
        assert_eq!(e.subject, format!("{var} ({})", flag_of(var)), "{needle}");
        assert!(e.message.contains(needle), "{var}: {e}");
        assert!(!e.to_string().chars().any(char::is_control), "{e:?}");
    }
    // Still fine: a password with a tab (the environment carries it), a socket directory
    // with a space, a remote with spaces, and names with '-' inside.
    let mut a = args();
    a.db_uri = Some("postgresql://u:p%09w@h/my-app".into());
    a.db_host = None;
    a.db_name = None;
    a.rclone_remote = Some("my remote:backups/db-1".into());
    let c = resolve(a).unwrap();
    assert_eq!(c.conn.password.unwrap().expose_secret(), "p\tw");
    let mut a = args();
    a.db_host = Some("/var/run/my sockets".into());
    resolve(a).unwrap();
}

#[test]
fn values_echoed_in_errors_keep_the_error_on_one_line() {
    let mut a = args();
    a.retention_max_days = Some("7\nRETENTION_MAX_DAYS ok".into());
    let e = err(a);
    assert!(!e.contains('\n'), "{e}");
    assert!(e.contains("'7\\nRETENTION_MAX_DAYS ok'"), "{e}");
}

#[test]
fn the_longest_name_must_fit_a_path_component() {
    // 255 bytes: the name, the extension and the 18-byte staging suffix.
    let fits = 255 - limits::NAME_SUFFIX_BYTES - ".sql".len() - "-2026-01-01-000000".len();
    let mut a = args();
    a.db_name = Some("d".repeat(fits));
    resolve(a).unwrap();
    let mut a = args();
    a.db_name = Some("d".repeat(fits + 1));
    let e = resolve(a).unwrap_err();
    assert_eq!(e.subject, "BACKUP_NAME_TEMPLATE (--backup-name-template)");
    assert!(
        e.message
            .contains("renders names of up to 238 bytes with database 'dddd"),
        "{e}"
    );
    assert!(e.message.contains("over the 255 bytes"), "{e}");
    // {ts} counts at its widest (12 digits), and so does a long extension.
    let mut a = args();
    a.backup_name_template = Some(format!("{}{{ts}}", "x".repeat(255 - 18 - 4 - 12)));
    resolve(a).unwrap();
    let mut a = args();
    a.backup_name_template = Some(format!("{}{{ts}}", "x".repeat(255 - 18 - 4 - 11)));
    assert!(err(a).starts_with("BACKUP_NAME_TEMPLATE"));
    let mut a = args();
    a.backup_extension = Some("e".repeat(250));
    assert!(err(a).starts_with("BACKUP_NAME_TEMPLATE"));
}

#[test]
fn a_schedule_firing_more_than_once_a_minute_gets_a_warning() {
    let warned = |expr: &str| {
        let mut a = args();
        a.backup_schedule = Some(expr.into());
        a.backup_timeout = Some("1h".into());
        resolve(a)
            .unwrap()
            .warnings
            .iter()
            .any(|w| w.starts_with("BACKUP_SCHEDULE fires every"))
    };
    assert!(warned("* * * * * *"));
    assert!(warned("*/10 * * * * *"));
    assert!(!warned("0 * * * * *"));
    assert!(!warned("* * * * *"));
    assert!(!warned("0 2 * * *"));
    assert!(!warned("once"));
}

/// A HEALTH_MAX_AGE no longer than the time between two runs makes /healthz 503 between
/// runs even when every backup succeeds (a Kubernetes probe would restart a healthy pod):
/// accepted without a word before.
#[test]
fn a_health_max_age_shorter_than_the_schedule_gets_a_warning() {
    let warned = |expr: &str, max_age: &str| {
        let mut a = args();
        a.backup_schedule = Some(expr.into());
        a.backup_timeout = Some("1h".into());
        a.health_max_age = Some(max_age.into());
        resolve(a)
            .unwrap()
            .warnings
            .iter()
            .any(|w| w.starts_with("HEALTH_MAX_AGE"))
    };
    assert!(warned("0 2 * * *", "1h"));
    assert!(warned("0 2 * * *", "24h"));
    assert!(!warned("0 2 * * *", "26h"));
    // Weekdays only: the weekend makes three days.
    assert!(warned("0 2 * * 1-5", "26h"));
    assert!(!warned("0 2 * * 1-5", "73h"));
    assert!(!warned("*/5 * * * *", "10m"));
    assert!(!warned("once", "1s"));
}

#[test]
fn tz_may_name_a_zone_file() {
    let tz = |v: &str| {
        let mut a = args();
        a.tz = Some(v.into());
        resolve(a).map(|c| c.tz)
    };
    assert_eq!(tz(":Europe/Berlin"), Ok(Tz::Europe__Berlin));
    assert_eq!(
        tz("/usr/share/zoneinfo/Asia/Kolkata"),
        Ok(Tz::Asia__Kolkata)
    );
    assert_eq!(
        tz(":/usr/share/zoneinfo/posix/America/New_York"),
        Ok(Tz::America__New_York)
    );
    // /etc/localtime is a symlink into zoneinfo (its target need not exist here).
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("localtime");
    std::os::unix::fs::symlink("../usr/share/zoneinfo/Europe/Berlin", &link).unwrap();
    assert_eq!(tz(&format!(":{}", link.display())), Ok(Tz::Europe__Berlin));
    for bad in [
        "/etc/passwd",
        "/usr/share/zoneinfo/Mars/Olympus",
        "CET-1CEST,M3.5.0,M10.5.0/3",
        ":",
    ] {
        let e = tz(bad).unwrap_err();
        assert_eq!(e.subject, "TZ (--tz)", "{bad}");
        assert!(e.message.contains("unknown time zone"), "{bad}: {e}");
    }
}

#[test]
fn inline_rclone_config_with_a_nul_is_binary() {
    let mut a = args();
    a.rclone_config = Some("W3JdAA==".into()); // "[r]\0"
    let e = resolve(a).unwrap_err();
    assert_eq!(e.subject, "RCLONE_CONFIG (--rclone-config)");
    assert!(e.message.contains("decodes to binary"), "{e}");
}

#[test]
fn calendar_retention_rules_parse_and_never_mix_with_the_caps() {
    let mut a = args();
    a.retention_keep_daily = Some("7".into());
    a.retention_keep_monthly = Some(" 12 ".into());
    let c = resolve(a).unwrap();
    assert_eq!(
        c.retention.keep,
        KeepRules {
            daily: 7,
            monthly: 12,
            ..Default::default()
        }
    );
    assert!(c.retention.is_on());
    assert!(!resolve(args()).unwrap().retention.is_on());
    let described = describe(&c);
    assert!(described.contains(&("RETENTION_KEEP_DAILY", "7".to_string())));
    assert!(!described.iter().any(|(k, _)| *k == "RETENTION_KEEP_LAST"));

    for (cap, set_cap) in [
        (
            "RETENTION_MAX_FILES",
            (|a: &mut CommonArgs| a.retention_max_files = Some("5".into())) as fn(&mut CommonArgs),
        ),
        ("RETENTION_MAX_DAYS", |a: &mut CommonArgs| {
            a.retention_max_days = Some("30".into())
        }),
    ] {
        let mut a = args();
        a.retention_keep_weekly = Some("4".into());
        set_cap(&mut a);
        let e = err(a);
        assert!(
            e.starts_with(&format!(
                "RETENTION_KEEP_WEEKLY (--retention-keep-weekly): cannot be combined with {cap}"
            )),
            "{e}"
        );
    }
    // A cap with every rule at 0 is fine: 0 means off.
    let mut a = args();
    a.retention_keep_last = Some("0".into());
    a.retention_max_files = Some("5".into());
    assert_eq!(resolve(a).unwrap().retention.max_files, 5);

    for bad in ["-1", "1.5", "seven", "1000001"] {
        let mut a = args();
        a.retention_keep_yearly = Some(bad.into());
        let e = err(a);
        assert!(
            e.starts_with("RETENTION_KEEP_YEARLY (--retention-keep-yearly): "),
            "{bad}: {e}"
        );
    }
}

#[test]
fn in_process_compression_settings() {
    let on = |algo: Option<&str>, level: Option<&str>| {
        let mut a = args();
        a.backup_compress = Some("true".into());
        a.backup_compress_algo = algo.map(Into::into);
        a.backup_compress_level = level.map(Into::into);
        a
    };
    let c = resolve(on(None, None)).unwrap();
    assert_eq!((c.compress_algo, c.compress_level), (None, None));
    let c = resolve(on(Some(" GZIP "), Some("9"))).unwrap();
    assert_eq!(c.compress_algo, Some(CompressAlgo::Gzip));
    assert_eq!(c.compress_level, Some(9));
    // The level's range follows the algorithm; zstd when none is named (for an engine
    // that compresses in-process without one: MySQL).
    assert_eq!(
        Config::resolve(EngineKind::Mysql, on(None, Some("19")))
            .unwrap()
            .compress_level,
        Some(19)
    );
    for (algo, level, needle) in [
        (Some("lz4"), None, "BACKUP_COMPRESS_ALGO (--backup-compress-algo): 'lz4' is not an algorithm dbstash compresses with (expected zstd or gzip)"),
        (Some("gzip"), Some("10"), "BACKUP_COMPRESS_LEVEL (--backup-compress-level): '10' is out of range (expected a whole number from 1 to 9 for gzip)"),
        (None, Some("0"), "from 1 to 19 for zstd"),
        (None, Some("-3"), "out of range"),
        (None, Some("fast"), "'fast' is not a whole number"),
        (None, Some("99999999999"), "is not a whole number"),
    ] {
        let e = err(on(algo, level));
        assert!(e.contains(needle), "{algo:?} {level:?}: {e}");
    }
    // Set while BACKUP_COMPRESS is off they would do nothing: refused, naming the variable.
    let mut a = on(Some("zstd"), None);
    a.backup_compress = None;
    assert!(err(a).starts_with("BACKUP_COMPRESS_ALGO (--backup-compress-algo): has no effect while BACKUP_COMPRESS is false"));
    let mut a = on(None, Some("3"));
    a.backup_compress = Some("false".into());
    assert!(err(a).starts_with("BACKUP_COMPRESS_LEVEL (--backup-compress-level): has no effect"));
}
