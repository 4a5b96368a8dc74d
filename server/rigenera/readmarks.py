"""Read-your-writes over streaming replicas: a technician always sees their own edit.

After a successful write (POST/PUT/PATCH/DELETE answered < 400; not the POSTs that only
read: CQL2-JSON queries, process executions) the primary's WAL position
is the writer's *mark*: it is returned as the header ``Rigenera-LSN``, in the cookie
``rigenera_lsn`` (browsers) and, when the request carried credentials, stored on the
primary in ``rigenera.read_marks`` under a SHA-256 of the credential. The last one is what
makes QGIS consistent: its native OAPIF layers send the plugin's Authorization header but
never our cookies, and another worker process may answer the next read.

On every request the caller's mark (the ``Rigenera-Min-LSN`` header, the cookie, or the
credential's stored mark) goes into ``database.MIN_LSN``; the read router then serves the
request's reads from a replica that has replayed it, waits up to ``replica_wait_ms`` for
one, or uses the primary (replicas.py). Anonymous reads without a mark never touch the
primary. Installed only when there are replicas: with one database there is nothing to do.

The mark is taken when the answer starts, after the route's transaction committed, as
``pg_current_wal_insert_lsn()``: past the commit record even when the commit is
asynchronous (``synchronous_commit = off``), where ``pg_current_wal_lsn()`` (WAL already
written out) may still be before it: measured, the mark then equalled the replica's replay
position while the edit was not visible there.
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import suppress
from http.cookies import SimpleCookie
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rigenera.database import MIN_LSN, format_lsn, parse_lsn
from rigenera.errors import InvalidParameter, database_unavailable, rigenera_error_response
from rigenera.limits import is_query
from rigenera.sessions import COOKIE as SESSION_COOKIE

LOG = logging.getLogger(__name__)

HEADER = "Rigenera-LSN"
MIN_HEADER = "rigenera-min-lsn"
COOKIE = "rigenera_lsn"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_GET_SQL = "SELECT lsn FROM rigenera.read_marks WHERE key = $1 AND until > now()"
_PUT_SQL = """
INSERT INTO rigenera.read_marks AS m (key, lsn, until)
VALUES ($1, pg_current_wal_insert_lsn(), now() + make_interval(secs => $2))
ON CONFLICT (key) DO UPDATE SET lsn = greatest(m.lsn, excluded.lsn), until = excluded.until
RETURNING lsn"""


def credential_key(headers: dict[bytes, bytes], cookies: dict[str, str]) -> bytes | None:
    """SHA-256 of the request's credential (the API's Authorization header, else the
    website's session cookie); None for an anonymous request. Never the credential."""
    authorization = headers.get(b"authorization")
    if authorization:
        return hashlib.sha256(b"authorization\0" + authorization).digest()
    session = cookies.get(SESSION_COOKIE)
    if session:
        return hashlib.sha256(b"session\0" + session.encode()).digest()
    return None


def _cookies(headers: dict[bytes, bytes]) -> dict[str, str]:
    raw = headers.get(b"cookie")
    if not raw:
        return {}
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw.decode("latin-1"))
    except Exception:  # a malformed Cookie header: no marks from it
        return {}
    return {k: v.value for k, v in jar.items()}


class ReadMarks:
    """Pure ASGI middleware (see the module's docstring); pools come from app.state."""

    def __init__(self, app: ASGIApp, *, mark_seconds: int, secure: bool) -> None:
        self.app = app
        self.mark_seconds = mark_seconds
        self.cookie_tail = (f"; Max-Age={mark_seconds}; Path=/; HttpOnly; SameSite=Lax"
                            + ("; Secure" if secure else ""))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        pools = getattr(getattr(scope.get("app"), "state", None), "pools", None)
        if scope["type"] != "http" or pools is None:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])  # later duplicates win; marks only need one
        cookies = _cookies(headers)
        key = credential_key(headers, cookies)
        try:
            mark = await self._mark_of(pools, headers, cookies, key)
        except InvalidParameter as problem:
            await rigenera_error_response(Request(scope, receive), problem)(scope, receive, send)
            return
        token = MIN_LSN.set(mark)
        try:
            if scope["method"] in UNSAFE and not is_query(
                    scope["method"], scope["path"], headers.get(b"content-type", b"")):
                await self.app(scope, receive, self._marking(send, pools, key))
            else:
                await self.app(scope, receive, send)
        finally:
            MIN_LSN.reset(token)

    async def _mark_of(self, pools: Any, headers: dict[bytes, bytes], cookies: dict[str, str],
                       key: bytes | None) -> int | None:
        marks: list[int] = []
        asked = headers.get(MIN_HEADER.encode())
        if asked is not None:
            try:
                marks.append(parse_lsn(asked.decode("ascii")))
            except (ValueError, UnicodeDecodeError) as exc:
                raise InvalidParameter(
                    "Rigenera-Min-LSN: atteso un LSN come 0/16B3748 / expected an LSN such "
                    "as 0/16B3748", errors=[{"field": "Rigenera-Min-LSN",
                                             "reason": "an LSN such as 0/16B3748"}]) from exc
        if cookies.get(COOKIE):
            # A damaged cookie must not break every page: ignored, it expires by itself.
            with suppress(ValueError):
                marks.append(parse_lsn(cookies[COOKIE]))
        if key is not None:
            try:
                stored = await pools.fresh.fetchval(_GET_SQL, key)
            except Exception as exc:
                if database_unavailable(exc) is None:
                    raise
                stored = None  # the primary is away: replicas serve what they have
            if stored is not None:
                marks.append(int(stored))
        return max(marks) if marks else None

    def _marking(self, send: Send, pools: Any, key: bytes | None) -> Send:
        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                lsn = await self._store(pools, key)
                if lsn is not None:
                    out = MutableHeaders(scope=message)
                    out.append(HEADER, format_lsn(lsn))
                    out.append("Set-Cookie", f"{COOKIE}={format_lsn(lsn)}{self.cookie_tail}")
            await send(message)

        return send_marked

    async def _store(self, pools: Any, key: bytes | None) -> int | None:
        """The primary's WAL position now (stored under the credential, if any); None if
        the primary cannot say: the write is done, the answer must not fail for a hint."""
        try:
            if key is None:
                return int(await pools.fresh.fetchval("SELECT pg_current_wal_insert_lsn()"))
            return int(await pools.fresh.fetchval(_PUT_SQL, key, float(self.mark_seconds)))
        except Exception as exc:
            LOG.warning("read mark not taken: %s", type(exc).__name__)
            return None
