"""/healthz on the root app."""


def test_healthz_reports_database_and_schema(http):
    r = http.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["postgis"].startswith("3.")
    assert body["schema_version"] >= 2


def test_unknown_route_is_ogc_exception(http):
    r = http.get("/nope")
    assert r.status_code == 404
    body = r.json()
    assert body["code"] == "NotFound"
    assert body["description"]


def test_401_challenge_basic_for_browsers_not_for_programs(http):
    """Browsers and GDAL get a Basic challenge; a program that says X-Requested-With (our
    QGIS plugin) gets none it could answer itself, so Qt opens no login prompt of its own."""
    bad = ("nessuno", "sbagliata")
    plain = http.get("/api/me", auth=bad)
    assert plain.status_code == 401
    assert plain.headers["www-authenticate"].startswith("Basic ")
    program = http.get("/api/me", auth=bad, headers={"X-Requested-With": "rigenera-qgis"})
    assert program.status_code == 401
    assert "basic" not in program.headers["www-authenticate"].lower()
    assert program.json()["code"] == "Unauthorized"


def test_pool_session_settings_survive_connection_reuse(http, dsn):
    """asyncpg's pool runs RESET ALL when a connection is released: settings made with SET
    were lost after a connection's first use (JIT and parallel plans back on, no name in
    pg_stat_activity). Start-up parameters survive it."""
    from concurrent.futures import ThreadPoolExecutor

    from conftest import query

    with ThreadPoolExecutor(8) as pool:  # reuse: more requests than pooled connections
        assert all(r.status_code == 200 for r in pool.map(
            lambda _: http.get("/ogc/collections/sites/items", params={"limit": 1}), range(40)))
    names = [r[0] for r in query(
        dsn, "SELECT application_name FROM pg_stat_activity WHERE datname = current_database()"
             " AND backend_type = 'client backend' AND pid <> pg_backend_pid()")]
    assert "rigenera" in names
    assert set(names) <= {"rigenera", "pygeoapi", "rigenera-process"}, names
