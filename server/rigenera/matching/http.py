"""HTTP routes of matching: ``GET /api/needs/{id}/matches`` and
``GET /api/comuni/{istat_code}/matches`` (all the comune's open needs).

Public, like the published needs: no personal data is read (service.py). Parameters are
checked here so that a bad one is a 400 naming it (``as_of``, ``near_misses``, ``id``,
``istat_code``); an unknown need or comune is a 404.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from rigenera.errors import InvalidParameter, NotFound
from rigenera.matching import service
from rigenera.routes import docs

router = APIRouter(prefix="/api", tags=["matching"])


class Reason(BaseModel):
    """Why a call fits a need on one criterion, or why not (`code`), in both languages."""

    model_config = ConfigDict(extra="allow")  # closed_on, opens_on, days_to_open, over_by_eur
    criterion: Literal["theme", "beneficiary", "comune", "deadline", "amount"]
    code: str
    it: str
    en: str


class Call(BaseModel):
    id: int
    title: str
    funder: str
    funding_source: str
    programme_code: str | None
    themes: list[str]
    eligible_beneficiaries: list[str]
    eligible_istat_codes: list[str] | None
    opens_on: str | None
    closes_on: str | None
    budget_eur: float | None
    max_grant_eur: float | None
    url: str | None


class Candidate(BaseModel):
    """A call for a need: its rank in its list, the criteria it meets and fails."""

    rank: int
    call: Call
    criteria_met: int
    criteria_total: int
    amount_checked: bool
    coverage_pct: float | None
    days_left: int | None
    reasons: list[Reason]
    why_not: list[Reason]


class Need(BaseModel):
    model_config = ConfigDict(extra="allow")  # category_label, applicant_label
    id: int
    istat_code: str
    comune: str
    title: str
    description: str | None
    category: str
    applicant: str
    priority: int
    status: str
    estimated_cost_eur: float | None
    needed_by: str | None


class NeedEntry(BaseModel):
    need: Need
    matches: list[Candidate]
    near_misses: list[Candidate] | None = None


class Ranking(BaseModel):
    it: str
    en: str


class NeedMatches(NeedEntry):
    """One need with the calls that fit it and, when asked, the near misses."""

    as_of: str
    ranking: Ranking


class CallNeeds(BaseModel):
    """A call and the comune's open needs it fits."""

    id: int
    title: str
    closes_on: str | None
    need_ids: list[int]


class ComuneMatches(BaseModel):
    """Every open need of a comune, by priority, each with its calls."""

    as_of: str
    istat_code: str
    comune: str
    open_needs: int
    needs_with_matches: int
    needs: list[NeedEntry]
    calls: list[CallNeeds]
    ranking: Ranking


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
            responses={200: {"model": NeedMatches}, **docs.errors(400, 404)})
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
            responses={200: {"model": ComuneMatches}, **docs.errors(400, 404)})
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
