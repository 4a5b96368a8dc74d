#!/usr/bin/env bash
# `make clean`: stop the server and the embedded cluster, then delete the
# cluster's data (.rigenera/, or $RIGENERA_STATE_DIR) and the virtualenv (.venv/).
# Asks nothing; prints what it removes. An external DATABASE_URL is never touched.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { printf '[clean] %s\n' "$*"; }

STATE="${RIGENERA_STATE_DIR:-$ROOT/.rigenera}"
STATE="$(realpath -m "$STATE")"
# rigenera.cluster keeps the server's files outside the tree when its service
# user cannot reach the state dir: /var/lib/rigenera/<sha1(state dir)[:12]>.
MOVED="/var/lib/rigenera/$(printf '%s' "$STATE" | sha1sum | cut -c1-12)"

if [ -x .venv/bin/rigenera ]; then
    .venv/bin/rigenera stop || say "rigenera stop failed: stopping by hand"
fi

# Fallback when the venv is missing or broken: the server by its PID file, the
# cluster with pg_ctl as the data directory's owner.
if [ -f "$STATE/run/server.pid" ]; then
    pid="$(cat "$STATE/run/server.pid")"
    if kill -0 "$pid" 2>/dev/null; then
        say "stopping server $pid"
        kill -TERM "$pid" || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
fi
for data in "$STATE/pg/data" "$MOVED/data"; do
    [ -f "$data/postmaster.pid" ] || continue
    pg_ctl="/usr/lib/postgresql/$(cat "$data/PG_VERSION" 2>/dev/null)/bin/pg_ctl"
    [ -x "$pg_ctl" ] || { say "cannot stop the cluster in $data: no $pg_ctl"; exit 1; }
    owner="$(stat -c %U "$data")"
    say "stopping the PostGIS cluster in $data"
    if [ "$(id -u)" -eq 0 ] && [ "$owner" != root ]; then
        runuser -u "$owner" -- "$pg_ctl" stop -D "$data" -m fast -w >/dev/null || true
    else
        "$pg_ctl" stop -D "$data" -m fast -w >/dev/null || true
    fi
    if [ -f "$data/postmaster.pid" ] && kill -0 "$(head -n1 "$data/postmaster.pid")" 2>/dev/null; then
        say "the cluster in $data is still running: not deleting it"
        exit 1
    fi
done

for path in "$STATE" "$MOVED" "$ROOT/.venv" "$ROOT/.venv-qgis" "$ROOT/dist" \
            "$ROOT/tests/plugin/.qgis-settings"; do
    if [ -e "$path" ]; then
        say "removing $path"
        rm -rf "$path"
    fi
done
say "done"
