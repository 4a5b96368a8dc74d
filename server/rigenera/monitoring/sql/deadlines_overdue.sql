-- Deadlines past their due day and not met, one row per comune of the project (a project
-- of several comuni is listed under each; one without comuni under NULL, the metro area).
-- Filters: comune ($1), obligation ($2), project ($3).
SELECT pc.istat_code, cm.name AS comune_name, d.project_id, p.title, p.cup, d.obligation,
       o.title_it, o.title_en, d.period_start, d.period_end, d.due_on,
       current_date - d.due_on AS days_overdue
  FROM rigenera.project_deadlines(current_date) d
  JOIN rigenera.projects p ON p.id = d.project_id
  JOIN rigenera.reporting_obligations o ON o.code = d.obligation
  LEFT JOIN rigenera.project_comuni pc ON pc.project_id = d.project_id
  LEFT JOIN rigenera.comuni cm ON cm.istat_code = pc.istat_code
 WHERE d.done_on IS NULL AND d.due_on < current_date
   AND ($1::text IS NULL OR pc.istat_code = $1::text)
   AND ($2::text IS NULL OR d.obligation = $2::text)
   AND ($3::bigint IS NULL OR d.project_id = $3::bigint)
 ORDER BY cm.name NULLS LAST, pc.istat_code, d.due_on, d.project_id, d.obligation;
