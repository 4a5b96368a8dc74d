"""FastAPI dependencies as Annotated aliases (full-stack-fastapi-template habit)."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import Depends, Request

from rigenera.auth import Authenticator, Principal
from rigenera.editing.service import EditingService
from rigenera.errors import Unauthorized
from rigenera.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def current_principal(request: Request) -> Principal:
    """The caller (the anonymous public when no credentials are sent)."""
    auth: Authenticator = request.app.state.auth
    return await auth.of_request(request)


async def current_user(request: Request) -> Principal:
    """An authenticated caller; anonymous requests get 401 with a Basic challenge."""
    who = await current_principal(request)
    if not who.authenticated:
        raise Unauthorized("Autenticazione richiesta / authentication required")
    return who


def editing_service(request: Request) -> EditingService:
    service: EditingService = request.app.state.editing
    return service


CallerDep = Annotated[Principal, Depends(current_principal)]
CurrentUser = Annotated[Principal, Depends(current_user)]
EditingDep = Annotated[EditingService, Depends(editing_service)]


def collection_models(request: Request) -> dict[str, dict[str, Any]]:
    """The published collections' field models, built at start-up (editing/describe.py)."""
    models: dict[str, dict[str, Any]] = request.app.state.models
    return models


ModelsDep = Annotated[dict[str, dict[str, Any]], Depends(collection_models)]


def worker_limiter(request: Request, name: str, size: int) -> anyio.CapacityLimiter:
    """The app's capacity limiter `name` (created on first use): heavy file work (exports,
    reports) runs in worker threads, at most `size` at a time per app."""
    limiters: dict[str, anyio.CapacityLimiter] | None = getattr(
        request.app.state, "worker_limiters", None)
    if limiters is None:
        limiters = request.app.state.worker_limiters = {}
    if name not in limiters:
        limiters[name] = anyio.CapacityLimiter(size)
    return limiters[name]
