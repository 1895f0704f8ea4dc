//! Secrets that dbstash does not own but hands to its children: the values of secret-looking
//! flags in RCLONE_EXTRA_ARGS and DUMP_EXTRA_ARGS, credentials in the remote string and in
//! rclone's environment. A child that echoes them (rclone -vv prints its whole command line)
//! must not carry them into anything dbstash prints or serves. And no secret dbstash writes
//! for a child may outlive dbstash in a file, even when dbstash is SIGKILLed.

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;

use crate::support::receiver::{ok, Receiver};
use crate::support::*;

// ------------------------------------------------------------- secrets echoed by children

/// Distinct beginnings of the secrets below: none may appear in any output, in any form
/// (raw, escaped by rclone's quoting, escaped again by a JSON or text log line).
const MARKERS: [&str; 5] = [
    "Extra-S3cret",
    "Sse-Customer",
    "Env-Session",
    "Remote-Secret",
    "Remote-Akid",
];

/// RCLONE_EXTRA_ARGS as the issue reproduced it (`-vv` makes rclone print its command line),
/// with a value that rclone's quoting escapes (`"` and `\`) and one in `--flag=value` form.
const EXTRA_ARGS: &str = r#"-vv --s3-secret-access-key 'Extra-S3cret"Quote\Back' --s3-sse-customer-key=Sse-Customer-Key-2"#;

/// An S3 remote on a closed port, credentials inline (rclone echoes the remote string). Its
/// chunk size is too small, so rclone gives up before connecting and its whole output (the
/// command line it echoes comes first) lands in the error, not only its tail.
fn closed_s3_remote() -> String {
    format!(
        ":s3,provider=Rclone,endpoint='http://127.0.0.1:{}',access_key_id=Remote-Akid-5,secret_access_key=Remote-Secret-4,chunk_size=1:bucket/db",
        closed_port()
    )
}

fn assert_clean(what: &str, text: &str) {
    for m in MARKERS {
        assert!(!text.contains(m), "{what} carries {m}:\n{text}");
    }
}

/// Fakes for the pg engine: pg_dump answers `--version` (the daemon's start-up check) and
/// prints a small dump; psql logs in.
fn pg_fakes(dir: &Path) {
    write_script(
        dir,
        "pg_dump",
        "if [ \"$1\" = --version ]; then echo 'pg_dump (PostgreSQL) 15'; exit 0; fi\necho 'create table t(x int);'",
    );
    write_script(dir, "psql", "echo 1");
}

/// A post-backup hook that keeps what it was told about the failure.
const ERROR_HOOK: &str = r#"printf '%s\n' "$DBSTASH_ERROR" >> "$FAKE_DIR/hook.error""#;

/// rclone's control calls as processes (`DBSTASH_RCLONE_RCD=0`, their stderr with the -vv
/// echo lands in the error) and through the run's `rclone rcd` (rclone's error text alone).
const RCD_SWITCH: [&str; 2] = ["0", "1"];

/// What shows rclone's own error reached the user: the -vv echo of a process, or the error
/// text rcd answered with.
fn assert_rclone_spoke(rcd: &str, text: &str) {
    if rcd == "0" {
        assert!(text.contains("starting with parameters"), "{text}");
    } else {
        assert!(text.contains("chunk size: 1Ki is less than 5Mi"), "{text}");
    }
}

#[test]
fn rclone_echoing_secret_flags_leaks_nothing_to_text_logs_hooks_or_webhooks() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    for rcd in RCD_SWITCH {
        echoing_secret_flags_to_text_logs(rcd);
    }
}

