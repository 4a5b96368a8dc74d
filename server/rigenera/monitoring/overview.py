"""A project's checklist of documents and its monitoring summary, read in one place.

The checklist's rule lives in the database (migration 0022): the current phase is the
latest progress record's ('design' without one, view `rigenera.project_phase`); every
phase up to it requires the kinds of `rigenera.document_requirements`; a kind is present
when a document of that kind is filed under that phase (`rigenera.missing_documents`).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import asyncpg

from rigenera.domains import DOCUMENT_KIND, PHASE
from rigenera.monitoring import calendar
from rigenera.monitoring.documents import COLUMNS, document_doc, sql

CHECKLIST, MISSING = sql("checklist"), sql("checklist_missing")
PROGRESS, MILESTONES, TENDERS = sql("progress_series"), sql("milestones"), sql("tenders")
NEXT_DAYS = 92  # the summary's "next deadlines" look a quarter ahead


def label(labels: dict[str, tuple[str, str]], code: str | None) -> dict[str, str] | None:
    return None if code is None else dict(zip(("it", "en"), labels[code], strict=True))


def plain(value: Any) -> Any:
    """A database value as JSON: dates ISO, numeric as a number (numeric(14,2) values
    round-trip exactly through a double's shortest text), JSON text parsed."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def record(row: asyncpg.Record) -> dict[str, Any]:
    return {k: plain(v) for k, v in dict(row).items()}


async def checklist(conn: asyncpg.Pool | asyncpg.Connection, project_id: int,
                    phase: str) -> dict[str, Any]:
    """Per phase up to `phase`: the required kinds, the documents of each, what is missing."""
    rows = await conn.fetch(CHECKLIST, project_id)
    phases: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = phases.setdefault(row["phase"], {
            "phase": row["phase"], "label": label(PHASE, row["phase"]), "required": [],
            "missing": []})
        docs = row["documents"]
        docs = json.loads(docs) if isinstance(docs, str) else docs
        entry["required"].append({"kind": row["kind"], "label": label(DOCUMENT_KIND, row["kind"]),
                                  "present": bool(docs), "documents": docs})
        if not docs:
            entry["missing"].append(row["kind"])
    missing = [{"phase": p["phase"], "kind": k} for p in phases.values() for k in p["missing"]]
    required = sum(len(p["required"]) for p in phases.values())
    return {"project_id": project_id, "phase": phase, "phase_label": label(PHASE, phase),
            "phases": list(phases.values()), "missing": missing,
            "complete": not missing, "required_count": required,
            "missing_count": len(missing)}


async def missing_list(conn: asyncpg.Pool | asyncpg.Connection,
                       istat_code: str | None) -> list[dict[str, Any]]:
    """Projects under way with missing documents (see checklist_missing.sql)."""
    items = []
    for row in await conn.fetch(MISSING, istat_code):
        doc = record(row)
        doc["istat_codes"] = list(row["istat_codes"])
        missing = row["missing"]
        doc["missing"] = json.loads(missing) if isinstance(missing, str) else missing
        for m in doc["missing"]:
            m["label"] = label(DOCUMENT_KIND, m["kind"])
        items.append(doc)
    return items


async def summary(conn: asyncpg.Pool | asyncpg.Connection, project: asyncpg.Record,
                  today: dt.date) -> dict[str, Any]:
    """Everything the office follows about one project (see the route)."""
    pid = project["id"]
    series = [record(r) for r in await conn.fetch(PROGRESS, pid)]
    milestones = [record(r) for r in await conn.fetch(MILESTONES, pid)]
    tenders = [record(r) for r in await conn.fetch(TENDERS, pid)]
    documents = [document_doc(r) for r in await conn.fetch(
        COLUMNS + " WHERE d.project_id = $1 ORDER BY d.created_at, d.id", pid)]
    check = await checklist(conn, pid, project["phase"])
    calendar_rows = [calendar.deadline_doc(r) for r in await conn.fetch(
        calendar.PROJECT, pid, today + dt.timedelta(days=NEXT_DAYS))]
    overdue = [d for d in calendar_rows if d["done_on"] is None and d["days_left"] < 0]
    upcoming = [d for d in calendar_rows if d["done_on"] is None and d["days_left"] >= 0]
    next_by_obligation: dict[str, dict[str, Any]] = {}
    for d in upcoming:
        next_by_obligation.setdefault(d["obligation"], d)
    done_late = [d for d in calendar_rows
                 if d["done_on"] is not None and d["done_on"] > d["due_on"]]
    late_milestones = [m for m in milestones if m["late"]]
    return {
        "project": record(project),
        "current": series[-1] if series else None,
        "phase": project["phase"], "phase_label": label(PHASE, project["phase"]),
        "progress": series,
        "milestones": [m for m in milestones if m["kind"] == "milestone"],
        "targets": [m for m in milestones if m["kind"] == "target"],
        "late_count": len(late_milestones),
        "tenders": tenders,
        "documents": documents,
        "checklist": {k: check[k] for k in ("phase", "complete", "required_count",
                                            "missing_count", "missing")},
        "deadlines": {"next": list(next_by_obligation.values()), "overdue": overdue,
                      "done_late": len(done_late)},
    }
