"""``rigenera import FILE --collection ...``: the engine from the command line.

A rich progress bar with rows per second when standard error is a terminal; the
report as a short Italian/English summary (or the JSON of the API with --json);
exit 0 when imported (or a clean dry run), 2 when refused or invalid (the file, its
rows, a technician's reach), 1 for any other error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rigenera.errors import ImportDataError, ImportRefused, RigeneraError
from rigenera.imports.frame import COLLECTIONS, ImportOptions
from rigenera.imports.report import Report

SHOWN_REJECTED = 20
LABELS = (("read", "lette", "read"), ("created", "nuove", "new"),
          ("updated", "aggiornate", "updated"), ("unchanged", "invariate", "unchanged"),
          ("duplicates", "duplicate", "duplicates"), ("invalid", "non valide", "invalid"),
          ("written", "scritte", "written"))


def add_parser(sub: Any) -> None:
    """Register the command on the `rigenera` subparsers."""
    p = sub.add_parser("import", help="import a GIS file (GeoPackage, zipped Shapefile, GeoJSON, "
                                      "CSV, XLSX) into a collection")
    p.add_argument("file", type=Path)
    p.add_argument("--collection", required=True, choices=COLLECTIONS)
    p.add_argument("--layer", help="layer or sheet to read (a file with several)")
    p.add_argument("--mapping", type=Path, help="YAML mapping of the file's columns")
    p.add_argument("--crs", help="the file's CRS when it declares none (or a wrong one): EPSG:N")
    p.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    p.add_argument("--skip-invalid", action="store_true",
                   help="write the valid rows, reject the others (default: all or nothing)")
    p.add_argument("--rejected", type=Path, help="write the rejected rows to this CSV file")
    p.add_argument("--external", action="store_true",
                   help="features may lie outside the metropolitan area")
    p.add_argument("--actor", help="who imports (default: import:<file name>)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_import)


def _dsn(settings: Any) -> str:
    """factory.resolve_dsn without importing the web app (FastAPI, pygeoapi: 2.4 s and
    ~60 MB the import does not need)."""
    if settings.database_url:
        return str(settings.database_url)
    from rigenera.cluster import LocalCluster

    return LocalCluster(settings.state_dir, settings.pg_port, settings.pg_database).ensure()


def _pyogrio_without_pandas() -> None:
    """pyogrio imports pandas and geopandas eagerly when they are installed; the engine
    reads Arrow only. In this one-shot process they stay out: 0.6 s and ~55 MB less
    (100,000 polygons: peak RSS 252 -> 196 MB)."""
    if "pyogrio" in sys.modules:
        return
    blocked = [m for m in ("geopandas", "pandas") if m not in sys.modules]
    for m in blocked:
        sys.modules[m] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        import pyogrio  # noqa: F401
    finally:
        for m in blocked:
            del sys.modules[m]


def cmd_import(settings: Any, args: argparse.Namespace) -> int:
    _pyogrio_without_pandas()
    import pyarrow as pa

    from rigenera.imports.run import run_import
    from rigenera.migrate import migrate

    # glibc's malloc, not mimalloc, for Arrow: with mimalloc the peak RSS of 100,000
    # polygons was 267 MB, with the system allocator 242 MB (bench/import_gpkg.py).
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        dsn = _dsn(settings)
        migrate(dsn)
    except Exception as exc:  # the database is away: say so, exit 1
        from rigenera.errors import database_unavailable

        away = database_unavailable(exc)
        if away is None:
            raise
        _print_error(away, args.json)
        return 1
    actor = args.actor or f"import:{args.file.name}"
    report: Report | None = None
    code = 0
    with _progress(args.file.name, enabled=sys.stderr.isatty() and not args.json) as progress:
        options = ImportOptions(args.collection, dry_run=args.dry_run,
                                skip_invalid=args.skip_invalid, actor=actor,
                                external=args.external, progress=progress)
        try:
            report = run_import(dsn, args.file, options, layer=args.layer, mapping=args.mapping,
                                crs=args.crs)
            code = 0 if report.ok else 2
        except ImportRefused as exc:
            report = exc.report
            code = 2
            if report is None:
                _print_error(exc)
        except ImportDataError as exc:
            _print_error(exc, args.json)
            return 2
        except RigeneraError as exc:
            _print_error(exc, args.json)
            return 1
    assert report is not None or code
    if report is not None:
        if args.rejected and report.rejected:
            args.rejected.write_text(report.rejected_csv(), encoding="utf-8")
        if args.json:
            print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        else:
            print(summary(report, args.rejected))
    return code


def _print_error(exc: RigeneraError, as_json: bool = False) -> None:
    if as_json:
        print(json.dumps({"description": exc.description, "errors": exc.errors, **exc.body},
                         ensure_ascii=False, indent=2))
        return
    print(f"rigenera: {exc.description}", file=sys.stderr)
    for e in exc.errors[:SHOWN_REJECTED]:
        row = f"riga/row {e['row']}: " if e.get("row") else ""
        print(f"  {row}{e.get('field')}: {e.get('reason')}", file=sys.stderr)


def summary(report: Report, rejected_file: Path | None = None) -> str:
    """The report as a few readable lines, Italian / English."""
    f = report.file
    status = {"succeeded": "importato / imported", "dry_run": "prova, nulla scritto / dry run, "
              "nothing written", "refused": "rifiutato, nulla scritto / refused, nothing written",
              "failed": "fallito / failed", "running": "in corso / running"}[report.status]
    lines = [f"Import {report.id} – {f.name} ({f.format or '?'}"
             f"{', layer ' + f.layer if f.layer else ''}{', ' + f.crs if f.crs else ''})"
             f" -> {report.collection}: {status}"]
    lines.append("  " + ", ".join(f"{it}/{en} {report.counts.get(k, 0)}" for k, it, en in LABELS))
    if report.seconds:
        lines.append(f"  {report.seconds:.2f} s, "
                     f"{report.to_json()['rows_per_second'] or 0:,.0f} righe/s / rows/s")
    if report.message:
        lines.append("  " + report.message)
    for n in report.notes:
        count = f" ({n.count})" if n.count is not None else ""
        items = f": {', '.join(map(str, list(n.items)[:10]))}" if n.items else ""
        lines.append(f"  nota/note{count}: {n.message}{items}")
    if report.rejected:
        lines.append(f"  righe scartate / rejected rows ({len(report.rejected)} problemi / "
                     "problems):")
        for e in report.rejected[:SHOWN_REJECTED]:
            value = f" [{e.value}]" if e.value else ""
            lines.append(f"    riga/row {e.row}: {e.field}: {e.reason}{value}")
        if len(report.rejected) > SHOWN_REJECTED:
            lines.append(f"    ... (+{len(report.rejected) - SHOWN_REJECTED})")
        if rejected_file:
            lines.append(f"  CSV: {rejected_file}")
    return "\n".join(lines)


class _progress:
    """A rich progress bar (rows, rows/s) while the file is staged, or nothing."""

    def __init__(self, name: str, *, enabled: bool) -> None:
        self.enabled = enabled
        self.name = name
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        class Rate(TextColumn):
            def render(self, task: Any) -> Any:
                from rich.text import Text

                speed = task.finished_speed or task.speed
                return Text(f"{speed:,.0f} righe/s" if speed else "")

        self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                            MofNCompleteColumn(), Rate(""), TimeElapsedColumn(),
                            transient=True)
        self.bar.start()
        self.task = self.bar.add_task(self.name, total=None)

        def update(done: int, total: int | None) -> None:
            self.bar.update(self.task, completed=done, total=total)
        return update

    def __exit__(self, *_: object) -> None:
        if self.bar is not None:
            self.bar.stop()