fn echoing_secret_flags_to_text_logs(rcd: &str) {
    let tmp = tempfile::tempdir().unwrap();
    pg_fakes(tmp.path());
    let rx = Receiver::start(vec![ok()]);
    let out = Dbstash::new()
        .fake_bin(tmp.path())
        .env("FAKE_DIR", tmp.path())
        .env("ENGINE", "pg")
        .env("DB_HOST", "127.0.0.1")
        .env("DB_NAME", "app")
        .env("BACKUP_SCHEDULE", "once")
        .env("RCLONE_REMOTE", closed_s3_remote())
        .env("RCLONE_EXTRA_ARGS", EXTRA_ARGS)
        // rclone prints flags it takes from its environment, values included.
        .env("RCLONE_S3_SESSION_TOKEN", "Env-Session-Token-3")
        .env("HOOK_POST_BACKUP", ERROR_HOOK)
        .env("NOTIFY_WEBHOOK_URL", rx.url("/hook"))
        .env("DBSTASH_RCLONE_RCD", rcd)
        .run();
    out.assert_code(1);
    // rclone's echo reached the error (redacted): the test proves what it claims.
    assert_rclone_spoke(rcd, &out.stderr);
    assert!(out.stderr.contains("***"), "{}", out.stderr);
    assert_clean("stderr (text log)", &out.stderr);
    assert_clean("stdout", &out.stdout);
    let hook = std::fs::read_to_string(tmp.path().join("hook.error")).unwrap();
    assert!(hook.contains("rclone"), "{hook}");
    assert_clean("DBSTASH_ERROR", &hook);
    let sent = rx.wait_for(1, Duration::from_secs(10));
    assert!(sent[0].text().contains("rclone"), "{}", sent[0].text());
    assert_clean("webhook", &sent[0].text());
}

/// Credentials whose option names say neither pass, secret, token nor (at their end) key:
/// an SFTP private key (`--sftp-key-pem`), an S3 customer key in base64, a WebDAV bearer
/// token among `--webdav-headers` pairs, an Azure SAS URL; from the environment, a GCS
/// service account's JSON and an Azure connection string; and a secret holding a quote,
/// which the remote-string pattern used to cut in two before the secret was looked for.
/// rclone -vv echoes every one; none may reach the log.
#[test]
fn credentials_named_otherwise_leak_nothing() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    for rcd in RCD_SWITCH {
        credentials_named_otherwise(rcd);
    }
}

fn credentials_named_otherwise(rcd: &str) {
    let tmp = tempfile::tempdir().unwrap();
    pg_fakes(tmp.path());
    let out = Dbstash::new()
        .fake_bin(tmp.path())
        .env("ENGINE", "pg")
        .env("DB_HOST", "127.0.0.1")
        .env("DB_NAME", "app")
        .env("BACKUP_SCHEDULE", "once")
        .env("RCLONE_REMOTE", closed_s3_remote())
        .env(
            "RCLONE_EXTRA_ARGS",
            "-vv --sftp-key-pem Leak-Pem-21 --s3-sse-customer-key-base64 Leak-Cust-22 \
             --webdav-headers 'Authorization,Bearer Leak-Dav-23' \
             --azureblob-sas-url 'https://a.blob.core.windows.net/c?sig=Leak-Sas-24'",
        )
        .env(
            "RCLONE_GCS_SERVICE_ACCOUNT_CREDENTIALS",
            r#"{"private_key":"Leak-Gcs-25"}"#,
        )
        .env(
            "RCLONE_AZUREFILES_CONNECTION_STRING",
            "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=Leak-Conn-26",
        )
        .env("RCLONE_SWIFT_AUTH_TOKEN", r#"Quote"Leak-Swift-27"#)
        .env("DBSTASH_RCLONE_RCD", rcd)
        .run();
    out.assert_code(1);
    // rclone echoed them (redacted): the test proves what it claims. (rcd's own log, where
    // it echoes them, goes nowhere: its answers carry the error alone.)
    assert_rclone_spoke(rcd, &out.stderr);
    if rcd == "0" {
        for echoed in [
            "Setting --gcs-service-account-credentials",
            "Setting --swift-auth-token",
        ] {
            assert!(out.stderr.contains(echoed), "{echoed}: {}", out.stderr);
        }
    }
    assert!(
        !out.stderr.contains("Leak-"),
        "a credential leaked: {}",
        out.stderr
    );
}

#[test]
fn rclone_echoing_secret_flags_leaks_nothing_to_json_logs_or_healthz() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    for rcd in RCD_SWITCH {
        echoing_secret_flags_to_json_logs(rcd);
    }
}

