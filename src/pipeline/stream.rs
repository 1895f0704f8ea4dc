//! The single-object upload of the `stream` and `tar` modes: dump stdout (or a tar of the
//! work dir) → in-process copy (the [`Chain`]'s transforms, then SHA-256 and byte count of
//! what is stored) → `rclone rcat`.
//!
//! `rclone rcat` commits the object when its stdin reaches EOF, even if the producer died
//! halfway. So dbstash holds rclone's stdin itself and closes it only after the dump exited
//! 0. On every other path rclone is SIGKILLed *before* its stdin closes (see [`Upload`]), and
//! the caller deletes the target, so a failed dump never becomes a backup.

use std::os::fd::AsRawFd;

use anyhow::anyhow;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin};

use crate::engine::DumpCommand;
use crate::process::{self, kill_group, ChildFailed, Tail};
use crate::progress::{self, Progress};
use crate::rclone::Rclone;
use crate::transform::Chain;

/// What a successful stream produced.
#[derive(Debug, Clone)]
pub struct Streamed {
    /// What rclone stored (after in-process compression).
    pub bytes: u64,
    pub sha256: String,
    /// What the source produced: the dump's bytes, the tar's before compression.
    pub dumped: u64,
}

const CHUNK: usize = 256 * 1024;
/// Copy once at least this much has been read (or at EOF).
const BATCH: usize = 128 * 1024;
/// Pipe capacity asked for on both pipes: fewer wake-ups per megabyte.
const PIPE_SIZE: libc::c_int = 1024 * 1024;

/// The running `rclone rcat`. Dropping it without [`Upload::commit`] kills rclone's process
/// group first and only then closes its stdin, so an abandoned upload is never committed.
struct Upload {
    child: Child,
    pgid: Option<u32>,
    stdin: Option<ChildStdin>,
    stderr: Option<Tail>,
}

impl Upload {
    /// Close stdin (rclone commits the object) and wait for rclone to confirm.
    async fn commit(mut self) -> anyhow::Result<()> {
        let mut stdin = self.stdin.take().expect("stdin is held until commit");
        let closed = stdin.shutdown().await;
        drop(stdin);
        let status = process::wait_ending_group(&mut self.child).await?;
        process::group_reaped(self.pgid.take()); // nothing left to kill on drop
        if !status.success() {
            let tail = self.stderr.take().expect("stderr tail").text().await;
            return Err(ChildFailed::new("rclone rcat", status, tail).into());
        }
        closed.map_err(|e| anyhow!("rclone rcat: closing its input failed: {e}"))
    }

    /// Kill rclone (stdin still open, so nothing is committed) and describe how it ended.
    async fn abort(mut self) -> Option<ChildFailed> {
        kill_group(self.pgid);
        let status = self.child.wait().await.ok()?;
        self.pgid = None;
        let tail = self.stderr.take()?.text().await;
        // Exited on its own before we killed it: that failure is the interesting one.
        (!is_sigkill(status)).then(|| ChildFailed::new("rclone rcat", status, tail))
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        // Runs before the fields drop, i.e. before stdin closes.
        kill_group(self.pgid);
    }
}

fn is_sigkill(status: std::process::ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    status.signal() == Some(libc::SIGKILL)
}

fn grow_pipe(fd: &impl AsRawFd) {
    // SAFETY: fcntl on a pipe fd we own; failure just keeps the default size.
    unsafe {
        libc::fcntl(fd.as_raw_fd(), libc::F_SETPIPE_SZ, PIPE_SIZE);
    }
}

/// What is streamed into `rclone rcat`: a dump tool's stdout through the run's in-process
/// transforms (none: the bytes pass as they are), or a tar of a finished dump in the work
/// dir (`BACKUP_MODE=tar`, compressed in the tar's own task).
pub enum Source<'a> {
    Dump(&'a DumpCommand, Chain),
    /// The tar (compressed in its task), then through the chain (the encryptor, or none).
    Tar(super::tar::TarOf, Chain),
}

/// A started dump tool: the child, the program that actually runs (the engine's or its
/// fallback), and its secret file, kept alive until it ends.
pub struct Spawned {
    pub child: Child,
    pub program: String,
    _secret_file: Option<process::SecretFile>,
}

/// Start `dump` (falling back to its fallback program when missing), stdout and stderr piped.
pub fn spawn_dump(dump: &DumpCommand) -> anyhow::Result<Spawned> {
    let secret_file = match &dump.secret_file {
        None => None,
        Some(sf) => Some(process::secret_file(sf.content.expose_secret())?),
    };
    let build = |program: &str| process::tool_command(dump, program, secret_file.as_ref());
    let (child, program) = match (build(&dump.program).spawn(), &dump.fallback) {
        (Err(e), Some(fallback)) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::info!("{} not found on PATH: using {fallback}", dump.program);
            let child = build(fallback)
                .spawn()
                .map_err(|e| process::spawn_error(fallback, e))?;
            (child, fallback.clone())
        }
        (spawned, _) => (
            spawned.map_err(|e| process::spawn_error(&dump.program, e))?,
            dump.program.clone(),
        ),
    };
    Ok(Spawned {
        child,
        program,
        _secret_file: secret_file,
    })
}

