"""A Rigenera server with its own embedded PostGIS, driven by the `rigenera` CLI.

Shared by the plugin's tests (tests/plugin/conftest.py) and the plugin
benchmark (bench/plugin.py): both run under the system Python of PyQGIS,
while the server lives in the project's own venv (Python >= 3.12).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RIGENERA = ROOT / ".venv" / "bin" / "rigenera"
MILANO, SESTO = "015146", "015209"
PASSWORD = "una-password-lunga"
# username -> (role, comuni)
ACCOUNTS = {"admin": ("admin", []), "coord": ("coordinator", []),
            "tecnico": ("technician", [MILANO]), "tecnico2": ("technician", [MILANO]),
            "tecnico.sesto": ("technician", [SESTO]), "volontario": ("volunteer", [])}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RigeneraServer:
    """A Rigenera server with its own embedded PostGIS, driven by the CLI."""

    def __init__(self, state_dir: Path) -> None:
        if not RIGENERA.exists():
            raise RuntimeError(f"{RIGENERA} missing: run `make test` (it installs the server)")
        self.state_dir = state_dir
        self.port = free_port()
        self.pg_port = free_port()
        self.env = {k: v for k, v in os.environ.items()
                    if k not in {"DATABASE_URL", "QGIS_CUSTOM_CONFIG_PATH", "QT_QPA_PLATFORM"}}
        self.env.update({"RIGENERA_STATE_DIR": str(state_dir), "RIGENERA_PORT": str(self.port),
                         "RIGENERA_PG_PORT": str(self.pg_port), "RIGENERA_HOST": "127.0.0.1",
                         "RIGENERA_LOG_LEVEL": "warning"})
        self.proc: subprocess.Popen[bytes] | None = None
        self.dsn = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run([str(RIGENERA), *args], env=self.env, input=stdin, text=True,
                              capture_output=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"rigenera {' '.join(args)}: {done.stderr or done.stdout}")
        return done.stdout

    def setup(self, open_data: Path | None = None) -> None:
        """Cluster, schema, demo data (and the real open data of ``open_data``), accounts."""
        self.cli("db", "start")
        self.dsn = self.cli("db", "url").strip()
        self.cli("migrate")
        self.cli("load-demo")
        if open_data is not None:
            self.cli("load-open-data", str(open_data), "--keep-demo")  # tests use both
        for user, (role, comuni) in ACCOUNTS.items():
            args = ["user", "add", user, "--role", role, "--password-stdin"]
            if comuni:
                args += ["--comuni", ",".join(comuni)]
            self.cli(*args, stdin=PASSWORD + "\n")

    def start(self) -> None:
        log = open(self.state_dir / "serve.log", "ab")  # noqa: SIM115 (kept by the child)
        self.proc = subprocess.Popen([str(RIGENERA), "serve"], env=self.env, stdout=log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("rigenera serve ended: "
                                   + (self.state_dir / "serve.log").read_text()[-2000:])
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("rigenera serve did not answer /healthz in 60 s")

    def stop(self) -> None:
        """Stop the HTTP server we started (by its PID); the database keeps running."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self) -> None:
        self.stop()
        with contextlib.suppress(RuntimeError):
            self.cli("db", "stop")

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """Ask the source of truth directly (psycopg2 of the system Python)."""
        import psycopg2

        with psycopg2.connect(self.dsn) as conn, conn.cursor() as cur:
            cur.execute(query, params)
            rows = cur.fetchall() if cur.description else []
        conn.close()
        return rows

    def get_json(self, path: str, user: str | None = None) -> Any:
        """A plain HTTP read, independent of the plugin's client (for cross-checks)."""
        req = urllib.request.Request(self.url + path, headers={"Accept": "application/json"})
        if user:
            token = base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()
            req.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())
