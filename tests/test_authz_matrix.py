"""Who may write what: every role x every write x every editable collection.

Roles: anonymous, volunteer, technician of Milano (where every feature here
lies), technician of Sesto San Giovanni (another comune), coordinator, admin.
Writes: create (POST), replace (PUT), patch (PATCH), delete (DELETE), a
one-operation changeset, revert, and review accept. Each case works on a fresh
feature created by the admin, and checks both the answer and the database:
changed exactly when the write was allowed (row count, version, review
status), untouched otherwise (conftest's `fingerprint`: the editable tables, the
history and the project join tables). OPTIONS answers the `Allow` header per role.
"""

from __future__ import annotations

from typing import Any

import httpx
import psycopg2
import pytest

from conftest import MILANO, basic
from test_editing import GEOJSON, SQUARE

MERGE = {"Content-Type": "application/merge-patch+json"}
ROLE_USERS: dict[str, str | None] = {
    "anonymous": None, "volunteer": "volontario", "technician": "tecnico",
    "technician_elsewhere": "tecnico.sesto", "coordinator": "coord", "admin": "admin"}
WRITES = ("create", "replace", "patch", "delete", "changeset", "revert", "review")
COLLECTIONS = ("sites", "projects", "mobility_links", "transit_stops")
REVIEWED = ("sites", "projects")
SUCCESS = {"create": 201, "replace": 204, "patch": 204, "delete": 204, "changeset": 200,
           "revert": 200, "review": 200}

# Everything lies in Milano (015146), well inside the comune.
POINT = {"type": "Point", "coordinates": [9.185, 45.465]}
LINE = {"type": "LineString", "coordinates": [[9.180, 45.460], [9.190, 45.465]]}
PROPS: dict[str, dict[str, Any]] = {
    "sites": {"name": "Area matrice", "state": "abandoned", "former_use": "railway"},
    "projects": {"title": "Progetto matrice", "status": "planned", "istat_codes": [MILANO]},
    "mobility_links": {"kind": "cycle_path", "name": "Ciclabile matrice"},
    "transit_stops": {"mode": "tram", "name": "Fermata matrice", "lines": ["9"]},
}
GEOMETRY = {"sites": SQUARE, "projects": POINT, "mobility_links": LINE, "transit_stops": POINT}
NAME = {"sites": "name", "projects": "title", "mobility_links": "name", "transit_stops": "name"}
PATCH = {"sites": {"owner": "Comune di Milano"}, "projects": {"description": "Aggiornato"},
         "mobility_links": {"operator": "Comune di Milano"}, "transit_stops": {"operator": "ATM"}}

