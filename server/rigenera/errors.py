"""One exception type per error, mapped to HTTP answers in exactly one place.

Every error leaves the service as an OGC API exception document
(``{"code", "type", "description"}``, the shape pygeoapi uses), optionally
with ``errors``: a list of ``{"field", "reason"}`` so clients can point at the
offending field. The user-facing ``description`` is kept apart from what we
log (pygeoapi's GenericError habit): internals never reach the client.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

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
        errors: list[dict[str, str]] | None = None,
        log_message: str | None = None,
    ) -> None:
        super().__init__(log_message or description)
        self.description = description
        self.errors = errors or []


class ClusterError(RigeneraError):
    """The embedded PostgreSQL cluster cannot be set up or started."""


class MigrationError(RigeneraError):
    """A schema migration failed or the database is ahead of this code."""


class ImportDataError(RigeneraError):
    """An input file cannot be imported (missing, wrong columns, bad values)."""

    status = HTTPStatus.BAD_REQUEST
    code = "InvalidParameterValue"


class InvalidParameter(RigeneraError):
    status = HTTPStatus.BAD_REQUEST
    code = "InvalidParameterValue"


class NotFound(RigeneraError):
    status = HTTPStatus.NOT_FOUND
    code = "NotFound"


class DatabaseUnavailable(RigeneraError):
    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "ServiceUnavailable"


def exception_document(
    status: int, code: str, description: str, errors: list[dict[str, str]] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "type": code, "description": description}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=OGC_EXCEPTION_MEDIA_TYPE)


_STARLETTE_CODES = {
    HTTPStatus.NOT_FOUND: ("NotFound", "Risorsa non trovata / resource not found"),
    HTTPStatus.METHOD_NOT_ALLOWED: ("OperationNotSupported", "Metodo non consentito / method not allowed"),
}


def rigenera_error_response(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RigeneraError)
    if exc.status >= 500:
        LOG.error("%s: %s", type(exc).__name__, exc)
    return exception_document(exc.status, exc.code, exc.description, exc.errors)


def http_exception_response(_: Request, exc: Exception) -> JSONResponse:
    """Starlette's HTTP errors (404, 405...) as OGC exception documents."""
    assert isinstance(exc, StarletteHTTPException)
    code, default = _STARLETTE_CODES.get(
        HTTPStatus(exc.status_code), ("InvalidParameterValue", "Richiesta non valida")
    )
    description = exc.detail if isinstance(exc.detail, str) and exc.detail else default
    if description in {"Not Found", "Method Not Allowed"}:
        description = default
    response = exception_document(exc.status_code, code, description)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def install_error_handlers(app: FastAPI) -> None:
    """The single place where exceptions become HTTP answers."""

    @app.exception_handler(RigeneraError)
    async def _rigenera(request: Request, exc: RigeneraError) -> JSONResponse:
        return rigenera_error_response(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
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

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        LOG.exception("unexpected error: %s", exc)
        return exception_document(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            "NoApplicableCode",
            "Errore interno del server / internal server error",
        )
