-- The comuni's outlines for the PDF map: UTM 32N (metres, a true shape), simplified to
-- 20 m (invisible at page scale, a tenth of the vertices).
SELECT istat_code, name, ST_AsBinary(ST_SimplifyPreserveTopology(ST_Transform(geom, 32632), 20)) AS wkb
  FROM rigenera.comuni ORDER BY istat_code
