"""The Rigenera layers of a QGIS project: OGC API – Features layers, styled.

One call, :func:`load_layers`, adds (or refreshes) the group "Rigenerazione
urbana" with the published collections as ``OAPIF`` layers (read-only in
QGIS 3.22; edits go through a working copy), each styled with the project's
QML (symbology, Italian aliases, value maps, form constraints).

Mixed geometries. QGIS 3.22's OAPIF provider types a layer from the first ten
features of the collection (``items?limit=10`` read through OGR), keeps the
features of other types but cannot draw them with the layer's symbols, and
the type it picks changes with the data (and is cached by QGIS's network
cache). ``sites`` holds polygons (perimeter known) and points (location only);
``projects`` points (the real PNRR projects, localised to their comune),
lines, polygons, or no geometry at all. So each is loaded as one layer per
geometry kind, each with a server-side CQL2 filter on the ``geometry_kind``
queryable the server publishes (``'point' | 'line' | 'polygon'``, NULL
without a geometry: a stored, indexed column) put in the layer URL (QGIS
appends a URL's query to all its requests), and each layer gets one geometry
type from its first page. Projects without a geometry form a table layer
(``geometry_kind IS NULL``, typed NoGeometry: listed, not drawn). A part with no
features at all is left out (QGIS would type it "NoGeometry" and never draw
what is added later); loading again adds it once it has features.

Scale. At metro scale (smaller than 1:``OVERVIEW_SCALE``) the sites are drawn
from the server's vector tiles ("panoramica": a QgsVectorTileLayer styled from
the MapLibre style of ``styles/``, the same source as the QML); the OAPIF site
layers take over when zoomed in, so the whole metro area with 100,000 sites
draws from a few generalised tiles instead of downloading every feature
(measured in bench/plugin.py; 3.22's OAPIF layer needs ~100 s for them).

No GUI here: this module runs headless (tests, scripts, Processing).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple
from urllib.parse import quote

from qgis.core import (
    QgsDataSourceUri,
    QgsLayerTreeGroup,
    QgsLayerTreeLayer,
    QgsMapBoxGlStyleConversionContext,
    QgsMapBoxGlStyleConverter,
    QgsMapLayer,
    QgsNetworkAccessManager,
    QgsProject,
    QgsRuleBasedRenderer,
    QgsVectorLayer,
    QgsVectorTileLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QUrl

PROVIDER = "OAPIF"
PAGE_SIZE = 1000
PLUGIN_DIR = Path(__file__).resolve().parent.parent
# Installed plugin: <plugin>/styles/*.qml (copied by qgis_plugin/build.py);
# from the source tree: <repo>/styles/qml/*.qml.
STYLE_DIRS = (PLUGIN_DIR / "styles", PLUGIN_DIR.parent.parent / "styles" / "qml")

MAPLIBRE_DIRS = (PLUGIN_DIR / "styles", PLUGIN_DIR.parent.parent / "styles" / "maplibre")
# Sites are drawn from vector tiles below this scale (1:50,000) and from OAPIF above it.
OVERVIEW_SCALE = 50_000
# Tiles below the server's detail zoom (13) are generalised (dots, no free text); z10
# tiles overzoomed up to 1:50,000 draw the metro area from ~6 tiles (bench/plugin.py:
# z12 took 5.0 s for 100,000 sites, z10 1.4 s).
OVERVIEW_MAX_ZOOM = 10
OVERVIEW_KEY = "sites_overview"
OVERVIEW_NAMES = {"it": "Aree dismesse (panoramica)", "en": "Abandoned sites (overview)"}

GROUP_NAMES = {"it": "Rigenerazione urbana", "en": "Urban regeneration"}
# Custom properties that mark what this module added (language-independent).
PROP_GROUP = "rigenera/group"
PROP_KEY = "rigenera/layer"
PROP_COLLECTION = "rigenera/collection"
PROP_SERVER = "rigenera/server"


@dataclass(frozen=True)
class LayerSpec:
    """One layer of the group: a collection, possibly restricted by a CQL2 filter."""

    key: str                 # unique in LAYERS; names the layer in properties and tests
    collection: str          # OGC API collection id
    names: Dict[str, str]    # {"it": ..., "en": ...}
    cql: Optional[str] = None  # server-side CQL2 text filter, None for the whole collection
    geometry: str = ""       # "polygon", "point", "line", "none" (a table), "" (any)

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names["en"]


# Collection ids in drawing order (bottom to top), as styles/rigenera.yaml's `order`.
COLLECTIONS: Tuple[str, ...] = ("comuni", "sites", "projects", "mobility_links", "transit_stops")
# What each kind of a mixed collection is called in its layer's name.
KIND_TITLES = {"polygon": ("poligoni", "polygons"), "line": ("linee", "lines"),
               "point": ("punti", "points"), "none": ("senza geometria", "no geometry")}
# The layer keys of a split collection end like the working copy's parts.
_PARTS = {"polygon": "polygons", "line": "lines", "point": "points", "none": "table"}


def _split(collection: str, title_it: str, title_en: str,
           kinds: Tuple[str, ...]) -> Tuple[LayerSpec, ...]:
    """One layer per geometry kind of a mixed collection, filtered on ``geometry_kind``."""
    return tuple(
        LayerSpec(f"{collection}_{_PARTS[kind]}", collection,
                  {"it": f"{title_it} ({KIND_TITLES[kind][0]})",
                   "en": f"{title_en} ({KIND_TITLES[kind][1]})"},
                  cql="geometry_kind IS NULL" if kind == "none" else f"geometry_kind = '{kind}'",
                  geometry=kind)
        for kind in kinds)


# The layers in drawing order, bottom to top.
LAYERS: Tuple[LayerSpec, ...] = (
    LayerSpec("comuni", "comuni", {"it": "Comuni", "en": "Municipalities"}, geometry="polygon"),
    *_split("sites", "Aree dismesse", "Abandoned sites", ("polygon", "point")),
    *_split("projects", "Interventi di rigenerazione", "Regeneration projects",
            ("none", "polygon", "line", "point")),
    LayerSpec("mobility_links", "mobility_links",
              {"it": "Rete della mobilità sostenibile", "en": "Sustainable mobility network"},
              geometry="line"),
    LayerSpec("transit_stops", "transit_stops",
              {"it": "Fermate del trasporto pubblico", "en": "Public transport stops"},
              geometry="point"),
)
BY_KEY = {spec.key: spec for spec in LAYERS}


class LayerLoadError(Exception):
    """Some layers could not be loaded (server unreachable, refused, unknown collection)."""

    def __init__(self, failures: List[Tuple[str, str]],
                 group: Optional[QgsLayerTreeGroup] = None) -> None:
        self.failures = failures  # (layer name, reason)
        self.group = group
        super().__init__("; ".join(f"{name}: {reason}" for name, reason in failures))


# --------------------------------------------------------------------------- URIs
def _quote_value(value: str) -> str:
    """A value for QgsDataSourceUri's key='value' syntax (backslash escapes)."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def ogc_url(base_url: str, cql: Optional[str] = None) -> str:
    """The OGC API root of a Rigenera server, with an optional CQL2 filter for every request."""
    url = base_url.rstrip("/")
    if not url.endswith("/ogc"):
        url += "/ogc"
    if cql:
        # QGIS 3.22 appends the query of `url` to each request it makes (landing
        # page, API, collection, items): the filter applies to every page.
        url += "?filter=" + quote(cql, safe="") + "&filter-lang=cql2-text"
    return url


