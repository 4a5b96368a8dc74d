"""Geometries that probe a technician's reach, built by PostGIS from the real comune boundaries.

Milano (015146) and Sesto San Giovanni (015209) share a border of about 4.8 km;
`p` is its midpoint. Every shape is drawn around `p` (or deep inside a comune),
snapped to a 1e-7 degree grid so that its GeoJSON (7 decimals) is the very
geometry the server will store. What each shape is, in metres:

* corner:        mostly in Sesto (a 300 m half-disc) with a corner in Milano (100 m)
* multipart:     a 15 m part deep in Milano and a 300 m disc in Legnano (015118)
* border10:      in Milano, overshooting the border into Sesto by 10 m (within tolerance)
* border60:      the same, by 60 m (beyond the tolerance)
* milano, sesto: a half-disc 20 m inside each comune
* straddle:      a 200 m disc across the border, half in each
* line:          starts in Milano 30 m from the border, ends 200 m inside Sesto
* line_milano:   inside Milano
* stop_sesto10:  a point in Sesto 10 m from the border; stop_milano10 the mirror image
* stop_milano:   a point in Milano 100 m from the border
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MILANO, SESTO, LEGNANO = "015146", "015209", "015118"

SHAPES_SQL = """
WITH c AS (SELECT istat_code, geom FROM rigenera.comuni),
m AS (SELECT geom FROM c WHERE istat_code = %(milano)s),
s AS (SELECT geom FROM c WHERE istat_code = %(sesto)s),
f AS (SELECT geom FROM c WHERE istat_code = %(far)s),
border AS (
  SELECT (ST_Dump(ST_LineMerge(ST_CollectionExtract(
           ST_Intersection(ST_Boundary(m.geom), ST_Boundary(s.geom)), 2)))).geom AS l
    FROM m, s),
pt AS (SELECT ST_LineInterpolatePoint(l, 0.5) AS p FROM border ORDER BY ST_Length(l) DESC LIMIT 1),
d AS (SELECT p, ST_Buffer(p::geography, 100)::geometry AS d100,
             ST_Buffer(p::geography, 200)::geometry AS d200,
             ST_Buffer(p::geography, 300)::geometry AS d300,
             ST_Buffer(p::geography, 600)::geometry AS d600 FROM pt),
near AS (SELECT ST_Centroid(ST_Intersection(d200, s.geom)) AS in_sesto,
                ST_Centroid(ST_Intersection(d200, m.geom)) AS in_milano FROM d, m, s)
SELECT name, ST_AsGeoJSON(g, 7), rigenera.comune_of(g), ST_AsText(g) FROM (
  SELECT name, ST_ReducePrecision(g, 1e-7) AS g FROM d, m, s, f, near, LATERAL (VALUES
    ('corner', ST_Union(ST_Intersection(d300, s.geom), ST_Intersection(d100, m.geom))),
    ('multipart', ST_Collect(
       ST_Buffer(ST_PointOnSurface(ST_Buffer(m.geom::geography, -1000)::geometry)::geography,
                 15, 'quad_segs=1')::geometry,
       ST_Buffer(ST_PointOnSurface(ST_Buffer(f.geom::geography, -500)::geometry)::geography,
                 300)::geometry)),
    ('border10', ST_Intersection(d200, ST_Buffer(m.geom::geography, 10)::geometry)),
    ('border60', ST_Intersection(d200, ST_Buffer(m.geom::geography, 60)::geometry)),
    ('milano', ST_Intersection(d200, ST_Buffer(m.geom::geography, -20)::geometry)),
    ('sesto', ST_Intersection(d200, ST_Buffer(s.geom::geography, -20)::geometry)),
    ('straddle', d200),
    ('line', ST_MakeLine(
       ST_Centroid(ST_Intersection(d100, ST_Buffer(m.geom::geography, -30)::geometry)),
       ST_Centroid(ST_Intersection(d600, ST_Buffer(s.geom::geography, -200)::geometry)))),
    ('line_milano', ST_MakeLine(
       ST_ClosestPoint(ST_Buffer(m.geom::geography, -100)::geometry, in_sesto),
       ST_ClosestPoint(ST_Buffer(m.geom::geography, -300)::geometry, in_sesto))),
    ('stop_sesto10', ST_ClosestPoint(ST_Buffer(m.geom::geography, 10)::geometry, in_sesto)),
    ('stop_milano10', ST_ClosestPoint(ST_Buffer(m.geom::geography, -10)::geometry, in_sesto)),
    ('stop_milano', ST_ClosestPoint(ST_Buffer(m.geom::geography, -100)::geometry, in_sesto))
  ) AS v(name, g)) q
"""


@dataclass(frozen=True)
class Shape:
    name: str
    geometry: dict[str, Any]  # GeoJSON, as sent to the API
    comune: str | None  # rigenera.comune_of(): the istat_code the server derives
    wkt: str


def build(run: Callable[..., list[tuple[Any, ...]]]) -> dict[str, Shape]:
    """The shapes, from a function running SQL with psycopg2 parameters."""
    rows = run(SHAPES_SQL, {"milano": MILANO, "sesto": SESTO, "far": LEGNANO})
    out = {name: Shape(name, json.loads(gj), comune, wkt) for name, gj, comune, wkt in rows}
    polygons = {"corner", "border10", "border60", "milano", "sesto", "straddle"}
    assert all(out[n].geometry["type"] == "Polygon" for n in polygons), out
    assert out["multipart"].geometry["type"] == "MultiPolygon"
    return out
