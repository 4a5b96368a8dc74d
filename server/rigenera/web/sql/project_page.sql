-- A published project as its public page shows it, in one statement (one round trip): the
-- pub.projects row (the OGC API's columns), its publication (public text, cover), its
-- geometry as WKB, and as JSON arrays its funding lines, progress records (latest first),
-- milestones and targets, sites, comuni (boundary simplified, hex WKB, for the small map)
-- and sources: each distinct `source` line of its rows with their newest change, and the
-- imports (rigenera.imports) whose history rows touched the project or its funding lines.
-- Amounts stay numeric (JSON numbers with their exact digits). A draft or proposed
-- project is no row: the page is a 404.
SELECT p.id, p.title, p.description, p.cup, p.cup_status, p.implementing_body, p.status,
       p.start_date, p.end_date, p.total_cost_eur, p.programme_codes,
       p.housing_units_fragile, p.cultural_space_m2, p.community_space_m2,
       p.productive_space_m2, p.regenerated_m2, p.geom_source, p.geometry_kind, p.scope,
       p.source, p.source_id, p.updated_at,
       pp.public_text, pp.published_at,
       d.id AS cover_id, d.title AS cover_title,
       ST_AsBinary(p.geom) AS geom_wkb,
       (SELECT coalesce(json_agg(json_build_object(
                 'id', fl.id, 'funding_source', fl.funding_source,
                 'programme_code', fl.programme_code, 'call_title', fl.call_title,
                 'status', fl.status, 'amount_eur', fl.amount_eur,
                 'amount_approx', fl.amount_approx)
               ORDER BY fl.amount_eur DESC NULLS LAST, fl.id), '[]')
          FROM rigenera.funding_lines fl WHERE fl.project_id = p.id) AS funding_lines,
       (SELECT coalesce(json_agg(json_build_object(
                 'reference_date', r.reference_date, 'phase', r.phase,
                 'physical_progress_pct', r.physical_progress_pct, 'spent_eur', r.spent_eur,
                 'paid_eur', r.paid_eur)
               ORDER BY r.reference_date DESC, r.id DESC), '[]')
          FROM rigenera.progress_reports r WHERE r.project_id = p.id) AS progress,
       (SELECT coalesce(json_agg(json_build_object(
                 'kind', m.kind, 'title', m.title, 'planned_date', m.planned_date,
                 'actual_date', m.actual_date, 'indicator', m.indicator, 'unit', m.unit,
                 'planned_value', m.planned_value, 'achieved_value', m.achieved_value)
               ORDER BY m.kind, m.planned_date NULLS LAST, m.id), '[]')
          FROM rigenera.milestones m WHERE m.project_id = p.id) AS milestones,
       (SELECT coalesce(json_agg(json_build_object(
                 'id', s.id, 'name', s.name, 'istat_code', s.istat_code, 'address', s.address,
                 'state', s.state, 'geom_wkb', encode(ST_AsBinary(s.geom), 'hex'))
               ORDER BY s.name, s.id), '[]')
          FROM rigenera.project_sites ps JOIN pub.sites s ON s.id = ps.site_id
         WHERE ps.project_id = p.id) AS sites,
       (SELECT coalesce(json_agg(json_build_object(
                 'istat_code', c.istat_code, 'name', c.name,
                 'geom_wkb', encode(ST_AsBinary(ST_Simplify(c.geom, 0.0005, true)), 'hex'))
               ORDER BY c.istat_code), '[]')
          FROM rigenera.project_comuni pc JOIN rigenera.comuni c ON c.istat_code = pc.istat_code
         WHERE pc.project_id = p.id) AS comuni,
       (SELECT coalesce(json_agg(x ORDER BY x.kind DESC, x.at DESC NULLS LAST), '[]') FROM (
          SELECT 'source' AS kind, rows.source AS name, NULL::text AS file_format,
                 array_agg(DISTINCT rows.part ORDER BY rows.part) AS parts, max(rows.at) AS at
            FROM (SELECT 'projects' AS part, p.source, p.updated_at AS at
                  UNION ALL
                  SELECT 'funding_lines', source, updated_at FROM rigenera.funding_lines
                   WHERE project_id = p.id
                  UNION ALL
                  SELECT 'progress_reports', source, updated_at FROM rigenera.progress_reports
                   WHERE project_id = p.id
                  UNION ALL
                  SELECT 'milestones', source, updated_at FROM rigenera.milestones
                   WHERE project_id = p.id) rows
           WHERE rows.source IS NOT NULL
           GROUP BY rows.source
          UNION ALL
          SELECT 'import', i.file_name, i.file_format,
                 array_agg(DISTINCT h.collection ORDER BY h.collection),
                 max(coalesce(i.finished_at, i.started_at))
            FROM rigenera.history h
            JOIN rigenera.imports i ON i.id = h.import_id AND i.status = 'succeeded'
           WHERE (h.collection = 'projects' AND h.feature_id = p.id::text)
              OR (h.collection = 'funding_lines' AND h.feature_id IN (
                    SELECT id::text FROM rigenera.funding_lines WHERE project_id = p.id))
           GROUP BY i.id, i.file_name, i.file_format) x) AS sources
  FROM pub.projects p
  JOIN rigenera.project_publication pp ON pp.project_id = p.id AND pp.state = 'published'
  LEFT JOIN rigenera.documents d
         ON d.id = pp.cover_document_id AND d.project_id = p.id AND d.media_type LIKE 'image/%'
 WHERE p.id = $1 AND p.published
