"""The public project, comune and statistics pages (issue 12, room "pages").

Over real HTTP against the app on a demo database, plus a draft project (never public),
a published project known only by its comune's point (approximate location) with a cover
photo uploaded through the API; every number is checked against SQL on the same database.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from conftest import MILANO, SESTO, LiveServer, basic, query
from monitoring_data import PNG, execute

HTML = {"Accept": "text/html"}
DRAFT_TITLE = "Progetto in bozza, mai pubblico"
POINT_TITLE = "Progetto localizzato sul comune"


class Meta(HTMLParser):
    """The page's <meta property|name=... content=...> and <link rel=canonical>."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "meta" and (a.get("property") or a.get("name")):
            self.meta[str(a.get("property") or a.get("name"))] = str(a.get("content"))
        if tag == "link" and a.get("rel") == "canonical":
            self.meta["canonical"] = str(a.get("href"))


def meta(html: str) -> dict[str, str]:
    parser = Meta()
    parser.feed(html)
    return parser.meta


def eur_it(value: Decimal) -> str:
    """12500000.00 -> '12.500.000,00 €' (web/format.py's Italian form, written out here)."""
    text = f"{value:,.2f}".replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return f"{text} €"


def _insert_project(db: str, title: str, istat: str, state: str, geom_sql: str,
                    geom_source: str, amount: str) -> int:
    pid = query(db, f"""
        INSERT INTO rigenera.projects (title, description, status, cup, total_cost_eur, geom,
                                       geom_source, source, scope, implementing_body, start_date)
        VALUES (%s, 'Descrizione di prova', 'planned', NULL, %s, {geom_sql}, %s,
                'Prova (CC BY 4.0)', 'local', 'Comune di prova', '2030-01-01')
        RETURNING id""", (title, amount, geom_source))[0][0]
    execute(db, "INSERT INTO rigenera.project_comuni (project_id, istat_code) VALUES (%s, %s)",
          (pid, istat))
    execute(db, "INSERT INTO rigenera.funding_lines (project_id, funding_source, programme_code, "
              "status, amount_eur, source) VALUES (%s, 'pnrr', 'M5C2I2.01.00', 'granted', %s, "
              "'Prova (CC BY 4.0)'), (%s, 'municipal', NULL, 'requested', 1234.56, 'Prova')",
          (pid, amount, pid))
    execute(db, "INSERT INTO rigenera.project_publication (project_id, state, published_at) "
              "VALUES (%s, %s, CASE WHEN %s = 'published' THEN now() END) "
              "ON CONFLICT (project_id) DO UPDATE SET state = EXCLUDED.state, "
              "published_at = EXCLUDED.published_at", (pid, state, state))
    return pid


@pytest.fixture(scope="module")
def extra(db: str, live: LiveServer) -> dict[str, int]:
    """A draft in Milano with a large grant (must never be counted), a published project of
    Sesto drawn on its comune's point, with a cover photo uploaded through the API."""
    draft = _insert_project(db, DRAFT_TITLE, MILANO, "draft",
                            "ST_SetSRID(ST_MakePoint(9.19, 45.46), 4326)", "digitised",
                            "987654321.00")
    point = _insert_project(db, POINT_TITLE, SESTO, "published",
                            f"rigenera.comune_point(ARRAY['{SESTO}'])", "comune_point",
                            "4321.09")
    docs = {}
    with httpx.Client(base_url=live.url, timeout=30) as client:
        for pid in (draft, point):
            r = client.post(f"/api/projects/{pid}/documents", data={"kind": "photo",
                            "title": "Foto di copertina"},
                            files={"file": ("copertina.png", PNG, "application/octet-stream")},
                            headers=basic("admin"))
            assert r.status_code == 201, r.text
            docs[pid] = r.json()["id"]
            execute(db, "UPDATE rigenera.project_publication SET cover_document_id = %s "
                      "WHERE project_id = %s", (docs[pid], pid))
    return {"draft": draft, "point": point, "draft_cover": docs[draft], "point_cover": docs[point]}


@pytest.fixture(scope="module")
def web(live: LiveServer) -> Any:
    with httpx.Client(base_url=live.url, timeout=60) as client:
        yield client


def _published_milano_project(db: str) -> int:
    return int(query(db, "SELECT min(id) FROM pub.projects WHERE published "
                         "AND %s = ANY (istat_codes)", (MILANO,))[0][0])


