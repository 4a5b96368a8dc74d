-- The tables a backup covers and checks: every ordinary table outside the system schemas
-- that is not an extension's own (spatial_ref_sys belongs to PostGIS), with the ORDER BY
-- of its checksum: the primary key's columns, text ones in the "C" collation so the
-- order, hence the checksum, is the same on a server with another default collation.
-- Tables without a primary key are ordered by the rows' hashes.
SELECT n.nspname AS schema_name,
       c.relname AS table_name,
       format('%I.%I', n.nspname, c.relname) AS qualified,
       (SELECT string_agg(format('t.%I', a.attname)
                          || CASE WHEN a.attcollation <> 0 THEN ' COLLATE "C"' ELSE '' END,
                          ', ' ORDER BY k.ord)
          FROM pg_index i
         CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
         WHERE i.indrelid = c.oid AND i.indisprimary) AS order_by,
       c.relpages AS pages
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r'
   AND c.relpersistence <> 't'
   AND n.nspname <> 'information_schema'
   AND n.nspname NOT LIKE 'pg\_%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype = 'e')
 ORDER BY c.relpages DESC, n.nspname, c.relname  -- largest first: parallel checks end together
