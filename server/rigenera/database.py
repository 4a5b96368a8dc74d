"""Connection pools for our own routes (asyncpg), opened in the app lifespan.

Three roles, as in stac-fastapi-pgstac (reads and writes never queue behind each other):
- ``write``: the primary, for transactions that change data;
- ``fresh``: the primary too, for reads that must see the latest commit whoever made it
  (credentials, sessions, login throttle, the checks before a write, job status);
- ``read``: everything else. With DATABASE_READ_URLS it is a ``ReadRouter``
  (replicas.py) over one pool per streaming replica, falling back to ``fresh``; without
  replicas it *is* the ``fresh`` pool, so a single-database install pays nothing.

pygeoapi's provider and the psycopg2 work in threads (processes, exports, reports,
evaluation) cannot use an asyncpg pool: ``thread_read`` and ``sync_read`` hand them a
replica's DSN (or the primary's) and run them again on the primary if it goes away.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import anyio
import asyncpg

from rigenera import metrics
from rigenera.errors import DatabaseUnavailable

if TYPE_CHECKING:
    from rigenera.replicas import ReadRouter
    from rigenera.settings import Settings


# The WAL position the current request's reads must see (read-your-writes), set by the
# ReadMarks middleware (readmarks.py) from the caller's last write; None: any replica.
# A contextvar, so it follows the request into pygeoapi's and our worker threads.
MIN_LSN: ContextVar[int | None] = ContextVar("rigenera_min_lsn", default=None)


def parse_lsn(text: str) -> int:
    """PostgreSQL's text form of an LSN ("16/B374D848") as the integer asyncpg uses."""
    high, sep, low = text.strip().partition("/")
    if not sep or not (0 < len(high) <= 8 and 0 < len(low) <= 8):
        raise ValueError(f"not an LSN: {text[:40]!r}")
    return (int(high, 16) << 32) | int(low, 16)


def format_lsn(lsn: int) -> str:
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


@dataclass
class Pools:
    write: asyncpg.Pool
    fresh: asyncpg.Pool
    read: asyncpg.Pool | ReadRouter
    router: ReadRouter | None = None  # the same object as `read` when there are replicas
    _closed: bool = field(default=False, repr=False)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.router is not None:
            await self.router.close()  # its monitor task and the replicas' pools
        await self.fresh.close()
        await self.write.close()

    def publish_sizes(self) -> None:
        """Pool gauges (metrics.POOL_SIZE/POOL_IN_USE): refreshed after every replica check;
        a /metrics scrape may call it too (one database: nothing else does)."""
        for name, pool in (("primary-write", self.write), ("primary-read", self.fresh)):
            size = pool.get_size()
            metrics.POOL_SIZE.labels(name).set(size)
            metrics.POOL_IN_USE.labels(name).set(size - pool.get_idle_size())
        if self.router is not None:
            self.router.publish_sizes()


# Session settings of every pooled connection. Parallel workers and JIT cost more than
# they save on page-sized queries at web concurrency (a Gather start-up alone is 5-10 ms):
# measured in bench/. Sent as start-up parameters, not SET: asyncpg's pool runs RESET ALL
# whenever a connection is released, which undid SETs after a connection's first use
# and left it as "" in pg_stat_activity, with JIT and parallel plans back on.
SERVER_SETTINGS = {"application_name": "rigenera", "TimeZone": "UTC",
                   "max_parallel_workers_per_gather": "0", "jit": "off"}


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads,
                              schema="pg_catalog")


def pool_kwargs() -> dict[str, Any]:
    return {"init": _init_connection, "command_timeout": 60,
            "server_settings": SERVER_SETTINGS}


