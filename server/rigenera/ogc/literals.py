"""The literals of a CQL2 filter, checked before any SQL is built from them.

pygeofilter hands on whatever the client wrote: `1e400` (infinity), integers
beyond a bigint, NaN from CQL2-JSON, strings with NUL or unpaired surrogates,
and geometries that PostGIS refuses with an internal error (a ring of three
points, a one-point line, five ordinates, `["a", "b"]` as a position) or
silently answers wrongly (a self-intersecting bow-tie, an unclosed ring,
latitude 95). Each became a 500 or an answer to a question nobody can ask.
This walk runs in `provider.filter_evaluator`, so pygeoapi's path and the fast
path refuse the same filters with the same 400, naming `filter` and the reason.

Geometry validity is GEOS's (shapely), the library behind PostGIS's ST_IsValid,
so the reasons read as ST_IsValidReason's; literals are in the storage CRS
(CRS84) by then, so positions must lie within -180..180, -90..90.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import Any

import pygeofilter.ast
import pygeofilter.values
import shapely
from pygeoapi.provider.base import ProviderInvalidQueryError
from shapely.geometry import shape

from rigenera.inputs import INT64, UNSTORABLE_REASON, storable

# How deep `coordinates` nest down to a position, per GeoJSON geometry type.
_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2,
          "Polygon": 2, "MultiPolygon": 3}
_MAX_COLLECTION_NESTING = 4


def _refuse(reason: str) -> ProviderInvalidQueryError:
    return ProviderInvalidQueryError(user_msg=f"filter: filtro non valido / invalid filter: {reason}")


def check_filter_literals(ast: Any) -> None:
    """Raise ProviderInvalidQueryError (400 on both paths) for the first bad literal."""
    for value in _values(ast):
        reason = _problem(value)
        if reason is not None:
            raise _refuse(reason)


def _values(node: Any) -> Iterator[Any]:
    """Every value in a pygeofilter AST: nodes' attributes, IN's lists, function arguments."""
    stack = [node]
    while stack:
        value = stack.pop()
        yield value
        if isinstance(value, pygeofilter.values.Geometry | pygeofilter.values.Envelope):
            continue
        if isinstance(value, pygeofilter.ast.Node) or (
                dataclasses.is_dataclass(value) and not isinstance(value, type)):
            stack.extend(vars(value).values())
        elif isinstance(value, list | tuple):
            stack.extend(value)


def _problem(value: Any) -> str | None:
    if isinstance(value, str):
        return None if storable(value) else f"a string {UNSTORABLE_REASON}"
    if isinstance(value, bool | Enum | date | datetime | time | timedelta) or value is None:
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else "a number overflows (beyond ±1.8e308)"
    if isinstance(value, int):
        return None if -INT64 - 1 <= value <= INT64 else "integer out of range (beyond 64 bits)"
    if isinstance(value, pygeofilter.values.Envelope):
        numbers = (value.x1, value.y1, value.x2, value.y2)
        if not all(_number(v) for v in numbers):
            return "bbox: values must be finite numbers"
        return _range_problem([list(numbers[:2]), list(numbers[2:])])
    if isinstance(value, pygeofilter.values.Geometry):
        return geometry_problem(value.geometry)
    return None


def _number(v: Any) -> bool:
    return (type(v) is float and math.isfinite(v)) or (type(v) is int and abs(v) < 2**53)


def _range_problem(positions: list[Any]) -> str | None:
    for p in positions:
        if not (-180 <= p[0] <= 180 and -90 <= p[1] <= 90):
            return (f"coordinates out of range ({p[0]:g} {p[1]:g}): longitude -180..180, "
                    "latitude -90..90")
    return None


def _positions(coordinates: Any, depth: int) -> list[Any] | str:
    """The positions of a GeoJSON `coordinates` value, or what is wrong with its shape."""
    if depth == 0:
        coordinates = [coordinates]
    out: list[Any] = []
    stack: list[tuple[Any, int]] = [(coordinates, max(depth, 1))]
    while stack:
        value, d = stack.pop()
        if not isinstance(value, list | tuple):
            return "coordinates are not nested as GeoJSON requires"
        if d > 1:
            stack.extend((v, d - 1) for v in value)
            continue
        for p in value:
            if not isinstance(p, list | tuple) or not 2 <= len(p) <= 3:
                return "a position must be 2 (or 3) numbers"
            if not all(_number(v) for v in p):
                return "coordinates must be finite numbers"
            out.append(p)
    return out


def geometry_problem(geometry: Any, nesting: int = 0) -> str | None:
    """What is wrong with a geometry literal (a GeoJSON-like dict), or None."""
    if not isinstance(geometry, dict):
        return "not a geometry"
    kind = geometry.get("type")
    if kind == "GeometryCollection":
        members = geometry.get("geometries")
        if not isinstance(members, list | tuple) or not members:
            return "a GeometryCollection needs member geometries"
        if nesting >= _MAX_COLLECTION_NESTING:
            return "GeometryCollections nested too deeply"
        for member in members:
            reason = geometry_problem(member, nesting + 1)
            if reason:
                return reason
        return None
    if kind not in _DEPTH:
        return f"unknown geometry type {kind!r}"
    coordinates = geometry.get("coordinates")
    if coordinates is None or (isinstance(coordinates, list | tuple) and not coordinates):
        return f"empty {kind}"
    positions = _positions(coordinates, _DEPTH[kind])
    if isinstance(positions, str):
        return f"{kind}: {positions}"
    reason = _range_problem(positions)
    if reason:
        return reason
    if kind in ("Polygon", "MultiPolygon"):
        rings = [coordinates] if kind == "Polygon" else list(coordinates)
        for polygon in rings:
            for ring in polygon:
                if len(ring) < 4:
                    return f"{kind}: a ring needs at least 4 positions"
                if list(ring[0][:2]) != list(ring[-1][:2]):
                    return f"{kind}: a ring must be closed (first position = last)"
    if kind in ("LineString", "MultiLineString"):
        lines = [coordinates] if kind == "LineString" else list(coordinates)
        if any(len(line) < 2 for line in lines):
            return f"{kind}: a line needs at least 2 positions"
    try:
        geom = shape({"type": kind, "coordinates": coordinates})
    except (ValueError, TypeError, shapely.errors.GEOSException) as exc:
        return f"{kind}: {str(exc).strip()}"
    if geom.is_empty:
        return f"empty {kind}"
    if not geom.is_valid:
        return f"invalid geometry: {shapely.is_valid_reason(geom)}"
    return None
