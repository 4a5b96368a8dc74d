"""Editing through the plugin's GUI layer against the real server.

* EditingController checks out a working copy (the technician's comuni), adds
  it to the group of working copies, styled and in edit mode; an attribute edit
  and a synchronisation put exactly that on the server, with history.
* A conflict (two technicians, same feature) goes through the resolver hook
  with a real ConflictDialog whose choice is set programmatically: "mine",
  "theirs" and a per-field merge (geometry included) each end with the expected
  server state; stopping keeps the local edits.
* A validation refusal selects the feature and names the field.
* The history dialog lists the versions with what changed, restores an
  earlier version for a technician, and offers no restore to a volunteer.
* A checkout of the map extent holds the sites that extent touches.
* Offline, the edits stay in the working copy and go out once the server is back.
* Working copies are reopened after a restart (a new controller, a new project).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

from conftest import MILANO, RigeneraServer


def wait(ms: int = 100) -> None:
    from qgis.PyQt.QtTest import QTest

    QTest.qWait(ms)


@pytest.fixture
def connect(server: RigeneraServer, auth_for: Any) -> Callable[[str], Any]:
    from rigenera_qgis.core.connection import Connection

    return lambda user: Connection(server.url, auth_for(user))


@pytest.fixture
def controllers(qgis_iface: Any, qgis_new_project: Any) -> Any:
    made: List[Any] = []

    def make(connection: Any) -> Any:
        from rigenera_qgis.gui.editing import EditingController

        controller = EditingController(qgis_iface, lambda: connection)
        made.append(controller)
        return controller

    yield make
    for controller in made:
        controller.unload()


def site_row(server: RigeneraServer, sid: Any) -> Dict[str, Any]:
    cols = ("name", "state", "condition", "condition_notes", "version", "wkt")
    row = server.sql("SELECT name, state, condition, condition_notes, version, ST_AsText(geom)"
                     " FROM rigenera.sites WHERE id = %s", int(sid))[0]
    return dict(zip(cols, row, strict=True))


def feature_of(layer: Any, sid: Any) -> Any:
    found = list(layer.getFeatures(f"\"rg_id\" = '{sid}'"))
    assert len(found) == 1, f"site {sid} not (once) in {layer.name()}"
    return found[0]


def polygon_site(server: RigeneraServer) -> str:
    """A polygon site of Milano nobody else's test touches (the last one)."""
    return str(server.sql("SELECT max(id) FROM rigenera.sites WHERE istat_code = %s"
                          " AND ST_Dimension(geom) = 2 AND source <> 'test'", MILANO)[0][0])


def test_checkout_edit_synchronise(qgis_iface: Any, server: RigeneraServer, connect: Any,
                                   controllers: Any) -> None:
    from qgis.core import QgsProject

    from rigenera_qgis.gui.editing import PROP_WC_GROUP, working_copies_dir

    controller = controllers(connect("tecnico"))
    wc = controller.checkout_active_layer(collection="sites", scope="comuni", interactive=False)
    assert wc is not None
    assert working_copies_dir() in wc.path.parents and wc.path.exists()
    layers = wc.layers()
    # In the project, in the working copies' group, editable.
    group = next(g for g in QgsProject.instance().layerTreeRoot().findGroups(True)
                 if g.customProperty(PROP_WC_GROUP))
    assert {node.layer().id() for node in group.findLayers()} >= {layer.id() for layer in layers}
    assert all(layer.isEditable() for layer in layers)
    # Exactly the technician's comune.
    expected = {str(r[0]) for r in server.sql(
        "SELECT id FROM rigenera.sites WHERE istat_code = %s", MILANO)}
    local = {str(f["rg_id"]) for layer in layers for f in layer.getFeatures()}
    assert local == expected
    # Styled with the project's QML, as the OAPIF layers (not QGIS's default symbol).
    import re

    from rigenera_qgis.core import layers as core_layers

    polygons = wc.layer("polygons")
    for layer in layers:
        qml = core_layers.style_path(f"sites_{layer.customProperty('rigenera/part')}")
        assert qml is not None
        kind = re.search(r'<renderer-v2[^>]* type="([A-Za-z]+)"', qml.read_text(encoding="utf-8"))
        assert kind is not None and layer.renderer().type() == kind.group(1)

    sid = polygon_site(server)
    before = site_row(server, sid)
    feature = feature_of(polygons, sid)
    idx = polygons.fields().indexFromName("condition_notes")
    assert polygons.changeAttributeValue(feature.id(), idx, "Tetto crollato (sopralluogo)")
    results = controller.synchronise(polygons, comment="sopralluogo", interactive=False)
    assert [r.status for r in results] == ["ok"], results[0].message
    after = site_row(server, sid)
    assert after["condition_notes"] == "Tetto crollato (sopralluogo)"
    assert after["version"] == before["version"] + 1
    assert {k: v for k, v in after.items() if k not in ("condition_notes", "version")} == \
        {k: v for k, v in before.items() if k not in ("condition_notes", "version")}
    history = server.sql("SELECT operation, actor, comment FROM rigenera.history"
                         " WHERE collection = 'sites' AND feature_id = %s ORDER BY id DESC"
                         " LIMIT 1", sid)
    assert history == [("update", "tecnico", "sopralluogo")]
    # The working copy took the new version and is editable again, with nothing pending.
    assert int(feature_of(polygons, sid)["rg_version"]) == after["version"]
    assert polygons.isEditable() and not wc.local_changes()
    assert any("Synchronised" in m or "Sincronizz" in m
               for m in qgis_iface.messageBar().get_messages(3))  # Qgis.Success


