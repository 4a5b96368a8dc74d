"""GET /api/collections/{id}/model: the field model clients build forms and aliases from.

Expected values come from PostgreSQL (the published views, NOT NULL columns, CHECK
constraints, numeric precision) and from what the write path really accepts.
"""

import re

import pytest

from conftest import basic, query
from rigenera.catalogue import COLLECTIONS

GEOJSON = {"Content-Type": "application/geo+json"}
TYPES = {"text", "integer", "bigint", "numeric", "double", "date", "boolean", "text[]", "bigint[]",
         "timestamptz"}


def model(api, cid):
    r = api.get(f"/api/collections/{cid}/model")
    assert r.status_code == 200, r.text
    return r.json()


def fields(api, cid):
    return {f["name"]: f for f in model(api, cid)["fields"]}


def check_codes(db, constraint, pattern=r"'([a-z_]+)'::text"):
    """The codes a CHECK (col IN (...)) constraint allows, read back from PostgreSQL."""
    (definition,) = query(db, "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s",
                          (constraint,))[0]
    return re.findall(pattern, definition)


@pytest.mark.parametrize("cid", [c.id for c in COLLECTIONS])
def test_fields_are_the_published_columns_in_view_order(api, db, cid):
    columns = [r[0] for r in query(
        db, "SELECT column_name FROM information_schema.columns WHERE table_schema = 'pub'"
            " AND table_name = %s AND udt_name <> 'geometry' ORDER BY ordinal_position", (cid,))]
    m = model(api, cid)
    assert [f["name"] for f in m["fields"]] == columns
    assert "geom" not in columns and columns
    for f in m["fields"]:
        assert f["type"] in TYPES, f
        assert set(f["label"]) == {"it", "en"} and all(f["label"].values())
        assert isinstance(f["required"], bool) and isinstance(f["read_only"], bool)
        if f["read_only"]:
            assert f["required"] is False
    assert set(m["title"]) == {"it", "en"}


def test_public_without_credentials_and_same_with(api):
    anonymous = api.get("/api/collections/sites/model")
    assert anonymous.status_code == 200
    assert api.get("/api/collections/sites/model", headers=basic("tecnico")).json() == anonymous.json()


def test_unknown_collection_is_404_exception_document(api):
    r = api.get("/api/collections/nope/model")
    assert r.status_code == 404
    body = r.json()
    assert body["code"] == "NotFound" and body["type"] == "NotFound" and "nope" in body["description"]


def test_sites_header_and_geometry(api, db):
    m = model(api, "sites")
    assert {k: m[k] for k in ("id", "id_field", "editable", "geometry_types", "geometry_required")} == {
        "id": "sites", "id_field": "id", "editable": True,
        "geometry_types": ["MULTIPOLYGON", "POINT", "POLYGON"], "geometry_required": True}
    # ... which is what the database accepts.
    assert sorted(check_codes(db, "sites_geom_type", r"'([A-Z]+)'::text")) == m["geometry_types"]
    assert model(api, "projects")["geometry_required"] is False


def test_comuni_are_read_only_multipolygons(api, db):
    m = model(api, "comuni")
    (gtype,) = query(db, "SELECT type FROM geometry_columns WHERE f_table_schema = 'rigenera'"
                         " AND f_table_name = 'comuni'")[0]
    assert m["editable"] is False and m["id_field"] == "istat_code"
    assert m["geometry_types"] == [gtype] == ["MULTIPOLYGON"]
    assert all(f["read_only"] and not f["required"] for f in m["fields"])


def test_sites_flags_types_labels(api):
    f = fields(api, "sites")
    assert f["state"]["required"] is True and f["state"]["read_only"] is False
    assert f["name"]["required"] is True
    assert f["istat_code"]["required"] is False and f["istat_code"]["read_only"] is False  # derived
    for name in ("id", "surface_m2", "validation_status", "version", "updated_at"):
        assert f[name]["read_only"] is True and f[name]["required"] is False, name
    assert f["id"]["type"] == "bigint" and f["updated_at"]["type"] == "timestamptz"
    assert f["surface_m2"]["type"] == "double" and f["surface_declared_m2"]["type"] == "numeric"
    assert f["state"]["label"] == {"it": "Stato d'uso", "en": "State of use"}
    assert "pattern" not in f["name"] and "enum" not in f["name"] and "max_abs" not in f["name"]


