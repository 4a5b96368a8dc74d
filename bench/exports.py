"""Export benchmark: time and peak memory of `rigenera export` for 100,000 sites.

    .venv/bin/python bench/exports.py [--sites 100000] [--formats gpkg,geojson,csv,xlsx]

A throwaway cluster, the demo set and the seeded synthetic sites of
bench/synthetic_sites.sql; then each format exported by the real CLI in a child process
(`rigenera export sites --format F`), its wall time and its peak RSS (VmHWM), and, side
by side in the same run, `ogr2ogr -f GPKG` of the same view (GDAL reading PostgreSQL
itself) as the floor for the GeoPackage, and an export of no rows
(the CLI's start-up and imports: ~220 MB of libraries, pygeoapi, GDAL, PROJ, Arrow).
Then the API: the app served in this process (uvicorn in a thread, as the tests do), each
format downloaded by streaming, with this process's resident set before and its peak
during the download (the peak reset between formats through /proc/self/clear_refs).
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

import psycopg2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "bench"))

from run import SYNTHETIC_SQL, write_results  # noqa: E402

from rigenera.cluster import LocalCluster, free_port  # noqa: E402
from rigenera.loaders.demo import load_demo  # noqa: E402
from rigenera.migrate import migrate  # noqa: E402


def _hwm_kb(pid: int) -> int:
    """The process's peak resident set (VmHWM) since its exec, in KiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def timed(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run a child, return its wall time and peak RSS (MB). The peak is VmHWM polled every
    10 ms: ru_maxrss would also count the pages of this (large) process the child held
    between fork and exec."""
    t0 = time.perf_counter()
    child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    peak = 0
    while child.poll() is None:
        peak = max(peak, _hwm_kb(child.pid))
        time.sleep(0.01)
    seconds = time.perf_counter() - t0
    if child.returncode != 0:
        raise RuntimeError(f"{cmd} failed ({child.returncode})")
    return {"s": round(seconds, 2), "rss_mb": round(peak / 1024, 1)}


def _status_mb() -> dict[str, int]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmHWM:", "VmRSS:")):
            out[line.split(":")[0]] = int(line.split()[1]) // 1024
    return out


def api_exports(dsn: str, work: Path, formats: list[str]) -> dict[str, Any]:
    """GET /api/exports/sites?format=F against the app served in this process."""
    import threading

    import httpx
    import uvicorn

    from rigenera.factory import create_app
    from rigenera.settings import Settings

    port = free_port()
    settings = Settings(host="127.0.0.1", port=port, state_dir=work / "api", database_url=dsn,
                        log_level="warning")
    server = uvicorn.Server(uvicorn.Config(create_app(settings, dsn=dsn), host="127.0.0.1",
                                           port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    out: dict[str, Any] = {}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=900) as client:
            client.get("/api/exports/sites", params={"format": "gpkg", "filter": "id < 0"})
            for fmt in formats:
                if fmt == "xlsx":
                    continue  # refused over the API beyond 50,000 rows
                Path("/proc/self/clear_refs").write_text("5")
                before = _status_mb()["VmRSS"]
                t0, size = time.perf_counter(), 0
                with client.stream("GET", "/api/exports/sites", params={"format": fmt}) as r:
                    for chunk in r.iter_bytes():
                        size += len(chunk)
                out[fmt] = {"s": round(time.perf_counter() - t0, 2), "status": r.status_code,
                            "mb": round(size / 2**20, 1), "rss_before_mb": before,
                            "rss_peak_mb": _status_mb()["VmHWM"]}
                print(f"GET /api/exports {fmt:8s} {out[fmt]}", flush=True)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sites", type=int, default=100_000)
    ap.add_argument("--formats", default="gpkg,geojson,csv,xlsx")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rigenera-bench-exports-"))
    work.chmod(0o755)
    cluster = LocalCluster(work / "state", free_port(), "postgres")
    results: dict[str, Any] = {"sites": args.sites}
    try:
        dsn = cluster.ensure()
        migrate(dsn)
        load_demo(dsn)
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute(SYNTHETIC_SQL, {"n": args.sites})
        conn.close()
        env = {**os.environ, "DATABASE_URL": dsn}
        rigenera = str(Path(sys.executable).with_name("rigenera"))
        empty = work / "empty.gpkg"
        results["baseline"] = timed([rigenera, "export", "sites", "--filter", "id < 0", "-o",
                                     str(empty)], env)
        print(f"rigenera export nothing  {results['baseline']}", flush=True)
        for fmt in args.formats.split(","):
            out = work / f"sites.{fmt}"
            results[fmt] = timed([rigenera, "export", "sites", "--format", fmt, "-o", str(out)],
                                 env)
            results[fmt]["mb"] = round(out.stat().st_size / 2**20, 1)
            print(f"rigenera export {fmt:8s} {results[fmt]}", flush=True)
        if shutil.which("ogr2ogr"):
            out = work / "ogr2ogr.gpkg"
            pg = "PG:" + " ".join(f"{k}={v}" for k, v in psycopg2.extensions.parse_dsn(dsn).items())
            results["ogr2ogr_gpkg"] = timed(
                ["ogr2ogr", "-f", "GPKG", str(out), pg, "pub.sites", "-nln", "sites"], env)
            print(f"ogr2ogr -f GPKG        {results['ogr2ogr_gpkg']}", flush=True)
        results["api"] = api_exports(dsn, work, args.formats.split(","))
    finally:
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)
    results["self_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print("results:", write_results("exports", results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
