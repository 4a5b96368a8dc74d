"""match-calls: needs matched to funding calls, over HTTP and as an OGC API Process.

Hand-built calls and needs (SQL inserts into the module's own database) give every case:
eligible calls in a known order, near misses failing one criterion each (expired, not yet
open, too late for the need, over the maximum grant, comune, beneficiary, theme), one
failing two, and calls that must not appear (three criteria failed, expired more than a
year ago). The expected ranking is worked out by hand from the documented order
(sql/match.sql): criteria met, amounts known, coverage, closing date, grant, id.
"""

from __future__ import annotations

import pytest

from conftest import MILANO, SESTO, query
from rigenera.matching.http import ComuneMatches, NeedMatches

AS_OF = "2026-06-15"
SETUP_SQL = """
SELECT set_config('rigenera.import', 'on', true);
-- The module's own database: only the calls and needs built here, not the demo's.
DELETE FROM rigenera.needs WHERE source LIKE 'Demo%%';
DELETE FROM rigenera.calls WHERE source LIKE 'Demo%%';
INSERT INTO rigenera.referents (istat_code, full_name, email, notes)
VALUES (%(milano)s, 'Maria Referente', 'maria@example.org', 'test-matching');
INSERT INTO rigenera.calls (title, funder, funding_source, themes, eligible_beneficiaries,
                            eligible_istat_codes, opens_on, closes_on, budget_eur,
                            max_grant_eur, source, source_id) VALUES
 ('Cultura aperto', 'Regione', 'regional', '{culture,community}', '{comune}', NULL,
  '2026-01-01', '2026-09-30', 10000000, 1000000, 'test-matching', 'c1'),
 ('Cultura Milano', 'Fondazione', 'private', '{culture}', '{comune,terzo_settore}',
  '{015146,015209}', NULL, '2026-07-15', 5000000, 2000000, 'test-matching', 'c2'),
 ('Senza scadenza', 'Stato', 'national', '{}', '{comune}', NULL, NULL, NULL, 3000000, NULL,
  'test-matching', 'c3'),
 ('Nessun massimale', 'Stato', 'national', '{culture}', '{comune}', NULL, NULL, '2026-07-01',
  NULL, NULL, 'test-matching', 'c4'),
 ('Scaduto', 'Regione', 'regional', '{culture}', '{comune}', NULL, '2026-01-01', '2026-05-31',
  10000000, 1000000, 'test-matching', 'c5'),
 ('Non ancora aperto', 'Regione', 'regional', '{culture}', '{comune}', NULL, '2026-09-01',
  '2026-12-31', 10000000, 1000000, 'test-matching', 'c6'),
 ('Massimale basso', 'Regione', 'fesr', '{culture}', '{comune}', NULL, NULL, '2026-10-15',
  4000000, 500000, 'test-matching', 'c7'),
 ('Solo Sesto', 'Regione', 'regional', '{culture}', '{comune}', '{015209}', NULL, '2026-10-31',
  10000000, 1000000, 'test-matching', 'c8'),
 ('Solo terzo settore', 'Fondazione', 'private', '{culture}', '{terzo_settore}', NULL, NULL,
  '2026-11-30', 10000000, 1000000, 'test-matching', 'c9'),
 ('Mobilità', 'Ministero', 'national', '{mobility}', '{comune}', NULL, NULL, '2026-08-31',
  10000000, 1000000, 'test-matching', 'c10'),
 ('Abitare a Sesto', 'Ministero', 'national', '{housing}', '{comune}', '{015209}', NULL,
  '2026-10-31', 10000000, 1000000, 'test-matching', 'c11'),
 ('Abitare a Sesto per imprese', 'Ministero', 'national', '{housing}', '{impresa}', '{015209}',
  NULL, '2026-10-31', 10000000, 1000000, 'test-matching', 'c12'),
 ('Scaduto da tempo', 'Regione', 'regional', '{culture}', '{comune}', NULL, '2024-01-01',
  '2024-12-31', 10000000, 1000000, 'test-matching', 'c13'),
 ('Troppo tardi', 'Regione', 'regional', '{culture}', '{comune}', NULL, '2028-01-01',
  '2028-06-30', 10000000, 1000000, 'test-matching', 'c14'),
 ('Dotazione piccola', 'Comune', 'municipal', '{culture}', '{comune}', NULL, NULL,
  '2026-10-01', 700000, NULL, 'test-matching', 'c15');
INSERT INTO rigenera.needs (istat_code, title, category, applicant, priority, status,
                            estimated_cost_eur, needed_by, referent_id, source) VALUES
 (%(milano)s, 'Biblioteca di quartiere', 'culture', 'comune', 2, 'open', 800000,
  '2027-12-31', (SELECT id FROM rigenera.referents WHERE notes = 'test-matching'),
  'test-matching'),
 (%(milano)s, 'Alloggi temporanei', 'housing', 'comune', 1, 'open', NULL, NULL, NULL,
  'test-matching'),
 (%(milano)s, 'Teatro chiuso', 'culture', 'comune', 1, 'closed', 100000, NULL, NULL,
  'test-matching'),
 (%(sesto)s, 'Centro civico', 'community', 'comune', 3, 'open', 200000, NULL, NULL,
  'test-matching'),
 (%(milano)s, 'Mostra passata', 'culture', 'comune', 2, 'matched', 50000, '2026-01-31', NULL,
  'test-matching');
SELECT count(*) FROM rigenera.needs WHERE source = 'test-matching'
"""


