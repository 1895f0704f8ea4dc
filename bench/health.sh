#!/usr/bin/env bash
# bench/health.sh: is the daemon's /healthz still responsive while a large backup streams?
#
# A benchmark, not a test: it prints latencies and says whether the target (p99 below
# BENCH_TARGET_MS, 50 ms) was met, and exits 0 either way unless the setup itself fails.
# It starts a throwaway PostgreSQL (and, unless BENCH_S3=0, an `rclone serve s3`) on free
# loopback ports in a temp dir, fills a table until a plain pg_dump is about BENCH_MB
# megabytes, builds dbstash (release) and runs it in daemon mode with a far-future schedule
# ('0 0 1 1 *'), one scenario after the other:
#
#   idle        BACKUP_ON_START=false: the daemon serves /healthz and nothing else happens
#   dbs-local   BACKUP_ON_START=true, remote :local:DIR: one big backup starts at once
#   bare-local  control: idle daemon, next to it a bare `pg_dump | rclone rcat :local:DIR`
#               (same CPU contention, no copy inside dbstash; BENCH_BARE=0 skips it)
#   dbs-s3      like dbs-local into `rclone serve s3` (BENCH_S3=0 skips both s3 rows)
#   bare-s3     like bare-local into `rclone serve s3`
#
# Two loads hit http://127.0.0.1:PORT/healthz in each scenario, one after the other (the
# backup must last about BENCH_SECS + BENCH_PROBE_SECS + 1 s to cover both: the report says
# which share of each window it covered; ~3000 MB does it on 2 cores):
#
#   wrk      closed loop, BENCH_WRK_THREADS threads x BENCH_WRK_CONN keep-alive connections
#            for BENCH_SECS seconds: as many requests as the box can serve (stress)
#   probe    curl, one new connection per request, about BENCH_PROBE_RATE per second for
#            BENCH_PROBE_SECS seconds: what a Kubernetes/Docker health check sees
#
# Around each load it reads /metrics (dbstash_backup_running), and during it samples pg_dump
# (alive? bytes written?) every 0.1 s and dbstash's CPU time. Afterwards it waits (at most BENCH_FINISH_TIMEOUT s) for the backup to finish,
# reports its duration and size, and stops dbstash with SIGTERM by PID (exit 0 when idle, 1
# when interrupted mid-backup: both are fine here).
#
# Usage: bench/health.sh            (from anywhere; needs root or a user that can run initdb)
# Environment:
#   BENCH_MB=1000            approximate dump size in MB (10^6 bytes)
#   BENCH_SECS=10            wrk duration per scenario (at most 15)
#   BENCH_WRK_THREADS=2      wrk threads
#   BENCH_WRK_CONN=8         wrk connections
#   BENCH_PROBE_SECS=5       probe duration per scenario (at most 15; 0 skips the probe)
#   BENCH_PROBE_RATE=20      probe requests per second (approximate)
#   BENCH_TARGET_MS=50       the p99 target
#   BENCH_S3=1               also run the backup into `rclone serve s3`
#   BENCH_BARE=1             also run the bare-pipeline control scenarios
#   BENCH_FINISH_TIMEOUT=600 seconds to wait for a backup to finish after the loads
#   BENCH_OUT=DIR            keep the summary, wrk outputs and dbstash logs in DIR
#   DBSTASH_BIN=PATH         skip `cargo build --release` and use this binary
#
# Everything runs on 127.0.0.1; the trap stops dbstash, rclone and PostgreSQL by PID and
# removes the temp dir.
set -euo pipefail

BENCH_MB=${BENCH_MB:-1000}
SECS=${BENCH_SECS:-10}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
WRK_CONN=${BENCH_WRK_CONN:-8}
PROBE_SECS=${BENCH_PROBE_SECS:-5}
PROBE_RATE=${BENCH_PROBE_RATE:-20}
TARGET_MS=${BENCH_TARGET_MS:-50}
WITH_S3=${BENCH_S3:-1}
WITH_BARE=${BENCH_BARE:-1}
FINISH_TIMEOUT=${BENCH_FINISH_TIMEOUT:-600}
BENCH_TAG=health
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # log, die, cleanup trap, servers, data

