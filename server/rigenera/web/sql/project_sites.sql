-- The published sites a project regenerates, with their geometry for the small map.
SELECT s.id, s.name, s.istat_code, s.address, s.state, s.former_use, s.geometry_kind,
       s.source, ST_AsBinary(s.geom) AS geom_wkb
  FROM rigenera.project_sites ps
  JOIN pub.sites s ON s.id = ps.site_id
 WHERE ps.project_id = $1
 ORDER BY s.name, s.id
