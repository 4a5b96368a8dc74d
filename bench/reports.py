"""Report benchmark: the whole-metro PDF report on the real data (time and size).

    .venv/bin/python bench/reports.py [--repeat 3] [--by programme] [--keep FILE]

A throwaway cluster and database: migrations, then `load_open_data` of the real open
data (../shared/data, RIGENERA_SHARED_DATA: comuni, ReGiS, DM 30/12/2021, transit,
cycle, sites), then the report timed per format, the PDF first. Not a timed test: it
prints what a report costs (seconds, bytes, pages) and writes bench/results.
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

from run import write_results  # noqa: E402

from rigenera.cluster import LocalCluster, free_port  # noqa: E402
from rigenera.imports.sources import load_open_data  # noqa: E402
from rigenera.migrate import migrate  # noqa: E402
from rigenera.reports import FORMATS, make_report, parse  # noqa: E402

SHARED = Path(os.environ.get("RIGENERA_SHARED_DATA", ROOT.parent / "shared" / "data"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--by", default="programme")
    ap.add_argument("--keep", type=Path, help="copy the last PDF here")
    args = ap.parse_args()
    if not (SHARED / "SOURCES.md").exists():
        print(f"real open data not found at {SHARED}", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="rigenera-bench-reports-"))
    work.chmod(0o755)
    cluster = LocalCluster(work / "state", free_port(), "postgres")
    results: dict[str, Any] = {}
    try:
        cluster.ensure()
        admin = psycopg2.connect(cluster.dsn)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute('CREATE DATABASE "bench_reports"')
        admin.close()
        dsn = cluster.dsn.rsplit("/", 1)[0] + "/bench_reports"
        migrate(dsn)
        t0 = time.perf_counter()
        load_open_data(dsn, SHARED)
        print(f"load_open_data {time.perf_counter() - t0:8.1f} s")
        req = parse(by=args.by)
        for name in ("pdf", "json", "xlsx", "gpkg", "csv"):
            fmt = FORMATS[name]
            times, size, pages = [], 0, None
            for i in range(args.repeat):
                path = work / f"report-{i}.{fmt.extension}"
                t = time.perf_counter()
                result = make_report(dsn, req, fmt, path)
                times.append(time.perf_counter() - t)
                size, pages = path.stat().st_size, result.pages
                if name == "pdf" and args.keep:
                    shutil.copy(path, args.keep)
            results[name] = {"median_s": statistics.median(times), "runs_s": times, "bytes": size,
                             "pages": pages, "groups": result.groups}
            extra = f", {pages} pages" if pages else ""
            print(f"{name:5s} by {args.by}: {statistics.median(times):6.2f} s (median of {args.repeat}),"
                  f" {size:,} bytes{extra}")
    finally:
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)
    print("results:", write_results("reports", {"by": args.by, "formats": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
