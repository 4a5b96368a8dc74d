"""Monitoring a project (issue 11): documents, the checklist, the reporting calendar, the summary.

Who may do what:
- documents: admins and coordinators everywhere; technicians upload and delete only for
  projects within their comuni (403 naming `project_id`); volunteers read; anonymous 401.
  Reading is open to every account (a technician reads other comuni's documents as a
  volunteer does: the office shares them).
- checklist and summary of a project: every account; the list of projects with missing
  documents: staff (admins, coordinators, technicians).
- the calendar (`/api/deadlines`, `/api/deadlines/overdue`): anyone, since it is made of
  published projects; the comuni's referents (private: names, phones) only for the office's accounts,
  who phone them.
The logic is in rigenera.monitoring (documents, calendar, overview); SQL in its sql/.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from rigenera.auth import OFFICE, Role
from rigenera.dependencies import CallerDep, CurrentUser
from rigenera.domains import DOCUMENT_KIND
from rigenera.editing.http import if_match
from rigenera.editing.service import parse_id
from rigenera.errors import InvalidParameter, NotFound
from rigenera.monitoring import calendar, documents, models, overview
from rigenera.monitoring.storage import DocumentStorage
from rigenera.routes import docs
from rigenera.settings import Settings
from rigenera.uploads import receive_upload

router = APIRouter(tags=["monitoring"])
WRITERS = (Role.ADMIN, Role.COORDINATOR, Role.TECHNICIAN)
READERS = (*WRITERS, Role.VOLUNTEER)
CSV = "text/csv; charset=utf-8"
_CSV_CONTENT = {"text/csv": {"schema": {"type": "string"}}}
_SUMMARY = documents.sql("project_summary")
_FORMAT = Query(None, pattern="^(json|csv)$", description="csv: the same list as CSV")
_ISTAT = Query(None, description="only this comune (ISTAT code)")
_OBLIGATION = Query(None, description="only this obligation (regis_monthly, expense_report)")


def _project_id(value: str) -> int:
    pid = parse_id(value)
    if pid is None:
        raise NotFound(f"Progetto {value} non trovato / project not found")
    return pid


def _document_id(value: str) -> int:
    did = parse_id(value)
    if did is None:
        raise NotFound(f"Documento {value} non trovato / document not found")
    return did


def _storage(request: Request) -> DocumentStorage:
    storage: DocumentStorage = request.app.state.documents
    return storage


async def _document(request: Request, doc_id: int) -> Any:
    row = await request.app.state.pools.read.fetchrow(
        documents.COLUMNS + " WHERE d.id = $1", doc_id)
    if row is None:
        raise NotFound(f"Documento {doc_id} non trovato / document not found")
    return row


# ----------------------------------------------------------------------------- documents
@router.post("/api/projects/{project_id}/documents", response_model=None, status_code=201,
             responses={201: {"model": models.Document, "description": "The document's metadata",
                              "headers": docs.LOCATION},
                        **docs.errors(400, 401, 403, 404, 413, 415, 422)},
             openapi_extra=docs.multipart("DocumentUpload"))
async def upload_document(project_id: str, request: Request, who: CurrentUser) -> JSONResponse:
    """Attach a PDF, JPEG or PNG to a project (multipart: file, kind, phase, reference_date,
    title). The content must be what the file name says; the SHA-256 is kept and served as
    the file's ETag. `phase` defaults to the project's current phase."""
    who.require(*WRITERS)  # before a byte of the body is read
    pid = _project_id(project_id)
    pools = request.app.state.pools
    await documents.project_state(pools.fresh, pid, who)  # 404 / 403 before the body
    settings: Settings = request.app.state.settings
    upload = await receive_upload(request, file_parts={"file": settings.documents_max_bytes},
                                  field_parts=documents.FIELDS)
    try:
        doc_id = await documents.store(pools.write, _storage(request), who, pid, upload,
                                       settings.documents_max_bytes)
    finally:
        upload.close()
    row = await pools.write.fetchrow(documents.COLUMNS + " WHERE d.id = $1", doc_id)
    return JSONResponse(documents.document_doc(row), status_code=201, headers={
        "Location": f"/api/documents/{doc_id}", "ETag": f'"{row["version"]}"'})


@router.get("/api/projects/{project_id}/documents", response_model=None,
            responses={200: {"model": models.DocumentList},
                       **docs.errors(400, 401, 403, 404)},
            openapi_extra=docs.AUTHENTICATED)
async def list_documents(project_id: str, request: Request, who: CurrentUser,
                         kind: str | None = Query(None, description="only this kind"),
                         ) -> dict[str, Any]:
    """A project's documents, oldest first."""
    who.require(*READERS)
    pid = _project_id(project_id)
    if kind is not None and kind not in DOCUMENT_KIND:
        raise InvalidParameter("kind: uno di / one of " + ", ".join(DOCUMENT_KIND),
                               errors=[{"field": "kind", "reason": "one of "
                                        + ", ".join(DOCUMENT_KIND)}])
    pool = request.app.state.pools.read
    if not await pool.fetchval("SELECT EXISTS (SELECT 1 FROM rigenera.projects WHERE id = $1)",
                               pid):
        raise NotFound(f"Progetto {pid} non trovato / project not found")
    rows = await pool.fetch(documents.COLUMNS + " WHERE d.project_id = $1"
                            " AND ($2::text IS NULL OR d.kind = $2) ORDER BY d.created_at, d.id",
                            pid, kind)
    return {"project_id": pid, "items": [documents.document_doc(r) for r in rows]}


