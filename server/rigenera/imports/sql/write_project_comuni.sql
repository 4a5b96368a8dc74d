-- A project's comuni are the file's, when the file lists them.
DELETE FROM rigenera.project_comuni pc USING _imp_plan p JOIN _imp_stage s USING (_row)
 WHERE pc.project_id = p.target_id AND p.action IN ('create', 'update') AND s._codes IS NOT NULL
   AND NOT pc.istat_code = ANY (s._codes);
INSERT INTO rigenera.project_comuni (project_id, istat_code)
SELECT p.target_id, c FROM _imp_plan p JOIN _imp_stage s USING (_row), unnest(s._codes) c
 WHERE p.action IN ('create', 'update')
ON CONFLICT DO NOTHING;
