#!/usr/bin/env bash
# Rigenera: the browser the website's tests drive (make test; bench/web.py).
#
# Debian's own Chromium (package chromium, /usr/bin/chromium), driven by Playwright for
# Python (in .venv with the dev extras) through `executable_path`: no browser is ever
# downloaded by a test tool. Installed only when missing; RIGENERA_SKIP_APT=1 reports only.
set -euo pipefail

say() { printf '[bootstrap-browser] %s\n' "$*"; }

if [ -x /usr/bin/chromium ]; then
    say "chromium: ok ($(/usr/bin/chromium --version 2>/dev/null | head -n1))"
    exit 0
fi
if [ "${RIGENERA_SKIP_APT:-}" = 1 ]; then
    say "RIGENERA_SKIP_APT=1: not installing chromium (the browser tests will be skipped)"
    exit 0
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo=(sudo -n)
    else
        say "no root/sudo: as root run: apt-get install -y --no-install-recommends chromium fonts-dejavu-core"
        exit 0
    fi
fi
say "apt-get install chromium fonts-dejavu-core"
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends chromium fonts-dejavu-core
