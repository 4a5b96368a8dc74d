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

from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg2
import pytest

import reach_shapes
from conftest import MILANO, SESTO, basic
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


def send(api: httpx.Client, write: str, cid: str, fid: str | None, auth: dict[str, str],
         label: str) -> httpx.Response:
    """One write of the matrix, as the holder of `auth`."""
    url = f"/ogc/collections/{cid}/items/{fid}"
    if write == "create":
        return api.post(f"/ogc/collections/{cid}/items", json=feature(cid, **{NAME[cid]: label}),
                        headers={**GEOJSON, **auth})
    if write == "replace":
        return api.put(url, json=feature(cid, **{NAME[cid]: f"Sostituito {label}"}),
                       headers={**GEOJSON, **auth, "If-Match": '"1"'})
    if write == "patch":
        return api.patch(url, json={"properties": PATCH[cid]}, headers={**MERGE, **auth,
                                                                        "If-Match": '"1"'})
    if write == "delete":
        return api.delete(url, headers={**auth, "If-Match": '"1"'})
    if write == "changeset":
        ops = [{"action": "patch", "collection": cid, "id": fid, "base_version": 1,
                "feature": {"properties": PATCH[cid]}, "ref": "unica"}]
        return api.post("/api/changesets", json={"operations": ops, "comment": label},
                        headers=auth)
    if write == "revert":
        return api.post(f"/api/collections/{cid}/items/{fid}/revert", json={"version": 1},
                        headers=auth)
    return api.post(f"/api/review/{cid}/{fid}", json={"decision": "accept", "base_version": 1},
                    headers=auth)


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
    before, rows_before = fingerprint(), count(sql, cid)
    base = state(sql, cid, fid) if fid else None
    r = send(api, write, cid, fid, auth, label)

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


# ------------------------------------------------- credentials changed after first use
# Each account is used once (so a server process has checked and may remember its
# password), then changed in SQL; its very next write must follow the change. The
# answer is the one its new state deserves: 401 for credentials that no longer hold,
# the new role's or comuni's answer otherwise.
STALE = {  # state -> (account's role before, its comuni, SQL that changes it, now like)
    "disabled": ("coordinator", [], "UPDATE rigenera.accounts SET active = false"
                                    " WHERE username = %(u)s", "anonymous"),
    "password-changed": ("coordinator", [], "UPDATE rigenera.accounts SET password_hash ="
                                            " 'x' || password_hash WHERE username = %(u)s",
                         "anonymous"),
    "token-revoked": ("coordinator", [], "UPDATE rigenera.tokens SET revoked_at = now()"
                                         " WHERE username = %(u)s", "anonymous"),
    "token-expired": ("coordinator", [], "UPDATE rigenera.tokens SET created_at = now() -"
                                         " interval '2 days', expires_at = now() - interval"
                                         " '1 second' WHERE username = %(u)s", "anonymous"),
    "demoted-to-volunteer": ("coordinator", [], "UPDATE rigenera.accounts SET role = 'volunteer'"
                                                " WHERE username = %(u)s", "volunteer"),
    "comune-taken-away": ("technician", [MILANO], "UPDATE rigenera.account_comuni SET istat_code"
                                                  " = '015209' WHERE username = %(u)s",
                          "technician_elsewhere"),
}
STALE_CASES = [pytest.param(state_, write, id=f"{state_}-{write}") for state_ in STALE
               for write in WRITES]


