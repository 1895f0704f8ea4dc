//! `BACKUP_MODE=directory`: the dump's tree in a folder `RCLONE_REMOTE/NAME/`, with
//! `SHA256SUMS` (sha256sum format, sorted, paths relative to the folder) uploaded last as
//! its completion marker: a folder without it is incomplete.
//!
//! What stands in for stream mode's staging and claims (docs/safety.md):
//! - The run claims NAME with the same claim file as an object (`.NAME.claim-ID` beside the
//!   folder), then refuses to go on when a folder or file NAME exists or an older claim
//!   does.
//! - Where the backend renames folders server-side (`DirMove`: local, sftp, …), the tree
//!   and its `SHA256SUMS` go into the hidden `.NAME.partial-ID/` first, which is renamed to
//!   NAME once whole: a killed run leaves only the hidden folder (removed by a later run
//!   after a day). Elsewhere (S3 and other object stores) the tree goes straight into
//!   `NAME/`, and `SHA256SUMS`, uploaded last, is the commit.
//! - After the upload, the folder is listed: exactly this run's files, of their sizes, and
//!   `SHA256SUMS`. On failure the run deletes the files it wrote (by name) from its staging
//!   folder or NAME/, then the folders left empty: never anything else.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use sha2::{Digest as _, Sha256};
use tracing::{info, warn};

use super::commit::{claim_name, staging_name, stale_age, Commit};
use super::{Job, Mode, Unit, Upload, Written};
use crate::rclone::{self, Rclone};
use crate::shutdown::Cancel;

/// The completion marker inside a backup folder.
pub const SUMS: &str = "SHA256SUMS";

pub struct DirectoryMode;

impl Mode for DirectoryMode {
    fn unit(&self) -> Unit {
        Unit::Folders
    }

    fn describe(&self, job: &Job<'_>) -> String {
        let dir = job
            .work_dir
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        format!(
            "  {} (into the work dir {dir}, removed after the run)\n  then: {}\n  then: {SUMS} last: {}\n",
            job.dump.program,
            Rclone::describe(
                job.cfg,
                "copy",
                &format!("{dir}/{} {}/", super::workdir::DUMP, job.target)
            ),
            Rclone::describe(job.cfg, "rcat", &format!("{}/{SUMS}", job.target))
        )
    }

    fn upload<'a>(
        &'a self,
        job: &'a Job<'a>,
        rclone: &'a mut Rclone,
        cancel: &'a mut Cancel<'_>,
    ) -> Upload<'a> {
        Box::pin(async move {
            let work = super::start_work_dir(job)?;
            let root = cancel.guard(super::dump_into(job, &work)).await?;
            let tree = {
                let root = root.clone();
                tokio::task::spawn_blocking(move || checksums(&root))
                    .await
                    .context("checksumming the dump failed")??
            };
            let written = upload_folder(job, &root, &tree, rclone, cancel).await;
            drop(work);
            written
        })
    }
}

/// The dump's files with their SHA-256 and size, sorted by path.
pub struct Tree {
    pub files: Vec<(String, String, u64)>,
}

impl Tree {
    /// `SHA256SUMS`: `<hex>  <path>\n` per file.
    pub fn sums(&self) -> String {
        self.files
            .iter()
            .map(|(path, hash, _)| format!("{hash}  {path}\n"))
            .collect()
    }

    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|(_, _, n)| n).sum()
    }
}

/// Hash every file under `root` (regular files and folders only: anything else fails).
pub fn checksums(root: &Path) -> anyhow::Result<Tree> {
    let mut files = Vec::new();
    walk(root, "", &mut files)?;
    // sha256sum order: by path, bytewise.
    files.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(Tree { files })
}

fn walk(dir: &Path, rel: &str, out: &mut Vec<(String, String, u64)>) -> anyhow::Result<()> {
    for (name, path, ty) in super::tar::sorted_entries(dir)? {
        let name = name.into_string().map_err(|n| {
            anyhow::anyhow!(
                "{} is not UTF-8: its name cannot be written to {SUMS}",
                Path::new(&n).display()
            )
        })?;
        if name.contains(['\n', '\\']) {
            anyhow::bail!("{name:?} holds a newline or backslash: it cannot be listed in {SUMS}");
        }
        let rel = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if ty.is_dir() {
            walk(&path, &rel, out)?;
        } else if ty.is_file() {
            let mut f = std::fs::File::open(&path)
                .with_context(|| format!("opening {}", path.display()))?;
            let mut h = Sha256::new();
            let n = std::io::copy(&mut f, &mut h)
                .with_context(|| format!("reading {}", path.display()))?;
            out.push((rel, format!("{:x}", h.finalize()), n));
        } else {
            anyhow::bail!(
                "{} is neither a regular file nor a directory: the dump's tree is not uploaded",
                path.display()
            );
        }
    }
    Ok(())
}

