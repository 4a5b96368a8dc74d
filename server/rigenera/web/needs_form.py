"""The needs' web form, generated from the collection's model (GET /api/collections/needs/model).

The fields, their it/en labels, types, enumerations and required flags come from
`app.state.models["needs"]` (editing/describe.py), so the form cannot disagree with the API
or the QGIS plugin. This module only decides how each type is shown (a select for an
enumeration, a date picker, an amount in EUR) and turns the posted strings back into the
GeoJSON Feature the editing service reads (editing/payload.parse_feature): every rule is
then checked there and by PostgreSQL, never a second time here.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from rigenera.web.security import form_text

# Provenance columns an import writes (who sent the row, its id there): not a technician's.
HIDDEN = frozenset({"source", "source_id"})
# The database defaults (migration 0001/0016) a new need starts from.
CREATE_DEFAULTS = {"priority": "3", "status": "open", "applicant": "comune"}
# How a few fields are shown; their rules stay the database's (needs_priority_range).
INPUT_HINTS: dict[str, dict[str, str]] = {"priority": {"min": "1", "max": "5", "step": "1"}}
LONG_TEXT = frozenset({"description"})
POINT_FIELDS = ("longitude", "latitude")


@dataclass
class FormField:
    name: str
    label_it: str
    label_en: str
    widget: str  # select | textarea | date | amount | integer | text
    required: bool
    options: list[tuple[str, str, str]] = field(default_factory=list)  # code, it, en
    attrs: dict[str, str] = field(default_factory=dict)


def form_fields(model: dict[str, Any], comuni: list[tuple[str, str]]) -> list[FormField]:
    """The writable fields of the model, in its order, each with its widget. The comune is a
    select of `comuni` (a technician's own, or all of them for the office)."""
    out: list[FormField] = []
    for f in model["fields"]:
        if f["read_only"] or f["name"] in HIDDEN:
            continue
        name, kind = f["name"], f["type"]
        ff = FormField(name, f["label"]["it"], f["label"]["en"], "text", bool(f["required"]),
                       attrs=dict(INPUT_HINTS.get(name, {})))
        if name == "istat_code":
            ff.widget = "select"
            ff.label_it, ff.label_en = "Comune", "Municipality"
            ff.options = [(code, cname, cname) for code, cname in comuni]
        elif "enum" in f:
            ff.widget = "select"
            ff.options = [(e["code"], e["it"], e["en"]) for e in f["enum"]]
        elif kind == "date":
            ff.widget = "date"
        elif kind in ("numeric", "double") and name.endswith("_eur"):
            ff.widget = "amount"
        elif kind in ("integer", "bigint"):
            ff.widget = "integer"
        elif name in LONG_TEXT:
            ff.widget = "textarea"
        out.append(ff)
    return out


def _number(text: str) -> float | None:
    """A number as typed in Italian (1.200.000,50) or as a browser sends it (1200000.50)."""
    cleaned = text.replace("€", "").replace("EUR", "").replace(" ", "").replace("\u00a0", "")
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _typed(ff: FormField, text: str | None) -> Any:
    """The posted text as the JSON value the API would receive. Text that is not a number
    is passed on as it is, so parse_feature names the field ("must be an integer")."""
    if text is None:
        return None
    if ff.widget == "integer":
        try:
            return int(text)
        except ValueError:
            return text
    if ff.widget == "amount":
        value = _number(text)
        if value is None:
            return text
        return int(value) if value.is_integer() else value
    return text


@dataclass
class Posted:
    """A submitted form: the Feature for the editing service, the texts to show again,
    and the problems found before the service (the point's two halves)."""

    doc: dict[str, Any]
    values: dict[str, str]
    errors: dict[str, str]


def read_form(form: FormData, fields: list[FormField], *, creating: bool,
              stored_kind: str | None = None) -> Posted:
    """`stored_kind`: the need's geometry type as stored (None when it has none). On an
    edit a point is replaced or removed by the two coordinates; an area drawn in QGIS is
    kept unless a point is given or `remove_place` is ticked. On a create, empty fields
    are left out (the database's defaults; a comune left empty is the point's)."""
    values: dict[str, str] = {}
    props: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for ff in fields:
        text = form_text(form, ff.name)
        values[ff.name] = text or ""
        if text is not None or not creating:
            props[ff.name] = _typed(ff, text)
    doc: dict[str, Any] = {"type": "Feature", "properties": props}
    lon_t, lat_t = (form_text(form, n) for n in POINT_FIELDS)
    values["longitude"], values["latitude"] = lon_t or "", lat_t or ""
    remove = form_text(form, "remove_place") is not None
    if lon_t or lat_t:
        lon = _number(lon_t) if lon_t else None
        lat = _number(lat_t) if lat_t else None
        if lon is None or not -180 <= lon <= 180:
            errors["longitude"] = "required with the latitude: a number from -180 to 180"
        if lat is None or not -90 <= lat <= 90:
            errors["latitude"] = "required with the longitude: a number from -90 to 90"
        if lon is not None and lat is not None and not errors:
            doc["geometry"] = {"type": "Point", "coordinates": [lon, lat]}
    elif not creating and (remove or stored_kind in (None, "POINT")):
        doc["geometry"] = None  # no point given: none (an area is kept unless removed)
    return Posted(doc, values, errors)


def field_errors(problems: list[dict[str, Any]] | None) -> dict[str, str]:
    """The service's problems (`{field, reason}`) by form field; a place's problem is shown
    by the coordinates, a comune's by the comune select."""
    out: dict[str, str] = {}
    for p in problems or []:
        name = str(p.get("field", "body"))
        if name in ("geometry", "geom"):
            name = "longitude"
        reason = p.get("reason")
        text = reason if isinstance(reason, str) else json.dumps(reason, ensure_ascii=False)
        out[name] = f"{out[name]}; {text}" if name in out else text
    return out


# A few reasons of editing/payload.py and errors.py in Italian (they stay English there).
_REASONS_IT = {
    "required": "obbligatorio",
    "must be an integer": "deve essere un numero intero",
    "must be a finite number": "deve essere un numero",
    "must be a date YYYY-MM-DD": "deve essere una data (AAAA-MM-GG)",
    "not a calendar date": "data inesistente",
}


def reason_text(reason: str, lang: str) -> str:
    """A field's problem in the page's language (English reasons stay as they are)."""
    if lang != "it":
        return reason
    for en, it in _REASONS_IT.items():
        if reason == en:
            return it
    if reason.startswith("one of "):
        return "valore non ammesso (" + reason + ")"
    if reason.startswith("violates "):
        return "valore non ammesso dalla regola " + reason.removeprefix("violates ")
    return reason
