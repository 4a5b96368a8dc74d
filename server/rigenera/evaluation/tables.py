"""The evaluation as report Tables (reports/model.py): per project, per comune, metro.

The numbers come from three SQL statements (sql/*.sql, sharing base.sql); Python only
adds the shares (a ratio of two sums, so a share of the metro row is the share of the
metro sums, never an average of the comuni's shares) and turns values into the model's
kinds: money Decimal to the cent, shares Decimal 0..1 to 4 places.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Any

from rigenera.evaluation.params import EvaluationParams, check_comuni, parse
from rigenera.reports.model import Column, Table

_SQL = resources.files("rigenera.evaluation").joinpath("sql")
_BASE = _SQL.joinpath("base.sql").read_text()
_COMUNI_BASE = _SQL.joinpath("comuni_base.sql").read_text()
QUERIES = {
    "projects": _BASE + _SQL.joinpath("projects.sql").read_text(),
    "comuni": _BASE + _COMUNI_BASE + _SQL.joinpath("comuni.sql").read_text(),
    "metro": _BASE + _COMUNI_BASE + _SQL.joinpath("metro.sql").read_text(),
}
CENT = Decimal("0.01")
SHARE = Decimal("0.0001")
IVSM = Decimal("0.000001")
INDICATORS = [  # (field, label it, label en)
    ("housing_units_fragile", "alloggi per fragili", "housing units for fragile groups"),
    ("cultural_space_m2", "m² spazi culturali", "m² cultural space"),
    ("community_space_m2", "m² spazi di comunità", "m² community space"),
    ("productive_space_m2", "m² spazi produttivi", "m² productive space"),
    ("regenerated_m2", "m² rigenerati", "m² regenerated"),
]
# share column -> (numerator, denominator)
SHARES: dict[str, tuple[str, str]] = {
    "spent_share": ("spent_eur", "granted_eur"),
    "paid_share": ("paid_eur", "granted_eur"),
    "spent_of_cost_share": ("spent_eur", "total_cost_eur"),
    **{f"{f}_share": (f"achieved_{f}", f"planned_{f}") for f, _, _ in INDICATORS},
    "projects_near_transit_share": ("projects_near_transit", "projects_located"),
    "sites_near_transit_share": ("sites_near_transit", "sites"),
    "sites_regenerated_share": ("sites_regenerated", "sites"),
}
NOTES = [
    "Progetti valutati: tutti tranne quelli respinti (stato o revisione). / Evaluated "
    "projects: all but rejected ones (status or review).",
    "Progetti di più comuni: importi, superfici e alloggi ripartiti in parti uguali tra i "
    "comuni (al centesimo, alloggi interi, resto ai primi codici ISTAT), così la somma dei "
    "comuni è il totale metropolitano; i conteggi contano il progetto in ogni suo comune. / Multi-comune "
    "projects: amounts, areas and housing units split in equal shares (to the cent, housing "
    "units whole, the remainder to the first ISTAT codes), so the comuni add up to the metro "
    "total; counts count the project in each of its comuni.",
    "Vicino al trasporto: ST_DWithin sull'ellissoide; progetti senza geometria o disegnati "
    "solo al punto del comune sono \"non localizzati\", esclusi dalla quota. / Near transit: "
    "ST_DWithin on the ellipsoid; projects without a geometry or drawn only at their comuni's "
    "point are \"not located\", left out of the share.",
    "Comune vulnerabile sotto-servito: IVSM sopra la mediana metropolitana ed euro PNRR per "
    "abitante sotto la mediana (o nessun finanziamento PNRR). / Under-served vulnerable "
    "comune: IVSM above the metro median and PNRR euros per inhabitant below the median (or "
    "no PNRR funding).",
    "Importi PNRR non pubblicati (ReGiS) non sono sommati: gli euro per abitante sono un "
    "minimo dove ci sono progetti PNRR senza importo. / PNRR amounts not published (ReGiS) "
    "are not summed: euros per inhabitant are a lower bound where PNRR projects have no "
    "published amount.",
]


def _c(name: str, it: str, en: str, kind: Any = "text") -> Column:
    return Column(name, it, en, kind)


def _money_and_outcomes() -> list[Column]:
    cols = [
        _c("total_cost_eur", "Costo totale", "Total cost", "eur"),
        _c("granted_eur", "Finanziamento concesso", "Funding granted", "eur"),
        _c("pnrr_granted_eur", "PNRR concesso", "PNRR granted", "eur"),
        _c("spent_eur", "Speso", "Spent", "eur"),
        _c("paid_eur", "Pagato", "Paid", "eur"),
        _c("spent_share", "Quota spesa sul concesso", "Share spent of granted", "share"),
        _c("paid_share", "Quota pagata sul concesso", "Share paid of granted", "share"),
        _c("spent_of_cost_share", "Quota spesa sul costo totale", "Share spent of total cost",
           "share"),
    ]
    for f, it, en in INDICATORS:
        cols += [_c(f"planned_{f}", f"Previsti: {it}", f"Planned: {en}", "number"),
                 _c(f"achieved_{f}", f"Realizzati: {it}", f"Achieved: {en}", "number"),
                 _c(f"{f}_share", f"Quota realizzata: {it}", f"Share achieved: {en}", "share")]
    return cols


def _delays() -> list[Column]:
    return [
        _c("milestones", "Milestone e target", "Milestones and targets", "int"),
        _c("milestones_late", "In ritardo", "Late", "int"),
        _c("days_late", "Giorni di ritardo (somma)", "Days late (sum)", "int"),
        _c("max_days_late", "Giorni di ritardo (massimo)", "Days late (most)", "int"),
        _c("deadlines_overdue", "Scadenze di rendicontazione scadute",
           "Overdue reporting deadlines", "int"),
    ]


PROJECT_COLUMNS = [
    _c("project_id", "Progetto", "Project", "int"),
    _c("title", "Titolo", "Title"), _c("cup", "CUP", "CUP"), _c("status", "Stato", "Status"),
    _c("istat_codes", "Comuni (ISTAT)", "Comuni (ISTAT)"),
    _c("phase", "Fase", "Phase"), _c("progress_date", "Data avanzamento", "Progress date", "date"),
    _c("physical_progress_pct", "Avanzamento fisico %", "Physical progress %", "number"),
    *_money_and_outcomes(), *_delays(),
    _c("pnrr_amount_unknown", "PNRR concesso senza importo pubblicato",
       "PNRR granted without a published amount", "bool"),
    _c("end_date", "Fine prevista", "Planned end", "date"),
    _c("end_overdue", "Fine prevista superata", "Planned end passed", "bool"),
    _c("near_transit", "Vicino al trasporto", "Near transit", "bool"),
]
_AGGREGATE = [
    _c("projects", "Progetti", "Projects", "int"),
    *_money_and_outcomes(),
    _c("projects_with_progress", "Progetti con avanzamento", "Projects with progress", "int"),
    _c("physical_progress_pct", "Avanzamento fisico medio %", "Mean physical progress %", "number"),
    *_delays(),
    _c("projects_end_overdue", "Progetti oltre la fine prevista", "Projects past planned end", "int"),
    _c("projects_located", "Progetti localizzati", "Projects located", "int"),
    _c("projects_near_transit", "Progetti vicini al trasporto", "Projects near transit", "int"),
    _c("projects_near_transit_share", "Quota progetti vicini", "Share of projects near", "share"),
    _c("projects_not_located", "Progetti non localizzati", "Projects not located", "int"),
    _c("sites", "Aree", "Sites", "int"),
    _c("sites_regenerated", "Aree rigenerate", "Sites regenerated", "int"),
    _c("sites_regenerated_m2", "m² rigenerati (aree)", "m² regenerated (sites)", "number"),
    _c("sites_to_regenerate", "Aree ancora dismesse o sottoutilizzate",
       "Sites still abandoned or underused", "int"),
    _c("sites_to_regenerate_m2", "m² ancora da rigenerare", "m² still to regenerate", "number"),
    _c("sites_regenerated_share", "Quota aree rigenerate", "Share of sites regenerated", "share"),
    _c("sites_near_transit", "Aree vicine al trasporto", "Sites near transit", "int"),
    _c("sites_near_transit_share", "Quota aree vicine", "Share of sites near", "share"),
    _c("population", "Abitanti", "Inhabitants", "int"),
    _c("pnrr_eur_per_inhabitant", "PNRR per abitante", "PNRR per inhabitant", "eur"),
    _c("projects_pnrr_amount_unknown", "Progetti PNRR senza importo pubblicato",
       "PNRR projects without a published amount", "int"),
]
COMUNE_COLUMNS = [
    _c("istat_code", "Codice ISTAT", "ISTAT code"), _c("name", "Comune", "Comune"),
    *_AGGREGATE,
    _c("ivsm", "IVSM", "IVSM", "number"), _c("ivsm_year", "Anno IVSM", "IVSM year", "year"),
    _c("underserved_vulnerable", "Vulnerabile sotto-servito", "Under-served vulnerable", "bool"),
]
METRO_COLUMNS = [
    _c("comuni", "Comuni", "Comuni", "int"), *_AGGREGATE,
    _c("comuni_with_ivsm", "Comuni con IVSM", "Comuni with IVSM", "int"),
    _c("ivsm_median", "IVSM mediano", "Median IVSM", "number"),
    _c("pnrr_per_inhabitant_median", "PNRR per abitante mediano", "Median PNRR per inhabitant", "eur"),
    _c("comuni_underserved_vulnerable", "Comuni vulnerabili sotto-serviti",
       "Under-served vulnerable comuni", "int"),
]


def no_jit(conn: Any) -> None:
    """JIT off for the rest of the caller's transaction: the planner's estimate of the
    reporting calendar (generate_series per project) is large enough to trigger a JIT
    compilation that costs seconds on a query that runs in milliseconds."""
    with conn.cursor() as cur:
        cur.execute("SET LOCAL jit = off")


def _ratio(num: Any, den: Any) -> Decimal | None:
    if num is None or not den:
        return None
    return (Decimal(num) / Decimal(den)).quantize(SHARE)


def _value(col: Column, v: Any) -> Any:
    """A database value in the model's kind: money and shares Decimal, counts int."""
    if v is None:
        return None
    if col.kind == "eur":
        return Decimal(str(v)).quantize(CENT)
    if col.kind in ("int", "year"):
        return int(v)
    if col.kind == "number":  # m2, housing units, % to 0.01; IVSM to its 6 decimals
        return Decimal(str(v)).quantize(IVSM if col.name.startswith("ivsm") else CENT)
    if col.kind == "date":
        return v if isinstance(v, date) else date.fromisoformat(str(v))
    if isinstance(v, list):
        return ",".join(str(x) for x in v)
    return v


