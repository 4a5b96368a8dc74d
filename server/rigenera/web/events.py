"""Events (issue 12): what the public and the reserved pages share.

* labels of kinds, audiences and states, in both languages;
* reading and checking the two forms (registration, event) into values or per-field
  messages (a 422 names the field, nothing is written);
* the database's refusals (the registration trigger's check_violation, the unique e-mail,
  the capacity a lowered value would break) as a human message per constraint, after
  `errors.translate_db_error` has named the field;
* the public view of an event row (never a registrant's data), its calendar file;
* where material files live: the monitoring room's `FolderStorage`, in a folder of its own.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import Path as PathParam
from starlette.datastructures import FormData

from rigenera.domains import DOMAINS
from rigenera.errors import RigeneraError, translate_db_error
from rigenera.monitoring.storage import DocumentStorage, FolderStorage, stored_folders
from rigenera.settings import Settings
from rigenera.web.format import ROME
from rigenera.web.security import form_text

KINDS: dict[str, tuple[str, str]] = DOMAINS[("events", "kind")]
AUDIENCES: dict[str, tuple[str, str]] = {
    "technicians": ("Tecnici comunali", "Municipal technicians"),
    "citizens": ("Cittadini", "Citizens"),
    "volunteers": ("Volontari", "Volunteers"),
    "administrators": ("Amministratori", "Local administrators"),
    "all": ("Aperto a tutti", "Open to everyone"),
}
RowId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]  # a bigint id in a URL (else 422)
SOURCE = "area-riservata"  # events created on the website
TITLE_MAX, TEXT_MAX, LONG_MAX = 300, 200, 5000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s]+$")

# A database refusal -> (status, Italian, English). Constraint names from migration 0024.
REFUSALS: dict[str, tuple[int, str, str]] = {
    "event_registrations_event_id_capacity": (
        409, "Posti esauriti: l'evento è al completo.", "The event is full: no places left."),
    "event_registrations_event_id_open": (
        409, "Iscrizioni chiuse: l'evento è annullato o il termine è passato.",
        "Registration is closed: the event is cancelled or the deadline has passed."),
    "event_registrations_email_unique": (
        409, "Questo indirizzo e-mail è già iscritto all'evento.",
        "This e-mail address is already registered for the event."),
    "events_capacity_registered": (
        409, "I posti non possono essere meno degli iscritti attuali.",
        "Places cannot be fewer than the people already registered."),
    "events_registration_closes_at_order": (
        422, "Il termine delle iscrizioni deve precedere l'inizio.",
        "The registration deadline must come before the start."),
    "events_dates_order": (422, "La fine deve seguire l'inizio.", "The end must follow the start."),
}
_REFUSAL_FIELDS = {"event_registrations_event_id_capacity": "event",
                   "event_registrations_event_id_open": "event",
                   "event_registrations_email_unique": "email",
                   "events_capacity_registered": "capacity",
                   "events_registration_closes_at_order": "registration_closes_at",
                   "events_dates_order": "ends_at"}


@dataclass
class Refusal:
    """A write the database (or a check before it) refused: the field, a message, a status."""

    status: int
    errors: dict[str, str] = field(default_factory=dict)


def db_refusal(exc: asyncpg.PostgresError, lang: str) -> Refusal:
    """The database's refusal as a message for the form (see the module)."""
    translated: RigeneraError = translate_db_error(exc)
    constraint = getattr(exc, "constraint_name", None) or ""
    known = REFUSALS.get(constraint)
    if known is not None:
        status, it, en = known
        return Refusal(status, {_REFUSAL_FIELDS[constraint]: it if lang == "it" else en})
    if int(translated.status) >= 500:
        raise translated
    name = translated.errors[0]["field"] if translated.errors else "body"
    return Refusal(int(translated.status), {str(name): translated.description})


def _msg(lang: str, it: str, en: str) -> str:
    return it if lang == "it" else en


# ------------------------------------------------------------------ registration form
@dataclass
class Registration:
    full_name: str | None
    email: str | None
    organisation: str | None
    istat_code: str | None
    role: str | None
    consent: bool


