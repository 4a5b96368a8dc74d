"""The dock "Da localizzare" against the real server (GET /api/projects/to-locate).

Approximate projects are made as the import engine leaves them (at their
comune's representative point, ``geom_source = 'comune_point'``). As the
technician of Milano:

* the dock lists exactly the queue PostGIS holds for Milano (not Sesto's);
* "Locate" checks out the projects' working copy, selects the project's point
  and starts editing; the point moved to its real place and synchronised makes
  the project ``digitised`` on the server (history by the technician) and the
  dock no longer lists it;
* a perimeter drawn in the working copy's polygons layer and adopted with
  "Use the drawn polygon" becomes the project's geometry (a polygon), also
  leaving the queue; the other project stays.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, List

import pytest

from conftest import MILANO, SESTO, RigeneraServer


def make_project(server: RigeneraServer, title: str, comuni: List[str]) -> str:
    """A project as an import leaves it: at its comuni's representative points."""
    rows = server.sql(
        "SELECT set_config('rigenera.actor', 'import:test', true),"
        " set_config('rigenera.import', 'on', true);"
        " WITH p AS (INSERT INTO rigenera.projects (title, status, geom_source, scope, source,"
        " source_id, geom) VALUES (%s, 'funded', 'comune_point', 'local', 'Test ReGiS',"
        " %s, rigenera.comune_point(%s::text[])) RETURNING id),"
        " c AS (INSERT INTO rigenera.project_comuni (project_id, istat_code)"
        " SELECT p.id, unnest(%s::text[]) FROM p)"
        " SELECT id FROM p", title, f"plugin-{title}", comuni, comuni)
    return str(rows[0][0])


def queue_of(server: RigeneraServer, comune: str) -> List[str]:
    return [str(r[0]) for r in server.sql(
        "SELECT p.id FROM rigenera.projects p WHERE p.geom_source = 'comune_point' AND EXISTS"
        " (SELECT 1 FROM rigenera.project_comuni c WHERE c.project_id = p.id"
        " AND c.istat_code = %s) ORDER BY p.id", comune)]


@pytest.fixture
def connect(server: RigeneraServer, auth_for: Any) -> Callable[[str], Any]:
    from rigenera_qgis.core.connection import Connection

    return lambda user: Connection(server.url, auth_for(user))


@pytest.fixture
def dock_for(qgis_iface: Any, qgis_new_project: Any) -> Any:
    made: List[Any] = []

    def make(connection: Any) -> Any:
        from rigenera_qgis.gui.editing import EditingController
        from rigenera_qgis.gui.to_locate_dock import ToLocateDock

        controller = EditingController(qgis_iface, lambda: connection)
        dock = ToLocateDock(qgis_iface, lambda: connection, lambda: controller)
        made.append((dock, controller))
        return dock, controller

    yield make
    from qgis.core import QgsProject

    copies = {wc.path for _, controller in made for wc in controller.copies.values()}
    QgsProject.instance().removeAllMapLayers()
    for dock, controller in made:
        controller.unload()
        dock.deleteLater()
    for path in copies:  # a later test's plugin start must not reopen them
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)


