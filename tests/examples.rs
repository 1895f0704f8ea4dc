//! The deployment examples users copy: `docker-compose.example.yml` and every YAML file under
//! `examples/`. Parsed as YAML (no servers, no Docker, no cluster) and checked against what
//! dbstash really does:
//!
//! - every environment variable a dbstash container gets is one dbstash reads
//!   (`dbstash::cli::env_vars()`): compose `environment:` (map and list forms), Kubernetes
//!   `env[].name`, and the keys of ConfigMaps and Secrets used through `envFrom`;
//! - every dbstash image has a published tag (`<engine>-<major>[-X.Y.Z]`, `<engine>`,
//!   `<engine>-latest`; never `latest`) and `ENGINE`, if set, matches the image's engine;
//! - every secret `_FILE` points at a mounted secret (a compose secret, a Kubernetes Secret
//!   volume key);
//! - each dbstash container's settings pass dbstash's own configuration check: a dry run of
//!   the real binary exits 0 without a warning (this is what catches a not-yet-supported
//!   variable such as `NOTIFY_WEBHOOK_URL`, which exits 2);
//! - the workload settings the docs promise (once mode in CronJobs, BACKUP_TIMEOUT inside
//!   activeDeadlineSeconds, one Recreate replica for the daemon, grace periods for cleanup)
//!   and the hardening (non-root as the images' UID, read-only root with an emptyDir /tmp,
//!   no privilege escalation, no capabilities, RuntimeDefault seccomp, resource limits);
//! - example Secrets hold obvious placeholders, and a kustomization lists every manifest
//!   but never the placeholder Secrets.
//!
//! The checks are functions returning problems, so the tests at the end can show each one
//! fails on a broken inline example.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use yaml_rust2::{Yaml, YamlLoader};

use crate::support::Dbstash;

/// The variables that name a file holding a secret. Every other `*_FILE` variable dbstash
/// reads must be listed in [`NOT_SECRET_FILE_VARS`], so a new secret variant cannot slip by.
const SECRET_FILE_VARS: &[&str] = &[
    "DB_URI_FILE",
    "DB_PASSWORD_FILE",
    "RCLONE_CONFIG_FILE",
    "SMTP_PASSWORD_FILE",
    "RESTORE_IDENTITY_FILE",
];
/// Not secrets: a lock, and public keys (BACKUP_ENCRYPT_RECIPIENTS_FILE).
const NOT_SECRET_FILE_VARS: &[&str] = &["BACKUP_LOCK_FILE", "BACKUP_ENCRYPT_RECIPIENTS_FILE"];

/// Published engines and the majors of their images.
const ENGINES: &[(&str, &[u32])] = &[
    ("pg", &[14, 15, 16, 17, 18]),
    ("mysql", &[8, 9]),
    ("mariadb", &[10, 11]),
    ("redis", &[7, 8]),
    ("mongo", &[7, 8]),
];

/// Where the images are published.
const REPOSITORIES: &[&str] = &["ghcr.io/viperadnan-git/dbstash", "viperadnan/dbstash"];

/// The numeric user the images run as (`USER` in docker/Dockerfile.*).
const IMAGE_UID: i64 = 10001;

/// The longest cleanup after a signal or BACKUP_TIMEOUT: two deletes of 60 s each
/// (`CLEANUP_LIMIT` in src/backup.rs).
const CLEANUP_SECS: u64 = 120;

// ------------------------------------------------------------------ the examples

/// A container running a dbstash image, as an example defines it.
#[derive(Debug)]
struct Container {
    /// Where it comes from, for messages: `file: CronJob/name container dbstash`.
    origin: String,
    image: String,
    /// Every variable it gets, in order; `None` when the example holds no literal value
    /// (`valueFrom`, compose's pass-through `KEY:`).
    env: Vec<(String, Option<String>)>,
    /// Secret files it can read, by absolute path, with their content when the examples
    /// hold it (a Secret defined in an example).
    secret_files: BTreeMap<String, Option<String>>,
    /// Directories of secrets whose file names the examples do not show (a Secret volume
    /// without `items` of a Secret defined elsewhere).
    secret_dirs: Vec<String>,
    /// The document it is defined in (a compose file, a Kubernetes resource).
    doc: Yaml,
    /// Kubernetes: the kind of `doc`. Compose: `compose`.
    kind: String,
    /// Compose: the service. Kubernetes: the pod spec.
    spec: Yaml,
    /// Compose: the service. Kubernetes: the container.
    container: Yaml,
}

impl Container {
    fn var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.as_deref())
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `docker-compose.example.yml` and every `.yml`/`.yaml` under `examples/`, as
/// (path relative to the repository, text).
fn example_files() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yml" | "yaml")
            ) {
                out.push(path);
            }
        }
    }
    let root = root();
    let mut paths = vec![root.join("docker-compose.example.yml")];
    walk(&root.join("examples"), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p)
                .unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
            let rel = p.strip_prefix(&root).unwrap().display().to_string();
            (rel, text)
        })
        .collect()
}

fn parse(files: &[(String, String)]) -> Vec<(String, Vec<Yaml>)> {
    files
        .iter()
        .map(|(name, text)| {
            let docs = YamlLoader::load_from_str(text)
                .unwrap_or_else(|e| panic!("{name} is not valid YAML: {e}"));
            (name.clone(), docs)
        })
        .collect()
}

/// A scalar as the string a container would see (compose turns numbers and booleans into
/// strings); `None` for null and non-scalars.
fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn str_of(y: &Yaml) -> Option<&str> {
    y.as_str()
}

fn items(y: &Yaml) -> &[Yaml] {
    y.as_vec().map(Vec::as_slice).unwrap_or(&[])
}

/// The entries of a mapping, with YAML merge keys (`<<: *anchor`) expanded.
fn entries(y: &Yaml) -> Vec<(Yaml, Yaml)> {
    let mut out = Vec::new();
    if let Some(h) = y.as_hash() {
        for (k, v) in h {
            if k.as_str() == Some("<<") {
                let merged: Vec<&Yaml> = match v {
                    Yaml::Array(a) => a.iter().collect(),
                    other => vec![other],
                };
                for m in merged {
                    out.extend(entries(m));
                }
            } else {
                out.push((k.clone(), v.clone()));
            }
        }
    }
    out
}

