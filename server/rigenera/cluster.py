"""The embedded PostGIS cluster: used when no DATABASE_URL is given.

The project owns a data directory and a port on 127.0.0.1. PostgreSQL refuses
to run as root, so when we are root every server-side command runs as the
unprivileged ``postgres`` system user (created by Debian's postgresql-common)
or, failing that, a ``rigenera`` system user we create. Authentication is
scram-sha-256 with a random password kept next to the data directory (mode
0600), so other local users cannot walk in through the loopback port.
"""

from __future__ import annotations

import contextlib
import grp
import hashlib
import logging
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from rigenera.errors import ClusterError

LOG = logging.getLogger(__name__)
SUPERUSER = "postgres"


def find_bindir() -> Path:
    """PostgreSQL's bin dir: never hard-code 15 (Debian 13 ships 17)."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(versions)
    for cand in candidates:
        if (cand / "initdb").exists() and (cand / "pg_ctl").exists():
            return cand
    raise ClusterError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian packages "
        "postgresql and postgis (make run / make test do it), or set DATABASE_URL."
    )


def _service_user() -> str | None:
    """The user the server runs as: None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "rigenera"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "rigenera"],
        check=True,
    )
    return "rigenera"


def _traversable_by(path: Path, user: str) -> bool:
    """Can `user` reach `path` (execute bit on every parent)?"""
    pw = pwd.getpwnam(user)
    groups = {g.gr_gid for g in grp.getgrall() if user in g.gr_mem} | {pw.pw_gid}
    for parent in [path, *path.parents]:
        if not parent.exists():
            continue
        st = parent.stat()
        if st.st_uid == pw.pw_uid:
            ok = bool(st.st_mode & 0o100)
        elif st.st_gid in groups:
            ok = bool(st.st_mode & 0o010)
        else:
            ok = bool(st.st_mode & 0o001)
        if not ok:
            return False
    return True


