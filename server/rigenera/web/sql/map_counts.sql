-- The public map's counter: published projects (as drawn: tiles.projects, located) and
-- sites matching the filters; $1 istat_code, $2 status, $3 programme (funding source,
-- PNRR investment or sub-measure, as in tiles.projects.programmes), $4 phase,
-- $5 outcome (housing | cultural | community | productive); NULL = any. Also the chosen
-- comune's bounding box (west, south, east, north) for the map to zoom to.
SELECT
  (SELECT count(*) FROM tiles.projects t
    WHERE t.published
      AND ($1::text IS NULL OR strpos(',' || t.istat_codes || ',', ',' || $1 || ',') > 0)
      AND ($2::text IS NULL OR t.status = $2)
      AND ($3::text IS NULL OR strpos(',' || t.programmes || ',', ',' || $3 || ',') > 0)
      AND ($4::text IS NULL OR t.phase = $4)
      AND ($5::text IS NULL OR CASE $5 WHEN 'housing' THEN t.outcome_housing
                                       WHEN 'cultural' THEN t.outcome_cultural
                                       WHEN 'community' THEN t.outcome_community
                                       WHEN 'productive' THEN t.outcome_productive END)
  ) AS projects,
  (SELECT count(*) FROM tiles.sites s WHERE $1::text IS NULL OR s.istat_code = $1) AS sites,
  (SELECT ARRAY[ST_XMin(c.geom), ST_YMin(c.geom), ST_XMax(c.geom), ST_YMax(c.geom)]
     FROM rigenera.comuni c WHERE c.istat_code = $1) AS bbox;
