//! A throwaway PostgreSQL: initdb into a temp dir, password auth over TCP on a free
//! loopback port (so PGPASSWORD handling is exercised for real).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::*;

pub const USER: &str = "postgres";
pub const PASSWORD: &str = "pg-Secret-73";
pub const INSTALL: &str = "apt-get install -y postgresql";

pub struct Pg {
    pub port: u16,
    pub bin: PathBuf,
    pub dir: PathBuf,
}

/// The newest `/usr/lib/postgresql/<v>/bin` holding initdb (Debian's layout).
pub fn bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, b)| b)
}

/// The test binary's shared server, started on first use.
pub fn server() -> Option<&'static Pg> {
    static PG: OnceLock<Option<Pg>> = OnceLock::new();
    PG.get_or_init(start).as_ref()
}

/// A new server of its own (for tests that need an empty cluster).
pub fn start() -> Option<Pg> {
    let Some(bin) = bin_dir() else {
        return missing(
            "PostgreSQL server binaries (initdb) not found under /usr/lib/postgresql",
            INSTALL,
        );
    };
    let dir = server_dir("dbstash-pg-");
    let user = service_user("postgres");
    chown_tree(&dir, user);
    let pwfile = dir.join("pwfile");
    std::fs::write(&pwfile, PASSWORD).unwrap();
    chown_tree(&pwfile, user);
    let data = dir.join("data");
    let out = run_as(&mut Command::new(bin.join("initdb")), user)
        .args([
            "-U",
            USER,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--no-sync",
            "--pwfile",
        ])
        .arg(&pwfile)
        .arg("-D")
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let port = free_port();
    let log = std::fs::File::create(dir.join("log")).unwrap();
    let mut cmd = Command::new(bin.join("postgres"));
    run_as(&mut cmd, user)
        .arg("-D")
        .arg(&data)
        .args(["-p", &port.to_string(), "-k"])
        .arg(&dir)
        .args([
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    spawn_server(cmd, &dir, libc::SIGQUIT);
    let pg = Pg { port, bin, dir };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !pg.try_psql("postgres", "select 1").is_ok_and(|s| s == "1") {
        assert!(
            Instant::now() < deadline,
            "PostgreSQL did not start: {}",
            std::fs::read_to_string(pg.dir.join("log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(pg)
}

impl Pg {
    pub fn client(&self, program: &str) -> Command {
        let mut c = Command::new(self.bin.join(program));
        c.env("PGPASSWORD", PASSWORD).args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            USER,
        ]);
        c
    }

    pub fn try_psql(&self, db: &str, sql: &str) -> Result<String, String> {
        let out = self
            .client("psql")
            .args([
                "-X",
                "-q",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                db,
                "-c",
                sql,
            ])
            .output()
            .unwrap();
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    pub fn psql(&self, db: &str, sql: &str) -> String {
        self.try_psql(db, sql)
            .unwrap_or_else(|e| panic!("psql {sql}: {e}"))
    }

    pub fn create_db(&self, name: &str) {
        self.psql("postgres", &format!("create database {name}"));
    }

    /// A database with two tables of known content.
    pub fn seeded_db(&self, prefix: &str) -> String {
        let db = unique(prefix);
        self.create_db(&db);
        self.psql(
            &db,
            "create table customers(id int primary key, name text, note text);
             insert into customers select g, 'name ' || g, repeat(md5(g::text), 3) from generate_series(1, 2000) g;
             insert into customers values (2001, 'quote''s and ünïcode', E'tab\\there');
             create table orders(id serial primary key, customer int references customers, total numeric(10,2));
             insert into orders(customer, total) select (g % 2000) + 1, g * 1.25 from generate_series(1, 500) g;",
        );
        db
    }

    /// Table contents in a comparable form.
    pub fn contents(&self, db: &str) -> String {
        let c = self.psql(db, "select string_agg(format('%s|%s|%s', id, name, note), E'\\n' order by id) from customers");
        let o = self.psql(db, "select string_agg(format('%s|%s|%s', id, customer, total), E'\\n' order by id) from orders");
        format!("{c}\n--\n{o}")
    }

    /// Load a plain SQL dump into `db` with psql.
    pub fn restore_sql(&self, db: &str, file: &Path) {
        let out = self
            .client("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-f"])
            .arg(file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "psql restore: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Load a custom-format dump into `db` with pg_restore.
    pub fn restore_custom(&self, db: &str, file: &Path) {
        let out = self
            .client("pg_restore")
            .args(["--exit-on-error", "--no-owner", "-d", db])
            .arg(file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_restore: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn uri(&self, db: &str) -> String {
        format!(
            "postgresql://{USER}:{PASSWORD}@127.0.0.1:{}/{db}",
            self.port
        )
    }

    /// dbstash with this server's client tools first on PATH.
    pub fn dbstash(&self) -> Dbstash {
        Dbstash::new().fake_bin(&self.bin)
    }
}
