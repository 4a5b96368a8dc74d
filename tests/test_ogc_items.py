"""/ogc/collections/{id}/items and /items/{id}: paging, bbox, properties, sortby, hits."""

import pytest

from conftest import query


def test_items_geojson(http, dsn):
    r = http.get("/ogc/collections/sites/items")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json") or \
        r.headers["content-type"].startswith("application/json")
    body = r.json()
    (n,) = query(dsn, "SELECT count(*) FROM rigenera.sites")[0]
    assert body["numberMatched"] == n
    assert body["numberReturned"] == len(body["features"]) == n


def test_item_geojson_and_html(http, dsn):
    (sid, name) = query(dsn, "SELECT id, name FROM rigenera.sites ORDER BY id LIMIT 1")[0]
    r = http.get(f"/ogc/collections/sites/items/{sid}")
    assert r.status_code == 200
    assert r.json()["properties"]["name"] == name
    html = http.get(f"/ogc/collections/sites/items/{sid}", params={"f": "html"})
    assert html.status_code == 200 and name in html.text


def test_comune_item_by_istat_code(http):
    r = http.get("/ogc/collections/comuni/items/015146")
    assert r.status_code == 200
    p = r.json()["properties"]
    assert p["name"] == "Milano"
    assert p["cadastral_code"] == "F205"
    assert p["population"] > 1_300_000
    assert p["area_m2"] == pytest.approx(181.7e6, rel=0.02)


def test_walking_next_links_returns_every_feature_once(http, dsn):
    url = "/ogc/collections/comuni/items?limit=10&skipGeometry=true"
    seen: list[str] = []
    pages = 0
    while url:
        body = http.get(url).json()
        seen += [f["id"] for f in body["features"]]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url = nxt[0] if nxt else None
        pages += 1
        assert pages < 50
    expected = [r[0] for r in query(dsn, "SELECT istat_code FROM rigenera.comuni ORDER BY 1")]
    assert sorted(seen) == expected
    assert len(seen) == len(set(seen)) == 133


def test_prev_link_goes_back(http):
    body = http.get("/ogc/collections/comuni/items", params={"limit": 5, "offset": 10}).json()
    prev = next(link["href"] for link in body["links"] if link["rel"] == "prev")
    back = http.get(prev).json()
    assert [f["id"] for f in back["features"]] == [
        f["id"] for f in http.get("/ogc/collections/comuni/items",
                                  params={"limit": 5, "offset": 5}).json()["features"]]


def test_bbox_matches_postgis(http, dsn):
    bbox = (9.10, 45.40, 9.25, 45.50)
    body = http.get("/ogc/collections/comuni/items",
                    params={"bbox": ",".join(map(str, bbox)), "limit": 200,
                            "skipGeometry": "true"}).json()
    expected = {r[0] for r in query(
        dsn, "SELECT istat_code FROM rigenera.comuni"
             " WHERE ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))", bbox)}
    assert {f["id"] for f in body["features"]} == expected
    assert "015146" in expected


def test_properties_and_skip_geometry(http):
    body = http.get("/ogc/collections/sites/items",
                    params={"properties": "name,state", "skipGeometry": "true"}).json()
    for f in body["features"]:
        assert set(f["properties"]) == {"name", "state"}
        assert f["geometry"] is None


def test_sortby_descending(http, dsn):
    body = http.get("/ogc/collections/comuni/items",
                    params={"sortby": "-population", "limit": 3, "skipGeometry": "true"}).json()
    expected = [r[0] for r in query(
        dsn, "SELECT istat_code FROM rigenera.comuni ORDER BY population DESC LIMIT 3")]
    assert [f["id"] for f in body["features"]] == expected
    assert expected[0] == "015146"


def test_resulttype_hits(http, dsn):
    body = http.get("/ogc/collections/transit_stops/items",
                    params={"resulttype": "hits"}).json()
    (n,) = query(dsn, "SELECT count(*) FROM rigenera.transit_stops")[0]
    assert body["numberMatched"] == n
    assert body["features"] == []


def test_projects_carry_funding_and_comuni(http, dsn):
    body = http.get("/ogc/collections/projects/items", params={"filter": "cup='Z01Z26000000001'"}).json()
    (p,) = [f["properties"] for f in body["features"]]
    assert p["istat_codes"] == ["015146"]
    assert p["pnrr_granted_eur"] == pytest.approx(9_000_000)
    assert p["funding_granted_eur"] == pytest.approx(12_500_000)
    assert "M5C2I2.03.01" in p["programme_codes"]
    assert "inventati" in p["source"]


def test_items_html(http):
    r = http.get("/ogc/collections/transit_stops/items", params={"f": "html"})
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]


@pytest.mark.parametrize("params", [{"name": "nessun sito ha questo nome"}, {"limit": 2}])
def test_jsonld_pages_are_json(http, dsn, params):
    """pygeoapi's JSON-LD template wrote a dangling comma for a page without features
    (found by schemathesis): ours (rigenera/templates) is valid JSON for any page."""
    r = http.get("/ogc/collections/sites/items", params={"f": "jsonld", **params})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/ld+json")
    doc = r.json()
    assert doc["type"] == "FeatureCollection"
    expected = query(dsn, "SELECT count(*) FROM rigenera.sites WHERE name = %s",
                     (params["name"],))[0][0] if "name" in params else 2
    assert len(doc["features"]) == expected
    ids = {str(r[0]) for r in query(dsn, "SELECT id FROM rigenera.sites")}
    assert {f["@id"].rsplit("/", 1)[1] for f in doc["features"]} <= ids
