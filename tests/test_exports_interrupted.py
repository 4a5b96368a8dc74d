"""An export whose database connection dies while GDAL writes leaves no half-written file and
reports the database's error (not GDAL's "stream failed")."""

from __future__ import annotations

import threading
import time

import psycopg2
import pytest

from rigenera.exports import FORMATS
from rigenera.exports.query import parse_request
from rigenera.exports.writer import companion_path, write_export

ROWS = 40_000


@pytest.fixture(scope="module")
def big(db):
    dsn = db
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT set_config('rigenera.import', 'on', true),"
                    " set_config('rigenera.actor', 'import:test', true)")
        cur.execute(
            "INSERT INTO rigenera.sites (name, istat_code, state, source, source_id, geom)"
            " SELECT 'Area ' || n, '015146', 'abandoned', 'Prova (CC BY 4.0)', n::text,"
            " ST_MakeEnvelope(9.15 + (n %% 200) * 0.0002, 45.45 + (n / 200) * 0.0002,"
            " 9.15 + (n %% 200) * 0.0002 + 0.0001, 45.45 + (n / 200) * 0.0002 + 0.0001, 4326)"
            " FROM generate_series(1, %s) AS n", (ROWS,))
    conn.close()
    return dsn


def kill_export_when_streaming(dsn: str, stop: threading.Event) -> None:
    """Terminate the export's backend once it is fetching rows (application_name)."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        while not stop.is_set():
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE application_name = 'rigenera-export' AND query LIKE 'FETCH%%'")
            if cur.fetchall():
                break
            time.sleep(0.002)
    conn.close()


@pytest.mark.parametrize("fmt", ["gpkg", "csv", "geojson"])
def test_a_connection_lost_midway_leaves_no_file(big, tmp_path, fmt):
    path = tmp_path / f"sites.{fmt}"
    stop = threading.Event()
    killer = threading.Thread(target=kill_export_when_streaming, args=(big, stop))
    killer.start()
    try:
        with pytest.raises(psycopg2.OperationalError):
            write_export(big, parse_request("sites", None), FORMATS[fmt], path)
    finally:
        stop.set()
        killer.join()
    assert not path.exists() and not companion_path(path).exists()
    # ... and the same export, left alone, is whole.
    done = write_export(big, parse_request("sites", None), FORMATS[fmt], path)
    assert done.features >= ROWS and path.exists()
