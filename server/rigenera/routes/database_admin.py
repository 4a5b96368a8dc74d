"""The database servers as the API sees them: which replicas serve reads, and why not.

Admin only: server names and WAL positions are operational detail, not open data. The
readiness probe (/readyz, observability) may use ``app.state.replicas`` too.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from rigenera.auth import Role
from rigenera.dependencies import CurrentUser
from rigenera.routes import docs

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.get("/database", response_model=None, responses=docs.errors(401, 403),
            openapi_extra=docs.AUTHENTICATED)
async def database(request: Request, who: CurrentUser) -> dict[str, Any]:
    """The primary and each streaming replica: in rotation or not, lag in bytes and
    seconds, the problem that took it out. Without DATABASE_READ_URLS, no replicas."""
    who.require(Role.ADMIN)
    router_ = request.app.state.replicas
    if router_ is None:
        return {"replicas": [], "reads": "primary"}
    described: dict[str, Any] = router_.describe()
    described["reads"] = "replicas" if any(
        r["in_rotation"] for r in described["replicas"]) else "primary"
    return described
