"""The OGC API's OpenAPI document: self-contained, and true to our routes.

pygeoapi generates a document whose responses, parameters and schemas are
``$ref``s to schemas.opengis.net and raw.githubusercontent.com (offline clients
and schemathesis cannot resolve them), describes no write, no security and none
of our own behaviour (cursor paging, ETags, TileJSON, 204 tiles), and gets some
answers wrong (conformance described as a landing page, CQL2 bodies as plain
JSON). We keep from it only what it derives from the data (the info block, the
servers, and each collection's property parameters) and build the paths from our
route table (rigenera/ogc/routes.py) with the components of ``openapi.yml``,
written after the OGC standards. ``assert_self_contained`` refuses, at start-up,
any ``$ref`` that does not point inside the document.

The write bodies of each editable collection (which properties, types,
enumerations) come from the database catalogue, known only once the pools are
open: ``describe_writes`` fills them in then.
"""

from __future__ import annotations

import copy
import importlib
from importlib import resources
from typing import Any

import yaml

from rigenera import __version__
from rigenera.catalogue import COLLECTIONS
from rigenera.editing.model import EDITABLE, GEOMETRY_REQUIRED, GEOMETRY_TYPES, EditableCollection
from rigenera.ogc.crs import SUPPORTED_CRS
from rigenera.ogc.jobs import JOB_CREATED, PREFER, job_paths
from rigenera.settings import Settings

OPENAPI_VERSION = "3.0.3"
COMPONENTS: dict[str, Any] = yaml.safe_load(
    resources.files("rigenera.ogc").joinpath("openapi.yml").read_text(encoding="utf-8"))
# Parameters of pygeoapi's items operation that are not a collection's properties.
_NOT_PROPERTIES = {"f", "lang", "bbox", "limit", "crs", "bbox-crs", "properties", "skipGeometry",
                   "sortby", "offset", "datetime", "q", "filter", "filter-lang", "filter-crs",
                   "resulttype", "after", "vendorSpecificParameters"}
_SCALARS = {"string", "integer", "number", "boolean"}
Security = list[dict[str, list[str]]]
WRITE_SECURITY: Security = [{"basic": []}, {"bearer": []}]
OPTIONAL_SECURITY: Security = [{}, {"basic": []}, {"bearer": []}]  # anonymous, or with credentials
GEOJSON = "application/geo+json"
MERGE_PATCH = "application/merge-patch+json"
CQL2_JSON = "application/query-cql-json"
# GeoJSON geometry schemas by the PostGIS type names of editing/model.py.
_GEOMETRY_SCHEMAS = {
    "POINT": "pointGeoJSON", "MULTIPOINT": "multipointGeoJSON",
    "LINESTRING": "linestringGeoJSON", "MULTILINESTRING": "multilinestringGeoJSON",
    "POLYGON": "polygonGeoJSON", "MULTIPOLYGON": "multipolygonGeoJSON",
    "GEOMETRYCOLLECTION": "geometrycollectionGeoJSON",
}


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _param(name: str) -> dict[str, str]:
    return _ref("parameters", name)


def _resp(name: str) -> dict[str, str]:
    return _ref("responses", name)


def _responses(ok: dict[str, Any], *errors: str, cached: bool = False) -> dict[str, Any]:
    """Success answers, the listed error statuses, and what any request may meet:
    a bug (500, logged) or the database away (503)."""
    names = {"304": "NotModified", "400": "InvalidParameter", "401": "Unauthorized",
             "403": "Forbidden", "404": "NotFound", "406": "NotAcceptable", "409": "Conflict",
             "412": "PreconditionFailed", "413": "PayloadTooLarge",
             "415": "UnsupportedMediaType", "422": "UnprocessableEntity",
             "429": "TooManyRequests"}
    out = dict(ok)
    if cached:
        out["304"] = _resp("NotModified")
    for status in errors:
        out[status] = _resp(names[status])
    out["500"] = _resp("ServerError")
    out["503"] = _resp("ServiceUnavailable")
    return out


def _op(op_id: str, summary: str, tags: list[str], parameters: list[Any],
        responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": op_id, "summary": summary, "tags": tags,
                          "parameters": parameters, "responses": responses}
    op.update(extra)
    return op


def _camel(cid: str) -> str:
    return "".join(part.capitalize() for part in cid.split("_"))


