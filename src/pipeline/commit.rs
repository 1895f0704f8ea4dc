//! How one object (a stream-mode dump, a tar-mode tar) becomes a backup: staging name or
//! claim, the non-overwriting commit, the `.sha256` sidecar, and the cleanup of this run's
//! own objects only. Shared by the `stream` and `tar` modes; only their source differs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use tracing::{error, warn};

use super::stream::{Source, Streamed};
use super::{Job, Written};
use crate::config::{Config, LogFormat};
use crate::durations::fmt_human;
use crate::progress;
use crate::rclone::{self, Rclone};
use crate::shutdown::Cancel;

/// Upload `source` as the object `job.name`, committed only once complete and only if the
/// name is still free (see [`Commit`]).
pub async fn upload_object(
    job: &Job<'_>,
    source: Source<'_>,
    rclone: &mut Rclone,
    cancel: &mut Cancel<'_>,
) -> anyhow::Result<Written> {
    // On backends with a server-side move (file systems: local, sftp, smb, …) an upload is
    // visible while it is written, so it goes to a hidden staging name first and is renamed
    // once complete: even a SIGKILLed dbstash leaves no truncated file under a backup's name.
    // Object stores (S3, GCS, Azure) have no move, and commit uploads atomically anyway.
    // Where the backend keeps user metadata, uploads carry this run's backup_id: an object
    // under the backup's name is then known to be this run's, not another writer's.
    let features = match cancel.guard(rclone.features(&job.cfg.remote)).await {
        Ok(f) => f,
        Err(_) => rclone::Features {
            server_side_move: true,
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
        dir: &job.cfg.remote,
        name: job.name,
        sidecar: format!("{}.sha256", job.name),
        id: job.backup_id,
        tagged: AtomicBool::new(features.user_metadata),
        staged: features.server_side_move,
        claim_written: AtomicBool::new(false),
        stale_after: stale_age(job.cfg),
    };
    let upload_name = if commit.staged {
        staging_name(job.name, job.backup_id)
    } else {
        job.name.to_string()
    };
    let upload_target = rclone::join(&job.cfg.remote, &upload_name);
    let line_of = |s: &Streamed| format!("{}  {}\n", s.sha256, job.name);

    // A signal or the timeout drops the stream future: its guards kill the dump and rclone
    // (before rclone's stdin closes), and the partial upload is deleted below. A direct
    // upload claims its name right before rclone's input closes (the commit).
    let commit_attempted = AtomicBool::new(false);
    let before_commit = |s: Streamed| {
        let (commit, attempted) = (&commit, &commit_attempted);
        async move {
            if s.dumped == 0 {
                anyhow::bail!("{} exited 0 but wrote nothing to stdout (does DUMP_EXTRA_ARGS redirect its output?)", job.dump.program);
            }
            if !commit.staged {
                commit.claim(&line_of(&s)).await?;
                attempted.store(true, Ordering::SeqCst);
            }
            Ok(())
        }
    };
    let streamed = cancel
        .guard(super::stream::stream(
            source,
            rclone,
            &upload_target,
            progress::Display::choose(
                job.cfg.progress_interval,
                job.cfg.log_format == LogFormat::Text,
            ),
            before_commit,
        ))
        .await;
    let streamed = match streamed {
        Ok(s) => s,
        Err(e) => {
            if commit.staged {
                remove_partial(rclone, &upload_target).await;
            }
            commit.remove_claim().await;
            if !commit.staged && commit_attempted.load(Ordering::SeqCst) {
                // rclone's input had closed: the object may have been committed.
                commit.remove_ours(None).await;
            }
            return Err(e);
        }
    };

    // From here on, a failure deletes only what is verifiably this run's.
    let line = line_of(&streamed);
    let bytes = streamed.bytes;
    let committed = async {
        let staged_as = if commit.staged {
            let staging = cancel
                .guard(commit.check_staged(&upload_name, bytes))
                .await?;
            cancel.guard(commit.claim(&line)).await?;
            commit_attempted.store(true, Ordering::SeqCst);
            cancel
                .guard(async {
                    rclone
                        .move_no_overwrite(&upload_target, job.target)
                        .await
                        .context("renaming the finished upload to its backup name failed")
                })
                .await?;
            Some(staging)
        } else {
            cancel.guard(commit.check_direct(bytes)).await?;
            None
        };
        cancel
            .guard(commit.finish(job.cfg.checksum, &line, bytes, staged_as.as_ref()))
            .await
    }
    .await;
    if let Err(e) = committed {
        if commit.staged {
            remove_partial(rclone, &upload_target).await;
        }
        commit.remove_claim().await;
        if commit_attempted.load(Ordering::SeqCst) {
            commit
                .remove_ours(job.cfg.checksum.then_some(line.as_str()))
                .await;
        }
        return Err(e);
    }

    Ok(Written {
        target: job.target.to_string(),
        bytes: streamed.bytes,
        dumped: streamed.dumped,
        sha256: streamed.sha256,
    })
}

/// The hidden name an upload is written under before its rename: `.NAME.partial-ID`.
pub(crate) fn staging_name(name: &str, backup_id: &str) -> String {
    format!(".{name}.partial-{backup_id}")
}

/// A run's claim on a name (see [`Commit::claim`]), which becomes its checksum file:
/// `.NAME.claim-ID`. No longer than the staging name, so the name-length limit covers it.
pub(crate) fn claim_name(name: &str, backup_id: &str) -> String {
    format!(".{name}.claim-{backup_id}")
}

/// The backup_id in `entry` if it is a claim on `name` (`.NAME.claim-ID`).
pub(crate) fn claim_id<'a>(entry: &'a str, name: &str) -> Option<&'a str> {
    let id = entry
        .strip_prefix('.')?
        .strip_prefix(name)?
        .strip_prefix(".claim-")?;
    let hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    (id.len() == 8 && id.bytes().all(hex)).then_some(id)
}

