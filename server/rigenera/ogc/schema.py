"""What each published view looks like, read once from PostgreSQL at start-up.

The fast read path builds its SQL from this: the column list, each column's
SQL type (for casting query-string values), and the JSON fragment that
renders it. Identifiers come from the catalogue and the database catalog,
never from a request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql as pg

from rigenera.catalogue import COLLECTIONS, Collection

# Types rendered with a plain ::text cast (valid JSON as they are); everything
# else goes through to_json() for correct quoting and escaping.
_NUMERIC_TEXT = {"int2", "int4", "int8", "bool"}

_SA_TYPES: dict[str, sa.types.TypeEngine[Any]] = {
    "int2": sa.SmallInteger(), "int4": sa.Integer(), "int8": sa.BigInteger(),
    "float4": sa.Float(), "float8": sa.Float(), "numeric": sa.Numeric(),
    "bool": sa.Boolean(), "text": sa.Text(), "varchar": sa.Text(), "date": sa.Date(),
    "timestamptz": sa.DateTime(timezone=True), "timestamp": sa.DateTime(),
    "_text": pg.ARRAY(sa.Text()), "_int8": pg.ARRAY(sa.BigInteger()),
    "_int4": pg.ARRAY(sa.Integer()),
}


@dataclass(frozen=True)
class Column:
    name: str
    udt: str  # PostgreSQL type name, e.g. int4, text, _text

    @property
    def json_sql(self) -> str:
        """SQL rendering this column of alias ``t`` as a JSON value."""
        ref = f't."{self.name}"'
        if self.udt in _NUMERIC_TEXT:
            return f"coalesce({ref}::text, 'null')"
        return f"coalesce(to_json({ref})::text, 'null')"

    @property
    def cast(self) -> str:
        """The SQL type to cast a query-string value to."""
        return {"_text": "text[]", "_int8": "bigint[]", "_int4": "integer[]"}.get(self.udt, self.udt)


@dataclass(frozen=True)
class ViewSchema:
    collection: Collection
    columns: tuple[Column, ...]
    geom_column: str = "geom"
    by_name: dict[str, Column] = field(default_factory=dict)

    @property
    def id_field(self) -> str:
        return self.collection.id_field

    @property
    def relation(self) -> str:
        return f'pub."{self.collection.id}"'

    def sa_table(self) -> sa.TableClause:
        """A SQLAlchemy table (alias ``t``) for compiling CQL2 filters with pygeofilter."""
        cols = [sa.column(c.name, _SA_TYPES.get(c.udt, sa.Text())) for c in self.columns]
        cols.append(sa.column(self.geom_column, Geometry(srid=4326)))
        return sa.table("t", *cols)


# The published views' columns in view order (geometry columns left out by build_schemas).
COLUMNS_SQL = """SELECT c.table_name, c.column_name, c.udt_name
                   FROM information_schema.columns c
                  WHERE c.table_schema = 'pub'
                  ORDER BY c.table_name, c.ordinal_position"""


def build_schemas(rows: Iterable[tuple[str, str, str]]) -> dict[str, ViewSchema]:
    """(view, column, udt) rows of COLUMNS_SQL -> each collection's schema."""
    by_view: dict[str, list[Column]] = {}
    for table, column, udt in rows:
        if udt == "geometry":
            continue
        by_view.setdefault(table, []).append(Column(column, udt))
    out: dict[str, ViewSchema] = {}
    for coll in COLLECTIONS:
        cols = tuple(by_view[coll.id])
        out[coll.id] = ViewSchema(coll, cols, by_name={c.name: c for c in cols})
    return out


async def load_schemas(conn: asyncpg.Connection) -> dict[str, ViewSchema]:
    rows = await conn.fetch(COLUMNS_SQL)
    return build_schemas((r["table_name"], r["column_name"], r["udt_name"]) for r in rows)
