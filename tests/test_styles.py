"""Map styles (styles/): generated from one source, complete, and true to the data they style.

The QML files are also loaded into QGIS 3.22 by `styles/check_qgis.py` (PyQGIS,
run by hand or by the plugin's tests); here they are checked as XML.
"""

import asyncio
import json
import math
import re
import shutil
import xml.etree.ElementTree as ET

import asyncpg
import mapbox_vector_tile
import pytest
import yaml

from conftest import query
from rigenera import styles
from rigenera.catalogue import BY_ID, COLLECTIONS
from rigenera.cli import main
from rigenera.domains import DOMAINS
from rigenera.editing.model import load_editable
from rigenera.errors import StyleSourceError
from rigenera.labels import FIELD_LABELS, field_label

STYLE_SET = styles.load()
LAYERS = {layer.id: layer for layer in STYLE_SET.layers}
SE = "{http://www.opengis.net/se}"
SLD = "{http://www.opengis.net/sld}"
OGC = "{http://www.opengis.net/ogc}"
CASES = [(cid, lang) for cid in LAYERS for lang in styles.LANGS]


def style_file(kind, cid, lang):
    suffix = "" if lang == "it" else f".{lang}"
    return styles.STYLES_DIR / kind / f"{cid}{suffix}.{kind}"


def maplibre_doc(lang="it"):
    suffix = "" if lang == "it" else f".{lang}"
    return json.loads((styles.STYLES_DIR / "maplibre" / f"rigenera{suffix}.json").read_text())


# ------------------------------------------------------------------------- one source


def test_generated_files_are_up_to_date():
    """The committed files are what `rigenera styles` generates (run it after editing the YAML)."""
    assert styles.stale(styles.build()) == []


def test_check_command_reports_stale_files(tmp_path, monkeypatch, capsys):
    shutil.copytree(styles.STYLES_DIR, tmp_path / "styles")
    monkeypatch.setattr(styles, "STYLES_DIR", tmp_path / "styles")
    assert main(["styles", "--check"]) == 0
    (tmp_path / "styles" / "qml" / "sites.qml").write_text("edited by hand")
    (tmp_path / "styles" / "sld" / "old.sld").write_text("left over")
    assert main(["styles", "--check"]) == 1
    err = capsys.readouterr().err
    assert "styles/qml/sites.qml" in err and "styles/sld/old.sld" in err
    assert main(["styles", "--check", "--lang", "en"]) == 0  # only the English files
    assert main(["styles"]) == 0
    regenerated = (tmp_path / "styles" / "qml" / "sites.qml").read_text()
    assert regenerated == style_file("qml", "sites", "it").read_text()


def test_every_collection_is_styled_in_draw_order():
    assert set(LAYERS) == {c.id for c in COLLECTIONS if c.tiles}
    assert [layer.id for layer in STYLE_SET.layers] == yaml.safe_load(styles.SOURCE.read_text())["order"]


@pytest.mark.parametrize("cid", [c for c in LAYERS if LAYERS[c].classify])
def test_every_domain_code_has_a_colour(cid):
    layer = LAYERS[cid]
    domain = DOMAINS[(cid, layer.classify)]
    assert [c.code for c in layer.classes] == list(domain)
    for cls in layer.classes:
        assert cls.label == domain[cls.code]
        assert set(cls.symbols) == set(layer.kinds)
        for sym in cls.symbols.values():
            assert re.fullmatch(r"#[0-9a-f]{6}", sym.colour)


def _yaml_without(tmp_path, edit):
    doc = yaml.safe_load(styles.SOURCE.read_text())
    edit(doc)
    path = tmp_path / "rigenera.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    return path


def test_a_code_without_a_colour_fails_generation(tmp_path, monkeypatch):
    path = _yaml_without(tmp_path, lambda d: d["collections"]["sites"]["classes"].pop("underused"))
    with pytest.raises(StyleSourceError, match="underused"):
        styles.build(source=path)
    # a new code in domains.py, not yet in the YAML, fails the same way
    grown = {**DOMAINS, ("transit_stops", "mode"): {**DOMAINS[("transit_stops", "mode")],
                                                    "ferry": ("Battello", "Ferry")}}
    monkeypatch.setattr(styles, "DOMAINS", grown)
    with pytest.raises(StyleSourceError, match="ferry"):
        styles.load()


@pytest.mark.parametrize("edit", [
    lambda d: d["collections"]["sites"]["classes"].update(ruined={"colour": "#000000"}),
    lambda d: d["collections"]["sites"]["classes"]["abandoned"].update(colour="red"),
    lambda d: d["collections"]["sites"]["classes"]["abandoned"].update(widht=2),
    lambda d: d["collections"]["transit_stops"]["classes"]["bus"].update(shape="hexagon"),
    lambda d: d["collections"]["comuni"]["label"].update(field="nome"),
    lambda d: d["forms"]["projects"]["required"].append("referents"),
    lambda d: d["forms"]["sites"]["defaults"].update(state="ruined"),
    lambda d: d["order"].remove("projects"),
])
def test_mistakes_in_the_source_are_refused(tmp_path, edit):
    with pytest.raises(StyleSourceError):
        styles.load(_yaml_without(tmp_path, edit))


