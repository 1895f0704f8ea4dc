//! [`Rclone`]'s control calls answered by its `rclone rcd` ([`super::rcd`]): the daemon
//! started on first use, each call bounded like a process, and the answers mapped to the
//! types the processes' JSON gives. Each returns `None` when there is no daemon to ask; the
//! caller then runs a process.

use anyhow::Context as _;
use serde_json::{json, Value};

use super::invoke::rc_status;
use super::listing::Item;
use super::{join, rcd, Object, Rclone, TAG_KEY};

/// rclone's `fs.ErrorIsDir`: an object call (`operations/movefile`) given a folder.
const IS_DIR: &str = "is a directory not a file";

impl Rclone {
    /// The run's `rclone rcd`, started on first use with the same config, flags and
    /// environment as a control call's process; `None` when switched off or when it cannot
    /// start (said once, at debug level): control calls then run as processes.
    pub(super) async fn daemon(&self) -> Option<&rcd::Daemon> {
        if !self.use_rcd {
            return None;
        }
        self.daemon
            .get_or_init(|| async {
                let mut cmd = self.command("rcd");
                // As the processes' `lsjson --use-server-modtime`, for every call: a backend
                // keeps the options of the call that created it (rcd caches it), so this
                // cannot be a per-call `_config`.
                if std::env::var_os("RCLONE_USE_SERVER_MODTIME").is_none() {
                    cmd.env("RCLONE_USE_SERVER_MODTIME", "true");
                }
                match rcd::Daemon::start(cmd).await {
                    Ok(d) => {
                        tracing::debug!(pid = d.pid(), "rclone rcd answers the control calls");
                        Some(d)
                    }
                    Err(e) => {
                        tracing::debug!(
                            "rclone rcd unavailable, control calls run as processes: {e:#}"
                        );
                        None
                    }
                }
            })
            .await
            .as_ref()
    }

    /// A control call answered by the daemon (`method` with JSON `body`), within the same
    /// bound as a process. `None` when there is no daemon or it could not be reached (the
    /// request was not sent): the caller runs a process instead.
    pub(super) async fn rc(
        &self,
        what: &str,
        method: &str,
        body: Value,
    ) -> Option<anyhow::Result<Value>> {
        let d = self.daemon().await?;
        self.rc_finish(what, method, d.call(method, &body)).await
    }

    pub(super) async fn rc_finish(
        &self,
        what: &str,
        method: &str,
        call: impl std::future::Future<Output = Result<Value, rcd::CallError>>,
    ) -> Option<anyhow::Result<Value>> {
        let answer = match self.control_limit {
            None => call.await,
            Some(limit) => match tokio::time::timeout(limit, call).await {
                Ok(a) => a,
                // The request is dropped with its connection: rclone cancels it.
                Err(_) => return Some(Err(self.no_answer(what, limit))),
            },
        };
        match answer {
            Ok(v) => Some(Ok(v)),
            Err(rcd::CallError::Unreachable(e)) => {
                tracing::debug!("rclone rcd unreachable ({e}): {what} runs as a process");
                None
            }
            Err(rcd::CallError::Failed(mut f)) => {
                f.what = format!("{what} (rclone rcd {method})");
                Some(Err(f.into()))
            }
            Err(rcd::CallError::Broken(e)) => Some(Err(e.context(what.to_string()))),
        }
    }

    /// `operations/list` of folder `dir` with `opt` (plus no MIME types, and server mod
    /// times for the whole daemon: as the processes' `lsjson`); `Ok(None)` when the folder
    /// does not exist.
    pub(super) async fn rc_list(
        &self,
        what: &str,
        dir: &str,
        mut opt: Value,
    ) -> Option<anyhow::Result<Option<Vec<Item>>>> {
        opt["noMimeType"] = json!(true);
        let body = json!({
            "fs": rcd::fs_dir(dir),
            "remote": "",
            "opt": opt,
        });
        Some(match self.rc(what, "operations/list", body).await? {
            Ok(mut v) => serde_json::from_value(v["list"].take())
                .map(Some)
                .context("rclone rcd's operations/list answered something that is not a listing"),
            Err(e) if rc_status(&e) == Some(404) => Ok(None),
            Err(e) => Err(e),
        })
    }

    /// `operations/stat` of object `target`, with its metadata; `Ok(None)` when missing.
    pub(super) async fn rc_stat(&self, target: &str) -> Option<anyhow::Result<Option<Item>>> {
        let (fs, remote) = rcd::fs_file(target);
        let body = json!({
            "fs": fs,
            "remote": remote,
            "opt": {"noMimeType": true, "metadata": true},
        });
        Some(
            match self.rc("rclone lsjson", "operations/stat", body).await? {
                Ok(mut v) => serde_json::from_value::<Option<Item>>(v["item"].take()).context(
                    "rclone rcd's operations/stat answered something that is not an object",
                ),
                Err(e) if rc_status(&e) == Some(404) => Ok(None),
                Err(e) => Err(e),
            },
        )
    }

    /// [`Self::stat`] through the daemon: one `operations/stat` per name (a HEAD on S3,
    /// as the process makes), each retried once.
    pub(super) async fn rc_stat_all(
        &self,
        dir: &str,
        names: &[&str],
    ) -> Option<anyhow::Result<Vec<Object>>> {
        let mut found = Vec::new();
        for name in names {
            let target = join(dir, name);
            let item = match self.rc_stat(&target).await? {
                Ok(item) => item,
                Err(_) => match self.rc_stat(&target).await? {
                    Ok(item) => item,
                    Err(e) => return Some(Err(e)),
                },
            };
            if let Some(i) = item {
                found.push(Object {
                    tag: i.metadata.and_then(|mut m| m.remove(TAG_KEY)),
                    name: name.to_string(),
                    size: i.size,
                    mod_time: i.mod_time,
                });
            }
        }
        Some(Ok(found))
    }

    /// `operations/movefile` of object `from` to `to`, with `config` overriding rclone's
    /// options for this call.
    pub(super) async fn rc_move(
        &self,
        from: &str,
        to: &str,
        config: Value,
    ) -> Option<anyhow::Result<()>> {
        let (src_fs, src) = rcd::fs_file(from);
        let (dst_fs, dst) = rcd::fs_file(to);
        let body = json!({
            "srcFs": src_fs, "srcRemote": src, "dstFs": dst_fs, "dstRemote": dst,
            "_config": config,
        });
        match self
            .rc("rclone moveto", "operations/movefile", body)
            .await?
        {
            // A folder (directory-mode backups): movefile moves objects only, and refused
            // before touching anything (backends say "is a directory" or "not found").
            // `rclone moveto` moves folders too, and gives a missing source its own error.
            Err(e)
                if e.downcast_ref::<rcd::RcFailed>()
                    .is_some_and(|f| f.status == 404 || f.error.contains(IS_DIR)) =>
            {
                None
            }
            r => Some(r.map(drop)),
        }
    }

    /// The `_config` that tags an upload, as [`Self::tag_args`] does for a process.
    pub(super) fn tag_config(&self) -> Value {
        match &self.tag {
            Some(id) => json!({"Metadata": true, "MetadataSet": {TAG_KEY: id}}),
            None => json!({}),
        }
    }
}
