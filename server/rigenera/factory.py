"""The app factory: settings in, a complete ASGI app out.

Start-up order matters and is kept here, in one place:
1. resolve the database (given DSN, or the embedded cluster's);
2. generate pygeoapi's config + OpenAPI from the catalogue and live extents (a worker
   of `rigenera serve` reads the ones its parent generated: workers.py);
3. build pygeoapi's API object for this app and mount its routes at /ogc;
4. in the lifespan, open the asyncpg pools (database.py: write and fresh on the primary,
   read through the replicas' router when there are any); the fast read path and the
   tiles read, the authenticator checks accounts on the primary, the editing service
   writes;
5. middleware, outermost last: body limits (limits.py), the URL text guard, the
   read-your-writes marks (readmarks.py, with replicas only), the fast read path, CORS
   and security headers (headers.py), then request ids, access lines and request
   metrics (observability.py), so even a refused body or preflight is counted and logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from rigenera import __version__, web, workers
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
from rigenera.ogc.config import build_config, measure_extents, read_documents, write_documents
from rigenera.ogc.features import FastFeatures
from rigenera.ogc.openapi import describe_writes
from rigenera.ogc.routes import FastReadMiddleware, build_ogc_app
from rigenera.ogc.schema import load_schemas
from rigenera.ogc.tilecache import TileCache
from rigenera.ogc.tiles import Upkeep, VectorTiles, load_tile_layers
from rigenera.readmarks import ReadMarks
from rigenera.routes import (
    api,
    database_admin,
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


def tile_cache_from_settings(settings: Settings) -> TileCache | None:
    """The tile cache (ogc/tilecache.py), or None when settings.tile_cache is off."""
    if not settings.tile_cache:
        return None
    return TileCache(settings.tile_cache_dir or settings.state_dir / "tiles",
                     settings.tile_cache_memory_bytes, settings.tile_cache_disk_bytes)


def create_app(settings: Settings | None = None, dsn: str | None = None) -> FastAPI:
    settings = settings or Settings()
    dsn = dsn or resolve_dsn(settings)

    if settings.prepared_by_parent:  # a worker of `rigenera serve` (workers.py)
        config, cfg_path, oas_path = read_documents(settings)
    else:
        config = build_config(settings, dsn, measure_extents(dsn))
        cfg_path, oas_path = write_documents(settings, config)

    from pygeoapi.api import API
    from pygeoapi.openapi import load_openapi_document
    from pygeoapi.starlette_app import ASYNCAPI

    pygeoapi_config: dict[str, Any] = config
    ogc_api = API(pygeoapi_config, load_openapi_document(), ASYNCAPI)
    fast = (FastFeatures(settings.ogc_url, settings.ogc_default_items, settings.ogc_max_items)
            if settings.fast_reads else None)
    tiles = VectorTiles(settings.ogc_url, tile_cache_from_settings(settings), Upkeep(
        settings.tile_cache_prewarm_zoom, settings.tile_cache_refresh_seconds,
        settings.tile_cache_prune_seconds))
    auth = Authenticator(LoginPolicy.from_settings(settings),
                         password_workers=settings.password_workers,
                         password_queue=settings.password_queue)
    editing = EditingService(max_attempts=settings.write_attempts)
    import_jobs = ImportJobs(dsn, settings.import_workers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from rigenera.database import open_pools, register_router, unregister_router

        # request ids and the caller's last write (database.MIN_LSN) follow pygeoapi into
        # the threads it runs its API functions in (observability.py)
        install_context_executor()
        pools = app.state.pools = await open_pools(dsn, settings.read_pool_size,
                                                   settings.write_pool_size, settings)
        app.state.replicas = pools.router  # None without DATABASE_READ_URLS (replicas.py)
        if pools.router is not None:
            register_router(dsn, pools.router)  # pygeoapi's provider and psycopg2 readers
        async with pools.fresh.acquire() as conn:  # the schema as the primary has it
            schemas = await load_schemas(conn)
            tile_layers = await load_tile_layers(conn)
            patterns = await load_patterns(conn)
        if fast is not None:
            fast.start(pools.read, schemas)
        await tiles.start(pools.read, schemas, tile_layers, pools.write)
        # Credentials, sessions and the login throttle must see the latest commit: primary.
        auth.start(pools.fresh, pools.write)
        app.state.sessions.start(pools.fresh, pools.write)
        await editing.start(pools.write)
        app.state.models = describe_all(schemas, editing.collections, patterns)
        describe_writes(ogc_api.openapi, editing.collections)
        registered = workers.register(settings)  # for `rigenera stop` (workers.py)
        try:
            async with metrics.pool_sampler(app):
                yield
        finally:
            if registered is not None:
                registered.unlink(missing_ok=True)
            await tiles.close()
            auth.close()
            if hasattr(ogc_api.manager, "close"):  # process jobs (processes/manager.py)
                await asyncio.to_thread(ogc_api.manager.close)
            await asyncio.to_thread(import_jobs.close)  # background imports: see jobs.py
            if pools.router is not None:
                unregister_router(dsn, pools.router)
            await pools.close()

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
    app.state.tiles = tiles
    install_error_handlers(app)
    install_openapi(app)
    app.include_router(health.router)
    app.include_router(database_admin.router)  # issue 13: replicas' rotation (admin only)
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
    if settings.database_read_urls:
        # Outside the fast path, so its reads know the caller's last write (readmarks.py).
        secure = (settings.web_cookie_secure if settings.web_cookie_secure is not None
                  else settings.base_url.startswith("https://"))
        app.add_middleware(ReadMarks, mark_seconds=settings.read_mark_seconds, secure=secure)
    app.add_middleware(RequestTextGuard)  # before any route: NUL in a path or query is a 400
    if settings.worker_header:  # debug: which worker answered (workers.py)
        app.add_middleware(workers.WorkerHeader)
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