def test_required_fields_are_those_the_database_needs(api, db):
    """Every required field is NOT NULL without a default in storage; and leaving one out
    of a create is refused naming it, while leaving out a writable optional one is not."""
    for cid in ("sites", "projects", "mobility_links", "transit_stops"):
        rows = query(db, "SELECT column_name FROM information_schema.columns WHERE table_schema ="
                         " 'rigenera' AND table_name = %s AND is_nullable = 'NO'"
                         " AND column_default IS NULL", (cid,))
        not_null = {r[0] for r in rows}
        required = {n for n, f in fields(api, cid).items() if f["required"]}
        assert required and required <= not_null, cid
    square = {"type": "Polygon", "coordinates": [[[9.180, 45.460], [9.182, 45.460], [9.182, 45.461],
                                                  [9.180, 45.461], [9.180, 45.460]]]}
    r = api.post("/ogc/collections/sites/items", headers={**GEOJSON, **basic("admin")},
                 json={"type": "Feature", "properties": {"name": "Senza stato"}, "geometry": square})
    assert r.status_code in (400, 422) and "state" in r.text
    r = api.post("/ogc/collections/sites/items", headers={**GEOJSON, **basic("admin")},
                 json={"type": "Feature", "properties": {"name": "Minima", "state": "abandoned"},
                       "geometry": square})
    assert r.status_code == 201, r.text


def first_site(api):
    return api.get("/ogc/collections/sites/items", params={"limit": 1}).json()["features"][0]["id"]


def test_read_only_fields_are_not_written(api, db):
    """Writable fields change; read-only ones sent back are ignored (a QGIS round trip)."""
    sid = first_site(api)
    (surface,) = query(db, "SELECT surface_m2 FROM pub.sites WHERE id = %s", (sid,))[0]
    etag = api.get(f"/ogc/collections/sites/items/{sid}").headers["etag"]
    r = api.patch(f"/ogc/collections/sites/items/{sid}",
                  json={"properties": {"surface_m2": 1.0, "owner": "Proprietario di prova"}},
                  headers={"If-Match": etag, **basic("admin")})
    assert r.status_code == 204, r.text
    assert query(db, "SELECT surface_m2, owner FROM pub.sites WHERE id = %s", (sid,)) == [
        (surface, "Proprietario di prova")]
    f = fields(api, "sites")
    assert f["surface_m2"]["read_only"] is True and f["owner"]["read_only"] is False


def test_enumerations_match_the_database_and_labels(api, db):
    f = fields(api, "sites")
    assert f["state"]["enum"][0] == {"code": "abandoned", "it": "Dismessa / abbandonata",
                                     "en": "Abandoned"}
    for cid, name, constraint in [("sites", "state", "sites_state_check"),
                                  ("sites", "former_use", "sites_former_use_check"),
                                  ("sites", "validation_status", "sites_validation_status_check"),
                                  ("projects", "status", "projects_status_check"),
                                  ("transit_stops", "mode", "transit_stops_mode_check")]:
        codes = [e["code"] for e in fields(api, cid)[name]["enum"]]
        assert sorted(codes) == sorted(check_codes(db, constraint)), (cid, name)
        assert all(e["it"] and e["en"] for e in fields(api, cid)[name]["enum"])
    assert "enum" not in f["address"]


def test_cup_pattern_is_the_database_rule(api, db):
    f = fields(api, "projects")
    pattern = f["cup"]["pattern"]
    assert pattern == "^[A-Z][0-9]{2}[A-Z][0-9]{11}$"
    for value in ("J12B34567890123", "j12B34567890123", "J12B3456789012", "JJ2B34567890123"):
        (db_ok,) = query(db, "SELECT %s ~ %s", (value, pattern))[0]
        (constraint,) = query(db, "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
                                  " WHERE conname = 'projects_cup_format'")[0]
        assert pattern in constraint
        assert bool(re.fullmatch(pattern, value)) == db_ok
    assert [n for c in ("sites", "projects", "mobility_links", "transit_stops", "comuni")
            for n, x in fields(api, c).items() if "pattern" in x] == ["cup"]


def test_max_abs_is_the_numeric_precision(api, db):
    for cid in ("sites", "projects"):
        for name, f in fields(api, cid).items():
            rows = query(db, "SELECT numeric_precision, numeric_scale FROM information_schema.columns"
                             " WHERE table_schema = 'rigenera' AND table_name = %s"
                             " AND column_name = %s AND udt_name = 'numeric'", (cid, name))
            if rows and not f["read_only"]:
                precision, scale = rows[0]
                assert f["max_abs"] == 10.0 ** (precision - scale), (cid, name)
                assert f["type"] == "numeric"
            else:
                assert "max_abs" not in f, (cid, name)
    assert fields(api, "sites")["surface_declared_m2"]["max_abs"] == 1e12
