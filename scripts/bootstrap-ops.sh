#!/usr/bin/env bash
# Rigenera: the production layout's tools, for its tests (tests/test_compose.py).
#
#   nginx           the reverse proxy of docker-compose.yml, run by the tests as a
#                   foreground process on 127.0.0.1 with the very config the image uses
#                   (deploy/nginx/); the system service is never started
#   docker-compose  validates docker-compose.yml (`docker-compose config`: no engine needed);
#                   skipped when `docker compose` (v2) is already there
#   openssl         the tests' self-signed certificate
#
# Installed only when missing; RIGENERA_SKIP_APT=1 reports only. Run by `make test`.
set -euo pipefail

say() { printf '[bootstrap-ops] %s\n' "$*"; }

APT_PKGS=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || APT_PKGS+=(nginx)
command -v openssl >/dev/null 2>&1 || APT_PKGS+=(openssl)
if ! command -v docker-compose >/dev/null 2>&1 &&
        ! { command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; }; then
    APT_PKGS+=(docker-compose)
fi
if [ "${#APT_PKGS[@]}" -eq 0 ]; then
    say "nginx, openssl, compose: ok"
    exit 0
fi
if [ "${RIGENERA_SKIP_APT:-}" = 1 ]; then
    say "RIGENERA_SKIP_APT=1: not installing ${APT_PKGS[*]} (tests/test_compose.py will fail)"
    exit 0
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo=(sudo -n)
    else
        say "no root/sudo: as root run: apt-get install -y --no-install-recommends ${APT_PKGS[*]}"
        exit 0
    fi
fi
# Debian's nginx package starts its service on port 80 of every address: not wanted here
# (the tests run their own nginx on 127.0.0.1). A policy-rc.d that denies service starts,
# only for this install and only if the machine has none of its own.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 755 "$policy"
    own_policy=1
fi
trap 'if [ "$own_policy" = 1 ]; then "${sudo[@]}" rm -f "$policy"; fi' EXIT
say "apt-get install ${APT_PKGS[*]}"
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends "${APT_PKGS[@]}"
