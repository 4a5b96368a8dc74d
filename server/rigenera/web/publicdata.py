"""What the public pages (project, comune, statistics) share: code labels, geometries for
the small maps, and the public figures, which are the reports' (rigenera.reports) over
the projects published on the website, so a page, its CSV and its XLSX carry one set of
numbers with one definition (how a project of several comuni is shared, which programme a
project belongs to...)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from starlette.requests import Request

from rigenera.database import thread_read
from rigenera.dependencies import worker_limiter
from rigenera.exports.attribution import licence_of
from rigenera.reports.aggregate import build_report
from rigenera.reports.model import Report
from rigenera.reports.request import ReportRequest

CONCURRENT_REPORTS = 2  # public figures built at once per app (worker threads)


def labelled(labels: Mapping[str, tuple[str, str]], code: str | None) -> dict[str, str] | None:
    """A code's Italian and English labels ({"it", "en"}), the code itself when unknown."""
    if code is None:
        return None
    it, en = labels.get(code, (code, code))
    return {"it": it, "en": en}


def geometry(wkb: bytes | None) -> BaseGeometry | None:
    return None if wkb is None else shapely.from_wkb(wkb)


def attribution(sources: list[Any]) -> list[dict[str, Any]]:
    """The distinct `source` lines with their licence (exports/attribution.py's reading)."""
    out = []
    for s in sources:
        licence, url = licence_of(s["source"])
        out.append({"source": s["source"], "rows": s["rows"], "at": s["at"],
                    "licence": licence, "licence_url": url})
    return out


def attribution_notes(sources: list[dict[str, Any]], lang: str) -> list[str]:
    """The attribution as notes of a report (written in the CSV README and the XLSX)."""
    head = "Fonte dei dati" if lang == "it" else "Data source"
    rows = "righe" if lang == "it" else "rows"
    return [f"{head}: {s['source']} ({s['rows']} {rows})"
            + (f" – {s['licence']} {s['licence_url']}" if s["licence"] else "") for s in sources]


async def public_report(request: Request, req: ReportRequest,
                        extra_by: tuple[str, ...] = ()) -> Report:
    """The reports' figures over the published projects only (req.published is forced)."""
    asked = ReportRequest(by=req.by, comuni=req.comuni, programme=req.programme,
                          programme_level=req.programme_level, status=req.status,
                          lang=req.lang, published=True)
    return await thread_read(  # a replica when one is in rotation (database.py)
        request.app.state.dsn, partial(_build, asked=asked, extra_by=extra_by),
        limiter=worker_limiter(request, "web-figures", CONCURRENT_REPORTS))


def _build(dsn: str, *, asked: ReportRequest, extra_by: tuple[str, ...]) -> Report:
    return build_report(dsn, asked, extra_by=extra_by)
