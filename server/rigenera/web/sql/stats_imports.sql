-- The newest succeeded import of each collection the statistics rest on (file and date).
SELECT DISTINCT ON (collection) collection, file_name, file_format,
       coalesce(finished_at, started_at) AS at
  FROM rigenera.imports
 WHERE status = 'succeeded' AND collection IN ('projects', 'funding_lines', 'progress_reports',
                                               'milestones')
 ORDER BY collection, coalesce(finished_at, started_at) DESC