# ------------------------------------------------------------------------------ project page
def test_project_page_shows_the_funding_total_the_database_holds(web: httpx.Client, db: str,
                                                                 extra: dict[str, int]) -> None:
    pid = _published_milano_project(db)
    (total,) = query(db, "SELECT sum(amount_eur) FROM rigenera.funding_lines WHERE project_id = %s",
                     (pid,))[0]
    (granted,) = query(db, "SELECT sum(amount_eur) FROM rigenera.funding_lines "
                           "WHERE project_id = %s AND status = 'granted'", (pid,))[0]
    r = web.get(f"/progetti/{pid}", headers=HTML)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert f'data-total-eur="{total}"' in r.text
    assert eur_it(total) in r.text and eur_it(granted) in r.text
    cup, title = query(db, "SELECT cup, title FROM rigenera.projects WHERE id = %s", (pid,))[0]
    assert f'href="https://www.opencup.gov.it/portale/progetto/-/cup/{cup}"' in r.text
    assert f'href="/comuni/{MILANO}"' in r.text
    twin = web.get(f"/progetti/{pid}?f=json").json()
    assert Decimal(str(twin["funding"]["total_eur"])) == total
    assert Decimal(str(twin["funding"]["granted_eur"])) == granted
    assert twin["title"] == title and twin["cup"] == cup
    assert [c["istat_code"] for c in twin["comuni"]] == [MILANO]
    # the latest progress record is the page's phase and progress
    latest = query(db, "SELECT phase, physical_progress_pct FROM rigenera.progress_reports "
                       "WHERE project_id = %s ORDER BY reference_date DESC LIMIT 1", (pid,))
    if latest:
        assert twin["progress"]["phase"] == latest[0][0]
        assert Decimal(str(twin["progress"]["physical_progress_pct"])) == latest[0][1]
    n_targets = query(db, "SELECT count(*) FROM rigenera.milestones WHERE project_id = %s "
                          "AND kind = 'target'", (pid,))[0][0]
    assert len(twin["targets"]) == n_targets
    assert twin["sources"] and twin["sources"][0]["name"]


def test_unpublished_project_is_404_page_twin_and_cover(web: httpx.Client,
                                                        extra: dict[str, int]) -> None:
    pid = extra["draft"]
    page = web.get(f"/progetti/{pid}", headers=HTML)
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert DRAFT_TITLE not in page.text
    assert web.get(f"/progetti/{pid}?f=json").status_code == 404
    assert web.get(f"/progetti/{pid}/copertina").status_code == 404
    assert web.get("/progetti/999999999", headers=HTML).status_code == 404
    assert web.get("/progetti/abc", headers=HTML).status_code == 404


def test_proposed_is_not_published_either(web: httpx.Client, db: str,
                                          extra: dict[str, int]) -> None:
    execute(db, "UPDATE rigenera.project_publication SET state = 'proposed' WHERE project_id = %s",
          (extra["draft"],))
    try:
        assert web.get(f"/progetti/{extra['draft']}?f=json").status_code == 404
    finally:
        execute(db, "UPDATE rigenera.project_publication SET state = 'draft' WHERE project_id = %s",
              (extra["draft"],))


