"""Who is calling: accounts, passwords (argon2id), bearer tokens, roles.

QGIS 3.22 authenticates with HTTP Basic (or OAuth2, certificates), so Basic is
first-class; scripts use bearer tokens (issued by `rigenera token issue`,
stored as SHA-256, with an expiry, revocable).

Credentials stop at once, in every server process: each authenticated request
reads the account (active, role, comuni, credentials_version) or the token row
with one indexed query. Only the argon2 check (~50 ms of CPU by design, and QGIS
sends Basic credentials with every request) is remembered per process, keyed by a
keyed hash of the credentials and valid only for the credentials_version it was
made against: a trigger bumps that version on any change of password, state,
role or comuni, whoever makes it (migration 0008).

Failed logins are throttled in PostgreSQL (shared by all processes), checked
before any hashing; hashing runs in a small pool of its own at low CPU priority,
bounded, so a flood of wrong passwords neither starves readers nor queues without end.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import os
import re
import secrets
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from typing import Any, Protocol

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.requests import HTTPConnection

from rigenera import metrics
from rigenera.errors import (
    Forbidden,
    PasswordChecksBusy,
    TooManyLoginFailures,
    Unauthorized,
)
from rigenera.settings import Settings

_HASHER = PasswordHasher()
TOKEN_PREFIX = "rg_"  # noqa: S105 (a prefix that marks our tokens, not a secret)
_TOKEN_FORMAT = re.compile(r"^rg_[A-Za-z0-9_-]{20,200}$")
_USERNAME_FORMAT = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")  # accounts_username_format
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ACCOUNT_SQL = resources.files("rigenera.sql").joinpath("auth_account.sql").read_text()
_TOKEN_SQL = resources.files("rigenera.sql").joinpath("auth_token.sql").read_text()
_REMEMBER_SECONDS = 3600  # a verified password is re-hashed at least hourly
_REMEMBER_MAX = 10_000


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    TECHNICIAN = "technician"
    VOLUNTEER = "volunteer"
    PUBLIC = "public"


STAFF = frozenset({Role.ADMIN, Role.COORDINATOR, Role.TECHNICIAN})
EDITORS = STAFF
# The programme's office: who phones the comuni's referents and sees their personal data
# (technicians edit their comuni's data, but are not the office).
OFFICE = frozenset({Role.ADMIN, Role.COORDINATOR, Role.VOLUNTEER})


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


class CookieSessions(Protocol):
    """The website's sessions as the API sees them (sessions.SessionStore): the account
    of a session cookie, or None when the request has no such cookie."""

    async def principal_of(self, request: HTTPConnection) -> Principal | None: ...


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise ValueError("la password deve avere almeno 8 caratteri / at least 8 characters")
    if _CONTROL.search(password):
        raise ValueError("la password contiene caratteri di controllo / control characters in "
                         "the password")
    return _HASHER.hash(password)


def new_token() -> tuple[str, str]:
    """A new bearer token and the hash we store."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LoginPolicy:
    """How failed logins are throttled (the numbers and their reasons: settings.py)."""

    window: int
    per_account_address: int
    per_address: int
    per_account: int
    block: int
    block_max: int

    @classmethod
    def from_settings(cls, s: Settings) -> LoginPolicy:
        return cls(s.login_window_seconds, s.login_failures_per_account_address,
                   s.login_failures_per_address, s.login_failures_per_account,
                   s.login_block_seconds, s.login_block_max_seconds)


def _malformed(it: str, en: str) -> Unauthorized:
    return Unauthorized(f"Credenziali Basic malformate: {it} / malformed Basic credentials: {en}",
                        errors=[{"field": "Authorization", "reason": en}])


def decode_basic(value: str) -> tuple[str, str]:
    """`Basic` credentials -> (username, password), naming what is wrong with them.

    Header bytes reach us as Latin-1 text; credentials must be base64 of UTF-8 text
    with a colon, and neither part may hold control characters (a NUL cannot even be
    sent to PostgreSQL, where it was a 500).
    """
    if not value.isascii():
        raise _malformed("caratteri non ASCII nell'intestazione", "non-ASCII characters in header")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _malformed("non è base64 valido", "not valid base64") from None
    try:
        text = raw.decode("utf-8")  # strict: encoded surrogates (b"\xed\xa0\x80") are refused
    except UnicodeDecodeError:
        raise _malformed("non è testo UTF-8 (o contiene surrogati)",
                         "not UTF-8 text (or holds surrogates)") from None
    username, colon, password = text.partition(":")
    if not colon:
        raise _malformed("manca ':' tra nome utente e password", "no ':' between user and password")
    if _CONTROL.search(text):
        raise _malformed("contengono un carattere di controllo (es. NUL)",
                         "contain a control character such as NUL")
    return username, password