def _rows(conn: Any, which: str, params: EvaluationParams, columns: list[Column]) -> list[dict[str, Any]]:
    with conn.cursor() as cur:
        cur.execute(QUERIES[which], params.sql())
        names = [d[0] for d in cur.description]
        raw = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    out = []
    for r in raw:
        for share, (num, den) in SHARES.items():
            r[share] = _ratio(r.get(num), r.get(den))
        out.append({c.name: _value(c, r.get(c.name)) for c in columns})
    return out


def project_table(conn: Any, params: EvaluationParams) -> Table:
    return Table("evaluation_projects", "Valutazione per progetto", "Evaluation by project",
                 PROJECT_COLUMNS, _rows(conn, "projects", params, PROJECT_COLUMNS))


def metro_table(conn: Any, params: EvaluationParams) -> Table:
    title = ("Valutazione metropolitana", "Metro-area evaluation") if params.comuni is None \
        else ("Valutazione dei comuni scelti", "Evaluation of the chosen comuni")
    return Table("evaluation_metro", *title, METRO_COLUMNS,
                 _rows(conn, "metro", params, METRO_COLUMNS))


def comuni_table(conn: Any, params: EvaluationParams, metro: Table | None = None) -> Table:
    """Per comune, the metro row as its totals (same keys: sums for additive columns,
    the metro ratios for shares and euros per inhabitant)."""
    rows = _rows(conn, "comuni", params, COMUNE_COLUMNS)
    for r in rows:
        if r["istat_code"] is None:
            r["name"] = "Area metropolitana (non ripartito) / metro area (not split)"
    metro = metro or metro_table(conn, params)
    totals = {c.name: metro.rows[0].get(c.name) for c in COMUNE_COLUMNS} if metro.rows else None
    if totals is not None:
        totals["name"] = "Totale / total"
    return Table("evaluation_comuni", "Valutazione per comune", "Evaluation by comune",
                 COMUNE_COLUMNS, rows, totals)


