//! Every call to the `rclone` binary (found on PATH): streaming upload, listing, deleting.
//!
//! dbstash's `RCLONE_CONFIG` holds base64 *content*, while rclone reads an env `RCLONE_CONFIG`
//! as a *path*: so the variable is removed from rclone's environment, and the config reaches
//! rclone as `--config FILE` (for inline content, a memory file that dies with dbstash: see
//! [`process::secret_file`]).
//!
//! Control calls (list, stat, move, delete, the checksum file) are bounded: rclone's own
//! defaults retry a remote that refuses connections or never answers for many minutes (a
//! listing of a closed S3 port took 693 s with rclone 1.75). The streaming upload keeps
//! rclone's defaults: a dump may legitimately pause for minutes.

mod calls;
mod rcd;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;
use tokio::process::Command;

use crate::config::{Config, RcloneConfig};
use crate::process::{self, ChildFailed};
use crate::remote::remote_secrets;
pub use crate::remote::{
    check_remote, describe_remote, join, location, normalize_remote, redact_remote, Entry, Location,
};
pub use rcd::SWITCH as RCD_SWITCH;

/// The user-metadata key of the backup_id dbstash tags its uploads with: it tells this run's
/// object from another writer's under the same name.
pub const TAG_KEY: &str = "dbstash-backup-id";

/// What a remote can do, as far as dbstash cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    /// Renames server-side (file-system-like backends: local, sftp, webdav, …).
    pub server_side_move: bool,
    /// Keeps user metadata written with `--metadata-set` (local on xattr-capable file
    /// systems, S3, GCS, Azure Blob, Drive, …; not sftp, webdav, ftp, smb).
    pub user_metadata: bool,
    /// Renames a whole folder server-side (local, sftp, webdav, Drive, …; not S3).
    pub dir_move: bool,
}

/// One object as [`Rclone::stat`] found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub name: String,
    /// -1 on backends that cannot tell.
    pub size: i64,
    pub mod_time: DateTime<Utc>,
    /// The [`TAG_KEY`] metadata: the backup_id of the dbstash run that wrote it.
    pub tag: Option<String>,
}

/// rclone's exit codes for "directory not found" and "file not found".
const EXIT_DIR_NOT_FOUND: i32 = 3;
const EXIT_FILE_NOT_FOUND: i32 = 4;

/// rclone's `fs.ErrorIsDir`: an object call (`operations/movefile`) given a folder.
const IS_DIR: &str = "is a directory not a file";

/// The idle timeout dbstash gives control calls (rclone's default is 5 min).
const CONTROL_TIMEOUT: Duration = Duration::from_secs(20);

/// Defaults for control calls, as the environment variables rclone reads every flag's
/// default from: connect within 10 s, an answer within 20 s, one retry of a failed request,
/// no retry of the whole command. A refused connection fails in seconds (measured 5.7 s
/// against a closed S3 port, instead of 693 s). A flag in RCLONE_EXTRA_ARGS wins over them
/// (rclone: command line over environment), and so does the same variable set for dbstash.
const CONTROL_DEFAULTS: [(&str, &str); 4] = [
    ("RCLONE_CONTIMEOUT", "10s"),
    ("RCLONE_TIMEOUT", "20s"),
    ("RCLONE_LOW_LEVEL_RETRIES", "2"),
    ("RCLONE_RETRIES", "1"),
];

/// The wall-clock bound of one control call is this many times its `--timeout`: a remote
/// that accepts connections but never answers would otherwise be asked again and again
/// (each backend makes several requests per command, each retried).
const CONTROL_LIMIT_FACTOR: u32 = 3;

/// The shortest wall-clock bound of a control call.
const MIN_CONTROL_LIMIT: Duration = Duration::from_secs(60);

/// How long `rclone version` may take.
const VERSION_LIMIT: Duration = Duration::from_secs(10);

