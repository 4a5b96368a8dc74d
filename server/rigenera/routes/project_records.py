"""A project's records over HTTP: progress reports, milestones and targets, tenders (CIG).

    GET    /api/projects/{pid}/{kind}          the project's records (public)
    POST   /api/projects/{pid}/{kind}          a new record            -> 201, Location, ETag
    GET    /api/projects/{pid}/{kind}/{rid}    one record, with its ETag (the version)
    PUT    /api/projects/{pid}/{kind}/{rid}    replace (If-Match)      -> 200, ETag
    PATCH  /api/projects/{pid}/{kind}/{rid}    merge-patch (If-Match)  -> 200, ETag
    DELETE /api/projects/{pid}/{kind}/{rid}    (If-Match)              -> 204

`kind` is `progress`, `milestones` or `tenders`. Every write goes through the one editing
service (editing/service.py): same roles (a technician writes the records of projects in
their comuni: rigenera.project_reach_problems, migration 0016), same checks (the database's
named constraints, answered naming the field), same history, revert and version rules as
Part 4 (editing/http.py's If-Match: a stale version is 412 with the current one). The same
records are written in changesets as collections `progress_reports`, `milestones`,
`tenders`. Bodies are plain JSON objects of the record's fields; the project is the URL's.
Milestones are answered with `late` and `days_late` (rigenera.milestone_days_late).
"""

from __future__ import annotations

import json
from importlib import resources
from string import Template
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from rigenera.auth import Principal, Role
from rigenera.dependencies import CallerDep, CurrentUser, EditingDep
from rigenera.editing.http import if_match
from rigenera.editing.payload import PATCH_TYPES, media_type, parse_feature, parse_json, problem
from rigenera.editing.service import ChangesetFailed, EditingService, Operation, Outcome, parse_id
from rigenera.errors import InvalidParameter, NotFound
from rigenera.routes import docs

router = APIRouter(prefix="/api/projects", tags=["project records"])
# URL segment -> (collection, order of a listing, extra JSON of each record).
_LATE = ("rigenera.milestone_days_late(t.planned_date, t.actual_date)")
KINDS: dict[str, tuple[str, str, str]] = {
    "progress": ("progress_reports", "t.reference_date DESC", ""),
    "milestones": ("milestones", "t.planned_date",
                   f"|| jsonb_build_object('late', {_LATE} > 0, 'days_late', {_LATE})"),
    "tenders": ("tenders", "t.award_date DESC NULLS FIRST", ""),
}
_TEMPLATE = Template(resources.files("rigenera.sql").joinpath("project_records.sql").read_text())
_SQL = {kind: _TEMPLATE.substitute(table=table, order=order, extra=extra)
        for kind, (table, order, extra) in KINDS.items()}
JSON_TYPES = {"application/json"}
_OBJECT = {"application/json": {"schema": {"type": "object"}}}
_RECORD: dict[int | str, dict[str, Any]] = {200: {
    "description": "Il record / the record (its fields, `id`, `version`)", "content": _OBJECT}}
_LIST: dict[int | str, dict[str, Any]] = {200: {
    "description": "I record del progetto / the project's records", "content": _OBJECT}}


def _body(description: str, media: set[str]) -> dict[str, Any]:
    schema = {"type": "object", "description": description}
    return {"security": docs.SECURITY, "requestBody": {"required": True, "content": {
        m: {"schema": schema} for m in sorted(media)}}}


def record_kind(request: Request) -> str:
    """The records a route serves: the literal segment of its path (one route per kind, not a
    `{kind}` parameter, so other rooms' /api/projects/{pid}/<word> routes stay theirs)."""
    route = request.scope["route"]
    kind: str = route.path.split("/")[4]  # /api/projects/{pid}/<kind>[/{rid}]
    return kind


KindDep = Annotated[str, Depends(record_kind)]


def _id(value: str, field: str) -> int:
    fid = parse_id(value)
    if fid is None:
        raise NotFound(f"{field} {value[:40]}: inesistente / not found",
                       errors=[problem(field, "not found")])
    return fid


