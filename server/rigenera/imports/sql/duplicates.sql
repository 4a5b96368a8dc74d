-- Rows of the file that are the same feature as an earlier row of the file: the same
-- key, the same CUP, the same stored feature, or (sites) the very same geometry. The
-- first is kept; the others are reported as duplicates (not written). One report per row.
INSERT INTO _imp_err (_row, field, reason, value, kind)
SELECT DISTINCT ON (_row) _row, field,
       format('duplicato della riga %%s / duplicate of row %%s', first, first), value, 'duplicate'
  FROM (SELECT s._row, 'source_id' AS field, s.source_id AS value,
               first_value(s._row) OVER w AS first, row_number() OVER w AS n
          FROM _imp_stage s WHERE s.source_id IS NOT NULL
        WINDOW w AS (PARTITION BY s.source, s.source_id ORDER BY s._row)
        {cup_duplicates}
        {geom_duplicates}
        UNION ALL
        SELECT m._row, CASE WHEN m.geom_id IS NOT NULL THEN 'geometry' ELSE 'id' END,
               coalesce(m.key_id, {cup_id}, m.geom_id)::text,
               first_value(m._row) OVER w2, row_number() OVER w2
          FROM _imp_match m WHERE coalesce(m.key_id, {cup_id}, m.geom_id) IS NOT NULL
        WINDOW w2 AS (PARTITION BY coalesce(m.key_id, {cup_id}, m.geom_id) ORDER BY m._row)) d
 WHERE n > 1
 ORDER BY _row, CASE field WHEN 'source_id' THEN 0 WHEN 'cup' THEN 1 ELSE 2 END;
