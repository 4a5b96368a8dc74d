"""OGC API Process `mobility-coverage` and the distances behind both mobility processes,
against independent plain SQL on geography (ST_DWithin / ST_Distance).

The module's database gets, besides the demo set, hand-built sites, projects (located,
without a geometry, at their comune's point), stops of every mode and cycle links in
Milano and Sesto San Giovanni. The real open data of ../shared/data, when present, are
loaded into a database of their own and checked the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from conftest import MILANO, SESTO, LiveServer, query

PROCESS = "/ogc/processes/mobility-coverage"
EXECUTE = f"{PROCESS}/execution"
MODES = ["metro", "rail", "tram", "bus", "cycle"]
DISTANCES = [100, 300, 500, 1000, 5000]

HAND_BUILT_SQL = """
SELECT set_config('rigenera.import', 'on', true);
INSERT INTO rigenera.transit_stops (mode, name, source, source_id, geom)
SELECT (ARRAY['metro', 'rail', 'tram', 'bus'])[1 + g.path[1] %% 4], 'Fermata copertura ' || g.path[1],
       'test-coverage', 'f' || g.path[1], g.geom
  FROM ST_Dump(ST_GeneratePoints((SELECT ST_Buffer(ST_Union(geom)::geography, -300)::geometry
                                    FROM rigenera.comuni WHERE istat_code IN (%(milano)s, %(sesto)s)),
                                 60, 21)) g;
INSERT INTO rigenera.mobility_links (kind, name, source, source_id, geom)
SELECT (ARRAY['cycle_path', 'greenway', 'pedestrian'])[1 + g.path[1] %% 3], 'Tratto ' || g.path[1],
       'test-coverage', 'l' || g.path[1],
       ST_Multi(ST_MakeLine(g.geom, ST_Translate(g.geom, 0.004 + 0.001 * (g.path[1] %% 5),
                                                 0.002 * (g.path[1] %% 3) - 0.002)))
  FROM ST_Dump(ST_GeneratePoints((SELECT ST_Buffer(geom::geography, -800)::geometry
                                    FROM rigenera.comuni WHERE istat_code = %(milano)s), 12, 22)) g;
INSERT INTO rigenera.sites (name, istat_code, state, source, source_id, geom)
SELECT 'Area copertura ' || c.istat_code || '-' || g.path[1], c.istat_code, 'abandoned',
       'test-coverage', c.istat_code || '-' || g.path[1],
       CASE WHEN g.path[1] %% 2 = 0 THEN g.geom
            ELSE ST_Buffer(g.geom::geography, 30, 'quad_segs=2')::geometry END
  FROM rigenera.comuni c,
       ST_Dump(ST_GeneratePoints(ST_Buffer(c.geom::geography, -200)::geometry, 60, 23)) g
 WHERE c.istat_code IN (%(milano)s, %(sesto)s);
INSERT INTO rigenera.projects (title, source, source_id, geom, geom_source)
SELECT 'Intervento copertura ' || g.path[1], 'test-coverage', 'p' || g.path[1],
       CASE WHEN g.path[1] %% 2 = 0 THEN g.geom
            ELSE ST_Buffer(g.geom::geography, 40, 'quad_segs=2')::geometry END, 'digitised'
  FROM ST_Dump(ST_GeneratePoints((SELECT ST_Buffer(ST_Union(geom)::geography, -300)::geometry
                                    FROM rigenera.comuni WHERE istat_code IN (%(milano)s, %(sesto)s)),
                                 20, 24)) g;
INSERT INTO rigenera.project_comuni (project_id, istat_code)
SELECT id, rigenera.comune_of(geom) FROM rigenera.projects WHERE source = 'test-coverage';
-- Not located: no geometry (Milano and Sesto), and only at the comune's point (Milano).
INSERT INTO rigenera.projects (title, source, source_id, geom, geom_source) VALUES
  ('Intervento senza luogo', 'test-coverage', 'nowhere', NULL, 'unknown');
INSERT INTO rigenera.project_comuni (project_id, istat_code)
SELECT id, c FROM rigenera.projects, unnest(ARRAY[%(milano)s, %(sesto)s]) c
 WHERE source_id = 'nowhere' AND source = 'test-coverage';
