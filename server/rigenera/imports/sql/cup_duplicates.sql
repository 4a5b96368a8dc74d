        UNION ALL
        SELECT s._row, 'cup', s.cup, first_value(s._row) OVER wc, row_number() OVER wc
          FROM _imp_stage s WHERE s.cup IS NOT NULL
        WINDOW wc AS (PARTITION BY s.cup ORDER BY s._row)
