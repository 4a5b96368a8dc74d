"""The reserved area's review rooms: the volunteers' geometry review queue and the queue
"Da localizzare", in real Chromium over the real app and PostGIS.

The pages write through the API (session cookie + X-CSRF-Token): a decision through
POST /api/review/{collection}/{id}, a location through PATCH /ogc/collections/projects/items/
{id} with If-Match. Every expected answer is read back from the database and the API.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import httpx
import pytest

from conftest import MILANO, PASSWORD, SESTO, LiveServer, basic, query
from test_to_locate import make_project

HTML = {"Accept": "text/html"}


def _client(live: LiveServer, user: str) -> httpx.Client:
    """An httpx client logged in through the website's form, with its CSRF token."""
    client = httpx.Client(base_url=live.url, timeout=30)
    form = client.get("/area-riservata/accedi", headers=HTML)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    r = client.post("/area-riservata/accedi", headers=HTML, data={
        "csrf_token": token.group(1), "username": user, "password": PASSWORD,
        "next": "/area-riservata"})
    assert r.status_code == 303, r.text
    home = client.get("/area-riservata", headers=HTML)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
    assert csrf
    client.headers["X-CSRF-Token"] = csrf.group(1)
    return client


@pytest.fixture
def volunteer(live: LiveServer) -> Iterator[httpx.Client]:
    client = _client(live, "volontario")
    try:
        yield client
    finally:
        client.close()


def _waiting_sites(db: str) -> list[tuple[Any, ...]]:
    return query(db, "SELECT id, version FROM rigenera.sites WHERE validation_status ="
                     " 'to_validate' ORDER BY updated_at, id")


def _status(db: str, table: str, fid: int) -> tuple[Any, ...]:
    return query(db, f"SELECT validation_status, version FROM rigenera.{table} WHERE id = %s",
                 (fid,))[0]


def _weight(page: Any) -> str:
    """What the page cost: bytes over the wire (HTML, CSS, JS, tiles) and the time to the
    map's first idle frame, printed for NOTES-review.md (run with -s)."""
    data = page.evaluate("""() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const res = performance.getEntriesByType('resource');
      const sum = (xs) => xs.reduce((a, r) => a + (r.transferSize || 0), 0);
      return {html: nav.transferSize, total: nav.transferSize + sum(res),
              n: res.length,
              ready: Number(document.querySelector('[data-ready]').dataset.ready)};
    }""")
    # (tiles are fetched by MapLibre's worker: not in the page's resource timing)
    return (f"{data['total'] / 1024:.0f} KiB in {data['n'] + 1} requests (HTML "
            f"{data['html'] / 1024:.1f} KiB), "
            f"map drawn {data['ready']} ms after navigation start")


def _ready(page: Any, map_id: str) -> None:
    """The page's map has drawn its first view (reserved-map.js marks it data-ready)."""
    page.wait_for_selector(f"#{map_id}[data-ready] canvas.maplibregl-canvas")


# ------------------------------------------------------------------ review queue
def test_volunteer_accepts_a_geometry_in_the_web_queue(live: LiveServer, db: str, api: httpx.Client,
                                                       browser_page: Any) -> None:
    from webtools import axe, login, screenshot

    waiting = _waiting_sites(db)
    assert len(waiting) >= 2, "the demo has sites waiting for review"
    fid, version = waiting[0]
    page = browser_page
    login(page, live.url, "volontario")
    page.goto(f"{live.url}/area-riservata/revisione?collection=sites&id={fid}")
    _ready(page, "rv-map")
    print("review page:", _weight(page))
    # The queue is the database's queue, and the selected feature's checks are the API's.
    assert page.locator("#rv-list li").count() == len(waiting)
    assert page.locator("#rv-count").inner_text() == str(len(waiting))
    item = next(i for i in api.get("/api/review/queue", params={"collection": "sites"},
                                   headers=basic("volontario")).json()["items"] if i["id"] == fid)
    checks = page.locator("table.rv-checks tbody tr")
    shown = {checks.nth(i).get_attribute("data-check") for i in range(checks.count())}
    assert shown == set(item["checks"]) - {"validity_reason", "outside_location"}
    area = page.locator('tr[data-check="area_m2"] td').inner_text()
    assert f"{item['checks']['area_m2']:,.1f}".replace(",", "\u202f").replace(".", ",") in area
    assert axe(page) == []
    screenshot(page, "web-review-queue-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    assert axe(page) == []
    screenshot(page, "web-review-queue-phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.click("button[value=accept]")
    page.wait_for_selector("#rv-result .notice")
    assert "Accettato" in page.locator("#rv-result").inner_text()
    assert page.locator(f'#rv-list li[data-id="{fid}"]').count() == 0
    # The state changed where the API changes it: read back through OGC API Features.
    feature = api.get(f"/ogc/collections/sites/items/{fid}", params={"f": "json"}).json()
    assert feature["properties"]["validation_status"] == "validated"
    assert _status(db, "sites", fid) == ("validated", version + 1)
    assert query(db, "SELECT actor, comment FROM rigenera.history WHERE collection = 'sites'"
                     " AND feature_id = %s AND operation = 'review' ORDER BY id DESC LIMIT 1",
                 (str(fid),)) == [("volontario", "accept:")]
    assert fid not in [i["id"] for i in api.get(
        "/api/review/queue", params={"collection": "sites"}, headers=basic("volontario")
    ).json()["items"]]
    assert page.errors == []


def test_rejection_needs_a_comment_then_lands(live: LiveServer, db: str, api: httpx.Client,
                                              browser_page: Any, volunteer: httpx.Client) -> None:
    from webtools import login

    fid, version = _waiting_sites(db)[0]
    # The API itself refuses a rejection without a comment (session + CSRF header).
    r = volunteer.post(f"/api/review/sites/{fid}", json={"decision": "reject", "comment": " "})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "comment"
    assert _status(db, "sites", fid) == ("to_validate", version)

    page = browser_page
    login(page, live.url, "volontario")
    page.goto(f"{live.url}/area-riservata/revisione?collection=sites&id={fid}")
    _ready(page, "rv-map")
    page.click("button[value=reject]")
    error = page.locator("#rv-comment-error")
    error.wait_for(state="visible")
    assert "commento" in error.inner_text()
    assert page.locator("#rv-comment").get_attribute("aria-invalid") == "true"
    assert _status(db, "sites", fid) == ("to_validate", version)  # nothing changed

    comment = "Il perimetro include la strada: ridisegnare sul lotto"
    page.fill("#rv-comment", comment)
    page.click("button[value=reject]")
    page.wait_for_selector("#rv-result .notice")
    assert error.is_hidden()
    assert _status(db, "sites", fid) == ("rejected", version + 1)
    rejected = {i["id"]: i for i in api.get("/api/review/rejections",
                                            headers=basic("tecnico")).json()["items"]}
    if query(db, "SELECT istat_code FROM rigenera.sites WHERE id = %s", (fid,))[0][0] == MILANO:
        assert rejected[fid]["comment"] == f"reject: {comment}"
    coord = {i["id"]: i for i in api.get("/api/review/rejections",
                                         headers=basic("coord")).json()["items"]}
    assert coord[fid]["comment"] == f"reject: {comment}" and coord[fid]["reviewer"] == "volontario"
    assert page.errors == []


def test_a_stale_decision_is_refused_and_changes_nothing(db: str, volunteer: httpx.Client) -> None:
    fid, version = _waiting_sites(db)[0]
    r = volunteer.post(f"/api/review/sites/{fid}",
                       json={"decision": "accept", "base_version": version - 1})
    assert r.status_code == 412
    assert _status(db, "sites", fid) == ("to_validate", version)


def test_filters_narrow_the_queue_to_a_comune_and_a_collection(live: LiveServer, db: str,
                                                               volunteer: httpx.Client) -> None:
    code = query(db, "SELECT istat_code FROM rigenera.sites WHERE validation_status ="
                     " 'to_validate' ORDER BY id LIMIT 1")[0][0]
    twin = volunteer.get("/area-riservata/revisione",
                         params={"collection": "sites", "istat": code, "f": "json"}).json()
    expected = query(db, "SELECT id FROM rigenera.sites WHERE validation_status = 'to_validate'"
                         " AND istat_code = %s ORDER BY updated_at, id", (code,))
    assert [i["id"] for i in twin["items"]] == [e[0] for e in expected]
    page = volunteer.get("/area-riservata/revisione", params={"collection": "projects"},
                         headers=HTML)
    assert page.status_code == 200
    waiting = query(db, "SELECT count(*) FROM rigenera.projects"
                        " WHERE validation_status = 'to_validate'")[0][0]
    assert page.text.count('<li data-id="') == waiting
    started = time.perf_counter()
    for _ in range(20):
        assert volunteer.get("/area-riservata/revisione", headers=HTML).status_code == 200
    english = volunteer.get("/area-riservata/revisione", params={"lang": "en"}, headers=HTML)
    assert "Geometry review" in english.text and "To reject, write a comment" in english.text
    print(f"review page served in {(time.perf_counter() - started) / 20 * 1000:.1f} ms")


def test_a_technician_may_not_use_the_review_queue(live: LiveServer) -> None:
    tecnico = _client(live, "tecnico")
    with closing(tecnico):
        r = tecnico.get("/area-riservata/revisione", headers=HTML)
        assert r.status_code == 403
        assert "text/html" in r.headers["content-type"]
    with httpx.Client(base_url=live.url, timeout=30) as anonymous:
        r = anonymous.get("/area-riservata/revisione", headers=HTML)
        assert r.status_code == 303 and "accedi" in r.headers["location"]


# ------------------------------------------------------------------ da localizzare
@pytest.fixture(scope="module")
def to_locate(db: str) -> dict[str, int]:
    return {
        "milano": make_project(db, "Centro civico da localizzare", [MILANO]),
        "milano2": make_project(db, "Orti urbani da localizzare", [MILANO]),
        "milano3": make_project(db, "Piazza scolastica da localizzare", [MILANO]),
        "sesto": make_project(db, "Ludoteca da localizzare", [SESTO]),
        "both": make_project(db, "Rete di quartiere Milano-Sesto", [MILANO, SESTO]),
    }


def _located(db: str, pid: int) -> tuple[Any, ...]:
    return query(db, "SELECT geom_source, version, ST_AsText(geom) FROM rigenera.projects"
                     " WHERE id = %s", (pid,))[0]


def test_technician_sees_only_the_projects_of_their_comuni(live: LiveServer, api: httpx.Client,
                                                           to_locate: dict[str, int]) -> None:
    tecnico = _client(live, "tecnico")
    with closing(tecnico):
        twin = tecnico.get("/area-riservata/da-localizzare", params={"f": "json"}).json()
        ids = [f["id"] for f in twin["features"]]
        assert to_locate["milano"] in ids and to_locate["sesto"] not in ids
        # the API's answer for the same caller, to the id
        api_ids = [f["id"] for f in api.get("/api/projects/to-locate", params={"limit": 1000},
                                            headers=basic("tecnico")).json()["features"]]
        assert ids == api_ids
        page = tecnico.get("/area-riservata/da-localizzare", headers=HTML)
        assert "Centro civico da localizzare" in page.text
        assert "Ludoteca da localizzare" not in page.text
        # their comuni in the filter; a project's other comune named, not coded
        assert re.findall(r'<option value="(\d{6})"', page.text) == [MILANO]
        assert "Milano, Sesto San Giovanni" in page.text
        # selecting another comune's project by URL shows the first of theirs instead
        other = tecnico.get("/area-riservata/da-localizzare",
                            params={"id": to_locate["sesto"]}, headers=HTML)
        assert "Ludoteca" not in other.text
        assert f"{to_locate['sesto']} non è (più) in questa coda" in other.text
    volunteer = _client(live, "volontario")
    with closing(volunteer):
        assert volunteer.get("/area-riservata/da-localizzare", headers=HTML).status_code == 403


def test_technician_draws_a_point_and_the_project_leaves_the_queue(
        live: LiveServer, db: str, api: httpx.Client, browser_page: Any,
        to_locate: dict[str, int]) -> None:
    from webtools import axe, login, screenshot

    pid = to_locate["milano"]
    source, version, _ = _located(db, pid)
    assert source == "comune_point"
    page = browser_page
    login(page, live.url, "tecnico")
    page.goto(f"{live.url}/area-riservata/da-localizzare?id={pid}")
    _ready(page, "lc-map")
    print("locate page:", _weight(page))
    assert axe(page) == []
    screenshot(page, "web-locate-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    assert axe(page) == []
    screenshot(page, "web-locate-phone")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.wait_for_timeout(300)

    page.locator("#lc-map").scroll_into_view_if_needed()
    box = page.locator("#lc-map canvas").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.4)
    lon = float(page.input_value("#lc-lon"))
    lat = float(page.input_value("#lc-lat"))
    assert "Punto" in page.locator("#lc-draft").inner_text()
    page.click("#lc-save")
    page.wait_for_selector("#lc-result .notice")
    assert "Posizione salvata" in page.locator("#lc-result").inner_text()
    assert page.locator(f'#lc-list li[data-id="{pid}"]').count() == 0

    source, new_version, _ = _located(db, pid)
    assert source == "digitised" and new_version == version + 1
    assert query(db, "SELECT ST_DWithin(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326), 1e-7)"
                     " FROM rigenera.projects WHERE id = %s", (lon, lat, pid)) == [(True,)]
    feature = api.get(f"/ogc/collections/projects/items/{pid}", params={"f": "json"}).json()
    assert feature["geometry"]["type"] == "Point"
    assert feature["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-7)
    listed = [f["id"] for f in api.get("/api/projects/to-locate", params={"limit": 1000},
                                       headers=basic("tecnico")).json()["features"]]
    assert pid not in listed
    page.reload()
    assert page.locator(f'#lc-list li[data-id="{pid}"]').count() == 0
    assert page.errors == []


def test_a_polygon_drawn_vertex_by_vertex_is_saved(live: LiveServer, db: str,
                                                   browser_page: Any, volunteer: httpx.Client,
                                                   to_locate: dict[str, int]) -> None:
    from webtools import login

    pid = to_locate["milano2"]
    page = browser_page
    login(page, live.url, "coord")
    page.goto(f"{live.url}/area-riservata/da-localizzare?id={pid}")
    _ready(page, "lc-map")
    page.check('input[name="lc-mode"][value="polygon"]')
    page.locator("#lc-map").scroll_into_view_if_needed()
    box = page.locator("#lc-map canvas").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in ((-30, -30), (30, -30), (30, 30), (-30, 30)):
        page.mouse.click(cx + dx, cy + dy)
    assert "4" in page.locator("#lc-draft").inner_text()
    assert page.is_disabled("#lc-save")
    page.click("#lc-close")
    page.click("#lc-save")
    page.wait_for_selector("#lc-result .notice")
    source, _, wkt = _located(db, pid)
    assert source == "digitised" and wkt.startswith("POLYGON((")
    assert query(db, "SELECT ST_NPoints(geom), ST_IsValid(geom), validation_status"
                     " FROM rigenera.projects WHERE id = %s", (pid,)) == [(5, True, "to_validate")]
    # the drawn place now waits in the volunteers' review queue
    review = volunteer.get("/area-riservata/revisione",
                           params={"collection": "projects", "f": "json"}).json()
    assert pid in [i["id"] for i in review["items"]]
    assert page.errors == []


def test_a_change_made_meanwhile_makes_the_save_fail_without_overwriting(
        live: LiveServer, db: str, api: httpx.Client, browser_page: Any,
        to_locate: dict[str, int]) -> None:
    from webtools import login

    pid = to_locate["milano3"]
    page = browser_page
    login(page, live.url, "coord")
    page.goto(f"{live.url}/area-riservata/da-localizzare?id={pid}")
    _ready(page, "lc-map")
    _, version, before = _located(db, pid)
    # Someone else edits the project through the API meanwhile: its version moves on.
    r = api.patch(f"/ogc/collections/projects/items/{pid}", headers={
        **basic("admin"), "Content-Type": "application/merge-patch+json",
        "If-Match": f'"{version}"'}, content=json.dumps({"properties": {"title": "Rinominato"}}))
    assert r.status_code == 204, r.text
    # The keyboard way: typed coordinates, then save.
    page.fill("#lc-lon", "9,19")
    page.fill("#lc-lat", "45.47")
    page.click("#lc-use")
    assert page.locator("#lc-draft").inner_text().startswith("Punto")
    page.click("#lc-save")
    page.wait_for_selector("#lc-result .warning")
    message = page.locator("#lc-result").inner_text()
    assert "modificato da altri" in message and str(version + 1) in message
    assert _located(db, pid) == ("comune_point", version + 1, before)  # nothing overwritten
    assert page.locator(f'#lc-list li[data-id="{pid}"]').count() == 1
    # Chromium itself logs the refused request ("Failed to load resource: ... 412"), a
    # network line the page cannot silence; any other console error is a bug.
    refused = "Failed to load resource: the server responded with a status of 412"
    assert [e for e in page.errors if refused not in e] == []


def test_bad_coordinates_are_named_and_nothing_is_sent(live: LiveServer, db: str,
                                                       browser_page: Any,
                                                       to_locate: dict[str, int]) -> None:
    from webtools import login

    pid = to_locate["milano3"]
    before = _located(db, pid)
    page = browser_page
    login(page, live.url, "coord")
    page.goto(f"{live.url}/area-riservata/da-localizzare?id={pid}&lang=en")
    _ready(page, "lc-map")
    page.fill("#lc-lon", "nove")
    page.fill("#lc-lat", "95")
    page.click("#lc-use")
    error = page.locator("#lc-coords-error")
    assert "Longitude" in error.inner_text() and "Latitude" in error.inner_text()
    assert page.is_disabled("#lc-save")
    assert _located(db, pid) == before
    assert page.errors == []


def test_out_of_reach_save_is_refused_visibly(live: LiveServer, db: str, browser_page: Any,
                                              to_locate: dict[str, int]) -> None:
    from webtools import login

    pid = to_locate["both"]  # Milano and Sesto: the Milano technician lists it, may not edit it
    before = _located(db, pid)
    page = browser_page
    login(page, live.url, "tecnico")
    page.goto(f"{live.url}/area-riservata/da-localizzare?id={pid}")
    _ready(page, "lc-map")
    assert "fuori dalla tua competenza" in page.locator(".rv-detail").inner_text()
    page.fill("#lc-lon", "9.19")
    page.fill("#lc-lat", "45.465")
    page.press("#lc-lat", "Enter")  # the coordinates form, by keyboard
    page.click("#lc-save")
    page.wait_for_selector("#lc-result .warning")
    assert "fuori dalla tua competenza" in page.locator("#lc-result").inner_text()
    assert _located(db, pid) == before
    refused = "Failed to load resource: the server responded with a status of 403"
    assert [e for e in page.errors if refused not in e] == []
