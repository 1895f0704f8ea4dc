//! Every call to the `rclone` binary (found on PATH): streaming upload, listing, deleting.
//!
//! dbstash's `RCLONE_CONFIG` holds base64 *content*, while rclone reads an env `RCLONE_CONFIG`
//! as a *path*: so the variable is removed from rclone's environment, and the config reaches
//! rclone as `--config FILE` (a 0600 temp file for inline content).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::Stdio;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::Deserialize;
use tokio::process::Command;

use crate::config::{Config, RcloneConfig};
use crate::process::{self, ChildFailed};
use crate::retention::Entry;

/// rclone's exit codes for "directory not found" and "file not found".
const EXIT_DIR_NOT_FOUND: i32 = 3;
const EXIT_FILE_NOT_FOUND: i32 = 4;

#[derive(Deserialize)]
struct Item {
    #[serde(rename = "Name")]
    name: String,
    /// -1 on backends that cannot tell.
    #[serde(rename = "Size")]
    size: i64,
    #[serde(rename = "ModTime")]
    mod_time: DateTime<Utc>,
}

pub struct Rclone {
    config_path: Option<PathBuf>,
    extra_args: Vec<String>,
    /// Keeps the decoded `RCLONE_CONFIG` file alive (and deletes it on drop).
    _inline_config: Option<tempfile::NamedTempFile>,
}

impl Rclone {
    /// Ready to run: writes an inline config to a 0600 temp file.
    pub fn new(cfg: &Config) -> anyhow::Result<Rclone> {
        let (config_path, inline) = match &cfg.rclone_config {
            RcloneConfig::Default => (None, None),
            RcloneConfig::File(p) => (Some(p.clone()), None),
            RcloneConfig::Inline(content) => {
                // tempfile creates the file with mode 0600.
                let mut f = tempfile::Builder::new()
                    .prefix("dbstash-rclone-")
                    .suffix(".conf")
                    .tempfile()
                    .context("writing RCLONE_CONFIG to a temp file")?;
                f.write_all(content.expose_secret().as_bytes())
                    .and_then(|_| f.flush())
                    .context("writing RCLONE_CONFIG to a temp file")?;
                (Some(f.path().to_path_buf()), Some(f))
            }
        };
        Ok(Rclone {
            config_path,
            extra_args: cfg.rclone_extra_args.clone(),
            _inline_config: inline,
        })
    }

