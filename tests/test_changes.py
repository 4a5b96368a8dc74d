"""GET /api/changes: the change feed a client pulls to refresh what it checked out.

Expected answers are read from rigenera.history itself.
"""

import threading
import time

import httpx
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


def history(db, collection, after="0:0"):
    """The feed's rows read from the table itself: (xid, id) order, reconstructed ones out."""
    xid, hid = after.split(":")
    return query(db, "SELECT id, feature_id, operation, version, xid::text || ':' || id"
                     " FROM rigenera.history WHERE collection = %s AND NOT reconstructed"
                     " AND (xid, id) > (%s::xid8, %s::bigint) ORDER BY xid, id",
                 (collection, xid, int(hid)))


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
    # Same as the history table, in (transaction, id) order, and nothing private.
    assert [(c["seq"], c["id"], c["operation"], c["version"], c["cursor"])
            for c in doc["changes"]] == [tuple(r) for r in history(db, "sites", start)]
    for c in doc["changes"]:
        assert set(c) == {"seq", "cursor", "id", "operation", "version", "at"}
        assert not PRIVATE & set(c)
        assert "T" in c["at"] and c["at"].endswith("+00:00")
    seqs = [c["seq"] for c in doc["changes"]]
    assert seqs == sorted(seqs)  # one writer after the other: ids in order too
    assert doc["last"] == doc["changes"][-1]["cursor"] == doc["latest"]
    (top,) = query(db, "SELECT xid::text || ':' || id FROM rigenera.history"
                       " WHERE collection = 'sites' ORDER BY xid DESC, id DESC LIMIT 1")[0]
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
    seen, after, pages = [], "", 0
    while True:
        doc = feed(api, collection="sites", after=after, limit=2)
        assert len(doc["changes"]) <= 2
        seen += [c["seq"] for c in doc["changes"]]
        pages += 1
        if doc["last"] == doc["latest"]:
            break
        assert doc["latest"] == rows[-1][4]  # known although the page is not the last
        after = doc["last"]
    assert seen == [r[0] for r in rows]
    assert pages == (len(rows) + 1) // 2
    # Beyond the end: nothing, and last/latest stay at `after`.
    xid, hid = rows[-1][4].split(":")
    far = f"{xid}:{int(hid) + 1000}"
    assert feed(api, collection="sites", after=far) == {
        "collection": "sites", "changes": [], "last": far, "latest": far}


def test_comuni_have_no_changes(api):
    assert feed(api, collection="comuni", after="7:5") == {
        "collection": "comuni", "changes": [], "last": "7:5", "latest": "7:5"}


def test_old_integer_cursors_still_work(api, db):
    """Working copies made before cursors carried the transaction hold a history id: it is
    the cursor "0:<id>", and the answer hands back cursors of the new kind."""
    rows = history(db, "sites")
    legacy = feed(api, collection="sites", after=str(rows[0][0]))
    assert legacy == feed(api, collection="sites", after=f"0:{rows[0][0]}")
    assert [c["seq"] for c in legacy["changes"]] == [r[0] for r in rows]  # all after xid 0
    assert legacy["last"] == rows[-1][4]
    assert feed(api, collection="sites", after="0")["changes"] == feed(api, collection="sites")[
        "changes"]


