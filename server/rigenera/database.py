"""Connection pools for our own routes (asyncpg), opened in the app lifespan.

As in stac-fastapi-pgstac there are two pools: reads and writes never queue
behind each other, and the write pool can later point at a primary while reads
go to a replica. pygeoapi's provider keeps its own SQLAlchemy engine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from rigenera.errors import DatabaseUnavailable


@dataclass
class Pools:
    read: asyncpg.Pool
    write: asyncpg.Pool

    async def close(self) -> None:
        await self.read.close()
        await self.write.close()


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


async def open_pools(dsn: str, read_size: int, write_size: int) -> Pools:
    kwargs: dict[str, Any] = {"init": _init_connection, "command_timeout": 60,
                              "server_settings": SERVER_SETTINGS}
    try:
        read = await asyncpg.create_pool(dsn, min_size=1, max_size=read_size, **kwargs)
        write = await asyncpg.create_pool(dsn, min_size=1, max_size=write_size, **kwargs)
    except (OSError, asyncpg.PostgresError) as exc:
        raise DatabaseUnavailable(
            "Database non raggiungibile / database unreachable", log_message=str(exc)
        ) from exc
    return Pools(read=read, write=write)