/// Stream `source` into `target`. `before_commit` gets what was streamed after the source
/// ended well (the dump exited 0, the tar was written whole), right before rclone's stdin
/// closes: its error abandons the upload, uncommitted. On `Err`, nothing was committed by
/// this function's rclone unless rclone itself failed after its stdin closed
/// (`before_commit` had then returned `Ok`), but a backend may still hold a partial object
/// written in place: the caller cleans up what is verifiably its own.
pub async fn stream<F: std::future::Future<Output = anyhow::Result<()>>>(
    source: Source<'_>,
    rclone: &Rclone,
    target: &str,
    display: progress::Display,
    before_commit: impl FnOnce(Streamed) -> F,
) -> anyhow::Result<Streamed> {
    // rclone first: if it cannot start, no dump runs.
    let mut child = rclone
        .rcat(target)
        .spawn()
        .map_err(|e| process::spawn_error("rclone", e))?;
    let mut upload = Upload {
        pgid: child.id(),
        stdin: child.stdin.take(),
        stderr: child.stderr.take().map(Tail::drain),
        child,
    };
    match source {
        Source::Dump(dump, chain) => stream_dump(dump, chain, upload, display, before_commit).await,
        Source::Tar(of, chain) => {
            let (mut src, task) = super::tar::start(of)?;
            let dst = upload.stdin.as_mut().expect("stdin is piped");
            grow_pipe(dst);
            let (copied, streamed) = copy(&mut src, dst, chain, display).await;
            drop(src); // a tar task still writing gets EPIPE and ends
            let end = match task.await {
                Ok(Ok(tar_bytes)) => End::Complete(Some(tar_bytes)),
                // It could not write because rclone stopped reading: the copy says why.
                Ok(Err(e)) if copied.is_err() && is_broken_pipe(&e) => End::Stopped,
                Ok(Err(e)) => End::Failed(e.context("writing the tar of the work dir failed")),
                Err(join) => End::Failed(anyhow!("the tar task failed: {join}")),
            };
            let names = Names {
                stream: "the tar",
                output: "the tar stream",
            };
            finish(upload, copied, streamed, end, names, before_commit).await
        }
    }
}

/// How a source ended once its bytes were copied, or the copy failed and it was stopped.
enum End {
    /// It ended well; the bytes it produced when the copy cannot tell (a tar compressed in
    /// its own task).
    Complete(Option<u64>),
    /// Stopped because the copy failed: the copy's error is the one to report.
    Stopped,
    /// It failed on its own (the dump exited non-zero, the tar could not be written).
    Failed(anyhow::Error),
}

