-- Issue 12, the public map: tiles.projects carries what the website's filters need.
--
-- MVT values are scalars, so lists are comma-joined strings a MapLibre filter can search
-- with ["in", ",code,", ["concat", ",", ["get", field], ","]]:
-- * programmes: every funding line's source (pnrr, fesr, municipal, ...), its PNRR
--   investment (M5C2I2.03, rigenera.programme_key at 'investment' level) and its full
--   programme code / sub-measure (M5C2I2.03.01);
-- * istat_codes: the comuni of the project.
-- phase is the one of the latest progress record (as pub.projects), geometry_kind as the
-- register; outcome_* say which planned outcomes the project has (> 0).
-- `published` (rigenera.project_publication) is a column, not a WHERE: the tiles stay the
-- open register's (the OGC items and tiles publish every project, as before), and the
-- website's style draws only published = true (web/routes/map.py).
DROP VIEW tiles.projects;
CREATE VIEW tiles.projects AS
SELECT p.id, p.title, p.cup, p.status, p.implementing_body,
       p.total_cost_eur::double precision AS total_cost_eur,
       p.geom_source, p.validation_status,
       COALESCE(pp.state = 'published', false) AS published,
       r.phase, f.programmes, c.istat_codes, p.geometry_kind,
       COALESCE(p.housing_units_fragile > 0, false) AS outcome_housing,
       COALESCE(p.cultural_space_m2 > 0, false) AS outcome_cultural,
       COALESCE(p.community_space_m2 > 0, false) AS outcome_community,
       COALESCE(p.productive_space_m2 > 0, false) AS outcome_productive,
       p.geom, p.geom_3857
FROM rigenera.projects p
LEFT JOIN rigenera.project_publication pp ON pp.project_id = p.id
LEFT JOIN LATERAL (
  SELECT string_agg(DISTINCT k, ',' ORDER BY k) AS programmes
  FROM rigenera.funding_lines fl,
       LATERAL unnest(ARRAY[fl.funding_source,
                            rigenera.programme_key(fl.funding_source, fl.programme_code, 'investment'),
                            fl.programme_code]) AS k
  WHERE fl.project_id = p.id AND k IS NOT NULL
) f ON true
LEFT JOIN LATERAL (
  SELECT string_agg(pc.istat_code, ',' ORDER BY pc.istat_code) AS istat_codes
  FROM rigenera.project_comuni pc WHERE pc.project_id = p.id
) c ON true
LEFT JOIN LATERAL (
  SELECT pr.phase FROM rigenera.progress_reports pr WHERE pr.project_id = p.id
  ORDER BY pr.reference_date DESC LIMIT 1
) r ON true
WHERE p.geom IS NOT NULL;
