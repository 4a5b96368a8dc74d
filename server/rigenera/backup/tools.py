"""pg_dump and pg_restore: the right binaries, run without a password on the command line.

pg_dump refuses a server newer than itself, and an older pg_restore cannot read a newer
pg_dump's archive, so the tool is chosen by the server's major version: Debian's
/usr/lib/postgresql/<major>/bin first (the embedded cluster's own bindir is one of them),
else the one on PATH if it is at least that new. The connection goes through libpq's
environment (PGHOST, PGPASSWORD, ...): a DSN in argv would show its password in `ps`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from psycopg2.extensions import parse_dsn

from rigenera.cluster import find_bindir
from rigenera.errors import BackupFailed, ClusterError

# libpq connection keywords -> the environment variables libpq reads them from.
_LIBPQ_ENV = {
    "host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT", "dbname": "PGDATABASE",
    "user": "PGUSER", "password": "PGPASSWORD", "passfile": "PGPASSFILE",
    "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME", "options": "PGOPTIONS", "service": "PGSERVICE",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


def libpq_env(dsn: str) -> dict[str, str]:
    """The process environment for a libpq client connecting to `dsn`: the DSN's parts
    override, the rest of the environment stays (PGPASSWORD set by a container's
    entrypoint for a DATABASE_URL without password, PGSSLROOTCERT, ...)."""
    env = dict(os.environ)
    for key, value in parse_dsn(dsn).items():
        if key in _LIBPQ_ENV:
            env[_LIBPQ_ENV[key]] = str(value)
    env.setdefault("PGAPPNAME", "rigenera-backup")
    return env


def _major(program: Path) -> int | None:
    out = subprocess.run([str(program), "--version"], capture_output=True, text=True,
                         check=False)
    found = re.search(r"\) (\d+)", out.stdout)
    return int(found.group(1)) if out.returncode == 0 and found else None


def pg_tool(name: str, server_major: int) -> Path:
    """pg_dump or pg_restore for a server of this major version (or newer tools)."""
    candidates: list[Path] = [Path(f"/usr/lib/postgresql/{server_major}/bin") / name]
    try:
        bindir = find_bindir()
        candidates.append(bindir / "pg_dump" if name == "pg_dump" else bindir / "pg_restore")
    except ClusterError:
        pass  # no server binaries here: PATH may still have the client tools
    on_path = shutil.which("pg_dump") if name == "pg_dump" else shutil.which("pg_restore")
    if on_path:
        candidates.append(Path(on_path))
    for program in candidates:
        if program.is_file() and os.access(program, os.X_OK):
            major = _major(program)
            if major is not None and major >= server_major:
                return program
    raise BackupFailed(
        f"{name} per PostgreSQL {server_major} non trovato: installare il pacchetto "
        f"postgresql-client-{server_major} / {name} for PostgreSQL {server_major} not found: "
        f"install postgresql-client-{server_major}")


def run_tool(args: list[str], dsn: str) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL client tool against `dsn`; a failure raises with its stderr."""
    out = subprocess.run(args, capture_output=True, text=True, check=False, env=libpq_env(dsn))
    if out.returncode != 0:
        lines = out.stderr.strip().splitlines()
        # pg_restore prints "error:" lines, then the failing statement ("Command was: ...").
        errors = [line for line in lines if " error: " in line or line.startswith("ERROR")]
        tail = "\n".join(errors[:5] or lines[-8:])
        raise BackupFailed(f"{Path(args[0]).name} non riuscito / failed "
                           f"(exit {out.returncode}): {tail}")
    return out
