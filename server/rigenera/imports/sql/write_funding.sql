-- A project's funding lines from this source are the file's, when the file lists them:
-- upserted by (source, source_id), written only when they differ; lines of the same
-- source the file no longer has are removed. Other sources' lines are left alone.
DELETE FROM rigenera.funding_lines fl USING _imp_plan p JOIN _imp_stage s USING (_row)
 WHERE fl.project_id = p.target_id AND p.action IN ('create', 'update') AND fl.source = s.source
   AND EXISTS (SELECT 1 FROM _imp_funding_given g WHERE g._row = p._row)
   AND NOT EXISTS (SELECT 1 FROM _imp_fl f WHERE f._row = p._row AND f.source_id = fl.source_id);
INSERT INTO rigenera.funding_lines AS fl (project_id, funding_source, programme_code, status,
                                          amount_eur, amount_approx, call_title, source, source_id)
SELECT p.target_id, f.funding_source, f.programme_code, f.status, f.amount_eur, f.amount_approx,
       f.call_title, f.source, f.source_id
  FROM _imp_fl f JOIN _imp_plan p USING (_row)
 WHERE p.action IN ('create', 'update')
 ORDER BY f._row, f.n
ON CONFLICT (source, source_id) DO UPDATE
   SET project_id = EXCLUDED.project_id, funding_source = EXCLUDED.funding_source,
       programme_code = EXCLUDED.programme_code, status = EXCLUDED.status,
       amount_eur = EXCLUDED.amount_eur, amount_approx = EXCLUDED.amount_approx,
       call_title = EXCLUDED.call_title
 WHERE (fl.project_id, fl.funding_source, fl.programme_code, fl.status, fl.amount_eur,
        fl.amount_approx, fl.call_title)
       IS DISTINCT FROM (EXCLUDED.project_id, EXCLUDED.funding_source, EXCLUDED.programme_code,
                         EXCLUDED.status, EXCLUDED.amount_eur, EXCLUDED.amount_approx,
                         EXCLUDED.call_title);
