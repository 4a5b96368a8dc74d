"""A tile served from the tile cache against a static file served by the same app.

    .venv/bin/python bench/tile_cache.py [--sites 100000] [--duration 10] [--connections 4]

One throwaway PostGIS cluster (migrations, the demo data and ``--sites`` synthetic site
polygons, bench/synthetic_sites.sql as bench/run.py), one Rigenera server (one uvicorn
worker on 127.0.0.1, as bench/run.py starts it), its tile cache prewarmed (``/healthz``
says when: the time is printed), and wrk at the same concurrency against:

* `static`: /static/css/rigenera.css (18 KB, Starlette's StaticFiles, with its ETag);
* `tile_hit`: the sites' z10-z14 tiles of central Milan, every one cached: a look-up and
  the validity check (sql/tile_valid.sql, one indexed query) per request;
* `tile_304`: the same with If-None-Match (no body);
* `tile_built`: the same tiles from a second server with RIGENERA_TILE_CACHE=false (the
  statement every time, what every request cost before the cache).

Also the validity check alone, timed in SQL (asyncpg, prepared, 2,000 runs). Prints
requests/s, p50/p99 and the ratio tile_hit/static; writes bench/results/tile_cache-*.json.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
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

from run import run_wrk, start_rigenera, write_results  # noqa: E402

from rigenera.cluster import LocalCluster, free_port  # noqa: E402
from rigenera.loaders.demo import load_demo  # noqa: E402
from rigenera.migrate import migrate  # noqa: E402
from rigenera.ogc.tilecache import NO_SEEN, SEEN_MAX, VALID_SQL, expand_for  # noqa: E402

LUA = """
local paths = {%(paths)s}
local etags = {%(etags)s}
request = function()
  local i = math.random(#paths)
  local headers = {}
  if #etags > 0 then headers["If-None-Match"] = etags[i] end
  return wrk.format("GET", paths[i], headers)
end
"""


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return (int((lon + 180) / 360 * n),
            int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n))


def _span(a: float, b: float, z: int, axis: int) -> tuple[int, int]:
    """The tile columns (axis 0: longitudes a..b) or rows (axis 1: latitudes a..b)."""
    lo = tile_of(a, a, z)[0] if axis == 0 else tile_of(9.0, a, z)[1]
    hi = tile_of(b, b, z)[0] if axis == 0 else tile_of(9.0, b, z)[1]
    return lo, hi + 1


def tiles_of_milan() -> list[tuple[int, int, int]]:
    """z10-z14 tiles over central Milan (9.10-9.28 E, 45.42-45.52 N)."""
    out = []
    for z in range(10, 15):
        x0, y0 = tile_of(9.10, 45.52, z)
        x1, y1 = tile_of(9.28, 45.42, z)
        out += [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    return out


def script(work: Path, name: str, paths: list[str], etags: list[str] | None = None) -> Path:
    path = work / f"{name}.lua"
    path.write_text(LUA % {"paths": ",".join(f"'{p}'" for p in paths),
                           "etags": ",".join(f"'{e}'" for e in etags or [])})
    return path


def wait_prewarmed(base: str, timeout: float = 900) -> Any:
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base, timeout=30) as c:
        while time.monotonic() < deadline:
            status = c.get("/healthz").json()["tile_cache"]
            if isinstance(status.get("prewarm"), dict):
                return status["prewarm"]
            time.sleep(0.5)
    raise RuntimeError("no prewarming pass")


async def time_check(dsn: str, tiles: list[tuple[int, int, int]], runs: int = 2000
                     ) -> dict[str, float]:
    """The validity check alone: µs per run, prepared, on one connection."""
    conn = await asyncpg.connect(dsn)
    try:
        snap = await conn.fetchval("SELECT rigenera.tile_snapshot()::text")
        stmt = await conn.prepare(VALID_SQL)
        for z, x, y in tiles[:50]:
            await stmt.fetchrow("sites", z, x, y, snap, expand_for(z), NO_SEEN, SEEN_MAX)
        t0 = time.perf_counter()
        for i in range(runs):
            z, x, y = tiles[i % len(tiles)]
            await stmt.fetchrow("sites", z, x, y, snap, expand_for(z), NO_SEEN, SEEN_MAX)
        per = (time.perf_counter() - t0) / runs
        changes = await conn.fetchval("SELECT count(*) FROM rigenera.tile_changes")
    finally:
        await conn.close()
    return {"us_per_check": round(per * 1e6, 1), "tile_changes_rows": changes}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sites", type=int, default=100_000)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=4)
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        print("wrk not found: scripts/bench-setup.sh installs it", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="rigenera-bench-tiles-"))
    work.chmod(0o755)
    cluster = LocalCluster(work / "state", free_port(), "postgres")
    servers = []
    results: dict[str, Any] = {"sites": args.sites, "duration_s": args.duration,
                               "connections": args.connections}
    try:
        cluster.ensure()
        admin = psycopg2.connect(cluster.dsn)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute('CREATE DATABASE "bench_tiles"')
        admin.close()
        dsn = cluster.dsn.rsplit("/", 1)[0] + "/bench_tiles"
        migrate(dsn)
        load_demo(dsn)
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute((ROOT / "bench" / "synthetic_sites.sql").read_text(), {"n": args.sites})
        conn.close()
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT / "server"), *filter(None, [os.environ.get("PYTHONPATH")])])
        for d in ("cached", "uncached"):
            (work / d).mkdir()
        t0 = time.monotonic()
        cached = start_rigenera(dsn, work / "cached")
        servers.append(cached)
        results["prewarm"] = wait_prewarmed(cached.base)
        print(f"prewarmed after {time.monotonic() - t0:.1f} s: {results['prewarm']}", flush=True)
        os.environ["RIGENERA_TILE_CACHE"] = "false"
        uncached = start_rigenera(dsn, work / "uncached")
        servers.append(uncached)
        del os.environ["RIGENERA_TILE_CACHE"]

        tiles = tiles_of_milan()
        paths = [f"/ogc/collections/sites/tiles/WebMercatorQuad/{z}/{y}/{x}" for z, x, y in tiles]
        etags, sizes = [], []
        with httpx.Client(base_url=cached.base, timeout=120) as c:
            for p in paths:  # every tile answers and is cached before any timing
                r = c.get(p)
                if r.status_code not in (200, 204):
                    raise RuntimeError(f"{p}: {r.status_code}")
                etags.append(r.headers["etag"].replace('"', '\\"'))
                sizes.append(len(r.content))
                if c.get(p).headers["x-tile-cache"] != "hit":
                    raise RuntimeError(f"{p}: not cached")
            css = c.get("/static/css/rigenera.css")
            if css.status_code != 200:
                raise RuntimeError(f"static: {css.status_code}")
        results["tiles"] = len(tiles)
        results["tile_bytes_median"] = sorted(sizes)[len(sizes) // 2]
        results["static_bytes"] = len(css.content)
        results["check"] = asyncio.run(time_check(dsn, tiles))
        print(f"validity check alone: {results['check']}", flush=True)
        # What QGIS's overview waits for on a first drawing: the sites' z10 tiles of the
        # metro area (bench/plugin.py), one after the other, from each server.
        metro = [f"/ogc/collections/sites/tiles/WebMercatorQuad/10/{y}/{x}"
                 for x in range(*_span(8.70, 9.55, 10, 0)) for y in range(*_span(45.65, 45.15, 10, 1))]
        for name, srv in (("cached", cached), ("built", uncached)):
            with httpx.Client(base_url=srv.base, timeout=120) as c:
                t1 = time.perf_counter()
                for p in metro:
                    c.get(p).raise_for_status()
                results[f"metro_z10_{name}_s"] = round(time.perf_counter() - t1, 3)
        print(f"{len(metro)} z10 tiles of the metro area, one by one: cached "
              f"{results['metro_z10_cached_s']} s, built {results['metro_z10_built_s']} s",
              flush=True)

        cases = {
            "static": (cached, script(work, "static", ["/static/css/rigenera.css"])),
            "tile_hit": (cached, script(work, "tile_hit", paths)),
            "tile_304": (cached, script(work, "tile_304", paths, etags)),
            "tile_built": (uncached, script(work, "tile_built", paths)),
        }
        for name, (srv, lua) in cases.items():
            results[name] = run_wrk(srv.base, args.duration, args.connections, lua=lua)
            r = results[name]
            print(f"{name:10s} {r['rps']:9.1f} req/s  p50 {r['p50_ms']:7.2f} ms  "
                  f"p99 {r['p99_ms']:7.2f} ms  non-2xx/3xx {int(r['errors'])}", flush=True)
        static = results["static"]["rps"] or float("nan")
        results["ratio_tile_hit_to_static"] = results["tile_hit"]["rps"] / static
        results["ratio_tile_hit_to_built"] = (results["tile_hit"]["rps"]
                                              / (results["tile_built"]["rps"] or float("nan")))
        print(f"{len(tiles)} tiles (median {results['tile_bytes_median']:,} B, static "
              f"{results['static_bytes']:,} B): tile_hit/static "
              f"{results['ratio_tile_hit_to_static']:.2f}x, tile_hit/tile_built "
              f"{results['ratio_tile_hit_to_built']:.1f}x")
        print(f"results: {write_results('tile_cache', results)}")
    finally:
        for srv in servers:
            srv.stop()
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