async def open_pools(dsn: str, read_size: int, write_size: int,
                     settings: Settings | None = None) -> Pools:
    """The primary's pools, and the replicas' router when DATABASE_READ_URLS names any."""
    try:
        fresh = await asyncpg.create_pool(dsn, min_size=1, max_size=read_size, **pool_kwargs())
        write = await asyncpg.create_pool(dsn, min_size=1, max_size=write_size,
                                          **pool_kwargs())
    except (OSError, asyncpg.PostgresError) as exc:
        raise DatabaseUnavailable(
            "Database non raggiungibile / database unreachable", log_message=str(exc)
        ) from exc
    if settings is None or not settings.database_read_urls:
        return Pools(write=write, fresh=fresh, read=fresh)
    from rigenera.replicas import ReadRouter

    router = await ReadRouter.open(dsn, fresh, settings)
    pools = Pools(write=write, fresh=fresh, read=router, router=router)
    router.after_check = pools.publish_sizes
    return pools


async def run_read[T](pool: asyncpg.Pool | ReadRouter,
                   work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """`work` on one read connection; through a router, retried on the primary if the
    replica goes away under it (reads are idempotent)."""
    from rigenera.replicas import ReadRouter

    if isinstance(pool, ReadRouter):
        return await pool.run(work)
    async with pool.acquire() as conn:
        return await work(conn)


# Routers by primary server (host:port/database), for the code that cannot be handed one:
# pygeoapi builds its provider from a dotted path and connection parameters, and the
# psycopg2 work in threads has a DSN.
_ROUTERS: dict[str, list[ReadRouter]] = {}


def server_name(dsn: str) -> str:
    """host:port/database of a DSN, never its credentials (logs, the admin route, keys)."""
    u = urlparse(dsn)
    return f"{u.hostname or 'localhost'}:{u.port or 5432}/{(u.path or '/').lstrip('/')}"


def register_router(primary_dsn: str, router: ReadRouter) -> None:
    """One app per process in production; with several on one primary (tests), the last
    one started answers until it stops."""
    _ROUTERS.setdefault(server_name(primary_dsn), []).append(router)


def unregister_router(primary_dsn: str, router: ReadRouter) -> None:
    """At shutdown: this router only, not another app's on the same primary."""
    routers = _ROUTERS.get(server_name(primary_dsn), [])
    if router in routers:
        routers.remove(router)


def router_for(primary: str) -> ReadRouter | None:
    """The router of a primary, by DSN or by host:port/database."""
    routers = _ROUTERS.get(primary if "://" not in primary else server_name(primary))
    return routers[-1] if routers else None


async def thread_read[T](primary_dsn: str, work: Callable[[str], T],
                      limiter: anyio.CapacityLimiter | None = None) -> T:
    """`work(dsn)` in a worker thread (psycopg2, GDAL), reading from a replica when one is
    in rotation and has replayed the caller's last write (waiting up to replica_wait_ms),
    run again on the primary if the replica goes away under it (reports, exports and
    evaluations only read)."""
    router = router_for(primary_dsn)
    if router is None:
        return await anyio.to_thread.run_sync(work, primary_dsn, limiter=limiter)
    replica = await router.choose(MIN_LSN.get())
    if replica is None:
        return await anyio.to_thread.run_sync(work, primary_dsn, limiter=limiter)
    try:
        return await anyio.to_thread.run_sync(work, replica.dsn, limiter=limiter)
    except Exception as exc:
        if not router.replica_failed(replica, exc):
            raise
    return await anyio.to_thread.run_sync(work, primary_dsn, limiter=limiter)


def sync_read[T](primary_dsn: str, work: Callable[[str], T]) -> T:
    """`work(dsn)` already in a thread (pygeoapi's processes and provider): a replica that
    is known to have replayed the caller's last write (no waiting: a thread cannot ask
    the event loop), else the primary; again on the primary if the replica goes away."""
    router = router_for(primary_dsn)
    replica = router.pick(MIN_LSN.get()) if router is not None else None
    if router is None or replica is None:
        return work(primary_dsn)
    try:
        return work(replica.dsn)
    except Exception as exc:
        if not router.replica_failed(replica, exc):
            raise
    return work(primary_dsn)
