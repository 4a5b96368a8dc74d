"""What an evaluation is asked for, checked before the database is touched.

Every bad value is a 400 naming its field (``as_of``, ``distance``, ``modes``,
``comuni``, ``f``); only "is this code a comune of ours" needs the database
(``check_comuni``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from rigenera.domains import codes
from rigenera.inputs import invalid

MODES = tuple(codes("transit_stops", "mode"))  # metro, rail, tram, bus
DEFAULT_MODES = ("rail", "metro", "tram")
DEFAULT_DISTANCE_M = 500.0
MAX_DISTANCE_M = 50_000.0  # beyond the metro area's width: a typo, not a question
MAX_COMUNI = 133  # the metropolitan area's comuni
FORMATS = ("json", "csv")
MIN_AS_OF, MAX_AS_OF = date(2000, 1, 1), date(2100, 12, 31)
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_ISTAT = re.compile(r"^[0-9]{6}$")


@dataclass(frozen=True)
class EvaluationParams:
    as_of: date
    distance_m: float = DEFAULT_DISTANCE_M
    modes: tuple[str, ...] = DEFAULT_MODES
    comuni: tuple[str, ...] | None = None  # None: the whole metro area

    def sql(self) -> dict[str, Any]:
        """The queries' psycopg2 parameters."""
        return {"as_of": self.as_of, "distance": self.distance_m, "modes": list(self.modes),
                "comuni": list(self.comuni) if self.comuni is not None else None}

    def shown(self) -> dict[str, Any]:
        """What was asked, as the JSON answer and a report's cover show it."""
        return {"as_of": self.as_of.isoformat(), "distance_m": self.distance_m,
                "modes": list(self.modes), "comuni": list(self.comuni) if self.comuni else None}


def today() -> date:
    return datetime.now(UTC).date()


def parse_as_of(value: str | date | None) -> date:
    if value is None or value == "":
        return today()
    if isinstance(value, date):
        return check_as_of(value)
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        parsed = date.fromisoformat(value)
    except ValueError:
        raise invalid("as_of", "not a valid date YYYY-MM-DD",
                      "data non valida, atteso AAAA-MM-GG") from None
    return check_as_of(parsed)


def check_as_of(value: date) -> date:
    """Years 2000-2100: the reporting calendar is computed up to as_of, month by month."""
    if not MIN_AS_OF <= value <= MAX_AS_OF:
        raise invalid("as_of", f"between {MIN_AS_OF} and {MAX_AS_OF}",
                      f"tra {MIN_AS_OF} e {MAX_AS_OF}")
    return value


def parse_distance(value: str | float | None) -> float:
    if value is None or value == "":
        return DEFAULT_DISTANCE_M
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise invalid("distance", "not a number of metres", "non è un numero di metri") from None
    if not math.isfinite(number) or number < 0:
        raise invalid("distance", "must be a finite number of metres >= 0",
                      "deve essere un numero finito di metri >= 0")
    if number > MAX_DISTANCE_M:
        raise invalid("distance", f"at most {MAX_DISTANCE_M:.0f} m",
                      f"al massimo {MAX_DISTANCE_M:.0f} m")
    return number


def parse_modes(value: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_MODES
    items = value.split(",") if isinstance(value, str) else list(value)
    modes = sorted({m.strip() for m in items if m.strip()})
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        shown = ", ".join(unknown[:5]) if unknown else "(none)"
        raise invalid("modes", f"unknown mode {shown}; known: {', '.join(MODES)}",
                      f"modo sconosciuto {shown}; ammessi: {', '.join(MODES)}")
    return tuple(modes)


def parse_comuni(value: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    found = sorted({c.strip() for c in items if c.strip()})
    wrong = [c for c in found if not _ISTAT.match(c)]
    if wrong or not found or len(found) > MAX_COMUNI:
        reason = (f"6-digit ISTAT codes separated by commas (at most {MAX_COMUNI})"
                  + (f": {', '.join(wrong[:5])}" if wrong else ""))
        raise invalid("comuni", reason, "codici ISTAT di 6 cifre separati da virgole")
    return tuple(found)


def parse_format(value: str | None) -> str:
    if value in (None, ""):
        return "json"
    if value not in FORMATS:
        raise invalid("f", "json or csv", "json o csv")
    return str(value)


def parse(as_of: str | date | None = None, distance: str | float | None = None,
          modes: str | list[str] | tuple[str, ...] | None = None,
          comuni: str | list[str] | tuple[str, ...] | None = None) -> EvaluationParams:
    """The request's parameters, each checked: a 400 naming the first bad one."""
    return EvaluationParams(as_of=parse_as_of(as_of), distance_m=parse_distance(distance),
                            modes=parse_modes(modes), comuni=parse_comuni(comuni))


def check_comuni(conn: Any, params: EvaluationParams) -> None:
    """Codes that are no comune of the metro area are a 400 naming `comuni`."""
    if not params.comuni:
        return
    with conn.cursor() as cur:
        cur.execute("SELECT istat_code FROM rigenera.comuni WHERE istat_code = ANY(%s::text[])",
                    (list(params.comuni),))
        known = {r[0] for r in cur.fetchall()}
    unknown = [c for c in params.comuni if c not in known]
    if unknown:
        raise invalid("comuni", "unknown comuni: " + ", ".join(unknown[:10]), "comuni sconosciuti")
