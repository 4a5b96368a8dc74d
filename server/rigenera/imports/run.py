"""run_import: read a file and import it in a transaction of its own.

The imports record is created first and committed (status running), so progress can
be written next to it from a second connection while the import runs, and so a
refusal or a failure still leaves its record (status refused / failed, with the
report) after the import's own transaction has been rolled back: the features are
untouched, the attempt is on file.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from pathlib import Path

import psycopg2

from rigenera.errors import ImportDataError, ImportRefused, RigeneraError, translate_db_error
from rigenera.imports import record
from rigenera.imports.engine import import_frame
from rigenera.imports.files import FileLimits
from rigenera.imports.frame import ImportOptions, SourceInfo
from rigenera.imports.mapping import Mapping
from rigenera.imports.reader import original_values, read_file
from rigenera.imports.report import Report

LOG = logging.getLogger(__name__)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return "0" * 64
    return h.hexdigest()


def run_import(dsn: str, path: Path | str, options: ImportOptions, *, layer: str | None = None,
               mapping: Mapping | Path | str | None = None, crs: str | None = None,
               file_name: str | None = None, limits: FileLimits | None = None) -> Report:
    """Read `path` and import it into options.collection; commits. Raises ImportRefused
    (422, or ImportOutOfReach 403) when refused, ImportDataError / UnsafeFile when the
    file cannot be read; the record is written in every case."""
    path = Path(path)
    name = file_name or path.name
    mapping_name = (mapping.name if isinstance(mapping, Mapping) else
                    Path(mapping).name if isinstance(mapping, Path) else
                    "inline" if mapping else None)
    pending = SourceInfo(name=name, sha256=_sha256(path), layer=layer, crs=crs,
                         mapping=mapping_name)
    import_id = options.import_id or record.create(dsn, options.collection, pending, options)
    progress = record.ProgressWriter(dsn, import_id, options.progress)
    opts = replace(options, import_id=import_id, progress=progress)
    try:
        try:
            frame, errors, source = read_file(path, options.collection, layer=layer,
                                              mapping=mapping, crs=crs, file_name=name,
                                              limits=limits)
        except RigeneraError as exc:
            _failed(dsn, opts, pending, exc, "failed")
            raise
        conn = psycopg2.connect(dsn)
        try:
            with conn, conn.cursor() as cur:
                report = import_frame(cur, frame, errors, opts, source)
            if report.rejected and _with_originals(report, path, layer, name, limits):
                record.save(dsn, report)
            return report
        except ImportRefused as exc:
            if exc.report is not None:
                _with_originals(exc.report, path, layer, name, limits)
                record.save(dsn, exc.report)
            raise
        except psycopg2.Error as exc:
            err = translate_db_error(exc)
            _failed(dsn, opts, source, err, "failed")
            raise err from exc
        finally:
            conn.close()
    finally:
        progress.close()


def _with_originals(report: Report, path: Path, layer: str | None, name: str,
                    limits: FileLimits | None) -> bool:
    """The file's own columns of the rejected rows, into the rejection CSV."""
    try:
        report.originals = original_values(path, {e.row for e in report.rejected},
                                           layer=report.file.layer or layer, file_name=name,
                                           limits=limits)
    except RigeneraError:  # the file was read once already; never fail the import for this
        LOG.warning("import %s: original values of rejected rows not read", report.id)
        return False
    return bool(report.originals)


def _failed(dsn: str, options: ImportOptions, source: SourceInfo, exc: RigeneraError,
            status: str) -> None:
    report = Report(collection=options.collection, file=source, user=options.actor,
                    dry_run=options.dry_run, skip_invalid=options.skip_invalid,
                    id=options.import_id)
    report.message = exc.description
    report.finish(status)
    try:
        record.save(dsn, report)
    except psycopg2.Error:  # the database itself is the problem: nothing more to record
        LOG.warning("import %s: could not record the failure", options.import_id)
    if isinstance(exc, ImportDataError):
        exc.body = {**exc.body, "import": report.id}
