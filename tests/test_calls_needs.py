"""Calls (bandi) and needs (bisogni): edited through the one editing service, published as
OGC API collections, described for forms, importable. Over real HTTP on the module's own
PostGIS: CRUD, roles and reach, version conflicts, history and revert, every bad input a
4xx naming its field with the database unchanged, and the import engine on small CSVs.
"""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest

from conftest import MILANO, SESTO, basic, query

GEOJSON = {"Content-Type": "application/geo+json"}
# A point and a square in Milano, a point in Sesto San Giovanni, a point in Turin.
MILANO_POINT = {"type": "Point", "coordinates": [9.19, 45.464]}
MILANO_SQUARE = {"type": "Polygon", "coordinates": [[[9.180, 45.460], [9.182, 45.460],
                                                     [9.182, 45.461], [9.180, 45.461],
                                                     [9.180, 45.460]]]}
SESTO_POINT = {"type": "Point", "coordinates": [9.2333, 45.5356]}
TURIN_POINT = {"type": "Point", "coordinates": [7.68, 45.07]}
# Everything calls and needs touch: a refusal must leave it as it was.
STATE_SQL = """SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
    SELECT 'c' || c.id || c.version || md5(c::text) x FROM rigenera.calls c
    UNION ALL SELECT 'n' || n.id || n.version || md5(n::text) FROM rigenera.needs n
    UNION ALL SELECT 'h' || h.id FROM rigenera.history h) q"""


def state(db: str) -> object:
    return query(db, STATE_SQL)[0][0]


def call(**props: object) -> dict[str, object]:
    base = {"title": "Bando rigenerazione 2026", "funder": "Regione Lombardia",
            "funding_source": "regional", "themes": ["housing", "community"],
            "eligible_beneficiaries": ["comune"], "eligible_istat_codes": [MILANO, SESTO],
            "opens_on": "2026-01-15", "closes_on": "2026-06-30", "budget_eur": 5_000_000,
            "max_grant_eur": 1_000_000, "url": "https://www.regione.lombardia.it/bando"}
    return {"type": "Feature", "properties": {**base, **props}, "geometry": None}


def need(geometry: object = None, **props: object) -> dict[str, object]:
    base = {"istat_code": MILANO, "title": "Alloggi per anziani soli", "category": "housing",
            "priority": 2, "estimated_cost_eur": 750_000.5, "needed_by": "2027-12-31"}
    return {"type": "Feature", "properties": {**base, **props}, "geometry": geometry}


def create(api: httpx.Client, cid: str, doc: dict[str, object], user: str = "coord") -> str:
    r = api.post(f"/ogc/collections/{cid}/items", json=doc, headers={**GEOJSON, **basic(user)})
    assert r.status_code == 201, r.text
    assert r.headers["etag"] == '"1"'
    return r.headers["location"].rsplit("/", 1)[1]


def refused(r: httpx.Response, status: int, field: str) -> dict[str, object]:
    assert r.status_code == status, (r.status_code, r.text)
    doc = r.json()
    assert field in {e["field"] for e in doc["errors"]}, doc
    assert " / " in doc["description"], doc
    return doc