def test_published_fields_are_the_views_columns(dsn):
    rows = query(dsn, "SELECT table_name, column_name FROM information_schema.columns"
                      " WHERE table_schema = 'pub' AND udt_name <> 'geometry'"
                      " ORDER BY table_name, ordinal_position")
    in_db = {}
    for table, column in rows:
        in_db.setdefault(table, []).append(column)
    assert {k: tuple(v) for k, v in in_db.items()} == styles.published_fields()


@pytest.mark.parametrize("cid", LAYERS)
def test_every_published_column_has_a_label(cid):
    for name in LAYERS[cid].fields:
        it, en = field_label(cid, name)
        assert (it, en) != (name, name), f"{cid}.{name} has no label in rigenera/labels.py"
    assert set(FIELD_LABELS.get(cid, {})) <= set(LAYERS[cid].fields) | {"implementing_body_cf"}


# ------------------------------------------------------------------------------- QML


def qml_root(cid, lang):
    text = style_file("qml", cid, lang).read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE qgis") and "Generated by `rigenera styles`" in text
    return ET.fromstring(text.split("\n", 2)[2])


@pytest.mark.parametrize(("cid", "lang"), CASES)
def test_qml_renderer_has_a_rule_per_code_and_geometry_kind(cid, lang):
    layer, li = LAYERS[cid], styles.LANGS.index(lang)
    root = qml_root(cid, lang)
    assert root.get("version").startswith("3.22") and "Symbology" in root.get("styleCategories")
    renderer = root.find("renderer-v2")
    symbols = renderer.findall("symbols/symbol")
    if layer.mixed:  # sites, projects: one rule group per geometry kind, one rule per code in each
        assert renderer.get("type") == "RuleRenderer"
        groups = renderer.findall("rules/rule")
        assert [g.get("filter") for g in groups] == [
            f"geometry_type($geometry) = '{ {'polygon': 'Polygon', 'line': 'Line', 'point': 'Point'}[k] }'"
            for k in layer.kinds]
        for kind, group in zip(layer.kinds, groups, strict=True):
            rules = group.findall("rule")
            assert [r.get("filter") for r in rules] == [f"\"{layer.classify}\" = '{c}'"
                                                        for c in DOMAINS[(cid, layer.classify)]]
            assert [r.get("label") for r in rules] == [v[li] for v in DOMAINS[(cid, layer.classify)].values()]
            want = {"polygon": "fill", "line": "line", "point": "marker"}[kind]
            assert {symbols[int(r.get("symbol"))].get("type") for r in rules} == {want}
        assert len(symbols) == len(layer.kinds) * len(layer.classes)
        assert root.find("layerGeometryType") is None  # applies to point and polygon layers alike
    elif layer.classify:
        assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == layer.classify
        cats = renderer.findall("categories/category")
        assert [(c.get("value"), c.get("label")) for c in cats] == [
            (code, labels[li]) for code, labels in DOMAINS[(cid, layer.classify)].items()]
        assert len(symbols) == len(cats)
    else:
        assert renderer.get("type") == "singleSymbol" and len(symbols) == 1
    if cid == "transit_stops":  # the metro "M": a red square with a white letter
        metro = symbols[0]
        assert [lay.get("class") for lay in metro.findall("layer")] == ["SimpleMarker", "FontMarker"]


@pytest.mark.parametrize(("cid", "lang"), CASES)
def test_qml_fields_aliases_and_value_maps(cid, lang):
    layer, li = LAYERS[cid], styles.LANGS.index(lang)
    root = qml_root(cid, lang)
    aliases = {a.get("field"): a.get("name") for a in root.iter("alias")}
    assert aliases == {f: field_label(cid, f)[li] for f in layer.fields}
    value_maps = {}
    for fld in root.findall("fieldConfiguration/field"):
        assert fld.find("editWidget").get("type") == "ValueMap"
        value_maps[fld.get("name")] = [(o.get("value"), o.get("name")) for o in fld.iter("Option")
                                       if o.get("value") is not None]
    assert value_maps == {f: [(code, label[li]) for code, label in DOMAINS[(cid, f)].items()]
                          for f in layer.fields if (cid, f) in DOMAINS}
    assert root.findtext("previewExpression") == f'"{BY_ID[cid].title_field}"'
    if layer.label:
        assert root.get("labelsEnabled") == "1"
        assert root.find("labeling/settings/text-style").get("fieldName") == layer.label.field
        rendering = root.find("labeling/settings/rendering")
        assert rendering.get("scaleVisibility") == "1"
        assert float(rendering.get("scaleMax")) == layer.label.max_scale


