"""The shapes of the monitoring answers, for /api/openapi.json (routes/monitoring.py).

Documentation only: the routes build their JSON themselves; schemathesis
(tests/test_schemathesis.py) checks the answers against these shapes.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Label(BaseModel):
    it: str
    en: str


class Link(BaseModel):
    rel: str
    href: str
    type: str


class Document(_Open):
    id: int
    project_id: int
    kind: str
    kind_label: Label
    phase: str | None
    reference_date: str | None
    title: str
    file_name: str
    media_type: str = Field(description="application/pdf, image/jpeg or image/png")
    size_bytes: int
    sha256: str = Field(description="of the bytes; the file's ETag")
    version: int
    created_at: str
    created_by: str
    links: list[Link]


class DocumentList(BaseModel):
    project_id: int
    items: list[Document]


class RequiredKind(BaseModel):
    kind: str
    label: Label
    present: bool
    documents: list[dict[str, Any]]


class ChecklistPhase(BaseModel):
    phase: str
    label: Label
    required: list[RequiredKind]
    missing: list[str]


class MissingKind(_Open):
    phase: str
    kind: str


class Checklist(BaseModel):
    project_id: int
    phase: str = Field(description="the current phase: the latest progress record's, else design")
    phase_label: Label
    phases: list[ChecklistPhase]
    missing: list[MissingKind]
    complete: bool
    required_count: int
    missing_count: int


class MissingProject(_Open):
    id: int
    title: str
    cup: str | None
    phase: str
    istat_codes: list[str]
    missing: list[MissingKind]


class MissingList(BaseModel):
    istat_code: str | None
    count: int
    items: list[MissingProject]


class Deadline(_Open):
    project_id: int
    title: str
    cup: str | None
    obligation: str
    obligation_title: Label
    period_start: str
    period_end: str
    due_on: str


class UpcomingDeadline(Deadline):
    istat_codes: list[str]
    days_left: int


class OverdueDeadline(Deadline):
    days_overdue: int


class Referent(BaseModel):
    id: int
    full_name: str
    organisation: str | None
    role: str | None
    email: str | None
    phone: str | None


class OverdueComune(BaseModel):
    istat_code: str | None = Field(description="null: projects of the whole metro area")
    name: str | None
    count: int
    projects: int
    deadlines: list[OverdueDeadline]
    referents: list[Referent] | None = Field(
        None, description="only for authenticated callers (private contacts)")


class Upcoming(BaseModel):
    today: str
    until: str
    count: int
    items: list[UpcomingDeadline]


class Overdue(BaseModel):
    today: str
    count: int
    comuni: list[OverdueComune]


class Summary(_Open):
    project: dict[str, Any]
    current: dict[str, Any] | None = Field(description="the latest progress record")
    phase: str
    progress: list[dict[str, Any]]
    milestones: list[dict[str, Any]]
    targets: list[dict[str, Any]]
    late_count: int
    tenders: list[dict[str, Any]]
    documents: list[Document]
    checklist: dict[str, Any]
    deadlines: dict[str, Any]
