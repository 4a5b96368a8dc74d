"""The 133 comuni (ISTAT boundaries 2023 via openpolis) and their population.

Comuni are reference data, not one of the four import collections: every other
row points at them, so they are written first, straight into ``rigenera.comuni``
(upsert on the ISTAT code: an identical re-load changes nothing), and the
metropolitan boundary is refreshed from them.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from pathlib import Path
from typing import Any

from psycopg2.extensions import cursor as Cursor

from rigenera.imports.sources.files import fail, read_csv, read_features, text
from rigenera.loaders.common import upsert, wkb

LOG = logging.getLogger(__name__)

FILE = "cmm_comuni_istat2023.geojson"
POPULATION_FILE = "cmm_comuni_popolazione_2023.csv"
SOURCE = ("ISTAT confini 2023 via openpolis geojson-italy; "
          "popolazione ISTAT 1/1/2023 (CC BY 4.0)")
ISTAT_RE = re.compile(r"^[0-9]{6}$")


def _population(path: Path) -> dict[str, int]:
    rows, _ = read_csv(path, {"code": ("com_istat_code",), "pop": ("pop_tot",)})
    out: dict[str, int] = {}
    for r in rows:
        code, pop = r["code"], r["pop"]
        if not ISTAT_RE.match(code):
            fail(path, f"line {r.row + 1}: com_istat_code {code!r} is not 6 digits")
        if not pop.isdigit():
            fail(path, f"line {r.row + 1}: pop_tot {pop!r} is not a non-negative integer")
        if code in out:
            fail(path, f"line {r.row + 1}: duplicate com_istat_code {code}")
        out[code] = int(pop)
    return out


def load(cur: Cursor, directory: Path) -> int | None:
    """Comuni first: every other table points at them. None when the file is absent
    (then the database must already hold them)."""
    path = directory / FILE
    if not path.exists():
        cur.execute("SELECT EXISTS (SELECT 1 FROM rigenera.comuni)")
        row = cur.fetchone()
        if not (row and row[0]):
            fail(path, "file not found and the database has no comuni yet: "
                       "the comuni must be loaded before anything else")
        LOG.info("%s not found: keeping the comuni already in the database", path.name)
        return None
    feats = read_features(path, ["name", "com_istat_code", "com_catasto_code"],
                          {"Polygon", "MultiPolygon"})
    pop_path = directory / POPULATION_FILE
    population = _population(pop_path) if pop_path.exists() else None
    rows: list[tuple[Any, ...]] = []
    for f in feats:
        code = text(f.props["com_istat_code"]) or ""
        if not ISTAT_RE.match(code):
            fail(path, f"feature {f.row - 1}: com_istat_code {code!r} is not 6 digits")
        name = text(f.props["name"])
        if name is None:
            fail(path, f"feature {f.row - 1}: name is empty")
        values: list[Any] = [code, name, text(f.props["com_catasto_code"])]
        if population is not None:
            if code not in population:
                LOG.warning("%s: no population for %s %s", pop_path.name, code, name)
            values.append(population.get(code))
        rows.append((*values, SOURCE, wkb(f.geom)))
    dup = [k for k, n in Counter(r[0] for r in rows).items() if n > 1]
    if dup:
        fail(path, f"duplicate com_istat_code: {', '.join(sorted(dup)[:5])}")
    columns = ["istat_code", "name", "cadastral_code"]
    if population is not None:
        columns.append("population")
    upsert(cur, "rigenera.comuni", [*columns, "source"], rows, key=("istat_code",),
           geom_sql="ST_Multi(ST_CollectionExtract(ST_MakeValid("
                    "ST_SetSRID(ST_GeomFromWKB({}), 4326)), 3))")
    cur.execute("SELECT rigenera.refresh_boundary()")
    return len(rows)
