#!/usr/bin/env bash
# Set-up for `make bench`: wrk (HTTP load), pgbench (the raw-SQL floor) and a
# separate venv with tipg, so its dependencies never touch the project's venv.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v pgbench >/dev/null || ls /usr/lib/postgresql/*/bin/pgbench >/dev/null 2>&1 \
  || need+=(postgresql-client)
if ((${#need[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "bench-setup: missing ${need[*]}: run as root: apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  echo "bench-setup: apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

venv=${RIGENERA_BENCH_VENV:-.venv-bench}
stamp="$venv/.installed-$(sha256sum bench/requirements.txt | cut -c1-16)"
if [[ ! -f $stamp ]]; then
  echo "bench-setup: creating $venv (tipg)"
  base=$(.venv/bin/python -c 'import sys; print(sys._base_executable)')
  "$base" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r bench/requirements.txt
  touch "$stamp"
fi
