//! The run's `rclone rcd` (control calls over a unix socket): it never outlives dbstash
//! (a once run, SIGTERM, SIGKILL), no secret reaches its argv, a run with it switched off
//! (`DBSTASH_RCLONE_RCD=0`) ends the same, and every control call answers the same through it
//! as through a process. Real rclone, real `rclone serve s3`.

use std::path::Path;
use std::time::Duration;

use dbstash::rclone::Rclone;

use crate::support::*;

const S3_SECRET: &str = "dbstash-test-secret-key-0123456789";

/// A pg_dump that writes a line and then waits: dbstash is mid-stream, the daemon running.
fn stalled_dump(dir: &Path) {
    write_script(dir, "pg_dump", "echo 'select 1;'; exec sleep 60");
}

/// A once-mode backup with fake pg_dump in `bin`, temp files (the daemon's socket among
/// them) under `tmpdir`, which the daemon's argv then names.
fn backup(bin: &Path, tmpdir: &Path, remote: &str) -> Dbstash {
    Dbstash::new()
        .fake_bin(bin)
        .env("TMPDIR", tmpdir)
        .env("LOG_LEVEL", "debug")
        .args(["pg", "--db-host", "127.0.0.1", "--db-name", "app"])
        .args(["--backup-schedule", "once", "--rclone-remote", remote])
}

/// Every name in `dir`, folders included.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The `rclone rcd` processes of a dbstash whose TMPDIR is `tmpdir`.
fn daemons(tmpdir: &Path) -> Vec<String> {
    processes_mentioning(&tmpdir.display().to_string())
        .into_iter()
        .filter(|p| p.contains(" rcd "))
        .collect()
}

#[test]
fn the_daemon_is_gone_after_a_once_run() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let bin = tempfile::tempdir().unwrap();
    write_script(bin.path(), "pg_dump", "echo 'select 1;'");
    let tmp = tempfile::tempdir().unwrap();
    let remote = tempfile::tempdir().unwrap();
    let out = backup(bin.path(), tmp.path(), &local_remote(remote.path())).run();
    out.assert_code(0);
    assert!(
        out.stderr.contains("rclone rcd answers the control calls"),
        "{}",
        out.stderr
    );
    assert_eq!(daemons(tmp.path()), Vec::<String>::new());
    assert_eq!(
        entries(tmp.path()),
        Vec::<String>::new(),
        "the socket's directory is removed"
    );
    assert_eq!(files_in(remote.path()).len(), 2, "backup and checksum file");
}

/// dbstash mid-stream with its daemon running, then `stop` (SIGTERM or SIGKILL): the daemon
/// goes too.
fn stopped_mid_stream(signal: i32) {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let bin = tempfile::tempdir().unwrap();
    stalled_dump(bin.path());
    let tmp = tempfile::tempdir().unwrap();
    let remote = tempfile::tempdir().unwrap();
    let running = backup(bin.path(), tmp.path(), &local_remote(remote.path())).spawn();
    wait_for("the daemon to start", 30, || {
        !daemons(tmp.path()).is_empty()
    });
    // The listing went through the daemon before the dump started: wait for the stream.
    let target = remote.path().display().to_string();
    wait_for("the upload to start", 30, || {
        processes_mentioning(&target)
            .iter()
            .any(|p| p.contains(" rcat "))
    });
    let pid = running.child.id() as libc::pid_t;
    // SAFETY: a plain signal to our own child.
    unsafe {
        libc::kill(pid, signal);
    }
    let (_, stderr) = running.finish();
    assert!(!stderr.contains("panicked"), "{stderr}");
    wait_for("the daemon to end", 10, || daemons(tmp.path()).is_empty());
    if signal != libc::SIGKILL {
        assert_eq!(entries(tmp.path()), Vec::<String>::new());
        return;
    }
    // A SIGKILLed dbstash cannot remove its socket's directory: the next run does, once it
    // is a minute old and its socket answers no one.
    let left = entries(tmp.path());
    assert_eq!(left.len(), 1, "{left:?}");
    let then = std::time::SystemTime::now() - Duration::from_secs(120);
    std::fs::File::open(tmp.path().join(&left[0]))
        .unwrap()
        .set_modified(then)
        .unwrap();
    let quick = tempfile::tempdir().unwrap();
    write_script(quick.path(), "pg_dump", "echo 'select 1;'");
    backup(quick.path(), tmp.path(), &local_remote(remote.path()))
        .run()
        .assert_code(0);
    assert_eq!(entries(tmp.path()), Vec::<String>::new());
}

#[test]
fn the_daemon_is_gone_after_sigterm_of_dbstash() {
    stopped_mid_stream(libc::SIGTERM);
}

