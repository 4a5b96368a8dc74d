"""OGC API Processes: `sites-near-transit` through pygeoapi, against the direct SQL.

The module's database gets, besides the demo set, 300 synthetic sites (points and
polygons) in Milano and Sesto San Giovanni, 80 synthetic stops of all modes, two
stops at exactly the same distance from one site (the tie goes to the lowest stop id)
and a lone site 4.95 km from its only stop (found by the second, larger search).
Expected answers come from PostGIS: ST_DWithin / ST_Distance on geography.
"""

import json

import pytest
from owslib.ogcapi.processes import Processes

from conftest import MILANO, SESTO, query

PROCESS = "/ogc/processes/sites-near-transit"
EXECUTE = f"{PROCESS}/execution"
SYNTHETIC_SQL = """
SELECT set_config('rigenera.import', 'on', true);
INSERT INTO rigenera.sites (name, istat_code, state, former_use, source, source_id, geom)
SELECT 'Area sintetica ' || c.istat_code || '-' || g.path[1], c.istat_code,
       (ARRAY['abandoned', 'underused', 'partly_used', 'regenerated'])[1 + g.path[1] %% 4],
       (ARRAY['industrial', 'railway', 'rural'])[1 + g.path[1] %% 3],
       'test-processes', c.istat_code || '-' || g.path[1],
       CASE WHEN g.path[1] %% 3 = 0 THEN g.geom
            ELSE ST_Buffer(g.geom::geography, 20 + (g.path[1] %% 5) * 15, 'quad_segs=2')::geometry END
  FROM rigenera.comuni c,
       ST_Dump(ST_GeneratePoints(ST_Buffer(c.geom::geography, -300)::geometry, 150, 11)) g
 WHERE c.istat_code IN (%(milano)s, %(sesto)s);
INSERT INTO rigenera.transit_stops (mode, name, source, source_id, geom)
SELECT (ARRAY['metro', 'rail', 'tram', 'bus'])[1 + g.path[1] %% 4], 'Fermata sintetica ' || g.path[1],
       'test-processes', 'f' || g.path[1], g.geom
  FROM ST_Dump(ST_GeneratePoints((SELECT ST_Buffer(ST_Union(geom)::geography, -300)::geometry
                                    FROM rigenera.comuni WHERE istat_code IN (%(milano)s, %(sesto)s)),
                                 80, 12)) g;
-- The tie: a point site and two bus stops 2^-9 degrees of longitude either side of it
-- (binary-exact coordinates: the geodesic is the same both ways).
INSERT INTO rigenera.sites (name, istat_code, state, source, source_id, geom)
SELECT 'Area del pareggio', rigenera.comune_of(p), 'abandoned', 'test-processes', 'tie', p
  FROM (SELECT ST_SetSRID(ST_MakePoint(9.1875, 45.5), 4326) AS p) x;
INSERT INTO rigenera.transit_stops (mode, name, source, source_id, geom) VALUES
  ('bus', 'Pareggio est', 'test-processes', 'tie-e', ST_SetSRID(ST_MakePoint(9.189453125, 45.5), 4326)),
  ('bus', 'Pareggio ovest', 'test-processes', 'tie-w', ST_SetSRID(ST_MakePoint(9.185546875, 45.5), 4326));
-- A lone site in Abbiategrasso, 4.95 km from its only stop: the first box (about 1.5 stop
-- spacings, here 4.6 km) finds nothing and the second looks as far as distance_m.
INSERT INTO rigenera.sites (name, istat_code, state, source, source_id, geom)
SELECT 'Area isolata', istat_code, 'underused', 'test-processes', 'lone', ST_PointOnSurface(geom)
  FROM rigenera.comuni WHERE istat_code = '015002';
INSERT INTO rigenera.transit_stops (mode, name, source, source_id, geom)
SELECT 'rail', 'Stazione lontana', 'test-processes', 'lone',
       ST_Project(ST_PointOnSurface(geom)::geography, 4950, radians(90))::geometry
  FROM rigenera.comuni WHERE istat_code = '015002';
ANALYZE rigenera.sites; ANALYZE rigenera.transit_stops;
SELECT count(*) FROM rigenera.sites WHERE source = 'test-processes'
"""
# The definition the process must equal (nearest: geography distance, then lowest stop id).
DIRECT_SQL = """
SELECT s.id, n.id, round(n.d::numeric, 1)::float8, n.name, n.mode
  FROM rigenera.sites s
  CROSS JOIN LATERAL (
    SELECT t.id, t.name, t.mode, ST_Distance(s.geom::geography, t.geom::geography) AS d
      FROM rigenera.transit_stops t
     WHERE ST_DWithin(s.geom::geography, t.geom::geography, %(d)s)
       AND (%(modes)s::text[] IS NULL OR t.mode = ANY(%(modes)s))
     ORDER BY d, t.id LIMIT 1) n
 WHERE (%(istat)s::text[] IS NULL OR s.istat_code = ANY(%(istat)s))
   AND (%(states)s::text[] IS NULL OR s.state = ANY(%(states)s))
 ORDER BY s.id"""
