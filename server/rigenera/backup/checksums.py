"""Per-table row counts and content checksums, computed by PostgreSQL.

The same statements run in the backup's snapshot (the one pg_dump exports from) and on the
restored database, so "restored" means "the same rows", not "pg_restore said 0".
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import Any, TypedDict

import psycopg2
from psycopg2 import sql


class TableSum(TypedDict):
    rows: int
    md5: str


def _sql(name: str) -> str:
    return resources.files("rigenera.backup").joinpath("sql", name).read_text()


def fix_session(cur: Any) -> None:
    """Pin the settings a row's text depends on (time zone, date and float formats)."""
    cur.execute(_sql("session.sql"))


def _tables(cur: Any) -> list[tuple[str, str]]:
    """(qualified name, ORDER BY) of every table, largest first (tables.sql)."""
    fix_session(cur)
    cur.execute(_sql("tables.sql"))
    return [(qualified, order_by or 'md5(t::text) COLLATE "C"')
            for _schema, _name, qualified, order_by, _pages in cur.fetchall()]


def _checksum(cur: Any, qualified: str, order_by: str) -> TableSum:
    # Both fragments were quoted by PostgreSQL's format('%I') in tables.sql.
    cur.execute(sql.SQL(_sql("table_checksum.sql")).format(
        table=sql.SQL(qualified), order_by=sql.SQL(order_by)))
    rows, md5 = cur.fetchone()
    return {"rows": int(rows), "md5": str(md5)}


def table_checksums(cur: Any) -> dict[str, TableSum]:
    """{"schema.table": {"rows", "md5"}} for every table, in the cursor's transaction (the
    backup's: its snapshot is pg_dump's)."""
    return dict(sorted((q, _checksum(cur, q, o)) for q, o in _tables(cur)))


def table_checksums_parallel(dsn: str, jobs: int) -> dict[str, TableSum]:
    """The same on `jobs` connections at once, largest tables first: after a restore, when
    nothing else writes (rendering and hashing every row is CPU-bound: ~10 s for 200,000
    rows on one core)."""
    conns = [psycopg2.connect(dsn) for _ in range(max(1, jobs))]
    try:
        for conn in conns:
            conn.autocommit = True
            with conn.cursor() as cur:
                fix_session(cur)
        with conns[0].cursor() as cur:
            todo = _tables(cur)
        lock = threading.Lock()
        sums: dict[str, TableSum] = {}

        def work(conn: Any) -> None:
            with conn.cursor() as cur:
                while True:
                    with lock:
                        if not todo:
                            return
                        qualified, order_by = todo.pop(0)
                    result = _checksum(cur, qualified, order_by)
                    with lock:
                        sums[qualified] = result

        with ThreadPoolExecutor(len(conns)) as pool:
            for future in [pool.submit(work, conn) for conn in conns]:
                future.result()
        return dict(sorted(sums.items()))
    finally:
        for conn in conns:
            conn.close()


def sequence_values(cur: Any) -> dict[str, int | None]:
    """{"schema.sequence": last_value} (None: never used)."""
    cur.execute(_sql("sequences.sql"))
    return {name: (None if value is None else int(value)) for name, value in cur.fetchall()}


def differences(expected: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """Names of the tables (or sequences) whose entries differ, are missing or are extra."""
    return sorted(name for name in expected.keys() | found.keys()
                  if expected.get(name) != found.get(name))
