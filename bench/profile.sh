#!/usr/bin/env bash
# shellcheck disable=SC2016 # the single-quoted `bash -c` scripts get their values as arguments
# bench/profile.sh: where dbstash's time goes (issue 12). A benchmark, never a test.
#
#   bench/profile.sh                  # about 5 minutes on 2 cores
#   bench/profile.sh --size 300M --runs 5 --out /tmp/prof
#
# Without a database (the dump is a file in memory, replayed by a fake `pg_dump` on PATH, so the
# source costs nothing and dbstash's own share stands out), it measures:
#
#   1. one rclone control call as a fresh process (what dbstash does today, 8 per backup) vs
#      the same operation answered by a long-lived `rclone rcd` on a unix socket (curl's
#      time_total, i.e. without curl's own start): list, stat, features (fsinfo), move, small
#      upload; for :local: and `rclone serve s3`, plus rcd's start-up time
#   2. `lsjson` and `backend features` one after the other vs concurrently
#   3. SHA-256 of the dump: the sha2 crate (dbstash's version, bench/sha256-rate), sha256sum,
#      openssl
#   4. the copy loop: dbstash (fake dump -> :local: on tmpfs, fed in big pieces by cat and in
#      8 KiB pieces by dd, like pg_dump) vs `cat FILE | rclone rcat` (with and without rclone's
#      own --ignore-checksum) and one extra `cat` hop; dbstash's own CPU (bench/ownstat.py:
#      /proc/PID/stat of the exited, not yet reaped process) and peak RSS; its main thread's
#      kernel/user split (perf record); dbstash with TOKIO_WORKER_THREADS=1 (scheduling on 2
#      cores); one pipe-to-pipe copy stage as read+write, tee+read and splice (bench/pipecopy)
#
#   5. with --rss-size N[M|G]: dbstash's peak RSS for a stream of that size (zeros; -> :local:
#      on the disk; e.g. 5G, the issue's RSS target)
#
# Options: --size N[M|G] (default 1G), --runs N (default 7), --rss-size N[M|G] (default: skip),
#          --out DIR, --dbstash PATH
set -euo pipefail
SIZE=1G
RUNS=7
RSS_MB=0
BENCH_OUT=""
while (($#)); do
    case $1 in
    --size) SIZE=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --rss-size) RSS_MB=$(awk -v s="$2" 'BEGIN {n = s + 0; if (s ~ /[gG]$/) n *= 1000; printf "%d", n}'); shift 2 ;;
    --out) BENCH_OUT=$2; shift 2 ;;
    --dbstash) DBSTASH_BIN=$2; shift 2 ;;
    -h | --help) sed -n '3,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