def oapif_uri(base_url: str, collection: str, authcfg: str = "", page_size: int = PAGE_SIZE,
              cql: Optional[str] = None) -> str:
    """The data source URI of an OAPIF layer of ``collection``.

    ``base_url`` is the server root (``http://host:8000``; ``…/ogc`` is accepted
    too). Pointing ``url`` at ``/ogc/collections/<id>`` makes 3.22's layer
    invalid; without ``restrictToRequestBBOX`` QGIS downloads the whole
    collection before drawing anything.
    """
    parts = [f"url='{_quote_value(ogc_url(base_url, cql))}'",
             f"typename='{_quote_value(collection)}'",
             "restrictToRequestBBOX='1'",
             f"pageSize='{int(page_size)}'"]
    if authcfg:
        parts.append(f"authcfg='{_quote_value(authcfg)}'")
    return " ".join(parts)


def collection_of(layer: QgsMapLayer) -> Optional[str]:
    """The Rigenera collection a layer shows (ours, or any OAPIF layer of the server)."""
    value = layer.customProperty(PROP_COLLECTION)
    if value:
        return str(value)
    if isinstance(layer, QgsVectorLayer) and layer.providerType() == PROVIDER:
        typename = QgsDataSourceUri(layer.source()).param("typename")
        return typename or None
    return None


