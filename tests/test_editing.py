"""Safe editing over OGC API Features Part 4: roles, versions, validation, history, changesets.

Each module gets its own database and server, so counts and versions are its own.
"""

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from conftest import MILANO, basic, checksum, query
from rigenera.auth import new_token

GEOJSON = {"Content-Type": "application/geo+json"}
SQUARE = {"type": "Polygon", "coordinates": [[[9.180, 45.460], [9.182, 45.460], [9.182, 45.461],
                                              [9.180, 45.461], [9.180, 45.460]]]}
def feature(**props):
    base = {"name": "Area di prova", "state": "abandoned", "former_use": "industrial"}
    return {"type": "Feature", "properties": {**base, **props}, "geometry": SQUARE}


def create_site(api, user="admin", **props):
    r = api.post("/ogc/collections/sites/items", json=feature(**props),
                 headers={**GEOJSON, **basic(user)})
    assert r.status_code == 201, r.text
    return r.headers["location"].rsplit("/", 1)[1], r.headers["etag"]


# ----------------------------------------------------------------------------- auth
def test_me_with_basic_and_bearer(api, db):
    assert api.get("/api/me").status_code == 401
    r = api.get("/api/me", headers=basic("tecnico"))
    assert r.json() == {"username": "tecnico", "role": "technician", "comuni": [MILANO]}
    token, digest = new_token()
    query(db, "INSERT INTO rigenera.tokens (username, token_hash, expires_at)"
              " VALUES ('coord', %s, now() + interval '1 day') RETURNING id", (digest,))
    r = api.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert r.json()["role"] == "coordinator"


def test_wrong_password_is_401_with_challenge(api):
    r = api.post("/ogc/collections/sites/items", json=feature(),
                 headers={**GEOJSON, **basic("admin", "sbagliata")})
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Basic")
    assert "password" in r.json()["description"]


def test_anonymous_and_volunteer_cannot_write(api, db):
    before = checksum(db)
    assert api.post("/ogc/collections/sites/items", json=feature(),
                    headers=GEOJSON).status_code == 401
    r = api.post("/ogc/collections/sites/items", json=feature(),
                 headers={**GEOJSON, **basic("volontario")})
    assert r.status_code == 403
    assert checksum(db) == before


