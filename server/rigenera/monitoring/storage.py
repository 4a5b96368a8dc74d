"""Where project documents' bytes live: a storage interface and its default, a folder.

The database keeps a document's metadata and its `storage_key`; the bytes go through
`DocumentStorage`, so another backend (an object store) is one class more, chosen by
`settings.documents_storage`. Keys are ours (`<project>/<uuid>`), never the user's file
name, so no path from a request reaches the file system.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

from rigenera.settings import Settings

_KEY = re.compile(r"^[0-9]{1,19}/[0-9a-f]{32}$")
CHUNK = 1024 * 1024


class DocumentStorage(Protocol):
    """put/open/delete by key. `put` is atomic: the key holds all the bytes or none."""

    def put(self, key: str, source: Path) -> None: ...

    def open(self, key: str) -> BinaryIO: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...


class FolderStorage:
    """Files under one folder (default STATE_DIR/documents), one subfolder per project.

    `put` copies into a temporary file beside the target, fsyncs and renames it: a
    crash or a full disk leaves no half file under the key.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"invalid storage key {key!r}")
        return self.root / key

    def put(self, key: str, source: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out, source.open("rb") as src:
                shutil.copyfileobj(src, out, CHUNK)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def keys(self) -> list[str]:
        """Every stored key (tests: nothing left behind; an audit against the table)."""
        if not self.root.is_dir():
            return []
        return sorted(f"{p.parent.name}/{p.name}" for p in self.root.glob("*/*")
                      if _KEY.match(f"{p.parent.name}/{p.name}"))


def stored_folders(settings: Settings) -> dict[str, Path]:
    """Every folder of stored files by name: the project documents and, beside them, the
    event materials (web/events.py). One list, so `rigenera backup` misses none."""
    documents = settings.documents_dir or settings.state_dir / "documents"
    return {"documents": documents, "event-materials": documents.parent / "event-materials"}


def storage_from_settings(settings: Settings) -> DocumentStorage:
    """The backend the settings name (only "folder" so far)."""
    if settings.documents_storage == "folder":
        return FolderStorage(stored_folders(settings)["documents"])
    raise ValueError(f"unknown documents storage {settings.documents_storage!r}")