/// True when `y` has the key `key` anywhere inside.
fn has_key_deep(y: &Yaml, key: &str) -> bool {
    match y {
        Yaml::Hash(h) => h
            .iter()
            .any(|(k, v)| k.as_str() == Some(key) || has_key_deep(v, key)),
        Yaml::Array(a) => a.iter().any(|v| has_key_deep(v, key)),
        _ => false,
    }
}

fn is_dbstash_image(image: &str) -> bool {
    image.contains("dbstash")
}

/// Every dbstash container in the given files. Kubernetes ConfigMaps and Secrets are looked
/// up across all of them, as they would be in one namespace.
fn containers(files: &[(String, String)]) -> Vec<Container> {
    let parsed = parse(files);
    let mut config_maps: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut secrets: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (_, docs) in &parsed {
        for doc in docs {
            let name = str_of(&doc["metadata"]["name"])
                .unwrap_or_default()
                .to_string();
            match str_of(&doc["kind"]) {
                Some("ConfigMap") => {
                    let data = entries(&doc["data"])
                        .into_iter()
                        .filter_map(|(k, v)| Some((scalar(&k)?, scalar(&v).unwrap_or_default())))
                        .collect();
                    config_maps.insert(name, data);
                }
                Some("Secret") => {
                    let mut data: BTreeMap<String, String> = BTreeMap::new();
                    for (k, v) in entries(&doc["data"]) {
                        let raw = scalar(&v).unwrap_or_default();
                        let decoded = base64::engine::general_purpose::STANDARD
                            .decode(raw.trim())
                            .unwrap_or_else(|e| panic!("Secret {name}: data is not base64: {e}"));
                        data.insert(
                            scalar(&k).unwrap(),
                            String::from_utf8_lossy(&decoded).into_owned(),
                        );
                    }
                    for (k, v) in entries(&doc["stringData"]) {
                        data.insert(scalar(&k).unwrap(), scalar(&v).unwrap_or_default());
                    }
                    secrets.insert(name, data);
                }
                _ => {}
            }
        }
    }

    let mut out = Vec::new();
    for (file, docs) in &parsed {
        for doc in docs {
            if let Some(kind) = str_of(&doc["kind"]) {
                kube_containers(file, kind, doc, &config_maps, &secrets, &mut out);
            } else if doc["services"].is_hash() {
                compose_containers(file, doc, &mut out);
            }
        }
    }
    out
}

fn compose_containers(file: &str, doc: &Yaml, out: &mut Vec<Container>) {
    let defined: BTreeSet<String> = entries(&doc["secrets"])
        .iter()
        .filter_map(|(k, _)| scalar(k))
        .collect();
    for (name, service) in entries(&doc["services"]) {
        let name = scalar(&name).unwrap_or_default();
        let origin = format!("{file}: service {name}");
        let Some(image) = str_of(&service["image"]) else {
            continue;
        };
        if !is_dbstash_image(image) {
            continue;
        }
        assert!(
            service["env_file"].is_badvalue(),
            "{origin}: env_file hides variables from this test; set them in `environment:`"
        );
        let env = match &service["environment"] {
            Yaml::Array(list) => list
                .iter()
                .map(|item| {
                    let item = scalar(item).unwrap_or_default();
                    match item.split_once('=') {
                        Some((k, v)) => (k.to_string(), Some(v.to_string())),
                        None => (item, None),
                    }
                })
                .collect(),
            map => entries(map)
                .into_iter()
                .map(|(k, v)| (scalar(&k).unwrap_or_default(), scalar(&v)))
                .collect(),
        };
        let mut secret_files = BTreeMap::new();
        for s in items(&service["secrets"]) {
            // Short form: the name; long form: source and an optional target.
            let (source, target) = match s {
                Yaml::Hash(_) => {
                    let source = scalar(&s["source"]).unwrap_or_default();
                    let target = scalar(&s["target"]).unwrap_or_else(|| source.clone());
                    (source, target)
                }
                other => {
                    let n = scalar(other).unwrap_or_default();
                    (n.clone(), n)
                }
            };
            if !defined.contains(&source) {
                continue; // an undefined secret mounts nothing; the _FILE check reports it
            }
            let path = if target.starts_with('/') {
                target
            } else {
                format!("/run/secrets/{target}")
            };
            secret_files.insert(path, None);
        }
        // Bind mounts (`./rclone.conf:/config/rclone.conf:ro`, or the long form) count as
        // mounted secrets: a file or a directory of them.
        let mut secret_dirs = Vec::new();
        for v in items(&service["volumes"]) {
            let target = match v {
                Yaml::Hash(_) => scalar(&v["target"]),
                other => scalar(other).and_then(|s| s.split(':').nth(1).map(str::to_string)),
            };
            if let Some(t) = target {
                secret_dirs.push(t);
            }
        }
        out.push(Container {
            origin,
            image: image.to_string(),
            env,
            secret_files,
            secret_dirs,
            doc: doc.clone(),
            kind: "compose".into(),
            spec: service.clone(),
            container: service.clone(),
        });
    }
}

