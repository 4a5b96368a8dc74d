"""Pages: Jinja2 templates rendered with the page's language, a strong ETag and caching.

Every page is a view over data that also has a JSON twin (datasette's habit): a route
builds one context dict, `page()` renders it as HTML, `twin()` returns it as JSON.
Public pages are `Cache-Control: public` with an ETag over their bytes, so a browser
or a proxy revalidates with a 304; pages of the reserved area are `private, no-store`.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from rigenera import __version__, metrics
from rigenera.web import format as fmt
from rigenera.web.i18n import COOKIE as LANG_COOKIE
from rigenera.web.i18n import asked_language, language, translator
from rigenera.web.menu import ROLE_LABELS, reserved_menu
from rigenera.web.security import CSRF_COOKIE, cookie_secure

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
PUBLIC_MAX_AGE = 60  # seconds a public page may be reused before revalidating


@cache
def static_version() -> str:
    """A short hash of the static files, appended to their URLs (`?v=`), so they can be
    cached for a year and still change with each release or build."""
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(STATIC.rglob("*")):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.relative_to(STATIC)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:12]


@cache
def templates_version() -> str:
    """A short hash of the templates: part of a cached page's ETag, so a new template never
    leaves a browser's If-None-Match answered with the old page."""
    digest = hashlib.sha256()
    for path in sorted(TEMPLATES.rglob("*.html")):
        digest.update(path.relative_to(TEMPLATES).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def static_url(path: str) -> str:
    return f"/static/{path}?v={static_version()}"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "xml"]),
        undefined=StrictUndefined,  # a missing variable is a bug, not an empty string
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static"] = static_url
    env.globals["version"] = __version__
    env.globals["reserved_menu"] = reserved_menu
    env.globals["script_json"] = script_json
    return env


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(value: Any) -> str:
    """JSON for a page's twin or for a <script type="application/json"> block."""
    return json.dumps(value, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def script_json(value: Any) -> Markup:
    """JSON for a <script type="application/json"> block: `<`, `>` and `&` escaped, so no
    text in it (a title typed by a user) can ever close the script element."""
    text = to_json(value).replace("<", "\\u003c").replace(">", "\\u003e")
    return Markup(text.replace("&", "\\u0026"))  # noqa: S704 (escaped above)


def base_context(request: Request) -> dict[str, Any]:
    """What every template can use: language, `tr`, formatting, the caller, CSRF token."""
    lang = language(request)
    session = getattr(request.state, "web_session", None)
    return {
        "request": request,
        "lang": lang,
        "tr": translator(lang),
        "eur": lambda v, d=0: fmt.eur(v, lang, d),
        "num": lambda v, d=0: fmt.number(v, lang, d),
        "day": lambda v: fmt.day(v, lang),
        "moment": lambda v: fmt.moment(v, lang),
        "role_label": lambda role: ROLE_LABELS[role][0 if lang == "it" else 1],
        "user": session.principal if session is not None else None,
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "path": request.url.path,
        "query": request.url.query,
    }


def _finish(request: Request, response: Response) -> Response:
    new_csrf = getattr(request.state, "new_csrf_cookie", None)
    if new_csrf:  # an anonymous form's double-submit cookie (security.ensure_csrf)
        response.set_cookie(CSRF_COOKIE, new_csrf, httponly=True, samesite="strict",
                            secure=cookie_secure(request), path="/")
    chosen = asked_language(request)
    if chosen:
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 86400, samesite="lax")
    response.headers.setdefault("Vary", "Cookie")
    return response


def page(request: Request, template: str, context: dict[str, Any], *, status: int = 200,
         public: bool = True, headers: dict[str, str] | None = None) -> Response:
    """An HTML page. Public pages get a strong ETag (304 when it matches) and a short
    public max-age; any page rendered for a logged-in caller is private and not stored."""
    ctx = base_context(request)
    ctx.update(context)
    body = environment().get_template(template).render(ctx).encode()
    public = public and ctx["user"] is None and status == 200
    out_headers = dict(headers or {})
    if public:
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        out_headers["ETag"] = etag
        out_headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
        if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
            return _finish(request, Response(status_code=304, headers=out_headers))
    else:
        out_headers["Cache-Control"] = "private, no-store"
    return _finish(request, HTMLResponse(body, status_code=status, headers=out_headers))


class PageCache:
    """Rendered public pages, kept by what they are made of (see `cached_page`): a small
    LRU per app, so a popular page is rendered once per change of its data, not per visit."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._pages: OrderedDict[str, bytes] = OrderedDict()

    def get(self, key: str) -> bytes | None:
        body = self._pages.get(key)
        if body is not None:
            self._pages.move_to_end(key)
        return body

    def put(self, key: str, body: bytes) -> None:
        self._pages[key] = body
        self._pages.move_to_end(key)
        while len(self._pages) > self.size:
            self._pages.popitem(last=False)


def _page_cache(request: Request) -> PageCache:
    cache: PageCache | None = getattr(request.app.state, "page_cache", None)
    if cache is None:
        cache = request.app.state.page_cache = PageCache()
    return cache


async def cached_page(request: Request, template: str, fingerprint: str,
                      build: Callable[[], Awaitable[dict[str, Any]]]) -> Response:
    """A public page whose ETag is known before it is rendered.

    `fingerprint` stands for everything the page shows (e.g. a hash of its one SQL row).
    With the template, path, query, language, the static files' and templates' versions and
    Milan's date (for "late" and "upcoming"), it names the page's bytes: a matching
    If-None-Match is a 304 without rendering, a page already rendered is served from the
    cache, and only a change of the data renders again. Logged-in visitors get the plain
    private page.
    """
    if getattr(request.state, "web_session", None) is not None:
        return page(request, template, await build())
    lang = language(request)
    today = datetime.now(fmt.ROME).date().isoformat()
    key = hashlib.sha256("\0".join((template, request.url.path, request.url.query, lang,
                                     static_version(), templates_version(), today,
                                     fingerprint)).encode()
                         ).hexdigest()[:32]
    headers = {"ETag": f'"{key}"', "Cache-Control": f"public, max-age={PUBLIC_MAX_AGE}"}
    if headers["ETag"] in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return _finish(request, Response(status_code=304, headers=headers))
    cache = _page_cache(request)
    body = cache.get(key)
    metrics.CACHE.labels("pages", "miss" if body is None else "hit").inc()
    if body is None:
        ctx = base_context(request)
        ctx.update(await build())
        body = environment().get_template(template).render(ctx).encode()
        cache.put(key, body)
    return _finish(request, HTMLResponse(body, headers=headers))


def fingerprint(*values: Any) -> str:
    """A stable hash of a page's source data (an asyncpg Record's values, say)."""
    return hashlib.sha256(repr(values).encode()).hexdigest()


def twin(request: Request, data: Any, *, public: bool = True) -> Response:
    """The JSON twin of a page: the same data, with the same caching rules."""
    body = to_json(data).encode()
    headers: dict[str, str] = {}
    if public:
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {"ETag": etag, "Cache-Control": f"public, max-age={PUBLIC_MAX_AGE}"}
        if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
            return Response(status_code=304, headers=headers)
    else:
        headers["Cache-Control"] = "private, no-store"
    return Response(body, media_type="application/json", headers=headers)


def wants_json(request: Request) -> bool:
    """`?f=json` (or an Accept of JSON without HTML) asks for the page's JSON twin."""
    f = request.query_params.get("f")
    if f:
        return f == "json"
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept
