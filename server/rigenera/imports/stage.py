"""A Frame into a temporary staging table, fast: Arrow -> CSV text -> COPY.

The staging table has the target's writable columns with the target's types, so the
target's own CHECK expressions run on it unchanged. Values are made to fit those
types here first, vectorised with pyarrow.compute (a number that is not a number, an
integer beyond the column's range, a date that is no date): such a cell becomes NULL
and a RowError, so COPY itself never fails on the user's data. Geometries travel as
``SRID=4326;<hex WKB>`` text, which PostGIS's geometry input reads directly; the hex
is made by numpy over the whole WKB buffer, not per row.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from psycopg2.extensions import cursor as Cursor

from rigenera.imports.frame import GEOM, ROW, Frame, RowError
from rigenera.imports.schema import PROJECT_CHILDREN, Target

BATCH_ROWS = 5_000
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_HEXPAIRS = np.stack([_HEX[np.arange(256) >> 4], _HEX[np.arange(256) & 15]], axis=1)

_INT_RANGES = {"smallint": (-(2**15), 2**15 - 1), "integer": (-(2**31), 2**31 - 1),
               "bigint": (-(2**63), 2**63 - 1)}
_NUMERIC = re.compile(r"numeric\((\d+),(\d+)\)")


def _msg(it: str, en: str) -> str:
    return f"{it} / {en}"


def hex_ewkb(arr: pa.Array) -> pa.Array:
    """WKB binary -> 'SRID=4326;<hex>' strings (nulls stay null), vectorised."""
    arr = arr.cast(pa.binary()) if not pa.types.is_binary(arr.type) else arr
    n = len(arr)
    if n == 0 or arr.null_count == n:
        return pa.nulls(n, pa.string())
    _, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int32)[arr.offset: arr.offset + n + 1]
    start, end = int(offsets[0]), int(offsets[-1])
    data = np.frombuffer(data_buf, dtype=np.uint8)[start:end] if data_buf is not None else \
        np.zeros(0, np.uint8)
    hexdata = _HEXPAIRS[data].reshape(-1)
    new_offsets = ((offsets - start) * 2).astype(np.int32)
    validity = arr.buffers()[0] if arr.null_count else None
    if validity is not None and arr.offset:
        arr = pa.concat_arrays([arr])  # re-base the bitmap
        validity = arr.buffers()[0]
    hexarr = pa.StringArray.from_buffers(n, pa.py_buffer(new_offsets.tobytes()),
                                         pa.py_buffer(hexdata.tobytes()), validity)
    return pc.binary_join_element_wise("SRID=4326;", hexarr, "")


def _row_errors(rows: pa.Array, bad: pa.Array, values: pa.Array, field: str,
                reason: str) -> list[RowError]:
    mask = pc.fill_null(bad, False)
    if not pc.any(mask).as_py():
        return []
    r = pc.filter(rows, mask).to_pylist()
    v = pc.filter(values.cast(pa.string()) if not pa.types.is_string(values.type)
                  else values, mask).to_pylist()
    return [RowError(int(a), field, reason, None if b is None else str(b)) for a, b in zip(r, v, strict=True)]


def _pg_array(values: list[object] | None) -> str | None:
    if values is None:
        return None
    parts = []
    for v in values:
        if v is None:
            parts.append("NULL")
        else:
            s = str(v).replace("\\", "\\\\").replace('"', '\\"')
            parts.append(f'"{s}"')
    return "{" + ",".join(parts) + "}"


def coerce(frame: Frame | pa.RecordBatch, target: Target) -> tuple[pa.Table, list[RowError]]:
    """The Frame's target columns cast to what the staging table takes: strings for
    text and numeric (checked), int64, float64, date32, bool; bad cells NULL + RowError."""
    rows = _array(frame.column(ROW)).cast(pa.int64())
    errors: list[RowError] = []
    cols: dict[str, pa.Array] = {ROW: rows}
    geom = _array(frame.column(GEOM))
    cols[GEOM] = geom if not pa.types.is_null(geom.type) else pa.nulls(len(geom), pa.binary())
    names = frame.schema.names
    for name in target.writable:
        if name not in names:
            continue
        col = _array(frame.column(name))
        typ = target.columns[name].type
        cols[name], errs = _coerce_column(rows, col, name, typ)
        errors += errs
    return pa.table(cols), errors


def _array(col: pa.Array | pa.ChunkedArray) -> pa.Array:
    return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col


def _coerce_column(rows: pa.Array, col: pa.Array, name: str,
                   typ: str) -> tuple[pa.Array, list[RowError]]:
    errors: list[RowError] = []
    if pa.types.is_null(col.type):
        return col, errors
    if typ.endswith("[]"):
        if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
            return pa.array([_pg_array(v) for v in col.to_pylist()], pa.string()), errors
        text = col.cast(pa.string())
        return pa.array([_pg_array([p.strip() for p in v.split(",") if p.strip()])
                         if v is not None else None for v in text.to_pylist()],
                        pa.string()), errors
    if typ in _INT_RANGES:
        lo, hi = _INT_RANGES[typ]
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            s = pc.utf8_trim_whitespace(col)
            ok = pc.match_substring_regex(s, r"^[+-]?[0-9]{1,18}$")
            bad = pc.and_(pc.invert(ok), pc.is_valid(s))
            errors += _row_errors(rows, bad, col, name, _msg("non è un numero intero",
                                                              "not an integer"))
            col = pc.if_else(ok, s, pa.scalar(None, pa.string())).cast(pa.int64())
        elif pa.types.is_floating(col.type):
            frac = pc.not_equal(col, pc.floor(col))
            errors += _row_errors(rows, frac, col, name, _msg("non è un numero intero",
                                                               "not an integer"))
            inrange = pc.and_(pc.greater_equal(col, float(lo)), pc.less_equal(col, float(hi)))
            col = pc.if_else(pc.and_(inrange, pc.invert(frac)), col, None).cast(pa.int64())
        else:
            col = col.cast(pa.int64())
        out = pc.or_(pc.less(col, lo), pc.greater(col, hi))
        errors += _row_errors(rows, out, col, name, _msg("numero fuori dall'intervallo ammesso",
                                                          "number out of range"))
        return pc.if_else(pc.fill_null(out, False), None, col), errors
    if typ.startswith("numeric") or typ in ("double precision", "real"):
        if pa.types.is_floating(col.type) or pa.types.is_integer(col.type):
            finite = pc.is_finite(col.cast(pa.float64()))
            errors += _row_errors(rows, pc.invert(finite), col, name,
                                  _msg("non è un numero finito", "not a finite number"))
            s = pc.if_else(finite, col, None).cast(pa.string())
        else:
            s = pc.utf8_trim_whitespace(col.cast(pa.string()))
            ok = pc.match_substring_regex(s, r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")
            bad = pc.and_(pc.invert(ok), pc.is_valid(s))
            errors += _row_errors(rows, bad, col, name, _msg("non è un numero", "not a number"))
            s = pc.if_else(ok, s, pa.scalar(None, pa.string()))
        m = _NUMERIC.fullmatch(typ.replace(" ", ""))
        if m:
            limit = 10.0 ** (int(m.group(1)) - int(m.group(2)))
            num = s.cast(pa.float64())
            over = pc.greater_equal(pc.abs(num), limit)
            errors += _row_errors(rows, over, s, name, _msg(
                f"numero troppo grande (massimo {limit:.0e})", f"number too large (max {limit:.0e})"))
            s = pc.if_else(pc.fill_null(over, False), None, s)
        return s, errors
    if typ == "date":
        if pa.types.is_date(col.type):
            return col.cast(pa.date32()), errors
        if pa.types.is_timestamp(col.type):
            return col.cast(pa.date32()), errors
        s = pc.utf8_trim_whitespace(col.cast(pa.string()))
        parsed = pc.strptime(s, format="%Y-%m-%d", unit="s", error_is_null=True)
        bad = pc.and_(pc.is_null(parsed), pc.is_valid(s))
        bad = pc.and_(bad, pc.not_equal(s, ""))
        errors += _row_errors(rows, bad, col, name, _msg("non è una data (AAAA-MM-GG)",
                                                          "not a date (YYYY-MM-DD)"))
        return parsed.cast(pa.date32()), errors
    if typ == "boolean":
        if pa.types.is_boolean(col.type):
            return col, errors
        s = pc.utf8_lower(pc.utf8_trim_whitespace(col.cast(pa.string())))
        yes = pc.is_in(s, pa.array(["true", "t", "1", "si", "sì", "yes", "y", "vero"]))
        no = pc.is_in(s, pa.array(["false", "f", "0", "no", "n", "falso"]))
        bad = pc.and_(pc.and_(pc.invert(yes), pc.invert(no)),
                      pc.and_(pc.is_valid(s), pc.not_equal(s, "")))
        errors += _row_errors(rows, bad, col, name, _msg("non è un valore sì/no", "not a yes/no value"))
        return pc.if_else(yes, True, pc.if_else(no, False, pa.scalar(None, pa.bool_()))), errors
    # text
    s = col.cast(pa.string()) if not pa.types.is_string(col.type) else col
    if pa.types.is_floating(col.type):
        # 12.0 from a spreadsheet column of codes: "12"
        s = pc.if_else(pc.equal(col, pc.floor(col)), col.cast(pa.int64(), safe=False).cast(
            pa.string()), s)
    nul = pc.match_substring(s, "\x00")
    errors += _row_errors(rows, nul, s, name, _msg("contiene il carattere NUL", "contains NUL"))
    return pc.if_else(pc.fill_null(nul, False), None, s), errors


def create_stage(cur: Cursor, target: Target, present: list[str]) -> None:
    """The staging table: _row, geom, and `present` with the target's types."""
    defs = ", ".join(f"{c} {target.columns[c].type}" for c in present)
    cur.execute("DROP TABLE IF EXISTS _imp_stage")
    cur.execute(f"CREATE TEMP TABLE _imp_stage (_row bigint NOT NULL, geom geometry"
                f"{', ' + defs if defs else ''}) ON COMMIT DROP")


