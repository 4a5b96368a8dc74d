"""Classify the staged rows and write them: one statement per kind of write.

The value written for a column is the file's, except: a NOT NULL column with a
default takes the default on create and keeps the stored value on update when the
file leaves it empty; a feature matched by CUP or by geometry keeps its stored
(source, source_id) (its identity), only a key match may rewrite them; a project's
geometry found by a person (geom_source other than comune_point) is never replaced
by a comune's point, and a stored project without a geometry gets none from a file row
without one (a comune point is drawn for new projects and redrawn for projects already
at one: so export-then-import changes nothing). A row whose every written value equals the stored one is
"unchanged" and not written at all: no version bump, no history row.
"""

from __future__ import annotations

from typing import Any

from psycopg2.extensions import cursor as Cursor

from rigenera.imports.schema import Target, describe, sql


def _run(cur: Cursor, query: str, params: dict[str, Any] | None = None) -> None:
    cur.execute(query, {"_": None, **(params or {})})


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


KEEP_IDENTITY = ("source", "source_id")


def _new_value(target: Target, col: str, *, update: bool, derived: list[str] = ()) -> str:  # type: ignore[assignment]
    """The value a present column takes: the file's, or the default/stored one for NULL.
    A derived column (not in the file: a site's comune) is kept as stored on update,
    unless the geometry it was derived from changes."""
    c = target.columns[col]
    if update and col in derived:
        return (f"CASE WHEN s.geom IS NOT DISTINCT FROM t.geom THEN t.{col}"
                f" ELSE coalesce(s.{col}, t.{col}) END")
    if c.not_null and c.default is not None:
        return f"coalesce(s.{col}, {'t.' + col if update else c.default})"
    if update and col in KEEP_IDENTITY:
        return f"CASE WHEN m.key_id IS NULL THEN t.{col} ELSE s.{col} END"
    return f"s.{col}"


def _geom_value(target: Target, *, update: bool) -> str:
    if target.collection != "projects":
        return "s.geom"
    if not update:
        return "coalesce(s.geom, s._point)"
    return ("CASE WHEN s.geom IS NOT NULL THEN s.geom"
            " WHEN t.geom IS NOT NULL AND t.geom_source <> 'comune_point' THEN t.geom"
            " WHEN s._codes IS NOT NULL AND t.geom IS NOT NULL THEN s._point ELSE t.geom END")


def _geom_source_value(*, update: bool, present: bool) -> str:
    given = "s.geom_source" if present else "NULL::text"
    if not update:
        return (f"CASE WHEN s.geom IS NULL AND s._point IS NOT NULL THEN 'comune_point'"
                f" ELSE coalesce({given}, 'unknown') END")
    return (f"CASE WHEN s.geom IS NOT NULL THEN coalesce({given}, CASE WHEN t.geom_source ="
            f" 'comune_point' THEN 'unknown' ELSE t.geom_source END)"
            f" WHEN t.geom IS NOT NULL AND t.geom_source <> 'comune_point' THEN t.geom_source"
            f" WHEN s._codes IS NOT NULL AND t.geom IS NOT NULL"
            f" THEN CASE WHEN s._point IS NOT NULL THEN 'comune_point'"
            f" ELSE coalesce({given}, 'unknown') END ELSE t.geom_source END")


def _columns(target: Target, present: list[str]) -> list[str]:
    return [c for c in present if not (target.collection == "projects" and c == "geom_source")]