def _components(settings: Settings) -> dict[str, Any]:
    """Our components, with the values of this configuration."""
    components = copy.deepcopy(COMPONENTS)
    params = components["parameters"]
    params["limit"]["schema"].update(maximum=settings.ogc_max_items,
                                     default=settings.ogc_default_items)
    for name in ("crs", "bbox-crs", "filter-crs"):
        params[name]["schema"]["enum"] = list(SUPPORTED_CRS)
    return components


def _property_parameters(generated: dict[str, Any], cid: str) -> tuple[list[Any], list[str]]:
    """A collection's `property=value` parameters and property names, as pygeoapi derived
    them from the table (types included)."""
    path = generated.get("paths", {}).get(f"/collections/{cid}/items", {})
    params = path.get("get", {}).get("parameters", [])
    inline = [p for p in params if isinstance(p, dict) and "name" in p]
    names: list[str] = []
    for p in inline:
        if p["name"] == "properties":
            names = list(p.get("schema", {}).get("items", {}).get("enum", []))
    equals = []
    for p in inline:
        schema = {k: v for k, v in p.get("schema", {}).items() if v is not None}
        if p["name"] in _NOT_PROPERTIES or schema.get("type") not in _SCALARS:
            continue  # arrays (programme_codes, ...) are not compared by `name=value`
        equals.append({**p, "schema": schema, "description": p.get(
            "description", f"Only features whose `{p['name']}` equals this value.")})
    return equals, names


def _server_paths() -> dict[str, Any]:
    cached = [_param("If-None-Match")]
    return {
        "/": {"get": _op("getLandingPage", "Landing page", ["server"],
                         [_param("f"), _param("lang"), *cached],
                         _responses({"200": _resp("LandingPage")}, "400", cached=True))},
        "/openapi": {"get": _op("getOpenapi", "This API definition", ["server"],
                                [_param("fDocument"), _param("lang"), _param("openapiUi"),
                                 *cached],
                                _responses({"200": _resp("OpenAPI")}, "400", cached=True))},
        "/conformance": {"get": _op("getConformanceDeclaration", "Conformance classes",
                                    ["server"], [_param("f"), _param("lang"), *cached],
                                    _responses({"200": _resp("Conformance")}, "400",
                                               cached=True))},
        "/collections": {"get": _op("getCollections", "The collections", ["server"],
                                    [_param("f"), _param("lang"), *cached],
                                    _responses({"200": _resp("Collections")}, "400",
                                               cached=True))},
        "/TileMatrixSets": {"get": _op(
            "getTileMatrixSetsList", "Tile matrix sets", ["tiles"],
            [_param("fDocument"), *cached],
            _responses({"200": _resp("TileMatrixSets")}, "400", cached=True))},
        "/TileMatrixSets/{tileMatrixSetId}": {"get": _op(
            "getTileMatrixSet", "A tile matrix set definition", ["tiles"],
            [_param("tileMatrixSetDefinitionId"), _param("fDocument"), *cached],
            _responses({"200": _resp("TileMatrixSet")}, "400", "404", cached=True))},
    }


def _items_get_parameters(equals: list[Any], names: list[str]) -> list[Any]:
    properties = copy.deepcopy(COMPONENTS["parameters"]["properties"])
    sortby = copy.deepcopy(COMPONENTS["parameters"]["sortby"])
    if names:  # this collection's own property names
        properties["schema"]["items"]["enum"] = names
        sortby["schema"]["items"] = {"type": "string", "enum": [
            f"{sign}{name}" for name in names for sign in ("", "+", "-")]}
    return [
        _param("fItems"), _param("lang"), _param("bbox"), _param("bbox-crs"), _param("crs"),
        _param("limit"), _param("offset"), _param("after"), _param("resulttype"),
        _param("datetime"), _param("skipGeometry"), sortby, properties,
        _param("filter"), _param("filter-lang"), _param("filter-crs"),
        _param("If-None-Match"), *equals,
    ]


