"""Request ids, /metrics, /livez and /readyz, security headers and CORS (issue 13).

The app is the factory's, served over real HTTP on a database of the module's own (demo
data, one account per role). Metrics are read from /metrics as a scraper reads them, and
compared as differences (the process's registry is shared by the session's servers).
Logs and several processes: tests/test_observability_processes.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import PASSWORD, LiveServer, basic, query
from rigenera.auth import new_token
from rigenera.migrate import available

GEOJSON = {"Content-Type": "application/geo+json"}
MERGE = {"Content-Type": "application/merge-patch+json"}
SITE = {"type": "Feature", "properties": {"name": "Area osservata", "state": "abandoned"},
        "geometry": {"type": "Point", "coordinates": [9.19, 45.46]}}
ELSEWHERE = {"X-Forwarded-For": "198.51.100.77"}  # uvicorn trusts 127.0.0.1 as a proxy


def samples(client: httpx.Client, headers: dict[str, str] | None = None
            ) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    r = client.get("/metrics", headers=headers or {})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(all_samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str,
          **labels: str) -> float:
    return all_samples.get((name, frozenset(labels.items())), 0.0)


# ----------------------------------------------------------------------------- request ids
def test_request_id_is_generated_kept_when_well_formed_and_replaced_when_not(api):
    generated = {api.get("/livez").headers["x-request-id"] for _ in range(3)}
    assert len(generated) == 3 and all(re.fullmatch(r"[0-9a-f]{32}", g) for g in generated)
    given = "proxy-7f3a9c2e.42"
    assert api.get("/livez", headers={"X-Request-ID": given}).headers["x-request-id"] == given
    # Errors carry it too (an unknown route, a refused write).
    assert api.get("/nessuna-pagina", headers={"X-Request-ID": given}
                   ).headers["x-request-id"] == given
    for bad in ("mario.rossi@example.it", "a b", "x" * 129, "<script>", "-leading"):
        rid = api.get("/livez", headers={"X-Request-ID": bad}).headers["x-request-id"]
        assert rid != bad and re.fullmatch(r"[0-9a-f]{32}", rid), (bad, rid)


# ----------------------------------------------------------------------------------- metrics
def test_metrics_count_requests_by_route_template_never_by_raw_path(api, db):
    (site_id,) = query(db, "SELECT id FROM rigenera.sites ORDER BY id LIMIT 1")[0]
    before = samples(api)
    for _ in range(3):
        assert api.get(f"/ogc/collections/sites/items/{site_id}").status_code == 200  # fast path
    assert api.get("/ogc/collections/sites/items", params={"limit": 2}).status_code == 200
    assert api.get("/ogc/collections/sites", params={"f": "json"}).status_code == 200  # pygeoapi
    assert api.get("/ogc/collections/sites/tiles/WebMercatorQuad/10/367/538"
                   ).status_code in (200, 204)
    assert api.get(f"/api/collections/sites/items/{site_id}/history",
                   headers=basic("admin")).status_code == 200
    assert api.get("/static/nessun-file.js").status_code == 404
    for n in range(2):
        assert api.get(f"/percorso-inesistente-{n}").status_code == 404
    after = samples(api)
    total = "rigenera_http_requests_total"

    def delta(route: str, status: str = "200") -> float:
        return (value(after, total, route=route, method="GET", status=status)
                - value(before, total, route=route, method="GET", status=status))

    assert delta("/ogc/collections/{collection_id}/items/{item_id}") == 3
    assert delta("/ogc/collections/{collection_id}/items") == 1
    assert delta("/ogc/collections/{collection_id}") == 1
    tile = "/ogc/collections/{collection_id}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"
    assert delta(tile) + delta(tile, "204") == 1
    assert delta("/api/collections/{cid}/items/{fid}/history") == 1
    assert delta("/static/{path}", "404") == 1
    assert delta("(unmatched)", "404") == 2
    routes = {dict(labels).get("route") for (_, labels) in after} - {None}
    assert not [r for r in routes if str(site_id) in r or "inesistente" in r or "nessun" in r]
    latency = "rigenera_http_request_duration_seconds_count"
    assert (value(after, latency, route="/ogc/collections/{collection_id}/items/{item_id}",
                  method="GET")
            - value(before, latency, route="/ogc/collections/{collection_id}/items/{item_id}",
                    method="GET")) == 3


def test_metrics_count_edits_conflicts_failed_logins_and_page_cache(api, db):
    before = samples(api)
    r = api.post("/ogc/collections/sites/items", json=SITE, headers={**GEOJSON, **basic("admin")})
    assert r.status_code == 201, r.text
    location, etag = r.headers["location"], r.headers["etag"]
    assert api.patch(location, json={"properties": {"name": "Area osservata 2"}},
                     headers={**MERGE, **basic("admin"), "If-Match": etag}).status_code == 204
    # The same stale version again: somebody else (we) changed it first.
    stale = api.patch(location, json={"properties": {"name": "Area osservata 3"}},
                      headers={**MERGE, **basic("admin"), "If-Match": etag})
    assert stale.status_code == 412
    fid = location.rsplit("/", 1)[1]
    conflict = api.post("/api/changesets", headers=basic("admin"), json={"operations": [
        {"action": "patch", "collection": "sites", "id": fid, "base_version": 1,
         "feature": {"properties": {"name": "vecchia"}}}]})
    assert conflict.status_code == 409, conflict.text
    wrong = {**basic("coord", "password-sbagliata"), **ELSEWHERE}
    assert api.get("/api/me", headers=wrong).status_code == 401
    token, _ = new_token()
    assert api.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    (project,) = query(db, "SELECT id FROM pub.projects ORDER BY id LIMIT 1")[0]
    for _ in range(2):
        assert api.get(f"/progetti/{project}", headers={"Accept": "text/html"}).status_code == 200
    after = samples(api)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("rigenera_edits_total", collection="sites", operation="create") == 1
    assert delta("rigenera_edits_total", collection="sites", operation="patch") == 1
    assert delta("rigenera_edit_conflicts_total", kind="version") == 1
    assert delta("rigenera_edit_conflicts_total", kind="changeset") == 1
    assert delta("rigenera_login_failures_total", reason="credentials") == 1
    assert delta("rigenera_login_failures_total", reason="token") == 1
    hits = delta("rigenera_cache_requests_total", cache="pages", result="hit")
    misses = delta("rigenera_cache_requests_total", cache="pages", result="miss")
    assert hits + misses == 2 and hits >= 1
    # The database pools, sampled at the scrape: what asyncpg holds, none above its size.
    for pool in ("primary-read", "primary-write"):
        size = value(after, "rigenera_db_pool_connections", pool=pool)
        in_use = value(after, "rigenera_db_pool_in_use", pool=pool)
        assert size >= 1 and 0 <= in_use <= size, (pool, size, in_use)
    assert query(db, "SELECT version FROM rigenera.sites WHERE id = %s", (int(fid),)) == [(2,)]


def test_metrics_are_for_the_host_itself_or_the_metrics_token(db, tmp_path_factory, api):
    r = api.get("/metrics", headers=ELSEWHERE)
    assert r.status_code == 403 and r.json()["errors"][0]["field"] == "Authorization"
    secret = "token-delle-metriche-0123456789"
    live = LiveServer(db, tmp_path_factory.mktemp("metrics"), metrics_token=secret).start()
    try:
        with httpx.Client(base_url=live.url, timeout=30) as c:
            assert c.get("/metrics", headers={**ELSEWHERE,
                                              "Authorization": f"Bearer {secret}"}).status_code == 200
            for bad in (f"Bearer {secret}x", f"Basic {secret}", secret, ""):
                r = c.get("/metrics", headers={**ELSEWHERE, "Authorization": bad})
                assert r.status_code == 403, bad
            assert c.get("/metrics").status_code == 200  # loopback
    finally:
        live.stop()
    off = LiveServer(db, tmp_path_factory.mktemp("nometrics"), metrics=False).start()
    try:
        assert httpx.get(f"{off.url}/metrics").status_code == 404
    finally:
        off.stop()


# ------------------------------------------------------------------- liveness and readiness
def test_livez_and_readyz(api, db):
    r = api.get("/livez")
    assert r.status_code == 200 and r.json()["status"] == "alive"
    r = api.get("/readyz")
    assert r.status_code == 200, r.text
    doc = r.json()
    latest = max(m.version for m in available())
    assert doc["status"] == "ready" and doc["database"] == "ok"
    assert doc["schema_version"] == doc["schema_expected"] == latest
    (applied,) = query(db, "SELECT max(version) FROM rigenera.schema_migrations")[0]
    assert applied == latest
    assert api.get("/healthz").json()["status"] == "ok"  # kept as it was


def test_readyz_is_503_with_the_reason_when_the_schema_is_not_this_codes(db, api):
    """A database migrated by a newer release (a rollback of the code): not ready."""
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO rigenera.schema_migrations (version, name, checksum)"
                    " VALUES (9999, 'from_the_future', 'x')")
    conn.close()
    try:
        r = api.get("/readyz")
        assert r.status_code == 503 and r.headers["retry-after"].isdigit()
        doc = r.json()
        assert doc["status"] == "not ready" and doc["schema_version"] == 9999
        assert any("newer" in reason for reason in doc["reasons"]), doc
        assert api.get("/livez").status_code == 200
    finally:
        with psycopg2.connect(db) as conn, conn.cursor() as cur:
            cur.execute("DELETE FROM rigenera.schema_migrations WHERE version = 9999")
        conn.close()
    assert api.get("/readyz").status_code == 200


# ------------------------------------------------------------------------ security headers
def test_security_headers_and_the_two_content_security_policies(api, db):
    page = api.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe" not in csp
    ogc = api.get("/ogc/collections", params={"f": "html"})
    assert ogc.status_code == 200 and ogc.headers["content-type"].startswith("text/html")
    loose = ogc.headers["content-security-policy"]
    assert "https://unpkg.com" in loose and "frame-ancestors 'none'" in loose
    data = api.get("/ogc/collections/sites/items", params={"limit": 1})
    assert "content-security-policy" not in data.headers  # not a page
    for r in (page, ogc, data, api.get("/nessuna-pagina"), api.get("/static/css/rigenera.css")):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"]
        assert "strict-transport-security" not in r.headers  # plain http


def test_hsts_only_behind_https(db, tmp_path_factory):
    live = LiveServer(db, tmp_path_factory.mktemp("hsts"),
                      public_url="https://rigenera.example.org").start()
    try:
        r = httpx.get(f"{live.url}/livez")
        assert r.headers["strict-transport-security"] == "max-age=31536000"
    finally:
        live.stop()


# ------------------------------------------------------------------------------------ CORS
ORIGIN = "https://mappe.altro-ente.example"


def preflight(client: httpx.Client, path: str, method: str, origin: str = ORIGIN,
              headers: str | None = None) -> httpx.Response:
    h = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        h["Access-Control-Request-Headers"] = headers
    return client.options(path, headers=h)


def cors_headers(r: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in r.headers.items() if k.lower().startswith("access-control-")}


def test_cors_reads_allowed_from_any_origin_without_credentials_writes_never(api, db):
    items = "/ogc/collections/sites/items"
    r = preflight(api, items, "GET", headers="accept, if-none-match")
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["access-control-allow-methods"] == "GET, HEAD"
    assert "access-control-allow-credentials" not in r.headers
    r = api.get(items, params={"limit": 1}, headers={"Origin": ORIGIN})
    assert r.headers["access-control-allow-origin"] == "*"
    assert "ETag" in r.headers["access-control-expose-headers"]
    (site_id,) = query(db, "SELECT id FROM rigenera.sites ORDER BY id LIMIT 1")[0]
    for path, method in ((f"{items}/{site_id}", "PATCH"), (items, "POST"),
                         (f"{items}/{site_id}", "DELETE"), ("/api/changesets", "POST"),
                         (f"{items}/{site_id}", "PUT")):
        r = preflight(api, path, method)
        assert r.status_code == 403, (path, method)
        assert cors_headers(r) == {}, (path, method, cors_headers(r))
        assert r.json()["errors"][0]["field"] == "Access-Control-Request-Method"
    # Credentials cannot ride along on a read either.
    r = preflight(api, "/api/me", "GET", headers="authorization")
    assert r.status_code == 403 and cors_headers(r) == {}
    # A write sent anyway (no preflight: a form post) gets no CORS header to read its answer.
    r = api.post("/api/changesets", headers={"Origin": ORIGIN, **basic("volontario")},
                 json={"operations": []})
    assert cors_headers(r) == {}
    # Without Origin (QGIS, scripts) nothing changes: OPTIONS is the route's own.
    assert cors_headers(api.options(items)) == {}


def test_cors_origins_setting_names_the_sites_allowed_and_can_close_it(db, tmp_path_factory):
    live = LiveServer(db, tmp_path_factory.mktemp("cors"), cors_origins=[ORIGIN]).start()
    closed = LiveServer(db, tmp_path_factory.mktemp("nocors"), cors_origins=[]).start()
    try:
        with httpx.Client(base_url=live.url) as c:
            r = preflight(c, "/ogc/collections", "GET")
            assert r.status_code == 204 and r.headers["access-control-allow-origin"] == ORIGIN
            assert "Origin" in r.headers["vary"]
            r = c.get("/ogc/collections", headers={"Origin": ORIGIN})
            assert r.headers["access-control-allow-origin"] == ORIGIN
            assert "Origin" in r.headers["vary"]
            other = "https://altro.example"
            assert preflight(c, "/ogc/collections", "GET", origin=other).status_code == 403
            assert cors_headers(c.get("/ogc/collections", headers={"Origin": other})) == {}
        with httpx.Client(base_url=closed.url) as c:
            assert preflight(c, "/ogc/collections", "GET").status_code == 403
            assert cors_headers(c.get("/ogc/collections", headers={"Origin": ORIGIN})) == {}
    finally:
        live.stop()
        closed.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from webtools import CHROMIUM, launch

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: scripts/bootstrap-browser.sh installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


def test_cors_in_chromium_another_sites_page_reads_but_cannot_write(browser, live, db,
                                                                    tmp_path_factory):
    """A page of another origin (a second server: another port is another origin) fetches
    our items and tiles, and tries a PATCH with credentials: Chromium's own preflight."""
    from webtools import watch

    other = LiveServer(db, tmp_path_factory.mktemp("other")).start()
    (site_id,) = query(db, "SELECT id FROM rigenera.sites ORDER BY id LIMIT 1")[0]
    before = query(db, "SELECT version FROM rigenera.sites WHERE id = %s", (site_id,))
    try:
        page = watch(browser.new_page())  # type: ignore[attr-defined]
        page.goto(f"{other.url}/livez")
        result = page.evaluate("""async ([base, id, auth]) => {
            const out = {};
            const r = await fetch(`${base}/ogc/collections/sites/items?limit=2`);
            out.read = [r.status, (await r.json()).features.length, r.headers.get('etag') !== null,
                        r.headers.get('x-request-id') !== null];
            try {
                const w = await fetch(`${base}/ogc/collections/sites/items/${id}`, {
                    method: 'PATCH', headers: {'Content-Type': 'application/merge-patch+json',
                    'Authorization': auth}, body: JSON.stringify({properties: {name: 'x'}})});
                out.write = w.status;
            } catch (e) { out.write = String(e); }
            try {
                const m = await fetch(`${base}/api/me`, {headers: {'Authorization': auth}});
                out.me = m.status;
            } catch (e) { out.me = String(e); }
            return out;
        }""", [live.url, str(site_id), basic("admin", PASSWORD)["Authorization"]])
        page.close()
    finally:
        other.stop()
    assert result["read"] == [200, 2, True, True], result
    assert "Failed to fetch" in str(result["write"]), result  # refused at the preflight
    assert "Failed to fetch" in str(result["me"]), result
    assert query(db, "SELECT version FROM rigenera.sites WHERE id = %s", (site_id,)) == before


