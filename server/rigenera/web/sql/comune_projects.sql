-- The comune's published projects (a project of several comuni is listed in each), whole
-- amounts as the project holds them; the page's totals come from the reports (shared).
SELECT p.id, p.title, p.cup, p.status, p.phase, p.physical_progress_pct, p.total_cost_eur,
       p.funding_requested_eur, p.funding_granted_eur, p.pnrr_granted_eur, p.start_date,
       p.geom_source, p.geometry_kind, cardinality(p.istat_codes) AS comuni,
       ST_AsBinary(p.geom) AS geom_wkb
  FROM pub.projects p
 WHERE p.published AND $1::text = ANY (p.istat_codes)
 ORDER BY p.title, p.id
