"""Exports: what the public OGC collections publish, as GeoPackage, GeoJSON, CSV or XLSX.

    rigenera export COLLECTION --format gpkg|geojson|csv|xlsx [--filter CQL2] [--comuni ...]
    GET /api/exports/{collection}?format=...&filter=...&comuni=...

Only the `pub.*` views are read (never referents, created_by...), filtered by the same
CQL2 machinery as the OGC read path (query.py), streamed from a server-side cursor into
GDAL as Arrow batches (writer.py), with the attribution of the rows' sources in the file
(attribution.py). Columns are named as the storage fields, so the import engine reads an
export back without a mapping.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rigenera.errors import InvalidParameter
from rigenera.exports.formats import FORMATS, Format

if TYPE_CHECKING:
    from rigenera.exports.writer import ExportResult

__all__ = ["FORMATS", "Format", "check_format", "export_collection"]


def check_format(fmt: str | None) -> Format:
    """The format asked for, or a 400 naming `format`."""
    if fmt not in FORMATS:
        reason = "uno di / one of " + ", ".join(FORMATS)
        raise InvalidParameter(f"format: {reason}", errors=[{"field": "format", "reason": reason}])
    return FORMATS[fmt]


def export_collection(dsn: str, collection: str, fmt: str, path: Path, *,
                      filter_text: str | None = None, filter_lang: str | None = None,
                      comuni: str | None = None, filter_crs: str | None = None) -> ExportResult:
    """Validate the request, then write the export (the CLI's entry point)."""
    from rigenera.exports.query import parse_request
    from rigenera.exports.writer import write_export

    chosen = check_format(fmt)
    q = parse_request(collection, filter_text, filter_lang, comuni, filter_crs)
    return write_export(dsn, q, chosen, path)
