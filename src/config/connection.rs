//! The database connection: DB_URI (or its `_FILE`) or the host fields, the password and
//! its `_FILE`, the database, checked for each engine.

use super::*;

pub(super) fn resolve_connection(
    kind: EngineKind,
    a: &CommonArgs,
    all_databases: bool,
    warnings: &mut Vec<String>,
) -> Result<Connection, ConfigError> {
    let uri = match nonempty(&a.db_uri_file) {
        Some(path) => Some(read_secret_file("DB_URI_FILE", path)?),
        None => nonempty(&a.db_uri).map(str::to_string),
    };
    let mut password = match nonempty(&a.db_password_file) {
        Some(path) => Some(read_secret_file("DB_PASSWORD_FILE", path)?),
        None => nonempty(&a.db_password).map(str::to_string),
    };
    let auth_source = nonempty(&a.db_auth_source).map(str::to_string);
    // These reach command lines, object names and logs: no control characters there.
    for (var, v) in [
        ("DB_HOST", &a.db_host),
        ("DB_NAME", &a.db_name),
        ("DB_USER", &a.db_user),
        ("DB_AUTH_SOURCE", &a.db_auth_source),
    ] {
        if let Some(v) = nonempty(v) {
            no_control_chars(var, v)?;
        }
    }
    let port = match nonempty(&a.db_port) {
        None => kind.default_port(),
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => {
                let mut message =
                    format!("'{p}' is not a port (expected a number from 1 to 65535)");
                if let Some(note) = crate::input::service_link_note("DB_PORT", p) {
                    message = format!("{message}; {note}");
                }
                return Err(ConfigError::var("DB_PORT", message));
            }
        },
    };

    let Some(uri) = uri else {
        let host = nonempty(&a.db_host).ok_or_else(|| {
            ConfigError::combo(
                "DB_URI (--db-uri) or DB_HOST (--db-host)",
                "no database connection given: set DB_URI (or DB_URI_FILE), or DB_HOST and DB_NAME",
            )
        })?;
        // A host name or address has no spaces; a socket directory (pg) may.
        if !host.trim_start().starts_with('/') && host.trim().contains(char::is_whitespace) {
            return Err(ConfigError::var(
                "DB_HOST",
                format!("'{host}' contains a space (expected a host name, an IP address or a socket directory)"),
            ));
        }
        let database = match nonempty(&a.db_name) {
            Some(n) => Some(check_database_name("DB_NAME", n)?.to_string()),
            None if all_databases || !kind.needs_database() => None,
            None => {
                return Err(ConfigError::var(
                    "DB_NAME",
                    "is required with DB_HOST (or set BACKUP_ALL_DATABASES=true to dump every database)",
                ))
            }
        };
        return Ok(Connection {
            uri: None,
            host: Some(host.to_string()),
            port,
            user: nonempty(&a.db_user).map(str::to_string),
            password: password.map(SecretString::from),
            database,
            auth_source,
        });
    };

    // Never echo the URI itself in an error: it may hold a password.
    let var = if nonempty(&a.db_uri_file).is_some() {
        "DB_URI_FILE"
    } else {
        "DB_URI"
    };
    let schemes = kind.uri_schemes();
    let example = kind.uri_example();
    let parsed = uri::parse(&uri)
        .map_err(|e| ConfigError::var(var, format!("{e}; expected e.g. {example}")))?;
    let uri = parsed.uri;
    if !schemes.contains(&uri.scheme.as_str()) {
        return Err(ConfigError::var(
            var,
            format!(
                "scheme '{}' does not fit engine {} (expected {}://…, e.g. {example})",
                uri.scheme,
                kind.key(),
                schemes.join("://… or ")
            ),
        ));
    }
    if let Some(p) = parsed.password {
        if password.is_some() {
            let pw_var = if nonempty(&a.db_password_file).is_some() {
                "DB_PASSWORD_FILE"
            } else {
                "DB_PASSWORD"
            };
            warnings.push(format!(
                "{pw_var} is ignored because {var} holds a password"
            ));
        }
        password = Some(p);
    }
    let ignored: Vec<&str> = [
        ("DB_HOST", &a.db_host),
        ("DB_PORT", &a.db_port),
        ("DB_NAME", &a.db_name),
        ("DB_USER", &a.db_user),
    ]
    .into_iter()
    .filter(|(_, v)| nonempty(v).is_some())
    .map(|(k, _)| k)
    .collect();
    if !ignored.is_empty() {
        warnings.push(format!(
            "{} ignored because {var} is set",
            ignored.join(", ")
        ));
    }
    let database = match kind.uri_database(&uri) {
        _ if all_databases => None,
        Some(db) => Some(check_database_name(var, &db)?.to_string()),
        None if !kind.needs_database() => None,
        None => {
            return Err(ConfigError::var(
                var,
                format!(
                "has no database name (expected e.g. {example}), or set BACKUP_ALL_DATABASES=true"
            ),
            ))
        }
    };
    let (host, uri_port) = uri.host_port().unzip();
    Ok(Connection {
        host,
        port: uri_port.flatten().unwrap_or(kind.default_port()),
        user: uri.user.clone(),
        uri: Some(uri),
        password: password.map(SecretString::from),
        database,
        auth_source,
    })
}

/// A database name is the last argument of mysqldump: one starting with '-' would be read
/// as a flag (`--help` exits 0 with its usage on stdout, which would be uploaded as a backup).
fn check_database_name<'a>(var: &str, name: &'a str) -> Result<&'a str, ConfigError> {
    if name.starts_with('-') {
        return Err(ConfigError::var(
            var,
            format!(
                "database name '{name}' starts with '-', which a dump tool would read as a flag"
            ),
        ));
    }
    Ok(name)
}
