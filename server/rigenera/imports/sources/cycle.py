"""Comune di Milano cycle network (ds60) -> mobility_links.

A few features carry degenerate parts (a "line" of one repeated vertex), which
PostGIS rejects: those parts are dropped, a feature with no valid line left is
left out, and the report counts both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from psycopg2.extensions import cursor as Cursor
from shapely.geometry import LineString, MultiLineString
from shapely.geometry.base import BaseGeometry

from rigenera.imports.frame import Note
from rigenera.imports.sources.base import Batch, build_frame, info
from rigenera.imports.sources.files import read_features, text

FILE = "milano_piste_ciclabili_ds60.geojson"
SOURCE = "Comune di Milano – Open Data ds60 itinerari ciclabili (CC BY 4.0)"
COLUMNS = ("kind", "name", "status", "operator", "network", "typology", "source", "source_id")


def clean_lines(geom: BaseGeometry) -> MultiLineString | None:
    """The valid parts as a MultiLineString (fewer than 2 distinct vertices dropped);
    None when nothing valid is left."""
    parts = [p for p in getattr(geom, "geoms", [geom]) if len(set(p.coords)) >= 2]
    if not parts:
        return None
    multi = MultiLineString([LineString(p.coords) for p in parts])
    return multi if multi.is_valid else None


def build(_cur: Cursor, directory: Path) -> list[Batch]:
    path = directory / FILE
    if not path.exists():
        return []
    feats = read_features(path, ["id_amat", "anagrafica", "gerarchia", "tipologia"],
                          {"LineString", "MultiLineString"})
    rows: list[dict[str, Any]] = []
    dropped: list[str] = []
    repaired: list[str] = []
    for f in feats:
        sid = text(f.props["id_amat"])
        geom = clean_lines(f.geom)
        if geom is None:
            dropped.append(sid or f"#{f.row}")
            continue
        if len(geom.geoms) != len(getattr(f.geom, "geoms", [f.geom])):
            repaired.append(sid or f"#{f.row}")
        network = text(f.props["gerarchia"])
        rows.append({"_row": f.row, "_geom": geom,
                     "kind": "greenway" if network == "greenway" else "cycle_path",
                     "name": text(f.props["anagrafica"]), "status": "existing",
                     "operator": "Comune di Milano", "network": network,
                     "typology": text(f.props["tipologia"]), "source": SOURCE, "source_id": sid})
    notes: list[Note] = []
    if repaired:
        notes.append(Note("degenerate_parts_removed", "tratti degeneri rimossi / degenerate "
                          "parts removed", len(repaired), repaired))
    if dropped:
        notes.append(Note("no_valid_line", "elementi senza alcuna linea valida, esclusi / "
                          "features without any valid line, left out", len(dropped), dropped))
    return [Batch("mobility_links", build_frame(rows, COLUMNS), [], info(path), tuple(notes))]
