"""A corpus of bad writes: every one is a 4xx OGC exception naming its field, and writes nothing.

Each case sends one write (POST/PUT/PATCH/DELETE on the items routes of the four
editable collections, or POST /api/changesets) as an authorised account, and
asserts: the status (never a 5xx), an OGC exception document (`code`,
non-empty `description`), the field named in `errors` (or in the changeset's
`problems[].errors`) when the case is about a field, and an unchanged database
(conftest's `fingerprint`: every editable table, the history and a project's join tables).

Targets of PUT/PATCH/DELETE are one existing feature per collection, created
by the fixture; paths name them as `{sites}`, `{projects}`, ...
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from conftest import MILANO, basic
from rigenera.domains import DOMAINS
from test_editing import GEOJSON, SQUARE

MERGE = {"Content-Type": "application/merge-patch+json"}
JSON = {"Content-Type": "application/json"}
EDITABLE = ("sites", "projects", "mobility_links", "transit_stops")

# Coordinates (lon/lat): Milano's centre, and places outside the metropolitan city.
X, Y = 9.185, 45.465
PT = {"type": "Point", "coordinates": [X, Y]}
LINE = {"type": "LineString", "coordinates": [[9.180, 45.460], [9.190, 45.465]]}
ROME = {"type": "Point", "coordinates": [12.49, 41.89]}
FIVE_KM_OUT = {"type": "Point", "coordinates": [8.6414, 45.5535]}  # 5.0 km west of the boundary
HALF_OUT = {"type": "Polygon", "coordinates": [[[8.60, 45.5535], [8.80, 45.5535], [8.80, 45.5635],
                                                [8.60, 45.5635], [8.60, 45.5535]]]}  # 44 % inside


def ring(*points: tuple[float, float], step: float = 0.001) -> list[list[float]]:
    """Positions near Milano's centre from small integer offsets."""
    return [[round(9.18 + px * step, 6), round(45.46 + py * step, 6)] for px, py in points]


def polygon(*rings: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(rings)}


BOW_TIE = polygon(ring((0, 0), (4, 4), (4, 0), (0, 4), (0, 0)))
UNCLOSED = polygon(ring((0, 0), (4, 0), (4, 4), (0, 4)))
TOO_FEW = polygon(ring((0, 0), (4, 0), (0, 0)))
SELF_TOUCHING = polygon(ring((0, 0), (4, 0), (4, 4), (2, 2), (3, 1), (1, 1), (2, 2), (0, 4), (0, 0)))
SPIKE = polygon(ring((0, 0), (4, 0), (4, 2), (6, 2), (4, 2), (4, 4), (0, 4), (0, 0)))
HOLE_OUTSIDE = polygon(ring((0, 0), (4, 0), (4, 4), (0, 4), (0, 0)),
                       ring((1, 1), (5, 1), (5, 2), (1, 2), (1, 1)))
NESTED_SHELLS = {"type": "MultiPolygon", "coordinates": [
    [ring((0, 0), (4, 0), (4, 4), (0, 4), (0, 0))], [ring((1, 1), (3, 1), (3, 3), (1, 3), (1, 1))]]}


def site(geometry: Any = SQUARE, **props: Any) -> dict[str, Any]:
    base = {"name": "Area corpus", "state": "abandoned", "former_use": "industrial"}
    return {"type": "Feature", "properties": {**base, **props}, "geometry": geometry}


def project(geometry: Any = PT, **props: Any) -> dict[str, Any]:
    base = {"title": "Progetto corpus", "istat_codes": [MILANO]}
    return {"type": "Feature", "properties": {**base, **props}, "geometry": geometry}


def link(geometry: Any = LINE, **props: Any) -> dict[str, Any]:
    base = {"kind": "cycle_path", "name": "Ciclabile corpus"}
    return {"type": "Feature", "properties": {**base, **props}, "geometry": geometry}


def stop(geometry: Any = PT, **props: Any) -> dict[str, Any]:
    base = {"mode": "bus", "name": "Fermata corpus"}
    return {"type": "Feature", "properties": {**base, **props}, "geometry": geometry}


MAKERS: dict[str, Callable[..., dict[str, Any]]] = {
    "sites": site, "projects": project, "mobility_links": link, "transit_stops": stop}


def without(feature: dict[str, Any], name: str) -> dict[str, Any]:
    if name == "geometry":
        return {k: v for k, v in feature.items() if k != "geometry"}
    return {**feature, "properties": {k: v for k, v in feature["properties"].items() if k != name}}


def raw(text: str) -> bytes:
    return text.encode()


def items(cid: str) -> str:
    return f"/ogc/collections/{cid}/items"


def item(cid: str, fid: str | None = None) -> str:
    return f"/ogc/collections/{cid}/items/" + (fid if fid is not None else target(cid))


def target(cid: str) -> str:
    """The placeholder of a collection's target id, filled in when the case runs."""
    return "{" + cid + "}"


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    body: Any = None  # JSON-able, bytes sent as they are, or a callable giving bytes
    status: int | tuple[int, ...] = 400
    field: str | None = None
    headers: dict[str, str] | None = None  # replaces the default Content-Type
    user: str = "admin"
    bug: str | None = None  # a known bug elsewhere: strict xfail with its description
    server_error: bool = False  # ... which is a 5xx today
    extra: dict[str, str] | None = None  # added to the default headers
    authorization: str | bytes | None = None  # sent instead of `user`'s Basic credentials


CASES: list[Case] = []


def case(*args: Any, **kwargs: Any) -> None:
    CASES.append(Case(*args, **kwargs))


S, P, L, T = "sites", "projects", "mobility_links", "transit_stops"

# --------------------------------------------------------------- invalid geometries
case("geom-bow-tie-site", "POST", items(S), site(BOW_TIE), 422, "geometry")
case("geom-bow-tie-project", "POST", items(P), project(BOW_TIE), 422, "geometry")
case("geom-bow-tie-put-site", "PUT", item(S), site(BOW_TIE), 422, "geometry")
case("geom-bow-tie-patch-project", "PATCH", item(P), {"geometry": BOW_TIE}, 422, "geometry")
case("geom-unclosed-ring", "POST", items(S), site(UNCLOSED), (400, 422), "geometry")
case("geom-too-few-points-polygon", "POST", items(S), site(TOO_FEW), 422, "geometry")
case("geom-too-few-points-line", "POST", items(L),
     link({"type": "LineString", "coordinates": [[X, Y]]}), 422, "geometry")
