"""A technician's reach (issue 9, section 2): the rule itself, its SQL functions and its messages.

Every path against every attack is in test_authz_matrix.py (the reach matrix); here:
what the refusal says (the share outside, computed again by PostGIS, and the tolerance),
that `rigenera.within_comuni` answers as ST_Covers of the buffered comuni would, the
tolerance as one row, a technician of two comuni across their shared border, the rule as
an import would call it, and a project's location for every writer.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg2
import psycopg2.extras
import pytest

import reach_shapes
from conftest import MILANO, PASSWORD, SESTO, basic
from test_editing import GEOJSON

SITE = {"name": "Area di confine", "state": "abandoned", "former_use": "industrial"}


@pytest.fixture(scope="module")
def sql(db):
    conn = psycopg2.connect(db)
    conn.autocommit = True

    def run(statement: str, params: Any = ()) -> list[tuple[Any, ...]]:
        with conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []

    yield run
    conn.close()


@pytest.fixture(scope="module")
def shapes(sql):
    return reach_shapes.build(sql)


@pytest.fixture(scope="module")
def tolerance(sql) -> float:
    return float(sql("SELECT tolerance_m FROM rigenera.reach_rule")[0][0])


def site(geometry: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": {**SITE, **props}, "geometry": geometry}


def post(api, body: dict[str, Any], user: str, cid: str = "sites"):
    return api.post(f"/ogc/collections/{cid}/items", json=body, headers={**GEOJSON, **basic(user)})


def outside_percent(sql, wkt: str, codes: list[str], tolerance: float) -> float:
    """The share of the area outside the comuni buffered by the tolerance, asked of PostGIS."""
    return sql("""SELECT 100 * ST_Area(ST_Difference(g, b)) / ST_Area(g)
                    FROM ST_GeomFromText(%s, 4326) g,
                         (SELECT ST_Union(ST_Buffer(geom::geography, %s)::geometry) b
                            FROM rigenera.comuni WHERE istat_code = ANY(%s)) c""",
               (wkt, tolerance, codes))[0][0]


# ------------------------------------------------------------------------------ messages
@pytest.mark.parametrize("name", ["corner", "multipart", "border60"])
def test_refusal_says_how_much_lies_outside_and_the_tolerance(api, sql, fingerprint, shapes,
                                                              tolerance, name):
    before = fingerprint()
    r = post(api, site(shapes[name].geometry), "tecnico")
    assert r.status_code == 403, r.text
    doc = r.json()
    assert doc["code"] == "Forbidden"
    assert " / " in doc["description"] and MILANO in doc["description"]  # Italian / English
    (reason,) = [e["reason"] for e in doc["errors"] if e["field"] == "geometry"]
    m = re.search(r"/ (>|<)?(\d+)% of the geometry lies outside your comuni \(tolerance (\S+) m\)",
                  reason)
    assert m, reason
    assert float(m.group(3)) == tolerance
    expected = outside_percent(sql, shapes[name].wkt, [MILANO], tolerance)
    if m.group(1) == ">":
        assert 99 < expected < 100
    else:
        assert abs(int(m.group(2)) - expected) <= 0.5 + 1e-6, (reason, expected)
    assert "fuori dai tuoi comuni" in reason and f"tolleranza {m.group(3)} m" in reason
    assert fingerprint() == before


def test_shared_border_within_tolerance_is_the_comune_of_its_point_on_surface(api, sql, shapes):
    """10 m over the border: Milano's to write (within the tolerance, comune Milano), not Sesto's
    (outside Sesto, and not a Sesto feature): the tolerance never hands a feature over."""
    r = post(api, site(shapes["border10"].geometry), "tecnico.sesto")
    assert r.status_code == 403
    assert {e["field"] for e in r.json()["errors"]} == {"geometry", "istat_code"}
    r = post(api, site(shapes["border10"].geometry), "tecnico")
    assert r.status_code == 201, r.text
    fid = int(r.headers["location"].rsplit("/", 1)[1])
    assert sql("SELECT istat_code FROM rigenera.sites WHERE id = %s", (fid,))[0][0] == MILANO


# ---------------------------------------------------------------------- the SQL functions
AGREEMENT_SQL = """
WITH m AS (SELECT geom FROM rigenera.comuni WHERE istat_code = %(milano)s),
probes AS (
  -- discs of 5 to 400 m along Milano's whole boundary, just inside and just outside it
  SELECT 'disc ' || n AS label, ST_Buffer(ST_LineInterpolatePoint(
           ST_ExteriorRing(ST_GeometryN(m.geom, 1)), n / 120.0)::geography,
           5 + (n * 37) %% 400)::geometry AS g
    FROM m, generate_series(0, 119) n
  UNION ALL
  SELECT 'moved ' || n, ST_Translate(ST_Buffer(ST_LineInterpolatePoint(
           ST_ExteriorRing(ST_GeometryN(m.geom, 1)), n / 120.0)::geography, 50)::geometry,
           ((n %% 7) - 3) * 0.0004, ((n %% 5) - 2) * 0.0004)
    FROM m, generate_series(0, 119) n
  UNION ALL  -- points and lines along the boundary, and a mixed collection
  SELECT 'point ' || n, ST_Translate(ST_LineInterpolatePoint(
           ST_ExteriorRing(ST_GeometryN(m.geom, 1)), n / 100.0), 0.0002, -0.0002)
    FROM m, generate_series(0, 99) n
  UNION ALL
  SELECT 'line ' || n, ST_LineSubstring(ST_ExteriorRing(ST_GeometryN(m.geom, 1)),
                                        n / 60.0, n / 60.0 + 0.004)
    FROM m, generate_series(0, 59) n
  UNION ALL
  SELECT 'collection', ST_Collect(ST_PointOnSurface(m.geom), ST_Buffer(ST_PointOnSurface(m.geom),
                                                                       0.001)) FROM m),
