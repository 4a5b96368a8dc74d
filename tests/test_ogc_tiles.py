"""OGC API Tiles: vector tiles (WebMercatorQuad) decoded and checked against PostGIS."""

import mapbox_vector_tile
import pytest

from conftest import query

MILANO_Z10 = (10, 366, 538)  # tileMatrix / tileRow (y) / tileCol (x): central Milan


def tile_url(cid, z, y, x):
    return f"/ogc/collections/{cid}/tiles/WebMercatorQuad/{z}/{y}/{x}"


def expected_in_tile(dsn, cid, id_col, z, y, x):
    return {r[0] for r in query(
        dsn, f"SELECT {id_col} FROM pub.{cid} WHERE ST_Intersects(ST_Transform(geom, 3857),"
             f" ST_TileEnvelope(%s, %s, %s))", (z, x, y))}


@pytest.mark.parametrize(("cid", "id_col"), [("comuni", "istat_code"), ("sites", "id"),
                                              ("transit_stops", "id"), ("mobility_links", "id"),
                                              ("projects", "id")])
def test_tile_decodes_and_holds_the_features_of_its_area(http, dsn, cid, id_col):
    z, y, x = MILANO_Z10
    r = http.get(tile_url(cid, z, y, x))
    expected = expected_in_tile(dsn, cid, id_col, z, y, x)
    if not expected:
        assert r.status_code == 204
        return
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    layer = mapbox_vector_tile.decode(r.content)[cid]
    got = {f["properties"][id_col] if id_col in f["properties"] else f["id"]
           for f in layer["features"]}
    assert got == expected
    assert layer["extent"] == 4096


