"""read_file on each format, generated here, imported into a real PostGIS.

Expected locations come from PostGIS (ST_Transform of the source coordinates,
rigenera.comune_point), never from the reader itself.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from conftest import MILANO, SESTO, query
from rigenera.errors import ImportDataError, ImportRefused
from rigenera.imports import ImportOptions, run_import
from rigenera.imports.reader import read_file

Fingerprint = Callable[[], tuple[object, object]]


def _inside(db: str, code: str, n: int, seed: int) -> list[shapely.Point]:
    rows = query(db, "SELECT ST_AsBinary(g) FROM (SELECT (ST_Dump(ST_GeneratePoints("
                     " ST_Buffer(geom::geography, -300)::geometry, %s, %s))).geom g"
                     " FROM rigenera.comuni WHERE istat_code = %s) q", (n, seed, code))
    return [shapely.from_wkb(bytes(r[0])) for r in rows]


def _sites(points: list[shapely.Point], source: str, crs: int = 4326) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(
        {"name": [f"Area {i}" for i in range(len(points))], "state": ["abandoned"] * len(points),
         "source": [source] * len(points), "source_id": [f"{source}-{i}" for i in range(len(points))]},
        geometry=[p.buffer(0.0002, quad_segs=2) for p in points], crs=4326)
    return gdf.to_crs(crs) if crs != 4326 else gdf


def _same_as_postgis(db: str, source: str, gdf: gpd.GeoDataFrame, crs: int) -> None:
    """Every stored geometry equals PostGIS's own transform of the file's coordinates."""
    for sid, geom in zip(gdf["source_id"], gdf.geometry, strict=True):
        d = query(db, "SELECT ST_HausdorffDistance(geom, ST_Transform(ST_GeomFromWKB(%s, %s),"
                      " 4326)) FROM rigenera.sites WHERE source = %s AND source_id = %s",
                  (shapely.to_wkb(geom), crs, source, sid))
        assert d and d[0][0] < 1e-7, (sid, d)


def test_geopackage_with_two_layers(db: str, tmp_path: Path) -> None:
    path = tmp_path / "two.gpkg"
    gdf = _sites(_inside(db, MILANO, 4, 1), "t-gpkg", crs=32632)
    pyogrio.write_dataframe(gdf, path, layer="aree", driver="GPKG")
    pyogrio.write_dataframe(gdf.head(1), path, layer="altro", driver="GPKG")
    with pytest.raises(ImportDataError) as err:
        read_file(path, "sites")
    assert "aree" in err.value.description and "altro" in err.value.description
    assert err.value.errors[0]["field"] == "layer"
    report = run_import(db, path, ImportOptions("sites", actor="tester"), layer="aree")
    assert report.counts["created"] == 4
    assert (report.file.format, report.file.layer, report.file.crs) == ("GPKG", "aree", "EPSG:32632")
    _same_as_postgis(db, "t-gpkg", gdf, 32632)


def test_zipped_shapefile_in_utm(db: str, tmp_path: Path) -> None:
    gdf = _sites(_inside(db, SESTO, 3, 2), "t-shp", crs=32632)
    pyogrio.write_dataframe(gdf, tmp_path / "aree.shp")
    with zipfile.ZipFile(tmp_path / "aree.zip", "w") as zf:
        for ext in ("shp", "shx", "dbf", "prj"):
            zf.write(tmp_path / f"aree.{ext}", f"aree.{ext}")
    report = run_import(db, tmp_path / "aree.zip", ImportOptions("sites", actor="tester"))
    assert report.counts["created"] == 3 and report.file.crs == "EPSG:32632"
    _same_as_postgis(db, "t-shp", gdf, 32632)
    assert query(db, "SELECT array_agg(DISTINCT istat_code) FROM rigenera.sites"
                     " WHERE source = 't-shp'") == [([SESTO],)]


def test_shapefile_without_prj_needs_crs(db: str, tmp_path: Path,
                                        fingerprint: Fingerprint) -> None:
    gdf = _sites(_inside(db, SESTO, 2, 4), "t-noprj", crs=32632)
    pyogrio.write_dataframe(gdf, tmp_path / "x.shp")
    with zipfile.ZipFile(tmp_path / "x.zip", "w") as zf:
        for ext in ("shp", "shx", "dbf"):
            zf.write(tmp_path / f"x.{ext}", f"x.{ext}")
    before = fingerprint()
    with pytest.raises(ImportDataError) as err:
        run_import(db, tmp_path / "x.zip", ImportOptions("sites", actor="tester"))
    assert err.value.errors[0]["field"] == "crs" and "--crs" in err.value.description
    assert fingerprint() == before
    assert query(db, "SELECT status FROM rigenera.imports WHERE id = %s",
                 (err.value.body["import"],)) == [("failed",)]
    report = run_import(db, tmp_path / "x.zip", ImportOptions("sites", actor="tester"),
                        crs="EPSG:32632")
    assert report.counts["created"] == 2
    _same_as_postgis(db, "t-noprj", gdf, 32632)


def test_geojson_is_crs84(db: str, tmp_path: Path) -> None:
    gdf = _sites(_inside(db, MILANO, 3, 5), "t-geojson")
    pyogrio.write_dataframe(gdf, tmp_path / "a.geojson", driver="GeoJSON")
    report = run_import(db, tmp_path / "a.geojson", ImportOptions("sites", actor="tester"))
    assert report.counts["created"] == 3 and report.file.format == "GeoJSON"
    _same_as_postgis(db, "t-geojson", gdf, 4326)


def test_csv_lon_lat_with_decimal_commas(db: str, tmp_path: Path) -> None:
    pts = _inside(db, MILANO, 2, 6)
    lines = ["nome;stato;lon;lat;codice"]
    for i, p in enumerate(pts):
        lines.append(f"Punto {i};Sottoutilizzata;{p.x:.6f};{p.y:.6f};c{i}".replace(".", ","))
    (tmp_path / "punti.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "m.yml").write_text(
        "fields:\n  name: nome\n  state: stato\n  source_id: codice\n"
        "  source: {value: t-csv}\n")
    report = run_import(db, tmp_path / "punti.csv", ImportOptions("sites", actor="tester"),
                        mapping=tmp_path / "m.yml")
    assert report.counts["created"] == 2, report.rejected
    got = query(db, "SELECT source_id, state, ST_X(geom), ST_Y(geom) FROM rigenera.sites"
                    " WHERE source = 't-csv' ORDER BY source_id")
    for (_sid, state, x, y), p in zip(got, pts, strict=True):
        assert state == "underused"
        assert abs(x - round(p.x, 6)) < 1e-9 and abs(y - round(p.y, 6)) < 1e-9


def test_csv_wkt_needs_a_crs(db: str, tmp_path: Path, fingerprint: Fingerprint) -> None:
    pts = _inside(db, MILANO, 2, 8)
    rows = ["name,state,source,source_id,wkt"]
    rows += [f'W{i},abandoned,t-wkt,w{i},"{p.buffer(0.0002, quad_segs=1).wkt}"'
             for i, p in enumerate(pts)]
    (tmp_path / "w.csv").write_text("\n".join(rows) + "\n")
    before = fingerprint()
    with pytest.raises(ImportDataError) as err:
        run_import(db, tmp_path / "w.csv", ImportOptions("sites", actor="tester"))
    assert err.value.errors[0]["field"] == "crs"
    assert fingerprint() == before
    report = run_import(db, tmp_path / "w.csv", ImportOptions("sites", actor="tester"),
                        crs="EPSG:4326")
    assert report.counts["created"] == 2


def test_csv_projects_with_only_a_comune(db: str, tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text(
        "title;cup;istat_code;total_cost_eur;start_date;cup_status\n"
        "Biblioteca;F11B21000000301;15146;1.234.567,89;31/12/2023;ATTIVO\n"
        "Palestra;F11B21000000302;015209;12,5;2024-01-15;Attivo\n", encoding="utf-8")
    report = run_import(db, tmp_path / "p.csv", ImportOptions("projects", actor="tester"))
    assert report.counts["created"] == 2, report.rejected
    got = query(db, "SELECT cup, total_cost_eur::text, start_date::text, cup_status, geom_source,"
                    " ST_Equals(geom, rigenera.comune_point(ARRAY(SELECT istat_code FROM"
                    " rigenera.project_comuni c WHERE c.project_id = p.id)))"
                    " FROM rigenera.projects p WHERE cup LIKE 'F11B210000003%%' ORDER BY cup")
    assert got == [("F11B21000000301", "1234567.89", "2023-12-31", "active", "comune_point", True),
                   ("F11B21000000302", "12.50", "2024-01-15", "active", "comune_point", True)]


def test_csv_sites_with_only_a_comune_are_refused(db: str, tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text("name,state,istat_code,source_id\nX,abandoned,015146,s1\n")
    with pytest.raises(ImportRefused) as err:
        run_import(db, tmp_path / "s.csv", ImportOptions("sites", actor="tester"))
    assert err.value.errors == [{"row": 1, "field": "geometry",
                                 "reason": "geometria mancante / geometry missing"}]


def test_xlsx_written_by_gdal(db: str, tmp_path: Path) -> None:
    pts = _inside(db, SESTO, 2, 9)
    df = gpd.pd.DataFrame({"name": ["X1", "X2"], "state": ["abandoned", "regenerated"],
                           "lon": [p.x for p in pts], "lat": [p.y for p in pts],
                           "source": ["t-xlsx"] * 2, "source_id": ["x1", "x2"]})
    pyogrio.write_dataframe(df, tmp_path / "fogli.xlsx", driver="XLSX", layer="sites")
    # A second sheet (our exports carry the attribution in one): the sheet named like the
    # collection is the one read.
    pyogrio.write_dataframe(gpd.pd.DataFrame({"fonte": ["Rigenera"]}), tmp_path / "fogli.xlsx",
                            driver="XLSX", layer="attribuzione", append=True)
    assert [n for n, _ in pyogrio.list_layers(tmp_path / "fogli.xlsx")] == ["sites", "attribuzione"]
    report = run_import(db, tmp_path / "fogli.xlsx", ImportOptions("sites", actor="tester"))
    assert report.counts["created"] == 2 and report.file.format == "XLSX"
    got = query(db, "SELECT ST_X(geom), ST_Y(geom) FROM rigenera.sites WHERE source = 't-xlsx'"
                    " ORDER BY source_id")
    assert np.allclose(got, [(p.x, p.y) for p in pts], atol=1e-9)


def test_wrong_crs_is_refused_clearly(db: str, tmp_path: Path, fingerprint: Fingerprint) -> None:
    gdf = _sites(_inside(db, MILANO, 3, 10), "t-wrong", crs=3003)
    # Gauss-Boaga coordinates declared as EPSG:4326.
    wrong = gdf.set_crs(4326, allow_override=True)
    pyogrio.write_dataframe(wrong, tmp_path / "gb.gpkg", driver="GPKG")
    before = fingerprint()
    with pytest.raises(ImportRefused) as err:
        run_import(db, tmp_path / "gb.gpkg", ImportOptions("sites", actor="tester"))
    assert "EPSG:4326" in err.value.description and "--crs" in err.value.description
    assert fingerprint() == before
    # A UTM 33N file declared as 32632: 700 km east, outside the metro area.
    east = gdf.to_crs(32633).set_crs(32632, allow_override=True)
    pyogrio.write_dataframe(east, tmp_path / "utm.gpkg", driver="GPKG")
    with pytest.raises(ImportRefused) as err:
        run_import(db, tmp_path / "utm.gpkg", ImportOptions("sites", actor="tester"))
    assert "EPSG:32632" in err.value.description
    assert {(e["field"], e["reason"].split(" / ")[0].split(":")[0]) for e in err.value.errors} \
        == {("geometry", "fuori dalla Città metropolitana di Milano"), ("istat_code", "obbligatorio")}
    # The right CRS given: imported.
    report = run_import(db, tmp_path / "gb.gpkg", ImportOptions("sites", actor="tester"),
                        crs="EPSG:3003")
    assert report.counts["created"] == 3
    assert any(n.code == "crs_overridden" for n in report.notes)
    _same_as_postgis(db, "t-wrong", gdf, 3003)


def test_corrupt_file_is_refused(db: str, tmp_path: Path, fingerprint: Fingerprint) -> None:
    gdf = _sites(_inside(db, MILANO, 50, 12), "t-trunc")
    pyogrio.write_dataframe(gdf, tmp_path / "t.gpkg", driver="GPKG")
    data = (tmp_path / "t.gpkg").read_bytes()
    (tmp_path / "cut.gpkg").write_bytes(data[: len(data) // 2])
    before = fingerprint()
    with pytest.raises(ImportDataError):
        run_import(db, tmp_path / "cut.gpkg", ImportOptions("sites", actor="tester"))
    assert fingerprint() == before


def test_lines_and_stops_fit_their_table(db: str, tmp_path: Path) -> None:
    """A GeoJSON LineString becomes the MultiLineString mobility_links keeps; a one-point
    MultiPoint becomes the Point transit_stops keeps; a two-point one is named."""
    a, b = _inside(db, MILANO, 2, 13)
    lines = gpd.GeoDataFrame({"kind": ["cycle_path"], "name": ["Via"], "source": ["t-line"],
                              "source_id": ["l1"]},
                             geometry=[shapely.LineString([a, b])], crs=4326)
    pyogrio.write_dataframe(lines, tmp_path / "l.geojson", driver="GeoJSON")
    report = run_import(db, tmp_path / "l.geojson", ImportOptions("mobility_links", actor="t"))
    assert report.counts["created"] == 1, report.rejected
    assert query(db, "SELECT GeometryType(geom), ST_Equals(geom, ST_Multi(ST_GeomFromText(%s,"
                     " 4326))) FROM rigenera.mobility_links WHERE source = 't-line'",
                 (shapely.LineString([a, b]).wkt,)) == [("MULTILINESTRING", True)]
    stops = gpd.GeoDataFrame({"mode": ["bus", "tram"], "name": ["Fermata", "Doppia"],
                              "source": ["t-stop"] * 2, "source_id": ["s1", "s2"]},
                             geometry=[shapely.MultiPoint([a]), shapely.MultiPoint([a, b])],
                             crs=4326)
    pyogrio.write_dataframe(stops, tmp_path / "s.gpkg", driver="GPKG")
    report = run_import(db, tmp_path / "s.gpkg", ImportOptions("transit_stops", actor="t",
                                                               skip_invalid=True))
    assert report.counts["created"] == 1
    assert [(e.row, e.field) for e in report.rejected] == [(2, "geometry")]
    assert "MULTIPOINT" in report.rejected[0].reason
    assert query(db, "SELECT GeometryType(geom), istat_code FROM rigenera.transit_stops"
                     " WHERE source = 't-stop'") == [("POINT", MILANO)]
