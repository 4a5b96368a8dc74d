"""`rigenera backup`: pg_dump of the primary + the stored files + a manifest, in one tar.

Consistency: one REPEATABLE READ transaction exports its snapshot and pg_dump reads the
database through that very snapshot (--snapshot), while the same transaction computes the
per-table checksums. So the manifest describes exactly the rows in the dump, even with
editors writing meanwhile. Stored files are immutable under their key (FolderStorage puts
atomically and never rewrites), so copying them after the snapshot is consistent for every
row in it; a row whose file is gone is listed in the manifest (`missing_files`) and warned.

Atomic output: the tar is written under a temporary name in the target folder, fsynced and
renamed; an interrupted backup leaves no archive that looks whole.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions

from rigenera import __version__
from rigenera.backup import archive
from rigenera.backup.checksums import sequence_values, table_checksums
from rigenera.backup.tools import libpq_env, pg_tool
from rigenera.errors import BackupFailed, BackupRefused
from rigenera.monitoring.storage import FolderStorage, stored_folders
from rigenera.settings import Settings

LOG = logging.getLogger(__name__)
# Rows that name a stored file: (table, column, folder of stored_folders()).
REFERENCES = (("rigenera.documents", "storage_key", "documents"),
              ("rigenera.event_materials", "storage_key", "event-materials"))


@dataclass
class BackupResult:
    path: Path
    bytes: int
    dump_bytes: int
    files: int
    files_bytes: int
    tables: int
    rows: int
    dump_seconds: float
    seconds: float
    missing_files: list[str]
    manifest: dict[str, Any]


def _sql(name: str) -> str:
    return resources.files("rigenera.backup").joinpath("sql", name).read_text()


def output_path(settings: Settings, output: str | Path | None, database: str) -> Path:
    """--output as given (a folder, existing or written with a final /: a timestamped name
    inside it), else a timestamped name in RIGENERA_BACKUP_DIR (default STATE_DIR/backups)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"rigenera-{database}-{stamp}.tar"
    if output is None:
        return (settings.backup_dir or settings.state_dir / "backups") / name
    if Path(output).is_dir() or str(output).endswith(os.sep):
        return Path(output) / name
    return Path(output)


def server_facts(cur: Any) -> dict[str, Any]:
    """Versions of PostgreSQL, its extensions and our schema (versions.sql)."""
    cur.execute(_sql("versions.sql"))
    version, version_num, database, extensions = cur.fetchone()
    cur.execute("SELECT to_regclass('rigenera.schema_migrations') IS NOT NULL")
    schema_version = None
    if cur.fetchone()[0]:
        cur.execute("SELECT max(version) FROM rigenera.schema_migrations")
        schema_version = cur.fetchone()[0]
    postgis = next((e["version"] for e in extensions if e["name"] == "postgis"), None)
    return {"database": database, "schema_version": schema_version,
            "postgresql": {"version": version, "version_num": version_num},
            "postgis": postgis, "extensions": extensions}


def _one(cur: Any) -> tuple[Any, ...]:
    row = cur.fetchone()
    assert row is not None
    return tuple(row)


def _referenced_keys(cur: Any) -> dict[str, set[str]]:
    keys: dict[str, set[str]] = {}
    for table, column, folder in REFERENCES:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (table,))
        if cur.fetchone()[0]:
            cur.execute(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")
            keys.setdefault(folder, set()).update(k for (k,) in cur.fetchall())
    return keys


def create_backup(settings: Settings, dsn: str, output: str | Path | None = None
                  ) -> BackupResult:
    """Write one backup archive of the database at `dsn` and the stored files."""
    started = time.monotonic()
    conn = psycopg2.connect(dsn)
    try:
        conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ,
                         readonly=True)
        with conn.cursor() as cur:
            facts = server_facts(cur)
        target = output_path(settings, output, facts["database"]).absolute()
        if target.exists():
            raise BackupRefused(f"{target} esiste già, non viene sovrascritto / "
                                f"{target} exists already, not overwritten")
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
        try:
            dump = work / archive.DUMP
            dump_started = time.monotonic()
            with conn.cursor() as cur:
                cur.execute("SELECT pg_export_snapshot()")
                snapshot = _one(cur)[0]
                pg_dump = pg_tool("pg_dump", facts["postgresql"]["version_num"] // 10000)
                errors = work / "pg_dump.err"
                with errors.open("w") as err:
                    proc = subprocess.Popen(
                        [str(pg_dump), "--format=custom", f"--snapshot={snapshot}",
                         f"--file={dump}", "--no-password"],
                        stdout=subprocess.DEVNULL, stderr=err, env=libpq_env(dsn))
                    try:
                        tables = table_checksums(cur)  # meanwhile, in the same snapshot
                        sequences = sequence_values(cur)
                        referenced = _referenced_keys(cur)
                    finally:
                        returncode = proc.wait()
                if returncode != 0:
                    raise BackupFailed(f"pg_dump non riuscito / failed (exit {returncode}): "
                                       + errors.read_text().strip()[-2000:])
                version = subprocess.run([str(pg_dump), "--version"], capture_output=True,
                                         text=True, check=False).stdout.strip()
            conn.rollback()
            dump_seconds = time.monotonic() - dump_started
            partial = work / target.name
            writer = archive.Writer(partial)
            dump_entry = writer.add_file(archive.DUMP, dump)
            dump.unlink()
            files = files_bytes = 0
            missing: list[str] = []
            folders = stored_folders(settings)
            for name, root in folders.items():
                present = FolderStorage(root).keys()
                for key in present:
                    entry = writer.add_file(f"{archive.FILES}{name}/{key}", root / key)
                    files += 1
                    files_bytes += entry["bytes"]
                missing += [f"{name}/{k}" for k in sorted(referenced.get(name, set())
                                                            - set(present))]
            manifest = {
                "format": archive.FORMAT, "format_version": archive.FORMAT_VERSION,
                "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "app": {"name": "rigenera", "version": __version__},
                **facts, "pg_dump": version, "snapshot": snapshot,
                "tables": tables, "sequences": sequences,
                "folders": sorted(folders), "missing_files": missing,
            }
            writer.add_manifest(manifest)
            writer.close()
            os.replace(partial, target)
            dir_fd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    finally:
        conn.close()
    if missing:
        LOG.warning("stored files missing for %d rows: %s", len(missing), ", ".join(missing[:10]))
    return BackupResult(
        path=target, bytes=target.stat().st_size, dump_bytes=int(dump_entry["bytes"]),
        files=files, files_bytes=files_bytes, tables=len(tables),
        rows=sum(t["rows"] for t in tables.values()), dump_seconds=dump_seconds,
        seconds=time.monotonic() - started, missing_files=missing,
        manifest=json.loads(json.dumps(manifest)))
