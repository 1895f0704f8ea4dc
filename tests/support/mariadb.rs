//! A throwaway MariaDB: `mariadb-install-db` into a temp dir, then `mariadbd` on a free
//! loopback port with a root password, so logins over TCP (and `MYSQL_PWD` handling) are
//! exercised for real.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::*;

pub const USER: &str = "root";
pub const PASSWORD: &str = "Maria-Secret-42";
pub const INSTALL: &str = "apt-get install -y mariadb-server mariadb-client";

/// Small InnoDB files and no durability: the data dir is created in about a second and
/// thrown away at exit.
const SERVER_OPTIONS: [&str; 5] = [
    "--innodb-log-file-size=8M",
    "--innodb-buffer-pool-size=64M",
    "--innodb-flush-log-at-trx-commit=0",
    "--innodb-doublewrite=0",
    "--skip-name-resolve",
];

pub struct Maria {
    pub port: u16,
    pub dir: PathBuf,
}

/// `mariadbd` lives in /usr/sbin, which is not on every user's PATH.
fn server_bin() -> Option<PathBuf> {
    which("mariadbd").or_else(|| {
        ["/usr/sbin/mariadbd", "/usr/libexec/mariadbd"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
    })
}

/// The test binary's shared server, started on first use.
pub fn server() -> Option<&'static Maria> {
    static M: OnceLock<Option<Maria>> = OnceLock::new();
    M.get_or_init(start).as_ref()
}

