"""Bounded requests: body sizes per route, checked while bodies are read; JSON nesting depth.

Every request passes `BodyLimitMiddleware`, the outermost of our middleware
(factory.py). It picks the limit of the route (the table is in settings.py and
README), refuses a larger announced Content-Length before reading anything, and
counts the bytes of every received chunk (chunked bodies too): past the limit it
answers 413 itself and the app stops reading, so no route ever holds more than
its limit in memory. An answer given while part of the body is still unread (a
401 before a write is read, a 413) closes the connection, so the client stops
sending instead of the server draining it.

Writes authenticate before they read (editing/http.py, routes/api.py): an
anonymous writer's body is never read. Queries and process executions are
public; they get the larger limit only with credentials, which their routes
verify before reading (ogc/routes.py).

`parse_json` is the one JSON reader of every route: a document nested deeper than
JSON_MAX_DEPTH is a 400 naming the limit, found at C speed before parsing, and a
RecursionError can never escape (pygeoapi and pygeofilter then parse what we checked).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rigenera.errors import (
    HeaderTooLarge,
    InvalidParameter,
    PayloadTooLarge,
    RigeneraError,
    exception_document,
)
from rigenera.settings import Settings

UPLOAD_ENVELOPE = 2 * 1024 * 1024  # an import's mapping (1 MiB at most), fields, part headers
JSON_MAX_DEPTH = 64  # GeoJSON needs 6, a changeset 9, a CQL2 expression a few per operator

_ITEMS = re.compile(r"^/ogc/collections/[^/]+/items/?$")
_ITEM = re.compile(r"^/ogc/collections/[^/]+/items/[^/]+/?$")
_EXECUTION = re.compile(r"^/ogc/processes/[^/]+/execution/?$")
QUERY_MEDIA_TYPE = b"application/query-cql-json"
_DOCUMENTS = re.compile(r"^/api/projects/[^/]+/documents/?$"
                        r"|^/area-riservata/eventi/[0-9]+/materiali/file$")  # event materials


def is_query(method: str, path: str, content_type: bytes) -> bool:
    """A POST that only reads: a CQL2-JSON items query or a process execution (its job
    record, if any, is the job store's business on the primary). readmarks.py gives them
    no read-your-writes mark."""
    return method == "POST" and bool(_EXECUTION.match(path) or (
        _ITEMS.match(path)
        and content_type.split(b";")[0].strip().lower() == QUERY_MEDIA_TYPE))


@dataclass(frozen=True)
class BodyLimits:
    """The table of body limits, in bytes (settings.py)."""

    default: int
    feature: int
    changeset: int
    query_anonymous: int
    query: int
    upload: int = 0  # POST /api/imports: the file's limit plus the multipart envelope
    document: int = 0  # POST /api/projects/{id}/documents: the file's limit plus the envelope

    @classmethod
    def from_settings(cls, s: Settings) -> BodyLimits:
        return cls(s.body_limit_default, s.body_limit_feature, s.body_limit_changeset,
                   s.body_limit_query_anonymous, s.body_limit_query,
                   s.import_max_bytes + UPLOAD_ENVELOPE, s.documents_max_bytes + UPLOAD_ENVELOPE)

    def of(self, method: str, path: str, content_type: bytes, credentials: bool) -> tuple[int, str]:
        """(limit, what the route is) for a request."""
        if method == "POST" and (_EXECUTION.match(path) or (
                _ITEMS.match(path) and content_type.split(b";")[0].strip().lower()
                == QUERY_MEDIA_TYPE)):
            if credentials:
                return self.query, "query (authenticated)"
            return self.query_anonymous, "query (anonymous)"
        if (method == "POST" and _ITEMS.match(path)) or (
                method in ("PUT", "PATCH") and _ITEM.match(path)):
            return self.feature, "feature write"
        if method == "POST" and path.rstrip("/") == "/api/changesets":
            return self.changeset, "changeset"
        if method == "POST" and path.rstrip("/") == "/api/imports":
            return self.upload, "import upload"
        if method == "POST" and _DOCUMENTS.match(path):
            return self.document, "document upload"
        return self.default, "default"


def _size(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n} byte"


class BodyTooLarge(PayloadTooLarge):
    """Raised into the app by the counting `receive`; the middleware answers 413 itself."""


class BodyLimitMiddleware:
    """Refuses oversized bodies while reading them, before holding them (see the module)."""

    def __init__(self, app: ASGIApp, limits: BodyLimits, max_authorization: int) -> None:
        self.app = app
        self.limits = limits
        self.max_authorization = max_authorization

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, exc: RigeneraError) -> None:
        """The error's document, closing the connection: the body is left unread."""
        response = exception_document(exc.status, exc.code, exc.description, exc.errors,
                                      headers={**exc.headers, "Connection": "close"},
                                      extra=exc.body)
        await response(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, limit: int,
                         route: str) -> None:
        await self._refuse(scope, receive, send, PayloadTooLarge(
            f"Corpo della richiesta oltre il limite di {_size(limit)} ({route}) / request body "
            f"over the {_size(limit)} limit ({route})",
            errors=[{"field": "body", "reason": f"larger than {limit} bytes"}],
            body={"limit": limit}))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length: int | None = None
        chunked = False
        authorization: bytes | None = None
        content_type = b""
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.strip().isdigit():
                    await self._refuse(scope, receive, send, InvalidParameter(
                        "Content-Length non valido / invalid Content-Length",
                        errors=[{"field": "Content-Length", "reason": "not a number of bytes"}]))
                    return
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"authorization":
                authorization = value
            elif name == b"content-type":
                content_type = value
        if authorization is not None and len(authorization) > self.max_authorization:
            # Capped here, before any route: never hashed, never held by a handler.
            await self._refuse(scope, receive, send, HeaderTooLarge(
                f"Intestazione Authorization oltre {self.max_authorization} byte / Authorization "
                f"header longer than {self.max_authorization} bytes",
                errors=[{"field": "Authorization",
                         "reason": f"longer than {self.max_authorization} bytes"}]))
            return
        if not chunked and not length:  # no body (most requests): nothing to count
            await self.app(scope, receive, send)
            return
        limit, route = self.limits.of(scope["method"], scope["path"], content_type,
                                      authorization is not None)
        if length is not None and length > limit:
            await self._too_large(scope, receive, send, limit, route)
            return
        received = 0
        body_done = False
        exceeded = False
        app_started = False

        async def counting_receive() -> Message:
            nonlocal received, body_done, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if not message.get("more_body", False):
                    body_done = True
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge(f"request body over {limit} bytes")
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal app_started
            if exceeded:
                return  # the app's own answer to BodyTooLarge: ours goes out instead
            if message["type"] == "http.response.start":
                app_started = True
                if not body_done:  # answered before reading it all: stop the client sending
                    message = {**message, "headers": [
                        *[(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"],
                        (b"connection", b"close")]}
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not app_started:
            await self._too_large(scope, receive, send, limit, route)


# ------------------------------------------------------------------------------ JSON
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(range(256)).translate(None, b"[]{}")
_STEP = np.zeros(256, dtype=np.int8)
_STEP[list(b"[{")] = 1
_STEP[list(b"]}")] = -1
_BLOCK = 1 << 22


def json_depth(data: bytes) -> int:
    """How deep arrays and objects nest in a JSON text, without parsing it.

    Strings are cut out (a regular expression), the brackets kept, and their running
    sum taken by numpy in blocks: linear, C speed (~50 ms for 12 MB), bounded memory.
    """
    brackets = _JSON_STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    level = peak = 0
    for start in range(0, len(brackets), _BLOCK):
        block = np.frombuffer(brackets, dtype=np.uint8, count=min(_BLOCK, len(brackets) - start),
                              offset=start)
        running = np.cumsum(_STEP[block], dtype=np.int64) + level
        peak = max(peak, int(running.max()))
        level = int(running[-1])
    return peak


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def too_deep(field: str, max_depth: int) -> InvalidParameter:
    return InvalidParameter(
        f"{field}: JSON annidato oltre {max_depth} livelli / JSON nested deeper than "
        f"{max_depth} levels", errors=[{"field": field, "reason": f"nested deeper than "
                                                                  f"{max_depth} levels"}])


def parse_json(data: bytes | str, *, field: str = "body", max_depth: int = JSON_MAX_DEPTH) -> Any:
    """A JSON document from a request: UTF-8 (a BOM tolerated), no NaN or infinities,
    nested at most `max_depth` deep; anything else is a 400 naming `field`."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if json_depth(raw) > max_depth:
        raise too_deep(field, max_depth)
    try:
        # UTF-8 only (RFC 8259): json.loads(bytes) would also guess UTF-16 and UTF-32.
        return json.loads(raw.decode("utf-8-sig"), parse_constant=_no_constants)
    except RecursionError:  # cannot happen after the depth check; never a 500 regardless
        raise too_deep(field, max_depth) from None
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidParameter(f"JSON non valido / malformed JSON: {exc}",
                               errors=[{"field": field, "reason": str(exc)}]) from None
