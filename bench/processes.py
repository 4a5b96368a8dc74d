"""Process benchmark: `sites-near-transit` against the plain-SQL floor, in one run.

100,000 seeded synthetic site polygons (bench/synthetic_sites.sql) x 5,000 seeded random
stops (5 % rail, 5 % metro, 12 % tram, 78 % bus) over the same area, on one throwaway
cluster. For each case, repeated and interleaved:

* http      POST /ogc/processes/sites-near-transit/execution on a Rigenera server
            (one uvicorn worker), the whole GeoJSON body read;
* sql       the process's own statement (sql/near_transit.sql) with its session settings;
* floor     the plain SQL a GIS person writes for the same answer: every site with its
            nearest stop by KNN (`<->` in a LATERAL, LIMIT 1) plus `ST_DWithin` on the
            GIST-indexed UTM 32N column (geom_utm, migration 0019), rendered into the
            same FeatureCollection by the very rendering SQL of the process (its
            distances are planar: it is not exact, it is the floor);
* floor_rows the same KNN query returning (site, stop, distance) rows, nothing rendered.

Wall-clock medians are printed with the backend's CPU time (from /proc), which the
other tenants of a shared VM disturb less, and the ratios to the floors. The floor's
answer is compared with the process's (it differs only at the edge, where planar and
geodesic distances disagree).

    .venv/bin/python bench/processes.py [--repeat 3] [--only 500_all,5km_rail]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
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

from run import SYNTHETIC_SQL, start_rigenera, write_results  # noqa: E402

from rigenera.cluster import LocalCluster, free_port  # noqa: E402
from rigenera.loaders.demo import load_demo  # noqa: E402
from rigenera.migrate import migrate  # noqa: E402
from rigenera.processes import near_transit  # noqa: E402

N_SITES, N_STOPS = 100_000, 5_000
STOPS_SQL = """
SELECT set_config('rigenera.import', 'on', true);
SELECT setseed(0.1717);
INSERT INTO rigenera.transit_stops (mode, name, source, source_id, geom)
SELECT CASE WHEN r < 0.05 THEN 'rail' WHEN r < 0.10 THEN 'metro' WHEN r < 0.22 THEN 'tram'
            ELSE 'bus' END,
       'Fermata sintetica ' || n, 'Benchmark (dati sintetici)', 'bench-stop-' || n,
       ST_SetSRID(ST_MakePoint(8.95 + x * 0.5, 45.3 + y * 0.375), 4326)
  FROM (SELECT n, random() AS r, random() AS x, random() AS y
          FROM generate_series(1, %(n)s) n) g;