#[test]
fn the_daemon_is_gone_after_sigkill_of_dbstash() {
    // No handler runs: PR_SET_PDEATHSIG and the watchdog end it.
    stopped_mid_stream(libc::SIGKILL);
}

#[test]
fn no_secret_reaches_the_daemons_argv() {
    let Some(s3) = s3::server() else { return };
    let bin = tempfile::tempdir().unwrap();
    stalled_dump(bin.path());
    let tmp = tempfile::tempdir().unwrap();
    let (remote, _) = s3.bucket("rcd-secret");
    let conf = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, s3.rclone_conf());
    let running = backup(bin.path(), tmp.path(), &remote)
        .env("RCLONE_CONFIG", conf)
        .env("DB_PASSWORD", "db-Secret-42")
        .spawn();
    wait_for("the daemon to start", 30, || {
        !daemons(tmp.path()).is_empty()
    });
    // dbstash's rclone processes: the daemon (its socket is under TMPDIR) and the upload.
    let mut ours = daemons(tmp.path());
    ours.extend(processes_mentioning(&remote));
    for secret in [S3_SECRET, "db-Secret-42"] {
        assert!(
            !ours.iter().any(|p| p.contains(secret)),
            "{secret} on an argv: {ours:?}"
        );
    }
    let rcd = daemons(tmp.path());
    assert!(
        rcd.iter().all(|p| p.contains("--rc-no-auth")
            && p.contains("--config /proc/self/fd/")
            && p.contains("rc.sock")),
        "{rcd:?}"
    );
    running.sigkill();
    wait_for("the daemon to end", 10, || daemons(tmp.path()).is_empty());
}

#[test]
fn a_run_with_the_daemon_switched_off_ends_the_same() {
    let Some(s3) = s3::server() else { return };
    let bin = tempfile::tempdir().unwrap();
    write_script(bin.path(), "pg_dump", "echo 'select 42;'");
    let conf_dir = tempfile::tempdir().unwrap();
    let conf = s3.conf_file(conf_dir.path());
    let mut stored = Vec::new();
    for switch in ["1", "0"] {
        let tmp = tempfile::tempdir().unwrap();
        let (remote, dir) = s3.bucket("rcd-switch");
        let out = backup(bin.path(), tmp.path(), &remote)
            .env("RCLONE_CONFIG_FILE", &conf)
            .env("DBSTASH_RCLONE_RCD", switch)
            .env("BACKUP_NAME_TEMPLATE", "{db}-fixed")
            .run();
        out.assert_code(0);
        assert_eq!(
            out.stderr.contains("rclone rcd answers the control calls"),
            switch == "1",
            "{}",
            out.stderr
        );
        assert_eq!(daemons(tmp.path()), Vec::<String>::new());
        let files = all_files_in(&dir);
        let contents: Vec<String> = files
            .iter()
            .filter(|f| !f.contains(".rclone"))
            .map(|f| {
                let text = std::fs::read_to_string(dir.join(f)).unwrap_or_default();
                format!("{f}: {text}")
            })
            .collect();
        stored.push(contents);
    }
    assert_eq!(stored[0], stored[1]);
    assert!(
        stored[0]
            .iter()
            .any(|f| f.starts_with("app-fixed.sql: select 42;")),
        "{:?}",
        stored[0]
    );
}

/// Two `Rclone`s on one config: through the daemon, and as processes.
fn both(remote: &str, conf: &Path) -> (Rclone, Rclone) {
    let cli = <dbstash::cli::Cli as clap::Parser>::try_parse_from([
        "dbstash",
        "pg",
        "--db-host",
        "127.0.0.1",
        "--db-name",
        "app",
        "--backup-schedule",
        "once",
        "--rclone-remote",
        remote,
        "--rclone-config-file",
        &conf.display().to_string(),
    ])
    .unwrap();
    let cfg = dbstash::config::Config::from_cli(cli).unwrap();
    let rcd = Rclone::new(&cfg).unwrap();
    let mut processes = Rclone::new(&cfg).unwrap();
    processes.processes_only();
    (rcd, processes)
}

