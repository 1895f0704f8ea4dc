//! Release plumbing, checked without GitHub: the completions and man page committed under
//! `share/` are what the CLI generates; `dist-workspace.toml` promises every target, its
//! installers and sha256 checksums and ships `share/`; the workflows parse, pin actions by
//! major tag and declare their permissions; the image matrix is exactly the promised one;
//! and the scripts under `.github/scripts` compute the versions and image tags the docs
//! (docs/releasing.md) describe.
//!
//! Regenerate `share/` after a CLI change (or a version bump) with
//! `DBSTASH_UPDATE_SHARE=1 cargo test --test integration release::`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

use crate::support::*;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
}

// ------------------------------------------------------------------ share/

/// Every generated file under share/, and the dbstash arguments that print it.
const SHARE: &[(&str, &[&str])] = &[
    ("share/completions/dbstash.bash", &["completions", "bash"]),
    ("share/completions/_dbstash", &["completions", "zsh"]),
    ("share/completions/dbstash.fish", &["completions", "fish"]),
    (
        "share/completions/_dbstash.ps1",
        &["completions", "powershell"],
    ),
    ("share/completions/dbstash.elv", &["completions", "elvish"]),
    ("share/man/dbstash.1", &["man"]),
];

/// The version line of a development build (build.rs without DBSTASH_VERSION/COMMIT): the
/// committed man page carries it, and the release builds stamp theirs over it
/// (`.github/scripts/version.sh stamp-man`).
fn dev_line() -> String {
    format!("{}-dev (development build)", env!("CARGO_PKG_VERSION"))
}

fn roff(s: &str) -> String {
    s.replace('-', "\\-")
}

/// What `dbstash <args>` prints, as a development build would print it (a test binary built
/// with DBSTASH_VERSION set gets its version line swapped back).
fn generated(args: &[&str]) -> String {
    let out = Dbstash::new().args(args).run();
    out.assert_code(0);
    assert!(!out.stdout.is_empty(), "dbstash {args:?} printed nothing");
    let injected = dbstash::VERSION_LINE;
    if injected == dev_line() {
        out.stdout
    } else {
        out.stdout
            .replace(
                &format!("\"dbstash {injected}\""),
                &format!("\"dbstash {}\"", dev_line()),
            )
            .replace(
                &format!("v{}", roff(injected)),
                &format!("v{}", roff(&dev_line())),
            )
    }
}

#[test]
fn share_holds_what_the_cli_generates() {
    let update = std::env::var_os("DBSTASH_UPDATE_SHARE").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for (rel, args) in SHARE {
        let want = generated(args);
        let path = root().join(rel);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &want).unwrap();
            eprintln!("wrote {rel}");
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(have) if have == want => {}
            Ok(_) => stale.push(format!("{rel} differs from `dbstash {}`", args.join(" "))),
            Err(e) => stale.push(format!("{rel}: {e}")),
        }
    }
    assert!(
        stale.is_empty(),
        "share/ is out of step with the CLI:\n  {}\nregenerate it with: DBSTASH_UPDATE_SHARE=1 cargo test --test integration release::",
        stale.join("\n  ")
    );
    // Nothing else lives there: dist ships the whole directory, and a file the CLI no
    // longer generates would ship forever.
    fn walk(dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                let rel = p.strip_prefix(root()).unwrap();
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    let mut present = Vec::new();
    walk(&root().join("share"), &mut present);
    present.sort();
    let mut expected: Vec<String> = SHARE.iter().map(|(rel, _)| rel.to_string()).collect();
    expected.sort();
    assert_eq!(present, expected, "unexpected files under share/");
}

#[test]
fn man_page_carries_the_dev_version_that_release_builds_stamp_over() {
    let page = read("share/man/dbstash.1");
    let th = format!(".TH dbstash 1  \"dbstash {}\"", dev_line());
    assert!(page.contains(&th), "no `{th}` in share/man/dbstash.1");
    assert!(page.contains(&format!("v{}", roff(&dev_line()))));

    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("dbstash.1");
    std::fs::write(&copy, &page).unwrap();
    let out = script("version.sh")
        .args(["stamp-man"])
        .arg(&copy)
        .env("DBSTASH_VERSION", "1.2.3-rc1")
        .env("DBSTASH_COMMIT", "0123abcd")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "stamp-man: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stamped = std::fs::read_to_string(&copy).unwrap();
    assert!(stamped.contains(".TH dbstash 1  \"dbstash 1.2.3-rc1 (commit 0123abcd)\""));
    assert!(stamped.contains("v1.2.3\\-rc1 (commit 0123abcd)"));
    assert!(
        !stamped.contains("development build"),
        "dev marker left:\n{stamped}"
    );
    // Only the version changed.
    assert_eq!(stamped.lines().count(), page.lines().count());
    assert!(stamped.ends_with('\n'));

    // A page that is not the committed dev page (stale share/) is refused, not shipped.
    let out = script("version.sh")
        .args(["stamp-man"])
        .arg(&copy)
        .env("DBSTASH_VERSION", "1.2.3")
        .env("DBSTASH_COMMIT", "0123abcd")
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "stamping an already stamped page succeeded"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("regenerate share/"));
}

