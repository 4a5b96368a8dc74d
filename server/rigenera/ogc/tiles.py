"""Vector tiles (OGC API Tiles, WebMercatorQuad) rendered by PostGIS with ST_AsMVT.

pygeoapi describes the tilesets (its MVT-postgresql provider answers
/collections/{id}/tiles and the TileJSON metadata); the tile bytes themselves
come from this route: one SQL statement per tile, no Python per feature, a
strong ETag (hash of the bytes) so clients revalidate with 304, and a short
Cache-Control because edits change tiles.
"""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

import asyncpg
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from rigenera.errors import InvalidParameter, NotFound
from rigenera.ogc.schema import ViewSchema

if TYPE_CHECKING:
    from rigenera.replicas import ReadRouter

MVT = "application/vnd.mapbox-vector-tile"
TILE_MATRIX_SET = "WebMercatorQuad"
TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
GEODATA = "http://www.opengis.net/def/rel/ogc/1.0/geodata"
MIN_ZOOM, MAX_ZOOM = 0, 22
CACHE_CONTROL = "public, max-age=60, must-revalidate"
# Below this zoom tiles are generalised (sql/tile.sql): small polygons become dots and
# the free-text columns of the dense collections are left out. At z12 a tile is ~10 km
# wide: a site is a dot, and its name is read by clicking, at z13+ or through /items.
DETAIL_ZOOM = 13
# Columns kept at every zoom: codes (styling), numbers, and the few labels drawn at
# metro scale (comuni and stop names; mobility names are kept, lines are few).
# Unique values (names, measured surfaces) cost bytes per feature; codes are shared.
DETAIL_ONLY = {"sites": {"name", "surface_m2"},
               "projects": {"title", "cup", "implementing_body", "total_cost_eur"}}
_TEMPLATE = string.Template(resources.files("rigenera.sql").joinpath("tile.sql").read_text())


@dataclass(frozen=True)
class TileLayer:
    """What one collection's tiles carry: the columns of its view in schema `tiles`."""

    collection: str
    id_column: str | None  # integer key, used as the MVT feature id
    properties: tuple[tuple[str, str], ...]  # (name, PostgreSQL type)

    @property
    def sql(self) -> str:
        detail = DETAIL_ONLY.get(self.collection, set())
        props = [f'CASE WHEN $1 >= {DETAIL_ZOOM} THEN t."{name}" END AS "{name}"'
                 if name in detail else f't."{name}"' for name, _ in self.properties]
        if self.id_column:
            props.insert(0, f't."{self.id_column}"')
        return _TEMPLATE.substitute(
            layer=self.collection,
            id_column=f", '{self.id_column}'" if self.id_column else "",
            properties=", ".join(props),
            relation=f'tiles."{self.collection}"',
            detail_zoom=DETAIL_ZOOM,
        )


async def load_tile_layers(conn: asyncpg.Connection) -> dict[str, TileLayer]:
    rows = await conn.fetch(
        """SELECT table_name, column_name, udt_name FROM information_schema.columns
            WHERE table_schema = 'tiles' ORDER BY table_name, ordinal_position""")
    layers: dict[str, TileLayer] = {}
    for cid in {r["table_name"] for r in rows}:
        cols = [(r["column_name"], r["udt_name"]) for r in rows
                if r["table_name"] == cid and r["udt_name"] != "geometry"]
        id_col = next((n for n, udt in cols if n == "id" and udt in ("int4", "int8")), None)
        layers[cid] = TileLayer(cid, id_col, tuple((n, u) for n, u in cols if n != id_col))
    return layers