def _collection_paths(c: Any, generated: dict[str, Any]) -> dict[str, Any]:
    """The read, write and tile operations of one collection."""
    cid, name, tags = c.id, _camel(c.id), [c.id]
    title = c.title["it"]
    editable = cid in EDITABLE
    equals, names = _property_parameters(generated, cid)
    cached = [_param("If-None-Match")]
    base = f"/collections/{cid}"
    paths: dict[str, Any] = {}
    paths[base] = {"get": _op(f"describe{name}Collection", f"{title}: metadata", tags,
                              [_param("f"), _param("lang"), *cached],
                              _responses({"200": _resp("Collection")}, "400", cached=True))}
    for suffix, op_id, summary in (("queryables", "Queryables", "queryables (CQL2)"),
                                   ("schema", "Schema", "schema of the features")):
        params = [_param("fDocument"), _param("lang"), *cached]
        if suffix == "queryables":
            params.insert(1, _param("queryablesProfile"))
        paths[f"{base}/{suffix}"] = {"get": _op(
            f"get{name}{op_id}", f"{title}: {summary}", tags, params,
            _responses({"200": _resp("JsonSchema")}, "400", cached=True))}

    # Items: GET reads; POST is a CQL2-JSON query, or (GeoJSON) a creation.
    query_body = {"schema": _ref("schemas", "cql2Expression")}
    post_content: dict[str, Any] = {CQL2_JSON: query_body}
    post_responses: dict[str, Any] = {"200": _resp("Features")}
    post_errors = ["400", "413", "415"]
    post_extra: dict[str, Any] = {}
    if editable:
        post_content[GEOJSON] = {"schema": _ref("schemas", f"{cid}Feature")}
        post_responses["201"] = _resp("Created")
        post_errors += ["401", "403", "404", "409", "422", "429"]
        post_extra["security"] = OPTIONAL_SECURITY
    items: dict[str, Any] = {
        "get": _op(f"get{name}Features", f"{title}: features", tags,
                   _items_get_parameters(equals, names),
                   _responses({"200": _resp("Features")}, "400", "404", cached=True)),
        "post": _op(
            f"post{name}Features", f"{title}: query with CQL2-JSON, or create a feature", tags,
            [_param("fItems"), _param("bbox"), _param("crs"), _param("limit"), _param("offset"),
             _param("skipGeometry"), _param("filter-crs"), _param("Content-Crs")],
            _responses(post_responses, *post_errors),
            description=(
                "`application/query-cql-json`: the body is a CQL2-JSON filter and the answer a "
                "page of features, as GET (anonymous). `application/geo+json`: the body is a "
                "new feature (OGC API - Features Part 4), written by an authenticated "
                "technician, coordinator or admin; 201 with its Location and ETag."
                if editable else
                "The body is a CQL2-JSON filter; the answer a page of features, as GET."),
            requestBody={"required": True, "content": post_content},
            **post_extra),
        "options": _op(f"options{name}Features", f"{title}: what the caller may do", tags, [],
                       _responses({"204": _resp("Options")}, "404"),
                       security=OPTIONAL_SECURITY),
    }
    paths[f"{base}/items"] = items

    item_id = _param("featureId")
    item: dict[str, Any] = {
        "get": _op(f"get{name}Feature", f"{title}: one feature", tags,
                   [item_id, _param("f"), _param("lang"), _param("crs"), *cached],
                   _responses({"200": _resp("Feature")}, "400", "404", cached=True)),
        "options": _op(f"options{name}Feature", f"{title}: what the caller may do with it",
                       tags, [item_id], _responses({"204": _resp("Options")}, "404"),
                       security=OPTIONAL_SECURITY),
    }
    if editable:
        write_errors = ["400", "401", "403", "404", "409", "412", "413", "415", "422", "429"]
        headers = [item_id, _param("If-Match"), _param("Content-Crs")]
        feature_body = {"schema": _ref("schemas", f"{cid}Feature")}
        item["put"] = _op(
            f"replace{name}Feature", f"{title}: replace a feature", tags, headers,
            _responses({"204": _resp("Updated")}, *write_errors), security=WRITE_SECURITY,
            description="The whole feature: properties left out become empty. The id in the "
                        "body, if any, must be the URL's.",
            requestBody={"required": True, "content": {GEOJSON: feature_body,
                                                       "application/json": feature_body}})
        patch_body = {"schema": _ref("schemas", f"{cid}Patch")}
        item["patch"] = _op(
            f"update{name}Feature", f"{title}: change some properties or the geometry", tags,
            headers, _responses({"204": _resp("Updated")}, *write_errors),
            security=WRITE_SECURITY,
            description="JSON merge patch (RFC 7396) of the feature: only the properties "
                        "and/or the geometry given change; `null` empties a property.",
            requestBody={"required": True, "content": {MERGE_PATCH: patch_body,
                                                       GEOJSON: patch_body,
                                                       "application/json": patch_body}})
        item["delete"] = _op(
            f"delete{name}Feature", f"{title}: delete a feature", tags,
            [item_id, _param("If-Match")],
            _responses({"204": _resp("Deleted")}, "400", "401", "403", "404", "409", "412",
                       "422", "429"),
            security=WRITE_SECURITY)
    paths[f"{base}/items/{{featureId}}"] = item

    if not c.tiles:
        return paths
    tms = _param("tileMatrixSetId")
    paths[f"{base}/tiles"] = {"get": _op(
        f"get{name}TileSetsList", f"{title}: vector tilesets", tags,
        [_param("f"), _param("lang"), *cached],
        _responses({"200": _resp("TileSets")}, "400", "404", cached=True))}
    for suffix, op_id in (("", "TileSet"), ("/metadata", "TileSetMetadata")):
        paths[f"{base}/tiles/{{tileMatrixSetId}}{suffix}"] = {"get": _op(
            f"get{name}{op_id}", f"{title}: vector tileset metadata", tags,
            [tms, _param("fTileSet"), _param("lang"), *cached],
            _responses({"200": _resp("TileSet")}, "400", "404", cached=True))}
    paths[f"{base}/tiles/{{tileMatrixSetId}}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"] = {
        "get": _op(f"get{name}Tile", f"{title}: a vector tile", tags,
                   [tms, _param("tileMatrix"), _param("tileRow"), _param("tileCol"),
                    _param("fTile"), *cached],
                   _responses({"200": _resp("Tile"), "204": _resp("EmptyTile")}, "400", "404",
                              cached=True))}
    return paths


