"""POST /api/imports (a file in, the engine's report out) and the import records.

Flow of a POST (multipart/form-data: file, collection, layer, crs, mapping, dry_run,
skip_invalid, external):
  BodyLimitMiddleware: the upload's limit (import_max_bytes + the envelope), counted while
  received -> the caller authenticated and allowed BEFORE the body is read (admin and
  coordinator anywhere; technician within their comuni, handed to the engine as `reach`;
  volunteers 403, anonymous 401) -> the parts streamed to a private folder (uploads.py)
  -> the engine's `run_import` in an import thread (imports/jobs.py), which checks the
  file (imports/files.py), reads, validates set-wise and writes in one transaction.
Answers: 200 the dry run's report; 201 the written import's report with Location; a 4xx
exception document naming the field (and rows) with the `import` record id when one was
kept. `Prefer: respond-async`: the file is checked, the record created, 202 + Location at
once; `GET /api/imports/{id}` then shows `running` and `progress` until the report.
"""

from __future__ import annotations

import dataclasses
from importlib import resources
from typing import Any

import asyncpg
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from rigenera.auth import Principal, Role
from rigenera.dependencies import CurrentUser
from rigenera.editing.model import OFFICE_ONLY
from rigenera.editing.service import parse_id
from rigenera.errors import Forbidden, InvalidParameter, NotFound
from rigenera.imports import COLLECTIONS, ImportOptions, Report, SourceInfo, record
from rigenera.imports.files import FileLimits, SafeSource, open_source, read_error
from rigenera.imports.jobs import ImportJobs
from rigenera.imports.run import run_import
from rigenera.routes import docs
from rigenera.settings import Settings
from rigenera.uploads import Upload, receive_upload

router = APIRouter(prefix="/api/imports", tags=["imports"])
IMPORTERS = (Role.ADMIN, Role.COORDINATOR, Role.TECHNICIAN)
MAPPING_MAX = 1024 * 1024
FIELDS = {"collection", "layer", "crs", "dry_run", "skip_invalid", "external"}
_TRUE = {"true", "1", "yes", "on", "si", "sì"}
_FALSE = {"false", "0", "no", "off", ""}
BASE = "/api/imports"


def _sql(name: str) -> str:
    return resources.files("rigenera.sql").joinpath(f"{name}.sql").read_text()


_GET, _LIST, _REJECTED = _sql("imports_get"), _sql("imports_list"), _sql("imports_rejected")


def _flag(fields: dict[str, str], name: str) -> bool:
    value = fields.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidParameter(f"{name}: atteso true o false / expected true or false",
                           errors=[{"field": name, "reason": "true or false"}])


def _options(upload: Upload, who: Principal) -> ImportOptions:
    """The form's fields checked (each problem a 400 naming it) -> the engine's options."""
    if "file" not in upload.files:
        raise InvalidParameter("file: obbligatorio / required",
                               errors=[{"field": "file", "reason": "required file part"}])
    collection = upload.fields.get("collection", "")
    if collection not in COLLECTIONS:
        raise InvalidParameter(
            f"collection: una di / one of {', '.join(COLLECTIONS)}",
            errors=[{"field": "collection", "reason": "one of " + ", ".join(COLLECTIONS)}])
    if collection in OFFICE_ONLY and not who.edits_everywhere:
        raise Forbidden(f"{collection}: solo amministratori e coordinatori la importano / only "
                        "admins and coordinators import it",
                        errors=[{"field": "collection", "reason": "admin or coordinator only"}])
    external = _flag(upload.fields, "external")
    if external and not who.edits_everywhere:
        raise Forbidden("external: solo coordinatori e amministratori importano fuori dall'area "
                        "metropolitana / only coordinators and admins import beyond the metro "
                        "area", errors=[{"field": "external", "reason": "not for technicians"}])
    return ImportOptions(
        collection=collection, dry_run=_flag(upload.fields, "dry_run"),
        skip_invalid=_flag(upload.fields, "skip_invalid"), actor=who.username,
        reach=None if who.edits_everywhere else tuple(sorted(who.comuni)), external=external)


def _async(request: Request) -> bool:
    prefer = request.headers.get("prefer", "")
    return any(p.split("=")[0].split(";")[0].strip().lower() == "respond-async"
               for p in prefer.split(","))