@pytest.fixture(scope="module")
def ids(db):
    (n,) = query(db, SETUP_SQL, {"milano": MILANO, "sesto": SESTO})[0]
    assert n == 5
    calls = dict(query(db, "SELECT source_id, id FROM rigenera.calls WHERE source = 'test-matching'"))
    needs = dict(query(db, "SELECT title, id FROM rigenera.needs WHERE source = 'test-matching'"))
    return {**calls, "library": needs["Biblioteca di quartiere"],
            "housing": needs["Alloggi temporanei"], "theatre": needs["Teatro chiuso"],
            "civic": needs["Centro civico"], "past": needs["Mostra passata"]}


def matches(api, need, **params):
    r = api.get(f"/api/needs/{need}/matches", params={"as_of": AS_OF, **params})
    assert r.status_code == 200, r.text
    return r.json()


def by_call(entries, ids):
    names = {v: k for k, v in ids.items() if k[0] == "c" and k[1:].isdigit()}
    return [names[e["call"]["id"]] for e in entries]


def codes(entry, key="reasons"):
    return {r["criterion"]: r["code"] for r in entry[key]}


def test_a_need_gets_its_calls_ranked_with_reasons(api, ids):
    doc = matches(api, ids["library"])
    assert doc["as_of"] == AS_OF
    assert doc["need"]["id"] == ids["library"] and doc["need"]["comune"] == "Milano"
    # Full coverage for c2, c1, c3 (closing soonest first, open-ended last), then c4 whose
    # amount cannot be checked (no grant, no budget) although it closes sooner.
    assert by_call(doc["matches"], ids) == ["c2", "c1", "c3", "c4"]
    assert [m["rank"] for m in doc["matches"]] == [1, 2, 3, 4]
    m = {n: e for n, e in zip(by_call(doc["matches"], ids), doc["matches"], strict=True)}
    assert codes(m["c1"]) == {"theme": "theme_match", "beneficiary": "beneficiary_eligible",
                              "comune": "comune_any", "deadline": "open",
                              "amount": "within_max_grant"}
    assert codes(m["c2"])["comune"] == "comune_listed"
    assert codes(m["c3"]) == {"theme": "theme_any", "beneficiary": "beneficiary_eligible",
                              "comune": "comune_any", "deadline": "open",
                              "amount": "within_budget"}
    assert codes(m["c4"])["amount"] == "no_limit" and m["c4"]["amount_checked"] is False
    assert all(e["why_not"] == [] and e["criteria_met"] == 5 for e in doc["matches"])
    assert m["c2"]["days_left"] == 30 and m["c1"]["days_left"] == 107
    assert m["c3"]["days_left"] is None and m["c1"]["coverage_pct"] == 100
    c1 = {r["criterion"]: r for r in m["c1"]["reasons"]}
    assert c1["deadline"]["it"] == "Aperto: scade il 30/09/2026 (tra 107 giorni)"
    assert c1["deadline"]["en"] == "Open: closes on 2026-09-30 (in 107 days)"
    assert c1["amount"]["it"] == ("Il costo stimato 800.000,00 € rientra nel contributo "
                                  "massimo di 1.000.000,00 €")