case("geom-degenerate-line", "POST", items(L),
     link({"type": "LineString", "coordinates": [[X, Y], [X, Y]]}), 422, "geometry")
case("geom-empty-point", "POST", items(T), stop({"type": "Point", "coordinates": []}), 400,
     "geometry")
case("geom-empty-polygon", "POST", items(S), site({"type": "Polygon", "coordinates": []}), 422,
     "geometry")
case("geom-empty-ring", "POST", items(S), site({"type": "Polygon", "coordinates": [[]]}), 422,
     "geometry")
case("geom-empty-multipolygon", "POST", items(S),
     site({"type": "MultiPolygon", "coordinates": []}), 422, "geometry")
case("geom-one-ordinate", "POST", items(T), stop({"type": "Point", "coordinates": [X]}), 400,
     "geometry")
case("geom-five-ordinates", "POST", items(T),
     stop({"type": "Point", "coordinates": [X, Y, 1, 2, 3]}), 400, "geometry")
case("geom-polygon-too-shallow", "POST", items(S),
     site({"type": "Polygon", "coordinates": ring((0, 0), (1, 0), (1, 1), (0, 0))}), 400, "geometry")
case("geom-polygon-too-deep", "POST", items(S),
     site({"type": "Polygon", "coordinates": [[ring((0, 0), (1, 0), (1, 1), (0, 0))]]}), 400,
     "geometry")
case("geom-point-too-deep", "POST", items(T), stop({"type": "Point", "coordinates": [[X, Y]]}),
     400, "geometry")
case("geom-line-too-shallow", "POST", items(L), link({"type": "LineString", "coordinates": [X, Y]}),
     400, "geometry")
case("geom-self-touching-ring", "POST", items(S), site(SELF_TOUCHING), 422, "geometry")
case("geom-spike", "POST", items(S), site(SPIKE), 422, "geometry")
case("geom-hole-outside-shell", "POST", items(S), site(HOLE_OUTSIDE), 422, "geometry")
case("geom-nested-shells", "POST", items(S), site(NESTED_SHELLS), 422, "geometry")
case("geom-string-coordinates", "POST", items(T), stop({"type": "Point", "coordinates": ["a", "b"]}),
     400, "geometry")
case("geom-boolean-coordinates", "POST", items(T),
     stop({"type": "Point", "coordinates": [True, False]}), 400, "geometry")
case("geom-coordinates-text", "POST", items(T), stop({"type": "Point", "coordinates": "9.1 45.4"}),
     400, "geometry")
case("geom-coordinates-missing", "POST", items(T), stop({"type": "Point"}), 400, "geometry")
case("geom-wkt-string", "POST", items(T), stop("POINT(9.185 45.465)"), 400, "geometry")
case("geom-type-unknown", "POST", items(T), stop({"type": "Circle", "coordinates": [X, Y]}), 400,
     "geometry")
case("geom-type-not-a-string", "POST", items(T), stop({"type": ["Point"], "coordinates": [X, Y]}),
     400, "geometry")
case("geom-collection-without-members", "POST", items(P), project({"type": "GeometryCollection"}),
     400, "geometry")
case("geom-latitude-95", "POST", items(T), stop({"type": "Point", "coordinates": [X, 95]}), 422,
     "geometry")

# ------------------------------------------------------ wrong geometry type per collection
case("type-line-for-site", "POST", items(S), site(LINE), 400, "geometry")
case("type-multipoint-for-site", "POST", items(S),
     site({"type": "MultiPoint", "coordinates": [[X, Y]]}), 400, "geometry")
case("type-polygon-for-stop", "POST", items(T), stop(SQUARE), 400, "geometry")
case("type-line-for-stop", "PUT", item(T), stop(LINE), 400, "geometry")
case("type-collection-for-stop", "POST", items(T),
     stop({"type": "GeometryCollection", "geometries": [PT]}), 400, "geometry")
case("type-point-for-link", "POST", items(L), link(PT), 400, "geometry")
case("type-polygon-for-link", "PATCH", item(L), {"geometry": SQUARE}, 400, "geometry")

# ---------------------------------------------------------------------- out of area
case("area-rome-site", "POST", items(S), site(ROME), 422, "geometry")
case("area-rome-stop", "POST", items(T), stop(ROME), 422, "geometry")
case("area-rome-project", "POST", items(P), project(ROME), 422, "geometry")
case("area-link-to-rome", "POST", items(L),
     link({"type": "LineString", "coordinates": [[X, Y], [12.49, 41.89]]}), 422, "geometry")
case("area-5km-outside-site", "POST", items(S), site(FIVE_KM_OUT), 422, "geometry")
case("area-5km-outside-patch-stop", "PATCH", item(T), {"geometry": FIVE_KM_OUT}, 422, "geometry")
case("area-polygon-half-outside", "POST", items(S), site(HALF_OUT), 422, "geometry")
case("area-polygon-half-outside-put", "PUT", item(S), site(HALF_OUT), 422, "geometry")

# ---------------------------------------------------------------------- Content-Crs
case("crs-epsg-9999", "POST", items(T), stop(), 400, "Content-Crs", extra={"Content-Crs": "EPSG:9999"})
case("crs-garbage", "POST", items(T), stop(), 400, "Content-Crs",
     extra={"Content-Crs": "<not a crs>"})
case("crs-empty-brackets", "POST", items(T), stop(), 400, "Content-Crs", extra={"Content-Crs": "<>"})
case("crs-4326-lonlat-swapped", "POST", items(T), stop(), 422, "geometry",
     extra={"Content-Crs": "EPSG:4326"})
case("crs-4326-uri-lonlat-swapped", "PUT", item(S), site(), 422, "geometry",
     extra={"Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/4326>"})
case("crs-utm-given-degrees", "POST", items(T), stop(), 422, "geometry",
     extra={"Content-Crs": "EPSG:32632"})
case("crs-utm-outside-projection", "POST", items(T),
     stop({"type": "Point", "coordinates": [1e11, 1e11]}), 400, "geometry",
     extra={"Content-Crs": "EPSG:32632"})
