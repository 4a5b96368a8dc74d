"""Project documents: what an upload must be, and its row and bytes written together.

A document is accepted when its extension is one we keep (.pdf, .jpg/.jpeg, .png) and its
first bytes are what the extension says (magic bytes, never the client's Content-Type):
an unknown type is 415, a known type under another type's name (a PNG called .pdf) is a
422, both naming `file`. The upload itself is streamed to a private folder by
`uploads.receive_upload` (size counted while received, 413 over the limit) and hashed by
the import door's `_hash` (imports/files.py), so the rules of the two doors are one.

Writing: row and bytes succeed or fail together. The row is inserted in a transaction
(the acting user set like the editing service does, so touch() and the history name
them), the bytes are stored under a fresh key, then the transaction commits. A storage
failure rolls the row back; a database failure after the bytes were stored removes them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

import asyncpg
from starlette.concurrency import run_in_threadpool

from rigenera.auth import Principal
from rigenera.domains import DOCUMENT_KIND, PHASE
from rigenera.errors import (
    Forbidden,
    InvalidParameter,
    NotFound,
    PreconditionFailed,
    UnsafeFile,
    UnsupportedFile,
    translate_db_error,
)
from rigenera.imports.files import _hash
from rigenera.inputs import check_text
from rigenera.monitoring.storage import DocumentStorage
from rigenera.uploads import Upload

LOG = logging.getLogger(__name__)

# extension -> (media type, magic bytes, what it is)
TYPES: dict[str, tuple[str, bytes, str]] = {
    ".pdf": ("application/pdf", b"%PDF-", "PDF"),
    ".jpg": ("image/jpeg", b"\xff\xd8\xff", "JPEG"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff", "JPEG"),
    ".png": ("image/png", b"\x89PNG\r\n\x1a\n", "PNG"),
}
FIELDS = {"kind", "phase", "reference_date", "title"}
TITLE_MAX = 300


def sql(name: str) -> str:
    return resources.files("rigenera.monitoring.sql").joinpath(f"{name}.sql").read_text()


COLUMNS = sql("document_columns")
_STATE, _INSERT, _FOR_UPDATE = sql("project_state"), sql("document_insert"), sql(
    "document_for_update")


def _invalid(field: str, it: str, en: str, reason: str) -> InvalidParameter:
    return InvalidParameter(f"{field}: {it} / {en}", errors=[{"field": field, "reason": reason}])


def sniff(path: Path, file_name: str) -> str:
    """The media type of the file: its extension's, provided the bytes agree (see module)."""
    ext = PurePosixPath(file_name.lower()).suffix
    with path.open("rb") as f:
        head = f.read(16)
    if not head:
        raise UnsafeFile(f"{file_name}: file vuoto / empty file", reason="empty")
    found = next((what for _, magic, what in TYPES.values() if head.startswith(magic)), None)
    accepted = ", ".join(sorted(TYPES))
    if ext not in TYPES:
        raise UnsupportedFile(
            f"{file_name}: tipo di file non accettato ({ext or 'senza estensione'}); accettati "
            f"{accepted} / file type not accepted; accepted {accepted}",
            reason=f"extension {ext or '(none)'} not accepted")
    media_type, magic, what = TYPES[ext]
    if head.startswith(magic):
        return media_type
    if found is None:
        raise UnsupportedFile(
            f"{file_name}: il contenuto non è {what} né un altro tipo accettato / the content "
            f"is not {what} nor another accepted type", reason=f"content is not {what}")
    raise UnsafeFile(
        f"{file_name}: il contenuto ({found}) non corrisponde all'estensione {ext} / the "
        f"content ({found}) does not match the extension {ext}",
        reason=f"content is {found}, not {what}")


@dataclass(frozen=True)
class DocumentFields:
    kind: str
    phase: str | None
    reference_date: dt.date | None
    title: str | None


def read_fields(upload: Upload) -> DocumentFields:
    """The form's text fields, each problem a 400 naming it."""
    if "file" not in upload.files:
        raise _invalid("file", "obbligatorio", "required", "required file part")
    fields = upload.fields
    kind = fields.get("kind", "")
    if kind not in DOCUMENT_KIND:
        raise _invalid("kind", "uno di " + ", ".join(DOCUMENT_KIND),
                       "one of " + ", ".join(DOCUMENT_KIND), "one of " + ", ".join(DOCUMENT_KIND))
    phase = fields.get("phase") or None
    if phase is not None and phase not in PHASE:
        raise _invalid("phase", "una di " + ", ".join(PHASE), "one of " + ", ".join(PHASE),
                       "one of " + ", ".join(PHASE))
    reference: dt.date | None = None
    if fields.get("reference_date"):
        try:
            reference = dt.date.fromisoformat(fields["reference_date"])
        except ValueError:
            raise _invalid("reference_date", "data non valida (AAAA-MM-GG)",
                           "invalid date (YYYY-MM-DD)", "expected YYYY-MM-DD") from None
    title = fields.get("title") or None
    if title is not None and len(title) > TITLE_MAX:
        raise _invalid("title", f"più di {TITLE_MAX} caratteri", f"longer than {TITLE_MAX}",
                       f"longer than {TITLE_MAX} characters")
    return DocumentFields(kind, phase, reference, title)