# ------------------------------------------------------------------------------ calls
def test_call_crud_conflict_and_history(api, db):
    fid = create(api, "calls", call())
    r = api.get(f"/ogc/collections/calls/items/{fid}")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["geometry"] is None and doc["properties"]["closes_on"] == "2026-06-30"
    assert doc["properties"]["themes"] == ["housing", "community"]
    assert "created_by" not in doc["properties"] and "updated_by" not in doc["properties"]
    # A merge-patch with the right version, then a stale one: 412, nothing written.
    r = api.patch(f"/ogc/collections/calls/items/{fid}", json={"properties": {"budget_eur": 6e6}},
                  headers={"Content-Type": "application/merge-patch+json", "If-Match": '"1"',
                           **basic("admin")})
    assert r.status_code == 204 and r.headers["etag"] == '"2"', r.text
    before = state(db)
    r = api.patch(f"/ogc/collections/calls/items/{fid}", json={"properties": {"budget_eur": 7e6}},
                  headers={"Content-Type": "application/merge-patch+json", "If-Match": '"1"',
                           **basic("admin")})
    assert r.status_code == 412 and r.json()["currentVersion"] == 2
    assert state(db) == before
    assert query(db, "SELECT budget_eur FROM rigenera.calls WHERE id = %s", (fid,))[0][0] == 6e6
    # History: creation and update, with who; revert to version 1 restores the budget.
    r = api.get(f"/api/collections/calls/items/{fid}/history", headers=basic("coord"))
    assert [c["version"] for c in r.json()["changes"]] == [1, 2]
    assert r.json()["changes"][0]["actor"] == "coord"
    r = api.post(f"/api/collections/calls/items/{fid}/revert", json={"version": 1},
                 headers=basic("coord"))
    assert r.status_code == 200, r.text
    assert query(db, "SELECT budget_eur, version FROM rigenera.calls WHERE id = %s",
                 (fid,))[0] == (5_000_000, 3)
    r = api.delete(f"/ogc/collections/calls/items/{fid}", headers={"If-Match": '"3"',
                                                                   **basic("coord")})
    assert r.status_code == 204
    assert query(db, "SELECT count(*) FROM rigenera.calls WHERE id = %s", (fid,))[0][0] == 0


def test_calls_are_the_offices(api, db):
    fid = create(api, "calls", call(title="Bando dell'ufficio"))
    before = state(db)
    for user, status in (("tecnico", 403), ("volontario", 403), (None, 401)):
        auth = basic(user) if user else {}
        r = api.post("/ogc/collections/calls/items", json=call(), headers={**GEOJSON, **auth})
        assert r.status_code == status, r.text
        r = api.patch(f"/ogc/collections/calls/items/{fid}", json={"properties": {"title": "x"}},
                      headers={"Content-Type": "application/merge-patch+json", **auth})
        assert r.status_code == status, r.text
    refused(api.post("/ogc/collections/calls/items", json=call(),
                     headers={**GEOJSON, **basic("tecnico")}), 403, "collection")
    # Also inside a changeset, and OPTIONS tells the technician it is read-only.
    r = api.post("/api/changesets", json={"operations": [
        {"action": "create", "collection": "calls", "feature": call()}]},
        headers=basic("tecnico"))
    assert r.status_code == 403, r.text
    assert r.json()["problems"][0]["errors"][0]["field"] == "collection"
    assert state(db) == before
    r = api.options(f"/ogc/collections/calls/items/{fid}", headers=basic("tecnico"))
    assert "PATCH" not in r.headers["allow"]
    r = api.options(f"/ogc/collections/calls/items/{fid}", headers=basic("coord"))
    assert "PATCH" in r.headers["allow"]


CALL_BAD = [
    ({"closes_on": "2026-01-01"}, 422, "closes_on"),  # before opens_on (calls_dates_order)
    ({"themes": ["spaceships"]}, 422, "themes"),
    ({"eligible_istat_codes": ["15146"]}, 422, "eligible_istat_codes"),
    ({"max_grant_eur": 9_000_000}, 422, "max_grant_eur"),  # above the budget
    ({"budget_eur": -1, "max_grant_eur": None}, 422, "budget_eur"),
    ({"eligible_beneficiaries": ["aliens"]}, 422, "eligible_beneficiaries"),
    ({"funding_source": "lottery"}, 400, "funding_source"),
    ({"url": "ftp://example.org"}, 422, "url"),
    ({"funding_source": "pnrr", "programme_code": "M9"}, 422, "programme_code"),
    ({"title": "  "}, 422, "title"),
    ({"title": None}, 400, "title"),
    ({"opens_on": "2026-02-30"}, 400, "opens_on"),
    ({"budget_eur": "molto"}, 400, "budget_eur"),
    ({"colour": "red"}, 400, "colour"),
]


