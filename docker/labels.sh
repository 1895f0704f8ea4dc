#!/bin/sh
# Prints the labels that only a built image can tell: the exact version of its dump tool and of
# its rclone, one key=value per line, for a second, fully cached build pass:
#
#   docker build ... -t dbstash:pg-17 .                       # first pass
#   docker/labels.sh dbstash:pg-17 | sed 's/^/--label=/' ...  # or build-push-action's `labels:`
#   docker build ... --label "dbstash.dump-tool.version=..." -t dbstash:pg-17 .
#
# Usage: docker/labels.sh IMAGE   (DOCKER=/path/to/docker to pick the client)
set -eu
image=${1:?usage: docker/labels.sh IMAGE}
docker=${DOCKER:-docker}
engine=$("$docker" image inspect -f '{{index .Config.Labels "dbstash.engine"}}' "$image")
case "$engine" in
    pg) tool='pg_dump --version' ;;
    mysql) tool='mysqldump --version' ;;
    mariadb) tool='mariadb-dump --version' ;;
    redis) tool='redis-cli --version' ;;
    mongo) tool='mongodump --version' ;;
    *) echo "labels.sh: $image has no known dbstash.engine label ('$engine')" >&2; exit 1 ;;
esac
# The first line of each, cut inside the container (a pipe closed early on the host side
# makes the docker client complain).
version=$("$docker" run --rm --network none --entrypoint sh "$image" -c "$tool | head -n 1")
rclone=$("$docker" run --rm --network none --entrypoint sh "$image" -c 'rclone version | head -n 1')
if [ -z "$version" ] || [ -z "$rclone" ]; then
    echo "labels.sh: no version from $image" >&2
    exit 1
fi
printf 'dbstash.dump-tool.version=%s\n' "$version"
printf 'dbstash.rclone.version=%s\n' "$rclone"
