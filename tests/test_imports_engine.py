"""The import engine (imports/engine.py, writes.py, record.py, run.py) on a real PostGIS.

Files are generated here (GeoPackage via pyogrio); expected answers come from PostGIS
itself (ST_Transform, rigenera.comune_point, the stored rows), never from the engine.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely

from conftest import MILANO, SESTO, query
from rigenera.errors import ImportOutOfReach, ImportRefused
from rigenera.imports import FUNDING_TYPE, ImportOptions, SourceInfo, run_import
from rigenera.imports.engine import import_frame

Fingerprint = Callable[[], tuple[object, object]]


def _points_in(db: str, code: str, n: int, seed: int = 1) -> list[shapely.Point]:
    """n points inside comune `code`, 30 m apart at least (PostGIS picks them)."""
    rows = query(db, "SELECT ST_AsBinary(g) FROM (SELECT (ST_Dump(ST_GeneratePoints("
                     " ST_Buffer(geom::geography, -200)::geometry, %s, %s))).geom g"
                     " FROM rigenera.comuni WHERE istat_code = %s) q", (n, seed, code))
    return [shapely.from_wkb(bytes(r[0])) for r in rows]


def _sites_gpkg(path: Path, points: list[shapely.Point], *, source: str, bad: int | None = None,
                crs: int = 4326, layer: str = "sites") -> None:
    geoms = [p.buffer(0.0001, quad_segs=2) for p in points]
    names = [f"Area {i}" for i in range(len(points))]
    if bad is not None:
        names[bad] = "   "  # sites_name_required
    g = np.array(geoms, dtype=object)
    if crs != 4326:
        from pyproj import Transformer

        tr = Transformer.from_crs(4326, crs, always_xy=True)
        g = shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    pyogrio.write_dataframe(_gdf(g, {"name": names, "state": ["abandoned"] * len(points),
                                     "source": [source] * len(points),
                                     "source_id": [str(i) for i in range(len(points))]}, crs),
                            path, layer=layer, driver="GPKG")


def _gdf(geoms: np.ndarray, cols: dict[str, list[object]], crs: int):  # type: ignore[no-untyped-def]
    import geopandas as gpd

    return gpd.GeoDataFrame(cols, geometry=list(geoms), crs=crs)


def _history_count(db: str, source: str) -> int:
    return int(query(db, "SELECT count(*) FROM rigenera.history h JOIN rigenera.sites s"
                         " ON h.collection = 'sites' AND h.feature_id = s.id::text"
                         " WHERE s.source = %s", (source,))[0][0])


def test_one_bad_row_in_10000_all_or_nothing(db: str, fingerprint: Fingerprint,
                                             tmp_path: Path) -> None:
    path = tmp_path / "many.gpkg"
    pts = [shapely.Point(9.10 + (i % 100) * 0.001, 45.44 + (i // 100) * 0.0005)
           for i in range(10_000)]
    _sites_gpkg(path, pts, source="test 10000", bad=4321)
    before = fingerprint()
    with pytest.raises(ImportRefused) as refused:
        run_import(db, path, ImportOptions("sites", actor="tester"))
    assert fingerprint() == before
    report = refused.value.report
    assert report.counts["invalid"] == 1 and report.counts["read"] == 10_000
    assert [(e.row, e.field) for e in report.rejected] == [(4322, "name")]
    status, counts = query(db, "SELECT status, counts FROM rigenera.imports WHERE id = %s",
                           (report.id,))[0]
    assert status == "refused" and counts["invalid"] == 1

    rejected = tmp_path / "rejected.csv"
    report = run_import(db, path, ImportOptions("sites", actor="tester", skip_invalid=True))
    rejected.write_text(report.rejected_csv())
    assert report.counts["created"] == 9_999 and report.counts["written"] == 9_999
    assert query(db, "SELECT count(*) FROM rigenera.sites WHERE source = 'test 10000'")[0][0] \
        == 9_999
    lines = list(csv.DictReader(io.StringIO(rejected.read_text())))
    assert len(lines) == 1 and lines[0]["row"] == "4322" and lines[0]["field"] == "name"
    stored_csv = query(db, "SELECT rejected_csv FROM rigenera.imports WHERE id = %s",
                       (report.id,))[0][0]
    assert stored_csv == report.rejected_csv()


def test_reimport_is_idempotent_and_history_carries_the_import(db: str, tmp_path: Path) -> None:
    path = tmp_path / "again.gpkg"
    _sites_gpkg(path, _points_in(db, SESTO, 50), source="test again", crs=32632)
    first = run_import(db, path, ImportOptions("sites", actor="tester"))
    assert first.counts["created"] == 50
    hist = query(db, "SELECT count(*), count(DISTINCT import_id), min(import_id), min(actor),"
                     " min(comment) FROM rigenera.history WHERE import_id = %s", (first.id,))[0]
    assert hist == (50, 1, first.id, "tester", "again.gpkg")
    sha, actor, counts, status = query(
        db, "SELECT sha256, actor, counts, status FROM rigenera.imports WHERE id = %s",
        (first.id,))[0]
    import hashlib

    assert sha == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (actor, status, counts["created"], counts["written"]) == ("tester", "succeeded", 50, 50)
    versions = query(db, "SELECT sum(version), max(updated_at) FROM rigenera.sites"
                         " WHERE source = 'test again'")[0]
    history = _history_count(db, "test again")
    second = run_import(db, path, ImportOptions("sites", actor="tester"))
    assert second.counts["unchanged"] == 50 and second.counts["written"] == 0
    assert query(db, "SELECT sum(version), max(updated_at) FROM rigenera.sites"
                     " WHERE source = 'test again'")[0] == versions
    assert _history_count(db, "test again") == history
    # The geometry was transformed from UTM 32N as PostGIS would.
    diff = query(db, "SELECT max(ST_HausdorffDistance(ST_Transform(s.geom, 32632), ST_Transform("
                     "ST_Transform(s.geom, 32632), 32632))) FROM rigenera.sites s"
                     " WHERE source = 'test again'")[0][0]
    assert diff < 1e-6


def _project_frame(rows: list[dict[str, object]]) -> pa.Table:
    cols: dict[str, list[object]] = {k: [r.get(k) for r in rows] for k in rows[0]}
    arrays: dict[str, pa.Array] = {}
    for k, v in cols.items():
        if k == "istat_codes":
            arrays[k] = pa.array(v, pa.list_(pa.string()))
        elif k == "funding":
            arrays[k] = pa.array(v, pa.list_(FUNDING_TYPE))
        elif k == "_geom":
            arrays[k] = pa.array(v, pa.binary())
        else:
            arrays[k] = pa.array(v)
    return pa.table(arrays)


def _frame_import(db: str, frame: pa.Table, **opts: object):  # type: ignore[no-untyped-def]
    import psycopg2

    conn = psycopg2.connect(db)
    try:
        with conn, conn.cursor() as cur:
            return import_frame(cur, frame, [], ImportOptions("projects", **opts),  # type: ignore[arg-type]
                                SourceInfo("frame", "0" * 64, "test"))
    finally:
        conn.close()


def test_projects_by_cup_and_key_comune_point_and_funding(db: str) -> None:
    line = {"funding_source": "pnrr", "programme_code": "M5C2I2.01.00", "status": "granted",
            "amount_eur": "1234.5", "amount_approx": True, "call_title": None, "source_id": None}
    rows: list[dict[str, object]] = [
        {"_row": 1, "_geom": None, "title": "Uno", "cup": "E11B21000000101", "source": "t-proj",
         "source_id": "k1", "istat_codes": [MILANO, SESTO], "funding": [line], "scope": "local"},
        {"_row": 2, "_geom": None, "title": "Due", "cup": "E11B21000000102", "source": "t-proj",
         "source_id": "k2", "istat_codes": [SESTO], "funding": [], "scope": None},
        {"_row": 3, "_geom": None, "title": "Tutti", "cup": None, "source": "t-proj",
         "source_id": "k3", "istat_codes": [], "funding": None, "scope": "metro_area"},
    ]
    report = _frame_import(db, _project_frame(rows), actor="tester")
    assert report.counts["created"] == 3, report.rejected
    got = query(db, "SELECT p.source_id, p.geom_source, ST_Equals(p.geom, rigenera.comune_point("
                    " ARRAY(SELECT istat_code FROM rigenera.project_comuni c"
                    "       WHERE c.project_id = p.id))), p.geom IS NULL, p.scope"
                    " FROM rigenera.projects p WHERE source = 't-proj' ORDER BY source_id")
    assert got == [("k1", "comune_point", True, False, "local"),
                   ("k2", "comune_point", True, False, "local"),
                   ("k3", "unknown", None, True, "metro_area")]
    assert query(db, "SELECT amount_eur::text, amount_approx, source_id FROM rigenera.funding_lines"
                     " WHERE source = 't-proj'") == [("1234.50", True, "k1#1")]
    # The same CUP from another source is the same project: updated, identity kept.
    other = [{"_row": 1, "_geom": None, "title": "Uno (ReGiS)", "cup": "E11B21000000101",
              "source": "t-other", "source_id": "z9", "istat_codes": [MILANO, SESTO]}]
    report = _frame_import(db, _project_frame(other), actor="tester")
    assert (report.counts["updated"], report.counts["created"]) == (1, 0)
    assert query(db, "SELECT title, source, source_id, version FROM rigenera.projects"
                     " WHERE cup = 'E11B21000000101'") == [("Uno (ReGiS)", "t-proj", "k1", 2)]
    # Re-importing the first frame: its title changes back, the rest is unchanged.
    report = _frame_import(db, _project_frame(rows), actor="tester")
    assert (report.counts["updated"], report.counts["unchanged"]) == (1, 2)
    report = _frame_import(db, _project_frame(rows), actor="tester")
    assert report.counts["unchanged"] == 3 and report.counts["written"] == 0


def test_a_located_project_keeps_its_geometry(db: str) -> None:
    rows: list[dict[str, object]] = [
        {"_row": 1, "_geom": None, "title": "Da localizzare", "cup": "E11B21000000201",
         "source": "t-loc", "source_id": "l1", "istat_codes": [MILANO]}]
    _frame_import(db, _project_frame(rows), actor="tester")
    query_sql = ("UPDATE rigenera.projects SET geom = ST_SetSRID(ST_MakePoint(9.19, 45.46), 4326),"
                 " geom_source = 'digitised' WHERE source = 't-loc' RETURNING id")
    query(db, query_sql)
    report = _frame_import(db, _project_frame(rows), actor="tester")
    assert report.counts["unchanged"] == 1
    assert query(db, "SELECT geom_source, ST_AsText(geom) FROM rigenera.projects"
                     " WHERE source = 't-loc'") == [("digitised", "POINT(9.19 45.46)")]


def test_duplicates_in_file_and_by_geometry(db: str, tmp_path: Path) -> None:
    p = _points_in(db, MILANO, 3, seed=7)
    poly = [q.buffer(0.0002, quad_segs=2) for q in p]
    frame = pa.table({
        "_row": [1, 2, 3, 4, 5],
        "_geom": [shapely.to_wkb(g) for g in [poly[0], poly[1], poly[0], poly[2], poly[2]]],
        "name": ["a", "b", "a bis", "c", "c copy"], "state": ["abandoned"] * 5,
        "source": ["t-dup"] * 5, "source_id": ["1", "2", "1", "3", "4"]})
    import psycopg2

    conn = psycopg2.connect(db)
    with conn, conn.cursor() as cur:
        report = import_frame(cur, frame, [], ImportOptions("sites", actor="tester"),
                              SourceInfo("dup", "0" * 64))
    assert report.counts["created"] == 3 and report.counts["duplicates"] == 2
    assert [(e.row, e.field) for e in report.rejected] == [(3, "source_id"), (5, "geometry")]
    assert "riga 1" in report.rejected[0].reason
    # Another source, the same polygon moved by ~0.3 m: the same site (updated, keeps its
    # key); moved by ~30 m: a new site.
    moved = shapely.affinity.translate(poly[1], xoff=0.000004)
    far = shapely.affinity.translate(poly[2], xoff=0.0004)
    frame2 = pa.table({"_row": [1, 2], "_geom": [shapely.to_wkb(moved), shapely.to_wkb(far)],
                       "name": ["b renamed", "c far"], "state": ["underused"] * 2,
                       "source": ["t-dup-other"] * 2, "source_id": ["x", "y"]})
    with conn, conn.cursor() as cur:
        report = import_frame(cur, frame2, [], ImportOptions("sites", actor="tester"),
                              SourceInfo("dup2", "0" * 64))
    conn.close()
    assert (report.counts["updated"], report.counts["created"]) == (1, 1)
    assert query(db, "SELECT name, source, source_id FROM rigenera.sites WHERE name LIKE 'b%%'"
                     " AND source LIKE 't-dup%%'") == [("b renamed", "t-dup", "2")]


def test_technician_reach(db: str, fingerprint: Fingerprint, tmp_path: Path) -> None:
    path = tmp_path / "reach.gpkg"
    pts = _points_in(db, MILANO, 3, seed=3) + _points_in(db, SESTO, 1, seed=3)
    _sites_gpkg(path, pts, source="t-reach")
    before = fingerprint()
    with pytest.raises(ImportOutOfReach) as refused:
        run_import(db, path, ImportOptions("sites", actor="tecnico", reach=(MILANO,)))
    assert refused.value.status == 403
    assert {e["row"] for e in refused.value.errors} == {4}
    assert {e["field"] for e in refused.value.errors} == {"geometry", "istat_code"}
    assert fingerprint() == before
    report = run_import(db, path, ImportOptions("sites", actor="tecnico", reach=(MILANO, SESTO)))
    assert report.counts["created"] == 4


def test_dry_run_writes_only_the_record(db: str, fingerprint: Fingerprint, tmp_path: Path) -> None:
    path = tmp_path / "dry.gpkg"
    _sites_gpkg(path, _points_in(db, MILANO, 5, seed=11), source="t-dry")
    before = fingerprint()
    report = run_import(db, path, ImportOptions("sites", actor="tester", dry_run=True))
    assert report.status == "dry_run" and report.counts["created"] == 5
    assert report.counts["written"] == 0
    assert fingerprint() == before
    assert query(db, "SELECT status, (report ->> 'counts')::jsonb ->> 'created' FROM"
                     " rigenera.imports WHERE id = %s", (report.id,)) == [("dry_run", "5")]


def test_area_rule_still_holds_for_other_writers(db: str) -> None:
    """Migration 0013 skips the row trigger for imports only: any other writer outside
    the metro area is still refused by it (RG001)."""
    import psycopg2

    rome = "SRID=4326;POINT(12.49 41.89)"
    conn = psycopg2.connect(db)
    try:
        with pytest.raises(psycopg2.Error) as err, conn, conn.cursor() as cur:
            cur.execute("INSERT INTO rigenera.sites (name, istat_code, state, source, geom)"
                        " VALUES ('Roma', %s, 'abandoned', 't-area', %s)", (MILANO, rome))
        assert err.value.pgcode == "RG001"
        with conn, conn.cursor() as cur:
            cur.execute("SELECT set_config('rigenera.import', 'on', true)")
            cur.execute("INSERT INTO rigenera.sites (name, istat_code, state, source, geom)"
                        " VALUES ('Roma', %s, 'abandoned', 't-area', %s)", (MILANO, rome))
            conn.rollback()
    finally:
        conn.close()


def test_progress_is_visible_while_the_import_runs(db: str, tmp_path: Path) -> None:
    """rows_done moves in the imports record, written by a second connection, while the
    import's own transaction is still open (what GET /api/imports/{id} shows)."""
    import psycopg2

    path = tmp_path / "progress.gpkg"
    # Half a step off the grid of the 10,000-row test: no polygon coincides with one of
    # those (the same geometry would be the same site, an update).
    pts = [shapely.Point(9.1205 + (i % 100) * 0.001, 45.45025 + (i // 100) * 0.0005)
           for i in range(12_000)]
    _sites_gpkg(path, pts, source="t-progress")
    seen: list[tuple[object, ...]] = []
    watcher = psycopg2.connect(db)
    watcher.autocommit = True

    def look(done: int, total: int | None) -> None:
        with watcher.cursor() as cur:
            cur.execute("SELECT status, rows_done, rows_total FROM rigenera.imports"
                        " WHERE status = 'running' AND file_name = 'progress.gpkg'")
            seen.extend(cur.fetchall())

    report = run_import(db, path, ImportOptions("sites", actor="tester", progress=look))
    watcher.close()
    assert report.counts["created"] == 12_000
    done = sorted({int(r[1]) for r in seen})  # type: ignore[call-overload]
    assert len(done) >= 2 and 0 < done[0] < 12_000 and seen[0][2] == 12_000
    assert query(db, "SELECT status, rows_done FROM rigenera.imports WHERE id = %s",
                 (report.id,)) == [("succeeded", 12_000)]


def test_two_imports_in_one_transaction(db: str) -> None:
    """Built-in sources import several frames in one transaction (load-open-data)."""
    import psycopg2

    p = _points_in(db, SESTO, 2, seed=21)
    frames = [pa.table({"_row": [1], "_geom": [shapely.to_wkb(q.buffer(0.0002))],
                        "name": [f"T{i}"], "state": ["abandoned"], "source": ["t-two"],
                        "source_id": [str(i)]}) for i, q in enumerate(p)]
    conn = psycopg2.connect(db)
    with conn, conn.cursor() as cur:
        reports = [import_frame(cur, f, [], ImportOptions("sites", actor="tester"),
                                SourceInfo(f"two-{i}", "0" * 64)) for i, f in enumerate(frames)]
    conn.close()
    assert [r.counts["created"] for r in reports] == [1, 1]
    assert query(db, "SELECT count(*) FROM rigenera.sites WHERE source = 't-two'") == [(2,)]


def test_technician_cannot_move_a_stored_feature_into_reach(db: str, fingerprint: Fingerprint,
                                                            tmp_path: Path) -> None:
    """The stored row counts too: a Sesto site, re-imported by key with a Milano geometry
    by Milano's technician, is refused (as stored: outside their comuni)."""
    sesto = _points_in(db, SESTO, 1, seed=31)
    milano = _points_in(db, MILANO, 1, seed=31)
    path = tmp_path / "stored.gpkg"
    _sites_gpkg(path, sesto, source="t-stored")
    run_import(db, path, ImportOptions("sites", actor="coord"))
    _sites_gpkg(tmp_path / "moved.gpkg", milano, source="t-stored")
    before = fingerprint()
    with pytest.raises(ImportOutOfReach) as refused:
        run_import(db, tmp_path / "moved.gpkg", ImportOptions("sites", actor="tecnico",
                                                              reach=(MILANO,)))
    assert fingerprint() == before
    reasons = [e["reason"] for e in refused.value.errors]
    assert reasons and all(r.startswith("(come è ora)") for r in reasons)


def test_a_moved_site_changes_comune(db: str, tmp_path: Path) -> None:
    """A site's comune, derived from its geometry when the file has none, follows a new
    geometry on re-import; an unchanged geometry keeps the stored comune."""
    _sites_gpkg(tmp_path / "a.gpkg", _points_in(db, SESTO, 1, seed=41), source="t-move")
    run_import(db, tmp_path / "a.gpkg", ImportOptions("sites", actor="coord"))
    assert query(db, "SELECT istat_code FROM rigenera.sites WHERE source = 't-move'") == [(SESTO,)]
    _sites_gpkg(tmp_path / "b.gpkg", _points_in(db, MILANO, 1, seed=41), source="t-move")
    report = run_import(db, tmp_path / "b.gpkg", ImportOptions("sites", actor="coord"))
    assert report.counts["updated"] == 1
    assert query(db, "SELECT istat_code, version FROM rigenera.sites WHERE source = 't-move'") \
        == [(MILANO, 2)]