fn kube_containers(
    file: &str,
    kind: &str,
    doc: &Yaml,
    config_maps: &BTreeMap<String, BTreeMap<String, String>>,
    secrets: &BTreeMap<String, BTreeMap<String, String>>,
    out: &mut Vec<Container>,
) {
    let pod = match kind {
        "Pod" => &doc["spec"],
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            &doc["spec"]["template"]["spec"]
        }
        "CronJob" => &doc["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        other => {
            assert!(
                !has_key_deep(doc, "containers"),
                "{file}: {other} has containers; teach tests/examples.rs where its pod spec is"
            );
            return;
        }
    };
    let name = str_of(&doc["metadata"]["name"]).unwrap_or_default();
    let volumes: BTreeMap<String, Yaml> = items(&pod["volumes"])
        .iter()
        .filter_map(|v| Some((scalar(&v["name"])?, v.clone())))
        .collect();
    for c in items(&pod["initContainers"])
        .iter()
        .chain(items(&pod["containers"]))
    {
        let Some(image) = str_of(&c["image"]) else {
            continue;
        };
        if !is_dbstash_image(image) {
            continue;
        }
        let origin = format!(
            "{file}: {kind}/{name} container {}",
            str_of(&c["name"]).unwrap_or("?")
        );
        let mut env = Vec::new();
        for from in items(&c["envFrom"]) {
            let prefix = str_of(&from["prefix"]).unwrap_or_default();
            let (what, source, pool) = if from["configMapRef"].is_hash() {
                ("ConfigMap", &from["configMapRef"], config_maps)
            } else {
                ("Secret", &from["secretRef"], secrets)
            };
            let ref_name = str_of(&source["name"]).unwrap_or_default();
            let data = pool.get(ref_name).unwrap_or_else(|| {
                panic!("{origin}: envFrom {what} {ref_name:?} is not defined in the examples, so its keys cannot be checked")
            });
            for (k, v) in data {
                env.push((format!("{prefix}{k}"), Some(v.clone())));
            }
        }
        for e in items(&c["env"]) {
            env.push((scalar(&e["name"]).unwrap_or_default(), scalar(&e["value"])));
        }

        let mut secret_files = BTreeMap::new();
        let mut secret_dirs = Vec::new();
        for m in items(&c["volumeMounts"]) {
            let (Some(mount), Some(vol)) = (
                scalar(&m["mountPath"]),
                str_of(&m["name"]).and_then(|n| volumes.get(n)),
            ) else {
                continue;
            };
            // The Secret sources of the volume: (Secret name, items).
            let sources: Vec<(&Yaml, &Yaml)> = if vol["secret"].is_hash() {
                vec![(&vol["secret"]["secretName"], &vol["secret"]["items"])]
            } else {
                items(&vol["projected"]["sources"])
                    .iter()
                    .filter(|s| s["secret"].is_hash())
                    .map(|s| (&s["secret"]["name"], &s["secret"]["items"]))
                    .collect()
            };
            if sources.is_empty() {
                if vol["csi"].is_hash() {
                    secret_dirs.push(mount); // e.g. the Secrets Store CSI driver
                }
                continue;
            }
            let mut files: BTreeMap<String, Option<String>> = BTreeMap::new();
            let mut unknown = false;
            for (secret_name, item_list) in sources {
                let data = str_of(secret_name).and_then(|n| secrets.get(n));
                if item_list.is_array() {
                    for it in items(item_list) {
                        let key = scalar(&it["key"]).unwrap_or_default();
                        let path = scalar(&it["path"]).unwrap_or_else(|| key.clone());
                        files.insert(path, data.and_then(|d| d.get(&key).cloned()));
                    }
                } else if let Some(d) = data {
                    for (k, v) in d {
                        files.insert(k.clone(), Some(v.clone()));
                    }
                } else {
                    unknown = true;
                }
            }
            let mount = mount.trim_end_matches('/').to_string();
            match scalar(&m["subPath"]) {
                Some(sub) => {
                    if let Some(content) = files.get(&sub) {
                        secret_files.insert(mount, content.clone());
                    } else if unknown {
                        secret_files.insert(mount, None);
                    }
                }
                None => {
                    for (f, content) in files {
                        secret_files.insert(format!("{mount}/{f}"), content);
                    }
                    if unknown {
                        secret_dirs.push(mount);
                    }
                }
            }
        }
        out.push(Container {
            origin,
            image: image.to_string(),
            env,
            secret_files,
            secret_dirs,
            doc: doc.clone(),
            kind: kind.to_string(),
            spec: pod.clone(),
            container: c.clone(),
        });
    }
}

// ------------------------------------------------------------------ the checks

/// Variables dbstash does not read.
fn unknown_vars(c: &Container, known: &[String]) -> Vec<String> {
    c.env
        .iter()
        .filter(|(k, _)| !known.iter().any(|v| v == k))
        .map(|(k, _)| {
            format!(
                "{}: sets {k}, which dbstash does not read (see `dbstash pg --help`)",
                c.origin
            )
        })
        .collect()
}

/// The engine of a published dbstash image tag, or why the tag is not one.
fn tag_engine(image: &str) -> Result<&'static str, String> {
    let image = image.split('@').next().unwrap_or(image); // a digest pins, the tag names
    let (repo, tag) = match image.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r, t),
        _ => {
            return Err(format!(
                "{image} has no tag (that is `latest`, which is never published)"
            ))
        }
    };
    if !REPOSITORIES.contains(&repo) {
        return Err(format!(
            "{image}: the images are {}",
            REPOSITORIES.join(" and ")
        ));
    }
    if tag == "latest" {
        return Err(format!(
            "{image}: there is no `latest` tag; name the engine, e.g. pg-17"
        ));
    }
    let mut parts = tag.splitn(3, '-');
    let engine = parts.next().unwrap_or_default();
    let Some(&(engine, majors)) = ENGINES.iter().find(|(e, _)| *e == engine) else {
        return Err(format!(
            "{image}: unknown engine {engine:?} (pg, mysql, mariadb, redis, mongo)"
        ));
    };
    match (parts.next(), parts.next()) {
        (None, None) | (Some("latest"), None) => Ok(engine),
        (Some(major), version) => {
            let known = major.parse::<u32>().is_ok_and(|m| majors.contains(&m));
            if !known {
                return Err(format!(
                    "{image}: no {engine} image for major {major:?} (published: {majors:?})"
                ));
            }
            let semver = |v: &str| {
                let nums: Vec<&str> = v.split('.').collect();
                nums.len() == 3
                    && nums
                        .iter()
                        .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            };
            match version {
                None => Ok(engine),
                Some(v) if semver(v) => Ok(engine),
                Some(v) => Err(format!(
                    "{image}: {v:?} is not a dbstash version X.Y.Z (tag <engine>-<major>-X.Y.Z)"
                )),
            }
        }
        (None, Some(_)) => unreachable!(),
    }
}

