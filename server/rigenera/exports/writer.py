"""Write an export: GeoPackage, CSV, XLSX with GDAL (pyogrio's Arrow writer), GeoJSON
batch by batch with GEOS (exact coordinates, see ``_write_geojson``).

The batches of ``query.read_batches`` go straight into ``pyogrio.write_arrow`` as an
Arrow stream, so GDAL writes while PostgreSQL reads and memory holds one batch.
Each format carries the attribution of its sources (attribution.py):
- GeoPackage: the layer's description (gpkg_contents.description) and the layer and
  dataset metadata (gpkg_metadata, where QGIS and GDAL show it);
- GeoJSON: a top-level member ``attribution`` (written by ``_write_geojson``: GDAL's
  GeoJSON writer rounds some coordinates, see there);
- XLSX: a second sheet "Fonti" (source, licence, link, features);
- CSV: a companion file ``<name>.sources.txt`` next to the CSV.
Geometry: WKB in the GeoPackage; GeoJSON and the ``wkt`` column of CSV and XLSX written
by GEOS at full precision (the shortest text that reads back to the same double), so an
export read back holds exactly the stored coordinates.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import shapely

from rigenera.catalogue import BY_ID
from rigenera.errors import InvalidParameter
from rigenera.exports import query
from rigenera.exports.attribution import Source, attribution_json, attribution_text, sources_of
from rigenera.exports.formats import XLSX_MAX_ROWS, Format

# GDAL geometry types of the layers; collections mixing types are "Unknown" (any).
_GEOMETRY_TYPES = {"comuni": "MultiPolygon", "mobility_links": "MultiLineString",
                   "transit_stops": "Point", "sites": "Unknown", "projects": "Unknown",
                   # Issue 11: needs mix points and areas; calls have none (NULL geometries).
                   "needs": "Unknown", "calls": "Unknown"}
SOURCES_SHEET = "Fonti"


@dataclass(frozen=True)
class ExportResult:
    path: Path
    files: tuple[Path, ...]  # the export and its companions (CSV: the sources file)
    features: int
    sources: tuple[Source, ...]
    seconds: float


def companion_path(path: Path) -> Path:
    """The CSV's attribution file: `name.csv` -> `name.sources.txt`."""
    return path.with_name(path.stem + ".sources.txt")


