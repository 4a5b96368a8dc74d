"""Login, logout and password change of the reserved area (the API's own accounts)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from rigenera.auth import Authenticator, client_address, hash_password
from rigenera.errors import PasswordChecksBusy, TooManyLoginFailures, Unauthorized
from rigenera.sessions import COOKIE
from rigenera.web.render import page
from rigenera.web.security import (
    FormDep,
    SessionDep,
    WebUser,
    cookie_secure,
    ensure_csrf,
    form_text,
    resolve_session,
    session_store,
)

router = APIRouter(prefix="/area-riservata", dependencies=[Depends(resolve_session)],
                   include_in_schema=False)
HOME = "/area-riservata"


def safe_next(target: str | None) -> str:
    """Only a path of this site (never //host or a scheme): no open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME


def _set_session_cookie(request: Request, response: Response, value: str) -> None:
    hours = request.app.state.settings.web_session_hours
    response.set_cookie(COOKIE, value, max_age=hours * 3600, httponly=True, samesite="lax",
                        secure=cookie_secure(request), path="/")


@router.get("/accedi")
async def login_form(request: Request, session: SessionDep, next: str | None = None) -> Response:
    if session is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    ensure_csrf(request)
    return page(request, "account/login.html", {"next": safe_next(next), "error": None,
                                                "username": ""}, public=False)


@router.post("/accedi")
async def login(request: Request, form: FormDep) -> Response:
    username = (form_text(form, "username") or "").lower()
    password = form.get("password")
    target = safe_next(form_text(form, "next"))
    auth: Authenticator = request.app.state.auth
    error, status = None, 200
    try:
        who = await auth.login(username, password if isinstance(password, str) else "",
                               client_address(request.scope))
    except (Unauthorized, TooManyLoginFailures, PasswordChecksBusy) as exc:
        error, status = exc.description, int(exc.status)
    if error is None:
        made = await session_store(request).create(who)
        if made is not None:
            response = RedirectResponse(target, status_code=303)
            _set_session_cookie(request, response, made.cookie_value)
            return response
        error, status = "Account non attivo / account not active", 401
    ensure_csrf(request)
    return page(request, "account/login.html", {"next": target, "error": error,
                                                "username": username},
                status=status, public=False)


@router.post("/esci")
async def logout(request: Request, form: FormDep) -> Response:
    await session_store(request).end(request.cookies.get(COOKIE))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/password")
async def password_form(request: Request, who: WebUser) -> Response:
    return page(request, "account/password.html", {"errors": {}}, public=False)


@router.post("/password")
async def change_password(request: Request, who: WebUser, form: FormDep) -> Response:
    """The current password is checked like a login (throttled); the new one is hashed
    with the API's rules. The change ends every session of the account (its
    credentials_version moves on), so this browser gets a new one."""
    current = form.get("current_password")
    new = form.get("new_password")
    confirm = form.get("confirm_password")
    errors: dict[str, str] = {}
    status = 200
    auth: Authenticator = request.app.state.auth
    try:
        await auth.login(who.username, current if isinstance(current, str) else "",
                         client_address(request.scope))
    except (Unauthorized, TooManyLoginFailures, PasswordChecksBusy) as exc:
        errors["current_password"] = exc.description
        status = int(exc.status)
    new_text = new if isinstance(new, str) else ""
    if not errors and new_text != confirm:
        mismatch = "Le due password non coincidono / the two passwords differ"
        errors["confirm_password"] = mismatch
        status = 422
    hashed = None
    if not errors:
        try:
            hashed = hash_password(new_text)
        except ValueError as exc:
            errors["new_password"] = str(exc)
            status = 422
    if errors or hashed is None:
        return page(request, "account/password.html", {"errors": errors},
                    status=status, public=False)
    await request.app.state.pools.write.execute(
        "UPDATE rigenera.accounts SET password_hash = $2 WHERE username = $1",
        who.username, hashed)
    made = await session_store(request).create(who)
    response = RedirectResponse(f"{HOME}?password=changed", status_code=303)
    if made is not None:
        _set_session_cookie(request, response, made.cookie_value)
    return response