fn image_problems(c: &Container) -> Vec<String> {
    match tag_engine(&c.image) {
        Err(e) => vec![format!("{}: {e}", c.origin)],
        Ok(engine) => match c.var("ENGINE") {
            Some(set) if set != engine => vec![format!(
                "{}: ENGINE={set} on the {engine} image {}; the image presets ENGINE={engine}",
                c.origin, c.image
            )],
            _ => vec![],
        },
    }
}

fn secret_file_problems(c: &Container) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in &c.env {
        if !SECRET_FILE_VARS.contains(&k.as_str()) {
            continue;
        }
        let Some(path) = v else {
            out.push(format!("{}: {k} has no literal path", c.origin));
            continue;
        };
        let mounted = c.secret_files.contains_key(path)
            || c.secret_dirs
                .iter()
                .any(|d| path == d || path.starts_with(&format!("{}/", d.trim_end_matches('/'))));
        if !mounted {
            let known: Vec<&String> = c.secret_files.keys().collect();
            out.push(format!(
                "{}: {k}={path} is not a mounted secret (mounted: {known:?})",
                c.origin
            ));
        }
    }
    out
}

/// A connection URI of the engine's scheme, for a `DB_URI_FILE` whose content the example
/// does not show.
fn placeholder_uri(engine: &str) -> &'static str {
    match engine {
        "pg" => "postgresql://backup:placeholder@db.example:5432/app",
        "mysql" | "mariadb" => "mysql://backup:placeholder@db.example:3306/app",
        "mongo" => "mongodb://backup:placeholder@db.example:27017/app",
        _ => "redis://:placeholder@db.example:6379/0",
    }
}

/// Runs the real dbstash in dry-run mode with the container's settings (ENGINE as the image
/// presets it; secret files replaced by temp files with the example's content, or a
/// placeholder). It must exit 0 and warn about nothing.
/// Compose fills `${NAME}` (and `${NAME:-default}`, `${NAME:?error}`) from the host's
/// environment when the stack starts; the dry run gets a stand-in of the right shape.
fn interpolated(var: &str, value: &str) -> String {
    let v = value.trim();
    if !(v.starts_with("${") && v.ends_with('}')) {
        return value.to_string();
    }
    if var.ends_with("_URL") {
        "https://example.invalid/interpolated".to_string()
    } else {
        "interpolated".to_string()
    }
}

fn dry_run_problems(c: &Container) -> Vec<String> {
    let Ok(engine) = tag_engine(&c.image) else {
        return vec![]; // reported by image_problems
    };
    let dir = tempfile::tempdir().unwrap();
    let mut run = Dbstash::new().env("ENGINE", engine);
    for (i, (k, v)) in c.env.iter().enumerate() {
        let Some(v) = v else { continue };
        if SECRET_FILE_VARS.contains(&k.as_str()) {
            let content =
                c.secret_files
                    .get(v)
                    .cloned()
                    .flatten()
                    .unwrap_or_else(|| match k.as_str() {
                        "DB_URI_FILE" => placeholder_uri(engine).to_string(),
                        "RCLONE_CONFIG_FILE" => "[s3]\ntype = s3\n".to_string(),
                        _ => "placeholder".to_string(),
                    });
            let path = dir.path().join(format!("secret-{i}"));
            std::fs::write(&path, content).unwrap();
            run = run.env(k, &path);
        } else {
            run = run.env(k, interpolated(k, v));
        }
    }
    let out = run.env("DRY_RUN", "true").run();
    let mut problems = Vec::new();
    if out.code != 0 {
        problems.push(format!(
            "{}: dbstash's dry run with these settings exited {}:\n{}{}",
            c.origin, out.code, out.stdout, out.stderr
        ));
    } else {
        for line in out.stdout.lines().chain(out.stderr.lines()) {
            if matches!(log_level(line), Some("warn" | "error")) {
                problems.push(format!("{}: dry run warns: {line}", c.origin));
            }
        }
    }
    problems
}

/// The level of a dbstash log line: `{"level":"warn",...}` (LOG_FORMAT=json) or
/// `2026-11-24T02:00:00.000Z  warn message` (text); `None` for other output.
fn log_level(line: &str) -> Option<&str> {
    if let Some(rest) = line.trim_start().strip_prefix('{') {
        let (_, after) = rest.split_once("\"level\":\"")?;
        return after.split('"').next();
    }
    let mut words = line.split_whitespace();
    let stamp = words.next()?;
    (stamp.len() >= 20 && stamp.ends_with('Z') && stamp.contains('T'))
        .then(|| words.next())
        .flatten()
}

/// `30s`, `50m`, `1h30m`, `2d` as seconds (the subset the examples use).
fn duration_secs(s: &str) -> Option<u64> {
    let (mut total, mut num) = (0u64, String::new());
    for ch in s.trim().chars() {
        if ch.is_ascii_digit() {
            num.push(ch);
            continue;
        }
        let unit = match ch {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => return None,
        };
        total += num.parse::<u64>().ok()? * unit;
        num.clear();
    }
    num.is_empty().then_some(total)
}

