"""Public project page served per second against the API's own item route.

    .venv/bin/python bench/web_pages.py [--data demo|real] [--duration 10] [--connections 4]

One throwaway PostGIS cluster and database (migrations, then the demo set or the real open
data of ../shared/data, RIGENERA_SHARED_DATA), one Rigenera server (one uvicorn worker on
127.0.0.1, as bench/run.py starts it), and wrk at the same concurrency against:

* `page`: /progetti/{id} (HTML: one statement, then the page rendered once per change of
  its row and kept by render.cached_page: a small SVG map, a Jinja2 render);
* `page_304`: the same with If-None-Match (the ETag is known from the row before any
  rendering: the statement and a hash, no body);
* `twin`: /progetti/{id}?f=json (the page's data without the render);
* `item`: /ogc/collections/projects/items/{id} (the API's GeoJSON feature).

Each request picks one of the published projects (up to 200, the same ids for every
case) from a wrk Lua script. Every URL is fetched once first: a non-200 stops the bench.
Prints requests/s, p50/p99 and the ratio page/item; writes bench/results/web_pages-*.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "bench"))

from run import run_wrk, start_rigenera, write_results  # noqa: E402

from rigenera.cluster import LocalCluster, free_port  # noqa: E402
from rigenera.loaders.demo import load_demo  # noqa: E402
from rigenera.migrate import migrate  # noqa: E402

SHARED = Path(os.environ.get("RIGENERA_SHARED_DATA", ROOT.parent / "shared" / "data"))
MAX_IDS = 200
LUA = """
local ids = {%(ids)s}
local suffix = "%(suffix)s"
local prefix = "%(prefix)s"
local etags = {%(etags)s}
request = function()
  local i = math.random(#ids)
  local headers = {}
  headers["Accept"] = "%(accept)s"
  if #etags > 0 then headers["If-None-Match"] = etags[i] end
  return wrk.format("GET", prefix .. ids[i] .. suffix, headers)
end
"""


def load(dsn: str, data: str) -> None:
    migrate(dsn)
    t0 = time.perf_counter()
    if data == "real":
        from rigenera.imports.sources import load_open_data

        load_open_data(dsn, SHARED)
        # Imported projects start as drafts (migration 0024): the office publishes them. The
        # bench publishes every one, as the migration did for the projects it found.
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute("""
                INSERT INTO rigenera.project_publication (project_id, state, published_by,
                                                          published_at)
                SELECT id, 'published', 'bench', now() FROM rigenera.projects
                ON CONFLICT (project_id) DO UPDATE SET state = 'published',
                  published_by = 'bench', published_at = now()""")
        conn.close()
    else:
        load_demo(dsn)
    print(f"data ({data}) loaded in {time.perf_counter() - t0:.1f} s")


def published_ids(dsn: str) -> list[int]:
    """Published projects, those with the most funding lines first (the fullest pages)."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("""
            SELECT p.id FROM pub.projects p
             WHERE p.published
             ORDER BY (SELECT count(*) FROM rigenera.funding_lines f WHERE f.project_id = p.id)
                      DESC, p.id
             LIMIT %s""", (MAX_IDS,))
        rows = [r[0] for r in cur.fetchall()]
    conn.close()
    return rows


def script(work: Path, name: str, prefix: str, suffix: str, ids: list[int], accept: str,
           etags: list[str] | None = None) -> Path:
    path = work / f"{name}.lua"
    quoted = ",".join(f"'{e}'" for e in etags) if etags else ""
    path.write_text(LUA % {"ids": ",".join(map(str, ids)), "prefix": prefix, "suffix": suffix,
                           "accept": accept, "etags": quoted})
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", choices=("demo", "real"), default="demo")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=4)
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        print("wrk not found: scripts/bench-setup.sh installs it", file=sys.stderr)
        return 1
    if args.data == "real" and not (SHARED / "SOURCES.md").exists():
        print(f"real open data not found at {SHARED}", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="rigenera-bench-pages-"))
    work.chmod(0o755)
    cluster = LocalCluster(work / "state", free_port(), "postgres")
    server = None
    results: dict[str, Any] = {"data": args.data, "duration_s": args.duration,
                               "connections": args.connections}
    try:
        cluster.ensure()
        admin = psycopg2.connect(cluster.dsn)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute('CREATE DATABASE "bench_pages"')
        admin.close()
        dsn = cluster.dsn.rsplit("/", 1)[0] + "/bench_pages"
        load(dsn, args.data)
        ids = published_ids(dsn)
        if not ids:
            print("no published project", file=sys.stderr)
            return 1
        results["projects"] = len(ids)
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT / "server"), *filter(None, [os.environ.get("PYTHONPATH")])])
        server = start_rigenera(dsn, work)
        etags = []
        with httpx.Client(base_url=server.base, timeout=60) as client:
            for pid in ids:  # every URL answers 200 before any timing (and warms the caches)
                page = client.get(f"/progetti/{pid}", headers={"Accept": "text/html"})
                item = client.get(f"/ogc/collections/projects/items/{pid}",
                                  headers={"Accept": "application/geo+json"})
                twin = client.get(f"/progetti/{pid}?f=json")
                if {page.status_code, item.status_code, twin.status_code} != {200}:
                    raise RuntimeError(f"project {pid}: page {page.status_code}, item "
                                       f"{item.status_code}, twin {twin.status_code}")
                etags.append(page.headers["etag"].replace('"', '\\"'))
                results.setdefault("bytes", {"page": [], "item": [], "twin": []})
                results["bytes"]["page"].append(len(page.content))
                results["bytes"]["item"].append(len(item.content))
                results["bytes"]["twin"].append(len(twin.content))
        cases = {
            "item": script(work, "item", "/ogc/collections/projects/items/", "", ids,
                           "application/geo+json"),
            "page": script(work, "page", "/progetti/", "", ids, "text/html"),
            "page_304": script(work, "page_304", "/progetti/", "", ids, "text/html", etags),
            "twin": script(work, "twin", "/progetti/", "?f=json", ids, "application/json"),
        }
        for name, lua in cases.items():
            results[name] = run_wrk(server.base, args.duration, args.connections, lua=lua)
            r = results[name]
            print(f"{name:9s} {r['rps']:9.1f} req/s  p50 {r['p50_ms']:7.2f} ms  "
                  f"p99 {r['p99_ms']:7.2f} ms  non-2xx/3xx {int(r['errors'])}")
        for k in ("page", "item", "twin"):
            sizes = results["bytes"][k]
            results["bytes"][k] = {"median": sorted(sizes)[len(sizes) // 2], "max": max(sizes)}
        item_rps = results["item"]["rps"] or float("nan")
        results["ratio_page_to_item"] = results["page"]["rps"] / item_rps
        results["ratio_twin_to_item"] = results["twin"]["rps"] / item_rps
        print(f"{len(ids)} published projects ({args.data}); page/item "
              f"{results['ratio_page_to_item']:.2f}x, twin/item {results['ratio_twin_to_item']:.2f}x;"
              f" median bytes page {results['bytes']['page']['median']:,}, item "
              f"{results['bytes']['item']['median']:,}")
        print(f"results: {write_results('web_pages', results)}")
    finally:
        if server is not None:
            server.stop()
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
