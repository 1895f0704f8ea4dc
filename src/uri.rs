//! Database connection URIs, split by hand rather than by a WHATWG URL parser: MongoDB's
//! `mongodb://h1:27017,h2:27017/db` has several hosts, which generic URL parsers reject.
//!
//! The password is taken out at parse time, so a [`DbUri`] can be shown, logged and put on a
//! child's command line as it is.

use std::fmt;

use percent_encoding::{
    percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS, NON_ALPHANUMERIC,
};

/// Query keys and values: everything a query component must escape, space as %20 (libpq
/// decodes only %XX, not `+`).
const QUERY: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'=')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Whether a URI option carries a credential (`sslpassword`, `tlsCertificateKeyFilePassword`,
/// tokens): such values never go on a command line or into logs.
pub fn is_credential(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["password", "secret", "token"]
        .iter()
        .any(|w| k.contains(w))
}

/// How query options are rendered.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Credentials {
    Keep,
    Redact,
    Drop,
}

/// Userinfo is encoded strictly: everything but RFC 3986's unreserved characters.
const USERINFO: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Characters escaped in the userinfo and path when a URI is rendered again.
const COMPONENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b':')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'@')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// A parsed URI without its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbUri {
    pub scheme: String,
    pub user: Option<String>,
    /// As written: `host`, `host:port`, `[::1]:5432` or `h1:1,h2:2`. May be empty (pg sockets).
    pub hosts: String,
    /// Decoded path without its leading `/`: the database name for most engines.
    pub path: String,
    /// Decoded query pairs, in order.
    pub query: Vec<(String, String)>,
}

/// A URI and the password it held (from `user:pass@` or a `password=` query parameter).
pub struct Parsed {
    pub uri: DbUri,
    pub password: Option<String>,
}

/// Characters refused in a decoded component: control characters (`%00`, `%0A`) cannot be
/// handed to a tool or written into its option file. A password may hold any character a
/// child's environment can carry: all but NUL.
fn control(c: char) -> bool {
    c.is_control()
}

fn nul(c: char) -> bool {
    c == '\0'
}

/// Percent-decode one component. Bytes that are not UTF-8 would be altered (a password that
/// then fails to log in): refused here, at start, like the characters `bad` names.
fn decode(s: &str, what: &str, bad: fn(char) -> bool) -> Result<String, String> {
    let d = percent_decode_str(s).decode_utf8().map_err(|_| {
        format!("not a URI: the {what} holds percent-encoded bytes that are not UTF-8")
    })?;
    check_component(&d, what, bad)?;
    Ok(d.into_owned())
}

fn check_component(s: &str, what: &str, bad: fn(char) -> bool) -> Result<(), String> {
    if s.chars().any(bad) {
        return Err(format!(
            "not a URI: the {what} holds a control character (such as %00 or %0A)"
        ));
    }
    Ok(())
}

