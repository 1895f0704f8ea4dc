//! Time: TZ, BACKUP_SCHEDULE (5-field cron, `once`) and the gaps between its runs, and
//! HEALTH_ADDR.

use super::*;

pub(super) fn parse_tz(v: Option<&str>) -> Result<Tz, ConfigError> {
    let Some(name) = v else { return Ok(Tz::UTC) };
    // POSIX allows a leading ':' before a zone name.
    let name = name.trim().trim_start_matches(':');
    // A zone file (`TZ=:/etc/localtime`, common on hosts and in containers) names its zone
    // by where it lives under a zoneinfo directory.
    let zone = if name.starts_with('/') {
        zone_of_file(std::path::Path::new(name))
    } else {
        Some(name.to_string())
    };
    zone.and_then(|z| z.parse::<Tz>().ok()).ok_or_else(|| {
        ConfigError::var(
            "TZ",
            format!("unknown time zone '{name}' (expected an IANA name such as UTC, Europe/Berlin or Asia/Kolkata, or the path of a zone file under a zoneinfo directory)"),
        )
    })
}

/// `/usr/share/zoneinfo/Europe/Berlin` → `Europe/Berlin`, following symlinks such as
/// `/etc/localtime` (their targets need not exist here).
fn zone_of_file(path: &std::path::Path) -> Option<String> {
    let mut path = path.to_path_buf();
    for _ in 0..8 {
        let text = path.to_str()?;
        if let Some((_, zone)) = text.rsplit_once("/zoneinfo/") {
            let zone = zone
                .strip_prefix("posix/")
                .or_else(|| zone.strip_prefix("right/"))
                .unwrap_or(zone);
            return Some(zone.to_string());
        }
        let target = std::fs::read_link(&path).ok()?;
        path = match path.parent() {
            Some(dir) if target.is_relative() => dir.join(target),
            _ => target,
        };
    }
    None
}

/// HEALTH_ADDR, or its default when unset.
pub fn parse_health_addr(v: Option<&str>) -> Result<std::net::SocketAddr, ConfigError> {
    let s = v.unwrap_or(defaults::HEALTH_ADDR).trim();
    let addr: std::net::SocketAddr = s.parse().map_err(|_| {
        ConfigError::var(
            "HEALTH_ADDR",
            format!(
                "'{s}' is not an address (expected IP:PORT, e.g. 0.0.0.0:8080 or 127.0.0.1:9090)"
            ),
        )
    })?;
    // Port 0 would listen on a random port that no probe (`dbstash healthcheck`, Docker,
    // Kubernetes, Prometheus) can find.
    if addr.port() == 0 {
        return Err(ConfigError::var(
            "HEALTH_ADDR",
            format!("'{s}' has port 0 (expected a fixed port from 1 to 65535, e.g. 0.0.0.0:8080)"),
        ));
    }
    Ok(addr)
}

/// `once`, or a cron expression: standard 5 fields, 6 with seconds, or `@daily`-style macros.
pub fn parse_schedule(s: &str) -> Result<Schedule, ConfigError> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("once") {
        return Ok(Schedule::Once);
    }
    let cron = parse_cron(s).map_err(|e| {
        ConfigError::var(
            "BACKUP_SCHEDULE",
            format!("'{s}' is not a valid cron expression ({e}); expected 5 fields like '0 2 * * *', 6 with seconds, a macro like @daily, or `once`"),
        )
    })?;
    if cron
        .find_next_occurrence(&chrono::Utc::now(), false)
        .is_err()
    {
        return Err(ConfigError::var(
            "BACKUP_SCHEDULE",
            format!("'{s}' never fires (no date matches it)"),
        ));
    }
    Ok(Schedule::Cron {
        expr: s.to_string(),
        cron: Box::new(cron),
    })
}

/// The gap between the next two runs of a cron schedule, when it is under a minute.
pub(super) fn shortest_gap(schedule: &Schedule) -> Option<Duration> {
    let Schedule::Cron { cron, .. } = schedule else {
        return None;
    };
    let first = cron.find_next_occurrence(&chrono::Utc::now(), false).ok()?;
    let second = cron.find_next_occurrence(&first, false).ok()?;
    (second - first)
        .to_std()
        .ok()
        .filter(|gap| *gap < Duration::from_secs(60))
}

/// The longest time between two of the next runs of a cron schedule (weekdays only: the
/// weekend's three days).
pub(super) fn longest_gap(schedule: &Schedule, tz: Tz) -> Option<Duration> {
    let Schedule::Cron { cron, .. } = schedule else {
        return None;
    };
    let mut at = cron
        .find_next_occurrence(&chrono::Utc::now().with_timezone(&tz), false)
        .ok()?;
    let mut longest = Duration::ZERO;
    for _ in 0..100 {
        let Ok(next) = cron.find_next_occurrence(&at, false) else {
            break;
        };
        longest = longest.max((next - at).to_std().unwrap_or_default());
        at = next;
    }
    (!longest.is_zero()).then_some(longest)
}

pub fn parse_cron(s: &str) -> Result<croner::Cron, croner::errors::CronError> {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Optional)
        .year(croner::parser::Year::Disallowed)
        .build()
        .parse(s)
}
