"""One exception type per error, mapped to HTTP answers in exactly one place.

Every error leaves the service as an OGC API exception document
(``{"code", "type", "description"}``, the shape pygeoapi uses), optionally
with ``errors``: a list of ``{"field", "reason"}`` so clients can point at the
offending field. The user-facing ``description`` is kept apart from what we
log (pygeoapi's GenericError habit): internals never reach the client.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from rigenera import metrics

LOG = logging.getLogger(__name__)

OGC_EXCEPTION_MEDIA_TYPE = "application/json"


class RigeneraError(Exception):
    """Base: carries the HTTP status, the OGC exception code and a user message."""

    status: int = HTTPStatus.INTERNAL_SERVER_ERROR
    code: str = "NoApplicableCode"

    def __init__(
        self,
        description: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        log_message: str | None = None,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(log_message or description)
        self.description = description
        self.errors = errors or []
        self.headers = headers or {}
        self.body = body or {}


class ClusterError(RigeneraError):
    """The embedded PostgreSQL cluster cannot be set up or started."""


class MigrationError(RigeneraError):
    """A schema migration failed or the database is ahead of this code."""


class ImportDataError(RigeneraError):
    """An input file cannot be imported (missing, wrong columns, bad values)."""

    status = HTTPStatus.BAD_REQUEST
    code = "InvalidParameterValue"


class ImportRefused(RigeneraError):
    """An import refused as a whole (all or nothing: some rows are invalid), nothing
    written; ``errors`` lists ``{row, field, reason}``, ``body`` carries the ``import``
    record id and ``report`` is the engine's Report when there is one."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "InvalidValue"

    def __init__(self, description: str, *, report: Any = None, **kwargs: Any) -> None:
        super().__init__(description, **kwargs)
        self.report = report


class ImportOutOfReach(ImportRefused):
    """A technician's import with rows outside their comuni: refused whole, naming the rows."""

    status = HTTPStatus.FORBIDDEN
    code = "Forbidden"


class UnsafeFile(ImportDataError):
    """An import file refused before anything is read from it: unknown or mismatching type,
    too large, a zip that escapes its folder or inflates beyond the limits, corrupt or
    truncated content, text that is not in a known encoding (imports/files.py). The
    answer names `file` and the reason; nothing is written."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "InvalidFile"

    def __init__(self, description: str, *, reason: str, **kwargs: Any) -> None:
        kwargs.setdefault("errors", [{"field": "file", "reason": reason}])
        super().__init__(description, **kwargs)
        self.reason = reason


class FileTooLarge(UnsafeFile):
    """The file (or what a zip would unpack to) is over the import size limits: 413."""

    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "PayloadTooLarge"


class UnsupportedFile(UnsafeFile):
    """Not a format the importer reads, or content that is not what its extension says: 415."""

    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    code = "UnsupportedMediaType"


class UsageError(RigeneraError):
    """A management command was called wrongly (bad arguments, unknown account)."""


class BackupRefused(RigeneraError):
    """`rigenera backup`/`restore` refused before touching anything: a corrupted or foreign
    archive, a non-empty target without --force, an output that exists (CLI exit 2)."""

    status = HTTPStatus.CONFLICT


class BackupFailed(RigeneraError):
    """pg_dump or pg_restore failed while running (CLI exit 1)."""


class RestoreMismatch(RigeneraError):
    """The restored database's contents differ from the manifest's checksums (CLI exit 3)."""


class StyleSourceError(RigeneraError):
    """styles/rigenera.yaml is wrong or incomplete (e.g. a code without a colour)."""


class InvalidParameter(RigeneraError):
    status = HTTPStatus.BAD_REQUEST
    code = "InvalidParameterValue"


class NotFound(RigeneraError):
    status = HTTPStatus.NOT_FOUND
    code = "NotFound"


class MethodNotAllowed(RigeneraError):
    status = HTTPStatus.METHOD_NOT_ALLOWED
    code = "OperationNotSupported"


class Unauthorized(RigeneraError):
    """No or wrong credentials: ask for them (QGIS then prompts via its auth manager)."""

    status = HTTPStatus.UNAUTHORIZED
    code = "Unauthorized"

    def __init__(self, description: str, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Basic realm="Rigenera", charset="UTF-8"'})
        super().__init__(description, **kwargs)


class Forbidden(RigeneraError):
    status = HTTPStatus.FORBIDDEN
    code = "Forbidden"


class PreconditionFailed(RigeneraError):
    """If-Match named a version that is no longer current: somebody else edited first."""

    status = HTTPStatus.PRECONDITION_FAILED
    code = "PreconditionFailed"


class ValidationFailed(RigeneraError):
    """The payload is well-formed but breaks a rule of the data model."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "InvalidValue"


