"""The job store of asynchronous process executions: rigenera.process_jobs (migration 0018).

One short psycopg2 connection per call: jobs are few and slow, the store is written at
accept, start and end of each (a pool would hold connections for nothing). Results are
kept in the row (bytea), so they survive a restart of the app and every server process
sees them. Timestamps leave as ISO 8601 text in UTC, the form pygeoapi's job pages and
its sorting expect.
"""

from __future__ import annotations

import json
import os
import socket
from importlib import resources
from typing import Any

import psycopg2
import psycopg2.extras

_SQL = {name: resources.files("rigenera.processes").joinpath(f"sql/jobs_{name}.sql").read_text()
        for name in ("add", "update", "list", "orphans")}
_DELETE_SQL = "DELETE FROM rigenera.process_jobs WHERE identifier = %(identifier)s"
_RESULT_SQL = ("SELECT status, mimetype, output, error_status, error"
               " FROM rigenera.process_jobs WHERE identifier = %(identifier)s")
# Finished jobs (and their results) are kept this long, then deleted at a start-up.
RETENTION_DAYS = 30
_PURGE_SQL = ("DELETE FROM rigenera.process_jobs WHERE status IN ('successful', 'failed')"
              " AND finished < now() - make_interval(days => %(days)s)")
_WORKERS_SQL = ("SELECT DISTINCT worker FROM rigenera.process_jobs"
                " WHERE status IN ('accepted', 'running') AND worker LIKE %(host)s")


def worker_name() -> str:
    """host:pid of this server process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def dead_workers(workers: list[str]) -> list[str]:
    """The `host:pid` names of this host whose process is gone (also used for imports)."""
    host = socket.gethostname()
    return [w for w in workers
            if w.rpartition(":")[0] == host and w.rpartition(":")[2].isdigit()
            and not _alive(int(w.rpartition(":")[2]))]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobStore:
    """Reads and writes rigenera.process_jobs."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    def _run(self, sql: str, params: dict[str, Any], fetch: bool = False) -> Any:
        conn = psycopg2.connect(self.dsn, application_name="rigenera-jobs")
        try:
            with conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                cur.execute(sql, params)
                return cur.fetchall() if fetch else cur.rowcount
        finally:
            conn.close()

    def add(self, identifier: str, process_id: str, parameters: Any, response: str) -> None:
        self._run(_SQL["add"], {"identifier": identifier, "process_id": process_id,
                                "parameters": json.dumps(parameters), "response": response,
                                "worker": worker_name()})

    def update(self, identifier: str, status: str, message: str, progress: int, *,
               mimetype: str | None = None, output: bytes | None = None,
               error_status: int | None = None, error: dict[str, Any] | None = None) -> bool:
        return bool(self._run(_SQL["update"], {
            "identifier": identifier, "status": status, "message": message,
            "progress": progress, "mimetype": mimetype,
            "output": psycopg2.Binary(output) if output is not None else None,
            "error_status": error_status, "error": json.dumps(error) if error else None}))

    def jobs(self, identifier: str | None = None, status: str | None = None,
             limit: int | None = None, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        rows = self._run(_SQL["list"], {"identifier": identifier, "status": status,
                                        "limit": limit, "offset": offset}, fetch=True)
        matched = int(rows[0]["matched"]) if rows else 0
        return [{k: v for k, v in r.items() if k != "matched"} for r in rows], matched

    def result(self, identifier: str) -> dict[str, Any] | None:
        rows = self._run(_RESULT_SQL, {"identifier": identifier}, fetch=True)
        if not rows:
            return None
        row = dict(rows[0])
        if row["output"] is not None:
            row["output"] = bytes(row["output"])
        return row

    def delete(self, identifier: str) -> bool:
        return bool(self._run(_DELETE_SQL, {"identifier": identifier}))

    def purge(self) -> int:
        """Finished jobs older than RETENTION_DAYS go (start-up)."""
        return int(self._run(_PURGE_SQL, {"days": RETENTION_DAYS}))

    def fail_orphans(self) -> int:
        """Jobs of this host whose server process is gone are failed (start-up)."""
        host = socket.gethostname()
        rows = self._run(_WORKERS_SQL, {"host": host.replace("%", r"\%") + ":%"}, fetch=True)
        dead = dead_workers([r["worker"] for r in rows])
        if not dead:
            return 0
        return int(self._run(_SQL["orphans"], {"workers": dead}))
