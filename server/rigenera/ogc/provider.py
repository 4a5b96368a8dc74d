"""Our pygeoapi feature provider, loaded by dotted path from the config.

It extends pygeoapi's PostgreSQL provider (never a fork) in three places:

* CQL2 spatial predicates: pygeoapi tags filter geometries with the storage
  CRS name; for CRS84 that becomes ``SRID=CRS84;...`` which PostGIS rejects
  (500). CRS84 and EPSG:4326 share PostGIS SRID 4326 in lon/lat order, so we
  rename the CRS on every geometry literal before pygeofilter builds the SQL.
  This is the one place the bug is fixed (regression test:
  tests/test_ogc_filters.py).
* ``BUFFER_M(geometry, metres)``: a CQL2 function that buffers a literal by a
  distance in metres on the spheroid, so "within X metres" is expressible in
  standard CQL2 (pygeofilter's CQL2 grammar has no DWITHIN):
  ``S_INTERSECTS(geometry, BUFFER_M(POINT(9.19 45.46), 500))``.
* CQL2-JSON functions in the CQL2 1.0 form, ``{"op": "buffer_m", "args": [...]}``,
  besides pygeofilter's own ``{"function": {"name", "arguments"}}``
  (``cql2_json_functions``, applied before parsing on both read paths).
* Errors: a filter on an unknown property, with a value of the wrong type or
  with a literal PostgreSQL cannot take (ogc/literals.py: `1e400`, NUL, an
  invalid geometry) is the client's mistake, so it becomes a 400 with a message,
  not a 500; a database that is away is a 503 (pygeoapi says "not found" or 500).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pygeofilter.ast
import pygeofilter.values
from geoalchemy2 import Geography, Geometry
from pygeoapi.models.provider.base import TileMatrixSetEnum
from pygeoapi.provider.base import (
    ProviderConnectionError,
    ProviderInvalidQueryError,
    ProviderItemNotFoundError,
)
from pygeoapi.provider.mvt_postgresql import MVTPostgreSQLProvider
from pygeoapi.provider.sql import PostgreSQLProvider, get_engine
from pygeofilter.backends.evaluator import handle
from pygeofilter.backends.sqlalchemy.evaluate import SQLAlchemyFilterEvaluator
from pygeofilter.cql2 import BINARY_OP_PREDICATES_MAP
from sqlalchemy import ARRAY, Engine, cast, func
from sqlalchemy.exc import DataError, ProgrammingError

from rigenera.database import router_for, sync_read
from rigenera.errors import database_unavailable
from rigenera.ogc.literals import check_filter_literals

_CRS84_NAMES = {
    "urn:ogc:def:crs:OGC::CRS84",
    "urn:ogc:def:crs:OGC:1.3:CRS84",
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "OGC:CRS84",
}
_EPSG4326_URN = "urn:ogc:def:crs:EPSG::4326"
# Segments per quarter circle of a metric buffer: 32 keeps the polygon within
# 0.05 % of the true circle (0.24 m at 500 m).
_BUFFER_QUAD_SEGS = 32
_MAX_BUFFER_M = 50_000


# The operators pygeofilter's CQL2-JSON parser knows; any other {"op", "args"} is a
# function call in CQL2 1.0 (the standard's `functionRef`).
_CQL2_JSON_OPS = frozenset({"and", "or", "not", "isNull", "between", "like", "in", "casei",
                            *BINARY_OP_PREDICATES_MAP})


def cql2_json_functions(node: Any) -> Any:
    """A CQL2-JSON document with CQL2 1.0 function calls (``{"op": "buffer_m", "args":
    [...]}``) rewritten into the form pygeofilter parses (``{"function": {"name",
    "arguments"}}``). pygeofilter 0.3 knows only the latter (draft CQL2) and answers
    "Unable to parse" to the standard form."""
    if isinstance(node, list):
        return [cql2_json_functions(n) for n in node]
    if not isinstance(node, dict) or ("type" in node and "coordinates" in node):
        return node  # a value or a GeoJSON geometry literal
    out = {k: cql2_json_functions(v) for k, v in node.items()}
    op, args = node.get("op"), out.get("args")
    if isinstance(op, str) and op not in _CQL2_JSON_OPS and isinstance(args, list):
        return {"function": {"name": op, "arguments": args}}
    return out


def _nodes(node: Any) -> Iterator[Any]:
    """Every node of a pygeofilter AST, function arguments included."""
    yield node
    subs = node.get_sub_nodes() if hasattr(node, "get_sub_nodes") else None
    if subs is None and isinstance(node, pygeofilter.ast.Function):
        subs = node.arguments
    for sub in subs or []:
        yield from _nodes(sub)


def crs84_to_epsg4326(node: Any) -> Any:
    """Return a copy of a pygeofilter AST whose geometry literals say EPSG:4326, not CRS84."""
    tree = copy.deepcopy(node)
    for n in _nodes(tree):
        if isinstance(n, pygeofilter.values.Geometry):
            name = n.geometry.get("crs", {}).get("properties", {}).get("name")
            if name in _CRS84_NAMES or name is None:
                n.geometry["crs"] = {"type": "name", "properties": {"name": _EPSG4326_URN}}
    return tree


class _Evaluator(SQLAlchemyFilterEvaluator):  # type: ignore[misc]
    """pygeofilter's SQLAlchemy evaluator plus our CQL2 functions."""

    @handle(pygeofilter.ast.Function)  # type: ignore[untyped-decorator]
    def function(self, node: Any, *arguments: Any) -> Any:
        name = node.name.lower()
        if name == "buffer_m":
            if len(arguments) != 2 or not isinstance(arguments[1], int | float):
                raise ProviderInvalidQueryError(
                    user_msg="BUFFER_M richiede (geometria, metri) / BUFFER_M takes (geometry, metres)"
                )
            metres = float(arguments[1])
            if not 0 <= metres <= _MAX_BUFFER_M:
                raise ProviderInvalidQueryError(
                    user_msg=f"BUFFER_M: distanza tra 0 e {_MAX_BUFFER_M} m / distance must be "
                    f"between 0 and {_MAX_BUFFER_M} m"
                )
            geog = cast(arguments[0], Geography)
            buffered = func.ST_Buffer(geog, metres, f"quad_segs={_BUFFER_QUAD_SEGS}")
            return cast(buffered, Geometry(srid=4326))
        if name == "lower":
            return func.lower(*arguments)
        raise ProviderInvalidQueryError(
            user_msg=f"Funzione CQL2 non supportata / unsupported CQL2 function: {node.name}"
        )


