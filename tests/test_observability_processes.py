"""Logs and metrics of real server processes (issue 13): `rigenera serve` as production runs it.

Two server processes (`python -m rigenera.cli serve`, this worktree's code) on one database,
JSON logs on their standard error, one PROMETHEUS_MULTIPROC_DIR (what `rigenera serve
--workers N` sets up for its workers):
* every line is a JSON object with time, level, logger, message, request_id; our access
  lines carry method, route template, status and duration; a request's id is on its lines;
* the output of a login (Basic, bearer token, the website's form and its session cookie),
  a write and failing logins, at log level debug, holds none of the secrets used, no e-mail
  typed in a query and no client address;
* a scrape of either process sums both (requests, pools).
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import PASSWORD, basic, query
from rigenera.auth import new_token
from rigenera.cluster import free_port
from rigenera.settings import PROJECT_ROOT

GEOJSON = {"Content-Type": "application/geo+json"}
MERGE = {"Content-Type": "application/merge-patch+json"}
WRONG = "Parola-Sbagliata-7391"  # a failing login's password
EMAIL = "maria.bianchi@comune.example.it"
CLIENT = "198.51.100.23"  # a citizen's address, as the reverse proxy forwards it


class Served:
    """One `rigenera serve` process, its standard error kept in a file."""

    def __init__(self, db: str, state: Path, multiproc: Path) -> None:
        self.port = free_port()
        self.log = state / "stderr.log"
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "PYTHONPATH": str(PROJECT_ROOT / "server"),
               "DATABASE_URL": db, "RIGENERA_HOST": "127.0.0.1", "RIGENERA_PORT": str(self.port),
               "RIGENERA_STATE_DIR": str(state), "RIGENERA_LOG_FORMAT": "json",
               "RIGENERA_LOG_LEVEL": "debug", "PROMETHEUS_MULTIPROC_DIR": str(multiproc)}
        self.err = self.log.open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "rigenera.cli", "serve"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=self.err)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 90
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/livez", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.2)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.err.close()

    def lines(self) -> list[str]:
        return self.log.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def served(db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Served]]:
    multiproc = tmp_path_factory.mktemp("multiproc")
    servers: list[Served] = []
    try:
        for name in ("a", "b"):
            servers.append(Served(db, tmp_path_factory.mktemp(f"served-{name}"), multiproc))
        yield servers
    finally:
        for s in servers:
            s.stop()


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def test_json_logs_carry_request_ids_and_no_secret(served: list[Served], db: str) -> None:
    a = served[0]
    token, digest = new_token()
    query(db, "INSERT INTO rigenera.tokens (username, token_hash, expires_at)"
              " VALUES ('coord', %s, now() + interval '1 day') RETURNING id", (digest,))
    forwarded = {"X-Forwarded-For": CLIENT}
    secrets: dict[str, str] = {"password": PASSWORD, "wrong password": WRONG, "token": token,
                               "e-mail": EMAIL, "client address": CLIENT}
    with httpx.Client(base_url=a.url, timeout=60, headers=forwarded) as c:
        # A write with Basic credentials, a known request id.
        r = c.post("/ogc/collections/sites/items", headers={
            **GEOJSON, **basic("admin"), "X-Request-ID": "obs-write-0001"}, json={
            "type": "Feature", "properties": {"name": "Area dei log", "state": "abandoned"},
            "geometry": {"type": "Point", "coordinates": [9.2, 45.47]}})
        assert r.status_code == 201, r.text
        assert r.headers["x-request-id"] == "obs-write-0001"
        assert c.patch(r.headers["location"], json={"properties": {"owner": EMAIL}},
                       headers={**MERGE, **basic("admin")}).status_code == 204
        # Failing logins: Basic, a bearer token that does not exist, the website's form.
        assert c.get("/api/me", headers=basic("coord", WRONG)).status_code == 401
        unknown, _ = new_token()
        secrets["unknown token"] = unknown
        assert c.get("/api/me", headers={"Authorization": f"Bearer {unknown}"}).status_code == 401
        form = c.get("/area-riservata/accedi", headers={"Accept": "text/html"})
        secrets["csrf token"] = _csrf(form.text)
        r = c.post("/area-riservata/accedi", headers={"Accept": "text/html"}, data={
            "csrf_token": _csrf(form.text), "username": "coord", "password": WRONG})
        assert r.status_code in (400, 401, 403, 422), r.status_code
        # Logins that work: a bearer token, the form (a session cookie comes back).
        assert c.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        form = c.get("/area-riservata/accedi", headers={"Accept": "text/html"})
        r = c.post("/area-riservata/accedi", headers={"Accept": "text/html"}, data={
            "csrf_token": _csrf(form.text), "username": "coord", "password": PASSWORD})
        assert r.status_code == 303, r.text[:300]
        session = next(v for k, v in c.cookies.items() if "session" in k)
        secrets["session cookie"] = session
        assert c.get("/area-riservata/", headers={"Accept": "text/html"}).status_code in (200, 307)
        # Personal data typed into a query string.
        assert c.get("/ogc/collections/projects/items",
                     params={"q": EMAIL, "limit": 1}).status_code in (200, 400)
        assert c.get(f"/cerca.json?q={quote(EMAIL)}").status_code == 200
    time.sleep(0.5)  # the last lines reach the file
    lines = a.lines()
    assert lines
    docs = []
    for line in lines:
        doc = json.loads(line)  # every line is one JSON object
        assert {"time", "level", "logger", "message", "request_id"} <= doc.keys(), doc
        docs.append(doc)
    access = [d for d in docs if d["logger"] == "rigenera.access"]
    assert access and all({"method", "route", "status", "duration_ms"} <= d.keys()
                          for d in access)
    mine = [d for d in access if d["request_id"] == "obs-write-0001"]
    assert [(d["method"], d["route"], d["status"]) for d in mine] == [
        ("POST", "/ogc/collections/{collection_id}/items", 201)]
    assert not any(d["logger"].startswith("uvicorn.access") for d in docs)
    # pygeoapi's own lines, written in its worker threads, carry the request's id as well.
    # (the search with q=: pygeoapi logs the parameter it discards, redacted).
    threaded = [d for d in docs if d["logger"] == "pygeoapi.api.itemtypes"
                and "[email]" in d["message"]]
    assert threaded and all(d["request_id"] for d in threaded), threaded[:3]
    text = "\n".join(lines)
    encodings: dict[str, str] = {}
    for what, secret in secrets.items():
        encodings[what] = secret
        encodings[f"{what} (url-encoded)"] = quote(secret, safe="")
    encodings["Basic credentials"] = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
    encodings["wrong Basic credentials"] = base64.b64encode(f"coord:{WRONG}".encode()).decode()
    leaked = {what: s for what, s in encodings.items() if s in text}
    assert not leaked, leaked
    print(f"\n{len(lines)} log lines ({len(access)} access lines) at debug level, "
          f"{len(encodings)} secrets absent")


def test_a_scrape_of_either_process_sums_both(served: list[Served]) -> None:
    a, b = served

    def scrape(s: Served) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        r = httpx.get(f"{s.url}/metrics", timeout=30)
        assert r.status_code == 200, r.text
        return {(x.name, frozenset(x.labels.items())): x.value
                for f in text_string_to_metric_families(r.text) for x in f.samples}

    key = ("rigenera_http_requests_total",
           frozenset({"route": "/livez", "method": "GET", "status": "200"}.items()))
    before = scrape(a).get(key, 0.0)
    for _ in range(3):
        assert httpx.get(f"{a.url}/livez").status_code == 200
    for _ in range(5):
        assert httpx.get(f"{b.url}/livez").status_code == 200
    from_a, from_b = scrape(a), scrape(b)
    assert from_a[key] - before == 8
    assert from_b[key] == from_a[key]
    pools: dict[str, Any] = {}
    for (name, labels), v in from_b.items():
        if name == "rigenera_db_pool_connections":
            pools[dict(labels)["pool"]] = v
    # Each process holds at least one connection per pool: the sum shows both.
    assert pools["primary-read"] >= 2 and pools["primary-write"] >= 2, pools