@pytest.mark.parametrize(("cid", "lang"), CASES)
def test_qml_forms_read_only_required_and_checks(cid, lang):
    layer = LAYERS[cid]
    root = qml_root(cid, lang)
    editable = {f.get("name"): f.get("editable") for f in root.findall("editable/field")}
    assert set(editable) == set(layer.fields)
    for name in ("version", "updated_at", BY_ID[cid].id_field):
        assert editable[name] == "0"
    if not BY_ID[cid].editable:
        assert set(editable.values()) == {"0"}
    required = {c.get("field") for c in root.findall("constraints/constraint")
                if int(c.get("constraints")) & 1}
    assert required == set(layer.form.required)
    if cid == "projects":
        cup = next(c for c in root.findall("constraintExpressions/constraint") if c.get("field") == "cup")
        assert "regexp_match(\"cup\", '^[A-Z][0-9]{2}[A-Z][0-9]{11}$')" in cup.get("exp")
        assert cup.get("desc")


def test_qml_is_italian_by_default():
    assert 'label="Dismessa / abbandonata"' in style_file("qml", "sites", "it").read_text()
    assert 'label="Abandoned"' in style_file("qml", "sites", "en").read_text()


# ------------------------------------------------------------------------ forms vs DB


@pytest.fixture(scope="module")
def editable_model(dsn):
    async def read():
        conn = await asyncpg.connect(dsn)
        try:
            return await load_editable(conn)
        finally:
            await conn.close()

    return asyncio.run(read())


@pytest.mark.parametrize("cid", [c.id for c in COLLECTIONS if c.editable and c.tiles])
def test_form_rules_are_the_databases(dsn, editable_model, cid):
    layer, model = LAYERS[cid], editable_model[cid]
    published = set(layer.fields)
    assert set(layer.form.required) == {f.name for f in model.fields.values() if f.required} & published
    assert set(layer.form.read_only) == published - set(model.fields)
    defaults = {}
    for column, default in query(dsn, "SELECT column_name, column_default FROM information_schema.columns"
                                      " WHERE table_schema = 'rigenera' AND table_name = %s", (cid,)):
        m = re.fullmatch(r"'([a-z_]+)'::text", default or "")
        if m and column in published and column in model.fields and (cid, column) in DOMAINS:
            defaults[column] = m.group(1)
    assert dict(layer.form.defaults) == defaults


@pytest.mark.parametrize("check", [c for layer in LAYERS.values() for c in layer.form.checks],
                         ids=lambda c: c.constraint)
def test_form_checks_mirror_named_constraints(dsn, check):
    rows = query(dsn, "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s",
                 (check.constraint,))
    assert len(rows) == 1, f"no constraint {check.constraint}"
    assert f'"{check.field}"' in check.expression
    if check.constraint == "projects_cup_format":
        db_regex = re.search(r"~ '([^']+)'", rows[0][0]).group(1)
        assert f"'{db_regex}'" in check.expression


# -------------------------------------------------------------------------------- SLD


def test_sld_files_are_namespaced_sld_1_1():
    for cid, lang in CASES:
        text = style_file("sld", cid, lang).read_text(encoding="utf-8")
        assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!-- Generated by')
        root = ET.fromstring(text.encode())
        assert root.tag == f"{SLD}StyledLayerDescriptor" and root.get("version") == "1.1.0"
        for el in root.iter():
            assert el.tag.split("}")[0][1:] in (SLD[1:-1], SE[1:-1], OGC[1:-1]), el.tag


RULE_ORDER = ["Name", "Description", "Filter", "MinScaleDenominator", "MaxScaleDenominator"]