def _lower_priority() -> None:
    """Hashing threads yield the CPU to readers and PostgreSQL (nice 10, per thread on
    Linux; argon2's own lane threads inherit it)."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


_DUMMY: list[str] = []


def check_password(password_hash: str | None, password: str) -> bool:
    """argon2 verification; without a hash, the same work against a dummy (no timing oracle)."""
    if password_hash is None:
        if not _DUMMY:
            _DUMMY.append(_HASHER.hash(secrets.token_urlsafe(16)))
        password_hash = _DUMMY[0]
        password = ""  # never matches a random one
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class PasswordPool:
    """argon2 off the event loop: a small dedicated thread pool with a bounded queue.

    Not the loop's default executor, which pygeoapi's reads share. When `workers +
    queue` checks are already pending, the caller gets 503 with Retry-After at once.
    """

    def __init__(self, workers: int, queue: int) -> None:
        self._executor = ThreadPoolExecutor(max(1, workers), thread_name_prefix="rigenera-argon2",
                                            initializer=_lower_priority)
        self.capacity = max(1, workers) + max(0, queue)
        self._pending = 0
        self.completed = 0  # argon2 verifications done, for monitoring (and the tests)
        self._lock = threading.Lock()

    def _done(self, _: Future[bool]) -> None:
        with self._lock:
            self._pending -= 1
            self.completed += 1

    async def check(self, password_hash: str | None, password: str) -> bool:
        with self._lock:
            if self._pending >= self.capacity:
                raise PasswordChecksBusy(
                    "Troppe verifiche di password in corso: riprovare tra poco / too many "
                    "password checks in progress: retry shortly", headers={"Retry-After": "1"})
            self._pending += 1
        # Counted until the thread is really done, even if this request is abandoned.
        job = self._executor.submit(check_password, password_hash, password)
        job.add_done_callback(self._done)
        return await asyncio.wrap_future(job)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


_THROTTLE_SCOPES = {
    "pair": ("per questo utente da questo indirizzo", "for this user from this address"),
    "address": ("da questo indirizzo", "from this address"),
    "account": ("per questo utente", "for this user"),
}


def _principal(row: asyncpg.Record) -> Principal:
    return Principal(row["username"], Role(row["role"]), frozenset(row["comuni"]))


class Authenticator:
    """Resolves the Authorization header to a Principal, checked against the database
    on every request; only argon2 verifications are remembered (per credentials version)."""

    def __init__(self, policy: LoginPolicy, *, password_workers: int,
                 password_queue: int) -> None:
        self.pool: asyncpg.Pool | None = None
        self.write_pool: asyncpg.Pool | None = None
        self.policy = policy
        self.passwords = PasswordPool(password_workers, password_queue)
        self._secret = secrets.token_bytes(32)  # keys the remembered-check hashes
        self._verified: dict[bytes, tuple[int, float]] = {}
        self._inflight: dict[bytes, asyncio.Future[bool]] = {}
        self._attempts: dict[str, int] = {}  # checks under way per account+address, per address
        # The website's login sessions (sessions.py): a request with no Authorization header
        # but a session cookie is that session's account.
        self.sessions: CookieSessions | None = None

    def start(self, pool: asyncpg.Pool, write_pool: asyncpg.Pool | None = None) -> None:
        self.pool = pool
        self.write_pool = write_pool or pool

    def close(self) -> None:
        self.passwords.close()

    async def of_request(self, request: HTTPConnection) -> Principal:
        authorization = request.headers.get("authorization")
        if not authorization and self.sessions is not None:
            who = await self.sessions.principal_of(request)
            if who is not None:
                return who
        return await self.principal(authorization, client_address(request.scope))

    async def login(self, username: str, password: str, address: str) -> Principal:
        """The website's login form: the same checks, throttle and remembered verifications
        as Basic credentials (so both doors share one failure count)."""
        value = base64.b64encode(f"{username}:{password}".encode()).decode()
        return await self._basic(value, address)

    async def principal(self, authorization: str | None, address: str | None = None) -> Principal:
        if not authorization:
            return PUBLIC
        # Its size was capped before any route (limits.BodyLimitMiddleware: 431).
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() == "basic":
            return await self._basic(value.strip(), address or "unknown")
        if scheme.lower() == "bearer":
            return await self._bearer(value.strip())
        raise Unauthorized("Schema di autenticazione non supportato: usare Basic o Bearer / "
                           "unsupported authentication scheme: use Basic or Bearer",
                           errors=[{"field": "Authorization", "reason": "Basic or Bearer"}])

    def _key(self, credentials: str) -> bytes:
        return hmac.new(self._secret, credentials.encode(), hashlib.sha256).digest()

    def _remembered(self, key: bytes, version: int) -> bool:
        hit = self._verified.get(key)
        return hit is not None and hit[0] == version and hit[1] > time.monotonic()

    def _remember(self, key: bytes, version: int) -> None:
        self._verified.pop(key, None)
        while len(self._verified) >= _REMEMBER_MAX:
            self._verified.pop(next(iter(self._verified)))
        self._verified[key] = (version, time.monotonic() + _REMEMBER_SECONDS)

    async def _basic(self, value: str, address: str) -> Principal:
        username, password = decode_basic(value)
        bad = Unauthorized("Nome utente o password errati / wrong username or password")
        if not _USERNAME_FORMAT.match(username):
            metrics.LOGIN_FAILURES.labels("credentials").inc()
            raise bad  # no such account can exist: nothing to hash, nothing to count
        assert self.pool is not None
        key = self._key(value)
        row = await self.pool.fetchrow(_ACCOUNT_SQL, username, address)
        usable = row is not None and row["active"] and row["password_hash"]
        if usable and self._remembered(key, row["credentials_version"]):
            if row["note_success"]:  # rare: a success after failures to reset
                assert self.write_pool is not None
                await self.write_pool.execute("SELECT rigenera.login_succeeded($1, $2)",
                                              username, address)
            return _principal(row)
        blocked = await self.pool.fetchrow("SELECT * FROM rigenera.login_blocked($1, $2)",
                                           username, address)
        if blocked is not None:
            self._throttled(blocked["scope"], blocked["retry_after"])
        # The same credentials arriving together (QGIS opens several connections at once)
        # share one verification instead of queueing one each.
        flight = self._inflight.get(key)
        if flight is None:
            self._not_too_many_at_once(username, address)
            flight = asyncio.ensure_future(self._verify(
                key, username, address, password, row["password_hash"] if usable else None,
                row["credentials_version"] if usable else 0))
            self._inflight[key] = flight
            flight.add_done_callback(lambda done: self._landed(key, done))
        if not await asyncio.shield(flight):
            metrics.LOGIN_FAILURES.labels("credentials").inc()
            raise bad
        assert row is not None
        return _principal(row)

    def _landed(self, key: bytes, done: asyncio.Future[bool]) -> None:
        self._inflight.pop(key, None)
        if not done.cancelled():
            done.exception()  # retrieved: waiters that gave up leave no "never retrieved" noise

    def _not_too_many_at_once(self, username: str, address: str) -> None:
        """Failures are counted when their check ends: without this, a flood sent all at
        once would pass the throttle together and queue one argon2 check per request."""
        for key, limit in ((f"{username} {address}", self.policy.per_account_address),
                           (address, self.policy.per_address)):
            if self._attempts.get(key, 0) >= limit:
                metrics.LOGIN_FAILURES.labels("throttled").inc()
                raise TooManyLoginFailures(
                    "Troppi accessi in corso da questo indirizzo: riprovare tra 1 s / too many "
                    "logins in progress from this address: retry in 1 s",
                    headers={"Retry-After": "1"},
                    errors=[{"field": "Authorization", "reason": "too many logins in progress"}])

    async def _verify(self, key: bytes, username: str, address: str, password: str,
                      password_hash: str | None, version: int) -> bool:
        """argon2 in the pool, then the outcome recorded for the throttle (and remembered)."""
        assert self.write_pool is not None
        keys = (f"{username} {address}", address)
        for k in keys:
            self._attempts[k] = self._attempts.get(k, 0) + 1
        try:
            ok = await self.passwords.check(password_hash, password)
            if ok:
                self._remember(key, version)
                await self.write_pool.execute("SELECT rigenera.login_succeeded($1, $2)",
                                              username, address)
            else:
                p = self.policy
                await self.write_pool.execute(
                    "SELECT rigenera.login_failed($1, $2, $3, $4, $5, $6, $7, $8)", username,
                    address, p.window, p.per_account_address, p.per_address, p.per_account,
                    p.block, p.block_max)
            return ok
        finally:
            for k in keys:
                self._attempts[k] -= 1
                if not self._attempts[k]:
                    del self._attempts[k]

    @staticmethod
    def _throttled(scope: str, retry_after: int) -> None:
        it, en = _THROTTLE_SCOPES.get(scope, _THROTTLE_SCOPES["pair"])
        wait = max(1, retry_after)
        metrics.LOGIN_FAILURES.labels("throttled").inc()
        raise TooManyLoginFailures(
            f"Troppi accessi falliti {it}: riprovare tra {wait} s / too many failed logins {en}: "
            f"retry in {wait} s", headers={"Retry-After": str(wait)},
            errors=[{"field": "Authorization", "reason": f"too many failed logins {en}"}])

    async def _bearer(self, token: str) -> Principal:
        invalid = Unauthorized("Token non valido, scaduto o revocato / invalid, expired or "
                               "revoked token")
        if not _TOKEN_FORMAT.match(token):
            metrics.LOGIN_FAILURES.labels("token").inc()
            raise Unauthorized("Token malformato: atteso rg_... / malformed token: expected rg_...",
                               errors=[{"field": "Authorization", "reason": "malformed token"}])
        assert self.pool is not None and self.write_pool is not None
        row = await self.pool.fetchrow(_TOKEN_SQL, token_hash(token))
        if row is None:
            metrics.LOGIN_FAILURES.labels("token").inc()
            raise invalid
        if row["touch"]:  # last_used_at at most once a minute, not a write per request
            await self.write_pool.execute(
                "UPDATE rigenera.tokens SET last_used_at = now() WHERE id = $1", row["token_id"])
        return _principal(row)


def client_address(scope: Any) -> str:
    """The caller's address (uvicorn puts X-Forwarded-For there for trusted proxies)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