areas AS (
  SELECT codes, (SELECT ST_Union(ST_Buffer(c.geom::geography, %(tol)s)::geometry)
                   FROM rigenera.comuni c WHERE c.istat_code = ANY(codes)) AS area
    FROM (VALUES (ARRAY[%(milano)s]), (ARRAY[%(sesto)s]), (ARRAY[%(milano)s, %(sesto)s]))
         AS k(codes))
SELECT count(*), count(*) FILTER (WHERE ST_Covers(area, g)),
       array_agg(label || ' ' || codes::text) FILTER (
         WHERE ST_Covers(area, g) IS DISTINCT FROM rigenera.within_comuni(g, codes))
  FROM probes, areas
"""


def test_within_comuni_answers_as_covers_of_the_buffered_comuni(sql, tolerance):
    """The subdivided pieces are a shortcut, never a different answer: 400 probes along
    Milano's boundary (discs, shifted discs, points, lines, a collection) for Milano, Sesto
    and both, against ST_Covers of the union of those comuni buffered by the tolerance."""
    total, covered, disagree = sql(AGREEMENT_SQL, {"milano": MILANO, "sesto": SESTO,
                                                   "tol": tolerance})[0]
    assert total == 3 * 401
    assert 0.2 * total < covered < 0.8 * total  # the probes really sit on the edge
    assert disagree is None, disagree


def test_within_comuni_is_false_for_nothing(sql):
    rows = sql("""SELECT rigenera.within_comuni(NULL, ARRAY[%s]),
                         rigenera.within_comuni('SRID=4326;POLYGON EMPTY', ARRAY[%s]),
                         rigenera.within_comuni(ST_PointOnSurface(geom), '{}'),
                         rigenera.within_comuni(ST_PointOnSurface(geom), NULL)
                    FROM rigenera.comuni WHERE istat_code = %s""", (MILANO, MILANO, MILANO))
    assert rows == [(False, False, False, False)]


def test_reach_problems_as_an_import_would_call_it(sql, shapes):
    """Issue 10's import path for technicians calls the rule set-wise on staged rows."""
    sesto_site = sql("SELECT min(id) FROM rigenera.sites WHERE istat_code = %s", (SESTO,))[0][0]
    staged = [  # (label, shape, istat_code, istat_codes, site_ids) -> fields refused
        ("ok", "border10", MILANO, None, None, set()),
        ("corner", "corner", SESTO, None, None, {"geometry", "istat_code"}),
        ("multipart", "multipart", None, None, None, {"geometry"}),
        ("project-comuni", "milano", None, [MILANO, SESTO], None, {"istat_codes"}),
        ("project-sites", None, None, [MILANO], [sesto_site], {"site_ids"}),
        ("nowhere", None, None, [], [], {"geometry"}),
    ]
    rows = sql("""SELECT s.label, rigenera.reach_problems(%s, ST_GeomFromText(s.wkt, 4326),
                                                          s.istat_code, s.istat_codes, s.site_ids)
                    FROM jsonb_to_recordset(%s::jsonb) AS s(label text, wkt text, istat_code text,
                                                          istat_codes text[], site_ids bigint[])""",
               ([MILANO], psycopg2.extras.Json([
                   {"label": label, "wkt": shapes[shape].wkt if shape else None, "istat_code": ic,
                    "istat_codes": ics, "site_ids": sids}
                   for label, shape, ic, ics, sids, _ in staged])))
    got = {label: {p["field"] for p in problems} for label, problems in rows}
    assert got == {label: fields for label, *_, fields in staged}