fn echoing_secret_flags_to_json_logs(rcd: &str) {
    let tmp = tempfile::tempdir().unwrap();
    pg_fakes(tmp.path());
    let port = free_port();
    let rx = Receiver::start(vec![ok()]);
    let running = Dbstash::new()
        .fake_bin(tmp.path())
        .env("FAKE_DIR", tmp.path())
        .env("ENGINE", "pg")
        .env("DB_HOST", "127.0.0.1")
        .env("DB_NAME", "app")
        .env("BACKUP_SCHEDULE", "*/2 * * * * *")
        .env("HEALTH_ADDR", format!("127.0.0.1:{port}"))
        .env("LOG_FORMAT", "json")
        .env("RCLONE_REMOTE", closed_s3_remote())
        .env("RCLONE_EXTRA_ARGS", EXTRA_ARGS)
        .env("RCLONE_S3_SESSION_TOKEN", "Env-Session-Token-3")
        .env("HOOK_POST_BACKUP", ERROR_HOOK)
        .env("NOTIFY_WEBHOOK_URL", rx.url("/hook"))
        .env("DBSTASH_RCLONE_RCD", rcd)
        .spawn();
    wait_for_port(port, "dbstash health endpoint");
    // The start-up check lists the remote (fails), then a scheduled backup fails.
    let mut body = String::new();
    wait_for("a failed backup on /healthz", 60, || {
        body = http_get(port, "/healthz").1;
        body.contains("\"last_error\":\"")
    });
    assert_rclone_spoke(rcd, &body);
    assert_clean("/healthz", &body);
    assert_clean("/metrics", &http_get(port, "/metrics").1);
    let sent = rx.wait_for(2, Duration::from_secs(10));
    assert!(!sent.is_empty(), "no webhook sent");
    for r in &sent {
        assert_clean("webhook", &r.text());
    }
    wait_for("the post hook", 10, || {
        tmp.path().join("hook.error").exists()
    });
    unsafe {
        libc::kill(running.child.id() as i32, libc::SIGTERM);
    }
    let (_, stderr) = running.finish();
    assert_rclone_spoke(rcd, &stderr);
    for line in stderr.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
    }
    assert_clean("JSON log", &stderr);
    assert_clean(
        "DBSTASH_ERROR",
        &std::fs::read_to_string(tmp.path().join("hook.error")).unwrap(),
    );
}

#[test]
fn dump_extra_args_secrets_stay_out_of_errors_hooks_and_the_dry_run() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // A dump tool that repeats its arguments in its error, as some do.
    write_script(
        tmp.path(),
        "mariadb-dump",
        r#"echo "mariadb-dump: unknown option in: $*" >&2; exit 2"#,
    );
    let extra = "-pShort-Pw-5 --api-token Long-Token-6 --ssl-key=Key-File-7";
    let markers = ["Short-Pw", "Long-Token", "Key-File"];
    let base = || {
        Dbstash::new()
            .fake_bin(tmp.path())
            .env("FAKE_DIR", tmp.path())
            .env("ENGINE", "mariadb")
            .env("DB_HOST", "127.0.0.1")
            .env("DB_NAME", "app")
            .env("BACKUP_SCHEDULE", "once")
            .env("RCLONE_REMOTE", local_remote(&tmp.path().join("remote")))
            .env("DUMP_EXTRA_ARGS", extra)
            .env("HOOK_POST_BACKUP", ERROR_HOOK)
    };
    let out = base().run();
    out.assert_code(1);
    assert!(out.stderr.contains("unknown option in"), "{}", out.stderr);
    let hook = std::fs::read_to_string(tmp.path().join("hook.error")).unwrap();
    let dry = base().env("DRY_RUN", "true").run();
    dry.assert_code(0);
    for m in markers {
        assert!(
            !out.stderr.contains(m),
            "stderr carries {m}: {}",
            out.stderr
        );
        assert!(!hook.contains(m), "DBSTASH_ERROR carries {m}: {hook}");
        assert!(
            !dry.stdout.contains(m),
            "dry run carries {m}: {}",
            dry.stdout
        );
        assert!(
            !dry.stderr.contains(m),
            "dry run carries {m}: {}",
            dry.stderr
        );
    }
}

