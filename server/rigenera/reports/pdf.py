"""The PDF report (Italian by default): a cover, charts, a map of the projects over the
comuni drawn from our own geometries (no internet, no tiles), then every table.

matplotlib with the Agg backend, one figure per A4 landscape page into PdfPages. Tables
are generic: the label column repeated on every page, the other columns in chunks that
fit the width, columns that are empty or all zero left out, rows in pages.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import shapely
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.collections import PolyCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from rigenera.domains import DOMAINS
from rigenera.reports.model import Column, Report, Table, yes_no

PAGE = (11.69, 8.27)  # A4 landscape, inches
ROWS_PER_PAGE = 26
COLUMNS_PER_PAGE = 8
BLUE, GREY, RED, GREEN = "#1F4E79", "#BFBFBF", "#C0504D", "#4F9A57"
TEXT = {
    "it": {"generated": "Generato il", "filters": "Filtri", "all": "tutti i progetti",
           "summary": "In sintesi", "projects": "Progetti", "cost": "Costo totale",
           "granted": "Concesso", "not_granted": "Non concesso", "spent": "Speso",
           "map": "Mappa dei progetti", "charts": "Grafici", "by_source": "Finanziamenti per fonte",
           "by_year": "Assegnazioni annuali", "spending": "Avanzamento della spesa",
           "funding": "Finanziamenti per gruppo", "no_data": "nessun dato",
           "metro": "progetti dell'intera area metropolitana (senza punto sulla mappa)",
           "granted_comune": "Concesso per comune (€)", "page": "pagina", "notes": "Note",
           "continued": "segue", "zero_rows": "righe a zero omesse",
           "by_status": "Finanziamenti per stato", "outcomes": "Esiti previsti e realizzati",
           "planned": "Previsti", "achieved": "Realizzati"},
    "en": {"generated": "Generated on", "filters": "Filters", "all": "all projects",
           "summary": "Summary", "projects": "Projects", "cost": "Total cost",
           "granted": "Granted", "not_granted": "Not granted", "spent": "Spent",
           "map": "Map of the projects", "charts": "Charts", "by_source": "Funding by source",
           "by_year": "Yearly assignments", "spending": "Spending progress",
           "funding": "Funding by group", "no_data": "no data",
           "metro": "metro-area projects (no point on the map)",
           "granted_comune": "Granted per comune (€)", "page": "page", "notes": "Notes",
           "continued": "continued", "zero_rows": "all-zero rows left out",
           "by_status": "Funding by status", "outcomes": "Outcomes planned and achieved",
           "planned": "Planned", "achieved": "Achieved"},
}


@dataclass
class MapData:
    """Outlines (UTM 32N WKB) by ISTAT code and the projects' points (x, y, status)."""

    comuni: dict[str, bytes] = field(default_factory=dict)
    points: list[tuple[float, float, str]] = field(default_factory=list)
    metro_area_projects: int = 0


def fmt_number(value: Any, kind: str, lang: str) -> str:
    """Italian 1.234.567,89 / English 1,234,567.89; shares as %."""
    if value is None:
        return ""
    if kind == "bool" or isinstance(value, bool):
        return yes_no(bool(value), lang)
    if kind in ("text", "year") or isinstance(value, str):
        return str(value)
    if kind == "share":
        text = f"{float(value) * 100:,.1f} %"
    elif kind == "eur":
        text = f"{Decimal(value):,.2f}"
    elif kind == "int":
        text = f"{int(value):,d}"
    else:
        d = Decimal(value)
        text = f"{d:,.2f}" if d != d.to_integral_value() else f"{int(d):,d}"
    if lang == "it":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def _page(pdf: PdfPages, draw: Callable[[Figure], None], footer: str) -> None:
    fig = plt.figure(figsize=PAGE)
    try:
        draw(fig)
        fig.text(0.5, 0.015, footer, ha="center", fontsize=7, color="#666666")
        pdf.savefig(fig)  # type: ignore[no-untyped-call]
    finally:
        plt.close(fig)


