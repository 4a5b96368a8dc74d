#!/usr/bin/env bash
# Rigenera: idempotent set-up of the QGIS side (the plugin's build and tests)
# on Debian 12 or 13 (as root, or as a user where the packages are already there).
#
#   1. system packages (apt, --no-install-recommends), only when something is missing:
#      python3-qgis + qgis-providers (PyQGIS and its OAPIF provider: QGIS 3.22 on
#      Debian 12, 3.40 on Debian 13), qgis (only for `qgis_process`, which the
#      Processing tests run; a few MB more), python3-psycopg2 (the tests ask
#      PostGIS directly), python3-venv, qttools5-dev-tools (lrelease, .qm files),
#      pyqt5-dev-tools (pylupdate5: the test that the .ts files are up to date);
#      scripts/system-tools.tsv lists every outside tool and who installs it;
#   2. .venv-qgis: a virtual environment of the *system* Python (the only one
#      with PyQGIS) with --system-site-packages, plus pytest and pytest-qgis,
#      reinstalled only when the pinned versions below change (stamp file).
#
#   bash scripts/bootstrap-qgis.sh              everything (make test, make test-plugin)
#   bash scripts/bootstrap-qgis.sh --tools-only only lrelease and a python3 (make plugin)
#
# Environment: RIGENERA_SKIP_APT=1 never calls apt-get (reports what is missing).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv-qgis"
SYS_PY=/usr/bin/python3
# The plugin's test tools (pytest-qgis 5.0.2 works offscreen with QGIS 3.22).
PIP_REQUIREMENTS=(pytest==8.3.4 pytest-qgis==5.0.2)

say() { printf '[bootstrap-qgis] %s\n' "$*"; }
die() { printf '[bootstrap-qgis] ERROR: %s\n' "$*" >&2; exit 1; }

TOOLS_ONLY=0
[ "${1:-}" = "--tools-only" ] && TOOLS_ONLY=1

pkg_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

have_lrelease() {
    command -v lrelease >/dev/null 2>&1 || command -v lrelease-qt5 >/dev/null 2>&1 ||
        [ -x /usr/lib/qt5/bin/lrelease ]
}

start=$SECONDS
APT_PKGS=()
have_lrelease || APT_PKGS+=(qttools5-dev-tools)
if [ ! -x "$SYS_PY" ]; then
    APT_PKGS+=(python3)
fi
if [ "$TOOLS_ONLY" = 0 ]; then
    command -v pylupdate5 >/dev/null 2>&1 || APT_PKGS+=(pyqt5-dev-tools)
    if [ ! -x "$SYS_PY" ] || ! "$SYS_PY" -c 'import qgis.core' >/dev/null 2>&1; then
        APT_PKGS+=(python3-qgis)
    fi
    # The OAPIF/WFS provider is a plugin library of qgis-providers, not of python3-qgis.
    if command -v dpkg-query >/dev/null 2>&1 && ! pkg_installed qgis-providers; then
        APT_PKGS+=(qgis-providers)
    fi
    command -v qgis_process >/dev/null 2>&1 || APT_PKGS+=(qgis)
    if [ ! -x "$SYS_PY" ] || ! "$SYS_PY" -c 'import psycopg2' >/dev/null 2>&1; then
        APT_PKGS+=(python3-psycopg2)
    fi
    if [ ! -x "$SYS_PY" ] || ! "$SYS_PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        APT_PKGS+=(python3-venv)
    fi
fi

if [ "${#APT_PKGS[@]}" -gt 0 ]; then
    command="apt-get update && apt-get install -y --no-install-recommends ${APT_PKGS[*]}"
    if [ "${RIGENERA_SKIP_APT:-}" = 1 ]; then
        die "RIGENERA_SKIP_APT=1 and missing: ${APT_PKGS[*]}. As root run: $command"
    fi
    command -v apt-get >/dev/null 2>&1 ||
        die "missing ${APT_PKGS[*]} and no apt-get here: install QGIS >= 3.22 with its Python bindings, its providers and Qt's lrelease by hand"
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            die "missing system packages (${APT_PKGS[*]}) and no root/sudo. As root run:
    $command"
        fi
    fi
    say "apt-get update"
    "${sudo[@]}" apt-get update -qq
    say "apt-get install ${APT_PKGS[*]} (the first time: a few minutes)"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends "${APT_PKGS[@]}"
else
    say "system packages: ok"
fi

if [ "$TOOLS_ONLY" = 1 ]; then
    exit 0
fi

if [ "${#APT_PKGS[@]}" -gt 0 ]; then
    "$SYS_PY" -c 'import qgis.core' >/dev/null 2>&1 || die "$SYS_PY cannot import qgis.core after the install"
fi

# .venv-qgis ------------------------------------------------------------------
# Recreate it when it is broken or was made from another interpreter (a Debian
# upgrade from 12 to 13 changes /usr/bin/python3 from 3.11 to 3.13).
sys_version="$("$SYS_PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ -e "$VENV" ]; then
    venv_version="$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)"
    if [ "$venv_version" != "$sys_version" ] ||
        ! grep -q '^include-system-site-packages = true' "$VENV/pyvenv.cfg" 2>/dev/null; then
        say ".venv-qgis does not match $SYS_PY ($sys_version) with system packages: recreating it"
        rm -rf "$VENV"
    fi
fi
if [ ! -e "$VENV/bin/python" ]; then
    say "creating .venv-qgis with $SYS_PY ($sys_version) --system-site-packages"
    "$SYS_PY" -m venv --system-site-packages "$VENV" ||
        die "'$SYS_PY -m venv' failed: on Debian install python3-venv"
fi

stamp="$VENV/.installed-$(printf '%s\n' "${PIP_REQUIREMENTS[@]}" | sha256sum | cut -c1-16)"
if [ -e "$stamp" ] && "$VENV/bin/python" -c 'import qgis.core, pytest_qgis' >/dev/null 2>&1; then
    say "test tools: up to date (PyQGIS $("$VENV/bin/python" -c 'from qgis.core import Qgis; print(Qgis.QGIS_VERSION)' 2>/dev/null), $(( SECONDS - start )) s)"
else
    say "pip install ${PIP_REQUIREMENTS[*]} into .venv-qgis"
    "$VENV/bin/python" -m pip install --quiet --progress-bar off "${PIP_REQUIREMENTS[@]}"
    rm -f "$VENV"/.installed-*
    touch "$stamp"
    say "test tools installed ($(( SECONDS - start )) s)"
fi