Setter = Callable[[Any], None]


def conflict_round(server: RigeneraServer, connect: Any, controllers: Any, qgis_canvas: Any,
                   setter: Optional[Setter], mine_geometry: bool = False
                   ) -> Tuple[str, Dict[str, Any], List[Any], Any, Any]:
    """tecnico and tecnico2 check out Milano; tecnico2 changes name and state of a site and
    synchronises; tecnico changes name and condition (and maybe the geometry) of the same
    site and synchronises: a conflict, decided by ``setter`` on a real ConflictDialog."""
    from qgis.core import QgsGeometry
    from qgis.PyQt.QtCore import Qt

    from rigenera_qgis.gui.conflict_dialog import ConflictDialog

    mine_ctl = controllers(connect("tecnico"))
    theirs_ctl = controllers(connect("tecnico2"))
    mine = mine_ctl.checkout_active_layer(collection="sites", scope="comuni", interactive=False)
    theirs = theirs_ctl.checkout_active_layer(collection="sites", scope="comuni",
                                              interactive=False)
    sid = polygon_site(server)
    base = site_row(server, sid)

    layer = theirs.layer("polygons")
    f = feature_of(layer, sid)
    layer.changeAttributeValue(f.id(), layer.fields().indexFromName("name"), base["name"] + " (B)")
    new_state = "regenerated" if base["state"] != "regenerated" else "abandoned"
    layer.changeAttributeValue(f.id(), layer.fields().indexFromName("state"), new_state)
    assert [r.status for r in theirs_ctl.synchronise(layer, "tecnico2", interactive=False)] \
        == ["ok"]
    theirs_state = site_row(server, sid)

    layer = mine.layer("polygons")
    f = feature_of(layer, sid)
    layer.changeAttributeValue(f.id(), layer.fields().indexFromName("name"), base["name"] + " (A)")
    new_condition = "poor" if base["condition"] != "poor" else "fair"
    layer.changeAttributeValue(f.id(), layer.fields().indexFromName("condition"), new_condition)
    mine_wkt = None
    if mine_geometry:
        geom = QgsGeometry(f.geometry())
        geom.translate(0.0002, 0.0)
        assert layer.changeGeometry(f.id(), geom)
        mine_wkt = geom.asWkt()

    seen: List[Any] = []

    def resolver(conflict: Any) -> Any:
        dialog = ConflictDialog(conflict, qgis_canvas)
        table = dialog.fieldsTable
        bold = {table.item(r, 0).data(Qt.UserRole) for r in range(table.rowCount())
                if table.item(r, 0).font().bold()}
        seen.append({"rows": dialog.rows(), "bands": (dialog.mine_band is not None,
                                                      dialog.theirs_band is not None),
                     "table": table.rowCount(), "conflict": conflict,
                     "presets": dialog.merged_choice(), "bold": bold})
        if setter is None:
            dialog.cancelButton.click()
        else:
            setter(dialog)
        assert dialog.bands == []  # removed from the canvas when the dialog closed
        return dialog.choice()

    results = mine_ctl.synchronise(layer, "tecnico", resolver=resolver, interactive=False)
    context = {"base": base, "theirs": theirs_state, "mine_condition": new_condition,
               "mine_wkt": mine_wkt, "new_state": new_state}
    return sid, context, seen, results, mine