# The words of the filters on the cover (keys and the values that are words).
WORDS = {"by": ("raggruppati per", "grouped by"), "programme_level": ("livello", "level"),
         "comuni": ("comuni", "comuni"), "programme": ("programma", "programme"),
         "status": ("stato", "status"), "comune": ("comune", "comune"),
         "phase": ("fase", "phase"), "year": ("anno di avvio", "start year"),
         "mission": ("missione", "mission"), "component": ("componente", "component"),
         "investment": ("investimento", "investment"), "submeasure": ("sub-misura", "sub-measure")}


def _word(key: str, lang: str) -> str:
    return WORDS.get(key, (key, key))[1 if lang == "en" else 0]


def _label_column(t: Table) -> Column:
    for name in ("group_label", "funding_source_label"):
        for c in t.columns:
            if c.name == name:
                return c
    return t.columns[0]


def _shown(t: Table, label: Column) -> list[Column]:
    """The columns worth a place on paper: not the label, not the codes the label names,
    not empty or all-zero ones."""
    hidden = {label.name, "group", "comune"}
    if label.name == "funding_source_label":
        hidden.add("funding_source")
    rows = [*t.rows, *([t.totals] if t.totals else [])]
    return [c for c in t.columns if c.name not in hidden
            and any(r.get(c.name) not in (None, 0, "", Decimal(0)) for r in rows)]


def _grid(ax: Any, headers: list[str], cells: list[list[str]], total_row: int | None) -> None:
    """A table drawn as plain texts on a ruled grid: the label column left-aligned, figures
    right-aligned. (matplotlib's Table measured every cell's box on every draw: about
    twice the time for the same page.)"""
    n_cols = len(headers)
    widths = [0.26] + [0.74 / max(n_cols - 1, 1)] * (n_cols - 1)
    lefts = [sum(widths[:j]) for j in range(n_cols)]
    row_h = 1 / (ROWS_PER_PAGE + 3)
    head_h = 2.4 * row_h
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.add_patch(Rectangle((0, 1 - head_h), 1, head_h, facecolor=BLUE, edgecolor="none"))
    for j, text in enumerate(headers):
        ax.text(lefts[j] + widths[j] / 2, 1 - head_h / 2, text, ha="center", va="center", fontsize=7,
                color="white")
    top = 1 - head_h
    if total_row is not None:
        ax.add_patch(Rectangle((0, top - (total_row + 1) * row_h), 1, row_h, facecolor="#EEF3F8",
                               edgecolor="none"))
    ax.hlines([top - (i + 1) * row_h for i in range(len(cells))], 0, 1, colors="#DDDDDD", linewidth=0.5)
    ax.vlines(lefts[1:], top - len(cells) * row_h, top, colors="#DDDDDD", linewidth=0.5)
    for i, row in enumerate(cells):
        y = top - (i + 0.5) * row_h
        weight = "bold" if i == total_row else "normal"
        for j, text in enumerate(row):
            if j == 0:
                ax.text(lefts[0] + 0.005, y, text, ha="left", va="center", fontsize=7, fontweight=weight)
            elif text:
                ax.text(lefts[j] + widths[j] - 0.005, y, text, ha="right", va="center", fontsize=7,
                        fontweight=weight)