def forget_cached_openings(base_url: str, specs: Iterable[LayerSpec] = ()) -> int:
    """Drop QGIS's cached answers to the requests an OAPIF layer makes when it opens.

    QGIS 3.22 opens an OAPIF layer with requests that prefer QGIS's disk cache
    (landing page, collection, ``items?limit=10``), which keeps them across
    sessions unless the server says ``Cache-Control: no-store``. From that
    first page come the layer's geometry type, fields and feature count: a
    stale copy would hide points added since, or count features that are gone.
    The features themselves are always downloaded afresh. Returns the number
    of cached answers removed.
    """
    cache = QgsNetworkAccessManager.instance().cache()
    if cache is None:
        return 0
    ogc = ogc_url(base_url)
    collection_roots = {ogc + "/collections"}
    for landing in (ogc, ogc + "/"):
        device = cache.data(QUrl(landing))  # the server's own link (proxies, public URL)
        if device is not None:
            try:
                doc = json.loads(bytes(device.readAll()).decode("utf-8"))
                collection_roots.update(str(link["href"]).split("?")[0]
                                        for link in doc.get("links", [])
                                        if link.get("rel") == "data" and link.get("href"))
            except (ValueError, AttributeError, TypeError):
                pass
            device.close()
    urls = set()
    for spec in specs:
        extra = ogc_url(base_url, spec.cql).partition("?")[2]
        with_q = f"?{extra}" if extra else ""
        with_amp = f"&{extra}" if extra else ""
        urls.update({ogc + with_q, ogc + "/" + with_q})
        for root in collection_roots:
            urls.update({f"{root}/{spec.collection}{with_q}",
                         f"{root}/{spec.collection}/items?limit=10{with_amp}"})
    return sum(1 for url in sorted(urls) if cache.remove(QUrl(url)))


# --------------------------------------------------------------------------- styles
def style_path(collection: str, language: Optional[str] = None) -> Optional[Path]:
    """The QML of a collection (or a layer key), installed or from the source tree."""
    spec = BY_KEY.get(collection)
    names: List[str] = [collection]
    if spec is not None and spec.collection != collection:
        names.append(spec.collection)
    candidates: List[str] = []
    for name in names:
        if language:
            candidates += [f"{name}_{language}.qml", f"{name}.{language}.qml"]
        candidates.append(f"{name}.qml")
    for folder in STYLE_DIRS:
        for candidate in candidates:
            path = folder / candidate
            if path.is_file():
                return path
    return None


_GEOMETRY_NAMES = {QgsWkbTypes.PointGeometry: "Point", QgsWkbTypes.LineGeometry: "Line",
                   QgsWkbTypes.PolygonGeometry: "Polygon"}


