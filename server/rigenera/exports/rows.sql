-- The rows of one export: the published view (never the storage tables, so nothing
-- private can leave), filtered by the CQL2 filter compiled by the OGC read path's own
-- evaluator and by the comuni, in id order, read through a server-side cursor.
-- Placeholders are identifiers and expressions built from the catalogue and the
-- database catalog (exports/query.py); every request value is a psycopg2 parameter.
SELECT ${columns}, ST_AsBinary(t.geom) AS _wkb
  FROM ${relation} AS t
 WHERE ${where}
 ORDER BY t."${id}"
