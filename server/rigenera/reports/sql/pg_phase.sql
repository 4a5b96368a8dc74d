  -- phase: of the latest progress record; no record: 'none'.
  SELECT sel.id AS project_id, coalesce(l.phase, 'none') AS gkey, 1::bigint AS n, 0::bigint AS k
    FROM sel LEFT JOIN latest l ON l.project_id = sel.id