def test_etag_and_304_on_page_and_twin(web: httpx.Client, db: str) -> None:
    pid = _published_milano_project(db)
    for url, headers in ((f"/progetti/{pid}", HTML), (f"/progetti/{pid}?f=json", {}),
                         (f"/comuni/{MILANO}", HTML), ("/statistiche", HTML)):
        first = web.get(url, headers=headers)
        assert first.status_code == 200
        etag = first.headers["etag"]
        assert first.headers["cache-control"].startswith("public")
        again = web.get(url, headers={**headers, "If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert web.get(url, headers=headers).headers["etag"] == etag, "the same bytes twice"


def test_open_graph_tags_and_canonical_url(web: httpx.Client, live: LiveServer, db: str,
                                           extra: dict[str, int]) -> None:
    pid = _published_milano_project(db)
    tags = meta(web.get(f"/progetti/{pid}", headers=HTML).text)
    title = query(db, "SELECT title FROM rigenera.projects WHERE id = %s", (pid,))[0][0]
    assert tags["og:title"] == title
    assert tags["og:url"] == tags["canonical"] == f"{live.url}/progetti/{pid}"
    assert tags["og:type"] == "article" and tags["og:description"]
    assert tags["twitter:card"] == "summary" and "og:image" not in tags
    point = meta(web.get(f"/progetti/{extra['point']}", headers=HTML).text)
    assert point["og:image"] == f"{live.url}/progetti/{extra['point']}/copertina"
    assert point["twitter:card"] == "summary_large_image"


def test_cover_photo_is_served_only_for_the_published_project(web: httpx.Client,
                                                              extra: dict[str, int]) -> None:
    r = web.get(f"/progetti/{extra['point']}/copertina")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content == PNG
    assert web.get(f"/progetti/{extra['point']}/copertina",
                   headers={"If-None-Match": r.headers["etag"]}).status_code == 304


def test_comune_point_project_says_its_location_is_approximate(
        web: httpx.Client, extra: dict[str, int], db: str) -> None:
    pid = extra["point"]
    r = web.get(f"/progetti/{pid}", headers=HTML)
    assert r.status_code == 200
    assert re.search(r'class="warning approximate"[^>]*>Posizione approssimativa', r.text)
    en = web.get(f"/progetti/{pid}?lang=en", headers=HTML)
    assert "Approximate location" in en.text and '<html lang="en">' in en.text
    twin = web.get(f"/progetti/{pid}?f=json").json()
    assert twin["location"]["approximate"] is True
    assert twin["location"]["geom_source"] == "comune_point"
    milano = web.get(f"/progetti/{_published_milano_project(db)}?f=json").json()
    assert milano["location"]["approximate"] is False


# ------------------------------------------------------------------------------- comune page
def test_comune_page_counts_the_published_projects_only(web: httpx.Client, db: str,
                                                        extra: dict[str, int]) -> None:
    (published,) = query(db, "SELECT count(*) FROM pub.projects WHERE published "
                             "AND %s = ANY (istat_codes)", (MILANO,))[0]
    (all_projects,) = query(db, "SELECT count(*) FROM rigenera.project_comuni "
                                "WHERE istat_code = %s", (MILANO,))[0]
    assert all_projects == published + 1, "the draft is in Milano"
    r = web.get(f"/comuni/{MILANO}", headers=HTML)
    assert r.status_code == 200
    assert f'data-projects="{published}"' in r.text
    assert DRAFT_TITLE not in r.text and f"/progetti/{extra['draft']}\"" not in r.text
    twin = web.get(f"/comuni/{MILANO}?f=json").json()
    assert twin["totals"]["projects"] == published == len(twin["projects"])
    assert extra["draft"] not in [p["id"] for p in twin["projects"]]
    (granted,) = query(db, """
        SELECT coalesce(sum(rigenera_share), 0) FROM (
          SELECT fl.amount_eur / (SELECT count(*) FROM rigenera.project_comuni x
                                   WHERE x.project_id = fl.project_id) AS rigenera_share
            FROM rigenera.funding_lines fl
            JOIN rigenera.project_comuni pc ON pc.project_id = fl.project_id AND pc.istat_code = %s
            JOIN rigenera.project_publication pp ON pp.project_id = fl.project_id
                 AND pp.state = 'published'
           WHERE fl.status = 'granted') s""", (MILANO,))[0]
    assert abs(Decimal(str(twin["totals"]["granted_eur"])) - granted) < Decimal("0.01") * 133
    population = query(db, "SELECT population FROM rigenera.comuni WHERE istat_code = %s",
                       (MILANO,))[0][0]
    assert twin["population"] == population
    # open needs come from pub.needs (no referent) through the matching service
    (open_needs,) = query(db, "SELECT count(*) FROM pub.needs WHERE istat_code = %s "
                              "AND status = 'open'", (MILANO,))[0]
    assert len(twin["needs"]) == open_needs
    assert "referent" not in json.dumps(twin["needs"])
    for e in twin["needs"]:
        for m in e["matches"]:
            assert m["reasons"] and all(x["it"] and x["en"] for x in m["reasons"])


def test_comune_page_404_for_bad_or_unknown_codes(web: httpx.Client) -> None:
    for code in ("12", "0151460", "abcdef", "999999"):
        assert web.get(f"/comuni/{code}", headers=HTML).status_code == 404
        assert web.get(f"/comuni/{code}?f=json").status_code == 404


# --------------------------------------------------------------------------- statistics page
STATS_SQL = """
    SELECT count(*),
           (SELECT coalesce(sum(fl.amount_eur), 0) FROM rigenera.funding_lines fl
              JOIN rigenera.project_publication pp ON pp.project_id = fl.project_id
             WHERE pp.state = 'published' AND fl.status = 'granted'),
           coalesce(sum(p.total_cost_eur), 0)
      FROM rigenera.projects p
      JOIN rigenera.project_publication pp ON pp.project_id = p.id AND pp.state = 'published'
"""


def test_statistics_totals_equal_sql_and_leave_out_drafts(web: httpx.Client, db: str,
                                                          extra: dict[str, int]) -> None:
    projects, granted, cost = query(db, STATS_SQL)[0]
    (everything,) = query(db, "SELECT count(*) FROM rigenera.projects")[0]
    (drafts,) = query(db, "SELECT count(*) FROM pub.projects WHERE NOT published")[0]
    assert drafts >= 1 and everything == projects + drafts  # the module's and the demo's
    twin = web.get("/statistiche?f=json").json()
    for t in twin["tables"]:
        assert t["totals"]["projects"] == projects, t["name"]
        assert Decimal(str(t["totals"]["granted_eur"])) == granted, t["name"]
        assert Decimal(str(t["totals"]["total_cost_eur"])) == cost, t["name"]
        if t["grouping"] != "programme":  # each project in one status, phase, year
            assert sum(r["projects"] for r in t["rows"]) == projects, t["name"]
    assert [t["grouping"] for t in twin["tables"]] == ["programme", "status", "phase", "year"]
    page = web.get("/statistiche", headers=HTML).text
    assert f'data-projects="{projects}"' in page and f'data-eur="{granted}"' in page
    assert 'role="img"' in page and "<desc" in page
    by_mission = web.get("/statistiche?f=json&livello=mission").json()
    assert by_mission["programme_level"] == "mission"
    assert web.get("/statistiche?livello=galassia", headers=HTML).status_code == 400


def test_statistics_downloads_carry_the_same_numbers_and_the_attribution(
        web: httpx.Client, db: str, extra: dict[str, int]) -> None:
    projects, granted, cost = query(db, STATS_SQL)[0]
    r = web.get("/statistiche/download/csv?lang=it")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    names = set(archive.namelist())
    assert {"by_programme.csv", "by_status.csv", "by_phase.csv", "by_year.csv", "README.txt"} <= names
    readme = archive.read("README.txt").decode()
    assert "Fonte dei dati: Prova (CC BY 4.0)" in readme and "CC BY 4.0" in readme
    assert "Demo Rigenera (dati inventati)" in readme
    assert "Solo i progetti pubblicati" in readme
    status_csv = archive.read("by_status.csv").decode().splitlines()
    header = status_csv[0].split(",")
    rows = [dict(zip(header, line.split(","), strict=False)) for line in status_csv[1:]]
    assert sum(int(row["projects"]) for row in rows if row["group"]) == projects
    assert sum(Decimal(row["granted_eur"]) for row in rows if row["group"]) == granted
    assert sum(Decimal(row["total_cost_eur"]) for row in rows if row["group"]) == cost

    x = web.get("/statistiche/download/xlsx?lang=en")
    assert x.status_code == 200 and "spreadsheetml" in x.headers["content-type"]
    book = load_workbook(io.BytesIO(x.content), read_only=True)
    cells = [c for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row
             if c is not None]
    assert any("Prova (CC BY 4.0)" in str(c) for c in cells), "the attribution is in the workbook"
    totals = [row for ws in book.worksheets if "status" in ws.title.lower()
              for row in ws.iter_rows(values_only=True) if row and row[1] == "Total"]
    assert totals, "a Total row in the by-status sheet"
    assert float(granted) in [float(c) for c in totals[0] if isinstance(c, int | float)]
    assert projects in totals[0]
    assert web.get("/statistiche/download/pdf").status_code == 404


# ------------------------------------------------------------------------------ in Chromium
@pytest.mark.parametrize("which", ["project", "approximate", "comune", "statistics"])
def test_pages_in_chromium_axe_screenshots_no_console_errors(
        browser_page: Any, live: LiveServer, db: str, extra: dict[str, int], which: str) -> None:
    from webtools import axe, screenshot

    url = {"project": f"/progetti/{_published_milano_project(db)}",
           "approximate": f"/progetti/{extra['point']}",
           "comune": f"/comuni/{MILANO}", "statistics": "/statistiche"}[which]
    page = browser_page
    for name, viewport in (("desktop", {"width": 1280, "height": 800}),
                           ("phone", {"width": 390, "height": 844})):
        page.set_viewport_size(viewport)
        response = page.goto(live.url + url)
        assert response.status == 200
        assert page.locator("h1").count() == 1
        assert axe(page) == [], (which, name)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1, \
            "no sideways scrolling of the page"
        screenshot(page, f"pages-{which}-{name}")
    if which == "project":
        total = query(db, "SELECT sum(amount_eur) FROM rigenera.funding_lines WHERE project_id "
                          "= %s", (_published_milano_project(db),))[0][0]
        shown = page.locator("#funding tfoot td").first.inner_text()
        assert shown.replace("\u202f", " ").replace("\xa0", " ") == eur_it(total)
    if which == "approximate":
        assert page.get_by_role("note").inner_text().startswith("Posizione approssimativa")
        assert page.evaluate("document.querySelector('.cover img').naturalWidth") > 0
    if which == "statistics":
        assert page.locator("svg.chart[role=img]").count() == 8
    assert page.errors == []
