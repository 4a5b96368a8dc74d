-- A project's funding lines, normalised as funding_lines stores them: status defaults
-- to requested, amounts to 2 decimals, a line without its own source_id keyed by its
-- project's key and its position (so a re-import finds it again).
CREATE TEMP TABLE _imp_fl ON COMMIT DROP AS
SELECT f._row, f.n, f.funding_source, f.programme_code, coalesce(f.status, 'requested') AS status,
       f.amount_eur AS amount_text,
       CASE WHEN btrim(f.amount_eur) ~ '^[+-]?[0-9]{1,12}(\.[0-9]+)?$'
            THEN round(btrim(f.amount_eur)::numeric, 2) END AS amount_eur,
       coalesce(f.amount_approx, false) AS amount_approx, f.call_title,
       coalesce(f.source_id, coalesce(s.source_id, s.cup, 'riga ' || s._row) || '#' || f.n) AS source_id,
       s.source
  FROM _imp_funding f JOIN _imp_stage s USING (_row);
