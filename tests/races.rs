//! Runs that render the same backup name at the same time (issue 9, item 1), on `:local:`
//! (staged upload + rename) and `rclone serve s3` (direct upload): a run that exits 0 left
//! exactly the object it reports, matching its `.sha256`, and no run overwrites or deletes an
//! object it did not write.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::race::*;
use crate::support::*;

/// The name every run of these tests renders: no unique part on purpose.
const TEMPLATE: &str = "race-{db}";
const NAME: &str = "race-app.sql";

/// Where the backups go: the remote string, and the directory that holds its files.
struct Target {
    remote: String,
    dir: PathBuf,
    conf: PathBuf,
}

impl Target {
    fn local(tmp: &Path) -> Target {
        let dir = tmp.join("remote");
        Target {
            remote: local_remote(&dir),
            conf: empty_conf(tmp),
            dir,
        }
    }

    fn s3(s3: &s3::S3, tmp: &Path) -> Target {
        let (remote, dir) = s3.bucket("race");
        Target {
            remote,
            dir,
            conf: s3.conf_file(tmp),
        }
    }

    fn webdav(dav: &WebDav, tmp: &Path) -> Target {
        let (remote, dir) = dav.folder("race");
        Target {
            remote,
            dir,
            conf: empty_conf(tmp),
        }
    }

    /// `dbstash pg` backing up `app` once into this target with the fakes in `fake`.
    fn dbstash(&self, fake: &Path, remote: &str) -> Dbstash {
        Dbstash::new()
            .fake_bin(fake)
            .args([
                "pg",
                "--db-host",
                "127.0.0.1",
                "--db-name",
                "app",
                "--backup-schedule",
                "once",
            ])
            .env("RCLONE_REMOTE", remote)
            .env("RCLONE_CONFIG_FILE", &self.conf)
            .env("BACKUP_NAME_TEMPLATE", TEMPLATE)
            .env("TZ", "UTC")
    }

    /// Put an object of another writer on the remote, through rclone.
    fn put_foreign(&self, name: &str, content: &[u8]) {
        use std::io::Write as _;
        let mut child = Command::new("rclone")
            .args(["--config"])
            .arg(&self.conf)
            .args(["rcat", &format!("{}/{name}", self.remote)])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(content).unwrap();
        assert!(child.wait().unwrap().success(), "rclone rcat {name}");
    }

    fn read(&self, name: &str) -> Option<Vec<u8>> {
        std::fs::read(self.dir.join(name)).ok()
    }

    /// Files left on the remote, hidden staging files and claims included (but not the
    /// hidden multipart leftovers `rclone serve s3` keeps).
    fn files(&self) -> Vec<String> {
        let mut files = all_files_in(&self.dir);
        files.retain(|f| !f.starts_with(".rclone_temp_multipart"));
        files
    }
}

fn empty_conf(tmp: &Path) -> PathBuf {
    let p = tmp.join("rclone.conf");
    std::fs::write(&p, "").unwrap();
    p
}

fn sha256_of(data: &[u8]) -> String {
    use sha2::Digest as _;
    format!("{:x}", sha2::Sha256::digest(data))
}

/// The invariant after runs that all rendered `NAME`: at most one exited 0, and one that
/// did left its object, matching its report and its sidecar. Every run exits 0 or 1.
/// Returns how many succeeded.
fn check_invariant(t: &Target, outs: &[Output], what: &str) -> usize {
    let mut ok = 0;
    for out in outs {
        assert!(
            out.code == 0 || out.code == 1,
            "{what}: exit {}\n{}",
            out.code,
            out.stderr
        );
        if out.code != 0 {
            continue;
        }
        ok += 1;
        let sha = reported_sha256(out)
            .unwrap_or_else(|| panic!("{what}: no sha256 reported:\n{}", out.stderr));
        let object = t
            .read(NAME)
            .unwrap_or_else(|| panic!("{what}: exited 0 but {NAME} is gone:\n{}", out.stderr));
        assert_eq!(
            sha256_of(&object),
            sha,
            "{what}: {NAME} is not the object this run reported (overwritten?)\n{}",
            out.stderr
        );
        let sidecar =
            String::from_utf8(t.read(&format!("{NAME}.sha256")).unwrap_or_default()).unwrap();
        assert_eq!(
            sidecar,
            format!("{sha}  {NAME}\n"),
            "{what}: sidecar of the successful run"
        );
    }
    assert!(
        ok <= 1,
        "{what}: {ok} runs exited 0 with the same name\n{}",
        outs.iter()
            .map(|o| o.stderr.as_str())
            .collect::<Vec<_>>()
            .join("\n-----\n")
    );
    // Nothing of a failed run stays behind: no staging file, no sidecar without its object.
    let files = t.files();
    for f in &files {
        assert!(
            f == NAME || f == &format!("{NAME}.sha256"),
            "{what}: unexpected leftover {f} in {files:?}"
        );
    }
    if files.contains(&format!("{NAME}.sha256")) {
        assert!(files.contains(&NAME.to_string()), "{what}: a sidecar alone");
    }
    ok
}

