"""/ogc landing page, conformance, collections, OpenAPI, queryables."""

import pytest

from conftest import query

COLLECTION_IDS = {"comuni", "sites", "projects", "mobility_links", "transit_stops"}


def test_landing_page_json_and_html(http):
    r = http.get("/ogc/", params={"f": "json"})
    assert r.status_code == 200
    rels = {link["rel"] for link in r.json()["links"]}
    assert {"self", "conformance", "data", "service-desc"} <= rels
    html = http.get("/ogc/", params={"f": "html"})
    assert html.status_code == 200 and "text/html" in html.headers["content-type"]
    assert "Rigenera" in html.text


def test_landing_without_slash_redirects(http):
    r = http.get("/ogc", follow_redirects=False)
    assert r.status_code in (301, 307, 308)
    assert r.headers["location"].endswith("/ogc/")


def test_conformance_declares_filtering_and_safe_writes(http):
    classes = set(http.get("/ogc/conformance").json()["conformsTo"])
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter" in classes
    assert "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions" in classes
    # Part 4 is served by our editing service (auth, If-Match), not by pygeoapi's handlers
    assert "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking-etags" \
        in classes
    assert http.get("/ogc/conformance", params={"f": "html"}).status_code == 200


def test_exactly_the_five_collections_in_italian_then_english(http):
    body = http.get("/ogc/collections").json()
    # Issue 11 adds the funding calls and the comuni's needs (empty in the demo data).
    assert {c["id"] for c in body["collections"]} == COLLECTION_IDS | {"calls", "needs"}
    sites = next(c for c in body["collections"] if c["id"] == "sites")
    assert sites["title"] == "Aree dismesse e sottoutilizzate"
    assert sites["keywords"] and "aree dismesse" in sites["keywords"]
    en = http.get("/ogc/collections/sites", params={"lang": "en"}).json()
    assert en["title"] == "Abandoned and underused sites"
    assert "brownfields" in en["keywords"]


@pytest.mark.parametrize("cid", sorted(COLLECTION_IDS))
def test_extent_is_measured_from_the_data(http, dsn, cid):
    bbox = http.get(f"/ogc/collections/{cid}").json()["extent"]["spatial"]["bbox"][0]
    (row,) = query(dsn, f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
                        f" FROM (SELECT ST_Extent(geom) e FROM pub.{cid}) s")
    assert bbox == pytest.approx([float(v) for v in row], abs=1e-5)


def test_collection_html(http):
    r = http.get("/ogc/collections/projects", params={"f": "html"})
    assert r.status_code == 200
    assert "Interventi di rigenerazione urbana" in r.text


def test_openapi_document(http):
    r = http.get("/ogc/openapi", params={"f": "json"})
    assert r.status_code == 200
    paths = r.json()["paths"]
    for cid in COLLECTION_IDS:
        assert f"/collections/{cid}/items" in paths
    assert r.json()["servers"][0]["url"].endswith("/ogc")


def test_queryables_list_the_columns(http):
    props = http.get("/ogc/collections/sites/queryables").json()["properties"]
    assert {"name", "state", "former_use", "istat_code", "validation_status"} <= set(props)


def test_private_bookkeeping_is_not_published(http):
    feature = http.get("/ogc/collections/sites/items", params={"limit": 1}).json()["features"][0]
    assert "created_by" not in feature["properties"]
    assert "updated_by" not in feature["properties"]


def test_array_properties_are_typed_as_arrays(http):
    props = http.get("/ogc/collections/projects/queryables").json()["properties"]
    assert props["istat_codes"]["type"] == "array"
    stops = http.get("/ogc/collections/transit_stops/items",
                     params={"properties": "lines", "limit": 1}).json()["features"][0]
    assert isinstance(stops["properties"]["lines"], list)