    /// The argv of an rclone call, for dry runs and logs (remote credentials redacted).
    pub fn describe(cfg: &Config, subcommand: &str, target: &str) -> String {
        let mut argv = vec!["rclone".to_string()];
        match &cfg.rclone_config {
            RcloneConfig::Default => {}
            RcloneConfig::File(p) => argv.extend(["--config".into(), p.display().to_string()]),
            RcloneConfig::Inline(_) => argv.extend([
                "--config".into(),
                "<0600 temp file from RCLONE_CONFIG>".into(),
            ]),
        }
        argv.push(subcommand.to_string());
        argv.extend(crate::engine::redact_args(&cfg.rclone_extra_args));
        argv.push(redact_remote(target));
        argv.iter()
            .map(|a| crate::engine::quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn command(&self, subcommand: &str) -> Command {
        let mut cmd = process::command("rclone");
        cmd.env_remove("RCLONE_CONFIG");
        if let Some(p) = &self.config_path {
            cmd.arg("--config").arg(p);
        }
        cmd.arg(subcommand).args(&self.extra_args);
        cmd
    }

    /// `rclone rcat TARGET`, stdin piped: the object is committed when stdin reaches EOF.
    pub fn rcat(&self, target: &str) -> Command {
        let mut cmd = self.command("rcat");
        cmd.arg(target).stdin(Stdio::piped()).stdout(Stdio::null());
        cmd
    }

    /// Upload a small object from memory.
    pub async fn put(&self, target: &str, content: &[u8]) -> anyhow::Result<()> {
        let mut cmd = self.command("rcat");
        cmd.arg(target);
        process::run(cmd, "rclone rcat", Some(content)).await?;
        Ok(())
    }

    /// `rclone lsjson PATH`: the files directly in a directory (a missing one is empty), or
    /// the one file a file path names.
    async fn lsjson(&self, path: &str) -> anyhow::Result<Vec<Item>> {
        let mut cmd = self.command("lsjson");
        // Server time avoids a metadata request per object on S3-like backends.
        cmd.args(["--files-only", "--no-mimetype", "--use-server-modtime"])
            .arg(path);
        let out = match process::run(cmd, "rclone lsjson", None).await {
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
        serde_json::from_slice(&out)
            .context("rclone lsjson printed something that is not its JSON listing")
    }

    /// The files directly in `dir`; a missing directory is empty.
    pub async fn list(&self, dir: &str) -> anyhow::Result<Vec<Entry>> {
        Ok(self
            .lsjson(dir)
            .await?
            .into_iter()
            .map(|i| Entry {
                name: i.name,
                mod_time: i.mod_time,
            })
            .collect())
    }

    /// The size of object `name` in folder `dir` as the remote reports it (-1: the backend
    /// cannot tell); `None` if it is missing. One retry: a passing listing error must not
    /// condemn a good upload.
    pub async fn size_of(&self, dir: &str, name: &str) -> anyhow::Result<Option<i64>> {
        let target = join(dir, name);
        let items = match self.lsjson(&target).await {
            Ok(items) => items,
            Err(_) => self.lsjson(&target).await?,
        };
        Ok(items.into_iter().find(|i| i.name == name).map(|i| i.size))
    }

    /// Whether the remote renames server-side (file-system-like backends), from
    /// `rclone backend features`, which asks no server.
    pub async fn has_server_side_move(&self, remote: &str) -> anyhow::Result<bool> {
        #[derive(Deserialize)]
        struct Features {
            #[serde(rename = "Features")]
            features: std::collections::HashMap<String, serde_json::Value>,
        }
        let mut cmd = self.command("backend");
        cmd.arg("features").arg(remote);
        let out = process::run(cmd, "rclone backend features", None).await?;
        let f: Features =
            serde_json::from_slice(&out).context("rclone backend features printed no JSON")?;
        Ok(f.features
            .get("Move")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false))
    }

    /// Rename `from` to `to` (server-side where the backend can).
    pub async fn move_to(&self, from: &str, to: &str) -> anyhow::Result<()> {
        let mut cmd = self.command("moveto");
        cmd.arg(from).arg(to);
        process::run(cmd, "rclone moveto", None).await?;
        Ok(())
    }

    /// Delete one object. `Ok(false)` when there was nothing to delete.
    pub async fn delete(&self, target: &str) -> anyhow::Result<bool> {
        let mut cmd = self.command("deletefile");
        cmd.args(["--retries", "1"]).arg(target);
        match process::run(cmd, "rclone deletefile", None).await {
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

fn exit_code(e: &anyhow::Error) -> Option<i32> {
    e.downcast_ref::<ChildFailed>().and_then(|c| c.code)
}

/// `remote` + `/` + `name`, without doubling a separator after `remote:` or `dir/`.
pub fn join(remote: &str, name: &str) -> String {
    if remote.ends_with(':') || remote.ends_with('/') {
        format!("{remote}{name}")
    } else {
        format!("{remote}/{name}")
    }
}

/// Hide credentials written inline in a remote string, e.g.
/// `:s3,access_key_id=AK,secret_access_key=SK:bucket` → `…,secret_access_key=***:bucket`.
pub fn redact_remote(remote: &str) -> String {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"(?i)([a-z0-9_]*(?:pass|key|secret|token|credentials)[a-z0-9_]*)=('[^']*'|"[^"]*"|[^,:]*)"#)
            .expect("valid regex")
    });
    RE.replace_all(remote, "$1=***").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
