"""Errors on the website's pages: an HTML page in the visitor's language, not JSON.

errors.py stays the one place where exceptions become answers; it asks this module
(app.state.html_error_page) whether the request was for a web page. API, OGC and static
paths, and callers that do not accept HTML, keep their JSON exception documents.
A 401 on a reserved page sends the browser to the login form, then back.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from rigenera.web.render import page

NOT_WEB = ("/api", "/ogc", "/static", "/healthz", "/readyz")
LOGIN = "/area-riservata/accedi"


def is_web_page(request: Request) -> bool:
    path = request.url.path
    if path.startswith(NOT_WEB) or path.endswith(".json") or path.endswith(".csv"):
        return False
    if request.query_params.get("f") not in (None, "html"):
        return False
    return "text/html" in request.headers.get("accept", "")


def html_error_page(request: Request, status: int, description: str,
                    errors: list[dict[str, Any]]) -> Response | None:
    if not is_web_page(request):
        return None
    if status == 401 and request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{LOGIN}?next={quote(target, safe='')}", status_code=303)
    return page(request, "errors/error.html",
                {"status": status, "description": description, "errors": errors},
                status=status, public=False)