@pytest.mark.parametrize(("params", "field"), [
    ({"collection": "sites", "after": "-1"}, "after"),
    ({"collection": "sites", "after": "abc"}, "after"),
    ({"collection": "sites", "after": "1.5"}, "after"),
    ({"collection": "sites", "after": str(2**63)}, "after"),
    ({"collection": "sites", "after": f"1:{2**63}"}, "after"),
    ({"collection": "sites", "after": f"{2**64}:1"}, "after"),
    ({"collection": "sites", "after": "1:"}, "after"),
    ({"collection": "sites", "after": ":1"}, "after"),
    ({"collection": "sites", "after": "1:2:3"}, "after"),
    ({"collection": "sites", "after": "١:٢"}, "after"),  # Arabic-Indic digits
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




# ------------------------------------------------------------- writers and the feed
def _timed_feed(api, **params):
    t0 = time.monotonic()
    doc = feed(api, **params)
    return doc, time.monotonic() - t0


def _writer(db, actor):
    """A connection whose transaction stays open until the test commits it."""
    conn = psycopg2.connect(db)
    with conn.cursor() as cur:
        cur.execute("SELECT set_config('rigenera.actor', %s, true)", (actor,))
    return conn


def _update_owner(conn, fid, owner):
    with conn.cursor() as cur:
        cur.execute("UPDATE rigenera.sites SET owner = %s WHERE id = %s", (owner, fid))


def test_an_open_writer_does_not_block_the_feed_and_is_delivered_after_commit(api, db):
    start = feed(api, collection="sites")["latest"]
    (fid,) = query(db, "SELECT id FROM rigenera.sites ORDER BY id LIMIT 1")[0]
    slow = _writer(db, "lento")
    try:
        _update_owner(slow, fid, "Scritto lentamente")
        doc, took = _timed_feed(api, collection="sites", after=start)
        assert took < 1.0, f"the feed waited {took:.1f} s for a writer"
        assert doc["changes"] == [] and doc["last"] == start == doc["latest"]
        slow.commit()
    finally:
        slow.close()
    doc = feed(api, collection="sites", after=start)
    assert [(c["id"], c["operation"]) for c in doc["changes"]] == [(str(fid), "update")]
    assert [c["seq"] for c in doc["changes"]] == [r[0] for r in history(db, "sites", start)]


def test_a_lower_id_committed_later_is_never_skipped(api, db):
    """The transaction that began first (`older`) writes its history row after a younger one
    (`younger`) drew a lower id, and commits first. The feed hands out the older's change at
    once; the younger's lower id, committed later, must still come after that cursor."""
    start = feed(api, collection="sites")["latest"]
    a, b = [r[0] for r in query(db, "SELECT id FROM rigenera.sites ORDER BY id LIMIT 2")]
    older, younger = _writer(db, "vecchia"), _writer(db, "giovane")
    try:
        with older.cursor() as cur:
            cur.execute("SELECT pg_current_xact_id()")  # its transaction id comes first
        _update_owner(younger, a, "Giovane")  # draws the lower history id
        _update_owner(older, b, "Vecchia")
        older.commit()
        doc, took = _timed_feed(api, collection="sites", after=start)
        assert took < 1.0, f"the feed waited {took:.1f} s for a writer"
        assert [(c["id"], c["operation"]) for c in doc["changes"]] == [(str(b), "update")]
        younger.commit()
    finally:
        older.close()
        younger.close()
    later = feed(api, collection="sites", after=doc["last"])
    assert [(c["id"], c["operation"]) for c in later["changes"]] == [(str(a), "update")]
    assert later["changes"][0]["seq"] < doc["changes"][0]["seq"]  # lower id, delivered later
    assert [c["seq"] for c in doc["changes"] + later["changes"]] == [
        r[0] for r in history(db, "sites", start)]


def test_writers_never_wait_for_feed_readers(api, db, live):
    """Feed requests in a loop while one writer keeps a transaction open: other writers and
    the feed itself answer at once (a feed that waits for writers makes the writers queued
    behind it wait too)."""
    fids = [r[0] for r in query(db, "SELECT id FROM rigenera.sites ORDER BY id LIMIT 6")]
    stop = threading.Event()
    feed_times, failures = [], []

    def readers():
        with httpx.Client(base_url=live.url, timeout=60) as client:
            while not stop.is_set():
                t0 = time.monotonic()
                r = client.get("/api/changes", params={"collection": "sites"},
                               headers=basic("tecnico"))
                feed_times.append(time.monotonic() - t0)
                if r.status_code != 200:
                    failures.append(r.status_code)

    slow = _writer(db, "lento")
    pool = [threading.Thread(target=readers) for _ in range(3)]
    write_times = []
    try:
        _update_owner(slow, fids[0], "Transazione lunga")
        for t in pool:
            t.start()
        time.sleep(0.3)
        for i, fid in enumerate(fids[1:]):
            version = api.get(f"/ogc/collections/sites/items/{fid}").headers["etag"]
            t0 = time.monotonic()
            r = api.patch(f"/ogc/collections/sites/items/{fid}",
                          json={"properties": {"owner": f"Scrittore {i}"}},
                          headers={"If-Match": version, **basic("admin")})
            write_times.append(time.monotonic() - t0)
            assert r.status_code == 204, r.text
        slow.commit()
    finally:
        stop.set()
        for t in pool:
            t.join(timeout=60)
        slow.close()
    assert not failures
    assert len(feed_times) >= 5
    assert max(write_times) < 1.5, write_times
    assert max(feed_times) < 1.5, max(feed_times)
