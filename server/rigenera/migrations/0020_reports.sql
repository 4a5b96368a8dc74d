-- Issue 11, reports (rendicontazione): two helpers the aggregates use.
--
-- rigenera.share(amount, n, k, unit): part k (0-based) of n equal parts of an amount, in
--   units of `unit` (0.01 for euros and m², 1 for counts); the units left over go one each
--   to the first parts. The n parts add up to the amount exactly, so a project of several
--   comuni shared equally among them leaves the per-comune sums equal to the metro total
--   to the cent.
-- rigenera.programme_key(source, code, level): the group of a funding line at a PNRR
--   level (mission M5, component M5C2, investment M5C2I2.01, sub-measure M5C2I2.01.00);
--   lines of other sources are grouped by their funding source, PNRR lines without a
--   code under 'pnrr'.

CREATE OR REPLACE FUNCTION rigenera.share(amount numeric, n bigint, k bigint,
                                          unit numeric DEFAULT 0.01)
RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN amount IS NULL THEN NULL
              WHEN n <= 1 THEN amount
              ELSE (floor(round(amount / unit) / n)
                    + CASE WHEN k < mod(round(amount / unit), n) THEN 1 ELSE 0 END) * unit END
$$;

CREATE OR REPLACE FUNCTION rigenera.programme_key(source text, code text, level text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN source <> 'pnrr' THEN source
    WHEN code IS NULL OR code !~ '^M[0-9]C[0-9][IR][0-9]+\.[0-9]{2}' THEN coalesce(code, 'pnrr')
    WHEN level = 'mission' THEN substring(code FROM '^(M[0-9])')
    WHEN level = 'component' THEN substring(code FROM '^(M[0-9]C[0-9])')
    WHEN level = 'investment' THEN substring(code FROM '^(M[0-9]C[0-9][IR][0-9]+\.[0-9]{2})')
    ELSE code END
$$;
