  -- year: the project's start year; no start date: 'none'.
  SELECT sel.id AS project_id, coalesce(extract(year FROM sel.start_date)::int::text, 'none') AS gkey,
         1::bigint AS n, 0::bigint AS k
    FROM sel
