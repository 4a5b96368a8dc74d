"""Test session: a real PostGIS cluster, the real app over real HTTP.

* ``cluster``: a throwaway PostgreSQL+PostGIS cluster started for the session
  (fsync off), or, when DATABASE_URL is set, that server (each test database
  is created and dropped there).
* ``make_database()``: a fresh migrated database, for tests that need
  isolation (imports, counts).
* ``dsn``: the shared session database with the demo data loaded.
* ``server``: the app from our factory, served by uvicorn on a free port of
  127.0.0.1 in a background thread, so GDAL, OWSLib and httpx all talk real HTTP.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx
import psycopg2
import pytest
import uvicorn

from rigenera.cluster import LocalCluster, free_port
from rigenera.factory import create_app
from rigenera.loaders.demo import load_demo
from rigenera.migrate import migrate
from rigenera.settings import PROJECT_ROOT, Settings

SHARED_DATA = Path(os.environ.get("RIGENERA_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data"))


def _with_database(dsn: str, name: str) -> str:
    u = urlparse(dsn)
    return urlunparse(u._replace(path=f"/{name}"))


class TestCluster:
    """Where test databases are created: our own cluster or DATABASE_URL's server."""

    def __init__(self) -> None:
        self.external = os.environ.get("DATABASE_URL")
        self.tmp: Path | None = None
        self.cluster: LocalCluster | None = None
        self.created: list[str] = []
        if self.external:
            self.admin_dsn = self.external
        else:
            self.tmp = Path(tempfile.mkdtemp(prefix="rigenera-test-"))
            self.tmp.chmod(0o755)  # the unprivileged server user must reach its data dir
            self.cluster = LocalCluster(self.tmp / "state", free_port(), "postgres", fsync=False)
            self.cluster.ensure()
            self.admin_dsn = self.cluster.dsn

    def create_database(self) -> str:
        name = f"rigenera_test_{uuid.uuid4().hex[:10]}"
        conn = psycopg2.connect(self.admin_dsn)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        self.created.append(name)
        return _with_database(self.admin_dsn, name)

    def close(self) -> None:
        if self.cluster is not None:
            self.cluster.destroy()
        elif self.created:
            conn = psycopg2.connect(self.admin_dsn)
            conn.autocommit = True
            with conn.cursor() as cur:
                for name in self.created:
                    cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.close()
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def cluster() -> Iterator[TestCluster]:
    c = TestCluster()
    try:
        yield c
    finally:
        c.close()


@pytest.fixture(scope="session")
def make_database(cluster: TestCluster) -> Callable[[], str]:
    """Factory: a new, migrated, empty database; returns its DSN."""

    def make() -> str:
        dsn = cluster.create_database()
        migrate(dsn)
        return dsn

    return make


@pytest.fixture(scope="session")
def dsn(make_database: Callable[[], str]) -> str:
    """The session database: migrated, with the demo data."""
    d = make_database()
    load_demo(d)
    return d


