"""Liveness and readiness: is the database there, and is it ours."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from rigenera import __version__
from rigenera.errors import connection_error_types, database_unavailable
from rigenera.routes import docs

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=None,
            responses={200: {"model": docs.Health}, **docs.errors()})
async def healthz(request: Request) -> dict[str, Any]:
    """200 with PostGIS's and the schema's versions; 503 with Retry-After and
    `"database": "unavailable"` while PostgreSQL is away (load balancers stop routing)."""
    try:
        async with request.app.state.pools.fresh.acquire() as conn:  # the primary
            row = await conn.fetchrow(
                "SELECT postgis_lib_version() AS postgis,"
                " (SELECT max(version) FROM rigenera.schema_migrations) AS schema_version"
            )
    except connection_error_types() as exc:
        away = database_unavailable(exc)
        if away is None:
            raise
        away.body = {"status": "unavailable", "database": "unavailable", "version": __version__}
        raise away from exc
    assert row is not None
    return {
        "status": "ok",
        "version": __version__,
        "database": "ok",
        "postgis": row["postgis"],
        "schema_version": row["schema_version"],
        # the tile cache: counters, and whether the metro area's tiles are built yet
        "tile_cache": request.app.state.tiles.status(),
    }
