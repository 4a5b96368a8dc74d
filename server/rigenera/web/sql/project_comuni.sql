-- The comuni of a project, with their boundary (simplified) as the small map's context.
SELECT c.istat_code, c.name, c.population,
       ST_AsBinary(ST_SimplifyPreserveTopology(c.geom, 0.0005)) AS geom_wkb
  FROM rigenera.project_comuni pc
  JOIN rigenera.comuni c ON c.istat_code = pc.istat_code
 WHERE pc.project_id = $1
 ORDER BY c.istat_code
