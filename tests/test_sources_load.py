"""``load-open-data``: every built-in source through the import engine, real PostGIS,
real files of SOURCES.md (the old loaders/opendata.py tests, moved here).

Reference values come from /work/shared/data/SOURCES.md. Each test takes a
fresh database from ``make_database()``: the shared ``dsn`` holds the demo
data other tests count. One loaded database is shared by the read-only checks.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import query
from rigenera.errors import ImportDataError, ImportRefused
from rigenera.imports.sources import LoadResult, load_open_data
from rigenera.imports.sources.comuni import FILE as COMUNI_FILE
from rigenera.imports.sources.comuni import POPULATION_FILE
from rigenera.imports.sources.cycle import FILE as CYCLE_FILE
from rigenera.imports.sources.dm2021 import ALL1_FILE as RU_ALL1_FILE
from rigenera.imports.sources.dm2021 import ALL3_FILE as RU_ALL3_FILE
from rigenera.imports.sources.dm2021 import SOURCE as SRC_RU
from rigenera.imports.sources.regis import SOURCE as SRC_REGIS
from rigenera.imports.sources.regis import config as regis_config
from rigenera.imports.sources.sites2016 import FILE as SITES_FILE
from rigenera.imports.sources.sites2016 import site_conditions
from rigenera.imports.sources.transit import METRO_FILE, SURFACE_FILE
from rigenera.settings import PROJECT_ROOT

pytestmark = pytest.mark.shared_data

TABLES = ("comuni", "sites", "projects", "project_comuni", "project_sites", "funding_lines",
          "mobility_links", "transit_stops", "boundary_pieces")
REGIS_FILES = (regis_config()["localisations_file"], regis_config()["projects_file"])
ALL_FILES = (COMUNI_FILE, POPULATION_FILE, METRO_FILE, SURFACE_FILE, CYCLE_FILE, SITES_FILE,
             RU_ALL1_FILE, RU_ALL3_FILE, *REGIS_FILES)
DECREE_FILES = tuple(f for f in ALL_FILES if f not in REGIS_FILES)


def table_counts(dsn: str) -> dict[str, int]:
    sql = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM rigenera.{t}" for t in TABLES)
    return {str(t): int(str(n)) for t, n in query(dsn, sql)}


def versions(dsn: str) -> dict[str, list[tuple[object, ...]]]:
    """(key, version, updated_at) of every row: an idempotent re-run changes none."""
    out = {"comuni": query(dsn, "SELECT istat_code, version, updated_at FROM rigenera.comuni"
                                " ORDER BY 1")}
    for t in ("sites", "projects", "funding_lines", "mobility_links", "transit_stops"):
        out[t] = query(dsn, f"SELECT source, source_id, version, updated_at FROM rigenera.{t}"
                            " ORDER BY 1, 2")
    return out


def copy_data(shared: Path, dest: Path, names: tuple[str, ...] = ALL_FILES) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(shared / name, dest / name)
        (dest / name).chmod(0o644)
    return dest


@pytest.fixture(scope="module")
def loaded(make_database: Callable[[], str], shared_data: Path) -> tuple[str, LoadResult]:
    dsn = make_database()
    return dsn, load_open_data(dsn, shared_data)


def test_counts_match_sources(loaded: tuple[str, LoadResult]) -> None:
    dsn, result = loaded
    counts = result.counts()
    assert {k: counts[k] for k in ("comuni", "transit_stops", "mobility_links", "sites",
                                   "projects")} == {
        "comuni": 133, "transit_stops": 130 + 4690, "mobility_links": 4154, "sites": 192,
        "projects": 421}  # 415 CUPs of the measures in scope + 6 more of the decree
    db = table_counts(dsn)
    assert db["comuni"] == 133
    assert db["transit_stops"] == 4820
    assert db["mobility_links"] == 4154
    assert db["sites"] == 192
    assert db["projects"] == 421
    assert db["project_comuni"] == counts["project_comuni"]
    assert db["funding_lines"] == counts["funding_lines"]
    assert db["boundary_pieces"] > 133
    for _batch, report in result.reports:
        assert report.status == "succeeded" and report.counts["invalid"] == 0, report.to_json()
        assert report.counts["created"] == report.counts["read"]
        # every column a source gives is written (none ignored by the engine)
        assert not [n for n in report.notes if n.code == "columns_ignored"], report.file


def test_comuni(loaded: tuple[str, LoadResult]) -> None:
    dsn, _ = loaded
    (n_multi, pop, area_km2), = query(
        dsn, "SELECT count(*) FILTER (WHERE GeometryType(geom) = 'MULTIPOLYGON'),"
             " sum(population), sum(area_m2) / 1e6 FROM rigenera.comuni")
    assert n_multi == 133
    assert pop == 3_219_391
    assert area_km2 == pytest.approx(1575.03, rel=0.005)
    assert query(dsn, "SELECT name, population, cadastral_code FROM rigenera.comuni"
                      " WHERE istat_code = '015146'") == [("Milano", 1_354_196, "F205")]


def test_transit_stops(loaded: tuple[str, LoadResult]) -> None:
    dsn, _ = loaded
    metro = dict(query(dsn, "SELECT l, count(*) FROM rigenera.transit_stops, unnest(lines) l"
                            " WHERE mode = 'metro' GROUP BY l"))
    assert metro == {"M1": 38, "M2": 35, "M3": 21, "M4": 21, "M5": 19}
    assert query(dsn, "SELECT lines FROM rigenera.transit_stops WHERE mode = 'metro'"
                      " AND name = 'CENTRALE FS'") == [(["M2", "M3"],)]
    by_comune = dict(query(dsn, "SELECT istat_code, count(*) FROM rigenera.transit_stops"
                                " WHERE mode = 'metro' GROUP BY 1"))
    assert by_comune.get("015146") == 109
    assert None not in by_comune
    surface = dict(query(dsn, "SELECT mode, count(*) FROM rigenera.transit_stops"
                              " WHERE mode <> 'metro' GROUP BY 1"))
    assert sum(surface.values()) == 4690
    assert surface["tram"] > 0 and surface["bus"] > 0
    assert query(dsn, "SELECT count(*) FROM rigenera.transit_stops WHERE istat_code IS NULL"
                      " AND mode <> 'metro'") == [(33,)]
    assert query(dsn, "SELECT count(*) FROM rigenera.transit_stops WHERE mode <> 'metro'"
                      " AND istat_code = '015146'") == [(3108,)]
    # A tram stop has a tram line; a bus stop has none.
    assert query(dsn, "SELECT count(*) FROM rigenera.transit_stops WHERE mode = 'bus' AND"
                      " lines && ARRAY['1','2','3','4','5','7','9','10','12','14','15','16',"
                      "'19','24','27','31','33']") == [(0,)]


def test_cycle_network(loaded: tuple[str, LoadResult]) -> None:
    dsn, _ = loaded
    (km, n_multi), = query(dsn, "SELECT sum(length_m) / 1000, count(*) FILTER"
                                " (WHERE GeometryType(geom) = 'MULTILINESTRING')"
                                " FROM rigenera.mobility_links")
    assert km == pytest.approx(335.98, rel=0.005)
    assert n_multi == 4154
    kinds = dict(query(dsn, "SELECT kind, count(*) FROM rigenera.mobility_links GROUP BY 1"))
    assert kinds == {"greenway": 119, "cycle_path": 4154 - 119}
    assert query(dsn, "SELECT count(*) FROM rigenera.mobility_links"
                      " WHERE typology = 'ciclabile sede propria'") == [(1487,)]


def test_sites(loaded: tuple[str, LoadResult]) -> None:
    dsn, _ = loaded
    assert query(dsn, "SELECT DISTINCT istat_code FROM rigenera.sites") == [("015146",)]
    uses = dict(query(dsn, "SELECT former_use, count(*) FROM rigenera.sites GROUP BY 1"))
    assert uses == {"industrial": 61, "residential": 42, "tertiary": 38, "open_land": 21,
                    "rural": 11, "railway": 7, "commercial": 6, "military": 5, "parking": 1}
    own = dict(query(dsn, "SELECT ownership, count(*) FROM rigenera.sites GROUP BY 1"))
    assert own == {"public": 7, "private": 16, "unknown": 192 - 23}
    states = dict(query(dsn, "SELECT state, count(*) FROM rigenera.sites GROUP BY 1"))
    assert states["abandoned"] == 118 + 11 + 9 + 2 + 1 + 1 + 4 + 6 + 3
    assert sum(states.values()) == 192
    assert query(dsn, "SELECT count(DISTINCT source_id), count(*) FILTER (WHERE"
                      " validation_status = 'to_validate') FROM rigenera.sites") == [(192, 192)]
    assert query(dsn, "SELECT name, address, state, condition, condition_notes, ownership"
                      " FROM rigenera.sites WHERE source_id = 'A120'") == [
        ("Ex cinema Maestoso – Pza Lodi 39", "Pza Lodi 39", "abandoned", "poor",
         "Degrado/Inutilizzo; Ex cinema Maestoso", "private")]


def test_projects_and_funding(loaded: tuple[str, LoadResult]) -> None:
    """The decree's lines as before (117 CUPs, 32 granted), now mostly on ReGiS projects."""
    dsn, _ = loaded
    assert dict(query(dsn, "SELECT source, count(*) FROM rigenera.projects GROUP BY 1")) == {
        SRC_REGIS: 416, SRC_RU: 5}
    decree = "f.source_id ~ '^[A-Z0-9]{15}-(pnrr|cofin)$'"
    granted = query(dsn, "SELECT sum(amount_eur) FROM rigenera.funding_lines f"
                         f" WHERE funding_source = 'pnrr' AND status = 'granted' AND {decree}")[0][0]
    assert granted == Decimal("55971030.06")
    assert query(dsn, "SELECT count(*) FROM rigenera.funding_lines f WHERE funding_source = 'pnrr'"
                      f" AND programme_code = 'M5C2I2.01.00' AND {decree}") == [(117,)]
    assert query(dsn, "SELECT status, count(*) FROM rigenera.funding_lines f"
                      f" WHERE funding_source = 'pnrr' AND status <> 'requested' AND {decree}"
                      " GROUP BY 1 ORDER BY 1") == [("granted", 32), ("not_granted", 4)]
    # Costo complessivo = contribution + co-financing on every decree project (ReGiS
    # lines without a published amount add nothing).
    assert query(dsn, "SELECT count(*) FROM rigenera.projects p WHERE p.regenerated_m2 IS NOT"
                      " NULL AND total_cost_eur <> (SELECT sum(amount_eur) FROM"
                      " rigenera.funding_lines f WHERE f.project_id = p.id)") == [(0,)]
    row = query(dsn, "SELECT p.title, p.implementing_body, p.total_cost_eur, p.regenerated_m2,"
                     " p.geom_source, GeometryType(p.geom), c.istat_codes, p.source,"
                     " c.programme_codes FROM rigenera.projects p JOIN pub.projects c USING (id)"
                     " WHERE p.cup = 'B99D21000000005'")
    assert row == [("Rigenerazione urbana – Melzo (CUP B99D21000000005)", "Melzo",
                    Decimal("2133533.37"), Decimal("2130.00"), "comune_point", "POINT",
                    ["015142"], SRC_REGIS, ["M5C2I2.01.00"])]
    # The representative point lies in the project's comune; several comuni: a multipoint.
    assert query(dsn, "SELECT count(*) FROM rigenera.projects p JOIN rigenera.project_comuni pc"
                      " ON pc.project_id = p.id JOIN rigenera.comuni c USING (istat_code)"
                      " WHERE NOT ST_Intersects(c.geom, p.geom)") == [(0,)]
    assert query(dsn, "SELECT count(*) FROM rigenera.projects WHERE geom IS NULL"
                      " OR geom_source <> 'comune_point'") == [(0,)]
    assert query(dsn, "SELECT count(*) FROM rigenera.projects p WHERE GeometryType(geom) ="
                      " 'MULTIPOINT' AND ST_NumGeometries(geom) <> (SELECT count(*) FROM"
                      " rigenera.project_comuni pc WHERE pc.project_id = p.id)") == [(0,)]
    assert query(dsn, "SELECT count(DISTINCT pc.istat_code) FROM rigenera.project_comuni pc"
                      " JOIN rigenera.projects p ON p.id = pc.project_id"
                      " WHERE p.cup IN (SELECT substr(source_id, 1, 15) FROM"
                      " rigenera.funding_lines f WHERE " + decree + ")") == [(30,)]


