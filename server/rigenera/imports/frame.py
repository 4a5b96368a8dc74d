"""The canonical input of the import engine, and what the engine is asked to do.

Every way in (a GIS file read by ``read_file``, a built-in source such as ReGiS,
an upload through the API) ends as a ``Frame``: a ``pyarrow.Table`` whose columns
are already named and typed like the storage columns of ``rigenera.<collection>``,
plus the ``RowError`` list of what could not be converted. The engine
(``import_frame``) then checks and writes a Frame set-wise in SQL, whoever built it.

A Frame's columns:

* ``_row`` int64: the row/feature number the user sees in their file (1-based
  data row), used in every message and in the rejection CSV;
* ``_geom`` binary: WKB in EPSG:4326 (lon/lat), or null;
* one column per target field, named as the storage column (``name``, ``state``,
  ``istat_code``, ``source``, ``source_id``, ``cup``, ``title``...), converted to
  Arrow types: string, int64, float64, decimal as *string* (dot decimal point,
  exact: ``"1234.56"``), date32, bool, list<string>;
* projects only, optional: ``istat_codes`` list<string>, ``site_ids`` list<int64>,
  ``funding`` list<struct<FUNDING_FIELDS>> (child rows keyed by (source, source_id)).

Columns the target table does not have are refused by the engine (a typo in a
mapping must not be silently dropped).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

type Frame = pa.Table
"""A ``pyarrow.Table`` with ``_row``, ``_geom`` and one column per target field."""

COLLECTIONS = ("sites", "projects", "mobility_links", "transit_stops", "calls", "needs")

ROW = "_row"
GEOM = "_geom"

# The struct of one funding line in a projects Frame's ``funding`` column.
FUNDING_TYPE = pa.struct([
    ("funding_source", pa.string()),
    ("programme_code", pa.string()),
    ("status", pa.string()),
    ("amount_eur", pa.string()),      # decimal text with a dot: "1234.56"
    ("amount_approx", pa.bool_()),
    ("call_title", pa.string()),
    ("source_id", pa.string()),
])
FUNDING_FIELDS = tuple(f.name for f in FUNDING_TYPE)


@dataclass(frozen=True)
class RowError:
    """One problem of one row of the user's file: which row, which field, why.

    ``row`` is the Frame's ``_row`` (0 for a problem of the whole file);
    ``value`` is the offending value as text, when there is one."""

    row: int
    field: str
    reason: str
    value: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "reason": self.reason, "value": self.value}


@dataclass(frozen=True)
class Note:
    """A remark of the import that is not an error of a row (source-specific: rows of
    the whole province, decree CUPs missing from ReGiS, measures left out)."""

    code: str
    message: str
    count: int | None = None
    items: Sequence[Any] | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.count is not None:
            doc["count"] = self.count
        if self.items is not None:
            doc["items"] = list(self.items)
        return doc


type ProgressCallback = Callable[[int, int | None], None]


@dataclass(frozen=True)
class ImportOptions:
    """What the caller asks of one import.

    * ``dry_run``: check and classify everything, write only the imports record;
    * ``skip_invalid``: write the valid rows and reject the others (default: all or
      nothing, one invalid row refuses the whole import);
    * ``actor``: who imports (a username, or ``import:<source>`` for built-in sources);
      it becomes ``rigenera.actor``, so created_by/updated_by and history say so;
    * ``reach``: a technician's comuni; every row (and, for updates, the stored row)
      must lie within them, else the whole import is refused (403). None: anywhere;
    * ``external``: features may lie outside the metro area (transit into Monza);
    * ``geometry_tolerance_m``: sites whose geometry equals a stored site's within
      this distance (Hausdorff, metres) are the same site: updated, not inserted;
    * ``progress``: called with (rows done, rows total) while the import runs;
    * ``notes``: remarks of a built-in source, copied into the report.
    """

    collection: str
    dry_run: bool = False
    skip_invalid: bool = False
    actor: str = "system"
    reach: tuple[str, ...] | None = None
    external: bool = False
    geometry_tolerance_m: float = 1.0
    progress: ProgressCallback | None = None
    notes: tuple[Note, ...] = field(default_factory=tuple)
    # The imports record to use (the API creates it first for asynchronous imports).
    import_id: int | None = None

    def __post_init__(self) -> None:
        if self.collection not in COLLECTIONS:
            from rigenera.errors import ImportDataError

            raise ImportDataError(
                f"collezione sconosciuta / unknown collection: {self.collection!r}",
                errors=[{"field": "collection", "reason": "one of " + ", ".join(COLLECTIONS)}])


@dataclass(frozen=True)
class SourceInfo:
    """What was read: the file's name and SHA-256, its format (``GPKG``, ``ESRI
    Shapefile``, ``GeoJSON``, ``CSV``, ``XLSX``, or a built-in source's name), the
    layer, the CRS it was in, and the mapping applied (its file name or text)."""

    name: str
    sha256: str
    format: str | None = None
    layer: str | None = None
    crs: str | None = None
    mapping: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "format": self.format,
                "layer": self.layer, "crs": self.crs, "mapping": self.mapping}


def empty_frame(columns: dict[str, pa.DataType] | None = None) -> Frame:
    """A Frame with no rows (``_row``, ``_geom`` and the given columns)."""
    fields = [pa.field(ROW, pa.int64()), pa.field(GEOM, pa.binary())]
    fields += [pa.field(k, v) for k, v in (columns or {}).items()]
    return pa.schema(fields).empty_table()


def check_frame(frame: Frame) -> None:
    """The two columns every Frame has, with their types (a programming error otherwise)."""
    names = frame.column_names
    if ROW not in names or GEOM not in names:
        raise TypeError(f"a Frame needs {ROW} and {GEOM} columns, got {names}")
    if not pa.types.is_integer(frame.schema.field(ROW).type):
        raise TypeError(f"{ROW} must be an integer column")
    gtype = frame.schema.field(GEOM).type
    if not (pa.types.is_binary(gtype) or pa.types.is_large_binary(gtype) or pa.types.is_null(gtype)):
        raise TypeError(f"{GEOM} must be a binary (WKB) column, not {gtype}")
