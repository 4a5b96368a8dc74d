"""The fast read path for GeoJSON items: the whole FeatureCollection built in one SQL query.

pygeoapi's provider turns every row into Python objects, counts every match
and pages with OFFSET (FACTS.md: 22 req/s at limit=100, tipg 99, PostGIS
alone 353 tps). Here PostgreSQL writes the GeoJSON text of the page itself
(string concatenation, not json_build_object: half the CPU per feature),
numberMatched comes from a transactional row counter or a count of the
filtered set, paging by cursor (``after``) is an index seek, and Python only
splices the bytes into the envelope. Same URLs, same answers as pygeoapi:
HTML, JSON-LD, CSV and anything unusual fall back to pygeoapi.
"""

from __future__ import annotations

import json
import re
import string
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import asyncpg
import pygeofilter.ast as pg_ast
from pygeoapi.provider.base import ProviderGenericError
from sqlalchemy.dialects.postgresql import asyncpg as sa_asyncpg
from starlette.requests import Request
from starlette.responses import Response

from rigenera.errors import InvalidParameter, NotFound
from rigenera.ogc.caching import CACHE_CONTROL, etag_of, not_modified
from rigenera.ogc.params import ItemsQuery, bad, parse_items_query
from rigenera.ogc.provider import crs84_to_epsg4326, filter_evaluator
from rigenera.ogc.schema import ViewSchema

if TYPE_CHECKING:
    from rigenera.replicas import ReadRouter

GEOJSON = "application/geo+json"
_HEAD = b'{"type":"FeatureCollection","features":['
_PARAM_REF = re.compile(r"\$(\d+)")
_DIALECT = sa_asyncpg.dialect(paramstyle="numeric_dollar")  # type: ignore[no-untyped-call]
_TEMPLATES = {
    name: string.Template(resources.files("rigenera.sql").joinpath(f"{name}.sql").read_text())
    for name in ("items", "item")
}
# Formats the fast path serves; everything else (html, jsonld, csv) is pygeoapi's.
FAST_FORMATS = {None, "json", "geojson"}


