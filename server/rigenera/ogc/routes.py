"""The OGC API routes: pygeoapi's own API functions behind our route table.

We do not mount ``pygeoapi.starlette_app.APP``: that module keeps one global
API object built from environment variables at import time. Instead each app
built by our factory owns its ``pygeoapi.api.API`` instance and hands it to
pygeoapi's official ``execute_from_starlette(..., alternative_api=...)``. The
behaviour (HTML, JSON, CQL2, CRS, paging, OpenAPI) is pygeoapi's; the table
below only decides which of its endpoints we publish (features, tiles, and the
processes of rigenera.processes and their jobs). Writes are not routed
here: they go through our editing service (issue #4), so pygeoapi's
unauthenticated PUT/POST/DELETE are never reachable. Around pygeoapi's answers:
validators and Cache-Control (caching.py), valid tiles metadata (tiles.py), the
version as a feature's ETag, CQL2 1.0 function calls in request bodies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from rigenera.editing.http import WriteHandlers
from rigenera.errors import (
    InvalidParameter,
    MethodNotAllowed,
    NotFound,
    RigeneraError,
    connection_error_types,
    database_error_response,
    http_exception_response,
    rigenera_error_response,
    unexpected_error_response,
)
from rigenera.limits import parse_json
from rigenera.observability import ROUTE_KEY
from rigenera.ogc.caching import ConditionalJsonMiddleware
from rigenera.ogc.conformance import conformance
from rigenera.ogc.crs import normalise_query_string
from rigenera.ogc.features import FastFeatures
from rigenera.ogc.jobs import job_routes
from rigenera.ogc.params import parse_bbox, query_int
from rigenera.ogc.provider import cql2_json_functions
from rigenera.ogc.tiles import TILE_MATRIX_SET, VectorTiles, unknown_tms

Endpoint = Callable[[Request], Awaitable[Response]]


class CrsAliasMiddleware:
    """Accept ``EPSG:NNNN`` and other CRS spellings by rewriting them to URIs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            scope = dict(scope)
            scope["query_string"] = normalise_query_string(scope["query_string"])
        await self.app(scope, receive, send)


# Route templates of the requests FastReadMiddleware answers ahead of the routers
# (observability.py names requests by template; these never meet a router).
ITEMS_ROUTE = "/ogc/collections/{collection_id}/items"
ITEM_ROUTE = "/ogc/collections/{collection_id}/items/{item_id}"
TILE_ROUTE = ("/ogc/collections/{collection_id}/tiles/{tileMatrixSetId}/{tileMatrix}/"
              "{tileRow}/{tileCol}")


class FastReadMiddleware:
    """Sends GeoJSON item reads and vector tiles straight to their handlers, ahead of the routers.

    Measured under load (bench/): the server spent 1.15 ms of CPU per 100-feature
    page, much of it walking FastAPI's and the mounted app's middleware and routers.
    This middleware sits just inside the body limits (limits.py), which are inside FastAPI's
    ServerErrorMiddleware: it answers
    GET /ogc/collections/{id}/items[/{featureId}] when the fast path serves the
    request (same checks as the routed path) and passes everything else on.
    Errors become the same OGC exception documents as everywhere else.
    """

    def __init__(self, app: ASGIApp, fast: FastFeatures, tiles: VectorTiles | None = None,
                 prefix: str = "/ogc") -> None:
        self.app = app
        self.fast = fast
        self.tiles = tiles
        base = rf"^{re.escape(prefix)}/collections/([^/]+)"
        self.items = re.compile(rf"{base}/items(?:/([^/]+))?$")
        self.tile = re.compile(rf"{base}/tiles/([^/]+)/([^/]+)/([^/]+)/([^/]+)$")

    async def _tile(self, scope: Scope, receive: Receive, send: Send, m: re.Match[str]) -> None:
        assert self.tiles is not None
        scope = dict(scope)
        scope["path_params"] = dict(zip(
            ("collection_id", "tileMatrixSetId", "tileMatrix", "tileRow", "tileCol"),
            m.groups(), strict=True))
        request = Request(scope, receive)
        try:
            response = await self.tiles.tile(request)
        except RigeneraError as exc:
            response = rigenera_error_response(request, exc)
        except connection_error_types() as exc:
            response = database_error_response(request, exc)
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            if self.tiles is not None and self.tiles.pool is not None:
                t = self.tile.match(scope["path"])
                if t:
                    scope[ROUTE_KEY] = TILE_ROUTE  # for the access line and metrics
                    await self._tile(scope, receive, send, t)
                    return
            m = self.items.match(scope["path"])
            if m:
                scope[ROUTE_KEY] = ITEM_ROUTE if m.group(2) is not None else ITEMS_ROUTE
                scope = dict(scope)
                scope["query_string"] = normalise_query_string(scope.get("query_string", b""))
                path_params = {"collection_id": m.group(1)}
                if m.group(2) is not None:
                    path_params["item_id"] = unquote(m.group(2))
                scope["path_params"] = path_params
                request = Request(scope, receive)
                if self.fast.serves(request):
                    try:
                        response = await (self.fast.item(request) if m.group(2) is not None
                                          else self.fast.items(request))
                    except RigeneraError as exc:
                        response = rigenera_error_response(request, exc)
                    except connection_error_types() as exc:
                        response = database_error_response(request, exc)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


