-- The project's progress records, latest first (the first is the page's phase and progress).
SELECT r.reference_date, r.phase, r.physical_progress_pct, r.spent_eur, r.paid_eur, r.source
  FROM rigenera.progress_reports r
 WHERE r.project_id = $1
 ORDER BY r.reference_date DESC, r.id DESC