async def _records(editing: EditingService, kind: str, pid: int,
                   rid: int | None) -> list[dict[str, Any]]:
    assert editing.pool is not None
    async with editing.pool.acquire() as conn:
        if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM rigenera.projects WHERE id = $1)",
                                   pid):
            raise NotFound(f"progetto {pid} inesistente / no project {pid}",
                           errors=[problem("project_id", "no such project")])
        rows = await conn.fetch(_SQL[kind], pid, rid)
    # The pools decode jsonb already (database.py); text when a connection has no codec.
    return [r["record"] if isinstance(r["record"], dict) else json.loads(r["record"])
            for r in rows]


async def _one(editing: EditingService, kind: str, pid: int, rid: int) -> dict[str, Any]:
    rows = await _records(editing, kind, pid, rid)
    if not rows:
        raise NotFound(f"{kind}/{rid}: inesistente nel progetto {pid} / not found in project {pid}")
    return rows[0]


def _answer(record: dict[str, Any], status: int = 200, **headers: str) -> JSONResponse:
    return JSONResponse(record, status_code=status,
                        headers={"ETag": f'"{record["version"]}"', "Cache-Control": "no-cache",
                                 **headers})


async def _write(editing: EditingService, who: Principal, op: Operation) -> Outcome:
    try:
        (out,) = await editing.apply(who, [op])
    except ChangesetFailed as exc:  # a single operation never gets here, but be exact
        raise InvalidParameter("Operazione rifiutata", errors=exc.problems) from exc
    return out


def _operation(request: Request, body: bytes, kind: str, pid: int, action: str,
               rid: int | None, editing: EditingService) -> Operation:
    """A plain JSON object of fields -> the editing service's operation (project: the URL's)."""
    collection = KINDS[kind][0]
    doc = parse_json(body)
    if not isinstance(doc, dict):
        raise InvalidParameter("Il corpo deve essere un oggetto JSON / body must be a JSON object",
                               errors=[problem("body", "not an object")])
    props = dict(doc)
    given = props.get("project_id", pid)
    if action != "patch" and given != pid:
        raise InvalidParameter("project_id: diverso da quello dell'URL / differs from the URL",
                               errors=[problem("project_id", "differs from the project in the URL")])
    if action != "patch":
        props["project_id"] = pid
    props.pop("late", None)  # computed, echoed back by clients
    props.pop("days_late", None)
    feature = parse_feature({"type": "Feature", "properties": props}, editing.collection(collection),
                            partial=action == "patch", url_id=None if rid is None else str(rid))
    return Operation(action, collection, None if rid is None else str(rid),
                     if_match(request) if rid is not None else None, feature)


async def list_records(pid: str, kind: KindDep, who: CallerDep,
                       editing: EditingDep) -> JSONResponse:
    """Public: a project's progress reports (latest first), milestones (by planned date, with
    `late` and `days_late`) or tenders."""
    project = _id(pid, "project_id")
    records = await _records(editing, kind, project, None)
    return JSONResponse({"project_id": project, "kind": kind, "records": records},
                        headers={"Cache-Control": "no-cache"})


async def create_record(pid: str, kind: KindDep, request: Request, who: CurrentUser,
                        editing: EditingDep) -> JSONResponse:
    """A new record of the project (admin, coordinator, or a technician of its comuni)."""
    who.require(Role.ADMIN, Role.COORDINATOR, Role.TECHNICIAN)
    project = _id(pid, "project_id")
    await _records(editing, kind, project, 0)  # no record 0: only the 404 of a missing project
    media_type(request.headers.get("content-type"), JSON_TYPES)
    op = _operation(request, await request.body(), kind, project, "create", None, editing)
    out = await _write(editing, who, op)
    record = await _one(editing, kind, project, int(out.id))
    location = f"{str(request.url).split('?')[0].rstrip('/')}/{out.id}"
    return _answer(record, 201, Location=location)


