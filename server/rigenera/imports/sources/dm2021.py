"""DM 30/12/2021 lists (PNRR M5C2 inv. 2.1): all. 1 applications, all. 3 funded.

Read into one ``DmProject`` per CUP (all. 3 completes all. 1). ``regis.py`` turns
them into projects, joined with Italia Domani by CUP: a CUP in both is ONE project.
The decree is a small curated file: a malformed value stops the load naming the
file and line (the old loader's contract, kept).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from rigenera.imports.sources.files import CENT, CsvRow, fail, norm_header, parse_amount, read_csv
from rigenera.imports.sources.vocab import load_yaml, vocabulary

LOG = logging.getLogger(__name__)

ALL1_FILE = "rigenerazione_urbana_dm2021-12-30_all1_istanze_cmm.csv"
ALL3_FILE = "rigenerazione_urbana_dm2021-12-30_all3_finanziati_cmm.csv"
SOURCE = ("Ministero dell'Interno, DM 30/12/2021 rigenerazione urbana; "
          "dati ondata #datiBeneComune (CC BY-SA 4.0)")
MAPPING = "dm2021.yml"
CUP_RE = re.compile(r"^[A-Z][0-9]{2}[A-Z][0-9]{11}$")
ISTAT_RE = re.compile(r"^[0-9]{6}$")
IVSM_STEP = Decimal("0.000001")
ASSIGNMENT_YEARS = tuple(f"Assegnazione {y}" for y in range(2021, 2027))


def config() -> dict[str, Any]:
    return load_yaml(MAPPING)


@dataclass
class DmProject:
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
    row: int
    # all. 3: the yearly assignments 2021-2026 of the PNRR contribution (as the decree
    # rounds them: they add up to the grant give or take a cent a year)
    assignments: dict[int, Decimal] = field(default_factory=dict)
    ivsm: Decimal | None = None  # the comune's IVSM (2018), on every row of its applications

    @property
    def status(self) -> str:
        """Project status by the decree alone."""
        return "funded" if self.funded else "rejected" if self.admitted == "not_admitted" \
            else "planned"

    @property
    def line_status(self) -> str:
        """The decree's funding line status (the comune's share stands or falls with it)."""
        return "granted" if self.funded else "not_granted" \
            if self.admitted == "not_admitted" else "requested"

    def description(self, *, ranking_known: bool) -> str:
        """What the decree says about the application, in the decree's words."""
        parts = ["Domanda di contributo PNRR M5C2 inv. 2.1 (DM 30/12/2021)"]
        if self.kind:
            parts.append(f"tipologia intervento {self.kind.lower()}) DPCM 21/01/2021 art. 3 c. 1")
        parts.append(f"ammessa: {self.admitted_text}"
                     + (f" ({self.reason})" if self.reason else ""))
        if self.funded:
            parts.append("finanziata nella prima graduatoria (all. 3)")
        elif ranking_known and self.admitted == "admitted":
            parts.append("non finanziata nella prima graduatoria")
        return "; ".join(parts)

    def funding(self) -> list[dict[str, Any]]:
        """The PNRR contribution and, when any, the comune's co-financing."""
        cfg = config()
        lines = [{"funding_source": "pnrr", "programme_code": cfg["programme_code"],
                  "status": self.line_status, "amount_eur": str(self.requested),
                  "amount_approx": False, "call_title": cfg["call_title"],
                  "source_id": f"{self.cup}-pnrr"}]
        if self.cofin > 0:
            lines.append({"funding_source": "municipal", "programme_code": None,
                          "status": self.line_status, "amount_eur": str(self.cofin),
                          "amount_approx": False, "call_title": cfg["cofinancing_title"],
                          "source_id": f"{self.cup}-cofin"})
        return lines


def _amount(path: Path, r: CsvRow, col: str, label: str, *, required: bool) -> Decimal | None:
    value = r.raw.get(col[1:]) if col.startswith("@") else r.get(col)
    try:
        d = parse_amount(value or "")
    except ValueError:
        fail(path, f"line {r.row + 1}: {label} {value!r} is not a non-negative amount")
    if d is None and required:
        fail(path, f"line {r.row + 1}: {label} is empty")
    return None if d is None else d.quantize(CENT)


def _ivsm(path: Path, r: CsvRow) -> Decimal | None:
    """The IVSM as the file gives it: all. 1 with 8 decimals (99.40010698), all. 3 rounded
    to 2 (99.40); ``precise`` keeps the finer one, ``store_extras`` rounds to comuni.ivsm's
    numeric(9,6)."""
    value = r.get("ivsm") or ""
    try:
        return parse_amount(value)
    except ValueError:
        fail(path, f"line {r.row + 1}: IVSM (2018) {value!r} is not a non-negative number")


