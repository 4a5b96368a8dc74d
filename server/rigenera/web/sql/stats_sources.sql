-- The attribution of the public statistics: the distinct `source` lines of the published
-- projects and of their funding lines, with how many rows each brought and the newest one.
WITH pubp AS (
  SELECT p.id, p.source, p.updated_at FROM rigenera.projects p
    JOIN rigenera.project_publication pp ON pp.project_id = p.id AND pp.state = 'published'
)
SELECT source, count(*) AS rows, max(updated_at) AS at FROM (
  SELECT source, updated_at FROM pubp
  UNION ALL
  SELECT fl.source, fl.updated_at FROM rigenera.funding_lines fl JOIN pubp ON pubp.id = fl.project_id
) s
 WHERE source IS NOT NULL
 GROUP BY source
 ORDER BY count(*) DESC, source
