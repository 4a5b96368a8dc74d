"""Security headers on every answer, and CORS: other sites may read, never write.

Security headers (`SecurityHeadersMiddleware`):
* ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``, ``Referrer-Policy:
  strict-origin-when-cross-origin`` everywhere (a route that set its own keeps it: the
  event pages' ``no-referrer``, the documents' ``sandbox`` CSP);
* ``Content-Security-Policy`` on HTML: the website's pages have no inline script (JSON data
  travels in ``<script type="application/json">``, web/render.py script_json), no inline
  style attribute, MapLibre is its CSP build with its worker served by us, and every tile,
  style and feature comes from us: ``'self'`` only, plus the optional basemap's origin.
  pygeoapi's HTML (under /ogc) and the API's documentation pages load Leaflet, Swagger UI
  and their CSS from public CDNs with inline scripts: they get a looser policy of their own,
  still without frames, plugins or foreign form targets;
* ``Strict-Transport-Security`` when the public URL is https (or settings.hsts).

CORS (`CorsMiddleware`): open data is meant to be read by other agencies' web maps, so
GET and HEAD answer ``Access-Control-Allow-Origin`` to the origins of settings.cors_origins
(``*`` by default), never with credentials. A preflight for any other method (a cross-site
PATCH, POST, DELETE) gets a 403 without any allow header: writes are made by our website,
QGIS and scripts, never by another site's pages. Starlette's CORSMiddleware is not used:
it sends the allow headers even with the 400 of a refused preflight.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rigenera.errors import exception_document
from rigenera.settings import Settings

# pygeoapi's templates and FastAPI's /api/docs: where their scripts and styles come from.
_CDNS = "https://unpkg.com https://cdn.jsdelivr.net https://cdnjs.cloudflare.com"
_LOOSE_PREFIXES = ("/ogc", "/api/docs", "/redoc")


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def site_policy(settings: Settings) -> str:
    """The website's CSP: our own origin only (plus the basemap's, when one is set)."""
    own = " ".join(o for o in ("'self'", _origin(settings.public_url)) if o)
    basemap = _origin(settings.web_basemap_url)
    extra = f" {basemap}" if basemap else ""
    return ("default-src 'self'; "
            "script-src 'self'; "
            "style-src 'self'; "
            f"img-src 'self' data: blob:{extra}; "
            f"connect-src {own}{extra}; "
            "worker-src 'self'; "
            "font-src 'self'; "
            "object-src 'none'; "
            "base-uri 'self'; "
            "form-action 'self'; "
            "frame-ancestors 'none'")


def loose_policy(settings: Settings) -> str:
    """pygeoapi's HTML pages and the API docs: CDN scripts and styles, inline scripts,
    OpenStreetMap tiles under Leaflet (ogc/config.py "map"); still no frames or plugins."""
    own = " ".join(o for o in ("'self'", _origin(settings.public_url)) if o)
    return ("default-src 'self'; "
            f"script-src 'self' 'unsafe-inline' {_CDNS}; "
            f"style-src 'self' 'unsafe-inline' {_CDNS} https://fonts.googleapis.com; "
            "font-src 'self' data: https://fonts.gstatic.com; "
            "img-src 'self' data: blob: https:; "
            f"connect-src {own}; "
            "worker-src 'self' blob:; "
            "object-src 'none'; "
            "base-uri 'self'; "
            "form-action 'self'; "
            "frame-ancestors 'none'")


def hsts_enabled(settings: Settings) -> bool:
    if settings.hsts is not None:
        return settings.hsts
    return settings.base_url.startswith("https://")


class SecurityHeadersMiddleware:
    """Adds the headers above at ``http.response.start`` (pure ASGI, no body buffering)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.always: list[tuple[bytes, bytes]] = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
        ]
        if hsts_enabled(settings):
            self.always.append((b"strict-transport-security", b"max-age=31536000"))
        self.site_csp = site_policy(settings).encode()
        self.loose_csp = loose_policy(settings).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in self.always if h[0] not in present]
                if b"content-security-policy" not in present and any(
                        name.lower() == b"content-type" and value.startswith(b"text/html")
                        for name, value in headers):
                    loose = path.startswith(_LOOSE_PREFIXES)
                    headers.append((b"content-security-policy",
                                    self.loose_csp if loose else self.site_csp))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


# Request headers a cross-site reader may send (beyond the CORS-safelisted ones): content
# negotiation, conditional requests and a request id. Never Authorization: no credentials.
_READ_HEADERS = frozenset({"accept", "accept-language", "content-language", "if-none-match",
                           "if-modified-since", "x-request-id", "cache-control",
                           "rigenera-min-lsn"})  # read-your-writes by header (readmarks.py)
# Answer headers a cross-site reader's script may see.
_EXPOSED = (b"ETag, Link, Content-Crs, Content-Language, Content-Disposition, "
            b"X-Request-ID, Retry-After, Location, Rigenera-LSN")
_READ_METHODS = frozenset({"GET", "HEAD"})


class CorsMiddleware:
    """Cross-origin reads without credentials; cross-origin writes refused at the preflight."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.any = "*" in origins
        self.origins = frozenset(o.rstrip("/") for o in origins if o != "*")

    def _allowed(self, origin: str) -> bytes | None:
        if self.any:
            return b"*"
        return origin.encode("latin-1") if origin.rstrip("/") in self.origins else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = asked = asked_headers = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value.decode("latin-1")
            elif name == b"access-control-request-method":
                asked = value.decode("latin-1").strip().upper()
            elif name == b"access-control-request-headers":
                asked_headers = value.decode("latin-1")
        if origin is None:
            await self.app(scope, receive, send)
            return
        allow = self._allowed(origin)
        if scope["method"] == "OPTIONS" and asked is not None:
            await self._preflight(scope, receive, send, allow, asked, asked_headers)
            return
        if allow is None or scope["method"] not in _READ_METHODS:
            await self.app(scope, receive, send)
            return
        vary = allow != b"*"

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()),
                           (b"access-control-allow-origin", allow),
                           (b"access-control-expose-headers", _EXPOSED)]
                if vary:
                    headers.append((b"vary", b"Origin"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, scope: Scope, receive: Receive, send: Send, allow: bytes | None,
                         asked: str, asked_headers: str | None) -> None:
        wanted = {h.strip().lower() for h in (asked_headers or "").split(",") if h.strip()}
        refused = wanted - _READ_HEADERS
        if allow is None or asked not in _READ_METHODS or refused:
            reason = ("origin not allowed" if allow is None else
                      f"method {asked} not allowed cross-site" if asked not in _READ_METHODS
                      else f"headers not allowed cross-site: {', '.join(sorted(refused))}")
            response = exception_document(
                403, "Forbidden",
                "Da altri siti sono consentite solo letture (GET, HEAD) senza credenziali / "
                "other sites may only read (GET, HEAD), without credentials",
                errors=[{"field": "Access-Control-Request-Method"
                         if asked not in _READ_METHODS else "Origin" if allow is None
                         else "Access-Control-Request-Headers", "reason": reason}],
                headers={"Vary": "Origin"})
            await response(scope, receive, send)
            return
        headers = [(b"access-control-allow-origin", allow),
                   (b"access-control-allow-methods", b"GET, HEAD"),
                   (b"access-control-max-age", b"600"),
                   (b"vary", b"Origin, Access-Control-Request-Method, "
                             b"Access-Control-Request-Headers"),
                   (b"content-length", b"0")]
        if wanted:
            headers.append((b"access-control-allow-headers",
                            ", ".join(sorted(wanted)).encode("latin-1")))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