@pytest.mark.parametrize(("props", "status", "field"), CALL_BAD,
                         ids=[f"{f}-{s}" for _p, s, f in CALL_BAD])
def test_call_bad_input_names_the_field(api, db, props, status, field):
    before = state(db)
    r = api.post("/ogc/collections/calls/items", json=call(**props),
                 headers={**GEOJSON, **basic("coord")})
    refused(r, status, field)
    assert state(db) == before


def test_call_with_a_geometry_is_refused(api, db):
    before = state(db)
    doc = {**call(), "geometry": MILANO_POINT}
    refused(api.post("/ogc/collections/calls/items", json=doc,
                     headers={**GEOJSON, **basic("coord")}), 400, "geometry")
    assert state(db) == before


# ------------------------------------------------------------------------------ needs
def test_need_crud_reach_history(api, db):
    fid = create(api, "needs", need(MILANO_POINT), user="tecnico")
    fid2 = create(api, "needs", need(None, title="Senza luogo"), user="tecnico")
    # Without a comune, a need takes the comune of its place.
    doc = need(MILANO_SQUARE, title="Comune dal luogo")
    del doc["properties"]["istat_code"]
    fid3 = create(api, "needs", doc, user="tecnico")
    assert query(db, "SELECT istat_code FROM rigenera.needs WHERE id = %s", (fid3,)) == [(MILANO,)]
    assert query(db, "SELECT geometry_kind, source FROM rigenera.needs WHERE id = %s",
                 (fid,))[0] == ("point", "Rigenera")
    # The technician moves it to a square of Milano, then the coordinator edits it.
    r = api.patch(f"/ogc/collections/needs/items/{fid}", json={"geometry": MILANO_SQUARE},
                  headers={"Content-Type": "application/merge-patch+json", "If-Match": '"1"',
                           **basic("tecnico")})
    assert r.status_code == 204, r.text
    r = api.put(f"/ogc/collections/needs/items/{fid2}", json=need(None, status="closed"),
                headers={**GEOJSON, **basic("coord")})
    assert r.status_code == 204, r.text
    before = state(db)
    # Sesto's technician neither edits Milano's need nor writes one for Milano.
    r = api.patch(f"/ogc/collections/needs/items/{fid}", json={"properties": {"priority": 1}},
                  headers={"Content-Type": "application/merge-patch+json",
                           **basic("tecnico.sesto")})
    refused(r, 403, "istat_code")
    refused(api.post("/ogc/collections/needs/items", json=need(None),
                     headers={**GEOJSON, **basic("tecnico.sesto")}), 403, "istat_code")
    # Milano's technician may not put a need in Sesto, nor move Milano's need there.
    refused(api.post("/ogc/collections/needs/items", json=need(SESTO_POINT, istat_code=SESTO),
                     headers={**GEOJSON, **basic("tecnico")}), 403, "istat_code")
    r = api.patch(f"/ogc/collections/needs/items/{fid}", json={"geometry": SESTO_POINT},
                  headers={"Content-Type": "application/merge-patch+json", **basic("tecnico")})
    refused(r, 403, "geometry")
    assert state(db) == before
    # History keeps the geometry apart; revert to version 1 brings the point back.
    r = api.get(f"/api/collections/needs/items/{fid}/history", headers=basic("tecnico"))
    changes = r.json()["changes"]
    assert [c["version"] for c in changes] == [1, 2]
    assert changes[0]["after"]["geom"]["type"] == "Point"
    assert changes[1]["after"]["geom"]["type"] == "Polygon"
    r = api.post(f"/api/collections/needs/items/{fid}/revert", json={"version": 1},
                 headers=basic("tecnico"))
    assert r.status_code == 200, r.text
    assert query(db, "SELECT GeometryType(geom), version FROM rigenera.needs WHERE id = %s",
                 (fid,))[0] == ("POINT", 3)