def _process_paths(config: dict[str, Any]) -> dict[str, Any]:
    cached = [_param("If-None-Match")]
    paths: dict[str, Any] = {"/processes": {"get": _op(
        "getProcesses", "The processes", ["processes"], [_param("f"), *cached],
        _responses({"200": _resp("ProcessList")}, "400", cached=True))}}
    for pid, resource in config["resources"].items():
        if resource.get("type") != "process":
            continue
        module = resource["processor"]["name"].rpartition(".")[0]
        meta = importlib.import_module(module).PROCESS_METADATA
        title = meta["title"]["it"] if isinstance(meta["title"], dict) else meta["title"]
        inputs = {name: spec["schema"] for name, spec in meta.get("inputs", {}).items()}
        body_schema = copy.deepcopy(COMPONENTS["schemas"]["execute"])
        body_schema["properties"]["inputs"] = {"type": "object", "properties": inputs,
                                               "additionalProperties": False}
        paths[f"/processes/{pid}"] = {"get": _op(
            f"describe{_camel(pid.replace('-', '_'))}Process", f"{title}: description",
            ["processes"], [_param("f"), *cached],
            _responses({"200": _resp("Process")}, "400", "404", cached=True))}
        paths[f"/processes/{pid}/execution"] = {"post": _op(
            f"execute{_camel(pid.replace('-', '_'))}", f"{title}: run",
            ["processes"], [PREFER],
            _responses({"200": {
                "description": "The output itself (GeoJSON), or with `response: document` "
                               "{\"outputs\": {...}}.",
                "content": {GEOJSON: {"schema": _ref("schemas", "featureCollectionGeoJSON")},
                            "application/json": {"schema": {"type": "object"}}}},
                "201": JOB_CREATED},
                "400", "404", "413"),
            requestBody={"required": True, "content": {"application/json": {
                "schema": body_schema, "example": meta.get("example", {"inputs": {}})}}})}
    return paths


