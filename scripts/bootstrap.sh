#!/usr/bin/env bash
# Rigenera: idempotent set-up of a Debian 12 or 13 machine (as root, or as a
# user on a machine where the system packages are already there).
#
#   1. system packages (apt), only when something is missing:
#      PostgreSQL server + PostGIS (not when DATABASE_URL is set), GDAL, libpq;
#   2. a Python >= 3.12 (pygeoapi 0.24 needs it; plain Debian 12 has 3.11);
#   3. the virtual environment .venv with `pip install -e '.[dev]'`, redone only
#      when pyproject.toml changed since the last successful install;
#   4. the website's front-end libraries from npm (scripts/build-web.sh).
#
# Environment:
#   RIGENERA_PYTHON=/path/to/python3.12   use this interpreter for a new .venv
#   RIGENERA_SKIP_APT=1                   never call apt-get (report only)
#   DATABASE_URL=...                      an external PostgreSQL: no local server needed
#   RIGENERA_PROFILE=image                the API's container image (Dockerfile): no local
#                                         PostgreSQL server, no test tools (GDAL, poppler),
#                                         no dev extras; pg_dump/pg_restore for backups
#
# Run by `make run`, `make test`, `make bootstrap`; safe to run any number of times.
# `bash scripts/bootstrap.sh --print-python` only prints the interpreter it would use.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"

say() { printf '[bootstrap] %s\n' "$*"; }
warn() { printf '[bootstrap] WARNING: %s\n' "$*" >&2; }
die() { printf '[bootstrap] ERROR: %s\n' "$*" >&2; exit 1; }

# --------------------------------------------------------------------------
# Python >= 3.12
# --------------------------------------------------------------------------

# py_ok PATH: PATH runs and is Python >= 3.12 (pyenv shims exist but may fail).
py_ok() {
    [ -n "${1:-}" ] && [ -x "$1" ] &&
        "$1" -c 'import sys; assert sys.version_info >= (3, 12)' >/dev/null 2>&1
}

py_version() { "$1" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null; }

# find_python: print the first usable interpreter, or nothing.
find_python() {
    local cand root
    if [ -n "${RIGENERA_PYTHON:-}" ]; then
        cand="$(command -v "$RIGENERA_PYTHON" 2>/dev/null || true)"
        if py_ok "$cand"; then
            printf '%s\n' "$cand"
            return 0
        fi
        die "RIGENERA_PYTHON=$RIGENERA_PYTHON does not run as Python >= 3.12"
    fi
    for cand in "$(command -v python3.13 2>/dev/null || true)" \
                "$(command -v python3.12 2>/dev/null || true)" \
                /usr/bin/python3; do
        if py_ok "$cand"; then
            printf '%s\n' "$cand"
            return 0
        fi
    done
    # pyenv's own interpreters, called directly (its shims only work when the
    # version is activated). 3.12 first: the version the project is tested on.
    root="${PYENV_ROOT:-$HOME/.pyenv}"
    if [ -d "$root/versions" ]; then
        while IFS= read -r cand; do
            if py_ok "$cand"; then
                printf '%s\n' "$cand"
                return 0
            fi
        done < <(printf '%s\n' "$root"/versions/3.1[2-9]*/bin/python3 | sort -V)
    fi
    if command -v uv >/dev/null 2>&1; then
        cand="$(uv python find '>=3.12' 2>/dev/null || true)"
        if py_ok "$cand"; then
            printf '%s\n' "$cand"
            return 0
        fi
    fi
    return 0
}

# The version Debian would install as python3 (empty when apt knows nothing).
apt_python_candidate() {
    command -v apt-cache >/dev/null 2>&1 || return 0
    apt-cache policy python3 2>/dev/null | sed -n 's/^ *Candidate: *\([0-9][0-9.]*\).*/\1/p' | head -n1
}

version_ge_312() {  # version_ge_312 3.13.5 -> true
    local major minor
    IFS=. read -r major minor _ <<<"$1"
    [ "${major:-0}" -gt 3 ] || { [ "${major:-0}" -eq 3 ] && [ "${minor:-0}" -ge 12 ]; }
}

# --------------------------------------------------------------------------
# System packages
# --------------------------------------------------------------------------

