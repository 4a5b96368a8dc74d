"""Evaluation (issue 11): every indicator on hand-built data equals a hand-computed value or
an independent plain-SQL one; per-comune sums add up to the metro figures; the transit share
equals an independent ST_DWithin(geography) count at several distances; bad input is a 400
naming the field. On the real data (skipped when absent): 133 comuni, Milano's PNRR euros
per inhabitant."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg2
import pytest

from conftest import LiveServer, query
from rigenera.evaluation import evaluation_tables
from rigenera.evaluation.tables import COMUNE_COLUMNS, METRO_COLUMNS
from rigenera.reports.model import Table

A, B, C, D = "015146", "015209", "015181", "015182"  # Milano, Sesto, then two more
AS_OF = "2026-06-30"


def square(x0: float, y0: float, x1: float, y1: float) -> str:
    return f"SRID=4326;MULTIPOLYGON((({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0})))"


SETUP = f"""
INSERT INTO rigenera.comuni (istat_code, name, population, ivsm, ivsm_year, source, geom) VALUES
  ('{A}', 'Milano', 1000, 99.0, 2018, 'test', '{square(9.10, 45.40, 9.14, 45.44)}'),
  ('{B}', 'Sesto San Giovanni', 500, 101.5, 2018, 'test', '{square(9.14, 45.40, 9.18, 45.44)}'),
  ('{C}', 'Terzo', 250, 102.0, 2018, 'test', '{square(9.18, 45.40, 9.22, 45.44)}'),
  ('{D}', 'Quarto', 400, NULL, NULL, 'test', '{square(9.22, 45.40, 9.26, 45.44)}');
SELECT rigenera.refresh_boundary();
INSERT INTO rigenera.transit_stops (id, mode, name, source, geom) VALUES
  (1, 'rail', 'FS A', 'test', 'SRID=4326;POINT(9.12 45.42)'),
  (2, 'metro', 'M B', 'test', 'SRID=4326;POINT(9.16 45.42)'),
  (3, 'bus', 'Bus C', 'test', 'SRID=4326;POINT(9.20 45.42)'),
  (4, 'tram', 'Tram D', 'test', 'SRID=4326;POINT(9.24 45.435)');
INSERT INTO rigenera.projects (id, title, status, scope, start_date, end_date, total_cost_eur,
    housing_units_fragile, cultural_space_m2, community_space_m2, regenerated_m2, geom_source,
    source, geom) VALUES
  (1, 'P1 Milano', 'works', 'local', '2026-01-10', '2026-04-30', 1000000.00, 10, 200.00, NULL,
   1000.00, 'surveyed', 'test', 'SRID=4326;POINT(9.1205 45.4205)'),
  (2, 'P2 Milano e Sesto', 'planned', 'local', NULL, '2026-12-31', NULL, 3, NULL, 33.33, NULL,
   'unknown', 'test', NULL),
  (3, 'P3 Sesto', 'completed', 'local', NULL, '2026-03-01', 250000.00, NULL, 100.00, NULL, NULL,
   'digitised', 'test', 'SRID=4326;POLYGON((9.1645 45.4245,9.1655 45.4245,9.1655 45.4255,'
   '9.1645 45.4255,9.1645 45.4245))'),
  (4, 'P4 area metropolitana', 'funded', 'metro_area', NULL, NULL, NULL, NULL, NULL, NULL, 500.00,
   'unknown', 'test', NULL),
  (5, 'P5 respinto', 'rejected', 'local', NULL, NULL, NULL, 99, NULL, NULL, NULL, 'unknown', 'test',
   'SRID=4326;POINT(9.12 45.42)'),
  (6, 'P6 Terzo', 'design', 'local', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'address', 'test',
   'SRID=4326;POINT(9.20 45.42)'),
  (7, 'P7 Quarto al punto del comune', 'idea', 'local', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   'comune_point', 'test', 'SRID=4326;POINT(9.24 45.435)');
INSERT INTO rigenera.project_comuni VALUES (1, '{A}'), (2, '{B}'), (2, '{A}'), (3, '{B}'),
  (5, '{A}'), (6, '{C}'), (7, '{D}');
