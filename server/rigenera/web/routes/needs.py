"""Needs (bisogni) in the reserved area: municipal technicians enter and update their comuni's
needs and see the funding calls that match them.

* Who sees what: a technician only the needs of their comuni (list, twin, need and comune
  pages: another comune's need is a 403); admins, coordinators and volunteers all of them.
* Writes go through the one editing service (`app.state.editing`): roles (a volunteer is
  refused), a technician's reach, validation by editing/payload.py and PostgreSQL, the
  form's base version (a stale form is a 409 and nothing is overwritten), history.
* The matching calls are the matching service's (rigenera/matching: the same statement and
  reasons as GET /api/needs/{id}/matches), with the near misses and why not.
* Every page has a JSON twin (`?f=json`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import shapely.wkt
from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from rigenera.auth import Principal, Role
from rigenera.editing.payload import parse_feature
from rigenera.editing.service import EditingService, Operation
from rigenera.errors import (
    Forbidden,
    InvalidParameter,
    NotFound,
    PreconditionFailed,
    RigeneraError,
    ValidationFailed,
)
from rigenera.matching import service as matching
from rigenera.web.minimap import MapShape, minimap_svg
from rigenera.web.needs_form import FormField, Posted, field_errors, form_fields, read_form
from rigenera.web.needs_form import reason_text as _reason_text
from rigenera.web.queries import comuni_choices, sql
from rigenera.web.render import page, twin, wants_json
from rigenera.web.security import FormDep, WebUser, form_text, resolve_session

router = APIRouter(prefix="/area-riservata", dependencies=[Depends(resolve_session)],
                   include_in_schema=False)
BASE = "/area-riservata/bisogni"
COLLECTION = "needs"
READERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.TECHNICIAN, Role.VOLUNTEER})
WRITERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.TECHNICIAN})
LIST_LIMIT = 500


# ------------------------------------------------------------------------------ who
def _reader(who: Principal) -> Principal:
    if who.role not in READERS:
        raise Forbidden(f"Il ruolo '{who.role}' non consente questa pagina / role "
                        f"'{who.role}' may not use this page")
    return who


def _writer(who: Principal) -> Principal:
    if who.role not in WRITERS:
        raise Forbidden("I volontari consultano i bisogni ma non li modificano / volunteers "
                        "read needs but do not edit them",
                        errors=[{"field": "role", "reason": "admin, coordinator or technician"}])
    return who


def _scope(who: Principal) -> list[str] | None:
    """The comuni whose needs the caller sees: a technician's own; None is all of them."""
    return sorted(who.comuni) if who.role == Role.TECHNICIAN else None


def _check_comune(who: Principal, istat_code: str) -> None:
    scope = _scope(who)
    if scope is not None and istat_code not in scope:
        mine = ", ".join(scope) or "nessuno / none"
        raise Forbidden(f"Il comune {istat_code} non è tra i tuoi ({mine}) / comune "
                        f"{istat_code} is not one of yours",
                        errors=[{"field": "istat_code", "reason": "not one of your comuni"}])


def _may_write(who: Principal) -> bool:
    return who.role in WRITERS


