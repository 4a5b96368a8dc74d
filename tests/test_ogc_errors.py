"""Bad requests: always a 4xx in the OGC exception format with a useful message, never a 500."""

import pytest

BAD = [
    ("/ogc/collections/nope", {}, 404),
    ("/ogc/collections/nope/items", {}, 404),
    ("/ogc/collections/sites/items/999999999", {}, 404),
    ("/ogc/collections/comuni/items/000000", {}, 404),
    ("/ogc/collections/sites/items", {"bbox": "1,2,3"}, 400),
    ("/ogc/collections/sites/items", {"bbox": "a,b,c,d"}, 400),
    ("/ogc/collections/sites/items", {"bbox": "9.3,45.5,9.1"}, 400),
    ("/ogc/collections/sites/items", {"bbox-crs": "EPSG:32632"}, 400),
    ("/ogc/collections/sites/items", {"crs": "EPSG:9999"}, 400),
    ("/ogc/collections/sites/items", {"crs": "not-a-crs"}, 400),
    ("/ogc/collections/sites/items", {"bbox": "1,2,3,4", "bbox-crs": "EPSG:12345"}, 400),
    ("/ogc/collections/sites/items", {"filter": "state=="}, 400),
    ("/ogc/collections/sites/items", {"filter": "S_INTERSECTS(geom, POLYGON((1 2, 3)))"}, 400),
    ("/ogc/collections/sites/items", {"filter": "nope='x'"}, 400),
    ("/ogc/collections/comuni/items", {"filter": "population > 'many'"}, 400),
    ("/ogc/collections/sites/items", {"filter": "FOO(name) = 'x'"}, 400),
    ("/ogc/collections/sites/items", {"filter": "state='x'", "filter-lang": "sql"}, 400),
    ("/ogc/collections/sites/items", {"limit": "100000"}, 400),
    ("/ogc/collections/sites/items", {"limit": "0"}, 400),
    ("/ogc/collections/sites/items", {"limit": "ten"}, 400),
    ("/ogc/collections/sites/items", {"offset": "-1"}, 400),
    ("/ogc/collections/sites/items", {"sortby": "nope"}, 400),
    ("/ogc/collections/sites/items", {"properties": "nope"}, 400),
    ("/ogc/collections/sites/items", {"resulttype": "everything"}, 400),
    ("/ogc/collections/sites/items", {"datetime": "2020-01-01"}, 400),
    ("/ogc/collections/sites/items", {"f": "xml"}, 400),
    ("/ogc/collections/sites/items", {"skipGeometry": "maybe"}, 400),
    ("/ogc/collections/sites/items", {"filter": "S_INTERSECTS(geometry, BUFFER_M(POINT(9 45)))"}, 400),
]


@pytest.mark.parametrize(("path", "params", "status"), BAD)
def test_bad_parameters_are_4xx_with_a_message(http, path, params, status):
    r = http.get(path, params=params)
    assert r.status_code == status, (params, r.status_code, r.text[:300])
    body = r.json()
    assert body["code"] and body["type"]
    assert len(body["description"]) > 5


def test_bad_cql2_json_body_is_400(http):
    r = http.post("/ogc/collections/sites/items", content=b"{not json",
                  headers={"Content-Type": "application/query-cql-json"})
    assert r.status_code == 400
    assert r.json()["description"]


def test_method_not_allowed_is_ogc_exception(http):
    r = http.post("/ogc/collections/sites/items/1")
    assert r.status_code == 405
    assert r.json()["code"] == "OperationNotSupported"


def test_anonymous_delete_is_401(http):
    r = http.delete("/ogc/collections/sites/items/1")
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Basic")


def test_unknown_ogc_path_is_ogc_exception(http):
    r = http.get("/ogc/nope")
    assert r.status_code == 404
    assert r.json()["code"] == "NotFound"
