"""The office's events (reserved area): create and edit events, cancel them, see and export
the registrants, mark attendance, attach materials (files or links).

Only the office (admin, coordinator, volunteer: `OfficeUser`) comes here; technicians get
a 403 and anonymous visitors the login form. Edits are optimistic: the form carries the
version it was read at, and `UPDATE … WHERE version = $n` touching no row is a 409 that
shows the form again, nothing overwritten. Every write runs in a transaction that names
the acting user (touch() records it in updated_by).
"""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import asyncpg
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from rigenera.auth import Principal
from rigenera.errors import InvalidParameter, NotFound, RigeneraError
from rigenera.imports.files import _hash
from rigenera.inputs import check_text
from rigenera.monitoring.documents import sniff
from rigenera.settings import Settings
from rigenera.uploads import receive_upload
from rigenera.web import events as ev
from rigenera.web.i18n import language
from rigenera.web.queries import comuni_choices, sql
from rigenera.web.render import page
from rigenera.web.security import (
    CSRF_FIELD,
    FormDep,
    OfficeUser,
    SessionDep,
    check_csrf,
    form_text,
    resolve_session,
)

router = APIRouter(prefix="/area-riservata/eventi", dependencies=[Depends(resolve_session)],
                   include_in_schema=False)
HOME = "/area-riservata/eventi"
CSV_COLUMNS = ("full_name", "email", "organisation", "istat_code", "comune", "role", "status",
               "attended", "created_at", "cancelled_at")


async def _act(conn: asyncpg.Connection, who: Principal) -> None:
    """The acting user for touch() (transaction-local, as the editing service sets it)."""
    await conn.execute("SELECT set_config('rigenera.actor', $1, true)", who.username)


async def _comuni(request: Request) -> list[asyncpg.Record]:
    return await comuni_choices(request.app.state.pools.read)


async def _stored(request: Request, event_id: int) -> asyncpg.Record:
    row = await request.app.state.pools.write.fetchrow(
        sql("event_columns") + " WHERE e.id = $1", event_id)
    if row is None:
        raise NotFound(f"Evento {event_id} non trovato / event not found")
    return row


@router.get("")
async def list_events(request: Request, who: OfficeUser) -> Response:
    rows = await request.app.state.pools.read.fetch(sql("event_admin_list"))
    return page(request, "reserved/events/list.html",
                {"events": rows, "kinds": ev.KINDS,
                 "done": request.query_params.get("fatto")}, public=False)


def _form_page(request: Request, form: ev.EventForm, *, event: asyncpg.Record | None,
               version: int | None, errors: dict[str, str], comuni: list[asyncpg.Record],
               extra: dict[str, Any] | None = None, status: int = 200) -> Response:
    ctx = {"form": form, "event": event, "form_version": version, "errors": errors,
           "comuni": comuni, "kinds": ev.KINDS, "audiences": ev.AUDIENCES,
           "registrants": [], "materials": [], "done": request.query_params.get("fatto")}
    ctx.update(extra or {})
    return page(request, "reserved/events/edit.html", ctx, status=status, public=False)


@router.get("/nuovo")
async def new_event_form(request: Request, who: OfficeUser) -> Response:
    return _form_page(request, ev.event_form_of(None), event=None, version=None, errors={},
                      comuni=await _comuni(request))


@router.post("/nuovo")
async def create_event(request: Request, who: OfficeUser, form: FormDep) -> Response:
    comuni = await _comuni(request)
    values, errors = ev.read_event(form, {c["istat_code"] for c in comuni}, language(request))
    status = 422
    if not errors:
        try:
            async with request.app.state.pools.write.acquire() as conn, conn.transaction():
                await _act(conn, who)
                new_id = await conn.fetchval(sql("event_insert"), ev.SOURCE, *values.params())
        except asyncpg.PostgresError as exc:
            refusal = ev.db_refusal(exc, language(request))
            status, errors = refusal.status, refusal.errors
        else:
            return RedirectResponse(f"{HOME}/{new_id}?fatto=creato", status_code=303)
    return _form_page(request, values, event=None, version=None, errors=errors, comuni=comuni,
                      status=status)


async def _event_extras(request: Request, event_id: int) -> dict[str, Any]:
    pools = request.app.state.pools
    return {"registrants": await pools.read.fetch(sql("event_registrants"), event_id),
            "materials": await pools.read.fetch(sql("event_materials"), [event_id])}


