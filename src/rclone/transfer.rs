//! What writes, reads or removes objects: uploads (tagged with the run's backup_id),
//! downloads, renames and deletions.

use std::path::Path;
use std::process::Stdio;

use serde_json::json;
use tokio::process::Command;

use super::invoke::{exit_code, rc_status, EXIT_DIR_NOT_FOUND, EXIT_FILE_NOT_FOUND};
use super::{rcd, redact_remote, Rclone, TAG_KEY};
use crate::process;

impl Rclone {
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
    /// a backend that keeps user metadata ([`Features::user_metadata`](super::Features::user_metadata)).
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

/// Directory-mode backups (folders of files) for `list`, `verify` and `restore`.
impl Rclone {
    /// `rclone copy FOLDER LOCAL_DIR`: a data call (rclone's own timeouts), for the caller
    /// to run to its end. Paths after `--`.
    pub fn copy_down(&self, folder: &str, local: &Path) -> Command {
        let mut cmd = self.base("copy");
        cmd.arg("--").arg(folder).arg(local);
        cmd
    }
}