require_whole BENCH_MB SECS WRK_THREADS WRK_CONN PROBE_SECS PROBE_RATE TARGET_MS WITH_S3 WITH_BARE FINISH_TIMEOUT
((BENCH_MB > 0 && WRK_THREADS > 0 && WRK_CONN >= WRK_THREADS && PROBE_RATE > 0 && TARGET_MS > 0)) ||
    die "BENCH_MB, BENCH_WRK_THREADS, BENCH_PROBE_RATE and BENCH_TARGET_MS must be > 0, BENCH_WRK_CONN >= threads"
((SECS >= 1 && SECS <= 15)) || die "BENCH_SECS must be 1..15 (got $SECS)"
((PROBE_SECS <= 15)) || die "BENCH_PROBE_SECS must be 0..15 (got $PROBE_SECS)"
CLEAN_ENV+=('HEALTH_.*')
clean_env

# ------------------------------------------------------------------------------ cleanup
# lib.sh's cleanup runs this first, then stops rclone and PostgreSQL.
SAMPLER_PID=""
BARE_PID=""
DPID="" # the running dbstash
cleanup_extra() {
    if [[ -n $SAMPLER_PID ]]; then
        kill "$SAMPLER_PID" 2>/dev/null
        wait "$SAMPLER_PID" 2>/dev/null
    fi
    if [[ -n $BARE_PID ]]; then
        stop_bare
        wait "$BARE_PID" 2>/dev/null
    fi
    if [[ -n $DPID ]] && kill -0 "$DPID" 2>/dev/null; then
        kill -TERM "$DPID" 2>/dev/null
        for _ in $(seq 1 100); do
            kill -0 "$DPID" 2>/dev/null || break
            sleep 0.1
        done
        # Its pg_dump and rclone die with it (PR_SET_PDEATHSIG).
        kill -KILL "$DPID" 2>/dev/null
        wait "$DPID" 2>/dev/null
    fi
    return 0
}

# ------------------------------------------------------------------------------ tools
find_pgbin
find_rclone
if ((WITH_S3)) && ! has_serve_s3; then
    log "$RCLONE has no 'serve s3': skipping the s3 scenario"
    WITH_S3=0
fi
apt_install_missing wrk || die "apt-get install -y wrk failed"
command -v wrk >/dev/null 2>&1 || die "wrk not found (apt-get install -y wrk)"
command -v curl >/dev/null 2>&1 || die "curl not found (apt-get install -y curl)"
CLK_TCK=$(getconf CLK_TCK)
build_dbstash

# ------------------------------------------------------------------------------ servers
make_work dbstash-health remote s3/bench tmp results
start_postgres
if ((WITH_S3)); then start_s3; fi

# ------------------------------------------------------------------------------ data
fill_table # the same table as stream.sh's
TABLE_BYTES=$(psql_ -d bench -Atc "select pg_total_relation_size('t')")
log "table t: $((TABLE_BYTES / 1000000)) MB on disk; sync (flushing the fill)"
sync

# ------------------------------------------------------------------------------ helpers
HP="" # health port of the running dbstash
url() { printf 'http://127.0.0.1:%s%s' "$HP" "$1"; }

start_daemon() { # name on_start(true|false) remote
    local name=$1 on_start=$2 remote=$3
    free_port HP
    env LOG_LEVEL=info \
        DB_HOST=127.0.0.1 DB_PORT="$PG_PORT" DB_USER=postgres DB_NAME=bench \
        RCLONE_REMOTE="$remote" RCLONE_CONFIG_FILE="$CONF" \
        BACKUP_SCHEDULE='0 0 1 1 *' BACKUP_ON_START="$on_start" \
        BACKUP_NAME_TEMPLATE='{db}-{uuid}' BACKUP_TEMP_DIR="$WORK/tmp" \
        HEALTH_ADDR="127.0.0.1:$HP" \
        "$DBSTASH" pg >"$WORK/results/dbstash.$name.log" 2>&1 &
    DPID=$!
    local code=""
    for _ in $(seq 1 300); do
        kill -0 "$DPID" 2>/dev/null ||
            { cat "$WORK/results/dbstash.$name.log" >&2; die "dbstash ($name) exited at start"; }
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$(url /healthz)" || true)
        [[ $code == 200 || $code == 503 ]] && break
        sleep 0.1
    done
    [[ $code == 200 || $code == 503 ]] || die "dbstash ($name): no /healthz answer on 127.0.0.1:$HP after 30 s"
    log "dbstash ($name) pid $DPID, health on 127.0.0.1:$HP (/healthz: $code)"
}

