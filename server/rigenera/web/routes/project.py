"""The public page of a project: /progetti/{id} (and its JSON twin, ?f=json).

Only projects published on the website (rigenera.project_publication, migration 0024)
have a page; a draft or proposed one is a 404 like a missing one, so a URL does not reveal
that an unpublished project exists. The cover photo is streamed from the documents'
storage by /progetti/{id}/copertina under the same rule.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import shapely
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from rigenera.domains import DOMAINS, FUNDING_SOURCE, PHASE
from rigenera.errors import NotFound
from rigenera.web.i18n import language
from rigenera.web.minimap import MapShape, minimap_svg
from rigenera.web.publicdata import geometry, labelled
from rigenera.web.queries import sql
from rigenera.web.render import cached_page, fingerprint, twin, wants_json
from rigenera.web.security import resolve_session

router = APIRouter(dependencies=[Depends(resolve_session)], include_in_schema=False)
OPENCUP = "https://www.opencup.gov.it/portale/progetto/-/cup/{cup}"
# Where a geometry is only an approximation of the project's place (migrations 0011/0015).
APPROXIMATE_SOURCES = ("comune_point", "unknown")
COVER_CHUNK = 64 * 1024
CONTEXT_PAD_DEG = 0.02  # ~2 km: more than the small map shows around a project


def not_published(project_id: object) -> NotFound:
    return NotFound("progetto non trovato / project not found",
                    errors=[{"field": "id", "reason": f"no published project {project_id}"}])


def _location(row: Any) -> dict[str, Any]:
    """What the page says about where the project is, plainly."""
    source = row["geom_source"]
    approximate = (row["geom_wkb"] is None or source in APPROXIMATE_SOURCES
                   or row["scope"] == "metro_area")
    if row["scope"] == "metro_area":
        it = ("Posizione approssimativa: il progetto riguarda tutta la Città metropolitana; "
              "non ha un luogo proprio.")
        en = ("Approximate location: the project concerns the whole metropolitan area; it has "
              "no place of its own.")
    elif row["geom_wkb"] is None:
        it, en = ("Posizione non ancora rilevata.", "Location not surveyed yet.")
    elif source == "comune_point":
        it = ("Posizione approssimativa: il punto indica il comune, non il luogo esatto del "
              "progetto, che non è ancora stato rilevato.")
        en = ("Approximate location: the point marks the comune, not the project's exact "
              "place, which has not been surveyed yet.")
    elif source == "unknown":
        it = "Posizione approssimativa: l'origine della geometria non è nota."
        en = "Approximate location: where the geometry comes from is not known."
    else:
        it = en = ""
    return {"approximate": approximate, "geometry_kind": row["geometry_kind"],
            "geom_source": source, "scope": row["scope"],
            "geom_source_label": labelled(DOMAINS[("projects", "geom_source")], source),
            "note": {"it": it, "en": en} if it else None}


def _json(text: str, dates: tuple[str, ...] = (), moments: tuple[str, ...] = ()
          ) -> list[dict[str, Any]]:
    """A JSON array of the page's statement: amounts as Decimal (exact), dates as dates."""
    items: list[dict[str, Any]] = json.loads(text, parse_float=Decimal)
    for item in items:
        for k in dates:
            if item.get(k):
                item[k] = date.fromisoformat(item[k])
        for k in moments:
            if item.get(k):
                item[k] = datetime.fromisoformat(item[k])
    return items


def _hex_geometry(value: str | None) -> Any:
    return geometry(bytes.fromhex(value)) if value else None


async def project_row(request: Request, project_id: int) -> Any:
    """Everything the page shows, in one statement (web/sql/project_page.sql): one round
    trip to PostgreSQL; a project that is not published is a 404."""
    row = await request.app.state.pools.read.fetchrow(sql("project_page"), project_id)
    if row is None:
        raise not_published(project_id)
    return row