#[derive(Deserialize)]
struct Item {
    #[serde(rename = "Name")]
    name: String,
    /// The path relative to the listed folder (differs from `name` in recursive listings).
    #[serde(rename = "Path", default)]
    path: String,
    /// -1 on backends that cannot tell.
    #[serde(rename = "Size")]
    size: i64,
    #[serde(rename = "ModTime")]
    mod_time: DateTime<Utc>,
    /// With `-M`: system and user metadata (absent on backends without metadata).
    #[serde(rename = "Metadata", default)]
    metadata: Option<std::collections::HashMap<String, String>>,
}

pub struct Rclone {
    config_path: Option<PathBuf>,
    extra_args: Vec<String>,
    /// How long one control call may take in all; `None` when the user turned rclone's
    /// timeouts off (`--timeout 0` in RCLONE_EXTRA_ARGS, or `RCLONE_TIMEOUT=0`).
    control_limit: Option<Duration>,
    /// The remote as logs show it (credentials redacted), for errors.
    remote: String,
    /// Keeps the decoded `RCLONE_CONFIG` alive for rclone to read.
    inline_config: Option<process::SecretFile>,
    /// The backup_id uploads carry as user metadata ([`TAG_KEY`]), once set.
    tag: Option<String>,
    /// Control calls may go to an `rclone rcd` ([`rcd::SWITCH`]).
    use_rcd: bool,
    /// The daemon, started by the first control call; `None` inside when it cannot run.
    daemon: tokio::sync::OnceCell<Option<rcd::Daemon>>,
}

/// The wall-clock bound of a control call: [`CONTROL_LIMIT_FACTOR`] × the rclone idle
/// timeout in effect (the last `--timeout` in RCLONE_EXTRA_ARGS, else `RCLONE_TIMEOUT` from
/// dbstash's environment, else ours), at least [`MIN_CONTROL_LIMIT`]; `None` for a timeout of
/// 0 (rclone's "off"). A value dbstash cannot read counts as ours.
pub fn control_limit(extra_args: &[String], env_timeout: Option<&str>) -> Option<Duration> {
    let mut timeout = env_timeout.map(str::to_string);
    let mut it = extra_args.iter();
    while let Some(a) = it.next() {
        if let Some(v) = a.strip_prefix("--timeout=") {
            timeout = Some(v.to_string());
        } else if a == "--timeout" {
            timeout = it.next().cloned().or(timeout);
        }
    }
    let t = match timeout.as_deref().map(str::trim) {
        None => CONTROL_TIMEOUT,
        Some("off") => return None,
        Some(t) => match crate::input::parse_duration(t) {
            Ok(Some(t)) => t,
            // Zero in any unit (0, 0s, 0m): rclone's timeouts are off.
            Ok(None) => return None,
            Err(_) => CONTROL_TIMEOUT,
        },
    };
    Some((t * CONTROL_LIMIT_FACTOR).max(MIN_CONTROL_LIMIT))
}

impl Rclone {
    /// Ready to run: an inline config goes to a memory file (see [`process::secret_file`]).
    pub fn new(cfg: &Config) -> anyhow::Result<Rclone> {
        let (config_path, inline) = match &cfg.rclone_config {
            RcloneConfig::Default => (None, None),
            RcloneConfig::File(p) => (Some(p.clone()), None),
            RcloneConfig::Inline(content) => {
                let f = process::secret_file(content.expose_secret())
                    .context("handing RCLONE_CONFIG to rclone")?;
                (Some(f.path().to_path_buf()), Some(f))
            }
        };
        Ok(Rclone {
            config_path,
            extra_args: cfg.rclone_extra_args.clone(),
            control_limit: control_limit(
                &cfg.rclone_extra_args,
                std::env::var("RCLONE_TIMEOUT").ok().as_deref(),
            ),
            remote: redact_remote(&cfg.remote),
            inline_config: inline,
            tag: None,
            use_rcd: rcd::enabled(),
            daemon: tokio::sync::OnceCell::new(),
        })
    }

