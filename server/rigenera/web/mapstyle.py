"""The public map's MapLibre style: the one generated from styles/ (the QGIS colours),
adapted for the website.

* `{base}` becomes the server's root URL (MapLibre does not resolve relative tile URLs);
* text layers and `glyphs` are dropped: the generated style takes its glyphs from
  demotiles.maplibre.org and no glyph set (PBF) is packaged on npm or Debian for us to
  serve, so labels would need the internet (and log errors without it). Names are read
  in popups, the search and the legend instead;
* legacy filters (`["==", "$type", "Polygon"]`, `["in", field, ...]`) are rewritten as
  expressions, so map.js can combine them with its own filters in one `["all", ...]`
  (MapLibre refuses a mix of the two syntaxes);
* project layers draw only published projects (`published` of tiles.projects, migration
  0025): the tiles stay the open register's, the website shows what the office published;
* an optional raster background (settings.web_basemap_url) under our layers.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from rigenera.styles import STYLES_DIR

PUBLISHED: list[Any] = ["==", ["get", "published"], True]
_TYPES = {"Point": ["Point", "MultiPoint"], "LineString": ["LineString", "MultiLineString"],
          "Polygon": ["Polygon", "MultiPolygon"]}


@cache
def generated(lang: str) -> dict[str, Any]:
    name = "rigenera.json" if lang == "it" else f"rigenera.{lang}.json"
    loaded: dict[str, Any] = json.loads((STYLES_DIR / "maplibre" / name).read_text(encoding="utf-8"))
    return loaded


def expression(legacy: Any) -> Any:
    """A legacy filter of the generated style as an expression (the forms it uses)."""
    op = legacy[0]
    if op in ("all", "any"):
        return [op, *[expression(f) for f in legacy[1:]]]
    if op == "==" and legacy[1] == "$type":
        return ["match", ["geometry-type"], _TYPES[legacy[2]], True, False]
    if op == "==" and isinstance(legacy[1], str):
        return ["==", ["get", legacy[1]], legacy[2]]
    if op == "in" and isinstance(legacy[1], str):
        return ["in", ["get", legacy[1]], ["literal", list(legacy[2:])]]
    raise ValueError(f"filter not understood: {legacy!r}")


def web_style(lang: str, base: str, basemap_url: str | None = None,
              basemap_attribution: str | None = None) -> dict[str, Any]:
    style = copy.deepcopy(generated(lang))
    style.pop("glyphs", None)
    style.pop("sprite", None)
    for source in style["sources"].values():
        source["tiles"] = [t.replace("{base}", base) for t in source["tiles"]]
    layers = []
    for layer in style["layers"]:
        if layer["type"] == "symbol":
            continue
        parts = [expression(layer["filter"])] if "filter" in layer else []
        if layer.get("source") == "projects":
            parts.append(PUBLISHED)
        if parts:
            layer["filter"] = parts[0] if len(parts) == 1 else ["all", *parts]
        layers.append(layer)
    if basemap_url:
        style["sources"]["basemap"] = {"type": "raster", "tiles": [basemap_url], "tileSize": 256,
                                       "attribution": basemap_attribution or ""}
        layers.insert(0, {"id": "basemap", "type": "raster", "source": "basemap"})
    style["layers"] = layers
    style["metadata"]["rigenera:base_url"] = base
    return style
