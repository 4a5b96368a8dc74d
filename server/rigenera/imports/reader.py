"""read_file: any GIS file we accept -> a Frame in EPSG:4326, with its RowErrors.

Every file first passes ``files.open_source`` (extension, size, zip-slip, zip-bomb,
encoding). GDAL (pyogrio, Arrow batches of 20,000 features, geometry as WKB) then
reads GeoPackage layers, zipped Shapefiles, GeoJSON, CSV and XLSX sheets. Tables
(CSV, XLSX) carry their location in columns: lon/lat (lon, lng, longitude, x...;
Italian decimal commas allowed), a WKT column, or only an ISTAT comune code (then a
project is placed on its comune's point; a site, which needs its own geometry, is
refused row by row).

CRS: the file's own (GeoPackage, Shapefile .prj); GeoJSON is CRS84 (RFC 7946), CSV
lon/lat EPSG:4326; anything else without a CRS is refused unless ``crs`` says it
(``crs`` also overrides a wrong one). Coordinates are transformed with pyproj over
whole arrays (shapely.transform). A file whose coordinates are not longitudes and
latitudes once transformed (a Gauss-Boaga file declared as EPSG:4326) is refused as
a whole, naming the CRS.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from rigenera.errors import ImportDataError
from rigenera.imports import mapping as mp
from rigenera.imports.files import FileLimits, SafeSource, gdal_errors, open_source
from rigenera.imports.frame import GEOM, ROW, Frame, Note, RowError, SourceInfo

BATCH = 10_000
_LON = ("lon", "lng", "long", "longitude", "longitudine", "x", "coord_x", "x_wgs84")
_LAT = ("lat", "latitude", "latitudine", "y", "coord_y", "y_wgs84")
_WKT = ("wkt", "geometry", "geom", "the_geom", "geometria", "wkt_geom")
_ISTAT = ("istat_code", "istat", "cod_istat", "codice_istat", "pro_com_t", "codice_comune",
          "istat_codes", "comune_istat")
_FORMATS = {"gpkg": "GPKG", "shapefile": "ESRI Shapefile", "geojson": "GeoJSON", "csv": "CSV",
            "xlsx": "XLSX"}
# Targets of every collection that a file without a mapping may fill (the engine
# checks the rest against the table).
_TARGETS = {
    "sites": {"name", "istat_code", "address", "ownership", "owner", "former_use", "state",
              "condition", "condition_notes", "surface_declared_m2", "contamination",
              "constraints", "source", "source_id"},
    "projects": {"title", "description", "cup", "implementing_body", "implementing_body_cf",
                 "status", "start_date", "end_date", "total_cost_eur", "housing_units_fragile",
                 "cultural_space_m2", "community_space_m2", "productive_space_m2",
                 "regenerated_m2", "geom_source", "source", "source_id", "cup_status", "scope",
                 "istat_codes", "site_ids"},
    "mobility_links": {"kind", "name", "status", "operator", "network", "typology", "source",
                       "source_id"},
    "transit_stops": {"mode", "name", "lines", "operator", "istat_code", "source", "source_id"},
    # Issue 11.
    "calls": {"title", "funder", "funding_source", "programme_code", "description", "themes",
              "eligible_beneficiaries", "eligible_istat_codes", "opens_on", "closes_on",
              "budget_eur", "max_grant_eur", "url", "source", "source_id"},
    "needs": {"istat_code", "title", "description", "category", "applicant", "priority", "status",
              "estimated_cost_eur", "needed_by", "source", "source_id"},
}
# Collections whose rows need no place: a call has none (a need has its comune at least).
_PLACELESS = ("projects", "calls")


def _msg(it: str, en: str) -> str:
    return f"{it} / {en}"


def _refuse(name: str, it: str, en: str, field: str = "file") -> ImportDataError:
    return ImportDataError(f"{name}: {_msg(it, en)}", errors=[{"field": field, "reason": en}],
                           body={"file": name})


def read_file(path: Path | str, collection: str, *, layer: str | None = None,
              mapping: mp.Mapping | Path | str | None = None, crs: str | None = None,
              file_name: str | None = None, limits: FileLimits | None = None,
              ) -> tuple[Frame, list[RowError], SourceInfo]:
    """Read `path` for `collection` (see the module). Raises ImportDataError (or
    files.UnsafeFile) for a file that cannot be read as a whole."""
    if mapping is not None and not isinstance(mapping, mp.Mapping):
        mapping = mp.load(Path(mapping) if not str(mapping).lstrip().startswith(
            ("fields", "layer", "crs", "geometry", "{")) else str(mapping))
    m = mapping if isinstance(mapping, mp.Mapping) else mp.Mapping()
    layer = layer or m.layer
    crs = crs or m.crs
    with open_source(Path(path), file_name=file_name, limits=limits) as src:
        name = src.file_name
        chosen = _choose_layer(src, layer, collection)
        frame, errors, used_crs, notes = _read(src, chosen, collection, m, crs)
    info = SourceInfo(name=name, sha256=src.sha256, format=_FORMATS.get(src.format, src.format),
                      layer=chosen, crs=used_crs, mapping=m.name or ("inline" if m.fields else None))
    frame = frame.replace_schema_metadata({"notes": "\x1e".join(
        f"{n.code}\x1f{n.message}" for n in [*notes, *(Note(str(d.get("code", "file")),
                                                            str(d.get("message", "")))
                                                       for d in src.notes)])})
    return frame, errors, info


def frame_notes(frame: Frame) -> list[Note]:
    """The notes read_file attached to a Frame (encoding transcoded, CRS overridden...)."""
    raw = (frame.schema.metadata or {}).get(b"notes", b"").decode()
    return [Note(*n.split("\x1f", 1)) for n in raw.split("\x1e") if "\x1f" in n]


def _choose_layer(src: SafeSource, layer: str | None, collection: str) -> str | None:
    names = [n for n, _ in src.layers] if src.layers else []
    if layer is not None:
        if names and layer not in names:
            raise _refuse(src.file_name, f"layer {layer!r} non trovato; layer: {', '.join(names)}",
                          f"layer {layer!r} not found; layers: {', '.join(names)}", "layer")
        return layer
    if len(names) <= 1:
        return names[0] if names else None
    if collection in names:
        return collection
    raise _refuse(src.file_name, f"il file ha più layer, sceglierne uno con --layer: {', '.join(names)}",
                  f"the file has several layers, choose one with --layer: {', '.join(names)}",
                  "layer")


def _open_options(fmt: str) -> dict[str, Any]:
    if fmt == "csv":
        return {"AUTODETECT_TYPE": "NO", "KEEP_GEOM_COLUMNS": "YES", "EMPTY_STRING_AS_NULL": "YES"}
    if fmt == "xlsx":
        return {"HEADERS": "FORCE"}
    return {}


def _read(src: SafeSource, layer: str | None, collection: str, m: mp.Mapping,
          crs: str | None) -> tuple[Frame, list[RowError], str | None, list[Note]]:
    errors: list[RowError] = []
    notes: list[Note] = []
    batches: list[pa.RecordBatch] = []
    table_format = src.format in ("csv", "xlsx")
    start = 1
    rules: list[mp.FieldRule] | None = None
    transformer: Transformer | None = None
    used_crs: str | None = None
    with gdal_errors(src), pyogrio.open_arrow(src.gdal_path, layer=layer, batch_size=BATCH,
                                              use_pyarrow=True, **_open_options(src.format)
                                              ) as (meta, reader):
            geom_name = meta.get("geometry_name") or "wkb_geometry"  # GDAL's unnamed column
            has_geom = bool(meta.get("geometry_type")) and not table_format
            file_crs = meta.get("crs")
            columns = [f for f in meta.get("fields", [])]
            loc = _location_columns(columns, m) if table_format else {}
            if table_format and not loc and collection not in _PLACELESS:
                raise _refuse(src.file_name, "nessuna colonna di posizione (lon/lat, WKT o codice "
                              "ISTAT)", "no location column (lon/lat, WKT or ISTAT code)",
                              "geometry")
            if has_geom or "lon" in loc or "wkt" in loc:
                used_crs, transformer = _crs(src, file_crs, crs, loc, has_geom, notes)
            for batch in reader:
                if rules is None:
                    rules = _rules(batch.schema.names, collection, m, loc, src.file_name)
                n = batch.num_rows
                rows = pa.array(np.arange(start, start + n, dtype=np.int64))
                start += n
                geom, gerr = _geometry(batch, geom_name if has_geom else None, loc, rows,
                                       transformer, used_crs, src.file_name)
                errors += gerr
                cols: dict[str, pa.Array] = {ROW: rows, GEOM: geom}
                for rule in rules:
                    col = batch.column(rule.source) if rule.source in batch.schema.names else \
                        pa.nulls(n, pa.string())
                    out, cerr = mp.convert(col, rule, rows, collection)
                    cols[rule.target] = _istat_text(out) if rule.target in (
                        "istat_code",) else out
                    errors += cerr
                if "istat" in loc and collection == "projects" and "istat_codes" not in cols:
                    codes = _istat_text(batch.column(loc["istat"]))
                    cols["istat_codes"] = pa.ListArray.from_arrays(
                        pa.array(np.arange(0, n + 1, dtype=np.int32)), codes,
                        mask=pc.is_null(codes))
                # A compact copy in Arrow's own pool: GDAL's batch buffers (held until the
                # batch dies) took ~1.7x the data; 100,000 polygons kept RSS over 250 MB.
                batches.append(pa.RecordBatch.from_pydict(
                    {k: pa.concat_arrays([v]) for k, v in cols.items()}))
                del batch
    if not batches:
        return pa.table({ROW: pa.array([], pa.int64()), GEOM: pa.array([], pa.binary())}), \
            errors, used_crs, notes
    frame = pa.Table.from_batches(_unify(batches))
    return frame, errors, used_crs, notes


def _unify(batches: list[pa.RecordBatch]) -> list[pa.RecordBatch]:
    schema = pa.unify_schemas([b.schema for b in batches], promote_options="permissive")
    return [pa.RecordBatch.from_arrays([b.column(f.name).cast(f.type) if f.name in b.schema.names
                                        else pa.nulls(b.num_rows, f.type) for f in schema],
                                       schema=schema) for b in batches]


def _istat_text(col: pa.Array) -> pa.Array:
    """ISTAT codes from a spreadsheet may have lost their leading zero (15146 -> '015146')."""
    if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
        col = col.cast(pa.int64(), safe=False).cast(pa.string())
    s = pc.utf8_trim_whitespace(col.cast(pa.string()))
    return pc.if_else(pc.match_substring_regex(s, r"^[0-9]{4,5}$"), pc.utf8_lpad(s, 6, "0"), s)


def _location_columns(columns: list[str], m: mp.Mapping) -> dict[str, str]:
    if m.geometry:
        missing = [v for v in m.geometry.values() if v not in columns]
        if missing:
            raise _refuse("mapping", f"colonne della geometria mancanti: {', '.join(missing)}",
                          f"geometry columns missing: {', '.join(missing)}", "geometry")
        return dict(m.geometry)
    lower = {c.lower().strip(): c for c in columns}
    out: dict[str, str] = {}
    lon = next((lower[k] for k in _LON if k in lower), None)
    lat = next((lower[k] for k in _LAT if k in lower), None)
    if lon and lat:
        out["lon"], out["lat"] = lon, lat
    elif (wkt := next((lower[k] for k in _WKT if k in lower), None)) is not None:
        out["wkt"] = wkt
    if (istat := next((lower[k] for k in _ISTAT if k in lower), None)) is not None:
        out["istat"] = istat
    return out


def _rules(names: list[str], collection: str, m: mp.Mapping, loc: dict[str, str],
           file_name: str) -> list[mp.FieldRule]:
    if m.fields:
        missing = [r.source for r in m.fields if r.source and r.source not in names]
        if missing:
            raise _refuse("mapping", f"colonne non trovate nel file: {', '.join(missing)}",
                          f"columns not found in the file: {', '.join(missing)}", "mapping")
        rules = list(m.fields)
    else:
        usable = [c for c in names if c not in loc.values() or c.lower() in _TARGETS[collection]]
        rules = mp.default_rules(usable, collection, _TARGETS[collection])
    if not any(r.target == "source" for r in rules):
        rules.append(mp.FieldRule("source", value=file_name))  # whence the rows came
    return rules


def _crs(src: SafeSource, file_crs: str | None, crs: str | None, loc: dict[str, str],
         has_geom: bool, notes: list[Note]) -> tuple[str, Transformer | None]:
    declared = file_crs
    if declared is None and src.format == "geojson":
        declared = "OGC:CRS84"
    if declared is None and "lon" in loc:
        declared = "EPSG:4326"
    chosen = crs or declared
    if chosen is None:
        raise _refuse(src.file_name, "il file non dichiara il sistema di riferimento: indicarlo "
                      "(--crs EPSG:32632)", "the file declares no CRS: give it (--crs EPSG:32632)",
                      "crs")
    try:
        source = CRS.from_user_input(chosen)
    except CRSError as exc:
        raise _refuse(src.file_name, f"sistema di riferimento sconosciuto {chosen!r}",
                      f"unknown CRS {chosen!r} ({exc})", "crs") from None
    if crs and file_crs and CRS.from_user_input(file_crs) != source:
        notes.append(Note("crs_overridden", _msg(
            f"il file dichiara {file_crs}; usato {crs} come richiesto",
            f"the file declares {file_crs}; {crs} used as asked")))
    label = source.to_string() if source.to_epsg() is None else f"EPSG:{source.to_epsg()}"
    if source.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        return label, None
    return label, Transformer.from_crs(source, CRS.from_epsg(4326), always_xy=True)


def _geometry(batch: pa.RecordBatch, geom_name: str | None, loc: dict[str, str], rows: pa.Array,
              transformer: Transformer | None, crs: str | None,
              file_name: str) -> tuple[pa.Array, list[RowError]]:
    n = batch.num_rows
    errors: list[RowError] = []
    if geom_name is not None and geom_name in batch.schema.names:
        wkb = batch.column(geom_name)
        if transformer is None:
            return wkb.cast(pa.binary()), errors
        geoms = shapely.from_wkb(wkb.to_numpy(zero_copy_only=False))
    elif "lon" in loc:
        x = mp.parse_number(batch.column(loc["lon"])).cast(pa.float64()).to_numpy(
            zero_copy_only=False)
        y = mp.parse_number(batch.column(loc["lat"])).cast(pa.float64()).to_numpy(
            zero_copy_only=False)
        given = _given_any(batch, [loc["lon"], loc["lat"]])
        bad = np.isnan(x) | np.isnan(y)
        for i in np.nonzero(bad & given)[0]:
            errors.append(RowError(int(rows[i].as_py()), "geometry", _msg(
                "coordinate lon/lat non numeriche", "lon/lat are not numbers"),
                f"{batch.column(loc['lon'])[i].as_py()} {batch.column(loc['lat'])[i].as_py()}"))
        geoms = shapely.points(x, y)
        geoms[bad] = None
    elif "wkt" in loc:
        text = batch.column(loc["wkt"]).cast(pa.string()).to_pylist()
        stripped = [re.sub(r"^\s*SRID=\d+;", "", t) if t else None for t in text]
        geoms = shapely.from_wkt(np.array(stripped, dtype=object), on_invalid="ignore")
        for i, (t, g) in enumerate(zip(stripped, geoms, strict=True)):
            if t and t.strip() and g is None:
                errors.append(RowError(int(rows[i].as_py()), "geometry", _msg(
                    "WKT non leggibile", "unreadable WKT"), t[:80]))
    else:
        return pa.nulls(n, pa.binary()), errors
    if transformer is not None:
        geoms = shapely.transform(geoms, lambda xy: np.column_stack(
            transformer.transform(xy[:, 0], xy[:, 1])))
    geoms = shapely.force_2d(geoms)
    errors += _not_lonlat(geoms, rows, crs, file_name)
    out = shapely.to_wkb(geoms)
    return pa.array(list(out), pa.binary()), errors


def _given_any(batch: pa.RecordBatch, names: list[str]) -> np.ndarray:
    given = np.zeros(batch.num_rows, dtype=bool)
    for nm in names:
        col = batch.column(nm).cast(pa.string())
        given |= pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(col), ""), False).to_numpy(
            zero_copy_only=False)
    return given


def _not_lonlat(geoms: np.ndarray, rows: pa.Array, crs: str | None,
                file_name: str) -> list[RowError]:
    """Coordinates that are no longitudes/latitudes once transformed: the CRS is wrong
    (most of the batch: the whole file is refused) or a few rows are. Geometries read as
    EPSG:4326 without a transformation are judged by the engine (outside the metro area,
    with a hint about the CRS), so the fast path never deserialises them here."""
    present = ~shapely.is_missing(geoms)
    if not present.any():
        return []
    b = shapely.bounds(geoms)
    with np.errstate(invalid="ignore"):
        bad = present & ((np.abs(b[:, 0]) > 180) | (np.abs(b[:, 2]) > 180)
                         | (np.abs(b[:, 1]) > 90) | (np.abs(b[:, 3]) > 90)
                         | ~np.isfinite(b).all(axis=1))
    if not bad.any():
        return []
    if bad.sum() * 2 > present.sum():
        raise _refuse(file_name, f"le coordinate non sono longitudini e latitudini dopo la "
                      f"trasformazione da {crs}: il sistema di riferimento è sbagliato? Indicarlo "
                      "con --crs", f"coordinates are not longitudes and latitudes once transformed "
                      f"from {crs}: is the CRS wrong? Give it with --crs", "crs")
    return [RowError(int(rows[i].as_py()), "geometry", _msg(
        "coordinate fuori da longitudine/latitudine", "coordinates outside lon/lat"), None)
        for i in np.nonzero(bad)[0]]


def original_values(path: Path | str, rows: set[int], *, layer: str | None = None,
                    file_name: str | None = None, limits: FileLimits | None = None,
                    ) -> dict[int, dict[str, Any]]:
    """The file's own columns of some rows (1-based, as `_row`), for the rejection CSV:
    the user fixes the rows where they are, as they wrote them. Attributes only, read
    again (cheap next to the import, and only when rows were rejected)."""
    wanted = sorted(r for r in rows if r > 0)
    if not wanted:
        return {}
    out: dict[int, dict[str, Any]] = {}
    with open_source(Path(path), file_name=file_name, limits=limits) as src, \
            gdal_errors(src), pyogrio.open_arrow(src.gdal_path, layer=layer, batch_size=BATCH,
                                                 read_geometry=False, use_pyarrow=True,
                                                 **_open_options(src.format)) as (_, reader):
        start = 1
        for batch in reader:
            n = batch.num_rows
            inside = [r for r in wanted if start <= r < start + n]
            if inside:
                picked = batch.take(pa.array([r - start for r in inside])).to_pylist()
                out.update(zip(inside, picked, strict=True))
            start += n
            if start > wanted[-1]:
                break
    return out
