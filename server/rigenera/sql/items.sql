-- One page of a collection as GeoJSON text, built entirely in PostgreSQL.
-- Placeholders are identifiers and expressions generated from the catalogue and the
-- database catalog (rigenera/ogc/features.py); every request value is a numbered parameter.
--
-- 1. `ids` finds the page: only the key (and, for filtered pages, the size of the
--    whole match set, counted in the same scan by a window) flows through the sort.
-- 2. The page's rows are fetched back by primary key and rendered as concatenated
--    text (cheaper than json_build_object), in page order, sent as UTF-8 bytes
--    (bytea) so the server splices them without decoding.
-- numberMatched: the window count; else (empty page, cursor page) the fallback
-- expression, evaluated only when needed.
WITH ids AS (
  SELECT t."${id}" AS _id${window_count}
  FROM ${relation} AS t
  WHERE ${where}
  ORDER BY ${order}
  LIMIT ${limit} OFFSET ${offset}
)
SELECT coalesce(max(ids._m), ${matched}) AS matched,
       count(*) AS returned,
       convert_to(string_agg(${feature}, ',' ORDER BY ${order}), 'UTF8') AS features,
       (array_agg(ids._id ORDER BY ${order_desc}))[1] AS last_id
FROM ids JOIN ${relation} AS t ON t."${id}" = ids._id
