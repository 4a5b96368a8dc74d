"""Public events: the list, an event's page with its registration form, the calendar file,
material downloads, and a registrant's own confirmation/cancellation page.

Registrants' personal data are written here and never read back on a public page: the
list, the event page and their JSON twins count places, they never list people. The
database decides who gets a place (the trigger of migration 0024 locks the event row),
so two visitors cannot both take the last one; its refusals become a message per rule.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import shapely
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response, StreamingResponse

from rigenera.errors import NotFound
from rigenera.web import events as ev
from rigenera.web import format as fmt
from rigenera.web.i18n import language
from rigenera.web.minimap import MapShape, minimap_svg
from rigenera.web.queries import comuni_choices, sql
from rigenera.web.render import page, twin, wants_json
from rigenera.web.security import FormDep, ensure_csrf, resolve_session

router = APIRouter(dependencies=[Depends(resolve_session)], include_in_schema=False)
PAST_SHOWN = 20  # past events listed under the upcoming ones
NO_REFERRER = {"Referrer-Policy": "no-referrer"}  # pages whose URL carries a token


def _now() -> datetime:
    return datetime.now(UTC)


def _when(lang: str) -> Any:
    """Templates' `when(iso)`: a public event's ISO time as Milan's date and hour."""
    return lambda iso: fmt.moment(datetime.fromisoformat(iso), lang) if iso else "–"


async def _comuni(request: Request) -> list[asyncpg.Record]:
    return await comuni_choices(request.app.state.pools.read)


async def _event(request: Request, event_id: int) -> asyncpg.Record:
    row = await request.app.state.pools.read.fetchrow(
        sql("event_columns") + " WHERE e.id = $1", event_id)
    if row is None:
        raise NotFound(f"Evento {event_id} non trovato / event not found")
    return row


async def _materials(request: Request, ids: list[int]) -> dict[int, list[asyncpg.Record]]:
    out: dict[int, list[asyncpg.Record]] = {i: [] for i in ids}
    for m in await request.app.state.pools.read.fetch(sql("event_materials"), ids):
        out[m["event_id"]].append(m)
    return out


@router.get("/eventi")
async def event_list(request: Request) -> Response:
    lang, now = language(request), _now()
    rows = await request.app.state.pools.read.fetch(
        sql("event_columns") + " WHERE coalesce(e.ends_at, e.starts_at) >= now()"
        " ORDER BY e.starts_at, e.id")
    past = await request.app.state.pools.read.fetch(
        sql("event_columns") + " WHERE coalesce(e.ends_at, e.starts_at) < now()"
        " ORDER BY e.starts_at DESC, e.id DESC LIMIT $1", PAST_SHOWN)
    materials = await _materials(request, [r["id"] for r in [*rows, *past]])
    data = {"upcoming": [ev.public_event(r, materials[r["id"]], now, lang) for r in rows],
            "past": [ev.public_event(r, materials[r["id"]], now, lang) for r in past]}
    if wants_json(request):
        return twin(request, data)
    return page(request, "events/list.html", {**data, "when": _when(lang)})


def _minimap(row: asyncpg.Record, outline: bytes | None, lang: str) -> Any:
    shapes = []
    if outline:
        # Drawn as a shape of its own (not "context"), so the map shows the whole comune
        # with the event's point in it, not 600 m of white around the point.
        shapes.append(MapShape(shapely.from_wkb(outline), "comune", row["comune"] or ""))
    if row["longitude"] is not None:
        shapes.append(MapShape(shapely.Point(row["longitude"], row["latitude"]), "event",
                               row["venue"] or row["title"]))
    where = row["venue"] or row["comune"] or ""
    title = ("Mappa: luogo dell'evento" if lang == "it" else "Map: the event's place") + (
        f" – {where}" if where else "")
    return minimap_svg(shapes, title)


async def _detail_context(request: Request, event_id: int) -> dict[str, Any]:
    lang = language(request)
    row = await _event(request, event_id)
    materials = (await _materials(request, [event_id]))[event_id]
    outline = None
    if row["istat_code"]:
        outline = await request.app.state.pools.read.fetchval(sql("event_comune_outline"),
                                                              row["istat_code"])
    return {"event": ev.public_event(row, materials, _now(), lang),
            "minimap": _minimap(row, outline, lang), "row": row, "when": _when(lang)}


def _registration_ctx(values: dict[str, Any] | None = None,
                      errors: dict[str, str] | None = None) -> dict[str, Any]:
    return {"values": values or {}, "errors": errors or {}}


