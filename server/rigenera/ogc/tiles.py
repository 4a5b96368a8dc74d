"""Vector tiles (OGC API Tiles, WebMercatorQuad) rendered by PostGIS with ST_AsMVT.

pygeoapi describes the tilesets (its MVT-postgresql provider answers
/collections/{id}/tiles and the TileJSON metadata); the tile bytes themselves
come from this route: one SQL statement per tile, no Python per feature, a
strong ETag (hash of the bytes) so clients revalidate with 304, and a short
Cache-Control because edits change tiles. Built tiles are kept by the tile cache
(tilecache.py) until an edit touches them; the metro area's low zooms are built in
the background after start-up and after edits, so a first drawing finds them ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import string
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

import asyncpg
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from rigenera.database import run_read
from rigenera.errors import InvalidParameter, NotFound, connection_error_types
from rigenera.ogc.schema import ViewSchema
from rigenera.ogc.tilecache import (
    SEEN_MAX,
    Entry,
    TileCache,
    TileKey,
    Timer,
    cache_version,
    metro_tiles,
    sleep_or_stop,
    tile_etag,
)

LOG = logging.getLogger(__name__)

if TYPE_CHECKING:
    from rigenera.replicas import ReadRouter

MVT = "application/vnd.mapbox-vector-tile"
TILE_MATRIX_SET = "WebMercatorQuad"
TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
GEODATA = "http://www.opengis.net/def/rel/ogc/1.0/geodata"
MIN_ZOOM, MAX_ZOOM = 0, 22
CACHE_CONTROL = "public, max-age=60, must-revalidate"
# For the reverse proxy of the production layout (deploy/nginx): keep the tile, but it is
# stale at once (validity ended in 1970), so the proxy revalidates every read with the
# ETag and never serves a tile an edit has changed. nginx takes it over Cache-Control and
# does not pass it on; other caches ignore it.
PROXY_EXPIRES = "@1"
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
            seen_max=SEEN_MAX,
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


@dataclass(frozen=True)
class Upkeep:
    """The background work of the cache (settings.tile_cache_*)."""

    prewarm_zoom: int = 12
    refresh_seconds: float = 10.0
    prune_seconds: float = 600.0


# One prewarming pass at a time per database server, whichever worker runs it.
PREWARM_LOCK = 0x7469_6C65  # "tile"


class VectorTiles:
    def __init__(self, ogc_url: str, cache: TileCache | None = None,
                 upkeep: Upkeep | None = None) -> None:
        self.ogc_url = ogc_url
        self.pool: asyncpg.Pool | ReadRouter | None = None
        self.write_pool: asyncpg.Pool | None = None
        self.layers: dict[str, TileLayer] = {}
        self.sql: dict[str, str] = {}
        self.schemas: dict[str, ViewSchema] = {}
        self.cache = cache
        self.upkeep = upkeep or Upkeep()
        self.inflight: dict[TileKey, asyncio.Future[Entry]] = {}
        self.task: asyncio.Task[None] | None = None
        self.stopping = asyncio.Event()

    async def start(self, pool: asyncpg.Pool | ReadRouter, schemas: dict[str, ViewSchema],
                    layers: dict[str, TileLayer], write_pool: asyncpg.Pool | None = None,
                    ) -> None:
        self.pool = pool
        self.write_pool = write_pool
        self.schemas = schemas
        # Collections without tiles (calls, needs: no view in schema `tiles`) are left out.
        self.layers = {cid: layers[cid] for cid in schemas if cid in layers}
        self.sql = {cid: layer.sql for cid, layer in self.layers.items()}
        if self.cache is not None:
            async with pool.acquire() as conn:
                self.cache.start(await cache_version(conn, self.sql))
            self.stopping = asyncio.Event()
            self.task = asyncio.create_task(self._upkeep(), name="tile-cache-upkeep")

    async def close(self) -> None:
        if self.task is not None:
            self.stopping.set()
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None

    async def fetch(self, conn: asyncpg.Connection, key: TileKey) -> tuple[Entry, str]:
        """The tile's bytes and where they came from (hit, miss, stale, or off): the cached
        entry when still valid, else built (and kept). Concurrent requests for one
        missing tile in this worker wait for one build."""
        cache = self.cache
        result = "off"
        if cache is not None:
            entry = cache.get(key)
            if entry is not None and await cache.check(conn, key, entry):
                return entry, "hit"
            result = "stale" if entry is not None else "miss"
            if entry is None:
                cache.miss()
            pending = self.inflight.get(key)
            if pending is not None:
                return await asyncio.shield(pending), result
        future: asyncio.Future[Entry] = asyncio.get_running_loop().create_future()
        self.inflight[key] = future
        try:
            entry = await self.build(conn, key)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        finally:
            self.inflight.pop(key, None)
        future.set_result(entry)
        if cache is not None:
            cache.put(key, entry)
        return entry, result

    async def build(self, conn: asyncpg.Connection, key: TileKey) -> Entry:
        cid, z, x, y = key
        sql, args = self.sql[cid], [z, x, y]
        if z < DETAIL_ZOOM:
            # Heavy generalised tiles: after five runs PostgreSQL switches a prepared
            # statement to a generic plan that cannot see the envelope (z10 of 100,000
            # sites: 0.35 -> 0.62 s). Validated integers inlined: always a custom plan.
            sql, args = _PARAM.sub(lambda m: str(args[int(m.group(1)) - 1]), sql), []
        row = await conn.fetchrow(sql, *args)
        assert row is not None
        data: bytes = row["tile"] or b""
        return Entry(data, tile_etag(data), row["snapshot"], row["seen"])

    # ------------------------------------------------------------ background upkeep
    async def _upkeep(self) -> None:
        """Prewarm the metro area's low zooms, prune tile_changes, bound the disk; again
        every refresh_seconds (stale tiles are rebuilt, valid ones only re-checked)."""
        assert self.cache is not None
        pruned_at = 0.0
        while not self.stopping.is_set():
            try:
                if self.upkeep.prewarm_zoom >= 0:
                    await self.prewarm()
                if (self.write_pool is not None
                        and asyncio.get_running_loop().time() - pruned_at
                        >= self.upkeep.prune_seconds):
                    pruned_at = asyncio.get_running_loop().time()
                    await self.write_pool.fetchval(
                        "SELECT rigenera.tile_changes_prune(make_interval(secs => $1))",
                        self.upkeep.prune_seconds * 0.9)
                if self.cache.needs_sweep():
                    await asyncio.to_thread(self.cache.sweep)
            except asyncio.CancelledError:
                raise
            except (*connection_error_types(), asyncpg.PostgresError, OSError) as exc:
                LOG.warning("tile cache upkeep: %s", exc)
            if await sleep_or_stop(self.stopping, self.upkeep.refresh_seconds):
                return

    async def prewarm(self) -> None:
        """Every tile of the metro area (the comuni's extent) up to prewarm_zoom, each
        layer: built when missing or stale. One pass at a time per database server (an
        advisory lock), the others find the tiles in the shared directory."""
        assert self.pool is not None and self.cache is not None
        stats = self.cache.stats
        timer = Timer()
        async with self.pool.acquire() as conn:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", PREWARM_LOCK):
                return
            try:
                row = await conn.fetchrow(
                    """SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
                         FROM (SELECT ST_Extent(geom_3857) AS e FROM rigenera.comuni) q""")
                if row is None or row[0] is None:
                    return
                extent = (row[0], row[1], row[2], row[3])
                before = stats.misses + stats.stale
                count = 0
                for z, x, y in metro_tiles(extent, self.upkeep.prewarm_zoom):
                    for cid in sorted(self.layers):
                        await self.fetch(conn, (cid, z, x, y))
                        count += 1
                        if self.stopping.is_set():
                            return
            finally:
                await conn.fetchval("SELECT pg_advisory_unlock($1)", PREWARM_LOCK)
        built = stats.misses + stats.stale - before
        passes = int(str(stats.prewarm.get("passes", 0))) + 1
        stats.prewarm = {"passes": passes, "tiles": count, "built": built,
                         "seconds": timer(), "max_zoom": self.upkeep.prewarm_zoom}
        if built:
            LOG.info("tile cache: prewarm pass %d, %d tiles, %d built in %.1f s",
                     passes, count, built, stats.prewarm["seconds"])

    def status(self) -> dict[str, object]:
        """For /healthz: whether the first prewarming pass is done, and the counters."""
        if self.cache is None:
            return {"enabled": False}
        s = self.cache.stats
        return {"enabled": True, "version": self.cache.version, "hits": s.hits,
                "misses": s.misses, "stale": s.stale, "memory_bytes": self.cache.memory_used,
                "prewarm": s.prewarm or ("off" if self.upkeep.prewarm_zoom < 0 else "running")}

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
        key = (p["collection_id"], z, x, y)
        # replica or primary; retried on the primary if a replica goes away under it
        entry, result = await run_read(self.pool, lambda conn: self.fetch(conn, key))
        data, etag = entry.data, entry.etag
        # X-Tile-Cache: what the cache did (hit, miss, stale, off), for operators and tests.
        headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "X-Tile-Cache": result,
                   "X-Accel-Expires": PROXY_EXPIRES}
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