/// `bash .github/scripts/<name>` in a clean environment (CI's GITHUB_* must not leak in).
fn script(name: &str) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(root().join(".github/scripts").join(name))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir());
    cmd
}

// ------------------------------------------------------------------ dist-workspace.toml

/// The targets the release promises (docs/install.md lists them). Linux only: dbstash uses
/// prctl(PR_SET_PDEATHSIG), F_SETPIPE_SZ and std::os::unix, so other platforms do not build.
const TARGETS: &[&str] = &[
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
];

fn dist_config() -> toml::Table {
    read("dist-workspace.toml")
        .parse::<toml::Table>()
        .expect("dist-workspace.toml is TOML")["dist"]
        .as_table()
        .expect("dist-workspace.toml has a [dist] table")
        .clone()
}

fn strings(v: &toml::Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v:?}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn dist_promises_every_target_its_installers_and_sha256_checksums() {
    let dist = dist_config();
    let want: BTreeSet<String> = TARGETS.iter().map(|t| t.to_string()).collect();
    assert_eq!(strings(&dist["targets"]), want, "dist targets");
    // The shell installer always; dist makes the PowerShell one only for Windows targets, so
    // it is listed exactly when one is built.
    let installers = strings(&dist["installers"]);
    let windows = want.iter().any(|t| t.contains("windows"));
    let mut want_installers = BTreeSet::from(["shell".to_string()]);
    if windows {
        want_installers.insert("powershell".to_string());
    }
    assert_eq!(installers, want_installers, "installers");
    assert_eq!(dist["checksum"].as_str(), Some("sha256"));
    assert_eq!(dist["unix-archive"].as_str(), Some(".tar.xz"));
    assert_eq!(dist["windows-archive"].as_str(), Some(".zip"));
    assert_eq!(dist["ci"].as_str(), Some("github"));
    assert_eq!(dist["pr-run-mode"].as_str(), Some("plan"));
    // Every custom runner is for a promised target.
    if let Some(runners) = dist.get("github-custom-runners") {
        for target in runners.as_table().unwrap().keys() {
            assert!(
                want.contains(target),
                "custom runner for unknown target {target}"
            );
        }
    }
    // dist refuses to build without [profile.dist], and the binary must stay stripped.
    let cargo = read("Cargo.toml").parse::<toml::Table>().unwrap();
    let profile = cargo["profile"]["dist"].as_table().expect("[profile.dist]");
    assert_eq!(profile["inherits"].as_str(), Some("release"));
    assert_eq!(cargo["profile"]["release"]["strip"].as_bool(), Some(true));
}

#[test]
fn dist_archives_ship_share_and_builds_inject_the_version() {
    let dist = dist_config();
    let include = strings(&dist["include"]);
    assert_eq!(include, BTreeSet::from(["share".to_string()]));
    for (rel, _) in SHARE {
        assert!(root().join(rel).is_file(), "{rel} missing");
    }
    // github-build-setup is relative to .github/workflows; its steps reach release.yml only
    // through `dist generate` (scripts/dist-check.sh checks the whole file).
    let setup_rel = dist["github-build-setup"].as_str().unwrap();
    let setup = root().join(".github/workflows").join(setup_rel);
    let steps = &yaml(&setup)[0];
    let release = read(".github/workflows/release.yml");
    let mut uses_version_action = false;
    for step in steps.as_vec().expect("build setup is a list of steps") {
        let name = step["name"]
            .as_str()
            .expect("every build-setup step has a name");
        assert!(
            release.contains(name),
            "release.yml lacks build-setup step `{name}`: run `dist generate`"
        );
        uses_version_action |= step["uses"].as_str() == Some("./.github/actions/version");
    }
    assert!(
        uses_version_action,
        "the build setup does not inject the version"
    );
    let action = yaml(&root().join(".github/actions/version/action.yml"));
    let run = action[0]["runs"]["steps"][0]["run"].as_str().unwrap();
    for needle in [
        ".github/scripts/version.sh env",
        "GITHUB_ENV",
        ".github/scripts/version.sh stamp-man share/man/dbstash.1",
    ] {
        assert!(run.contains(needle), "version action lacks `{needle}`");
    }
}

