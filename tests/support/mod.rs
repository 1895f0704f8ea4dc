//! Shared test machinery: the real `dbstash` binary, throwaway servers (one per test binary,
//! started on first use on a free loopback port in a temp dir, stopped at exit), fake tools.
//!
//! A missing tool fails the test with the install command when `CI` is set; outside CI the
//! test is skipped with a loud message on stderr.

#![allow(dead_code)]

pub mod faulty;
pub mod logs;
pub mod mariadb;
pub mod pg;
pub mod race;
pub mod receiver;
pub mod redis;
pub mod s3;
pub mod smtp;

use std::ffi::OsStr;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_dbstash");

/// `Some(path)` when `tool` is on PATH. When it is missing: panics under CI (naming the
/// install command), else warns loudly and returns `None` so the caller can return.
pub fn require(tool: &str, install: &str) -> Option<PathBuf> {
    if let Some(p) = which(tool) {
        return Some(p);
    }
    missing(&format!("`{tool}` is not on PATH"), install)
}

pub fn missing<T>(what: &str, install: &str) -> Option<T> {
    if std::env::var_os("CI").is_some() {
        panic!("{what}: install it with `{install}` (or run ./scripts/test.sh, which does)");
    }
    eprintln!("\n!!!!!! SKIPPED: {what}; install it with `{install}` (./scripts/test.sh does). Under CI=true this fails.\n");
    None
}

pub fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| {
            p.metadata()
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

/// A free port on 127.0.0.1 (the listener is dropped; a race is possible but rare).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on 127.0.0.1:{port} within 30s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ------------------------------------------------------------------ server lifecycle

struct Cleanup {
    pid: u32,
    signal: i32,
    dir: PathBuf,
}

static CLEANUPS: Mutex<Vec<Cleanup>> = Mutex::new(Vec::new());

extern "C" fn cleanup_at_exit() {
    let Ok(mut list) = CLEANUPS.lock() else {
        return;
    };
    for c in list.drain(..) {
        unsafe {
            libc::kill(c.pid as libc::pid_t, c.signal);
            let mut status = 0;
            libc::waitpid(c.pid as libc::pid_t, &mut status, 0);
        }
        let _ = std::fs::remove_dir_all(&c.dir);
    }
}

/// Spawn a long-lived server. It is started from a thread that never ends, because
/// `PR_SET_PDEATHSIG` fires when the *thread* that forked it exits (test threads end early);
/// the server therefore dies with the test process, and is stopped (`stop_signal`) and its
/// `dir` removed by an atexit hook when the test harness exits normally.
pub fn spawn_server(mut cmd: Command, dir: &Path, stop_signal: i32) -> u32 {
    static REGISTER: OnceLock<()> = OnceLock::new();
    REGISTER.get_or_init(|| unsafe {
        libc::atexit(cleanup_at_exit);
    });
    let (tx, rx) = std::sync::mpsc::channel();
    let dir = dir.to_path_buf();
    let dir2 = dir.clone();
    std::thread::spawn(move || {
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = cmd.spawn();
        match child {
            Ok(c) => {
                CLEANUPS.lock().unwrap().push(Cleanup {
                    pid: c.id(),
                    signal: stop_signal,
                    dir: dir2,
                });
                tx.send(Ok(c.id())).unwrap();
                // Keep this thread (and so the death signal) alive for the whole process.
                let _keep = c;
                loop {
                    std::thread::park();
                }
            }
            Err(e) => tx.send(Err(e)).unwrap(),
        }
    });
    rx.recv()
        .unwrap()
        .unwrap_or_else(|e| panic!("starting server in {}: {e}", dir.display()))
}

/// The uid/gid to run a database server as: `user` when we are root (PostgreSQL and MariaDB
/// refuse root), ourselves otherwise.
pub fn service_user(user: &str) -> Option<(u32, u32)> {
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.first() == Some(&user)).then(|| (f[2].parse().unwrap(), f[3].parse().unwrap()))
    })
}

pub fn run_as(cmd: &mut Command, user: Option<(u32, u32)>) -> &mut Command {
    if let Some((uid, gid)) = user {
        cmd.uid(uid).gid(gid);
    }
    cmd
}

pub fn chown_tree(dir: &Path, user: Option<(u32, u32)>) {
    if let Some((uid, gid)) = user {
        std::os::unix::fs::chown(dir, Some(uid), Some(gid)).unwrap();
    }
}