PROPERTIES = ("id", "name", "istat_code", "state", "former_use", "surface_m2", "validation_status")


@pytest.fixture(scope="module")
def synthetic(db):
    (n,) = query(db, SYNTHETIC_SQL, {"milano": MILANO, "sesto": SESTO})[0]
    assert n == 302
    return db


def direct(db, d=500.0, modes=None, istat=None, states=None):
    return query(db, DIRECT_SQL, {"d": d, "modes": modes, "istat": istat, "states": states})


def execute(api, inputs, **extra):
    r = api.post(EXECUTE, json={"inputs": inputs, **extra})
    assert r.status_code == 200, r.text
    return r


CASES = [
    ({}, {}),
    ({"distance_m": 250, "modes": ["bus", "tram"]}, {"d": 250, "modes": ["bus", "tram"]}),
    ({"distance_m": 1200, "modes": ["metro"], "istat_codes": [MILANO],
      "states": ["abandoned", "underused"]},
     {"d": 1200, "modes": ["metro"], "istat": [MILANO], "states": ["abandoned", "underused"]}),
    ({"distance_m": 5000, "modes": ["rail"], "istat_codes": [SESTO, "015999"]},
     {"d": 5000, "modes": ["rail"], "istat": [SESTO, "015999"]}),
    ({"distance_m": 37.5, "modes": [], "istat_codes": [], "states": []}, {"d": 37.5}),
    ({"distance_m": 1}, {"d": 1}),
    ({"distance_m": 5000}, {"d": 5000}),
    ({"distance_m": 4000, "states": ["underused"]}, {"d": 4000, "states": ["underused"]}),
]


@pytest.mark.parametrize(("inputs", "sql"), CASES)
def test_same_sites_nearest_stops_and_distances_as_direct_sql(api, synthetic, inputs, sql):
    r = execute(api, inputs)
    assert r.headers["content-type"] == "application/geo+json"
    fc = r.json()
    assert fc["type"] == "FeatureCollection"
    got = [(f["id"], f["properties"]["nearest_stop_id"], f["properties"]["distance_m"],
            f["properties"]["nearest_stop_name"], f["properties"]["nearest_stop_mode"])
           for f in fc["features"]]
    want = [tuple(row) for row in direct(synthetic, **sql)]
    assert got == want
    if inputs.get("distance_m", 500) >= 250:
        assert len(want) >= 5  # the case says something


def test_filters_really_filter(api, synthetic):
    everything = {f["id"] for f in execute(api, {"distance_m": 1200}).json()["features"]}
    metro = {f["id"] for f in execute(api, {"distance_m": 1200, "modes": ["metro"]}).json()["features"]}
    milano = execute(api, {"distance_m": 1200, "istat_codes": [MILANO]}).json()["features"]
    assert metro < everything
    assert {f["properties"]["istat_code"] for f in milano} == {MILANO}
    assert {f["id"] for f in milano} < everything
    modes = {f["properties"]["nearest_stop_mode"] for f in execute(
        api, {"distance_m": 5000, "modes": ["tram", "rail"]}).json()["features"]}
    assert modes == {"tram", "rail"}


def test_properties_and_geometry_are_the_published_ones(api, synthetic):
    features = execute(api, {"distance_m": 800}).json()["features"]
    assert features
    rows = {r[0]: r for r in query(
        synthetic, f"SELECT {', '.join(PROPERTIES)}, ST_AsGeoJSON(geom, 7) FROM pub.sites"
                   " WHERE id = ANY(%s)", ([f["id"] for f in features],))}
    for f in features:
        assert list(f["properties"]) == [*PROPERTIES, "nearest_stop_id", "nearest_stop_name",
                                         "nearest_stop_mode", "distance_m"]
        assert tuple(f["properties"][p] for p in PROPERTIES) == rows[f["id"]][:-1]
        assert f["geometry"] == json.loads(rows[f["id"]][-1])
    assert {f["geometry"]["type"] for f in features} >= {"Point", "Polygon"}
    assert [f["id"] for f in features] == sorted(f["id"] for f in features)


def test_a_tie_goes_to_the_lowest_stop_id(api, synthetic):
    (site,) = query(synthetic, "SELECT id FROM rigenera.sites WHERE source_id = 'tie'")[0]
    ties = query(synthetic, "SELECT t.id, ST_Distance(s.geom::geography, t.geom::geography)"
                            " FROM rigenera.sites s, rigenera.transit_stops t"
                            " WHERE s.id = %s ORDER BY 2, 1 LIMIT 3", (site,))
    assert ties[0][1] == ties[1][1] < ties[2][1]  # two stops exactly as near, nothing nearer
    assert {ties[0][0], ties[1][0]} == {r[0] for r in query(
        synthetic, "SELECT id FROM rigenera.transit_stops WHERE source_id LIKE 'tie-%%'")}
    f = {f["id"]: f for f in execute(api, {"distance_m": 300}).json()["features"]}[site]
    assert f["properties"]["nearest_stop_id"] == min(ties[0][0], ties[1][0])
    assert f["properties"]["distance_m"] == round(ties[0][1], 1)


