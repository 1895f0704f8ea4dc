#!/usr/bin/env bash
# bench/run.sh: the benchmark of issue 12, one command. A benchmark, never a test: it prints
# timings and ratios against the targets and exits 0 whatever they are.
#
#   bench/run.sh                      # 1 GB dump, 5 rounds (about 10 minutes on 2 cores)
#   bench/run.sh --size 300M --rounds 3
#   bench/run.sh --size 1G --out bench/results/my-machine
#
# It starts a throwaway PostgreSQL and an `rclone serve s3` on free 127.0.0.1 ports in a temp
# dir, fills a database whose plain dump is about --size, and one of 1,000 rows, then times,
# interleaved (each round runs every case once, the order rotating from round to round):
#
#   a    pg_dump > /dev/null                               the source limit
#   b    pg_dump | rclone rcat R/bare/x.sql                the bare pipe
#   c    dbstash pg --backup-schedule=once ... R           dbstash once
#   d    pg_dump > f && rclone copyto f R/tmp/x.sql && rm f   the temp-file approach
#
# with R = `:local:DIR` and R = `rclone serve s3`, and for the tiny database b and c. It reports
# medians, the spread (min..max), CPU (user+sys of the whole process tree, the server's
# backend excluded) and the ratios against the issue's targets. Separate, untimed runs of c
# (one per remote) measure, through wrappers put on dbstash's PATH (pg_dump, rclone):
# dbstash's own peak RSS (VmHWM sampled every 20 ms), the local bytes written (per-process
# /proc/PID/io write_bytes of dbstash, the dump tool and each rclone call; see the README),
# and when each rclone call started and how long it took. Then the compression part: command
# line zstd -1/-3/-9 and gzip -6 on the same dump (the rates dbstash's in-process code must
# reach), and dbstash's own BACKUP_COMPRESS_ALGO/LEVEL once its --help lists them.
#
# Options:
#   --size N[M|G]      plain dump size (10^6 / 10^9 bytes; default 1G)
#   --rounds N         timed rounds of the big cases (default 5)
#   --tiny-rounds N    rounds of the tiny cases (default 10)
#   --no-s3            only :local:
#   --no-compress      skip the compression part
#   --no-ignore-checksum  skip the two extra cases per remote that pass rclone --ignore-checksum
#                      (bi: bare pipe, ci: dbstash with --rclone-extra-args=--ignore-checksum)
#   --compress-rounds N  runs per compression case (default 3)
#   --out DIR          keep the report, the raw timings and the wrappers' logs in DIR
#   --dbstash PATH     use this binary instead of `cargo build --release`
#
# Everything listens on 127.0.0.1; the trap stops the servers by PID and removes the temp dir.
set -euo pipefail

SIZE=1G
ROUNDS=5
TINY_ROUNDS=10
WITH_S3=1
WITH_COMPRESS=1
WITH_IC=1
COMPRESS_ROUNDS=3
BENCH_OUT=""
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while (($#)); do
    case $1 in
    --size) SIZE=${2:?--size needs a value}; shift 2 ;;
    --size=*) SIZE=${1#*=}; shift ;;
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    --rounds=*) ROUNDS=${1#*=}; shift ;;
    --tiny-rounds) TINY_ROUNDS=${2:?}; shift 2 ;;
    --tiny-rounds=*) TINY_ROUNDS=${1#*=}; shift ;;
    --compress-rounds) COMPRESS_ROUNDS=${2:?}; shift 2 ;;
    --compress-rounds=*) COMPRESS_ROUNDS=${1#*=}; shift ;;
    --no-s3) WITH_S3=0; shift ;;
    --no-compress) WITH_COMPRESS=0; shift ;;
    --no-ignore-checksum) WITH_IC=0; shift ;;
    --out) BENCH_OUT=${2:?}; shift 2 ;;
    --out=*) BENCH_OUT=${1#*=}; shift ;;
    --dbstash) DBSTASH_BIN=${2:?}; shift 2 ;;
    --dbstash=*) DBSTASH_BIN=${1#*=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ -n $BENCH_OUT && $BENCH_OUT != /* ]] && BENCH_OUT=$PWD/$BENCH_OUT
BENCH_TAG=run
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # log, die, cleanup trap, servers

case $SIZE in
*[gG]) BENCH_MB=$(awk -v s="${SIZE%?}" 'BEGIN {printf "%d", s * 1000}') ;;
*[mM]) BENCH_MB=${SIZE%?} ;;
*) BENCH_MB=$SIZE ;;
esac
require_whole BENCH_MB ROUNDS TINY_ROUNDS COMPRESS_ROUNDS
((BENCH_MB >= 10 && ROUNDS > 0 && TINY_ROUNDS > 0 && COMPRESS_ROUNDS > 0)) ||
    die "--size must be at least 10M, the rounds > 0"