def test_near_misses_say_why_not(api, ids):
    doc = matches(api, ids["library"], near_misses="true")
    # One criterion failed, full coverage by closing date; then partial coverage (c15 87.5 %,
    # c7 62.5 %); then two criteria failed (c11). Three failed (c12) and long expired (c13):
    # absent.
    assert by_call(doc["near_misses"], ids) == ["c5", "c10", "c8", "c9", "c6", "c14", "c15",
                                                "c7", "c11"]
    near = {n: e for n, e in zip(by_call(doc["near_misses"], ids), doc["near_misses"],
                                 strict=True)}
    assert {n: codes(e, "why_not") for n, e in near.items()} == {
        "c5": {"deadline": "expired"}, "c6": {"deadline": "not_yet_open"},
        "c14": {"deadline": "too_late"}, "c7": {"amount": "over_max_grant"},
        "c15": {"amount": "over_budget"},
        "c8": {"comune": "comune_not_eligible"}, "c9": {"beneficiary": "beneficiary_not_eligible"},
        "c10": {"theme": "theme_mismatch"},
        "c11": {"theme": "theme_mismatch", "comune": "comune_not_eligible"}}
    assert near["c11"]["criteria_met"] == 3 and near["c5"]["criteria_met"] == 4
    expired = near["c5"]["why_not"][0]
    assert expired["closed_on"] == "2026-05-31"
    assert expired["it"] == "Scaduto: chiuso il 31/05/2026"
    over = near["c7"]["why_not"][0]
    assert over["over_by_eur"] == 300000.0
    assert "supera di 300.000,00 € il massimo di 500.000,00 €" in over["it"]
    assert "exceeds the maximum of EUR 500,000.00 by EUR 300,000.00" in over["en"]
    assert near["c7"]["coverage_pct"] == 62.5 and near["c15"]["coverage_pct"] == 87.5
    budget = near["c15"]["why_not"][0]
    assert budget["over_by_eur"] == 100000.0
    assert budget["en"] == ("Over the call's budget: the estimated cost EUR 800,000.00 exceeds "
                            "the budget of EUR 700,000.00 by EUR 100,000.00")
    assert near["c6"]["why_not"][0]["opens_on"] == "2026-09-01"
    assert near["c6"]["why_not"][0]["days_to_open"] == 78
    assert "31/12/2027" in near["c14"]["why_not"][0]["it"]
    assert "Milano" in near["c8"]["why_not"][0]["it"]
    assert "Ente del Terzo settore" not in near["c9"]["why_not"][0]["it"]  # the need's kind
    assert "Comune" in near["c9"]["why_not"][0]["it"]
    assert "Mobilità" in near["c10"]["why_not"][0]["it"]
    # The criteria a near miss meets are still given as reasons.
    assert set(codes(near["c7"])) == {"theme", "beneficiary", "comune", "deadline"}


def test_without_near_misses_and_on_another_day(api, ids):
    doc = matches(api, ids["library"], near_misses="false")
    assert "near_misses" not in doc
    assert by_call(doc["matches"], ids) == ["c2", "c1", "c3", "c4"]
    later = matches(api, ids["library"], as_of="2026-09-10")
    # c2 and c4 have closed, c6 has opened (closes 2026-12-31, after c1's 2026-09-30).
    assert by_call(later["matches"], ids) == ["c1", "c6", "c3"]
    assert codes({"reasons": [r for e in later["near_misses"] if e["call"]["id"] == ids["c2"]
                              for r in e["why_not"]]}) == {"deadline": "expired"}


def test_unknown_cost_and_any_status_by_id(api, ids):
    doc = matches(api, ids["housing"])
    assert by_call(doc["matches"], ids) == ["c3"]
    assert codes(doc["matches"][0])["amount"] == "cost_unknown"
    assert doc["matches"][0]["amount_checked"] is False
    closed = matches(api, ids["theatre"])
    assert closed["need"]["status"] == "closed"
    # Its cost (100,000) is within c15's budget (700,000, closing on 2026-10-01) and c7's
    # maximum grant (500,000, closing on 2026-10-15).
    assert by_call(closed["matches"], ids) == ["c2", "c1", "c15", "c7", "c3", "c4"]


def test_a_need_whose_date_has_passed(api, ids):
    doc = matches(api, ids["past"])
    assert doc["matches"] == []
    near = {e["call"]["id"]: e for e in doc["near_misses"]}
    (late,) = near[ids["c1"]]["why_not"]
    assert late["code"] == "too_late"
    assert late["it"] == ("Troppo tardi: la data entro cui serve il bisogno (31/01/2026) è già "
                          "passata")


def test_a_comune_gets_all_its_open_needs_by_priority(api, ids):
    r = api.get(f"/api/comuni/{MILANO}/matches", params={"as_of": AS_OF})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["istat_code"] == MILANO and doc["comune"] == "Milano"
    # Priority 1 first; the closed need and Sesto's are not listed.
    assert [e["need"]["id"] for e in doc["needs"]] == [ids["housing"], ids["library"]]
    assert doc["open_needs"] == 2 and doc["needs_with_matches"] == 2
    single = matches(api, ids["library"])
    assert doc["needs"][1]["matches"] == single["matches"]
    assert doc["needs"][1]["near_misses"] == single["near_misses"]
    # Per call, the needs it fits: c3 (no theme limit) both, then by closing date.
    assert [(c["id"], c["need_ids"]) for c in doc["calls"]] == [
        (ids["c3"], [ids["housing"], ids["library"]]), (ids["c4"], [ids["library"]]),
        (ids["c2"], [ids["library"]]), (ids["c1"], [ids["library"]])]
    sesto = api.get(f"/api/comuni/{SESTO}/matches", params={"as_of": AS_OF}).json()
    assert [e["need"]["id"] for e in sesto["needs"]] == [ids["civic"]]
    # A comune without needs: an empty list, not a 404.
    empty = api.get("/api/comuni/015002/matches").json()
    assert empty["needs"] == [] and empty["open_needs"] == 0


