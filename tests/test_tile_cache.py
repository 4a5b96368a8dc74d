"""The tile cache (ogc/tilecache.py, migration 0032): no edit ever leaves a stale tile.

Each edit path (Part 4 PATCH, a changeset, an import, a funding line, a publication, a
move, a delete, concurrent writers) is followed by reading the tiles that cover the
feature at every zoom 0..22: each must hold the new state and be byte for byte the tile
PostGIS builds now (the same statement run directly, no cache), while tiles elsewhere,
cached before the edit, stay hits. The server says what its cache did in X-Tile-Cache.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import mapbox_vector_tile
import psycopg2
import pytest

from conftest import MILANO, LiveServer, basic, query
from rigenera.ogc.tiles import load_tile_layers

ZOOMS = range(0, 23)
MERGE = {"Content-Type": "application/merge-patch+json"}
GEOJSON = {"Content-Type": "application/geo+json"}


@pytest.fixture(scope="module")
def tile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tiles")


@pytest.fixture(scope="module")
def live(db: str, tmp_path_factory: pytest.TempPathFactory, tile_dir: Path
         ) -> Iterator[LiveServer]:
    """The module's server: its cache on disk in tile_dir, no background prewarming (so
    every hit and miss below is the test's own request)."""
    server = LiveServer(db, tmp_path_factory.mktemp("live"), tile_cache_dir=tile_dir).start()
    yield server
    server.stop()


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return min(n - 1, x), min(n - 1, y)


def url(layer: str, z: int, x: int, y: int) -> str:
    return f"/ogc/collections/{layer}/tiles/WebMercatorQuad/{z}/{y}/{x}"