clean_env

# ------------------------------------------------------------------------------ tools
find_pgbin
find_rclone
if ((WITH_S3)) && ! has_serve_s3; then
    log "$RCLONE has no 'serve s3': only :local:"
    WITH_S3=0
fi
[[ -x /usr/bin/time ]] || apt_install_missing time
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (apt-get install -y time)"
build_dbstash

SAMPLER_PID=""
SHM=""
cleanup_extra() {
    [[ -n $SHM && -d $SHM ]] && rm -rf -- "$SHM"
    if [[ -n $SAMPLER_PID ]]; then kill "$SAMPLER_PID" 2>/dev/null; wait "$SAMPLER_PID" 2>/dev/null; fi
    return 0
}

# ------------------------------------------------------------------------------ servers
make_work dbstash-run local s3/bench tmp results lock
# The wrappers' logs (below) live on tmpfs: writes there are not block I/O, so the wrappers'
# own bookkeeping never shows up in the write_bytes they measure.
SHM=$(mktemp -d /dev/shm/dbstash-run.XXXXXX)
start_postgres
if ((WITH_S3)); then start_s3; fi

# ------------------------------------------------------------------------------ data
# Rows of mixed content (numbers, a timestamp, words, hex and base64 digests, repeated
# phrases): the dump compresses like a real one (zstd -3 about 3:1), not 30:1 like a repeated
# string would, so the compression figures mean something. Calibrated: 10,000 rows first,
# their dump size gives the bytes per row.
ROW_SQL="select g, timestamptz '2024-01-01' + g * interval '17 seconds', g * 7919 % 100000,
  (array['new','paid','shipped','returned','cancelled'])[(1 + g % 5)::int], (g * 31 % 1000000) / 100.0,
  md5(g::text) || md5((g + 1)::text) || md5((g * 3)::text) || md5((g * 7)::text) || ' '
    || encode(sha256(g::text::bytea), 'base64') || ' ' || encode(sha256((g * 5)::text::bytea), 'base64'),
  repeat((array['the quick brown fox jumps over the lazy dog. ', 'lorem ipsum dolor sit amet, consectetur adipiscing elit. ',
    'shipping address updated by customer service; ', 'payment captured via card ending in '])[(1 + g % 4)::int] || (g % 9973) || ' ', (1 + g % 9)::int)"
psql_() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }
make_db() { # name rows
    psql_ -d postgres -c "create database $1" >/dev/null
    psql_ -d "$1" >/dev/null <<SQL
create table orders (id bigint, created timestamptz, customer int, status text, amount numeric(12,2), digest text, note text);
insert into orders $ROW_SQL from generate_series(1::bigint, $2) g;
SQL
}
pgdump_cmd() { echo "pg_dump --no-password --format=plain --host=127.0.0.1 --port=$PG_PORT --username=postgres --dbname=$1"; }
make_db bench 10000
CAL=$(eval "$(pgdump_cmd bench)" | wc -c)
ROWS=$(awk -v mb="$BENCH_MB" -v cal="$CAL" 'BEGIN {printf "%d", mb * 1e6 / (cal / 10000)}')
log "filling database bench: $ROWS rows of ~$((CAL / 10000)) bytes (~$BENCH_MB MB of plain dump)"
psql_ -d bench -c "insert into orders $ROW_SQL from generate_series(10001::bigint, $ROWS) g" >/dev/null
psql_ -d bench -c 'vacuum (freeze, analyze) orders' >/dev/null
make_db tiny 1000
PGDUMP=$(pgdump_cmd bench)
PGDUMP_TINY=$(pgdump_cmd tiny)
DUMP_BYTES=$($PGDUMP | wc -c) # also warms the page cache
TINY_BYTES=$($PGDUMP_TINY | wc -c)
log "plain dump: $DUMP_BYTES bytes; tiny: $TINY_BYTES bytes; sync"
sync