NEED_BAD = [
    ({"priority": 9}, None, 422, "priority"),
    ({"category": "weather"}, None, 400, "category"),
    ({"status": "forgotten"}, None, 400, "status"),
    ({"applicant": "alieni"}, None, 400, "applicant"),
    ({"estimated_cost_eur": -5}, None, 422, "estimated_cost_eur"),
    ({"istat_code": "999999"}, None, 422, "istat_code"),
    ({"istat_code": None}, None, 422, "istat_code"),  # no comune and no place
    ({"referent_id": 987654}, None, 422, "referent_id"),
    ({}, TURIN_POINT, 422, "geometry"),
    ({}, {"type": "LineString", "coordinates": [[9.18, 45.46], [9.19, 45.47]]}, 400, "geometry"),
    ({}, {"type": "Polygon", "coordinates": [[[9.18, 45.46], [9.19, 45.47], [9.19, 45.46],
                                              [9.18, 45.47], [9.18, 45.46]]]}, 422, "geometry"),
]


@pytest.mark.parametrize(("props", "geometry", "status", "field"), NEED_BAD,
                         ids=[f"{f}-{s}" for _p, _g, s, f in NEED_BAD])
def test_need_bad_input_names_the_field(api, db, props, geometry, status, field):
    before = state(db)
    r = api.post("/ogc/collections/needs/items", json=need(geometry, **props),
                 headers={**GEOJSON, **basic("coord")})
    refused(r, status, field)
    assert state(db) == before


def test_changeset_of_calls_and_needs_all_or_nothing(api, db):
    before = state(db)
    ops = [{"action": "create", "collection": "calls", "feature": call(title="Nel changeset")},
           {"action": "create", "collection": "needs", "feature": need(MILANO_SQUARE)},
           {"action": "create", "collection": "calls",
            "feature": call(opens_on="2026-07-01", closes_on="2026-06-01")}]
    r = api.post("/api/changesets", json={"operations": ops}, headers=basic("coord"))
    assert r.status_code == 422, r.text
    (problem,) = r.json()["problems"]
    assert problem["index"] == 2 and problem["errors"][0]["field"] == "closes_on"
    assert state(db) == before
    r = api.post("/api/changesets", json={"operations": ops[:2]}, headers=basic("coord"))
    assert r.status_code == 200, r.text
    assert [a["collection"] for a in r.json()["applied"]] == ["calls", "needs"]