stop_daemon() { # → STOP_RC: dbstash's exit code (runs in this shell: it must `wait`)
    STOP_RC=0
    kill -TERM "$DPID" 2>/dev/null || true
    for _ in $(seq 1 300); do
        kill -0 "$DPID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$DPID" 2>/dev/null; then
        log "dbstash $DPID still running 30 s after SIGTERM: SIGKILL"
        kill -KILL "$DPID" 2>/dev/null || true
    fi
    wait "$DPID" 2>/dev/null || STOP_RC=$?
    DPID=""
}

metric() { # name → value of that dbstash metric (first line), or "?"
    local v
    v=$(curl -s --max-time 5 "$(url /metrics)" | awk -v n="$1" 'index($0, n "{") == 1 {print $2; exit}' || true)
    echo "${v:-?}"
}

dump_pid() { pgrep -P "$DPID" -x pg_dump 2>/dev/null | head -n1 || true; }
cpu_ticks() { # utime + stime of a process, in clock ticks
    awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat" 2>/dev/null || true
}
# Every 0.1 s, until killed: "<epoch seconds> <bytes pg_dump has written, or - once it is gone>".
# Bash builtins only (besides sleep), so it costs next to nothing.
sampler() {
    local pid=$1 key val _
    while :; do
        val=-
        if [[ -r /proc/$pid/io ]]; then
            while read -r key val _; do
                [[ $key == wchar: ]] && break
                val=-
            done <"/proc/$pid/io" 2>/dev/null || val=-
        fi
        echo "$EPOCHREALTIME ${val:--}"
        sleep 0.1
    done
}
SAMPLER_PID=""
cat >"$WORK/report.lua" <<'LUA'
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("WRKSTATS %d %.3f %d %d %d %d %d %d %d\n",
        summary.requests, summary.duration / 1e6,
        latency:percentile(50), latency:percentile(90), latency:percentile(99),
        latency:percentile(99.9), latency.max,
        e.connect + e.read + e.write + e.timeout, e.status))
end
LUA

# One line per measurement in $ROWS_FILE:
#   scenario tool requests req/s p50 p90 p99 p99.9 max errors running(before/after) streamed% dumpMB/s cpu%
ROWS_FILE=$WORK/results/rows.txt
: >"$ROWS_FILE"
us2ms() { awk -v u="$1" 'BEGIN {printf "%.2f", u / 1000}'; }

run_wrk() { # scenario → appends a row (running/dump columns filled in by the caller via globals)
    local sc=$1 out=$WORK/results/wrk.$1.txt line
    wrk -t"$WRK_THREADS" -c"$WRK_CONN" -d"${SECS}s" --timeout 5s --latency -s "$WORK/report.lua" \
        "$(url /healthz)" >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed ($sc)"; }
    line=$(grep '^WRKSTATS ' "$out") || { cat "$out" >&2; die "wrk printed no summary ($sc)"; }
    # shellcheck disable=SC2086
    set -- $line
    WRK_ROW="$2 $(awk -v n="$2" -v s="$3" 'BEGIN {printf "%.0f", n / s}') $(us2ms "$4") $(us2ms "$5") $(us2ms "$6") $(us2ms "$7") $(us2ms "$8") $(($9 + ${10}))"
}

