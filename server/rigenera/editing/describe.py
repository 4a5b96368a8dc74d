"""The field model of each published collection (``GET /api/collections/{id}/model``).

The QGIS plugin builds its forms from this and the styles take their aliases
from it, so clients apply the server's own constraints before sending. Built
once at start-up from what the server already reads from PostgreSQL: the
published view's columns (``ogc/schema.py``, in view order), what is writable
and required (``editing/model.py``), labels (``labels.py``), enumerations
(``domains.py``) and, for the CUP, the regular expression of the database's
own CHECK constraint, so the form and the database cannot disagree.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import asyncpg

from rigenera.catalogue import BY_ID
from rigenera.domains import DOMAINS
from rigenera.editing.model import GEOMETRY_REQUIRED, GEOMETRY_TYPES, EditableCollection
from rigenera.labels import field_label
from rigenera.ogc.schema import ViewSchema

LOG = logging.getLogger(__name__)

# Fields whose format is a regular-expression CHECK constraint: (collection, field) -> name.
PATTERN_CONSTRAINTS = {("projects", "cup"): "projects_cup_format"}
# `CHECK ((cup ~ '^[A-Z]...$'::text))` -> the quoted expression.
_CHECK_REGEX = re.compile(r"~ '((?:[^']|'')*)'::text")

# PostgreSQL type names (udt of the view, cast names of the editing model) -> model types.
_TYPES = {
    "text": "text", "varchar": "text", "int2": "integer", "int4": "integer", "int8": "bigint",
    "numeric": "numeric", "float4": "double", "float8": "double", "date": "date",
    "bool": "boolean", "_text": "text[]", "_int8": "bigint[]", "timestamptz": "timestamptz",
    "smallint": "integer", "integer": "integer", "bigint": "bigint",
    "double precision": "double", "boolean": "boolean", "text[]": "text[]",
    "bigint[]": "bigint[]",
}


async def load_patterns(conn: asyncpg.Connection) -> dict[tuple[str, str], str]:
    """The regular expressions of PATTERN_CONSTRAINTS, read from the database's definitions."""
    rows = await conn.fetch(
        "SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint"
        " WHERE conname = ANY($1::text[]) AND connamespace = 'rigenera'::regnamespace",
        list(PATTERN_CONSTRAINTS.values()))
    defs = {r["conname"]: r["def"] for r in rows}
    out: dict[tuple[str, str], str] = {}
    for key, name in PATTERN_CONSTRAINTS.items():
        m = _CHECK_REGEX.search(defs.get(name, ""))
        if m is None:
            LOG.warning("constraint %s not found or not a regular expression: no pattern", name)
            continue
        out[key] = m.group(1).replace("''", "'")
    return out


def _enum(cid: str, name: str) -> list[dict[str, str]] | None:
    labels = DOMAINS.get((cid, name))
    if labels is None:
        return None
    return [{"code": code, "it": it, "en": en} for code, (it, en) in labels.items()]


def describe(schema: ViewSchema, editable: EditableCollection | None,
             patterns: dict[tuple[str, str], str]) -> dict[str, Any]:
    """One collection's model: published columns (not geom), writable ones with their rules."""
    coll = schema.collection
    cid = coll.id
    fields: list[dict[str, Any]] = []
    for column in schema.columns:
        writable = editable.fields.get(column.name) if editable is not None else None
        it, en = field_label(cid, column.name)
        # A writable field is described as the server checks it (storage type, precision).
        sql_type = writable.sql_type if writable is not None else column.udt
        out: dict[str, Any] = {
            "name": column.name,
            "type": _TYPES.get(sql_type, "text"),
            "label": {"it": it, "en": en},
            "required": writable.required if writable is not None else False,
            "read_only": writable is None,
        }
        enum = _enum(cid, column.name)
        if enum is not None:
            out["enum"] = enum
        if (cid, column.name) in patterns:
            out["pattern"] = patterns[(cid, column.name)]
        if writable is not None and writable.max_abs is not None:
            out["max_abs"] = writable.max_abs
        fields.append(out)
    if editable is not None:
        geometry_types = sorted(GEOMETRY_TYPES[cid])
        geometry_required = GEOMETRY_REQUIRED[cid]
    else:
        geometry_types = [coll.geometry.upper()] if coll.geometry else []
        geometry_required = True
    return {
        "id": cid,
        "title": dict(coll.title),
        "id_field": coll.id_field,
        "editable": editable is not None and coll.editable,
        "geometry_types": geometry_types,
        "geometry_required": geometry_required,
        "fields": fields,
    }


def describe_all(schemas: dict[str, ViewSchema], editable: dict[str, EditableCollection],
                 patterns: dict[tuple[str, str], str]) -> dict[str, dict[str, Any]]:
    """Every published collection's model, by collection id (built once at start-up)."""
    return {cid: describe(schema, editable.get(cid) if BY_ID[cid].editable else None, patterns)
            for cid, schema in schemas.items()}
