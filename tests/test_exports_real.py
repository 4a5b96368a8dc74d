"""Exports and the queue on the real open data (../shared/data; skipped when absent): the
ReGiS projects land at their comuni's points and wait in "Da localizzare", their licences
travel with every export, and an export of the real collections imports back unchanged."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from conftest import LiveServer, basic, query, seed_accounts
from rigenera.imports import ImportOptions, run_import
from rigenera.imports.sources import load_open_data
from rigenera.imports.sources.regis import SOURCE as SRC_REGIS

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def real(make_database: Callable[[], str], shared_data: Path) -> str:
    dsn = make_database()
    load_open_data(dsn, shared_data)
    seed_accounts(dsn)
    return dsn


@pytest.fixture(scope="module")
def client(real: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    live = LiveServer(real, tmp_path_factory.mktemp("real-server")).start()
    try:
        with httpx.Client(base_url=live.url, timeout=300) as c:
            yield c
    finally:
        live.stop()


def test_the_regis_projects_wait_to_be_located(client, real):
    expected = [r[0] for r in query(real, "SELECT id FROM rigenera.projects WHERE geom_source ="
                                          " 'comune_point' OR (scope = 'metro_area' AND geom IS"
                                          " NULL) ORDER BY id")]
    page = client.get("/api/projects/to-locate", params={"limit": 1000},
                      headers=basic("coord")).json()
    assert page["numberMatched"] == len(expected) > 100
    assert [f["id"] for f in page["features"]] == expected[:1000]
    milano = client.get("/api/projects/to-locate", params={"limit": 1000},
                        headers=basic("tecnico")).json()
    expected_milano = [r[0] for r in query(
        real, "SELECT p.id FROM rigenera.projects p WHERE p.geom_source = 'comune_point' AND"
              " EXISTS (SELECT 1 FROM rigenera.project_comuni c WHERE c.project_id = p.id AND"
              " c.istat_code = '015146') ORDER BY p.id")]
    assert [f["id"] for f in milano["features"]] == expected_milano


def test_licences_travel_with_the_real_projects(client, real, tmp_path):
    r = client.get("/api/exports/projects", params={"format": "geojson"})
    assert r.status_code == 200
    attribution = json.loads(r.content)["attribution"]
    by_source = {s["source"]: s for s in attribution["sources"]}
    counts = dict(query(real, "SELECT source, count(*) FROM pub.projects GROUP BY source"))
    assert {s: v["features"] for s, v in by_source.items()} == counts
    assert by_source[SRC_REGIS]["licence"] == "CC BY 4.0"
    assert by_source[SRC_REGIS]["licence_url"] == "https://creativecommons.org/licenses/by/4.0/"
    if any("CC BY-SA" in s for s in counts):
        assert any("CC BY-SA" in n for n in attribution["notices"])


@pytest.mark.parametrize(("collection", "fmt"), [
    ("projects", "gpkg"), ("projects", "csv"), ("sites", "geojson"), ("mobility_links", "gpkg"),
    ("transit_stops", "csv")])
def test_real_collections_round_trip(client, real, tmp_path, collection, fmt):
    import zipfile

    r = client.get(f"/api/exports/{collection}", params={"format": fmt})
    assert r.status_code == 200
    path = tmp_path / f"export.{fmt if fmt != 'csv' else 'zip'}"
    path.write_bytes(r.content)
    if fmt == "csv":
        with zipfile.ZipFile(path) as archive:
            (name,) = [n for n in archive.namelist() if n.endswith(".csv")]
            archive.extract(name, tmp_path)
        path = tmp_path / name
    (n,) = query(real, f"SELECT count(*) FROM rigenera.{collection}")[0]
    (history,) = query(real, "SELECT count(*) FROM rigenera.history")[0]
    report = run_import(real, path, ImportOptions(collection, actor="tester",
                                                  external=collection == "transit_stops"),
                        crs="EPSG:4326" if fmt == "csv" else None).to_json()
    assert report["counts"]["read"] == n and report["counts"]["unchanged"] == n, report["counts"]
    assert query(real, "SELECT count(*) FROM rigenera.history")[0][0] == history