pkg_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# The PostgreSQL bin dir the embedded cluster would use (same rule as
# rigenera.cluster.find_bindir: pg_config's, else the newest /usr/lib/postgresql/N).
pg_bindir() {
    local d
    if command -v pg_config >/dev/null 2>&1; then
        d="$(pg_config --bindir 2>/dev/null || true)"
        if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            printf '%s\n' "$d"
            return 0
        fi
    fi
    for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5,5nr); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            printf '%s\n' "$d"
            return 0
        fi
    done
    return 0
}

APT_PKGS=()      # what to install
NEED_PG_SERVER=0  # PostgreSQL server absent: pick its PostGIS after apt-get update

IMAGE=0
if [ "${RIGENERA_PROFILE:-dev}" = image ]; then
    IMAGE=1
elif [ "${RIGENERA_PROFILE:-dev}" != dev ]; then
    die "RIGENERA_PROFILE=${RIGENERA_PROFILE}: expected dev or image"
fi

plan_packages() {
    local bindir major
    if [ "$IMAGE" = 1 ]; then
        say "image profile: the database is DATABASE_URL, no test tools, no dev extras"
        # rigenera backup / restore: pg_dump and pg_restore of Debian's PostgreSQL
        command -v pg_dump >/dev/null 2>&1 || APT_PKGS+=(postgresql-client)
        pkg_installed libpq5 || APT_PKGS+=(libpq5)
        command -v npm >/dev/null 2>&1 || APT_PKGS+=(nodejs npm)
        return 0
    fi
    if [ -n "${DATABASE_URL:-}" ]; then
        say "DATABASE_URL is set: no local PostgreSQL server needed"
    else
        bindir="$(pg_bindir)"
        if [ -z "$bindir" ]; then
            NEED_PG_SERVER=1
        else
            major="$(basename "$(dirname "$bindir")")"
            if ! ls /usr/share/postgresql/"$major"/extension/postgis.control >/dev/null 2>&1; then
                APT_PKGS+=("postgresql-$major-postgis-3")
            fi
        fi
    fi
    command -v ogr2ogr >/dev/null 2>&1 && command -v ogrinfo >/dev/null 2>&1 || APT_PKGS+=(gdal-bin)
    pkg_installed libpq5 || APT_PKGS+=(libpq5)
    # reports: the PDF report's pages rendered to PNG by the tests
    command -v pdftoppm >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 || APT_PKGS+=(poppler-utils)
    # the website: MapLibre GL JS and axe-core come from npm (scripts/build-web.sh)
    command -v npm >/dev/null 2>&1 || APT_PKGS+=(nodejs npm)
}

# After `apt-get update`: the server packages for Debian's default PostgreSQL
# (15 on Debian 12, 17 on Debian 13). `postgis` alone only *recommends* the
# extension, so name it: the metapackage postgresql-postgis, else
# postgresql-N-postgis-3 for the N that `postgresql` depends on.
add_pg_server_packages() {
    local major
    APT_PKGS+=(postgresql)
    if apt-cache show postgresql-postgis >/dev/null 2>&1; then
        APT_PKGS+=(postgresql-postgis)
    else
        major="$(apt-cache depends postgresql 2>/dev/null |
                 sed -n 's/^ *Depends: postgresql-\([0-9][0-9]*\)$/\1/p' | head -n1)"
        [ -n "$major" ] || die "apt knows no PostgreSQL server package (is this Debian?)"
        APT_PKGS+=("postgresql-$major-postgis-3")
    fi
}

pg_server_note() { [ "$NEED_PG_SERVER" = 1 ] && printf ' postgresql postgresql-postgis' || true; }

