"""The export formats: GDAL driver, file extension, media type (no heavy imports: the CLI
lists them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    name: str
    driver: str
    extension: str
    media_type: str
    tabular: bool  # geometry as a `wkt` column, lists as text


FORMATS = {
    "gpkg": Format("gpkg", "GPKG", "gpkg", "application/geopackage+sqlite3", False),
    "geojson": Format("geojson", "GeoJSON", "geojson", "application/geo+json", False),
    "csv": Format("csv", "CSV", "csv", "text/csv; charset=utf-8", True),
    "xlsx": Format("xlsx", "XLSX", "xlsx",
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", True),
}

# An XLSX sheet holds at most 1,048,576 rows (one is the header). GDAL builds the whole
# workbook in memory (~3.3 KB a row: 100,000 sites took 330 MB), so the API, which writes
# in the server's process, stops at XLSX_API_MAX_ROWS and suggests GeoPackage or CSV.
XLSX_MAX_ROWS = 1_048_575
XLSX_API_MAX_ROWS = 50_000
