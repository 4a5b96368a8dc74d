"""The reserved area's door: login, logout, password change, sessions and CSRF.

Over real HTTP (httpx keeps cookies like a browser) and once in real Chromium.
"""

from __future__ import annotations

import re

import httpx
import pytest

from conftest import PASSWORD, LiveServer, query

HTML = {"Accept": "text/html"}


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def _login(client: httpx.Client, user: str, password: str = PASSWORD) -> httpx.Response:
    form = client.get("/area-riservata/accedi", headers=HTML)
    return client.post("/area-riservata/accedi", headers=HTML, data={
        "csrf_token": _csrf(form.text), "username": user, "password": password,
        "next": "/area-riservata"})


@pytest.fixture
def web(live: LiveServer) -> httpx.Client:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        yield client


def test_reserved_page_sends_anonymous_visitor_to_login(web: httpx.Client) -> None:
    r = web.get("/area-riservata/password", headers=HTML)
    assert r.status_code == 303
    assert r.headers["location"] == "/area-riservata/accedi?next=%2Farea-riservata%2Fpassword"


def test_login_sets_an_httponly_samesite_cookie_and_logout_ends_the_session(
        web: httpx.Client, db: str) -> None:
    r = _login(web, "volontario")
    assert r.status_code == 303 and r.headers["location"] == "/area-riservata"
    cookie = r.headers["set-cookie"]
    assert "rigenera_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    home = web.get("/area-riservata", headers=HTML)
    assert home.status_code == 200 and "volontario" in home.text
    assert home.headers["cache-control"] == "private, no-store"
    assert query(db, "SELECT count(*) FROM rigenera.web_sessions WHERE username = 'volontario'")[0][0] >= 1
    r = web.post("/area-riservata/esci", headers=HTML, data={"csrf_token": _csrf(home.text)})
    assert r.status_code == 303
    assert web.get("/area-riservata", headers=HTML).status_code == 303


def test_wrong_password_is_refused_in_the_form(web: httpx.Client) -> None:
    r = _login(web, "volontario", "sbagliata-davvero")
    assert r.status_code == 401
    assert "Nome utente o password errati" in r.text
    assert "rigenera_session" not in web.cookies


def test_form_without_the_csrf_token_is_refused(web: httpx.Client) -> None:
    web.get("/area-riservata/accedi", headers=HTML)
    r = web.post("/area-riservata/accedi", headers=HTML,
                 data={"username": "volontario", "password": PASSWORD})
    assert r.status_code == 403
    assert "CSRF" in r.text


def test_login_next_is_never_another_site(web: httpx.Client) -> None:
    form = web.get("/area-riservata/accedi", headers=HTML)
    r = web.post("/area-riservata/accedi", headers=HTML, data={
        "csrf_token": _csrf(form.text), "username": "coord", "password": PASSWORD,
        "next": "//evil.example/x"})
    assert r.headers["location"] == "/area-riservata"


def test_the_api_takes_the_session_for_reads_and_needs_the_csrf_header_for_writes(
        web: httpx.Client) -> None:
    _login(web, "coord")
    me = web.get("/api/me")
    assert me.status_code == 200 and me.json()["username"] == "coord"
    r = web.post("/api/changesets", json={"operations": []})
    assert r.status_code == 403
    assert r.json()["errors"][0]["field"] == "X-CSRF-Token"


def test_password_change_ends_other_sessions_and_keeps_this_one(
        live: LiveServer, web: httpx.Client, make_database: object) -> None:
    with httpx.Client(base_url=live.url, timeout=30) as other:
        assert _login(other, "tecnico.sesto").status_code == 303
        assert _login(web, "tecnico.sesto").status_code == 303
        form = web.get("/area-riservata/password", headers=HTML)
        bad = web.post("/area-riservata/password", headers=HTML, data={
            "csrf_token": _csrf(form.text), "current_password": PASSWORD,
            "new_password": "corta", "confirm_password": "corta"})
        assert bad.status_code == 422 and "almeno 8 caratteri" in bad.text
        new = "una-nuova-password-lunga"
        r = web.post("/area-riservata/password", headers=HTML, data={
            "csrf_token": _csrf(form.text), "current_password": PASSWORD,
            "new_password": new, "confirm_password": new})
        assert r.status_code == 303
        assert web.get("/area-riservata", headers=HTML).status_code == 200
        assert other.get("/area-riservata", headers=HTML).status_code == 303
        # the API's Basic credentials follow the same account
        assert web.get("/api/me", auth=("tecnico.sesto", new)).status_code == 200
        assert web.get("/api/me", auth=("tecnico.sesto", PASSWORD)).status_code == 401


def test_web_404_is_a_page_and_the_api_404_stays_json(web: httpx.Client) -> None:
    page = web.get("/progetti-che-non-esistono", headers=HTML)
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert "Pagina non trovata" in page.text
    assert web.get("/api/nothing-here").headers["content-type"].startswith("application/json")


def test_english_is_one_click_away_and_kept(web: httpx.Client) -> None:
    r = web.get("/area-riservata/accedi?lang=en", headers=HTML)
    assert "Reserved area login" in r.text and '<html lang="en">' in r.text
    again = web.get("/area-riservata/accedi", headers=HTML)
    assert "Reserved area login" in again.text


def test_login_in_chromium(live: LiveServer, browser_page: object) -> None:
    from webtools import axe, login

    page = browser_page
    page.goto(f"{live.url}/area-riservata/accedi")  # type: ignore[attr-defined]
    assert axe(page) == []
    login(page, live.url, "coord")
    assert page.locator("h1").inner_text() == "Area riservata"  # type: ignore[attr-defined]
    assert page.errors == []  # type: ignore[attr-defined]
