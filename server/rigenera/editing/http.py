"""OGC API Features Part 4 over HTTP: POST /items, PUT/PATCH/DELETE /items/{id}, OPTIONS.

Unlike pygeoapi's own handlers: the caller is authenticated and authorised,
the URL id is authoritative (a different body id is 400, a missing feature is
404, never a silent insert), `Content-Crs` is honoured, `If-Match` carries
the base version (412 when it moved), and every refusal names its field.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from rigenera.auth import Authenticator, Principal, Role
from rigenera.catalogue import BY_ID
from rigenera.editing.model import OFFICE_ONLY
from rigenera.editing.payload import (
    FEATURE_TYPES,
    PATCH_TYPES,
    content_crs,
    media_type,
    parse_feature,
    parse_json,
)
from rigenera.editing.service import ChangesetFailed, EditingService, Operation, parse_id
from rigenera.errors import InvalidParameter, NotFound, RigeneraError

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')
READ_METHODS = "GET, HEAD, OPTIONS"


def if_match(request: Request) -> int | None:
    """The base version from If-Match (`"7"`); absent -> None (QGIS >= 3.32 sends none)."""
    header = request.headers.get("if-match")
    if header is None or header.strip() == "*":
        return None
    m = _ETAG.match(header)
    if not m:
        raise InvalidParameter(f"If-Match non valido: {header!r}; atteso un ETag come \"3\" / "
                               "malformed If-Match", errors=[{"field": "If-Match",
                                                              "reason": "expected an ETag"}])
    return int(m.group(1))


def allowed_methods(who: Principal, editable: bool, item: bool) -> str:
    """What *this caller* may do here: QGIS >= 3.32 reads it to decide editability."""
    if not editable or not who.may_edit:
        return READ_METHODS
    return f"{READ_METHODS}, PUT, PATCH, DELETE" if item else f"{READ_METHODS}, POST"


class WriteHandlers:
    def __init__(self, editing: EditingService, auth: Authenticator) -> None:
        self.editing = editing
        self.auth = auth

    async def _who(self, request: Request) -> Principal:
        who = await self.auth.of_request(request)
        who.require(Role.ADMIN, Role.COORDINATOR, Role.TECHNICIAN)
        return who

    def _collection(self, cid: str) -> None:
        """Part 4 writes what /ogc publishes; a project's records have their own routes
        (routes/project_records.py), though they share the editing service."""
        if cid not in BY_ID:
            raise NotFound(f"La collezione '{cid}' non è pubblicata / not published")
        self.editing.collection(cid)

    async def _apply(self, who: Principal, op: Operation) -> Any:
        try:
            (outcome,) = await self.editing.apply(who, [op])
        except ChangesetFailed as exc:  # a single operation never gets here, but be exact
            raise InvalidParameter("Operazione rifiutata", errors=exc.problems) from exc
        return outcome

    def _feature(self, request: Request, body: bytes, cid: str, *, partial: bool,
                 url_id: str | None) -> Operation:
        coll = self.editing.collection(cid)
        doc = parse_json(body)
        feature = parse_feature(doc, coll, partial=partial, url_id=url_id)
        return Operation("patch" if partial else ("replace" if url_id else "create"), cid,
                         url_id, if_match(request), feature,
                         content_crs(request.headers.get("content-crs")))

    async def create(self, request: Request) -> Response:
        cid = request.path_params["collection_id"]
        who = await self._who(request)
        self._collection(cid)
        media_type(request.headers.get("content-type"), FEATURE_TYPES)
        op = self._feature(request, await request.body(), cid, partial=False, url_id=None)
        out = await self._apply(who, op)
        base = str(request.url).split("?")[0].rstrip("/")
        return Response(status_code=201, headers={
            "Location": f"{base}/{out.id}", "ETag": f'"{out.version}"'})

    async def replace(self, request: Request) -> Response:
        return await self._update(request, partial=False)

    async def patch(self, request: Request) -> Response:
        return await self._update(request, partial=True)

    async def _update(self, request: Request, *, partial: bool) -> Response:
        cid, fid = request.path_params["collection_id"], request.path_params["item_id"]
        who = await self._who(request)
        self._collection(cid)
        media_type(request.headers.get("content-type"), PATCH_TYPES if partial else FEATURE_TYPES)
        op = self._feature(request, await request.body(), cid, partial=partial, url_id=fid)
        out = await self._apply(who, op)
        return Response(status_code=204, headers={"ETag": f'"{out.version}"'})

    async def delete(self, request: Request) -> Response:
        cid, fid = request.path_params["collection_id"], request.path_params["item_id"]
        who = await self._who(request)
        self._collection(cid)
        await self._apply(who, Operation("delete", cid, fid, if_match(request)))
        return Response(status_code=204)

    async def options(self, request: Request) -> Response:
        cid = request.path_params["collection_id"]
        item = "item_id" in request.path_params
        try:
            who = await self.auth.of_request(request)
        except RigeneraError:
            who = await self.auth.principal(None)
        editable = cid in self.editing.collections and cid in BY_ID and (
            cid not in OFFICE_ONLY or who.edits_everywhere)
        if cid not in BY_ID:  # a project's records are no OGC collection
            raise NotFound("Collection not found")
        if item and editable and who.may_edit and not who.edits_everywhere:
            fid = request.path_params["item_id"]
            editable = parse_id(fid) is not None and await self.editing.may_edit_feature(
                who, cid, fid)
        return Response(status_code=204, headers={"Allow": allowed_methods(who, editable, item)})
