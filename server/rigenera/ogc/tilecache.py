"""The tile cache: generated vector tiles kept until an edit touches them.

Why: the low-zoom tiles of 100,000 sites cost PostGIS 0.3-0.6 s each, and QGIS's first
drawing of the metro area asked for them every morning. Tiles are kept in memory (a
bounded LRU per worker) and on disk under ``tile_cache_dir`` (bounded, atomic writes,
shared by every worker of the machine), keyed on ``(layer, z, x, y)`` under a
*version* of everything that shapes a tile: the tile SQL of every layer, the
definitions of the ``tiles`` views, the schema's migration level and PostGIS's version,
and the database's history (cluster, database, timeline). A new release, a migration,
a PostGIS upgrade, a restore or a point-in-time recovery starts a new directory.

Exactness. Every entry carries the PostgreSQL snapshot of the statement that built
it (sql/tile.sql). Triggers (migration 0032) record in ``rigenera.tile_changes`` the
layer, the Web Mercator box of the old and of the new geometry, and the transaction id
of every write to a table a tile layer reads. Before an entry is served,
sql/tile_valid.sql asks, on the connection the tile would be read from: is there a
change visible now, of this layer, by a transaction the entry's snapshot did not see,
whose box touches the tile (plus its MVT buffer)? None: the tile built now would be the
same bytes, so the entry is served and re-stamped with the current snapshot. Commit
order does not matter (visibility is asked of the snapshot, not of a counter), and a
physical replica has the primary's transaction ids and the same rows. On a hot standby
the stamp is the conservative ``xmin:xmin:`` (the standby's snapshot does not list the
running transactions), so an entry also keeps ``seen``: the transactions at or after
xmin whose changes near the tile its statement saw. Without it, a single long
transaction on the primary (holding xmin back) made every tile near recent edits stale
at every read on a replica.

What it costs: one small indexed query per served tile, instead of the tile's
statement; a 304 still needs it (the ETag of a tile that changed must change).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import tempfile
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import asyncpg

from rigenera import metrics

LOG = logging.getLogger(__name__)
VALID_SQL = resources.files("rigenera.sql").joinpath("tile_valid.sql").read_text()
# Web Mercator's half-width: a tile at zoom z is 2 * HALF / 2**z metres wide.
HALF_WORLD = 20037508.342789244
# The envelope checked is the tile's plus 1/32 of its width: the MVT buffer is 64 of
# 4096 units (1/64); the rest is margin for rounding, never a missed change.
EXPAND = 1 / 32
# The disk format (also part of cache_version: a new format starts a new directory).
# RGT2: snapshot, seen, etag, bytes.
MAGIC = b"RGT2\n"
ENTRY_OVERHEAD = 256  # bytes per memory entry besides the tile (key, snapshot, etag)
# At most this many `seen` transactions per entry (sql/tile.sql); more, and the entry
# keeps none: still exact, only conservative, so bounded in size (a long transaction on
# the primary with thousands of edits near a low-zoom tile would otherwise grow it).
SEEN_MAX = 512
NO_SEEN = "{}"

TileKey = tuple[str, int, int, int]  # layer, z, x, y


@dataclass
class Entry:
    data: bytes
    etag: str
    snapshot: str  # pg_snapshot text: what the bytes have seen
    # xid8[] text: transactions at or after the snapshot's xmin the bytes have seen too
    # (a hot standby's stamp counts them all as unseen); "{}" on the primary
    seen: str = NO_SEEN

    @property
    def size(self) -> int:
        return (len(self.data) + len(self.snapshot) + len(self.seen) + len(self.etag)
                + ENTRY_OVERHEAD)


def tile_etag(data: bytes) -> str:
    return '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'


def expand_for(z: int) -> float:
    return 2 * HALF_WORLD / float(1 << z) * EXPAND


async def cache_version(conn: asyncpg.Connection, layer_sql: dict[str, str]) -> str:
    """A hash of everything that makes a tile's bytes (see the module's docstring)."""
    row = await conn.fetchrow(
        """SELECT postgis_lib_version() AS postgis,
                  (SELECT max(version) FROM rigenera.schema_migrations)::text AS schema,
                  (SELECT string_agg(viewname || ':' || definition, '|' ORDER BY viewname)
                     FROM pg_views WHERE schemaname = 'tiles') AS views,
                  (SELECT system_identifier FROM pg_control_system())::text
                    || '/' || (SELECT oid FROM pg_database
                                WHERE datname = current_database())::text
                    || '/' || (SELECT timeline_id FROM pg_control_checkpoint())::text
                    AS history""")
    assert row is not None
    h = hashlib.sha256()
    # `history`: snapshots and transaction ids mean something only within one line of
    # one database's history. A restore (a new cluster or database), or a point-in-time
    # recovery (a new timeline: the ids after its target are handed out again) starts a
    # new cache; a physical replica shares all three with its primary, and its cache.
    for part in (MAGIC.decode(), row["postgis"], row["schema"], row["views"] or "",
                 row["history"],
                 *(f"{k}:{v}" for k, v in sorted(layer_sql.items()))):
        h.update(str(part).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


@dataclass
class Stats:
    hits: int = 0
    misses: int = 0
    stale: int = 0
    prewarm: dict[str, object] = field(default_factory=dict)


class TileCache:
    """Memory LRU in front of a disk directory; validity asked of PostgreSQL."""

    def __init__(self, directory: Path | None, memory_bytes: int, disk_bytes: int) -> None:
        self.root = directory
        self.memory_bytes = memory_bytes
        self.disk_bytes = disk_bytes
        self.version = ""
        self.memory: OrderedDict[TileKey, Entry] = OrderedDict()
        self.memory_used = 0
        self.written_since_sweep = 0
        self.stats = Stats()

    def start(self, version: str) -> None:
        self.version = version
        if self.root is not None:
            self.dir.mkdir(parents=True, exist_ok=True)

    @property
    def dir(self) -> Path:
        assert self.root is not None
        return self.root / self.version

    def path(self, key: TileKey) -> Path:
        layer, z, x, y = key
        return self.dir / layer / str(z) / str(x) / f"{y}.mvt"

    # ------------------------------------------------------------------ look-up
    def get(self, key: TileKey) -> Entry | None:
        entry = self.memory.get(key)
        if entry is not None:
            self.memory.move_to_end(key)
            return entry
        if self.root is None:
            return None
        try:
            raw = self.path(key).read_bytes()
        except OSError:
            return None
        entry = _decode(raw)
        if entry is not None:
            self._remember(key, entry)
        return entry

    async def check(self, conn: asyncpg.Connection, key: TileKey, entry: Entry) -> bool:
        """Is `entry` what the tile's statement would build now? Re-stamps it when so."""
        layer, z, x, y = key
        row = await conn.fetchrow(VALID_SQL, layer, z, x, y, entry.snapshot, expand_for(z),
                                  entry.seen, SEEN_MAX)
        assert row is not None
        if not row["valid"]:
            self.stats.stale += 1
            metrics.CACHE.labels(cache="tiles", result="stale").inc()
            metrics.CACHE_INVALIDATED.labels(cache="tiles").inc()
            self.drop(key)
            return False
        self.stats.hits += 1
        metrics.CACHE.labels(cache="tiles", result="hit").inc()
        entry.snapshot, entry.seen = row["now"], row["now_seen"]
        if row["aging"] and self.root is not None:
            # Would be older than the horizon after the next pruning: keep the disk copy
            # current, so a restart or another worker still finds it valid.
            self._write(key, entry)
        return True

    def miss(self) -> None:
        self.stats.misses += 1
        metrics.CACHE.labels(cache="tiles", result="miss").inc()

    # ------------------------------------------------------------------ storing
    def put(self, key: TileKey, entry: Entry) -> None:
        self._remember(key, entry)
        if self.root is not None:
            self._write(key, entry)

    def drop(self, key: TileKey) -> None:
        entry = self.memory.pop(key, None)
        if entry is not None:
            self.memory_used -= entry.size
        if self.root is not None:
            with contextlib.suppress(OSError):
                self.path(key).unlink()

    def _remember(self, key: TileKey, entry: Entry) -> None:
        if entry.size > self.memory_bytes:
            return
        old = self.memory.pop(key, None)
        if old is not None:
            self.memory_used -= old.size
        self.memory[key] = entry
        self.memory_used += entry.size
        while self.memory_used > self.memory_bytes and self.memory:
            _, evicted = self.memory.popitem(last=False)
            self.memory_used -= evicted.size

    def _write(self, key: TileKey, entry: Entry) -> None:
        """Atomic: a temporary file in the same directory, then rename (readers in other
        workers see the old file or the new one, never half of one)."""
        if len(entry.data) > self.disk_bytes:
            return
        target = self.path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(_encode(entry))
                os.replace(tmp, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:  # a full or read-only disk: the memory copy still serves
            LOG.warning("tile cache: cannot write %s: %s", target, exc)
            return
        self.written_since_sweep += len(entry.data)

    def sweep(self) -> int:
        """Keep the directory under disk_bytes: least recently written files go first
        (other versions' directories included). Returns the bytes removed."""
        if self.root is None or not self.root.exists():
            return 0
        self.written_since_sweep = 0
        files: list[tuple[float, int, Path]] = []
        for path in self.root.rglob("*.mvt"):
            with contextlib.suppress(OSError):
                st = path.stat()
                files.append((st.st_mtime, st.st_size, path))
        total = sum(size for _, size, _ in files)
        removed = 0
        if total <= self.disk_bytes:
            return 0
        goal = self.disk_bytes * 0.9
        for _, size, path in sorted(files):
            if total - removed <= goal:
                break
            with contextlib.suppress(OSError):
                path.unlink()
                removed += size
        return removed

    def needs_sweep(self) -> bool:
        return self.root is not None and self.written_since_sweep > self.disk_bytes / 10


def _encode(entry: Entry) -> bytes:
    return b"".join((MAGIC, entry.snapshot.encode(), b"\n", entry.seen.encode(), b"\n",
                     entry.etag.encode(), b"\n", entry.data))


def _decode(raw: bytes) -> Entry | None:
    if not raw.startswith(MAGIC):
        return None
    parts = raw[len(MAGIC):].split(b"\n", 3)
    if len(parts) != 4:
        return None
    snapshot, seen, etag, data = parts
    entry = Entry(data, etag.decode(), snapshot.decode(), seen.decode())
    # A torn or tampered file (the ETag is the hash of the bytes) is not an entry.
    return entry if tile_etag(data) == entry.etag else None


def metro_tiles(extent: tuple[float, float, float, float], max_zoom: int) -> Iterable[
        tuple[int, int, int]]:
    """(z, x, y) of every tile covering a Web Mercator extent, zoom 0 to max_zoom."""
    xmin, ymin, xmax, ymax = extent
    for z in range(max_zoom + 1):
        n = 1 << z
        width = 2 * HALF_WORLD / n

        def col(v: float, n: int = n, width: float = width) -> int:
            return min(n - 1, max(0, int((v + HALF_WORLD) // width)))

        def row(v: float, n: int = n, width: float = width) -> int:
            return min(n - 1, max(0, int((HALF_WORLD - v) // width)))

        for x in range(col(xmin), col(xmax) + 1):
            for y in range(row(ymax), row(ymin) + 1):
                yield z, x, y


class Timer:
    def __init__(self) -> None:
        self.start = time.monotonic()

    def __call__(self) -> float:
        return round(time.monotonic() - self.start, 3)


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Wait `seconds` unless stopped first; True when stopped."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()
