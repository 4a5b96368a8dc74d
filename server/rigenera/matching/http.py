"""HTTP routes of matching: ``GET /api/needs/{id}/matches`` and
``GET /api/comuni/{istat_code}/matches`` (all the comune's open needs).

Public, like the published needs: no personal data is read (service.py). Parameters are
checked here so that a bad one is a 400 naming it (``as_of``, ``near_misses``, ``id``,
``istat_code``); an unknown need or comune is a 404.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from rigenera.errors import InvalidParameter, NotFound
from rigenera.matching import service
from rigenera.routes import docs

router = APIRouter(prefix="/api", tags=["matching"])


class Matches(BaseModel):
    """A need (or a comune's open needs) with its matching calls and near misses."""

    model_config = ConfigDict(extra="allow")
    as_of: str


_AS_OF = Query(None, description="Data di riferimento AAAA-MM-GG (oggi) / reference date")
_NEAR = Query(None, description="Anche i quasi-abbinamenti (true) / near misses too")


def _bad(exc: service.BadInput) -> InvalidParameter:
    return InvalidParameter(str(exc), errors=[{"field": exc.field, "reason": exc.en}])


def _answer(doc: dict[str, Any]) -> Response:
    body = json.dumps(doc, ensure_ascii=False, default=service.json_default)
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-cache"})


def _pool(request: Request) -> Any:
    return request.app.state.pools.read


@router.get("/needs/{id}/matches", response_model=None,
            responses={200: {"model": Matches}, **docs.errors(400, 404)})
async def need_matches(request: Request, id: str, as_of: str | None = _AS_OF,
                       near_misses: str | None = _NEAR) -> Response:
    """The calls that fit one need (of any status), ranked, with their reasons; and the
    near misses (one or two criteria failed) with why not."""
    try:
        need_id = service.parse_id("id", id)
        day = service.parse_date("as_of", as_of)
        near = service.parse_bool("near_misses", near_misses)
    except service.BadInput as exc:
        raise _bad(exc) from None
    rows = await _pool(request).fetch(service.SQL, *service.sql_args(need_id, None, day, near))
    try:
        return _answer(service.need_document(rows, need_id, day, near))
    except service.UnknownTarget as exc:
        raise NotFound(str(exc), errors=[{"field": "id", "reason": "unknown need"}]) from None


@router.get("/comuni/{istat_code}/matches", response_model=None,
            responses={200: {"model": Matches}, **docs.errors(400, 404)})
async def comune_matches(request: Request, istat_code: str, as_of: str | None = _AS_OF,
                         near_misses: str | None = _NEAR) -> Response:
    """Every open need of a comune (by priority, 1 first) with the calls that fit it."""
    try:
        code = service.parse_istat_code("istat_code", istat_code)
        day = service.parse_date("as_of", as_of)
        near = service.parse_bool("near_misses", near_misses)
    except service.BadInput as exc:
        raise _bad(exc) from None
    pool = _pool(request)
    name = await pool.fetchval(service.COMUNE_SQL, code)
    if name is None:
        raise NotFound(str(service.UnknownTarget("istat_code", code)),
                       errors=[{"field": "istat_code", "reason": "unknown comune"}])
    rows = await pool.fetch(service.SQL, *service.sql_args(None, code, day, near))
    return _answer(service.comune_document(rows, code, name, day, near))
