"""What issue 13's request layers cost on the fastest routes.

    .venv/bin/python bench/observability.py [--duration 10] [--rounds 2]

One throwaway PostGIS cluster with the demo data; the same app served by one uvicorn worker
(as bench/run.py starts it) in three variants, each loaded by wrk (2 threads, 4 connections)
on a GeoJSON feature (the fast path), a vector tile and /livez, interleaved over rounds:

* `bare`: the app without the request-context, security-header and CORS middleware
  (removed from the app before it first serves: a bench-only variant);
* `full`: the app as shipped, log level warning (no access lines);
* `full+json`: as shipped with JSON access lines at level info, written to a file.

Prints requests/s and p50/p99 per variant and route, and the ratio to `bare`; writes
bench/results/observability-*.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
import psycopg2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "bench"))

from run import Server, wait_http, write_results, wrk  # noqa: E402

from rigenera.cluster import LocalCluster, free_port  # noqa: E402
from rigenera.loaders.demo import load_demo  # noqa: E402
from rigenera.migrate import migrate  # noqa: E402

APP = '''
import os
from rigenera.factory import create_app
from rigenera.observability import configure_logging
from rigenera.settings import Settings

settings = Settings()
configure_logging(settings)
app = create_app(settings)
if os.environ.get("BENCH_BARE") == "1":
    layers = {"RequestContextMiddleware", "SecurityHeadersMiddleware", "CorsMiddleware"}
    app.user_middleware[:] = [m for m in app.user_middleware if m.cls.__name__ not in layers]
'''
VARIANTS = {"bare": {"BENCH_BARE": "1", "RIGENERA_LOG_LEVEL": "warning"},
            "full": {"RIGENERA_LOG_LEVEL": "warning"},
            "full+json": {"RIGENERA_LOG_LEVEL": "info", "RIGENERA_LOG_FORMAT": "json"}}


def start(name: str, dsn: str, work: Path, extra: dict[str, str]) -> Server:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": dsn, "RIGENERA_PORT": str(port),
           "RIGENERA_STATE_DIR": str(work / name), "PYTHONPATH": f"{work}:{ROOT / 'server'}",
           **extra}
    log = work / f"{name}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench_observability_app:app", "--host", "127.0.0.1",
         "--port", str(port), "--loop", "uvloop", "--http", "httptools", "--no-access-log",
         "--log-level", "warning"], env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/livez", proc)
    return Server(name, base, proc, log)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rigenera-bench-obs-"))
    work.chmod(0o755)
    (work / "bench_observability_app.py").write_text(APP)
    cluster = LocalCluster(work / "state", free_port(), "rigenera", fsync=False)
    servers: dict[str, Server] = {}
    try:
        dsn = cluster.ensure()
        migrate(dsn)
        load_demo(dsn)
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute("SELECT id FROM rigenera.sites ORDER BY id LIMIT 1")
            (site,) = cur.fetchone()  # type: ignore[misc]
        conn.close()
        routes = {"item": f"/ogc/collections/sites/items/{site}",
                  "tile": "/ogc/collections/sites/tiles/WebMercatorQuad/12/1467/2152",
                  "livez": "/livez"}
        for name, extra in VARIANTS.items():
            servers[name] = start(name, dsn, work, extra)
            for path in routes.values():
                r = httpx.get(servers[name].base + path, timeout=30)
                assert r.status_code in (200, 204), (name, path, r.status_code)
                assert ("x-request-id" in r.headers) == (name != "bare"), name
        runs: dict[str, dict[str, list[dict[str, float]]]] = {
            v: {r: [] for r in routes} for v in VARIANTS}
        for _ in range(args.rounds):
            for route, path in routes.items():
                for name in VARIANTS:
                    runs[name][route].append(wrk(servers[name].base + path, args.duration,
                                                 servers[name]))
        results: dict[str, Any] = {}
        print(f"\n{'route':8} {'variant':10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'vs bare':>8}")
        for route in routes:
            bare = statistics.median(x["rps"] for x in runs["bare"][route])
            for name in VARIANTS:
                rs = runs[name][route]
                row = {"rps": statistics.median(x["rps"] for x in rs),
                       "p50_ms": statistics.median(x["p50_ms"] for x in rs),
                       "p99_ms": statistics.median(x["p99_ms"] for x in rs),
                       "errors": sum(x["errors"] for x in rs)}
                results[f"{route}/{name}"] = row
                print(f"{route:8} {name:10} {row['rps']:9.0f} {row['p50_ms']:8.2f} "
                      f"{row['p99_ms']:8.2f} {row['rps'] / bare:7.2f}x")
        lines = sum(1 for _ in (work / "full+json.log").open())
        print(f"\nJSON access lines written by full+json: {lines}")
        print(f"results: {write_results('observability', results)}")
    finally:
        for s in servers.values():
            s.stop()
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