INSERT INTO rigenera.funding_lines (project_id, funding_source, status, amount_eur, source) VALUES
  (1, 'pnrr', 'granted', 800000.00, 'test'), (1, 'municipal', 'granted', 100000.00, 'test'),
  (1, 'pnrr', 'requested', 50000.00, 'test'), (2, 'pnrr', 'granted', 100000.01, 'test'),
  (3, 'pnrr', 'granted', 200000.00, 'test'), (4, 'pnrr', 'granted', 50000.00, 'test'),
  (5, 'pnrr', 'granted', 999.00, 'test'), (6, 'pnrr', 'granted', 2500.00, 'test'),
  (6, 'pnrr', 'granted', NULL, 'test');
INSERT INTO rigenera.progress_reports (project_id, reference_date, phase, physical_progress_pct,
    spent_eur, paid_eur, source) VALUES
  (1, '2026-03-31', 'design', 20, 100000.00, 50000.00, 'test'),
  (1, '2026-05-31', 'works', 35.5, 300000.00, 200000.00, 'test'),
  (1, '2026-07-31', 'works', 60, 500000.00, 400000.00, 'test'),
  (3, '2026-02-28', 'completed', 100, 240000.00, 240000.00, 'test');
INSERT INTO rigenera.milestones (project_id, kind, title, planned_date, actual_date, indicator,
    planned_value, achieved_value, source) VALUES
  (1, 'target', 'm2 rigenerati', '2026-01-01', '2026-03-01', 'regenerated_m2', 1000, 400, 'test'),
  (1, 'target', 'alloggi', '2026-12-31', NULL, 'housing_units_fragile', 10, 4, 'test'),
  (1, 'milestone', 'aggiudicazione', '2026-05-01', NULL, NULL, NULL, NULL, 'test'),
  (2, 'milestone', 'progetto', '2026-02-15', '2026-02-10', NULL, NULL, NULL, 'test'),
  (3, 'target', 'spazi culturali', '2026-08-01', '2026-09-01', 'cultural_space_m2', 100, 100, 'test');
INSERT INTO rigenera.sites (id, name, istat_code, state, surface_declared_m2, validation_status,
    source, geom) VALUES
  (1, 'S1', '{A}', 'regenerated', NULL, 'validated', 'test',
   'SRID=4326;POLYGON((9.1210 45.4210,9.1220 45.4210,9.1220 45.4220,9.1210 45.4220,9.1210 45.4210))'),
  (2, 'S2', '{A}', 'abandoned', 1500.50, 'to_validate', 'test', 'SRID=4326;POINT(9.125 45.425)'),
  (3, 'S3', '{B}', 'underused', NULL, 'validated', 'test',
   'SRID=4326;POLYGON((9.1600 45.4230,9.1610 45.4230,9.1610 45.4240,9.1600 45.4240,9.1600 45.4230))'),
  (4, 'S4', '{C}', 'partly_used', 200.00, 'validated', 'test', 'SRID=4326;POINT(9.2001 45.4201)'),
  (5, 'S5', '{B}', 'regenerated', 777.00, 'rejected', 'test', 'SRID=4326;POINT(9.16 45.42)');