/// Two runs of the same job started together, `rounds` times, each round in a fresh folder.
/// The second run's dump starts a little later each round, so the two commits sweep across
/// each other.
fn race(make: impl Fn(&Path) -> Target, rounds: usize, lock: Lock) -> usize {
    let mut successes = 0;
    for round in 0..rounds {
        let tmp = tempfile::tempdir().unwrap();
        let t = make(tmp.path());
        let (fast, slow) = (tmp.path().join("fast"), tmp.path().join("slow"));
        for (dir, delay) in [(&fast, "0"), (&slow, &format!("0.{:02}", (round % 6) * 3))] {
            std::fs::create_dir(dir).unwrap();
            random_dump(dir, 150_000, delay);
        }
        let shared = tmp.path().join("locks");
        let runs: Vec<Running> = [(&fast, &t.remote), (&slow, &with_slash(&t.remote))]
            .into_iter()
            .map(|(fake, remote)| {
                let remote = match lock {
                    Lock::Off => t.remote.clone(),
                    Lock::OnSlashes => remote.clone(),
                };
                let cmd = t.dbstash(fake, &remote);
                match lock {
                    Lock::Off => cmd.env("BACKUP_LOCK", "false"),
                    Lock::OnSlashes => cmd.env("BACKUP_TEMP_DIR", &shared),
                }
                .spawn()
            })
            .collect();
        let outs: Vec<Output> = runs.into_iter().map(wait).collect();
        let what = format!("{} round {round}", t.remote);
        let ok = check_invariant(&t, &outs, &what);
        for o in outs.iter().filter(|o| o.code != 0) {
            // How the loser stopped, for `--nocapture` (claim, rename skipped, replaced…).
            let why = o
                .stderr
                .lines()
                .find_map(|l| l.split_once("error="))
                .map_or("", |(_, e)| e);
            eprintln!(
                "{what}: {ok} ok; other: {}",
                why.chars().take(110).collect::<String>()
            );
        }
        if lock == Lock::OnSlashes {
            assert_eq!(ok, 1, "{what}: the lock lets exactly one run through");
            let other = outs.iter().find(|o| o.code != 0).unwrap();
            assert!(
                other.stderr.contains("holds the lock") || other.stderr.contains("already exists"),
                "{what}: {}",
                other.stderr
            );
        }
        successes += ok;
    }
    successes
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lock {
    /// BACKUP_LOCK=false: nothing serialises the runs.
    Off,
    /// The lock on, one run's RCLONE_REMOTE written with a trailing `/`.
    OnSlashes,
}

fn with_slash(remote: &str) -> String {
    format!("{remote}/")
}

/// Rounds per backend: 12 by default (about 10 s each on 2 idle cores: each run makes
/// about nine rclone calls), more with `DBSTASH_RACE_ROUNDS` for a soak.
fn rounds() -> usize {
    std::env::var("DBSTASH_RACE_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(12)
}

#[test]
fn same_name_races_on_local_keep_every_promise() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let ok = race(Target::local, rounds(), Lock::Off);
    assert!(ok > 0, "some round must have a winner");
}

#[test]
fn same_name_races_on_s3_keep_every_promise() {
    let Some(s3) = s3::server() else { return };
    let ok = race(|tmp| Target::s3(s3, tmp), rounds(), Lock::Off);
    assert!(ok > 0, "some round must have a winner");
}

/// WebDAV keeps no user metadata and whole seconds: runs are told apart by their claims,
/// by size and time, and a checksum file by its content.
#[test]
fn same_name_races_on_webdav_keep_every_promise() {
    let Some(dav) = webdav() else { return };
    let ok = race(|tmp| Target::webdav(dav, tmp), rounds() / 2, Lock::Off);
    assert!(ok > 0, "some round must have a winner");
}

#[test]
fn the_lock_holds_whether_the_remote_ends_in_a_slash_or_not() {
    let Some(s3) = s3::server() else { return };
    race(Target::local, 4, Lock::OnSlashes);
    race(|tmp| Target::s3(s3, tmp), 4, Lock::OnSlashes);
}

/// Another writer's object appears under the name while the dump streams: the run fails
/// and leaves that object alone, whether its dump succeeds or fails.
#[test]
fn an_object_that_appears_while_a_run_streams_is_never_overwritten_or_deleted() {
    let (Some(s3), Some(dav)) = (s3::server(), webdav()) else {
        return;
    };
    for dump_exit in [0, 1] {
        for kind in ["local", "s3", "webdav"] {
            let tmp = tempfile::tempdir().unwrap();
            let t = match kind {
                "local" => Target::local(tmp.path()),
                "s3" => Target::s3(s3, tmp.path()),
                _ => Target::webdav(dav, tmp.path()),
            };
            let fake = tmp.path().join("fake");
            std::fs::create_dir(&fake).unwrap();
            gated_dump(&fake, 150_000, dump_exit);
            let run = t
                .dbstash(&fake, &t.remote)
                .env("BACKUP_LOCK", "false")
                .spawn();
            wait_for("the dump to start", 30, || fake.join("started").exists());
            t.put_foreign(NAME, b"another run's backup\n");
            std::fs::write(fake.join("go"), "").unwrap();
            let out = wait(run);
            let what = format!("{kind}, dump exit {dump_exit}");
            out.assert_code(1);
            assert_eq!(
                t.read(NAME).as_deref(),
                Some(&b"another run's backup\n"[..]),
                "{what}: the other object must stay as it was\n{}",
                out.stderr
            );
            assert_eq!(
                t.files(),
                [NAME],
                "{what}: nothing of the failed run is left"
            );
            assert!(
                !out.stderr.contains("left in place"),
                "{what}: nothing was committed, so nothing is in doubt\n{}",
                out.stderr
            );
            if dump_exit == 0 {
                assert!(
                    out.stderr.contains(&format!("{NAME} already exists")),
                    "{what}: {}",
                    out.stderr
                );
            }
        }
    }
}

/// Another writer's checksum file appears under the sidecar's name while the dump streams:
/// it is not overwritten, and the run does not leave a backup without its own sidecar.
#[test]
fn a_sidecar_that_appears_while_a_run_streams_is_never_overwritten() {
    let Some(s3) = s3::server() else { return };
    for kind in ["local", "s3"] {
        let tmp = tempfile::tempdir().unwrap();
        let t = if kind == "local" {
            Target::local(tmp.path())
        } else {
            Target::s3(s3, tmp.path())
        };
        let fake = tmp.path().join("fake");
        std::fs::create_dir(&fake).unwrap();
        gated_dump(&fake, 150_000, 0);
        let run = t
            .dbstash(&fake, &t.remote)
            .env("BACKUP_LOCK", "false")
            .spawn();
        wait_for("the dump to start", 30, || fake.join("started").exists());
        let foreign = format!("{}  {NAME}\n", "0".repeat(64));
        t.put_foreign(&format!("{NAME}.sha256"), foreign.as_bytes());
        std::fs::write(fake.join("go"), "").unwrap();
        let out = wait(run);
        out.assert_code(1);
        assert_eq!(
            t.read(&format!("{NAME}.sha256")).as_deref(),
            Some(foreign.as_bytes()),
            "{kind}: the other checksum file must stay as it was\n{}",
            out.stderr
        );
        assert_eq!(
            t.files(),
            [format!("{NAME}.sha256")],
            "{kind}: the failed run's object and staging files are gone\n{}",
            out.stderr
        );
    }
}

/// A claim on the name by another run blocks a run while it is fresh; one left by a killed
/// run a day ago is ignored, and deleted after the next successful backup.
#[test]
fn a_fresh_claim_blocks_and_a_stale_one_is_ignored() {
    if require("rclone", s3::INSTALL).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let t = Target::local(tmp.path());
    let fake = tmp.path().join("fake");
    std::fs::create_dir(&fake).unwrap();
    random_dump(&fake, 1000, "0");
    std::fs::create_dir_all(&t.dir).unwrap();
    let claim = format!(".{NAME}.claim-00000000");
    std::fs::write(t.dir.join(&claim), "claimed\n").unwrap();

    let out = wait(
        t.dbstash(&fake, &t.remote)
            .env("BACKUP_LOCK", "false")
            .spawn(),
    );
    out.assert_code(1);
    assert!(
        out.stderr.contains(
            "backup_id 00000000) is writing race-app.sql at the same time and claimed it first"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(
        t.files(),
        std::slice::from_ref(&claim),
        "only the other run's claim stays"
    );

    let old = std::process::Command::new("touch")
        .args(["-d", "2 days ago"])
        .arg(t.dir.join(&claim))
        .status()
        .unwrap();
    assert!(old.success());
    let out = wait(
        t.dbstash(&fake, &t.remote)
            .env("BACKUP_LOCK", "false")
            .spawn(),
    );
    out.assert_code(0);
    assert_eq!(
        t.files(),
        [NAME.to_string(), format!("{NAME}.sha256")],
        "the stale claim is gone\n{}",
        out.stderr
    );
}
