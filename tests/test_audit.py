"""pip-audit on the project's installed dependencies (the environment the tests run in).

Fails on any known vulnerability not listed in audit-exceptions.toml, and on a listed
exception that no longer applies (the advisory is gone, or the package was upgraded past
it): the file stays a true list of the risks we accept, each with its reason and dates.
When the vulnerability service cannot be reached, or answers for none of the dependencies
(a mirror without per-version data), the audit is skipped with that reason: pip-audit
would otherwise report "no known vulnerabilities" for packages it never looked at.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tomllib
from typing import Any

import pytest

from rigenera.settings import PROJECT_ROOT

EXCEPTIONS = PROJECT_ROOT / "audit-exceptions.toml"
TIMEOUT_S = 600


def exceptions() -> dict[str, list[dict[str, Any]]]:
    doc = tomllib.loads(EXCEPTIONS.read_text(encoding="utf-8"))
    return {"vulnerability": doc.get("vulnerability", []), "unaudited": doc.get("unaudited", [])}


def test_the_exceptions_file_justifies_and_dates_every_entry() -> None:
    today = dt.date.today()
    listed = exceptions()
    for entry in listed["vulnerability"]:
        assert {"id", "package", "reason", "decided", "review_by"} <= entry.keys(), entry
        assert isinstance(entry["decided"], dt.date) and entry["decided"] <= today, entry
        assert isinstance(entry["review_by"], dt.date), entry
        assert entry["review_by"] >= today, f"review overdue: {entry}"
        assert len(entry["reason"].split()) >= 5, f"say why: {entry}"
    for entry in listed["unaudited"]:
        assert {"package", "reason", "decided"} <= entry.keys(), entry
        assert len(entry["reason"].split()) >= 5, f"say why: {entry}"


def _audit() -> dict[str, Any]:
    cmd = [sys.executable, "-m", "pip_audit", "--local", "--skip-editable", "--format", "json",
           "--progress-spinner", "off", "--desc", "off"]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        pytest.skip(f"pip-audit: the vulnerability service did not answer in {TIMEOUT_S} s")
    if not out.stdout.strip().startswith("{"):
        # No report at all: pip-audit could not reach the service (its message says why).
        lines = out.stderr.strip().splitlines() or [f"exit status {out.returncode}"]
        if any(w in out.stderr for w in ("Connection", "connection", "resolve", "Timeout",
                                         "timed out", "HTTPSConnectionPool", "ProxyError")):
            pytest.skip(f"pip-audit: vulnerability service unreachable: {lines[-1][:300]}")
        pytest.fail(f"pip-audit failed: {out.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(out.stdout)
    return report


def test_no_known_vulnerability_outside_the_listed_exceptions() -> None:
    report = _audit()
    deps = report["dependencies"]
    listed = exceptions()
    unaudited = {d["name"]: d["skip_reason"] for d in deps
                 if "skip_reason" in d and "editable" not in d["skip_reason"]}
    audited = [d for d in deps if "skip_reason" not in d]
    if not audited:
        example = next(iter(unaudited.values()), "no dependency listed")
        pytest.skip(f"pip-audit: the vulnerability service audited none of {len(deps)} "
                    f"dependencies (e.g. {example}); nothing was checked")
    accepted_unaudited = {e["package"].lower() for e in listed["unaudited"]}
    unlisted_unaudited = {n: r for n, r in unaudited.items() if n.lower() not in accepted_unaudited}
    found: dict[tuple[str, str], set[str]] = {}  # (package, id) -> id and aliases
    fixes: dict[tuple[str, str], str] = {}
    for d in audited:
        for v in d.get("vulns", []):
            key = (d["name"].lower(), v["id"])
            found[key] = {v["id"], *v.get("aliases", [])}
            fixes[key] = ", ".join(v.get("fix_versions", [])) or "none yet"
    by_name = {d["name"].lower(): d for d in audited}
    accepted = [(e["package"].lower(), e["id"]) for e in listed["vulnerability"]]
    unlisted = {f"{pkg} {vid} (fixed in: {fixes[(pkg, vid)]})"
                for (pkg, vid), names in found.items()
                if not any(p == pkg and i in names for p, i in accepted)}
    stale = [f"{pkg} {vid}" for pkg, vid in accepted
             if pkg in by_name and not any(p == pkg and vid in names
                                            for (p, _), names in found.items())]
    print(f"\npip-audit: {len(audited)} dependencies audited, {len(found)} known "
          f"vulnerabilities, {len(accepted)} accepted, {len(unaudited)} not auditable")
    assert not unlisted, f"vulnerabilities not in audit-exceptions.toml: {sorted(unlisted)}"
    assert not stale, f"exceptions that no longer apply (remove them): {stale}"
    assert not unlisted_unaudited, (
        f"dependencies the service could not audit, not listed under [[unaudited]]: "
        f"{unlisted_unaudited}")