// ------------------------------------------------------------- secret files and SIGKILL

/// Files dbstash may have left in `tmpdir` holding a secret (this version's prefix and the
/// inline rclone config's of earlier versions).
fn secret_files(tmpdir: &Path) -> Vec<String> {
    all_files_in(tmpdir)
        .into_iter()
        .filter(|n| n.starts_with("dbstash-secret-") || n.starts_with("dbstash-rclone-"))
        .collect()
}

/// Wait until some file under `dir` (hidden staging names included) holds data.
fn wait_for_partial_upload(dir: &Path) {
    wait_for("a partial upload", 20, || {
        std::fs::read_dir(dir).is_ok_and(|rd| {
            rd.filter_map(|e| e.ok())
                .any(|e| e.metadata().is_ok_and(|m| m.len() > 0))
        })
    });
}

/// A dump that sends 3 MB (rclone has started writing), then hangs.
const STREAMING: &str = "head -c 3000000 /dev/zero; exec sleep 60";

#[test]
fn inline_rclone_config_leaves_no_file_after_sigkill() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let tmpdir = tmp.path().join("tmpdir");
    std::fs::create_dir(&tmpdir).unwrap();
    write_script(tmp.path(), "pg_dump", STREAMING);
    let remote = tmp.path().join("remote");
    let conf = "[loc]\ntype = local\n";
    let running = Dbstash::new()
        .fake_bin(tmp.path())
        .env("TMPDIR", &tmpdir)
        .env("ENGINE", "pg")
        .env("DB_HOST", "127.0.0.1")
        .env("DB_NAME", "app")
        .env("BACKUP_SCHEDULE", "once")
        .env(
            "RCLONE_CONFIG",
            base64::engine::general_purpose::STANDARD.encode(conf),
        )
        .env("RCLONE_REMOTE", format!("loc:{}", remote.display()))
        .spawn();
    wait_for_partial_upload(&remote);
    // rclone reads the config from the memory file it inherited.
    let rclone = processes_mentioning(&remote.display().to_string());
    assert!(
        rclone.iter().any(|p| p.contains("--config /proc/self/fd/")),
        "{rclone:?}"
    );
    running.sigkill();
    assert_no_process_left(&tmp.path().display().to_string(), 5);
    assert_eq!(secret_files(&tmpdir), Vec::<String>::new());
}

#[test]
fn mongodump_config_file_is_readable_by_the_child_and_gone_after_sigkill() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let tmpdir = tmp.path().join("tmpdir");
    std::fs::create_dir(&tmpdir).unwrap();
    write_script(
        tmp.path(),
        "mongodump",
        &format!(
            r#"echo "$@" > "$FAKE_DIR/argv"
for a in "$@"; do
  case "$a" in --config=*) f="${{a#--config=}}"; cat "$f" > "$FAKE_DIR/config"; stat -L -c %a "$f" > "$FAKE_DIR/config.mode"; readlink "$f" > "$FAKE_DIR/config.link" ;; esac
done
{STREAMING}"#
        ),
    );
    let remote = tmp.path().join("remote");
    let running = Dbstash::new()
        .fake_bin(tmp.path())
        .env("FAKE_DIR", tmp.path())
        .env("TMPDIR", &tmpdir)
        .env("ENGINE", "mongo")
        .env("DB_URI", "mongodb://app:Mongo-Pw-8@m1:27017/analytics")
        .env("BACKUP_SCHEDULE", "once")
        .env("RCLONE_REMOTE", local_remote(&remote))
        .spawn();
    wait_for_partial_upload(&remote);
    let read = |f: &str| std::fs::read_to_string(tmp.path().join(f)).unwrap_or_default();
    let argv = read("argv");
    let config_arg = argv.split_whitespace().next().unwrap_or_default();
    let fd = config_arg
        .strip_prefix("--config=/proc/self/fd/")
        .unwrap_or_default();
    assert!(
        fd.parse::<u32>().is_ok(),
        "--config=/proc/self/fd/N (the child's own descriptor) expected: {argv}"
    );
    assert!(read("config").contains("Mongo-Pw-8"), "{}", read("config"));
    assert_eq!(read("config.mode").trim(), "600");
    assert!(
        read("config.link").starts_with("/memfd:dbstash-secret"),
        "a memory file, not a file on disk: {}",
        read("config.link")
    );
    running.sigkill();
    assert_no_process_left(&tmp.path().display().to_string(), 5);
    assert_eq!(secret_files(&tmpdir), Vec::<String>::new());
}

