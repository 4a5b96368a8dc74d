"""Importer of the real open data of the Milan metro area (``rigenera load-open-data DIR``).

Reads the files described in ``data/README.md`` (provenance in the shared
SOURCES.md) and merges them into the core tables in ONE transaction: a bad
file aborts everything and the database stays exactly as it was. Every row
carries a stable ``(source, source_id)`` key, so re-running the import
updates rows in place (and, through ``upsert``, only when something changed:
versions stay put on an identical re-run).

Each file is optional: an absent file is skipped with a log line; a present
file with wrong columns or values raises ``ImportDataError`` naming the file.
Plain ``json``/``csv`` + shapely are enough for files this size and keep the
validation explicit.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NoReturn

import psycopg2
from psycopg2.extensions import cursor as Cursor
from shapely.geometry import MultiLineString, shape
from shapely.geometry.base import BaseGeometry

from rigenera.errors import ImportDataError
from rigenera.loaders.common import begin_import, comuni_of, import_note, upsert, wkb

LOG = logging.getLogger(__name__)

# File names, as published in the shared data folder (see data/README.md).
COMUNI_FILE = "cmm_comuni_istat2023.geojson"
POPULATION_FILE = "cmm_comuni_popolazione_2023.csv"
METRO_FILE = "milano_metro_fermate_ds535.geojson"
SURFACE_FILE = "milano_tpl_fermate_superficie_ds534.geojson"
CYCLE_FILE = "milano_piste_ciclabili_ds60.geojson"
SITES_FILE = "milano_edifici_aree_degrado_2016.geojson"
RU_ALL1_FILE = "rigenerazione_urbana_dm2021-12-30_all1_istanze_cmm.csv"
RU_ALL3_FILE = "rigenerazione_urbana_dm2021-12-30_all3_finanziati_cmm.csv"

# `source` values: short attribution lines (SOURCES.md). They are half of the
# upsert key, so changing one later makes the next import insert new rows.
SRC_COMUNI = ("ISTAT confini 2023 via openpolis geojson-italy; "
              "popolazione ISTAT 1/1/2023 (CC BY 4.0)")
SRC_METRO = "Comune di Milano – Open Data ds535 fermate metro ATM (CC BY 4.0)"
SRC_SURFACE = "Comune di Milano – Open Data ds534 fermate superficie ATM (CC BY 4.0)"
SRC_CYCLE = "Comune di Milano – Open Data ds60 itinerari ciclabili (CC BY 4.0)"
SRC_SITES = ("Comune di Milano, monitoraggio edifici e aree in degrado 2016, "
             "elab. Scandaglio/OffTopic (CC BY-NC 4.0)")
SRC_RU = ("Ministero dell'Interno, DM 30/12/2021 rigenerazione urbana; "
          "dati ondata #datiBeneComune (CC BY-SA 4.0)")

MILANO = "015146"
ATM = "ATM"

# Tram lines of the Milan urban network: a surface stop served by at least one
# of them is a tram stop, every other one a bus (or trolleybus) stop.
TRAM_LINES = frozenset(
    {"1", "2", "3", "4", "5", "7", "9", "10", "12", "14", "15", "16", "19", "24", "27", "31", "33"}
)

# --- Sites: the 2016 census vocabulary mapped onto our domains -------------
# typology -> former_use. An unknown typology becomes 'other' (logged): the
# former use is descriptive and 'other' is an honest answer.
FORMER_USE = {
    "Produttivo": "industrial",
    "Residenza": "residential",
    "Terziario": "tertiary",
    "Area libera": "open_land",
    "Edifici rurali": "rural",
    "Scalo Ferroviario": "railway",
    "Commercio": "commercial",
    "Caserma": "military",
    "Parcheggi interrati": "parking",
}

# condition -> (state, physical condition). Every one of the 17 spellings found
# in the 2016 file is mapped on purpose; an unseen value is an error, because
# `state` is what the regeneration office filters on and must not be guessed.
# * abandoned: nothing goes on there (degraded/unused, not operating, empty,
#   ruin, unfinished skeleton, leftover land).
# * partly_used: the census itself says "in parte" / "semi": part still in use.
# * underused: in use below its potential (railway yards "Utilizzato"), or a
#   redevelopment/building site ("Riqualificazione", "Cantiere"): works have
#   started but the site is not regenerated yet and is not partly in use either.
# The physical condition is only set where the word says so: "Degrado" -> poor,
# ruins and bare concrete skeletons -> derelict; otherwise unknown.
SITE_CONDITION: dict[str, tuple[str, str]] = {
    "Degrado/Inutilizzo": ("abandoned", "poor"),
    "Degrado": ("abandoned", "poor"),
    "Non operativo": ("abandoned", "unknown"),
    "Inutilizzo": ("abandoned", "unknown"),
    "Inutilizzato": ("abandoned", "unknown"),
    "Vuoto": ("abandoned", "unknown"),
    "Rudere": ("abandoned", "derelict"),
    "Scheletro": ("abandoned", "derelict"),
    "Terreno": ("abandoned", "unknown"),
    "Degrado/Inutilizzo in parte": ("partly_used", "poor"),
    "Non operativo in parte": ("partly_used", "unknown"),
    "Non utilizzato in parte": ("partly_used", "unknown"),
    "Semi utilizzato": ("partly_used", "unknown"),
    "Semi utilizzo": ("partly_used", "unknown"),
    "Utilizzato": ("underused", "unknown"),
    "Riqualificazione": ("underused", "unknown"),
    "Cantiere": ("underused", "unknown"),
}

# category (the Scandaglio project's own tag, mostly empty) -> ownership.
OWNERSHIP = {"pubblico": "public", "privato": "private", "privata": "private"}

# --- Projects: PNRR M5C2 investment 2.1, DM 30/12/2021 -----------------------
RU_PROGRAMME_CODE = "M5C2I2.01.00"
RU_CALL_TITLE = "DM 30/12/2021 – Rigenerazione urbana (PNRR M5C2 inv. 2.1)"
RU_COFIN_TITLE = "Cofinanziamento comunale – DM 30/12/2021 rigenerazione urbana"
CUP_RE = re.compile(r"^[A-Z][0-9]{2}[A-Z][0-9]{11}$")
ISTAT_RE = re.compile(r"^[0-9]{6}$")
ADMITTED = {"Sì": "admitted", "Sì, con riserva": "admitted", "No": "not_admitted"}

# Canonical column -> accepted headers. Headers are compared without spaces
# and case, which absorbs the PDF-extraction quirks ("Quota co- finanziata",
# "Finanziam ento parziale"); all3 names the requested contribution
# "Richiesta contributo Di cui progettazione".
RU_COLUMNS: dict[str, tuple[str, ...]] = {
    "cup": ("CUP",),
    "ente": ("Ente",),
    "istat": ("Codice_ISTAT_Comune",),
    "cost": ("Costo complessivo",),
    "cofin": ("Quota co-finanziata",),
    "requested": ("Richiesta contributo", "Richiesta contributo Di cui progettazione"),
    "target": ("Target (mq rigenerati)",),
    "admitted": ("Ammesso/Non ammesso",),
    "reason": ("Motivazione",),
    "type": ("Tipologia intervento (lettera)",),
}
ASSIGNMENT_YEARS = tuple(f"Assegnazione {y}" for y in range(2021, 2027))
CENT = Decimal("0.01")


# --- Helpers -------------------------------------------------------------------


def _fail(path: Path, reason: str) -> NoReturn:
    """Raise the one error type the CLI and API understand, naming the file."""
    raise ImportDataError(
        f"{path.name}: {reason}", errors=[{"field": path.name, "reason": reason}]
    )


@contextmanager
def _file_stage(path: Path) -> Iterator[None]:
    """Attribute database-side rejections (CHECK, FK) to the file being loaded."""
    try:
        yield
    except ImportDataError as exc:
        if exc.description.startswith(f"{path.name}:"):
            raise
        _fail(path, exc.description)
    except psycopg2.Error as exc:
        diag = getattr(exc, "diag", None)
        _fail(path, getattr(diag, "message_primary", None) or str(exc).strip())


@dataclass(frozen=True)
class Feature:
    """One GeoJSON feature: its position in the file, properties and geometry."""

    index: int
    props: dict[str, Any]
    geom: BaseGeometry


def _read_features(path: Path, required: Sequence[str], geom_types: set[str]) -> list[Feature]:
    """Parse a GeoJSON FeatureCollection in lon/lat, checking columns and geometry types."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        _fail(path, f"not valid GeoJSON ({exc})")
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        _fail(path, "not a GeoJSON FeatureCollection")
    crs_member = doc.get("crs")
    crs = ((crs_member.get("properties") or {}).get("name")
           if isinstance(crs_member, dict) else None)
    if crs and not re.search(r"(CRS84|EPSG:{1,2}4326)$", str(crs)):
        _fail(path, f"unsupported CRS {crs!r} (expected lon/lat WGS84)")
    raw = doc.get("features")
    if not isinstance(raw, list) or not raw:
        _fail(path, "no features")
    out: list[Feature] = []
    for i, f in enumerate(raw):
        props = f.get("properties") if isinstance(f, dict) else None
        if not isinstance(props, dict):
            _fail(path, f"feature {i}: no properties")
        missing = [c for c in required if c not in props]
        if missing:
            _fail(path, f"missing column(s) {', '.join(missing)} (feature {i})")
        try:
            geom = shape(f["geometry"])
        except Exception as exc:  # shapely raises several types for bad input
            _fail(path, f"feature {i}: invalid geometry ({exc})")
        if geom.is_empty or geom.geom_type not in geom_types:
            _fail(path, f"feature {i}: geometry {geom.geom_type} is not one of "
                        f"{', '.join(sorted(geom_types))}")
        out.append(Feature(i, props, geom))
    return out


