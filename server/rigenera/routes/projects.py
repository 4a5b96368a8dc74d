"""The queue "Da localizzare": projects whose place on the map is only approximate.

Imported projects known only by their comuni are drawn at the comuni's representative
points (geom_source 'comune_point'); projects of the whole metropolitan area have no
geometry at all. Technicians and volunteers locate them by drawing the real point or
perimeter through the normal edit path; migration 0015 then makes the project
'digitised' and it leaves the queue. Who sees what:
- admins and coordinators: every project of the queue;
- technicians: the projects with at least one comune of theirs (a project spanning
  other comuni too is listed, but the reach rule lets them edit it only if all are theirs:
  `in_reach` says so);
- volunteers: those of their comuni if the account has some, else all.
Metro-area projects have no comune, so only callers who see every comune list them.
The answer is a GeoJSON FeatureCollection (QGIS and GDAL open it as a layer), paged by
`limit`/`offset` or by the cursor `after` (the `next` link uses it).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from rigenera.auth import Principal, Role
from rigenera.dependencies import CurrentUser, EditingDep
from rigenera.errors import InvalidParameter
from rigenera.routes import docs

router = APIRouter(prefix="/api/projects", tags=["projects"])
_SQL = resources.files("rigenera.sql").joinpath("to_locate.sql").read_text()
GEOJSON = "application/geo+json"
MAX_LIMIT = 1000


def visible_comuni(who: Principal) -> list[str] | None:
    """The comuni whose queue the caller sees; None = every comune."""
    if who.edits_everywhere:
        return None
    if who.role is Role.VOLUNTEER and not who.comuni:
        return None
    return sorted(who.comuni)


@router.get("/to-locate", response_model=None,
            responses={200: {"model": docs.ToLocate, "content": {GEOJSON: {}}},
                       **docs.errors(400, 401, 429)},
            openapi_extra=docs.AUTHENTICATED)
async def to_locate(request: Request, who: CurrentUser, editing: EditingDep,
                    istat_code: str | None = Query(None, pattern="^[0-9]{6}$"),
                    limit: int = Query(100, ge=1, le=MAX_LIMIT),
                    offset: int = Query(0, ge=0, le=2**31 - 1),
                    after: int | None = Query(None, ge=0, le=2**63 - 1),
                    f: str | None = Query(None)) -> Response:
    """Projects to locate in the caller's comuni (all for staff), as GeoJSON, id order."""
    if f not in (None, "json", "geojson"):
        raise InvalidParameter("f: solo json / only json",
                               errors=[{"field": "f", "reason": "json or geojson"}])
    comuni = visible_comuni(who)
    assert editing.pool is not None
    technician = sorted(who.comuni) if who.role is Role.TECHNICIAN else None
    rows = await editing.pool.fetch(_SQL, comuni, istat_code, after, limit,
                                    0 if after is not None else offset, technician,
                                    who.edits_everywhere)
    matched = int(rows[0]["matched"]) if rows else 0
    page = [r for r in rows if r["id"] is not None]
    features = [r["feature"] for r in page]
    links = _links(request, istat_code, limit, offset, after, len(page),
                   page[-1]["id"] if page else None, matched)
    body = (f'{{"type":"FeatureCollection","features":[{",".join(features)}],'
            f'"numberMatched":{matched},"numberReturned":{len(page)},"links":{links}}}')
    return Response(body, media_type=GEOJSON, headers={"Cache-Control": "no-cache"})


def _links(request: Request, istat_code: str | None, limit: int, offset: int,
           after: int | None, returned: int, last_id: int | None, matched: int) -> str:
    base = str(request.url_for("to_locate"))
    links = [{"rel": "self", "type": GEOJSON, "href": str(request.url)}]
    more = returned == limit and (after is not None or offset + returned < matched)
    if more and last_id is not None:
        nxt: dict[str, Any] = {"limit": limit, "after": last_id}
        if istat_code:
            nxt["istat_code"] = istat_code
        links.append({"rel": "next", "type": GEOJSON, "href": f"{base}?{urlencode(nxt)}"})
    return json.dumps(links)
