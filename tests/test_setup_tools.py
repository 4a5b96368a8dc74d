"""Every outside program the project calls is installed by its own set-up scripts.

CI once passed only because pylupdate5 had been installed by hand on the CI
machine; on a fresh machine `make test` failed. This test scans the code for
the programs it calls (tests/toolscan.py) and holds them against
scripts/system-tools.tsv and the scripts themselves.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from toolscan import makefile_tools, python_tools, scan, shell_tools

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "scripts" / "system-tools.tsv"
DPKG = shutil.which("dpkg-query") is not None


@dataclass(frozen=True)
class Entry:
    tool: str
    package: str
    installer: str
    called_from: str


def manifest() -> dict[str, Entry]:
    entries = {}
    for line in MANIFEST.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        tool, package, installer, called_from = line.split("\t")
        entries[tool] = Entry(tool, package, installer, called_from)
    return entries


def _run(*args: str) -> str:
    done = subprocess.run(list(args), capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


@cache
def packages() -> dict[str, tuple[bool, set[str]]]:
    """Installed packages: package -> (part of the base system, what it depends on).

    Base system: Essential, or Priority: required (what every Debian has)."""
    out = _run("dpkg-query", "-W",
               "-f=${Package}\t${Essential}\t${Priority}\t${Depends}, ${Pre-Depends}\n")
    table = {}
    for line in out.splitlines():
        name, essential, priority, depends = line.split("\t")
        deps = {re.split(r"[\s:(]", d.strip())[0] for alt in depends.split(",")
                for d in alt.split("|") if d.strip()}
        table[name] = (essential == "yes" or priority == "required", deps)
    return table


def owners(tools: list[str]) -> dict[str, str]:
    """The Debian package shipping each program found on PATH (absent: not a package's)."""
    paths: dict[str, str] = {}
    for tool in tools:
        path = shutil.which(tool)
        if path is None:
            continue
        for p in {path, os.path.realpath(path)}:
            paths[p] = tool
            if p.startswith(("/usr/bin/", "/usr/sbin/")):  # merged /usr: dpkg may list /bin/x
                paths[p[len("/usr"):]] = tool
    done = subprocess.run(["dpkg-query", "-S", *paths], capture_output=True, text=True,
                          check=False)
    found: dict[str, str] = {}
    for line in done.stdout.splitlines():
        package, _, path = line.partition(": ")
        tool = paths.get(path.strip())
        if tool is not None and tool not in found and "diversion" not in package:
            found[tool] = package.split(",")[0].split(":")[0].strip()
    return found


def depends_on(package: str, wanted: str) -> bool:
    """Does installing `package` install `wanted` (directly or through dependencies)?"""
    table, seen, todo = packages(), set(), [package]
    while todo:
        p = todo.pop()
        if p == wanted:
            return True
        if p not in seen:
            seen.add(p)
            todo.extend(table[p][1] if p in table else apt_depends(p))
    return False


@cache
def apt_depends(package: str) -> set[str]:
    """What a package that is not installed here would bring (from apt's lists)."""
    out = _run("apt-cache", "depends", "--important", package)
    return {m.group(1) for m in re.finditer(r"Depends: <?([\w.+-]+)", out)}


def installs(script: str, package: str) -> bool:
    """The script names the package in an apt package list or an apt-get install line."""
    text = (ROOT / script).read_text(encoding="utf-8")
    word = rf"(?<![\w.-]){re.escape(package)}(?![\w.-])"
    return bool(re.search(rf"\+=\([^)\n]*{word}", text)
                or re.search(rf"apt-get[^\n]*install[^\n]*{word}", text))


def test_scanner_finds_what_a_script_calls() -> None:
    """The scanner itself: programs in command position, not data, strings or arrays."""
    script = '''#!/bin/bash
frob() { echo hi; }
VAR="$(zork --x | cut -c1)"
APT_PKGS+=(notacommand other)
if command -v probed >/dev/null; then sudo -n realtool --y; fi
"${sudo[@]}" viasudo install thing
echo "not a command: fakecmd" # comment: alsofake
cat <<EOF
heredoctool run
EOF
frob && .venv/bin/own || "$VAR" x
'''
    assert shell_tools(script) == {"zork", "cut", "probed", "realtool", "viasudo", "cat"}
    assert makefile_tools("t:\n\t@$(BIN)/pytest x\n\t$(MAKE) y; pylupdate9 $(firstword a)\n") \
        == {"pylupdate9"}


def test_scanner_finds_what_python_calls(tmp_path: Path) -> None:
    src = tmp_path / "x.py"
    src.write_text('import subprocess, shutil\nsubprocess.run(["tool1", "-x"])\n'
                   'shutil.which("tool2")\nbindir = None\nbindir / "tool3"\n'
                   '_tool(["tool4", "tool5"], "pkg", "why")\nsubprocess.run([variable])\n')
    assert python_tools(src) == {"tool1", "tool2", "tool3", "tool4", "tool5"}


def test_the_scan_sees_the_known_callers() -> None:
    """A scan that found nothing would pass everything below."""
    calls = scan(ROOT)
    for tool in ("initdb", "pg_ctl", "ogr2ogr", "lrelease", "pylupdate5", "qgis_process",
                 "wrk", "apt-get"):
        assert tool in calls, tool


@pytest.mark.skipif(not DPKG, reason="not a Debian system (dpkg-query missing)")
def test_every_called_program_is_installed_by_the_set_up() -> None:
    entries = manifest()
    calls = {t: f for t, f in scan(ROOT).items() if t not in entries}
    found = owners(sorted(calls))
    problems = []
    for tool, files in sorted(calls.items()):
        package = found.get(tool)
        if package is None or not packages().get(package, (False, set()))[0]:
            where = ", ".join(sorted(files))
            problems.append(
                f"{tool} (called from {where}) is "
                + (f"installed here by hand or as a dependency ({package})" if package
                   else "not installed here by anything")
                + ": add it to scripts/system-tools.tsv and to the apt-get list of the set-up"
                  " script that needs it")
    assert not problems, "\n".join(problems)


def test_each_listed_package_is_installed_by_its_script() -> None:
    problems = []
    for e in manifest().values():
        if e.installer in ("optional", "assumed"):
            continue
        if not (ROOT / e.installer).exists():
            problems.append(f"{e.tool}: {e.installer} does not exist")
        elif not installs(e.installer, e.package):
            problems.append(f"{e.tool}: {e.installer} never installs the package {e.package}")
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(not DPKG, reason="not a Debian system (dpkg-query missing)")
def test_listed_packages_really_ship_the_tools() -> None:
    """Where a listed tool is installed here, it comes from the package named (or one that
    package depends on, e.g. postgresql -> postgresql-15): a wrong name would install
    nothing useful on a fresh machine."""
    listed = [e for e in manifest().values() if e.installer != "optional" and e.package != "-"]
    shipped = owners([e.tool for e in listed])
    problems = []
    for e in listed:
        found = shipped.get(e.tool)
        if found is not None and not depends_on(e.package, found):
            problems.append(f"{e.tool} comes from {found}, not from {e.package} "
                            "(nor from one of its dependencies)")
    assert not problems, "\n".join(problems)
