"""The 2016 Milan census of degraded and abandoned buildings and areas -> sites.

192 points, all in Milano. Its vocabulary (condition -> state and condition, typology,
category) is ``sites2016.yml``, an import-engine mapping (the file also imports with
``rigenera import --mapping``); this module adds what a mapping cannot say: the
readable name, stable ids where cod_prog is missing or repeated, 'other' for an
unknown typology, and the report's notes. A condition not in the mapping is a
rejected row.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from psycopg2.extensions import cursor as Cursor

from rigenera.imports import mapping
from rigenera.imports.frame import Note, RowError
from rigenera.imports.sources.base import Batch, build_frame, info
from rigenera.imports.sources.files import Feature, read_features, text
from rigenera.imports.sources.vocab import HERE
from rigenera.loaders.common import comuni_of

FILE = "milano_edifici_aree_degrado_2016.geojson"
SOURCE = ("Comune di Milano, monitoraggio edifici e aree in degrado 2016, "
          "elab. Scandaglio/OffTopic (CC BY-NC 4.0)")
MAPPING = "sites2016.yml"
COLUMNS = ("name", "istat_code", "address", "ownership", "former_use", "state", "condition",
           "condition_notes", "source", "source_id")


class Vocabularies:
    """The enumerations of the mapping: target field -> (normalised synonym -> code)."""

    def __init__(self) -> None:
        rules = mapping.load(HERE / MAPPING).fields
        self.values = {r.target: r.values for r in rules if r.values}
        self.defaults = {r.target: r.default for r in rules if r.values}

    def get(self, target: str, value: str | None) -> str | None:
        if value is None or not value.strip():
            return self.defaults.get(target)
        return self.values[target].get(mapping.norm(value))


def site_conditions() -> set[str]:
    """The census condition spellings the mapping knows (normalised; not the codes)."""
    return {k for k, code in Vocabularies().values["state"].items() if k != mapping.norm(code)}


def source_ids(feats: Sequence[Feature]) -> list[str]:
    """cod_prog where present and unique in the file; otherwise a hash of place+address.

    12 features have no cod_prog; a repeated cod_prog gets the hash appended so
    both rows survive. The hash uses coordinates rounded to 6 decimals (~0.1 m)
    and the address, so it is stable across re-exports of the same data.
    """
    codes = [text(f.props.get("cod_prog")) for f in feats]
    seen = Counter(c for c in codes if c)
    out: list[str] = []
    for f, code in zip(feats, codes, strict=True):
        if code and seen[code] == 1:
            out.append(code)
            continue
        pt = f.geom.representative_point()
        basis = f"{pt.x:.6f},{pt.y:.6f},{text(f.props.get('address')) or ''}"
        digest = hashlib.sha1(basis.encode(), usedforsecurity=False).hexdigest()[:10]
        out.append(f"{code}-{digest}" if code else f"h{digest}")
    return out


def build(cur: Cursor, directory: Path) -> list[Batch]:
    path = directory / FILE
    if not path.exists():
        return []
    feats = read_features(
        path, ["cod_prog", "name", "address", "condition", "condition_desc", "typology",
               "category"], {"Point", "Polygon", "MultiPolygon"})
    vocab = Vocabularies()
    comuni = comuni_of(cur, [f.geom for f in feats])
    rows: list[dict[str, Any]] = []
    errors: list[RowError] = []
    other_use: Counter[str] = Counter()
    outside_milano = 0
    for f, sid, code in zip(feats, source_ids(feats), comuni, strict=True):
        p = f.props
        if code is None:
            errors.append(RowError(f.row, "geometry", "fuori dalla Città metropolitana / "
                                   "outside the metropolitan area", sid))
        elif code != "015146":
            outside_milano += 1
        condition = text(p["condition"])
        state, physical = vocab.get("state", condition), vocab.get("condition", condition)
        if state is None or physical is None:
            errors.append(RowError(f.row, "condition", "condizione sconosciuta / unknown "
                                   "condition (sites2016.yml)", condition))
        typology = text(p["typology"])
        use = vocab.get("former_use", typology)
        if use is None:
            other_use[typology or ""] += 1
        address = text(p["address"]) or text(p["name"])
        desc = text(p["condition_desc"])
        # name: the description says what the place is ("Ex cinema Maestoso", often
        # just "Abitazione"), the address where it is; together a readable label.
        name = " – ".join(x for x in (desc, address) if x) or None
        rows.append({
            "_row": f.row, "_geom": f.geom, "name": name, "istat_code": code,
            "address": address,
            "ownership": vocab.get("ownership", text(p["category"])) or "unknown",
            "former_use": use or "other", "state": state, "condition": physical,
            "condition_notes": "; ".join(x for x in (condition, desc) if x) or None,
            "source": SOURCE, "source_id": sid})
    notes: list[Note] = []
    if other_use:
        notes.append(Note("former_use_other", "tipologie non riconosciute, uso precedente "
                          "'other' / unknown typologies, former use 'other'",
                          sum(other_use.values()), sorted(other_use)))
    if outside_milano:
        notes.append(Note("outside_milano", "siti fuori dal Comune di Milano / sites "
                          "outside the Comune di Milano", outside_milano))
    frame = build_frame(rows, COLUMNS)
    return [Batch("sites", frame, errors, info(path, MAPPING), tuple(notes))]
