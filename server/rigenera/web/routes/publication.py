"""The reserved area's publication: which projects the website shows, with what text and photo.

A project is a draft (no row, or state 'draft'), proposed (a volunteer asked for it) or
published (a coordinator or an admin decided); only published projects appear on the
public pages and map (pub.projects.published). Every write is one parameterised statement
on `project_publication` at the version the form was read at: a stale form is a 409 that
re-shows the form with what is stored now, nothing overwritten. A volunteer may propose
and edit a draft's text and cover, never publish, return to draft or change what is
already public (403, nothing written).

The cover is one of the project's own photo documents: chosen among them, or uploaded here
through the monitoring door (monitoring/documents.store: the same checks, the same storage
and the same roles as POST /api/projects/{id}/documents, so volunteers choose but do not
upload).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlencode

import asyncpg
from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from rigenera.auth import Principal
from rigenera.errors import Forbidden, InvalidParameter, NotFound, translate_db_error
from rigenera.monitoring import documents
from rigenera.monitoring.storage import DocumentStorage
from rigenera.settings import Settings
from rigenera.uploads import receive_upload
from rigenera.web.queries import sql
from rigenera.web.render import page
from rigenera.web.security import (
    CSRF_FIELD,
    PUBLISHERS,
    CoordinatorUser,
    FormDep,
    OfficeUser,
    SessionDep,
    check_csrf,
    form_text,
    resolve_session,
)

router = APIRouter(prefix="/area-riservata/pubblicazione",
                   dependencies=[Depends(resolve_session)], include_in_schema=False)
BASE = "/area-riservata/pubblicazione"
STATES = {"draft": ("Bozza", "Draft"), "proposed": ("Proposto", "Proposed"),
          "published": ("Pubblicato", "Published")}
ACTIONS = ("save", "propose", "publish", "draft")
TEXT_MAX = 2000
LIST_MAX = 300
PHOTO_TYPES = (".jpg", ".jpeg", ".png")


@dataclass(frozen=True)
class Filters:
    state: str | None
    comune: str | None
    programme: str | None
    q: str | None

    @classmethod
    def of(cls, values: Any) -> Filters:
        def get(name: str) -> str | None:
            value = values.get(name)
            return value.strip() or None if isinstance(value, str) else None

        state = get("state")
        return cls(state if state in STATES else None, get("comune"), get("programme"), get("q"))

    def query(self) -> str:
        return urlencode({k: v for k, v in vars(self).items() if v})


async def act(conn: asyncpg.Connection, who: Principal) -> None:
    """touch() stamps created_by/updated_by with the acting user of the transaction."""
    await conn.execute(sql("referent_actor"), who.username)


async def _list_context(request: Request, filters: Filters) -> dict[str, Any]:
    pool = request.app.state.pools.read
    rows = await pool.fetch(sql("publication_list"), filters.state, filters.comune,
                            filters.programme, filters.q, LIST_MAX + 1)
    counts = {r["state"]: r["n"] for r in await pool.fetch(sql("publication_counts"))}
    comuni = await pool.fetch(
        "SELECT DISTINCT c.istat_code, c.name FROM rigenera.project_comuni x"
        " JOIN rigenera.comuni c USING (istat_code) ORDER BY c.name")
    programmes = await pool.fetch(
        "SELECT DISTINCT programme_code FROM rigenera.funding_lines"
        " WHERE programme_code IS NOT NULL ORDER BY 1")
    return {"rows": rows[:LIST_MAX], "more": len(rows) > LIST_MAX, "filters": filters,
            "filter_query": filters.query(), "counts": counts, "states": STATES,
            "comuni": comuni, "programmes": [r[0] for r in programmes]}


@router.get("")
async def publication_list(request: Request, who: OfficeUser) -> Response:
    ctx = await _list_context(request, Filters.of(request.query_params))
    ctx["done"] = request.query_params.get("done")
    ctx["skipped"] = request.query_params.get("skipped")
    return page(request, "reserved/publication_list.html", ctx, public=False)


async def _project(request: Request, project_id: int) -> asyncpg.Record:
    row = await request.app.state.pools.write.fetchrow(sql("publication_project"), project_id)
    if row is None:
        raise NotFound(f"Progetto {project_id} non trovato / project not found")
    return row


async def _project_page(request: Request, project_id: int, *, status: int = 200,
                        errors: dict[str, str] | None = None, conflict: bool = False,
                        form: dict[str, Any] | None = None, message: str | None = None,
                        ) -> Response:
    row = await _project(request, project_id)
    photos = await request.app.state.pools.write.fetch(sql("publication_photos"), project_id)
    shown = {"public_text": row["public_text"] or "", "cover_document_id": row["cover_document_id"]}
    if form is not None and not conflict:
        shown.update(form)
    return page(request, "reserved/publication_project.html", {
        "p": row, "photos": photos, "states": STATES, "errors": errors or {},
        "conflict": conflict, "mine": form if conflict else None, "shown": shown,
        "text_max": TEXT_MAX, "message": message,
        "may_publish": request.state.web_session.principal.role in PUBLISHERS,
    }, status=status, public=False)


@router.get("/{project_id:int}")
async def publication_project(request: Request, project_id: int, who: OfficeUser) -> Response:
    saved = request.query_params.get("saved")
    return await _project_page(request, project_id, message=saved if saved in ACTIONS else None)


def _next_state(action: str, current: str, who: Principal) -> str:
    """The state an action leads to; a volunteer's publish, return to draft or change of a
    published project is refused before anything is written."""
    publisher = who.role in PUBLISHERS
    if action in ("publish", "draft") and not publisher:
        raise Forbidden("Solo un coordinatore o un amministratore può pubblicare o riportare in"
                        " bozza / only a coordinator or an administrator may publish or return"
                        " to draft", errors=[{"field": "action", "reason": "publisher role"}])
    if current == "published" and not publisher:
        raise Forbidden("Il progetto è pubblicato: solo un coordinatore può cambiarlo / the"
                        " project is published: only a coordinator may change it",
                        errors=[{"field": "action", "reason": "published"}])
    return {"save": current, "propose": "proposed", "publish": "published",
            "draft": "draft"}[action]


def _int(value: str | None, field: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidParameter(f"{field}: numero intero / an integer",
                               errors=[{"field": field, "reason": "integer"}]) from None


async def _write(conn: asyncpg.Connection, who: Principal, project_id: int, version: int,
                 state: str, text: str | None, cover: int | None) -> int | None:
    """Write the row at `version`; the new version, or None when it moved on meanwhile."""
    await act(conn, who)
    new: int | None = await conn.fetchval(sql("publication_update"), project_id, version, state,
                                          text, cover, who.username)
    if new is None and version == 0:
        new = await conn.fetchval(sql("publication_insert"), project_id, state, text, cover,
                                  who.username)
    return new


@router.post("/{project_id:int}")
async def publication_save(request: Request, project_id: int, who: OfficeUser,
                           form: FormDep) -> Response:
    action = form_text(form, "action") or "save"
    if action not in ACTIONS:
        raise InvalidParameter("action: " + ", ".join(ACTIONS),
                               errors=[{"field": "action", "reason": "one of " + ", ".join(ACTIONS)}])
    row = await _project(request, project_id)
    state = _next_state(action, row["state"], who)
    version = _int(form_text(form, "version"), "version") or 0
    text = form_text(form, "public_text")
    cover = _int(form_text(form, "cover_document_id"), "cover_document_id")
    mine: dict[str, Any] = {"public_text": text or "", "cover_document_id": cover}
    errors: dict[str, str] = {}
    if text is not None and len(text) > TEXT_MAX:
        errors["public_text"] = (f"Al massimo {TEXT_MAX} caratteri (ora {len(text)}) / at most "
                                 f"{TEXT_MAX} characters (now {len(text)})")
    if errors:
        return await _project_page(request, project_id, status=422, errors=errors, form=mine)
    pool = request.app.state.pools.write
    try:
        async with pool.acquire() as conn, conn.transaction():
            new = await _write(conn, who, project_id, version, state, text, cover)
    except asyncpg.PostgresError as exc:
        err = translate_db_error(exc)
        field = err.errors[0]["field"] if err.errors else "body"
        if int(err.status) >= 500:
            raise err from exc
        return await _project_page(request, project_id, status=422,
                                   errors={_FORM_FIELD.get(field, field): err.description},
                                   form=mine)
    if new is None:
        return await _project_page(request, project_id, status=409, conflict=True, form=mine)
    return RedirectResponse(f"{BASE}/{project_id}?saved={action}", status_code=303)


# Constraint names of project_publication that shorten the column's name.
_FORM_FIELD = {"public_text_length": "public_text"}


@router.post("/{project_id:int}/foto")
async def publication_photo(request: Request, project_id: int, who: CoordinatorUser,
                            session: SessionDep) -> Response:
    """Upload a JPEG/PNG as the project's photo document and make it the cover."""
    pools = request.app.state.pools
    await documents.project_state(pools.fresh, project_id, who)  # 404 before the body
    settings: Settings = request.app.state.settings
    upload = await receive_upload(request, file_parts={"file": settings.documents_max_bytes},
                                  field_parts={CSRF_FIELD, "version", "title"})
    try:
        check_csrf(session.csrf_token if session else None, upload.fields.get(CSRF_FIELD))
        file = upload.files.get("file")
        if file is None or PurePosixPath(file.name.lower()).suffix not in PHOTO_TYPES:
            return await _project_page(request, project_id, status=422, errors={
                "file": "Una foto JPEG o PNG / a JPEG or PNG photo"})
        upload.fields["kind"] = "photo"
        version = _int(upload.fields.get("version"), "version") or 0
        storage: DocumentStorage = request.app.state.documents
        doc_id = await documents.store(pools.write, storage, who, project_id, upload,
                                       settings.documents_max_bytes)
    finally:
        upload.close()
    row = await _project(request, project_id)
    async with pools.write.acquire() as conn, conn.transaction():
        new = await _write(conn, who, project_id, version, row["state"], row["public_text"],
                           doc_id)
    if new is None:  # the photo is kept among the project's documents, to choose later
        return await _project_page(request, project_id, status=409, conflict=True,
                                   form={"public_text": row["public_text"] or "",
                                         "cover_document_id": doc_id})
    return RedirectResponse(f"{BASE}/{project_id}?saved=save", status_code=303)


