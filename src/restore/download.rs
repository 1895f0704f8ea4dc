//! Getting a backup's bytes from the remote, checked against its sidecar's SHA-256.
//!
//! Two ways, one rule: nothing downstream sees the *end* of the data before the hash is
//! known to match.
//! - [`download_stream`]: `rclone cat` as an [`AsyncRead`] that hashes as it is read. At the
//!   end of rclone's output it waits for rclone's exit status and compares the hash, and only
//!   then reports end-of-file; a mismatch (or a failed rclone) is a read *error* instead. A
//!   caller copying it into a restore tool's stdin therefore learns of a corrupted backup
//!   while the tool still waits for more input, and kills the tool instead of closing its
//!   stdin (the trick `pipeline` plays on `rclone rcat`).
//! - [`download_verified`]: the same stream into a 0600 file in a fresh 0700 directory,
//!   removed on a mismatch (and whenever the returned value is dropped).
//!
//! Neither bounds its own time: wrap the future in [`crate::shutdown::Cancel::guard`] for
//! BACKUP_TIMEOUT and SIGTERM/SIGINT. Dropping a stream (or the future) kills rclone and
//! removes the partial file.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use anyhow::Context as _;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWriteExt as _, ReadBuf};
use tokio::process::{Child, ChildStdout};

use super::select::Selected;
use crate::process::{self, ChildFailed, GroupGuard, Tail};
use crate::rclone::{self, Rclone};

/// What a finished download produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub bytes: u64,
    /// The SHA-256 of the bytes read (lowercase hex).
    pub sha256: String,
    /// Whether it was compared with a sidecar (false: a backup without one, allowed).
    pub checked: bool,
}

/// The downloaded bytes do not hash to the sidecar's SHA-256. Carried inside the
/// [`io::Error`] a [`DownloadStream`] returns (find it with [`checksum_mismatch`]) and in
/// [`download_verified`]'s error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecksumMismatch {
    pub name: String,
    /// What the sidecar says.
    pub expected: String,
    /// What the bytes hash to.
    pub actual: String,
}

impl std::fmt::Display for ChecksumMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "checksum mismatch: {} hashes to SHA-256 {} but its .sha256 sidecar says {}: the backup is corrupted (or was changed after it was written)",
            self.name, self.actual, self.expected
        )
    }
}

impl std::error::Error for ChecksumMismatch {}

/// The [`ChecksumMismatch`] inside an error from a [`DownloadStream`] read (directly, or
/// wrapped in an [`anyhow::Error`]).
pub fn checksum_mismatch<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a ChecksumMismatch> {
    let mut cur: Option<&'a (dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(m) = err.downcast_ref::<ChecksumMismatch>() {
            return Some(m);
        }
        if let Some(io) = err.downcast_ref::<io::Error>() {
            if let Some(m) = io
                .get_ref()
                .and_then(|i| i.downcast_ref::<ChecksumMismatch>())
            {
                return Some(m);
            }
        }
        cur = err.source();
    }
    None
}

/// A backup without a sidecar, asked for without `allow_unverified`.
fn no_sidecar(sel: &Selected) -> anyhow::Error {
    anyhow::anyhow!(
        "{} has no .sha256 sidecar: its integrity cannot be checked (the run that wrote it may have been killed, or BACKUP_CHECKSUM was false)",
        sel.name
    )
}

type Finish = Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>;

/// `rclone cat` of one backup, hashed as it is read. See the module doc: end-of-file only
/// once the SHA-256 matched the sidecar (and rclone exited 0, and the byte count is the
/// listed size); a read error otherwise. After end-of-file, [`DownloadStream::verified`]
/// says what was read. Dropping it kills rclone.
pub struct DownloadStream {
    name: String,
    expected: Option<String>,
    /// The size the listing gave (-1: unknown).
    expected_size: i64,
    stdout: ChildStdout,
    /// rclone, its group (killed on drop) and its stderr, until its output ends.
    child: Option<(Child, GroupGuard, Tail)>,
    finishing: Option<Finish>,
    hasher: Sha256,
    bytes: u64,
    verified: Option<Verified>,
    failed: Option<(io::ErrorKind, String, Option<ChecksumMismatch>)>,
}

/// Start `rclone cat` on `sel`. Without a sidecar (`sel.sha256` is `None`) it fails unless
/// `allow_unverified`; the stream then only checks rclone's exit status and the size.
pub fn download_stream(
    rclone: &Rclone,
    sel: &Selected,
    allow_unverified: bool,
) -> anyhow::Result<DownloadStream> {
    start(rclone.cat_stream(&sel.path), sel, allow_unverified)
}