/// What the docs promise about each kind of workload.
fn workload_problems(c: &Container) -> Vec<String> {
    let mut out = Vec::new();
    let mut bad = |msg: String| out.push(format!("{}: {msg}", c.origin));
    let once = c
        .var("BACKUP_SCHEDULE")
        .is_some_and(|s| s.trim().eq_ignore_ascii_case("once"));
    let timeout = c.var("BACKUP_TIMEOUT").and_then(duration_secs);
    let grace = c.spec["terminationGracePeriodSeconds"].as_i64();
    match c.kind.as_str() {
        "CronJob" | "Job" => {
            let job = if c.kind == "CronJob" {
                &c.doc["spec"]["jobTemplate"]["spec"]
            } else {
                &c.doc["spec"]
            };
            if !once {
                bad("a Job needs BACKUP_SCHEDULE=once, or dbstash runs as a daemon and the Job never ends".into());
            }
            if c.kind == "CronJob" && c.doc["spec"]["concurrencyPolicy"].as_str() != Some("Forbid")
            {
                bad(
                    "concurrencyPolicy must be Forbid: dbstash's lock cannot see another pod"
                        .into(),
                );
            }
            let attempts = job["backoffLimit"].as_i64().unwrap_or(6) as u64 + 1;
            match (timeout, job["activeDeadlineSeconds"].as_i64()) {
                (Some(t), Some(deadline)) if attempts * (t + CLEANUP_SECS) <= deadline as u64 => {}
                (Some(t), Some(deadline)) => bad(format!(
                    "{attempts} attempts x (BACKUP_TIMEOUT {t}s + {CLEANUP_SECS}s cleanup) exceed activeDeadlineSeconds {deadline}: Kubernetes would kill a run dbstash could still end cleanly"
                )),
                _ => bad("set both BACKUP_TIMEOUT and activeDeadlineSeconds".into()),
            }
            if grace.is_none_or(|g| (g as u64) < CLEANUP_SECS) {
                bad(format!("terminationGracePeriodSeconds must be at least {CLEANUP_SECS} (cleanup after SIGTERM)"));
            }
        }
        "Deployment" | "StatefulSet" => {
            if once {
                bad("BACKUP_SCHEDULE=once in a long-running workload restarts the backup in a loop; use a cron expression".into());
            }
            if c.doc["spec"]["replicas"].as_i64() != Some(1) {
                bad("replicas must be 1: two daemons race for the same backup names".into());
            }
            if c.kind == "Deployment"
                && c.doc["spec"]["strategy"]["type"].as_str() != Some("Recreate")
            {
                bad("strategy must be Recreate, so a rollout never runs two daemons".into());
            }
            if timeout.is_none() {
                bad("set BACKUP_TIMEOUT: a hung dump otherwise looks healthy".into());
            }
            if grace.is_none_or(|g| (g as u64) < CLEANUP_SECS) {
                bad(format!("terminationGracePeriodSeconds must be at least {CLEANUP_SECS} (cleanup after SIGTERM)"));
            }
        }
        "compose" => {
            let restarts = matches!(
                c.spec["restart"].as_str(),
                Some("always" | "unless-stopped" | "on-failure")
            );
            if once && restarts {
                bad("BACKUP_SCHEDULE=once with a restart policy runs backups back to back".into());
            }
            if !once {
                let stop = c.spec["stop_grace_period"].as_str().and_then(duration_secs);
                if stop.is_none_or(|s| s < CLEANUP_SECS) {
                    bad(format!("stop_grace_period must be at least {CLEANUP_SECS}s (Docker's default is 10s)"));
                }
                if timeout.is_none() {
                    bad("set BACKUP_TIMEOUT: a hung dump otherwise looks healthy".into());
                }
            }
        }
        _ => {}
    }
    out
}

/// The hardening the docs promise: Kubernetes' `restricted` Pod Security Standard as the
/// images' user, a read-only root with a writable `/tmp`, resource limits; for compose a
/// read-only root needs `/tmp` too.
fn security_problems(c: &Container) -> Vec<String> {
    let mut out = Vec::new();
    let mut bad = |msg: &str| out.push(format!("{}: {msg}", c.origin));
    if c.kind == "compose" {
        let tmp = items(&c.spec["tmpfs"])
            .iter()
            .chain(items(&c.spec["volumes"]))
            .filter_map(scalar)
            .any(|m| m == "/tmp" || m.starts_with("/tmp:") || m.contains(":/tmp"))
            || c.spec["tmpfs"]
                .as_str()
                .is_some_and(|t| t.starts_with("/tmp"));
        if c.spec["read_only"].as_bool() == Some(true) && !tmp {
            bad("read_only: true needs a tmpfs or volume on /tmp (dbstash's lock and temp files)");
        }
        return out;
    }
    let (pod, ctr) = (&c.spec["securityContext"], &c.container["securityContext"]);
    let either = |f: &str| {
        if ctr[f].is_badvalue() {
            pod[f].clone()
        } else {
            ctr[f].clone()
        }
    };
    if either("runAsNonRoot").as_bool() != Some(true) {
        bad("securityContext.runAsNonRoot must be true");
    }
    if either("runAsUser").as_i64() != Some(IMAGE_UID) {
        bad(&format!(
            "securityContext.runAsUser must be the images' user, {IMAGE_UID}"
        ));
    }
    if either("seccompProfile")["type"].as_str() != Some("RuntimeDefault") {
        bad("seccompProfile.type must be RuntimeDefault");
    }
    if ctr["readOnlyRootFilesystem"].as_bool() != Some(true) {
        bad("readOnlyRootFilesystem must be true");
    }
    if ctr["allowPrivilegeEscalation"].as_bool() != Some(false) {
        bad("allowPrivilegeEscalation must be false");
    }
    if !items(&ctr["capabilities"]["drop"])
        .iter()
        .any(|d| d.as_str() == Some("ALL"))
    {
        bad("capabilities.drop must contain ALL");
    }
    if c.spec["automountServiceAccountToken"].as_bool() != Some(false) {
        bad("automountServiceAccountToken must be false: dbstash never calls the API");
    }
    // Service links put variables such as DB_PORT=tcp://10.0.0.5:5432 (for a Service named
    // `db`) or BACKUP_SERVICE_HOST into every pod: they would collide with dbstash's own.
    if c.spec["enableServiceLinks"].as_bool() != Some(false) {
        bad("enableServiceLinks must be false: a Service named db would set DB_PORT=tcp://...");
    }
    let tmp_is_empty_dir = items(&c.container["volumeMounts"])
        .iter()
        .filter(|m| m["mountPath"].as_str() == Some("/tmp"))
        .filter_map(|m| m["name"].as_str())
        .any(|name| {
            items(&c.spec["volumes"])
                .iter()
                .any(|v| v["name"].as_str() == Some(name) && v["emptyDir"].is_hash())
        });
    if !tmp_is_empty_dir {
        bad("/tmp must be an emptyDir: the root filesystem is read-only");
    }
    for (kind, resource) in [
        ("requests", "cpu"),
        ("requests", "memory"),
        ("limits", "memory"),
    ] {
        if c.container["resources"][kind][resource].is_badvalue() {
            bad(&format!("set resources.{kind}.{resource}"));
        }
    }
    out
}

