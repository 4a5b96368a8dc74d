-- One page of a collection as GeoJSON text, built entirely in PostgreSQL.
-- Placeholders are identifiers and expressions generated from the catalogue and the
-- database catalog (rigenera/ogc/features.py); every request value is a numbered parameter.
-- Features are concatenated text (cheaper than json_build_object), aggregated
-- in page order; numberMatched and the cursor for the next page ride along.
WITH page AS (
  SELECT t.*, row_number() OVER () AS _ord
  FROM (
    SELECT * FROM ${relation} AS t
    WHERE ${where}
    ORDER BY ${order}
    LIMIT ${limit} OFFSET ${offset}
  ) AS t
)
SELECT ${matched} AS matched,
       count(*) AS returned,
       string_agg(${feature}, ',' ORDER BY t._ord) AS features,
       (array_agg(${last_id} ORDER BY t._ord DESC))[1] AS last_id
FROM page AS t
