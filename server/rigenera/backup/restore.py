"""`rigenera restore`: verify everything, then pg_restore, check, migrate, swap the files.

Order, and why:
1. The archive is verified member by member (sha256 against the manifest) while it is
   unpacked into a staging folder inside the documents folder: a damaged backup is refused
   before the target database is even opened (an embedded cluster is not even started).
2. The target must be empty (objects.sql lists what is there) unless --force, which drops
   the schemas and objects that are not the system's or an extension's.
3. The manifest's extensions are created first (a new server's database has no PostGIS),
   then pg_restore --no-owner --exit-on-error -j N. Extension comments are left out of the
   restore list: only an extension's owner may comment it, and the target's role may not
   be a superuser.
4. The per-table checksums and sequence positions are recomputed and must equal the
   manifest's, before any migration changes the tables; a difference names the tables and
   the stored files are left as they were.
5. Migrations run if the backup is older than this code.
6. Each folder of stored files gets the backup's files by renames (_swap_folders); files
   that were there are kept aside in `<folder>/.before-restore-<time>/`, never deleted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import parse_dsn

from rigenera.backup import archive
from rigenera.backup.checksums import differences, sequence_values, table_checksums_parallel
from rigenera.backup.tools import pg_tool, run_tool
from rigenera.errors import BackupRefused, RestoreMismatch
from rigenera.migrate import available, migrate
from rigenera.monitoring.storage import stored_folders
from rigenera.settings import Settings


@dataclass
class RestoreResult:
    database: str
    tables: int
    rows: int
    files: int
    files_bytes: int
    verify_seconds: float
    restore_seconds: float
    seconds: float
    migrated: list[str] = field(default_factory=list)
    kept_aside: list[Path] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)


def _sql(name: str) -> str:
    return resources.files("rigenera.backup").joinpath("sql", name).read_text()


def target_objects(cur: Any) -> list[tuple[str, str, str]]:
    """(kind, name, schema) of what makes the database not empty (objects.sql)."""
    cur.execute(_sql("objects.sql"))
    return [(str(k), str(n), str(s)) for k, n, s in cur.fetchall()]


_DROP = {"schema": "DROP SCHEMA IF EXISTS {} CASCADE",
         "view": "DROP VIEW IF EXISTS {} CASCADE",
         "materialized view": "DROP MATERIALIZED VIEW IF EXISTS {} CASCADE",
         "sequence": "DROP SEQUENCE IF EXISTS {} CASCADE",
         "foreign table": "DROP FOREIGN TABLE IF EXISTS {} CASCADE",
         "function": "DROP ROUTINE IF EXISTS {} CASCADE",
         "table": "DROP TABLE IF EXISTS {} CASCADE"}


def _clear(cur: Any) -> list[str]:
    """--force: drop every schema, relation and function that is neither the system's nor
    an extension's. Schemas first (CASCADE takes their contents), then what is left in
    public; a few rounds, as a CASCADE may already have taken a listed object."""
    dropped: list[str] = []
    for _round in range(5):
        objects = target_objects(cur)
        if not objects:
            return dropped
        schemas = [o for o in objects if o[0] == "schema"]
        for kind, name, _schema in schemas or objects:
            # Names come from objects.sql, quoted there by format('%I').
            cur.execute(sql.SQL(_DROP.get(kind, _DROP["table"])).format(sql.SQL(name)))
            dropped.append(f"{kind} {name}")
    left = target_objects(cur)
    if left:
        raise BackupRefused(f"impossibile svuotare il database: resta {left[0][1]} / "
                            f"cannot empty the database: {left[0][0]} {left[0][1]} is left")
    return dropped


def _one(cur: Any) -> tuple[Any, ...]:
    row = cur.fetchone()
    assert row is not None
    return tuple(row)


_ROUTINE_ENTRY = re.compile(r"^\d+; \d+ \d+ (FUNCTION|PROCEDURE) ")


def _segments(listing: list[str]) -> list[list[str]]:
    """The restore list cut after each run of function entries (pg_restore -L restores a
    list in its order, pg_dump's dependency order)."""
    segments: list[list[str]] = [[]]
    previous = False
    for line in listing:
        routine = bool(_ROUTINE_ENTRY.match(line))
        if previous and not routine:
            segments.append([])
        segments[-1].append(line)
        previous = routine
    return segments


class _PinnedRoutines:
    """The restored database's routines without a search_path of their own run with the
    database's default one until the restore is done (routines.sql says why), then are
    reset, so they are again exactly as dumped (and inlinable)."""

    def __init__(self, dsn: str) -> None:
        self.conn = psycopg2.connect(dsn)
        self.conn.autocommit = True
        self.pinned: list[str] = []

    def __enter__(self) -> _PinnedRoutines:
        return self

    def pin_new(self) -> None:
        with self.conn.cursor() as cur:
            cur.execute(_sql("routines.sql"))
            for (sig,) in cur.fetchall():  # regprocedure text: quoted by PostgreSQL
                cur.execute(sql.SQL("ALTER ROUTINE {} SET search_path FROM CURRENT").format(
                    sql.SQL(sig)))
                self.pinned.append(sig)

    def __exit__(self, *exc: object) -> None:
        try:
            with self.conn.cursor() as cur:
                for sig in self.pinned:
                    cur.execute(sql.SQL("ALTER ROUTINE {} RESET search_path").format(
                        sql.SQL(sig)))
        finally:
            self.conn.close()


def _newest_migration() -> int:
    return max((m.version for m in available()), default=0)


def _swap_folders(staged: dict[str, Path], targets: dict[str, Path]) -> list[Path]:
    """Each target folder's contents become the backup's. Every step is a rename on the
    target's file system (the staged copy is first moved, or copied if it lies on another
    one, into `<target>/.restore-new-<time>`), so no file is ever half there; a folder that
    held files keeps them in `<target>/.before-restore-<time>/` (a name that is no storage
    key: neither served nor backed up again), never deleted. The folder itself is not
    renamed: it may be a mount point (docker-compose.yml's documents volume)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    kept: list[Path] = []
    for name, source in staged.items():
        target = targets.get(name)
        if target is None:
            continue
        source.mkdir(parents=True, exist_ok=True, mode=0o700)
        target.mkdir(parents=True, exist_ok=True, mode=0o700)
        incoming = target / f".restore-new-{stamp}"
        if source.stat().st_dev == target.stat().st_dev:
            os.rename(source, incoming)
        else:
            shutil.copytree(source, incoming)
            for path in incoming.rglob("*"):
                if path.is_file():
                    with path.open("rb") as f:
                        os.fsync(f.fileno())
        old = [p for p in target.iterdir() if not p.name.startswith(".")]
        if any(p.is_file() for entry in old for p in [entry, *entry.rglob("*")]):
            aside = target / f".before-restore-{stamp}"
            aside.mkdir(mode=0o700)
            for entry in old:
                os.rename(entry, aside / entry.name)
            kept.append(aside)
        else:
            for entry in old:
                if entry.is_dir():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        for entry in incoming.iterdir():
            os.rename(entry, target / entry.name)
        incoming.rmdir()
    return kept


def restore_backup(settings: Settings, path: Path, target_dsn: Callable[[], str], *,
                   force: bool = False, jobs: int | None = None) -> RestoreResult:
    """Restore the archive at `path` into the database `target_dsn()` gives (called only
    once the archive is verified) and the stored folders of `settings`."""
    started = time.monotonic()
    folders = stored_folders(settings)
    with archive.open_archive(path) as tar:
        manifest = archive.read_manifest(tar, path)
        backup_schema = manifest.get("schema_version") or 0
        if backup_schema > _newest_migration():
            raise BackupRefused(
                f"il backup ha lo schema {backup_schema}, questa versione di Rigenera arriva "
                f"a {_newest_migration()}: aggiornare Rigenera / the backup's schema "
                f"{backup_schema} is newer than this code's {_newest_migration()}: upgrade")
        # Staged inside the documents folder: its file system has room for documents, and
        # in docker-compose.yml it is a volume of its own (a mount point: no rename of the
        # folder itself, and none from the container's file system into it).
        documents = folders["documents"]
        created = not documents.exists()
        documents.mkdir(parents=True, exist_ok=True, mode=0o700)
        staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=documents))
        done = False
        try:
            extracted = archive.verify_and_extract(tar, manifest, path, staging)
            verify_seconds = time.monotonic() - started
            result = _restore_verified(settings, manifest, extracted, target_dsn(), folders,
                                       force=force, jobs=jobs, started=started,
                                       verify_seconds=verify_seconds)
            done = True
            return result
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            if created and not done:
                with contextlib.suppress(OSError):
                    documents.rmdir()  # refused or failed: not even an empty folder left


def _restore_verified(settings: Settings, manifest: dict[str, Any],
                      extracted: archive.Extracted, dsn: str, folders: dict[str, Path], *,
                      force: bool, jobs: int | None, started: float,
                      verify_seconds: float) -> RestoreResult:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT current_database(),"
                        " current_setting('server_version_num')::int / 10000")
            database, major = _one(cur)
            objects = target_objects(cur)
            if objects and not force:
                listed = ", ".join(f"{k} {n}" for k, n, _ in objects[:5])
                raise BackupRefused(
                    f"il database {database} non è vuoto ({len(objects)} oggetti: {listed}): "
                    "nulla è stato modificato; --force per sostituirlo / the database "
                    f"{database} is not empty ({len(objects)} objects): nothing was changed; "
                    "use --force to replace it")
            wanted = [e["name"] for e in manifest.get("extensions", [])]
            cur.execute("SELECT array_agg(name) FROM pg_available_extensions"
                        " WHERE name = ANY(%s)", (wanted,))
            absent = sorted(set(wanted) - set(_one(cur)[0] or []))
            if absent:
                raise BackupRefused(
                    f"estensioni non installate sul server: {', '.join(absent)} / extensions "
                    f"not installed on the server: {', '.join(absent)} (e.g. postgis: "
                    "the postgresql-N-postgis-3 package)")
            pg_restore = pg_tool("pg_restore", int(major))
            cleared = _clear(cur) if objects else []
            for ext in manifest.get("extensions", []):
                cur.execute("SELECT to_regnamespace(%s) IS NOT NULL", (ext["schema"],))
                if _one(cur)[0]:
                    cur.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {}").format(
                        sql.Identifier(ext["name"]), sql.Identifier(ext["schema"])))
    finally:
        conn.close()

    restore_started = time.monotonic()
    listing = [line for line in run_tool([str(pg_restore), "--list", str(extracted.dump)],
                                         dsn).stdout.splitlines()
               if line and not line.startswith(";") and " COMMENT - EXTENSION " not in line]
    jobs = jobs or settings.restore_jobs or min(4, os.cpu_count() or 1)
    common = [str(pg_restore), "--no-owner", "--exit-on-error", "--no-password",
              f"--dbname={parse_dsn(dsn).get('dbname', database)}"]
    with _PinnedRoutines(dsn) as pins:
        # Schema first, cut after each run of functions, so that they are pinned before a
        # table's generated column or CHECK inlines them (routines.sql).
        for number, segment in enumerate(_segments(listing)):
            part = extracted.dump.with_name(f"pre-data-{number}.list")
            part.write_text("".join(line + "\n" for line in segment))
            run_tool([*common, "--section=pre-data", f"--use-list={part}",
                      str(extracted.dump)], dsn)
            pins.pin_new()
        whole = extracted.dump.with_name("restore.list")
        whole.write_text("".join(line + "\n" for line in listing))
        run_tool([*common, f"--jobs={jobs}", "--section=data", "--section=post-data",
                  f"--use-list={whole}", str(extracted.dump)], dsn)
    restore_seconds = time.monotonic() - restore_started

    tables = table_checksums_parallel(dsn, jobs)
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            sequences = sequence_values(cur)
        conn.rollback()
    finally:
        conn.close()
    wrong = differences(manifest["tables"], tables)
    wrong_sequences = differences(manifest.get("sequences", {}), sequences)
    if wrong or wrong_sequences:
        named = ", ".join(wrong + wrong_sequences)
        raise RestoreMismatch(
            f"il database ripristinato non corrisponde al backup: {named} / the restored "
            f"database differs from the backup in: {named}",
            errors=[{"field": name, "reason": f"backup {manifest['tables'].get(name)}, "
                                              f"restored {tables.get(name)}"}
                    for name in wrong])
    migrated = migrate(dsn) if (manifest.get("schema_version") or 0) < _newest_migration() \
        else []
    kept = _swap_folders(extracted.folders, folders)
    return RestoreResult(
        database=database, tables=len(tables), rows=sum(t["rows"] for t in tables.values()),
        files=extracted.files, files_bytes=extracted.bytes, verify_seconds=verify_seconds,
        restore_seconds=restore_seconds, seconds=time.monotonic() - started,
        migrated=migrated, kept_aside=kept, cleared=cleared)