case("crs-changeset-unknown", "POST", "/api/changesets",
     {"operations": [{"action": "create", "collection": T, "feature": stop()}], "crs": "EPSG:9999"},
     400, "Content-Crs")
case("crs-changeset-not-a-string", "POST", "/api/changesets",
     {"operations": [{"action": "create", "collection": T, "feature": stop()}], "crs": 4326},
     400, "crs")

# ----------------------------------------------------------- NaN and infinities


def stop_at(x: str) -> bytes:
    """A stop whose longitude is the JSON text `x`, written as is."""
    return raw('{"type": "Feature", "properties": {"mode": "bus", "name": "N"},'
               ' "geometry": {"type": "Point", "coordinates": [' + x + ', 45.46]}}')


for token in ("NaN", "Infinity", "-Infinity"):
    case(f"json-{token}-in-coordinates", "POST", items(T), stop_at(token), 400, "body")
    case(f"json-{token}-in-property", "POST", items(P),
         raw('{"type": "Feature", "geometry": null, "properties": {"title": "x",'
             ' "total_cost_eur": ' + token + '}}'), 400, "body")
case("json-1e999-in-coordinates", "POST", items(T), stop_at("1e999"), 400, "geometry")
case("json-1e999-in-property", "PATCH", item(S), raw('{"properties": {"surface_declared_m2": -1e999}}'),
     400, "surface_declared_m2")
case("json-400-digit-integer-in-property", "POST", items(S),
     raw(json.dumps(site(surface_declared_m2=12345)).replace("12345", "1" + "0" * 400)), 400,
     "surface_declared_m2")
case("json-400-digit-integer-in-coordinates", "POST", items(T), stop_at("1" + "0" * 400), 400,
     "geometry")

# ------------------------------------------------------------------- malformed JSON
GOOD_STOP = json.dumps(stop())
case("json-truncated", "POST", items(T), raw(GOOD_STOP[:-7]), 400, "body")
case("json-trailing-comma", "POST", items(T), raw(GOOD_STOP[:-1] + ",}"), 400, "body")
case("json-trailing-comma-in-list", "PUT", item(T),
     raw('{"type": "Feature", "properties": {"mode": "bus", "name": "N"},'
         ' "geometry": {"type": "Point", "coordinates": [9.18, 45.46,]}}'), 400, "body")
case("json-single-quotes", "POST", items(T), raw(GOOD_STOP.replace('"', "'")), 400, "body")
case("json-not-utf8", "POST", items(S), b'\xff\xfe\xfa{"type": "Feature"}', 400, "body")
case("json-latin1-in-string", "POST", items(S), json.dumps(site(name="Caffè"), ensure_ascii=False)
     .encode("latin-1"), 400, "body")
case("json-utf16-with-bom", "POST", items(T), GOOD_STOP.encode("utf-16"), 400, "body")
case("json-utf32-without-bom", "POST", items(T), GOOD_STOP.encode("utf-32-le"), 400, "body")
case("json-empty-body", "POST", items(T), b"", 400, "body")
case("json-empty-body-put", "PUT", item(T), b"", 400, "body")
case("json-empty-body-patch", "PATCH", item(T), b"", 400, "body")
case("json-whitespace-only", "POST", items(T), b"  \n ", 400, "body")
case("json-array", "POST", items(T), [stop()], 400, "body")
case("json-string", "POST", items(T), "Feature", 400, "body")
case("json-null", "PUT", item(T), None, 400, "body")
case("json-number", "PATCH", item(T), 42, 400, "body")
case("json-deeply-nested", "POST", items(T), b"[" * 100_000 + b"]" * 100_000, 400, "body")
case("json-two-documents", "POST", items(T), raw(GOOD_STOP + GOOD_STOP), 400, "body")
DEEP = b"[" * 65 + b"]" * 65  # one level beyond limits.JSON_MAX_DEPTH
case("json-65-deep-post", "POST", items(S), DEEP, 400, "body")
case("json-65-deep-in-a-property", "PATCH", item(S),
     raw('{"properties": {"owner": ' + "[" * 70 + "]" * 70 + "}}"), 400, "body")
case("json-65-deep-changeset", "POST", "/api/changesets", DEEP, 400, "body")
case("json-65-deep-revert", "POST", "/api/collections/sites/items/{sites}/revert", DEEP, 400,
     "body")
case("json-65-deep-review", "POST", "/api/review/sites/{sites}", DEEP, 400, "body")
case("json-deep-objects-review", "POST", "/api/review/sites/{sites}",
     raw('{"a":' * 5000 + "1" + "}" * 5000), 400, "body")
case("json-feature-collection", "POST", items(S), {"type": "FeatureCollection", "features": [site()]},
     400, "type")
case("json-properties-a-list", "POST", items(T), {**stop(), "properties": []}, 400, "properties")
case("json-changeset-truncated", "POST", "/api/changesets", b'{"operations": [', 400, "body")

# ------------------------------------------------------------------ Content-Type
case("ctype-text-plain-post", "POST", items(T), stop(), 415, "Content-Type",
     headers={"Content-Type": "text/plain"})
case("ctype-missing-post", "POST", items(T), stop(), 415, "Content-Type", headers={})
case("ctype-xml-post", "POST", items(T), stop(), 415, "Content-Type",
     headers={"Content-Type": "application/xml"})
case("ctype-form-post", "POST", items(S), site(), 415, "Content-Type",
     headers={"Content-Type": "application/x-www-form-urlencoded"})
case("ctype-text-plain-put", "PUT", item(S), site(), 415, "Content-Type",
     headers={"Content-Type": "text/plain"})
case("ctype-merge-patch-for-put", "PUT", item(S), site(), 415, "Content-Type",
     headers={"Content-Type": "application/merge-patch+json"})
case("ctype-text-plain-patch", "PATCH", item(S), {"properties": {"owner": "x"}}, 415, "Content-Type",
     headers={"Content-Type": "text/plain"})
case("ctype-missing-patch", "PATCH", item(S), {"properties": {"owner": "x"}}, 415, "Content-Type",
     headers={})