def test_site_conditions_cover_the_file(shared_data: Path) -> None:
    import json

    doc = json.loads((shared_data / SITES_FILE).read_text())
    from rigenera.imports.mapping import norm

    values = {norm(f["properties"]["condition"]) for f in doc["features"]}
    assert values == site_conditions()


def test_rerun_is_idempotent(make_database: Callable[[], str], shared_data: Path) -> None:
    dsn = make_database()
    first = load_open_data(dsn, shared_data)
    before_counts, before_versions = table_counts(dsn), versions(dsn)
    (history,) = query(dsn, "SELECT count(*) FROM rigenera.history")[0]
    second = load_open_data(dsn, shared_data)
    assert second.counts() == first.counts()
    for _batch, report in second.reports:
        c = report.counts
        assert (c["created"], c["updated"], c["unchanged"]) == (0, 0, c["read"]), report.file
    assert table_counts(dsn) == before_counts
    assert versions(dsn) == before_versions
    assert query(dsn, "SELECT count(*) FROM rigenera.history") == [(history,)]
    assert query(dsn, "SELECT max(version) FROM rigenera.transit_stops") == [(1,)]
    assert query(dsn, "SELECT max(version) FROM rigenera.projects") == [(1,)]


def _rewrite_csv(path: Path, change: Callable[[list[list[str]]], None]) -> None:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    change(rows)
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)


