"""A corpus of bad reads: every one is a 4xx OGC exception document naming the problem.

Each case sends one read (items, item, tiles, tile matrix sets, processes and our
/api reads) with text PostgreSQL cannot hold (NUL, bytes that are not UTF-8, JSON
escapes of unpaired surrogates), numbers that overflow (`1e400`, 400-digit
integers, NaN), geometries PostGIS cannot take or would answer wrongly (a bow-tie,
an unclosed ring, too few points, latitude 95) or tile matrix sets we do not serve,
over our fast path (no `f`, `f=json`), pygeoapi's path (`f=csv`, `f=jsonld`,
`f=html`, POST with CQL2-JSON) and our own routes. Each must answer a 4xx (never a
5xx) with a JSON exception document (`code`, `type`, `description`) that names the
parameter or field: in `errors[].field` or at the start of the description. The
HTML format answers pygeoapi's HTML error page: a 4xx is all that is asked of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from conftest import basic

ITEMS = "/ogc/collections/{cid}/items"
CQL_JSON = {"Content-Type": "application/query-cql-json"}
EXECUTE = "/ogc/processes/sites-near-transit/execution"


@dataclass(frozen=True)
class Case:
    id: str
    path: str
    params: dict[str, str] | None = None
    status: int | tuple[int, ...] = 400
    field: str | None = None  # named in errors[].field or the description
    body: bytes | None = None  # POST when given
    headers: dict[str, str] | None = None
    user: str | None = None


CASES: list[Case] = []


def case(*args: Any, **kwargs: Any) -> None:
    CASES.append(Case(*args, **kwargs))


def items(cid: str = "sites") -> str:
    return ITEMS.format(cid=cid)


# Formats: our fast path (None, json) and pygeoapi's (csv, jsonld answer JSON errors).
FAST = (None, "json")
PYGEOAPI = ("csv", "jsonld")
FORMATS = FAST + PYGEOAPI


def with_f(params: dict[str, str], fmt: str | None) -> dict[str, str]:
    return params if fmt is None else {**params, "f": fmt}


# --------------------------------------------------------- NUL and non-UTF-8 in URLs
PARAMS = ["filter", "bbox", "bbox-crs", "crs", "properties", "sortby", "q", "after", "datetime",
          "limit", "offset", "resulttype", "skipGeometry", "filter-lang", "filter-crs", "lang",
          "name", "state", "istat_code"]
# Raw query strings (httpx would re-encode a str): NUL, an encoded surrogate, a lone byte.
RAW = {"nul": "%00", "nul-inside": "a%00b", "surrogate": "%ED%A0%80", "lone-byte": "%C3"}
for name in PARAMS:
    for label, raw in RAW.items():
        for fmt in FORMATS if label == "nul" else (None, "csv"):
            suffix = "" if fmt is None else f"&f={fmt}"
            case(f"query-{name}-{label}-{fmt}", f"{items()}?{name}={raw}{suffix}", field=name)
for cid in ("comuni", "projects"):
    for name in ("filter", "name", "after", "q"):
        case(f"query-{cid}-{name}-nul", f"{items(cid)}?{name}=%00&f=csv", field=name)
case("query-name-nul", f"{items()}?%00=1", field="query")
case("query-filter-nul-html", f"{items()}?filter=name%3D%27%00%27&f=html")
case("query-equality-nul-html", f"{items()}?name=%00&f=html")

PATHS = {
    "item-id": "/ogc/collections/sites/items/{x}",
    "item-id-jsonld": "/ogc/collections/sites/items/{x}?f=jsonld",
    "item-id-comuni": "/ogc/collections/comuni/items/{x}",
    "collection": "/ogc/collections/{x}",
    "collection-items": "/ogc/collections/{x}/items",
    "collection-item": "/ogc/collections/{x}/items/1?f=jsonld",
    "collection-queryables": "/ogc/collections/{x}/queryables",
    "collection-schema": "/ogc/collections/{x}/schema",
    "collection-tiles": "/ogc/collections/{x}/tiles",
    "process": "/ogc/processes/{x}",
    "tms": "/ogc/TileMatrixSets/{x}",
    "tileset": "/ogc/collections/sites/tiles/{x}",
    "tileset-metadata": "/ogc/collections/sites/tiles/{x}/metadata",
    "tile-tms": "/ogc/collections/sites/tiles/{x}/0/0/0",
    "tile-z": "/ogc/collections/sites/tiles/WebMercatorQuad/{x}/0/0",
    "model": "/api/collections/{x}/model",
}
for where, template in PATHS.items():
    for label, raw in RAW.items():
        case(f"path-{where}-{label}", template.format(x=raw), field="path")
for label, raw in RAW.items():
    case(f"path-history-{label}", f"/api/collections/sites/items/{raw}/history", field="path",
         user="admin")

# ------------------------------------------------------- numbers that overflow, filters
OVERFLOWING = {
    "gt-1e400": "surface_m2 > 1e400",
    "gt-minus-1e400": "surface_m2 > -1e400",
    "int-400-digits": "surface_m2 > 1" + "0" * 400,
    "id-eq-1e400": "id = 1e400",
    "between-1e400": "surface_m2 BETWEEN 1e400 AND 2e400",
    "in-1e400": "surface_m2 IN (1e400, 2)",
    "and-chain-1e400": "name = 'x' AND surface_m2 < -1e400",
    "point-1e400": "S_INTERSECTS(geometry, POINT(1e400 45))",
    "buffer-1e400": "S_INTERSECTS(geometry, BUFFER_M(POINT(9.19 45.46), 1e400))",
    "buffer-400-digits": "S_INTERSECTS(geometry, BUFFER_M(POINT(9.19 45.46), 1" + "0" * 400 + "))",
}
for label, text in OVERFLOWING.items():
    for fmt in FORMATS:
        case(f"cql2-text-{label}-{fmt}", items(), with_f({"filter": text}, fmt), field="filter")
case("cql2-text-utm-point-1e30", items(), {"filter": "S_INTERSECTS(geometry, POINT(1e30 1e30))",
                                           "filter-crs": "EPSG:32632"}, field="filter")
case("cql2-text-utm-point-1e30-csv", items(), {
    "filter": "S_INTERSECTS(geometry, POINT(1e30 1e30))", "filter-crs": "EPSG:32632", "f": "csv"},
    field="filter")


def prop_gt(value: str) -> str:
    return '{"op": ">", "args": [{"property": "surface_m2"}, ' + value + "]}"


def intersects(geometry: str) -> str:
    return '{"op": "s_intersects", "args": [{"property": "geometry"}, ' + geometry + "]}"


def buffer_m(geometry: str, metres: str) -> str:
    return intersects('{"function": {"name": "buffer_m", "arguments": [' + geometry + ", "
                      + metres + "]}}")


PT = '{"type": "Point", "coordinates": [9.19, 45.46]}'
CQL_JSON_BODIES = {
    "gt-1e400": prop_gt("1e400"),
    "gt-minus-1e400": prop_gt("-1e400"),
    "gt-400-digits": prop_gt("1" + "0" * 400),
    "gt-nan": prop_gt("NaN"),
    "gt-infinity": prop_gt("Infinity"),
    "point-1e400": intersects('{"type": "Point", "coordinates": [1e400, 45]}'),
    "bbox-1e400": intersects('{"bbox": [9, 45, 1e400, 46]}'),
    "buffer-1e400": buffer_m(PT, "1e400"),
    "buffer-nan": buffer_m(PT, "NaN"),
    "eq-nul": '{"op": "=", "args": [{"property": "name"}, "a\\u0000b"]}',
    "eq-surrogate": '{"op": "=", "args": [{"property": "name"}, "a\\ud800b"]}',
    "like-nul": '{"op": "like", "args": [{"property": "name"}, "\\u0000%"]}',
    "in-nul": '{"op": "in", "args": [{"property": "state"}, ["\\u0000"]]}',
    "property-surrogate": '{"op": "=", "args": [{"property": "\\ud800"}, "x"]}',
    "property-nul": '{"op": "=", "args": [{"property": "a\\u0000"}, "x"]}',
}

# ------------------------------------------------------------------ invalid geometries
RING = "9.1 45.4, 9.2 45.5, 9.2 45.4, 9.1 45.5, 9.1 45.4"
GEOMETRY_TEXT = {
    "bow-tie": f"POLYGON(({RING}))",
    "bow-tie-multi": f"MULTIPOLYGON((({RING})))",
    "unclosed": "POLYGON((9.1 45.4, 9.2 45.4, 9.2 45.5, 9.1 45.5))",
    "too-few-points": "POLYGON((9.1 45.4, 9.2 45.5, 9.1 45.4))",
    "one-point-line": "LINESTRING(9.1 45.4)",
    "latitude-95": "POINT(9.1 95)",
    "longitude-500": "POINT(500 45)",
    "hole-outside": "POLYGON((9.1 45.4, 9.2 45.4, 9.2 45.5, 9.1 45.5, 9.1 45.4),"
                    " (9.3 45.3, 9.4 45.3, 9.4 45.35, 9.3 45.3))",
}
for label, wkt in GEOMETRY_TEXT.items():
    for predicate in ("S_INTERSECTS", "S_WITHIN"):
        for fmt in (None, "csv"):
            case(f"geom-text-{label}-{predicate}-{fmt}", items(),
                 with_f({"filter": f"{predicate}(geometry, {wkt})"}, fmt), field="filter")
    case(f"geom-text-{label}-in-buffer", items(),
         {"filter": f"S_INTERSECTS(geometry, BUFFER_M({wkt}, 100))"}, field="filter")
    case(f"geom-text-{label}-in-buffer-csv", items(),
         {"filter": f"S_INTERSECTS(geometry, BUFFER_M({wkt}, 100))", "f": "csv"}, field="filter")


def polygon_json(*ring: tuple[float, float]) -> str:
    return json.dumps({"type": "Polygon", "coordinates": [[list(p) for p in ring]]})


GEOMETRY_JSON = {
    "bow-tie": polygon_json((9.1, 45.4), (9.2, 45.5), (9.2, 45.4), (9.1, 45.5), (9.1, 45.4)),
    "unclosed": polygon_json((9.1, 45.4), (9.2, 45.4), (9.2, 45.5), (9.1, 45.5)),
    "too-few-points": polygon_json((9.1, 45.4), (9.2, 45.5), (9.1, 45.4)),
    "latitude-95": '{"type": "Point", "coordinates": [9, 95]}',
    "strings": '{"type": "Point", "coordinates": ["a", "b"]}',
    "five-ordinates": '{"type": "Point", "coordinates": [1, 2, 3, 4, 5]}',
    "empty": '{"type": "Point", "coordinates": []}',
    "polygon-too-shallow": '{"type": "Polygon", "coordinates": [[9.1, 45.4], [9.2, 45.4]]}',
    "line-one-point": '{"type": "LineString", "coordinates": [[9.1, 45.4]]}',
}
for label, geometry in GEOMETRY_JSON.items():
    CQL_JSON_BODIES[f"geom-{label}"] = intersects(geometry)
    CQL_JSON_BODIES[f"geom-{label}-in-buffer"] = buffer_m(geometry, "100")

for label, body in CQL_JSON_BODIES.items():
    for fmt in ("json", "csv", "html"):
        # POST with a CQL2-JSON body: no f is ours, f=html/csv pygeoapi's.
        query = "" if fmt == "json" else f"?f={fmt}"
        case(f"cql2-json-post-{label}-{fmt}", items() + query, body=body.encode(),
             headers=CQL_JSON, field="filter" if fmt != "html" else None)
    case(f"cql2-json-get-{label}", items(), {"filter": body, "filter-lang": "cql2-json"},
         field="filter")  # pygeoapi's GET path knows no CQL2-JSON: only ours

# --------------------------------------------------------- bbox, limit, offset, after
for label, bbox in {"1e400": "1e400,45,9,46", "minus-1e400": "-1e400,45,9,46",
                    "max-1e400": "9,45,1e400,46", "400-digits": "9,45,1" + "0" * 400 + ",46",
                    "nan": "nan,45,9,46", "inf": "9,45,inf,46", "minus-inf": "-inf,45,9,46"}.items():
    for fmt in FORMATS:
        case(f"bbox-{label}-{fmt}", items(), with_f({"bbox": bbox}, fmt), field="bbox")
case("bbox-utm-beyond-projection", items(), {"bbox": "1e30,1e30,2e30,2e30",
                                              "bbox-crs": "EPSG:32632"}, field="bbox")
for name in ("limit", "offset"):
    for label, value in {"1e400": "1e400", "minus-1e400": "-1e400", "400-digits": "1" + "0" * 400,
                         "beyond-bigint": "99999999999999999999", "nan": "nan", "inf": "inf",
                         "decimal": "1.5"}.items():
        for fmt in (None, "csv"):
            case(f"{name}-{label}-{fmt}", items(), with_f({name: value}, fmt), field=name)
for label, value in {"letters": "abc", "beyond-bigint": "99999999999999999999",
                     "decimal": "1.5", "1e400": "1e400"}.items():
    case(f"after-{label}", items(), {"after": value}, field="after")
for name, value in {"surface_m2": "1e400", "surface_m2-letters": "molto",
                    "id": "99999999999999999999", "id-letters": "uno"}.items():
    column = name.split("-")[0]
    case(f"equality-{name}", items(), {column: value}, field=column)

# ------------------------------------------------------------- tiles and their sets
TILESET = "/ogc/collections/{cid}/tiles/{tms}"
for cid in ("sites", "comuni", "projects"):
    for tms in ("{tileMatrixSetId}", "WorldCRS84Quad", "nope"):
        for tail in ("", "?f=json", "/metadata", "/metadata?f=json", "?f=tilejson", "?f=html"):
            status = 404
            case(f"tms-{cid}-{tms.strip('{}')}{tail.replace('?f=', '-')}",
                 TILESET.format(cid=cid, tms=tms) + tail, status=status,
                 field="tileMatrixSetId")
case("tms-unknown-collection", "/ogc/collections/nope/tiles/WebMercatorQuad", status=404)
for tms in ("nope", "{tileMatrixSetId}", "webmercatorquad"):
    case(f"tilematrixset-{tms.strip('{}')}", f"/ogc/TileMatrixSets/{tms}", status=404,
         field="tileMatrixSetId")
TILE = "/ogc/collections/sites/tiles/{tms}/{z}/{y}/{x}"
for label, (tms, z, y, x, status, field) in {
    "unknown-tms": ("WorldCRS84Quad", "1", "0", "0", 404, "tileMatrixSetId"),
    "template-tms": ("{tileMatrixSetId}", "1", "0", "0", 404, "tileMatrixSetId"),
    "templates": ("WebMercatorQuad", "{tileMatrix}", "{tileRow}", "{tileCol}", 400, "tileMatrix"),
    "z-too-deep": ("WebMercatorQuad", "99", "0", "0", 404, None),
    "z-negative": ("WebMercatorQuad", "-1", "0", "0", 404, None),
    "z-400-digits": ("WebMercatorQuad", "1" + "0" * 400, "0", "0", 404, None),
    "z-1e400": ("WebMercatorQuad", "1e400", "0", "0", 400, "tileMatrix"),
    "z-decimal": ("WebMercatorQuad", "1.5", "0", "0", 400, "tileMatrix"),
    "row-outside": ("WebMercatorQuad", "1", "5", "0", 404, None),
    "col-outside": ("WebMercatorQuad", "1", "0", "2", 404, None),
    "col-letters": ("WebMercatorQuad", "1", "0", "x", 400, "tileCol"),
    "row-unicode-digit": ("WebMercatorQuad", "1", "\u0663", "0", 400, "tileRow"),
}.items():
    case(f"tile-{label}", TILE.format(tms=tms, z=z, y=y, x=x), status=status, field=field)
case("tile-format-json", TILE.format(tms="WebMercatorQuad", z="1", y="0", x="0"), {"f": "json"})

# ------------------------------------------------------------- process inputs
for label, (inputs, name) in {
    "distance-string": ('{"distance_m": "500"}', "distance_m"),
    "distance-boolean": ('{"distance_m": true}', "distance_m"),
    "distance-list": ('{"distance_m": [500]}', "distance_m"),
    "distance-1e400": ('{"distance_m": 1e400}', "distance_m"),
    "distance-minus-1e400": ('{"distance_m": -1e400}', "distance_m"),
    "distance-400-digits": ('{"distance_m": 1' + "0" * 400 + "}", "distance_m"),
    # NaN and Infinity are not JSON at all: the one JSON reader refuses the body.
    "distance-nan": ('{"distance_m": NaN}', "body"),
    "distance-infinity": ('{"distance_m": Infinity}', "body"),
    "distance-nul": ('{"distance_m": "\\u0000"}', "distance_m"),
    "distance-huge-int": ('{"distance_m": 99999999999999999999}', "distance_m"),
    "modes-string": ('{"modes": "metro"}', "modes"),
    "modes-nul": ('{"modes": ["metro\\u0000"]}', "modes"),
    "modes-surrogate": ('{"modes": ["\\ud800"]}', "modes"),
    "modes-number": ('{"modes": [1e400]}', "modes"),
    "istat-nul": ('{"istat_codes": ["015146\\u0000"]}', "istat_codes"),
    "istat-surrogate": ('{"istat_codes": ["\\udc00"]}', "istat_codes"),
    "istat-400-digits": ('{"istat_codes": [1' + "0" * 400 + "]}", "istat_codes"),
    "states-object": ('{"states": {"a": 1}}', "states"),
    "states-nul": ('{"states": ["\\u0000"]}', "states"),
    "unknown-input-nul": ('{"dist\\u0000": 1}', None),
    "unknown-input-surrogate": ('{"\\ud800": 1}', None),
}.items():
    case(f"process-{label}", EXECUTE, body=('{"inputs": ' + inputs + "}").encode(),
         headers={"Content-Type": "application/json"}, field=name)

# --------------------------------------------------------------------- our /api reads
for label, raw in RAW.items():
    case(f"api-changes-collection-{label}", f"/api/changes?collection={raw}",
         field="collection", user="admin")
    case(f"api-changes-after-{label}", f"/api/changes?collection=sites&after={raw}",
         field="after", user="admin")
    case(f"api-review-queue-istat-{label}", f"/api/review/queue?istat_code={raw}",
         field="istat_code", user="admin")
case("api-changes-after-1e400", "/api/changes", {"collection": "sites", "after": "1e400"},
     field="after", user="admin")
case("api-changes-limit-400-digits", "/api/changes",
     {"collection": "sites", "limit": "1" + "0" * 400}, field="limit", user="admin")


def _params() -> list[Any]:
    ids = [c.id for c in CASES]
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, duplicates
    return [pytest.param(c, id=c.id) for c in CASES]


# pygeoapi's own words for a filter it cannot parse ("Bad CQL text": its GET path has no
# CQL2-JSON) name it by its language.
_ALIASES = {"filter": ("filter", "cql")}


def _named(doc: dict[str, Any], field: str) -> bool:
    fields = {e.get("field") for e in doc.get("errors") or []}
    description = doc["description"].lower()
    return field in fields or any(a.lower() in description for a in _ALIASES.get(field, (field,)))


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 300, len(CASES)


@pytest.fixture(scope="module")
def fresh(live: Any) -> Iterator[httpx.Client]:
    """A connection per request: a 500 closes it, and the next case must not pay for that."""
    with httpx.Client(base_url=live.url, timeout=60, headers={"Connection": "close"}) as client:
        yield client


@pytest.mark.parametrize("c", _params())
def test_bad_read_is_a_4xx_naming_the_problem(fresh: httpx.Client, c: Case) -> None:
    headers = {**(c.headers or {}), **(basic(c.user) if c.user else {})}
    if c.body is not None:
        r = fresh.post(c.path, params=c.params, content=c.body, headers=headers)
    else:
        r = fresh.get(c.path, params=c.params, headers=headers)
    expected = c.status if isinstance(c.status, tuple) else (c.status,)
    assert r.status_code in expected, (r.status_code, r.text[:300])
    if r.headers.get("content-type", "").startswith("text/html"):
        return  # pygeoapi's HTML error page, for a browser
    doc = r.json()
    assert doc.get("code") and doc.get("type"), doc
    assert isinstance(doc.get("description"), str) and doc["description"].strip(), doc
    if c.field is not None:
        assert _named(doc, c.field), (c.field, doc)


def test_a_tiny_number_is_fine(api: httpx.Client) -> None:
    """`1e-400` underflows to 0: a number, not an error (the other side of 1e400)."""
    for fmt in FORMATS:
        r = api.get(items(), params=with_f({"filter": "surface_m2 > 1e-400"}, fmt))
        assert r.status_code == 200, (fmt, r.text[:300])
    r = api.get(items(), params={"bbox": "1e-400,45,9.5,46"})
    assert r.status_code == 200


def test_valid_geometry_literals_still_filter(api: httpx.Client, db: str) -> None:
    """The checks refuse only bad literals: a valid square and a buffer answer as PostGIS."""
    from conftest import query

    square = "POLYGON((9.1 45.4, 9.3 45.4, 9.3 45.5, 9.1 45.5, 9.1 45.4))"
    expected = {r[0] for r in query(
        db, "SELECT id FROM pub.sites WHERE ST_Intersects(geom, ST_GeomFromText(%s, 4326))",
        (square,))}
    assert expected
    for fmt in (None, "csv"):
        r = api.get(items(), params=with_f(
            {"filter": f"S_INTERSECTS(geometry, {square})", "limit": "1000"}, fmt))
        assert r.status_code == 200, r.text[:300]
        got = ({f["id"] for f in r.json()["features"]} if fmt is None else
               {int(line.split(",")[0]) for line in r.text.splitlines()[1:]})
        assert got == expected
