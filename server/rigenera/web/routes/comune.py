"""The public page of a comune: /comuni/{istat} (and its JSON twin, ?f=json).

Its published projects and sites, its totals (the reports' per-comune figures over the
published projects: a project of several comuni is shared equally among them, so the
comuni's sums equal the metro total), charts, its open needs (public columns only, never
the referent) and the calls that fit them, with the matching service's reasons.
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from typing import Any

import asyncpg
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from rigenera.database import run_read
from rigenera.domains import DOMAINS, FUNDING_SOURCE
from rigenera.errors import NotFound
from rigenera.matching import service as matching
from rigenera.reports.request import ReportRequest
from rigenera.web.charts import Bar, bar_chart
from rigenera.web.format import eur, number
from rigenera.web.i18n import language, translator
from rigenera.web.minimap import MapShape, minimap_svg
from rigenera.web.publicdata import geometry, labelled, public_report
from rigenera.web.queries import sql
from rigenera.web.render import page, twin, wants_json
from rigenera.web.security import resolve_session

router = APIRouter(dependencies=[Depends(resolve_session)], include_in_schema=False)
ISTAT = re.compile(r"^[0-9]{6}$")
TOTALS = ("projects", "total_cost_eur", "requested_eur", "granted_eur", "pnrr_granted_eur",
          "spent_eur", "housing_units_fragile", "regenerated_m2")


def unknown_comune(code: str) -> NotFound:
    return NotFound("comune non trovato / comune not found",
                    errors=[{"field": "istat", "reason": f"no comune {code[:12]}"}])


def _per_inhabitant(value: Decimal | None, population: int | None) -> Decimal | None:
    if value is None or not population:
        return None
    return (Decimal(value) / population).quantize(Decimal("0.01"))


async def comune_data(request: Request, code: str) -> tuple[dict[str, Any], list[MapShape]]:
    day = matching.today()

    async def read(conn: asyncpg.Connection) -> tuple[Any, ...]:
        return (await conn.fetchrow(sql("comune_page"), code),
                await conn.fetch(sql("comune_projects"), code),
                await conn.fetch(sql("comune_sites"), code),
                await conn.fetch(matching.SQL, *matching.sql_args(None, code, day, False)))

    # Through run_read: on a replica, again on the primary if it goes away (database.py).
    c, projects, sites, rows = await run_read(request.app.state.pools.read, read)
    if c is None:
        raise unknown_comune(code)
    needs = matching.comune_document(rows, code, c["name"], day, False)
    lang = language(request)
    report = await public_report(request, ReportRequest(by="comune", comuni=(code,), lang=lang))
    by_comune = report.tables[0]
    mine = next((r for r in by_comune.rows if r.get("istat_code") == code), None)
    totals = {k: (mine or {}).get(k, 0) for k in TOTALS}
    population = c["population"]
    totals["granted_per_inhabitant_eur"] = _per_inhabitant(totals["granted_eur"], population)
    totals["pnrr_granted_per_inhabitant_eur"] = _per_inhabitant(totals["pnrr_granted_eur"],
                                                                population)
    sources = next(t for t in report.tables if t.name == "funding_by_source")
    status = DOMAINS[("projects", "status")]
    data: dict[str, Any] = {
        "istat_code": code, "name": c["name"], "population": population,
        "area_km2": round(c["area_m2"] / 1e6, 2) if c["area_m2"] else None,
        "ivsm": c["ivsm"], "ivsm_year": c["ivsm_year"],
        "url": f"{request.app.state.settings.base_url}/comuni/{code}",
        "totals": totals,
        "projects": [{"id": p["id"], "title": p["title"], "cup": p["cup"], "url": f"/progetti/{p['id']}",
                      "status": p["status"], "status_label": labelled(status, p["status"]),
                      "physical_progress_pct": p["physical_progress_pct"],
                      "total_cost_eur": p["total_cost_eur"],
                      "granted_eur": p["funding_granted_eur"], "comuni": p["comuni"],
                      "approximate_location": p["geom_source"] in ("comune_point", "unknown")}
                     for p in projects],
        "projects_by_status": [{"status": s, "label": labelled(status, s), "projects": n}
                               for s, n in sorted(Counter(p["status"] for p in projects).items(),
                                                  key=lambda kv: list(status).index(kv[0])
                                                  if kv[0] in status else 99)],
        "granted_by_source": [{"funding_source": r["funding_source"],
                               "label": labelled(FUNDING_SOURCE, r["funding_source"]),
                               "granted_eur": r["granted_eur"]} for r in sources.rows],
        "sites": [{"id": s["id"], "name": s["name"], "address": s["address"],
                   "state": s["state"], "state_label": labelled(DOMAINS[("sites", "state")], s["state"]),
                   "surface_m2": s["surface_m2"], "url": f"/ogc/collections/sites/items/{s['id']}"}
                  for s in sites],
        "needs": [{"need": e["need"], "matches": e["matches"]} for e in needs["needs"]],
        "calls": needs["calls"],
        "matching_ranking": needs["ranking"],
        "as_of": needs["as_of"],
        "notes": report.notes[:1],
    }
    shapes = []
    if (g := geometry(c["geom_wkb"])) is not None:
        shapes.append(MapShape(g, "context", c["name"]))
    shapes += [MapShape(g, "site", s["name"]) for s in sites if (g := geometry(s["geom_wkb"]))]
    shapes += [MapShape(g, "project", p["title"]) for p in projects if (g := geometry(p["geom_wkb"]))]
    return data, shapes


def charts(data: dict[str, Any], lang: str) -> dict[str, Any]:
    tr = translator(lang)
    return {
        "status": bar_chart(
            [Bar(s["label"][lang], s["projects"]) for s in data["projects_by_status"]],
            tr(f"Progetti pubblicati per stato, {data['name']}",
               f"Published projects by status, {data['name']}"),
            fmt=lambda v: number(v, lang)),
        "sources": bar_chart(
            [Bar(s["label"][lang], s["granted_eur"]) for s in data["granted_by_source"]],
            tr(f"Finanziamenti concessi per fonte, {data['name']}",
               f"Funding granted by source, {data['name']}"),
            fmt=lambda v: eur(v, lang)),
    }


@router.get("/comuni/{istat}")
async def comune_page(request: Request, istat: str) -> Response:
    if not ISTAT.match(istat):
        raise unknown_comune(istat)
    data, shapes = await comune_data(request, istat)
    if wants_json(request):
        return twin(request, data)
    lang = language(request)
    tr = translator(lang)
    minimap = minimap_svg(shapes, tr(f"Mappa di {data['name']}: progetti e luoghi",
                                     f"Map of {data['name']}: projects and sites"))
    return page(request, "pages/comune.html", {"c": data, "minimap": minimap,
                                               "charts": charts(data, lang)})