_BOOLEANS = {"true", "false", "1", "0", "yes", "no"}
_ENUMS = {"resulttype": {"results", "hits"}}


def check_item_params(params: QueryParams) -> None:
    """Reject values pygeoapi would silently ignore (it treats `skipGeometry=maybe` as false).
    Only for requests pygeoapi answers: the fast path validates in params.py."""
    for name, allowed in _ENUMS.items():
        value = params.get(name)
        if value is not None and value not in allowed:
            raise InvalidParameter(
                f"{name}: valore non valido '{value}', ammessi: {', '.join(sorted(allowed))} / "
                f"invalid value, allowed: {', '.join(sorted(allowed))}",
                errors=[{"field": name, "reason": f"one of {sorted(allowed)}"}],
            )
    value = params.get("skipGeometry")
    if value is not None and value.lower() not in _BOOLEANS:
        raise InvalidParameter(
            f"skipGeometry: valore non valido '{value}' (true/false) / invalid boolean",
            errors=[{"field": "skipGeometry", "reason": "true or false"}],
        )
    parse_bbox(params)  # pygeoapi takes `1e400` as infinity
    query_int(params, "offset", 0)  # and an offset beyond a bigint to PostgreSQL
    query_int(params, "limit", 0)


def _versioned(response: Response) -> Response:
    """pygeoapi's GeoJSON feature with the ETag the fast path gives it: its version, the
    value Part 4 writes take in If-Match (ConditionalJsonMiddleware answers 304 from it)."""
    if response.status_code == 200 and "json" in response.headers.get("content-type", "") \
            and "ld+json" not in response.headers.get("content-type", ""):
        doc = json.loads(bytes(response.body))
        props = doc.get("properties") if isinstance(doc, dict) else None
        version = props.get("version") if isinstance(props, dict) else None
        if isinstance(version, int) and not isinstance(version, bool):
            response.headers["ETag"] = f'"{version}"'
    return response


async def _standard_cql2_functions(request: Request) -> Request:
    """The request with its CQL2-JSON body's CQL2 1.0 function calls in pygeofilter's form,
    for pygeoapi, which parses the body itself (the fast path converts in params.py)."""
    body = await request.body()
    try:
        converted = json.dumps(cql2_json_functions(json.loads(body))).encode()
    except (ValueError, RecursionError):
        return request  # pygeoapi answers its own 400 (Bad CQL JSON)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": converted, "more_body": False}

    return Request(request.scope, receive)


