"""The queue "Da localizzare": approximate projects waiting for their real location.

An imported project known only by its comuni is drawn at the comune's
representative point (``geom_source = 'comune_point'``). ``GET
/api/projects/to-locate`` lists those of the caller's comuni (all of them for
coordinators and administrators), paged. Locating one is an ordinary edit of
its working-copy row: the server turns ``comune_point`` into ``digitised``
when the new geometry is no longer made of comune points.

A real point is drawn by moving the project's point in the working copy's
points layer. A perimeter belongs to the polygons layer of the copy:
:func:`adopt_geometry` moves the project onto a polygon the technician drew
there (the drawn row takes the project's identity and attributes, the point
row goes), so the next synchronisation sends one patch with the new geometry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from qgis.core import QgsFeature, QgsFeatureRequest, QgsGeometry, QgsVectorLayer

from .client import RigeneraClient
from .workingcopy import ID_FIELD, PROP_PART, VERSION_FIELD, WorkingCopy, WorkingCopyError

PATH = "/api/projects/to-locate"
PAGE_SIZE = 100


@dataclass
class ToLocate:
    """One approximate project of the queue."""

    id: str
    cup: str
    title: str
    comuni: List[str]
    geometry: Optional[Dict[str, Any]] = None
    version: Optional[int] = None
    reason: str = "comune_point"    # or "metro_area": a project of the whole metro area
    in_reach: bool = True           # the caller may edit it (every comune is theirs)


@dataclass
class ToLocatePage:
    items: List[ToLocate] = field(default_factory=list)
    total: Optional[int] = None       # every approximate project of the caller's comuni
    next: Optional[str] = None        # the next page's link, None on the last page


def _comuni(props: Dict[str, Any]) -> List[str]:
    for key in ("comuni", "istat_codes"):
        value = props.get(key)
        if isinstance(value, list):
            return [str(c.get("istat_code") or c.get("name") or c) if isinstance(c, dict)
                    else str(c) for c in value]
        if isinstance(value, str) and value:
            return [v.strip() for v in value.split(",") if v.strip()]
    return [str(props["istat_code"])] if props.get("istat_code") else []


def parse_page(doc: Any) -> ToLocatePage:
    """A page of the queue, as a FeatureCollection (``features``) or a list (``items``)."""
    doc = doc if isinstance(doc, dict) else {}
    rows = doc.get("features") if isinstance(doc.get("features"), list) else doc.get("items")
    items = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        props = dict(row.get("properties") or {}) if "properties" in row else dict(row)
        fid = row.get("id", props.get("id"))
        if fid is None:
            continue
        version = props.get("version")
        items.append(ToLocate(str(fid), str(props.get("cup") or ""),
                              str(props.get("title") or props.get("name") or ""),
                              _comuni(props), row.get("geometry"),
                              int(version) if isinstance(version, int) else None,
                              str(props.get("reason") or "comune_point"),
                              props.get("in_reach") is not False))
    total = next((doc[k] for k in ("numberMatched", "total", "count")
                  if isinstance(doc.get(k), int)), None)
    nxt = next((str(lk["href"]) for lk in doc.get("links") or []
                if isinstance(lk, dict) and lk.get("rel") == "next" and lk.get("href")), None)
    if nxt is None and isinstance(doc.get("next"), str) and doc["next"]:
        nxt = doc["next"]
    return ToLocatePage(items, total, nxt)


def fetch_page(client: RigeneraClient, next_href: Optional[str] = None,
               limit: int = PAGE_SIZE) -> ToLocatePage:
    """The first page of the queue, or the page a ``next`` link points to."""
    if next_href:
        return parse_page(client.get_json(next_href))
    return parse_page(client.get_json(PATH, {"limit": limit}))


def fetch_all(client: RigeneraClient, limit: int = PAGE_SIZE, max_pages: int = 100
              ) -> ToLocatePage:
    """Every page of the queue (at most ``max_pages``)."""
    page = fetch_page(client, limit=limit)
    out = ToLocatePage(list(page.items), page.total, page.next)
    pages = 1
    while out.next and pages < max_pages:
        page = fetch_page(client, out.next)
        out.items += page.items
        out.next = page.next
        pages += 1
    return out


def adopt_geometry(wc: WorkingCopy, server_id: str, layer: QgsVectorLayer, fid: int) -> int:
    """Make the new row ``fid`` of ``layer`` (a part of ``wc``) the geometry of ``server_id``.

    The drawn row takes the project's identity (``rg_id``, ``rg_version``) and
    attributes; the project's other rows are removed. Works on saved rows (the
    caller commits the layers' edit buffers first). Returns the row's feature id.
    """
    part = str(layer.customProperty(PROP_PART) or "")
    if wc.layer(part) is not layer and wc.layer(part).source() != layer.source():
        raise WorkingCopyError("il layer non appartiene alla copia di lavoro / "
                               "the layer is not part of the working copy")
    provider = layer.dataProvider()
    drawn = next(provider.getFeatures(QgsFeatureRequest(fid)), None)
    if drawn is None or not drawn.hasGeometry():
        raise WorkingCopyError("nessuna geometria disegnata / no drawn geometry")
    current = drawn[ID_FIELD]
    if current not in (None, "") and not (hasattr(current, "isNull") and current.isNull()) \
            and str(current) != server_id:
        raise WorkingCopyError(f"la geometria appartiene già a {current} / "
                               f"the geometry already belongs to {current}")
    rows = [(p, f) for p, f in wc.rows_of(server_id) if not (p == part and f == fid)]
    if not rows:
        raise WorkingCopyError(f"progetto {server_id} non nella copia di lavoro / "
                               f"project {server_id} is not in the working copy")
    source_part, source_fid = rows[0]
    source_layer = wc.layer(source_part)
    source: Optional[QgsFeature] = next(
        source_layer.dataProvider().getFeatures(QgsFeatureRequest(source_fid)), None)
    if source is None:
        raise WorkingCopyError(f"progetto {server_id} non trovato / not found")
    idx = layer.fields().indexFromName
    values = {idx(name): source[name] for name in [ID_FIELD, VERSION_FIELD, *wc.types]
              if idx(name) >= 0 and source.fields().indexFromName(name) >= 0}
    if not provider.changeAttributeValues({fid: values}):
        raise WorkingCopyError("; ".join(provider.errors()[-3:]))
    for p, f in rows:
        wc.layer(p).dataProvider().deleteFeatures([f])
    for lyr in wc.layers():
        lyr.reload()
    return fid


def geometry_of(item: ToLocate) -> Optional[QgsGeometry]:
    """The approximate geometry the queue sent (lon/lat), if any."""
    from .workingcopy import geometry_from_geojson

    try:
        return geometry_from_geojson(item.geometry)
    except WorkingCopyError:
        return None
