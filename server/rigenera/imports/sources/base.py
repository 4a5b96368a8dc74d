"""What every built-in source hands the engine: a Batch (Frame + row errors + what
was read + the source's notes), built from plain row dicts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from shapely.geometry.base import BaseGeometry

from rigenera.imports.frame import FUNDING_TYPE, GEOM, ROW, Frame, Note, RowError, SourceInfo
from rigenera.imports.sources.files import sha256

# Arrow types of the Frame columns that are not plain text.
TYPES: dict[str, pa.DataType] = {
    ROW: pa.int64(),
    GEOM: pa.binary(),
    "lines": pa.list_(pa.string()),
    "istat_codes": pa.list_(pa.string()),
    "site_ids": pa.list_(pa.int64()),
    "funding": pa.list_(FUNDING_TYPE),
}


@dataclass(frozen=True)
class Batch:
    """One import_frame call: a collection's Frame from one source's file(s)."""

    collection: str
    frame: Frame
    errors: list[RowError]
    source: SourceInfo
    notes: tuple[Note, ...] = ()
    external: bool = False


def build_frame(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> Frame:
    """A Frame from row dicts (``_row``, ``_geom`` as shapely or WKB, the columns)."""
    names = [ROW, GEOM, *columns]
    data: dict[str, list[Any]] = {n: [] for n in names}
    for r in rows:
        for n in names:
            v = r.get(n)
            if n == GEOM and isinstance(v, BaseGeometry):
                v = None if v.is_empty else bytes(v.wkb)
            data[n].append(v)
    schema = pa.schema([pa.field(n, TYPES.get(n, pa.string())) for n in names])
    return pa.table(data, schema=schema)


def info(path: Path | Sequence[Path], mapping: str | None = None, *,
         name: str | None = None) -> SourceInfo:
    """What was read: the file (or files, names joined with ' + ', SHA-256 of the first
    when one, else of the names' and files' hashes together)."""
    paths = [path] if isinstance(path, Path) else list(path)
    if len(paths) == 1:
        digest = sha256(paths[0])
    else:
        import hashlib

        digest = hashlib.sha256("".join(sha256(p) for p in paths).encode()).hexdigest()
    fmt = "GeoJSON" if paths[0].suffix == ".geojson" else "CSV"
    return SourceInfo(name=name or " + ".join(p.name for p in paths), sha256=digest,
                      format=fmt, crs="EPSG:4326" if fmt == "GeoJSON" else None,
                      mapping=mapping)

