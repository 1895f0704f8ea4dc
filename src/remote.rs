//! RCLONE_REMOTE as a string: where it points, how to write it one way, how to show it
//! without its credentials, and the rows of a folder listing. Pure functions: no process,
//! no configuration; `config` checks the remote with them and `rclone` builds its paths.

use chrono::{DateTime, Utc};

/// One object of a remote folder's listing, as retention reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub mod_time: DateTime<Utc>,
}

/// `remote` + `/` + `name`, without doubling a separator after `remote:` or `dir/`.
pub fn join(remote: &str, name: &str) -> String {
    if remote.ends_with(':') || remote.ends_with('/') {
        format!("{remote}{name}")
    } else {
        format!("{remote}/{name}")
    }
}

/// RCLONE_REMOTE written one way, for the lock's identity: two spellings of one folder
/// (`s3:b/x/`, `s3:b/x`, `s3:b//x`, `s3:b/./x`; `/backups` and `:local:/backups`) give the
/// same string, so runs that would write the same names share one lock. The remote part
/// (`name:`, `:backend,opt='v':`) is kept as written; in the path, empty and `.` segments go,
/// `..` cancels the segment before it, and a trailing `/` goes (a lone `/`, the root, stays).
/// Folding spellings a backend would tell apart only makes two jobs share a lock.
pub fn normalize_remote(remote: &str) -> String {
    let (prefix, path) = match location(remote) {
        Location::LocalAbsolute | Location::LocalRelative => (":local:", remote),
        Location::Remote => remote.split_at(remote_prefix_len(remote)),
    };
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            seg => parts.push(seg),
        }
    }
    let lead = if absolute { "/" } else { "" };
    format!("{prefix}{lead}{}", parts.join("/"))
}

/// The length of `name:` or `:backend,opt=v:` at the start of a remote string: up to the
/// first `:` outside quotes (after the leading one of an on-the-fly backend).
pub(crate) fn remote_prefix_len(remote: &str) -> usize {
    let mut quote: Option<char> = None;
    for (i, c) in remote.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, ':') if i > 0 => return i + 1,
            _ => {}
        }
    }
    remote.len()
}

/// What an RCLONE_REMOTE string names, read the way rclone reads it (`fspath.Parse`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// `name:path`, `name:`, `:backend,opt=v:path`, `name,opt=v:path`.
    Remote,
    /// `/backups`: a directory of this machine (a mounted volume, in a container).
    LocalAbsolute,
    /// `backups`, `s3/bucket`, `./x:y`: resolved against dbstash's working directory.
    LocalRelative,
}

/// rclone's rule: a string with no `:` is a local path, and so is one where a `/` comes
/// before the first `:` or `,` (a remote's name holds no `/`). A leading `:` starts an
/// on-the-fly backend (`:s3,…:bucket`).
pub fn location(remote: &str) -> Location {
    let local = || {
        if remote.starts_with('/') {
            Location::LocalAbsolute
        } else {
            Location::LocalRelative
        }
    };
    if !remote.contains(':') {
        return local();
    }
    for (i, c) in remote.char_indices() {
        match c {
            ':' if i == 0 => {}
            ':' | ',' => return Location::Remote,
            '/' | '\\' if !remote.starts_with(':') => return local(),
            _ => {}
        }
    }
    Location::Remote
}

/// RCLONE_REMOTE must name a remote or an absolute path: a relative path silently writes
/// the backups next to dbstash (inside a container: onto its disk, gone with it). Typically a
/// forgotten colon: `s3/my-bucket/backups` for `s3:my-bucket/backups`.
pub fn check_remote(remote: &str) -> Result<(), String> {
    if location(remote) != Location::LocalRelative {
        return Ok(());
    }
    let shown = redact_remote(remote);
    let mut msg = format!(
        "'{shown}' is a relative local path: rclone would write the backups into that folder under dbstash's working directory (in a container, onto its own disk)."
    );
    let name_ok = |n: &str| {
        !n.is_empty()
            && !n.starts_with('-')
            && n.chars()
                .all(|c| c.is_alphanumeric() || "_-.+@ ".contains(c))
            && n != "."
            && n != ".."
    };
    match remote.split_once('/') {
        Some((name, path)) if name_ok(name) => {
            msg.push_str(&format!(
                " Did you forget the colon? A remote is written name:path, e.g. '{}'.",
                redact_remote(&format!("{name}:{path}"))
            ));
        }
        _ if name_ok(remote) => {
            msg.push_str(&format!(
                " Did you forget the colon? A remote is written name:path, e.g. '{}:' or '{}:backups'.",
                shown, shown
            ));
        }
        _ => msg.push_str(" A remote is written name:path, e.g. s3:my-bucket/backups."),
    }
    msg.push_str(
        " For a local directory (a mounted volume) give an absolute path such as /backups.",
    );
    Err(msg)
}

/// RCLONE_REMOTE for dry runs and summaries: credentials redacted, a local path marked.
pub fn describe_remote(remote: &str) -> String {
    match location(remote) {
        Location::LocalAbsolute => format!("{} (local path)", redact_remote(remote)),
        _ => redact_remote(remote),
    }
}

/// The values [`redact_remote`] hides, unquoted.
pub fn remote_secrets(remote: &str) -> Vec<String> {
    REMOTE_CREDENTIAL
        .captures_iter(remote)
        .map(|c| {
            let v = &c[2];
            let quoted = v.len() >= 2
                && ((v.starts_with('\'') && v.ends_with('\''))
                    || (v.starts_with('"') && v.ends_with('"')));
            if quoted { &v[1..v.len() - 1] } else { v }.to_string()
        })
        .collect()
}

/// `option=value` in a remote string where the option names a credential.
static REMOTE_CREDENTIAL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r#"(?i)([a-z0-9_]*(?:pass|key|secret|token|credential|sas_url|connection_string)[a-z0-9_]*)=('[^']*'|"[^"]*"|[^,:]*)"#)
        .expect("valid regex")
});

/// Hide credentials written inline in a remote string, e.g.
/// `:s3,access_key_id=AK,secret_access_key=SK:bucket` → `…,secret_access_key=***:bucket`.
pub fn redact_remote(remote: &str) -> String {
    REMOTE_CREDENTIAL.replace_all(remote, "$1=***").into_owned()
}
