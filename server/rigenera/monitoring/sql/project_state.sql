-- Does the project exist, its current phase (latest progress record; 'design' without one)
-- and the caller's reach problems ($2: a technician's comuni; NULL: everywhere).
SELECT p.id,
       coalesce((SELECT r.phase FROM rigenera.progress_reports r WHERE r.project_id = p.id
                  ORDER BY r.reference_date DESC LIMIT 1), 'design') AS phase,
       CASE WHEN $2::text[] IS NULL THEN '[]'::jsonb
            ELSE rigenera.project_reach_problems(p.id, $2::text[]) END AS problems
  FROM rigenera.projects p
 WHERE p.id = $1;