// ------------------------------------------------------------------ workflows

fn yaml(path: &Path) -> Vec<Yaml> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let docs = YamlLoader::load_from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()));
    assert_eq!(docs.len(), 1, "{}: one YAML document", path.display());
    docs
}

fn workflows() -> Vec<(String, Yaml)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let names: Vec<String> = files.iter().map(|p| file_name(p)).collect();
    assert_eq!(
        names,
        ["binaries.yml", "ci.yml", "images.yml", "release.yml"],
        "the workflows (docs/releasing.md describes each)"
    );
    files
        .iter()
        .map(|p| (file_name(p), yaml(p).remove(0)))
        .collect()
}

/// Every `uses:` of a job's steps (and reusable-workflow jobs).
fn uses_of(wf: &Yaml) -> Vec<String> {
    let mut out = Vec::new();
    for (_, job) in wf["jobs"].as_hash().expect("jobs") {
        if let Some(u) = job["uses"].as_str() {
            out.push(u.to_string());
        }
        for step in job["steps"].as_vec().into_iter().flatten() {
            if let Some(u) = step["uses"].as_str() {
                out.push(u.to_string());
            }
        }
    }
    out
}

#[test]
fn workflows_parse_pin_actions_by_major_tag_and_declare_permissions() {
    let major_tag = regex::Regex::new(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@v[0-9]+$").unwrap();
    for (name, wf) in workflows() {
        assert!(wf["name"].as_str().is_some(), "{name}: no name");
        assert!(!wf["on"].is_badvalue(), "{name}: no `on:`");
        let perms = wf["permissions"]
            .as_hash()
            .unwrap_or_else(|| panic!("{name}: no top-level permissions"));
        for (scope, level) in perms {
            let (scope, level) = (scope.as_str().unwrap(), level.as_str().unwrap());
            // Only a release may write contents (dist's release.yml creates the Release).
            let allowed = level == "read" || (name == "release.yml" && scope == "contents");
            assert!(allowed, "{name}: top-level permission {scope}: {level}");
        }
        for u in uses_of(&wf) {
            assert!(
                u.starts_with("./") || major_tag.is_match(&u),
                "{name}: `{u}` is not pinned to a major version tag (owner/action@vN)"
            );
        }
    }
}

/// images.yml's `image` legs: (engine, major) -> (build arg, platforms).
fn image_legs(wf: &Yaml) -> BTreeMap<(String, u32), (String, BTreeSet<String>)> {
    let legs = wf["jobs"]["image"]["strategy"]["matrix"]["include"]
        .as_vec()
        .expect("images.yml: jobs.image.strategy.matrix.include is no list");
    let mut out: BTreeMap<(String, u32), (String, BTreeSet<String>)> = BTreeMap::new();
    for leg in legs {
        let engine = leg["engine"].as_str().unwrap().to_string();
        let major: u32 = leg["major"]
            .as_str()
            .expect("major is a string")
            .parse()
            .unwrap();
        let arg = leg["arg"].as_str().expect("arg").to_string();
        let platform = leg["platform"].as_str().expect("platform").to_string();
        let entry = out
            .entry((engine.clone(), major))
            .or_insert_with(|| (arg.clone(), BTreeSet::new()));
        assert_eq!(entry.0, arg, "{engine}-{major}: two build args");
        assert!(
            entry.1.insert(platform.clone()),
            "{engine}-{major} {platform} twice"
        );
    }
    out
}

/// images.yml's `publish` entries: (engine, major) -> (newest, platforms).
fn publish_entries(wf: &Yaml) -> BTreeMap<(String, u32), (bool, BTreeSet<String>)> {
    let entries = wf["jobs"]["publish"]["strategy"]["matrix"]["image"]
        .as_vec()
        .expect("images.yml: jobs.publish.strategy.matrix.image is no list");
    let mut out = BTreeMap::new();
    for e in entries {
        let engine = e["engine"].as_str().unwrap().to_string();
        let major: u32 = e["major"]
            .as_str()
            .expect("major is a string")
            .parse()
            .unwrap();
        let newest = e["newest"].as_bool().expect("newest is a boolean");
        let platforms = e["platforms"]
            .as_str()
            .expect("platforms")
            .split_whitespace()
            .map(str::to_string)
            .collect();
        assert!(
            out.insert((engine.clone(), major), (newest, platforms))
                .is_none(),
            "{engine}-{major} twice in jobs.publish"
        );
    }
    out
}

#[test]
fn images_matrix_is_exactly_the_promised_engines_and_majors() {
    let promised: BTreeMap<&str, &[u32]> = BTreeMap::from([
        ("pg", &[14, 15, 16, 17, 18][..]),
        ("mysql", &[8, 9][..]),
        ("mariadb", &[10, 11][..]),
        ("redis", &[7, 8][..]),
        ("mongo", &[7, 8][..]),
    ]);
    let wf = yaml(&root().join(".github/workflows/images.yml")).remove(0);
    let legs = image_legs(&wf);
    let publish = publish_entries(&wf);
    let want: BTreeSet<(String, u32)> = promised
        .iter()
        .flat_map(|(e, majors)| majors.iter().map(|m| (e.to_string(), *m)))
        .collect();
    assert_eq!(
        legs.keys().cloned().collect::<BTreeSet<_>>(),
        want,
        "built images"
    );
    assert_eq!(
        publish.keys().cloned().collect::<BTreeSet<_>>(),
        want,
        "published images"
    );
    for (key, (arg, platforms)) in &legs {
        let (engine, major) = key;
        // amd64 and arm64, but MySQL amd64 only (Oracle's Debian packages are amd64 only).
        let want_platforms: BTreeSet<String> = if engine == "mysql" {
            BTreeSet::from(["amd64".to_string()])
        } else {
            BTreeSet::from(["amd64".to_string(), "arm64".to_string()])
        };
        assert_eq!(
            platforms, &want_platforms,
            "{engine}-{major}: platforms built"
        );
        assert_eq!(
            &publish[key].1, platforms,
            "{engine}-{major}: platforms published"
        );
        // Exactly the newest major of each engine gets <engine> and <engine>-latest.
        let max = promised[engine.as_str()].iter().max().unwrap();
        assert_eq!(publish[key].0, major == max, "{engine}-{major}: newest");
        // The build arg is one the engine's Dockerfile declares, and the Dockerfile takes a
        // prebuilt binary from docker/bin/dbstash (DBSTASH_SOURCE=context), which the job fills.
        let dockerfile = format!("docker/Dockerfile.{engine}");
        let text = read(&dockerfile);
        assert!(
            text.lines().any(|l| l.trim() == format!("ARG {arg}")
                || l.trim().starts_with(&format!("ARG {arg}="))),
            "{dockerfile} declares no ARG {arg}"
        );
        assert!(
            text.contains("docker/bin/dbstash"),
            "{dockerfile}: no DBSTASH_SOURCE=context stage"
        );
    }
}

#[test]
fn ci_runs_the_test_script_and_the_mongo_round_trip_on_mongo_7_and_8() {
    let wf = yaml(&root().join(".github/workflows/ci.yml")).remove(0);
    let runs = |job: &str| -> Vec<String> {
        wf["jobs"][job]["steps"]
            .as_vec()
            .unwrap()
            .iter()
            .filter_map(|s| s["run"].as_str().map(str::to_string))
            .collect()
    };
    // The README's test command, with CI=true (a missing tool fails instead of skipping).
    assert!(
        runs("test")
            .iter()
            .any(|r| r.trim_end().ends_with("./scripts/test.sh") && r.contains("CI=true")),
        "ci.yml: no step runs CI=true ./scripts/test.sh"
    );
    assert_eq!(wf["env"]["CI"].as_str(), Some("true"));
    assert!(runs("mongo")
        .iter()
        .any(|r| r.trim() == "./scripts/mongo-roundtrip.sh"));
    assert_eq!(
        wf["jobs"]["mongo"]["strategy"]["matrix"]["mongo"],
        Yaml::Array(vec![Yaml::String("7".into()), Yaml::String("8".into())])
    );
    assert_eq!(
        wf["jobs"]["mongo"]["services"]["mongo"]["image"].as_str(),
        Some("mongo:${{ matrix.mongo }}")
    );
    let out = Command::new("bash")
        .args(["-n", "scripts/mongo-roundtrip.sh"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ------------------------------------------------------------------ .github/scripts

/// `version.sh env` for `git_ref` and a fixed commit, against a Cargo.toml with `version`.
fn version_env(git_ref: Option<&str>, version: &str) -> Result<BTreeMap<String, String>, String> {
    let dir = tempfile::tempdir().unwrap();
    let cargo = dir.path().join("Cargo.toml");
    std::fs::write(
        &cargo,
        format!("[package]\nname = \"dbstash\"\nversion = \"{version}\"\n\n[dependencies]\nx = {{ version = \"9.9.9\" }}\n"),
    )
    .unwrap();
    let mut cmd = script("version.sh");
    cmd.arg("env")
        .env("DBSTASH_CARGO_TOML", &cargo)
        .env("GITHUB_SHA", "0123abcd4567ef890123abcd4567ef8901234567");
    if let Some(r) = git_ref {
        cmd.env("GITHUB_REF", r);
    }
    let out = cmd.output().unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once('=').expect("KEY=VALUE");
            (k.to_string(), v.to_string())
        })
        .collect())
}

fn env3(version: &str, commit: &str, kind: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("DBSTASH_VERSION".to_string(), version.to_string()),
        ("DBSTASH_COMMIT".to_string(), commit.to_string()),
        ("DBSTASH_RELEASE_KIND".to_string(), kind.to_string()),
    ])
}