def read_registration(form: FormData, comuni: set[str], lang: str) -> tuple[Registration,
                                                                            dict[str, str]]:
    """The registration form's values and a message per wrong field."""
    reg = Registration(form_text(form, "full_name"), form_text(form, "email"),
                       form_text(form, "organisation"), form_text(form, "istat_code"),
                       form_text(form, "role"), form.get("consent") in ("1", "on", "yes"))
    errors: dict[str, str] = {}
    if not reg.full_name:
        errors["full_name"] = _msg(lang, "Indicare nome e cognome.", "Enter your full name.")
    elif len(reg.full_name) > TEXT_MAX:
        errors["full_name"] = _msg(lang, f"Al massimo {TEXT_MAX} caratteri.",
                                   f"At most {TEXT_MAX} characters.")
    if not reg.email or not _EMAIL.match(reg.email) or len(reg.email) > 254:
        errors["email"] = _msg(lang, "Indicare un indirizzo e-mail valido (nome@esempio.it).",
                               "Enter a valid e-mail address (name@example.org).")
    for name in ("organisation", "role"):
        value = getattr(reg, name)
        if value is not None and len(value) > TEXT_MAX:
            errors[name] = _msg(lang, f"Al massimo {TEXT_MAX} caratteri.",
                                f"At most {TEXT_MAX} characters.")
    if reg.istat_code is not None and reg.istat_code not in comuni:
        errors["istat_code"] = _msg(lang, "Scegliere un comune dell'elenco.",
                                    "Choose a comune from the list.")
    if not reg.consent:
        errors["consent"] = _msg(lang, "Per iscriversi occorre accettare l'informativa privacy.",
                                 "You must accept the privacy notice to register.")
    return reg, errors


def new_cancel_token() -> tuple[str, str]:
    """A random token for the registrant's cancellation link, and the SHA-256 we keep."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ------------------------------------------------------------------ event form
@dataclass
class EventForm:
    title: str | None = None
    kind: str | None = None
    description: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    istat_code: str | None = None
    venue: str | None = None
    longitude: float | None = None
    latitude: float | None = None
    audience: str | None = None
    capacity: int | None = None
    registration_closes_at: datetime | None = None
    online_url: str | None = None
    raw: dict[str, str] = field(default_factory=dict)  # what was typed, to show it again

    def params(self) -> tuple[Any, ...]:
        """The SQL parameters $2.. of event_insert/event_update (same order)."""
        return (self.title, self.kind, self.description, self.starts_at, self.ends_at,
                self.istat_code, self.venue, self.longitude, self.latitude, self.audience,
                self.capacity, self.registration_closes_at, self.online_url)


EVENT_FIELDS = ("title", "kind", "description", "starts_at", "ends_at", "istat_code", "venue",
                "longitude", "latitude", "audience", "capacity", "registration_closes_at",
                "online_url")


def local_input(value: datetime | None) -> str:
    """A timestamp as a datetime-local input's value, in Milan's time."""
    return value.astimezone(ROME).strftime("%Y-%m-%dT%H:%M") if value else ""


def event_form_of(row: asyncpg.Record | None) -> EventForm:
    """The form filled from a stored event (or empty for a new one)."""
    if row is None:
        return EventForm(kind="training", audience="technicians")
    ev = EventForm(**{k: row[k] for k in EVENT_FIELDS})
    ev.raw = {k: "" if row[k] is None else str(row[k]) for k in EVENT_FIELDS}
    for k in ("starts_at", "ends_at", "registration_closes_at"):
        ev.raw[k] = local_input(row[k])
    return ev


def _moment(text: str | None) -> datetime:
    """A datetime-local value (Milan's time) -> an aware datetime; ValueError if wrong."""
    if text is None:
        raise ValueError("empty")
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=ROME) if value.tzinfo is None else value


