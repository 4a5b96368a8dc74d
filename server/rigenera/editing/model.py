"""What may be written, per collection: columns, types, required fields, geometry kinds.

Read from the storage tables' catalog at start-up, minus what no client may
set (keys, bookkeeping, generated columns, the review status), so the
whitelist can never fall behind a migration.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from rigenera.domains import DOMAINS

# Never written by clients: kept by triggers, generated, or owned by the review flow.
_SYSTEM = {"id", "version", "created_at", "created_by", "updated_at", "updated_by",
           "geom", "geom_3857", "validation_status", "surface_m2", "length_m", "area_m2"}
# Geometry types each collection accepts (GeometryType() names). Lines are stored
# as MultiLineString; a LineString is promoted.
GEOMETRY_TYPES: dict[str, frozenset[str]] = {
    "sites": frozenset({"POLYGON", "MULTIPOLYGON", "POINT"}),
    "projects": frozenset({"POINT", "MULTIPOINT", "LINESTRING", "MULTILINESTRING", "POLYGON",
                           "MULTIPOLYGON", "GEOMETRYCOLLECTION"}),
    "mobility_links": frozenset({"LINESTRING", "MULTILINESTRING"}),
    "transit_stops": frozenset({"POINT"}),
    # Issue 11: a need may have a place (a point or an area); calls and the records of a
    # project (progress, milestones, tenders) have no geometry column at all.
    "needs": frozenset({"POINT", "POLYGON", "MULTIPOLYGON"}),
    "calls": frozenset(),
    "progress_reports": frozenset(),
    "milestones": frozenset(),
    "tenders": frozenset(),
}
GEOMETRY_REQUIRED = {"sites": True, "projects": False, "mobility_links": True,
                     "transit_stops": True, "needs": False, "calls": False,
                     "progress_reports": False, "milestones": False, "tenders": False}
# Written by the office only (admin, coordinator): a technician's reach does not apply.
OFFICE_ONLY = frozenset({"calls"})
# A project's records: their reach is their project's (rigenera.project_reach_problems).
PROJECT_RECORDS = ("progress_reports", "milestones", "tenders")
EDITABLE = tuple(GEOMETRY_TYPES)
# Relations of a project, written to their join tables.
PROJECT_RELATIONS = {"istat_codes": "text[]", "site_ids": "bigint[]"}


@dataclass(frozen=True)
class Field:
    name: str
    sql_type: str  # for casts: text, integer, bigint, numeric, date, boolean, text[]
    required: bool  # NOT NULL without a default: must be given on create
    choices: tuple[str, ...] = ()
    max_abs: float | None = None  # numeric(p, s): |value| < 10^(p - s)


@dataclass(frozen=True)
class EditableCollection:
    id: str
    fields: dict[str, Field] = field(default_factory=dict)

    @property
    def table(self) -> str:
        return f'rigenera."{self.id}"'

    @property
    def geometry_types(self) -> frozenset[str]:
        return GEOMETRY_TYPES[self.id]

    @property
    def geometry_required(self) -> bool:
        return GEOMETRY_REQUIRED[self.id]

    @property
    def has_geometry(self) -> bool:
        """False for tables without a geometry column (calls, a project's records)."""
        return bool(GEOMETRY_TYPES[self.id])


_CASTS = {"int2": "smallint", "int4": "integer", "int8": "bigint", "numeric": "numeric",
          "float8": "double precision", "text": "text", "date": "date", "bool": "boolean",
          "timestamptz": "timestamptz", "_text": "text[]"}


async def load_editable(conn: asyncpg.Connection) -> dict[str, EditableCollection]:
    rows = await conn.fetch(
        """SELECT table_name, column_name, udt_name, is_nullable, column_default,
                  is_generated, numeric_precision, numeric_scale
             FROM information_schema.columns
            WHERE table_schema = 'rigenera' AND table_name = ANY($1::text[])
            ORDER BY table_name, ordinal_position""", list(EDITABLE))
    out: dict[str, EditableCollection] = {cid: EditableCollection(cid) for cid in EDITABLE}
    for r in rows:
        name = r["column_name"]
        if name in _SYSTEM or r["is_generated"] == "ALWAYS":
            continue
        cid = r["table_name"]
        # Filled in by the service when not given: a site's comune from its geometry,
        # the source from the account that writes.
        derived = (cid in ("sites", "needs") and name == "istat_code") or name == "source"
        required = r["is_nullable"] == "NO" and r["column_default"] is None and not derived
        choices = tuple(DOMAINS.get((cid, name), {}))
        max_abs = None
        if r["udt_name"] == "numeric" and r["numeric_precision"] is not None:
            max_abs = 10.0 ** (r["numeric_precision"] - (r["numeric_scale"] or 0))
        out[cid].fields[name] = Field(name, _CASTS.get(r["udt_name"], "text"), required, choices,
                                      max_abs)
    for rel, cast in PROJECT_RELATIONS.items():
        out["projects"].fields[rel] = Field(rel, cast, False)
    return out
