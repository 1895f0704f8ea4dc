//! In-process transforms of a backup's bytes on their way to rclone: compression (zstd,
//! gzip) and public-key encryption (age), chained in that order (compress, then encrypt:
//! encrypted bytes do not compress).
//!
//! A transform is fed chunks and appends what it produces to an output buffer, so the copy
//! loop keeps one shape whatever is configured, and the SHA-256 it computes is of the stored
//! bytes. Everything here is synchronous and CPU-bound: callers run it off the async
//! runtime's threads.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

pub use crate::config::CompressAlgo as Algo;

/// One stage of the chain.
pub trait Transform: Send {
    /// Consume `input`; append the bytes produced so far to `out`.
    fn update(&mut self, input: &[u8], out: &mut Vec<u8>) -> io::Result<()>;
    /// The end of the input: append the remaining bytes (trailers, last blocks) to `out`.
    fn finish(self: Box<Self>, out: &mut Vec<u8>) -> io::Result<()>;
}

/// A writer whose bytes land in a buffer shared with the transform that owns the writer:
/// the encoders below write into it and [`Encoder::update`] drains it.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Shared {
    fn drain_into(&self, out: &mut Vec<u8>) {
        let mut buf = self.0.lock().unwrap_or_else(|e| e.into_inner());
        out.append(&mut buf);
    }
}

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An encoder that writes into a [`Shared`] buffer, with the call that ends its stream.
struct Encoder<W: Write + Send> {
    writer: W,
    sink: Shared,
    end: fn(W) -> io::Result<()>,
}

impl<W: Write + Send> Transform for Encoder<W> {
    fn update(&mut self, input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        self.writer.write_all(input)?;
        self.sink.drain_into(out);
        Ok(())
    }

    fn finish(self: Box<Self>, out: &mut Vec<u8>) -> io::Result<()> {
        let Encoder { writer, sink, end } = *self;
        end(writer)?;
        sink.drain_into(out);
        Ok(())
    }
}

/// A compressor for `algo` at `level` (checked by the caller against [`Algo::levels`]).
pub fn compressor(algo: Algo, level: i32) -> io::Result<Box<dyn Transform>> {
    let sink = Shared::default();
    Ok(match algo {
        Algo::Zstd => {
            let mut enc = zstd::stream::write::Encoder::new(sink.clone(), level)?;
            // A checksum per frame: a flipped byte fails decompression, not only the sidecar.
            enc.include_checksum(true)?;
            Box::new(Encoder {
                writer: enc,
                sink,
                end: |w| w.finish().map(drop),
            })
        }
        Algo::Gzip => {
            let level = flate2::Compression::new(level.clamp(0, 9) as u32);
            Box::new(Encoder {
                writer: flate2::write::GzEncoder::new(sink.clone(), level),
                sink,
                end: |w| w.finish().map(drop),
            })
        }
    })
}

/// An age encryptor to `recipients` (at least one).
pub fn encryptor(recipients: &[Box<dyn age::Recipient + Send>]) -> io::Result<Box<dyn Transform>> {
    let sink = Shared::default();
    let enc = age::Encryptor::with_recipients(recipients.iter().map(|r| r.as_ref() as _))
        .map_err(|e| io::Error::other(format!("age: {e}")))?;
    let writer = enc.wrap_output(sink.clone())?;
    Ok(Box::new(Encoder {
        writer,
        sink,
        end: |w| w.finish().map(drop),
    }))
}

/// Stages applied in order; with none, bytes pass through.
#[derive(Default)]
pub struct Chain(Vec<Box<dyn Transform>>);

