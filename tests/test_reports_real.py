"""Reports on the real data (../shared/data; skipped when absent): the comuni, the ReGiS
files and the DM 30/12/2021 lists loaded by `load-open-data`, then checked against the
files read here independently with the csv module.

* the projects funded by the decree (all. 3) reconcile to the cent with the file, in the
  database and in the report's programme group;
* the applications (all. 1 + all. 3) per comune and their admitted / not admitted status
  match the file;
* a CUP in ReGiS and in the decree is ONE project, counted once in every grouping;
* the yearly assignments 2021-2026 are stored as the decree gives them and add up to the
  grant within the decree's rounding (a cent a year);
* the comuni carry the decree's IVSM (2018);
* the whole-metro PDF renders, with a map that is not blank.
"""

from __future__ import annotations

import csv
import subprocess
from collections import Counter
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from conftest import query
from rigenera.imports.sources import load_open_data
from rigenera.imports.sources.comuni import FILE as COMUNI_FILE
from rigenera.imports.sources.comuni import POPULATION_FILE
from rigenera.imports.sources.dm2021 import ALL1_FILE, ALL3_FILE
from rigenera.imports.sources.regis import config as regis_config
from rigenera.reports import FORMATS, make_report, parse
from rigenera.reports.aggregate import build_report
from rigenera.reports.request import BY
from test_reports import MONEY, _check, expected
from test_sources_load import copy_data

pytestmark = pytest.mark.shared_data
FILES = (COMUNI_FILE, POPULATION_FILE, ALL1_FILE, ALL3_FILE, regis_config()["localisations_file"],
         regis_config()["projects_file"])
CENT = Decimal("0.01")
YEARS = range(2021, 2027)


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def amount(text: str) -> Decimal:
    return Decimal(text.strip() or "0")


@pytest.fixture(scope="module")
def real(make_database: Callable[[], str], shared_data: Path,
         tmp_path_factory: pytest.TempPathFactory) -> str:
    dsn = make_database()
    folder = copy_data(shared_data, tmp_path_factory.mktemp("real-reports"), FILES)
    load_open_data(dsn, folder)
    return dsn


@pytest.fixture(scope="module")
def all1(shared_data: Path) -> list[dict[str, str]]:
    return rows(shared_data / ALL1_FILE)


@pytest.fixture(scope="module")
def all3(shared_data: Path) -> list[dict[str, str]]:
    return rows(shared_data / ALL3_FILE)


def test_funded_projects_reconcile_with_the_decree(real: str, all3: list[dict[str, str]]) -> None:
    grant = {r["CUP"]: amount(r["Richiesta contributo Di cui progettazione"]) for r in all3}
    assert len(grant) == len(all3) == 32
    stored = dict(query(real, """
        SELECT p.cup, fl.amount_eur FROM rigenera.projects p
          JOIN rigenera.funding_lines fl ON fl.project_id = p.id AND fl.source_id = p.cup || '-pnrr'
         WHERE fl.status = 'granted' AND fl.programme_code = 'M5C2I2.01.00'"""))
    assert stored == grant
    # the report's sub-measure group holds them, plus any ReGiS-only line of the sub-measure
    report = build_report(real, parse(by="programme"))
    group = next(r for r in report.tables[0].rows if r["group"] == "M5C2I2.01.00")
    others = query(real, """SELECT coalesce(sum(amount_eur), 0) FROM rigenera.funding_lines
        WHERE programme_code = 'M5C2I2.01.00' AND status = 'granted'
          AND source_id NOT LIKE '%%-pnrr'""")[0][0]
    assert group["granted_eur"] == sum(grant.values()) + others
    # the decree's money alone: the projects funded by it, by comune
    decree = build_report(real, parse(by="comune", programme="M5C2I2.01.00"))
    _check(decree.tables, expected(real, programme="M5C2I2.01.00"))


def test_applications_per_comune_and_their_status(real: str, all1: list[dict[str, str]],
                                                  all3: list[dict[str, str]]) -> None:
    apps = {r["CUP"]: r for r in all1} | {r["CUP"]: r for r in all3}
    funded = {r["CUP"] for r in all3}
    want: Counter[tuple[str, str]] = Counter()
    for cup, r in apps.items():
        state = ("granted" if cup in funded else
                 "not_granted" if r["Ammesso/Non ammesso"].strip() == "No" else "requested")
        want[(r["Codice_ISTAT_Comune"], state)] += 1
    got = Counter({(str(c), str(s)): int(str(n)) for c, s, n in query(real, """
        SELECT pc.istat_code, fl.status, count(*) FROM rigenera.funding_lines fl
          JOIN rigenera.projects p ON p.id = fl.project_id AND fl.source_id = p.cup || '-pnrr'
          JOIN rigenera.project_comuni pc ON pc.project_id = p.id
         WHERE pc.istat_code = ANY(%s) GROUP BY 1, 2""",
        (sorted({c for c, _ in want}),))})
    assert got == want
    assert sum(n for (_, s), n in want.items() if s == "not_granted") > 0
    # admitted / not admitted in the report: the decree's not granted money per comune
    report = build_report(real, parse(by="comune", programme="M5C2I2.01.00"))
    by = {r["group"]: r for r in report.tables[0].rows}
    not_admitted = Counter[str]()
    for cup, r in apps.items():
        if r["Ammesso/Non ammesso"].strip() == "No" and cup not in funded:
            not_admitted[r["Codice_ISTAT_Comune"]] += 1
    for code in not_admitted:
        assert by[code]["not_granted_eur"] > 0, code


