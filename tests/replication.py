"""A primary and a streaming replica of their own, for the tests of issue 13.

Not the session cluster: a replica copies a whole cluster (pg_basebackup), and the
session cluster holds every test module's databases. Here a small primary gets one
migrated database (demo data when asked), then ``LocalCluster.replicate`` makes its hot
standby on another 127.0.0.1 port. About 3-5 s.

    rep = Replicated(tmp_path, demo=True)
    try:
        ... rep.primary_dsn, rep.replica_dsn, rep.wait_replayed(), rep.stop_replica() ...
    finally:
        rep.close()
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import psycopg2

from rigenera.cluster import LocalCluster, free_port
from rigenera.loaders.demo import load_demo
from rigenera.migrate import migrate


class Replicated:
    def __init__(self, base: Path | None = None, *, demo: bool = True,
                 database: str = "rigenera") -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="rigenera-repl-")) if base is None else None
        root = base if base is not None else self.tmp
        assert root is not None
        root.chmod(0o755)  # the unprivileged server user must reach its data dirs
        self.primary = LocalCluster(root / "primary", free_port(), database, fsync=False)
        self.primary.ensure()
        migrate(self.primary.dsn)
        if demo:
            load_demo(self.primary.dsn)
        self.replica = self.primary.replicate(root / "replica", free_port())
        self.replica.start()
        self.wait_replayed()

    @property
    def primary_dsn(self) -> str:
        return self.primary.dsn

    @property
    def replica_dsn(self) -> str:
        return self.replica.dsn

    def primary_lsn(self) -> str:
        with psycopg2.connect(self.primary_dsn) as conn, conn.cursor() as cur:
            # the insert position: with synchronous_commit=off (fsync=False clusters) the
            # write position can still be before a commit that has already returned
            cur.execute("SELECT pg_current_wal_insert_lsn()::text")
            row = cur.fetchone()
        conn.close()
        assert row is not None
        return str(row[0])

    def wait_replayed(self, timeout: float = 30.0) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        target = self.primary_lsn()
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg2.connect(self.replica_dsn) as conn, conn.cursor() as cur:
                    cur.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,))
                    row = cur.fetchone()
                conn.close()
                if row is not None and row[0]:
                    return
            except psycopg2.OperationalError:
                pass  # still starting
            if time.monotonic() > deadline:
                raise TimeoutError(f"replica did not replay {target} in {timeout} s")
            time.sleep(0.05)

    def stop_replica(self) -> None:
        self.replica.stop()

    def start_replica(self) -> None:
        self.replica.start()

    def restart_primary(self) -> None:
        self.primary.stop()
        self.primary.start()

    def close(self) -> None:
        self.replica.destroy()
        self.primary.destroy()
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
