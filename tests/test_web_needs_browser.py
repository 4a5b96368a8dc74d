"""The needs' pages in real Chromium: a technician logs in, creates a need with the form and
sees its matching calls; axe-core finds no serious violation on the list, the form (also
with its errors shown) and a need page; screenshots on a desktop and a phone (390x844)."""

from __future__ import annotations

from typing import Any

from conftest import MILANO, LiveServer, query

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def shots(page: Any, name: str) -> None:
    from webtools import screenshot

    page.set_viewport_size(DESKTOP)
    screenshot(page, f"needs-{name}-desktop")
    page.set_viewport_size(PHONE)
    # nothing wider than the phone: no sideways scrolling of the page itself
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: {width} px wide on a phone"
    screenshot(page, f"needs-{name}-phone")
    page.set_viewport_size(DESKTOP)


def test_a_technician_creates_a_need_and_sees_its_matches(
        live: LiveServer, browser_page: Any, db: str) -> None:
    from webtools import axe, login

    page = browser_page
    login(page, live.url, "tecnico")
    page.click("nav.reserved-nav >> text=Bisogni e bandi")
    page.wait_for_url(f"{live.url}/area-riservata/bisogni")
    rows = page.locator("table.needs-table tbody tr")
    milano = query(db, "SELECT count(*) FROM rigenera.needs WHERE istat_code = %s", (MILANO,))
    assert rows.count() == milano[0][0]
    assert axe(page) == []
    shots(page, "list")

    page.click("text=Nuovo bisogno")
    page.wait_for_url("**/bisogni/nuovo")
    assert page.locator("#istat_code").input_value() == MILANO  # their one comune
    assert axe(page) == []
    shots(page, "form")

    # a first try without a title: the error sits next to the field, nothing is written
    page.fill("#estimated_cost_eur", "1200000,00")
    page.click("button[type=submit].primary")
    page.wait_for_selector("#title-error")
    assert page.locator("#title").get_attribute("aria-invalid") == "true"
    assert axe(page) == []
    shots(page, "form-errors")

    page.fill("#title", "Casa delle associazioni a Quarto Oggiaro")
    page.select_option("#category", "community")
    page.fill("#needed_by", "2027-12-31")
    page.fill("#longitude", "9.1400")
    page.fill("#latitude", "45.5100")
    page.click("button[type=submit].primary")
    page.wait_for_url("**/bisogni/*?esito=creato")
    assert page.locator("h1").inner_text() == "Casa delle associazioni a Quarto Oggiaro"
    nid = int(page.url.split("/")[-1].split("?")[0])
    assert query(db, "SELECT created_by, istat_code FROM rigenera.needs WHERE id = %s",
                 (nid,)) == [("tecnico", MILANO)]
    matches = page.locator("ol.call-list > li")
    assert matches.count() >= 1
    first = matches.first.inner_text()
    assert "Spazi di comunità nei quartieri" in first and "Tema ammesso: Comunità" in first
    assert axe(page) == []
    shots(page, "need")
    for url, name in ((f"/area-riservata/bisogni/comune/{MILANO}", "comune"),
                      ("/area-riservata/bandi", "calls")):
        page.goto(live.url + url)
        assert axe(page) == [], name
        shots(page, name)
    # Chromium logs every 4xx document as "Failed to load resource": the one expected here
    # is the form sent without a title (422, as the brief asks); nothing else.
    assert page.errors == ["console.error: Failed to load resource: the server responded "
                           "with a status of 422 (Unprocessable Entity)"]
