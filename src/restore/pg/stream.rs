//! The single-transaction stream: the decoded backup (an archive through
//! `pg_restore --file=-`) → [`TxGuard`] → psql, whose input ends, and commits, only once the
//! whole backup was read and verified.

use anyhow::anyhow;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::guard::{TxGuard, Unsafe};
use super::proc::{Output, Proc};
use super::source::{Source, CHUNK};
use super::target::DROP_EXISTING_SQL;
use super::{Options, DUMP_TRAILER};
use crate::config::Config;
use crate::engine::{DumpCommand, Postgres};

/// What a stream applied.
pub(super) struct Streamed {
    pub(super) bytes: u64,
    pub(super) verified: bool,
}

pub(super) enum StreamError {
    /// The script ends transactions itself: nothing was committed; apply from a file.
    OwnTransactions(Unsafe),
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for StreamError {
    fn from(e: anyhow::Error) -> Self {
        StreamError::Failed(e)
    }
}

/// Plain SQL: decoded bytes → guard → psql, which commits when its input ends.
pub(super) async fn stream_plain(
    cfg: &Config,
    opts: &Options,
    mut source: Source,
) -> Result<Streamed, StreamError> {
    let dc = Postgres.restore_psql(cfg, &opts.target, None);
    let mut sink = Sink::start(&dc, opts.no_verify)?;
    if opts.drop_existing {
        sink.write_trusted(DROP_EXISTING_SQL.as_bytes()).await?;
    }
    let mut chunk = Vec::with_capacity(CHUNK);
    loop {
        chunk.clear();
        let more = match source.next(&mut chunk).await {
            Ok(more) => more,
            // psql is killed (dropped) with its input still open: nothing commits.
            Err(e) => return Err(StreamError::Failed(e)),
        };
        if !more {
            break;
        }
        sink.feed(&chunk).await?;
    }
    // The backup ended and its SHA-256 matched: only now may psql see the end (and commit).
    let bytes = sink.bytes;
    sink.commit().await?;
    Ok(Streamed {
        bytes,
        verified: source.verified(),
    })
}

/// An archive: its bytes (decompressed when dbstash compressed it: `.dump.zst`) →
/// `pg_restore --file=-` → its script → guard → psql.
pub(super) async fn stream_archive(
    cfg: &Config,
    opts: &Options,
    mut source: Source,
) -> Result<Streamed, StreamError> {
    let script = Postgres.restore_script(opts.drop_existing);
    let mut converter = Proc::spawn(&script, true, Output::Piped)?;
    let mut script_out = converter.stdout.take().expect("stdout is piped");
    let dc = Postgres.restore_psql(cfg, &opts.target, None);
    let mut sink = Sink::start(&dc, opts.no_verify)?;

    // Both directions at once: the first to fail ends the other (dropped), and then every
    // child is killed before psql's input closes.
    let feed = async {
        let stdin = converter.stdin.as_mut().expect("stdin is piped");
        let mut chunk = Vec::with_capacity(CHUNK);
        loop {
            chunk.clear();
            if !source.next(&mut chunk).await.map_err(StreamError::Failed)? {
                break;
            }
            if let Err(e) = stdin.write_all(&chunk).await {
                return Err(StreamError::Failed(anyhow!(
                    "pg_restore stopped reading the backup: {e}"
                )));
            }
        }
        Ok::<(), StreamError>(())
    };
    let apply = async {
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = script_out
                .read(&mut buf)
                .await
                .map_err(|e| StreamError::Failed(anyhow!("reading pg_restore's script: {e}")))?;
            if n == 0 {
                return Ok::<(), StreamError>(());
            }
            sink.feed(&buf[..n]).await?;
        }
    };
    let joined = tokio::try_join!(feed, apply);
    if let Err(e) = joined {
        // pg_restore's own failure (not an archive, damaged) is the one worth telling.
        if let StreamError::Failed(inner) = e {
            if crate::restore::checksum_mismatch(inner.as_ref()).is_none() {
                if let Some(failed) = converter.exited_failed().await {
                    return Err(StreamError::Failed(failed));
                }
            }
            return Err(StreamError::Failed(inner));
        }
        return Err(e);
    }
    // Verified: pg_restore gets its end of input, must exit 0, and its script must be whole.
    converter.finish().await?;
    let bytes = source.stream.bytes();
    sink.commit().await?;
    Ok(Streamed {
        bytes,
        verified: source.verified(),
    })
}

/// psql reading a script on stdin in one transaction, watched by a [`TxGuard`].
struct Sink {
    proc: Proc,
    guard: TxGuard,
    /// The last bytes, for the completion line (required when nothing else proves the
    /// script whole: `--no-verify`).
    tail: Vec<u8>,
    require_trailer: bool,
    bytes: u64,
}

impl Sink {
    fn start(dc: &DumpCommand, require_trailer: bool) -> anyhow::Result<Sink> {
        Ok(Sink {
            proc: Proc::spawn(dc, true, Output::Tail)?,
            guard: TxGuard::default(),
            tail: Vec::new(),
            require_trailer,
            bytes: 0,
        })
    }

    /// dbstash's own SQL, not scanned.
    async fn write_trusted(&mut self, data: &[u8]) -> anyhow::Result<()> {
        let stdin = self.proc.stdin.as_mut().expect("stdin until commit");
        if let Err(e) = stdin.write_all(data).await {
            return Err(self
                .proc
                .failure(&format!("psql stopped reading: {e}"))
                .await);
        }
        Ok(())
    }

    async fn feed(&mut self, data: &[u8]) -> Result<(), StreamError> {
        // Checked before psql sees any of it: a COMMIT here would end the transaction.
        self.guard
            .scan(data)
            .map_err(StreamError::OwnTransactions)?;
        self.bytes += data.len() as u64;
        self.tail.extend_from_slice(data);
        if self.tail.len() > 2 * TAIL_KEPT {
            self.tail.drain(..self.tail.len() - TAIL_KEPT);
        }
        self.write_trusted(data).await.map_err(StreamError::Failed)
    }

    /// End psql's input (it commits) and wait for it.
    async fn commit(mut self) -> Result<(), StreamError> {
        self.guard.finish().map_err(StreamError::OwnTransactions)?;
        if self.require_trailer && !contains(&self.tail, DUMP_TRAILER) {
            return Err(StreamError::Failed(anyhow!(
                "the backup (restored without a checksum, --no-verify) does not end with pg_dump's completion line ({}): it is truncated or not a pg_dump script; nothing was committed",
                String::from_utf8_lossy(DUMP_TRAILER)
            )));
        }
        Ok(self.proc.finish().await?)
    }
}

pub(super) const TAIL_KEPT: usize = 1024;

pub(super) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
