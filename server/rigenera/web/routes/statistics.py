"""The public statistics: /statistiche (and ?f=json), /statistiche/download/{csv,xlsx}.

The metro area's totals by programme (PNRR mission, component, investment or
sub-measure), status, phase and start year are the reports' tables
(rigenera.reports.aggregate) over the projects published on the website: one snapshot,
one definition of each number, and the CSV (a zip, one file per table, README) and XLSX
downloads are the reports' writers on the same Report, with the attribution of the
published data's sources among its notes.
"""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from rigenera.errors import NotFound
from rigenera.reports import writers
from rigenera.reports.model import Report, Table
from rigenera.reports.request import FORMATS, LEVELS, ReportRequest, bad
from rigenera.web.charts import Bar, bar_chart
from rigenera.web.format import eur, number
from rigenera.web.i18n import language, translator
from rigenera.web.publicdata import attribution, attribution_notes, public_report
from rigenera.web.queries import sql
from rigenera.web.render import PUBLIC_MAX_AGE, page, twin, wants_json
from rigenera.web.security import resolve_session

router = APIRouter(dependencies=[Depends(resolve_session)], include_in_schema=False)
GROUPINGS = ("programme", "status", "phase", "year")
# The columns a public page shows (the downloads carry every column of the reports).
SHOWN = ("projects", "total_cost_eur", "granted_eur", "pnrr_granted_eur", "spent_eur")
LEVEL_LABELS = {"mission": ("Missione", "Mission"), "component": ("Componente", "Component"),
                "investment": ("Investimento", "Investment"),
                "submeasure": ("Sub-misura", "Sub-measure")}
TITLE = ("Statistiche dei progetti pubblicati – Città metropolitana di Milano",
         "Statistics of the published projects – Metropolitan City of Milan")


def _level(request: Request) -> str:
    level = request.query_params.get("livello") or "investment"
    if level not in LEVELS:
        raise bad("livello", f"uno di / one of {', '.join(LEVELS)}")
    return level

PUBLISHED_NOTE = ("Solo i progetti pubblicati sul sito (area riservata, Pubblicazione).",
                  "Only the projects published on the website (reserved area, Publication).")


async def statistics_report(request: Request, level: str, lang: str
                            ) -> tuple[Report, list[dict[str, Any]], list[Any]]:
    report = await public_report(
        request, ReportRequest(by="programme", programme_level=level, lang=lang),
        extra_by=GROUPINGS[1:])
    pool = request.app.state.pools.read
    sources = attribution(await pool.fetch(sql("stats_sources")))
    imports = await pool.fetch(sql("stats_imports"))
    report.title_it, report.title_en = TITLE
    # the evaluation's tables are not in the public figures (aggregate.evaluation_producer)
    kept = [n for n in report.notes if not n.startswith(("Tabelle di valutazione", "Evaluation"))]
    report.notes = [PUBLISHED_NOTE[0 if lang == "it" else 1], *kept,
                    *attribution_notes(sources, lang)]
    return report, sources, imports


def _table(t: Table) -> dict[str, Any]:
    keep = ("group", "group_label", *SHOWN)
    return {"name": t.name, "title": t.title_it, "title_en": t.title_en,
            "rows": [{k: r.get(k) for k in keep} for r in t.rows],
            "totals": {k: (t.totals or {}).get(k) for k in keep}}


def statistics_data(report: Report, sources: list[dict[str, Any]], imports: list[Any],
                    level: str, lang: str, base: str) -> dict[str, Any]:
    by_name = {t.name: t for t in report.tables}
    tables = [_table(by_name[f"by_{g}"]) for g in GROUPINGS]
    for t, g in zip(tables, GROUPINGS, strict=True):
        t["grouping"] = g
        t["title"] = by_name[f"by_{g}"].title(lang)
    return {
        "url": f"{base}/statistiche", "lang": lang, "programme_level": level,
        "totals": tables[0]["totals"],
        "tables": tables,
        "funding_by_source": _table_all(by_name["funding_by_source"]),
        "sources": sources,
        "imports": [{"collection": i["collection"], "file_name": i["file_name"],
                     "file_format": i["file_format"], "at": i["at"]} for i in imports],
        "notes": report.notes,
        "downloads": {f: f"/statistiche/download/{f}?livello={level}&lang={lang}"
                      for f in ("csv", "xlsx")},
    }


def _table_all(t: Table) -> dict[str, Any]:
    names = [c.name for c in t.columns]
    return {"name": t.name, "rows": [{k: r.get(k) for k in names} for r in t.rows],
            "totals": {k: (t.totals or {}).get(k) for k in names}}


def charts(data: dict[str, Any], lang: str) -> dict[str, Any]:
    tr = translator(lang)
    out: dict[str, Any] = {}
    for t in data["tables"]:
        out[t["grouping"]] = {
            "projects": bar_chart([Bar(r["group_label"], r["projects"]) for r in t["rows"]],
                                  tr("Progetti pubblicati: ", "Published projects: ") + t["title"],
                                  fmt=lambda v: number(v, lang)),
            "granted": bar_chart([Bar(r["group_label"], r["granted_eur"]) for r in t["rows"]],
                                 tr("Finanziamenti concessi: ", "Funding granted: ") + t["title"],
                                 fmt=lambda v: eur(v, lang)),
        }
    return out


@router.get("/statistiche")
async def statistics_page(request: Request) -> Response:
    level = _level(request)
    lang = language(request)
    report, sources, imports = await statistics_report(request, level, lang)
    data = statistics_data(report, sources, imports, level, lang,
                           request.app.state.settings.base_url)
    if wants_json(request):
        response = twin(request, data)
        response.headers["Vary"] = "Cookie"  # the labels follow the language
        return response
    return page(request, "pages/statistics.html",
                {"s": data, "charts": charts(data, lang), "levels": LEVEL_LABELS})


@router.get("/statistiche/download/{fmt}")
async def statistics_download(request: Request, fmt: str) -> Response:
    """The same figures as the page, as the reports write them (CSV zip or XLSX)."""
    if fmt not in ("csv", "xlsx"):
        raise NotFound("formato non disponibile / format not available",
                       errors=[{"field": "fmt", "reason": "csv or xlsx"}])
    level = _level(request)
    asked = request.query_params.get("lang")
    lang = asked if asked in ("it", "en") else language(request)
    report, _sources, _imports = await statistics_report(request, level, lang)
    body = await to_thread.run_sync(partial(_write, report, fmt, lang))
    f = FORMATS[fmt]
    name = f"rigenera-statistiche-{level}-{lang}.{f.extension}"
    return Response(body, media_type=f.media_type, headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": f"public, max-age={PUBLIC_MAX_AGE}", "Vary": "Cookie"})


def _write(report: Report, fmt: str, lang: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="rigenera-stats-") as tmp:
        path = Path(tmp) / f"statistiche.{fmt}"
        if fmt == "csv":
            writers.write_csv_zip(report, path, lang)
        else:
            writers.write_xlsx(report, path, lang)
        return path.read_bytes()
