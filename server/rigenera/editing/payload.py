"""Reading what a client sends: size, media type, JSON, GeoJSON shape, field types.

Everything here happens before the database is touched, and every problem is
reported with the field it concerns, all at once, so a technician fixes a
feature in one go. Rules that need the data (enumerations, CUP format,
validity and place of the geometry) are checked again by PostgreSQL itself.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from rigenera.editing.model import EditableCollection
from rigenera.errors import InvalidParameter, PayloadTooLarge, UnsupportedMediaType
from rigenera.ogc.crs import CRS84, SUPPORTED_CRS, normalise_crs

MAX_FEATURE_BYTES = 5 * 1024 * 1024
MAX_CHANGESET_BYTES = 50 * 1024 * 1024
MAX_TEXT = 10_000
FEATURE_TYPES = {"application/geo+json", "application/json"}
PATCH_TYPES = FEATURE_TYPES | {"application/merge-patch+json"}
# Properties clients read but never write: accepted back in a round trip, ignored.
READ_ONLY = {"id", "version", "created_at", "created_by", "updated_at", "updated_by",
             "validation_status", "surface_m2", "length_m", "area_m2", "funding_requested_eur",
             "funding_granted_eur", "pnrr_granted_eur", "programme_codes", "province_code"}
_GEOJSON_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                  "MultiPolygon", "GeometryCollection"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def problem(field: str, reason: str) -> dict[str, str]:
    return {"field": field, "reason": reason}


def media_type(header: str | None, allowed: set[str]) -> None:
    value = (header or "").split(";")[0].strip().lower()
    if value not in allowed:
        raise UnsupportedMediaType(
            f"Content-Type '{value or '(assente)'}' non accettato; usare {', '.join(sorted(allowed))}"
            f" / unsupported Content-Type",
            errors=[problem("Content-Type", f"one of {sorted(allowed)}")])


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(body: bytes, limit: int = MAX_FEATURE_BYTES) -> Any:
    if len(body) > limit:
        raise PayloadTooLarge(f"Richiesta troppo grande: {len(body)} byte, massimo {limit} / "
                              "payload too large")
    try:
        return json.loads(body, parse_constant=_no_constants)
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidParameter(f"JSON non valido / malformed JSON: {exc}",
                               errors=[problem("body", str(exc))]) from None


def content_crs(header: str | None) -> str:
    """The CRS of the coordinates sent (OGC API Features Part 4 `Content-Crs`)."""
    if not header:
        return CRS84
    uri = normalise_crs(header.strip().removeprefix("<").removesuffix(">"))
    if uri not in SUPPORTED_CRS:
        raise InvalidParameter(
            f"Content-Crs '{header}' non supportato / unsupported; supported: "
            + ", ".join(SUPPORTED_CRS), errors=[problem("Content-Crs", "unsupported CRS")])
    return uri


@dataclass
class FeatureInput:
    values: dict[str, Any]
    geometry: str | None  # GeoJSON geometry text for ST_GeomFromGeoJSON
    geometry_given: bool


def _coerce(name: str, sql_type: str, value: Any, errors: list[dict[str, str]]) -> Any:
    if value is None:
        return None

    def bad(reason: str) -> None:
        errors.append(problem(name, reason))
    if sql_type == "text":
        if not isinstance(value, str):
            return bad("must be a string")
        if len(value) > MAX_TEXT:
            return bad(f"longer than {MAX_TEXT} characters")
        return value
    if sql_type in ("integer", "smallint", "bigint"):
        if isinstance(value, bool) or not isinstance(value, int):
            return bad("must be an integer")
        if abs(value) > 2**31 - 1:
            return bad("out of range")
        return value
    if sql_type in ("numeric", "double precision"):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return bad("must be a finite number")
        if abs(value) >= 1e12:
            return bad("out of range")
        return value
    if sql_type == "date":
        if not isinstance(value, str) or not _DATE.match(value):
            return bad("must be a date YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError:
            return bad("not a calendar date")
    if sql_type == "boolean":
        if not isinstance(value, bool):
            return bad("must be true or false")
        return value
    if sql_type in ("text[]", "bigint[]"):
        item = str if sql_type == "text[]" else int
        if not isinstance(value, list) or not all(
                isinstance(v, item) and not isinstance(v, bool) for v in value):
            return bad(f"must be a list of {'strings' if item is str else 'integers'}")
        return value
    return value


def parse_feature(doc: Any, coll: EditableCollection, *, partial: bool,
                  url_id: str | None = None) -> FeatureInput:
    """A GeoJSON Feature (create/replace) or a merge-patch (partial) -> checked values."""
    errors: list[dict[str, str]] = []
    if not isinstance(doc, dict):
        raise InvalidParameter("Il corpo deve essere un oggetto GeoJSON Feature / body must be a "
                               "GeoJSON Feature object", errors=[problem("body", "not an object")])
    if not partial and doc.get("type") != "Feature":
        errors.append(problem("type", "must be 'Feature'"))
    if "id" in doc and doc["id"] is not None and url_id is not None and str(doc["id"]) != url_id:
        raise InvalidParameter(
            f"L'id nel corpo ({doc['id']}) non coincide con l'URL ({url_id}) / body id does not "
            "match the URL", errors=[problem("id", "differs from the id in the URL")])
    props = doc.get("properties", {} if partial else None)
    if props is None:
        props = {}
    if not isinstance(props, dict):
        errors.append(problem("properties", "must be an object"))
        props = {}
    values: dict[str, Any] = {}
    for name, value in props.items():
        f = coll.fields.get(name)
        if f is None:
            if name not in READ_ONLY:
                errors.append(problem(name, "unknown property"))
            continue
        coerced = _coerce(name, f.sql_type, value, errors)
        if value is not None and f.choices and coerced not in f.choices:
            errors.append(problem(name, f"one of {', '.join(f.choices)}"))
        values[name] = coerced
    if not partial:
        for f in coll.fields.values():
            if f.required and values.get(f.name) is None:
                errors.append(problem(f.name, "required"))
    geometry_given = "geometry" in doc
    geometry = doc.get("geometry")
    geom_text = None
    if geometry is None:
        if (geometry_given or not partial) and coll.geometry_required:
            errors.append(problem("geometry", "required"))
    elif not isinstance(geometry, dict) or geometry.get("type") not in _GEOJSON_TYPES:
        errors.append(problem("geometry", "must be a GeoJSON geometry object"))
    elif geometry["type"].upper() not in coll.geometry_types:
        errors.append(problem("geometry", f"type {geometry['type']} not accepted here; accepted: "
                                          + ", ".join(sorted(coll.geometry_types))))
    else:
        geom_text = json.dumps(geometry)
    if errors:
        raise InvalidParameter(
            "Feature non valida: " + "; ".join(f"{e['field']}: {e['reason']}" for e in errors),
            errors=errors)
    return FeatureInput(values, geom_text, geometry_given)


