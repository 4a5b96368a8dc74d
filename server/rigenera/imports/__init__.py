"""One import engine for every way data comes in (issue 10).

``read_file`` turns a GIS file into a ``Frame`` (``frame.py``); ``import_frame``
checks it set-wise in SQL and writes it in the caller's transaction, returning a
``Report`` (``report.py``); ``run_import`` does both in a transaction of its own.
Built-in sources build Frames themselves and call ``import_frame``. ``files.py``
(file safety: open_source, FileLimits, gdal_errors) is the door every file passes.
"""

from rigenera.imports.frame import (
    COLLECTIONS,
    FUNDING_TYPE,
    Frame,
    ImportOptions,
    Note,
    RowError,
    SourceInfo,
)
from rigenera.imports.report import Report

__all__ = ["COLLECTIONS", "FUNDING_TYPE", "Frame", "ImportOptions", "Note", "Report", "RowError",
           "SourceInfo", "import_frame", "read_file", "run_import"]


def __getattr__(name: str) -> object:
    """read_file, import_frame, run_import on first use (they load GDAL, pyproj, psycopg2)."""
    if name == "read_file":
        from rigenera.imports.reader import read_file
        return read_file
    if name == "import_frame":
        from rigenera.imports.engine import import_frame
        return import_frame
    if name == "run_import":
        from rigenera.imports.run import run_import
        return run_import
    raise AttributeError(name)