def copy_stage(cur: Cursor, frame: Frame, target: Target, present: list[str],
               progress: Callable[[int], None] | None = None) -> list[RowError]:
    """Coerce and COPY the Frame into _imp_stage, BATCH_ROWS at a time: only one batch's
    conversions, hex and CSV text are in memory at once. Returns the conversion errors."""
    order = [ROW, GEOM, *present]
    done = 0
    errors: list[RowError] = []
    opts = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    sql = (f"COPY _imp_stage (_row, geom{''.join(', ' + c for c in present)})"
           " FROM STDIN WITH (FORMAT csv)")
    for raw in frame.to_batches(max_chunksize=BATCH_ROWS):
        table, errs = coerce(raw, target)
        errors += errs
        batch = table.select(order).combine_chunks()
        arrays = [_array(batch.column(0)), hex_ewkb(_array(batch.column(1))),
                  *(_array(c) for c in batch.columns[2:])]
        buf = io.BytesIO()
        pacsv.write_csv(pa.RecordBatch.from_arrays(arrays, names=order), buf, opts)
        del table, batch, arrays
        buf.seek(0)
        cur.copy_expert(sql, buf)
        done += raw.num_rows
        if progress is not None:
            progress(done)
    return errors


def stage_children(cur: Cursor, frame: Frame) -> list[str]:
    """Projects' child lists into _imp_comuni, _imp_sites, _imp_funding; returns which."""
    present = []
    rows = frame.column(ROW).combine_chunks()
    for name in PROJECT_CHILDREN:
        if name not in frame.column_names:
            continue
        present.append(name)
        col = frame.column(name).combine_chunks()
        if pa.types.is_null(col.type):
            col = pa.nulls(len(col), pa.list_(pa.string()))
        flat = pc.list_flatten(col)
        parents = pc.take(rows, pc.list_parent_indices(col))
        # Rows whose list is NULL (not given) vs empty (no comuni) differ: record which rows
        # gave the list at all.
        given = pc.filter(rows, pc.is_valid(col))
        cur.execute(f"DROP TABLE IF EXISTS _imp_{name}_given")
        cur.execute(f"CREATE TEMP TABLE _imp_{name}_given (_row bigint PRIMARY KEY) ON COMMIT DROP")
        _copy_columns(cur, f"_imp_{name}_given", {"_row": given})
        cur.execute(f"DROP TABLE IF EXISTS _imp_{name}")
        if name == "istat_codes":
            cur.execute("CREATE TEMP TABLE _imp_istat_codes (_row bigint, istat_code text)"
                        " ON COMMIT DROP")
            _copy_columns(cur, "_imp_istat_codes", {"_row": parents,
                                                    "istat_code": flat.cast(pa.string())})
        elif name == "site_ids":
            cur.execute("CREATE TEMP TABLE _imp_site_ids (_row bigint, site_id bigint)"
                        " ON COMMIT DROP")
            _copy_columns(cur, "_imp_site_ids", {"_row": parents, "site_id": flat.cast(pa.int64())})
        else:
            cur.execute("CREATE TEMP TABLE _imp_funding (_row bigint, n int, funding_source text,"
                        " programme_code text, status text, amount_eur text, amount_approx boolean,"
                        " call_title text, source_id text) ON COMMIT DROP")
            cols: dict[str, pa.Array] = {"_row": parents}
            # ordinal of the line within its project (for lines without a source_id)
            offsets = col.offsets.to_numpy()
            starts = np.repeat(offsets[:-1], np.diff(offsets))
            cols["n"] = pa.array(np.arange(len(flat)) - starts + 1, pa.int32())
            for f in ("funding_source", "programme_code", "status", "amount_eur", "amount_approx",
                      "call_title", "source_id"):
                if flat.type.get_field_index(f) >= 0:
                    v = pc.struct_field(flat, f)
                    cols[f] = v.cast(pa.bool_() if f == "amount_approx" else pa.string())
                else:
                    cols[f] = pa.nulls(len(flat), pa.bool_() if f == "amount_approx" else pa.string())
            _copy_columns(cur, "_imp_funding", cols)
    return present


def _copy_columns(cur: Cursor, table: str, cols: dict[str, pa.Array]) -> None:
    t = pa.table(cols)
    if t.num_rows == 0:
        return
    buf = io.BytesIO()
    pacsv.write_csv(t, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    buf.seek(0)
    cur.copy_expert(f"COPY {table} ({', '.join(cols)}) FROM STDIN WITH (FORMAT csv)", buf)