@pytest.fixture(scope="module")
def stale(api, sql):
    """One account per state, used once by this server, then changed: {state: auth headers}."""
    from conftest import PASSWORD
    from rigenera.auth import hash_password, new_token

    hashed, out = hash_password(PASSWORD), {}
    for n, (name, (role, comuni, change, _)) in enumerate(STALE.items()):
        user = f"cambiato.{n}"
        sql("INSERT INTO rigenera.accounts (username, role, password_hash) VALUES (%s, %s, %s)"
            " RETURNING 1", (user, role, hashed))
        for code in comuni:
            sql("INSERT INTO rigenera.account_comuni VALUES (%s, %s) RETURNING 1", (user, code))
        if name.startswith("token"):
            token, digest = new_token()
            sql("INSERT INTO rigenera.tokens (username, token_hash, expires_at)"
                " VALUES (%s, %s, now() + interval '1 day') RETURNING 1", (user, digest))
            auth = {"Authorization": f"Bearer {token}"}
        else:
            auth = basic(user)
        assert api.get("/api/me", headers=auth).status_code == 200  # first use: remembered
        sql(change + " RETURNING 1", {"u": user})
        out[name] = auth
    return out


@pytest.mark.parametrize(("state_", "write"), STALE_CASES)
def test_changed_credentials_apply_to_the_next_write(api, sql, fingerprint, stale, state_, write):
    cid = "sites"
    fid = None if write == "create" else create(api, cid, **{NAME[cid]: f"Credenziali {state_}"})
    if write == "revert":
        r = api.patch(f"/ogc/collections/{cid}/items/{fid}",
                      json={"properties": {NAME[cid]: "Seconda versione"}},
                      headers={**MERGE, **basic("admin")})
        assert r.status_code == 204, r.text
    before = fingerprint()
    n = STALE_CASES.index(next(c for c in STALE_CASES if c.values == (state_, write)))
    auth = {**stale[state_], "X-Forwarded-For": f"192.0.2.{n + 1}"}  # failures: own address
    r = send(api, write, cid, fid, auth, f"credenziali {state_} {write}")
    want = expected(STALE[state_][3], write, cid)
    assert r.status_code == want, (r.status_code, r.text[:300])
    if want >= 400:
        assert fingerprint() == before, "a refused write changed the database"


def test_stale_matrix_covers_every_state_and_write():
    assert len(STALE_CASES) == len(STALE) * len(WRITES) == 42


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
    (tolerance,) = sql("SELECT tolerance_m FROM rigenera.reach_rule")[0]
    errors = {e["field"]: e["reason"] for e in r.json()["errors"]}
    assert set(errors) == {"geometry", "istat_code"}, errors  # the point is Sesto's
    assert "100% of the geometry lies outside your comuni" in errors["geometry"]
    assert f"(tolerance {tolerance:g} m)" in errors["geometry"]
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


# ------------------------------------------- a technician's reach cannot be bypassed by geometry
# Milano's technician against geometries PostGIS builds from the real boundaries
# (reach_shapes.py), on every write path. The rule (issue 9): the whole geometry, before
# and after the write, lies within their comuni (plus the tolerance), and the feature's
# comune (a project's comuni and linked sites) is theirs. Before it, touching Milano was
# enough: a polygon mostly in Sesto with a corner in Milano was written, filed under Sesto.
REACH_PATHS = ("post", "put", "patch", "delete", "batch", "op", "revert", "options")
OWN = {"sites": "milano", "projects": "milano", "mobility_links": "line_milano",
       "transit_stops": "stop_milano"}
SESTO_SITE = "{sesto site}"  # placeholder: a demo site of Sesto San Giovanni


@dataclass(frozen=True)
class Attack:
    id: str
    cid: str
    shape: str | None  # what the geometry becomes (None: no geometry)
    props: dict[str, Any] = field(default_factory=dict)
    allowed: bool = False
    fields: frozenset[str] | None = None  # None: geometry, and istat_code if comune_of isn't Milano
    status: int = 403  # when refused
    paths: tuple[str, ...] = REACH_PATHS