/// Staging uploads and claims older than this are leftovers of a killed run.
pub(crate) fn stale_age(cfg: &Config) -> Duration {
    cfg.timeout.map_or(STALE_STAGING, |t| t.max(STALE_STAGING))
}

/// How this run's upload becomes a backup without overwriting or deleting anything another
/// writer (a concurrent run of the same job, another host) put under the same name.
///
/// rclone has no conditional write. So a run first *claims* the name: it writes its claim
/// (the checksum file's staging object, which carries its backup_id in its name), then lists
/// the folder, and goes on only if the name and its checksum file are absent and no other
/// run's claim is older (by the remote's time, then backup_id). Two runs that see each
/// other's claims agree on which goes on. Each lists after its own write, so at least one
/// sees the other: the only way both go on is that the younger one did not see the older
/// claim and yet its own claim sorts first (both written within the remote's time
/// precision). Then the run commits (renames the staged upload without overwriting, or
/// closes rclone's input), turns its claim into the checksum file (renamed without
/// overwriting), and looks once more: both objects must be its own. Cleanup deletes only
/// objects proven to be this run's: by its backup_id in their metadata
/// ([`rclone::TAG_KEY`]), or in their staging name.
pub(super) struct Commit<'a> {
    pub(super) rclone: &'a Rclone,
    pub(super) dir: &'a str,
    pub(super) name: &'a str,
    pub(super) sidecar: String,
    pub(super) id: &'a str,
    /// Uploads carry `id` as metadata (the backend keeps user metadata).
    pub(super) tagged: AtomicBool,
    /// Uploads go to a staging name and are renamed (the backend moves server-side).
    pub(super) staged: bool,
    /// The claim may exist (its upload was started).
    pub(super) claim_written: AtomicBool,
    /// Claims older than this (by the remote's clock) are a killed run's leftovers.
    pub(super) stale_after: Duration,
}

/// What the remote holds under a name, compared with what this run uploaded.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Ours,
    /// This run's object (or, untagged, possibly another's) with another size.
    WrongSize(i64),
    Other,
}