def test_pygeoapi_pages_and_the_api_docs_meet_their_policy_in_chromium(browser, live, db):
    """Their CDN scripts, styles and inline scripts are allowed by their looser policy:
    Chromium reports no CSP violation (the CDNs themselves may be unreachable from here:
    Chromium checks the policy before any request, so only violations are counted)."""
    (site_id,) = query(db, "SELECT id FROM rigenera.sites ORDER BY id LIMIT 1")[0]
    violations: list[str] = []
    page = browser.new_page()  # type: ignore[attr-defined]
    page.on("console", lambda m: violations.append(m.text)
            if "Content Security Policy" in m.text else None)
    page.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                         "console.error('Content Security Policy: ' + e.violatedDirective"
                         " + ' ' + e.blockedURI))")
    for path in ("/ogc/?f=html", "/ogc/collections?f=html", "/ogc/collections/sites?f=html",
                 "/ogc/collections/sites/items?f=html&limit=5",
                 f"/ogc/collections/sites/items/{site_id}?f=html", "/ogc/processes?f=html",
                 "/api/docs"):
        r = page.goto(f"{live.url}{path}", wait_until="load")
        assert r is not None and r.status == 200, path
        assert "unpkg.com" in r.headers["content-security-policy"], path
        page.wait_for_timeout(300)
    assert violations == []
    # The watch works: an inline script added to a page of the website is a violation.
    page.goto(f"{live.url}/", wait_until="load")
    page.evaluate("() => { const s = document.createElement('script'); s.textContent = "
                  "'window.x = 1'; document.body.appendChild(s); }")
    page.wait_for_timeout(300)
    page.close()
    assert violations and all("script-src" in v for v in violations), violations


