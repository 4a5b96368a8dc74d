"""Writes: create, replace, patch, delete, and atomic changesets of them.

Every write is one transaction on the write pool:
1. the caller's name, the changeset id and the operation go into
   transaction-local settings, which the history trigger records;
2. the current row is locked (`FOR UPDATE`): missing -> 404; its version is
   compared with the client's base version (`If-Match`) -> 412 with the
   current version; a technician's reach (the feature as stored must lie
   within their comuni) -> 403;
3. the statement runs; PostgreSQL's constraints and triggers have the last
   word on every rule, and their refusals become field-named errors in
   `errors.translate_db_error`; then the feature as written must lie within a
   technician's comuni too (`rigenera.reach_problems`, migration 0009) -> 403,
   and the transaction (or the operation's savepoint) is rolled back;
4. the history row was written by the trigger in the same transaction.
A changeset runs its operations in one transaction, each under a savepoint so
that every failing operation is reported, and commits only if none failed.
A deadlock or serialisation failure runs the whole transaction again (a few
times), and a database that is away is a 503: neither is ever reported as a
problem of an operation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from rigenera import metrics
from rigenera.auth import Principal, Role
from rigenera.editing.model import OFFICE_ONLY, EditableCollection, load_editable
from rigenera.editing.payload import FeatureInput
from rigenera.errors import (
    Forbidden,
    NotFound,
    PreconditionFailed,
    RigeneraError,
    ValidationFailed,
    WriteConflict,
    translate_db_error,
)
from rigenera.ogc.params import output_crs

LOG = logging.getLogger(__name__)
_REVIEWED = {"sites", "projects"}  # tables with a validation_status
DEFAULT_SOURCE = "Rigenera"  # the source of a feature created without one
# The reach rule (migration 0009) on stored features: their problems, or a count of the
# features with any. Checked on the rows as stored before and after the write, so what
# the triggers derive (a site's comune from its geometry) is judged as it will be kept.
_REACH_ONE = "SELECT rigenera.reach_problems(t, $2::text[]) FROM {table} t WHERE t.id = $1"
_REACH_COUNT = ("SELECT count(*) FROM {table} t WHERE t.id = ANY($1::bigint[])"
                " AND rigenera.reach_problems(t, $2::text[]) <> '[]'::jsonb")
# A project is located by a geometry or a comune: a deferred constraint (its comuni are
# written after it), settled at the end of each operation so a refusal names the operation.
_SETTLE = ("SET CONSTRAINTS rigenera.projects_located, rigenera.project_comuni_located IMMEDIATE;"
           " SET CONSTRAINTS rigenera.projects_located, rigenera.project_comuni_located DEFERRED")
# The first pause between runs of a transaction that deadlocked or could not be serialised
# (doubled each time, jittered +-50 %; how many runs: settings.write_attempts): deadlock
# detection alone takes PostgreSQL's deadlock_timeout (1 s), so the pause only keeps the
# two apart.
RETRY_PAUSE_S = 0.05


@dataclass
class Operation:
    """One write of a changeset (or a single request)."""

    action: str  # create | replace | patch | delete
    collection: str
    feature_id: str | None = None
    base_version: int | None = None
    feature: FeatureInput | None = None
    crs: str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    ref: Any = None  # the client's own reference, echoed back


@dataclass
class Outcome:
    ref: Any
    collection: str
    id: str
    version: int | None
    action: str


@dataclass
class ChangesetFailed(Exception):
    problems: list[dict[str, Any]] = field(default_factory=list)


def parse_id(value: Any) -> int | None:
    """A feature id as stored (bigint), or None when it cannot name any feature."""
    try:
        fid = int(str(value))
    except ValueError:
        return None
    return fid if 0 < fid < 2**63 else None


def geometry_sql(param: str, crs_uri: str, multi_lines: bool) -> str:
    """SQL turning a GeoJSON parameter in `crs_uri` into storage geometry (EPSG:4326)."""
    crs = output_crs(crs_uri)
    g = f"ST_SetSRID(ST_GeomFromGeoJSON({param}::text), {crs.srid})"
    if crs.northing_first:
        g = f"ST_FlipCoordinates({g})"
    if crs.srid != 4326:
        g = f"ST_Transform({g}, 4326)"
    if multi_lines:
        g = f"ST_Multi({g})"
    return g


class EditingService:
    def __init__(self, max_attempts: int) -> None:
        self.max_attempts = max_attempts
        self.pool: asyncpg.Pool | None = None
        self.collections: dict[str, EditableCollection] = {}

    async def start(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        async with pool.acquire() as conn:
            self.collections = await load_editable(conn)

    def collection(self, cid: str) -> EditableCollection:
        coll = self.collections.get(cid)
        if coll is None:
            raise NotFound(f"La collezione '{cid}' non è modificabile / not editable")
        return coll

    # ------------------------------------------------------------------ public
    async def apply(self, who: Principal, ops: list[Operation], *,
                    operation: str | None = None, comment: str | None = None,
                    changeset: bool = False) -> list[Outcome]:
        """Apply operations atomically; raise the single error or ChangesetFailed.

        A deadlock or serialisation failure (40P01, 40001) says nothing about the
        request: the whole transaction runs again, `max_attempts` times in all
        (RIGENERA_WRITE_ATTEMPTS) with a short jittered pause, then it is answered
        as a retryable WriteConflict (409)."""
        if not who.may_edit:
            who.require(Role.ADMIN, Role.COORDINATOR, Role.TECHNICIAN)
        for attempt in range(1, self.max_attempts + 1):
            try:
                return await self._apply_once(who, ops, operation, comment, changeset)
            except (WriteConflict, asyncpg.TransactionRollbackError) as exc:
                if attempt == self.max_attempts:
                    if isinstance(exc, WriteConflict):
                        raise
                    raise translate_db_error(exc) from exc
                LOG.info("write conflict (%r): attempt %d of %d", exc, attempt + 1,
                         self.max_attempts)
                await asyncio.sleep(RETRY_PAUSE_S * 2 ** (attempt - 1) * random.uniform(0.5, 1.5))  # noqa: S311 (jitter)
        raise AssertionError("unreachable")

    async def _apply_once(self, who: Principal, ops: list[Operation], operation: str | None,
                          comment: str | None, changeset: bool) -> list[Outcome]:
        assert self.pool is not None
        changeset_id = str(uuid.uuid4())
        async with self.pool.acquire() as conn:
            tx = conn.transaction()
            await tx.start()
            try:
                await conn.execute(
                    "SELECT set_config('rigenera.actor', $1, true),"
                    " set_config('rigenera.changeset', $2, true),"
                    " set_config('rigenera.operation', $3, true),"
                    " set_config('rigenera.comment', $4, true)",
                    who.username, changeset_id, operation or "", comment or "")
                if changeset and len(ops) > 1:
                    batched = await self._try_batch(conn, who, ops)
                    if batched is not None:
                        await tx.commit()
                        _count_edits(batched)
                        return batched
                outcomes, problems = [], []
                for i, op in enumerate(ops):
                    if not changeset:
                        outcomes.append(await self._one(conn, who, op))
                        continue
                    sp = conn.transaction()
                    await sp.start()
                    try:
                        outcomes.append(await self._one(conn, who, op))
                        await sp.commit()
                    except RigeneraError as exc:
                        if not _about_the_operation(exc):
                            raise  # the database's trouble, not this operation's
                        await sp.rollback()
                        problems.append(_problem(i, op, exc))
                if problems:
                    raise ChangesetFailed(problems)
                await tx.commit()
                _count_edits(outcomes)
                return outcomes
            except BaseException:
                # A connection that died cannot roll back, and needs not: its transaction
                # died with it. The original error is the one to answer.
                with contextlib.suppress(Exception):
                    await tx.rollback()
                raise

    # ------------------------------------------------------------ batch path
    async def _try_batch(self, conn: asyncpg.Connection, who: Principal,
                         ops: list[Operation]) -> list[Outcome] | None:
        """Apply a changeset of updates set-wise: one lock, one check and one UPDATE per
        collection and shape, instead of several round trips per feature.

        Only the clean case is taken here; anything unusual (a conflict, a missing
        feature, a refused value, creates/deletes, relations) returns None after
        rolling back, and the per-operation path redoes the work and reports every
        problem exactly. Measured in bench/writes.py.
        """
        if any(op.action not in ("patch", "replace") or op.feature is None
               or set(op.feature.values) & {"istat_codes", "site_ids"}
               or any(isinstance(v, list) for v in op.feature.values.values())
               for op in ops):
            return None
        sp = conn.transaction()
        await sp.start()
        try:
            outcomes = await self._batch(conn, who, ops)
        except (RigeneraError, asyncpg.PostgresError, ValueError) as exc:
            if isinstance(exc, asyncpg.PostgresError):
                exc = translate_db_error(exc)
            if isinstance(exc, RigeneraError) and not _about_the_operation(exc):
                raise exc  # a deadlock or a lost connection: the whole transaction again
            await sp.rollback()
            return None
        await sp.commit()
        return outcomes

    async def _batch(self, conn: asyncpg.Connection, who: Principal,
                     ops: list[Operation]) -> list[Outcome] | None:
        by_coll: dict[str, list[Operation]] = {}
        # Collections in one order and ids sorted (below) for every changeset: two
        # batches never lock the same rows in opposite orders, so never deadlock.
        for op in sorted(ops, key=lambda o: o.collection):
            by_coll.setdefault(op.collection, []).append(op)
        versions: dict[tuple[str, int], int] = {}
        for cid, group in by_coll.items():
            coll = self.collection(cid)
            if cid in OFFICE_ONLY and not who.edits_everywhere:
                raise ValueError("the office's collection: the per-operation path refuses it")
            parsed = [parse_id(op.feature_id) for op in group]
            if None in parsed:
                raise ValueError("an id that names no feature")
            ids = [int(i) for i in parsed if i is not None]
            if len(set(ids)) != len(ids):
                raise ValueError("the same feature twice: apply in order")
            rows = await conn.fetch(
                f"SELECT id, version FROM {coll.table} WHERE id = ANY($1::bigint[])"
                " ORDER BY id FOR UPDATE", ids)
            current = {r["id"]: r["version"] for r in rows}
            for op, fid in zip(group, ids, strict=True):
                if fid not in current or (op.base_version is not None
                                          and op.base_version != current[fid]):
                    raise ValueError("conflict or missing feature")
            if not who.edits_everywhere and await conn.fetchval(
                    _REACH_COUNT.format(table=coll.table), ids, sorted(who.comuni)):
                raise ValueError("a feature outside the technician's comuni")
            shapes: dict[tuple[Any, ...], list[Operation]] = {}
            for op in group:
                assert op.feature is not None
                key = (op.action, tuple(sorted(op.feature.values)),
                       op.feature.geometry is not None, op.feature.geometry_given, op.crs)
                shapes.setdefault(key, []).append(op)
            moved = False  # may the reach of a feature have changed?
            for (action, names, has_geom, geom_given, crs), sops in shapes.items():
                moved = moved or has_geom or geom_given or action == "replace" \
                    or "istat_code" in names or "project_id" in names
                for fid, version in await self._batch_update(
                        conn, coll, sops, action, names, has_geom, geom_given, crs):
                    versions[(cid, fid)] = version
            if moved and cid == "projects":
                await conn.execute(_SETTLE)
            if moved and not who.edits_everywhere and await conn.fetchval(
                    _REACH_COUNT.format(table=coll.table), ids, sorted(who.comuni)):
                raise ValueError("a feature taken outside the technician's comuni")
        return [Outcome(op.ref, op.collection, str(op.feature_id),
                        versions[(op.collection, int(str(op.feature_id)))], op.action)
                for op in ops]

    async def _batch_update(self, conn: asyncpg.Connection, coll: EditableCollection,
                            ops: list[Operation], action: str, names: tuple[str, ...],
                            has_geom: bool, geom_given: bool, crs: str) -> list[tuple[int, int]]:
        args: list[Any] = [[int(str(op.feature_id)) for op in ops]]
        aliases, casts = ["id"], ["bigint[]"]
        for name in names:
            args.append([op.feature.values[name] for op in ops if op.feature])
            aliases.append(f'"{name}"')
            casts.append(f"{coll.fields[name].sql_type}[]")
        sets = [f'"{n}" = u."{n}"' for n in names]
        if action == "replace":
            sets += [f'"{f}" = DEFAULT' for f in coll.fields
                     if f not in names and f not in ("source", "istat_code", "istat_codes",
                                                     "site_ids")]
        if has_geom:
            args.append([op.feature.geometry for op in ops if op.feature])
            aliases.append("g")
            casts.append("text[]")
            geom = geometry_sql("u.g", crs, coll.id == "mobility_links")
            bad = await conn.fetchval(
                f"""SELECT count(*) FROM unnest($1::text[]) AS u(g),
                           LATERAL (SELECT {geom} AS geom) n
                     WHERE ST_IsEmpty(n.geom) OR NOT ST_IsValid(n.geom)
                        OR NOT coalesce(CASE WHEN ST_IsValid(n.geom)
                                             THEN rigenera.in_metro_area(n.geom) END, false)
                        OR GeometryType(n.geom) <> ALL($2::text[])""",
                args[-1], [*sorted(coll.geometry_types), "MULTILINESTRING"])
            if bad:
                raise ValueError("a geometry needs the per-operation checks")
            sets.append(f"geom = {geom}")
            if coll.id in ("sites", "transit_stops") and "istat_code" not in names:
                sets.append(f"istat_code = rigenera.comune_of({geom})")
            if coll.id in _REVIEWED:
                sets.append(f"validation_status = CASE WHEN t.geom IS DISTINCT FROM {geom}"
                            " THEN 'to_validate' ELSE t.validation_status END")
        elif coll.has_geometry and (geom_given or (action == "replace"
                                                   and not coll.geometry_required)):
            sets.append("geom = NULL")
        unnest = ", ".join(f"${i + 1}::{c}" for i, c in enumerate(casts))
        rows = await conn.fetch(
            f"UPDATE {coll.table} AS t SET {', '.join(sets)} FROM unnest({unnest})"
            f" AS u({', '.join(aliases)}) WHERE t.id = u.id RETURNING t.id, t.version", *args)
        return [(r["id"], r["version"]) for r in rows]

    # ----------------------------------------------------------------- one op
    async def _one(self, conn: asyncpg.Connection, who: Principal, op: Operation) -> Outcome:
        coll = self.collection(op.collection)
        _check_office(who, coll.id)
        try:
            if op.action == "create":
                out = await self._create(conn, who, coll, op)
            else:
                current = await self._lock(conn, coll, op)
                await self._check_reach(conn, who, coll, int(str(op.feature_id)), after=False)
                if op.action == "delete":
                    await conn.execute(f"DELETE FROM {coll.table} WHERE id = $1",
                                       int(str(op.feature_id)))
                    return Outcome(op.ref, coll.id, str(op.feature_id), None, "delete")
                out = await self._update(conn, who, coll, op, current)
            if op.action == "create" or _moves(op):
                if coll.id == "projects":
                    await conn.execute(_SETTLE)
                await self._check_reach(conn, who, coll, int(out.id), after=True)
            return out
        except asyncpg.PostgresError as exc:
            raise translate_db_error(exc) from exc

    async def _lock(self, conn: asyncpg.Connection, coll: EditableCollection,
                    op: Operation) -> int:
        fid = parse_id(op.feature_id)
        if fid is None:
            raise NotFound(f"{coll.id}/{op.feature_id}: identificativo inesistente / "
                           "identifier not found")
        version = await conn.fetchval(
            f"SELECT version FROM {coll.table} WHERE id = $1 FOR UPDATE", fid)
        if version is None:
            raise NotFound(f"{coll.id}/{op.feature_id}: identificativo inesistente / "
                           "identifier not found")
        if op.base_version is not None and op.base_version != version:
            raise PreconditionFailed(
                f"{coll.id}/{op.feature_id} è stato modificato da altri: versione attuale "
                f"{version}, la tua {op.base_version} / changed by someone else",
                headers={"ETag": f'"{version}"'},
                body={"currentVersion": version, "id": str(op.feature_id)})
        op.feature_id = str(fid)
        return int(version)

    async def _check_reach(self, conn: asyncpg.Connection, who: Principal,
                           coll: EditableCollection, fid: int, *, after: bool) -> None:
        """A technician writes a feature only when it lies wholly within their comuni, as
        stored before the write and as written (rigenera.reach_problems, migration 0009)."""
        if who.edits_everywhere:
            return
        problems = await conn.fetchval(_REACH_ONE.format(table=coll.table), fid,
                                       sorted(who.comuni))
        if problems:
            raise _out_of_reach(who, problems, after=after)

    @staticmethod
    def _geom_alone(coll: EditableCollection, op: Operation) -> tuple[str, list[Any]] | None:
        """The new geometry as an expression of its own single parameter, for checks."""
        if op.feature is None or op.feature.geometry is None:
            return None
        return geometry_sql("$1", op.crs, coll.id == "mobility_links"), [op.feature.geometry]

    async def _check_geometry(self, conn: asyncpg.Connection, coll: EditableCollection,
                              op: Operation) -> None:
        """Parse and validate the geometry first, to name PostGIS's reason in the answer."""
        alone = self._geom_alone(coll, op)
        if alone is None:
            return
        geom, args = alone
        row = await conn.fetchrow(
            f"SELECT ST_IsValid(g) AS ok, ST_IsValidReason(g) AS reason, ST_IsEmpty(g) AS empty,"
            f" CASE WHEN ST_IsValid(g) AND NOT ST_IsEmpty(g) THEN rigenera.in_metro_area(g) END"
            f" AS inside FROM (SELECT {geom} AS g) s", *args)
        assert row is not None
        if row["empty"]:
            reason = "empty geometry"
        elif not row["ok"]:
            reason = f"invalid geometry: {row['reason']}"
        elif not row["inside"]:
            reason = "outside the metropolitan area of Milan (50 m tolerance)"
        else:
            return
        raise ValidationFailed(f"geometria non accettata / geometry: {reason}",
                               errors=[{"field": "geometry", "reason": reason}])

    def _assignments(self, coll: EditableCollection, op: Operation, args: list[Any],
                     replace: bool) -> tuple[list[str], list[str], str | None]:
        """SET/VALUES lists for the columns, and the geometry expression (if any)."""
        assert op.feature is not None
        feat = op.feature
        cols, exprs = [], []
        for f in coll.fields.values():
            if f.name in ("istat_codes", "site_ids"):
                continue
            if f.name in feat.values:
                args.append(feat.values[f.name])
                cols.append(f'"{f.name}"')
                exprs.append(f"${len(args)}::{f.sql_type}")
            elif replace and f.name not in ("source", "istat_code"):
                # A replacement resets what it omits; provenance stays, and the
                # comune follows the geometry (below).
                cols.append(f'"{f.name}"')
                exprs.append("DEFAULT")
        geom = None
        if feat.geometry is not None:
            args.append(feat.geometry)
            geom = geometry_sql(f"${len(args)}", op.crs, coll.id == "mobility_links")
        elif coll.has_geometry and (feat.geometry_given or (replace
                                                            and not coll.geometry_required)):
            geom = "NULL"
        return cols, exprs, geom

    async def _create(self, conn: asyncpg.Connection, who: Principal, coll: EditableCollection,
                      op: Operation) -> Outcome:
        args: list[Any] = []
        cols, exprs, geom = self._assignments(coll, op, args, replace=False)
        await self._check_geometry(conn, coll, op)
        if geom is not None and geom != "NULL":
            cols.append("geom")
            exprs.append(geom)
        # A need created with a place and no comune: the comune of its place (as imports do).
        if coll.id in ("sites", "transit_stops", "needs") and '"istat_code"' not in cols \
                and geom:
            cols.append("istat_code")
            exprs.append(f"rigenera.comune_of({geom})")
        if '"source"' not in cols:
            # Neutral: who created the feature is in the (private) history, never published.
            args.append(DEFAULT_SOURCE)
            cols.append("source")
            exprs.append(f"${len(args)}::text")
        row = await conn.fetchrow(
            f"INSERT INTO {coll.table} ({', '.join(cols)}) VALUES ({', '.join(exprs)})"
            " RETURNING id, version", *args)
        assert row is not None
        await self._relations(conn, coll, op, int(row["id"]))
        return Outcome(op.ref, coll.id, str(row["id"]), int(row["version"]), "create")

    async def _update(self, conn: asyncpg.Connection, who: Principal, coll: EditableCollection,
                      op: Operation, version: int) -> Outcome:
        args: list[Any] = [int(str(op.feature_id))]
        cols, exprs, geom = self._assignments(coll, op, args, replace=op.action == "replace")
        await self._check_geometry(conn, coll, op)
        sets = [f"{c} = {e}" for c, e in zip(cols, exprs, strict=True)]
        if (coll.id in ("sites", "transit_stops") and geom not in (None, "NULL")
                and '"istat_code"' not in cols):
            sets.append(f"istat_code = rigenera.comune_of({geom})")
        if geom is not None:
            sets.append(f"geom = {geom}")
            if coll.id in _REVIEWED:
                # A changed geometry goes back to the volunteers' review queue.
                sets.append("validation_status = CASE WHEN t.geom IS DISTINCT FROM "
                            f"{geom} THEN 'to_validate' ELSE t.validation_status END")
        new_version = version
        if sets:
            new_version = await conn.fetchval(
                f"UPDATE {coll.table} AS t SET {', '.join(sets)} WHERE t.id = $1 RETURNING version",
                *args)
        await self._relations(conn, coll, op, int(args[0]))
        return Outcome(op.ref, coll.id, str(op.feature_id), int(new_version), op.action)

    async def _relations(self, conn: asyncpg.Connection, coll: EditableCollection,
                         op: Operation, pid: int) -> None:
        """A project's comuni and sites live in join tables."""
        if coll.id != "projects" or op.feature is None:
            return
        values = op.feature.values
        if values.get("istat_codes") is not None:
            await conn.execute("DELETE FROM rigenera.project_comuni WHERE project_id = $1", pid)
            await conn.execute(
                "INSERT INTO rigenera.project_comuni (project_id, istat_code)"
                " SELECT $1, unnest($2::text[])", pid, values["istat_codes"])
        if values.get("site_ids") is not None:
            await conn.execute("DELETE FROM rigenera.project_sites WHERE project_id = $1", pid)
            await conn.execute(
                "INSERT INTO rigenera.project_sites (project_id, site_id)"
                " SELECT $1, unnest($2::bigint[])", pid, values["site_ids"])

    async def may_edit_feature(self, who: Principal, cid: str, fid: str) -> bool:
        """Would a write on this feature pass the reach check? (for OPTIONS' Allow)"""
        if not who.may_edit or cid not in self.collections:
            return False
        if who.edits_everywhere:
            return True
        if cid in OFFICE_ONLY:
            return False
        fid_int = parse_id(fid)
        if fid_int is None:
            return False
        assert self.pool is not None
        problems = await self.pool.fetchval(_REACH_ONE.format(table=self.collection(cid).table),
                                            fid_int, sorted(who.comuni))
        return bool(problems == [])

    # ---------------------------------------------------------------- history
    async def history(self, cid: str, fid: str, decimals: int = 9) -> list[dict[str, Any]]:
        """A feature's changes, its creation first: a creation that migration 0010
        reconstructed has a higher id than the changes recorded before it.

        Geometries with `decimals` decimals: 9 (0.1 mm) to read; 15 to restore them
        exactly (a revert), since PostGIS then prints the shortest exact form."""
        assert self.pool is not None
        self.collection(cid)
        rows = await self.pool.fetch(
            """SELECT id, version, operation, actor, at, changeset, comment, reconstructed,
                      before || jsonb_build_object('geom', ST_AsGeoJSON(geom_before, $3)::jsonb)
                        AS before,
                      after || jsonb_build_object('geom', ST_AsGeoJSON(geom_after, $3)::jsonb)
                        AS after
                 FROM rigenera.history WHERE collection = $1 AND feature_id = $2
                ORDER BY NOT reconstructed, id""",
            cid, fid, decimals)
        return [dict(r) for r in rows]


