"""Reading the built-in sources' files: GeoJSON features, CSV rows, Italian numbers.

Structural problems of a file (not GeoJSON, a column missing, not UTF-8) stop the
whole load with ``ImportDataError`` naming the file: nothing of it can be trusted.
Problems of one row are ``RowError``s, which the engine reports and (all or
nothing) refuses with every other problem of the file.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NoReturn

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from rigenera.errors import ImportDataError

CENT = Decimal("0.01")


def fail(path: Path, reason: str) -> NoReturn:
    """Raise the one error type the CLI and API understand, naming the file."""
    raise ImportDataError(f"{path.name}: {reason}", errors=[{"field": path.name, "reason": reason}])


def sha256(path: Path) -> str:
    """SHA-256 of a file, for the imports record (which file brought these rows)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def text(value: Any) -> str | None:
    """Trimmed text, None for null/blank."""
    if value is None:
        return None
    s = str(value).strip()
    return s or None


@dataclass(frozen=True)
class Feature:
    """One GeoJSON feature: its 1-based number in the file, properties and geometry."""

    row: int
    props: dict[str, Any]
    geom: BaseGeometry


def read_features(path: Path, required: Sequence[str], geom_types: set[str]) -> list[Feature]:
    """A GeoJSON FeatureCollection in lon/lat, its columns and geometry types checked."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        fail(path, f"not valid GeoJSON ({exc})")
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        fail(path, "not a GeoJSON FeatureCollection")
    crs_member = doc.get("crs")
    crs = ((crs_member.get("properties") or {}).get("name")
           if isinstance(crs_member, dict) else None)
    if crs and not re.search(r"(CRS84|EPSG:{1,2}4326)$", str(crs)):
        fail(path, f"unsupported CRS {crs!r} (expected lon/lat WGS84)")
    raw = doc.get("features")
    if not isinstance(raw, list) or not raw:
        fail(path, "no features")
    out: list[Feature] = []
    for i, f in enumerate(raw):
        props = f.get("properties") if isinstance(f, dict) else None
        if not isinstance(props, dict):
            fail(path, f"feature {i}: no properties")
        missing = [c for c in required if c not in props]
        if missing:
            fail(path, f"missing column(s) {', '.join(missing)} (feature {i})")
        try:
            geom = shape(f["geometry"])
        except Exception as exc:  # shapely raises several types for bad input
            fail(path, f"feature {i}: invalid geometry ({exc})")
        if geom.is_empty or geom.geom_type not in geom_types:
            fail(path, f"feature {i}: geometry {geom.geom_type} is not one of "
                       f"{', '.join(sorted(geom_types))}")
        out.append(Feature(i + 1, props, geom))
    return out


def norm_header(name: str) -> str:
    """Headers compared without spaces and case: absorbs the PDF-extraction quirks
    ("Quota co- finanziata", "Finanziam ento parziale")."""
    return re.sub(r"\s+", "", name).casefold()


@dataclass(frozen=True)
class CsvRow:
    """One CSV data row: its 1-based data row number, values by canonical column,
    and every raw value by header."""

    row: int
    values: dict[str, str]
    raw: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return self.values[key]

    def get(self, key: str, default: str = "") -> str:
        return self.values.get(key, default)


def read_csv(path: Path, columns: Mapping[str, tuple[str, ...]],
             optional: Sequence[str] = ()) -> tuple[list[CsvRow], list[str]]:
    """Rows keyed by canonical column name (aliases matched with ``norm_header``)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if not header:
                fail(path, "empty file")
            index = {norm_header(h): i for i, h in reversed(list(enumerate(header)))}
            where: dict[str, int] = {}
            for canon, aliases in columns.items():
                found = next((index[norm_header(a)] for a in aliases
                              if norm_header(a) in index), None)
                if found is None:
                    if canon in optional:
                        continue
                    fail(path, f"missing column {aliases[0]!r}")
                where[canon] = found
            rows: list[CsvRow] = []
            for n, rec in enumerate(reader, start=1):
                if not any(v.strip() for v in rec):
                    continue
                if len(rec) != len(header):
                    fail(path, f"line {n + 1}: {len(rec)} fields, header has {len(header)}")
                rows.append(CsvRow(n, {c: rec[i].strip() for c, i in where.items()},
                                   {h: rec[i].strip() for i, h in enumerate(header)}))
    except UnicodeDecodeError as exc:
        fail(path, f"not UTF-8 ({exc})")
    return rows, header


_IT_NUMBER = re.compile(r"^-?\d{1,3}(\.\d{3})+(,\d+)?$|^-?\d+,\d+$")


def parse_amount(value: str) -> Decimal | None:
    """A non-negative amount: '1234.56', '1234', Italian '1.234,56' / '1234,5'.

    None for a blank; ValueError (with the reason) for anything else."""
    s = value.strip().replace("€", "").replace(" ", "")
    if not s:
        return None
    if _IT_NUMBER.match(s):
        s = s.replace(".", "").replace(",", ".")
    try:
        d = Decimal(s)
    except InvalidOperation:
        raise ValueError("non è un numero / not a number") from None
    if not d.is_finite() or d < 0:
        raise ValueError("non è un importo non negativo / not a non-negative amount")
    return d


def money(d: Decimal | None) -> str | None:
    """Decimal text with a dot and 2 decimals, the Frame's form of numeric(14,2)."""
    return None if d is None else str(d.quantize(CENT))
