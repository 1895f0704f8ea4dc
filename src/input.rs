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
            message: one_line(message.into()),
        }
    }

    /// An error about a combination of variables.
    pub fn combo(subject: &str, message: impl Into<String>) -> Self {
        ConfigError {
            subject: subject.to_string(),
            message: one_line(message.into()),
        }
    }
}

/// Messages quote the values at fault; a control character in one (a newline, an escape
/// sequence) must not break the error's single line or reach the terminal raw.
fn one_line(message: String) -> String {
    if !message.chars().any(char::is_control) {
        return message;
    }
    message
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The first control character in `value` (a newline, a tab, NUL, ESC), shown escaped, and
/// its byte offset.
fn first_control_char(value: &str) -> Option<(String, usize)> {
    value
        .char_indices()
        .find(|(_, c)| c.is_control())
        .map(|(i, c)| (c.escape_default().to_string(), i))
}

/// `value` must hold no control character: it flows into names, command lines and logs.
pub fn no_control_chars(var: &str, value: &str) -> Result<(), ConfigError> {
    match first_control_char(value) {
        Some((c, i)) => Err(ConfigError::var(
            var,
            format!("contains the control character {c} at byte {i}: not allowed here"),
        )),
        None => Ok(()),
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

/// The most a `_FILE` secret (a password, a connection URI) may hold.
pub const SECRET_FILE_MAX: u64 = 8 * 1024;

/// Open `path` for reading without ever blocking (a FIFO opens at once instead of waiting
/// for a writer) and check, on the open file itself, that it is a regular file: a
/// directory, FIFO, socket or device (`/dev/zero`, `/dev/stdin`) is refused. Symlinks to
/// regular files are fine (Docker and Kubernetes secrets are symlinks).
pub fn open_regular_file(var: &str, path: &str) -> Result<std::fs::File, ConfigError> {
    use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
    let file = std::fs::OpenOptions::new()
        .read(true)
        // std opens with O_CLOEXEC already.
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| ConfigError::var(var, format!("cannot read '{path}': {e}")))?;
    let kind = file
        .metadata()
        .map_err(|e| ConfigError::var(var, format!("cannot read '{path}': {e}")))?
        .file_type();
    let what = if kind.is_file() {
        return Ok(file);
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a named pipe (FIFO)"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "not a regular file"
    };
    Err(ConfigError::var(
        var,
        format!("'{path}' is {what}: expected a regular file"),
    ))
}

/// Where `path` leads through a name that means something else in every process
/// (`/dev/stdin`, `/dev/fd/N`, `/proc/self/…`), following the symlinks of its last
/// component: such a path names one of dbstash's own files, and a child given it opens its
/// own (rclone's stdin is not dbstash's). The name met, if any.
pub fn per_process_path(path: &str) -> Option<String> {
    use std::path::{Component, PathBuf};
    const PER_PROCESS: [&str; 6] = [
        "/dev/stdin",
        "/dev/stdout",
        "/dev/stderr",
        "/dev/fd",
        "/proc/self",
        "/proc/thread-self",
    ];
    let mut p = PathBuf::from(path);
    // A chain of symlinks is at most 40 long (the kernel's limit).
    for _ in 0..40 {
        // Lexically: `/dev/./fd/3` and `//proc/self/x` are caught too.
        let clean: PathBuf = p
            .components()
            .filter(|c| !matches!(c, Component::CurDir))
            .collect();
        if PER_PROCESS.iter().any(|pp| clean.starts_with(pp)) {
            return Some(clean.display().to_string());
        }
        let Ok(target) = std::fs::read_link(&clean) else {
            return None;
        };
        p = match clean.parent() {
            Some(dir) if target.is_relative() => dir.join(target),
            _ => target,
        };
    }
    None
}

/// Read a regular file of at most `max` bytes (see [`open_regular_file`]); a larger one is
/// refused without reading past `max + 1` bytes.
pub fn read_regular_file(var: &str, path: &str, max: u64) -> Result<Vec<u8>, ConfigError> {
    use std::io::Read as _;
    let file = open_regular_file(var, path)?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ConfigError::var(var, format!("cannot read '{path}': {e}")))?;
    if bytes.len() as u64 > max {
        return Err(ConfigError::var(
            var,
            format!(
                "'{path}' is larger than {} KiB: expected a small file holding one value",
                max / 1024
            ),
        ));
    }
    Ok(bytes)
}

/// A secret from a `_FILE` variable: one line of text, its line break trimmed.
pub fn read_secret_file(var: &str, path: &str) -> Result<String, ConfigError> {
    let bytes = read_regular_file(var, path, SECRET_FILE_MAX)?;
    // Never echo the content: it is a secret.
    let text = String::from_utf8(bytes)
        .map_err(|_| ConfigError::var(var, format!("'{path}' is not UTF-8 text")))?;
    let value = text.trim_end_matches(['\n', '\r']).to_string();
    if value.trim().is_empty() {
        return Err(ConfigError::var(var, format!("'{path}' is empty")));
    }
    if let Some((c, i)) = first_control_char(&value) {
        return Err(ConfigError::var(
            var,
            format!(
                "'{path}' holds the control character {c} at byte {i}: expected one line of text"
            ),
        ));
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

/// A count where 0 means unlimited, at most `max`.
pub fn parse_count(var: &str, v: &Option<String>, max: u32) -> Result<u32, ConfigError> {
    let Some(s) = nonempty(v) else { return Ok(0) };
    let s = s.trim();
    let expected = format!("expected 0 for unlimited, or a whole number from 1 to {max}");
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: too large for u32 is too large for any limit.
        return match s.parse::<u32>() {
            Ok(n) if n <= max => Ok(n),
            _ => Err(ConfigError::var(
                var,
                format!("'{s}' is too large ({expected})"),
            )),
        };
    }
    Err(ConfigError::var(
        var,
        format!("'{s}' is not a whole number ({expected})"),
    ))
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
