"""Write benchmark: an atomic changeset of 1,000 updates and single-feature PATCH latency,
each against its raw-SQL floor on the same PostGIS, data, triggers and checks.

    .venv/bin/python bench/writes.py [--repeat 5]

Floor for the changeset: the same 1,000 UPDATEs as one `UPDATE ... FROM unnest(...)`
statement in one transaction, with the same triggers (version, history, area check).
Floor for a single PATCH: one UPDATE of one row in its own transaction, from asyncpg.
Variants: attributes only, and attributes plus a new geometry (validity and
metro-area checks), each as a coordinator and as a technician of Milano (whose
every feature, before and after, must lie within Milano: rigenera.reach_problems).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psycopg2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "bench"))

from run import SYNTHETIC_SQL, start_rigenera, write_results  # noqa: E402

from rigenera.auth import hash_password  # noqa: E402
from rigenera.cluster import LocalCluster, free_port  # noqa: E402
from rigenera.loaders.demo import load_demo  # noqa: E402
from rigenera.migrate import migrate  # noqa: E402

N = 1000
PASSWORD = "benchmark-password"
MILANO = "015146"
# Synthetic sites wholly inside Milano (50 m from its boundary): a technician's own.
IN_MILANO_SQL = """SELECT s.id, ST_AsGeoJSON(s.geom, 7) FROM rigenera.sites s, rigenera.comuni c
                    WHERE c.istat_code = %s AND s.istat_code = c.istat_code
                      AND s.source LIKE 'Benchmark%%'
                      AND ST_Within(s.geom, ST_Buffer(c.geom::geography, -50)::geometry)
                    ORDER BY s.id DESC LIMIT %s"""


def auth(user: str = "bench") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()}


def shifted(geom: dict[str, Any], dx: float) -> dict[str, Any]:
    def move(c: Any) -> Any:
        return [c[0] + dx, c[1]] if isinstance(c[0], float | int) else [move(x) for x in c]
    return {"type": geom["type"], "coordinates": move(geom["coordinates"])}


async def floor_changeset(dsn: str, ids: list[int], owners: list[str],
                          geoms: list[str] | None) -> float:
    conn = await asyncpg.connect(dsn)
    try:
        t0 = time.perf_counter()
        async with conn.transaction():
            await conn.execute("SELECT set_config('rigenera.actor', 'floor', true)")
            if geoms is None:
                await conn.execute(
                    "UPDATE rigenera.sites t SET owner = u.owner FROM unnest($1::bigint[],"
                    " $2::text[]) AS u(id, owner) WHERE t.id = u.id", ids, owners)
            else:
                await conn.execute(
                    "UPDATE rigenera.sites t SET owner = u.owner, geom = ST_SetSRID("
                    "ST_GeomFromGeoJSON(u.g), 4326) FROM unnest($1::bigint[], $2::text[],"
                    " $3::text[]) AS u(id, owner, g) WHERE t.id = u.id", ids, owners, geoms)
        return time.perf_counter() - t0
    finally:
        await conn.close()


async def floor_single(dsn: str, ids: list[int]) -> list[float]:
    conn = await asyncpg.connect(dsn)
    out = []
    try:
        for i, fid in enumerate(ids):
            t0 = time.perf_counter()
            async with conn.transaction():
                await conn.execute("SELECT set_config('rigenera.actor', 'floor', true)")
                await conn.execute("UPDATE rigenera.sites SET owner = $2 WHERE id = $1",
                                   fid, f"floor single {i}")
            out.append(time.perf_counter() - t0)
        return out
    finally:
        await conn.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rigenera-bench-writes-"))
    work.chmod(0o755)
    cluster = LocalCluster(work / "state", free_port(), "rigenera")
    server = None
    try:
        cluster.ensure()
        dsn = cluster.dsn
        migrate(dsn)
        load_demo(dsn)
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute(SYNTHETIC_SQL, {"n": 100_000})
            cur.execute("INSERT INTO rigenera.accounts (username, role, password_hash)"
                        " VALUES ('bench', 'coordinator', %s), ('bench.tecnico', 'technician', %s)",
                        (hash_password(PASSWORD), hash_password(PASSWORD)))
            cur.execute("INSERT INTO rigenera.account_comuni VALUES ('bench.tecnico', %s)",
                        (MILANO,))
            cur.execute("SELECT id, ST_AsGeoJSON(geom, 7) FROM rigenera.sites"
                        " WHERE source LIKE 'Benchmark%%' ORDER BY id LIMIT %s", (2 * N + 400,))
            rows = cur.fetchall()
            cur.execute(IN_MILANO_SQL, (MILANO, N))
            tech_rows = cur.fetchall()
            assert len(tech_rows) == N and not {r[0] for r in tech_rows} & {r[0] for r in rows}
        conn.close()
        server = start_rigenera(dsn, work)
        client = httpx.Client(base_url=server.base, timeout=300, headers=auth())
        api_ids = [r[0] for r in rows[:N]]
        floor_ids = [r[0] for r in rows[N:2 * N]]
        single_ids = [r[0] for r in rows[2 * N:]]
        tech_ids = [r[0] for r in tech_rows]
        geoms = {r[0]: json.loads(r[1]) for r in rows + tech_rows}
        results: dict[str, Any] = {}
        for variant in ("attributes", "geometry", "technician_attributes", "technician_geometry"):
            ids, user = (tech_ids, "bench.tecnico") if variant.startswith("technician") else \
                (api_ids, "bench")
            api_t, floor_t = [], []
            for rep in range(args.repeat):
                with psycopg2.connect(dsn) as c, c.cursor() as cur:
                    cur.execute("SELECT id, version FROM rigenera.sites WHERE id = ANY(%s)",
                                (ids,))
                    versions = dict(cur.fetchall())
                dx = 1e-5 * (rep + 1)
                ops = [{"action": "patch", "collection": "sites", "id": str(fid),
                        "base_version": versions[fid],
                        "feature": {"properties": {"owner": f"api {variant} {rep} {fid}"},
                                    **({"geometry": shifted(geoms[fid], dx)}
                                       if variant.endswith("geometry") else {})}}
                       for fid in ids]
                body = json.dumps({"operations": ops}).encode()
                t0 = time.perf_counter()
                r = client.post("/api/changesets", content=body,
                                headers={"Content-Type": "application/json", **auth(user)})
                api_t.append(time.perf_counter() - t0)
                assert r.status_code == 200, r.text[:500]
                owners = [f"floor {variant} {rep} {fid}" for fid in floor_ids]
                fgeoms = ([json.dumps(shifted(geoms[fid], dx)) for fid in floor_ids]
                          if variant.endswith("geometry") else None)
                floor_t.append(asyncio.run(floor_changeset(dsn, floor_ids, owners, fgeoms)))
            a, f = statistics.median(api_t), statistics.median(floor_t)
            results[f"changeset_1000_{variant}"] = {"rigenera_s": a, "floor_s": f,
                                                    "ratio": a / f}
            print(f"changeset of {N} updates ({variant}): Rigenera {a * 1000:.0f} ms, "
                  f"floor {f * 1000:.0f} ms, ratio {a / f:.2f}x", flush=True)
        # single-feature PATCH with If-Match, sequential
        lat = []
        for i, fid in enumerate(single_ids[:200]):
            etag = client.get(f"/ogc/collections/sites/items/{fid}").headers["etag"]
            t0 = time.perf_counter()
            r = client.patch(f"/ogc/collections/sites/items/{fid}",
                             json={"properties": {"owner": f"single {i}"}},
                             headers={"Content-Type": "application/merge-patch+json",
                                      "If-Match": etag})
            lat.append(time.perf_counter() - t0)
            assert r.status_code == 204, r.text
        fl = asyncio.run(floor_single(dsn, single_ids[200:400]))
        p50, f50 = statistics.median(lat), statistics.median(fl)
        results["single_patch"] = {"rigenera_p50_ms": p50 * 1000, "floor_p50_ms": f50 * 1000,
                                   "ratio": p50 / f50}
        print(f"single PATCH with If-Match: Rigenera p50 {p50 * 1000:.2f} ms, floor p50 "
              f"{f50 * 1000:.2f} ms, ratio {p50 / f50:.1f}x", flush=True)
        print(f"results: {write_results('writes', results)}")
        return 0
    finally:
        if server is not None:
            server.stop()
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
