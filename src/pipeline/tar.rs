//! The producer of `BACKUP_MODE=tar`: the finished dump's tree in the work dir as one tar
//! stream (zstd- or gzip-compressed on request, in the same blocking task), written by the `tar` crate in a blocking task into a
//! pipe the async upload reads. What the archive holds is fixed by the layout contract:
//! regular files and directories only, sorted by name, paths relative to the dump's root
//! (no `./`, no top-level folder), modes 0644/0755, owner 0 without names, one mtime (the
//! dump's). Anything else in the tree (a symlink, a FIFO) fails the run: a tar that does
//! not hold the dump as written never becomes a backup.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use tokio::task::JoinHandle;

/// What to tar.
#[derive(Debug, Clone)]
pub struct TarOf {
    /// The dump's root folder (`WORKDIR/dump`).
    pub root: PathBuf,
    /// Compress the tar with this algorithm and level
    /// ([`crate::engine::in_process_compression`]).
    pub compress: Option<(crate::config::CompressAlgo, i32)>,
    /// Seconds since the epoch, for every entry.
    pub mtime: u64,
}

/// Start writing the tar: its bytes come out of the returned pipe; the task's result says
/// whether all of them were written (an `Err` also when the reader went away), and how many
/// bytes the tar had before compression.
pub fn start(
    of: TarOf,
) -> anyhow::Result<(
    tokio::net::unix::pipe::Receiver,
    JoinHandle<anyhow::Result<u64>>,
)> {
    let (reader, writer) = io::pipe().context("creating the pipe for the tar stream")?;
    let reader =
        tokio::net::unix::pipe::Receiver::from_owned_fd(std::os::fd::OwnedFd::from(reader))
            .context("reading the tar stream")?;
    let task = tokio::task::spawn_blocking(move || {
        use crate::config::CompressAlgo;
        let out = io::BufWriter::with_capacity(256 * 1024, writer);
        let bytes = match of.compress {
            Some((CompressAlgo::Gzip, level)) => {
                let level = flate2::Compression::new(level.clamp(1, 9) as u32);
                let gz = write(
                    &of.root,
                    of.mtime,
                    Counted::new(flate2::write::GzEncoder::new(out, level)),
                )?;
                gz.inner.finish()?.flush()?;
                gz.bytes
            }
            Some((CompressAlgo::Zstd, level)) => {
                let mut z = zstd::stream::write::Encoder::new(out, level)?;
                // A checksum per frame, as in stream mode: damage fails decompression.
                z.include_checksum(true)?;
                let z = write(&of.root, of.mtime, Counted::new(z))?;
                z.inner.finish()?.flush()?;
                z.bytes
            }
            None => {
                let mut plain = write(&of.root, of.mtime, Counted::new(out))?;
                plain.flush()?;
                plain.bytes
            }
        };
        Ok(bytes)
    });
    Ok((reader, task))
}

/// Write the tar of `root` into `out`, and return `out`.
pub fn write<W: Write>(root: &Path, mtime: u64, out: W) -> anyhow::Result<W> {
    let mut b = tar::Builder::new(out);
    b.mode(tar::HeaderMode::Deterministic);
    add_dir(&mut b, root, Path::new(""), mtime)?;
    Ok(b.into_inner()?)
}

fn add_dir<W: Write>(
    b: &mut tar::Builder<W>,
    dir: &Path,
    rel: &Path,
    mtime: u64,
) -> anyhow::Result<()> {
    for (name, path, ty) in sorted_entries(dir)? {
        let rel = rel.join(&name);
        let mut h = tar::Header::new_gnu();
        h.set_mtime(mtime);
        h.set_uid(0);
        h.set_gid(0);
        if ty.is_dir() {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_mode(0o755);
            h.set_size(0);
            // `name/`, as tar itself writes folders.
            let mut dir_path = rel.clone().into_os_string();
            dir_path.push("/");
            b.append_data(&mut h, &dir_path, io::empty())
                .with_context(|| format!("adding {} to the tar", rel.display()))?;
            add_dir(b, &path, &rel, mtime)?;
        } else if ty.is_file() {
            let f = std::fs::File::open(&path)
                .with_context(|| format!("opening {} for the tar", path.display()))?;
            let len = f.metadata()?.len();
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(0o644);
            h.set_size(len);
            // Exactly `len` bytes: a file that changes size while tarred fails the run.
            let mut exact = ExactLen {
                inner: f,
                left: len,
            };
            b.append_data(&mut h, &rel, &mut exact)
                .with_context(|| format!("adding {} to the tar", rel.display()))?;
            if exact.left != 0 {
                anyhow::bail!("{} shrank while it was tarred", path.display());
            }
        } else {
            anyhow::bail!(
                "{} is neither a regular file nor a directory: the dump's tree is not tarred",
                path.display()
            );
        }
    }
    Ok(())
}

