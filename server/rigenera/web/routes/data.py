"""The open data page (`/dati`, `?f=json`): every published collection with its OGC API,
vector tile and download links, its sources and their licences, for reuse by other
agencies and developers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from rigenera.catalogue import COLLECTIONS
from rigenera.exports.attribution import notices, sources_of
from rigenera.exports.formats import FORMATS
from rigenera.ogc.tiles import TILE_MATRIX_SET
from rigenera.web.i18n import language
from rigenera.web.queries import sql
from rigenera.web.render import page, twin, wants_json
from rigenera.web.security import resolve_session

router = APIRouter(dependencies=[Depends(resolve_session)], include_in_schema=False)


def layer_links(cid: str, tiles: bool) -> dict[str, Any]:
    """The URLs of one collection (paths from the site's root)."""
    ogc = f"/ogc/collections/{cid}"
    links: dict[str, Any] = {
        "collection": f"{ogc}?f=json",
        "collection_html": f"{ogc}?f=html",
        "features": f"{ogc}/items?f=json",
        "queryables": f"{ogc}/queryables?f=json",
    }
    if tiles:
        links["tilejson"] = f"{ogc}/tiles/{TILE_MATRIX_SET}/metadata?f=tilejson"
        links["tiles_template"] = f"{ogc}/tiles/{TILE_MATRIX_SET}/{{z}}/{{y}}/{{x}}?f=mvt"
    links["downloads"] = {fmt.name: f"/api/exports/{cid}?format={key}"
                          for key, fmt in FORMATS.items()}
    return links


@router.get("/dati")
async def open_data(request: Request) -> Response:
    lang = language(request)
    rows = await request.app.state.pools.read.fetch(sql("data_sources"))
    by_collection: dict[str, list[tuple[str, int]]] = {}
    for r in rows:
        by_collection.setdefault(r["collection"], []).append((r["source"], r["features"]))
    layers = []
    for c in COLLECTIONS:
        sources = sources_of(by_collection.get(c.id, []))
        layers.append({
            "id": c.id, "title": c.title[lang], "description": c.description[lang],
            "keywords": c.keywords[lang], "geometry": c.geometry, "editable": c.editable,
            "tiles": c.tiles and c.geometry is not None,
            "features": sum(s.features for s in sources),
            "links": layer_links(c.id, c.tiles and c.geometry is not None),
            "sources": [s.to_json() for s in sources], "notices": notices(sources),
        })
    data = {"title": "Dati aperti" if lang == "it" else "Open data",
            "ogc_api": "/ogc/", "openapi": "/ogc/openapi?f=json", "api_docs": "/api/docs",
            "map_style": f"/mappa/stile.json?lang={lang}", "layers": layers}
    if wants_json(request):
        return twin(request, data)
    return page(request, "data.html", {"data": data})
