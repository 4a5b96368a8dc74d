"""What a report is, apart from how it is written out.

Every report room (aggregates, evaluation) produces ``Table`` objects; every writer
(JSON, CSV, XLSX, GeoPackage, PDF) renders any list of them. So a new table reaches
every format at once, and the numbers a format shows are the ones the JSON carries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

# How a column is written: money (EUR, 2 decimals, reconciles to the cent), an integer
# count, a share 0..1 (shown as %), a decimal quantity (m², index), plain text, a date,
# a yes/no (sì/no in Italian documents, true/false in JSON and CSV), a year (an integer
# written without thousands separators: 2021, not 2.021).
Kind = Literal["eur", "int", "share", "number", "text", "date", "bool", "year"]


def yes_no(value: bool, lang: str) -> str:
    """A yes/no cell as a person reads it (PDF, XLSX)."""
    return ("yes" if value else "no") if lang == "en" else ("sì" if value else "no")


@dataclass(frozen=True)
class Column:
    name: str  # the JSON key, e.g. "granted_eur": stable, other programs read it
    label_it: str
    label_en: str
    kind: Kind = "text"

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_it


@dataclass
class Table:
    name: str  # e.g. "by_comune": the JSON key, the XLSX sheet, the GeoPackage table
    title_it: str
    title_en: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)  # money as Decimal
    totals: dict[str, Any] | None = None  # the "Totale" row, same keys; None: no total

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_it


@dataclass
class Report:
    title_it: str
    title_en: str
    filters: dict[str, Any]  # what was asked (by, comuni, programme, ...), printed on the cover
    generated_at: str  # ISO 8601
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # sources, caveats (float32 amounts, ...)


Money = Decimal
