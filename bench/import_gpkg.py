"""Import benchmark (issue 10): 100,000 polygons from a GeoPackage, ours against ogr2ogr.

    .venv/bin/python bench/import_gpkg.py [--sites 100000] [--keep]

One throwaway cluster. A source database gets the comuni and the seeded synthetic
sites of bench/synthetic_sites.sql, written to a GeoPackage by ogr2ogr (layer
`sites`: name, istat_code, state, former_use, ownership, source, source_id, polygon).
A target database gets the migrations and the demo set (133 comuni, 12 sites). Then,
each as a child process timed on the wall clock, with its peak RSS from wait4():

1. `ogr2ogr -f PostgreSQL` of the file into a fresh table of the target (COPY);
2. `rigenera import FILE --collection sites --dry-run` (checks and classification of
   every row, nothing written);
3. `rigenera import FILE --collection sites` into the empty sites table (validation,
   duplicate detection, triggers, history: one row per created site);
4. the same import again: every row unchanged, nothing written.

Results go to bench/results/import_gpkg-<time>.json; the ratio to ogr2ogr is printed.
"""

from __future__ import annotations

import argparse
import json
import os
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
from rigenera.loaders.comuni import load_comuni_from_geopop  # noqa: E402
from rigenera.loaders.demo import load_demo  # noqa: E402
from rigenera.migrate import migrate  # noqa: E402

COLUMNS = "name, istat_code, state, former_use, ownership, source, source_id, geom"


def _database(cluster: LocalCluster, name: str) -> str:
    admin = psycopg2.connect(cluster.dsn)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return cluster.dsn.rsplit("/", 1)[0] + f"/{name}"


def _pg(dsn: str) -> str:
    """A libpq DSN GDAL's PG: driver takes."""
    from urllib.parse import urlparse

    u = urlparse(dsn)
    return (f"PG:host={u.hostname} port={u.port} dbname={u.path.lstrip('/')} "
            f"user={u.username} password={u.password}")


def timed(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a child process; wall time and its own peak RSS (wait4). Exit 2 (refused or
    invalid rows) is an answer too: the report says why."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        code = os.waitstatus_to_exitcode(status)
        proc.returncode = code
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if code not in (0, 2):
        raise RuntimeError(f"{cmd[0]} failed ({code}): {stderr[-2000:]}")
    return {"seconds": round(seconds, 3), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "exit": code, "stdout": stdout}


def build_gpkg(cluster: LocalCluster, n: int, path: Path) -> None:
    dsn = _database(cluster, "bench_import_src")
    migrate(dsn)
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        load_comuni_from_geopop(cur)
        cur.execute("SELECT rigenera.refresh_boundary()")
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(SYNTHETIC_SQL, {"n": n})
    conn.close()
    subprocess.run(["ogr2ogr", "-f", "GPKG", str(path), _pg(dsn), "-nln", "sites",
                    "-sql", f"SELECT {COLUMNS} FROM rigenera.sites"
                            " WHERE source = 'Benchmark (dati sintetici)' ORDER BY id"],
                   check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=100_000)
    ap.add_argument("--keep", action="store_true", help="keep the cluster's folder")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="rigenera-bench-import-"))
    tmp.chmod(0o755)
    cluster = LocalCluster(tmp / "state", free_port(), "postgres")
    cluster.ensure()
    results: dict[str, Any] = {"sites": args.sites}
    try:
        gpkg = tmp / "sites.gpkg"
        t0 = time.perf_counter()
        build_gpkg(cluster, args.sites, gpkg)
        results["gpkg_mb"] = round(gpkg.stat().st_size / 2**20, 1)
        print(f"GeoPackage: {args.sites} polygons, {results['gpkg_mb']} MB"
              f" ({time.perf_counter() - t0:.1f} s to build)")
        dsn = _database(cluster, "bench_import")
        migrate(dsn)
        load_demo(dsn)
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute("ANALYZE")
        conn.close()
        env = {**os.environ, "DATABASE_URL": dsn, "RIGENERA_LOG_LEVEL": "warning"}
        rigenera = [sys.executable, "-m", "rigenera.cli"]
        steps: dict[str, list[str]] = {
            "ogr2ogr": ["ogr2ogr", "-f", "PostgreSQL", _pg(dsn), str(gpkg), "-nln",
                        "public.ogr_sites", "-lco", "GEOMETRY_NAME=geom"],
            "dry_run": [*rigenera, "import", str(gpkg), "--collection", "sites", "--dry-run",
                        "--json"],
            "import": [*rigenera, "import", str(gpkg), "--collection", "sites", "--json"],
            "reimport": [*rigenera, "import", str(gpkg), "--collection", "sites", "--json"],
        }
        for name, cmd in steps.items():
            r = timed(cmd, env)
            if name != "ogr2ogr":
                rep = json.loads(r["stdout"])
                r["rejected"] = rep["rejected"][:5]
                r["counts"] = rep["counts"]
                r["status"] = rep["status"]
                r["phases"] = rep.get("timings")
            r.pop("stdout")
            results[name] = r
            print(f"{name:9s} {r['seconds']:7.2f} s  peak RSS {r['peak_rss_mb']:6.1f} MB"
                  f"  {r.get('status', '')} {r.get('counts', '')}")
        base = results["ogr2ogr"]["seconds"]
        results["ratio_import_to_ogr2ogr"] = round(results["import"]["seconds"] / base, 2)
        results["ratio_dry_run_to_ogr2ogr"] = round(results["dry_run"]["seconds"] / base, 2)
        print(f"import / ogr2ogr = {results['ratio_import_to_ogr2ogr']}x (target <= 1.5x);"
              f" dry run / ogr2ogr = {results['ratio_dry_run_to_ogr2ogr']}x;"
              f" peak RSS {results['import']['peak_rss_mb']} MB (target <= 250 MB)")
        print(f"results: {write_results('import_gpkg', results)}")
    finally:
        cluster.destroy() if not args.keep else cluster.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
