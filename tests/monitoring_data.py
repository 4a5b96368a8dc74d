"""Hand-built monitoring data for the monitoring tests, written by plain SQL.

Progress records and documents can be given the day they were recorded (`created_at`):
touch() would stamp now(), so those rows are written with triggers off
(session_replication_role = replica), which is how a fixture fakes the past.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable

import psycopg2

SOURCE = "test-monitoring"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def execute(dsn: str, sql: str, params: tuple[object, ...] = (), *, replica: bool = False) -> list:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        if replica:
            cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute(sql, params)
        rows = cur.fetchall() if cur.description else []
    conn.close()
    return rows


def project(dsn: str, title: str, istat_codes: Iterable[str], *, start: dt.date | None = None,
            end: dt.date | None = None, status: str = "works", granted: bool = True,
            funding_source: str = "pnrr") -> int:
    """A project in some comuni, with a funding line (granted or only requested), written in
    one transaction (a project needs its comuni by the commit)."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO rigenera.projects (title, status, start_date, end_date, source,"
                    " source_id) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                    (title, status, start, end, SOURCE, uuid.uuid4().hex))
        pid = int(cur.fetchone()[0])
        for code in istat_codes:
            cur.execute("INSERT INTO rigenera.project_comuni VALUES (%s, %s)", (pid, code))
        cur.execute("INSERT INTO rigenera.funding_lines (project_id, funding_source, status,"
                    " amount_eur, source) VALUES (%s, %s, %s, 1000000, %s)",
                    (pid, funding_source, "granted" if granted else "requested", SOURCE))
    conn.close()
    return pid


def progress(dsn: str, pid: int, reference: dt.date, phase: str, *,
             recorded: dt.date | None = None, pct: float = 10, spent: str | None = None) -> None:
    """A progress record; `recorded`: the day it was entered (default: now, by touch())."""
    if recorded is None:
        execute(dsn, "INSERT INTO rigenera.progress_reports (project_id, reference_date, phase,"
                     " physical_progress_pct, spent_eur, source) VALUES (%s, %s, %s, %s, %s, %s)",
                (pid, reference, phase, pct, spent, SOURCE))
        return
    execute(dsn, "INSERT INTO rigenera.progress_reports (project_id, reference_date, phase,"
                 " physical_progress_pct, spent_eur, source, created_at, updated_at)"
                 " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (pid, reference, phase, pct, spent, SOURCE, recorded, recorded), replica=True)


def document_row(dsn: str, pid: int, kind: str, phase: str, reference: dt.date | None,
                 recorded: dt.date) -> None:
    """A document's row only (the calendar reads rows, not bytes), entered on `recorded`."""
    execute(dsn, "INSERT INTO rigenera.documents (project_id, kind, phase, reference_date, title,"
                 " file_name, media_type, size_bytes, sha256, storage_key, source, created_at,"
                 " updated_at) VALUES (%s, %s, %s, %s, 't', 'x.pdf', 'application/pdf', 1, %s,"
                 " %s, %s, %s, %s)",
            (pid, kind, phase, reference, hashlib.sha256(b"x").hexdigest(),
             f"{pid}/{uuid.uuid4().hex}", SOURCE, recorded, recorded), replica=True)


def referent(dsn: str, istat_code: str, name: str, phone: str) -> int:
    return int(execute(dsn, "INSERT INTO rigenera.referents (istat_code, full_name, role, phone)"
                            " VALUES (%s, %s, 'RUP', %s) RETURNING id",
                       (istat_code, name, phone))[0][0])
