-- One feature as GeoJSON text (see items.sql for the conventions).
SELECT ${feature} AS feature
FROM ${relation} AS t
WHERE ${where}
