"""Reads with 1 and 2 API workers: `rigenera serve --workers N` on the same database.

One PostGIS cluster with the demo data and 100,000 seeded synthetic sites (bench/run.py's
set); for N in 1, 2 the real command serves it on 127.0.0.1 and wrk loads three reads, one
after the other: a page of 100 sites in a bounding box (the fast GeoJSON path), a
vector tile at zoom 14 (both mostly PostgreSQL's CPU) and a collection's description
(pygeoapi, all Python). Printed: req/s, p50/p99 latency, the 2-worker/1-worker ratio, and
the CPU wrk itself used, because wrk shares the machine's cores with the workers and
PostgreSQL (on a 2-core machine a ratio near 2 is out of reach: say what the ceiling is).

    .venv/bin/python bench/workers.py [--duration 10] [--connections 8] [--sites 100000]

Writes bench/results/workers-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
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

from run import BBOX, SYNTHETIC_SQL, run_wrk, write_results  # noqa: E402

from rigenera.cluster import LocalCluster, free_port  # noqa: E402
from rigenera.loaders.demo import load_demo  # noqa: E402
from rigenera.migrate import migrate  # noqa: E402

# Two reads whose CPU is mostly PostgreSQL's (our SQL-built page, ST_AsMVT) and one that is
# all Python (pygeoapi describing a collection): workers add Python capacity only.
CASES = {
    "items_100": f"/ogc/collections/sites/items?bbox={BBOX}&limit=100",
    "tile_z14": "/ogc/collections/sites/tiles/WebMercatorQuad/14/5863/8610",
    "collection": "/ogc/collections/sites?f=json",
}


class Served:
    """`rigenera serve --workers N` in a subprocess; `rigenera stop` ends it."""

    def __init__(self, dsn: str, workers: int, work: Path) -> None:
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.state = work / f"state-{workers}"
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("RIGENERA_", "PROMETHEUS_"))}
        self.env.update({"DATABASE_URL": dsn, "RIGENERA_PORT": str(self.port),
                         "RIGENERA_STATE_DIR": str(self.state), "RIGENERA_LOG_LEVEL": "warning",
                         "PYTHONPATH": str(ROOT / "server")})
        self.log = (work / f"serve-{workers}.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rigenera.cli", "serve", "--workers", str(workers)],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait()

    def pids(self) -> list[int]:
        return [int(p.name) for p in (self.state / "run" / "workers").iterdir()]

    def _wait(self) -> None:
        registry = self.state / "run" / "workers"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            ready = registry.is_dir() and len(list(registry.iterdir())) == self.workers
            try:
                if ready and httpx.get(self.base + "/healthz", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        subprocess.run([sys.executable, "-m", "rigenera.cli", "stop"], env=self.env,
                       capture_output=True, timeout=120, check=False)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """user + system CPU of each of these processes so far (gone ones are left out)."""
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / TICK
    return out


def postgres_pids(cluster: LocalCluster) -> list[int]:
    """The postmaster and its children (backends, WAL writer...), [] if unreadable."""
    try:
        postmaster = int((cluster.datadir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rpartition(")")[2].split()[1]) == postmaster:
                children.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return [postmaster, *children]


def _used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two snapshots; a process born meanwhile counts from its start
    (pools open connections under load)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def load(url: str, duration: int, connections: int, workers: list[int],
         cluster: LocalCluster) -> dict[str, float]:
    """wrk (2 threads) for `duration` seconds; the CPU that wrk, the workers and
    PostgreSQL used meanwhile (seconds per second: 1.0 = one whole core)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server0, pg0 = cpu_seconds(workers), cpu_seconds(postgres_pids(cluster))
    result = run_wrk(url, duration, connections)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server1, pg1 = cpu_seconds(workers), cpu_seconds(postgres_pids(cluster))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result["wrk_cpu"] = cpu / duration
    result["workers_cpu"] = _used(server0, server1) / duration
    result["postgres_cpu"] = _used(pg0, pg1) / duration if pg1 else float("nan")
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--sites", type=int, default=100_000)
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: run `make bench` (scripts/bench-setup.sh installs it)")

    work = Path(tempfile.mkdtemp(prefix="rigenera-bench-workers-"))
    work.chmod(0o755)  # the unprivileged server user must reach its data dir
    cluster = LocalCluster(work / "pg", free_port(), "rigenera", fsync=False)
    results: dict[str, Any] = {"cores": os.cpu_count(), "duration_s": args.duration,
                               "connections": args.connections, "sites": args.sites,
                               "runs": {}}
    try:
        dsn = cluster.ensure()
        migrate(dsn)
        load_demo(dsn)
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute(SYNTHETIC_SQL, {"n": args.sites})
            cur.execute("ANALYZE")
        conn.close()
        for workers in (1, 2):
            served = Served(dsn, workers, work)
            try:
                for name, path in CASES.items():
                    for _ in range(20):  # warm every worker's pools and caches a little
                        httpx.get(served.base + path, timeout=30).raise_for_status()
                    run = load(served.base + path, args.duration, args.connections,
                               served.pids(), cluster)
                    run["loadavg_1m"] = os.getloadavg()[0]
                    results["runs"][f"{name}/{workers}"] = run
                    print(f"{name:10} {workers} worker{'s' if workers > 1 else ' '}  "
                          f"{run['rps']:8.1f} req/s  p50 {run['p50_ms']:6.1f} ms  "
                          f"p99 {run['p99_ms']:6.1f} ms  non-2xx {run['errors']:.0f}  "
                          f"CPU (cores): workers {run['workers_cpu']:.2f} PostgreSQL "
                          f"{run['postgres_cpu']:.2f} wrk {run['wrk_cpu']:.2f}  "
                          f"load avg {run['loadavg_1m']:.1f}", flush=True)
            finally:
                served.stop()
    finally:
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nscaling, 2 workers / 1 worker ({os.cpu_count()} cores, shared by wrk, "
          "PostgreSQL and the workers):")
    for name in CASES:
        one, two = results["runs"][f"{name}/1"], results["runs"][f"{name}/2"]
        ratio = two["rps"] / one["rps"] if one["rps"] else float("nan")
        results[f"ratio_{name}"] = ratio
        # What two cores allow: all of them busy with this request's CPU (Python + SQL).
        per_request = (one["workers_cpu"] + one["postgres_cpu"]) / one["rps"] if one["rps"] else 0
        ceiling = (os.cpu_count() or 1) / per_request if per_request else float("nan")
        results[f"ceiling_{name}"] = ceiling
        print(f"  {name:10} {one['rps']:8.1f} -> {two['rps']:8.1f} req/s   x{ratio:.2f}   "
              f"(CPU per request {per_request * 1000:.1f} ms: at most {ceiling:.0f} req/s "
              f"on {os.cpu_count()} idle cores, x{ceiling / one['rps']:.2f})")
    print(f"results: {write_results('workers', results)}")


if __name__ == "__main__":
    main()
