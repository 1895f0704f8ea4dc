//! A tree backup downloaded into a private directory and every byte checked before any tool
//! sees it: a folder against its SHA256SUMS, a tar object against its sidecar, then untarred.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::check_rel;
use super::sums::{check_sums_hash, check_tree, parse_sums, walk, SUMS, SUMS_MAX};
use super::untar::{sniff, untar};
use crate::config::{BackupMode, Config};
use crate::process;
use crate::rclone::{self, Rclone};
use crate::restore::download::download_plain;
use crate::restore::select::Selected;

/// A backup's tree in a private directory, checked; removed on drop.
#[derive(Debug)]
pub struct Fetched {
    _dir: tempfile::TempDir,
    /// The tree's root: what the dump tool wrote.
    pub root: PathBuf,
    pub files: usize,
    /// Bytes downloaded (the tar object's, or the folder's files').
    pub bytes: u64,
    /// Whether the bytes were checked (not with `--no-verify` on an incomplete backup).
    pub checked: bool,
    /// What the check was, for the report.
    pub how: String,
}

fn private_dir(temp: &Path) -> anyhow::Result<tempfile::TempDir> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir_all(temp).with_context(|| {
        format!(
            "creating the temp directory {} (BACKUP_TEMP_DIR)",
            temp.display()
        )
    })?;
    tempfile::Builder::new()
        .prefix("dbstash-tree-")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir_in(temp)
        .with_context(|| {
            format!(
                "creating a private directory in {} (BACKUP_TEMP_DIR)",
                temp.display()
            )
        })
}

/// Download and check `sel` (a folder when `cfg` is in directory mode, else a tar object)
/// into a private directory under BACKUP_TEMP_DIR. `complete`: the folder has SHA256SUMS
/// (the object its sidecar); without, it fails unless `allow_unverified`. A folder's
/// `sel.sha256`, when set, is the SHA-256 its SHA256SUMS must have.
pub async fn fetch(
    cfg: &Config,
    rclone: &Rclone,
    sel: &Selected,
    complete: bool,
    allow_unverified: bool,
) -> anyhow::Result<Fetched> {
    match cfg.mode {
        BackupMode::Directory => fetch_folder(cfg, rclone, sel, complete, allow_unverified).await,
        _ => fetch_tar(cfg, rclone, sel, allow_unverified).await,
    }
}

async fn fetch_folder(
    cfg: &Config,
    rclone: &Rclone,
    sel: &Selected,
    complete: bool,
    allow_unverified: bool,
) -> anyhow::Result<Fetched> {
    if !complete && !allow_unverified {
        anyhow::bail!(
            "{}/ has no {SUMS}, so its integrity cannot be checked (the run that wrote it may have been killed)",
            sel.name
        );
    }
    // The remote's own names are checked before rclone writes any of them locally.
    let listed = rclone
        .tree(&sel.path)
        .await
        .with_context(|| format!("listing {} failed", rclone::redact_remote(&sel.path)))?;
    if listed.is_empty() {
        anyhow::bail!("{}/ holds no file (any more)", sel.name);
    }
    for f in &listed {
        check_rel(&f.path).map_err(|e| {
            anyhow::anyhow!(
                "{}/ holds an unsafe name: {e}; nothing was downloaded",
                sel.name
            )
        })?;
    }
    let dir = private_dir(&cfg.temp_dir)?;
    let root = dir.path().join("tree");
    std::fs::create_dir(&root).with_context(|| format!("creating {}", root.display()))?;
    let cmd = rclone.copy_down(&sel.path, &root);
    process::run(cmd, "rclone copy", None)
        .await
        .with_context(|| format!("downloading {} failed", rclone::redact_remote(&sel.path)))?;
    let root2 = root.clone();
    let expected = sel.sha256.clone();
    let checked = tokio::task::spawn_blocking(move || -> Result<(usize, u64, bool), String> {
        let sums_path = root2.join(SUMS);
        match std::fs::symlink_metadata(&sums_path) {
            Ok(m) if m.is_file() && m.len() <= SUMS_MAX => {
                let content =
                    std::fs::read(&sums_path).map_err(|e| format!("reading {SUMS}: {e}"))?;
                if let Some(expected) = &expected {
                    check_sums_hash(&content, expected)?;
                }
                let sums = parse_sums(&content).map_err(|e| format!("{SUMS} is not valid: {e}"))?;
                let (n, bytes) = check_tree(&root2, &sums)?;
                // Not part of the dump: the restore tools see exactly what the dump wrote.
                std::fs::remove_file(&sums_path).map_err(|e| format!("removing {SUMS}: {e}"))?;
                Ok((n, bytes, true))
            }
            Ok(m) if m.is_file() => Err(format!("{SUMS} is larger than {SUMS_MAX} bytes")),
            Ok(_) => Err(format!("{SUMS} is not a regular file")),
            Err(_) if allow_unverified => {
                let files =
                    walk(&root2).map_err(|e| format!("reading the downloaded folder: {e}"))?;
                for f in &files {
                    check_rel(f)?;
                }
                let bytes = files
                    .iter()
                    .map(|f| {
                        std::fs::metadata(root2.join(f))
                            .map(|m| m.len())
                            .unwrap_or(0)
                    })
                    .sum();
                Ok((files.len(), bytes, false))
            }
            Err(_) => Err(format!(
                "{SUMS} vanished from the folder while it was downloaded"
            )),
        }
    })
    .await
    .map_err(|e| anyhow::anyhow!("checking the download failed: {e}"))?
    .map_err(|e| anyhow::anyhow!("{}/: {e}", sel.name))?;
    let (files, bytes, ok) = checked;
    Ok(Fetched {
        _dir: dir,
        root,
        files,
        bytes,
        checked: ok,
        how: if ok {
            format!("every file matches {SUMS} ({files} files, {bytes} bytes), none missing, none unlisted")
        } else {
            format!("not checked: no {SUMS} (--no-verify), {files} files")
        },
    })
}
async fn fetch_tar(
    cfg: &Config,
    rclone: &Rclone,
    sel: &Selected,
    allow_unverified: bool,
) -> anyhow::Result<Fetched> {
    let file = download_plain(
        rclone,
        sel,
        &cfg.temp_dir,
        allow_unverified,
        cfg.encryption.identity.as_ref(),
    )
    .await?;
    let dir = private_dir(&cfg.temp_dir)?;
    let root = dir.path().join("tree");
    std::fs::create_dir(&root).with_context(|| format!("creating {}", root.display()))?;
    let (archive, dest) = (file.path.clone(), root.clone());
    let files = tokio::task::spawn_blocking(move || -> Result<usize, String> {
        let c = sniff(&archive).map_err(|e| format!("reading the download: {e}"))?;
        let r = c
            .open(&archive)
            .map_err(|e| format!("reading the download: {e}"))?;
        untar(r, &dest)
    })
    .await
    .map_err(|e| anyhow::anyhow!("untarring failed: {e}"))?
    .map_err(|e| anyhow::anyhow!("{}: {e}; nothing was applied", sel.name))?;
    let bytes = file.verified.bytes;
    let checked = file.verified.checked;
    let how = if checked {
        format!(
            "SHA-256 {} matches {} ({bytes} bytes); untarred {files} files",
            file.verified.sha256,
            crate::restore::select::sidecar_name(&sel.name)
        )
    } else {
        format!("not checked: no sidecar (--no-verify); untarred {files} files")
    };
    drop(file); // the tree is what is kept
    Ok(Fetched {
        _dir: dir,
        root,
        files,
        bytes,
        checked,
        how,
    })
}
