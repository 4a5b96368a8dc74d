"""Mapping files and the conversions every file goes through (imports/mapping.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from rigenera.errors import ImportDataError
from rigenera.imports import mapping as mp


def test_italian_and_dotted_numbers() -> None:
    got = mp.parse_number(pa.array(["1.234,56", "1234,5", "1234.56", "1.234.567", "12",
                                    " 3 000,10 ", "€ 5,00", "abc", None, "1,2,3"]))
    assert got.to_pylist() == ["1234.56", "1234.5", "1234.56", "1234567", "12", "3000.10",
                               "5.00", None, None, None]
    forced = mp.parse_number(pa.array(["1.234"]), decimal=",")
    assert forced.to_pylist() == ["1234"]


def test_dates_italian_and_iso() -> None:
    got = mp.parse_date(pa.array(["31/12/2023", "2023-12-31", "01-02-2024", "5.3.2022",
                                  "2023-12-31T10:00:00", "31/02/2023", "domani", None]))
    assert got.to_pylist() == [dt.date(2023, 12, 31), dt.date(2023, 12, 31), dt.date(2024, 2, 1),
                               dt.date(2022, 3, 5), dt.date(2023, 12, 31), None, None, None]


def test_enumerations_with_synonyms_any_case() -> None:
    rule = mp.FieldRule("cup_status", "STATO", "enum")
    rows = pa.array([1, 2, 3, 4, 5])
    out, errors = mp.convert(pa.array(["ATTIVO", "Attivo", " chiuso ", "", "boh"]), rule, rows,
                             "projects")
    assert out.to_pylist() == ["active", "active", "closed", None, "boh"]
    assert errors == []  # an unknown code is the table's rule to name (projects_cup_status_check)
    labels, _ = mp.convert(pa.array(["Dismessa / abbandonata", "sottoutilizzata", "UNDERUSED"]),
                           mp.FieldRule("state", "s"), rows[:3], "sites")
    assert labels.to_pylist() == ["abandoned", "underused", "underused"]


def test_mapping_file(tmp_path: Path) -> None:
    path = tmp_path / "m.yml"
    path.write_text("""
layer: aree
crs: EPSG:3003
geometry: {x: EST, y: NORD}
fields:
  name: DENOMINAZIONE
  state:
    from: STATO
    values: {abandoned: [ABBANDONATO, dismesso], underused: SOTTOUTILIZZATO}
    default: abandoned
  surface_declared_m2: {from: SUP, type: number}
  source: {value: Comune di Rho}
""")
    m = mp.load(path)
    assert (m.layer, m.crs, m.geometry, m.name) == ("aree", "EPSG:3003",
                                                   {"lon": "EST", "lat": "NORD"}, "m.yml")
    rules = {r.target: r for r in m.fields}
    rows = pa.array([1, 2, 3, 4])
    out, errors = mp.convert(pa.array(["Dismesso", "", "sottoutilizzato", "altro"]),
                             rules["state"], rows, "sites")
    assert out.to_pylist() == ["abandoned", "abandoned", "underused", "altro"]
    assert [(e.row, e.field, e.value) for e in errors] == [(4, "state", "altro")]
    out, errors = mp.convert(pa.array(["1.000,5", "x", None, "7"]), rules["surface_declared_m2"],
                             rows, "sites")
    assert out.to_pylist() == ["1000.5", None, None, "7"]
    assert [(e.row, e.field) for e in errors] == [(2, "surface_declared_m2")]
    const, _ = mp.convert(pa.array([None, None]), rules["source"], rows[:2], "sites")
    assert const.to_pylist() == ["Comune di Rho", "Comune di Rho"]


@pytest.mark.parametrize("text, needle", [
    ("fields: [1, 2]", "fields"),
    ("colonne: {}", "unknown keys"),
    ("fields:\n  state: {from: S, type: colour}", "colour"),
    ("fields:\n  state: {type: enum}", "'from' or 'value'"),
    ("fields: {a: b", "YAML"),
])
def test_bad_mappings_are_named(text: str, needle: str) -> None:
    with pytest.raises(ImportDataError) as err:
        mp.load(text)
    assert needle in err.value.description
    assert err.value.errors[0]["field"] == "mapping"
