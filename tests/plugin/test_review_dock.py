"""The volunteers' review dock and the volunteers' geometry guard, against the real server.

* As ``volontario``: the queue of Milano lists what PostGIS says waits for
  review (the demo's site included), with the automatic checks and the
  problem marked on the map; accept one, reject another with a comment; the
  database then holds validated / rejected and a history row 'review' by the
  volunteer with the comment.
* A volunteer's geometry edits are undone locally in an editable working copy
  (moved, added, deleted features; also inside a map tool's edit command),
  a technician's are not; and the server refuses a volunteer's changeset with
  a geometry (403) and writes nothing.
"""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from conftest import MILANO, RigeneraServer


def wait(ms: int = 150) -> None:
    from qgis.PyQt.QtTest import QTest

    QTest.qWait(ms)


def square(lon: float, lat: float, size: float) -> Dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[
        [lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]]}


@pytest.fixture
def volunteer(server: RigeneraServer, auth_for: Any) -> Any:
    from rigenera_qgis.core.connection import Connection

    return Connection(server.url, auth_for("volontario"))


@pytest.fixture
def technician(server: RigeneraServer, auth_for: Any) -> Any:
    from rigenera_qgis.core.connection import Connection

    return Connection(server.url, auth_for("tecnico"))


@pytest.fixture
def dock_for(qgis_iface: Any) -> Any:
    docks: List[Any] = []

    def make(connection: Any) -> Any:
        from rigenera_qgis.gui.review_dock import ReviewDock

        dock = ReviewDock(qgis_iface, lambda: connection)
        docks.append(dock)
        return dock

    yield make
    for dock in docks:
        dock.unload()
        dock.deleteLater()


@pytest.fixture
def two_new_sites(server: RigeneraServer, technician: Any) -> Any:
    """Two overlapping sites a technician just drew in Milano: both wait for review."""
    (lon, lat) = server.sql(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM rigenera.comuni"
        " WHERE istat_code = %s) x", MILANO)[0]
    client = technician.client()
    answer = client.changeset([
        {"action": "create", "collection": "sites", "ref": "a", "feature": {
            "type": "Feature", "geometry": square(lon, lat, 0.002),
            "properties": {"name": "Ex magazzino (test revisione A)", "istat_code": MILANO,
                           "state": "abandoned", "source": "test"}}},
        {"action": "create", "collection": "sites", "ref": "b", "feature": {
            "type": "Feature", "geometry": square(lon + 0.001, lat + 0.001, 0.002),
            "properties": {"name": "Ex officina (test revisione B)", "istat_code": MILANO,
                           "state": "underused", "source": "test"}}},
    ], "siti per la revisione")
    ids = {a["ref"]: str(a["id"]) for a in answer["applied"]}
    yield ids["a"], ids["b"]
    rows = server.sql("SELECT id::text, version FROM rigenera.sites WHERE id = ANY(%s::bigint[])",
                      [int(i) for i in ids.values()])
    if rows:
        client.changeset([{"action": "delete", "collection": "sites", "id": i,
                           "base_version": v} for i, v in rows], "pulizia test revisione")


