"""The reporting calendar: what is due soon, what is overdue per comune, and whom to phone.

The periods come from `rigenera.project_deadlines()` (migrations 0016 and 0022): every
project under way (a start date, a granted funding line of the obligation's source, not
rejected) owes, for each period of each obligation, its evidence by the due day
(ReGiS monthly data: a progress record of the month, due the 20th of the next month; the
quarterly expense report: an expense statement covering the quarter, due the 20th after
it). "Today" is the database's `current_date`.

`within` is a span from today: `N` followed by `d` (days), `w` (weeks) or `m` (calendar
months: 2m from 15 January is 15 March); a bare number is days. Up to two years.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import asyncpg

from rigenera.errors import InvalidParameter
from rigenera.monitoring.documents import sql

_WITHIN = re.compile(r"^\s*(\d{1,4})\s*([dwm]?)\s*$", re.IGNORECASE)
MAX_DAYS = 731
_ISTAT = re.compile(r"^[0-9]{6}$")
UPCOMING, OVERDUE, REFERENTS = sql("deadlines_upcoming"), sql("deadlines_overdue"), sql(
    "referents")
PROJECT = sql("project_deadlines")


def _bad(field: str, it: str, en: str) -> InvalidParameter:
    return InvalidParameter(f"{field}: {it} / {en}", errors=[{"field": field, "reason": en}])


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus calendar months, the day clipped to the month's end (31 Jan + 1m = 28 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def horizon(within: str, today: dt.date) -> dt.date:
    """The last day of the span `within` (see module); a 400 naming `within` otherwise."""
    m = _WITHIN.match(within)
    if not m:
        raise _bad("within", "atteso un numero seguito da d, w o m (es. 30d, 4w, 2m)",
                   "expected a number followed by d, w or m (e.g. 30d, 4w, 2m)")
    n, unit = int(m.group(1)), (m.group(2) or "d").lower()
    end = (add_months(today, n) if unit == "m"
           else today + dt.timedelta(days=n * (7 if unit == "w" else 1)))
    if (end - today).days > MAX_DAYS:
        raise _bad("within", f"al massimo {MAX_DAYS} giorni", f"at most {MAX_DAYS} days")
    return end


async def check_filters(conn: asyncpg.Pool | asyncpg.Connection, istat_code: str | None,
                        obligation: str | None) -> None:
    """An unknown comune or obligation is a 400 naming it, never an empty answer."""
    if istat_code is not None:
        if not _ISTAT.match(istat_code):
            raise _bad("istat_code", "codice ISTAT di 6 cifre", "a 6-digit ISTAT code")
        if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM rigenera.comuni"
                                   " WHERE istat_code = $1)", istat_code):
            raise _bad("istat_code", f"comune {istat_code} sconosciuto",
                       f"unknown comune {istat_code}")
    if obligation is not None:
        codes = [r[0] for r in await conn.fetch(
            "SELECT code FROM rigenera.reporting_obligations ORDER BY code")]
        if obligation not in codes:
            raise _bad("obligation", "una di " + ", ".join(codes), "one of " + ", ".join(codes))


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def deadline_doc(row: asyncpg.Record) -> dict[str, Any]:
    """One deadline as JSON (dates ISO; the obligation's title in Italian and English)."""
    doc = {k: _iso(v) for k, v in dict(row).items() if k not in ("title_it", "title_en")}
    if "istat_codes" in doc:
        doc["istat_codes"] = list(doc["istat_codes"])
    doc["obligation_title"] = {"it": row["title_it"], "en": row["title_en"]}
    return doc


async def overdue_by_comune(conn: asyncpg.Pool | asyncpg.Connection, *, istat_code: str | None,
                            obligation: str | None, project_id: int | None,
                            with_referents: bool) -> list[dict[str, Any]]:
    """Overdue deadlines grouped per comune (metro-area projects last, istat_code null),
    each group with its referents when the caller may see them (else no such member)."""
    rows = await conn.fetch(OVERDUE, istat_code, obligation, project_id)
    groups: dict[str | None, dict[str, Any]] = {}
    for row in rows:
        group = groups.setdefault(row["istat_code"], {
            "istat_code": row["istat_code"], "name": row["comune_name"], "deadlines": []})
        doc = deadline_doc(row)
        for key in ("istat_code", "comune_name"):
            doc.pop(key)
        group["deadlines"].append(doc)
    if with_referents:
        codes = [c for c in groups if c is not None]
        people: dict[str, list[dict[str, Any]]] = {c: [] for c in codes}
        for r in await conn.fetch(REFERENTS, codes):
            people[r["istat_code"]].append({k: r[k] for k in (
                "id", "full_name", "organisation", "role", "email", "phone")})
        for code, group in groups.items():
            group["referents"] = people.get(code, []) if code is not None else []
    for group in groups.values():
        group["count"] = len(group["deadlines"])
        group["projects"] = len({d["project_id"] for d in group["deadlines"]})
    return list(groups.values())


def _csv(header: list[str], rows: list[list[Any]]) -> bytes:
    """UTF-8 with a BOM (Excel in Italian then reads the accents right)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([["" if v is None else _iso(v) for v in row] for row in rows])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


_DEADLINE_COLUMNS = ["project_id", "title", "cup", "obligation", "obligation_title",
                     "period_start", "period_end", "due_on"]


def upcoming_csv(items: list[dict[str, Any]]) -> bytes:
    header = [*_DEADLINE_COLUMNS, "istat_codes", "days_left"]
    return _csv(header, [[d["project_id"], d["title"], d["cup"], d["obligation"],
                          d["obligation_title"]["it"], d["period_start"], d["period_end"],
                          d["due_on"], " ".join(d["istat_codes"]), d["days_left"]]
                         for d in items])


def overdue_csv(groups: list[dict[str, Any]]) -> bytes:
    """One line per comune and deadline; the comune's referents in one cell when shown."""
    shown = any("referents" in g for g in groups)
    header = ["istat_code", "comune", *_DEADLINE_COLUMNS, "days_overdue"]
    header += ["referents"] if shown else []
    rows = []
    for g in groups:
        people = "; ".join(
            ", ".join(str(v) for v in (r["full_name"], r["role"], r["phone"], r["email"]) if v)
            for r in g.get("referents", []))
        for d in g["deadlines"]:
            row = [g["istat_code"], g["name"], d["project_id"], d["title"], d["cup"],
                   d["obligation"], d["obligation_title"]["it"], d["period_start"],
                   d["period_end"], d["due_on"], d["days_overdue"]]
            rows.append([*row, people] if shown else row)
    return _csv(header, rows)
