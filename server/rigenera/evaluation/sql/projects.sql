-- Per project (after base.sql): the evaluated projects touching %(comuni)s (NULL: all).
SELECT e.*
  FROM ev e
 WHERE %(comuni)s::text[] IS NULL OR e.istat_codes && %(comuni)s::text[]
 ORDER BY e.project_id