impl Commit<'_> {
    fn target(&self, name: &str) -> String {
        rclone::join(self.dir, name)
    }

    fn tagged(&self) -> bool {
        self.tagged.load(Ordering::SeqCst)
    }

    pub(crate) fn claim_name(&self) -> String {
        claim_name(self.name, self.id)
    }

    /// Claim the backup's name right before it becomes visible (see [`Commit`]).
    pub(super) async fn claim(&self, line: &str) -> anyhow::Result<()> {
        let claim = self.claim_name();
        self.claim_written.store(true, Ordering::SeqCst);
        self.rclone
            .put(&self.target(&claim), line.as_bytes())
            .await
            .context("claiming the backup's name failed")?;
        let listing = self
            .rclone
            .list(self.dir)
            .await
            .context("checking that the backup's name is still free failed")?;
        let Some(mine) = listing.iter().find(|e| e.name == claim) else {
            anyhow::bail!(
                "{claim}, just written to claim {}, is missing from the folder's listing: this remote's listings lag behind its writes, so concurrent runs cannot be told apart; nothing was committed",
                self.name
            );
        };
        let stale = chrono::Duration::from_std(self.stale_after).unwrap_or(chrono::Duration::MAX);
        for e in &listing {
            if e.name == self.name || e.name == self.sidecar {
                return Err(self.taken(&e.name, None, false));
            }
            let Some(other) = claim_id(&e.name, self.name) else {
                continue;
            };
            let live = mine
                .mod_time
                .checked_sub_signed(stale)
                .is_none_or(|cutoff| e.mod_time >= cutoff);
            // The oldest claim goes on: runs that see each other's claims agree on it.
            let first = (e.mod_time, other) < (mine.mod_time, self.id);
            if other != self.id && live && first {
                anyhow::bail!(
                    "another dbstash run (backup_id {other}) is writing {} at the same time and claimed it first (its claim {} is from {}): this run's upload is not kept (make BACKUP_NAME_TEMPLATE unique per run with {{time}}, {{ts}} or {{uuid}}, keep BACKUP_LOCK on, and give each database and server its own folder; a claim left by a killed run is ignored after {})",
                    self.name,
                    e.name,
                    e.mod_time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    fmt_human(self.stale_after)
                );
            }
        }
        Ok(())
    }

    /// Delete this run's claim, if it may exist (a claim carries this run's id in its name).
    pub(super) async fn remove_claim(&self) {
        if self.claim_written.load(Ordering::SeqCst) {
            remove_partial(self.rclone, &self.target(&self.claim_name())).await;
        }
    }

    /// The error for a name some other writer holds: it was there before this run wrote
    /// the name (`replaced` false), or it replaced this run's object right after.
    fn taken(&self, name: &str, tag: Option<&str>, replaced: bool) -> anyhow::Error {
        let by = match tag {
            Some(id) => format!("another dbstash run, backup_id {id}"),
            None => "another writer".to_string(),
        };
        let what = if replaced {
            format!("was overwritten by {by} right after this run wrote it (rclone cannot write conditionally, see docs/safety.md); the other object stays")
        } else {
            format!("already exists: written by {by} while this run was uploading; it is left as it is and this run's upload is not kept")
        };
        anyhow::anyhow!(
            "{name} {what} (two runs wrote the same name: make BACKUP_NAME_TEMPLATE unique per run with {{time}}, {{ts}} or {{uuid}}, keep BACKUP_LOCK on, and give each database and server its own folder)"
        )
    }

    /// Is `o` this run's upload of `bytes` bytes? Tagged: its backup_id says so. Untagged
    /// and staged: same size and modification time as this run's staging object had.
    /// Untagged and direct: only the size can tell.
    fn judge(&self, o: &rclone::Object, bytes: u64, staged_as: Option<&rclone::Object>) -> Verdict {
        let size_ok = o.size < 0 || o.size.unsigned_abs() == bytes;
        let tagged = self.tagged();
        if tagged && o.tag.as_deref() != Some(self.id) {
            return Verdict::Other;
        }
        match staged_as {
            Some(s) if !tagged && (o.mod_time != s.mod_time || !size_ok) => Verdict::Other,
            _ if size_ok => Verdict::Ours,
            _ => Verdict::WrongSize(o.size),
        }
    }

    /// A tag that did not stick (a file system without extended attributes, a
    /// `--metadata-set` of the user's): identify by size and time from here on.
    fn untag_if_missing(&self, own: &rclone::Object) {
        if self.tagged() && own.tag.is_none() {
            warn!(
                object = %own.name,
                "the remote did not keep this run's backup_id in the object's metadata: concurrent writers under the same name are told apart by size and time only"
            );
            self.tagged.store(false, Ordering::SeqCst);
        }
    }

    /// Staged uploads, before the rename: the staging object holds exactly what was
    /// streamed. Returns it as listed (its size and time identify it when untagged).
    async fn check_staged(&self, upload_name: &str, bytes: u64) -> anyhow::Result<rclone::Object> {
        let found = self
            .rclone
            .stat(self.dir, &[upload_name])
            .await
            .context("checking the uploaded object failed")?;
        let Some(own) = found.into_iter().next() else {
            anyhow::bail!("rclone rcat exited 0 but {upload_name} is not on the remote");
        };
        if own.size >= 0 && own.size.unsigned_abs() != bytes {
            anyhow::bail!(
                "the remote holds {} bytes under {upload_name} but {bytes} were streamed",
                own.size
            );
        }
        self.untag_if_missing(&own);
        Ok(own)
    }

    /// Direct uploads, after the commit: the name holds this run's object, of the size
    /// streamed, and no checksum file yet.
    async fn check_direct(&self, bytes: u64) -> anyhow::Result<()> {
        let found = self
            .rclone
            .stat(self.dir, &[self.name, &self.sidecar])
            .await
            .context("checking the uploaded object failed")?;
        let get = |n: &str| found.iter().find(|o| o.name == n);
        let Some(o) = get(self.name) else {
            anyhow::bail!(
                "rclone rcat exited 0 but {} is not on the remote",
                self.name
            );
        };
        // Ours without the tag, or another writer's untagged object: rclone exited 0 a
        // moment ago, so most likely ours.
        self.untag_if_missing(o);
        self.expect_ours(o, bytes, None)?;
        match get(&self.sidecar) {
            Some(other) => Err(self.taken(&other.name, other.tag.as_deref(), false)),
            None => Ok(()),
        }
    }

    fn expect_ours(
        &self,
        o: &rclone::Object,
        bytes: u64,
        staged_as: Option<&rclone::Object>,
    ) -> anyhow::Result<()> {
        match self.judge(o, bytes, staged_as) {
            Verdict::Ours => Ok(()),
            Verdict::WrongSize(size) => Err(anyhow::anyhow!(
                "the remote holds {size} bytes under {} but {bytes} were streamed",
                self.name
            )),
            Verdict::Other => Err(self.taken(&o.name, o.tag.as_deref(), true)),
        }
    }

    /// After the commit: turn the claim into the checksum file (renamed without
    /// overwriting), or drop it; then look once more: the backup's object and its checksum
    /// file must be this run's.
    async fn finish(
        &self,
        checksum: bool,
        line: &str,
        bytes: u64,
        staged_as: Option<&rclone::Object>,
    ) -> anyhow::Result<()> {
        let claim = self.claim_name();
        if checksum {
            self.rclone
                .move_no_overwrite(&self.target(&claim), &self.target(&self.sidecar))
                .await
                .context("writing the checksum file failed")?;
        } else {
            self.remove_claim().await;
            if !self.staged {
                return Ok(()); // check_direct looked at the object already
            }
        }
        let staging = staging_name(self.name, self.id);
        let mut names = vec![self.name];
        if checksum {
            names.extend([self.sidecar.as_str(), &claim]);
        }
        if self.staged {
            names.push(&staging);
        }
        let found = self
            .rclone
            .stat(self.dir, &names)
            .await
            .context("checking the backup and its checksum file failed")?;
        let get = |n: &str| found.iter().find(|o| o.name == n);
        let object = get(self.name);
        if self.staged && get(&staging).is_some() {
            // rclone skipped the rename: the name was taken.
            return Err(match object {
                Some(o) => self.taken(&o.name, o.tag.as_deref(), false),
                None => anyhow::anyhow!(
                    "rclone moveto left {staging} in place, but {} is not on the remote",
                    self.name
                ),
            });
        }
        let Some(object) = object else {
            anyhow::bail!("{} is not on the remote after this run wrote it", self.name);
        };
        self.expect_ours(object, bytes, staged_as)?;
        if !checksum {
            return Ok(());
        }
        let side = get(&self.sidecar);
        match side {
            _ if get(&claim).is_some() => Err(match side {
                // rclone skipped the rename: another checksum file took the name.
                Some(o) => self.taken(&o.name, o.tag.as_deref(), false),
                None => anyhow::anyhow!(
                    "rclone moveto left {claim} in place, but {} is not on the remote",
                    self.sidecar
                ),
            }),
            None => Err(anyhow::anyhow!(
                "{} is not on the remote after this run wrote it",
                self.sidecar
            )),
            Some(o) if !self.sidecar_is_ours(o, line).await => {
                Err(self.taken(&o.name, o.tag.as_deref(), true))
            }
            Some(_) => Ok(()),
        }
    }

    /// Tagged: the backup_id says so. Untagged: its content is this run's line (which holds
    /// the SHA-256 of what this run streamed).
    async fn sidecar_is_ours(&self, o: &rclone::Object, line: &str) -> bool {
        if self.tagged() {
            return o.tag.as_deref() == Some(self.id);
        }
        self.rclone.cat(&self.target(&o.name)).await.ok().as_deref() == Some(line.as_bytes())
    }

    /// After a failure: delete the backup's object and, given its line, the checksum file,
    /// if (and only if) they are verifiably this run's. Bounded in time.
    async fn remove_ours(&self, sidecar_line: Option<&str>) {
        let work = async {
            let mut names = vec![self.name];
            if sidecar_line.is_some() {
                names.push(&self.sidecar);
            }
            let found = self.rclone.stat(self.dir, &names).await?;
            for o in &found {
                let ours = match sidecar_line {
                    Some(line) if o.name == self.sidecar => self.sidecar_is_ours(o, line).await,
                    _ => self.tagged() && o.tag.as_deref() == Some(self.id),
                };
                if ours {
                    remove_partial(self.rclone, &self.target(&o.name)).await;
                } else if o.name == self.name && !self.tagged() {
                    warn!(
                        object = %o.name,
                        "left in place: this remote keeps no metadata, so dbstash cannot tell whether it is this failed run's upload or another writer's backup; without its .sha256 retention counts it as incomplete. Delete it by hand if it is this run's"
                    );
                }
            }
            anyhow::Ok(())
        };
        match tokio::time::timeout(CLEANUP_LIMIT, work).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => error!(
                object = %rclone::redact_remote(&self.target(self.name)),
                error = %format!("{e:#}"),
                "could not check what the failed backup left: delete it by hand if it is this run's"
            ),
            Err(_) => error!(
                object = %rclone::redact_remote(&self.target(self.name)),
                "no answer within {} while cleaning up the failed backup: delete it by hand if it is this run's",
                fmt_human(CLEANUP_LIMIT)
            ),
        }
    }
}

