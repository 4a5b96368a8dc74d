"""Mapping files: how the columns of someone else's file become our fields.

A mapping is YAML::

    layer: aree                      # optional: the layer / sheet to read
    crs: EPSG:3003                   # optional: the file's CRS when it does not say it
    geometry:                        # optional, tables (CSV/XLSX) only; found by name otherwise
      lon: X                         #   (or x:/y:) lon/lat columns, Italian decimals allowed
      lat: Y
      wkt: WKT                       #   or a WKT column
      istat: COD_ISTAT               #   or only a comune (projects: its point, comune_point)
    fields:
      name: DENOMINAZIONE            # target: source column (a rename)
      state:
        from: STATO
        type: enum                   # values: code -> synonyms (case and spaces ignored)
        values: {abandoned: [ABBANDONATO, dismessa], underused: [Sottoutilizzata]}
        default: abandoned           # for empty cells
      surface_declared_m2: {from: SUP_MQ, type: number}     # 1.234,56 or 1234.56
      start_date: {from: INIZIO, type: date}                # 31/12/2023 or 2023-12-31
      istat_codes: {from: COMUNI, type: list, separator: ";"}
      source: {value: "Comune di Rho, censimento 2024"}    # a constant

Without a mapping, columns named like a target field map to themselves (so our own
exports import back unchanged), Italian numbers and dates are understood wherever a
number or a date is expected, and enumerations accept the code or its Italian or
English label (domains.py) in any case. Conversions are vectorised (pyarrow.compute).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import yaml

from rigenera.domains import DOMAINS, FUNDING_SOURCE
from rigenera.errors import ImportDataError
from rigenera.imports.frame import RowError

TYPES = ("text", "integer", "number", "date", "bool", "enum", "list")


def _msg(it: str, en: str) -> str:
    return f"{it} / {en}"


def _fail(reason: str) -> ImportDataError:
    return ImportDataError(_msg("mappatura non valida", "invalid mapping") + f": {reason}",
                           errors=[{"field": "mapping", "reason": reason}])


@dataclass(frozen=True)
class FieldRule:
    target: str
    source: str | None = None        # the file's column
    type: str | None = None          # None: what the target field is (infer_type)
    values: dict[str, str] = field(default_factory=dict)   # normalised synonym -> code
    default: Any = None
    value: Any = None                # a constant
    separator: str = ","
    decimal: str | None = None       # "," forces Italian numbers


@dataclass(frozen=True)
class Mapping:
    fields: tuple[FieldRule, ...] = ()
    layer: str | None = None
    crs: str | None = None
    geometry: dict[str, str] = field(default_factory=dict)
    name: str | None = None          # the file it came from (report)


def norm(text: str) -> str:
    """Synonym key: case, accents of spacing and separators ignored."""
    return re.sub(r"[\s_\-./]+", " ", text).strip().casefold()


def load(path_or_text: Path | str) -> Mapping:
    """Parse and check a mapping (a path to a YAML file, or YAML text)."""
    name = None
    if isinstance(path_or_text, Path):
        name = path_or_text.name
        try:
            text = path_or_text.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise _fail(str(exc)) from None
    else:
        text = path_or_text
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _fail(f"YAML: {exc}".splitlines()[0]) from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise _fail("il documento deve essere un dizionario / the document must be a mapping")
    unknown = set(doc) - {"fields", "layer", "crs", "geometry"}
    if unknown:
        raise _fail(f"chiavi sconosciute / unknown keys: {', '.join(sorted(map(str, unknown)))}")
    rules = []
    fields = doc.get("fields") or {}
    if not isinstance(fields, dict):
        raise _fail("fields: atteso un dizionario campo: colonna / expected a field: column "
                    "dictionary")
    for target, spec in fields.items():
        rules.append(_rule(str(target), spec))
    geometry = doc.get("geometry") or {}
    if not isinstance(geometry, dict) or set(geometry) - {"lon", "lat", "x", "y", "wkt", "istat"}:
        raise _fail("geometry: lon/lat (x/y), wkt o istat")
    geometry = {("lon" if k == "x" else "lat" if k == "y" else k): str(v)
                for k, v in geometry.items()}
    return Mapping(tuple(rules), doc.get("layer"), doc.get("crs"), geometry, name)


def _rule(target: str, spec: Any) -> FieldRule:
    if isinstance(spec, str):
        return FieldRule(target, spec)
    if not isinstance(spec, dict):
        raise _fail(f"{target}: atteso un nome di colonna o un dizionario / expected a column name "
                    "or a dictionary")
    unknown = set(spec) - {"from", "type", "values", "default", "value", "separator", "decimal"}
    if unknown:
        raise _fail(f"{target}: chiavi sconosciute / unknown keys {', '.join(sorted(unknown))}")
    typ = spec.get("type", "enum" if "values" in spec else None)
    if typ is not None and typ not in TYPES:
        raise _fail(f"{target}: tipo {typ!r} sconosciuto / unknown type (one of {', '.join(TYPES)})")
    if "from" not in spec and "value" not in spec:
        raise _fail(f"{target}: serve 'from' o 'value' / 'from' or 'value' required")
    values: dict[str, str] = {}
    for code, synonyms in (spec.get("values") or {}).items():
        syn = synonyms if isinstance(synonyms, list) else [synonyms]
        for s in [code, *syn]:
            values[norm(str(s))] = str(code)
    return FieldRule(target, spec.get("from"), typ, values, spec.get("default"), spec.get("value"),
                     str(spec.get("separator", ",")), spec.get("decimal"))


# ----------------------------------------------------------------- conversions
def parse_number(col: pa.Array, decimal: str | None = None) -> pa.Array:
    """Text numbers -> decimal text with a dot ('1.234,56' -> '1234.56'); NULL if not a number.

    With a comma the Italian convention holds (dots group thousands); with only dots,
    one dot is a decimal point and several group thousands; ``decimal=','`` forces Italian.
    """
    s = pc.utf8_trim_whitespace(col.cast(pa.string()))
    s = pc.replace_substring(s, " ", "")
    s = pc.replace_substring(s, "\u00a0", "")
    s = pc.replace_substring_regex(s, r"^€|€$|^EUR", "")
    italian = pc.match_substring(s, ",")
    if decimal == ",":
        italian = pc.is_valid(s)
    several_dots = pc.match_substring_regex(s, r"\..*\.")
    it = pc.replace_substring(pc.replace_substring(s, ".", ""), ",", ".")
    dotted = pc.if_else(several_dots, pc.replace_substring(s, ".", ""), s)
    out = pc.if_else(pc.fill_null(italian, False), it, dotted)
    ok = pc.match_substring_regex(out, r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$")
    return pc.if_else(ok, out, pa.scalar(None, pa.string()))


_DATE_FORMATS = (  # strptime format, the regex of its parts (Arrow's strptime is lenient:
    # 31/02 became 03/03, so each parse is checked against the day and month written)
    ("%Y-%m-%d", r"^(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})$"),
    ("%Y/%m/%d", r"^(?P<y>[0-9]{4})/(?P<m>[0-9]{1,2})/(?P<d>[0-9]{1,2})$"),
    ("%d/%m/%Y", r"^(?P<d>[0-9]{1,2})/(?P<m>[0-9]{1,2})/(?P<y>[0-9]{4})$"),
    ("%d-%m-%Y", r"^(?P<d>[0-9]{1,2})-(?P<m>[0-9]{1,2})-(?P<y>[0-9]{4})$"),
    ("%d.%m.%Y", r"^(?P<d>[0-9]{1,2})\.(?P<m>[0-9]{1,2})\.(?P<y>[0-9]{4})$"),
)


def parse_date(col: pa.Array) -> pa.Array:
    """Text dates (ISO, 31/12/2023, 31-12-2023, 31.12.2023; a time part is dropped) -> date32;
    NULL for what is no real date (31/02/2023)."""
    if pa.types.is_date(col.type) or pa.types.is_timestamp(col.type):
        return col.cast(pa.date32())
    s = pc.utf8_trim_whitespace(col.cast(pa.string()))
    s = pc.replace_substring_regex(s, r"[T ].*$", "")
    out = pa.nulls(len(s), pa.date32())
    for fmt, regex in _DATE_FORMATS:
        parsed = pc.strptime(s, format=fmt, unit="s", error_is_null=True)
        parts = pc.extract_regex(s, regex)
        same = pc.and_(pc.equal(pc.day(parsed), pc.struct_field(parts, "d").cast(pa.int64())),
                       pc.equal(pc.month(parsed), pc.struct_field(parts, "m").cast(pa.int64())))
        ok = pc.fill_null(same, False)
        out = pc.coalesce(out, pc.if_else(ok, parsed.cast(pa.date32()),
                                          pa.scalar(None, pa.date32())))
    return out


def enum_synonyms(collection: str, column: str) -> dict[str, str]:
    """Code, Italian and English label (domains.py) of each value, normalised -> code."""
    labels = DOMAINS.get((collection, column))
    if labels is None and column == "funding_source":
        labels = FUNDING_SOURCE
    out: dict[str, str] = {norm(k): v for k, v in _EXTRA_SYNONYMS.get(column, {}).items()}
    for code, (it, en) in (labels or {}).items():
        for s in (code, it, en, *it.split(" / "), *en.split(" / ")):
            out.setdefault(norm(s), code)
    return out


def map_enum(col: pa.Array, synonyms: dict[str, str]) -> tuple[pa.Array, pa.Array]:
    """Values through the synonyms; returns (mapped, unknown mask). Unknown values are
    kept as given, so the table's rule names them."""
    s = col.cast(pa.string())
    # per distinct value, not per row
    enc = s.dictionary_encode()
    mapped_dict = pa.array([synonyms.get(norm(k)) for k in enc.dictionary.to_pylist()],
                           pa.string())
    mapped = pc.take(mapped_dict, enc.indices)
    blank = pc.equal(pc.utf8_trim_whitespace(s), "")
    unknown = pc.and_(pc.is_null(mapped), pc.and_(pc.is_valid(s), pc.invert(blank)))
    return pc.coalesce(mapped, pc.if_else(pc.equal(pc.utf8_trim_whitespace(s), ""),
                                          pa.scalar(None, pa.string()), s)), unknown