def test_a_dead_workers_pool_gauges_leave_the_sum(tmp_path, monkeypatch):
    """Several workers (multiprocess mode): a worker that died and was replaced must not
    keep its last pool sizes in the summed gauges (routes/metrics.py)."""
    import subprocess
    import sys

    from rigenera.routes import metrics as metrics_route

    folder = tmp_path / "metrics"
    folder.mkdir()
    script = ("from rigenera import metrics; metrics.POOL_SIZE.labels('primary-read').set(7);"
              " metrics.REQUESTS.labels('/x', 'GET', '200').inc()")
    env = {**__import__("os").environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    subprocess.run([sys.executable, "-c", script], env=env, check=True)  # lives, then dies
    assert list(folder.glob("gauge_livesum_*.db"))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    text = metrics_route.exposition().decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    gauge = families.get("rigenera_db_pool_connections")
    pool = [s.value for s in (gauge.samples if gauge else [])
            if s.labels.get("pool") == "primary-read"]
    assert pool in ([], [0.0]), pool  # its live gauge is gone
    requests = [s.value for s in families["rigenera_http_requests"].samples
                if s.labels.get("route") == "/x" and s.name.endswith("_total")]
    assert requests == [1.0]  # counters of a dead worker still count (they happened)
    assert not list(folder.glob("gauge_livesum_*.db"))