def build_openapi(generated: dict[str, Any], config: dict[str, Any],
                  settings: Settings) -> dict[str, Any]:
    """The document served at /ogc/openapi, from pygeoapi's generated one and our routes."""
    components = _components(settings)
    # Generic until describe_writes() knows the fields; only published collections.
    for cid in (c.id for c in COLLECTIONS if c.id in EDITABLE):
        components["schemas"][f"{cid}Feature"] = _feature_schema(None, cid, partial=False)
        components["schemas"][f"{cid}Patch"] = _feature_schema(None, cid, partial=True)
    paths = _server_paths()
    for c in COLLECTIONS:
        paths.update(_collection_paths(c, generated))
    paths.update(_process_paths(config))
    paths.update(job_paths(components))  # asynchronous jobs (ogc/jobs.py)
    tags = [t for t in generated.get("tags", [])
            if t.get("name") == "server" or t.get("name") in {c.id for c in COLLECTIONS}]
    tags += [{"name": "tiles"}, {"name": "processes"}]
    doc = {
        "openapi": OPENAPI_VERSION,
        "info": {**generated["info"], "version": __version__},
        "servers": generated["servers"],
        "tags": tags,
        "paths": paths,
        "components": components,
    }
    assert_self_contained(doc)
    return doc


def _feature_schema(coll: EditableCollection | None, cid: str, *,
                    partial: bool) -> dict[str, Any]:
    """The GeoJSON Feature a client sends to create/replace (or merge-patch) a feature."""
    types = sorted(GEOMETRY_TYPES[cid])
    geometry: dict[str, Any] = {"oneOf": [_ref("schemas", _GEOMETRY_SCHEMAS[t]) for t in types]}
    if not types:  # no geometry column (calls): only null
        geometry = {"type": "object", "nullable": True, "enum": [None],
                    "description": "always null: this collection has no geometry"}
    elif partial or not GEOMETRY_REQUIRED[cid]:
        geometry["nullable"] = True
    props: dict[str, Any] = {"type": "object", "description": (
        f"The properties of `{cid}` (see /ogc/collections/{cid}/schema and "
        f"/api/collections/{cid}/model)")}
    if coll is not None:
        props["properties"] = {name: _field_schema(f) for name, f in coll.fields.items()}
        props["additionalProperties"] = False
        required = sorted(n for n, f in coll.fields.items() if f.required)
        if required and not partial:
            props["required"] = required
    schema: dict[str, Any] = {
        "type": "object",
        "description": "A GeoJSON Feature. An `id`, if given, must be the URL's (never on "
                       "creation: the server assigns it).",
        "properties": {"type": {"type": "string", "enum": ["Feature"]},
                       "geometry": geometry, "properties": props},
    }
    if not partial:
        schema["required"] = ["type", "geometry", "properties"] if GEOMETRY_REQUIRED[cid] \
            else ["type", "properties"]
    return schema


_SQL_TO_SCHEMA: dict[str, dict[str, Any]] = {
    "text": {"type": "string"}, "integer": {"type": "integer"}, "smallint": {"type": "integer"},
    "bigint": {"type": "integer"}, "numeric": {"type": "number"},
    "double precision": {"type": "number"}, "date": {"type": "string", "format": "date"},
    "boolean": {"type": "boolean"}, "timestamptz": {"type": "string", "format": "date-time"},
    "text[]": {"type": "array", "items": {"type": "string"}},
    "bigint[]": {"type": "array", "items": {"type": "integer"}},
}


def _field_schema(f: Any) -> dict[str, Any]:
    schema = copy.deepcopy(_SQL_TO_SCHEMA.get(f.sql_type, {"type": "string"}))
    if f.choices:
        schema["enum"] = list(f.choices)
    if f.max_abs is not None:
        schema["exclusiveMinimum"], schema["exclusiveMaximum"] = True, True
        schema["minimum"], schema["maximum"] = -f.max_abs, f.max_abs
    if not f.required:
        schema["nullable"] = True
    return schema


def describe_writes(doc: dict[str, Any], collections: dict[str, EditableCollection]) -> None:
    """Fill in the write bodies of each editable collection from the editing model (the
    database catalogue, read at start-up): property names, types, enumerations."""
    schemas = doc["components"]["schemas"]
    for cid, coll in collections.items():
        if f"{cid}Feature" not in schemas:  # a project's records: not on /ogc
            continue
        schemas[f"{cid}Feature"] = _feature_schema(coll, cid, partial=False)
        schemas[f"{cid}Patch"] = _feature_schema(coll, cid, partial=True)


def external_refs(node: Any) -> list[str]:
    """Every `$ref` of a document that does not point inside it."""
    found: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and not ref.startswith("#/"):
                found.append(ref)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def assert_self_contained(doc: dict[str, Any]) -> None:
    refs = external_refs(doc)
    if refs:
        raise ValueError(f"OpenAPI document references other documents: {sorted(set(refs))}")
