-- Each staged row's action: invalid (some rule broken), duplicate (an earlier row of
-- the file is the same feature), create, unchanged (every written value equals the
-- stored one: not written at all) or update; and the id it writes (new ids drawn
-- from the table's own sequence, in row order, so child rows can refer to them).
CREATE TEMP TABLE _imp_plan ON COMMIT DROP AS
SELECT q._row, q.action,
       CASE WHEN q.action = 'create' THEN nextval(pg_get_serial_sequence('{table}', 'id'))
            ELSE q.target_id END AS target_id
  FROM (SELECT s._row, t.id AS target_id,
               CASE WHEN e.invalid THEN 'invalid'
                    WHEN e.dup THEN 'duplicate'
                    WHEN t.id IS NULL THEN 'create'
                    WHEN {same} THEN 'unchanged'
                    ELSE 'update' END AS action
          FROM _imp_stage s
          JOIN _imp_match m USING (_row)
          LEFT JOIN {table} t ON t.id = coalesce(m.key_id, m.cup_id, m.geom_id)
          LEFT JOIN (SELECT _row, bool_or(kind = 'invalid') AS invalid,
                            bool_or(kind = 'duplicate') AS dup
                       FROM _imp_err GROUP BY _row) e USING (_row)
         ORDER BY s._row) q;