/// What a source's bytes are called in errors.
struct Names<'a> {
    /// `rclone rcat stopped reading {stream}`.
    stream: &'a str,
    /// `reading {output} failed`, `compressing or encrypting {output} failed`.
    output: &'a str,
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    matches!(e.downcast_ref::<std::io::Error>(), Some(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
}

/// The end of every stream: a source that failed, or a copy that failed, abandons the upload
/// (rclone killed with its stdin open: nothing committed), saying why; a complete one is
/// committed if `before_commit` still wants it.
async fn finish<F: std::future::Future<Output = anyhow::Result<()>>>(
    upload: Upload,
    copied: Result<(), CopyError>,
    mut streamed: Streamed,
    end: End,
    names: Names<'_>,
    before_commit: impl FnOnce(Streamed) -> F,
) -> anyhow::Result<Streamed> {
    let dumped = match (copied, end) {
        (_, End::Failed(e)) => {
            upload.abort().await;
            return Err(e);
        }
        (Ok(()), End::Complete(dumped)) => dumped,
        (Ok(()), End::Stopped) => {
            upload.abort().await;
            return Err(anyhow!("{} stopped", names.output));
        }
        (Err(CopyError::Write(e)), _) => {
            return Err(match upload.abort().await {
                Some(failed) => failed.into(),
                None => anyhow!("rclone rcat stopped reading {}: {e}", names.stream),
            })
        }
        (Err(CopyError::Read(e)), _) => {
            upload.abort().await;
            return Err(anyhow!("reading {} failed: {e}", names.output));
        }
        (Err(CopyError::Transform(e)), _) => {
            upload.abort().await;
            return Err(anyhow!(
                "compressing or encrypting {} failed: {e}",
                names.output
            ));
        }
    };
    if let Some(d) = dumped {
        streamed.dumped = d;
    }
    // The source is complete: only now may rclone see EOF, and only if the caller still
    // wants the object (e.g. its name is still free).
    if let Err(e) = before_commit(streamed.clone()).await {
        upload.abort().await;
        return Err(e);
    }
    upload.commit().await?;
    Ok(streamed)
}

/// Copy `src` into `dst` whole through `chain`, hashing and counting what is stored. With
/// no stage the bytes read are hashed and written from the read buffer itself.
async fn copy(
    src: &mut (impl AsyncRead + Unpin),
    dst: &mut ChildStdin,
    chain: Chain,
    display: progress::Display,
) -> (Result<(), CopyError>, Streamed) {
    let progress = Progress::start(display);
    let mut hasher = Sha256::new();
    let (mut bytes, mut dumped) = (0u64, 0u64);
    let mut buf = vec![0u8; CHUNK];
    let mut chain = (!chain.is_empty()).then_some(chain);
    // What the chain produced from one batch: reused, so it stays about a batch's size.
    let mut out: Vec<u8> = Vec::new();
    let copied: Result<(), CopyError> = async {
        loop {
            // Dump tools write in small pieces (pg_dump: ~4-9 KiB); gathering a batch before
            // hashing and writing cuts system calls on both sides several-fold.
            let mut filled = 0;
            let mut eof = false;
            while filled < BATCH {
                let n = src
                    .read(&mut buf[filled..])
                    .await
                    .map_err(CopyError::Read)?;
                if n == 0 {
                    eof = true;
                    break;
                }
                filled += n;
            }
            dumped += filled as u64;
            progress.add(filled as u64);
            let stored: &[u8] = if chain.is_none() {
                &buf[..filled]
            } else {
                out.clear();
                let (input, stages, produced) = (&buf[..filled], &mut chain, &mut out);
                cpu(|| transform_batch(stages, input, eof, produced))
                    .map_err(CopyError::Transform)?;
                &out
            };
            hasher.update(stored);
            bytes += stored.len() as u64;
            dst.write_all(stored).await.map_err(CopyError::Write)?;
            if eof {
                return Ok(());
            }
        }
    }
    .await;
    drop(progress);
    (
        copied,
        Streamed {
            bytes,
            sha256: format!("{:x}", hasher.finalize()),
            dumped,
        },
    )
}

/// Feed one batch through the chain; at the end of the input, end the chain too (its
/// trailers are written before rclone's input closes).
fn transform_batch(
    chain: &mut Option<Chain>,
    input: &[u8],
    eof: bool,
    out: &mut Vec<u8>,
) -> std::io::Result<()> {
    if let Some(stages) = chain.as_mut() {
        stages.update(input, out)?;
    }
    if eof {
        if let Some(stages) = chain.take() {
            stages.finish(out)?;
        }
    }
    Ok(())
}

/// Run CPU-bound work (compression) from async code: on a multi-thread runtime the worker
/// hands its other tasks to another thread meanwhile.
fn cpu<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

async fn stream_dump<F: std::future::Future<Output = anyhow::Result<()>>>(
    dump: &DumpCommand,
    chain: Chain,
    mut upload: Upload,
    display: progress::Display,
    before_commit: impl FnOnce(Streamed) -> F,
) -> anyhow::Result<Streamed> {
    // The secret file is kept alive until the dump has finished; removed on drop.
    let Spawned {
        child,
        program,
        _secret_file,
    } = spawn_dump(dump)?;
    let program = program.as_str();
    // Whatever ends this function early (an error, a signal dropping the future) also ends
    // everything the dump started: SIGTERM first, so it can end its session.
    let mut dumper = process::Graceful::new(child);
    let dump_pgid = dumper.pgid();
    let dump_stderr = Tail::drain(dumper.child().stderr.take().expect("stderr is piped"));
    let mut src = dumper.child().stdout.take().expect("stdout is piped");
    let dst = upload.stdin.as_mut().expect("stdin is piped");
    grow_pipe(&src);
    grow_pipe(dst);

    let (copied, streamed) = copy(&mut src, dst, chain, display).await;
    let end = if copied.is_ok() {
        // What the dump left running in its group ends with it.
        let status = process::wait_ending_group(dumper.child()).await?;
        dumper.disarm(); // reaped: its pid may be reused
        if status.success() {
            End::Complete(None)
        } else {
            End::Failed(ChildFailed::new(program, status, dump_stderr.text().await).into())
        }
    } else {
        // The copy failed (rclone stopped reading, or a transform failed): stop the dump.
        kill_group(dump_pgid);
        let _ = dumper.child().wait().await;
        dumper.disarm();
        End::Stopped
    };
    let output = format!("{program}'s output");
    let names = Names {
        stream: "the dump",
        output: &output,
    };
    finish(upload, copied, streamed, end, names, before_commit).await
}

enum CopyError {
    Read(std::io::Error),
    Write(std::io::Error),
    /// An in-process transform (the compressor) failed.
    Transform(std::io::Error),
}
