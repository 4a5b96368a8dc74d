"""A minute of load with faults (issue 13), bounded, in the suite: bench/loadfault.py.

Readers of items and tiles, 10 technicians sending changesets with deliberate conflicts and
one import through the API, against `rigenera serve` (2 workers once the command has
--workers) on a primary and a streaming replica of their own, while the replica is stopped
(~15 s) and started again (~30 s) and the primary is restarted (~40 s, down ~2.5 s). The
test fails on any violated property (bench/loadfault.py's docstring lists them: no lost
update, complete history, read-your-writes, no error outside the restart window, only 503
inside it, recovery within 5 s, the import whole, the replica equal to the primary after
replay) and prints the figures (pytest -s, and in the report of a failure). About 90 s.
"""

from __future__ import annotations

import sys
from pathlib import Path

import asyncpg

from rigenera.errors import connection_error_types, database_unavailable

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import loadfault

DURATION = 60.0


def test_a_minute_of_load_with_the_replica_stopped_and_the_primary_restarted(tmp_path):
    result = loadfault.run(loadfault.Config(duration=DURATION), base=tmp_path)
    text = loadfault.report(result)
    print("\n" + text)
    assert not result.violations, text + "\n" + str(result.figures.get("server_log_tail", ""))
    f = result.figures
    # the run really was what it claims: load in every phase, conflicts, the faults, an import
    assert f["writes"]["acknowledged"] > 100 and f["writes"]["conflicts_409"] > 10, text
    assert f["phases"]["replica down"]["requests"] > 100, text
    assert f["phases"]["after"]["requests"] > 50, text
    assert f["errors_inside_window"] > 0, text  # the restart was felt, then recovered from
    assert f["import"]["created"] == loadfault.IMPORT_SITES, text
    assert result.events["primary_back"] - result.events["primary_stop"] >= 2.0, text


def test_a_pooled_connection_cut_by_a_restart_is_the_database_away():
    """What asyncpg raises for a connection the server cut while idle in the pool
    (MagicStack/asyncpg#784): the database is away (503), not a bug of ours (500)."""
    cut = asyncpg.InternalClientError("cannot switch to state 15; another operation (2) is "
                                      "in progress")
    away = database_unavailable(cut)
    assert away is not None and away.status == 503
    assert isinstance(cut, connection_error_types())
    assert database_unavailable(asyncpg.InternalClientError("unexpected message type")) is None
