"""The dialog "Importa file nel catalogo" end to end: real PyQGIS, real server, real engine.

* A memory layer of four sites in Milano (UTM 32N), one with a state the
  collection does not know: the dry run shows the counts (3 to create, 1
  invalid) and the bad row with its field, writes nothing (PostGIS checked);
  Import stays disabled until "skip invalid" is ticked; confirmed, the three
  sites are on the server (OGC items, positions transformed from UTM), the
  report says so, the rejected feature is selected back in the layer and the
  rejected-rows CSV saved; a second check finds them unchanged.
* A GeoPackage with two layers, the layer chosen in the dialog.
* A CSV of projects known only by their comune: imported at the comune's
  point (``geom_source = 'comune_point'``).
* The technician of Sesto importing sites in Milano: refused, the rows named
  in the table, nothing written, Import disabled.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Callable, List, Tuple

import pytest

from conftest import MILANO, SESTO, RigeneraServer

# Four places in Milano (UTM 32N): Bovisa, Lambrate, Porta Romana, Bicocca.
PLACES = [(512530.0, 5039550.0), (519740.0, 5037300.0), (515300.0, 5033700.0),
          (516600.0, 5041500.0)]
OTHER_PLACES = [(513100.0, 5036200.0), (517800.0, 5035100.0)]  # Sempione, Città Studi


@pytest.fixture
def connect(server: RigeneraServer, auth_for: Any) -> Callable[[str], Any]:
    from rigenera_qgis.core.connection import Connection

    return lambda user: Connection(server.url, auth_for(user))


@pytest.fixture
def dialog_for(qgis_iface: Any, qgis_new_project: Any) -> Any:
    made: List[Any] = []

    def make(connection: Any) -> Any:
        from rigenera_qgis.gui.import_dialog import ImportDialog

        dialog = ImportDialog(qgis_iface, lambda: connection)
        made.append(dialog)
        return dialog

    yield make
    for dialog in made:
        dialog.reject()
        dialog.deleteLater()


def sites_layer(tag: str, states: List[str], places: List[Tuple[float, float]] = PLACES) -> Any:
    from qgis.core import QgsFeature, QgsGeometry, QgsPointXY, QgsProject, QgsVectorLayer

    layer = QgsVectorLayer("Point?crs=EPSG:32632&field=name:string&field=state:string"
                           "&field=source:string&field=source_id:string", f"Siti {tag}", "memory")
    features = []
    for i, (state, (x, y)) in enumerate(zip(states, places, strict=False)):
        f = QgsFeature(layer.fields())
        f.setAttributes([f"Area {tag} {i + 1}", state, f"plugin-{tag}", f"{tag}-{i + 1}"])
        f.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
        features.append(f)
    assert layer.dataProvider().addFeatures(features)[0]
    QgsProject.instance().addMapLayer(layer)
    return layer


def stored(server: RigeneraServer, source: str) -> List[Tuple[Any, ...]]:
    return server.sql("SELECT source_id, name, state, istat_code, ST_X(geom), ST_Y(geom)"
                      " FROM rigenera.sites WHERE source = %s ORDER BY source_id", source)


def test_layer_dry_run_confirm_and_report(server: RigeneraServer, connect: Any, dialog_for: Any,
                                          tmp_path: Path) -> None:
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsPointXY,
        QgsProject,
    )

    layer = sites_layer("a", ["abandoned", "underused", "demolita", "partly_used"])
    dialog = dialog_for(connect("tecnico"))
    dialog.set_layer(layer)
    dialog.set_collection("sites")
    assert not dialog.ui.importButton.isEnabled()

    report = dialog.dry_run()
    assert report is not None, dialog.last_error
    assert report.status == "dry_run" and report.dry_run
    shown = dialog.counts_shown()
    assert shown["read"] == 4 and shown["created"] == 3 and shown["invalid"] == 1
    assert shown["updated"] == shown["unchanged"] == 0
    (bad,) = dialog.rejected_shown()
    assert bad[0] == "3" and bad[1] == "state", bad
    assert "demolita" in " ".join(r.value or "" for r in report.rejected)
    assert stored(server, "plugin-a") == []  # a dry run writes no feature
    assert server.sql("SELECT status, dry_run, actor FROM rigenera.imports WHERE id = %s",
                      int(report.id))[0] == ("dry_run", True, "tecnico")
    # All or nothing would refuse: Import waits for "skip invalid".
    assert not dialog.ui.importButton.isEnabled()
    dialog.ui.skipInvalidCheck.setChecked(True)
    assert dialog.ui.importButton.isEnabled()

    done = dialog.run_import(confirm=False)
    assert done is not None and done.status == "succeeded", dialog.last_error
    assert done.count("created") == 3 and done.count("invalid") == 1
    # The real run went to the background (202) and was followed to its end.
    assert done.location == f"/api/imports/{done.id}"
    assert dialog.counts_shown()["created"] == 3
    rows = stored(server, "plugin-a")
    assert [r[:4] for r in rows] == [("a-1", "Area a 1", "abandoned", MILANO),
                                     ("a-2", "Area a 2", "underused", MILANO),
                                     ("a-4", "Area a 4", "partly_used", MILANO)]
    to_wgs84 = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:32632"),
                                      QgsCoordinateReferenceSystem("EPSG:4326"),
                                      QgsProject.instance())
    for row, (x, y) in zip(rows, [PLACES[0], PLACES[1], PLACES[3]], strict=True):
        expected = to_wgs84.transform(QgsPointXY(x, y))
        assert abs(row[4] - expected.x()) < 1e-6 and abs(row[5] - expected.y()) < 1e-6
    # The server publishes them (OGC API items), and records the import.
    items = server.get_json("/ogc/collections/sites/items?limit=10&filter="
                            "source%3D%27plugin-a%27&filter-lang=cql2-text")
    assert sorted(f["properties"]["name"] for f in items["features"]) == \
        ["Area a 1", "Area a 2", "Area a 4"]
    assert server.sql("SELECT status, counts->>'created', counts->>'invalid' FROM"
                      " rigenera.imports WHERE id = %s", int(done.id))[0] == ("succeeded", "3", "1")
    assert not dialog.ui.importButton.isEnabled()  # a second real run needs a new check

    # The rejected feature, back in the layer; the CSV of the rejected rows.
    third = [f.id() for f in layer.getFeatures()][2]
    assert dialog.select_rejected() == [third]
    assert layer.selectedFeatureIds() == [third]
    saved = dialog.save_rejected(str(tmp_path / "scarti.csv"))
    assert saved is not None
    lines = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert len(lines) == 1 and lines[0]["field"] == "state" and lines[0]["row"] == "3"

    # Checked again: nothing would change.
    again = dialog.dry_run()
    assert again is not None and again.count("unchanged") == 3 and again.count("created") == 0


def test_geopackage_file_with_layer_choice(server: RigeneraServer, connect: Any,
                                           dialog_for: Any, tmp_path: Path) -> None:
    from qgis.core import QgsProject, QgsVectorFileWriter

    path = tmp_path / "consulente città.gpkg"  # the name as the server records it, UTF-8
    for i, (name, tag) in enumerate((("altro", "x"), ("siti", "b"))):
        # Places no other test uses (a site within 1 m of a stored one would be an update).
        layer = sites_layer(tag, ["abandoned", "regenerated"], OTHER_PLACES)
        options = QgsVectorFileWriter.SaveVectorOptions()
        options.driverName = "GPKG"
        options.layerName = name
        options.actionOnExistingFile = (QgsVectorFileWriter.CreateOrOverwriteFile if i == 0
                                        else QgsVectorFileWriter.CreateOrOverwriteLayer)
        error = QgsVectorFileWriter.writeAsVectorFormatV3(
            layer, str(path), QgsProject.instance().transformContext(), options)
        assert error[0] == QgsVectorFileWriter.NoError, error
    dialog = dialog_for(connect("coord"))
    dialog.set_file(path, layer="siti")
    assert [dialog.ui.fileLayerCombo.itemText(i)
            for i in range(dialog.ui.fileLayerCombo.count())] == ["altro", "siti"]
    dialog.set_collection("sites")
    report = dialog.dry_run()
    assert report is not None and report.ok, dialog.last_error
    assert report.file.get("layer") == "siti" and report.count("created") == 2
    assert report.file.get("name") == "consulente città.gpkg"
    done = dialog.run_import(confirm=False)
    assert done is not None and done.status == "succeeded", dialog.last_error
    assert [r[0] for r in stored(server, "plugin-b")] == ["b-1", "b-2"]
    assert report.count("updated") == 0
    assert stored(server, "plugin-x") == []


def test_csv_of_projects_lands_on_the_comune_point(server: RigeneraServer, connect: Any,
                                                   dialog_for: Any, tmp_path: Path) -> None:
    path = tmp_path / "progetti.csv"
    path.write_text("cup,title,istat_code,status,source,source_id\n"
                    "J41B21000000001,Scuola da localizzare (plugin),015146,funded,plugin-p,p1\n"
                    "J41B21000000002,Piazza da localizzare (plugin),015209,funded,plugin-p,p2\n",
                    encoding="utf-8")
    dialog = dialog_for(connect("coord"))
    dialog.set_file(path)
    dialog.set_collection("projects")
    report = dialog.dry_run()
    assert report is not None and report.ok and report.count("created") == 2, \
        (dialog.last_error, report and report.rejected)
    done = dialog.run_import(confirm=False)
    assert done is not None and done.status == "succeeded", dialog.last_error
    rows = server.sql("SELECT p.source_id, p.geom_source, ST_Equals(p.geom,"
                      " rigenera.comune_point(ARRAY[c.istat_code])) FROM rigenera.projects p"
                      " JOIN rigenera.project_comuni c ON c.project_id = p.id"
                      " WHERE p.source = 'plugin-p' ORDER BY 1")
    assert rows == [("p1", "comune_point", True), ("p2", "comune_point", True)]


def test_technician_outside_their_comuni_is_refused_with_rows(
        server: RigeneraServer, connect: Any, dialog_for: Any) -> None:
    layer = sites_layer("c", ["abandoned", "underused"])
    dialog = dialog_for(connect("tecnico.sesto"))
    dialog.set_layer(layer)
    dialog.set_collection("sites")
    report = dialog.dry_run()
    assert report is not None, dialog.last_error
    assert not report.ok and report.status == "refused"
    assert report.http_status in (403, 422)
    named = dialog.rejected_shown()
    assert sorted({r[0] for r in named}) == ["1", "2"], named
    assert all(r[2] for r in named)  # each with its reason
    assert any("015146" in r[2] for r in named)  # Milano is not theirs
    assert "Import refused" in dialog.ui.statusLabel.text() or \
        "Importazione rifiutata" in dialog.ui.statusLabel.text()
    assert not dialog.ui.importButton.isEnabled()
    dialog.ui.skipInvalidCheck.setChecked(True)
    assert not dialog.ui.importButton.isEnabled()
    assert stored(server, "plugin-c") == []
    assert SESTO not in {r[3] for r in stored(server, "plugin-c")}


def test_shapefile_without_crs_needs_the_crs_box(server: RigeneraServer, connect: Any,
                                                 dialog_for: Any, tmp_path: Path) -> None:
    """A zipped Shapefile without .prj is refused naming the CRS; ticking "CRS of the
    file" (EPSG:32632) sends ``crs`` and the same file passes."""
    import zipfile

    from qgis.core import QgsCoordinateReferenceSystem, QgsProject, QgsVectorFileWriter

    layer = sites_layer("d", ["abandoned"], [(514200.0, 5034900.0)])
    layer.setCrs(QgsCoordinateReferenceSystem())  # as a consultant's file without .prj
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "ESRI Shapefile"
    shp = tmp_path / "siti_d.shp"
    error = QgsVectorFileWriter.writeAsVectorFormatV3(
        layer, str(shp), QgsProject.instance().transformContext(), options)
    assert error[0] == QgsVectorFileWriter.NoError, error
    assert not shp.with_suffix(".prj").exists()
    archive = tmp_path / "siti_d.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in tmp_path.glob("siti_d.*"):
            if part.suffix != ".zip":
                z.write(part, part.name)

    dialog = dialog_for(connect("coord"))
    dialog.set_file(archive)
    dialog.set_collection("sites")
    refused = dialog.dry_run()
    assert refused is not None and not refused.ok, refused
    assert "crs" in {r[1] for r in dialog.rejected_shown()} or "crs" in refused.message.lower()
    assert not dialog.ui.importButton.isEnabled()

    dialog.set_options(crs="EPSG:32632")
    report = dialog.dry_run()
    assert report is not None and report.ok and report.count("created") == 1, \
        (dialog.last_error, report and report.rejected)
    assert report.file.get("crs") in ("EPSG:32632", "epsg:32632")
    done = dialog.run_import(confirm=False)
    assert done is not None and done.status == "succeeded", dialog.last_error
    (row,) = stored(server, "plugin-d")
    assert row[3] == MILANO and 9.18 < row[4] < 9.19 and 45.45 < row[5] < 45.47


def test_a_volunteer_is_told_why(server: RigeneraServer, connect: Any, dialog_for: Any) -> None:
    """Volunteers review, they do not import: the server's 403 is shown readably."""
    before = server.sql("SELECT count(*) FROM rigenera.imports")[0][0]
    dialog = dialog_for(connect("volontario"))
    dialog.set_layer(sites_layer("e", ["abandoned"]))
    dialog.set_collection("sites")
    report = dialog.dry_run()
    assert report is not None and not report.ok and report.http_status == 403
    assert report.message and report.message in dialog.ui.statusLabel.text()
    assert dialog.last_error and not dialog.ui.importButton.isEnabled()
    assert server.sql("SELECT count(*) FROM rigenera.imports")[0][0] == before
