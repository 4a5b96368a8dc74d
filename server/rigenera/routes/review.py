"""The volunteers' review queue: automatic checks, then accept or reject with a comment.

New and changed geometries enter `to_validate` (the editing service sets it).
A review changes only `validation_status`, through the same write path, so it
is versioned and recorded in history with operation 'review' and the comment.
Technicians see the rejections of features in their comuni.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from fastapi import APIRouter, Query, Request

from rigenera.auth import Role
from rigenera.dependencies import CurrentUser, EditingDep
from rigenera.editing.payload import MAX_TEXT, parse_json, problem
from rigenera.editing.service import parse_id
from rigenera.errors import InvalidParameter, NotFound, PreconditionFailed
from rigenera.inputs import optional_text
from rigenera.routes import docs

router = APIRouter(prefix="/api/review", tags=["review"])
_QUEUE_SQL = resources.files("rigenera.sql").joinpath("review_queue.sql").read_text()
REVIEWED = ("sites", "projects")
REVIEWERS = (Role.VOLUNTEER, Role.COORDINATOR, Role.ADMIN)


@router.get("/queue", response_model=None,
            responses={200: {"model": docs.Queue}, **docs.errors(400, 401, 403, 429)},
            openapi_extra=docs.AUTHENTICATED)
async def queue(who: CurrentUser, editing: EditingDep,
                collection: str = Query("sites", pattern="^(sites|projects)$"),
                istat_code: str | None = Query(None, pattern="^[0-9]{6}$"),
                limit: int = Query(50, ge=1, le=500)) -> dict[str, Any]:
    """Features waiting for review, oldest first, with the automatic checks."""
    who.require(*REVIEWERS, Role.TECHNICIAN)
    assert editing.pool is not None
    rows = await editing.pool.fetch(_QUEUE_SQL, collection, istat_code, limit)
    return {"collection": collection, "items": [
        {**dict(r), "updated_at": r["updated_at"].isoformat(),
         "geometry": json.loads(r["geometry"]) if isinstance(r["geometry"], str)
         else r["geometry"]} for r in rows]}


@router.post("/{collection}/{fid}", response_model=None,
             responses={200: {"model": docs.Reviewed},
                        **docs.errors(400, 401, 403, 404, 412, 413, 429)},
             openapi_extra=docs.body(docs.ReviewRequest))
async def review(collection: str, fid: str, request: Request, who: CurrentUser,
                 editing: EditingDep) -> dict[str, Any]:
    """Body: {"decision": "accept" | "reject", "comment": "...", "base_version": 3}."""
    who.require(*REVIEWERS)
    if collection not in REVIEWED:
        raise NotFound(f"{collection}: nessuna revisione / no review for this collection")
    doc = parse_json(await request.body())
    if not isinstance(doc, dict):
        raise InvalidParameter("Atteso un oggetto JSON / expected a JSON object",
                               errors=[problem("body", "JSON object")])
    decision = doc.get("decision")
    if decision not in ("accept", "reject"):
        raise InvalidParameter("decision: 'accept' o 'reject'",
                               errors=[problem("decision", "accept or reject")])
    comment = optional_text(doc, "comment", MAX_TEXT)
    if decision == "reject" and not (isinstance(comment, str) and comment.strip()):
        raise InvalidParameter("Un rifiuto richiede un commento / a rejection needs a comment",
                               errors=[problem("comment", "required when rejecting")])
    status = "validated" if decision == "accept" else "rejected"
    base = doc.get("base_version")
    assert editing.pool is not None
    async with editing.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "SELECT set_config('rigenera.actor', $1, true), set_config('rigenera.operation',"
            " 'review', true), set_config('rigenera.comment', $2, true)",
            who.username, f"{decision}: {comment or ''}".strip())
        key = parse_id(fid)
        if key is None:
            raise NotFound("identifier not found")
        current = await conn.fetchval(
            f"SELECT version FROM rigenera.{collection} WHERE id = $1 FOR UPDATE", key)
        if current is None:
            raise NotFound("identifier not found")
        if isinstance(base, int) and not isinstance(base, bool) and base != current:
            raise PreconditionFailed(f"versione attuale {current} / current version {current}",
                                     body={"currentVersion": current})
        version = await conn.fetchval(
            f"UPDATE rigenera.{collection} SET validation_status = $2 WHERE id = $1"
            " RETURNING version", key, status)
    return {"collection": collection, "id": fid, "validation_status": status,
            "version": version}


@router.get("/rejections", response_model=None,
            responses={200: {"model": docs.Rejections}, **docs.errors(401, 403, 429)},
            openapi_extra=docs.AUTHENTICATED)
async def rejections(who: CurrentUser, editing: EditingDep) -> dict[str, Any]:
    """Rejected features in the caller's comuni (all, for staff), with the reviewer's comment."""
    who.require(Role.TECHNICIAN, *REVIEWERS)
    assert editing.pool is not None
    comuni = None if who.edits_everywhere or who.role is Role.VOLUNTEER else sorted(who.comuni)
    rows = await editing.pool.fetch(
        """SELECT s.id, 'sites' AS collection, s.name AS title, s.istat_code, s.version,
                  h.actor AS reviewer, h.at, h.comment
             FROM rigenera.sites s
             JOIN LATERAL (SELECT actor, at, comment FROM rigenera.history
                           WHERE collection = 'sites' AND feature_id = s.id::text
                             AND operation = 'review' ORDER BY id DESC LIMIT 1) h ON true
            WHERE s.validation_status = 'rejected'
              AND ($1::text[] IS NULL OR s.istat_code = ANY($1))
            ORDER BY h.at DESC""", comuni)
    return {"items": [{**dict(r), "at": r["at"].isoformat()} for r in rows]}