run_apt() {
    local sudo=()
    if [ "${RIGENERA_SKIP_APT:-}" = 1 ]; then
        warn "RIGENERA_SKIP_APT=1: not installing: ${APT_PKGS[*]}$(pg_server_note)"
        return 0
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        warn "no apt-get here: install by hand: PostgreSQL server + PostGIS 3, GDAL (ogr2ogr), libpq"
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            warn "missing system packages and no root/sudo: skipping apt. As root run:"
            warn "  apt-get update && apt-get install -y --no-install-recommends" \
                 "${APT_PKGS[*]}$(pg_server_note)"
            return 0
        fi
    fi
    say "apt-get update"
    "${sudo[@]}" apt-get update -qq
    if [ "$NEED_PG_SERVER" = 1 ]; then
        add_pg_server_packages
        # Debian's postinst would create and start a 'main' cluster on port 5432
        # that the project never uses: the embedded cluster is its own.
        if [ ! -e /etc/postgresql-common/createcluster.d/rigenera.conf ]; then
            "${sudo[@]}" mkdir -p /etc/postgresql-common/createcluster.d
            echo "create_main_cluster = false" |
                "${sudo[@]}" tee /etc/postgresql-common/createcluster.d/rigenera.conf >/dev/null
        fi
    fi
    say "apt-get install ${APT_PKGS[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends "${APT_PKGS[@]}"
}

# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

if [ "${1:-}" = "--print-python" ]; then   # debugging aid: which interpreter would be used
    find_python
    exit 0
fi

start=$SECONDS
PY=""
NEED_VENV=0
if ! py_ok "$VENV/bin/python"; then
    NEED_VENV=1
    PY="$(find_python)"
fi

plan_packages
if [ "$NEED_VENV" = 0 ]; then
    :   # the existing .venv is fine: no interpreter to look for
elif [ -z "$PY" ]; then
    cand="$(apt_python_candidate)"
    if [ -n "$cand" ] && version_ge_312 "$cand"; then
        APT_PKGS+=(python3 python3-venv)   # Debian 13: its python3 is 3.13
    fi
elif [[ "$PY" == /usr/bin/* ]] && ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    v="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    APT_PKGS+=(python3-venv "python$v-venv")  # Debian's python lacks ensurepip without it
fi

if [ "${#APT_PKGS[@]}" -gt 0 ] || [ "$NEED_PG_SERVER" = 1 ]; then
    run_apt
else
    say "system packages: ok"
fi

if [ "$NEED_VENV" = 1 ] && [ -z "$PY" ]; then
    PY="$(find_python)"
fi
if [ "$NEED_VENV" = 1 ] && [ -z "$PY" ] && command -v uv >/dev/null 2>&1; then
    say "no Python >= 3.12 found: uv python install 3.12"
    if uv python install 3.12; then
        PY="$(uv python find '>=3.12' 2>/dev/null || true)"
    fi
fi
if [ "$NEED_VENV" = 1 ] && [ -z "$PY" ]; then
    die "no Python >= 3.12 found (pygeoapi 0.24 needs it; Debian 12's python3 is 3.11).
  Tried: \$RIGENERA_PYTHON, python3.13 and python3.12 on PATH, /usr/bin/python3,
  ${PYENV_ROOT:-$HOME/.pyenv}/versions/3.1[2-9]*, uv.
  Install one, then run again, e.g.:
    - Debian 13: apt-get install python3 python3-venv
    - pyenv:     pyenv install 3.12   (or point RIGENERA_PYTHON at any python3.12+)
    - uv:        uv python install 3.12"
fi

# Virtual environment --------------------------------------------------------
if [ -e "$VENV/bin/python" ] && ! py_ok "$VENV/bin/python"; then
    say ".venv has $(py_version "$VENV/bin/python" || echo 'a broken') Python: recreating it"
    rm -rf "$VENV"
fi
if [ ! -e "$VENV/bin/python" ]; then
    say "creating .venv with Python $(py_version "$PY") ($PY)"
    rm -rf "$VENV"
    "$PY" -m venv "$VENV" ||
        die "'$PY -m venv' failed: on Debian install python3-venv (apt-get install python3-venv)"
fi

TARGET='.[dev]'
[ "$IMAGE" = 1 ] && TARGET='.'
stamp="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ -e "$stamp" ]; then
    say "python packages: up to date ($(py_version "$VENV/bin/python"), $(( SECONDS - start )) s)"
else
    say "pip install -e '$TARGET' (pyproject.toml changed or first install; the first one takes minutes)"
    "$VENV/bin/python" -m pip install --quiet --progress-bar off -e "$TARGET"
    rm -f "$VENV"/.installed-*
    touch "$stamp"
    say "python packages installed ($(( SECONDS - start )) s)"
fi

# The website's front end (MapLibre GL JS from npm, served by the service) -------
bash "$ROOT/scripts/build-web.sh"