def filter_evaluator(ast: Any, field_mapping: dict[str, Any]) -> Any:
    """CQL2 AST -> SQLAlchemy expression, shared by this provider and the fast path.

    Literals are checked first (ogc/literals.py): both paths refuse the same filters."""
    check_filter_literals(ast)
    unknown = _attribute_names(ast) - set(field_mapping)
    if unknown:
        raise ProviderInvalidQueryError(
            user_msg="Proprietà sconosciute nel filtro / unknown properties in filter: "
            + ", ".join(sorted(unknown))
        )
    return _Evaluator(field_mapping, None).evaluate(ast)


def _raise_if_database_away(exc: BaseException) -> None:
    """pygeoapi hides a database that is away as "not found" (get) or as a 500
    (ProviderConnectionError): raise it as what it is, a 503 (errors.py)."""
    for candidate in (exc, exc.__cause__, exc.__context__):
        away = database_unavailable(candidate) if candidate is not None else None
        if away is not None:
            raise away from exc


# The engine of the server chosen for the current read (a replica's), set around one
# query or get in the request's thread; unset: the primary's.
_READ_ENGINE: ContextVar[Engine | None] = ContextVar("rigenera_read_engine", default=None)


class RigeneraPostgreSQLProvider(PostgreSQLProvider):  # type: ignore[misc]
    """pygeoapi's PostgreSQL provider with the CRS84 fix, BUFFER_M and 4xx errors; its
    reads go to a replica in rotation when the app has any (database.sync_read)."""

    def __init__(self, provider_def: dict[str, Any]) -> None:
        try:
            super().__init__(provider_def)
        except ProviderConnectionError as exc:
            _raise_if_database_away(exc)
            raise

    # pygeoapi opens its sessions on self._engine: the primary's, set by its __init__
    # (which also reflects the table there), unless a read is routed to a replica.
    @property
    def _engine(self) -> Engine:
        return _READ_ENGINE.get() or self._primary_engine

    @_engine.setter
    def _engine(self, engine: Engine) -> None:
        self._primary_engine = engine

    def _engine_of(self, dsn: str) -> Engine:
        from rigenera.ogc.config import connection_params

        p = connection_params(dsn)
        engine: Engine = get_engine(self.driver_name, p["host"], p["port"], p["dbname"],
                                    p["user"], p["password"], None, **self.db_options)
        return engine

    def _routed[T](self, read: Callable[[], T]) -> T:
        primary = f"{self.db_host}:{self.db_port}/{self.db_name}"
        if router_for(primary) is None:
            return read()

        def on(dsn: str) -> T:
            token = _READ_ENGINE.set(None if "://" not in dsn else self._engine_of(dsn))
            try:
                return read()
            finally:
                _READ_ENGINE.reset(token)

        return sync_read(primary, on)

    def get(self, identifier: Any, **kwargs: Any) -> dict[str, Any]:
        def read() -> dict[str, Any]:
            try:
                return super(RigeneraPostgreSQLProvider, self).get(  # type: ignore[no-any-return]
                    identifier, **kwargs)
            except ProviderItemNotFoundError as exc:
                _raise_if_database_away(exc)
                raise

        return self._routed(read)

    def _get_cql_filters(self, filterq: Any) -> Any:
        if not filterq:
            return True
        filterq = crs84_to_epsg4326(filterq)
        columns = self.table_model.__table__.columns.keys()
        field_mapping = {name: getattr(self.table_model, name) for name in columns}
        field_mapping["geometry"] = getattr(self.table_model, self.geom)
        return filter_evaluator(filterq, field_mapping)

    def get_fields(self) -> dict[str, Any]:
        """JSON-schema types of the columns, arrays included (pygeoapi logs a warning per
        array column on every request and calls them strings)."""
        if not self._fields:
            for column in self.table_model.__table__.columns:
                if column.name == self.geom:
                    continue
                self._fields[str(column.name)] = _json_schema_type(column.type)
        return self._fields  # type: ignore[no-any-return]

    def _get_datetime_filter(self, datetime_: Any) -> Any:
        if datetime_ not in (None, "../..") and self.time_field is None:
            raise ProviderInvalidQueryError(
                user_msg="Questa collezione non ha una dimensione temporale: parametro datetime "
                "non applicabile / this collection has no temporal dimension: datetime not applicable"
            )
        return super()._get_datetime_filter(datetime_)

    def query(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return self._routed(lambda: super(RigeneraPostgreSQLProvider, self).query(
                *args, **kwargs))
        except (DataError, ProgrammingError) as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise ProviderInvalidQueryError(
                user_msg=f"Filtro non valido / invalid filter: {reason}"
            ) from exc


_PY_TO_JSON = {bool: "boolean", int: "integer", float: "number", Decimal: "number",
               str: "string", dict: "object", datetime: "string", date: "string"}
_FORMATS = {date: "date", datetime: "date-time"}


def _json_schema_type(column_type: Any) -> dict[str, Any]:
    if isinstance(column_type, ARRAY):
        return {"type": "array", "items": _json_schema_type(column_type.item_type)}
    try:
        py = column_type.python_type
    except NotImplementedError:
        return {"type": "string", "format": None}
    return {"type": _PY_TO_JSON.get(py, "string"), "format": _FORMATS.get(py)}


def _attribute_names(node: Any) -> set[str]:
    return {n.name for n in _nodes(node) if isinstance(n, pygeofilter.ast.Attribute)}


class RigeneraMVTProvider(MVTPostgreSQLProvider):  # type: ignore[misc]
    """Describes our tilesets: WebMercatorQuad only (the tiles come from rigenera.ogc.tiles).

    pygeoapi's MVT-postgresql also advertises WorldCRS84Quad, which we do not serve.
    """

    def __init__(self, provider_def: dict[str, Any]) -> None:
        try:
            super().__init__(provider_def)
        except ProviderConnectionError as exc:
            _raise_if_database_away(exc)
            raise

    def get_tiling_schemes(self) -> list[Any]:
        return [TileMatrixSetEnum.WEBMERCATORQUAD.value]
