"""Projects on the map: the queue "Da localizzare", the comune_point -> digitised rule
(migration 0015) through every writer, and projects split by geometry kind.

Approximate projects are made here as the import engine makes them (rigenera.comune_point
of their comuni, geom_source 'comune_point', under rigenera.import), then located through
the real API; expected answers come from PostGIS.
"""

from __future__ import annotations

import psycopg2
import pyogrio
import pytest

from conftest import MILANO, SESTO, basic, query

GEOJSON = {"Content-Type": "application/geo+json"}
# A small square in Milano (Porta Romana) and one in Sesto San Giovanni.
MILANO_SQUARE = {"type": "Polygon", "coordinates": [[[9.2010, 45.4520], [9.2030, 45.4520],
                                                     [9.2030, 45.4535], [9.2010, 45.4535],
                                                     [9.2010, 45.4520]]]}
MILANO_POINT = {"type": "Point", "coordinates": [9.1900, 45.4640]}


def make_project(db: str, title: str, comuni: list[str], *, scope: str = "local",
                 located: bool = True) -> int:
    """A project as an import leaves it: at its comuni's representative points."""
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute("SELECT set_config('rigenera.actor', 'import:test', true),"
                    " set_config('rigenera.import', 'on', true)")
        cur.execute(
            "INSERT INTO rigenera.projects (title, status, geom_source, scope, source, source_id,"
            " geom) VALUES (%s, 'funded', %s, %s, 'Test ReGiS (CC BY 4.0)', %s,"
            " CASE WHEN %s THEN rigenera.comune_point(%s::text[]) END) RETURNING id",
            (title, "comune_point" if located else "unknown", scope, title, located, comuni))
        (pid,) = cur.fetchone()
        for code in comuni:
            cur.execute("INSERT INTO rigenera.project_comuni VALUES (%s, %s)", (pid, code))
    conn.close()
    return int(pid)


@pytest.fixture(scope="module")
def queue(db):
    return {
        "milano": make_project(db, "Biblioteca di quartiere", [MILANO]),
        "sesto": make_project(db, "Palestra scolastica", [SESTO]),
        "both": make_project(db, "Piano urbano integrato", [MILANO, SESTO]),
        "metro": make_project(db, "Rete museale metropolitana", [], scope="metro_area",
                              located=False),
    }


def to_locate(api, user, **params):
    r = api.get("/api/projects/to-locate", params=params, headers=basic(user))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    return r.json()


def queue_ids(db, comuni=None):
    """The queue as SQL sees it: approximate projects (of these comuni), metro-area ones
    without geometry when every comune is visible."""
    rows = query(db, "SELECT p.id FROM rigenera.projects p WHERE (p.geom_source = 'comune_point'"
                     " OR (p.scope = 'metro_area' AND p.geom IS NULL)) AND (%s::text[] IS NULL"
                     " OR EXISTS (SELECT 1 FROM rigenera.project_comuni c WHERE c.project_id = p.id"
                     " AND c.istat_code = ANY(%s::text[]))) ORDER BY p.id", (comuni, comuni))
    return [r[0] for r in rows]


def test_each_role_sees_its_queue(api, db, queue):
    coord = to_locate(api, "coord")
    assert [f["id"] for f in coord["features"]] == queue_ids(db)
    assert {queue["milano"], queue["sesto"], queue["both"], queue["metro"]} <= {
        f["id"] for f in coord["features"]}
    assert coord["numberMatched"] == len(queue_ids(db))
    assert [f["id"] for f in to_locate(api, "admin")["features"]] == queue_ids(db)
    # A volunteer without comuni sees everything; a technician only their comuni.
    assert [f["id"] for f in to_locate(api, "volontario")["features"]] == queue_ids(db)
    tech = {f["id"]: f for f in to_locate(api, "tecnico")["features"]}
    assert list(tech) == queue_ids(db, [MILANO])
    assert queue["milano"] in tech and queue["both"] in tech
    assert queue["sesto"] not in tech and queue["metro"] not in tech
    # The reach rule asks every comune of a project to be theirs.
    assert tech[queue["milano"]]["properties"]["in_reach"] is True
    assert tech[queue["both"]]["properties"]["in_reach"] is False
    assert all(f["properties"]["in_reach"] for f in coord["features"])


