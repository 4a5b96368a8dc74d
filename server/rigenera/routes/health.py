"""Health: /healthz (kept as it was), /livez (the process) and /readyz (the primary, the schema)."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from rigenera import __version__
from rigenera.errors import RETRY_AFTER_SECONDS, connection_error_types, database_unavailable
from rigenera.migrate import available
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


# --------------------------------------------------------------- liveness and readiness
# /healthz (above) stays as it was for the load balancers and scripts that already use it:
# it answers 200 while the read pool reaches a database. Orchestrators should use the two
# below: /livez restarts a stuck process, /readyz takes a worker out of the proxy's rotation.

READY_TIMEOUT_S = 2.0  # a primary slower than this to answer is not ready


@functools.cache
def expected_schema() -> int:
    """The last migration this code ships (a database behind it is not ready)."""
    return max(m.version for m in available())


@router.get("/livez", include_in_schema=False)
async def livez() -> dict[str, Any]:
    """The process answers (no database: restarting it would not bring PostgreSQL back)."""
    return {"status": "alive", "version": __version__}


def _replicas(state: Any) -> list[dict[str, Any]] | None:
    """Each replica's rotation (replicas.py), informative only, never a reason to be
    unready: reads fall back to the primary while replicas are out. Names and states only:
    servers and lags are for admins (/api/admin/database)."""
    router = getattr(state, "replicas", None)
    if router is None:
        return None
    return [{"name": r["name"], "in_rotation": r["in_rotation"]}
            for r in router.describe()["replicas"]]


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> JSONResponse:
    """200 when the primary answers within READY_TIMEOUT_S, is not in recovery and holds the
    schema this code expects; else 503 + Retry-After with the reasons (Italian / English)."""
    reasons: list[str] = []
    body: dict[str, Any] = {"version": __version__, "schema_expected": expected_schema()}
    try:
        async with asyncio.timeout(READY_TIMEOUT_S):
            async with request.app.state.pools.write.acquire() as conn:
                row = await conn.fetchrow(
                    "SELECT pg_is_in_recovery() AS recovery,"
                    " (SELECT max(version) FROM rigenera.schema_migrations) AS schema")
        assert row is not None
        body["database"] = "ok"
        body["schema_version"] = row["schema"]
        if row["recovery"]:
            reasons.append("il database primario è in recupero (sola lettura) / "
                           "the primary database is in recovery (read-only)")
        if row["schema"] is None or row["schema"] < expected_schema():
            reasons.append(f"schema alla migrazione {row['schema']}, attesa {expected_schema()}: "
                           f"eseguire `rigenera migrate` / schema at migration {row['schema']}, "
                           f"expected {expected_schema()}: run `rigenera migrate`")
        elif row["schema"] > expected_schema():
            reasons.append(f"schema alla migrazione {row['schema']}, più recente del codice "
                           f"({expected_schema()}) / schema newer than this code")
    except Exception as exc:
        timed_out = isinstance(exc, TimeoutError)
        if not timed_out and (not isinstance(exc, connection_error_types())
                              or database_unavailable(exc) is None):
            raise
        body["database"] = "unavailable"
        reasons.append("database primario non raggiungibile / primary database unreachable")
    replicas = _replicas(request.app.state)
    if replicas is not None:
        body["replicas"] = replicas
    body["status"] = "not ready" if reasons else "ready"
    if reasons:
        body["reasons"] = reasons
        return JSONResponse(body, status_code=503,
                            headers={"Retry-After": str(RETRY_AFTER_SECONDS),
                                     "Cache-Control": "no-store"})
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