#[test]
fn version_is_the_tag_on_tags_and_the_short_sha_elsewhere() {
    let ok = |r: Option<&str>, v: &str| version_env(r, v).unwrap_or_else(|e| panic!("{r:?}: {e}"));
    assert_eq!(
        ok(Some("refs/tags/v1.2.3"), "1.2.3"),
        env3("1.2.3", "0123abcd", "release")
    );
    assert_eq!(
        ok(Some("refs/tags/v1.0.0-rc1"), "1.0.0-rc1"),
        env3("1.0.0-rc1", "0123abcd", "prerelease")
    );
    for r in [Some("refs/heads/main"), Some("refs/pull/7/merge"), None] {
        assert_eq!(
            ok(r, "1.2.3"),
            env3("0123abcd", "0123abcd", "none"),
            "{r:?}"
        );
    }
    // A tag that is not the Cargo.toml version, or not SemVer, fails the build.
    let err = version_env(Some("refs/tags/v1.2.4"), "1.2.3").unwrap_err();
    assert!(
        err.contains("does not match Cargo.toml's version 1.2.3"),
        "{err}"
    );
    for bad in [
        "refs/tags/v1.2",
        "refs/tags/v1.2.3+build5",
        "refs/tags/release",
    ] {
        let err = version_env(Some(bad), "1.2.3").unwrap_err();
        assert!(err.contains("is not vMAJOR.MINOR.PATCH"), "{bad}: {err}");
    }
}

