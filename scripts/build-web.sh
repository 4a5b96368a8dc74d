#!/usr/bin/env bash
# Rigenera: the website's front-end libraries, from npm, served by the service (no CDN).
#
#   1. `npm ci` in frontend/ (package-lock.json pins MapLibre GL JS and axe-core), redone
#      only when the lock file changes (stamp in node_modules/);
#   2. MapLibre's built files are copied to server/rigenera/web/static/vendor/maplibre-gl/
#      with a gzip twin of each, which the service sends to browsers that accept gzip
#      (web/staticfiles.py). axe-core stays in node_modules: only the tests inject it.
#
# Run by scripts/bootstrap.sh (so by `make run` and `make test`); node and npm come from
# Debian's packages when the machine has none (bootstrap.sh's apt list).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FRONT="$ROOT/frontend"
OUT="$ROOT/server/rigenera/web/static/vendor/maplibre-gl"
say() { printf '[build-web] %s\n' "$*"; }

command -v npm >/dev/null 2>&1 || { echo "[build-web] ERROR: npm not found (apt-get install nodejs npm)" >&2; exit 1; }

cd "$FRONT"
stamp="node_modules/.rigenera-$(sha256sum package-lock.json | cut -c1-16)"
if [ ! -e "$stamp" ]; then
    say "npm ci (frontend/package-lock.json changed or first install)"
    npm ci --no-audit --no-fund --loglevel=error
    rm -f node_modules/.rigenera-*
    touch "$stamp"
fi

mkdir -p "$OUT"
DIST="$FRONT/node_modules/maplibre-gl/dist"
for f in maplibre-gl.js maplibre-gl.css maplibre-gl-csp.js maplibre-gl-csp-worker.js LICENSE.txt; do
    if ! cmp -s "$DIST/$f" "$OUT/$f"; then
        cp "$DIST/$f" "$OUT/$f"
        gzip -9 -n -k -f "$OUT/$f"
    fi
done
say "MapLibre GL JS $(sed -n 's/^ *"version": "\(.*\)",/\1/p' "$FRONT/node_modules/maplibre-gl/package.json" | head -n1) in ${OUT#"$ROOT"/}"
