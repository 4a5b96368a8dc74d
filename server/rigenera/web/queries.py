"""The website's SQL, kept in web/sql/*.sql (tipg's habit): `sql("project_page")`."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def sql(name: str) -> str:
    return resources.files("rigenera.web").joinpath("sql", f"{name}.sql").read_text()
