"""Reading what a client sends: media type, JSON, GeoJSON shape, field types.

Everything here happens before the database is touched, and every problem is
reported with the field it concerns, all at once, so a technician fixes a
feature in one go. Rules that need the data (enumerations, CUP format,
validity and place of the geometry) are checked again by PostgreSQL itself.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from rigenera.domains import GEOMETRY_KIND, VALIDATION_STATUS
from rigenera.editing.model import EditableCollection
from rigenera.errors import InvalidParameter, UnsupportedMediaType
from rigenera.geojson import GEOMETRY_TYPES, shape_problem
from rigenera.inputs import UNSTORABLE_REASON, finite_number, storable
from rigenera.limits import parse_json as parse_json  # the one JSON reader (depth-limited)
from rigenera.ogc.crs import CRS84, SUPPORTED_CRS, normalise_crs

# Body sizes are bounded while bodies are read (limits.py), before any of this runs.
MAX_TEXT = 10_000
FEATURE_TYPES = {"application/geo+json", "application/json"}
PATCH_TYPES = FEATURE_TYPES | {"application/merge-patch+json"}
# Properties clients read but never write: accepted back in a round trip, ignored,
# but only with the type they are published with (a number for `version`, ...):
# anything else is a client bug or a trick, and is refused.
READ_ONLY: dict[str, str] = {
    "id": "id", "version": "integer", "created_at": "text", "created_by": "text",
    "updated_at": "text", "updated_by": "text", "validation_status": "text",
    "surface_m2": "double precision", "length_m": "double precision",
    "area_m2": "double precision", "funding_requested_eur": "double precision",
    "funding_granted_eur": "double precision", "pnrr_granted_eur": "double precision",
    "programme_codes": "text[]", "province_code": "text", "geometry_kind": "text"}
_READ_ONLY_CHOICES = {"validation_status": tuple(VALIDATION_STATUS),
                      "geometry_kind": tuple(GEOMETRY_KIND)}
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


def content_crs(header: object) -> str:
    """The CRS of the coordinates sent (OGC API Features Part 4 `Content-Crs`).

    A header, or the `crs` member of a changeset, which may be any JSON value.
    """
    if header is None or header == "":
        return CRS84
    if not isinstance(header, str):
        raise InvalidParameter("Content-Crs: atteso un testo come 'EPSG:32632' / expected a "
                               "CRS name", errors=[problem("crs", "must be a string")])
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
        if not storable(value):
            return bad(UNSTORABLE_REASON)
        return value
    if sql_type in ("integer", "smallint", "bigint"):
        if isinstance(value, bool) or not isinstance(value, int):
            return bad("must be an integer")
        if abs(value) > 2**31 - 1:
            return bad("out of range")
        return value
    if sql_type in ("numeric", "double precision"):
        if not finite_number(value):
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
        if item is str and not all(storable(v) for v in value):
            return bad(UNSTORABLE_REASON)
        if item is int and any(abs(v) > 2**63 - 1 for v in value):
            return bad("out of range")
        return value
    return value


def _check_read_only(name: str, value: Any, url_id: str | None,
                     errors: list[dict[str, str]]) -> None:
    """A read-only property sent back: ignored when it has its published type, else refused."""
    if value is None:
        return
    kind = READ_ONLY[name]
    if kind == "id":
        if isinstance(value, bool) or not isinstance(value, int | str):
            errors.append(problem(name, "read-only; must be the feature's id"))
        elif url_id is not None and str(value) != url_id:
            errors.append(problem(name, "differs from the id in the URL"))
        return
    before = len(errors)
    _coerce(name, kind, value, errors)
    if len(errors) > before:
        errors[before:] = [problem(name, f"read-only; {e['reason']}") for e in errors[before:]]
    elif name in _READ_ONLY_CHOICES and value not in _READ_ONLY_CHOICES[name]:
        errors.append(problem(name, f"read-only; one of {', '.join(_READ_ONLY_CHOICES[name])}"))


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
            f"L'id nel corpo ({str(doc['id'])[:40]}) non coincide con l'URL ({url_id}) / body id "
            "does not match the URL", errors=[problem("id", "differs from the id in the URL")])
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
            if name in READ_ONLY:
                _check_read_only(name, value, url_id, errors)
            else:
                errors.append(problem(name, "unknown property"))
            continue
        coerced = _coerce(name, f.sql_type, value, errors)
        if (f.max_abs is not None and isinstance(coerced, int | float)
                and not isinstance(coerced, bool) and abs(coerced) >= f.max_abs):
            errors.append(problem(name, f"out of range (|value| < {f.max_abs:.0f})"))
        if value is not None and f.choices and isinstance(coerced, list):
            # A list of codes (a call's themes, beneficiaries): each one of the domain.
            if any(v not in f.choices for v in coerced):
                errors.append(problem(name, f"each one of {', '.join(f.choices)}"))
        elif value is not None and f.choices and coerced not in f.choices:
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
    elif not isinstance(geometry, dict) or not isinstance(geometry.get("type"), str) \
            or geometry["type"] not in GEOMETRY_TYPES:
        errors.append(problem("geometry", "must be a GeoJSON geometry object"))
    elif not coll.has_geometry:
        errors.append(problem("geometry", "this collection has no geometry: send null or omit it"))
    elif geometry["type"].upper() not in coll.geometry_types:
        errors.append(problem("geometry", f"type {geometry['type']} not accepted here; accepted: "
                                          + ", ".join(sorted(coll.geometry_types))))
    elif reason := shape_problem(geometry):  # validity is PostGIS's check (service.py)
        errors.append(problem("geometry", reason))
    else:
        geom_text = json.dumps(geometry)
    if errors:
        raise InvalidParameter(
            "Feature non valida / invalid feature: "
            + "; ".join(f"{e['field']}: {e['reason']}" for e in errors),
            errors=errors)
    return FeatureInput(values, geom_text, geometry_given)