case("ctype-xml-patch", "PATCH", item(L), {"properties": {"name": "x"}}, 415, "Content-Type",
     headers={"Content-Type": "application/xml"})

# ---------------------------------------------------------------------- size limit
BIG_NAME = "x" * (5 * 1024 * 1024 + 10)
case("size-post-over-5mb", "POST", items(S), lambda: json.dumps(site(name=BIG_NAME)).encode(), 413)
case("size-put-over-5mb", "PUT", item(S), lambda: json.dumps(site(name=BIG_NAME)).encode(), 413)
case("size-patch-over-5mb", "PATCH", item(T),
     lambda: json.dumps({"properties": {"name": BIG_NAME}}).encode(), 413)
case("size-changeset-over-50mb", "POST", "/api/changesets",
     lambda: json.dumps({"operations": [{"action": "create", "collection": S,
                                         "feature": site(name="x" * (51 * 1024 * 1024))}]}).encode(),
     413)
case("text-longer-than-10000", "POST", items(S), site(name="x" * 10_001), 400, "name")

# --------------------------------------------------------------- unknown properties
case("unknown-property-site", "POST", items(S), site(colour="red"), 400, "colour")
case("unknown-property-project", "POST", items(P), project(budget=5), 400, "budget")
case("unknown-property-link", "PUT", item(L), link(speed=30), 400, "speed")
case("unknown-property-stop-patch", "PATCH", item(T), {"properties": {"platform": "2"}}, 400,
     "platform")
case("unknown-property-geom", "POST", items(S), site(geom="POINT(9 45)"), 400, "geom")
case("unknown-property-surrogate-name", "POST", items(S),
     raw(json.dumps(site()).replace('"former_use"', '"\\ud800"')), 400)
case("unknown-property-istat-code-on-project", "POST", items(P), project(istat_code=MILANO), 400,
     "istat_code")

# ------------------------------------------------- read-only properties, wrong types
case("readonly-version-string", "PUT", item(S), site(version="abc"), 400, "version")
case("readonly-version-boolean", "PATCH", item(S), {"properties": {"version": True}}, 400, "version")
case("readonly-id-list", "POST", items(S), site(id=[1]), 400, "id")
case("readonly-validation-status-number", "POST", items(S), site(validation_status=42), 400,
     "validation_status")
case("readonly-validation-status-unknown", "PATCH", item(P),
     {"properties": {"validation_status": "approved"}}, 400, "validation_status")
case("readonly-created-by-object", "POST", items(T), stop(created_by={"name": "admin"}), 400,
     "created_by")
case("readonly-updated-at-number", "PUT", item(T), stop(updated_at=1700000000), 400, "updated_at")
case("readonly-surface-string", "POST", items(S), site(surface_m2="grande"), 400, "surface_m2")
case("readonly-length-string", "PUT", item(L), link(length_m="lungo"), 400, "length_m")
case("readonly-funding-boolean", "PATCH", item(P), {"properties": {"funding_granted_eur": True}},
     400, "funding_granted_eur")
case("readonly-programme-codes-string", "PUT", item(P), project(programme_codes="M5C2"), 400,
     "programme_codes")
case("readonly-geometry-kind-unknown", "POST", items(S), site(geometry_kind="circle"), 400,
     "geometry_kind")
case("readonly-geometry-kind-number", "PATCH", item(P), {"properties": {"geometry_kind": 2}}, 400,
     "geometry_kind")

# -------------------------------------------------------- id mismatches with the URL
case("id-put-body-differs", "PUT", item(S), {**site(), "id": 987654321}, 400, "id")
case("id-put-body-differs-string", "PUT", item(T), {**stop(), "id": "altro"}, 400, "id")
case("id-patch-body-differs", "PATCH", item(L), {"id": 987654321, "properties": {}}, 400, "id")
case("id-put-properties-differs", "PUT", item(P), project(id=987654321), 400, "id")
case("id-put-body-surrogate", "PUT", item(S), raw('{"type": "Feature", "id": "\\udc00"}'), 400, "id")
case("id-changeset-replace-differs", "POST", "/api/changesets",
     {"operations": [{"action": "replace", "collection": S, "id": target(S), "base_version": 1,
                      "feature": {**site(), "id": 987654321}}]}, 422, "id")

# ------------------------------------------------------------------------ CUP codes
for label, cup in [("too-short", "J41B2"), ("lowercase", "j41b21000120006"),
                   ("digit-first", "141B21000120006"), ("16-chars", "J41B21000120006X"),
                   ("14-chars", "J41B2100012000"), ("with-spaces", "J41 B21000120006"),
                   ("empty", "")]:
    case(f"cup-{label}", "POST", items(P), project(cup=cup), 422, "cup")
case("cup-patch-wrong-pattern", "PATCH", item(P), {"properties": {"cup": "ABCDEFGHIJKLMNO"}}, 422,
     "cup")
case("cup-number", "POST", items(P), project(cup=41210001200061), 400, "cup")

# ------------------------------------------------------------------ negative amounts
case("neg-total-cost", "POST", items(P), project(total_cost_eur=-1), 422, "total_cost_eur")
case("neg-total-cost-patch", "PATCH", item(P), {"properties": {"total_cost_eur": -0.01}}, 422,
     "total_cost_eur")
case("neg-surface-declared", "POST", items(S), site(surface_declared_m2=-5), 422,
     "surface_declared_m2")
case("neg-housing-units", "POST", items(P), project(housing_units_fragile=-3), 422,
     "housing_units_fragile")
case("neg-cultural-space", "PUT", item(P), project(cultural_space_m2=-1), 422, "cultural_space_m2")
case("neg-regenerated", "POST", items(P), project(regenerated_m2=-100), 422, "regenerated_m2")
case("amount-out-of-range", "POST", items(P), project(total_cost_eur=1e12), 400, "total_cost_eur")
case("amount-overflows-numeric-12-2", "POST", items(P), project(cultural_space_m2=5e10), 400,
     "cultural_space_m2")

# ------------------------------------------------------------------------ wrong types
case("type-string-for-integer", "POST", items(P), project(housing_units_fragile="3"), 400,
     "housing_units_fragile")
case("type-float-for-integer", "POST", items(P), project(housing_units_fragile=2.5), 400,
     "housing_units_fragile")