def test_volunteer_reviews_the_queue(qgis_iface: Any, server: RigeneraServer, volunteer: Any,
                                     dock_for: Any, two_new_sites: Any) -> None:
    site_a, site_b = two_new_sites
    dock = dock_for(volunteer)
    assert dock.load_account()
    assert dock.role == "volunteer" and dock.can_review()
    # Volunteers review everywhere: "all comuni" plus the 133 comuni with their names.
    assert dock.ui.comuneCombo.count() == 1 + server.sql(
        "SELECT count(*) FROM rigenera.comuni")[0][0]
    assert any(dock.ui.comuneCombo.itemText(i).startswith("Milano (015146)")
               for i in range(dock.ui.comuneCombo.count()))
    dock.set_comune(MILANO)

    waiting = {str(r[0]) for r in server.sql(
        "SELECT id FROM rigenera.sites WHERE validation_status = 'to_validate'"
        " AND istat_code = %s", MILANO)}
    demo = {str(r[0]) for r in server.sql(
        "SELECT id FROM rigenera.sites WHERE validation_status = 'to_validate'"
        " AND istat_code = %s AND source_id IS NOT NULL AND source <> 'test'", MILANO)}
    assert demo, "the demo data has a site waiting for review in Milano"
    listed = {str(i["id"]) for i in dock.items}
    assert listed == waiting and {site_a, site_b} <= listed and demo <= listed
    assert dock.ui.queueList.count() == len(waiting)
    assert all(i["istat_code"] == MILANO for i in dock.items)

    # The automatic checks of B: valid, overlaps A; shown in the table and marked on the map.
    item = dock.select_item(site_b)
    assert int(site_a) in item["checks"]["overlapping_sites"]
    table = dock.ui.checksTable
    keys = [table.item(r, 0).data(0x0100) for r in range(table.rowCount())]
    assert {"valid", "overlapping_sites", "outside_comune_m", "area_m2"} <= set(keys)
    overlap_row = keys.index("overlapping_sites")
    assert site_a in table.item(overlap_row, 1).text()
    assert "overlapping_sites" in dock.problems_of(item)
    assert dock.feature_band is not None and dock.markers
    # The marker sits where A and B overlap.
    from qgis.core import QgsGeometry, QgsPointXY

    a_geom, b_geom = (QgsGeometry.fromWkt(server.sql(
        "SELECT ST_AsText(geom) FROM rigenera.sites WHERE id = %s", int(i))[0][0])
        for i in (site_a, site_b))
    overlap = a_geom.intersection(b_geom)
    assert any(overlap.buffer(1e-7, 4).contains(QgsGeometry.fromPointXY(QgsPointXY(p)))
               for p in dock.problem_points)
    # The canvas shows the feature.
    canvas_extent = dock.feature_band.asGeometry().boundingBox()
    assert qgis_iface.mapCanvas().extent().contains(canvas_extent)

    # Accept A with a comment.
    dock.select_item(site_a)
    version_a = server.sql("SELECT version FROM rigenera.sites WHERE id = %s", int(site_a))[0][0]
    dock.ui.commentEdit.setPlainText("Perimetro verificato sul posto")
    dock.ui.acceptButton.click()
    assert site_a not in {str(i["id"]) for i in dock.items}

    # Reject B: first without a comment (refused here, nothing sent), then with one.
    dock.select_item(site_b)
    dock.ui.commentEdit.clear()
    dock.ui.rejectButton.click()
    assert "comment" in dock.last_error.lower() or "comment" in dock.ui.statusLabel.text().lower()
    assert server.sql("SELECT validation_status FROM rigenera.sites WHERE id = %s",
                      int(site_b))[0][0] == "to_validate"
    dock.ui.commentEdit.setPlainText("Si sovrappone al sito A: è lo stesso edificio")
    dock.ui.rejectButton.click()
    assert site_b not in {str(i["id"]) for i in dock.items}

    rows = server.sql("SELECT id::text, validation_status, version FROM rigenera.sites"
                      " WHERE id = ANY(%s::bigint[]) ORDER BY id", [int(site_a), int(site_b)])
    status = {r[0]: (r[1], r[2]) for r in rows}
    assert status[site_a] == ("validated", version_a + 1)
    assert status[site_b][0] == "rejected"
    history = server.sql(
        "SELECT feature_id, actor, comment FROM rigenera.history WHERE collection = 'sites'"
        " AND operation = 'review' AND feature_id = ANY(%s) ORDER BY id", [site_a, site_b])
    assert history == [(site_a, "volontario", "accept: Perimetro verificato sul posto"),
                       (site_b, "volontario",
                        "reject: Si sovrappone al sito A: è lo stesso edificio")]
    # Technicians see the rejection with the reviewer's comment.
    from rigenera_qgis.core.connection import Connection

    rejected = {str(r["id"]): r for r in dock.client().rejections()["items"]}
    assert rejected[site_b]["comment"].startswith("reject: Si sovrappone")
    assert isinstance(Connection, type)


def test_problem_locations_from_checks(qgis_iface: Any, volunteer: Any, dock_for: Any) -> None:
    """Outside-comune point and the coordinates of an invalidity reason become markers."""
    dock = dock_for(volunteer)
    item = {"id": 1, "checks": {"valid": False,
                                "validity_reason": "Self-intersection[9.19 45.46]",
                                "outside_comune_m": 12.5,
                                "outside_location": {"type": "Point",
                                                     "coordinates": [9.2, 45.5]}}}
    points = dock.problem_locations(item, None)
    assert [(p.x(), p.y()) for p in points] == [(9.2, 45.5), (9.19, 45.46)]
    assert set(dock.problems_of(item)) == {"valid", "outside_comune_m"}


