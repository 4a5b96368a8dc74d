-- Mobility coverage: which sites and projects lie within $1 metres of a stop of the
-- chosen modes or of the cycle network, per comune and for the metro area, and the
-- uncovered ones as GeoJSON features with their distance to the nearest element.
-- Parameters: $1 distance (m), $2 transit modes (text[], '{}' = none), $3 cycle network
-- (boolean), $4 targets (text[]: sites, projects), $5 ISTAT codes (text[]; NULL = all).
--
-- Covered = the definition ST_DWithin(target::geography, element::geography, $1) for some
-- element, decided in the plane on the stored UTM copies (migration 0019) where the bound
--   |planar - geodesic| <= 0.002 * geodesic + 0.5 m
-- decides it (hi(p) = (p + 0.5) / 0.998 <= $1), else by ST_DWithin on geography; targets
-- without a metric copy (outside the zone) by the definition alone.
-- Projects without a geometry, or only at their comune's point (geom_source
-- 'comune_point', the "Da localizzare" queue), are not located: counted apart per comune
-- (a project of several comuni in each of them), never as uncovered. A located target
-- belongs to one comune: a site's istat_code; a project's, the comune holding its point
-- on surface (else the first of its comuni).
WITH k AS MATERIALIZED (
  SELECT 0.002::float8 AS eps, 0.5::float8 AS a, $1::float8 AS d,
         $1::float8 * 1.002 + 0.5 AS r_hi
),
located AS (
  SELECT 'sites'::text AS collection, s.id, s.name AS label, s.istat_code, s.geom, s.geom_utm
    FROM rigenera.sites s
   WHERE 'sites' = ANY($4)
  UNION ALL
  SELECT 'projects', p.id, p.title,
         coalesce(rigenera.comune_of(p.geom),
                  (SELECT min(pc.istat_code) FROM rigenera.project_comuni pc
                    WHERE pc.project_id = p.id)),
         p.geom, p.geom_utm
    FROM rigenera.projects p
   WHERE 'projects' = ANY($4) AND p.geom IS NOT NULL AND p.geom_source <> 'comune_point'
),
targets AS MATERIALIZED (
  SELECT x.*,
         (cardinality($2::text[]) > 0 AND CASE WHEN x.geom_utm IS NOT NULL THEN EXISTS (
            SELECT 1 FROM rigenera.transit_stops t
             WHERE ST_DWithin(t.geom_utm, x.geom_utm, k.r_hi) AND t.mode = ANY($2)
               AND ((ST_Distance(t.geom_utm, x.geom_utm) + k.a) / (1 - k.eps) <= k.d
                    OR ST_DWithin(x.geom::geography, t.geom::geography, k.d)))
          ELSE EXISTS (
            SELECT 1 FROM rigenera.transit_stops t
             WHERE t.mode = ANY($2) AND ST_DWithin(x.geom::geography, t.geom::geography, k.d))
          END)
         OR ($3::boolean AND CASE WHEN x.geom_utm IS NOT NULL THEN EXISTS (
            SELECT 1 FROM rigenera.mobility_links l
             WHERE l.kind IN ('cycle_path', 'greenway')
               AND ST_DWithin(l.geom_utm, x.geom_utm, k.r_hi)
               AND ((ST_Distance(l.geom_utm, x.geom_utm) + k.a) / (1 - k.eps) <= k.d
                    OR ST_DWithin(x.geom::geography, l.geom::geography, k.d)))
          ELSE EXISTS (
            SELECT 1 FROM rigenera.mobility_links l
             WHERE l.kind IN ('cycle_path', 'greenway')
               AND ST_DWithin(x.geom::geography, l.geom::geography, k.d))
          END) AS covered
    FROM k, located x
   WHERE $5::text[] IS NULL OR x.istat_code = ANY($5)
),
not_located AS MATERIALIZED (
  SELECT p.id, pc.istat_code
    FROM rigenera.projects p
    LEFT JOIN rigenera.project_comuni pc ON pc.project_id = p.id
   WHERE 'projects' = ANY($4) AND (p.geom IS NULL OR p.geom_source = 'comune_point')
     AND ($5::text[] IS NULL OR pc.istat_code = ANY($5))
),
per_comune AS (
  SELECT c.istat_code, c.name,
         count(x.id)::int AS total,
         count(x.id) FILTER (WHERE x.covered)::int AS covered,
         count(x.id) FILTER (WHERE NOT x.covered)::int AS uncovered,
         count(x.id) FILTER (WHERE x.collection = 'sites')::int AS sites,
         count(x.id) FILTER (WHERE x.collection = 'sites' AND x.covered)::int AS sites_covered,
         count(x.id) FILTER (WHERE x.collection = 'projects')::int AS projects,
         count(x.id) FILTER (WHERE x.collection = 'projects' AND x.covered)::int
           AS projects_covered,
         (SELECT count(DISTINCT n.id) FROM not_located n
           WHERE n.istat_code = c.istat_code)::int AS not_located
    FROM rigenera.comuni c
    LEFT JOIN targets x ON x.istat_code = c.istat_code
   WHERE $5::text[] IS NULL OR c.istat_code = ANY($5)
   GROUP BY c.istat_code, c.name
),
uncovered AS (
  SELECT x.collection, x.id, x.label, x.istat_code, x.geom,
         CASE WHEN cardinality($2::text[]) > 0 AND $3::boolean
              THEN least(rigenera.transit_distance_m(x.geom, $2), rigenera.cycle_distance_m(x.geom))
              WHEN cardinality($2::text[]) > 0 THEN rigenera.transit_distance_m(x.geom, $2)
              ELSE rigenera.cycle_distance_m(x.geom) END AS nearest_m
    FROM targets x
   WHERE NOT x.covered
)
SELECT json_build_object(
  'distance_m', $1::float8,
  'modes', $2::text[] || CASE WHEN $3::boolean THEN ARRAY['cycle'] ELSE '{}' END,
  'targets', $4::text[],
  'comuni', coalesce((SELECT json_agg(json_build_object(
       'istat_code', c.istat_code, 'name', c.name,
       'total', c.total, 'covered', c.covered, 'uncovered', c.uncovered,
       'share_covered', CASE WHEN c.total > 0 THEN round(c.covered::numeric / c.total, 4) END,
       'not_located', c.not_located,
       'sites', json_build_object('total', c.sites, 'covered', c.sites_covered,
                                  'uncovered', c.sites - c.sites_covered),
       'projects', json_build_object('total', c.projects, 'covered', c.projects_covered,
                                     'uncovered', c.projects - c.projects_covered))
       ORDER BY c.istat_code) FROM per_comune c), '[]'),
  'metro', (SELECT json_build_object(
       'total', count(*), 'covered', count(*) FILTER (WHERE x.covered),
       'uncovered', count(*) FILTER (WHERE NOT x.covered),
       'share_covered', CASE WHEN count(*) > 0
                             THEN round((count(*) FILTER (WHERE x.covered))::numeric / count(*), 4)
                        END,
       'not_located', (SELECT count(DISTINCT n.id) FROM not_located n))
     FROM targets x),
  'uncovered', json_build_object('type', 'FeatureCollection', 'features', coalesce((
     SELECT json_agg(json_build_object(
       'type', 'Feature', 'id', u.collection || '.' || u.id,
       'geometry', ST_AsGeoJSON(u.geom, 7)::json,
       'properties', json_build_object(
         'id', u.id, 'collection', u.collection, 'name', u.label, 'istat_code', u.istat_code,
         'nearest_distance_m', round(u.nearest_m::numeric, 1)))
       ORDER BY u.collection DESC, u.id) FROM uncovered u), '[]'))
)::text