def prune_geometry_rules(layer: QgsVectorLayer) -> int:
    """Drop the top rules ``geometry_type($geometry) = 'X'`` of other geometry types.

    The QML of a mixed collection (sites, projects) draws each geometry type
    with its own rule; a layer of one type keeps only its own, so its legend
    lists only what it can show. Returns how many rules were removed.
    """
    renderer = layer.renderer()
    own = _GEOMETRY_NAMES.get(layer.geometryType())
    if not isinstance(renderer, QgsRuleBasedRenderer) or own is None:
        return 0
    root = renderer.rootRule()
    removed = 0
    for rule in list(root.children()):
        found = re.fullmatch(r"\s*geometry_type\(\s*\$geometry\s*\)\s*=\s*'(\w+)'\s*",
                             rule.filterExpression() or "")
        if found and found.group(1) != own:
            root.removeChild(rule)
            removed += 1
    return removed


def apply_style(layer: QgsVectorLayer, key: str, language: Optional[str] = None) -> bool:
    """Load the QML of ``key`` into ``layer``; False when there is none or it failed."""
    path = style_path(key, language)
    if path is None:
        return False
    result = layer.loadNamedStyle(str(path))
    ok = bool(result[1]) if isinstance(result, tuple) else bool(result)
    if ok:
        prune_geometry_rules(layer)
        layer.triggerRepaint()
    return ok


# --------------------------------------------------------------------------- layers
def _language(language: Optional[str]) -> str:
    if language:
        return "it" if language.lower().startswith("it") else "en"
    from ..toolbelt.i18n import ui_language  # no GUI: reads QGIS's locale

    return ui_language()


def _layer_errors(layer: QgsVectorLayer) -> str:
    # QgsError.summary() segfaults in 3.22: read the messages one by one.
    messages = [m.message() for m in layer.error().messageList() if m.message()]
    provider = layer.dataProvider()
    if provider is not None:
        messages += [m.message() for m in provider.error().messageList() if m.message()]
    return " ".join(dict.fromkeys(messages)) or "layer not valid"


def make_layer(spec: LayerSpec, base_url: str, authcfg: str = "",
               language: str = "it", page_size: int = PAGE_SIZE) -> QgsVectorLayer:
    """One layer of the group (valid or not), styled when valid."""
    uri = oapif_uri(base_url, spec.collection, authcfg, page_size, spec.cql)
    layer = QgsVectorLayer(uri, spec.name(language), PROVIDER)
    layer.setCustomProperty(PROP_KEY, spec.key)
    layer.setCustomProperty(PROP_COLLECTION, spec.collection)
    layer.setCustomProperty(PROP_SERVER, base_url.rstrip("/"))
    if layer.isValid():
        apply_style(layer, spec.key, language)
        layer.setName(spec.name(language))  # a QML never renames the layer, but be sure
    if spec.collection == "sites":  # the overview tiles draw them when zoomed out
        layer.setScaleBasedVisibility(True)
        layer.setMinimumScale(OVERVIEW_SCALE)
    return layer


def maplibre_style(language: str = "it") -> Optional[Path]:
    """The MapLibre style JSON (installed plugin or source tree)."""
    names = ["rigenera.json"] if language == "it" else [f"rigenera.{language}.json", "rigenera.json"]
    for folder in MAPLIBRE_DIRS:
        for name in names:
            if (folder / name).is_file():
                return folder / name
    return None


def tiles_uri(base_url: str, collection: str, authcfg: str = "",
              max_zoom: int = OVERVIEW_MAX_ZOOM) -> str:
    """A QgsVectorTileLayer source for a collection's WebMercatorQuad MVT tiles."""
    uri = QgsDataSourceUri()
    uri.setParam("type", "xyz")
    uri.setParam("url", f"{ogc_url(base_url)}/collections/{collection}/tiles/WebMercatorQuad/"
                        "{z}/{y}/{x}?f=mvt")
    uri.setParam("zmin", "0")
    uri.setParam("zmax", str(int(max_zoom)))
    if authcfg:
        uri.setAuthConfigId(authcfg)
    return bytes(uri.encodedUri()).decode()


