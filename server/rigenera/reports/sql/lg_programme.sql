  -- programme: each funding line in its own programme's group, whole.
  SELECT fl.id AS line_id, rigenera.programme_key(fl.funding_source, fl.programme_code, %(level)s) AS gkey,
         1::bigint AS n, 0::bigint AS k
    FROM rigenera.funding_lines fl JOIN sel ON sel.id = fl.project_id
