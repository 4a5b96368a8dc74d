"""Public map benchmark: time to the first drawn map in headless Chromium, cold and warm,
and the bytes transferred, on the demo data and on the real open data.

"First drawn map" is the first MapLibre `idle` event (style, sources and the tiles of the
view loaded, all frames painted) after which `queryRenderedFeatures` on our layers returns
at least one feature; static/js/map.js records it as window.rigeneraMap.firstDrawn
(milliseconds since the navigation started, performance.now()) and sets
<html data-map-drawn="1">.

* cold: a new browser context (empty cache, no cookies) per run, `/` from scratch;
* warm: a reload of `/` in the same context (the HTTP cache holds the versioned static
  files for a year; the page, style and tiles revalidate with their ETags -> 304).

Median of N runs of each. Data sets: the demo (real comuni + the small demo set), then the
real open data of ../shared/data (the loaders of `rigenera load-open-data`, every project
published for the bench), skipped when the folder is absent. One Rigenera server (one
uvicorn worker) on a throwaway cluster; Debian's chromium via Playwright with the tests'
flags (tests/webtools.py: software WebGL, no network but 127.0.0.1).

    .venv/bin/python bench/web_map.py [--runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from run import SHARED, start_rigenera, write_results  # noqa: E402

from rigenera.cluster import LocalCluster, free_port  # noqa: E402
from rigenera.loaders.demo import load_demo  # noqa: E402
from rigenera.migrate import migrate  # noqa: E402
from webtools import ARGS, CHROMIUM  # noqa: E402

PUBLISH_ALL = """INSERT INTO rigenera.project_publication (project_id, state, published_by, published_at)
SELECT id, 'published', 'bench', now() FROM rigenera.projects
ON CONFLICT (project_id) DO UPDATE SET state = 'published', published_by = 'bench',
                                       published_at = now()"""
SIZES = """SELECT (SELECT count(*) FROM tiles.projects WHERE published),
                  (SELECT count(*) FROM rigenera.sites),
                  (SELECT count(*) FROM rigenera.mobility_links),
                  (SELECT count(*) FROM rigenera.transit_stops)"""
VIEWPORT = {"width": 1280, "height": 800}


def kind_of(url: str, resource_type: str) -> str:
    if "/tiles/WebMercatorQuad/" in url:
        return "tiles"
    path = url.split("?", 1)[0]
    if path.endswith("/mappa/stile.json"):
        return "style"
    if resource_type == "document":
        return "html"
    if path.endswith((".css", ".js")):
        return path.rsplit(".", 1)[1]
    return "other"


def load(page: Any, finished: list[Any], action: Any) -> tuple[float, dict[str, int]]:
    """Run `action` (goto or reload), wait for the first drawn map; (ms, bytes per kind)."""
    finished.clear()
    action()
    page.wait_for_selector("html[data-map-drawn='1']", timeout=120_000)
    ms = float(page.evaluate("window.rigeneraMap.firstDrawn"))
    page.wait_for_load_state("networkidle")
    sizes: dict[str, int] = {}
    for request in finished:
        s = request.sizes()
        k = kind_of(request.url, request.resource_type)
        sizes[k] = sizes.get(k, 0) + s["responseBodySize"] + s["responseHeadersSize"]
    return ms, sizes


def measure(browser: Any, url: str, runs: int) -> dict[str, Any]:
    cold: list[float] = []
    warm: list[float] = []
    cold_bytes: dict[str, int] = {}
    warm_bytes: dict[str, int] = {}
    for i in range(runs):
        context = browser.new_context(locale="it-IT", viewport=VIEWPORT)
        finished: list[Any] = []
        context.on("requestfinished", lambda r, f=finished: f.append(r))
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e, errs=errors: errs.append(str(e)))
        try:
            ms, cold_bytes = load(page, finished, lambda p=page: p.goto(url))
            cold.append(ms)
            ms, warm_bytes = load(page, finished, lambda p=page: p.reload())
            warm.append(ms)
        finally:
            context.close()
        if errors:
            raise RuntimeError(f"page errors: {errors}")
        kb_cold, kb_warm = sum(cold_bytes.values()) / 1024, sum(warm_bytes.values()) / 1024
        print(f"  run {i + 1}: cold {cold[-1]:7.0f} ms  warm {warm[-1]:7.0f} ms  "
              f"cold {kb_cold:7.1f} KB  warm {kb_warm:6.1f} KB", flush=True)
    return {"cold_ms": round(statistics.median(cold)), "warm_ms": round(statistics.median(warm)),
            "cold_runs_ms": [round(x) for x in cold], "warm_runs_ms": [round(x) for x in warm],
            "cold_bytes": cold_bytes, "warm_bytes": warm_bytes}


def sizes_of(dsn: str) -> dict[str, int]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(SIZES)
        p, s, m, t = cur.fetchone()  # type: ignore[misc]
    conn.close()
    return {"published_projects": p, "sites": s, "mobility_links": m, "transit_stops": t}


def report(results: dict[str, Any]) -> None:
    print("\n| data | projects / sites / links / stops | first drawn map cold (median) | warm |"
          " bytes cold | bytes warm |")
    print("|---|---|---|---|---|---|")
    for name, row in results["data"].items():
        n = row["rows"]
        kinds = ", ".join(f"{k} {v / 1024:.0f}" for k, v in sorted(row["cold_bytes"].items()))
        print(f"| {name} | {n['published_projects']} / {n['sites']} / {n['mobility_links']} /"
              f" {n['transit_stops']} | {row['cold_ms']} ms | {row['warm_ms']} ms |"
              f" {sum(row['cold_bytes'].values()) / 1024:.0f} KB ({kinds}) |"
              f" {sum(row['warm_bytes'].values()) / 1024:.0f} KB |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-real", action="store_true", help="the demo data only")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="rigenera-bench-map-"))
    work.chmod(0o755)
    cluster = LocalCluster(work / "state", free_port(), "rigenera")
    server = None
    results: dict[str, Any] = {"runs": args.runs, "viewport": VIEWPORT, "data": {}}
    try:
        cluster.ensure()
        dsn = cluster.dsn
        migrate(dsn)
        load_demo(dsn)
        server = start_rigenera(dsn, work)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
            try:
                print("demo data:", flush=True)
                results["data"]["demo"] = {"rows": sizes_of(dsn),
                                           **measure(browser, server.base + "/", args.runs)}
                if args.no_real or not (SHARED / "SOURCES.md").exists():
                    print(f"real data skipped ({SHARED} absent or --no-real)")
                else:
                    from rigenera.imports.sources import load_open_data

                    t0 = time.monotonic()
                    load_open_data(dsn, SHARED, keep_demo=True)
                    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
                        cur.execute(PUBLISH_ALL)
                        cur.execute("ANALYZE")
                    conn.close()
                    print(f"real data loaded and published in {time.monotonic() - t0:.0f} s",
                          flush=True)
                    print("real data:", flush=True)
                    results["data"]["real"] = {"rows": sizes_of(dsn),
                                               **measure(browser, server.base + "/", args.runs)}
            finally:
                browser.close()
        report(results)
        print(f"\nresults: {write_results('web_map', results)}")
        return 0
    finally:
        if server is not None:
            server.stop()
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
