"""Vector tiles (OGC API Tiles, WebMercatorQuad) rendered by PostGIS with ST_AsMVT.

pygeoapi describes the tilesets (its MVT-postgresql provider answers
/collections/{id}/tiles and the TileJSON metadata); the tile bytes themselves
come from this route: one SQL statement per tile, no Python per feature, a
strong ETag (hash of the bytes) so clients revalidate with 304, and a short
Cache-Control because edits change tiles.
"""

from __future__ import annotations

import hashlib
import string
from importlib import resources
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from rigenera.errors import InvalidParameter, NotFound
from rigenera.ogc.schema import ViewSchema

MVT = "application/vnd.mapbox-vector-tile"
TILE_MATRIX_SET = "WebMercatorQuad"
MIN_ZOOM, MAX_ZOOM = 0, 22
CACHE_CONTROL = "public, max-age=60, must-revalidate"
_TEMPLATE = string.Template(resources.files("rigenera.sql").joinpath("tile.sql").read_text())
# Columns left out of tiles: long free text and arrays (MVT values are scalars).
_SKIP_UDT = {"_text", "_int8", "_int4"}
_SKIP_NAMES = {"description", "condition_notes", "constraints"}


def tile_sql(schema: ViewSchema) -> str:
    cols = [schema.by_name[n] for n in tile_properties(schema)]
    id_col = schema.by_name[schema.id_field]
    return _TEMPLATE.substitute(
        layer=schema.collection.id,
        id_column=f", '{id_col.name}'" if id_col.udt in ("int4", "int8") else "",
        properties=", ".join(f't."{c.name}"' for c in cols),
        relation=schema.relation,
    )


def tile_properties(schema: ViewSchema) -> list[str]:
    return [c.name for c in schema.columns
            if c.udt not in _SKIP_UDT and c.name not in _SKIP_NAMES]


class VectorTiles:
    def __init__(self, ogc_url: str) -> None:
        self.ogc_url = ogc_url
        self.pool: asyncpg.Pool | None = None
        self.sql: dict[str, str] = {}
        self.schemas: dict[str, ViewSchema] = {}

    def start(self, pool: asyncpg.Pool, schemas: dict[str, ViewSchema]) -> None:
        self.pool = pool
        self.schemas = schemas
        self.sql = {cid: tile_sql(s) for cid, s in schemas.items()}

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
                "fields": {name: schema.by_name[name].udt for name in tile_properties(schema)},
            }],
        }
        return JSONResponse(doc)

    async def tile(self, request: Request) -> Response:
        p: dict[str, Any] = request.path_params
        if p["collection_id"] not in self.sql:
            raise NotFound("Collection not found")
        if p["tileMatrixSetId"] != TILE_MATRIX_SET:
            raise NotFound(f"Tile matrix set not supported: use {TILE_MATRIX_SET}")
        try:
            z, y, x = int(p["tileMatrix"]), int(p["tileRow"]), int(p["tileCol"])
        except ValueError:
            raise InvalidParameter("tileMatrix, tileRow and tileCol must be integers") from None
        if not (MIN_ZOOM <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
            raise NotFound(f"Tile {z}/{y}/{x} outside the tile matrix set limits")
        fmt = request.query_params.get("f")
        if fmt not in (None, "mvt", "pbf"):
            raise InvalidParameter("Invalid format requested: tiles are served as f=mvt")
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            data: bytes = await conn.fetchval(self.sql[p["collection_id"]], z, x, y) or b""
        etag = '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'
        headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
        if etag in _etags(request.headers.get("if-none-match")):
            return Response(status_code=304, headers=headers)
        if not data:
            return Response(status_code=204, headers=headers)
        return Response(content=data, media_type=MVT, headers=headers)


def _etags(header: str | None) -> set[str]:
    if not header:
        return set()
    return {t.strip().removeprefix("W/") for t in header.split(",")}