case("type-integer-too-large", "POST", items(P), project(housing_units_fragile=2**31), 400,
     "housing_units_fragile")
case("type-boolean-for-number", "POST", items(P), project(total_cost_eur=True), 400,
     "total_cost_eur")
case("type-string-for-number", "PATCH", item(S), {"properties": {"surface_declared_m2": "100"}},
     400, "surface_declared_m2")
case("type-number-for-string", "POST", items(S), site(name=42), 400, "name")
case("type-list-for-string", "POST", items(P), project(title=["Progetto"]), 400, "title")
case("type-object-for-string", "POST", items(T), stop(operator={"name": "ATM"}), 400, "operator")
case("type-string-for-list", "POST", items(T), stop(lines="M1"), 400, "lines")
case("type-numbers-for-string-list", "POST", items(T), stop(lines=[1, 2]), 400, "lines")
case("type-string-for-istat-codes", "POST", items(P), project(istat_codes=MILANO), 400, "istat_codes")
case("type-strings-for-site-ids", "POST", items(P), project(site_ids=["uno"]), 400, "site_ids")
case("type-text-with-nul", "POST", items(S), site(owner="a\x00b"), 400, "owner")
case("type-text-with-surrogate", "POST", items(S),
     raw(json.dumps(site(owner="OWNER")).replace("OWNER", "\\ud800")), 400, "owner")
case("type-number-for-date", "POST", items(P), project(start_date=20250101), 400, "start_date")
case("date-february-30", "POST", items(P), project(start_date="2025-02-30"), 400, "start_date")
case("date-month-13", "PATCH", item(P), {"properties": {"end_date": "2025-13-01"}}, 400, "end_date")
case("date-italian-format", "POST", items(P), project(start_date="01/02/2025"), 400, "start_date")
case("date-unpadded", "POST", items(P), project(start_date="2025-1-1"), 400, "start_date")
case("date-with-time", "POST", items(P), project(start_date="2025-01-01T10:00:00Z"), 400,
     "start_date")
case("date-end-before-start", "POST", items(P),
     project(start_date="2026-05-01", end_date="2025-01-01"), 422, "end_date")
case("reference-unknown-comune", "POST", items(P), project(istat_codes=["999999"]), 422,
     "istat_codes")
case("reference-unknown-site", "POST", items(P), project(site_ids=[987654321]), 422, "site_ids")
case("reference-unknown-comune-of-site", "POST", items(S), site(istat_code="999999"), 422,
     "istat_code")
case("blank-name", "POST", items(S), site(name="   "), 422, "name")

# ------------------------------------------- enumerations outside the domain, every field
for (cid, name), labels in DOMAINS.items():
    if cid not in EDITABLE or name == "validation_status":
        continue
    case(f"enum-{cid}-{name}-unknown", "POST", items(cid), MAKERS[cid](**{name: "sconosciuto"}),
         400, name)
    italian_label = next(iter(labels.values()))[0]
    case(f"enum-{cid}-{name}-label-not-code", "PATCH", item(cid),
         {"properties": {name: italian_label}}, 400, name)
    case(f"enum-{cid}-{name}-wrong-case", "PUT", item(cid),
         MAKERS[cid](**{name: next(iter(labels)).upper()}), 400, name)

# ------------------------------------------------------- required fields missing or null
REQUIRED = {S: ["name", "state", "geometry"], P: ["title"], L: ["kind", "geometry"],
            T: ["name", "mode", "geometry"]}
for cid, names in REQUIRED.items():
    for name in names:
        case(f"required-{cid}-{name}-missing", "POST", items(cid), without(MAKERS[cid](), name),
             400, name)
        nulled = ({**MAKERS[cid](), "geometry": None} if name == "geometry"
                  else MAKERS[cid](**{name: None}))
        case(f"required-{cid}-{name}-null", "PUT", item(cid), nulled, 400, name)
case("required-site-name-null-patch", "PATCH", item(S), {"properties": {"name": None}}, 422, "name")
case("required-stop-geometry-null-patch", "PATCH", item(T), {"geometry": None}, 400, "geometry")
case("required-stop-lines-null", "PATCH", item(T), {"properties": {"lines": None}}, 422, "lines")
case("required-source-null", "POST", items(S), site(source=None), 422, "source")
case("required-ownership-null", "PATCH", item(S), {"properties": {"ownership": None}}, 422,
     "ownership")

# ---------------------------------------------------------------------------- If-Match
for label, value in [("garbage", "abc"), ("negative", '"-1"'), ("list", '"1", "2"'), ("empty", ""),
                     ("letters-quoted", '"v1"')]:
    case(f"if-match-{label}-put", "PUT", item(S), site(), 400, "If-Match", extra={"If-Match": value})
case("if-match-garbage-patch", "PATCH", item(T), {"properties": {"name": "x"}}, 400, "If-Match",
     extra={"If-Match": "xyz"})
case("if-match-garbage-delete", "DELETE", item(L), None, 400, "If-Match", extra={"If-Match": "W/"})
for cid in EDITABLE:
    case(f"if-match-stale-put-{cid}", "PUT", item(cid), MAKERS[cid](), 412,
         extra={"If-Match": '"999"'})
case("if-match-stale-patch", "PATCH", item(P), {"properties": {"title": "x"}}, 412,
     extra={"If-Match": '"0"'})
case("if-match-stale-delete", "DELETE", item(T), None, 412, extra={"If-Match": 'W/"998"'})

# ------------------------------------------------------------- missing or malformed ids
for cid in EDITABLE:
    case(f"missing-id-put-{cid}", "PUT", item(cid, "987654321"), MAKERS[cid](), 404)
    case(f"missing-id-patch-{cid}", "PATCH", item(cid, "987654321"), {"properties": {}}, 404)
    case(f"missing-id-delete-{cid}", "DELETE", item(cid, "987654321"), None, 404)
for label, fid in [("letters", "abc"), ("decimal", "1.5"), ("negative", "-1"), ("exponent", "1e3"),
                   ("percent-encoded", "%C3%A9")]:
    case(f"bad-id-{label}-patch", "PATCH", item(S, fid), {"properties": {}}, 404)