INSERT INTO rigenera.projects (title, source, source_id, geom, geom_source)
SELECT 'Intervento al punto del comune', 'test-coverage', 'at-comune',
       rigenera.comune_point(ARRAY[%(milano)s]), 'comune_point';
INSERT INTO rigenera.project_comuni (project_id, istat_code)
SELECT id, %(milano)s FROM rigenera.projects WHERE source_id = 'at-comune' AND source = 'test-coverage';
ANALYZE rigenera.sites; ANALYZE rigenera.projects; ANALYZE rigenera.transit_stops;
ANALYZE rigenera.mobility_links;
SELECT count(*) FROM rigenera.projects WHERE source = 'test-coverage'
"""

# The definition, independently: every target against every element, on geography.
DIRECT_SQL = """
WITH t AS (
  SELECT 'sites' AS collection, s.id, s.istat_code, s.geom FROM rigenera.sites s
   WHERE 'sites' = ANY(%(targets)s)
  UNION ALL
  SELECT 'projects', p.id,
         coalesce(rigenera.comune_of(p.geom), (SELECT min(istat_code) FROM rigenera.project_comuni
                                               WHERE project_id = p.id)), p.geom
    FROM rigenera.projects p
   WHERE 'projects' = ANY(%(targets)s) AND p.geom IS NOT NULL AND p.geom_source <> 'comune_point'
)
SELECT t.collection, t.id, t.istat_code,
       EXISTS (SELECT 1 FROM rigenera.transit_stops s WHERE s.mode = ANY(%(modes)s)
                AND ST_DWithin(t.geom::geography, s.geom::geography, %(d)s))
       OR (%(cycle)s AND EXISTS (SELECT 1 FROM rigenera.mobility_links l
                                  WHERE l.kind IN ('cycle_path', 'greenway')
                                    AND ST_DWithin(t.geom::geography, l.geom::geography, %(d)s))),
       round(least((SELECT min(ST_Distance(t.geom::geography, s.geom::geography))
                      FROM rigenera.transit_stops s WHERE s.mode = ANY(%(modes)s)),
                   CASE WHEN %(cycle)s THEN (SELECT min(ST_Distance(t.geom::geography, l.geom::geography))
                                               FROM rigenera.mobility_links l
                                              WHERE l.kind IN ('cycle_path', 'greenway')) END
                  )::numeric, 1)::float8
  FROM t
 WHERE %(istat)s::text[] IS NULL OR t.istat_code = ANY(%(istat)s)"""

NEAR_DIRECT_SQL = """
SELECT s.id, n.id, round(n.d::numeric, 1)::float8
  FROM rigenera.sites s
  CROSS JOIN LATERAL (
    SELECT t.id, ST_Distance(s.geom::geography, t.geom::geography) AS d
      FROM rigenera.transit_stops t
     WHERE ST_DWithin(s.geom::geography, t.geom::geography, %(d)s)
       AND (%(modes)s::text[] IS NULL OR t.mode = ANY(%(modes)s))
     ORDER BY d, t.id LIMIT 1) n
 ORDER BY s.id"""


@pytest.fixture(scope="module")
def built(db: str) -> str:
    (n,) = query(db, HAND_BUILT_SQL, {"milano": MILANO, "sesto": SESTO})[0]  # type: ignore[arg-type]
    assert n == 22
    return db


def run(api: httpx.Client, inputs: dict[str, Any]) -> dict[str, Any]:
    r = api.post(EXECUTE, json={"inputs": inputs})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    doc: dict[str, Any] = r.json()
    return doc


def expected(dsn: str, d: float, modes: list[str], targets: list[str],
             istat: list[str] | None = None) -> list[tuple[Any, ...]]:
    transit = [m for m in modes if m != "cycle"]
    return query(dsn, DIRECT_SQL, {"d": d, "modes": transit, "cycle": "cycle" in modes,  # type: ignore[arg-type]
                                   "targets": targets, "istat": istat})


def check_against_direct(doc: dict[str, Any], rows: list[tuple[Any, ...]]) -> None:
    """Counts per comune and for the metro area, and the uncovered features, as in SQL."""
    per: dict[str, list[int]] = {}
    for _coll, _id, istat, covered, _near in rows:
        counts = per.setdefault(str(istat), [0, 0])
        counts[0] += 1
        counts[1] += bool(covered)
    got = {c["istat_code"]: [c["total"], c["covered"]] for c in doc["comuni"] if c["total"]}
    assert got == per
    assert doc["metro"]["total"] == len(rows)
    assert doc["metro"]["covered"] == sum(bool(r[3]) for r in rows)
    want = {(f"{r[0]}.{r[1]}", r[4]) for r in rows if not r[3]}
    features = doc["uncovered"]["features"]
    assert {(f["id"], f["properties"]["nearest_distance_m"]) for f in features} == want
    assert len(features) == len(want)


def check_shares_add_up(doc: dict[str, Any]) -> None:
    for c in doc["comuni"]:
        assert c["covered"] + c["uncovered"] == c["total"]
        assert c["sites"]["total"] + c["projects"]["total"] == c["total"]
        assert c["sites"]["covered"] + c["projects"]["covered"] == c["covered"]
        if c["total"]:
            assert c["share_covered"] == pytest.approx(c["covered"] / c["total"], abs=5e-5)
        else:
            assert c["share_covered"] is None
    for key in ("total", "covered", "uncovered"):
        assert sum(c[key] for c in doc["comuni"]) == doc["metro"][key]
    assert doc["metro"]["covered"] + doc["metro"]["uncovered"] == doc["metro"]["total"]
    assert len(doc["uncovered"]["features"]) == doc["metro"]["uncovered"]


@pytest.mark.parametrize("d", DISTANCES)
@pytest.mark.parametrize("modes", [MODES, ["rail", "metro", "tram"], ["cycle"], ["bus", "cycle"]])
def test_coverage_equals_direct_sql(api: httpx.Client, built: str, d: int,
                                    modes: list[str]) -> None:
    doc = run(api, {"distance_m": d, "modes": modes})
    check_shares_add_up(doc)
    check_against_direct(doc, expected(built, d, modes, ["sites", "projects"]))
    assert doc["distance_m"] == d
    assert sorted(doc["modes"]) == sorted(modes)


@pytest.mark.parametrize(("targets", "want"), [("sites", ["sites"]), ("projects", ["projects"]),
                                               ("both", ["projects", "sites"]),
                                               (["projects", "sites"], ["projects", "sites"])])
def test_targets_and_comuni_filter(api: httpx.Client, built: str, targets: Any,
                                   want: list[str]) -> None:
    doc = run(api, {"distance_m": 400, "targets": targets, "istat_codes": [SESTO]})
    assert doc["targets"] == want
    assert [c["istat_code"] for c in doc["comuni"]] == [SESTO]
    check_shares_add_up(doc)
    check_against_direct(doc, expected(built, 400, MODES, want, [SESTO]))
    assert {f["properties"]["collection"] for f in doc["uncovered"]["features"]} <= set(want)


def test_projects_not_located_are_counted_apart(api: httpx.Client, built: str) -> None:
    doc = run(api, {"distance_m": 10000, "targets": "projects"})
    by = {c["istat_code"]: c for c in doc["comuni"]}
    demo = dict(query(built, "SELECT pc.istat_code, count(DISTINCT p.id) FROM rigenera.projects p"
                             " JOIN rigenera.project_comuni pc ON pc.project_id = p.id"
                             " WHERE p.geom IS NULL OR p.geom_source = 'comune_point'"
                             " GROUP BY 1"))
    assert by[MILANO]["not_located"] == demo[MILANO] >= 2  # no geometry + at the comune point
    assert by[SESTO]["not_located"] == demo[SESTO] >= 1
    (metro,) = query(built, "SELECT count(*) FROM rigenera.projects"
                            " WHERE geom IS NULL OR geom_source = 'comune_point'")[0]
    assert doc["metro"]["not_located"] == metro
    ids = {f["properties"]["id"] for f in doc["uncovered"]["features"]}
    hidden = {r[0] for r in query(built, "SELECT id FROM rigenera.projects WHERE source = 'test-coverage'"
                                         " AND source_id IN ('nowhere', 'at-comune')")}
    assert not ids & hidden
    assert doc["metro"]["uncovered"] == 0  # 10 km covers every located project


def test_uncovered_features_are_geojson(api: httpx.Client, built: str) -> None:
    doc = run(api, {"distance_m": 150, "modes": ["rail"]})
    features = doc["uncovered"]["features"]
    assert features and doc["uncovered"]["type"] == "FeatureCollection"
    sample = {(f["properties"]["collection"], f["properties"]["id"]): f for f in features}
    rows = query(built, "SELECT 'sites', id, name, istat_code, ST_AsGeoJSON(geom, 7) FROM rigenera.sites"
                        " WHERE id = ANY(%s)",
                 ([i for c, i in sample if c == "sites"],))
    for coll, fid, name, istat, geometry in rows:
        f = sample[(coll, fid)]
        assert f["type"] == "Feature" and f["id"] == f"sites.{fid}"
        assert f["properties"]["name"] == name and f["properties"]["istat_code"] == istat
        assert f["geometry"] == json.loads(str(geometry))
        assert f["properties"]["nearest_distance_m"] > 150


@pytest.mark.parametrize("d", DISTANCES)
@pytest.mark.parametrize("modes", [None, ["rail"], ["metro", "tram"]])
def test_near_transit_equals_direct_sql(api: httpx.Client, built: str, d: int,
                                        modes: list[str] | None) -> None:
    r = api.post("/ogc/processes/sites-near-transit/execution",
                 json={"inputs": {"distance_m": d, "modes": modes}})
    assert r.status_code == 200, r.text
    got = [(f["id"], f["properties"]["nearest_stop_id"], f["properties"]["distance_m"])
           for f in r.json()["features"]]
    assert got == [tuple(x) for x in query(built, NEAR_DIRECT_SQL, {"d": d, "modes": modes})]  # type: ignore[arg-type]


def test_the_planar_bound_holds_at_the_corners_of_the_zone(built: str) -> None:
    """|UTM distance - geography distance| <= 0.002 * geography + 0.5 m (migration 0019),
    for points, small polygons and long lines at the corners and the middle of the zone."""
    rows = query(built, """
      WITH c(x, y) AS (VALUES (6.01, 36.01), (11.99, 36.01), (6.01, 47.99), (11.99, 47.99), (9.2, 45.5)),
      g AS (SELECT c.x, c.y, k,
                   CASE k WHEN 0 THEN ST_SetSRID(ST_MakePoint(c.x, c.y), 4326)
                          WHEN 1 THEN ST_Buffer(ST_SetSRID(ST_MakePoint(c.x, c.y), 4326)::geography, 40,
                                                'quad_segs=2')::geometry
                          ELSE ST_SetSRID(ST_MakeLine(ST_MakePoint(c.x - 0.3 * sign(c.x - 9), c.y),
                                                      ST_MakePoint(c.x - 0.3 * sign(c.x - 9) + 0.01,
                                                                   c.y + 0.1 * sign(45 - c.y))),
                                          4326) END AS geom
              FROM c, generate_series(0, 2) k),
      o AS (SELECT c.x, c.y, ST_SetSRID(ST_MakePoint(c.x + dx * sign(9 - c.x), c.y + dy * sign(45 - c.y)),
                                        4326) AS geom
              FROM c, (VALUES (0.0004, 0.0), (0.003, 0.002), (0.02, 0.05), (0.09, 0.0)) v(dx, dy))
      SELECT ST_Distance(rigenera.metric_geom(g.geom, 0), rigenera.metric_geom(o.geom, 0.5)) AS p,
             ST_Distance(g.geom::geography, o.geom::geography) AS q
        FROM g JOIN o ON o.x = g.x AND o.y = g.y""")
    assert len(rows) == 60
    for p, q in rows:
        assert p is not None and q is not None
        assert abs(float(p) - float(q)) <= 0.002 * float(q) + 0.5, (p, q)  # type: ignore[arg-type]
    assert query(built, "SELECT rigenera.metric_geom(ST_SetSRID(ST_MakePoint(13, 45), 4326), 0),"
                        " rigenera.metric_geom(ST_SetSRID(ST_MakePoint(12.3, 45), 4326), 0.5)"
                        " IS NOT NULL") == [(None, True)]


def test_evaluation_functions_equal_direct_sql(built: str) -> None:
    rows = query(built, """
      SELECT s.id, round(rigenera.transit_distance_m(s.geom, '{rail,metro,tram}')::numeric, 3),
             round((SELECT min(ST_Distance(s.geom::geography, t.geom::geography))
                      FROM rigenera.transit_stops t WHERE t.mode IN ('rail', 'metro', 'tram'))::numeric, 3),
             round(rigenera.cycle_distance_m(s.geom)::numeric, 3),
             round((SELECT min(ST_Distance(s.geom::geography, l.geom::geography))
                      FROM rigenera.mobility_links l
                     WHERE l.kind IN ('cycle_path', 'greenway'))::numeric, 3)
        FROM rigenera.sites s WHERE s.source = 'test-coverage' ORDER BY s.id LIMIT 40""")
    assert len(rows) == 40
    for _id, got_t, want_t, got_c, want_c in rows:
        assert got_t == want_t and got_c == want_c


@pytest.mark.parametrize(("inputs", "name"), [
    ({"distance_m": -5}, "distance_m"),
    ({"distance_m": 0}, "distance_m"),
    ({"distance_m": 10001}, "distance_m"),
    ({"distance_m": "500"}, "distance_m"),
    ({"modes": ["ufo"]}, "modes"),
    ({"modes": "metro"}, "modes"),
    ({"istat_codes": ["015999"]}, "istat_codes"),
    ({"istat_codes": ["15146"]}, "istat_codes"),
    ({"targets": "needs"}, "targets"),
    ({"targets": []}, "targets"),
    ({"targets": ["sites", 3]}, "targets"),
    ({"raggio": 500}, "raggio"),
])
def test_bad_inputs_are_400_naming_the_input(api: httpx.Client, built: str,
                                             fingerprint: Callable[[], object],
                                             inputs: dict[str, Any], name: str) -> None:
    before = fingerprint()
    r = api.post(EXECUTE, json={"inputs": inputs})
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == "InvalidParameterValue"
    assert body["description"].startswith(f"{name}: ")
    assert " / " in body["description"]
    assert fingerprint() == before


def test_description(api: httpx.Client) -> None:
    assert "mobility-coverage" in [p["id"] for p in api.get("/ogc/processes").json()["processes"]]
    d = api.get(PROCESS, headers={"Accept-Language": "en"}).json()
    assert d["title"] == "Sustainable mobility coverage"
    assert d["jobControlOptions"] == ["sync-execute", "async-execute"]
    assert set(d["inputs"]) == {"distance_m", "modes", "targets", "istat_codes"}
    assert d["inputs"]["modes"]["schema"]["items"]["enum"] == MODES
    it = api.get(PROCESS, headers={"Accept-Language": "it"}).json()
    assert it["title"] == "Copertura della mobilità sostenibile"


# ---------------------------------------------------------------- the real open data
@pytest.fixture(scope="module")
def real(make_database: Callable[[], str], shared_data: Any,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, httpx.Client]]:
    from rigenera.imports.sources import load_open_data

    dsn = make_database()
    load_open_data(dsn, shared_data)
    server = LiveServer(dsn, tmp_path_factory.mktemp("real-mobility")).start()
    try:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            yield dsn, client
    finally:
        server.stop()


@pytest.mark.shared_data
@pytest.mark.parametrize(("d", "modes"), [(100, MODES), (500, ["rail", "metro", "tram"]),
                                          (1000, ["cycle"]), (5000, ["metro"])])
def test_real_data_coverage_equals_direct_sql(real: tuple[str, httpx.Client], d: int,
                                              modes: list[str]) -> None:
    dsn, client = real
    doc = run(client, {"distance_m": d, "modes": modes})
    check_shares_add_up(doc)
    check_against_direct(doc, expected(dsn, d, modes, ["sites", "projects"]))
    assert doc["metro"]["total"] > 100 and doc["metro"]["not_located"] > 0


@pytest.mark.shared_data
@pytest.mark.parametrize(("d", "modes"), [(300, None), (500, ["metro"]), (5000, ["tram"])])
def test_real_data_near_transit_equals_direct_sql(real: tuple[str, httpx.Client], d: int,
                                                  modes: list[str] | None) -> None:
    dsn, client = real
    r = client.post("/ogc/processes/sites-near-transit/execution",
                    json={"inputs": {"distance_m": d, "modes": modes}})
    assert r.status_code == 200, r.text
    got = [(f["id"], f["properties"]["nearest_stop_id"], f["properties"]["distance_m"])
           for f in r.json()["features"]]
    want = [tuple(x) for x in query(dsn, NEAR_DIRECT_SQL, {"d": d, "modes": modes})]  # type: ignore[arg-type]
    assert got == want and len(want) > 10
