"""Exports: every format opens with GDAL, carries its sources' attribution, holds exactly the
published rows the filter and comuni select (the OGC items' answer to the same filter), never
a private column, and geometries read back as the stored doubles.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import psycopg2
import pyogrio
import pytest
import shapely

from conftest import MILANO, SESTO, query

FORMATS = ("gpkg", "geojson", "csv", "xlsx")
MEDIA = {"gpkg": "application/geopackage+sqlite3", "geojson": "application/geo+json",
         "csv": "application/zip",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
CSV_REQUIRED = ("id", "cup", "title", "istat_codes", "programme_codes", "status", "geom_source",
                "wkt")


@pytest.fixture(scope="module")
def extra(db):
    """Rows that exercise lists, licences and mixed geometries: a project in two comuni with
    two measures, a CC BY-NC site (a point among polygons) and a CC BY-SA one."""
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute("SELECT set_config('rigenera.actor', 'tester', true)")
        cur.execute(
            "INSERT INTO rigenera.projects (title, cup, status, geom_source, source, source_id, geom)"
            " VALUES ('Piano integrato Nord', 'B41B21000000001', 'funded', 'comune_point',"
            " 'Italia Domani – ReGiS (CC BY 4.0)', 'R1', rigenera.comune_point(%s)) RETURNING id",
            ([MILANO, SESTO],))
        (pid,) = cur.fetchone()
        cur.execute("INSERT INTO rigenera.project_comuni VALUES (%s, %s), (%s, %s)",
                    (pid, MILANO, pid, SESTO))
        cur.execute("INSERT INTO rigenera.funding_lines (project_id, funding_source, programme_code,"
                    " status, amount_eur, source, source_id) VALUES"
                    " (%s, 'pnrr', 'M5C2I2.01.00', 'granted', 1000000.10, 't', 'R1-1'),"
                    " (%s, 'pnrr', 'M5C2I2.03.01', 'granted', 5, 't', 'R1-2')", (pid, pid))
        cur.execute(
            "INSERT INTO rigenera.sites (name, istat_code, state, source, source_id, geom) VALUES"
            " ('Ex deposito', %s, 'abandoned', 'Scandaglio/OffTopic (CC BY-NC 4.0)', 'S1',"
            "  ST_SetSRID(ST_MakePoint(9.123456789012345, 45.48765432109876), 4326)),"
            " ('Ex cinema', %s, 'underused', 'ondata #datiBeneComune (CC BY-SA 4.0)', 'S2',"
            "  ST_Buffer(ST_SetSRID(ST_MakePoint(9.2345, 45.5372), 4326), 0.0003))"
            " RETURNING id", (MILANO, SESTO))
        sites = [r[0] for r in cur.fetchall()]
    conn.close()
    return {"project": pid, "sites": sites}


def download(api, tmp_path, collection, fmt, **params):
    r = api.get(f"/api/exports/{collection}", params={"format": fmt, **params})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == MEDIA[fmt]
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;") and f"rigenera-{collection}-" in disposition
    name = disposition.split('filename="')[1].rstrip('"')
    path = tmp_path / name
    path.write_bytes(r.content)
    if fmt == "csv":
        assert name.endswith(".csv.zip")
        with zipfile.ZipFile(path) as archive:
            names = sorted(archive.namelist())
            assert names == sorted([name[:-4], name[:-8] + ".sources.txt"])
            archive.extractall(tmp_path)
        path = tmp_path / name[:-4]
    return path, int(r.headers["x-feature-count"])


def read(path, fmt):
    """The exported layer (an XLSX's first sheet: the second is "Fonti")."""
    return pyogrio.read_dataframe(path, layer=0)


def published(db, collection):
    return [r[0] for r in query(
        db, "SELECT column_name FROM information_schema.columns WHERE table_schema = 'pub'"
            " AND table_name = %s AND udt_name <> 'geometry' ORDER BY ordinal_position",
        (collection,))]


def sources(db, collection, where="true", params=()):
    return query(db, f"SELECT source, count(*) FROM pub.{collection} t WHERE {where}"
                     " GROUP BY source ORDER BY count(*) DESC, source", params)


def attribution_of(path: Path, fmt: str) -> str:
    """Where each format keeps its attribution, as text."""
    if fmt == "gpkg":
        conn = sqlite3.connect(path)
        description = conn.execute("SELECT description FROM gpkg_contents").fetchone()[0]
        metadata = " ".join(r[0] for r in conn.execute("SELECT metadata FROM gpkg_metadata"))
        conn.close()
        assert "Fonti / sources" in description
        return description + metadata
    if fmt == "geojson":
        return json.dumps(json.loads(path.read_text())["attribution"], ensure_ascii=False)
    if fmt == "csv":
        return path.with_name(path.stem + ".sources.txt").read_text()
    sheet = pyogrio.read_dataframe(path, layer="Fonti")
    assert list(sheet.columns) == ["fonte", "licenza", "link_licenza", "elementi"]
    return "\n".join(" ".join(str(v) for v in row) for row in sheet.itertuples(index=False))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("collection", ["sites", "projects"])
def test_each_format_opens_with_every_published_row_and_its_sources(api, db, extra, tmp_path,
                                                                    fmt, collection):
    path, count = download(api, tmp_path, collection, fmt)
    df = read(path, fmt)
    ids = [r[0] for r in query(db, f"SELECT id FROM pub.{collection} ORDER BY id")]
    assert [int(i) for i in df["id"]] == ids and count == len(ids)
    columns = published(db, collection) + (["wkt"] if fmt in ("csv", "xlsx") else [])
    assert [c for c in df.columns if c != "geometry"] == columns
    text = attribution_of(path, fmt)
    for source, n in sources(db, collection):
        assert source in text
        if fmt in ("csv", "xlsx"):
            line = next(x for x in text.splitlines() if source in x)
            assert str(n) in line.split(source, 1)[1]  # the count of features
    if collection == "sites":
        assert "CC BY-NC 4.0" in text and "creativecommons.org/licenses/by-nc/4.0/" in text
        assert "CC BY-SA 4.0" in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_private_fields_never_leave(api, db, extra, tmp_path, fmt):
    """What storage holds and the publication hides (who created or changed a feature,
    referents) is in no export."""
    for collection in ("sites", "projects"):
        path, _ = download(api, tmp_path, collection, fmt)
        stored = {r[0] for r in query(db, "SELECT column_name FROM information_schema.columns"
                                          " WHERE table_schema = 'rigenera' AND table_name = %s",
                                      (collection,))}
        private = stored - set(published(db, collection)) - {"geom"}
        assert {"created_by", "updated_by", "created_at"} <= private
        columns = set(read(path, fmt).columns)
        assert not columns & (private | {"referents", "referent_ids"}), columns & private
        assert "tester" not in path.read_bytes().decode("utf-8", "replace")


def items_ids(api, collection, **params):
    r = api.get(f"/ogc/collections/{collection}/items", params={**params, "limit": 10000})
    assert r.status_code == 200, r.text
    return [f["id"] for f in r.json()["features"]]


FILTERS = [
    ("sites", "state = 'abandoned'"),
    ("sites", "S_INTERSECTS(geometry, BUFFER_M(POINT(9.19 45.46), 3000))"),
    ("sites", "name LIKE 'Ex%' OR surface_m2 > 5000"),
    ("projects", "geometry_kind = 'point'"),
    ("projects", "status IN ('funded', 'works') AND geom_source <> 'digitised'"),
    ("transit_stops", "mode = 'metro'"),
    ("mobility_links", "S_INTERSECTS(geometry, POLYGON((9.1 45.4, 9.3 45.4, 9.3 45.5, "
                       "9.1 45.5, 9.1 45.4)))"),
]


@pytest.mark.parametrize(("collection", "cql"), FILTERS)
def test_a_filter_selects_what_the_ogc_items_select(api, extra, tmp_path, collection, cql):
    path, _ = download(api, tmp_path, collection, "geojson", filter=cql)
    exported = [int(i) for i in read(path, "geojson")["id"]]
    assert exported == items_ids(api, collection, filter=cql)
    assert json.loads(path.read_text())["attribution"]["filter"] == cql


def test_a_filter_in_another_crs(api, extra, tmp_path):
    """`filter-crs` as on the items: a UTM 32N polygon around central Milan."""
    cql = ("S_INTERSECTS(geometry, POLYGON((510000 5030000, 520000 5030000, 520000 5040000, "
           "510000 5040000, 510000 5030000)))")
    crs = "http://www.opengis.net/def/crs/EPSG/0/32632"
    path, _ = download(api, tmp_path, "sites", "gpkg", filter=cql, **{"filter-crs": crs})
    expected = items_ids(api, "sites", filter=cql, **{"filter-crs": crs})
    assert [int(i) for i in read(path, "gpkg")["id"]] == expected and expected


def test_temporary_files_are_removed_once_sent(api, extra):
    import tempfile
    import time

    def leftovers():
        return set(Path(tempfile.gettempdir()).glob("rigenera-export-*"))

    before = leftovers()
    for fmt in FORMATS:
        assert api.get("/api/exports/sites", params={"format": fmt}).status_code == 200
    assert api.get("/api/exports/sites", params={"format": "gpkg", "filter": "name > 5"}
                   ).status_code == 400
    deadline = time.monotonic() + 10
    while leftovers() - before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not leftovers() - before


def test_cql2_json_filters_too(api, extra, tmp_path):
    cql = json.dumps({"op": "=", "args": [{"property": "state"}, "underused"]})
    path, _ = download(api, tmp_path, "sites", "gpkg", filter=cql, **{"filter-lang": "cql2-json"})
    assert [int(i) for i in read(path, "gpkg")["id"]] == items_ids(
        api, "sites", filter=cql, **{"filter-lang": "cql2-json"})


@pytest.mark.parametrize(("collection", "sql"), [
    ("sites", "SELECT id FROM pub.sites WHERE istat_code = ANY(%s) ORDER BY id"),
    ("projects", "SELECT id FROM pub.projects WHERE istat_codes && %s::text[] ORDER BY id"),
    ("mobility_links", "SELECT l.id FROM pub.mobility_links l WHERE EXISTS (SELECT 1 FROM"
                       " rigenera.comuni c WHERE c.istat_code = ANY(%s) AND ST_Intersects("
                       "c.geom, l.geom)) ORDER BY l.id"),
    ("comuni", "SELECT istat_code FROM pub.comuni WHERE istat_code = ANY(%s) ORDER BY 1"),
])
def test_comuni_restrict_the_export(api, db, extra, tmp_path, collection, sql):
    path, _ = download(api, tmp_path, collection, "csv", comuni=f"{SESTO},{MILANO}")
    key = "istat_code" if collection == "comuni" else "id"
    expected = [r[0] for r in query(db, sql, ([MILANO, SESTO],))]
    exported = [str(v) if key == "istat_code" else int(v) for v in read(path, "csv")[key]]
    assert exported == expected and expected


def test_filter_and_comuni_together(api, db, extra, tmp_path):
    path, _ = download(api, tmp_path, "sites", "xlsx", filter="state = 'abandoned'",
                       comuni=MILANO)
    expected = [r[0] for r in query(db, "SELECT id FROM pub.sites WHERE state = 'abandoned'"
                                        " AND istat_code = %s ORDER BY id", (MILANO,))]
    assert [int(i) for i in read(path, "xlsx")["id"]] == expected
    text = attribution_of(path, "xlsx")
    for source, _n in sources(db, "sites", "state = 'abandoned' AND istat_code = %s", (MILANO,)):
        assert source in text
    assert "CC BY-SA" not in text  # the Sesto site is not in this file


@pytest.mark.parametrize(("params", "field"), [
    ({"filter": "nope = 1"}, "filter"),
    ({"filter": "state = "}, "filter"),
    ({"filter": "surface_m2 > 1e400"}, "filter"),
    ({"filter": "S_INTERSECTS(geometry, POLYGON((9.1 45.4, 9.2 45.5, 9.2 45.4, 9.1 45.5, "
                "9.1 45.4)))"}, "filter"),
    ({"filter": "name > 5"}, "filter"),
    ({"filter": "{\"op\": \"=\"", "filter-lang": "cql2-json"}, "filter"),
    ({"filter-lang": "sql", "filter": "state = 'x'"}, "filter-lang"),
    ({"filter-crs": "EPSG:99999", "filter": "state = 'x'"}, "filter-crs"),
    ({"comuni": "15146"}, "comuni"),
    ({"comuni": "999999"}, "comuni"),
    ({"comuni": ","}, "comuni"),
    ({"format": "shp"}, "format"),
])
def test_bad_requests_are_400_naming_the_parameter(api, extra, fingerprint, params, field):
    before = fingerprint()
    r = api.get("/api/exports/sites", params={"format": "gpkg", **params})
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == "InvalidParameterValue"
    assert field in {e["field"] for e in body["errors"]}
    assert fingerprint() == before


def test_unknown_collection_is_404(api):
    r = api.get("/api/exports/referents", params={"format": "csv"})
    assert r.status_code == 404 and r.json()["code"] == "NotFound"


def test_csv_lists_and_wkt_read_back_exactly(api, db, extra, tmp_path):
    path, _ = download(api, tmp_path, "projects", "csv")
    text = path.read_text(encoding="utf-8")
    header = text.splitlines()[0].split(",")
    assert set(CSV_REQUIRED) <= set(header)
    df = read(path, "csv").set_index("id")
    row = df.loc[str(extra["project"])]
    assert row["istat_codes"] == f"{MILANO},{SESTO}"
    assert row["programme_codes"] == "M5C2I2.01.00,M5C2I2.03.01"
    assert row["geom_source"] == "comune_point" and row["cup"] == "B41B21000000001"
    for pid, wkb in query(db, "SELECT id, ST_AsBinary(geom) FROM rigenera.projects"
                              " WHERE geom IS NOT NULL"):
        assert shapely.from_wkt(df.loc[str(pid)]["wkt"]).equals_exact(
            shapely.from_wkb(bytes(wkb)), 0), pid


@pytest.mark.parametrize("fmt", ["gpkg", "geojson"])
def test_geometries_are_the_stored_doubles(api, db, extra, tmp_path, fmt):
    path, _ = download(api, tmp_path, "sites", fmt)
    df = read(path, fmt).set_index("id")
    kinds = set()
    for sid, wkb in query(db, "SELECT id, ST_AsBinary(geom) FROM rigenera.sites"):
        stored = shapely.from_wkb(bytes(wkb))
        assert df.loc[sid].geometry.equals_exact(stored, 0), sid
        kinds.add(stored.geom_type)
    assert "Point" in kinds and "Polygon" in kinds  # one layer holds both


def test_cli_writes_the_file_and_the_sources(db, extra, tmp_path):
    out = tmp_path / "progetti.csv"
    env = {**os.environ, "DATABASE_URL": db}
    done = subprocess.run(
        [sys.executable, "-m", "rigenera.cli", "export", "projects", "--format", "csv",
         "--comuni", MILANO, "--filter", "geom_source = 'comune_point'", "-o", str(out)],
        capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    expected = [r[0] for r in query(db, "SELECT id FROM pub.projects WHERE geom_source ="
                                        " 'comune_point' AND %s = ANY(istat_codes) ORDER BY id",
                                    (MILANO,))]
    assert [int(i) for i in read(out, "csv")["id"]] == expected and expected
    sources_txt = out.with_name("progetti.sources.txt").read_text()
    assert "Italia Domani – ReGiS (CC BY 4.0)" in sources_txt
    assert f"{len(expected)} elementi" in done.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "rigenera.cli", "export", "sites", "--filter", "nope = 1",
         "-o", str(tmp_path / "x.gpkg")], capture_output=True, text=True, env=env, timeout=120,
        check=False)
    assert bad.returncode == 2 and "filter" in bad.stderr
    assert not (tmp_path / "x.gpkg").exists()