def _as_date(value: Any) -> Any:
    """The matching documents carry dates as ISO text; the templates' day() wants dates."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _page(request: Request, template: str, ctx: dict[str, Any], status: int = 200) -> Response:
    return page(request, template, {**ctx, "as_date": _as_date}, status=status, public=False)


# ------------------------------------------------------------------------------ reads
def _pool(request: Request) -> Any:
    return request.app.state.pools.read


def _need_id(value: str) -> int:
    try:
        return matching.parse_id("id", value)
    except matching.BadInput:
        raise NotFound(f"Bisogno {value[:40]} inesistente / no such need") from None


async def _need(request: Request, who: Principal, need_id: int) -> dict[str, Any]:
    row = await _pool(request).fetchrow(sql("need_one"), need_id)
    if row is None:
        raise NotFound(f"Bisogno {need_id} inesistente / no need {need_id}",
                       errors=[{"field": "id", "reason": "unknown need"}])
    _check_comune(who, row["istat_code"])
    return dict(row)


async def _comuni(request: Request, who: Principal) -> list[tuple[str, str]]:
    rows = await comuni_choices(_pool(request), _scope(who))
    return [(r["istat_code"], r["name"]) for r in rows]


async def _match_counts(request: Request, codes: set[str]) -> dict[int, dict[str, Any]]:
    """Per open need of these comuni: how many calls fit and the best one (the matching
    service's statement, one run for all the comuni)."""
    day = matching.today()
    out: dict[int, dict[str, Any]] = {}
    if codes:
        rows = await _pool(request).fetch(matching.SQL,
                                          *matching.sql_args(None, codes, day, False))
        for entry in matching.need_entries(rows, day, False):
            best = entry["matches"][0]["call"] if entry["matches"] else None
            out[entry["need"]["id"]] = {"matches": len(entry["matches"]),
                                        "best": {"id": best["id"], "title": best["title"]}
                                        if best else None}
    return out


def _choice(request: Request, name: str, allowed: list[str] | None = None) -> str | None:
    value = request.query_params.get(name) or None
    if value is not None and allowed is not None and value not in allowed:
        raise InvalidParameter(f"{name}: valore non ammesso {value[:40]} / value not allowed",
                               errors=[{"field": name, "reason": "one of " + ", ".join(allowed)}])
    return value


def _enum(request: Request, name: str) -> list[dict[str, str]]:
    for f in request.app.state.models[COLLECTION]["fields"]:
        if f["name"] == name:
            return list(f.get("enum", []))
    return []


def _codes(request: Request, name: str) -> list[str]:
    return [e["code"] for e in _enum(request, name)]


@router.get("/bisogni")
async def needs_list(request: Request, who: WebUser) -> Response:
    """Needs the caller may see, filtered by comune, status and category."""
    _reader(who)
    comuni = await _comuni(request, who)
    comune = _choice(request, "comune")
    if comune is not None:
        if not matching.ISTAT_CODE.match(comune):
            raise InvalidParameter("comune: codice ISTAT non valido / invalid ISTAT code",
                                   errors=[{"field": "comune", "reason": "6 digits"}])
        _check_comune(who, comune)
    status = _choice(request, "stato", _codes(request, "status"))
    category = _choice(request, "categoria", _codes(request, "category"))
    rows = await _pool(request).fetch(sql("need_list"), _scope(who), comune, status, category,
                                      LIST_LIMIT + 1)
    needs = [dict(r) for r in rows[:LIST_LIMIT]]
    counts = await _match_counts(request, {n["istat_code"] for n in needs
                                           if n["status"] == "open"})
    for n in needs:
        n["matching"] = counts.get(n["id"])
    data = {
        "filters": {"comune": comune, "stato": status, "categoria": category},
        "scope": _scope(who),
        "truncated": len(rows) > LIST_LIMIT,
        "needs": needs,
    }
    if wants_json(request):
        return twin(request, data, public=False)
    return _page(request, "reserved/needs/list.html", {
        **data, "comuni": comuni, "statuses": _enum(request, "status"),
        "categories": _enum(request, "category"), "may_write": _may_write(who),
        "labels": _labels(request)})


def _labels(request: Request) -> dict[str, dict[str, dict[str, str]]]:
    """Enumeration labels of the model, by field and code: {field: {code: {it, en}}}."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for f in request.app.state.models[COLLECTION]["fields"]:
        if "enum" in f:
            out[f["name"]] = {e["code"]: {"it": e["it"], "en": e["en"]} for e in f["enum"]}
    return out


def _minimap(need: dict[str, Any], title: str) -> Any:
    shapes = []
    if need.get("comune_wkt"):
        # the comune sets the extent (a lone point would be shown with 300 m around it)
        shapes.append(MapShape(shapely.wkt.loads(need["comune_wkt"]), "comune", need["comune"]))
    if need.get("geom_wkt"):
        shapes.append(MapShape(shapely.wkt.loads(need["geom_wkt"]), "need", need["title"]))
    return minimap_svg(shapes, title) if len(shapes) > 1 else ""


@router.get("/bisogni/comune/{istat_code}")
async def comune_needs(request: Request, who: WebUser, istat_code: str) -> Response:
    """A comune's open needs with their calls (the matching service's comune document),
    and its needs already matched or closed."""
    _reader(who)
    try:
        code = matching.parse_istat_code("istat_code", istat_code)
    except matching.BadInput:
        raise NotFound(f"Comune {istat_code[:40]} inesistente / no such comune") from None
    _check_comune(who, code)
    name = await _pool(request).fetchval(matching.COMUNE_SQL, code)
    if name is None:
        raise NotFound(f"Comune {code} inesistente / no comune {code}")
    day = matching.today()
    rows = await _pool(request).fetch(matching.SQL, *matching.sql_args(None, code, day, True))
    doc = matching.comune_document(rows, code, name, day, True)
    others = [dict(r) for r in await _pool(request).fetch(sql("need_list"), None, code, None,
                                                           None, LIST_LIMIT)
              if r["status"] != "open"]
    data = {**doc, "other_needs": others}
    if wants_json(request):
        return twin(request, data, public=False)
    return _page(request, "reserved/needs/comune.html", {
        **data, "may_write": _may_write(who), "labels": _labels(request)})


# ------------------------------------------------------------------------------ forms
async def _form_page(request: Request, who: Principal, *, need: dict[str, Any] | None,
                     values: dict[str, str], errors: dict[str, str], version: int | None,
                     status: int = 200, message: str | None = None) -> Response:
    comuni = await _comuni(request, who)
    fields = form_fields(request.app.state.models[COLLECTION], comuni)
    return _page(request, "reserved/needs/form.html", {
        "need": need, "fields": fields, "values": values, "base_version": version,
        "field_labels": {f.name: (f.label_it, f.label_en) for f in fields},
        "errors": errors, "message": message, "reason_text": _reason_text,
        "geometry_type": need["geometry_type"] if need else None,
    }, status=status)


def _values_of(need: dict[str, Any], fields: list[FormField]) -> dict[str, str]:
    out: dict[str, str] = {}
    for ff in fields:
        v = need.get(ff.name)
        if v is None:
            out[ff.name] = ""
        elif ff.widget == "amount":
            out[ff.name] = f"{v:.2f}"
        else:
            out[ff.name] = v.isoformat() if hasattr(v, "isoformat") else str(v)
    for axis in ("longitude", "latitude"):
        out[axis] = f"{need[axis]:.6f}" if need.get(axis) is not None else ""
    return out


@router.get("/bisogni/nuovo")
async def new_form(request: Request, who: WebUser) -> Response:
    _writer(who)
    comuni = await _comuni(request, who)
    values = {"priority": "3", "status": "open", "applicant": "comune"}
    asked = request.query_params.get("comune")  # from a comune's page
    if asked in {code for code, _ in comuni}:
        values["istat_code"] = str(asked)
    elif len(comuni) == 1:
        values["istat_code"] = comuni[0][0]
    return await _form_page(request, who, need=None, values=values, errors={}, version=None)


async def _write(request: Request, who: Principal, posted: Posted, *, need_id: int | None,
                 base_version: int | None) -> tuple[int | None, dict[str, str], int, str | None]:
    """Apply the form through the editing service: (id, errors by field, status, message)."""
    editing: EditingService = request.app.state.editing
    coll = editing.collection(COLLECTION)
    errors = dict(posted.errors)
    try:
        feature = parse_feature(posted.doc, coll, partial=False)
    except InvalidParameter as exc:
        errors.update(field_errors(exc.errors))
    if errors:
        return None, errors, 422, None
    if need_id is None:
        op = Operation("create", COLLECTION, None, None, feature)
    else:
        op = Operation("patch", COLLECTION, str(need_id), base_version, feature)
    try:
        (out,) = await editing.apply(who, [op])
    except PreconditionFailed as exc:
        current = (exc.body or {}).get("currentVersion")
        return None, {}, 409, (
            f"Il bisogno è stato modificato da altri (versione attuale {current}, il modulo era "
            f"alla {base_version}): nulla è stato sovrascritto. Ricaricare il modulo per vedere "
            f"le modifiche. / The need was changed by someone else (now version {current}, the "
            f"form had {base_version}): nothing was overwritten; reload the form.")
    except (Forbidden, ValidationFailed, InvalidParameter) as exc:
        found = field_errors(exc.errors) or {"body": exc.description}
        return None, found, int(exc.status) if isinstance(exc, Forbidden) else 422, \
            exc.description
    except RigeneraError as exc:
        if exc.status >= 500 or not exc.errors:
            raise
        return None, field_errors(exc.errors), int(exc.status), exc.description
    return int(out.id), {}, 200, None


@router.post("/bisogni/nuovo")
async def create(request: Request, who: WebUser, form: FormDep) -> Response:
    _writer(who)
    fields = form_fields(request.app.state.models[COLLECTION], await _comuni(request, who))
    posted = read_form(form, fields, creating=True)
    new_id, errors, status, message = await _write(request, who, posted, need_id=None,
                                                   base_version=None)
    if new_id is None:
        return await _form_page(request, who, need=None, values=posted.values, errors=errors,
                                version=None, status=status, message=message)
    return RedirectResponse(f"{BASE}/{new_id}?esito=creato", status_code=303)


@router.get("/bisogni/{id}/modifica")
async def edit_form(request: Request, who: WebUser, id: str) -> Response:
    _writer(who)
    need = await _need(request, who, _need_id(id))
    fields = form_fields(request.app.state.models[COLLECTION], await _comuni(request, who))
    return await _form_page(request, who, need=need, values=_values_of(need, fields), errors={},
                            version=need["version"])


def _form_version(form: Any) -> int | None:
    text = form_text(form, "version")
    if text is None or not text.isdigit():
        raise InvalidParameter("version: il modulo non porta la versione / the form carries no "
                               "version", errors=[{"field": "version", "reason": "required"}])
    return int(text)


@router.post("/bisogni/{id}/modifica")
async def update(request: Request, who: WebUser, id: str, form: FormDep) -> Response:
    _writer(who)
    need = await _need(request, who, _need_id(id))
    version = _form_version(form)
    fields = form_fields(request.app.state.models[COLLECTION], await _comuni(request, who))
    posted = read_form(form, fields, creating=False, stored_kind=need["geometry_type"])
    done, errors, status, message = await _write(request, who, posted, need_id=need["id"],
                                                 base_version=version)
    if done is None:
        return await _form_page(request, who, need=need, values=posted.values, errors=errors,
                                version=version, status=status, message=message)
    return RedirectResponse(f"{BASE}/{need['id']}?esito=salvato", status_code=303)


@router.post("/bisogni/{id}/stato")
async def set_status(request: Request, who: WebUser, id: str, form: FormDep) -> Response:
    """Close or reopen a need (its status), with the page's version."""
    _writer(who)
    need = await _need(request, who, _need_id(id))
    version = _form_version(form)
    editing: EditingService = request.app.state.editing
    doc = {"properties": {"status": form_text(form, "status")}}
    try:
        feature = parse_feature(doc, editing.collection(COLLECTION), partial=True)
        await editing.apply(who, [Operation("patch", COLLECTION, str(need["id"]), version,
                                            feature)])
    except PreconditionFailed:
        return await _need_page(request, who, need["id"], status=409, message=(
            "Il bisogno è stato modificato da altri nel frattempo: nulla è cambiato, ecco la "
            "versione attuale. / The need was changed by someone else meanwhile: nothing "
            "changed, here is the current version."))
    except (InvalidParameter, ValidationFailed) as exc:
        raise ValidationFailed(exc.description, errors=exc.errors) from None
    return RedirectResponse(f"{BASE}/{need['id']}?esito=stato", status_code=303)