ATTACKS = [
    Attack("site-mostly-in-sesto", "sites", "corner"),
    Attack("site-multipart-tiny-part-in-milano", "sites", "multipart"),
    Attack("site-60m-over-the-border", "sites", "border60"),
    Attack("site-10m-over-the-border", "sites", "border10", allowed=True),
    Attack("site-labelled-sesto", "sites", "milano", {"istat_code": SESTO},
           fields=frozenset({"istat_code"})),
    Attack("link-mostly-in-sesto", "mobility_links", "line"),
    Attack("stop-10m-inside-sesto", "transit_stops", "stop_sesto10",
           fields=frozenset({"istat_code"})),
    Attack("stop-10m-inside-milano", "transit_stops", "stop_milano10", allowed=True),
    Attack("project-mostly-in-sesto", "projects", "corner"),
    Attack("project-with-comune-sesto", "projects", "milano", {"istat_codes": [MILANO, SESTO]},
           fields=frozenset({"istat_codes"}), paths=tuple(p for p in REACH_PATHS if p != "revert")),
    Attack("project-linking-a-sesto-site", "projects", "milano", {"site_ids": [SESTO_SITE]},
           fields=frozenset({"site_ids"}), paths=tuple(p for p in REACH_PATHS if p != "revert")),
    # Located nowhere: refused for every editor (a data rule, 422), so nobody creates one.
    Attack("project-without-geometry-or-comuni", "projects", None, {"istat_codes": []},
           fields=frozenset({"istat_codes"}), status=422,
           paths=("post", "put", "patch", "batch", "op")),
]
REACH_CASES = [pytest.param(a, path, id=f"{a.id}-{path}") for a in ATTACKS for path in a.paths]


@pytest.fixture(scope="module")
def shapes(sql):
    return reach_shapes.build(sql)


@pytest.fixture(scope="module")
def sesto_site(sql) -> int:
    return sql("SELECT min(id) FROM rigenera.sites WHERE istat_code = %s", (SESTO,))[0][0]