def read_event(form: FormData, comuni: set[str], lang: str) -> tuple[EventForm, dict[str, str]]:
    """The event form's values and a message per wrong field (nothing is written)."""
    ev = EventForm(raw={k: form_text(form, k) or "" for k in EVENT_FIELDS})
    errors: dict[str, str] = {}
    text = ev.raw
    ev.title = text["title"] or None
    if not ev.title:
        errors["title"] = _msg(lang, "Il titolo è obbligatorio.", "The title is required.")
    elif len(ev.title) > TITLE_MAX:
        errors["title"] = _msg(lang, f"Al massimo {TITLE_MAX} caratteri.",
                               f"At most {TITLE_MAX} characters.")
    ev.kind = text["kind"] or None
    if ev.kind not in KINDS:
        errors["kind"] = _msg(lang, "Scegliere un tipo dell'elenco.", "Choose a kind from the list.")
    ev.description = text["description"] or None
    if ev.description and len(ev.description) > LONG_MAX:
        errors["description"] = _msg(lang, f"Al massimo {LONG_MAX} caratteri.",
                                     f"At most {LONG_MAX} characters.")
    for name, required in (("starts_at", True), ("ends_at", False),
                           ("registration_closes_at", False)):
        if not text[name] and not required:
            continue
        try:
            setattr(ev, name, _moment(text[name] or None))
        except ValueError:
            errors[name] = _msg(lang, "Data e ora non valide (GG/MM/AAAA hh:mm).",
                                "Invalid date and time.")
    if ev.starts_at and ev.ends_at and ev.ends_at < ev.starts_at:
        errors["ends_at"] = _msg(lang, "La fine deve seguire l'inizio.",
                                 "The end must follow the start.")
    if ev.starts_at and ev.registration_closes_at and ev.registration_closes_at > ev.starts_at:
        errors["registration_closes_at"] = _msg(
            lang, "Il termine delle iscrizioni deve precedere l'inizio.",
            "The registration deadline must come before the start.")
    ev.istat_code = text["istat_code"] or None
    if ev.istat_code is not None and ev.istat_code not in comuni:
        errors["istat_code"] = _msg(lang, "Scegliere un comune dell'elenco.",
                                    "Choose a comune from the list.")
    ev.venue = text["venue"] or None
    if ev.venue and len(ev.venue) > TITLE_MAX:
        errors["venue"] = _msg(lang, f"Al massimo {TITLE_MAX} caratteri.",
                               f"At most {TITLE_MAX} characters.")
    lon, lat = text["longitude"], text["latitude"]
    if lon or lat:
        try:
            ev.longitude = float(lon.replace(",", "."))
            if not -180 <= ev.longitude <= 180:
                raise ValueError
        except ValueError:
            errors["longitude"] = _msg(lang, "Longitudine non valida (es. 9,19).",
                                       "Invalid longitude (e.g. 9.19).")
        try:
            ev.latitude = float(lat.replace(",", "."))
            if not -90 <= ev.latitude <= 90:
                raise ValueError
        except ValueError:
            errors["latitude"] = _msg(lang, "Latitudine non valida (es. 45,46).",
                                      "Invalid latitude (e.g. 45.46).")
    ev.audience = text["audience"] or None
    if ev.audience is not None and ev.audience not in AUDIENCES:
        errors["audience"] = _msg(lang, "Scegliere un pubblico dell'elenco.",
                                  "Choose an audience from the list.")
    if text["capacity"]:
        try:
            ev.capacity = int(text["capacity"])
            if ev.capacity <= 0 or ev.capacity > 100_000:
                raise ValueError
        except ValueError:
            errors["capacity"] = _msg(lang, "Un numero intero di posti, almeno 1.",
                                      "A whole number of places, at least 1.")
    ev.online_url = text["online_url"] or None
    if ev.online_url and (not _URL.match(ev.online_url) or len(ev.online_url) > 2000):
        errors["online_url"] = _msg(lang, "Un indirizzo che inizia con https://.",
                                    "An address starting with https://.")
    return ev, errors


# ------------------------------------------------------------------ the public view
def registration_open(row: asyncpg.Record, now: datetime) -> bool:
    closes = row["registration_closes_at"] or row["starts_at"]
    return bool(row["status"] == "scheduled" and now <= closes
                and (row["places_left"] is None or row["places_left"] > 0))


