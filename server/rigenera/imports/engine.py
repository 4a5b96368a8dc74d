"""import_frame: a Frame checked and written set-wise, in the caller's transaction.

Flow (every step one SQL statement over all rows, never a round trip per row):

1. coerce the Frame to the target's column types (stage.py), COPY it into a
   temporary staging table shaped like the target;
2. derive what the file may leave out (a site's comune from its geometry; a
   project's representative point from its comuni, ``geom_source = comune_point``);
3. match each row to a stored feature: (source, source_id), CUP, a site's geometry
   within the tolerance;
4. check every row with the target's own rules: its CHECK constraints read from
   pg_constraint, NOT NULL columns, foreign keys, geometry valid / of the right type /
   in the metro area; duplicates within the file; a technician's reach;
5. classify create / update / unchanged / duplicate / invalid, and (not a dry run,
   nothing invalid or skip_invalid) write creates and updates with one INSERT ...
   SELECT and one UPDATE ... FROM; unchanged rows are not written at all (no version
   bump, no history row);
6. record the import in ``rigenera.imports``; history rows carry its id.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import psycopg2
from psycopg2.extensions import cursor as Cursor
from psycopg2.extras import execute_values

from rigenera.editing.model import OFFICE_ONLY
from rigenera.errors import (
    Forbidden,
    ImportDataError,
    ImportOutOfReach,
    ImportRefused,
    WriteConflict,
    translate_db_error,
)
from rigenera.imports import record, writes
from rigenera.imports.frame import (
    COLLECTIONS,
    GEOM,
    ROW,
    Frame,
    ImportOptions,
    Note,
    RowError,
    SourceInfo,
    check_frame,
)
from rigenera.imports.reader import frame_notes
from rigenera.imports.report import Report
from rigenera.imports.schema import NOT_IMPORTED, PROJECT_CHILDREN, Target, describe, sql
from rigenera.imports.stage import copy_stage, create_stage, stage_children

LOG = logging.getLogger(__name__)

# Degrees of latitude per metre, with margin for longitude at 45.5° N (bounding-box prefilter).
DEG_PER_M = 1 / 70_000


# Collections whose comune a row may leave out: the comune its geometry lies in.
DERIVED_COMUNE = ("sites", "transit_stops", "needs")


def run(cur: Cursor, query: str, params: dict[str, Any] | None = None) -> None:
    """Execute with a parameter dict always (so '%%' in templates means '%')."""
    cur.execute(query, {"_": None, **(params or {})})


def _msg(it: str, en: str) -> str:
    return f"{it} / {en}"


def import_frame(cur: Cursor, frame: Frame, errors: list[RowError], options: ImportOptions,
                 source: SourceInfo) -> Report:
    """Check and (unless a dry run or refused) write `frame` into options.collection."""
    check_frame(frame)
    if options.collection not in COLLECTIONS:
        raise ImportDataError(f"collezione sconosciuta / unknown collection {options.collection}")
    if options.collection in OFFICE_ONLY and options.reach is not None:
        raise Forbidden(f"{options.collection}: solo amministratori e coordinatori la importano / "
                        "only admins and coordinators import it",
                        errors=[{"field": "collection", "reason": "admin or coordinator only"}])
    target = describe(cur, options.collection)
    extra = [c for c in frame.column_names if c not in (ROW, GEOM) and c not in target.columns
             and not (options.collection == "projects" and c in PROJECT_CHILDREN)]
    ignored = [c for c in frame.column_names if c in NOT_IMPORTED and c != "geom"]
    report = Report(collection=options.collection, file=source, user=options.actor,
                    dry_run=options.dry_run, skip_invalid=options.skip_invalid,
                    id=options.import_id, total=frame.num_rows)
    report.add_notes(frame_notes(frame))
    report.add_notes(options.notes)
    if extra or ignored:
        report.notes.append(Note("columns_ignored", _msg(
            "colonne non importate (non sono campi della collezione, o li scrive Rigenera)",
            "columns not imported (not fields of the collection, or kept by Rigenera)"),
            len(extra) + len(ignored), [*extra, *ignored]))
    if extra:
        frame = frame.drop_columns(extra)
    n = frame.num_rows
    report.counts["read"] = n

    if report.id is None:
        report.id = record.insert(cur, report, options)
    record.begin(cur, report, options)

    clock = _Clock(report)
    _drop_work_tables(cur)  # an earlier import_frame in the same transaction
    # 1. stage
    present = [c for c in target.writable if c in frame.column_names]
    create_stage(cur, target, list(target.writable))

    def staged(done: int) -> None:
        report.done = done
        if options.progress is not None:
            options.progress(done, n)

    coerce_errors = copy_stage(cur, frame, target, present, staged)
    _fit_geometry_type(cur, target)
    children = stage_children(cur, frame) if options.collection == "projects" else []
    run(cur, "ANALYZE _imp_stage (_row, source, source_id)")
    run(cur, "CREATE TEMP TABLE _imp_err (_row bigint, field text, reason text, value text,"
             " kind text NOT NULL DEFAULT 'invalid') ON COMMIT DROP")
    file_errors = [*errors, *coerce_errors]
    if file_errors:
        execute_values(cur, "INSERT INTO _imp_err (_row, field, reason, value) VALUES %s",
                       [(e.row, e.field, e.reason, e.value) for e in file_errors], page_size=5000)

    clock("stage")
    # 2. derive
    derived: list[str] = []
    if options.collection in DERIVED_COMUNE:
        run(cur, sql("derive_istat"))
        if "istat_code" not in present:
            present.append("istat_code")
            derived.append("istat_code")
    if options.collection == "projects":
        writes.derive_projects(cur, children)

    clock("derive")
    # 3. match
    _match(cur, target, options)
    clock("match")
    # 4. check
    _check(cur, target, options, present, children)
    clock("check")
    # 5. classify
    writes.classify(cur, target, present, children, derived)
    clock("classify")
    counts = writes.counts(cur)
    report.counts.update(counts)
    report.rejected = _rejected(cur)

    bad_file = [e for e in file_errors if e.row == 0]
    if bad_file:
        report.message = bad_file[0].reason
    _outside_hint(report, n)

    if options.reach is not None:
        problems = _reach(cur, target, options)
        if problems:
            report.rejected = problems + report.rejected
            report.message = _msg(
                f"{len({p.row for p in problems})} righe fuori dai tuoi comuni: nulla è stato scritto",
                f"{len({p.row for p in problems})} rows outside your comuni: nothing was written")
            report.finish("refused")
            raise ImportOutOfReach(report.message, errors=[
                {"row": p.row, "field": p.field, "reason": p.reason} for p in problems[:1000]],
                body={"import": report.id}, report=report)

    refuse = report.counts["invalid"] > 0 and not options.skip_invalid
    if options.dry_run:
        report.finish("dry_run")
    elif refuse or bad_file:
        report.message = report.message or _msg(
            f"{report.counts['invalid']} righe non valide: nulla è stato scritto "
            "(--skip-invalid scrive le righe valide)",
            f"{report.counts['invalid']} invalid rows: nothing was written "
            "(--skip-invalid writes the valid rows)")
        report.finish("refused")
        raise ImportRefused(report.message, errors=report.errors_json(), body={"import": report.id},
                            report=report)
    else:
        try:
            written = writes.write(cur, target, present, children, derived)
        except psycopg2.Error as exc:
            # A rule the checks did not foresee (a CHECK across a stored and a given column,
            # a deferred constraint, a concurrent writer's key): refused, naming the field.
            # The database away or a deadlock is not the file's fault: raised as it is.
            err = translate_db_error(exc)
            if err.status >= 500 or isinstance(err, WriteConflict):
                raise err from exc
            report.message = err.description
            report.finish("refused")
            raise ImportRefused(err.description, errors=err.errors, body={"import": report.id},
                                report=report) from exc
        report.counts["written"] = written
        clock("write")
        report.finish("succeeded")
    report.done = n
    if options.progress is not None:
        options.progress(n, n)
    record.update(cur, report)
    _drop_work_tables(cur)
    return report


WORK_TABLES = ("_imp_stage", "_imp_err", "_imp_match", "_imp_plan", "_imp_fl", "_imp_funding",
               "_imp_funding_given", "_imp_istat_codes", "_imp_istat_codes_given",
               "_imp_site_ids", "_imp_site_ids_given")


def _drop_work_tables(cur: Cursor) -> None:
    """The engine's temporary tables (ON COMMIT DROP): dropped at once, so several imports
    can share one transaction (load-open-data) without holding each other's rows."""
    run(cur, f"DROP TABLE IF EXISTS {', '.join(WORK_TABLES)}")


