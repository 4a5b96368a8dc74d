"""Rendicontazione: the reports of the programme (issue #11).

    rigenera report [--by comune|programme|status|phase|year] [--comuni ...]
                    [--programme M5C2I2.01.00] [--programme-level ...] [--status ...]
                    [--lang it|en] --format json|csv|xlsx|gpkg|pdf -o FILE
    GET /api/reports/projects?by=...&format=...&comuni=...&programme=...

aggregate.py reads the groupings (SQL in sql/) into model.Tables; writers.py and pdf.py
write any list of Tables. request.py checks what is asked (400 naming the field).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rigenera.reports.request import FORMATS, Format, ReportRequest, check_format, parse

__all__ = ["FORMATS", "Format", "ReportRequest", "check_format", "make_report", "parse"]


@dataclass(frozen=True)
class ReportFile:
    path: Path
    format: Format
    groups: int
    pages: int | None = None


def make_report(dsn: str, req: ReportRequest, fmt: Format, path: Path) -> ReportFile:
    """Build the report of `req` and write it to `path` in `fmt`. GeoPackage and PDF carry
    the per-comune figures too (the comuni layer, the map's colours)."""
    from rigenera.reports import aggregate, writers

    extra = ("comune",) if fmt.name in ("gpkg", "pdf") else ()
    report = aggregate.build_report(dsn, req, extra_by=extra)
    groups = len(report.tables[0].rows)
    pages = None
    try:
        if fmt.name == "json":
            writers.write_json(report, path, req.lang)
        elif fmt.name == "csv":
            writers.write_csv_zip(report, path, req.lang)
        elif fmt.name == "xlsx":
            writers.write_xlsx(report, path, req.lang)
        elif fmt.name == "gpkg":
            from rigenera.reports.spatial import gpkg_layers

            writers.write_gpkg(report, path, req.lang, gpkg_layers(dsn, req, report))
        else:
            from rigenera.reports.pdf import write_pdf
            from rigenera.reports.spatial import map_data

            pages = write_pdf(report, path, req.lang, map_data(dsn, req))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return ReportFile(path, fmt, groups, pages)
