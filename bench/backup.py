"""Backup benchmark: `rigenera backup` and `rigenera restore` of a production-sized database.

    .venv/bin/python bench/backup.py [--sites 100000] [--files 200] [--file-kib 256] [--jobs 2]

A throwaway cluster (fsync on, as in production) with the demo set and the seeded
synthetic sites of bench/synthetic_sites.sql, plus `--files` stored documents of random
bytes; then the real CLI in child processes: a backup, and a restore into a new database
on a second new cluster (PostGIS not yet created there). Prints rows, sizes, the seconds of
each and the throughput; writes bench/results/backup-<time>.json.
"""

from __future__ import annotations

import argparse
import os
import re
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
from rigenera.monitoring.storage import FolderStorage  # noqa: E402

RIGENERA = str(Path(sys.executable).parent / "rigenera")
MIB = 1024 * 1024


def cli(*args: str, dsn: str, state: Path) -> tuple[float, str]:
    env = {**os.environ, "DATABASE_URL": dsn, "RIGENERA_STATE_DIR": str(state),
           "RIGENERA_LOG_LEVEL": "warning",
           "PYTHONPATH": str(ROOT / "server") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    t0 = time.monotonic()
    out = subprocess.run([RIGENERA, *args], env=env, capture_output=True, text=True,
                         check=False, timeout=3600)
    seconds = time.monotonic() - t0
    if out.returncode != 0:
        raise SystemExit(f"rigenera {args[0]} failed ({out.returncode}): {out.stderr}")
    return seconds, out.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--file-kib", type=int, default=256)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rigenera-bench-backup-"))
    work.chmod(0o755)
    source = LocalCluster(work / "source", free_port(), "rigenera")
    target = LocalCluster(work / "target", free_port(), "rigenera")
    results: dict[str, Any] = {"sites": args.sites, "files": args.files,
                               "file_kib": args.file_kib, "jobs": args.jobs}
    try:
        source.ensure()
        migrate(source.dsn)
        t0 = time.monotonic()
        load_demo(source.dsn)
        with psycopg2.connect(source.dsn) as conn, conn.cursor() as cur:
            cur.execute(SYNTHETIC_SQL, {"n": args.sites})
        conn.close()
        state = work / "state"
        store = FolderStorage(state / "documents")
        blob = work / "blob"
        for i in range(args.files):
            blob.write_bytes(os.urandom(args.file_kib * 1024))
            store.put(f"{1 + i % 20}/{os.urandom(16).hex()}", blob)
        print(f"data ready in {time.monotonic() - t0:.1f} s", flush=True)

        backup_s, out = cli("backup", "-o", str(work / "backup.tar"), dsn=source.dsn,
                            state=state)
        print(out, end="", flush=True)
        rows = int(re.search(r"(\d+) righe", out).group(1))  # type: ignore[union-attr]
        archive_bytes = (work / "backup.tar").stat().st_size
        target.ensure()  # a new server: an empty database, no PostGIS in it
        restore_s, out = cli("restore", str(work / "backup.tar"), "-j", str(args.jobs),
                             dsn=target.dsn, state=work / "restored")
        print(out, end="", flush=True)
        pg_restore_s = float(re.search(r"pg_restore ([\d.]+) s", out).group(1))  # type: ignore[union-attr]
        results.update(rows=rows, archive_mib=round(archive_bytes / MIB, 1),
                       backup_seconds=round(backup_s, 2), restore_seconds=round(restore_s, 2),
                       pg_restore_seconds=pg_restore_s,
                       backup_mib_s=round(archive_bytes / MIB / backup_s, 1),
                       restore_mib_s=round(archive_bytes / MIB / restore_s, 1))
        print(f"\n{rows} rows + {args.files} files, archive {archive_bytes / MIB:.1f} MiB: "
              f"backup {backup_s:.1f} s ({results['backup_mib_s']} MiB/s), "
              f"restore {restore_s:.1f} s ({results['restore_mib_s']} MiB/s; pg_restore "
              f"{pg_restore_s:.1f} s with -j {args.jobs}), wall times of the CLI")
        print(f"results: {write_results('backup', results)}")
    finally:
        target.destroy()
        source.destroy()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
