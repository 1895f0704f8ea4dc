//! `dbstash check`: the preflight, step by step, without taking a backup. The daemon runs the
//! same steps at start ([`preflight`]).
//!
//! Steps: the configuration (already validated when we get here: a bad one exits 2 before),
//! the dump tool and its version, rclone and its version, a listing of the remote, and a
//! login to the database with exactly the dump's connection ([`Engine::check_command`]).
//! They are independent and run concurrently, each bounded in time, and every one is
//! reported even when another fails. Nothing printed holds a secret.
//!
//! [`Engine::check_command`]: crate::engine::Engine::check_command

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use secrecy::ExposeSecret;
use tokio::process::Command;

use crate::config::{Config, Schedule};
use crate::engine::{DumpCommand, EngineKind};
use crate::process;
use crate::rclone::{self, Rclone};

/// How long the database login may take (a firewall that drops packets makes connections
/// hang until the client gives up, which can take minutes).
const LOGIN_LIMIT: Duration = Duration::from_secs(30);

/// How long `TOOL --version` may take.
const VERSION_LIMIT: Duration = Duration::from_secs(10);

/// One step's result: what was found (`Ok`) or why it failed (`Err`).
#[derive(Debug, Clone)]
pub struct Step {
    pub name: &'static str,
    pub result: Result<String, String>,
}

/// Every step, in a fixed order; they run concurrently.
pub async fn steps(cfg: &Config) -> Vec<Step> {
    let (tool, rclone, remote, database, databases) = tokio::join!(
        dump_tool(cfg),
        rclone_version(),
        remote(cfg),
        database(cfg),
        databases(cfg)
    );
    let mut steps = vec![
        Step {
            name: "config",
            result: Ok(summary(cfg)),
        },
        Step {
            name: "dump tool",
            result: tool,
        },
        Step {
            name: "rclone",
            result: rclone,
        },
        Step {
            name: "remote",
            result: remote,
        },
        Step {
            name: "database",
            result: database,
        },
    ];
    if let Some(result) = databases {
        steps.push(Step {
            name: "databases",
            result,
        });
    }
    // The last line of defence: no registered secret leaves in a step's text.
    for s in &mut steps {
        s.result = match &s.result {
            Ok(t) => Ok(crate::redact::redact(t)),
            Err(t) => Err(crate::redact::redact(t)),
        };
    }
    steps
}

/// `dbstash check`: one line per step on stdout, then the verdict. Exit 0 when every step
/// passed, 1 otherwise.
pub async fn run(cfg: &Config) -> ExitCode {
    let steps = steps(cfg).await;
    print!("{}", render(&steps));
    if steps.iter().all(|s| s.result.is_ok()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::EXIT_BACKUP_FAILED)
    }
}

/// The daemon's start-up check: the same steps, printing nothing. `Err` lists each failed
/// step as `step: reason`, one per line.
pub async fn preflight(cfg: &Config) -> Result<(), String> {
    let failed: Vec<String> = steps(cfg)
        .await
        .into_iter()
        .filter_map(|s| s.result.err().map(|e| format!("{}: {e}", s.name)))
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("\n"))
    }
}

/// BACKUP_SPLIT_DATABASES: the databases a run would back up now (listed with the dump's
/// connection), and those it skips. `None` for other configurations.
async fn databases(cfg: &Config) -> Option<Result<String, String>> {
    cfg.split.as_ref()?;
    let listed = tokio::time::timeout(LOGIN_LIMIT, crate::backup::split_selection(cfg)).await;
    Some(match listed {
        Err(_) => Err(format!(
            "no answer within {} (stopped it): is the database host reachable?",
            crate::backup::fmt_human(LOGIN_LIMIT)
        )),
        Ok(Err(e)) => Err(format!("{e:#}")),
        Ok(Ok(s)) => {
            let mut text = format!(
                "{} to back up: {}",
                s.databases.len(),
                s.databases.join(", ")
            );
            if cfg.engine == EngineKind::Pg {
                text.push_str(", and the globals");
            }
            if !s.system.is_empty() {
                let _ = write!(text, "; system databases skipped: {}", s.system.join(", "));
            }
            if !s.excluded.is_empty() {
                let _ = write!(text, "; excluded: {}", s.excluded.join(", "));
            }
            if !s.unknown_excluded.is_empty() {
                let _ = write!(
                    text,
                    "; BACKUP_EXCLUDE_DATABASES names {}, which the server does not list",
                    s.unknown_excluded.join(", ")
                );
            }
            Ok(text)
        }
    })
}