def make_overview(base_url: str, authcfg: str = "", language: str = "it") -> QgsVectorTileLayer:
    """The sites' vector-tile layer for small scales, styled from the MapLibre style."""
    layer = QgsVectorTileLayer(tiles_uri(base_url, "sites", authcfg),
                               OVERVIEW_NAMES.get(language, OVERVIEW_NAMES["en"]))
    layer.setCustomProperty(PROP_KEY, OVERVIEW_KEY)
    layer.setCustomProperty(PROP_COLLECTION, "sites")
    layer.setCustomProperty(PROP_SERVER, base_url.rstrip("/"))
    layer.setScaleBasedVisibility(True)
    layer.setMaximumScale(OVERVIEW_SCALE)
    path = maplibre_style(language)
    if layer.isValid() and path is not None:
        style = json.loads(path.read_text(encoding="utf-8"))
        style["layers"] = [lyr for lyr in style.get("layers", []) if lyr.get("source") == "sites"]
        converter = QgsMapBoxGlStyleConverter()
        if converter.convert(style, QgsMapBoxGlStyleConversionContext()) == \
                QgsMapBoxGlStyleConverter.Success:
            # No labels: names are not in generalised tiles, and placing (empty) labels
            # for 100,000 dots tripled the drawing time.
            layer.setRenderer(converter.renderer())
    return layer


def find_group(project: Optional[QgsProject] = None) -> Optional[QgsLayerTreeGroup]:
    """The group this module made (in any language), or None."""
    project = project or QgsProject.instance()
    root = project.layerTreeRoot()
    for group in root.findGroups(True):
        if group.customProperty(PROP_GROUP):
            return group
    for name in GROUP_NAMES.values():
        group = root.findGroup(name)
        if group is not None:
            return group
    return None


def group_layers(group: QgsLayerTreeGroup) -> Dict[str, QgsVectorLayer]:
    """Our layers in a group, by key."""
    found: Dict[str, QgsVectorLayer] = {}
    for node in group.findLayers():
        layer = node.layer()
        if isinstance(layer, QgsVectorLayer) and layer.customProperty(PROP_KEY):
            found[str(layer.customProperty(PROP_KEY))] = layer
    return found


def load_layers(connection: object, project: Optional[QgsProject] = None,
                language: Optional[str] = None,
                specs: Iterable[LayerSpec] = LAYERS) -> QgsLayerTreeGroup:
    """Add the group "Rigenerazione urbana" with the Rigenera layers to ``project``.

    ``connection`` is a :class:`core.connection.Connection` (``url``, ``authcfg``).
    Idempotent: a second call reuses the group, keeps the layers whose source
    is unchanged (restyled) and replaces the others, so nothing is duplicated.
    Raises :class:`LayerLoadError` (after adding the valid ones) when some
    layers could not be loaded.
    """
    project = project or QgsProject.instance()
    lang = _language(language)
    base_url = str(getattr(connection, "url"))  # noqa: B009 (duck-typed Connection)
    authcfg = str(getattr(connection, "authcfg", "") or "")
    root = project.layerTreeRoot()

    group = find_group(project)
    created = group is None
    if group is None:
        group = root.insertGroup(0, GROUP_NAMES[lang])
    group.setName(GROUP_NAMES[lang])
    group.setCustomProperty(PROP_GROUP, True)
    existing = group_layers(group)

    failures: List[Tuple[str, str]] = []
    wanted = list(specs)
    forget_cached_openings(base_url, wanted)
    made: Dict[str, QgsVectorLayer] = {}
    kept: Dict[str, QgsVectorLayer] = {}
    for spec in wanted:
        uri = oapif_uri(base_url, spec.collection, authcfg, PAGE_SIZE, spec.cql)
        old = existing.get(spec.key)
        if old is not None and old.source() == uri and old.isValid() \
                and _typed_as_expected(spec, old):
            kept[spec.key] = old
            continue
        layer = make_layer(spec, base_url, authcfg, lang)
        if not layer.isValid():
            failures.append((spec.name(lang), _layer_errors(layer)))
            existing.pop(spec.key, None)  # a layer that worked stays until one replaces it
            continue
        made[spec.key] = layer
    chosen = _choose_parts(wanted, made, kept)

    for spec in wanted:  # bottom to top: each goes on top of the previous one
        if spec.key in kept:
            layer = kept[spec.key]
            existing.pop(spec.key, None)
            apply_style(layer, spec.key, lang)
            layer.setName(spec.name(lang))
            node = group.findLayer(layer.id())
            if node is not None:  # move it into drawing order
                group.insertChildNode(0, node.clone())
                group.removeChildNode(node)
            continue
        if spec.key not in chosen:
            continue
        old = existing.pop(spec.key, None)
        if old is not None:
            project.removeMapLayer(old.id())
        layer = made[spec.key]
        project.addMapLayer(layer, False)
        group.insertChildNode(0, QgsLayerTreeLayer(layer))
    for stale in existing.values():  # our layers that are no longer wanted
        project.removeMapLayer(stale.id())
    # The overview only next to OAPIF site layers that loaded (a tile layer is "valid"
    # even when the server is down: it fetches nothing until drawn).
    if any(lyr.customProperty(PROP_COLLECTION) == "sites" for lyr in group_layers(group).values()):
        _place_overview(project, group, base_url, authcfg, lang)
    if failures:
        if created and not group.children():  # nothing loaded: leave no empty group
            root.removeChildNode(group)
            raise LayerLoadError(failures, None)
        raise LayerLoadError(failures, group)
    return group


