-- Every sequence that is not an extension's own, with its position: pg_dump carries it
-- (setval), so a restore must give it back, or new rows would collide with restored ids.
SELECT format('%I.%I', s.schemaname, s.sequencename) AS qualified, s.last_value
  FROM pg_sequences s
  JOIN pg_class c ON c.relname = s.sequencename
  JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = s.schemaname
 WHERE s.schemaname <> 'information_schema' AND s.schemaname NOT LIKE 'pg\_%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype = 'e')
 ORDER BY 1
