_dbstash() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="dbstash"
                ;;
            dbstash,check)
                cmd="dbstash__subcmd__check"
                ;;
            dbstash,completions)
                cmd="dbstash__subcmd__completions"
                ;;
            dbstash,healthcheck)
                cmd="dbstash__subcmd__healthcheck"
                ;;
            dbstash,help)
                cmd="dbstash__subcmd__help"
                ;;
            dbstash,list)
                cmd="dbstash__subcmd__list"
                ;;
            dbstash,man)
                cmd="dbstash__subcmd__man"
                ;;
            dbstash,mariadb)
                cmd="dbstash__subcmd__mariadb"
                ;;
            dbstash,mongo)
                cmd="dbstash__subcmd__mongo"
                ;;
            dbstash,mysql)
                cmd="dbstash__subcmd__mysql"
                ;;
            dbstash,pg)
                cmd="dbstash__subcmd__pg"
                ;;
            dbstash,prune)
                cmd="dbstash__subcmd__prune"
                ;;
            dbstash,redis)
                cmd="dbstash__subcmd__redis"
                ;;
            dbstash,restore)
                cmd="dbstash__subcmd__restore"
                ;;
            dbstash,verify)
                cmd="dbstash__subcmd__verify"
                ;;
            dbstash__subcmd__help,check)
                cmd="dbstash__subcmd__help__subcmd__check"
                ;;
            dbstash__subcmd__help,completions)
                cmd="dbstash__subcmd__help__subcmd__completions"
                ;;
            dbstash__subcmd__help,healthcheck)
                cmd="dbstash__subcmd__help__subcmd__healthcheck"
                ;;
            dbstash__subcmd__help,help)
                cmd="dbstash__subcmd__help__subcmd__help"
                ;;
            dbstash__subcmd__help,list)
                cmd="dbstash__subcmd__help__subcmd__list"
                ;;
            dbstash__subcmd__help,man)
                cmd="dbstash__subcmd__help__subcmd__man"
                ;;
            dbstash__subcmd__help,mariadb)
                cmd="dbstash__subcmd__help__subcmd__mariadb"
                ;;
            dbstash__subcmd__help,mongo)
                cmd="dbstash__subcmd__help__subcmd__mongo"
                ;;
            dbstash__subcmd__help,mysql)
                cmd="dbstash__subcmd__help__subcmd__mysql"
                ;;
            dbstash__subcmd__help,pg)
                cmd="dbstash__subcmd__help__subcmd__pg"
                ;;
            dbstash__subcmd__help,prune)
                cmd="dbstash__subcmd__help__subcmd__prune"
                ;;
            dbstash__subcmd__help,redis)
                cmd="dbstash__subcmd__help__subcmd__redis"
                ;;
            dbstash__subcmd__help,restore)
                cmd="dbstash__subcmd__help__subcmd__restore"
                ;;
            dbstash__subcmd__help,verify)
                cmd="dbstash__subcmd__help__subcmd__verify"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        dbstash)
            opts="-h -V --engine --db-auth-source --db-uri --db-uri-file --db-host --db-port --db-name --db-user --db-password --db-password-file --rclone-remote --rclone-config --rclone-config-file --rclone-extra-args --backup-schedule --backup-mode --backup-name-template --backup-compress --backup-compress-algo --backup-compress-level --backup-encrypt-recipients --backup-encrypt-recipients-file --restore-identity-file --backup-extension --backup-all-databases --backup-all-dbs --backup-split-databases --backup-include-databases --backup-exclude-databases --backup-parallelism --backup-on-start --dump-extra-args --tz --retention-max-files --retention-max-days --retention-keep-last --retention-keep-hourly --retention-keep-daily --retention-keep-weekly --retention-keep-monthly --retention-keep-yearly --notify-webhook-url --notify-webhook-format --notify-on --notify-email-to --notify-email-from --smtp-host --smtp-port --smtp-user --smtp-password --smtp-password-file --smtp-tls --notify-ping-url --log-level --log-format --hook-pre-backup --hook-post-backup --backup-timeout --backup-lock --dry-run --backup-checksum --backup-lock-file --verify-after-backup --backup-progress-interval --health-addr --health-max-age --backup-temp-dir --help --version pg mysql mariadb redis mongo completions man check list restore prune verify healthcheck help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --engine)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-auth-source)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-uri)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-uri-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-remote)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-schedule)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-mode)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-name-template)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-algo)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --restore-identity-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-extension)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-dbs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-split-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-include-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-exclude-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-parallelism)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-on-start)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dump-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tz)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-files)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-days)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-last)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-hourly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-daily)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-weekly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-monthly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-yearly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-on)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-to)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-from)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-tls)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-ping-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-pre-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-post-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dry-run)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-checksum)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --verify-after-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-progress-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-addr)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-max-age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-temp-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__check)
            opts="-h --db-auth-source --db-uri --db-uri-file --db-host --db-port --db-name --db-user --db-password --db-password-file --rclone-remote --rclone-config --rclone-config-file --rclone-extra-args --backup-schedule --backup-mode --backup-name-template --backup-compress --backup-compress-algo --backup-compress-level --backup-encrypt-recipients --backup-encrypt-recipients-file --restore-identity-file --backup-extension --backup-all-databases --backup-all-dbs --backup-split-databases --backup-include-databases --backup-exclude-databases --backup-parallelism --backup-on-start --dump-extra-args --tz --retention-max-files --retention-max-days --retention-keep-last --retention-keep-hourly --retention-keep-daily --retention-keep-weekly --retention-keep-monthly --retention-keep-yearly --notify-webhook-url --notify-webhook-format --notify-on --notify-email-to --notify-email-from --smtp-host --smtp-port --smtp-user --smtp-password --smtp-password-file --smtp-tls --notify-ping-url --log-level --log-format --hook-pre-backup --hook-post-backup --backup-timeout --backup-lock --dry-run --backup-checksum --backup-lock-file --verify-after-backup --backup-progress-interval --health-addr --health-max-age --backup-temp-dir --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --db-auth-source)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-uri)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-uri-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-remote)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-schedule)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-mode)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-name-template)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-algo)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --restore-identity-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-extension)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-dbs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-split-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-include-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-exclude-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-parallelism)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-on-start)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dump-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tz)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-files)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-days)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-last)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-hourly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-daily)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-weekly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-monthly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-yearly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-on)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-to)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-from)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-tls)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-ping-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-pre-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-post-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dry-run)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-checksum)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --verify-after-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-progress-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-addr)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-max-age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-temp-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__completions)
            opts="-h --db-uri --db-uri-file --db-host --db-port --db-name --db-user --db-password --db-password-file --rclone-remote --rclone-config --rclone-config-file --rclone-extra-args --backup-schedule --backup-mode --backup-name-template --backup-compress --backup-compress-algo --backup-compress-level --backup-encrypt-recipients --backup-encrypt-recipients-file --restore-identity-file --backup-extension --backup-all-databases --backup-all-dbs --backup-split-databases --backup-include-databases --backup-exclude-databases --backup-parallelism --backup-on-start --dump-extra-args --tz --retention-max-files --retention-max-days --retention-keep-last --retention-keep-hourly --retention-keep-daily --retention-keep-weekly --retention-keep-monthly --retention-keep-yearly --notify-webhook-url --notify-webhook-format --notify-on --notify-email-to --notify-email-from --smtp-host --smtp-port --smtp-user --smtp-password --smtp-password-file --smtp-tls --notify-ping-url --log-level --log-format --hook-pre-backup --hook-post-backup --backup-timeout --backup-lock --dry-run --backup-checksum --backup-lock-file --verify-after-backup --backup-progress-interval --health-addr --health-max-age --backup-temp-dir --help bash elvish fish powershell zsh"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --db-uri)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-uri-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-remote)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-schedule)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-mode)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-name-template)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-algo)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --restore-identity-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-extension)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-dbs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-split-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-include-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-exclude-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-parallelism)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-on-start)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dump-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tz)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-files)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-days)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-last)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-hourly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-daily)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-weekly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-monthly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-yearly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-on)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-to)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-from)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-tls)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-ping-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-pre-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-post-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dry-run)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-checksum)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --verify-after-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-progress-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-addr)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-max-age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-temp-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__healthcheck)
            opts="-h --db-uri --db-uri-file --db-host --db-port --db-name --db-user --db-password --db-password-file --rclone-remote --rclone-config --rclone-config-file --rclone-extra-args --backup-schedule --backup-mode --backup-name-template --backup-compress --backup-compress-algo --backup-compress-level --backup-encrypt-recipients --backup-encrypt-recipients-file --restore-identity-file --backup-extension --backup-all-databases --backup-all-dbs --backup-split-databases --backup-include-databases --backup-exclude-databases --backup-parallelism --backup-on-start --dump-extra-args --tz --retention-max-files --retention-max-days --retention-keep-last --retention-keep-hourly --retention-keep-daily --retention-keep-weekly --retention-keep-monthly --retention-keep-yearly --notify-webhook-url --notify-webhook-format --notify-on --notify-email-to --notify-email-from --smtp-host --smtp-port --smtp-user --smtp-password --smtp-password-file --smtp-tls --notify-ping-url --log-level --log-format --hook-pre-backup --hook-post-backup --backup-timeout --backup-lock --dry-run --backup-checksum --backup-lock-file --verify-after-backup --backup-progress-interval --health-addr --health-max-age --backup-temp-dir --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --db-uri)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-uri-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-remote)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-schedule)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-mode)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-name-template)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-algo)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --restore-identity-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-extension)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-dbs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-split-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-include-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-exclude-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-parallelism)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-on-start)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dump-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tz)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-files)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-days)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-last)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-hourly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-daily)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-weekly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-monthly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-yearly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-on)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-to)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-from)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-tls)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-ping-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-pre-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-post-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dry-run)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-checksum)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --verify-after-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-progress-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-addr)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-max-age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-temp-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__help)
            opts="pg mysql mariadb redis mongo completions man check list restore prune verify healthcheck help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__help__subcmd__check)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__help__subcmd__completions)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__help__subcmd__healthcheck)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__help__subcmd__list)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__help__subcmd__man)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__help__subcmd__mariadb)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__help__subcmd__mongo)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__help__subcmd__mysql)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__help__subcmd__pg)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__help__subcmd__prune)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__help__subcmd__redis)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__help__subcmd__restore)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__help__subcmd__verify)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__list)
            opts="-h --db-auth-source --format --list-format --db-uri --db-uri-file --db-host --db-port --db-name --db-user --db-password --db-password-file --rclone-remote --rclone-config --rclone-config-file --rclone-extra-args --backup-schedule --backup-mode --backup-name-template --backup-compress --backup-compress-algo --backup-compress-level --backup-encrypt-recipients --backup-encrypt-recipients-file --restore-identity-file --backup-extension --backup-all-databases --backup-all-dbs --backup-split-databases --backup-include-databases --backup-exclude-databases --backup-parallelism --backup-on-start --dump-extra-args --tz --retention-max-files --retention-max-days --retention-keep-last --retention-keep-hourly --retention-keep-daily --retention-keep-weekly --retention-keep-monthly --retention-keep-yearly --notify-webhook-url --notify-webhook-format --notify-on --notify-email-to --notify-email-from --smtp-host --smtp-port --smtp-user --smtp-password --smtp-password-file --smtp-tls --notify-ping-url --log-level --log-format --hook-pre-backup --hook-post-backup --backup-timeout --backup-lock --dry-run --backup-checksum --backup-lock-file --verify-after-backup --backup-progress-interval --health-addr --health-max-age --backup-temp-dir --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --db-auth-source)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --list-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-uri)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-uri-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-remote)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-schedule)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-mode)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-name-template)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-algo)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --restore-identity-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-extension)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-dbs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-split-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-include-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-exclude-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-parallelism)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-on-start)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dump-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tz)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-files)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-days)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-last)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-hourly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-daily)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-weekly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-monthly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-yearly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-on)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-to)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-from)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-tls)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-ping-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-pre-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-post-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dry-run)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-checksum)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --verify-after-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-progress-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-addr)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-max-age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-temp-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__man)
            opts="-h --db-uri --db-uri-file --db-host --db-port --db-name --db-user --db-password --db-password-file --rclone-remote --rclone-config --rclone-config-file --rclone-extra-args --backup-schedule --backup-mode --backup-name-template --backup-compress --backup-compress-algo --backup-compress-level --backup-encrypt-recipients --backup-encrypt-recipients-file --restore-identity-file --backup-extension --backup-all-databases --backup-all-dbs --backup-split-databases --backup-include-databases --backup-exclude-databases --backup-parallelism --backup-on-start --dump-extra-args --tz --retention-max-files --retention-max-days --retention-keep-last --retention-keep-hourly --retention-keep-daily --retention-keep-weekly --retention-keep-monthly --retention-keep-yearly --notify-webhook-url --notify-webhook-format --notify-on --notify-email-to --notify-email-from --smtp-host --smtp-port --smtp-user --smtp-password --smtp-password-file --smtp-tls --notify-ping-url --log-level --log-format --hook-pre-backup --hook-post-backup --backup-timeout --backup-lock --dry-run --backup-checksum --backup-lock-file --verify-after-backup --backup-progress-interval --health-addr --health-max-age --backup-temp-dir --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --db-uri)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-uri-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-remote)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-schedule)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-mode)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-name-template)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-algo)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --restore-identity-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-extension)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-dbs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-split-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-include-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-exclude-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-parallelism)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-on-start)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dump-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tz)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-files)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-days)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-last)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-hourly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-daily)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-weekly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-monthly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-yearly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-on)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-to)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-from)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-tls)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-ping-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-pre-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-post-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dry-run)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-checksum)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --verify-after-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-progress-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-addr)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-max-age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-temp-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__mariadb)
            opts="-h --db-uri --db-uri-file --db-host --db-port --db-name --db-user --db-password --db-password-file --rclone-remote --rclone-config --rclone-config-file --rclone-extra-args --backup-schedule --backup-mode --backup-name-template --backup-compress --backup-compress-algo --backup-compress-level --backup-encrypt-recipients --backup-encrypt-recipients-file --restore-identity-file --backup-extension --backup-all-databases --backup-all-dbs --backup-split-databases --backup-include-databases --backup-exclude-databases --backup-parallelism --backup-on-start --dump-extra-args --tz --retention-max-files --retention-max-days --retention-keep-last --retention-keep-hourly --retention-keep-daily --retention-keep-weekly --retention-keep-monthly --retention-keep-yearly --notify-webhook-url --notify-webhook-format --notify-on --notify-email-to --notify-email-from --smtp-host --smtp-port --smtp-user --smtp-password --smtp-password-file --smtp-tls --notify-ping-url --log-level --log-format --hook-pre-backup --hook-post-backup --backup-timeout --backup-lock --dry-run --backup-checksum --backup-lock-file --verify-after-backup --backup-progress-interval --health-addr --health-max-age --backup-temp-dir --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --db-uri)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-uri-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-remote)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-schedule)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-mode)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-name-template)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-algo)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --restore-identity-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-extension)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-dbs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-split-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-include-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-exclude-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-parallelism)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-on-start)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dump-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tz)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-files)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-days)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-last)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-hourly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-daily)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-weekly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-monthly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-yearly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-on)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-to)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-from)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-tls)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-ping-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-pre-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-post-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dry-run)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-checksum)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --verify-after-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-progress-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-addr)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-max-age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-temp-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__mongo)
            opts="-h --db-auth-source --db-uri --db-uri-file --db-host --db-port --db-name --db-user --db-password --db-password-file --rclone-remote --rclone-config --rclone-config-file --rclone-extra-args --backup-schedule --backup-mode --backup-name-template --backup-compress --backup-compress-algo --backup-compress-level --backup-encrypt-recipients --backup-encrypt-recipients-file --restore-identity-file --backup-extension --backup-all-databases --backup-all-dbs --backup-split-databases --backup-include-databases --backup-exclude-databases --backup-parallelism --backup-on-start --dump-extra-args --tz --retention-max-files --retention-max-days --retention-keep-last --retention-keep-hourly --retention-keep-daily --retention-keep-weekly --retention-keep-monthly --retention-keep-yearly --notify-webhook-url --notify-webhook-format --notify-on --notify-email-to --notify-email-from --smtp-host --smtp-port --smtp-user --smtp-password --smtp-password-file --smtp-tls --notify-ping-url --log-level --log-format --hook-pre-backup --hook-post-backup --backup-timeout --backup-lock --dry-run --backup-checksum --backup-lock-file --verify-after-backup --backup-progress-interval --health-addr --health-max-age --backup-temp-dir --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --db-auth-source)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-uri)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-uri-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-remote)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-schedule)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-mode)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-name-template)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-algo)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --restore-identity-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-extension)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-dbs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-split-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-include-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-exclude-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-parallelism)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-on-start)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dump-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tz)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-files)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-days)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-last)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-hourly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-daily)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-weekly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-monthly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-yearly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-on)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-to)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-from)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-tls)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-ping-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-pre-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-post-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dry-run)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-checksum)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --verify-after-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-progress-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-addr)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-max-age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-temp-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__mysql)
            opts="-h --db-uri --db-uri-file --db-host --db-port --db-name --db-user --db-password --db-password-file --rclone-remote --rclone-config --rclone-config-file --rclone-extra-args --backup-schedule --backup-mode --backup-name-template --backup-compress --backup-compress-algo --backup-compress-level --backup-encrypt-recipients --backup-encrypt-recipients-file --restore-identity-file --backup-extension --backup-all-databases --backup-all-dbs --backup-split-databases --backup-include-databases --backup-exclude-databases --backup-parallelism --backup-on-start --dump-extra-args --tz --retention-max-files --retention-max-days --retention-keep-last --retention-keep-hourly --retention-keep-daily --retention-keep-weekly --retention-keep-monthly --retention-keep-yearly --notify-webhook-url --notify-webhook-format --notify-on --notify-email-to --notify-email-from --smtp-host --smtp-port --smtp-user --smtp-password --smtp-password-file --smtp-tls --notify-ping-url --log-level --log-format --hook-pre-backup --hook-post-backup --backup-timeout --backup-lock --dry-run --backup-checksum --backup-lock-file --verify-after-backup --backup-progress-interval --health-addr --health-max-age --backup-temp-dir --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --db-uri)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-uri-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-remote)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-schedule)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-mode)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-name-template)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-algo)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --restore-identity-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-extension)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-dbs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-split-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-include-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-exclude-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-parallelism)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-on-start)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dump-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tz)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-files)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-days)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-last)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-hourly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-daily)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-weekly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-monthly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-yearly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-on)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-to)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-from)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-tls)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-ping-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-pre-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-post-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dry-run)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-checksum)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --verify-after-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-progress-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-addr)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-max-age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-temp-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__pg)
            opts="-h --db-uri --db-uri-file --db-host --db-port --db-name --db-user --db-password --db-password-file --rclone-remote --rclone-config --rclone-config-file --rclone-extra-args --backup-schedule --backup-mode --backup-name-template --backup-compress --backup-compress-algo --backup-compress-level --backup-encrypt-recipients --backup-encrypt-recipients-file --restore-identity-file --backup-extension --backup-all-databases --backup-all-dbs --backup-split-databases --backup-include-databases --backup-exclude-databases --backup-parallelism --backup-on-start --dump-extra-args --tz --retention-max-files --retention-max-days --retention-keep-last --retention-keep-hourly --retention-keep-daily --retention-keep-weekly --retention-keep-monthly --retention-keep-yearly --notify-webhook-url --notify-webhook-format --notify-on --notify-email-to --notify-email-from --smtp-host --smtp-port --smtp-user --smtp-password --smtp-password-file --smtp-tls --notify-ping-url --log-level --log-format --hook-pre-backup --hook-post-backup --backup-timeout --backup-lock --dry-run --backup-checksum --backup-lock-file --verify-after-backup --backup-progress-interval --health-addr --health-max-age --backup-temp-dir --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --db-uri)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-uri-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-remote)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-schedule)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-mode)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-name-template)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-algo)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --restore-identity-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-extension)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-dbs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-split-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-include-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-exclude-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-parallelism)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-on-start)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dump-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tz)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-files)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-days)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-last)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-hourly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-daily)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-weekly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-monthly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-yearly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-on)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-to)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-from)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-tls)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-ping-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-pre-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-post-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dry-run)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-checksum)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --verify-after-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-progress-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-addr)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-max-age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-temp-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__prune)
            opts="-h --db-auth-source --db-uri --db-uri-file --db-host --db-port --db-name --db-user --db-password --db-password-file --rclone-remote --rclone-config --rclone-config-file --rclone-extra-args --backup-schedule --backup-mode --backup-name-template --backup-compress --backup-compress-algo --backup-compress-level --backup-encrypt-recipients --backup-encrypt-recipients-file --restore-identity-file --backup-extension --backup-all-databases --backup-all-dbs --backup-split-databases --backup-include-databases --backup-exclude-databases --backup-parallelism --backup-on-start --dump-extra-args --tz --retention-max-files --retention-max-days --retention-keep-last --retention-keep-hourly --retention-keep-daily --retention-keep-weekly --retention-keep-monthly --retention-keep-yearly --notify-webhook-url --notify-webhook-format --notify-on --notify-email-to --notify-email-from --smtp-host --smtp-port --smtp-user --smtp-password --smtp-password-file --smtp-tls --notify-ping-url --log-level --log-format --hook-pre-backup --hook-post-backup --backup-timeout --backup-lock --dry-run --backup-checksum --backup-lock-file --verify-after-backup --backup-progress-interval --health-addr --health-max-age --backup-temp-dir --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --db-auth-source)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-uri)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-uri-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-remote)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-schedule)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-mode)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-name-template)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-algo)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --restore-identity-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-extension)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-dbs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-split-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-include-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-exclude-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-parallelism)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-on-start)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dump-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tz)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-files)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-days)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-last)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-hourly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-daily)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-weekly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-monthly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-yearly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-on)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-to)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-from)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-tls)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-ping-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-pre-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-post-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dry-run)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-checksum)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --verify-after-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-progress-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-addr)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-max-age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-temp-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__redis)
            opts="-h --db-uri --db-uri-file --db-host --db-port --db-name --db-user --db-password --db-password-file --rclone-remote --rclone-config --rclone-config-file --rclone-extra-args --backup-schedule --backup-mode --backup-name-template --backup-compress --backup-compress-algo --backup-compress-level --backup-encrypt-recipients --backup-encrypt-recipients-file --restore-identity-file --backup-extension --backup-all-databases --backup-all-dbs --backup-split-databases --backup-include-databases --backup-exclude-databases --backup-parallelism --backup-on-start --dump-extra-args --tz --retention-max-files --retention-max-days --retention-keep-last --retention-keep-hourly --retention-keep-daily --retention-keep-weekly --retention-keep-monthly --retention-keep-yearly --notify-webhook-url --notify-webhook-format --notify-on --notify-email-to --notify-email-from --smtp-host --smtp-port --smtp-user --smtp-password --smtp-password-file --smtp-tls --notify-ping-url --log-level --log-format --hook-pre-backup --hook-post-backup --backup-timeout --backup-lock --dry-run --backup-checksum --backup-lock-file --verify-after-backup --backup-progress-interval --health-addr --health-max-age --backup-temp-dir --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --db-uri)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-uri-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-remote)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-schedule)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-mode)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-name-template)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-algo)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --restore-identity-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-extension)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-dbs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-split-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-include-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-exclude-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-parallelism)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-on-start)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dump-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tz)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-files)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-days)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-last)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-hourly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-daily)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-weekly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-monthly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-yearly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-on)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-to)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-from)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-tls)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-ping-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-pre-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-post-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dry-run)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-checksum)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --verify-after-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-progress-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-addr)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-max-age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-temp-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__restore)
            opts="-h --db-auth-source --backup --restore-backup --database --restore-database --target-db --restore-target-db --drop-existing --restore-drop-existing --force --restore-force --no-verify --restore-no-verify --output --restore-output --db-uri --db-uri-file --db-host --db-port --db-name --db-user --db-password --db-password-file --rclone-remote --rclone-config --rclone-config-file --rclone-extra-args --backup-schedule --backup-mode --backup-name-template --backup-compress --backup-compress-algo --backup-compress-level --backup-encrypt-recipients --backup-encrypt-recipients-file --restore-identity-file --backup-extension --backup-all-databases --backup-all-dbs --backup-split-databases --backup-include-databases --backup-exclude-databases --backup-parallelism --backup-on-start --dump-extra-args --tz --retention-max-files --retention-max-days --retention-keep-last --retention-keep-hourly --retention-keep-daily --retention-keep-weekly --retention-keep-monthly --retention-keep-yearly --notify-webhook-url --notify-webhook-format --notify-on --notify-email-to --notify-email-from --smtp-host --smtp-port --smtp-user --smtp-password --smtp-password-file --smtp-tls --notify-ping-url --log-level --log-format --hook-pre-backup --hook-post-backup --backup-timeout --backup-lock --dry-run --backup-checksum --backup-lock-file --verify-after-backup --backup-progress-interval --health-addr --health-max-age --backup-temp-dir --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --db-auth-source)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --restore-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --restore-database)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --database)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --restore-target-db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --target-db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --restore-drop-existing)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --drop-existing)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --restore-force)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --force)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --restore-no-verify)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --no-verify)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --restore-output)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-uri)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-uri-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-remote)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-schedule)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-mode)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-name-template)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-algo)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --restore-identity-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-extension)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-dbs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-split-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-include-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-exclude-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-parallelism)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-on-start)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dump-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tz)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-files)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-days)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-last)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-hourly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-daily)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-weekly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-monthly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-yearly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-on)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-to)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-from)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-tls)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-ping-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-pre-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-post-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dry-run)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-checksum)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --verify-after-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-progress-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-addr)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-max-age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-temp-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dbstash__subcmd__verify)
            opts="-h --db-auth-source --backup --restore-backup --database --restore-database --db-uri --db-uri-file --db-host --db-port --db-name --db-user --db-password --db-password-file --rclone-remote --rclone-config --rclone-config-file --rclone-extra-args --backup-schedule --backup-mode --backup-name-template --backup-compress --backup-compress-algo --backup-compress-level --backup-encrypt-recipients --backup-encrypt-recipients-file --restore-identity-file --backup-extension --backup-all-databases --backup-all-dbs --backup-split-databases --backup-include-databases --backup-exclude-databases --backup-parallelism --backup-on-start --dump-extra-args --tz --retention-max-files --retention-max-days --retention-keep-last --retention-keep-hourly --retention-keep-daily --retention-keep-weekly --retention-keep-monthly --retention-keep-yearly --notify-webhook-url --notify-webhook-format --notify-on --notify-email-to --notify-email-from --smtp-host --smtp-port --smtp-user --smtp-password --smtp-password-file --smtp-tls --notify-ping-url --log-level --log-format --hook-pre-backup --hook-post-backup --backup-timeout --backup-lock --dry-run --backup-checksum --backup-lock-file --verify-after-backup --backup-progress-interval --health-addr --health-max-age --backup-temp-dir --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --db-auth-source)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --restore-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --restore-database)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --database)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-uri)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-uri-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-remote)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-config-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rclone-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-schedule)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-mode)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-name-template)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-algo)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-compress-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-encrypt-recipients-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --restore-identity-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-extension)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-all-dbs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-split-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-include-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-exclude-databases)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-parallelism)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-on-start)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dump-extra-args)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tz)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-files)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-max-days)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-last)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-hourly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-daily)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-weekly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-monthly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retention-keep-yearly)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-webhook-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-on)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-to)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-email-from)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-host)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-tls)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --notify-ping-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-level)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-format)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-pre-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hook-post-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dry-run)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-checksum)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-lock-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --verify-after-backup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-progress-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-addr)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --health-max-age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backup-temp-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _dbstash -o nosort -o bashdefault -o default dbstash
else
    complete -F _dbstash -o bashdefault -o default dbstash
fi
