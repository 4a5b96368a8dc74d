"""What an export reads: the published view, its filter, its sources, its rows as Arrow.

The filter is the OGC read path's: parsed by ``ogc.params.parse_filter`` (CQL2 text or
JSON, ``filter-lang``, ``filter-crs``), checked and compiled by ``provider.filter_evaluator``
through ``ogc.features.compile_filter`` (literal checks, unknown properties, BUFFER_M),
here for psycopg2. So an export answers exactly the filter the items answer, and refuses
the same filters with the same 400 naming `filter`.

Rows come from a server-side cursor in batches of ``BATCH_ROWS`` and leave as Arrow
record batches (geometry as WKB), so memory holds one batch whatever the size of the
collection. Lists (`istat_codes`, `programme_codes`, `lines`...) stay lists for GeoJSON
and are joined with ``LIST_SEPARATOR`` for the tabular formats and GeoPackage (no list
type there): the import engine splits them back.
"""

from __future__ import annotations

import contextlib
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import psycopg2
import psycopg2.errors
import pyarrow as pa
from sqlalchemy.dialects.postgresql import psycopg2 as sa_psycopg2
from starlette.datastructures import QueryParams

from rigenera.catalogue import BY_ID
from rigenera.errors import InvalidParameter, NotFound
from rigenera.ogc.features import compile_filter
from rigenera.ogc.params import bad, parse_filter
from rigenera.ogc.schema import COLUMNS_SQL, ViewSchema, build_schemas

BATCH_ROWS = 5_000
LIST_SEPARATOR = ","
ISTAT_CODE = re.compile(r"^[0-9]{6}$")
MAX_COMUNI = 133  # the metropolitan area's comuni
# A slow export must not hold a connection for ever.
STATEMENT_TIMEOUT_MS = 600_000
_DIALECT = sa_psycopg2.dialect()  # type: ignore[no-untyped-call]
_SQL = {name: string.Template(resources.files("rigenera.exports").joinpath(f"{name}.sql")
                              .read_text())
        for name in ("rows", "sources")}
_COMUNI_SQL = resources.files("rigenera.exports").joinpath("comuni.sql").read_text()
# How each collection is restricted to some comuni.
_BY_COMUNI = {
    "sites": "t.istat_code = ANY(%(_comuni)s::text[])",
    "transit_stops": "t.istat_code = ANY(%(_comuni)s::text[])",
    "comuni": "t.istat_code = ANY(%(_comuni)s::text[])",
    "projects": "t.istat_codes && %(_comuni)s::text[]",
    "mobility_links": "EXISTS (SELECT 1 FROM rigenera.comuni c WHERE c.istat_code = "
                      "ANY(%(_comuni)s::text[]) AND c.geom && t.geom AND ST_Intersects(c.geom, t.geom))",
    # Issue 11: a need is its comune's; a call, of the comuni it admits.
    "needs": "t.istat_code = ANY(%(_comuni)s::text[])",
    "calls": "t.eligible_istat_codes && %(_comuni)s::text[]",
}
_ARROW = {"int2": pa.int32(), "int4": pa.int32(), "int8": pa.int64(), "float4": pa.float64(),
          "float8": pa.float64(), "numeric": pa.float64(), "bool": pa.bool_(),
          "date": pa.date32(), "timestamptz": pa.timestamp("us", tz="UTC"),
          "timestamp": pa.timestamp("us"), "_text": pa.list_(pa.string()),
          "_int8": pa.list_(pa.int64()), "_int4": pa.list_(pa.int64())}


@dataclass
class ExportQuery:
    """A validated export request: collection, filter (AST and text), comuni."""

    collection: str
    cql: Any = None
    filter_text: str | None = None
    comuni: list[str] = field(default_factory=list)


def parse_request(collection: str, filter_text: str | None, filter_lang: str | None = None,
                  comuni: str | None = None, filter_crs: str | None = None) -> ExportQuery:
    """Check what the client asked, before the database is touched: 404 for an unknown
    collection, 400 naming `filter` or `comuni`."""
    if collection not in BY_ID:
        raise NotFound(f"Collezione '{collection}' sconosciuta / unknown collection")
    params = {k: v for k, v in (("filter", filter_text), ("filter-lang", filter_lang),
                                ("filter-crs", filter_crs)) if v is not None}
    cql = parse_filter(QueryParams(params)) if params else None
    codes: list[str] = []
    if comuni is not None:
        codes = sorted({c.strip() for c in comuni.split(",") if c.strip()})
        wrong = [c for c in codes if not ISTAT_CODE.match(c)]
        if wrong or not codes or len(codes) > MAX_COMUNI:
            reason = (f"codici ISTAT di 6 cifre separati da virgole / 6-digit ISTAT codes "
                      f"separated by commas (at most {MAX_COMUNI})")
            raise InvalidParameter(f"comuni: {reason}", errors=[
                {"field": "comuni", "reason": reason + (f": {', '.join(wrong[:5])}" if wrong else "")}])
    return ExportQuery(collection, cql, filter_text, codes)


def close(conn: Any) -> None:
    """End the export's read-only transaction; a connection already lost is left as it is
    (its error is the one to report)."""
    if not conn.closed:
        with contextlib.suppress(psycopg2.Error):
            conn.rollback()
    conn.close()