VULNERABILITY_COLUMNS = [
    _c("istat_code", "Codice ISTAT", "ISTAT code"), _c("name", "Comune", "Comune"),
    _c("population", "Abitanti", "Inhabitants", "int"),
    _c("ivsm", "IVSM", "IVSM", "number"), _c("ivsm_year", "Anno IVSM", "IVSM year", "year"),
    _c("pnrr_granted_eur", "PNRR concesso", "PNRR granted", "eur"),
    _c("pnrr_eur_per_inhabitant", "PNRR per abitante", "PNRR per inhabitant", "eur"),
    _c("projects_pnrr_amount_unknown", "Progetti PNRR senza importo pubblicato",
       "PNRR projects without a published amount", "int"),
    _c("underserved_vulnerable", "Vulnerabile sotto-servito", "Under-served vulnerable", "bool"),
]


def vulnerability_table(comuni: Table) -> Table:
    """IVSM beside PNRR euros per inhabitant, the under-served vulnerable comuni first,
    then by IVSM from the most vulnerable (comuni without IVSM last)."""
    rows = [{c.name: r.get(c.name) for c in VULNERABILITY_COLUMNS}
            for r in comuni.rows if r.get("istat_code")]
    rows.sort(key=lambda r: (r["underserved_vulnerable"] is not True, r["ivsm"] is None,
                             -(r["ivsm"] or 0), r["istat_code"]))
    return Table("evaluation_vulnerability", "Vulnerabilità (IVSM) e fondi PNRR per abitante",
                 "Vulnerability (IVSM) and PNRR funds per inhabitant", VULNERABILITY_COLUMNS, rows)


def evaluation_tables(conn: Any, params: EvaluationParams | None = None, **kwargs: Any) -> list[Table]:
    """The evaluation for a report: per project, per comune (metro totals), metro area,
    and the vulnerability table (IVSM beside PNRR per inhabitant, flagged comuni first).

    ``conn``: a psycopg2 connection (read in one snapshot when it is REPEATABLE READ).
    ``params`` or keyword arguments as for ``params.parse`` (as_of, distance, modes,
    comuni); a bad one raises InvalidParameter naming it."""
    params = params or parse(**kwargs)
    no_jit(conn)
    check_comuni(conn, params)
    metro = metro_table(conn, params)
    comuni = comuni_table(conn, params, metro)
    return [project_table(conn, params), comuni, metro, vulnerability_table(comuni)]