def test_technician_sees_queue_but_cannot_review(qgis_iface: Any, technician: Any,
                                                 dock_for: Any) -> None:
    dock = dock_for(technician)
    assert dock.load_account()
    # A technician's comuni only, no "all".
    assert [dock.ui.comuneCombo.itemData(i) for i in range(dock.ui.comuneCombo.count())] \
        == [MILANO]
    dock.refresh()
    assert dock.items
    assert not dock.ui.acceptButton.isEnabled() and not dock.ui.rejectButton.isEnabled()
    assert dock.accept_selected("ok") is None


def test_volunteer_geometry_edits_refused(qgis_iface: Any, server: RigeneraServer,
                                          volunteer: Any, technician: Any,
                                          dock_for: Any) -> None:
    from qgis.core import QgsFeature, QgsGeometry

    from rigenera_qgis.gui.editing import EditingController

    dock = dock_for(volunteer)
    assert dock.guard.refresh_role() == "volunteer"
    controller = EditingController(qgis_iface, lambda: volunteer)
    wc = controller.checkout_active_layer(collection="sites", scope="all", interactive=False)
    assert wc is not None
    layer = wc.layer("polygons")
    assert layer.isEditable()
    feature = next(layer.getFeatures())
    fid, original = feature.id(), feature.geometry().asWkt()

    # Move a geometry: undone.
    moved = QgsGeometry(feature.geometry())
    moved.translate(0.001, 0.0)
    assert layer.changeGeometry(fid, moved)
    wait()
    assert layer.getFeature(fid).geometry().asWkt() == original
    assert not layer.editBuffer().changedGeometries()
    # The way a map tool does it (one edit command around the change): undone as a whole.
    layer.beginEditCommand("Move feature")
    layer.changeGeometry(fid, moved)
    wait()  # the command is still open: nothing happens yet
    layer.endEditCommand()
    wait()
    assert layer.getFeature(fid).geometry().asWkt() == original
    # Add a feature: gone.
    new = QgsFeature(layer.fields())
    new.setGeometry(QgsGeometry.fromWkt("MULTIPOLYGON(((9.1 45.4, 9.101 45.4, 9.101 45.401,"
                                        " 9.1 45.401, 9.1 45.4)))"))
    new["name"] = "Sito del volontario"
    assert layer.addFeature(new)
    wait()
    assert not layer.editBuffer().addedFeatures()
    # Delete a feature: back.
    assert layer.deleteFeature(fid)
    wait()
    assert not layer.editBuffer().deletedFeatureIds()
    assert layer.getFeature(fid).isValid()
    assert dock.guard.refused >= 4
    warnings = qgis_iface.messageBar().get_messages(1)  # Qgis.Warning
    assert any("geometr" in m.lower() for m in warnings)
    # Attribute edits are left to the server, which refuses a volunteer's changeset (403):
    name_idx = layer.fields().indexFromName("name")
    assert layer.changeAttributeValue(fid, name_idx, "Nome proposto dal volontario")
    wait()
    assert layer.editBuffer().changedAttributeValues()
    results = controller.synchronise(layer, comment="volontario", interactive=False)
    assert [r.status for r in results] == ["forbidden"]
    # ... and keeps the local edit.
    assert [c.action for c in wc.local_changes()] == ["patch"]
    assert wc.local_changes()[0].properties == {"name": "Nome proposto dal volontario"}
    server_id = wc.local_changes()[0].server_id
    assert server.sql("SELECT name FROM rigenera.sites WHERE id = %s",
                      int(server_id))[0][0] != "Nome proposto dal volontario"
    controller.unload()

    # The guard follows the role: a technician's geometry edit stays.
    dock.guard.set_role("")
    tech_dock = dock_for(technician)
    assert tech_dock.guard.refresh_role() == "technician"
    layer.rollBack()
    layer.startEditing()
    assert layer.changeGeometry(fid, moved)
    wait()
    assert layer.editBuffer().changedGeometries()
    layer.rollBack()


def test_server_refuses_volunteer_geometry(server: RigeneraServer, volunteer: Any) -> None:
    from rigenera_qgis.core.client import ApiError

    (sid, version, geom) = server.sql(
        "SELECT id, version, ST_AsText(geom) FROM rigenera.sites WHERE ST_Dimension(geom) = 2"
        " ORDER BY id LIMIT 1")[0]
    with pytest.raises(ApiError) as refused:
        volunteer.client().changeset([{
            "action": "patch", "collection": "sites", "id": str(sid), "base_version": version,
            "feature": {"type": "Feature", "properties": {},
                        "geometry": square(9.15, 45.45, 0.001)}}], "volontario")
    assert refused.value.status == 403
    assert server.sql("SELECT version, ST_AsText(geom) FROM rigenera.sites WHERE id = %s",
                      sid)[0] == (version, geom)
