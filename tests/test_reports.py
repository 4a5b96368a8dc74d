"""Reports (rendicontazione): every grouping reconciles to the cent with independent plain
SQL over the tables, per-group sums add up to the totals, a project of several comuni is
shared exactly, filters narrow the same way, bad input is a 400 naming the field, and every
format opens in the tool that reads it (json, zip of CSVs, openpyxl, GDAL, pdftoppm).

Data: the demo set plus hand-built rows (SQL inserts) for what the demo lacks: a project
of three comuni with amounts that do not divide by three, a metro-area project, progress
records, targets, yearly assignments and a project with overdue reporting deadlines.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import zipfile
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg2
import pytest

from conftest import LiveServer, query
from rigenera.loaders.demo import load_demo
from rigenera.reports import FORMATS, make_report, parse
from rigenera.reports.aggregate import METRICS, build_report
from rigenera.reports.request import BY

MONEY = [m.name for m in METRICS if m.kind == "eur"]
QUANTITIES = [m.name for m in METRICS if m.kind == "number" or m.name == "housing_units_fragile"]
# The evaluation's tables (rigenera.evaluation) follow the aggregates in every format.
EVALUATION = ["evaluation_comuni", "evaluation_metro", "evaluation_vulnerability"]
THREE = ("015146", "015209", "015077")  # Milano, Sesto San Giovanni, Cinisello Balsamo

# The independent sums: plain SQL over the storage tables, no shares, no report SQL.
SELECTED = """SELECT p.id FROM rigenera.projects p
 WHERE (%(status)s::text[] IS NULL OR p.status = ANY(%(status)s::text[]))
   AND (%(programme)s::text IS NULL OR p.id IN (SELECT project_id FROM rigenera.funding_lines
        WHERE programme_code LIKE %(programme)s || '%%'))
   AND (%(comuni)s::text[] IS NULL OR p.id IN (SELECT project_id FROM rigenera.project_comuni
        WHERE istat_code = ANY(%(comuni)s::text[])))"""
EXPECTED = f"""WITH s AS ({SELECTED})
SELECT (SELECT count(*) FROM s) AS projects,
  (SELECT coalesce(sum(total_cost_eur), 0) FROM rigenera.projects WHERE id IN (SELECT id FROM s))
    AS total_cost_eur,
  (SELECT coalesce(sum(amount_eur), 0) FROM rigenera.funding_lines WHERE project_id IN (SELECT id FROM s))
    AS requested_eur,
  (SELECT coalesce(sum(amount_eur), 0) FROM rigenera.funding_lines WHERE status = 'granted'
     AND project_id IN (SELECT id FROM s)) AS granted_eur,
  (SELECT coalesce(sum(amount_eur), 0) FROM rigenera.funding_lines WHERE status = 'not_granted'
     AND project_id IN (SELECT id FROM s)) AS not_granted_eur,
  (SELECT coalesce(sum(amount_eur), 0) FROM rigenera.funding_lines WHERE status = 'requested'
     AND project_id IN (SELECT id FROM s)) AS pending_eur,
  (SELECT coalesce(sum(amount_eur), 0) FROM rigenera.funding_lines WHERE status = 'revoked'
     AND project_id IN (SELECT id FROM s)) AS revoked_eur,
  (SELECT coalesce(sum(amount_eur), 0) FROM rigenera.funding_lines WHERE status = 'granted'
     AND funding_source = 'pnrr' AND project_id IN (SELECT id FROM s)) AS pnrr_granted_eur,
  (SELECT coalesce(sum(r.spent_eur), 0) FROM rigenera.progress_reports r WHERE r.project_id IN
     (SELECT id FROM s) AND r.reference_date = (SELECT max(reference_date) FROM rigenera.progress_reports
      WHERE project_id = r.project_id)) AS spent_eur,
  (SELECT coalesce(sum(r.paid_eur), 0) FROM rigenera.progress_reports r WHERE r.project_id IN
     (SELECT id FROM s) AND r.reference_date = (SELECT max(reference_date) FROM rigenera.progress_reports
      WHERE project_id = r.project_id)) AS paid_eur,
  (SELECT coalesce(sum(housing_units_fragile), 0) FROM rigenera.projects WHERE id IN (SELECT id FROM s))
    AS housing_units_fragile,
  (SELECT coalesce(sum(cultural_space_m2), 0) FROM rigenera.projects WHERE id IN (SELECT id FROM s))
    AS cultural_space_m2,
  (SELECT coalesce(sum(regenerated_m2), 0) FROM rigenera.projects WHERE id IN (SELECT id FROM s))
    AS regenerated_m2,
  (SELECT coalesce(sum(achieved_value), 0) FROM rigenera.milestones WHERE kind = 'target'
     AND indicator = 'regenerated_m2' AND project_id IN (SELECT id FROM s)) AS regenerated_m2_achieved,
  (SELECT coalesce(sum(achieved_value), 0) FROM rigenera.milestones WHERE kind = 'target'
     AND indicator = 'housing_units_fragile' AND project_id IN (SELECT id FROM s))
     AS housing_units_fragile_achieved,
  (SELECT count(*) FROM rigenera.project_deadlines(current_date) d WHERE d.done_on IS NULL
     AND d.due_on < current_date AND d.project_id IN (SELECT id FROM s)) AS overdue_deadlines"""


def expected(dsn: str, status: list[str] | None = None, programme: str | None = None,
             comuni: list[str] | None = None) -> dict[str, Any]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(EXPECTED, {"status": status, "programme": programme, "comuni": comuni})
        names = [d.name for d in cur.description]
        row = dict(zip(names, cur.fetchone(), strict=True))
    conn.close()
    return row


FIXTURES = """
INSERT INTO rigenera.projects (id, title, status, start_date, total_cost_eur, housing_units_fragile,
    regenerated_m2, cultural_space_m2, source, source_id, geom)
