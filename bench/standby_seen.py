"""What `seen` costs on a hot standby (sql/tile.sql, sql/tile_valid.sql).

    .venv/bin/python bench/standby_seen.py [--edits 200] [--runs 500]

A primary and a streaming replica (tests/replication.py, demo data), one transaction left
open on the primary (it holds every snapshot's xmin back), then ``--edits`` committed
one-row edits of sites in central Milan (each its own transaction, all after that xmin).
Timed on one connection, prepared, ``--runs`` times each, for the sites' z14 tile over the
edits and its z10 parent:
* the tile statement on the primary (no `seen`: the stamp is exact) and on the replica
  (with `seen`: up to SEEN_MAX xids near the tile);
* the validity check (sql/tile_valid.sql) of an entry built there, on the same server:
  valid or not, with its re-stamp and the new `seen`.
Prints µs per statement and the size of `seen`; nothing is written.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import asyncpg
import psycopg2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "tests"))

from replication import Replicated  # noqa: E402
from rigenera.ogc.tilecache import SEEN_MAX, VALID_SQL, expand_for  # noqa: E402
from rigenera.ogc.tiles import load_tile_layers  # noqa: E402

TILES = {"z14": (14, 8610, 5864), "z10": (10, 538, 366)}  # central Milan (9.19, 45.46)


async def timed(dsn: str, sql: str, runs: int) -> dict[str, object]:
    conn = await asyncpg.connect(dsn)
    try:
        out: dict[str, object] = {}
        for name, (z, x, y) in TILES.items():
            built = await conn.fetchrow(sql, z, x, y)
            assert built is not None
            valid = await conn.prepare(VALID_SQL)
            args = ("sites", z, x, y, built["snapshot"], expand_for(z), built["seen"], SEEN_MAX)
            build = await conn.prepare(sql)
            for stmt, a, label in ((build, (z, x, y), "build"), (valid, args, "check")):
                await stmt.fetchrow(*a)
                t0 = time.perf_counter()
                for _ in range(runs):
                    row = await stmt.fetchrow(*a)
                out[f"{name}_{label}_us"] = round((time.perf_counter() - t0) / runs * 1e6)
            assert row is not None
            out[f"{name}_valid"] = row["valid"]
            out[f"{name}_seen_xids"] = len(built["seen"].strip("{}").split(",")) \
                if built["seen"] != "{}" else 0
        out["snapshot"] = await conn.fetchval("SELECT rigenera.tile_snapshot()::text")
        out["changes_since_xmin"] = await conn.fetchval(
            "SELECT count(DISTINCT xid) FROM rigenera.tile_changes WHERE layer = 'sites'"
            " AND xid >= pg_snapshot_xmin(pg_current_snapshot())")
        return out
    finally:
        await conn.close()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--edits", type=int, default=200)
    p.add_argument("--runs", type=int, default=200)
    args = p.parse_args()
    rep = Replicated(demo=True)
    holder = psycopg2.connect(rep.primary_dsn)
    try:
        with psycopg2.connect(rep.primary_dsn) as c, c.cursor() as cur:
            cur.execute("CREATE TABLE public.xmin_holder (n int)")
        with holder.cursor() as cur:
            cur.execute("INSERT INTO public.xmin_holder VALUES (1)")
        conn = psycopg2.connect(rep.primary_dsn)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("""SELECT id FROM rigenera.sites ORDER BY geom <-> ST_SetSRID(
                             ST_MakePoint(9.19, 45.46), 4326) LIMIT 20""")
            ids = [r[0] for r in cur.fetchall()]
            for i in range(args.edits):
                cur.execute("UPDATE rigenera.sites SET condition_notes = %s WHERE id = %s",
                            (f"bench {i}", ids[i % len(ids)]))
        conn.close()
        rep.wait_replayed()

        async def layer_sql() -> str:
            c = await asyncpg.connect(rep.primary_dsn)
            try:
                return (await load_tile_layers(c))["sites"].sql
            finally:
                await c.close()
        sql = asyncio.run(layer_sql())
        print(f"{args.edits} committed edits after an open transaction; {args.runs} runs each")
        for server, dsn in (("primary", rep.primary_dsn), ("replica", rep.replica_dsn)):
            print(server, asyncio.run(timed(dsn, sql, args.runs)))
    finally:
        holder.rollback()
        holder.close()
        rep.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
