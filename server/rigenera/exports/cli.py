"""`rigenera export`: registered by rigenera.cli, kept here with the exports."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rigenera.catalogue import BY_ID
from rigenera.exports.formats import FORMATS


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "export", help="export a published collection: GeoPackage, GeoJSON, CSV or XLSX")
    p.add_argument("collection", choices=sorted(BY_ID))
    p.add_argument("--format", "-f", dest="format", choices=sorted(FORMATS), default="gpkg")
    p.add_argument("--filter", help="CQL2 filter, as for /ogc/collections/{id}/items")
    p.add_argument("--filter-lang", choices=["cql2-text", "cql2-json"], default=None)
    p.add_argument("--filter-crs", help="CRS of the filter's geometries, e.g. "
                   "http://www.opengis.net/def/crs/EPSG/0/32632 (default CRS84)")
    p.add_argument("--comuni", help="ISTAT codes separated by commas, e.g. 015146,015209")
    p.add_argument("-o", "--output", help="output file (default rigenera-COLLECTION.EXT)")
    return p


def run(dsn: str, args: argparse.Namespace) -> int:
    from rigenera.exports import export_collection
    from rigenera.exports.writer import companion_path

    fmt = FORMATS[args.format]
    path = Path(args.output or f"rigenera-{args.collection}.{fmt.extension}")
    result = export_collection(dsn, args.collection, args.format, path, filter_text=args.filter,
                               filter_lang=args.filter_lang, comuni=args.comuni,
                               filter_crs=args.filter_crs)
    print(f"{result.features} elementi / features -> {path} ({result.seconds:.1f} s)")
    if fmt.name == "csv":
        print(f"fonti / sources -> {companion_path(path)}")
    for s in result.sources:
        print(f"  {s.source}: {s.features} ({s.licence or 'licenza non indicata'})",
              file=sys.stderr)
    return 0
