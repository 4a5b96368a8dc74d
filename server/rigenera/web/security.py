"""Who is on the website, and forms that another site cannot submit.

* The session (sessions.py) is resolved once per request by `resolve_session`, a
  dependency of every web router: `request.state.web_session`.
* CSRF: a logged-in form carries its session's token; an anonymous form (login, event
  registration) a random token that must equal the `rigenera_csrf` cookie
  (double submit; the cookie is SameSite=Strict and HttpOnly). `checked_form` reads the
  form and refuses a missing or wrong token with a 403 that says so.
* Roles are dependencies (full-stack-fastapi-template's habit): `WebUser`, `OfficeUser`
  (the office: admin, coordinator, volunteer), `CoordinatorUser` (publishes).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from rigenera.auth import OFFICE, Principal, Role
from rigenera.errors import Forbidden, Unauthorized
from rigenera.sessions import COOKIE, Session, SessionStore, csrf_matches
from rigenera.settings import Settings

CSRF_COOKIE = "rigenera_csrf"
CSRF_FIELD = "csrf_token"
PUBLISHERS = frozenset({Role.ADMIN, Role.COORDINATOR})


def cookie_secure(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    if settings.web_cookie_secure is not None:
        return settings.web_cookie_secure
    return settings.base_url.startswith("https://")


def session_store(request: Request) -> SessionStore:
    store: SessionStore = request.app.state.sessions
    return store


async def resolve_session(request: Request) -> Session | None:
    """The visitor's session, or None; kept on request.state for the templates."""
    if hasattr(request.state, "web_session"):
        cached: Session | None = request.state.web_session
        return cached
    session = await session_store(request).get(request.cookies.get(COOKIE))
    request.state.web_session = session
    if session is not None:
        request.state.csrf_token = session.csrf_token
    return session


SessionDep = Annotated[Session | None, Depends(resolve_session)]


def ensure_csrf(request: Request) -> str:
    """The token a page's forms carry: the session's, or the anonymous double-submit one
    (its cookie is set with the page by render._finish)."""
    token: str | None = getattr(request.state, "csrf_token", None)
    if token:
        return token
    token = request.cookies.get(CSRF_COOKIE)
    if not token or len(token) != 43:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf_cookie = token
    request.state.csrf_token = token
    return token


def check_csrf(expected: str | None, given: object) -> None:
    """403 unless `given` (a form's csrf_token field) is the expected token. FormDep calls
    it; multipart uploads call it with the session's token once their fields are read."""
    if not expected or not isinstance(given, str) or not csrf_matches(expected, given):
        raise Forbidden("Modulo scaduto o non valido (token CSRF): ricaricare la pagina / "
                        "expired or invalid form (CSRF token): reload the page",
                        errors=[{"field": CSRF_FIELD, "reason": "missing or wrong"}])


async def checked_form(request: Request, session: SessionDep) -> FormData:
    """The submitted form, once its CSRF token is proved right (403 otherwise)."""
    form = await request.form()
    expected = session.csrf_token if session is not None else request.cookies.get(CSRF_COOKIE)
    check_csrf(expected, form.get(CSRF_FIELD))
    return form


FormDep = Annotated[FormData, Depends(checked_form)]


async def web_user(session: SessionDep) -> Principal:
    """A logged-in visitor; anyone else is sent to the login page (errors_html.py)."""
    if session is None:
        raise Unauthorized("Accesso richiesto / login required")
    return session.principal


WebUser = Annotated[Principal, Depends(web_user)]


def require_roles(roles: frozenset[Role]) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency: the logged-in visitor, if their role is one of `roles` (else 403)."""

    async def check(who: WebUser) -> Principal:
        if who.role not in roles:
            raise Forbidden(f"Il ruolo '{who.role}' non consente questa pagina / role "
                            f"'{who.role}' may not use this page")
        return who

    return check


OfficeUser = Annotated[Principal, Depends(require_roles(OFFICE))]
CoordinatorUser = Annotated[Principal, Depends(require_roles(PUBLISHERS))]


def form_text(form: FormData, name: str) -> str | None:
    """A form field as stripped text; empty is None (an upload is not text)."""
    value = form.get(name)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None
