"""`geometry_kind`: the published property that splits mixed collections by geometry type.

QGIS 3.22 types an OGC API layer from its first features and never draws the
others (issue 9, section 6), so the plugin loads one layer per kind with
``filter=geometry_kind='point'``. Sites and projects publish it, the fast path
and pygeoapi's own provider both filter on it, /queryables lists it, and it
follows every write of the geometry. Expected answers come from PostGIS
(``ST_Dimension``), not from the function the migration uses.
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import LiveServer, basic, query

GEOJSON = {"Content-Type": "application/geo+json"}
# The kind of a geometry, asked of PostGIS independently of rigenera.geometry_kind().
EXPECTED_SQL = ("SELECT id, CASE ST_Dimension(geom) WHEN 0 THEN 'point' WHEN 1 THEN 'line'"
                " WHEN 2 THEN 'polygon' END FROM rigenera.{cid}")
SQUARE = {"type": "Polygon", "coordinates": [[[9.180, 45.460], [9.182, 45.460], [9.182, 45.462],
                                              [9.180, 45.462], [9.180, 45.460]]]}
PROJECT_GEOMETRIES: list[dict[str, Any] | None] = [
    {"type": "Point", "coordinates": [9.185, 45.465]},
    {"type": "MultiPoint", "coordinates": [[9.185, 45.465], [9.186, 45.466]]},
    {"type": "LineString", "coordinates": [[9.180, 45.460], [9.190, 45.465]]},
    SQUARE,
    {"type": "GeometryCollection", "geometries": [
        {"type": "Point", "coordinates": [9.187, 45.467]}, SQUARE]},
    None,
]
KIND_FILTERS = ["geometry_kind = 'point'", "geometry_kind = 'line'",
                "geometry_kind = 'polygon'", "geometry_kind IS NULL"]


@pytest.fixture(scope="module")
def mixed(api: Any) -> dict[str, list[str]]:
    """Features of every kind, written through the API as an editor would."""
    made: dict[str, list[str]] = {"sites": [], "projects": []}
    for geometry in PROJECT_GEOMETRIES:
        feature = {"type": "Feature", "geometry": geometry,
                   "properties": {"title": "Progetto di ogni forma", "istat_codes": ["015146"]}}
        r = api.post("/ogc/collections/projects/items", json=feature,
                     headers={**GEOJSON, **basic("admin")})
        assert r.status_code == 201, r.text
        made["projects"].append(r.headers["location"].rsplit("/", 1)[1])
    for geometry in ({"type": "Point", "coordinates": [9.185, 45.465]}, SQUARE):
        feature = {"type": "Feature", "geometry": geometry,
                   "properties": {"name": "Area di ogni forma", "state": "abandoned"}}
        r = api.post("/ogc/collections/sites/items", json=feature,
                     headers={**GEOJSON, **basic("admin")})
        assert r.status_code == 201, r.text
        made["sites"].append(r.headers["location"].rsplit("/", 1)[1])
    return made


@pytest.fixture(scope="module")
def stock(db: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The same database served by pygeoapi's own provider (no fast path)."""
    live = LiveServer(db, tmp_path_factory.mktemp("stock"), fast_reads=False).start()
    yield live
    live.stop()


def _all(api: Any, base: str, cid: str, **params: Any) -> dict[str, Any]:
    r = api.get(f"{base}/ogc/collections/{cid}/items", params={"limit": 10000, **params})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("cid", ["sites", "projects"])
def test_every_feature_publishes_its_kind(api: Any, db: str, mixed: Any, cid: str) -> None:
    published = {str(f["id"]): f["properties"]["geometry_kind"]
                 for f in _all(api, "", cid)["features"]}
    expected = {str(i): kind for i, kind in query(db, EXPECTED_SQL.format(cid=cid))}
    assert published == expected
    kinds = {published[i] for i in mixed[cid]}
    assert kinds == ({"point", "polygon"} if cid == "sites" else {"point", "line", "polygon", None})


