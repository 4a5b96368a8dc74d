"""core/layers.py: the group of OAPIF layers, styled, counted against the server.

Also documents what QGIS 3.22's OAPIF provider does with a collection that
mixes points and polygons (the reason `sites` is loaded as two layers), and
measures loading the layers and rendering the whole metropolitan area.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from conftest import RigeneraServer

STYLES = Path(__file__).resolve().parents[2] / "styles" / "qml"
# A geometry kind asked of PostGIS directly (not of the published geometry_kind).
KIND_SQL = {"polygon": "ST_Dimension(geom) = 2", "line": "ST_Dimension(geom) = 1",
            "point": "ST_Dimension(geom) = 0", "none": "geom IS NULL"}


def sql_count(server: RigeneraServer, spec: Any) -> int:
    """How many features the layer of ``spec`` must hold, counted by PostGIS."""
    where = KIND_SQL[spec.geometry] if spec.cql else "true"
    return int(server.sql(f"SELECT count(*) FROM rigenera.{spec.collection} WHERE {where}")[0][0])


def present_keys(server: RigeneraServer) -> list[str]:
    """The layers load_layers() adds, in drawing order: a part only when it has features."""
    from rigenera_qgis.core.layers import LAYERS

    return [spec.key for spec in LAYERS if not spec.cql or sql_count(server, spec) > 0]


def number_matched(server: RigeneraServer, collection: str, cql: str | None = None) -> int:
    path = f"/ogc/collections/{collection}/items?limit=1"
    if cql:
        path += "&filter-lang=cql2-text&filter=" + quote(cql)
    return int(server.get_json(path)["numberMatched"])


@pytest.fixture
def connection(server: RigeneraServer, auth_for: Any) -> Any:
    from rigenera_qgis.core.connection import Connection

    return Connection(server.url, auth_for("tecnico"))


@pytest.fixture
def project(qgis_new_project: Any) -> Iterator[Any]:
    from qgis.core import QgsProject

    yield QgsProject.instance()
    QgsProject.instance().clear()


@pytest.fixture
def add_line_project(server: RigeneraServer) -> Iterator[Callable[[], int]]:
    """Adds a project drawn as a line (neither the demo nor the real data have one)."""
    added: list[int] = []

    def add() -> int:
        (fid,) = server.sql(
            "INSERT INTO rigenera.projects (title, source, source_id, geom_source, geom) "
            "VALUES ('Greenway di prova (linea)', 'test-layers', 'l1', 'digitised', "
            "ST_SetSRID(ST_MakeLine(ST_MakePoint(9.2101, 45.4702), ST_MakePoint(9.2201, 45.4752)),"
            " 4326)) RETURNING id")[0]
        added.append(int(fid))
        return int(fid)

    yield add
    for fid in added:
        server.sql("DELETE FROM rigenera.projects WHERE id = %s", fid)


def qml_expectations(path: Path) -> dict[str, Any]:
    root = ET.parse(path).getroot()
    renderer = root.find("renderer-v2")
    assert renderer is not None
    aliases = {a.get("field"): a.get("name") for a in root.iter("alias") if a.get("name")}
    categories = len(renderer.findall("categories/category"))
    return {"type": renderer.get("type"), "aliases": aliases, "categories": categories}


def check_style(layer: Any, key: str, language: str = "it") -> None:
    """The layer carries its QML: renderer, classes, aliases, value maps."""
    from rigenera_qgis.core.layers import BY_KEY, style_path

    path = style_path(key, language)
    assert path is not None, f"no QML for {key}"
    expected = qml_expectations(path)
    renderer = layer.renderer()
    if BY_KEY[key].geometry == "none":  # a table: nothing to draw, the rest of the QML
        assert renderer is None, key
    else:
        assert renderer is not None and renderer.type() == expected["type"], key
    if renderer is not None and expected["type"] == "categorizedSymbol":
        assert len(renderer.categories()) == expected["categories"] > 0
    if renderer is not None and expected["type"] == "RuleRenderer":
        leaves = [r for r in renderer.rootRule().descendants() if not r.children()]
        assert leaves, key
        kinds = {r.filterExpression() for r in renderer.rootRule().children()}
        own = {"point": "Point", "line": "Line", "polygon": "Polygon"}.get(BY_KEY[key].geometry)
        if BY_KEY[key].cql and own:  # a part of a split collection: its own type's rules only
            assert kinds == {f"geometry_type($geometry) = '{own}'"}, kinds
    fields = layer.fields()
    checked = 0
    for name, alias in expected["aliases"].items():
        idx = fields.indexOf(name)
        if idx >= 0:
            assert layer.attributeAlias(idx) == alias, (key, name)
            checked += 1
    assert checked >= 3, f"{key}: aliases not applied"


def test_oapif_uri_is_what_qgis_parses() -> None:
    from qgis.core import QgsDataSourceUri

    from rigenera_qgis.core.layers import oapif_uri

    uri = oapif_uri("http://127.0.0.1:8000/", "sites", authcfg="ab12cd3")
    assert uri == ("url='http://127.0.0.1:8000/ogc' typename='sites' restrictToRequestBBOX='1' "
                   "pageSize='1000' authcfg='ab12cd3'")
    parsed = QgsDataSourceUri(uri)
    assert parsed.param("url") == "http://127.0.0.1:8000/ogc"
    assert parsed.param("typename") == "sites"
    assert parsed.param("restrictToRequestBBOX") == "1"
    assert parsed.param("pageSize") == "1000"
    assert parsed.authConfigId() == "ab12cd3"

    filtered = QgsDataSourceUri(oapif_uri("https://x.example/ogc", "sites",
                                          cql="geometry_kind = 'point'"))
    assert filtered.param("url") == ("https://x.example/ogc?filter=geometry_kind%20%3D%20%27point%27"
                                     "&filter-lang=cql2-text")
    assert filtered.authConfigId() == ""
    quoted = QgsDataSourceUri(oapif_uri("http://h/it's", "sites"))
    assert quoted.param("url") == "http://h/it's/ogc"


def test_every_layer_has_a_style_in_both_languages() -> None:
    from rigenera_qgis.core.layers import LAYERS, STYLE_DIRS, style_path

    for spec in LAYERS:
        it, en = style_path(spec.key, "it"), style_path(spec.key, "en")
        assert it is not None and it.name == f"{spec.collection}.qml", spec.key
        assert en is not None and en.name == f"{spec.collection}.en.qml", spec.key
        assert it.parent in STYLE_DIRS


def test_load_layers(project: Any, connection: Any, server: RigeneraServer) -> None:
    from qgis.core import QgsWkbTypes

    from rigenera_qgis.core.layers import (
        BY_KEY,
        GROUP_NAMES,
        OVERVIEW_SCALE,
        group_layers,
        load_layers,
        overview_layer,
    )

    group = load_layers(connection, project, language="it")

    assert group.name() == GROUP_NAMES["it"] == "Rigenerazione urbana"
    assert project.layerTreeRoot().findGroup("Rigenerazione urbana") is group
    layers = group_layers(group)
    # One layer per geometry kind that has features (no projects are lines: no empty layer).
    keys = present_keys(server)
    assert sorted(layers) == sorted(keys) and "projects_lines" not in keys
    # Drawing order: comuni at the bottom, stops on top.
    tree_order = [node.layer().customProperty("rigenera/layer") for node in group.findLayers()]
    assert tree_order == [*reversed(keys[1:]), "sites_overview", "comuni"]
    # Sites: OAPIF from 1:50,000 inwards, the overview tiles (MapLibre style) outside.
    overview = overview_layer(group)
    assert overview is not None and overview.isValid()
    assert "/ogc/collections/sites/tiles/WebMercatorQuad/" in overview.source()
    assert overview.renderer() is not None and overview.renderer().styles()
    assert overview.hasScaleBasedVisibility() and overview.maximumScale() == OVERVIEW_SCALE
    assert layers["sites_polygons"].hasScaleBasedVisibility()
    assert layers["sites_polygons"].minimumScale() == OVERVIEW_SCALE
    for key, layer in layers.items():
        spec = BY_KEY[key]
        assert layer.isValid(), key
        assert layer.providerType() == "OAPIF"
        assert layer.name() == spec.names["it"]
        assert f"authcfg='{connection.authcfg}'" in layer.source()
        assert "restrictToRequestBBOX='1'" in layer.source()
        check_style(layer, key)
        # Every feature, after a request without a bbox, as the server counts them.
        assert sum(1 for _ in layer.getFeatures()) == number_matched(server, spec.collection,
                                                                       spec.cql), key
    assert layers["transit_stops"].geometryType() == QgsWkbTypes.PointGeometry
    assert layers["sites_polygons"].geometryType() == QgsWkbTypes.PolygonGeometry
    # Italian aliases and value maps from the QML.
    sites = layers["sites_polygons"]
    assert sites.attributeAlias(sites.fields().indexOf("name")) == "Denominazione"
    setup = sites.editorWidgetSetup(sites.fields().indexOf("state"))
    assert setup.type() == "ValueMap"
    assert "Dismessa / abbandonata" in str(setup.config())


def test_load_layers_twice_does_not_duplicate(project: Any, connection: Any) -> None:
    from rigenera_qgis.core.layers import group_layers, load_layers

    first = load_layers(connection, project, language="it")
    ids = {key: layer.id() for key, layer in group_layers(first).items()}
    second = load_layers(connection, project, language="it")

    root = project.layerTreeRoot()
    assert second is first
    assert [g.name() for g in root.findGroups(True)] == ["Rigenerazione urbana"]
    assert len(project.mapLayers()) == len(ids) + 1  # + the sites' overview tiles
    assert {key: layer.id() for key, layer in group_layers(second).items()} == ids

    # Another server address (or credentials) replaces the layers, still one group.
    from rigenera_qgis.core.connection import Connection

    other = Connection(connection.url + "/", "")  # same server, no authcfg
    third = load_layers(other, project, language="en")
    assert third is first and third.name() == "Urban regeneration"
    assert [g.name() for g in root.findGroups(True)] == ["Urban regeneration"]
    layers = group_layers(third)
    assert len(project.mapLayers()) == len(layers) + 1 == len(ids) + 1
    assert all("authcfg" not in layer.source() for layer in layers.values())
    assert layers["comuni"].name() == "Municipalities"
    check_style(layers["sites_polygons"], "sites_polygons", "en")
    sites = layers["sites_polygons"]
    assert sites.attributeAlias(sites.fields().indexOf("name")) == "Name"


def test_a_kind_gets_its_layer_once_it_has_features(project: Any, connection: Any,
                                                  server: RigeneraServer,
                                                  add_line_project: Callable[[], int]) -> None:
    from qgis.core import QgsWkbTypes

    from rigenera_qgis.core.layers import BY_KEY, group_layers, load_layers

    # No line yet: no lines layer (and QGIS's HTTP cache now holds its empty first page).
    assert "projects_lines" not in group_layers(load_layers(connection, project, language="it"))
    line_project = add_line_project()
    # Loading again sees the line, whatever QGIS cached.
    layers = group_layers(load_layers(connection, project, language="it"))
    assert sorted(layers) == sorted(present_keys(server)) and "projects_lines" in layers
    lines = layers["projects_lines"]
    assert lines.name() == "Interventi di rigenerazione (linee)"
    assert lines.geometryType() == QgsWkbTypes.LineGeometry
    check_style(lines, "projects_lines")
    assert [f["id"] for f in lines.getFeatures()] == [line_project]
    # Each part of a split collection holds its own geometry type only, and the parts
    # together hold the whole collection, as the server counts it.
    own = {"polygon": {"Polygon", "MultiPolygon"}, "line": {"LineString", "MultiLineString"},
           "point": {"Point", "MultiPoint"}}
    for collection in ("sites", "projects"):
        parts = [key for key in layers if BY_KEY[key].collection == collection]
        assert len(parts) >= 2, parts
        total = 0
        for key in parts:
            kinds = Counter(QgsWkbTypes.displayString(f.geometry().wkbType())
                            for f in layers[key].getFeatures())
            assert set(kinds) <= own[BY_KEY[key].geometry], (key, kinds)
            assert sum(kinds.values()) == number_matched(server, collection, BY_KEY[key].cql)
            total += sum(kinds.values())
        assert total == number_matched(server, collection)


def test_qgis_oapif_types_a_mixed_collection_by_its_first_features(
        qgis_app: Any, server: RigeneraServer) -> None:
    """Why `sites` is split: one OAPIF layer takes the type of the first ten features.

    With a point first (lowest id), the whole layer is a point layer: the
    polygons are still there but a point layer's symbols cannot draw them.
    """
    from qgis.core import Qgis, QgsNetworkAccessManager, QgsVectorLayer, QgsWkbTypes

    from rigenera_qgis.core.layers import oapif_uri

    cache = QgsNetworkAccessManager.instance().cache()
    if cache is not None:
        cache.clear()  # the provider reads its first page through QGIS's HTTP cache
    server.sql("INSERT INTO rigenera.sites (id, name, istat_code, state, source, source_id, geom)"
               " VALUES (-1, 'Punto primo', '015146', 'abandoned', 'test-layers', 'p0', "
               "ST_SetSRID(ST_MakePoint(9.2102, 45.4703), 4326))")
    try:
        layer = QgsVectorLayer(oapif_uri(server.url, "sites"), "mixed", "OAPIF")
        assert layer.isValid()
        kinds = Counter(QgsWkbTypes.displayString(f.geometry().wkbType())
                        for f in layer.getFeatures())
        message = (f"QGIS {Qgis.QGIS_VERSION}: a mixed collection gives a "
                   f"{QgsWkbTypes.displayString(layer.wkbType())} layer holding {dict(kinds)}")
        print(message)
        assert sum(kinds.values()) == number_matched(server, "sites")
        if Qgis.QGIS_VERSION_INT < 32400:  # the behaviour the split works around
            assert layer.geometryType() == QgsWkbTypes.PointGeometry, message
            assert kinds["Point"] >= 1 and kinds["Polygon"] >= 1, message
    finally:
        server.sql("DELETE FROM rigenera.sites WHERE id = -1")
        if cache is not None:
            cache.clear()


def test_load_and_render_the_metro_area(project: Any, connection: Any,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Time to load the layers and draw all of them over the whole metropolitan area."""
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsMapRendererParallelJob,
        QgsMapSettings,
    )
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    from rigenera_qgis.core.layers import group_layers, load_layers

    start = time.perf_counter()
    group = load_layers(connection, project, language="it")
    load_s = time.perf_counter() - start
    layers = group_layers(group)
    ordered = [node.layer() for node in group.findLayers()]  # top first, as QgsMapSettings wants

    settings = QgsMapSettings()
    settings.setOutputSize(QSize(1600, 1200))
    settings.setBackgroundColor(QColor(255, 255, 255))
    crs = QgsCoordinateReferenceSystem("EPSG:32632")  # UTM 32N, the metric CRS of Milan
    settings.setDestinationCrs(crs)
    settings.setLayers(ordered)
    comuni = layers["comuni"]
    extent = QgsCoordinateTransform(comuni.crs(), crs, project).transformBoundingBox(comuni.extent())
    settings.setExtent(extent)

    start = time.perf_counter()
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    render_s = time.perf_counter() - start
    image = job.renderedImage()
    assert not image.isNull() and image.width() == 1600
    assert not job.errors(), [e.message for e in job.errors()]
    # Something was drawn: not every sampled pixel is the white background.
    white = QColor(255, 255, 255).rgb()
    drawn = sum(1 for x in range(0, 1600, 8) for y in range(0, 1200, 8) if image.pixel(x, y) != white)
    assert drawn > 100

    features = {key: layer.featureCount() for key, layer in layers.items()}
    with capsys.disabled():
        print(f"\n[plugin perf] load {len(layers)} layers: {load_s:.2f} s; render the metro area "
              f"1600x1200 (EPSG:32632): {render_s:.2f} s; total {load_s + render_s:.2f} s; "
              f"features {features} (target with 100k sites: <= 2 s)")
