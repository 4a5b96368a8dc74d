"""Numbers, amounts and dates the way an Italian (or English) reader expects them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")  # every time on the site is Milan's local time

_MONTHS_IT = ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio",
              "agosto", "settembre", "ottobre", "novembre", "dicembre")
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")


def number(value: float | int | Decimal | None, lang: str = "it", decimals: int = 0) -> str:
    """1234567.5 -> '1.234.567,5' (it) or '1,234,567.5' (en); None -> '–'."""
    if value is None:
        return "–"
    text = f"{float(value):,.{decimals}f}"
    if lang == "it":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def eur(value: float | int | Decimal | None, lang: str = "it", decimals: int = 0) -> str:
    """Amounts in EUR: '1.234.567 €' (it), '€1,234,567' (en)."""
    if value is None:
        return "–"
    text = number(value, lang, decimals)
    return f"{text} €" if lang == "it" else f"€{text}"


def day(value: date | datetime | None, lang: str = "it") -> str:
    """'3 marzo 2027' / '3 March 2027'."""
    if value is None:
        return "–"
    months = _MONTHS_IT if lang == "it" else _MONTHS_EN
    return f"{value.day} {months[value.month - 1]} {value.year}"


def moment(value: datetime | None, lang: str = "it") -> str:
    """A date with its time of day (events), in Milan's time."""
    if value is None:
        return "–"
    if value.tzinfo is not None:
        value = value.astimezone(ROME)
    return f"{day(value, lang)}, {value:%H:%M}"