@pytest.mark.parametrize("cid", ["sites", "projects"])
@pytest.mark.parametrize("cql", KIND_FILTERS)
def test_both_read_paths_filter_on_the_kind(api: Any, stock: Any, db: str, mixed: Any, cid: str,
                                            cql: str) -> None:
    kind = cql.split("'")[1] if "'" in cql else None
    expected = sorted(i for i, k in query(db, EXPECTED_SQL.format(cid=cid)) if k == kind)
    fast = _all(api, "", cid, filter=cql)
    slow = _all(api, stock.url, cid, filter=cql)
    assert sorted(f["id"] for f in fast["features"]) == expected
    assert sorted(f["id"] for f in slow["features"]) == expected
    assert fast["numberMatched"] == slow["numberMatched"] == len(expected)
    if kind is not None:  # GDAL's -where equalities arrive as ?name=value
        by_param = _all(api, "", cid, geometry_kind=kind)
        assert sorted(f["id"] for f in by_param["features"]) == expected
        # and each page of a kind holds geometries of that kind only
        dims = {"point": 0, "line": 1, "polygon": 2}[kind]
        rows = query(db, f"SELECT DISTINCT ST_Dimension(geom) FROM rigenera.{cid}"
                         " WHERE id = ANY(%s)", ([int(f["id"]) for f in fast["features"]],))
        assert rows in ([], [(dims,)])


@pytest.mark.parametrize("cid", ["sites", "projects"])
def test_the_kinds_cover_the_whole_collection(api: Any, db: str, mixed: Any, cid: str) -> None:
    seen: list[Any] = []
    for cql in KIND_FILTERS:
        seen += [f["id"] for f in _all(api, "", cid, filter=cql)["features"]]
    assert sorted(seen) == sorted(r[0] for r in query(db, f"SELECT id FROM rigenera.{cid}"))


def test_queryables_list_the_kind(api: Any, stock: Any) -> None:
    for base in ("", stock.url):
        for cid in ("sites", "projects"):
            props = api.get(f"{base}/ogc/collections/{cid}/queryables").json()["properties"]
            assert props["geometry_kind"]["type"] == "string"


def test_the_kind_follows_the_geometry_and_cannot_be_written(api: Any, db: str,
                                                             mixed: Any) -> None:
    point_site, polygon_site = mixed["sites"]
    url = f"/ogc/collections/sites/items/{polygon_site}"
    version = api.get(url).headers["etag"]
    # Sent back as read (a client's round trip), the published value is ignored...
    r = api.patch(url, json={"properties": {"geometry_kind": "polygon"},
                             "geometry": {"type": "Point", "coordinates": [9.181, 45.461]}},
                  headers={**GEOJSON, **basic("admin"), "If-Match": version})
    assert r.status_code == 204, r.text
    # ... and the stored one follows the geometry.
    assert query(db, "SELECT geometry_kind, GeometryType(geom) FROM rigenera.sites WHERE id = %s",
                 (int(polygon_site),)) == [("point", "POINT")]
    assert api.get(url).json()["properties"]["geometry_kind"] == "point"
    project = mixed["projects"][-1]  # no geometry
    url = f"/ogc/collections/projects/items/{project}"
    r = api.patch(url, json={"geometry": SQUARE},
                  headers={**GEOJSON, **basic("admin"), "If-Match": api.get(url).headers["etag"]})
    assert r.status_code == 204, r.text
    assert query(db, "SELECT geometry_kind FROM rigenera.projects WHERE id = %s",
                 (int(project),)) == [("polygon",)]
    assert point_site in [str(f["id"]) for f in
                          _all(api, "", "sites", filter="geometry_kind = 'point'")["features"]]


def test_model_describes_the_kind_as_a_read_only_enumeration(api: Any) -> None:
    for cid, codes in (("sites", ["point", "polygon"]), ("projects", ["point", "line", "polygon"])):
        fields = {f["name"]: f for f in api.get(f"/api/collections/{cid}/model").json()["fields"]}
        kind = fields["geometry_kind"]
        assert kind["read_only"] is True
        assert [e["code"] for e in kind["enum"]] == codes