# ------------------------------------------------------------------------------ one need
async def _need_page(request: Request, who: Principal, need_id: int, *, status: int = 200,
                     message: str | None = None) -> Response:
    need = await _need(request, who, need_id)
    day = matching.today()
    rows = await _pool(request).fetch(matching.SQL, *matching.sql_args(need_id, None, day, True))
    doc = matching.need_document(rows, need_id, day, True)
    editing: EditingService = request.app.state.editing
    history = [{k: h[k] for k in ("version", "operation", "actor", "at")}
               for h in await editing.history(COLLECTION, str(need_id))]
    public_need = {k: v for k, v in need.items() if k not in ("geom_wkt", "comune_wkt")}
    data = {"need": public_need, "matches": doc["matches"], "near_misses": doc["near_misses"],
            "as_of": doc["as_of"], "ranking": doc["ranking"], "history": history}
    if wants_json(request):
        return twin(request, data, public=False)
    return _page(request, "reserved/needs/need.html", {
        **data, "may_write": _may_write(who), "labels": _labels(request),
        "outcome": request.query_params.get("esito"), "message": message,
        "minimap": _minimap(need, need["title"])}, status=status)


@router.get("/bisogni/{id}")
async def need_page(request: Request, who: WebUser, id: str) -> Response:
    """One need: its details, the calls that fit it (ranked, with reasons), the near
    misses with why not, and its history."""
    _reader(who)
    return await _need_page(request, who, _need_id(id))


# ------------------------------------------------------------------------------ calls
@router.get("/bandi")
async def calls_list(request: Request, who: WebUser) -> Response:
    """The funding calls open today or opening later (read-only: the office writes them)."""
    _reader(who)
    calls = [dict(r) for r in await _pool(request).fetch(sql("need_calls"), matching.today())]
    data = {"as_of": matching.today().isoformat(), "calls": calls}
    if wants_json(request):
        return twin(request, data, public=False)
    labels = {
        "themes": {c: matching.label("needs", "category", c) for c in _codes(request, "category")},
        "beneficiaries": {c: matching.label("needs", "applicant", c)
                          for c in _codes(request, "applicant")},
    }
    return _page(request, "reserved/needs/calls.html", {**data, "labels": labels})
