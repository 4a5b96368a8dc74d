"""The ``rigenera.imports`` record of an import, and its progress.

One record per import, dry runs and refusals included. Its id goes into the
transaction setting ``rigenera.import_id``, so every history row the import writes
points to it (the set-wise history triggers of 0010/0012). Progress is written by a
second, autocommit connection: the import's own transaction is open until the end,
and ``GET /api/imports/{id}`` must see rows_done move meanwhile.
"""

from __future__ import annotations

import json
import time
from typing import Any

import psycopg2
from psycopg2.extensions import connection as Connection
from psycopg2.extensions import cursor as Cursor

from rigenera.imports.frame import ImportOptions, ProgressCallback, SourceInfo
from rigenera.imports.report import Report
from rigenera.imports.schema import sql
from rigenera.processes.jobs import worker_name


def _params(report: Report) -> dict[str, Any]:
    return {"collection": report.collection, "file_name": report.file.name,
            "sha256": report.file.sha256, "format": report.file.format,
            "layer": report.file.layer, "crs": report.file.crs, "mapping": report.file.mapping,
            "actor": report.user, "dry_run": report.dry_run,
            "skip_invalid": report.skip_invalid, "rows_total": report.total}


def insert(cur: Cursor, report: Report, options: ImportOptions | None = None) -> int:
    """A new record (status running) in the cursor's transaction; returns its id."""
    # The process running it (host:pid): a worker starting up fails the records of
    # processes that are gone (jobs.fail_orphans, migration 0034).
    cur.execute(sql("record_insert"), {**_params(report), "worker": worker_name()})
    row = cur.fetchone()
    assert row is not None
    return int(row[0])


def create(dsn: str, collection: str, source: SourceInfo, options: ImportOptions,
           rows_total: int | None = None) -> int:
    """A record committed at once (status running): the API's asynchronous imports and
    run_import create it first, so progress and a refusal can be written next to it."""
    report = Report(collection=collection, file=source, user=options.actor,
                    dry_run=options.dry_run, skip_invalid=options.skip_invalid, total=rows_total)
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            return insert(cur, report, options)
    finally:
        conn.close()


def begin(cur: Cursor, report: Report, options: ImportOptions) -> None:
    """Mark the transaction as this import: set-wise history, actor, comment, record id."""
    cur.execute("SELECT set_config('rigenera.import', 'on', true),"
                " set_config('rigenera.actor', %s, true),"
                " set_config('rigenera.comment', %s, true),"
                " set_config('rigenera.import_id', %s, true)",
                (options.actor, report.file.name, str(report.id)))


def update(cur: Cursor, report: Report) -> None:
    """Write the report into its record (in the cursor's transaction)."""
    cur.execute(sql("record_update"), {
        **_params(report), "id": report.id, "status": report.status,
        "counts": json.dumps(report.counts), "report": json.dumps(report.to_json()),
        "rejected_csv": report.rejected_csv() if report.rejected else None,
        "rows_done": report.done, "finished_at": report.finished_at})


def save(dsn: str, report: Report) -> int:
    """Write a report in a transaction of its own (a refusal, after the import's
    transaction was rolled back); creates the record when it does not exist."""
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT 1 FROM rigenera.imports WHERE id = %s", (report.id,))
            if report.id is None or cur.fetchone() is None:
                report.id = insert(cur, report)
            update(cur, report)
        return int(report.id)
    finally:
        conn.close()


class ProgressWriter:
    """rows_done/rows_total of a record from an autocommit connection, at most every
    `every` rows or `seconds`, then the caller's own callback."""

    def __init__(self, dsn: str, import_id: int, then: ProgressCallback | None = None,
                 every: int = 5000, seconds: float = 1.0) -> None:
        self.conn: Connection = psycopg2.connect(dsn)
        self.conn.autocommit = True
        self.import_id = import_id
        self.then = then
        self.every = every
        self.seconds = seconds
        self.last = -1
        self.last_at = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if done == total or done - self.last >= self.every or now - self.last_at >= self.seconds:
            with self.conn.cursor() as cur:
                cur.execute("UPDATE rigenera.imports SET rows_done = %s,"
                            " rows_total = coalesce(%s, rows_total) WHERE id = %s",
                            (done, total, self.import_id))
            self.last, self.last_at = done, now
        if self.then is not None:
            self.then(done, total)

    def close(self) -> None:
        self.conn.close()