/// A dbstash that is not dumpable (an execute-only binary run by a user who cannot read it;
/// file capabilities alike) has a `/proc/<pid>/fd` its children may not open. Its secret
/// files still reach them: each child opens its own inherited descriptor. Before, every
/// run with an inline RCLONE_CONFIG failed (`open /proc/PID/fd/N: permission denied`), and
/// so did mongodump's `--config`.
#[test]
fn secret_files_reach_the_children_of_a_dbstash_that_is_not_dumpable() {
    use std::os::unix::fs::PermissionsExt as _;
    use std::os::unix::process::CommandExt as _;
    let Some(rclone) = real_binary("rclone").or_else(|| missing("rclone", s3::INSTALL)) else {
        return;
    };
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root, to run dbstash as another user");
        return;
    }
    let nobody = 65534;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let open = |p: &Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    open(dir, 0o755);
    let bin = dir.join("bin");
    std::fs::create_dir(&bin).unwrap();
    // The binary only its owner (root) may read: run by nobody, it is not dumpable.
    install_executable(Path::new(BIN), &bin.join("dbstash"), 0o711);
    if std::fs::hard_link(&rclone, bin.join("rclone")).is_err() {
        install_executable(&rclone, &bin.join("rclone"), 0o755);
    }
    write_script(
        &bin,
        "mongodump",
        r#"for a in "$@"; do
  case "$a" in --config=*) grep -q Mongo-Pw-11 "${a#--config=}" || { echo "cannot read ${a#--config=}" >&2; exit 1; } ;; esac
done
echo archive"#,
    );
    for p in ["work", "remote"] {
        std::fs::create_dir(dir.join(p)).unwrap();
        open(&dir.join(p), 0o777);
    }
    let conf = "[dest]
type = local
";
    let out = std::process::Command::new(bin.join("dbstash"))
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("HOME", dir.join("work"))
        .env("BACKUP_TEMP_DIR", dir.join("work"))
        .env("ENGINE", "mongo")
        .env("DB_URI", "mongodb://app:Mongo-Pw-11@m1:27017/analytics")
        .env("BACKUP_SCHEDULE", "once")
        .env(
            "RCLONE_CONFIG",
            base64::engine::general_purpose::STANDARD.encode(conf),
        )
        .env(
            "RCLONE_REMOTE",
            format!("dest:{}", dir.join("remote").display()),
        )
        .uid(nobody)
        .gid(nobody)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(files_in(&dir.join("remote")).len(), 2, "{stderr}");
}

#[test]
fn pg_dumpall_grandchildren_read_the_sslpassword_service_file() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let Some(pg) = pg::start() else { return };
    let db = pg.seeded_db("svc_all");
    let tmp = tempfile::tempdir().unwrap();
    let remote = tmp.path().join("remote");
    // sslmode=disable: the passphrase is not used, but every pg_dump that pg_dumpall starts
    // must find the service `dbstash` (in dbstash's memory file) or refuse to connect.
    let out = pg
        .dbstash()
        .env("TMPDIR", tmp.path())
        .env("ENGINE", "pg")
        .env(
            "DB_URI",
            format!("{}?sslmode=disable&sslpassword=Key-Pass-All-9", pg.uri(&db)),
        )
        .env("BACKUP_ALL_DATABASES", "true")
        .env("BACKUP_SCHEDULE", "once")
        .env("RCLONE_REMOTE", local_remote(&remote))
        .run();
    out.assert_code(0);
    assert!(!out.stderr.contains("Key-Pass-All"), "{}", out.stderr);
    let dump = std::fs::read_to_string(single_backup(&remote, ".sql")).unwrap();
    assert!(dump.contains(&format!("CREATE DATABASE {db}")), "{dump}");
    assert_eq!(secret_files(tmp.path()), Vec::<String>::new());
}