def project_data(request: Request, row: Any) -> tuple[dict[str, Any], list[MapShape]]:
    """The page's data (the JSON twin, exactly) and the shapes of its small map."""
    base = request.app.state.settings.base_url
    lines = _json(row["funding_lines"])
    progress = _json(row["progress"], dates=("reference_date",))
    milestones = _json(row["milestones"], dates=("planned_date", "actual_date"))
    sites = _json(row["sites"])
    comuni = _json(row["comuni"])
    sources = _json(row["sources"], moments=("at",))
    status = DOMAINS[("projects", "status")]
    line_status = DOMAINS[("funding_lines", "status")]
    amounts = [r["amount_eur"] for r in lines if r["amount_eur"] is not None]
    funding = {
        "lines": [{**r, "funding_source_label": labelled(FUNDING_SOURCE, r["funding_source"]),
                   "status_label": labelled(line_status, r["status"])} for r in lines],
        # the sum of the lines' amounts, exact (numeric): what the database holds
        "total_eur": sum(amounts, Decimal(0)),
        "granted_eur": sum((r["amount_eur"] for r in lines
                            if r["status"] == "granted" and r["amount_eur"] is not None), Decimal(0)),
        "pnrr_granted_eur": sum((r["amount_eur"] for r in lines if r["status"] == "granted"
                                 and r["funding_source"] == "pnrr" and r["amount_eur"] is not None),
                                Decimal(0)),
        "lines_without_amount": len(lines) - len(amounts),
        "approximate": any(r["amount_approx"] for r in lines),
    }
    latest = progress[0] if progress else None
    data: dict[str, Any] = {
        "id": row["id"],
        "url": f"{base}/progetti/{row['id']}",
        "title": row["title"],
        "public_text": row["public_text"],
        "description": row["description"],
        "cup": row["cup"],
        "opencup_url": OPENCUP.format(cup=row["cup"]) if row["cup"] else None,
        "implementing_body": row["implementing_body"],
        "status": row["status"], "status_label": labelled(status, row["status"]),
        "start_date": row["start_date"], "end_date": row["end_date"],
        "total_cost_eur": row["total_cost_eur"],
        "programme_codes": list(row["programme_codes"] or []),
        "published_at": row["published_at"],
        "cover_url": f"{base}/progetti/{row['id']}/copertina" if row["cover_id"] else None,
        "cover_title": row["cover_title"],
        "comuni": [{"istat_code": c["istat_code"], "name": c["name"],
                    "url": f"/comuni/{c['istat_code']}"} for c in comuni],
        "funding": funding,
        "progress": None if latest is None else {
            **latest, "phase_label": labelled(PHASE, latest["phase"]), "records": len(progress)},
        "milestones": [_milestone(m) for m in milestones if m["kind"] == "milestone"],
        "targets": [_milestone(m) for m in milestones if m["kind"] == "target"],
        "outcomes": {k: row[k] for k in ("housing_units_fragile", "cultural_space_m2",
                                         "community_space_m2", "productive_space_m2",
                                         "regenerated_m2")},
        "sites": [{"id": s["id"], "name": s["name"], "istat_code": s["istat_code"],
                   "address": s["address"], "state": s["state"],
                   "state_label": labelled(DOMAINS[("sites", "state")], s["state"]),
                   "url": f"/ogc/collections/sites/items/{s['id']}"} for s in sites],
        "location": _location(row),
        "sources": sources,
        "api": {"item": f"/ogc/collections/projects/items/{row['id']}"},
        "source": row["source"], "source_id": row["source_id"],
    }
    # an approximate place is shown within its whole comune (the comune frames the map)
    frame = "comune" if data["location"]["approximate"] else "context"
    shapes = [MapShape(g, frame, c["name"]) for c in comuni
              if (g := _hex_geometry(c["geom_wkb"])) is not None]
    shapes += [MapShape(g, "site", s["name"]) for s in sites
               if (g := _hex_geometry(s["geom_wkb"])) is not None]
    own = geometry(row["geom_wkb"])
    if own is not None:
        shapes.append(MapShape(own, "project", row["title"]))
    return data, _clip_context(shapes)


def _clip_context(shapes: list[MapShape]) -> list[MapShape]:
    """Context shapes cut to the neighbourhood the map shows (a comune's boundary has
    thousands of vertices, most far outside a project's small map)."""
    focus = [s.geometry for s in shapes if s.kind != "context"]
    if not focus:
        return shapes
    minx, miny, maxx, maxy = shapely.GeometryCollection(focus).bounds
    pad = max(maxx - minx, maxy - miny, CONTEXT_PAD_DEG)
    box = (minx - pad, miny - pad, maxx + pad, maxy + pad)
    return [MapShape(shapely.clip_by_rect(s.geometry, *box), s.kind, s.label)
            if s.kind == "context" else s for s in shapes]


def _milestone(m: dict[str, Any]) -> dict[str, Any]:
    return {"kind": m["kind"], "title": m["title"], "planned_date": m["planned_date"],
            "actual_date": m["actual_date"], "indicator": m["indicator"], "unit": m["unit"],
            "planned_value": m["planned_value"], "achieved_value": m["achieved_value"]}


def _project_id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 18:
        raise not_published(raw)
    return int(raw)


@router.get("/progetti/{id}")
async def project_page(request: Request, id: str) -> Response:
    project_id = _project_id(id)
    row = await project_row(request, project_id)
    if wants_json(request):
        return twin(request, project_data(request, row)[0])

    async def build() -> dict[str, Any]:
        data, shapes = project_data(request, row)
        caption = "Mappa del progetto " if language(request) == "it" else "Map of the project "
        return {"p": data, "minimap": minimap_svg(shapes, caption + data["title"])}

    # Rendered once per change of its row (render.cached_page): the small map and the
    # template cost ~10x the statement.
    return await cached_page(request, "pages/project.html", fingerprint(*row.values()), build)


@router.get("/progetti/{id}/copertina")
async def project_cover(request: Request, id: str) -> Response:
    """The cover photo of a published project (a document of its own, an image)."""
    project_id = _project_id(id)
    row = await request.app.state.pools.read.fetchrow(sql("project_cover"), project_id)
    if row is None:
        raise not_published(project_id)
    etag = f'"{row["sha256"][:32]}"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=3600",
               "X-Content-Type-Options": "nosniff"}
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    storage = request.app.state.documents
    try:
        handle = await run_in_threadpool(storage.open, row["storage_key"])
    except FileNotFoundError:  # the row outlived its file: no cover rather than a 500
        raise not_published(project_id) from None

    async def chunks() -> Any:
        try:
            while block := await run_in_threadpool(handle.read, COVER_CHUNK):
                yield block
        finally:
            await run_in_threadpool(handle.close)

    headers["Content-Length"] = str(row["size_bytes"])
    return StreamingResponse(chunks(), media_type=row["media_type"], headers=headers)