def _run(dsn: str, upload: Upload, options: ImportOptions, limits: FileLimits) -> Report:
    """The engine on the uploaded file (in an import thread); GDAL failures that escape it
    are the file's fault, answered 422 like every other unreadable file."""
    file = upload.files["file"]
    mapping = upload.files.get("mapping")
    try:
        return run_import(dsn, file.path, options, layer=upload.fields.get("layer") or None,
                          mapping=mapping.path if mapping else None,
                          crs=upload.fields.get("crs") or None, file_name=file.name,
                          limits=limits)
    except Exception as exc:
        translated = read_error(exc, SafeSource(file.name, "", "", file.size, file.path,
                                                str(file.path)))
        if translated is None:
            raise
        raise translated from None


def _start(dsn: str, upload: Upload, options: ImportOptions, limits: FileLimits) -> int:
    """For an asynchronous import: the file checked now (an unsafe file is a 4xx, never a
    202) and its record created (status running), whose id the 202 names."""
    file = upload.files["file"]
    mapping = upload.files.get("mapping")
    with open_source(file.path, file_name=file.name, limits=limits) as src:
        info = SourceInfo(name=file.name, sha256=src.sha256,
                          layer=upload.fields.get("layer") or None,
                          crs=upload.fields.get("crs") or None,
                          mapping=mapping.name if mapping else None)
    return record.create(dsn, options.collection, info, options)


def _report_doc(row: asyncpg.Record) -> dict[str, Any]:
    """An import as GET answers it: the engine's report once finished, else the record's
    columns with the progress the engine writes while it runs."""
    links = [{"rel": "self", "href": f"{BASE}/{row['id']}", "type": "application/json"}]
    if row["has_rejected"]:
        links.append({"rel": "rejected", "href": f"{BASE}/{row['id']}/rejected.csv",
                      "type": "text/csv"})
    seconds = ((row["finished_at"] - row["started_at"]).total_seconds()
               if row["finished_at"] else None)
    doc: dict[str, Any] = {
        "id": row["id"], "collection": row["collection"], "status": row["status"],
        "dry_run": row["dry_run"], "skip_invalid": row["skip_invalid"], "user": row["actor"],
        "file": {"name": row["file_name"], "sha256": row["sha256"], "format": row["file_format"],
                 "layer": row["layer"], "crs": row["crs"], "mapping": row["mapping"]},
        "counts": row["counts"] or {}, "rejected": [], "notes": [],
        "started_at": row["started_at"].isoformat(),
        "finished_at": row["finished_at"].isoformat() if row["finished_at"] else None,
        "seconds": round(seconds, 3) if seconds is not None else None,
        "rows_per_second": None}
    report = row["report"] if isinstance(row["report"], dict) else {}
    doc.update({k: v for k, v in report.items() if k not in ("id", "status", "links")})
    if row.get("message"):
        doc["message"] = row["message"]
    doc["progress"] = {"done": row["rows_done"], "total": row["rows_total"]}
    doc["links"] = links
    return doc


def _own(who: Principal) -> str | None:
    """Whose imports the caller sees: technicians their own, staff everyone's."""
    who.require(*IMPORTERS)
    return None if who.edits_everywhere else who.username


@router.post("", response_model=None, status_code=201,
             responses={200: {"model": docs.ImportReport, "description": "Dry run: the report"},
                        201: {"model": docs.ImportReport, "description": "Written: the report",
                              "headers": docs.LOCATION},
                        202: {"model": docs.ImportReport, "description":
                              "Prefer: respond-async: started, follow Location",
                              "headers": docs.LOCATION},
                        **docs.errors(400, 401, 403, 409, 413, 415, 422, 429)},
             openapi_extra=docs.multipart("ImportRequest"))
