        UNION ALL
        SELECT s._row, 'geometry', GeometryType(s.geom), first_value(s._row) OVER wg,
               row_number() OVER wg
          FROM _imp_stage s WHERE s.geom IS NOT NULL
        WINDOW wg AS (PARTITION BY md5(ST_AsBinary(s.geom)) ORDER BY s._row)