impl Chain {
    pub fn new(stages: Vec<Box<dyn Transform>>) -> Chain {
        Chain(stages)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Feed `input` through every stage; what the last one produced is appended to `out`.
    pub fn update(&mut self, input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        let Some((last, first)) = self.0.split_last_mut() else {
            out.extend_from_slice(input);
            return Ok(());
        };
        if first.is_empty() {
            return last.update(input, out);
        }
        let mut data = input.to_vec();
        for stage in first {
            let mut next = Vec::new();
            stage.update(&data, &mut next)?;
            data = next;
        }
        last.update(&data, out)
    }

    /// End every stage in order, each one's tail fed to the next.
    pub fn finish(self, out: &mut Vec<u8>) -> io::Result<()> {
        let mut pending: Vec<u8> = Vec::new();
        let mut stages = self.0.into_iter().peekable();
        if stages.peek().is_none() {
            return Ok(());
        }
        while let Some(mut stage) = stages.next() {
            let mut produced = Vec::new();
            if !pending.is_empty() {
                stage.update(&pending, &mut produced)?;
            }
            stage.finish(&mut produced)?;
            if stages.peek().is_none() {
                out.append(&mut produced);
            } else {
                pending = produced;
            }
        }
        Ok(())
    }
}

/// Parse recipients: `age1…` public keys and SSH public keys (`ssh-ed25519 …`,
/// `ssh-rsa …`), separated by commas or newlines; blank lines and `#` comments are skipped
/// (age's recipients-file format). `what` names the source for errors.
pub fn parse_recipients(
    text: &str,
    what: &str,
) -> Result<Vec<Box<dyn age::Recipient + Send>>, String> {
    let mut out: Vec<Box<dyn age::Recipient + Send>> = Vec::new();
    for (i, item) in text
        .split(['\n', ','])
        .map(str::trim)
        .enumerate()
        .filter(|(_, s)| !s.is_empty() && !s.starts_with('#'))
    {
        let shown: String = item.chars().take(24).collect();
        if item.starts_with("age1") {
            let r: age::x25519::Recipient = item.parse().map_err(|e| {
                format!(
                    "{what}: entry {} ({shown}…) is not an age public key: {e}",
                    i + 1
                )
            })?;
            out.push(Box::new(r));
        } else if item.starts_with("ssh-") {
            let r: age::ssh::Recipient = item.parse().map_err(|e| {
                format!(
                    "{what}: entry {} ({shown}…) is not a usable SSH public key (ssh-ed25519 or ssh-rsa): {e:?}",
                    i + 1
                )
            })?;
            out.push(Box::new(r));
        } else if item.starts_with("AGE-SECRET-KEY-") {
            return Err(format!(
                "{what}: entry {} is an age *secret* key; give its public key (age-keygen -y KEYFILE): the backup host needs only that",
                i + 1
            ));
        } else {
            return Err(format!(
                "{what}: entry {} ({shown}…) is neither an age public key (age1…) nor an SSH public key (ssh-ed25519 …, ssh-rsa …)",
                i + 1
            ));
        }
    }
    if out.is_empty() {
        return Err(format!("{what}: no recipient given"));
    }
    Ok(out)
}

/// Parse an identity file's contents: age identities (`AGE-SECRET-KEY-1…`, with `#`
/// comments) or an unencrypted SSH private key. `what` names the source for errors. age's
/// identities are not `Send`: parse them on the thread that decrypts.
pub fn parse_identities(text: &str, what: &str) -> Result<Vec<Box<dyn age::Identity>>, String> {
    if text.trim_start().starts_with("-----BEGIN") {
        // An SSH private key (OpenSSH or PEM), which age's identity-file parser does not read.
        let id = age::ssh::Identity::from_buffer(io::BufReader::new(text.as_bytes()), None)
            .map_err(|e| format!("{what}: not a usable SSH private key: {e}"))?;
        return match id {
            age::ssh::Identity::Unencrypted(_) => Ok(vec![Box::new(id)]),
            age::ssh::Identity::Encrypted(_) => Err(format!(
                "{what}: the SSH private key is passphrase-protected, which dbstash cannot prompt for: decrypt a copy with ssh-keygen -p (kept 0600, off the backup host)"
            )),
            age::ssh::Identity::Unsupported(_) => Err(format!(
                "{what}: this SSH key type is not supported by age (use ssh-ed25519 or ssh-rsa)"
            )),
        };
    }
    let file = age::IdentityFile::from_buffer(io::BufReader::new(text.as_bytes()))
        .map_err(|e| format!("{what}: not an age identity file or SSH private key: {e}"))?;
    let ids = file.into_identities().map_err(|e| {
        format!("{what}: its key cannot be used (a passphrase-protected SSH key is not supported: decrypt a copy with ssh-keygen -p): {e}")
    })?;
    if ids.is_empty() {
        return Err(format!("{what}: holds no identity"));
    }
    Ok(ids)
}

/// A reader of the plaintext of the age file `r`, decrypted with `identities`.
pub fn decrypting_reader<'a, R: io::Read + Send + 'a>(
    r: R,
    identities: &[Box<dyn age::Identity>],
) -> io::Result<Box<dyn io::Read + Send + 'a>> {
    let dec = age::Decryptor::new(r).map_err(|e| io::Error::other(format!("age: {e}")))?;
    let reader = dec
        .decrypt(identities.iter().map(|i| i.as_ref()))
        .map_err(|e| io::Error::other(format!("age: {e}")))?;
    Ok(Box::new(reader))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    fn run(mut chain: Chain, input: &[u8], chunk: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for c in input.chunks(chunk.max(1)) {
            chain.update(c, &mut out).unwrap();
        }
        chain.finish(&mut out).unwrap();
        out
    }