fn assert_none(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

fn all_containers() -> Vec<Container> {
    let files = example_files();
    let found = containers(&files);
    // Guard against a parser that silently finds nothing: every file naming a dbstash image
    // must yield a container.
    for (name, text) in &files {
        if text
            .lines()
            .any(|l| l.trim_start().starts_with("image:") && is_dbstash_image(l))
        {
            assert!(
                found
                    .iter()
                    .any(|c| c.origin.starts_with(&format!("{name}:"))),
                "{name} names a dbstash image, but no container was found in it"
            );
        }
    }
    assert!(found.len() >= 2, "found only {found:?}");
    found
}

// ------------------------------------------------------------------ the examples pass

#[test]
fn examples_set_only_variables_dbstash_reads() {
    let known = dbstash::cli::env_vars();
    assert_none(
        all_containers()
            .iter()
            .flat_map(|c| unknown_vars(c, &known))
            .collect(),
    );
}

#[test]
fn example_images_use_published_tags_of_their_engine() {
    assert_none(all_containers().iter().flat_map(image_problems).collect());
}

#[test]
fn example_secret_files_are_mounted_secrets() {
    let known = dbstash::cli::env_vars();
    // Every `*_FILE` variable dbstash reads is classified, so a new one gets checked.
    for var in known.iter().filter(|v| v.ends_with("_FILE")) {
        assert!(
            SECRET_FILE_VARS.contains(&var.as_str())
                || NOT_SECRET_FILE_VARS.contains(&var.as_str()),
            "{var} is new: add it to SECRET_FILE_VARS or NOT_SECRET_FILE_VARS in tests/examples.rs"
        );
    }
    for var in SECRET_FILE_VARS {
        assert!(
            known.iter().any(|k| k == var),
            "dbstash no longer reads {var}"
        );
    }
    assert_none(
        all_containers()
            .iter()
            .flat_map(secret_file_problems)
            .collect(),
    );
}

#[test]
fn examples_pass_dbstash_dry_run_without_warnings() {
    assert_none(all_containers().iter().flat_map(dry_run_problems).collect());
}

#[test]
fn example_workloads_keep_the_documented_settings() {
    assert_none(
        all_containers()
            .iter()
            .flat_map(workload_problems)
            .collect(),
    );
}

#[test]
fn example_workloads_are_hardened_as_documented() {
    assert_none(
        all_containers()
            .iter()
            .flat_map(security_problems)
            .collect(),
    );
}

/// The examples' `runAsUser` and the compose docs' `chown` follow the images' `USER`.
#[test]
fn images_run_as_the_user_the_examples_assume() {
    let dir = root().join("docker");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return; // no images in this checkout: nothing to compare with
    };
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("Dockerfile.") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let user = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("USER "))
            .next_back()
            .unwrap_or_else(|| panic!("docker/{name} has no USER"));
        let uid = user.trim().split(':').next().unwrap_or_default();
        assert_eq!(
            uid,
            IMAGE_UID.to_string(),
            "docker/{name} runs as {user}; the examples assume {IMAGE_UID}: update IMAGE_UID, the manifests' runAsUser/runAsGroup/fsGroup and docs/compose.md's chown"
        );
    }
}

