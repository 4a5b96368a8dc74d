-- The GeoPackage's projects layer: the published view's rows of the report's projects.
WITH $selection
SELECT v.id, v.title, v.cup, v.status, v.scope, v.implementing_body,
       array_to_string(v.programme_codes, ',') AS programme_codes,
       array_to_string(v.istat_codes, ',') AS istat_codes,
       v.start_date::text AS start_date, v.end_date::text AS end_date,
       v.total_cost_eur, v.funding_requested_eur, v.funding_granted_eur, v.pnrr_granted_eur,
       v.phase, v.physical_progress_pct, v.spent_eur, v.paid_eur, v.progress_date::text AS progress_date,
       v.regenerated_m2, v.source, ST_AsBinary(v.geom) AS geom
  FROM pub.projects v JOIN sel ON sel.id = v.id
 ORDER BY v.id
