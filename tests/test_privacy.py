"""Who created a feature is private: recorded in the history (for editors), never published.

A feature created through the API used to publish "Rigenera – inserito da <username>" as
its source. Here each editing role creates features, and every public representation of
them is searched for the username: items and item (GeoJSON, HTML, JSON-LD, CSV), the
vector tiles and their SQL views, the change feed and the collection model. Each search is
checked to be looking at the right document (the feature's own name is there).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator

import httpx
import psycopg2
import pytest

from conftest import MILANO, PASSWORD, basic, query
from rigenera.auth import hash_password

GEOJSON = {"Content-Type": "application/geo+json"}
# Distinctive names, so that a match cannot be a coincidence.
CREATORS = {"admin": "priv.amm.k7", "coordinator": "priv.coord.k7",
            "technician": "priv.tecn.k7"}
LON, LAT = 9.1805, 45.4605  # Milano, in the technician's comune
SQUARE = {"type": "Polygon", "coordinates": [[[9.180, 45.460], [9.181, 45.460], [9.181, 45.461],
                                              [9.180, 45.461], [9.180, 45.460]]]}
FEATURES = {
    "sites": ("name", {"state": "abandoned"}, SQUARE),
    "projects": ("title", {"status": "idea"}, {"type": "Point", "coordinates": [LON, LAT]}),
    "mobility_links": ("name", {"kind": "cycle_path"},
                       {"type": "LineString", "coordinates": [[9.1801, 45.4601],
                                                              [9.1809, 45.4609]]}),
    "transit_stops": ("name", {"mode": "bus"}, {"type": "Point", "coordinates": [LON, LAT]}),
}


@pytest.fixture(scope="module")
def creators(db: str) -> dict[str, str]:
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        for role, user in CREATORS.items():
            cur.execute("INSERT INTO rigenera.accounts (username, role, password_hash)"
                        " VALUES (%s, %s, %s)", (user, role, hash_password(PASSWORD)))
            if role == "technician":
                cur.execute("INSERT INTO rigenera.account_comuni VALUES (%s, %s)", (user, MILANO))
    conn.close()
    return CREATORS


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """WebMercatorQuad column and row of a point."""
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def texts(api: httpx.Client, collection: str, fid: str, label: str, name: str) -> Iterator[
        tuple[str, str]]:
    """(where, text) of every public answer about the feature."""
    item = f"/ogc/collections/{collection}/items/{fid}"
    for f in ("json", "html", "jsonld"):
        r = api.get(item, params={"f": f})
        assert r.status_code == 200, (f, r.text[:300])
        yield f"item f={f}", r.text
    items = f"/ogc/collections/{collection}/items"
    for f in ("json", "html", "csv"):  # (pygeoapi's JSON-LD of items lists only their ids)
        r = api.get(items, params={"f": f, "filter": f"{label} = '{name}'"})
        assert r.status_code == 200, (f, r.text[:300])
        yield f"items f={f}", r.text
    x, y = tile_of(LON, LAT, 15)
    r = api.get(f"/ogc/collections/{collection}/tiles/WebMercatorQuad/15/{y}/{x}")
    assert r.status_code == 200, r.text[:300]
    yield "tile z15", r.content.decode("utf-8", "replace")


@pytest.mark.parametrize(("role", "collection"), [
    ("admin", "sites"), ("coordinator", "sites"), ("technician", "sites"),
    ("admin", "projects"), ("coordinator", "mobility_links"), ("technician", "transit_stops"),
])
def test_no_public_answer_names_the_creator(api: httpx.Client, db: str,
                                            creators: dict[str, str], role: str,
                                            collection: str) -> None:
    user = creators[role]
    label, props, geometry = FEATURES[collection]
    name = f"Privacy {role} {collection} {uuid.uuid4().hex[:8]}"
    start = api.get("/api/changes", params={"collection": collection},
                    headers=basic("volontario")).json()["latest"]
    r = api.post(f"/ogc/collections/{collection}/items", headers={**GEOJSON, **basic(user)},
                 json={"type": "Feature", "geometry": geometry,
                       "properties": {label: name, **props}})
    assert r.status_code == 201, r.text
    fid = r.headers["location"].rsplit("/", 1)[1]

    for where, text in texts(api, collection, fid, label, name):
        assert name in text, f"{where}: not the feature's document"
        assert user not in text, f"{where} publishes the creator"
    # What the tiles carry, from their SQL view; the published row, from its view.
    (tile_row,) = query(db, f"SELECT (to_jsonb(t) - 'geom' - 'geom_3857')::text"
                            f" FROM tiles.{collection} t WHERE id = %s", (int(fid),))[0]
    (pub_row,) = query(db, f"SELECT (to_jsonb(p) - 'geom')::text FROM pub.{collection} p"
                           " WHERE id = %s", (int(fid),))[0]
    for where, text in (("tiles view", tile_row), ("pub view", pub_row)):
        assert name in text and user not in text, where
    feed = api.get("/api/changes", params={"collection": collection, "after": start},
                   headers=basic("volontario"))
    assert fid in {c["id"] for c in feed.json()["changes"]} and user not in feed.text
    model = api.get(f"/api/collections/{collection}/model")
    assert model.status_code == 200 and user not in model.text
    # The private history does know who it was.
    hist = api.get(f"/api/collections/{collection}/items/{fid}/history", headers=basic("admin"))
    assert hist.json()["changes"][0]["actor"] == user


def test_default_source_is_neutral(api: httpx.Client, db: str, creators: dict[str, str]) -> None:
    r = api.post("/ogc/collections/sites/items", headers={**GEOJSON, **basic(creators["admin"])},
                 json={"type": "Feature", "geometry": SQUARE,
                       "properties": {"name": "Fonte neutra", "state": "abandoned"}})
    assert r.status_code == 201, r.text
    fid = int(r.headers["location"].rsplit("/", 1)[1])
    assert query(db, "SELECT source FROM pub.sites WHERE id = %s", (fid,)) == [("Rigenera",)]
    # A source given by the client is kept as it is.
    r = api.post("/ogc/collections/sites/items", headers={**GEOJSON, **basic(creators["admin"])},
                 json={"type": "Feature", "geometry": SQUARE,
                       "properties": {"name": "Fonte data", "state": "abandoned",
                                      "source": "Sopralluogo 2026"}})
    assert r.status_code == 201, r.text
    fid = int(r.headers["location"].rsplit("/", 1)[1])
    assert query(db, "SELECT source FROM pub.sites WHERE id = %s", (fid,)) == [
        ("Sopralluogo 2026",)]
