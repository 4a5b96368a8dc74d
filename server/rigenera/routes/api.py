"""Our own API next to /ogc: who am I, collection models, the change feed, atomic changesets,
feature history, revert."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from rigenera import metrics
from rigenera.auth import Role
from rigenera.catalogue import BY_ID
from rigenera.dependencies import CurrentUser, EditingDep, ModelsDep
from rigenera.editing.changes import change_feed, parse_params
from rigenera.editing.payload import (
    MAX_TEXT,
    content_crs,
    media_type,
    parse_feature,
    parse_json,
    problem,
)
from rigenera.editing.service import ChangesetFailed, Operation
from rigenera.errors import InvalidParameter, NotFound, exception_document
from rigenera.inputs import check_text, optional_text
from rigenera.routes import docs

router = APIRouter(prefix="/api", tags=["editing"])
ACTIONS = {"create", "replace", "patch", "delete"}
MAX_OPERATIONS = 10_000


@router.get("/me", response_model=None, responses={200: {"model": docs.Me}, **docs.errors(401, 429)},
            openapi_extra=docs.AUTHENTICATED)
async def me(who: CurrentUser) -> dict[str, Any]:
    """The caller's account, role and comuni (the QGIS plugin's connection test)."""
    return {"username": who.username, "role": str(who.role), "comuni": sorted(who.comuni)}


@router.get("/collections/{cid}/model", response_model=None,
            responses={200: {"model": docs.CollectionModel}, **docs.errors(404)})
async def model(cid: str, models: ModelsDep) -> dict[str, Any]:
    """Public: a collection's fields with labels, types, enumerations and the server's rules,
    so clients build forms (QGIS plugin) and aliases (styles) that match what is accepted."""
    found = models.get(cid)
    if found is None:
        raise NotFound(f"Collezione '{cid}' sconosciuta / unknown collection")
    return found


@router.get("/changes", response_model=None,
            responses={200: {"model": docs.ChangeFeed}, **docs.errors(400, 401, 404, 429)},
            openapi_extra=docs.AUTHENTICATED)
async def changes(who: CurrentUser, editing: EditingDep, collection: str | None = None,
                  after: str | None = None, limit: str | None = None) -> dict[str, Any]:
    """What changed in a collection after the cursor `after` (deletions included), so a
    client that checked features out can refresh them. Only ids, operations, versions and
    times: who changed what, and why, stays private (see /collections/{cid}/items/{fid}/history).
    Never waits for writers: changes appear once every older write transaction has ended.
    """
    if not collection:
        raise InvalidParameter("collection: obbligatorio / required",
                               errors=[problem("collection", "required")])
    if collection not in BY_ID:
        raise NotFound(f"Collezione '{collection}' sconosciuta / unknown collection")
    cursor, page = parse_params(after, limit)
    if collection not in editing.collections:  # published but never edited (comuni)
        return {"collection": collection, "changes": [], "last": str(cursor),
                "latest": str(cursor)}
    assert editing.pool is not None
    return await change_feed(editing.pool, collection, cursor, page)


def _operations(doc: Any, editing: Any) -> list[Operation]:
    if not isinstance(doc, dict) or not isinstance(doc.get("operations"), list):
        raise InvalidParameter("Atteso {\"operations\": [...]} / expected an operations list",
                               errors=[problem("operations", "required list")])
    items = doc["operations"]
    if not items or len(items) > MAX_OPERATIONS:
        raise InvalidParameter(f"Da 1 a {MAX_OPERATIONS} operazioni / 1 to {MAX_OPERATIONS} "
                               "operations", errors=[problem("operations", "size")])
    crs = content_crs(doc.get("crs"))
    ops, errors = [], []
    for i, item in enumerate(items):
        try:
            action = item.get("action") if isinstance(item, dict) else None
            if not isinstance(action, str) or action not in ACTIONS:
                raise InvalidParameter("action must be one of " + ", ".join(sorted(ACTIONS)),
                                       errors=[problem("action", "create|replace|patch|delete")])
            cid = item.get("collection")
            if not isinstance(cid, str):
                raise InvalidParameter("collection required", errors=[problem("collection",
                                                                              "required string")])
            coll = editing.collection(check_text("collection", cid))
            raw_id = item.get("id")
            fid = None
            if action != "create":
                if isinstance(raw_id, bool) or not isinstance(raw_id, str | int) or raw_id == "":
                    raise InvalidParameter("id required", errors=[problem("id", "required")])
                fid = check_text("id", str(raw_id))
            base = item.get("base_version")
            if action != "create" and (isinstance(base, bool) or not isinstance(base, int)):
                raise InvalidParameter("base_version required (an integer)",
                                       errors=[problem("base_version", "required integer")])
            feature = None
            if action != "delete":
                feature = parse_feature(item.get("feature"), coll, partial=action == "patch",
                                        url_id=fid)
            ops.append(Operation(action, cid, fid, base, feature, crs, ref=item.get("ref", i)))
        except (InvalidParameter, NotFound) as exc:
            errors.append({"index": i, "ref": item.get("ref", i) if isinstance(item, dict) else i,
                           "status": int(exc.status), "code": exc.code,
                           "description": exc.description, "errors": exc.errors})
    if errors:
        raise ChangesetFailed(errors)
    return ops


@router.post("/changesets", response_model=None,
             responses={200: {"model": docs.ChangesetApplied},
                        **docs.errors(400, 401, 403, 409, 413, 415, 422, 429)},
             openapi_extra=docs.body(docs.ChangesetRequest))
async def changeset(request: Request, who: CurrentUser, editing: EditingDep) -> JSONResponse:
    """Many creates, updates and deletes across collections: all applied, or none.

    Body: {"operations": [{"action": "patch", "collection": "sites", "id": "12",
    "base_version": 3, "feature": {...}, "ref": "my-local-id"}, ...], "crs": "EPSG:32632",
    "comment": "..."}. Answer 200 with the new ids and versions, or 409/422 listing every
    operation that failed (conflicts with the current version) and why; nothing is written then.
    """
    who.require(Role.ADMIN, Role.COORDINATOR, Role.TECHNICIAN)
    media_type(request.headers.get("content-type"), {"application/json"})
    doc = parse_json(await request.body())  # size bounded while read (limits.py)
    try:
        ops = _operations(doc, editing)
        comment = optional_text(doc, "comment", MAX_TEXT)
        outcomes = await editing.apply(who, ops, comment=comment, changeset=True)
    except ChangesetFailed as exc:
        statuses = {p.get("status") for p in exc.problems}
        code = "ChangesetRejected"
        if statuses == {403}:
            status, code = 403, "Forbidden"  # only refusals of rights: say so
        elif 412 in statuses:
            status = 409
            metrics.CONFLICTS.labels("changeset").inc()
        else:
            status = 422
        return exception_document(
            status, code,
            f"{len(exc.problems)} operazioni rifiutate: nulla è stato scritto / "
            f"{len(exc.problems)} operations refused: nothing was written",
            extra={"problems": exc.problems})
    return JSONResponse({"applied": [
        {"ref": o.ref, "collection": o.collection, "id": o.id, "version": o.version,
         "action": o.action} for o in outcomes]})


@router.get("/collections/{cid}/items/{fid}/history", response_model=None,
            responses={200: {"model": docs.History}, **docs.errors(401, 404, 429)},
            openapi_extra=docs.AUTHENTICATED)
async def history(cid: str, fid: str, who: CurrentUser, editing: EditingDep) -> dict[str, Any]:
    """Every change of a feature: who, when, what, before and after."""
    rows = await editing.history(cid, fid)
    if not rows:
        raise NotFound(f"Nessuna storia per {cid}/{fid} / no history")
    return {"collection": cid, "id": fid, "changes": [
        {**r, "at": r["at"].isoformat(), "changeset": str(r["changeset"]) if r["changeset"]
         else None} for r in rows]}


@router.post("/collections/{cid}/items/{fid}/revert", response_model=None,
             responses={200: {"model": docs.Reverted},
                        **docs.errors(400, 401, 403, 404, 409, 412, 413, 422, 429)},
             openapi_extra=docs.body(docs.RevertRequest))
async def revert(cid: str, fid: str, request: Request, who: CurrentUser,
                 editing: EditingDep) -> dict[str, Any]:
    """Bring a feature back to an earlier version: a new write, itself in history.

    Body: {"version": 3, "base_version": 7}; base_version (the current version the caller
    saw) is optional, as If-Match is on PUT.
    """
    who.require(Role.ADMIN, Role.COORDINATOR, Role.TECHNICIAN)
    doc = parse_json(await request.body())
    target = doc.get("version") if isinstance(doc, dict) else None
    if isinstance(target, bool) or not isinstance(target, int):
        raise InvalidParameter("version: intero richiesto / integer required",
                               errors=[problem("version", "required integer")])
    rows = [r for r in await editing.history(cid, fid, decimals=15)
            if r["version"] == target and r["after"]]
    if not rows:
        raise NotFound(f"{cid}/{fid}: versione {target} non trovata / version not found")
    snapshot = rows[-1]["after"]
    coll = editing.collection(cid)
    props = {k: v for k, v in snapshot.items() if k in coll.fields}
    feature = parse_feature({"type": "Feature", "properties": props,
                             "geometry": snapshot.get("geom")}, coll, partial=False, url_id=fid)
    base = doc.get("base_version")
    if base is not None and (isinstance(base, bool) or not isinstance(base, int)):
        raise InvalidParameter("base_version: intero richiesto / integer required",
                               errors=[problem("base_version", "integer")])
    op = Operation("replace", cid, fid, base, feature)
    (out,) = await editing.apply(who, [op], operation="revert",
                                 comment=f"ripristino della versione {target}")
    return {"collection": cid, "id": out.id, "version": out.version, "reverted_to": target}
