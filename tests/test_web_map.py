"""The public map (/) in real Chromium, its counter and search over HTTP, and /dati.

The numbers are compared with SQL on the module's own database, where one demo project is
set back to draft: it must not be drawn, counted or found.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from conftest import LiveServer, query
from webtools import axe, screenshot, wait_until

DRAFT = "demo-p05"  # Cascina Castelletto (015175), made a draft below
PROJECT_LAYERS = "map.getStyle().layers.filter(l => l.source === 'projects').map(l => l.id)"


@pytest.fixture(scope="module", autouse=True)
def draft(db: str) -> dict[str, Any]:
    query(db, """UPDATE rigenera.project_publication SET state = 'draft', published_at = NULL,
                  published_by = NULL
                  WHERE project_id = (SELECT id FROM rigenera.projects WHERE source_id = %s)
                  RETURNING project_id""", (DRAFT,))
    (pid, cup, istat, lon, lat) = query(db, """SELECT p.id, p.cup, pc.istat_code,
                                       ST_X(ST_PointOnSurface(p.geom)), ST_Y(ST_PointOnSurface(p.geom))
                                       FROM rigenera.projects p
                                     JOIN rigenera.project_comuni pc ON pc.project_id = p.id
                                     WHERE p.source_id = %s""", (DRAFT,))[0]
    return {"id": pid, "cup": cup, "istat": istat, "center": [lon, lat]}


@pytest.fixture(scope="module")
def web(live: LiveServer, draft: dict[str, Any]) -> httpx.Client:
    with httpx.Client(base_url=live.url, timeout=60) as client:
        yield client


def sql_counts(db: str, istat: str | None = None, status: str | None = None) -> tuple[int, int]:
    projects = query(db, """SELECT count(*) FROM rigenera.projects p
        JOIN rigenera.project_publication pp ON pp.project_id = p.id AND pp.state = 'published'
        WHERE p.geom IS NOT NULL
          AND (%(i)s::text IS NULL OR EXISTS (SELECT 1 FROM rigenera.project_comuni pc
                                             WHERE pc.project_id = p.id AND pc.istat_code = %(i)s))
          AND (%(s)s::text IS NULL OR p.status = %(s)s)""", {"i": istat, "s": status})[0][0]
    sites = query(db, "SELECT count(*) FROM rigenera.sites WHERE %(i)s::text IS NULL"
                      " OR istat_code = %(i)s", {"i": istat})[0][0]
    return int(projects), int(sites)  # type: ignore[call-overload]


def open_map(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("html[data-map-drawn='1']", timeout=60_000)
    page.wait_for_selector("#map-counter[data-ready='1']")


def rendered(page: Any, layers_js: str) -> list[dict[str, Any]]:
    return page.evaluate(f"""() => {{ const map = window.rigeneraMap.map;
        return map.queryRenderedFeatures({{layers: {layers_js}}})
                  .map(f => ({{source: f.source, id: f.id, published: f.properties.published}})); }}""")


# ------------------------------------------------------------------------------ HTTP
def test_style_is_ours_offline_and_draws_published_projects_only(web: httpx.Client,
                                                                 live: LiveServer) -> None:
    style = web.get("/mappa/stile.json").json()
    assert "glyphs" not in style and "sprite" not in style
    assert not [layer for layer in style["layers"] if layer["type"] == "symbol"]
    for source in style["sources"].values():
        assert all(t.startswith(live.url + "/ogc/collections/") for t in source["tiles"])
    projects = [layer for layer in style["layers"] if layer["source"] == "projects"]
    assert projects and all("published" in str(layer["filter"]) for layer in projects)
    assert "Interventi di rigenerazione urbana" in str(style["metadata"]["rigenera:legend"])
    en = web.get("/mappa/stile.json?lang=en").json()
    assert "Urban regeneration projects" in str(en["metadata"]["rigenera:legend"])


def test_counts_are_the_databases(web: httpx.Client, db: str, draft: dict[str, Any]) -> None:
    for istat in (None, "015146", draft["istat"]):
        r = web.get("/mappa/conteggi.json", params={"istat_code": istat} if istat else {})
        assert r.status_code == 200 and "etag" in r.headers
        got = r.json()
        assert (got["projects"], got["sites"]) == sql_counts(db, istat)
    assert web.get("/mappa/conteggi.json", params={"istat_code": draft["istat"]}).json()["projects"] == 0
    works = web.get("/mappa/conteggi.json", params={"status": "works"}).json()["projects"]
    assert works == sql_counts(db, status="works")[0] > 0
    assert web.get("/mappa/conteggi.json", params={"outcome": "housing"}).json()["projects"] == \
        query(db, """SELECT count(*) FROM pub.projects WHERE published AND geom IS NOT NULL
                     AND housing_units_fragile > 0""")[0][0]
    pnrr = query(db, """SELECT count(DISTINCT p.id) FROM pub.projects p
                        JOIN rigenera.funding_lines fl ON fl.project_id = p.id
                        WHERE p.published AND p.geom IS NOT NULL
                          AND fl.programme_code LIKE 'M5C2I2.03%%'""")[0][0]
    assert web.get("/mappa/conteggi.json", params={"programme": "M5C2I2.03"}).json()["projects"] == pnrr
    for bad in ({"istat_code": "15146"}, {"status": "maybe"}, {"outcome": "x"}, {"phase": "x"}):
        r = web.get("/mappa/conteggi.json", params=bad)
        assert r.status_code == 400 and next(iter(bad)) in r.text


def test_search_finds_published_projects_and_comuni_only(web: httpx.Client, db: str,
                                                         draft: dict[str, Any]) -> None:
    (pid, cup) = query(db, "SELECT id, cup FROM rigenera.projects WHERE source_id = 'demo-p01'")[0]
    found = web.get("/cerca.json", params={"q": cup}).json()["results"]
    assert [(r["kind"], r["id"], r["href"]) for r in found] == [("project", str(pid), f"/progetti/{pid}")]
    assert web.get("/cerca.json", params={"q": draft["cup"]}).json()["results"] == []
    comuni = web.get("/cerca.json", params={"q": "sesto san"}).json()["results"]
    assert ("comune", "015209") in [(r["kind"], r["id"]) for r in comuni]
    assert web.get("/cerca.json", params={"q": "%_"}).json()["results"] == []  # no wildcards


def test_open_data_page_links_all_answer(web: httpx.Client) -> None:
    html = web.get("/dati")
    assert html.status_code == 200 and "etag" in html.headers
    assert web.get("/dati", headers={"If-None-Match": html.headers["etag"]}).status_code == 304
    data = web.get("/dati?f=json").json()
    assert {layer["id"] for layer in data["layers"]} >= {"comuni", "sites", "projects",
                                                         "mobility_links", "transit_stops"}
    assert all(layer["sources"] for layer in data["layers"] if layer["features"])
    main = html.text.split("<main", 1)[1].split("</main>", 1)[0]  # not the site's menu
    hrefs = set(re.findall(r'href="(/[^"]*)"', main))
    hrefs |= {layer["links"]["tiles_template"].replace("{z}/{y}/{x}", "10/366/538")
              for layer in data["layers"] if layer["tiles"]}
    assert len(hrefs) > 40
    for href in sorted(hrefs):
        r = web.get(href.replace("&amp;", "&"))
        assert r.status_code in (200, 204), (href, r.status_code)  # 204: an empty tile
    en = web.get("/dati?lang=en")
    assert "Open data" in en.text and "Sources and licences" in en.text


# --------------------------------------------------------------------------- browser
def test_map_draws_our_features_without_errors(browser_page: Any, live: LiveServer,
                                               draft: dict[str, Any]) -> None:
    page = browser_page
    open_map(page, live.url + "/")
    features = rendered(page, "window.rigeneraMap.map.getStyle().layers"
                              ".filter(l => l.source !== 'basemap').map(l => l.id)")
    assert {f["source"] for f in features} >= {"comuni", "projects"}
    assert all(f["published"] for f in features if f["source"] == "projects")
    assert draft["id"] not in {f["id"] for f in features if f["source"] == "projects"}
    assert page.errors == []
    assert axe(page) == []
    screenshot(page, "web-map-desktop", full_page=False)
    # At the draft's place its feature is in the tiles (the open register) but not drawn.
    page.evaluate(f"""() => {{ const map = window.rigeneraMap.map;
        map.jumpTo({{center: {draft['center']}, zoom: 15}}); }}""")
    wait_until(page, "window.rigeneraMap.map.loaded() && window.rigeneraMap.map.areTilesLoaded()")
    page.wait_for_timeout(500)
    in_tiles = page.evaluate("""() => window.rigeneraMap.map.querySourceFeatures('projects',
        {sourceLayer: 'projects'}).map(f => f.id)""")
    assert draft["id"] in in_tiles
    assert draft["id"] not in {f["id"] for f in rendered(page, PROJECT_LAYERS)}
    assert page.errors == []


def test_comune_filter_changes_counter_to_database_number(browser_page: Any, live: LiveServer,
                                                          db: str) -> None:
    page = browser_page
    open_map(page, live.url + "/")
    total = int(page.get_attribute("#map-counter", "data-projects"))
    assert total == sql_counts(db)[0]
    page.select_option("#f-comune", "015146")
    wait_until(page, "document.querySelector('#map-counter').dataset.ready === '1'"
                           " && location.search.includes('015146')")
    projects, sites = sql_counts(db, "015146")
    assert int(page.get_attribute("#map-counter", "data-projects")) == projects
    assert int(page.get_attribute("#map-counter", "data-sites")) == sites
    assert f"{projects} " in page.inner_text("#map-counter")
    wait_until(page, "window.rigeneraMap.map.loaded() && !window.rigeneraMap.map.isMoving()")
    page.wait_for_timeout(300)
    drawn = {f["id"] for f in rendered(page, PROJECT_LAYERS)}
    in_milano = {r[0] for r in query(db, """SELECT project_id FROM rigenera.project_comuni
                                            WHERE istat_code = '015146'""")}
    assert drawn and drawn <= in_milano
    page.check("input[name=colour][value=programme]")
    wait_until(page, "location.search.includes('colour=programme')")
    assert page.evaluate("""() => window.rigeneraMap.map
        .getPaintProperty('projects-fill', 'fill-color')[0]""") == "case"
    assert page.is_visible("#legend-projects-programme")
    assert not page.is_visible("#legend-projects-status")
    assert page.errors == []


def test_search_then_popup_by_keyboard(browser_page: Any, live: LiveServer, db: str) -> None:
    page = browser_page
    (pid, cup) = query(db, "SELECT id, cup FROM rigenera.projects WHERE source_id = 'demo-p01'")[0]
    open_map(page, live.url + "/")
    page.focus("#map-q")
    page.keyboard.type(str(cup))
    page.wait_for_selector(".map-result[data-kind='project']")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.dataset.id") == str(pid)
    page.keyboard.press("Enter")
    link = page.wait_for_selector(f".maplibregl-popup a[href='/progetti/{pid}']", timeout=20_000)
    wait_until(page, "document.activeElement && document.activeElement.closest('.maplibregl-popup')")
    assert link.get_attribute("href") == f"/progetti/{pid}"
    assert axe(page) == []
    screenshot(page, "web-map-popup", full_page=False)
    page.keyboard.press("Escape")
    page.wait_for_selector(".maplibregl-popup", state="detached")
    assert page.evaluate("document.activeElement.dataset.id") == str(pid)
    # The map itself: Enter on the focused canvas opens the feature at its centre.
    (lon, lat) = query(db, """SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom))
                              FROM rigenera.projects WHERE id = %s""", (pid,))[0]
    page.evaluate(f"() => window.rigeneraMap.map.jumpTo({{center: [{lon}, {lat}], zoom: 16}})")
    wait_until(page, "window.rigeneraMap.map.loaded() && window.rigeneraMap.map.areTilesLoaded()")
    page.wait_for_timeout(300)
    page.focus(".maplibregl-canvas")
    page.keyboard.press("Enter")
    page.wait_for_selector(f".maplibregl-popup a[href='/progetti/{pid}']", timeout=20_000)
    page.keyboard.press("Escape")
    page.wait_for_selector(".maplibregl-popup", state="detached")
    assert page.evaluate("document.activeElement.classList.contains('maplibregl-canvas')")
    assert page.errors == []


def test_phone_layout_with_filter_panel(chromium: Any, live: LiveServer) -> None:
    from webtools import watch

    context = chromium.new_context(locale="it-IT", viewport={"width": 390, "height": 844},
                                   device_scale_factor=2, is_mobile=True, has_touch=True)
    try:
        page = watch(context.new_page())
        open_map(page, live.url + "/?lang=en")
        assert page.evaluate("document.getElementById('map-filters-panel').open") is False
        page.click("#map-filters-panel summary")
        assert page.is_visible("#f-comune")
        assert "published" in page.inner_text("#map-counter")
        assert axe(page) == []
        screenshot(page, "web-map-phone")
        assert page.errors == []
    finally:
        context.close()


def test_open_data_page_in_browser(browser_page: Any, live: LiveServer) -> None:
    page = browser_page
    page.goto(live.url + "/dati")
    assert page.errors == []
    assert axe(page) == []
    screenshot(page, "web-data")
