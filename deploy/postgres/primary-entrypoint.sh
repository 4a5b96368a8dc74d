#!/bin/sh
# The PostGIS primary (docker-compose.yml, service db): the WAL archive volume belongs to
# postgres (a fresh named volume is root's), then the image's own entrypoint.
set -eu
mkdir -p /var/lib/postgresql/wal-archive
chown postgres:postgres /var/lib/postgresql/wal-archive
chmod 700 /var/lib/postgresql/wal-archive
exec docker-entrypoint.sh "$@"