/// `name  ok    detail` or `name  FAIL  reason`, continuation lines indented under the text,
/// and a last line with the verdict.
pub fn render(steps: &[Step]) -> String {
    const INDENT: &str = "                 ";
    let mut out = String::new();
    for s in steps {
        let (mark, text) = match &s.result {
            Ok(t) => ("ok", t),
            Err(t) => ("FAIL", t),
        };
        let mut lines = text.lines();
        let _ = writeln!(
            out,
            "{:<11}{mark:<6}{}",
            s.name,
            lines.next().unwrap_or_default()
        );
        for l in lines {
            let _ = writeln!(out, "{INDENT}{}", l.trim_start());
        }
    }
    let failed: Vec<&str> = steps
        .iter()
        .filter(|s| s.result.is_err())
        .map(|s| s.name)
        .collect();
    if failed.is_empty() {
        out.push_str("check passed\n");
    } else {
        let _ = writeln!(out, "check failed: {}", failed.join(", "));
    }
    out
}

/// The resolved configuration in one line, secrets left out.
fn summary(cfg: &Config) -> String {
    let c = &cfg.conn;
    let what = match &c.database {
        Some(db) => format!("database {db}"),
        None => "all databases".to_string(),
    };
    let at = match &c.uri {
        Some(u) => u.to_string(),
        None => {
            let user = c
                .user
                .as_deref()
                .map_or(String::new(), |u| format!(" as {u}"));
            format!("{}:{}{user}", c.host.as_deref().unwrap_or_default(), c.port)
        }
    };
    let password = if c.password.is_some() {
        "password set"
    } else {
        "no password"
    };
    let schedule = match &cfg.schedule {
        Schedule::Once => "once".to_string(),
        Schedule::Cron { expr, .. } => format!("'{expr}' ({})", cfg.tz.name()),
    };
    let mut s = format!(
        "{}: {what} at {at} ({password}); remote {}; schedule {schedule}",
        cfg.engine.key(),
        rclone::describe_remote(&cfg.remote)
    );
    match cfg.warnings.len() {
        0 => {}
        1 => s.push_str("; 1 warning (logged above)"),
        n => {
            let _ = write!(s, "; {n} warnings (logged above)");
        }
    }
    s
}

/// Where `program` is on PATH.
fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| {
            use std::os::unix::fs::PermissionsExt as _;
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// The package that brings an engine's client tools.
fn install_hint(kind: EngineKind) -> &'static str {
    match kind {
        EngineKind::Pg => "the PostgreSQL client, e.g. postgresql-client",
        EngineKind::Mysql => "the MySQL client, e.g. mysql-client (or default-mysql-client)",
        EngineKind::Mariadb => "the MariaDB client, e.g. mariadb-client",
        EngineKind::Redis => "redis-tools (redis-cli)",
        EngineKind::Mongo => "the MongoDB Database Tools (mongodb-database-tools)",
    }
}

/// The program to run for `cmd`: its own, or the fallback when it is missing (as the dump
/// does: mariadb-dump → mysqldump).
fn resolve(kind: EngineKind, cmd: &DumpCommand) -> Result<(String, PathBuf), String> {
    if let Some(p) = which(&cmd.program) {
        return Ok((cmd.program.clone(), p));
    }
    if let Some(f) = &cmd.fallback {
        if let Some(p) = which(f) {
            return Ok((f.clone(), p));
        }
        return Err(format!(
            "neither {} nor {f} is on PATH: install {}",
            cmd.program,
            install_hint(kind)
        ));
    }
    Err(format!(
        "{} is not on PATH: install {}",
        cmd.program,
        install_hint(kind)
    ))
}

/// `TOOL --version` of the dump tool the backup will run.
async fn dump_tool(cfg: &Config) -> Result<String, String> {
    let dump = cfg.engine().dump_command(cfg);
    let (program, path) = resolve(cfg.engine, &dump)?;
    let mut cmd = process::command(&program);
    cmd.arg("--version");
    let out = bounded(
        VERSION_LIMIT,
        process::run(cmd, &program, None),
        &format!("{program} --version"),
    )
    .await?;
    let version = first_line(&out);
    let mut s = format!("{version} ({})", path.display());
    if program != dump.program {
        let _ = write!(
            s,
            "; {} is not on PATH: the backup uses {program}",
            dump.program
        );
    }
    Ok(s)
}

async fn rclone_version() -> Result<String, String> {
    let v = Rclone::version().await.map_err(|e| format!("{e:#}"))?;
    Ok(match which("rclone") {
        Some(p) => format!("{v} ({})", p.display()),
        None => v,
    })
}

