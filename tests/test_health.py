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
