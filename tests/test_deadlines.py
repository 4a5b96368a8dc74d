"""The reporting calendar: rigenera.project_deadlines() (0016, refined in 0022) on a project
with known dates gives exactly the expected list; GET /api/deadlines?within= and
/api/deadlines/overdue (per comune, referents only for the office's accounts, CSV twin) over real HTTP,
against expectations computed here from the dates, independently of the SQL."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from conftest import MILANO, SESTO, basic, query
from monitoring_data import document_row, execute, progress, project, referent
from rigenera.monitoring import models

D = dt.date


@pytest.fixture(scope="module")
def known(db):
    """Started 10 Feb 2024 with a granted PNRR line; February's data entered on 5 March
    (on time), March's on 25 April (late), April's never, completed on 31 May (entered 10
    June); the Q1 expense statement filed on 15 April, Q2's never."""
    pid = project(db, "Calendario noto", [MILANO], start=D(2024, 2, 10))
    progress(db, pid, D(2024, 2, 29), "works", recorded=D(2024, 3, 5))
    progress(db, pid, D(2024, 3, 31), "works", recorded=D(2024, 4, 25))
    progress(db, pid, D(2024, 5, 31), "completed", recorded=D(2024, 6, 10), pct=100)
    document_row(db, pid, "expense_statement", "works", D(2024, 3, 31), D(2024, 4, 15))
    return pid


def deadlines(db, pid, horizon):
    return query(db, "SELECT obligation, period_start, period_end, due_on, done_on"
                     " FROM rigenera.project_deadlines(%s) WHERE project_id = %s"
                     " ORDER BY obligation, period_start", (horizon, pid))


EXPECTED = [
    ("expense_report", D(2024, 1, 1), D(2024, 3, 31), D(2024, 4, 20), D(2024, 4, 15)),
    ("expense_report", D(2024, 4, 1), D(2024, 6, 30), D(2024, 7, 20), None),
    ("regis_monthly", D(2024, 2, 1), D(2024, 2, 29), D(2024, 3, 20), D(2024, 3, 5)),
    ("regis_monthly", D(2024, 3, 1), D(2024, 3, 31), D(2024, 4, 20), D(2024, 4, 25)),
    ("regis_monthly", D(2024, 4, 1), D(2024, 4, 30), D(2024, 5, 20), None),
    ("regis_monthly", D(2024, 5, 1), D(2024, 5, 31), D(2024, 6, 20), D(2024, 6, 10)),
]


def test_known_project_has_exactly_the_expected_deadlines(db, known):
    assert deadlines(db, known, D(2026, 1, 1)) == EXPECTED
    assert deadlines(db, known, D(2030, 6, 30)) == EXPECTED  # completed: the horizon no matter


def test_calendar_as_of_a_day_lists_only_the_periods_begun_by_then(db, known):
    # 0022: a horizon before the completion bounds the periods (0016 ran them to completion).
    assert deadlines(db, known, D(2024, 3, 15)) == [EXPECTED[0], EXPECTED[2], EXPECTED[3]]


def test_finished_project_without_a_completion_record_ends_on_its_end_date(db):
    pid = project(db, "Concluso da ReGiS", [MILANO], start=D(2023, 11, 3), end=D(2024, 1, 15),
                  status="completed")
    assert deadlines(db, pid, D(2026, 1, 1)) == [
        ("expense_report", D(2023, 10, 1), D(2023, 12, 31), D(2024, 1, 20), None),
        ("expense_report", D(2024, 1, 1), D(2024, 3, 31), D(2024, 4, 20), None),
        ("regis_monthly", D(2023, 11, 1), D(2023, 11, 30), D(2023, 12, 20), None),
        ("regis_monthly", D(2023, 12, 1), D(2023, 12, 31), D(2024, 1, 20), None),
        ("regis_monthly", D(2024, 1, 1), D(2024, 1, 31), D(2024, 2, 20), None),
    ]


def test_project_without_a_start_date_runs_from_its_first_record(db):
    pid = project(db, "ReGiS senza data di avvio", [MILANO])
    assert deadlines(db, pid, D(2024, 6, 30)) == []
    progress(db, pid, D(2024, 4, 30), "design", recorded=D(2024, 5, 2))
    assert deadlines(db, pid, D(2024, 6, 30)) == [
        ("expense_report", D(2024, 4, 1), D(2024, 6, 30), D(2024, 7, 20), None),
        ("regis_monthly", D(2024, 4, 1), D(2024, 4, 30), D(2024, 5, 20), D(2024, 5, 2)),
        ("regis_monthly", D(2024, 5, 1), D(2024, 5, 31), D(2024, 6, 20), None),
        ("regis_monthly", D(2024, 6, 1), D(2024, 6, 30), D(2024, 7, 20), None),
    ]


