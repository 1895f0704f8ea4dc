//! The resolved configuration as redacted `(VAR, value)` rows: the dry run and `check`.

use super::*;

/// Redacted `(VAR, value)` pairs describing the resolved configuration, for dry runs.
pub fn describe(c: &Config) -> Vec<(&'static str, String)> {
    let set = |v: bool| {
        if v {
            "*** (set)".to_string()
        } else {
            "(not set)".to_string()
        }
    };
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "(not set)".into());
    let mut out = vec![("ENGINE", c.engine.key().to_string())];
    match &c.conn.uri {
        Some(u) => out.push(("DB_URI", u.to_string())),
        None => {
            out.push(("DB_HOST", c.conn.host.clone().unwrap_or_default()));
            out.push(("DB_PORT", c.conn.port.to_string()));
            out.push(("DB_USER", opt(&c.conn.user)));
        }
    }
    out.push(("DB_PASSWORD", set(c.conn.password.is_some())));
    out.push(("DB_NAME", c.db_label().to_string()));
    out.push(("BACKUP_ALL_DATABASES", c.all_databases.to_string()));
    if let Some(split) = &c.split {
        out.push(("BACKUP_SPLIT_DATABASES", "true".into()));
        out.push(("BACKUP_INCLUDE_DATABASES", split.include.join(",")));
        out.push(("BACKUP_EXCLUDE_DATABASES", split.exclude.join(",")));
        out.push(("BACKUP_PARALLELISM", split.parallelism.to_string()));
    }
    out.push(("RCLONE_REMOTE", crate::remote::describe_remote(&c.remote)));
    out.push((
        "RCLONE_CONFIG",
        match &c.rclone_config {
            RcloneConfig::Default => "(rclone's default)".into(),
            RcloneConfig::File(p) => format!("file {}", p.display()),
            RcloneConfig::Inline(s) => format!("*** (inline, {} bytes)", s.expose_secret().len()),
        },
    ));
    out.push((
        "RCLONE_EXTRA_ARGS",
        shell_words::join(crate::argv::redact_args(&c.rclone_extra_args)),
    ));
    out.push((
        "BACKUP_SCHEDULE",
        match &c.schedule {
            Schedule::Once => "once".into(),
            Schedule::Cron { expr, .. } => expr.clone(),
        },
    ));
    out.push(("BACKUP_MODE", format!("{:?}", c.mode).to_ascii_lowercase()));
    out.push(("BACKUP_NAME_TEMPLATE", c.template.to_string()));
    out.push(("BACKUP_COMPRESS", c.compress.to_string()));
    if let Some(algo) = c.compress_algo {
        out.push(("BACKUP_COMPRESS_ALGO", algo.key().to_string()));
    }
    if let Some(level) = c.compress_level {
        out.push(("BACKUP_COMPRESS_LEVEL", level.to_string()));
    }
    if let Some(r) = &c.encryption.recipients {
        // Public keys: not secret, and what the reader must check.
        let keys: Vec<&str> = r
            .text
            .split(['\n', ','])
            .map(str::trim)
            .filter(|k| !k.is_empty() && !k.starts_with('#'))
            .collect();
        out.push((r.var, keys.join(", ")));
    }
    if let Some(p) = &c.encryption.identity_path {
        out.push(("RESTORE_IDENTITY_FILE", p.clone()));
    }
    out.push((
        "BACKUP_EXTENSION",
        c.extension.clone().unwrap_or_else(|| "(auto)".into()),
    ));
    out.push((
        "DUMP_EXTRA_ARGS",
        shell_words::join(crate::argv::redact_args(&c.dump_extra_args)),
    ));
    out.push(("TZ", c.tz.name().to_string()));
    out.push(("RETENTION_MAX_FILES", c.retention.max_files.to_string()));
    out.push(("RETENTION_MAX_DAYS", c.retention.max_days.to_string()));
    for (var, n) in c.retention.keep.vars() {
        if n > 0 {
            out.push((var, n.to_string()));
        }
    }
    out.push(("BACKUP_ON_START", c.on_start.to_string()));
    out.push((
        "BACKUP_TIMEOUT",
        c.timeout
            .map_or_else(|| "0 (no limit)".into(), crate::durations::fmt_human),
    ));
    out.push(("BACKUP_CHECKSUM", c.checksum.to_string()));
    out.push(("VERIFY_AFTER_BACKUP", c.verify_after_backup.to_string()));
    out.push(("BACKUP_LOCK", c.lock.to_string()));
    out.push(("BACKUP_LOCK_FILE", c.lock_file.display().to_string()));
    out.push(("BACKUP_TEMP_DIR", c.temp_dir.display().to_string()));
    out.push(("HEALTH_ADDR", c.health_addr.to_string()));
    out.push((
        "HEALTH_MAX_AGE",
        c.health_max_age
            .map_or_else(|| "(no limit)".into(), crate::durations::fmt_human),
    ));
    out.push((
        "NOTIFY_ON",
        format!("{:?}", c.notify.on).to_ascii_lowercase(),
    ));
    out.push((
        "NOTIFY_WEBHOOK_URL",
        match &c.notify.webhook {
            Some(w) => format!("*** (set; format {:?})", w.format).to_ascii_lowercase(),
            None => set(false),
        },
    ));
    out.push((
        "NOTIFY_EMAIL_TO",
        match &c.notify.email {
            Some(e) => format!(
                "{} (from {}, via {}:{} SMTP_TLS={}{})",
                e.to.join(", "),
                e.from,
                e.host,
                e.port,
                e.tls.as_str(),
                if e.user.is_some() { ", with login" } else { "" }
            ),
            None => set(false),
        },
    ));
    out.push(("NOTIFY_PING_URL", set(c.notify.ping.is_some())));
    out.push(("HOOK_PRE_BACKUP", set(c.hooks.pre_backup.is_some())));
    out.push(("HOOK_POST_BACKUP", set(c.hooks.post_backup.is_some())));
    out.push((
        "BACKUP_PROGRESS_INTERVAL",
        c.progress_interval
            .map_or_else(|| "0 (off)".into(), crate::durations::fmt_human),
    ));
    out.push(("LOG_LEVEL", c.log_level.to_string().to_ascii_lowercase()));
    out.push((
        "LOG_FORMAT",
        format!("{:?}", c.log_format).to_ascii_lowercase(),
    ));
    out
}
