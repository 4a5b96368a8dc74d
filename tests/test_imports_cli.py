"""`rigenera import` as a user runs it: exit codes, the summary, --json, --rejected."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from conftest import query

Fingerprint = Callable[[], tuple[object, object]]


def _rigenera(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": db, "RIGENERA_LOG_LEVEL": "warning"}
    return subprocess.run([sys.executable, "-m", "rigenera.cli", "import", *args], env=env,
                          capture_output=True, text=True, timeout=300)


def _csv(path: Path, bad: bool) -> Path:
    path.write_text("name;state;lon;lat;source;source_id\n"
                    "Cascina;abbandonata;9,19;45,47;t-cli;1\n"
                    f"Capannone;{'rovina' if bad else 'sottoutilizzata'};9,2;45,48;t-cli;2\n",
                    encoding="utf-8")
    return path


def test_dry_run_then_refused_then_skip_invalid(db: str, tmp_path: Path,
                                                fingerprint: Fingerprint) -> None:
    path = _csv(tmp_path / "siti.csv", bad=True)
    before = fingerprint()
    dry = _rigenera(db, str(path), "--collection", "sites", "--dry-run")
    assert dry.returncode == 2, dry.stderr
    assert "prova, nulla scritto / dry run, nothing written" in dry.stdout
    assert "riga/row 2: state: valore non ammesso" in dry.stdout
    refused = _rigenera(db, str(path), "--collection", "sites", "--json")
    assert refused.returncode == 2
    doc = json.loads(refused.stdout)
    assert doc["status"] == "refused" and doc["counts"]["invalid"] == 1
    assert doc["rejected"][0]["row"] == 2 and doc["rejected"][0]["field"] == "state"
    assert fingerprint() == before
    rejected = tmp_path / "scarti.csv"
    ok = _rigenera(db, str(path), "--collection", "sites", "--skip-invalid", "--rejected",
                   str(rejected))
    assert ok.returncode == 0, ok.stderr
    assert "nuove/new 1" in ok.stdout and "scritte/written 1" in ok.stdout
    rows = list(csv.DictReader(rejected.open(encoding="utf-8")))
    assert [(r["row"], r["field"], r["value"]) for r in rows] == [("2", "state", "rovina")]
    assert (rows[0]["file:name"], rows[0]["file:lon"], rows[0]["file:state"]) == (
        "Capannone", "9,2", "rovina")
    assert query(db, "SELECT name, state, created_by FROM rigenera.sites WHERE source = 't-cli'") \
        == [("Cascina", "abandoned", "import:siti.csv")]


def test_unreadable_file_exit_2_and_errors_exit_1(db: str, tmp_path: Path) -> None:
    bad = tmp_path / "rotto.gpkg"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 80)
    out = _rigenera(db, str(bad), "--collection", "sites")
    assert out.returncode == 2 and "rotto.gpkg" in out.stderr
    down = _rigenera("postgresql://nobody@127.0.0.1:1/none", str(_csv(tmp_path / "x.csv", False)),
                     "--collection", "sites")
    assert down.returncode == 1 and "database" in down.stderr and "Traceback" not in down.stderr
