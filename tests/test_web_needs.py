"""The reserved area's needs (bisogni) over real HTTP: who sees which needs, the forms
generated from the model and written through the editing service (validation, reach,
versions, history), and the matching calls with their reasons.

httpx keeps the session cookie like a browser; every assertion on data is made against
the database itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from markupsafe import escape

from conftest import MILANO, PASSWORD, SESTO, LiveServer, query

HTML = {"Accept": "text/html"}
# Everything the needs' forms could touch: a refusal must leave it as it was.
STATE_SQL = """SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
    SELECT 'n' || n.id || n.version || md5(n::text) x FROM rigenera.needs n
    UNION ALL SELECT 'c' || c.id || c.version FROM rigenera.calls c
    UNION ALL SELECT 'h' || h.id FROM rigenera.history h) q"""


def state(db: str) -> object:
    return query(db, STATE_SQL)[0][0]


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page carries a CSRF token"
    return match.group(1)


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"the form carries {name}"
    return match.group(1)


def login(client: httpx.Client, user: str) -> None:
    form = client.get("/area-riservata/accedi", headers=HTML)
    r = client.post("/area-riservata/accedi", headers=HTML, data={
        "csrf_token": csrf(form.text), "username": user, "password": PASSWORD,
        "next": "/area-riservata"})
    assert r.status_code == 303, r.text


@pytest.fixture
def as_user(live: LiveServer) -> Iterator[object]:
    clients: list[httpx.Client] = []

    def make(user: str) -> httpx.Client:
        client = httpx.Client(base_url=live.url, timeout=30)
        clients.append(client)
        login(client, user)
        return client

    yield make
    for c in clients:
        c.close()


def need_form(**values: str) -> dict[str, str]:
    base = {"istat_code": MILANO, "title": "Biblioteca di quartiere a Lorenteggio",
            "description": "Sala studio e prestito per il quartiere.",
            "category": "culture", "applicant": "comune", "priority": "2", "status": "open",
            "estimated_cost_eur": "800000,00", "needed_by": "2027-12-31",
            "longitude": "", "latitude": ""}
    return {**base, **values}


def create(client: httpx.Client, **values: str) -> httpx.Response:
    form = client.get("/area-riservata/bisogni/nuovo", headers=HTML)
    assert form.status_code == 200
    return client.post("/area-riservata/bisogni/nuovo", headers=HTML,
                       data={"csrf_token": csrf(form.text), **need_form(**values)})


def needs_of(db: str, codes: list[str]) -> set[int]:
    return {r[0] for r in query(db, "SELECT id FROM rigenera.needs WHERE istat_code = ANY(%s)",
                                (codes,))}


# ------------------------------------------------------------------------------ reading
def test_a_technician_sees_only_their_comuni_needs(as_user, db: str) -> None:
    web = as_user("tecnico")
    twin = web.get("/area-riservata/bisogni?f=json")
    assert twin.status_code == 200 and twin.headers["cache-control"] == "private, no-store"
    ids = {n["id"] for n in twin.json()["needs"]}
    assert ids == needs_of(db, [MILANO]) and ids, "exactly Milano's needs"
    assert {n["istat_code"] for n in twin.json()["needs"]} == {MILANO}
    page = web.get("/area-riservata/bisogni", headers=HTML)
    assert page.status_code == 200
    sesto_titles = [r[0] for r in query(db, "SELECT title FROM rigenera.needs WHERE istat_code"
                                            " = %s", (SESTO,))]
    assert sesto_titles and not any(t in page.text for t in sesto_titles)
    milano_titles = [r[0] for r in query(db, "SELECT title FROM rigenera.needs WHERE istat_code"
                                             " = %s", (MILANO,))]
    assert all(t in page.text for t in milano_titles)
    # another comune's need, its comune page and a filter on it: refused
    sesto_need = min(needs_of(db, [SESTO]))
    r = web.get(f"/area-riservata/bisogni/{sesto_need}", headers=HTML)
    assert r.status_code == 403 and "015209" in r.text
    assert web.get(f"/area-riservata/bisogni/{sesto_need}?f=json").status_code == 403
    assert web.get(f"/area-riservata/bisogni/comune/{SESTO}", headers=HTML).status_code == 403
    assert web.get(f"/area-riservata/bisogni?comune={SESTO}", headers=HTML).status_code == 403
    assert web.get(f"/area-riservata/bisogni/{sesto_need}/modifica",
                   headers=HTML).status_code == 403


def test_the_office_sees_every_need_and_filters(as_user, db: str) -> None:
    everyone = {r[0] for r in query(db, "SELECT id FROM rigenera.needs")}
    for user in ("coord", "volontario", "admin"):
        web = as_user(user)
        assert {n["id"] for n in web.get("/area-riservata/bisogni?f=json").json()["needs"]} \
            == everyone
    web = as_user("coord")
    got = web.get(f"/area-riservata/bisogni?f=json&comune={SESTO}&stato=open").json()
    assert {n["id"] for n in got["needs"]} == {r[0] for r in query(
        db, "SELECT id FROM rigenera.needs WHERE istat_code = %s AND status = 'open'", (SESTO,))}
    got = web.get("/area-riservata/bisogni?f=json&categoria=housing").json()
    assert {n["id"] for n in got["needs"]} == {r[0] for r in query(
        db, "SELECT id FROM rigenera.needs WHERE category = 'housing'")}
    bad = web.get("/area-riservata/bisogni?stato=perso", headers=HTML)
    assert bad.status_code == 400 and "stato" in bad.text


def test_anonymous_visitors_go_to_the_login(live: LiveServer) -> None:
    with httpx.Client(base_url=live.url) as anon:
        r = anon.get("/area-riservata/bisogni", headers=HTML)
        assert r.status_code == 303 and "/area-riservata/accedi" in r.headers["location"]


def test_a_need_page_shows_the_matching_services_calls_and_near_misses(
        as_user, api: httpx.Client, db: str) -> None:
    web = as_user("tecnico")
    (nid,) = [r[0] for r in query(db, "SELECT id FROM rigenera.needs WHERE source_id ="
                                      " 'demo-n01'")]
    api_doc = api.get(f"/api/needs/{nid}/matches", params={"near_misses": "true"}).json()
    assert api_doc["matches"], "the demo's community centre fits a call"
    twin = web.get(f"/area-riservata/bisogni/{nid}?f=json").json()
    assert [m["call"]["id"] for m in twin["matches"]] == \
        [m["call"]["id"] for m in api_doc["matches"]]
    assert [m["call"]["id"] for m in twin["near_misses"]] == \
        [m["call"]["id"] for m in api_doc["near_misses"]]
    page = web.get(f"/area-riservata/bisogni/{nid}", headers=HTML).text
    first = api_doc["matches"][0]
    assert escape(first["call"]["title"]) in page
    assert all(escape(r["it"]) in page for r in first["reasons"])  # the reasons, in Italian
    for miss in api_doc["near_misses"]:
        assert all(escape(r["it"]) in page for r in miss["why_not"])  # and why not
    english = web.get(f"/area-riservata/bisogni/{nid}?lang=en", headers=HTML).text
    assert all(escape(r["en"]) in english for r in first["reasons"])


def test_a_comune_page_lists_its_open_needs_with_matches(as_user, db: str) -> None:
    web = as_user("tecnico")
    doc = web.get(f"/area-riservata/bisogni/comune/{MILANO}?f=json").json()
    open_ids = {r[0] for r in query(db, "SELECT id FROM rigenera.needs WHERE istat_code = %s"
                                        " AND status = 'open'", (MILANO,))}
    assert {e["need"]["id"] for e in doc["needs"]} == open_ids
    page = web.get(f"/area-riservata/bisogni/comune/{MILANO}", headers=HTML)
    assert page.status_code == 200 and "Milano" in page.text


# ------------------------------------------------------------------------------ writing
def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(as_user, db: str,
                                                                 fingerprint) -> None:
    web = as_user("tecnico")
    before, everything = state(db), fingerprint()
    for values, field in (({"title": ""}, "title"),
                          ({"priority": "alta"}, "priority"),
                          ({"priority": "9"}, "priority"),
                          ({"estimated_cost_eur": "tanti"}, "estimated_cost_eur"),
                          ({"estimated_cost_eur": "-5"}, "estimated_cost_eur"),
                          ({"needed_by": "2027-02-30"}, "needed_by"),
                          ({"category": "astronautica"}, "category"),
                          ({"longitude": "9.19"}, "latitude"),
                          ({"longitude": "7.68", "latitude": "45.07"}, "longitude")):
        r = create(web, **values)
        assert r.status_code == 422, (values, r.status_code)
        # the message sits next to the field, which is marked invalid
        assert f'id="{field}-error"' in r.text, (values, field)
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', r.text), field
        assert state(db) == before, values
    assert fingerprint() == everything
    # the typed values are shown again, not lost
    r = create(web, title="", description="Testo da non perdere")
    assert "Testo da non perdere" in r.text


def test_a_technician_creates_a_need_with_history_and_sees_its_matches(
        as_user, db: str) -> None:
    web = as_user("tecnico")
    title = "Spazio di comunità in via Padova"
    r = create(web, title=title, category="community", estimated_cost_eur="1.000.000,50",
               longitude="9.2300", latitude="45.4950", istat_code="")
    assert r.status_code == 303, r.text
    nid = int(r.headers["location"].split("/")[-1].split("?")[0])
    row = query(db, "SELECT istat_code, created_by, version, estimated_cost_eur::text,"
                    " GeometryType(geom), category, status FROM rigenera.needs WHERE id = %s",
                (nid,))
    # the comune follows the point (the editing service's rule), the amount kept to the cent
    assert row == [(MILANO, "tecnico", 1, "1000000.50", "POINT", "community", "open")]
    history = query(db, "SELECT operation, actor FROM rigenera.history WHERE collection ="
                        " 'needs' AND feature_id = %s", (str(nid),))
    assert history == [("create", "tecnico")]
    page = web.get(r.headers["location"], headers=HTML)
    assert page.status_code == 200 and title in page.text and "Bisogno registrato" in page.text
    twin = web.get(f"/area-riservata/bisogni/{nid}?f=json").json()
    assert twin["matches"], "a community need of 1 M€ fits the demo's community call"
    assert escape(twin["matches"][0]["call"]["title"]) in page.text
    assert all(escape(x["it"]) in page.text for x in twin["matches"][0]["reasons"])
    assert "class=\"minimap" in page.text


def test_a_technician_cannot_create_a_need_for_another_comune(as_user, db: str) -> None:
    web = as_user("tecnico")
    before = state(db)
    r = create(web, istat_code=SESTO)
    assert r.status_code == 403
    assert 'id="istat_code-error"' in r.text
    r = create(web, istat_code="", longitude="9.2333", latitude="45.5356")  # a point in Sesto
    assert r.status_code == 403 and 'id="longitude-error"' in r.text
    assert state(db) == before
    # the form only offers their own comuni
    form = web.get("/area-riservata/bisogni/nuovo", headers=HTML).text
    assert f'value="{MILANO}"' in form and f'value="{SESTO}"' not in form


def test_a_volunteer_cannot_write(as_user, db: str) -> None:
    web = as_user("volontario")
    before = state(db)
    nid = query(db, "SELECT min(id) FROM rigenera.needs")[0][0]
    assert web.get("/area-riservata/bisogni/nuovo", headers=HTML).status_code == 403
    assert web.get(f"/area-riservata/bisogni/{nid}/modifica", headers=HTML).status_code == 403
    page = web.get(f"/area-riservata/bisogni/{nid}", headers=HTML)
    assert page.status_code == 200 and "/modifica" not in page.text
    token = csrf(page.text)
    r = web.post("/area-riservata/bisogni/nuovo", headers=HTML,
                 data={"csrf_token": token, **need_form()})
    assert r.status_code == 403
    r = web.post(f"/area-riservata/bisogni/{nid}/stato", headers=HTML,
                 data={"csrf_token": token, "version": "1", "status": "closed"})
    assert r.status_code == 403
    assert state(db) == before


def test_a_stale_edit_form_is_a_conflict_and_overwrites_nothing(as_user, db: str) -> None:
    first, second = as_user("tecnico"), as_user("coord")
    r = create(first, title="Bisogno conteso")
    nid = int(r.headers["location"].split("/")[-1].split("?")[0])
    form_a = first.get(f"/area-riservata/bisogni/{nid}/modifica", headers=HTML).text
    form_b = second.get(f"/area-riservata/bisogni/{nid}/modifica", headers=HTML).text
    assert hidden(form_a, "version") == hidden(form_b, "version") == "1"
    ok = second.post(f"/area-riservata/bisogni/{nid}/modifica", headers=HTML, data={
        "csrf_token": csrf(form_b), "version": "1", **need_form(title="Versione del coordinatore")})
    assert ok.status_code == 303
    before = state(db)
    stale = first.post(f"/area-riservata/bisogni/{nid}/modifica", headers=HTML, data={
        "csrf_token": csrf(form_a), "version": "1", **need_form(title="Versione del tecnico")})
    assert stale.status_code == 409
    assert "modificato da altri" in stale.text and "Versione del tecnico" in stale.text
    assert state(db) == before
    assert query(db, "SELECT title, version, updated_by FROM rigenera.needs WHERE id = %s",
                 (nid,)) == [("Versione del coordinatore", 2, "coord")]
    # the fresh form edits; an emptied description is cleared
    fresh = first.get(f"/area-riservata/bisogni/{nid}/modifica", headers=HTML).text
    assert hidden(fresh, "version") == "2"
    r = first.post(f"/area-riservata/bisogni/{nid}/modifica", headers=HTML, data={
        "csrf_token": csrf(fresh), "version": "2",
        **need_form(title="Versione del tecnico", description="")})
    assert r.status_code == 303
    assert query(db, "SELECT title, description, version FROM rigenera.needs WHERE id = %s",
                 (nid,)) == [("Versione del tecnico", None, 3)]
    history = query(db, "SELECT version, actor FROM rigenera.history WHERE collection = 'needs'"
                        " AND feature_id = %s ORDER BY id", (str(nid),))
    assert [h[1] for h in history] == ["tecnico", "coord", "tecnico"]


def test_close_and_reopen_a_need(as_user, db: str) -> None:
    web = as_user("tecnico")
    r = create(web, title="Da chiudere")
    nid = int(r.headers["location"].split("/")[-1].split("?")[0])
    page = web.get(f"/area-riservata/bisogni/{nid}", headers=HTML).text
    r = web.post(f"/area-riservata/bisogni/{nid}/stato", headers=HTML, data={
        "csrf_token": csrf(page), "version": hidden(page, "version"), "status": "closed"})
    assert r.status_code == 303
    assert query(db, "SELECT status, version FROM rigenera.needs WHERE id = %s",
                 (nid,)) == [("closed", 2)]
    # the same (now stale) page cannot reopen it behind anyone's back
    r = web.post(f"/area-riservata/bisogni/{nid}/stato", headers=HTML, data={
        "csrf_token": csrf(page), "version": "1", "status": "open"})
    assert r.status_code == 409
    assert query(db, "SELECT status FROM rigenera.needs WHERE id = %s", (nid,)) == [("closed",)]
    page = web.get(f"/area-riservata/bisogni/{nid}", headers=HTML).text
    assert "Riapri il bisogno" in page
    r = web.post(f"/area-riservata/bisogni/{nid}/stato", headers=HTML, data={
        "csrf_token": csrf(page), "version": hidden(page, "version"), "status": "open"})
    assert r.status_code == 303
    assert query(db, "SELECT status, version FROM rigenera.needs WHERE id = %s",
                 (nid,)) == [("open", 3)]


def test_open_calls_list(as_user, db: str) -> None:
    web = as_user("tecnico")
    doc = web.get("/area-riservata/bandi?f=json").json()
    expected = {r[0] for r in query(db, "SELECT id FROM rigenera.calls WHERE closes_on IS NULL"
                                        " OR closes_on >= %s", (doc["as_of"],))}
    assert {c["id"] for c in doc["calls"]} == expected and expected
    page = web.get("/area-riservata/bandi", headers=HTML)
    assert page.status_code == 200
    assert all(escape(c["title"]) in page.text for c in doc["calls"])


def test_an_area_drawn_in_qgis_is_kept_unless_removed(as_user, api: httpx.Client,
                                                       db: str) -> None:
    from conftest import basic

    square = {"type": "Polygon", "coordinates": [[[9.180, 45.460], [9.182, 45.460],
                                                  [9.182, 45.461], [9.180, 45.461],
                                                  [9.180, 45.460]]]}
    r = api.post("/ogc/collections/needs/items", headers={
        "Content-Type": "application/geo+json", **basic("tecnico")}, json={
        "type": "Feature", "geometry": square, "properties": {
            "istat_code": MILANO, "title": "Piazza da ridisegnare", "category": "green"}})
    assert r.status_code == 201, r.text
    nid = r.headers["location"].rsplit("/", 1)[1]
    web = as_user("tecnico")
    form = web.get(f"/area-riservata/bisogni/{nid}/modifica", headers=HTML).text
    assert 'name="remove_place"' in form and hidden(form, "version") == "1"
    r = web.post(f"/area-riservata/bisogni/{nid}/modifica", headers=HTML, data={
        "csrf_token": csrf(form), "version": "1",
        **need_form(title="Piazza da ridisegnare", category="green")})
    assert r.status_code == 303
    assert query(db, "SELECT GeometryType(geom), version FROM rigenera.needs WHERE id = %s",
                 (nid,)) == [("POLYGON", 2)]
    form = web.get(f"/area-riservata/bisogni/{nid}/modifica", headers=HTML).text
    r = web.post(f"/area-riservata/bisogni/{nid}/modifica", headers=HTML, data={
        "csrf_token": csrf(form), "version": "2", "remove_place": "1",
        **need_form(title="Piazza da ridisegnare", category="green")})
    assert r.status_code == 303
    assert query(db, "SELECT geom IS NULL, version FROM rigenera.needs WHERE id = %s",
                 (nid,)) == [(True, 3)]


def test_the_form_speaks_english_and_keeps_what_it_does_not_show(as_user, db: str) -> None:
    web = as_user("tecnico")
    form = web.get("/area-riservata/bisogni/nuovo?lang=en", headers=HTML).text
    for label in ("Title", "Category", "Applicant", "Estimated cost (EUR)", "Needed by",
                  "Longitude (E)", "Housing", "Third-sector organisation"):
        assert label in form, label
    assert 'name="source"' not in form and 'name="referent_id"' not in form
    r = create(web, title="Bisogno con referente")
    nid = int(r.headers["location"].split("/")[-1].split("?")[0])
    # the office links a referent (private, not in the technician's form) ...
    query(db, "WITH r AS (INSERT INTO rigenera.referents (full_name, email) VALUES"
              " ('Ufficio tecnico', 'ufficio@example.org') RETURNING id)"
              " UPDATE rigenera.needs SET referent_id = (SELECT id FROM r) WHERE id = %s"
              " RETURNING id", (nid,))
    # ... and the technician's edit keeps it
    form = web.get(f"/area-riservata/bisogni/{nid}/modifica", headers=HTML).text
    r = web.post(f"/area-riservata/bisogni/{nid}/modifica", headers=HTML, data={
        "csrf_token": csrf(form), "version": hidden(form, "version"),
        **need_form(title="Bisogno con referente, rivisto")})
    assert r.status_code == 303
    assert query(db, "SELECT title, referent_id IS NOT NULL FROM rigenera.needs WHERE id = %s",
                 (nid,)) == [("Bisogno con referente, rivisto", True)]


def test_new_need_from_a_comune_page_starts_with_that_comune(as_user) -> None:
    web = as_user("coord")
    page = web.get(f"/area-riservata/bisogni/comune/{SESTO}", headers=HTML).text
    assert f"/area-riservata/bisogni/nuovo?comune={SESTO}" in page
    form = web.get(f"/area-riservata/bisogni/nuovo?comune={SESTO}", headers=HTML).text
    assert re.search(rf'<option value="{SESTO}" selected>', form)
