-- The volunteers' review queue: features waiting for validation, oldest change
-- first, with the automatic checks' results computed by PostGIS. Parameters:
-- $1 collection ('sites' or 'projects'), $2 ISTAT code filter (NULL = all), $3 limit.
WITH queue AS (
  SELECT 'sites' AS collection, s.id, s.name AS title, s.istat_code, s.version,
         s.updated_at, s.updated_by, s.geom
  FROM rigenera.sites s
  WHERE $1 = 'sites' AND s.validation_status = 'to_validate'
    AND ($2::text IS NULL OR s.istat_code = $2)
  UNION ALL
  SELECT 'projects', p.id, p.title, pc.istat_code, p.version, p.updated_at, p.updated_by, p.geom
  FROM rigenera.projects p
  LEFT JOIN LATERAL (SELECT min(istat_code) AS istat_code FROM rigenera.project_comuni
                     WHERE project_id = p.id) pc ON true
  WHERE $1 = 'projects' AND p.validation_status = 'to_validate'
    AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM rigenera.project_comuni x
                                     WHERE x.project_id = p.id AND x.istat_code = $2))
  ORDER BY updated_at, id
  LIMIT $3
)
SELECT q.collection, q.id, q.title, q.istat_code, q.version, q.updated_at, q.updated_by,
       ST_AsGeoJSON(q.geom, 7)::json AS geometry,
       jsonb_build_object(
         'valid', ST_IsValid(q.geom),
         'validity_reason', CASE WHEN NOT ST_IsValid(q.geom) THEN ST_IsValidReason(q.geom) END,
         'self_intersects', ST_IsValidReason(q.geom) LIKE 'Self-intersection%'
                            OR (ST_Dimension(q.geom) = 1 AND NOT ST_IsSimple(q.geom)),
         'area_m2', round(ST_Area(q.geom::geography)::numeric, 1),
         -- Thin slivers: area small relative to the perimeter (isoperimetric ratio).
         'sliver', ST_Dimension(q.geom) = 2 AND ST_Perimeter(q.geom::geography) > 0 AND
                   4 * pi() * ST_Area(q.geom::geography) / ST_Perimeter(q.geom::geography) ^ 2 < 0.05,
         'area_plausible', ST_Dimension(q.geom) < 2 OR
                           ST_Area(q.geom::geography) BETWEEN 20 AND 5000000,
         'overlapping_sites', (SELECT coalesce(jsonb_agg(o.id ORDER BY o.id), '[]'::jsonb)
                               FROM rigenera.sites o
                               WHERE q.collection = 'sites' AND o.id <> q.id
                                 AND ST_Dimension(q.geom) = 2 AND ST_Dimension(o.geom) = 2
                                 AND ST_Overlaps(o.geom, q.geom)),
         -- How far (m) the geometry reaches outside its comune: 0 when inside.
         'outside_comune_m', coalesce((
             SELECT round(max(ST_Distance((dp).geom::geography, c.geom::geography))::numeric, 1)
             FROM rigenera.comuni c, ST_DumpPoints(ST_Difference(q.geom, c.geom)) AS dp
             WHERE c.istat_code = q.istat_code AND NOT ST_CoveredBy(q.geom, c.geom)), 0),
         'outside_location', (SELECT ST_AsGeoJSON(ST_PointOnSurface(ST_Difference(q.geom, c.geom)), 7)::jsonb
                              FROM rigenera.comuni c WHERE c.istat_code = q.istat_code
                                AND NOT ST_CoveredBy(q.geom, c.geom)
                                AND NOT ST_IsEmpty(ST_Difference(q.geom, c.geom)))
       ) AS checks
FROM queue q
ORDER BY q.updated_at, q.id