class Params:
    """Positional $n parameters, shared by the compiled CQL2 filter and our own clauses."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def add(self, value: Any, cast: str | None = None) -> str:
        self.values.append(value)
        ref = f"${len(self.values)}"
        return f"{ref}::{cast}" if cast else ref


def compile_filter(ast: Any, schema: ViewSchema, dialect: Any) -> Any:
    """CQL2 AST -> a SQLAlchemy statement compiled for `dialect` over the view's alias ``t``,
    by the evaluator both read paths share (provider.filter_evaluator: literal checks,
    unknown properties, BUFFER_M). A filter it cannot take is a 400 naming `filter`.
    The exports compile the same filters for psycopg2 (rigenera/exports)."""
    table = schema.sa_table()
    mapping = {c.name: c for c in table.columns}
    mapping["geometry"] = table.c[schema.geom_column]
    try:
        expr = filter_evaluator(crs84_to_epsg4326(ast), mapping)
        return expr.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    except ProviderGenericError as exc:
        raise bad("filter", exc.message) from exc
    except Exception as exc:  # pygeofilter: unsupported node or operand types
        raise bad("filter", f"Filtro non supportato / unsupported filter: {exc}") from exc


def compile_cql(ast: Any, schema: ViewSchema, params: Params) -> str:
    """CQL2 AST -> SQL text with $n parameters (after those already in `params`)."""
    compiled = compile_filter(ast, schema, _DIALECT)
    names = compiled.positiontup or []
    # Renumber $1..$k after the parameters already collected (no literals are
    # rendered, so every $<digits> in the text is a parameter reference).
    base = len(params.values)
    sql = _PARAM_REF.sub(lambda m: f"${int(m.group(1)) + base}", str(compiled))
    for name in names:
        params.values.append(compiled.params[name])
    return sql


def _geometry_sql(q: ItemsQuery) -> str:
    if q.skip_geometry:
        return "'null'"
    g = "t.geom"
    if q.crs.srid != 4326:
        g = f"ST_Transform({g}, {q.crs.srid})"
    if q.crs.northing_first:
        g = f"ST_FlipCoordinates({g})"
    return f"coalesce(ST_AsGeoJSON({g}, {q.crs.decimals}), 'null')"


def _feature_sql(schema: ViewSchema, q: ItemsQuery) -> str:
    names = q.properties if q.properties is not None else [c.name for c in schema.columns]
    props = " || ',' || ".join(
        f"'{_json_key(n)}:' || {schema.by_name[n].json_sql}" for n in names
    ) or "''"
    ident = schema.by_name[schema.id_field].json_sql
    return (f"""'{{"type":"Feature","id":' || {ident} || ',"geometry":' || {_geometry_sql(q)}"""
            f""" || ',"properties":{{' || {props} || '}}}}'""")


def _json_key(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"').replace("'", "''") + '"'


def _where(schema: ViewSchema, q: ItemsQuery, params: Params) -> list[str]:
    clauses: list[str] = []
    if q.cql is not None:
        clauses.append(compile_cql(q.cql, schema, params))
    if q.bbox is not None:
        env = "ST_MakeEnvelope({}, {}, {}, {}, 4326)".format(
            *(params.add(v, "float8") for v in q.bbox))
        # Same result as ST_Intersects(geom, env); a feature whose bounding box lies
        # inside the rectangle is accepted from the box stored in its header, without
        # deserialising the geometry (1.5x faster on a page of 2,000 polygons).
        clauses.append(f"(t.geom && {env} AND (t.geom @ {env} OR ST_Intersects(t.geom, {env})))")
    for name, value in q.equals:
        col = schema.by_name[name]
        clauses.append(f't."{name}" = {params.add(value, "text")}::{col.cast}')
    return clauses


# Attribute filters count their matches only up to this many: beyond it the count
# would cost a scan of the whole table while the page itself stops after `limit`
# rows, so numberMatched is omitted (OGC API Features makes it optional).
COUNT_CAP = 2000


def _spatially_bounded(ast: Any) -> bool:
    """Does the CQL2 filter restrict the geometry in every match (an AND-chain holding a
    spatial predicate)? Then the GIST index bounds the scan to the matches."""
    spatial = (pg_ast.SpatialComparisonPredicate, pg_ast.Relate,
               pg_ast.SpatialDistancePredicate, pg_ast.BBox)
    if isinstance(ast, spatial):
        return True
    if isinstance(ast, pg_ast.And):
        return _spatially_bounded(ast.lhs) or _spatially_bounded(ast.rhs)
    return False


def count_mode(q: ItemsQuery) -> str:
    """How numberMatched is obtained:
    'counter' unfiltered: the transactional row counter (migration 0003), exact;
    'window'  the scan is bounded by the spatial index, so the page reads every match
              anyway: count(*) OVER () in the same scan, exact;
    'capped'  attribute filters: exact up to COUNT_CAP, else omitted;
    'full'    resulttype=hits: the client asked for the count itself, exact."""
    if not q.filtered:
        return "counter"
    if q.hits:
        return "full"
    if q.bbox is not None or (q.cql is not None and _spatially_bounded(q.cql)):
        return "window"
    return "capped"


def build_items_sql(schema: ViewSchema, q: ItemsQuery) -> tuple[str, list[Any]]:
    params = Params()
    clauses = _where(schema, q, params)
    where = " AND ".join(clauses) or "true"
    mode = count_mode(q)
    if mode == "counter":
        matched = (f"(SELECT n FROM rigenera.row_counts"
                   f" WHERE relname = '{schema.collection.id}')")
    elif mode == "capped":
        matched = (f"(SELECT count(*) FROM (SELECT 1 FROM {schema.relation} AS t WHERE {where}"
                   f" LIMIT {COUNT_CAP + 1}) AS capped)")
    elif mode == "window" and q.after is not None:
        # A cursor page (the next link of a client walking the whole match set, as
        # QGIS does): its first page gave the count; counting again on every page
        # made walking 100,000 bbox matches 100 full counts (0.7 s a page).
        matched = "NULL::bigint"
    else:
        matched = f"(SELECT count(*) FROM {schema.relation} AS t WHERE {where})"
    idf = f't."{schema.id_field}"'
    keys = [(f't."{c}"', d) for c, d in q.sortby] + [(idf, False)]
    order = ", ".join(f"{k} {'DESC' if d else 'ASC'}" for k, d in keys)
    order_desc = ", ".join(f"{k} {'ASC' if d else 'DESC'}" for k, d in keys)
    page_where, offset = where, q.offset
    window = mode == "window" and q.after is None
    if q.after is not None:
        cast = schema.by_name[schema.id_field].cast
        page_where = f"{where} AND {idf} > {params.add(q.after, 'text')}::{cast}"
        offset = 0
    sql = _TEMPLATES["items"].substitute(
        id=schema.id_field,
        window_count=", count(*) OVER () AS _m" if window else ", NULL::bigint AS _m",
        relation=schema.relation,
        where=page_where,
        order=order,
        order_desc=order_desc,
        limit=params.add(0 if q.hits else q.limit, "int8"),
        offset=params.add(offset, "int8"),
        feature=_feature_sql(schema, q),
        matched=matched,
    )
    return sql, params.values


def build_item_sql(schema: ViewSchema, q: ItemsQuery, item_id: str) -> tuple[str, list[Any]]:
    params = Params()
    col = schema.by_name[schema.id_field]
    sql = _TEMPLATES["item"].substitute(
        relation=schema.relation,
        where=f't."{schema.id_field}" = {params.add(item_id, "text")}::{col.cast}',
        feature=_feature_sql(schema, q),
    )
    return sql, params.values


class FastFeatures:
    """Serves items and single items from the read pool; owned by the app factory."""

    def __init__(self, ogc_url: str, default_limit: int, max_limit: int) -> None:
        self.ogc_url = ogc_url
        self.default_limit = default_limit
        self.max_limit = max_limit
        self.pool: asyncpg.Pool | ReadRouter | None = None
        self.schemas: dict[str, ViewSchema] = {}

    def start(self, pool: asyncpg.Pool | ReadRouter, schemas: dict[str, ViewSchema]) -> None:
        self.pool = pool
        self.schemas = schemas

    def serves(self, request: Request) -> bool:
        """True when the fast path can answer exactly what pygeoapi would."""
        params = request.query_params
        if self.pool is None or params.get("f") not in FAST_FORMATS or "q" in params:
            return False
        if params.get("f") is None and "text/html" in request.headers.get("accept", ""):
            return False  # browsers get pygeoapi's HTML
        return request.path_params.get("collection_id") in self.schemas

    async def _fetchrow(self, sql: str, args: list[Any]) -> asyncpg.Record | None:
        assert self.pool is not None
        try:
            # Through the read router: a replica, retried on the primary (replicas.py).
            return await self.pool.fetchrow(sql, *args)
        except (asyncpg.DataError, asyncpg.UndefinedFunctionError,
                asyncpg.InvalidTextRepresentationError) as exc:
            reason = str(exc).splitlines()[0]
            raise InvalidParameter(
                f"Filtro non valido / invalid filter: {reason}",
                errors=[{"field": "filter", "reason": reason}],
                log_message=str(exc)) from exc

    async def items(self, request: Request) -> Response:
        cid = request.path_params["collection_id"]
        schema = self.schemas[cid]
        body = await request.body() if request.method == "POST" else None
        q = parse_items_query(request.query_params, schema, default_limit=self.default_limit,
                              max_limit=self.max_limit, body=body or None)
        sql, args = build_items_sql(schema, q)
        row = await self._fetchrow(sql, args)
        assert row is not None
        matched, returned, features, last_id = row["matched"], row["returned"], row["features"], \
            row["last_id"]
        if count_mode(q) == "capped" and matched > COUNT_CAP:
            matched = None  # counting would dominate: omitted, not guessed
        links = self._links(request, cid, q, matched, returned, last_id)
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        number_matched = "" if matched is None else f'"numberMatched":{matched},'
        rest = (f'],{number_matched}"numberReturned":{0 if q.hits else returned},'
                f'"links":{links}').encode()
        # Weak: the same page differs only by its timeStamp (caching.py).
        etag = etag_of(features or b"", rest, weak=True)
        response = Response(
            content=b"".join((_HEAD, features or b"", rest, f',"timeStamp":"{stamp}"}}'.encode())),
            media_type=GEOJSON,
            headers={"Content-Crs": f"<{q.crs.uri}>", "Content-Language": "it", "ETag": etag,
                     "Cache-Control": CACHE_CONTROL, "Vary": "Accept"},
        )
        return not_modified(request, response)

    async def item(self, request: Request) -> Response:
        cid = request.path_params["collection_id"]
        schema = self.schemas[cid]
        q = parse_items_query(request.query_params, schema, default_limit=1,
                              max_limit=self.max_limit)
        sql, args = build_item_sql(schema, q, request.path_params["item_id"])
        try:
            row = await self._fetchrow(sql, args)
        except InvalidParameter:
            row = None  # an id of the wrong type cannot exist
        if row is None:
            raise NotFound("identifier not found")
        uri = f"{self.ogc_url}/collections/{cid}/items/{quote(str(request.path_params['item_id']))}"
        links = _json_links([
            ("self", GEOJSON, "This document as JSON", f"{uri}?f=json"),
            ("alternate", "application/ld+json", "This document as RDF (JSON-LD)",
             f"{uri}?f=jsonld"),
            ("alternate", "text/html", "This document as HTML", f"{uri}?f=html"),
            ("collection", "application/json", schema.collection.title["it"],
             f"{self.ogc_url}/collections/{cid}"),
        ])
        feature = row["feature"]
        response = Response(
            content=feature[:-1].encode() + f',"links":{links}}}'.encode(),
            media_type=GEOJSON,
            headers={"Content-Crs": f"<{q.crs.uri}>", "Content-Language": "it",
                     # Strong ETag = the version: send it back in If-Match to edit.
                     "ETag": f'"{row["version"]}"', "Cache-Control": CACHE_CONTROL,
                     "Vary": "Accept"},
        )
        return not_modified(request, response)

    def _links(self, request: Request, cid: str, q: ItemsQuery, matched: int | None,
               returned: int,
               last_id: Any) -> str:
        uri = f"{self.ogc_url}/collections/{cid}/items"
        kept = "".join(f"&{quote(k, safe='')}={quote(v, safe=',')}"
                       for k, v in request.query_params.multi_items()
                       if k not in ("f", "offset", "after"))
        links = [
            ("self", GEOJSON, "This document as GeoJSON", f"{uri}?f=json{kept}"),
            ("alternate", "application/ld+json", "This document as RDF (JSON-LD)",
             f"{uri}?f=jsonld{kept}"),
            ("alternate", "text/html", "This document as HTML", f"{uri}?f=html{kept}"),
            ("alternate", "text/csv; charset=utf-8", "This document as CSV", f"{uri}?f=csv{kept}"),
        ]
        if q.offset > 0:
            links.append(("prev", GEOJSON, "Items (prev)",
                          f"{uri}?f=json&offset={max(0, q.offset - q.limit)}{kept}"))
        more = returned == q.limit or (matched is not None and matched > q.offset + q.limit)
        if not q.hits and returned and more:
            nxt = f"{uri}?f=json&offset={q.offset + q.limit}{kept}"
            if not q.sortby and last_id is not None:
                nxt += f"&after={quote(str(last_id), safe='')}"
            links.append(("next", GEOJSON, "Items (next)", nxt))
        links.append(("collection", "application/json", self.schemas[cid].collection.title["it"],
                      f"{self.ogc_url}/collections/{cid}"))
        return _json_links(links)


def _json_links(links: list[tuple[str, str, str, str]]) -> str:
    """Links as JSON text. Built by hand (json.dumps was 7 % of a page's CPU): rel and
    type are constants, titles are escaped once, hrefs are URL-quoted so they hold
    no character JSON must escape."""
    return "[" + ",".join(
        f'{{"rel":"{rel}","type":"{typ}","title":{_json_str(title)},"href":"{href}"}}'
        for rel, typ, title, href in links) + "]"


@lru_cache(maxsize=256)
def _json_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


__all__ = ["FastFeatures", "bad", "build_item_sql", "build_items_sql", "compile_filter"]
