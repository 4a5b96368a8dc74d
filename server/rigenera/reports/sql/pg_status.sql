  SELECT sel.id AS project_id, sel.status AS gkey, 1::bigint AS n, 0::bigint AS k FROM sel
