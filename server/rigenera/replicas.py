"""Reads from PostgreSQL streaming replicas, with the primary as the safety net.

``ReadRouter`` has the asyncpg Pool API our read code uses (``acquire()``, ``fetch``,
``fetchrow``, ``fetchval``, ``execute``) over one pool per DATABASE_READ_URLS replica.
A read goes to a replica in rotation (round robin); the primary's read pool
(``Pools.fresh``) serves it when no replica is in rotation, when the caller's last write
(``database.MIN_LSN``) is not replayed on a replica within ``replica_wait_ms``, or when the
replica fails under the read: a connection error takes the replica out at once and the
read runs again on the primary (reads are idempotent), so a replica that stops fails no
request.

Rotation is decided by a background task of the lifespan, every ``replica_check_seconds``:
a replica is in when it answers, is still a standby, and is at most
``replica_max_lag_bytes`` of WAL and ``replica_max_lag_seconds`` behind the primary. The
lag in seconds is measured against the primary's own positions sampled by the monitor
(how long ago the primary was where the replica is now), not with
``pg_last_xact_replay_timestamp()``, which grows without bound while the primary is idle.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import asyncpg

from rigenera import metrics
from rigenera.database import MIN_LSN, format_lsn, pool_kwargs, server_name
from rigenera.errors import database_unavailable
from rigenera.settings import Settings

LOG = logging.getLogger(__name__)

# Connecting to a replica that is away must not hold a read for asyncpg's default 60 s:
# the read goes to the primary instead.
CONNECT_TIMEOUT = 2.0
# How often a read that must see the caller's write asks a replica whether it has replayed
# it, while it waits (replica_wait_ms in all).
WAIT_POLL_SECONDS = 0.005
# How often (in monitor rounds) expired read marks are deleted (readmarks.py).
SWEEP_EVERY = 60

_CHECK_SQL = ("SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn() AS replay")
_SWEEP_SQL = "DELETE FROM rigenera.read_marks WHERE until < now()"
# 40001 on a hot standby: "canceling statement due to conflict with recovery". The replica
# is fine; this read is simply run again on the primary.
_RECOVERY_CONFLICT = "40001"


class Replica:
    """One streaming replica: its pool and what the last check found."""

    def __init__(self, index: int, dsn: str, pool: asyncpg.Pool) -> None:
        self.name = f"replica:{index}"
        self.dsn = dsn
        self.pool = pool
        self.in_rotation = False
        self.replay_lsn = 0
        self.lag_bytes: int | None = None
        self.lag_seconds: float | None = None
        self.problem: str | None = "non ancora verificata / not checked yet"
        self.changed_at = time.time()

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "server": server_name(self.dsn),
                "in_rotation": self.in_rotation, "replay_lsn": format_lsn(self.replay_lsn),
                "lag_bytes": self.lag_bytes, "lag_seconds": self.lag_seconds,
                "problem": self.problem, "since": self.changed_at}


def _replica_trouble(exc: BaseException) -> str | None:
    """Why a read failing on a replica should run on the primary (None: it would fail there
    too, e.g. an invalid filter, and is raised as it is)."""
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "timeout"
    if getattr(exc, "sqlstate", None) == _RECOVERY_CONFLICT:
        return "recovery-conflict"
    if database_unavailable(exc) is not None:
        return "away"
    if isinstance(exc, asyncpg.InterfaceError | asyncpg.InternalClientError):
        # The driver's own state after the server cut a query short, e.g. "cannot switch to
        # state 15; another operation is in progress" when the pool resets the connection
        # of a read the replica's shutdown interrupted (seen in tests/test_replicas.py).
        return "broken"
    return None


class ReadRouter:
    """The ``read`` pool when there are replicas (see the module's docstring)."""

    def __init__(self, primary_dsn: str, fresh: asyncpg.Pool, replicas: list[Replica],
                 settings: Settings) -> None:
        self.primary_dsn = primary_dsn
        self.fresh = fresh
        self.replicas = replicas
        self.max_lag_bytes = settings.replica_max_lag_bytes
        self.max_lag_seconds = settings.replica_max_lag_seconds
        self.check_seconds = settings.replica_check_seconds
        self.wait_seconds = settings.replica_wait_ms / 1000
        self.primary_lsn = 0
        self._samples: deque[tuple[float, int]] = deque()  # (monotonic, primary LSN)
        self._next = 0
        self._rounds = 0
        self._task: asyncio.Task[None] | None = None
        # Called after every check (database.Pools.publish_sizes: the pool gauges).
        self.after_check: Callable[[], None] | None = None

    @classmethod
    async def open(cls, primary_dsn: str, fresh: asyncpg.Pool,
                   settings: Settings) -> ReadRouter:
        """Pools that connect lazily (a replica that is down does not stop the start-up),
        one check, then the monitor task."""
        replicas = []
        for i, dsn in enumerate(settings.database_read_urls):
            pool = await asyncpg.create_pool(dsn, min_size=0, max_size=settings.read_pool_size,
                                             timeout=CONNECT_TIMEOUT, **pool_kwargs())
            replicas.append(Replica(i, dsn, pool))
        router = cls(primary_dsn, fresh, replicas, settings)
        await router.check()
        router._task = asyncio.create_task(router._monitor(), name="rigenera-replica-monitor")
        return router

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        for r in self.replicas:
            await r.pool.close()

    # -- rotation ---------------------------------------------------------------------

    async def _monitor(self) -> None:
        while True:
            await asyncio.sleep(self.check_seconds)
            try:
                await self.check()
                if self.after_check is not None:
                    self.after_check()
                self._rounds += 1
                if self._rounds % SWEEP_EVERY == 0:
                    await self.fresh.execute(_SWEEP_SQL)
            except Exception:  # never let the monitor die: reads would stay where they are
                LOG.exception("replica check failed")

    async def check(self) -> None:
        """One round: the primary's WAL position, then every replica's replay position."""
        now = time.monotonic()
        try:
            self.primary_lsn = int(await self.fresh.fetchval("SELECT pg_current_wal_lsn()"))
        except Exception as exc:
            if database_unavailable(exc) is None:
                raise
            # The primary is away: the replicas keep serving reads as they are.
            LOG.warning("replica check: primary unreachable (%s)", type(exc).__name__)
            return
        self._samples.append((now, self.primary_lsn))
        keep = self.max_lag_seconds + 3 * self.check_seconds
        while self._samples and now - self._samples[0][0] > keep:
            self._samples.popleft()
        await asyncio.gather(*(self._check_one(r, now) for r in self.replicas))

    async def _check_one(self, r: Replica, now: float) -> None:
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT + 1):
                row = await r.pool.fetchrow(_CHECK_SQL)
        except Exception as exc:
            if _replica_trouble(exc) is None:
                raise
            self.take_out(r, f"non raggiungibile / unreachable ({type(exc).__name__})")
            return
        assert row is not None
        if not row["standby"]:
            self.take_out(r, "non è una replica in recupero / not a standby (promoted?)")
            return
        r.replay_lsn = max(r.replay_lsn, int(row["replay"] or 0))
        r.lag_bytes = max(0, self.primary_lsn - r.replay_lsn)
        # How long ago the primary had already written what the replica has not replayed.
        behind = [t for t, lsn in self._samples if lsn > r.replay_lsn]
        r.lag_seconds = round(now - behind[0], 3) if behind else 0.0
        metrics.REPLICA_LAG_BYTES.labels(r.name).set(r.lag_bytes)
        if r.lag_bytes > self.max_lag_bytes:
            self.take_out(r, f"in ritardo / lagging: {r.lag_bytes} bytes > "
                          f"{self.max_lag_bytes}")
        elif r.lag_seconds > self.max_lag_seconds:
            self.take_out(r, f"in ritardo / lagging: {r.lag_seconds} s > "
                          f"{self.max_lag_seconds} s")
        else:
            self._put_in(r)

    def take_out(self, r: Replica, problem: str) -> None:
        r.problem = problem
        if r.in_rotation:
            r.in_rotation = False
            r.changed_at = time.time()
            LOG.warning("%s (%s) out of rotation: %s", r.name, server_name(r.dsn), problem)
        metrics.REPLICA_IN_ROTATION.labels(r.name).set(0)

    def _put_in(self, r: Replica) -> None:
        r.problem = None
        if not r.in_rotation:
            r.in_rotation = True
            r.changed_at = time.time()
            LOG.info("%s (%s) in rotation", r.name, server_name(r.dsn))
        metrics.REPLICA_IN_ROTATION.labels(r.name).set(1)

    def describe(self) -> dict[str, Any]:
        return {"primary": server_name(self.primary_dsn),
                "primary_lsn": format_lsn(self.primary_lsn),
                "max_lag_bytes": self.max_lag_bytes, "max_lag_seconds": self.max_lag_seconds,
                "replicas": [r.describe() for r in self.replicas]}

    def publish_sizes(self) -> None:
        for r in self.replicas:
            size = r.pool.get_size()
            metrics.POOL_SIZE.labels(r.name).set(size)
            metrics.POOL_IN_USE.labels(r.name).set(size - r.pool.get_idle_size())

    # -- choosing a server ------------------------------------------------------------

    def _live(self) -> list[Replica]:
        """Replicas in rotation, starting from the next in round-robin order."""
        live = [r for r in self.replicas if r.in_rotation]
        if len(live) > 1:
            self._next = (self._next + 1) % len(live)
            live = live[self._next:] + live[:self._next]
        return live

    def pick_dsn(self, min_lsn: int | None) -> str:
        """For synchronous readers (threads): a replica known to have replayed `min_lsn`,
        from the last check or wait, else the primary. Never blocks."""
        for r in self._live():
            if min_lsn is None or r.replay_lsn >= min_lsn:
                metrics.READS_ROUTED.labels("replica", "dsn").inc()
                return r.dsn
        metrics.READS_ROUTED.labels("primary", "dsn").inc()
        return self.primary_dsn

    def pick(self, min_lsn: int | None) -> Replica | None:
        """pick_dsn's replica (None: the primary), for pygeoapi's provider."""
        for r in self._live():
            if min_lsn is None or r.replay_lsn >= min_lsn:
                return r
        return None

    async def _caught_up(self, r: Replica, conn: asyncpg.Connection, min_lsn: int) -> bool:
        """Has `r` replayed `min_lsn`? Asked on the connection the read will use, again
        every few ms for at most replica_wait_ms."""
        deadline = time.monotonic() + self.wait_seconds
        while True:
            replay = int(await conn.fetchval("SELECT pg_last_wal_replay_lsn()") or 0)
            r.replay_lsn = max(r.replay_lsn, replay)
            if replay >= min_lsn:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            await asyncio.sleep(min(WAIT_POLL_SECONDS, remaining))

    def replica_failed(self, r: Replica, exc: BaseException) -> bool:
        """Should a read that failed on `r` run again on the primary? A replica that is
        away (or timed out) leaves rotation at once; a recovery conflict does not."""
        trouble = _replica_trouble(exc)
        if trouble is None:
            return False  # it would fail on the primary too: raised as it is
        if trouble != "recovery-conflict":
            self.take_out(r, f"errore in lettura / read failed ({type(exc).__name__})")
        metrics.READS_ROUTED.labels("primary", f"replica-{trouble}").inc()
        return True

    async def choose(self, min_lsn: int | None) -> Replica | None:
        """A replica for a reader that connects by itself (threads): one that has replayed
        `min_lsn`, waiting for it up to replica_wait_ms; None: the primary."""
        r = self.pick(min_lsn)
        if r is not None or min_lsn is None:
            metrics.READS_ROUTED.labels("replica" if r else "primary", "thread").inc()
            return r
        live = self._live()
        if live:
            try:
                async with live[0].pool.acquire(timeout=CONNECT_TIMEOUT) as conn:
                    if await self._caught_up(live[0], conn, min_lsn):
                        metrics.READS_ROUTED.labels("replica", "thread-waited").inc()
                        return live[0]
            except Exception as exc:
                if _replica_trouble(exc) is None:
                    raise
                self.take_out(live[0], f"non raggiungibile / unreachable "
                              f"({type(exc).__name__})")
        metrics.READS_ROUTED.labels("primary", "thread-mark").inc()
        return None

    async def run[T](self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """`work` on a replica's connection when one fits, else on the primary's."""
        min_lsn = MIN_LSN.get()
        reason = "no-replica"
        live = self._live()
        if live:
            r = live[0]
            if min_lsn is not None:  # prefer one already known to have replayed the mark
                r = next((x for x in live if x.replay_lsn >= min_lsn), r)
            try:
                async with r.pool.acquire(timeout=CONNECT_TIMEOUT) as conn:
                    if min_lsn is None:
                        reason = "rotation"
                    elif r.replay_lsn >= min_lsn:
                        reason = "caught-up"
                    elif await self._caught_up(r, conn, min_lsn):
                        reason = "waited"
                    else:
                        reason = "mark"  # not replayed in time: the primary
                    if reason != "mark":
                        result = await work(conn)
                        metrics.READS_ROUTED.labels("replica", reason).inc()
                        return result
            except Exception as exc:
                if not self.replica_failed(r, exc):
                    raise
                async with self.fresh.acquire() as conn:
                    return await work(conn)
        async with self.fresh.acquire() as conn:
            result = await work(conn)
        metrics.READS_ROUTED.labels("primary", reason).inc()
        return result

    # -- the asyncpg Pool API ---------------------------------------------------------

    @asynccontextmanager
    async def acquire(self, timeout: float | None = None) -> AsyncIterator[asyncpg.Connection]:
        """A read connection for several statements: a replica in rotation that is known to
        have replayed the caller's mark (no waiting here), else the primary. A failure
        inside the caller's block cannot be retried here: it takes the replica out and is
        raised (a 503). One-statement reads use `run`, `fetch*`, `execute`, which retry."""
        min_lsn = MIN_LSN.get()
        r = self.pick(min_lsn)
        conn: asyncpg.Connection | None = None
        if r is not None:
            try:
                conn = await r.pool.acquire(timeout=timeout or CONNECT_TIMEOUT)
            except Exception as exc:
                if _replica_trouble(exc) is None:
                    raise
                self.take_out(r, f"non raggiungibile / unreachable ({type(exc).__name__})")
        if r is not None and conn is not None:
            metrics.READS_ROUTED.labels("replica", "acquire").inc()
            try:
                yield conn
            except Exception as exc:
                if (t := _replica_trouble(exc)) is not None and t != "recovery-conflict":
                    self.take_out(r, f"errore in lettura / read failed ({type(exc).__name__})")
                raise
            finally:
                await r.pool.release(conn)
            return
        async with self.fresh.acquire(timeout=timeout) as conn:
            metrics.READS_ROUTED.labels("primary", "acquire").inc()
            yield conn

    async def fetch(self, query: str, *args: Any, **kwargs: Any) -> list[asyncpg.Record]:
        return await self.run(lambda conn: conn.fetch(query, *args, **kwargs))

    async def fetchrow(self, query: str, *args: Any, **kwargs: Any) -> asyncpg.Record | None:
        return await self.run(lambda conn: conn.fetchrow(query, *args, **kwargs))

    async def fetchval(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return await self.run(lambda conn: conn.fetchval(query, *args, **kwargs))

    async def execute(self, query: str, *args: Any, **kwargs: Any) -> str:
        """Read-only statements only (a replica refuses writes with 25006)."""
        return await self.run(lambda conn: conn.execute(query, *args, **kwargs))
