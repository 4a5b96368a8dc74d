"""The public map (`/`): the page, its MapLibre style, the counter and the search.

The map draws our own vector tiles with the style generated from styles/ (web/mapstyle.py);
filters run in the browser on the tiles' attributes (migration 0025) and, for the counter,
in the database (web/sql/map_counts.sql) with the same definitions, so the numbers shown
are the database's, not a count of what happens to be on screen.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from rigenera.domains import DOMAINS, FUNDING_SOURCE, PHASE
from rigenera.errors import InvalidParameter
from rigenera.web.i18n import language
from rigenera.web.mapstyle import web_style
from rigenera.web.queries import sql
from rigenera.web.render import page, to_json, twin
from rigenera.web.security import resolve_session

router = APIRouter(dependencies=[Depends(resolve_session)], include_in_schema=False)

OUTCOMES: dict[str, tuple[str, str]] = {
    "housing": ("Alloggi per persone fragili", "Housing for fragile groups"),
    "cultural": ("Spazi culturali", "Cultural spaces"),
    "community": ("Spazi di comunità", "Community spaces"),
    "productive": ("Spazi produttivi", "Productive spaces"),
}
STATUS = DOMAINS[("projects", "status")]
# Colouring projects by programme: the first funding source of this list the project has
# (PNRR first: the programme's main line). Colour-blind-safe qualitative palette (Okabe-Ito).
PROGRAMME_COLOURS: tuple[tuple[str, str], ...] = (
    ("pnrr", "#0072b2"), ("fesr", "#e69f00"), ("fse", "#cc79a7"), ("fsc", "#009e73"),
    ("national", "#56b4e9"), ("regional", "#d55e00"), ("municipal", "#f0e442"),
    ("private", "#000000"), ("other", "#999999"))
NO_PROGRAMME_COLOUR = "#bbbbbb"
_ISTAT = re.compile(r"^[0-9]{6}$")
_PROGRAMME = re.compile(r"^[A-Za-z0-9_.]{1,40}$")
SEARCH_LIMIT = 8


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def programme_label(code: str, lang: str) -> str:
    """PNRR codes are their own label; funding sources have one (FUNDING_SOURCE)."""
    if code in FUNDING_SOURCE:
        return FUNDING_SOURCE[code][0 if lang == "it" else 1]
    return f"PNRR {code}"


async def _options(request: Request, lang: str) -> dict[str, Any]:
    rows = await request.app.state.pools.read.fetch(sql("map_options"))
    i = 0 if lang == "it" else 1
    return {
        "comuni": [{"code": r["code"], "label": r["label"]} for r in rows if r["kind"] == "comune"],
        "programmes": sorted(({"code": r["code"], "label": programme_label(r["code"], lang)}
                              for r in rows if r["kind"] == "programme"),
                             key=lambda o: (o["code"] not in FUNDING_SOURCE, o["code"])),
        "statuses": [{"code": c, "label": v[i]} for c, v in STATUS.items()],
        "phases": [{"code": c, "label": v[i]} for c, v in PHASE.items()],
        "outcomes": [{"code": c, "label": v[i]} for c, v in OUTCOMES.items()],
    }


@router.get("/")
async def map_page(request: Request) -> Response:
    lang = language(request)
    options = await _options(request, lang)
    style_url = f"/mappa/stile.json?lang={lang}"
    i = 0 if lang == "it" else 1
    by_programme = [{"code": c, "colour": colour, "label": FUNDING_SOURCE[c][i]}
                    for c, colour in PROGRAMME_COLOURS]
    config = {"style": style_url, "counts": "/mappa/conteggi.json", "search": "/cerca.json",
              "lang": lang, "center": [9.19, 45.46], "zoom": 9.2,
              "programme_colours": by_programme, "no_programme_colour": NO_PROGRAMME_COLOUR}
    config_json = to_json(config).replace("<", "\\u003c")  # safe inside <script>
    return page(request, "map.html", {"options": options, "config_json": config_json,
                                      "legend": web_style(lang, "")["metadata"]["rigenera:legend"],
                                      "by_programme": by_programme,
                                      "no_programme_colour": NO_PROGRAMME_COLOUR})


@router.get("/mappa/stile.json")
async def map_style(request: Request) -> Response:
    settings = request.app.state.settings
    style = web_style(language(request), _base(request), settings.web_basemap_url,
                      settings.web_basemap_attribution)
    return twin(request, style)


def _choice(name: str, value: str | None, allowed: Any) -> str | None:
    if value in (None, ""):
        return None
    ok = allowed.match(value) if isinstance(allowed, re.Pattern) else value in allowed
    if not ok:
        raise InvalidParameter(f"{name}: valore non valido / invalid value {value!r}")
    return value


@router.get("/mappa/conteggi.json")
async def map_counts(request: Request, istat_code: str | None = Query(None),
                     status: str | None = Query(None), programme: str | None = Query(None),
                     phase: str | None = Query(None), outcome: str | None = Query(None)) -> Response:
    """Published projects and sites matching the map's filters, counted in the database."""
    args = (_choice("istat_code", istat_code, _ISTAT), _choice("status", status, STATUS),
            _choice("programme", programme, _PROGRAMME), _choice("phase", phase, PHASE),
            _choice("outcome", outcome, OUTCOMES))
    row = await request.app.state.pools.read.fetchrow(sql("map_counts"), *args)
    return twin(request, {"projects": row["projects"], "sites": row["sites"],
                          "bbox": list(row["bbox"]) if row["bbox"] else None,
                          "filters": dict(zip(("istat_code", "status", "programme", "phase",
                                                "outcome"), args, strict=True))})


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@router.get("/cerca.json")
async def search(request: Request, q: str = Query("", max_length=100)) -> Response:
    """Published projects (title, CUP) and comuni (name) matching `q`."""
    text = q.strip()
    if len(text) < 2:
        return twin(request, {"q": text, "results": []})
    rows = await request.app.state.pools.read.fetch(sql("map_search"), _like(text), SEARCH_LIMIT)
    results = []
    for r in rows:
        href = f"/progetti/{r['id']}" if r["kind"] == "project" else f"/comuni/{r['id']}"
        results.append({"kind": r["kind"], "id": r["id"], "label": r["label"], "detail": r["detail"],
                        "center": [r["lon"], r["lat"]] if r["lon"] is not None else None,
                        "bbox": list(r["bbox"]) if r["bbox"] else None, "href": href})
    return twin(request, {"q": text, "results": results})
