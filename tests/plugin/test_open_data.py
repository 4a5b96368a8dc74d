"""QGIS sees every feature of the real open data (issue 9, section 6).

The 117 real PNRR projects are points. Loaded as one OAPIF layer, QGIS 3.22
typed the projects layer from its first features (the demo's polygons),
counted the points and drew none of them. The plugin now loads a layer per
geometry kind, filtered on the ``geometry_kind`` queryable of the server, and a
table for projects without geometry. Checked here on the real data of
../shared/data (loaded into the session's server; skipped without it), plus a
line, a geometry-less and a mixed collection project: counts and ids against
PostGIS, and the point projects drawn on a rendered map.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest

from conftest import RigeneraServer

# A geometry kind asked of PostGIS directly (not of the published geometry_kind).
KIND_SQL = {"polygon": "ST_Dimension(geom) = 2", "line": "ST_Dimension(geom) = 1",
            "point": "ST_Dimension(geom) = 0", "none": "geom IS NULL"}
OWN_TYPES = {"polygon": {"Polygon", "MultiPolygon"}, "line": {"LineString", "MultiLineString"},
             "point": {"Point", "MultiPoint"}}
ID_FIELD = {"comuni": "istat_code"}


def sql_count(server: RigeneraServer, spec: Any) -> int:
    where = KIND_SQL[spec.geometry] if spec.cql else "true"
    return int(server.sql(f"SELECT count(*) FROM rigenera.{spec.collection} WHERE {where}")[0][0])


@pytest.fixture(scope="module")
def extra_projects(server: RigeneraServer, shared_data: Path) -> Iterator[List[int]]:
    """What the real data lack: a project drawn as a line, one without geometry (known only
    by its comune) and one whose geometry is a collection (a point and an area)."""
    # One statement, so the projects and their comune commit together: a project needs a
    # geometry or a comune (a deferred constraint, checked at commit).
    rows = server.sql(
        """WITH p AS (
             INSERT INTO rigenera.projects (title, source, source_id, geom_source, geom) VALUES
             ('Greenway (linea)', 'test-open-data', 'x1', 'digitised',
              ST_GeomFromText('LINESTRING(9.2101 45.4702, 9.2201 45.4752)', 4326)),
             ('Progetto senza geometria', 'test-open-data', 'x2', 'unknown', NULL),
             ('Piazza e chiosco (collezione)', 'test-open-data', 'x3', 'digitised',
              ST_GeomFromText('GEOMETRYCOLLECTION(POINT(9.1901 45.4601),
                POLYGON((9.1900 45.4600, 9.1910 45.4600, 9.1910 45.4607, 9.1900 45.4600)))',
                4326))
             RETURNING id),
           c AS (INSERT INTO rigenera.project_comuni SELECT id, '015146' FROM p)
           SELECT id FROM p""")
    ids = [int(r[0]) for r in rows]
    yield ids
    server.sql("DELETE FROM rigenera.projects WHERE id = ANY(%s)", ids)


@pytest.fixture
def project(qgis_new_project: Any) -> Iterator[Any]:
    from qgis.core import QgsProject

    yield QgsProject.instance()
    QgsProject.instance().clear()


@pytest.fixture
def layers(project: Any, server: RigeneraServer, auth_for: Callable[..., str],
           extra_projects: List[int]) -> Dict[str, Any]:
    from rigenera_qgis.core.connection import Connection
    from rigenera_qgis.core.layers import group_layers, load_layers

    return group_layers(load_layers(Connection(server.url, auth_for("tecnico")), project,
                                    language="it"))


def test_each_layer_holds_exactly_its_kind(layers: Dict[str, Any],
                                           server: RigeneraServer) -> None:
    from qgis.core import QgsWkbTypes

    from rigenera_qgis.core.layers import LAYERS

    assert server.sql("SELECT count(*) FROM rigenera.projects WHERE ST_Dimension(geom) = 0")[0][0] \
        >= 117  # the real PNRR projects are there, as points
    for spec in LAYERS:
        expected = sql_count(server, spec)
        if expected == 0:  # no empty layers (QGIS would type them NoGeometry)
            assert spec.key not in layers, spec.key
            continue
        layer = layers[spec.key]
        assert layer.featureCount() == expected, spec.key
        if spec.geometry == "none":
            assert layer.geometryType() == QgsWkbTypes.NullGeometry
            assert not any(f.hasGeometry() for f in layer.getFeatures())
            continue
        kind = {QgsWkbTypes.PointGeometry: "point", QgsWkbTypes.LineGeometry: "line",
                QgsWkbTypes.PolygonGeometry: "polygon"}[layer.geometryType()]
        assert spec.geometry in ("", kind), spec.key
        types = Counter(QgsWkbTypes.displayString(f.geometry().wkbType())
                        for f in layer.getFeatures())
        # A geometry collection is drawn by the layer of its highest dimension.
        assert set(types) - {"GeometryCollection"} <= OWN_TYPES[kind], (spec.key, types)


def test_the_layers_cover_every_feature_of_every_collection(layers: Dict[str, Any],
                                                            server: RigeneraServer) -> None:
    from rigenera_qgis.core.layers import BY_KEY, COLLECTIONS

    for collection in COLLECTIONS:
        idf = ID_FIELD.get(collection, "id")
        seen: Counter[str] = Counter()
        for key, layer in layers.items():
            if BY_KEY[key].collection == collection:
                seen.update(str(f[idf]) for f in layer.getFeatures())
        expected = {str(r[0]) for r in server.sql(f"SELECT {idf} FROM rigenera.{collection}")}
        assert set(seen) == expected, collection
        assert max(seen.values()) == 1, collection  # and each in one layer only


def _render(layer: Any, extent: Any, size: int = 1000) -> Any:
    """The layer alone on a white map of ``extent`` (its CRS): the settings and the image."""
    from qgis.core import QgsMapRendererParallelJob, QgsMapSettings
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    settings = QgsMapSettings()
    settings.setOutputSize(QSize(size, size))
    settings.setBackgroundColor(QColor(255, 255, 255))
    settings.setDestinationCrs(layer.crs())
    settings.setLayers([layer])
    settings.setExtent(extent)
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    assert not job.errors(), [e.message for e in job.errors()]
    return settings, job.renderedImage()


def _around(settings: Any, image: Any, points: Any, radius: int = 2) -> List[List[int]]:
    """The pixels of the image around each point of ``points`` (a layer): every point of a
    MultiPoint (a project of several comuni is drawn at each comune's point)."""
    out = []
    for f in points.getFeatures():
        geom = f.geometry()
        for p in (geom.asMultiPoint() if geom.isMultipart() else [geom.asPoint()]):
            pt = settings.mapToPixel().transform(p)
            x, y = round(pt.x()), round(pt.y())
            out.append([image.pixel(i, j)
                        for i in range(max(0, x - radius), min(image.width(), x + radius + 1))
                        for j in range(max(0, y - radius), min(image.height(), y + radius + 1))])
    return out


def test_point_projects_are_drawn(layers: Dict[str, Any], server: RigeneraServer) -> None:
    from qgis.core import QgsVectorLayer, QgsWkbTypes
    from qgis.PyQt.QtGui import QColor

    from rigenera_qgis.core.layers import apply_style, oapif_uri

    points = layers["projects_points"]
    extent = points.extent()
    extent.scale(1.1)
    settings, image = _render(points, extent)
    white = QColor(255, 255, 255).rgb()
    drawn = [any(p != white for p in pixels) for pixels in _around(settings, image, points)]
    assert len(drawn) >= 117 and all(drawn)  # every point project shows where it is
    # What the plugin loaded before: one projects layer, typed from its first features.
    whole = QgsVectorLayer(oapif_uri(server.url, "projects"), "projects", "OAPIF")
    assert whole.isValid() and apply_style(whole, "projects")
    if whole.geometryType() == QgsWkbTypes.PolygonGeometry:  # the demo's polygons come first
        # It draws exactly what the polygons alone draw: not one point.
        settings, image = _render(whole, extent)
        _, polygons_only = _render(layers["projects_polygons"], extent)
        assert _around(settings, image, points) == _around(settings, polygons_only, points)


def test_working_copy_holds_every_project(server: RigeneraServer, auth_for: Callable[..., str],
                                          tmp_path: Path, extra_projects: List[int]) -> None:
    from rigenera_qgis.core.client import RigeneraClient
    from rigenera_qgis.core.sync import synchronise
    from rigenera_qgis.core.workingcopy import WorkingCopy

    client = RigeneraClient(server.url, auth_for("coord"))
    wc = WorkingCopy.checkout(client, "projects", tmp_path / "projects.gpkg")
    by_part = {p.name: {str(f["rg_id"]) for f in wc.layer(p.name).getFeatures()} for p in wc.parts}
    # One layer per family; a table for no geometry (and for collections, which it keeps
    # on the server: a table row never sends a geometry).
    where = {"points": "GeometryType(geom) IN ('POINT', 'MULTIPOINT')",
             "lines": "GeometryType(geom) IN ('LINESTRING', 'MULTILINESTRING')",
             "polygons": "GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON')",
             "table": "geom IS NULL OR GeometryType(geom) = 'GEOMETRYCOLLECTION'"}
    for part, ids in by_part.items():
        expected = {str(r[0]) for r in server.sql(
            f"SELECT id FROM rigenera.projects WHERE {where[part]}")}
        assert ids == expected, part
    assert len(by_part["points"]) >= 117
    assert wc.local_changes() == []
    # A point project is edited there like any other: only the field changed goes out.
    layer = wc.layer("points")
    feature = next(layer.getFeatures())
    sid = str(feature["rg_id"])
    before = server.sql("SELECT to_jsonb(p) - 'title' - 'version' - 'updated_at' - 'updated_by'"
                        " FROM rigenera.projects p WHERE id = %s", int(sid))
    assert layer.startEditing()
    assert layer.changeAttributeValue(feature.id(), layer.fields().indexFromName("title"),
                                      "Titolo corretto in QGIS")
    assert layer.commitChanges(), layer.commitErrors()
    assert synchronise(wc, client).status == "ok"
    assert server.sql("SELECT title FROM rigenera.projects WHERE id = %s", int(sid)) == \
        [("Titolo corretto in QGIS",)]
    assert server.sql("SELECT to_jsonb(p) - 'title' - 'version' - 'updated_at' - 'updated_by'"
                      " FROM rigenera.projects p WHERE id = %s", int(sid)) == before
