-- A project's sites are the file's, when the file lists them.
DELETE FROM rigenera.project_sites ps USING _imp_plan p JOIN _imp_stage s USING (_row)
 WHERE ps.project_id = p.target_id AND p.action IN ('create', 'update') AND s._site_ids IS NOT NULL
   AND NOT ps.site_id = ANY (s._site_ids);
INSERT INTO rigenera.project_sites (project_id, site_id)
SELECT p.target_id, c FROM _imp_plan p JOIN _imp_stage s USING (_row), unnest(s._site_ids) c
 WHERE p.action IN ('create', 'update')
ON CONFLICT DO NOTHING;