def _errors(rows: pa.Array, mask: pa.Array, values: pa.Array, field_name: str,
            reason: str) -> list[RowError]:
    mask = pc.fill_null(mask, False)
    if not pc.any(mask).as_py():
        return []
    return [RowError(int(r), field_name, reason, None if v is None else str(v))
            for r, v in zip(pc.filter(rows, mask).to_pylist(),
                            pc.filter(values.cast(pa.string()), mask).to_pylist(), strict=True)]


def convert(col: pa.Array, rule: FieldRule, rows: pa.Array,
            collection: str) -> tuple[pa.Array, list[RowError]]:
    """One source column through its rule."""
    errors: list[RowError] = []
    n = len(rows)
    kind = rule.type or infer_type(collection, rule.target)
    if rule.value is not None:
        return pa.array([rule.value] * n), errors
    text_like = pa.types.is_string(col.type) or pa.types.is_large_string(col.type)
    if rule.default is not None:
        blank = pc.is_null(col) if not text_like else pc.or_(
            pc.is_null(col), pc.equal(pc.utf8_trim_whitespace(col), ""))
        col = pc.if_else(blank, pa.scalar(str(rule.default)) if text_like or kind in (
            "text", "enum") else pa.scalar(rule.default), col.cast(pa.string()) if text_like or
            kind in ("text", "enum") else col)
    if kind == "number":
        if text_like or pa.types.is_string(col.type):
            out = parse_number(col, rule.decimal)
            errors += _errors(rows, pc.and_(pc.is_null(out), _given(col)), col, rule.target,
                              _msg("non è un numero", "not a number"))
            return out, errors
        return col, errors
    if kind == "integer":
        if pa.types.is_integer(col.type):
            return col, errors
        out = parse_number(col, rule.decimal)
        return out, errors  # stage.coerce checks it is whole and in range
    if kind == "date":
        out = parse_date(col)
        errors += _errors(rows, pc.and_(pc.is_null(out), _given(col)), col, rule.target,
                          _msg("non è una data", "not a date"))
        return out, errors
    if kind == "enum":
        synonyms = {**enum_synonyms(collection, rule.target), **rule.values}
        out, unknown = map_enum(col, synonyms)
        if rule.values:
            errors += _errors(rows, unknown, col, rule.target, _msg(
                "valore non previsto dalla mappatura", "value not in the mapping"))
        return out, errors
    if kind == "list":
        if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
            # Already a list (GeoJSON arrays, our own exports): its items as trimmed text.
            flat = pc.utf8_trim_whitespace(pc.list_flatten(col).cast(pa.string()))
            offsets = col.offsets if col.offset == 0 else pa.concat_arrays([col]).offsets
            return pa.ListArray.from_arrays(offsets, flat, mask=pc.is_null(col)), errors
        s = col.cast(pa.string())
        parts = pc.split_pattern(s, rule.separator)
        flat = pc.utf8_trim_whitespace(pc.list_flatten(parts))
        return pa.ListArray.from_arrays(parts.offsets, flat, mask=pc.is_null(s)), errors
    if kind == "bool":
        return col, errors  # stage.coerce reads sì/no, true/false, 1/0
    if pa.types.is_floating(col.type):
        return col, errors  # stage.coerce writes whole numbers without ".0"
    return col.cast(pa.string()), errors