def test_features_carry_what_a_locator_needs(api, db, queue):
    features = {f["id"]: f for f in to_locate(api, "coord")["features"]}
    both = features[queue["both"]]
    assert both["geometry"]["type"] == "MultiPoint"
    assert both["properties"]["istat_codes"] == sorted([MILANO, SESTO])
    assert both["properties"]["reason"] == "comune_point"
    (version, title, kind) = query(db, "SELECT version, title, geometry_kind FROM pub.projects"
                                       " WHERE id = %s", (queue["both"],))[0]
    assert both["properties"]["version"] == version and both["properties"]["title"] == title
    assert both["properties"]["geometry_kind"] == kind == "point"
    metro = features[queue["metro"]]
    assert metro["geometry"] is None and metro["properties"]["reason"] == "metro_area"
    assert metro["properties"]["scope"] == "metro_area"
    assert set(both["properties"]) >= {"id", "cup", "title", "istat_codes", "version",
                                       "programme_codes"}
    # The point is the comune's representative point, as PostGIS computes it.
    (x, y) = query(db, "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p"
                       " FROM rigenera.comuni WHERE istat_code = %s) q", (MILANO,))[0]
    assert features[queue["milano"]]["geometry"]["coordinates"] == [pytest.approx(x, abs=1e-7),
                                                                  pytest.approx(y, abs=1e-7)]


def test_anonymous_is_401_and_bad_parameters_400(api, queue):
    assert api.get("/api/projects/to-locate").status_code == 401
    for params, field in [({"limit": 0}, "limit"), ({"limit": 5000}, "limit"),
                          ({"istat_code": "15146"}, "istat_code"), ({"after": "x"}, "after"),
                          ({"f": "html"}, "f")]:
        r = api.get("/api/projects/to-locate", params=params, headers=basic("coord"))
        assert r.status_code == 400, (params, r.text)
        assert field in {e["field"] for e in r.json()["errors"]}


def test_paging_by_cursor_walks_the_whole_queue(api, db, queue):
    seen, url, params = [], "/api/projects/to-locate", {"limit": 2}
    while url:
        r = api.get(url, params=params, headers=basic("coord"))
        assert r.status_code == 200
        page = r.json()
        assert page["numberMatched"] == len(queue_ids(db))
        seen += [f["id"] for f in page["features"]]
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        url, params = (nxt[0], None) if nxt else (None, None)
    assert seen == queue_ids(db)
    offset = to_locate(api, "coord", limit=1, offset=1)
    assert [f["id"] for f in offset["features"]] == queue_ids(db)[1:2]
    narrowed = to_locate(api, "coord", istat_code=SESTO)
    assert [f["id"] for f in narrowed["features"]] == queue_ids(db, [SESTO])


def test_gdal_reads_the_queue_over_http(api, live, queue):
    pyogrio.set_gdal_config_options({"GDAL_HTTP_USERPWD": "coord:una-password-lunga",
                                     "GDAL_HTTP_AUTH": "BASIC"})
    try:
        df = pyogrio.read_dataframe(f"{live.url}/api/projects/to-locate?limit=1000")
    finally:
        pyogrio.set_gdal_config_options({"GDAL_HTTP_USERPWD": None, "GDAL_HTTP_AUTH": None})
    features = to_locate(api, "coord", limit=1000)["features"]
    assert sorted(df["id"].tolist()) == sorted(f["id"] for f in features)
    assert set(df["reason"]) == {"comune_point", "metro_area"}


# ------------------------------------------------------- drawing moves it to 'digitised'
def etag(api, pid):
    r = api.get(f"/ogc/collections/projects/items/{pid}")
    assert r.status_code == 200
    return r.headers["etag"]


def stored(db, pid):
    return query(db, "SELECT geom_source, version, geometry_kind FROM rigenera.projects"
                     " WHERE id = %s", (pid,))[0]


