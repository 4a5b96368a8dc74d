"""The OGC API routes: pygeoapi's own API functions behind our route table.

We do not mount ``pygeoapi.starlette_app.APP``: that module keeps one global
API object built from environment variables at import time. Instead each app
built by our factory owns its ``pygeoapi.api.API`` instance and hands it to
pygeoapi's official ``execute_from_starlette(..., alternative_api=...)``. The
behaviour (HTML, JSON, CQL2, CRS, paging, OpenAPI) is pygeoapi's; the table
below only decides which of its endpoints we publish. Writes are not routed
here: they go through our editing service (issue #4), so pygeoapi's
unauthenticated PUT/POST/DELETE are never reachable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from rigenera.ogc.crs import normalise_query_string

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


def build_ogc_app(api: Any) -> Starlette:
    """A Starlette app serving pygeoapi's read endpoints with the given API instance."""
    # Imported here: the module reads PYGEOAPI_CONFIG/OPENAPI at import time,
    # so it must come after rigenera.ogc.config.write_documents().
    import pygeoapi.api as core_api
    import pygeoapi.api.itemtypes as itemtypes_api
    import pygeoapi.api.tiles as tiles_api
    from pygeoapi.starlette_app import STATIC_DIR, execute_from_starlette

    def endpoint(fn: Any, *params: str, skip_valid_check: bool = False) -> Endpoint:
        async def handler(request: Request) -> Response:
            args = [request.path_params.get(p) for p in params]
            return await execute_from_starlette(
                fn, request, *args, skip_valid_check=skip_valid_check, alternative_api=api
            )

        handler.__name__ = getattr(fn, "__name__", "ogc")
        return handler

    cid = "collection_id"
    routes = [
        Route("/", endpoint(core_api.landing_page)),
        Route("/openapi", endpoint(core_api.openapi_)),
        Route("/conformance", endpoint(core_api.conformance)),
        Route("/TileMatrixSets", endpoint(tiles_api.tilematrixsets)),
        Route("/TileMatrixSets/{tileMatrixSetId}",
              endpoint(tiles_api.tilematrixset, "tileMatrixSetId")),
        Route("/collections", endpoint(core_api.describe_collections)),
        Route("/collections/{collection_id}", endpoint(core_api.describe_collections, cid)),
        Route("/collections/{collection_id}/schema", endpoint(core_api.get_collection_schema, cid)),
        Route("/collections/{collection_id}/queryables",
              endpoint(itemtypes_api.get_collection_queryables, cid)),
        Route("/collections/{collection_id}/items",
              endpoint(itemtypes_api.get_collection_items, cid, skip_valid_check=True)),
        Route("/collections/{collection_id}/items/{item_id}",
              endpoint(itemtypes_api.get_collection_item, cid, "item_id")),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(CrsAliasMiddleware)
    return app