def test_conflict_keep_mine(server: RigeneraServer, connect: Any, controllers: Any,
                            qgis_canvas: Any) -> None:
    sid, ctx, seen, results, _ = conflict_round(
        server, connect, controllers, qgis_canvas, lambda d: d.keepMineButton.click())
    assert [r.status for r in results] == ["ok"]
    assert len(seen) == 1 and set(seen[0]["rows"]) == {"name", "state", "condition"}
    assert seen[0]["table"] == 3
    now = site_row(server, sid)
    # Mine where both changed (the name), theirs where only they did (the state: never put
    # back), mine where only I did (the condition).
    assert (now["name"], now["state"], now["condition"]) == \
        (ctx["base"]["name"] + " (A)", ctx["new_state"], ctx["mine_condition"])
    assert now["version"] == ctx["theirs"]["version"] + 1
    # Each row preset to what the merge keeps; the one changed on both sides in bold.
    assert seen[0]["presets"] == {"name": "mine", "state": "theirs", "condition": "mine"}
    assert seen[0]["bold"] == {"name"}


def test_conflict_keep_theirs(server: RigeneraServer, connect: Any, controllers: Any,
                              qgis_canvas: Any) -> None:
    sid, ctx, seen, results, mine = conflict_round(
        server, connect, controllers, qgis_canvas, lambda d: d.keepTheirsButton.click())
    assert len(seen) == 1
    # Theirs where both changed (the name) and where only they did (the state); the
    # condition only I changed still goes out.
    assert [r.status for r in results] == ["ok"]
    now = site_row(server, sid)
    assert (now["name"], now["state"], now["condition"]) == \
        (ctx["theirs"]["name"], ctx["new_state"], ctx["mine_condition"])
    assert now["version"] == ctx["theirs"]["version"] + 1
    layer = mine.layer("polygons")
    local = feature_of(layer, sid)
    assert (local["name"], local["state"]) == (ctx["theirs"]["name"], ctx["theirs"]["state"])
    assert not mine.local_changes()


def test_conflict_merge_per_field_with_geometry(server: RigeneraServer, connect: Any,
                                                controllers: Any, qgis_canvas: Any) -> None:
    def merge(dialog: Any) -> None:
        dialog.set_row_choice("name", "theirs")
        dialog.set_row_choice("state", "theirs")
        dialog.set_row_choice("condition", "mine")
        dialog.set_row_choice("geometry", "mine")
        dialog.mergeButton.click()

    sid, ctx, seen, results, _ = conflict_round(server, connect, controllers, qgis_canvas, merge,
                                                mine_geometry=True)
    assert [r.status for r in results] == ["ok"]
    assert set(seen[0]["rows"]) == {"name", "state", "condition", "geometry"}
    assert seen[0]["bands"] == (True, True)  # both geometries drawn while deciding
    now = site_row(server, sid)
    assert (now["name"], now["state"], now["condition"]) == \
        (ctx["theirs"]["name"], ctx["new_state"], ctx["mine_condition"])
    from qgis.core import QgsGeometry

    server_geom = QgsGeometry.fromWkt(now["wkt"])
    mine_geom = QgsGeometry.fromWkt(ctx["mine_wkt"])
    base_geom = QgsGeometry.fromWkt(ctx["base"]["wkt"])
    assert server_geom.centroid().asPoint().distance(mine_geom.centroid().asPoint()) < 1e-7
    assert server_geom.centroid().asPoint().distance(base_geom.centroid().asPoint()) > 1e-4
    assert server_geom.area() == pytest.approx(mine_geom.area(), rel=1e-6)


def test_conflict_decide_later_keeps_local_edits(qgis_iface: Any, server: RigeneraServer,
                                                 connect: Any, controllers: Any,
                                                 qgis_canvas: Any) -> None:
    sid, ctx, seen, results, mine = conflict_round(server, connect, controllers, qgis_canvas,
                                                   None)
    assert [r.status for r in results] == ["conflicts"]
    assert len(seen) == 1  # the dialog was shown, and closed undecided
    assert site_row(server, sid) == ctx["theirs"]  # nothing written
    local = feature_of(mine.layer("polygons"), sid)
    assert local["name"] == ctx["base"]["name"] + " (A)"
    assert local["condition"] == ctx["mine_condition"]
    assert [c.server_id for c in mine.local_changes()] == [sid]
    # Later: decide "mine" and it goes through.
    from rigenera_qgis.gui.editing import EditingController

    controller = EditingController(qgis_iface, lambda: connect("tecnico"))
    try:
        again = controller.synchronise(mine.layer("polygons"), "deciso", interactive=False,
                                       resolver=lambda c: "mine")
    finally:
        controller.unload()
    assert [r.status for r in again] == ["ok"]
    assert site_row(server, sid)["name"] == ctx["base"]["name"] + " (A)"


