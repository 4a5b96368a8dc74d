"""Reads served by the primary alone against reads through a streaming replica.

    .venv/bin/python bench/replicas.py [--duration 10]

A throwaway primary with the demo set and its hot standby (tests/replication.py:
pg_basebackup -R, both on 127.0.0.1), then one Rigenera server (one uvicorn worker, as
bench/run.py starts it) per configuration, and wrk (2 threads, 4 connections):

* `primary`: no DATABASE_READ_URLS: the read pool is the primary's (no router at all);
* `replica`: DATABASE_READ_URLS = the standby: every read goes through the ReadRouter;
* `replica+mark`: the same with a `Rigenera-Min-LSN` the standby has replayed (a writer's
  reads after the replica caught up: one comparison more per read).

Cases: a page of 100 sites, one site, a z12 tile. Prints requests/s and p50/p99 per case
and configuration; writes bench/results/replicas-*.json. On one machine the replica shares
the CPUs with the primary and the server: this measures the router's cost, not the
capacity a replica on its own machine adds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
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
sys.path.insert(0, str(ROOT / "tests"))

from run import Server, parse_wrk, serve, write_results  # noqa: E402

from replication import Replicated  # noqa: E402
from rigenera.cluster import free_port  # noqa: E402


def start(primary: str, work: Path, replicas: list[str]) -> Server:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": primary, "RIGENERA_PORT": str(port),
           "RIGENERA_STATE_DIR": str(work / "rigenera"), "RIGENERA_LOG_LEVEL": "warning",
           "DATABASE_READ_URLS": ",".join(replicas)}
    return serve("rigenera", sys.executable, "rigenera.main:app", port, env, work, "/healthz")


def cases(dsn: str) -> dict[str, str]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT min(id) FROM rigenera.sites")
        row = cur.fetchone()
    conn.close()
    assert row is not None
    return {"items_100": "/ogc/collections/sites/items?limit=100",
            "item": f"/ogc/collections/sites/items/{row[0]}",
            "tile_z12": "/ogc/collections/sites/tiles/WebMercatorQuad/12/1466/2152"}


def bench_one(server: Server, urls: dict[str, str], duration: int,
              headers: dict[str, str]) -> dict[str, dict[str, float]]:
    out = {}
    with httpx.Client(base_url=server.base, headers=headers, timeout=30) as c:
        for name, url in urls.items():
            r = c.get(url)
            if r.status_code not in (200, 204):
                raise SystemExit(f"{name}: {r.status_code} {r.text[:200]}")
    for name, url in urls.items():
        out[name] = wrk_with_headers(server.base + url, duration, headers)
    return out


def wrk_with_headers(url: str, duration: int, headers: dict[str, str]) -> dict[str, float]:
    """bench/run.py's wrk options, plus request headers."""
    args = ["wrk", "-t2", "-c4", f"-d{duration}s", "--latency", "--timeout", "10s"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    text = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    return parse_wrk(text)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=10)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rigenera-bench-replicas-"))
    rep = Replicated(work / "db", demo=True)
    results: dict[str, Any] = {"duration_s": args.duration, "cpus": os.cpu_count()}
    try:
        urls = cases(rep.primary_dsn)
        for config in ("primary", "replica", "replica+mark"):
            replicas = [] if config == "primary" else [rep.replica_dsn]
            server = start(rep.primary_dsn, work / config.replace("+", "_"), replicas)
            try:
                time.sleep(1.5)  # the replica's first checks: in rotation
                headers = ({"Rigenera-Min-LSN": rep.primary_lsn()} if config == "replica+mark"
                           else {})
                rep.wait_replayed()
                results[config] = bench_one(server, urls, args.duration, headers)
            finally:
                server.stop()
    finally:
        rep.close()
    print(f"\nreads, wrk -t2 -c4 -d{args.duration}s, one uvicorn worker, {os.cpu_count()} CPUs")
    print("| case | primary only | through the replica | replica + mark |")
    print("|---|---|---|---|")
    for name in urls:
        cells = []
        for config in ("primary", "replica", "replica+mark"):
            v = results[config][name]
            cells.append(f"{v['rps']:.0f} req/s ({v['p50_ms']:.1f}/{v['p99_ms']:.1f} ms)"
                         + (f", {v['errors']:.0f} errors" if v["errors"] else ""))
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"results: {write_results('replicas', results)}")


if __name__ == "__main__":
    main()