/// Split `scheme://[user[:pass]@]hosts[/path][?query]`. Errors never quote the input (it may
/// hold a password).
pub fn parse(input: &str) -> Result<Parsed, String> {
    let input = input.trim();
    let (scheme, rest) = input.split_once("://").ok_or_else(|| {
        "not a URI: expected scheme://[user[:password]@]host[:port]/database".to_string()
    })?;
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return Err("not a URI: the scheme before :// is missing or invalid".into());
    }
    let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, q),
        None => (rest, ""),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    let (userinfo, hosts) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    let (user, mut password) = match userinfo {
        None => (None, None),
        Some(ui) => match ui.split_once(':') {
            Some((u, p)) => (
                Some(decode(u, "user", control)?),
                Some(decode(p, "password", nul)?),
            ),
            None => (Some(decode(ui, "user", control)?), None),
        },
    };
    if hosts.chars().any(|c| c.is_whitespace()) {
        return Err("not a URI: the host part contains spaces".into());
    }
    check_component(hosts, "host part", control)?;
    for h in hosts.split(',').filter(|h| !h.is_empty()) {
        if let Some(port) = split_port(h).1 {
            match port.parse::<u16>() {
                Ok(p) if p > 0 => {}
                _ => return Err("not a URI: a port is not a number from 1 to 65535".into()),
            }
        }
    }
    // form_urlencoded decodes lossily: refuse what it would alter.
    if percent_decode_str(query).decode_utf8().is_err() {
        return Err("not a URI: the query holds percent-encoded bytes that are not UTF-8".into());
    }
    let mut pairs = Vec::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        // An option's value may end up in a tool's option file (pg's sslpassword in a
        // service file): a line break there would add options of its own.
        let (what, bad) = if k == "password" {
            ("password", nul as fn(char) -> bool)
        } else {
            ("query", control as fn(char) -> bool)
        };
        check_component(&k, what, bad)?;
        check_component(&v, what, bad)?;
        if k == "password" {
            password = Some(v.into_owned());
        } else {
            pairs.push((k.into_owned(), v.into_owned()));
        }
    }
    Ok(Parsed {
        uri: DbUri {
            scheme: scheme.to_ascii_lowercase(),
            user: user.filter(|u| !u.is_empty()),
            hosts: hosts.to_string(),
            path: decode(path, "database path", control)?,
            query: pairs,
        },
        password: password.filter(|p| !p.is_empty()),
    })
}

/// `host:port` → (`host`, `Some(port)`); handles `[v6]:port`.
fn split_port(h: &str) -> (&str, Option<&str>) {
    if let Some(end) = h.strip_prefix('[').and_then(|r| r.find(']')) {
        let host = &h[1..end + 1];
        let after = &h[end + 2..];
        return (host, after.strip_prefix(':'));
    }
    match h.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (h, None),
    }
}

impl DbUri {
    /// The single host and its port, if the URI names exactly one host.
    pub fn host_port(&self) -> Option<(String, Option<u16>)> {
        if self.hosts.is_empty() || self.hosts.contains(',') {
            return None;
        }
        let (h, p) = split_port(&self.hosts);
        Some((h.to_string(), p.and_then(|p| p.parse().ok())))
    }

    pub fn query_value(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The same URI with another path (database).
    pub fn with_path(&self, path: &str) -> DbUri {
        DbUri {
            path: path.to_string(),
            ..self.clone()
        }
    }

    /// Render with the password and every credential option: only for secret files.
    pub fn render_with_password(&self, password: Option<&str>) -> String {
        self.render(password, Credentials::Keep)
    }

    /// For a child's command line: no password, credential options dropped (the engine
    /// passes them another way).
    pub fn for_argv(&self) -> String {
        self.render(None, Credentials::Drop)
    }

    /// The credential options (`sslpassword=…`) this URI carries.
    pub fn credentials(&self) -> impl Iterator<Item = &(String, String)> {
        self.query.iter().filter(|(k, _)| is_credential(k))
    }

    fn render(&self, password: Option<&str>, credentials: Credentials) -> String {
        let mut s = format!("{}://", self.scheme);
        if let Some(u) = &self.user {
            s.push_str(&utf8_percent_encode(u, USERINFO).to_string());
            if let Some(p) = password {
                s.push(':');
                s.push_str(&utf8_percent_encode(p, USERINFO).to_string());
            }
            s.push('@');
        } else if let Some(p) = password {
            s.push(':');
            s.push_str(&utf8_percent_encode(p, USERINFO).to_string());
            s.push('@');
        }
        s.push_str(&self.hosts);
        if !self.path.is_empty() || !self.query.is_empty() {
            s.push('/');
            s.push_str(&utf8_percent_encode(&self.path, COMPONENT).to_string());
        }
        let query: Vec<String> = self
            .query
            .iter()
            .filter(|(k, _)| credentials != Credentials::Drop || !is_credential(k))
            .map(|(k, v)| {
                let v = if credentials == Credentials::Redact && is_credential(k) {
                    "***"
                } else {
                    v
                };
                format!(
                    "{}={}",
                    utf8_percent_encode(k, QUERY),
                    utf8_percent_encode(v, QUERY)
                )
            })
            .collect();
        if !query.is_empty() {
            s.push('?');
            s.push_str(&query.join("&"));
        }
        s
    }
}

impl fmt::Display for DbUri {
    /// For logs and dry runs: no password, credential options shown as `***`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(None, Credentials::Redact))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_renders_without_password() {
        let p = parse("postgresql://bob:p%40ss%2Fw@pg.example:6543/shop?sslmode=require").unwrap();
        assert_eq!(p.password.as_deref(), Some("p@ss/w"));
        assert_eq!(p.uri.user.as_deref(), Some("bob"));
        assert_eq!(p.uri.host_port(), Some(("pg.example".into(), Some(6543))));
        assert_eq!(p.uri.path, "shop");
        assert_eq!(
            p.uri.to_string(),
            "postgresql://bob@pg.example:6543/shop?sslmode=require"
        );
    }

