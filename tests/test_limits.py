"""Bodies are bounded for everyone before they are read; JSON nesting is bounded (issue #9, 4).

Real HTTP with httpx: chunked bodies from generators (that count what they were asked
for) and bodies with a Content-Length, anonymous and authenticated, for each route
family. An oversized body gets 413 (an OGC exception document naming the limit) long
before the client has sent it all, the server's memory barely moves (the server runs
in this process: /proc/self/status), and the database is as it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from conftest import basic
from test_editing import GEOJSON, feature

MIB = 1024 * 1024
CQL = {"Content-Type": "application/query-cql-json"}
JSON = {"Content-Type": "application/json"}
MERGE = {"Content-Type": "application/merge-patch+json"}
EXECUTE = "/ogc/processes/sites-near-transit/execution"
QUERY = {"op": "=", "args": [{"property": "state"}, "abandoned"]}


class Feeder:
    """A body of up to `total` bytes sent in 1 MiB chunks; `sent` says how much was asked for."""

    def __init__(self, total: int = 500 * MIB, start: bytes = b"") -> None:
        self.total, self.start, self.sent = total, start, 0
        self.chunk = b" " * MIB  # JSON whitespace: the body would be valid up to the end

    def __iter__(self) -> Iterator[bytes]:
        if self.start:
            self.sent += len(self.start)
            yield self.start
        while self.sent < self.total:
            self.sent += len(self.chunk)
            yield self.chunk


def rss() -> int:
    """This process's resident memory (the server under test runs in it), in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def target(api) -> str:
    r = api.post("/ogc/collections/sites/items", json=feature(name="Area dei limiti"),
                 headers={**GEOJSON, **basic("admin")})
    assert r.status_code == 201, r.text
    return r.headers["location"].rsplit("/", 1)[1]


def send(api: httpx.Client, method: str, path: str, headers: dict[str, str],
         body: Feeder, length: int | None = None) -> httpx.Response:
    if length is not None:  # announced: not chunked
        headers = {**headers, "Content-Length": str(length)}
    return api.request(method, path, content=body, headers=headers, timeout=120)


def assert_413(r: httpx.Response, limit: int) -> None:
    assert r.status_code == 413, (r.status_code, r.text[:300])
    doc = r.json()
    assert doc["code"] == "PayloadTooLarge" and doc["limit"] == limit, doc
    assert " / " in doc["description"] and doc["errors"][0]["field"] == "body"
    size = f"{limit // MIB} MiB" if limit >= MIB else f"{limit // 1024} KiB"
    assert size in doc["description"], doc


# route family, method, path, content type, limit anonymous, limit authenticated, and
# whether an anonymous caller is refused (401) before the body is read: writes are. With
# a Content-Length over the route's limit, everybody gets 413 before anything is read.
FAMILIES = [
    ("query", "POST", "/ogc/collections/sites/items", CQL, 256 * 1024, MIB, False),
    ("query-pygeoapi", "POST", "/ogc/collections/sites/items?f=jsonld", CQL, 256 * 1024, MIB,
     False),
    ("execution", "POST", EXECUTE, JSON, 256 * 1024, MIB, False),
    ("feature-create", "POST", "/ogc/collections/sites/items", GEOJSON, 5 * MIB, 5 * MIB, True),
    ("feature-replace", "PUT", "/ogc/collections/sites/items/{target}", GEOJSON, 5 * MIB, 5 * MIB,
     True),
    ("feature-patch", "PATCH", "/ogc/collections/sites/items/{target}", MERGE, 5 * MIB, 5 * MIB,
     True),
    ("changeset", "POST", "/api/changesets", JSON, 50 * MIB, 50 * MIB, True),
    ("review", "POST", "/api/review/sites/{target}", JSON, 64 * 1024, 64 * 1024, True),
    ("revert", "POST", "/api/collections/sites/items/{target}/revert", JSON, 64 * 1024, 64 * 1024,
     True),
    ("get-collections", "GET", "/ogc/collections", {}, 64 * 1024, 64 * 1024, False),
]
CASES = [pytest.param(*f, who, mode, id=f"{f[0]}-{who}-{mode}")
         for f in FAMILIES for who in ("anonymous", "admin") for mode in ("chunked", "length")]


@pytest.mark.parametrize(("family", "method", "path", "ctype", "anonymous", "authenticated",
                          "writes", "who", "mode"), CASES)
def test_oversized_bodies_are_refused_while_read(api, fingerprint, target, family, method, path,
                                                 ctype, anonymous, authenticated, writes, who,
                                                 mode):
    headers = {**ctype, **(basic(who) if who != "anonymous" else {})}
    limit = anonymous if who == "anonymous" else authenticated
    path = path.format(target=target)
    before = fingerprint()
    body = Feeder()
    r = send(api, method, path, headers, body, length=500 * MIB if mode == "length" else None)
    assert fingerprint() == before
    if writes and who == "anonymous" and mode == "chunked":
        assert r.status_code == 401, (r.status_code, r.text[:300])  # nothing read to say so
        assert body.sent <= 16 * MIB, body.sent
        return
    assert_413(r, limit)
    # far less than the 500 MiB on offer: the server stopped reading and closed
    assert body.sent <= limit + 16 * MIB, (body.sent, limit)


