"""Deadlocks and lost connections under writes: retried inside the server, or answered as
retryable (409 / 503 with Retry-After), never as a validation error (422), never a lost update.

Deadlocks are real PostgreSQL deadlocks: raw psycopg2 transactions hold row locks while
a changeset waits, or two clients send changesets over the same two features in
opposite orders. The module's database detects deadlocks after 100 ms instead of 1 s
(`deadlock_timeout`, set on the database before its servers start), so the races are
quick; a raw transaction that must not be the victim raises its own to 30 s.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg2
import pytest

from conftest import LiveServer, basic, query

JSON = {"Content-Type": "application/json"}
GEOJSON = {"Content-Type": "application/geo+json"}


@pytest.fixture(scope="module")
def quick_deadlocks(db: str) -> str:
    dbname = db.rsplit("/", 1)[1]
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute(f'ALTER DATABASE "{dbname}" SET deadlock_timeout = \'100ms\'')
    conn.close()
    return db


@pytest.fixture(scope="module")
def server(quick_deadlocks: str, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[LiveServer]:
    live = LiveServer(quick_deadlocks, tmp_path_factory.mktemp("conflicts")).start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def once(quick_deadlocks: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server that runs a write only once (RIGENERA_WRITE_ATTEMPTS=1): what clients get
    when the retries are spent."""
    live = LiveServer(quick_deadlocks, tmp_path_factory.mktemp("once"), write_attempts=1).start()
    yield live
    live.stop()


def _stop(client: httpx.Client, name: str) -> str:
    r = client.post("/ogc/collections/transit_stops/items", headers={**GEOJSON, **basic("admin")},
                    json={"type": "Feature", "properties": {"mode": "bus", "name": name},
                          "geometry": {"type": "Point", "coordinates": [9.185, 45.465]}})
    assert r.status_code == 201, r.text
    return str(r.headers["location"].rsplit("/", 1)[1])


def _site(client: httpx.Client, name: str) -> str:
    r = client.post("/ogc/collections/sites/items", headers={**GEOJSON, **basic("admin")},
                    json={"type": "Feature", "properties": {"name": name, "state": "abandoned"},
                          "geometry": {"type": "Point", "coordinates": [9.185, 45.465]}})
    assert r.status_code == 201, r.text
    return str(r.headers["location"].rsplit("/", 1)[1])


def _lines_patch(cid: str, fid: str, version: int, token: str) -> dict[str, Any]:
    """A patch with a list value: changesets holding one go the per-operation path,
    which locks features in the order the operations come."""
    return {"action": "patch", "collection": cid, "id": fid, "base_version": version,
            "feature": {"properties": {"lines": [token], "operator": token}}}


def _owner_patch(cid: str, fid: str, version: int, token: str) -> dict[str, Any]:
    """An attribute patch: changesets of these go the set-wise batch path."""
    field = "owner" if cid == "sites" else "operator"
    return {"action": "patch", "collection": cid, "id": fid, "base_version": version,
            "feature": {"properties": {field: token}}}


def _version(db: str, cid: str, fid: str) -> int:
    return int(query(db, f"SELECT version FROM rigenera.{cid} WHERE id = %s", (int(fid),))[0][0])


def _deadlocks(db: str) -> int:
    return int(query(db, "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
                     )[0][0])