# ------------------------------------------------------------------------- projects
def derive_projects(cur: Cursor, children: list[str]) -> None:
    """A project's comuni and sites as arrays on its staged row, and its comune point."""
    _run(cur, "ALTER TABLE _imp_stage ADD COLUMN _codes text[], ADD COLUMN _site_ids bigint[],"
              " ADD COLUMN _point geometry")
    if "istat_codes" in children:
        _run(cur, "UPDATE _imp_stage s SET _codes = coalesce(c.codes, '{}')"
                  " FROM _imp_istat_codes_given g LEFT JOIN (SELECT _row,"
                  "   array_agg(DISTINCT istat_code ORDER BY istat_code) codes"
                  "   FROM _imp_istat_codes WHERE istat_code IS NOT NULL GROUP BY _row) c"
                  "   USING (_row) WHERE g._row = s._row")
    if "site_ids" in children:
        _run(cur, "UPDATE _imp_stage s SET _site_ids = coalesce(c.ids, '{}')"
                  " FROM _imp_site_ids_given g LEFT JOIN (SELECT _row,"
                  "   array_agg(DISTINCT site_id ORDER BY site_id) ids"
                  "   FROM _imp_site_ids WHERE site_id IS NOT NULL GROUP BY _row) c"
                  "   USING (_row) WHERE g._row = s._row")
    _run(cur, "UPDATE _imp_stage SET _point = rigenera.comune_point(_codes)"
              " WHERE geom IS NULL AND cardinality(_codes) > 0"
              "   AND coalesce(scope, 'local') <> 'metro_area'")
    if "funding" in children:
        _run(cur, sql("funding_stage"))


def check_projects(cur: Cursor, children: list[str]) -> None:
    """Located (geometry, comuni or the whole metro area), known comuni and sites, and
    the funding lines' own rules (funding_lines' CHECK constraints, read like the table's)."""
    _run(cur, "INSERT INTO _imp_err (_row, field, reason, value)"
              " SELECT s._row, 'istat_codes', 'un progetto ha bisogno di una geometria o di"
              " almeno un comune / a project needs a geometry or at least one comune', NULL"
              " FROM _imp_stage s JOIN _imp_match m USING (_row)"
              " WHERE s.geom IS NULL AND s._point IS NULL AND coalesce(s.scope, 'local') <> 'metro_area'"
              "   AND m.key_id IS NULL AND m.cup_id IS NULL")
    if "istat_codes" in children:
        _run(cur, "INSERT INTO _imp_err (_row, field, reason, value)"
                  " SELECT c._row, 'istat_codes', 'comune sconosciuto / unknown comune', c.istat_code"
                  " FROM _imp_istat_codes c WHERE c.istat_code IS NOT NULL AND NOT EXISTS"
                  " (SELECT 1 FROM rigenera.comuni k WHERE k.istat_code = c.istat_code)")
    if "site_ids" in children:
        _run(cur, "INSERT INTO _imp_err (_row, field, reason, value)"
                  " SELECT c._row, 'site_ids', 'sito inesistente / no such site', c.site_id::text"
                  " FROM _imp_site_ids c WHERE c.site_id IS NOT NULL AND NOT EXISTS"
                  " (SELECT 1 FROM rigenera.sites k WHERE k.id = c.site_id)")
    if "funding" in children:
        fl = describe(cur, "funding_lines")
        cases = []
        for chk in fl.checks:
            cases.append(f"(CASE WHEN ({chk.expr}) IS FALSE THEN {_lit('funding.' + chk.field)}"
                         f" END, {_lit(f'viola la regola {chk.name} / violates {chk.name}')},"
                         f" {chk.field if chk.field in fl.columns else 'NULL'}::text)")
        for col in (c for c in ("funding_source", "amount_eur") if fl.columns[c].not_null):
            cases.append(f"(CASE WHEN {col} IS NULL THEN {_lit('funding.' + col)} END,"
                         f" 'obbligatorio / required', NULL::text)")
        cases.append("(CASE WHEN amount_text IS NOT NULL AND amount_eur IS NULL THEN"
                     " 'funding.amount_eur' END, 'non è un importo / not an amount', amount_text)")
        _run(cur, "INSERT INTO _imp_err (_row, field, reason, value)"
                  " SELECT f._row, e.field, e.reason, e.value FROM _imp_fl f"
                  f" CROSS JOIN LATERAL (VALUES {', '.join(cases)}) e(field, reason, value)"
                  " WHERE e.field IS NOT NULL")