case("bad-id-letters-delete", "DELETE", item(T, "abc"), None, 404)
case("bad-id-letters-put", "PUT", item(L, "abc"), link(), 404)
case("bad-id-beyond-bigint-patch", "PATCH", item(S, "99999999999999999999"), {"properties": {}}, 404)

# ----------------------------------------------------- unknown and read-only collections
case("collection-unknown-post", "POST", items("nope"), site(), 404)
case("collection-unknown-put", "PUT", item("nope", "1"), site(), 404)
case("collection-unknown-patch", "PATCH", item("nope", "1"), {"properties": {}}, 404)
case("collection-unknown-delete", "DELETE", item("nope", "1"), None, 404)
case("collection-referents-post", "POST", items("referents"), {"type": "Feature", "properties": {}},
     404)
case("collection-comuni-post", "POST", items("comuni"), site(), (404, 405))
case("collection-comuni-put", "PUT", item("comuni", MILANO), site(), (404, 405))
case("collection-comuni-patch", "PATCH", item("comuni", MILANO), {"properties": {"name": "x"}},
     (404, 405))
case("collection-comuni-delete", "DELETE", item("comuni", MILANO), None, (404, 405))

# ------------------------------------------------------------------------- credentials
def b64(raw: bytes) -> str:
    import base64

    return "Basic " + base64.b64encode(raw).decode()


PW = b"una-password-lunga"
BAD_CREDENTIALS = [
    ("nul-in-username", b64(b"admin\x00:" + PW), 401),
    ("nul-in-password", b64(b"admin:" + PW + b"\x00"), 401),
    ("control-char-in-username", b64(b"adm\x1bin:" + PW), 401),
    ("encoded-surrogate-username", b64(b"\xed\xa0\x80:" + PW), 401),
    ("surrogate-in-username", b64("admin\ud800".encode("utf-8", "surrogatepass") + b":" + PW), 401),
    ("latin1-not-utf8", b64("admin:caffè".encode("latin-1")), 401),
    ("non-ascii-header-bytes", b"Basic \xe9\xe8\xff", 401),
    ("non-ascii-bearer", b"Bearer rg_\xe9\xe8", 401),
    ("not-base64", "Basic !!!?", 401),
    ("no-colon", b64(b"admin"), 401),
    ("empty-basic", "Basic", 401),
    ("bearer-not-ours", "Bearer abc.def.ghi", 401),
    ("unknown-scheme", "Digest username=admin", 401),
    ("oversized-header", "Basic " + "QUFB" * 1300, 431),
]
for label, header, status in BAD_CREDENTIALS:
    case(f"credentials-{label}-post", "POST", items(S), site(), status, "Authorization",
         authorization=header)
    case(f"credentials-{label}-patch", "PATCH", item(T), {"properties": {"name": "x"}}, status,
         "Authorization", authorization=header)
    case(f"credentials-{label}-changeset", "POST", "/api/changesets",
         {"operations": [{"action": "create", "collection": T, "feature": stop()}]}, status,
         "Authorization", authorization=header)

# -------------------------------------------------------------------------- changesets
CS = "/api/changesets"


def op(action: str, cid: str = S, **kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"action": action, "collection": cid, **kw}
    if action != "delete" and "feature" not in kw:
        out["feature"] = MAKERS[cid]() if action in ("create", "replace") else {"properties": {}}
    if action != "create":
        out.setdefault("id", target(cid))
        out.setdefault("base_version", 1)
    return out


case("changeset-empty-list", "POST", CS, {"operations": []}, 400, "operations")
case("changeset-not-a-list", "POST", CS, {"operations": op("create")}, 400, "operations")
case("changeset-operations-missing", "POST", CS, {"comment": "niente"}, 400, "operations")
case("changeset-body-a-list", "POST", CS, [op("create")], 400, "operations")
case("changeset-body-a-string", "POST", CS, "operations", 400, "operations")
case("changeset-unknown-action", "POST", CS, {"operations": [op("upsert")]}, 422, "action")
case("changeset-action-missing", "POST", CS,
     {"operations": [{"collection": S, "feature": site()}]}, 422, "action")
case("changeset-action-a-list", "POST", CS,
     {"operations": [{"action": ["create"], "collection": S, "feature": site()}]}, 422, "action")
case("changeset-operation-not-an-object", "POST", CS, {"operations": ["create"]}, 422, "action")
case("changeset-operation-null", "POST", CS, {"operations": [None]}, 422, "action")
case("changeset-missing-base-version", "POST", CS,
     {"operations": [{k: v for k, v in op("patch").items() if k != "base_version"}]}, 422,
     "base_version")
case("changeset-base-version-string", "POST", CS, {"operations": [op("delete", base_version="1")]},
     422, "base_version")
case("changeset-base-version-boolean", "POST", CS, {"operations": [op("patch", base_version=True)]},
     422, "base_version")
case("changeset-id-missing", "POST", CS,
     {"operations": [{k: v for k, v in op("delete").items() if k != "id"}]}, 422, "id")
case("changeset-id-null", "POST", CS, {"operations": [op("delete", id=None)]}, 422, "id")
case("changeset-on-missing-id", "POST", CS, {"operations": [op("patch", id="987654321")]}, 422)
case("changeset-delete-missing-id", "POST", CS, {"operations": [op("delete", T, id="987654321")]},
     422)
case("changeset-stale-base-version", "POST", CS, {"operations": [op("patch", L, base_version=7)]},
     409)
case("changeset-unknown-collection", "POST", CS, {"operations": [op("create", S) | {
    "collection": "nope"}]}, 422)
case("changeset-comuni", "POST", CS, {"operations": [op("create") | {"collection": "comuni"}]}, 422)
case("changeset-feature-missing", "POST", CS,
     {"operations": [{"action": "create", "collection": S}]}, 422, "body")
case("changeset-bad-feature", "POST", CS, {"operations": [op("create", feature=site(state="ruined"))]},
     422, "state")
case("changeset-one-bad-among-many", "POST", CS, {"operations": [
    *[op("create", feature=site(name=f"Lotto {i}"), ref=i) for i in range(20)],
    op("create", feature=site(condition="rovinata"), ref="bad"),
    *[op("create", T, feature=stop(name=f"Fermata {i}"), ref=f"t{i}") for i in range(20)]]},
     422, "condition")
