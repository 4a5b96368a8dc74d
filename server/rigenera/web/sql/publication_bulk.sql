-- Publish many projects at once: $1 the ids, $2 their versions as the list showed them
-- (NULL: publish whatever their version, for "all the filtered ones"), $3 who publishes.
-- Projects already published are left alone; a changed version is skipped (returned as
-- not done by the caller's comparison of ids).
WITH wanted AS (
  SELECT * FROM unnest($1::bigint[], $2::int[]) AS w(project_id, version)
), made AS (
  INSERT INTO rigenera.project_publication (project_id, state, published_by, published_at)
  SELECT w.project_id, 'published', $3, now()
    FROM wanted w
   WHERE coalesce(w.version, 0) = 0
     AND EXISTS (SELECT 1 FROM rigenera.projects p WHERE p.id = w.project_id)
     AND NOT EXISTS (SELECT 1 FROM rigenera.project_publication pp
                      WHERE pp.project_id = w.project_id)
  ON CONFLICT (project_id) DO NOTHING
  RETURNING project_id
), changed AS (
  UPDATE rigenera.project_publication pp
     SET state = 'published', published_by = $3, published_at = now()
    FROM wanted w
   WHERE pp.project_id = w.project_id AND pp.state <> 'published'
     AND (w.version IS NULL OR pp.version = w.version)
  RETURNING pp.project_id
)
SELECT project_id FROM made UNION ALL SELECT project_id FROM changed;
