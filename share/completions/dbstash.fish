# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_dbstash_global_optspecs
    string join \n engine= db-auth-source= db-uri= db-uri-file= db-host= db-port= db-name= db-user= db-password= db-password-file= rclone-remote= rclone-config= rclone-config-file= rclone-extra-args= backup-schedule= backup-mode= backup-name-template= backup-compress= backup-compress-algo= backup-compress-level= backup-encrypt-recipients= backup-encrypt-recipients-file= restore-identity-file= backup-extension= backup-all-databases= backup-all-dbs= backup-split-databases= backup-include-databases= backup-exclude-databases= backup-parallelism= backup-on-start= dump-extra-args= tz= retention-max-files= retention-max-days= retention-keep-last= retention-keep-hourly= retention-keep-daily= retention-keep-weekly= retention-keep-monthly= retention-keep-yearly= notify-webhook-url= notify-webhook-format= notify-on= notify-email-to= notify-email-from= smtp-host= smtp-port= smtp-user= smtp-password= smtp-password-file= smtp-tls= notify-ping-url= log-level= log-format= hook-pre-backup= hook-post-backup= backup-timeout= backup-lock= dry-run= backup-checksum= backup-lock-file= verify-after-backup= backup-progress-interval= health-addr= health-max-age= backup-temp-dir= h/help V/version
end