class Fresh:
    """The tile statement of each layer run directly on the database: the bytes a cache
    miss would build now (the reference every served tile is compared with)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.sql: dict[str, str] = asyncio.run(self._load())

    async def _load(self) -> dict[str, str]:
        conn = await asyncpg.connect(self.dsn)
        try:
            return {cid: layer.sql for cid, layer in (await load_tile_layers(conn)).items()}
        finally:
            await conn.close()

    def __call__(self, layer: str, z: int, x: int, y: int) -> bytes:
        async def run() -> bytes:
            conn = await asyncpg.connect(self.dsn)
            try:
                row = await conn.fetchrow(self.sql[layer], z, x, y)
                assert row is not None
                return bytes(row["tile"] or b"")
            finally:
                await conn.close()
        return asyncio.run(run())


@pytest.fixture(scope="module")
def fresh(db: str) -> Fresh:
    return Fresh(db)


def get(api: httpx.Client, layer: str, z: int, x: int, y: int) -> httpx.Response:
    r = api.get(url(layer, z, x, y))
    assert r.status_code in (200, 204), (r.status_code, r.text[:300])
    return r


def features(r: httpx.Response, layer: str) -> dict[object, dict[str, object]]:
    if r.status_code == 204:
        return {}
    decoded = mapbox_vector_tile.decode(r.content).get(layer, {"features": []})
    return {f["id"]: f["properties"] for f in decoded["features"]}


def covering(lon: float, lat: float) -> list[tuple[int, int, int]]:
    return [(z, *tile_of(lon, lat, z)) for z in ZOOMS]


def where(db: str, table: str, fid: int) -> tuple[float, float]:
    lon, lat = query(db, f"SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p"
                         f" FROM rigenera.{table} WHERE id = %s) q", (fid,))[0]
    return float(lon), float(lat)  # type: ignore[arg-type]


def warm(api: httpx.Client, layer: str, tiles: list[tuple[int, int, int]]) -> None:
    """Read every tile twice: the second read must be a hit (the cache holds them)."""
    for z, x, y in tiles:
        get(api, layer, z, x, y)
        assert get(api, layer, z, x, y).headers["x-tile-cache"] == "hit", (layer, z, x, y)


def elsewhere(db: str, layer: str, lon: float, lat: float, far_lon: float, far_lat: float,
              ) -> list[tuple[int, int, int]]:
    """Tiles around (far_lon, far_lat), zoom 11 to 22, whose envelope (with a wide margin)
    does not reach the feature at (lon, lat): an edit there must not touch them."""
    out = []
    for z in range(11, 23):
        x, y = tile_of(far_lon, far_lat, z)
        (apart,) = query(db, """SELECT NOT ST_DWithin(ST_TileEnvelope(%s, %s, %s),
                                    ST_Transform(ST_SetSRID(ST_MakePoint(%s, %s), 4326), 3857),
                                    ST_XMax(ST_TileEnvelope(%s, %s, %s))
                                    - ST_XMin(ST_TileEnvelope(%s, %s, %s)) + 500)""",
                         (z, x, y, lon, lat, z, x, y, z, x, y))[0]
        if apart:
            out.append((z, x, y))
    assert len(out) >= 6, out
    return out


def assert_fresh_everywhere(api: httpx.Client, fresh: Fresh, layer: str,
                            tiles: list[tuple[int, int, int]]) -> list[httpx.Response]:
    """Every tile read now equals the tile PostGIS builds now (and reading it again is a
    hit with the same bytes)."""
    out = []
    for z, x, y in tiles:
        r = get(api, layer, z, x, y)
        assert r.content == fresh(layer, z, x, y), (layer, z, x, y, r.headers["x-tile-cache"])
        again = get(api, layer, z, x, y)
        assert again.headers["x-tile-cache"] == "hit" and again.content == r.content
        out.append(r)
    return out


def assert_still_hits(api: httpx.Client, layer: str, tiles: list[tuple[int, int, int]]) -> None:
    got = [get(api, layer, z, x, y).headers["x-tile-cache"] for z, x, y in tiles]
    assert got == ["hit"] * len(tiles), list(zip(tiles, got, strict=True))


_PLACES = itertools.count()


def a_site(db: str, offset: int = 0) -> int:
    """A new site of its own in Milano (a 40 m square, a grid of ~300 m steps): tests never
    share a feature, so one test's edit is not another's stale tile."""
    del offset
    k = next(_PLACES)
    lon, lat = 9.150 + (k % 12) * 0.004, 45.450 + (k // 12) * 0.003
    return int(query(db, """INSERT INTO rigenera.sites (name, istat_code, state, former_use,
                                                          source, source_id, geom)
        VALUES (%s, %s, 'abandoned', 'industrial', 'tiles-test', %s,
                ST_MakeEnvelope(%s, %s, %s + 0.0005, %s + 0.0004, 4326)) RETURNING id""",
                     (f"Area tile {k}", MILANO, f"site-{k}", lon, lat, lon, lat))[0][0])  # type: ignore[arg-type]


def version(api: httpx.Client, collection: str, fid: int) -> str:
    r = api.get(f"/ogc/collections/{collection}/items/{fid}")
    assert r.status_code == 200
    return r.headers["etag"]


def far_point(db: str) -> tuple[float, float]:
    """A point of the metro area well away from Milano: inside the comune farthest from it."""
    lon, lat = query(db, """SELECT ST_X(p), ST_Y(p) FROM (
        SELECT ST_PointOnSurface(c.geom) p FROM rigenera.comuni c, rigenera.comuni m
         WHERE m.istat_code = %s ORDER BY ST_Distance(c.geom, m.geom) DESC LIMIT 1) q""",
                     (MILANO,))[0]
    return float(lon), float(lat)  # type: ignore[arg-type]


# ------------------------------------------------------------------ cache basics
def test_cached_tile_is_the_freshly_built_tile(api, db, fresh):
    for layer in ("comuni", "sites", "projects", "mobility_links", "transit_stops"):
        for z, x, y in [(0, 0, 0), (8, *tile_of(9.19, 45.46, 8)), (14, *tile_of(9.19, 45.46, 14))]:
            first = get(api, layer, z, x, y)
            second = get(api, layer, z, x, y)
            assert first.headers["x-tile-cache"] in ("miss", "hit")
            assert second.headers["x-tile-cache"] == "hit"
            assert second.content == first.content == fresh(layer, z, x, y), (layer, z)
            assert second.headers["etag"] == first.headers["etag"]
            r = api.get(url(layer, z, x, y), headers={"If-None-Match": first.headers["etag"]})
            assert r.status_code == 304 and r.headers["x-tile-cache"] == "hit"


# ------------------------------------------------------------------ edits
def test_patch_refreshes_the_covering_tile_at_every_zoom_and_nothing_else(api, db, fresh):
    fid = a_site(db)
    lon, lat = where(db, "sites", fid)
    cover, far = covering(lon, lat), elsewhere(db, "sites", lon, lat, *far_point(db))
    warm(api, "sites", cover + far)
    old = query(db, "SELECT state FROM rigenera.sites WHERE id = %s", (fid,))[0][0]
    new = "underused" if old != "underused" else "abandoned"
    r = api.patch(f"/ogc/collections/sites/items/{fid}", json={"properties": {"state": new}},
                  headers={**MERGE, **basic("admin"), "If-Match": version(api, "sites", fid)})
    assert r.status_code == 204, r.text
    assert_still_hits(api, "sites", far)
    for r, (z, _, _) in zip(assert_fresh_everywhere(api, fresh, "sites", cover), cover,
                            strict=True):
        assert r.headers["x-tile-cache"] == "stale", z
        assert features(r, "sites")[fid]["state"] == new, z


def test_move_refreshes_the_old_and_the_new_place(api, db, fresh):
    fid = a_site(db, offset=1)
    lon, lat = where(db, "sites", fid)
    to_lon, to_lat = far_point(db)
    before, after = covering(lon, lat), covering(to_lon, to_lat)
    warm(api, "sites", before + after)
    square = [[to_lon, to_lat], [to_lon + 0.001, to_lat], [to_lon + 0.001, to_lat + 0.001],
              [to_lon, to_lat + 0.001], [to_lon, to_lat]]
    r = api.patch(f"/ogc/collections/sites/items/{fid}",
                  json={"geometry": {"type": "Polygon", "coordinates": [square]}},
                  headers={**MERGE, **basic("admin"), "If-Match": version(api, "sites", fid)})
    assert r.status_code == 204, r.text
    new_lon, new_lat = where(db, "sites", fid)
    for z, r in zip(ZOOMS, assert_fresh_everywhere(api, fresh, "sites", before), strict=True):
        if tile_of(new_lon, new_lat, z) != tile_of(lon, lat, z):
            assert fid not in features(r, "sites"), z
    for z, r in zip(ZOOMS, assert_fresh_everywhere(api, fresh, "sites",
                                                   covering(new_lon, new_lat)), strict=True):
        assert fid in features(r, "sites"), z


def test_delete_removes_the_feature_from_every_zoom(api, db, fresh):
    r = api.post("/ogc/collections/transit_stops/items", headers={**GEOJSON, **basic("admin")},
                 json={"type": "Feature", "properties": {"mode": "tram", "name": "Da togliere"},
                       "geometry": {"type": "Point", "coordinates": [9.2012, 45.4711]}})
    assert r.status_code == 201, r.text
    fid = int(r.headers["location"].rsplit("/", 1)[1])
    cover = covering(9.2012, 45.4711)
    for z, r in zip(ZOOMS, assert_fresh_everywhere(api, fresh, "transit_stops", cover),
                    strict=True):
        assert fid in features(r, "transit_stops"), z
    r = api.delete(f"/ogc/collections/transit_stops/items/{fid}",
                   headers={**basic("admin"), "If-Match": version(api, "transit_stops", fid)})
    assert r.status_code == 204
    for z, r in zip(ZOOMS, assert_fresh_everywhere(api, fresh, "transit_stops", cover),
                    strict=True):
        assert fid not in features(r, "transit_stops"), z


def test_changeset_refreshes_every_feature_it_writes(api, db, fresh):
    ids = [a_site(db, offset=k) for k in (2, 3)]
    places = [where(db, "sites", fid) for fid in ids]
    for lon, lat in places:
        warm(api, "sites", covering(lon, lat))
    ops = [{"action": "patch", "collection": "sites", "id": fid,
            "base_version": int(version(api, "sites", fid).strip('"')),
            "feature": {"properties": {"condition": "poor"}}} for fid in ids]
    r = api.post("/api/changesets", json={"operations": ops, "comment": "tiles"},
                 headers=basic("admin"))
    assert r.status_code == 200, r.text
    for fid, (lon, lat) in zip(ids, places, strict=True):
        for z, r in zip(ZOOMS, assert_fresh_everywhere(api, fresh, "sites", covering(lon, lat)),
                        strict=True):
            assert features(r, "sites")[fid]["condition"] == "poor", (fid, z)


def test_an_imported_row_appears_at_every_zoom(api, db, fresh):
    lon, lat = 9.1234, 45.4765
    cover = covering(lon, lat)
    warm(api, "sites", cover)
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
        "name": "Importata per le tile", "state": "abandoned", "former_use": "industrial",
        "source": "tiles-test", "source_id": "t-1"},
        "geometry": {"type": "Point", "coordinates": [lon, lat]}}]}
    import json

    r = api.post("/api/imports", data={"collection": "sites"}, headers=basic("admin"),
                 files={"file": ("siti.geojson", json.dumps(doc).encode(), "application/json")},
                 timeout=120)
    assert r.status_code == 201, r.text
    (fid,) = query(db, "SELECT id FROM rigenera.sites WHERE source_id = 't-1'")[0]
    for z, r in zip(ZOOMS, assert_fresh_everywhere(api, fresh, "sites", cover), strict=True):
        assert fid in features(r, "sites"), z
        assert r.headers["x-tile-cache"] == "stale", z


def _located_project(db: str) -> int:
    return int(query(db, "SELECT id FROM rigenera.projects WHERE geom IS NOT NULL"
                         " ORDER BY id LIMIT 1")[0][0])  # type: ignore[arg-type]


def test_a_funding_line_change_refreshes_its_project(api, db, fresh):
    """Funding lines have no geometry: their change refreshes the project's tiles (its box).
    Written by SQL, as imports of REGIS data and the CLI do: the trigger is on the table,
    whoever writes."""
    pid = _located_project(db)
    lon, lat = where(db, "projects", pid)
    cover = covering(lon, lat)
    warm(api, "projects", cover)
    (source,) = query(db, """SELECT s FROM unnest(ARRAY['fsc', 'private', 'regional', 'fse',
                                                       'national', 'other']) s
                              WHERE s NOT IN (SELECT funding_source FROM rigenera.funding_lines
                                               WHERE project_id = %s) LIMIT 1""", (pid,))[0]
    z, x, y = cover[10]
    assert source not in str(features(get(api, "projects", z, x, y), "projects")[pid]
                             .get("programmes")).split(",")
    query(db, "INSERT INTO rigenera.funding_lines (project_id, funding_source, amount_eur, source)"
              " VALUES (%s, %s, 1000, 'tiles-test') RETURNING id", (pid, source))
    for z, r in zip(ZOOMS, assert_fresh_everywhere(api, fresh, "projects", cover), strict=True):
        assert source in str(features(r, "projects")[pid]["programmes"]).split(","), z


def test_a_publication_change_refreshes_its_project(api, db, fresh):
    pid = _located_project(db)
    lon, lat = where(db, "projects", pid)
    cover = covering(lon, lat)
    for state in ("published", "draft"):
        warm(api, "projects", cover)
        query(db, """INSERT INTO rigenera.project_publication (project_id, state, published_at)
                     VALUES (%s, %s, now()) ON CONFLICT (project_id) DO UPDATE
                     SET state = excluded.state, published_at = excluded.published_at
                     RETURNING project_id""", (pid, state))
        for z, r in zip(ZOOMS, assert_fresh_everywhere(api, fresh, "projects", cover),
                        strict=True):
            assert features(r, "projects")[pid]["published"] is (state == "published"), z


def test_concurrent_writers_and_readers_leave_no_stale_tile(api, db, fresh, live):
    """Eight writers patch sites of Milano while four readers read their tiles: at the end
    every tile read (cached during the writes or not) is the tile PostGIS builds now."""
    ids = [a_site(db, offset=k) for k in range(4, 12)]
    places = {fid: where(db, "sites", fid) for fid in ids}
    tiles = sorted({(z, *tile_of(lon, lat, z)) for lon, lat in places.values()
                    for z in (0, 6, 10, 12, 13, 14, 16, 18)})
    stop = threading.Event()
    errors: list[str] = []

    def writer(fid: int) -> None:
        with httpx.Client(base_url=live.url, timeout=60) as c:
            for k in range(6):
                etag = c.get(f"/ogc/collections/sites/items/{fid}").headers["etag"]
                r = c.patch(f"/ogc/collections/sites/items/{fid}",
                            json={"properties": {"name": f"Area concorrente {k}"}},
                            headers={**MERGE, **basic("admin"), "If-Match": etag})
                if r.status_code != 204:
                    errors.append(f"{fid}: {r.status_code} {r.text[:200]}")

    def reader() -> None:
        with httpx.Client(base_url=live.url, timeout=60) as c:
            while not stop.is_set():
                for z, x, y in tiles:
                    r = c.get(url("sites", z, x, y))
                    if r.status_code not in (200, 204):
                        errors.append(f"tile {z}/{x}/{y}: {r.status_code}")

    readers = [threading.Thread(target=reader) for _ in range(4)]
    writers = [threading.Thread(target=writer, args=(fid,)) for fid in ids]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert not errors, errors[:5]
    assert_fresh_everywhere(api, fresh, "sites", tiles)
    for fid, (lon, lat) in places.items():
        z, x, y = 16, *tile_of(lon, lat, 16)
        assert features(get(api, "sites", z, x, y), "sites")[fid]["name"] == "Area concorrente 5"


def test_pruning_never_leaves_a_stale_tile(api, db, fresh):
    """Pruning deletes old changes and moves the horizon: an entry older than it is
    rebuilt, never trusted (its snapshot may predate a pruned change)."""
    fid = a_site(db, offset=12)
    lon, lat = where(db, "sites", fid)
    z, x, y = 15, *tile_of(lon, lat, 15)
    warm(api, "sites", [(z, x, y)])
    query(db, "UPDATE rigenera.sites SET state = 'regenerated' WHERE id = %s RETURNING id", (fid,))
    for _ in range(2):  # the change is gone from the table, the horizon past the entry
        query(db, "SELECT rigenera.tile_changes_prune('0 s')")
    assert query(db, "SELECT count(*) FROM rigenera.tile_changes")[0][0] == 0
    r = get(api, "sites", z, x, y)
    assert r.headers["x-tile-cache"] == "stale"
    assert r.content == fresh("sites", z, x, y)
    assert features(r, "sites")[fid]["state"] == "regenerated"


# ------------------------------------------------------------------ sharing and prewarming
def test_two_app_instances_share_the_disk_entries(api, db, fresh, tile_dir, tmp_path):
    """A second app (another worker) on the same directory serves the first one's tiles
    as hits from disk, and an edit made through the first is seen by the second."""
    fid = a_site(db, offset=13)
    lon, lat = where(db, "sites", fid)
    tiles = [(z, *tile_of(lon, lat, z)) for z in (9, 14, 17)]
    for z, x, y in tiles:
        get(api, "sites", z, x, y)
    other = LiveServer(db, tmp_path / "state", tile_cache_dir=tile_dir).start()
    try:
        with httpx.Client(base_url=other.url, timeout=60) as b:
            for z, x, y in tiles:
                r = b.get(url("sites", z, x, y))
                assert r.headers["x-tile-cache"] == "hit", z
                assert r.content == fresh("sites", z, x, y)
            r = api.patch(f"/ogc/collections/sites/items/{fid}",
                          json={"properties": {"name": "Rinominata"}},
                          headers={**MERGE, **basic("admin"), "If-Match": version(api, "sites", fid)})
            assert r.status_code == 204, r.text
            for z, x, y in tiles:
                r = b.get(url("sites", z, x, y))
                assert r.headers["x-tile-cache"] == "stale", z
                assert r.content == fresh("sites", z, x, y)
                if z >= 13:
                    assert features(r, "sites")[fid]["name"] == "Rinominata"
    finally:
        other.stop()
    files = list(tile_dir.rglob("*.mvt"))
    assert files and all(f.read_bytes().startswith(b"RGT2\n") for f in files)


def test_the_metro_area_is_prewarmed_in_the_background(db, fresh, tmp_path):
    server = LiveServer(db, tmp_path / "state", tile_cache_dir=tmp_path / "tiles",
                        tile_cache_prewarm_zoom=9, tile_cache_refresh_seconds=0.5).start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as c:
            deadline = time.monotonic() + 60
            while not isinstance(c.get("/healthz").json()["tile_cache"]["prewarm"], dict):
                assert time.monotonic() < deadline, "no prewarming pass in 60 s"
                time.sleep(0.2)
            status = c.get("/healthz").json()["tile_cache"]["prewarm"]
            assert status["tiles"] > 5 * 10 and status["max_zoom"] == 9
            for layer in ("sites", "comuni", "projects"):
                z, x, y = 9, *tile_of(9.19, 45.46, 9)
                r = c.get(url(layer, z, x, y))
                assert r.headers["x-tile-cache"] == "hit", layer
                assert r.content == fresh(layer, z, x, y)
            # an edit makes a prewarmed tile stale; the next pass rebuilds it
            fid = a_site(db, offset=14)
            query(db, "UPDATE rigenera.sites SET state = 'abandoned', condition = 'derelict'"
                      " WHERE id = %s RETURNING id", (fid,))
            passes = status["passes"]
            while c.get("/healthz").json()["tile_cache"]["prewarm"]["passes"] < passes + 2:
                assert time.monotonic() < deadline + 30, "no further prewarming pass"
                time.sleep(0.2)
            lon, lat = where(db, "sites", fid)
            r = c.get(url("sites", 9, *tile_of(lon, lat, 9)))
            assert r.headers["x-tile-cache"] == "hit"
            assert features(r, "sites")[fid]["condition"] == "derelict"
    finally:
        server.stop()


# ------------------------------------------------------------------ streaming replica
def test_a_tile_built_on_a_replica_during_a_write_is_stale_once_it_commits(tmp_path):
    """The hard case for a snapshot rule on a hot standby: the tile is built on the replica
    while the write is in progress on the primary (its change not visible), then the write
    commits. Checked on the replica and on the primary, the entry must be stale."""
    from replication import Replicated
    from rigenera.ogc.tilecache import SEEN_MAX, VALID_SQL, expand_for

    rep = Replicated(tmp_path, demo=True)
    try:
        sid = a_site(rep.primary_dsn)
        lon, lat = where(rep.primary_dsn, "sites", sid)
        z, x, y = 14, *tile_of(lon, lat, 14)
        sql = Fresh(rep.primary_dsn).sql["sites"]
        writer = psycopg2.connect(rep.primary_dsn)
        with writer.cursor() as cur:
            cur.execute("UPDATE rigenera.sites SET state = 'regenerated' WHERE id = %s"
                        " RETURNING pg_current_xact_id()::text", (sid,))
            (xid,) = cur.fetchone()
        # a later transaction commits meanwhile: the running one is below the snapshot's
        # xmax, so only the snapshot's list of running transactions can say it is running
        query(rep.primary_dsn, "UPDATE rigenera.sites SET condition = 'fair' WHERE id = %s"
                               " RETURNING id", (a_site(rep.primary_dsn),))
        rep.wait_replayed()  # the replica has the write's WAL, not its commit

        built = asyncio.run(_fetchrow(rep.replica_dsn, sql, z, x, y))
        raw = asyncio.run(_fetchrow(rep.replica_dsn, "SELECT pg_visible_in_snapshot($1::text::xid8,"
                                              " pg_current_snapshot()) AS seen", xid))
        print(f"\nreplica: raw pg_current_snapshot() counts the running xid {xid} as "
              f"{'visible' if raw['seen'] else 'not visible'}; stamped {built['snapshot']}")
        assert features_of(built["tile"])[sid]["state"] != "regenerated"
        # the running write is not among what the build saw (its change row is replayed
        # but not committed), whatever else near the tile it lists
        assert xid not in built["seen"].strip("{}").split(","), built["seen"]
        writer.commit()
        writer.close()
        rep.wait_replayed()
        for dsn in (rep.replica_dsn, rep.primary_dsn):
            check = asyncio.run(_fetchrow(dsn, VALID_SQL, "sites", z, x, y, built["snapshot"],
                                   expand_for(z), built["seen"], SEEN_MAX))
            assert check["valid"] is False, dsn
        again = asyncio.run(_fetchrow(rep.replica_dsn, sql, z, x, y))
        assert features_of(again["tile"])[sid]["state"] == "regenerated"
        recheck = asyncio.run(_fetchrow(rep.replica_dsn, VALID_SQL, "sites", z, x, y,
                                 again["snapshot"], expand_for(z), again["seen"],
                                 SEEN_MAX))
        assert recheck["valid"] is True
    finally:
        rep.close()


def features_of(data: bytes | None) -> dict[object, dict[str, object]]:
    layer = mapbox_vector_tile.decode(data or b"").get("sites", {"features": []})
    return {f["id"]: f["properties"] for f in layer["features"]}


def test_a_tile_built_on_a_replica_behind_a_long_transaction_is_a_hit_until_touched(tmp_path):
    """A transaction left open on the primary holds every snapshot's xmin back; a hot
    standby's stamp is then `xmin:xmin:` and, alone, judged every edit committed since as
    unseen: each read of a tile near recent edits was a rebuild (p50 250 ms instead of
    15 under load). With `seen` (sql/tile.sql) the tile built on the replica is a hit while
    nothing touching it commits, and stale (new bytes) once something does."""
    from replication import Replicated
    from rigenera.ogc.tilecache import NO_SEEN, SEEN_MAX, VALID_SQL, expand_for

    (tmp_path / "pg").mkdir()
    rep = Replicated(tmp_path / "pg", demo=True)
    server: LiveServer | None = None
    holder = None
    try:
        holder = psycopg2.connect(rep.primary_dsn)
        p = rep.primary_dsn
        sid = a_site(p)
        lon, lat = where(p, "sites", sid)
        z, x, y = 14, *tile_of(lon, lat, 14)
        (far,) = query(p, """SELECT id FROM rigenera.sites
                             WHERE NOT ST_DWithin(geom::geography, (SELECT geom::geography
                                   FROM rigenera.sites WHERE id = %s), 20000)
                             ORDER BY id LIMIT 1""", (sid,))[0]
        query(p, "CREATE TABLE public.xmin_holder (n int) ; SELECT 1")
        with holder.cursor() as cur:  # a write: its xid reaches the standby with its WAL
            cur.execute("INSERT INTO public.xmin_holder VALUES (1)"
                        " RETURNING pg_current_xact_id()::text")
            (held,) = cur.fetchone()

        def edit(fid: int, sql: str) -> str:
            return str(query(p, f"UPDATE rigenera.sites SET {sql} WHERE id = %s"
                                " RETURNING pg_current_xact_id()::text", (fid,))[0][0])

        touching = edit(sid, "condition = 'fair'")  # committed, after the held xmin
        edit(far, "condition = 'fair'")
        rep.wait_replayed()
        server = LiveServer(p, tmp_path / "state", database_read_urls=[rep.replica_dsn],
                            replica_check_seconds=0.2, tile_cache_dir=tmp_path / "tiles"
                            ).start()
        replica = server.app.state.replicas.replicas[0]
        deadline = time.monotonic() + 20
        while not replica.in_rotation:
            assert time.monotonic() < deadline, "the replica never entered the rotation"
            time.sleep(0.1)
        ref = Fresh(p)
        cache = server.app.state.tiles.cache
        key = ("sites", z, x, y)
        with httpx.Client(base_url=server.url, timeout=30) as api:
            first = get(api, "sites", z, x, y)
            assert first.headers["x-tile-cache"] == "miss"
            assert first.content == ref("sites", z, x, y)
            entry = cache.memory[key]
            # built on the replica: the standby's conservative stamp, held back by the
            # open transaction, and the committed edit near the tile among what it saw
            assert entry.snapshot == f"{held}:{held}:", entry.snapshot
            assert touching in entry.seen.strip("{}").split(","), entry.seen
            old_rule = asyncio.run(_fetchrow(rep.replica_dsn, VALID_SQL, "sites", z, x, y,
                                             entry.snapshot, expand_for(z), NO_SEEN, SEEN_MAX))
            assert old_rule["valid"] is False  # without `seen`: rebuilt at every read
            for _ in range(3):
                again = get(api, "sites", z, x, y)
                assert again.headers["x-tile-cache"] == "hit"
                assert again.content == first.content
            assert replica.in_rotation
            # an edit elsewhere commits and is replayed: still a hit (re-stamped and with
            # its own `seen` each time)
            edit(far, "condition = 'poor'")
            rep.wait_replayed()
            assert get(api, "sites", z, x, y).headers["x-tile-cache"] == "hit"
            # an edit of the tile commits: stale once replayed, rebuilt with it
            edit(sid, "state = 'regenerated'")
            rep.wait_replayed()
            stale = get(api, "sites", z, x, y)
            assert stale.headers["x-tile-cache"] == "stale"
            assert stale.content != first.content
            assert stale.content == ref("sites", z, x, y)
            assert features_of(stale.content)[sid]["state"] == "regenerated"
            hit = get(api, "sites", z, x, y)
            assert hit.headers["x-tile-cache"] == "hit" and hit.content == stale.content
            assert replica.in_rotation and cache.memory[key].snapshot.startswith(f"{held}:")
    finally:
        if holder is not None:
            holder.rollback()
            holder.close()
        if server is not None:
            server.stop()
        rep.close()


async def _fetchrow(dsn: str, statement: str, *args: object) -> asyncpg.Record:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(statement, *args)
        assert row is not None
        return row
    finally:
        await conn.close()
