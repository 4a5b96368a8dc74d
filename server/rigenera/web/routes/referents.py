"""The referents' directory and the contact log: personal data, for the office only.

Every route here needs an office role (admin, coordinator, volunteer: `OfficeUser`); the
CSV export a coordinator or an admin. Nothing of this module is public: no JSON twin, no
OGC collection, no /api route reads rigenera.referents or rigenera.contacts.

Writes are parameterised statements on the write pool, in a transaction with the acting
user set (touch() stamps it). A referent is changed at the version its form was read at:
a stale form is a 409 that re-shows it with what is stored now. The database's CHECKs
(e-mail and phone format, at least one of the two, themes, outcome, follow-up after the
contact) judge the input; their refusals become per-field 422 messages through
rigenera.errors.translate_db_error, so the rules live in one place.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import asyncpg
from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from rigenera.domains import DOMAINS
from rigenera.errors import Conflict, NotFound, translate_db_error
from rigenera.inputs import storable
from rigenera.web.format import ROME
from rigenera.web.queries import comuni_choices, sql
from rigenera.web.render import page
from rigenera.web.routes.publication import act
from rigenera.web.security import (
    CoordinatorUser,
    FormDep,
    OfficeUser,
    form_text,
    resolve_session,
)

router = APIRouter(prefix="/area-riservata/referenti", dependencies=[Depends(resolve_session)],
                   include_in_schema=False)
BASE = "/area-riservata/referenti"
THEMES = DOMAINS[("needs", "category")]
CHANNELS = {"phone": ("Telefono", "Phone"), "email": ("E-mail", "E-mail"),
            "meeting": ("Incontro", "Meeting"), "other": ("Altro", "Other")}
OUTCOMES = {"reached": ("Raggiunto", "Reached"), "no_answer": ("Non risponde", "No answer"),
            "call_back": ("Da richiamare", "Call back"),
            "wrong_contact": ("Contatto errato", "Wrong contact"),
            "declined": ("Non interessato", "Declined")}
LIST_MAX = 500
SHORT_MAX, NOTES_MAX = 200, 4000


def today() -> dt.date:
    """The office's day (Milan), not the database server's."""
    return dt.datetime.now(ROME).date()


@dataclass(frozen=True)
class Filters:
    comune: str | None
    theme: str | None
    organisation: str | None
    q: str | None
    all: bool

    @classmethod
    def of(cls, values: Any) -> Filters:
        def get(name: str) -> str | None:
            value = values.get(name)
            return value.strip() or None if isinstance(value, str) else None

        theme = get("theme")
        return cls(get("comune"), theme if theme in THEMES else None, get("organisation"),
                   get("q"), get("all") == "1")

    def query(self) -> str:
        return urlencode({k: ("1" if v is True else v) for k, v in vars(self).items() if v})


async def _comuni(request: Request) -> list[asyncpg.Record]:
    return await comuni_choices(request.app.state.pools.read)


def _labels() -> dict[str, Any]:
    return {"themes": THEMES, "channels": CHANNELS, "outcomes": OUTCOMES}


@router.get("")
async def referent_list(request: Request, who: OfficeUser) -> Response:
    filters = Filters.of(request.query_params)
    rows = await request.app.state.pools.read.fetch(
        sql("referent_list"), filters.comune, filters.theme, filters.organisation, filters.q,
        not filters.all, LIST_MAX + 1)
    return page(request, "reserved/referent_list.html", {
        "rows": rows[:LIST_MAX], "more": len(rows) > LIST_MAX, "filters": filters,
        "filter_query": filters.query(), "comuni": await _comuni(request), "today": today(),
        **_labels()}, public=False)


@router.get("/export.csv")
async def referent_export(request: Request, who: CoordinatorUser) -> Response:
    """The directory (the list's filters apply) as CSV, UTF-8 with BOM for spreadsheets."""
    filters = Filters.of(request.query_params)
    rows = await request.app.state.pools.read.fetch(
        sql("referent_export"), filters.comune, filters.theme, filters.organisation, filters.q)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    columns = ["id", "full_name", "organisation", "role", "email", "phone", "istat_code",
               "comune", "themes", "active", "notes", "last_contact"]
    writer.writerow(columns)
    for r in rows:
        writer.writerow(["" if r[c] is None else r[c] for c in columns])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="referenti.csv"',
        "Cache-Control": "private, no-store"})


# ------------------------------------------------------------------------------ a referent
@dataclass
class ReferentForm:
    values: dict[str, Any]
    errors: dict[str, str]


