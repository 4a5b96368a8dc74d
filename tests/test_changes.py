"""GET /api/changes: the change feed a client pulls to refresh what it checked out.

Expected answers are read from rigenera.history itself.
"""

import threading
import time

import psycopg2
import pytest

from conftest import basic, query

GEOJSON = {"Content-Type": "application/geo+json"}
SQUARE = {"type": "Polygon", "coordinates": [[[9.180, 45.460], [9.182, 45.460], [9.182, 45.461],
                                              [9.180, 45.461], [9.180, 45.460]]]}
PRIVATE = {"actor", "comment", "before", "after", "changeset", "geom_before", "geom_after"}


def feed(api, user="tecnico", **params):
    r = api.get("/api/changes", params=params, headers=basic(user))
    assert r.status_code == 200, r.text
    return r.json()


def history(db, collection, after=0):
    return query(db, "SELECT id, feature_id, operation, version FROM rigenera.history"
                     " WHERE collection = %s AND id > %s ORDER BY id", (collection, after))


def create_site(api, name="Area del feed"):
    r = api.post("/ogc/collections/sites/items", headers={**GEOJSON, **basic("admin")},
                 json={"type": "Feature", "geometry": SQUARE,
                       "properties": {"name": name, "state": "abandoned"}})
    assert r.status_code == 201, r.text
    return r.headers["location"].rsplit("/", 1)[1], r.headers["etag"]


def test_needs_an_account(api):
    r = api.get("/api/changes", params={"collection": "sites"})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
    for user in ("volontario", "tecnico", "coord"):  # any authenticated role
        assert api.get("/api/changes", params={"collection": "sites"},
                       headers=basic(user)).status_code == 200


def test_create_update_delete_appear_in_order_without_private_data(api, db):
    start = feed(api, collection="sites")["latest"]
    fid, etag = create_site(api)
    r = api.patch(f"/ogc/collections/sites/items/{fid}", json={"properties": {"owner": "Nuovo"}},
                  headers={"If-Match": etag, **basic("admin")})
    assert r.status_code == 204, r.text
    r = api.delete(f"/ogc/collections/sites/items/{fid}",
                   headers={"If-Match": r.headers["etag"], **basic("admin")})
    assert r.status_code in (200, 204), r.text
    doc = feed(api, collection="sites", after=start)
    assert doc["collection"] == "sites"
    mine = [(c["id"], c["operation"], c["version"]) for c in doc["changes"]]
    assert mine == [(fid, "create", 1), (fid, "update", 2), (fid, "delete", 2)]
    # Same as the history table, in seq order, and nothing private.
    assert [(c["seq"], c["id"], c["operation"], c["version"]) for c in doc["changes"]] == [
        tuple(r) for r in history(db, "sites", start)]
    for c in doc["changes"]:
        assert set(c) == {"seq", "id", "operation", "version", "at"}
        assert not PRIVATE & set(c)
        assert "T" in c["at"] and c["at"].endswith("+00:00")
    seqs = [c["seq"] for c in doc["changes"]]
    assert seqs == sorted(seqs)
    assert doc["last"] == seqs[-1] == doc["latest"]
    (top,) = query(db, "SELECT max(id) FROM rigenera.history WHERE collection = 'sites'")[0]
    assert doc["latest"] == top


def test_review_and_other_collections(api, db):
    start = feed(api, collection="sites")["latest"]
    stops_start = feed(api, collection="transit_stops")["latest"]
    fid, _ = create_site(api, "Area da rivedere")
    r = api.post(f"/api/review/sites/{fid}", json={"decision": "accept", "base_version": 1},
                 headers=basic("volontario"))
    assert r.status_code == 200, r.text
    ops = [c["operation"] for c in feed(api, collection="sites", after=start)["changes"]
           if c["id"] == fid]
    assert ops == ["create", "review"]
    # Another collection's feed does not see it.
    doc = feed(api, collection="transit_stops", after=stops_start)
    assert doc["changes"] == [] and doc["last"] == stops_start == doc["latest"]


