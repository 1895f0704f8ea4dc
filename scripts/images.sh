#!/usr/bin/env bash
# Builds the per-engine Docker images that Debian's own packages allow on this machine and
# smoke-tests each one for real. Part of scripts/test.sh; runs alone too (as root, or with sudo).
#
#   images built here   pg-15 (bookworm), pg-17 (trixie), mariadb-10 (10.11, bookworm),
#                       mariadb-11 (11.8, trixie), redis-7 (7.0, bookworm), redis-8 (8.0, trixie),
#                       tagged dbstash:<engine>-<major>
#   not built here      mysql-8/9 and mongo-7/8 (Oracle's and MongoDB's repositories are not
#                       reachable): scripts/lint.sh hadolint-checks them, the GitHub workflow builds
#                       them; pg 14/16/18 come from PGDG there too
#
# Steps: install docker.io and debootstrap when missing; start dockerd (bridge none, no iptables)
# unless one is running; import debian:bookworm-slim and debian:trixie-slim made by debootstrap
# (once; cached); put the dbstash binary (the Rust debug build, stripped, or a release build with
# DBSTASH_PROFILE=release) and the pip rclone into docker/bin/; build each image with BuildKit,
# taking both binaries from the build context; then per image: labels, size < 350 MB, non-root
# numeric user, tool versions of the image's major; a once-mode backup into `rclone serve s3`
# configured by env only and secrets mounted as files, on a read-only root filesystem, whose data
# is restored and compared; a wrong password (exit 1, no object); the daemon reaching `healthy`
# and stopping with exit 0; and (pg-15) `docker stop` during a running backup (exit 1, no object).
#
# Only loopback: every build and container uses the host network; servers listen on 127.0.0.1.
# Leaves images and packages in place; stops what it started, by PID.
# Env: CI (a Docker that cannot start fails the run instead of skipping it), DBSTASH_PROFILE
# (debug | release), IMAGES (e.g. "pg-15 redis-8": a subset).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
step() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# debootstrap, dockerd, mariadbd and runuser live in sbin dirs, not on every PATH.
case ":$PATH:" in *:/usr/sbin:*) ;; *) export PATH="$PATH:/usr/sbin:/sbin" ;; esac

# BuildKit, through /usr/bin/docker when there is one (Debian's docker.io client, or Docker's own
# with buildx): /usr/local/bin/docker on the development machines has no buildx, and the legacy
# builder it falls back to builds every stage, also the unreachable ones.
DOCKER_CLI=/usr/bin/docker
docker() { "$DOCKER_CLI" "$@"; }
export DOCKER_BUILDKIT=1

readonly IMAGE_UID=10001
readonly MAX_IMAGE_BYTES=350000000
# engine, major, Debian release whose own packages carry that major
readonly ALL_IMAGES=("pg 15 bookworm" "pg 17 trixie" "mariadb 10 bookworm" "mariadb 11 trixie"
                     "redis 7 bookworm" "redis 8 trixie")
readonly DAEMON_JSON='{"bridge":"none","iptables":false,"ip6tables":false,"ip-forward":false,"ip-masq":false,"storage-driver":"overlay2"}'

WORK=$(mktemp -d /tmp/dbstash-images.XXXXXX)
chmod 0755 "$WORK"
DOCKERD_PID=""
SERVER_PIDS=()
CONTAINERS=()
PG_DATA=""
SUMMARY=()
FAILURES=0

# ---- bookkeeping --------------------------------------------------------------------------------
PHASE=""
PHASE_START=$SECONDS
TIMINGS=()
RUN_START=$SECONDS
phase() {
    end_phase
    PHASE=$1
    PHASE_START=$SECONDS
    step "$PHASE"
}
end_phase() {
    if [ -n "$PHASE" ]; then
        TIMINGS+=("$(printf '%4ss  %s' "$((SECONDS - PHASE_START))" "$PHASE")")
    fi
    PHASE=""
}
ok() { SUMMARY+=("ok    $*"); note "ok: $*"; }
fail() {
    SUMMARY+=("FAIL  $*")
    printf '    FAIL: %s\n' "$*" >&2
    FAILURES=$((FAILURES + 1))
}
# check DESCRIPTION COMMAND...: runs COMMAND, records ok or FAIL.
check() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}