run_probe() { # scenario → PROBE_ROW
    local sc=$1 out=$WORK/results/probe.$1.txt end interval
    : >"$out"
    interval=$(awk -v r="$PROBE_RATE" 'BEGIN {printf "%.4f", 1 / r}')
    end=$(($(date +%s%N) + PROBE_SECS * 1000000000))
    local t0 t1
    t0=$(date +%s%N)
    while (($(date +%s%N) < end)); do
        curl -s -o /dev/null --max-time 5 -w '%{http_code} %{time_total}\n' "$(url /healthz)" >>"$out" || true # a failure still prints "000 <time>"
        sleep "$interval"
    done
    t1=$(date +%s%N)
    local secs
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print (b - a) / 1e9}')
    # Sorted by time: the k-th of n is the percentile (nearest rank).
    PROBE_ROW=$(sort -k2,2g "$out" | awk -v secs="$secs" '
        { n++; t[n] = $2 * 1000; if ($1 != 200 && $1 != 503) err++ }
        END {
            if (n == 0) { print "0 0 - - - - - 0"; exit }
            split("50 90 99 99.9", q, " ")
            line = sprintf("%d %.0f", n, n / secs)
            for (i = 1; i <= 4; i++) {
                k = int(n * q[i] / 100 + 0.999999); if (k < 1) k = 1; if (k > n) k = n
                line = line sprintf(" %.2f", t[k])
            }
            printf "%s %.2f %d\n", line, t[n], err + 0
        }')
}

add_row() { # scenario tool stats running streamed% dumpMBs cpu
    printf '%s %s %s %s %s %s %s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" >>"$ROWS_FILE"
}

