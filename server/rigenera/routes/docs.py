"""How our own routes (/api, /healthz) are described in /api/openapi.json.

The routes read their bodies themselves (bounded, with Italian/English messages
naming each field), so FastAPI cannot infer what they accept or answer: these
models describe it, for the document only. Every error is the same OGC
exception document as on /ogc (errors.py). ``install_openapi`` adds the
request bodies and the security schemes to FastAPI's generated document.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field


class FieldProblem(BaseModel):
    field: str
    reason: str


class OperationProblem(BaseModel):
    """Why one operation of a changeset was refused."""

    model_config = ConfigDict(extra="allow")
    index: int
    ref: Any = None
    status: int
    code: str
    description: str
    collection: str | None = None
    id: str | None = None
    action: str | None = None
    errors: list[FieldProblem] | None = None
    currentVersion: int | None = None


class ExceptionDocument(BaseModel):
    """An OGC API exception: `code`, a message in Italian / English, and the fields at fault."""

    model_config = ConfigDict(extra="allow")
    code: str
    type: str
    description: str
    errors: list[FieldProblem] | None = None
    currentVersion: int | None = None
    problems: list[OperationProblem] | None = None


_ERRORS = {
    400: "Parametro o corpo non valido / invalid parameter or body (`errors` names the fields)",
    401: "Credenziali assenti o errate / missing or wrong credentials (Basic or Bearer)",
    403: "Il ruolo non lo consente / the caller's role or comuni do not allow it",
    404: "Non trovato / not found",
    409: "Conflitto: qualcuno ha modificato prima / conflict (somebody edited first; nothing "
         "was written)",
    412: "La versione indicata non è più quella attuale / the base version is no longer current",
    413: "Corpo troppo grande / body too large",
    415: "Content-Type non accettato / unsupported Content-Type",
    422: "Dati non validi per il modello / data break a rule of the model (nothing was written)",
    429: "Troppi accessi falliti, riprovare più tardi / too many failed logins, retry later",
    500: "Errore interno (registrato) / internal error (logged)",
    503: "Database non raggiungibile, riprovare / database unavailable, retry later",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses` of a route: each listed error, plus 500 and 503 that any route may meet."""
    return {status: {"model": ExceptionDocument, "description": _ERRORS[status]}
            for status in (*statuses, 500, 503)}


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    database: Literal["ok"]
    postgis: str
    schema_version: int | None
    tile_cache: dict[str, Any] = Field(
        description="The tile cache: enabled, hits, misses, stale, and the last prewarming "
        "pass of the metro area ('running' until the first one ends)")


class Me(BaseModel):
    username: str
    role: Literal["admin", "coordinator", "technician", "volunteer"]
    comuni: list[str] = Field(description="ISTAT codes of the comuni a technician edits")


class Label(BaseModel):
    it: str
    en: str


class EnumValue(BaseModel):
    code: str
    it: str
    en: str


class ModelField(BaseModel):
    name: str
    type: str = Field(description="text, integer, bigint, numeric, double, date, boolean, "
                                  "timestamptz, text[] or bigint[]")
    label: Label
    required: bool
    read_only: bool
    enum: list[EnumValue] | None = None
    pattern: str | None = None
    max_abs: float | None = None


class CollectionModel(BaseModel):
    """A collection's fields as the server checks them: for forms and aliases."""

    id: str
    title: Label
    id_field: str
    editable: bool
    geometry_types: list[str]
    geometry_required: bool
    fields: list[ModelField]


class Change(BaseModel):
    seq: int
    id: str
    operation: str = Field(description="create, update, delete, revert, review, import")
    version: int | None
    at: str = Field(description="RFC 3339 time of the change")


class ChangeFeed(BaseModel):
    collection: str
    changes: list[Change]
    last: int = Field(description="the highest seq returned (else `after`)")
    latest: int = Field(description="the highest seq known: ask again with after=last while "
                                    "last < latest")


class ChangesetOperation(BaseModel):
    action: Literal["create", "replace", "patch", "delete"]
    collection: str
    id: str | int | None = Field(None, description="required except for create")
    base_version: int | None = Field(None, description="the version the edit is based on; "
                                                       "required except for create")
    feature: dict[str, Any] | None = Field(None, description="a GeoJSON Feature (a merge "
                                                             "patch for `patch`); not for delete")
    ref: Any = Field(None, description="the client's own reference, echoed back")


