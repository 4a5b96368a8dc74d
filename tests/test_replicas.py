"""Issue 13: reads from a streaming replica, writes on the primary, read-your-writes.

A primary and a real hot standby (pg_basebackup -R, tests/replication.py) on 127.0.0.1,
the app served by uvicorn with DATABASE_READ_URLS naming the replica. Which server
answered a read is shown by the data itself: the replica's replay is paused
(pg_wal_replay_pause()) while the primary takes a write, so the replica still has the old
value and the primary the new one.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import mapbox_vector_tile
import psycopg2
import pytest
from prometheus_client import REGISTRY

from conftest import LiveServer, basic, seed_accounts
from replication import Replicated
from rigenera.auth import new_token
from rigenera.database import format_lsn, parse_lsn

MERGE = {"Content-Type": "application/merge-patch+json"}
DETAIL_Z = 16  # tiles carry the site's name from this zoom (ogc/tiles.py)


def run(dsn: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


@pytest.fixture(scope="module")
def rep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicated]:
    r = Replicated(tmp_path_factory.mktemp("repl"), demo=True)
    try:
        seed_accounts(r.primary_dsn)
        r.wait_replayed()
        yield r
    finally:
        r.close()


def serve(rep: Replicated, state: Path, **overrides: object) -> LiveServer:
    overrides = {"replica_check_seconds": 0.2, "replica_wait_ms": 50, **overrides}
    return LiveServer(rep.primary_dsn, state, database_read_urls=[rep.replica_dsn],
                      **overrides).start()


@pytest.fixture(scope="module")
def live(rep: Replicated, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = serve(rep, tmp_path_factory.mktemp("live"))
    yield server
    server.stop()


def client(live: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=live.url, timeout=30)


def bearer(rep: Replicated, user: str) -> dict[str, str]:
    """A bearer token, as the QGIS plugin's authcfg sends it."""
    token, digest = new_token()
    run(rep.primary_dsn, "INSERT INTO rigenera.tokens (username, token_hash, expires_at)"
                         " VALUES (%s, %s, now() + interval '1 day')", (user, digest))
    return {"Authorization": f"Bearer {token}"}


def rotation(live: LiveServer) -> dict[str, Any]:
    with client(live) as c:
        r = c.get("/api/admin/database", headers=basic("admin"))
    assert r.status_code == 200, r.text
    doc: dict[str, Any] = r.json()["replicas"][0]
    return doc


def wait_rotation(live: LiveServer, wanted: bool, timeout: float = 10.0) -> float:
    """Seconds until the replica is (or is not) in rotation."""
    start = time.monotonic()
    while rotation(live)["in_rotation"] is not wanted:
        assert time.monotonic() - start < timeout, rotation(live)
        time.sleep(0.05)
    return time.monotonic() - start


def a_site(rep: Replicated) -> tuple[int, float, float]:
    """A polygon site of Milano (the technician's comune) and a point inside it."""
    rows = run(rep.primary_dsn, """
        SELECT id, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom))
          FROM rigenera.sites WHERE istat_code = '015146'
           AND GeometryType(geom) LIKE '%%POLYGON' ORDER BY id LIMIT 1""")
    return rows[0][0], rows[0][1], rows[0][2]


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, y, x


def name_in_tile(c: httpx.Client, fid: int, tile: tuple[int, int, int],
                 headers: dict[str, str] | None = None) -> str:
    z, y, x = tile
    r = c.get(f"/ogc/collections/sites/tiles/WebMercatorQuad/{z}/{y}/{x}", headers=headers)
    assert r.status_code == 200, r.text
    layer = mapbox_vector_tile.decode(r.content)["sites"]
    return str(next(f for f in layer["features"] if f["id"] == fid)["properties"]["name"])


