-- 100,000 (%(n)s) seeded synthetic site polygons around Milan, each in the comune that
-- holds its centre: the benchmarks' load (bench/run.py, bench/plugin.py). psycopg2 paramstyle.
SET max_parallel_workers_per_gather = 0;
SELECT set_config('rigenera.import', 'on', true), set_config('rigenera.actor', 'import:bench', true),
       set_config('rigenera.comment', 'bench/synthetic_sites.sql', true);
SELECT setseed(0.4242);
CREATE TEMP TABLE candidate AS
SELECT n, ST_SetSRID(ST_MakePoint(8.95 + random() * 0.5, 45.3 + random() * 0.375), 4326) AS p,
       20 + random() * 60 AS radius, random() AS r1, random() AS r2
FROM generate_series(1, 170000) AS n;
INSERT INTO rigenera.sites (name, istat_code, state, former_use, ownership, source, source_id,
                            validation_status, geom)
SELECT 'Sito sintetico ' || s.n, c.istat_code,
       (ARRAY['abandoned','underused','partly_used','regenerated'])[1 + floor(s.r1 * 4)::int],
       (ARRAY['industrial','residential','tertiary','commercial','railway','rural'])
         [1 + floor(s.r2 * 6)::int],
       (ARRAY['public','private','mixed'])[1 + (s.n %% 3)],
       'Benchmark (dati sintetici)', 'bench-' || s.n, 'validated',
       ST_Buffer(s.p::geography, s.radius, 'quad_segs=2')::geometry
FROM candidate s
JOIN LATERAL (SELECT istat_code FROM rigenera.comuni c WHERE ST_Intersects(c.geom, s.p)
              ORDER BY istat_code LIMIT 1) c ON true
ORDER BY s.n
LIMIT %(n)s;
ANALYZE;