def test_checkout_map_extent(qgis_iface: Any, qgis_canvas: Any, server: RigeneraServer,
                             connect: Any, controllers: Any) -> None:
    """"An area": only the sites the current map extent touches (asked in lon/lat)."""
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsProject,
        QgsRectangle,
    )

    box = QgsRectangle(9.12, 45.40, 9.20, 45.47)  # south Milano, Rozzano
    crs = QgsCoordinateReferenceSystem("EPSG:3857")  # a projected map, as users have
    qgis_canvas.setDestinationCrs(crs)
    to_map = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4326"), crs,
                                    QgsProject.instance())
    qgis_canvas.setExtent(to_map.transformBoundingBox(box))
    shown = qgis_canvas.extent()
    back = QgsCoordinateTransform(crs, QgsCoordinateReferenceSystem("EPSG:4326"),
                                  QgsProject.instance()).transformBoundingBox(shown)
    controller = controllers(connect("tecnico"))
    wc = controller.checkout_active_layer(collection="sites", scope="extent", interactive=False)
    assert wc is not None
    local = {str(f["rg_id"]) for layer in wc.layers() for f in layer.getFeatures()}
    expected = {str(r[0]) for r in server.sql(
        "SELECT id FROM rigenera.sites WHERE ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s,"
        " 4326))", back.xMinimum(), back.yMinimum(), back.xMaximum(), back.yMaximum())}
    assert local == expected
    total = server.sql("SELECT count(*) FROM rigenera.sites")[0][0]
    assert 0 < len(local) < total


def test_offline_keeps_edits_until_the_server_is_back(qgis_iface: Any, server: RigeneraServer,
                                                      connect: Any, controllers: Any) -> None:
    controller = controllers(connect("tecnico"))
    wc = controller.checkout_active_layer(collection="sites", scope="comuni", interactive=False)
    layer = wc.layer("polygons")
    sid = polygon_site(server)
    f = feature_of(layer, sid)
    layer.changeAttributeValue(f.id(), layer.fields().indexFromName("condition_notes"),
                               "Nota scritta senza rete")
    qgis_iface.messageBar().clear_messages()
    server.stop()
    try:
        results = controller.synchronise(layer, "senza rete", interactive=False)
    finally:
        server.start()
    assert [r.status for r in results] == ["offline"]
    warning = " ".join(qgis_iface.messageBar().get_messages(1))
    assert "kept" in warning or "restano" in warning
    assert [c.server_id for c in wc.local_changes()] == [sid]
    assert feature_of(layer, sid)["condition_notes"] == "Nota scritta senza rete"
    assert layer.isEditable()
    results = controller.synchronise(layer, "di nuovo in rete", interactive=False)
    assert [r.status for r in results] == ["ok"]
    assert site_row(server, sid)["condition_notes"] == "Nota scritta senza rete"


def test_invalid_selects_feature_and_names_field(qgis_iface: Any, server: RigeneraServer,
                                                 connect: Any, controllers: Any) -> None:
    controller = controllers(connect("tecnico"))
    wc = controller.checkout_active_layer(collection="sites", scope="comuni", interactive=False)
    layer = wc.layer("polygons")
    sid = polygon_site(server)
    before = site_row(server, sid)
    f = feature_of(layer, sid)
    # Bypass the form's constraints the way a paste or the field calculator can.
    layer.changeAttributeValue(f.id(), layer.fields().indexFromName("state"), "demolished")
    qgis_iface.messageBar().clear_messages()
    results = controller.synchronise(layer, "stato sbagliato", interactive=False)
    assert [r.status for r in results] == ["invalid"]
    assert site_row(server, sid) == before
    assert layer.selectedFeatureIds() == [f.id()]
    critical = " ".join(qgis_iface.messageBar().get_messages(2))
    assert "state" in critical
    assert feature_of(layer, sid)["state"] == "demolished"  # kept locally
    # Fix it and synchronise.
    layer.changeAttributeValue(f.id(), layer.fields().indexFromName("state"), before["state"])
    assert [r.status for r in controller.synchronise(layer, "ok", interactive=False)] in \
        (["ok"], ["nothing"])