def _place_overview(project: QgsProject, group: QgsLayerTreeGroup, base_url: str,
                    authcfg: str, lang: str) -> None:
    """(Re)place the sites' overview just below the lowest sites layer of the group."""
    old = overview_layer(group)
    if old is not None:
        if old.source() == tiles_uri(base_url, "sites", authcfg):
            old.setName(OVERVIEW_NAMES.get(lang, OVERVIEW_NAMES["en"]))
            return
        project.removeMapLayer(old.id())
    overview = make_overview(base_url, authcfg, lang)
    if not overview.isValid():
        return
    project.addMapLayer(overview, False)
    children = group.children()
    index = len(children)
    for i, node in enumerate(children):
        layer = node.layer() if isinstance(node, QgsLayerTreeLayer) else None
        if layer is not None and layer.customProperty(PROP_COLLECTION) == "sites":
            index = i + 1
    group.insertChildNode(index, QgsLayerTreeLayer(overview))


def overview_layer(group: QgsLayerTreeGroup) -> Optional[QgsVectorTileLayer]:
    """The sites' overview tile layer of the group, if any."""
    for node in group.findLayers():
        layer = node.layer()
        if isinstance(layer, QgsVectorTileLayer) and layer.customProperty(PROP_KEY) == OVERVIEW_KEY:
            return layer
    return None


def _typed_as_expected(spec: LayerSpec, layer: QgsVectorLayer) -> bool:
    """A table for the features without geometry, a geometry type for the others."""
    table = layer.geometryType() == QgsWkbTypes.NullGeometry
    return table if spec.geometry == "none" else not table


def _choose_parts(specs: List[LayerSpec], made: Dict[str, QgsVectorLayer],
                  kept: Dict[str, QgsVectorLayer]) -> set:
    """The new layers to add: a part of a split collection only when it has features.

    An empty part would be typed NoGeometry by QGIS 3.22 (and would then never
    draw what is added later); when every part of a collection is empty, the
    first one stays so the collection is still listed.
    """
    chosen = set()
    by_collection: Dict[str, List[LayerSpec]] = {}
    for spec in specs:
        by_collection.setdefault(spec.collection, []).append(spec)
    for parts in by_collection.values():
        if len(parts) == 1:
            chosen.update(p.key for p in parts if p.key in made)
            continue
        with_features = [p.key for p in parts if p.key in made
                         and _typed_as_expected(p, made[p.key])
                         and made[p.key].featureCount() != 0]
        chosen.update(with_features)
        if not with_features and not any(p.key in kept for p in parts):
            first = next((p.key for p in parts if p.key in made), None)
            if first is not None:
                chosen.add(first)
    return chosen

