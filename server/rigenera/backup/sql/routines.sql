-- The database's own functions and procedures that do not fix their search_path. pg_restore
-- runs with an empty search_path (the CVE-2018-1058 hardening), so one of them that calls
-- PostGIS unqualified (rigenera.metric_geom: ST_Transform) fails when a generated column, a
-- CHECK or an index expression evaluates it during the restore. restore.py pins their
-- search_path to the database's default while the data and indexes load, then resets it.
SELECT p.oid::regprocedure::text AS signature
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE p.prokind IN ('f', 'p')
   AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                      AND d.deptype = 'e')
   AND NOT EXISTS (SELECT 1 FROM unnest(coalesce(p.proconfig, '{}')) AS c(setting)
                    WHERE c.setting LIKE 'search\_path=%')
 ORDER BY 1