/// A new server of its own (for tests that need a server nobody else writes to).
pub fn start() -> Option<Maria> {
    let Some(mariadbd) = server_bin() else {
        return missing("`mariadbd` is not on PATH nor in /usr/sbin", INSTALL);
    };
    let install_db = require("mariadb-install-db", INSTALL)?;
    require("mariadb", INSTALL)?;

    let dir = server_dir("dbstash-mariadb-");
    let user = service_user("mysql");
    chown_tree(&dir, user);
    let data = dir.join("data");
    // A private tmpdir: concurrent bootstraps sharing /tmp trip over each other's temporary
    // tables ("File '/tmp/#sql-temptable-….MAD' not found") about one time in ten.
    let tmp = dir.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    chown_tree(&tmp, user);
    let tmpdir = format!("--tmpdir={}", tmp.display());
    let out = run_as(&mut Command::new(install_db), user)
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg(&tmpdir)
        .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
        .args(SERVER_OPTIONS)
        .output()
        .unwrap();
    if !out.status.success() {
        // No server yet, so no cleanup at exit: remove the directory here.
        let _ = std::fs::remove_dir_all(&dir);
        panic!(
            "mariadb-install-db failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let port = free_port();
    let log = File::create(dir.join("server.log")).unwrap();
    chown_tree(&dir.join("server.log"), user);
    let mut cmd = Command::new(mariadbd);
    run_as(&mut cmd, user)
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg(&tmpdir)
        .arg(format!("--socket={}", dir.join("s.sock").display()))
        .arg(format!("--port={port}"))
        .arg("--bind-address=127.0.0.1")
        .arg(format!("--pid-file={}", dir.join("pid").display()))
        .arg(format!("--log-error={}", dir.join("server.log").display()))
        .args(SERVER_OPTIONS)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    spawn_server(cmd, &dir, libc::SIGTERM);
    let m = Maria { port, dir };

    // Root starts with an empty password, reachable over the socket only as root@localhost.
    let deadline = Instant::now() + Duration::from_secs(60);
    while m.socket_sql("select 1").is_err() {
        assert!(
            Instant::now() < deadline,
            "MariaDB did not start: {}",
            std::fs::read_to_string(m.dir.join("server.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // With --skip-name-resolve a TCP login from 127.0.0.1 matches root@127.0.0.1, not
    // root@localhost: give every root account the password (and make sure that one exists).
    m.socket_sql(&format!(
        "ALTER USER IF EXISTS root@'::1' IDENTIFIED BY '{PASSWORD}';
         CREATE USER IF NOT EXISTS root@'127.0.0.1' IDENTIFIED BY '{PASSWORD}';
         ALTER USER root@'127.0.0.1' IDENTIFIED BY '{PASSWORD}';
         GRANT ALL PRIVILEGES ON *.* TO root@'127.0.0.1' WITH GRANT OPTION;
         ALTER USER root@localhost IDENTIFIED BY '{PASSWORD}';"
    ))
    .unwrap_or_else(|e| panic!("setting the root password: {e}"));
    assert_eq!(m.sql("", "select current_user()"), "root@127.0.0.1");
    Some(m)
}

fn stdout_or_stderr(out: std::process::Output) -> Result<String, String> {
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

impl Maria {
    /// Before the password is set: root over the Unix socket.
    fn socket_sql(&self, sql: &str) -> Result<String, String> {
        let out = Command::new("mariadb")
            .arg("--no-defaults")
            .arg(format!("--socket={}", self.dir.join("s.sock").display()))
            .args(["-u", USER, "-N", "-B", "-e", sql])
            .output()
            .unwrap();
        stdout_or_stderr(out)
    }

    /// The `mariadb` client over TCP as root, the password in `MYSQL_PWD` (never argv).
    pub fn client(&self) -> Command {
        let mut c = Command::new("mariadb");
        c.env("MYSQL_PWD", PASSWORD)
            .arg("--no-defaults")
            .args(["--protocol=TCP", "-h", "127.0.0.1", "-P"])
            .arg(self.port.to_string())
            .args(["-u", USER, "--default-character-set=utf8mb4"]);
        c
    }

    /// Run `sql` in `db` ("" for none); batch output without column names.
    pub fn try_sql(&self, db: &str, sql: &str) -> Result<String, String> {
        let mut c = self.client();
        c.args(["-N", "-B", "-e", sql]);
        if !db.is_empty() {
            c.arg(db);
        }
        stdout_or_stderr(c.output().unwrap())
    }

    pub fn sql(&self, db: &str, sql: &str) -> String {
        self.try_sql(db, sql)
            .unwrap_or_else(|e| panic!("mariadb {sql}: {e}"))
    }

    pub fn create_db(&self, name: &str) {
        self.sql(
            "",
            &format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"),
        );
    }

    /// A database with two tables of known content: NULLs, quotes, backslashes, tabs,
    /// newlines, 4-byte UTF-8, binary bytes, a foreign key and an AUTO_INCREMENT counter.
    pub fn seeded_db(&self, prefix: &str) -> String {
        let db = unique(prefix);
        self.create_db(&db);
        self.sql(
            &db,
            r#"CREATE TABLE customers(
                 id INT PRIMARY KEY, name VARCHAR(100), note TEXT, born DATE NULL, raw VARBINARY(16)
               ) ENGINE=InnoDB;
               INSERT INTO customers SELECT seq, CONCAT('name ', seq), REPEAT(MD5(seq), 3), NULL, NULL
                 FROM seq_1_to_2000;
               INSERT INTO customers VALUES
                 (2001, 'quote''s and ünïcode ✓ 🐘', 'tab\there\nnew line, back\\slash', '1999-12-31', X'00FF0A27'),
                 (2002, NULL, '"double" quotes; -- not a comment', NULL, X''),
                 (2003, '', 'NULL', '2024-02-29', NULL);
               CREATE TABLE orders(
                 id INT AUTO_INCREMENT PRIMARY KEY,
                 customer INT NOT NULL,
                 total DECIMAL(10,2),
                 FOREIGN KEY (customer) REFERENCES customers(id)
               ) ENGINE=InnoDB;
               INSERT INTO orders(customer, total) SELECT (seq % 2000) + 1, seq * 1.25 FROM seq_1_to_500;"#,
        );
        db
    }

    /// Table list, definitions and contents in a comparable form (QUOTE keeps NULL apart
    /// from the string 'NULL').
    pub fn contents(&self, db: &str) -> String {
        let tables = self.sql(db, "SHOW TABLES");
        let schema: Vec<String> = ["customers", "orders"]
            .iter()
            .map(|t| self.sql(db, &format!("SHOW CREATE TABLE {t}")))
            .collect();
        let c = self.sql(
            db,
            "SELECT id, QUOTE(name), QUOTE(note), QUOTE(born), HEX(raw)
             FROM customers ORDER BY id",
        );
        let o = self.sql(db, "SELECT id, customer, total FROM orders ORDER BY id");
        format!("{tables}\n--\n{}\n--\n{c}\n--\n{o}", schema.join("\n"))
    }

    /// Load a SQL dump into `db` ("" for a dump that names its own databases).
    pub fn restore(&self, db: &str, file: &Path) {
        let mut c = self.client();
        if !db.is_empty() {
            c.arg(db);
        }
        let out = c.stdin(File::open(file).unwrap()).output().unwrap();
        assert!(
            out.status.success(),
            "mariadb restore of {}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn uri(&self, db: &str) -> String {
        format!("mysql://{USER}:{PASSWORD}@127.0.0.1:{}/{db}", self.port)
    }

    /// dbstash; the client tools (mariadb-dump, mysqldump) are on PATH already.
    pub fn dbstash(&self) -> Dbstash {
        Dbstash::new()
    }
}
