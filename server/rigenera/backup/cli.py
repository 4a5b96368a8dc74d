"""`rigenera backup` and `rigenera restore`: registered by rigenera.cli, kept here.

Exit codes: 0 done; 2 refused before anything was touched (a damaged archive, a non-empty
target without --force, an existing output: the message says which); 1 pg_dump or
pg_restore failed; 3 restored, but the tables differ from the backup's checksums (named).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rigenera.errors import BackupFailed, RestoreMismatch
from rigenera.settings import Settings

MIB = 1024 * 1024


def add_parsers(sub: Any) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    backup: argparse.ArgumentParser = sub.add_parser(
        "backup", help="pg_dump of the database + stored files + manifest, in one .tar")
    backup.add_argument("-o", "--output",
                        help="archive file, or a folder (existing, or ending in /) for a "
                             "timestamped name inside it "
                             "(default STATE_DIR/backups or RIGENERA_BACKUP_DIR)")
    restore: argparse.ArgumentParser = sub.add_parser(
        "restore", help="verify a backup, restore it into an empty database, check it")
    restore.add_argument("path", type=Path, help="the backup archive (.tar)")
    restore.add_argument("--force", action="store_true",
                         help="replace a database that is not empty")
    restore.add_argument("-j", "--jobs", type=int, default=None,
                         help="pg_restore parallel jobs (default: cores, at most 4)")
    return backup, restore


def run_backup(settings: Settings, dsn: str, args: argparse.Namespace) -> int:
    from rigenera.backup.dump import create_backup

    try:
        r = create_backup(settings, dsn, args.output)
    except BackupFailed as exc:
        print(f"rigenera: {exc.description}", file=sys.stderr)
        return 1
    print(f"backup scritto / written: {r.path}")
    print(f"  database: {r.tables} tabelle / tables, {r.rows} righe / rows, "
          f"dump {r.dump_bytes / MIB:.2f} MiB (pg_dump {r.dump_seconds:.2f} s)")
    print(f"  file / files: {r.files} ({r.files_bytes / MIB:.2f} MiB)")
    print(f"  archivio / archive: {r.bytes / MIB:.2f} MiB in {r.seconds:.2f} s")
    if r.missing_files:
        print(f"ATTENZIONE: {len(r.missing_files)} file citati nel database mancano nella "
              f"cartella / WARNING: {len(r.missing_files)} stored files named by the database "
              "are missing: " + ", ".join(r.missing_files[:10]), file=sys.stderr)
    return 0


def run_restore(settings: Settings, target_dsn: Callable[[], str],
                args: argparse.Namespace) -> int:
    from rigenera.backup.restore import restore_backup

    if args.jobs is not None and args.jobs < 1:
        print("rigenera: --jobs deve essere almeno 1 / must be at least 1", file=sys.stderr)
        return 2
    try:
        r = restore_backup(settings, args.path, target_dsn, force=args.force, jobs=args.jobs)
    except BackupFailed as exc:
        print(f"rigenera: {exc.description}", file=sys.stderr)
        return 1
    except RestoreMismatch as exc:
        print(f"rigenera: {exc.description}", file=sys.stderr)
        for e in exc.errors:
            print(f"  {e['field']}: {e['reason']}", file=sys.stderr)
        return 3
    if r.cleared:
        print(f"--force: {len(r.cleared)} oggetti rimossi / objects dropped first")
    print(f"ripristinato / restored: {args.path} -> database {r.database}")
    print(f"  {r.tables} tabelle / tables, {r.rows} righe / rows: checksum uguali al backup / "
          "checksums equal the backup's")
    print(f"  file / files: {r.files} ({r.files_bytes / MIB:.2f} MiB)")
    if r.migrated:
        print("  migrazioni applicate / migrations applied: " + ", ".join(r.migrated))
    for aside in r.kept_aside:
        print(f"  file precedenti conservati in / previous files kept in {aside}")
    print(f"  verifica / verify {r.verify_seconds:.2f} s, pg_restore {r.restore_seconds:.2f} s, "
          f"totale / total {r.seconds:.2f} s")
    return 0
