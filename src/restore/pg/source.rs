//! The backup's bytes for a stream: `rclone cat` verified as it is read (or a verified,
//! decrypted download), decompressed in-process.

use anyhow::{anyhow, Context as _};
use tokio::io::AsyncReadExt as _;

use super::compression_of;
use crate::rclone::Rclone;
use crate::restore::decompress::Compression;
use crate::restore::{download_stream, Selected};

/// Bytes gathered per read of the backup.
pub(super) const CHUNK: usize = 256 * 1024;
/// Decoded bytes read before deciding what the backup is.
const HEAD: usize = 8 * 1024;

/// The backup's bytes: `rclone cat`, hashed (end-of-file only once verified), decompressed.
pub(super) struct Source {
    pub(super) stream: Raw,
    pub(super) compression: Compression,
    decoder: Option<Decoder>,
    /// Decoded bytes read for [`Source::head`], not yet handed on.
    pub(super) decoded_head: Vec<u8>,
    buf: Vec<u8>,
}

/// Where a [`Source`]'s raw bytes come from: `rclone cat` verified as it is read, or a
/// verified (and decrypted) download.
pub(super) enum Raw {
    Remote(Box<crate::restore::DownloadStream>),
    Local {
        file: tokio::fs::File,
        downloaded: crate::restore::Downloaded,
    },
}

impl Raw {
    async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Raw::Remote(s) => s.read(buf).await,
            Raw::Local { file, .. } => file.read(buf).await,
        }
    }

    fn checked(&self) -> bool {
        match self {
            Raw::Remote(s) => s.verified().is_some_and(|v| v.checked),
            Raw::Local { downloaded, .. } => downloaded.verified.checked,
        }
    }

    /// The stored bytes read (all of them, for a download).
    pub(super) fn bytes(&self) -> u64 {
        match self {
            Raw::Remote(s) => s.bytes(),
            Raw::Local { downloaded, .. } => downloaded.verified.bytes,
        }
    }
}

impl Source {
    /// A verified download's (decrypted) file, read as a stream.
    pub(super) async fn local(downloaded: crate::restore::Downloaded) -> anyhow::Result<Source> {
        let file = tokio::fs::File::open(&downloaded.path)
            .await
            .with_context(|| format!("opening {}", downloaded.path.display()))?;
        Ok(Source {
            stream: Raw::Local { file, downloaded },
            compression: Compression::None,
            decoder: None,
            decoded_head: Vec::new(),
            buf: vec![0u8; CHUNK],
        })
    }

    pub(super) fn start(
        rclone: &Rclone,
        sel: &Selected,
        no_verify: bool,
    ) -> anyhow::Result<Source> {
        Ok(Source {
            stream: Raw::Remote(Box::new(download_stream(rclone, sel, no_verify)?)),
            compression: Compression::None,
            decoder: None,
            decoded_head: Vec::new(),
            buf: vec![0u8; CHUNK],
        })
    }

    /// Read until [`HEAD`] decoded bytes (or the end) are in `decoded_head`; the compression
    /// is known from then on.
    pub(super) async fn head(&mut self) -> anyhow::Result<()> {
        let mut raw = Vec::new();
        let mut ended = false;
        while raw.len() < 4 {
            let n = self.read_raw().await?;
            if n == 0 {
                ended = true;
                break;
            }
            raw.extend_from_slice(&self.buf[..n]);
        }
        self.compression = compression_of(&raw);
        self.decoder = Decoder::new(self.compression)?;
        self.decode_into_head(&raw)?;
        while !ended && self.decoded_head.len() < HEAD {
            let n = self.read_raw().await?;
            if n == 0 {
                ended = true;
                break;
            }
            let chunk = self.buf[..n].to_vec();
            self.decode_into_head(&chunk)?;
        }
        if ended {
            self.finish_decoder_into_head()?;
        }
        Ok(())
    }

    fn decode_into_head(&mut self, raw: &[u8]) -> anyhow::Result<()> {
        match &mut self.decoder {
            Some(d) => d.push(raw, &mut self.decoded_head),
            None => {
                self.decoded_head.extend_from_slice(raw);
                Ok(())
            }
        }
    }