@pytest.mark.parametrize(("user", "item", "allow"), [
    (None, False, {"GET", "HEAD", "OPTIONS"}),
    ("volontario", True, {"GET", "HEAD", "OPTIONS"}),
    ("tecnico", False, {"GET", "HEAD", "OPTIONS", "POST"}),
    ("admin", True, {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"}),
])
def test_options_allow_reflects_the_caller(api, user, item, allow):
    path = "/ogc/collections/sites/items" + ("/1" if item else "")
    r = api.options(path, headers=basic(user) if user else {})
    assert r.status_code == 204
    assert {m.strip() for m in r.headers["allow"].split(",")} == allow


def test_cli_user_and_token(live, db):
    rigenera = str(Path(sys.executable).parent / "rigenera")
    env = {"DATABASE_URL": db, "PATH": "/usr/bin:/bin"}
    out = subprocess.run([rigenera, "user", "add", "nuovo.tecnico", "--role", "technician",
                          "--comuni", MILANO, "--password-stdin"], input="password-sicura\n",
                         env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    bad = subprocess.run([rigenera, "user", "add", "x", "--role", "technician",
                          "--password-stdin"], input="password-sicura\n", env=env,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "comun" in bad.stderr
    token = subprocess.run([rigenera, "token", "issue", "nuovo.tecnico"], env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert token.startswith("rg_")
    stored = query(db, "SELECT token_hash FROM rigenera.tokens WHERE username = 'nuovo.tecnico'")
    assert token not in {r[0] for r in stored}  # only the hash is kept
    me = httpx.get(f"{live.url}/api/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["username"] == "nuovo.tecnico"
    (tid,) = query(db, "SELECT id FROM rigenera.tokens WHERE username = 'nuovo.tecnico'")[0]
    subprocess.run([rigenera, "token", "revoke", str(tid)], env=env, check=True,
                   capture_output=True)
    r = httpx.get(f"{live.url}/api/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


# ---------------------------------------------------------------------------- writes
def test_create_get_etag_and_history(api, db):
    fid, etag = create_site(api, name="Nuova area")
    r = api.get(f"/ogc/collections/sites/items/{fid}")
    assert r.status_code == 200 and r.headers["etag"] == etag == '"1"'
    assert r.json()["properties"]["validation_status"] == "to_validate"
    assert r.json()["properties"]["istat_code"] == MILANO  # derived from the geometry
    hist = api.get(f"/api/collections/sites/items/{fid}/history", headers=basic("admin")).json()
    (change,) = hist["changes"]
    assert change["operation"] == "create" and change["actor"] == "admin"
    assert change["after"]["name"] == "Nuova area"


def test_put_with_stale_if_match_is_412(api, db):
    fid, etag = create_site(api)
    url = f"/ogc/collections/sites/items/{fid}"
    ok = api.put(url, json=feature(name="Primo"), headers={**GEOJSON, **basic("admin"),
                                                           "If-Match": etag})
    assert ok.status_code == 204 and ok.headers["etag"] == '"2"'
    stale = api.put(url, json=feature(name="Secondo"), headers={**GEOJSON, **basic("admin"),
                                                                "If-Match": etag})
    assert stale.status_code == 412
    assert stale.json()["currentVersion"] == 2
    assert api.get(url).json()["properties"]["name"] == "Primo"


def test_put_missing_is_404_and_body_id_must_match(api, db):
    before = checksum(db)
    r = api.put("/ogc/collections/sites/items/99999999", json=feature(),
                headers={**GEOJSON, **basic("admin")})
    assert r.status_code == 404
    fid, _ = create_site(api)
    before = checksum(db)
    body = {**feature(), "id": 1234567}
    r = api.put(f"/ogc/collections/sites/items/{fid}", json=body,
                headers={**GEOJSON, **basic("admin")})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "id"
    assert checksum(db) == before


def test_patch_changes_only_what_is_sent(api, db):
    fid, etag = create_site(api, owner="Comune")
    r = api.patch(f"/ogc/collections/sites/items/{fid}", json={"properties": {"state": "underused"}},
                  headers={"Content-Type": "application/merge-patch+json", **basic("coord"),
                           "If-Match": etag})
    assert r.status_code == 204
    p = api.get(f"/ogc/collections/sites/items/{fid}").json()["properties"]
    assert p["state"] == "underused" and p["owner"] == "Comune" and p["name"] == "Area di prova"


def test_delete_with_if_match(api, db):
    fid, etag = create_site(api)
    url = f"/ogc/collections/sites/items/{fid}"
    assert api.delete(url, headers={**basic("admin"), "If-Match": '"7"'}).status_code == 412
    assert api.delete(url, headers={**basic("admin"), "If-Match": etag}).status_code == 204
    assert api.get(url).status_code == 404
    ops = [c["operation"] for c in api.get(f"/api/collections/sites/items/{fid}/history",
                                           headers=basic("admin")).json()["changes"]]
    assert ops == ["create", "delete"]


def test_content_crs_is_honoured(api, db):
    utm = {"type": "Point", "coordinates": [514000.0, 5034000.0]}
    r = api.post("/ogc/collections/transit_stops/items",
                 json={"type": "Feature", "geometry": utm,
                       "properties": {"mode": "bus", "name": "Fermata UTM"}},
                 headers={**GEOJSON, **basic("admin"),
                          "Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/32632>"})
    assert r.status_code == 201, r.text
    fid = r.headers["location"].rsplit("/", 1)[1]
    (dist,) = query(db, "SELECT ST_Distance(ST_Transform(geom, 32632),"
                        " ST_SetSRID(ST_MakePoint(514000, 5034000), 32632))"
                        " FROM rigenera.transit_stops WHERE id = %s", (fid,))[0]
    assert dist < 0.01
    r = api.post("/ogc/collections/transit_stops/items",
                 json={"type": "Feature", "geometry": utm, "properties": {"mode": "bus",
                                                                          "name": "x"}},
                 headers={**GEOJSON, **basic("admin"), "Content-Crs": "EPSG:9999"})
    assert r.status_code == 400


def test_technician_edits_only_in_their_comuni(api, db):
    fid, _ = create_site(api, user="tecnico")  # in Milano: allowed
    r = api.patch(f"/ogc/collections/sites/items/{fid}", json={"properties": {"owner": "x"}},
                  headers={"Content-Type": "application/merge-patch+json",
                           **basic("tecnico.sesto")})
    assert r.status_code == 403
    r = api.post("/ogc/collections/sites/items", json=feature(),
                 headers={**GEOJSON, **basic("tecnico.sesto")})
    assert r.status_code == 403


# ------------------------------------------------------------------------ validation
BAD_BODIES = [
    ("unknown property", feature(colour="red"), 400, "colour"),
    ("wrong enumeration", feature(state="ruined"), 400, "state"),
    ("missing required", {"type": "Feature", "properties": {"state": "abandoned"},
                          "geometry": SQUARE}, 400, "name"),
    ("line for a site", {**feature(), "geometry": {"type": "LineString",
                                                   "coordinates": [[9.18, 45.46], [9.19, 45.47]]}},
     400, "geometry"),
    ("bow-tie polygon", {**feature(), "geometry": {"type": "Polygon", "coordinates": [[
        [9.18, 45.46], [9.19, 45.47], [9.19, 45.46], [9.18, 45.47], [9.18, 45.46]]]}},
     422, "geometry"),
    ("outside the metro area", {**feature(), "geometry": {"type": "Point",
                                                          "coordinates": [12.49, 41.89]}},
     422, "geometry"),
    ("not a feature", {"type": "FeatureCollection", "features": []}, 400, "type"),
    ("number as name", feature(name=42), 400, "name"),
]


@pytest.mark.parametrize(("label", "body", "status", "field"), BAD_BODIES,
                         ids=[b[0] for b in BAD_BODIES])
def test_bad_features_are_refused_and_change_nothing(api, db, label, body, status, field):
    before = checksum(db)
    r = api.post("/ogc/collections/sites/items", json=body, headers={**GEOJSON, **basic("admin")})
    assert r.status_code == status, r.text
    assert field in {e["field"] for e in r.json()["errors"]}
    assert checksum(db) == before


@pytest.mark.parametrize(("content", "headers", "status"), [
    (b"{not json", GEOJSON, 400),
    (b'{"type": "Feature", "properties": {"name": NaN}, "geometry": null}', GEOJSON, 400),
    (json.dumps(feature()).encode(), {"Content-Type": "text/plain"}, 415),
    (b'{"type": "Feature", "properties": {"name": "' + b"x" * (6 * 1024 * 1024) + b'"}}',
     GEOJSON, 413),
])
def test_malformed_requests(api, db, content, headers, status):
    before = checksum(db)
    r = api.post("/ogc/collections/sites/items", content=content,
                 headers={**headers, **basic("admin")})
    assert r.status_code == status, r.text[:200]
    assert r.json()["description"]
    assert checksum(db) == before


@pytest.mark.parametrize(("props", "field"), [
    ({"cup": "NOT-A-CUP"}, "cup"), ({"total_cost_eur": -5}, "total_cost_eur"),
    ({"start_date": "2026-05-01", "end_date": "2025-01-01"}, "end_date"),
    ({"istat_codes": ["999999"]}, "istat_codes"),
])
def test_project_rules_from_the_database_name_the_field(api, db, props, field):
    before = checksum(db)
    body = {"type": "Feature", "geometry": None,
            "properties": {"title": "Progetto di prova", **props}}
    r = api.post("/ogc/collections/projects/items", json=body,
                 headers={**GEOJSON, **basic("admin")})
    assert r.status_code in (400, 422), r.text
    assert field in {e["field"] for e in r.json()["errors"]}
    assert checksum(db) == before


# ------------------------------------------------------------------------ changesets
def test_changeset_applies_everything_atomically(api, db):
    fid, _ = create_site(api)
    ops = [
        {"action": "create", "collection": "sites", "feature": feature(name="Da changeset"),
         "ref": "local-1"},
        {"action": "patch", "collection": "sites", "id": fid, "base_version": 1,
         "feature": {"properties": {"owner": "Changeset"}}},
        {"action": "create", "collection": "transit_stops", "ref": "local-2",
         "feature": {"type": "Feature", "properties": {"mode": "tram", "name": "T"},
                     "geometry": {"type": "Point", "coordinates": [9.19, 45.46]}}},
    ]
    r = api.post("/api/changesets", json={"operations": ops, "comment": "prova"},
                 headers=basic("admin"))
    assert r.status_code == 200, r.text
    applied = r.json()["applied"]
    assert [a["ref"] for a in applied] == ["local-1", 1, "local-2"]
    assert applied[1]["version"] == 2
    changesets = query(db, "SELECT count(DISTINCT changeset), count(*) FROM rigenera.history"
                           " WHERE comment = 'prova'")
    assert changesets == [(1, 3)]


def test_one_bad_feature_among_500_writes_nothing(api, db):
    before = checksum(db)
    ops = [{"action": "create", "collection": "sites", "ref": i,
            "feature": feature(name=f"Area {i}")} for i in range(500)]
    ops[321]["feature"]["properties"]["state"] = "ruined"
    ops[400]["feature"]["geometry"] = {"type": "Point", "coordinates": [12.49, 41.89]}
    r = api.post("/api/changesets", json={"operations": ops}, headers=basic("admin"))
    assert r.status_code == 422
    assert {p["ref"] for p in r.json()["problems"]} >= {321}
    assert checksum(db) == before


def test_changeset_conflict_is_409_with_current_version(api, db):
    fid, _ = create_site(api)
    ops = [{"action": "patch", "collection": "sites", "id": fid, "base_version": 5,
            "feature": {"properties": {"owner": "x"}}}]
    r = api.post("/api/changesets", json={"operations": ops}, headers=basic("admin"))
    assert r.status_code == 409
    (p,) = r.json()["problems"]
    assert p["status"] == 412 and p["currentVersion"] == 1


def test_revert_is_a_new_version_in_history(api, db):
    fid, _ = create_site(api, name="Versione uno")
    api.patch(f"/ogc/collections/sites/items/{fid}", json={"properties": {"name": "Versione due"}},
              headers={"Content-Type": "application/merge-patch+json", **basic("admin")})
    r = api.post(f"/api/collections/sites/items/{fid}/revert", json={"version": 1},
                 headers=basic("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 3
    assert api.get(f"/ogc/collections/sites/items/{fid}").json()["properties"]["name"] == \
        "Versione uno"
    ops = [c["operation"] for c in api.get(f"/api/collections/sites/items/{fid}/history",
                                           headers=basic("admin")).json()["changes"]]
    assert ops == ["create", "update", "revert"]


# ----------------------------------------------------------------------- concurrency
def test_concurrent_conflicting_edits_lose_nothing(live, db):
    """20 clients race PATCHes with If-Match on the same 50 features for a bounded time."""
    import random
    import threading
    import time

    ids = []
    with httpx.Client(base_url=live.url, timeout=30) as c:
        for i in range(50):
            r = c.post("/ogc/collections/sites/items", json=feature(name=f"Gara {i}"),
                       headers={**GEOJSON, **basic("admin")})
            ids.append(r.headers["location"].rsplit("/", 1)[1])
    accepted, refused, unexpected = [], [], []
    lock = threading.Lock()
    # At least 4 s and at least 120 attempts (a loaded machine must not make the race
    # too small to mean anything), at most 60 s.
    start = time.monotonic()

    def racing() -> bool:
        elapsed = time.monotonic() - start
        with lock:
            attempts = len(accepted) + len(refused) + len(unexpected)
        return elapsed < 60 and (elapsed < 4 or attempts < 120)

    def client(n):
        rnd = random.Random(n)
        with httpx.Client(base_url=live.url, timeout=30, headers=basic("coord")) as c:
            k = 0
            while racing():
                fid = rnd.choice(ids)
                etag = c.get(f"/ogc/collections/sites/items/{fid}").headers["etag"]
                token = f"c{n}-{k}"
                k += 1
                r = c.patch(f"/ogc/collections/sites/items/{fid}",
                            json={"properties": {"owner": token}},
                            headers={"Content-Type": "application/merge-patch+json",
                                     "If-Match": etag})
                with lock:
                    if r.status_code == 204:
                        accepted.append((fid, token, int(r.headers["etag"].strip('"'))))
                    elif r.status_code == 412:
                        refused.append((fid, token))
                    else:
                        unexpected.append((r.status_code, r.text[:200]))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not unexpected
    assert accepted and len(accepted) + len(refused) > 100
    rows = query(db, "SELECT feature_id, after->'properties'->>'owner', after->>'owner', version"
                     " FROM rigenera.history WHERE collection = 'sites' AND operation = 'update'"
                     " AND feature_id = ANY(%s)", (ids,))
    recorded = {(fid, owner or owner2, v) for fid, owner, owner2, v in rows}
    assert len(rows) == len(accepted)  # exactly one history row per accepted write
    assert recorded == set(accepted)
    refused_tokens = {t for _, t in refused}
    assert not refused_tokens & {o for _, o, _ in recorded}  # a refused write left no trace
    last = {}
    for fid, token, version in accepted:
        if version > last.get(fid, (0, None))[0]:
            last[fid] = (version, token)
    final = dict(query(db, "SELECT id::text, owner FROM rigenera.sites WHERE id::text = ANY(%s)",
                       (ids,)))
    for fid, (_, token) in last.items():
        assert final[fid] == token


def test_referents_never_reach_anonymous_callers(api, db):
    """Referents (names, phones, emails) are private: crawl every public route for a marker."""
    marker = "Riservatissimo Referente"
    query(db, "INSERT INTO rigenera.referents (istat_code, full_name, email, phone) VALUES"
              " (%s, %s, 'segreto.referente@example.org', '+39 02 0000000') RETURNING id",
          (MILANO, marker))
    query(db, "INSERT INTO rigenera.needs (istat_code, title, category, source, referent_id)"
              " SELECT %s, 'Bisogno con referente', 'housing', 'test', id FROM rigenera.referents"
              " WHERE full_name = %s RETURNING id", (MILANO, marker))
    paths = ["/ogc/", "/ogc/collections", "/ogc/conformance",
             "/api/deadlines/overdue", "/api/deadlines/overdue?f=csv",
             "/api/deadlines?within=365d", "/api/evaluation/comuni", "/api/reports/projects",
             f"/api/comuni/{MILANO}/matches"]
    for cid in ("comuni", "sites", "projects", "mobility_links", "transit_stops", "calls",
                "needs"):
        paths += [f"/ogc/collections/{cid}", f"/ogc/collections/{cid}/items?limit=10000",
                  f"/ogc/collections/{cid}/items?f=html", f"/ogc/collections/{cid}/queryables",
                  f"/ogc/collections/{cid}/schema"]
        if cid not in ("calls", "needs"):  # no tiles: calls have no place, needs are few
            paths.append(f"/ogc/collections/{cid}/tiles/WebMercatorQuad/10/366/538")
    for path in paths:
        r = api.get(path)
        assert r.status_code in (200, 204), (path, r.status_code)
        for secret in (marker, "segreto.referente", "referents", "referent_id"):
            assert secret.encode() not in r.content, (path, secret)
    # The API descriptions name the fields (a need's writable referent_id, the overdue list's
    # referents for accounts), never a referent.
    for path in ("/api/openapi.json", "/ogc/openapi?f=json"):
        r = api.get(path)
        for secret in (marker, "segreto.referente"):
            assert secret.encode() not in r.content, (path, secret)
    assert api.get("/ogc/collections/referents/items").status_code == 404


# ---------------------------------------------------------------------------- review
def test_review_queue_checks_accept_and_reject(api, db):
    a, _ = create_site(api, user="tecnico", name="Da rivedere A")
    shifted = {"type": "Polygon", "coordinates": [[[9.181, 45.4605], [9.183, 45.4605],
                                                   [9.183, 45.4615], [9.181, 45.4615],
                                                   [9.181, 45.4605]]]}
    r = api.post("/ogc/collections/sites/items",
                 json={**feature(name="Da rivedere B"), "geometry": shifted},
                 headers={**GEOJSON, **basic("tecnico")})
    b = r.headers["location"].rsplit("/", 1)[1]
    assert api.get("/api/review/queue").status_code == 401
    items = api.get("/api/review/queue", params={"istat_code": MILANO, "limit": 500},
                    headers=basic("volontario")).json()["items"]
    by_id = {str(i["id"]): i for i in items}
    assert a in by_id and b in by_id
    checks = by_id[b]["checks"]
    assert checks["valid"] and not checks["sliver"] and checks["area_plausible"]
    assert int(a) in checks["overlapping_sites"]
    assert checks["outside_comune_m"] == 0
    # a rejection needs a comment; the technician then sees it
    r = api.post(f"/api/review/sites/{b}", json={"decision": "reject"}, headers=basic("volontario"))
    assert r.status_code == 400
    r = api.post(f"/api/review/sites/{b}", json={"decision": "reject",
                                                 "comment": "Si sovrappone all'area A"},
                 headers=basic("volontario"))
    assert r.status_code == 200 and r.json()["validation_status"] == "rejected"
    rej = api.get("/api/review/rejections", headers=basic("tecnico")).json()["items"]
    assert any(str(x["id"]) == b and "sovrappone" in x["comment"] for x in rej)
    assert not api.get("/api/review/rejections", headers=basic("tecnico.sesto")).json()["items"]
    r = api.post(f"/api/review/sites/{a}", json={"decision": "accept", "base_version": 1},
                 headers=basic("volontario"))
    assert r.status_code == 200 and r.json()["version"] == 2
    hist = api.get(f"/api/collections/sites/items/{a}/history", headers=basic("admin")).json()
    assert hist["changes"][-1]["operation"] == "review"
    assert hist["changes"][-1]["actor"] == "volontario"
    # technicians do not review; volunteers do not edit geometries
    assert api.post(f"/api/review/sites/{a}", json={"decision": "accept"},
                    headers=basic("tecnico")).status_code == 403
    r = api.patch(f"/ogc/collections/sites/items/{a}", json={"geometry": shifted},
                  headers={"Content-Type": "application/merge-patch+json",
                           **basic("volontario")})
    assert r.status_code == 403


def test_changed_geometry_goes_back_to_review(api, db):
    fid, _ = create_site(api)
    api.post(f"/api/review/sites/{fid}", json={"decision": "accept"}, headers=basic("coord"))
    url = f"/ogc/collections/sites/items/{fid}"
    api.patch(url, json={"properties": {"owner": "solo attributi"}},
              headers={"Content-Type": "application/merge-patch+json", **basic("admin")})
    assert api.get(url).json()["properties"]["validation_status"] == "validated"
    moved = {"type": "Point", "coordinates": [9.185, 45.465]}
    api.patch(url, json={"geometry": moved},
              headers={"Content-Type": "application/merge-patch+json", **basic("admin")})
    assert api.get(url).json()["properties"]["validation_status"] == "to_validate"


def test_large_changeset_takes_the_batch_path_with_history(api, db):
    """Hundreds of updates: applied set-wise, still one history row each, versions exact."""
    ids = []
    for i in range(60):
        fid, _ = create_site(api, name=f"Lotto {i}")
        ids.append(fid)
    moved = {"type": "Point", "coordinates": [9.186, 45.466]}
    ops = [{"action": "patch", "collection": "sites", "id": fid, "base_version": 1,
            "feature": {"properties": {"owner": f"Proprietario {fid}"},
                        **({"geometry": moved} if n % 2 else {})}}
           for n, fid in enumerate(ids)]
    r = api.post("/api/changesets", json={"operations": ops, "comment": "lotti"},
                 headers=basic("tecnico"))
    assert r.status_code == 200, r.text
    assert {a["version"] for a in r.json()["applied"]} == {2}
    rows = query(db, "SELECT s.owner, s.version, s.validation_status, ST_AsText(s.geom)"
                     " FROM rigenera.sites s WHERE s.id::text = ANY(%s) ORDER BY s.id", (ids,))
    assert all(owner.startswith("Proprietario") and version == 2 for owner, version, _, _ in rows)
    assert sum(1 for *_, wkt in rows if wkt == "POINT(9.186 45.466)") == 30
    (n,) = query(db, "SELECT count(*) FROM rigenera.history WHERE comment = 'lotti'")[0]
    assert n == 60
    # the same changeset again, now stale: refused whole, every conflict listed
    r = api.post("/api/changesets", json={"operations": ops}, headers=basic("tecnico"))
    assert r.status_code == 409
    assert len(r.json()["problems"]) == 60