class LiveServer:
    def __init__(self, dsn: str, state_dir: Path, **overrides: object) -> None:
        self.port = free_port()
        # No background prewarming of the tile cache (675 tiles per start-up, on a shared
        # 2-core machine): tests/test_tile_cache.py turns it on where it is the subject.
        overrides.setdefault("tile_cache_prewarm_zoom", -1)
        self.settings = Settings(
            host="127.0.0.1", port=self.port, state_dir=state_dir, database_url=dsn,
            log_level="warning", **overrides,
        )
        self.app = create_app(self.settings, dsn=dsn)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                loop="asyncio", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def server(dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(dsn, tmp_path_factory.mktemp("state")).start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="session")
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real open data folder; tests that need it skip cleanly when it is absent."""
    if not (SHARED_DATA / "SOURCES.md").exists():
        pytest.skip(f"real open data not found at {SHARED_DATA}")
    return SHARED_DATA


def query(dsn: str, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Run one query on a test database (for assertions against the source of truth)."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    conn.close()
    return rows


# ----------------------------------------------------------------- editing support
# Accounts every editing test module works with: one per role, technicians with a comune.
MILANO, SESTO = "015146", "015209"
PASSWORD = "una-password-lunga"
ROLES = {"admin": ("admin", []), "coord": ("coordinator", []), "tecnico": ("technician", [MILANO]),
         "tecnico.sesto": ("technician", [SESTO]), "volontario": ("volunteer", [])}
# Fingerprints: a refused write must leave both unchanged.
CHECKSUM_SQL = """SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
    SELECT 's' || s.id || s.version || md5(s::text) x FROM rigenera.sites s
    UNION ALL SELECT 'p' || p.id || p.version || md5(p::text) FROM rigenera.projects p
    UNION ALL SELECT 'l' || l.id || l.version FROM rigenera.mobility_links l
    UNION ALL SELECT 't' || t.id || t.version FROM rigenera.transit_stops t
    UNION ALL SELECT 'h' || h.id FROM rigenera.history h) q"""
RELATIONS_SQL = """SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
    SELECT 'c' || project_id || istat_code x FROM rigenera.project_comuni
    UNION ALL SELECT 's' || project_id || '-' || site_id FROM rigenera.project_sites) q"""


def basic(user: str, password: str = PASSWORD) -> dict[str, str]:
    import base64

    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def checksum(dsn: str) -> object:
    """A fingerprint of every editable table and the history."""
    return query(dsn, CHECKSUM_SQL)[0][0]


def seed_accounts(dsn: str) -> None:
    """One account per role of ROLES, all with PASSWORD, technicians with their comuni."""
    from rigenera.auth import hash_password

    hashed = hash_password(PASSWORD)
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        for user, (role, comuni) in ROLES.items():
            cur.execute("INSERT INTO rigenera.accounts (username, role, password_hash)"
                        " VALUES (%s, %s, %s)", (user, role, hashed))
            for code in comuni:
                cur.execute("INSERT INTO rigenera.account_comuni VALUES (%s, %s)", (user, code))
    conn.close()


@pytest.fixture(scope="module")
def db(make_database: Callable[[], str]) -> str:
    """A database of the test module's own: demo data and one account per role (ROLES)."""
    dsn = make_database()
    load_demo(dsn)
    seed_accounts(dsn)
    return dsn


@pytest.fixture(scope="module")
def live(db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app served on `db`, for the test module."""
    server = LiveServer(db, tmp_path_factory.mktemp("live")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def fingerprint(db: str) -> Iterator[Callable[[], tuple[object, object]]]:
    """CHECKSUM_SQL and RELATIONS_SQL on one kept connection (one per call doubles a run)."""
    conn = psycopg2.connect(db)
    conn.autocommit = True

    def take() -> tuple[object, object]:
        with conn.cursor() as cur:
            cur.execute(CHECKSUM_SQL)
            (main,) = cur.fetchone()
            cur.execute(RELATIONS_SQL)
            (relations,) = cur.fetchone()
        return main, relations

    yield take
    conn.close()


# ----------------------------------------------------------------- the website in a browser
@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Debian's chromium under Playwright, one per test session (tests/webtools.py)."""
    from webtools import CHROMIUM, launch

    if not CHROMIUM.exists():
        if os.environ.get("RIGENERA_SKIP_APT") == "1":
            pytest.skip(f"{CHROMIUM} not installed (RIGENERA_SKIP_APT=1)")
        pytest.fail(f"{CHROMIUM} missing: scripts/bootstrap-browser.sh installs it (make test)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium: object) -> Iterator[object]:
    """A fresh browser context (no cookies) and page; console errors on page.errors."""
    from webtools import watch

    context = chromium.new_context(locale="it-IT", viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page = watch(context.new_page())
    try:
        yield page
    finally:
        context.close()
