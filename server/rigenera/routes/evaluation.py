"""GET /api/evaluation/{projects,comuni,metro}: the evaluation (rigenera/evaluation), public.

Public like the published collections: only published fields (no referents, no who
edited). The parameters are checked before anything runs (400 naming ``as_of``,
``distance``, ``modes``, ``comuni`` or ``f``); the three statements run in a worker
thread on a read-only, repeatable-read psycopg2 connection (one snapshot), as the
exports do. JSON carries the table (columns with their Italian and English labels and
kinds, rows, the metro totals for comuni), the parameters and the notes; ``f=csv`` the
same rows as CSV (column names as header; money to the cent, shares 0..1).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

import psycopg2
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from rigenera.database import thread_read
from rigenera.evaluation import tables as ev
from rigenera.evaluation.params import EvaluationParams, check_comuni, parse, parse_format
from rigenera.reports.model import Kind, Table
from rigenera.routes import docs

router = APIRouter(prefix="/api/evaluation", tags=["evaluation"])


class Labels(BaseModel):
    it: str
    en: str


class EvaluationColumn(BaseModel):
    name: str
    label: Labels
    kind: Kind


class EvaluationParameters(BaseModel):
    as_of: str
    distance_m: float
    modes: list[str]
    comuni: list[str] | None


class EvaluationTable(BaseModel):
    """One evaluation table (reports/model.py Table): rows keyed by the columns' names,
    money in EUR to the cent, shares 0..1; for comuni, `totals` is the metro row."""

    name: str
    title: Labels
    parameters: EvaluationParameters
    columns: list[EvaluationColumn]
    rows: list[dict[str, Any]]
    totals: dict[str, Any] | None
    notes: list[str]

CSV = "text/csv; charset=utf-8"


def _run(dsn: str, which: str, params: EvaluationParams) -> Table:
    conn = psycopg2.connect(dsn, options="-c statement_timeout=120000 -c TimeZone=UTC -c jit=off"
                                         " -c application_name=rigenera-evaluation")
    try:
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        check_comuni(conn, params)
        if which == "projects":
            return ev.project_table(conn, params)
        if which == "comuni":
            return ev.comuni_table(conn, params)
        return ev.metro_table(conn, params)
    finally:
        conn.rollback()
        conn.close()


def _json_value(v: Any) -> Any:
    if isinstance(v, Decimal):
        return float(v)  # numeric(14,2) has at most 14 digits: a float repr keeps every cent
    if isinstance(v, date):
        return v.isoformat()
    raise TypeError(type(v).__name__)


def _csv_value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


def _answer(table: Table, params: EvaluationParams, fmt: str) -> Response:
    headers = {"Cache-Control": "no-cache"}
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([c.name for c in table.columns])
        for row in table.rows:
            writer.writerow([_csv_value(row.get(c.name)) for c in table.columns])
        headers["Content-Disposition"] = f'attachment; filename="{table.name}.csv"'
        return Response(out.getvalue(), media_type=CSV, headers=headers)
    body = {"name": table.name, "title": {"it": table.title_it, "en": table.title_en},
            "parameters": params.shown(),
            "columns": [{"name": c.name, "label": {"it": c.label_it, "en": c.label_en},
                         "kind": c.kind} for c in table.columns],
            "rows": table.rows, "totals": table.totals, "notes": ev.NOTES}
    return Response(json.dumps(body, default=_json_value, ensure_ascii=False),
                    media_type="application/json", headers=headers)


async def _evaluate(request: Request, which: str, as_of: str | None, distance: str | None,
                    modes: str | None, comuni: str | None, f: str | None) -> Response:
    fmt = parse_format(f)
    params = parse(as_of, distance, modes, comuni)
    table = await thread_read(request.app.state.dsn,  # a replica, when one is in rotation
                              partial(_run, which=which, params=params))
    return _answer(table, params, fmt)


_AS_OF = Query(None, description="Data di valutazione AAAA-MM-GG (oggi) / as-of date YYYY-MM-DD (today)")
_DISTANCE = Query(None, description="Metri dalle fermate (500) / metres from the stops (500)")
_MODES = Query(None, description="Modi, separati da virgole (rail,metro,tram) / modes, comma-separated")
_COMUNI = Query(None, description="Codici ISTAT separati da virgole / ISTAT codes, comma-separated")
_F = Query(None, description="json (default) o csv / json (default) or csv")
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "La tabella / the table", "model": EvaluationTable,
          "content": {"text/csv": {"schema": {"type": "string"}}}},
    **docs.errors(400)}


@router.get("/projects", response_model=None, responses=_RESPONSES)
async def evaluation_projects(request: Request, as_of: str | None = _AS_OF,
                              distance: str | None = _DISTANCE, modes: str | None = _MODES,
                              comuni: str | None = _COMUNI, f: str | None = _F) -> Response:
    """Per project: outcomes planned and achieved, spending, delays, nearness to transit."""
    return await _evaluate(request, "projects", as_of, distance, modes, comuni, f)


@router.get("/comuni", response_model=None, responses=_RESPONSES)
async def evaluation_comuni(request: Request, as_of: str | None = _AS_OF,
                            distance: str | None = _DISTANCE, modes: str | None = _MODES,
                            comuni: str | None = _COMUNI, f: str | None = _F) -> Response:
    """Per comune (multi-comune projects split in equal shares), the metro row as totals,
    with IVSM beside PNRR euros per inhabitant and the under-served vulnerable flag."""
    return await _evaluate(request, "comuni", as_of, distance, modes, comuni, f)


@router.get("/metro", response_model=None, responses=_RESPONSES)
async def evaluation_metro(request: Request, as_of: str | None = _AS_OF,
                           distance: str | None = _DISTANCE, modes: str | None = _MODES,
                           comuni: str | None = _COMUNI, f: str | None = _F) -> Response:
    """The metro area (or the chosen comuni together): one row."""
    return await _evaluate(request, "metro", as_of, distance, modes, comuni, f)
