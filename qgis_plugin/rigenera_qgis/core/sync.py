"""Synchronisation: local changes out as one atomic changeset, others' changes in.

Push first, then pull. The push is all-or-nothing on the server, so a refusal
leaves both sides as they were: conflicts (409) come back as
:class:`~.conflicts.Conflict` objects for the user to resolve, validation
refusals (422) are stored in the working copy next to the feature and field
they name, an unreachable server leaves everything local for next time.
After an accepted push the rows pushed are refreshed from the server (values
it derives, e.g. a site's comune, its surface), then the change feed brings
in what others did since the last synchronisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Set

from .client import ApiError, AuthFailed, ConnectionFailed, RigeneraClient
from .conflicts import Conflict, build
from .workingcopy import LocalChange, WorkingCopy

Progress = Optional[Callable[[int, str], None]]
FETCH_CHUNK = 200


@dataclass
class SyncResult:
    status: str  # ok | nothing | conflicts | invalid | forbidden | retry | offline | error
    applied: List[Dict[str, Any]] = field(default_factory=list)
    conflicts: List[Conflict] = field(default_factory=list)
    problems: List[Dict[str, Any]] = field(default_factory=list)
    pulled: int = 0
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status in {"ok", "nothing"}


def operations(wc: WorkingCopy, changes: List[LocalChange]) -> List[Dict[str, Any]]:
    """The changeset body's operations for the working copy's local changes."""
    ops = []
    for c in changes:
        op: Dict[str, Any] = {"action": c.action, "collection": wc.collection, "ref": c.ref}
        if c.action != "create":
            op["id"] = c.server_id
            op["base_version"] = c.base_version
        if c.action == "create":
            op["feature"] = {"type": "Feature", "properties": c.properties, "geometry": c.geometry}
        elif c.action == "patch":
            feature: Dict[str, Any] = {"type": "Feature", "properties": c.properties}
            if c.geometry_changed:
                feature["geometry"] = c.geometry
            op["feature"] = feature
        ops.append(op)
    return ops


def fetch(client: RigeneraClient, collection: str, ids: Iterable[str]) -> Dict[str, Dict[str, Any]]:
    """Current server features by id, a few hundred per request (absent ones are missing)."""
    ids = [i for i in dict.fromkeys(ids) if str(i).isdigit()]
    out: Dict[str, Dict[str, Any]] = {}
    for start in range(0, len(ids), FETCH_CHUNK):
        chunk = ids[start:start + FETCH_CHUNK]
        cql = "id IN (" + ", ".join(chunk) + ")"
        for f in client.items(collection, cql=cql, page_size=len(chunk)):
            out[str(f["id"])] = f
    return out


def synchronise(wc: WorkingCopy, client: RigeneraClient, comment: Optional[str] = None,
                progress: Progress = None) -> SyncResult:
    """Push the working copy's changes, then pull the others'; see the module docstring."""
    report = progress or (lambda p, t: None)
    if wc.pending():
        return SyncResult("error", message="Salva le modifiche del layer prima di sincronizzare / "
                                           "save the layer's edits before synchronising")
    report(5, "diff")
    changes = wc.local_changes()
    if not changes:
        try:
            pulled = pull(wc, client, report, dirty=set())
        except ConnectionFailed as exc:
            return SyncResult("offline", message=exc.message())
        except ApiError as exc:
            return SyncResult("error", message=exc.message())
        return SyncResult("nothing", pulled=pulled,
                          message=f"Nessuna modifica locale; {pulled} aggiornamenti ricevuti")
    by_ref = {c.ref: c for c in changes}
    report(15, "push")
    try:
        answer = client.changeset(operations(wc, changes), comment)
    except ConnectionFailed as exc:
        return SyncResult("offline", message=exc.message() + " — le modifiche restano nella copia"
                                                              " di lavoro / edits kept locally")
    except AuthFailed as exc:
        return SyncResult("error", message=exc.message())
    except ApiError as exc:
        return _refused(wc, client, exc, by_ref)
    wc.set_problems([])
    applied = answer.get("applied", [])
    report(50, "applied")
    _record(wc, client, applied, by_ref, report)
    try:
        pulled = pull(wc, client, report, dirty=set())  # everything local was just pushed
    except ApiError:
        pulled = 0  # pushed and recorded; the pull is retried next time
    report(100, "ok")
    counts: Dict[str, int] = {}
    for a in applied:
        counts[a["action"]] = counts.get(a["action"], 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    return SyncResult("ok", applied=applied, pulled=pulled,
                      message=f"Inviate {len(applied)} modifiche ({summary}); "
                              f"{pulled} aggiornamenti ricevuti")


def _refused(wc: WorkingCopy, client: RigeneraClient, exc: ApiError,
             by_ref: Dict[str, LocalChange]) -> SyncResult:
    """A refused changeset: conflicts to resolve, or problems stored by feature and field."""
    if exc.status in (409, 429, 503) and not exc.problems:
        # Nothing was written and no feature is at fault: the write collided with another
        # one (a deadlock the server could not resolve by retrying), too many attempts, or
        # a database that is away. The same changeset succeeds when sent again later.
        return SyncResult("retry", message=exc.message())
    if exc.status == 403 and not exc.problems:
        return SyncResult("forbidden", message=exc.message())
    if exc.status not in (403, 409, 422):
        return SyncResult("error", message=exc.message())
    conflict_ids: List[str] = []
    problems: List[Dict[str, Any]] = []
    for p in exc.problems:
        change = by_ref.get(str(p.get("ref")))
        if p.get("status") in (404, 412) and change is not None and change.server_id:
            conflict_ids.append(change.server_id)
            continue
        fields = p.get("errors") or [{"field": None, "reason": p.get("description")}]
        for e in fields:
            problems.append({"part": change.part if change else None,
                             "fid": change.fid if change else None,
                             "server_id": change.server_id if change else None,
                             "action": change.action if change else p.get("action"),
                             "field": e.get("field"),
                             "message": f"{e.get('field') or ''}: {e.get('reason') or ''}".strip(": ")
                             if e.get("field") else str(p.get("description") or exc.description),
                             "status": p.get("status")})
    wc.set_problems(problems)
    if exc.status == 403:
        return SyncResult("forbidden", problems=problems, message=exc.message())
    conflicts = []
    if conflict_ids:
        current = fetch(client, wc.collection, conflict_ids)
        descriptions = {str(by_ref[str(p.get("ref"))].server_id): str(p.get("description"))
                        for p in exc.problems if str(p.get("ref")) in by_ref}
        conflicts = [build(wc, sid, current.get(sid), descriptions.get(sid, ""))
                     for sid in dict.fromkeys(conflict_ids)]
    status = "conflicts" if conflicts else "invalid"
    return SyncResult(status, conflicts=conflicts, problems=problems, message=exc.message())


def _record(wc: WorkingCopy, client: RigeneraClient, applied: List[Dict[str, Any]],
            by_ref: Dict[str, LocalChange], report: Callable[[int, str], None]) -> None:
    """The server accepted: give new rows their ids, refresh what was pushed, drop deletes."""
    refresh: List[str] = []
    for a in applied:
        change = by_ref.get(str(a.get("ref")))
        if change is None:
            continue
        if a["action"] == "delete":
            wc.forget(str(a["id"]))
            continue
        if change.action == "create" and change.part is not None and change.fid is not None:
            wc.set_server_identity(change.part, change.fid, str(a["id"]), int(a["version"]))
        refresh.append(str(a["id"]))
    current = fetch(client, wc.collection, refresh)
    report(70, "refresh")
    wc.replace_many({sid: current.get(sid) for sid in refresh})


def pull(wc: WorkingCopy, client: RigeneraClient,
         report: Callable[[int, str], None] = lambda p, t: None,
         dirty: Optional[Set[str]] = None) -> int:
    """Bring in what others changed since the last sync; locally changed rows are left alone
    (the next push meets them as conflicts). ``dirty``: the server ids changed locally,
    when the caller already knows them. Returns how many features changed locally."""
    after = str(wc.meta("changes_seq", "") or "") or None
    changed: Dict[str, Dict[str, Any]] = {}
    while True:
        feed = client.changes(wc.collection, after=after)
        for c in feed.get("changes", []):
            changed[str(c["id"])] = c
        # Opaque cursors: more pages while the last one seen is not the latest.
        last = str(feed.get("last") or after or "") or None
        moved = bool(feed.get("changes")) and last != after
        after = last
        if not moved or last == str(feed.get("latest") or ""):
            break
    base = wc.base()
    # What we already hold at that version (our own pushes, refreshed) needs no fetch.
    changed = {sid: c for sid, c in changed.items()
               if c.get("operation") == "delete" or sid not in base
               or c.get("version") is None or int(c["version"]) > int(base[sid]["version"])}
    if not changed:
        wc.set_meta(changes_seq=after or "")
        return 0
    if dirty is None:
        dirty = {c.server_id for c in wc.local_changes() if c.server_id}
    wanted = [sid for sid in changed if sid not in dirty]
    current = fetch(client, wc.collection, wanted)
    updates: Dict[str, Optional[Dict[str, Any]]] = {}
    for sid in wanted:
        theirs = current.get(sid)
        if theirs is None:
            if sid in base:
                updates[sid] = None
            continue
        version = int((theirs.get("properties") or {}).get("version") or 0)
        if sid in base:
            if version > int(base[sid]["version"]):
                updates[sid] = theirs
        elif wc.in_area(theirs):
            updates[sid] = theirs
    wc.replace_many(updates)
    count = len(updates)
    wc.set_meta(changes_seq=after or "")
    report(95, "pulled")
    return count

