"""OGC API Processes run as asynchronous jobs (Prefer: respond-async), stored in PostgreSQL.

Over real HTTP against the app: 201 + Location, the job reaches `successful` and its
results equal the synchronous answer (sites-near-transit on the demo data, match-calls on
hand-built calls and needs); a job whose input is wrong fails with the OGC exception a
synchronous run would give, one whose statement breaks fails with a 500 without internals;
jobs are listed, dismissed, and their results survive a restart of the app; a job left
running by a server process that is gone is failed at the next start; no worker thread
outlives the app. OWSLib is a real client of the same endpoints.
"""

from __future__ import annotations

import subprocess
import threading
import time
from urllib.parse import urlparse

import httpx
import pytest
from owslib.ogcapi.processes import Processes

from conftest import MILANO, LiveServer, query
from rigenera.loaders.demo import load_demo

ASYNC = {"Prefer": "respond-async"}
NEAR = "/ogc/processes/sites-near-transit/execution"
MATCH = "/ogc/processes/match-calls/execution"
DATA_SQL = """
SELECT set_config('rigenera.import', 'on', true);
-- The module's own database: only the calls and needs built here, not the demo's.
DELETE FROM rigenera.needs WHERE source LIKE 'Demo%%';
DELETE FROM rigenera.calls WHERE source LIKE 'Demo%%';
INSERT INTO rigenera.calls (title, funder, funding_source, themes, eligible_beneficiaries,
                            closes_on, budget_eur, max_grant_eur, source, source_id) VALUES
 ('Cultura', 'Regione', 'regional', '{culture}', '{comune}', '2026-09-30', 1000000, 500000,
  'test-jobs', 'a'),
 ('Comunità', 'Stato', 'national', '{community,culture}', '{comune}', '2026-07-31', 900000,
  900000, 'test-jobs', 'b');
INSERT INTO rigenera.needs (istat_code, title, category, estimated_cost_eur, source)
VALUES (%(milano)s, 'Biblioteca', 'culture', 600000, 'test-jobs');
SELECT id FROM rigenera.needs WHERE source = 'test-jobs'
"""


@pytest.fixture(scope="module")
def need(db):
    return query(db, DATA_SQL, {"milano": MILANO})[0][0]


def submit(client, path, inputs, **extra):
    r = client.post(path, json={"inputs": inputs, **extra}, headers=ASYNC)
    assert r.status_code == 201, r.text
    assert r.headers["preference-applied"] == "respond-async"
    location = r.headers["location"]
    job_id = r.json()["jobID"]
    assert urlparse(location).path == f"/ogc/jobs/{job_id}"
    assert r.json()["status"] == "accepted"
    return job_id