def _malformed_cup(rows: list[list[str]]) -> None:
    rows[5][rows[0].index("CUP")] = "B99D2100000"


def _drop_column(rows: list[list[str]]) -> None:
    i = rows[0].index("Costo complessivo")
    for r in rows:
        del r[i]


@pytest.mark.parametrize(("change", "reason"), [
    (_malformed_cup, "CUP 'B99D2100000' is malformed"),
    (_drop_column, "missing column 'Costo complessivo'"),
])
def test_bad_file_rolls_back_everything(
    make_database: Callable[[], str], shared_data: Path, tmp_path: Path,
    change: Callable[[list[list[str]]], None], reason: str,
) -> None:
    dsn = make_database()
    good = copy_data(shared_data, tmp_path / "good", (COMUNI_FILE, POPULATION_FILE, METRO_FILE))
    load_open_data(dsn, good)
    before_counts, before_versions = table_counts(dsn), versions(dsn)
    assert before_counts["comuni"] == 133

    bad = copy_data(shared_data, tmp_path / "bad")
    _rewrite_csv(bad / RU_ALL1_FILE, change)
    with pytest.raises(ImportDataError) as err:
        load_open_data(dsn, bad)
    assert RU_ALL1_FILE in err.value.description
    assert reason in err.value.description
    # Comuni, stops, cycle paths and sites were loaded before the bad file: all undone.
    assert table_counts(dsn) == before_counts
    assert versions(dsn) == before_versions