def _too_long(errors: dict[str, str], name: str, value: str | None, limit: int) -> None:
    if value is not None and len(value) > limit:
        errors[name] = f"Al massimo {limit} caratteri / at most {limit} characters"


def read_referent(form: FormData) -> ReferentForm:
    """The form's values; what the database does not judge (required name, lengths,
    unstorable text, unknown themes) checked here, per field."""
    names = ("full_name", "organisation", "role", "email", "phone", "istat_code", "notes")
    values: dict[str, Any] = {n: form_text(form, n) for n in names}
    values["themes"] = [t for t in form.getlist("themes") if isinstance(t, str)]
    values["active"] = form.get("active") == "on"
    errors: dict[str, str] = {}
    for name in names:
        if values[name] is not None and not storable(values[name]):
            errors[name] = "Carattere non ammesso / character not allowed"
    if values["full_name"] is None:
        errors["full_name"] = "Obbligatorio / required"
    for name in ("full_name", "organisation", "role", "email", "phone"):
        _too_long(errors, name, values[name], SHORT_MAX)
    _too_long(errors, "notes", values["notes"], NOTES_MAX)
    unknown = [t for t in values["themes"] if t not in THEMES]
    if unknown:
        errors["themes"] = "Tema sconosciuto / unknown theme: " + ", ".join(unknown)
    return ReferentForm(values, errors)


def _db_errors(exc: asyncpg.PostgresError) -> dict[str, str]:
    """A refusal of the database as the form's per-field messages (errors.py's mapping)."""
    err = translate_db_error(exc)
    if int(err.status) >= 500:
        raise err from exc
    out = {}
    for item in err.errors or [{"field": "body"}]:
        out[item["field"]] = err.description
        if "referents_contact_required" in item.get("reason", ""):
            out["phone"] = err.description  # e-mail or phone: say it at both
    return out


def _referent_args(v: dict[str, Any]) -> tuple[Any, ...]:
    return (v["full_name"], v["organisation"], v["role"], v["email"], v["phone"],
            v["istat_code"], v["themes"], v["notes"], v["active"])


@router.get("/nuovo")
async def referent_new(request: Request, who: OfficeUser) -> Response:
    return page(request, "reserved/referent_form.html", {
        "r": None, "values": {"active": True, "themes": []}, "errors": {}, "conflict": False,
        "comuni": await _comuni(request), **_labels()}, public=False)


@router.post("/nuovo")
async def referent_create(request: Request, who: OfficeUser, form: FormDep) -> Response:
    data = read_referent(form)
    if not data.errors:
        try:
            async with request.app.state.pools.write.acquire() as conn, conn.transaction():
                await act(conn, who)
                new_id = await conn.fetchval(sql("referent_insert"), *_referent_args(data.values))
            return RedirectResponse(f"{BASE}/{new_id}?saved=1", status_code=303)
        except asyncpg.PostgresError as exc:
            data.errors.update(_db_errors(exc))
    return page(request, "reserved/referent_form.html", {
        "r": None, "values": data.values, "errors": data.errors, "conflict": False,
        "comuni": await _comuni(request), **_labels()}, status=422, public=False)


async def _referent(request: Request, referent_id: int) -> asyncpg.Record:
    row = await request.app.state.pools.write.fetchrow(sql("referent_one"), referent_id)
    if row is None:
        raise NotFound(f"Referente {referent_id} non trovato / referent not found")
    return row


async def _detail(request: Request, referent_id: int, *, status: int = 200,
                  values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                  contact_values: dict[str, Any] | None = None,
                  contact_errors: dict[str, str] | None = None, conflict: bool = False,
                  message: str | None = None) -> Response:
    r = await _referent(request, referent_id)
    contacts = await request.app.state.pools.write.fetch(sql("referent_contacts"), referent_id)
    stored = {k: r[k] for k in ("full_name", "organisation", "role", "email", "phone",
                                "istat_code", "notes", "active", "themes")}
    who = request.state.web_session.principal
    return page(request, "reserved/referent_detail.html", {
        "r": r, "contacts": contacts, "values": stored if conflict or values is None else values,
        "mine": values if conflict else None, "errors": errors or {}, "conflict": conflict,
        "contact_values": contact_values or {"contacted_on": today(), "contacted_by":
                                             who.username, "channel": "phone"},
        "contact_errors": contact_errors or {}, "comuni": await _comuni(request),
        "today": today(), "message": message, **_labels()}, status=status, public=False)


