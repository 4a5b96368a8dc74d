"""Who is calling: accounts, passwords (argon2id), bearer tokens, roles.

QGIS 3.22 authenticates with HTTP Basic (or OAuth2, certificates), so Basic is
first-class; scripts use bearer tokens (issued by `rigenera token issue`,
stored as SHA-256, with an expiry, revocable). An argon2 check costs ~50 ms by
design, and QGIS sends Basic credentials with every request, so a successful
check is remembered for a short while, keyed by a hash of the credentials.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from enum import StrEnum

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from rigenera.errors import Forbidden, Unauthorized

_HASHER = PasswordHasher()
_CACHE_SECONDS = 300
TOKEN_PREFIX = "rg_"  # noqa: S105 (a prefix that marks our tokens, not a secret)


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    TECHNICIAN = "technician"
    VOLUNTEER = "volunteer"
    PUBLIC = "public"


STAFF = frozenset({Role.ADMIN, Role.COORDINATOR, Role.TECHNICIAN})
EDITORS = STAFF


@dataclass(frozen=True)
class Principal:
    """The caller: an account, or the anonymous public."""

    username: str
    role: Role
    comuni: frozenset[str] = field(default_factory=frozenset)

    @property
    def authenticated(self) -> bool:
        return self.role is not Role.PUBLIC

    @property
    def edits_everywhere(self) -> bool:
        return self.role in (Role.ADMIN, Role.COORDINATOR)

    @property
    def may_edit(self) -> bool:
        return self.role in EDITORS

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            if not self.authenticated:
                raise Unauthorized("Autenticazione richiesta / authentication required")
            raise Forbidden(
                f"Il ruolo '{self.role}' non consente questa operazione / role '{self.role}' "
                "may not do this"
            )


PUBLIC = Principal("anonymous", Role.PUBLIC)


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise ValueError("la password deve avere almeno 8 caratteri / at least 8 characters")
    return _HASHER.hash(password)


def new_token() -> tuple[str, str]:
    """A new bearer token and the hash we store."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Authenticator:
    """Resolves the Authorization header to a Principal, with a short-lived cache."""

    def __init__(self) -> None:
        self.pool: asyncpg.Pool | None = None
        self._cache: dict[str, tuple[float, Principal]] = {}

    def start(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    def forget(self) -> None:
        """Drop remembered credentials (after a password change or revocation)."""
        self._cache.clear()

    async def principal(self, authorization: str | None) -> Principal:
        if not authorization:
            return PUBLIC
        scheme, _, value = authorization.strip().partition(" ")
        key = hashlib.sha256(authorization.encode()).hexdigest()
        hit = self._cache.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        if scheme.lower() == "basic":
            who = await self._basic(value.strip())
        elif scheme.lower() == "bearer":
            who = await self._bearer(value.strip())
        else:
            raise Unauthorized("Schema di autenticazione non supportato: usare Basic o Bearer / "
                               "unsupported authentication scheme: use Basic or Bearer")
        ttl = _CACHE_SECONDS if scheme.lower() == "basic" else 30
        self._cache[key] = (time.monotonic() + ttl, who)
        return who

    async def _account(self, conn: asyncpg.Connection, username: str) -> asyncpg.Record | None:
        return await conn.fetchrow(
            """SELECT a.username, a.role, a.password_hash, a.active,
                      coalesce(array_agg(c.istat_code) FILTER (WHERE c.istat_code IS NOT NULL),
                               '{}') AS comuni
                 FROM rigenera.accounts a
                 LEFT JOIN rigenera.account_comuni c USING (username)
                WHERE a.username = $1 GROUP BY a.username""", username)

    async def _basic(self, value: str) -> Principal:
        try:
            username, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized("Credenziali Basic malformate / malformed Basic credentials") from None
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            row = await self._account(conn, username)
        bad = Unauthorized("Nome utente o password errati / wrong username or password")
        # argon2 costs ~50 ms of CPU by design: off the event loop, so one login never
        # stalls the requests of everybody else.
        if row is None or not row["active"] or not row["password_hash"]:
            await asyncio.to_thread(_HASHER.hash, "timing-equaliser")  # same cost either way
            raise bad
        try:
            await asyncio.to_thread(_HASHER.verify, row["password_hash"], password)
        except (VerificationError, InvalidHashError):
            raise bad from None
        return Principal(row["username"], Role(row["role"]), frozenset(row["comuni"]))

    async def _bearer(self, token: str) -> Principal:
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                """UPDATE rigenera.tokens t SET last_used_at = now()
                     FROM rigenera.accounts a
                    WHERE t.token_hash = $1 AND a.username = t.username AND a.active
                      AND t.revoked_at IS NULL AND t.expires_at > now()
                RETURNING a.username""", token_hash(token))
            if row is None:
                raise Unauthorized("Token non valido, scaduto o revocato / invalid, expired or "
                                   "revoked token")
            acc = await self._account(conn, row["username"])
        assert acc is not None
        return Principal(acc["username"], Role(acc["role"]), frozenset(acc["comuni"]))
