//! One input value at a time: parse it, or say which variable (and flag) is wrong and what
//! was expected. The bottom floor of configuration: every concern's settings (`config`,
//! `notify::settings`, `hooks::settings`) validate their values with these, and this module
//! depends on nothing else in the crate.

use std::time::Duration;

/// An invalid input: exits 2. `subject` names the variable and its flag.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{subject}: {message}")]
pub struct ConfigError {
    pub subject: String,
    pub message: String,
}

impl ConfigError {
    /// An error about one variable, shown as `VAR (--var)`.
    pub fn var(var: &str, message: impl Into<String>) -> Self {
        ConfigError {
            subject: format!("{var} ({})", flag_of(var)),
            message: message.into(),
        }
    }

    /// An error about a combination of variables.
    pub fn combo(subject: &str, message: impl Into<String>) -> Self {
        ConfigError {
            subject: subject.to_string(),
            message: message.into(),
        }
    }
}

/// `DB_HOST` → `--db-host`: the 1:1 naming rule.
pub fn flag_of(var: &str) -> String {
    format!("--{}", var.to_ascii_lowercase().replace('_', "-"))
}

/// Kubernetes puts Docker-link variables for every Service of the namespace into a pod
/// unless `enableServiceLinks: false`: a Service named `db` sets `DB_PORT=tcp://10.0.0.5:5432`,
/// one named `smtp` sets `SMTP_PORT`. For an error about such a value: where it came from.
pub fn service_link_note(var: &str, value: &str) -> Option<String> {
    let service = var.strip_suffix("_PORT")?;
    let (scheme, address) = value.trim().split_once("://")?;
    let port = address.rsplit_once(':')?.1;
    let link = matches!(scheme, "tcp" | "udp" | "sctp")
        && !port.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit());
    link.then(|| {
        format!(
            "Kubernetes sets it so for a Service named {}: set enableServiceLinks: false in the pod spec",
            service.to_ascii_lowercase().replace('_', "-")
        )
    })
}

/// Treats an empty value like an unset one: compose files often write `VAR: ""`.
pub fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.trim().is_empty())
}

pub fn read_secret_file(var: &str, path: &str) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::var(var, format!("cannot read '{path}': {e}")))?;
    let value = text.trim_end_matches(['\n', '\r']).to_string();
    if value.trim().is_empty() {
        return Err(ConfigError::var(var, format!("'{path}' is empty")));
    }
    Ok(value)
}

pub fn split_words(var: &str, v: &Option<String>) -> Result<Vec<String>, ConfigError> {
    match nonempty(v) {
        None => Ok(Vec::new()),
        Some(s) => shell_words::split(s)
            .map_err(|e| ConfigError::var(var, format!("cannot split into arguments: {e} (expected shell words, e.g. \"--flag 'a value'\")"))),
    }
}

pub fn parse_bool(var: &str, v: &Option<String>, default: bool) -> Result<bool, ConfigError> {
    Ok(parse_bool_opt(var, v)?.unwrap_or(default))
}

pub fn parse_bool_opt(var: &str, v: &Option<String>) -> Result<Option<bool>, ConfigError> {
    match nonempty(v) {
        None => Ok(None),
        Some(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(Some(true)),
            "false" | "0" | "no" | "off" => Ok(Some(false)),
            _ => Err(ConfigError::var(
                var,
                format!("'{s}' is not a boolean (expected true or false)"),
            )),
        },
    }
}

pub fn parse_count(var: &str, v: &Option<String>) -> Result<u32, ConfigError> {
    match nonempty(v) {
        None => Ok(0),
        Some(s) => s.trim().parse::<u32>().map_err(|_| {
            ConfigError::var(
                var,
                format!("'{s}' is not a whole number (expected 0 for unlimited, or N ≥ 1)"),
            )
        }),
    }
}

/// Ten years: longer is a typo, and would overflow clock arithmetic.
const MAX_DURATION: Duration = Duration::from_secs(3650 * 86400);

/// `30m`, `1h`, `1h30m`, `90s`, `500ms`, `2d`; `0` means no limit (`None`).
pub fn parse_duration(s: &str) -> Result<Option<Duration>, String> {
    let s = s.trim();
    let expected =
        || format!("'{s}' is not a duration (expected e.g. 30s, 30m, 1h or 1h30m; 0 for no limit)");
    if s == "0" {
        return Ok(None);
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    if rest.is_empty() {
        return Err(expected());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(expected)?;
        if digits == 0 {
            return Err(expected());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| expected())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let secs = match unit {
            "ms" => {
                total = total
                    .checked_add(Duration::from_millis(n))
                    .ok_or_else(expected)?;
                continue;
            }
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86400,
            _ => return Err(expected()),
        };
        total = n
            .checked_mul(secs)
            .and_then(|secs| total.checked_add(Duration::from_secs(secs)))
            .ok_or_else(expected)?;
    }
    if total > MAX_DURATION {
        return Err(format!("'{s}' is too long (at most 3650d)"));
    }
    Ok(if total.is_zero() { None } else { Some(total) })
}
