"""Shared import machinery: set-wise upserts keyed on (source, source_id).

Rows are sent in one batch to a temporary staging table, then merged with a
single ``INSERT ... ON CONFLICT`` statement: re-running an import updates rows
in place instead of duplicating them, and a bad row aborts the whole file
(the transaction is the caller's), leaving the database as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg2
from psycopg2.extensions import cursor as Cursor
from psycopg2.extras import execute_values
from shapely.geometry.base import BaseGeometry

from rigenera.errors import ImportDataError


def begin_import(cur: Cursor, loader: str, comment: str | None = None) -> None:
    """Mark the transaction as a bulk import of external data by `loader`.

    History is written set-wise, one INSERT ... SELECT per statement (migration
    0010), instead of a trigger call per row (FACTS.md: row triggers on 100k
    imported rows cost ~16 s); its actor is ``import:<loader>``. External layers may
    reach past the metro boundary (bus lines into Monza e Brianza)."""
    cur.execute("SELECT set_config('rigenera.import', 'on', true),"
                " set_config('rigenera.actor', %s, true)", (f"import:{loader}",))
    if comment is not None:
        import_note(cur, comment)


def import_note(cur: Cursor, comment: str) -> None:
    """The comment of the history rows written from here on (the file being loaded)."""
    cur.execute("SELECT set_config('rigenera.comment', %s, true)", (comment,))


def wkb(geom: BaseGeometry | None) -> bytes | None:
    """Geometry as WKB bytes for ST_GeomFromWKB (None stays None)."""
    if geom is None or geom.is_empty:
        return None
    return bytes(geom.wkb)


def comuni_of(cur: Cursor, geoms: Sequence[BaseGeometry]) -> list[str | None]:
    """rigenera.comune_of() of each geometry, in one round trip (None outside the area).

    Computed before the upsert rather than with a later UPDATE, so that a first
    import writes version 1 and an identical re-import writes nothing.
    """
    cur.execute(
        "SELECT rigenera.comune_of(ST_SetSRID(ST_GeomFromWKB(g), 4326))"
        " FROM unnest(%s::bytea[]) WITH ORDINALITY AS t(g, i) ORDER BY i",
        ([psycopg2.Binary(wkb(g)) for g in geoms],))
    return [r[0] for r in cur.fetchall()]


def upsert(
    cur: Cursor,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    key: Sequence[str] = ("source", "source_id"),
    geom_column: str | None = "geom",
    geom_sql: str = "ST_SetSRID(ST_GeomFromWKB({}), 4326)",
    returning: str | None = None,
) -> list[tuple[Any, ...]]:
    """Insert or update `rows` of `table`; geometry (WKB) is the last column if given."""
    rows = list(rows)
    if not rows:
        return []
    all_cols = [*columns, geom_column] if geom_column else list(columns)
    values_sql = []
    for c in all_cols:
        if c == geom_column:
            values_sql.append(geom_sql.format("%s::bytea"))
        else:
            values_sql.append("%s")
    template = "(" + ", ".join(values_sql) + ")"
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in all_cols if c not in key)
    # Only touch rows whose content changed, so re-imports keep versions stable.
    changed = " OR ".join(f"{table}.{c} IS DISTINCT FROM EXCLUDED.{c}" for c in all_cols if c not in key)
    sql = (
        f"INSERT INTO {table} ({', '.join(all_cols)}) VALUES %s "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates} WHERE {changed}"
    )
    if returning:
        sql += f" RETURNING {returning}"
    try:
        result = execute_values(cur, sql, rows, template=template, page_size=1000, fetch=bool(returning))
    except Exception as exc:
        diag = getattr(exc, "diag", None)
        detail = getattr(diag, "message_primary", None) or str(exc)
        raise ImportDataError(f"{table}: {detail}") from exc
    return list(result or [])