def build_ogc_app(
    api: Any, fast: FastFeatures | None = None, tiles: VectorTiles | None = None,
    writes: WriteHandlers | None = None,
) -> Starlette:
    """A Starlette app serving pygeoapi's read endpoints with the given API instance."""
    # Imported here: the module reads PYGEOAPI_CONFIG/OPENAPI at import time,
    # so it must come after rigenera.ogc.config.write_documents().
    import pygeoapi.api as core_api
    import pygeoapi.api.itemtypes as itemtypes_api
    import pygeoapi.api.processes as processes_api
    import pygeoapi.api.tiles as tiles_api
    from pygeoapi.starlette_app import STATIC_DIR, execute_from_starlette

    def endpoint(fn: Any, *params: str, skip_valid_check: bool = False) -> Endpoint:
        async def handler(request: Request) -> Response:
            args = [request.path_params.get(p) for p in params]
            response: Response = await execute_from_starlette(
                fn, request, *args, skip_valid_check=skip_valid_check, alternative_api=api
            )
            return response

        handler.__name__ = getattr(fn, "__name__", "ogc")
        return handler

    query_items = endpoint(itemtypes_api.get_collection_items, "collection_id",
                           skip_valid_check=True)

    async def query_body(request: Request, field: str) -> object:
        """The JSON body of a public query or execution, read only after any credentials
        sent were verified (they earn a larger body limit: limits.py)."""
        if writes is not None and request.headers.get("authorization"):
            await writes.auth.of_request(request)
        body = await request.body()  # cached by Starlette: pygeoapi reads it again
        return parse_json(body, field=field) if body.strip() else None

    async def items_query(request: Request) -> Response:
        """GET (or a POST with a CQL2-JSON body) reads; a GeoJSON POST creates a feature;
        OPTIONS says what this caller may do."""
        if request.method == "OPTIONS" and writes is not None:
            return await writes.options(request)
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        if request.method == "POST" and content_type != "application/query-cql-json":
            if writes is None:
                raise MethodNotAllowed("Scrittura non disponibile / writes not available")
            return await writes.create(request)
        if request.method == "POST":
            await query_body(request, "filter")  # depth and syntax checked before pygeofilter
        if fast is not None and fast.serves(request):
            return await fast.items(request)  # validates its parameters itself (params.py)
        check_item_params(request.query_params)
        if request.method == "POST":
            request = await _standard_cql2_functions(request)
        return await query_items(request)

    get_item = endpoint(itemtypes_api.get_collection_item, "collection_id", "item_id")

    async def item(request: Request) -> Response:
        if request.method != "GET":
            if writes is None:
                raise MethodNotAllowed("Scrittura non disponibile / writes not available")
            handler = {"PUT": writes.replace, "PATCH": writes.patch, "DELETE": writes.delete,
                       "OPTIONS": writes.options}[request.method]
            return await handler(request)
        if fast is not None and fast.serves(request):
            return await fast.item(request)
        return _versioned(await get_item(request))

    cid = "collection_id"
    pygeoapi_tile_metadata = endpoint(tiles_api.get_collection_tiles_metadata, "collection_id",
                                      "tileMatrixSetId", skip_valid_check=True)

    async def tile_metadata(request: Request) -> Response:
        """pygeoapi's tileset metadata, made valid (tiles.py); f=tilejson is ours; no f means
        JSON (pygeoapi: 500).

        An unknown tile matrix set is a 404 here: pygeoapi's mvt_postgresql raises
        UnboundLocalError for it (a 500), and its own tiles HTML page links to the literal
        template `.../tiles/{tileMatrixSetId}?f=json`."""
        collection_tms(request.path_params["collection_id"],
                       request.path_params["tileMatrixSetId"])
        fmt = request.query_params.get("f")
        if fmt == "tilejson" and tiles is not None and tiles.schemas:
            resource = api.config["resources"].get(request.path_params["collection_id"])
            if resource is None or resource.get("type") != "collection":
                raise NotFound("Collection not found")
            return await tiles.tilejson(request, resource["extents"]["spatial"]["bbox"])
        if fmt is None:
            request.scope["query_string"] = (request.scope["query_string"] + b"&f=json").lstrip(b"&")
            request = Request(request.scope, request.receive)
        return _corrected(await pygeoapi_tile_metadata(request), request,
                          tiles.tileset if tiles is not None else None)

    pygeoapi_tilesets = endpoint(tiles_api.get_collection_tiles, cid)

    def _has_tiles(resource: dict[str, Any] | None) -> None:
        """Collections without tiles (calls, needs): a 404, like any missing resource
        (pygeoapi answers 400 "Invalid collection tiles")."""
        if resource is not None and not any(p.get("type") == "tile"
                                            for p in resource.get("providers", [])):
            raise NotFound("Nessuna tile per questa collezione / no tiles for this collection")

    async def tilesets(request: Request) -> Response:
        _has_tiles(api.config["resources"].get(request.path_params["collection_id"]))
        return _corrected(await pygeoapi_tilesets(request), request,
                          tiles.tileset_list if tiles is not None else None)

    def _corrected(response: Response, request: Request,
                   fix: Callable[[dict[str, Any], str, str], dict[str, Any]] | None) -> Response:
        """A JSON answer of pygeoapi's passed through `fix` (other answers as they are)."""
        resource = api.config["resources"].get(request.path_params["collection_id"])
        if fix is None or response.status_code != 200 or resource is None or \
                "json" not in response.headers.get("content-type", ""):
            return response
        title = resource["title"]
        if isinstance(title, dict):
            title = title.get(request.query_params.get("lang", "it"), title.get("it", ""))
        doc = fix(json.loads(bytes(response.body)), request.path_params["collection_id"], title)
        headers = {k: v for k, v in response.headers.items()
                   if k.lower() not in ("content-length", "content-type")}
        return Response(json.dumps(doc, ensure_ascii=False).encode(), status_code=200,
                        headers=headers, media_type=response.headers["content-type"])

    def collection_tms(cid: str, tms: str) -> None:
        resource = api.config["resources"].get(cid)
        if resource is None or resource.get("type") != "collection":
            raise NotFound("Collection not found")
        _has_tiles(resource)
        if tms != TILE_MATRIX_SET:
            raise unknown_tms(tms, [TILE_MATRIX_SET])

    pygeoapi_tilematrixset = endpoint(tiles_api.tilematrixset, "tileMatrixSetId")

    async def tilematrixset(request: Request) -> Response:
        """A tile matrix set's definition; an unknown one is a 404 (pygeoapi: 400)."""
        from pygeoapi.models.provider.base import TileMatrixSetEnum

        known = [e.value.tileMatrixSet for e in TileMatrixSetEnum]
        if request.path_params["tileMatrixSetId"] not in known:
            raise unknown_tms(request.path_params["tileMatrixSetId"], known)
        return await pygeoapi_tilematrixset(request)

    pygeoapi_execute = endpoint(processes_api.execute_process, "process_id")

    async def execute(request: Request) -> Response:
        """pygeoapi's execution, after checking that the body is a JSON object (pygeoapi: 500).

        A plain POST of {"inputs": {...}} answers 200 with the process output itself:
        pygeoapi's default is `response: raw`; `"response": "document"` wraps it in
        {"outputs": [...]}. With `Prefer: respond-async`: 201, Location of the job
        (rigenera/processes/manager.py).
        """
        doc = await query_body(request, "body")
        if not isinstance(doc, dict) or not isinstance(doc.get("inputs", {}), dict):
            raise InvalidParameter(
                "Atteso un oggetto JSON {\"inputs\": {...}} / expected a JSON object "
                "{\"inputs\": {...}}", errors=[{"field": "inputs", "reason": "JSON object"}])
        response = await pygeoapi_execute(request)
        if response.status_code != 201 and "location" in response.headers:
            # pygeoapi names a job for every execution of an asynchronous manager; a
            # synchronous run is not stored (processes/manager.py): no job to point at.
            del response.headers["location"]
        return response

    routes = [
        Route("/", endpoint(core_api.landing_page)),
        Route("/openapi", endpoint(core_api.openapi_)),
        Route("/conformance", endpoint(conformance)),
        Route("/TileMatrixSets", endpoint(tiles_api.tilematrixsets)),
        Route("/TileMatrixSets/{tileMatrixSetId}", tilematrixset),
        Route("/collections", endpoint(core_api.describe_collections)),
        Route("/collections/{collection_id}", endpoint(core_api.describe_collections, cid)),
        Route("/collections/{collection_id}/schema", endpoint(core_api.get_collection_schema, cid)),
        Route("/collections/{collection_id}/queryables",
              endpoint(itemtypes_api.get_collection_queryables, cid)),
        Route("/collections/{collection_id}/items", items_query,
              methods=["GET", "POST", "OPTIONS"]),
        Route("/collections/{collection_id}/items/{item_id}", item,
              methods=["GET", "PUT", "PATCH", "DELETE", "OPTIONS"]),
        Route("/collections/{collection_id}/tiles", tilesets),
        Route("/collections/{collection_id}/tiles/{tileMatrixSetId}", tile_metadata),
        Route("/collections/{collection_id}/tiles/{tileMatrixSetId}/metadata", tile_metadata),
        Route("/collections/{collection_id}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
              tiles.tile if tiles is not None else
              endpoint(tiles_api.get_collection_tiles_data, cid, "tileMatrixSetId",
                       "tileMatrix", "tileRow", "tileCol", skip_valid_check=True)),
        # OGC API Processes: synchronous by default, jobs on Prefer: respond-async.
        Route("/processes", endpoint(processes_api.describe_processes)),
        Route("/processes/{process_id}",
              endpoint(processes_api.describe_processes, "process_id")),
        Route("/processes/{process_id}/execution", execute, methods=["POST"]),
        # Asynchronous jobs (Prefer: respond-async), stored in PostgreSQL (ogc/jobs.py).
        *job_routes(api, endpoint),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            StarletteHTTPException: http_exception_response,
            RigeneraError: rigenera_error_response,
            **dict.fromkeys(connection_error_types(), database_error_response),
            Exception: unexpected_error_response,
        },
    )
    app.add_middleware(ConditionalJsonMiddleware)
    app.add_middleware(CrsAliasMiddleware)
    return app