# One load (wrk or probe) during a backup, bracketed by /metrics reads and watched by the
# sampler: how much of the window the dump was still streaming, and at what rate.
measure() { # scenario tool pg_dump-pid → appends a row
    local sc=$1 tool=$2 pd=$3 samples=$WORK/results/samples.$1.$2.txt r0 r1 c0 c1 t0 t1 stats
    r0=$(metric dbstash_backup_running)
    c0=$(cpu_ticks "$DPID")
    : >"$samples"
    if [[ -n $pd ]]; then
        sampler "$pd" >"$samples" &
        SAMPLER_PID=$!
    fi
    t0=$EPOCHREALTIME
    if [[ $tool == wrk ]]; then
        run_wrk "$sc"
        stats=$WRK_ROW
    else
        run_probe "$sc"
        stats=$PROBE_ROW
    fi
    t1=$EPOCHREALTIME
    if [[ -n $SAMPLER_PID ]]; then
        kill "$SAMPLER_PID" 2>/dev/null || true
        wait "$SAMPLER_PID" 2>/dev/null || true
        SAMPLER_PID=""
    fi
    c1=$(cpu_ticks "$DPID")
    r1=$(metric dbstash_backup_running)
    # streamed%: share of the samples with pg_dump alive; MB/s over the samples where it was.
    local cov mbs cpu
    read -r cov mbs < <(awk '
        { n++ } $2 != "-" { a++; if (!f) { f = 1; t0 = $1; w0 = $2 } t1 = $1; w1 = $2 }
        END {
            if (n == 0) { print "- -"; exit }
            printf "%.0f %s\n", 100 * a / n, (t1 > t0) ? sprintf("%.0f", (w1 - w0) / 1e6 / (t1 - t0)) : "-"
        }' "$samples")
    cpu=-
    [[ -n $c0 && -n $c1 ]] &&
        cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$CLK_TCK" -v s="$(awk -v x="$t0" -v y="$t1" 'BEGIN {print y - x}')" \
            'BEGIN {printf "%.0f", (b - a) / hz / s * 100}')
    add_row "$sc" "$tool" "$stats" "$r0/$r1" "$cov" "$mbs" "$cpu"
}

BACKUP_NOTES=()
LOAD_START=$(loadavg)
note_busy

# ------------------------------------------------------------------------------ idle baseline
log "scenario idle: daemon without a backup"
start_daemon idle false ":local:$WORK/remote"
measure idle wrk ""
if ((PROBE_SECS > 0)); then measure idle probe ""; fi
stop_daemon
log "dbstash (idle) stopped by SIGTERM: exit $STOP_RC"
BACKUP_NOTES+=("idle: SIGTERM while idle, exit $STOP_RC")

# ------------------------------------------------------------------------------ during a backup
wait_dump() { # parent pid, log → DUMP_PID: the pg_dump child once it exists (streaming has begun)
    DUMP_PID=""
    for _ in $(seq 1 600); do
        DUMP_PID=$(pgrep -P "$1" -x pg_dump 2>/dev/null | head -n1 || true)
        [[ -n $DUMP_PID ]] && break
        kill -0 "$1" 2>/dev/null || { cat "$2" >&2; die "$1 exited before its pg_dump started"; }
        sleep 0.05
    done
    [[ -n $DUMP_PID ]] || die "no pg_dump child of $1 after 30 s"
    sleep 0.5 # past pg_dump's catalog queries: data is flowing
}

# Control: the bare `pg_dump | rclone rcat` pipeline (a separate process tree) streaming to the
# same remote next to an idle dbstash. Same CPU contention, but no in-process copy: if the
# latencies match the dbstash rows, the copy inside dbstash is not what slows /healthz.
bare() { # scenario remote object-dir
    local sc=$1 remote=$2 objdir=$3 rc=0
    log "scenario $sc: idle daemon next to a bare pg_dump | rclone rcat into $remote"
    start_daemon "$sc" false "$remote"
    bash -o pipefail -c 'exec 2>"$1"; pg_dump --no-password --format=plain --host=127.0.0.1 --port="$2" \
        --username=postgres --dbname=bench | rclone --config "$3" rcat "$4"' bare \
        "$WORK/results/bare.$sc.log" "$PG_PORT" "$CONF" "$remote/bare.sql" &
    BARE_PID=$!
    wait_dump "$BARE_PID" "$WORK/results/bare.$sc.log"
    measure "$sc" wrk "$DUMP_PID"
    if ((PROBE_SECS > 0)); then measure "$sc" probe "$DUMP_PID"; fi
    local waited=0
    while kill -0 "$BARE_PID" 2>/dev/null && ((waited < FINISH_TIMEOUT * 10)); do
        sleep 0.1
        waited=$((waited + 1))
    done
    stop_bare
    wait "$BARE_PID" 2>/dev/null || rc=$?
    BARE_PID=""
    stop_daemon
    BACKUP_NOTES+=("$sc: bare pipeline exit $rc; idle dbstash SIGTERM: exit $STOP_RC")
    find "$objdir" -type f -delete 2>/dev/null || true
}
stop_bare() { # the pipeline's children (pg_dump, rclone) by PID, if still there
    local p
    [[ -n $BARE_PID ]] || return 0
    for p in $(pgrep -P "$BARE_PID" 2>/dev/null || true); do
        kill "$p" 2>/dev/null || true
    done
}

loaded() { # scenario remote object-dir
    local sc=$1 remote=$2 objdir=$3 pd=""
    log "scenario $sc: daemon with one backup of ~$BENCH_MB MB into $remote"
    start_daemon "$sc" true "$remote"
    wait_dump "$DPID" "$WORK/results/dbstash.$sc.log"
    pd=$DUMP_PID
    measure "$sc" wrk "$pd"
    if ((PROBE_SECS > 0)); then measure "$sc" probe "$pd"; fi

    # Let the backup finish (bounded): did it succeed under load, and how long did it take?
    local waited=0 running
    while running=$(metric dbstash_backup_running) && [[ $running == 1 ]] && ((waited < FINISH_TIMEOUT * 10)); do
        sleep 0.1
        waited=$((waited + 1))
    done
    local ok dur size obj note
    ok=$(curl -s --max-time 5 "$(url /metrics)" | awk '/^dbstash_backups_total\{/ && /result="success"/ {print $2; exit}' || true)
    dur=$(metric dbstash_last_duration_seconds)
    size=$(metric dbstash_last_size_bytes)
    if [[ $running == 1 ]]; then
        note="$sc: backup still running after ${FINISH_TIMEOUT}s more: interrupted"
    elif [[ $ok == 1 ]]; then
        note="$sc: backup succeeded: $(awk -v b="$size" 'BEGIN {printf "%.0f", b / 1e6}') MB in $(awk -v d="$dur" 'BEGIN {printf "%.1f", d}') s ($(awk -v b="$size" -v d="$dur" 'BEGIN {printf "%.0f", b / 1e6 / d}') MB/s overall)"
        obj=$(find "$objdir" -name 'bench-*.sql' -type f 2>/dev/null | head -n1)
        [[ -n $obj ]] && note+=", object $(stat -c %s "$obj") bytes"
    else
        note="$sc: backup FAILED (see the log): $(curl -s --max-time 5 "$(url /healthz)" || true)"
    fi
    stop_daemon
    note+="; SIGTERM: exit $STOP_RC"
    log "$note"
    BACKUP_NOTES+=("$note")
    find "$objdir" -type f -delete 2>/dev/null || true # free the disk for the next scenario
}

loaded dbs-local ":local:$WORK/remote" "$WORK/remote"
if ((WITH_BARE)); then bare bare-local ":local:$WORK/remote" "$WORK/remote"; fi
if ((WITH_S3)); then
    loaded dbs-s3 "bench:bench/health" "$WORK/s3/bench"
    if ((WITH_BARE)); then bare bare-s3 "bench:bench/health" "$WORK/s3/bench"; fi
fi

LOAD_END=$(loadavg)
note_busy

# ------------------------------------------------------------------------------ report
{
    echo
    echo "dbstash health-endpoint benchmark: $(report_stamp)"
    echo "table of ~$BENCH_MB MB of plain dump; wrk $(wrk --version 2>&1 | head -n1 | awk '{print $2}') -t$WRK_THREADS -c$WRK_CONN -d${SECS}s (keep-alive, closed loop);"
    echo "probe: curl, new connection per request, ~$PROBE_RATE/s for ${PROBE_SECS}s. Latencies in ms."
    echo
    fmt='%-10s %-5s %8s %7s %7s %7s %7s %7s %8s %6s %7s %9s %8s %5s\n'
    # shellcheck disable=SC2059
    printf "$fmt" scen tool requests 'req/s' p50 p90 p99 p99.9 max errors running streamed% 'dumpMB/s' 'cpu%'
    while read -r sc tool n rps p50 p90 p99 p999 max err running cov mbs cpu; do
        # shellcheck disable=SC2059
        printf "$fmt" "$sc" "$tool" "$n" "$rps" "$p50" "$p90" "$p99" "$p999" "$max" "$err" "$running" "$cov" "$mbs" "$cpu"
    done <"$ROWS_FILE"
    echo
    echo "running: /metrics dbstash_backup_running just before/after the load. streamed%: share of"
    echo "the load window (sampled every 0.1 s) in which pg_dump was still streaming; dumpMB/s: its"
    echo "output rate then; cpu%: dbstash's CPU over the window (100 = one core). errors: socket"
    echo "errors, timeouts (5 s) and answers other than 200/503."
    echo
    for n in "${BACKUP_NOTES[@]}"; do echo "$n"; done
    echo
    short=0
    while read -r sc tool n rps p50 p90 p99 p999 max err running cov mbs cpu; do
        [[ $sc == dbs-* ]] || continue
        verdict="met"
        awk -v p="$p99" -v t="$TARGET_MS" 'BEGIN {exit !(p + 0 < t)}' || verdict="NOT met"
        if [[ $cov != 100 ]]; then
            verdict+=" (the backup streamed during only $cov% of the window)"
            short=1
        fi
        [[ $err == 0 ]] || verdict+=" ($err errors)"
        printf 'target p99 < %s ms while a backup streams, %s/%s: %s (p99 %s ms)\n' "$TARGET_MS" "$sc" "$tool" "$verdict" "$p99"
    done <"$ROWS_FILE"
    if ((short)); then
        echo "The backup ended before a load window did: raise BENCH_MB (the loads need about"
        echo "$((SECS + PROBE_SECS + 2)) s of streaming per scenario) or lower BENCH_SECS/BENCH_PROBE_SECS."
    fi
    load_report "$LOAD_START" "$LOAD_END" "the latencies include that CPU contention."
} | tee "$WORK/results/summary.txt"
copy_results