@router.get("/eventi/{event_id}")
async def event_page(request: Request, event_id: ev.RowId) -> Response:
    ctx = await _detail_context(request, event_id)
    if wants_json(request):
        return twin(request, ctx["event"])
    ensure_csrf(request)
    ctx.update(_registration_ctx(), comuni=await _comuni(request))
    # The page carries a per-visitor CSRF token, so it is never a shared cached copy.
    return page(request, "events/detail.html", ctx, public=False)


@router.post("/eventi/{event_id}/iscrizione")
async def register(request: Request, event_id: ev.RowId, form: FormDep) -> Response:
    """A registration: 422 naming the wrong field, 409 when the database refuses (full,
    closed, already registered); otherwise 303 to the registrant's own page."""
    lang = language(request)
    await _event(request, event_id)  # 404 before anything else
    comuni = await _comuni(request)
    reg, errors = ev.read_registration(form, {c["istat_code"] for c in comuni}, lang)
    status = 422
    if not errors:
        token, hashed = ev.new_cancel_token()
        try:
            await request.app.state.pools.write.fetchval(
                sql("event_register"), event_id, reg.full_name, reg.email, reg.organisation,
                reg.istat_code, reg.role, reg.consent, hashed)
        except asyncpg.PostgresError as exc:
            refusal = ev.db_refusal(exc, lang)
            status, errors = refusal.status, refusal.errors
        else:
            return RedirectResponse(f"/eventi/iscrizione/{token}?nuova=1", status_code=303,
                                    headers=NO_REFERRER)
    ensure_csrf(request)
    ctx = await _detail_context(request, event_id)  # places left as they are now
    ctx.update(_registration_ctx(vars(reg), errors), comuni=comuni)
    return page(request, "events/detail.html", ctx, status=status, public=False)


async def _by_token(request: Request, token: str) -> asyncpg.Record:
    row = await request.app.state.pools.read.fetchrow(sql("event_registration_by_token"),
                                                      ev.token_hash(token))
    if row is None:
        raise NotFound("Iscrizione non trovata: il link non è valido / registration not found: "
                       "the link is not valid")
    return row


@router.get("/eventi/iscrizione/{token}")
async def registration_page(request: Request, token: str) -> Response:
    """The registrant's own page (confirmation, then cancellation): reached only with the
    token of the link; it shows the event, never who registered."""
    reg = await _by_token(request, token)
    ctx = await _detail_context(request, reg["event_id"])
    ensure_csrf(request)
    ctx.update(registration=reg, token=token, new=request.query_params.get("nuova") == "1",
               link=_site(request) + f"/eventi/iscrizione/{token}")
    return page(request, "events/registration.html", ctx, public=False, headers=NO_REFERRER)


@router.post("/eventi/iscrizione/{token}/annulla")
async def cancel_registration(request: Request, token: str, form: FormDep) -> Response:
    await _by_token(request, token)
    await request.app.state.pools.write.fetchrow(sql("event_registration_cancel"),
                                                 ev.token_hash(token))
    return RedirectResponse(f"/eventi/iscrizione/{token}", status_code=303, headers=NO_REFERRER)


@router.get("/eventi/{event_id}/calendario.ics")
async def calendar_file(request: Request, event_id: ev.RowId) -> Response:
    row = await _event(request, event_id)
    base = _site(request)
    body = ev.ics(row, base, urlsplit(base).hostname or "rigenera")
    return Response(body, media_type="text/calendar; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="evento-{event_id}.ics"',
        "Cache-Control": "public, max-age=60"})


@router.get("/eventi/{event_id}/materiali/{material_id}")
async def material_file(request: Request, event_id: ev.RowId, material_id: ev.RowId) -> Response:
    """A stored material (PDF, JPEG, PNG, checked when uploaded), served as a download."""
    m = await request.app.state.pools.read.fetchrow(sql("event_material_file"), event_id,
                                                    material_id)
    if m is None:
        raise NotFound(f"Materiale {material_id} non trovato / material not found")
    etag = f'"{m["sha256"]}"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=3600",
               "X-Content-Type-Options": "nosniff",
               "Content-Disposition": f"attachment; filename=\"{_ascii_name(m['file_name'])}\""}
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    storage = ev.material_storage(request.app.state.settings)
    stream = await run_in_threadpool(storage.open, m["storage_key"])
    headers["Content-Length"] = str(m["size_bytes"])

    def chunks() -> Any:
        with stream:
            while block := stream.read(256 * 1024):
                yield block

    return StreamingResponse(chunks(), media_type=m["media_type"], headers=headers)


def _site(request: Request) -> str:
    """The site's public address (settings.base_url, right behind a proxy too)."""
    base: str = request.app.state.settings.base_url
    return base.rstrip("/")


def _ascii_name(name: str) -> str:
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "._- ") else "_" for c in name)
    return safe.strip() or "materiale"