def test_drawing_through_patch_digitises_and_leaves_the_queue(api, db):
    pid = make_project(db, "Centro civico da disegnare", [MILANO])
    _, version, _ = stored(db, pid)
    stale = f'"{version - 1}"' if version > 1 else '"999"'
    r = api.patch(f"/ogc/collections/projects/items/{pid}", headers=basic("tecnico") | {
        "If-Match": stale}, json={"geometry": MILANO_SQUARE})
    assert r.status_code == 412
    assert stored(db, pid) == ("comune_point", version, "point")  # nothing written
    r = api.patch(f"/ogc/collections/projects/items/{pid}",
                  headers=basic("tecnico") | {"If-Match": etag(api, pid)},
                  json={"geometry": MILANO_SQUARE})
    assert r.status_code == 204, r.text
    assert r.headers["etag"] == f'"{version + 1}"'
    assert stored(db, pid) == ("digitised", version + 1, "polygon")
    history = api.get(f"/api/collections/projects/items/{pid}/history",
                      headers=basic("admin")).json()["changes"]
    last = history[-1]
    assert last["operation"] == "update" and last["actor"] == "tecnico"
    assert last["before"]["geom_source"] == "comune_point"
    assert last["after"]["geom_source"] == "digitised"
    assert pid not in {f["id"] for f in to_locate(api, "tecnico")["features"]}
    assert pid not in queue_ids(db)


def test_attribute_edits_keep_it_in_the_queue(api, db):
    pid = make_project(db, "Solo attributi", [MILANO])
    r = api.patch(f"/ogc/collections/projects/items/{pid}",
                  headers=basic("tecnico") | {"If-Match": etag(api, pid)},
                  json={"properties": {"description": "ancora da localizzare",
                                       "cup_status": "active"}})
    assert r.status_code == 204, r.text
    assert stored(db, pid)[0] == "comune_point"
    assert query(db, "SELECT cup_status FROM rigenera.projects WHERE id = %s", (pid,)) == [
        ("active",)]
    assert pid in {f["id"] for f in to_locate(api, "tecnico")["features"]}


def test_an_explicit_geom_source_is_kept(api, db):
    pid = make_project(db, "Rilevato", [MILANO])
    r = api.patch(f"/ogc/collections/projects/items/{pid}",
                  headers=basic("admin") | {"If-Match": etag(api, pid)},
                  json={"geometry": MILANO_POINT, "properties": {"geom_source": "surveyed"}})
    assert r.status_code == 204, r.text
    assert stored(db, pid)[0] == "surveyed"


def test_drawing_through_a_changeset_and_a_put(api, db):
    first = make_project(db, "Da changeset", [MILANO])
    second = make_project(db, "Da PUT", [MILANO])
    version = stored(db, first)[1]
    r = api.post("/api/changesets", headers=basic("tecnico"), json={"operations": [
        {"action": "patch", "collection": "projects", "id": first, "base_version": version,
         "feature": {"geometry": MILANO_POINT}}]})
    assert r.status_code == 200, r.text
    assert stored(db, first) == ("digitised", version + 1, "point")
    # A replace without geom_source (the column default 'unknown' is "not set").
    feature = api.get(f"/ogc/collections/projects/items/{second}").json()
    props = {k: v for k, v in feature["properties"].items() if k in (
        "title", "status", "istat_codes", "description")}
    r = api.put(f"/ogc/collections/projects/items/{second}",
                headers=basic("coord") | GEOJSON | {"If-Match": etag(api, second)},
                json={"type": "Feature", "id": second, "properties": props,
                      "geometry": MILANO_SQUARE})
    assert r.status_code == 204, r.text
    assert stored(db, second)[0] == "digitised"


def test_an_import_recomputing_the_comune_point_keeps_it_approximate(db):
    pid = make_project(db, "Comuni cambiati", [MILANO])
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute("SELECT set_config('rigenera.actor', 'import:test', true),"
                    " set_config('rigenera.import', 'on', true)")
        cur.execute("UPDATE rigenera.projects SET geom = rigenera.comune_point(%s::text[])"
                    " WHERE id = %s", ([MILANO, SESTO], pid))
        cur.execute("INSERT INTO rigenera.project_comuni VALUES (%s, %s)", (pid, SESTO))
    conn.close()
    assert stored(db, pid)[0] == "comune_point"
    assert query(db, "SELECT GeometryType(geom) FROM rigenera.projects WHERE id = %s",
                 (pid,)) == [("MULTIPOINT",)]


