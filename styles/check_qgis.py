"""Load every generated QML (and SLD) into QGIS and check what QGIS made of it.

Run with the system Python that has PyQGIS (QGIS 3.22), not the server venv:

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 styles/check_qgis.py [--png DIR]

For each style file: a layer with the published fields (plus a leading ``rg_id``
as in the plugin's working copies, so aliases must match by name, not position)
and one feature per class and geometry kind; ``loadNamedStyle`` must succeed and
QGIS must report the renderer, aliases, value maps, read-only fields, defaults,
constraints, labels and display expression the file declares, and give every
feature a symbol of its geometry's type. Expectations are read from the file
itself with ElementTree: the check is that QGIS accepted every part of it.
Exit status 1 on any failure. ``--png DIR`` also renders each layer to a PNG.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsExpressionContextUtils,
    QgsFeature,
    QgsField,
    QgsFieldConstraints,
    QgsGeometry,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsRectangle,
    QgsRenderContext,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QSize, QVariant
from qgis.PyQt.QtGui import QColor

HERE = Path(__file__).resolve().parent
GEOMETRY_TYPES = {"0": "Point", "1": "MultiLineString", "2": "MultiPolygon"}
SYMBOL_TYPE = {QgsWkbTypes.PointGeometry: "marker", QgsWkbTypes.LineGeometry: "line",
               QgsWkbTypes.PolygonGeometry: "fill"}
QGIS_KIND = {"Point": "point", "Line": "line", "Polygon": "polygon"}
SAMPLE = {  # one geometry of each kind, laid out along x by class
    "point": "POINT({x} 45.465)",
    "line": "MULTILINESTRING(({x} 45.46, {x2} 45.47))",
    "polygon": "MULTIPOLYGON((({x} 45.45, {x2} 45.45, {x2} 45.458, {x} 45.458, {x} 45.45)))",
}


def field_type(name: str) -> QVariant.Type:
    if name in ("id", "version", "population", "housing_units_fragile"):
        return QVariant.LongLong
    if name.endswith(("_m2", "_eur")) or name == "length_m":
        return QVariant.Double
    if name in ("start_date", "end_date"):
        return QVariant.Date
    if name == "updated_at":
        return QVariant.DateTime
    return QVariant.String


def classes(root: ET.Element) -> tuple[str | None, list[tuple[str, str | None]]]:
    """(classifying field, [(geometry kind, code)]) declared by the renderer."""
    renderer = root.find("renderer-v2")
    assert renderer is not None
    kind = GEOMETRY_TYPES.get(root.findtext("layerGeometryType") or "", "")
    single = {"Point": "point", "MultiLineString": "line", "MultiPolygon": "polygon"}.get(kind)
    if renderer.get("type") == "categorizedSymbol":
        return renderer.get("attr"), [(single or "", c.get("value")) for c in renderer.iter("category")]
    if renderer.get("type") == "singleSymbol":
        return None, [(single or "", None)]
    out: list[tuple[str, str | None]] = []
    field = None
    for group in renderer.findall("rules/rule"):
        k = QGIS_KIND[group.get("filter", "").split("'")[1]]
        children = list(group)
        if not children:
            out.append((k, None))
        for child in children:
            field = child.get("filter", "").split('"')[1]
            out.append((k, child.get("filter", "").split("'")[1]))
    return field, out


def make_layer(path: Path, root: ET.Element, tmp: Path) -> QgsVectorLayer:
    names = [a.get("field") for a in root.iter("alias")]
    field, wanted = classes(root)
    kinds = sorted({k for k, _ in wanted})
    features = []
    for i, (kind, code) in enumerate(wanted):
        x = 9.10 + 0.012 * i
        features.append((SAMPLE[kind].format(x=round(x, 4), x2=round(x + 0.008, 4)), code))
    label_field = next((s.get("fieldName") for s in root.iter("text-style")), None)
    if len(kinds) > 1:  # a mixed layer, as OGR opens a GeoPackage of mixed geometries
        collection = {"type": "FeatureCollection", "features": []}
        for i, (wkt, code) in enumerate(features):
            props = {n: None for n in names}
            props["rg_id"] = i
            if field:
                props[field] = code
            if label_field:
                props[label_field] = f"Etichetta {i}"
            collection["features"].append({"type": "Feature", "properties": props,
                                           "geometry": json.loads(QgsGeometry.fromWkt(wkt).asJson())})
        geojson = tmp / f"{path.stem}.geojson"
        geojson.write_text(json.dumps(collection))
        layer = QgsVectorLayer(str(geojson), path.stem, "ogr")
    else:
        geometry = {"point": "Point", "line": "MultiLineString", "polygon": "MultiPolygon"}[kinds[0]]
        layer = QgsVectorLayer(f"{geometry}?crs=EPSG:4326", path.stem, "memory")
        provider = layer.dataProvider()
        provider.addAttributes([QgsField("rg_id", QVariant.LongLong)]
                               + [QgsField(n, field_type(n)) for n in names])
        layer.updateFields()
        feats = []
        for i, (wkt, code) in enumerate(features):
            f = QgsFeature(layer.fields())
            f.setGeometry(QgsGeometry.fromWkt(wkt))
            f["rg_id"] = i
            if field:
                f[field] = code
            if label_field:
                f[label_field] = f"Etichetta {i}"
            feats.append(f)
        provider.addFeatures(feats)
        layer.updateExtents()
    assert layer.isValid(), f"{path.name}: test layer invalid"
    return layer


def check_qml(path: Path, tmp: Path, png_dir: Path | None) -> list[str]:
    problems: list[str] = []
    root = ET.parse(path).getroot()  # noqa: S314 (our own generated file)
    layer = make_layer(path, root, tmp)
    msg, ok = layer.loadNamedStyle(str(path))
    if not ok:
        return [f"loadNamedStyle failed: {msg}"]
    fields = layer.fields()
    renderer = layer.renderer()
    want = root.find("renderer-v2").get("type")  # type: ignore[union-attr]
    if renderer.type() != want:
        problems.append(f"renderer {renderer.type()} != {want}")
    for alias in root.iter("alias"):
        got = layer.attributeAlias(fields.indexOf(alias.get("field")))
        if got != alias.get("name"):
            problems.append(f"alias of {alias.get('field')}: {got!r} != {alias.get('name')!r}")
    for fld in root.findall("fieldConfiguration/field"):
        setup = layer.editorWidgetSetup(fields.indexOf(fld.get("name")))
        wanted = [(o.get("name"), o.get("value")) for o in fld.iter("Option") if o.get("value") is not None]
        got = [next(iter(m.items())) for m in setup.config().get("map", [])]
        if setup.type() != "ValueMap" or got != wanted:
            problems.append(f"value map of {fld.get('name')}: {setup.type()} {got}")
    form = layer.editFormConfig()
    for fld in root.findall("editable/field"):
        idx = fields.indexOf(fld.get("name"))
        if form.readOnly(idx) != (fld.get("editable") == "0"):
            problems.append(f"read-only of {fld.get('name')}: {form.readOnly(idx)}")
    for default in root.iter("default"):
        got = layer.defaultValueDefinition(fields.indexOf(default.get("field"))).expression()
        if got != default.get("expression"):
            problems.append(f"default of {default.get('field')}: {got!r}")
    for c in root.findall("constraints/constraint"):
        cons = fields.field(c.get("field")).constraints()
        if int(cons.constraints()) & int(c.get("constraints")) != int(c.get("constraints")):
            problems.append(f"constraints of {c.get('field')}: {int(cons.constraints())}")
        hard = QgsFieldConstraints.ConstraintStrengthHard
        if int(c.get("constraints")) & 1 and \
                cons.constraintStrength(QgsFieldConstraints.ConstraintNotNull) != hard:
            problems.append(f"not-null of {c.get('field')} is not hard")
    for c in root.findall("constraintExpressions/constraint"):
        cons = fields.field(c.get("field")).constraints()
        if cons.constraintExpression() != c.get("exp") or cons.constraintDescription() != c.get("desc"):
            problems.append(f"expression of {c.get('field')}: {cons.constraintExpression()!r}")
    if root.findtext("previewExpression") != layer.displayExpression():
        problems.append(f"display expression {layer.displayExpression()!r}")
    text_style = root.find("labeling/settings/text-style")
    if text_style is not None:
        settings = layer.labeling().settings() if layer.labeling() else None
        scale_max = float(root.find("labeling/settings/rendering").get("scaleMax"))  # type: ignore[union-attr]
        if not layer.labelsEnabled() or settings is None \
                or settings.fieldName != text_style.get("fieldName") \
                or settings.minimumScale != scale_max or not settings.scaleVisibility:
            problems.append("labels not as declared")
    # every feature gets exactly one symbol, of its geometry's type
    ctx = QgsRenderContext()
    ctx.expressionContext().appendScope(QgsExpressionContextUtils.layerScope(layer))
    renderer.startRender(ctx, fields)
    field, wanted_classes = classes(root)
    for f in layer.getFeatures():
        ctx.expressionContext().setFeature(f)
        symbols = renderer.symbolsForFeature(f, ctx)
        kind = SYMBOL_TYPE[f.geometry().type()]
        code = f[field] if field else None
        types = [{0: "marker", 1: "line", 2: "fill"}[int(s.type())] for s in symbols]
        if types != [kind]:
            problems.append(f"feature {f['rg_id']} ({kind}, {code}): symbols {types}")
    renderer.stopRender(ctx)
    legend = renderer.legendSymbolItems()
    with_symbol = [i for i in legend if i.symbol() is not None]
    if len(with_symbol) != len(wanted_classes):
        problems.append(f"legend has {len(with_symbol)} symbols, {len(wanted_classes)} expected")
    if png_dir is not None:
        render(layer, png_dir / f"{path.stem}.png")
    sld = HERE / "sld" / (path.stem + ".sld")
    if sld.exists():
        sld_layer = make_layer(path, root, tmp)
        msg, ok = sld_layer.loadSldStyle(str(sld))
        if not ok:
            problems.append(f"QGIS cannot read {sld.name}: {msg}")
        elif png_dir is not None:
            render(sld_layer, png_dir / f"{path.stem}.sld.png")
    print(f"{path.relative_to(HERE)}: {renderer.type()}, {len(with_symbol)} legend symbols, "
          f"{len(list(root.iter('alias')))} aliases, "
          f"{len(root.findall('fieldConfiguration/field'))} value maps"
          + (" - OK" if not problems else ""))
    return problems


def render(layer: QgsVectorLayer, out: Path) -> None:
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setBackgroundColor(QColor("#f4f4f0"))
    settings.setOutputSize(QSize(1200, 220))
    extent = QgsRectangle(layer.extent())
    extent.grow(0.006)
    settings.setExtent(extent)
    settings.setDestinationCrs(layer.crs())
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    job.renderedImage().save(str(out))


def main() -> int:
    png_dir = Path(sys.argv[sys.argv.index("--png") + 1]) if "--png" in sys.argv else None
    if png_dir:
        png_dir.mkdir(parents=True, exist_ok=True)
    app = QgsApplication([], False)
    app.initQgis()
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted((HERE / "qml").glob("*.qml")):
            problems = check_qml(path, Path(tmp), png_dir)
            for p in problems:
                print(f"  FAIL {path.name}: {p}")
            failed += bool(problems)
    app.exitQgis()
    print(f"{failed} style file(s) failed" if failed else f"all QML styles load in QGIS {Qgis.QGIS_VERSION}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