def _table_pages(pdf: PdfPages, t: Table, lang: str, footer: str) -> None:
    label = _label_column(t)
    cols = _shown(t, label)
    numeric = [c for c in t.columns if c.kind == "eur" or c.name == "projects"]
    # On paper, a row without projects or money (a comune without projects) is left out.
    kept = [r for r in t.rows if not numeric
            or any(r.get(c.name) not in (None, 0, Decimal(0)) for c in numeric)]
    rows = [*kept, *([t.totals] if t.totals else [])]
    chunks = [cols[i:i + COLUMNS_PER_PAGE] for i in range(0, len(cols), COLUMNS_PER_PAGE)] or [[]]
    pages = [rows[i:i + ROWS_PER_PAGE] for i in range(0, len(rows), ROWS_PER_PAGE)] or [[]]
    n = 0
    for chunk in chunks:
        for part in pages:
            title = t.title(lang) + (f" ({TEXT[lang]['continued']})" if n else "") + (
                f" – {TEXT[lang]['zero_rows']}: {len(t.rows) - len(kept)}" if len(kept) < len(t.rows) else "")
            n += 1

            def draw(fig: Figure, part: list[dict[str, Any]] = part, chunk: list[Column] = chunk,
                     title: str = title) -> None:
                ax = fig.add_axes((0.03, 0.05, 0.94, 0.85))
                ax.axis("off")
                fig.text(0.03, 0.94, title, fontsize=14, weight="bold", color=BLUE)
                if not part:
                    ax.text(0.5, 0.5, TEXT[lang]["no_data"], ha="center")
                    return
                cells = [[str(r.get(label.name) or "")[:48]]
                         + [fmt_number(r.get(c.name), c.kind, lang) for c in chunk] for r in part]
                headers = [textwrap.fill(x, 18) for x in (label.label(lang), *(c.label(lang) for c in chunk))]
                total_row = len(part) - 1 if t.totals is not None and part[-1] is t.totals else None
                _grid(ax, headers, cells, total_row)
            _page(pdf, draw, footer)


def _cover(fig: Figure, report: Report, lang: str) -> None:
    tx = TEXT[lang]
    fig.text(0.06, 0.86, report.title_en if lang == "en" else report.title_it, fontsize=24,
             weight="bold", color=BLUE)
    fig.text(0.06, 0.80, f"{tx['generated']} {report.generated_at}", fontsize=11)
    filters = "; ".join(f"{_word(k, lang)}: {', '.join(v) if isinstance(v, list) else _word(str(v), lang)}"
                        for k, v in report.filters.items())
    # Text wrapped by textwrap, never by matplotlib's wrap=True (it lays out the text once
    # per word: seconds per page).
    fig.text(0.06, 0.75, textwrap.fill(f"{tx['filters']}: {filters or tx['all']}", 110), fontsize=11,
             va="top")
    first = report.tables[0] if report.tables else None
    if first is not None and first.totals:
        t = first.totals
        lines = [(tx["projects"], fmt_number(t.get("projects"), "int", lang)),
                 (tx["cost"], fmt_number(t.get("total_cost_eur"), "eur", lang) + " €"),
                 (tx["granted"], fmt_number(t.get("granted_eur"), "eur", lang) + " €"),
                 (tx["not_granted"], fmt_number(t.get("not_granted_eur"), "eur", lang) + " €"),
                 (tx["spent"], fmt_number(t.get("spent_eur"), "eur", lang) + " €")]
        fig.text(0.06, 0.64, tx["summary"], fontsize=14, weight="bold", color=BLUE)
        for i, (k, v) in enumerate(lines):
            fig.text(0.08, 0.59 - i * 0.045, k, fontsize=12)
            fig.text(0.40, 0.59 - i * 0.045, v, fontsize=12, ha="right", family="monospace")
    fig.text(0.06, 0.30, tx["notes"], fontsize=11, weight="bold", color=BLUE)
    y = 0.26
    for note in report.notes:
        text = textwrap.fill(note, 170)
        fig.text(0.06, y, text, fontsize=8, va="top")
        y -= 0.025 * (text.count("\n") + 1) + 0.01


def _table(report: Report, prefix: str) -> Table | None:
    return next((t for t in report.tables if t.name.startswith(prefix)), None)


