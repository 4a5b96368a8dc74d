"""The shape of a GeoJSON geometry from a client, checked before PostGIS reads it.

PostGIS reads `["a", true]` as the position (0, 0), an over-long integer as
infinity, and answers some malformed shapes with an internal error. Two ways
in carry client geometries: write bodies (editing/payload.py; validity is then
PostGIS's own check, named in the answer) and CQL2 filter literals
(ogc/literals.py, which adds validity and range checks). Both ask this module
first. Positions may be lists (JSON) or tuples (pygeofilter's WKT parser).
"""

from __future__ import annotations

import math
from typing import Any

# How deep `coordinates` nest down to a position, per GeoJSON geometry type.
POSITION_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2,
                  "Polygon": 2, "MultiPolygon": 3}
GEOMETRY_TYPES = {*POSITION_DEPTH, "GeometryCollection"}
MAX_COLLECTION_NESTING = 4
_SEQUENCE = (list, tuple)


def is_coordinate(v: Any) -> bool:
    """A coordinate: a finite float, or an int a double holds exactly (no booleans)."""
    return (type(v) is float and math.isfinite(v)) or (type(v) is int and abs(v) < 2**53)


def position_problem(position: Any) -> str | None:
    if type(position) not in _SEQUENCE or not 2 <= len(position) <= 3 \
            or any(isinstance(v, _SEQUENCE) for v in position):
        return "a position must be an array of 2 (or 3) numbers"
    if not all(is_coordinate(v) for v in position):
        return "coordinates must be finite numbers"
    return None


def shape_problem(geometry: Any, nesting: int = 0) -> str | None:
    """What is wrong with the shape of a geometry (types, nesting, numbers), or None."""
    if not isinstance(geometry, dict) or geometry.get("type") not in GEOMETRY_TYPES:
        return "must be a GeoJSON geometry object"
    kind = geometry["type"]
    if kind == "GeometryCollection":
        members = geometry.get("geometries")
        if not isinstance(members, _SEQUENCE):
            return "a GeometryCollection needs a 'geometries' array"
        if nesting >= MAX_COLLECTION_NESTING:
            return "GeometryCollections nested too deeply"
        for member in members:
            if not isinstance(member, dict) or member.get("type") not in GEOMETRY_TYPES:
                return "every member of 'geometries' must be a GeoJSON geometry object"
            reason = shape_problem(member, nesting + 1)
            if reason:
                return reason
        return None
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, _SEQUENCE):
        return f"a {kind} needs a 'coordinates' array"
    nesting_error = f"'coordinates' of a {kind} are not nested as GeoJSON requires"
    if kind == "Point":
        return position_problem(coordinates) if coordinates else "a Point needs a position [x, y]"
    stack: list[tuple[Any, int]] = [(coordinates, POSITION_DEPTH[kind])]
    while stack:
        value, depth = stack.pop()
        if not isinstance(value, _SEQUENCE):
            return nesting_error
        if depth > 1:
            stack.extend((v, depth - 1) for v in value)
            continue
        for position in value:  # a list of positions: the hot loop, kept tight
            if type(position) not in _SEQUENCE or not 2 <= len(position) <= 3 or not all(
                    (type(v) is float and math.isfinite(v)) or (type(v) is int and abs(v) < 2**53)
                    for v in position):
                return position_problem(position) or nesting_error
    return None