class VectorTiles:
    def __init__(self, ogc_url: str) -> None:
        self.ogc_url = ogc_url
        self.pool: asyncpg.Pool | ReadRouter | None = None
        self.layers: dict[str, TileLayer] = {}
        self.sql: dict[str, str] = {}
        self.schemas: dict[str, ViewSchema] = {}

    def start(self, pool: asyncpg.Pool | ReadRouter, schemas: dict[str, ViewSchema],
              layers: dict[str, TileLayer]) -> None:
        self.pool = pool
        self.schemas = schemas
        # Collections without tiles (calls, needs: no view in schema `tiles`) are left out.
        self.layers = {cid: layers[cid] for cid in schemas if cid in layers}
        self.sql = {cid: layer.sql for cid, layer in self.layers.items()}

    async def tilejson(self, request: Request, bounds: list[float]) -> Response:
        """TileJSON 3.0 for MapLibre and QGIS (pygeoapi's f=tilejson fails with a 500)."""
        cid = request.path_params["collection_id"]
        schema = self.schemas[cid]
        doc = {
            "tilejson": "3.0.0",
            "name": schema.collection.title["it"],
            "description": schema.collection.description["it"],
            "tiles": [f"{self.ogc_url}/collections/{cid}/tiles/{TILE_MATRIX_SET}"
                      "/{z}/{y}/{x}?f=mvt"],
            "minzoom": MIN_ZOOM,
            "maxzoom": MAX_ZOOM,
            "bounds": bounds,
            "vector_layers": [{
                "id": cid,
                "fields": dict(self.layers[cid].properties),
            }],
        }
        return JSONResponse(doc)

    def _links(self, cid: str, title: str) -> dict[str, dict[str, Any]]:
        base = f"{self.ogc_url}/collections/{cid}/tiles/{TILE_MATRIX_SET}"
        return {
            "self": {"rel": "self", "type": "application/json", "href": f"{base}?f=json",
                     "title": f"{title} – {TILE_MATRIX_SET}"},
            "html": {"rel": "alternate", "type": "text/html", "href": f"{base}?f=html",
                     "title": f"{title} – {TILE_MATRIX_SET} (HTML)"},
            "tilejson": {"rel": "describedby", "type": "application/json",
                         "href": f"{base}/metadata?f=tilejson", "title": "TileJSON 3.0"},
            "scheme": {"rel": TILING_SCHEME, "type": "application/json",
                       "href": f"{self.ogc_url}/TileMatrixSets/{TILE_MATRIX_SET}?f=json",
                       "title": f"{TILE_MATRIX_SET} tile matrix set definition"},
            "item": {"rel": "item", "type": MVT, "templated": True,
                     "href": f"{base}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}?f=mvt",
                     "title": f"{title}: vector tiles"},
            "geodata": {"rel": GEODATA, "type": "application/json",
                        "href": f"{self.ogc_url}/collections/{cid}", "title": title},
        }

    def tileset_list(self, doc: dict[str, Any], cid: str, title: str) -> dict[str, Any]:
        """pygeoapi's /collections/{id}/tiles made valid OGC API Tiles 1.0.

        pygeoapi puts URL templates among the plain links (one of them a second `self`,
        `.../tiles/{tileMatrixSetId}`) without `templated`, and titles each tileset with
        the collection id. Here the document's own links stay, the tile template is an
        `item` link marked `templated`, each tileset has its `self` and `tiling-scheme`
        links, and `tileMatrixSetLinks` repeats the tilesets in the drafts' shape that
        clients written before Tiles 1.0 look for."""
        links = self._links(cid, title)
        own = [link for link in doc.get("links", []) if "{" not in str(link.get("href", ""))]
        doc["links"] = [*own, links["item"], links["tilejson"], links["geodata"]]
        for tileset in doc.get("tilesets", []):
            tileset["title"] = title
            tileset["links"] = [links["self"], links["html"], links["scheme"]]
        doc["tileMatrixSetLinks"] = [
            {"tileMatrixSet": TILE_MATRIX_SET, "tileMatrixSetURI": t["tileMatrixSetURI"]}
            for t in doc.get("tilesets", []) if t.get("tileMatrixSetURI")]
        return doc

    def tileset(self, doc: dict[str, Any], cid: str, title: str) -> dict[str, Any]:
        """pygeoapi's tileset metadata made valid (2D Tile Matrix Set and Tile Set Metadata
        2.0): a `self` link, the tile template marked `templated`, the tiling scheme as
        JSON, the collection (`geodata`), the tile format, and the tile matrices served
        (0 to 22: WebMercatorQuad defines 24)."""
        links = self._links(cid, title)
        doc["links"] = [links[k] for k in ("self", "html", "tilejson", "scheme", "item",
                                           "geodata")]
        doc["mediaTypes"] = [MVT]
        doc["tileMatrixSetLimits"] = [
            {"tileMatrix": str(z), "minTileRow": 0, "maxTileRow": 2**z - 1,
             "minTileCol": 0, "maxTileCol": 2**z - 1} for z in range(MIN_ZOOM, MAX_ZOOM + 1)]
        doc["layers"] = [{"id": cid, "title": title, "dataType": "vector",
                          "minTileMatrix": str(MIN_ZOOM), "maxTileMatrix": str(MAX_ZOOM)}]
        return doc

    async def tile(self, request: Request) -> Response:
        p: dict[str, Any] = request.path_params
        if p["collection_id"] not in self.sql:
            raise NotFound("Collection not found")
        if p["tileMatrixSetId"] != TILE_MATRIX_SET:
            raise unknown_tms(p["tileMatrixSetId"], [TILE_MATRIX_SET])
        for name in ("tileMatrix", "tileRow", "tileCol"):
            if not p[name].isascii() or not p[name].lstrip("-").isdigit():
                raise InvalidParameter(
                    f"{name}: atteso un intero / must be an integer (tileMatrix, tileRow and "
                    "tileCol must be integers)", errors=[{"field": name, "reason": "integer"}])
        z, y, x = int(p["tileMatrix"]), int(p["tileRow"]), int(p["tileCol"])
        if not (MIN_ZOOM <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
            raise NotFound(f"Tile {z}/{y}/{x} outside the tile matrix set limits")
        fmt = request.query_params.get("f")
        if fmt not in (None, "mvt", "pbf"):
            raise InvalidParameter("Invalid format requested: tiles are served as f=mvt")
        assert self.pool is not None
        sql, args = self.sql[p["collection_id"]], [z, x, y]
        if z < DETAIL_ZOOM:
            # Heavy generalised tiles: after five runs PostgreSQL switches a prepared
            # statement to a generic plan that cannot see the envelope (z10 of 100,000
            # sites: 0.35 -> 0.62 s). Validated integers inlined: always a custom plan.
            sql, args = _PARAM.sub(lambda m: str(args[int(m.group(1)) - 1]), sql), []
        data: bytes = await self.pool.fetchval(sql, *args) or b""  # replica or primary
        etag = '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'
        headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
        if etag in _etags(request.headers.get("if-none-match")):
            return Response(status_code=304, headers=headers)
        if not data:
            return Response(status_code=204, headers=headers)
        return Response(content=data, media_type=MVT, headers=headers)


_PARAM = re.compile(r"\$([1-3])(?![0-9])")


def unknown_tms(tms: str, known: list[str]) -> NotFound:
    """A tile matrix set we do not serve (pygeoapi: UnboundLocalError, a 500)."""
    return NotFound(f"Tile matrix set {tms[:60]!a} sconosciuto / unknown tile matrix set;"
                    f" supported: {', '.join(known)}",
                    errors=[{"field": "tileMatrixSetId", "reason": f"one of {known}"}])


def _etags(header: str | None) -> set[str]:
    if not header:
        return set()
    return {t.strip().removeprefix("W/") for t in header.split(",")}
