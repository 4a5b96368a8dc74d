"""Import benchmark (issue 10): 100,000 polygons from a GeoPackage, ours against ogr2ogr.

    .venv/bin/python bench/import_gpkg.py [--sites 100000] [--keep]

One throwaway cluster. A source database gets the comuni and the seeded synthetic
sites of bench/synthetic_sites.sql, written to a GeoPackage by ogr2ogr (layer
`sites`: name, istat_code, state, former_use, ownership, source, source_id, polygon).
A target database gets the migrations and the demo set (133 comuni, 12 sites). Then,
each as a child process timed on the wall clock, with its peak RSS from wait4():

1. `ogr2ogr -f PostgreSQL` of the file into a fresh table of the target (COPY), and
   `ogr2ogr -append` of it into `rigenera.sites` of a second such database as an import
   (PGOPTIONS rigenera.import=on): what the table itself costs (constraints, indexes,
   triggers, history), with none of our reading, checking or matching;
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


# A small launcher measures each step: a child forked from this process (which holds
# geopandas and the comuni, ~300 MB) would report this process's RSS as its own peak
# (Linux carries the high-water mark across fork), as ogr2ogr's "298 MB" did at first.
LAUNCHER = """
import json, os, sys, time
t = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as fh:
    json.dump({"seconds": time.perf_counter() - t, "maxrss_kb": usage.ru_maxrss,
               "exit": os.waitstatus_to_exitcode(status)}, fh)
"""


def timed(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Wall time and peak RSS of one command. Exit 2 (refused or invalid rows) is an
    answer too: the report says why."""
    with tempfile.TemporaryDirectory() as tmp:
        out, err, res = Path(tmp, "out"), Path(tmp, "err"), Path(tmp, "res.json")
        with out.open("wb") as o, err.open("wb") as e:
            subprocess.run([sys.executable, "-S", "-c", LAUNCHER, str(res), *cmd], env=env,
                           stdout=o, stderr=e, check=True)
        r = json.loads(res.read_text())
        stdout, stderr = out.read_text(), err.read_text()
    if r["exit"] not in (0, 2):
        raise RuntimeError(f"{cmd[0]} failed ({r['exit']}): {stderr[-2000:]}")
    return {"seconds": round(r["seconds"], 3), "peak_rss_mb": round(r["maxrss_kb"] / 1024, 1),
            "exit": r["exit"], "stdout": stdout}


def build_gpkg(cluster: LocalCluster, n: int, path: Path) -> None:
    dsn = _database(cluster, "bench_import_src")
    migrate(dsn)
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        load_comuni_from_geopop(cur)
        cur.execute("SELECT rigenera.refresh_boundary()")
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(SYNTHETIC_SQL, {"n": n + n // 200})
    conn.close()
    # Only sites the rules accept: a synthetic polygon around a point near the border can
    # stick out of the metro area (~0.1 %), which an import rightly refuses.
    subprocess.run(["ogr2ogr", "-f", "GPKG", str(path), _pg(dsn), "-nln", "sites",
                    "-sql", f"SELECT {COLUMNS} FROM rigenera.sites"
                            " WHERE source = 'Benchmark (dati sintetici)'"
                            f" AND rigenera.in_metro_area(geom) ORDER BY id LIMIT {n}"],
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
        # The same table's floor: ogr2ogr appending the file into rigenera.sites of a second
        # database, as an import (statement-level history, in-area rule skipped), so every
        # constraint, index and trigger the table has is paid, and nothing of ours.
        dsn_table = _database(cluster, "bench_import_table")
        migrate(dsn_table)
        load_demo(dsn_table)
        with psycopg2.connect(dsn_table) as conn, conn.cursor() as cur:
            cur.execute("ANALYZE")
        conn.close()
        env = {**os.environ, "DATABASE_URL": dsn, "RIGENERA_LOG_LEVEL": "warning"}
        env_table = {**os.environ, "PGOPTIONS": "-c rigenera.import=on"
                     " -c rigenera.actor=import:ogr2ogr"}
        rigenera = [sys.executable, "-m", "rigenera.cli"]
        steps: dict[str, list[str]] = {
            "ogr2ogr": ["ogr2ogr", "-f", "PostgreSQL", _pg(dsn), str(gpkg), "-nln",
                        "public.ogr_sites", "-lco", "GEOMETRY_NAME=geom"],
            "ogr2ogr_into_sites": [
                "ogr2ogr", "-append", "-f", "PostgreSQL", _pg(dsn_table), str(gpkg),
                "-nln", "rigenera.sites", "-sql",
                "SELECT name, istat_code, state, former_use, ownership, source, source_id, geom"
                " FROM sites"],
            "dry_run": [*rigenera, "import", str(gpkg), "--collection", "sites", "--dry-run",
                        "--json"],
            "import": [*rigenera, "import", str(gpkg), "--collection", "sites", "--json"],
            "reimport": [*rigenera, "import", str(gpkg), "--collection", "sites", "--json"],
        }
        for name, cmd in steps.items():
            r = timed(cmd, env_table if name == "ogr2ogr_into_sites" else env)
            if not name.startswith("ogr2ogr"):
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
        results["ratio_import_to_ogr2ogr_into_sites"] = round(
            results["import"]["seconds"] / results["ogr2ogr_into_sites"]["seconds"], 2)
        with psycopg2.connect(dsn_table) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM rigenera.sites WHERE source_id LIKE 'bench-%%'")
            results["ogr2ogr_into_sites"]["rows"] = cur.fetchone()[0]
        conn.close()
        print(f"import / ogr2ogr = {results['ratio_import_to_ogr2ogr']}x (target <= 1.5x);"
              f" dry run / ogr2ogr = {results['ratio_dry_run_to_ogr2ogr']}x;"
              f" peak RSS {results['import']['peak_rss_mb']} MB (target <= 250 MB);"
              f" import / ogr2ogr into rigenera.sites ="
              f" {results['ratio_import_to_ogr2ogr_into_sites']}x")
        print(f"results: {write_results('import_gpkg', results)}")
    finally:
        cluster.destroy() if not args.keep else cluster.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
