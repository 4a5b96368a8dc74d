"""The website's SQL, kept in web/sql/*.sql (tipg's habit): `sql("project_page")`."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any


@cache
def sql(name: str) -> str:
    return resources.files("rigenera.web").joinpath("sql", f"{name}.sql").read_text()


async def comuni_choices(pool: Any, only: Iterable[str] | None = None) -> list[Any]:
    """(istat_code, name) records of the comuni a form or filter offers, by name: all of
    them, or `only` these (a technician's)."""
    rows: list[Any] = await pool.fetch(sql("comuni"), None if only is None else list(only))
    return rows
