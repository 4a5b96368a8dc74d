"""The change feed (``GET /api/changes``): what changed in a collection after a point.

A client that checked features out (the QGIS plugin) remembers the last
sequence number it saw and asks for what came after, deletions included. The
sequence is ``rigenera.history.id``; only public facts leave: feature id,
operation, version and time, never who, why, or the values.

History ids are drawn when a write happens, not when it commits: a slow
transaction can commit id 10 after a quick one committed id 11. A client that
had read up to 11 would then never see 10. So the feed only answers up to a
*horizon* below which every id is settled: it reads the identity sequence's
last value, then waits (``LOCK ... IN SHARE MODE``, released at once) for the
transactions that are writing history at that moment, which are the only ones
that can hold an id at or below it. Writers are held only for that instant;
bulk imports write no history (they are traced by `source`) and are not in
the feed.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from rigenera.errors import DatabaseUnavailable, InvalidParameter

MAX_LIMIT = 10_000
# Longest wait for the writers in flight before answering 503 (a changeset of
# 1,000 updates takes well under a second: bench/writes.py).
LOCK_TIMEOUT = "10s"
_MAX_SEQ = 2**63 - 1


def _integer(name: str, raw: str | None, default: int, low: int, high: int) -> int:
    """A query-string integer in [low, high], or a 400 naming the parameter."""
    if raw is None:
        return default
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        raise InvalidParameter(
            f"{name}: atteso un intero da {low} a {high} / expected an integer from {low} to {high}",
            errors=[{"field": name, "reason": f"integer from {low} to {high}"}])
    return int(text)


def parse_params(after: str | None, limit: str | None) -> tuple[int, int]:
    return (_integer("after", after, 0, 0, _MAX_SEQ),
            _integer("limit", limit, MAX_LIMIT, 1, MAX_LIMIT))


async def _horizon(conn: asyncpg.Connection) -> int:
    """The highest history id at or below which every writer has finished."""
    async with conn.transaction():
        await conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        last = await conn.fetchval(
            "SELECT coalesce(pg_sequence_last_value("
            "pg_get_serial_sequence('rigenera.history', 'id')::regclass), 0)")
        try:
            await conn.execute("LOCK TABLE rigenera.history IN SHARE MODE")
        except asyncpg.LockNotAvailableError as exc:
            raise DatabaseUnavailable("Scritture in corso, riprovare / writes in progress, retry",
                                      headers={"Retry-After": "1"}, log_message=str(exc)) from exc
    return int(last)


async def change_feed(pool: asyncpg.Pool, collection: str, after: int, limit: int) -> dict[str, Any]:
    """The changes of `collection` with after < seq <= horizon, oldest first.

    `last` is the highest seq returned (else `after`); `latest` the highest seq of the
    collection up to the horizon (at least `after`): while last < latest, ask again
    with after=last.
    """
    async with pool.acquire() as conn:
        horizon = await _horizon(conn)
        rows = await conn.fetch(
            """SELECT id, feature_id, operation, version, at FROM rigenera.history
                WHERE collection = $1 AND id > $2 AND id <= $3 ORDER BY id LIMIT $4""",
            collection, after, horizon, limit)
        last = rows[-1]["id"] if rows else after
        latest = last
        if len(rows) == limit:  # a full page: there may be more, up to the horizon
            more = await conn.fetchval(
                "SELECT max(id) FROM rigenera.history WHERE collection = $1 AND id > $2"
                " AND id <= $3", collection, last, horizon)
            latest = max(latest, more or 0)
    return {
        "collection": collection,
        "changes": [{"seq": r["id"], "id": r["feature_id"], "operation": r["operation"],
                     "version": r["version"], "at": r["at"].isoformat()} for r in rows],
        "last": last,
        "latest": latest,
    }
