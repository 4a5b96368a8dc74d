-- Projects under way (not rejected; a granted funding line or a progress record) with
-- missing documents (rigenera.missing_documents), optionally of one comune ($1).
SELECT p.id, p.title, p.cup, p.status, pp.phase, coalesce(c.istat_codes, '{}') AS istat_codes,
       jsonb_agg(jsonb_build_object('phase', m.phase, 'kind', m.kind)
                 ORDER BY rigenera.phase_rank(m.phase), m.kind) AS missing
  FROM rigenera.missing_documents m
  JOIN rigenera.projects p ON p.id = m.project_id
  JOIN rigenera.project_phase pp ON pp.project_id = p.id
  LEFT JOIN LATERAL (SELECT array_agg(pc.istat_code ORDER BY pc.istat_code) AS istat_codes
                       FROM rigenera.project_comuni pc WHERE pc.project_id = p.id) c ON true
 WHERE p.status <> 'rejected'
   AND (EXISTS (SELECT 1 FROM rigenera.funding_lines fl
                 WHERE fl.project_id = p.id AND fl.status = 'granted')
        OR EXISTS (SELECT 1 FROM rigenera.progress_reports r WHERE r.project_id = p.id))
   AND ($1::text IS NULL OR EXISTS (SELECT 1 FROM rigenera.project_comuni pc
                                     WHERE pc.project_id = p.id AND pc.istat_code = $1))
 GROUP BY p.id, pp.phase, c.istat_codes
 ORDER BY p.id;
