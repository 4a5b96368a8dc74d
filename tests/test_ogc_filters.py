"""CQL2 text and JSON filters, spatial predicates (CRS84 regression) and BUFFER_M."""

import json

import httpx
import pytest
from pygeofilter.parsers.cql2_text import parse as parse_cql2_text

from conftest import LiveServer, query
from rigenera.ogc.provider import crs84_to_epsg4326

SQUARE = "POLYGON((9.15 45.44,9.22 45.44,9.22 45.49,9.15 45.49,9.15 45.44))"
CQL_JSON = "application/query-cql-json"


def ids(body):
    return {f["id"] for f in body["features"]}


def test_attribute_comparison(http, dsn):
    body = http.get("/ogc/collections/sites/items",
                    params={"filter": "state='abandoned' AND ownership='public'"}).json()
    expected = {r[0] for r in query(dsn, "SELECT id FROM rigenera.sites"
                                         " WHERE state='abandoned' AND ownership='public'")}
    assert ids(body) == expected and expected


def test_like_and_in(http, dsn):
    body = http.get("/ogc/collections/comuni/items", params={
        "filter": "name LIKE 'San%' AND istat_code IN ('015191','015192','015195')",
        "skipGeometry": "true"}).json()
    expected = {r[0] for r in query(
        dsn, "SELECT istat_code FROM rigenera.comuni WHERE name LIKE 'San%%'"
             " AND istat_code IN ('015191','015192','015195')")}
    assert ids(body) == expected


def test_numeric_comparison(http, dsn):
    body = http.get("/ogc/collections/comuni/items",
                    params={"filter": "population > 50000", "skipGeometry": "true"}).json()
    expected = {r[0] for r in query(dsn, "SELECT istat_code FROM rigenera.comuni"
                                         " WHERE population > 50000")}
    assert ids(body) == expected and "015146" in expected


