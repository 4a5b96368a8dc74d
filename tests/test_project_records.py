"""A project's records (progress reports, milestones and targets, tenders) over real HTTP:
the nested routes /api/projects/{id}/{progress|milestones|tenders}[/{rid}] and changesets,
through the one editing service: roles and a technician's reach (the project's), ETag and
If-Match (412 with the database unchanged), history and revert, late milestones, and every
bad input a 4xx naming its field with the database unchanged.
"""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from conftest import MILANO, basic, query

JSON = {"Content-Type": "application/json"}
STATE_SQL = """SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
    SELECT 'r' || r.id || r.version || md5(r::text) x FROM rigenera.progress_reports r
    UNION ALL SELECT 'm' || m.id || m.version || md5(m::text) FROM rigenera.milestones m
    UNION ALL SELECT 't' || t.id || t.version || md5(t::text) FROM rigenera.tenders t
    UNION ALL SELECT 'h' || h.id FROM rigenera.history h) q"""


def state(db: str) -> object:
    return query(db, STATE_SQL)[0][0]


@pytest.fixture(scope="module")
def projects(db: str) -> dict[str, int]:
    """A project wholly in Milano (the technician's), of its own (the demo's Milano project
    has progress records of its own), and one that is not."""
    mine = query(db, "WITH p AS (INSERT INTO rigenera.projects (title, status, source, source_id)"
                     "           VALUES ('Progetto di prova, Milano', 'works', 'test', 'records')"
                     "           RETURNING id),"
                     " c AS (INSERT INTO rigenera.project_comuni SELECT id, %s FROM p)"
                     " SELECT id FROM p", (MILANO,))[0][0]
    assert query(db, "SELECT rigenera.reach_problems(p, ARRAY[%s]) FROM rigenera.projects p"
                     " WHERE id = %s", (MILANO, mine)) == [([],)]
    other = query(db, "SELECT min(id) FROM rigenera.projects p"
                      " WHERE rigenera.reach_problems(p, ARRAY[%s]) <> '[]'", (MILANO,))[0][0]
    assert mine and other
    return {"mine": mine, "other": other}


def refused(r: httpx.Response, status: int, field: str) -> dict[str, object]:
    assert r.status_code == status, (r.status_code, r.text)
    doc = r.json()
    fields = {e["field"] for e in doc.get("errors") or []}
    fields |= {e["field"] for p in doc.get("problems") or [] for e in p.get("errors") or []}
    assert field in fields, doc
    assert " / " in doc["description"], doc
    return doc


def post(api: httpx.Client, pid: int, kind: str, body: dict[str, object],
         user: str = "tecnico") -> httpx.Response:
    return api.post(f"/api/projects/{pid}/{kind}", json=body, headers={**JSON, **basic(user)})


PROGRESS = {"reference_date": "2026-03-31", "phase": "works", "physical_progress_pct": 35.5,
            "spent_eur": 120000.25, "paid_eur": 100000, "notes": "Cantiere aperto"}


