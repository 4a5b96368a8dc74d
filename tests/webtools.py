"""The website's browser tests: Debian's chromium driven by Playwright for Python.

No browser is downloaded: Playwright starts /usr/bin/chromium (`executable_path`),
installed by scripts/bootstrap-browser.sh, with the flags that let headless Chromium draw
MapLibre's WebGL in software as root (FACTS.md) and keep it off the network.

* `launch(playwright)`: the browser;
* `watch(page)`: collects console errors and uncaught exceptions on `page.errors`;
* `axe(page)`: axe-core (npm, frontend/node_modules) run on the page; serious and critical
  violations;
* `screenshot(page, name)`: a PNG kept as a test artefact (tests/artefacts/, or
  $RIGENERA_ARTEFACTS);
* `login(page, base_url, user)`: the reserved area's login form, as a person would fill it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("RIGENERA_CHROMIUM", "/usr/bin/chromium"))
AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
ARTEFACTS = Path(os.environ.get("RIGENERA_ARTEFACTS", ROOT / "tests" / "artefacts"))
ARGS = ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)


def watch(page: Any) -> Any:
    """Console errors and page exceptions end up in page.errors (tests assert it empty)."""
    page.errors = []
    page.on("console", lambda m: page.errors.append(f"console.{m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(f"pageerror: {e}"))
    return page


def axe(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """axe-core's violations of the given impacts (id, impact, help, the first targets)."""
    # Evaluated through the DevTools protocol, not added as an inline <script>: the pages'
    # Content-Security-Policy (headers.py) refuses inline scripts, as it should.
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "targets": [n["target"] for n in v["nodes"][:5]]}
            for v in result["violations"] if v["impact"] in impacts]


def screenshot(page: Any, name: str, full_page: bool = True) -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def login(page: Any, base_url: str, user: str, password: str | None = None) -> None:
    from conftest import PASSWORD

    page.goto(f"{base_url}/area-riservata/accedi")
    page.fill("#username", user)
    page.fill("#password", password or PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/area-riservata**")


def wait_until(page: Any, expression: str, timeout_ms: int = 30_000) -> None:
    """Poll a JavaScript expression until it is truthy. Playwright's wait_for_function
    compiles its predicate with eval inside the page, which the pages' Content-Security-
    Policy (no 'unsafe-eval', headers.py) refuses; page.evaluate goes through DevTools."""
    import time

    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(f"() => Boolean({expression})"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true after {timeout_ms} ms: {expression}")
        page.wait_for_timeout(100)