@router.get("/{event_id}")
async def edit_event_form(request: Request, event_id: ev.RowId, who: OfficeUser) -> Response:
    row = await _stored(request, event_id)
    return _form_page(request, ev.event_form_of(row), event=row, version=row["version"],
                      errors={}, comuni=await _comuni(request),
                      extra=await _event_extras(request, event_id))


def _conflict(lang: str, current: int) -> dict[str, str]:
    it = (f"L'evento è stato modificato da un'altra persona (versione attuale {current}): "
          "nulla è stato salvato. Ricaricare la pagina per vedere le modifiche.")
    en = (f"Someone else changed the event (current version {current}): nothing was saved. "
          "Reload the page to see their changes.")
    return {"version": it if lang == "it" else en}


def _version(form: Any) -> int | None:
    try:
        return int(form_text(form, "version") or "")
    except ValueError:
        return None


@router.post("/{event_id}")
async def update_event(request: Request, event_id: ev.RowId, who: OfficeUser, form: FormDep) -> Response:
    lang = language(request)
    row = await _stored(request, event_id)
    comuni = await _comuni(request)
    values, errors = ev.read_event(form, {c["istat_code"] for c in comuni}, lang)
    version = _version(form)
    if version is None:
        errors["version"] = "version: " + ("manca la versione del modulo" if lang == "it"
                                           else "the form's version is missing")
    status = 422
    if not errors:
        try:
            async with request.app.state.pools.write.acquire() as conn, conn.transaction():
                await _act(conn, who)
                done = await conn.fetchval(sql("event_update"), event_id, *values.params(),
                                           version)
        except asyncpg.PostgresError as exc:
            refusal = ev.db_refusal(exc, lang)
            status, errors = refusal.status, refusal.errors
        else:
            if done is not None:
                return RedirectResponse(f"{HOME}/{event_id}?fatto=salvato", status_code=303)
            row = await _stored(request, event_id)
            status, errors = 409, _conflict(lang, row["version"])
    return _form_page(request, values, event=row, version=version, errors=errors, comuni=comuni,
                      extra=await _event_extras(request, event_id), status=status)


@router.post("/{event_id}/stato")
async def set_status(request: Request, event_id: ev.RowId, who: OfficeUser, form: FormDep) -> Response:
    """Cancel an event (or schedule it again): registrations stay, new ones are refused."""
    lang = language(request)
    row = await _stored(request, event_id)
    target = form_text(form, "status")
    if target not in ("scheduled", "cancelled"):
        raise InvalidParameter("status: 'scheduled' o 'cancelled' / 'scheduled' or 'cancelled'",
                               errors=[{"field": "status", "reason": "unknown"}])
    async with request.app.state.pools.write.acquire() as conn, conn.transaction():
        await _act(conn, who)
        done = await conn.fetchval(sql("event_set_status"), event_id, target, _version(form))
    if done is None:
        current = await _stored(request, event_id)
        return _form_page(request, ev.event_form_of(current), event=current,
                          version=row["version"], errors=_conflict(lang, current["version"]),
                          comuni=await _comuni(request),
                          extra=await _event_extras(request, event_id), status=409)
    word = "annullato" if target == "cancelled" else "ripristinato"
    return RedirectResponse(f"{HOME}/{event_id}?fatto={word}", status_code=303)


@router.get("/{event_id}/iscritti.csv")
async def registrants_csv(request: Request, event_id: ev.RowId, who: OfficeUser) -> Response:
    """The registrants as CSV (UTF-8 with BOM, so a spreadsheet reads the accents)."""
    row = await _stored(request, event_id)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in await request.app.state.pools.read.fetch(sql("event_registrants"), event_id):
        writer.writerow([_csv_cell(r[c]) for c in CSV_COLUMNS])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="iscritti-evento-{row["id"]}.csv"',
        "Cache-Control": "private, no-store"})