def test_a_body_nobody_reads_is_not_waited_for(api):
    """A route that reads no body answers at once and closes: the client stops sending."""
    body = Feeder()
    r = send(api, "GET", "/api/me", basic("admin"), body)
    assert r.status_code == 200 and r.headers["connection"] == "close"
    assert body.sent <= 16 * MIB, body.sent


def test_memory_stays_flat_under_oversized_anonymous_bodies(api, fingerprint):
    """Ten attempts at 500 MiB each on the public routes that read bodies."""
    before, memory = fingerprint(), rss()
    sent = 0
    for _ in range(5):
        for path, ctype in (("/ogc/collections/sites/items", CQL), (EXECUTE, JSON)):
            body = Feeder()
            assert_413(send(api, "POST", path, ctype, body), 256 * 1024)
            sent += body.sent
    growth = rss() - memory
    assert growth < 50 * MIB, growth
    assert sent < 200 * MIB, sent  # of 5,000 MiB offered
    assert fingerprint() == before


def test_bodies_within_the_limits_are_served(api):
    """The limits are the right ones: just under is served, just over is 413."""
    query = json.dumps(QUERY).encode()
    pad = (200 * 1024 - len(query)) * b" "
    r = api.post("/ogc/collections/sites/items?limit=1", content=query + pad, headers=CQL)
    assert r.status_code == 200, r.text
    r = api.post(EXECUTE, content=json.dumps({"inputs": {"distance_m": 1}}).encode() + pad,
                 headers=JSON)
    assert r.status_code == 200, r.text
    big = query + (600 * 1024) * b" "  # over the anonymous limit, under the authenticated one
    assert_413(api.post("/ogc/collections/sites/items?limit=1", content=big, headers=CQL),
               256 * 1024)
    r = api.post("/ogc/collections/sites/items?limit=1", content=big,
                 headers={**CQL, **basic("volontario")})
    assert r.status_code == 200, r.text


def test_credentials_on_a_query_are_checked_before_its_body_is_read(api):
    """Credentials earn the larger limit only when they hold."""
    body = Feeder(start=json.dumps(QUERY).encode())
    r = send(api, "POST", "/ogc/collections/sites/items", {**CQL, **basic("admin", "sbagliata"),
                                                           "X-Forwarded-For": "192.0.2.200"}, body)
    assert r.status_code == 401, r.text
    assert body.sent <= 16 * MIB, body.sent


# ----------------------------------------------------------------------- JSON depth
def nested_not(levels: int) -> dict:
    q: dict = QUERY
    for _ in range(levels):
        q = {"op": "not", "args": [q]}
    return q


DEEP_ARRAYS = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECTS = b'{"a":' * 5000 + b"1" + b"}" * 5000


@pytest.mark.parametrize(("path", "headers", "body", "field"), [
    ("/ogc/collections/sites/items", CQL, json.dumps(nested_not(40)).encode(), "filter"),
    ("/ogc/collections/sites/items?f=jsonld", CQL, json.dumps(nested_not(40)).encode(), "filter"),
    ("/ogc/collections/sites/items", CQL, DEEP_ARRAYS[:200_000], "filter"),
    (EXECUTE, JSON, json.dumps({"inputs": {"distance_m": 1, "x": json.loads(
        b"[" * 70 + b"]" * 70)}}).encode(), "body"),
    (EXECUTE, JSON, DEEP_OBJECTS, "body"),
    (EXECUTE, JSON, DEEP_ARRAYS[:200_000], "body"),
    ("/api/changesets", JSON, DEEP_ARRAYS, "body"),
], ids=["cql-fast-path", "cql-pygeoapi", "cql-arrays", "execution-input", "execution-objects",
        "execution-arrays", "changeset-arrays"])
def test_json_nested_beyond_the_limit_is_400_naming_it(api, fingerprint, path, headers, body, field):
    before = fingerprint()
    r = api.post(path, content=body, headers={**headers, **basic("admin")})
    assert r.status_code == 400, (r.status_code, r.text[:300])
    doc = r.json()
    assert "64" in doc["description"] and " / " in doc["description"], doc
    assert doc["errors"][0]["field"] == field, doc
    assert fingerprint() == before


def test_a_deep_filter_in_the_query_string_is_400_naming_the_limit(api):
    r = api.get("/ogc/collections/sites/items", params={
        "filter-lang": "cql2-json", "filter": json.dumps(nested_not(40))})
    assert r.status_code == 400, r.text
    assert "64" in r.json()["description"]


def test_nesting_within_the_limit_is_served(api):
    r = api.post("/ogc/collections/sites/items?limit=1", json=nested_not(30), headers=CQL)
    assert r.status_code == 200, r.text  # 61 levels: not (not (... state = 'abandoned'))