def _fit_geometry_type(cur: Cursor, target: Target) -> None:
    """A LineString where the table keeps MultiLineStrings is the same line (ST_Multi); a
    MultiPoint of one point where it keeps Points is that point. Anything else stays as
    it is, for the geometry check to name."""
    kind = target.geom_type.upper()
    if kind.startswith("MULTI"):
        run(cur, "UPDATE _imp_stage SET geom = ST_Multi(geom)"
                 " WHERE geom IS NOT NULL AND GeometryType(geom) = %(single)s",
            {"single": kind[len("MULTI"):]})
    elif kind in ("POINT", "LINESTRING", "POLYGON"):
        run(cur, "UPDATE _imp_stage SET geom = ST_GeometryN(geom, 1)"
                 " WHERE geom IS NOT NULL AND GeometryType(geom) = %(multi)s"
                 " AND ST_NumGeometries(geom) = 1", {"multi": "MULTI" + kind})


class _Clock:
    """Seconds per phase, into report.timings (the benchmark's breakdown)."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.t = time.perf_counter()

    def __call__(self, phase: str) -> None:
        now = time.perf_counter()
        self.report.timings[phase] = self.report.timings.get(phase, 0) + now - self.t
        self.t = now


def _match(cur: Cursor, target: Target, options: ImportOptions) -> None:
    is_projects = options.collection == "projects"
    is_sites = options.collection == "sites"
    cup_join = f"LEFT JOIN {target.table} c ON c.cup = s.cup" if is_projects else ""
    geom_join = sql("match_geometry").format(
        table=target.table, cup_null="AND c.id IS NULL" if is_projects else "") if is_sites else ""
    run(cur, sql("match").format(
        table=target.table, cup_id="c.id" if is_projects else "NULL::bigint",
        geom_id="g.id" if is_sites else "NULL::bigint", cup_join=cup_join, geom_join=geom_join),
        {"tol_deg": options.geometry_tolerance_m * DEG_PER_M,
         "tol_m": options.geometry_tolerance_m})
    run(cur, "CREATE INDEX ON _imp_match (_row); ANALYZE _imp_match")


def _check(cur: Cursor, target: Target, options: ImportOptions, present: list[str],
           children: list[str]) -> None:
    coll = options.collection
    # (failed condition, field, reason, value) per rule: the table's CHECK constraints
    # (geometry rules have their own statement and reasons, below), NOT NULL columns
    # without a default (given columns always, absent ones for new rows), foreign keys.
    rules: list[tuple[str, str, str, str]] = []
    for chk in target.checks:
        low = chk.expr.lower()
        if "st_isvalid" in low or "geometrytype" in low or "geometry_kind" in low:
            continue  # geometry: checked below with PostGIS's reasons
        if any(re.search(rf"\b{c}\b", chk.expr) for c in NOT_IMPORTED if c != "geom"):
            continue  # about what the import does not write (validation_status, version)
        value = chk.field if chk.field in target.columns else "NULL"
        rules.append((f"({chk.expr}) IS FALSE", chk.field, _check_reason(chk.name, chk.expr),
                      f"{value}::text"))
    for col in target.columns.values():
        if not col.not_null or col.default is not None or col.name in NOT_IMPORTED:
            continue
        cond = f"s.{col.name} IS NULL"
        if col.name not in present:
            cond += " AND m.key_id IS NULL AND m.cup_id IS NULL AND m.geom_id IS NULL"
        reason = _msg("obbligatorio", "required")
        if col.name == "istat_code" and coll in DERIVED_COMUNE:
            reason = _msg("obbligatorio: non è nel file e la geometria non cade in alcun comune",
                          "required: not in the file, and the geometry lies in no comune")
        rules.append((cond, col.name, reason, "NULL::text"))
    for fk in target.foreign_keys:
        rules.append((f"s.{fk.column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {fk.ref_table} r"
                      f" WHERE r.{fk.ref_column} = s.{fk.column})", fk.column,
                      _msg(f"non esiste in {fk.ref_table}", f"not found in {fk.ref_table}"),
                      f"{fk.column}::text"))
    if rules:
        # One scan computes which rules each row breaks; only the (few) failing rows are
        # then expanded into error rows.
        failed = ", ".join(f"CASE WHEN {cond} THEN {i} END" for i, (cond, *_rest) in enumerate(rules))
        values = ", ".join(f"({i}, {_lit(field)}, {_lit(reason)}, q.v{i})"
                           for i, (_c, field, reason, _v) in enumerate(rules))
        picks = ", ".join(f"{value} AS v{i}" for i, (*_r, value) in enumerate(rules))
        run(cur, "INSERT INTO _imp_err (_row, field, reason, value)"
                 " SELECT q._row, e.field, e.reason, e.value FROM ("
                 f"   SELECT s._row, array_remove(ARRAY[{failed}], NULL) AS failed, {picks}"
                 "     FROM _imp_stage s JOIN _imp_match m ON m._row = s._row) q"
                 f" CROSS JOIN LATERAL (VALUES {values}) e(i, field, reason, value)"
                 " WHERE cardinality(q.failed) > 0 AND e.i = ANY (q.failed)")
    # Geometry.
    gtype = target.geom_type
    if not target.has_geom:  # calls: no place; a geometry in the file is refused
        type_ok, allowed = "false", _lit("none: this collection has no geometry")
    elif gtype == "Geometry":
        type_ok, allowed = "true", "NULL"
        for chk in target.checks:
            if "geometrytype" in chk.expr.lower():
                type_ok = re.sub(r"\bgeom\b", "s.geom", chk.expr)
        if coll in ("sites", "needs"):
            allowed = _lit("Point, Polygon, MultiPolygon")
    else:
        type_ok = f"GeometryType(s.geom) = {_lit(gtype.upper())}"
        allowed = _lit(gtype)
    geom_required = "true" if target.geom_not_null else "false"
    if coll == "projects":
        geom_required = "false"  # a project is located by its comuni too (checked below)
    run(cur, sql("geometry_checks").format(
        geom_required=geom_required, type_ok=type_ok, allowed=allowed,
        check_area="false" if options.external else "true"))
    if coll == "projects":
        writes.check_projects(cur, children)
    run(cur, sql("duplicates").format(
        cup_duplicates=sql("cup_duplicates") if coll == "projects" else "",
        geom_duplicates=sql("geom_duplicates") if coll == "sites" else "",
        cup_id="m.cup_id"))
    if coll == "projects":
        run(cur, "INSERT INTO _imp_err (_row, field, reason, value)"
                 " SELECT m._row, 'cup', format('CUP già usato dal progetto %%s / CUP already"
                 " used by project %%s', m.cup_id, m.cup_id), s.cup"
                 " FROM _imp_match m JOIN _imp_stage s USING (_row)"
                 " WHERE m.key_id IS NOT NULL AND m.cup_id IS NOT NULL AND m.key_id <> m.cup_id")


def _check_reason(name: str, expr: str) -> str:
    """'violates sites_state_check', with the allowed codes when the rule lists them."""
    allowed = re.findall(r"'([^']*)'::text", expr) if "ANY (ARRAY[" in expr else []
    if allowed:
        codes = ", ".join(allowed)
        return _msg(f"valore non ammesso (ammessi: {codes})",
                    f"value not allowed (allowed: {codes}); rule {name}")
    return _msg(f"viola la regola {name}", f"violates {name}")


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _rejected(cur: Cursor) -> list[RowError]:
    run(cur, "SELECT _row, field, reason, value FROM _imp_err ORDER BY _row, kind DESC, field")
    return [RowError(int(r), f, reason, v) for r, f, reason, v in cur.fetchall()]


def _outside_hint(report: Report, n: int) -> None:
    """Most rows outside the metro area: the CRS is probably wrong; say so once."""
    outside = {e.row for e in report.rejected if e.reason.startswith("fuori dalla Città")}
    if n and len(outside) > max(1, n // 2):
        crs = report.file.crs or "?"
        report.message = _msg(
            f"{len(outside)} righe su {n} sono fuori dalla Città metropolitana: il sistema di "
            f"riferimento ({crs}) è giusto? Indicarlo con --crs",
            f"{len(outside)} of {n} rows lie outside the metropolitan area: is the CRS ({crs}) "
            "right? Give it with --crs")


def _reach(cur: Cursor, target: Target, options: ImportOptions) -> list[RowError]:
    """A technician's reach over the rows to write and the stored rows they update."""
    codes = list(options.reach or ())
    coll = options.collection
    if coll == "projects":
        new = ("rigenera.reach_problems(%(codes)s::text[], s.geom, NULL, "
               "coalesce(s._codes, (SELECT array_agg(istat_code) FROM rigenera.project_comuni pc"
               " WHERE pc.project_id = p.target_id)), s._site_ids)")
    elif coll in ("sites", "transit_stops", "needs"):
        new = "rigenera.reach_problems(%(codes)s::text[], s.geom, s.istat_code)"
    else:
        new = "rigenera.reach_problems(%(codes)s::text[], s.geom)"
    run(cur, f"""SELECT q._row, x ->> 'field', x ->> 'reason', q.what FROM (
          SELECT s._row, {new} AS problems, 'new' AS what
            FROM _imp_stage s JOIN _imp_plan p USING (_row) WHERE p.action IN ('create', 'update')
          UNION ALL
          SELECT p._row, rigenera.reach_problems(t, %(codes)s::text[]), 'stored'
            FROM _imp_plan p JOIN {target.table} t ON t.id = p.target_id
           WHERE p.action = 'update') q, jsonb_array_elements(q.problems) x
        ORDER BY q._row""", {"codes": codes})
    out = []
    for row, field, reason, what in cur.fetchall():
        if what == "stored":
            reason = _msg("(come è ora) ", "(as stored) ") + reason
        out.append(RowError(int(row), field, reason, None))
    return out