cleanup() {
    local status=$? c pid
    set +e
    for c in "${CONTAINERS[@]}"; do
        docker rm -f "$c" >/dev/null 2>&1
    done
    if [ -n "$PG_DATA" ] && [ -f "$PG_DATA/postmaster.pid" ]; then
        runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1
    fi
    for pid in "${SERVER_PIDS[@]}"; do
        stop_pid "$pid"
    done
    if [ -n "$DOCKERD_PID" ]; then
        note "stopping the dockerd this script started (PID $DOCKERD_PID)"
        stop_pid "$DOCKERD_PID" 30
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# stop_pid PID [SECONDS]: SIGTERM, wait, then SIGKILL.
stop_pid() {
    local pid=$1 wait=${2:-10} i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < wait * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds.
wait_for() {
    local limit=$1 i
    shift
    for ((i = 0; i < limit * 5; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}

# ---- Docker engine --------------------------------------------------------------------------------
docker_unavailable() {
    if [ -n "${CI:-}" ]; then
        die "$1 (CI is set: a missing Docker engine fails the run)"
    fi
    printf '\n' >&2
    printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' >&2
    printf '!!! images.sh SKIPPED: %s\n' "$1" >&2
    printf '!!! No image was built or tested. (With CI set this is a failure.)\n' >&2
    printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' >&2
    exit 0
}

ensure_docker() {
    [ -x "$DOCKER_CLI" ] || DOCKER_CLI=$(type -P docker || echo /usr/bin/docker)
    if [ -x "$DOCKER_CLI" ] && docker info >/dev/null 2>&1; then
        note "using the running Docker engine (not started by this script; its config is left alone)"
        return
    fi
    local dockerd
    dockerd=$(command -v dockerd || echo /usr/sbin/dockerd)
    if [ ! -x "$dockerd" ]; then
        note "installing docker.io"
        # The host's policy-rc.d keeps the package from starting a daemon with its default
        # (bridged) config; this script starts it below with its own.
        if ! apt_install_no_recommends docker.io >"$WORK/apt.log" 2>&1; then
            tail -n 20 "$WORK/apt.log" >&2
            docker_unavailable "could not install docker.io"
        fi
        dockerd=/usr/sbin/dockerd
        DOCKER_CLI=/usr/bin/docker
    fi
    mkdir -p /etc/docker
    if [ "$(cat /etc/docker/daemon.json 2>/dev/null)" != "$DAEMON_JSON" ]; then
        if [ -f /etc/docker/daemon.json ]; then
            cp /etc/docker/daemon.json "/etc/docker/daemon.json.before-dbstash"
            note "replaced /etc/docker/daemon.json (old one: daemon.json.before-dbstash)"
        fi
        printf '%s\n' "$DAEMON_JSON" > /etc/docker/daemon.json
    fi
    setsid nohup "$dockerd" >>"$WORK/dockerd.log" 2>&1 </dev/null &
    DOCKERD_PID=$!
    if ! wait_for 30 docker info; then
        tail -n 20 "$WORK/dockerd.log" >&2 || true
        docker_unavailable "dockerd did not come up within 30 s (log above)"
    fi
    note "started dockerd (PID $DOCKERD_PID; bridge none, no iptables)"
}

# ---- base images ----------------------------------------------------------------------------------
# The host's Debian mirror and security mirror, read from its apt sources at run time.
host_mirrors() {
    local codename f
    # shellcheck source=/dev/null
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    {
        for f in /etc/apt/sources.list.d/*.sources; do
            [ -f "$f" ] || continue
            awk -v RS='' -v cn="$codename" '
                /(^|\n)Types:[^\n]*deb([ \n]|$)/ {
                    uri = ""; suites = ""
                    n = split($0, lines, "\n")
                    for (i = 1; i <= n; i++) {
                        if (lines[i] ~ /^URIs:/) { split(lines[i], w, " "); uri = w[2] }
                        if (lines[i] ~ /^Suites:/) suites = " " substr(lines[i], 8) " "
                    }
                    if (uri == "") next
                    if (suites ~ (" " cn "-security ")) print "security", uri
                    else if (suites ~ (" " cn " ")) print "main", uri
                }' "$f"
        done
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
            [ -f "$f" ] || continue
            awk -v cn="$codename" '
                $1 == "deb" {
                    i = 2
                    if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                    if ($(i + 1) == cn "-security") print "security", $i
                    else if ($(i + 1) == cn) print "main", $i
                }' "$f"
        done
    } | awk '!seen[$1]++'
}

ensure_base_image() {
    local suite=$1 image="debian:$1-slim" rootfs mirror security
    if docker image inspect "$image" >/dev/null 2>&1; then
        note "$image: cached"
        return
    fi
    mirror=$(host_mirrors | awk '$1 == "main" { print $2 }')
    security=$(host_mirrors | awk '$1 == "security" { print $2 }')
    [ -n "$mirror" ] || die "no Debian mirror found in the host's apt sources"
    rootfs="$WORK/rootfs-$suite"
    if ! command -v debootstrap >/dev/null && [ ! -x /usr/sbin/debootstrap ]; then
        apt_install_no_recommends debootstrap >"$WORK/apt.log" 2>&1 \
            || { tail -n 20 "$WORK/apt.log" >&2; die "could not install debootstrap"; }
    fi
    note "$image: debootstrap --variant=minbase $suite (host's mirror)"
    debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$WORK/debootstrap-$suite.log" 2>&1 \
        || { tail -n 20 "$WORK/debootstrap-$suite.log" >&2; die "debootstrap $suite failed"; }
    # The host's sources for this release: main, -updates and -security.
    {
        printf 'deb %s %s main\n' "$mirror" "$suite" "$mirror" "$suite-updates"
        if [ -n "$security" ]; then
            printf 'deb %s %s main\n' "$security" "$suite-security"
        fi
    } > "$rootfs/etc/apt/sources.list"
    rm -f "$rootfs"/etc/apt/sources.list.d/*
    # Like Debian's own -slim images: no package docs, man pages or translations.
    printf '%s\n' 'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright' \
        'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/info/*' \
        'path-exclude=/usr/share/locale/*' > "$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim"
    find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
        "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
        "$rootfs/etc/resolv.conf" "$rootfs/etc/hostname"
    tar --numeric-owner -C "$rootfs" -c . \
        | docker import --change 'CMD ["bash"]' - "$image" >/dev/null
    rm -rf "$rootfs"
    note "$image: imported ($(image_mb "$image") MB)"
}

image_mb() {
    echo $(($(docker image inspect -f '{{.Size}}' "$1") / 1000000))
}

# ---- binaries for the build context ---------------------------------------------------------------
prepare_binaries() {
    local profile=${DBSTASH_PROFILE:-debug} src rclone_bin
    mkdir -p docker/bin
    case "$profile" in
        debug)
            # The debug build that `cargo test` already made: free here, and fast enough for a
            # smoke test. A release build from scratch costs 1.5 (idle) to 4 (loaded) minutes
            # more on 2 cores; the published images get theirs from the GitHub workflow.
            cargo build --locked --quiet
            src=target/debug/dbstash ;;
        release)
            cargo build --release --locked --quiet
            src=target/release/dbstash ;;
        *) die "DBSTASH_PROFILE must be debug or release, not '$profile'" ;;
    esac
    command -v strip >/dev/null || apt_install binutils
    strip -o "$WORK/dbstash" "$src"
    install_if_changed "$WORK/dbstash" docker/bin/dbstash
    note "dbstash: $src ($profile, stripped: $(($(stat -c %s docker/bin/dbstash) / 1000000)) MB): $(docker/bin/dbstash --version)"

    if ! rclone_ok; then
        install_rclone
    fi
    rclone_bin=$(readlink -f "$(pyenv which rclone 2>/dev/null || command -v rclone)")
    "$rclone_bin" version >/dev/null || die "$rclone_bin is not a working rclone"
    install_if_changed "$rclone_bin" docker/bin/rclone
    note "rclone: $rclone_bin ($("$rclone_bin" version | head -n 1))"
}

# Keeps the context file (and so BuildKit's cache) untouched when the content is the same.
install_if_changed() {
    cmp -s "$1" "$2" 2>/dev/null || install -m 0755 "$1" "$2"
}

# ---- building ------------------------------------------------------------------------------------
# build_args ENGINE MAJOR SUITE: the docker build arguments of one local image.
build_args() {
    local engine=$1 major=$2 suite=$3
    BUILD_ARGS=(--network host -f "docker/Dockerfile.$engine" -t "dbstash:$engine-$major"
        --build-arg DBSTASH_SOURCE=context --build-arg RCLONE_SOURCE=context
        --build-arg "DBSTASH_VERSION=$DBSTASH_VERSION" --build-arg "DBSTASH_COMMIT=$DBSTASH_COMMIT")
    case "$engine" in
        pg) BUILD_ARGS+=(--build-arg "PG_MAJOR=$major" --build-arg PG_SOURCE=debian
                         --build-arg "BASE_IMAGE=debian:$suite-slim") ;;
        # Their Dockerfiles pick the Debian release that carries the major by default.
        mariadb) BUILD_ARGS+=(--build-arg "MARIADB_MAJOR=$major") ;;
        redis) BUILD_ARGS+=(--build-arg "REDIS_MAJOR=$major") ;;
    esac
}

build_image() {
    local engine=$1 major=$2 suite=$3 tag="dbstash:$1-$2" log="$WORK/build-$1-$2.log"
    local start=$SECONDS
    build_args "$engine" "$major" "$suite"
    if ! docker build "${BUILD_ARGS[@]}" . >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        fail "$tag: docker build"
        return 1
    fi
    # The exact dump tool and rclone versions, computed in the built image, become labels in a
    # second, fully cached pass (docker/labels.sh, which the GitHub workflow can share).
    local labels=() line
    while IFS= read -r line; do
        labels+=(--label "$line")
    done < <(DOCKER=$DOCKER_CLI docker/labels.sh "$tag")
    if [ "${#labels[@]}" -ne 4 ] || ! docker build "${BUILD_ARGS[@]}" "${labels[@]}" . >>"$log" 2>&1; then
        tail -n 30 "$log" >&2
        fail "$tag: docker build (label pass)"
        return 1
    fi
    ok "$tag built in $((SECONDS - start)) s: $(label "$tag" dbstash.dump-tool.version); $(label "$tag" dbstash.rclone.version)"
}

# A Dockerfile that cannot be built here is at least parsed by this BuildKit: building its
# context-only stage resolves every stage, argument and FROM of the file.
parse_check() {
    local log="$WORK/parse-$1.log"
    if docker build --network host -f "docker/Dockerfile.$1" --target dbstash-context \
        --build-arg DBSTASH_SOURCE=context --build-arg RCLONE_SOURCE=context . >"$log" 2>&1; then
        ok "docker/Dockerfile.$1: parsed by BuildKit (not built: its vendor repository is unreachable here)"
    else
        tail -n 10 "$log" >&2
        fail "docker/Dockerfile.$1: BuildKit cannot parse it"
    fi
}

# ---- image checks -----------------------------------------------------------------------------------
label() { docker image inspect -f "{{index .Config.Labels \"$2\"}}" "$1"; }

inspect_image() {
    local engine=$1 major=$2 tag="dbstash:$1-$2" size user uid k missing=() facts
    size=$(docker image inspect -f '{{.Size}}' "$tag")
    check "$tag: size $((size / 1000000)) MB < $((MAX_IMAGE_BYTES / 1000000)) MB" [ "$size" -lt "$MAX_IMAGE_BYTES" ]
    user=$(docker image inspect -f '{{.Config.User}}' "$tag")
    uid=$(docker run --rm --network none --entrypoint id "$tag" -u)
    local what="$tag: USER '$user' is numeric, id -u in the container is $uid (not 0)"
    if [[ "$user" =~ ^[0-9]+(:[0-9]+)?$ ]] && [ "$uid" != 0 ] && [ "$uid" = "${user%%:*}" ]; then
        ok "$what"
    else
        fail "$what"
    fi
    for k in org.opencontainers.image.version org.opencontainers.image.revision \
        org.opencontainers.image.source org.opencontainers.image.title \
        org.opencontainers.image.description org.opencontainers.image.licenses \
        dbstash.engine dbstash.engine.major dbstash.dump-tool.version dbstash.rclone.version; do
        [ -n "$(label "$tag" "$k")" ] || missing+=("$k")
    done
    check "$tag: labels present (dump tool: $(label "$tag" dbstash.dump-tool.version))" [ "${#missing[@]}" -eq 0 ]
    [ "${#missing[@]}" -eq 0 ] || note "missing labels: ${missing[*]}"
    local cfg
    cfg=$(docker image inspect -f '{{json .Config.Env}} {{json .Config.Entrypoint}} {{json .Config.Healthcheck.Test}}' "$tag")
    what="$tag: ENGINE=$engine preset, ENTRYPOINT [\"dbstash\"], HEALTHCHECK dbstash healthcheck"
    if grep -q "\"ENGINE=$engine\"" <<<"$cfg" \
        && grep -qF '["dbstash"] ["CMD","dbstash","healthcheck"]' <<<"$cfg"; then
        ok "$what"
    else
        fail "$what: $cfg"
    fi

    local v
    v=$(docker run --rm --network none "$tag" --version)
    check "$tag: dbstash --version: $v" grep -q '^dbstash ' <<<"$v"
    # Tools of the image's major, the completions and the man page, no curl or wget.
    facts=$(docker run --rm --network none --entrypoint sh "$tag" -c "$(image_facts_script "$engine")" 2>&1)
    printf '%s\n' "$facts" | sed 's/^/      /'
    check "$tag: tools of major $major, completions, man page, no curl/wget, no dangling links" \
        facts_ok "$engine" "$major" "$facts"
}

image_facts_script() {
    local tools
    case "$1" in
        pg) tools='pg_dump pg_dumpall pg_restore psql' ;;
        mariadb) tools='mariadb-dump mariadb' ;;
        redis) tools='redis-cli redis-check-rdb' ;;
    esac
    cat <<EOF
for t in $tools; do printf '%s: ' "\$t"; "\$t" --version 2>&1 | head -n 1; done
for f in /usr/share/bash-completion/completions/dbstash /usr/share/zsh/vendor-completions/_dbstash \
    /usr/share/fish/vendor_completions.d/dbstash.fish /usr/local/share/man/man1/dbstash.1.gz; do
    [ -s "\$f" ] && echo "file: \$f" || echo "MISSING: \$f"
done
for t in curl wget; do command -v "\$t" >/dev/null && echo "UNWANTED: \$t"; done
find /usr/bin /usr/local/bin -xtype l | sed 's/^/DANGLING: /'
true
EOF
}

facts_ok() {
    local engine=$1 major=$2 facts=$3 want
    ! grep -q 'MISSING\|UNWANTED\|DANGLING' <<<"$facts" || return 1
    case "$engine" in
        pg) want="pg_dump pg_dumpall pg_restore psql"
            for t in $want; do grep -Eq "^$t: $t \(PostgreSQL\) $major\." <<<"$facts" || return 1; done ;;
        mariadb) grep -Eq "^mariadb-dump: .*(from|Distrib) $major\.[0-9]+\.[0-9]+-MariaDB" <<<"$facts" \
                     && grep -Eq "^mariadb: .*(from|Distrib) $major\." <<<"$facts" ;;
        redis) grep -Eq "^redis-cli: redis-cli $major\." <<<"$facts" \
                   && grep -q '^redis-check-rdb: ' <<<"$facts" ;;
    esac
}

# ---- S3 remote ----------------------------------------------------------------------------------------
start_s3() {
    S3_DIR="$WORK/s3"
    S3_PORT=$(free_port)
    S3_KEY=dbstash-smoke-key
    S3_SECRET=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    mkdir -p "$S3_DIR/smoke" "$WORK/secrets"
    rclone --config '' serve s3 --addr "127.0.0.1:$S3_PORT" --auth-key "$S3_KEY,$S3_SECRET" \
        "$S3_DIR" >"$WORK/s3.log" 2>&1 &
    SERVER_PIDS+=($!)
    # The remote reaches the container as a secret file only: RCLONE_CONFIG_FILE.
    cat > "$WORK/secrets/rclone.conf" <<EOF
[s3]
type = s3
provider = Rclone
endpoint = http://127.0.0.1:$S3_PORT
access_key_id = $S3_KEY
secret_access_key = $S3_SECRET
EOF
    secret_file "$WORK/secrets/rclone.conf"
    HOST_RCLONE=(rclone --config "$WORK/secrets/rclone.conf" --retries 1)
    wait_for 10 "${HOST_RCLONE[@]}" lsd s3: || die "rclone serve s3 did not start (log: $(cat "$WORK/s3.log"))"
    note "rclone serve s3 on 127.0.0.1:$S3_PORT, bucket 'smoke' in $S3_DIR"
}

# A secret as Docker and Kubernetes mount it: read-only, owned by the image's user, mode 0400.
secret_file() {
    chown "$IMAGE_UID:$IMAGE_UID" "$1"
    chmod 0400 "$1"
}

# objects PREFIX: the object names under smoke/PREFIX, as the S3 API lists them.
objects() {
    "${HOST_RCLONE[@]}" lsf -R --files-only "s3:smoke/$1" 2>/dev/null || true
}

# check_backup TAG PREFIX EXT: exactly one backup (NAME.EXT) plus NAME.EXT.sha256 whose hash
# matches; sets BACKUP_FILE to its path in the served directory.
check_backup() {
    local tag=$1 prefix=$2 ext=$3 list names sum want
    list=$(objects "$prefix")
    mapfile -t names < <(grep -v '\.sha256$' <<<"$list" | grep . || true)
    BACKUP_FILE=""
    if [ "${#names[@]}" -ne 1 ] || [[ "${names[0]}" != *"$ext" ]] || ! grep -qxF "${names[0]}.sha256" <<<"$list"; then
        fail "$tag: expected one *$ext object and its .sha256 under smoke/$prefix, found: $(tr '\n' ' ' <<<"$list")"
        return 1
    fi
    BACKUP_FILE="$S3_DIR/smoke/$prefix/${names[0]}"
    sum=$(sha256sum "$BACKUP_FILE" | awk '{print $1}')
    want=$(awk '{print $1; exit}' "$BACKUP_FILE.sha256")
    check "$tag: smoke/$prefix/${names[0]} ($(stat -c %s "$BACKUP_FILE") bytes) and its .sha256 (matches)" \
        [ "$sum" = "$want" ]
}

# ---- running the images ---------------------------------------------------------------------------------
CONTAINER_SEQ=0
new_container_name() {
    CONTAINER_SEQ=$((CONTAINER_SEQ + 1))
    CONTAINER="dbstash-smoke-$$-$CONTAINER_SEQ"
    CONTAINERS+=("$CONTAINER")
}

# run_once TAG PREFIX ENV_ARGS...: one BACKUP_SCHEDULE=once run, configured by env only, on a
# read-only root filesystem with a writable /tmp; the rclone config is a mounted secret.
# Sets RUN_STATUS and RUN_LOG.
run_once() {
    local tag=$1 prefix=$2
    shift 2
    new_container_name
    RUN_LOG="$WORK/$CONTAINER.log"
    RUN_STATUS=0
    docker run --name "$CONTAINER" --rm --network host --read-only --tmpfs /tmp \
        -v "$WORK/secrets/rclone.conf:/run/secrets/rclone.conf:ro" \
        -e RCLONE_CONFIG_FILE=/run/secrets/rclone.conf -e "RCLONE_REMOTE=s3:smoke/$prefix" \
        -e BACKUP_SCHEDULE=once "$@" "$tag" >"$RUN_LOG" 2>&1 || RUN_STATUS=$?
}

# daemon_check TAG PREFIX ENV_ARGS...: the daemon (cron schedule, /healthz on a free port) becomes
# healthy through the image's HEALTHCHECK, and `docker stop` (SIGTERM to PID 1) ends it with 0.
daemon_check() {
    local tag=$1 prefix=$2 port health="" code
    shift 2
    port=$(free_port)
    new_container_name
    docker run -d --name "$CONTAINER" --network host --read-only --tmpfs /tmp \
        --health-interval 1s --health-start-period 10s --health-timeout 5s \
        -v "$WORK/secrets/rclone.conf:/run/secrets/rclone.conf:ro" \
        -e RCLONE_CONFIG_FILE=/run/secrets/rclone.conf -e "RCLONE_REMOTE=s3:smoke/$prefix" \
        -e BACKUP_SCHEDULE='0 3 * * *' -e "HEALTH_ADDR=127.0.0.1:$port" "$@" "$tag" >/dev/null
    for _ in $(seq 60); do
        health=$(docker inspect -f '{{.State.Health.Status}}' "$CONTAINER")
        [ "$health" = healthy ] && break
        [ "$(docker inspect -f '{{.State.Running}}' "$CONTAINER")" = true ] || break
        sleep 0.5
    done
    docker stop -t 20 "$CONTAINER" >/dev/null
    code=$(docker inspect -f '{{.State.ExitCode}}' "$CONTAINER")
    local what="$tag: daemon (HEALTH_ADDR=127.0.0.1:$port) became '$health'; docker stop -> exit $code"
    if [ "$health" = healthy ] && [ "$code" = 0 ]; then
        ok "$what"
    else
        fail "$what"
        docker logs "$CONTAINER" 2>&1 | tail -n 20 | sed 's/^/      /'
    fi
    docker rm "$CONTAINER" >/dev/null
}

# wrong_password_check TAG PREFIX SECRET_MOUNT ENV_ARGS...: exit 1 and no object.
wrong_password_check() {
    local tag=$1 prefix=$2
    shift 2
    run_once "$tag" "$prefix" "$@"
    local left what
    left=$(objects "$prefix")
    what="$tag: wrong password -> exit $RUN_STATUS (want 1), objects under smoke/$prefix: '$(printf '%s' "$left" | tr '\n' ' ')'"
    if [ "$RUN_STATUS" = 1 ] && [ -z "$left" ]; then
        ok "$what"
        note "its error: $(grep -i 'error\|fail' "$RUN_LOG" | tail -n 1 | cut -c1-200)"
    else
        fail "$what"
        tail -n 20 "$RUN_LOG" | sed 's/^/      /'
    fi
}

once_ok() {
    local tag=$1
    check "$tag: once-mode backup (env only, secrets as files, read-only root) exits $RUN_STATUS" [ "$RUN_STATUS" = 0 ]
    [ "$RUN_STATUS" = 0 ] || tail -n 30 "$RUN_LOG" | sed 's/^/      /'
    [ "$RUN_STATUS" = 0 ]
}

# ---- PostgreSQL ---------------------------------------------------------------------------------------
PG_PASSWORD=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
start_pg() {
    PG_BIN=$(find_pg_bin)
    [ -n "$PG_BIN" ] || { apt_install postgresql; PG_BIN=$(find_pg_bin); }
    PG_SERVER_MAJOR=$("$PG_BIN/postgres" --version | grep -Eo '[0-9]+' | head -n 1)
    PG_PORT=$(free_port)
    local base="$WORK/pg"
    mkdir -p "$base"
    chown postgres: "$base"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$base/data" -U postgres --auth-local=trust \
        --auth-host=scram-sha-256 -E UTF8 --no-sync >"$base/initdb.log" 2>&1
    PG_DATA="$base/data"
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$base/log" -w \
        -o "-p $PG_PORT -k $base -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    PG_SOCKET=$base
    pg_sql postgres -c "ALTER ROLE postgres PASSWORD '$PG_PASSWORD'" -c 'CREATE DATABASE shop' -c 'CREATE DATABASE bulk'
    pg_sql shop <<'SQL'
CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text UNIQUE, joined date);
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int REFERENCES customers,
                     total numeric(12,2), placed_at timestamptz, items jsonb, note text);
INSERT INTO customers SELECT g, 'Customer ' || g, 'c' || g || '@example.test', date '2020-01-01' + g
  FROM generate_series(1, 500) g;
INSERT INTO customers VALUES (501, E'Zoë Ñandú — 日本語 ''q'' "dq" \\ tab\there', NULL, NULL);
INSERT INTO orders (customer_id, total, placed_at, items, note)
  SELECT 1 + g % 500, round(g * 3.17, 2), timestamptz '2024-01-01 00:00+00' + g * interval '37 minutes',
         jsonb_build_object('sku', 'SKU-' || g, 'qty', g % 7),
         CASE WHEN g % 10 = 0 THEN NULL ELSE md5(g::text) END
  FROM generate_series(1, 5000) g;
CREATE VIEW big_spenders AS SELECT customer_id, sum(total) AS spent FROM orders GROUP BY 1 HAVING sum(total) > 20000;
SQL
    # ~45 MB of plain dump: slow enough through a throttled rclone to stop mid-backup.
    pg_sql bulk -c "CREATE TABLE filler AS SELECT g AS id, repeat(md5(g::text), 7) AS pad FROM generate_series(1, 200000) g"
    note "PostgreSQL $PG_SERVER_MAJOR on 127.0.0.1:$PG_PORT (scram-sha-256 over TCP), databases shop and bulk"
    printf '%s\n' "$PG_PASSWORD" > "$WORK/secrets/pg_password"
    printf 'not-%s\n' "$PG_PASSWORD" > "$WORK/secrets/pg_wrong_password"
    secret_file "$WORK/secrets/pg_password"
    secret_file "$WORK/secrets/pg_wrong_password"
}

pg_sql() {
    local db=$1
    shift
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET" -p "$PG_PORT" -U postgres -d "$db" "$@"
}

pg_fingerprint() {
    pg_sql "$1" -At -c "SELECT
        (SELECT count(*) || ':' || md5(string_agg(c::text, '|' ORDER BY id)) FROM customers c) || ' ' ||
        (SELECT count(*) || ':' || md5(string_agg(o::text, '|' ORDER BY id)) FROM orders o) || ' ' ||
        (SELECT last_value FROM orders_id_seq) || ' ' || (SELECT count(*) FROM big_spenders)"
}

pg_env() {
    PG_ENV=(-v "$WORK/secrets/$1:/run/secrets/db_password:ro" -e DB_PASSWORD_FILE=/run/secrets/db_password
        -e DB_HOST=127.0.0.1 -e "DB_PORT=$PG_PORT" -e DB_USER=postgres -e "DB_NAME=${2:-shop}")
}

smoke_pg() {
    local major=$1 tag="dbstash:pg-$1"
    pg_env pg_password
    run_once "$tag" "pg-$major/once" "${PG_ENV[@]}"
    if [ "$major" -lt "$PG_SERVER_MAJOR" ]; then
        # pg_dump refuses servers newer than itself: the other half of "pick the SERVER's major".
        local left what
        left=$(objects "pg-$major/once")
        what="$tag: pg_dump $major refuses this PostgreSQL $PG_SERVER_MAJOR server: exit $RUN_STATUS (want 1), no object"
        if [ "$RUN_STATUS" = 1 ] && [ -z "$left" ] && grep -q 'server version mismatch' "$RUN_LOG"; then
            ok "$what"
        else
            fail "$what"
            tail -n 10 "$RUN_LOG" | sed 's/^/      /'
        fi
        note "no data round trip for $tag here: it needs a server of major $major or older"
    else
        pg_round_trip "$major"
    fi
    pg_env pg_wrong_password
    wrong_password_check "$tag" "pg-$major/wrong-password" "${PG_ENV[@]}"
    pg_env pg_password
    daemon_check "$tag" "pg-$major/daemon" "${PG_ENV[@]}"
}

# The backup made by the once run above, restored with the image's own psql into a fresh
# database of the same server, compared by content.
pg_round_trip() {
    local major=$1 tag="dbstash:pg-$1" db="restored_pg$1" dump="$WORK/pg$1.sql"
    once_ok "$tag" || return 0
    check_backup "$tag" "pg-$major/once" .sql || return 0

    # Restore with the image's own psql into a fresh database of the same server.
    cp "$BACKUP_FILE" "$dump"
    pg_sql postgres -c "CREATE DATABASE $db"
    if [ "$major" -ge 17 ] && [ "$PG_SERVER_MAJOR" -lt 17 ]; then
        # pg_dump 17+ writes `SET transaction_timeout = 0;`, which older servers reject: the reason
        # to pick the image whose major matches the SERVER (docs/docker.md).
        check "$tag: its dump of a PostgreSQL $PG_SERVER_MAJOR server has 'SET transaction_timeout'" \
            grep -q '^SET transaction_timeout = 0;$' "$dump"
        if pg_restore_in "$tag" "$db" <"$dump" >"$WORK/restore-$major.log" 2>&1; then
            fail "$tag: restoring as-is into PostgreSQL $PG_SERVER_MAJOR should stop at transaction_timeout"
        else
            check "$tag: as-is into PostgreSQL $PG_SERVER_MAJOR: ON_ERROR_STOP restore fails on transaction_timeout (expected)" \
                grep -q 'transaction_timeout' "$WORK/restore-$major.log"
        fi
        pg_sql postgres -c "DROP DATABASE $db" -c "CREATE DATABASE $db"
        note "restoring again without that one line (the only difference this data needs)"
        sed -i '/^SET transaction_timeout = 0;$/d' "$dump"
    fi
    if pg_restore_in "$tag" "$db" <"$dump" >"$WORK/restore-$major.log" 2>&1; then
        local want got
        want=$(pg_fingerprint shop)
        got=$(pg_fingerprint "$db")
        check "$tag: restored with its own psql, data identical ($got)" [ "$want" = "$got" ]
    else
        tail -n 10 "$WORK/restore-$major.log" | sed 's/^/      /'
        fail "$tag: restore with the image's psql"
    fi
}

pg_restore_in() {
    docker run --rm -i --network host -e "PGPASSWORD=$PG_PASSWORD" --entrypoint psql "$1" \
        -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$2"
}

# The command names of a container's processes (docker top needs the pid column).
container_commands() {
    docker top "$1" -o pid,comm 2>/dev/null | awk 'NR > 1 { print $2 }'
}

# docker stop while pg_dump is still streaming: dbstash (PID 1) gets SIGTERM, kills the dump and
# rclone, removes the target; the multipart upload never completes, so no object appears.
stop_during_backup_pg() {
    local major=$1 tag="dbstash:pg-$1" prefix="pg-$1/stopped" port code seen=""
    port=$(free_port)
    pg_env pg_password bulk
    new_container_name
    docker run -d --name "$CONTAINER" --network host --read-only --tmpfs /tmp \
        -v "$WORK/secrets/rclone.conf:/run/secrets/rclone.conf:ro" \
        -e RCLONE_CONFIG_FILE=/run/secrets/rclone.conf -e "RCLONE_REMOTE=s3:smoke/$prefix" \
        -e BACKUP_SCHEDULE='0 3 * * *' -e BACKUP_ON_START=true -e "HEALTH_ADDR=127.0.0.1:$port" \
        -e 'RCLONE_EXTRA_ARGS=--bwlimit 2M' "${PG_ENV[@]}" "$tag" >/dev/null
    for _ in $(seq 100); do
        if container_commands "$CONTAINER" | grep -qx pg_dump; then
            seen=yes
            break
        fi
        sleep 0.2
    done
    # Let some of the dump reach the remote first (parts of a multipart upload).
    sleep 3
    local running
    running=$(container_commands "$CONTAINER" | grep -x 'pg_dump\|rclone' | sort -u | tr '\n' ' ' || true)
    docker stop -t 20 "$CONTAINER" >/dev/null
    code=$(docker inspect -f '{{.State.ExitCode}}' "$CONTAINER")
    local left what
    left=$(objects "$prefix")
    what="$tag: docker stop during a running backup (running: ${running:-nothing}) -> exit $code (want 1), objects: '$(printf '%s' "$left" | tr '\n' ' ')'"
    if [ "$seen" = yes ] && [ -n "$running" ] && [ "$code" = 1 ] && [ -z "$left" ]; then
        ok "$what"
    else
        fail "$what"
    fi
    docker logs "$CONTAINER" 2>&1 | grep -i 'SIGTERM\|stopp\|delet\|remov' | tail -n 4 | sed 's/^/      /' || true
    local leftovers hidden
    leftovers=$(find "$S3_DIR/smoke/$prefix" -mindepth 1 -not -name '.*' 2>/dev/null | wc -l)
    hidden=$(find "$S3_DIR/smoke/$prefix" -mindepth 1 -name '.*' -type f -printf '%s\n' 2>/dev/null \
        | awk '{ n++; b += $1 } END { printf "%d files, %d bytes", n, b }')
    note "the S3 server's hidden multipart upload state left behind: $hidden (not objects)"
    check "$tag: nothing but the S3 server's hidden multipart temp files in its directory" [ "$leftovers" -eq 0 ]
    docker rm "$CONTAINER" >/dev/null
}

# ---- MariaDB ---------------------------------------------------------------------------------------------
MARIADB_PASSWORD=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
start_mariadb() {
    if ! command -v mariadbd >/dev/null && [ ! -x /usr/sbin/mariadbd ]; then
        apt_install mariadb-server mariadb-client
    fi
    local base="$WORK/mariadb" mariadbd=/usr/sbin/mariadbd
    command -v mariadbd >/dev/null && mariadbd=$(command -v mariadbd)
    MARIADB_PORT=$(free_port)
    mkdir -p "$base"
    chown mysql: "$base"
    runuser -u mysql -- mariadb-install-db --no-defaults --datadir="$base/data" \
        --auth-root-authentication-method=normal --skip-test-db >"$base/install.log" 2>&1
    runuser -u mysql -- "$mariadbd" --no-defaults --datadir="$base/data" --socket="$base/s.sock" \
        --port="$MARIADB_PORT" --bind-address=127.0.0.1 --pid-file="$base/pid" \
        --log-error="$base/err" --skip-name-resolve >/dev/null 2>&1 &
    MARIADB_SOCKET="$base/s.sock"
    wait_for 30 mariadb-admin --no-defaults -S "$MARIADB_SOCKET" -u root ping \
        || die "mariadbd did not start: $(tail -n 5 "$base/err")"
    SERVER_PIDS+=("$(cat "$base/pid")")
    MARIADB_SERVER=$(mariadb_sql -N -e 'SELECT VERSION()')
    mariadb_sql <<SQL
SET SESSION max_recursive_iterations = 100000;
CREATE DATABASE shop;
CREATE USER 'backup'@'127.0.0.1' IDENTIFIED BY '$MARIADB_PASSWORD';
GRANT ALL ON *.* TO 'backup'@'127.0.0.1';
USE shop;
CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(200) NOT NULL, email VARCHAR(200) UNIQUE,
                        joined DATE) DEFAULT CHARSET=utf8mb4;
CREATE TABLE orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, customer_id INT, total DECIMAL(12,2),
                     placed_at DATETIME, note TEXT, raw VARBINARY(16),
                     FOREIGN KEY (customer_id) REFERENCES customers (id)) DEFAULT CHARSET=utf8mb4;
INSERT INTO customers WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 500)
  SELECT n, CONCAT('Customer ', n), CONCAT('c', n, '@example.test'), DATE '2020-01-01' + INTERVAL n DAY FROM g;
INSERT INTO customers VALUES (501, 'Zoë Ñandú — 日本語 ''q'' "dq" \\\\ tab\there', NULL, NULL);
INSERT INTO orders (customer_id, total, placed_at, note, raw)
  WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 5000)
  SELECT 1 + n % 500, ROUND(n * 3.17, 2), TIMESTAMP '2024-01-01 00:00:00' + INTERVAL n * 37 MINUTE,
         IF(n % 10 = 0, NULL, MD5(n)), UNHEX(MD5(n)) FROM g;
CREATE VIEW big_spenders AS SELECT customer_id, SUM(total) AS spent FROM orders GROUP BY 1 HAVING SUM(total) > 20000;
SQL
    printf 'mysql://backup:%s@127.0.0.1:%s/shop\n' "$MARIADB_PASSWORD" "$MARIADB_PORT" > "$WORK/secrets/mariadb_uri"
    printf 'mysql://backup:wrong-%s@127.0.0.1:%s/shop\n' "$MARIADB_PASSWORD" "$MARIADB_PORT" > "$WORK/secrets/mariadb_wrong_uri"
    secret_file "$WORK/secrets/mariadb_uri"
    secret_file "$WORK/secrets/mariadb_wrong_uri"
    note "MariaDB $MARIADB_SERVER on 127.0.0.1:$MARIADB_PORT, database shop, user backup"
}

mariadb_sql() {
    mariadb --no-defaults -S "$MARIADB_SOCKET" -u root "$@"
}

mariadb_fingerprint() {
    mariadb_sql -N "$1" -e "SET SESSION group_concat_max_len = 67108864;
        SELECT CONCAT(
          (SELECT CONCAT(COUNT(*), ':', MD5(GROUP_CONCAT(CONCAT_WS('|', id, name, IFNULL(email, '-'), IFNULL(joined, '-'))
             ORDER BY id SEPARATOR '\n'))) FROM customers), ' ',
          (SELECT CONCAT(COUNT(*), ':', MD5(GROUP_CONCAT(CONCAT_WS('|', id, customer_id, total, placed_at,
             IFNULL(note, '-'), HEX(raw)) ORDER BY id SEPARATOR '\n'))) FROM orders), ' ',
          (SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'orders'), ' ',
          (SELECT COUNT(*) FROM big_spenders))"
}

smoke_mariadb() {
    local major=$1 tag="dbstash:mariadb-$1" db="restored_mariadb$1"
    local cfg=(-v "$WORK/secrets/mariadb_uri:/run/secrets/db_uri:ro" -e DB_URI_FILE=/run/secrets/db_uri)
    run_once "$tag" "mariadb-$major/once" "${cfg[@]}"
    once_ok "$tag" || return 0
    check_backup "$tag" "mariadb-$major/once" .sql || return 0
    mariadb_sql -e "CREATE DATABASE $db"
    if docker run --rm -i --network host -e "MYSQL_PWD=$MARIADB_PASSWORD" --entrypoint mariadb "$tag" \
        --host=127.0.0.1 --port="$MARIADB_PORT" --user=backup "$db" <"$BACKUP_FILE" >"$WORK/restore-m$major.log" 2>&1; then
        local want got
        want=$(mariadb_fingerprint shop)
        got=$(mariadb_fingerprint "$db")
        check "$tag: restored with its own mariadb client, data identical ($got)" [ "$want" = "$got" ]
    else
        tail -n 10 "$WORK/restore-m$major.log" | sed 's/^/      /'
        fail "$tag: restore with the image's mariadb client"
    fi
    wrong_password_check "$tag" "mariadb-$major/wrong-password" \
        -v "$WORK/secrets/mariadb_wrong_uri:/run/secrets/db_uri:ro" -e DB_URI_FILE=/run/secrets/db_uri
    daemon_check "$tag" "mariadb-$major/daemon" "${cfg[@]}"
}

# ---- Redis ---------------------------------------------------------------------------------------------
REDIS_PASSWORD=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
redis_server_bin() {
    command -v redis-server >/dev/null || apt_install redis-server redis-tools
    command -v redis-server
}

start_redis() {
    local bin
    bin=$(redis_server_bin)
    REDIS_PORT=$(free_port)
    mkdir -p "$WORK/redis"
    "$bin" --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK/redis" \
        --repl-diskless-sync-delay 0 --requirepass "$REDIS_PASSWORD" --enable-debug-command local \
        --logfile "$WORK/redis/log" >/dev/null 2>&1 &
    SERVER_PIDS+=($!)
    wait_for 10 redis_cli "$REDIS_PORT" ping || die "redis-server did not start"
    REDIS_SERVER=$("$bin" --version | grep -Eo 'v=[0-9.]+' | cut -c3-)
    {
        for i in $(seq 1 2000); do printf 'SET key:%d value-%d\n' "$i" "$((i * 7))"; done
        printf 'HSET user:1 name "Zoë Ñandú" lang 日本語 quote "a \\"b\\" c"\n'
        printf 'RPUSH queue a b c d e\nSADD tags red green blue\nZADD board 1 alice 2.5 bob 3 carol\n'
        printf 'SET counter 41\nINCR counter\nSET bin "\\x00\\x01\\xff"\nPEXPIRE key:1 99999999\n'
        printf 'XADD events 1-1 kind start\nSELECT 3\nSET other-db yes\n'
    } | redis_cli "$REDIS_PORT" >/dev/null
    printf '%s\n' "$REDIS_PASSWORD" > "$WORK/secrets/redis_password"
    printf 'wrong-%s\n' "$REDIS_PASSWORD" > "$WORK/secrets/redis_wrong_password"
    secret_file "$WORK/secrets/redis_password"
    secret_file "$WORK/secrets/redis_wrong_password"
    note "Redis $REDIS_SERVER on 127.0.0.1:$REDIS_PORT (requirepass), $(redis_cli "$REDIS_PORT" dbsize) keys in db 0 + 1 in db 3"
}

redis_cli() {
    local port=$1
    shift
    REDISCLI_AUTH=$REDIS_PASSWORD redis-cli --no-auth-warning -h 127.0.0.1 -p "$port" "$@"
}

# DEBUG DIGEST: one hash of the whole dataset (all databases, values and expiries).
redis_fingerprint() {
    echo "$(redis_cli "$1" debug digest) keys0=$(redis_cli "$1" dbsize) keys3=$(redis_cli "$1" -n 3 dbsize)"
}

smoke_redis() {
    local major=$1 tag="dbstash:redis-$1" dir="$WORK/redis-restore-$1" port bin check_out
    local cfg=(-v "$WORK/secrets/redis_password:/run/secrets/db_password:ro" -e DB_PASSWORD_FILE=/run/secrets/db_password
        -e DB_HOST=127.0.0.1 -e "DB_PORT=$REDIS_PORT")
    run_once "$tag" "redis-$major/once" "${cfg[@]}"
    once_ok "$tag" || return 0
    check_backup "$tag" "redis-$major/once" .rdb || return 0
    # The image's redis-check-rdb reads the snapshot ...
    if check_out=$(docker run --rm -i --network none --entrypoint sh "$tag" \
        -c 'cat > /tmp/dump.rdb && redis-check-rdb /tmp/dump.rdb' <"$BACKUP_FILE" 2>&1); then
        ok "$tag: its redis-check-rdb: $(grep -o 'RDB looks OK' <<<"$check_out" || echo '(exit 0)'), $(grep -o "redis-ver = '[^']*'" <<<"$check_out" | head -n 1)"
    else
        printf '%s\n' "$check_out" | tail -n 5 | sed 's/^/      /'
        fail "$tag: redis-check-rdb on the snapshot"
    fi
    # ... and a fresh redis-server loads it as its dump file.
    mkdir -p "$dir"
    cp "$BACKUP_FILE" "$dir/dump.rdb"
    port=$(free_port)
    bin=$(redis_server_bin)
    "$bin" --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" --dbfilename dump.rdb \
        --requirepass "$REDIS_PASSWORD" --enable-debug-command local --logfile "$dir/log" >/dev/null 2>&1 &
    local pid=$!
    SERVER_PIDS+=("$pid")
    if wait_for 10 redis_cli "$port" ping; then
        local want got
        want=$(redis_fingerprint "$REDIS_PORT")
        got=$(redis_fingerprint "$port")
        check "$tag: loaded into a fresh redis-server, DEBUG DIGEST identical ($got)" [ "$want" = "$got" ]
    else
        fail "$tag: a fresh redis-server did not load the snapshot: $(tail -n 3 "$dir/log")"
    fi
    stop_pid "$pid"
    wrong_password_check "$tag" "redis-$major/wrong-password" \
        -v "$WORK/secrets/redis_wrong_password:/run/secrets/db_password:ro" -e DB_PASSWORD_FILE=/run/secrets/db_password \
        -e DB_HOST=127.0.0.1 -e "DB_PORT=$REDIS_PORT"
    daemon_check "$tag" "redis-$major/daemon" "${cfg[@]}"
}

# ---- main --------------------------------------------------------------------------------------------------
main() {
    local wanted=() entry engine major suite built=()
    for entry in "${ALL_IMAGES[@]}"; do
        read -r engine major suite <<<"$entry"
        if [ -z "${IMAGES:-}" ] || [[ " $IMAGES " == *" $engine-$major "* ]]; then
            wanted+=("$entry")
        fi
    done
    [ "${#wanted[@]}" -gt 0 ] || die "IMAGES='${IMAGES:-}' names none of: pg-15 pg-17 mariadb-10 mariadb-11 redis-7 redis-8"

    phase "Docker engine"
    # Root: dockerd, and the throwaway servers run through runuser as their service users.
    [ "$(id -u)" -eq 0 ] || docker_unavailable "images.sh runs as root (sudo ./scripts/images.sh)"
    ensure_docker
    note "$(docker version -f 'client {{.Client.Version}}, server {{.Server.Version}}')"

    phase "base images (debootstrap, cached)"
    local suites
    suites=$(printf '%s\n' "${wanted[@]}" | awk '{print $3}' | sort -u)
    for suite in $suites; do
        ensure_base_image "$suite"
    done

    phase "binaries for the build context"
    prepare_binaries
    DBSTASH_VERSION=$(docker/bin/dbstash --version | awk '{print $2}')
    DBSTASH_COMMIT=$(git rev-parse --short=8 HEAD 2>/dev/null || echo unknown)

    phase "build ${#wanted[@]} images (BuildKit, binaries from the context)"
    note "not built here: mysql-8, mysql-9 (Oracle's apt repository) and mongo-7, mongo-8 (MongoDB's)"
    note "are unreachable from this machine; scripts/lint.sh hadolint-checks their Dockerfiles and"
    note "the GitHub workflow builds them (and pg 14/16/18 from PGDG)"
    parse_check mysql
    parse_check mongo
    for entry in "${wanted[@]}"; do
        read -r engine major suite <<<"$entry"
        if build_image "$engine" "$major" "$suite"; then
            built+=("$entry")
        fi
    done

    phase "image checks (size, user, labels, tools)"
    for entry in "${built[@]}"; do
        read -r engine major suite <<<"$entry"
        inspect_image "$engine" "$major"
    done

    phase "smoke tests: rclone serve s3 and real servers on loopback"
    start_s3
    local engines
    engines=$(printf '%s\n' "${built[@]}" | awk '{print $1}' | sort -u)
    for engine in $engines; do
        case "$engine" in
            pg) start_pg ;;
            mariadb) start_mariadb ;;
            redis) start_redis ;;
        esac
    done
    local stop_test_done=""
    for entry in "${built[@]}"; do
        read -r engine major suite <<<"$entry"
        phase "smoke test dbstash:$engine-$major"
        "smoke_$engine" "$major"
        # docker stop during a backup: with the first pg image that can dump this server.
        if [ "$engine" = pg ] && [ -z "$stop_test_done" ] && [ "$major" -ge "$PG_SERVER_MAJOR" ]; then
            stop_during_backup_pg "$major"
            stop_test_done=yes
        fi
    done
    end_phase

    step "summary"
    printf '  %s\n' "${SUMMARY[@]}"
    step "images"
    for entry in "${built[@]}"; do
        read -r engine major suite <<<"$entry"
        printf '  %-20s %4s MB  %s\n' "dbstash:$engine-$major" "$(image_mb "dbstash:$engine-$major")" \
            "$(label "dbstash:$engine-$major" dbstash.dump-tool.version)"
    done
    step "timings"
    printf '  %s\n' "${TIMINGS[@]}"
    printf '  %4ss  total\n' "$((SECONDS - RUN_START))"
    local checks=${#SUMMARY[@]}
    printf '%s: %d passed, %d failed\n' "images" "$((checks - FAILURES))" "$FAILURES"
    [ "$FAILURES" -eq 0 ]
}

main "$@"