def _count_edits(outcomes: list[Outcome]) -> None:
    """metrics.EDITS: features written, once their transaction committed."""
    for o in outcomes:
        metrics.EDITS.labels(o.collection, o.action).inc()


def _moves(op: Operation) -> bool:
    """May this update change the feature's reach (its geometry or its comuni)?"""
    if op.action == "replace":
        return True
    if op.feature is None:
        return False
    return op.feature.geometry_given or op.feature.geometry is not None or bool(
        {"istat_code", "istat_codes", "site_ids", "project_id"} & set(op.feature.values))


def _check_office(who: Principal, cid: str) -> None:
    """Calls are the office's: only admins and coordinators write them."""
    if cid in OFFICE_ONLY and not who.edits_everywhere:
        raise Forbidden(f"'{cid}': solo amministratori e coordinatori possono modificarla / "
                        "only admins and coordinators may write it",
                        errors=[{"field": "collection", "reason": "admin or coordinator only"}])


def _out_of_reach(who: Principal, problems: list[dict[str, Any]], *, after: bool) -> Forbidden:
    mine = ", ".join(sorted(who.comuni)) or "nessuno / none"
    if after:
        it, en = "La modifica porterebbe la feature fuori", "the edit would take the feature outside"
    else:
        it, en = "La feature è fuori", "the feature lies outside"
    return Forbidden(f"{it} dai tuoi comuni ({mine}) / {en} your comuni",
                     errors=[{"field": p["field"], "reason": p["reason"]} for p in problems])


def _about_the_operation(exc: RigeneraError) -> bool:
    """Is this refusal about the operation (its values, version, rights), rather than a
    database that is away, deadlocked or failing (which no edit of the request fixes)?"""
    return exc.status < 500 and not isinstance(exc, WriteConflict)


def _problem(index: int, op: Operation, exc: RigeneraError) -> dict[str, Any]:
    out: dict[str, Any] = {"index": index, "ref": op.ref, "collection": op.collection,
                           "id": op.feature_id, "action": op.action, "status": int(exc.status),
                           "code": exc.code, "description": exc.description}
    if exc.errors:
        out["errors"] = exc.errors
    if exc.body:
        out.update(exc.body)
    return out