/// A temp dir that outlives the test function (for servers); removed at exit.
pub fn server_dir(prefix: &str) -> PathBuf {
    let d = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
    let p = d.path().to_path_buf();
    std::mem::forget(d);
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

// ------------------------------------------------------------------ running dbstash

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// `dbstash` with a clean environment (only PATH and HOME), so the host's variables never
/// leak into a test. `fake_bin` directories go in front of PATH.
pub struct Dbstash {
    cmd: Command,
    /// BACKUP_TEMP_DIR (and so the lock file) of this run alone: parallel tests must not
    /// see each other's locks.
    _work: tempfile::TempDir,
}

impl Dbstash {
    pub fn new() -> Dbstash {
        let work = tempfile::Builder::new()
            .prefix("dbstash-work-")
            .tempdir()
            .unwrap();
        let mut cmd = Command::new(BIN);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", std::env::temp_dir())
            .env("BACKUP_TEMP_DIR", work.path())
            .stdin(Stdio::null());
        Dbstash { cmd, _work: work }
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub fn env(mut self, k: &str, v: impl AsRef<OsStr>) -> Self {
        self.cmd.env(k, v);
        self
    }

    pub fn fake_bin(mut self, dir: &Path) -> Self {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![dir.to_path_buf()];
        dirs.extend(std::env::split_paths(&path));
        self.cmd.env("PATH", std::env::join_paths(dirs).unwrap());
        self
    }

    pub fn run(mut self) -> Output {
        let out = self.cmd.output().expect("run dbstash");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// [`Dbstash::run`] for a run that might hang: SIGKILLed after `limit`, then the test
    /// fails with what it printed. Also returns dbstash's own peak RSS (VmHWM, KiB; the
    /// children's memory, rclone's above all, is not counted).
    // Reaped by `waitpid`, which clippy cannot see.
    #[allow(clippy::zombie_processes)]
    pub fn run_within(mut self, limit: Duration) -> (Output, u64) {
        use std::io::Read as _;
        let mut child = self
            .cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run dbstash");
        let read = |mut r: Box<dyn std::io::Read + Send>| {
            std::thread::spawn(move || {
                let mut s = Vec::new();
                let _ = r.read_to_end(&mut s);
                String::from_utf8_lossy(&s).into_owned()
            })
        };
        let stdout = read(Box::new(child.stdout.take().unwrap()));
        let stderr = read(Box::new(child.stderr.take().unwrap()));
        let pid = child.id() as libc::pid_t;
        let deadline = Instant::now() + limit;
        let mut killed = false;
        // dbstash's own peak (VmHWM only grows while the process lives). wait4's ru_maxrss
        // would also count the children it reaped, such as rclone.
        let mut peak_kib = 0u64;
        let status = loop {
            if let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
                if let Some(kib) = text
                    .lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                {
                    peak_kib = peak_kib.max(kib);
                }
            }
            let mut status = 0;
            let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
            if r == pid {
                break status;
            }
            if !killed && Instant::now() > deadline {
                unsafe { libc::kill(pid, libc::SIGKILL) };
                killed = true;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let out = Output {
            code: if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                -1
            },
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
        };
        assert!(
            !killed,
            "dbstash did not exit within {limit:?}\n--- stderr\n{}",
            out.stderr
        );
        (out, peak_kib)
    }
}

/// The last component of a path, as a string.
pub fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// An rclone `:local:` remote string for `dir`.
pub fn local_remote(dir: &Path) -> String {
    format!(":local:{}", dir.display())
}

/// Write an executable script `name` into `dir`.
pub fn write_script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    let draft = dir.join(format!(".{name}.draft"));
    std::fs::write(&draft, format!("#!/bin/sh\n{body}\n")).unwrap();
    install_executable(&draft, &p, 0o755);
    std::fs::remove_file(&draft).unwrap();
    p
}

/// Copy `src` to the executable `dst` with `mode`, by a child process. A file this
/// process opened for writing can be held open by any child another test thread forks
/// at that moment (until that child execs), and running it then fails with ETXTBSY
/// ("Text file busy"); the child `install` opens no descriptor this process shares.
pub fn install_executable(src: &Path, dst: &Path, mode: u32) {
    let out = Command::new("install")
        .arg("-m")
        .arg(format!("{mode:o}"))
        .arg(src)
        .arg(dst)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "install {} {}: {}",
        src.display(),
        dst.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every file in a directory, hidden ones (staging uploads) included, sorted.
pub fn all_files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Names of the (non-hidden) files in a directory, sorted.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

pub fn sha256_hex(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// Assert `dir` holds exactly one backup (plus its .sha256) and that the sidecar is right.
pub fn single_backup(dir: &Path, ext: &str) -> PathBuf {
    let files = files_in(dir);
    let backups: Vec<&String> = files.iter().filter(|n| n.ends_with(ext)).collect();
    assert_eq!(backups.len(), 1, "one {ext} backup expected in {files:?}");
    let name = backups[0];
    assert!(
        files.contains(&format!("{name}.sha256")),
        "sidecar missing: {files:?}"
    );
    let sidecar = std::fs::read_to_string(dir.join(format!("{name}.sha256"))).unwrap();
    assert_eq!(
        sidecar,
        format!("{}  {name}\n", sha256_hex(&dir.join(name))),
        "sidecar content"
    );
    dir.join(name)
}

/// A unique, SQL-safe name for per-test objects.
pub fn unique(prefix: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    )
}

/// Put `tool` into `dir` as a wrapper that appends its arguments and whether `secret_env`
/// is set (never its value) to `dir/<tool>.log`, then execs `real`. Proves what dbstash
/// passed a real dump tool without changing what the tool does.
pub fn recording_wrapper(dir: &Path, tool: &str, real: &Path, secret_env: &str) -> PathBuf {
    let log = dir.join(format!("{tool}.log"));
    write_script(
        dir,
        tool,
        &format!(
            "printf '%s\\n' \"argv: $*\" \"{secret_env}: ${{{secret_env}:+set}}\" >> '{}'\nexec '{}' \"$@\"",
            log.display(),
            real.display()
        ),
    );
    log
}

/// A fake `rclone` in `dir` that keeps objects as files under `$FAKE_DIR/objects` (so size
/// checks and listings of a file work; `FAKE_TRUNCATE` stores only 5 bytes), and records its argv, leaked secret variables and the
/// `--config` file it was given (copy, mode, path). It keeps user metadata like S3 (the
/// backup_id tag of `RCLONE_METADATA_SET`, in `$FAKE_DIR/tags`; `FAKE_NO_META` turns that
/// off), lists names given with `--files-from-raw -`, and honours `RCLONE_IGNORE_EXISTING`.
pub fn fake_rclone(dir: &Path) {
    write_script(
        dir,
        "rclone",
        r#"echo "$@" >> "$FAKE_DIR/rclone.argv"
for v in RCLONE_CONFIG DB_URI DB_PASSWORD; do
  if [ -n "$(printenv $v)" ]; then echo "$v leaked" >> "$FAKE_DIR/rclone.env"; fi
done
prev=""; cmd=""; last=""; before_last=""; from=""
for a in "$@"; do
  if [ "$prev" = "--config" ]; then cp "$a" "$FAKE_DIR/config.copy"; stat -L -c %a "$a" > "$FAKE_DIR/config.mode"; readlink "$a" > "$FAKE_DIR/config.link"; fi
  if [ "$a" = "--files-from-raw" ]; then from=1; fi
  case "$a" in rcat|lsjson|deletefile|moveto|backend|cat) [ -z "$cmd" ] && cmd="$a" ;; esac
  prev="$a"; before_last="$last"; last="$a"
done
mkdir -p "$FAKE_DIR/objects" "$FAKE_DIR/tags"
key() { printf '%s' "$1" | tr '/' '|'; }
obj="$FAKE_DIR/objects/$(key "$last")"
tag="$FAKE_DIR/tags/$(key "$last")"
item() { # item NAME OBJECT TAGFILE
  meta=""
  if [ -f "$3" ]; then meta=",\"Metadata\":{\"dbstash-backup-id\":\"$(cat "$3")\"}"; fi
  printf '{"Path":"%s","Name":"%s","Size":%s,"ModTime":"2026-01-01T00:00:00Z","IsDir":false%s}' "$1" "$1" "$(wc -c < "$2")" "$meta"
}
case "$cmd" in
  backend) if [ -n "${FAKE_MOVE-}" ]; then m=true; else m=false; fi
    if [ -n "${FAKE_NO_META-}" ]; then u=false; else u=true; fi
    echo "{\"Name\":\"fake\",\"Features\":{\"Move\":$m,\"UserMetadata\":$u,\"ReadMetadata\":$u,\"WriteMetadata\":$u}}" ;;
  moveto)
    src="$(key "$before_last")"
    if [ -n "${RCLONE_IGNORE_EXISTING-}" ] && [ -f "$obj" ]; then exit 0; fi
    cat "$FAKE_DIR/objects/$src" > "$obj"; rm "$FAKE_DIR/objects/$src"; rm -f "$tag"
    if [ -f "$FAKE_DIR/tags/$src" ]; then cat "$FAKE_DIR/tags/$src" > "$tag"; rm "$FAKE_DIR/tags/$src"; fi ;;
  lsjson)
    if [ -n "$from" ]; then
      sep=""; printf '['
      while IFS= read -r n; do
        o="$FAKE_DIR/objects/$(key "$last/$n")"
        if [ -n "$n" ] && [ -f "$o" ]; then printf '%s' "$sep"; item "$n" "$o" "$FAKE_DIR/tags/$(key "$last/$n")"; sep=","; fi
      done
      echo ']'
    elif [ -f "$obj" ]; then
      printf '['; item "${last##*/}" "$obj" "$tag"; echo ']'
    else # a folder: the objects directly in it
      prefix="$(key "$last")|"; sep=""; printf '['
      for o in "$FAKE_DIR/objects/"*; do
        b="${o##*/}"
        case "$b" in "$prefix"*) n="${b#"$prefix"}" ;; *) continue ;; esac
        case "$n" in *'|'*) continue ;; esac
        printf '%s' "$sep"; item "$n" "$o" "$FAKE_DIR/tags/$b"; sep=","
      done
      echo ']'
    fi ;;
  rcat) # Like an object store: the object appears when the input ends.
    mkdir -p "$FAKE_DIR/uploads"; up="$FAKE_DIR/uploads/$$"
    if [ -n "${FAKE_TRUNCATE-}" ]; then head -c 5 > "$up"; cat > /dev/null; else cat > "$up"; fi
    cat "$up" > "$obj"; rm -f "$up" "$tag"
    if [ -z "${FAKE_NO_META-}" ] && [ -n "${RCLONE_METADATA_SET-}" ]; then printf '%s' "${RCLONE_METADATA_SET#dbstash-backup-id=}" > "$tag"; fi ;;
  cat) if [ -f "$obj" ]; then cat "$obj"; else exit 3; fi ;;
  deletefile) if [ -f "$obj" ]; then rm "$obj"; rm -f "$tag"; else exit 4; fi ;;
