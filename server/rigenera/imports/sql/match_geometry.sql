LEFT JOIN LATERAL (
    SELECT t.id FROM {table} t
     WHERE k.id IS NULL {cup_null} AND s.geom IS NOT NULL AND t.geom && ST_Expand(s.geom, %(tol_deg)s)
       AND rigenera.geometry_kind(t.geom) = rigenera.geometry_kind(s.geom)
       AND ST_HausdorffDistance(ST_Transform(t.geom, 32632), ST_Transform(s.geom, 32632))
           <= %(tol_m)s
     ORDER BY ST_HausdorffDistance(ST_Transform(t.geom, 32632), ST_Transform(s.geom, 32632)), t.id
     LIMIT 1) g ON true
