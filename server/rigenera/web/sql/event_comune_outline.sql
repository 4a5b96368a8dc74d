-- A comune's outline for the event's small map, simplified (~20 m) and as WKB.
SELECT ST_AsBinary(ST_SimplifyPreserveTopology(geom, 0.0002)) AS wkb
  FROM rigenera.comuni WHERE istat_code = $1