fn image_tags(
    engine: &str,
    major: &str,
    newest: &str,
    version: &str,
    kind: &str,
) -> Result<Vec<String>, String> {
    let out = script("image-tags.sh")
        .args([engine, major, newest])
        .env("DBSTASH_VERSION", version)
        .env("DBSTASH_RELEASE_KIND", kind)
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect())
}

#[test]
fn image_tags_follow_the_schema_and_never_a_bare_latest() {
    let tags = |e, m, n, v, k| image_tags(e, m, n, v, k).unwrap();
    let both = |t: &[&str]| -> Vec<String> {
        ["ghcr.io/viperadnan-git/dbstash", "viperadnan/dbstash"]
            .iter()
            .flat_map(|repo| t.iter().map(move |t| format!("{repo}:{t}")))
            .collect()
    };
    // A release: rolling, newest-major aliases, pinned.
    assert_eq!(
        tags("pg", "18", "true", "0.7.0", "release"),
        both(&["pg-18", "pg", "pg-latest", "pg-18-0.7.0"])
    );
    assert_eq!(
        tags("pg", "17", "false", "0.7.0", "release"),
        both(&["pg-17", "pg-17-0.7.0"])
    );
    // A pre-release moves no rolling tag.
    assert_eq!(
        tags("mongo", "8", "true", "1.0.0-rc1", "prerelease"),
        both(&["mongo-8-1.0.0-rc1"])
    );
    // main (and what pull requests would push): rolling only, no pinned tag.
    assert_eq!(
        tags("redis", "8", "true", "0123abcd", "none"),
        both(&["redis-8", "redis", "redis-latest"])
    );
    assert_eq!(
        tags("redis", "7", "false", "0123abcd", "none"),
        both(&["redis-7"])
    );
    for kind in ["release", "prerelease", "none"] {
        for t in tags("mysql", "9", "true", "1.0.0", kind) {
            assert!(!t.ends_with(":latest"), "bare latest: {t}");
        }
    }
    for (e, m, n) in [
        ("PG", "17", "true"),
        ("pg", "17.2", "true"),
        ("pg", "17", "yes"),
    ] {
        assert!(
            image_tags(e, m, n, "1.0.0", "release").is_err(),
            "{e} {m} {n} accepted"
        );
    }
    assert!(image_tags("pg", "17", "true", "1.0.0", "nightly").is_err());
}