def reach(who: Principal) -> list[str] | None:
    """The comuni a technician's writes must stay within; None for admins and coordinators."""
    return None if who.edits_everywhere else sorted(who.comuni)


def _check_reach(problems: Any) -> None:
    found = json.loads(problems) if isinstance(problems, str) else problems
    if found:
        raise Forbidden("project_id: progetto fuori dai comuni dell'account / project outside "
                        "the account's comuni", errors=found)


async def project_state(conn: asyncpg.Connection | asyncpg.Pool, project_id: int,
                        who: Principal) -> asyncpg.Record:
    """The project (404 when missing), its current phase; 403 when out of the caller's reach."""
    row = await conn.fetchrow(_STATE, project_id, reach(who))
    if row is None:
        raise NotFound(f"Progetto {project_id} non trovato / project not found")
    _check_reach(row["problems"])
    return row


async def _act(conn: asyncpg.Connection, who: Principal, operation: str) -> None:
    """Who acts, in which changeset, as the editing service sets it: touch() and the
    history triggers read these transaction-local settings."""
    await conn.execute("SELECT set_config('rigenera.actor', $1, true),"
                       " set_config('rigenera.changeset', $2, true),"
                       " set_config('rigenera.operation', $3, true)",
                       who.username, str(uuid.uuid4()), operation)


async def store(pool: asyncpg.Pool, storage: DocumentStorage, who: Principal, project_id: int,
                upload: Upload, limit: int) -> int:
    """Check the uploaded file, then write its row and bytes together (see module); its id."""
    fields = read_fields(upload)
    file = upload.files["file"]
    check_text("file", file.name)
    media_type = sniff(file.path, file.name)
    sha256 = await run_in_threadpool(_hash, file.path, limit, file.name)
    key = f"{project_id}/{uuid.uuid4().hex}"
    stored = False
    async with pool.acquire() as conn:
        try:
            async with conn.transaction():
                await _act(conn, who, "create")
                state = await project_state(conn, project_id, who)
                doc_id: int = await conn.fetchval(
                    _INSERT, project_id, fields.kind, fields.phase or state["phase"],
                    fields.reference_date, fields.title or file.name, file.name, media_type,
                    file.size, sha256, key)
                await run_in_threadpool(storage.put, key, file.path)
                stored = True
        except asyncpg.PostgresError as exc:
            if stored:
                await run_in_threadpool(storage.delete, key)
            raise translate_db_error(exc) from exc
        except BaseException:
            if stored:
                await run_in_threadpool(storage.delete, key)
            raise
    return doc_id


async def remove(pool: asyncpg.Pool, storage: DocumentStorage, who: Principal, doc_id: int,
                 base_version: int | None) -> None:
    """Delete a document's row (history keeps its metadata), then its bytes."""
    async with pool.acquire() as conn:
        try:
            async with conn.transaction():
                await _act(conn, who, "delete")
                row = await conn.fetchrow(_FOR_UPDATE, doc_id, reach(who))
                if row is None:
                    raise NotFound(f"Documento {doc_id} non trovato / document not found")
                _check_reach(row["problems"])
                if base_version is not None and base_version != row["version"]:
                    raise PreconditionFailed(
                        f"documento {doc_id} modificato da altri: versione attuale "
                        f"{row['version']}, la tua {base_version} / changed by someone else",
                        headers={"ETag": f'"{row["version"]}"'},
                        body={"currentVersion": row["version"], "id": str(doc_id)})
                await conn.execute("DELETE FROM rigenera.documents WHERE id = $1", doc_id)
        except asyncpg.PostgresError as exc:
            raise translate_db_error(exc) from exc
    # After the commit: a failure here leaves an orphan file, never a row without bytes.
    try:
        await run_in_threadpool(storage.delete, row["storage_key"])
    except OSError as exc:
        LOG.warning("document %s deleted, its file %s not: %r", doc_id, row["storage_key"], exc)


def document_doc(row: asyncpg.Record) -> dict[str, Any]:
    """A document's metadata as JSON, with its links."""
    doc = {k: row[k] for k in ("id", "project_id", "kind", "phase", "title", "file_name",
                               "media_type", "size_bytes", "sha256", "source", "version",
                               "created_by", "updated_by")}
    doc["reference_date"] = row["reference_date"].isoformat() if row["reference_date"] else None
    doc["created_at"] = row["created_at"].isoformat()
    doc["updated_at"] = row["updated_at"].isoformat()
    doc["kind_label"] = dict(zip(("it", "en"), DOCUMENT_KIND[row["kind"]], strict=True))
    doc["links"] = [
        {"rel": "self", "href": f"/api/documents/{row['id']}", "type": "application/json"},
        {"rel": "enclosure", "href": f"/api/documents/{row['id']}/file",
         "type": row["media_type"]}]
    return doc