def test_the_lone_site_is_found_only_within_reach(api, synthetic):
    (site, far) = query(synthetic, "SELECT s.id, ST_Distance(s.geom::geography, t.geom::geography)"
                                   " FROM rigenera.sites s, rigenera.transit_stops t"
                                   " WHERE s.source_id = 'lone' AND t.source_id = 'lone'")[0]
    assert 4949 < far < 4951
    near = {f["id"]: f for f in execute(api, {"distance_m": 5000}).json()["features"]}
    assert near[site]["properties"]["nearest_stop_name"] == "Stazione lontana"
    assert near[site]["properties"]["distance_m"] == round(far, 1)
    assert site not in {f["id"] for f in execute(api, {"distance_m": 4900}).json()["features"]}


def test_document_response_wraps_the_collection(api, synthetic):
    raw = execute(api, {"distance_m": 400}).json()
    doc = execute(api, {"distance_m": 400}, response="document").json()
    assert doc == {"outputs": [raw]}


@pytest.mark.parametrize(("inputs", "name"), [
    ({"distance_m": -1}, "distance_m"),
    ({"distance_m": "abc"}, "distance_m"),
    ({"distance_m": 10000}, "distance_m"),
    ({"distance_m": 0.5}, "distance_m"),
    ({"distance_m": True}, "distance_m"),
    ({"modes": ["ufo"]}, "modes"),
    ({"modes": "metro"}, "modes"),
    ({"istat_codes": ["123"]}, "istat_codes"),
    ({"istat_codes": [15146]}, "istat_codes"),
    ({"states": ["ruined"]}, "states"),
    ({"distanza": 500}, "distanza"),
])
def test_bad_inputs_are_400_naming_the_input_and_write_nothing(api, synthetic, fingerprint,
                                                               inputs, name):
    before = fingerprint()
    r = api.post(EXECUTE, json={"inputs": inputs})
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == body["type"] == "InvalidParameterValue"
    assert body["description"].startswith(f"{name}: ")
    assert " / " in body["description"]  # Italian / English
    assert fingerprint() == before


@pytest.mark.parametrize("body", [b"[1, 2]", b"{\"inputs\": [500]}", b"non json", b""])
def test_a_body_that_is_not_an_execute_request_is_400(api, body):
    r = api.post(EXECUTE, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "InvalidParameterValue"


def test_unknown_process_is_404(api):
    r = api.post("/ogc/processes/nope/execution", json={"inputs": {}})
    assert r.status_code == 404
    assert api.get("/ogc/processes/nope").status_code == 404


def test_description_and_list(api):
    listed = api.get("/ogc/processes").json()["processes"]
    assert {"sites-near-transit", "mobility-coverage", "match-calls"} <= {p["id"] for p in listed}
    d = api.get(PROCESS, headers={"Accept-Language": "en"}).json()
    assert d["title"] == "Sites near public transport"
    assert d["jobControlOptions"] == ["sync-execute", "async-execute"]
    assert set(d["inputs"]) == {"distance_m", "modes", "istat_codes", "states"}
    assert d["inputs"]["distance_m"]["schema"] == {"type": "number", "minimum": 1.0,
                                                   "maximum": 5000.0, "default": 500.0}
    assert d["inputs"]["modes"]["schema"]["items"]["enum"] == ["metro", "rail", "tram", "bus"]
    assert d["outputs"]["sites"]["schema"]["contentMediaType"] == "application/geo+json"
    it = api.get(PROCESS, headers={"Accept-Language": "it"}).json()
    assert it["title"] == "Siti vicino al trasporto pubblico"
    assert api.get(PROCESS, params={"f": "html"}).status_code == 200


def test_owslib_lists_describes_and_executes(live):
    client = Processes(f"{live.url}/ogc")
    assert "sites-near-transit" in [p["id"] for p in client.processes()]
    described = client.process("sites-near-transit")
    assert set(described["inputs"]) == {"distance_m", "modes", "istat_codes", "states"}
    out = client.execute("sites-near-transit", {"distance_m": 500})  # OWSLib asks for a document
    assert out["outputs"][0]["type"] == "FeatureCollection"


def test_conformance_landing_page_and_openapi(api):
    classes = api.get("/ogc/conformance").json()["conformsTo"]
    base = "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/"
    for name in ("core", "json", "oas30", "ogc-process-description"):
        assert base + name in classes
    assert base + "callback" not in classes
    assert base + "job-list" in classes and base + "dismiss" in classes  # jobs: test_process_jobs
    links = api.get("/ogc/").json()["links"]
    assert any(link["rel"].endswith("/processes") for link in links)
    assert any(link["rel"].endswith("/job-list") for link in links)
    paths = api.get("/ogc/openapi", params={"f": "json"}).json()["paths"]
    assert {"/processes", "/processes/sites-near-transit",
            "/processes/sites-near-transit/execution"} <= set(paths)
