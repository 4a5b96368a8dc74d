"""GET /api/exports/{collection}: a published collection as a file (rigenera/exports).

Public, like the OGC collections it exports. The request is checked before anything
runs (format, filter, comuni: 400 naming the parameter; unknown collection 404); the
file is written to a temporary folder by a worker thread (GDAL and psycopg2 block),
at most ``CONCURRENT_EXPORTS`` at a time (others wait), then streamed back by
FileResponse with a Content-Disposition filename, and the folder is removed once sent.
CSV answers a zip holding the CSV and its attribution file (`.sources.txt`): the licences
of CC BY-SA and CC BY-NC sources must travel with the data, and a header or a link can be
lost where a file in the same archive is not. XLSX stops at XLSX_API_MAX_ROWS rows (GDAL
holds a workbook in memory; 400 naming `format`, suggesting GeoPackage or CSV).
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from rigenera.database import thread_read
from rigenera.dependencies import worker_limiter
from rigenera.exports import FORMATS, check_format
from rigenera.exports.formats import XLSX_API_MAX_ROWS, Format
from rigenera.exports.query import ExportQuery, parse_request
from rigenera.routes import docs

router = APIRouter(prefix="/api", tags=["exports"])
CONCURRENT_EXPORTS = 2
ZIP = "application/zip"


def _media_types() -> dict[str, Any]:
    binary = {"schema": {"type": "string", "format": "binary"}}
    types = {f.media_type.split(";")[0]: binary for f in FORMATS.values() if f.name != "csv"}
    return {**types, ZIP: binary}


def _make_file(dsn: str, q: ExportQuery, fmt: Format, path: Path) -> tuple[int, Path, str]:
    """The export (CSV: zipped with its sources file); (features, file, media type)."""
    from rigenera.exports.writer import companion_path, write_export

    path.unlink(missing_ok=True)  # a run cut short by a replica going away (thread_read)
    result = write_export(dsn, q, fmt, path, max_xlsx_rows=XLSX_API_MAX_ROWS)
    if fmt.name != "csv":
        return result.features, result.path, fmt.media_type
    archive_path = path.with_name(f"{path.name}.zip")
    with zipfile.ZipFile(archive_path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.write(result.path, result.path.name)
        sources = companion_path(result.path)
        archive.write(sources, sources.name)
    return result.features, archive_path, ZIP


@router.get(
    "/exports/{collection}", response_model=None, response_class=FileResponse,
    responses={200: {"description": "Il file (CSV: zip con il CSV e le fonti) / the file "
                                    "(CSV: a zip of the CSV and its sources)",
                     "content": _media_types()},
               **docs.errors(400, 404)})
async def export(request: Request, collection: str,
                 format: str = Query("gpkg", description="gpkg, geojson, csv or xlsx"),
                 filter: str | None = Query(None, description="CQL2, as for the OGC items"),
                 filter_lang: str | None = Query(None, alias="filter-lang",
                                                 description="cql2-text (default) or cql2-json"),
                 filter_crs: str | None = Query(None, alias="filter-crs",
                                                description="CRS of the filter's geometries"),
                 comuni: str | None = Query(None, description="ISTAT codes, comma-separated"),
                 ) -> FileResponse:
    """A published collection as GeoPackage, GeoJSON, CSV (zipped with its sources) or
    XLSX, with the attribution of its sources; filtered by CQL2 and by comuni."""
    fmt = check_format(format)
    q = parse_request(collection, filter, filter_lang, comuni, filter_crs)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    folder = Path(tempfile.mkdtemp(prefix="rigenera-export-"))
    try:
        # GDAL, psycopg2 and zip all block: the whole file is made in a worker thread.
        # From a replica when one is in rotation, again on the primary if it goes away.
        features, path, media_type = await thread_read(
            request.app.state.dsn, partial(
                _make_file, q=q, fmt=fmt,
                path=folder / f"rigenera-{collection}-{stamp}.{fmt.extension}"),
            limiter=worker_limiter(request, "exports", CONCURRENT_EXPORTS))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(path, media_type=media_type, filename=path.name,
                        headers={"X-Feature-Count": str(features),
                                 "Cache-Control": "no-store"},
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))