class ChangesetRequest(BaseModel):
    operations: list[ChangesetOperation] = Field(min_length=1, max_length=10_000)
    crs: str | None = Field(None, description="CRS of every geometry (CRS84 by default)")
    comment: str | None = None


class AppliedOperation(BaseModel):
    ref: Any = None
    collection: str
    id: str
    version: int | None
    action: str


class ChangesetApplied(BaseModel):
    applied: list[AppliedOperation]


class HistoryEntry(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int
    version: int | None
    operation: str
    actor: str | None
    at: str
    changeset: str | None
    comment: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class History(BaseModel):
    collection: str
    id: str
    changes: list[HistoryEntry]


class RevertRequest(BaseModel):
    version: int = Field(description="the version to bring back")
    base_version: int | None = Field(None, description="the current version the caller saw "
                                                       "(412 if it moved)")


class Reverted(BaseModel):
    collection: str
    id: str
    version: int | None
    reverted_to: int


class QueueItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    collection: str
    id: int
    title: str | None
    istat_code: str | None
    version: int
    updated_at: str
    updated_by: str | None
    geometry: dict[str, Any] | None
    checks: dict[str, Any]


class Queue(BaseModel):
    collection: str
    items: list[QueueItem]


class ReviewRequest(BaseModel):
    decision: Literal["accept", "reject"]
    comment: str | None = Field(None, description="required when rejecting")
    base_version: int | None = None


class Reviewed(BaseModel):
    collection: str
    id: str
    validation_status: Literal["validated", "rejected"]
    version: int


class Rejection(BaseModel):
    id: int
    collection: str
    title: str | None
    istat_code: str | None
    version: int
    reviewer: str | None
    at: str
    comment: str | None


class Rejections(BaseModel):
    items: list[Rejection]


class ToLocateProperties(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int
    cup: str | None
    title: str
    status: str
    implementing_body: str | None
    istat_codes: list[str] | None
    programme_codes: list[str] | None
    geom_source: str
    geometry_kind: str | None
    scope: Literal["local", "metro_area"]
    cup_status: str | None
    version: int
    reason: Literal["comune_point", "metro_area"] = Field(
        description="comune_point: drawn at its comuni's representative points; metro_area: "
                    "a project of the whole metropolitan area without a geometry")
    in_reach: bool = Field(description="may the caller draw it (every comune of the project "
                                       "is theirs, or they edit everywhere)")


class ToLocateFeature(BaseModel):
    type: Literal["Feature"]
    id: int
    geometry: dict[str, Any] | None
    properties: ToLocateProperties


class ToLocate(BaseModel):
    """The queue "Da localizzare" as a GeoJSON FeatureCollection (QGIS, GDAL read it)."""

    type: Literal["FeatureCollection"]
    features: list[ToLocateFeature]
    numberMatched: int
    numberReturned: int
    links: list[Link]


class ImportCounts(BaseModel):
    model_config = ConfigDict(extra="allow")
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    invalid: int = 0
    written: int = 0


class ImportFile(BaseModel):
    name: str
    sha256: str
    format: str | None = None
    layer: str | None = None
    crs: str | None = None
    mapping: str | None = None


class RejectedRow(BaseModel):
    model_config = ConfigDict(extra="allow")
    row: int | None = None
    field: str | None = None
    reason: str
    value: str | None = None


class ImportNote(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str
    message: str
    count: int | None = None
    items: list[Any] | None = None


class ImportProgress(BaseModel):
    done: int
    total: int | None


class Link(BaseModel):
    model_config = ConfigDict(extra="allow")
    rel: str
    href: str
    type: str | None = None


class ImportReport(BaseModel):
    """The report of one import (the engine's, the same in the CLI): while it runs,
    `status` is running and `progress` moves."""

    model_config = ConfigDict(extra="allow")
    id: int | None
    collection: str
    status: Literal["running", "succeeded", "failed", "refused", "dry_run"]
    dry_run: bool
    skip_invalid: bool
    user: str
    file: ImportFile
    counts: ImportCounts
    rejected: list[RejectedRow] = Field(description="the first 1,000; rejected.csv has all")
    notes: list[ImportNote]
    progress: ImportProgress
    started_at: str | None
    finished_at: str | None
    seconds: float | None
    rows_per_second: float | None
    message: str | None = None
    links: list[Link]


class ImportList(BaseModel):
    items: list[ImportReport]
    links: list[Link] = Field(description="self, and next while there are older imports")


# The POST /api/imports form (multipart/form-data), written out: optional parts are
# absent rather than null (a form has no null).
IMPORT_REQUEST: dict[str, Any] = {
    "type": "object", "title": "ImportRequest",
    "description": "multipart/form-data: the file and how to read it",
    "required": ["file", "collection"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description":
                 "GeoPackage (.gpkg), zipped Shapefile (.zip), GeoJSON (.geojson, .json), "
                 "CSV (.csv, .txt, .tsv) or .xlsx"},
        "collection": {"type": "string",
                       "enum": ["sites", "projects", "mobility_links", "transit_stops"]},
        "layer": {"type": "string", "description": "the layer (GeoPackage) or sheet (XLSX)"},
        "crs": {"type": "string", "description": "the file's CRS when it does not say it, "
                                                 "e.g. EPSG:32632"},
        "mapping": {"type": "string", "format": "binary",
                    "description": "a YAML mapping: field names, types, enumerations"},
        "dry_run": {"type": "boolean", "default": False,
                    "description": "check and report, write nothing"},
        "skip_invalid": {"type": "boolean", "default": False,
                         "description": "write the valid rows, reject the others"},
        "external": {"type": "boolean", "default": False, "description":
                     "features may lie beyond the metro area (coordinators and admins)"},
    },
}


LOCATION: dict[str, Any] = {"Location": {"description": "the import: /api/imports/{id}",
                                         "schema": {"type": "string"}}}

SECURITY: list[dict[str, list[str]]] = [{"basic": []}, {"bearer": []}]
AUTHENTICATED: dict[str, Any] = {"security": SECURITY}


def body(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    """`openapi_extra` for a route that reads a JSON body of this shape itself."""
    return {"security": SECURITY, "requestBody": {"required": required, "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}}


def multipart(name: str) -> dict[str, Any]:
    """`openapi_extra` for a route that reads a multipart/form-data body itself."""
    return {"security": SECURITY, "requestBody": {"required": True, "content": {
        "multipart/form-data": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}}


REQUEST_MODELS: tuple[type[BaseModel], ...] = (ChangesetRequest, RevertRequest, ReviewRequest)
REQUEST_SCHEMAS: dict[str, dict[str, Any]] = {"ImportRequest": IMPORT_REQUEST}


def _drop_fastapi_validation_errors(doc: dict[str, Any]) -> None:
    """FastAPI documents a 422 HTTPValidationError for every route with parameters; ours
    answer parameter errors with 400 and an exception document (errors.py)."""
    fastapi_422 = {"$ref": "#/components/schemas/HTTPValidationError"}
    for path in doc.get("paths", {}).values():
        for op in path.values():
            answer = op.get("responses", {}).get("422", {})
            if answer.get("content", {}).get("application/json", {}).get("schema") == fastapi_422:
                del op["responses"]["422"]
                op["responses"].setdefault("400", {
                    "description": _ERRORS[400],
                    "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/ExceptionDocument"}}}})
    schemas = doc.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)


def install_openapi(app: FastAPI) -> None:
    """FastAPI's document plus the request bodies our routes read and the security schemes."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version,
                              description=app.description, routes=app.routes)
            schemas = doc.setdefault("components", {}).setdefault("schemas", {})
            _drop_fastapi_validation_errors(doc)
            for model in REQUEST_MODELS:
                schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                schemas.update(schema.pop("$defs", {}))
                schemas[model.__name__] = schema
            schemas.update(REQUEST_SCHEMAS)
            doc["components"]["securitySchemes"] = {
                "basic": {"type": "http", "scheme": "basic",
                          "description": "Username and password of a Rigenera account"},
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "A token from `rigenera token issue USER`"},
            }
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


# Issue 11, monitoring: POST /api/projects/{id}/documents (routes/monitoring.py).
REQUEST_SCHEMAS["DocumentUpload"] = {
    "type": "object", "title": "DocumentUpload",
    "description": "multipart/form-data: a project's document and what it is",
    "required": ["file", "kind"],
    "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "PDF (.pdf), JPEG (.jpg, .jpeg) or PNG (.png); its content "
                                "must match the extension"},
        "kind": {"type": "string", "enum": ["progress_report", "dnsh_checklist",
                                            "expense_statement", "photo", "tender_act",
                                            "testing_certificate", "other"]},
        "phase": {"type": "string", "enum": ["design", "tender", "works", "testing",
                                             "completed"],
                  "description": "default: the project's current phase"},
        "reference_date": {"type": "string", "format": "date",
                           "description": "the period the document covers"},
        "title": {"type": "string", "maxLength": 300, "description": "default: the file name"},
    },
}
