"""The backup archive: one uncompressed tar (the dump is already compressed by pg_dump).

    database.dump                  pg_dump -Fc
    files/<folder>/<key>           every stored file (documents, event-materials)
    manifest.json                  versions, created_at, per-table checksums, sha256 of
                                   every member above
    manifest.sha256                sha256 of manifest.json (a damaged manifest is refused too)

The manifest comes last because it holds the other members' hashes, computed while they
are written (each file is read once). Reading verifies every member against it while
extracting into a staging folder, so a damaged archive is refused before anything of the
target is touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rigenera.errors import BackupRefused

FORMAT = "rigenera-backup"
FORMAT_VERSION = 1
DUMP = "database.dump"
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.sha256"
FILES = "files/"
CHUNK = 1024 * 1024
_FILE_MEMBER = re.compile(r"^files/([a-z][a-z-]{0,40})/([0-9]{1,19}/[0-9a-f]{32})$")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


class _HashingReader(io.RawIOBase):
    """Reads a file for tarfile while hashing it: each stored file is read once."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f = f
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.f.read(size)
        self.digest.update(data)
        return data


class Writer:
    """Adds members to a new tar and records their sizes and hashes for the manifest."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tar = tarfile.open(path, "x", format=tarfile.PAX_FORMAT)  # noqa: SIM115
        self.entries: list[dict[str, Any]] = []

    def _info(self, name: str, size: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o600, int(os.path.getmtime(self.path))
        return info

    def add_file(self, name: str, source: Path) -> dict[str, Any]:
        with source.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            reader = _HashingReader(f)
            self.tar.addfile(self._info(name, size), reader)
        entry = {"path": name, "bytes": size, "sha256": reader.digest.hexdigest()}
        self.entries.append(entry)
        return entry

    def add_manifest(self, manifest: dict[str, Any]) -> None:
        manifest = {**manifest, "members": self.entries}
        data = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False).encode()
        self.tar.addfile(self._info(MANIFEST, len(data)), io.BytesIO(data))
        digest = (hashlib.sha256(data).hexdigest() + f"  {MANIFEST}\n").encode()
        self.tar.addfile(self._info(MANIFEST_SUM, len(digest)), io.BytesIO(digest))

    def close(self) -> None:
        self.tar.close()
        with self.path.open("rb+") as f:
            os.fsync(f.fileno())


def _refuse(it: str, en: str) -> BackupRefused:
    return BackupRefused(f"{it} / {en}")


@contextlib.contextmanager
def open_archive(path: Path) -> Iterator[tarfile.TarFile]:
    if not path.is_file():
        raise _refuse(f"backup {path} inesistente", f"no backup at {path}")
    try:
        tar = tarfile.open(path, "r:")  # noqa: SIM115
    except (tarfile.TarError, OSError) as exc:
        raise _refuse(f"{path} non è un archivio di backup leggibile",
                      f"{path} is not a readable backup archive ({exc})") from None
    try:
        yield tar
    finally:
        tar.close()


def read_manifest(tar: tarfile.TarFile, path: Path) -> dict[str, Any]:
    """The manifest, checked against manifest.sha256 and for its format."""
    try:
        data = _read_member(tar, MANIFEST)
        recorded = _read_member(tar, MANIFEST_SUM).decode("ascii", "replace").split()[0]
    except (KeyError, IndexError):
        raise _refuse(f"{path}: manifesto mancante, non è un backup di Rigenera",
                      f"{path}: manifest missing, not a Rigenera backup") from None
    except (tarfile.TarError, OSError) as exc:
        raise _refuse(f"{path}: archivio danneggiato", f"{path}: damaged archive ({exc})") from None
    if hashlib.sha256(data).hexdigest() != recorded:
        raise _refuse(f"{path}: il manifesto è danneggiato (sha256 diverso)",
                      f"{path}: the manifest is damaged (sha256 differs)")
    try:
        manifest: dict[str, Any] = json.loads(data)
    except ValueError:
        raise _refuse(f"{path}: manifesto illeggibile", f"{path}: unreadable manifest") from None
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise _refuse(f"{path}: formato di backup sconosciuto",
                      f"{path}: unknown backup format {manifest.get('format')!r} "
                      f"v{manifest.get('format_version')!r}")
    return manifest


def _read_member(tar: tarfile.TarFile, name: str) -> bytes:
    member = tar.getmember(name)
    f = tar.extractfile(member)
    if f is None:
        raise KeyError(name)
    return f.read()


@dataclass
class Extracted:
    """A verified archive unpacked in a staging folder."""

    dump: Path
    folders: dict[str, Path]  # folder name -> staged copy (files/<folder>/...)
    files: int
    bytes: int


def verify_and_extract(tar: tarfile.TarFile, manifest: dict[str, Any], path: Path,
                       staging: Path) -> Extracted:
    """Unpack every member into `staging`, hashing it; any difference from the manifest
    (a changed byte, a missing or an extra member, a path that is not ours) refuses."""
    expected = {e["path"]: e for e in manifest.get("members", [])}
    if DUMP not in expected:
        raise _refuse(f"{path}: il manifesto non elenca {DUMP}",
                      f"{path}: the manifest does not list {DUMP}")
    seen: set[str] = set()
    folders: dict[str, Path] = {}
    files = total = 0
    for member in tar:
        name = member.name
        if name in (MANIFEST, MANIFEST_SUM):
            continue
        entry = expected.get(name)
        match = _FILE_MEMBER.match(name)
        if (entry is None or name in seen or not member.isfile()
                or (name != DUMP and match is None)):
            raise _refuse(f"{path}: elemento {name!r} non previsto dal manifesto",
                          f"{path}: member {name!r} is not in the manifest")
        if match:
            folder = staging / "files" / match.group(1)
            target = folder / match.group(2)
            folders[match.group(1)] = folder
        else:
            target = staging / DUMP
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        source = tar.extractfile(member)
        assert source is not None
        digest = hashlib.sha256()
        size = 0
        with target.open("xb") as out:
            for block in iter(lambda: source.read(CHUNK), b""):  # noqa: B023
                digest.update(block)
                size += len(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if size != entry["bytes"] or digest.hexdigest() != entry["sha256"]:
            raise _refuse(f"{path}: {name} è danneggiato (sha256 diverso dal manifesto), "
                          "nulla è stato modificato",
                          f"{name} is damaged (sha256 differs from the manifest), "
                          "nothing was changed")
        seen.add(name)
        if match:
            files += 1
            total += size
    missing = sorted(expected.keys() - seen)
    if missing:
        raise _refuse(f"{path}: mancano {len(missing)} elementi elencati nel manifesto "
                      f"({', '.join(missing[:5])})",
                      f"{len(missing)} members listed in the manifest are missing")
    for name in manifest.get("folders", []):
        folders.setdefault(name, staging / "files" / name)
    return Extracted(staging / DUMP, folders, files, total)