# ------------------------------------------------------------------------------ cases
q() { printf '%q' "$1"; }
L=$WORK/local
RC="rclone --config $(q "$CONF")"
DBS_ENV="BACKUP_TEMP_DIR=$(q "$WORK/tmp")"
dbs() { # db remote → the dbstash command line
    echo "$DBS_ENV $(q "$DBSTASH") pg --db-host=127.0.0.1 --db-port=$PG_PORT --db-user=postgres --db-name=$1 --backup-schedule=once --backup-name-template='{db}-{uuid}' --log-level=warn --rclone-config-file=$(q "$CONF") --backup-lock-file=$(q "$WORK/lock/$1.lock") --rclone-remote=$(q "$2")"
}
remote_of() { # L|S sub → remote string
    if [[ $1 == L ]]; then echo ":local:$L/$2"; else echo "bench:bench/$2"; fi
}
declare -A CMD LABEL
CMD[a]="$PGDUMP > /dev/null"
LABEL[a]="pg_dump > /dev/null"
SIDES=(L)
((WITH_S3)) && SIDES+=(S)
for s in "${SIDES[@]}"; do
    name=local
    [[ $s == S ]] && name=s3
    CMD[b$s]="$PGDUMP | $RC rcat $(q "$(remote_of "$s" bare)/x.sql")"
    LABEL[b$s]="bare pipe -> $name"
    CMD[c$s]=$(dbs bench "$(remote_of "$s" dbstash)")
    LABEL[c$s]="dbstash once -> $name"
    CMD[d$s]="$PGDUMP > $(q "$WORK/tmp/f.sql") && $RC copyto $(q "$WORK/tmp/f.sql") $(q "$(remote_of "$s" tmpf)/x.sql") && rm $(q "$WORK/tmp/f.sql")"
    LABEL[d$s]="temp file -> $name"
    CMD[tb$s]="$PGDUMP_TINY | $RC rcat $(q "$(remote_of "$s" tbare)/x.sql")"
    LABEL[tb$s]="tiny: bare pipe -> $name"
    CMD[tc$s]=$(dbs tiny "$(remote_of "$s" tdbstash)")
    LABEL[tc$s]="tiny: dbstash once -> $name"
    # rclone's own end-to-end check (hashing the stream and, on :local:, the written file):
    # what it costs, for the bare pipe and for dbstash (which hashes the stream itself).
    CMD[bi$s]="$PGDUMP | $RC rcat --ignore-checksum $(q "$(remote_of "$s" barei)/x.sql")"
    LABEL[bi$s]="bare pipe --ignore-checksum -> $name"
    CMD[ci$s]="$(dbs bench "$(remote_of "$s" dbstashi)") --rclone-extra-args=--ignore-checksum"
    LABEL[ci$s]="dbstash --ignore-checksum -> $name"
done
BIG=(a)
TINY=()
for s in "${SIDES[@]}"; do
    BIG+=("b$s" "c$s" "d$s")
    ((WITH_IC)) && BIG+=("bi$s" "ci$s")
    TINY+=("tb$s" "tc$s")
done
# Between runs, untimed: drop every uploaded object (under serve s3 only the files, so its
# directory cache never points at a directory that vanished) and flush dirty pages.
CLEAN="rm -rf $(q "$L")/* $(q "$WORK/tmp")/*; find $(q "$WORK/s3/bench") -type f -delete; sync"
SH=(bash --norc --noprofile -o pipefail)

TIMES=$WORK/results/times.txt # "case wall user sys round" per run
ROUND=0
: >"$TIMES"
FAILS=() # "case round" of timed runs that failed: reported, kept out of the medians
run_case() { # case → appends to $TIMES
    local n=$1
    bash -c "$CLEAN"
    if ! /usr/bin/time -f "$n %e %U %S $ROUND" -o "$WORK/time.one" "${SH[@]}" -c "${CMD[$n]}" >/dev/null 2>"$WORK/out.$n"; then
        log "case $n (${LABEL[$n]}) failed in round $ROUND; kept out of the medians (results/fail.$n.$ROUND.txt)"
        cp "$WORK/out.$n" "$WORK/results/fail.$n.$ROUND.txt"
        FAILS+=("$n/$ROUND")
        return 0
    fi
    cat "$WORK/time.one" >>"$TIMES"
}
rotate_run() { # round names... → runs them once each, starting at position round % count
    local r=$1 i k
    shift
    local names=("$@")
    for ((i = 0; i < ${#names[@]}; i++)); do
        k=$(((i + r) % ${#names[@]}))
        run_case "${names[$k]}"
    done
}

# ------------------------------------------------------------------------------ sanity
check_size() { # file expected
    local size
    [[ -f $1 ]] || die "expected object $1 is missing"
    size=$(stat -c %s "$1")
    ((size > $2 - 4096 && size < $2 + 4096)) || die "$1 has $size bytes, the dump has $2"
}
log "sanity: one run of each case"
for n in "${BIG[@]}" "${TINY[@]}"; do
    bash -c "$CLEAN"
    "${SH[@]}" -c "${CMD[$n]}" >/dev/null 2>"$WORK/out.$n" || { cat "$WORK/out.$n" >&2; die "case $n failed"; }
    case $n in
    bL) check_size "$L/bare/x.sql" "$DUMP_BYTES" ;;
    cL) check_size "$(ls "$L"/dbstash/bench-*.sql)" "$DUMP_BYTES" ;;
    dL) check_size "$L/tmpf/x.sql" "$DUMP_BYTES" ;;
    bS) check_size "$WORK/s3/bench/bare/x.sql" "$DUMP_BYTES" ;;
    cS) check_size "$(ls "$WORK"/s3/bench/dbstash/bench-*.sql)" "$DUMP_BYTES" ;;
    dS) check_size "$WORK/s3/bench/tmpf/x.sql" "$DUMP_BYTES" ;;
    tcL) check_size "$(ls "$L"/tdbstash/tiny-*.sql)" "$TINY_BYTES" ;;
    esac
