"""Small static maps (SVG) for the project, comune and event pages.

A page's little map needs no WebGL, no tiles and no script: the shapes are projected to
Web Mercator here and drawn as SVG paths, so it shows on any phone, prints, and is
described to screen readers by its <title>. The big interactive map is map.js.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from html import escape

import shapely
from markupsafe import Markup
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

MIN_EXTENT_M = 600.0  # a lone point is shown with ~300 m around it


@cache
def _to_mercator() -> Transformer:
    return Transformer.from_crs(4326, 3857, always_xy=True)


@dataclass(frozen=True)
class MapShape:
    """A geometry (EPSG:4326, lon/lat) and how it is drawn: `kind` is a CSS class suffix
    (context, project, site, event, stop...); context shapes do not decide the extent."""

    geometry: BaseGeometry
    kind: str
    label: str = ""


def _rings(geom: BaseGeometry, x0: float, y1: float) -> str:
    """An SVG path's d for lines and polygons (y flipped: SVG grows downwards)."""
    parts: list[str] = []
    for g in getattr(geom, "geoms", [geom]):
        if g.geom_type == "Polygon":
            rings = [g.exterior, *g.interiors]
            for ring in rings:
                pts = [f"{x - x0:.1f} {y1 - y:.1f}" for x, y in ring.coords]
                parts.append("M" + " L".join(pts) + " Z")
        elif g.geom_type in ("LineString", "LinearRing"):
            pts = [f"{x - x0:.1f} {y1 - y:.1f}" for x, y in g.coords]
            parts.append("M" + " L".join(pts))
    return " ".join(parts)


def minimap_svg(shapes: Iterable[MapShape], title: str, *, width: int = 320,
                height: int = 220) -> Markup:
    """The SVG element (safe to insert in a template); empty when there is nothing to draw."""
    tf = _to_mercator()
    projected = [(shapely.transform(s.geometry, tf.transform, interleaved=False), s) for s in shapes
                 if s.geometry is not None and not s.geometry.is_empty]
    if not projected:
        return Markup("")
    focus = [g for g, s in projected if s.kind != "context"] or [g for g, _ in projected]
    minx, miny, maxx, maxy = shapely.GeometryCollection(focus).bounds
    w, h = max(maxx - minx, MIN_EXTENT_M), max(maxy - miny, MIN_EXTENT_M)
    # the page's aspect ratio, 10 % margin
    if w / h < width / height:
        w = h * width / height
    else:
        h = w * height / width
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    w, h = w * 1.2, h * 1.2
    x0, y1 = cx - w / 2, cy + h / 2
    radius = w * 0.018
    body: list[str] = []
    for geom, shape in sorted(projected, key=lambda p: p[1].kind != "context"):
        cls = f"mm-{escape(shape.kind)}"
        label = f"<title>{escape(shape.label)}</title>" if shape.label else ""
        for g in getattr(geom, "geoms", [geom]):
            if g.geom_type == "Point":
                body.append(f'<circle class="{cls}" cx="{g.x - x0:.1f}" cy="{y1 - g.y:.1f}" '
                            f'r="{radius:.1f}">{label}</circle>')
            else:
                body.append(f'<path class="{cls}" d="{_rings(g, x0, y1)}">{label}</path>')
    return Markup(  # noqa: S704 (every text in it is html.escape-d; the rest are numbers)
        f'<svg class="minimap" viewBox="0 0 {w:.1f} {h:.1f}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}" preserveAspectRatio="xMidYMid meet">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>")
