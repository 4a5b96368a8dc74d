"""Real OGC clients against the live server: GDAL (ogrinfo, ogr2ogr) and OWSLib."""

import json
import re
import shutil
import subprocess

import pytest
from owslib.ogcapi.features import Features

from conftest import query

pytestmark = pytest.mark.skipif(shutil.which("ogrinfo") is None,
                                reason="GDAL not installed (make test installs gdal-bin)")


def test_ogrinfo_reports_133_comuni(server):
    out = subprocess.run(["ogrinfo", "-so", f"OAPIF:{server.url}/ogc", "comuni"],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert re.search(r"Feature Count: 133\b", out), out
    assert "istat_code" in out or "name" in out


def test_ogrinfo_lists_the_five_layers(server):
    out = subprocess.run(["ogrinfo", "-ro", "-q", f"OAPIF:{server.url}/ogc"],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    for layer in ("comuni", "sites", "projects", "mobility_links", "transit_stops"):
        assert layer in out


def test_ogr2ogr_transit_stops_returns_the_whole_table(server, dsn, tmp_path):
    dst = tmp_path / "stops.geojson"
    subprocess.run(["ogr2ogr", "-f", "GeoJSON", str(dst), f"OAPIF:{server.url}/ogc",
                    "transit_stops", "-oo", "PAGE_SIZE=3"],
                   capture_output=True, text=True, timeout=300, check=True)
    features = json.loads(dst.read_text())["features"]
    (n,) = query(dsn, "SELECT count(*) FROM rigenera.transit_stops")[0]
    assert len(features) == n
    assert len({f["properties"]["id"] for f in features}) == n


def test_ogr2ogr_with_spatial_filter_and_utm(server, dsn, tmp_path):
    dst = tmp_path / "comuni.gpkg"
    subprocess.run(["ogr2ogr", "-f", "GPKG", str(dst), f"OAPIF:{server.url}/ogc", "comuni",
                    "-spat", "9.15", "45.45", "9.20", "45.50", "-t_srs", "EPSG:32632"],
                   capture_output=True, text=True, timeout=300, check=True)
    out = subprocess.run(["ogrinfo", "-so", str(dst), "comuni"], capture_output=True, text=True,
                         check=True).stdout
    assert "Feature Count: 1" in out
    assert "32632" in out


def test_owslib_features_client(server, dsn):
    api = Features(f"{server.url}/ogc")
    ids = {c["id"] for c in api.collections()["collections"]}
    assert {"comuni", "sites", "projects", "mobility_links", "transit_stops"} <= ids
    items = api.collection_items("sites", limit=5)
    assert items["type"] == "FeatureCollection"
    assert len(items["features"]) == 5
    (n,) = query(dsn, "SELECT count(*) FROM rigenera.sites")[0]
    assert items["numberMatched"] == n
    milano = api.collection_item("comuni", "015146")
    assert milano["properties"]["name"] == "Milano"
    queryables = api.collection_queryables("sites")
    assert "state" in queryables["properties"]
