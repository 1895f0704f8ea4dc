//! Compressed plain dumps (`.sql.gz`, `.sql.zst`) are decompressed in-process: the restore
//! needs no `gunzip` or `zstd` binary, and a decoding error fails the restore like any other
//! read error.

use std::io::{self, Read};
use std::path::Path;

use tokio::io::{AsyncWrite, AsyncWriteExt as _};

/// How a backup's bytes are compressed, as its name says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Bytes handed from the decoding thread to the async writer at a time.
const CHUNK: usize = 256 * 1024;

impl Compression {
    /// By the object's name: `….gz` is gzip, `….zst` zstd, anything else plain; a trailing
    /// `.age` (encryption, removed before decompression) does not count.
    pub fn of(name: &str) -> Compression {
        let name = super::decrypt::plain_name(name);
        if name.ends_with(".gz") {
            Compression::Gzip
        } else if name.ends_with(".zst") {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// A reader of the decompressed bytes of `r`. Concatenated gzip members (what
    /// `cat a.gz b.gz` makes) are read as one stream, as `gunzip` does.
    pub fn reader<'a, R: Read + Send + 'a>(self, r: R) -> io::Result<Box<dyn Read + Send + 'a>> {
        Ok(match self {
            Compression::None => Box::new(r),
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(r)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(r)?),
        })
    }

    /// Open `path` and read it decompressed.
    pub fn open(self, path: &Path) -> io::Result<Box<dyn Read + Send + 'static>> {
        let file = std::fs::File::open(path)?;
        self.reader(io::BufReader::with_capacity(CHUNK, file))
    }
}

/// Copy the file at `path`, decompressed, into `w` (a child's stdin); the number of
/// decompressed bytes written. Reading and decoding run on a blocking thread, writing here;
/// dropping the future stops both (the thread ends at its next chunk).
pub async fn copy_file<W: AsyncWrite + Unpin>(
    path: &Path,
    compression: Compression,
    w: &mut W,
) -> io::Result<u64> {
    let mut reader = compression.open(path)?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<io::Result<Vec<u8>>>(4);
    let decoder = tokio::task::spawn_blocking(move || loop {
        let mut buf = vec![0u8; CHUNK];
        let n = match read_full(&mut reader, &mut buf) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        };
        buf.truncate(n);
        if tx.blocking_send(Ok(buf)).is_err() {
            return; // the writer is gone
        }
    });
    let mut written = 0u64;
    while let Some(chunk) = rx.recv().await {
        let chunk =
            chunk.map_err(|e| io::Error::new(e.kind(), format!("reading the backup: {e}")))?;
        w.write_all(&chunk).await?;
        written += chunk.len() as u64;
    }
    decoder.await.map_err(io::Error::other)?;
    Ok(written)
}

/// The compression of a file by its first bytes (gzip, zstd), whatever its name.
pub fn sniff_file(path: &Path) -> io::Result<Compression> {
    let mut head = [0u8; 4];
    let n = read_full(&mut std::fs::File::open(path)?, &mut head)?;
    Ok(if head[..n].starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head[..n] == [0x28, 0xb5, 0x2f, 0xfd] {
        Compression::Zstd
    } else {
        Compression::None
    })
}

/// Decompress the file at `from` into a new 0600 file `to` (on a blocking thread); its
/// size. A damaged or truncated stream is an error, and `to` is removed.
pub async fn to_file(from: &Path, compression: Compression, to: &Path) -> io::Result<u64> {
    let (from, to) = (from.to_path_buf(), to.to_path_buf());
    let task = tokio::task::spawn_blocking(move || {
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut r = compression.open(&from)?;
        let written = (|| -> io::Result<u64> {
            let mut out = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&to)?;
            let n = io::copy(&mut r, &mut out)?;
            out.sync_all()?;
            Ok(n)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&to);
        }
        written
    });
    task.await
        .map_err(io::Error::other)?
        .map_err(|e: io::Error| io::Error::new(e.kind(), format!("decompressing the backup: {e}")))
}

/// Fill `buf` as far as the reader allows; 0 only at the end.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    const TEXT: &[u8] =
        b"CREATE TABLE t (id int);\nINSERT INTO t VALUES (1),(2);\n-- Dump completed\n";

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn compression_follows_the_name() {
        assert_eq!(Compression::of("app-2026.sql.gz"), Compression::Gzip);
        assert_eq!(Compression::of("app-2026.sql.zst"), Compression::Zstd);
        assert_eq!(Compression::of("app-2026.sql"), Compression::None);
        assert_eq!(Compression::of("app-2026.archive.gz"), Compression::Gzip);
        assert_eq!(Compression::of("gz-2026.sql"), Compression::None);
        assert_eq!(Compression::of("app-2026.sql.zst.age"), Compression::Zstd);
        assert_eq!(Compression::of("app-2026.sql.age"), Compression::None);
    }

    #[test]
    fn every_format_reads_back_the_same_bytes() {
        let mut concatenated = gzip(&TEXT[..10]);
        concatenated.extend(gzip(&TEXT[10..]));
        let cases = [
            (Compression::None, TEXT.to_vec()),
            (Compression::Gzip, gzip(TEXT)),
            (Compression::Gzip, concatenated),
            (Compression::Zstd, zstd::encode_all(TEXT, 3).unwrap()),
        ];
        for (c, data) in cases {
            let mut out = Vec::new();
            c.reader(&data[..]).unwrap().read_to_end(&mut out).unwrap();
            assert_eq!(out, TEXT, "{c:?}");
        }
    }

    #[test]
    fn a_damaged_stream_is_an_error() {
        let mut data = gzip(TEXT);
        let n = data.len();
        data[n - 6] ^= 0xff; // the CRC
        let mut out = Vec::new();
        assert!(Compression::Gzip
            .reader(&data[..])
            .unwrap()
            .read_to_end(&mut out)
            .is_err());
        let truncated = zstd::encode_all(TEXT, 3).unwrap();
        let truncated = &truncated[..truncated.len() - 4];
        assert!(Compression::Zstd
            .reader(truncated)
            .unwrap()
            .read_to_end(&mut Vec::new())
            .is_err());
    }

    #[tokio::test]
    async fn copy_file_writes_the_decompressed_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let big: Vec<u8> = TEXT.iter().copied().cycle().take(3 * CHUNK + 17).collect();
        let path = dir.path().join("d.sql.zst");
        std::fs::write(&path, zstd::encode_all(&big[..], 3).unwrap()).unwrap();
        let mut out = Vec::new();
        let n = copy_file(&path, Compression::Zstd, &mut out).await.unwrap();
        assert_eq!(n, big.len() as u64);
        assert_eq!(out, big);

        let bad = dir.path().join("bad.sql.gz");
        std::fs::write(&bad, b"not gzip at all").unwrap();
        let e = copy_file(&bad, Compression::Gzip, &mut Vec::new())
            .await
            .unwrap_err();
        assert!(e.to_string().starts_with("reading the backup"), "{e}");
    }
}
