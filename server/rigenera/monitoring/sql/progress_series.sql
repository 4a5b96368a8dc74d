-- A project's progress records, oldest first (the last is its current state).
SELECT r.id, r.reference_date, r.phase, r.physical_progress_pct, r.spent_eur, r.paid_eur,
       r.notes, r.source, r.version, r.created_at, r.created_by
  FROM rigenera.progress_reports r
 WHERE r.project_id = $1
 ORDER BY r.reference_date;