def wait(client, job_id, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(f"/ogc/jobs/{job_id}")
        assert r.status_code == 200, r.text
        status = r.json()
        if status["status"] in ("successful", "failed"):
            return status
        assert status["status"] in ("accepted", "running")
        assert time.monotonic() < deadline, status
        time.sleep(0.1)


def jobs_in(db):
    return query(db, "SELECT count(*) FROM rigenera.process_jobs")[0][0]


def test_sites_near_transit_as_a_job_equals_the_synchronous_answer(api, db):
    inputs = {"distance_m": 800, "modes": ["metro", "rail"]}
    sync = api.post(NEAR, json={"inputs": inputs})
    assert sync.status_code == 200 and "location" not in sync.headers
    job_id = submit(api, NEAR, inputs)
    status = wait(api, job_id)
    assert status["status"] == "successful", status
    assert status["processID"] == "sites-near-transit" and status["progress"] == 100
    r = api.get(f"/ogc/jobs/{job_id}/results")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/geo+json"
    assert r.json() == sync.json() and r.json()["features"]


def test_match_calls_as_a_job_raw_and_document(api, need):
    inputs = {"need_id": need, "as_of": "2026-06-15"}
    sync = api.post(MATCH, json={"inputs": inputs}).json()
    assert [m["call"]["title"] for m in sync["matches"]] == ["Comunità"]
    assert [m["call"]["title"] for m in sync["near_misses"]] == ["Cultura"]
    raw, document = submit(api, MATCH, inputs), submit(api, MATCH, inputs, response="document")
    assert wait(api, raw)["status"] == wait(api, document)["status"] == "successful"
    assert api.get(f"/ogc/jobs/{raw}/results").json() == sync
    assert api.get(f"/ogc/jobs/{document}/results").json() == {"outputs": [sync]}


def test_synchronous_stays_the_default_and_stores_nothing(api, db, need):
    before = jobs_in(db)
    for headers in ({}, {"Prefer": "wait"}):
        r = api.post(MATCH, json={"inputs": {"need_id": need}}, headers=headers)
        assert r.status_code == 200 and "location" not in r.headers
    assert jobs_in(db) == before


def test_a_job_with_a_bad_input_fails_with_the_ogc_exception(api):
    job_id = submit(api, NEAR, {"distance_m": -5})
    status = wait(api, job_id)
    assert status["status"] == "failed"
    assert "distance_m" in status["message"]
    r = api.get(f"/ogc/jobs/{job_id}/results")
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == body["type"] == "InvalidParameterValue"
    assert body["description"].startswith("distance_m: ")


def test_match_calls_checks_its_inputs_before_accepting_a_job(api, db):
    before = jobs_in(db)
    r = api.post(MATCH, json={"inputs": {"need_id": 1, "istat_code": MILANO}}, headers=ASYNC)
    assert r.status_code == 400
    assert r.json()["description"].startswith("need_id: ")
    assert jobs_in(db) == before


def test_jobs_are_listed_newest_first_and_dismissed(api):
    first = submit(api, NEAR, {"distance_m": 300})
    second = submit(api, NEAR, {"distance_m": 400})
    wait(api, first), wait(api, second)
    listed = api.get("/ogc/jobs", params={"f": "json"}).json()["jobs"]
    ids = [j["jobID"] for j in listed]
    assert ids.index(second) < ids.index(first)
    assert [j["jobID"] for j in api.get("/ogc/jobs", params={"limit": 1}).json()["jobs"]] \
        == [ids[0]]
    r = api.delete(f"/ogc/jobs/{first}")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "dismissed"
    assert api.get(f"/ogc/jobs/{first}").status_code == 404
    assert api.get(f"/ogc/jobs/{first}/results").status_code == 404
    assert api.delete(f"/ogc/jobs/{first}").status_code == 404
    assert api.get(f"/ogc/jobs/{second}").status_code == 200
    assert api.get("/ogc/jobs", params={"f": "html"}).status_code == 200
    page = api.get(f"/ogc/jobs/{second}", params={"f": "html"})
    assert page.status_code == 200 and second in page.text
    for name, value in (("offset", "52798450645980400109618905219072"), ("offset", "-1"),
                        ("limit", "x"), ("limit", "0")):
        r = api.get("/ogc/jobs", params={name: value})
        assert r.status_code == 400, (name, value, r.text)
        assert r.json()["code"] == "InvalidParameterValue"


def test_results_not_ready_and_unknown_job(api, db):
    query(db, "INSERT INTO rigenera.process_jobs (identifier, process_id, status, worker)"
              " VALUES ('not-ready', 'match-calls', 'running', 'elsewhere:1') RETURNING 1")
    r = api.get("/ogc/jobs/not-ready/results")
    assert r.status_code == 404 and r.json()["code"] == "ResultNotReady"
    r = api.get("/ogc/jobs/nope/results")
    assert r.status_code == 404 and r.json()["code"] == "NoSuchJob"
    assert api.get("/ogc/jobs/nope").status_code == 404


def test_owslib_lists_describes_and_executes(live, need):
    client = Processes(f"{live.url}/ogc")
    assert {"sites-near-transit", "match-calls"} <= {p["id"] for p in client.processes()}
    described = client.process("match-calls")
    assert "async-execute" in described["jobControlOptions"]
    assert set(described["inputs"]) == {"need_id", "istat_code", "as_of", "include_near_misses"}
    out = client.execute("match-calls", {"need_id": need, "as_of": "2026-06-15"})
    assert [m["call"]["title"] for m in out["outputs"][0]["matches"]] == ["Comunità"]
    accepted = client.execute("match-calls", {"need_id": need, "as_of": "2026-06-15"},
                              async_=True)
    with httpx.Client(base_url=live.url, timeout=30) as http:
        assert wait(http, accepted["jobID"])["status"] == "successful"
        # OWSLib asks for a document: the job's results are that document.
        assert http.get(f"/ogc/jobs/{accepted['jobID']}/results").json() == out


def test_conformance_and_openapi_declare_jobs(api):
    classes = api.get("/ogc/conformance").json()["conformsTo"]
    base = "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/"
    assert {base + "job-list", base + "dismiss", base + "core"} <= set(classes)
    assert base + "callback" not in classes
    paths = api.get("/ogc/openapi", params={"f": "json"}).json()["paths"]
    assert {"/jobs", "/jobs/{jobId}", "/jobs/{jobId}/results"} <= set(paths)
    assert "delete" in paths["/jobs/{jobId}"]
    assert "201" in paths["/processes/match-calls/execution"]["post"]["responses"]


# ------------------------------------------------------------- restarts, failures, threads
def _threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("rigenera-job")}