    fn sample() -> Vec<u8> {
        (0..200_000u32)
            .flat_map(|i| format!("INSERT INTO t VALUES ({i}, 'row {}');\n", i % 97).into_bytes())
            .collect()
    }

    #[test]
    fn no_stage_passes_bytes_through() {
        let data = sample();
        assert_eq!(run(Chain::default(), &data, 4096), data);
    }

    #[test]
    fn zstd_and_gzip_round_trip_in_any_chunking() {
        let data = sample();
        for chunk in [1usize, 7, 65536, data.len()] {
            let z = run(
                Chain::new(vec![compressor(Algo::Zstd, 3).unwrap()]),
                &data[..50_000.min(data.len())],
                chunk,
            );
            let mut back = Vec::new();
            zstd::stream::read::Decoder::new(&z[..])
                .unwrap()
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, data[..50_000]);
        }
        let g = run(
            Chain::new(vec![compressor(Algo::Gzip, 6).unwrap()]),
            &data,
            100_000,
        );
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&g[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, data);
        assert!(
            g.len() * 5 < data.len(),
            "gzip ratio: {} of {}",
            g.len(),
            data.len()
        );
    }

    #[test]
    fn compress_then_encrypt_round_trips_and_hides_the_plaintext() {
        let key = age::x25519::Identity::generate();
        let recipients = parse_recipients(&key.to_public().to_string(), "test").unwrap();
        let data = sample();
        let chain = Chain::new(vec![
            compressor(Algo::Zstd, 3).unwrap(),
            encryptor(&recipients).unwrap(),
        ]);
        let stored = run(chain, &data, 300_000);
        assert!(stored.starts_with(b"age-encryption.org/v1\n"));
        assert!(!stored.windows(12).any(|w| w == b"INSERT INTO "));
        use secrecy::ExposeSecret as _;
        let ids = parse_identities(key.to_string().expose_secret(), "test").unwrap();
        let plain = decrypting_reader(&stored[..], &ids).unwrap();
        let mut back = Vec::new();
        zstd::stream::read::Decoder::new(plain)
            .unwrap()
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, data);

        // Another key cannot read it; a flipped byte fails decryption.
        let other = age::x25519::Identity::generate();
        let wrong = parse_identities(other.to_string().expose_secret(), "t").unwrap();
        assert!(decrypting_reader(&stored[..], &wrong).is_err());
        let mut bad = stored.clone();
        let at = bad.len() - 100;
        bad[at] ^= 1;
        let mut r = decrypting_reader(&bad[..], &ids).unwrap();
        assert!(r.read_to_end(&mut Vec::new()).is_err());
    }

    #[test]
    fn recipients_are_checked_and_secret_keys_refused() {
        let key = age::x25519::Identity::generate();
        let public = key.to_public().to_string();
        let two = format!("{public}, {public}\n# comment\n");
        assert_eq!(parse_recipients(&two, "R").unwrap().len(), 2);
        for bad in ["", " , ", "age1nope", "hello", "ssh-ed25519 AAAAnotbase64"] {
            let e = parse_recipients(bad, "BACKUP_ENCRYPT_RECIPIENTS")
                .err()
                .unwrap();
            assert!(e.starts_with("BACKUP_ENCRYPT_RECIPIENTS: "), "{e}");
        }
        use secrecy::ExposeSecret as _;
        let e = parse_recipients(key.to_string().expose_secret(), "R")
            .err()
            .unwrap();
        assert!(e.contains("secret"), "{e}");
        assert!(
            !e.contains("AGE-SECRET-KEY-1"),
            "the key is not echoed: {e}"
        );
    }

    #[test]
    fn identity_files_must_hold_a_key() {
        assert!(parse_identities("", "I").is_err());
        assert!(parse_identities("# only a comment\n", "I").is_err());
        assert!(parse_identities("not a key\n", "I").is_err());
    }
}