done

# ------------------------------------------------------------------------------ timing
note_busy
LOAD_START=$(loadavg)
T_START=$(date +%s)
for r in $(seq 1 "$ROUNDS"); do
    log "round $r/$ROUNDS: ${BIG[*]}"
    ROUND=$r
    rotate_run "$r" "${BIG[@]}"
    note_busy
done
log "tiny database: $TINY_ROUNDS rounds of ${TINY[*]}"
for r in $(seq 1 "$TINY_ROUNDS"); do ROUND=$r; rotate_run "$r" "${TINY[@]}"; done
note_busy
T_TIMED=$(($(date +%s) - T_START))

# ------------------------------------------------------------------------------ measured runs
# Untimed runs of c with wrappers on dbstash's PATH: pg_dump and rclone run as children of a
# small bash that records, when its child has exited and been reaped, the child's CPU
# (`times`) and write_bytes (the wrapper's /proc/PID/io then includes the reaped child's).
# The same for dbstash as a whole (its tree). dbstash's own = tree - children.
W=$SHM/wrap
mkdir -p "$W"
cat >"$W/wrapper" <<'WRAP'
#!/bin/bash
# WRAP_REAL WRAP_LOG WRAP_NAME: runs WRAP_REAL "$@" as a child, then logs one line:
# name sub start end rc wchar write_bytes cancelled user sys
real=$WRAP_REAL_X
sub=""
skip=0
for a in "$@"; do
    if ((skip)); then skip=0; continue; fi
    case $a in
    --config) skip=1 ;;
    -*) ;;
    *) if [[ -z $sub ]]; then sub=$a; elif [[ $sub == backend ]]; then sub="backend-$a"; break; else break; fi ;;
    esac
done
t0=$EPOCHREALTIME
"$real" "$@"
rc=$?
t1=$EPOCHREALTIME
io=$(</proc/$$/io)
wb=$(awk '$1 == "write_bytes:" {print $2}' <<<"$io")
wc=$(awk '$1 == "wchar:" {print $2}' <<<"$io")
cw=$(awk '$1 == "cancelled_write_bytes:" {print $2}' <<<"$io")
times >"$WRAP_LOG.t.$$"
ct=$(tail -n1 "$WRAP_LOG.t.$$")
rm -f "$WRAP_LOG.t.$$"
printf '%s %s %s %s %s %s %s %s %s\n' "$WRAP_NAME" "${sub:--}" "$t0" "$t1" "$rc" "$wc" "$wb" "$cw" "$ct" >>"$WRAP_LOG"
exit $rc
WRAP
chmod +x "$W/wrapper"
mkdir -p "$W/bin"
for t in pg_dump rclone; do
    real=$(command -v "$t")
    printf '#!/bin/bash\nWRAP_REAL_X=%q WRAP_NAME=%s exec %q "$@"\n' "$real" "$t" "$W/wrapper" >"$W/bin/$t"
    chmod +x "$W/bin/$t"
