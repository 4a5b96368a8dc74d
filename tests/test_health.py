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
