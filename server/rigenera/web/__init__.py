"""The programme's website (issue 12): public pages and the reserved area.

Server-rendered Jinja2 pages over the same SQL as the API, small JavaScript modules for the
map (MapLibre GL JS from npm, served by us), sessions for the reserved area. `install` is
called by the app factory; each room adds its router here.
"""

from __future__ import annotations

from fastapi import FastAPI

from rigenera.sessions import SessionStore
from rigenera.settings import Settings
from rigenera.web.errors_html import html_error_page
from rigenera.web.render import STATIC
from rigenera.web.routes import (
    account,
    comune,
    data,
    events,
    needs,
    project,
    publication,
    referents,
    reserved,
    reserved_events,
    review,
    statistics,
)
from rigenera.web.routes import map as map_routes
from rigenera.web.staticfiles import WebStatic


def install(app: FastAPI, settings: Settings) -> SessionStore:
    """Mount the website on `app`; the returned session store is started in the lifespan."""
    sessions = SessionStore(settings.web_session_hours * 3600)
    app.state.sessions = sessions
    app.state.auth.sessions = sessions
    app.state.html_error_page = html_error_page
    app.mount("/static", WebStatic(directory=STATIC, check_dir=False), name="static")
    app.include_router(account.router)
    app.include_router(reserved.router)
    app.include_router(review.router)
    app.include_router(events.router)
    app.include_router(reserved_events.router)
    app.include_router(needs.router)
    app.include_router(publication.router)
    app.include_router(referents.router)
    app.include_router(map_routes.router)
    app.include_router(data.router)
    app.include_router(project.router)
    app.include_router(comune.router)
    app.include_router(statistics.router)
    return sessions