/// `mysqldump --tab` ran with a folder others may write into (see `WorkDir::dump_dir`): only
/// what the dump wrote may be uploaded. Every entry is a regular file; every `T.sql` is this
/// user's (the client wrote it); every `T.txt` has its `T.sql` (the server writes only the
/// rows of tables the client dumped). A file planted by another local user fails the run.
pub fn check_tab_tree(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt as _;
    let me = unsafe { libc::geteuid() };
    let mut sql = std::collections::HashSet::new();
    let mut txt = Vec::new();
    for (name, path, _) in super::tar::sorted_entries(dir)? {
        let meta = std::fs::symlink_metadata(&path)?;
        let name = name.to_string_lossy().into_owned();
        let planted = || {
            anyhow::anyhow!(
                "{} was not written by this dump (a file another local user put into the --tab folder?): nothing is uploaded",
                path.display()
            )
        };
        if !meta.is_file() {
            return Err(planted());
        }
        if let Some(table) = name.strip_suffix(".sql") {
            if meta.uid() != me {
                return Err(planted());
            }
            sql.insert(table.to_string());
        } else if let Some(table) = name.strip_suffix(".txt") {
            txt.push((table.to_string(), path.clone()));
        } else {
            return Err(planted());
        }
    }
    for (table, path) in txt {
        if !sql.contains(&table) {
            anyhow::bail!(
                "{} has no {table}.sql beside it (a file another local user put into the --tab folder?): nothing is uploaded",
                path.display()
            );
        }
    }
    Ok(())
}

async fn upload_folder(
    job: &Job<'_>,
    root: &Path,
    tree: &Tree,
    rclone: &mut Rclone,
    cancel: &mut Cancel<'_>,
) -> anyhow::Result<Written> {
    let cfg = job.cfg;
    let features = match cancel.guard(rclone.features(&cfg.remote)).await {
        Ok(f) => f,
        Err(_) => rclone::Features {
            server_side_move: false,
            user_metadata: false,
            dir_move: false,
        },
    };
    if features.user_metadata {
        rclone.tag_uploads(job.backup_id);
    }
    let rclone = &*rclone;
    let commit = Commit {
        rclone,
        dir: &cfg.remote,
        name: job.name,
        sidecar: format!("{}/{SUMS}", job.name),
        id: job.backup_id,
        tagged: false.into(),
        staged: features.dir_move,
        claim_written: false.into(),
        stale_after: stale_age(cfg),
    };
    let sums = tree.sums();
    let sums_sha = format!("{:x}", Sha256::digest(sums.as_bytes()));
    let folder = if commit.staged {
        staging_name(job.name, job.backup_id)
    } else {
        job.name.to_string()
    };
    let folder_target = rclone::join(&cfg.remote, &folder);
    let mut names: Vec<String> = tree.files.iter().map(|(p, _, _)| p.clone()).collect();
    names.push(SUMS.to_string());

    // Files go into the folder only after this is set: before, the folder may be another's.
    let began = AtomicBool::new(false);
    let uploaded = async {
        if !commit.staged {
            // In place: the name is claimed before anything appears under it.
            cancel.guard(claim_folder(&commit, &sums)).await?;
        }
        began.store(true, Ordering::SeqCst);
        info!(folder = %rclone::redact_remote(&folder_target), files = tree.files.len(), bytes = tree.bytes(), "uploading the dump's tree");
        cancel.guard(rclone.copy_dir(root, &folder_target)).await?;
        cancel
            .guard(async {
                rclone
                    .put(&format!("{folder_target}/{SUMS}"), sums.as_bytes())
                    .await
                    .with_context(|| format!("writing {SUMS} failed"))
            })
            .await?;
        if commit.staged {
            cancel.guard(check_folder(rclone, &folder_target, tree)).await?;
            cancel.guard(claim_folder(&commit, &sums)).await?;
            cancel
                .guard(async {
                    rclone
                        .move_no_overwrite(&folder_target, job.target)
                        .await
                        .context("renaming the finished folder to its backup name failed")
                })
                .await?;
        }
        cancel.guard(check_folder(rclone, job.target, tree)).await?;
        if commit.staged {
            let left = cancel.guard(rclone.dirs(&cfg.remote)).await?;
            if left.iter().any(|e| e.name == folder) {
                anyhow::bail!("rclone moveto left {folder} in place: {} was taken", job.name);
            }
        }
        anyhow::Ok(())
    }
    .await;
    if commit.claim_written.load(Ordering::SeqCst) {
        // The claim has served its purpose (a folder has no sidecar to turn it into).
        let claim = rclone::join(&cfg.remote, &claim_name(job.name, job.backup_id));
        if let Err(e) = tokio::time::timeout(CLEANUP_LIMIT, rclone.delete(&claim))
            .await
            .unwrap_or_else(|_| Err(anyhow::anyhow!("no answer")))
        {
            warn!(claim = %rclone::redact_remote(&claim), error = %format!("{e:#}"), "could not delete this run's claim: delete it by hand (a later run ignores it after a day)");
        }
    }
    if let Err(e) = uploaded {
        if !began.load(Ordering::SeqCst) {
            return Err(e);
        }
        // Only this run's files, by name, from the folder this run wrote into.
        let cleanup = rclone.delete_files(&folder_target, &names);
        match tokio::time::timeout(CLEANUP_LIMIT, cleanup).await {
            Ok(Ok(())) => {
                warn!(folder = %rclone::redact_remote(&folder_target), "deleted what the failed backup uploaded")
            }
            Ok(Err(err)) => {
                tracing::error!(folder = %rclone::redact_remote(&folder_target), error = %format!("{err:#}"), "could not delete what the failed backup uploaded: delete it by hand")
            }
            Err(_) => {
                tracing::error!(folder = %rclone::redact_remote(&folder_target), "no answer while deleting what the failed backup uploaded: delete it by hand")
            }
        }
        return Err(e);
    }
    Ok(Written {
        target: job.target.to_string(),
        bytes: tree.bytes(),
        dumped: tree.bytes(),
        sha256: sums_sha,
    })
}

