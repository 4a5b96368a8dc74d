"""The plugin's test session: real PyQGIS offscreen against a real Rigenera.

The server runs in its own virtual environment (Python >= 3.12, ``.venv``)
while PyQGIS exists only for the system Python (``.venv-qgis``), so the
session drives the server the way an administrator does, through the
``rigenera`` command: its own embedded PostGIS cluster in a temporary state
dir, migrations, the demo data, one account per role, then ``rigenera serve``
on a free port of 127.0.0.1 as a child process (stopped by PID at the end,
and stopped/restarted by the offline tests).

Fixtures:
* ``server``: the running server (``url``, ``sql()``, ``stop()``, ``start()``), with
  the real open data of ../shared/data loaded when it is there.
* ``shared_data``: that folder; tests that need the real data skip without it.
* ``auth_for(username, password=PASSWORD)``: an ``authcfg`` id (Basic) in
  QGIS's authentication database, as a technician would create in the dialog.
* ``plugin_root``: the source folder of the plugin package.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# pytest-qgis starts QGIS before this file is imported, with the profile (settings,
# authentication database) in <rootdir>/.qgis-settings (gitignored), never the
# user's own; `make test` empties it before each session.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from serverproc import (  # noqa: F401 (re-exported to the tests)
    ACCOUNTS,
    MILANO,
    PASSWORD,
    SESTO,
    RigeneraServer,
    free_port,
)

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_SRC = ROOT / "qgis_plugin"
sys.path.insert(0, str(PLUGIN_SRC))

SHARED_DATA = Path(os.environ.get("RIGENERA_SHARED_DATA", ROOT.parent / "shared" / "data"))
MASTER_PASSWORD = "rigenera-test-master"


@pytest.fixture(scope="session")
def server() -> Iterator[RigeneraServer]:
    state = Path(tempfile.mkdtemp(prefix="rigenera-plugin-test-"))
    state.chmod(0o755)  # the unprivileged PostgreSQL user must reach its data dir
    srv = RigeneraServer(state)
    try:
        # The real open data when present (117 PNRR projects that are points, 192 census
        # sites that are points...): what the layers must show, as a user would load it.
        srv.setup(SHARED_DATA if has_open_data() else None)
        srv.start()
        yield srv
    finally:
        srv.close()
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="session")
def auth_manager(qgis_app: Any) -> Any:
    from qgis.core import QgsApplication

    manager = QgsApplication.authManager()
    if not manager.masterPasswordIsSet():
        assert manager.setMasterPassword(MASTER_PASSWORD, True)
    return manager


@pytest.fixture(scope="session")
def auth_for(auth_manager: Any) -> Callable[..., str]:
    """Factory: the id of a Basic ``authcfg`` for an account (created once per pair)."""
    made: dict[tuple[str, str], str] = {}

    def make(username: str, password: str = PASSWORD) -> str:
        if (username, password) not in made:
            from rigenera_qgis.core.auth import store_basic_credentials

            made[(username, password)] = store_basic_credentials(
                f"Rigenera test {username}", username, password)
        return made[(username, password)]

    return make


@pytest.fixture(scope="session")
def plugin_root() -> Path:
    return PLUGIN_SRC / "rigenera_qgis"


def has_open_data() -> bool:
    return (SHARED_DATA / "SOURCES.md").exists()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real open data folder, loaded into the session's server; skips when absent."""
    if not has_open_data():
        pytest.skip(f"real open data not found at {SHARED_DATA}")
    return SHARED_DATA
