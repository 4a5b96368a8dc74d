"""The change feed (``GET /api/changes``): what changed in a collection after a cursor.

A client that checked features out (the QGIS plugin) remembers the cursor of the
last change it saw and asks for what came after, deletions included. Only public
facts leave: feature id, operation, version and time, never who, why, or the values.

History ids are drawn when a write happens, not when it commits, so they cannot
order the feed: a slow transaction can commit id 10 after a quick one committed
id 11, and a client that had read up to 11 would never see 10. Instead each
history row records its transaction (``xid``, migration 0010) and the feed
delivers only rows of transactions older than every transaction still running
(``pg_snapshot_xmin`` of the current snapshot: all of them have finished),
ordered by (xid, id). Any row not yet visible belongs to a transaction with
xid >= that horizon, so it sorts after everything delivered: nothing is skipped,
and no lock is taken, so a writer never waits for the feed nor the feed for a
writer. The price: while a write transaction stays open, changes committed after
it started are held back until it ends.

The cursor is ``"<xid>:<id>"``, opaque to clients. History written before
migration 0010 has xid 0, so an old integer cursor ``n`` means ``"0:n"``.
Creation rows that migration 0010 reconstructed are not in the feed (nothing
changed); those that imports write are (the features did change).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import asyncpg

from rigenera.errors import InvalidParameter

MAX_LIMIT = 10_000
_MAX_ID = 2**63 - 1
_MAX_XID = 2**64 - 1
_CURSOR = re.compile(r"(?:([0-9]{1,20}):)?([0-9]{1,19})")


class Cursor(NamedTuple):
    """A position in the feed: the writing transaction, then the history id."""

    xid: int
    id: int

    def __str__(self) -> str:
        return f"{self.xid}:{self.id}"


START = Cursor(0, 0)


def _bad(name: str, reason: str) -> InvalidParameter:
    return InvalidParameter(f"{name}: {reason}", errors=[{"field": name, "reason": reason}])


def parse_cursor(raw: str | None) -> Cursor:
    """``after``: a cursor from an earlier answer, an old integer sequence, or nothing."""
    if raw is None or raw.strip() == "":
        return START
    m = _CURSOR.fullmatch(raw.strip())
    xid, fid = (int(m.group(1) or 0), int(m.group(2))) if m else (-1, -1)
    if not m or xid > _MAX_XID or fid > _MAX_ID:
        raise _bad("after", "atteso un cursore restituito dal feed (\"last\"/\"latest\") / "
                            "expected a cursor the feed returned (\"last\"/\"latest\")")
    return Cursor(xid, fid)


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return MAX_LIMIT
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise _bad("limit", f"atteso un intero da 1 a {MAX_LIMIT} / "
                            f"expected an integer from 1 to {MAX_LIMIT}")
    return int(text)


def parse_params(after: str | None, limit: str | None) -> tuple[Cursor, int]:
    return parse_cursor(after), parse_limit(limit)


_PAGE = """
SELECT id, xid::text AS tx, feature_id, operation, version, at FROM rigenera.history
 WHERE collection = $1 AND NOT reconstructed
   AND (xid, id) > ($2::text::xid8, $3::bigint) AND xid < $4::text::xid8
 ORDER BY xid, id LIMIT $5"""
_LATEST = """
SELECT id, xid::text AS tx FROM rigenera.history
 WHERE collection = $1 AND NOT reconstructed
   AND (xid, id) > ($2::text::xid8, $3::bigint) AND xid < $4::text::xid8
 ORDER BY xid DESC, id DESC LIMIT 1"""


async def change_feed(pool: asyncpg.Pool, collection: str, after: Cursor,
                      limit: int) -> dict[str, Any]:
    """The settled changes of `collection` after the cursor `after`, oldest first.

    `last` is the cursor of the last change returned (else `after`); `latest` that of
    the newest settled change (at least `after`): while last != latest, ask again
    with after=last.
    """
    async with pool.acquire() as conn:
        # Every transaction below the horizon has ended: its rows are visible to the
        # statements that follow, and nothing can still be written below it.
        horizon = await conn.fetchval("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
        rows = await conn.fetch(_PAGE, collection, str(after.xid), after.id, horizon, limit)
        last = Cursor(int(rows[-1]["tx"]), rows[-1]["id"]) if rows else after
        latest = last
        if len(rows) == limit:  # a full page: there may be more, up to the horizon
            top = await conn.fetchrow(_LATEST, collection, str(last.xid), last.id, horizon)
            if top is not None:
                latest = Cursor(int(top["tx"]), top["id"])
    return {
        "collection": collection,
        "changes": [{"seq": r["id"], "cursor": f"{r['tx']}:{r['id']}", "id": r["feature_id"],
                     "operation": r["operation"], "version": r["version"],
                     "at": r["at"].isoformat()} for r in rows],
        "last": str(last),
        "latest": str(latest),
    }