def _norm_header(name: str) -> str:
    return re.sub(r"\s+", "", name).casefold()


def _read_csv(path: Path, columns: Mapping[str, tuple[str, ...]],
              optional: Sequence[str] = ()) -> tuple[list[dict[str, str]], list[str]]:
    """Rows keyed by canonical column name; also returns the raw header."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if not header:
                _fail(path, "empty file")
            index = {_norm_header(h): i for i, h in reversed(list(enumerate(header)))}
            where: dict[str, int] = {}
            for canon, aliases in columns.items():
                found = next((index[_norm_header(a)] for a in aliases
                              if _norm_header(a) in index), None)
                if found is None:
                    if canon in optional:
                        continue
                    _fail(path, f"missing column {aliases[0]!r}")
                where[canon] = found
            rows = []
            for n, rec in enumerate(reader, start=2):
                if not any(v.strip() for v in rec):
                    continue
                if len(rec) != len(header):
                    _fail(path, f"line {n}: {len(rec)} fields, header has {len(header)}")
                rows.append({c: rec[i].strip() for c, i in where.items()}
                            | {f"@{h}": rec[i].strip() for i, h in enumerate(header)}
                            | {"@line": str(n)})
    except UnicodeDecodeError as exc:
        _fail(path, f"not UTF-8 ({exc})")
    return rows, header


def _decimal(path: Path, row: Mapping[str, str], col: str, *, required: bool,
             label: str | None = None) -> Decimal | None:
    """A non-negative amount with 2 decimals ('.' decimal point, as in the files)."""
    label = label or RU_COLUMNS.get(col, (col,))[0]
    text = row.get(col, "")
    if text == "":
        if required:
            _fail(path, f"line {row['@line']}: {label} is empty")
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        _fail(path, f"line {row['@line']}: {label} {text!r} is not a number")
    if not value.is_finite() or value < 0:
        _fail(path, f"line {row['@line']}: {label} {text!r} is not a non-negative amount")
    return value.quantize(CENT)


def _text(value: Any) -> str | None:
    """Trimmed text, None for null/blank."""
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def _source_id(path: Path, f: Feature, key: str) -> str:
    value = _text(f.props.get(key))
    if value is None:
        _fail(path, f"feature {f.index}: {key} is empty")
    return value


def _check_unique(path: Path, ids: Sequence[str], what: str) -> None:
    dup = [k for k, n in Counter(ids).items() if n > 1]
    if dup:
        _fail(path, f"duplicate {what}: {', '.join(sorted(dup)[:5])}")


def _count(cur: Cursor, sql: str, params: Sequence[Any] = ()) -> int:
    cur.execute(sql, params)
    row = cur.fetchone()
    return int(row[0]) if row else 0


# --- Comuni ------------------------------------------------------------------


def _population(path: Path) -> dict[str, int]:
    rows, _ = _read_csv(path, {"code": ("com_istat_code",), "pop": ("pop_tot",)})
    out: dict[str, int] = {}
    for r in rows:
        code, pop = r["code"], r["pop"]
        if not ISTAT_RE.match(code):
            _fail(path, f"line {r['@line']}: com_istat_code {code!r} is not 6 digits")
        if not pop.isdigit():
            _fail(path, f"line {r['@line']}: pop_tot {pop!r} is not a non-negative integer")
        if code in out:
            _fail(path, f"line {r['@line']}: duplicate com_istat_code {code}")
        out[code] = int(pop)
    return out


def _load_comuni(cur: Cursor, directory: Path) -> int | None:
    """Comuni first: every other table points at them. None when the file is absent."""
    path = directory / COMUNI_FILE
    if not path.exists():
        if _count(cur, "SELECT count(*) FROM rigenera.comuni") == 0:
            _fail(path, "file not found and the database has no comuni yet: "
                        "the comuni must be loaded before anything else")
        LOG.info("%s not found: keeping the comuni already in the database", path.name)
        return None
    feats = _read_features(path, ["name", "com_istat_code", "com_catasto_code"],
                           {"Polygon", "MultiPolygon"})
    pop_path = directory / POPULATION_FILE
    population: dict[str, int] | None = None
    if pop_path.exists():
        population = _population(pop_path)
    else:
        LOG.info("%s not found: comuni population left as it is", pop_path.name)
    rows: list[tuple[Any, ...]] = []
    for f in feats:
        code = _text(f.props["com_istat_code"]) or ""
        if not ISTAT_RE.match(code):
            _fail(path, f"feature {f.index}: com_istat_code {code!r} is not 6 digits")
        name = _text(f.props["name"])
        if name is None:
            _fail(path, f"feature {f.index}: name is empty")
        values: list[Any] = [code, name, _text(f.props["com_catasto_code"])]
        if population is not None:
            if code not in population:
                LOG.warning("%s: no population for %s %s", pop_path.name, code, name)
            values.append(population.get(code))
        rows.append((*values, SRC_COMUNI, wkb(f.geom)))
    _check_unique(path, [r[0] for r in rows], "com_istat_code")
    if population is not None:
        extra = sorted(set(population) - {r[0] for r in rows})
        if extra:
            LOG.warning("%s: %d codes not in %s ignored: %s", pop_path.name, len(extra),
                        path.name, ", ".join(extra[:5]))
    columns = ["istat_code", "name", "cadastral_code"]
    if population is not None:
        columns.append("population")
    with _file_stage(path):
        upsert(cur, "rigenera.comuni", [*columns, "source"], rows, key=("istat_code",),
               geom_sql="ST_Multi(ST_CollectionExtract(ST_MakeValid("
                        "ST_SetSRID(ST_GeomFromWKB({}), 4326)), 3))")
        cur.execute("SELECT rigenera.refresh_boundary()")
    return len(rows)


# --- Transit stops -------------------------------------------------------------------


def _lines(path: Path, f: Feature) -> list[str]:
    """The comma list of `linee` as trimmed codes ("2, 3" -> ["2", "3"])."""
    raw = _text(f.props.get("linee"))
    lines = [p.strip() for p in (raw or "").split(",") if p.strip()]
    if not lines:
        _fail(path, f"feature {f.index}: linee is empty")
    return lines


def _metro_rows(path: Path) -> tuple[list[tuple[Any, ...]], list[BaseGeometry]]:
    rows: list[tuple[Any, ...]] = []
    geoms: list[BaseGeometry] = []
    for f in _read_features(path, ["id_amat", "nome", "linee"], {"Point"}):
        lines = _lines(path, f)
        bad = [x for x in lines if not x.isdigit()]
        if bad:
            _fail(path, f"feature {f.index}: metro line {bad[0]!r} is not a line number")
        name = _text(f.props["nome"])
        if name is None:
            _fail(path, f"feature {f.index}: nome is empty")
        rows.append(("metro", name, [f"M{x}" for x in lines], ATM, SRC_METRO,
                     _source_id(path, f, "id_amat"), wkb(f.geom)))
        geoms.append(f.geom)
    _check_unique(path, [r[5] for r in rows], "id_amat")
    return rows, geoms


def _surface_rows(path: Path) -> tuple[list[tuple[Any, ...]], list[BaseGeometry]]:
    rows: list[tuple[Any, ...]] = []
    geoms: list[BaseGeometry] = []
    for f in _read_features(path, ["id_amat", "ubicazione", "linee"], {"Point"}):
        lines = _lines(path, f)
        name = _text(f.props["ubicazione"])
        if name is None:
            _fail(path, f"feature {f.index}: ubicazione is empty")
        mode = "tram" if TRAM_LINES.intersection(lines) else "bus"
        rows.append((mode, name, lines, ATM, SRC_SURFACE,
                     _source_id(path, f, "id_amat"), wkb(f.geom)))
        geoms.append(f.geom)
    _check_unique(path, [r[5] for r in rows], "id_amat")
    return rows, geoms


def _load_stops(cur: Cursor, directory: Path) -> int | None:
    """Metro and surface stops with their comune (NULL outside the metro area)."""
    total: int | None = None
    for name, build in ((METRO_FILE, _metro_rows), (SURFACE_FILE, _surface_rows)):
        path = directory / name
        if not path.exists():
            LOG.info("%s not found: skipped", name)
            continue
        rows, geoms = build(path)
        codes = comuni_of(cur, geoms)
        outside = codes.count(None)
        if outside:
            LOG.info("%s: %d stops outside the metropolitan area (istat_code NULL)",
                     name, outside)
        import_note(cur, name)
        with _file_stage(path):
            upsert(cur, "rigenera.transit_stops",
                   ["mode", "name", "lines", "operator", "istat_code", "source", "source_id"],
                   [(*r[:4], code, *r[4:]) for r, code in zip(rows, codes, strict=True)])
        total = (total or 0) + len(rows)
    return total


# --- Cycle network -------------------------------------------------------------------


def _clean_lines(geom: BaseGeometry) -> BaseGeometry | None:
    """Drop degenerate parts (fewer than 2 distinct vertices), which PostGIS rejects.

    Returns None when nothing valid is left.
    """
    if geom.is_valid:
        return geom
    parts = [p for p in getattr(geom, "geoms", [geom]) if len(set(p.coords)) >= 2]
    cleaned = MultiLineString(parts) if parts else None
    return cleaned if cleaned is not None and cleaned.is_valid else None


def _load_cycle(cur: Cursor, directory: Path) -> int | None:
    path = directory / CYCLE_FILE
    if not path.exists():
        LOG.info("%s not found: skipped", path.name)
        return None
    feats = _read_features(path, ["id_amat", "anagrafica", "gerarchia", "tipologia"],
                           {"LineString", "MultiLineString"})
    rows: list[tuple[Any, ...]] = []
    dropped: list[str] = []
    repaired = 0
    for f in feats:
        sid = _source_id(path, f, "id_amat")
        geom = _clean_lines(f.geom)
        if geom is None:
            dropped.append(sid)
            continue
        repaired += geom is not f.geom
        network = _text(f.props["gerarchia"])
        kind = "greenway" if network == "greenway" else "cycle_path"
        rows.append((kind, _text(f.props["anagrafica"]), "existing", "Comune di Milano",
                     network, _text(f.props["tipologia"]), SRC_CYCLE, sid, wkb(geom)))
    _check_unique(path, [r[7] for r in rows] + dropped, "id_amat")
    if repaired:
        LOG.warning("%s: %d features had degenerate parts removed", path.name, repaired)
    if dropped:
        LOG.warning("%s: %d features without any valid line skipped (id_amat %s)",
                    path.name, len(dropped), ", ".join(dropped[:10]))
    import_note(cur, path.name)
    with _file_stage(path):
        upsert(cur, "rigenera.mobility_links",
               ["kind", "name", "status", "operator", "network", "typology", "source",
                "source_id"], rows,
               geom_sql="ST_Multi(ST_SetSRID(ST_GeomFromWKB({}), 4326))")
    return len(rows)


# --- Sites -------------------------------------------------------------------------------


def _site_source_ids(feats: Sequence[Feature]) -> list[str]:
    """cod_prog where present and unique in the file; otherwise a hash of place+address.

    12 features have no cod_prog; a repeated cod_prog gets the hash appended so
    both rows survive. The hash uses coordinates rounded to 6 decimals (~0.1 m)
    and the address, so it is stable across re-exports of the same data.
    """
    codes = [_text(f.props.get("cod_prog")) for f in feats]
    seen = Counter(c for c in codes if c)
    out: list[str] = []
    for f, code in zip(feats, codes, strict=True):
        if code and seen[code] == 1:
            out.append(code)
            continue
        pt = f.geom.representative_point()
        basis = f"{pt.x:.6f},{pt.y:.6f},{_text(f.props.get('address')) or ''}"
        digest = hashlib.sha1(basis.encode(), usedforsecurity=False).hexdigest()[:10]
        out.append(f"{code}-{digest}" if code else f"h{digest}")
    return out


def _load_sites(cur: Cursor, directory: Path) -> int | None:
    path = directory / SITES_FILE
    if not path.exists():
        LOG.info("%s not found: skipped", path.name)
        return None
    feats = _read_features(
        path, ["cod_prog", "name", "address", "condition", "condition_desc", "typology",
               "category"], {"Point", "Polygon", "MultiPolygon"})
    ids = _site_source_ids(feats)
    _check_unique(path, ids, "site (same cod_prog, place and address)")
    # The comune of each site, set-wise; a site outside the metro area is a bad
    # coordinate (e.g. swapped lon/lat), not something to file under Milano.
    comuni = comuni_of(cur, [f.geom for f in feats])
    rows: list[tuple[Any, ...]] = []
    for f, sid, code in zip(feats, ids, comuni, strict=True):
        p = f.props
        if code is None:
            _fail(path, f"feature {f.index} ({sid}): outside the metropolitan area")
        if code != MILANO:
            LOG.warning("%s: site %s falls in comune %s, not Milano", path.name, sid, code)
        condition = _text(p["condition"])
        if condition not in SITE_CONDITION:
            _fail(path, f"feature {f.index} ({sid}): unknown condition {condition!r}")
        state, physical = SITE_CONDITION[condition]
        typology = _text(p["typology"])
        former_use = FORMER_USE.get(typology or "", "other")
        if typology not in FORMER_USE:
            LOG.warning("%s: typology %r of %s mapped to 'other'", path.name, typology, sid)
        ownership = OWNERSHIP.get((_text(p["category"]) or "").casefold(), "unknown")
        address = _text(p["address"]) or _text(p["name"])
        desc = _text(p["condition_desc"])
        # name: the description says what the place is ("Ex cinema Maestoso",
        # but often just "Abitazione"), the address where it is; together they
        # make a readable, nearly unique label. `name` in the file is the address.
        name = " – ".join(x for x in (desc, address) if x)
        if not name:
            _fail(path, f"feature {f.index} ({sid}): no condition_desc, name or address")
        notes = "; ".join(x for x in (condition, desc) if x)
        rows.append((name, code, address, ownership, former_use, state, physical, notes,
                     "to_validate", SRC_SITES, sid, wkb(f.geom)))
    import_note(cur, path.name)
    with _file_stage(path):
        upsert(cur, "rigenera.sites",
               ["name", "istat_code", "address", "ownership", "former_use", "state",
                "condition", "condition_notes", "validation_status", "source", "source_id"],
               rows)
    return len(rows)


# --- Projects (DM 30/12/2021) --------------------------------------------------------------


@dataclass
class RuProject:
    """One application to the urban-regeneration call, merged from all1 and all3."""

    cup: str
    ente: str
    istat: str
    cost: Decimal | None
    cofin: Decimal
    requested: Decimal
    target_m2: Decimal | None
    admitted: str
    admitted_text: str
    reason: str | None
    kind: str | None
    funded: bool
    path: Path
    line: str


def _ru_rows(path: Path, *, funded: bool) -> dict[str, RuProject]:
    rows, header = _read_csv(path, RU_COLUMNS, optional=("reason", "type", "cofin", "target"))
    if funded:
        missing = [y for y in ASSIGNMENT_YEARS
                   if _norm_header(y) not in {_norm_header(h) for h in header}]
        if missing:
            _fail(path, f"missing column {missing[0]!r}")
    out: dict[str, RuProject] = {}
    for r in rows:
        at = f"line {r['@line']}"
        cup = r["cup"]
        if not CUP_RE.match(cup):
            _fail(path, f"{at}: CUP {cup!r} is malformed (expected e.g. B99D21000000005)")
        if cup in out:
            _fail(path, f"{at}: CUP {cup} appears twice")
        if not ISTAT_RE.match(r["istat"]):
            _fail(path, f"{at}: Codice_ISTAT_Comune {r['istat']!r} is not 6 digits")
        if r["admitted"] not in ADMITTED:
            _fail(path, f"{at}: Ammesso/Non ammesso {r['admitted']!r} is not Sì, "
                        "Sì, con riserva or No")
        if not r["ente"]:
            _fail(path, f"{at}: Ente is empty")
        requested = _decimal(path, r, "requested", required=True)
        assert requested is not None
        if funded:
            # The yearly assignments must add up to the grant, give or take the
            # cent each yearly share was rounded to (15 of the 32 rows are off
            # by 0.01): catches a column shifted by the PDF extraction.
            by_norm = {_norm_header(k[1:]): k for k in r if k.startswith("@")}
            total = sum((_decimal(path, r, by_norm[_norm_header(y)], required=False, label=y)
                         or Decimal(0) for y in ASSIGNMENT_YEARS), Decimal(0))
            if abs(total - requested) > CENT * len(ASSIGNMENT_YEARS):
                _fail(path, f"{at}: Assegnazione 2021–2026 add up to {total}, "
                            f"not the requested contribution {requested}")
        target = _decimal(path, r, "target", required=False)
        out[cup] = RuProject(
            cup=cup, ente=r["ente"], istat=r["istat"],
            cost=_decimal(path, r, "cost", required=False),
            cofin=_decimal(path, r, "cofin", required=False) or Decimal("0.00"),
            requested=requested, target_m2=target, admitted=ADMITTED[r["admitted"]],
            admitted_text=r["admitted"], reason=r.get("reason") or None,
            kind=r.get("type") or None, funded=funded, path=path, line=at)
    return out


def _ru_description(p: RuProject, *, ranking_known: bool) -> str:
    """What the decree says about the application, in the decree's words."""
    parts = ["Domanda di contributo PNRR M5C2 inv. 2.1 (DM 30/12/2021)"]
    if p.kind:
        parts.append(f"tipologia intervento {p.kind.lower()}) DPCM 21/01/2021 art. 3 c. 1")
    parts.append(f"ammessa: {p.admitted_text}" + (f" ({p.reason})" if p.reason else ""))
    if p.funded:
        parts.append("finanziata nella prima graduatoria (all. 3)")
    elif ranking_known and p.admitted == "admitted":
        parts.append("non finanziata nella prima graduatoria")
    return "; ".join(parts)