class Conflict(RigeneraError):
    status = HTTPStatus.CONFLICT
    code = "Conflict"


class PayloadTooLarge(RigeneraError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "PayloadTooLarge"


class HeaderTooLarge(RigeneraError):
    """A request header beyond its limit (an Authorization header is never hashed then)."""

    status = HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
    code = "RequestHeaderFieldsTooLarge"


class TooManyLoginFailures(RigeneraError):
    """Failed logins throttled (per account and address, per address, per account): 429."""

    status = HTTPStatus.TOO_MANY_REQUESTS
    code = "TooManyRequests"


class PasswordChecksBusy(RigeneraError):
    """The password-hashing pool is full: try again shortly rather than queue without end."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "ServiceUnavailable"


class ImportsBusy(RigeneraError):
    """As many imports as the server runs at once are running or waiting: retry later (503)."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "ServiceUnavailable"

    def __init__(self, description: str = "Troppe importazioni in corso, riprovare tra poco / "
                 "too many imports running, retry shortly", **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": "30"})
        super().__init__(description, **kwargs)


class UnsupportedMediaType(RigeneraError):
    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    code = "UnsupportedMediaType"


class DatabaseUnavailable(RigeneraError):
    """PostgreSQL is down, restarting or out of connections: retry shortly (503)."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "ServiceUnavailable"

    def __init__(self, description: str = "Database non raggiungibile, riprovare tra poco / "
                 "database unavailable, retry shortly", **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": str(RETRY_AFTER_SECONDS)})
        super().__init__(description, **kwargs)


class WriteConflict(RigeneraError):
    """Concurrent transactions deadlocked or could not be serialised, even after the
    server's own retries: nothing was written, send the same request again (409)."""

    status = HTTPStatus.CONFLICT
    code = "WriteConflict"

    def __init__(self, description: str = "Scritture concorrenti in conflitto: nulla è stato "
                 "scritto, riprovare / concurrent writes conflicted: nothing was written, retry",
                 **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": "1"})
        super().__init__(description, **kwargs)


# Seconds a client should wait before retrying while the database is away.
RETRY_AFTER_SECONDS = 5


_RULE_SUFFIXES = ("_check", "_format", "_nonneg", "_required", "_unique", "_valid", "_type",
                  "_range", "_fkey", "_key")
# Constraints whose name shortens the column's (`projects_housing_units_nonneg` guards
# `housing_units_fragile`): the field the client sent, so it can point at it.
_CONSTRAINT_FIELDS = {
    "dates_order": "end_date", "total_cost": "total_cost_eur", "amount": "amount_eur",
    "source_id": "source_id", "housing_units": "housing_units_fragile",
    "cultural_space": "cultural_space_m2", "community_space": "community_space_m2",
    "productive_space": "productive_space_m2", "regenerated": "regenerated_m2",
    "surface_declared": "surface_declared_m2", "budget": "budget_eur",
    "max_grant": "max_grant_eur", "cost": "estimated_cost_eur",
}
# Words of PostGIS/PROJ messages about coordinates: the answer names `geometry`.
_GEOMETRY_WORDS = ("geojson", "geometry", "lwgeom", "coordinates", "srid", "transform",
                   "projection")


# Issue 11 (calls, needs, a project's records): rules whose name does not shorten one
# column, by their full name.
_NAMED_CONSTRAINT_FIELDS = {
    "calls_dates_order": "closes_on", "calls_max_grant_within_budget": "max_grant_eur",
    "calls_pnrr_code_format": "programme_code",
    "progress_reports_pct_range": "physical_progress_pct",
    "progress_reports_period_unique": "reference_date",
    "progress_reports_spent_nonneg": "spent_eur", "progress_reports_paid_nonneg": "paid_eur",
    "milestones_target_measured": "planned_value", "milestones_unit_given": "unit",
    "tenders_project_cig_unique": "cig",
    "referents_name_required": "full_name", "referents_contact_required": "email",
    "contacts_follow_up_on_order": "follow_up_on", "contacts_notes_length": "notes",
}

# A project's comuni and sites are written as lists; their join tables' refusals
# are about those lists.
_LIST_FIELDS = {"project_comuni": "istat_codes", "project_sites": "site_ids"}


def _field_of_constraint(table: str | None, constraint: str | None) -> str:
    """`sites_state_check` -> `state`; geometry rules -> `geometry` (our naming convention)."""
    if table in _LIST_FIELDS:
        return _LIST_FIELDS[table]
    if constraint in _NAMED_CONSTRAINT_FIELDS:
        return _NAMED_CONSTRAINT_FIELDS[constraint]
    name = constraint or ""
    if table and name.startswith(table + "_"):
        name = name[len(table) + 1:]
    for suffix in _RULE_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    if name.startswith("geom"):
        return "geometry"
    return _CONSTRAINT_FIELDS.get(name, name) or "body"


# File-system errors are OSErrors too, but never the database's.
_NOT_CONNECTION_OS_ERRORS = (FileNotFoundError, FileExistsError, IsADirectoryError,
                             NotADirectoryError, PermissionError)
# SQLSTATEs of a server that is away: connection exceptions (08), shutting down or
# starting up (57P01-57P03), too many connections (53300).
_AWAY_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")
_RETRYABLE_SQLSTATES = {"40P01", "40001"}  # deadlock detected, serialization failure


def _sqlstate(exc: BaseException) -> str | None:
    """asyncpg's `sqlstate`, psycopg2's `pgcode`."""
    return getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)


def database_unavailable(exc: BaseException) -> DatabaseUnavailable | None:
    """The one list of "the database is away" exceptions, whichever driver raised them:
    asyncpg (our pools), psycopg2 (processes), SQLAlchemy (pygeoapi's provider),
    pygeoapi's own ProviderConnectionError, and the socket errors of connecting."""
    import asyncpg

    away = False
    if isinstance(exc, DatabaseUnavailable):
        return exc
    if isinstance(exc, OSError):
        away = not isinstance(exc, _NOT_CONNECTION_OS_ERRORS)
    elif isinstance(exc, asyncpg.InterfaceError):
        away = "closed" in str(exc)  # "connection is closed", "pool is closing"
    elif isinstance(exc, asyncpg.InternalClientError):
        # A pooled connection the server cut while it sat idle (a restart's FATAL 57P01) is
        # left mid-error until the end of its socket is read; a query on it in between
        # fails with "cannot switch to state N; another operation (2) is in progress"
        # (MagicStack/asyncpg#784). bench/loadfault.py met it at primary restarts (500s).
        away = "another operation" in str(exc)
    elif (state := _sqlstate(exc)) is not None:
        away = state.startswith(_AWAY_SQLSTATES)
    elif type(exc).__module__.startswith("psycopg2") and type(exc).__name__ in (
            "OperationalError", "InterfaceError"):
        away = True  # no SQLSTATE: the connection itself failed
    elif (orig := getattr(exc, "orig", None)) is not None:  # SQLAlchemy's DBAPIError
        return database_unavailable(orig) or (
            DatabaseUnavailable(log_message=repr(exc))
            if getattr(exc, "connection_invalidated", False) else None)
    else:
        base = sys.modules.get("pygeoapi.provider.base")  # loaded if it can be raised
        away = base is not None and isinstance(exc, base.ProviderConnectionError)
    return DatabaseUnavailable(log_message=repr(exc)) if away else None


@functools.cache
def connection_error_types() -> tuple[type[Exception], ...]:
    """Exception classes whose instances may mean the database is away (for handlers)."""
    import asyncpg
    import psycopg2
    import sqlalchemy.exc

    return (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError,
            psycopg2.Error, sqlalchemy.exc.DBAPIError)


def translate_db_error(exc: Exception) -> RigeneraError:
    """The one place where a database refusal becomes an API error naming the field.

    Constraints are named `<table>_<column>_<rule>` in the migrations precisely so
    that this mapping is mechanical. A database that is away is a 503, a deadlock or
    serialisation failure a retryable WriteConflict, never a validation error.
    """
    import asyncpg

    away = database_unavailable(exc)
    if away is not None:
        return away
    if _sqlstate(exc) in _RETRYABLE_SQLSTATES:
        return WriteConflict(log_message=repr(exc))
    table = getattr(exc, "table_name", None)
    constraint = getattr(exc, "constraint_name", None)
    message = (getattr(exc, "message", None) or str(exc)).splitlines()[0]
    if isinstance(exc, asyncpg.CheckViolationError):
        field = _field_of_constraint(table, constraint)
        return ValidationFailed(f"{field}: regola '{constraint}' violata / rule violated",
                                errors=[{"field": field, "reason": f"violates {constraint}"}])
    if isinstance(exc, asyncpg.NotNullViolationError):
        field = getattr(exc, "column_name", None) or "body"
        field = "geometry" if field == "geom" else field
        return ValidationFailed(f"{field}: obbligatorio / required",
                                errors=[{"field": field, "reason": "required"}])
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        field = _field_of_constraint(table, constraint)
        return ValidationFailed(f"{field}: riferimento inesistente / unknown reference",
                                errors=[{"field": field, "reason": getattr(exc, "detail", None)
                                         or "unknown reference"}])
    if isinstance(exc, asyncpg.UniqueViolationError):
        field = _field_of_constraint(table, constraint)
        if constraint and constraint.endswith("cup_unique"):
            field = "cup"
        return Conflict(f"{field}: valore già usato / value already in use",
                        errors=[{"field": field, "reason": "already used by another feature"}])
    sqlstate = getattr(exc, "sqlstate", "") or ""
    if sqlstate == "RG001":
        field = getattr(exc, "column_name", None) or "geometry"
        return ValidationFailed(message, errors=[{"field": field, "reason": message}])
    if sqlstate.startswith("22") or sqlstate == "XX000":
        # Data exceptions and PostGIS parse failures (GeoJSON, coordinates).
        field = "geometry" if any(w in message.lower() for w in _GEOMETRY_WORDS) else "body"
        return InvalidParameter(f"{field}: {message}", errors=[{"field": field, "reason": message}])
    return RigeneraError("Errore del database / database error", log_message=repr(exc))


_SURROGATE = re.compile("[\ud800-\udfff]")


def _encodable(value: Any) -> Any:
    """Client text echoed in an answer, made UTF-8 encodable.

    JSON escapes such as "\\ud800" decode to unpaired surrogates, which UTF-8 cannot
    encode: echoed back (an unknown property's name, a body id), they turned the
    400 into a 500. They become U+FFFD.
    """
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(v) for v in value]
    return value


def exception_document(
    status: int, code: str, description: str, errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "type": code, "description": description}
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return JSONResponse(_encodable(body), status_code=status, media_type=OGC_EXCEPTION_MEDIA_TYPE,
                        headers=headers)


_STARLETTE_CODES = {
    HTTPStatus.NOT_FOUND: ("NotFound", "Risorsa non trovata / resource not found"),
    HTTPStatus.METHOD_NOT_ALLOWED: ("OperationNotSupported", "Metodo non consentito / method not allowed"),
}


def _html_page(request: Request, status: int, description: str,
               errors: list[dict[str, Any]] | None = None) -> Response | None:
    """The website's error page, when the request is for a page of the website
    (web/errors_html.py decides); None everywhere else (the API answers JSON)."""
    render = getattr(request.app.state, "html_error_page", None)
    return render(request, status, description, errors or []) if render is not None else None


# Version conflicts, counted where they become answers (metrics.CONFLICTS): a stale
# If-Match or base_version (412, "version"), concurrent transactions that stayed in
# conflict after the server's retries (409, "concurrent"). A changeset refused for stale
# versions is answered by its route and counted there ("changeset").
_CONFLICT_KINDS: dict[type[RigeneraError], str] = {PreconditionFailed: "version",
                                                   WriteConflict: "concurrent"}


def rigenera_error_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RigeneraError)
    if (kind := _CONFLICT_KINDS.get(type(exc))) is not None:
        metrics.CONFLICTS.labels(kind).inc()
    if exc.status >= 500:
        LOG.log(logging.WARNING if isinstance(exc, DatabaseUnavailable) else logging.ERROR,
                "%s: %s", type(exc).__name__, exc)
    if (html := _html_page(request, exc.status, exc.description, exc.errors)) is not None:
        return html
    headers = exc.headers
    if exc.status == HTTPStatus.UNAUTHORIZED and request.headers.get("x-requested-with"):
        # A program that handles 401 itself (our QGIS plugin, scripts; the XHR convention):
        # a Basic challenge would make Qt open its own login prompt over the plugin's message.
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="Rigenera"'}
    return exception_document(exc.status, exc.code, exc.description, exc.errors, headers,
                              exc.body)


