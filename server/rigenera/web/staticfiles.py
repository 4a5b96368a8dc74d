"""Static files (our CSS and JS, and the npm-built MapLibre GL JS under vendor/).

URLs made by render.static_url carry `?v=<hash of the files>`: those answers may be kept
for a year (`immutable`); a bare URL is revalidated (Starlette's ETag / Last-Modified).
A file with a `.gz` twin (made at build time, scripts/build-web.sh) is sent compressed
to a browser that accepts gzip: MapLibre's 800 KB script travels as about 220 KB.
"""

from __future__ import annotations

from pathlib import Path

from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

YEAR = 365 * 86400


class WebStatic(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code not in (200, 304):
            return response
        headers = dict((k.decode().lower(), v.decode()) for k, v in scope.get("headers", []))
        if isinstance(response, FileResponse) and "gzip" in headers.get("accept-encoding", ""):
            gz = Path(str(response.path) + ".gz")
            if gz.is_file():
                zipped = FileResponse(gz, media_type=response.media_type,
                                      stat_result=gz.stat())
                zipped.headers["Content-Encoding"] = "gzip"
                zipped.headers["ETag"] = response.headers.get("etag", "").rstrip('"') + '-gz"'
                response = zipped
        response.headers["Vary"] = "Accept-Encoding"
        query = scope.get("query_string", b"")
        response.headers["Cache-Control"] = (f"public, max-age={YEAR}, immutable"
                                             if query.startswith(b"v=") else "no-cache")
        return response