async def get_record(pid: str, kind: KindDep, rid: str, who: CallerDep,
                     editing: EditingDep) -> JSONResponse:
    """Public: one record, its version as the ETag (send it back in If-Match)."""
    return _answer(await _one(editing, kind, _id(pid, "project_id"), _id(rid, "id")))


async def _update(pid: str, kind: str, rid: str, request: Request, who: Principal,
                  editing: EditingService, action: str) -> JSONResponse:
    who.require(Role.ADMIN, Role.COORDINATOR, Role.TECHNICIAN)
    project, record_id = _id(pid, "project_id"), _id(rid, "id")
    await _one(editing, kind, project, record_id)  # 404 unless it is this project's
    media_type(request.headers.get("content-type"),
               PATCH_TYPES if action == "patch" else JSON_TYPES)
    op = _operation(request, await request.body(), kind, project, action, record_id, editing)
    await _write(editing, who, op)
    after = await _records(editing, kind, project, record_id)
    if not after:  # a patch moved it to another project
        return JSONResponse({"id": record_id, "moved": True}, headers={"Cache-Control": "no-cache"})
    return _answer(after[0])


_WRITE_ERRORS = docs.errors(400, 401, 403, 404, 409, 412, 413, 415, 422, 429)


async def replace_record(pid: str, kind: KindDep, rid: str, request: Request, who: CurrentUser,
                         editing: EditingDep) -> JSONResponse:
    """Replace a record; If-Match with its ETag, else a stale write is not detected."""
    return await _update(pid, kind, rid, request, who, editing, "replace")


async def patch_record(pid: str, kind: KindDep, rid: str, request: Request, who: CurrentUser,
                       editing: EditingDep) -> JSONResponse:
    """Change some fields of a record (`null` empties one)."""
    return await _update(pid, kind, rid, request, who, editing, "patch")


async def delete_record(pid: str, kind: KindDep, rid: str, request: Request, who: CurrentUser,
                        editing: EditingDep) -> Response:
    """Delete a record (its last state stays in its history)."""
    who.require(Role.ADMIN, Role.COORDINATOR, Role.TECHNICIAN)
    project, record_id = _id(pid, "project_id"), _id(rid, "id")
    await _one(editing, kind, project, record_id)
    await _write(editing, who, Operation("delete", KINDS[kind][0], str(record_id),
                                         if_match(request)))
    return Response(status_code=204)


# Each handler once per kind, on literal paths (see record_kind).
_CREATED = {201: _RECORD[200], **docs.errors(400, 401, 403, 404, 409, 413, 415, 422, 429)}
_DELETED: dict[int | str, dict[str, Any]] = {
    204: {"description": "Eliminato / deleted"}, **docs.errors(400, 401, 403, 404, 409, 412, 429)}
_ROUTES: tuple[tuple[str, str, Any, dict[str, Any]], ...] = (
    ("GET", "", list_records, {"responses": {**_LIST, **docs.errors(404)}}),
    ("POST", "", create_record, {
        "status_code": 201, "responses": _CREATED,
        "openapi_extra": _body("The record's fields (project_id: the URL's)", JSON_TYPES)}),
    ("GET", "/{rid}", get_record, {"responses": {**_RECORD, **docs.errors(404)}}),
    ("PUT", "/{rid}", replace_record, {
        "responses": {**_RECORD, **_WRITE_ERRORS},
        "openapi_extra": _body("Every field of the record (omitted ones are reset)", JSON_TYPES)}),
    ("PATCH", "/{rid}", patch_record, {
        "responses": {**_RECORD, **_WRITE_ERRORS},
        "openapi_extra": _body("JSON merge patch (RFC 7396) of the record", PATCH_TYPES)}),
    ("DELETE", "/{rid}", delete_record, {
        "status_code": 204, "responses": _DELETED, "openapi_extra": docs.AUTHENTICATED}),
)
for _kind in KINDS:
    for _method, _item, _handler, _options in _ROUTES:
        router.add_api_route(f"/{{pid}}/{_kind}{_item}", _handler, methods=[_method],
                             name=f"{_handler.__name__}_{_kind}", response_model=None,
                             **_options)
