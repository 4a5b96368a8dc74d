"""Items query parameters: parsed and validated once, with pygeoapi's rules and messages.

The fast path must answer exactly what pygeoapi would (tests compare them),
so the semantics follow pygeoapi 0.24's ``get_collection_items``: the same
reserved names, limits, sortby/properties checks, CRS lists and CQL2 parsers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

import pyproj
from pygeoapi.crs import modify_pygeofilter
from pygeofilter.parsers.cql2_json import parse as parse_cql2_json
from pygeofilter.parsers.cql2_text import parse as parse_cql2_text
from starlette.datastructures import QueryParams

from rigenera.errors import InvalidParameter
from rigenera.inputs import INT64, parse_int, parse_number
from rigenera.limits import parse_json
from rigenera.ogc.crs import CRS84, STORAGE_CRS, SUPPORTED_CRS
from rigenera.ogc.provider import cql2_json_functions
from rigenera.ogc.schema import ViewSchema

RESERVED = {"bbox", "bbox-crs", "crs", "f", "lang", "limit", "offset", "resulttype", "datetime",
            "sortby", "properties", "skipGeometry", "q", "filter", "filter-lang", "filter-crs",
            "after"}
FILTER_LANGS = {None, "cql-text", "cql2-text", "cql-json", "cql2-json"}
_TRUE = {"true", "1", "yes"}
_BOOLEANS = _TRUE | {"false", "0", "no"}


@dataclass(frozen=True)
class OutputCrs:
    uri: str
    srid: int
    northing_first: bool  # authority axis order puts latitude/northing first
    decimals: int


@cache
def output_crs(uri: str) -> OutputCrs:
    if uri == CRS84:
        return OutputCrs(uri, 4326, False, 7)
    code = int(uri.rsplit("/", 1)[1])
    crs = pyproj.CRS.from_epsg(code)
    first = crs.axis_info[0].direction.lower()
    return OutputCrs(uri, code, first in ("north", "south"), 7 if crs.is_geographic else 3)


@lru_cache(maxsize=32)
def _to_storage(from_uri: str) -> pyproj.Transformer:
    from pygeoapi.crs import get_crs

    return pyproj.Transformer.from_crs(get_crs(from_uri), get_crs(STORAGE_CRS))


def bad(field_name: str, message: str) -> InvalidParameter:
    return InvalidParameter(message, errors=[{"field": field_name, "reason": message}])


@dataclass
class ItemsQuery:
    """Everything a page of items depends on, validated."""

    limit: int
    offset: int = 0
    after: Any = None
    hits: bool = False
    bbox: tuple[float, float, float, float] | None = None
    crs: OutputCrs = field(default_factory=lambda: output_crs(CRS84))
    sortby: list[tuple[str, bool]] = field(default_factory=list)  # (column, descending)
    properties: list[str] | None = None
    skip_geometry: bool = False
    equals: list[tuple[str, str]] = field(default_factory=list)
    cql: Any = None  # pygeofilter AST in storage CRS

    @property
    def filtered(self) -> bool:
        return bool(self.bbox or self.equals or self.cql is not None)


def query_int(params: QueryParams, name: str, default: int) -> int:
    """An integer query parameter within a bigint, with pygeoapi's message."""
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad(name, f"{name} value should be an integer") from None
    if abs(value) > INT64:
        raise bad(name, f"{name}: valore fuori intervallo / out of range (at most {INT64})")
    return value


# Range of the integer types a query-string value is cast to (fast path, sql `::int4`...).
_INT_RANGES = {"int2": 2**15 - 1, "int4": 2**31 - 1, "int8": INT64}
_NUMBERS = {"float4", "float8", "numeric"}


def _typed(name: str, value: str, udt: str) -> None:
    """A query-string value compared with a numeric column: an integer or a finite number
    that fits it, or a 400 naming the parameter (not a database error about `filter`)."""
    if udt in _INT_RANGES:
        parse_int(name, value, -_INT_RANGES[udt], _INT_RANGES[udt])
    elif udt in _NUMBERS:
        parse_number(name, value)


