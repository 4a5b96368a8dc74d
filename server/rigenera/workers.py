"""`rigenera serve --workers N`: several API processes over one database, one truth.

uvicorn's own supervisor runs the workers (`uvicorn.run("rigenera.main:create_app_from_env",
factory=True, workers=N)`): it binds the socket once, starts N spawned processes that
share it, restarts one that dies and ends them all on SIGTERM/SIGINT. No gunicorn: it
would add a dependency for the same supervision, and `rigenera run` stays one command.

What must happen once, the parent does before any worker starts (`prepare`):
- resolve the database: DATABASE_URL, or the embedded cluster, started here; the workers
  get the resolved DSN as DATABASE_URL, so none of them starts or probes the cluster;
- migrate (also once for several hosts: migrate.py holds an advisory lock);
- measure the extents and write pygeoapi's config + OpenAPI documents (atomically,
  ogc/config.py): every worker reads the same documents (`prepared_by_parent`);
- with N > 1, a fresh PROMETHEUS_MULTIPROC_DIR (runtime_dir/metrics) exported before a
  worker imports prometheus_client, so a scrape of any worker sums all of them.

Every piece of state the workers must share lives in PostgreSQL or is safe per process
(ARCHITECTURE.md, "State and workers"). The PID file names the parent; each worker also
registers itself under runtime_dir/workers while it serves, so `rigenera stop` ends the
workers even if the parent was killed without a chance to end them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import time
from pathlib import Path
from typing import Any

from rigenera.settings import Settings

LOG = logging.getLogger(__name__)
APP_FACTORY = "rigenera.main:create_app_from_env"
WORKER_HEADER = b"x-rigenera-worker"


def metrics_dir(settings: Settings) -> Path:
    return settings.runtime_dir / "metrics"


def workers_dir(settings: Settings) -> Path:
    return settings.runtime_dir / "workers"


def prepare(settings: Settings, workers: int) -> str:
    """Everything done once before the workers start (module docstring); the DSN."""
    from rigenera.factory import resolve_dsn
    from rigenera.migrate import migrate
    from rigenera.ogc.config import build_config, measure_extents, write_documents

    dsn = resolve_dsn(settings)
    applied = migrate(dsn)
    if applied:
        LOG.info("migrations applied: %s", ", ".join(applied))
    write_documents(settings, build_config(settings, dsn, measure_extents(dsn)))
    os.environ["DATABASE_URL"] = dsn  # the workers' Settings read it (settings.py)
    os.environ["RIGENERA_PREPARED_BY_PARENT"] = "true"
    if workers > 1:
        # prometheus_client's multiprocess mode: one file per worker and metric type in a
        # folder emptied at each start (files of a previous run would be summed forever).
        folder = metrics_dir(settings)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, mode=0o700)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    return dsn


def serve(settings: Settings, workers: int) -> None:
    """Prepare, then serve with `workers` processes (1: in this process, as before)."""
    import uvicorn

    dsn = prepare(settings, workers)
    options: dict[str, Any] = {
        "host": settings.host, "port": settings.port, "log_level": settings.log_level,
        "loop": "uvloop", "http": "httptools", "access_log": False,
        # our own logging (observability.py: text or JSON, redacted, request ids), set up by
        # the CLI in this process and by each spawned worker (main.create_app_from_env)
        "log_config": None,
        "forwarded_allow_ips": settings.forwarded_allow_ips}
    if workers == 1:
        from rigenera.factory import create_app

        worker = settings.model_copy(update={"database_url": dsn, "prepared_by_parent": True})
        uvicorn.run(create_app(worker, dsn), **options)
    else:
        shutil.rmtree(workers_dir(settings), ignore_errors=True)
        uvicorn.run(APP_FACTORY, factory=True, workers=workers, **options)


# --------------------------------------------------------------------------- registry
def register(settings: Settings) -> Path | None:
    """This worker's entry (an empty file named by its PID) while it serves. Creating an
    empty file is atomic: no reader ever sees half of it."""
    if not settings.prepared_by_parent:
        return None
    folder = workers_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    entry = folder / str(os.getpid())
    entry.touch()
    return entry


def registered(settings: Settings) -> list[int]:
    """PIDs of the registered workers that are still alive and still ours."""
    folder = workers_dir(settings)
    pids = [int(p.name) for p in folder.iterdir() if p.name.isdigit()] if folder.is_dir() else []
    return [pid for pid in pids if _ours(pid)]


def _ours(pid: int) -> bool:
    """Alive and started by a `rigenera serve` parent (the marker is in the environment it
    was started with): a recycled PID of another program is left alone."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"RIGENERA_PREPARED_BY_PARENT=true" in environ


def _alive(pid: int) -> bool:
    """Running (a zombie, ended but not yet reaped by its parent, counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def stop(settings: Settings, parent: int | None, timeout: float = 30.0) -> list[int]:
    """SIGTERM to the parent (which ends its workers), then to any registered worker
    left (the parent was killed); wait for all of them, at most `timeout` seconds.
    Returns the PIDs still alive (none, normally)."""
    if parent is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(parent, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while parent is not None and _alive(parent) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = registered(settings)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [pid for pid in left if _alive(pid)]
    still = ([parent] if parent is not None and _alive(parent) else []) + left
    if not still:
        shutil.rmtree(workers_dir(settings), ignore_errors=True)
    return still


# --------------------------------------------------------------------------- debug header
class WorkerHeader:
    """ASGI middleware: the answering process's PID in X-Rigenera-Worker (debug setting
    `worker_header`; the tests use it to see that every worker answers)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.value = str(os.getpid()).encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (WORKER_HEADER, self.value)]
            await send(message)

        await self.app(scope, receive, send_with_header)
