"""Every feature's history starts with its creation, whoever created it: the API, the demo
loader, the open-data importer (recorded set-wise, migration 0010), or a database that
predates migration 0010 (creations reconstructed, no version bumped, none in the feed).

Expected answers come from PostgreSQL: the rows themselves, their history, the pub views.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import psycopg2
import pytest

from conftest import MILANO, PASSWORD, LiveServer, basic, query
from rigenera.auth import hash_password
from rigenera.imports.sources import load_open_data
from rigenera.imports.sources.sites2016 import FILE as SITES_FILE
from rigenera.imports.sources.sites2016 import SOURCE as SRC_SITES
from rigenera.loaders.demo import DEMO_FILE, load_demo
from rigenera.migrate import migrate

if TYPE_CHECKING:
    from conftest import TestCluster

EDITABLE = ("sites", "projects", "mobility_links", "transit_stops")
GEOJSON = {"Content-Type": "application/geo+json"}
MERGE = {"Content-Type": "application/merge-patch+json"}
SQUARE = {"type": "Polygon", "coordinates": [[[9.180, 45.460], [9.182, 45.460], [9.182, 45.461],
                                              [9.180, 45.461], [9.180, 45.460]]]}
# A feature as the history trigger records it: the row as JSON, geometries apart.
DOC = "to_jsonb(t) - 'geom' - 'geom_3857' - 'geom_utm'"


def add_admin(dsn: str, username: str = "admin") -> None:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO rigenera.accounts (username, role, password_hash)"
                    " VALUES (%s, 'admin', %s)", (username, hash_password(PASSWORD)))
    conn.close()


def sql(dsn: str, statement: str, params: tuple[object, ...] = (), *,
        actor: str | None = None, importing: bool = False) -> None:
    """One transaction, as a writer that says who it is (and whether it imports)."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        if actor:
            cur.execute("SELECT set_config('rigenera.actor', %s, true)", (actor,))
        if importing:
            cur.execute("SELECT set_config('rigenera.import', 'on', true)")
        cur.execute(statement, params)
    conn.close()


def first_rows(dsn: str, table: str) -> list[tuple[object, ...]]:
    """Per feature of `table`: its first history row as the API orders them (or NULLs)."""
    return query(dsn, f"""
        SELECT t.id, h.operation, h.version, h.actor, h.comment,
               h.after = {DOC} AND ST_Equals(h.geom_after, t.geom) AS same_as_now, t.version
          FROM rigenera.{table} t
          LEFT JOIN LATERAL (SELECT * FROM rigenera.history h
                              WHERE h.collection = %s AND h.feature_id = t.id::text
                              ORDER BY NOT h.reconstructed, h.id LIMIT 1) h ON true
         ORDER BY t.id""", (table,))


def pub_row(dsn: str, collection: str, fid: str) -> object:
    """A feature as the public sees it, without what a new version changes."""
    return query(dsn, f"SELECT to_jsonb(p) - 'version' - 'updated_at' - 'geom',"
                      f" ST_AsEWKT(p.geom) FROM pub.{collection} p WHERE id = %s",
                 (int(fid),))[0]


# ----------------------------------------------------------- loaded data, served
@pytest.fixture(scope="module")
def loaded(make_database: Callable[[], str], shared_data: Path) -> str:
    """Demo set and the real open data, one admin."""
    dsn = make_database()
    load_demo(dsn)
    load_open_data(dsn, shared_data, keep_demo=True)
    add_admin(dsn)
    return dsn


