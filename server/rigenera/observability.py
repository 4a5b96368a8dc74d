"""What the service says about itself: log lines, request ids, request metrics.

* Every request gets an id: a well-formed incoming ``X-Request-ID`` (a proxy's, a client's)
  is kept, anything else is replaced by a fresh one. It is returned as ``X-Request-ID`` and
  put into every log line written while the request runs (a contextvar, so it follows the
  request into tasks and worker threads started from it).
* One access line per request, written by us, not by uvicorn: uvicorn's names the raw client
  address and the raw path with its query string, which may carry personal data (a CUP
  search, an e-mail typed in a search box). Ours names the route *template*
  (``/ogc/collections/{collection_id}/items``), the method, the status and the duration.
* ``log_format=json``: one JSON object per line (time, level, logger, message, request_id
  and, for access lines, method, route, status, duration_ms) for the log collector.
* Whatever the format, every line goes through `redact` before it is written: credentials
  (Basic/Bearer values, our ``rg_`` tokens, ``password=``-like pairs, DSN passwords, cookies)
  and e-mail addresses never reach a log, whoever wrote the line (pygeoapi, asyncpg...).
* Request counts and latencies by route template (metrics.REQUESTS, metrics.LATENCY):
  bounded label sets, never raw paths.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rigenera import metrics
from rigenera.settings import Settings

ACCESS = logging.getLogger("rigenera.access")

# The id of the request being answered (None outside requests: start-up, background jobs).
REQUEST_ID: ContextVar[str | None] = ContextVar("rigenera_request_id", default=None)

# A route template a middleware that answers ahead of the routers puts into the scope
# (ogc/routes.py FastReadMiddleware): those requests never meet a router.
ROUTE_KEY = "rigenera.route"

# Ids we accept from outside: what proxies and tracing systems generate (UUIDs, hex, ULIDs,
# "host-123"), nothing that could break a log line or carry an e-mail address.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_UNMATCHED = "(unmatched)"  # 404s: one label, however many paths are tried

# ---------------------------------------------------------------------------- redaction
# (pattern, replacement, words one of which the lower-cased line must contain for the
# pattern to be tried: most lines hold none, and a line then costs one lower() and a few
# substring searches instead of five regular-expression scans).
_REDACTIONS: tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...] = (
    # Authorization header values, in whatever a library printed
    # (a credential, not a word: it holds a digit, a capital, + / or =).
    (re.compile(r"\b([Bb]asic|[Bb]earer|BASIC|BEARER)(\s+|%20|\+)"
                r"(?=[A-Za-z0-9._~+/=%-]*[0-9A-Z+/=])[A-Za-z0-9._~+/=%-]{4,}"), r"\1 [redacted]",
     ("basic", "bearer")),
    # Our bearer tokens (auth.new_token: rg_ + urlsafe base64), wherever they appear.
    (re.compile(r"\brg_[A-Za-z0-9_-]{8,}"), "rg_[redacted]", ("rg_",)),
    # A password inside a DSN: postgresql://user:secret@host.
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@"), r"\1[redacted]@",
     ("://",)),
    # key=value, key: value, "key": "value" for secret-like keys (forms, JSON, headers).
    (re.compile(r"(?i)(password|passwd|pwd|secret|token|csrf_token|authorization|cookie|"
                r"set-cookie|api[_-]?key|rigenera_session|rigenera_csrf)"
                r"(\\?[\"']?\s*[:=]\s*\\?[\"']?)(?!\[redacted\])[^\s\"'&,;\\]+"),
     r"\1\2[redacted]",
     ("passw", "pwd", "secret", "token", "authorization", "cookie", "api", "rigenera_")),
    # E-mail addresses (accounts, referents, event registrations): personal data. The
    # look-behind starts a match only at the beginning of a word: linear, not quadratic.
    (re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+(@|%40)[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
     "[email]", ("@", "%40")),
)


# Any of the words above, in one scan: the common line (an access line) stops here.
_TRIGGER = re.compile("|".join(re.escape(w) for _, _, ws in _REDACTIONS for w in ws))


def redact(text: str) -> str:
    """`text` without credentials or e-mail addresses (see the module's docstring)."""
    lowered = text.lower()
    if _TRIGGER.search(lowered) is None:
        return text
    for pattern, replacement, words in _REDACTIONS:
        if any(w in lowered for w in words):
            text = pattern.sub(replacement, text)
            lowered = text.lower()
    return text


class _RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (text and JSON formats use it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class TextFormatter(logging.Formatter):
    """``LEVEL logger [request id]: message``, redacted."""

    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s%(rid)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None)
        record.rid = f" [{rid}]" if rid else ""
        return redact(super().format(record))


# Fields of our access lines (set with `extra=`), copied into the JSON object when present.
_ACCESS_FIELDS = ("method", "route", "status", "duration_ms")


class JsonFormatter(logging.Formatter):
    """One JSON object per line; the message (and any traceback) redacted."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for name in _ACCESS_FIELDS:
            if (value := getattr(record, name, None)) is not None:
                doc[name] = value
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            doc["exception"] = record.exc_text
        return redact(json.dumps(doc, ensure_ascii=False, default=str))


def configure_logging(settings: Settings) -> None:
    """The process's logging: one handler on standard error, text or JSON, redacted, with
    request ids. Called once by the CLI before the app is built; uvicorn is then started
    with ``log_config=None`` so its own loggers come through here too."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # uvicorn's access logger is off (access_log=False); never let it write if turned on.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True


class _ContextThreadPool(ThreadPoolExecutor):
    """The event loop's default executor, carrying the caller's contextvars into the thread
    (as asyncio.to_thread does): pygeoapi's API functions run through
    ``loop.run_in_executor`` and their log lines would otherwise have no request id."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


def install_context_executor() -> None:
    """Called in the app's lifespan, on the loop that serves it."""
    loop = asyncio.get_running_loop()
    if not isinstance(getattr(loop, "_default_executor", None), _ContextThreadPool):
        loop.set_default_executor(_ContextThreadPool(thread_name_prefix="rigenera"))


# ------------------------------------------------------------------------- route templates
def _template(routes: list[Any], scope: Scope, prefix: str = "") -> str | None:
    """The template of the route that serves `scope`, found the way the routers find it.
    Used only when the routed scope is not ours to see (a middleware copied it)."""
    partial: str | None = None
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        if isinstance(route, Mount):
            inner = _template(list(route.routes), {**scope, **child}, prefix + route.path)
            return inner or f"{prefix}{route.path}/{{path}}"
        path = prefix + str(getattr(route, "path", ""))
        if match is Match.FULL:
            return path
        partial = partial or path
    return partial


def route_of(app: Any, scope: Scope) -> str:
    """A bounded label for the request: the template of its route, never the raw path."""
    marked = scope.get(ROUTE_KEY)
    if marked:
        return str(marked)
    route = scope.get("route")
    if route is not None and not isinstance(route, Mount) and hasattr(route, "path"):
        mount = scope.get("root_path", "")[len(scope.get("app_root_path", "")):]
        return f"{mount}{route.path}"
    router = getattr(app, "router", None)
    if router is None:
        return _UNMATCHED
    probe = {**scope, "root_path": scope.get("app_root_path", ""), "path_params": {}}
    return _template(list(router.routes), probe) or _UNMATCHED


# ------------------------------------------------------------------------------ middleware
class RequestContextMiddleware:
    """Outermost of our middleware: request id in and out, the access line, the metrics.

    Pure ASGI (no BaseHTTPMiddleware): it adds a few microseconds to the fast read path
    (one contextvar, one header, two metric updates and one log record)."""

    def __init__(self, app: ASGIApp, root: Any = None) -> None:
        self.app = app
        self.root = root  # the FastAPI app, to name routes of requests its routers saw

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        rid = incoming if incoming and _REQUEST_ID.match(incoming) else os.urandom(16).hex()
        token = REQUEST_ID.set(rid)
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status = 500
        header = (b"x-request-id", rid.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            route = route_of(self.root, scope)
            metrics.REQUESTS.labels(route, method, str(status)).inc()
            metrics.LATENCY.labels(route, method).observe(seconds)
            if ACCESS.isEnabledFor(logging.INFO):
                ms = round(seconds * 1000, 2)
                ACCESS.info("%s %s %d %.2f ms", method, route, status, ms,
                            extra={"method": method, "route": route, "status": status,
                                   "duration_ms": ms})
            REQUEST_ID.reset(token)