# ----------------------------------------------------------------------- publication
def test_published_as_ogc_collections(api, db):
    create(api, "calls", call(title="Bando pubblicato"))
    create(api, "needs", need(MILANO_POINT, title="Bisogno pubblicato"))
    query(db, "INSERT INTO rigenera.referents (istat_code, full_name, email)"
              " VALUES (%s, 'Mario Rossi', 'mario.rossi@example.org') RETURNING id", (MILANO,))
    query(db, "UPDATE rigenera.needs SET referent_id = (SELECT max(id) FROM rigenera.referents)"
              " RETURNING id")
    ids = {c["id"] for c in api.get("/ogc/collections", params={"f": "json"}).json()["collections"]}
    assert {"calls", "needs"} <= ids
    for cid in ("calls", "needs"):
        # Our fast path and pygeoapi's (a property filter through pygeoapi: f=json&sortby).
        for params in ({}, {"sortby": "-id"}):
            r = api.get(f"/ogc/collections/{cid}/items", params=params)
            assert r.status_code == 200, r.text
            fc = r.json()
            assert fc["type"] == "FeatureCollection" and fc["features"], fc
            expected = query(db, f"SELECT count(*) FROM rigenera.{cid}")[0][0]
            assert fc["numberMatched"] == expected
            for f in fc["features"]:
                assert f["type"] == "Feature" and "geometry" in f
                assert not {"created_by", "updated_by", "referent_id"} & set(f["properties"])
                if cid == "calls":
                    assert f["geometry"] is None
        assert "Mario Rossi" not in api.get(f"/ogc/collections/{cid}/items").text
        # pygeoapi's own paths: HTML, JSON-LD, one item, queryables, schema, a CQL2 filter.
        fid = fc["features"][0]["id"]
        for path, params in ((f"/ogc/collections/{cid}/items", {"f": "html"}),
                             (f"/ogc/collections/{cid}/items", {"f": "jsonld"}),
                             (f"/ogc/collections/{cid}/items/{fid}", {"f": "html"}),
                             (f"/ogc/collections/{cid}/items/{fid}", {"f": "jsonld"}),
                             (f"/ogc/collections/{cid}/queryables", {"f": "json"}),
                             (f"/ogc/collections/{cid}/schema", {"f": "json"}),
                             (f"/ogc/collections/{cid}", {"f": "json"}),
                             (f"/ogc/collections/{cid}/items", {"filter": "title LIKE 'B%'",
                                                                "f": "html"})):
            r = api.get(path, params=params)
            assert r.status_code == 200, (path, params, r.text[:300])
        r = api.get(f"/ogc/collections/{cid}/items", params={"filter": "title LIKE 'B%'"})
        assert r.status_code == 200 and all(f["properties"]["title"].startswith("B")
                                            for f in r.json()["features"])
        # No vector tiles for them: tiles stay with the collections that have them.
        assert api.get(f"/ogc/collections/{cid}/tiles").status_code == 404
        assert api.get(f"/ogc/collections/{cid}/tiles/WebMercatorQuad/12/1465/2148",
                       params={"f": "mvt"}).status_code == 404
    points = api.get("/ogc/collections/needs/items", params={"bbox": "9.1,45.4,9.3,45.5"}).json()
    assert points["features"] and all(f["geometry"] for f in points["features"])
    assert api.get("/ogc/collections/sites/tiles").status_code == 200