def test_an_empty_selection_is_a_valid_empty_file(api, tmp_path):
    for fmt in FORMATS:
        path, count = download(api, tmp_path, "sites", fmt, filter="id < 0")
        assert count == 0
        assert len(read(path, fmt)) == 0


def test_openapi_documents_the_routes(api):
    doc = api.get("/api/openapi.json").json()
    export = doc["paths"]["/api/exports/{collection}"]["get"]
    assert set(export["responses"]["200"]["content"]) == set(MEDIA.values())
    assert {"400", "404"} <= set(export["responses"])
    names = {p["name"] for p in export["parameters"]}
    assert names == {"collection", "format", "filter", "filter-lang", "filter-crs", "comuni"}
    queue = doc["paths"]["/api/projects/to-locate"]["get"]
    assert "application/geo+json" in queue["responses"]["200"]["content"]
    assert queue["security"]


def test_too_many_rows_for_an_xlsx_is_400_naming_format(db, extra, tmp_path):
    from rigenera.errors import InvalidParameter
    from rigenera.exports import FORMATS
    from rigenera.exports.query import parse_request
    from rigenera.exports.writer import write_export

    (n,) = query(db, "SELECT count(*) FROM pub.sites")[0]
    q = parse_request("sites", None)
    with pytest.raises(InvalidParameter) as refused:
        write_export(db, q, FORMATS["xlsx"], tmp_path / "x.xlsx", max_xlsx_rows=n - 1)
    assert refused.value.errors[0]["field"] == "format"
    assert not (tmp_path / "x.xlsx").exists()
    done = write_export(db, q, FORMATS["xlsx"], tmp_path / "y.xlsx", max_xlsx_rows=n)
    assert done.features == n