def feature(cid: str, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": {**PROPS[cid], **props}, "geometry": GEOMETRY[cid]}


def expected(role: str, write: str, cid: str) -> int:
    if role == "anonymous":
        return 401
    if write == "review":
        if role.startswith("technician"):
            return 403  # technicians do not review
        return 200 if cid in REVIEWED else 404  # only sites and projects are reviewed
    if role in ("volunteer", "technician_elsewhere"):
        return 403
    return SUCCESS[write]


MATRIX = [pytest.param(role, write, cid, id=f"{role}-{write}-{cid}")
          for role in ROLE_USERS for write in WRITES for cid in COLLECTIONS]


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def sql(db):
    """One kept connection for the many small checks (a connection each doubles the run)."""
    conn = psycopg2.connect(db)
    conn.autocommit = True

    def run(statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall()

    yield run
    conn.close()


def create(api: httpx.Client, cid: str, **props: Any) -> str:
    r = api.post(f"/ogc/collections/{cid}/items", json=feature(cid, **props),
                 headers={**GEOJSON, **basic("admin")})
    assert r.status_code == 201, r.text
    return r.headers["location"].rsplit("/", 1)[1]


def state(sql, cid: str, fid: str) -> tuple[int, str | None] | None:
    """(version, validation_status) of a feature, None when it does not exist."""
    status = "validation_status" if cid in REVIEWED else "NULL::text"
    rows = sql(f"SELECT version, {status} FROM rigenera.{cid} WHERE id = %s", (int(fid),))
    return (rows[0][0], rows[0][1]) if rows else None


def count(sql, cid: str) -> int:
    return sql(f"SELECT count(*) FROM rigenera.{cid}")[0][0]


# -------------------------------------------------------------------------------- matrix
@pytest.mark.parametrize(("role", "write", "cid"), MATRIX)
def test_write_matrix(api, sql, fingerprint, role, write, cid):
    user = ROLE_USERS[role]
    auth = basic(user) if user else {}
    label = f"{role} {write} {cid}"
    fid = None
    if write != "create":
        fid = create(api, cid, **{NAME[cid]: f"Matrice {label}"})
    if write == "revert":  # something to revert: version 2 by the admin
        r = api.patch(f"/ogc/collections/{cid}/items/{fid}",
                      json={"properties": {NAME[cid]: f"Modificato {label}"}},
                      headers={**MERGE, **basic("admin")})
        assert r.status_code == 204, r.text
    url = f"/ogc/collections/{cid}/items/{fid}"
    before, rows_before = fingerprint(), count(sql, cid)
    base = state(sql, cid, fid) if fid else None

    if write == "create":
        r = api.post(f"/ogc/collections/{cid}/items", json=feature(cid, **{NAME[cid]: label}),
                     headers={**GEOJSON, **auth})
    elif write == "replace":
        r = api.put(url, json=feature(cid, **{NAME[cid]: f"Sostituito {label}"}),
                    headers={**GEOJSON, **auth, "If-Match": '"1"'})
    elif write == "patch":
        r = api.patch(url, json={"properties": PATCH[cid]}, headers={**MERGE, **auth,
                                                                     "If-Match": '"1"'})
    elif write == "delete":
        r = api.delete(url, headers={**auth, "If-Match": '"1"'})
    elif write == "changeset":
        ops = [{"action": "patch", "collection": cid, "id": fid, "base_version": 1,
                "feature": {"properties": PATCH[cid]}, "ref": "unica"}]
        r = api.post("/api/changesets", json={"operations": ops, "comment": label}, headers=auth)
    elif write == "revert":
        r = api.post(f"/api/collections/{cid}/items/{fid}/revert", json={"version": 1}, headers=auth)
    else:
        r = api.post(f"/api/review/{cid}/{fid}", json={"decision": "accept", "base_version": 1},
                     headers=auth)

    want = expected(role, write, cid)
    assert r.status_code == want, (r.status_code, r.text[:300])
    if want >= 400:
        doc = r.json()
        assert doc["code"] and doc["description"].strip(), doc
        if want == 401:
            assert r.headers["www-authenticate"].startswith("Basic"), r.headers
        if want == 403:
            assert doc["code"] == "Forbidden", doc
        assert fingerprint() == before, "a refused write changed the database"
        assert count(sql, cid) == rows_before
        assert fid is None or state(sql, cid, fid) == base
        return

    assert fingerprint() != before, "an allowed write left no trace"
    if write == "create":
        assert count(sql, cid) == rows_before + 1
        new = r.headers["location"].rsplit("/", 1)[1]
        assert r.headers["etag"] == '"1"' and state(sql, cid, new)[0] == 1
        (actor,) = sql("SELECT actor FROM rigenera.history WHERE collection = %s"
                       " AND feature_id = %s", (cid, new))[0]
        assert actor == user
    elif write == "delete":
        assert count(sql, cid) == rows_before - 1 and state(sql, cid, fid) is None
    else:
        assert count(sql, cid) == rows_before
        version, status = state(sql, cid, fid)
        assert version == base[0] + 1, (version, base)
        if write in ("replace", "patch"):
            assert r.headers["etag"] == f'"{version}"'
        elif write == "changeset":
            assert r.json()["applied"] == [{"ref": "unica", "collection": cid, "id": fid,
                                            "version": version, "action": "patch"}]
        elif write == "revert":
            assert r.json()["version"] == version == 3 and r.json()["reverted_to"] == 1
            (name,) = sql(f"SELECT {NAME[cid]} FROM rigenera.{cid} WHERE id = %s", (int(fid),))[0]
            assert name == f"Matrice {label}"
        else:
            assert r.json()["validation_status"] == status == "validated"
            assert r.json()["version"] == version
        (actor,) = sql("SELECT actor FROM rigenera.history WHERE collection = %s"
                       " AND feature_id = %s ORDER BY id DESC LIMIT 1", (cid, fid))[0]
        assert actor == user


def test_matrix_covers_every_role_write_and_collection():
    assert len(MATRIX) == len(ROLE_USERS) * len(WRITES) * len(COLLECTIONS) == 168


# ------------------------------------------------------------------------------ OPTIONS
READ = {"GET", "HEAD", "OPTIONS"}
OPTIONS_CASES = []
for _role in ROLE_USERS:
    for _cid in COLLECTIONS:
        for _route in ("items", "item"):
            editor = _role in ("technician", "technician_elsewhere", "coordinator", "admin")
            # On the item route the feature is in Milano: not Sesto's technician's to edit.
            may = editor and not (_route == "item" and _role == "technician_elsewhere")
            allow = READ | ({"POST"} if _route == "items" else {"PUT", "PATCH", "DELETE"}) \
                if may else READ
            OPTIONS_CASES.append(pytest.param(_role, _cid, _route, allow,
                                              id=f"{_role}-{_cid}-{_route}"))


@pytest.fixture(scope="module")
def milano_features(api):
    return {cid: create(api, cid, **{NAME[cid]: f"Opzioni {cid}"}) for cid in COLLECTIONS}


@pytest.mark.parametrize(("role", "cid", "route", "allow"), OPTIONS_CASES)
def test_options_allow_per_role(api, milano_features, role, cid, route, allow):
    user = ROLE_USERS[role]
    path = f"/ogc/collections/{cid}/items"
    if route == "item":
        path += f"/{milano_features[cid]}"
    r = api.options(path, headers=basic(user) if user else {})
    assert r.status_code == 204, r.text
    assert {m.strip() for m in r.headers["allow"].split(",")} == allow


@pytest.mark.parametrize("route", ["items", "item"])
@pytest.mark.parametrize("role", ["admin", "technician"])
def test_options_on_read_only_comuni(api, role, route):
    path = "/ogc/collections/comuni/items" + (f"/{MILANO}" if route == "item" else "")
    r = api.options(path, headers=basic(ROLE_USERS[role]))
    assert r.status_code == 204
    assert {m.strip() for m in r.headers["allow"].split(",")} == READ


def test_options_with_wrong_password_is_the_anonymous_answer(api):
    r = api.options("/ogc/collections/sites/items", headers=basic("admin", "sbagliata"))
    assert r.status_code == 204
    assert {m.strip() for m in r.headers["allow"].split(",")} == READ


# ----------------------------------------------------------- a technician's reach, edges
SESTO_POINT = {"type": "Point", "coordinates": [9.2372, 45.5339]}  # inside Sesto San Giovanni


def test_technician_cannot_move_a_feature_out_of_their_comuni(api, sql, fingerprint):
    fid = create(api, "sites", name="Da spostare")
    before = fingerprint()
    r = api.patch(f"/ogc/collections/sites/items/{fid}", json={"geometry": SESTO_POINT},
                  headers={**MERGE, **basic("tecnico")})
    assert r.status_code == 403, r.text
    assert r.json()["errors"] == [{"field": "geometry", "reason": "outside your comuni"}]
    assert fingerprint() == before


def test_technician_of_the_other_comune_cannot_create_in_milano_nor_bring_it_home(api, fingerprint):
    fid = create(api, "transit_stops", name="Fermata di Milano")
    before = fingerprint()
    r = api.post("/ogc/collections/transit_stops/items", json=feature("transit_stops"),
                 headers={**GEOJSON, **basic("tecnico.sesto")})
    assert r.status_code == 403
    # moving a Milano stop into Sesto: the old place is not theirs either
    r = api.patch(f"/ogc/collections/transit_stops/items/{fid}", json={"geometry": SESTO_POINT},
                  headers={**MERGE, **basic("tecnico.sesto")})
    assert r.status_code == 403
    assert fingerprint() == before


def test_technician_cannot_file_a_project_under_another_comune(api, fingerprint):
    before = fingerprint()
    r = api.post("/ogc/collections/projects/items",
                 json=feature("projects", istat_codes=["015209"]),
                 headers={**GEOJSON, **basic("tecnico")})
    assert r.status_code == 403, r.text
    assert fingerprint() == before


def test_technician_cannot_label_a_site_with_another_comune(api, fingerprint):
    before = fingerprint()
    r = api.post("/ogc/collections/sites/items", json=feature("sites", istat_code="015209"),
                 headers={**GEOJSON, **basic("tecnico")})
    assert r.status_code in (403, 422), r.text
    assert fingerprint() == before


@pytest.mark.parametrize("role", [*ROLE_USERS, "wrong_password"])
def test_the_planners_process_is_public(api, fingerprint, role):
    """sites-near-transit answers every caller alike, credentials or not (the QGIS plugin
    runs it anonymously when headless QGIS cannot open the saved credentials), and
    writes nothing."""
    before = fingerprint()
    user = ROLE_USERS.get(role)
    headers = basic("admin", "not-the-password") if role == "wrong_password" else \
        basic(user) if user else {}
    r = api.post("/ogc/processes/sites-near-transit/execution", headers=headers,
                 json={"inputs": {"distance_m": 500, "modes": ["metro", "tram"]}})
    assert r.status_code == 200, r.text
    assert r.json()["type"] == "FeatureCollection"
    anonymous = api.post("/ogc/processes/sites-near-transit/execution",
                         json={"inputs": {"distance_m": 500, "modes": ["metro", "tram"]}})
    assert r.json()["features"] == anonymous.json()["features"]
    assert fingerprint() == before
