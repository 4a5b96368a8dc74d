"""Several API workers, one truth (issue 13): `rigenera serve --workers 2` as a real
subprocess on a free 127.0.0.1 port, against this module's test database (DATABASE_URL).

Which worker answered is read from the `X-Rigenera-Worker` header, which only the debug
setting RIGENERA_WORKER_HEADER turns on (production does not tell the outside how many
processes it runs). To send a request to a chosen worker, a client opens connections
until one is answered by that worker (a GET /healthz probe) and sends the request on it,
kept alive; the answer's header is checked too. Other requests go each on a new
connection, whichever worker accepts it.

Shown: both workers answer the same data; a revoked token, a changed password, a
deactivated account and an ended session are refused by every later request whichever
worker answers; failed logins through both workers add up to one limit (the 429 comes
after exactly RIGENERA_LOGIN_FAILURES_PER_ACCOUNT_ADDRESS failures); an import and a
process job started through one worker are read through the other; a worker killed
mid-import is replaced by the supervisor and its import marked failed; `rigenera stop`
ends the parent and every worker.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg2
import pytest

from conftest import PASSWORD, basic, query
from rigenera.auth import hash_password, new_token
from rigenera.cluster import free_port

WORKERS = 2
LIMIT = 4  # failed logins per account and address before 429 (not the default 5)
HEADER = "x-rigenera-worker"
ITEMS = "/ogc/collections/sites/items?limit=50"


class Served:
    """`rigenera serve --workers 2` in a subprocess, and ways to reach each worker."""

    def __init__(self, dsn: str, state_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.state_dir = state_dir
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("RIGENERA_", "PROMETHEUS_"))}
        self.env.update({
            "DATABASE_URL": dsn, "RIGENERA_STATE_DIR": str(state_dir),
            "RIGENERA_HOST": "127.0.0.1", "RIGENERA_PORT": str(self.port),
            "RIGENERA_WORKER_HEADER": "true", "RIGENERA_LOG_LEVEL": "warning",
            "RIGENERA_LOGIN_FAILURES_PER_ACCOUNT_ADDRESS": str(LIMIT)})
        self.log = (state_dir / "serve.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rigenera.cli", "serve", "--workers", str(WORKERS)],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        self.pids = self._wait_for_workers()

    def _wait_for_workers(self) -> list[int]:
        registry = self.state_dir / "run" / "workers"
        deadline = time.monotonic() + 120
        while True:
            assert self.proc.poll() is None, "server exited: " + self.output()
            pids = sorted(int(p.name) for p in registry.iterdir()) if registry.is_dir() else []
            if len(pids) == WORKERS:
                try:
                    if httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                        return pids
                except httpx.HTTPError:
                    pass
            assert time.monotonic() < deadline, "workers did not start: " + self.output()
            time.sleep(0.3)

    def output(self) -> str:
        self.log.flush()
        return (self.state_dir / "serve.log").read_text()[-3000:]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "rigenera.cli", *args], env=self.env,
                              capture_output=True, text=True, timeout=120, check=False)

    @contextlib.contextmanager
    def on(self, pid: int) -> Iterator[httpx.Client]:
        """A client whose one kept-alive connection is served by worker `pid`."""
        for _ in range(200):
            client = httpx.Client(base_url=self.url, timeout=60, limits=httpx.Limits(
                max_connections=1, max_keepalive_connections=1))
            if client.get("/healthz").headers[HEADER] == str(pid):
                break
            client.close()
        else:
            raise AssertionError(f"no connection reached worker {pid}")
        try:
            yield client
        finally:
            client.close()

    def each(self, method: str, path: str, **kwargs: object) -> dict[int, httpx.Response]:
        """The same request sent to every worker (answers checked to come from it)."""
        answers = {}
        for pid in self.pids:
            with self.on(pid) as client:
                r = client.request(method, path, **kwargs)  # type: ignore[arg-type]
            assert r.headers[HEADER] == str(pid)
            answers[pid] = r
        return answers

    def fresh(self, method: str, path: str, n: int, headers: dict[str, str],
              network: int | None = None) -> dict[int, list[int]]:
        """`n` requests, each on a new connection: statuses by the worker that answered.
        With `network`, each comes from an address of its own, 10.<network>.0.<i>
        (X-Forwarded-For, trusted from 127.0.0.1): refused credentials are then answered
        by their check, not by the login throttle of one address."""
        seen: dict[int, list[int]] = {}
        for i in range(n):
            forwarded = {"X-Forwarded-For": f"10.{network}.0.{i + 1}"} if network else {}
            r = httpx.request(method, self.url + path, timeout=60,
                              headers={**headers, **forwarded})
            seen.setdefault(int(r.headers[HEADER]), []).append(r.status_code)
        return seen

    def close(self) -> None:
        if self.proc.poll() is None:
            self.cli("stop")
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        self.log.close()


@pytest.fixture(scope="module")
def served(db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    s = Served(db, tmp_path_factory.mktemp("workers"))
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def account(db: str) -> Callable[[str], str]:
    """A fresh coordinator account with PASSWORD."""

    def make(name: str) -> str:
        query(db, "INSERT INTO rigenera.accounts (username, role, password_hash)"
                  " VALUES (%s, 'coordinator', %s) RETURNING username",
              (name, hash_password(PASSWORD)))
        return name

    return make


def _ppid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().partition("=")[::2] for item in raw if item)


def _all_refused(seen: dict[int, list[int]]) -> None:
    """Every answer a 401, and both workers gave some."""
    assert {code for codes in seen.values() for code in codes} == {401}, seen
    assert len(seen) == WORKERS, seen


@pytest.mark.parametrize("count", ["0", "65", "due"])
def test_a_bad_worker_count_is_refused_before_anything_starts(tmp_path: Path,
                                                             count: str) -> None:
    env = {**os.environ, "RIGENERA_STATE_DIR": str(tmp_path), "DATABASE_URL": "postgresql://x"}
    out = subprocess.run([sys.executable, "-m", "rigenera.cli", "serve", "--workers", count],
                         env=env, capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 2 and "--workers" in out.stderr, out.stderr
    assert not (tmp_path / "run").exists()  # no PID file, nothing prepared


# --------------------------------------------------------------------------- who answers
def test_every_worker_answers_the_same_data(served: Served) -> None:
    assert len(set(served.pids)) == WORKERS
    for pid in served.pids:  # the parent's children, each with the prepared environment
        assert _ppid(pid) == served.proc.pid
        env = _environ(pid)
        assert env["PROMETHEUS_MULTIPROC_DIR"] == str(served.state_dir / "run" / "metrics")
        assert env["RIGENERA_PREPARED_BY_PARENT"] == "true"
    seen: dict[int, int] = {}
    for _ in range(200):  # new connections: the kernel hands each to a worker
        r = httpx.get(served.url + ITEMS, timeout=30)
        assert r.status_code == 200
        seen[int(r.headers[HEADER])] = seen.get(int(r.headers[HEADER]), 0) + 1
        if len(seen) == WORKERS and min(seen.values()) >= 5:
            break
    assert set(seen) == set(served.pids), seen
    print(f"\nrequests per worker on new connections: {seen}")
    pages = served.each("GET", ITEMS)
    bodies = {json.dumps(r.json()["features"], sort_keys=True) for r in pages.values()}
    assert len(bodies) == 1  # one truth: the same page from each
    # The parent wrote pygeoapi's documents once, atomically: no temporary file is left.
    run = served.state_dir / "run"
    assert (run / "pygeoapi-config.yml").stat().st_mode & 0o777 == 0o600
    assert not [p.name for p in run.iterdir() if p.name.endswith(".tmp")]


# --------------------------------------------------------------------------- revocation
def test_a_revoked_token_is_refused_by_every_worker(served: Served, db: str,
                                                    account: Callable[[str], str]) -> None:
    name = account("w.token")
    token, digest = new_token()
    token_id = query(db, "INSERT INTO rigenera.tokens (username, token_hash, expires_at)"
                         " VALUES (%s, %s, now() + interval '1 day') RETURNING id",
                     (name, digest))[0][0]
    bearer = {"Authorization": f"Bearer {token}"}
    assert {r.status_code for r in served.each("GET", "/api/me", headers=bearer).values()} == {200}
    out = served.cli("token", "revoke", str(token_id))
    assert out.returncode == 0, out.stderr
    assert {r.status_code for r in served.each("GET", "/api/me", headers=bearer).values()} == {401}
    seen = served.fresh("GET", "/api/me", 30, bearer)
    _all_refused(seen)
    assert sum(map(len, seen.values())) == 30


def test_a_deactivated_account_is_refused_by_every_worker(
        served: Served, account: Callable[[str], str]) -> None:
    """Both workers remember that these credentials were verified; deactivation (the
    CLI, another process) still ends them at the next request on each."""
    creds = basic(account("w.off"))
    assert {r.status_code for r in served.each("GET", "/api/me", headers=creds).values()} == {200}
    out = served.cli("user", "disable", "w.off")
    assert out.returncode == 0, out.stderr
    assert {r.status_code for r in served.each("GET", "/api/me", headers=creds).values()} == {401}
    _all_refused(served.fresh("GET", "/api/me", 20, creds, network=2))


def _login(client: httpx.Client, username: str, password: str) -> str:
    """The website's login form on this client's connection; the session cookie."""
    client.get("/area-riservata/accedi")
    r = client.post("/area-riservata/accedi", data={
        "username": username, "password": password,
        "csrf_token": client.cookies["rigenera_csrf"], "next": "/area-riservata"})
    assert r.status_code == 303, r.text[:300]
    return str(client.cookies["rigenera_session"])


def _form_token(client: httpx.Client, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match is not None
    return match.group(1)


def test_a_password_changed_through_one_worker_is_refused_by_every_worker(
        served: Served, account: Callable[[str], str]) -> None:
    name = account("w.pass")
    old = basic(name)
    first, second = served.pids
    assert {r.status_code for r in served.each("GET", "/api/me", headers=old).values()} == {200}
    with served.on(second) as browser_b:  # another browser, logged in through worker B
        other_session = _login(browser_b, name, PASSWORD)
    with served.on(first) as browser:  # the change: one request, through worker A
        _login(browser, name, PASSWORD)
        token = _form_token(browser, "/area-riservata/password")
        r = browser.post("/area-riservata/password", data={
            "current_password": PASSWORD, "new_password": "una-password-nuova-lunga",
            "confirm_password": "una-password-nuova-lunga", "csrf_token": token})
        assert r.status_code == 303 and r.headers[HEADER] == str(first), r.text[:300]
    refused = served.each("GET", "/api/me", headers=old)
    assert {r.status_code for r in refused.values()} == {401}
    _all_refused(served.fresh("GET", "/api/me", 16, old, network=1))
    new = basic(name, "una-password-nuova-lunga")
    assert {r.status_code for r in served.each("GET", "/api/me", headers=new).values()} == {200}
    cookie = {"Cookie": f"rigenera_session={other_session}"}  # ended with the change
    assert {r.status_code for r in served.each("GET", "/api/me", headers=cookie).values()} == {401}


def test_a_session_ended_through_one_worker_is_refused_by_every_worker(
        served: Served, account: Callable[[str], str]) -> None:
    name = account("w.session")
    first, _ = served.pids
    with served.on(first) as browser:
        session = _login(browser, name, PASSWORD)
        cookie = {"Cookie": f"rigenera_session={session}"}
        assert {r.status_code for r in served.each("GET", "/api/me",
                                                   headers=cookie).values()} == {200}
        token = _form_token(browser, "/area-riservata/password")
        r = browser.post("/area-riservata/esci", data={"csrf_token": token})
        assert r.status_code == 303 and r.headers[HEADER] == str(first)
    assert {r.status_code for r in served.each("GET", "/api/me", headers=cookie).values()} == {401}
    _all_refused(served.fresh("GET", "/api/me", 20, cookie))


# --------------------------------------------------------------------------- throttling
def test_failed_logins_through_both_workers_add_up_to_one_limit(
        served: Served, db: str, account: Callable[[str], str]) -> None:
    """LIMIT failures, alternating between the workers: each a 401; the next one, on
    either worker, is the 429, even with the right password."""
    name = account("w.throttle")
    address = {"X-Forwarded-For": "10.9.9.9"}
    wrong = {**basic(name, "sbagliata-sbagliata"), **address}
    answered = []
    for i in range(LIMIT):
        pid = served.pids[i % WORKERS]
        with served.on(pid) as client:
            r = client.get("/api/me", headers=wrong)
        assert r.headers[HEADER] == str(pid)
        assert r.status_code == 401, (i, r.status_code, r.text[:200])
        answered.append(pid)
    assert set(answered) == set(served.pids)
    for pid, r in served.each("GET", "/api/me", headers=wrong).items():
        assert r.status_code == 429, (pid, r.text[:200])
        assert int(r.headers["retry-after"]) > 0
    right = {**basic(name), **address}
    assert {r.status_code for r in served.each("GET", "/api/me", headers=right).values()} == {429}
    # Elsewhere the account still works: only this account from this address is blocked.
    elsewhere = {**basic(name), "X-Forwarded-For": "10.9.9.10"}
    assert {r.status_code for r in served.each("GET", "/api/me",
                                               headers=elsewhere).values()} == {200}
    rows = query(db, "SELECT blocked_until > now() FROM rigenera.login_throttle"
                     " WHERE key = %s", (f"pair:{name} 10.9.9.9",))
    assert rows == [(True,)]


# --------------------------------------------------------------------------- jobs
def _sites(n: int, tag: str = "w") -> bytes:
    lat = 45.47 if tag == "w" else 45.48  # each tag a place of its own
    features = [{"type": "Feature", "properties": {
        "name": f"Area lavoratori {tag} {i}", "state": "abandoned", "former_use": "industrial",
        "source": "test workers", "source_id": f"{tag}-{i}"}, "geometry": {
        "type": "Point", "coordinates": [9.2 + (i % 10) * 1e-4, lat + (i // 10) * 1e-4]}}
        for i in range(n)]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def _poll(client: httpx.Client, path: str, done: Callable[[dict[str, object]], bool],
          **kwargs: object) -> dict[str, object]:
    deadline = time.monotonic() + 120
    while True:
        r = client.get(path, **kwargs)  # type: ignore[arg-type]
        assert r.status_code == 200, r.text[:300]
        doc: dict[str, object] = r.json()
        if done(doc) or time.monotonic() > deadline:
            return doc
        time.sleep(0.2)


def test_an_import_started_through_one_worker_is_read_through_the_other(
        served: Served, db: str) -> None:
    first, second = served.pids
    coord = basic("coord")
    with served.on(first) as a:
        r = a.post("/api/imports", files={"file": ("siti.geojson", _sites(40),
                                                   "application/octet-stream")},
                   data={"collection": "sites"}, headers={**coord, "Prefer": "respond-async"})
    assert r.status_code == 202 and r.headers[HEADER] == str(first), r.text[:300]
    location = r.headers["location"]
    with served.on(second) as b:
        seen = b.get(location, headers=coord)
        assert seen.headers[HEADER] == str(second)
        assert seen.status_code == 200 and seen.json()["status"] in ("running", "succeeded")
        final = _poll(b, location, lambda d: d["status"] != "running", headers=coord)
    assert final["status"] == "succeeded", final
    assert final["counts"]["created"] == 40  # type: ignore[index]
    assert query(db, "SELECT count(*) FROM rigenera.sites WHERE source = 'test workers'"
                 ) == [(40,)]


def test_a_process_job_started_through_one_worker_is_read_through_the_other(
        served: Served) -> None:
    first, second = served.pids
    inputs = {"inputs": {"distance_m": 800, "modes": ["metro", "rail"]}}
    with served.on(first) as a:
        r = a.post("/ogc/processes/sites-near-transit/execution", json=inputs,
                   headers={"Prefer": "respond-async"})
        sync = a.post("/ogc/processes/sites-near-transit/execution", json=inputs)
    assert r.status_code == 201 and r.headers[HEADER] == str(first), r.text[:300]
    job_id = r.json()["jobID"]
    with served.on(second) as b:
        job = _poll(b, f"/ogc/jobs/{job_id}", lambda d: d["status"] in ("successful", "failed"))
        assert job["status"] == "successful", job
        results = b.get(f"/ogc/jobs/{job_id}/results")
        assert results.headers[HEADER] == str(second)
    assert results.status_code == 200
    assert results.json() == sync.json()


def test_a_killed_worker_is_replaced_and_its_import_marked_failed(served: Served,
                                                                   db: str) -> None:
    """An import waits to write (the sites table locked by another transaction) in worker
    A; A is killed (SIGKILL). The supervisor starts a new worker, which at start marks the
    import failed (migration 0034: its record names the dead process); worker B answered
    all along; nothing of the import was written."""
    first, second = served.pids
    coord = basic("coord")
    lock = psycopg2.connect(db)
    try:
        with lock.cursor() as cur:
            cur.execute("BEGIN; LOCK TABLE rigenera.sites IN SHARE MODE")
        with served.on(first) as a:
            r = a.post("/api/imports", files={"file": ("siti.geojson", _sites(30, "k"),
                                                       "application/octet-stream")},
                       data={"collection": "sites"}, headers={**coord, "Prefer": "respond-async"})
        assert r.status_code == 202 and r.headers[HEADER] == str(first), r.text[:300]
        import_id = r.json()["id"]
        location = r.headers["location"]
        with served.on(second) as b:  # staged and checked, it waits for the lock to write
            _poll(b, location, lambda d: d["progress"] == {"done": 30, "total": 30},
                  headers=coord)
        assert query(db, "SELECT worker FROM rigenera.imports WHERE id = %s",
                     (import_id,)) == [(f"{socket.gethostname()}:{first}",)]
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 120
        registry = served.state_dir / "run" / "workers"
        while True:
            alive = sorted(int(p.name) for p in registry.iterdir()
                           if Path(f"/proc/{p.name}").exists() and int(p.name) != first)
            if len(alive) == WORKERS:
                break
            assert time.monotonic() < deadline, "no new worker: " + served.output()
            with served.on(second) as b:  # the survivor answers meanwhile
                assert b.get(ITEMS).status_code == 200
            time.sleep(0.5)
        assert second in alive
        served.pids = alive
        replacement = next(pid for pid in alive if pid != second)
        assert _ppid(replacement) == served.proc.pid
        with served.on(replacement) as c:
            doc = c.get(location, headers=coord).json()
        assert doc["status"] == "failed", doc
        assert "interrupted" in doc["message"], doc
    finally:
        lock.rollback()
        lock.close()
    time.sleep(1)  # the dead worker's backend, unblocked, finds its client gone
    assert query(db, "SELECT count(*) FROM rigenera.sites WHERE source_id LIKE %s"
                 " AND source = 'test workers'", ("k-%",)) == [(0,)]
    assert query(db, "SELECT status FROM rigenera.imports WHERE id = %s",
                 (import_id,)) == [("failed",)]


# --------------------------------------------------------------------------- stop
def test_stop_ends_every_worker(served: Served) -> None:
    """Last in this module: `rigenera stop` (another process, through the PID file)."""
    out = served.cli("stop")
    assert out.returncode == 0, out.stderr
    assert f"server {served.proc.pid} stopped" in out.stdout
    assert served.proc.wait(timeout=30) == 0
    for pid in served.pids:
        assert not Path(f"/proc/{pid}").exists(), f"worker {pid} still running"
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", served.port), 1):
        pass
    assert not (served.state_dir / "run" / "server.pid").exists()
    assert not (served.state_dir / "run" / "workers").exists()