# ------------------------------------------------------------------------------ tolerance
def test_tolerance_is_one_row_and_changing_it_rebuilds_the_reach(api, sql, shapes, fingerprint,
                                                                 tolerance):
    body = site(shapes["border60"].geometry, name="Sessanta metri oltre")
    assert post(api, body, "tecnico").status_code == 403  # 60 m over, at the default
    try:
        sql("UPDATE rigenera.reach_rule SET tolerance_m = 80")
        r = post(api, body, "tecnico")
        assert r.status_code == 201, r.text
        sql("UPDATE rigenera.reach_rule SET tolerance_m = 40")
        before = fingerprint()
        r = post(api, body, "tecnico")
        assert r.status_code == 403
        assert "(tolerance 40 m)" in r.json()["errors"][0]["reason"]
        assert fingerprint() == before
    finally:
        sql("UPDATE rigenera.reach_rule SET tolerance_m = DEFAULT")
    assert sql("SELECT tolerance_m FROM rigenera.reach_rule")[0][0] == tolerance
    pieces = sql("""SELECT count(*), count(DISTINCT istat_code),
                           bool_and(ST_Covers(r.geom, p.geom)) FROM rigenera.comune_reach_pieces p
                      JOIN rigenera.comune_reach r USING (istat_code)""")[0]
    assert pieces[0] > pieces[1] == sql("SELECT count(*) FROM rigenera.comuni")[0][0]


# --------------------------------------------------------------------- two comuni, one border
def test_technician_of_two_comuni_writes_across_their_shared_border(api, sql, shapes, db):
    from rigenera.auth import hash_password

    sql("INSERT INTO rigenera.accounts (username, role, password_hash) VALUES"
        " ('tecnico.due', 'technician', %s)", (hash_password(PASSWORD),))
    sql("INSERT INTO rigenera.account_comuni VALUES ('tecnico.due', %s), ('tecnico.due', %s)",
        (MILANO, SESTO))
    body = site(shapes["straddle"].geometry, name="A cavallo del confine")
    assert post(api, body, "tecnico").status_code == 403
    r = post(api, body, "tecnico.due")
    assert r.status_code == 201, r.text
    fid = r.headers["location"].rsplit("/", 1)[1]
    r = api.options(f"/ogc/collections/sites/items/{fid}", headers=basic("tecnico.due"))
    assert "PATCH" in r.headers["allow"]
    r = api.options(f"/ogc/collections/sites/items/{fid}", headers=basic("tecnico"))
    assert "PATCH" not in r.headers["allow"]


# ------------------------------------------------------------------- a project's location
def test_project_needs_a_geometry_or_a_comune_whoever_writes(api, db, fingerprint):
    """A deferred constraint: the API refuses it (422, for the admin too) and so does
    PostgreSQL for any other writer, at commit."""
    before = fingerprint()
    r = api.post("/ogc/collections/projects/items", headers={**GEOJSON, **basic("admin")},
                 json={"type": "Feature", "geometry": None,
                       "properties": {"title": "Da nessuna parte", "istat_codes": []}})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "istat_codes"
    assert fingerprint() == before
    conn = psycopg2.connect(db)
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO rigenera.projects (title, source) VALUES ('Nessun luogo', 'sql')"
                        " RETURNING id")
        with pytest.raises(psycopg2.Error, match="needs a geometry or at least one comune"):
            conn.commit()
        conn.rollback()
        with conn.cursor() as cur:  # with a comune it is fine; without it again, not
            cur.execute("INSERT INTO rigenera.projects (title, source) VALUES ('Un luogo', 'sql')"
                        " RETURNING id")
            (pid,) = cur.fetchone()
            cur.execute("INSERT INTO rigenera.project_comuni VALUES (%s, %s)", (pid, MILANO))
        conn.commit()
        with conn.cursor() as cur:
            cur.execute("DELETE FROM rigenera.project_comuni WHERE project_id = %s", (pid,))
        with pytest.raises(psycopg2.Error, match="needs a geometry or at least one comune"):
            conn.commit()
        conn.rollback()
        with conn.cursor() as cur:  # deleting the project takes its comuni along: fine
            cur.execute("DELETE FROM rigenera.projects WHERE id = %s", (pid,))
        conn.commit()
    finally:
        conn.close()
