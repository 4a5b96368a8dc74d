-- Milestones (planned and actual dates) and targets (planned and achieved values).
SELECT m.id, m.kind, m.title, m.planned_date, m.actual_date, m.indicator, m.unit,
       m.planned_value, m.achieved_value, m.source
  FROM rigenera.milestones m
 WHERE m.project_id = $1
 ORDER BY m.kind, m.planned_date NULLS LAST, m.id
