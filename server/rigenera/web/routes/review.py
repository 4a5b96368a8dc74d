"""The reserved area's review rooms: the volunteers' geometry review queue and the queue
"Da localizzare", on the web instead of the QGIS plugin's docks.

Both pages read the very SQL the API answers with (rigenera/sql/review_queue.sql and
to_locate.sql, with the API's own visibility rule `routes.projects.visible_comuni`), so the
web, the API and QGIS show the same queues and the same automatic checks. Nothing is
written here: the page's JavaScript (static/js/review.js, locate.js) writes through the
API with the session cookie and the X-CSRF-Token header – POST /api/review/{collection}/{fid}
for a decision, PATCH /ogc/collections/projects/items/{id} with If-Match for a location –
so a review or a location lands in the one place the API and QGIS write to (editing service,
versions, reach, history).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from rigenera.auth import Principal, Role
from rigenera.routes.projects import visible_comuni
from rigenera.routes.review import REVIEWED
from rigenera.web.i18n import language, translator
from rigenera.web.queries import comuni_choices
from rigenera.web.render import page, twin, wants_json
from rigenera.web.security import OfficeUser, require_roles, resolve_session

router = APIRouter(prefix="/area-riservata", dependencies=[Depends(resolve_session)],
                   include_in_schema=False)
_QUEUE_SQL = resources.files("rigenera.sql").joinpath("review_queue.sql").read_text()
_TO_LOCATE_SQL = resources.files("rigenera.sql").joinpath("to_locate.sql").read_text()
QUEUE_LIMIT = 200
LOCATORS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.TECHNICIAN})
LocatorUser = Annotated[Principal, Depends(require_roles(LOCATORS))]
ISTAT = "^[0-9]{6}$"


@dataclass(frozen=True)
class CheckRow:
    """One automatic check as the page shows it (the QGIS dock's `check_rows`)."""

    key: str
    label: str
    text: str
    problem: bool


def check_rows(checks: dict[str, Any], lang: str) -> list[CheckRow]:
    """The checks review_queue.sql computed, labelled; the definitions stay in the SQL."""
    tr = translator(lang)
    yes, no = tr("sì", "yes"), tr("no", "no")

    def metres(v: float) -> str:
        text = f"{v:,.1f}"
        return text.replace(",", "\u202f").replace(".", ",") if lang == "it" else text

    rows: list[CheckRow] = []
    for key, value in checks.items():
        if key in ("validity_reason", "outside_location"):
            continue
        if key == "valid":
            reason = checks.get("validity_reason") or ""
            rows.append(CheckRow(key, tr("Geometria valida", "Valid geometry"),
                                 yes if value else f"{no}: {reason}".rstrip(": "), not value))
        elif key == "self_intersects":
            rows.append(CheckRow(key, tr("Auto-intersezione", "Self-intersection"),
                                 yes if value else no, bool(value)))
        elif key == "area_m2":
            rows.append(CheckRow(key, tr("Area", "Area"),
                                 "—" if value is None else f"{metres(float(value))} m²", False))
        elif key == "sliver":
            rows.append(CheckRow(key, tr("Poligono sottile (scheggia)", "Thin sliver"),
                                 yes if value else no, bool(value)))
        elif key == "area_plausible":
            rows.append(CheckRow(key, tr("Area plausibile (20 m² – 5 km²)",
                                         "Plausible area (20 m² – 5 km²)"),
                                 yes if value else no, value is False))
        elif key == "overlapping_sites":
            ids = list(value or [])
            rows.append(CheckRow(key, tr("Sovrapposta ad altri siti", "Overlaps other sites"),
                                 ", ".join(str(i) for i in ids) if ids else no, bool(ids)))
        elif key == "outside_comune_m":
            m = float(value or 0)
            rows.append(CheckRow(key, tr("Fuori dal proprio comune", "Outside its comune"),
                                 f"{metres(m)} m" if m else no, m > 0))
        else:  # a check added to the SQL later is shown as it comes
            problem = value is False or (isinstance(value, list | dict) and bool(value))
            rows.append(CheckRow(key, key, str(value), problem))
    return rows


async def _comuni(request: Request) -> list[dict[str, str]]:
    pool = request.app.state.editing.pool
    rows = await comuni_choices(pool)
    return [dict(r) for r in rows]


@router.get("/revisione")
async def review_page(request: Request, who: OfficeUser,
                      collection: str = Query("sites", pattern="^(sites|projects)$"),
                      istat: str | None = Query(None, pattern=ISTAT),
                      id: int | None = Query(None, ge=1, le=2**63 - 1)) -> Response:
    """The queue (oldest change first), the selected feature on a map, its checks, and the
    accept / reject form (review.js posts it to the API's review route)."""
    assert collection in REVIEWED
    lang = language(request)
    rows = await request.app.state.editing.pool.fetch(_QUEUE_SQL, collection, istat, QUEUE_LIMIT)
    items = [{**dict(r), "geometry": _json(r["geometry"]), "checks": _json(r["checks"])}
             for r in rows]
    for item in items:
        item["problems"] = [c.key for c in check_rows(item["checks"], lang) if c.problem]
    selected = next((i for i in items if i["id"] == id), items[0] if items else None)
    choices = await _comuni(request)
    ctx: dict[str, Any] = {
        "collection": collection, "istat": istat, "items": items, "selected": selected,
        "checks": check_rows(selected["checks"], lang) if selected else [],
        "comuni": choices, "names": {c["istat_code"]: c["name"] for c in choices},
        "limit": QUEUE_LIMIT,
        "gone": id if id is not None and (selected is None or selected["id"] != id) else None,
    }
    if wants_json(request):
        return twin(request, {k: ctx[k] for k in ("collection", "istat", "items")},
                    public=False)
    return page(request, "reserved/review.html", ctx, public=False)


@router.get("/da-localizzare")
async def locate_page(request: Request, who: LocatorUser,
                      istat: str | None = Query(None, pattern=ISTAT),
                      id: int | None = Query(None, ge=1, le=2**63 - 1)) -> Response:
    """Projects drawn only at their comuni's points (or nowhere): the API's queue, with the
    API's visibility rule (technicians: projects with one of their comuni)."""
    comuni = visible_comuni(who)
    technician = sorted(who.comuni) if who.role is Role.TECHNICIAN else None
    rows = await request.app.state.editing.pool.fetch(
        _TO_LOCATE_SQL, comuni, istat, None, QUEUE_LIMIT, 0, technician, who.edits_everywhere)
    matched = int(rows[0]["matched"]) if rows else 0
    features = [json.loads(r["feature"]) for r in rows if r["id"] is not None]
    selected = next((f for f in features if f["id"] == id), features[0] if features else None)
    every = await _comuni(request)  # a project may span comuni outside the caller's
    choices = every if comuni is None else [c for c in every if c["istat_code"] in comuni]
    ctx: dict[str, Any] = {
        "istat": istat, "features": features, "selected": selected, "matched": matched,
        "comuni": choices, "names": {c["istat_code"]: c["name"] for c in every},
        "limit": QUEUE_LIMIT,
        "gone": id if id is not None and (selected is None or selected["id"] != id) else None,
    }
    if wants_json(request):
        return twin(request, {"istat": istat, "matched": matched, "features": features},
                    public=False)
    return page(request, "reserved/locate.html", ctx, public=False)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value