def test_locate_by_point_and_by_perimeter(server: RigeneraServer, connect: Any,
                                          dock_for: Any) -> None:
    from qgis.core import QgsFeature, QgsGeometry, QgsPointXY

    library = make_project(server, "Biblioteca da localizzare (plugin)", [MILANO])
    park = make_project(server, "Parco da localizzare (plugin)", [MILANO])
    gym = make_project(server, "Palestra di Sesto (plugin)", [SESTO])

    dock, controller = dock_for(connect("tecnico"))
    assert dock.refresh(), dock.last_error
    assert dock.ids() == queue_of(server, MILANO)
    assert {library, park} <= set(dock.ids()) and gym not in dock.ids()
    assert dock.total == len(queue_of(server, MILANO))
    shown = dock.select_item(library)
    assert shown.title == "Biblioteca da localizzare (plugin)" and shown.in_reach
    assert dock.ui.itemsTable.item(dock.ids().index(library), 3).text() == "Milano"

    # Locate: the working copy is checked out, the point selected and editable.
    layer = dock.locate_selected()
    assert layer is not None, dock.last_error
    assert layer.customProperty("rigenera/part") == "points" and layer.isEditable()
    (fid,) = layer.selectedFeatureIds()
    assert str(layer.getFeature(fid)["rg_id"]) == library
    # The technician drags the point to the real building (Via Padova, Milano).
    assert layer.changeGeometry(fid, QgsGeometry.fromWkt("MultiPoint ((9.2268 45.4977))"))
    results = controller.synchronise(layer, comment="localizzata", interactive=False)
    assert [r.status for r in results] == ["ok"], results[0].message
    (source, wkt, version) = server.sql("SELECT geom_source, ST_AsText(geom), version"
                                        " FROM rigenera.projects WHERE id = %s", int(library))[0]
    assert source == "digitised" and wkt in ("MULTIPOINT((9.2268 45.4977))", "POINT(9.2268 45.4977)")
    assert server.sql("SELECT actor, comment FROM rigenera.history WHERE collection = 'projects'"
                      " AND feature_id = %s ORDER BY id DESC LIMIT 1", library)[0] == \
        ("tecnico", "localizzata")
    assert version >= 2
    assert dock.refresh()
    assert library not in dock.ids() and park in dock.ids()

    # A perimeter: drawn in the polygons layer, then adopted for the park.
    dock.select_item(park)
    assert dock.locate_selected() is not None
    wc = dock.working_copy(checkout=False)
    polygons = wc.layer("polygons")
    if not polygons.isEditable():
        polygons.startEditing()
    drawn = QgsFeature(polygons.fields())
    drawn.setGeometry(QgsGeometry.fromPolygonXY([[QgsPointXY(9.2010, 45.4520),
                                                  QgsPointXY(9.2030, 45.4520),
                                                  QgsPointXY(9.2030, 45.4535),
                                                  QgsPointXY(9.2010, 45.4535),
                                                  QgsPointXY(9.2010, 45.4520)]]))
    assert polygons.addFeature(drawn)
    polygons.selectByIds([drawn.id()])
    assert dock.adopt_drawn(), dock.last_error
    assert [p for p, _ in wc.rows_of(park)] == ["polygons"]
    results = controller.synchronise(polygons, comment="perimetro", interactive=False)
    assert [r.status for r in results] == ["ok"], results[0].message
    (source, kind, title) = server.sql("SELECT geom_source, GeometryType(geom), title"
                                       " FROM rigenera.projects WHERE id = %s", int(park))[0]
    assert source == "digitised" and kind in ("POLYGON", "MULTIPOLYGON")
    assert title == "Parco da localizzare (plugin)"  # the attributes went with it
    assert dock.refresh()
    assert park not in dock.ids() and dock.ids() == queue_of(server, MILANO)


def test_a_technician_sees_only_projects_of_their_comuni(server: RigeneraServer,
                                                         connect: Any, dock_for: Any) -> None:
    shared = make_project(server, "Piano integrato Milano-Sesto (plugin)", [MILANO, SESTO])
    dock, _ = dock_for(connect("tecnico.sesto"))
    assert dock.refresh(), dock.last_error
    assert dock.ids() == queue_of(server, SESTO)
    item = dock.select_item(shared)
    assert not item.in_reach  # also in Milano: the reach rule would refuse the edit
    assert not dock.ui.locateButton.isEnabled() and dock.ui.zoomButton.isEnabled()
    assert dock.zoom_selected()


def test_map_filter_shows_only_approximate_projects(server: RigeneraServer, connect: Any,
                                                    dock_for: Any) -> None:
    """The filter on the projects' OAPIF layers: only comune_point projects, then all again."""
    from qgis.core import QgsProject

    from rigenera_qgis.core import layers as core_layers

    make_project(server, "Asilo da localizzare (plugin)", [MILANO])
    connection = connect("coord")
    core_layers.load_layers(connection)
    group = core_layers.find_group()
    points = core_layers.group_layers(group)["projects_points"]
    all_points = server.sql("SELECT count(*) FROM rigenera.projects"
                            " WHERE GeometryType(geom) IN ('POINT', 'MULTIPOINT')")[0][0]
    approximate = server.sql("SELECT count(*) FROM rigenera.projects WHERE geom_source ="
                             " 'comune_point' AND GeometryType(geom) IN ('POINT', 'MULTIPOINT')")[0][0]
    assert 0 < approximate < all_points
    assert points.featureCount() == all_points

    dock, _ = dock_for(connection)
    filtered = dock.set_map_filter(True)
    assert filtered == len([lyr for lyr in QgsProject.instance().mapLayers().values()
                            if lyr.customProperty("rigenera/collection") == "projects"
                            and lyr.providerType() == "OAPIF"])
    assert dock.ui.mapFilterCheck.isChecked()
    assert {f["geom_source"] for f in points.getFeatures()} == {"comune_point"}
    assert sum(1 for _ in points.getFeatures()) == approximate
    dock.set_map_filter(False)
    assert points.subsetString() == "" and sum(1 for _ in points.getFeatures()) == all_points
