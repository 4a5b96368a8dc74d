"""Italia Domani / ReGiS PNRR projects, joined on CUP with the DM 30/12/2021 lists.

Two files: the *universe* of localisations (one row per CUP x sub-measure x comune,
no titles nor amounts) and the *validated projects* (title, summary, implementing
body, CUP status, 14 amount columns). One project per CUP:

* in scope when one of its sub-measures is listed in ``regis_scope.yml`` (or the file
  given), or when the decree lists it; the report counts the CUPs left out;
* title: the validated title, else the decree's, else sub-measure description + CUP
  (counted in the report); a placeholder title ("Da definire") counts as none;
* its comuni: every comune it is localised in; localised only "TUTTI I COMUNI" ->
  scope ``metro_area``, no comune, no geometry (counted);
* funding lines: the decree's (exact), then per validated row each non-zero amount
  column (``regis.yml``), PNRR ones with their sub-measure code; a sub-measure with
  no validated row gives a PNRR line with its code and no amount (not published);
  amounts that went through float32 are flagged ``amount_approx`` (``float32_approx``);
* the implementing body's tax code lost its leading zeros in the source (a number
  column: 1,042 of 1,942 rows): padded to 11 digits when the check digit then holds,
  else stored NULL and listed in the report (``tax_code``).

A CUP in ReGiS and in the decree is ONE project, attributed to ReGiS (source_id = CUP);
a decree CUP that ReGiS lacks stays a decree project and the report lists it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from psycopg2.extensions import cursor as Cursor

from rigenera.imports.frame import Note, RowError
from rigenera.imports.sources import dm2021
from rigenera.imports.sources.base import Batch, build_frame, info
from rigenera.imports.sources.files import CsvRow, money, parse_amount, read_csv, text
from rigenera.imports.sources.vocab import HERE, Vocabulary, load_yaml, read_yaml, word

SOURCE = "Italia Domani – Open Data PNRR (ReGiS), CC BY 4.0"
MAPPING = "regis.yml"
SCOPE_FILE = HERE / "regis_scope.yml"
COLUMNS = ("title", "description", "cup", "implementing_body", "implementing_body_cf", "status",
           "cup_status", "scope", "total_cost_eur", "regenerated_m2", "source", "source_id",
           "istat_codes", "funding")
LOC_COLUMNS = {"sub": ("Codice Univoco submisura",), "sub_desc": ("Descrizione Submisura",),
               "cup": ("CUP",), "istat": ("COD_ISTAT_COMUNE",),
               "comune": ("Descrizione Comune",)}
VAL_COLUMNS = {"sub": ("Codice Univoco Submisura",), "sub_desc": ("Descrizione Submisura",),
               "cup": ("CUP",), "clp": ("Codice Locale Progetto",), "cup_status": ("Stato CUP",),
               "title": ("Titolo progetto",), "summary": ("Sintesi progetto",),
               "body": ("Soggetto attuatore",), "cf": ("Codice fiscale soggetto attuatore",),
               "procedure": ("Titolo procedura",)}
MEASURE_RE = re.compile(r"^(M\d)(C\d)([IR]\d+)\.(\d{2})\.(\d{2})$")
FLOAT32_WHOLE_MAX = Decimal(2) ** 24   # whole euros exact up to here
FLOAT32_CENTS_MAX = Decimal(2) ** 17   # a cent is wider than float32's step below here


def config() -> dict[str, Any]:
    return load_yaml(MAPPING)


# --- Rules, each testable on its own ------------------------------------------------------


def measure_levels(code: str) -> set[str]:
    """M5C2I2.01.00 -> {M5, M5C2, M5C2I2, M5C2I2.01, M5C2I2.01.00}."""
    m = MEASURE_RE.match(code)
    if not m:
        return {code}
    mi, co, inv, me, _sub = m.groups()
    return {mi, mi + co, mi + co + inv, f"{mi}{co}{inv}.{me}", code}


class Scope:
    """The PNRR measures a load takes (regis_scope.yml)."""

    def __init__(self, measures: Iterable[str], origin: str) -> None:
        self.measures = frozenset(m.strip().upper() for m in measures)
        self.origin = origin

    @classmethod
    def read(cls, path: Path | None = None) -> Scope:
        path = path or SCOPE_FILE
        doc = read_yaml(path)
        measures = doc.get("measures")
        if not isinstance(measures, list) or not all(isinstance(m, str) for m in measures):
            from rigenera.errors import ImportDataError

            raise ImportDataError(f"{path.name}: 'measures' must be a list of PNRR codes",
                                  errors=[{"field": "measures", "reason": "a list of codes"}])
        return cls(measures, path.name)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and bool(measure_levels(code) & self.measures)


def float32_approx(amount: Decimal) -> bool:
    """Whether an amount read back from a float32 column may differ from the original.

    float32 has a 24-bit significand: whole euros are exact up to 2^24 (16,777,216:
    the float32 interval around such a value holds one whole number), cents only below
    2^17 (131,072), where float32's step (2^-7) is finer than a cent. A value with
    cents above that, or any value above 2^24, may be off by rounding. (A whole value
    between 2^17 and 2^24 is read as whole euros, which almost all amounts are.)
    """
    if amount == amount.to_integral_value():
        return amount > FLOAT32_WHOLE_MAX
    return amount >= FLOAT32_CENTS_MAX


def _piva_ok(code: str) -> bool:
    """The check digit of an 11-digit Italian tax code (partita IVA algorithm)."""
    digits = [int(c) for c in code]
    total = 0
    for i, d in enumerate(digits[:10]):
        if i % 2:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return (10 - total % 10) % 10 == digits[10]


def tax_code(raw: str) -> tuple[str | None, bool]:
    """(the tax code to store, whether it was repaired). Digits only and shorter than
    11: the source's number column dropped leading zeros; padded back when the check
    digit holds. A 16-character personal code is kept. Anything else: None."""
    s = raw.strip().upper()
    if not s:
        return None, False
    if s.isdigit() and 8 <= len(s) <= 11:
        padded = s.zfill(11)
        return (padded, padded != s) if _piva_ok(padded) else (None, False)
    if re.fullmatch(r"[A-Z0-9]{16}", s):
        return s, False
    return None, False


def _slug(column: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", word(column)).strip("_")


# --- Reading ------------------------------------------------------------------------------


@dataclass
class Regis:
    """Everything ReGiS says about one CUP."""

    cup: str
    row: int
    subs: dict[str, str] = field(default_factory=dict)   # code -> description, in order
    comuni: list[str] = field(default_factory=list)
    province_wide: bool = False
    validated: list[CsvRow] = field(default_factory=list)


def _read(directory: Path) -> tuple[dict[str, Regis], list[Path]]:
    cfg = config()
    out: dict[str, Regis] = {}
    paths: list[Path] = []
    loc_path = directory / cfg["localisations_file"]
    if loc_path.exists():
        paths.append(loc_path)
        for r in read_csv(loc_path, LOC_COLUMNS)[0]:
            p = out.setdefault(r["cup"], Regis(r["cup"], r.row))
            p.subs.setdefault(r["sub"], r["sub_desc"])
            if r["istat"]:
                if r["istat"] not in p.comuni:
                    p.comuni.append(r["istat"])
            else:   # Comune 0, "TUTTI I COMUNI": the whole province
                p.province_wide = True
    val_path = directory / cfg["projects_file"]
    if val_path.exists():
        paths.append(val_path)
        columns = dict(VAL_COLUMNS) | {_slug(c): (c,) for c in cfg["funding_columns"]}
        columns["total"] = (cfg["total_column"],)
        for r in read_csv(val_path, columns)[0]:
            p = out.setdefault(r["cup"], Regis(r["cup"], r.row))
            p.subs.setdefault(r["sub"], r["sub_desc"])
            p.validated.append(r)
    return out, paths


# --- Building the projects Frame ----------------------------------------------------------


@dataclass
class Tally:
    """What the report says about the load besides counts."""

    out_of_scope: Counter[str] = field(default_factory=Counter)    # by component
    province_rows: int = 0
    metro_area: list[str] = field(default_factory=list)
    generated_titles: list[str] = field(default_factory=list)
    cf_repaired: int = 0
    cf_invalid: list[str] = field(default_factory=list)
    cup_status: Counter[str] = field(default_factory=Counter)
    approx: int = 0
    same_money: int = 0
    unpublished: int = 0
    decree_missing: list[str] = field(default_factory=list)
    decree_other_measure: list[str] = field(default_factory=list)
    decree_rejected_in_regis: list[str] = field(default_factory=list)
    already_regis: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def amount(self, row: int, column: str, v: CsvRow, key: str) -> Decimal | None:
        """An amount of the validated file; a bad one rejects the project (its row, the
        universe's), the reason naming the validated file's row."""
        value = v[key]
        try:
            return parse_amount(value)
        except ValueError as exc:
            where = f"{config()['projects_file']}, riga / row {v.row}"
            self.errors.append(RowError(row, column, f"{exc} ({where})", value))
            return None


def _funding(reg: Regis, dm: dm2021.DmProject | None, tally: Tally) -> list[dict[str, Any]]:
    """The decree's lines as the decree says them, then ReGiS's: each non-zero amount of
    each validated row, and a PNRR line without amount for each sub-measure ReGiS
    localises the CUP under but publishes no amount for. The one exception: a PNRR
    amount of a sub-measure the decree already grants is the same money, left out."""
    cfg = config()
    lines: list[dict[str, Any]] = dm.funding() if dm else []
    granted_by_decree = {ln["programme_code"] for ln in lines
                         if ln["funding_source"] == "pnrr" and ln["status"] == "granted"}
    requested_cols = set(cfg["requested_columns"])
    seen: Counter[str] = Counter()
    validated_subs = set()
    for v in reg.validated:
        validated_subs.add(v["sub"])
        key = v["clp"] or f"{reg.cup}:{v['sub']}"
        seen[key] += 1
        if seen[key] > 1:
            key = f"{key}:{seen[key]}"
        for column, source in cfg["funding_columns"].items():
            amount = tally.amount(reg.row, column, v, _slug(column))
            if not amount:
                continue
            if source == "pnrr" and v["sub"] in granted_by_decree:
                tally.same_money += 1
                continue
            approx = float32_approx(amount)
            tally.approx += approx
            lines.append({"funding_source": source,
                          "programme_code": v["sub"] if source == "pnrr" else None,
                          "status": "requested" if column in requested_cols else "granted",
                          "amount_eur": money(amount), "amount_approx": approx,
                          "call_title": text(v["procedure"]),
                          "source_id": f"{key}:{_slug(column)}"})
    for sub in reg.subs:
        if sub in validated_subs:
            continue
        tally.unpublished += 1
        lines.append({"funding_source": "pnrr", "programme_code": sub, "status": "granted",
                      "amount_eur": None, "amount_approx": False, "call_title": None,
                      "source_id": f"{reg.cup}:{sub}"})
    return lines


def _regis_row(reg: Regis, dm: dm2021.DmProject | None, tally: Tally,
               ranking_known: bool) -> dict[str, Any]:
    cfg = config()
    placeholders = {word(t) for t in cfg["placeholder_titles"]}
    v0 = reg.validated[0] if reg.validated else None
    title = next((t for v in reg.validated if (t := text(v["title"]))
                  and word(t) not in placeholders), None)
    if title is None and dm is not None:
        title = f"Rigenerazione urbana – {dm.ente} (CUP {reg.cup})"
    if title is None:
        first_sub, desc = next(iter(reg.subs.items()))
        title = f"{desc or first_sub} – CUP {reg.cup}"
        tally.generated_titles.append(reg.cup)
    summary = text(v0["summary"]) if v0 else None
    description = "\n\n".join(x for x in (summary, dm.description(ranking_known=ranking_known)
                                          if dm else None) if x) or None
    cf: str | None = None
    cup_status: str | None = None
    if v0 is not None:
        cf, repaired = tax_code(v0["cf"])
        tally.cf_repaired += repaired
        if cf is None and v0["cf"]:
            tally.cf_invalid.append(f"{reg.cup}: {v0['cf']}")
        raw_status = text(v0["cup_status"])
        cup_status = Vocabulary("cup_status", cfg["cup_status"]).get(raw_status)
        tally.cup_status[f"{raw_status} -> {cup_status}"] += 1
    comuni = list(reg.comuni)
    if dm is not None and dm.istat not in comuni:
        comuni.append(dm.istat)
    scope = "local" if comuni else "metro_area"
    if scope == "metro_area":
        tally.metro_area.append(reg.cup)
    total = dm.cost if dm is not None and dm.cost is not None else (
        sum((tally.amount(reg.row, cfg["total_column"], v, "total") or Decimal(0)
             for v in reg.validated), Decimal(0))
        if reg.validated else None)
    return {"_row": reg.row, "_geom": None, "title": title, "description": description,
            "cup": reg.cup,
            "implementing_body": (text(v0["body"]) if v0 else None) or (dm.ente if dm else None),
            "implementing_body_cf": cf,
            "status": cfg["status_by_cup_status"][cup_status or "unknown"],
            "cup_status": cup_status, "scope": scope, "total_cost_eur": money(total),
            "regenerated_m2": money(dm.target_m2) if dm else None,
            "source": SOURCE, "source_id": reg.cup,
            "istat_codes": comuni, "funding": _funding(reg, dm, tally)}


def _decree_row(p: dm2021.DmProject, ranking_known: bool) -> dict[str, Any]:
    return {"_row": p.row, "_geom": None,
            "title": f"Rigenerazione urbana – {p.ente} (CUP {p.cup})",
            "description": p.description(ranking_known=ranking_known), "cup": p.cup,
            "implementing_body": p.ente, "implementing_body_cf": None, "status": p.status,
            "cup_status": None, "scope": "local", "total_cost_eur": money(p.cost),
            "regenerated_m2": money(p.target_m2),
            "source": dm2021.SOURCE, "source_id": p.cup, "istat_codes": [p.istat],
            "funding": p.funding()}


def _held_by_regis(cur: Cursor, cups: list[str]) -> set[str]:
    cur.execute("SELECT cup FROM rigenera.projects WHERE source = %s AND cup = ANY(%s)",
                (SOURCE, cups))
    return {r[0] for r in cur.fetchall()}


def build(cur: Cursor, directory: Path, scope: Scope | None = None) -> list[Batch]:
    """The projects Batch of whichever of the four files are in ``directory``."""
    scope = scope or Scope.read()
    decree, dm_paths = dm2021.read(directory)
    regis, regis_paths = _read(directory)
    if not decree and not regis:
        return []
    ranking = dm2021.ranking_known(directory)
    tally = Tally()
    tally.province_rows = sum(1 for r in regis.values() if r.province_wide)
    rows: list[dict[str, Any]] = []
    for cup, reg in regis.items():
        dm = decree.get(cup)
        if dm is None and not any(s in scope for s in reg.subs):
            for s in reg.subs:
                m = MEASURE_RE.match(s)
                tally.out_of_scope[(m.group(1) + m.group(2)) if m else s] += 1
                break
            continue
        if dm is not None:
            if "M5C2I2.01.00" not in reg.subs:
                tally.decree_other_measure.append(f"{cup}: {', '.join(reg.subs)}")
            if dm.admitted == "not_admitted":
                tally.decree_rejected_in_regis.append(cup)
        rows.append(_regis_row(reg, dm, tally, ranking))
    missing = [p for cup, p in decree.items() if cup not in regis]
    if missing and not regis_paths:
        # Only the decree here: a CUP that a ReGiS load made ONE project stays so.
        held = _held_by_regis(cur, [p.cup for p in missing])
        tally.already_regis = sorted(held)
        missing = [p for p in missing if p.cup not in held]
    elif regis_paths:
        tally.decree_missing = [p.cup for p in missing]
    rows.extend(_decree_row(p, ranking) for p in missing)
    frame = build_frame(rows, COLUMNS)
    return [Batch("projects", frame, tally.errors, info([*regis_paths, *dm_paths], MAPPING),
                  _notes(tally, scope, bool(regis_paths)))]


def _notes(t: Tally, scope: Scope, with_regis: bool) -> tuple[Note, ...]:
    notes: list[Note] = []
    if with_regis:
        notes.append(Note("measures_out_of_scope",
                          f"progetti di misure fuori ambito ({scope.origin}: "
                          f"{', '.join(sorted(scope.measures))}) esclusi / projects of measures "
                          "out of scope left out", sum(t.out_of_scope.values()),
                          [f"{k}: {n}" for k, n in sorted(t.out_of_scope.items())]))
        notes.append(Note("province_wide", "CUP localizzati 'TUTTI I COMUNI' (intera provincia); "
                          "quelli in ambito sono progetti dell'area metropolitana senza comune / "
                          "CUPs localised on the whole province; those in scope are metro-area "
                          "projects with no comune", t.province_rows, t.metro_area))
        notes.append(Note("decree_missing_from_regis", "CUP del DM 30/12/2021 assenti da ReGiS, "
                          "importati dal solo decreto / decree CUPs missing from ReGiS, imported "
                          "from the decree alone", len(t.decree_missing), t.decree_missing))
    if t.decree_other_measure:
        notes.append(Note("decree_other_measure", "CUP del decreto che ReGiS elenca (anche) sotto "
                          "altre misure / decree CUPs ReGiS lists (also) under other measures",
                          len(t.decree_other_measure), t.decree_other_measure))
    if t.decree_rejected_in_regis:
        notes.append(Note("decree_rejected_in_regis", "CUP 'non ammessi' dal decreto ma presenti "
                          "in ReGiS (finanziati) / decree 'not admitted' CUPs present in ReGiS",
                          len(t.decree_rejected_in_regis), t.decree_rejected_in_regis))
    if t.already_regis:
        notes.append(Note("decree_held_by_regis", "CUP del decreto già importati da ReGiS: "
                          "caricare i file ReGiS insieme al decreto per aggiornarli / decree CUPs "
                          "already imported with ReGiS: load them together to update them",
                          len(t.already_regis), t.already_regis))
    if t.generated_titles:
        notes.append(Note("title_from_submeasure", "titolo non pubblicato: descrizione della "
                          "sub-misura + CUP / no published title: sub-measure description + CUP",
                          len(t.generated_titles)))
    if t.unpublished:
        notes.append(Note("amount_not_published", "linee PNRR senza importo pubblicato (solo "
                          "localizzazione) / PNRR lines with no published amount",
                          t.unpublished))
    if t.approx:
        notes.append(Note("amount_approx", "importi passati per float32, approssimati / amounts "
                          "that went through float32, approximate", t.approx))
    if t.same_money:
        notes.append(Note("amount_granted_by_decree", "importi PNRR di ReGiS già concessi dal "
                          "decreto (stessa sub-misura), non ripetuti / ReGiS PNRR amounts the "
                          "decree already grants (same sub-measure), not repeated",
                          t.same_money))
    if t.cup_status:
        notes.append(Note("cup_status", "Stato CUP normalizzato / CUP status normalised",
                          sum(t.cup_status.values()),
                          [f"{k}: {n}" for k, n in sorted(t.cup_status.items())]))
    if t.cf_repaired:
        notes.append(Note("tax_code_zero_padded", "codici fiscali senza zeri iniziali, "
                          "ricompletati (cifra di controllo verificata) / tax codes missing "
                          "their leading zeros, padded (check digit verified)", t.cf_repaired))
    if t.cf_invalid:
        notes.append(Note("tax_code_invalid", "codici fiscali non validi, non registrati / "
                          "invalid tax codes, stored empty", len(t.cf_invalid), t.cf_invalid))
    return tuple(notes)
