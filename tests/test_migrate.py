"""Versioned SQL migrations: idempotent, recorded, and refusing a database from the future."""

import pytest

from conftest import query
from rigenera.errors import MigrationError
from rigenera.migrate import available, migrate


def test_migrations_apply_once(make_database):
    dsn = make_database()
    assert migrate(dsn) == []  # already applied by the fixture
    recorded = query(dsn, "SELECT version FROM rigenera.schema_migrations ORDER BY version")
    assert [r[0] for r in recorded] == [m.version for m in available()]


def test_every_geometry_has_a_gist_index(make_database):
    dsn = make_database()
    tables = query(dsn, "SELECT f_table_name FROM geometry_columns WHERE f_table_schema='rigenera'")
    indexed = {r[0] for r in query(
        dsn, "SELECT t.relname FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid"
             " JOIN pg_class ix ON ix.oid = i.indexrelid JOIN pg_am am ON am.oid = ix.relam"
             " JOIN pg_namespace n ON n.oid = t.relnamespace"
             " WHERE am.amname = 'gist' AND n.nspname = 'rigenera'")}
    # events and needs are few and mostly unlocated; metro_area is one row; history keeps
    # geometries as records, never searched spatially
    missing = {t for (t,) in tables} - indexed - {"events", "needs", "metro_area", "history"}
    assert not missing


def test_database_ahead_of_code_is_refused(make_database):
    dsn = make_database()
    query(dsn, "INSERT INTO rigenera.schema_migrations (version, name, checksum)"
               " VALUES (9999, 'future', 'x') RETURNING version")
    with pytest.raises(MigrationError, match="9999"):
        migrate(dsn)


def test_editable_tables_carry_versions_and_authorship(make_database):
    dsn = make_database()
    for table in ("comuni", "sites", "projects", "funding_lines", "mobility_links",
                  "transit_stops", "calls", "needs", "referents", "events"):
        cols = {r[0] for r in query(
            dsn, "SELECT column_name FROM information_schema.columns"
                 " WHERE table_schema='rigenera' AND table_name=%s", (table,))}
        assert {"version", "created_at", "created_by", "updated_at", "updated_by"} <= cols, table


def test_referents_are_not_published(make_database):
    dsn = make_database()
    views = {r[0] for r in query(dsn, "SELECT table_name FROM information_schema.views"
                                      " WHERE table_schema = 'pub'")}
    assert views == {"comuni", "sites", "projects", "mobility_links", "transit_stops", "calls",
                     "needs"}
    # A need's referent (migration 0016) is private too.
    assert query(dsn, "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'pub'"
                      " AND column_name LIKE 'referent%%'") == [(0,)]