def _csv_cell(value: Any) -> Any:
    """No formula injection: text starting with = + - @ gets a leading apostrophe."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.post("/{event_id}/presenze")
async def attendance(request: Request, event_id: ev.RowId, who: OfficeUser, form: FormDep) -> Response:
    await _stored(request, event_id)
    present = []
    for value in form.getlist("attended"):
        if isinstance(value, str) and value.isdigit():
            present.append(int(value))
    async with request.app.state.pools.write.acquire() as conn, conn.transaction():
        await _act(conn, who)
        await conn.execute(sql("event_attendance"), event_id, present)
    return RedirectResponse(f"{HOME}/{event_id}?fatto=presenze#iscritti", status_code=303)


@router.post("/{event_id}/materiali/link")
async def add_link(request: Request, event_id: ev.RowId, who: OfficeUser, form: FormDep) -> Response:
    lang = language(request)
    row = await _stored(request, event_id)
    title, url = form_text(form, "title"), form_text(form, "url")
    errors: dict[str, str] = {}
    if not title or len(title) > ev.TITLE_MAX:
        errors["material_title"] = ("Titolo del materiale obbligatorio (max 300 caratteri)."
                                    if lang == "it" else "Material title required (max 300).")
    if not url or not ev._URL.match(url) or len(url) > 2000:
        errors["material_url"] = ("Un indirizzo che inizia con https://." if lang == "it"
                                  else "An address starting with https://.")
    if not errors:
        try:
            await request.app.state.pools.write.fetchval(
                sql("event_material_insert"), event_id, title, url, None, None, None, None,
                None, who.username)
        except asyncpg.PostgresError as exc:
            errors = ev.db_refusal(exc, lang).errors
        else:
            return RedirectResponse(f"{HOME}/{event_id}?fatto=materiale#materiali",
                                    status_code=303)
    return _form_page(request, ev.event_form_of(row), event=row, version=row["version"],
                      errors=errors, comuni=await _comuni(request),
                      extra=await _event_extras(request, event_id), status=422)


@router.post("/{event_id}/materiali/file")
async def add_file(request: Request, event_id: ev.RowId, who: OfficeUser,
                   session: SessionDep) -> Response:
    """Upload a PDF, JPEG or PNG: streamed to disk within documents_max_bytes (413), its
    type proved by its first bytes (monitoring.documents.sniff: 415/422), stored with the
    documents' storage class; row and bytes succeed or fail together."""
    row = await _stored(request, event_id)
    settings: Settings = request.app.state.settings
    upload = await receive_upload(request, file_parts={"file": settings.documents_max_bytes},
                                  field_parts={CSRF_FIELD, "title"})
    try:
        check_csrf(session.csrf_token if session else None, upload.fields.get(CSRF_FIELD))
        file = upload.files.get("file")
        lang = language(request)
        if file is None or file.size == 0:
            return _form_page(request, ev.event_form_of(row), event=row, version=row["version"],
                              errors={"material_file": "Scegliere un file PDF, JPEG o PNG."
                                      if lang == "it" else "Choose a PDF, JPEG or PNG file."},
                              comuni=await _comuni(request),
                              extra=await _event_extras(request, event_id), status=422)
        try:
            check_text("file", file.name)
            media_type = sniff(file.path, file.name)
        except RigeneraError as exc:
            return _form_page(request, ev.event_form_of(row), event=row, version=row["version"],
                              errors={"material_file": exc.description},
                              comuni=await _comuni(request),
                              extra=await _event_extras(request, event_id),
                              status=int(exc.status))
        sha256 = await run_in_threadpool(_hash, file.path, settings.documents_max_bytes, file.name)
        title = (upload.fields.get("title") or "").strip()[:ev.TITLE_MAX] or file.name
        storage = ev.material_storage(settings)
        key = f"{event_id}/{uuid.uuid4().hex}"
        stored = False
        try:
            async with request.app.state.pools.write.acquire() as conn, conn.transaction():
                await _act(conn, who)
                await conn.fetchval(sql("event_material_insert"), event_id, title, None,
                                    file.name, media_type, file.size, sha256, key, who.username)
                await run_in_threadpool(storage.put, key, file.path)
                stored = True
        except BaseException:
            if stored:
                await run_in_threadpool(storage.delete, key)
            raise
    finally:
        upload.close()
    return RedirectResponse(f"{HOME}/{event_id}?fatto=materiale#materiali", status_code=303)


@router.post("/{event_id}/materiali/{material_id}/elimina")
async def delete_material(request: Request, event_id: ev.RowId, material_id: ev.RowId, who: OfficeUser,
                          form: FormDep) -> Response:
    async with request.app.state.pools.write.acquire() as conn, conn.transaction():
        await _act(conn, who)
        found = await conn.fetchrow(sql("event_material_delete"), event_id, material_id)
    if found is None:
        raise NotFound(f"Materiale {material_id} non trovato / material not found")
    if found["storage_key"]:
        storage = ev.material_storage(request.app.state.settings)
        await run_in_threadpool(storage.delete, found["storage_key"])
    return RedirectResponse(f"{HOME}/{event_id}?fatto=eliminato#materiali", status_code=303)
