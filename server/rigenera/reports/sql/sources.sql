-- Funding of the report's projects by source and status.
WITH $selection
SELECT fl.funding_source, count(DISTINCT fl.project_id) AS projects, count(*) AS funding_lines,
       count(*) FILTER (WHERE fl.amount_eur IS NULL) AS lines_without_amount,
       coalesce(sum(fl.amount_eur), 0) AS requested_eur,
       coalesce(sum(fl.amount_eur) FILTER (WHERE fl.status = 'granted'), 0) AS granted_eur,
       coalesce(sum(fl.amount_eur) FILTER (WHERE fl.status = 'not_granted'), 0) AS not_granted_eur,
       coalesce(sum(fl.amount_eur) FILTER (WHERE fl.status = 'requested'), 0) AS pending_eur,
       coalesce(sum(fl.amount_eur) FILTER (WHERE fl.status = 'revoked'), 0) AS revoked_eur
  FROM rigenera.funding_lines fl JOIN sel ON sel.id = fl.project_id
 GROUP BY fl.funding_source
 ORDER BY 1
