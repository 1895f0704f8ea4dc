//! `dbstash healthcheck`: the client side of `/healthz`, for a container's HEALTHCHECK in an
//! image that carries no curl or wget. It reads the same HEALTH_ADDR and BACKUP_SCHEDULE as
//! the process it probes (a HEALTHCHECK runs with the container's environment).
//!
//! Exit 0: healthy, or `BACKUP_SCHEDULE=once` (a one-shot run serves no endpoint, and its
//! outcome is its exit code). Exit 1: anything else. Docker reserves exit code 2, so a bad
//! HEALTH_ADDR is reported as unhealthy (1), not as a configuration error.

use std::io::{Read as _, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::cli::CommonArgs;
use crate::config;

/// The whole probe stays within this, well inside Docker's default 30 s HEALTHCHECK timeout.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// A /healthz body is a few hundred bytes; never read more than this.
const MAX_RESPONSE: u64 = 64 * 1024;

pub fn run(common: &CommonArgs) -> ExitCode {
    let schedule = common
        .backup_schedule
        .as_deref()
        .map(str::trim)
        .unwrap_or("");
    if schedule.eq_ignore_ascii_case("once") {
        println!("healthy: BACKUP_SCHEDULE=once serves no health endpoint; the run's exit code is its result");
        return ExitCode::SUCCESS;
    }
    let addr = match config::parse_health_addr(
        common
            .health_addr
            .as_deref()
            .filter(|s| !s.trim().is_empty()),
    ) {
        Ok(addr) => probe_target(addr),
        Err(e) => {
            println!("unhealthy: {e}");
            return ExitCode::from(1);
        }
    };
    match probe(addr, PROBE_TIMEOUT) {
        Ok((200, body)) => {
            println!("healthy: http://{addr}/healthz answered 200 {body}");
            ExitCode::SUCCESS
        }
        Ok((status, body)) => {
            println!("unhealthy: http://{addr}/healthz answered {status} {body}");
            ExitCode::from(1)
        }
        Err(e) => {
            println!("unhealthy: http://{addr}/healthz: {e}");
            ExitCode::from(1)
        }
    }
}

/// A wildcard listen address is probed on the loopback address of its family.
pub fn probe_target(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// `GET /healthz` over plain HTTP/1.1: the status code and the body, trimmed and shortened.
pub fn probe(addr: SocketAddr, timeout: Duration) -> std::io::Result<(u16, String)> {
    let deadline = Instant::now() + timeout;
    let remaining = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no answer within {}s", timeout.as_secs()),
                )
            })
    };
    let mut stream = TcpStream::connect_timeout(&addr, remaining()?)?;
    stream.set_write_timeout(Some(remaining()?))?;
    // One write: a peer that answers after its first read must have the whole request.
    let request = format!(
        "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: dbstash-healthcheck\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    let mut reader = (&stream).take(MAX_RESPONSE);
    let mut chunk = [0u8; 4096];
    loop {
        stream.set_read_timeout(Some(remaining()?))?;
        match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => response.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // A server that closes without reading everything resets the connection after
            // its answer: what arrived before the reset is the answer.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset && !response.is_empty() => {
                break
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no complete answer within {}s", timeout.as_secs()),
                ));
            }
            Err(e) => return Err(e),
        }
    }
    parse_response(&response)
}

fn parse_response(response: &[u8]) -> std::io::Result<(u16, String)> {
    let text = String::from_utf8_lossy(response);
    let bad = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not an HTTP response: {:?}", shorten(&text, 80)),
        )
    };
    let status_line = text.lines().next().ok_or_else(bad)?;
    let mut parts = status_line.split_whitespace();
    let (Some(proto), Some(code)) = (parts.next(), parts.next()) else {
        return Err(bad());
    };
    if !proto.starts_with("HTTP/") {
        return Err(bad());
    }
    let code: u16 = code.parse().map_err(|_| bad())?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    Ok((code, shorten(body.trim(), 300)))
}

fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_are_probed_on_loopback() {
        let t = |s: &str| probe_target(s.parse().unwrap()).to_string();
        assert_eq!(t("0.0.0.0:8080"), "127.0.0.1:8080");
        assert_eq!(t("[::]:9000"), "[::1]:9000");
        assert_eq!(t("127.0.0.2:81"), "127.0.0.2:81");
        assert_eq!(t("[::1]:81"), "[::1]:81");
    }

    #[test]
    fn responses_parse_or_fail_cleanly() {
        let ok = parse_response(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").unwrap();
        assert_eq!(ok, (200, "ok".to_string()));
        let down =
            parse_response(b"HTTP/1.1 503 Service Unavailable\r\n\r\n{\"status\":\"failing\"}\n")
                .unwrap();
        assert_eq!(down.0, 503);
        for junk in [
            &b""[..],
            b"SSH-2.0-OpenSSH\r\n",
            b"HTTP/1.1\r\n",
            b"HTTP/1.1 abc\r\n",
            b"\xff\xfe 200",
        ] {
            assert!(parse_response(junk).is_err(), "{junk:?}");
        }
        let long = format!("HTTP/1.1 200 OK\r\n\r\n{}", "é".repeat(1000));
        assert_eq!(
            parse_response(long.as_bytes()).unwrap().1.chars().count(),
            301
        );
    }
}