"""

ADDITIVE = [c.name for c in COMUNE_COLUMNS if c.kind in ("eur", "number")
            and c.name not in ("physical_progress_pct", "ivsm", "pnrr_eur_per_inhabitant")] + [
    "sites", "sites_regenerated", "sites_to_regenerate", "sites_near_transit"]


@pytest.fixture(scope="module")
def evdb(make_database: Callable[[], str]) -> str:
    dsn = make_database()
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(SETUP)
    conn.close()
    return dsn


@pytest.fixture(scope="module")
def client(evdb: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    live = LiveServer(evdb, tmp_path_factory.mktemp("evaluation")).start()
    try:
        with httpx.Client(base_url=live.url, timeout=120) as c:
            yield c
    finally:
        live.stop()


def get(client: httpx.Client, what: str, **params: Any) -> dict[str, Any]:
    r = client.get(f"/api/evaluation/{what}", params={"as_of": AS_OF, **params})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def by_code(body: dict[str, Any]) -> dict[str | None, dict[str, Any]]:
    return {r["istat_code"]: r for r in body["rows"]}


def dec(v: Any) -> Decimal:
    return Decimal(str(v)) if v is not None else Decimal(0)


def test_a_project_as_computed_by_hand(client):
    rows = {r["project_id"]: r for r in get(client, "projects")["rows"]}
    assert sorted(rows) == [1, 2, 3, 4, 6, 7]  # P5 is rejected
    p1 = rows[1]
    assert p1["granted_eur"] == 900000.00 and p1["pnrr_granted_eur"] == 800000.00
    # the latest progress record on or before as_of (31 May), not the one of 31 July
    assert (p1["phase"], p1["progress_date"], p1["physical_progress_pct"]) == ("works", "2026-05-31", 35.5)
    assert (p1["spent_eur"], p1["paid_eur"]) == (300000.00, 200000.00)
    assert p1["spent_share"] == 0.3333 and p1["paid_share"] == 0.2222
    assert p1["spent_of_cost_share"] == 0.3
    assert (p1["planned_regenerated_m2"], p1["achieved_regenerated_m2"], p1["regenerated_m2_share"]) \
        == (1000.00, 400.00, 0.4)
    assert (p1["planned_housing_units_fragile"], p1["achieved_housing_units_fragile"]) == (10, 4)
    assert p1["planned_cultural_space_m2"] == 200 and p1["achieved_cultural_space_m2"] is None
    # target done 59 days late; milestone planned 1 May, not done by 30 June: 60 days
    assert (p1["milestones"], p1["milestones_late"], p1["days_late"], p1["max_days_late"]) == (3, 2, 119, 60)
    assert p1["end_overdue"] is True and p1["near_transit"] is True
    assert rows[2]["milestones_late"] == 0 and rows[2]["near_transit"] is None  # early; no geometry
    assert rows[3]["end_overdue"] is False  # completed
    assert rows[3]["achieved_cultural_space_m2"] is None  # achieved after as_of
    assert rows[7]["near_transit"] is None  # drawn at its comune's point: not located
    assert rows[6]["near_transit"] is False  # only a bus stop there, not a default mode
    assert rows[4]["istat_codes"] == ""  # the whole metro area
    later = {r["project_id"]: r for r in get(client, "projects", as_of="2026-12-01")["rows"]}
    assert later[3]["achieved_cultural_space_m2"] == 100 and later[3]["days_late"] == 31
    assert later[1]["spent_eur"] == 500000.00


def test_overdue_deadlines_equal_plain_sql(client, evdb):
    for as_of in (AS_OF, "2026-12-01", date.today().isoformat()):
        rows = {r["project_id"]: r for r in get(client, "projects", as_of=as_of)["rows"]}
        expected = dict(query(evdb, """
            SELECT p.id, (SELECT count(*) FROM rigenera.project_deadlines(%s::date) d
                           WHERE d.project_id = p.id AND d.due_on < %s::date
                             AND (d.done_on IS NULL OR d.done_on > %s::date))
              FROM rigenera.projects p WHERE p.status <> 'rejected'""", (as_of, as_of, as_of)))
        assert {k: v["deadlines_overdue"] for k, v in rows.items()} == expected
        assert expected[1] > 0


def test_per_comune_split_and_sums_equal_the_metro(client, evdb):
    comuni = by_code(get(client, "comuni"))
    assert set(comuni) == {A, B, C, D, None}
    # P2's 100,000.01 split in two: the odd cent to the first ISTAT code
    assert comuni[A]["pnrr_granted_eur"] == 850000.01  # 800,000 + 50,000.01
    assert comuni[B]["pnrr_granted_eur"] == 250000.00  # 50,000.00 + 200,000
    assert comuni[A]["planned_community_space_m2"] == 16.67
    assert comuni[B]["planned_community_space_m2"] == 16.66
    # housing units are shared whole (the reports' rule): 3 in two comuni = 2 + 1
    assert comuni[A]["planned_housing_units_fragile"] == 12  # 10 + 2
    assert comuni[B]["planned_housing_units_fragile"] == 1
    assert comuni[None]["pnrr_granted_eur"] == 50000.00 and comuni[None]["planned_regenerated_m2"] == 500
    assert comuni[A]["projects"] == 2 and comuni[B]["projects"] == 2
    metro = get(client, "metro")["rows"][0]
    for col in ADDITIVE:
        total = sum((dec(r[col]) for r in comuni.values()), Decimal(0))
        assert total == dec(metro[col]), col
    # ... and the metro equals the database's own sums
    (pnrr, granted), = query(evdb, """SELECT sum(amount_eur) FILTER (WHERE funding_source = 'pnrr'),
        sum(amount_eur) FROM rigenera.funding_lines f JOIN rigenera.projects p ON p.id = f.project_id
        WHERE f.status = 'granted' AND p.status <> 'rejected'""")
    assert dec(metro["pnrr_granted_eur"]) == pnrr == Decimal("1152500.01")
    assert dec(metro["granted_eur"]) == granted
    (spent,), = query(evdb, """SELECT sum(r.spent_eur) FROM rigenera.progress_reports r
        WHERE r.reference_date = (SELECT max(x.reference_date) FROM rigenera.progress_reports x
                                   WHERE x.project_id = r.project_id AND x.reference_date <= %s)""",
                      (AS_OF,))
    assert dec(metro["spent_eur"]) == spent == Decimal("540000.00")
    assert metro["projects"] == 6 and metro["milestones_late"] == 2
    assert metro["projects_end_overdue"] == 1 and metro["population"] == 2150
    assert metro["pnrr_eur_per_inhabitant"] == float((pnrr / 2150).quantize(Decimal("0.01")))
    assert get(client, "comuni")["totals"]["pnrr_granted_eur"] == metro["pnrr_granted_eur"]


def test_euros_per_inhabitant_and_the_vulnerable_flag(client, evdb):
    comuni = by_code(get(client, "comuni"))
    assert comuni[A]["pnrr_eur_per_inhabitant"] == 850.00  # 850,000.01 / 1,000
    assert comuni[B]["pnrr_eur_per_inhabitant"] == 500.00
    assert comuni[C]["pnrr_eur_per_inhabitant"] == 10.00  # 2,500 / 250
    assert comuni[D]["pnrr_eur_per_inhabitant"] == 0
    assert comuni[C]["projects_pnrr_amount_unknown"] == 1  # P6's line without an amount
    # IVSM median of 99, 101.5, 102 = 101.5; PNRR median of 850, 500, 10, 0 = 255:
    # only Terzo is above the first and below the second
    assert {k: r["underserved_vulnerable"] for k, r in comuni.items()} == \
        {A: False, B: False, C: True, D: None, None: None}
    metro = get(client, "metro")["rows"][0]
    assert (metro["ivsm_median"], metro["pnrr_per_inhabitant_median"]) == (101.5, 255.0)
    assert metro["comuni_underserved_vulnerable"] == 1 and metro["comuni_with_ivsm"] == 3
    conn = psycopg2.connect(evdb)
    try:
        vulnerability = evaluation_tables(conn, as_of=AS_OF)[3]
    finally:
        conn.close()
    assert [r["istat_code"] for r in vulnerability.rows] == [C, B, A, D]  # flagged first
    # the flag does not depend on the comuni asked for
    only_c = by_code(get(client, "comuni", comuni=C))
    assert list(only_c) == [C] and only_c[C]["underserved_vulnerable"] is True


def test_sites_regenerated_against_abandoned(client, evdb):
    comuni = by_code(get(client, "comuni"))
    (s1,), = query(evdb, "SELECT round(ST_Area(geom::geography)::numeric, 2)"
                         " FROM rigenera.sites WHERE id = 1")
    assert (comuni[A]["sites_regenerated"], dec(comuni[A]["sites_regenerated_m2"])) == (1, s1)
    assert (comuni[A]["sites_to_regenerate"], comuni[A]["sites_to_regenerate_m2"]) == (1, 1500.50)
    assert comuni[B]["sites"] == 1 and comuni[B]["sites_regenerated"] == 0  # S5 rejected
    assert comuni[C]["sites_to_regenerate_m2"] == 200.00
    assert comuni[A]["sites_regenerated_share"] == 0.5


@pytest.mark.parametrize("distance", [0, 100, 500, 700, 1000, 3000])
@pytest.mark.parametrize("modes", ["rail,metro,tram", "bus", "tram,bus"])
def test_transit_share_equals_st_dwithin(client, evdb, distance, modes):
    listed = modes.split(",")
    near_sql = """EXISTS (SELECT 1 FROM rigenera.transit_stops t WHERE t.mode = ANY(%s)
                   AND ST_DWithin(t.geom::geography, x.geom::geography, %s))"""
    projects = dict(query(evdb, f"""
        SELECT c.istat_code, count(*) FILTER (WHERE {near_sql}) FROM rigenera.projects x
          JOIN rigenera.project_comuni c ON c.project_id = x.id
         WHERE x.status <> 'rejected' AND x.geom IS NOT NULL AND x.geom_source <> 'comune_point'
         GROUP BY c.istat_code""", (listed, distance)))
    sites = dict(query(evdb, f"""SELECT istat_code, count(*) FILTER (WHERE {near_sql})
        FROM rigenera.sites x WHERE validation_status <> 'rejected' GROUP BY istat_code""",
                       (listed, distance)))
    comuni = by_code(get(client, "comuni", distance=distance, modes=modes))
    for code in (A, B, C, D):
        assert comuni[code]["projects_near_transit"] == projects.get(code, 0), code
        assert comuni[code]["sites_near_transit"] == sites.get(code, 0), code
    metro = get(client, "metro", distance=distance, modes=modes)["rows"][0]
    (located, near), = query(evdb, f"""SELECT count(*), count(*) FILTER (WHERE {near_sql})
        FROM rigenera.projects x WHERE x.status <> 'rejected' AND x.geom IS NOT NULL
         AND x.geom_source <> 'comune_point'""", (listed, distance))
    assert (metro["projects_located"], metro["projects_near_transit"]) == (located, near)
    assert metro["projects_not_located"] == 6 - located
    share = (Decimal(near) / Decimal(located)).quantize(Decimal("0.0001"))
    assert dec(metro["projects_near_transit_share"]) == share
    assert metro["sites_near_transit"] == sum(sites.values())


def test_csv_twin(client):
    body = get(client, "comuni")
    r = client.get("/api/evaluation/comuni", params={"as_of": AS_OF, "f": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [c["name"] for c in body["columns"]] == list(rows[0])
    assert len(rows) == len(body["rows"])
    milano = next(x for x in rows if x["istat_code"] == A)
    assert milano["pnrr_granted_eur"] == "850000.01" and milano["underserved_vulnerable"] == "false"


@pytest.mark.parametrize(("params", "field"), [
    ({"distance": "-1"}, "distance"), ({"distance": "abc"}, "distance"),
    ({"distance": "nan"}, "distance"), ({"modes": "rail,ferry"}, "modes"), ({"modes": ","}, "modes"),
    ({"comuni": "999999"}, "comuni"), ({"comuni": "15146"}, "comuni"),
    ({"as_of": "2026-13-01"}, "as_of"), ({"as_of": "9999-01-01"}, "as_of"),
    ({"as_of": "30/06/2026"}, "as_of"), ({"f": "xml"}, "f")])
@pytest.mark.parametrize("what", ["projects", "comuni", "metro"])
def test_bad_input_names_the_field(client, what, params, field):
    r = client.get(f"/api/evaluation/{what}", params=params)
    assert r.status_code == 400, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]


def test_evaluation_tables_for_the_reports(evdb):
    conn = psycopg2.connect(evdb)
    try:
        tables = evaluation_tables(conn, as_of=AS_OF, comuni=[A, B])
    finally:
        conn.close()
    assert [t.name for t in tables] == ["evaluation_projects", "evaluation_comuni", "evaluation_metro",
                                        "evaluation_vulnerability"]
    assert all(isinstance(t, Table) for t in tables)
    projects, comuni, metro, vulnerability = tables
    assert [r["istat_code"] for r in vulnerability.rows] == [B, A]  # none flagged among A, B
    assert sorted(r["project_id"] for r in projects.rows) == [1, 2, 3]
    assert [r["istat_code"] for r in comuni.rows] == [A, B]
    m = metro.rows[0]
    assert [c.name for c in metro.columns] == [c.name for c in METRO_COLUMNS]
    assert m["pnrr_granted_eur"] == Decimal("1100000.01") and isinstance(m["granted_eur"], Decimal)
    assert m["pnrr_granted_eur"] == sum(r["pnrr_granted_eur"] for r in comuni.rows)
    assert m["projects"] == 3 and m["population"] == 1500
    assert comuni.totals is not None and comuni.totals["pnrr_granted_eur"] == m["pnrr_granted_eur"]


# ------------------------------------------------------------------ the real data
@pytest.fixture(scope="module")
def real(make_database: Callable[[], str], shared_data: Path) -> str:
    from rigenera.imports.sources import load_open_data

    dsn = make_database()
    load_open_data(dsn, shared_data)
    return dsn


@pytest.mark.shared_data
def test_real_comuni_and_milano_euros_per_inhabitant(real):
    conn = psycopg2.connect(real)
    try:
        _projects, comuni, metro, _vulnerability = evaluation_tables(conn)
    finally:
        conn.close()
    assert len([r for r in comuni.rows if r["istat_code"]]) == 133
    milano = next(r for r in comuni.rows if r["istat_code"] == "015146")
    assert milano["population"] == 1_354_196
    # independently: each granted PNRR amount over the number of the project's comuni
    (expected,), = query(real, """
        SELECT sum(f.amount_eur / n.n) FROM rigenera.funding_lines f
          JOIN rigenera.projects p ON p.id = f.project_id
          JOIN (SELECT project_id, count(*) AS n FROM rigenera.project_comuni GROUP BY 1) n
            ON n.project_id = p.id
         WHERE f.status = 'granted' AND f.funding_source = 'pnrr' AND f.amount_eur IS NOT NULL
           AND p.status <> 'rejected' AND p.validation_status <> 'rejected'
           AND EXISTS (SELECT 1 FROM rigenera.project_comuni c
                        WHERE c.project_id = p.id AND c.istat_code = '015146')""")
    assert expected > 0
    assert abs(milano["pnrr_granted_eur"] - expected) < Decimal("0.01") * 100  # shares' cents
    assert milano["pnrr_eur_per_inhabitant"] == (milano["pnrr_granted_eur"] / 1_354_196).quantize(
        Decimal("0.01"))
    assert abs(milano["pnrr_eur_per_inhabitant"] - expected / 1_354_196) <= Decimal("0.005")
    total = sum((r["pnrr_granted_eur"] for r in comuni.rows), Decimal(0))
    assert total == metro.rows[0]["pnrr_granted_eur"]


def test_schemathesis_on_the_evaluation_routes(client):
    """The documented parameters and answers hold for generated requests (no 500s)."""
    import schemathesis

    from test_schemathesis import run

    schema = schemathesis.openapi.from_url(f"{client.base_url}/api/openapi.json")
    ops = [r.ok() for r in schema.get_all_operations() if r.ok().path.startswith("/api/evaluation/")]
    assert len(ops) == 3
    failures = run(schema, ops, None, 25)
    assert not failures, "\n\n".join(failures)


def test_no_pnrr_at_all_flags_but_an_unpublished_amount_does_not(make_database):
    """With the PNRR median at 0 €/inhabitant only the "no PNRR at all" clause can flag: a
    comune whose granted PNRR line has no published amount is not "no PNRR"."""
    codes = ["015001", "015002", "015003", "015004", "015005"]
    ivsm = [1, 3, 3, 2, 0.5]
    values = ",".join(
        f"('{c}', 'C{i}', 100, {v}, 2018, 'test', '{square(9.0 + i * 0.01, 45.4, 9.01 + i * 0.01, 45.41)}')"
        for i, (c, v) in enumerate(zip(codes, ivsm, strict=True)))
    dsn = make_database()
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(f"""
            INSERT INTO rigenera.comuni (istat_code, name, population, ivsm, ivsm_year, source, geom)
            VALUES {values};
            INSERT INTO rigenera.projects (id, title, source) VALUES (1, 'a', 'test'), (2, 'b', 'test');
            INSERT INTO rigenera.project_comuni VALUES (1, '015001'), (2, '015003');
            INSERT INTO rigenera.funding_lines (project_id, funding_source, status, amount_eur, source)
            VALUES (1, 'pnrr', 'granted', 1000.00, 'test'), (2, 'pnrr', 'granted', NULL, 'test');""")
    conn.close()
    conn = psycopg2.connect(dsn)
    try:
        _p, comuni, metro, vulnerability = evaluation_tables(conn, as_of=AS_OF)
    finally:
        conn.close()
    m = metro.rows[0]
    assert (m["ivsm_median"], m["pnrr_per_inhabitant_median"]) == (Decimal(2), Decimal(0))
    flags = {r["istat_code"]: r["underserved_vulnerable"] for r in comuni.rows}
    assert flags == {"015001": False, "015002": True, "015003": False, "015004": False,
                     "015005": False}
    assert [r["istat_code"] for r in vulnerability.rows][:3] == ["015002", "015003", "015004"]