def test_no_obligations_without_a_granted_line_a_start_or_when_rejected(db):
    requested = project(db, "Solo richiesto", [MILANO], start=D(2024, 1, 1), granted=False)
    unstarted = project(db, "Non avviato", [MILANO])  # no start date, no record
    rejected = project(db, "Respinto", [MILANO], start=D(2024, 1, 1), status="rejected")
    regional = project(db, "Regionale", [MILANO], start=D(2024, 1, 1), funding_source="regional")
    for pid in (requested, unstarted, rejected, regional):
        assert deadlines(db, pid, D(2026, 1, 1)) == []


# ------------------------------------------------------------------------------ the API
def months_back(day: dt.date, n: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - n
    return D(index // 12, index % 12 + 1, 1)


def monthly_due(start: dt.date, until: dt.date) -> list[tuple[dt.date, dt.date]]:
    """(period start, due day) of the monthly obligation from start's month to until."""
    out, first = [], D(start.year, start.month, 1)
    while first <= until:
        nxt = months_back(first, -1)
        out.append((first, D(nxt.year, nxt.month, 20)))
        first = nxt
    return out


@pytest.fixture(scope="module")
def today(db):
    return query(db, "SELECT current_date")[0][0]


@pytest.fixture(scope="module")
def running(db, today):
    """A project of Milano and Sesto begun four months ago with no evidence at all, and a
    Milano referent; only its monthly obligation is looked at (obligation filter)."""
    start = months_back(today, 4).replace(day=5)
    pid = project(db, "In corso senza dati", [MILANO, SESTO], start=start)
    referent(db, MILANO, "Maria Rossi", "+39 02 1234567")
    return pid, start


def test_deadlines_within_a_span(api, running, today):
    pid, start = running
    for within, until in (("30d", today + dt.timedelta(days=30)),
                          ("4w", today + dt.timedelta(days=28)), ("75", today + dt.timedelta(75))):
        r = api.get("/api/deadlines", params={"within": within, "project_id": pid,
                                              "obligation": "regis_monthly"})
        assert r.status_code == 200, r.text
        expected = [(s.isoformat(), due.isoformat()) for s, due in monthly_due(start, until)
                    if today <= due <= until]
        got = [(d["period_start"], d["due_on"]) for d in r.json()["items"]]
        assert got == expected and got, within
        assert all(d["days_left"] == (D.fromisoformat(d["due_on"]) - today).days
                   for d in r.json()["items"])
        assert r.json()["items"][0]["obligation_title"]["it"].startswith("Aggiornamento")
        models.Upcoming.model_validate(r.json())  # the documented shape


@pytest.mark.parametrize("within", ["30x", "", "-3d", "d", "9999d", "25m", "1e3d"])
def test_bad_within_is_400_naming_it(api, within):
    r = api.get("/api/deadlines", params={"within": within})
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["field"] == "within"


@pytest.mark.parametrize(("params", "field"), [
    ({"istat_code": "12"}, "istat_code"), ({"istat_code": "999999"}, "istat_code"),
    ({"obligation": "weekly"}, "obligation")])
def test_bad_filters_are_400_naming_them(api, params, field):
    for path in ("/api/deadlines", "/api/deadlines/overdue"):
        r = api.get(path, params=params)
        assert r.status_code == 400, r.text
        assert r.json()["errors"][0]["field"] == field


def test_overdue_grouped_per_comune_with_referents_for_the_office_only(api, db, running, today):
    pid, start = running
    expected = [(s.isoformat(), due.isoformat()) for s, due in monthly_due(start, today)
                if due < today]
    params = {"project_id": pid, "obligation": "regis_monthly"}
    anonymous = api.get("/api/deadlines/overdue", params=params).json()
    assert [g["istat_code"] for g in anonymous["comuni"]] == [MILANO, SESTO]  # by name
    for group in anonymous["comuni"]:
        assert "referents" not in group
        assert [(d["period_start"], d["due_on"]) for d in group["deadlines"]] == expected
        assert all(d["days_overdue"] == (today - D.fromisoformat(d["due_on"])).days
                   for d in group["deadlines"])
    assert anonymous["count"] == 2 * len(expected) >= 6
    models.Overdue.model_validate(anonymous)
    technician = api.get("/api/deadlines/overdue", params=params, headers=basic("tecnico"))
    assert technician.status_code == 200
    assert all("referents" not in g for g in technician.json()["comuni"])  # not the office
    for user in ("coord", "volontario"):
        groups = api.get("/api/deadlines/overdue", params=params, headers=basic(user)).json()
        people = {g["istat_code"]: [r["full_name"] for r in g["referents"]]
                  for g in groups["comuni"]}
        # The comuni's referents: Maria Rossi and the demo's invented ones (issue 12).
        stored = {code: [n for c, n in query(
            db, "SELECT istat_code, full_name FROM rigenera.referents ORDER BY full_name, id")
            if c == code] for code in (MILANO, SESTO)}
        assert "Maria Rossi" in stored[MILANO]
        assert people == stored, user
        models.Overdue.model_validate(groups)
    one = api.get("/api/deadlines/overdue", params={**params, "istat_code": SESTO}).json()
    assert [g["istat_code"] for g in one["comuni"]] == [SESTO]


def test_overdue_csv_twin(api, running, today):
    pid, _ = running
    params = {"project_id": pid, "obligation": "regis_monthly", "f": "csv"}
    r = api.get("/api/deadlines/overdue", params=params, headers=basic("coord"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    json_doc = api.get("/api/deadlines/overdue", params={**params, "f": "json"},
                       headers=basic("coord")).json()
    assert len(rows) == json_doc["count"]
    assert {r["istat_code"] for r in rows} == {MILANO, SESTO}
    assert all("Maria Rossi" in r["referents"] for r in rows if r["istat_code"] == MILANO)
    public = api.get("/api/deadlines/overdue", params=params)
    assert b"Maria Rossi" not in public.content and b"referents" not in public.content
    upcoming = api.get("/api/deadlines", params={**params, "within": "2m"})
    assert upcoming.status_code == 200
    assert upcoming.content.decode("utf-8-sig").splitlines()[0].startswith("project_id,")


# ------------------------------------------------------------------------ real data
REAL_FILES = ("cmm_comuni_istat2023.geojson", "cmm_comuni_popolazione_2023.csv",
              "cmm_confine.geojson", "pnrr_progetti_validati_cmm_2023-02.csv",
              "pnrr_localizzazioni_universo_regis_cmm_2023-03-01.csv",
              "rigenerazione_urbana_dm2021-12-30_all3_finanziati_cmm.csv",
              "rigenerazione_urbana_dm2021-12-30_all1_istanze_cmm.csv")


def test_real_projects_calendar(make_database, shared_data, tmp_path):
    """The real ReGiS and DM 30/12/2021 projects carry no start date: no calendar until a
    record is entered; with one January 2024 record each, every project with a granted
    PNRR line owes exactly Jan-Mar (January met) and Q1 by the end of March 2024."""
    import shutil
    import time

    from rigenera.imports.sources import load_open_data

    for name in REAL_FILES:
        shutil.copy(shared_data / name, tmp_path / name)
    dsn = make_database()
    load_open_data(dsn, tmp_path)
    assert query(dsn, "SELECT count(*) FROM rigenera.project_deadlines('2026-01-01')") == [(0,)]
    funded = {r[0] for r in query(
        dsn, "SELECT DISTINCT p.id FROM rigenera.projects p JOIN rigenera.funding_lines f ON"
             " f.project_id = p.id WHERE f.funding_source = 'pnrr' AND f.status = 'granted'"
             " AND p.status <> 'rejected'")}
    assert len(funded) > 300
    execute(dsn, "INSERT INTO rigenera.progress_reports (project_id, reference_date, phase,"
                 " source, created_at, updated_at) SELECT id, '2024-01-31', 'design', 'test',"
                 " '2024-02-10', '2024-02-10' FROM rigenera.projects", replica=True)
    started = time.monotonic()
    rows = query(dsn, "SELECT project_id, obligation, period_start, due_on, done_on"
                      " FROM rigenera.project_deadlines('2024-03-31')")
    seconds = time.monotonic() - started
    expected = {(pid, *row) for pid in funded for row in (
        ("regis_monthly", D(2024, 1, 1), D(2024, 2, 20), D(2024, 2, 10)),
        ("regis_monthly", D(2024, 2, 1), D(2024, 3, 20), None),
        ("regis_monthly", D(2024, 3, 1), D(2024, 4, 20), None),
        ("expense_report", D(2024, 1, 1), D(2024, 4, 20), None))}
    assert len(rows) == len(expected) and set(rows) == expected
    print(f"project_deadlines over {len(funded)} real projects: {seconds:.3f} s")
    assert seconds < 5, seconds


def test_an_uploaded_expense_statement_meets_its_quarter(api, db, running, today):
    """End to end: the quarter's overdue expense report disappears once an expense
    statement covering it is uploaded, and is then done today."""
    from monitoring_data import PDF

    pid, start = running
    params = {"project_id": pid, "obligation": "expense_report", "istat_code": MILANO}

    def overdue_periods():
        groups = api.get("/api/deadlines/overdue", params=params).json()["comuni"]
        return [d["period_start"] for g in groups for d in g["deadlines"]]

    quarter = D(start.year, (start.month - 1) // 3 * 3 + 1, 1)
    before = overdue_periods()
    assert quarter.isoformat() in before
    r = api.post(f"/api/projects/{pid}/documents", headers=basic("coord"),
                 data={"kind": "expense_statement", "reference_date": start.isoformat()},
                 files={"file": ("rendiconto.pdf", PDF, "application/pdf")})
    assert r.status_code == 201, r.text
    assert overdue_periods() == [p for p in before if p != quarter.isoformat()]
    done = query(db, "SELECT done_on FROM rigenera.project_deadlines() WHERE"
                     " project_id = %s AND obligation = 'expense_report' AND"
                     " period_start = %s", (pid, quarter))
    assert done == [(today,)]
