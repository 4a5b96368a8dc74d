"""The built-in sources of ``rigenera load-open-data DIR``: mappings plus a little code.

Each module reads its file(s) from the folder into the engine's Frame shape
(``Batch``), with its vocabulary in a YAML file next to it; this registry runs them
all in ONE transaction through ``import_frame`` (an invalid row anywhere and nothing
is written), one Report per batch. A file that is absent is skipped.

Real data and the invented demo set are never published together: the demo rows are
removed first, in the same transaction (``keep_demo`` keeps them, and says so).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
from psycopg2.extensions import cursor as Cursor

from rigenera.errors import ImportDataError, ImportRefused
from rigenera.imports.frame import ImportOptions
from rigenera.imports.report import Report
from rigenera.imports.sources import comuni, cycle, dm2021, regis, sites2016, transit
from rigenera.imports.sources.base import Batch
from rigenera.imports.sources.demo import demo_counts, remove_demo
from rigenera.loaders.common import begin_import

LOG = logging.getLogger(__name__)

# Who writes, in history and created_by/updated_by: the command, as before the engine
# (the imports record names each source's files).
ACTOR = "import:opendata"


@dataclass(frozen=True)
class BuiltinSource:
    """One built-in source: its name, its files and
    the function that turns whichever of them are present into Batches."""

    name: str
    files: tuple[str, ...]
    build: Callable[[Cursor, Path, regis.Scope], list[Batch]]


SOURCES: tuple[BuiltinSource, ...] = (
    BuiltinSource("transit", (transit.METRO_FILE, transit.SURFACE_FILE),
                  lambda cur, d, _s: transit.build(cur, d)),
    BuiltinSource("cycle", (cycle.FILE,), lambda cur, d, _s: cycle.build(cur, d)),
    BuiltinSource("sites2016", (sites2016.FILE,), lambda cur, d, _s: sites2016.build(cur, d)),
    BuiltinSource("regis", (regis.config()["localisations_file"],
                            regis.config()["projects_file"], dm2021.ALL1_FILE, dm2021.ALL3_FILE),
                  regis.build),
)


@dataclass
class LoadResult:
    """What one load did: comuni written, one Report per batch, the demo rows removed."""

    comuni: int | None = None
    reports: list[tuple[Batch, Report]] = field(default_factory=list)
    demo_removed: dict[str, int] = field(default_factory=dict)
    demo_kept: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    extras: tuple[int, int] = (0, 0)  # decree: yearly assignments written, comuni IVSM set

    def counts(self) -> dict[str, int]:
        """Rows read per table (the old loader's summary): only tables with a file."""
        out: dict[str, int] = {}
        if self.comuni is not None:
            out["comuni"] = self.comuni
        for batch, _report in self.reports:
            out[batch.collection] = out.get(batch.collection, 0) + batch.frame.num_rows
            if batch.collection == "projects":
                for col, key in (("istat_codes", "project_comuni"), ("funding", "funding_lines")):
                    n = sum(len(v or ()) for v in batch.frame.column(col).to_pylist())
                    out[key] = out.get(key, 0) + n
        return out


def load_open_data(dsn: str, directory: Path, *, keep_demo: bool = False,
                   scope: Path | None = None, dry_run: bool = False,
                   sources: Sequence[BuiltinSource] = SOURCES) -> LoadResult:
    """Import every built-in source found in ``directory`` in one transaction."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ImportDataError(f"{directory}: not a directory")
    regis_scope = regis.Scope.read(scope)
    result = LoadResult()
    started = time.monotonic()
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            begin_import(cur, "opendata")
            demo = demo_counts(cur)
            if demo and keep_demo:
                result.demo_kept = demo
                LOG.warning("demo rows kept next to real data (--keep-demo): %s", demo)
            elif demo:
                result.demo_removed = remove_demo(cur, "opendata")
            result.comuni = comuni.load(cur, directory)
            for src in sources:
                for batch in src.build(cur, directory, regis_scope):
                    result.reports.append((batch, _import(cur, src, batch, dry_run)))
                if src.name == "regis":  # issue 11: the decree's yearly assignments and IVSM
                    result.extras = dm2021.store_extras(cur, directory)
            if dry_run:
                conn.rollback()
    finally:
        conn.close()
    result.seconds = time.monotonic() - started
    LOG.info("open data loaded in %.1f s: %s", result.seconds, result.counts())
    return result


def _import(cur: Cursor, src: BuiltinSource, batch: Batch, dry_run: bool) -> Report:
    from rigenera.imports.engine import import_frame  # the engine loads its SQL on import

    options = ImportOptions(collection=batch.collection, actor=ACTOR,
                            external=batch.external, notes=batch.notes, dry_run=dry_run)
    t0 = time.monotonic()
    _drop_engine_temp_tables(cur)
    try:
        report = import_frame(cur, batch.frame, batch.errors, options, batch.source)
    except ImportRefused as exc:
        raise ImportRefused(f"{batch.source.name}: {exc.description}", report=exc.report,
                            errors=exc.errors, body=exc.body) from None
    LOG.info("%s -> %s: %s (%.1f s)", batch.source.name, batch.collection,
             report.counts, time.monotonic() - t0)
    return report


def _drop_engine_temp_tables(cur: Cursor) -> None:
    """Several imports share this transaction: the engine's staging tables of the
    previous one (ON COMMIT DROP) must go before the next one creates them again."""
    cur.execute("SELECT string_agg(format('%I', relname), ', ') FROM pg_class"
                " WHERE relnamespace = pg_my_temp_schema() AND relkind = 'r'"
                " AND relname LIKE '\\_imp\\_%'")
    row = cur.fetchone()
    if row and row[0]:
        cur.execute(f"DROP TABLE {row[0]}")