def test_a_sql_console_edit_follows_the_same_rule(db):
    pid = make_project(db, "Da console", [SESTO])
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute("UPDATE rigenera.projects SET geom = ST_Buffer(geom, 0.0005) WHERE id = %s",
                    (pid,))
    conn.close()
    assert stored(db, pid)[0:3:2] == ("digitised", "polygon")


# ------------------------------------------ points and polygons: two layers for QGIS 3.22
def test_geometry_kind_splits_comune_points_from_drawn_polygons(api, db, queue):
    drawn = make_project(db, "Perimetro disegnato", [MILANO])
    r = api.patch(f"/ogc/collections/projects/items/{drawn}",
                  headers=basic("admin") | {"If-Match": etag(api, drawn)},
                  json={"geometry": MILANO_SQUARE})
    assert r.status_code == 204
    for kind in ("point", "polygon"):
        expected = [r[0] for r in query(db, "SELECT id FROM pub.projects WHERE geometry_kind = %s"
                                            " ORDER BY id", (kind,))]
        for params in ({"geometry_kind": kind}, {"filter": f"geometry_kind = '{kind}'"}):
            page = api.get("/ogc/collections/projects/items", params={**params, "limit": 1000})
            assert page.status_code == 200
            ids = [f["id"] for f in page.json()["features"]]
            assert ids == expected, (kind, params)
    points = {f["id"] for f in api.get("/ogc/collections/projects/items", params={
        "geometry_kind": "point", "limit": 1000}).json()["features"]}
    polygons = {f["id"] for f in api.get("/ogc/collections/projects/items", params={
        "geometry_kind": "polygon", "limit": 1000}).json()["features"]}
    assert {queue["milano"], queue["both"]} <= points and drawn in polygons
    assert not points & polygons


def test_queue_projects_answer_spatial_queries(api, db, queue):
    (bbox,) = query(db, "SELECT array[ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)] FROM"
                        " (SELECT ST_Extent(geom) e FROM rigenera.comuni WHERE istat_code = %s) q",
                    (MILANO,))[0]
    page = api.get("/ogc/collections/projects/items", params={
        "bbox": ",".join(map(str, bbox)), "limit": 1000}).json()
    ids = {f["id"] for f in page["features"]}
    expected = {r[0] for r in query(db, "SELECT id FROM rigenera.projects WHERE ST_Intersects("
                                        "geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))", tuple(bbox))}
    assert ids == expected and {queue["milano"], queue["both"]} <= ids
    inside = api.get("/ogc/collections/projects/items", params={
        "filter": f"S_INTERSECTS(geometry, BUFFER_M(POINT({MILANO_POINT['coordinates'][0]} "
                  f"{MILANO_POINT['coordinates'][1]}), 20000)) AND geom_source = 'comune_point'",
        "limit": 1000}).json()
    assert queue["milano"] in {f["id"] for f in inside["features"]}


def test_model_exposes_cup_status_and_scope(api, db):
    fields = {f["name"]: f for f in api.get("/api/collections/projects/model").json()["fields"]}
    for name, constraint in (("cup_status", "projects_cup_status_check"),
                             ("scope", "projects_scope_check")):
        assert fields[name]["read_only"] is False and fields[name]["required"] is False
        (definition,) = query(db, "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
                                  " WHERE conname = %s", (constraint,))[0]
        assert sorted(e["code"] for e in fields[name]["enum"]) == sorted(
            c for c in ("active", "closed", "cancelled", "local", "metro_area")
            if f"'{c}'" in definition)
        assert fields[name]["label"]["it"] != name
    assert fields["funding_approx"]["read_only"] is True
    assert fields["geometry_kind"]["read_only"] is True
