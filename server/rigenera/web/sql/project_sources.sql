-- Where a project's facts come from and how fresh they are: each distinct `source` line of
-- the project and of its funding, progress, milestone rows, with the newest change of
-- those rows; and every import (rigenera.imports) whose history rows touched them: the
-- file's name, format, and when it was read.
WITH rows AS (
  SELECT 'projects' AS part, source, updated_at FROM rigenera.projects WHERE id = $1
  UNION ALL
  SELECT 'funding_lines', source, updated_at FROM rigenera.funding_lines WHERE project_id = $1
  UNION ALL
  SELECT 'progress_reports', source, updated_at FROM rigenera.progress_reports WHERE project_id = $1
  UNION ALL
  SELECT 'milestones', source, updated_at FROM rigenera.milestones WHERE project_id = $1
)
SELECT 'source' AS kind, source AS name, NULL::text AS file_format,
       array_agg(DISTINCT part ORDER BY part) AS parts, max(updated_at) AS at
  FROM rows WHERE source IS NOT NULL
 GROUP BY source
UNION ALL
SELECT 'import', i.file_name, i.file_format, array_agg(DISTINCT h.collection ORDER BY h.collection),
       max(coalesce(i.finished_at, i.started_at))
  FROM rigenera.history h
  JOIN rigenera.imports i ON i.id = h.import_id AND i.status = 'succeeded'
 WHERE (h.collection = 'projects' AND h.feature_id = $1::text)
    OR (h.collection = 'funding_lines' AND h.feature_id IN (
          SELECT id::text FROM rigenera.funding_lines WHERE project_id = $1))
 GROUP BY i.id, i.file_name, i.file_format
 ORDER BY 1 DESC, 5 DESC NULLS LAST
