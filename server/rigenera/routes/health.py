"""Liveness and readiness: is the database there, and is it ours."""

from __future__ import annotations

from typing import Any

import asyncpg
from fastapi import APIRouter

from rigenera import __version__
from rigenera.dependencies import ReadConnDep
from rigenera.errors import DatabaseUnavailable
from rigenera.routes import docs

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=None,
            responses={200: {"model": docs.Health}, **docs.errors()})
async def healthz(conn: ReadConnDep) -> dict[str, Any]:
    try:
        row = await conn.fetchrow(
            "SELECT postgis_lib_version() AS postgis,"
            " (SELECT max(version) FROM rigenera.schema_migrations) AS schema_version"
        )
    except (OSError, asyncpg.PostgresError) as exc:
        raise DatabaseUnavailable(
            "Database non raggiungibile / database unreachable", log_message=str(exc)
        ) from exc
    assert row is not None
    return {
        "status": "ok",
        "version": __version__,
        "postgis": row["postgis"],
        "schema_version": row["schema_version"],
    }
