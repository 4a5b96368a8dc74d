-- Funding calls open on $1 or opening later (the office writes them), soonest closing first.
SELECT id, title, funder, funding_source, themes, eligible_beneficiaries, eligible_istat_codes,
       opens_on, closes_on, budget_eur, max_grant_eur, url
  FROM rigenera.calls
 WHERE closes_on IS NULL OR closes_on >= $1::date
 ORDER BY closes_on NULLS LAST, id