def connect(dsn: str) -> Any:
    """A read-only, repeatable-read connection: the sources and the rows of an export are
    read from one snapshot, so the attribution lists exactly the sources of the rows."""
    conn = psycopg2.connect(dsn, options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"
                                         " -c TimeZone=UTC -c jit=off -c application_name=rigenera-export")
    conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
    return conn


def load_schema(conn: Any, collection: str) -> ViewSchema:
    with conn.cursor() as cur:
        cur.execute(COLUMNS_SQL)
        return build_schemas(cur.fetchall())[collection]


def check_comuni(conn: Any, codes: list[str]) -> None:
    """Codes that are no comune of the metropolitan area are a 400 naming `comuni`."""
    if not codes:
        return
    with conn.cursor() as cur:
        cur.execute(_COMUNI_SQL, {"codes": codes})
        known = {r[0] for r in cur.fetchall()}
    unknown = [c for c in codes if c not in known]
    if unknown:
        reason = "comuni sconosciuti / unknown comuni: " + ", ".join(unknown[:10])
        raise InvalidParameter(f"comuni: {reason}", errors=[{"field": "comuni", "reason": reason}])


def where_clause(schema: ViewSchema, q: ExportQuery) -> tuple[str, dict[str, Any]]:
    """The WHERE text (psycopg2 %(name)s parameters) and its parameters."""
    clauses, params = ["true"], {}
    if q.cql is not None:
        compiled = compile_filter(q.cql, schema, _DIALECT)
        clauses.append(f"({compiled})")
        params.update(compiled.params)
    if q.comuni:
        clauses.append(_BY_COMUNI[q.collection])
        params["_comuni"] = q.comuni
    return " AND ".join(clauses), params


def _select(schema: ViewSchema, lists_as_text: bool) -> tuple[str, pa.Schema]:
    exprs, fields = [], []
    for c in schema.columns:
        ref = f't."{c.name}"'
        kind = _ARROW.get(c.udt, pa.string())
        if lists_as_text and pa.types.is_list(kind):
            exprs.append(f"array_to_string({ref}, '{LIST_SEPARATOR}') AS \"{c.name}\"")
            kind = pa.string()
        elif c.udt == "numeric":
            exprs.append(f"{ref}::float8")
        else:
            exprs.append(ref)
        fields.append(pa.field(c.name, kind))
    return ", ".join(exprs), pa.schema(fields)


def _translate(exc: psycopg2.Error) -> InvalidParameter | None:
    """A filter PostgreSQL cannot evaluate (a text compared with a number...) is the
    client's mistake: 400 naming `filter`, as on the read path."""
    if isinstance(exc, psycopg2.errors.DataError | psycopg2.errors.UndefinedFunction
                  | psycopg2.errors.InvalidTextRepresentation):
        reason = (exc.diag.message_primary or str(exc)).splitlines()[0]
        return bad("filter", f"Filtro non valido / invalid filter: {reason}")
    return None


def read_sources(conn: Any, schema: ViewSchema, where: str,
                 params: dict[str, Any]) -> list[tuple[str, int]]:
    sql = _SQL["sources"].substitute(relation=schema.relation, where=where)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return [(str(s), int(n)) for s, n in cur.fetchall()]
    except psycopg2.Error as exc:
        mapped = _translate(exc)
        if mapped is not None:
            raise mapped from exc
        raise


def arrow_schema(schema: ViewSchema, lists_as_text: bool) -> pa.Schema:
    """The Arrow schema of the batches `read_batches` yields (geometry as `_wkb`)."""
    return _select(schema, lists_as_text)[1].append(pa.field("_wkb", pa.binary()))


def read_batches(conn: Any, schema: ViewSchema, where: str, params: dict[str, Any],
                 lists_as_text: bool) -> Iterator[pa.RecordBatch]:
    """The rows in id order as Arrow record batches of at most BATCH_ROWS rows."""
    columns, _ = _select(schema, lists_as_text)
    target = arrow_schema(schema, lists_as_text)
    sql = _SQL["rows"].substitute(columns=columns, relation=schema.relation, where=where,
                                  id=schema.id_field)
    cur = conn.cursor(name="rigenera_export")
    cur.itersize = BATCH_ROWS
    try:
        cur.execute(sql, params)
        while True:
            rows = cur.fetchmany(BATCH_ROWS)
            if not rows:
                break
            yield _batch(rows, target)
    except psycopg2.Error as exc:
        mapped = _translate(exc)
        if mapped is not None:
            raise mapped from exc
        raise
    finally:
        if not conn.closed:  # a lost connection: closing the cursor would hide why
            cur.close()


def _batch(rows: list[tuple[Any, ...]], target: pa.Schema) -> pa.RecordBatch:
    columns = list(zip(*rows, strict=True))
    wkb = [None if v is None else bytes(v) for v in columns[-1]]
    arrays = [pa.array(values, type=f.type) for values, f in zip(columns[:-1], target, strict=False)]
    arrays.append(pa.array(wkb, type=pa.binary()))
    return pa.RecordBatch.from_arrays(arrays, schema=target)
