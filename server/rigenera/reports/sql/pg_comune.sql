  -- comune: each of a project's comuni, part k of n (ISTAT order); metro-area projects
  -- in 'metro_area', projects without comune in 'none'.
  SELECT pc.project_id, pc.istat_code AS gkey,
         count(*) OVER w AS n, row_number() OVER (w ORDER BY pc.istat_code) - 1 AS k
    FROM rigenera.project_comuni pc JOIN sel ON sel.id = pc.project_id
  WINDOW w AS (PARTITION BY pc.project_id)
  UNION ALL
  SELECT sel.id, CASE WHEN sel.scope = 'metro_area' THEN 'metro_area' ELSE 'none' END, 1, 0
    FROM sel
   WHERE NOT EXISTS (SELECT 1 FROM rigenera.project_comuni pc WHERE pc.project_id = sel.id)
