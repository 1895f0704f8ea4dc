//! What is on the remote: `rclone lsjson` (or the daemon's `operations/list` and
//! `operations/stat`) read into files, folders and objects, and what the remote can do.

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::invoke::{exit_code, EXIT_DIR_NOT_FOUND, EXIT_FILE_NOT_FOUND};
use super::{join, rcd, Entry, Features, Object, Rclone, TAG_KEY};

#[derive(Deserialize)]
pub(super) struct Item {
    #[serde(rename = "Name")]
    pub(super) name: String,
    /// The path relative to the listed folder (differs from `name` in recursive listings).
    #[serde(rename = "Path", default)]
    pub(super) path: String,
    /// -1 on backends that cannot tell.
    #[serde(rename = "Size")]
    pub(super) size: i64,
    #[serde(rename = "ModTime")]
    pub(super) mod_time: DateTime<Utc>,
    /// With `-M`: system and user metadata (absent on backends without metadata).
    #[serde(rename = "Metadata", default)]
    pub(super) metadata: Option<std::collections::HashMap<String, String>>,
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

impl Rclone {
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
        self.lsjson_as("rclone lsjson", path, flags, input).await
    }

    /// [`Self::lsjson_raw`], named `what` in errors.
    async fn lsjson_as(
        &self,
        what: &str,
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
        let out = match self.run_control(cmd, what, input).await {
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
            .with_context(|| format!("{what} printed something that is not its JSON listing"))
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
}

/// Directory-mode backups (folders of files) for `list`, `verify` and `restore`.
impl Rclone {
    /// Every file below `dir`, recursively (`lsjson -R`); a missing directory is empty.
    pub async fn tree(&self, dir: &str) -> anyhow::Result<Vec<TreeFile>> {
        let what = "rclone lsjson -R";
        let opt = json!({"filesOnly": true, "recurse": true});
        let items = match self.rc_list(what, dir, opt).await {
            Some(r) => r?,
            None => {
                self.lsjson_as(what, dir, &["-R", "--files-only"], None)
                    .await?
            }
        };
        Ok(items
            .unwrap_or_default()
            .into_iter()
            .map(|i| TreeFile {
                path: i.path,
                size: i.size,
                mod_time: i.mod_time,
            })
            .collect())
    }
}