def _given(col: pa.Array) -> pa.Array:
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return pc.and_(pc.is_valid(col), pc.not_equal(pc.utf8_trim_whitespace(col), ""))
    return pc.is_valid(col)


def infer_type(collection: str, target: str) -> str:
    """What a target field takes, where the file must be read for it: an enumeration
    (codes, labels, synonyms), a number, a date, a list; text otherwise."""
    if enum_synonyms(collection, target) or target in _ENUM_FIELDS:
        return "enum"
    return _TARGET_TYPES.get(target, "text")


def default_rules(columns: list[str], collection: str, targets: set[str]) -> list[FieldRule]:
    """No mapping: each column named like a target field (any case) maps to it; numbers,
    dates and enumerations are typed by the target (Italian spellings understood)."""
    by_lower = {c.lower(): c for c in columns}
    return [FieldRule(t, by_lower[t]) for t in sorted(targets) if t in by_lower]


# What a column is, where a file without a mapping needs to know (numbers and dates in
# Italian spelling); every other column is text, checked by the table's own rules.
_TARGET_TYPES = {
    "surface_declared_m2": "number", "total_cost_eur": "number", "cultural_space_m2": "number",
    "community_space_m2": "number", "productive_space_m2": "number", "regenerated_m2": "number",
    "housing_units_fragile": "integer", "start_date": "date", "end_date": "date",
    "istat_codes": "list", "site_ids": "list", "lines": "list",
    # Issue 11: calls and needs.
    "budget_eur": "number", "max_grant_eur": "number", "estimated_cost_eur": "number",
    "priority": "integer", "opens_on": "date", "closes_on": "date", "needed_by": "date",
    "themes": "list", "eligible_beneficiaries": "list", "eligible_istat_codes": "list",
}
_ENUM_FIELDS = {"cup_status", "scope", "geom_source", "status", "mode", "kind", "category",
                "applicant", "funding_source"}
# Spellings of the open data (ReGiS "Stato CUP": ATTIVO / Attivo / Chiuso) that are no label.
_EXTRA_SYNONYMS = {
    "cup_status": {"active": "active", "attivo": "active", "closed": "closed", "chiuso": "closed",
                   "cancelled": "cancelled", "annullato": "cancelled", "revocato": "cancelled"},
    "scope": {"local": "local", "locale": "local", "metro_area": "metro_area",
              "tutti i comuni": "metro_area", "città metropolitana": "metro_area"},
}