/// A listing of RCLONE_REMOTE, with the backup's own (bounded) rclone call.
async fn remote(cfg: &Config) -> Result<String, String> {
    let shown = rclone::describe_remote(&cfg.remote);
    let r = Rclone::new(cfg).map_err(|e| format!("{e:#}"))?;
    match r.probe(&cfg.remote).await {
        Ok(None) => Ok(format!("{shown}: empty (created on first backup)")),
        Ok(Some(0)) => Ok(format!("{shown}: empty")),
        Ok(Some(1)) => Ok(format!("{shown}: 1 file")),
        Ok(Some(n)) => Ok(format!("{shown}: {n} files")),
        Err(e) => Err(format!("listing {shown} failed: {e:#}")),
    }
}

/// A login with the dump's own connection: the engine's check command, with the same
/// environment and secret file the dump gets.
async fn database(cfg: &Config) -> Result<String, String> {
    let engine = cfg.engine();
    let check = engine.check_command(cfg);
    let (program, _) = resolve(cfg.engine, &check)?;
    let secret_file = match &check.secret_file {
        Some(sf) => {
            Some(process::secret_file(sf.content.expose_secret()).map_err(|e| format!("{e:#}"))?)
        }
        None => None,
    };
    let cmd = process::tool_command(&check, &program, secret_file.as_ref());
    let (status, stdout, stderr) = match tokio::time::timeout(LOGIN_LIMIT, output(cmd)).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => return Err(format!("{:#}", process::spawn_error(&program, e))),
        Err(_) => {
            return Err(format!(
                "{program}: no answer within {} (stopped it): is the database host reachable, or does a firewall drop the connection?",
                crate::backup::fmt_human(LOGIN_LIMIT)
            ))
        }
    };
    drop(secret_file);
    if !status.success() {
        return Err(process::ChildFailed::new(&program, status, stderr).to_string());
    }
    let reply = String::from_utf8_lossy(&stdout).trim().to_string();
    let accepted = engine.check_replies();
    if !accepted.is_empty() && !accepted.iter().any(|a| reply.starts_with(a)) {
        let shown = match first_line(&stdout) {
            l if l.is_empty() => "nothing".to_string(),
            l => format!("'{l}'"),
        };
        let mut e = format!("{program} answered {shown} instead of {}", accepted[0]);
        if !stderr.is_empty() {
            let _ = write!(e, ": {stderr}");
        }
        if let Some(hint) = process::auth_hint(&format!("{stderr}\n{reply}")) {
            let _ = write!(e, "\n{hint}");
        }
        return Err(e);
    }
    let target = match &cfg.conn.database {
        Some(db) => format!("database {db}"),
        None => "the server".to_string(),
    };
    Ok(format!(
        "{program} logged in to {target} with the dump's credentials"
    ))
}

/// Run a child to its end: exit status, stdout, and the tail of stderr. Dropped early (the
/// time limit), its process group is killed.
async fn output(mut cmd: Command) -> std::io::Result<(std::process::ExitStatus, Vec<u8>, String)> {
    use tokio::io::AsyncReadExt as _;
    let mut child = cmd.spawn()?;
    let mut group = process::GroupGuard::new(child.id());
    let stderr = process::Tail::drain(child.stderr.take().expect("stderr is piped"));
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .expect("stdout is piped")
        .read_to_end(&mut stdout)
        .await?;
    let status = process::wait_ending_group(&mut child).await?;
    group.disarm();
    Ok((status, stdout, stderr.text().await))
}

/// The check command as a process: the same arguments, environment and secret file as a
/// dump would get (see `pipeline::stream`).
/// Run a child within `limit`; past it the child's process group is killed (dropping
/// `process::run` does that).
async fn bounded(
    limit: Duration,
    fut: impl std::future::Future<Output = anyhow::Result<Vec<u8>>>,
    what: &str,
) -> Result<Vec<u8>, String> {
    match tokio::time::timeout(limit, fut).await {
        Ok(Ok(out)) => Ok(out),
        Ok(Err(e)) => Err(format!("{e:#}")),
        Err(_) => Err(format!(
            "{what}: no answer within {} (stopped it): is the host reachable, or does a firewall drop the connection?",
            crate::backup::fmt_human(limit)
        )),
    }
}

fn first_line(out: &[u8]) -> String {
    String::from_utf8_lossy(out)
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_one_line_per_step_and_the_verdict() {
        let steps = [
            Step {
                name: "config",
                result: Ok("pg: database app".into()),
            },
            Step {
                name: "database",
                result: Err("psql exited with status 2: FATAL: password authentication failed\nhint: check DB_PASSWORD".into()),
            },
        ];
        assert_eq!(
            render(&steps),
            "config     ok    pg: database app\n\
             database   FAIL  psql exited with status 2: FATAL: password authentication failed\n\
             \x20                hint: check DB_PASSWORD\n\
             check failed: database\n"
        );
        assert!(render(&steps[..1]).ends_with("check passed\n"));
    }
}