def test_paging_with_limit_and_after(api, db):
    while len(history(db, "sites")) < 5:
        create_site(api, "Area per le pagine")
    rows = history(db, "sites")
    seen, after, pages = [], 0, 0
    while True:
        doc = feed(api, collection="sites", after=after, limit=2)
        assert len(doc["changes"]) <= 2
        seen += [c["seq"] for c in doc["changes"]]
        pages += 1
        if doc["last"] >= doc["latest"]:
            break
        assert doc["latest"] == rows[-1][0]  # known although the page is not the last
        after = doc["last"]
    assert seen == [r[0] for r in rows]
    assert pages == (len(rows) + 1) // 2
    # Beyond the end: nothing, and last/latest stay at `after`.
    far = rows[-1][0] + 1000
    assert feed(api, collection="sites", after=far) == {
        "collection": "sites", "changes": [], "last": far, "latest": far}


def test_comuni_have_no_changes(api):
    assert feed(api, collection="comuni", after=5) == {
        "collection": "comuni", "changes": [], "last": 5, "latest": 5}


@pytest.mark.parametrize(("params", "field"), [
    ({"collection": "sites", "after": "-1"}, "after"),
    ({"collection": "sites", "after": "abc"}, "after"),
    ({"collection": "sites", "after": "1.5"}, "after"),
    ({"collection": "sites", "after": str(2**63)}, "after"),
    ({"collection": "sites", "limit": "0"}, "limit"),
    ({"collection": "sites", "limit": "10001"}, "limit"),
    ({"collection": "sites", "limit": "dieci"}, "limit"),
    ({}, "collection"),
])
def test_bad_parameters_are_400_naming_them(api, params, field):
    r = api.get("/api/changes", params=params, headers=basic("tecnico"))
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == "InvalidParameterValue"
    assert body["description"].startswith(field)
    assert body["errors"][0]["field"] == field


def test_unknown_collection_is_404(api):
    r = api.get("/api/changes", params={"collection": "nope"}, headers=basic("tecnico"))
    assert r.status_code == 404 and r.json()["code"] == "NotFound"


def test_limit_bounds_are_accepted(api):
    assert len(feed(api, collection="sites", limit=1)["changes"]) == 1
    assert feed(api, collection="sites", limit=10000)["changes"]


def test_a_slow_writer_is_never_skipped(api, db):
    """A transaction that drew a lower history id but commits after a quicker one: the
    feed must not hand out the higher seq first (the client would skip the lower one)."""
    start = feed(api, collection="sites")["latest"]
    ids = [r[0] for r in query(db, "SELECT id FROM rigenera.sites ORDER BY id LIMIT 2")]
    slow = psycopg2.connect(db)
    try:
        with slow.cursor() as cur:
            cur.execute("SELECT set_config('rigenera.actor', 'lento', true)")
            cur.execute("UPDATE rigenera.sites SET owner = 'Lento' WHERE id = %s", (ids[0],))
        query(db, "UPDATE rigenera.sites SET owner = 'Veloce' WHERE id = %s RETURNING id", (ids[1],))
        answer = {}

        def pull():
            answer["doc"] = feed(api, collection="sites", after=start)
            answer["at"] = time.monotonic()

        puller = threading.Thread(target=pull)
        puller.start()
        time.sleep(0.5)
        assert puller.is_alive(), "the feed answered while a writer was in flight"
        committed = time.monotonic()
        slow.commit()
        puller.join(timeout=30)
    finally:
        slow.close()
    assert answer["at"] >= committed
    got = [(c["id"], c["operation"]) for c in answer["doc"]["changes"]]
    assert got == [(str(ids[0]), "update"), (str(ids[1]), "update")]
    assert [c["seq"] for c in answer["doc"]["changes"]] == [r[0] for r in history(db, "sites", start)]
