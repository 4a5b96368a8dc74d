-- What makes a database "not empty" for a restore: any schema, table, view, sequence or
-- function that is neither a system object nor an extension's own (a fresh database, or one
-- with only PostGIS created, lists nothing). Each row names the object for the message.
WITH ext AS (
  SELECT classid, objid FROM pg_depend WHERE deptype = 'e'
)
SELECT 'schema' AS kind, format('%I', n.nspname) AS name, n.nspname AS schema_name
  FROM pg_namespace n
 WHERE n.nspname NOT IN ('public', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
   AND (n.oid, 'pg_namespace'::regclass) NOT IN (SELECT objid, classid FROM ext)
UNION ALL
SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                      WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' ELSE 'table' END,
       format('%I.%I', n.nspname, c.relname), n.nspname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND c.relpersistence <> 't'
   AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
   AND (c.oid, 'pg_class'::regclass) NOT IN (SELECT objid, classid FROM ext)
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                     AND d.objid = c.oid AND d.deptype IN ('a', 'i'))  -- owned sequences
UNION ALL
SELECT 'function', format('%I.%I(%s)', n.nspname, p.proname,
                          pg_get_function_identity_arguments(p.oid)), n.nspname
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
   AND (p.oid, 'pg_proc'::regclass) NOT IN (SELECT objid, classid FROM ext)
 ORDER BY 1, 2
