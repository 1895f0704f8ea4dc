//! Helpers for races: start several `dbstash` runs at once, and check what they left.

use std::path::Path;

use super::*;

/// Wait for a run started with [`Dbstash::spawn`]: its exit code and stderr.
pub fn wait(run: Running) -> Output {
    let (code, stderr) = run.finish();
    Output {
        code,
        stdout: String::new(),
        stderr,
    }
}

/// The SHA-256 a successful run reported (`backup succeeded … sha256=HEX`).
pub fn reported_sha256(out: &Output) -> Option<String> {
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains("backup succeeded"))?;
    let at = line.find("sha256=")? + "sha256=".len();
    let hex: String = line[at..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    (hex.len() == 64).then_some(hex)
}

/// A fake `pg_dump` printing `size` random bytes (so two runs' dumps have the same size but
/// different content), after `delay` seconds.
pub fn random_dump(dir: &Path, size: usize, delay: &str) {
    write_script(
        dir,
        "pg_dump",
        &format!("sleep {delay}\nhead -c {size} /dev/urandom"),
    );
}

/// A fake `pg_dump` that writes `dir/started`, waits until `dir/go` exists, then prints
/// `size` random bytes and exits with `code`: the test decides what happens meanwhile.
pub fn gated_dump(dir: &Path, size: usize, code: i32) {
    let d = dir.display();
    write_script(
        dir,
        "pg_dump",
        &format!(
            "touch '{d}/started'\nwhile [ ! -f '{d}/go' ]; do sleep 0.02; done\nhead -c {size} /dev/urandom\nexit {code}"
        ),
    );
}

/// A WebDAV remote (`rclone serve webdav`, no login), one per test binary: a renaming
/// backend that keeps no user metadata and whole-second modification times.
pub struct WebDav {
    pub port: u16,
    pub dir: std::path::PathBuf,
}

pub fn webdav() -> Option<&'static WebDav> {
    static W: std::sync::OnceLock<Option<WebDav>> = std::sync::OnceLock::new();
    W.get_or_init(|| {
        let rclone = require("rclone", s3::INSTALL)?;
        let dir = server_dir("dbstash-webdav-");
        let port = free_port();
        let mut cmd = Command::new(rclone);
        cmd.args(["--config", "", "serve", "webdav", "--addr"])
            .arg(format!("127.0.0.1:{port}"))
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        spawn_server(cmd, &dir, libc::SIGTERM);
        wait_for_port(port, "rclone serve webdav");
        Some(WebDav { port, dir })
    })
    .as_ref()
}

impl WebDav {
    /// A fresh folder: its remote string and the directory the server keeps it in.
    pub fn folder(&self, prefix: &str) -> (String, std::path::PathBuf) {
        let name = unique(prefix);
        let dir = self.dir.join(&name);
        std::fs::create_dir(&dir).unwrap();
        (
            format!(
                ":webdav,url='http://127.0.0.1:{}',vendor=rclone:{name}",
                self.port
            ),
            dir,
        )
    }
}
