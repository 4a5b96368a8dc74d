-- A project's checklist: for each phase up to its current one (rigenera.project_phase),
-- every required kind with the documents filed under that phase and kind.
SELECT rq.phase, rq.kind, pp.phase AS current_phase,
       coalesce((SELECT jsonb_agg(jsonb_build_object(
                          'id', d.id, 'title', d.title, 'file_name', d.file_name,
                          'reference_date', d.reference_date, 'created_at', d.created_at)
                        ORDER BY d.created_at, d.id)
                   FROM rigenera.documents d
                  WHERE d.project_id = pp.project_id AND d.phase = rq.phase
                    AND d.kind = rq.kind), '[]'::jsonb) AS documents
  FROM rigenera.project_phase pp
  JOIN rigenera.document_requirements rq
    ON rigenera.phase_rank(rq.phase) <= rigenera.phase_rank(pp.phase)
 WHERE pp.project_id = $1
 ORDER BY rigenera.phase_rank(rq.phase), rq.kind;
