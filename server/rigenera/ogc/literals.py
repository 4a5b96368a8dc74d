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

from rigenera.geojson import is_coordinate, shape_problem
from rigenera.inputs import INT64, UNSTORABLE_REASON, storable


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
        if not all(is_coordinate(v) for v in numbers):
            return "bbox: values must be finite numbers"
        return _range_problem(*numbers)
    if isinstance(value, pygeofilter.values.Geometry):
        return geometry_problem(value.geometry)
    return None


def _range_problem(x1: float, y1: float, x2: float, y2: float) -> str | None:
    """Literals are in CRS84 here: a box or bounds beyond the globe is a mistake."""
    if not (-180 <= min(x1, x2) <= max(x1, x2) <= 180
            and -90 <= min(y1, y2) <= max(y1, y2) <= 90):
        return (f"coordinates out of range ({x1:g} {y1:g}, {x2:g} {y2:g}): longitude "
                "-180..180, latitude -90..90")
    return None


def _parts_problem(geometry: dict[str, Any]) -> str | None:
    """What PostGIS answers with an internal error or reads wrongly in a well-shaped
    geometry: empty parts, rings of fewer than 4 positions or not closed (GEOS would
    close them silently), lines of one position."""
    kind = geometry["type"]
    if kind == "GeometryCollection":
        if not geometry["geometries"]:
            return "a GeometryCollection needs member geometries"
        for member in geometry["geometries"]:
            reason = _parts_problem(member)
            if reason:
                return reason
        return None
    coordinates = geometry["coordinates"]
    if not coordinates:
        return f"empty {kind}"
    if kind in ("Polygon", "MultiPolygon"):
        for polygon in [coordinates] if kind == "Polygon" else coordinates:
            for ring in polygon:
                if len(ring) < 4:
                    return f"{kind}: a ring needs at least 4 positions"
                if list(ring[0][:2]) != list(ring[-1][:2]):
                    return f"{kind}: a ring must be closed (first position = last)"
    lines = [coordinates] if kind == "LineString" else coordinates
    if kind in ("LineString", "MultiLineString") and any(len(line) < 2 for line in lines):
        return f"{kind}: a line needs at least 2 positions"
    return None


def geometry_problem(geometry: Any) -> str | None:
    """What is wrong with a geometry literal (a GeoJSON-like dict), or None: its shape
    (geojson.py, as for write bodies), its parts, its place on the globe, its validity."""
    reason = shape_problem(geometry) or _parts_problem(geometry)
    if reason:
        return reason
    kind = geometry["type"]
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, shapely.errors.GEOSException) as exc:
        return f"{kind}: {str(exc).strip()}"
    if geom.is_empty:
        return f"empty {kind}"
    reason = _range_problem(*geom.bounds)
    if reason:
        return reason
    if not geom.is_valid:
        return f"invalid geometry: {shapely.is_valid_reason(geom)}"
    return None