esac"#,
    );
}

/// The object a fake rclone stored under `target`.
pub fn fake_object(fake_dir: &Path, target: &str) -> Option<Vec<u8>> {
    std::fs::read(fake_dir.join("objects").join(target.replace('/', "|"))).ok()
}

/// A directory holding only symlinks to the named tools, for a PATH without everything else.
pub fn tools_dir(dir: &Path, tools: &[&str]) -> PathBuf {
    let d = dir.join("tools");
    std::fs::create_dir_all(&d).unwrap();
    for t in tools {
        let real = which(t).unwrap_or_else(|| panic!("{t} not on PATH"));
        std::os::unix::fs::symlink(real, d.join(t)).unwrap();
    }
    d
}

/// The real binary behind `tool`: a pyenv shim (a script needing bash and pyenv on PATH) is
/// resolved to what it runs, so a test can give dbstash a PATH holding only that binary.
pub fn real_binary(tool: &str) -> Option<PathBuf> {
    let p = which(tool)?;
    let head = std::fs::read(&p).ok()?;
    if !head.starts_with(b"#!") {
        return Some(p);
    }
    let out = Command::new("pyenv").args(["which", tool]).output().ok()?;
    let real = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    (out.status.success() && real.is_file()).then_some(real)
}

/// A loopback port that accepts connections and never answers (a hung server, a proxy to
/// nowhere). The connections are held for the life of the test binary.
pub fn black_hole() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    port
}