@pytest.fixture(scope="module")
def loaded_api(loaded: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    server = LiveServer(loaded, tmp_path_factory.mktemp("history")).start()
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client
    server.stop()


def test_every_loaded_feature_starts_with_its_creation(loaded: str) -> None:
    for table in EDITABLE:
        rows = first_rows(loaded, table)
        assert rows, table
        for fid, operation, version, actor, comment, same_as_now, current in rows:
            assert operation == "create" and version == 1, (table, fid, operation, version)
            assert actor in ("import:demo", "import:opendata"), (table, fid, actor)
            assert comment, (table, fid)
            if current == 1:  # unchanged since: the creation recorded is the row itself
                assert same_as_now, (table, fid)
    # The comment names the file each row came from.
    assert query(loaded, "SELECT DISTINCT h.comment FROM rigenera.history h"
                         " JOIN rigenera.sites s ON h.feature_id = s.id::text"
                         " WHERE h.collection = 'sites' AND s.source = %s", (SRC_SITES,)) == [
        (SITES_FILE,)]
    assert query(loaded, "SELECT DISTINCT comment FROM rigenera.history"
                         " WHERE actor = 'import:demo'") == [(DEMO_FILE.name,)]


def test_history_of_an_imported_feature_starts_with_create(loaded: str,
                                                          loaded_api: httpx.Client) -> None:
    (fid,) = query(loaded, "SELECT id FROM rigenera.sites WHERE source = %s ORDER BY id LIMIT 1",
                   (SRC_SITES,))[0]
    r = loaded_api.get(f"/api/collections/sites/items/{fid}/history", headers=basic("admin"))
    assert r.status_code == 200, r.text
    (first, *_) = r.json()["changes"]
    assert (first["operation"], first["version"], first["actor"], first["comment"]) == (
        "create", 1, "import:opendata", SITES_FILE)
    (expected,) = query(loaded, f"SELECT {DOC} FROM rigenera.sites t WHERE id = %s", (fid,))[0]
    assert {k: v for k, v in first["after"].items() if k != "geom"} == expected


def _demo_site(dsn: str) -> str:
    return str(query(dsn, "SELECT id FROM rigenera.sites WHERE source LIKE 'Demo%%'"
                          " ORDER BY id LIMIT 1")[0][0])


def _open_data_site(dsn: str) -> str:
    return str(query(dsn, "SELECT id FROM rigenera.sites WHERE source = %s AND istat_code = %s"
                          " ORDER BY id LIMIT 1", (SRC_SITES, MILANO))[0][0])


def _open_data_project(dsn: str) -> str:
    return str(query(dsn, "SELECT id FROM rigenera.projects WHERE source LIKE 'Ministero%%'"
                          " ORDER BY id LIMIT 1")[0][0])


def _api_site(dsn: str, api: httpx.Client) -> str:
    r = api.post("/ogc/collections/sites/items", headers={**GEOJSON, **basic("admin")},
                 json={"type": "Feature", "geometry": SQUARE,
                       "properties": {"name": "Creata dall'API", "state": "abandoned"}})
    assert r.status_code == 201, r.text
    return str(r.headers["location"].rsplit("/", 1)[1])


@pytest.mark.parametrize(("collection", "pick"), [
    ("sites", _demo_site), ("sites", _open_data_site), ("projects", _open_data_project),
    ("sites", _api_site)], ids=["demo-site", "open-data-site", "open-data-project", "api-site"])
def test_revert_to_version_1(loaded: str, loaded_api: httpx.Client, collection: str,
                             pick: Callable[..., str]) -> None:
    fid = pick(loaded, loaded_api) if pick is _api_site else pick(loaded)
    original = pub_row(loaded, collection, fid)
    etag = loaded_api.get(f"/ogc/collections/{collection}/items/{fid}").headers["etag"]
    assert etag == '"1"'
    name = "title" if collection == "projects" else "name"
    r = loaded_api.patch(f"/ogc/collections/{collection}/items/{fid}",
                         json={"properties": {name: "Cambiata", "implementing_body"
                                              if collection == "projects" else "owner": "Altro"}},
                         headers={"If-Match": etag, **MERGE, **basic("admin")})
    assert r.status_code == 204, r.text
    assert pub_row(loaded, collection, fid) != original
    r = loaded_api.post(f"/api/collections/{collection}/items/{fid}/revert",
                        json={"version": 1, "base_version": 2}, headers=basic("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 3
    assert pub_row(loaded, collection, fid) == original
    ops = [c["operation"] for c in loaded_api.get(
        f"/api/collections/{collection}/items/{fid}/history",
        headers=basic("admin")).json()["changes"]]
    assert ops == ["create", "update", "revert"]


def _history_and_versions(dsn: str) -> tuple[object, ...]:
    return (query(dsn, "SELECT count(*), max(id) FROM rigenera.history")[0],
            query(dsn, " UNION ALL ".join(
                f"SELECT '{t}', id, version, updated_at FROM rigenera.{t}" for t in EDITABLE)
                + " ORDER BY 1, 2"))


def test_a_reimport_that_changes_nothing_writes_no_history(make_database: Callable[[], str],
                                                          shared_data: Path) -> None:
    dsn = make_database()  # of its own: a re-import rightly undoes API edits of source rows
    load_demo(dsn)
    load_open_data(dsn, shared_data, keep_demo=True)
    before = _history_and_versions(dsn)
    load_demo(dsn)
    load_open_data(dsn, shared_data, keep_demo=True)
    assert _history_and_versions(dsn) == before


def test_a_reimport_records_exactly_what_changed(make_database: Callable[[], str],
                                                 shared_data: Path, tmp_path: Path) -> None:
    dsn = make_database()
    data = tmp_path / "data"
    data.mkdir()
    for f in shared_data.iterdir():
        if f.is_file():
            (data / f.name).write_bytes(f.read_bytes())
    load_open_data(dsn, data)
    doc = json.loads((data / SITES_FILE).read_text(encoding="utf-8"))
    cod = next(f["properties"]["cod_prog"] for f in doc["features"]
               if f["properties"].get("cod_prog"))
    target = next(f for f in doc["features"] if f["properties"].get("cod_prog") == cod)
    target["properties"]["condition_desc"] = "Descrizione corretta alla fonte"
    (data / SITES_FILE).write_text(json.dumps(doc), encoding="utf-8")
    (fid, old_doc) = query(dsn, f"SELECT id, {DOC} FROM rigenera.sites t"
                                " WHERE source = %s AND source_id = %s", (SRC_SITES, cod))[0]
    top = query(dsn, "SELECT max(id) FROM rigenera.history")[0][0]
    load_open_data(dsn, data)
    rows = query(dsn, "SELECT feature_id, operation, version, actor, comment, before, after"
                      " FROM rigenera.history WHERE id > %s", (top,))
    (new_doc, version) = query(dsn, f"SELECT {DOC}, version FROM rigenera.sites t"
                                    " WHERE id = %s", (fid,))[0]
    assert version == 2
    assert rows == [(str(fid), "update", 2, "import:opendata", SITES_FILE, old_doc, new_doc)]


def test_import_deletes_are_recorded_set_wise(make_database: Callable[[], str]) -> None:
    dsn = make_database()
    load_demo(dsn)
    expected = query(dsn, f"SELECT id::text, version, {DOC} FROM rigenera.mobility_links t"
                          " ORDER BY id")
    sql(dsn, "DELETE FROM rigenera.mobility_links", actor="import:pulizia", importing=True)
    assert query(dsn, "SELECT feature_id, version, before FROM rigenera.history"
                      " WHERE operation = 'delete' AND actor = 'import:pulizia'"
                      " ORDER BY feature_id::bigint") == expected


# -------------------------------------------------------- upgrading an older database
OLD_SOURCE = "Rigenera – inserito da "


def test_migration_0010_reconstructs_creations_and_scrubs_creators(
        cluster: TestCluster, tmp_path: Path) -> None:
    dsn = cluster.create_database()
    migrate(dsn, target=9)
    # the demo set as it was at that version (calls and needs got their columns, the
    # project records their tables, in 0016), loaded under the old triggers: no history
    doc = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    for key in ("calls", "needs", "progress_reports", "milestones", "tenders"):
        doc.pop(key, None)
    (tmp_path / "demo-0009.json").write_text(json.dumps(doc), encoding="utf-8")
    load_demo(dsn, tmp_path / "demo-0009.json")
    assert query(dsn, "SELECT count(*) FROM rigenera.history") == [(0,)]
    point = "ST_SetSRID(ST_MakePoint(%s, 45.46), 4326)"
    # What the API wrote before: the creator in `source` (twice with one source_id),
    sql(dsn, "INSERT INTO rigenera.sites (name, istat_code, state, source, source_id, geom)"
             f" VALUES ('Di mario', %s, 'abandoned', %s, NULL, {point}),"
             f" ('Doppia 1', %s, 'abandoned', %s, 'X1', {point}),"
             f" ('Doppia 2', %s, 'abandoned', %s, 'X1', {point})",
        (MILANO, OLD_SOURCE + "mario", 9.190, MILANO, OLD_SOURCE + "mario", 9.191,
         MILANO, OLD_SOURCE + "luigi", 9.192), actor="mario")
    # an edit of a loaded feature, a deletion of another, then an edit of mario's site.
    imported, deleted = [r[0] for r in query(
        dsn, "SELECT id FROM rigenera.sites WHERE source LIKE 'Demo%%' ORDER BY id LIMIT 2")]
    first_state = query(dsn, f"SELECT {DOC}, encode(ST_AsEWKB(geom), 'hex')"
                             " FROM rigenera.sites t WHERE id = %s", (imported,))[0]
    sql(dsn, "UPDATE rigenera.sites SET owner = 'Nuovo' WHERE id = %s", (imported,), actor="anna")
    sql(dsn, "DELETE FROM rigenera.sites WHERE id = %s", (deleted,), actor="anna")
    sql(dsn, "UPDATE rigenera.sites SET owner = 'Anna' WHERE name = 'Di mario'", actor="anna")
    recorded = query(dsn, "SELECT id FROM rigenera.history ORDER BY id")
    rows_before = query(dsn, " UNION ALL ".join(
        f"SELECT '{t}', id, version, updated_at, updated_by FROM rigenera.{t}" for t in EDITABLE)
        + " ORDER BY 1, 2")

    migrate(dsn, target=10)  # 0010 itself: later migrations may add columns to the rows

    # No feature changed version, time or author; nothing recorded before was lost.
    assert query(dsn, " UNION ALL ".join(
        f"SELECT '{t}', id, version, updated_at, updated_by FROM rigenera.{t}" for t in EDITABLE)
        + " ORDER BY 1, 2") == rows_before
    assert query(dsn, "SELECT id FROM rigenera.history WHERE NOT reconstructed ORDER BY id") == \
        recorded
    # Every feature, deleted ones included, has exactly one creation; it comes first.
    assert query(dsn, """
        SELECT count(*) FROM (SELECT collection, feature_id FROM rigenera.history
                               GROUP BY 1, 2 HAVING count(*) FILTER (WHERE operation = 'create')
                                                    <> 1) bad""") == [(0,)]
    for table in EDITABLE:
        for fid, operation, *_ in first_rows(dsn, table):
            assert operation == "create", (table, fid)
    # Loaded and untouched: the creation is the row as it is, by whoever created it.
    assert query(dsn, f"""SELECT count(*), bool_and(h.after = {DOC}
                                                 AND ST_Equals(h.geom_after, t.geom)
                                                 AND h.version = t.version
                                                 AND h.at = t.created_at
                                                 AND h.actor = t.created_by)
                            FROM rigenera.sites t JOIN rigenera.history h
                              ON h.collection = 'sites' AND h.feature_id = t.id::text
                           WHERE h.reconstructed AND t.id NOT IN (%s, %s)""",
                 (imported, deleted)) == [(10, True)]
    # Edited or deleted since loading: the state before the first recorded change.
    creation = ("SELECT after, encode(ST_AsEWKB(geom_after), 'hex'), version FROM rigenera.history"
                " WHERE collection = 'sites' AND feature_id = %s AND reconstructed")
    assert query(dsn, creation, (str(imported),)) == [(*first_state, 1)]
    assert query(dsn, creation, (str(deleted),)) == query(
        dsn, "SELECT before, encode(ST_AsEWKB(geom_before), 'hex'), version FROM rigenera.history"
             " WHERE collection = 'sites' AND feature_id = %s ORDER BY id LIMIT 1", (str(deleted),))
    # No username is left in any source, published or recorded; source ids stay unique.
    assert query(dsn, "SELECT name, source, source_id FROM rigenera.sites"
                      " WHERE source LIKE 'Rigenera%%' ORDER BY id") == [
        ("Di mario", "Rigenera", None), ("Doppia 1", "Rigenera", "X1"),
        ("Doppia 2", "Rigenera #" + str(query(dsn, "SELECT id FROM rigenera.sites"
                                                 " WHERE name = 'Doppia 2'")[0][0]), "X1")]
    assert query(dsn, "SELECT count(*) FROM rigenera.history WHERE before::text LIKE '%%inserito"
                      " da%%' OR after::text LIKE '%%inserito da%%'") == [(0,)]

    # Served: the feed shows only what was recorded (an old integer cursor included), and a
    # loaded feature edited before the upgrade goes back to version 1. The server needs the
    # schema it was written for (the views it publishes), so the upgrade is completed first.
    migrate(dsn)
    add_admin(dsn)
    server = LiveServer(dsn, tmp_path / "state").start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as api:
            for after in ("0", None):
                params = {"collection": "sites", **({"after": after} if after else {})}
                doc = api.get("/api/changes", params=params, headers=basic("admin")).json()
                assert [c["seq"] for c in doc["changes"]] == [r[0] for r in recorded]
            r = api.post(f"/api/collections/sites/items/{imported}/revert",
                         json={"version": 1}, headers=basic("admin"))
            assert r.status_code == 200, r.text
            skip = {"version", "updated_at", "updated_by", "geometry_kind"}  # 0011 adds it
            (now, geom) = query(dsn, f"SELECT {DOC}, encode(ST_AsEWKB(geom), 'hex')"
                                     " FROM rigenera.sites t WHERE id = %s", (imported,))[0]
            assert {k: v for k, v in now.items() if k not in skip} == {
                k: v for k, v in first_state[0].items() if k not in skip}
            assert geom == first_state[1]
    finally:
        server.stop()