def test_history_and_revert(qgis_iface: Any, server: RigeneraServer, connect: Any,
                            controllers: Any) -> None:
    technician = controllers(connect("tecnico"))
    wc = technician.checkout_active_layer(collection="sites", scope="comuni", interactive=False)
    layer = wc.layer("polygons")
    sid = polygon_site(server)
    f = feature_of(layer, sid)
    original = site_row(server, sid)
    idx = layer.fields().indexFromName("condition_notes")
    layer.changeAttributeValue(f.id(), idx, "Prima nota")
    assert technician.synchronise(layer, "nota 1", interactive=False)[0].status == "ok"
    f = feature_of(layer, sid)
    layer.changeAttributeValue(f.id(), idx, "Seconda nota")
    assert technician.synchronise(layer, "nota 2", interactive=False)[0].status == "ok"
    v1 = site_row(server, sid)["version"] - 1  # the version with "Prima nota"

    layer.selectByIds([feature_of(layer, sid).id()])
    dialog = technician.show_history(layer, confirm=False)
    assert dialog is not None
    versions = [r[0] for r in server.sql("SELECT version FROM rigenera.history WHERE"
                                         " collection = 'sites' AND feature_id = %s ORDER BY id",
                                         sid)]
    table = dialog.historyTable
    assert [int(table.item(r, 0).text()) for r in range(table.rowCount())] == versions
    last = table.rowCount() - 1
    assert table.item(last, 2).text() == "tecnico"
    assert "condition_notes" in table.item(last, 4).text()
    assert table.item(last, 5).text() == "nota 2"
    # The current version cannot be "restored"; an earlier one can.
    dialog.select_version(versions[-1])
    assert not dialog.revertButton.isEnabled()
    dialog.select_version(v1)
    assert dialog.revertButton.isEnabled()
    answer = dialog.revert_selected()
    assert answer is not None and answer["reverted_to"] == v1
    now = site_row(server, sid)
    assert now["condition_notes"] == "Prima nota" and now["version"] == versions[-1] + 1
    assert server.sql("SELECT operation, actor FROM rigenera.history WHERE collection = 'sites'"
                      " AND feature_id = %s ORDER BY id DESC LIMIT 1", sid) == \
        [("revert", "tecnico")]
    assert table.rowCount() == len(versions) + 1  # reloaded
    dialog.close()
    assert original["version"] < now["version"]

    # From an OAPIF layer of the server (field "id"), as a volunteer: listed, no restore.
    from qgis.core import QgsVectorLayer

    from rigenera_qgis.core.layers import oapif_uri

    volunteer = controllers(connect("volontario"))
    oapif = QgsVectorLayer(oapif_uri(server.url, "sites", connect("volontario").authcfg,
                                     cql="surface_m2 IS NOT NULL"), "sites", "OAPIF")
    assert oapif.isValid()
    target = [f.id() for f in oapif.getFeatures() if str(f["id"]) == sid]
    assert target
    oapif.selectByIds(target)
    dialog = volunteer.show_history(oapif, confirm=False)
    assert dialog is not None and dialog.role == "volunteer"
    assert dialog.historyTable.rowCount() == len(versions) + 1
    dialog.select_version(v1)
    assert not dialog.revertButton.isEnabled()
    assert dialog.revert_selected() is None
    assert site_row(server, sid)["version"] == now["version"]
    dialog.close()


def test_working_copies_reopen_after_restart(qgis_iface: Any, server: RigeneraServer,
                                             connect: Any, controllers: Any) -> None:
    from qgis.core import QgsProject

    from rigenera_qgis.gui.editing import working_copy_path_of

    controller = controllers(connect("tecnico"))
    wc = controller.checkout_active_layer(collection="sites", scope="comuni", interactive=False)
    layer = wc.layer("polygons")
    sid = polygon_site(server)
    f = feature_of(layer, sid)
    layer.changeAttributeValue(f.id(), layer.fields().indexFromName("condition_notes"),
                               "Nota offline")
    assert layer.commitChanges()
    controller.unload()
    QgsProject.instance().clear()  # QGIS closed ...

    restarted = controllers(connect("tecnico"))  # ... and started again
    reopened = restarted.restore_working_copies()
    paths = {working_copy_path_of(x) for x in reopened}
    assert wc.path in paths
    again = next(x for x in reopened if working_copy_path_of(x) == wc.path
                 and x.customProperty("rigenera/part") == "polygons")
    assert again.isEditable()
    assert feature_of(again, sid)["condition_notes"] == "Nota offline"
    results = restarted.synchronise(again, "dopo il riavvio", interactive=False)
    assert [r.status for r in results] == ["ok"]
    assert site_row(server, sid)["condition_notes"] == "Nota offline"
