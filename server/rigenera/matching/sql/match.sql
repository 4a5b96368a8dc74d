-- Needs matched to funding calls: every criterion of every (need, call) pair, the pairs
-- that fit (failed = 0) and, when asked, the near misses (one or two criteria failed),
-- ranked. Python (rigenera/matching/service.py) words the reasons; the facts are here.
--
-- $1 need id (a need of any status) or NULL; $2 ISTAT codes (their OPEN needs) or NULL;
-- $3 the reference date; $4 near misses wanted; $5 how many days back an expired call is
-- still worth naming as a near miss.
--
-- Criteria (each true/false, or a code saying why not):
--   theme        the need's category among the call's themes (a call without themes: any)
--   beneficiary  the need's applicant among the call's eligible beneficiaries
--   comune       the call's eligible comuni NULL (all) or containing the need's comune
--   deadline     open on $3: opens_on <= $3 (or NULL) and closes_on >= $3 (or NULL), and
--                applicable before the need's needed_by: greatest($3, opens_on) <= needed_by
--                codes: expired | not_yet_open | too_late
--   amount       estimated cost <= max_grant_eur and <= budget_eur (unknown amounts pass,
--                amount_known false): over_max_grant | over_budget
-- Rank within a need, matches and near misses apart (the order of the ORDER BY below):
--   fewer criteria failed; amounts known before unknown; the larger share of the cost the
--   maximum grant covers (capped at 100 %); the sooner the call closes (open-ended last);
--   the larger maximum grant; the call id.
WITH n AS (
  SELECT n.id, n.istat_code, co.name AS comune, n.title, n.description, n.category,
         n.applicant, n.priority, n.status, n.estimated_cost_eur, n.needed_by
    FROM rigenera.needs n
    JOIN rigenera.comuni co ON co.istat_code = n.istat_code
   WHERE n.id = $1::bigint OR (n.istat_code = ANY ($2::text[]) AND n.status = 'open')
),
p AS (
  SELECT n.id AS need_id, c.id AS call_id, c.title AS call_title, c.funder, c.funding_source,
         c.programme_code, c.themes, c.eligible_beneficiaries, c.eligible_istat_codes,
         c.opens_on, c.closes_on, c.budget_eur, c.max_grant_eur, c.url,
         cardinality(c.themes) = 0 AS themes_open,
         cardinality(c.themes) = 0 OR n.category = ANY (c.themes) AS theme_ok,
         n.applicant = ANY (c.eligible_beneficiaries) AS beneficiary_ok,
         c.eligible_istat_codes IS NULL AS comuni_open,
         c.eligible_istat_codes IS NULL OR n.istat_code = ANY (c.eligible_istat_codes) AS comune_ok,
         CASE WHEN c.closes_on < $3::date THEN 'expired'
              WHEN greatest($3::date, c.opens_on) > n.needed_by THEN 'too_late'
              WHEN c.opens_on > $3::date THEN 'not_yet_open' END AS deadline_code,
         CASE WHEN n.estimated_cost_eur > c.max_grant_eur THEN 'over_max_grant'
              WHEN n.estimated_cost_eur > c.budget_eur THEN 'over_budget' END AS amount_code,
         n.estimated_cost_eur IS NOT NULL
           AND coalesce(c.max_grant_eur, c.budget_eur) IS NOT NULL AS amount_known,
         n.estimated_cost_eur - coalesce(c.max_grant_eur, c.budget_eur) AS over_by_eur,
         CASE WHEN n.estimated_cost_eur > 0 THEN
           round(least(1, coalesce(c.max_grant_eur, c.budget_eur) / n.estimated_cost_eur) * 100, 1)
         END AS coverage_pct,
         c.closes_on - $3::date AS days_left,
         c.opens_on - $3::date AS days_to_open
    FROM n CROSS JOIN rigenera.calls c
),
f AS (
  SELECT p.*,
         (NOT theme_ok)::int + (NOT beneficiary_ok)::int + (NOT comune_ok)::int
           + (deadline_code IS NOT NULL)::int + (amount_code IS NOT NULL)::int AS failed
    FROM p
),
k AS (
  SELECT f.*,
         row_number() OVER (
           PARTITION BY need_id, failed = 0
           ORDER BY failed, amount_known DESC, coverage_pct DESC NULLS LAST,
                    closes_on NULLS LAST, max_grant_eur DESC NULLS LAST, call_id) AS rank
    FROM f
   WHERE failed = 0
      OR ($4::boolean AND failed <= 2
          AND (deadline_code IS DISTINCT FROM 'expired' OR closes_on >= $3::date - $5::integer))
)
SELECT n.id, n.istat_code, n.comune, n.title, n.description, n.category, n.applicant,
       n.priority, n.status, n.estimated_cost_eur, n.needed_by,
       k.call_id, k.call_title, k.funder, k.funding_source, k.programme_code, k.themes,
       k.eligible_beneficiaries, k.eligible_istat_codes, k.opens_on, k.closes_on,
       k.budget_eur, k.max_grant_eur, k.url, k.themes_open, k.theme_ok, k.beneficiary_ok,
       k.comuni_open, k.comune_ok, k.deadline_code, k.amount_code, k.amount_known,
       k.over_by_eur, k.coverage_pct, k.days_left, k.days_to_open, k.failed, k.rank
  FROM n
  LEFT JOIN k ON k.need_id = n.id
 ORDER BY n.priority, n.needed_by NULLS LAST, n.id, k.failed = 0 DESC, k.rank