def _load_projects(cur: Cursor, directory: Path) -> dict[str, int]:
    """One project per CUP, its comune and funding lines (PNRR + municipal co-financing).

    Location: the decree gives only the comune, so the geometry is the
    comune's ST_PointOnSurface with geom_source 'comune_point' — visible on
    the map, and flagged as approximate for anyone who edits it later.
    """
    all1, all3 = directory / RU_ALL1_FILE, directory / RU_ALL3_FILE
    projects: dict[str, RuProject] = {}
    if all1.exists():
        projects = _ru_rows(all1, funded=False)
    else:
        LOG.info("%s not found: skipped", all1.name)
    if all3.exists():
        for cup, p in _ru_rows(all3, funded=True).items():
            if cup in projects and projects[cup].requested != p.requested:
                LOG.warning("%s: %s requested %s in all. 1, %s in all. 3; using all. 3",
                            all3.name, cup, projects[cup].requested, p.requested)
            projects[cup] = p
    else:
        LOG.info("%s not found: skipped", all3.name)
    if not projects:
        return {}

    cur.execute("SELECT istat_code, ST_AsBinary(ST_PointOnSurface(geom)) FROM rigenera.comuni")
    points = {code: bytes(g) for code, g in cur.fetchall()}
    for p in projects.values():
        if p.istat not in points:
            _fail(p.path, f"{p.line}: Codice_ISTAT_Comune {p.istat} is not a comune "
                          "in the database")

    rows: list[tuple[Any, ...]] = []
    for p in projects.values():
        status = "funded" if p.funded else "rejected" if p.admitted == "not_admitted" else "planned"
        rows.append((f"Rigenerazione urbana – {p.ente} (CUP {p.cup})",
                     _ru_description(p, ranking_known=all3.exists()),
                     p.cup, p.ente, status, p.cost, p.target_m2, "comune_point", "to_validate",
                     SRC_RU, p.cup, points[p.istat]))
    stage_path = all1 if all1.exists() else all3
    import_note(cur, " + ".join(f.name for f in (all1, all3) if f.exists()))
    with _file_stage(stage_path):
        upsert(cur, "rigenera.projects",
               ["title", "description", "cup", "implementing_body", "status", "total_cost_eur",
                "regenerated_m2", "geom_source", "validation_status", "source", "source_id"],
               rows)
        cur.execute("SELECT source_id, id FROM rigenera.projects"
                    " WHERE source = %s AND source_id = ANY(%s)", (SRC_RU, list(projects)))
        ids: dict[str, int] = dict(cur.fetchall())
        cur.execute(
            "INSERT INTO rigenera.project_comuni (project_id, istat_code)"
            " SELECT * FROM unnest(%s::bigint[], %s::text[]) ON CONFLICT DO NOTHING",
            ([ids[c] for c in projects], [p.istat for p in projects.values()]))

        lines: list[tuple[Any, ...]] = []
        for cup, p in projects.items():
            status = ("granted" if p.funded
                      else "not_granted" if p.admitted == "not_admitted" else "requested")
            lines.append((ids[cup], "pnrr", RU_PROGRAMME_CODE, RU_CALL_TITLE, status,
                          p.requested, SRC_RU, f"{cup}-pnrr"))
            if p.cofin > 0:
                # The comune's own share stands or falls with the application.
                lines.append((ids[cup], "municipal", None, RU_COFIN_TITLE, status, p.cofin,
                              SRC_RU, f"{cup}-cofin"))
        upsert(cur, "rigenera.funding_lines",
               ["project_id", "funding_source", "programme_code", "call_title", "status",
                "amount_eur", "source", "source_id"], lines, geom_column=None)
        # A line the files no longer justify (e.g. co-financing dropped to 0) goes.
        cur.execute("DELETE FROM rigenera.funding_lines WHERE source = %s"
                    " AND project_id = ANY(%s) AND NOT (source_id = ANY(%s))",
                    (SRC_RU, list(ids.values()), [ln[-1] for ln in lines]))
    return {"projects": len(rows), "project_comuni": len(rows), "funding_lines": len(lines)}


# --- Entry point ---------------------------------------------------------------------------


def load_open_data(dsn: str, directory: Path) -> dict[str, int]:
    """Load every known file of `directory` in one transaction; rows per table.

    Only tables with at least one file present appear in the result.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ImportDataError(f"{directory}: not a directory")
    counts: dict[str, int] = {}
    started = time.monotonic()
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            begin_import(cur, "opendata")
            for table, step in (("comuni", _load_comuni), ("transit_stops", _load_stops),
                                ("mobility_links", _load_cycle), ("sites", _load_sites)):
                t0 = time.monotonic()
                n = step(cur, directory)
                if n is not None:
                    counts[table] = n
                    LOG.info("%s: %d rows (%.1f s)", table, n, time.monotonic() - t0)
            counts.update(_load_projects(cur, directory))
    finally:
        conn.close()
    LOG.info("open data loaded in %.1f s: %s", time.monotonic() - started, counts)
    return counts
