-- The counts of the whole selection (a project counted once, whatever its groups).
WITH $selection,
od AS (
  SELECT d.project_id FROM rigenera.project_deadlines(current_date) d JOIN sel ON sel.id = d.project_id
   WHERE d.done_on IS NULL AND d.due_on < current_date
)
SELECT (SELECT count(*) FROM sel) AS projects,
       (SELECT count(*) FROM rigenera.funding_lines fl JOIN sel ON sel.id = fl.project_id) AS funding_lines,
       (SELECT count(*) FROM rigenera.funding_lines fl JOIN sel ON sel.id = fl.project_id
         WHERE fl.amount_eur IS NULL) AS lines_without_amount,
       (SELECT count(DISTINCT r.project_id) FROM rigenera.progress_reports r
          JOIN sel ON sel.id = r.project_id) AS projects_with_progress,
       (SELECT count(*) FROM od) AS overdue_deadlines,
       (SELECT count(DISTINCT project_id) FROM od) AS projects_overdue