@pytest.mark.parametrize(("cid", "lang"), CASES)
def test_sld_has_a_rule_per_code_with_titles(cid, lang):
    layer, li = LAYERS[cid], styles.LANGS.index(lang)
    root = ET.fromstring(style_file("sld", cid, lang).read_bytes())
    named = root.find(f"{SLD}NamedLayer")
    assert named.findtext(f"{SE}Name") == cid
    style = named.find(f"{SLD}UserStyle")
    assert style.findtext(f"{SE}Description/{SE}Title") == layer.title[li]
    rules = style.findall(f"{SE}FeatureTypeStyle/{SE}Rule")
    class_rules = [r for r in rules if r.find(f"{SE}TextSymbolizer") is None]
    assert len(class_rules) == len(layer.kinds) * len(layer.classes)
    assert len(rules) - len(class_rules) == (1 if layer.label else 0)
    for rule in rules:  # SE 1.1 sequence: Name, Description, Filter, scales, then symbolizers
        tags = [c.tag.split("}")[1] for c in rule]
        head = [t for t in tags if t in RULE_ORDER]
        assert head == sorted(head, key=RULE_ORDER.index) and tags[:len(head)] == head
        assert all(t.endswith("Symbolizer") for t in tags[len(head):])
    if layer.classify:
        for kind_index, kind in enumerate(layer.kinds):
            for cls, rule in zip(layer.classes, class_rules[kind_index * len(layer.classes):], strict=False):
                eq = [e for e in rule.iter(f"{OGC}PropertyIsEqualTo")
                      if e.findtext(f"{OGC}PropertyName") == layer.classify]
                assert [e.findtext(f"{OGC}Literal") for e in eq] == [cls.code]
                assert rule.findtext(f"{SE}Description/{SE}Title").startswith(cls.label[li])
                symbolizer = {"polygon": "PolygonSymbolizer", "line": "LineSymbolizer",
                              "point": "PointSymbolizer"}[kind]
                assert rule.find(f"{SE}{symbolizer}") is not None
    if layer.mixed:  # each rule drawn on its own geometry kind only
        assert all(r.find(f".//{OGC}Function[@name='dimension']") is not None for r in class_rules)


# --------------------------------------------------------------------------- MapLibre


@pytest.mark.parametrize("lang", styles.LANGS)
def test_maplibre_style_structure(lang):
    doc = maplibre_doc(lang)
    assert doc["version"] == 8 and doc["metadata"]["rigenera:language"] == lang
    ids = [layer["id"] for layer in doc["layers"]]
    assert len(ids) == len(set(ids))
    assert set(doc["sources"]) == set(LAYERS)
    for cid, source in doc["sources"].items():
        assert source["type"] == "vector"
        url = f"{{base}}/ogc/collections/{cid}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}?f=mvt"
        assert source["tiles"] == [url]
    drawn = set()
    for layer in doc["layers"]:
        assert layer["source"] in doc["sources"] and layer["source-layer"] == layer["source"]
        drawn.add(layer["source"])
        flt = layer.get("filter")
        if flt:
            geometry = flt if flt[0] == "==" else flt[1]
            assert geometry[:2] == ["==", "$type"] and geometry[2] in ("Point", "LineString", "Polygon")
        for value in {**layer.get("paint", {}), **layer.get("layout", {})}.values():
            if isinstance(value, list) and value and value[0] == "match":
                cid = layer["source"]
                assert value[1] == ["get", LAYERS[cid].classify]
                codes = value[2:-1:2]
                every_code = list(DOMAINS[(cid, LAYERS[cid].classify)])
                in_filter = flt[2][2:] if flt and flt[0] == "all" else every_code
                assert codes == in_filter
    assert drawn == set(LAYERS)
    legend = {entry["collection"]: entry for entry in doc["metadata"]["rigenera:legend"]}
    li = styles.LANGS.index(lang)
    labels = [v[li] for v in DOMAINS[("sites", "state")].values()]
    assert [c["label"] for c in legend["sites"]["classes"]] == labels


def test_maplibre_label_zoom_matches_the_qgis_scale():
    doc = maplibre_doc()
    label = next(layer for layer in doc["layers"] if layer["id"] == "comuni-label")
    # at Milan's latitude, zoom z shows 1:(295829355 * cos(45.46°) / 2^z)
    scale = 295829355 * math.cos(math.radians(45.46)) / 2 ** label["minzoom"]
    assert scale == pytest.approx(LAYERS["comuni"].label.max_scale, rel=0.05)


def _tile_of(lon, lat, z):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


@pytest.mark.parametrize("cid", LAYERS)
def test_maplibre_sources_serve_tiles_with_the_styled_properties(server, http, dsn, cid):
    """Each source's URL (with {base} filled in) serves MVT whose layer and properties the style reads."""
    doc = maplibre_doc()
    template = doc["sources"][cid]["tiles"][0].replace("{base}", server.url)
    lon, lat = query(dsn, f"SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p"
                          f" FROM pub.{cid} WHERE geom IS NOT NULL LIMIT 1) q")[0]
    z = 13  # the detail zoom (ogc/tiles.py), where the label layers start
    x, y = _tile_of(lon, lat, z)
    r = http.get(template.replace("{z}", str(z)).replace("{y}", str(y)).replace("{x}", str(x)))
    assert r.status_code == 200, r.text
    tile = mapbox_vector_tile.decode(r.content)
    used = {layer["source-layer"] for layer in doc["layers"] if layer["source"] == cid}
    assert used <= set(tile)
    properties = set().union(*(f["properties"] for f in tile[cid]["features"]))
    wanted = {LAYERS[cid].classify, LAYERS[cid].label.field if LAYERS[cid].label else None} - {None}
    assert wanted <= properties
