-- One need as the reserved area shows and edits it: every writable column the web form
-- carries, its version (the form's base version), who wrote it, and its place: a point
-- as longitude/latitude, any other shape only by kind (kept as it is by the form).
SELECT n.id, n.istat_code, c.name AS comune, n.title, n.description, n.category,
       n.applicant, n.priority, n.status, n.estimated_cost_eur, n.needed_by,
       n.version, n.created_at, n.created_by, n.updated_at, n.updated_by,
       GeometryType(n.geom) AS geometry_type,
       CASE WHEN GeometryType(n.geom) = 'POINT' THEN ST_X(n.geom) END AS longitude,
       CASE WHEN GeometryType(n.geom) = 'POINT' THEN ST_Y(n.geom) END AS latitude,
       ST_AsText(n.geom) AS geom_wkt,
       ST_AsText(ST_SimplifyPreserveTopology(c.geom, 0.0005)) AS comune_wkt
  FROM rigenera.needs n
  JOIN rigenera.comuni c ON c.istat_code = n.istat_code
 WHERE n.id = $1::bigint