@router.get("/api/documents/{document_id}", response_model=None,
            responses={200: {"model": models.Document}, **docs.errors(401, 403, 404)},
            openapi_extra=docs.AUTHENTICATED)
async def get_document(document_id: str, request: Request, who: CurrentUser) -> JSONResponse:
    """A document's metadata (ETag: its version, for If-Match on DELETE)."""
    who.require(*READERS)
    row = await _document(request, _document_id(document_id))
    return JSONResponse(documents.document_doc(row), headers={"ETag": f'"{row["version"]}"'})


def _chunks(storage: DocumentStorage, key: str) -> Iterator[bytes]:
    with storage.open(key) as f:
        while chunk := f.read(256 * 1024):
            yield chunk


def _disposition(file_name: str) -> str:
    """attachment (an uploaded PDF never runs in our origin; <img> ignores it), with the
    UTF-8 name per RFC 6266/5987 and an ASCII fallback."""
    ascii_name = re.sub(r'[^\x20-\x7e]|["\\]', "_", file_name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name)}"


@router.get("/api/documents/{document_id}/file", response_model=None,
            responses={200: {"description": "The bytes (PDF, JPEG or PNG)"},
                       304: {"description": "If-None-Match: unchanged"},
                       **docs.errors(401, 403, 404)}, openapi_extra=docs.AUTHENTICATED)
async def document_file(document_id: str, request: Request, who: CurrentUser) -> Response:
    """The document's bytes, with its media type, file name and ETag (its SHA-256)."""
    who.require(*READERS)
    doc_id = _document_id(document_id)
    row = await request.app.state.pools.read.fetchrow(
        "SELECT file_name, media_type, size_bytes, sha256, storage_key"
        " FROM rigenera.documents WHERE id = $1", doc_id)
    if row is None:
        raise NotFound(f"Documento {doc_id} non trovato / document not found")
    etag = f'"{row["sha256"]}"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=0, must-revalidate",
               "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    storage = _storage(request)
    if not storage.exists(row["storage_key"]):
        raise NotFound(f"Documento {doc_id}: file non disponibile / file not available",
                       log_message=f"document {doc_id}: key {row['storage_key']} missing")
    headers["Content-Disposition"] = _disposition(row["file_name"])
    headers["Content-Length"] = str(row["size_bytes"])
    return StreamingResponse(_chunks(storage, row["storage_key"]), media_type=row["media_type"],
                             headers=headers)


@router.delete("/api/documents/{document_id}", status_code=204, response_model=None,
               responses={204: {"description": "Deleted"}, **docs.errors(400, 401, 403, 404, 412)},
               openapi_extra=docs.AUTHENTICATED)
async def delete_document(document_id: str, request: Request, who: CurrentUser) -> Response:
    """Delete a document (If-Match: the version read; a stale one is 412). The history keeps
    its metadata; the bytes are removed."""
    who.require(*WRITERS)
    doc_id = _document_id(document_id)
    base = if_match(request)
    await documents.remove(request.app.state.pools.write, _storage(request), who, doc_id, base)
    return Response(status_code=204)


# ----------------------------------------------------------------------------- checklist
@router.get("/api/projects/{project_id}/checklist", response_model=None,
            responses={200: {"model": models.Checklist}, **docs.errors(401, 403, 404)},
            openapi_extra=docs.AUTHENTICATED)