def _bulk_targets(form: FormData) -> list[tuple[int, int]]:
    """The ticked projects, each `id:version` as the list showed it."""
    out = []
    for value in form.getlist("project"):
        if isinstance(value, str) and ":" in value:
            pid, _, ver = value.partition(":")
            if pid.isdigit() and ver.isdigit():
                out.append((int(pid), int(ver)))
    return out


@router.post("/pubblica")
async def publication_bulk(request: Request, who: CoordinatorUser, form: FormDep) -> Response:
    """Publish the ticked projects (each at the version shown: a changed one is skipped),
    or every project the filters select (`scope=filtered`)."""
    filters = Filters.of(form)
    if form_text(form, "scope") == "filtered":
        rows = await request.app.state.pools.read.fetch(
            sql("publication_list"), filters.state, filters.comune, filters.programme,
            filters.q, 100000)
        targets: list[tuple[int, int | None]] = [(r["id"], None) for r in rows
                                                  if r["state"] != "published"]
    else:
        targets = list(_bulk_targets(form))
    if not targets:
        raise InvalidParameter("project: nessun progetto scelto / no project chosen",
                               errors=[{"field": "project", "reason": "none chosen"}])
    ids = [t[0] for t in targets]
    versions = [t[1] for t in targets]
    async with request.app.state.pools.write.acquire() as conn, conn.transaction():
        await act(conn, who)
        done = await conn.fetch(sql("publication_bulk"), ids, versions, who.username)
    query = filters.query()
    sep = "&" if query else ""
    return RedirectResponse(f"{BASE}?{query}{sep}done={len(done)}&skipped="
                            f"{len(targets) - len(done)}", status_code=303)