def test_answers_are_what_the_openapi_document_says(api, ids):
    NeedMatches.model_validate(matches(api, ids["library"]))
    NeedMatches.model_validate(matches(api, ids["housing"], near_misses="false"))
    ComuneMatches.model_validate(api.get(f"/api/comuni/{MILANO}/matches").json())
    schema = api.get("/api/openapi.json").json()
    ok = schema["paths"]["/api/needs/{id}/matches"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["$ref"].endswith("/NeedMatches")


def test_no_personal_data(api, ids):
    text = api.get(f"/api/needs/{ids['library']}/matches").text
    assert "referent" not in text and "maria" not in text.lower()


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/api/needs/abc/matches", {}, "id"),
    ("/api/needs/0/matches", {}, "id"),
    ("/api/needs/99999999999999999999/matches", {}, "id"),
    ("/api/needs/{library}/matches", {"as_of": "2026-13-01"}, "as_of"),
    ("/api/needs/{library}/matches", {"as_of": "15/06/2026"}, "as_of"),
    ("/api/needs/{library}/matches", {"near_misses": "maybe"}, "near_misses"),
    ("/api/comuni/15146/matches", {}, "istat_code"),
    ("/api/comuni/01514x/matches", {}, "istat_code"),
    ("/api/comuni/015146/matches", {"as_of": "ieri"}, "as_of"),
])
def test_bad_input_is_400_naming_the_field(api, ids, path, params, field):
    r = api.get(path.format(library=ids["library"]), params=params)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == "InvalidParameterValue"
    assert body["description"].startswith(f"{field}: ") and " / " in body["description"]
    assert body["errors"][0]["field"] == field


def test_unknown_need_or_comune_is_404(api, ids):
    r = api.get("/api/needs/987654/matches")
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "id"
    r = api.get("/api/comuni/999999/matches")
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "istat_code"


# ----------------------------------------------------------------------------- the process
EXECUTE = "/ogc/processes/match-calls/execution"


def test_the_process_answers_as_the_routes(api, ids):
    r = api.post(EXECUTE, json={"inputs": {"need_id": ids["library"], "as_of": AS_OF}})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert "location" not in r.headers  # a synchronous run is not a stored job
    assert r.json() == matches(api, ids["library"])
    r = api.post(EXECUTE, json={"inputs": {"istat_code": MILANO, "as_of": AS_OF,
                                           "include_near_misses": False}})
    assert r.status_code == 200, r.text
    assert r.json() == api.get(f"/api/comuni/{MILANO}/matches",
                               params={"as_of": AS_OF, "near_misses": "false"}).json()
    doc = api.post(EXECUTE, json={"inputs": {"need_id": ids["library"], "as_of": AS_OF},
                                  "response": "document"}).json()
    assert doc == {"outputs": [matches(api, ids["library"])]}


@pytest.mark.parametrize(("inputs", "name"), [
    ({}, "need_id"),
    ({"need_id": 1, "istat_code": MILANO}, "need_id"),
    ({"need_id": "uno"}, "need_id"),
    ({"need_id": 0}, "need_id"),
    ({"need_id": True}, "need_id"),
    ({"need_id": 987654}, "need_id"),
    ({"istat_code": "123"}, "istat_code"),
    ({"istat_code": "999999"}, "istat_code"),
    ({"istat_code": MILANO, "as_of": "2026-02-30"}, "as_of"),
    ({"istat_code": MILANO, "as_of": 20260615}, "as_of"),
    ({"istat_code": MILANO, "include_near_misses": "forse"}, "include_near_misses"),
    ({"istat_code": MILANO, "comune": "Milano"}, "comune"),
])
def test_process_bad_inputs_are_400_naming_the_input(api, ids, inputs, name):
    r = api.post(EXECUTE, json={"inputs": inputs})
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == body["type"] == "InvalidParameterValue"
    assert body["description"].startswith(f"{name}: ") and " / " in body["description"]


def test_the_process_is_described(api):
    d = api.get("/ogc/processes/match-calls", headers={"Accept-Language": "en"}).json()
    assert d["title"] == "Funding calls matching needs"
    assert set(d["inputs"]) == {"need_id", "istat_code", "as_of", "include_near_misses"}
    assert d["jobControlOptions"] == ["sync-execute", "async-execute"]
    assert api.get("/ogc/processes/match-calls", params={"f": "html"}).status_code == 200
