"""What a report asks for, checked before the database is touched.

Every problem is a 400 naming its field (``by``, ``format``, ``comuni``, ``programme``,
``programme_level``, ``status``, ``lang``), Italian first, " / " English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rigenera.domains import DOMAINS
from rigenera.errors import InvalidParameter

BY = ("comune", "programme", "status", "phase", "year")
LEVELS = ("mission", "component", "investment", "submeasure")
LANGS = ("it", "en")
ISTAT_CODE = re.compile(r"^[0-9]{6}$")
# A PNRR code or a prefix of one at a level: M5, M5C2, M5C2I2, M5C2I2.01, M5C2I2.01.00.
PROGRAMME_CODE = re.compile(r"^M[0-9](C[0-9]([IR][0-9]+(\.[0-9]{2}(\.[0-9]{2})?)?)?)?$")
MAX_COMUNI = 133


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    media_type: str


FORMATS = {
    "json": Format("json", "json", "application/json"),
    "csv": Format("csv", "zip", "application/zip"),  # one CSV per table, zipped
    "xlsx": Format("xlsx", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "gpkg": Format("gpkg", "gpkg", "application/geopackage+sqlite3"),
    "pdf": Format("pdf", "pdf", "application/pdf"),
}


@dataclass(frozen=True)
class ReportRequest:
    by: str = "comune"
    comuni: tuple[str, ...] = ()
    programme: str | None = None
    programme_level: str = "submeasure"
    status: tuple[str, ...] = ()
    lang: str = "it"
    extra: dict[str, str] = field(default_factory=dict)
    # Only projects published on the website (rigenera.project_publication, migration
    # 0024): the public statistics and comune pages count these, the office's reports all.
    published: bool = False

    def filters(self) -> dict[str, object]:
        """What was asked, as the cover and the JSON print it."""
        out: dict[str, object] = {"by": self.by}
        if self.by == "programme":
            out["programme_level"] = self.programme_level
        if self.comuni:
            out["comuni"] = list(self.comuni)
        if self.programme:
            out["programme"] = self.programme
        if self.status:
            out["status"] = list(self.status)
        if self.published:
            out["published"] = True
        return out


def bad(name: str, reason: str) -> InvalidParameter:
    return InvalidParameter(f"{name}: {reason}", errors=[{"field": name, "reason": reason}])


def _choice(name: str, value: str | None, choices: tuple[str, ...], default: str) -> str:
    if value is None or value == "":
        return default
    if value not in choices:
        return _fail(name, f"{value!r}: uno di / one of {', '.join(choices)}")
    return value


def _fail(name: str, reason: str) -> str:
    raise bad(name, reason)


def _list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [x.strip() for item in items for x in item.split(",") if x.strip()]


def check_format(value: str | None, default: str = "json") -> Format:
    return FORMATS[_choice("format", value, tuple(FORMATS), default)]


def parse(by: str | None = None, comuni: str | list[str] | None = None,
          programme: str | None = None, programme_level: str | None = None,
          status: str | list[str] | None = None, lang: str | None = None) -> ReportRequest:
    """A checked request; comuni are checked against the database later (``check_comuni``)."""
    codes = sorted(set(_list(comuni)))
    wrong = [c for c in codes if not ISTAT_CODE.match(c)]
    if wrong or len(codes) > MAX_COMUNI or (comuni is not None and not codes):
        raise bad("comuni", "codici ISTAT di 6 cifre separati da virgole / 6-digit ISTAT codes "
                  f"separated by commas (at most {MAX_COMUNI})"
                  + (f": {', '.join(wrong[:5])}" if wrong else ""))
    prog = programme.strip().upper() if programme else None
    if programme is not None and (not prog or not PROGRAMME_CODE.match(prog)):
        raise bad("programme", f"{programme!r}: codice PNRR come M5C2I2.01.00 o un suo prefisso "
                  "(M5, M5C2...) / a PNRR code like M5C2I2.01.00 or a prefix of it")
    statuses = sorted(set(_list(status)))
    known = DOMAINS[("projects", "status")]
    unknown = [s for s in statuses if s not in known]
    if unknown or (status is not None and not statuses):
        raise bad("status", f"{', '.join(unknown) or 'vuoto / empty'}: uno di / one of "
                  + ", ".join(known))
    return ReportRequest(
        by=_choice("by", by, BY, "comune"), comuni=tuple(codes), programme=prog,
        programme_level=_choice("programme_level", programme_level, LEVELS, "submeasure"),
        status=tuple(statuses), lang=_choice("lang", lang, LANGS, "it"))