const CLEANUP_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Claim NAME (the claim file beside the folder), then make sure no folder or file has the
/// name.
async fn claim_folder(commit: &Commit<'_>, sums: &str) -> anyhow::Result<()> {
    let line = format!(
        "{:x}  {}/{SUMS}\n",
        Sha256::digest(sums.as_bytes()),
        commit.name
    );
    commit.claim(&line).await?;
    let dirs = commit
        .rclone
        .dirs(commit.dir)
        .await
        .context("checking that the backup's name is still free failed")?;
    if dirs.iter().any(|e| e.name == commit.name) {
        anyhow::bail!(
            "{}/ already exists: another writer created it while this run was uploading; it is left as it is and this run's upload is not kept (make BACKUP_NAME_TEMPLATE unique per run with {{time}}, {{ts}} or {{uuid}})",
            commit.name
        );
    }
    Ok(())
}

/// The folder holds exactly the tree's files, of their sizes, and SHA256SUMS.
async fn check_folder(rclone: &Rclone, target: &str, tree: &Tree) -> anyhow::Result<()> {
    let found = rclone
        .files_under(target, &[])
        .await
        .context("listing the uploaded folder failed")?;
    let mut want: std::collections::BTreeMap<&str, u64> = tree
        .files
        .iter()
        .map(|(p, _, n)| (p.as_str(), *n))
        .collect();
    let mut sums = false;
    for o in &found {
        if o.name == SUMS {
            sums = true;
            continue;
        }
        match want.remove(o.name.as_str()) {
            Some(n) if o.size < 0 || o.size.unsigned_abs() == n => {}
            Some(n) => anyhow::bail!(
                "{} holds {} bytes on the remote but {n} were uploaded",
                o.name,
                o.size
            ),
            None => anyhow::bail!(
                "{} is in the uploaded folder but not in the dump (another writer?)",
                o.name
            ),
        }
    }
    if let Some((missing, _)) = want.into_iter().next() {
        anyhow::bail!("{missing} is missing from the uploaded folder");
    }
    if !sums {
        anyhow::bail!("{SUMS} is missing from the uploaded folder");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_are_sorted_relative_and_in_sha256sum_format() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("db")).unwrap();
        std::fs::write(d.path().join("db/c.bson"), b"abc").unwrap();
        std::fs::write(d.path().join("toc.dat"), b"").unwrap();
        std::fs::write(d.path().join("B.dat"), b"x").unwrap();
        let t = checksums(d.path()).unwrap();
        assert_eq!(
            t.sums(),
            "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881  B.dat\n\
             ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  db/c.bson\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  toc.dat\n"
        );
        assert_eq!(t.bytes(), 4);
    }

    #[test]
    fn tab_trees_with_planted_files_are_refused() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("t.sql"), b"x").unwrap();
        std::fs::write(d.path().join("t.txt"), b"x").unwrap();
        check_tab_tree(d.path()).unwrap();
        std::fs::write(d.path().join("u.txt"), b"x").unwrap();
        let e = check_tab_tree(d.path()).unwrap_err();
        assert!(format!("{e:#}").contains("no u.sql"), "{e:#}");
        std::fs::remove_file(d.path().join("u.txt")).unwrap();
        std::fs::write(d.path().join("evil.sh"), b"x").unwrap();
        assert!(check_tab_tree(d.path()).is_err());
    }
}