def reach_feature(cid: str, geometry: Any, props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": {**PROPS[cid], **props}, "geometry": geometry}


def admin_create(api: httpx.Client, body: dict[str, Any]) -> str:
    cid = body.pop("_cid")
    r = api.post(f"/ogc/collections/{cid}/items", json=body, headers={**GEOJSON, **basic("admin")})
    assert r.status_code == 201, r.text
    return r.headers["location"].rsplit("/", 1)[1]


@pytest.mark.parametrize(("attack", "path"), REACH_CASES)
def test_reach_cannot_be_bypassed_by_geometry(api, sql, fingerprint, shapes, sesto_site,
                                              attack, path):
    cid, tecnico = attack.cid, basic("tecnico")
    props = {k: [sesto_site if x == SESTO_SITE else x for x in v] if isinstance(v, list) else v
             for k, v in attack.props.items()}
    geometry = shapes[attack.shape].geometry if attack.shape else None
    own = reach_feature(cid, shapes[OWN[cid]].geometry, {NAME[cid]: f"Propria {attack.id}"})
    change: dict[str, Any] = {"properties": props}
    if attack.shape != OWN[cid]:
        change["geometry"] = geometry
    fid = None
    if path in ("put", "patch", "op", "revert"):
        fid = admin_create(api, {**own, "_cid": cid})
    elif path in ("delete", "options"):  # the feature as it is must be within reach
        fid = admin_create(api, {**reach_feature(cid, geometry, props), "_cid": cid})
    elif path == "batch":
        fids = [admin_create(api, {**own, "_cid": cid}) for _ in range(3)]
        fid = fids[1]
    if path == "revert":  # version 2 is the attack, version 3 the feature back home
        home = {"istat_code": MILANO, "istat_codes": [MILANO], "site_ids": []}
        for body in (change, {"geometry": own["geometry"],
                              "properties": {k: home[k] for k in props}}):
            r = api.patch(f"/ogc/collections/{cid}/items/{fid}", json=body,
                          headers={**MERGE, **basic("admin")})
            assert r.status_code == 204, r.text
    url = f"/ogc/collections/{cid}/items/{fid}"
    before, rows_before = fingerprint(), count(sql, cid)

    if path == "post":
        r = api.post(f"/ogc/collections/{cid}/items", json=reach_feature(cid, geometry, props),
                     headers={**GEOJSON, **tecnico})
    elif path == "put":
        r = api.put(url, json=reach_feature(cid, geometry, props),
                    headers={**GEOJSON, **tecnico, "If-Match": '"1"'})
    elif path == "patch":
        r = api.patch(url, json=change, headers={**MERGE, **tecnico, "If-Match": '"1"'})
    elif path == "delete":
        r = api.delete(url, headers={**tecnico, "If-Match": '"1"'})
    elif path in ("batch", "op"):
        ops = [{"action": "patch", "collection": cid, "id": fid, "base_version": 1,
                "feature": change, "ref": "attacco"}]
        if path == "batch":  # several updates at once: the set-wise path is tried first
            ops = [{"action": "patch", "collection": cid, "id": other, "base_version": 1,
                    "feature": {"properties": PATCH[cid]}, "ref": f"innocua {n}"}
                   for n, other in enumerate(fids)]
            ops[1] = {**ops[1], "feature": change, "ref": "attacco"}
        r = api.post("/api/changesets", json={"operations": ops}, headers=tecnico)
    elif path == "revert":
        r = api.post(f"/api/collections/{cid}/items/{fid}/revert", json={"version": 2},
                     headers=tecnico)
    else:
        r = api.options(url, headers=tecnico)
        methods = {m.strip() for m in r.headers["allow"].split(",")}
        assert r.status_code == 204
        assert ({"PUT", "PATCH", "DELETE"} <= methods) is attack.allowed, methods
        return

    if attack.allowed:
        assert r.status_code < 300, (r.status_code, r.text[:500])
        assert fingerprint() != before
        return
    assert r.status_code == attack.status, (r.status_code, r.text[:800])
    doc = r.json()
    assert doc["code"] == ("Forbidden" if attack.status == 403 else doc["code"])
    errors = doc.get("errors") or []
    if path in ("batch", "op"):  # the changeset names the operation that went too far
        (problem,) = doc["problems"]
        assert problem["ref"] == "attacco" and problem["status"] == attack.status, problem
        errors = problem["errors"]
    expected = attack.fields
    if expected is None:
        comune = shapes[attack.shape].comune
        expected = frozenset({"geometry"} | ({"istat_code"} if comune != MILANO and cid in (
            "sites", "transit_stops") else set()))
    assert {e["field"] for e in errors} == expected, errors
    assert all(e["reason"].strip() for e in errors)
    assert fingerprint() == before, "a refused write changed the database"
    assert count(sql, cid) == rows_before


def test_reach_matrix_covers_every_path():
    assert {p for a in ATTACKS for p in a.paths} == set(REACH_PATHS)
    assert len(REACH_CASES) >= 80


@pytest.mark.parametrize("role", [*ROLE_USERS, "wrong_password"])
def test_the_planners_process_is_public(api, fingerprint, role):
    """sites-near-transit answers every caller alike, with or without credentials (the QGIS
    plugin runs it anonymously when headless QGIS cannot open the saved credentials), and
    writes nothing. Credentials that are sent are checked: wrong ones are a 401, never
    silently treated as anonymous."""
    before = fingerprint()
    user = ROLE_USERS.get(role)
    headers = basic("admin", "not-the-password") if role == "wrong_password" else \
        basic(user) if user else {}
    r = api.post("/ogc/processes/sites-near-transit/execution", headers=headers,
                 json={"inputs": {"distance_m": 500, "modes": ["metro", "tram"]}})
    if role == "wrong_password":
        assert r.status_code == 401, r.text
        assert fingerprint() == before
        return
    assert r.status_code == 200, r.text
    assert r.json()["type"] == "FeatureCollection"
    anonymous = api.post("/ogc/processes/sites-near-transit/execution",
                         json={"inputs": {"distance_m": 500, "modes": ["metro", "tram"]}})
    assert r.json()["features"] == anonymous.json()["features"]
    assert fingerprint() == before