def test_a_cup_in_regis_and_in_the_decree_is_one_project(real: str, shared_data: Path,
                                                         all1: list[dict[str, str]],
                                                         all3: list[dict[str, str]]) -> None:
    regis = {r["CUP"] for r in rows(shared_data / regis_config()["localisations_file"])}
    decree = {r["CUP"] for r in all1} | {r["CUP"] for r in all3}
    both = sorted(regis & decree)
    assert len(both) >= 10
    counts = dict(query(real, "SELECT cup, count(*) FROM rigenera.projects WHERE cup = ANY(%s) GROUP BY cup",
                        (both,)))
    assert counts == dict.fromkeys(both, 1)
    total = query(real, "SELECT count(*) FROM rigenera.projects")[0][0]
    for by in BY:
        report = build_report(real, parse(by=by))
        assert report.tables[0].totals["projects"] == total
        _check(report.tables, expected(real))
    # in the programme grouping (one group per project) the counts add up too
    programme = build_report(real, parse(by="programme"))
    assert sum(r["projects"] for r in programme.tables[0].rows) == total


def test_yearly_assignments_add_up_to_the_grant(real: str, all3: list[dict[str, str]]) -> None:
    stored: dict[tuple[str, int], Decimal] = {
        (str(cup), int(str(y))): Decimal(str(a)) for cup, y, a in query(real, """
        SELECT p.cup, fa.year, fa.amount_eur FROM rigenera.funding_assignments fa
          JOIN rigenera.funding_lines fl ON fl.id = fa.funding_line_id
          JOIN rigenera.projects p ON p.id = fl.project_id""")}
    want = {(r["CUP"], y): amount(r[f"Assegnazione {y}"]) for r in all3 for y in YEARS
            if r[f"Assegnazione {y}"].strip()}
    assert stored == want
    off = 0
    for r in all3:
        total = sum((want.get((r["CUP"], y), Decimal(0)) for y in YEARS), Decimal(0))
        diff = abs(total - amount(r["Richiesta contributo Di cui progettazione"]))
        assert diff <= CENT * len(YEARS), r["CUP"]
        off += diff > 0
    assert off < len(all3)
    report = build_report(real, parse(by="year"))
    years = next(t for t in report.tables if t.name == "assignments_by_year")
    assert years.totals["assigned_eur"] == sum(want.values())
    assert [r["year"] for r in years.rows] == list(YEARS)


def test_comuni_carry_the_ivsm(real: str, all1: list[dict[str, str]], all3: list[dict[str, str]],
                               shared_data: Path, tmp_path: Path) -> None:
    # all. 1 gives 8 decimals, all. 3 the same rounded to 2: the finer one, rounded half up to
    # comuni.ivsm's numeric(9,6)
    want = {r["Codice_ISTAT_Comune"]: Decimal(r["IVSM (2018)"]).quantize(Decimal("0.000001"), ROUND_HALF_UP)
            for r in [*all3, *all1] if r["IVSM (2018)"].strip()}
    assert want["015081"] == Decimal("99.400107")
    got = {str(c): (Decimal(str(v)), y) for c, v, y in query(
        real, "SELECT istat_code, ivsm, ivsm_year FROM rigenera.comuni WHERE ivsm IS NOT NULL")}
    assert got == {c: (v, 2018) for c, v in want.items()}
    report = build_report(real, parse(by="comune"))
    by = {r["group"]: r for r in report.tables[0].rows}
    assert all(by[c]["ivsm"] == v for c, v in want.items())
    # a second load changes nothing: no comune version bumped, no assignment rewritten
    before = query(real, "SELECT istat_code, version, updated_at FROM rigenera.comuni ORDER BY 1")
    folder = copy_data(shared_data, tmp_path / "again", FILES)
    assert load_open_data(real, folder).extras == (0, 0)
    assert before == query(real, "SELECT istat_code, version, updated_at FROM rigenera.comuni ORDER BY 1")


def test_whole_metro_pdf(real: str, tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "metro.pdf"
    result = make_report(real, parse(by="programme"), FORMATS["pdf"], path)
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(path), str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p-*.png"))
    assert len(pages) == result.pages
    img = Image.open(pages[2]).convert("RGB")
    colours: Any = img.getcolors(maxcolors=1_000_000) or []
    inked = sum(n for n, c in colours if c != (255, 255, 255))
    assert inked / (img.width * img.height) > 0.15
    assert {m for m in MONEY} >= {"granted_eur", "spent_eur"}