#[test]
fn inline_rclone_config_with_an_obscured_password_reaches_a_real_webdav_server() {
    let Some(rclone) = require("rclone", s3::INSTALL) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let served = server_dir("dbstash-webdav-");
    let port = free_port();
    let mut serve = std::process::Command::new(&rclone);
    serve
        .args(["--config", "", "serve", "webdav", "--user", "u", "--pass"])
        .arg("Dav-Pass-10")
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .arg(&served)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    spawn_server(serve, &served, libc::SIGTERM);
    wait_for_port(port, "rclone serve webdav");
    let obscured = std::process::Command::new(&rclone)
        .args(["obscure", "Dav-Pass-10"])
        .output()
        .unwrap();
    let obscured = String::from_utf8_lossy(&obscured.stdout).trim().to_string();
    let conf = format!(
        "[dav]\ntype = webdav\nurl = http://127.0.0.1:{port}\nvendor = rclone\nuser = u\npass = {obscured}\n"
    );
    pg_fakes(tmp.path());
    let out = Dbstash::new()
        .fake_bin(tmp.path())
        .env("TMPDIR", tmp.path())
        .env("ENGINE", "pg")
        .env("DB_HOST", "127.0.0.1")
        .env("DB_NAME", "app")
        .env("BACKUP_SCHEDULE", "once")
        .env(
            "RCLONE_CONFIG",
            base64::engine::general_purpose::STANDARD.encode(conf),
        )
        .env("RCLONE_REMOTE", "dav:backups")
        .run();
    out.assert_code(0);
    let backup = single_backup(&served.join("backups"), ".sql");
    assert_eq!(
        std::fs::read_to_string(backup).unwrap(),
        "create table t(x int);\n"
    );
    assert_eq!(secret_files(tmp.path()), Vec::<String>::new());
}

#[test]
fn secret_files_that_killed_runs_left_are_removed_and_live_ones_kept() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let tmpdir = tmp.path().join("tmpdir");
    std::fs::create_dir(&tmpdir).unwrap();
    let make = |name: &str, age_secs: u64| {
        let p = tmpdir.join(name);
        std::fs::write(&p, "secret = x\n").unwrap();
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        let t = std::time::SystemTime::now() - Duration::from_secs(age_secs);
        std::fs::File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_modified(t)
            .unwrap();
        p
    };
    make("dbstash-secret-old1", 3600);
    make("dbstash-rclone-old2.conf", 600);
    // Still open in a running process (another dbstash's, say): kept.
    let held = make("dbstash-secret-held", 3600);
    let _holder = std::fs::File::open(&held).unwrap();
    // Just written: kept (its owner may be about to open it).
    make("dbstash-secret-fresh", 0);
    // Not ours.
    make("other-secret-old", 3600);
    write_script(tmp.path(), "pg_dump", "echo 'create table t(x int);'");
    let out = Dbstash::new()
        .fake_bin(tmp.path())
        .env("TMPDIR", &tmpdir)
        .env("ENGINE", "pg")
        .env("DB_HOST", "127.0.0.1")
        .env("DB_NAME", "app")
        .env("BACKUP_SCHEDULE", "once")
        .env("RCLONE_REMOTE", local_remote(&tmp.path().join("remote")))
        .run();
    out.assert_code(0);
    // The watchdog sweeps in the background, and finishes before it exits.
    wait_for("the stale files to go", 10, || {
        !tmpdir.join("dbstash-secret-old1").exists()
            && !tmpdir.join("dbstash-rclone-old2.conf").exists()
    });
    assert_eq!(
        all_files_in(&tmpdir),
        [
            "dbstash-secret-fresh",
            "dbstash-secret-held",
            "other-secret-old"
        ]
    );
}