async def project_checklist(project_id: str, request: Request, who: CurrentUser) -> dict[str, Any]:
    """Per phase up to the current one (the latest progress record's; 'design' without
    one): the required document kinds, the documents present, the missing ones."""
    who.require(*READERS)
    pid = _project_id(project_id)
    pool = request.app.state.pools.read
    row = await pool.fetchrow("SELECT phase FROM rigenera.project_phase WHERE project_id = $1",
                              pid)
    if row is None:
        raise NotFound(f"Progetto {pid} non trovato / project not found")
    return await overview.checklist(pool, pid, row["phase"])


@router.get("/api/checklist/missing", response_model=None,
            responses={200: {"model": models.MissingList}, **docs.errors(400, 401, 403)},
            openapi_extra=docs.AUTHENTICATED)
async def checklist_missing(request: Request, who: CurrentUser,
                            istat_code: str | None = _ISTAT) -> dict[str, Any]:
    """Projects under way (granted funding or progress records) with missing documents."""
    who.require(*WRITERS)
    pool = request.app.state.pools.read
    await calendar.check_filters(pool, istat_code, None)
    items = await overview.missing_list(pool, istat_code)
    return {"istat_code": istat_code, "count": len(items), "items": items}


# ----------------------------------------------------------------------------- calendar
async def _today(request: Request) -> dt.date:
    today: dt.date = await request.app.state.pools.read.fetchval("SELECT current_date")
    return today


@router.get("/api/deadlines", response_model=None,
            responses={200: {"model": models.Upcoming, "content": _CSV_CONTENT},
                       **docs.errors(400)})
async def deadlines(request: Request, who: CallerDep,
                    within: str = Query("30d", description="30d, 4w, 2m (days, weeks, months)"),
                    istat_code: str | None = _ISTAT, obligation: str | None = _OBLIGATION,
                    project_id: int | None = Query(None, ge=1, le=2**63 - 1),
                    f: str | None = _FORMAT) -> Response:
    """Reporting deadlines not yet met, due from today to today + `within`."""
    pool = request.app.state.pools.read
    today = await _today(request)
    until = calendar.horizon(within, today)
    await calendar.check_filters(pool, istat_code, obligation)
    rows = await pool.fetch(calendar.UPCOMING, until, istat_code, obligation, project_id)
    items = [calendar.deadline_doc(r) for r in rows]
    if f == "csv":
        return Response(calendar.upcoming_csv(items), media_type=CSV, headers={
            "Content-Disposition": f'attachment; filename="scadenze-{today}-{until}.csv"'})
    return JSONResponse({"today": today.isoformat(), "until": until.isoformat(),
                         "count": len(items), "items": items})


@router.get("/api/deadlines/overdue", response_model=None,
            responses={200: {"model": models.Overdue, "content": _CSV_CONTENT},
                       **docs.errors(400)})
async def overdue(request: Request, who: CallerDep,
                  istat_code: str | None = _ISTAT, obligation: str | None = _OBLIGATION,
                  project_id: int | None = Query(None, ge=1, le=2**63 - 1),
                  f: str | None = _FORMAT) -> Response:
    """Deadlines past due and not met, grouped per comune, with the comune's referents for
    the office's accounts (admin, coordinator, volunteer: they phone them)."""
    pool = request.app.state.pools.read
    await calendar.check_filters(pool, istat_code, obligation)
    today = await _today(request)
    groups = await calendar.overdue_by_comune(
        pool, istat_code=istat_code, obligation=obligation, project_id=project_id,
        with_referents=who.role in OFFICE)
    if f == "csv":
        return Response(calendar.overdue_csv(groups), media_type=CSV, headers={
            "Content-Disposition": f'attachment; filename="scadenze-scadute-{today}.csv"'})
    return JSONResponse({"today": today.isoformat(), "count": sum(g["count"] for g in groups),
                         "comuni": groups})


# ----------------------------------------------------------------------------- summary
@router.get("/api/projects/{project_id}/monitoring", response_model=None,
            responses={200: {"model": models.Summary}, **docs.errors(401, 403, 404)},
            openapi_extra=docs.AUTHENTICATED)
async def monitoring_summary(project_id: str, request: Request, who: CurrentUser,
                             ) -> dict[str, Any]:
    """A project's state: the latest progress record, the series, milestones and targets
    (late ones flagged with the days late), tenders, documents, the checklist and the
    deadlines (next per obligation, overdue)."""
    who.require(*READERS)
    pid = _project_id(project_id)
    pool = request.app.state.pools.read
    project = await pool.fetchrow(_SUMMARY, pid)
    if project is None:
        raise NotFound(f"Progetto {pid} non trovato / project not found")
    return await overview.summary(pool, project, await _today(request))