@router.get("/{referent_id:int}")
async def referent_detail(request: Request, referent_id: int, who: OfficeUser) -> Response:
    saved = request.query_params.get("saved")
    return await _detail(request, referent_id, message=saved)


@router.post("/{referent_id:int}")
async def referent_update(request: Request, referent_id: int, who: OfficeUser,
                          form: FormDep) -> Response:
    await _referent(request, referent_id)  # 404 first
    data = read_referent(form)
    version = form_text(form, "version") or ""
    if not version.isdigit():
        data.errors["version"] = "Versione mancante: ricaricare / missing version: reload"
    if data.errors:
        return await _detail(request, referent_id, status=422, values=data.values,
                             errors=data.errors)
    try:
        async with request.app.state.pools.write.acquire() as conn, conn.transaction():
            await act(conn, who)
            new = await conn.fetchval(sql("referent_update"), referent_id, int(version),
                                      *_referent_args(data.values))
    except asyncpg.PostgresError as exc:
        return await _detail(request, referent_id, status=422, values=data.values,
                             errors=_db_errors(exc))
    if new is None:
        return await _detail(request, referent_id, status=409, values=data.values,
                             conflict=True)
    return RedirectResponse(f"{BASE}/{referent_id}?saved=1", status_code=303)


# ---------------------------------------------------------------------------- contact log
def _date(value: str | None, field: str, errors: dict[str, str]) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors[field] = "Data non valida (AAAA-MM-GG) / invalid date (YYYY-MM-DD)"
        return None


@router.post("/{referent_id:int}/contatti")
async def contact_add(request: Request, referent_id: int, who: OfficeUser,
                      form: FormDep) -> Response:
    """Log a call (or an e-mail, a meeting); who called is the current user by default."""
    await _referent(request, referent_id)
    names = ("contacted_on", "contacted_by", "channel", "outcome", "notes", "follow_up_on")
    values: dict[str, Any] = {n: form_text(form, n) for n in names}
    errors: dict[str, str] = {}
    for name in names:
        if values[name] is not None and not storable(values[name]):
            errors[name] = "Carattere non ammesso / character not allowed"
    contacted_on = _date(values["contacted_on"], "contacted_on", errors) or today()
    follow_up = _date(values["follow_up_on"], "follow_up_on", errors)
    if values["outcome"] is None:
        errors["outcome"] = "Obbligatorio / required"
    _too_long(errors, "contacted_by", values["contacted_by"], SHORT_MAX)
    _too_long(errors, "notes", values["notes"], NOTES_MAX)
    if not errors:
        try:
            async with request.app.state.pools.write.acquire() as conn, conn.transaction():
                await act(conn, who)
                await conn.fetchval(sql("referent_contact_insert"), referent_id, contacted_on,
                                    values["contacted_by"] or who.username,
                                    values["channel"] or "phone", values["outcome"],
                                    values["notes"], follow_up)
            return RedirectResponse(f"{BASE}/{referent_id}?saved=contact#contatti",
                                    status_code=303)
        except asyncpg.PostgresError as exc:
            errors.update(_db_errors(exc))
    return await _detail(request, referent_id, status=422, contact_values=values,
                         contact_errors=errors)


@router.post("/{referent_id:int}/contatti/{contact_id:int}/fatto")
async def follow_up_done(request: Request, referent_id: int, contact_id: int, who: OfficeUser,
                         form: FormDep) -> Response:
    """Mark a follow-up done (at the version shown: done twice or changed meanwhile, 409)."""
    version = form_text(form, "version") or ""
    async with request.app.state.pools.write.acquire() as conn, conn.transaction():
        await act(conn, who)
        new = await conn.fetchval(sql("referent_follow_up_done"), contact_id, referent_id,
                                  int(version) if version.isdigit() else -1)
    if new is None:
        exists = await request.app.state.pools.write.fetchval(
            "SELECT EXISTS (SELECT 1 FROM rigenera.contacts WHERE id = $1 AND referent_id = $2)",
            contact_id, referent_id)
        if not exists:
            raise NotFound(f"Contatto {contact_id} non trovato / contact not found")
        raise Conflict("Richiamo già segnato come fatto o cambiato da altri: ricaricare la "
                       "pagina / follow-up already done or changed by someone else: reload",
                       errors=[{"field": "version", "reason": "stale"}])
    back = form_text(form, "next")
    target = back if back in ("/area-riservata",) else f"{BASE}/{referent_id}?saved=done#contatti"
    return RedirectResponse(target, status_code=303)

