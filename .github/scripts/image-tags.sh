#!/usr/bin/env bash
# The tags one image gets, one `repository:tag` per line, for every repository in
# IMAGE_REPOS (space-separated, default: GHCR and Docker Hub).
#
#   image-tags.sh ENGINE MAJOR NEWEST
#
# ENGINE is the engine key (pg, mysql, mariadb, redis, mongo), MAJOR the database major
# version, NEWEST `true` when MAJOR is the newest major built for ENGINE. Reads
# DBSTASH_VERSION and DBSTASH_RELEASE_KIND from `version.sh env`.
#
#   release tag (v1.2.3)      <engine>-<major>, <engine>-<major>-1.2.3, and when NEWEST
#                             also <engine> and <engine>-latest
#   pre-release (v1.2.3-rc1)  <engine>-<major>-1.2.3-rc1 only: rolling tags never move to a
#                             pre-release
#   branch or pull request    <engine>-<major>, and when NEWEST <engine> and <engine>-latest
#                             (the workflow pushes them for main only)
#
# Never a bare `latest`: every tag names its engine.
set -euo pipefail

die() { printf 'image-tags.sh: %s\n' "$*" >&2; exit 1; }

[ $# -eq 3 ] || die "usage: image-tags.sh ENGINE MAJOR NEWEST"
engine=$1 major=$2 newest=$3
[[ $engine =~ ^[a-z][a-z0-9]*$ ]] || die "engine key '$engine' is not lowercase letters and digits"
[[ $major =~ ^[0-9]+$ ]] || die "major version '$major' is not a number"
[[ $newest == true || $newest == false ]] || die "NEWEST must be true or false, not '$newest'"
kind=${DBSTASH_RELEASE_KIND:?run version.sh env first}
repos=${IMAGE_REPOS:-ghcr.io/viperadnan-git/dbstash viperadnan/dbstash}

tags=()
rolling() {
    tags+=("$engine-$major")
    if [ "$newest" = true ]; then
        tags+=("$engine" "$engine-latest")
    fi
}
case $kind in
    release)
        rolling
        tags+=("$engine-$major-${DBSTASH_VERSION:?}")
        ;;
    prerelease)
        tags+=("$engine-$major-${DBSTASH_VERSION:?}")
        ;;
    none) rolling ;;
    *) die "DBSTASH_RELEASE_KIND must be release, prerelease or none, not '$kind'" ;;
esac

read -r -a repo_list <<< "$repos"
[ "${#repo_list[@]}" -gt 0 ] || die "IMAGE_REPOS is empty"
for repo in "${repo_list[@]}"; do
    for tag in "${tags[@]}"; do
        printf '%s:%s\n' "$repo" "$tag"
    done
done