/// The same objects from [`Rclone::stat`], with the same times where `exact_times`. On S3
/// they differ: rcd's `operations/stat` reads one object (a HEAD: whole seconds; after a
/// server-side copy `serve s3` even answers a later time than its listing), the process's
/// `lsjson --files-from-raw` reads a listing (milliseconds). dbstash compares a stat's time
/// only with another stat's, and only on backends that rename server-side (staged uploads:
/// local, SFTP, WebDAV), never on S3.
fn same_objects(a: &[dbstash::rclone::Object], b: &[dbstash::rclone::Object], exact_times: bool) {
    let key = |v: &[dbstash::rclone::Object]| {
        v.iter()
            .map(|o| (o.name.clone(), o.size, o.tag.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(key(a), key(b));
    if exact_times {
        assert_eq!(a, b);
    }
}

/// Every control call, once through each: the same answers.
async fn same_answers(remote: &str, conf: &Path, exact_times: bool) {
    let (mut a, mut b) = both(remote, conf);
    assert!(a.daemon_pid().await.is_some(), "the daemon runs");
    assert_eq!(b.daemon_pid().await, None);
    let features = a.features(remote).await.unwrap();
    assert_eq!(features, b.features(remote).await.unwrap());
    let tagged = features.user_metadata;
    a.tag_uploads("rcd-tag");
    b.tag_uploads("proc-tag");
    let sub = dbstash::rclone::join(remote, "sub");
    assert_eq!(a.probe(&sub).await.unwrap(), b.probe(&sub).await.unwrap());
    for (r, who) in [(&a, "rcd"), (&b, "proc")] {
        let name = format!("{who}.claim");
        r.put(&dbstash::rclone::join(remote, &name), b"claim\n")
            .await
            .unwrap();
        r.put(&dbstash::rclone::join(&sub, &format!("{who}.txt")), b"x")
            .await
            .unwrap();
    }
    let names = ["rcd.claim", "proc.claim", "missing"];
    let stat_a = a.stat(remote, &names).await.unwrap();
    let stat_b = b.stat(remote, &names).await.unwrap();
    let sorted = |mut v: Vec<dbstash::rclone::Object>| {
        v.sort_by(|x, y| x.name.cmp(&y.name));
        v
    };
    same_objects(&sorted(stat_a.clone()), &sorted(stat_b), exact_times);
    let tags: Vec<Option<String>> = sorted(stat_a).into_iter().map(|o| o.tag).collect();
    if tagged {
        assert_eq!(
            tags,
            [Some("proc-tag".to_string()), Some("rcd-tag".to_string())]
        );
    }
    assert_eq!(a.list(remote).await.unwrap(), b.list(remote).await.unwrap());
    assert_eq!(
        a.objects(remote).await.unwrap(),
        b.objects(remote).await.unwrap()
    );
    assert_eq!(
        a.probe(remote).await.unwrap(),
        b.probe(remote).await.unwrap()
    );
    assert_eq!(a.dirs(remote).await.unwrap(), b.dirs(remote).await.unwrap());
    assert_eq!(a.tree(remote).await.unwrap(), b.tree(remote).await.unwrap());
    for name in ["rcd.claim", "missing"] {
        assert_eq!(
            a.size_of(remote, name).await.unwrap(),
            b.size_of(remote, name).await.unwrap()
        );
    }
    let at = |n: &str| dbstash::rclone::join(remote, n);
    // Not over an existing object: both leave both alone.
    a.move_no_overwrite(&at("rcd.claim"), &at("proc.claim"))
        .await
        .unwrap();
    b.move_no_overwrite(&at("proc.claim"), &at("rcd.claim"))
        .await
        .unwrap();
    assert_eq!(a.probe(remote).await.unwrap(), Some(2));
    a.move_no_overwrite(&at("rcd.claim"), &at("rcd.sha256"))
        .await
        .unwrap();
    b.move_to(&at("proc.claim"), &at("proc.sha256"))
        .await
        .unwrap();
    let names = ["rcd.sha256", "proc.sha256", "rcd.claim", "proc.claim"];
    let moved = sorted(a.stat(remote, &names).await.unwrap());
    same_objects(
        &moved,
        &sorted(b.stat(remote, &names).await.unwrap()),
        exact_times,
    );
    assert_eq!(
        moved.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(),
        ["proc.sha256", "rcd.sha256"]
    );
    if tagged {
        assert_eq!(
            moved[1].tag.as_deref(),
            Some("rcd-tag"),
            "the tag moves along"
        );
    }
    assert!(a.delete(&at("rcd.sha256")).await.unwrap());
    assert!(b.delete(&at("proc.sha256")).await.unwrap());
    assert!(!a.delete(&at("rcd.sha256")).await.unwrap());
    assert!(!b.delete(&at("proc.sha256")).await.unwrap());
    assert_eq!(a.list(remote).await.unwrap(), Vec::new());
    let missing = dbstash::rclone::join(remote, "nowhere");
    assert_eq!(
        a.probe(&missing).await.unwrap(),
        b.probe(&missing).await.unwrap()
    );
    assert_eq!(a.list(&missing).await.unwrap(), Vec::new());
    assert_eq!(a.tree(&missing).await.unwrap(), Vec::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_calls_answer_the_same_through_the_daemon_on_s3() {
    let Some(s3) = s3::server() else { return };
    let conf_dir = tempfile::tempdir().unwrap();
    let conf = s3.conf_file(conf_dir.path());
    let (bucket, _) = s3.bucket("rcd-same");
    same_answers(&format!("{bucket}/backups"), &conf, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_calls_answer_the_same_through_the_daemon_on_local() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let conf_dir = tempfile::tempdir().unwrap();
    let conf = conf_dir.path().join("rclone.conf");
    std::fs::write(&conf, "").unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("b")).unwrap();
    same_answers(&local_remote(&dir.path().join("b")), &conf, true).await;
}

/// A closed S3 port: the daemon's answer carries rclone's error, redacted, as fast as a
/// process's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_port_fails_the_same_through_the_daemon() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let remote = format!(
        ":s3,provider=Rclone,endpoint='http://127.0.0.1:{}',access_key_id=AKIDDBSTASHTEST01,secret_access_key={S3_SECRET}:bucket/x",
        closed_port()
    );
    let conf_dir = tempfile::tempdir().unwrap();
    let conf = conf_dir.path().join("rclone.conf");
    std::fs::write(&conf, "").unwrap();
    let (a, b) = both(&remote, &conf);
    for r in [&a, &b] {
        let started = std::time::Instant::now();
        let e = format!("{:#}", r.list(&remote).await.unwrap_err());
        assert!(e.contains("connection refused"), "{e}");
        assert!(e.starts_with("rclone lsjson"), "{e}");
        assert!(!e.contains(S3_SECRET), "{e}");
        assert!(started.elapsed() < Duration::from_secs(30), "{e}");
    }
}

/// RCLONE_EXTRA_ARGS reach the daemon as flags of its own: with `--ignore-checksum` (the
/// benchmark's case, and a flag users set) every control call still works into S3, the claim
/// and sidecar uploads among them.
#[test]
fn user_flags_on_the_daemon_keep_every_control_call_working() {
    let Some(s3) = s3::server() else { return };
    let bin = tempfile::tempdir().unwrap();
    write_script(bin.path(), "pg_dump", "echo 'select 7;'");
    let conf_dir = tempfile::tempdir().unwrap();
    let conf = s3.conf_file(conf_dir.path());
    for flags in ["--ignore-checksum", "--ignore-size", "--s3-no-head"] {
        let tmp = tempfile::tempdir().unwrap();
        let (remote, dir) = s3.bucket("rcd-flags");
        let out = backup(bin.path(), tmp.path(), &remote)
            .env("RCLONE_CONFIG_FILE", &conf)
            .env("RCLONE_EXTRA_ARGS", flags)
            .run();
        assert_eq!(out.code, 0, "{flags}: {}", out.stderr);
        let files = files_in(&dir);
        assert_eq!(files.len(), 2, "{flags}: {files:?}");
        assert!(
            files.iter().any(|f| f.ends_with(".sql.sha256")),
            "{files:?}"
        );
    }
}

/// A transient server error after the whole dump was uploaded must not cost the backup: the
/// commit's server-side copies (claim -> `.sha256`, staging -> name) are retried (the S3
/// client's attempts times rclone's low-level retries: 8 errors in a row fail it here). The
/// proxy answers the first four S3 copies with HTTP 500; through rcd and through processes
/// alike.
#[test]
fn a_transient_server_error_after_the_upload_is_retried() {
    const FAILURES: usize = 4;
    let Some(pg) = pg::server() else { return };
    let Some(s3) = s3::server() else { return };
    let db = pg.seeded_db("transient500");
    for rcd in ["1", "0"] {
        let proxy = faulty::start(s3.port, FAILURES);
        let (remote, bucket) = s3.bucket("transient500");
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("rclone.conf");
        std::fs::write(
            &conf,
            s3.rclone_conf().replace(
                &format!("127.0.0.1:{}", s3.port),
                &format!("127.0.0.1:{}", proxy.port),
            ),
        )
        .unwrap();
        let out = pg
            .dbstash()
            .env("ENGINE", "pg")
            .env("DB_URI", pg.uri(&db))
            .env("RCLONE_REMOTE", &remote)
            .env("RCLONE_CONFIG_FILE", &conf)
            .env("BACKUP_SCHEDULE", "once")
            .env("DBSTASH_RCLONE_RCD", rcd)
            .run();
        assert_eq!(
            proxy.injected.load(std::sync::atomic::Ordering::SeqCst),
            FAILURES,
            "the proxy failed {FAILURES} copies (rcd={rcd}): {}",
            out.stderr
        );
        out.assert_code(0);
        let files = files_in(&bucket);
        assert_eq!(
            files.len(),
            2,
            "the backup and its sidecar (rcd={rcd}): {files:?}"
        );
        let backup = files.iter().find(|f| !f.ends_with(".sha256")).unwrap();
        let sidecar = std::fs::read_to_string(bucket.join(format!("{backup}.sha256"))).unwrap();
        assert_eq!(
            sidecar,
            format!("{}  {backup}\n", sha256_hex(&bucket.join(backup)))
        );
    }
}