done
[[ -n $BENCH_OUT && $BENCH_OUT != /* ]] && BENCH_OUT=$PWD/$BENCH_OUT
BENCH_TAG=profile
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
case $SIZE in
*[gG]) MB=$(awk -v s="${SIZE%?}" 'BEGIN {printf "%d", s * 1000}') ;;
*[mM]) MB=${SIZE%?} ;;
*) MB=$SIZE ;;
esac
require_whole MB RUNS
clean_env

find_pgbin
find_rclone
command -v perf >/dev/null || apt_install_missing linux-perf || true
command -v curl >/dev/null || die "curl is missing"
build_dbstash

RCD_PID=""
SHM=""
cleanup_extra() {
    if [[ -n $RCD_PID ]]; then kill "$RCD_PID" 2>/dev/null; wait "$RCD_PID" 2>/dev/null; fi
    [[ -n $SHM && -d $SHM ]] && rm -rf -- "$SHM"
    return 0
}
make_work dbstash-profile s3/bench results
start_s3
SHM=$(mktemp -d /dev/shm/dbstash-profile.XXXXXX)
R="$WORK/results"
RC=(rclone --config "$CONF")

median() { sort -g | awk '{v[NR] = $1} END {if (!NR) {print "nan"; exit} printf "%.4f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
spread() { sort -g | awk '{v[NR] = $1} END {if (!NR) {print "-"; exit} printf "%.3f..%.3f\n", v[1], v[NR]}'; }
wall() { # command... → seconds (stdout/stderr of the command discarded)
    local t0=$EPOCHREALTIME
    "$@" >/dev/null 2>&1 || true
    awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.4f\n", b - a}'
}
OUT=$R/summary.txt
: >"$OUT"
say() { echo "$*" | tee -a "$OUT"; }

# ------------------------------------------------------------------------------ 1. control calls
say "dbstash profile (bench/profile.sh): $(report_stamp); rclone $("$RCLONE" version | head -n1 | awk '{print $2}'); load $(loadavg)"
say ""
say "1. one control call: fresh rclone process vs rclone rcd on a unix socket (median of $RUNS, s)"
SOCK=$SHM/rcd.sock
t0=$EPOCHREALTIME
rclone --config "$CONF" rcd --rc-addr "unix://$SOCK" --rc-no-auth >"$WORK/rcd.log" 2>&1 &
RCD_PID=$!
until curl -s --unix-socket "$SOCK" -X POST http://rcd/rc/noop -o /dev/null 2>/dev/null; do
    kill -0 "$RCD_PID" 2>/dev/null || { cat "$WORK/rcd.log" >&2; die "rclone rcd exited"; }
    sleep 0.005
done
RCD_START=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.3f", b - a}')
rc_call() { # method json → curl's time_total (the request alone, connection included)
    curl -s --unix-socket "$SOCK" -o "$WORK/rc.out" -w '%{time_total}\n' -H 'Content-Type: application/json' \
        -X POST "http://rcd/$1" -d "$2"
}
rc_upload() { # fs dir name file → time_total
    curl -s --unix-socket "$SOCK" -o "$WORK/rc.out" -w '%{time_total}\n' \
        -X POST "http://rcd/operations/uploadfile?fs=$(printf %s "$1" | jq -sRr @uri)&remote=$(printf %s "$2" | jq -sRr @uri)" -F "file0=@$4;filename=$3"
}
command -v jq >/dev/null || apt_install_missing jq || true
command -v jq >/dev/null || die "jq is missing (apt-get install -y jq)"
printf 'a  %s  b0000000000000000000000000000000000000000000000000000000000000000\n' x >"$SHM/claim"
say "   rclone rcd start (spawn -> first answer): ${RCD_START}s"
printf '   %-8s %-10s %9s %9s %9s   %s\n' remote call process rcd 'rcd 1st' 'process spread' | tee -a "$OUT"
for side in local s3; do
    if [[ $side == local ]]; then
        FS=":local:$SHM/remote"
        mkdir -p "$SHM/remote/d"
        DIRP=$SHM/remote/d
    else
        FS="bench:bench"
        mkdir -p "$WORK/s3/bench/d"
        DIRP=$WORK/s3/bench/d
    fi
    for i in 1 2 3 4 5; do head -c 1000 /dev/urandom >"$DIRP/obj$i.sql"; done
    declare -A P=() Q=() Q1=()
    for call in version lsjson stat features rcat moveto; do
        : >"$WORK/p.$call"
        : >"$WORK/q.$call"
        for i in $(seq 1 "$RUNS"); do
            case $call in
            version) wall "${RC[@]}" version >>"$WORK/p.$call"
                rc_call rc/noop '{}' >>"$WORK/q.$call" ;;
            lsjson) wall "${RC[@]}" lsjson --files-only --no-mimetype --use-server-modtime -- "$FS/d" >>"$WORK/p.$call"
                rc_call operations/list "{\"fs\":\"$FS\",\"remote\":\"d\",\"opt\":{\"filesOnly\":true,\"noMimeType\":true,\"noModTime\":false}}" >>"$WORK/q.$call" ;;
            stat) wall "${RC[@]}" lsjson --files-only --no-mimetype --use-server-modtime -- "$FS/d/obj1.sql" >>"$WORK/p.$call"
                rc_call operations/stat "{\"fs\":\"$FS\",\"remote\":\"d/obj1.sql\",\"opt\":{\"noMimeType\":true}}" >>"$WORK/q.$call" ;;
            features) wall "${RC[@]}" backend features -- "$FS" >>"$WORK/p.$call"
                rc_call operations/fsinfo "{\"fs\":\"$FS\"}" >>"$WORK/q.$call" ;;
            rcat) t0=$EPOCHREALTIME
                "${RC[@]}" rcat -- "$FS/d/claim.$i" <"$SHM/claim" >/dev/null 2>&1 || true
                awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.4f\n", b - a}' >>"$WORK/p.$call"
                rc_upload "$FS" d "claimq.$i" "$SHM/claim" >>"$WORK/q.$call" ;;
            moveto) wall "${RC[@]}" moveto -- "$FS/d/claim.$i" "$FS/d/claim.$i.sha256" >>"$WORK/p.$call"
                rc_call operations/movefile "{\"srcFs\":\"$FS\",\"srcRemote\":\"d/claimq.$i\",\"dstFs\":\"$FS\",\"dstRemote\":\"d/claimq.$i.sha256\"}" >>"$WORK/q.$call" ;;
            esac
        done
        P[$call]=$(median <"$WORK/p.$call")
        Q[$call]=$(tail -n +2 "$WORK/q.$call" | median)
        Q1[$call]=$(head -n1 "$WORK/q.$call")
        printf '   %-8s %-10s %9s %9s %9s   %s\n' "$side" "$call" "${P[$call]}" "${Q[$call]}" "${Q1[$call]}" "$(spread <"$WORK/p.$call")" | tee -a "$OUT"
    done
    grep -q '"error"' "$WORK/rc.out" && say "   (last rcd answer was an error: $(head -c 300 "$WORK/rc.out"))"
    # dbstash's 8 control calls: lsjson, features, lsjson (stat), rcat (claim), lsjson, moveto x2, lsjson
    say "   $side: dbstash's 8 control calls as processes ~ $(awk -v l="${P[lsjson]}" -v s="${P[stat]}" -v f="${P[features]}" -v r="${P[rcat]}" -v m="${P[moveto]}" 'BEGIN {printf "%.3f", 3 * l + s + f + r + 2 * m}')s, through rcd ~ $(awk -v l="${Q[lsjson]}" -v s="${Q[stat]}" -v f="${Q[features]}" -v r="${Q[rcat]}" -v m="${Q[moveto]}" 'BEGIN {printf "%.3f", 3 * l + s + f + r + 2 * m}')s"
done
kill "$RCD_PID" 2>/dev/null; wait "$RCD_PID" 2>/dev/null || true; RCD_PID=""

# ------------------------------------------------------------------------------ 2. concurrency
say ""
say "2. lsjson then backend features, one after the other vs concurrently (median of $RUNS, s)"
for side in local s3; do
    if [[ $side == local ]]; then FS=":local:$SHM/remote"; else FS="bench:bench"; fi
    : >"$WORK/seq"; : >"$WORK/par"
    for i in $(seq 1 "$RUNS"); do
        wall bash -c '"$@" lsjson --files-only -- "$0/d" >/dev/null; "$@" backend features -- "$0" >/dev/null' "$FS" "${RC[@]}" >>"$WORK/seq"
        wall bash -c '"$@" lsjson --files-only -- "$0/d" >/dev/null & "$@" backend features -- "$0" >/dev/null; wait' "$FS" "${RC[@]}" >>"$WORK/par"
    done
    say "   $side: sequential $(median <"$WORK/seq") [$(spread <"$WORK/seq")], concurrent $(median <"$WORK/par") [$(spread <"$WORK/par")]"
done

# ------------------------------------------------------------------------------ the dump file
F=$SHM/dump.sql
log "writing a ${MB} MB dump-like file to tmpfs"
# The same mixed rows as run.sh's database would dump, produced without a server: a
# repeated 64 MB block of varied text is enough for hashing and copying (their cost does
# not depend on the content).
awk 'BEGIN {srand(1); for (g = 1; g <= 140000; g++) printf "%d\t2024-01-01 %02d:%02d:%02d+00\t%d\tpaid\t%.2f\t%08x%08x%08x%08x\tlorem ipsum dolor sit amet %d\n", g, g % 24, g % 60, g % 60, g * 7919 % 100000, g * 31 % 1000000 / 100, rand() * 4e9, rand() * 4e9, rand() * 4e9, rand() * 4e9, g % 9973}' >"$SHM/block"
: >"$F"
while (($(stat -c %s "$F") < MB * 1000000)); do cat "$SHM/block" >>"$F"; done
truncate -s $((MB * 1000000)) "$F"
BYTES=$(stat -c %s "$F")
mbps() { awk -v s="$1" -v b="$BYTES" 'BEGIN {printf "%.0f", b / 1e6 / s}'; }

# ------------------------------------------------------------------------------ 3. hashing
say ""
say "3. SHA-256 of $BYTES bytes in memory (median of 3; MB/s on one core)"
SHA_BIN=""
if (cd "$ROOT" && cargo build --release --offline --quiet --manifest-path bench/sha256-rate/Cargo.toml --target-dir "$WORK/sha-target") >"$WORK/sha-build.log" 2>&1; then
    SHA_BIN=$WORK/sha-target/release/sha256-rate
else
    say "   (bench/sha256-rate did not build offline: $(tail -n1 "$WORK/sha-build.log"))"
fi
for tool in sha2 sha256sum openssl; do
    : >"$WORK/h"
    for i in 1 2 3; do
        case $tool in
        sha2) [[ -n $SHA_BIN ]] || continue; "$SHA_BIN" "$F" | awk '{print $3}' >>"$WORK/h" ;;
        sha256sum) wall sha256sum "$F" >>"$WORK/h" ;;
        openssl) wall openssl dgst -sha256 "$F" >>"$WORK/h" ;;
        esac
    done
    [[ -s $WORK/h ]] || continue
    m=$(median <"$WORK/h")
    say "   $(printf '%-10s %7ss %6s MB/s' "$tool" "$m" "$(mbps "$m")")$([[ $tool == sha2 ]] && echo '  (hashing time only, 128 KiB updates)')"
done

# ------------------------------------------------------------------------------ 4. copy loop
say ""
say "4. the copy loop: the file replayed by a fake pg_dump -> :local: on tmpfs (median of $RUNS)"
mkdir -p "$SHM/fake" "$SHM/fake8k"
printf '#!/bin/sh\nexec cat %q\n' "$F" >"$SHM/fake/pg_dump"
# pg_dump itself writes in pieces of a few KiB: dd bs=8k imitates that (more, smaller reads)
printf '#!/bin/sh\nexec dd if=%q bs=8k status=none\n' "$F" >"$SHM/fake8k/pg_dump"
chmod +x "$SHM/fake/pg_dump" "$SHM/fake8k/pg_dump"
DBS=("$DBSTASH" pg --db-host=127.0.0.1 --db-port=1 --db-user=x --db-name=bench --backup-schedule=once
    "--backup-name-template={db}-{uuid}" --log-level=warn --rclone-config-file="$CONF" --backup-lock-file="$SHM/lock")
DST=$SHM/remote/copy
clean_dst() { rm -rf "$DST"; mkdir -p "$DST"; }
OWNSTAT=$ROOT/bench/ownstat.py
for v in bare bareic hop dbs dbs8k dbs1; do : >"$WORK/c.$v"; : >"$WORK/o.$v"; done
own() { # variant PATH-prefix env... → wall in c.variant, "user sys hwm" in o.variant
    local v=$1 pre=$2
    shift 2
    clean_dst
    env PATH="$pre:$PATH" "$@" "$OWNSTAT" "${DBS[@]}" --rclone-remote=":local:$DST" >/dev/null 2>"$WORK/own.err" ||
        { cat "$WORK/own.err" >&2; die "dbstash failed ($v)"; }
    grep -o 'wall=[0-9.]*' "$WORK/own.err" | cut -d= -f2 >>"$WORK/c.$v"
    sed -n 's/.*user=\([0-9.]*\) sys=\([0-9.]*\) hwm_kib=\([0-9]*\).*/\1 \2 \3/p' "$WORK/own.err" >>"$WORK/o.$v"
}
for i in $(seq 1 "$RUNS"); do
    clean_dst
    wall bash -c 'cat "$0" | "$@" rcat -- ":local:'"$DST"'/bare.sql"' "$F" "${RC[@]}" >>"$WORK/c.bare"
    clean_dst
    wall bash -c 'cat "$0" | "$@" rcat --ignore-checksum -- ":local:'"$DST"'/bare.sql"' "$F" "${RC[@]}" >>"$WORK/c.bareic"
    clean_dst
    wall bash -c 'cat "$0" | cat | "$@" rcat -- ":local:'"$DST"'/hop.sql"' "$F" "${RC[@]}" >>"$WORK/c.hop"
    own dbs "$SHM/fake"
    own dbs8k "$SHM/fake8k"
    own dbs1 "$SHM/fake" TOKIO_WORKER_THREADS=1
done
clean_dst
B=$(median <"$WORK/c.bare")
row() { # variant label
    local m
    m=$(median <"$WORK/c.$1")
    printf '   %-40s %7.3f s [%s] %5s MB/s, /bare %.3f' "$2" "$m" "$(spread <"$WORK/c.$1")" "$(mbps "$m")" "$(awk -v d="$m" -v b="$B" 'BEGIN {print d / b}')"
    if [[ -s $WORK/o.$1 ]]; then
        printf '; dbstash own cpu user %.2f + sys %.2f s (%.2f s per GB), peak RSS %s KiB' \
            "$(awk '{print $1}' "$WORK/o.$1" | median)" "$(awk '{print $2}' "$WORK/o.$1" | median)" \
            "$(awk -v b="$BYTES" '{print ($1 + $2) / (b / 1e9)}' "$WORK/o.$1" | median)" "$(awk '{print $3}' "$WORK/o.$1" | sort -g | tail -n1)"
    fi
    echo
}
{
    row bare "cat FILE | rclone rcat"
    row bareic "cat FILE | rclone rcat --ignore-checksum"
    row hop "cat FILE | cat | rclone rcat"
    row dbs "dbstash (fake pg_dump: cat)"
    row dbs8k "dbstash (fake pg_dump: dd bs=8k)"
    row dbs1 "dbstash, TOKIO_WORKER_THREADS=1"
} | tee -a "$OUT"
PERF=""
command -v perf >/dev/null && perf stat -e task-clock true >/dev/null 2>&1 && PERF=perf
if [[ -n $PERF ]]; then
    # dbstash's main thread (the copy loop runs there: --no-inherit leaves out rclone and
    # pg_dump). The release binary is stripped: its own code shows as unknown addresses; the
    # kernel's symbols say how much is pipe copying.
    clean_dst
    PATH="$SHM/fake8k:$PATH" perf record -q --no-inherit -e cpu-clock -o "$WORK/perf.data" \
        -- "${DBS[@]}" --rclone-remote=":local:$DST" >/dev/null 2>&1 || true
    perf report -i "$WORK/perf.data" --stdio --sort dso 2>/dev/null | grep -E '^ +[0-9]' | head -n 6 >"$R/perf-dso.txt" || true
    perf report -i "$WORK/perf.data" --stdio --sort sym 2>/dev/null | grep -E '^ +[0-9]' | head -n 30 >"$R/perf-sym.txt" || true
    say "   dbstash's main thread by object (perf record, cpu-clock; fake pg_dump dd bs=8k):"
    sed 's/^/     /' "$R/perf-dso.txt" | tee -a "$OUT"
    say "   its kernel symbols above 1%:"
    grep '\[k\]' "$R/perf-sym.txt" | awk '$1 + 0 >= 1' | head -n 8 | sed 's/^/     /' | tee -a "$OUT"
fi
PIPECOPY=$WORK/pipecopy
if cc -O2 -o "$PIPECOPY" "$ROOT/bench/pipecopy/pipecopy.c" 2>"$WORK/cc.log"; then
    say "   one copy stage between two pipes (bench/pipecopy), its own CPU per GB (median of $RUNS):"
    for m in rw tee splice; do
        : >"$WORK/pc.$m"
        for i in $(seq 1 "$RUNS"); do
            # shellcheck disable=SC2002 # tee(2) needs pipes on both sides, not a file
            cat "$F" | "$PIPECOPY" "$m" 2>>"$WORK/pc.$m" | cat >/dev/null
        done
        say "     $(printf '%-7s' "$m") user+sys $(awk -v b="$BYTES" '{print ($3 + $4) / (b / 1e9)}' "$WORK/pc.$m" | median) s per GB"
    done
else
    say "   (bench/pipecopy did not compile: $(head -n1 "$WORK/cc.log"))"
fi
if ((RSS_MB > 0)); then
    say ""
    say "5. dbstash's peak RSS for a ${RSS_MB} MB stream (zeros from head -c; -> :local: on the disk, --ignore-checksum)"
    mkdir -p "$SHM/fakerss"
    printf '#!/bin/sh\nexec head -c %d /dev/zero\n' "$((RSS_MB * 1000000))" >"$SHM/fakerss/pg_dump"
    chmod +x "$SHM/fakerss/pg_dump"
    mkdir -p "$WORK/rss"
    PATH="$SHM/fakerss:$PATH" "$OWNSTAT" "${DBS[@]}" --rclone-remote=":local:$WORK/rss" --rclone-extra-args=--ignore-checksum \
        >/dev/null 2>"$WORK/rss.err" || { cat "$WORK/rss.err" >&2; die "dbstash failed (rss)"; }
    rm -rf "$WORK/rss"
    say "   $(grep -o 'ownstat.*' "$WORK/rss.err")"
fi
say ""
say "load average at the end: $(loadavg); compilers seen: $(busy_compilers) (the machine is shared)"
copy_results
