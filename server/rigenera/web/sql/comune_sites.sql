-- The comune's published sites (pub.sites: public columns only).
SELECT s.id, s.name, s.address, s.state, s.former_use, s.surface_m2, s.geometry_kind,
       ST_AsBinary(s.geom) AS geom_wkb
  FROM pub.sites s
 WHERE s.istat_code = $1
 ORDER BY s.name, s.id
