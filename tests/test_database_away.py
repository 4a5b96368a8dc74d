"""PostgreSQL stopped under a live server: every route family answers 503 with Retry-After
and an OGC exception document, /healthz says the database is unavailable, and everything
comes back by itself once PostgreSQL is started again.

The module has a cluster of its own (the session's is shared by every other test), a
database with the demo data and one account per role, and a live server on it; the test
stops that cluster with pg_ctl (fast mode: open connections are cut, as in a restart or a
crash) and starts it again.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import LiveServer, basic, seed_accounts
from rigenera.cluster import LocalCluster, free_port
from rigenera.loaders.demo import load_demo
from rigenera.migrate import migrate

JSON = {"Content-Type": "application/json"}
GEOJSON = {"Content-Type": "application/geo+json"}
CQL_JSON = {"Content-Type": "application/query-cql-json"}
FILTER = b'{"op": "=", "args": [{"property": "state"}, "abandoned"]}'
SITE = {"type": "Feature", "properties": {"name": "Via", "state": "abandoned"},
        "geometry": {"type": "Point", "coordinates": [9.185, 45.465]}}


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalCluster, LiveServer]]:
    tmp = Path(tempfile.mkdtemp(prefix="rigenera-away-"))
    tmp.chmod(0o755)  # the unprivileged server user must reach its data dir
    cluster = LocalCluster(tmp / "state", free_port(), "rigenera", fsync=False)
    try:
        dsn = cluster.ensure()
        migrate(dsn)
        load_demo(dsn)
        seed_accounts(dsn)
        live = LiveServer(dsn, tmp_path_factory.mktemp("away")).start()
        try:
            yield cluster, live
        finally:
            live.stop()
    finally:
        cluster.destroy()
        shutil.rmtree(tmp, ignore_errors=True)


Request = Callable[[httpx.Client], httpx.Response]


def _routes(site_id: str) -> dict[str, Request]:
    """One request per route family; `site_id` is a site that exists."""
    item = f"/ogc/collections/sites/items/{site_id}"
    return {
        "healthz": lambda c: c.get("/healthz"),
        "items-fast": lambda c: c.get("/ogc/collections/sites/items"),
        "items-fast-filter": lambda c: c.get("/ogc/collections/sites/items",
                                             params={"filter": "state = 'abandoned'"}),
        "items-cql2-json-fast": lambda c: c.post("/ogc/collections/sites/items", content=FILTER,
                                                 headers=CQL_JSON),
        "item-fast": lambda c: c.get(item),
        "items-pygeoapi-csv": lambda c: c.get("/ogc/collections/sites/items", params={"f": "csv"}),
        "items-pygeoapi-html": lambda c: c.get("/ogc/collections/sites/items",
                                               params={"f": "html"}),
        "items-cql2-json-pygeoapi": lambda c: c.post("/ogc/collections/sites/items?f=csv",
                                                     content=FILTER, headers=CQL_JSON),
        "item-pygeoapi-jsonld": lambda c: c.get(item, params={"f": "jsonld"}),
        "item-pygeoapi-html": lambda c: c.get(item, params={"f": "html"}),
        "tile": lambda c: c.get("/ogc/collections/comuni/tiles/WebMercatorQuad/10/366/538"),
        "process": lambda c: c.post("/ogc/processes/sites-near-transit/execution",
                                    json={"inputs": {"distance_m": 500}}),
        "api-me-fresh-login": lambda c: c.get("/api/me", headers=basic("coord")),
        "api-changes": lambda c: c.get("/api/changes", params={"collection": "sites"},
                                       headers=basic("admin")),
        "api-history": lambda c: c.get(f"/api/collections/sites/items/{site_id}/history",
                                       headers=basic("admin")),
        "api-review-queue": lambda c: c.get("/api/review/queue", headers=basic("admin")),
        "api-rejections": lambda c: c.get("/api/review/rejections", headers=basic("admin")),
        "changeset": lambda c: c.post("/api/changesets", headers={**JSON, **basic("admin")},
                                      json={"operations": [{
                                          "action": "patch", "collection": "sites",
                                          "id": site_id, "base_version": 1,
                                          "feature": {"properties": {"owner": "Comune"}}}]}),
        "part4-create": lambda c: c.post("/ogc/collections/sites/items", json=SITE,
                                         headers={**GEOJSON, **basic("admin")}),
        "part4-patch": lambda c: c.patch(item, json={"properties": {"owner": "x"}}, headers={
            "Content-Type": "application/merge-patch+json", **basic("admin")}),
        "part4-options-technician": lambda c: c.options(item, headers=basic("tecnico")),
        "revert": lambda c: c.post(f"/api/collections/sites/items/{site_id}/revert",
                                   json={"version": 1}, headers={**JSON, **basic("admin")}),
        "review": lambda c: c.post(f"/api/review/sites/{site_id}", json={"decision": "accept"},
                                   headers={**JSON, **basic("volontario")}),
        # Issue 11, matching: needs matched to calls, process jobs.
        "matches-need": lambda c: c.get("/api/needs/1/matches"),
        "matches-comune": lambda c: c.get("/api/comuni/015146/matches"),
        "process-match-calls": lambda c: c.post("/ogc/processes/match-calls/execution",
                                                json={"inputs": {"istat_code": "015146"}}),
        "process-async": lambda c: c.post("/ogc/processes/sites-near-transit/execution",
                                          json={"inputs": {}},
                                          headers={"Prefer": "respond-async"}),
        "jobs": lambda c: c.get("/ogc/jobs"),
        "job": lambda c: c.get("/ogc/jobs/x"),
        "job-results": lambda c: c.get("/ogc/jobs/x/results"),
        "job-dismiss": lambda c: c.delete("/ogc/jobs/x"),
    }


# Answered from what the server read at start-up: they keep working without PostgreSQL.
STATIC = ["/ogc/", "/ogc/conformance", "/ogc/collections", "/ogc/collections/sites",
          "/ogc/collections/sites/queryables", "/api/collections/sites/model", "/ogc/processes"]


def _until(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


def test_database_away_is_503_everywhere_and_comes_back(
        own: tuple[LocalCluster, LiveServer]) -> None:
    cluster, live = own
    with httpx.Client(base_url=live.url, timeout=60, headers={"Connection": "close"}) as c:
        site_id = str(c.get("/ogc/collections/sites/items", params={"limit": 1})
                      .json()["features"][0]["id"])
        routes = _routes(site_id)
        assert c.get("/healthz").status_code == 200

        cluster.stop()
        try:
            failures: dict[str, Any] = {}
            for name, send in routes.items():
                r = send(c)
                retry = r.headers.get("retry-after", "")
                if r.status_code != 503 or not retry.isdigit() or int(retry) <= 0:
                    failures[name] = (r.status_code, retry, r.text[:200])
                    continue
                doc = r.json()
                if doc.get("code") != "ServiceUnavailable" or not doc.get("description"):
                    failures[name] = doc
            assert not failures, failures
            health = c.get("/healthz").json()
            assert health["database"] == "unavailable" and health["status"] == "unavailable"
            ready = c.get("/readyz")  # issue 13: not ready, but alive (no restart needed)
            assert ready.status_code == 503 and ready.headers["retry-after"].isdigit()
            assert ready.json()["database"] == "unavailable", ready.text
            assert c.get("/livez").status_code == 200
            for path in STATIC:
                assert c.get(path).status_code == 200, path
        finally:
            cluster.start()

        # Back by itself: no restart of the server, no request that must fail first.
        assert _until(lambda: c.get("/healthz").status_code == 200, 30)
        assert _until(lambda: c.get("/readyz").status_code == 200, 30)
        assert c.get("/healthz").json()["database"] == "ok"
        late = {}
        for name, send in routes.items():
            if not _until(lambda send=send: send(c).status_code < 500, 10):  # type: ignore[misc]
                late[name] = send(c).status_code
        assert not late, late
        assert c.get("/ogc/collections/sites/items").json()["features"]
        tile = c.get("/ogc/collections/comuni/tiles/WebMercatorQuad/10/366/538")
        assert tile.status_code == 200 and tile.content