done
declare -A OWN_USER OWN_RSS TREE_WB OWN_WB DUMP_WB RC_WB RCAT_WB OWN_CPU TREE_CPU
measured() { # case (cL|cS|tcL|tcS) → the arrays above; the wrapper log in results/calls.<case>.txt
    local n=$1 log=$SHM/calls.$1.txt pidf=$SHM/pid.$1 pid="" hwm="" h
    bash -c "$CLEAN"
    : >"$log"
    rm -f "$pidf"
    # The lock file goes to tmpfs here: whatever write_bytes remain are not the lock's.
    WRAP_LOG=$log PATH="$W/bin:$PATH" "${SH[@]}" -c "
        ${CMD[$n]//$WORK\/lock/$SHM} &
        echo \$! > $(q "$pidf")
        wait \$!; rc=\$?
        io=\$(</proc/\$\$/io)
        times > $(q "$log.t"); ct=\$(tail -n1 $(q "$log.t"))
        echo \"dbstash-tree - 0 \$EPOCHREALTIME \$rc \$(awk '\$1 == \"wchar:\" {print \$2}' <<<\"\$io\") \$(awk '\$1 == \"write_bytes:\" {print \$2}' <<<\"\$io\") \$(awk '\$1 == \"cancelled_write_bytes:\" {print \$2}' <<<\"\$io\") \$ct\" >> $(q "$log")
        exit \$rc" >/dev/null 2>"$SHM/out.m$n" &
    local sh=$!
    while kill -0 "$sh" 2>/dev/null; do
        [[ -z $pid && -s $pidf ]] && pid=$(<"$pidf")
        if [[ -n $pid ]]; then
            h=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
            [[ -n $h ]] && hwm=$h
        fi
        sleep 0.02
    done
    wait "$sh" || { cat "$SHM/out.m$n" >&2; die "measured run of $n failed"; }
    cp "$log" "$WORK/results/calls.$n.txt"
    cp "$SHM/out.m$n" "$WORK/results/stderr.$n.txt" # on tmpfs while it ran: not counted as a write
    OWN_RSS[$n]=${hwm:-?}
    # times prints "XmY.YYYs XmY.YYYs": to seconds
    awk -v n="$n" '
        function s(t,  m) { m = t; sub(/m.*/, "", m); sub(/^[0-9]+m/, "", t); sub(/s$/, "", t); return m * 60 + t }
        { cpu = s($9) + s($10) }
        $1 == "dbstash-tree" { tw = $7; tc = cpu; tu = s($9); next }
        { cw += $7; cc += cpu; cu += s($9); if ($1 == "pg_dump") dw += $7; else { rw += $7; if ($2 == "rcat" && !seen) { seen = 1; first = $7 } } }
        END { printf "%s %d %d %d %d %d %.3f %.3f %.3f\n", n, tw, tw - cw, dw, rw, first, tc - cc, tc, tu - cu }' "$log" >"$WORK/m.$n"
    read -r _ "TREE_WB[$n]" "OWN_WB[$n]" "DUMP_WB[$n]" "RC_WB[$n]" "RCAT_WB[$n]" "OWN_CPU[$n]" "TREE_CPU[$n]" "OWN_USER[$n]" <"$WORK/m.$n"
}
log "measured runs (RSS, local writes, rclone calls)"
MEASURED=()
for s in "${SIDES[@]}"; do MEASURED+=("c$s" "tc$s"); done
for n in "${MEASURED[@]}"; do measured "$n"; done

# ------------------------------------------------------------------------------ compression
COMP_ROWS=()
COMP_NOTE=""
DBS_COMP=()
if ((WITH_COMPRESS)); then
    log "compression: command-line reference rates on the dump (one core each)"
    F=$SHM/dump.sql # in memory: the tools' rates, not the disk's
    # The rates are per byte and the rows alike: 300 MB of the dump is enough and saves minutes.
    $PGDUMP | head -c 300000000 >"$F" || true
    COMP_BYTES=$(stat -c %s "$F")
    comp_cli() { # label cmd → "label wall user+sys out-bytes" (median of COMPRESS_ROUNDS)
        local label=$1 cmd=$2 i
        for i in $(seq 1 "$COMPRESS_ROUNDS"); do
            /usr/bin/time -f '%e %U %S' -o "$WORK/ct" bash -c "$cmd < $(q "$F") > $(q "$WORK/tmp/c.out")"
            echo "$(cat "$WORK/ct") $(stat -c %s "$WORK/tmp/c.out")"
        done | sort -g | awk -v l="$label" '{w[NR] = $1; c[NR] = $2 + $3; b = $4} END {m = int((NR + 1) / 2); printf "%s %s %.3f %s\n", l, w[m], c[m], b}'
        rm -f "$WORK/tmp/c.out"
    }
    COMP_ROWS+=("$(comp_cli none cat)")
    for lv in 1 3 9; do COMP_ROWS+=("$(comp_cli "zstd-$lv" "zstd -q -T1 -$lv -c")"); done
    COMP_ROWS+=("$(comp_cli gzip-6 "gzip -6 -c")")
    COMP_ROWS+=("$(comp_cli sha256sum sha256sum)")
    COMP_ROWS+=("$(comp_cli openssl-sha256 'openssl dgst -sha256')")
    rm -f "$F"
    # dbstash's own compression, once it exists (issue 12): BACKUP_COMPRESS_ALGO/LEVEL.

    if "$DBSTASH" pg --help 2>/dev/null | grep -q 'BACKUP_COMPRESS_ALGO'; then
        log "compression: dbstash in-process (BACKUP_COMPRESS_ALGO/LEVEL), $COMPRESS_ROUNDS runs each"
        for combo in none zstd:1 zstd:3 zstd:9 gzip:6; do
            if [[ $combo == none ]]; then env_c="BACKUP_COMPRESS=false"; else env_c="BACKUP_COMPRESS=true BACKUP_COMPRESS_ALGO=${combo%:*} BACKUP_COMPRESS_LEVEL=${combo#*:}"; fi
            CMD[z$combo]="$env_c ${CMD[cL]}"
            LABEL[z$combo]="dbstash $combo -> local"
            for i in $(seq 1 "$COMPRESS_ROUNDS"); do
                run_case "z$combo"
            done
            out=$(find "$L/dbstash" -maxdepth 1 -type f -name 'bench-*' ! -name '*.sha256' | head -n1)
            DBS_COMP+=("$combo $(stat -c %s "$out" 2>/dev/null || echo 0)")
        done
    else
        COMP_NOTE="$("$DBSTASH" --version) has no BACKUP_COMPRESS_ALGO/LEVEL yet (its --help does not list them): in-process rows skipped"
    fi
fi
LOAD_END=$(loadavg)
note_busy

# ------------------------------------------------------------------------------ report
stats() { # case → "median min max" of the wall times; cpu median
    awk -v n="$1" '$1 == n {print $2}' "$TIMES" | sort -g | awk '{v[NR] = $1} END {
        if (NR == 0) { print "nan nan nan"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.3f %.3f %.3f\n", m, v[1], v[NR] }'
}
cpu() { awk -v n="$1" '$1 == n {print $3 + $4}' "$TIMES" | sort -g | awk '{v[NR] = $1} END {
        if (NR == 0) { print "nan"; exit }
        printf "%.2f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A MED MIN MAX CPU
ALL=("${BIG[@]}" "${TINY[@]}")
for row in "${DBS_COMP[@]}"; do ALL+=("z${row%% *}"); done
for n in "${ALL[@]}"; do
    read -r "MED[$n]" "MIN[$n]" "MAX[$n]" < <(stats "$n")
    CPU[$n]=$(cpu "$n")
done
ratio() { awk -v x="$1" -v y="$2" 'BEGIN {printf "%.3f", x / y}'; }
paired() { # x y [diff] → "median [min..max]" of x/y (or x-y) within each round: robust to load
    # that shifts whole rounds, since the two cases ran minutes apart at most
    awk -v x="$1" -v y="$2" -v d="${3:-}" '$1 == x {a[$5] = $2} $1 == y {b[$5] = $2}
        END {for (r in a) if (r in b) print (d ? a[r] - b[r] : a[r] / b[r])}' "$TIMES" | sort -g |
        awk -v d="${3:-}" '{v[NR] = $1} END {if (!NR) {print "nan"; exit}
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            f = d ? "%+.3f [%+.3f..%+.3f]" : "%.3f [%.3f..%.3f]"; printf f, m, v[1], v[NR]}'
}
mbps() { awk -v s="$1" -v b="${2:-$DUMP_BYTES}" 'BEGIN {printf "%.0f", b / 1e6 / s}'; }
mib() { [[ $1 =~ ^[0-9]+$ ]] && awk -v k="$1" 'BEGIN {printf "%.1f MiB", k / 1024}' || echo "?"; }
verdict() { awk -v x="$1" -v op="$2" -v t="$3" 'BEGIN {ok = (op == "<=") ? x <= t + 1e-9 : x >= t - 1e-9; print ok ? "met" : "MISSED"}'; }
GB=$(awk -v b="$DUMP_BYTES" 'BEGIN {printf "%.2f", b / 1e9}')
{
    echo "dbstash benchmark (bench/run.sh): $(date -u +%Y-%m-%dT%H:%M:%SZ), $("$DBSTASH" --version), git $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "machine: $(lscpu | awk -F: '/^Model name/ {gsub(/^ +/, "", $2); print $2; exit}'), $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, kernel $(uname -r)"
    echo "disk: temp dir on $(findmnt -no SOURCE,FSTYPE -T "$WORK" | tr -s ' ' ' ') ($(df -h --output=size "$WORK" | tail -n1 | tr -d ' '), rotational=$(lsblk -dno ROTA "$(findmnt -no SOURCE -T "$WORK")" 2>/dev/null | tr -d ' ' || echo '?'))"
    echo "versions: PostgreSQL $("$PGBIN/postgres" --version | grep -o '[0-9][0-9.]*' | head -n1), rclone $("$RCLONE" version | head -n1 | awk '{print $2}'), zstd $(zstd -V | grep -o 'v[0-9.]*'), gzip $(gzip --version | head -n1 | awk '{print $2}')"
    echo "plain dump: $DUMP_BYTES bytes ($GB GB, $ROWS rows); tiny: $TINY_BYTES bytes (1000 rows)"
    echo "$ROUNDS interleaved rounds (tiny: $TINY_ROUNDS); the timed part took ${T_TIMED}s. Wall: median [min..max] s; cpu: median user+sys s of the process tree (not the server)"
    echo
    printf '%-5s %-38s %8s %17s %6s %6s\n' case what median '[min..max]' 'MB/s' cpu
    for n in "${BIG[@]}" "${TINY[@]}"; do
        mb=""
        [[ $n == t* ]] || mb=$(mbps "${MED[$n]}")
        printf '%-5s %-38s %8s %17s %6s %6s\n' "$n" "${LABEL[$n]}" "${MED[$n]}" "[${MIN[$n]}..${MAX[$n]}]" "$mb" "${CPU[$n]}"
    done
    echo
    echo "targets (issue 12), from the medians (ratio of medians; 'paired' = median [min..max] of the"
    echo "same ratio within each round, where both cases ran at most a few minutes apart):"
    t() { printf '  %-58s %-12s %-14s %s\n' "$1" "$2" "$3" "$4"; }
    t "what" "measured" "target" "verdict"
    for s in "${SIDES[@]}"; do
        nm=local
        [[ $s == S ]] && nm=s3
        d=$(awk -v c="${MED[tc$s]}" -v b="${MED[tb$s]}" 'BEGIN {printf "%+.3f", c - b}')
        t "tiny, $nm: dbstash - bare pipe (s)" "$d" "<= +0.15" "$(verdict "$d" "<=" 0.15)"
        printf '    paired: %s\n' "$(paired "tc$s" "tb$s" diff)"
        if ((BENCH_MB >= 700)); then tgt=1.03; else tgt=1.05; fi
        x=$(ratio "${MED[c$s]}" "${MED[b$s]}")
        t "$GB GB, $nm: dbstash / bare pipe" "$x" "<= $tgt" "$(verdict "$x" "<=" "$tgt")"
        printf '    paired: %s\n' "$(paired "c$s" "b$s")"
        x=$(ratio "${MED[c$s]}" "${MED[d$s]}")
        t "$GB GB, $nm: dbstash / temp-file approach" "$x" "<= 0.6" "$(verdict "$x" "<=" 0.6)"
        printf '    paired: %s\n' "$(paired "c$s" "d$s")"
    done
    for n in "${MEASURED[@]}"; do
        t "peak RSS of dbstash itself ($n)" "$(mib "${OWN_RSS[$n]}")" "<= 15 MiB" "$(verdict "${OWN_RSS[$n]/\?/99999}" "<=" 15360)"
    done
    for n in "${MEASURED[@]}"; do
        t "local bytes written, dbstash + pg_dump ($n)" "$((OWN_WB[$n] + DUMP_WB[$n]))" "0 (lock aside)" "$(verdict "$((OWN_WB[$n] + DUMP_WB[$n]))" "<=" 0)"
    done
    echo
    echo "other ratios:"
    for s in "${SIDES[@]}"; do
        nm=local
        [[ $s == S ]] && nm=s3
        printf '  %-58s %s\n' "$nm: bare pipe / pg_dump alone (b/a)" "$(ratio "${MED[b$s]}" "${MED[a]}")"
        printf '  %-58s %s\n' "$nm: dbstash / pg_dump alone (c/a)" "$(ratio "${MED[c$s]}" "${MED[a]}")"
        printf '  %-58s %s\n' "$nm: dbstash - bare pipe, wall s (c-b)" "$(awk -v c="${MED[c$s]}" -v b="${MED[b$s]}" 'BEGIN {printf "%+.3f", c - b}')"
        printf '  %-58s %s\n' "$nm: dbstash - bare pipe, cpu s" "$(awk -v c="${CPU[c$s]}" -v b="${CPU[b$s]}" 'BEGIN {printf "%+.2f", c - b}')"
        if ((WITH_IC)); then
            printf '  %-58s %s\n' "$nm: --ignore-checksum: dbstash / bare pipe (ci/b)" "$(ratio "${MED[ci$s]}" "${MED[b$s]}") paired $(paired "ci$s" "b$s")"
            printf '  %-58s %s\n' "$nm: --ignore-checksum: both (ci/bi)" "$(ratio "${MED[ci$s]}" "${MED[bi$s]}") paired $(paired "ci$s" "bi$s")"
        fi
        printf '  %-58s %s\n' "$nm: tiny, dbstash - bare pipe, cpu s" "$(awk -v c="${CPU[tc$s]}" -v b="${CPU[tb$s]}" 'BEGIN {printf "%+.2f", c - b}')"
    done
    echo
    echo "measured runs (wrappers on PATH; untimed): bytes written to local storage (/proc/PID/io write_bytes)"
    printf '  %-5s %12s %10s %10s %12s %12s %9s %9s %9s\n' case tree dbstash pg_dump 'rclone(all)' 'rclone rcat' 'own cpu' '(user)' 'tree cpu'
    for n in "${MEASURED[@]}"; do
        printf '  %-5s %12s %10s %10s %12s %12s %9s %9s %9s\n' "$n" "${TREE_WB[$n]}" "${OWN_WB[$n]}" "${DUMP_WB[$n]}" "${RC_WB[$n]}" "${RCAT_WB[$n]}" "${OWN_CPU[$n]}" "${OWN_USER[$n]}" "${TREE_CPU[$n]}"
    done
    echo "  (the lock file was on tmpfs in these runs, so what dbstash writes besides it shows)"
    echo "  (own cpu: dbstash's own user+sys, its children's subtracted; (user): its user part)"
    echo "  (into :local: the rclone rows are the remote's own storage, i.e. the object itself; into serve s3"
    echo "   the server is a separate process and its writes are not counted)"
    echo
    echo "rclone calls of one dbstash run (start offset from the first call, duration; s):"
    for n in "${MEASURED[@]}"; do
        awk -v n="$n" '$1 == "dbstash-tree" {next} !t0 {t0 = $3}
            {line = line sprintf(" %s@%.3f+%.3f", ($1 == "pg_dump") ? "pg_dump" : $2, $3 - t0, $4 - $3); k++}
            END {printf "  %-4s %d processes:%s\n", n, k, line}' "$WORK/results/calls.$n.txt"
    done
    if ((WITH_COMPRESS)); then
        echo
        echo "compression, command line on one core, the dump read from memory (median of $COMPRESS_ROUNDS):"
        echo "(the first $COMP_BYTES bytes of the dump)"
        printf '  %-16s %8s %8s %8s %8s\n' tool wall 'MB/s' cpu ratio
        for row in "${COMP_ROWS[@]}"; do
            read -r l w c b <<<"$row"
            if [[ $l == *sha256* ]]; then rr=-; else rr=$(awk -v d="$COMP_BYTES" -v b="$b" 'BEGIN {printf "%.2f", d / b}'); fi
            printf '  %-16s %8s %8s %8s %8s\n' "$l" "$w" "$(mbps "$w" "$COMP_BYTES")" "$c" "$rr"
        done
        z3=$(printf '%s\n' "${COMP_ROWS[@]}" | awk '$1 == "zstd-3" {print $2}')
        echo "  zstd -3 on one core: $(mbps "$z3" "$COMP_BYTES") MB/s; pg_dump alone (a): $(mbps "${MED[a]}") MB/s -> target (at least the dump's rate) $(verdict "$(mbps "$z3" "$COMP_BYTES")" ">=" "$(mbps "${MED[a]}")") by the command-line tool"
        if [[ -n $COMP_NOTE ]]; then
            echo "  $COMP_NOTE"
        else
            echo "  dbstash in-process, -> :local: (median of $COMPRESS_ROUNDS):"
            for row in "${DBS_COMP[@]}"; do
                read -r combo b <<<"$row"
                printf '    %-8s wall %8s  MB/s %6s  cpu %6s  ratio %s\n' "$combo" "${MED[z$combo]}" "$(mbps "${MED[z$combo]}")" "${CPU[z$combo]}" \
                    "$(awk -v d="$DUMP_BYTES" -v b="$b" 'BEGIN {if (b > 0) printf "%.2f", d / b; else print "?"}')"
            done
        fi
    fi
    echo
    if ((${#FAILS[@]})); then
        echo "FAILED timed runs (case/round), not in the medians: ${FAILS[*]} (their stderr: fail.CASE.ROUND.txt)"
        echo
    fi
    load_report "$LOAD_START" "$LOAD_END" "the machine was shared; the timings include that contention."
} | tee "$WORK/results/summary.txt"
copy_results
