"""FastAPI dependencies as Annotated aliases (full-stack-fastapi-template habit)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from rigenera.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def read_connection(request: Request) -> AsyncIterator[asyncpg.Connection]:
    async with request.app.state.pools.read.acquire() as conn:
        yield conn


SettingsDep = Annotated[Settings, Depends(get_settings)]
ReadConnDep = Annotated[asyncpg.Connection, Depends(read_connection)]
