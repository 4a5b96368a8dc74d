"""Point-in-time recovery, the steps of docs/operations.md run for real with the embedded
cluster's binaries: WAL archiving on (archive_mode, the archive_command of
docker-compose.yml), a base backup (pg_basebackup), two writes a moment apart, then a new
data directory from the base backup recovered with restore_command up to a time between
the two writes and promoted: the first write is there, the second is not, and the
recovered server takes writes. About 10 s.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from conftest import query
from rigenera.cluster import LocalCluster, free_port
from rigenera.migrate import migrate


def wait_for(check, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except psycopg2.OperationalError:
            pass  # still starting or recovering
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.1)


def add_account(dsn: str, username: str) -> str:
    """A committed write; returns the server's clock right after its commit."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO rigenera.accounts (username, role, password_hash)"
                    " VALUES (%s, 'volunteer', 'x')", (username,))
    conn.close()
    return str(query(dsn, "SELECT clock_timestamp()::text")[0][0])


@pytest.fixture
def work() -> Iterator[Path]:
    tmp = Path(tempfile.mkdtemp(prefix="rigenera-pitr-"))
    tmp.chmod(0o755)  # the unprivileged server user must reach the data dirs and the archive
    yield tmp
    shutil.rmtree(tmp, ignore_errors=True)


def test_point_in_time_recovery_with_archived_wal(work: Path) -> None:
    archive = work / "wal-archive"
    archive.mkdir(mode=0o700)
    primary = LocalCluster(work / "primary", free_port(), "rigenera", fsync=False)
    recovered = LocalCluster(work / "recovered", free_port(), "rigenera", fsync=False)
    try:
        primary.ensure()
        primary._chown(archive)  # the server user writes the archive
        # 1. WAL archiving (docs/operations.md; docker-compose.yml sets the same on db)
        conn = psycopg2.connect(primary.dsn)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("ALTER SYSTEM SET archive_mode = on")
            cur.execute("ALTER SYSTEM SET archive_command = %s",
                        (f"test ! -f {archive}/%f && cp %p {archive}/%f",))
        conn.close()
        primary.stop()
        primary.start()
        migrate(primary.dsn)
        # 2. the nightly base backup
        base = recovered.datadir
        recovered.server_dir.mkdir(parents=True, mode=0o700)
        recovered._chown(recovered.server_dir)
        conninfo = (f"host=127.0.0.1 port={primary.port} user=postgres "
                    f"password={primary.password}")
        started = time.monotonic()
        primary._run(str(primary.bindir / "pg_basebackup"), "-D", str(base), "-d", conninfo,
                     "-X", "stream", "-c", "fast")
        base_seconds = time.monotonic() - started
        shutil.copy2(primary.password_file, recovered.password_file)
        # 3. the day's work: one write, the moment to go back to, another write
        add_account(primary.dsn, "prima")
        time.sleep(1.0)
        target = str(query(primary.dsn, "SELECT clock_timestamp()::text")[0][0])
        time.sleep(1.0)
        add_account(primary.dsn, "dopo")
        (last,) = query(primary.dsn, "SELECT pg_walfile_name(pg_current_wal_lsn())")[0]
        query(primary.dsn, "SELECT pg_switch_wal()")
        wait_for(lambda: query(primary.dsn, "SELECT last_archived_wal >= %s FROM "
                                            "pg_stat_archiver", (last,))[0][0],
                 what="WAL not archived")
        primary.stop()  # the primary is lost
        # 4. recovery: restore_command, recovery_target_time, promote
        with (base / "postgresql.auto.conf").open("a") as conf:
            conf.write(f"restore_command = 'cp {archive}/%f %p'\n"
                       f"recovery_target_time = '{target}'\n"
                       "recovery_target_action = 'promote'\n"
                       "archive_mode = off\n")
        (base / "recovery.signal").touch()
        recovered._chown(base / "recovery.signal")
        started = time.monotonic()
        recovered.start()
        wait_for(lambda: not query(recovered.dsn, "SELECT pg_is_in_recovery()")[0][0],
                 what="not promoted")
        recovery_seconds = time.monotonic() - started
        users = [u for (u,) in query(recovered.dsn, "SELECT username FROM rigenera.accounts"
                                                    " WHERE username IN ('prima', 'dopo')")]
        assert users == ["prima"]
        add_account(recovered.dsn, "ripristinato")  # promoted: takes writes again
        log = recovered.logfile.read_text()
        assert "recovery stopping before commit" in log and "archive recovery complete" in log
        print(f"\nbase backup {base_seconds:.2f} s, recovery to {target} and promotion "
              f"{recovery_seconds:.2f} s, {len(list(archive.iterdir()))} WAL files archived")
    finally:
        recovered.destroy()
        primary.destroy()
