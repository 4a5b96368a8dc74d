"""Writers: any Report (any list of Tables) as JSON, CSV (a zip, one file per table),
XLSX (one formatted sheet per table) or GeoPackage (layers + every table).

Generic over the tables: a table added by another room (evaluation) reaches every format
without a change here. Money stays Decimal up to the writer: JSON numbers whose text is the
Decimal's (read them with parse_float=Decimal), CSV the same text, XLSX/GeoPackage
numbers (REAL) of 2 decimals.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from rigenera.reports.model import Column, Report, Table, yes_no

EUR_FORMAT = '#,##0.00 "€"'
SHARE_FORMAT = "0.0%"
NUMBER_FORMAT = "#,##0.##"


def _plain(value: Any) -> Any:
    # A Decimal of up to 15 significant digits (numeric(14,2) has 14) becomes the double
    # whose shortest repr, which json writes, is the same decimal text: exact to the cent.
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def table_json(t: Table, lang: str) -> dict[str, Any]:
    return {"name": t.name, "title": t.title(lang),
            "columns": [{"name": c.name, "label": c.label(lang), "kind": c.kind} for c in t.columns],
            "rows": [{c.name: _plain(r.get(c.name)) for c in t.columns} for r in t.rows],
            "totals": None if t.totals is None else {c.name: _plain(t.totals.get(c.name))
                                                     for c in t.columns}}


def report_json(report: Report, lang: str = "it") -> str:
    """{title, generated_at, filters, groups (the first table's rows, one object per group),
    totals, tables: [...], notes}."""
    first = report.tables[0] if report.tables else None
    doc = {"title": report.title_en if lang == "en" else report.title_it,
           "generated_at": report.generated_at, "filters": report.filters, "lang": lang,
           "groups": table_json(first, lang)["rows"] if first else [],
           "totals": table_json(first, lang)["totals"] if first else None,
           "tables": [table_json(t, lang) for t in report.tables], "notes": report.notes}
    return json.dumps(doc, ensure_ascii=False, indent=1, default=str)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def write_json(report: Report, path: Path, lang: str) -> None:
    path.write_text(report_json(report, lang), encoding="utf-8")


def write_csv_zip(report: Report, path: Path, lang: str) -> None:
    """One CSV per table (header: the JSON keys; no totals row, so a program can sum), and
    README.txt with the title, the filters, the totals and the notes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        readme = [report.title_en if lang == "en" else report.title_it, report.generated_at,
                  json.dumps(report.filters, ensure_ascii=False), ""]
        for t in report.tables:
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            w.writerow([c.name for c in t.columns])
            for r in t.rows:
                w.writerow([_cell_text(r.get(c.name)) for c in t.columns])
            archive.writestr(f"{t.name}.csv", buf.getvalue())
            readme.append(f"{t.name}.csv: {t.title(lang)}")
            if t.totals:
                readme.append("  " + ", ".join(f"{k}={_cell_text(v)}" for k, v in t.totals.items()
                                               if v is not None))
        archive.writestr("README.txt", "\n".join([*readme, "", *report.notes]) + "\n")


def _xlsx_value(value: Any, lang: str) -> Any:
    if isinstance(value, bool):
        return yes_no(value, lang)
    if isinstance(value, Decimal):
        return float(value)
    return value


def _number_format(c: Column) -> str | None:
    return {"eur": EUR_FORMAT, "share": SHARE_FORMAT, "number": NUMBER_FORMAT,
            "int": "#,##0", "year": "0"}.get(c.kind)


def sheet_name(name: str, used: set[str]) -> str:
    base = name[:31]
    out, n = base, 1
    while out in used:
        n += 1
        out = f"{base[:28]}_{n}"
    used.add(out)
    return out


def write_xlsx(report: Report, path: Path, lang: str) -> None:
    """One sheet per table (named as the table): bold filled header, frozen, EUR / % formats,
    a bold totals row, column widths from the content; a first sheet with the cover."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    cover = wb.active
    assert cover is not None
    cover.title = "Report"
    cover["A1"] = report.title_en if lang == "en" else report.title_it
    cover["A1"].font = Font(bold=True, size=14)
    cover["A2"] = report.generated_at
    row = 4
    for k, v in report.filters.items():
        cover.cell(row, 1, k)
        cover.cell(row, 2, ", ".join(v) if isinstance(v, list) else str(v))
        row += 1
    row += 1
    for note in report.notes:
        cover.cell(row, 1, note)
        row += 1
    cover.column_dimensions["A"].width = 40
    cover.column_dimensions["B"].width = 60
    head_font = Font(bold=True, color="FFFFFF")
    head_fill = PatternFill("solid", fgColor="1F4E79")
    used = {"Report"}
    for t in report.tables:
        ws = wb.create_sheet(sheet_name(t.name, used))
        for j, c in enumerate(t.columns, 1):
            cell = ws.cell(1, j, c.label(lang))
            cell.font, cell.fill = head_font, head_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        widths = [min(max(len(c.label(lang)) * 0.6, 10), 40) for c in t.columns]
        rows = [*t.rows, *([t.totals] if t.totals else [])]
        for i, r in enumerate(rows, 2):
            for j, c in enumerate(t.columns, 1):
                value = _xlsx_value(r.get(c.name), lang)
                cell = ws.cell(i, j, value)
                fmt = _number_format(c)
                if fmt and isinstance(value, int | float):
                    cell.number_format = fmt
                widths[j - 1] = min(max(widths[j - 1], len(_cell_text(value)) * 1.15 + 2), 50)
        if t.totals:
            for j in range(1, len(t.columns) + 1):
                ws.cell(len(rows) + 1, j).font = Font(bold=True)
        for j, w in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(j)].width = w
        ws.row_dimensions[1].height = 45
        ws.freeze_panes = "C2" if len(t.columns) > 2 else "A2"
    wb.save(path)


def _arrow_table(t: Table) -> Any:
    import pyarrow as pa

    kinds = {"eur": pa.float64(), "int": pa.int64(), "year": pa.int64(), "share": pa.float64(),
             "number": pa.float64(), "text": pa.string(), "date": pa.string(), "bool": pa.bool_()}
    arrays = []
    for c in t.columns:
        values = [t_r.get(c.name) for t_r in t.rows]
        if c.kind in ("int", "year"):
            values = [None if v is None else int(v) for v in values]
        elif c.kind in ("eur", "share", "number"):
            values = [None if v is None else float(v) for v in values]
        elif c.kind == "bool":
            values = [None if v is None else bool(v) for v in values]
        else:
            values = [None if v is None else _cell_text(v) for v in values]
        arrays.append(pa.array(values, type=kinds[c.kind]))
    return pa.table(arrays, names=[c.name for c in t.columns])


def write_gpkg(report: Report, path: Path, lang: str, layers: list[tuple[str, Any, str]]) -> None:
    """The spatial layers (name, Arrow table with WKB `geom`, geometry type), then every
    table as a non-spatial table (GeoPackage 'attributes')."""
    import pyogrio

    path.unlink(missing_ok=True)
    for name, table, gtype in layers:
        pyogrio.write_arrow(table, path, layer=name, driver="GPKG", geometry_name="geom",
                            geometry_type=gtype, crs="EPSG:4326", append=path.exists(),
                            layer_options={"DESCRIPTION": report.title_en if lang == "en"
                                           else report.title_it})
    for t in report.tables:
        pyogrio.write_arrow(_arrow_table(t), path, layer=t.name, driver="GPKG",
                            append=path.exists(),
                            layer_options={"DESCRIPTION": t.title(lang),
                                           "ASPATIAL_VARIANT": "GPKG_ATTRIBUTES"})
