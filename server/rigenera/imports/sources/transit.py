"""ATM metro stations (ds535) and surface stops (ds534) -> transit_stops.

Stops may lie outside the metro area (33 surface stops on lines into Monza e
Brianza): the batches are ``external`` and those stops keep istat_code NULL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from psycopg2.extensions import cursor as Cursor

from rigenera.imports.frame import Note, RowError
from rigenera.imports.sources.base import Batch, build_frame, info
from rigenera.imports.sources.files import Feature, read_features, text
from rigenera.imports.sources.vocab import load_yaml
from rigenera.loaders.common import comuni_of

METRO_FILE = "milano_metro_fermate_ds535.geojson"
SURFACE_FILE = "milano_tpl_fermate_superficie_ds534.geojson"
SRC_METRO = "Comune di Milano – Open Data ds535 fermate metro ATM (CC BY 4.0)"
SRC_SURFACE = "Comune di Milano – Open Data ds534 fermate superficie ATM (CC BY 4.0)"
MAPPING = "transit.yml"
COLUMNS = ("mode", "name", "lines", "operator", "istat_code", "source", "source_id")


def _lines(f: Feature) -> list[str]:
    """The comma list of `linee` as trimmed codes ("2, 3" -> ["2", "3"])."""
    raw = text(f.props.get("linee"))
    return [p.strip() for p in (raw or "").split(",") if p.strip()]


def _batch(cur: Cursor, path: Path, name_key: str, source: str, metro: bool) -> Batch:
    cfg = load_yaml(MAPPING)
    tram = frozenset(str(x) for x in cfg["tram_lines"])
    feats = read_features(path, ["id_amat", name_key, "linee"], {"Point"})
    codes = comuni_of(cur, [f.geom for f in feats])
    rows: list[dict[str, Any]] = []
    errors: list[RowError] = []
    for f, code in zip(feats, codes, strict=True):
        lines = _lines(f)
        if not lines:
            errors.append(RowError(f.row, "lines", "linee vuoto / linee is empty", None))
        if metro:
            bad = [x for x in lines if not x.isdigit()]
            if bad:
                errors.append(RowError(f.row, "lines", "non è un numero di linea / not a "
                                       "line number", bad[0]))
            mode = "metro"
            lines = [f"{cfg['metro_line_prefix']}{x}" for x in lines]
        else:
            mode = "tram" if tram.intersection(lines) else "bus"
        rows.append({"_row": f.row, "_geom": f.geom, "mode": mode,
                     "name": text(f.props[name_key]), "lines": lines,
                     "operator": cfg["operator"], "istat_code": code, "source": source,
                     "source_id": text(f.props["id_amat"])})
    outside = codes.count(None)
    notes = (Note("outside_metro_area", "fermate fuori dalla Città metropolitana (comune "
                  "vuoto) / stops outside the metropolitan area (no comune)", outside),
             ) if outside else ()
    return Batch("transit_stops", build_frame(rows, COLUMNS), errors, info(path, MAPPING),
                 notes, external=True)


def build(cur: Cursor, directory: Path) -> list[Batch]:
    out: list[Batch] = []
    if (directory / METRO_FILE).exists():
        out.append(_batch(cur, directory / METRO_FILE, "nome", SRC_METRO, metro=True))
    if (directory / SURFACE_FILE).exists():
        out.append(_batch(cur, directory / SURFACE_FILE, "ubicazione", SRC_SURFACE, metro=False))
    return out
