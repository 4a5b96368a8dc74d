-- One project's calendar up to $2: every period with its due day and evidence day.
SELECT d.obligation, o.title_it, o.title_en, d.period_start, d.period_end, d.due_on,
       d.done_on, d.due_on - current_date AS days_left
  FROM rigenera.project_deadlines($2::date) d
  JOIN rigenera.reporting_obligations o ON o.code = d.obligation
 WHERE d.project_id = $1
 ORDER BY d.due_on, d.obligation;