VALUES (9001, 'Tre comuni', 'works', '2023-01-15', 1000000.01, 7, 1000.01, 10.00, 'test', 'three',
        rigenera.comune_point(ARRAY['015146', '015209', '015077']));
INSERT INTO rigenera.project_comuni VALUES (9001, '015146'), (9001, '015209'), (9001, '015077');
INSERT INTO rigenera.funding_lines (id, project_id, funding_source, programme_code, status, amount_eur,
    source, source_id)
VALUES (9101, 9001, 'pnrr', 'M5C2I2.01.00', 'granted', 900000.02, 'test', 'three-pnrr'),
       (9102, 9001, 'municipal', NULL, 'granted', 100000.01, 'test', 'three-cofin'),
       (9103, 9001, 'pnrr', 'M2C2I4.02.00', 'not_granted', 55.55, 'test', 'three-other');
INSERT INTO rigenera.funding_assignments VALUES (9101, 2023, 300000.01), (9101, 2024, 600000.01);
INSERT INTO rigenera.progress_reports (project_id, reference_date, phase, physical_progress_pct, spent_eur,
    paid_eur, source)
VALUES (9001, '2023-06-30', 'design', 10, 1000.00, 500.00, 'test'),
       (9001, '2024-06-30', 'works', 40, 250000.05, 200000.00, 'test');
INSERT INTO rigenera.milestones (project_id, kind, title, planned_date, indicator, planned_value,
    achieved_value, source)
VALUES (9001, 'target', 'm² rigenerati', '2025-06-30', 'regenerated_m2', 1000.01, 400.01, 'test'),
       (9001, 'target', 'alloggi', '2025-06-30', 'housing_units_fragile', 7, 2, 'test'),
       (9001, 'milestone', 'gara', '2023-09-30', NULL, NULL, NULL, 'test');
INSERT INTO rigenera.projects (id, title, status, scope, total_cost_eur, source, source_id)
VALUES (9002, 'Tutta l''area', 'funded', 'metro_area', 333.33, 'test', 'metro');
INSERT INTO rigenera.funding_lines (project_id, funding_source, programme_code, status, amount_eur, source,
    source_id)
