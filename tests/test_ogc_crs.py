"""crs / bbox-crs (OGC API Features Part 2): URI and EPSG:NNNN spellings, reprojection right."""

import pytest

from conftest import query
from rigenera.ogc.crs import normalise_crs, normalise_query_string

URI = "http://www.opengis.net/def/crs/EPSG/0/{}"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("EPSG:32632", URI.format(32632)),
        ("epsg:3003", URI.format(3003)),
        ("urn:ogc:def:crs:EPSG::6707", URI.format(6707)),
        ("CRS84", CRS84),
        ("OGC:CRS84", CRS84),
        ("urn:ogc:def:crs:OGC:1.3:CRS84", CRS84),
        (URI.format(3857), URI.format(3857)),
        ("https://www.opengis.net/def/crs/EPSG/0/4326", URI.format(4326)),
        ("nonsense", "nonsense"),
    ],
)
def test_normalise_crs(given, expected):
    assert normalise_crs(given) == expected


def test_query_string_rewrite_only_touches_crs_params():
    raw = b"crs=EPSG%3A32632&filter=name%3D%27EPSG%3A1%27&limit=5"
    out = normalise_query_string(raw).decode()
    assert "crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F32632" in out
    assert "filter=name%3D%27EPSG%3A1%27" in out
    assert normalise_query_string(b"limit=5") == b"limit=5"


@pytest.mark.parametrize("epsg", [4326, 32632, 3003, 6707, 3857])
@pytest.mark.parametrize("form", ["uri", "short"])
def test_output_crs_reprojects_like_postgis(http, dsn, epsg, form):
    crs = URI.format(epsg) if form == "uri" else f"EPSG:{epsg}"
    (sid, x, y) = query(
        dsn, "SELECT id, ST_X(p), ST_Y(p) FROM (SELECT id, ST_Transform(geom, %s) p"
             " FROM rigenera.transit_stops ORDER BY id LIMIT 1) s", (epsg,))[0]
    r = http.get(f"/ogc/collections/transit_stops/items/{sid}", params={"crs": crs})
    assert r.status_code == 200, r.text
    assert r.headers["content-crs"] == f"<{URI.format(epsg)}>"
    cx, cy = r.json()["geometry"]["coordinates"]
    if epsg in (4326, 6707):  # authority axis order: EPSG:4326 lat/lon, EPSG:6707 N/E
        cx, cy = cy, cx
    tol = 1e-7 if epsg == 4326 else 0.01
    assert (cx, cy) == (pytest.approx(x, abs=tol), pytest.approx(y, abs=tol))


def test_default_output_is_crs84(http):
    r = http.get("/ogc/collections/transit_stops/items", params={"limit": 1})
    assert r.headers["content-crs"] == f"<{CRS84}>"


def test_bbox_crs_utm_selects_the_same_features(http):
    # The same area in CRS84 and in UTM 32N (EPSG:32632).
    ll = http.get("/ogc/collections/comuni/items", params={
        "bbox": "9.15,45.45,9.20,45.50", "skipGeometry": "true", "limit": 200}).json()
    utm_bbox = "511700,5033000,515600,5038600"
    utm = http.get("/ogc/collections/comuni/items", params={
        "bbox": utm_bbox, "bbox-crs": "EPSG:32632", "skipGeometry": "true", "limit": 200}).json()
    assert {f["id"] for f in utm["features"]} == {"015146"} == {f["id"] for f in ll["features"]}


@pytest.mark.parametrize("bad", ["EPSG:9999", "EPSG:4258", "foo", "EPSG:"])
def test_unsupported_crs_is_400(http, bad):
    r = http.get("/ogc/collections/sites/items", params={"crs": bad})
    assert r.status_code == 400
    assert r.json()["description"]