def _children_same(children: list[str]) -> list[str]:
    same = []
    if "istat_codes" in children:
        same.append("(s._codes IS NULL OR s._codes = ARRAY(SELECT pc.istat_code FROM"
                    " rigenera.project_comuni pc WHERE pc.project_id = t.id ORDER BY 1))")
    if "site_ids" in children:
        same.append("(s._site_ids IS NULL OR s._site_ids = ARRAY(SELECT ps.site_id FROM"
                    " rigenera.project_sites ps WHERE ps.project_id = t.id ORDER BY 1))")
    if "funding" in children:
        same.append(sql("funding_same").strip())
    return same


# ------------------------------------------------------------------------- classify
def classify(cur: Cursor, target: Target, present: list[str], children: list[str],
             derived: list[str]) -> None:
    """_imp_plan: each row's action and the id it writes (new ids drawn in row order)."""
    same = [f"{_new_value(target, c, update=True, derived=derived)} IS NOT DISTINCT FROM t.{c}"
            for c in _columns(target, present)]
    if target.has_geom:
        same.append(f"{_geom_value(target, update=True)} IS NOT DISTINCT FROM t.geom")
    if target.collection == "projects":
        same.append(f"{_geom_source_value(update=True, present='geom_source' in present)}"
                    " IS NOT DISTINCT FROM t.geom_source")
        same += _children_same(children)
    _run(cur, sql("classify").format(table=target.table, same=" AND ".join(same)))
    _run(cur, "CREATE INDEX ON _imp_plan (_row); ANALYZE _imp_plan")


def counts(cur: Cursor) -> dict[str, int]:
    _run(cur, "SELECT action, count(*) FROM _imp_plan GROUP BY action")
    got = {a: int(n) for a, n in cur.fetchall()}
    return {"created": got.get("create", 0), "updated": got.get("update", 0),
            "unchanged": got.get("unchanged", 0), "duplicates": got.get("duplicate", 0),
            "invalid": got.get("invalid", 0)}


# ---------------------------------------------------------------------------- write
def write(cur: Cursor, target: Target, present: list[str], children: list[str],
          derived: list[str]) -> int:
    """Creates and updates; returns how many features were written."""
    cols = _columns(target, present)
    is_projects = target.collection == "projects"
    geom = ["geom"] if target.has_geom else []  # calls have no geometry column
    ins_cols = ["id", *cols, *geom] + (["geom_source"] if is_projects else [])
    ins_vals = (["p.target_id"] + [_new_value(target, c, update=False) for c in cols]
                + [_geom_value(target, update=False) for _ in geom]
                + ([_geom_source_value(update=False, present="geom_source" in present)]
                   if is_projects else []))
    _run(cur, f"INSERT INTO {target.table} ({', '.join(ins_cols)})"
              f" SELECT {', '.join(ins_vals)} FROM _imp_stage s JOIN _imp_plan p USING (_row)"
              " WHERE p.action = 'create' ORDER BY p.target_id")
    created = cur.rowcount
    sets = [f"{c} = {_new_value(target, c, update=True, derived=derived)}" for c in cols]
    if target.has_geom:
        sets.append(f"geom = {_geom_value(target, update=True)}")
    if is_projects:
        sets.append(f"geom_source = {_geom_source_value(update=True, present='geom_source' in present)}")
    _run(cur, f"UPDATE {target.table} t SET {', '.join(sets)}"
              " FROM _imp_stage s JOIN _imp_plan p USING (_row) JOIN _imp_match m USING (_row)"
              " WHERE p.action = 'update' AND t.id = p.target_id")
    updated = cur.rowcount
    if is_projects:
        if "istat_codes" in children:
            _run(cur, sql("write_project_comuni"))
        if "site_ids" in children:
            _run(cur, sql("write_project_sites"))
        if "funding" in children:
            _run(cur, sql("write_funding"))
        _run(cur, "SET CONSTRAINTS ALL IMMEDIATE")
    return created + updated
