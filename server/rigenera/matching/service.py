"""Matching needs to funding calls: inputs, the query, and the answer with its reasons.

The criteria are evaluated and the calls ranked by one statement (sql/match.sql, where
the rules and the order are written out); this module reads its rows and words, in
Italian and English, why each call fits a need and, for near misses, why it does not.
Both the HTTP routes (asyncpg, rigenera/matching/http.py) and the OGC API Process
(psycopg2, rigenera/matching/process.py) run the same statement and build the same
document, so the two answers are equal.

Reading is public, as for the published needs (pub.needs): only public columns of a
need are read, never its referent.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from rigenera.domains import DOMAINS
from rigenera.inputs import shown

SQL = resources.files("rigenera.matching").joinpath("sql/match.sql").read_text()
COMUNE_SQL = "SELECT name FROM rigenera.comuni WHERE istat_code = $1"
ISTAT_CODE = re.compile(r"^[0-9]{6}$")
# An expired call is named as a near miss for a year after it closed (it may be reissued);
# older ones are history, not advice.
EXPIRED_LOOKBACK_DAYS = 365
CRITERIA = ("theme", "beneficiary", "comune", "deadline", "amount")
TIMEZONE = ZoneInfo("Europe/Rome")
# How the lists are ordered (sql/match.sql), stated in every answer.
RANKING = {
    "it": "Bandi adatti: tutti e 5 i criteri soddisfatti (tema, beneficiario, comune, scadenza, "
          "importo); quasi-abbinamenti: uno o due criteri mancati. In ciascun elenco: meno "
          "criteri mancati; importo verificato prima di quello non verificabile; quota del "
          "costo coperta dal contributo massimo (coverage_pct, fino al 100 %); scadenza più "
          "vicina prima (senza scadenza per ultimi); contributo massimo più alto; id del "
          "bando. Bisogni di un comune: priorità 1 per prima, poi la data entro cui servono.",
    "en": "Matches: all 5 criteria met (theme, beneficiary, comune, deadline, amount); near "
          "misses: one or two criteria failed. In each list: fewer criteria failed; checked "
          "amounts before unverifiable ones; share of the cost the maximum grant covers "
          "(coverage_pct, up to 100 %); the nearest closing date first (open-ended last); the "
          "larger maximum grant; the call id. A comune's needs: priority 1 first, then the date "
          "they are needed by.",
}
BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
MAX_ID = 2**63 - 1

Row = Mapping[str, Any]


class BadInput(ValueError):
    """An input that cannot be used: the field, and the reason in Italian and English."""

    def __init__(self, field: str, it: str, en: str) -> None:
        super().__init__(f"{field}: {it} / {en}")
        self.field, self.it, self.en = field, it, en


class UnknownTarget(LookupError):
    """No such need, or no such comune: 404."""

    def __init__(self, field: str, value: object) -> None:
        what = ("bisogno", "need") if field == "need_id" else ("comune", "comune")
        super().__init__(f"{field}: {what[0]} {value} inesistente / no {what[1]} {value}")
        self.field = field


# ----------------------------------------------------------------------------- inputs
def today() -> dt.date:
    """The reference date when none is given: today in Milan."""
    return dt.datetime.now(TIMEZONE).date()


def parse_date(field: str, value: Any) -> dt.date:
    if value is None:
        return today()
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        quoted = shown(value) if isinstance(value, str) else ascii(value)[:40]
        raise BadInput(field, f"data non valida {quoted}, attesa AAAA-MM-GG",
                       f"invalid date {quoted}, expected YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadInput(field, f"data inesistente {value}", f"no such date {value}") from None


def parse_istat_code(field: str, value: Any) -> str:
    if not isinstance(value, str) or not ISTAT_CODE.match(value):
        quoted = shown(value) if isinstance(value, str) else ascii(value)[:40]
        raise BadInput(field, f"codice ISTAT non valido {quoted}, attese 6 cifre",
                       f"invalid ISTAT code {quoted}, expected 6 digits")
    return value


def parse_id(field: str, value: Any) -> int:
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,19}", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        quoted = shown(value) if isinstance(value, str) else ascii(value)[:40]
        raise BadInput(field, f"identificativo non valido {quoted}, atteso un intero positivo",
                       f"invalid identifier {quoted}, expected a positive integer")
    return value


def parse_bool(field: str, value: Any, default: bool = True) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in BOOLEANS:
        return BOOLEANS[value.lower()]
    quoted = shown(value) if isinstance(value, str) else ascii(value)[:40]
    raise BadInput(field, f"valore non valido {quoted}, atteso true o false",
                   f"invalid value {quoted}, expected true or false")


def sql_args(need_id: int | None, istat_code: str | Iterable[str] | None, as_of: dt.date,
             near_misses: bool) -> tuple[Any, ...]:
    """The statement's parameters, $1 to $5: one comune's open needs, or several comuni's
    in one run (`istat_code` a list)."""
    codes = None if istat_code is None else (
        [istat_code] if isinstance(istat_code, str) else sorted(istat_code))
    return (need_id, codes, as_of, near_misses, EXPIRED_LOOKBACK_DAYS)


# ----------------------------------------------------------------------------- words
def eur_it(value: Decimal) -> str:
    text = f"{value:,.2f}"  # 1,234,567.89
    return text.replace(",", "_").replace(".", ",").replace("_", ".") + " €"


def eur_en(value: Decimal) -> str:
    return f"EUR {value:,.2f}"


def date_it(value: dt.date) -> str:
    return value.strftime("%d/%m/%Y")


def label(table: str, column: str, code: str) -> dict[str, str]:
    it, en = DOMAINS.get((table, column), {}).get(code, (code, code))
    return {"it": it, "en": en}


def _reason(criterion: str, code: str, it: str, en: str, **extra: Any) -> dict[str, Any]:
    return {"criterion": criterion, "code": code, "it": it, "en": en, **extra}


def _theme(r: Row) -> dict[str, Any]:
    cat = label("needs", "category", r["category"])
    if not r["theme_ok"]:
        themes_it = ", ".join(label("needs", "category", t)["it"] for t in r["themes"])
        themes_en = ", ".join(label("needs", "category", t)["en"] for t in r["themes"])
        return _reason("theme", "theme_mismatch",
                       f"Tema non ammesso: il bando finanzia {themes_it}, non {cat['it']}",
                       f"Theme mismatch: the call funds {themes_en}, not {cat['en']}")
    if r["themes_open"]:
        return _reason("theme", "theme_any", "Il bando non limita i temi",
                       "The call is open to every theme")
    return _reason("theme", "theme_match", f"Tema ammesso: {cat['it']}",
                   f"Eligible theme: {cat['en']}")


def _beneficiary(r: Row) -> dict[str, Any]:
    who = label("needs", "applicant", r["applicant"])
    if r["beneficiary_ok"]:
        return _reason("beneficiary", "beneficiary_eligible",
                       f"Beneficiario ammesso: {who['it']}", f"Eligible beneficiary: {who['en']}")
    return _reason("beneficiary", "beneficiary_not_eligible",
                   f"Beneficiario non ammesso: {who['it']} non è tra i beneficiari del bando",
                   f"Not eligible: {who['en']} is not among the call's beneficiaries")


def _comune(r: Row) -> dict[str, Any]:
    name = r["comune"]
    if not r["comune_ok"]:
        return _reason("comune", "comune_not_eligible",
                       f"Comune non ammesso: {name} non è tra i comuni del bando",
                       f"Not eligible: {name} is not among the call's comuni")
    if r["comuni_open"]:
        return _reason("comune", "comune_any", "Il bando è aperto a tutti i comuni",
                       "The call is open to every comune")
    return _reason("comune", "comune_listed", f"Comune ammesso: {name}",
                   f"Eligible comune: {name}")


def _deadline(r: Row, as_of: dt.date) -> dict[str, Any]:
    code, opens, closes = r["deadline_code"], r["opens_on"], r["closes_on"]
    if code == "expired":
        return _reason("deadline", "expired", f"Scaduto: chiuso il {date_it(closes)}",
                       f"Expired: closed on {closes.isoformat()}", closed_on=closes.isoformat())
    if code == "too_late":
        by = r["needed_by"]
        if opens is not None and opens > as_of:
            return _reason("deadline", "too_late",
                           f"Troppo tardi: apre il {date_it(opens)}, dopo la data entro cui "
                           f"serve il bisogno ({date_it(by)})",
                           f"Too late: opens on {opens.isoformat()}, after the need is needed "
                           f"({by.isoformat()})", opens_on=opens.isoformat())
        return _reason("deadline", "too_late",
                       f"Troppo tardi: la data entro cui serve il bisogno ({date_it(by)}) "
                       f"è già passata", f"Too late: the need was needed by {by.isoformat()}")
    if code == "not_yet_open":
        days = r["days_to_open"]
        return _reason("deadline", "not_yet_open",
                       f"Non ancora aperto: apre il {date_it(opens)} (tra {days} giorni)",
                       f"Not yet open: opens on {opens.isoformat()} (in {days} days)",
                       opens_on=opens.isoformat(), days_to_open=days)
    if closes is None:
        return _reason("deadline", "open", "Aperto, senza scadenza",
                       "Open, with no closing date")
    days = r["days_left"]
    return _reason("deadline", "open",
                   f"Aperto: scade il {date_it(closes)} (tra {days} giorni)",
                   f"Open: closes on {closes.isoformat()} (in {days} days)", days_left=days)


def _amount(r: Row) -> dict[str, Any]:
    cost, code = r["estimated_cost_eur"], r["amount_code"]
    over = r["over_by_eur"]
    if code == "over_max_grant":
        grant = r["max_grant_eur"]
        return _reason("amount", "over_max_grant",
                       f"Oltre il contributo massimo: il costo stimato {eur_it(cost)} supera "
                       f"di {eur_it(over)} il massimo di {eur_it(grant)}",
                       f"Over the maximum grant: the estimated cost {eur_en(cost)} exceeds the "
                       f"maximum of {eur_en(grant)} by {eur_en(over)}", over_by_eur=over)
    if code == "over_budget":
        budget = r["budget_eur"]
        return _reason("amount", "over_budget",
                       f"Oltre la dotazione del bando: il costo stimato {eur_it(cost)} supera di "
                       f"{eur_it(over)} la dotazione di {eur_it(budget)}",
                       f"Over the call's budget: the estimated cost {eur_en(cost)} exceeds the "
                       f"budget of {eur_en(budget)} by {eur_en(over)}", over_by_eur=over)
    if cost is None:
        return _reason("amount", "cost_unknown",
                       "Costo stimato non indicato: importo non verificato",
                       "No estimated cost: the amount was not checked")
    limit = r["max_grant_eur"] if r["max_grant_eur"] is not None else r["budget_eur"]
    if limit is None:
        return _reason("amount", "no_limit", "Il bando non fissa un contributo massimo",
                       "The call sets no maximum grant")
    if r["max_grant_eur"] is not None:
        return _reason("amount", "within_max_grant",
                       f"Il costo stimato {eur_it(cost)} rientra nel contributo massimo di "
                       f"{eur_it(limit)}",
                       f"The estimated cost {eur_en(cost)} is within the maximum grant of "
                       f"{eur_en(limit)}")
    return _reason("amount", "within_budget",
                   f"Il costo stimato {eur_it(cost)} rientra nella dotazione del bando di "
                   f"{eur_it(limit)}",
                   f"The estimated cost {eur_en(cost)} is within the call's budget of "
                   f"{eur_en(limit)}")


# ----------------------------------------------------------------------------- document
def _need(r: Row) -> dict[str, Any]:
    return {
        "id": r["id"], "istat_code": r["istat_code"], "comune": r["comune"],
        "title": r["title"], "description": r["description"], "category": r["category"],
        "category_label": label("needs", "category", r["category"]),
        "applicant": r["applicant"], "applicant_label": label("needs", "applicant", r["applicant"]),
        "priority": r["priority"], "status": r["status"],
        "estimated_cost_eur": r["estimated_cost_eur"],
        "needed_by": r["needed_by"].isoformat() if r["needed_by"] else None,
    }


def _call(r: Row) -> dict[str, Any]:
    return {
        "id": r["call_id"], "title": r["call_title"], "funder": r["funder"],
        "funding_source": r["funding_source"], "programme_code": r["programme_code"],
        "themes": list(r["themes"]), "eligible_beneficiaries": list(r["eligible_beneficiaries"]),
        "eligible_istat_codes": (list(r["eligible_istat_codes"])
                                 if r["eligible_istat_codes"] is not None else None),
        "opens_on": r["opens_on"].isoformat() if r["opens_on"] else None,
        "closes_on": r["closes_on"].isoformat() if r["closes_on"] else None,
        "budget_eur": r["budget_eur"], "max_grant_eur": r["max_grant_eur"], "url": r["url"],
    }


def _candidate(r: Row, as_of: dt.date) -> dict[str, Any]:
    reasons = [_theme(r), _beneficiary(r), _comune(r), _deadline(r, as_of), _amount(r)]
    failed = {"theme": not r["theme_ok"], "beneficiary": not r["beneficiary_ok"],
              "comune": not r["comune_ok"], "deadline": r["deadline_code"] is not None,
              "amount": r["amount_code"] is not None}
    return {
        "rank": r["rank"],
        "call": _call(r),
        "criteria_met": len(CRITERIA) - r["failed"],
        "criteria_total": len(CRITERIA),
        "amount_checked": r["amount_known"],
        "coverage_pct": r["coverage_pct"],
        "days_left": r["days_left"],
        "reasons": [x for x in reasons if not failed[x["criterion"]]],
        "why_not": [x for x in reasons if failed[x["criterion"]]],
    }


def need_entries(rows: Sequence[Row], as_of: dt.date, near_misses: bool
                 ) -> list[dict[str, Any]]:
    """The statement's rows (ordered by need, then rank) grouped into one entry per need."""
    entries: list[dict[str, Any]] = []
    by_id: dict[int, dict[str, Any]] = {}
    for r in rows:
        entry = by_id.get(r["id"])
        if entry is None:
            entry = {"need": _need(r), "matches": []}
            if near_misses:
                entry["near_misses"] = []
            by_id[r["id"]] = entry
            entries.append(entry)
        if r["call_id"] is None:
            continue
        entry["matches" if r["failed"] == 0 else "near_misses"].append(_candidate(r, as_of))
    return entries