    fn finish_decoder_into_head(&mut self) -> anyhow::Result<()> {
        if let Some(mut d) = self.decoder.take() {
            d.finish(&mut self.decoded_head)?;
        }
        Ok(())
    }

    /// One read of verified-so-far raw bytes into `buf`; 0 at the (verified) end. No
    /// batching: what arrived goes on at once, so a stalled stream holds nothing back.
    async fn read_raw(&mut self) -> anyhow::Result<usize> {
        self.stream
            .read(&mut self.buf)
            .await
            .map_err(download_error)
    }

    /// The next decoded bytes, appended to `out`; `false` at the verified end (the decoder
    /// finished too).
    pub(super) async fn next(&mut self, out: &mut Vec<u8>) -> anyhow::Result<bool> {
        if !self.decoded_head.is_empty() {
            out.append(&mut self.decoded_head);
            return Ok(true);
        }
        let n = self.read_raw().await?;
        if n == 0 {
            if let Some(mut d) = self.decoder.take() {
                d.finish(out)?;
                if !out.is_empty() {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        match &mut self.decoder {
            Some(d) => d.push(&self.buf[..n], out)?,
            None => out.extend_from_slice(&self.buf[..n]),
        }
        Ok(true)
    }

    pub(super) fn verified(&self) -> bool {
        self.stream.checked()
    }
}

/// A download error, with the checksum mismatch (if that is what it is) kept findable.
fn download_error(e: std::io::Error) -> anyhow::Error {
    match crate::restore::checksum_mismatch(&e) {
        Some(m) => anyhow::Error::new(m.clone()),
        None => anyhow!("reading the backup failed: {e}"),
    }
}

/// Push decompression for the stream: compressed chunks in, decoded bytes out.
enum Decoder {
    Gzip(Box<flate2::write::MultiGzDecoder<Vec<u8>>>),
    Zstd(Box<zstd::stream::write::Decoder<'static, Vec<u8>>>),
}

impl Decoder {
    fn new(c: Compression) -> anyhow::Result<Option<Decoder>> {
        Ok(match c {
            Compression::None => None,
            Compression::Gzip => Some(Decoder::Gzip(Box::new(flate2::write::MultiGzDecoder::new(
                Vec::new(),
            )))),
            Compression::Zstd => Some(Decoder::Zstd(Box::new(
                zstd::stream::write::Decoder::new(Vec::new())
                    .context("starting the zstd decoder")?,
            ))),
        })
    }

    fn push(&mut self, data: &[u8], out: &mut Vec<u8>) -> anyhow::Result<()> {
        use std::io::Write as _;
        let written = match self {
            Decoder::Gzip(d) => d.write_all(data).and_then(|_| d.flush()),
            Decoder::Zstd(d) => d.write_all(data).and_then(|_| d.flush()),
        };
        written.map_err(|e| anyhow!("decompressing the backup failed: {e}"))?;
        out.append(self.inner());
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<u8>) -> anyhow::Result<()> {
        use std::io::Write as _;
        let done = match self {
            Decoder::Gzip(d) => d.try_finish(),
            Decoder::Zstd(d) => d.flush(),
        };
        done.map_err(|e| anyhow!("decompressing the backup failed: {e}"))?;
        out.append(self.inner());
        Ok(())
    }

    fn inner(&mut self) -> &mut Vec<u8> {
        match self {
            Decoder::Gzip(d) => d.get_mut(),
            Decoder::Zstd(d) => d.get_mut(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoders_push_in_chunks() {
        use std::io::Write as _;
        let text: Vec<u8> = b"SELECT 1;\n"
            .iter()
            .copied()
            .cycle()
            .take(100_000)
            .collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&text).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::encode_all(&text[..], 3).unwrap();
        for (c, data) in [(Compression::Gzip, gz), (Compression::Zstd, zst)] {
            let mut d = Decoder::new(c).unwrap().unwrap();
            let mut out = Vec::new();
            for piece in data.chunks(777) {
                d.push(piece, &mut out).unwrap();
            }
            d.finish(&mut out).unwrap();
            assert_eq!(out, text, "{c:?}");
        }
    }
}