def test_progress_crud_etag_conflict_history_revert(api, db, projects):
    pid = projects["mine"]
    r = post(api, pid, "progress", PROGRESS)
    assert r.status_code == 201, r.text
    assert r.headers["etag"] == '"1"'
    rec = r.json()
    rid = rec["id"]
    assert r.headers["location"].endswith(f"/api/projects/{pid}/progress/{rid}")
    assert rec["project_id"] == pid and rec["phase"] == "works" and rec["source"] == "Rigenera"
    assert "created_by" not in rec and "updated_by" not in rec
    # The latest record is the project's current state in pub.projects.
    assert query(db, "SELECT phase, physical_progress_pct FROM pub.projects WHERE id = %s",
                 (pid,))[0] == ("works", 35.5)
    listing = api.get(f"/api/projects/{pid}/progress").json()  # public
    assert [x["id"] for x in listing["records"]] == [rid]
    r = api.get(f"/api/projects/{pid}/progress/{rid}")
    assert r.status_code == 200 and r.headers["etag"] == '"1"'
    # PATCH with the right version, then a stale one: 412 with the current version.
    url = f"/api/projects/{pid}/progress/{rid}"
    r = api.patch(url, json={"physical_progress_pct": 50}, headers={
        "Content-Type": "application/merge-patch+json", "If-Match": '"1"', **basic("tecnico")})
    assert r.status_code == 200 and r.headers["etag"] == '"2"', r.text
    assert r.json()["physical_progress_pct"] == 50
    before = state(db)
    r = api.patch(url, json={"physical_progress_pct": 60}, headers={
        "Content-Type": "application/merge-patch+json", "If-Match": '"1"', **basic("tecnico")})
    assert r.status_code == 412 and r.json()["currentVersion"] == 2
    assert r.headers["etag"] == '"2"'
    r = api.put(url, json={**PROGRESS, "phase": "testing"}, headers={**JSON, "If-Match": '"1"',
                                                                     **basic("coord")})
    assert r.status_code == 412
    r = api.delete(url, headers={"If-Match": '"1"', **basic("coord")})
    assert r.status_code == 412
    assert state(db) == before
    # PUT resets what it omits (notes), keeps the project.
    r = api.put(url, json={"reference_date": "2026-03-31", "phase": "testing"},
                headers={**JSON, "If-Match": '"2"', **basic("coord")})
    assert r.status_code == 200, r.text
    assert r.json()["notes"] is None and r.json()["physical_progress_pct"] == 0
    # History: who and when; revert to version 1 brings back the first record.
    hist = api.get(f"/api/collections/progress_reports/items/{rid}/history",
                   headers=basic("coord")).json()["changes"]
    assert [(c["version"], c["actor"]) for c in hist] == [(1, "tecnico"), (2, "tecnico"),
                                                         (3, "coord")]
    assert hist[0]["after"]["notes"] == "Cantiere aperto"
    r = api.post(f"/api/collections/progress_reports/items/{rid}/revert", json={"version": 1},
                 headers=basic("tecnico"))
    assert r.status_code == 200, r.text
    assert query(db, "SELECT phase, physical_progress_pct, notes, version FROM"
                     " rigenera.progress_reports WHERE id = %s", (rid,))[0] == (
        "works", 35.5, "Cantiere aperto", 4)
    r = api.delete(url, headers={"If-Match": '"4"', **basic("tecnico")})
    assert r.status_code == 204
    assert api.get(url).status_code == 404
    assert query(db, "SELECT operation FROM rigenera.history WHERE collection ="
                     " 'progress_reports' AND feature_id = %s ORDER BY id DESC LIMIT 1",
                 (str(rid),))[0][0] == "delete"


