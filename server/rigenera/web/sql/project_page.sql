-- A published project as its public page shows it (pub.projects: the same columns as the
-- OGC API), with its publication (public text, cover) and its geometry as WKB. A draft
-- or proposed project is no row: the page is a 404.
SELECT p.id, p.title, p.description, p.cup, p.cup_status, p.implementing_body, p.status,
       p.start_date, p.end_date, p.total_cost_eur, p.funding_requested_eur,
       p.funding_granted_eur, p.pnrr_granted_eur, p.funding_approx, p.programme_codes,
       p.istat_codes, p.housing_units_fragile, p.cultural_space_m2, p.community_space_m2,
       p.productive_space_m2, p.regenerated_m2, p.geom_source, p.geometry_kind, p.scope,
       p.source, p.source_id, p.validation_status, p.updated_at,
       p.phase, p.physical_progress_pct, p.spent_eur, p.paid_eur, p.progress_date,
       pp.public_text, pp.published_at,
       d.id AS cover_id, d.title AS cover_title,
       ST_AsBinary(p.geom) AS geom_wkb
  FROM pub.projects p
  JOIN rigenera.project_publication pp ON pp.project_id = p.id AND pp.state = 'published'
  LEFT JOIN rigenera.documents d
         ON d.id = pp.cover_document_id AND d.project_id = p.id AND d.media_type LIKE 'image/%'
 WHERE p.id = $1 AND p.published
