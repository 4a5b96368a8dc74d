"""Round trip: an export imported back changes nothing (issue 10).

Each format of each importable collection is exported by the real API (the CSV from its
zip, as a user receives it), then imported by the engine (`rigenera.imports.run_import`)
without a mapping: every row must be matched as unchanged, nothing created or updated,
and the database fingerprint (every feature, version and history row) must stay as it was.
"""

from __future__ import annotations

import zipfile

import psycopg2
import pytest

from conftest import MILANO, SESTO, query
from rigenera.imports import ImportOptions, run_import

FORMATS = ("gpkg", "geojson", "csv", "xlsx")
COLLECTIONS = ("sites", "projects", "mobility_links", "transit_stops")


@pytest.fixture(scope="module")
def extra(db):
    """A project in two comuni (a list), at their comune points, with two measures, and a
    point site among the polygons, with a coordinate GDAL would round."""
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute("SELECT set_config('rigenera.actor', 'tester', true)")
        cur.execute(
            "INSERT INTO rigenera.projects (title, cup, status, geom_source, cup_status, source,"
            " source_id, start_date, total_cost_eur, geom) VALUES ('Piano integrato Nord',"
            " 'B41B21000000001', 'funded', 'comune_point', 'active', 'Italia Domani (CC BY 4.0)',"
            " 'R1', '2024-02-29', 1234567.89, rigenera.comune_point(%s)) RETURNING id",
            ([MILANO, SESTO],))
        (pid,) = cur.fetchone()
        cur.execute("INSERT INTO rigenera.project_comuni VALUES (%s, %s), (%s, %s)",
                    (pid, MILANO, pid, SESTO))
        # A project of the whole metro area: no geometry, no comune.
        cur.execute("INSERT INTO rigenera.projects (title, status, scope, source, source_id)"
                    " VALUES ('Rete metropolitana', 'planned', 'metro_area',"
                    " 'Italia Domani (CC BY 4.0)', 'R2')")
        cur.execute(
            "INSERT INTO rigenera.sites (name, istat_code, state, source, source_id, geom) VALUES"
            " ('Ex deposito, \"nord\"', %s, 'abandoned', 'Prova (CC BY-NC 4.0)', 'S1',"
            "  ST_SetSRID(ST_MakePoint(9.2345, 45.536899999999996), 4326))", (MILANO,))
    conn.close()


def export(api, tmp_path, collection, fmt):
    r = api.get(f"/api/exports/{collection}", params={"format": fmt})
    assert r.status_code == 200, r.text
    name = r.headers["content-disposition"].split('filename="')[1].rstrip('"')
    path = tmp_path / name
    path.write_bytes(r.content)
    if fmt == "csv":
        with zipfile.ZipFile(path) as archive:
            archive.extractall(tmp_path)
        path = tmp_path / name[:-4]
    return path


def changed(db, collection):
    """What the last import changed, from the history it wrote (for a failure's message)."""
    rows = query(db, "SELECT feature_id, before, after, ST_AsText(geom_before),"
                     " ST_AsText(geom_after) FROM rigenera.history WHERE collection = %s"
                     " AND import_id = (SELECT max(id) FROM rigenera.imports)", (collection,))
    return [(fid, {k: (b.get(k), a.get(k)) for k in set(b or {}) | set(a or {})
                   if (b or {}).get(k) != (a or {}).get(k) and k not in ("version", "updated_at")},
             gb != ga) for fid, b, a, gb, ga in rows][:5]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("collection", COLLECTIONS)
def test_export_then_import_changes_nothing(api, db, extra, fingerprint, tmp_path, fmt,
                                            collection):
    path = export(api, tmp_path, collection, fmt)
    (n,) = query(db, f"SELECT count(*) FROM rigenera.{collection}")[0]
    before = fingerprint()
    # A CSV or XLSX cannot declare its CRS: its sources file says EPSG:4326, the user says so.
    report = run_import(db, path, ImportOptions(collection, actor="tester",
                                                external=collection == "transit_stops"),
                        layer=collection if fmt == "xlsx" else None,
                        crs="EPSG:4326" if fmt in ("csv", "xlsx") else None)
    doc = report.to_json()
    assert doc["status"] == "succeeded", doc
    counts = doc["counts"]
    assert counts["read"] == n and counts["unchanged"] == n, (counts, changed(db, collection))
    assert counts["created"] == counts["updated"] == counts["written"] == 0, counts
    assert doc["rejected"] == []
    assert fingerprint() == before


def test_a_project_known_only_by_its_comune_stays_so(api, db, extra, fingerprint, tmp_path):
    """A project created through the API with a comune and no geometry (geom_source
    'unknown') exported and imported back. Last in the module: it may change the database."""
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute("SELECT set_config('rigenera.actor', 'tester', true)")
        cur.execute("INSERT INTO rigenera.projects (title, status, source, source_id) VALUES"
                    " ('Senza geometria', 'idea', 'Rigenera', 'R3') RETURNING id")
        (bare,) = cur.fetchone()
        cur.execute("INSERT INTO rigenera.project_comuni VALUES (%s, %s)", (bare, SESTO))
    conn.close()
    path = export(api, tmp_path, "projects", "gpkg")
    before = fingerprint()
    report = run_import(db, path, ImportOptions("projects", actor="tester")).to_json()
    assert report["counts"]["updated"] == 0, changed(db, "projects")
    assert fingerprint() == before