/// [`download_stream`] with the command that prints the bytes (tests use a fake one).
fn start(
    mut cat: tokio::process::Command,
    sel: &Selected,
    allow_unverified: bool,
) -> anyhow::Result<DownloadStream> {
    if sel.sha256.is_none() && !allow_unverified {
        return Err(no_sidecar(sel));
    }
    let mut child = cat.spawn().map_err(|e| process::spawn_error("rclone", e))?;
    let group = GroupGuard::new(child.id());
    let stderr = Tail::drain(child.stderr.take().expect("stderr is piped"));
    let stdout = child.stdout.take().expect("stdout is piped");
    Ok(DownloadStream {
        name: sel.name.clone(),
        expected: sel.sha256.clone(),
        expected_size: sel.size,
        stdout,
        child: Some((child, group, stderr)),
        finishing: None,
        hasher: Sha256::new(),
        bytes: 0,
        verified: None,
        failed: None,
    })
}

impl DownloadStream {
    /// What was read, once the stream reported end-of-file (so: verified).
    pub fn verified(&self) -> Option<&Verified> {
        self.verified.as_ref()
    }

    /// Bytes read so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    fn fail(&mut self, kind: io::ErrorKind, msg: String, m: Option<ChecksumMismatch>) -> io::Error {
        // Whatever rclone still does is of no use now.
        self.child = None;
        self.finishing = None;
        self.failed = Some((kind, msg, m));
        self.error()
    }

    fn error(&self) -> io::Error {
        let (kind, msg, m) = self.failed.as_ref().expect("failed");
        match m {
            Some(m) => io::Error::new(*kind, m.clone()),
            None => io::Error::new(*kind, msg.clone()),
        }
    }

    /// rclone's output ended: wait for its status, then judge the bytes.
    fn judge(&mut self) -> Result<Verified, (io::ErrorKind, String, Option<ChecksumMismatch>)> {
        let sha256 = format!("{:x}", std::mem::take(&mut self.hasher).finalize());
        if self.expected_size >= 0 && self.bytes != self.expected_size as u64 {
            return Err((
                io::ErrorKind::UnexpectedEof,
                format!(
                    "rclone cat gave {} bytes of {} but the remote listed {}",
                    self.bytes, self.name, self.expected_size
                ),
                None,
            ));
        }
        match &self.expected {
            Some(expected) if *expected != sha256 => {
                let m = ChecksumMismatch {
                    name: self.name.clone(),
                    expected: expected.clone(),
                    actual: sha256,
                };
                Err((io::ErrorKind::InvalidData, m.to_string(), Some(m)))
            }
            expected => Ok(Verified {
                bytes: self.bytes,
                checked: expected.is_some(),
                sha256,
            }),
        }
    }
}

impl AsyncRead for DownloadStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.verified.is_some() {
            return Poll::Ready(Ok(()));
        }
        if this.failed.is_some() {
            return Poll::Ready(Err(this.error()));
        }
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        if this.finishing.is_none() {
            let before = buf.filled().len();
            if let Err(e) = ready!(Pin::new(&mut this.stdout).poll_read(cx, buf)) {
                let msg = format!("reading rclone cat's output failed: {e}");
                return Poll::Ready(Err(this.fail(e.kind(), msg, None)));
            }
            let n = buf.filled().len() - before;
            if n > 0 {
                this.hasher.update(&buf.filled()[before..]);
                this.bytes += n as u64;
                return Poll::Ready(Ok(()));
            }
            // End of rclone's output: not the end of the stream until judged.
            let (mut child, mut group, stderr) = this.child.take().expect("rclone until its end");
            this.finishing = Some(Box::pin(async move {
                let status = child.wait().await.map_err(|e| format!("rclone cat: {e}"))?;
                group.disarm();
                if status.success() {
                    Ok(())
                } else {
                    Err(ChildFailed::new("rclone cat", status, stderr.text().await).to_string())
                }
            }));
        }
        let finished = ready!(this
            .finishing
            .as_mut()
            .expect("set above")
            .as_mut()
            .poll(cx));
        this.finishing = None;
        if let Err(msg) = finished {
            return Poll::Ready(Err(this.fail(io::ErrorKind::Other, msg, None)));
        }
        match this.judge() {
            Ok(v) => {
                this.verified = Some(v);
                Poll::Ready(Ok(()))
            }
            Err((kind, msg, m)) => Poll::Ready(Err(this.fail(kind, msg, m))),
        }
    }
}

/// A backup downloaded into a private directory. Dropping it removes the directory.
#[derive(Debug)]
pub struct Downloaded {
    dir: tempfile::TempDir,
    /// The file: mode 0600, named like the backup, in a fresh 0700 directory.
    pub path: PathBuf,
    pub verified: Verified,
}