def test_roles_and_reach(api, db, projects):
    mine, other = projects["mine"], projects["other"]
    before = state(db)
    refused(post(api, other, "progress", PROGRESS), 403, "project_id")
    refused(post(api, mine, "tenders", {"cig": "ABCDE12345"}, user="tecnico.sesto"), 403,
            "project_id")
    assert post(api, mine, "progress", PROGRESS, user="volontario").status_code == 403
    r = api.post(f"/api/projects/{mine}/progress", json=PROGRESS, headers=JSON)
    assert r.status_code == 401
    assert state(db) == before
    # The coordinator writes anywhere; Milano's technician then cannot touch that record,
    # nor move one of theirs to a project outside their comuni.
    r = post(api, other, "milestones", {"title": "Aggiudicazione", "planned_date": "2026-05-01"},
             user="coord")
    assert r.status_code == 201, r.text
    theirs = r.json()["id"]
    r = post(api, mine, "milestones", {"title": "Progetto esecutivo", "planned_date": "2026-02-01"})
    assert r.status_code == 201, r.text
    own = r.json()["id"]
    before = state(db)
    r = api.patch(f"/api/projects/{other}/milestones/{theirs}", json={"title": "x"},
                  headers={**JSON, **basic("tecnico")})
    refused(r, 403, "project_id")
    r = api.patch(f"/api/projects/{mine}/milestones/{own}", json={"project_id": other},
                  headers={**JSON, **basic("tecnico")})
    refused(r, 403, "project_id")
    r = api.post("/api/changesets", json={"operations": [
        {"action": "patch", "collection": "milestones", "id": own, "base_version": 1,
         "feature": {"properties": {"project_id": other}}}]}, headers=basic("tecnico"))
    refused(r, 403, "project_id")
    assert state(db) == before
    # A record is reached through its own project only.
    assert api.get(f"/api/projects/{mine}/milestones/{theirs}").status_code == 404
    assert api.delete(f"/api/projects/{mine}/milestones/{theirs}",
                      headers=basic("coord")).status_code == 404
    assert api.get(f"/api/projects/{mine}/budgets").status_code == 404
    assert api.get("/api/projects/987654321/progress").status_code == 404
    assert post(api, 987654321, "progress", PROGRESS, user="coord").status_code == 404


def test_milestones_late_flag(api, db, projects):
    pid = projects["mine"]
    today = date.today()
    cases = {
        "reached late": ("2025-01-10", "2025-01-20", True, 10),
        "reached early": ("2025-01-10", "2025-01-05", False, 0),
        "open, overdue": ("2025-01-10", None, True, (today - date(2025, 1, 10)).days),
        "open, future": ("2099-01-01", None, False, 0),
    }
    for title, (planned, actual, _late, _days) in cases.items():
        r = post(api, pid, "milestones", {"title": title, "planned_date": planned,
                                          "actual_date": actual})
        assert r.status_code == 201, r.text
    records = api.get(f"/api/projects/{pid}/milestones").json()["records"]
    got = {m["title"]: (m["late"], m["days_late"]) for m in records if m["title"] in cases}
    assert got == {t: (late, days) for t, (_p, _a, late, days) in cases.items()}
    # Targets: an indicator and the planned value; planned against achieved.
    r = post(api, pid, "milestones", {"title": "Alloggi", "kind": "target", "planned_date":
                                      "2026-06-30", "indicator": "housing_units_fragile",
                                      "planned_value": 24, "achieved_value": 10})
    assert r.status_code == 201, r.text
    assert (r.json()["planned_value"], r.json()["achieved_value"]) == (24, 10)


BAD = [
    ("progress", {**PROGRESS, "physical_progress_pct": 150}, 422, "physical_progress_pct"),
    ("progress", {**PROGRESS, "spent_eur": -1}, 422, "spent_eur"),
    ("progress", {**PROGRESS, "paid_eur": -1}, 422, "paid_eur"),
    ("progress", {**PROGRESS, "phase": "dreaming"}, 400, "phase"),
    ("progress", {**PROGRESS, "reference_date": "31/03/2026"}, 400, "reference_date"),
    ("progress", {**PROGRESS, "reference_date": None}, 400, "reference_date"),
    ("progress", {**PROGRESS, "project_id": 2**40}, 400, "project_id"),
    ("progress", {**PROGRESS, "colour": "red"}, 400, "colour"),
    ("milestones", {"title": "T", "kind": "target", "planned_date": "2026-01-01",
                    "indicator": "regenerated_m2"}, 422, "planned_value"),
    ("milestones", {"title": "T", "planned_date": "2026-01-01", "indicator": "other"}, 422,
     "unit"),
    ("milestones", {"title": " ", "planned_date": "2026-01-01"}, 422, "title"),
    ("milestones", {"title": "T", "planned_date": "2026-01-01", "indicator": "joy"}, 400,
     "indicator"),
    ("milestones", {"title": "T", "planned_date": "2026-01-01", "planned_value": -3}, 422,
     "planned_value"),
    ("tenders", {"cig": "abc"}, 422, "cig"),
    ("tenders", {"cig": "ABCDE12345", "amount_eur": -10}, 422, "amount_eur"),
    ("tenders", {"cig": "ABCDE12345", "award_date": "2026-13-01"}, 400, "award_date"),
    ("tenders", {"description": "senza CIG"}, 400, "cig"),
]


