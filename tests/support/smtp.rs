//! A real SMTP server for the email tests: PyPI's aiosmtpd, run by `smtp_sink.py` beside this
//! file on a free loopback port, writing each message it receives into a temp dir.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, missing, server_dir, spawn_server, wait_for_port};

pub const INSTALL: &str = "pip install aiosmtpd";

pub struct SmtpSink {
    pub port: u16,
    dir: PathBuf,
}

/// One received message: the raw RFC 5322 text and its envelope.
#[derive(Debug)]
pub struct Mail {
    pub raw: String,
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// The login it authenticated with, if any.
    pub login: Option<String>,
}

impl Mail {
    /// The value of a header (unfolded), by name.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.raw.split("\r\n\r\n").next().unwrap_or("");
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.split("\r\n").find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    /// The body, decoded when it is quoted-printable (lettre's choice for long lines).
    pub fn body(&self) -> String {
        let raw = self
            .raw
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.replace("\r\n", "\n"))
            .unwrap_or_default();
        let qp = self
            .header("content-transfer-encoding")
            .is_some_and(|e| e.eq_ignore_ascii_case("quoted-printable"));
        if qp {
            quoted_printable(&raw)
        } else {
            raw
        }
    }
}

impl SmtpSink {
    /// A new server, or `None` (after a loud message) when aiosmtpd is missing outside CI.
    /// `auth`: offer AUTH (without TLS) and accept only this user and password.
    pub fn start(auth: Option<(&str, &str)>) -> Option<SmtpSink> {
        let importable = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !importable {
            return missing(
                "the Python module aiosmtpd (`python3 -c 'import aiosmtpd'` failed)",
                INSTALL,
            );
        }
        let dir = server_dir("dbstash-smtp-");
        let mail = dir.join("mail");
        std::fs::create_dir(&mail).unwrap();
        let port = free_port();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_sink.py");
        let log = std::fs::File::create(dir.join("server.log")).unwrap();
        let mut cmd = Command::new("python3");
        cmd.arg(script)
            .arg("--port")
            .arg(port.to_string())
            .arg("--dir")
            .arg(&mail)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        if let Some((user, password)) = auth {
            cmd.arg("--auth").arg(format!("{user}:{password}"));
        }
        spawn_server(cmd, &dir, libc::SIGTERM);
        wait_for_port(port, "aiosmtpd");
        Some(SmtpSink { port, dir: mail })
    }

    /// Every message received so far, in order.
    pub fn messages(&self) -> Vec<Mail> {
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|n| {
                let stem = n.trim_end_matches(".json");
                let meta: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(self.dir.join(n)).unwrap()).unwrap();
                Mail {
                    raw: std::fs::read_to_string(self.dir.join(format!("{stem}.eml"))).unwrap(),
                    mail_from: meta["mail_from"].as_str().unwrap().to_string(),
                    rcpt_tos: meta["rcpt_tos"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap().to_string())
                        .collect(),
                    login: meta["login"].as_str().map(str::to_string),
                }
            })
            .collect()
    }

    /// The messages, once there are at least `n` (or after `within`, whatever came).
    pub fn wait_for(&self, n: usize, within: Duration) -> Vec<Mail> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.messages();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// RFC 2045 quoted-printable: `=\n` joins lines, `=XX` is a byte.
fn quoted_printable(text: &str) -> String {
    let bytes = text.replace("=\n", "").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&String::from_utf8_lossy(&bytes[i + 1..i + 3]), 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
