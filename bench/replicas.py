"""Reads served by the primary alone against reads through a streaming replica.

    .venv/bin/python bench/replicas.py [--duration 5] [--rounds 2]

A throwaway primary with the demo set and its hot standby (tests/replication.py:
pg_basebackup -R, both on 127.0.0.1), then one Rigenera server (one uvicorn worker, as
bench/run.py starts it) per configuration, and wrk (2 threads, 4 connections), the
configurations interleaved case by case:

* `primary only`: no DATABASE_READ_URLS: the read pool is the primary's (no router);
* `router to the primary`: DATABASE_READ_URLS = the primary itself: the router's and the
  ReadMarks middleware's own cost, without a second server on the same CPUs;
* `replica`: DATABASE_READ_URLS = the standby: every read goes through the ReadRouter;
* `replica + mark`: the same with a `Rigenera-Min-LSN` the standby has replayed (a
  writer's reads after the replica caught up: one comparison more per read).

Cases: a page of 100 sites, one site, a z12 tile. Prints requests/s and p50/p99 per case
and configuration; writes bench/results/replicas-*.json. On one machine the replica shares
the CPUs with the primary and the server: this measures the router's cost, not the
capacity a replica on its own machine adds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
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

from run import Server, run_wrk, serve, write_results  # noqa: E402

from replication import Replicated  # noqa: E402
from rigenera.cluster import free_port  # noqa: E402


def start(primary: str, work: Path, replicas: list[str]) -> Server:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": primary, "RIGENERA_PORT": str(port),
           "RIGENERA_STATE_DIR": str(work / "rigenera"), "RIGENERA_LOG_LEVEL": "warning",
           "DATABASE_READ_URLS": ",".join(replicas)}
    return serve("rigenera", sys.executable, "rigenera.main:app", port, env, work, "/healthz")


# Server configurations: where DATABASE_READ_URLS points.
CONFIGS: dict[str, list[str]] = {
    "primary only": [],
    "router to the primary": ["primary"],  # the router's own cost, no second server
    "replica": ["replica"],
    "replica + mark": ["replica"],  # with a Rigenera-Min-LSN the replica has replayed
}


def cases(dsn: str) -> dict[str, str]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT min(id) FROM rigenera.sites")
        row = cur.fetchone()
    conn.close()
    assert row is not None
    return {"items_100": "/ogc/collections/sites/items?limit=100",
            "item": f"/ogc/collections/sites/items/{row[0]}",
            "tile_z12": "/ogc/collections/sites/tiles/WebMercatorQuad/12/1466/2152"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rigenera-bench-replicas-"))
    work.chmod(0o755)  # the embedded cluster's unprivileged user reaches its data dirs
    (work / "db").mkdir()
    rep = Replicated(work / "db", demo=True)
    results: dict[str, Any] = {"duration_s": args.duration, "rounds": args.rounds,
                               "cpus": os.cpu_count(), "load_before": os.getloadavg()}
    runs: dict[tuple[str, str], list[dict[str, float]]] = {}
    servers: dict[str, Server] = {}
    try:
        urls = cases(rep.primary_dsn)
        for config, read_urls in CONFIGS.items():
            folder = work / config.replace("+", "_").replace(" ", "_")
            folder.mkdir()
            targets = [{"primary": rep.primary_dsn, "replica": rep.replica_dsn}[t]
                       for t in read_urls]
            servers[config] = start(rep.primary_dsn, folder, targets)
        time.sleep(1.5)  # the replica's first checks: in rotation
        rep.wait_replayed()
        mark = {"Rigenera-Min-LSN": rep.primary_lsn()}
        for name, url in urls.items():  # every URL answers everywhere before timing
            for config, server in servers.items():
                r = httpx.get(server.base + url, timeout=30)
                if r.status_code not in (200, 204):
                    raise SystemExit(f"{config} {name}: {r.status_code} {r.text[:200]}")
        # Interleaved rounds: this machine is shared, its load moves during a run.
        for _ in range(args.rounds):
            for name, url in urls.items():
                for config, server in servers.items():
                    headers = mark if config.endswith("+ mark") else {}
                    runs.setdefault((config, name), []).append(
                        run_wrk(server.base + url, args.duration, headers=headers))
    finally:
        for server in servers.values():
            server.stop()
        rep.close()
        shutil.rmtree(work, ignore_errors=True)
    results["load_after"] = os.getloadavg()
    print(f"\nreads, wrk -t2 -c4, {args.rounds} interleaved rounds of {args.duration} s, one "
          f"uvicorn worker per server, {os.cpu_count()} CPUs, load {results['load_before'][0]:.1f}")
    print("| case | " + " | ".join(CONFIGS) + " |")
    print("|---" * (len(CONFIGS) + 1) + "|")
    for name in urls:
        cells = []
        for config in CONFIGS:
            rs = runs[(config, name)]
            rps = statistics.median(r["rps"] for r in rs)
            p50 = statistics.median(r["p50_ms"] for r in rs)
            p99 = statistics.median(r["p99_ms"] for r in rs)
            errors = sum(r["errors"] for r in rs)
            results.setdefault(config, {})[name] = {"rps": rps, "p50_ms": p50, "p99_ms": p99,
                                                    "errors": errors, "runs": rs}
            cells.append(f"{rps:.0f} req/s ({p50:.1f}/{p99:.1f} ms)"
                         + (f", {errors:.0f} errors" if errors else ""))
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"results: {write_results('replicas', results)}")


if __name__ == "__main__":
    main()