def test_crs84_geometry_literal_becomes_epsg4326():
    """Regression: pygeoapi tags literals with the storage CRS (CRS84) -> SRID=CRS84 -> 500."""
    tree = parse_cql2_text(f"S_INTERSECTS(geom, {SQUARE})")
    tree.rhs.geometry["crs"] = {"properties": {"name": "urn:ogc:def:crs:OGC::CRS84"}}
    fixed = crs84_to_epsg4326(tree)
    assert fixed.rhs.geometry["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::4326"
    assert tree.rhs.geometry["crs"]["properties"]["name"] == "urn:ogc:def:crs:OGC::CRS84"


@pytest.mark.parametrize("predicate,sql", [
    ("S_INTERSECTS", "ST_Intersects"), ("S_WITHIN", "ST_Within"), ("S_DISJOINT", "ST_Disjoint"),
])
def test_spatial_predicates_match_postgis(http, dsn, predicate, sql):
    r = http.get("/ogc/collections/comuni/items", params={
        "filter": f"{predicate}(geometry, {SQUARE})", "skipGeometry": "true", "limit": 200})
    assert r.status_code == 200, r.text
    expected = {row[0] for row in query(
        dsn, f"SELECT istat_code FROM rigenera.comuni"
             f" WHERE {sql}(geom, ST_GeomFromText(%s, 4326))", (SQUARE,))}
    assert ids(r.json()) == expected


def test_spatial_filter_with_filter_crs_utm(http, dsn):
    square_utm = ("POLYGON((511700 5033000,515600 5033000,515600 5038600,"
                  "511700 5038600,511700 5033000))")
    r = http.get("/ogc/collections/transit_stops/items", params={
        "filter": f"S_INTERSECTS(geom, {square_utm})", "filter-crs": "EPSG:32632",
        "skipGeometry": "true", "limit": 1000})
    assert r.status_code == 200, r.text
    expected = {row[0] for row in query(
        dsn, "SELECT id FROM rigenera.transit_stops WHERE ST_Intersects("
             "geom, ST_Transform(ST_GeomFromText(%s, 32632), 4326))", (square_utm,))}
    assert ids(r.json()) == expected


def test_cql2_json_spatial_post(http, dsn):
    (sid, x, y) = query(dsn, "SELECT id, ST_X(c), ST_Y(c) FROM (SELECT id,"
                             " ST_PointOnSurface(geom) c FROM rigenera.sites ORDER BY id LIMIT 1) s")[0]
    body = {"op": "s_intersects",
            "args": [{"property": "geometry"}, {"type": "Point", "coordinates": [x, y]}]}
    r = http.post("/ogc/collections/sites/items", json=body, headers={"Content-Type": CQL_JSON})
    assert r.status_code == 200, r.text
    assert sid in ids(r.json())


@pytest.mark.parametrize("metres", [300, 1000, 2500])
def test_buffer_m_equals_geography_dwithin(http, dsn, metres):
    """The documented way to ask "within X metres": BUFFER_M in any spatial predicate."""
    lon, lat = 9.1900, 45.4642  # Piazza del Duomo area
    r = http.get("/ogc/collections/transit_stops/items", params={
        "filter": f"S_INTERSECTS(geometry, BUFFER_M(POINT({lon} {lat}), {metres}))",
        "skipGeometry": "true", "limit": 5000})
    assert r.status_code == 200, r.text
    expected = {row[0] for row in query(
        dsn, "SELECT id FROM rigenera.transit_stops WHERE ST_DWithin(geom::geography,"
             " ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s)", (lon, lat, metres))}
    assert ids(r.json()) == expected


def test_buffer_m_in_cql2_json(http):
    body = {"op": "s_intersects", "args": [
        {"property": "geometry"},
        {"function": {"name": "buffer_m", "arguments": [
            {"type": "Point", "coordinates": [9.19, 45.4642]}, 100000]}}]}
    r = http.post("/ogc/collections/comuni/items?skipGeometry=true&limit=200", json=body,
                  headers={"Content-Type": CQL_JSON})
    assert r.status_code == 400  # over the 50 km cap: a clear 4xx, not a runaway query
    body["args"][1]["function"]["arguments"][1] = 1000
    r = http.post("/ogc/collections/comuni/items?skipGeometry=true&limit=200", json=body,
                  headers={"Content-Type": CQL_JSON})
    assert r.status_code == 200
    assert ids(r.json()) == {"015146"}


@pytest.fixture(scope="module")
def stock(dsn, tmp_path_factory):
    """The same app without the fast path: every read goes through pygeoapi's provider."""
    live = LiveServer(dsn, tmp_path_factory.mktemp("stock"), fast_reads=False).start()
    yield live
    live.stop()


RIPAMONTI = (9.1772, 45.4560)  # near the demo stops of Ripamonti (metro, tram)


def _dwithin(dsn, metres):
    return {row[0] for row in query(
        dsn, "SELECT id FROM rigenera.transit_stops WHERE ST_DWithin(geom::geography,"
             " ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s)", (*RIPAMONTI, metres))}


def _buffer_m(metres):
    """BUFFER_M as a CQL2 1.0 function call: {"op": name, "args": [...]}."""
    return {"op": "buffer_m", "args": [{"type": "Point", "coordinates": list(RIPAMONTI)}, metres]}


@pytest.mark.parametrize("path", ["fast", "pygeoapi"])
@pytest.mark.parametrize("metres", [300, 2500])
def test_buffer_m_in_cql2_1_0_function_form(http, stock, dsn, path, metres):
    """{"op": "buffer_m", "args": [...]} (CQL2 1.0), inside s_intersects and inside an AND,
    on the fast path and on pygeoapi's provider path, as ST_DWithin on geography."""
    base = http.base_url if path == "fast" else stock.url
    expected = _dwithin(dsn, metres)
    assert expected  # the comparison means something
    intersects = {"op": "s_intersects", "args": [{"property": "geometry"}, _buffer_m(metres)]}
    both = {"op": "and", "args": [intersects, {"op": "=", "args": [{"property": "mode"}, "metro"]}]}
    metro = {row[0] for row in query(dsn, "SELECT id FROM rigenera.transit_stops"
                                          " WHERE mode = 'metro'")}
    for body, want in ((intersects, expected), (both, expected & metro)):
        r = httpx.post(f"{base}/ogc/collections/transit_stops/items",
                       params={"skipGeometry": "true", "limit": 5000}, json=body,
                       headers={"Content-Type": CQL_JSON}, timeout=30)
        assert r.status_code == 200, r.text
        assert ids(r.json()) == want
    if path == "fast":  # the GET form with filter-lang=cql2-json (pygeoapi reads GET filters as text)
        r = http.get("/ogc/collections/transit_stops/items", params={
            "filter": json.dumps(intersects), "filter-lang": "cql2-json",
            "skipGeometry": "true", "limit": 5000})
        assert r.status_code == 200, r.text
        assert ids(r.json()) == expected


@pytest.mark.parametrize("path", ["fast", "pygeoapi"])
def test_cql2_1_0_function_errors_are_400(http, stock, path):
    base = http.base_url if path == "fast" else stock.url
    for function in (_buffer_m(100000), {"op": "no_such_function", "args": [1]}):
        body = {"op": "s_intersects", "args": [{"property": "geometry"}, function]}
        r = httpx.post(f"{base}/ogc/collections/transit_stops/items", json=body,
                       headers={"Content-Type": CQL_JSON}, timeout=30)
        assert r.status_code == 400, r.text


def test_anonymous_geojson_post_is_refused(http, dsn):
    before = query(dsn, "SELECT count(*) FROM rigenera.sites")
    r = http.post("/ogc/collections/sites/items",
                  json={"type": "Feature", "properties": {"name": "x"},
                        "geometry": {"type": "Point", "coordinates": [9.19, 45.46]}},
                  headers={"Content-Type": "application/geo+json"})
    assert r.status_code == 401
    assert query(dsn, "SELECT count(*) FROM rigenera.sites") == before
