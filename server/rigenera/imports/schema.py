"""What a target table accepts, read from PostgreSQL itself (never a second list).

The engine stages rows in a table shaped like the target's writable columns and
checks them with the target's own rules: every CHECK constraint (named
``<table>_<column>_<rule>``, so a failure names its field), NOT NULL columns
without a default, foreign keys. Reading them from ``pg_catalog`` keeps the
engine in step with the migrations.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from psycopg2.extensions import cursor as Cursor

from rigenera.errors import _field_of_constraint

SQL_DIR = Path(__file__).with_name("sql")

# Never written by an import: keys and bookkeeping (kept by triggers), derived values,
# the review state (an import cannot validate its own rows), and the geometry, which
# comes from the Frame's `_geom`.
NOT_IMPORTED = frozenset({
    "id", "version", "created_at", "created_by", "updated_at", "updated_by", "geom",
    "geom_3857", "surface_m2", "length_m", "area_m2", "geometry_kind", "validation_status",
})
# Extra Frame columns of projects: child rows.
PROJECT_CHILDREN = ("istat_codes", "site_ids", "funding")


def sql(name: str) -> str:
    """The text of ``imports/sql/<name>.sql``."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Column:
    name: str
    type: str            # format_type(): 'text', 'numeric(14,2)', 'date', 'text[]'...
    not_null: bool
    default: str | None  # the default expression, None when there is none


@dataclass(frozen=True)
class Check:
    name: str
    expr: str            # the boolean expression of CHECK (...)
    field: str           # the field it guards (errors._field_of_constraint)


@dataclass(frozen=True)
class ForeignKey:
    name: str
    column: str
    ref_table: str
    ref_column: str


@dataclass(frozen=True)
class Target:
    """One collection's storage table: its writable columns and rules."""

    collection: str
    table: str
    columns: dict[str, Column]
    checks: tuple[Check, ...]
    foreign_keys: tuple[ForeignKey, ...]
    geom_type: str        # typmod of geom: 'Geometry', 'MultiLineString', 'Point'
    geom_not_null: bool
    has_geom: bool = True  # False: no geometry column (calls)

    @property
    def writable(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c not in NOT_IMPORTED)


_CACHE: dict[tuple[str, str], Target] = {}


def describe(cur: Cursor, collection: str) -> Target:
    """The target of `collection`, read from the catalogue (cached per database)."""
    params = cur.connection.get_dsn_parameters()
    dbkey = (f"{params.get('host')}:{params.get('port')}/{params.get('dbname')}", collection)
    if dbkey in _CACHE:
        return _CACHE[dbkey]
    table = f"rigenera.{collection}"
    cur.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,"
        "       pg_get_expr(d.adbin, d.adrelid), a.attgenerated <> ''"
        "  FROM pg_attribute a LEFT JOIN pg_attrdef d"
        "       ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
        " WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped"
        " ORDER BY a.attnum", (table,))
    columns: dict[str, Column] = {}
    geom_type, geom_not_null, has_geom = "Geometry", False, False
    for name, typ, not_null, default, generated in cur.fetchall():
        if name == "geom":
            geom_type = typ.split("(")[1].split(",")[0] if "(" in typ else "Geometry"
            geom_not_null, has_geom = bool(not_null), True
        if generated:
            continue
        columns[name] = Column(name, typ, bool(not_null), default)
    cur.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype = 'c' ORDER BY conname", (table,))
    checks = []
    for name, definition in cur.fetchall():
        expr = definition.strip()
        if expr.upper().startswith("CHECK "):
            expr = expr[len("CHECK "):].strip()
        checks.append(Check(name, expr, _field_of_constraint(collection, name)))
    cur.execute(
        "SELECT c.conname, a.attname, c.confrelid::regclass::text, fa.attname"
        "  FROM pg_constraint c"
        "  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
        "  JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1]"
        " WHERE c.conrelid = %s::regclass AND c.contype = 'f' AND cardinality(c.conkey) = 1"
        " ORDER BY c.conname", (table,))
    fks = tuple(ForeignKey(*row) for row in cur.fetchall())
    target = Target(collection, table, columns, tuple(checks), fks, geom_type, geom_not_null,
                    has_geom)
    _CACHE[dbkey] = target
    return target