def test_bad_geojson_names_the_file(
    make_database: Callable[[], str], shared_data: Path, tmp_path: Path,
) -> None:
    dsn = make_database()
    d = copy_data(shared_data, tmp_path, (COMUNI_FILE, SURFACE_FILE))
    text = (d / SURFACE_FILE).read_text().replace('"ubicazione"', '"indirizzo"')
    (d / SURFACE_FILE).write_text(text)
    with pytest.raises(ImportDataError, match=rf"{SURFACE_FILE}: missing column\(s\) ubicazione"):
        load_open_data(dsn, d)
    assert table_counts(dsn) == dict.fromkeys(TABLES, 0)


def test_no_comuni_anywhere_is_an_error(
    make_database: Callable[[], str], shared_data: Path, tmp_path: Path,
) -> None:
    dsn = make_database()
    d = copy_data(shared_data, tmp_path, (METRO_FILE,))
    with pytest.raises(ImportDataError, match=COMUNI_FILE):
        load_open_data(dsn, d)
    assert table_counts(dsn) == dict.fromkeys(TABLES, 0)


def test_missing_files_are_skipped(
    make_database: Callable[[], str], shared_data: Path, tmp_path: Path,
) -> None:
    dsn = make_database()
    first = copy_data(shared_data, tmp_path / "a", (COMUNI_FILE,))
    assert load_open_data(dsn, first).counts() == {"comuni": 133}
    # Comuni already in the database: their file may be absent now.
    second = copy_data(shared_data, tmp_path / "b", (METRO_FILE, RU_ALL3_FILE))
    assert load_open_data(dsn, second).counts() == {
        "transit_stops": 130, "projects": 32, "project_comuni": 32, "funding_lines": 32 + 7}
    assert dict(query(dsn, "SELECT source, count(*) FROM rigenera.projects GROUP BY 1")) == {
        SRC_RU: 32}
    # population file absent: population left NULL, not an error.
    assert query(dsn, "SELECT count(population) FROM rigenera.comuni") == [(0,)]


