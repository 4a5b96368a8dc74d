-- Sites near public transport: the published sites within $1 metres of at least one
-- stop of the chosen modes, each with its nearest such stop, as GeoJSON text.
-- Parameters: $1 distance (m), $2 modes, $3 ISTAT codes, $4 states (text[]; NULL = all).
--
-- Same answer as the direct definition
--   ST_DWithin(s.geom::geography, t.geom::geography, $1) over rigenera.sites x transit_stops,
--   nearest = ORDER BY ST_Distance(s.geom::geography, t.geom::geography), t.id
-- (tests/test_processes.py compares both). Geography distances cost ~10 us each, so
-- everything is decided in the plane on the stored UTM copies (geom_utm, migration 0019,
-- GIST-indexed) whenever the bound
--   |planar - geodesic| <= eps * geodesic + a      (eps = 0.002, a = 0.5 m)
-- decides it; a geodesic is computed only for the distance each returned site reports
-- and for the few sites the bound leaves open. With lo(p) = (p - a) / (1 + eps) and
-- hi(p) = (p + a) / (1 - eps) the geodesic lies in [lo(p), hi(p)], and:
--  * a stop whose geodesic is <= $1 has p <= r_hi = $1 * (1 + eps) + a;
--  * a stop can be the nearest only if lo(p) <= hi(e) (e: the smallest p of the site),
--    i.e. p <= t(e) = hi(e) * (1 + eps) + a;
--  * hi(p) <= $1 is within the distance; lo(p) > $1 is not; in between ST_DWithin
--    on geography decides, as in the definition.
-- 1. first: every stop probes the sites' index within r1 (the pairs, ~3 per site), a
--    window keeps each site's planar nearest e and the next e2. A site is settled when
--    e2 > t(e) (one candidate) and t(e) <= r1 (nothing beyond r1 could compete). r1 =
--    r_hi unless stops are sparse for the radius (rail at 5 km): then r1 is the radius
--    holding ~3 stops per site on average, and the few sites with no stop that near go
--    to step 2 (KNN on the per-mode indexes).
-- 2. careful: unsettled sites (near ties, sparse neighbourhoods) take every candidate
--    within t(e), measured on geography, nearest by (distance, stop id).
-- 3. outside: sites without a metric copy (outside UTM 32N's bounded zone) are measured
--    by the definition itself.
WITH k AS MATERIALIZED (
  SELECT 0.002::float8 AS eps, 0.5::float8 AS a, $1::float8 AS d,
         $1::float8 * 1.002 + 0.5 AS r_hi,
         least($1::float8 * 1.002 + 0.5,
               greatest(200.0, sqrt(3.0 * area / (pi() * greatest(n, 1))))) AS r1
    FROM (SELECT count(*) AS n,
                 coalesce((ST_XMax(ST_Extent(t.geom_utm)) - ST_XMin(ST_Extent(t.geom_utm)))
                          * (ST_YMax(ST_Extent(t.geom_utm)) - ST_YMin(ST_Extent(t.geom_utm))),
                          0) AS area
            FROM rigenera.transit_stops t
           WHERE t.geom_utm IS NOT NULL AND ($2::text[] IS NULL OR t.mode = ANY($2))) st
),
first AS MATERIALIZED (
  SELECT x.id, x.stop_id, x.est,
         CASE WHEN (x.est - k.a) / (1 + k.eps) > k.d THEN 0  -- nothing within $1
              WHEN (x.e2 IS NULL OR x.e2 > ((x.est + k.a) / (1 - k.eps)) * (1 + k.eps) + k.a)
                   AND (k.r1 >= k.r_hi
                        OR ((x.est + k.a) / (1 - k.eps)) * (1 + k.eps) + k.a <= k.r1)
              THEN 1                                         -- settled in the plane
              ELSE 2 END AS cls                              -- careful
    FROM k, (SELECT q.id, q.stop_id, q.est,
                    lead(q.est) OVER w AS e2, row_number() OVER w AS rn
               FROM (SELECT s.id, t.id AS stop_id, ST_Distance(s.geom_utm, t.geom_utm) AS est
                       FROM k CROSS JOIN rigenera.transit_stops t
                       JOIN rigenera.sites s ON ST_DWithin(s.geom_utm, t.geom_utm, k.r1)
                      WHERE ($2::text[] IS NULL OR t.mode = ANY($2))
                        AND ($3::text[] IS NULL OR s.istat_code = ANY($3))
                        AND ($4::text[] IS NULL OR s.state = ANY($4))
                     OFFSET 0) q
             WINDOW w AS (PARTITION BY q.id ORDER BY q.est, q.stop_id)) x
   WHERE x.rn = 1
),
careful_sites AS (
  SELECT f.id, f.est FROM first f WHERE f.cls = 2
  UNION ALL
  SELECT s.id, NULL FROM k, rigenera.sites s
   WHERE k.r1 < k.r_hi AND s.geom_utm IS NOT NULL
     AND ($3::text[] IS NULL OR s.istat_code = ANY($3))
     AND ($4::text[] IS NULL OR s.state = ANY($4))
     AND NOT EXISTS (SELECT 1 FROM first f WHERE f.id = s.id)
),
careful AS (
  SELECT f.id, c.stop_id, c.dist
    FROM k, careful_sites f
    JOIN rigenera.sites s ON s.id = f.id
    CROSS JOIN LATERAL (
      SELECT coalesce(f.est, (SELECT s.geom_utm <-> t.geom_utm FROM rigenera.transit_stops t
                               WHERE ST_DWithin(t.geom_utm, s.geom_utm, k.r_hi)
                                 AND ($2::text[] IS NULL OR t.mode = ANY($2))
                               ORDER BY s.geom_utm <-> t.geom_utm LIMIT 1)) AS e) n
    CROSS JOIN LATERAL (
      SELECT t.id AS stop_id, ST_Distance(s.geom::geography, t.geom::geography) AS dist
        FROM rigenera.transit_stops t
       WHERE ST_DWithin(t.geom_utm, s.geom_utm,
                        least(k.r_hi, ((n.e + k.a) / (1 - k.eps)) * (1 + k.eps) + k.a))
         AND ($2::text[] IS NULL OR t.mode = ANY($2))
         AND (ST_Distance(t.geom_utm, s.geom_utm) - k.a) / (1 + k.eps) <= k.d
         AND ((ST_Distance(t.geom_utm, s.geom_utm) + k.a) / (1 - k.eps) <= k.d
              OR ST_DWithin(s.geom::geography, t.geom::geography, k.d))
       ORDER BY 2, 1 LIMIT 1) c
   WHERE n.e IS NOT NULL
),
outside AS (
  SELECT s.id, n.stop_id, n.dist
    FROM rigenera.sites s
    CROSS JOIN LATERAL (
      SELECT t.id AS stop_id, ST_Distance(s.geom::geography, t.geom::geography) AS dist
        FROM rigenera.transit_stops t
       WHERE ST_DWithin(s.geom::geography, t.geom::geography, $1)
         AND ($2::text[] IS NULL OR t.mode = ANY($2))
       ORDER BY 2, 1 LIMIT 1) n
   WHERE s.geom_utm IS NULL
     AND ($3::text[] IS NULL OR s.istat_code = ANY($3))
     AND ($4::text[] IS NULL OR s.state = ANY($4))
),
-- The sites found, rendered: the distance each reports (and ST_DWithin for the ones
-- the bound left open) measured on the published row the feature is rendered from.
found AS (
  SELECT id, stop_id, est, NULL::float8 AS dist FROM first WHERE cls = 1
  UNION ALL SELECT id, stop_id, NULL, dist FROM careful
  UNION ALL SELECT id, stop_id, NULL, dist FROM outside
)
SELECT count(*) AS returned,
       convert_to('{"type":"FeatureCollection","features":[' || coalesce(string_agg(
         '{"type":"Feature","id":' || p.id
         || ',"geometry":' || ST_AsGeoJSON(p.geom, 7)
         || ',"properties":{"id":' || p.id
         || ',"name":' || coalesce(to_json(p.name)::text, 'null')
         || ',"istat_code":' || coalesce(to_json(p.istat_code)::text, 'null')
         || ',"state":' || coalesce(to_json(p.state)::text, 'null')
         || ',"former_use":' || coalesce(to_json(p.former_use)::text, 'null')
         || ',"surface_m2":' || coalesce(to_json(p.surface_m2)::text, 'null')
         || ',"validation_status":' || coalesce(to_json(p.validation_status)::text, 'null')
         || ',"nearest_stop_id":' || t.id
         || ',"nearest_stop_name":' || coalesce(to_json(t.name)::text, 'null')
         || ',"nearest_stop_mode":' || coalesce(to_json(t.mode)::text, 'null')
         || ',"distance_m":' || round(g.dist::numeric, 1)
         || '}}', ',' ORDER BY p.id), '') || ']}', 'UTF8') AS body
  FROM k, found f
  JOIN pub.sites p ON p.id = f.id
  JOIN rigenera.transit_stops t ON t.id = f.stop_id
  CROSS JOIN LATERAL (
    SELECT coalesce(f.dist, ST_Distance(p.geom::geography, t.geom::geography)) AS dist) g
 WHERE f.dist IS NOT NULL OR (f.est + k.a) / (1 - k.eps) <= k.d
    OR ST_DWithin(p.geom::geography, t.geom::geography, k.d)