#[test]
fn example_secrets_are_obvious_placeholders() {
    let files = example_files();
    let mut checked = 0;
    for (name, docs) in parse(&files) {
        for doc in docs.iter().filter(|d| d["kind"].as_str() == Some("Secret")) {
            let plain = entries(&doc["stringData"])
                .into_iter()
                .map(|(k, v)| (k, scalar(&v)));
            let encoded = entries(&doc["data"]).into_iter().map(|(k, v)| {
                let decoded = scalar(&v)
                    .and_then(|v| {
                        base64::engine::general_purpose::STANDARD
                            .decode(v.trim())
                            .ok()
                    })
                    .map(|b| String::from_utf8_lossy(&b).into_owned());
                (k, decoded)
            });
            for (k, v) in plain.chain(encoded) {
                let v = v.unwrap_or_default();
                assert!(
                    v.contains("FAKE"),
                    "{name}: Secret key {} does not look like a placeholder (mark fake values FAKE)",
                    scalar(&k).unwrap_or_default()
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 0, "no example Secret found");
}

#[test]
fn kustomizations_list_every_manifest_and_no_placeholder_secrets() {
    let mut found = 0;
    for (name, text) in example_files() {
        if !name.ends_with("/kustomization.yaml") {
            continue;
        }
        found += 1;
        let dir = root().join(&name).parent().unwrap().to_path_buf();
        let doc = &YamlLoader::load_from_str(&text).unwrap()[0];
        let listed: BTreeSet<String> = items(&doc["resources"]).iter().filter_map(scalar).collect();
        for r in &listed {
            assert!(
                dir.join(r).is_file(),
                "{name} lists {r}, which does not exist"
            );
            assert!(
                !r.contains(".example."),
                "{name} lists the placeholder file {r}: applying it would overwrite real Secrets"
            );
        }
        for entry in std::fs::read_dir(&dir).unwrap() {
            let f = entry.unwrap().file_name().to_string_lossy().into_owned();
            let manifest =
                f.ends_with(".yaml") && f != "kustomization.yaml" && !f.contains(".example.");
            assert!(!manifest || listed.contains(&f), "{name} does not list {f}");
        }
    }
    assert!(found > 0, "no kustomization.yaml under examples/");
}

// ------------------------------------------------------------------ the checks can fail

fn one(yaml: &str) -> Vec<Container> {
    containers(&[("inline.yaml".to_string(), yaml.to_string())])
}

const GOOD_COMPOSE: &str = r#"
services:
  b:
    image: ghcr.io/viperadnan-git/dbstash:pg-17
    environment:
      DB_URI_FILE: /run/secrets/uri
      RCLONE_REMOTE: "s3:bucket/x"
      BACKUP_TIMEOUT: 1h
    stop_grace_period: 150s
    secrets: [uri]
secrets:
  uri:
    file: ./uri.txt
"#;

#[test]
fn a_misspelt_variable_fails_in_every_form() {
    let known = dbstash::cli::env_vars();
    let compose_map = GOOD_COMPOSE.replace("BACKUP_TIMEOUT", "DB_PASWORD");
    let compose_list = r#"
services:
  b:
    image: ghcr.io/viperadnan-git/dbstash:pg-17
    environment:
      - DB_HOST=db
      - DB_PASWORD=x
      - DB_PASSWORD_FILE
"#;
    let kube_env = r#"
apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec:
  template:
    spec:
      containers:
        - name: dbstash
          image: ghcr.io/viperadnan-git/dbstash:mysql-8
          env:
            - {name: DB_HOST, value: db}
            - {name: DB_PASWORD, value: x}
"#;
    let kube_env_from = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: defaults}
data:
  DB_PASWORD: x
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  template:
    spec:
      containers:
        - name: dbstash
          image: ghcr.io/viperadnan-git/dbstash:mongo-7
          envFrom:
            - configMapRef: {name: defaults}
"#;
    assert_none(
        one(GOOD_COMPOSE)
            .iter()
            .flat_map(|c| unknown_vars(c, &known))
            .collect(),
    );
    for yaml in [compose_map.as_str(), compose_list, kube_env, kube_env_from] {
        let found = one(yaml);
        assert_eq!(found.len(), 1, "{yaml}");
        let problems = unknown_vars(&found[0], &known);
        assert!(
            problems.len() == 1 && problems[0].contains("sets DB_PASWORD,"),
            "{problems:?} for\n{yaml}"
        );
    }
    // YAML merge keys are followed, not reported as a variable named `<<`.
    let merged = r#"
x-common: &common
  DB_PASWORD: x
services:
  b:
    image: ghcr.io/viperadnan-git/dbstash:pg-17
    environment:
      <<: *common
      DB_HOST: db
"#;
    let problems = unknown_vars(&one(merged)[0], &known);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("DB_PASWORD"));
}

#[test]
fn image_tags_follow_the_schema() {
    for good in [
        "ghcr.io/viperadnan-git/dbstash:pg-17",
        "ghcr.io/viperadnan-git/dbstash:pg-14",
        "ghcr.io/viperadnan-git/dbstash:pg-18-0.7.0",
        "ghcr.io/viperadnan-git/dbstash:pg",
        "ghcr.io/viperadnan-git/dbstash:pg-latest",
        "ghcr.io/viperadnan-git/dbstash:mysql-9",
        "ghcr.io/viperadnan-git/dbstash:mariadb-10",
        "ghcr.io/viperadnan-git/dbstash:redis-8",
        "ghcr.io/viperadnan-git/dbstash:mongo-7@sha256:0123abcd",
        "viperadnan/dbstash:mongo-8-1.2.3",
    ] {
        assert!(tag_engine(good).is_ok(), "{good}: {:?}", tag_engine(good));
    }
    for bad in [
        "ghcr.io/viperadnan-git/dbstash",
        "ghcr.io/viperadnan-git/dbstash:latest",
        "ghcr.io/viperadnan-git/dbstash:pg-13",
        "ghcr.io/viperadnan-git/dbstash:pg-19",
        "ghcr.io/viperadnan-git/dbstash:postgres-17",
        "ghcr.io/viperadnan-git/dbstash:mysql-10",
        "ghcr.io/viperadnan-git/dbstash:mariadb-12",
        "ghcr.io/viperadnan-git/dbstash:redis-6",
        "ghcr.io/viperadnan-git/dbstash:mongo-6",
        "ghcr.io/viperadnan-git/dbstash:pg-17-1.2",
        "ghcr.io/viperadnan-git/dbstash:pg-17-v1.2.3",
        "ghcr.io/viperadnan-git/dbstash:pg-17-latest",
        "example.com/someone/dbstash:pg-17",
        "my-dbstash-pg",
    ] {
        assert!(tag_engine(bad).is_err(), "{bad} passed");
    }
    let mismatch = GOOD_COMPOSE.replace("BACKUP_TIMEOUT: 1h", "ENGINE: mysql");
    let problems = image_problems(&one(&mismatch)[0]);
    assert!(
        problems.len() == 1 && problems[0].contains("ENGINE=mysql on the pg image"),
        "{problems:?}"
    );
    let matching = GOOD_COMPOSE.replace("BACKUP_TIMEOUT: 1h", "ENGINE: pg");
    assert_none(image_problems(&one(&matching)[0]));
}

#[test]
fn an_unmounted_secret_file_fails() {
    assert_none(secret_file_problems(&one(GOOD_COMPOSE)[0]));
    // Compose: a path no secret is mounted at, and a secret the service does not list.
    let wrong_path = GOOD_COMPOSE.replace("/run/secrets/uri", "/run/secrets/url");
    let not_listed = GOOD_COMPOSE.replace("secrets: [uri]", "secrets: []");
    // Kubernetes: a key the Secret volume does not project.
    let kube = |path: &str| {
        format!(
            r#"
apiVersion: batch/v1
kind: Job
metadata: {{name: j}}
spec:
  template:
    spec:
      containers:
        - name: dbstash
          image: ghcr.io/viperadnan-git/dbstash:pg-17
          env:
            - {{name: DB_PASSWORD_FILE, value: {path}}}
          volumeMounts:
            - {{name: s, mountPath: /secrets, readOnly: true}}
            - {{name: tmp, mountPath: /tmp}}
      volumes:
        - name: s
          secret:
            secretName: pg
            items: [{{key: password, path: db_password}}]
        - name: tmp
          emptyDir: {{}}
"#
        )
    };
    assert_none(secret_file_problems(&one(&kube("/secrets/db_password"))[0]));
    for yaml in [
        wrong_path,
        not_listed,
        kube("/secrets/password"),
        kube("/etc/db_password"),
        kube("/tmp/db_password"),
    ] {
        let problems = secret_file_problems(&one(&yaml)[0]);
        assert_eq!(problems.len(), 1, "{problems:?} for\n{yaml}");
    }
}

#[test]
fn a_setting_dbstash_rejects_fails_the_dry_run() {
    assert_none(dry_run_problems(&one(GOOD_COMPOSE)[0]));
    for (bad, why) in [
        ("NOTIFY_WEBHOOK_URL: hooks.example/x", "exited 2"),
        ("SMTP_HOST: mail.example", "exited 2"),
        ("BACKUP_TIMEOUT: forever", "exited 2"),
        (
            "BACKUP_NAME_TEMPLATE: '{db}'\n      BACKUP_TIMEOUT: 1h",
            "warns",
        ),
        ("DB_PASS: x\n      BACKUP_TIMEOUT: 1h", "warns"),
    ] {
        let yaml = GOOD_COMPOSE.replace("BACKUP_TIMEOUT: 1h", bad);
        let problems = dry_run_problems(&one(&yaml)[0]);
        assert!(
            problems.len() == 1 && problems[0].contains(why),
            "{bad}: {problems:?}"
        );
    }
}

#[test]
fn missing_hardening_is_caught() {
    let job_links = |pod_sc: &str, ctr_sc: &str, tmp_volume: &str, links: bool| {
        format!(
            r#"
apiVersion: batch/v1
kind: Job
metadata: {{name: j}}
spec:
  template:
    spec:
      automountServiceAccountToken: false
      enableServiceLinks: {links}
      securityContext: {pod_sc}
      containers:
        - name: dbstash
          image: ghcr.io/viperadnan-git/dbstash:pg-17
          securityContext: {ctr_sc}
          resources:
            requests: {{cpu: 100m, memory: 256Mi}}
            limits: {{memory: 512Mi}}
          volumeMounts:
            - {{name: tmp, mountPath: /tmp}}
      volumes:
        - name: tmp
          {tmp_volume}
"#
        )
    };
    let job =
        |pod_sc: &str, ctr_sc: &str, tmp_volume: &str| job_links(pod_sc, ctr_sc, tmp_volume, false);
    let pod = "{runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: RuntimeDefault}}";
    let ctr = "{readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}";
    assert_none(security_problems(&one(&job(pod, ctr, "emptyDir: {}"))[0]));
    for yaml in [
        job(&pod.replace("10001", "0"), ctr, "emptyDir: {}"),
        job(
            &pod.replace("runAsNonRoot: true, ", ""),
            ctr,
            "emptyDir: {}",
        ),
        job(pod, &ctr.replace("true", "false"), "emptyDir: {}"),
        job(pod, &ctr.replace("[ALL]", "[NET_RAW]"), "emptyDir: {}"),
        job(pod, ctr, "hostPath: {path: /tmp}"),
        job_links(pod, ctr, "emptyDir: {}", true),
        // The container's own setting wins over the pod's.
        job(
            pod,
            &ctr.replace("{readOnly", "{runAsUser: 0, readOnly"),
            "emptyDir: {}",
        ),
    ] {
        let problems = security_problems(&one(&yaml)[0]);
        assert_eq!(problems.len(), 1, "{problems:?} for\n{yaml}");
    }
    let compose = GOOD_COMPOSE.replace(
        "stop_grace_period",
        "read_only: true\n    stop_grace_period",
    );
    assert_eq!(security_problems(&one(&compose)[0]).len(), 1);
    let compose = compose.replace("read_only: true", "read_only: true\n    tmpfs: [/tmp]");
    assert_none(security_problems(&one(&compose)[0]));
}

#[test]
fn workload_settings_are_checked() {
    assert_none(workload_problems(&one(GOOD_COMPOSE)[0]));
    let short_grace = GOOD_COMPOSE.replace("150s", "10s");
    let once_restarting = GOOD_COMPOSE
        .replace(
            "BACKUP_TIMEOUT: 1h",
            "BACKUP_TIMEOUT: 1h\n      BACKUP_SCHEDULE: once",
        )
        .replace(
            "stop_grace_period",
            "restart: always\n    stop_grace_period",
        );
    let job = |schedule: &str, timeout: &str, deadline: u32, backoff: u32| {
        format!(
            r#"
apiVersion: batch/v1
kind: CronJob
metadata: {{name: c}}
spec:
  schedule: "0 2 * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      backoffLimit: {backoff}
      activeDeadlineSeconds: {deadline}
      template:
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 150
          containers:
            - name: dbstash
              image: ghcr.io/viperadnan-git/dbstash:pg-17
              env:
                - {{name: BACKUP_SCHEDULE, value: "{schedule}"}}
                - {{name: BACKUP_TIMEOUT, value: {timeout}}}
"#
        )
    };
    assert_none(workload_problems(&one(&job("once", "50m", 7200, 1))[0]));
    for yaml in [
        short_grace,
        once_restarting,
        job("0 2 * * *", "50m", 7200, 1), // a daemon in a Job never ends
        job("once", "1h", 3600, 0),       // no time left for cleanup
        job("once", "50m", 7200, 2),      // the third attempt is cut off
    ] {
        let problems = workload_problems(&one(&yaml)[0]);
        assert_eq!(problems.len(), 1, "{problems:?} for\n{yaml}");
    }
    assert_eq!(duration_secs("1h30m"), Some(5400));
    assert_eq!(duration_secs("150s"), Some(150));
    assert_eq!(duration_secs("1x"), None);
    assert_eq!(duration_secs("12"), None);
    assert_eq!(
        log_level(r#"{"level":"warn","message":"x","timestamp":"2026-11-29T21:20:20.094Z"}"#),
        Some("warn")
    );
    assert_eq!(
        log_level("2026-11-29T21:20:15.446Z  warn BACKUP_NAME_TEMPLATE"),
        Some("warn")
    );
    assert_eq!(log_level("  DB_NAME                app"), None);
}