ANALYZE rigenera.transit_stops;
"""
CASES = {"500_all": {"distance_m": 500, "modes": None},
         "5km_rail": {"distance_m": 5000, "modes": ["rail"]},
         "1200_metro": {"distance_m": 1200, "modes": ["metro"]}}
KNN = """SELECT s.id, n.id AS stop_id, n.d AS dist
  FROM rigenera.sites s
  CROSS JOIN LATERAL (
    SELECT t.id, s.geom_utm <-> t.geom_utm AS d FROM rigenera.transit_stops t
     WHERE ST_DWithin(s.geom_utm, t.geom_utm, %(distance_m)s)
       AND (%(modes)s::text[] IS NULL OR t.mode = ANY(%(modes)s))
     ORDER BY s.geom_utm <-> t.geom_utm LIMIT 1) n"""
# The process's rendering of a found (id, stop_id, dist) set, expression for expression.
RENDER = """SELECT count(*) AS returned,
       convert_to('{"type":"FeatureCollection","features":[' || coalesce(string_agg(
         '{"type":"Feature","id":' || p.id
         || ',"geometry":' || ST_AsGeoJSON(p.geom, 7)
         || ',"properties":{"id":' || p.id
         || ',"name":' || coalesce(to_json(p.name)::text, 'null')
         || ',"istat_code":' || coalesce(to_json(p.istat_code)::text, 'null')
         || ',"state":' || coalesce(to_json(p.state)::text, 'null')
         || ',"former_use":' || coalesce(to_json(p.former_use)::text, 'null')
         || ',"surface_m2":' || coalesce(to_json(p.surface_m2)::text, 'null')
         || ',"validation_status":' || coalesce(to_json(p.validation_status)::text, 'null')
         || ',"nearest_stop_id":' || t.id
         || ',"nearest_stop_name":' || coalesce(to_json(t.name)::text, 'null')
         || ',"nearest_stop_mode":' || coalesce(to_json(t.mode)::text, 'null')
         || ',"distance_m":' || round(f.dist::numeric, 1)
         || '}}', ',' ORDER BY p.id), '') || ']}', 'UTF8') AS body
  FROM found f
  JOIN pub.sites p ON p.id = f.id
  JOIN rigenera.transit_stops t ON t.id = f.stop_id""".replace("%", "%%")
FLOOR_DOC = f"WITH found AS ({KNN})\n{RENDER}"
FLOOR_ROWS = KNN
OPTIONS = (f"-c jit=off -c max_parallel_workers_per_gather=0 -c work_mem={near_transit.WORK_MEM}")
TCK = os.sysconf("SC_CLK_TCK")


def backend_cpu(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TCK


def timed_sql(dsn: str, sql: str, params: dict[str, Any]) -> tuple[float, float | None, Any]:
    """Wall and backend CPU seconds of one statement on a fresh connection, its rows."""
    conn = psycopg2.connect(dsn, options=OPTIONS)
    try:
        conn.set_session(readonly=True)
        with conn.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            (pid,) = cur.fetchone()  # type: ignore[misc]
            c0 = backend_cpu(pid)
            t0 = time.perf_counter()
            cur.execute(sql, params)
            rows = cur.fetchall()
            wall = time.perf_counter() - t0
            c1 = backend_cpu(pid)
        conn.rollback()
    finally:
        conn.close()
    return wall, (c1 - c0 if c0 is not None and c1 is not None else None), rows


def prepare(cluster: LocalCluster) -> str:
    dsn = cluster.dsn
    migrate(dsn)
    t0 = time.monotonic()
    load_demo(dsn)
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(SYNTHETIC_SQL, {"n": N_SITES})
        cur.execute(STOPS_SQL, {"n": N_STOPS})
    conn.close()
    print(f"data loaded in {time.monotonic() - t0:.1f} s", flush=True)
    return dsn


def compare(dsn: str, params: dict[str, Any]) -> dict[str, int]:
    """How the floor's (planar) answer differs from the process's (geodesic) one."""
    body = timed_sql(dsn, near_transit.SQL, params)[2][0][1]
    import json

    ours = {f["id"]: f["properties"]["nearest_stop_id"] for f in json.loads(bytes(body))["features"]}
    floor = {r[0]: r[1] for r in timed_sql(dsn, FLOOR_ROWS, params)[2]}
    return {"sites": len(ours), "floor_sites": len(floor),
            "only_in_floor": len(floor.keys() - ours.keys()),
            "only_in_process": len(ours.keys() - floor.keys()),
            "other_nearest_stop": sum(1 for k in ours.keys() & floor.keys() if ours[k] != floor[k])}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="500_all,5km_rail")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = Path(tempfile.mkdtemp(prefix="rigenera-bench-proc-"))
    work.chmod(0o755)
    cluster = LocalCluster(work / "state", free_port(), "rigenera")
    server = None
    try:
        cluster.ensure()
        dsn = prepare(cluster)
        server = start_rigenera(dsn, work)
        results: dict[str, Any] = {"n_sites": N_SITES, "n_stops": N_STOPS,
                                   "repeat": args.repeat, "cases": {}}
        with httpx.Client(base_url=server.base, timeout=300) as client:
            for name in args.only.split(","):
                inputs = CASES[name]
                params = near_transit.parse_inputs(inputs)
                runs: dict[str, list[tuple[float, float | None]]] = {
                    k: [] for k in ("http", "sql", "floor", "floor_rows")}
                size = 0
                for i in range(args.repeat):
                    t0 = time.perf_counter()
                    r = client.post("/ogc/processes/sites-near-transit/execution",
                                    json={"inputs": inputs})
                    runs["http"].append((time.perf_counter() - t0, None))
                    assert r.status_code == 200, r.text[:300]
                    size = len(r.content)
                    for key, sql in (("sql", near_transit.SQL), ("floor", FLOOR_DOC),
                                     ("floor_rows", FLOOR_ROWS)):
                        wall, cpu, _ = timed_sql(dsn, sql, params)
                        runs[key].append((wall, cpu))
                    print(f"{name} run {i + 1}: " + "  ".join(
                        f"{k} {v[-1][0]:.2f} s" for k, v in runs.items()), flush=True)
                row: dict[str, Any] = {"inputs": inputs, "bytes": size,
                                       "answer": compare(dsn, params)}
                for key, vals in runs.items():
                    cpus = [c for _, c in vals if c is not None]
                    row[key] = {"wall_s": round(statistics.median(w for w, _ in vals), 3),
                                "cpu_s": round(statistics.median(cpus), 3) if cpus else None,
                                "runs_s": [round(w, 3) for w, _ in vals]}
                results["cases"][name] = row
        report(results)
        print(f"\nresults: {write_results('processes', results)}")
        return 0
    finally:
        if server is not None:
            server.stop()
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)


def report(results: dict[str, Any]) -> None:
    print(f"\n{'case':11s} {'http':>7s} {'sql':>7s} {'floor':>7s} {'rows':>7s}"
          f"  {'http/floor':>10s} {'sql/floor':>9s} {'http/rows':>9s}  cpu sql/floor  answer")
    for name, row in results["cases"].items():
        h, s, f, fr = (row[k]["wall_s"] for k in ("http", "sql", "floor", "floor_rows"))
        cs, cf = row["sql"]["cpu_s"], row["floor"]["cpu_s"]
        cpu = f"{cs / cf:5.2f}x" if cs and cf else "  n/a"
        print(f"{name:11s} {h:7.2f} {s:7.2f} {f:7.2f} {fr:7.2f}  {h / f:9.2f}x {s / f:8.2f}x"
              f" {h / fr:8.2f}x  {cpu:>13s}  {row['answer']} {row['bytes'] / 1e6:.1f} MB")


if __name__ == "__main__":
    raise SystemExit(main())
