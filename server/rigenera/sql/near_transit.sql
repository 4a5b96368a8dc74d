-- Sites near public transport: the published sites within $1 metres of at least one
-- stop of the chosen modes, each with its nearest such stop, as GeoJSON text.
-- Parameters: $1 distance (m), $2 modes, $3 ISTAT codes, $4 states (text[]; NULL = all).
--
-- Same answer as the direct definition
--   ST_DWithin(s.geom::geography, t.geom::geography, $1) over rigenera.sites x transit_stops,
--   nearest = ORDER BY ST_Distance(s.geom::geography, t.geom::geography), t.id
-- (tests/test_processes.py compares both), faster even while rendering the GeoJSON, and
-- 4-30x faster for large radii (numbers in server/rigenera/processes/near_transit.py).
-- Geography distances cost ~10 us each and PostGIS can use the geometry index only
-- with a box, so:
-- 1. Candidates come from the geometry GIST index with a box safely larger than the
--    radius (degrees per metre taken at the highest latitude concerned, +1 %).
-- 2. Each candidate gets a cheap planar estimate: Web Mercator distance (stored
--    geom_3857) x cos(latitude). Below 70 degrees of latitude and within 5 km it is within
--    1 % of the geodesic distance (measured near Milan: within 0.17 %). Only candidates
--    whose estimate could be the minimum get the exact ST_Distance, and ST_DWithin is
--    called only when the estimate cannot decide it. Beyond 70 degrees the margins become
--    0 / infinity: every candidate is measured exactly.
-- 3. Two phases, so that a large radius stays cheap: phase 1 looks in a small box (about
--    the spacing of the stops); the nearest stop is then known to be within
--    least($1, smallest estimate x 1.02), and only sites whose bound exceeds the small box
--    (no stop nearby, or a sparse mode) are probed again with the larger box.
WITH reach AS MATERIALIZED (
  SELECT least($1, greatest(250.0, 1.5 * sqrt(area / greatest(n, 1)))) AS r0,
         1.01 / (111000.0 * cos(radians(least(89.0, max_lat + $1 * 1.01 / 110000.0)))) AS kx,
         1.01::float8 / 110000 AS ky,
         CASE WHEN max_lat + $1 / 110000.0 < 70 THEN 1 / 1.01::float8 ELSE 0 END AS lo,
         CASE WHEN max_lat + $1 / 110000.0 < 70 THEN 1.01::float8 ELSE 'Infinity' END AS hi,
         CASE WHEN max_lat + $1 / 110000.0 < 70 THEN 1.025::float8 ELSE 'Infinity' END AS band
    FROM (SELECT count(*) AS n, coalesce(max(abs(ST_Y(t.geom))), 0) AS max_lat,
                 coalesce((ST_XMax(ST_Extent(t.geom)) - ST_XMin(ST_Extent(t.geom))) * 111000.0
                          * cos(radians(avg(ST_Y(t.geom))))
                          * (ST_YMax(ST_Extent(t.geom)) - ST_YMin(ST_Extent(t.geom))) * 110000.0,
                          0) AS area
            FROM rigenera.transit_stops t
           WHERE $2::text[] IS NULL OR t.mode = ANY($2)) st
),
found AS (
  SELECT s.id, s.geom, n.stop_id, n.dist
    FROM reach r
    CROSS JOIN rigenera.sites s
    -- Phase 1, only when the radius exceeds the small box: the nearest stop is within
    -- least($1, smallest estimate in the small box x hi^2).
    CROSS JOIN LATERAL (
      SELECT CASE WHEN $1 <= r.r0 THEN $1 ELSE (
               SELECT least($1, coalesce(min(
                        ST_Distance(coalesce(s.geom_3857, ST_Transform(s.geom, 3857)),
                                    coalesce(t.geom_3857, ST_Transform(t.geom, 3857)))
                        * cos(radians(ST_Y(t.geom)))) * r.hi * r.hi, $1))
                 FROM rigenera.transit_stops t
                WHERE t.geom && ST_Expand(box2d(s.geom), r.r0 * r.kx, r.r0 * r.ky)
                  AND ($2::text[] IS NULL OR t.mode = ANY($2)))
             END AS bound
    ) b
    -- The candidates within the bound; the exact distance only for those whose estimate
    -- could be the smallest; the nearest by (distance, stop id).
    CROSS JOIN LATERAL (
      SELECT c.id AS stop_id, c.geom, c.est, ST_Distance(s.geom::geography, c.geom::geography) AS dist
        FROM (SELECT e.*, min(e.est) OVER () AS min_est
                FROM (SELECT t.id, t.geom,
                             ST_Distance(coalesce(s.geom_3857, ST_Transform(s.geom, 3857)),
                                         coalesce(t.geom_3857, ST_Transform(t.geom, 3857)))
                               * cos(radians(ST_Y(t.geom))) AS est
                        FROM rigenera.transit_stops t
                       WHERE t.geom && ST_Expand(box2d(s.geom), b.bound * r.kx, b.bound * r.ky)
                         AND ($2::text[] IS NULL OR t.mode = ANY($2))) e
               WHERE e.est <= $1 * r.hi) c
       WHERE c.est <= c.min_est * r.band + 0.01
       ORDER BY dist, c.id
       LIMIT 1
    ) n
   WHERE ($3::text[] IS NULL OR s.istat_code = ANY($3))
     AND ($4::text[] IS NULL OR s.state = ANY($4))
     AND (n.est <= $1 * r.lo OR ST_DWithin(s.geom::geography, n.geom::geography, $1))
)
SELECT count(*) AS returned,
       convert_to('{"type":"FeatureCollection","features":[' || coalesce(string_agg(
         '{"type":"Feature","id":' || p.id
         || ',"geometry":' || ST_AsGeoJSON(f.geom, 7)
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
         || ',"distance_m":' || round(f.dist::numeric, 1)
         || '}}', ',' ORDER BY p.id), '') || ']}', 'UTF8') AS body
  FROM found f
  JOIN pub.sites p ON p.id = f.id
  JOIN rigenera.transit_stops t ON t.id = f.stop_id