/// A loopback port with nothing listening (connections are refused).
pub fn closed_port() -> u16 {
    free_port()
}

/// `GET path` on 127.0.0.1:port: the status code and the body.
pub fn http_get(port: u16, path: &str) -> (u16, String) {
    use std::io::{Read as _, Write as _};
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Poll `f` every 50 ms until it holds; panics after `secs`.
pub fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ------------------------------------------------------------ processes dbstash left behind

/// Live processes (zombies excluded) whose command line contains `needle`, as `pid: argv`.
pub fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()) {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        // The state follows the parenthesised command name, which may hold spaces.
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next());
        if matches!(state, None | Some("Z" | "X")) {
            continue;
        }
        let argv = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let argv = String::from_utf8_lossy(&argv).replace('\0', " ");
        if argv.contains(needle) {
            found.push(format!("{pid}: {}", argv.trim_end()));
        }
    }
    found
}

/// Wait until no live process mentions `needle`; panics after `secs`, naming what is left.
pub fn assert_no_process_left(needle: &str, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let left = processes_mentioning(needle);
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still running {secs} s after dbstash died:\n  {}",
            left.join("\n  ")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A dbstash started in the background (stdout and stderr piped).
pub struct Running {
    pub child: std::process::Child,
    _work: tempfile::TempDir,
}

impl Dbstash {
    /// Start dbstash without waiting for it.
    pub fn spawn(mut self) -> Running {
        let child = self
            .cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dbstash");
        Running {
            child,
            _work: self._work,
        }
    }
}

impl Running {
    /// SIGKILL dbstash (no handler runs) and reap it; its stderr until then.
    pub fn sigkill(mut self) -> String {
        self.child.kill().unwrap();
        let out = self.child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Wait for dbstash to exit on its own: its exit code and stderr.
    pub fn finish(self) -> (i32, String) {
        let out = self.child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}
