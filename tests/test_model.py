"""The data model's own rules: versions, derived metric quantities, checks that say which field."""

import psycopg2
import pytest

from conftest import query


def execute(dsn, sql, params=()):
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT set_config('rigenera.actor', 'tester', true)")
        cur.execute(sql, params)
    conn.close()


def test_update_bumps_version_and_records_who(db):
    (sid, v) = query(db, "SELECT id, version FROM rigenera.sites ORDER BY id LIMIT 1")[0]
    execute(db, "UPDATE rigenera.sites SET condition_notes = 'sopralluogo' WHERE id = %s", (sid,))
    (v2, by, created_by) = query(
        db, "SELECT version, updated_by, created_by FROM rigenera.sites WHERE id = %s", (sid,))[0]
    assert v2 == v + 1
    assert by == "tester" and created_by == "import:demo"  # the loader that created it


def test_surface_and_length_are_derived_on_the_spheroid(db):
    (area, geog_area, utm_area) = query(
        db, "SELECT surface_m2, ST_Area(geom::geography), ST_Area(ST_Transform(geom, 32632))"
            " FROM rigenera.sites WHERE ST_Dimension(geom) = 2 LIMIT 1")[0]
    assert area == pytest.approx(geog_area)
    assert area == pytest.approx(utm_area, rel=0.002)  # UTM scale error near Milan < 0.1 %
    (length, geog_len) = query(db, "SELECT length_m, ST_Length(geom::geography)"
                                   " FROM rigenera.mobility_links LIMIT 1")[0]
    assert length == pytest.approx(geog_len)


def test_point_sites_have_no_derived_surface(db):
    execute(db, "INSERT INTO rigenera.sites (name, istat_code, state, source, geom) VALUES"
                " ('Punto', '015146', 'abandoned', 'test', ST_SetSRID(ST_MakePoint(9.19, 45.46), 4326))")
    assert query(db, "SELECT surface_m2 FROM rigenera.sites WHERE name = 'Punto'") == [(None,)]


@pytest.mark.parametrize(("sql", "constraint"), [
    ("UPDATE rigenera.projects SET cup = 'ABC' WHERE id = (SELECT min(id) FROM rigenera.projects)",
     "projects_cup_format"),
    ("UPDATE rigenera.projects SET total_cost_eur = -1 WHERE id = (SELECT min(id) FROM rigenera.projects)",
     "projects_total_cost_nonneg"),
    ("UPDATE rigenera.projects SET start_date = '2030-01-01', end_date = '2020-01-01'"
     " WHERE id = (SELECT min(id) FROM rigenera.projects)", "projects_dates_order"),
    ("UPDATE rigenera.sites SET state = 'ruined' WHERE id = (SELECT min(id) FROM rigenera.sites)",
     "sites_state_check"),
    ("UPDATE rigenera.sites SET geom = ST_GeomFromText('LINESTRING(9.18 45.46, 9.19 45.47)', 4326)"
     " WHERE id = (SELECT min(id) FROM rigenera.sites)", "sites_geom_type"),
    ("UPDATE rigenera.sites SET geom = ST_GeomFromText("
     "'POLYGON((9.1 45.4, 9.2 45.5, 9.2 45.4, 9.1 45.5, 9.1 45.4))', 4326)"
     " WHERE id = (SELECT min(id) FROM rigenera.sites)", "sites_geom_valid"),
    ("UPDATE rigenera.funding_lines SET programme_code = 'M5-C2' WHERE funding_source = 'pnrr'",
     "funding_lines_pnrr_code_format"),
    ("UPDATE rigenera.funding_lines SET amount_eur = -5"
     " WHERE id = (SELECT min(id) FROM rigenera.funding_lines)",
     "funding_lines_amount_nonneg"),
    ("INSERT INTO rigenera.referents (full_name, email) VALUES ('Mario Rossi', 'not-an-email')",
     "referents_email_format"),
    ("INSERT INTO rigenera.comuni (istat_code, name, source, geom) VALUES ('15146', 'X', 't',"
     " ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(9, 45), 4326), 0.01)))", "comuni_istat_code_format"),
])
def test_constraints_name_the_rule(db, sql, constraint):
    with pytest.raises(psycopg2.IntegrityError) as err:
        execute(db, sql)
    assert err.value.diag.constraint_name == constraint


def test_comune_of_and_boundary_pieces(db):
    assert query(db, "SELECT rigenera.comune_of(ST_SetSRID(ST_MakePoint(9.19, 45.4642), 4326))") \
        == [("015146",)]
    (pieces,) = query(db, "SELECT count(*) FROM rigenera.boundary_pieces")[0]
    assert pieces > 133
    (covered,) = query(db, "SELECT abs(sum(ST_Area(geom::geography)) - (SELECT sum(area_m2)"
                           " FROM rigenera.comuni)) FROM rigenera.boundary_pieces")[0]
    assert covered < 1e4  # pieces tile the metropolitan area (m²)


def test_derived_columns_follow_the_geometry_only(db):
    (sid,) = query(db, "SELECT id FROM rigenera.sites WHERE ST_Dimension(geom) = 2"
                       " ORDER BY id LIMIT 1")[0]
    execute(db, "UPDATE rigenera.sites SET surface_m2 = 1, geom_3857 = NULL WHERE id = %s", (sid,))
    (area, geog, merc) = query(db, "SELECT surface_m2, ST_Area(geom::geography),"
                                   " geom_3857 IS NOT NULL FROM rigenera.sites WHERE id = %s",
                               (sid,))[0]
    assert area == pytest.approx(geog) and merc  # written directly: ignored
    execute(db, "UPDATE rigenera.sites SET geom = ST_Buffer(geom, 0.001) WHERE id = %s", (sid,))
    (area2, geog2) = query(db, "SELECT surface_m2, ST_Area(geom::geography) FROM rigenera.sites"
                               " WHERE id = %s", (sid,))[0]
    assert area2 == pytest.approx(geog2) and area2 > area