    #[test]
    fn multi_host_mongo_and_query_password() {
        let p =
            parse("mongodb://u:pw@h1:27017,h2:27018/app?replicaSet=rs0&authSource=admin").unwrap();
        assert_eq!(p.uri.hosts, "h1:27017,h2:27018");
        assert_eq!(p.uri.host_port(), None);
        assert_eq!(p.uri.query_value("authSource"), Some("admin"));
        assert_eq!(
            p.uri.with_path("").to_string(),
            "mongodb://u@h1:27017,h2:27018/?replicaSet=rs0&authSource=admin"
        );
        assert_eq!(
            p.uri.render_with_password(Some("p:w@")),
            "mongodb://u:p%3Aw%40@h1:27017,h2:27018/app?replicaSet=rs0&authSource=admin"
        );
        let q = parse("postgres://bob@h/db?password=s3cret&sslmode=disable").unwrap();
        assert_eq!(q.password.as_deref(), Some("s3cret"));
        assert_eq!(q.uri.to_string(), "postgres://bob@h/db?sslmode=disable");
    }

    #[test]
    fn options_keep_spaces_and_credentials_stay_off_argv() {
        let p = parse("postgresql://u@h/db?options=-c%20search_path%3Dapp&application_name=my%20app+1&sslpassword=KEYPASS").unwrap();
        assert_eq!(p.uri.query_value("application_name"), Some("my app 1"));
        let argv = p.uri.for_argv();
        assert_eq!(
            argv,
            "postgresql://u@h/db?options=-c%20search_path%3Dapp&application_name=my%20app%201"
        );
        assert_eq!(p.uri.to_string(), format!("{argv}&sslpassword=***"));
        assert_eq!(
            p.uri.credentials().collect::<Vec<_>>(),
            [&("sslpassword".to_string(), "KEYPASS".to_string())]
        );
        assert!(p
            .uri
            .render_with_password(None)
            .ends_with("&sslpassword=KEYPASS"));
    }

    #[test]
    fn password_only_userinfo_and_ipv6() {
        let p = parse("redis://:secret@[::1]:6380/2").unwrap();
        assert_eq!(p.password.as_deref(), Some("secret"));
        assert_eq!(p.uri.user, None);
        assert_eq!(p.uri.host_port(), Some(("::1".into(), Some(6380))));
        assert_eq!(p.uri.to_string(), "redis://[::1]:6380/2");
        assert_eq!(parse("redis://h").unwrap().uri.to_string(), "redis://h");
    }

    #[test]
    fn rejects_without_echoing() {
        for bad in [
            "not a uri",
            "://h/db",
            "pg sql://h/db",
            "postgresql://u:secret@h:notaport/db",
            "mysql://u:secret@h:99999/db",
        ] {
            let Err(e) = parse(bad) else {
                panic!("accepted a bad URI")
            };
            assert!(!e.contains("secret"), "{e}");
        }
    }
}