@pytest.mark.parametrize(("kind", "body", "status", "field"), BAD,
                         ids=[f"{k}-{f}-{s}" for k, _b, s, f in BAD])
def test_bad_input_names_the_field(api, db, projects, kind, body, status, field):
    before = state(db)
    refused(post(api, projects["mine"], kind, body, user="coord"), status, field)
    assert state(db) == before


def test_duplicates_and_unknown_project(api, db, projects):
    pid = projects["mine"]
    body = {**PROGRESS, "reference_date": "2026-04-30"}
    assert post(api, pid, "progress", body).status_code == 201
    assert post(api, pid, "tenders", {"cig": "ZZZZZ00001"}).status_code == 201
    before = state(db)
    refused(post(api, pid, "progress", body), 409, "reference_date")
    refused(post(api, pid, "tenders", {"cig": "ZZZZZ00001"}), 409, "cig")
    # In a changeset: an unknown project is named, and nothing of the changeset is written.
    ops = [{"action": "create", "collection": "tenders",
            "feature": {"type": "Feature", "properties": {"project_id": pid, "cig": "ZZZZZ00002"}}},
           {"action": "create", "collection": "progress_reports",
            "feature": {"type": "Feature", "properties": {**PROGRESS, "project_id": 987654321}}}]
    doc = refused(api.post("/api/changesets", json={"operations": ops}, headers=basic("coord")),
                  422, "project_id")
    assert [p["index"] for p in doc["problems"]] == [1]
    assert state(db) == before
    r = api.post("/api/changesets", json={"operations": ops[:1]}, headers=basic("coord"))
    assert r.status_code == 200 and r.json()["applied"][0]["collection"] == "tenders", r.text
    # Records are not Part 4 collections: no OGC writes for them.
    r = api.post("/ogc/collections/tenders/items", json=ops[0]["feature"],
                 headers={"Content-Type": "application/geo+json", **basic("coord")})
    assert r.status_code == 404
    assert api.options("/ogc/collections/tenders/items", headers=basic("coord")).status_code == 404


def test_changeset_of_every_record_kind_and_stale_base(api, db, projects):
    pid = projects["mine"]
    ops = [{"action": "create", "collection": c, "ref": c, "feature": {
        "type": "Feature", "properties": {"project_id": pid, **props}}}
        for c, props in (("progress_reports", {**PROGRESS, "reference_date": "2026-05-31"}),
                         ("milestones", {"title": "Collaudo", "planned_date": "2027-01-31"}),
                         ("tenders", {"cig": "QWERT12345", "amount_eur": 1500000.5}))]
    r = api.post("/api/changesets", json={"operations": ops}, headers=basic("tecnico"))
    assert r.status_code == 200, r.text
    ids = {a["collection"]: a["id"] for a in r.json()["applied"]}
    patches = [{"action": "patch", "collection": c, "id": i, "base_version": 1,
                "feature": {"properties": {"notes" if c != "tenders" else "contractor": "v2"}}}
               for c, i in ids.items()]
    r = api.post("/api/changesets", json={"operations": patches}, headers=basic("tecnico"))
    assert r.status_code == 200, r.text
    before = state(db)
    r = api.post("/api/changesets", json={"operations": patches}, headers=basic("tecnico"))
    assert r.status_code == 409
    assert {p["status"] for p in r.json()["problems"]} == {412}
    assert state(db) == before
    assert query(db, "SELECT contractor, version FROM rigenera.tenders WHERE id = %s",
                 (int(ids["tenders"]),))[0] == ("v2", 2)
