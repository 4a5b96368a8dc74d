"""The public website as a whole: every public page, in both languages, on a desktop and a
phone, in real Chromium — no console errors, no serious accessibility violation
(axe-core), the skip link first in the keyboard order, cacheable with an ETag.
Each room's own tests go deeper; this one keeps the whole site to the same rules.
"""

from __future__ import annotations

import httpx
import pytest

from conftest import MILANO, LiveServer, query

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def public_paths(db: str) -> list[str]:
    (pid,) = query(db, "SELECT min(id) FROM pub.projects WHERE published")[0]
    events = query(db, "SELECT min(id) FROM rigenera.events WHERE status = 'scheduled'"
                       " AND starts_at > now()")
    paths = ["/", "/statistiche", "/eventi", "/dati", f"/progetti/{pid}", f"/comuni/{MILANO}",
             "/area-riservata/accedi"]
    if events and events[0][0] is not None:
        paths.append(f"/eventi/{events[0][0]}")
    return paths


def _slug(path: str) -> str:
    return path.strip("/").replace("/", "-") or "home"


def test_every_public_page_answers_with_an_etag_and_revalidates(
        live: LiveServer, public_paths: list[str]) -> None:
    with httpx.Client(base_url=live.url, timeout=30, headers={"Accept": "text/html"}) as web:
        for path in public_paths:
            r = web.get(path)
            assert r.status_code == 200, path
            assert "text/html" in r.headers["content-type"], path
            print(f"{path}: {len(r.content):,} bytes of HTML")
            if r.headers["cache-control"].startswith("private"):
                # an anonymous form (login, event registration) carries its own CSRF token
                assert 'name="csrf_token"' in r.text, path
                continue
            etag = r.headers.get("etag")
            assert etag, path
            assert web.get(path, headers={"If-None-Match": etag}).status_code == 304, path


@pytest.mark.parametrize("lang", ["it", "en"])
def test_public_pages_in_chromium(live: LiveServer, browser_page: object, public_paths: list[str],
                                  lang: str) -> None:
    from webtools import axe, screenshot

    page = browser_page
    for path in public_paths:
        page.goto(f"{live.url}{path}?lang={lang}", wait_until="load")  # type: ignore[attr-defined]
        assert page.locator("html").get_attribute("lang") == lang  # type: ignore[attr-defined]
        assert page.locator("h1").count() >= 1, path  # type: ignore[attr-defined]
        violations = axe(page)
        assert violations == [], (path, violations)
        screenshot(page, f"site-{_slug(path)}-{lang}")
    assert page.errors == []  # type: ignore[attr-defined]


def test_public_pages_on_a_phone(live: LiveServer, chromium: object,
                                 public_paths: list[str]) -> None:
    from webtools import axe, screenshot, watch

    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)  # type: ignore[attr-defined]
    try:
        page = watch(context.new_page())
        for path in public_paths:
            page.goto(f"{live.url}{path}", wait_until="load")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"] + 1, f"{path} scrolls sideways on a phone ({width}px)"
            assert axe(page) == [], path
            screenshot(page, f"site-{_slug(path)}-phone")
        assert page.errors == []
    finally:
        context.close()


def test_the_skip_link_comes_first_and_leads_to_the_content(
        live: LiveServer, browser_page: object, public_paths: list[str]) -> None:
    page = browser_page
    for path in public_paths:
        page.goto(f"{live.url}{path}")  # type: ignore[attr-defined]
        page.keyboard.press("Tab")  # type: ignore[attr-defined]
        focused = page.evaluate("document.activeElement.getAttribute('href')")  # type: ignore[attr-defined]
        assert focused == "#contenuto", path
        page.keyboard.press("Enter")  # type: ignore[attr-defined]
        assert page.evaluate("location.hash") == "#contenuto", path  # type: ignore[attr-defined]