/// The longest the cleanup of one failed object may take.
const CLEANUP_LIMIT: Duration = Duration::from_secs(60);

/// Staging uploads older than this are leftovers of a killed run, not uploads in progress.
const STALE_STAGING: Duration = Duration::from_secs(24 * 3600);

/// Delete whatever a failed run may have left under a backup's name. Bounded in time: a
/// remote that stopped answering must not hold up a timeout or a shutdown for long.
pub(crate) async fn remove_partial(rclone: &Rclone, target: &str) {
    let deleted = tokio::time::timeout(CLEANUP_LIMIT, rclone.delete(target))
        .await
        .unwrap_or_else(|_| {
            Err(anyhow::anyhow!(
                "no answer within {}",
                fmt_human(CLEANUP_LIMIT)
            ))
        });
    match deleted {
        Ok(true) => {
            warn!(object = %rclone::redact_remote(target), "deleted the partial object of the failed backup")
        }
        Ok(false) => {}
        Err(e) => error!(
            object = %rclone::redact_remote(target),
            error = %format!("{e:#}"),
            "could not delete the partial object of the failed backup: delete it by hand"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_recognised_by_name() {
        let name = "app-2026-02-07.sql";
        assert_eq!(
            claim_id(".app-2026-02-07.sql.claim-0a1b2c3d", name),
            Some("0a1b2c3d")
        );
        for other in [
            ".app-2026-02-07.sql.partial-0a1b2c3d", // an upload, not a claim
            "app-2026-02-07.sql.claim-0a1b2c3d",    // not hidden
            ".app-2026-02-07.sql.claim-0a1b2c3",    // 7 digits
            ".app-2026-02-07.sql.claim-0a1b2c3dd",
            ".app-2026-02-07.sql.claim-0a1b2c3g",
            ".app-2026-02-07.sql.claim-0A1B2C3D",
            ".xapp-2026-02-07.sql.claim-0a1b2c3d", // another name
            ".app-2026-02-07.sql.sha256",
        ] {
            assert_eq!(claim_id(other, name), None, "{other}");
        }
        assert_eq!(
            claim_name(name, "0a1b2c3d"),
            ".app-2026-02-07.sql.claim-0a1b2c3d"
        );
        // The claim is no longer than the staging name: the name-length limit covers both.
        assert!(claim_name(name, "0a1b2c3d").len() <= staging_name(name, "0a1b2c3d").len());
    }
}
