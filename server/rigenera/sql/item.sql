-- One feature as GeoJSON text (see items.sql for the conventions), with its version
-- for the ETag that writes send back in If-Match.
SELECT ${feature} AS feature, t."version" AS version
FROM ${relation} AS t
WHERE ${where}