VALUES (9002, 'pnrr', 'M5C2I2.02.00', 'granted', 333.33, 'test', 'metro-pnrr'),
       (9002, 'pnrr', 'M5C2I2.03.00', 'granted', NULL, 'test', 'metro-unpublished');
INSERT INTO rigenera.projects (id, title, status, start_date, total_cost_eur, source, source_id, geom)
VALUES (9003, 'In ritardo', 'design', '2024-01-10', 50000.00, 'test', 'late',
        rigenera.comune_point(ARRAY['015209']));
INSERT INTO rigenera.project_comuni VALUES (9003, '015209');
INSERT INTO rigenera.funding_lines (project_id, funding_source, programme_code, status, amount_eur, source,
    source_id)
VALUES (9003, 'fesr', NULL, 'granted', 40000.00, 'test', 'late-fesr'),
       (9003, 'pnrr', 'M5C2I2.01.00', 'revoked', 10000.00, 'test', 'late-pnrr');
"""


@pytest.fixture(scope="module")
def rdb(make_database: Callable[[], str]) -> str:
    dsn = make_database()
    load_demo(dsn)
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(FIXTURES)
    conn.close()
    return dsn


@pytest.fixture(scope="module")
def rapi(rdb: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    server = LiveServer(rdb, tmp_path_factory.mktemp("reports")).start()
    with httpx.Client(base_url=server.url, timeout=120) as client:
        yield client
    server.stop()


def _check(report_tables: list[Any], exp: dict[str, Any]) -> None:
    main = report_tables[0]
    for name in (*MONEY, *QUANTITIES):
        col_sum = sum((Decimal(r[name]) for r in main.rows), Decimal(0))
        assert col_sum == main.totals[name], (main.name, name)
        if name in exp:
            assert main.totals[name] == exp[name], (main.name, name, main.totals[name], exp[name])
    assert main.totals["projects"] == exp["projects"]
    assert main.totals["overdue_deadlines"] == exp["overdue_deadlines"]
    # requested = granted + not granted + pending + revoked, in every group
    for r in [*main.rows, main.totals]:
        assert r["requested_eur"] == (r["granted_eur"] + r["not_granted_eur"] + r["pending_eur"]
                                      + r["revoked_eur"])
        assert r["granted_eur"] == r["pnrr_granted_eur"] + r["other_granted_eur"]


@pytest.mark.parametrize("by", BY)
def test_every_grouping_reconciles_to_the_cent(rdb: str, by: str) -> None:
    report = build_report(rdb, parse(by=by))
    exp = expected(rdb)
    _check(report.tables, exp)
    # spent: the latest record of each project: the fixture's 250,000.05 and the demo's
    # 6,100,000 + 150,000 + 320,000
    assert exp["projects"] >= 9 and exp["granted_eur"] > 0 and exp["spent_eur"] == Decimal("6820000.05")
    assert exp["overdue_deadlines"] > 0
    sources = next(t for t in report.tables if t.name == "funding_by_source")
    assert sources.totals["granted_eur"] == exp["granted_eur"]
    assert sources.totals["requested_eur"] == exp["requested_eur"]


@pytest.mark.parametrize("level", ["mission", "component", "investment", "submeasure"])
def test_programme_levels(rdb: str, level: str) -> None:
    report = build_report(rdb, parse(by="programme", programme_level=level))
    _check(report.tables, expected(rdb))
    groups = {r["group"] for r in report.tables[0].rows}
    want = {"mission": "M5", "component": "M5C2", "investment": "M5C2I2.01",
            "submeasure": "M5C2I2.01.00"}[level]
    assert want in groups and "municipal" in groups and "fesr" in groups
    assert all(len(g) <= 2 for g in groups if g.startswith("M")) or level != "mission"
    # the three-comuni project: its cost in its main programme (its largest PNRR line), whole;
    # the cofinancing in 'municipal', the not-granted M2C2 line in M2C2's group
    rows = {r["group"]: r for r in report.tables[0].rows}
    m2 = {"mission": "M2", "component": "M2C2", "investment": "M2C2I4.02",
          "submeasure": "M2C2I4.02.00"}[level]
    assert rows[m2]["not_granted_eur"] >= Decimal("55.55")
    assert rows["municipal"]["granted_eur"] >= Decimal("100000.01")


def test_project_of_three_comuni_is_shared_to_the_cent(rdb: str) -> None:
    report = build_report(rdb, parse(by="comune", status="works"))
    rows = {r["group"]: r for r in report.tables[0].rows}
    # 1,000,000.01 in three: 100,000,001 cents / 3 = 33,333,333 r 2: the first two comuni in
    # ISTAT order get one cent more.
    mine = [rows[c] for c in sorted(THREE)]
    exp = expected(rdb, status=["works"])
    assert sum(r["total_cost_eur"] for r in mine) >= Decimal("1000000.01")
    three_only = build_report(rdb, parse(by="comune", status="works", comuni=",".join(THREE)))
    _check(three_only.tables, expected(rdb, status=["works"], comuni=list(THREE)))
    assert exp["projects"] == report.tables[0].totals["projects"]
    # the 9001 project alone: a status filter of its own
    solo = build_report(rdb, parse(by="comune", status="works", comuni="015077"))
    by = {r["group"]: r for r in solo.tables[0].rows}
    assert [by[c]["total_cost_eur"] for c in sorted(THREE)] == [
        Decimal("333333.34"), Decimal("333333.34"), Decimal("333333.33")]
    assert [by[c]["housing_units_fragile"] for c in sorted(THREE)] == [3, 2, 2]
    # each line shared on its own: 900,000.02 -> .01 .01 .00 and 100,000.01 -> .34 .34 .33
    assert [by[c]["granted_eur"] for c in sorted(THREE)] == [
        Decimal("333333.35"), Decimal("333333.35"), Decimal("333333.33")]
    assert all(by[c]["projects"] == 1 for c in THREE) and solo.tables[0].totals["projects"] == 1
    assert solo.tables[0].totals["total_cost_eur"] == Decimal("1000000.01")
    assert solo.tables[0].totals["regenerated_m2_achieved"] == Decimal("400.01")


def test_metro_area_and_phase_groups(rdb: str) -> None:
    by_comune = {r["group"]: r for r in build_report(rdb, parse(by="comune")).tables[0].rows}
    metro = by_comune["metro_area"]
    assert metro["istat_code"] is None and metro["projects"] >= 1
    assert metro["granted_eur"] >= Decimal("333.33") and metro["lines_without_amount"] >= 1
    phases = {r["group"]: r for r in build_report(rdb, parse(by="phase")).tables[0].rows}
    # works: the fixture's project and the demo's Abitare Ripamonti (6,100,000.00 spent);
    # tender and design: two more demo projects; none: the rest
    assert phases["works"]["projects"] == 2
    assert phases["works"]["spent_eur"] == Decimal("250000.05") + Decimal("6100000.00")
    assert phases["none"]["projects"] == expected(rdb)["projects"] - 4
    years = build_report(rdb, parse(by="year"))
    assignments = next(t for t in years.tables if t.name == "assignments_by_year")
    assert {r["year"]: r["assigned_eur"] for r in assignments.rows} == {
        2023: Decimal("300000.01"), 2024: Decimal("600000.01")}


@pytest.mark.parametrize(("filters", "args"), [
    ({"programme": "M5C2"}, {"programme": "M5C2"}),
    ({"programme": "M5C2I2.01.00"}, {"programme": "M5C2I2.01.00"}),
    ({"status": ["funded", "works"]}, {"status": "funded,works"}),
    ({"comuni": ["015209"]}, {"comuni": "015209"}),
])
def test_filters_reconcile(rdb: str, filters: dict[str, Any], args: dict[str, str]) -> None:
    for by in ("status", "programme"):
        report = build_report(rdb, parse(by=by, **args))
        _check(report.tables, expected(rdb, **filters))


@pytest.mark.parametrize(("params", "field"), [
    ({"by": "provincia"}, "by"), ({"format": "docx"}, "format"), ({"comuni": "15146"}, "comuni"),
    ({"comuni": "999999"}, "comuni"), ({"programme": "X5C2"}, "programme"),
    ({"programme": "M5C2I2.1"}, "programme"), ({"status": "done"}, "status"),
    ({"programme_level": "measure"}, "programme_level"), ({"lang": "de"}, "lang"),
])
def test_bad_input_names_the_field(rapi: httpx.Client, params: dict[str, str], field: str) -> None:
    r = rapi.get("/api/reports/projects", params=params)
    assert r.status_code == 400, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]


def test_json_over_http(rapi: httpx.Client, rdb: str) -> None:
    r = rapi.get("/api/reports/projects", params={"by": "comune"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    assert r.headers["content-disposition"].startswith('inline; filename="rigenera-report-comune-')
    doc = json.loads(r.text, parse_float=Decimal)
    assert doc["filters"] == {"by": "comune"}
    groups = doc["groups"]
    assert {"istat_code", "projects", "total_cost_eur", "requested_eur", "granted_eur",
            "spent_eur"} <= set(groups[0])
    exp = expected(rdb)
    for name in ("total_cost_eur", "granted_eur", "requested_eur", "spent_eur"):
        assert sum(Decimal(str(g[name])) for g in groups) == exp[name] == Decimal(str(doc["totals"][name]))
    assert [t["name"] for t in doc["tables"]] == ["by_comune", "funding_by_source",
                                                  "assignments_by_year", *EVALUATION]
    n_comuni = query(rdb, "SELECT count(*) FROM rigenera.comuni")[0][0]
    assert len([g for g in groups if g["istat_code"]]) == n_comuni


def test_csv_zip_over_http(rapi: httpx.Client, rdb: str) -> None:
    r = rapi.get("/api/reports/projects", params={"by": "status", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert 'attachment; filename="rigenera-report-status-' in r.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert sorted(archive.namelist()) == sorted([
        "README.txt", "assignments_by_year.csv", "by_status.csv", "funding_by_source.csv",
        *(f"{t}.csv" for t in EVALUATION)])
    rows = list(csv.DictReader(io.StringIO(archive.read("by_status.csv").decode())))
    assert sum(Decimal(x["granted_eur"]) for x in rows) == expected(rdb)["granted_eur"]


def test_xlsx_opens_with_the_sheets(tmp_path: Path, rdb: str) -> None:
    from openpyxl import load_workbook

    path = tmp_path / "r.xlsx"
    make_report(rdb, parse(by="programme", programme_level="component"), FORMATS["xlsx"], path)
    wb = load_workbook(path)
    assert wb.sheetnames == ["Report", "by_programme", "funding_by_source", "assignments_by_year",
                             *EVALUATION]
    ws = wb["by_programme"]
    assert ws.freeze_panes == "C2" and ws.cell(1, 1).font.bold
    header = [c.value for c in ws[1]]
    granted = header.index("Concesso") + 1
    last = ws.max_row
    assert ws.cell(last, 2).value == "Totale"
    assert ws.cell(2, granted).number_format.startswith("#,##0.00")
    values = [Decimal(str(ws.cell(i, granted).value)) for i in range(2, last)]
    assert sum(values).quantize(Decimal("0.01")) == expected(rdb)["granted_eur"]


def test_gpkg_opens_with_gdal(tmp_path: Path, rdb: str) -> None:
    import pyogrio

    path = tmp_path / "r.gpkg"
    make_report(rdb, parse(by="status"), FORMATS["gpkg"], path)
    layers = {name: gtype for name, gtype in pyogrio.list_layers(path)}
    assert set(layers) == {"projects", "comuni", "by_status", "by_comune", "funding_by_source",
                           "assignments_by_year", *EVALUATION}
    assert layers["comuni"] == "MultiPolygon" and layers["by_status"] is None
    info = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(path), "comuni"], capture_output=True,
                          text=True, check=True).stdout
    n_comuni = query(rdb, "SELECT count(*) FROM rigenera.comuni")[0][0]
    assert f"Feature Count: {n_comuni}" in info
    projects = pyogrio.read_dataframe(path, layer="projects")
    assert len(projects) == expected(rdb)["projects"]
    comuni = pyogrio.read_dataframe(path, layer="comuni")
    assert round(comuni["granted_eur"].sum(), 2) <= float(expected(rdb)["granted_eur"])


def test_pdf_renders_with_a_map(tmp_path: Path, rdb: str) -> None:
    from PIL import Image

    path = tmp_path / "r.pdf"
    result = make_report(rdb, parse(by="programme"), FORMATS["pdf"], path)
    assert path.read_bytes()[:5] == b"%PDF-"
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == result.pages and result.pages >= 5
    # page 3 is the map: comuni filled in blue shades with project dots, not a blank page
    img = Image.open(pages[2]).convert("RGB")
    colours = img.getcolors(maxcolors=1_000_000) or []
    inked = sum(n for n, (r, g, b) in colours if (r, g, b) != (255, 255, 255))
    assert inked / (img.width * img.height) > 0.15
    blue = sum(n for n, (r, g, b) in colours if b > r + 10)
    assert blue / (img.width * img.height) > 0.05
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Mappa dei progetti" in text and "Totale" in text and "Progetti per programma" in text


def test_pdf_in_english_over_http(rapi: httpx.Client, tmp_path: Path) -> None:
    r = rapi.get("/api/reports/projects", params={"format": "pdf", "lang": "en", "comuni": "015209"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].startswith('attachment; filename="rigenera-report-comune-')
    assert r.headers["content-disposition"].endswith('.pdf"')
    assert r.content[:5] == b"%PDF-"
    (tmp_path / "en.pdf").write_bytes(r.content)
    text = subprocess.run(["pdftotext", str(tmp_path / "en.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Map of the projects" in text and "Projects by comune" in text and "Sesto San Giovanni" in text
    assert "Mappa" not in text


@pytest.mark.parametrize(("fmt", "media"), [
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("gpkg", "application/geopackage+sqlite3")])
def test_binary_formats_over_http(rapi: httpx.Client, fmt: str, media: str) -> None:
    r = rapi.get("/api/reports/projects", params={"format": fmt, "by": "phase"})
    assert r.status_code == 200 and r.headers["content-type"] == media
    assert r.headers["content-disposition"].endswith(f'.{fmt}"')
    assert r.content[:4] == (b"PK\x03\x04" if fmt == "xlsx" else b"SQLi")


def test_cli_report(rdb: str, tmp_path: Path) -> None:
    import os
    import sys

    rigenera = str(Path(sys.executable).parent / "rigenera")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "RIGENERA_DATABASE_URL")}
    env.update(DATABASE_URL=rdb, RIGENERA_STATE_DIR=str(tmp_path / "state"), RIGENERA_LOG_LEVEL="warning")
    out = tmp_path / "anni.json"
    done = subprocess.run([rigenera, "report", "--by", "year", "--programme", "M5C2", "--format", "json",
                           "-o", str(out)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    doc = json.loads(out.read_text(), parse_float=Decimal)
    assert doc["filters"] == {"by": "year", "programme": "M5C2"}
    assert Decimal(str(doc["totals"]["granted_eur"])) == expected(rdb, programme="M5C2")["granted_eur"]
    bad = subprocess.run([rigenera, "report", "--comuni", "123", "-o", str(tmp_path / "x.pdf")], env=env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "comuni:" in bad.stderr and not (tmp_path / "x.pdf").exists()


def test_any_table_reaches_every_format(rdb: str, tmp_path: Path) -> None:
    """A table of another room (registered in PRODUCERS) is written by every writer."""
    from openpyxl import load_workbook

    from rigenera.reports import aggregate
    from rigenera.reports.model import Column, Table

    def produce(cur: Any, req: Any) -> list[Table]:
        cur.execute("SELECT istat_code, name, population FROM rigenera.comuni ORDER BY 1 LIMIT 3")
        rows = [{"istat_code": c, "name": n, "population": p, "share": Decimal("0.5"),
                 "flag": i == 0, "ivsm_year": 2018}
                for i, (c, n, p) in enumerate(cur.fetchall())]
        return [Table("evaluation_test", "Valutazione", "Evaluation",
                      [Column("istat_code", "Codice", "Code"), Column("name", "Comune", "Comune"),
                       Column("population", "Abitanti", "Inhabitants", "int"),
                       Column("share", "Quota", "Share", "share"),
                       Column("flag", "Segnalato", "Flagged", "bool"),
                       Column("ivsm_year", "Anno IVSM", "IVSM year", "year")], rows)]

    aggregate.PRODUCERS.append(produce)
    try:
        files = {name: tmp_path / f"r.{fmt.extension}" for name, fmt in FORMATS.items()}
        for name, path in files.items():
            make_report(rdb, parse(by="status"), FORMATS[name], path)
    finally:
        aggregate.PRODUCERS.remove(produce)
    doc = json.loads(files["json"].read_text())
    assert doc["tables"][-1]["name"] == "evaluation_test" and len(doc["tables"][-1]["rows"]) == 3
    assert "evaluation_test.csv" in zipfile.ZipFile(files["csv"]).namelist()
    assert "evaluation_test" in load_workbook(files["xlsx"]).sheetnames
    import pyogrio

    assert "evaluation_test" in {n for n, _ in pyogrio.list_layers(files["gpkg"])}
    text = subprocess.run(["pdftotext", str(files["pdf"]), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Valutazione" in text and "50,0 %" in text
    # a year is a year (2018, not 2.018); a yes/no is sì/no in the PDF, true/false in JSON
    assert "2018" in text and "2.018" not in text and "sì" in text
    assert [r["flag"] for r in doc["tables"][-1]["rows"]] == [True, False, False]
    sheet = load_workbook(files["xlsx"])["evaluation_test"]
    assert [c.value for c in sheet[2]][-2:] == ["sì", 2018]
    assert sheet.cell(2, 6).number_format == "0"


@pytest.mark.parametrize("by", ["comune", "programme", "phase"])
def test_an_empty_selection_is_a_report_of_zeros(rdb: str, tmp_path: Path, by: str) -> None:
    """No project of programme M9: every format is still written, with zero totals."""
    req = parse(by=by, programme="M9")
    for name, fmt in FORMATS.items():
        result = make_report(rdb, req, fmt, tmp_path / f"empty.{fmt.extension}")
        assert (tmp_path / f"empty.{fmt.extension}").stat().st_size > 0, name
        if name == "pdf":
            assert result.pages is not None and result.pages < 10
    doc = json.loads((tmp_path / "empty.json").read_text(), parse_float=Decimal)
    assert doc["totals"]["projects"] == 0 and doc["totals"]["granted_eur"] == 0
    assert all(g["projects"] == 0 for g in doc["groups"])


def test_evaluation_tables_are_the_evaluation_api(rapi: httpx.Client) -> None:
    """The report's evaluation tables are GET /api/evaluation/*'s rows, same snapshot rules:
    one computation, two doors; and a programme filter leaves them out."""
    doc = json.loads(rapi.get("/api/reports/projects").text, parse_float=Decimal)
    tables = {t["name"]: t for t in doc["tables"]}
    for name in ("comuni", "metro"):
        ev = json.loads(rapi.get(f"/api/evaluation/{name}").text, parse_float=Decimal)
        assert tables[f"evaluation_{name}"]["rows"] == ev["rows"]
    filtered = rapi.get("/api/reports/projects", params={"programme": "M5C2"}).json()
    assert not [t for t in filtered["tables"] if t["name"].startswith("evaluation_")]
