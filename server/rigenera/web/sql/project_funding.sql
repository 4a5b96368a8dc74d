-- A published project's funding lines (amounts as the database holds them, numeric).
SELECT fl.id, fl.funding_source, fl.programme_code, fl.call_title, fl.status, fl.amount_eur,
       fl.amount_approx, fl.source
  FROM rigenera.funding_lines fl
 WHERE fl.project_id = $1
 ORDER BY fl.amount_eur DESC NULLS LAST, fl.id