def need_document(rows: Sequence[Row], need_id: int, as_of: dt.date,
                  near_misses: bool) -> dict[str, Any]:
    entries = need_entries(rows, as_of, near_misses)
    if not entries:
        raise UnknownTarget("need_id", need_id)
    return {"as_of": as_of.isoformat(), **entries[0], "ranking": RANKING}


def comune_document(rows: Sequence[Row], istat_code: str, name: str, as_of: dt.date,
                    near_misses: bool) -> dict[str, Any]:
    entries = need_entries(rows, as_of, near_misses)
    return {
        "as_of": as_of.isoformat(), "istat_code": istat_code, "comune": name,
        "open_needs": len(entries),
        "needs_with_matches": sum(1 for e in entries if e["matches"]),
        "needs": entries, "calls": calls_summary(entries), "ranking": RANKING,
    }


def calls_summary(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The calls that fit at least one of the comune's open needs, those serving the most
    needs first (then the nearest closing date, the id): where one application helps most."""
    calls: dict[int, dict[str, Any]] = {}
    for entry in entries:
        for m in entry["matches"]:
            c = m["call"]
            item = calls.setdefault(c["id"], {"id": c["id"], "title": c["title"],
                                              "closes_on": c["closes_on"], "need_ids": []})
            item["need_ids"].append(entry["need"]["id"])
    return sorted(calls.values(), key=lambda c: (-len(c["need_ids"]),
                                                 c["closes_on"] or "9999-12-31", c["id"]))


def json_default(value: object) -> object:
    """Money leaves as a JSON number with its exact digits: numeric(14, 2) has at most 14
    significant digits, which a double represents and prints back unchanged."""
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
