"""GET /api/reports/projects: the rendicontazione report (rigenera/reports) as JSON (the
default: one object per group under `groups`), CSV (a zip of one CSV per table), XLSX,
GeoPackage or PDF. Public: the data are published. The request is checked before anything
runs (400 naming `by`, `format`, `comuni`, `programme`, `programme_level`, `status`,
`lang`); the file is made in a worker thread (psycopg2, GDAL, matplotlib block), at most
``CONCURRENT_REPORTS`` at a time, and its folder removed once sent.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from rigenera.database import thread_read
from rigenera.dependencies import worker_limiter
from rigenera.reports import FORMATS, ReportFile, check_format, make_report, parse
from rigenera.reports.request import Format, ReportRequest
from rigenera.routes import docs

router = APIRouter(prefix="/api", tags=["reports"])
CONCURRENT_REPORTS = 2


def _media_types() -> dict[str, Any]:
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {f.media_type: ({"schema": {"type": "object"}} if f.name == "json" else binary)
            for f in FORMATS.values()}


@router.get(
    "/reports/projects", response_model=None, response_class=FileResponse,
    responses={200: {"description": "Il report / the report", "content": _media_types()},
               **docs.errors(400)})
async def report(request: Request,
                 by: str | None = Query(None, description="comune (default), programme, status, phase, year"),
                 format: str | None = Query(None, description="json (default), csv (zip), xlsx, gpkg, pdf"),
                 comuni: str | None = Query(None, description="ISTAT codes, comma-separated"),
                 programme: str | None = Query(None, description="PNRR code or prefix, e.g. M5C2I2.01.00"),
                 programme_level: str | None = Query(
                     None, description="mission, component, investment, submeasure (default)"),
                 status: str | None = Query(None, description="project statuses, comma-separated"),
                 lang: str | None = Query(None, description="it (default) or en"),
                 ) -> FileResponse:
    """Projects grouped by comune, programme, status, phase or start year: counts, cost,
    funding by status, spending, outcomes planned and achieved, overdue deadlines; with
    funding by source and yearly assignments. Totals reconcile to the cent."""
    fmt = check_format(format)
    req = parse(by, comuni, programme, programme_level, status, lang)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    folder = Path(tempfile.mkdtemp(prefix="rigenera-report-"))
    path = folder / f"rigenera-report-{req.by}-{stamp}.{fmt.extension}"
    try:
        result = await thread_read(  # a replica when one is in rotation (database.py)
            request.app.state.dsn, partial(_make_report, req=req, fmt=fmt, path=path),
            limiter=worker_limiter(request, "reports", CONCURRENT_REPORTS))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    media = fmt.media_type + ("; charset=utf-8" if fmt.name == "json" else "")
    return FileResponse(path, media_type=media, filename=path.name,
                        content_disposition_type="inline" if fmt.name == "json" else "attachment",
                        headers={"X-Group-Count": str(result.groups), "Cache-Control": "no-store"},
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


def _make_report(dsn: str, req: ReportRequest, fmt: Format, path: Path) -> ReportFile:
    """make_report on a clean path: thread_read runs it again on the primary when a replica
    goes away under it, and a GeoPackage must not keep the first run's half."""
    path.unlink(missing_ok=True)
    return make_report(dsn, req, fmt, path)
