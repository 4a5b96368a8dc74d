-- Issue 10, built-in sources: what Italia Domani / ReGiS says about funding.
--
-- 1. A funding line may have no amount: the ReGiS localisations say a project is
--    financed under a PNRR sub-measure (its programme code) but publish no amount
--    for projects without a validated row (most of them). NULL = not published,
--    never 0; pub.projects' sums ignore it.
-- 2. PNRR codes of reforms (M4C1R1.07.00) are valid programme codes, as investments are.

ALTER TABLE rigenera.funding_lines ALTER COLUMN amount_eur DROP NOT NULL;

ALTER TABLE rigenera.funding_lines DROP CONSTRAINT funding_lines_pnrr_code_format;
ALTER TABLE rigenera.funding_lines ADD CONSTRAINT funding_lines_pnrr_code_format CHECK (
  funding_source <> 'pnrr' OR programme_code IS NULL
  OR programme_code ~ '^M[0-9]C[0-9][IR][0-9]+\.[0-9]{2}(\.[0-9]{2})?$');
