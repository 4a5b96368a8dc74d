"""Working copies and synchronisation against the real server (core only, no GUI).

Edits are made the way QGIS's own tools make them: through the layer's edit
buffer, then committed to the GeoPackage; the server is then asked directly
(SQL) whether exactly those changes arrived, with their history.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest

from conftest import MILANO, SESTO, RigeneraServer


def _client(server: RigeneraServer, auth_for: Callable[..., str], user: str = "tecnico") -> Any:
    from rigenera_qgis.core.client import RigeneraClient

    return RigeneraClient(server.url, auth_for(user))


def _checkout(server: RigeneraServer, auth_for: Callable[..., str], tmp_path: Path,
              name: str, user: str = "tecnico") -> Any:
    from rigenera_qgis.core.workingcopy import WorkingCopy

    return WorkingCopy.checkout(_client(server, auth_for, user), "sites", tmp_path / f"{name}.gpkg",
                                istat_codes=[MILANO])


def _feature(wc: Any, server_id: str) -> Any:
    part, fid = wc.rows_of(server_id)[0]
    return wc.layer(part), next(wc.layer(part).getFeatures([fid]))


def _edit(layer: Any, fid: int, **values: Any) -> None:
    assert layer.startEditing()
    for name, value in values.items():
        assert layer.changeAttributeValue(fid, layer.fields().indexFromName(name), value)
    assert layer.commitChanges(), layer.commitErrors()


@pytest.fixture(scope="module")
def own_sites(server: RigeneraServer) -> List[str]:
    """Polygon sites of this module's own in Milano (no project attached): each test
    claims some, so no test depends on another's edits or on the demo data's size."""
    rows = server.sql(
        """INSERT INTO rigenera.sites (name, istat_code, state, ownership, former_use, condition,
                                       source, source_id, geom)
           SELECT 'Area di prova ' || n, %s, 'abandoned', 'public', 'industrial', 'good',
                  'test-plugin-sync', 'ps' || n,
                  ST_SetSRID(ST_MakeEnvelope(9.20 + n %% 30 * 0.001, 45.480 + n / 30 * 0.002,
                                             9.2006 + n %% 30 * 0.001, 45.4804 + n / 30 * 0.002),
                             4326)
             FROM generate_series(1, 60) AS n RETURNING id::text""", MILANO)
    return [r[0] for r in rows]


@pytest.fixture()
def claim(server: RigeneraServer, own_sites: List[str]) -> Callable[[int], List[str]]:
    """Sites no other test of this module has touched."""
    def take(n: int) -> List[str]:
        ids, rest = own_sites[:n], own_sites[n:]
        assert len(ids) == n, "raise the number of own_sites"
        own_sites[:] = rest
        return ids

    return take


def test_checkout_matches_server(server: RigeneraServer, auth_for: Callable[..., str],
                                 tmp_path: Path) -> None:
    wc = _checkout(server, auth_for, tmp_path, "a")
    local = {}
    for layer in wc.layers():
        assert layer.isValid()
        for f in layer.getFeatures():
            local[f["rg_id"]] = f["rg_version"]
    rows = server.sql("SELECT id::text, version FROM rigenera.sites WHERE istat_code = %s", MILANO)
    assert local == dict(rows)
    assert wc.local_changes() == []
    # Mixed geometries: one layer per family, each with the right type.
    assert {p.name for p in wc.parts} >= {"points", "polygons"}
    # The server's model reaches the form: aliases and value maps.
    layer = wc.layer("polygons")
    idx = layer.fields().indexFromName("state")
    assert layer.attributeAlias(idx) == "Stato d'uso"
    assert layer.editorWidgetSetup(idx).type() == "ValueMap"
    assert layer.editFormConfig().readOnly(layer.fields().indexFromName("rg_version"))


def test_edit_create_delete_sync_exactly(server: RigeneraServer, auth_for: Callable[..., str],
                                         tmp_path: Path, claim: Callable[..., List[str]]) -> None:
    from qgis.core import QgsFeature, QgsGeometry

    from rigenera_qgis.core.sync import synchronise
    from rigenera_qgis.core.workingcopy import WorkingCopy

    changed, reshaped, deleted = claim(3)
    wc = _checkout(server, auth_for, tmp_path, "b")
    before = server.sql("SELECT id::text, version, name, ST_AsText(geom) FROM rigenera.sites")
    before = {r[0]: r[1:] for r in before}
    history_before = server.sql("SELECT count(*) FROM rigenera.history")[0][0]

    layer, f = _feature(wc, changed)
    _edit(layer, f.id(), name="Ex area modificata dal plugin")
    layer, f = _feature(wc, reshaped)
    geom = QgsGeometry(f.geometry())
    geom.translate(0.0002, 0.0001)
    assert layer.startEditing() and layer.changeGeometry(f.id(), geom) and layer.commitChanges()
    template = f
    layer, f = _feature(wc, deleted)
    assert layer.startEditing() and layer.deleteFeature(f.id()) and layer.commitChanges()
    new = QgsFeature(layer.fields())
    for i, field in enumerate(layer.fields()):
        if field.name() not in ("fid", "rg_id", "rg_version"):
            new.setAttribute(i, template.attribute(i))
    new.setAttribute("name", "Nuova area dal plugin")
    new.setAttribute("source_id", None)  # unique per source: a copy must not repeat it
    square = QgsGeometry.fromWkt("MULTIPOLYGON(((9.1900 45.4700, 9.1910 45.4700, 9.1910 45.4707, "
                                 "9.1900 45.4707, 9.1900 45.4700)))")
    new.setGeometry(square)
    assert layer.startEditing() and layer.addFeature(new) and layer.commitChanges()

    # The working copy survives QGIS: a new object on the same file sees the same changes.
    wc = WorkingCopy.open(wc.path)
    actions = sorted(c.action for c in wc.local_changes())
    assert actions == ["create", "delete", "patch", "patch"]
    progress: List[int] = []
    result = synchronise(wc, _client(server, auth_for), "prova plugin", lambda p, t: progress.append(p))
    assert result.status == "ok", (result.message, result.problems)
    assert len(result.applied) == 4 and progress[-1] == 100
    after = {r[0]: r[1:] for r in
             server.sql("SELECT id::text, version, name, ST_AsText(geom) FROM rigenera.sites")}
    assert after[changed][1] == "Ex area modificata dal plugin"
    assert after[changed][0] == before[changed][0] + 1
    assert after[reshaped][2] != before[reshaped][2] and after[reshaped][1] == before[reshaped][1]
    assert deleted not in after
    created = [k for k in after if k not in before]
    assert len(created) == 1 and after[created[0]][1] == "Nuova area dal plugin"
    untouched = set(before) - {changed, reshaped, deleted}
    assert all(after[k] == before[k] for k in untouched)
    # One changeset, one history row per change, with the comment.
    rows = server.sql("SELECT feature_id, operation, changeset::text, comment FROM rigenera.history"
                      " WHERE id > (SELECT max(id) FROM rigenera.history) - 4 ORDER BY id")
    assert server.sql("SELECT count(*) FROM rigenera.history")[0][0] == history_before + 4
    assert {(r[0], r[1]) for r in rows} == {(changed, "update"), (reshaped, "update"),
                                            (deleted, "delete"), (created[0], "create")}
    assert len({r[2] for r in rows}) == 1 and {r[3] for r in rows} == {"prova plugin"}
    # Local rows now carry the server's ids and versions; nothing is left to send.
    assert wc.local_changes() == []
    layer, f = _feature(wc, created[0])
    assert f["rg_version"] == after[created[0]][0]
    assert f["istat_code"] == MILANO  # derived by the server, brought back


# name: changed on both sides; owner: only by me; condition: only by them. Whatever the
# choice, owner stays mine and condition theirs; the choice decides the name.
CHOICES: Dict[str, Any] = {
    "mine": ("Nome mio", "Proprietario mio", "poor"),
    "theirs": ("Nome loro", "Proprietario mio", "poor"),
    "merge": ("Nome mio", None, "poor"),
}


@pytest.mark.parametrize("choice", ["mine", "theirs", "merge"])
def test_conflict_resolution(choice: str, server: RigeneraServer, auth_for: Callable[..., str],
                             tmp_path: Path, claim: Callable[..., List[str]]) -> None:
    from rigenera_qgis.core.conflicts import resolve
    from rigenera_qgis.core.sync import synchronise

    (sid,) = claim(1)
    server.sql("UPDATE rigenera.sites SET owner = NULL, condition = 'good' WHERE id = %s", int(sid))
    theirs_wc = _checkout(server, auth_for, tmp_path, "theirs", "tecnico2")
    mine_wc = _checkout(server, auth_for, tmp_path, "mine", "tecnico")
    layer, f = _feature(theirs_wc, sid)
    _edit(layer, f.id(), name="Nome loro", condition="poor")
    assert synchronise(theirs_wc, _client(server, auth_for, "tecnico2")).status == "ok"
    layer, f = _feature(mine_wc, sid)
    _edit(layer, f.id(), name="Nome mio", owner="Proprietario mio")

    client = _client(server, auth_for)
    result = synchronise(mine_wc, client)
    assert result.status == "conflicts", result.message
    (conflict,) = result.conflicts
    assert conflict.server_id == sid
    assert set(conflict.fields) == {"name", "owner", "condition"}
    assert conflict.mine["name"] == "Nome mio" and conflict.theirs["name"] == "Nome loro"
    # Nothing was written by the refused push, nothing local was lost.
    assert server.sql("SELECT name FROM rigenera.sites WHERE id = %s", int(sid))[0][0] == "Nome loro"
    assert [c.server_id for c in mine_wc.local_changes()] == [sid]

    decision: Any = {"mine": "mine", "theirs": "theirs",
                     "merge": {"name": "mine", "owner": "theirs", "condition": "theirs"}}[choice]
    resolve(mine_wc, conflict, decision)
    final = synchronise(mine_wc, client)
    assert final.status in {"ok", "nothing"}, (final.message, final.problems)
    name, owner, condition = server.sql(
        "SELECT name, owner, condition FROM rigenera.sites WHERE id = %s", int(sid))[0]
    assert (name, owner, condition) == CHOICES[choice]
    assert conflict.both == ["name"]
    assert (conflict.automatic("owner"), conflict.automatic("condition")) == ("mine", "theirs")
    assert mine_wc.local_changes() == []
    layer, f = _feature(mine_wc, sid)
    assert (f["name"], f["owner"], f["condition"]) == (name, owner, condition)
    # Every version stays in history: nothing is lost even when overwritten.
    names = [r[0] for r in server.sql(
        "SELECT after->>'name' FROM rigenera.history WHERE collection = 'sites' AND feature_id = %s"
        " ORDER BY id", sid)]
    assert "Nome loro" in names
    assert names[-1] == name


def _two_editors(server: RigeneraServer, auth_for: Callable[..., str], tmp_path: Path,
                 sid: str, theirs_edit: Callable[[Any, Any], None],
                 mine_edit: Callable[[Any, Any], None]) -> Any:
    """A (tecnico2) edits and synchronises; B (tecnico, the working copy returned, checked out
    before A's edit) edits the same site and synchronises: a conflict."""
    from rigenera_qgis.core.sync import synchronise

    theirs_wc = _checkout(server, auth_for, tmp_path, f"a{sid}", "tecnico2")
    mine_wc = _checkout(server, auth_for, tmp_path, f"b{sid}", "tecnico")
    theirs_edit(*_feature(theirs_wc, sid))  # in A's working copy, or straight to the server
    assert synchronise(theirs_wc, _client(server, auth_for, "tecnico2")).status in {"ok",
                                                                                   "nothing"}
    mine_edit(*_feature(mine_wc, sid))
    result = synchronise(mine_wc, _client(server, auth_for))
    assert result.status == "conflicts", result.message
    return mine_wc, result.conflicts


def _moved(layer: Any, f: Any, dx: float) -> str:
    from qgis.core import QgsGeometry

    geom = QgsGeometry(f.geometry())
    geom.translate(dx, 0.0)
    assert layer.startEditing() and layer.changeGeometry(f.id(), geom) and layer.commitChanges()
    return geom.asWkt()


@pytest.mark.parametrize("choice", ["mine", "theirs"])
def test_resolving_never_puts_back_what_the_other_changed(
        choice: str, server: RigeneraServer, auth_for: Callable[..., str], tmp_path: Path,
        claim: Callable[..., List[str]]) -> None:
    """A changes the name, B the state: whatever B chooses, the server ends with A's name
    and B's state, and B's write touches only the state (history, in SQL)."""
    from rigenera_qgis.core.conflicts import resolve
    from rigenera_qgis.core.sync import synchronise

    (sid,) = claim(1)
    ((state,),) = server.sql("SELECT state FROM rigenera.sites WHERE id = %s", int(sid))
    new_state = "regenerated" if state != "regenerated" else "underused"
    wc, (conflict,) = _two_editors(
        server, auth_for, tmp_path, sid,
        lambda layer, f: _edit(layer, f.id(), name="Nome di A"),
        lambda layer, f: _edit(layer, f.id(), state=new_state))
    assert set(conflict.fields) == {"name", "state"}
    resolve(wc, conflict, choice)
    assert synchronise(wc, _client(server, auth_for)).status == "ok"
    assert server.sql("SELECT name, state FROM rigenera.sites WHERE id = %s", int(sid)) == \
        [("Nome di A", new_state)]
    (before, after), = server.sql(
        "SELECT before, after FROM rigenera.history WHERE collection = 'sites'"
        " AND feature_id = %s ORDER BY id DESC LIMIT 1", sid)
    assert {k for k in after if after[k] != before.get(k)} <= {"state", "version", "updated_at",
                                                               "updated_by"}
    assert wc.local_changes() == []


@pytest.mark.parametrize("who", ["mine", "theirs"])
@pytest.mark.parametrize("choice", ["mine", "theirs"])
def test_geometry_changed_by_one_side_only_is_kept(
        who: str, choice: str, server: RigeneraServer, auth_for: Callable[..., str],
        tmp_path: Path, claim: Callable[..., List[str]]) -> None:
    from qgis.core import QgsGeometry

    from rigenera_qgis.core.conflicts import resolve
    from rigenera_qgis.core.sync import synchronise

    (sid,) = claim(1)
    moved: List[str] = []

    def move(layer: Any, f: Any) -> None:
        moved.append(_moved(layer, f, 0.0003))

    def rename(layer: Any, f: Any) -> None:
        _edit(layer, f.id(), name=f"Rinominata ({who})")

    wc, (conflict,) = _two_editors(server, auth_for, tmp_path, sid,
                                   move if who == "theirs" else rename,
                                   move if who == "mine" else rename)
    assert "geometry" in conflict.fields
    resolve(wc, conflict, choice)
    assert synchronise(wc, _client(server, auth_for)).status == "ok"
    (wkt, name), = server.sql("SELECT ST_AsText(geom), name FROM rigenera.sites WHERE id = %s",
                              int(sid))
    assert name == f"Rinominata ({who})"
    assert QgsGeometry.fromWkt(wkt).symDifference(QgsGeometry.fromWkt(moved[0])).area() < 1e-12


@pytest.mark.parametrize("choice", ["mine", "theirs", "merge"])
def test_fields_changed_on_both_sides_follow_the_choice(
        choice: str, server: RigeneraServer, auth_for: Callable[..., str], tmp_path: Path,
        claim: Callable[..., List[str]]) -> None:
    """Both change the condition and move the geometry; A also changes the name, B the owner."""
    from qgis.core import QgsGeometry

    from rigenera_qgis.core.conflicts import resolve
    from rigenera_qgis.core.sync import synchronise

    (sid,) = claim(1)
    server.sql("UPDATE rigenera.sites SET condition = 'good', owner = NULL WHERE id = %s", int(sid))
    wkts: Dict[str, str] = {}

    def theirs(layer: Any, f: Any) -> None:
        _edit(layer, f.id(), condition="poor", name="Nome di A")
        wkts["theirs"] = _moved(layer, f, 0.0004)

    def mine(layer: Any, f: Any) -> None:
        _edit(layer, f.id(), condition="derelict", owner="Proprietario di B")
        wkts["mine"] = _moved(layer, f, -0.0004)

    wc, (conflict,) = _two_editors(server, auth_for, tmp_path, sid, theirs, mine)
    decision: Any = {"mine": "mine", "theirs": "theirs",
                     "merge": {"condition": "theirs", "geometry": "mine"}}[choice]
    resolve(wc, conflict, decision)
    assert synchronise(wc, _client(server, auth_for)).status == "ok"
    (condition, name, owner, wkt), = server.sql(
        "SELECT condition, name, owner, ST_AsText(geom) FROM rigenera.sites WHERE id = %s",
        int(sid))
    assert (name, owner) == ("Nome di A", "Proprietario di B")  # one side each: both kept
    expected_condition = {"mine": "derelict", "theirs": "poor", "merge": "poor"}[choice]
    expected_geometry = wkts["theirs" if choice == "theirs" else "mine"]
    assert condition == expected_condition
    assert QgsGeometry.fromWkt(wkt).symDifference(
        QgsGeometry.fromWkt(expected_geometry)).area() < 1e-12
    assert sorted(conflict.both) == ["condition", "geometry"]


def test_their_new_kind_of_geometry_moves_my_row(server: RigeneraServer,
                                                auth_for: Callable[..., str], tmp_path: Path,
                                                claim: Callable[..., List[str]]) -> None:
    """A turns a polygon site into a point (its perimeter was wrong); B renamed it. Merged,
    B's row moves to the points layer of the working copy, with B's name."""
    from rigenera_qgis.core.conflicts import resolve
    from rigenera_qgis.core.sync import synchronise

    (sid,) = claim(1)

    def to_point(layer: Any, f: Any) -> None:  # through the API: a working copy layer
        centre = f.geometry().centroid().asPoint()  # holds one geometry type
        ((version,),) = server.sql("SELECT version FROM rigenera.sites WHERE id = %s", int(sid))
        _client(server, auth_for, "tecnico2").changeset([{
            "action": "patch", "collection": "sites", "id": sid, "base_version": version,
            "feature": {"type": "Feature", "properties": {}, "geometry": {
                "type": "Point", "coordinates": [centre.x(), centre.y()]}}}], "a punto")

    wc, (conflict,) = _two_editors(server, auth_for, tmp_path, sid, to_point,
                                   lambda layer, f: _edit(layer, f.id(), name="Nome di B"))
    resolve(wc, conflict, "mine")
    assert [part for part, _ in wc.rows_of(sid)] == ["points"]
    assert synchronise(wc, _client(server, auth_for)).status == "ok"
    assert server.sql("SELECT name, GeometryType(geom) FROM rigenera.sites WHERE id = %s",
                      int(sid)) == [("Nome di B", "POINT")]
    assert wc.local_changes() == []


def test_accepting_a_deletion_keeps_my_copy(server: RigeneraServer, auth_for: Callable[..., str],
                                            tmp_path: Path, claim: Callable[..., List[str]]) -> None:
    """A deletes a site; B had changed it and pasted a copy of it (same rg_id): accepting the
    deletion drops B's version of the site, never B's copy, which is then created."""
    from qgis.core import QgsFeature

    from rigenera_qgis.core.conflicts import resolve
    from rigenera_qgis.core.sync import synchronise

    (sid,) = claim(1)

    def delete(layer: Any, f: Any) -> None:
        assert layer.startEditing() and layer.deleteFeature(f.id()) and layer.commitChanges()

    def change_and_copy(layer: Any, f: Any) -> None:
        _edit(layer, f.id(), name="Modificata da B")
        copy = QgsFeature(f)  # as QGIS's copy and paste: every attribute, rg_id included
        copy.setAttribute("fid", None)
        copy.setAttribute("name", "Copia di B")
        assert layer.startEditing() and layer.addFeature(copy) and layer.commitChanges()

    wc, (conflict,) = _two_editors(server, auth_for, tmp_path, sid, delete, change_and_copy)
    assert conflict.theirs is None
    resolve(wc, conflict, "theirs")
    assert [c.action for c in wc.local_changes()] == ["create"]
    assert synchronise(wc, _client(server, auth_for)).status == "ok"
    assert server.sql("SELECT count(*) FROM rigenera.sites WHERE id = %s", int(sid)) == [(0,)]
    assert server.sql("SELECT count(*) FROM rigenera.sites WHERE name = 'Copia di B'") == [(1,)]


def test_offline_edits_wait_for_the_server(server: RigeneraServer, auth_for: Callable[..., str],
                                           tmp_path: Path, claim: Callable[..., List[str]]) -> None:
    from rigenera_qgis.core.sync import synchronise

    (sid,) = claim(1)
    wc = _checkout(server, auth_for, tmp_path, "offline")
    server.stop()
    try:
        layer, f = _feature(wc, sid)
        _edit(layer, f.id(), name="Modificata senza rete")
        result = synchronise(wc, _client(server, auth_for))
        assert result.status == "offline", result.message
        assert [c.server_id for c in wc.local_changes()] == [sid]
    finally:
        server.start()
    result = synchronise(wc, _client(server, auth_for))
    assert result.status == "ok", (result.message, result.problems)
    assert server.sql("SELECT name FROM rigenera.sites WHERE id = %s", int(sid))[0][0] == \
        "Modificata senza rete"


def test_database_away_is_retry_later_and_keeps_edits(
        server: RigeneraServer, auth_for: Callable[..., str], tmp_path: Path,
        claim: Callable[..., List[str]]) -> None:
    """The server answers but its PostgreSQL is away (503, no problems listed): nothing was
    written and no feature is at fault, so the plugin says "try again", keeps the edits,
    and the same synchronisation succeeds once the database is back."""
    from rigenera_qgis.core.sync import synchronise

    (sid,) = claim(1)
    wc = _checkout(server, auth_for, tmp_path, "db-away")
    layer, f = _feature(wc, sid)
    _edit(layer, f.id(), name="Modificata col database fermo")
    server.cli("db", "stop")
    try:
        result = synchronise(wc, _client(server, auth_for))
        assert result.status == "retry", (result.status, result.message)
        assert result.problems == []
        assert [c.server_id for c in wc.local_changes()] == [sid]
    finally:
        server.cli("db", "start")
    result = synchronise(wc, _client(server, auth_for))
    assert result.status == "ok", (result.message, result.problems)
    assert server.sql("SELECT name FROM rigenera.sites WHERE id = %s", int(sid))[0][0] == \
        "Modificata col database fermo"


def test_validation_refusal_keeps_edits_and_marks_field(
        server: RigeneraServer, auth_for: Callable[..., str], tmp_path: Path,
        claim: Callable[..., List[str]]) -> None:
    from rigenera_qgis.core.sync import synchronise

    ok_id, bad_id = claim(2)
    wc = _checkout(server, auth_for, tmp_path, "invalid")
    before = server.sql("SELECT id, version, name, state FROM rigenera.sites ORDER BY id")
    layer, f = _feature(wc, ok_id)
    _edit(layer, f.id(), name="Valida")
    layer, f = _feature(wc, bad_id)
    _edit(layer, f.id(), state="ufo")
    result = synchronise(wc, _client(server, auth_for))
    assert result.status == "invalid", result.message
    assert server.sql("SELECT id, version, name, state FROM rigenera.sites ORDER BY id") == before
    problems = wc.problems()
    assert [(p["fid"], p["field"]) for p in problems] == [(f.id(), "state")]
    assert problems[0]["part"] == wc.part_of_layer(layer)
    assert sorted(c.server_id for c in wc.local_changes()) == sorted([ok_id, bad_id])
    # Fixed locally, the same sync goes through and clears the marks.
    _edit(layer, f.id(), state="abandoned")
    assert synchronise(wc, _client(server, auth_for)).status == "ok"
    assert wc.problems() == []


def test_pull_brings_others_changes(server: RigeneraServer, auth_for: Callable[..., str],
                                    tmp_path: Path, claim: Callable[..., List[str]]) -> None:
    from rigenera_qgis.core.sync import synchronise

    changed, removed = claim(2)
    wc = _checkout(server, auth_for, tmp_path, "pull")
    other = _checkout(server, auth_for, tmp_path, "other", "tecnico2")
    layer, f = _feature(other, changed)
    _edit(layer, f.id(), name="Cambiata da un collega")
    layer, f = _feature(other, removed)
    assert layer.startEditing() and layer.deleteFeature(f.id()) and layer.commitChanges()
    assert synchronise(other, _client(server, auth_for, "tecnico2")).status == "ok"

    result = synchronise(wc, _client(server, auth_for))
    assert result.status == "nothing" and result.pulled == 2, result
    layer, f = _feature(wc, changed)
    assert f["name"] == "Cambiata da un collega"
    assert wc.rows_of(removed) == []
    assert wc.local_changes() == []


def test_split_becomes_patch_and_create(server: RigeneraServer, auth_for: Callable[..., str],
                                        tmp_path: Path, claim: Callable[..., List[str]]) -> None:
    from qgis.core import QgsPointXY

    from rigenera_qgis.core.sync import synchronise

    (sid,) = claim(1)
    wc = _checkout(server, auth_for, tmp_path, "split")
    layer, f = _feature(wc, sid)
    box = f.geometry().boundingBox()
    x = box.center().x()
    layer.startEditing()
    line = [QgsPointXY(x, box.yMinimum() - 0.001), QgsPointXY(x, box.yMaximum() + 0.001)]
    assert layer.splitFeatures(line) == 0
    assert layer.commitChanges(), layer.commitErrors()
    actions = sorted(c.action for c in wc.local_changes())
    assert actions == ["create", "patch"]
    assert synchronise(wc, _client(server, auth_for)).status == "ok"
    (n,) = server.sql("SELECT count(*) FROM rigenera.sites WHERE name = %s", f["name"])[0]
    assert n >= 2


def _feed_top(server: RigeneraServer) -> str:
    """The newest change of sites as the feed's cursor, read from the history table."""
    return str(server.sql("SELECT xid::text || ':' || id FROM rigenera.history"
                          " WHERE collection = 'sites' AND NOT reconstructed"
                          " ORDER BY xid DESC, id DESC LIMIT 1")[0][0])


def test_checkout_and_pull_keep_the_feeds_opaque_cursor(
        server: RigeneraServer, auth_for: Callable[..., str], tmp_path: Path,
        claim: Callable[..., List[str]]) -> None:
    from rigenera_qgis.core.sync import synchronise

    (changed,) = claim(1)
    wc = _checkout(server, auth_for, tmp_path, "cursor")
    assert wc.meta("changes_seq") == _feed_top(server)
    other = _checkout(server, auth_for, tmp_path, "cursor-other", "tecnico2")
    layer, f = _feature(other, changed)
    _edit(layer, f.id(), name="Cambiata per il cursore")
    assert synchronise(other, _client(server, auth_for, "tecnico2")).status == "ok"
    result = synchronise(wc, _client(server, auth_for))
    assert result.status == "nothing" and result.pulled == 1, result
    assert wc.meta("changes_seq") == _feed_top(server)


def test_pull_from_a_working_copy_with_an_integer_cursor(
        server: RigeneraServer, auth_for: Callable[..., str], tmp_path: Path,
        claim: Callable[..., List[str]]) -> None:
    """Working copies checked out before the feed's cursors became strings hold a history
    id: the pull still works (the server reads it as a position before every change since
    migration 0010), brings in what changed, and stores a cursor of the new kind."""
    from rigenera_qgis.core.sync import synchronise

    (changed,) = claim(1)
    wc = _checkout(server, auth_for, tmp_path, "legacy")
    (top,) = server.sql("SELECT max(id) FROM rigenera.history")[0]
    wc.set_meta(changes_seq=str(top))
    server.sql("UPDATE rigenera.sites SET name = 'Cambiata sul server' WHERE id = %s"
               " RETURNING id", int(changed))
    result = synchronise(wc, _client(server, auth_for))
    assert result.status == "nothing" and result.pulled == 1, result
    _, f = _feature(wc, changed)
    assert f["name"] == "Cambiata sul server"
    assert wc.meta("changes_seq") == _feed_top(server)
# A polygon mostly in Sesto San Giovanni with a corner in Milano, built by PostGIS from the
# real boundaries around the midpoint of their shared border (see tests/reach_shapes.py).
MOSTLY_IN_SESTO_SQL = """
WITH m AS (SELECT geom FROM rigenera.comuni WHERE istat_code = %s),
     s AS (SELECT geom FROM rigenera.comuni WHERE istat_code = %s),
     p AS (SELECT ST_LineInterpolatePoint(l, 0.5) AS p FROM (
             SELECT (ST_Dump(ST_LineMerge(ST_CollectionExtract(
                      ST_Intersection(ST_Boundary(m.geom), ST_Boundary(s.geom)), 2)))).geom AS l
               FROM m, s) b ORDER BY ST_Length(l) DESC LIMIT 1),
     g AS (SELECT ST_Multi(ST_ReducePrecision(ST_Union(
                    ST_Intersection(ST_Buffer(p::geography, 300)::geometry, s.geom),
                    ST_Intersection(ST_Buffer(p::geography, 100)::geometry, m.geom)), 1e-7)) AS g
             FROM p, m, s)
SELECT ST_AsText(g), rigenera.comune_of(g) FROM g"""


def test_out_of_reach_edit_is_forbidden_named_on_geometry_and_kept(
        server: RigeneraServer, auth_for: Callable[..., str], tmp_path: Path,
        claim: Callable[..., List[str]]) -> None:
    """Issue 9: moving one's own site so that it lies mostly in another comune (a corner
    left in Milano) is refused by the server; the plugin says "forbidden", names the
    geometry on that feature, and keeps the edit in the working copy."""
    from qgis.core import QgsGeometry

    from rigenera_qgis.core.sync import synchronise

    (sid,) = claim(1)
    wkt, comune = server.sql(MOSTLY_IN_SESTO_SQL, MILANO, SESTO)[0]
    assert comune == SESTO  # a feature Sesto's technician would then have owned
    wc = _checkout(server, auth_for, tmp_path, "reach")
    snapshot = "SELECT id, version, ST_AsText(geom), istat_code FROM rigenera.sites ORDER BY id"
    before = server.sql(snapshot)
    history_before = server.sql("SELECT count(*) FROM rigenera.history")[0][0]
    layer, f = _feature(wc, sid)
    moved = QgsGeometry.fromWkt(wkt)
    assert layer.startEditing() and layer.changeGeometry(f.id(), moved) and layer.commitChanges()

    result = synchronise(wc, _client(server, auth_for))
    assert result.status == "forbidden", (result.status, result.message)
    assert server.sql(snapshot) == before
    assert server.sql("SELECT count(*) FROM rigenera.history")[0][0] == history_before
    problems = {p["field"]: p for p in wc.problems()}
    assert set(problems) == {"geometry", "istat_code"}, problems
    assert problems["geometry"]["fid"] == f.id()
    assert problems["geometry"]["part"] == wc.part_of_layer(layer)
    assert "of the geometry lies outside your comuni" in problems["geometry"]["message"]
    # The edit is still there, waiting: nothing was lost locally.
    assert [(c.server_id, c.action) for c in wc.local_changes()] == [(sid, "patch")]
    layer, f = _feature(wc, sid)
    assert f.geometry().isGeosEqual(moved)