def precise(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    """Of two spellings of one IVSM, the one with more decimals (the other its rounding)."""
    if a is None or b is None:
        return a if b is None else b
    return a if -a.as_tuple().exponent >= -b.as_tuple().exponent else b  # type: ignore[operator]


def _rows(path: Path, *, funded: bool) -> dict[str, DmProject]:
    cfg = config()
    columns = {k: tuple(v) for k, v in cfg["columns"].items()}
    admitted = vocabulary(MAPPING, "admitted")
    rows, header = read_csv(path, columns, optional=("reason", "type", "cofin", "target", "ivsm"))
    by_norm = {norm_header(h): h for h in header}
    if funded:
        missing = [y for y in ASSIGNMENT_YEARS if norm_header(y) not in by_norm]
        if missing:
            fail(path, f"missing column {missing[0]!r}")
    out: dict[str, DmProject] = {}
    for r in rows:
        at = f"line {r.row + 1}"
        cup = r["cup"]
        if not CUP_RE.match(cup):
            fail(path, f"{at}: CUP {cup!r} is malformed (expected e.g. B99D21000000005)")
        if cup in out:
            fail(path, f"{at}: CUP {cup} appears twice")
        if not ISTAT_RE.match(r["istat"]):
            fail(path, f"{at}: Codice_ISTAT_Comune {r['istat']!r} is not 6 digits")
        code = admitted.get(r["admitted"])
        if code is None:
            fail(path, f"{at}: Ammesso/Non ammesso {r['admitted']!r} is not Sì, "
                       "Sì, con riserva or No")
        if not r["ente"]:
            fail(path, f"{at}: Ente is empty")
        requested = _amount(path, r, "requested", columns["requested"][0], required=True)
        assert requested is not None
        assignments: dict[int, Decimal] = {}
        if funded:
            # The yearly assignments add up to the grant, give or take the cent each
            # yearly share was rounded to (15 of the 32 rows are off by 0.01): catches
            # a column shifted by the PDF extraction.
            for y in ASSIGNMENT_YEARS:
                amount = _amount(path, r, "@" + by_norm[norm_header(y)], y, required=False)
                if amount is not None:
                    assignments[int(y[-4:])] = amount
            total = sum(assignments.values(), Decimal(0))
            if abs(total - requested) > CENT * len(ASSIGNMENT_YEARS):
                fail(path, f"{at}: Assegnazione 2021–2026 add up to {total}, "
                           f"not the requested contribution {requested}")
        out[cup] = DmProject(
            cup=cup, ente=r["ente"], istat=r["istat"],
            cost=_amount(path, r, "cost", columns["cost"][0], required=False),
            cofin=_amount(path, r, "cofin", columns["cofin"][0], required=False)
            or Decimal("0.00"),
            requested=requested,
            target_m2=_amount(path, r, "target", columns["target"][0], required=False),
            admitted=code, admitted_text=r["admitted"], reason=r.get("reason") or None,
            kind=r.get("type") or None, funded=funded, path=path, row=r.row,
            assignments=assignments, ivsm=_ivsm(path, r))
    return out


def read(directory: Path) -> tuple[dict[str, DmProject], list[Path]]:
    """The decree's projects by CUP (all. 3 over all. 1) and the files read."""
    all1, all3 = directory / ALL1_FILE, directory / ALL3_FILE
    projects: dict[str, DmProject] = {}
    read_paths: list[Path] = []
    if all1.exists():
        projects = _rows(all1, funded=False)
        read_paths.append(all1)
    if all3.exists():
        read_paths.append(all3)
        for cup, p in _rows(all3, funded=True).items():
            if cup in projects and projects[cup].requested != p.requested:
                LOG.warning("%s: %s requested %s in all. 1, %s in all. 3; using all. 3",
                            all3.name, cup, projects[cup].requested, p.requested)
            if cup in projects:
                p.ivsm = precise(projects[cup].ivsm, p.ivsm)
            projects[cup] = p
    return projects, read_paths


def ranking_known(directory: Path) -> bool:
    return (directory / ALL3_FILE).exists()


# --- After the projects are written: yearly assignments and IVSM (issue 11) ----------------

STORE_ASSIGNMENTS = """
INSERT INTO rigenera.funding_assignments AS fa (funding_line_id, year, amount_eur)
SELECT fl.id, a.year, a.amount
  FROM unnest(%(ids)s::text[], %(years)s::int[], %(amounts)s::numeric[]) a (source_id, year, amount)
  JOIN rigenera.funding_lines fl ON fl.source_id = a.source_id AND fl.funding_source = 'pnrr'
 ON CONFLICT (funding_line_id, year) DO UPDATE SET amount_eur = EXCLUDED.amount_eur
 WHERE fa.amount_eur IS DISTINCT FROM EXCLUDED.amount_eur"""
STORE_IVSM = """
UPDATE rigenera.comuni c SET ivsm = v.ivsm, ivsm_year = 2018
  FROM unnest(%(codes)s::text[], %(values)s::numeric[]) v (istat_code, ivsm)
 WHERE c.istat_code = v.istat_code
   AND (c.ivsm, c.ivsm_year) IS DISTINCT FROM (v.ivsm, 2018::smallint)"""


def store_extras(cur: Any, directory: Path) -> tuple[int, int]:
    """The decree's yearly assignments (all. 3) into rigenera.funding_assignments, on the
    project's PNRR line of the decree (source_id CUP-pnrr, whichever source holds the
    project), and each comune's IVSM (2018) into rigenera.comuni (no history: the index of
    one year). Only what differs is written, so a re-run changes nothing. Returns
    (assignments written, comuni updated)."""
    projects, _paths = read(directory)
    ids, years, amounts = [], [], []
    ivsm: dict[str, Decimal] = {}
    for p in projects.values():
        for year, amount in sorted(p.assignments.items()):
            ids.append(f"{p.cup}-pnrr")
            years.append(year)
            amounts.append(amount)
        if p.ivsm is not None:
            best = precise(ivsm.get(p.istat), p.ivsm)
            assert best is not None
            if p.istat in ivsm and round(ivsm[p.istat], 2) != round(p.ivsm, 2):
                LOG.warning("%s: IVSM of %s given as %s and %s; keeping %s", p.path.name,
                            p.istat, ivsm[p.istat], p.ivsm, best)
            ivsm[p.istat] = best
    written = 0
    if ids:
        cur.execute(STORE_ASSIGNMENTS, {"ids": ids, "years": years, "amounts": amounts})
        written = cur.rowcount
    updated = 0
    if ivsm:
        values = [v.quantize(IVSM_STEP, rounding=ROUND_HALF_UP) for v in ivsm.values()]
        cur.execute(STORE_IVSM, {"codes": list(ivsm), "values": values})
        updated = cur.rowcount
    return written, updated