def _bars(ax: Any, labels: list[str], series: list[tuple[str, list[float], str]], title: str) -> None:
    ax.set_title(title, fontsize=10, color=BLUE, loc="left")
    if not labels:
        ax.text(0.5, 0.5, "-", ha="center")
        ax.axis("off")
        return
    y = list(range(len(labels)))
    h = 0.8 / len(series)
    for i, (name, values, color) in enumerate(series):
        ax.barh([v + i * h for v in y], [v / 1e6 for v in values], height=h, color=color, label=name)
    ax.set_yticks([v + h * (len(series) - 1) / 2 for v in y], [s[:38] for s in labels], fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("M€", fontsize=7)
    ax.tick_params(axis="x", labelsize=7)
    ax.legend(fontsize=6, loc="lower right")


def _charts(fig: Figure, report: Report, lang: str) -> None:
    tx = TEXT[lang]
    fig.text(0.03, 0.94, tx["charts"], fontsize=14, weight="bold", color=BLUE)
    axes = fig.subplots(2, 2, gridspec_kw={"left": 0.2, "right": 0.97, "top": 0.88, "bottom": 0.08,
                                           "wspace": 0.55, "hspace": 0.35})
    main = report.tables[0] if report.tables else None
    rows = sorted(main.rows if main else [], key=lambda r: -float(r.get("requested_eur") or 0))[:15]
    rows = [r for r in rows if r.get("requested_eur")]
    labels = [str(r.get("group_label")) for r in rows]
    _bars(axes[0][0], labels, [(tx["granted"], [float(r["granted_eur"]) for r in rows], BLUE),
                               (tx["not_granted"], [float(r["not_granted_eur"]) for r in rows], GREY)],
          f"{tx['funding']} ({main.title(lang) if main else ''})")
    src = _table(report, "funding_by_source")
    srows = src.rows if src else []
    _bars(axes[0][1], [str(r["funding_source_label"]) for r in srows],
          [(tx["granted"], [float(r["granted_eur"]) for r in srows], BLUE),
           (tx["not_granted"], [float(r["not_granted_eur"]) for r in srows], GREY)], tx["by_source"])
    years = _table(report, "assignments_by_year")
    ax = axes[1][0]
    ax.set_title(tx["by_year"], fontsize=10, color=BLUE, loc="left")
    yrows = years.rows if years else []
    ax.bar([str(r["year"]) for r in yrows], [float(r["assigned_eur"]) / 1e6 for r in yrows], color=BLUE)
    ax.set_ylabel("M€", fontsize=7)
    ax.tick_params(labelsize=7)
    spent = [r for r in rows if r.get("granted_eur")]
    _bars(axes[1][1], [str(r.get("group_label")) for r in spent],
          [(tx["granted"], [float(r["granted_eur"]) for r in spent], GREY),
           (tx["spent"], [float(r["spent_eur"]) for r in spent], GREEN)], tx["spending"])


OUTCOMES = ("housing_units_fragile", "cultural_space_m2", "community_space_m2", "productive_space_m2",
            "regenerated_m2")


def _charts_more(fig: Figure, report: Report, lang: str) -> None:
    """Funding by status and outcomes planned against achieved, from the main totals."""
    tx = TEXT[lang]
    fig.text(0.03, 0.94, f"{tx['charts']} ({tx['continued']})", fontsize=14, weight="bold", color=BLUE)
    axes = fig.subplots(1, 2, gridspec_kw={"left": 0.2, "right": 0.97, "top": 0.85, "bottom": 0.3,
                                           "wspace": 0.6})
    main = report.tables[0] if report.tables else None
    totals = (main.totals if main else None) or {}
    columns = {c.name: c for c in (main.columns if main else [])}
    status = [k for k in ("granted_eur", "not_granted_eur", "pending_eur", "revoked_eur") if k in columns]
    _bars(axes[0], [columns[k].label(lang) for k in status],
          [("€", [float(totals.get(k) or 0) for k in status], BLUE)], tx["by_status"])
    ax = axes[1]
    ax.set_title(tx["outcomes"], fontsize=10, color=BLUE, loc="left")
    names = [k for k in OUTCOMES if k in columns]
    planned = [float(totals.get(k) or 0) for k in names]
    achieved = [float(totals.get(f"{k}_achieved") or 0) for k in names]
    y = list(range(len(names)))
    ax.barh([v - 0.2 for v in y], planned, height=0.4, color=GREY, label=tx["planned"])
    ax.barh([v + 0.2 for v in y], achieved, height=0.4, color=GREEN, label=tx["achieved"])
    ax.set_yticks(y, [columns[k].label(lang).split(" (")[0] for k in names], fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("symlog")
    ax.tick_params(axis="x", labelsize=7)
    ax.legend(fontsize=7, loc="lower right")


def _polygons(wkb: bytes) -> list[Any]:
    geom = shapely.from_wkb(wkb)
    parts = getattr(geom, "geoms", [geom])
    return [list(p.exterior.coords) for p in parts if not p.is_empty]


def _map(fig: Figure, report: Report, data: MapData, lang: str) -> None:
    tx = TEXT[lang]
    fig.text(0.03, 0.94, tx["map"], fontsize=14, weight="bold", color=BLUE)
    ax = fig.add_axes((0.03, 0.06, 0.72, 0.85))
    ax.set_aspect("equal")
    ax.axis("off")
    by_comune = _table(report, "by_comune")
    granted = {r["istat_code"]: float(r["granted_eur"]) for r in (by_comune.rows if by_comune else [])
               if r.get("istat_code")}
    top = max(granted.values(), default=0) or 1.0
    cmap = plt.get_cmap("Blues")
    polys, colors = [], []
    for code, wkb in data.comuni.items():
        for ring in _polygons(wkb):
            polys.append(ring)
            colors.append(cmap(0.08 + 0.8 * granted.get(code, 0) / top))
    ax.add_collection(PolyCollection(polys, facecolors=colors, edgecolors="#7F7F7F", linewidths=0.3))
    ax.autoscale_view()
    statuses = DOMAINS[("projects", "status")]
    palette = plt.get_cmap("tab10")
    handles = []
    for i, code in enumerate(statuses):
        pts = [(x, y) for x, y, s in data.points if s == code]
        if pts:
            handles.append(ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=30, color=palette(i),
                                      edgecolors="white", linewidths=0.4, zorder=3,
                                      label=f"{statuses[code][1 if lang == 'en' else 0]} ({len(pts)})"))
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
                  title="Stato" if lang == "it" else "Status", frameon=False)
    x0, _ = ax.get_xlim()
    y0, _ = ax.get_ylim()
    ax.plot([x0 + 2000, x0 + 12000], [y0 + 1500, y0 + 1500], color="black", lw=2)
    ax.text(x0 + 7000, y0 + 2200, "10 km", ha="center", fontsize=7)
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=Normalize(0, top / 1e6))
    cax = fig.add_axes((0.78, 0.12, 0.015, 0.3))
    fig.colorbar(sm, cax=cax).set_label(tx["granted_comune"].replace("(€)", "(M€)"), fontsize=7)
    cax.tick_params(labelsize=6)
    if data.metro_area_projects:
        fig.text(0.78, 0.07, textwrap.fill(f"+ {data.metro_area_projects} {tx['metro']}", 40),
                 fontsize=7)
    fig.text(0.03, 0.03, "ETRS89 / UTM 32N (EPSG:32632) · ISTAT", fontsize=6, color="#666666")


def write_pdf(report: Report, path: Path, lang: str, data: MapData) -> int:
    """Write the PDF; the number of pages."""
    title = report.title_en if lang == "en" else report.title_it
    footer = f"Rigenera · {title} · {report.generated_at}"
    pages = 0
    with PdfPages(path, metadata={"Title": title, "Creator": "Rigenera"}) as pdf:
        _page(pdf, lambda fig: _cover(fig, report, lang), footer)
        _page(pdf, lambda fig: _charts(fig, report, lang), footer)
        _page(pdf, lambda fig: _map(fig, report, data, lang), footer)
        _page(pdf, lambda fig: _charts_more(fig, report, lang), footer)
        for t in report.tables:
            _table_pages(pdf, t, lang, footer)
        pages = int(pdf.get_pagecount())
    return pages