def _waiting_writer(db: str) -> int | None:
    """The pid of a connection waiting for a lock (the server's: the raw one holds them)."""
    rows = query(db, "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                     " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
    return int(rows[0][0]) if rows else None


def _until(check: Callable[[], Any], seconds: float = 10) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out")


class Send(threading.Thread):
    """A changeset sent from a thread, its answer kept."""

    def __init__(self, url: str, body: dict[str, Any]) -> None:
        super().__init__(daemon=True)
        self.url, self.body = url, body
        self.answer: httpx.Response | None = None

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as client:
            self.answer = client.post("/api/changesets", json=self.body,
                                      headers={**JSON, **basic("admin")})


def _force_deadlock(db: str, url: str, a: str, b: str, after: Callable[[Any], None]
                    ) -> httpx.Response:
    """A raw transaction locks B; a changeset patches A then B and waits for B; the raw
    transaction then asks for A: a deadlock, whose victim is the changeset (its
    connection detects it first). `after` runs in the raw transaction once it has both."""
    raw = psycopg2.connect(db)
    try:
        with raw.cursor() as cur:
            cur.execute("SET deadlock_timeout = '30s'")
            cur.execute("SELECT 1 FROM rigenera.transit_stops WHERE id = %s FOR UPDATE", (int(b),))
            send = Send(url, {"operations": [_lines_patch("transit_stops", a, 1, "forced"),
                                             _lines_patch("transit_stops", b, 1, "forced")]})
            send.start()
            _until(lambda: _waiting_writer(db) or send.answer)
            assert send.answer is None, send.answer.text
            cur.execute("SELECT 1 FROM rigenera.transit_stops WHERE id = %s FOR UPDATE", (int(a),))
            after(cur)
        raw.rollback()
    finally:
        raw.close()
    send.join(60)
    assert send.answer is not None
    return send.answer


def test_a_deadlocked_changeset_is_retried_and_applied(server: LiveServer, db: str) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        a, b = _stop(client, "Deadlock A"), _stop(client, "Deadlock B")
    before = _deadlocks(db)
    answer = _force_deadlock(db, server.url, a, b, lambda cur: time.sleep(0.3))
    assert answer.status_code == 200, answer.text
    # The raw transaction got A while the changeset still needed B: the changeset's first
    # run was a deadlock victim (counted by PostgreSQL once its backend reports).
    _until(lambda: _deadlocks(db) > before, 15)
    assert _version(db, "transit_stops", a) == 2 and _version(db, "transit_stops", b) == 2
    rows = query(db, "SELECT feature_id, count(DISTINCT changeset) FROM rigenera.history"
                     " WHERE collection = 'transit_stops' AND feature_id IN (%s, %s)"
                     " AND operation = 'update' GROUP BY feature_id", (a, b))
    assert sorted(rows) == sorted([(a, 1), (b, 1)])  # applied once, not once per attempt
    got = {r[0]: r[1] for r in query(db, "SELECT id::text, lines FROM rigenera.transit_stops"
                                         " WHERE id IN (%s, %s)", (int(a), int(b)))}
    assert got == {a: ["forced"], b: ["forced"]}


def test_spent_retries_are_a_retryable_409_and_write_nothing(
        once: LiveServer, db: str, fingerprint: Callable[[], Any]) -> None:
    with httpx.Client(base_url=once.url, timeout=60) as client:
        a, b = _stop(client, "Once A"), _stop(client, "Once B")
    before = fingerprint()
    answer = _force_deadlock(db, once.url, a, b, lambda cur: None)
    assert answer.status_code == 409, answer.text
    assert answer.headers["retry-after"].isdigit()
    doc = answer.json()
    assert doc["code"] == "WriteConflict" and doc["description"] and "problems" not in doc
    assert fingerprint() == before


def test_a_connection_lost_mid_changeset_is_503_not_a_problem_of_the_operation(
        server: LiveServer, db: str, fingerprint: Callable[[], Any]) -> None:
    """The write connection is terminated while an operation waits for its lock: the
    database's trouble, answered 503 with Retry-After, not a 422 about that operation."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        a, b = _stop(client, "Cut A"), _stop(client, "Cut B")
    before = fingerprint()

    def cut(cur: Any) -> None:
        raise AssertionError("not reached")

    raw = psycopg2.connect(db)
    raw.autocommit = True
    try:
        with raw.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("SELECT 1 FROM rigenera.transit_stops WHERE id = %s FOR UPDATE", (int(b),))
            send = Send(server.url, {"operations": [_lines_patch("transit_stops", a, 1, "cut"),
                                                    _lines_patch("transit_stops", b, 1, "cut")]})
            send.start()
            pid = _until(lambda: _waiting_writer(db))
            cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
            cur.execute("ROLLBACK")
    finally:
        raw.close()
    send.join(60)
    assert send.answer is not None
    assert send.answer.status_code == 503, send.answer.text
    assert send.answer.headers["retry-after"].isdigit()
    assert send.answer.json()["code"] == "ServiceUnavailable"
    assert fingerprint() == before


@pytest.mark.parametrize("path", ["per-operation", "batch"])
def test_opposite_orders_race_without_422_or_lost_updates(server: LiveServer, db: str,
                                                          path: str) -> None:
    """Two clients, round after round, send changesets over the same two features in
    opposite orders, each with the versions it just read. Every answer is 200 or 409;
    each feature's version grew by exactly the number of 200s; both features hold the
    values of the same, accepted changeset."""
    rounds = 15
    with httpx.Client(base_url=server.url, timeout=60) as client:
        if path == "batch":  # a site and a stop: the batch locks collections in one order
            pair = [("sites", _site(client, "Gara A")), ("transit_stops", _stop(client, "Gara B"))]
            patch = _owner_patch
        else:
            pair = [("transit_stops", _stop(client, "Gara A")),
                    ("transit_stops", _stop(client, "Gara B"))]
            patch = _lines_patch
    start_deadlocks = _deadlocks(db)
    barrier = threading.Barrier(2)
    answers: list[tuple[str, int, str]] = []
    lock = threading.Lock()

    def client_loop(n: int) -> None:
        order = pair if n == 0 else pair[::-1]
        with httpx.Client(base_url=server.url, timeout=60) as c:
            for i in range(rounds):
                versions = {fid: _version(db, cid, fid) for cid, fid in order}
                token = f"c{n}-r{i}"
                barrier.wait()
                r = c.post("/api/changesets", headers={**JSON, **basic("admin")}, json={
                    "operations": [patch(cid, fid, versions[fid], token) for cid, fid in order]})
                with lock:
                    answers.append((token, r.status_code, r.text[:300]))

    threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert len(answers) == 2 * rounds
    wrong = [a for a in answers if a[1] not in (200, 409)]
    assert not wrong, wrong
    accepted = [token for token, status, _ in answers if status == 200]
    assert accepted  # each round, the first to lock both wins
    for cid, fid in pair:
        assert _version(db, cid, fid) == 1 + len(accepted), (cid, fid)
    field = {"sites": "owner", "transit_stops": "operator"}
    finals = {query(db, f"SELECT {field[cid]} FROM rigenera.{cid} WHERE id = %s",
                    (int(fid),))[0][0] for cid, fid in pair}
    assert len(finals) == 1 and finals <= set(accepted), (finals, accepted)
    deadlocks = _deadlocks(db) - start_deadlocks  # as far as reported yet
    print(f"{path}: {len(accepted)} applied, {2 * rounds - len(accepted)} refused (409),"
          f" {deadlocks} deadlocks resolved inside the server")