case("changeset-one-outside-among-many", "POST", CS, {"operations": [
    op("patch", S, feature={"properties": {"owner": "Lotto"}}),
    op("patch", T, feature={"properties": {"operator": "Lotto"}}),
    op("patch", L, feature={"geometry": {"type": "LineString", "coordinates": [[X, Y], [12.4, 41.9]]}}),
    op("patch", P, feature={"properties": {"description": "Lotto"}})]}, 422, "geometry")
case("changeset-one-conflict-among-many", "POST", CS, {"operations": [
    op("patch", S, feature={"properties": {"owner": "Lotto"}}),
    op("patch", T, base_version=5, feature={"properties": {"operator": "Lotto"}})]}, 409)
case("changeset-same-feature-deleted-twice", "POST", CS,
     {"operations": [op("delete", T), op("delete", T)]}, (409, 422))
case("changeset-unknown-property-surrogate", "POST", CS,
     raw(json.dumps({"operations": [op("create", feature=site(colour="x"))]})
         .replace('"colour"', '"\\udfff"')), 422)
case("changeset-id-surrogate", "POST", CS,
     raw(json.dumps({"operations": [op("delete", id="ID")]}).replace('"ID"', '"\\ud800"')), 422)
case("changeset-as-coordinator", "POST", CS, {"operations": [op("create", P, feature=project(
    status="finito"))]}, 422, "status", user="coord")

# ------------------------------- text PostgreSQL cannot hold, in comments, ids and URLs
PATCH_OWNER = {"properties": {"owner": "x"}}
for label, text in [("nul", "a\x00b"), ("surrogate", "a\ud800b"), ("low-surrogate", "\udc00")]:
    case(f"changeset-comment-{label}", "POST", CS,
         {"comment": text, "operations": [op("patch", feature=PATCH_OWNER)]}, 400, "comment")
    case(f"changeset-op-id-{label}", "POST", CS, {"operations": [op("delete", T, id=text)]}, 422,
         "id")
    case(f"changeset-op-collection-{label}", "POST", CS,
         {"operations": [op("patch", feature=PATCH_OWNER) | {"collection": text}]}, 422,
         "collection")
    for decision in ("accept", "reject"):
        case(f"review-{decision}-comment-{label}", "POST", f"/api/review/{S}/{target(S)}",
             {"decision": decision, "comment": text, "base_version": 1}, 400, "comment")
    case(f"review-decision-{label}", "POST", f"/api/review/{S}/{target(S)}",
         {"decision": text}, 400, "decision")
    case(f"revert-base-version-{label}", "POST", f"/api/collections/{S}/items/{target(S)}/revert",
         {"version": 1, "base_version": text}, 400, "base_version")
case("changeset-comment-number", "POST", CS,
     {"comment": 42, "operations": [op("patch", feature=PATCH_OWNER)]}, 400, "comment")
case("changeset-comment-longer-than-10000", "POST", CS,
     {"comment": "x" * 10_001, "operations": [op("patch", feature=PATCH_OWNER)]}, 400, "comment")
case("review-comment-a-list", "POST", f"/api/review/{S}/{target(S)}",
     {"decision": "accept", "comment": ["ok"]}, 400, "comment")
case("review-body-a-list", "POST", f"/api/review/{S}/{target(S)}", [{"decision": "accept"}], 400,
     "body")
# In URLs: NUL (%00) and bytes that are not UTF-8 (an encoded surrogate, a lone byte).
for label, raw_id in [("nul", "%00"), ("nul-inside", "1%00"), ("surrogate", "%ED%A0%80"),
                      ("lone-byte", "%C3")]:
    case(f"url-id-{label}-patch", "PATCH", item(S, raw_id), {"properties": {}}, 400, "path")
    case(f"url-id-{label}-put", "PUT", item(T, raw_id), stop(), 400, "path")
    case(f"url-id-{label}-delete", "DELETE", item(L, raw_id), None, 400, "path")
    case(f"url-collection-{label}-post", "POST", items(raw_id), site(), 400, "path")
    case(f"url-revert-id-{label}", "POST", f"/api/collections/{S}/items/{raw_id}/revert",
         {"version": 1}, 400, "path")
    case(f"url-review-id-{label}", "POST", f"/api/review/{S}/{raw_id}", {"decision": "accept"},
         400, "path")
    case(f"url-query-{label}-post", "POST", items(S) + f"?note={raw_id}", site(), 400, "note")


# ------------------------------------------------- a project is located (geometry or comune)
case("located-project-neither", "POST", items(P), project(None, istat_codes=[]), 422,
     "istat_codes")
case("located-project-neither-coordinator", "POST", items(P), project(None, istat_codes=[]), 422,
     "istat_codes", user="coord")
case("located-project-no-comuni-property", "POST", items(P),
     without(project(None), "istat_codes"), 422, "istat_codes")
case("located-project-put-neither", "PUT", item(P), project(None, istat_codes=[]), 422,
     "istat_codes")
case("located-project-patch-neither", "PATCH", item(P),
     {"geometry": None, "properties": {"istat_codes": []}}, 422, "istat_codes")
case("located-project-changeset-neither", "POST", "/api/changesets", {"operations": [
    {"action": "create", "collection": P, "feature": project(None, istat_codes=[])}]}, 422,
     "istat_codes")

# ------------------------------------------ a technician's reach (Milano's technician)
# Literal shapes here; the matrix (test_authz_matrix) builds them from the real boundaries.
TINY_IN_MILANO = [ring((0, 0), (1, 0), (1, 1), (0, 1), (0, 0), step=0.0001)]
IN_LEGNANO = [[[8.905, 45.594], [8.911, 45.594], [8.911, 45.599], [8.905, 45.599], [8.905, 45.594]]]
MULTI_FAR = {"type": "MultiPolygon", "coordinates": [TINY_IN_MILANO, IN_LEGNANO]}
case("reach-multipart-tiny-part-in-milano", "POST", items(S), site(MULTI_FAR), 403, "geometry",
     user="tecnico")
case("reach-multipart-put", "PUT", item(S), site(MULTI_FAR), 403, "geometry", user="tecnico")
case("reach-link-to-legnano", "PATCH", item(L),
     {"geometry": {"type": "LineString", "coordinates": [[X, Y], [8.908, 45.596]]}}, 403,
     "geometry", user="tecnico")