def public_event(row: asyncpg.Record, materials: list[asyncpg.Record], now: datetime,
                 lang: str) -> dict[str, Any]:
    """An event as the public pages and their JSON twins show it: no registrant's data."""
    i = 0 if lang == "it" else 1
    eid = row["id"]
    return {
        "id": eid,
        "title": row["title"],
        "kind": row["kind"],
        "kind_label": KINDS[row["kind"]][i],
        "description": row["description"],
        "starts_at": row["starts_at"].astimezone(ROME).isoformat(),
        "ends_at": row["ends_at"].astimezone(ROME).isoformat() if row["ends_at"] else None,
        "istat_code": row["istat_code"],
        "comune": row["comune"],
        "venue": row["venue"],
        "point": ([row["longitude"], row["latitude"]] if row["longitude"] is not None
                  else None),
        "audience": row["audience"],
        "audience_label": AUDIENCES[row["audience"]][i] if row["audience"] else None,
        "capacity": row["capacity"],
        "places_left": row["places_left"],
        "registration_closes_at": (row["registration_closes_at"].astimezone(ROME).isoformat()
                                   if row["registration_closes_at"] else None),
        "registration_open": registration_open(row, now),
        "status": row["status"],
        "online_url": row["online_url"],
        "materials": [public_material(eid, m) for m in materials],
        "links": [{"rel": "alternate", "type": "text/html", "href": f"/eventi/{eid}"},
                  {"rel": "alternate", "type": "text/calendar",
                   "href": f"/eventi/{eid}/calendario.ics"}],
    }


def public_material(event_id: int, m: asyncpg.Record) -> dict[str, Any]:
    href = m["url"] or f"/eventi/{event_id}/materiali/{m['id']}"
    return {"id": m["id"], "title": m["title"], "href": href, "external": m["url"] is not None,
            "media_type": m["media_type"], "size_bytes": m["size_bytes"]}


# ------------------------------------------------------------------ calendar file
def _ics_text(value: str) -> str:
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """RFC 5545: lines of at most 75 octets, continued with a space."""
    out, current = [], b""
    for ch in line:
        b = ch.encode()
        if len(current) + len(b) > 75:
            out.append(current.decode())
            current = b" "
        current += b
    out.append(current.decode())
    return "\r\n".join(out)


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def ics(row: asyncpg.Record, base_url: str, host: str) -> str:
    """The event as an iCalendar file (one VEVENT; times in UTC)."""
    place = ", ".join(p for p in (row["venue"], row["comune"]) if p)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Rigenera//Eventi//IT",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "BEGIN:VEVENT",
             f"UID:evento-{row['id']}@{host}",
             f"DTSTAMP:{_utc(row['updated_at'])}",
             f"SEQUENCE:{row['version']}",
             f"DTSTART:{_utc(row['starts_at'])}"]
    if row["ends_at"]:
        lines.append(f"DTEND:{_utc(row['ends_at'])}")
    lines.append(f"SUMMARY:{_ics_text(row['title'])}")
    if place:
        lines.append(f"LOCATION:{_ics_text(place)}")
    if row["longitude"] is not None:
        lines.append(f"GEO:{row['latitude']:.6f};{row['longitude']:.6f}")
    if row["description"]:
        lines.append(f"DESCRIPTION:{_ics_text(row['description'])}")
    lines.append(f"URL:{base_url.rstrip('/')}/eventi/{row['id']}")
    lines.append("STATUS:" + ("CANCELLED" if row["status"] == "cancelled" else "CONFIRMED"))
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


# ------------------------------------------------------------------ material files
def material_storage(settings: Settings) -> DocumentStorage:
    """The bytes of event materials: the documents' FolderStorage (atomic put, keys that
    are ours), in a folder beside the project documents' own, so an audit of the
    documents' keys against rigenera.documents never meets an event's file."""
    return FolderStorage(stored_folders(settings)["event-materials"])