impl Downloaded {
    /// The private directory holding [`Downloaded::path`].
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// Download `sel` into a 0600 file in a fresh 0700 directory under `dir` (created if
/// missing), hashing as it streams; fails (and removes everything) when the SHA-256 differs
/// from the sidecar's, naming both. Without a sidecar it fails unless `allow_unverified`.
pub async fn download_verified(
    rclone: &Rclone,
    sel: &Selected,
    dir: &Path,
    allow_unverified: bool,
) -> anyhow::Result<Downloaded> {
    save(rclone.cat_stream(&sel.path), sel, dir, allow_unverified).await
}

/// [`download_verified`], then, for an `.age` backup, decrypted with `identity`
/// (RESTORE_IDENTITY_FILE; without it an `.age` backup is an error) into a file named
/// without `.age` in the same private directory: what every restore reads.
pub async fn download_plain(
    rclone: &Rclone,
    sel: &Selected,
    dir: &Path,
    allow_unverified: bool,
    identity: Option<&secrecy::SecretString>,
) -> anyhow::Result<Downloaded> {
    use super::decrypt;
    if !decrypt::is_encrypted(&sel.name) {
        return download_verified(rclone, sel, dir, allow_unverified).await;
    }
    // Checked first: no download when it cannot be decrypted anyway.
    let identity = identity.ok_or_else(|| decrypt::no_identity(&sel.name))?;
    let mut file = download_verified(rclone, sel, dir, allow_unverified).await?;
    let plain = if file.path.extension().is_some_and(|e| e == "age") {
        file.path.with_extension("")
    } else {
        file.dir().join("decrypted")
    };
    let bytes = decrypt::to_file(&file.path, plain.clone(), identity, &sel.name).await?;
    tracing::info!(
        stored = file.verified.bytes,
        bytes,
        "decrypted the verified backup (age)"
    );
    file.path = plain;
    Ok(file)
}

/// [`download_verified`] with the command that prints the bytes.
async fn save(
    cat: tokio::process::Command,
    sel: &Selected,
    dir: &Path,
    allow_unverified: bool,
) -> anyhow::Result<Downloaded> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    if sel.sha256.is_none() && !allow_unverified {
        return Err(no_sidecar(sel));
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating the temp directory {}", dir.display()))?;
    let private = tempfile::Builder::new()
        .prefix("dbstash-download-")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir_in(dir)
        .with_context(|| format!("creating a private directory in {}", dir.display()))?;
    // The backup's own name (tools print it); never a path, whatever the listing held.
    let file_name = if sel.name.is_empty() || sel.name.contains('/') || sel.name.starts_with('.') {
        "backup".to_string()
    } else {
        sel.name.clone()
    };
    let path = private.path().join(file_name);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    let mut file = tokio::io::BufWriter::with_capacity(256 * 1024, tokio::fs::File::from_std(file));
    let mut stream = start(cat, sel, allow_unverified)?;
    let shown = rclone::redact_remote(&sel.path);
    let copied = tokio::io::copy(&mut stream, &mut file).await;
    if let Err(e) = copied {
        return Err(match e.into_inner() {
            Some(inner) => match inner.downcast::<ChecksumMismatch>() {
                Ok(m) => anyhow::Error::new(*m),
                Err(other) => anyhow::anyhow!("downloading {shown} failed: {other}"),
            },
            None => anyhow::anyhow!("downloading {shown} failed"),
        });
    }
    file.flush()
        .await
        .with_context(|| format!("writing {}", path.display()))?;
    let verified = stream
        .verified()
        .cloned()
        .expect("a stream copied to its end is verified");
    Ok(Downloaded {
        dir: private,
        path,
        verified,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt as _;

    /// What `rclone cat` would do: print `content`, exit `code`.
    fn cat(content: &str, code: i32) -> tokio::process::Command {
        let mut c = process::command_with("sh", process::Stop::AtOnce);
        c.arg("-c")
            .arg(format!("printf '%s' \"$0\"; exit {code}"))
            .arg(content);
        c
    }

    fn sel(content: &str, sha: Option<&str>) -> Selected {
        Selected {
            name: "d-2026.sql".into(),
            path: "r:d-2026.sql".into(),
            size: content.len() as i64,
            mod_time: chrono::Utc::now(),
            sha256: sha.map(str::to_string),
        }
    }

    fn sha(s: &str) -> String {
        format!("{:x}", Sha256::digest(s.as_bytes()))
    }

    const CONTENT: &str = "select 1;\n-- PostgreSQL database dump complete\n";

    #[tokio::test]
    async fn a_matching_stream_ends_and_says_what_it_read() {
        let mut s = start(cat(CONTENT, 0), &sel(CONTENT, Some(&sha(CONTENT))), false).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert_eq!(out, CONTENT);
        let v = s.verified().unwrap();
        assert_eq!((v.bytes, v.checked), (CONTENT.len() as u64, true));
        assert_eq!(v.sha256, sha(CONTENT));
    }

    #[tokio::test]
    async fn a_mismatch_is_an_error_in_place_of_the_end() {
        let wrong = sha("other");
        let mut s = start(cat(CONTENT, 0), &sel(CONTENT, Some(&wrong)), false).unwrap();
        let mut out = Vec::new();
        let e = s.read_to_end(&mut out).await.unwrap_err();
        assert_eq!(out, CONTENT.as_bytes(), "every byte was read, but no end");
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        let m = checksum_mismatch(&e).expect("a ChecksumMismatch inside");
        assert_eq!(m.expected, wrong);
        assert_eq!(m.actual, sha(CONTENT));
        assert!(s.verified().is_none());
        // Reading on repeats the error: a careless caller never gets a clean end.
        assert!(s.read(&mut [0u8; 8]).await.is_err());
    }

    #[tokio::test]
    async fn a_failed_rclone_or_a_short_read_is_an_error() {
        let mut s = start(cat(CONTENT, 3), &sel(CONTENT, Some(&sha(CONTENT))), false).unwrap();
        let e = s.read_to_end(&mut Vec::new()).await.unwrap_err();
        assert!(
            e.to_string().contains("rclone cat exited with status 3"),
            "{e}"
        );

        let mut listed = sel(CONTENT, None);
        listed.size += 1;
        let mut s = start(cat(CONTENT, 0), &listed, true).unwrap();
        let e = s.read_to_end(&mut Vec::new()).await.unwrap_err();
        assert!(e.to_string().contains("the remote listed"), "{e}");
    }

    #[tokio::test]
    async fn without_a_sidecar_only_when_allowed() {
        let e = start(cat(CONTENT, 0), &sel(CONTENT, None), false)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("has no .sha256 sidecar"), "{e}");
        let mut s = start(cat(CONTENT, 0), &sel(CONTENT, None), true).unwrap();
        s.read_to_end(&mut Vec::new()).await.unwrap();
        assert!(!s.verified().unwrap().checked);
        let tmp = tempfile::tempdir().unwrap();
        let e = save(cat(CONTENT, 0), &sel(CONTENT, None), tmp.path(), false)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("has no .sha256 sidecar"), "{e}");
    }

    #[tokio::test]
    async fn files_are_private_and_removed_on_a_mismatch_or_drop() {
        use std::os::unix::fs::PermissionsExt as _;
        let tmp = tempfile::tempdir().unwrap();
        let under = tmp.path().join("work");
        let wrong = sha("other");
        let e = save(cat(CONTENT, 0), &sel(CONTENT, Some(&wrong)), &under, false)
            .await
            .unwrap_err();
        let text = format!("{e:#}");
        assert!(
            text.contains(&wrong) && text.contains(&sha(CONTENT)),
            "{text}"
        );
        assert!(checksum_mismatch(e.as_ref()).is_some());
        assert_eq!(
            std::fs::read_dir(&under).unwrap().count(),
            0,
            "nothing left"
        );

        let d = save(
            cat(CONTENT, 0),
            &sel(CONTENT, Some(&sha(CONTENT))),
            &under,
            false,
        )
        .await
        .unwrap();
        assert_eq!(std::fs::read_to_string(&d.path).unwrap(), CONTENT);
        assert_eq!(d.path.file_name().unwrap(), "d-2026.sql");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&d.path), 0o600);
        assert_eq!(mode(d.dir()), 0o700);
        assert_eq!(d.verified.sha256, sha(CONTENT));
        let dir = d.dir().to_path_buf();
        drop(d);
        assert!(!dir.exists());
    }

    #[tokio::test]
    async fn a_large_stream_is_hashed_whole() {
        // 1 MiB in many reads of 1000 bytes.
        let mut c = process::command_with("sh", process::Stop::AtOnce);
        c.arg("-c").arg("head -c 1048576 /dev/zero | tr '\\0' x");
        let xs = "x".repeat(1 << 20);
        let mut s = start(c, &sel(&xs, Some(&sha(&xs))), false).unwrap();
        let mut n = 0u64;
        let mut buf = vec![0u8; 1000];
        loop {
            let k = s.read(&mut buf).await.unwrap();
            if k == 0 {
                break;
            }
            n += k as u64;
        }
        assert_eq!(n, 1 << 20);
        assert!(s.verified().is_some());
    }
}