def test_low_zoom_tiles_are_generalised(http, dsn):
    """Below the detail zoom a site smaller than two pixels is a dot and carries no name;
    at the detail zoom the same site is its polygon with its name."""
    (sid, lon, lat) = query(dsn, """SELECT id, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom))
                                      FROM rigenera.sites WHERE GeometryType(geom) LIKE '%%POLYGON'
                                     ORDER BY ST_Area(geom) LIMIT 1""")[0]

    def feature(z):
        import math
        n = 2 ** z
        x = int((lon + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        layer = mapbox_vector_tile.decode(http.get(tile_url("sites", z, y, x)).content)["sites"]
        return next(f for f in layer["features"] if f["id"] == sid)

    low, detail = feature(10), feature(16)
    assert low["geometry"]["type"] == "Point" and "name" not in low["properties"]
    assert "state" in low["properties"]
    assert detail["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert detail["properties"]["name"]


def test_comuni_tile_has_milano_with_attributes(http):
    z, y, x = MILANO_Z10
    layer = mapbox_vector_tile.decode(http.get(tile_url("comuni", z, y, x)).content)["comuni"]
    milano = next(f for f in layer["features"] if f["properties"]["istat_code"] == "015146")
    assert milano["properties"]["name"] == "Milano"
    assert milano["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_etag_and_cache_control(http):
    url = tile_url("comuni", *MILANO_Z10)
    first = http.get(url)
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert "max-age" in first.headers["cache-control"]
    again = http.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert http.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_empty_tile_is_204(http):
    assert http.get(tile_url("comuni", 10, 0, 0)).status_code == 204


@pytest.mark.parametrize(("path", "status"), [
    (tile_url("comuni", 30, 1, 1), 404),
    (tile_url("comuni", 3, 9, 1), 404),
    (tile_url("comuni", "a", 1, 1), 400),
    (tile_url("nope", 3, 1, 1), 404),
    ("/ogc/collections/comuni/tiles/WorldCRS84Quad/3/1/1", 404),
])
def test_bad_tile_requests(http, path, status):
    r = http.get(path)
    assert r.status_code == status
    assert r.json()["description"]


def test_tileset_metadata(http):
    listing = http.get("/ogc/collections/sites/tiles").json()
    assert any("WebMercatorQuad" in (link.get("href") or "") or link.get("rel") == "item"
               for link in listing["links"])
    for suffix in ("", "/metadata"):
        meta = http.get(f"/ogc/collections/sites/tiles/WebMercatorQuad{suffix}")
        assert meta.status_code == 200, meta.text[:200]
        assert meta.json()["title"] == "Aree dismesse e sottoutilizzate"


def test_tilejson_for_maplibre(http, server):
    doc = http.get("/ogc/collections/transit_stops/tiles/WebMercatorQuad/metadata",
                   params={"f": "tilejson"}).json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"] == [f"{server.url}/ogc/collections/transit_stops/tiles/WebMercatorQuad"
                            "/{z}/{y}/{x}?f=mvt"]
    assert doc["vector_layers"][0]["id"] == "transit_stops"
    assert "mode" in doc["vector_layers"][0]["fields"]


TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"


@pytest.fixture(scope="module")
def components(http):
    """The schemas of our OpenAPI document (written after OGC API - Tiles 1.0 and the 2D
    Tile Matrix Set and Tile Set Metadata standard 2.0)."""
    return http.get("/ogc/openapi", params={"f": "json"}).json()["components"]


def conforms(components, name, instance):
    from openapi_schema_validator import OAS30Validator, validate

    validate(instance, {"$ref": f"#/components/schemas/{name}", "components": components},
             cls=OAS30Validator)


def plain_links_resolve(http, links):
    """URL templates are marked `templated`; every other link answers."""
    for link in links:
        assert ("{" in link["href"]) == bool(link.get("templated")), link
        if not link.get("templated") and link["href"].startswith(str(http.base_url)):
            assert http.get(link["href"]).status_code == 200, link


@pytest.mark.parametrize("cid", ["sites", "comuni"])
def test_tileset_list_is_valid_ogc_api_tiles(http, components, cid):
    """/tiles: a valid tileset list (tileSet-item: dataType, crs, a `self` link to the tileset
    and a `tiling-scheme` link), plus the drafts' tileMatrixSetLinks for older clients."""
    body = http.get(f"/ogc/collections/{cid}/tiles", params={"f": "json"}).json()
    conforms(components, "tileSetsList", body)
    assert [link["rel"] for link in body["links"]].count("self") == 1
    plain_links_resolve(http, body["links"])
    (tileset,) = body["tilesets"]
    assert tileset["title"] == http.get(f"/ogc/collections/{cid}").json()["title"]
    rels = {link["rel"]: link["href"] for link in tileset["links"]}
    described = http.get(rels["self"]).json()
    conforms(components, "tileSet", described)
    assert described["tileMatrixSetURI"] == tileset["tileMatrixSetURI"]
    definition = http.get(rels[TILING_SCHEME]).json()
    conforms(components, "tileMatrixSet", definition)
    assert definition["uri"] == tileset["tileMatrixSetURI"]
    assert body["tileMatrixSetLinks"] == [{"tileMatrixSet": "WebMercatorQuad",
                                           "tileMatrixSetURI": tileset["tileMatrixSetURI"]}]


@pytest.mark.parametrize("suffix", ["", "/metadata"])
def test_tileset_metadata_is_valid_and_leads_to_the_tiles(http, components, suffix):
    meta = http.get(f"/ogc/collections/comuni/tiles/WebMercatorQuad{suffix}",
                    params={"f": "json"}).json()
    conforms(components, "tileSet", meta)
    plain_links_resolve(http, meta["links"])
    rels = {link["rel"]: link for link in meta["links"]}
    assert {"self", TILING_SCHEME, "item"} <= set(rels)
    z, y, x = MILANO_Z10
    url = rels["item"]["href"].format(tileMatrix=z, tileRow=y, tileCol=x)
    tile = http.get(url)
    assert tile.status_code == 200 and tile.headers["content-type"] == rels["item"]["type"]
    assert mapbox_vector_tile.decode(tile.content)["comuni"]["features"]
    # the tile matrices served: 0..22 (WebMercatorQuad defines 24), each whole
    limits = {m["tileMatrix"]: m for m in meta["tileMatrixSetLimits"]}
    assert set(limits) == {str(z) for z in range(23)}
    assert limits["10"]["maxTileRow"] == limits["10"]["maxTileCol"] == 2**10 - 1
    assert http.get(tile_url("comuni", 23, 0, 0)).status_code == 404
    assert http.get(tile_url("comuni", 22, 0, 0)).status_code in (200, 204)