    /// Every control call as its own rclone process, as `DBSTASH_RCLONE_RCD=0` asks.
    pub fn processes_only(&mut self) {
        self.use_rcd = false;
    }

    /// The pid of the `rclone rcd` answering the control calls, started if need be; `None`
    /// when they run as processes.
    pub async fn daemon_pid(&self) -> Option<u32> {
        self.daemon().await.and_then(rcd::Daemon::pid)
    }

    /// The argv of an rclone call, for dry runs and logs (remote credentials redacted).
    pub fn describe(cfg: &Config, subcommand: &str, target: &str) -> String {
        let mut argv = vec!["rclone".to_string()];
        match &cfg.rclone_config {
            RcloneConfig::Default => {}
            RcloneConfig::File(p) => argv.extend(["--config".into(), p.display().to_string()]),
            RcloneConfig::Inline(_) => argv.extend([
                "--config".into(),
                "<0600 memory file from RCLONE_CONFIG>".into(),
            ]),
        }
        argv.push(subcommand.to_string());
        argv.extend(crate::argv::redact_args(&cfg.rclone_extra_args));
        argv.push(redact_remote(target));
        argv.iter()
            .map(|a| crate::argv::quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// `rclone [--config FILE] SUBCOMMAND RCLONE_EXTRA_ARGS`. Callers add `--` before the
    /// paths they pass, so no path is ever read as a flag.
    fn base(&self, subcommand: &str) -> Command {
        // SIGKILLed at once if dbstash dies: its input ends then, and it must not commit.
        let mut cmd = process::command_with("rclone", process::Stop::AtOnce);
        cmd.env_remove("RCLONE_CONFIG");
        if let Some(p) = &self.config_path {
            cmd.arg("--config").arg(p);
        }
        if let Some(f) = &self.inline_config {
            f.hand_to(&mut cmd);
        }
        cmd.arg(subcommand).args(&self.extra_args);
        cmd
    }

    /// A control call: short timeouts and few retries, unless the user set them.
    fn command(&self, subcommand: &str) -> Command {
        let mut cmd = self.base(subcommand);
        for (var, value) in CONTROL_DEFAULTS {
            if std::env::var_os(var).is_none() {
                cmd.env(var, value);
            }
        }
        cmd
    }

    /// Run a control call within its wall-clock bound. When the bound passes, the call is
    /// dropped, which kills rclone's process group.
    async fn run_control(
        &self,
        cmd: Command,
        what: &str,
        input: Option<&[u8]>,
    ) -> anyhow::Result<Vec<u8>> {
        let Some(limit) = self.control_limit else {
            return process::run(cmd, what, input).await;
        };
        match tokio::time::timeout(limit, process::run(cmd, what, input)).await {
            Ok(result) => result,
            Err(_) => Err(self.no_answer(what, limit)),
        }
    }

    /// A control call ran out of its wall-clock bound.
    fn no_answer(&self, what: &str, limit: Duration) -> anyhow::Error {
        anyhow::anyhow!(
            "{what}: no answer from {} within {} (stopped): it refuses connections, never answers or is very slow; check RCLONE_REMOTE and the network, or give a slow remote more time with a larger --timeout in RCLONE_EXTRA_ARGS (the bound is {CONTROL_LIMIT_FACTOR}x it)",
            self.remote,
            crate::durations::fmt_human(limit)
        )
    }

    /// `rclone rcat TARGET`, stdin piped: the object is committed when stdin reaches EOF.
    /// rclone's own timeouts: a dump that pauses must not fail the upload.
    pub fn rcat(&self, target: &str) -> Command {
        let mut cmd = self.base("rcat");
        self.tag_args(&mut cmd);
        cmd.arg("--")
            .arg(target)
            .stdin(Stdio::piped())
            .stdout(Stdio::null());
        cmd
    }

    /// Upload a small object from memory (a control call: it is bounded).
    pub async fn put(&self, target: &str, content: &[u8]) -> anyhow::Result<()> {
        if let Some(d) = self.daemon().await {
            let (fs, name) = rcd::fs_file(target);
            let config = self.tag_config();
            if let Some(call) = d.upload(&fs, "", &name, content, Some(&config)).await {
                let call = std::future::ready(call);
                match self
                    .rc_finish("rclone rcat", "operations/uploadfile", call)
                    .await
                {
                    // The remote did not answer in time: a process would wait as long again.
                    Some(Err(e)) if !format!("{e:#}").contains("no answer from") => {
                        // rcd's uploadfile fails where `rclone rcat` works under some user
                        // flags (`--ignore-checksum` into S3: "corrupted on transfer"); the
                        // upload is small and idempotent, so it is made again as a process.
                        tracing::debug!(error = %format!("{e:#}"), "rclone rcd could not upload {}: uploading it with rclone rcat", redact_remote(target));
                    }
                    Some(r) => return r.map(drop),
                    None => {}
                }
            }
        }
        let mut cmd = self.command("rcat");
        self.tag_args(&mut cmd);
        cmd.arg("--").arg(target);
        self.run_control(cmd, "rclone rcat", Some(content)).await?;
        Ok(())
    }

    /// `rclone lsjson PATH`: the files directly in a directory, or the one file a file path
    /// names; `None` when rclone says the directory (or file) does not exist.
    async fn lsjson(&self, path: &str) -> anyhow::Result<Option<Vec<Item>>> {
        let opt = json!({"filesOnly": true});
        if let Some(r) = self.rc_list("rclone lsjson", path, opt).await {
            return r;
        }
        self.lsjson_with(path, &[], None).await
    }

    /// [`Self::lsjson`] with more flags before the path, and `input` on stdin.
    async fn lsjson_with(
        &self,
        path: &str,
        flags: &[&str],
        input: Option<&[u8]>,
    ) -> anyhow::Result<Option<Vec<Item>>> {
        let mut all = vec!["--files-only"];
        all.extend(flags);
        self.lsjson_raw(path, &all, input).await
    }

    /// `rclone lsjson FLAGS -- PATH`; `None` when the directory (or file) does not exist.
    async fn lsjson_raw(
        &self,
        path: &str,
        flags: &[&str],
        input: Option<&[u8]>,
    ) -> anyhow::Result<Option<Vec<Item>>> {
        let mut cmd = self.command("lsjson");
        // Server time avoids a metadata request per object on S3-like backends.
        cmd.args(["--no-mimetype", "--use-server-modtime"])
            .args(flags)
            .arg("--")
            .arg(path);
        let out = match self.run_control(cmd, "rclone lsjson", input).await {
            Ok(out) => out,
            Err(e)
                if matches!(
                    exit_code(&e),
                    Some(EXIT_DIR_NOT_FOUND | EXIT_FILE_NOT_FOUND)
                ) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(e),
        };
        serde_json::from_slice(&out)
            .map(Some)
            .context("rclone lsjson printed something that is not its JSON listing")
    }

    /// The files directly in `dir`; a missing directory is empty.
    pub async fn list(&self, dir: &str) -> anyhow::Result<Vec<Entry>> {
        Ok(self
            .lsjson(dir)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(|i| Entry {
                name: i.name,
                mod_time: i.mod_time,
            })
            .collect())
    }

    /// The files directly in `dir` with their sizes; a missing directory is empty.
    pub async fn objects(&self, dir: &str) -> anyhow::Result<Vec<Object>> {
        Ok(self
            .lsjson(dir)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(|i| Object {
                name: i.name,
                size: i.size,
                mod_time: i.mod_time,
                tag: None,
            })
            .collect())
    }

    /// How many files `dir` holds; `None` when it does not exist yet (local, SFTP and
    /// WebDAV remotes say so; object stores list a missing folder as empty).
    pub async fn probe(&self, dir: &str) -> anyhow::Result<Option<usize>> {
        Ok(self.lsjson(dir).await?.map(|items| items.len()))
    }

    /// The first line of `rclone version`, e.g. `rclone v1.75.2`.
    pub async fn version() -> anyhow::Result<String> {
        let mut cmd = process::command_with("rclone", process::Stop::AtOnce);
        cmd.env_remove("RCLONE_CONFIG").arg("version");
        let out = tokio::time::timeout(VERSION_LIMIT, process::run(cmd, "rclone version", None))
            .await
            .map_err(|_| {
                anyhow::anyhow!(
                    "rclone version: no answer within {}",
                    crate::durations::fmt_human(VERSION_LIMIT)
                )
            })??;
        Ok(String::from_utf8_lossy(&out)
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_string())
    }

    /// The size of object `name` in folder `dir` as the remote reports it (-1: the backend
    /// cannot tell); `None` if it is missing. One retry: a passing listing error must not
    /// condemn a good upload.
    pub async fn size_of(&self, dir: &str, name: &str) -> anyhow::Result<Option<i64>> {
        let target = join(dir, name);
        let stat = || async {
            self.rc_stat(&target)
                .await
                .map(|r| r.map(|i| i.filter(|i| i.name == name).map(|i| i.size)))
        };
        match stat().await {
            Some(Ok(size)) => return Ok(size),
            Some(Err(_)) => {
                if let Some(r) = stat().await {
                    return r;
                }
            }
            None => {}
        }
        let items = match self.lsjson_with(&target, &[], None).await {
            Ok(items) => items,
            Err(_) => self.lsjson_with(&target, &[], None).await?,
        };
        Ok(items
            .unwrap_or_default()
            .into_iter()
            .find(|i| i.name == name)
            .map(|i| i.size))
    }

    /// What the remote can do, from `rclone backend features` (which, on S3, still looks
    /// the path up).
    pub async fn features(&self, remote: &str) -> anyhow::Result<Features> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(rename = "Features")]
            features: std::collections::HashMap<String, serde_json::Value>,
        }
        let body = json!({"fs": rcd::fs_dir(remote)});
        let a: Answer = match self
            .rc("rclone backend features", "operations/fsinfo", body)
            .await
        {
            Some(r) => serde_json::from_value(r?)
                .context("rclone rcd's operations/fsinfo answered no features")?,
            None => {
                let mut cmd = self.command("backend");
                cmd.args(["features", "--"]).arg(remote);
                let out = self
                    .run_control(cmd, "rclone backend features", None)
                    .await?;
                serde_json::from_slice(&out).context("rclone backend features printed no JSON")?
            }
        };
        let on = |name: &str| {
            a.features
                .get(name)
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false)
        };
        Ok(Features {
            server_side_move: on("Move"),
            user_metadata: on("UserMetadata") && on("ReadMetadata") && on("WriteMetadata"),
            dir_move: on("DirMove"),
        })
    }

    /// Rename `from` to `to` (server-side where the backend can).
    pub async fn move_to(&self, from: &str, to: &str) -> anyhow::Result<()> {
        if let Some(r) = self.rc_move(from, to, json!({})).await {
            return r;
        }
        let mut cmd = self.command("moveto");
        cmd.arg("--").arg(from).arg(to);
        self.run_control(cmd, "rclone moveto", None).await?;
        Ok(())
    }

    /// Rename `from` to `to` unless `to` exists (`moveto --ignore-existing`): then rclone
    /// leaves both alone and still exits 0, so the caller looks at the result with
    /// [`Self::stat`]. rclone checks and renames in two steps: a writer that renames onto
    /// `to` between them is overwritten (no rclone backend offers an exclusive rename).
    pub async fn move_no_overwrite(&self, from: &str, to: &str) -> anyhow::Result<()> {
        let config = json!({"IgnoreExisting": true, "Metadata": self.tag.is_some()});
        if let Some(r) = self.rc_move(from, to, config).await {
            return r;
        }
        let mut cmd = self.command("moveto");
        // As rclone's environment variable (`--ignore-existing`), like the tag below.
        cmd.env("RCLONE_IGNORE_EXISTING", "true");
        if self.tag.is_some() {
            // Should the backend copy instead of renaming, the tag goes along.
            cmd.env("RCLONE_METADATA", "true");
        }
        cmd.arg("--").arg(from).arg(to);
        self.run_control(cmd, "rclone moveto", None).await?;
        Ok(())
    }

    /// Tag every later upload (`rcat`, `put`) with `id` as user metadata ([`TAG_KEY`]), on
    /// a backend that keeps user metadata ([`Features::user_metadata`]).
    pub fn tag_uploads(&mut self, id: &str) {
        self.tag = Some(id.to_string());
    }

    /// The tag travels as rclone's environment variables for `--metadata` and
    /// `--metadata-set`: the argv stays as it was. (A `--metadata-set` in RCLONE_EXTRA_ARGS
    /// wins over them; the upload then carries no tag, and dbstash notices.)
    fn tag_args(&self, cmd: &mut Command) {
        if let Some(id) = &self.tag {
            cmd.env("RCLONE_METADATA", "true")
                .env("RCLONE_METADATA_SET", format!("{TAG_KEY}={id}"));
        }
    }

    /// The objects among `names` in folder `dir`, with their tags: one call, whatever the
    /// number of names (`lsjson --metadata --files-from-raw -`; on S3 one HEAD per name).
    /// Missing names (or a missing folder) are simply not in the answer. One retry: a
    /// passing listing error must not condemn a good upload.
    pub async fn stat(&self, dir: &str, names: &[&str]) -> anyhow::Result<Vec<Object>> {
        if let Some(r) = self.rc_stat_all(dir, names).await {
            return r;
        }
        let mut input = names.join("\n");
        input.push('\n');
        let flags = ["--metadata", "--files-from-raw", "-"];
        let items = match self.lsjson_with(dir, &flags, Some(input.as_bytes())).await {
            Ok(items) => items,
            Err(_) => {
                self.lsjson_with(dir, &flags, Some(input.as_bytes()))
                    .await?
            }
        };
        Ok(items
            .unwrap_or_default()
            .into_iter()
            .filter(|i| names.contains(&i.name.as_str()))
            .map(|i| Object {
                tag: i.metadata.and_then(|mut m| m.remove(TAG_KEY)),
                name: i.name,
                size: i.size,
                mod_time: i.mod_time,
            })
            .collect())
    }

    /// The folders directly in `dir` (directory-mode backups); a missing directory has none.
    pub async fn dirs(&self, dir: &str) -> anyhow::Result<Vec<Entry>> {
        let listed = match self
            .rc_list("rclone lsjson", dir, json!({"dirsOnly": true}))
            .await
        {
            Some(r) => r?,
            None => self.lsjson_raw(dir, &["--dirs-only"], None).await?,
        };
        Ok(listed
            .unwrap_or_default()
            .into_iter()
            .map(|i| Entry {
                name: i.name,
                mod_time: i.mod_time,
            })
            .collect())
    }

    /// Every file under `dir`, recursively, `name` being its path relative to `dir` (`/`
    /// separators); `filters` are rclone filter flags (`--include …`, `--max-depth …`).
    pub async fn files_under(&self, dir: &str, filters: &[&str]) -> anyhow::Result<Vec<Object>> {
        let mut flags = vec!["--files-only", "--recursive"];
        flags.extend(filters);
        Ok(self
            .lsjson_raw(dir, &flags, None)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(|i| Object {
                name: if i.path.is_empty() { i.name } else { i.path },
                size: i.size,
                mod_time: i.mod_time,
                tag: None,
            })
            .collect())
    }

    /// `rclone copy LOCAL TARGET`: a folder's tree uploaded into the folder `target` (a data
    /// call like [`Self::rcat`]: rclone's own timeouts; dropping the future kills it).
    pub async fn copy_dir(&self, local: &std::path::Path, target: &str) -> anyhow::Result<()> {
        let mut cmd = self.base("copy");
        self.tag_args(&mut cmd);
        // Nothing in the work dir is a link; none is followed either way.
        cmd.arg("--").arg(local).arg(target);
        process::run(cmd, "rclone copy", None).await?;
        Ok(())
    }

    /// Delete the files `names` (paths relative to `dir`) and then the empty folders under
    /// `dir`, `dir` included: what a failed directory-mode upload wrote, and nothing else.
    pub async fn delete_files(&self, dir: &str, names: &[String]) -> anyhow::Result<()> {
        let mut input = names.join("\n");
        input.push('\n');
        let mut cmd = self.command("delete");
        cmd.args(["--files-from-raw", "-", "--"]).arg(dir);
        match self
            .run_control(cmd, "rclone delete", Some(input.as_bytes()))
            .await
        {
            Ok(_) => {}
            Err(e) if matches!(exit_code(&e), Some(EXIT_DIR_NOT_FOUND)) => return Ok(()),
            Err(e) => return Err(e),
        }
        let mut cmd = self.command("rmdirs");
        cmd.arg("--").arg(dir);
        match self.run_control(cmd, "rclone rmdirs", None).await {
            Ok(_) => Ok(()),
            Err(e) if matches!(exit_code(&e), Some(EXIT_DIR_NOT_FOUND)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `rclone purge TARGET`: a folder and everything in it (directory-mode retention).
    pub async fn purge(&self, target: &str) -> anyhow::Result<()> {
        let mut cmd = self.command("purge");
        cmd.arg("--").arg(target);
        self.run_control(cmd, "rclone purge", None).await?;
        Ok(())
    }

    /// The content of a small object (a control call: it is bounded).
    pub async fn cat(&self, target: &str) -> anyhow::Result<Vec<u8>> {
        let mut cmd = self.command("cat");
        cmd.arg("--").arg(target);
        self.run_control(cmd, "rclone cat", None).await
    }

    /// At most the first `max` bytes of an object (`cat --count`; a control call: bounded).
    pub async fn cat_head(&self, target: &str, max: u64) -> anyhow::Result<Vec<u8>> {
        let mut cmd = self.command("cat");
        cmd.arg(format!("--count={max}")).arg("--").arg(target);
        self.run_control(cmd, "rclone cat", None).await
    }

    /// `rclone cat TARGET` with stdout piped, for the caller to stream (see
    /// `restore::download`). A data call like [`Self::rcat`]: rclone's own timeouts, since
    /// the reader of the stream may pause for minutes (a restore waiting on a lock).
    pub fn cat_stream(&self, target: &str) -> Command {
        let mut cmd = self.base("cat");
        cmd.arg("--").arg(target);
        cmd
    }

    /// Delete one object. `Ok(false)` when there was nothing to delete.
    pub async fn delete(&self, target: &str) -> anyhow::Result<bool> {
        let (fs, remote) = rcd::fs_file(target);
        let body = json!({"fs": fs, "remote": remote});
        if let Some(r) = self
            .rc("rclone deletefile", "operations/deletefile", body)
            .await
        {
            return match r {
                Ok(_) => Ok(true),
                Err(e) if rc_status(&e) == Some(404) => Ok(false),
                Err(e) => Err(e),
            };
        }
        let mut cmd = self.command("deletefile");
        cmd.args(["--retries", "1", "--"]).arg(target);
        match self.run_control(cmd, "rclone deletefile", None).await {
            Ok(_) => Ok(true),
            Err(e)
                if matches!(
                    exit_code(&e),
                    Some(EXIT_FILE_NOT_FOUND | EXIT_DIR_NOT_FOUND)
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }
}

/// One file of a recursive listing ([`Rclone::tree`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeFile {
    /// Its path below the listed directory, `/`-separated.
    pub path: String,
    /// -1 on backends that cannot tell.
    pub size: i64,
    pub mod_time: DateTime<Utc>,
}

#[derive(Deserialize)]
struct TreeItem {
    #[serde(rename = "Path")]
    path: String,
    #[serde(rename = "Size")]
    size: i64,
    #[serde(rename = "ModTime")]
    mod_time: DateTime<Utc>,
}

/// Directory-mode backups (folders of files) for `list`, `verify` and `restore`.
impl Rclone {
    /// Every file below `dir`, recursively (`lsjson -R`); a missing directory is empty.
    pub async fn tree(&self, dir: &str) -> anyhow::Result<Vec<TreeFile>> {
        let opt = json!({"filesOnly": true, "recurse": true});
        if let Some(r) = self.rc_list("rclone lsjson -R", dir, opt).await {
            return Ok(r?
                .unwrap_or_default()
                .into_iter()
                .map(|i| TreeFile {
                    path: i.path,
                    size: i.size,
                    mod_time: i.mod_time,
                })
                .collect());
        }
        let mut cmd = self.command("lsjson");
        cmd.args([
            "-R",
            "--files-only",
            "--no-mimetype",
            "--use-server-modtime",
            "--",
        ])
        .arg(dir);
        let out = match self.run_control(cmd, "rclone lsjson -R", None).await {
            Ok(out) => out,
            Err(e)
                if matches!(
                    exit_code(&e),
                    Some(EXIT_DIR_NOT_FOUND | EXIT_FILE_NOT_FOUND)
                ) =>
            {
                return Ok(Vec::new())
            }
            Err(e) => return Err(e),
        };
        let items: Vec<TreeItem> = serde_json::from_slice(&out)
            .context("rclone lsjson -R printed something that is not its JSON listing")?;
        Ok(items
            .into_iter()
            .map(|i| TreeFile {
                path: i.path,
                size: i.size,
                mod_time: i.mod_time,
            })
            .collect())
    }

    /// `rclone copy FOLDER LOCAL_DIR`: a data call (rclone's own timeouts), for the caller
    /// to run to its end. Paths after `--`.
    pub fn copy_down(&self, folder: &str, local: &Path) -> Command {
        let mut cmd = self.base("copy");
        cmd.arg("--").arg(folder).arg(local);
        cmd
    }
}

fn exit_code(e: &anyhow::Error) -> Option<i32> {
    e.downcast_ref::<ChildFailed>().and_then(|c| c.code)
}

/// The HTTP status of a call the daemon answered with an error (404: not found).
fn rc_status(e: &anyhow::Error) -> Option<u16> {
    e.downcast_ref::<rcd::RcFailed>().map(|f| f.status)
}

/// Secrets that reach rclone besides dbstash's own, for [`crate::redact`]: values of
/// secret-looking flags in RCLONE_EXTRA_ARGS, credentials written inline in the remote string
/// and in an inline RCLONE_CONFIG, and the values of secret-looking `RCLONE_*` variables in
/// dbstash's environment (rclone -vv prints flags it takes from there, values and all).
pub fn secrets(cfg: &Config) -> Vec<String> {
    let mut out = crate::argv::arg_secrets(&cfg.rclone_extra_args, &[]);
    out.extend(remote_secrets(&cfg.remote));
    if let RcloneConfig::Inline(content) = &cfg.rclone_config {
        out.extend(config_secrets(content.expose_secret()));
    }
    out.extend(std::env::vars_os().filter_map(|(k, v)| {
        let k = k.into_string().ok()?;
        let name = k.strip_prefix("RCLONE_")?;
        crate::argv::is_secret_name(name)
            .then(|| v.into_string().ok())
            .flatten()
    }));
    out
}

/// `key = value` lines of an rclone config whose key names a secret.
fn config_secrets(content: &str) -> Vec<String> {
    content
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| crate::argv::is_secret_name(k.trim()))
        .map(|(_, v)| v.trim().to_string())
        .collect()
}

#[cfg(test)]
mod tests;
