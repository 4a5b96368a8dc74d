"""The reserved area's home: what each role can do, and what is waiting for them today.

* office roles (admin, coordinator, volunteer): the follow-ups of the contact log due today
  or overdue, not done (rigenera.contacts), and the projects still in draft;
* coordinators and admins: the proposals waiting for publication;
* everyone: the sections their role opens (menu.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from rigenera.auth import OFFICE
from rigenera.web.menu import reserved_menu
from rigenera.web.queries import sql
from rigenera.web.render import page
from rigenera.web.routes.referents import today
from rigenera.web.security import PUBLISHERS, WebUser, resolve_session

router = APIRouter(prefix="/area-riservata", dependencies=[Depends(resolve_session)],
                   include_in_schema=False)
WAITING_MAX = 20


@router.get("")
async def home(request: Request, who: WebUser) -> Response:
    pool = request.app.state.pools.read
    day = today()
    ctx: dict[str, Any] = {
        "password_changed": request.query_params.get("password") == "changed",
        "sections": reserved_menu(who), "today": day, "follow_ups": None, "proposals": None,
        "counts": None, "drafts": None}
    if who.role in OFFICE:
        ctx["follow_ups"] = await pool.fetch(sql("referent_follow_ups"), day)
        ctx["counts"] = {r["state"]: r["n"] for r in await pool.fetch(sql("publication_counts"))}
        ctx["drafts"] = await pool.fetch(sql("publication_list"), "draft", None, None, None,
                                         WAITING_MAX)
    if who.role in PUBLISHERS:
        ctx["proposals"] = await pool.fetch(sql("publication_list"), "proposed", None, None,
                                            None, WAITING_MAX)
    return page(request, "reserved/home.html", ctx, public=False)