def port_is_free(port: int) -> bool:
    """Can a server listen on 127.0.0.1:port? SO_REUSEADDR as PostgreSQL itself sets it,
    so a port in TIME-WAIT after `make stop` counts as free."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LocalCluster:
    """A PostgreSQL cluster in a directory of ours, listening on 127.0.0.1 only."""

    base_dir: Path
    port: int
    database: str = "rigenera"
    fsync: bool = True

    def __post_init__(self) -> None:
        self.base_dir = self.base_dir.resolve()
        self.user = _service_user()
        self.bindir = find_bindir()

    # Locations --------------------------------------------------------------
    @property
    def server_dir(self) -> Path:
        """Data dir + log; moved out of the tree if the service user cannot reach it."""
        preferred = self.base_dir / "pg"
        if self.user is None or preferred.exists() or _traversable_by(self.base_dir, self.user):
            return preferred
        digest = hashlib.sha1(str(self.base_dir).encode()).hexdigest()[:12]  # noqa: S324
        return Path("/var/lib/rigenera") / digest

    @property
    def datadir(self) -> Path:
        return self.server_dir / "data"

    @property
    def logfile(self) -> Path:
        return self.server_dir / "postgresql.log"

    @property
    def password_file(self) -> Path:
        return self.base_dir / "pg-password"

    @property
    def password(self) -> str:
        return self.password_file.read_text().strip()

    @property
    def dsn(self) -> str:
        return f"postgresql://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{self.database}"

    # Commands ---------------------------------------------------------------
    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, object] = {}
        if self.user is not None:
            pw = pwd.getpwnam(self.user)
            kwargs = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        env = {**os.environ, "LC_ALL": "C.UTF-8", "PGTZ": "UTC"}
        out = subprocess.run(  # type: ignore[call-overload]
            list(args), capture_output=True, text=True, check=False, env=env, cwd="/", **kwargs
        )
        if check and out.returncode != 0:
            raise ClusterError(f"{Path(args[0]).name} failed: {out.stderr.strip() or out.stdout}")
        return out  # type: ignore[no-any-return]

    def _chown(self, path: Path) -> None:
        if self.user is not None:
            pw = pwd.getpwnam(self.user)
            os.chown(path, pw.pw_uid, pw.pw_gid)

    @property
    def initialised(self) -> bool:
        return (self.datadir / "PG_VERSION").exists() and self.password_file.exists()

    def init(self) -> None:
        """initdb with a random superuser password (0.7 s)."""
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.server_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._chown(self.server_dir)
        password = secrets.token_urlsafe(24)
        pwfile = self.server_dir / "initdb-pw"
        pwfile.write_text(password + "\n")
        pwfile.chmod(0o600)
        self._chown(pwfile)
        try:
            self._run(
                str(self.bindir / "initdb"), "-D", str(self.datadir), "-U", SUPERUSER,
                "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C.UTF-8",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        self.password_file.write_text(password + "\n")
        self.password_file.chmod(0o600)

    def running(self) -> bool:
        if not (self.datadir / "PG_VERSION").exists():
            return False
        out = self._run(str(self.bindir / "pg_ctl"), "status", "-D", str(self.datadir), check=False)
        return out.returncode == 0

    def start(self) -> None:
        if self.running():
            return
        if not port_is_free(self.port):
            raise ClusterError(
                f"port {self.port} on 127.0.0.1 is taken by another program: "
                "set RIGENERA_PG_PORT to a free port"
            )
        if not self.logfile.exists():
            self.logfile.touch()
            self._chown(self.logfile)
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.datadir}"
        if not self.fsync:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            str(self.bindir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.datadir),
            "-l", str(self.logfile), "-o", opts,
        )

    def stop(self) -> bool:
        """Stop the server; False when it was not running."""
        if not self.running():
            return False
        self._run(str(self.bindir / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.datadir))
        return True

    def ensure_database(self) -> None:
        """Create the project database if missing (retrying while the server warms up)."""
        import psycopg2

        admin_dsn = f"postgresql://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/postgres"
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = psycopg2.connect(admin_dsn)
                break
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{self.database}"')
        conn.close()

    def ensure(self) -> str:
        """Initialise, start and create the database as needed; return the DSN."""
        if not self.initialised:
            if (self.datadir / "PG_VERSION").exists():
                raise ClusterError(
                    f"{self.datadir} exists but its password file {self.password_file} is gone: "
                    "remove the folder to start afresh"
                )
            self.init()
        self.start()
        self.ensure_database()
        return self.dsn

    def replicate(self, base_dir: Path, port: int) -> LocalCluster:
        """A streaming replica of this (running) cluster in `base_dir`, listening on `port`
        (issue 13: tests and `bench/` start one; production uses docker-compose.yml).

        pg_basebackup -R copies the data dir over the replication protocol and writes
        standby.signal + primary_conninfo, so the copy starts as a hot standby that
        follows this cluster's WAL. Same superuser password (it is a byte copy)."""
        replica = LocalCluster(base_dir, port, self.database, fsync=self.fsync)
        if replica.initialised:
            return replica
        replica.base_dir.mkdir(parents=True, exist_ok=True)
        replica.server_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        replica._chown(replica.server_dir)
        conninfo = (f"host=127.0.0.1 port={self.port} user={SUPERUSER} "
                    f"password={self.password} application_name=replica_{port}")
        self._run(str(self.bindir / "pg_basebackup"), "-D", str(replica.datadir),
                  "-d", conninfo, "-R", "-X", "stream", "-c", "fast")
        shutil.copy2(self.password_file, replica.password_file)
        return replica

    @property
    def is_replica(self) -> bool:
        return (self.datadir / "standby.signal").exists()

    def destroy(self) -> None:
        """Stop and delete everything (throwaway test clusters)."""
        with contextlib.suppress(ClusterError):
            self.stop()
        shutil.rmtree(self.server_dir, ignore_errors=True)
        shutil.rmtree(self.base_dir, ignore_errors=True)