case("reach-project-comune-of-sesto", "POST", items(P), project(istat_codes=[MILANO, "015209"]),
     403, "istat_codes", user="tecnico")
case("reach-site-labelled-sesto", "PATCH", item(S), {"properties": {"istat_code": "015209"}}, 403,
     "istat_code", user="tecnico")
case("reach-changeset-one-far-among-many", "POST", "/api/changesets", {"operations": [
    op("patch", S, feature={"properties": {"owner": "Lotto"}}),
    op("patch", T, feature={"properties": {"operator": "Lotto"}}),
    op("patch", L, feature={"geometry": {"type": "LineString",
                                         "coordinates": [[X, Y], [8.908, 45.596]]}})]},
     403, "geometry", user="tecnico")
case("reach-project-nowhere-technician", "POST", items(P), project(None, istat_codes=[]), 422,
     "istat_codes", user="tecnico")


def _params() -> list[Any]:
    ids = [c.id for c in CASES]
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, duplicates
    return [pytest.param(c, id=c.id) for c in CASES]


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def targets(api):
    """One feature per editable collection, at version 1: what PUT/PATCH/DELETE cases aim at."""
    out = {}
    for cid, make in MAKERS.items():
        r = api.post(items(cid), json=make(), headers={**GEOJSON, **basic("admin")})
        assert r.status_code == 201, r.text
        out[cid] = r.headers["location"].rsplit("/", 1)[1]
    return out


def _fill(value: Any, ids: dict[str, str]) -> Any:
    """Put the target ids into `{sites}`-style placeholders of a JSON body."""
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids.get(value[1:-1], value)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def _send(client: httpx.Client, c: Case, ids: dict[str, str]) -> httpx.Response:
    path = c.path.format(**ids) if "{" in c.path else c.path
    if callable(c.body):
        content = c.body()
    elif isinstance(c.body, bytes):
        content = c.body
    else:
        content = json.dumps(_fill(c.body, ids)).encode()
    if c.headers is not None:
        headers = dict(c.headers)
    elif c.path.startswith("/api/"):
        headers = dict(JSON)
    else:
        headers = dict(MERGE if c.method == "PATCH" else GEOJSON)
    headers.update(c.extra or {})
    headers.update(basic(c.user))
    if c.authorization is not None:
        headers["Authorization"] = c.authorization  # type: ignore[assignment]  # bytes: raw
    if c.method == "DELETE":
        return client.request("DELETE", path, headers=headers)
    return client.request(c.method, path, content=content, headers=headers)


def _fields(doc: dict[str, Any]) -> set[str]:
    fields = {e.get("field") for e in doc.get("errors") or []}
    for p in doc.get("problems") or []:
        fields |= {e.get("field") for e in p.get("errors") or []}
    return fields


def _check_refusal(r: httpx.Response) -> None:
    """What every refusal must be: a 4xx OGC exception document with a message."""
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/json"), r.headers["content-type"]
    doc = r.json()
    assert isinstance(doc, dict) and doc.get("code") and doc.get("type"), doc
    assert isinstance(doc.get("description"), str) and doc["description"].strip(), doc
    for p in doc.get("problems") or []:  # a changeset says why each operation failed
        assert p["status"] >= 400 and p["description"].strip(), p


def _check(c: Case, r: httpx.Response) -> None:
    """The exact answer this case must get."""
    expected = c.status if isinstance(c.status, tuple) else (c.status,)
    assert r.status_code in expected, (r.status_code, r.text[:500])
    doc = r.json()
    if c.field is not None:
        assert c.field in _fields(doc), (c.field, doc)
    if r.status_code == 412:
        assert doc["currentVersion"] == 1 and r.headers["etag"] == '"1"'


# -------------------------------------------------------------------------------- tests
def test_the_corpus_is_large_enough():
    assert len(CASES) >= 100, len(CASES)


@pytest.mark.parametrize("c", _params())
def test_bad_write_is_refused_and_changes_nothing(live, fingerprint, api, targets, c):
    before = fingerprint()
    if c.bug:  # its own connection: a 500 closes it
        with httpx.Client(base_url=live.url, timeout=60) as client:
            r = _send(client, c, targets)
    else:
        r = _send(api, c, targets)
    assert fingerprint() == before  # whatever the answer, nothing was written
    if not c.server_error:
        _check_refusal(r)
    if c.bug is None:
        _check(c, r)
        return
    try:
        _check_refusal(r)
        _check(c, r)
    except AssertionError:
        pytest.xfail(c.bug)
    pytest.fail(f"fixed? {c.id} now answers as expected: drop its `bug` note ({c.bug})")


def test_patch_accepts_geojson_and_merge_patch_media_types(api):
    """The positive side of the Content-Type cases: PATCH takes geo+json and merge-patch+json."""
    r = api.post(items(T), json=stop(name="Da modificare"), headers={**GEOJSON, **basic("admin")})
    url = r.headers["location"]
    for n, media in enumerate(["application/geo+json", "application/merge-patch+json",
                               "application/json; charset=utf-8"], start=1):
        r = api.patch(url, json={"properties": {"operator": f"Gestore {n}"}},
                      headers={"Content-Type": media, "If-Match": f'"{n}"', **basic("admin")})
        assert r.status_code == 204, (media, r.text)
        assert r.headers["etag"] == f'"{n + 1}"'
    assert api.get(url).json()["properties"]["operator"] == "Gestore 3"


def test_read_only_properties_with_their_published_types_round_trip(api):
    """What a client read (id, version, surface_m2, validation_status...) may be sent back."""
    r = api.post(items(S), json=site(name="Andata e ritorno"), headers={**GEOJSON, **basic("admin")})
    url = r.headers["location"]
    doc = api.get(url).json()
    doc["properties"]["name"] = "Ritorno"
    r = api.put(url, json=doc, headers={**GEOJSON, **basic("admin"), "If-Match": '"1"'})
    assert r.status_code == 204, r.text
    after = api.get(url).json()["properties"]
    assert after["name"] == "Ritorno" and after["version"] == 2
    assert after["validation_status"] == doc["properties"]["validation_status"]