def test_on_top_of_the_demo_data(make_database: Callable[[], str], shared_data: Path) -> None:
    """Real data never sits next to the invented demo rows: they go first (history
    keeps their deletion); --keep-demo keeps them and says so."""
    from rigenera.loaders.demo import load_demo

    dsn = make_database()
    demo = load_demo(dsn)
    (lines,) = query(dsn, "SELECT count(*) FROM rigenera.funding_lines f JOIN"
                          " rigenera.projects p ON p.id = f.project_id"
                          " WHERE p.source LIKE 'Demo%%'")[0]
    assert lines > 0
    result = load_open_data(dsn, shared_data)
    assert result.demo_removed == {k: v for k, v in demo.items() if k != "comuni"} | {
        "funding_lines": lines}
    db = table_counts(dsn)
    assert db["comuni"] == 133  # the same comuni, now from the open-data file
    assert db["sites"] == 192
    assert db["projects"] == 421
    assert db["transit_stops"] == 4820
    assert query(dsn, "SELECT count(*) FROM rigenera.sites WHERE source LIKE 'Demo%%'") == [(0,)]
    assert query(dsn, "SELECT count(*) FROM rigenera.history WHERE operation = 'delete'"
                      " AND collection = 'sites' AND actor = 'import:opendata'") == [
        (demo["sites"],)]


def test_keep_demo(make_database: Callable[[], str], shared_data: Path) -> None:
    from rigenera.loaders.demo import load_demo

    dsn = make_database()
    demo = load_demo(dsn)
    result = load_open_data(dsn, shared_data, keep_demo=True)
    assert result.demo_removed == {}
    assert result.demo_kept == {k: v for k, v in demo.items() if k != "comuni"} | {
        "funding_lines": result.demo_kept["funding_lines"]}
    db = table_counts(dsn)
    assert db["sites"] == demo["sites"] + 192
    assert db["projects"] == demo["projects"] + 421
    assert db["transit_stops"] == demo["transit_stops"] + 4820


def test_cli(make_database: Callable[[], str], shared_data: Path) -> None:
    dsn = make_database()
    exe = Path(sys.executable).with_name("rigenera")
    env = {**os.environ, "DATABASE_URL": dsn}
    out = subprocess.run([str(exe), "load-open-data", str(shared_data)], env=env,
                         capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=600)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    for expected in ("comuni: 133", "transit_stops: 4820", "mobility_links: 4154", "sites: 192",
                     "projects: 421", "funding_lines: 567"):
        assert expected in lines
    assert table_counts(dsn)["projects"] == 421
    text = out.stdout
    assert "decree_missing_from_regis" in text and "measures_out_of_scope" in text


def test_cli_reports_bad_file(make_database: Callable[[], str], shared_data: Path,
                              tmp_path: Path) -> None:
    dsn = make_database()
    d = copy_data(shared_data, tmp_path, (COMUNI_FILE, RU_ALL3_FILE))
    _rewrite_csv(d / RU_ALL3_FILE, _malformed_cup)
    exe = Path(sys.executable).with_name("rigenera")
    out = subprocess.run([str(exe), "load-open-data", str(d)],
                         env={**os.environ, "DATABASE_URL": dsn},
                         capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=600)
    assert out.returncode == 2
    assert RU_ALL3_FILE in out.stderr and "malformed" in out.stderr
    assert table_counts(dsn)["comuni"] == 0


