"""The aggregates of a report: one Table per grouping, plus funding by source and the
yearly assignments, read from PostgreSQL by the SQL in ``sql/``.

How a project is counted in each grouping (the reconciliation rule, tested):
* comune: a project of n comuni appears in each; its amounts and quantities (cost,
  funding lines, spending, outcomes) are shared equally among them by
  ``rigenera.share`` (the cents left over go one each to the first comuni in ISTAT
  order), so the per-comune sums equal the metro total to the cent. Metro-area projects
  (scope ``metro_area``) form the group ``metro_area``, projects without comune ``none``.
  Counts (projects, overdue deadlines) are whole in each comune: the totals row counts
  each project once.
* programme: funding lines go to their own programme group (PNRR code at the level
  asked, other sources by funding source); a project, its cost, spending and outcomes
  to its main programme (its largest PNRR line, else its largest line).
* status, phase (latest progress record; ``none`` without one), year (start year;
  ``none`` without a start date): each project in one group.
Money is Decimal throughout; the totals row sums the group rows (exact) and takes the
counts from the whole selection.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from importlib import resources
from typing import Any

import psycopg2

from rigenera.domains import DOMAINS, FUNDING_SOURCE, PHASE
from rigenera.evaluation.tables import evaluation_tables
from rigenera.reports.model import Column, Report, Table
from rigenera.reports.request import ReportRequest, bad

STATEMENT_TIMEOUT_MS = 300_000
# Other rooms' tables (evaluation...): each producer gets the report's cursor (same
# read-only snapshot) and request and returns Tables, appended after the aggregates, so
# they reach every format. Register with PRODUCERS.append(fn).
Producer = Callable[[Any, ReportRequest], list[Table]]


def evaluation_producer(cur: Any, req: ReportRequest) -> list[Table]:
    """The evaluation's per-comune, metro and vulnerability tables (rigenera.evaluation),
    in the same snapshot. They are not filtered by programme or status: a report filtered
    that way (or to the published projects) leaves them out rather than print figures of
    another selection. The per-project
    evaluation is GET /api/evaluation/projects (one row per project: too long for a PDF)."""
    if req.programme or req.status or req.published:
        return []
    _projects, *tables = evaluation_tables(cur.connection, comuni=list(req.comuni) or None)
    return tables


PRODUCERS: list[Producer] = [evaluation_producer]


def _sql(name: str) -> str:
    return resources.files("rigenera.reports").joinpath("sql", f"{name}.sql").read_text()


_SELECTION = _sql("selection")


def _template(name: str, **parts: str) -> str:
    return string.Template(_sql(name)).substitute(selection=_SELECTION, **parts)


# Labels of PNRR missions and components (and the investments our data hold).
PROGRAMMES: dict[str, tuple[str, str]] = {
    "M1": ("M1 Digitalizzazione, innovazione, competitività, cultura e turismo",
           "M1 Digitalisation, innovation, competitiveness, culture and tourism"),
    "M1C3": ("M1C3 Turismo e cultura 4.0", "M1C3 Tourism and culture 4.0"),
    "M2": ("M2 Rivoluzione verde e transizione ecologica", "M2 Green revolution and ecological transition"),
    "M2C2": ("M2C2 Energia rinnovabile, idrogeno, rete e mobilità sostenibile",
             "M2C2 Renewable energy, hydrogen, grid and sustainable mobility"),
    "M5": ("M5 Inclusione e coesione", "M5 Inclusion and cohesion"),
    "M5C2": ("M5C2 Infrastrutture sociali, famiglie, comunità e terzo settore",
             "M5C2 Social infrastructure, families, communities and the third sector"),
    "M5C2I2.01": ("M5C2 inv. 2.1 Rigenerazione urbana", "M5C2 inv. 2.1 Urban regeneration"),
    "M5C2I2.01.00": ("M5C2 inv. 2.1 Rigenerazione urbana", "M5C2 inv. 2.1 Urban regeneration"),
    "M5C2I2.02": ("M5C2 inv. 2.2 Piani urbani integrati", "M5C2 inv. 2.2 Integrated urban plans"),
    "M5C2I2.03": ("M5C2 inv. 2.3 Qualità dell'abitare (PINQuA)", "M5C2 inv. 2.3 Quality of living (PINQuA)"),
}
SPECIAL: dict[str, tuple[str, str]] = {
    "metro_area": ("Area metropolitana (tutti i comuni)", "Metropolitan area (all comuni)"),
    "none": ("Non indicato", "Not stated"),
    "pnrr": ("PNRR (misura non indicata)", "NRRP (measure not stated)"),
}

# The metric columns every grouping carries, in order (JSON keys other programs read).
METRICS: list[Column] = [
    Column("projects", "Progetti", "Projects", "int"),
    Column("total_cost_eur", "Costo totale", "Total cost", "eur"),
    Column("requested_eur", "Richiesto (tutte le linee)", "Requested (all lines)", "eur"),
    Column("granted_eur", "Concesso", "Granted", "eur"),
    Column("not_granted_eur", "Non concesso", "Not granted", "eur"),
    Column("pending_eur", "In istruttoria", "Pending", "eur"),
    Column("revoked_eur", "Revocato", "Revoked", "eur"),
    Column("pnrr_granted_eur", "Concesso PNRR", "NRRP granted", "eur"),
    Column("other_granted_eur", "Concesso altre fonti", "Granted, other sources", "eur"),
    Column("funding_lines", "Linee di finanziamento", "Funding lines", "int"),
    Column("lines_without_amount", "Linee senza importo pubblicato", "Lines without published amount", "int"),
    Column("spent_eur", "Speso", "Spent", "eur"),
    Column("paid_eur", "Pagato", "Paid", "eur"),
    Column("spent_share", "Speso / concesso", "Spent / granted", "share"),
    Column("projects_with_progress", "Progetti con avanzamento", "Projects with progress", "int"),
    Column("housing_units_fragile", "Alloggi fasce deboli (previsti)", "Housing units, fragile (planned)",
           "int"),
    Column("housing_units_fragile_achieved", "Alloggi fasce deboli (realizzati)",
           "Housing units, fragile (achieved)", "number"),
    Column("cultural_space_m2", "Spazi culturali m² (previsti)", "Cultural space m² (planned)", "number"),
    Column("cultural_space_m2_achieved", "Spazi culturali m² (realizzati)", "Cultural space m² (achieved)",
           "number"),
    Column("community_space_m2", "Spazi comunitari m² (previsti)", "Community space m² (planned)", "number"),
    Column("community_space_m2_achieved", "Spazi comunitari m² (realizzati)",
           "Community space m² (achieved)", "number"),
    Column("productive_space_m2", "Spazi produttivi m² (previsti)", "Productive space m² (planned)",
           "number"),
    Column("productive_space_m2_achieved", "Spazi produttivi m² (realizzati)",
           "Productive space m² (achieved)", "number"),
    Column("regenerated_m2", "m² rigenerati (previsti)", "m² regenerated (planned)", "number"),
    Column("regenerated_m2_achieved", "m² rigenerati (realizzati)", "m² regenerated (achieved)", "number"),
    Column("overdue_deadlines", "Scadenze scadute", "Overdue deadlines", "int"),
    Column("projects_overdue", "Progetti con scadenze scadute", "Projects with overdue deadlines", "int"),
]
# Counts: whole in each group, so the totals row takes them from the whole selection.
COUNTS = ("projects", "funding_lines", "lines_without_amount", "projects_with_progress",
          "overdue_deadlines", "projects_overdue")
GROUP = Column("group", "Gruppo (codice)", "Group (code)", "text")
GROUP_LABEL = Column("group_label", "Gruppo", "Group", "text")
KEYS: dict[str, list[Column]] = {
    "comune": [Column("istat_code", "Codice ISTAT", "ISTAT code", "text"),
               Column("comune", "Comune", "Comune", "text"),
               Column("population", "Popolazione", "Population", "int"),
               Column("ivsm", "IVSM (2018)", "IVSM (2018)", "number")],
    "programme": [Column("programme_code", "Codice programma", "Programme code", "text"),
                  Column("funding_source", "Fonte", "Source", "text")],
    "status": [Column("status", "Stato", "Status", "text")],
    "phase": [Column("phase", "Fase", "Phase", "text")],
    "year": [Column("year", "Anno di avvio", "Start year", "year")],
}
TITLES = {
    "comune": ("Progetti per comune", "Projects by comune"),
    "programme": ("Progetti per programma", "Projects by programme"),
    "status": ("Progetti per stato", "Projects by status"),
    "phase": ("Progetti per fase (ultimo avanzamento)", "Projects by phase (latest progress)"),
    "year": ("Progetti per anno di avvio", "Projects by start year"),
}


def connect(dsn: str) -> Any:
    """Read-only, repeatable read: every table of a report from one snapshot."""
    conn = psycopg2.connect(dsn, options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"
                                         " -c TimeZone=UTC -c jit=off -c application_name=rigenera-report")
    conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
    return conn


def _params(req: ReportRequest) -> dict[str, Any]:
    return {"status": list(req.status) or None, "programme": req.programme,
            "comuni": list(req.comuni) or None, "level": req.programme_level,
            "published": req.published}


def _fetch(cur: Any, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    cur.execute(sql, params)
    names = [d.name for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _rows(cur: Any, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    cur.execute(sql, params)
    return list(cur.fetchall())


def comuni(cur: Any, req: ReportRequest) -> dict[str, dict[str, Any]]:
    rows = _fetch(cur, _sql("comuni"), _params(req))
    return {r["istat_code"]: r for r in rows}


def check_comuni(cur: Any, req: ReportRequest) -> dict[str, dict[str, Any]]:
    """The comuni (all of them, for names); asked codes that are no comune: 400."""
    known = comuni(cur, ReportRequest())
    unknown = [c for c in req.comuni if c not in known]
    if unknown:
        raise bad("comuni", "comuni sconosciuti / unknown comuni: " + ", ".join(unknown[:10]))
    return known


def _label(by: str, key: str, lang: str, names: dict[str, dict[str, Any]]) -> str:
    i = 1 if lang == "en" else 0
    if key in SPECIAL and not (by == "programme" and key in FUNDING_SOURCE):
        return SPECIAL[key][i]
    if by == "comune":
        return str(names[key]["name"]) if key in names else key
    if by == "programme":
        if key in FUNDING_SOURCE:
            return FUNDING_SOURCE[key][i]
        return PROGRAMMES.get(key, (key, key))[i]
    if by == "status":
        return DOMAINS[("projects", "status")].get(key, (key, key))[i]
    if by == "phase":
        return PHASE.get(key, (key, key))[i]
    return key


def _keys(by: str, key: str, names: dict[str, dict[str, Any]]) -> dict[str, Any]:
    real = key not in SPECIAL
    if by == "comune":
        c = names.get(key, {}) if real else {}
        return {"istat_code": key if real else None, "comune": c.get("name"),
                "population": c.get("population"), "ivsm": c.get("ivsm")}
    if by == "programme":
        pnrr = key not in FUNDING_SOURCE and key != "none"
        return {"programme_code": key if pnrr and key != "pnrr" else None,
                "funding_source": "pnrr" if pnrr else (None if key == "none" else key)}
    if by == "year":
        return {"year": int(key) if key.isdigit() else None}
    return {by: key if real else None}


def _share(spent: Decimal, granted: Decimal) -> Decimal | None:
    return (spent / granted).quantize(Decimal("0.0001")) if granted else None


def group_table(cur: Any, req: ReportRequest, by: str, names: dict[str, dict[str, Any]],
                totals: dict[str, Any]) -> Table:
    """The grouping `by` of the selection, with its totals row."""
    line_groups = "lg_programme" if by == "programme" else "lg_project"
    sql = _template("aggregate", project_groups=_sql(f"pg_{by}"), line_groups=_sql(line_groups))
    rows = _fetch(cur, sql, _params(req))
    if by == "comune":  # every comune asked (all: the metro area's), with or without projects
        have = {r["gkey"] for r in rows}
        wanted = req.comuni or tuple(names)
        rows += [{"gkey": c, **{m.name: 0 for m in METRICS if m.name != "spent_share"}}
                 for c in wanted if c not in have]
        rows.sort(key=lambda r: (r["gkey"] in SPECIAL, r["gkey"]))
    out = []
    for r in rows:
        key = str(r.pop("gkey"))
        row = {"group": key, "group_label": _label(by, key, req.lang, names),
               **_keys(by, key, names), **r}
        row["spent_share"] = _share(row["spent_eur"], row["granted_eur"])
        out.append(row)
    total: dict[str, Any] = {"group": None, "group_label": "Totale" if req.lang == "it" else "Total"}
    for m in METRICS:
        if m.name in COUNTS:
            total[m.name] = totals[m.name]
        elif m.kind in ("eur", "number", "int"):
            total[m.name] = sum((r[m.name] for r in out), Decimal(0) if m.kind != "int" else 0)
    total["spent_share"] = _share(total["spent_eur"], total["granted_eur"])
    title_it, title_en = TITLES[by]
    if by == "programme":
        level = {"mission": ("missione", "mission"), "component": ("componente", "component"),
                 "investment": ("investimento", "investment"),
                 "submeasure": ("sub-misura", "sub-measure")}[req.programme_level]
        title_it, title_en = f"{title_it} ({level[0]})", f"{title_en} ({level[1]})"
    return Table(f"by_{by}", title_it, title_en, [GROUP, GROUP_LABEL, *KEYS[by], *METRICS], out, total)


def sources_table(cur: Any, req: ReportRequest) -> Table:
    i = 1 if req.lang == "en" else 0
    rows = _fetch(cur, _template("sources"), _params(req))
    for r in rows:
        r["funding_source_label"] = FUNDING_SOURCE.get(r["funding_source"], (r["funding_source"],) * 2)[i]
    money = ("requested_eur", "granted_eur", "not_granted_eur", "pending_eur", "revoked_eur")
    totals: dict[str, Any] = {"funding_source": None,
                              "funding_source_label": "Totale" if i == 0 else "Total"}
    for k in money:
        totals[k] = sum((r[k] for r in rows), Decimal(0))
    for k in ("funding_lines", "lines_without_amount"):
        totals[k] = sum(r[k] for r in rows)
    cols = [Column("funding_source", "Fonte (codice)", "Source (code)"),
            Column("funding_source_label", "Fonte", "Source"),
            Column("projects", "Progetti", "Projects", "int"),
            Column("funding_lines", "Linee", "Lines", "int"),
            Column("lines_without_amount", "Linee senza importo", "Lines without amount", "int"),
            *[c for c in METRICS if c.name in money]]
    return Table("funding_by_source", "Finanziamenti per fonte e stato", "Funding by source and status",
                 cols, rows, totals)


def assignments_table(cur: Any, req: ReportRequest) -> Table:
    rows = _fetch(cur, _template("assignments"), _params(req))
    totals = {"year": None, "assigned_eur": sum((r["assigned_eur"] for r in rows), Decimal(0)),
              "funding_lines": None, "projects": None}
    cols = [Column("year", "Anno", "Year", "year"),
            Column("projects", "Progetti", "Projects", "int"),
            Column("funding_lines", "Linee di finanziamento", "Funding lines", "int"),
            Column("assigned_eur", "Assegnato", "Assigned", "eur")]
    return Table("assignments_by_year", "Assegnazioni annuali", "Yearly assignments", cols, rows, totals)


def build_report(dsn: str, req: ReportRequest, *, extra_by: tuple[str, ...] = ()) -> Report:
    """The report of `req`: its grouping, funding by source, yearly assignments (and the
    groupings of `extra_by`, e.g. the per-comune figures a GeoPackage's comuni layer needs)."""
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            names = check_comuni(cur, req)
            totals = _fetch(cur, _template("totals"), _params(req))[0]
            tables = [group_table(cur, req, by, names, totals)
                      for by in dict.fromkeys((req.by, *extra_by))]
            tables += [sources_table(cur, req), assignments_table(cur, req)]
            for produce in PRODUCERS:
                tables += produce(cur, req)
    finally:
        conn.close()
    return Report(
        title_it="Rendicontazione dei progetti di rigenerazione",
        title_en="Regeneration projects report",
        filters=req.filters(), generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        tables=tables, notes=NOTES[1 if req.lang == "en" else 0])


NOTES = (
    ["Importi in euro. Un progetto di più comuni è contato in ciascuno; costi, finanziamenti, "
     "spese ed esiti sono ripartiti in parti uguali fra i suoi comuni (i centesimi residui ai primi "
     "in ordine di codice ISTAT): le somme per comune sono uguali al totale. Il totale conta ogni "
     "progetto una volta.",
     "Per programma: ogni linea di finanziamento nel proprio programma; progetti, costi, spese ed "
     "esiti nel programma principale del progetto (la sua linea PNRR maggiore).",
     "Linee senza importo pubblicato: ReGiS localizza il progetto sulla misura senza pubblicarne "
     "l'importo. Speso e pagato: dall'ultimo record di avanzamento.",
     "Tabelle di valutazione (evaluation_*, senza filtri di programma o stato): contano i progetti "
     "non respinti (stato o revisione); PNRR per abitante sugli importi pubblicati; vicinanza al "
     "trasporto solo per i progetti localizzati da una geometria propria.",
     "Fonti: Italia Domani – Open Data PNRR (ReGiS), CC BY 4.0; DM 30/12/2021 rigenerazione urbana, "
     "dati #datiBeneComune, CC BY-SA 4.0."],
    ["Amounts in euros. A project of several comuni is counted in each; cost, funding, spending and "
     "outcomes are shared equally among its comuni (left-over cents to the first in ISTAT order): "
     "per-comune sums equal the total. The total counts each project once.",
     "By programme: each funding line in its own programme; projects, cost, spending and outcomes "
     "in the project's main programme (its largest NRRP line).",
     "Lines without published amount: ReGiS localises the project on the measure without publishing "
     "the amount. Spent and paid: from the latest progress record.",
     "Evaluation tables (evaluation_*, without programme or status filters): they count the projects "
     "not rejected (status or review); NRRP per inhabitant on the published amounts; nearness to "
     "transit only for projects located by a geometry of their own.",
     "Sources: Italia Domani – Open Data PNRR (ReGiS), CC BY 4.0; DM 30/12/2021 urban regeneration, "
     "#datiBeneComune data, CC BY-SA 4.0."],
)