def http_exception_response(request: Request, exc: Exception) -> Response:
    """Starlette's HTTP errors (404, 405...) as OGC exception documents."""
    assert isinstance(exc, StarletteHTTPException)
    code, default = _STARLETTE_CODES.get(
        HTTPStatus(exc.status_code), ("InvalidParameterValue", "Richiesta non valida")
    )
    description = exc.detail if isinstance(exc.detail, str) and exc.detail else default
    if description in {"Not Found", "Method Not Allowed"}:
        description = default
    if (html := _html_page(request, exc.status_code, description)) is not None:
        return html
    response = exception_document(exc.status_code, code, description)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def database_error_response(request: Request, exc: Exception) -> Response:
    """A driver's exception that reached a route: 503 when the database is away, 409 for a
    deadlock; anything else is a bug of ours."""
    if database_unavailable(exc) is None and _sqlstate(exc) not in _RETRYABLE_SQLSTATES:
        return unexpected_error_response(request, exc)
    return rigenera_error_response(request, translate_db_error(exc))  # logs a 503


def unexpected_error_response(request: Request, exc: Exception) -> Response:
    """A bug of ours: logged with its traceback, answered without internals."""
    if database_unavailable(exc) is not None:  # however it got here
        return database_error_response(request, exc)
    LOG.error("unexpected error: %r", exc, exc_info=exc)
    return exception_document(HTTPStatus.INTERNAL_SERVER_ERROR, "NoApplicableCode",
                              "Errore interno del server / internal server error")


def install_error_handlers(app: FastAPI) -> None:
    """The single place where exceptions become HTTP answers."""

    @app.exception_handler(RigeneraError)
    async def _rigenera(request: Request, exc: RigeneraError) -> Response:
        return rigenera_error_response(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return http_exception_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "body")),
             "reason": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        return exception_document(
            HTTPStatus.BAD_REQUEST, "InvalidParameterValue", "Parametri non validi", errors
        )

    for kind in connection_error_types():
        app.add_exception_handler(kind, database_error_response)
    app.add_exception_handler(Exception, unexpected_error_response)