def test_degenerate_cycle_lines_are_repaired_or_counted(
    make_database: Callable[[], str], shared_data: Path, tmp_path: Path,
) -> None:
    import json

    dsn = make_database()
    d = copy_data(shared_data, tmp_path, (COMUNI_FILE,))
    props = {"anagrafica": "VIA X", "gerarchia": "urbani", "tipologia": "ciclabile sede propria"}
    good = [[9.19, 45.46], [9.191, 45.461]]
    point_like = [[9.2, 45.47], [9.2, 45.47]]
    feats = [
        {"type": "Feature", "properties": {"id_amat": 1, **props},
         "geometry": {"type": "MultiLineString", "coordinates": [good]}},
        {"type": "Feature", "properties": {"id_amat": 2, **props},
         "geometry": {"type": "MultiLineString", "coordinates": [point_like]}},
        {"type": "Feature", "properties": {"id_amat": 3, **props},
         "geometry": {"type": "MultiLineString", "coordinates": [good, point_like]}},
    ]
    (d / CYCLE_FILE).write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    result = load_open_data(dsn, d)
    assert result.counts()["mobility_links"] == 2
    assert query(dsn, "SELECT source_id, ST_NumGeometries(geom) FROM rigenera.mobility_links"
                      " ORDER BY 1") == [("1", 1), ("3", 1)]
    ((_batch, report),) = result.reports
    notes = {n.code: (n.count, n.items) for n in report.notes}
    assert notes["no_valid_line"] == (1, ["2"])
    assert notes["degenerate_parts_removed"] == (1, ["3"])


def test_imports_records_keep_the_reports(loaded: tuple[str, LoadResult]) -> None:
    """One rigenera.imports record per source file (or joined files), with the SHA-256,
    the counts and the notes the office reads: decree CUPs missing from ReGiS, rows of
    the whole province, measures left out."""
    dsn, result = loaded
    rows = query(dsn, "SELECT file_name, collection, status, actor, sha256, counts,"
                      " report->'notes' FROM rigenera.imports ORDER BY id")
    assert [(r[1], r[2], r[3]) for r in rows] == [(b.collection, "succeeded", "import:opendata")
                                                  for b, _r in result.reports]
    (projects,) = [r for r in rows if r[1] == "projects"]
    assert REGIS_FILES[0] in str(projects[0]) and RU_ALL1_FILE in str(projects[0])
    notes = {n["code"]: n for n in projects[6]}  # type: ignore[union-attr]
    assert notes["decree_missing_from_regis"]["count"] == 5
    assert sorted(notes["decree_missing_from_regis"]["items"]) == [
        "B77H21002200001", "D27H21001260001", "F84E21001080001", "J54H20001050004",
        "J59E19001010004"]
    assert notes["province_wide"]["count"] == 22
    assert notes["measures_out_of_scope"]["count"] == 3538
    (sites,) = [r for r in rows if r[1] == "sites"]
    import hashlib

    from conftest import SHARED_DATA
    assert sites[0] == SITES_FILE
    assert sites[4] == hashlib.sha256((SHARED_DATA / SITES_FILE).read_bytes()).hexdigest()
    # History rows point to the import that wrote them.
    assert query(dsn, "SELECT count(*) FROM rigenera.history h JOIN rigenera.imports i"
                      " ON i.id = h.import_id WHERE i.collection = 'projects'") == [(421,)]


def test_bad_regis_amount_refuses_the_load(make_database: Callable[[], str], shared_data: Path,
                                           tmp_path: Path) -> None:
    dsn = make_database()
    d = copy_data(shared_data, tmp_path, (COMUNI_FILE, *REGIS_FILES))
    path = d / REGIS_FILES[1]

    line: list[int] = []

    def bad_amount(rows: list[list[str]]) -> None:
        i, sub = rows[0].index("Finanziamento PNRR"), rows[0].index("Codice Univoco Submisura")
        n, row = next((n, r) for n, r in enumerate(rows) if r[sub].startswith("M5C2"))
        row[i] = "dodicimila"
        line.append(n)

    _rewrite_csv(path, bad_amount)
    with pytest.raises(ImportRefused) as err:
        load_open_data(dsn, d)
    assert REGIS_FILES[0] in err.value.description
    ((field, reason),) = [(e["field"], e["reason"]) for e in err.value.errors]
    assert field == "Finanziamento PNRR"
    assert f"{REGIS_FILES[1]}, riga / row {line[0]}" in reason and "not a number" in reason
    assert table_counts(dsn) == dict.fromkeys(TABLES, 0)  # comuni rolled back too
