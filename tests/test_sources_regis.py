"""Italia Domani / ReGiS + DM 30/12/2021 read into one projects Frame, on the real files.

Expected values are counted from the CSVs with the csv module here (never from the
code under test), or quoted from SOURCES.md.
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from rigenera.imports.sources import dm2021, regis
from rigenera.imports.sources.base import Batch
from rigenera.imports.sources.regis import Scope, float32_approx, measure_levels, tax_code

pytestmark = pytest.mark.shared_data

LOC = "pnrr_localizzazioni_universo_regis_cmm_2023-03-01.csv"
VAL = "pnrr_progetti_validati_cmm_2023-02.csv"
IN_SCOPE = ("M5C2", "M2C2I4", "M1C3")


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _in(code: str, measures: tuple[str, ...] = IN_SCOPE) -> bool:
    return any(code.startswith(m) for m in measures)


@pytest.fixture(scope="module")
def batch(shared_data: Path) -> Batch:
    (b,) = regis.build(None, shared_data)  # type: ignore[arg-type]  # no DB needed with ReGiS
    return b


@pytest.fixture(scope="module")
def rows(batch: Batch) -> dict[str, dict[str, Any]]:
    return {r["cup"]: r for r in batch.frame.to_pylist()}


def _note(batch: Batch, code: str) -> Any:
    (n,) = [n for n in batch.notes if n.code == code]
    return n


def test_one_project_per_cup_in_scope(shared_data: Path, batch: Batch,
                                      rows: dict[str, dict[str, Any]]) -> None:
    loc, val = _csv(shared_data / LOC), _csv(shared_data / VAL)
    decree = {r["CUP"] for r in _csv(shared_data / dm2021.ALL1_FILE)}
    in_scope = ({r["CUP"] for r in loc if _in(r["Codice Univoco submisura"])}
                | {r["CUP"] for r in val if _in(r["Codice Univoco Submisura"])})
    assert len(rows) == batch.frame.num_rows == len(in_scope | decree) == 421
    everything = {r["CUP"] for r in loc} | {r["CUP"] for r in val}
    assert len(everything) == 3954
    left_out = _note(batch, "measures_out_of_scope")
    assert left_out.count == len(everything - in_scope - decree) == 3538
    assert "M1C1: 788" in left_out.items
    assert not batch.errors


def test_decree_and_regis_are_one_project(shared_data: Path, batch: Batch,
                                          rows: dict[str, dict[str, Any]]) -> None:
    loc = {r["CUP"] for r in _csv(shared_data / LOC)}
    decree = [r["CUP"] for r in _csv(shared_data / dm2021.ALL1_FILE)]
    missing = sorted(c for c in decree if c not in loc)
    assert len(missing) == 5
    note = _note(batch, "decree_missing_from_regis")
    assert (note.count, sorted(note.items)) == (5, missing)
    for cup in decree:
        want = dm2021.SOURCE if cup in missing else regis.SOURCE
        assert rows[cup]["source"] == want and rows[cup]["source_id"] == cup
    # Melzo: in ReGiS (localised, no validated row) and in the decree: the decree's
    # title, amounts and comune; ReGiS's attribution; the decree lines kept as they
    # were, and ReGiS's word that the sub-measure finances it (no amount published).
    melzo = rows["B99D21000000005"]
    assert melzo["title"] == "Rigenerazione urbana – Melzo (CUP B99D21000000005)"
    assert (melzo["istat_codes"], melzo["status"], melzo["total_cost_eur"]) == (
        ["015142"], "funded", "2133533.37")
    assert {(f["source_id"], f["programme_code"], f["status"], f["amount_eur"])
            for f in melzo["funding"]} == {
        ("B99D21000000005-pnrr", "M5C2I2.01.00", "requested", "2000000.00"),
        ("B99D21000000005-cofin", None, "requested", "133533.37"),
        ("B99D21000000005:M5C2I2.01.00", "M5C2I2.01.00", "granted", None)}
    # Buccinasco's CUP is also localised under M2C4 I2.2: that code joins, without amount.
    assert sorted((f["programme_code"], f["amount_eur"], f["status"])
                  for f in rows["J29J20000800005"]["funding"] if f["source_id"].startswith(
                      "J29J20000800005:")) == [("M2C4I2.02.00", None, "granted"),
                                               ("M5C2I2.01.00", None, "granted")]
    assert any(i.startswith("H22G19000000004") for i in _note(batch, "decree_other_measure").items)


def test_validated_project_values(shared_data: Path, rows: dict[str, dict[str, Any]]) -> None:
    val = [r for r in _csv(shared_data / VAL) if r["CUP"] == "B44D22000090005"]
    assert len(val) == 1 and val[0]["Codice Univoco Submisura"] == "M2C2I4.02.00"
    p = rows["B44D22000090005"]
    assert p["title"] == val[0]["Titolo progetto"].strip()
    assert p["description"] == val[0]["Sintesi progetto"].strip()
    assert (p["implementing_body"], p["implementing_body_cf"]) == ("COMUNE DI MILANO",
                                                                  "01199250158")
    assert (p["cup_status"], p["status"], p["scope"]) == ("active", "funded", "local")
    assert p["istat_codes"] == ["015146"]
    (line,) = p["funding"]
    assert (line["funding_source"], line["programme_code"], line["amount_eur"],
            line["amount_approx"], line["status"]) == (
        "pnrr", "M2C2I4.02.00", "36000000.00", True, "granted")  # above 2^24: approximate


def test_title_from_submeasure_when_none_published(shared_data: Path, batch: Batch,
                                                   rows: dict[str, dict[str, Any]]) -> None:
    loc = _csv(shared_data / LOC)
    val = {r["CUP"] for r in _csv(shared_data / VAL)}
    decree = {r["CUP"] for r in _csv(shared_data / dm2021.ALL1_FILE)}
    pui = next(r for r in loc if r["Codice Univoco submisura"] == "M5C2I2.02.03"
               and r["CUP"] not in val and r["CUP"] not in decree)
    p = rows[pui["CUP"]]
    assert p["title"] == f"{pui['Descrizione Submisura']} – CUP {pui['CUP']}"
    assert p["cup_status"] is None and p["implementing_body"] is None
    assert [(f["programme_code"], f["amount_eur"]) for f in p["funding"]] == [
        ("M5C2I2.02.03", None)]
    generated = sum(1 for r in rows.values() if r["title"].endswith(f" – CUP {r['cup']}"))
    assert _note(batch, "title_from_submeasure").count == generated > 200


def test_comuni_are_every_localisation(shared_data: Path, rows: dict[str, dict[str, Any]]) -> None:
    by_cup: dict[str, set[str]] = {}
    for r in _csv(shared_data / LOC):
        if r["COD_ISTAT_COMUNE"]:
            by_cup.setdefault(r["CUP"], set()).add(r["COD_ISTAT_COMUNE"])
    several = [c for c in rows if len(by_cup.get(c, ())) > 1]
    assert several
    for cup in several:
        assert set(rows[cup]["istat_codes"]) == by_cup[cup]


def test_cup_status_normalised(shared_data: Path, tmp_path: Path) -> None:
    """ATTIVO and Attivo are one status; Chiuso is closed. All 55 ATTIVO rows are out of
    the default scope, so the scope here is every measure."""
    val = _csv(shared_data / VAL)
    want = Counter(r["Stato CUP"] for r in {r["CUP"]: r for r in reversed(val)}.values())
    scope = tmp_path / "all.yml"
    scope.write_text("measures: [M1, M2, M3, M4, M5, M6]\n")
    (b,) = regis.build(None, shared_data, Scope.read(scope))  # type: ignore[arg-type]
    got = Counter(r["cup_status"] for r in b.frame.to_pylist() if r["cup"] in
                  {v["CUP"] for v in val})
    assert got == {"active": want["Attivo"] + want["ATTIVO"], "closed": want["Chiuso"]}
    assert want["ATTIVO"] > 0 and want["Chiuso"] > 0
    items = _note(b, "cup_status").items
    assert f"ATTIVO -> active: {want['ATTIVO']}" in items
    # Every TUTTI I COMUNI CUP is now in scope: a metro-area project with no comune.
    pw = _note(b, "province_wide")
    assert pw.count == 22 and len(pw.items) == 22
    metro = [r for r in b.frame.to_pylist() if r["scope"] == "metro_area"]
    assert len(metro) == 22 and all(r["istat_codes"] == [] for r in metro)
    assert _note(b, "measures_out_of_scope").count == 0


def test_default_scope_has_no_province_wide_project(batch: Batch) -> None:
    # The 22 "TUTTI I COMUNI" rows are M5C1, M3C1, M4C1, M2C4: all out of the default scope.
    pw = _note(batch, "province_wide")
    assert (pw.count, pw.items) == (22, [])


def test_scope_is_configuration(shared_data: Path, tmp_path: Path) -> None:
    only = tmp_path / "scope.yml"
    only.write_text("measures: [M2C2I4]\n")
    (b,) = regis.build(None, shared_data, Scope.read(only))  # type: ignore[arg-type]
    loc = _csv(shared_data / LOC)
    decree = {r["CUP"] for r in _csv(shared_data / dm2021.ALL1_FILE)}
    want = {r["CUP"] for r in loc if r["Codice Univoco submisura"].startswith("M2C2I4")} | decree
    assert {r["cup"] for r in b.frame.to_pylist()} == want


def test_tax_codes_lost_their_leading_zeros(shared_data: Path,
                                            rows: dict[str, dict[str, Any]]) -> None:
    val = {r["CUP"]: r for r in _csv(shared_data / VAL)}
    short = [c for c in rows if c in val and len(val[c]["Codice fiscale soggetto attuatore"]) < 11]
    assert short
    for cup in short:
        cf = rows[cup]["implementing_body_cf"]
        assert cf == val[cup]["Codice fiscale soggetto attuatore"].zfill(11) and len(cf) == 11
    assert tax_code("3890690153") == ("03890690153", True)   # Pregnana Milanese
    assert tax_code("01199250158") == ("01199250158", False)  # Comune di Milano
    assert tax_code("1199250159") == (None, False)            # check digit wrong
    assert tax_code("RSSMRA80A01F205X") == ("RSSMRA80A01F205X", False)
    assert tax_code("12") == (None, False)


@pytest.mark.parametrize(("amount", "approx"), [
    ("121992", False),          # whole euros below 2^24: the only whole value there
    ("16777216", False),        # 2^24 itself is exact
    ("16777218", True),         # above 2^24: float32 steps by 2
    ("36000000", True),
    ("131071.99", False),       # cents below 2^17: float32's step is finer than a cent
    ("131072.5", True),         # cents above 2^17: the step (1/64) is coarser
    ("1741966.6", True),
    ("0.01", False),
])
def test_float32_rule(amount: str, approx: bool) -> None:
    assert float32_approx(Decimal(amount)) is approx


def test_float32_rule_against_numpy() -> None:
    """Where the rule says exact, every cent value round-trips through float32."""
    import numpy as np

    for lo in (1, 65_536, 131_072 - 100):
        cents = np.arange(lo * 100, lo * 100 + 2000, dtype=np.int64)
        values = [Decimal(int(c)) / 100 for c in cents]
        back = (cents / 100).astype(np.float32)
        for v, b in zip(values, back, strict=True):
            if not float32_approx(v):  # what the CSV holds: float32's shortest text
                assert Decimal(str(b)) == v, v
    # Above 2^17 two cent values share one float32: the rule must say approximate.
    a, b = np.float32(200000.01), np.float32(200000.02)
    assert a == b and float32_approx(Decimal("200000.01"))


def test_measure_levels() -> None:
    assert measure_levels("M5C2I2.01.00") == {"M5", "M5C2", "M5C2I2", "M5C2I2.01",
                                              "M5C2I2.01.00"}
    s = Scope(["M2C2I4", "M1C3"], "test")
    assert "M2C2I4.02.00" in s and "M1C3I1.03.00" in s
    assert "M2C2I3.05.00" not in s and "M5C2I2.01.00" not in s


def test_decree_alone(shared_data: Path, tmp_path: Path) -> None:
    """Without the ReGiS files the decree's 117 CUPs are decree projects, as before."""
    for name in (dm2021.ALL1_FILE, dm2021.ALL3_FILE):
        shutil.copy(shared_data / name, tmp_path / name)
    decree, _ = dm2021.read(tmp_path)
    assert len(decree) == 117
    assert Counter(p.status for p in decree.values()) == {"funded": 32, "rejected": 4,
                                                          "planned": 81}
    granted = sum(p.requested for p in decree.values() if p.funded)
    assert granted == Decimal("55971030.06")
