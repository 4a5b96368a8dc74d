"""The reserved area's home: what each role can do, and what is due today."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from rigenera.web.render import page
from rigenera.web.security import WebUser, resolve_session

router = APIRouter(prefix="/area-riservata", dependencies=[Depends(resolve_session)],
                   include_in_schema=False)


@router.get("")
async def home(request: Request, who: WebUser) -> Response:
    return page(request, "reserved/home.html",
                {"password_changed": request.query_params.get("password") == "changed"},
                public=False)