def _tabular(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Geometry as WKT (full precision), every value as the text the CSV shows: ISO dates
    and times, true/false (GDAL would write 2024/01/02 and 1/0)."""
    wkb = batch.column(batch.num_columns - 1)
    geoms = shapely.from_wkb(wkb.to_numpy(zero_copy_only=False))
    wkt = shapely.to_wkt(geoms, rounding_precision=-1)
    names = batch.schema.names[:-1]
    arrays = [batch.column(i) for i in range(len(names))]
    return pa.RecordBatch.from_arrays([*arrays, pa.array(wkt, type=pa.string())],
                                      names=[*names, "wkt"])


def _csv_text(batch: pa.RecordBatch) -> pa.RecordBatch:
    arrays = []
    for column in batch.columns:
        if pa.types.is_timestamp(column.type):
            column = pc.strftime(column, format="%Y-%m-%dT%H:%M:%S%z")
        elif pa.types.is_date(column.type) or pa.types.is_boolean(column.type):
            column = pc.cast(column, pa.string())
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def _stream(batches: Iterator[pa.RecordBatch], schema: pa.Schema, fmt: Format,
            counter: list[int], failure: list[BaseException]) -> pa.RecordBatchReader:
    """The batches as an Arrow stream in the shape the format takes, counting rows. An
    error while reading (GDAL sees only "stream failed") is kept in `failure`."""
    if fmt.tabular:
        schema = schema.remove(schema.get_field_index("_wkb")).append(pa.field("wkt", pa.string()))
        if fmt.name == "csv":
            schema = pa.schema([pa.field(f.name, pa.string()) if (
                pa.types.is_timestamp(f.type) or pa.types.is_date(f.type)
                or pa.types.is_boolean(f.type)) else f for f in schema])

    def shaped() -> Iterator[pa.RecordBatch]:
        try:
            for batch in batches:
                counter[0] += batch.num_rows
                out = _tabular(batch) if fmt.tabular else batch
                yield _csv_text(out) if fmt.name == "csv" else out
        except BaseException as exc:
            failure.append(exc)
            raise

    return pa.RecordBatchReader.from_batches(schema, shaped())


def write_export(dsn: str, q: query.ExportQuery, fmt: Format, path: Path, *,
                 max_xlsx_rows: int = XLSX_MAX_ROWS) -> ExportResult:
    """Export the published rows of `q` to `path` (and its companion files). More rows
    than an XLSX may hold (`max_xlsx_rows`) is a 400 naming `format`, before writing."""
    started = datetime.now(UTC)
    conn = query.connect(dsn)
    try:
        schema = query.load_schema(conn, q.collection)
        query.check_comuni(conn, q.comuni)
        where, params = query.where_clause(schema, q)
        sources = sources_of(query.read_sources(conn, schema, where, params))
        total = sum(s.features for s in sources)
        if fmt.name == "xlsx" and total > max_xlsx_rows:
            reason = (f"{total} elementi: XLSX fino a {max_xlsx_rows}, usare gpkg o csv / "
                      f"{total} features: XLSX up to {max_xlsx_rows}, use gpkg or csv")
            raise InvalidParameter(f"format: {reason}",
                                   errors=[{"field": "format", "reason": reason}])
        text = attribution_text(q.collection, sources, started, q.filter_text, q.comuni)
        counter: list[int] = [0]
        failure: list[BaseException] = []
        lists_as_text = fmt.name != "geojson"
        batches = query.read_batches(conn, schema, where, params, lists_as_text=lists_as_text)
        stream = _stream(batches, query.arrow_schema(schema, lists_as_text), fmt, counter,
                         failure)
        try:
            files = _write(stream, q, fmt, path, sources, text, started)
        except BaseException as exc:
            # No half-written file is left behind; the reading error is the one to report.
            for leftover in (path, companion_path(path)):
                leftover.unlink(missing_ok=True)
            if failure and failure[0] is not exc:
                raise failure[0] from exc
            raise
    finally:
        query.close(conn)
    seconds = (datetime.now(UTC) - started).total_seconds()
    return ExportResult(path, files, counter[0], tuple(sources), seconds)


def _write(stream: pa.RecordBatchReader, q: query.ExportQuery, fmt: Format, path: Path,
           sources: list[Source], text: str, started: datetime) -> tuple[Path, ...]:
    coll = BY_ID[q.collection]
    path.unlink(missing_ok=True)
    common: dict[str, Any] = {"layer": q.collection, "driver": fmt.driver}
    if not fmt.tabular:
        common.update(geometry_name="_wkb", geometry_type=_GEOMETRY_TYPES[q.collection],
                      crs="EPSG:4326")
    if fmt.name == "gpkg":
        pyogrio.write_arrow(
            stream, path, **common,
            layer_options={"DESCRIPTION": text, "IDENTIFIER": coll.title["it"]},
            layer_metadata={"ATTRIBUTION": text, "SOURCES": _sources_json(sources)},
            dataset_metadata={"ATTRIBUTION": text})
    elif fmt.name == "geojson":
        member = attribution_json(q.collection, sources, started, q.filter_text, q.comuni)
        _write_geojson(stream, path, coll.id_field, {
            "name": q.collection, "description": coll.title["it"], "attribution": member})
    elif fmt.name == "csv":
        pyogrio.write_arrow(stream, path, **common, layer_options={"LINEFORMAT": "LF"})
        companion = companion_path(path)
        companion.write_text(text, encoding="utf-8")
        return (path, companion)
    else:  # xlsx: the data, then the sheet of sources
        pyogrio.write_arrow(stream, path, **common)
        pyogrio.write_arrow(_sources_table(sources), path, layer=SOURCES_SHEET, driver="XLSX",
                            append=True)
    return (path,)


def _iso(value: Any) -> str:
    """Dates and times in GeoJSON properties: ISO 8601."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _write_geojson(stream: pa.RecordBatchReader, path: Path, id_field: str,
                   members: dict[str, Any]) -> None:
    """A GeoJSON FeatureCollection written batch by batch. Not GDAL's GeoJSON writer: it
    trims runs of nines (45.536899999999996 -> 45.5369), so vertices would move by 1e-15
    degrees and a re-import would see changed geometries; GEOS writes the shortest text
    that reads back to the stored double."""
    head = json.dumps({"type": "FeatureCollection", **members}, ensure_ascii=False)[:-1]
    with path.open("w", encoding="utf-8") as out:
        out.write(head + ',"features":[')
        sep = "\n"
        for batch in stream:
            wkb = batch.column(batch.num_columns - 1).to_numpy(zero_copy_only=False)
            geometries = shapely.to_geojson(shapely.from_wkb(wkb))
            rows = batch.drop_columns(["_wkb"]).to_pylist()
            for props, geometry in zip(rows, geometries, strict=True):
                out.write(f'{sep}{{"type":"Feature","id":{json.dumps(props[id_field])},'
                          f'"geometry":{geometry or "null"},"properties":'
                          f'{json.dumps(props, ensure_ascii=False, default=_iso)}}}')
                sep = ",\n"
        out.write("\n]}\n")


def _sources_json(sources: list[Source]) -> str:
    return json.dumps([s.to_json() for s in sources], ensure_ascii=False)


def _sources_table(sources: list[Source]) -> pa.Table:
    """The XLSX sheet "Fonti": one row per source (the count column also lets readers tell
    the header row from the data)."""
    return pa.table({
        "fonte": pa.array([s.source for s in sources], pa.string()),
        "licenza": pa.array([s.licence or "non indicata / not stated" for s in sources],
                            pa.string()),
        "link_licenza": pa.array([s.licence_url for s in sources], pa.string()),
        "elementi": pa.array([s.features for s in sources], pa.int64()),
    })
