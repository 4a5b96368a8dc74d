-- A project's tenders (CIG), by award date.
SELECT t.id, t.cig, t.description, t.amount_eur, t.award_date, t.contractor, t.version
  FROM rigenera.tenders t
 WHERE t.project_id = $1
 ORDER BY t.award_date NULLS LAST, t.cig;