/// A folder's entries sorted by name (bytes), with their types (symlinks not followed).
pub fn sorted_entries(
    dir: &Path,
) -> anyhow::Result<Vec<(std::ffi::OsString, PathBuf, std::fs::FileType)>> {
    let mut entries = Vec::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let e = e.with_context(|| format!("reading {}", dir.display()))?;
        let ty = e.file_type()?;
        entries.push((e.file_name(), e.path(), ty));
    }
    use std::os::unix::ffi::OsStrExt as _;
    entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(entries)
}

/// Counts what is written through it: the tar's size before compression.
struct Counted<W> {
    inner: W,
    bytes: u64,
}

impl<W> Counted<W> {
    fn new(inner: W) -> Counted<W> {
        Counted { inner, bytes: 0 }
    }
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Reads at most `left` bytes.
struct ExactLen<R> {
    inner: R,
    left: u64,
}

impl<R: io::Read> io::Read for ExactLen<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let max = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        if max == 0 {
            return Ok(0);
        }
        let n = self.inner.read(&mut buf[..max])?;
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tar_holds_the_tree_sorted_relative_with_fixed_modes() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        std::fs::create_dir(root.join("b")).unwrap();
        std::fs::write(root.join("b/x.bson"), b"xx").unwrap();
        std::fs::write(root.join("toc.dat"), b"toc").unwrap();
        std::fs::write(root.join("a.dat"), b"").unwrap();
        let bytes = write(root, 1_700_000_000, Vec::new()).unwrap();
        let mut a = tar::Archive::new(&bytes[..]);
        let got: Vec<(String, u32, u64, u64)> = a
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().display().to_string(),
                    h.mode().unwrap(),
                    h.size().unwrap(),
                    h.mtime().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("a.dat".into(), 0o644, 0, 1_700_000_000),
                ("b/".into(), 0o755, 0, 1_700_000_000),
                ("b/x.bson".into(), 0o644, 2, 1_700_000_000),
                ("toc.dat".into(), 0o644, 3, 1_700_000_000),
            ]
        );
    }

    /// The stream `start` writes, compressed as asked, and the tar's size it reports.
    fn streamed(
        root: &Path,
        compress: Option<(crate::config::CompressAlgo, i32)>,
    ) -> (Vec<u8>, u64) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            use tokio::io::AsyncReadExt as _;
            let of = TarOf {
                root: root.to_path_buf(),
                compress,
                mtime: 1_700_000_000,
            };
            let (mut reader, task) = start(of).unwrap();
            let mut bytes = Vec::new();
            reader.read_to_end(&mut bytes).await.unwrap();
            (bytes, task.await.unwrap().unwrap())
        })
    }

    #[test]
    fn the_tar_is_compressed_in_its_task_and_its_plain_size_reported() {
        use crate::config::CompressAlgo;
        use std::io::Read as _;
        let d = tempfile::tempdir().unwrap();
        let text = "INSERT INTO t VALUES (1, 'row');\n".repeat(20_000);
        std::fs::write(d.path().join("t.sql"), &text).unwrap();
        let plain = write(d.path(), 1_700_000_000, Vec::new()).unwrap();

        let (bytes, size) = streamed(d.path(), None);
        assert_eq!(
            (bytes.as_slice(), size),
            (plain.as_slice(), plain.len() as u64)
        );

        let (zst, size) = streamed(d.path(), Some((CompressAlgo::Zstd, 3)));
        assert_eq!(zst[..4], [0x28, 0xb5, 0x2f, 0xfd]);
        assert_eq!(size, plain.len() as u64);
        assert!(
            zst.len() * 10 < plain.len(),
            "{} of {}",
            zst.len(),
            plain.len()
        );
        assert_eq!(zstd::stream::decode_all(&zst[..]).unwrap(), plain);

        let (gz, size) = streamed(d.path(), Some((CompressAlgo::Gzip, 9)));
        assert_eq!(size, plain.len() as u64);
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, plain);
    }

    #[test]
    fn a_symlink_in_the_tree_fails_the_tar() {
        let d = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/etc/passwd", d.path().join("x")).unwrap();
        let e = write(d.path(), 0, Vec::new()).unwrap_err();
        assert!(format!("{e:#}").contains("neither a regular file"), "{e:#}");
    }

    #[test]
    fn long_paths_survive() {
        let d = tempfile::tempdir().unwrap();
        let deep = d.path().join("d".repeat(120));
        std::fs::create_dir(&deep).unwrap();
        std::fs::write(deep.join("f".repeat(120)), b"1").unwrap();
        let bytes = write(d.path(), 0, Vec::new()).unwrap();
        let out = tempfile::tempdir().unwrap();
        tar::Archive::new(&bytes[..]).unpack(out.path()).unwrap();
        assert_eq!(
            std::fs::read(out.path().join("d".repeat(120)).join("f".repeat(120))).unwrap(),
            b"1"
        );
    }
}
