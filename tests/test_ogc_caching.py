"""/ogc JSON answers carry validators and Cache-Control; 304 on If-None-Match; an edit
changes the validators of items and item, on the fast path and on pygeoapi's."""

import httpx
import pytest

from conftest import LiveServer, basic, query

METADATA = [
    "/ogc/", "/ogc/conformance", "/ogc/collections", "/ogc/collections/sites",
    "/ogc/collections/sites/queryables", "/ogc/collections/sites/schema",
    "/ogc/collections/sites/tiles", "/ogc/collections/sites/tiles/WebMercatorQuad",
    "/ogc/collections/sites/tiles/WebMercatorQuad/metadata?f=tilejson",
    "/ogc/TileMatrixSets", "/ogc/TileMatrixSets/WebMercatorQuad", "/ogc/processes",
    "/ogc/processes/sites-near-transit", "/ogc/openapi?f=json",
]


@pytest.fixture(scope="module")
def stock(db, tmp_path_factory):
    """The same database served without the fast path: pygeoapi answers every read."""
    live = LiveServer(db, tmp_path_factory.mktemp("stock"), fast_reads=False).start()
    yield live
    live.stop()


@pytest.fixture(scope="module", params=["fast", "pygeoapi"])
def reader(request, api, stock):
    if request.param == "fast":
        yield api
    else:
        with httpx.Client(base_url=stock.url, timeout=60) as client:
            yield client


def revalidates(client, url, **kwargs):
    """The answer's ETag; asking again with it gives 304 without a body, the same ETag."""
    first = client.get(url, **kwargs)
    assert first.status_code == 200, first.text[:300]
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    again = client.get(url, headers={"If-None-Match": etag}, **kwargs)
    assert again.status_code == 304, again.text[:300]
    assert again.content == b"" and again.headers["etag"] == etag
    assert again.headers["cache-control"] == "no-cache"
    # a list with another tag, and W/ on ours, still matches (weak comparison)
    weak = etag if etag.startswith("W/") else f"W/{etag}"
    assert client.get(url, headers={"If-None-Match": f'"x", {weak}'}, **kwargs).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}, **kwargs).status_code == 200
    return etag


@pytest.mark.parametrize("url", METADATA)
def test_metadata_has_a_strong_etag_and_no_cache(api, url):
    etag = revalidates(api, url)
    assert not etag.startswith("W/")  # deterministic bytes: strong
    assert api.get(url).headers["etag"] == etag


def test_items_and_item_etags_change_after_an_edit(reader, api, db):
    fid = query(db, "SELECT min(id) FROM rigenera.sites")[0][0]
    page, one = "/ogc/collections/sites/items?limit=50", f"/ogc/collections/sites/items/{fid}"
    page_etag = revalidates(reader, page)
    assert page_etag.startswith("W/")  # the page's timeStamp differs on every answer
    item_etag = revalidates(reader, one)
    version = query(db, "SELECT version FROM rigenera.sites WHERE id = %s", (fid,))[0][0]
    assert item_etag == f'"{version}"'  # what If-Match takes

    r = api.patch(one, json={"properties": {"owner": f"Proprietario {page_etag[-8:]}"}},
                  headers={**basic("admin"), "If-Match": item_etag,
                           "Content-Type": "application/merge-patch+json"})
    assert r.status_code == 204, r.text

    assert reader.get(page, headers={"If-None-Match": page_etag}).status_code == 200
    assert reader.get(one, headers={"If-None-Match": item_etag}).status_code == 200
    assert revalidates(reader, page) != page_etag
    assert revalidates(reader, one) == r.headers["etag"] != item_etag


def test_pygeoapi_paths_of_the_fast_server(api):
    """Representations pygeoapi renders next to the fast path (JSON-LD) are validated too."""
    revalidates(api, "/ogc/collections/sites/items", params={"f": "jsonld", "limit": 3})
    revalidates(api, "/ogc/collections/comuni/items/015146", params={"f": "jsonld"})


def test_tiles_keep_their_own_policy(api):
    r = api.get("/ogc/collections/comuni/tiles/WebMercatorQuad/10/366/538")
    assert r.status_code == 200
    assert r.headers["cache-control"] == "public, max-age=60, must-revalidate"
    assert api.get("/ogc/collections/comuni/tiles/WebMercatorQuad/10/366/538",
                   headers={"If-None-Match": r.headers["etag"]}).status_code == 304


def test_errors_and_html_are_not_marked_cacheable(api):
    r = api.get("/ogc/collections/nope")
    assert r.status_code == 404 and "etag" not in r.headers
    html = api.get("/ogc/collections", params={"f": "html"})
    assert html.status_code == 200 and "etag" not in html.headers
