"""The app factory: settings in, a complete ASGI app out.

Start-up order matters and is kept here, in one place:
1. resolve the database (given DSN, or the embedded cluster's);
2. generate pygeoapi's config + OpenAPI from the catalogue and live extents;
3. build pygeoapi's API object for this app and mount its routes at /ogc;
4. in the lifespan, open the asyncpg read/write pools; the fast read path and the
   tiles read, the authenticator checks accounts, the editing service writes;
5. middleware, outermost last: the fast read path, body limits (limits.py), CORS and
   security headers (headers.py), then request ids, access lines and request metrics
   (observability.py), so even a refused body or preflight is counted and logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from rigenera import __version__, web
from rigenera.auth import Authenticator, LoginPolicy
from rigenera.editing.describe import describe_all, load_patterns
from rigenera.editing.http import WriteHandlers
from rigenera.editing.service import EditingService
from rigenera.errors import install_error_handlers
from rigenera.headers import CorsMiddleware, SecurityHeadersMiddleware
from rigenera.imports.jobs import ImportJobs
from rigenera.inputs import RequestTextGuard
from rigenera.limits import BodyLimitMiddleware, BodyLimits
from rigenera.matching import http as matching_http
from rigenera.monitoring.storage import storage_from_settings
from rigenera.observability import RequestContextMiddleware, install_context_executor
from rigenera.ogc.config import build_config, measure_extents, write_documents
from rigenera.ogc.features import FastFeatures
from rigenera.ogc.openapi import describe_writes
from rigenera.ogc.routes import FastReadMiddleware, build_ogc_app
from rigenera.ogc.schema import load_schemas
from rigenera.ogc.tiles import VectorTiles, load_tile_layers
from rigenera.routes import (
    api,
    evaluation,
    exports,
    health,
    imports,
    metrics,
    monitoring,
    project_records,
    projects,
    reports,
    review,
)
from rigenera.routes.docs import install_openapi
from rigenera.settings import Settings

LOG = logging.getLogger(__name__)


def resolve_dsn(settings: Settings) -> str:
    """DATABASE_URL when given, else the embedded cluster (started if needed)."""
    if settings.database_url:
        return settings.database_url
    from rigenera.cluster import LocalCluster

    cluster = LocalCluster(settings.state_dir, settings.pg_port, settings.pg_database)
    return cluster.ensure()


def create_app(settings: Settings | None = None, dsn: str | None = None) -> FastAPI:
    settings = settings or Settings()
    dsn = dsn or resolve_dsn(settings)

    config = build_config(settings, dsn, measure_extents(dsn))
    cfg_path, oas_path = write_documents(settings, config)

    from pygeoapi.api import API
    from pygeoapi.openapi import load_openapi_document
    from pygeoapi.starlette_app import ASYNCAPI

    pygeoapi_config: dict[str, Any] = config
    ogc_api = API(pygeoapi_config, load_openapi_document(), ASYNCAPI)
    fast = (FastFeatures(settings.ogc_url, settings.ogc_default_items, settings.ogc_max_items)
            if settings.fast_reads else None)
    tiles = VectorTiles(settings.ogc_url)
    auth = Authenticator(LoginPolicy.from_settings(settings),
                         password_workers=settings.password_workers,
                         password_queue=settings.password_queue)
    editing = EditingService(max_attempts=settings.write_attempts)
    import_jobs = ImportJobs(dsn, settings.import_workers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from rigenera.database import open_pools

        install_context_executor()  # request ids follow pygeoapi into its threads
        app.state.pools = await open_pools(dsn, settings.read_pool_size, settings.write_pool_size)
        async with app.state.pools.read.acquire() as conn:
            schemas = await load_schemas(conn)
            tile_layers = await load_tile_layers(conn)
            patterns = await load_patterns(conn)
        if fast is not None:
            fast.start(app.state.pools.read, schemas)
        tiles.start(app.state.pools.read, schemas, tile_layers)
        auth.start(app.state.pools.read, app.state.pools.write)
        app.state.sessions.start(app.state.pools.read, app.state.pools.write)
        await editing.start(app.state.pools.write)
        app.state.models = describe_all(schemas, editing.collections, patterns)
        describe_writes(ogc_api.openapi, editing.collections)
        try:
            async with metrics.pool_sampler(app):
                yield
        finally:
            auth.close()
            if hasattr(ogc_api.manager, "close"):  # process jobs (processes/manager.py)
                await asyncio.to_thread(ogc_api.manager.close)
            await asyncio.to_thread(import_jobs.close)  # background imports: see jobs.py
            await app.state.pools.close()

    app = FastAPI(
        title="Rigenera",
        version=__version__,
        description="Welfare metropolitano e rigenerazione urbana – Città metropolitana di Milano",
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.dsn = dsn  # the import engine connects with psycopg2 (imports/jobs.py)
    app.state.imports = import_jobs
    app.state.ogc_api = ogc_api
    install_error_handlers(app)
    install_openapi(app)
    app.include_router(health.router)
    if settings.metrics:
        app.include_router(metrics.router)
    app.state.auth = auth
    web.install(app, settings)  # issue 12: the website, its sessions and error pages
    app.state.editing = editing
    app.include_router(api.router)
    app.include_router(review.router)
    app.include_router(projects.router)
    app.include_router(exports.router)
    app.include_router(imports.router)
    app.include_router(project_records.router)  # issue 11: a project's records
    app.include_router(evaluation.router)  # issue 11: outcomes, spending, delays, IVSM
    app.include_router(monitoring.router)  # documents, checklist, reporting calendar
    app.state.documents = storage_from_settings(settings)
    app.include_router(matching_http.router)  # needs matched to calls (issue 11)
    app.include_router(reports.router)  # rendicontazione: JSON, CSV, XLSX, GPKG, PDF
    app.mount("/ogc", build_ogc_app(ogc_api, fast, tiles, WriteHandlers(editing, auth)),
              name="ogc")
    if fast is not None:
        app.add_middleware(FastReadMiddleware, fast=fast, tiles=tiles)
    app.add_middleware(RequestTextGuard)  # before any route: NUL in a path or query is a 400
    # Added last, so outermost (inside only Starlette's error middleware): every body is
    # bounded while it is read, whichever route or fast path answers (limits.py).
    app.add_middleware(BodyLimitMiddleware, limits=BodyLimits.from_settings(settings),
                       max_authorization=settings.authorization_max_bytes)
    # Issue 13: CORS (reads only), security headers, then the request context outermost.
    app.add_middleware(CorsMiddleware, origins=settings.cors_origins)
    app.add_middleware(SecurityHeadersMiddleware, settings=settings)
    app.add_middleware(RequestContextMiddleware, root=app)
    LOG.info("OGC API at %s (config %s, openapi %s)", settings.ogc_url, cfg_path, oas_path)
    return app
