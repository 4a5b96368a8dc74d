"""Conflicts: the same feature changed here and on the server since the checkout.

The server refuses a changeset whose base versions are stale (409, nothing
written). For each refused feature we keep three states, base (what we
checked out), mine (the working copy) and theirs (the server now), and merge
them field by field (``"geometry"`` counts as a field, core/merge.py): what
only they changed is theirs, what only I changed is mine, and the user decides
the fields both changed: "mine", "theirs", or attribute by attribute. So no
choice ever puts back a value the other person changed and I never touched.
Resolving never sends anything: it rebases the working copy on *theirs* with
the merged values local, so the next synchronisation sends just my changes
with the current version. A feature deleted on one side is decided as a whole
(keep it with my version, or accept theirs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Union

from qgis.core import QgsGeometry

from . import merge
from .merge import GEOMETRY
from .workingcopy import WorkingCopy, _wkb, geometry_to_geojson

Choice = Union[str, Dict[str, str]]


@dataclass
class Conflict:
    """One feature changed on both sides; ``None`` for a side means it was deleted there."""

    server_id: str
    part: Optional[str]                 # local part (None when deleted locally)
    fid: Optional[int]                  # local feature id (None when deleted locally)
    base: Dict[str, Any]
    mine: Optional[Dict[str, Any]]
    theirs: Optional[Dict[str, Any]]
    mine_geometry: Optional[Dict[str, Any]] = None
    theirs_geometry: Optional[Dict[str, Any]] = None
    theirs_version: Optional[int] = None
    theirs_feature: Optional[Dict[str, Any]] = None
    fields: List[str] = field(default_factory=list)   # attributes that differ mine/theirs
    description: str = ""                             # the server's words
    base_geometry: Optional[Dict[str, Any]] = None
    mine_changed: List[str] = field(default_factory=list)    # changed here since the base
    theirs_changed: List[str] = field(default_factory=list)  # changed on the server since

    @property
    def both(self) -> List[str]:
        """The real conflicts: fields changed on both sides, to different values."""
        return [k for k in self.fields if k in self.mine_changed and k in self.theirs_changed]

    def automatic(self, name: str) -> str:
        """The side a differing field takes unless the user decides: mine if I changed it."""
        return merge.MINE if name in self.mine_changed else merge.THEIRS

    @property
    def base_wkt(self) -> str:
        return _wkt(self.base_geometry)

    @property
    def mine_wkt(self) -> str:
        return _wkt(self.mine_geometry)

    @property
    def theirs_wkt(self) -> str:
        return _wkt(self.theirs_geometry)


def _wkt(geometry: Optional[Dict[str, Any]]) -> str:
    from .workingcopy import geometry_from_geojson

    geom = geometry_from_geojson(geometry)
    return geom.asWkt() if geom is not None else ""


def build(wc: WorkingCopy, server_id: str, theirs_feature: Optional[Dict[str, Any]],
          description: str = "") -> Conflict:
    """The three states of a refused feature, read from the working copy and the server."""
    base = wc.base().get(server_id, {"props": {}, "version": None, "wkb": None})
    rows = wc.rows_of(server_id)
    mine = mine_geom = None
    part = fid = None
    mine_wkb = theirs_wkb = None
    if rows:
        part, fid = rows[0]
        feature = next(wc.layer(part).getFeatures([fid]))
        mine = {k: v for k, v in wc.local_props(feature).items() if k in wc.writable}
        if part != "table" and feature.hasGeometry():
            mine_geom = geometry_to_geojson(feature.geometry())
            mine_wkb = _wkb(feature.geometry())
    theirs = theirs_geom = None
    version = None
    if theirs_feature is not None:
        theirs = {k: v for k, v in wc.server_props(theirs_feature).items() if k in wc.writable}
        theirs_geom = theirs_feature.get("geometry")
        version = int((theirs_feature.get("properties") or {}).get("version") or 0)
        p = wc.part_for_geometry((theirs_geom or {}).get("type"))
        theirs_wkb = _wkb(wc._local_geometry(p, theirs_feature))
    fields: List[str] = []
    mine_changed: List[str] = []
    theirs_changed: List[str] = []
    if mine is not None and theirs is not None:
        names = [*wc.writable, GEOMETRY]
        b = {**base["props"], GEOMETRY: base["wkb"]}
        m, t = {**mine, GEOMETRY: mine_wkb}, {**theirs, GEOMETRY: theirs_wkb}
        fields = [k for k in names if m.get(k) != t.get(k)]
        mine_changed = merge.changed(b, m, names)
        theirs_changed = merge.changed(b, t, names)
    return Conflict(server_id, part, fid, base["props"], mine, theirs, mine_geom, theirs_geom,
                    version, theirs_feature, fields, description,
                    _from_wkb(base["wkb"]), mine_changed, theirs_changed)


def _from_wkb(wkb: Optional[bytes]) -> Optional[Dict[str, Any]]:
    if not wkb:
        return None
    geom = QgsGeometry()
    geom.fromWkb(wkb)  # an instance method in QGIS 3.22
    return geometry_to_geojson(geom)


def resolve(wc: WorkingCopy, conflict: Conflict, choice: Choice) -> None:
    """Apply the user's choice to the working copy (see the module docstring).

    ``choice``: "mine" or "theirs" for the fields changed on both sides, or a dict
    ``{field_or_"geometry": "mine"|"theirs"}`` for the fields it names (the others
    merge by the rule). A feature deleted on one side takes the side chosen as a
    whole ("geometry"'s side for a dict).
    """
    if isinstance(choice, dict):
        prefer = dict(choice)
    elif choice in (merge.MINE, merge.THEIRS):
        prefer = {k: str(choice) for k in conflict.both}
    else:
        raise ValueError(f"scelta non valida: {choice!r}")
    if conflict.mine is None or conflict.theirs is None:
        whole = choice if isinstance(choice, str) else choice.get(GEOMETRY, merge.MINE)
        if whole == merge.THEIRS:
            wc.replace_from_server(conflict.server_id, conflict.theirs_feature)
        else:
            wc.rebase(conflict.server_id, conflict.theirs_feature, keep_local=True)
        return
    wc.rebase(conflict.server_id, conflict.theirs_feature, keep_local=True, prefer=prefer)
