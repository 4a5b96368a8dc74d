"""The demo set and real data: `rigenera demo remove`, and ReGiS projects of the
whole metro area (scope from a YAML given on the command line)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import query
from rigenera.imports.sources import load_open_data
from rigenera.imports.sources.comuni import FILE as COMUNI_FILE
from rigenera.imports.sources.dm2021 import ALL1_FILE, ALL3_FILE
from rigenera.imports.sources.dm2021 import SOURCE as SRC_RU
from rigenera.imports.sources.regis import SOURCE as SRC_REGIS
from rigenera.imports.sources.regis import config as regis_config
from rigenera.loaders.demo import load_demo
from rigenera.settings import PROJECT_ROOT

EXE = Path(sys.executable).with_name("rigenera")
REGIS_FILES = (regis_config()["localisations_file"], regis_config()["projects_file"])


def _cli(dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(EXE), *args], env={**os.environ, "DATABASE_URL": dsn},
                          capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=600)


def test_demo_remove_cli(make_database: Callable[[], str]) -> None:
    dsn = make_database()
    demo = load_demo(dsn)
    (history,) = query(dsn, "SELECT count(*) FROM rigenera.history")[0]
    out = _cli(dsn, "demo", "remove")
    assert out.returncode == 0, out.stderr
    assert f"sites {demo['sites']}" in out.stdout and f"projects {demo['projects']}" in out.stdout
    for table in ("sites", "projects", "mobility_links", "transit_stops", "funding_lines"):
        assert query(dsn, f"SELECT count(*) FROM rigenera.{table}") == [(0,)], table
    assert query(dsn, "SELECT count(*) FROM rigenera.comuni") == [(133,)]  # real, kept
    # Every deletion is in the history, with what was deleted.
    deleted = dict(query(dsn, "SELECT collection, count(*) FROM rigenera.history"
                              " WHERE id > %s AND operation = 'delete' AND after IS NULL"
                              " AND before IS NOT NULL GROUP BY 1", (history,)))
    assert {k: deleted.get(k) for k in ("sites", "projects", "mobility_links",
                                        "transit_stops")} == {
        k: demo[k] for k in ("sites", "projects", "mobility_links", "transit_stops")}
    again = _cli(dsn, "demo", "remove")
    assert again.returncode == 0 and "nessuna riga / no rows" in again.stdout


def test_cli_keep_demo_says_so(make_database: Callable[[], str], shared_data: Path,
                               tmp_path: Path) -> None:
    dsn = make_database()
    demo = load_demo(dsn)
    d = tmp_path / "d"
    d.mkdir()
    shutil.copy(shared_data / COMUNI_FILE, d / COMUNI_FILE)
    out = _cli(dsn, "load-open-data", str(d), "--keep-demo")
    assert out.returncode == 0, out.stderr
    assert "--keep-demo" in out.stdout and f"sites {demo['sites']}" in out.stdout
    assert query(dsn, "SELECT count(*) FROM rigenera.sites") == [(demo["sites"],)]
    out = _cli(dsn, "load-open-data", str(d))
    assert out.returncode == 0, out.stderr
    assert "demo removed" in out.stdout
    assert query(dsn, "SELECT count(*) FROM rigenera.sites") == [(0,)]


@pytest.mark.shared_data
def test_metro_area_projects_and_scope_file(make_database: Callable[[], str], shared_data: Path,
                                            tmp_path: Path) -> None:
    """With M5C1 in scope, the 17 'TUTTI I COMUNI' M5C1 CUPs are metro-area projects:
    no comune, no geometry. The scope comes from the file given to the CLI."""
    dsn = make_database()
    scope = tmp_path / "scope.yml"
    scope.write_text("measures: [M5C1]\n")
    out = _cli(dsn, "load-open-data", str(shared_data), "--regis-scope", str(scope))
    assert out.returncode == 0, out.stderr
    assert "province_wide" in out.stdout
    metro = query(dsn, "SELECT count(*), count(geom), count(pc.project_id) FROM"
                       " rigenera.projects p LEFT JOIN rigenera.project_comuni pc"
                       " ON pc.project_id = p.id WHERE p.scope = 'metro_area'")
    assert metro == [(17, 0, 0)]
    assert query(dsn, "SELECT DISTINCT programme_codes FROM pub.projects"
                      " WHERE scope = 'metro_area'") == [(["M5C1I2.01.00"],)]
    # Every other project is drawn at its comuni.
    assert query(dsn, "SELECT count(*) FROM rigenera.projects WHERE scope = 'local' AND"
                      " (geom IS NULL OR geom_source <> 'comune_point')") == [(0,)]
    # cup_status: only what the validated file says, normalised.
    statuses = dict(query(dsn, "SELECT coalesce(cup_status, '-'), count(*)"
                               " FROM rigenera.projects GROUP BY 1"))
    assert set(statuses) <= {"active", "closed", "-"} and statuses["active"] > 0


@pytest.mark.shared_data
def test_decree_alone_after_regis_keeps_one_project(make_database: Callable[[], str],
                                                    shared_data: Path, tmp_path: Path) -> None:
    """A later load of the decree alone neither duplicates nor re-attributes the projects
    that ReGiS and the decree share; the report says so."""
    dsn = make_database()
    load_open_data(dsn, shared_data)
    before = query(dsn, "SELECT source, count(*), max(version) FROM rigenera.projects"
                        " GROUP BY 1 ORDER BY 1")
    d = tmp_path / "decree"
    d.mkdir()
    for name in (ALL1_FILE, ALL3_FILE):
        shutil.copy(shared_data / name, d / name)
    result = load_open_data(dsn, d)
    ((batch, report),) = result.reports
    assert batch.frame.num_rows == 5
    assert (report.counts["created"], report.counts["updated"]) == (0, 0)
    note = next(n for n in report.notes if n.code == "decree_held_by_regis")
    assert note.count == 117 - 5
    assert query(dsn, "SELECT source, count(*), max(version) FROM rigenera.projects"
                      " GROUP BY 1 ORDER BY 1") == before
    assert {s for s, *_ in before} == {SRC_REGIS, SRC_RU}


@pytest.mark.shared_data
def test_dry_run_writes_nothing(make_database: Callable[[], str], shared_data: Path) -> None:
    dsn = make_database()
    load_demo(dsn)
    result = load_open_data(dsn, shared_data, dry_run=True)
    assert result.counts()["projects"] == 421 and result.demo_removed
    assert all(r.status == "dry_run" and r.counts["created"] == r.counts["read"]
               for _b, r in result.reports)
    assert query(dsn, "SELECT count(*) FROM rigenera.projects WHERE source NOT LIKE 'Demo%%'"
                      " OR source IS NULL") == [(0,)]
    assert query(dsn, "SELECT count(*) FROM rigenera.imports") == [(0,)]
    assert query(dsn, "SELECT count(*) FROM rigenera.sites WHERE source LIKE 'Demo%%'") == [(12,)]
