"""The office room in real Chromium: a volunteer phones a referent, logs the call with a
follow-up for today and finds it on the home page; axe-core on the office's main pages,
screenshots as artefacts, no console errors."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from conftest import LiveServer, query
from webtools import axe, login, screenshot


def _today() -> str:
    return dt.datetime.now(ZoneInfo("Europe/Rome")).date().isoformat()


def test_volunteer_logs_a_call_with_a_follow_up_and_sees_it_on_the_home(
        browser_page: Any, live: LiveServer, db: str) -> None:
    page = browser_page
    rid = query(db, "SELECT id FROM rigenera.referents WHERE full_name = 'Dario Inventato'")[0][0]
    login(page, live.url, "volontario")
    home = page.locator("section[aria-labelledby=follow-ups-title]")
    assert "Dario Inventato" not in home.inner_text()

    page.click("a[href='/area-riservata/referenti']")
    page.fill("#f-q", "Inventato")
    page.click("form.filters button[type=submit]")
    page.click("text=Dario Inventato")
    page.wait_for_url(f"{live.url}/area-riservata/referenti/{rid}")
    assert page.locator("a[href='tel:+390200000004']").count() >= 1
    assert page.input_value("#contacted_by") == "volontario"  # the current user by default
    page.select_option("#outcome", "call_back")
    page.fill("#contact-notes", "Chiede di essere richiamato nel pomeriggio.")
    page.fill("#follow_up_on", _today())
    page.click("#contact-form button[type=submit]")
    page.wait_for_url(f"{live.url}/area-riservata/referenti/{rid}?saved=contact**")
    assert "Contatto registrato" in page.inner_text("main")
    assert "Chiede di essere richiamato" in page.inner_text("#contatti + .table-wrap")
    assert query(db, "SELECT contacted_by, outcome, follow_up_on::text FROM rigenera.contacts"
                     " WHERE referent_id = %s", (rid,)) == [("volontario", "call_back",
                                                             _today())]

    page.click("nav.reserved-nav a[href='/area-riservata']")
    page.wait_for_url(f"{live.url}/area-riservata")
    due = page.locator("section[aria-labelledby=follow-ups-title]").inner_text()
    assert "Dario Inventato" in due and "Ada Esempio" in due
    assert axe(page) == []
    screenshot(page, "office-home-volunteer")
    assert page.errors == []


def test_office_pages_pass_axe_with_no_console_errors(browser_page: Any, live: LiveServer,
                                                      db: str) -> None:
    page = browser_page
    rid = query(db, "SELECT id FROM rigenera.referents WHERE full_name = 'Ada Esempio'")[0][0]
    pid = query(db, "SELECT id FROM rigenera.projects WHERE source_id = 'demo-p03'")[0][0]
    login(page, live.url, "coord")
    for name, path in [("office-home-coordinator", "/area-riservata"),
                       ("office-publication-list", "/area-riservata/pubblicazione"),
                       ("office-publication-project", f"/area-riservata/pubblicazione/{pid}"),
                       ("office-referents", "/area-riservata/referenti"),
                       ("office-referent", f"/area-riservata/referenti/{rid}"),
                       ("office-referent-new", "/area-riservata/referenti/nuovo"),
                       ("office-referents-en", "/area-riservata/referenti?lang=en")]:
        response = page.goto(f"{live.url}{path}")
        assert response is not None and response.status == 200, path
        assert axe(page) == [], path
        screenshot(page, name)
    assert page.errors == []
    # A refused form, as a person sees it: the field named, the page still accessible.
    # Chromium logs the page's own 422 as a failed load; that is the only message allowed.
    page.goto(f"{live.url}/area-riservata/referenti/nuovo?lang=it")
    page.fill("#full_name", "Posta Rotta")
    page.fill("#email", "non-una-mail")
    page.click("form.form button[type=submit]")
    assert page.locator("#email-error").is_visible()
    assert page.get_attribute("#email", "aria-invalid") == "true"
    assert axe(page) == []
    screenshot(page, "office-referent-refused")
    assert [e for e in page.errors if "status of 422" not in e] == []
    page.errors.clear()
    # A phone-sized window.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live.url}/area-riservata/referenti")
    screenshot(page, "office-referents-phone")
    assert page.errors == []
