#!/usr/bin/env bash
# The release configuration as dist itself reads it: `dist generate --check` (release.yml is
# exactly what dist-workspace.toml generates) and `dist plan` (what a release would contain:
# one archive per target with its .sha256 and share/, the installers, sha256.sum).
#
# A manual check, not part of scripts/test.sh: it needs the `dist` binary, and installing it
# (`cargo install cargo-dist --locked`, done here when missing) compiles for ~10 minutes on
# 2 cores, more than the CI budget allows. dist itself runs `dist plan` in release.yml on every
# pull request, and binaries.yml on every push. Both commands run offline.
#
# Usage: scripts/dist-check.sh          (after editing dist-workspace.toml or the build setup)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
step() { printf '==> %s\n' "$*"; }
die() { printf 'dist-check.sh: %s\n' "$*" >&2; exit 1; }

want=$(sed -n 's/^cargo-dist-version = "\(.*\)"$/\1/p' dist-workspace.toml)
[ -n "$want" ] || die "no cargo-dist-version in dist-workspace.toml"
have=$(dist --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
    step "installing cargo-dist $want (have: ${have:-none}; ~10 minutes)"
    cargo install cargo-dist --locked --version "$want"
    hash -r
fi
step "$(dist --version)"

step "dist generate --check (release.yml is what dist-workspace.toml generates)"
dist generate --check || die "release.yml is stale or hand-edited: run 'dist generate' and commit it"

step "dist plan"
plan=$(mktemp)
trap 'rm -f "$plan"' EXIT
dist plan
dist plan --output-format=json > "$plan"

# Every target of dist-workspace.toml gets an archive and a checksum; the installers and
# the checksum file exist; every archive ships share/.
python3 - "$plan" <<'PY'
import json, re, sys
plan = json.load(open(sys.argv[1]))
text = open("dist-workspace.toml").read()
targets = re.findall(r'"([a-z0-9_]+-[a-z0-9_]+-[a-z0-9_-]+)"', text.split("targets = [", 1)[1].split("]", 1)[0])
arts = plan["artifacts"]
errors = []
for t in targets:
    ext = ".zip" if "windows" in t else ".tar.xz"
    name = f"dbstash-{t}{ext}"
    art = arts.get(name)
    if art is None:
        errors.append(f"no archive {name}")
        continue
    if f"{name}.sha256" not in arts:
        errors.append(f"no checksum {name}.sha256")
    assets = {a.get("name") for a in art.get("assets", [])}
    if "share" not in assets:
        errors.append(f"{name} does not ship share/ (assets: {sorted(a for a in assets if a)})")
installers = re.findall(r'"(\w+)"', text.split("installers = [", 1)[1].split("]", 1)[0])
expected = ["sha256.sum"] + [{"shell": "dbstash-installer.sh", "powershell": "dbstash-installer.ps1"}[i] for i in installers]
for name in expected:
    if name not in arts:
        errors.append(f"no {name}")
if errors:
    sys.exit("dist plan: " + "; ".join(errors))
print(f"dist plan: {len(targets)} archives with .sha256 and share/, installers {installers}, sha256.sum")
PY
step "dist-check: passed"
