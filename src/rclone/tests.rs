use super::invoke::{CONTROL_DEFAULTS, CONTROL_TIMEOUT};
use super::*;
use tokio::process::Command;

#[test]
fn joins_without_doubling_separators() {
    assert_eq!(
        join("s3:bucket/backups", "a.sql"),
        "s3:bucket/backups/a.sql"
    );
    assert_eq!(
        join("s3:bucket/backups/", "a.sql"),
        "s3:bucket/backups/a.sql"
    );
    assert_eq!(join("crypt:", "a.sql"), "crypt:a.sql");
    assert_eq!(join(":local:/tmp/x", "a.sql"), ":local:/tmp/x/a.sql");
}

#[test]
fn one_folder_spelled_many_ways_normalizes_to_one_string() {
    for (spellings, want) in [
        (
            &[
                "s3:bucket/backups",
                "s3:bucket/backups/",
                "s3:bucket//backups",
                "s3:bucket/./backups/",
                "s3:bucket/x/../backups",
                "s3:./bucket/backups",
            ][..],
            "s3:bucket/backups",
        ),
        (&["s3:", "s3:."], "s3:"),
        (&["sftp:/", "sftp://", "sftp:/./"], "sftp:/"),
        (
            &["sftp:/srv/b", "sftp:/srv//b/", "sftp:/../srv/b"],
            "sftp:/srv/b",
        ),
        (
            &[
                "/backups",
                "/backups/",
                "//backups",
                ":local:/backups",
                ":local:/backups/",
                "/srv/../backups",
            ],
            ":local:/backups",
        ),
        (
            &[
                ":s3,provider=Rclone,endpoint='http://127.0.0.1:9000':bucket/x",
                ":s3,provider=Rclone,endpoint='http://127.0.0.1:9000':bucket/x/",
                ":s3,provider=Rclone,endpoint='http://127.0.0.1:9000':bucket//x",
            ],
            ":s3,provider=Rclone,endpoint='http://127.0.0.1:9000':bucket/x",
        ),
        (
            &[r#"name,opt="a:b//c":dir/"#, r#"name,opt="a:b//c":dir"#],
            r#"name,opt="a:b//c":dir"#,
        ),
        (&["s3:../x", "s3:../x/"], "s3:../x"),
    ] {
        for s in spellings {
            assert_eq!(normalize_remote(s), want, "{s}");
        }
    }
    // Different folders stay different.
    for (a, b) in [
        ("s3:bucket/a", "s3:bucket/b"),
        ("s3:bucket/a", "S3:bucket/a"),
        ("s3:bucket", "gcs:bucket"),
        ("sftp:", "sftp:/"),
        ("s3:bucket/a", "s3:bucket/a/b"),
        (":local:/a", ":local:a"),
    ] {
        assert_ne!(normalize_remote(a), normalize_remote(b), "{a} vs {b}");
    }
}

#[test]
fn remote_or_local_path_as_rclone_reads_it() {
    use Location::*;
    for (remote, want) in [
        ("s3:my-bucket/backups", Remote),
        ("s3:", Remote),
        ("my remote:x", Remote),
        ("gdrive,shared_with_me:x", Remote),
        (
            ":s3,provider=Rclone,endpoint='http://127.0.0.1:9000':bucket/x",
            Remote,
        ),
        (":local:/tmp/x", Remote),
        (":local:relative", Remote),
        ("crypt:", Remote),
        ("C:\\backups", Remote), // Linux: a remote named C
        ("/backups", LocalAbsolute),
        ("/mnt/data:2020/x", LocalAbsolute),
        ("s3/my-bucket/backups", LocalRelative),
        ("backups", LocalRelative),
        ("./backups", LocalRelative),
        ("./files:2020", LocalRelative),
        ("dir/sub:x", LocalRelative),
        ("a,b", LocalRelative),
    ] {
        assert_eq!(location(remote), want, "{remote}");
    }
}

#[test]
fn relative_paths_are_refused_with_a_hint() {
    for ok in ["s3:b/x", "/backups", ":local:/x"] {
        assert!(check_remote(ok).is_ok(), "{ok}");
    }
    let e = check_remote("s3/my-bucket/backups").unwrap_err();
    assert!(
        e.contains("'s3/my-bucket/backups' is a relative local path"),
        "{e}"
    );
    assert!(
        e.contains("forget the colon? A remote is written name:path, e.g. 's3:my-bucket/backups'"),
        "{e}"
    );
    assert!(e.contains("absolute path such as /backups"), "{e}");
    let e = check_remote("backups").unwrap_err();
    assert!(e.contains("e.g. 'backups:' or 'backups:backups'"), "{e}");
    let e = check_remote("./out").unwrap_err();
    assert!(!e.contains("forget the colon"), "{e}");
    assert!(e.contains("absolute path"), "{e}");
    assert_eq!(describe_remote("/backups"), "/backups (local path)");
    assert_eq!(describe_remote("s3:b"), "s3:b");
}

#[test]
fn control_calls_are_bounded_by_three_times_their_timeout() {
    let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    let secs = |n| Some(Duration::from_secs(n));
    assert_eq!(control_limit(&[], None), secs(60));
    assert_eq!(control_limit(&args("--timeout 5m"), None), secs(900));
    assert_eq!(
        control_limit(&args("--timeout=1m --fast-list"), None),
        secs(180)
    );
    assert_eq!(
        control_limit(&args("--timeout 5s"), None),
        secs(60),
        "at least 60 s"
    );
    for off in ["0", "0s", "0m", "0ms", "0h0m", "off"] {
        assert_eq!(
            control_limit(&args(&format!("--timeout {off}")), None),
            None,
            "--timeout {off}: timeouts off, ours too"
        );
    }
    assert_eq!(control_limit(&[], Some("0m")), None);
    assert_eq!(
        control_limit(&args("--timeout 1.5m"), None),
        secs(60),
        "unreadable"
    );
    // rclone's own variable for dbstash counts, the flag wins over it.
    assert_eq!(control_limit(&[], Some("2m")), secs(360));
    assert_eq!(control_limit(&args("--timeout 30s"), Some("2m")), secs(90));
    // The constant and the variable rclone gets say the same.
    let (_, ours) = CONTROL_DEFAULTS[1];
    assert_eq!(control_limit(&[], Some(ours)), control_limit(&[], None));
    assert_eq!(
        crate::input::parse_duration(ours).unwrap(),
        Some(CONTROL_TIMEOUT)
    );
}

#[tokio::test]
async fn control_defaults_travel_in_the_environment_so_the_users_flags_win() {
    let a = crate::cli::CommonArgs {
        db_host: Some("h".into()),
        db_name: Some("d".into()),
        rclone_remote: Some("r:".into()),
        backup_schedule: Some("once".into()),
        rclone_extra_args: Some("--timeout 2m --s3-no-check-bucket".into()),
        ..Default::default()
    };
    let cfg = Config::resolve(crate::engine::EngineKind::Pg, a).unwrap();
    let r = Rclone::new(&cfg).unwrap();
    let argv = |c: &Command| {
        c.as_std()
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let envs = |c: &Command| {
        c.as_std()
            .get_envs()
            .filter_map(|(k, v)| Some(format!("{}={}", k.to_str()?, v?.to_str()?)))
            .collect::<Vec<_>>()
    };
    let list = r.command("lsjson");
    assert_eq!(argv(&list), "lsjson --timeout 2m --s3-no-check-bucket");
    for want in [
        "RCLONE_CONTIMEOUT=10s",
        "RCLONE_TIMEOUT=20s",
        "RCLONE_LOW_LEVEL_RETRIES=2",
        "RCLONE_RETRIES=1",
    ] {
        assert!(envs(&list).contains(&want.to_string()), "{:?}", envs(&list));
    }
    // The streaming upload keeps rclone's defaults.
    let rcat = r.rcat("r:x");
    assert_eq!(argv(&rcat), "rcat --timeout 2m --s3-no-check-bucket -- r:x");
    assert!(
        !envs(&rcat).iter().any(|e| e.starts_with("RCLONE_TIMEOUT")),
        "{:?}",
        envs(&rcat)
    );
    assert_eq!(r.control_limit, Some(Duration::from_secs(360)));
}

#[test]
fn secrets_handed_to_rclone_are_found_for_redaction() {
    let conf = "[s3]\ntype = s3\naccess_key_id = AKID1\nsecret_access_key = SK-conf\nregion = eu\n";
    let a = crate::cli::CommonArgs {
        db_host: Some("h".into()),
        db_name: Some("d".into()),
        rclone_remote: Some(
            ":s3,provider=Rclone,secret_access_key='SK,remote',session_token=TK-remote:b".into(),
        ),
        rclone_config: Some(base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            conf,
        )),
        backup_schedule: Some("once".into()),
        rclone_extra_args: Some("-vv --s3-secret-access-key SK-flag --fast-list".into()),
        ..Default::default()
    };
    let cfg = Config::resolve(crate::engine::EngineKind::Pg, a).unwrap();
    let found = secrets(&cfg);
    for want in ["SK-flag", "SK,remote", "TK-remote", "AKID1", "SK-conf"] {
        assert!(found.iter().any(|s| s == want), "{want} not in {found:?}");
    }
    assert!(
        !found.iter().any(|s| s == "eu" || s == "Rclone"),
        "{found:?}"
    );
}

#[test]
fn redacts_inline_credentials() {
    let r = redact_remote(":s3,provider=Rclone,endpoint='http://127.0.0.1:9000',access_key_id=AK,secret_access_key=SK:bucket/x");
    assert_eq!(
        r,
        ":s3,provider=Rclone,endpoint='http://127.0.0.1:9000',access_key_id=***,secret_access_key=***:bucket/x"
    );
    assert_eq!(
        redact_remote(":webdav,user=u,pass=abc:dir"),
        ":webdav,user=u,pass=***:dir"
    );
    assert_eq!(redact_remote("s3:bucket/backups"), "s3:bucket/backups");
}