def parse_items_query(
    params: QueryParams, schema: ViewSchema, *, default_limit: int, max_limit: int,
    body: bytes | None = None,
) -> ItemsQuery:
    offset = query_int(params, "offset", 0)
    if offset < 0:
        raise bad("offset", "offset value should be positive or zero")
    limit = query_int(params, "limit", default_limit)
    if limit <= 0:
        raise bad("limit", "limit value should be strictly positive")
    if limit > max_limit:
        raise bad("limit", f"Limit of {max_limit} exceeded")
    q = ItemsQuery(limit=limit, offset=offset)

    resulttype = params.get("resulttype")
    if resulttype not in (None, "results", "hits"):
        raise bad("resulttype", "resulttype: one of results, hits")
    q.hits = resulttype == "hits"

    crs = params.get("crs")
    if crs is not None:
        if crs not in SUPPORTED_CRS:
            raise bad("crs", f"CRS '{crs}' not supported for this collection. "
                             f"List of supported CRSs: {', '.join(SUPPORTED_CRS)}")
        q.crs = output_crs(crs)

    q.bbox = parse_bbox(params)

    q.sortby = _sortby(params.get("sortby"), schema)
    props = params.get("properties")
    if props is not None:
        names = props.split(",")
        if set(names) - set(schema.by_name):
            raise bad("properties", "unknown properties specified")
        q.properties = list(dict.fromkeys(names))

    skip = params.get("skipGeometry")
    if skip is not None:
        if skip.lower() not in _BOOLEANS:
            raise bad("skipGeometry", f"skipGeometry: invalid boolean '{skip}'")
        q.skip_geometry = skip.lower() in _TRUE

    datetime_ = params.get("datetime")
    if datetime_ not in (None, "../.."):
        raise bad("datetime", "Questa collezione non ha una dimensione temporale: parametro "
                              "datetime non applicabile / this collection has no temporal "
                              "dimension: datetime not applicable")

    q.equals = [(k, v) for k, v in params.multi_items()
                if k not in RESERVED and k in schema.by_name]
    for name, value in q.equals:
        _typed(name, value, schema.by_name[name].udt)
    q.cql = parse_filter(params, body)

    after = params.get("after")
    if after is not None:
        if q.sortby:
            raise bad("after", "after (cursor) works only with the default order, not with sortby")
        _typed("after", after, schema.by_name[schema.id_field].udt)
        q.after = after
    return q


def parse_bbox(params: QueryParams) -> tuple[float, float, float, float] | None:
    raw = params.get("bbox")
    bbox_crs = params.get("bbox-crs")
    if raw is None:
        if bbox_crs is not None:
            raise bad("bbox-crs", "bbox-crs specified without bbox parameter")
        return None
    parts = raw.split(",")
    if len(parts) not in (4, 6):
        raise bad("bbox", "bbox should be either 4 values (minx,miny,maxx,maxy) "
                          "or 6 values (minx,miny,minz,maxx,maxy,maxz)")
    try:
        values = [float(v) for v in parts]
    except ValueError:
        raise bad("bbox", "bbox values must be numbers") from None
    if not all(math.isfinite(v) for v in values):
        raise bad("bbox", "bbox values must be finite numbers")
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    if values[1] > values[3]:
        raise bad("bbox", "miny should be less than maxy")
    if values[0] > values[2]:
        raise bad("bbox", "minx is greater than maxx (possibly antimeridian bbox)")
    if bbox_crs is not None:
        if not bbox_crs:
            raise bad("bbox-crs", "bbox-crs specified but is empty")
        if bbox_crs not in SUPPORTED_CRS:
            raise bad("bbox-crs", f"bbox-crs {bbox_crs} not supported for this collection")
        if bbox_crs != STORAGE_CRS:
            t = _to_storage(bbox_crs)
            x1, y1 = t.transform(values[0], values[1])
            x2, y2 = t.transform(values[2], values[3])
            values = [x1, y1, x2, y2]
            if not all(math.isfinite(v) for v in values):
                raise bad("bbox", "bbox: fuori dall'area del suo CRS / outside the area of "
                                  "use of bbox-crs")
    return (values[0], values[1], values[2], values[3])


def _sortby(raw: str | None, schema: ViewSchema) -> list[tuple[str, bool]]:
    if raw is None:
        return []
    out = []
    for s in raw.split(","):
        desc = s.startswith("-")
        prop = s[1:] if s[:1] in ("+", "-") else s
        if prop not in schema.by_name:
            raise bad("sortby", "bad sortby property")
        out.append((prop, desc))
    return out


def parse_filter(params: QueryParams, body: bytes | None = None) -> Any:
    """`filter` (CQL2 text or JSON, `filter-lang`, `filter-crs`) -> a pygeofilter AST in the
    storage CRS, or None; a 400 naming `filter` when it cannot be parsed. Shared by the
    items of both read paths and the exports (rigenera/exports)."""
    lang = params.get("filter-lang")
    if lang not in FILTER_LANGS:
        raise bad("filter-lang", "Invalid filter language")
    filter_crs = params.get("filter-crs", CRS84)
    if filter_crs not in SUPPORTED_CRS:
        raise bad("filter-crs", f"filter-crs {filter_crs} not supported for this collection")
    text = params.get("filter")
    try:
        if body:
            ast = parse_cql2_json(cql2_json_functions(parse_json(body, field="filter")))
        elif text is not None:
            ast = (parse_cql2_json(cql2_json_functions(parse_json(text, field="filter")))
                   if lang in ("cql-json", "cql2-json") else parse_cql2_text(text))
        else:
            return None
        return modify_pygeofilter(ast, filter_crs_uri=filter_crs, storage_crs_uri=STORAGE_CRS,
                                  geometry_column_name="geom")
    except InvalidParameter:
        raise  # from parse_json: names the nesting limit or the JSON error
    except Exception as exc:  # pygeofilter raises many parser-specific types
        kind = "CQL JSON" if body or lang in ("cql-json", "cql2-json") else "CQL text"
        raise bad("filter", f"Bad {kind}: {str(exc).splitlines()[0][:200]}") from exc
