"""`rigenera report`: registered by rigenera.cli, kept here with the reports."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rigenera.reports.request import BY, FORMATS, LANGS, LEVELS


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "report", help="rendicontazione: projects grouped by comune, programme, status, phase or "
                       "year as JSON, CSV (zip), XLSX, GeoPackage or PDF")
    p.add_argument("--by", choices=BY, default="comune")
    p.add_argument("--comuni", help="ISTAT codes separated by commas, e.g. 015146,015209")
    p.add_argument("--programme", help="PNRR code or prefix, e.g. M5C2I2.01.00 or M5C2")
    p.add_argument("--programme-level", choices=LEVELS, default="submeasure",
                   help="PNRR level of --by programme (default submeasure)")
    p.add_argument("--status", help="project statuses separated by commas, e.g. funded,works")
    p.add_argument("--lang", choices=LANGS, default="it")
    p.add_argument("--format", "-f", dest="format", choices=sorted(FORMATS), default="pdf")
    p.add_argument("-o", "--output", help="output file (default rigenera-report-BY.EXT; csv: a zip)")
    return p


def run(dsn: str, args: argparse.Namespace) -> int:
    from rigenera.reports import check_format, make_report, parse

    req = parse(args.by, args.comuni, args.programme, args.programme_level, args.status, args.lang)
    fmt = check_format(args.format)
    path = Path(args.output or f"rigenera-report-{req.by}.{fmt.extension}")
    result = make_report(dsn, req, fmt, path)
    pages = f", {result.pages} pagine / pages" if result.pages else ""
    print(f"{result.groups} gruppi / groups{pages} -> {path} ({path.stat().st_size} bytes)")
    return 0
