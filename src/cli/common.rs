//! The flags every engine shares ([`CommonArgs`]): connection, rclone, schedule and naming,
//! encryption, retention, logging, safety and health, with the notification and hook flags
//! flattened in. Field order is `--help` order.

use clap::Args;

/// Flags shared by every engine. All optional strings: `config` validates and applies defaults.
#[derive(Debug, Default, Clone, Args)]
pub struct CommonArgs {
    // ---------------------------------------------------------------- Connection
    /// Connection URI (wins over DB_HOST etc.): postgresql://user:pass@host:5432/db, mysql://…/db, redis://:pass@host:6379/0, mongodb://…/db
    #[arg(
        long,
        env = "DB_URI",
        hide_env_values = true,
        global = true,
        value_name = "URI",
        help_heading = "Connection"
    )]
    pub db_uri: Option<String>,
    /// File holding the connection URI (Docker secrets); wins over DB_URI
    #[arg(
        long,
        env = "DB_URI_FILE",
        hide_env_values = true,
        global = true,
        value_name = "PATH",
        help_heading = "Connection"
    )]
    pub db_uri_file: Option<String>,
    /// Database host
    #[arg(
        long,
        env = "DB_HOST",
        hide_env_values = true,
        global = true,
        value_name = "HOST",
        help_heading = "Connection"
    )]
    pub db_host: Option<String>,
    /// Database port [default: the engine's: pg 5432, mysql/mariadb 3306, redis 6379, mongo 27017]
    #[arg(
        long,
        env = "DB_PORT",
        hide_env_values = true,
        global = true,
        value_name = "PORT",
        help_heading = "Connection"
    )]
    pub db_port: Option<String>,
    /// Database name (mutually exclusive with BACKUP_ALL_DATABASES)
    #[arg(
        long,
        env = "DB_NAME",
        hide_env_values = true,
        global = true,
        value_name = "NAME",
        help_heading = "Connection"
    )]
    pub db_name: Option<String>,
    /// Database user
    #[arg(
        long,
        env = "DB_USER",
        hide_env_values = true,
        global = true,
        value_name = "USER",
        help_heading = "Connection"
    )]
    pub db_user: Option<String>,
    /// Database password (prefer DB_PASSWORD_FILE)
    #[arg(
        long,
        env = "DB_PASSWORD",
        hide_env_values = true,
        global = true,
        value_name = "PASSWORD",
        help_heading = "Connection"
    )]
    pub db_password: Option<String>,
    /// File holding the database password (Docker secrets); wins over DB_PASSWORD
    #[arg(
        long,
        env = "DB_PASSWORD_FILE",
        hide_env_values = true,
        global = true,
        value_name = "PATH",
        help_heading = "Connection"
    )]
    pub db_password_file: Option<String>,
    /// Filled from `dbstash mongo --db-auth-source` or Docker mode's DB_AUTH_SOURCE.
    #[arg(skip)]
    pub db_auth_source: Option<String>,

    // ---------------------------------------------------------------- Rclone
    /// Rclone remote folder to store backups in, e.g. s3:my-bucket/backups (required)
    #[arg(
        long,
        env = "RCLONE_REMOTE",
        hide_env_values = true,
        global = true,
        value_name = "REMOTE",
        help_heading = "Rclone"
    )]
    pub rclone_remote: Option<String>,
    /// Base64-encoded rclone.conf content
    #[arg(
        long,
        env = "RCLONE_CONFIG",
        hide_env_values = true,
        global = true,
        value_name = "BASE64",
        help_heading = "Rclone"
    )]
    pub rclone_config: Option<String>,
    /// Path of an rclone.conf; wins over RCLONE_CONFIG [default: rclone's own, ~/.config/rclone/rclone.conf]
    #[arg(
        long,
        env = "RCLONE_CONFIG_FILE",
        hide_env_values = true,
        global = true,
        value_name = "PATH",
        help_heading = "Rclone"
    )]
    pub rclone_config_file: Option<String>,
    /// Extra flags for every rclone call, shell-word split (e.g. "--s3-chunk-size 64M")
    #[arg(
        long,
        env = "RCLONE_EXTRA_ARGS",
        hide_env_values = true,
        global = true,
        value_name = "ARGS",
        allow_hyphen_values = true,
        help_heading = "Rclone"
    )]
    pub rclone_extra_args: Option<String>,

    // ---------------------------------------------------------------- Schedule & naming
    /// Cron expression ("0 2 * * *", evaluated in TZ) or `once` to run one backup and exit [default: 0 2 * * *]
    #[arg(
        long,
        env = "BACKUP_SCHEDULE",
        hide_env_values = true,
        global = true,
        value_name = "CRON|once",
        help_heading = "Schedule & naming"
    )]
    pub backup_schedule: Option<String>,
    /// stream (dump stdout into one object), directory (a folder per backup) or tar (one .tar object); see docs/modes.md [default: stream]
    #[arg(
        long,
        env = "BACKUP_MODE",
        hide_env_values = true,
        global = true,
        value_name = "MODE",
        help_heading = "Schedule & naming"
    )]
    pub backup_mode: Option<String>,
    /// Object name template; tokens {db} {engine} {date} {time} {ts} {uuid} [default: {db}-{date}-{time}]
    #[arg(
        long,
        env = "BACKUP_NAME_TEMPLATE",
        hide_env_values = true,
        global = true,
        value_name = "TEMPLATE",
        help_heading = "Schedule & naming"
    )]
    pub backup_name_template: Option<String>,
    /// Compress: the dump tool's own where it has one (pg custom format .dump, mongo --gzip .archive.gz), else zstd in dbstash (mysql, mariadb, pg_dumpall: .sql.zst); redis: only with BACKUP_COMPRESS_ALGO [default: false]
    #[arg(long, env = "BACKUP_COMPRESS", hide_env_values = true, global = true, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", help_heading = "Schedule & naming")]
    pub backup_compress: Option<String>,
    /// Compress in dbstash with zstd or gzip for every engine, the dump tool's own compression off (.sql.zst, .archive.zst, .rdb.zst; needs BACKUP_COMPRESS=true; not in directory mode)
    #[arg(
        long,
        env = "BACKUP_COMPRESS_ALGO",
        hide_env_values = true,
        global = true,
        value_name = "ALGO",
        help_heading = "Schedule & naming"
    )]
    pub backup_compress_algo: Option<String>,
    /// Level of dbstash's in-process compression: zstd 1-19, gzip 1-9; an error where the dump tool compresses (set BACKUP_COMPRESS_ALGO) [default: zstd 3, gzip 6]
    #[arg(
        long,
        env = "BACKUP_COMPRESS_LEVEL",
        hide_env_values = true,
        global = true,
        value_name = "N",
        help_heading = "Schedule & naming"
    )]
    pub backup_compress_level: Option<String>,
    /// Encrypt each backup in dbstash with age to these public keys (age1…, ssh-ed25519 …, ssh-rsa …; comma separated): .age is appended; only the matching private key can read it
    #[arg(
        long,
        env = "BACKUP_ENCRYPT_RECIPIENTS",
        hide_env_values = true,
        global = true,
        value_name = "KEYS",
        help_heading = "Encryption"
    )]
    pub backup_encrypt_recipients: Option<String>,
    /// A file of age recipients, one public key per line (# comments), instead of BACKUP_ENCRYPT_RECIPIENTS (setting both is an error)
    #[arg(
        long,
        env = "BACKUP_ENCRYPT_RECIPIENTS_FILE",
        hide_env_values = true,
        global = true,
        value_name = "PATH",
        help_heading = "Encryption"
    )]
    pub backup_encrypt_recipients_file: Option<String>,
    /// restore and verify (and VERIFY_AFTER_BACKUP): decrypt .age backups with this age identity file or unencrypted SSH private key (keep it 0600, off the backup host)
    #[arg(
        long,
        env = "RESTORE_IDENTITY_FILE",
        hide_env_values = true,
        global = true,
        value_name = "PATH",
        help_heading = "Encryption"
    )]
    pub restore_identity_file: Option<String>,
    /// File extension, e.g. .sql [default: picked from engine, compression and DUMP_EXTRA_ARGS]
    #[arg(
        long,
        env = "BACKUP_EXTENSION",
        hide_env_values = true,
        global = true,
        value_name = "EXT",
        help_heading = "Schedule & naming"
    )]
    pub backup_extension: Option<String>,
    /// Dump every database (pg_dumpall for pg); {db} becomes `all`. Alias: BACKUP_ALL_DBS [default: false]
    #[arg(long, env = "BACKUP_ALL_DATABASES", hide_env_values = true, global = true, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", help_heading = "Schedule & naming")]
    pub backup_all_databases: Option<String>,
    /// Alias of --backup-all-databases
    #[arg(long, env = "BACKUP_ALL_DBS", hide_env_values = true, global = true, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", hide = true)]
    pub backup_all_dbs: Option<String>,
    /// With BACKUP_ALL_DATABASES: one backup per database, named with its {db} (plus `globals` for pg's roles and tablespaces) [default: false]
    #[arg(long, env = "BACKUP_SPLIT_DATABASES", hide_env_values = true, global = true, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", help_heading = "Schedule & naming")]
    pub backup_split_databases: Option<String>,
    /// With BACKUP_SPLIT_DATABASES: comma-separated databases backed up besides the non-system ones (system databases are skipped unless named here)
    #[arg(
        long,
        env = "BACKUP_INCLUDE_DATABASES",
        hide_env_values = true,
        global = true,
        value_name = "NAMES",
        help_heading = "Schedule & naming"
    )]
    pub backup_include_databases: Option<String>,
    /// With BACKUP_SPLIT_DATABASES: comma-separated databases never backed up
    #[arg(
        long,
        env = "BACKUP_EXCLUDE_DATABASES",
        hide_env_values = true,
        global = true,
        value_name = "NAMES",
        help_heading = "Schedule & naming"
    )]
    pub backup_exclude_databases: Option<String>,
    /// With BACKUP_SPLIT_DATABASES: how many databases are dumped at once, 1 to 32 [default: 1]
    #[arg(
        long,
        env = "BACKUP_PARALLELISM",
        hide_env_values = true,
        global = true,
        value_name = "N",
        help_heading = "Schedule & naming"
    )]
    pub backup_parallelism: Option<String>,
    /// Run one backup at start, then follow the schedule [default: false]
    #[arg(long, env = "BACKUP_ON_START", hide_env_values = true, global = true, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", help_heading = "Schedule & naming")]
    pub backup_on_start: Option<String>,
    /// Extra flags for the dump tool, shell-word split; they come last and override BACKUP_COMPRESS
    #[arg(
        long,
        env = "DUMP_EXTRA_ARGS",
        hide_env_values = true,
        global = true,
        value_name = "ARGS",
        allow_hyphen_values = true,
        help_heading = "Schedule & naming"
    )]
    pub dump_extra_args: Option<String>,
    /// Time zone for the schedule and the {date}/{time} tokens, e.g. Europe/Berlin [default: UTC]
    #[arg(
        long,
        env = "TZ",
        hide_env_values = true,
        global = true,
        value_name = "ZONE",
        help_heading = "Schedule & naming"
    )]
    pub tz: Option<String>,

    // ---------------------------------------------------------------- Retention
    /// Keep at most N backups (0 = unlimited) [default: 0]
    #[arg(
        long,
        env = "RETENTION_MAX_FILES",
        hide_env_values = true,
        global = true,
        value_name = "N",
        help_heading = "Retention"
    )]
    pub retention_max_files: Option<String>,
    /// Delete backups older than N days (0 = unlimited) [default: 0]
    #[arg(
        long,
        env = "RETENTION_MAX_DAYS",
        hide_env_values = true,
        global = true,
        value_name = "N",
        help_heading = "Retention"
    )]
    pub retention_max_days: Option<String>,
    /// Keep the newest N backups (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]
    #[arg(
        long,
        env = "RETENTION_KEEP_LAST",
        hide_env_values = true,
        global = true,
        value_name = "N",
        help_heading = "Retention"
    )]
    pub retention_keep_last: Option<String>,
    /// Keep the newest backup of each of the last N hours that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]
    #[arg(
        long,
        env = "RETENTION_KEEP_HOURLY",
        hide_env_values = true,
        global = true,
        value_name = "N",
        help_heading = "Retention"
    )]
    pub retention_keep_hourly: Option<String>,
    /// Keep the newest backup of each of the last N days that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]
    #[arg(
        long,
        env = "RETENTION_KEEP_DAILY",
        hide_env_values = true,
        global = true,
        value_name = "N",
        help_heading = "Retention"
    )]
    pub retention_keep_daily: Option<String>,
    /// Keep the newest backup of each of the last N ISO weeks that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]
    #[arg(
        long,
        env = "RETENTION_KEEP_WEEKLY",
        hide_env_values = true,
        global = true,
        value_name = "N",
        help_heading = "Retention"
    )]
    pub retention_keep_weekly: Option<String>,
    /// Keep the newest backup of each of the last N months that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]
    #[arg(
        long,
        env = "RETENTION_KEEP_MONTHLY",
        hide_env_values = true,
        global = true,
        value_name = "N",
        help_heading = "Retention"
    )]
    pub retention_keep_monthly: Option<String>,
    /// Keep the newest backup of each of the last N years that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]
    #[arg(
        long,
        env = "RETENTION_KEEP_YEARLY",
        hide_env_values = true,
        global = true,
        value_name = "N",
        help_heading = "Retention"
    )]
    pub retention_keep_yearly: Option<String>,

    // ---------------------------------------------------------------- Notifications
    #[command(flatten)]
    pub notify: crate::notify::settings::NotifyArgs,

    // ---------------------------------------------------------------- Logging
    /// debug, info, warn or error [default: info]
    #[arg(
        long,
        env = "LOG_LEVEL",
        hide_env_values = true,
        global = true,
        value_name = "LEVEL",
        help_heading = "Logging"
    )]
    pub log_level: Option<String>,
    /// text or json [default: text]
    #[arg(
        long,
        env = "LOG_FORMAT",
        hide_env_values = true,
        global = true,
        value_name = "FORMAT",
        help_heading = "Logging"
    )]
    pub log_format: Option<String>,

    // ---------------------------------------------------------------- Hooks
    #[command(flatten)]
    pub hooks: crate::hooks::settings::HookArgs,

    // ---------------------------------------------------------------- Safety & reliability
    /// Longest a backup may run, e.g. 30m, 1h, 1h30m (0 = no limit) [default: 0]
    #[arg(
        long,
        env = "BACKUP_TIMEOUT",
        hide_env_values = true,
        global = true,
        value_name = "DURATION",
        help_heading = "Safety & reliability"
    )]
    pub backup_timeout: Option<String>,
    /// Skip a run (scheduled or once) while another run of the same backup holds the lock file [default: true]
    #[arg(long, env = "BACKUP_LOCK", hide_env_values = true, global = true, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", help_heading = "Safety & reliability")]
    pub backup_lock: Option<String>,
    /// Print the resolved config, dump command and rclone target (secrets redacted); run nothing [default: false]
    #[arg(long, env = "DRY_RUN", hide_env_values = true, global = true, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", help_heading = "Safety & reliability")]
    pub dry_run: Option<String>,
    /// Write NAME.sha256 beside each backup; objects without one count as incomplete for retention [default: true]
    #[arg(long, env = "BACKUP_CHECKSUM", hide_env_values = true, global = true, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", help_heading = "Safety & reliability")]
    pub backup_checksum: Option<String>,
    /// Lock file guarding against overlapping runs, also across processes sharing it [default: BACKUP_TEMP_DIR/dbstash-<engine>-<db>-<remote hash>.lock]
    #[arg(
        long,
        env = "BACKUP_LOCK_FILE",
        hide_env_values = true,
        value_name = "PATH",
        global = true,
        help_heading = "Safety & reliability"
    )]
    pub backup_lock_file: Option<String>,
    /// After each backup, download it again and verify its checksum and completeness (as `dbstash verify`); a failed verification fails the run [default: false]
    #[arg(long, env = "VERIFY_AFTER_BACKUP", hide_env_values = true, global = true, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", help_heading = "Safety & reliability")]
    pub verify_after_backup: Option<String>,
    /// How often a running backup logs its progress (bytes, rate, elapsed), e.g. 30s or 5m; 0 turns it off [default: 1m]
    #[arg(
        long,
        env = "BACKUP_PROGRESS_INTERVAL",
        hide_env_values = true,
        global = true,
        value_name = "DURATION",
        help_heading = "Logging"
    )]
    pub backup_progress_interval: Option<String>,
    /// Address of the /healthz and /metrics endpoint (not served with BACKUP_SCHEDULE=once) [default: 0.0.0.0:8080]
    #[arg(
        long,
        env = "HEALTH_ADDR",
        hide_env_values = true,
        value_name = "ADDR",
        global = true,
        help_heading = "Health"
    )]
    pub health_addr: Option<String>,
    /// /healthz answers 503 when no backup succeeded within this long, e.g. 26h (unset: no limit)
    #[arg(
        long,
        env = "HEALTH_MAX_AGE",
        hide_env_values = true,
        value_name = "DURATION",
        global = true,
        help_heading = "Health"
    )]
    pub health_max_age: Option<String>,
    /// Work directory: holds the default lock file, and the dumps of the directory and tar modes [default: /tmp/dbstash-work]
    #[arg(
        long,
        env = "BACKUP_TEMP_DIR",
        hide_env_values = true,
        global = true,
        value_name = "PATH",
        help_heading = "Safety & reliability"
    )]
    pub backup_temp_dir: Option<String>,
}