def name_of(c: httpx.Client, fid: int, headers: dict[str, str] | None = None,
            **params: str) -> str:
    r = c.get(f"/ogc/collections/sites/items/{fid}", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return str(r.json()["properties"]["name"])


def patch_name(c: httpx.Client, fid: int, name: str, auth: dict[str, str]) -> httpx.Response:
    etag = c.get(f"/ogc/collections/sites/items/{fid}", headers=auth).headers["etag"]
    r = c.patch(f"/ogc/collections/sites/items/{fid}", json={"properties": {"name": name}},
                headers={**MERGE, **auth, "If-Match": etag})
    assert r.status_code == 204, r.text
    return r


class Paused:
    """The replica's replay paused: it keeps serving reads, frozen at the last replay."""

    def __init__(self, rep: Replicated) -> None:
        self.rep = rep

    def __enter__(self) -> Paused:
        self.rep.wait_replayed()
        run(self.rep.replica_dsn, "SELECT pg_wal_replay_pause()")
        return self

    def __exit__(self, *exc: object) -> None:
        run(self.rep.replica_dsn, "SELECT pg_wal_replay_resume()")
        self.rep.wait_replayed()


def routed(target: str, reason: str) -> float:
    return REGISTRY.get_sample_value("rigenera_db_reads_total",
                                     {"target": target, "reason": reason}) or 0.0


def test_reads_come_from_the_replica_and_writes_go_to_the_primary(rep, live):
    wait_rotation(live, True)
    fid, lon, lat = a_site(rep)
    tile = tile_of(lon, lat, DETAIL_Z)
    auth = basic("tecnico")
    with client(live) as writer, client(live) as public, Paused(rep):
        before = name_of(public, fid)
        replica_reads = routed("replica", "rotation")
        r = patch_name(writer, fid, "Scritta sul primario", auth)
        mark = r.headers["Rigenera-LSN"]
        assert parse_lsn(mark) > 0 and "rigenera_lsn" in r.headers["set-cookie"]
        # The public still reads the replica, which has not replayed the write...
        assert name_of(public, fid) == before
        assert name_in_tile(public, fid, tile) == before
        assert routed("replica", "rotation") >= replica_reads + 2
        assert run(rep.primary_dsn, "SELECT name FROM rigenera.sites WHERE id = %s",
                   (fid,))[0][0] == "Scritta sul primario"
        # ...the writer sees the write: the replica did not replay it in time, the primary
        # answered; by its credential (no cookie), by its cookie, or by the header.
        writer.cookies.clear()
        assert name_of(writer, fid, headers=auth) == "Scritta sul primario"
        assert name_in_tile(writer, fid, tile, headers=auth) == "Scritta sul primario"
        with client(live) as browser:
            browser.cookies.set("rigenera_lsn", mark)
            assert name_of(browser, fid) == "Scritta sul primario"
        assert name_of(public, fid, headers={"Rigenera-Min-LSN": mark}) == "Scritta sul primario"
        # pygeoapi's provider (JSON-LD, HTML, CSV) reads the replica, and follows the mark.
        old = public.get(f"/ogc/collections/sites/items/{fid}", params={"f": "jsonld"})
        assert old.status_code == 200 and before in old.text
        assert "Scritta sul primario" not in old.text
        new = public.get(f"/ogc/collections/sites/items/{fid}", params={"f": "jsonld"},
                         headers={"Rigenera-Min-LSN": mark})
        assert new.status_code == 200 and "Scritta sul primario" in new.text
        assert rotation(live)["in_rotation"]  # paused a moment: still in rotation
    with client(live) as public:  # replayed: the replica has it now
        assert name_of(public, fid) == "Scritta sul primario"


def test_a_technician_always_reads_back_their_own_edit(rep, live):
    """50 PATCHes by bearer token (as QGIS sends them, without cookies), each read back at
    once through /ogc items and a tile, while the replica has not replayed the edit."""
    wait_rotation(live, True)
    fid, lon, lat = a_site(rep)
    tile = tile_of(lon, lat, DETAIL_Z)
    auth = bearer(rep, "tecnico")
    with client(live) as qgis, client(live) as public:
        for i in range(50):
            with Paused(rep):
                stale = name_of(public, fid)
                patch_name(qgis, fid, f"Versione {i}", auth)
                qgis.cookies.clear()  # QGIS's OAPIF layers never send our cookie
                assert name_of(qgis, fid, headers=auth) == f"Versione {i}"
                r = qgis.get("/ogc/collections/sites/items", headers=auth,
                             params={"bbox": f"{lon - 1e-4},{lat - 1e-4},{lon + 1e-4},{lat + 1e-4}"})
                names = {f["id"]: f["properties"]["name"] for f in r.json()["features"]}
                assert names[fid] == f"Versione {i}"
                assert name_in_tile(qgis, fid, tile, headers=auth) == f"Versione {i}"
                assert name_of(public, fid) == stale != f"Versione {i}"  # replica frozen


def test_the_replica_stopped_mid_load_fails_no_request(rep, live):
    wait_rotation(live, True)
    fid, lon, lat = a_site(rep)
    z, y, x = tile_of(lon, lat, 12)
    urls = ["/ogc/collections/sites/items?limit=50", f"/ogc/collections/sites/items/{fid}",
            f"/ogc/collections/sites/tiles/WebMercatorQuad/{z}/{y}/{x}",
            "/ogc/collections/projects/items?limit=20", f"/ogc/collections/sites/items/{fid}?f=jsonld",
            "/comuni/015146"]  # a website page: several statements on one connection
    stop = threading.Event()
    answers: list[int] = []
    failures: list[str] = []

    def reader(k: int) -> None:
        with client(live) as c:
            i = k
            while not stop.is_set():
                url = urls[i % len(urls)]
                i += 1
                try:
                    code = c.get(url).status_code
                except httpx.HTTPError as exc:
                    failures.append(f"{url}: {exc!r}")
                    continue
                answers.append(code)
                if code != 200:
                    failures.append(f"{url}: {code}")

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(2.0)
        before_stop = len(answers)
        stopping = time.monotonic()
        rep.stop_replica()  # pg_ctl stop -m fast: its sessions are cut mid-read
        out = wait_rotation(live, False)
        at_out = len(answers)
        time.sleep(2.0)
        while_down = len(answers) - at_out
        rep.start_replica()
        back = wait_rotation(live, True, timeout=15)
        time.sleep(1.0)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    print(f"\nreplica stopped mid-load: {len(answers)} reads by 4 clients, {len(failures)} "
          f"failed; {before_stop} before the stop, {at_out - before_stop} while it stopped "
          f"({out:.2f} s until out of rotation), {while_down} in 2 s while it was down; back "
          f"in rotation {back:.2f} s after it started "
          f"({time.monotonic() - stopping:.1f} s in all)")
    assert not failures, failures[:5]
    assert while_down > 0  # reads kept flowing, from the primary
    assert back < 10


def test_a_replica_lagging_beyond_the_bound_leaves_rotation_and_comes_back(rep, tmp_path):
    lagging = serve(rep, tmp_path, replica_max_lag_bytes=1024, replica_max_lag_seconds=60)
    try:
        wait_rotation(lagging, True)
        fid, _, _ = a_site(rep)
        with client(lagging) as public, Paused(rep):
            # A write of a few KB of WAL the paused replica cannot replay.
            run(rep.primary_dsn, "UPDATE rigenera.sites SET name = %s WHERE id = %s",
                ("x" * 3000, fid))
            out = wait_rotation(lagging, False)
            doc = rotation(lagging)
            assert doc["lag_bytes"] > 1024 and "lag" in doc["problem"]
            # Out of rotation: the anonymous read is the primary's, not the frozen replica's.
            assert name_of(public, fid) == "x" * 3000
        back = wait_rotation(lagging, True)
        print(f"\nlagging replica: out {out:.2f} s after the write, back {back:.2f} s "
              "after replay resumed")
    finally:
        lagging.stop()


def test_rotation_route_is_for_admins_and_a_bad_mark_is_refused(rep, live):
    with client(live) as c:
        assert c.get("/api/admin/database").status_code == 401
        assert c.get("/api/admin/database", headers=basic("tecnico")).status_code == 403
        doc = c.get("/api/admin/database", headers=basic("admin")).json()
        assert doc["reads"] == "replicas" and "password" not in str(doc)
        r = c.get("/ogc/collections/sites/items", headers={"Rigenera-Min-LSN": "ieri"})
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == "Rigenera-Min-LSN"
        # A POST that only reads (a CQL2-JSON query) is not a write: no mark, no primary.
        r = c.post("/ogc/collections/sites/items", headers={
            "Content-Type": "application/query-cql-json"},
            content=b'{"op": "=", "args": [{"property": "state"}, "abandoned"]}')
        assert r.status_code == 200 and "Rigenera-LSN" not in r.headers
        # A damaged cookie is ignored (it expires by itself), never a broken page.
        c.cookies.set("rigenera_lsn", "rotto")
        assert c.get("/ogc/collections/sites/items?limit=1").status_code == 200
    assert format_lsn(parse_lsn("16/B374D848")) == "16/B374D848"


def test_without_replicas_reads_use_the_primary_pool_and_no_marks(rep, live_single):
    pools = live_single.app.state.pools
    assert pools.read is pools.fresh and pools.router is None
    fid, _, _ = a_site(rep)
    with client(live_single) as c:
        r = patch_name(c, fid, "Un solo database", basic("tecnico"))
        assert "Rigenera-LSN" not in r.headers and "rigenera_lsn" not in r.headers.get(
            "set-cookie", "")
        assert name_of(c, fid) == "Un solo database"


@pytest.fixture(scope="module")
def live_single(rep: Replicated, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[LiveServer]:
    server = LiveServer(rep.primary_dsn, tmp_path_factory.mktemp("single")).start()
    yield server
    server.stop()


def test_exports_read_the_replica_and_follow_the_mark(rep, live):
    """psycopg2 work in threads (exports, reports, evaluation: database.thread_read)."""
    wait_rotation(live, True)
    fid, _, _ = a_site(rep)
    with client(live) as c, Paused(rep):
        before = name_of(c, fid)
        mark = patch_name(c, fid, "Esportata dal primario", basic("tecnico")).headers[
            "Rigenera-LSN"]
        c.cookies.clear()

        def exported(headers: dict[str, str]) -> str:
            r = c.get("/api/exports/sites", params={"format": "geojson"}, headers=headers)
            assert r.status_code == 200, r.text
            return str(next(f for f in r.json()["features"]
                            if fid in (f.get("id"), f["properties"].get("id")))
                       ["properties"]["name"])

        assert exported({}) == before  # the paused replica's
        assert exported({"Rigenera-Min-LSN": mark}) == "Esportata dal primario"
