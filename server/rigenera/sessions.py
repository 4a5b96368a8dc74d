"""Website login sessions: a random id in an HttpOnly cookie, its SHA-256 in PostgreSQL.

Kept in the database (not signed cookies, not process memory) so that every worker sees
the same sessions and a session ends the moment the account's credentials change: the
lookup compares the account's `credentials_version` (migration 0008) with the one the
session was made with, so a password change, deactivation or change of role ends every
session of that account at once, in every process (the same rule as Basic credentials).

Each session has its own CSRF token (synchronizer pattern): forms carry it as a hidden
field, the reserved area's scripts as the `X-CSRF-Token` header (see auth.py).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

import asyncpg
from starlette.requests import HTTPConnection

from rigenera.auth import PUBLIC, Principal, Role
from rigenera.errors import Forbidden

COOKIE = "rigenera_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_ID_FORMAT_LENGTH = 43  # secrets.token_urlsafe(32)
_GET_SQL = resources.files("rigenera.sql").joinpath("session_get.sql").read_text()
_CREATE_SQL = resources.files("rigenera.sql").joinpath("session_create.sql").read_text()


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    """A live session: who, its CSRF token, until when."""

    principal: Principal
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class NewSession:
    """A session just made: the cookie's value is shown only here."""

    cookie_value: str
    session: Session


class SessionStore:
    """Create, find and end website sessions (read pool for lookups, write pool for changes)."""

    def __init__(self, lifetime_seconds: int) -> None:
        self.lifetime = lifetime_seconds
        self.pool: asyncpg.Pool | None = None
        self.write_pool: asyncpg.Pool | None = None

    def start(self, pool: asyncpg.Pool, write_pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.write_pool = write_pool

    async def create(self, principal: Principal) -> NewSession | None:
        """A new session for an account that has just proved who it is (None if the account
        was deactivated in between)."""
        assert self.write_pool is not None
        value = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        expires = await self.write_pool.fetchval(_CREATE_SQL, principal.username, _hash(value),
                                                 csrf, self.lifetime)
        if expires is None:
            return None
        return NewSession(value, Session(principal, csrf, expires))

    async def get(self, cookie_value: str | None) -> Session | None:
        """The session behind a cookie, or None (unknown, expired, or credentials changed)."""
        if not cookie_value or len(cookie_value) != _ID_FORMAT_LENGTH:
            return None
        assert self.pool is not None and self.write_pool is not None
        id_hash = _hash(cookie_value)
        row = await self.pool.fetchrow(_GET_SQL, id_hash)
        if row is None:
            return None
        if row["touch"]:
            await self.write_pool.execute(
                "UPDATE rigenera.web_sessions SET last_seen_at = now() WHERE id_hash = $1",
                id_hash)
        who = Principal(row["username"], Role(row["role"]), frozenset(row["comuni"]))
        return Session(who, row["csrf_token"], row["expires_at"])

    async def principal_of(self, request: HTTPConnection) -> Principal | None:
        """The API's view of a session cookie (auth.Authenticator.of_request): the account
        for reads; for writes only with the session's token in `X-CSRF-Token`, so another
        site cannot make a logged-in browser write. An unknown or expired cookie is the
        anonymous public; no cookie at all is None (the caller's other credentials count)."""
        if COOKIE not in request.cookies:
            return None
        session = await self.get(request.cookies.get(COOKIE))
        if session is None:
            return PUBLIC
        method = request.scope.get("method", "GET")
        if method not in SAFE_METHODS and not csrf_matches(session.csrf_token,
                                                           request.headers.get(CSRF_HEADER)):
            raise Forbidden("Token CSRF mancante o errato / missing or wrong CSRF token",
                            errors=[{"field": "X-CSRF-Token", "reason": "missing or wrong"}])
        return session.principal

    async def end(self, cookie_value: str | None) -> None:
        """Logout: the session stops existing (the cookie alone is worth nothing)."""
        if cookie_value:
            assert self.write_pool is not None
            await self.write_pool.execute("DELETE FROM rigenera.web_sessions WHERE id_hash = $1",
                                          _hash(cookie_value))

    async def end_all(self, username: str) -> None:
        assert self.write_pool is not None
        await self.write_pool.execute("DELETE FROM rigenera.web_sessions WHERE username = $1",
                                      username)


def csrf_matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a CSRF token."""
    return bool(given) and secrets.compare_digest(expected.encode(), (given or "").encode())
