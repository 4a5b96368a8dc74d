-- A project's milestones and targets, with lateness by the one definition
-- (rigenera.milestone_days_late, 0017): done after the planned day, or not done and the
-- planned day past; days_late counted to the actual day or to today.
SELECT m.id, m.kind, m.title, m.planned_date, m.actual_date, m.indicator, m.unit,
       m.planned_value, m.achieved_value, m.notes, m.version,
       rigenera.milestone_days_late(m.planned_date, m.actual_date) > 0 AS late,
       rigenera.milestone_days_late(m.planned_date, m.actual_date) AS days_late
  FROM rigenera.milestones m
 WHERE m.project_id = $1
 ORDER BY m.planned_date, m.id;
