"""Per-table row counts and content checksums, computed by PostgreSQL.

The same statements run in the backup's snapshot (the one pg_dump exports from) and on the
restored database, so "restored" means "the same rows", not "pg_restore said 0".
"""

from __future__ import annotations

from importlib import resources
from typing import Any, TypedDict

from psycopg2 import sql


class TableSum(TypedDict):
    rows: int
    md5: str


def _sql(name: str) -> str:
    return resources.files("rigenera.backup").joinpath("sql", name).read_text()


def fix_session(cur: Any) -> None:
    """Pin the settings a row's text depends on (time zone, date and float formats)."""
    cur.execute(_sql("session.sql"))


def table_checksums(cur: Any) -> dict[str, TableSum]:
    """{"schema.table": {"rows", "md5"}} for every table of the database (tables.sql)."""
    fix_session(cur)
    cur.execute(_sql("tables.sql"))
    tables = cur.fetchall()
    template = _sql("table_checksum.sql")
    sums: dict[str, TableSum] = {}
    for _schema, _name, qualified, order_by in tables:
        # Both fragments were quoted by PostgreSQL's format('%I') in tables.sql.
        statement = sql.SQL(template).format(
            table=sql.SQL(qualified), order_by=sql.SQL(order_by or "md5(t::text)"))
        cur.execute(statement)
        rows, md5 = cur.fetchone()
        sums[qualified] = {"rows": int(rows), "md5": str(md5)}
    return sums


def sequence_values(cur: Any) -> dict[str, int | None]:
    """{"schema.sequence": last_value} (None: never used)."""
    cur.execute(_sql("sequences.sql"))
    return {name: (None if value is None else int(value)) for name, value in cur.fetchall()}


def differences(expected: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """Names of the tables (or sequences) whose entries differ, are missing or are extra."""
    return sorted(name for name in expected.keys() | found.keys()
                  if expected.get(name) != found.get(name))