async def create_import(request: Request, who: CurrentUser) -> JSONResponse:
    """Import a GIS file (GeoPackage, zipped Shapefile, GeoJSON, CSV, XLSX) into a collection.

    All or nothing unless `skip_invalid`; `dry_run` writes nothing but the record. The
    report lists what would be or was created, updated, left unchanged, skipped as
    duplicate, and every rejected row with field and reason (all of them in
    `/api/imports/{id}/rejected.csv`). Technicians import only features within their
    comuni: a file with any row outside them is refused whole, naming the rows.
    """
    who.require(*IMPORTERS)  # before a byte of the body is read
    settings: Settings = request.app.state.settings
    jobs: ImportJobs = request.app.state.imports
    dsn: str = request.app.state.dsn
    limits = FileLimits.from_settings(settings)
    upload = await receive_upload(
        request, file_parts={"file": settings.import_max_bytes, "mapping": MAPPING_MAX},
        field_parts=FIELDS)
    handed_over = False  # to a background import, which removes the spooled files itself
    try:
        options = _options(upload, who)
        if _async(request):
            jobs.admit()  # a slot first: a 503 leaves no record behind
            try:  # the file's checks in a plain worker thread: never queued behind imports
                import_id = await run_in_threadpool(_start, dsn, upload, options, limits)
            except BaseException:
                jobs.release()
                raise
            jobs.submit(import_id, lambda: _run(dsn, upload, dataclasses.replace(
                options, import_id=import_id), limits), upload.close)
            handed_over = True
            row = await request.app.state.pools.fresh.fetchrow(_GET, import_id, None)
            return JSONResponse(_report_doc(row), status_code=202, headers={
                "Location": f"{BASE}/{import_id}", "Preference-Applied": "respond-async"})
        report = await jobs.run(lambda: _run(dsn, upload, options, limits))
    finally:
        if not handed_over:
            upload.close()
    doc = report.to_json()
    if options.dry_run:
        return JSONResponse(doc, status_code=200)
    return JSONResponse(doc, status_code=201, headers={"Location": f"{BASE}/{report.id}"})


@router.get("", response_model=None,
            responses={200: {"model": docs.ImportList}, **docs.errors(400, 401, 403, 429)},
            openapi_extra=docs.AUTHENTICATED)
async def list_imports(
        request: Request, who: CurrentUser,
        limit: int = Query(50, ge=1, le=500, description="imports per page"),
        before: int | None = Query(None, ge=1, le=2**63 - 1,
                                   description="cursor: imports older than this id"),
        collection: str | None = Query(None, pattern="^(sites|projects|mobility_links|"
                                                     "transit_stops|calls|needs)$"),
        status: str | None = Query(None, pattern="^(running|succeeded|failed|refused|dry_run)$"),
) -> dict[str, Any]:
    """Imports newest first (technicians: their own; coordinators and admins: all), paged
    with `before` (the `next` link)."""
    actor = _own(who)
    rows = await request.app.state.pools.fresh.fetch(_LIST, actor, before, collection, status,
                                                    limit + 1)
    items = [_report_doc(r) for r in rows[:limit]]
    links = [{"rel": "self", "href": str(request.url.include_query_params()).removeprefix(
        str(request.base_url).rstrip("/")), "type": "application/json"}]
    if len(rows) > limit:
        query = f"limit={limit}&before={items[-1]['id']}"
        query += f"&collection={collection}" if collection else ""
        query += f"&status={status}" if status else ""
        links.append({"rel": "next", "href": f"{BASE}?{query}", "type": "application/json"})
    return {"items": items, "links": links}


@router.get("/{import_id}", response_model=None,
            responses={200: {"model": docs.ImportReport}, **docs.errors(401, 403, 404, 429)},
            openapi_extra=docs.AUTHENTICATED)
async def get_import(import_id: str, request: Request, who: CurrentUser) -> dict[str, Any]:
    """An import's report; while it runs, `status: running` and `progress`."""
    actor = _own(who)
    key = parse_id(import_id)
    row = None if key is None else await request.app.state.pools.fresh.fetchrow(_GET, key, actor)
    if row is None:
        raise NotFound(f"Importazione {import_id} non trovata / import not found")
    return _report_doc(row)


@router.get("/{import_id}/rejected.csv", response_model=None,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                             "description": "Every rejected row: row, field, reason, value "
                                            "and the row's own columns (UTF-8 with BOM)"},
                       **docs.errors(401, 403, 404, 429)},
            openapi_extra=docs.AUTHENTICATED)
async def rejected_csv(import_id: str, request: Request, who: CurrentUser) -> Response:
    """The rejected rows of an import, as CSV (with a BOM, so Excel reads accents right)."""
    actor = _own(who)
    key = parse_id(import_id)
    text = (None if key is None else
            await request.app.state.pools.fresh.fetchval(_REJECTED, key, actor))
    if text is None:
        raise NotFound(f"Importazione {import_id}: nessuna riga scartata / no rejected rows")
    return Response(("\ufeff" + text).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition":
                             f'attachment; filename="import-{key}-rejected.csv"'})
