"""The report of one import: what the CLI prints, the API answers and
``rigenera.imports.report`` keeps (the same JSON everywhere).

Shape (``Report.to_json()``)::

    {"id", "collection", "status", "dry_run", "skip_invalid", "user",
     "file": {"name", "sha256", "format", "layer", "crs", "mapping"},
     "counts": {"read", "created", "updated", "unchanged", "duplicates", "invalid", "written"},
     "rejected": [{"row", "field", "reason", "value"}]   (the first 1,000; the CSV has all)
     "notes": [{"code", "message", "count"?, "items"?}],
     "progress": {"done", "total"}, "started_at", "finished_at", "seconds",
     "rows_per_second", "links": [{"rel": "self"|"rejected", "href"}]}

``status``: running, succeeded, failed (the file could not be read or the database
failed), refused (all or nothing and some row invalid, or outside a technician's
reach), dry_run.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rigenera.imports.frame import Note, RowError, SourceInfo

REJECTED_IN_JSON = 1000
COUNT_KEYS = ("read", "created", "updated", "unchanged", "duplicates", "invalid", "written")
STATUSES = ("running", "succeeded", "failed", "refused", "dry_run")


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


@dataclass
class Report:
    """Counts, rejected rows and notes of one import, with its imports record id."""

    collection: str
    file: SourceInfo
    user: str
    dry_run: bool = False
    skip_invalid: bool = False
    id: int | None = None
    status: str = "running"
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))
    rejected: list[RowError] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    # The user's original values of rejected rows, by row: extra CSV columns.
    originals: dict[int, dict[str, Any]] = field(default_factory=dict)
    done: int = 0
    total: int | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    # A refusal of the whole file (no CRS, corrupt file, reach): its message.
    message: str | None = None
    # Seconds per phase of the engine (stage, derive, match, check, classify, write...).
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the import did (or, for a dry run, would) write without refusal:
        a dry run with invalid rows is ok only with skip_invalid."""
        if self.status in ("failed", "refused"):
            return False
        return self.skip_invalid or self.counts.get("invalid", 0) == 0

    @property
    def invalid_rows(self) -> int:
        return len({e.row for e in self.rejected if e.row})

    def finish(self, status: str) -> None:
        if status not in STATUSES:
            raise ValueError(status)
        self.status = status
        self.finished_at = datetime.now(UTC)

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 3)

    def links(self, base: str = "/api/imports") -> list[dict[str, str]]:
        if self.id is None:
            return []
        out = [{"rel": "self", "href": f"{base}/{self.id}", "type": "application/json"}]
        if self.rejected:
            out.append({"rel": "rejected", "href": f"{base}/{self.id}/rejected.csv",
                        "type": "text/csv"})
        return out

    def to_json(self) -> dict[str, Any]:
        seconds = self.seconds
        rate = (round(self.counts.get("read", 0) / seconds, 1)
                if seconds and self.counts.get("read") else None)
        doc: dict[str, Any] = {
            "id": self.id,
            "collection": self.collection,
            "status": self.status,
            "ok": self.ok,
            "dry_run": self.dry_run,
            "skip_invalid": self.skip_invalid,
            "user": self.user,
            "file": self.file.to_json(),
            "counts": {k: int(self.counts.get(k, 0)) for k in COUNT_KEYS},
            "rejected": [e.to_json() for e in self.rejected[:REJECTED_IN_JSON]],
            "rejected_total": len(self.rejected),
            "notes": [n.to_json() for n in self.notes],
            "progress": {"done": self.done, "total": self.total},
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "seconds": seconds,
            "rows_per_second": rate,
            "links": self.links(),
        }
        if self.message:
            doc["message"] = self.message
        if self.timings:
            doc["timings"] = {k: round(v, 3) for k, v in self.timings.items()}
        return doc

    def rejected_csv(self) -> str:
        """Every rejected row: row, field, reason, value, then the row's own columns as the
        file has them (``file:<column>``, when read), one line per problem; UTF-8 text."""
        extra: list[str] = []
        seen: set[str] = set()
        for values in self.originals.values():
            for k in values:
                if k not in seen:
                    seen.add(k)
                    extra.append(k)
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["row", "field", "reason", "value", *(f"file:{k}" for k in extra)])
        for e in sorted(self.rejected, key=lambda e: (e.row, e.field)):
            orig = self.originals.get(e.row, {})
            w.writerow([e.row, e.field, e.reason, "" if e.value is None else e.value,
                        *("" if orig.get(k) is None else str(orig.get(k)) for k in extra)])
        return out.getvalue()

    def errors_json(self, limit: int = REJECTED_IN_JSON) -> list[dict[str, Any]]:
        """The rejected rows as the API's error list: [{row, field, reason}]."""
        return [{"row": e.row, "field": e.field, "reason": e.reason}
                for e in self.rejected[:limit]]

    def add_notes(self, notes: Sequence[Note]) -> None:
        self.notes.extend(notes)
