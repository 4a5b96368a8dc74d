"""Import benchmark: what bulk loads cost, history included.

    .venv/bin/python bench/imports.py [--repeat 3] [--sites 100000]

For each repeat, a fresh database of a throwaway cluster: migrations, the demo set
(with the 133 comuni), then timed
- `load_open_data` of the real open data (../shared/data, RIGENERA_SHARED_DATA),
  then the same load again (nothing changes: no history row, no version bump);
- the seeded synthetic sites of bench/synthetic_sites.sql (one INSERT ... SELECT
  under `rigenera.import`, as bench/run.py loads them).
History rows written by each step are counted, so a run shows what the time buys.
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

import psycopg2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "bench"))

from run import SYNTHETIC_SQL, write_results  # noqa: E402

from rigenera.cluster import LocalCluster, free_port  # noqa: E402
from rigenera.imports.sources import load_open_data  # noqa: E402
from rigenera.loaders.demo import load_demo  # noqa: E402
from rigenera.migrate import migrate  # noqa: E402

SHARED = Path(os.environ.get("RIGENERA_SHARED_DATA", ROOT.parent / "shared" / "data"))


def _scalar(dsn: str, sql: str) -> Any:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql)
        row = cur.fetchone()
    conn.close()
    return row[0] if row else None


def _history(dsn: str) -> int:
    return int(_scalar(dsn, "SELECT count(*) FROM rigenera.history"))


def _versions(dsn: str) -> int:
    return int(_scalar(dsn, "SELECT sum(version) FROM (SELECT version FROM rigenera.sites"
                            " UNION ALL SELECT version FROM rigenera.transit_stops"
                            " UNION ALL SELECT version FROM rigenera.mobility_links"
                            " UNION ALL SELECT version FROM rigenera.projects) v"))


def one_run(cluster: LocalCluster, n_sites: int) -> dict[str, Any]:
    name = f"bench_imports_{time.monotonic_ns()}"
    admin = psycopg2.connect(cluster.dsn)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    dsn = cluster.dsn.rsplit("/", 1)[0] + f"/{name}"
    migrate(dsn)
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    load_demo(dsn)
    out["demo_s"] = time.perf_counter() - t0
    out["demo_history"] = _history(dsn)
    if (SHARED / "SOURCES.md").exists():
        h0 = _history(dsn)
        t0 = time.perf_counter()
        load_open_data(dsn, SHARED, keep_demo=True)
        out["open_data_s"] = time.perf_counter() - t0
        out["open_data_history"] = _history(dsn) - h0
        h0, v0 = _history(dsn), _versions(dsn)
        t0 = time.perf_counter()
        load_open_data(dsn, SHARED, keep_demo=True)
        out["open_data_again_s"] = time.perf_counter() - t0
        out["open_data_again_history"] = _history(dsn) - h0
        out["open_data_again_version_bumps"] = _versions(dsn) - v0
    h0 = _history(dsn)
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        t0 = time.perf_counter()
        cur.execute(SYNTHETIC_SQL, {"n": n_sites})
        conn.commit()
        out["synthetic_s"] = time.perf_counter() - t0
    conn.close()
    out["synthetic_history"] = _history(dsn) - h0
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sites", type=int, default=100_000)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rigenera-bench-imports-"))
    work.chmod(0o755)
    cluster = LocalCluster(work / "state", free_port(), "postgres")
    try:
        cluster.ensure()
        runs = [one_run(cluster, args.sites) for _ in range(args.repeat)]
    finally:
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)
    summary = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    for k, v in summary.items():
        print(f"{k:32s} {v:10.3f}" if k.endswith("_s") else f"{k:32s} {v:10.0f}")
    print("results:", write_results("imports", {"runs": runs, "median": summary,
                                                "sites": args.sites}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