def test_ogr_reads_calls_and_needs(live):
    """GDAL's OAPIF driver opens both collections (calls as a table without geometry)."""
    import subprocess

    for cid in ("calls", "needs"):
        out = subprocess.run(["ogrinfo", "-ro", "-so", f"OAPIF:{live.url}/ogc", cid],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert "Feature Count" in out.stdout


def test_model_describes_calls_and_needs(api):
    calls = api.get("/api/collections/calls/model").json()
    assert calls["editable"] is True and calls["geometry_types"] == []
    assert calls["geometry_required"] is False
    fields = {f["name"]: f for f in calls["fields"]}
    assert fields["closes_on"]["label"] == {"it": "Data di chiusura", "en": "Closing date"}
    assert fields["closes_on"]["type"] == "date" and fields["themes"]["type"] == "text[]"
    assert fields["title"]["required"] and fields["version"]["read_only"]
    assert next(e["code"] for e in fields["funding_source"]["enum"]) == "pnrr"
    needs = api.get("/api/collections/needs/model").json()
    assert needs["geometry_types"] == ["MULTIPOLYGON", "POINT", "POLYGON"]
    nf = {f["name"]: f for f in needs["fields"]}
    assert "referent_id" not in nf and nf["geometry_kind"]["read_only"]
    assert {e["code"] for e in nf["category"]["enum"]} >= {"housing", "green"}
    # The comune is not required: a need with a place takes the comune of its place.
    assert not nf["istat_code"]["required"] and nf["title"]["required"]


# -------------------------------------------------------------------------- imports
def _csv(rows: list[dict[str, object]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _import(api: httpx.Client, user: str, collection: str, content: bytes,
            **fields: str) -> httpx.Response:
    return api.post("/api/imports", files={"file": (f"{collection}.csv", content, "text/csv")},
                    data={"collection": collection, **fields}, headers=basic(user), timeout=120)


def test_import_calls_csv(api, db):
    rows = [{"source": "bandi-test", "source_id": f"B{i}", "title": f"Bando {i}",
             "funder": "Ministero", "funding_source": "national", "themes": "housing, green",
             "eligible_istat_codes": f"{MILANO},{SESTO}", "opens_on": "01/02/2026",
             "closes_on": "30/09/2026", "budget_eur": "1.000.000,00",
             "max_grant_eur": "250.000,50"} for i in range(3)]
    r = _import(api, "coord", "calls", _csv(rows))
    assert r.status_code == 201, r.text
    assert r.json()["counts"]["created"] == 3
    got = query(db, "SELECT themes, eligible_istat_codes, closes_on::text, max_grant_eur::text"
                    " FROM rigenera.calls WHERE source = 'bandi-test' ORDER BY source_id")
    assert got[0] == (["housing", "green"], [MILANO, SESTO], "2026-09-30", "250000.50")
    # The same file again: recognised by (source, source_id), nothing written.
    r = _import(api, "coord", "calls", _csv(rows))
    assert r.json()["counts"]["unchanged"] == 3
    # A technician does not import calls.
    refused(_import(api, "tecnico", "calls", _csv(rows)), 403, "collection")


def test_import_calls_bad_row_names_field_and_reason(api, db):
    before = state(db)
    rows = [{"source": "bandi-bad", "source_id": "1", "title": "Buono", "funder": "UE",
             "funding_source": "fesr", "opens_on": "2026-01-01", "closes_on": "2026-03-01"},
            {"source": "bandi-bad", "source_id": "2", "title": "Date invertite", "funder": "UE",
             "funding_source": "fesr", "opens_on": "2026-05-01", "closes_on": "2026-03-01"}]
    r = _import(api, "coord", "calls", _csv(rows))
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [(2, "closes_on")], errors
    assert "calls_dates_order" in errors[0]["reason"]
    assert state(db) == before


def test_import_needs_csv_reach_and_duplicates(api, db):
    rows = [{"source": "bisogni-test", "source_id": "N1", "istat_code": MILANO,
             "title": "Verde di quartiere", "category": "green", "priority": "1",
             "lon": "9.19", "lat": "45.464"},
            {"source": "bisogni-test", "source_id": "N2", "istat_code": "",
             "title": "Casa di comunità", "category": "services", "priority": "2",
             "lon": "9.185", "lat": "45.47"},
            {"source": "bisogni-test", "source_id": "N1", "istat_code": MILANO,
             "title": "Verde di quartiere", "category": "green", "priority": "1",
             "lon": "9.19", "lat": "45.464"}]
    r = _import(api, "tecnico", "needs", _csv(rows), skip_invalid="true")
    assert r.status_code == 201, r.text
    counts = r.json()["counts"]
    assert counts["created"] == 2 and counts["duplicates"] == 1, counts
    # The comune of the second row is derived from its point.
    assert query(db, "SELECT istat_code, GeometryType(geom) FROM rigenera.needs"
                     " WHERE source = 'bisogni-test' AND source_id = 'N2'")[0] == (MILANO, "POINT")
    # History of an imported need exists.
    assert query(db, "SELECT count(*) FROM rigenera.history h JOIN rigenera.needs n"
                     " ON h.collection = 'needs' AND h.feature_id = n.id::text"
                     " WHERE n.source = 'bisogni-test'")[0][0] == 2
    # Sesto's technician: refused whole, naming the row and the field.
    before = state(db)
    sesto = [{**rows[0], "source_id": "S1"}]
    doc = refused(_import(api, "tecnico.sesto", "needs", _csv(sesto)), 403, "istat_code")
    assert doc["errors"][0]["row"] == 1
    # A bad category and a need in Turin: rows named with field and reason.
    bad = [{**rows[0], "source_id": "B1", "category": "meteo"},
           {**rows[0], "source_id": "B2", "lon": "7.68", "lat": "45.07"}]
    r = _import(api, "coord", "needs", _csv(bad))
    assert r.status_code == 422, r.text
    problems = {(e["row"], e["field"]) for e in r.json()["errors"]}
    assert problems == {(1, "category"), (2, "geometry")}, r.json()["errors"]
    assert all(e["reason"] for e in r.json()["errors"])
    assert state(db) == before
    assert json.dumps(r.json())  # the report is JSON all through


def test_cli_imports_calls_and_needs(db, tmp_path):
    """`rigenera import FILE --collection calls|needs`, Italian spellings (semicolons,
    decimal commas, labels), a bad row named by row, field and reason."""
    import os
    import subprocess
    import sys

    def rigenera(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DATABASE_URL": db, "RIGENERA_LOG_LEVEL": "warning"}
        return subprocess.run([sys.executable, "-m", "rigenera.cli", "import", *args], env=env,
                              capture_output=True, text=True, timeout=300)

    calls = tmp_path / "bandi.csv"
    calls.write_text("title;funder;funding_source;opens_on;closes_on;budget_eur;source;source_id\n"
                     "Bando CLI;Fondazione;Fondi privati;01/03/2026;31/05/2026;200000,50;cli;C1\n",
                     encoding="utf-8")
    out = rigenera(str(calls), "--collection", "calls", "--json")
    assert out.returncode == 0, out.stderr + out.stdout
    assert json.loads(out.stdout)["counts"]["created"] == 1
    assert query(db, "SELECT funding_source, budget_eur::text FROM rigenera.calls"
                     " WHERE source = 'cli'") == [("private", "200000.50")]
    needs = tmp_path / "bisogni.csv"
    needs.write_text("istat_code;title;category;priority;lon;lat;source;source_id\n"
                     f"{MILANO};Piazza;Verde;1;9,19;45,464;cli;N1\n"
                     f"{MILANO};Troppo urgente;Verde;0;9,19;45,464;cli;N2\n", encoding="utf-8")
    before = state(db)
    out = rigenera(str(needs), "--collection", "needs", "--json")
    assert out.returncode == 2, out.stderr
    doc = json.loads(out.stdout)
    assert [(e["row"], e["field"]) for e in doc["rejected"]] == [(2, "priority")]
    assert "needs_priority_range" in doc["rejected"][0]["reason"]
    assert state(db) == before


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "csv", "xlsx"])
def test_exports_of_calls_and_needs(api, db, fmt, tmp_path):
    """GET /api/exports/{calls,needs}: every format opens, with the rows of the view."""
    import subprocess

    create(api, "calls", call(title="Da esportare"))
    create(api, "needs", need(MILANO_POINT, title="Da esportare"))
    for cid in ("calls", "needs"):
        r = api.get(f"/api/exports/{cid}", params={"format": fmt, "comuni": MILANO})
        assert r.status_code == 200, r.text
        expected = query(db, f"SELECT count(*) FROM pub.{cid} t WHERE "
                             + ("t.istat_code = %s" if cid == "needs"
                                else "%s = ANY(t.eligible_istat_codes)"), (MILANO,))[0][0]
        if fmt == "geojson":
            assert len(r.json()["features"]) == expected
            continue
        path = tmp_path / f"{cid}.{'zip' if fmt == 'csv' else fmt}"
        path.write_bytes(r.content)
        source = str(path)
        if fmt == "csv":  # the CSV and its sources, zipped
            import zipfile

            member = next(n for n in zipfile.ZipFile(path).namelist() if n.endswith(".csv"))
            source = f"/vsizip/{path}/{member}"
        out = subprocess.run(["ogrinfo", "-ro", "-al", "-so", source], capture_output=True,
                             text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert f"Feature Count: {expected}" in out.stdout, out.stdout