def test_results_survive_a_restart_and_orphans_are_failed(make_database, tmp_path):
    dsn = make_database()
    load_demo(dsn)  # the comuni
    (need,) = query(dsn, DATA_SQL, {"milano": MILANO})[0]
    before = _threads()
    first = LiveServer(dsn, tmp_path / "a").start()
    try:
        with httpx.Client(base_url=first.url, timeout=30) as http:
            job_id = submit(http, MATCH, {"need_id": need, "as_of": "2026-06-15"})
            assert wait(http, job_id)["status"] == "successful"
            result = http.get(f"/ogc/jobs/{job_id}/results").json()
    finally:
        first.stop()
    assert _threads() <= before  # the app's worker threads ended with it
    # A job left running by a server process that no longer exists (a crash).
    gone = subprocess.Popen(["true"])
    gone.wait()
    query(dsn, "INSERT INTO rigenera.process_jobs (identifier, process_id, status, worker)"
               " VALUES ('orphan', 'match-calls', 'running', %s) RETURNING 1",
          (f"{__import__('socket').gethostname()}:{gone.pid}",))
    # Finished jobs are kept 30 days (processes/jobs.py RETENTION_DAYS).
    query(dsn, "INSERT INTO rigenera.process_jobs (identifier, process_id, status, finished)"
               " VALUES ('old', 'match-calls', 'successful', now() - interval '31 days'),"
               " ('recent', 'match-calls', 'failed', now() - interval '29 days') RETURNING 1")
    second = LiveServer(dsn, tmp_path / "b").start()
    try:
        with httpx.Client(base_url=second.url, timeout=30) as http:
            assert http.get(f"/ogc/jobs/{job_id}/results").json() == result
            assert http.get("/ogc/jobs/old").status_code == 404
            assert http.get("/ogc/jobs/recent").status_code == 200
            orphan = http.get("/ogc/jobs/orphan").json()
            assert orphan["status"] == "failed" and "riavvio" in orphan["message"]
            r = http.get("/ogc/jobs/orphan/results")
            assert r.status_code == 503 and r.json()["code"] == "NoApplicableCode"
            # A statement that breaks inside the process: a failed job, 500, no internals.
            query(dsn, "ALTER TABLE rigenera.calls RENAME TO calls_away; SELECT 1")
            broken = submit(http, MATCH, {"need_id": need})
            status = wait(http, broken)
            assert status["status"] == "failed"
            r = http.get(f"/ogc/jobs/{broken}/results")
            assert r.status_code == 500
            assert r.json()["description"] == "Errore interno del processo / internal process error"
            assert "calls" not in r.text
            r = http.post(MATCH, json={"inputs": {"need_id": need}})
            assert r.status_code == 500 and "calls" not in r.text
    finally:
        second.stop()
    assert _threads() <= before
