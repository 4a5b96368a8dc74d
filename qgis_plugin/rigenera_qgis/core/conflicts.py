"""Conflicts: the same feature changed here and on the server since the checkout.

The server refuses a changeset whose base versions are stale (409, nothing
written). For each refused feature we keep three states, base (what we
checked out), mine (the working copy) and theirs (the server now), and the
user chooses per feature: all mine, all theirs, or attribute by attribute
(``"geometry"`` counts as an attribute). Resolving never sends anything: it
rebases the working copy on *theirs* and leaves the chosen values local, so
the next synchronisation sends them with the current version. Nothing local
is dropped unless the user chose *theirs* for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Union

from .workingcopy import WorkingCopy, geometry_to_geojson

GEOMETRY = "geometry"
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
    base = wc.base().get(server_id, {"props": {}, "version": None})
    rows = wc.rows_of(server_id)
    mine = mine_geom = None
    part = fid = None
    if rows:
        part, fid = rows[0]
        feature = next(wc.layer(part).getFeatures([fid]))
        mine = {k: v for k, v in wc.local_props(feature).items() if k in wc.writable}
        mine_geom = geometry_to_geojson(feature.geometry()) if feature.hasGeometry() else None
    theirs = theirs_geom = None
    version = None
    if theirs_feature is not None:
        theirs = {k: v for k, v in wc.server_props(theirs_feature).items() if k in wc.writable}
        theirs_geom = theirs_feature.get("geometry")
        version = int((theirs_feature.get("properties") or {}).get("version") or 0)
    fields: List[str] = []
    if mine is not None and theirs is not None:
        fields = [k for k in wc.writable if mine.get(k) != theirs.get(k)]
        if not _same_geometry(wc, part, mine_geom, theirs_feature):
            fields.append(GEOMETRY)
    return Conflict(server_id, part, fid, base["props"], mine, theirs, mine_geom, theirs_geom,
                    version, theirs_feature, fields, description)


def _same_geometry(wc: WorkingCopy, part: Optional[str], mine: Optional[Dict[str, Any]],
                   theirs_feature: Optional[Dict[str, Any]]) -> bool:
    from .workingcopy import _wkb, geometry_from_geojson

    if part is None or theirs_feature is None:
        return mine is None
    p = wc.part(part)
    return _wkb(geometry_from_geojson(mine)) == _wkb(wc._local_geometry(p, theirs_feature))


def resolve(wc: WorkingCopy, conflict: Conflict, choice: Choice) -> None:
    """Apply the user's choice to the working copy (see the module docstring)."""
    if choice == "theirs":
        wc.replace_from_server(conflict.server_id, conflict.theirs_feature)
        return
    if choice == "mine":
        wc.rebase(conflict.server_id, conflict.theirs_feature, keep_local=True)
        return
    if not isinstance(choice, dict):
        raise ValueError(f"scelta non valida: {choice!r}")
    if conflict.mine is None or conflict.theirs is None:
        # A deletion on one side has no attributes to mix: the side chosen for the geometry wins.
        resolve(wc, conflict, choice.get(GEOMETRY, "mine"))
        return
    wc.rebase(conflict.server_id, conflict.theirs_feature, keep_local=True)
    take = {k: conflict.theirs[k] for k, side in choice.items()
            if side == "theirs" and k != GEOMETRY and k in conflict.theirs}
    take_geometry = choice.get(GEOMETRY) == "theirs"
    if conflict.part is not None and conflict.fid is not None and (take or take_geometry):
        wc.set_local_values(conflict.part, conflict.fid, take, conflict.theirs_geometry,
                            set_geometry=take_geometry)