function __fish_dbstash_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_dbstash_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_dbstash_using_subcommand
    set -l cmd (__fish_dbstash_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c dbstash -n "__fish_dbstash_needs_command" -l engine -d 'Engine when no subcommand is given (Docker mode): pg, mysql, mariadb, redis or mongo' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l db-auth-source -d 'DB_AUTH_SOURCE in Docker mode (mongo only; `dbstash mongo --db-auth-source` otherwise)' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l db-uri -d 'Connection URI (wins over DB_HOST etc.): postgresql://user:pass@host:5432/db, mysql://…/db, redis://:pass@host:6379/0, mongodb://…/db' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l db-uri-file -d 'File holding the connection URI (Docker secrets); wins over DB_URI' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l db-host -d 'Database host' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l db-port -d 'Database port [default: the engine\'s: pg 5432, mysql/mariadb 3306, redis 6379, mongo 27017]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l db-name -d 'Database name (mutually exclusive with BACKUP_ALL_DATABASES)' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l db-user -d 'Database user' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l db-password -d 'Database password (prefer DB_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l db-password-file -d 'File holding the database password (Docker secrets); wins over DB_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l rclone-remote -d 'Rclone remote folder to store backups in, e.g. s3:my-bucket/backups (required)' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l rclone-config -d 'Base64-encoded rclone.conf content' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l rclone-config-file -d 'Path of an rclone.conf; wins over RCLONE_CONFIG [default: rclone\'s own, ~/.config/rclone/rclone.conf]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l rclone-extra-args -d 'Extra flags for every rclone call, shell-word split (e.g. "--s3-chunk-size 64M")' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l backup-schedule -d 'Cron expression ("0 2 * * *", evaluated in TZ) or `once` to run one backup and exit [default: 0 2 * * *]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l backup-mode -d 'stream (dump stdout into one object), directory (a folder per backup) or tar (one .tar object); see docs/modes.md [default: stream]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l backup-name-template -d 'Object name template; tokens {db} {engine} {date} {time} {ts} {uuid} [default: {db}-{date}-{time}]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l backup-compress -d 'Compress: the dump tool\'s own where it has one (pg custom format .dump, mongo --gzip .archive.gz), else zstd in dbstash (mysql, mariadb, pg_dumpall: .sql.zst); redis: only with BACKUP_COMPRESS_ALGO [default: false]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l backup-compress-algo -d 'Compress in dbstash with zstd or gzip for every engine, the dump tool\'s own compression off (.sql.zst, .archive.zst, .rdb.zst; needs BACKUP_COMPRESS=true; not in directory mode)' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l backup-compress-level -d 'Level of dbstash\'s in-process compression: zstd 1-19, gzip 1-9; an error where the dump tool compresses (set BACKUP_COMPRESS_ALGO) [default: zstd 3, gzip 6]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l backup-encrypt-recipients -d 'Encrypt each backup in dbstash with age to these public keys (age1…, ssh-ed25519 …, ssh-rsa …; comma separated): .age is appended; only the matching private key can read it' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l backup-encrypt-recipients-file -d 'A file of age recipients, one public key per line (# comments), instead of BACKUP_ENCRYPT_RECIPIENTS (setting both is an error)' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l restore-identity-file -d 'restore and verify (and VERIFY_AFTER_BACKUP): decrypt .age backups with this age identity file or unencrypted SSH private key (keep it 0600, off the backup host)' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l backup-extension -d 'File extension, e.g. .sql [default: picked from engine, compression and DUMP_EXTRA_ARGS]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l backup-all-databases -d 'Dump every database (pg_dumpall for pg); {db} becomes `all`. Alias: BACKUP_ALL_DBS [default: false]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l backup-all-dbs -d 'Alias of --backup-all-databases' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l backup-split-databases -d 'With BACKUP_ALL_DATABASES: one backup per database, named with its {db} (plus `globals` for pg\'s roles and tablespaces) [default: false]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l backup-include-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases backed up besides the non-system ones (system databases are skipped unless named here)' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l backup-exclude-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases never backed up' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l backup-parallelism -d 'With BACKUP_SPLIT_DATABASES: how many databases are dumped at once, 1 to 32 [default: 1]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l backup-on-start -d 'Run one backup at start, then follow the schedule [default: false]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l dump-extra-args -d 'Extra flags for the dump tool, shell-word split; they come last and override BACKUP_COMPRESS' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l tz -d 'Time zone for the schedule and the {date}/{time} tokens, e.g. Europe/Berlin [default: UTC]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l retention-max-files -d 'Keep at most N backups (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l retention-max-days -d 'Delete backups older than N days (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l retention-keep-last -d 'Keep the newest N backups (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l retention-keep-hourly -d 'Keep the newest backup of each of the last N hours that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l retention-keep-daily -d 'Keep the newest backup of each of the last N days that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l retention-keep-weekly -d 'Keep the newest backup of each of the last N ISO weeks that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l retention-keep-monthly -d 'Keep the newest backup of each of the last N months that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l retention-keep-yearly -d 'Keep the newest backup of each of the last N years that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l notify-webhook-url -d 'Webhook to notify: Slack, Discord, or any URL taking a JSON POST' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l notify-webhook-format -d 'Payload shape: auto (Slack for hooks.slack.com, Discord for /api/webhooks/ paths, JSON otherwise), slack, discord or json [default: auto]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l notify-on -d 'When the webhook and email are sent: always, failure or success [default: failure]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l notify-email-to -d 'Email recipients, comma-separated (needs NOTIFY_EMAIL_FROM and SMTP_HOST)' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l notify-email-from -d 'Sender address of notification emails' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l smtp-host -d 'SMTP server host for notification emails' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l smtp-port -d 'SMTP port [default: 587 with starttls, 465 with tls, 25 with none]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l smtp-user -d 'SMTP user name (with SMTP_PASSWORD or SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l smtp-password -d 'SMTP password (prefer SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l smtp-password-file -d 'File holding the SMTP password (Docker secrets); wins over SMTP_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l smtp-tls -d 'starttls, tls (implicit, port 465) or none [default: starttls]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l notify-ping-url -d 'Ping URL (healthchecks.io, Uptime Kuma): URL/start when a run starts, URL on success, URL/fail on failure, whatever NOTIFY_ON says' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l log-level -d 'debug, info, warn or error [default: info]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l log-format -d 'text or json [default: text]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l hook-pre-backup -d 'Shell command (sh -c) run before each backup; a non-zero exit, or running past BACKUP_TIMEOUT, aborts the backup as a failure' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l hook-post-backup -d 'Shell command (sh -c) run after every attempt, with DBSTASH_STATUS, DBSTASH_FILE, DBSTASH_ERROR and more; its failure is only a warning' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l backup-timeout -d 'Longest a backup may run, e.g. 30m, 1h, 1h30m (0 = no limit) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l backup-lock -d 'Skip a run (scheduled or once) while another run of the same backup holds the lock file [default: true]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l dry-run -d 'Print the resolved config, dump command and rclone target (secrets redacted); run nothing [default: false]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l backup-checksum -d 'Write NAME.sha256 beside each backup; objects without one count as incomplete for retention [default: true]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l backup-lock-file -d 'Lock file guarding against overlapping runs, also across processes sharing it [default: BACKUP_TEMP_DIR/dbstash-<engine>-<db>-<remote hash>.lock]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l verify-after-backup -d 'After each backup, download it again and verify its checksum and completeness (as `dbstash verify`); a failed verification fails the run [default: false]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l backup-progress-interval -d 'How often a running backup logs its progress (bytes, rate, elapsed), e.g. 30s or 5m; 0 turns it off [default: 1m]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l health-addr -d 'Address of the /healthz and /metrics endpoint (not served with BACKUP_SCHEDULE=once) [default: 0.0.0.0:8080]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l health-max-age -d '/healthz answers 503 when no backup succeeded within this long, e.g. 26h (unset: no limit)' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -l backup-temp-dir -d 'Work directory: holds the default lock file, and the dumps of the directory and tar modes [default: /tmp/dbstash-work]' -r
complete -c dbstash -n "__fish_dbstash_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dbstash -n "__fish_dbstash_needs_command" -s V -l version -d 'Print version'
complete -c dbstash -n "__fish_dbstash_needs_command" -f -a "pg" -d 'Back up PostgreSQL with pg_dump (one database) or pg_dumpall (all databases)'
complete -c dbstash -n "__fish_dbstash_needs_command" -f -a "mysql" -d 'Back up MySQL with mysqldump'
complete -c dbstash -n "__fish_dbstash_needs_command" -f -a "mariadb" -d 'Back up MariaDB with mariadb-dump (or mysqldump when mariadb-dump is missing)'
complete -c dbstash -n "__fish_dbstash_needs_command" -f -a "redis" -d 'Back up Redis with redis-cli --rdb (the whole RDB snapshot)'
complete -c dbstash -n "__fish_dbstash_needs_command" -f -a "mongo" -d 'Back up MongoDB with mongodump --archive'
complete -c dbstash -n "__fish_dbstash_needs_command" -f -a "completions" -d 'Print a shell completion script: bash, zsh, fish, powershell or elvish'
complete -c dbstash -n "__fish_dbstash_needs_command" -f -a "man" -d 'Print the man page (roff) for dbstash(1)'
complete -c dbstash -n "__fish_dbstash_needs_command" -f -a "check" -d 'Check the configuration without taking a backup: the dump tool and rclone (with versions), the remote, and a database connection with the dump\'s own credentials. Exit 0 all ok, 1 a step failed, 2 bad configuration'
complete -c dbstash -n "__fish_dbstash_needs_command" -f -a "list" -d 'List this configuration\'s backups on the remote, newest first: name, time, size, checksum state (ok, or incomplete without its .sha256)'
complete -c dbstash -n "__fish_dbstash_needs_command" -f -a "restore" -d 'Restore a backup (latest, or --backup NAME) into the database, checking its SHA-256 first; refuses a database that has tables unless --drop-existing or --force'
complete -c dbstash -n "__fish_dbstash_needs_command" -f -a "prune" -d 'Apply this configuration\'s retention (RETENTION_MAX_*, RETENTION_KEEP_*) without taking a backup: prints each backup as kept (and by which rule) or deleted. With --dry-run nothing is deleted. Exit 0, or 1 when the remote cannot be listed or a deletion failed'
complete -c dbstash -n "__fish_dbstash_needs_command" -f -a "verify" -d 'Download a backup and check its checksum and that the dump is complete, without restoring it. Exit 0 or 1'
complete -c dbstash -n "__fish_dbstash_needs_command" -f -a "healthcheck" -d 'Probe this process\'s own /healthz (HEALTH_ADDR) and exit 0 when healthy, 1 otherwise; always 0 with BACKUP_SCHEDULE=once. For Docker\'s HEALTHCHECK: needs no curl or wget'
complete -c dbstash -n "__fish_dbstash_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l db-uri -d 'Connection URI (wins over DB_HOST etc.): postgresql://user:pass@host:5432/db, mysql://…/db, redis://:pass@host:6379/0, mongodb://…/db' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l db-uri-file -d 'File holding the connection URI (Docker secrets); wins over DB_URI' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l db-host -d 'Database host' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l db-port -d 'Database port [default: the engine\'s: pg 5432, mysql/mariadb 3306, redis 6379, mongo 27017]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l db-name -d 'Database name (mutually exclusive with BACKUP_ALL_DATABASES)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l db-user -d 'Database user' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l db-password -d 'Database password (prefer DB_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l db-password-file -d 'File holding the database password (Docker secrets); wins over DB_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l rclone-remote -d 'Rclone remote folder to store backups in, e.g. s3:my-bucket/backups (required)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l rclone-config -d 'Base64-encoded rclone.conf content' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l rclone-config-file -d 'Path of an rclone.conf; wins over RCLONE_CONFIG [default: rclone\'s own, ~/.config/rclone/rclone.conf]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l rclone-extra-args -d 'Extra flags for every rclone call, shell-word split (e.g. "--s3-chunk-size 64M")' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l backup-schedule -d 'Cron expression ("0 2 * * *", evaluated in TZ) or `once` to run one backup and exit [default: 0 2 * * *]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l backup-mode -d 'stream (dump stdout into one object), directory (a folder per backup) or tar (one .tar object); see docs/modes.md [default: stream]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l backup-name-template -d 'Object name template; tokens {db} {engine} {date} {time} {ts} {uuid} [default: {db}-{date}-{time}]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l backup-compress -d 'Compress: the dump tool\'s own where it has one (pg custom format .dump, mongo --gzip .archive.gz), else zstd in dbstash (mysql, mariadb, pg_dumpall: .sql.zst); redis: only with BACKUP_COMPRESS_ALGO [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l backup-compress-algo -d 'Compress in dbstash with zstd or gzip for every engine, the dump tool\'s own compression off (.sql.zst, .archive.zst, .rdb.zst; needs BACKUP_COMPRESS=true; not in directory mode)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l backup-compress-level -d 'Level of dbstash\'s in-process compression: zstd 1-19, gzip 1-9; an error where the dump tool compresses (set BACKUP_COMPRESS_ALGO) [default: zstd 3, gzip 6]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l backup-encrypt-recipients -d 'Encrypt each backup in dbstash with age to these public keys (age1…, ssh-ed25519 …, ssh-rsa …; comma separated): .age is appended; only the matching private key can read it' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l backup-encrypt-recipients-file -d 'A file of age recipients, one public key per line (# comments), instead of BACKUP_ENCRYPT_RECIPIENTS (setting both is an error)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l restore-identity-file -d 'restore and verify (and VERIFY_AFTER_BACKUP): decrypt .age backups with this age identity file or unencrypted SSH private key (keep it 0600, off the backup host)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l backup-extension -d 'File extension, e.g. .sql [default: picked from engine, compression and DUMP_EXTRA_ARGS]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l backup-all-databases -d 'Dump every database (pg_dumpall for pg); {db} becomes `all`. Alias: BACKUP_ALL_DBS [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l backup-all-dbs -d 'Alias of --backup-all-databases' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l backup-split-databases -d 'With BACKUP_ALL_DATABASES: one backup per database, named with its {db} (plus `globals` for pg\'s roles and tablespaces) [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l backup-include-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases backed up besides the non-system ones (system databases are skipped unless named here)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l backup-exclude-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases never backed up' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l backup-parallelism -d 'With BACKUP_SPLIT_DATABASES: how many databases are dumped at once, 1 to 32 [default: 1]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l backup-on-start -d 'Run one backup at start, then follow the schedule [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l dump-extra-args -d 'Extra flags for the dump tool, shell-word split; they come last and override BACKUP_COMPRESS' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l tz -d 'Time zone for the schedule and the {date}/{time} tokens, e.g. Europe/Berlin [default: UTC]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l retention-max-files -d 'Keep at most N backups (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l retention-max-days -d 'Delete backups older than N days (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l retention-keep-last -d 'Keep the newest N backups (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l retention-keep-hourly -d 'Keep the newest backup of each of the last N hours that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l retention-keep-daily -d 'Keep the newest backup of each of the last N days that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l retention-keep-weekly -d 'Keep the newest backup of each of the last N ISO weeks that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l retention-keep-monthly -d 'Keep the newest backup of each of the last N months that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l retention-keep-yearly -d 'Keep the newest backup of each of the last N years that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l notify-webhook-url -d 'Webhook to notify: Slack, Discord, or any URL taking a JSON POST' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l notify-webhook-format -d 'Payload shape: auto (Slack for hooks.slack.com, Discord for /api/webhooks/ paths, JSON otherwise), slack, discord or json [default: auto]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l notify-on -d 'When the webhook and email are sent: always, failure or success [default: failure]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l notify-email-to -d 'Email recipients, comma-separated (needs NOTIFY_EMAIL_FROM and SMTP_HOST)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l notify-email-from -d 'Sender address of notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l smtp-host -d 'SMTP server host for notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l smtp-port -d 'SMTP port [default: 587 with starttls, 465 with tls, 25 with none]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l smtp-user -d 'SMTP user name (with SMTP_PASSWORD or SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l smtp-password -d 'SMTP password (prefer SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l smtp-password-file -d 'File holding the SMTP password (Docker secrets); wins over SMTP_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l smtp-tls -d 'starttls, tls (implicit, port 465) or none [default: starttls]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l notify-ping-url -d 'Ping URL (healthchecks.io, Uptime Kuma): URL/start when a run starts, URL on success, URL/fail on failure, whatever NOTIFY_ON says' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l log-level -d 'debug, info, warn or error [default: info]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l log-format -d 'text or json [default: text]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l hook-pre-backup -d 'Shell command (sh -c) run before each backup; a non-zero exit, or running past BACKUP_TIMEOUT, aborts the backup as a failure' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l hook-post-backup -d 'Shell command (sh -c) run after every attempt, with DBSTASH_STATUS, DBSTASH_FILE, DBSTASH_ERROR and more; its failure is only a warning' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l backup-timeout -d 'Longest a backup may run, e.g. 30m, 1h, 1h30m (0 = no limit) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l backup-lock -d 'Skip a run (scheduled or once) while another run of the same backup holds the lock file [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l dry-run -d 'Print the resolved config, dump command and rclone target (secrets redacted); run nothing [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l backup-checksum -d 'Write NAME.sha256 beside each backup; objects without one count as incomplete for retention [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l backup-lock-file -d 'Lock file guarding against overlapping runs, also across processes sharing it [default: BACKUP_TEMP_DIR/dbstash-<engine>-<db>-<remote hash>.lock]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l verify-after-backup -d 'After each backup, download it again and verify its checksum and completeness (as `dbstash verify`); a failed verification fails the run [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l backup-progress-interval -d 'How often a running backup logs its progress (bytes, rate, elapsed), e.g. 30s or 5m; 0 turns it off [default: 1m]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l health-addr -d 'Address of the /healthz and /metrics endpoint (not served with BACKUP_SCHEDULE=once) [default: 0.0.0.0:8080]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l health-max-age -d '/healthz answers 503 when no backup succeeded within this long, e.g. 26h (unset: no limit)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -l backup-temp-dir -d 'Work directory: holds the default lock file, and the dumps of the directory and tar modes [default: /tmp/dbstash-work]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand pg" -s h -l help -d 'Print help'
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l db-uri -d 'Connection URI (wins over DB_HOST etc.): postgresql://user:pass@host:5432/db, mysql://…/db, redis://:pass@host:6379/0, mongodb://…/db' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l db-uri-file -d 'File holding the connection URI (Docker secrets); wins over DB_URI' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l db-host -d 'Database host' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l db-port -d 'Database port [default: the engine\'s: pg 5432, mysql/mariadb 3306, redis 6379, mongo 27017]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l db-name -d 'Database name (mutually exclusive with BACKUP_ALL_DATABASES)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l db-user -d 'Database user' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l db-password -d 'Database password (prefer DB_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l db-password-file -d 'File holding the database password (Docker secrets); wins over DB_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l rclone-remote -d 'Rclone remote folder to store backups in, e.g. s3:my-bucket/backups (required)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l rclone-config -d 'Base64-encoded rclone.conf content' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l rclone-config-file -d 'Path of an rclone.conf; wins over RCLONE_CONFIG [default: rclone\'s own, ~/.config/rclone/rclone.conf]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l rclone-extra-args -d 'Extra flags for every rclone call, shell-word split (e.g. "--s3-chunk-size 64M")' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l backup-schedule -d 'Cron expression ("0 2 * * *", evaluated in TZ) or `once` to run one backup and exit [default: 0 2 * * *]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l backup-mode -d 'stream (dump stdout into one object), directory (a folder per backup) or tar (one .tar object); see docs/modes.md [default: stream]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l backup-name-template -d 'Object name template; tokens {db} {engine} {date} {time} {ts} {uuid} [default: {db}-{date}-{time}]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l backup-compress -d 'Compress: the dump tool\'s own where it has one (pg custom format .dump, mongo --gzip .archive.gz), else zstd in dbstash (mysql, mariadb, pg_dumpall: .sql.zst); redis: only with BACKUP_COMPRESS_ALGO [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l backup-compress-algo -d 'Compress in dbstash with zstd or gzip for every engine, the dump tool\'s own compression off (.sql.zst, .archive.zst, .rdb.zst; needs BACKUP_COMPRESS=true; not in directory mode)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l backup-compress-level -d 'Level of dbstash\'s in-process compression: zstd 1-19, gzip 1-9; an error where the dump tool compresses (set BACKUP_COMPRESS_ALGO) [default: zstd 3, gzip 6]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l backup-encrypt-recipients -d 'Encrypt each backup in dbstash with age to these public keys (age1…, ssh-ed25519 …, ssh-rsa …; comma separated): .age is appended; only the matching private key can read it' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l backup-encrypt-recipients-file -d 'A file of age recipients, one public key per line (# comments), instead of BACKUP_ENCRYPT_RECIPIENTS (setting both is an error)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l restore-identity-file -d 'restore and verify (and VERIFY_AFTER_BACKUP): decrypt .age backups with this age identity file or unencrypted SSH private key (keep it 0600, off the backup host)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l backup-extension -d 'File extension, e.g. .sql [default: picked from engine, compression and DUMP_EXTRA_ARGS]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l backup-all-databases -d 'Dump every database (pg_dumpall for pg); {db} becomes `all`. Alias: BACKUP_ALL_DBS [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l backup-all-dbs -d 'Alias of --backup-all-databases' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l backup-split-databases -d 'With BACKUP_ALL_DATABASES: one backup per database, named with its {db} (plus `globals` for pg\'s roles and tablespaces) [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l backup-include-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases backed up besides the non-system ones (system databases are skipped unless named here)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l backup-exclude-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases never backed up' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l backup-parallelism -d 'With BACKUP_SPLIT_DATABASES: how many databases are dumped at once, 1 to 32 [default: 1]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l backup-on-start -d 'Run one backup at start, then follow the schedule [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l dump-extra-args -d 'Extra flags for the dump tool, shell-word split; they come last and override BACKUP_COMPRESS' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l tz -d 'Time zone for the schedule and the {date}/{time} tokens, e.g. Europe/Berlin [default: UTC]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l retention-max-files -d 'Keep at most N backups (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l retention-max-days -d 'Delete backups older than N days (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l retention-keep-last -d 'Keep the newest N backups (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l retention-keep-hourly -d 'Keep the newest backup of each of the last N hours that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l retention-keep-daily -d 'Keep the newest backup of each of the last N days that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l retention-keep-weekly -d 'Keep the newest backup of each of the last N ISO weeks that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l retention-keep-monthly -d 'Keep the newest backup of each of the last N months that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l retention-keep-yearly -d 'Keep the newest backup of each of the last N years that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l notify-webhook-url -d 'Webhook to notify: Slack, Discord, or any URL taking a JSON POST' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l notify-webhook-format -d 'Payload shape: auto (Slack for hooks.slack.com, Discord for /api/webhooks/ paths, JSON otherwise), slack, discord or json [default: auto]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l notify-on -d 'When the webhook and email are sent: always, failure or success [default: failure]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l notify-email-to -d 'Email recipients, comma-separated (needs NOTIFY_EMAIL_FROM and SMTP_HOST)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l notify-email-from -d 'Sender address of notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l smtp-host -d 'SMTP server host for notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l smtp-port -d 'SMTP port [default: 587 with starttls, 465 with tls, 25 with none]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l smtp-user -d 'SMTP user name (with SMTP_PASSWORD or SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l smtp-password -d 'SMTP password (prefer SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l smtp-password-file -d 'File holding the SMTP password (Docker secrets); wins over SMTP_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l smtp-tls -d 'starttls, tls (implicit, port 465) or none [default: starttls]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l notify-ping-url -d 'Ping URL (healthchecks.io, Uptime Kuma): URL/start when a run starts, URL on success, URL/fail on failure, whatever NOTIFY_ON says' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l log-level -d 'debug, info, warn or error [default: info]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l log-format -d 'text or json [default: text]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l hook-pre-backup -d 'Shell command (sh -c) run before each backup; a non-zero exit, or running past BACKUP_TIMEOUT, aborts the backup as a failure' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l hook-post-backup -d 'Shell command (sh -c) run after every attempt, with DBSTASH_STATUS, DBSTASH_FILE, DBSTASH_ERROR and more; its failure is only a warning' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l backup-timeout -d 'Longest a backup may run, e.g. 30m, 1h, 1h30m (0 = no limit) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l backup-lock -d 'Skip a run (scheduled or once) while another run of the same backup holds the lock file [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l dry-run -d 'Print the resolved config, dump command and rclone target (secrets redacted); run nothing [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l backup-checksum -d 'Write NAME.sha256 beside each backup; objects without one count as incomplete for retention [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l backup-lock-file -d 'Lock file guarding against overlapping runs, also across processes sharing it [default: BACKUP_TEMP_DIR/dbstash-<engine>-<db>-<remote hash>.lock]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l verify-after-backup -d 'After each backup, download it again and verify its checksum and completeness (as `dbstash verify`); a failed verification fails the run [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l backup-progress-interval -d 'How often a running backup logs its progress (bytes, rate, elapsed), e.g. 30s or 5m; 0 turns it off [default: 1m]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l health-addr -d 'Address of the /healthz and /metrics endpoint (not served with BACKUP_SCHEDULE=once) [default: 0.0.0.0:8080]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l health-max-age -d '/healthz answers 503 when no backup succeeded within this long, e.g. 26h (unset: no limit)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -l backup-temp-dir -d 'Work directory: holds the default lock file, and the dumps of the directory and tar modes [default: /tmp/dbstash-work]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mysql" -s h -l help -d 'Print help'
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l db-uri -d 'Connection URI (wins over DB_HOST etc.): postgresql://user:pass@host:5432/db, mysql://…/db, redis://:pass@host:6379/0, mongodb://…/db' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l db-uri-file -d 'File holding the connection URI (Docker secrets); wins over DB_URI' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l db-host -d 'Database host' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l db-port -d 'Database port [default: the engine\'s: pg 5432, mysql/mariadb 3306, redis 6379, mongo 27017]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l db-name -d 'Database name (mutually exclusive with BACKUP_ALL_DATABASES)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l db-user -d 'Database user' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l db-password -d 'Database password (prefer DB_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l db-password-file -d 'File holding the database password (Docker secrets); wins over DB_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l rclone-remote -d 'Rclone remote folder to store backups in, e.g. s3:my-bucket/backups (required)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l rclone-config -d 'Base64-encoded rclone.conf content' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l rclone-config-file -d 'Path of an rclone.conf; wins over RCLONE_CONFIG [default: rclone\'s own, ~/.config/rclone/rclone.conf]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l rclone-extra-args -d 'Extra flags for every rclone call, shell-word split (e.g. "--s3-chunk-size 64M")' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l backup-schedule -d 'Cron expression ("0 2 * * *", evaluated in TZ) or `once` to run one backup and exit [default: 0 2 * * *]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l backup-mode -d 'stream (dump stdout into one object), directory (a folder per backup) or tar (one .tar object); see docs/modes.md [default: stream]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l backup-name-template -d 'Object name template; tokens {db} {engine} {date} {time} {ts} {uuid} [default: {db}-{date}-{time}]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l backup-compress -d 'Compress: the dump tool\'s own where it has one (pg custom format .dump, mongo --gzip .archive.gz), else zstd in dbstash (mysql, mariadb, pg_dumpall: .sql.zst); redis: only with BACKUP_COMPRESS_ALGO [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l backup-compress-algo -d 'Compress in dbstash with zstd or gzip for every engine, the dump tool\'s own compression off (.sql.zst, .archive.zst, .rdb.zst; needs BACKUP_COMPRESS=true; not in directory mode)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l backup-compress-level -d 'Level of dbstash\'s in-process compression: zstd 1-19, gzip 1-9; an error where the dump tool compresses (set BACKUP_COMPRESS_ALGO) [default: zstd 3, gzip 6]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l backup-encrypt-recipients -d 'Encrypt each backup in dbstash with age to these public keys (age1…, ssh-ed25519 …, ssh-rsa …; comma separated): .age is appended; only the matching private key can read it' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l backup-encrypt-recipients-file -d 'A file of age recipients, one public key per line (# comments), instead of BACKUP_ENCRYPT_RECIPIENTS (setting both is an error)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l restore-identity-file -d 'restore and verify (and VERIFY_AFTER_BACKUP): decrypt .age backups with this age identity file or unencrypted SSH private key (keep it 0600, off the backup host)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l backup-extension -d 'File extension, e.g. .sql [default: picked from engine, compression and DUMP_EXTRA_ARGS]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l backup-all-databases -d 'Dump every database (pg_dumpall for pg); {db} becomes `all`. Alias: BACKUP_ALL_DBS [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l backup-all-dbs -d 'Alias of --backup-all-databases' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l backup-split-databases -d 'With BACKUP_ALL_DATABASES: one backup per database, named with its {db} (plus `globals` for pg\'s roles and tablespaces) [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l backup-include-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases backed up besides the non-system ones (system databases are skipped unless named here)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l backup-exclude-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases never backed up' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l backup-parallelism -d 'With BACKUP_SPLIT_DATABASES: how many databases are dumped at once, 1 to 32 [default: 1]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l backup-on-start -d 'Run one backup at start, then follow the schedule [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l dump-extra-args -d 'Extra flags for the dump tool, shell-word split; they come last and override BACKUP_COMPRESS' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l tz -d 'Time zone for the schedule and the {date}/{time} tokens, e.g. Europe/Berlin [default: UTC]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l retention-max-files -d 'Keep at most N backups (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l retention-max-days -d 'Delete backups older than N days (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l retention-keep-last -d 'Keep the newest N backups (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l retention-keep-hourly -d 'Keep the newest backup of each of the last N hours that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l retention-keep-daily -d 'Keep the newest backup of each of the last N days that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l retention-keep-weekly -d 'Keep the newest backup of each of the last N ISO weeks that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l retention-keep-monthly -d 'Keep the newest backup of each of the last N months that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l retention-keep-yearly -d 'Keep the newest backup of each of the last N years that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l notify-webhook-url -d 'Webhook to notify: Slack, Discord, or any URL taking a JSON POST' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l notify-webhook-format -d 'Payload shape: auto (Slack for hooks.slack.com, Discord for /api/webhooks/ paths, JSON otherwise), slack, discord or json [default: auto]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l notify-on -d 'When the webhook and email are sent: always, failure or success [default: failure]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l notify-email-to -d 'Email recipients, comma-separated (needs NOTIFY_EMAIL_FROM and SMTP_HOST)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l notify-email-from -d 'Sender address of notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l smtp-host -d 'SMTP server host for notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l smtp-port -d 'SMTP port [default: 587 with starttls, 465 with tls, 25 with none]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l smtp-user -d 'SMTP user name (with SMTP_PASSWORD or SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l smtp-password -d 'SMTP password (prefer SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l smtp-password-file -d 'File holding the SMTP password (Docker secrets); wins over SMTP_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l smtp-tls -d 'starttls, tls (implicit, port 465) or none [default: starttls]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l notify-ping-url -d 'Ping URL (healthchecks.io, Uptime Kuma): URL/start when a run starts, URL on success, URL/fail on failure, whatever NOTIFY_ON says' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l log-level -d 'debug, info, warn or error [default: info]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l log-format -d 'text or json [default: text]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l hook-pre-backup -d 'Shell command (sh -c) run before each backup; a non-zero exit, or running past BACKUP_TIMEOUT, aborts the backup as a failure' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l hook-post-backup -d 'Shell command (sh -c) run after every attempt, with DBSTASH_STATUS, DBSTASH_FILE, DBSTASH_ERROR and more; its failure is only a warning' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l backup-timeout -d 'Longest a backup may run, e.g. 30m, 1h, 1h30m (0 = no limit) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l backup-lock -d 'Skip a run (scheduled or once) while another run of the same backup holds the lock file [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l dry-run -d 'Print the resolved config, dump command and rclone target (secrets redacted); run nothing [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l backup-checksum -d 'Write NAME.sha256 beside each backup; objects without one count as incomplete for retention [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l backup-lock-file -d 'Lock file guarding against overlapping runs, also across processes sharing it [default: BACKUP_TEMP_DIR/dbstash-<engine>-<db>-<remote hash>.lock]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l verify-after-backup -d 'After each backup, download it again and verify its checksum and completeness (as `dbstash verify`); a failed verification fails the run [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l backup-progress-interval -d 'How often a running backup logs its progress (bytes, rate, elapsed), e.g. 30s or 5m; 0 turns it off [default: 1m]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l health-addr -d 'Address of the /healthz and /metrics endpoint (not served with BACKUP_SCHEDULE=once) [default: 0.0.0.0:8080]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l health-max-age -d '/healthz answers 503 when no backup succeeded within this long, e.g. 26h (unset: no limit)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -l backup-temp-dir -d 'Work directory: holds the default lock file, and the dumps of the directory and tar modes [default: /tmp/dbstash-work]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mariadb" -s h -l help -d 'Print help'
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l db-uri -d 'Connection URI (wins over DB_HOST etc.): postgresql://user:pass@host:5432/db, mysql://…/db, redis://:pass@host:6379/0, mongodb://…/db' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l db-uri-file -d 'File holding the connection URI (Docker secrets); wins over DB_URI' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l db-host -d 'Database host' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l db-port -d 'Database port [default: the engine\'s: pg 5432, mysql/mariadb 3306, redis 6379, mongo 27017]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l db-name -d 'Database name (mutually exclusive with BACKUP_ALL_DATABASES)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l db-user -d 'Database user' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l db-password -d 'Database password (prefer DB_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l db-password-file -d 'File holding the database password (Docker secrets); wins over DB_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l rclone-remote -d 'Rclone remote folder to store backups in, e.g. s3:my-bucket/backups (required)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l rclone-config -d 'Base64-encoded rclone.conf content' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l rclone-config-file -d 'Path of an rclone.conf; wins over RCLONE_CONFIG [default: rclone\'s own, ~/.config/rclone/rclone.conf]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l rclone-extra-args -d 'Extra flags for every rclone call, shell-word split (e.g. "--s3-chunk-size 64M")' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l backup-schedule -d 'Cron expression ("0 2 * * *", evaluated in TZ) or `once` to run one backup and exit [default: 0 2 * * *]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l backup-mode -d 'stream (dump stdout into one object), directory (a folder per backup) or tar (one .tar object); see docs/modes.md [default: stream]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l backup-name-template -d 'Object name template; tokens {db} {engine} {date} {time} {ts} {uuid} [default: {db}-{date}-{time}]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l backup-compress -d 'Compress: the dump tool\'s own where it has one (pg custom format .dump, mongo --gzip .archive.gz), else zstd in dbstash (mysql, mariadb, pg_dumpall: .sql.zst); redis: only with BACKUP_COMPRESS_ALGO [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l backup-compress-algo -d 'Compress in dbstash with zstd or gzip for every engine, the dump tool\'s own compression off (.sql.zst, .archive.zst, .rdb.zst; needs BACKUP_COMPRESS=true; not in directory mode)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l backup-compress-level -d 'Level of dbstash\'s in-process compression: zstd 1-19, gzip 1-9; an error where the dump tool compresses (set BACKUP_COMPRESS_ALGO) [default: zstd 3, gzip 6]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l backup-encrypt-recipients -d 'Encrypt each backup in dbstash with age to these public keys (age1…, ssh-ed25519 …, ssh-rsa …; comma separated): .age is appended; only the matching private key can read it' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l backup-encrypt-recipients-file -d 'A file of age recipients, one public key per line (# comments), instead of BACKUP_ENCRYPT_RECIPIENTS (setting both is an error)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l restore-identity-file -d 'restore and verify (and VERIFY_AFTER_BACKUP): decrypt .age backups with this age identity file or unencrypted SSH private key (keep it 0600, off the backup host)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l backup-extension -d 'File extension, e.g. .sql [default: picked from engine, compression and DUMP_EXTRA_ARGS]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l backup-all-databases -d 'Dump every database (pg_dumpall for pg); {db} becomes `all`. Alias: BACKUP_ALL_DBS [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l backup-all-dbs -d 'Alias of --backup-all-databases' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l backup-split-databases -d 'With BACKUP_ALL_DATABASES: one backup per database, named with its {db} (plus `globals` for pg\'s roles and tablespaces) [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l backup-include-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases backed up besides the non-system ones (system databases are skipped unless named here)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l backup-exclude-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases never backed up' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l backup-parallelism -d 'With BACKUP_SPLIT_DATABASES: how many databases are dumped at once, 1 to 32 [default: 1]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l backup-on-start -d 'Run one backup at start, then follow the schedule [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l dump-extra-args -d 'Extra flags for the dump tool, shell-word split; they come last and override BACKUP_COMPRESS' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l tz -d 'Time zone for the schedule and the {date}/{time} tokens, e.g. Europe/Berlin [default: UTC]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l retention-max-files -d 'Keep at most N backups (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l retention-max-days -d 'Delete backups older than N days (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l retention-keep-last -d 'Keep the newest N backups (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l retention-keep-hourly -d 'Keep the newest backup of each of the last N hours that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l retention-keep-daily -d 'Keep the newest backup of each of the last N days that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l retention-keep-weekly -d 'Keep the newest backup of each of the last N ISO weeks that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l retention-keep-monthly -d 'Keep the newest backup of each of the last N months that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l retention-keep-yearly -d 'Keep the newest backup of each of the last N years that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l notify-webhook-url -d 'Webhook to notify: Slack, Discord, or any URL taking a JSON POST' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l notify-webhook-format -d 'Payload shape: auto (Slack for hooks.slack.com, Discord for /api/webhooks/ paths, JSON otherwise), slack, discord or json [default: auto]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l notify-on -d 'When the webhook and email are sent: always, failure or success [default: failure]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l notify-email-to -d 'Email recipients, comma-separated (needs NOTIFY_EMAIL_FROM and SMTP_HOST)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l notify-email-from -d 'Sender address of notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l smtp-host -d 'SMTP server host for notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l smtp-port -d 'SMTP port [default: 587 with starttls, 465 with tls, 25 with none]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l smtp-user -d 'SMTP user name (with SMTP_PASSWORD or SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l smtp-password -d 'SMTP password (prefer SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l smtp-password-file -d 'File holding the SMTP password (Docker secrets); wins over SMTP_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l smtp-tls -d 'starttls, tls (implicit, port 465) or none [default: starttls]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l notify-ping-url -d 'Ping URL (healthchecks.io, Uptime Kuma): URL/start when a run starts, URL on success, URL/fail on failure, whatever NOTIFY_ON says' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l log-level -d 'debug, info, warn or error [default: info]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l log-format -d 'text or json [default: text]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l hook-pre-backup -d 'Shell command (sh -c) run before each backup; a non-zero exit, or running past BACKUP_TIMEOUT, aborts the backup as a failure' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l hook-post-backup -d 'Shell command (sh -c) run after every attempt, with DBSTASH_STATUS, DBSTASH_FILE, DBSTASH_ERROR and more; its failure is only a warning' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l backup-timeout -d 'Longest a backup may run, e.g. 30m, 1h, 1h30m (0 = no limit) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l backup-lock -d 'Skip a run (scheduled or once) while another run of the same backup holds the lock file [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l dry-run -d 'Print the resolved config, dump command and rclone target (secrets redacted); run nothing [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l backup-checksum -d 'Write NAME.sha256 beside each backup; objects without one count as incomplete for retention [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l backup-lock-file -d 'Lock file guarding against overlapping runs, also across processes sharing it [default: BACKUP_TEMP_DIR/dbstash-<engine>-<db>-<remote hash>.lock]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l verify-after-backup -d 'After each backup, download it again and verify its checksum and completeness (as `dbstash verify`); a failed verification fails the run [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l backup-progress-interval -d 'How often a running backup logs its progress (bytes, rate, elapsed), e.g. 30s or 5m; 0 turns it off [default: 1m]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l health-addr -d 'Address of the /healthz and /metrics endpoint (not served with BACKUP_SCHEDULE=once) [default: 0.0.0.0:8080]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l health-max-age -d '/healthz answers 503 when no backup succeeded within this long, e.g. 26h (unset: no limit)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -l backup-temp-dir -d 'Work directory: holds the default lock file, and the dumps of the directory and tar modes [default: /tmp/dbstash-work]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand redis" -s h -l help -d 'Print help'
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l db-auth-source -d 'Authentication database, when DB_URI has no authSource [default: admin]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l db-uri -d 'Connection URI (wins over DB_HOST etc.): postgresql://user:pass@host:5432/db, mysql://…/db, redis://:pass@host:6379/0, mongodb://…/db' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l db-uri-file -d 'File holding the connection URI (Docker secrets); wins over DB_URI' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l db-host -d 'Database host' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l db-port -d 'Database port [default: the engine\'s: pg 5432, mysql/mariadb 3306, redis 6379, mongo 27017]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l db-name -d 'Database name (mutually exclusive with BACKUP_ALL_DATABASES)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l db-user -d 'Database user' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l db-password -d 'Database password (prefer DB_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l db-password-file -d 'File holding the database password (Docker secrets); wins over DB_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l rclone-remote -d 'Rclone remote folder to store backups in, e.g. s3:my-bucket/backups (required)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l rclone-config -d 'Base64-encoded rclone.conf content' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l rclone-config-file -d 'Path of an rclone.conf; wins over RCLONE_CONFIG [default: rclone\'s own, ~/.config/rclone/rclone.conf]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l rclone-extra-args -d 'Extra flags for every rclone call, shell-word split (e.g. "--s3-chunk-size 64M")' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l backup-schedule -d 'Cron expression ("0 2 * * *", evaluated in TZ) or `once` to run one backup and exit [default: 0 2 * * *]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l backup-mode -d 'stream (dump stdout into one object), directory (a folder per backup) or tar (one .tar object); see docs/modes.md [default: stream]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l backup-name-template -d 'Object name template; tokens {db} {engine} {date} {time} {ts} {uuid} [default: {db}-{date}-{time}]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l backup-compress -d 'Compress: the dump tool\'s own where it has one (pg custom format .dump, mongo --gzip .archive.gz), else zstd in dbstash (mysql, mariadb, pg_dumpall: .sql.zst); redis: only with BACKUP_COMPRESS_ALGO [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l backup-compress-algo -d 'Compress in dbstash with zstd or gzip for every engine, the dump tool\'s own compression off (.sql.zst, .archive.zst, .rdb.zst; needs BACKUP_COMPRESS=true; not in directory mode)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l backup-compress-level -d 'Level of dbstash\'s in-process compression: zstd 1-19, gzip 1-9; an error where the dump tool compresses (set BACKUP_COMPRESS_ALGO) [default: zstd 3, gzip 6]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l backup-encrypt-recipients -d 'Encrypt each backup in dbstash with age to these public keys (age1…, ssh-ed25519 …, ssh-rsa …; comma separated): .age is appended; only the matching private key can read it' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l backup-encrypt-recipients-file -d 'A file of age recipients, one public key per line (# comments), instead of BACKUP_ENCRYPT_RECIPIENTS (setting both is an error)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l restore-identity-file -d 'restore and verify (and VERIFY_AFTER_BACKUP): decrypt .age backups with this age identity file or unencrypted SSH private key (keep it 0600, off the backup host)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l backup-extension -d 'File extension, e.g. .sql [default: picked from engine, compression and DUMP_EXTRA_ARGS]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l backup-all-databases -d 'Dump every database (pg_dumpall for pg); {db} becomes `all`. Alias: BACKUP_ALL_DBS [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l backup-all-dbs -d 'Alias of --backup-all-databases' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l backup-split-databases -d 'With BACKUP_ALL_DATABASES: one backup per database, named with its {db} (plus `globals` for pg\'s roles and tablespaces) [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l backup-include-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases backed up besides the non-system ones (system databases are skipped unless named here)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l backup-exclude-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases never backed up' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l backup-parallelism -d 'With BACKUP_SPLIT_DATABASES: how many databases are dumped at once, 1 to 32 [default: 1]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l backup-on-start -d 'Run one backup at start, then follow the schedule [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l dump-extra-args -d 'Extra flags for the dump tool, shell-word split; they come last and override BACKUP_COMPRESS' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l tz -d 'Time zone for the schedule and the {date}/{time} tokens, e.g. Europe/Berlin [default: UTC]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l retention-max-files -d 'Keep at most N backups (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l retention-max-days -d 'Delete backups older than N days (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l retention-keep-last -d 'Keep the newest N backups (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l retention-keep-hourly -d 'Keep the newest backup of each of the last N hours that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l retention-keep-daily -d 'Keep the newest backup of each of the last N days that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l retention-keep-weekly -d 'Keep the newest backup of each of the last N ISO weeks that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l retention-keep-monthly -d 'Keep the newest backup of each of the last N months that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l retention-keep-yearly -d 'Keep the newest backup of each of the last N years that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l notify-webhook-url -d 'Webhook to notify: Slack, Discord, or any URL taking a JSON POST' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l notify-webhook-format -d 'Payload shape: auto (Slack for hooks.slack.com, Discord for /api/webhooks/ paths, JSON otherwise), slack, discord or json [default: auto]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l notify-on -d 'When the webhook and email are sent: always, failure or success [default: failure]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l notify-email-to -d 'Email recipients, comma-separated (needs NOTIFY_EMAIL_FROM and SMTP_HOST)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l notify-email-from -d 'Sender address of notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l smtp-host -d 'SMTP server host for notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l smtp-port -d 'SMTP port [default: 587 with starttls, 465 with tls, 25 with none]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l smtp-user -d 'SMTP user name (with SMTP_PASSWORD or SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l smtp-password -d 'SMTP password (prefer SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l smtp-password-file -d 'File holding the SMTP password (Docker secrets); wins over SMTP_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l smtp-tls -d 'starttls, tls (implicit, port 465) or none [default: starttls]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l notify-ping-url -d 'Ping URL (healthchecks.io, Uptime Kuma): URL/start when a run starts, URL on success, URL/fail on failure, whatever NOTIFY_ON says' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l log-level -d 'debug, info, warn or error [default: info]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l log-format -d 'text or json [default: text]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l hook-pre-backup -d 'Shell command (sh -c) run before each backup; a non-zero exit, or running past BACKUP_TIMEOUT, aborts the backup as a failure' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l hook-post-backup -d 'Shell command (sh -c) run after every attempt, with DBSTASH_STATUS, DBSTASH_FILE, DBSTASH_ERROR and more; its failure is only a warning' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l backup-timeout -d 'Longest a backup may run, e.g. 30m, 1h, 1h30m (0 = no limit) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l backup-lock -d 'Skip a run (scheduled or once) while another run of the same backup holds the lock file [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l dry-run -d 'Print the resolved config, dump command and rclone target (secrets redacted); run nothing [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l backup-checksum -d 'Write NAME.sha256 beside each backup; objects without one count as incomplete for retention [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l backup-lock-file -d 'Lock file guarding against overlapping runs, also across processes sharing it [default: BACKUP_TEMP_DIR/dbstash-<engine>-<db>-<remote hash>.lock]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l verify-after-backup -d 'After each backup, download it again and verify its checksum and completeness (as `dbstash verify`); a failed verification fails the run [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l backup-progress-interval -d 'How often a running backup logs its progress (bytes, rate, elapsed), e.g. 30s or 5m; 0 turns it off [default: 1m]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l health-addr -d 'Address of the /healthz and /metrics endpoint (not served with BACKUP_SCHEDULE=once) [default: 0.0.0.0:8080]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l health-max-age -d '/healthz answers 503 when no backup succeeded within this long, e.g. 26h (unset: no limit)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -l backup-temp-dir -d 'Work directory: holds the default lock file, and the dumps of the directory and tar modes [default: /tmp/dbstash-work]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand mongo" -s h -l help -d 'Print help'
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l db-uri -d 'Connection URI (wins over DB_HOST etc.): postgresql://user:pass@host:5432/db, mysql://…/db, redis://:pass@host:6379/0, mongodb://…/db' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l db-uri-file -d 'File holding the connection URI (Docker secrets); wins over DB_URI' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l db-host -d 'Database host' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l db-port -d 'Database port [default: the engine\'s: pg 5432, mysql/mariadb 3306, redis 6379, mongo 27017]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l db-name -d 'Database name (mutually exclusive with BACKUP_ALL_DATABASES)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l db-user -d 'Database user' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l db-password -d 'Database password (prefer DB_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l db-password-file -d 'File holding the database password (Docker secrets); wins over DB_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l rclone-remote -d 'Rclone remote folder to store backups in, e.g. s3:my-bucket/backups (required)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l rclone-config -d 'Base64-encoded rclone.conf content' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l rclone-config-file -d 'Path of an rclone.conf; wins over RCLONE_CONFIG [default: rclone\'s own, ~/.config/rclone/rclone.conf]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l rclone-extra-args -d 'Extra flags for every rclone call, shell-word split (e.g. "--s3-chunk-size 64M")' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l backup-schedule -d 'Cron expression ("0 2 * * *", evaluated in TZ) or `once` to run one backup and exit [default: 0 2 * * *]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l backup-mode -d 'stream (dump stdout into one object), directory (a folder per backup) or tar (one .tar object); see docs/modes.md [default: stream]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l backup-name-template -d 'Object name template; tokens {db} {engine} {date} {time} {ts} {uuid} [default: {db}-{date}-{time}]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l backup-compress -d 'Compress: the dump tool\'s own where it has one (pg custom format .dump, mongo --gzip .archive.gz), else zstd in dbstash (mysql, mariadb, pg_dumpall: .sql.zst); redis: only with BACKUP_COMPRESS_ALGO [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l backup-compress-algo -d 'Compress in dbstash with zstd or gzip for every engine, the dump tool\'s own compression off (.sql.zst, .archive.zst, .rdb.zst; needs BACKUP_COMPRESS=true; not in directory mode)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l backup-compress-level -d 'Level of dbstash\'s in-process compression: zstd 1-19, gzip 1-9; an error where the dump tool compresses (set BACKUP_COMPRESS_ALGO) [default: zstd 3, gzip 6]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l backup-encrypt-recipients -d 'Encrypt each backup in dbstash with age to these public keys (age1…, ssh-ed25519 …, ssh-rsa …; comma separated): .age is appended; only the matching private key can read it' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l backup-encrypt-recipients-file -d 'A file of age recipients, one public key per line (# comments), instead of BACKUP_ENCRYPT_RECIPIENTS (setting both is an error)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l restore-identity-file -d 'restore and verify (and VERIFY_AFTER_BACKUP): decrypt .age backups with this age identity file or unencrypted SSH private key (keep it 0600, off the backup host)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l backup-extension -d 'File extension, e.g. .sql [default: picked from engine, compression and DUMP_EXTRA_ARGS]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l backup-all-databases -d 'Dump every database (pg_dumpall for pg); {db} becomes `all`. Alias: BACKUP_ALL_DBS [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l backup-all-dbs -d 'Alias of --backup-all-databases' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l backup-split-databases -d 'With BACKUP_ALL_DATABASES: one backup per database, named with its {db} (plus `globals` for pg\'s roles and tablespaces) [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l backup-include-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases backed up besides the non-system ones (system databases are skipped unless named here)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l backup-exclude-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases never backed up' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l backup-parallelism -d 'With BACKUP_SPLIT_DATABASES: how many databases are dumped at once, 1 to 32 [default: 1]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l backup-on-start -d 'Run one backup at start, then follow the schedule [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l dump-extra-args -d 'Extra flags for the dump tool, shell-word split; they come last and override BACKUP_COMPRESS' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l tz -d 'Time zone for the schedule and the {date}/{time} tokens, e.g. Europe/Berlin [default: UTC]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l retention-max-files -d 'Keep at most N backups (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l retention-max-days -d 'Delete backups older than N days (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l retention-keep-last -d 'Keep the newest N backups (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l retention-keep-hourly -d 'Keep the newest backup of each of the last N hours that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l retention-keep-daily -d 'Keep the newest backup of each of the last N days that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l retention-keep-weekly -d 'Keep the newest backup of each of the last N ISO weeks that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l retention-keep-monthly -d 'Keep the newest backup of each of the last N months that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l retention-keep-yearly -d 'Keep the newest backup of each of the last N years that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l notify-webhook-url -d 'Webhook to notify: Slack, Discord, or any URL taking a JSON POST' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l notify-webhook-format -d 'Payload shape: auto (Slack for hooks.slack.com, Discord for /api/webhooks/ paths, JSON otherwise), slack, discord or json [default: auto]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l notify-on -d 'When the webhook and email are sent: always, failure or success [default: failure]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l notify-email-to -d 'Email recipients, comma-separated (needs NOTIFY_EMAIL_FROM and SMTP_HOST)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l notify-email-from -d 'Sender address of notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l smtp-host -d 'SMTP server host for notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l smtp-port -d 'SMTP port [default: 587 with starttls, 465 with tls, 25 with none]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l smtp-user -d 'SMTP user name (with SMTP_PASSWORD or SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l smtp-password -d 'SMTP password (prefer SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l smtp-password-file -d 'File holding the SMTP password (Docker secrets); wins over SMTP_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l smtp-tls -d 'starttls, tls (implicit, port 465) or none [default: starttls]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l notify-ping-url -d 'Ping URL (healthchecks.io, Uptime Kuma): URL/start when a run starts, URL on success, URL/fail on failure, whatever NOTIFY_ON says' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l log-level -d 'debug, info, warn or error [default: info]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l log-format -d 'text or json [default: text]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l hook-pre-backup -d 'Shell command (sh -c) run before each backup; a non-zero exit, or running past BACKUP_TIMEOUT, aborts the backup as a failure' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l hook-post-backup -d 'Shell command (sh -c) run after every attempt, with DBSTASH_STATUS, DBSTASH_FILE, DBSTASH_ERROR and more; its failure is only a warning' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l backup-timeout -d 'Longest a backup may run, e.g. 30m, 1h, 1h30m (0 = no limit) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l backup-lock -d 'Skip a run (scheduled or once) while another run of the same backup holds the lock file [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l dry-run -d 'Print the resolved config, dump command and rclone target (secrets redacted); run nothing [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l backup-checksum -d 'Write NAME.sha256 beside each backup; objects without one count as incomplete for retention [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l backup-lock-file -d 'Lock file guarding against overlapping runs, also across processes sharing it [default: BACKUP_TEMP_DIR/dbstash-<engine>-<db>-<remote hash>.lock]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l verify-after-backup -d 'After each backup, download it again and verify its checksum and completeness (as `dbstash verify`); a failed verification fails the run [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l backup-progress-interval -d 'How often a running backup logs its progress (bytes, rate, elapsed), e.g. 30s or 5m; 0 turns it off [default: 1m]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l health-addr -d 'Address of the /healthz and /metrics endpoint (not served with BACKUP_SCHEDULE=once) [default: 0.0.0.0:8080]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l health-max-age -d '/healthz answers 503 when no backup succeeded within this long, e.g. 26h (unset: no limit)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -l backup-temp-dir -d 'Work directory: holds the default lock file, and the dumps of the directory and tar modes [default: /tmp/dbstash-work]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand completions" -s h -l help -d 'Print help'
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l db-uri -d 'Connection URI (wins over DB_HOST etc.): postgresql://user:pass@host:5432/db, mysql://…/db, redis://:pass@host:6379/0, mongodb://…/db' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l db-uri-file -d 'File holding the connection URI (Docker secrets); wins over DB_URI' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l db-host -d 'Database host' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l db-port -d 'Database port [default: the engine\'s: pg 5432, mysql/mariadb 3306, redis 6379, mongo 27017]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l db-name -d 'Database name (mutually exclusive with BACKUP_ALL_DATABASES)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l db-user -d 'Database user' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l db-password -d 'Database password (prefer DB_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l db-password-file -d 'File holding the database password (Docker secrets); wins over DB_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l rclone-remote -d 'Rclone remote folder to store backups in, e.g. s3:my-bucket/backups (required)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l rclone-config -d 'Base64-encoded rclone.conf content' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l rclone-config-file -d 'Path of an rclone.conf; wins over RCLONE_CONFIG [default: rclone\'s own, ~/.config/rclone/rclone.conf]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l rclone-extra-args -d 'Extra flags for every rclone call, shell-word split (e.g. "--s3-chunk-size 64M")' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l backup-schedule -d 'Cron expression ("0 2 * * *", evaluated in TZ) or `once` to run one backup and exit [default: 0 2 * * *]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l backup-mode -d 'stream (dump stdout into one object), directory (a folder per backup) or tar (one .tar object); see docs/modes.md [default: stream]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l backup-name-template -d 'Object name template; tokens {db} {engine} {date} {time} {ts} {uuid} [default: {db}-{date}-{time}]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l backup-compress -d 'Compress: the dump tool\'s own where it has one (pg custom format .dump, mongo --gzip .archive.gz), else zstd in dbstash (mysql, mariadb, pg_dumpall: .sql.zst); redis: only with BACKUP_COMPRESS_ALGO [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l backup-compress-algo -d 'Compress in dbstash with zstd or gzip for every engine, the dump tool\'s own compression off (.sql.zst, .archive.zst, .rdb.zst; needs BACKUP_COMPRESS=true; not in directory mode)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l backup-compress-level -d 'Level of dbstash\'s in-process compression: zstd 1-19, gzip 1-9; an error where the dump tool compresses (set BACKUP_COMPRESS_ALGO) [default: zstd 3, gzip 6]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l backup-encrypt-recipients -d 'Encrypt each backup in dbstash with age to these public keys (age1…, ssh-ed25519 …, ssh-rsa …; comma separated): .age is appended; only the matching private key can read it' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l backup-encrypt-recipients-file -d 'A file of age recipients, one public key per line (# comments), instead of BACKUP_ENCRYPT_RECIPIENTS (setting both is an error)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l restore-identity-file -d 'restore and verify (and VERIFY_AFTER_BACKUP): decrypt .age backups with this age identity file or unencrypted SSH private key (keep it 0600, off the backup host)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l backup-extension -d 'File extension, e.g. .sql [default: picked from engine, compression and DUMP_EXTRA_ARGS]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l backup-all-databases -d 'Dump every database (pg_dumpall for pg); {db} becomes `all`. Alias: BACKUP_ALL_DBS [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l backup-all-dbs -d 'Alias of --backup-all-databases' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l backup-split-databases -d 'With BACKUP_ALL_DATABASES: one backup per database, named with its {db} (plus `globals` for pg\'s roles and tablespaces) [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l backup-include-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases backed up besides the non-system ones (system databases are skipped unless named here)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l backup-exclude-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases never backed up' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l backup-parallelism -d 'With BACKUP_SPLIT_DATABASES: how many databases are dumped at once, 1 to 32 [default: 1]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l backup-on-start -d 'Run one backup at start, then follow the schedule [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l dump-extra-args -d 'Extra flags for the dump tool, shell-word split; they come last and override BACKUP_COMPRESS' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l tz -d 'Time zone for the schedule and the {date}/{time} tokens, e.g. Europe/Berlin [default: UTC]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l retention-max-files -d 'Keep at most N backups (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l retention-max-days -d 'Delete backups older than N days (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l retention-keep-last -d 'Keep the newest N backups (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l retention-keep-hourly -d 'Keep the newest backup of each of the last N hours that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l retention-keep-daily -d 'Keep the newest backup of each of the last N days that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l retention-keep-weekly -d 'Keep the newest backup of each of the last N ISO weeks that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l retention-keep-monthly -d 'Keep the newest backup of each of the last N months that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l retention-keep-yearly -d 'Keep the newest backup of each of the last N years that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l notify-webhook-url -d 'Webhook to notify: Slack, Discord, or any URL taking a JSON POST' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l notify-webhook-format -d 'Payload shape: auto (Slack for hooks.slack.com, Discord for /api/webhooks/ paths, JSON otherwise), slack, discord or json [default: auto]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l notify-on -d 'When the webhook and email are sent: always, failure or success [default: failure]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l notify-email-to -d 'Email recipients, comma-separated (needs NOTIFY_EMAIL_FROM and SMTP_HOST)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l notify-email-from -d 'Sender address of notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l smtp-host -d 'SMTP server host for notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l smtp-port -d 'SMTP port [default: 587 with starttls, 465 with tls, 25 with none]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l smtp-user -d 'SMTP user name (with SMTP_PASSWORD or SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l smtp-password -d 'SMTP password (prefer SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l smtp-password-file -d 'File holding the SMTP password (Docker secrets); wins over SMTP_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l smtp-tls -d 'starttls, tls (implicit, port 465) or none [default: starttls]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l notify-ping-url -d 'Ping URL (healthchecks.io, Uptime Kuma): URL/start when a run starts, URL on success, URL/fail on failure, whatever NOTIFY_ON says' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l log-level -d 'debug, info, warn or error [default: info]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l log-format -d 'text or json [default: text]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l hook-pre-backup -d 'Shell command (sh -c) run before each backup; a non-zero exit, or running past BACKUP_TIMEOUT, aborts the backup as a failure' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l hook-post-backup -d 'Shell command (sh -c) run after every attempt, with DBSTASH_STATUS, DBSTASH_FILE, DBSTASH_ERROR and more; its failure is only a warning' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l backup-timeout -d 'Longest a backup may run, e.g. 30m, 1h, 1h30m (0 = no limit) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l backup-lock -d 'Skip a run (scheduled or once) while another run of the same backup holds the lock file [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l dry-run -d 'Print the resolved config, dump command and rclone target (secrets redacted); run nothing [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l backup-checksum -d 'Write NAME.sha256 beside each backup; objects without one count as incomplete for retention [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l backup-lock-file -d 'Lock file guarding against overlapping runs, also across processes sharing it [default: BACKUP_TEMP_DIR/dbstash-<engine>-<db>-<remote hash>.lock]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l verify-after-backup -d 'After each backup, download it again and verify its checksum and completeness (as `dbstash verify`); a failed verification fails the run [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l backup-progress-interval -d 'How often a running backup logs its progress (bytes, rate, elapsed), e.g. 30s or 5m; 0 turns it off [default: 1m]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l health-addr -d 'Address of the /healthz and /metrics endpoint (not served with BACKUP_SCHEDULE=once) [default: 0.0.0.0:8080]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l health-max-age -d '/healthz answers 503 when no backup succeeded within this long, e.g. 26h (unset: no limit)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -l backup-temp-dir -d 'Work directory: holds the default lock file, and the dumps of the directory and tar modes [default: /tmp/dbstash-work]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand man" -s h -l help -d 'Print help'
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l db-auth-source -d 'Authentication database for mongo, when DB_URI has no authSource [default: admin]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l db-uri -d 'Connection URI (wins over DB_HOST etc.): postgresql://user:pass@host:5432/db, mysql://…/db, redis://:pass@host:6379/0, mongodb://…/db' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l db-uri-file -d 'File holding the connection URI (Docker secrets); wins over DB_URI' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l db-host -d 'Database host' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l db-port -d 'Database port [default: the engine\'s: pg 5432, mysql/mariadb 3306, redis 6379, mongo 27017]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l db-name -d 'Database name (mutually exclusive with BACKUP_ALL_DATABASES)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l db-user -d 'Database user' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l db-password -d 'Database password (prefer DB_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l db-password-file -d 'File holding the database password (Docker secrets); wins over DB_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l rclone-remote -d 'Rclone remote folder to store backups in, e.g. s3:my-bucket/backups (required)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l rclone-config -d 'Base64-encoded rclone.conf content' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l rclone-config-file -d 'Path of an rclone.conf; wins over RCLONE_CONFIG [default: rclone\'s own, ~/.config/rclone/rclone.conf]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l rclone-extra-args -d 'Extra flags for every rclone call, shell-word split (e.g. "--s3-chunk-size 64M")' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l backup-schedule -d 'Cron expression ("0 2 * * *", evaluated in TZ) or `once` to run one backup and exit [default: 0 2 * * *]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l backup-mode -d 'stream (dump stdout into one object), directory (a folder per backup) or tar (one .tar object); see docs/modes.md [default: stream]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l backup-name-template -d 'Object name template; tokens {db} {engine} {date} {time} {ts} {uuid} [default: {db}-{date}-{time}]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l backup-compress -d 'Compress: the dump tool\'s own where it has one (pg custom format .dump, mongo --gzip .archive.gz), else zstd in dbstash (mysql, mariadb, pg_dumpall: .sql.zst); redis: only with BACKUP_COMPRESS_ALGO [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l backup-compress-algo -d 'Compress in dbstash with zstd or gzip for every engine, the dump tool\'s own compression off (.sql.zst, .archive.zst, .rdb.zst; needs BACKUP_COMPRESS=true; not in directory mode)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l backup-compress-level -d 'Level of dbstash\'s in-process compression: zstd 1-19, gzip 1-9; an error where the dump tool compresses (set BACKUP_COMPRESS_ALGO) [default: zstd 3, gzip 6]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l backup-encrypt-recipients -d 'Encrypt each backup in dbstash with age to these public keys (age1…, ssh-ed25519 …, ssh-rsa …; comma separated): .age is appended; only the matching private key can read it' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l backup-encrypt-recipients-file -d 'A file of age recipients, one public key per line (# comments), instead of BACKUP_ENCRYPT_RECIPIENTS (setting both is an error)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l restore-identity-file -d 'restore and verify (and VERIFY_AFTER_BACKUP): decrypt .age backups with this age identity file or unencrypted SSH private key (keep it 0600, off the backup host)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l backup-extension -d 'File extension, e.g. .sql [default: picked from engine, compression and DUMP_EXTRA_ARGS]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l backup-all-databases -d 'Dump every database (pg_dumpall for pg); {db} becomes `all`. Alias: BACKUP_ALL_DBS [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l backup-all-dbs -d 'Alias of --backup-all-databases' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l backup-split-databases -d 'With BACKUP_ALL_DATABASES: one backup per database, named with its {db} (plus `globals` for pg\'s roles and tablespaces) [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l backup-include-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases backed up besides the non-system ones (system databases are skipped unless named here)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l backup-exclude-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases never backed up' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l backup-parallelism -d 'With BACKUP_SPLIT_DATABASES: how many databases are dumped at once, 1 to 32 [default: 1]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l backup-on-start -d 'Run one backup at start, then follow the schedule [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l dump-extra-args -d 'Extra flags for the dump tool, shell-word split; they come last and override BACKUP_COMPRESS' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l tz -d 'Time zone for the schedule and the {date}/{time} tokens, e.g. Europe/Berlin [default: UTC]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l retention-max-files -d 'Keep at most N backups (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l retention-max-days -d 'Delete backups older than N days (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l retention-keep-last -d 'Keep the newest N backups (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l retention-keep-hourly -d 'Keep the newest backup of each of the last N hours that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l retention-keep-daily -d 'Keep the newest backup of each of the last N days that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l retention-keep-weekly -d 'Keep the newest backup of each of the last N ISO weeks that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l retention-keep-monthly -d 'Keep the newest backup of each of the last N months that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l retention-keep-yearly -d 'Keep the newest backup of each of the last N years that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l notify-webhook-url -d 'Webhook to notify: Slack, Discord, or any URL taking a JSON POST' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l notify-webhook-format -d 'Payload shape: auto (Slack for hooks.slack.com, Discord for /api/webhooks/ paths, JSON otherwise), slack, discord or json [default: auto]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l notify-on -d 'When the webhook and email are sent: always, failure or success [default: failure]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l notify-email-to -d 'Email recipients, comma-separated (needs NOTIFY_EMAIL_FROM and SMTP_HOST)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l notify-email-from -d 'Sender address of notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l smtp-host -d 'SMTP server host for notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l smtp-port -d 'SMTP port [default: 587 with starttls, 465 with tls, 25 with none]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l smtp-user -d 'SMTP user name (with SMTP_PASSWORD or SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l smtp-password -d 'SMTP password (prefer SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l smtp-password-file -d 'File holding the SMTP password (Docker secrets); wins over SMTP_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l smtp-tls -d 'starttls, tls (implicit, port 465) or none [default: starttls]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l notify-ping-url -d 'Ping URL (healthchecks.io, Uptime Kuma): URL/start when a run starts, URL on success, URL/fail on failure, whatever NOTIFY_ON says' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l log-level -d 'debug, info, warn or error [default: info]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l log-format -d 'text or json [default: text]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l hook-pre-backup -d 'Shell command (sh -c) run before each backup; a non-zero exit, or running past BACKUP_TIMEOUT, aborts the backup as a failure' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l hook-post-backup -d 'Shell command (sh -c) run after every attempt, with DBSTASH_STATUS, DBSTASH_FILE, DBSTASH_ERROR and more; its failure is only a warning' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l backup-timeout -d 'Longest a backup may run, e.g. 30m, 1h, 1h30m (0 = no limit) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l backup-lock -d 'Skip a run (scheduled or once) while another run of the same backup holds the lock file [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l dry-run -d 'Print the resolved config, dump command and rclone target (secrets redacted); run nothing [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l backup-checksum -d 'Write NAME.sha256 beside each backup; objects without one count as incomplete for retention [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l backup-lock-file -d 'Lock file guarding against overlapping runs, also across processes sharing it [default: BACKUP_TEMP_DIR/dbstash-<engine>-<db>-<remote hash>.lock]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l verify-after-backup -d 'After each backup, download it again and verify its checksum and completeness (as `dbstash verify`); a failed verification fails the run [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l backup-progress-interval -d 'How often a running backup logs its progress (bytes, rate, elapsed), e.g. 30s or 5m; 0 turns it off [default: 1m]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l health-addr -d 'Address of the /healthz and /metrics endpoint (not served with BACKUP_SCHEDULE=once) [default: 0.0.0.0:8080]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l health-max-age -d '/healthz answers 503 when no backup succeeded within this long, e.g. 26h (unset: no limit)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -l backup-temp-dir -d 'Work directory: holds the default lock file, and the dumps of the directory and tar modes [default: /tmp/dbstash-work]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand check" -s h -l help -d 'Print help'
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l db-auth-source -d 'Authentication database for mongo, when DB_URI has no authSource [default: admin]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l list-format -l format -d 'text (a table) or json (one array, for scripts) [default: text]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l db-uri -d 'Connection URI (wins over DB_HOST etc.): postgresql://user:pass@host:5432/db, mysql://…/db, redis://:pass@host:6379/0, mongodb://…/db' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l db-uri-file -d 'File holding the connection URI (Docker secrets); wins over DB_URI' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l db-host -d 'Database host' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l db-port -d 'Database port [default: the engine\'s: pg 5432, mysql/mariadb 3306, redis 6379, mongo 27017]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l db-name -d 'Database name (mutually exclusive with BACKUP_ALL_DATABASES)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l db-user -d 'Database user' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l db-password -d 'Database password (prefer DB_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l db-password-file -d 'File holding the database password (Docker secrets); wins over DB_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l rclone-remote -d 'Rclone remote folder to store backups in, e.g. s3:my-bucket/backups (required)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l rclone-config -d 'Base64-encoded rclone.conf content' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l rclone-config-file -d 'Path of an rclone.conf; wins over RCLONE_CONFIG [default: rclone\'s own, ~/.config/rclone/rclone.conf]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l rclone-extra-args -d 'Extra flags for every rclone call, shell-word split (e.g. "--s3-chunk-size 64M")' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l backup-schedule -d 'Cron expression ("0 2 * * *", evaluated in TZ) or `once` to run one backup and exit [default: 0 2 * * *]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l backup-mode -d 'stream (dump stdout into one object), directory (a folder per backup) or tar (one .tar object); see docs/modes.md [default: stream]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l backup-name-template -d 'Object name template; tokens {db} {engine} {date} {time} {ts} {uuid} [default: {db}-{date}-{time}]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l backup-compress -d 'Compress: the dump tool\'s own where it has one (pg custom format .dump, mongo --gzip .archive.gz), else zstd in dbstash (mysql, mariadb, pg_dumpall: .sql.zst); redis: only with BACKUP_COMPRESS_ALGO [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l backup-compress-algo -d 'Compress in dbstash with zstd or gzip for every engine, the dump tool\'s own compression off (.sql.zst, .archive.zst, .rdb.zst; needs BACKUP_COMPRESS=true; not in directory mode)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l backup-compress-level -d 'Level of dbstash\'s in-process compression: zstd 1-19, gzip 1-9; an error where the dump tool compresses (set BACKUP_COMPRESS_ALGO) [default: zstd 3, gzip 6]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l backup-encrypt-recipients -d 'Encrypt each backup in dbstash with age to these public keys (age1…, ssh-ed25519 …, ssh-rsa …; comma separated): .age is appended; only the matching private key can read it' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l backup-encrypt-recipients-file -d 'A file of age recipients, one public key per line (# comments), instead of BACKUP_ENCRYPT_RECIPIENTS (setting both is an error)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l restore-identity-file -d 'restore and verify (and VERIFY_AFTER_BACKUP): decrypt .age backups with this age identity file or unencrypted SSH private key (keep it 0600, off the backup host)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l backup-extension -d 'File extension, e.g. .sql [default: picked from engine, compression and DUMP_EXTRA_ARGS]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l backup-all-databases -d 'Dump every database (pg_dumpall for pg); {db} becomes `all`. Alias: BACKUP_ALL_DBS [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l backup-all-dbs -d 'Alias of --backup-all-databases' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l backup-split-databases -d 'With BACKUP_ALL_DATABASES: one backup per database, named with its {db} (plus `globals` for pg\'s roles and tablespaces) [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l backup-include-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases backed up besides the non-system ones (system databases are skipped unless named here)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l backup-exclude-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases never backed up' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l backup-parallelism -d 'With BACKUP_SPLIT_DATABASES: how many databases are dumped at once, 1 to 32 [default: 1]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l backup-on-start -d 'Run one backup at start, then follow the schedule [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l dump-extra-args -d 'Extra flags for the dump tool, shell-word split; they come last and override BACKUP_COMPRESS' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l tz -d 'Time zone for the schedule and the {date}/{time} tokens, e.g. Europe/Berlin [default: UTC]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l retention-max-files -d 'Keep at most N backups (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l retention-max-days -d 'Delete backups older than N days (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l retention-keep-last -d 'Keep the newest N backups (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l retention-keep-hourly -d 'Keep the newest backup of each of the last N hours that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l retention-keep-daily -d 'Keep the newest backup of each of the last N days that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l retention-keep-weekly -d 'Keep the newest backup of each of the last N ISO weeks that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l retention-keep-monthly -d 'Keep the newest backup of each of the last N months that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l retention-keep-yearly -d 'Keep the newest backup of each of the last N years that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l notify-webhook-url -d 'Webhook to notify: Slack, Discord, or any URL taking a JSON POST' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l notify-webhook-format -d 'Payload shape: auto (Slack for hooks.slack.com, Discord for /api/webhooks/ paths, JSON otherwise), slack, discord or json [default: auto]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l notify-on -d 'When the webhook and email are sent: always, failure or success [default: failure]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l notify-email-to -d 'Email recipients, comma-separated (needs NOTIFY_EMAIL_FROM and SMTP_HOST)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l notify-email-from -d 'Sender address of notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l smtp-host -d 'SMTP server host for notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l smtp-port -d 'SMTP port [default: 587 with starttls, 465 with tls, 25 with none]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l smtp-user -d 'SMTP user name (with SMTP_PASSWORD or SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l smtp-password -d 'SMTP password (prefer SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l smtp-password-file -d 'File holding the SMTP password (Docker secrets); wins over SMTP_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l smtp-tls -d 'starttls, tls (implicit, port 465) or none [default: starttls]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l notify-ping-url -d 'Ping URL (healthchecks.io, Uptime Kuma): URL/start when a run starts, URL on success, URL/fail on failure, whatever NOTIFY_ON says' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l log-level -d 'debug, info, warn or error [default: info]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l log-format -d 'text or json [default: text]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l hook-pre-backup -d 'Shell command (sh -c) run before each backup; a non-zero exit, or running past BACKUP_TIMEOUT, aborts the backup as a failure' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l hook-post-backup -d 'Shell command (sh -c) run after every attempt, with DBSTASH_STATUS, DBSTASH_FILE, DBSTASH_ERROR and more; its failure is only a warning' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l backup-timeout -d 'Longest a backup may run, e.g. 30m, 1h, 1h30m (0 = no limit) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l backup-lock -d 'Skip a run (scheduled or once) while another run of the same backup holds the lock file [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l dry-run -d 'Print the resolved config, dump command and rclone target (secrets redacted); run nothing [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l backup-checksum -d 'Write NAME.sha256 beside each backup; objects without one count as incomplete for retention [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l backup-lock-file -d 'Lock file guarding against overlapping runs, also across processes sharing it [default: BACKUP_TEMP_DIR/dbstash-<engine>-<db>-<remote hash>.lock]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l verify-after-backup -d 'After each backup, download it again and verify its checksum and completeness (as `dbstash verify`); a failed verification fails the run [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l backup-progress-interval -d 'How often a running backup logs its progress (bytes, rate, elapsed), e.g. 30s or 5m; 0 turns it off [default: 1m]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l health-addr -d 'Address of the /healthz and /metrics endpoint (not served with BACKUP_SCHEDULE=once) [default: 0.0.0.0:8080]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l health-max-age -d '/healthz answers 503 when no backup succeeded within this long, e.g. 26h (unset: no limit)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -l backup-temp-dir -d 'Work directory: holds the default lock file, and the dumps of the directory and tar modes [default: /tmp/dbstash-work]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand list" -s h -l help -d 'Print help'
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l db-auth-source -d 'Authentication database for mongo, when DB_URI has no authSource [default: admin]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l restore-backup -l backup -d 'The backup to restore: latest (the newest complete one) or an object name [default: latest]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l restore-database -l database -d 'BACKUP_SPLIT_DATABASES backups only: the one database to restore (its newest backup with --backup latest); globals: PostgreSQL\'s roles and tablespaces object [default: every database of the latest run]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l restore-target-db -l target-db -d 'Restore into this database instead of DB_NAME (the backups are still found by DB_NAME)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l restore-drop-existing -l drop-existing -d 'Drop what the target holds first (pg: its schemas; mysql: the database, created again; mongo: mongorestore --drop of the backup\'s collections)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l restore-force -l force -d 'Restore into a database that already has tables, without dropping anything (with --output: replace an existing file)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l restore-no-verify -l no-verify -d 'Restore a backup that has no .sha256 sidecar (its integrity cannot be checked)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l restore-output -l output -d 'Write the verified backup to this file instead of restoring it (required for redis: an RDB file)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l db-uri -d 'Connection URI (wins over DB_HOST etc.): postgresql://user:pass@host:5432/db, mysql://…/db, redis://:pass@host:6379/0, mongodb://…/db' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l db-uri-file -d 'File holding the connection URI (Docker secrets); wins over DB_URI' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l db-host -d 'Database host' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l db-port -d 'Database port [default: the engine\'s: pg 5432, mysql/mariadb 3306, redis 6379, mongo 27017]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l db-name -d 'Database name (mutually exclusive with BACKUP_ALL_DATABASES)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l db-user -d 'Database user' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l db-password -d 'Database password (prefer DB_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l db-password-file -d 'File holding the database password (Docker secrets); wins over DB_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l rclone-remote -d 'Rclone remote folder to store backups in, e.g. s3:my-bucket/backups (required)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l rclone-config -d 'Base64-encoded rclone.conf content' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l rclone-config-file -d 'Path of an rclone.conf; wins over RCLONE_CONFIG [default: rclone\'s own, ~/.config/rclone/rclone.conf]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l rclone-extra-args -d 'Extra flags for every rclone call, shell-word split (e.g. "--s3-chunk-size 64M")' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l backup-schedule -d 'Cron expression ("0 2 * * *", evaluated in TZ) or `once` to run one backup and exit [default: 0 2 * * *]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l backup-mode -d 'stream (dump stdout into one object), directory (a folder per backup) or tar (one .tar object); see docs/modes.md [default: stream]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l backup-name-template -d 'Object name template; tokens {db} {engine} {date} {time} {ts} {uuid} [default: {db}-{date}-{time}]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l backup-compress -d 'Compress: the dump tool\'s own where it has one (pg custom format .dump, mongo --gzip .archive.gz), else zstd in dbstash (mysql, mariadb, pg_dumpall: .sql.zst); redis: only with BACKUP_COMPRESS_ALGO [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l backup-compress-algo -d 'Compress in dbstash with zstd or gzip for every engine, the dump tool\'s own compression off (.sql.zst, .archive.zst, .rdb.zst; needs BACKUP_COMPRESS=true; not in directory mode)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l backup-compress-level -d 'Level of dbstash\'s in-process compression: zstd 1-19, gzip 1-9; an error where the dump tool compresses (set BACKUP_COMPRESS_ALGO) [default: zstd 3, gzip 6]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l backup-encrypt-recipients -d 'Encrypt each backup in dbstash with age to these public keys (age1…, ssh-ed25519 …, ssh-rsa …; comma separated): .age is appended; only the matching private key can read it' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l backup-encrypt-recipients-file -d 'A file of age recipients, one public key per line (# comments), instead of BACKUP_ENCRYPT_RECIPIENTS (setting both is an error)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l restore-identity-file -d 'restore and verify (and VERIFY_AFTER_BACKUP): decrypt .age backups with this age identity file or unencrypted SSH private key (keep it 0600, off the backup host)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l backup-extension -d 'File extension, e.g. .sql [default: picked from engine, compression and DUMP_EXTRA_ARGS]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l backup-all-databases -d 'Dump every database (pg_dumpall for pg); {db} becomes `all`. Alias: BACKUP_ALL_DBS [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l backup-all-dbs -d 'Alias of --backup-all-databases' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l backup-split-databases -d 'With BACKUP_ALL_DATABASES: one backup per database, named with its {db} (plus `globals` for pg\'s roles and tablespaces) [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l backup-include-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases backed up besides the non-system ones (system databases are skipped unless named here)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l backup-exclude-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases never backed up' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l backup-parallelism -d 'With BACKUP_SPLIT_DATABASES: how many databases are dumped at once, 1 to 32 [default: 1]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l backup-on-start -d 'Run one backup at start, then follow the schedule [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l dump-extra-args -d 'Extra flags for the dump tool, shell-word split; they come last and override BACKUP_COMPRESS' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l tz -d 'Time zone for the schedule and the {date}/{time} tokens, e.g. Europe/Berlin [default: UTC]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l retention-max-files -d 'Keep at most N backups (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l retention-max-days -d 'Delete backups older than N days (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l retention-keep-last -d 'Keep the newest N backups (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l retention-keep-hourly -d 'Keep the newest backup of each of the last N hours that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l retention-keep-daily -d 'Keep the newest backup of each of the last N days that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l retention-keep-weekly -d 'Keep the newest backup of each of the last N ISO weeks that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l retention-keep-monthly -d 'Keep the newest backup of each of the last N months that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l retention-keep-yearly -d 'Keep the newest backup of each of the last N years that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l notify-webhook-url -d 'Webhook to notify: Slack, Discord, or any URL taking a JSON POST' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l notify-webhook-format -d 'Payload shape: auto (Slack for hooks.slack.com, Discord for /api/webhooks/ paths, JSON otherwise), slack, discord or json [default: auto]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l notify-on -d 'When the webhook and email are sent: always, failure or success [default: failure]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l notify-email-to -d 'Email recipients, comma-separated (needs NOTIFY_EMAIL_FROM and SMTP_HOST)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l notify-email-from -d 'Sender address of notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l smtp-host -d 'SMTP server host for notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l smtp-port -d 'SMTP port [default: 587 with starttls, 465 with tls, 25 with none]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l smtp-user -d 'SMTP user name (with SMTP_PASSWORD or SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l smtp-password -d 'SMTP password (prefer SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l smtp-password-file -d 'File holding the SMTP password (Docker secrets); wins over SMTP_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l smtp-tls -d 'starttls, tls (implicit, port 465) or none [default: starttls]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l notify-ping-url -d 'Ping URL (healthchecks.io, Uptime Kuma): URL/start when a run starts, URL on success, URL/fail on failure, whatever NOTIFY_ON says' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l log-level -d 'debug, info, warn or error [default: info]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l log-format -d 'text or json [default: text]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l hook-pre-backup -d 'Shell command (sh -c) run before each backup; a non-zero exit, or running past BACKUP_TIMEOUT, aborts the backup as a failure' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l hook-post-backup -d 'Shell command (sh -c) run after every attempt, with DBSTASH_STATUS, DBSTASH_FILE, DBSTASH_ERROR and more; its failure is only a warning' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l backup-timeout -d 'Longest a backup may run, e.g. 30m, 1h, 1h30m (0 = no limit) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l backup-lock -d 'Skip a run (scheduled or once) while another run of the same backup holds the lock file [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l dry-run -d 'Print the resolved config, dump command and rclone target (secrets redacted); run nothing [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l backup-checksum -d 'Write NAME.sha256 beside each backup; objects without one count as incomplete for retention [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l backup-lock-file -d 'Lock file guarding against overlapping runs, also across processes sharing it [default: BACKUP_TEMP_DIR/dbstash-<engine>-<db>-<remote hash>.lock]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l verify-after-backup -d 'After each backup, download it again and verify its checksum and completeness (as `dbstash verify`); a failed verification fails the run [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l backup-progress-interval -d 'How often a running backup logs its progress (bytes, rate, elapsed), e.g. 30s or 5m; 0 turns it off [default: 1m]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l health-addr -d 'Address of the /healthz and /metrics endpoint (not served with BACKUP_SCHEDULE=once) [default: 0.0.0.0:8080]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l health-max-age -d '/healthz answers 503 when no backup succeeded within this long, e.g. 26h (unset: no limit)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -l backup-temp-dir -d 'Work directory: holds the default lock file, and the dumps of the directory and tar modes [default: /tmp/dbstash-work]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand restore" -s h -l help -d 'Print help'
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l db-auth-source -d 'Authentication database for mongo, when DB_URI has no authSource [default: admin]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l db-uri -d 'Connection URI (wins over DB_HOST etc.): postgresql://user:pass@host:5432/db, mysql://…/db, redis://:pass@host:6379/0, mongodb://…/db' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l db-uri-file -d 'File holding the connection URI (Docker secrets); wins over DB_URI' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l db-host -d 'Database host' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l db-port -d 'Database port [default: the engine\'s: pg 5432, mysql/mariadb 3306, redis 6379, mongo 27017]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l db-name -d 'Database name (mutually exclusive with BACKUP_ALL_DATABASES)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l db-user -d 'Database user' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l db-password -d 'Database password (prefer DB_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l db-password-file -d 'File holding the database password (Docker secrets); wins over DB_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l rclone-remote -d 'Rclone remote folder to store backups in, e.g. s3:my-bucket/backups (required)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l rclone-config -d 'Base64-encoded rclone.conf content' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l rclone-config-file -d 'Path of an rclone.conf; wins over RCLONE_CONFIG [default: rclone\'s own, ~/.config/rclone/rclone.conf]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l rclone-extra-args -d 'Extra flags for every rclone call, shell-word split (e.g. "--s3-chunk-size 64M")' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l backup-schedule -d 'Cron expression ("0 2 * * *", evaluated in TZ) or `once` to run one backup and exit [default: 0 2 * * *]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l backup-mode -d 'stream (dump stdout into one object), directory (a folder per backup) or tar (one .tar object); see docs/modes.md [default: stream]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l backup-name-template -d 'Object name template; tokens {db} {engine} {date} {time} {ts} {uuid} [default: {db}-{date}-{time}]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l backup-compress -d 'Compress: the dump tool\'s own where it has one (pg custom format .dump, mongo --gzip .archive.gz), else zstd in dbstash (mysql, mariadb, pg_dumpall: .sql.zst); redis: only with BACKUP_COMPRESS_ALGO [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l backup-compress-algo -d 'Compress in dbstash with zstd or gzip for every engine, the dump tool\'s own compression off (.sql.zst, .archive.zst, .rdb.zst; needs BACKUP_COMPRESS=true; not in directory mode)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l backup-compress-level -d 'Level of dbstash\'s in-process compression: zstd 1-19, gzip 1-9; an error where the dump tool compresses (set BACKUP_COMPRESS_ALGO) [default: zstd 3, gzip 6]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l backup-encrypt-recipients -d 'Encrypt each backup in dbstash with age to these public keys (age1…, ssh-ed25519 …, ssh-rsa …; comma separated): .age is appended; only the matching private key can read it' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l backup-encrypt-recipients-file -d 'A file of age recipients, one public key per line (# comments), instead of BACKUP_ENCRYPT_RECIPIENTS (setting both is an error)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l restore-identity-file -d 'restore and verify (and VERIFY_AFTER_BACKUP): decrypt .age backups with this age identity file or unencrypted SSH private key (keep it 0600, off the backup host)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l backup-extension -d 'File extension, e.g. .sql [default: picked from engine, compression and DUMP_EXTRA_ARGS]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l backup-all-databases -d 'Dump every database (pg_dumpall for pg); {db} becomes `all`. Alias: BACKUP_ALL_DBS [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l backup-all-dbs -d 'Alias of --backup-all-databases' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l backup-split-databases -d 'With BACKUP_ALL_DATABASES: one backup per database, named with its {db} (plus `globals` for pg\'s roles and tablespaces) [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l backup-include-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases backed up besides the non-system ones (system databases are skipped unless named here)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l backup-exclude-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases never backed up' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l backup-parallelism -d 'With BACKUP_SPLIT_DATABASES: how many databases are dumped at once, 1 to 32 [default: 1]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l backup-on-start -d 'Run one backup at start, then follow the schedule [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l dump-extra-args -d 'Extra flags for the dump tool, shell-word split; they come last and override BACKUP_COMPRESS' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l tz -d 'Time zone for the schedule and the {date}/{time} tokens, e.g. Europe/Berlin [default: UTC]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l retention-max-files -d 'Keep at most N backups (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l retention-max-days -d 'Delete backups older than N days (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l retention-keep-last -d 'Keep the newest N backups (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l retention-keep-hourly -d 'Keep the newest backup of each of the last N hours that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l retention-keep-daily -d 'Keep the newest backup of each of the last N days that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l retention-keep-weekly -d 'Keep the newest backup of each of the last N ISO weeks that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l retention-keep-monthly -d 'Keep the newest backup of each of the last N months that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l retention-keep-yearly -d 'Keep the newest backup of each of the last N years that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l notify-webhook-url -d 'Webhook to notify: Slack, Discord, or any URL taking a JSON POST' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l notify-webhook-format -d 'Payload shape: auto (Slack for hooks.slack.com, Discord for /api/webhooks/ paths, JSON otherwise), slack, discord or json [default: auto]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l notify-on -d 'When the webhook and email are sent: always, failure or success [default: failure]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l notify-email-to -d 'Email recipients, comma-separated (needs NOTIFY_EMAIL_FROM and SMTP_HOST)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l notify-email-from -d 'Sender address of notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l smtp-host -d 'SMTP server host for notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l smtp-port -d 'SMTP port [default: 587 with starttls, 465 with tls, 25 with none]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l smtp-user -d 'SMTP user name (with SMTP_PASSWORD or SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l smtp-password -d 'SMTP password (prefer SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l smtp-password-file -d 'File holding the SMTP password (Docker secrets); wins over SMTP_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l smtp-tls -d 'starttls, tls (implicit, port 465) or none [default: starttls]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l notify-ping-url -d 'Ping URL (healthchecks.io, Uptime Kuma): URL/start when a run starts, URL on success, URL/fail on failure, whatever NOTIFY_ON says' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l log-level -d 'debug, info, warn or error [default: info]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l log-format -d 'text or json [default: text]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l hook-pre-backup -d 'Shell command (sh -c) run before each backup; a non-zero exit, or running past BACKUP_TIMEOUT, aborts the backup as a failure' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l hook-post-backup -d 'Shell command (sh -c) run after every attempt, with DBSTASH_STATUS, DBSTASH_FILE, DBSTASH_ERROR and more; its failure is only a warning' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l backup-timeout -d 'Longest a backup may run, e.g. 30m, 1h, 1h30m (0 = no limit) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l backup-lock -d 'Skip a run (scheduled or once) while another run of the same backup holds the lock file [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l dry-run -d 'Print the resolved config, dump command and rclone target (secrets redacted); run nothing [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l backup-checksum -d 'Write NAME.sha256 beside each backup; objects without one count as incomplete for retention [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l backup-lock-file -d 'Lock file guarding against overlapping runs, also across processes sharing it [default: BACKUP_TEMP_DIR/dbstash-<engine>-<db>-<remote hash>.lock]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l verify-after-backup -d 'After each backup, download it again and verify its checksum and completeness (as `dbstash verify`); a failed verification fails the run [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l backup-progress-interval -d 'How often a running backup logs its progress (bytes, rate, elapsed), e.g. 30s or 5m; 0 turns it off [default: 1m]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l health-addr -d 'Address of the /healthz and /metrics endpoint (not served with BACKUP_SCHEDULE=once) [default: 0.0.0.0:8080]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l health-max-age -d '/healthz answers 503 when no backup succeeded within this long, e.g. 26h (unset: no limit)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -l backup-temp-dir -d 'Work directory: holds the default lock file, and the dumps of the directory and tar modes [default: /tmp/dbstash-work]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand prune" -s h -l help -d 'Print help'
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l db-auth-source -d 'Authentication database for mongo, when DB_URI has no authSource [default: admin]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l restore-backup -l backup -d 'The backup to verify: latest (the newest complete one) or an object name [default: latest]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l restore-database -l database -d 'BACKUP_SPLIT_DATABASES backups only: the one database to verify (its newest backup with --backup latest); globals: PostgreSQL\'s roles and tablespaces object [default: every database of the latest run]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l db-uri -d 'Connection URI (wins over DB_HOST etc.): postgresql://user:pass@host:5432/db, mysql://…/db, redis://:pass@host:6379/0, mongodb://…/db' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l db-uri-file -d 'File holding the connection URI (Docker secrets); wins over DB_URI' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l db-host -d 'Database host' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l db-port -d 'Database port [default: the engine\'s: pg 5432, mysql/mariadb 3306, redis 6379, mongo 27017]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l db-name -d 'Database name (mutually exclusive with BACKUP_ALL_DATABASES)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l db-user -d 'Database user' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l db-password -d 'Database password (prefer DB_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l db-password-file -d 'File holding the database password (Docker secrets); wins over DB_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l rclone-remote -d 'Rclone remote folder to store backups in, e.g. s3:my-bucket/backups (required)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l rclone-config -d 'Base64-encoded rclone.conf content' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l rclone-config-file -d 'Path of an rclone.conf; wins over RCLONE_CONFIG [default: rclone\'s own, ~/.config/rclone/rclone.conf]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l rclone-extra-args -d 'Extra flags for every rclone call, shell-word split (e.g. "--s3-chunk-size 64M")' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l backup-schedule -d 'Cron expression ("0 2 * * *", evaluated in TZ) or `once` to run one backup and exit [default: 0 2 * * *]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l backup-mode -d 'stream (dump stdout into one object), directory (a folder per backup) or tar (one .tar object); see docs/modes.md [default: stream]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l backup-name-template -d 'Object name template; tokens {db} {engine} {date} {time} {ts} {uuid} [default: {db}-{date}-{time}]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l backup-compress -d 'Compress: the dump tool\'s own where it has one (pg custom format .dump, mongo --gzip .archive.gz), else zstd in dbstash (mysql, mariadb, pg_dumpall: .sql.zst); redis: only with BACKUP_COMPRESS_ALGO [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l backup-compress-algo -d 'Compress in dbstash with zstd or gzip for every engine, the dump tool\'s own compression off (.sql.zst, .archive.zst, .rdb.zst; needs BACKUP_COMPRESS=true; not in directory mode)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l backup-compress-level -d 'Level of dbstash\'s in-process compression: zstd 1-19, gzip 1-9; an error where the dump tool compresses (set BACKUP_COMPRESS_ALGO) [default: zstd 3, gzip 6]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l backup-encrypt-recipients -d 'Encrypt each backup in dbstash with age to these public keys (age1…, ssh-ed25519 …, ssh-rsa …; comma separated): .age is appended; only the matching private key can read it' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l backup-encrypt-recipients-file -d 'A file of age recipients, one public key per line (# comments), instead of BACKUP_ENCRYPT_RECIPIENTS (setting both is an error)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l restore-identity-file -d 'restore and verify (and VERIFY_AFTER_BACKUP): decrypt .age backups with this age identity file or unencrypted SSH private key (keep it 0600, off the backup host)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l backup-extension -d 'File extension, e.g. .sql [default: picked from engine, compression and DUMP_EXTRA_ARGS]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l backup-all-databases -d 'Dump every database (pg_dumpall for pg); {db} becomes `all`. Alias: BACKUP_ALL_DBS [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l backup-all-dbs -d 'Alias of --backup-all-databases' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l backup-split-databases -d 'With BACKUP_ALL_DATABASES: one backup per database, named with its {db} (plus `globals` for pg\'s roles and tablespaces) [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l backup-include-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases backed up besides the non-system ones (system databases are skipped unless named here)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l backup-exclude-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases never backed up' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l backup-parallelism -d 'With BACKUP_SPLIT_DATABASES: how many databases are dumped at once, 1 to 32 [default: 1]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l backup-on-start -d 'Run one backup at start, then follow the schedule [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l dump-extra-args -d 'Extra flags for the dump tool, shell-word split; they come last and override BACKUP_COMPRESS' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l tz -d 'Time zone for the schedule and the {date}/{time} tokens, e.g. Europe/Berlin [default: UTC]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l retention-max-files -d 'Keep at most N backups (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l retention-max-days -d 'Delete backups older than N days (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l retention-keep-last -d 'Keep the newest N backups (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l retention-keep-hourly -d 'Keep the newest backup of each of the last N hours that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l retention-keep-daily -d 'Keep the newest backup of each of the last N days that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l retention-keep-weekly -d 'Keep the newest backup of each of the last N ISO weeks that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l retention-keep-monthly -d 'Keep the newest backup of each of the last N months that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l retention-keep-yearly -d 'Keep the newest backup of each of the last N years that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l notify-webhook-url -d 'Webhook to notify: Slack, Discord, or any URL taking a JSON POST' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l notify-webhook-format -d 'Payload shape: auto (Slack for hooks.slack.com, Discord for /api/webhooks/ paths, JSON otherwise), slack, discord or json [default: auto]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l notify-on -d 'When the webhook and email are sent: always, failure or success [default: failure]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l notify-email-to -d 'Email recipients, comma-separated (needs NOTIFY_EMAIL_FROM and SMTP_HOST)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l notify-email-from -d 'Sender address of notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l smtp-host -d 'SMTP server host for notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l smtp-port -d 'SMTP port [default: 587 with starttls, 465 with tls, 25 with none]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l smtp-user -d 'SMTP user name (with SMTP_PASSWORD or SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l smtp-password -d 'SMTP password (prefer SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l smtp-password-file -d 'File holding the SMTP password (Docker secrets); wins over SMTP_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l smtp-tls -d 'starttls, tls (implicit, port 465) or none [default: starttls]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l notify-ping-url -d 'Ping URL (healthchecks.io, Uptime Kuma): URL/start when a run starts, URL on success, URL/fail on failure, whatever NOTIFY_ON says' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l log-level -d 'debug, info, warn or error [default: info]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l log-format -d 'text or json [default: text]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l hook-pre-backup -d 'Shell command (sh -c) run before each backup; a non-zero exit, or running past BACKUP_TIMEOUT, aborts the backup as a failure' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l hook-post-backup -d 'Shell command (sh -c) run after every attempt, with DBSTASH_STATUS, DBSTASH_FILE, DBSTASH_ERROR and more; its failure is only a warning' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l backup-timeout -d 'Longest a backup may run, e.g. 30m, 1h, 1h30m (0 = no limit) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l backup-lock -d 'Skip a run (scheduled or once) while another run of the same backup holds the lock file [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l dry-run -d 'Print the resolved config, dump command and rclone target (secrets redacted); run nothing [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l backup-checksum -d 'Write NAME.sha256 beside each backup; objects without one count as incomplete for retention [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l backup-lock-file -d 'Lock file guarding against overlapping runs, also across processes sharing it [default: BACKUP_TEMP_DIR/dbstash-<engine>-<db>-<remote hash>.lock]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l verify-after-backup -d 'After each backup, download it again and verify its checksum and completeness (as `dbstash verify`); a failed verification fails the run [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l backup-progress-interval -d 'How often a running backup logs its progress (bytes, rate, elapsed), e.g. 30s or 5m; 0 turns it off [default: 1m]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l health-addr -d 'Address of the /healthz and /metrics endpoint (not served with BACKUP_SCHEDULE=once) [default: 0.0.0.0:8080]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l health-max-age -d '/healthz answers 503 when no backup succeeded within this long, e.g. 26h (unset: no limit)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -l backup-temp-dir -d 'Work directory: holds the default lock file, and the dumps of the directory and tar modes [default: /tmp/dbstash-work]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand verify" -s h -l help -d 'Print help'
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l db-uri -d 'Connection URI (wins over DB_HOST etc.): postgresql://user:pass@host:5432/db, mysql://…/db, redis://:pass@host:6379/0, mongodb://…/db' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l db-uri-file -d 'File holding the connection URI (Docker secrets); wins over DB_URI' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l db-host -d 'Database host' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l db-port -d 'Database port [default: the engine\'s: pg 5432, mysql/mariadb 3306, redis 6379, mongo 27017]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l db-name -d 'Database name (mutually exclusive with BACKUP_ALL_DATABASES)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l db-user -d 'Database user' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l db-password -d 'Database password (prefer DB_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l db-password-file -d 'File holding the database password (Docker secrets); wins over DB_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l rclone-remote -d 'Rclone remote folder to store backups in, e.g. s3:my-bucket/backups (required)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l rclone-config -d 'Base64-encoded rclone.conf content' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l rclone-config-file -d 'Path of an rclone.conf; wins over RCLONE_CONFIG [default: rclone\'s own, ~/.config/rclone/rclone.conf]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l rclone-extra-args -d 'Extra flags for every rclone call, shell-word split (e.g. "--s3-chunk-size 64M")' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l backup-schedule -d 'Cron expression ("0 2 * * *", evaluated in TZ) or `once` to run one backup and exit [default: 0 2 * * *]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l backup-mode -d 'stream (dump stdout into one object), directory (a folder per backup) or tar (one .tar object); see docs/modes.md [default: stream]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l backup-name-template -d 'Object name template; tokens {db} {engine} {date} {time} {ts} {uuid} [default: {db}-{date}-{time}]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l backup-compress -d 'Compress: the dump tool\'s own where it has one (pg custom format .dump, mongo --gzip .archive.gz), else zstd in dbstash (mysql, mariadb, pg_dumpall: .sql.zst); redis: only with BACKUP_COMPRESS_ALGO [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l backup-compress-algo -d 'Compress in dbstash with zstd or gzip for every engine, the dump tool\'s own compression off (.sql.zst, .archive.zst, .rdb.zst; needs BACKUP_COMPRESS=true; not in directory mode)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l backup-compress-level -d 'Level of dbstash\'s in-process compression: zstd 1-19, gzip 1-9; an error where the dump tool compresses (set BACKUP_COMPRESS_ALGO) [default: zstd 3, gzip 6]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l backup-encrypt-recipients -d 'Encrypt each backup in dbstash with age to these public keys (age1…, ssh-ed25519 …, ssh-rsa …; comma separated): .age is appended; only the matching private key can read it' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l backup-encrypt-recipients-file -d 'A file of age recipients, one public key per line (# comments), instead of BACKUP_ENCRYPT_RECIPIENTS (setting both is an error)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l restore-identity-file -d 'restore and verify (and VERIFY_AFTER_BACKUP): decrypt .age backups with this age identity file or unencrypted SSH private key (keep it 0600, off the backup host)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l backup-extension -d 'File extension, e.g. .sql [default: picked from engine, compression and DUMP_EXTRA_ARGS]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l backup-all-databases -d 'Dump every database (pg_dumpall for pg); {db} becomes `all`. Alias: BACKUP_ALL_DBS [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l backup-all-dbs -d 'Alias of --backup-all-databases' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l backup-split-databases -d 'With BACKUP_ALL_DATABASES: one backup per database, named with its {db} (plus `globals` for pg\'s roles and tablespaces) [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l backup-include-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases backed up besides the non-system ones (system databases are skipped unless named here)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l backup-exclude-databases -d 'With BACKUP_SPLIT_DATABASES: comma-separated databases never backed up' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l backup-parallelism -d 'With BACKUP_SPLIT_DATABASES: how many databases are dumped at once, 1 to 32 [default: 1]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l backup-on-start -d 'Run one backup at start, then follow the schedule [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l dump-extra-args -d 'Extra flags for the dump tool, shell-word split; they come last and override BACKUP_COMPRESS' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l tz -d 'Time zone for the schedule and the {date}/{time} tokens, e.g. Europe/Berlin [default: UTC]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l retention-max-files -d 'Keep at most N backups (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l retention-max-days -d 'Delete backups older than N days (0 = unlimited) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l retention-keep-last -d 'Keep the newest N backups (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l retention-keep-hourly -d 'Keep the newest backup of each of the last N hours that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l retention-keep-daily -d 'Keep the newest backup of each of the last N days that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l retention-keep-weekly -d 'Keep the newest backup of each of the last N ISO weeks that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l retention-keep-monthly -d 'Keep the newest backup of each of the last N months that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l retention-keep-yearly -d 'Keep the newest backup of each of the last N years that have one (calendar retention in TZ; not with RETENTION_MAX_*) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l notify-webhook-url -d 'Webhook to notify: Slack, Discord, or any URL taking a JSON POST' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l notify-webhook-format -d 'Payload shape: auto (Slack for hooks.slack.com, Discord for /api/webhooks/ paths, JSON otherwise), slack, discord or json [default: auto]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l notify-on -d 'When the webhook and email are sent: always, failure or success [default: failure]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l notify-email-to -d 'Email recipients, comma-separated (needs NOTIFY_EMAIL_FROM and SMTP_HOST)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l notify-email-from -d 'Sender address of notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l smtp-host -d 'SMTP server host for notification emails' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l smtp-port -d 'SMTP port [default: 587 with starttls, 465 with tls, 25 with none]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l smtp-user -d 'SMTP user name (with SMTP_PASSWORD or SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l smtp-password -d 'SMTP password (prefer SMTP_PASSWORD_FILE)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l smtp-password-file -d 'File holding the SMTP password (Docker secrets); wins over SMTP_PASSWORD' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l smtp-tls -d 'starttls, tls (implicit, port 465) or none [default: starttls]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l notify-ping-url -d 'Ping URL (healthchecks.io, Uptime Kuma): URL/start when a run starts, URL on success, URL/fail on failure, whatever NOTIFY_ON says' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l log-level -d 'debug, info, warn or error [default: info]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l log-format -d 'text or json [default: text]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l hook-pre-backup -d 'Shell command (sh -c) run before each backup; a non-zero exit, or running past BACKUP_TIMEOUT, aborts the backup as a failure' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l hook-post-backup -d 'Shell command (sh -c) run after every attempt, with DBSTASH_STATUS, DBSTASH_FILE, DBSTASH_ERROR and more; its failure is only a warning' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l backup-timeout -d 'Longest a backup may run, e.g. 30m, 1h, 1h30m (0 = no limit) [default: 0]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l backup-lock -d 'Skip a run (scheduled or once) while another run of the same backup holds the lock file [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l dry-run -d 'Print the resolved config, dump command and rclone target (secrets redacted); run nothing [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l backup-checksum -d 'Write NAME.sha256 beside each backup; objects without one count as incomplete for retention [default: true]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l backup-lock-file -d 'Lock file guarding against overlapping runs, also across processes sharing it [default: BACKUP_TEMP_DIR/dbstash-<engine>-<db>-<remote hash>.lock]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l verify-after-backup -d 'After each backup, download it again and verify its checksum and completeness (as `dbstash verify`); a failed verification fails the run [default: false]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l backup-progress-interval -d 'How often a running backup logs its progress (bytes, rate, elapsed), e.g. 30s or 5m; 0 turns it off [default: 1m]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l health-addr -d 'Address of the /healthz and /metrics endpoint (not served with BACKUP_SCHEDULE=once) [default: 0.0.0.0:8080]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l health-max-age -d '/healthz answers 503 when no backup succeeded within this long, e.g. 26h (unset: no limit)' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -l backup-temp-dir -d 'Work directory: holds the default lock file, and the dumps of the directory and tar modes [default: /tmp/dbstash-work]' -r
complete -c dbstash -n "__fish_dbstash_using_subcommand healthcheck" -s h -l help -d 'Print help'
complete -c dbstash -n "__fish_dbstash_using_subcommand help; and not __fish_seen_subcommand_from pg mysql mariadb redis mongo completions man check list restore prune verify healthcheck help" -f -a "pg" -d 'Back up PostgreSQL with pg_dump (one database) or pg_dumpall (all databases)'
complete -c dbstash -n "__fish_dbstash_using_subcommand help; and not __fish_seen_subcommand_from pg mysql mariadb redis mongo completions man check list restore prune verify healthcheck help" -f -a "mysql" -d 'Back up MySQL with mysqldump'
complete -c dbstash -n "__fish_dbstash_using_subcommand help; and not __fish_seen_subcommand_from pg mysql mariadb redis mongo completions man check list restore prune verify healthcheck help" -f -a "mariadb" -d 'Back up MariaDB with mariadb-dump (or mysqldump when mariadb-dump is missing)'
complete -c dbstash -n "__fish_dbstash_using_subcommand help; and not __fish_seen_subcommand_from pg mysql mariadb redis mongo completions man check list restore prune verify healthcheck help" -f -a "redis" -d 'Back up Redis with redis-cli --rdb (the whole RDB snapshot)'
complete -c dbstash -n "__fish_dbstash_using_subcommand help; and not __fish_seen_subcommand_from pg mysql mariadb redis mongo completions man check list restore prune verify healthcheck help" -f -a "mongo" -d 'Back up MongoDB with mongodump --archive'
complete -c dbstash -n "__fish_dbstash_using_subcommand help; and not __fish_seen_subcommand_from pg mysql mariadb redis mongo completions man check list restore prune verify healthcheck help" -f -a "completions" -d 'Print a shell completion script: bash, zsh, fish, powershell or elvish'
complete -c dbstash -n "__fish_dbstash_using_subcommand help; and not __fish_seen_subcommand_from pg mysql mariadb redis mongo completions man check list restore prune verify healthcheck help" -f -a "man" -d 'Print the man page (roff) for dbstash(1)'
complete -c dbstash -n "__fish_dbstash_using_subcommand help; and not __fish_seen_subcommand_from pg mysql mariadb redis mongo completions man check list restore prune verify healthcheck help" -f -a "check" -d 'Check the configuration without taking a backup: the dump tool and rclone (with versions), the remote, and a database connection with the dump\'s own credentials. Exit 0 all ok, 1 a step failed, 2 bad configuration'
complete -c dbstash -n "__fish_dbstash_using_subcommand help; and not __fish_seen_subcommand_from pg mysql mariadb redis mongo completions man check list restore prune verify healthcheck help" -f -a "list" -d 'List this configuration\'s backups on the remote, newest first: name, time, size, checksum state (ok, or incomplete without its .sha256)'
complete -c dbstash -n "__fish_dbstash_using_subcommand help; and not __fish_seen_subcommand_from pg mysql mariadb redis mongo completions man check list restore prune verify healthcheck help" -f -a "restore" -d 'Restore a backup (latest, or --backup NAME) into the database, checking its SHA-256 first; refuses a database that has tables unless --drop-existing or --force'
complete -c dbstash -n "__fish_dbstash_using_subcommand help; and not __fish_seen_subcommand_from pg mysql mariadb redis mongo completions man check list restore prune verify healthcheck help" -f -a "prune" -d 'Apply this configuration\'s retention (RETENTION_MAX_*, RETENTION_KEEP_*) without taking a backup: prints each backup as kept (and by which rule) or deleted. With --dry-run nothing is deleted. Exit 0, or 1 when the remote cannot be listed or a deletion failed'
complete -c dbstash -n "__fish_dbstash_using_subcommand help; and not __fish_seen_subcommand_from pg mysql mariadb redis mongo completions man check list restore prune verify healthcheck help" -f -a "verify" -d 'Download a backup and check its checksum and that the dump is complete, without restoring it. Exit 0 or 1'
complete -c dbstash -n "__fish_dbstash_using_subcommand help; and not __fish_seen_subcommand_from pg mysql mariadb redis mongo completions man check list restore prune verify healthcheck help" -f -a "healthcheck" -d 'Probe this process\'s own /healthz (HEALTH_ADDR) and exit 0 when healthy, 1 otherwise; always 0 with BACKUP_SCHEDULE=once. For Docker\'s HEALTHCHECK: needs no curl or wget'
complete -c dbstash -n "__fish_dbstash_using_subcommand help; and not __fish_seen_subcommand_from pg mysql mariadb redis mongo completions man check list restore prune verify healthcheck help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
