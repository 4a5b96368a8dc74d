  -- programme: a project belongs whole to its main programme, the group of its largest
  -- PNRR line (any PNRR line before other sources; then the larger amount, the code);
  -- a project without funding lines to 'none'.
  SELECT DISTINCT ON (sel.id) sel.id AS project_id,
         coalesce(rigenera.programme_key(fl.funding_source, fl.programme_code, %(level)s), 'none') AS gkey,
         1::bigint AS n, 0::bigint AS k
    FROM sel LEFT JOIN rigenera.funding_lines fl ON fl.project_id = sel.id
   ORDER BY sel.id, (fl.funding_source = 'pnrr') DESC NULLS LAST, fl.amount_eur DESC NULLS LAST,
            fl.programme_code NULLS LAST, fl.id
