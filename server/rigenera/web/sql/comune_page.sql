-- A comune of the metropolitan area (pub.comuni), its boundary simplified for the small map.
SELECT c.istat_code, c.name, c.population, c.area_m2, c.ivsm, c.ivsm_year, c.source,
       ST_AsBinary(ST_Simplify(c.geom, 0.0003, true)) AS geom_wkb
  FROM pub.comuni c
 WHERE c.istat_code = $1
