//! Arguments for humans and for the redactor: shell-like quoting for display, secret-looking
//! flag values hidden (`--s3-secret-access-key=***`), and those values collected so
//! [`crate::redact`] hides them everywhere else too.

/// Words in option names whose values are credentials whatever else the name says:
/// passwords, secrets, tokens, service-account credentials (a JSON private key: rclone's
/// `service_account_credentials`), an Azure SAS URL (its `sig=` signs requests) and a
/// connection string (it holds the account key). Written with `-`: `_` is read as `-`.
const CREDENTIAL_WORDS: [&str; 6] = [
    "pass",
    "secret",
    "token",
    "credential",
    "sas-url",
    "connection-string",
];

/// Whether a flag or option name names a secret: `--s3-secret-access-key`, `sslpassword`,
/// `RCLONE_GCS_SERVICE_ACCOUNT_CREDENTIALS`, `sas_url`.
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace('_', "-");
    n.contains("key") || CREDENTIAL_WORDS.iter().any(|w| n.contains(w))
}

/// Whether `--flag VALUE` takes a credential as its next argument: the flag names one
/// itself. `key` counts as a word of the name (`--sftp-key-pem`, `--s3-sse-customer-key-base64`)
/// or its end (`--apikey`), not inside another word (`--disable-keys db`).
fn takes_secret_value(flag: &str) -> bool {
    let n = flag.to_ascii_lowercase().replace('_', "-");
    CREDENTIAL_WORDS.iter().any(|w| n.contains(w))
        || n.ends_with("key")
        || n.split('-').any(|w| w == "key")
}

/// Arguments for display: the values of secret-looking flags (`--x-secret=V`, `--x-secret V`)
/// become `***`, and so do registered secrets ([`crate::redact`]) anywhere else. Display
/// only: the real values still go to the child.
pub fn redact_args(args: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut hide_next = false;
    for a in args {
        if std::mem::take(&mut hide_next) && !a.starts_with('-') {
            out.push("***".to_string());
            continue;
        }
        match a.split_once('=') {
            Some((flag, _)) if flag.starts_with('-') && is_secret_name(flag) => {
                out.push(format!("{flag}=***"))
            }
            // `--flag VALUE`: only flags that name a credential themselves take the next
            // argument with them (`--sftp-pass X`, `--api-key X`, not `--disable-keys db`).
            None if a.starts_with("--") && takes_secret_value(a) => {
                hide_next = true;
                out.push(a.clone());
            }
            // Registered secrets too: `-pSECRET` names no flag this function knows.
            _ => out.push(crate::redact::redact(a)),
        }
    }
    out
}

/// The values of secret-looking flags in `args`, to be registered with [`crate::redact`]:
/// `--flag=VALUE` where the flag names a secret ([`is_secret_name`]), `--flag VALUE` where it
/// names a credential itself (as [`redact_args`] hides them), and the tool's short options
/// `short` (`-pVALUE`; `-p VALUE` too when `separate` allows it). Numbers and switch values
/// (`--ask-password=false`) are left out: redacting them would garble every log line.
pub fn arg_secrets(args: &[String], short: &[ShortSecret]) -> Vec<String> {
    let mut out = Vec::new();
    let mut take_next = false;
    let mut header_next = false;
    for a in args {
        if std::mem::take(&mut take_next) && !a.starts_with('-') {
            out.push(a.clone());
            continue;
        }
        if std::mem::take(&mut header_next) {
            out.extend(header_secrets(a));
            continue;
        }
        if let Some(body) = a.strip_prefix("--") {
            let is_header = |flag: &str| flag.starts_with("header") || flag.ends_with("-headers");
            match body.split_once('=') {
                Some((flag, v)) if is_header(flag) => out.extend(header_secrets(v)),
                Some((flag, v)) if is_secret_name(flag) => out.push(v.to_string()),
                None if is_header(body) => header_next = true,
                None => take_next = takes_secret_value(a),
                _ => {}
            }
        } else if let Some(s) = short.iter().find(|s| a.starts_with(s.flag)) {
            match &a[s.flag.len()..] {
                "" => take_next = s.separate,
                v => out.push(v.trim_start_matches('=').to_string()),
            }
        }
    }
    out.retain(|v| !v.chars().all(|c| c.is_ascii_digit()));
    out
}

/// The credentials among HTTP headers given to rclone: one `Name: value` header (`--header
/// "Authorization: Bearer T"`, `--header-upload`), or a backend's comma-separated list of
/// name,value pairs (`--webdav-headers "Authorization,Bearer T,Cookie,id=C"`, `--http-headers`;
/// CSV quotes allowed).
fn header_secrets(headers: &str) -> Vec<String> {
    if let Some((name, value)) = headers.split_once(':') {
        if !name.contains(',') {
            return header_secret(name, value).into_iter().collect();
        }
    }
    let fields: Vec<&str> = headers
        .split(',')
        .map(|f| f.trim().trim_matches('"'))
        .collect();
    fields
        .chunks(2)
        .filter_map(|pair| match pair {
            [name, value] => header_secret(name, value),
            _ => None,
        })
        .collect()
}

/// The value of header `name` when the header carries a credential.
fn header_secret(name: &str, value: &str) -> Option<String> {
    let name = name.trim().to_ascii_lowercase();
    let credential = ["authorization", "proxy-authorization", "cookie"].contains(&name.as_str())
        || is_secret_name(&name)
        || name.contains("auth");
    let value = value.trim();
    // `Bearer T`: the token alone is what other output may show.
    let value = value.split_once(' ').map_or(value, |(_, t)| t.trim());
    (credential && !value.is_empty()).then(|| value.to_string())
}

/// A dump tool's short option that carries a password.
#[derive(Debug, Clone, Copy)]
pub struct ShortSecret {
    pub flag: &'static str,
    /// Whether the value may follow as the next argument (`-p VALUE`), not only attached.
    pub separate: bool,
}

/// Quote an argument for display only when a shell would need it (`--format=plain` stays bare).
pub fn quote(arg: &str) -> std::borrow::Cow<'_, str> {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=+:,./@%".contains(c));
    if plain {
        arg.into()
    } else {
        shell_words::quote(arg)
    }
}
