"""The per-phase checklist of documents, the list of projects missing some, and the monitoring
summary of a project (latest state, series, late milestones and targets, tenders,
deadlines) over real HTTP, on hand-built projects."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import MILANO, SESTO, basic, query
from monitoring_data import PDF, PNG, execute, progress, project
from rigenera.monitoring import models

D = dt.date


def upload(api, pid, content, name, kind, phase, user="coord"):
    r = api.post(f"/api/projects/{pid}/documents", data={"kind": kind, "phase": phase},
                 files={"file": (name, content, "application/octet-stream")},
                 headers=basic(user))
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture(scope="module")
def in_works(db, api):
    """A Sesto project in works (its latest record), with the DNSH checklist of design and
    a photo of works filed; an older record said tender."""
    pid = project(db, "Checklist in esecuzione", [SESTO], start=D(2024, 1, 10))
    progress(db, pid, D(2024, 3, 31), "tender")
    progress(db, pid, D(2024, 6, 30), "works", pct=35, spent="120000.50")
    upload(api, pid, PDF, "dnsh.pdf", "dnsh_checklist", "design")
    upload(api, pid, PNG, "cantiere.png", "photo", "works")
    upload(api, pid, PDF, "collaudo.pdf", "testing_certificate", "testing")  # not yet due
    return pid


def test_checklist_per_phase_up_to_the_current_one(api, in_works):
    r = api.get(f"/api/projects/{in_works}/checklist", headers=basic("volontario"))
    assert r.status_code == 200, r.text
    doc = r.json()
    models.Checklist.model_validate(doc)
    assert doc["phase"] == "works"
    assert [p["phase"] for p in doc["phases"]] == ["design", "tender", "works"]
    required = {p["phase"]: {k["kind"]: k["present"] for k in p["required"]}
                for p in doc["phases"]}
    assert required == {"design": {"dnsh_checklist": True}, "tender": {"tender_act": False},
                        "works": {"expense_statement": False, "photo": True,
                                  "progress_report": False}}
    assert doc["missing"] == [{"phase": "tender", "kind": "tender_act"},
                              {"phase": "works", "kind": "expense_statement"},
                              {"phase": "works", "kind": "progress_report"}]
    assert (doc["required_count"], doc["missing_count"], doc["complete"]) == (5, 3, False)
    design = doc["phases"][0]["required"][0]["documents"]
    assert [d["file_name"] for d in design] == ["dnsh.pdf"]


def test_project_without_records_is_in_design(api, db):
    pid = project(db, "Appena finanziato", [MILANO])
    doc = api.get(f"/api/projects/{pid}/checklist", headers=basic("tecnico")).json()
    assert doc["phase"] == "design"
    assert doc["missing"] == [{"phase": "design", "kind": "dnsh_checklist"}]
    assert api.get(f"/api/projects/{pid}/checklist").status_code == 401
    assert api.get("/api/projects/999999999/checklist", headers=basic("coord")).status_code == 404


def test_missing_list_per_comune(api, db, in_works):
    r = api.get("/api/checklist/missing", params={"istat_code": SESTO}, headers=basic("coord"))
    assert r.status_code == 200, r.text
    models.MissingList.model_validate(r.json())
    items = {i["id"]: i for i in r.json()["items"]}
    assert in_works in items
    assert [(m["phase"], m["kind"]) for m in items[in_works]["missing"]] == [
        ("tender", "tender_act"), ("works", "expense_statement"), ("works", "progress_report")]
    assert all(SESTO in i["istat_codes"] for i in items.values())
    # the same rule as the view the reports read
    expected = {r[0] for r in query(
        db, "SELECT DISTINCT m.project_id FROM rigenera.missing_documents m"
            " JOIN rigenera.project_comuni pc USING (project_id) JOIN rigenera.projects p"
            " ON p.id = m.project_id WHERE pc.istat_code = %s AND p.status <> 'rejected' AND"
            " (EXISTS (SELECT 1 FROM rigenera.funding_lines f WHERE f.project_id = p.id AND"
            " f.status = 'granted') OR EXISTS (SELECT 1 FROM rigenera.progress_reports r"
            " WHERE r.project_id = p.id))", (SESTO,))}
    assert set(items) == expected
    milano = api.get("/api/checklist/missing", params={"istat_code": MILANO},
                     headers=basic("coord")).json()
    assert in_works not in {i["id"] for i in milano["items"]}
    assert api.get("/api/checklist/missing", headers=basic("volontario")).status_code == 403
    bad = api.get("/api/checklist/missing", params={"istat_code": "1234"}, headers=basic("coord"))
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "istat_code"


def test_monitoring_summary(api, db, in_works):
    today = query(db, "SELECT current_date")[0][0]
    execute(db, "INSERT INTO rigenera.milestones (project_id, kind, title, planned_date,"
                " actual_date, source) VALUES (%s, 'milestone', 'Aggiudicazione', %s, %s, 't'),"
                " (%s, 'milestone', 'Consegna lavori', %s, NULL, 't'),"
                " (%s, 'milestone', 'Collaudo', %s, NULL, 't')",
            (in_works, D(2024, 3, 1), D(2024, 3, 11), in_works, today - dt.timedelta(days=5),
             in_works, today + dt.timedelta(days=40)))
    execute(db, "INSERT INTO rigenera.milestones (project_id, kind, title, planned_date,"
                " actual_date, indicator, planned_value, achieved_value, source) VALUES"
                " (%s, 'target', 'Superficie rigenerata', %s, %s, 'regenerated_m2', 1500, 1500,"
                " 't')", (in_works, D(2024, 6, 30), D(2024, 6, 1)))
    execute(db, "INSERT INTO rigenera.tenders (project_id, cig, amount_eur, award_date, source)"
                " VALUES (%s, 'A1B2C3D4E5', 250000.10, %s, 't')", (in_works, D(2024, 3, 11)))
    r = api.get(f"/api/projects/{in_works}/monitoring", headers=basic("volontario"))
    assert r.status_code == 200, r.text
    doc = r.json()
    models.Summary.model_validate(doc)
    assert doc["current"]["phase"] == "works" and doc["current"]["spent_eur"] == 120000.5
    assert [p["reference_date"] for p in doc["progress"]] == ["2024-03-31", "2024-06-30"]
    late = {m["title"]: (m["late"], m["days_late"]) for m in doc["milestones"]}
    assert late == {"Aggiudicazione": (True, 10), "Consegna lavori": (True, 5),
                    "Collaudo": (False, 0)}
    assert [(t["late"], t["days_late"]) for t in doc["targets"]] == [(False, 0)]
    assert doc["late_count"] == 2
    assert [(t["cig"], t["amount_eur"]) for t in doc["tenders"]] == [("A1B2C3D4E5", 250000.1)]
    assert len(doc["documents"]) == 3
    assert doc["checklist"]["missing_count"] == 3
    overdue = query(db, "SELECT count(*) FROM rigenera.project_deadlines() WHERE project_id = %s"
                        " AND done_on IS NULL AND due_on < current_date", (in_works,))[0][0]
    assert len(doc["deadlines"]["overdue"]) == overdue > 0
    assert {d["obligation"] for d in doc["deadlines"]["next"]} == {"regis_monthly",
                                                                  "expense_report"}
    assert all(d["days_left"] >= 0 for d in doc["deadlines"]["next"])
    assert api.get(f"/api/projects/{in_works}/monitoring").status_code == 401
