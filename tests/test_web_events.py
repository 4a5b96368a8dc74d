"""Events (issue 12): the public list and page, registration up to capacity (the database
trigger decides, also under concurrent posts), cancellation, the office's management
(roles, versions, CSV, attendance, materials), and the same in real Chromium.

Over real HTTP against the live app on a database of this module (demo data + one
account per role); every refused write is checked against the database.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator

import httpx
import pytest

from conftest import PASSWORD, LiveServer, query

HTML = {"Accept": "text/html"}
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def _login(client: httpx.Client, user: str) -> None:
    form = client.get("/area-riservata/accedi", headers=HTML)
    r = client.post("/area-riservata/accedi", headers=HTML, data={
        "csrf_token": _csrf(form.text), "username": user, "password": PASSWORD,
        "next": "/area-riservata"})
    assert r.status_code == 303, r.text


def _event(db: str, capacity: int | None = 2, *, status: str = "scheduled",
           closes: str = "now() + interval '5 days'", starts: str = "now() + interval '7 days'",
           title: str = "Evento di prova") -> int:
    (eid,) = query(db, "INSERT INTO rigenera.events (title, kind, starts_at, ends_at,"
                       " istat_code, venue, capacity, registration_closes_at, status, audience,"
                       " source, geom) VALUES (%s, 'training', " + starts + ", " + starts
                       + " + interval '2 hours', '015146', 'Sala prove', %s, " + closes
                       + ", %s, 'technicians', 'test', ST_SetSRID(ST_MakePoint(9.19, 45.46),"
                       " 4326)) RETURNING id", (title, capacity, status))[0]
    return int(eid)  # type: ignore[call-overload]


def _registered(db: str, eid: int) -> int:
    return int(query(db, "SELECT count(*) FROM rigenera.event_registrations WHERE event_id = %s"
                         " AND status = 'registered'", (eid,))[0][0])  # type: ignore[call-overload]


def _person(i: int | str, **extra: str) -> dict[str, str]:
    return {"full_name": f"Persona Prova {i}", "email": f"persona{i}@comune.example.it",
            "organisation": "Comune di Prova", "istat_code": "015146", "role": "Tecnico",
            "consent": "1", **extra}


def _register(client: httpx.Client, eid: int, data: dict[str, str]) -> httpx.Response:
    page = client.get(f"/eventi/{eid}", headers=HTML)
    assert page.status_code == 200
    # A full or closed event shows no form: post as someone who loaded it a moment earlier
    # (the anonymous token is the double-submit cookie's).
    token = client.cookies.get("rigenera_csrf") if "csrf_token" not in page.text else _csrf(
        page.text)
    return client.post(f"/eventi/{eid}/iscrizione", headers=HTML,
                       data={"csrf_token": token or "", **data})


@pytest.fixture
def web(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        yield client


@pytest.fixture
def office(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        _login(client, "volontario")
        yield client


# ----------------------------------------------------------------- public pages
def test_list_shows_upcoming_and_past_demo_events_and_places_left(web: httpx.Client,
                                                                  db: str) -> None:
    r = web.get("/eventi", headers=HTML)
    assert r.status_code == 200 and "ETag" in r.headers
    assert "Corso: rigenerazione urbana e fondi PNRR" in r.text
    assert "Eventi passati" in r.text
    data = web.get("/eventi?f=json").json()
    upcoming = {e["title"]: e for e in data["upcoming"]}
    past = {e["title"] for e in data["past"]}
    assert "Presentazione del programma ai comuni dell'area metropolitana" in past
    lab = upcoming["Laboratorio GIS: caricare e validare i siti dismessi"]
    (taken,) = query(db, "SELECT count(*) FROM rigenera.event_registrations WHERE event_id = %s"
                         " AND status = 'registered'", (lab["id"],))[0]
    assert lab["capacity"] == 12 and lab["places_left"] == 12 - taken  # type: ignore[operator]
    assert lab["starts_at"].endswith(("+01:00", "+02:00"))  # Milan's time
    assert lab["kind_label"] == "Laboratorio" and lab["comune"] == "Milano"
    corso = upcoming["Corso: rigenerazione urbana e fondi PNRR per i tecnici comunali"]
    assert corso["materials"][0]["href"].startswith("https://example.org/")
    english = web.get("/eventi?lang=en", headers=HTML)
    assert "Upcoming events" in english.text


def test_public_pages_and_twins_never_show_registrants(web: httpx.Client, db: str) -> None:
    eid = _event(db, 5)
    assert _register(web, eid, _person("segreta", full_name="Ginevra Riservatissima",
                                       email="ginevra.segreta@comune.example.it")
                     ).status_code == 303
    demo_people = [r[0] for r in query(db, "SELECT email FROM rigenera.event_registrations")]
    assert len(demo_people) >= 11
    for url in ("/eventi", "/eventi?f=json", f"/eventi/{eid}", f"/eventi/{eid}?f=json",
                f"/eventi/{eid}/calendario.ics", "/eventi?lang=en"):
        text = web.get(url, headers=HTML if "json" not in url else {}).text
        assert "Riservatissima" not in text and "Partecipante Demo" not in text, url
        assert not any(str(mail) in text for mail in demo_people), url
    twin = web.get(f"/eventi/{eid}?f=json").json()
    assert twin["places_left"] == 4 and "registrants" not in twin
    assert not re.search(r"[\w.]+@[\w.]+", json.dumps(twin))


def test_event_page_has_map_calendar_and_form(web: httpx.Client, db: str) -> None:
    eid = _event(db, 3, title="Evento, con virgola; e punto e virgola")
    r = web.get(f"/eventi/{eid}", headers=HTML)
    assert r.status_code == 200
    assert 'class="minimap"' in r.text and "mm-event" in r.text
    assert 'name="consent"' in r.text and "Informativa privacy" in r.text
    assert r.headers["cache-control"] == "private, no-store"  # carries a CSRF token
    ics = web.get(f"/eventi/{eid}/calendario.ics")
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VEVENT" in ics.text and "\r\n" in ics.text
    assert "SUMMARY:Evento\\, con virgola\\; e punto e virgola" in ics.text
    (start,) = query(db, "SELECT to_char(starts_at AT TIME ZONE 'UTC', 'YYYYMMDD\"T\"HH24MISS\"Z\"')"
                         " FROM rigenera.events WHERE id = %s", (eid,))[0]
    assert f"DTSTART:{start}" in ics.text
    assert web.get("/eventi/999999", headers=HTML).status_code == 404


# ----------------------------------------------------------------- registration
def test_registration_up_to_capacity_then_a_clear_refusal(web: httpx.Client, db: str) -> None:
    eid = _event(db, 2)
    for i in (1, 2):
        r = _register(web, eid, _person(f"cap{i}"))
        assert r.status_code == 303 and r.headers["location"].startswith("/eventi/iscrizione/")
    full = _register(web, eid, _person("cap3"))
    assert full.status_code == 409
    assert "Posti esauriti" in full.text
    assert _registered(db, eid) == 2
    english = web.post(f"/eventi/{eid}/iscrizione?lang=en", headers=HTML,
                       data={"csrf_token": web.cookies.get("rigenera_csrf") or "",
                             **_person("cap4")})
    assert english.status_code == 409 and "The event is full" in english.text
    page = web.get(f"/eventi/{eid}?lang=it", headers=HTML)
    assert "Posti esauriti" in page.text and 'name="full_name"' not in page.text


def test_confirmation_stores_only_the_token_hash_and_cancelling_frees_the_place(
        web: httpx.Client, db: str) -> None:
    eid = _event(db, 1)
    first = _register(web, eid, _person("uno"))
    token = first.headers["location"].split("/")[-1].split("?")[0]
    confirmation = web.get(first.headers["location"], headers=HTML)
    assert confirmation.status_code == 200 and "Iscrizione confermata" in confirmation.text
    assert token in confirmation.text and "Persona Prova" not in confirmation.text
    assert confirmation.headers["referrer-policy"] == "no-referrer"
    stored = query(db, "SELECT cancel_token_hash FROM rigenera.event_registrations"
                       " WHERE event_id = %s", (eid,))
    assert stored == [(hashlib.sha256(token.encode()).hexdigest(),)]
    assert _register(web, eid, _person("due")).status_code == 409
    cancel = web.post(f"/eventi/iscrizione/{token}/annulla", headers=HTML,
                      data={"csrf_token": _csrf(confirmation.text)})
    assert cancel.status_code == 303
    assert "Iscrizione annullata" in web.get(cancel.headers["location"], headers=HTML).text
    assert _registered(db, eid) == 0
    assert _register(web, eid, _person("due")).status_code == 303
    assert web.get("/eventi/iscrizione/non-un-token", headers=HTML).status_code == 404


def test_bad_fields_are_422_naming_the_field_and_write_nothing(web: httpx.Client,
                                                               db: str) -> None:
    eid = _event(db, 5)
    before = query(db, "SELECT count(*) FROM rigenera.event_registrations")
    cases = {"email": {"email": "non-una-mail"}, "consent": {"consent": ""},
             "full_name": {"full_name": "  "}, "istat_code": {"istat_code": "999999"},
             "organisation": {"organisation": "x" * 201}}
    for field, bad in cases.items():
        r = _register(web, eid, _person("bad", **bad))
        assert r.status_code == 422, field
        assert f'id="reg-{field}-error"' in r.text and 'aria-invalid="true"' in r.text, field
    assert query(db, "SELECT count(*) FROM rigenera.event_registrations") == before
    no_csrf = web.post(f"/eventi/{eid}/iscrizione", headers=HTML, data=_person("csrf"))
    assert no_csrf.status_code == 403
    assert query(db, "SELECT count(*) FROM rigenera.event_registrations") == before


def test_duplicate_email_closed_and_cancelled_events_are_refused_clearly(
        web: httpx.Client, db: str) -> None:
    eid = _event(db, 5)
    assert _register(web, eid, _person("dup")).status_code == 303
    dup = _register(web, eid, _person("dup", email="PERSONADUP@comune.example.it"))
    assert dup.status_code == 409 and "già iscritto" in dup.text
    closed = _event(db, 5, closes="now() - interval '1 hour'")
    r = _register(web, closed, _person("late"))
    assert r.status_code == 409 and "Iscrizioni chiuse" in r.text
    cancelled = _event(db, 5, status="cancelled")
    r = _register(web, cancelled, _person("late"))
    assert r.status_code == 409 and "annullato" in r.text
    assert _registered(db, closed) == 0 and _registered(db, cancelled) == 0


def test_concurrent_registrations_for_the_last_places_never_overbook(live: LiveServer,
                                                                     db: str) -> None:
    capacity, people = 3, 12
    eid = _event(db, capacity)
    clients = [httpx.Client(base_url=live.url, timeout=60) for _ in range(people)]
    tokens = [_csrf(c.get(f"/eventi/{eid}", headers=HTML).text) for c in clients]
    barrier = threading.Barrier(people)
    statuses: list[int] = []

    def post(i: int) -> None:
        barrier.wait()
        r = clients[i].post(f"/eventi/{eid}/iscrizione", headers=HTML,
                            data={"csrf_token": tokens[i], **_person(f"corsa{i}")})
        statuses.append(r.status_code)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(people)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in clients:
        c.close()
    assert sorted(statuses) == [303] * capacity + [409] * (people - capacity)
    assert _registered(db, eid) == capacity


# ----------------------------------------------------------------- the reserved area
def test_who_may_see_the_registrants(live: LiveServer, web: httpx.Client, db: str) -> None:
    eid = _event(db, 5)
    assert _register(web, eid, _person("vista")).status_code == 303
    page, csv_url = f"/area-riservata/eventi/{eid}", f"/area-riservata/eventi/{eid}/iscritti.csv"
    r = web.get(page, headers=HTML)
    assert r.status_code == 303 and r.headers["location"].startswith("/area-riservata/accedi")
    assert web.get(page).status_code == 401 and web.get(csv_url).status_code == 401
    assert web.get("/area-riservata/eventi", headers=HTML).status_code == 303
    for user, allowed in (("tecnico", False), ("tecnico.sesto", False), ("volontario", True),
                          ("coord", True), ("admin", True)):
        with httpx.Client(base_url=live.url, timeout=30) as c:
            _login(c, user)
            r = c.get(page, headers=HTML)
            assert r.status_code == (200 if allowed else 403), user
            assert ("personavista@comune.example.it" in r.text) is allowed, user
            csv = c.get(csv_url)
            assert csv.status_code == (200 if allowed else 403), user
            assert c.get("/area-riservata/eventi", headers=HTML).status_code == (
                200 if allowed else 403), user
            if allowed:
                lines = csv.text.lstrip("\ufeff").splitlines()
                assert lines[0].startswith("full_name,email,organisation")
                assert any("personavista@comune.example.it" in line for line in lines[1:])
                assert csv.headers["cache-control"] == "private, no-store"


def _edit_form(client: httpx.Client, eid: int) -> tuple[str, dict[str, str]]:
    page = client.get(f"/area-riservata/eventi/{eid}", headers=HTML)
    assert page.status_code == 200
    fields = dict(re.findall(r'<input id="ev-[a-z_]+" name="([a-z_]+)"[^>]*?value="([^"]*)"',
                             page.text))
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    return page.text, {**fields, "version": version.group(1), "kind": "training",
                       "csrf_token": _csrf(page.text)}


def test_office_creates_and_edits_an_event_with_versions(office: httpx.Client, db: str) -> None:
    form = office.get("/area-riservata/eventi/nuovo", headers=HTML)
    data = {"csrf_token": _csrf(form.text), "title": "Nuovo corso dal sito", "kind": "workshop",
            "description": "Prova", "starts_at": "2031-05-04T09:30", "ends_at": "2031-05-04T12:00",
            "istat_code": "015209", "venue": "Sala consiliare", "longitude": "9,23",
            "latitude": "45.53", "audience": "technicians", "capacity": "30",
            "registration_closes_at": "2031-05-01T18:00", "online_url": ""}
    r = office.post("/area-riservata/eventi/nuovo", headers=HTML, data=data)
    assert r.status_code == 303, r.text
    eid = int(r.headers["location"].split("/")[-1].split("?")[0])
    row = query(db, "SELECT title, to_char(starts_at AT TIME ZONE 'Europe/Rome', 'HH24:MI'),"
                    " round(ST_X(geom)::numeric, 2)::float8, capacity, version, created_by, source"
                    " FROM rigenera.events WHERE id = %s", (eid,))
    assert row == [("Nuovo corso dal sito", "09:30", pytest.approx(9.23), 30, 1, "volontario",
                    "area-riservata")]
    _, fields = _edit_form(office, eid)
    stale = dict(fields)
    fields["title"] = "Corso rinominato"
    assert office.post(f"/area-riservata/eventi/{eid}", headers=HTML,
                       data=fields).status_code == 303
    stale["title"] = "Titolo di chi arriva tardi"
    r = office.post(f"/area-riservata/eventi/{eid}", headers=HTML, data=stale)
    assert r.status_code == 409 and "modificato da un&#39;altra persona" in r.text
    assert query(db, "SELECT title, version FROM rigenera.events WHERE id = %s",
                 (eid,)) == [("Corso rinominato", 2)]
    # The point is optional: emptied, the event has none.
    _, fields = _edit_form(office, eid)
    fields.update(longitude="", latitude="")
    assert office.post(f"/area-riservata/eventi/{eid}", headers=HTML,
                       data=fields).status_code == 303
    assert query(db, "SELECT geom IS NULL FROM rigenera.events WHERE id = %s", (eid,)) == [(True,)]


def test_bad_event_input_is_422_and_the_database_unchanged(office: httpx.Client, db: str) -> None:
    eid = _event(db, 3)
    assert _register(office, eid, _person("tiene1")).status_code == 303
    assert _register(office, eid, _person("tiene2")).status_code == 303
    snapshot = query(db, "SELECT md5(e::text) FROM rigenera.events e ORDER BY id")
    _, fields = _edit_form(office, eid)
    for name, bad in (("capacity", "tre"), ("starts_at", "ieri"), ("title", ""),
                      ("online_url", "ftp://x"), ("latitude", "95"), ("kind", "festa"),
                      ("istat_code", "000000")):
        r = office.post(f"/area-riservata/eventi/{eid}", headers=HTML,
                        data={**fields, name: bad})
        assert r.status_code == 422, name
        assert f'id="ev-{name}-error"' in r.text, name
    lowered = office.post(f"/area-riservata/eventi/{eid}", headers=HTML,
                          data={**fields, "capacity": "1"})
    assert lowered.status_code == 409 and "meno degli iscritti" in lowered.text
    form = office.get("/area-riservata/eventi/nuovo", headers=HTML)
    r = office.post("/area-riservata/eventi/nuovo", headers=HTML, data={
        "csrf_token": _csrf(form.text), "title": "Senza data", "kind": "training"})
    assert r.status_code == 422 and 'id="ev-starts_at-error"' in r.text
    assert query(db, "SELECT md5(e::text) FROM rigenera.events e ORDER BY id") == snapshot


def test_cancel_event_attendance_and_stale_cancel(office: httpx.Client, web: httpx.Client,
                                                  db: str) -> None:
    eid = _event(db, 4)
    for i in (1, 2):
        assert _register(web, eid, _person(f"pres{i}")).status_code == 303
    ids = [r[0] for r in query(db, "SELECT id FROM rigenera.event_registrations"
                                   " WHERE event_id = %s ORDER BY id", (eid,))]
    _, fields = _edit_form(office, eid)
    r = office.post(f"/area-riservata/eventi/{eid}/presenze", headers=HTML,
                    data={"csrf_token": fields["csrf_token"], "attended": str(ids[0])})
    assert r.status_code == 303
    assert query(db, "SELECT id, attended FROM rigenera.event_registrations WHERE event_id = %s"
                     " ORDER BY id", (eid,)) == [(ids[0], True), (ids[1], False)]
    r = office.post(f"/area-riservata/eventi/{eid}/stato", headers=HTML, data={
        "csrf_token": fields["csrf_token"], "status": "cancelled", "version": fields["version"]})
    assert r.status_code == 303
    stale = office.post(f"/area-riservata/eventi/{eid}/stato", headers=HTML, data={
        "csrf_token": fields["csrf_token"], "status": "scheduled", "version": fields["version"]})
    assert stale.status_code == 409
    assert query(db, "SELECT status FROM rigenera.events WHERE id = %s", (eid,)) == [("cancelled",)]
    r = _register(web, eid, _person("dopo"))
    assert r.status_code == 409 and "annullato" in r.text and 'name="full_name"' not in r.text
    assert _registered(db, eid) == 2


def test_materials_upload_checked_by_content_and_downloaded_publicly(
        office: httpx.Client, web: httpx.Client, db: str, live: LiveServer) -> None:
    eid = _event(db, 4)
    _, fields = _edit_form(office, eid)
    token = fields["csrf_token"]
    url = f"/area-riservata/eventi/{eid}/materiali/file"
    r = office.post(url, headers=HTML, data={"csrf_token": token, "title": "Dispense"},
                    files={"file": ("dispense.pdf", PDF, "application/pdf")})
    assert r.status_code == 303, r.text
    big = PDF + b"0" * 200_000  # above the default 64 KiB body limit
    assert office.post(url, headers=HTML, data={"csrf_token": token},
                       files={"file": ("grande.pdf", big, "application/pdf")}).status_code == 303
    before = query(db, "SELECT count(*) FROM rigenera.event_materials WHERE event_id = %s", (eid,))
    fake = office.post(url, headers=HTML, data={"csrf_token": token},
                       files={"file": ("finto.pdf", PNG, "application/pdf")})
    assert fake.status_code == 422 and "non corrisponde" in fake.text
    exe = office.post(url, headers=HTML, data={"csrf_token": token},
                      files={"file": ("virus.exe", b"MZ\x90\x00", "application/octet-stream")})
    assert exe.status_code == 415
    forged = office.post(url, headers=HTML, data={"csrf_token": "sbagliato"},
                         files={"file": ("x.pdf", PDF, "application/pdf")})
    assert forged.status_code == 403
    with httpx.Client(base_url=live.url) as tech:
        _login(tech, "tecnico")
        assert tech.post(url, headers=HTML, data={"csrf_token": token},
                         files={"file": ("x.pdf", PDF, "application/pdf")}).status_code == 403
    assert query(db, "SELECT count(*) FROM rigenera.event_materials WHERE event_id = %s",
                 (eid,)) == before
    link = office.post(f"/area-riservata/eventi/{eid}/materiali/link", headers=HTML,
                       data={"csrf_token": token, "title": "Registrazione video",
                             "url": "https://example.org/video"})
    assert link.status_code == 303
    bad_link = office.post(f"/area-riservata/eventi/{eid}/materiali/link", headers=HTML,
                           data={"csrf_token": token, "title": "x", "url": "javascript:alert(1)"})
    assert bad_link.status_code == 422
    twin = web.get(f"/eventi/{eid}?f=json").json()
    titles = [m["title"] for m in twin["materials"]]
    assert titles == ["Dispense", "grande.pdf", "Registrazione video"]
    download = web.get(twin["materials"][0]["href"])
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["etag"] == f'"{hashlib.sha256(PDF).hexdigest()}"'
    assert web.get(twin["materials"][0]["href"],
                   headers={"If-None-Match": download.headers["etag"]}).status_code == 304
    (mid, key) = query(db, "SELECT id, storage_key FROM rigenera.event_materials"
                           " WHERE event_id = %s AND title = 'Dispense'", (eid,))[0]
    state = live.settings.state_dir / "event-materials" / str(key)
    assert state.is_file()
    r = office.post(f"/area-riservata/eventi/{eid}/materiali/{mid}/elimina", headers=HTML,
                    data={"csrf_token": token})
    assert r.status_code == 303 and not state.exists()
    assert web.get(twin["materials"][0]["href"]).status_code == 404


# ----------------------------------------------------------------- real Chromium
def test_chromium_registration_until_full_accessible_and_screenshots(
        browser_page: object, chromium: object, live: LiveServer, db: str) -> None:
    from webtools import axe, screenshot

    page = browser_page
    eid = _event(db, 1, title="Laboratorio con un solo posto")
    page.goto(f"{live.url}/eventi")  # type: ignore[attr-defined]
    assert axe(page) == []
    screenshot(page, "events-list-desktop")
    page.goto(f"{live.url}/eventi/{eid}")  # type: ignore[attr-defined]
    assert axe(page) == []
    screenshot(page, "events-detail-desktop")
    page.fill("#reg-full_name", "Maria Rossi")  # type: ignore[attr-defined]
    page.fill("#reg-email", "maria.rossi@comune.example.it")  # type: ignore[attr-defined]
    page.select_option("#reg-istat_code", "015146")  # type: ignore[attr-defined]
    page.check("#reg-consent")  # type: ignore[attr-defined]
    page.click("form[action$='/iscrizione'] button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(f"{live.url}/eventi/iscrizione/**")  # type: ignore[attr-defined]
    assert "Iscrizione confermata" in page.inner_text("h1")  # type: ignore[attr-defined]
    assert axe(page) == []
    screenshot(page, "events-registration-confirmed")
    assert page.errors == []  # type: ignore[attr-defined]

    # A second visitor who opened the form before the last place went: a clear refusal.
    other = chromium.new_context(locale="it-IT", viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    try:
        from webtools import watch

        phone = watch(other.new_page())
        phone.goto(f"{live.url}/eventi")
        screenshot(phone, "events-list-phone")
        assert axe(phone) == []
        query(db, "UPDATE rigenera.event_registrations SET status = 'cancelled'"
                  " WHERE event_id = %s RETURNING id", (eid,))
        phone.goto(f"{live.url}/eventi/{eid}")
        query(db, "UPDATE rigenera.event_registrations SET status = 'registered'"
                  " WHERE event_id = %s RETURNING id", (eid,))
        phone.fill("#reg-full_name", "Luca Bianchi")
        phone.fill("#reg-email", "luca.bianchi@comune.example.it")
        phone.check("#reg-consent")
        phone.click("form[action$='/iscrizione'] button[type=submit]")
        alert = phone.locator(".event-refused")
        alert.wait_for()
        assert "Posti esauriti" in alert.inner_text()
        screenshot(phone, "events-detail-full-phone")
        assert axe(phone) == []
        # The refusal is an HTTP 409 on purpose; Chromium reports that status of the page
        # itself on the console. Anything else would be a real error.
        assert [e for e in phone.errors if "status of 409 (Conflict)" not in e] == []
        assert len(phone.errors) == 1
    finally:
        other.close()
    assert _registered(db, eid) == 1


def test_chromium_volunteer_marks_attendance(browser_page: object, live: LiveServer,
                                             db: str, web: httpx.Client) -> None:
    from webtools import axe, login, screenshot

    eid = _event(db, 3, title="Evento per le presenze")
    assert _register(web, eid, _person("chromium")).status_code == 303
    page = browser_page
    login(page, live.url, "volontario")
    page.goto(f"{live.url}/area-riservata/eventi")  # type: ignore[attr-defined]
    assert axe(page) == []
    page.click(f"a[href='/area-riservata/eventi/{eid}']")  # type: ignore[attr-defined]
    assert "personachromium@comune.example.it" in page.inner_text("table.registrants")  # type: ignore[attr-defined]
    page.check("table.registrants input[name=attended]")  # type: ignore[attr-defined]
    page.click("form[action$='/presenze'] button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(f"**/area-riservata/eventi/{eid}?fatto=presenze*")  # type: ignore[attr-defined]
    assert axe(page) == []
    screenshot(page, "events-reserved-edit-desktop")
    assert page.errors == []  # type: ignore[attr-defined]
    assert query(db, "SELECT attended FROM rigenera.event_registrations WHERE event_id = %s",
                 (eid,)) == [(True,)]


def test_demo_events_load_again_unchanged_and_go_with_demo_remove(db: str) -> None:
    import psycopg2

    from rigenera.imports.sources.demo import remove_demo
    from rigenera.loaders.demo import load_demo

    demo = "Demo Rigenera (dati inventati)"
    sql = ("SELECT e.title, e.capacity, count(r.id), e.starts_at < now()"
           " FROM rigenera.events e LEFT JOIN rigenera.event_registrations r"
           " ON r.event_id = e.id AND r.status = 'registered' AND r.email LIKE '%%@example.org'"
           " WHERE e.source = %s GROUP BY e.id ORDER BY e.id")
    before = query(db, sql, (demo,))
    assert len(before) == 5
    assert sum(1 for *_, past in before if past) == 1
    nearly = [row for row in before if row[2]]
    assert nearly == [("Laboratorio GIS: caricare e validare i siti dismessi", 12, 10, False)]
    counts = load_demo(db, with_comuni=False)
    assert counts["events"] == 5
    assert query(db, sql, (demo,)) == before
    conn = psycopg2.connect(db)
    try:
        with conn.cursor() as cur:
            removed = remove_demo(cur)
            assert removed["events"] == 5
            cur.execute("SELECT count(*) FROM rigenera.event_registrations r JOIN"
                        " rigenera.events e ON e.id = r.event_id WHERE e.source = %s", (demo,))
            assert cur.fetchone() == (0,)
        conn.rollback()  # the other tests keep the demo
    finally:
        conn.close()


def test_out_of_range_ids_are_client_errors(web: httpx.Client) -> None:
    for url in ("/eventi/99999999999999999999", "/eventi/0/calendario.ics",
                "/eventi/1/materiali/99999999999999999999"):
        assert web.get(url).status_code == 400, url  # the app's answer to a bad parameter
