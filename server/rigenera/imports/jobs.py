"""Imports run by the API: in threads of their own, bounded, awaited or in the background.

The engine uses psycopg2 (blocking) and can take minutes, so it never runs on the event
loop nor in the loop's default executor (pygeoapi's reads run there). `ImportJobs` owns a
small pool (`RIGENERA_IMPORT_WORKERS` threads); at most `workers + QUEUE` imports wait or
run at once, beyond that 503 + Retry-After. `Prefer: respond-async` imports are
submitted with their `rigenera.imports` id; on shutdown the ones that have not started are
cancelled and their records marked failed ("server stopped"), the running ones are
waited for (at most SHUTDOWN_WAIT seconds, then logged: their transaction either commits
or is rolled back by PostgreSQL when the process ends, and the record says running until
an operator looks, see NOTES-api.md).
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import logging
import socket
import threading
from collections.abc import Callable
from importlib import resources
from typing import Any, TypeVar

import psycopg2

from rigenera.errors import ImportsBusy

LOG = logging.getLogger(__name__)
T = TypeVar("T")
QUEUE = 4  # imports that may wait for a worker
SHUTDOWN_WAIT = 60.0
ORPHAN_MESSAGE = ("Interrotta: il processo del server che la eseguiva è terminato; nulla è "
                  "stato scritto, ripetere l'importazione / interrupted: the server process "
                  "running it ended; nothing was written, run the import again")
_FAIL_SQL = resources.files("rigenera.sql").joinpath("imports_fail.sql").read_text()


def mark_failed(dsn: str, ids: list[int], message: str) -> None:
    """Records still `running` become `failed` with `message` (nothing else touched)."""
    if not ids:
        return
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(_FAIL_SQL, {"ids": ids, "message": message})
    finally:
        conn.close()


_RUNNING_SQL = ("SELECT DISTINCT worker FROM rigenera.imports WHERE status = 'running'"
                " AND worker LIKE %(host)s")


def fail_orphans(dsn: str) -> list[int]:
    """Start-up: imports left `running` by a process of this host that is gone (a worker
    killed or crashed, then restarted by the supervisor; a CLI import interrupted) will
    never finish; they are marked failed. A live sibling worker's imports are left alone
    (migration 0034). Returns the ids marked."""
    from rigenera.processes.jobs import dead_workers

    host = socket.gethostname().replace("%", r"\%").replace("_", r"\_")
    conn = psycopg2.connect(dsn, application_name="rigenera-imports")
    try:
        with conn, conn.cursor() as cur:
            cur.execute(_RUNNING_SQL, {"host": host + ":%"})
            dead = dead_workers([row[0] for row in cur.fetchall()])
            if not dead:
                return []
            cur.execute("SELECT id FROM rigenera.imports WHERE status = 'running'"
                        " AND worker = ANY (%s)", (dead,))
            ids = [row[0] for row in cur.fetchall()]
    finally:
        conn.close()
    mark_failed(dsn, ids, ORPHAN_MESSAGE)
    return ids


class ImportJobs:
    """The API's import threads and the background imports they run (see the module)."""

    def __init__(self, dsn: str, workers: int) -> None:
        self.dsn = dsn
        self.limit = workers + QUEUE
        self.executor = cf.ThreadPoolExecutor(workers, thread_name_prefix="rigenera-import")
        self.lock = threading.Lock()
        self.count = 0
        self.background: dict[int, cf.Future[None]] = {}
        try:
            orphans = fail_orphans(dsn)
        except psycopg2.Error as exc:  # the app starts without; the next start tries again
            LOG.warning("could not look for interrupted imports: %r", exc)
        else:
            if orphans:
                LOG.warning("imports %s, interrupted by the end of their process, marked "
                            "failed", orphans)

    def admit(self) -> None:
        """Count one more import, or 503 when `workers + QUEUE` are running or waiting."""
        with self.lock:
            if self.count >= self.limit:
                raise ImportsBusy()
            self.count += 1

    def release(self, _: object = None) -> None:
        with self.lock:
            self.count -= 1

    async def run(self, fn: Callable[[], T]) -> T:
        """`fn()` in an import thread, awaited (the caller's request waits for it)."""
        self.admit()
        try:
            future = self.executor.submit(fn)
        except BaseException:
            self.release()
            raise
        future.add_done_callback(self.release)
        return await asyncio.wrap_future(future)

    def submit(self, import_id: int, fn: Callable[[], Any],
               cleanup: Callable[[], None]) -> None:
        """`fn()` in the background for record `import_id`, already admitted (the caller
        admits before creating the record, so a 503 leaves no record behind); `cleanup()`
        runs after it in any case. An exception the engine did not record itself marks
        the record failed."""

        def job() -> None:
            try:
                fn()
            except Exception as exc:
                from rigenera.errors import RigeneraError

                if not isinstance(exc, RigeneraError) or int(exc.status) >= 500:
                    LOG.error("background import %s failed: %r", import_id, exc, exc_info=exc)
                # A refusal is in the record already (the engine saved its report); anything
                # else left it running: say it failed, with the user's message when any.
                message = (exc.description if isinstance(exc, RigeneraError) and
                           int(exc.status) < 500 else
                           "Errore interno durante l'importazione / internal error during "
                           "the import")
                mark_failed(self.dsn, [import_id], message)

        def done(_: cf.Future[None]) -> None:
            self.background.pop(import_id, None)
            self.release()
            cleanup()

        try:
            future = self.executor.submit(job)
        except BaseException:
            self.release()
            cleanup()
            raise
        self.background[import_id] = future
        future.add_done_callback(done)

    def close(self) -> None:
        """Shutdown: queued background imports are cancelled and marked failed, running
        ones are waited for (bounded)."""
        pending = dict(self.background)
        cancelled = [i for i, f in pending.items() if f.cancel()]
        try:
            mark_failed(self.dsn, cancelled, "Server arrestato prima dell'avvio: importazione "
                        "non eseguita / server stopped before the import started: not run")
        except psycopg2.Error as exc:
            LOG.warning("could not mark cancelled imports %s failed: %r", cancelled, exc)
        running = [f for i, f in pending.items() if i not in cancelled]
        if running:
            LOG.warning("waiting for %d running imports", len(running))
            _, left = cf.wait(running, timeout=SHUTDOWN_WAIT)
            if left:
                LOG.error("%d imports still running at shutdown", len(left))
        self.executor.shutdown(wait=False, cancel_futures=True)
