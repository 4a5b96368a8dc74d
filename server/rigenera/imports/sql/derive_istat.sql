-- A feature's comune when the file does not say it: the comune holding its point on
-- surface, as rigenera.comune_of() (the lowest code when on a border), set-wise.
UPDATE _imp_stage s SET istat_code = c.istat_code
  FROM (SELECT DISTINCT ON (x._row) x._row, k.istat_code
          FROM (SELECT _row, ST_PointOnSurface(geom) AS p FROM _imp_stage
                 WHERE istat_code IS NULL AND geom IS NOT NULL AND NOT ST_IsEmpty(geom)
                   AND ST_IsValid(geom)) x
          JOIN rigenera.comuni k ON ST_Intersects(k.geom, x.p)
         ORDER BY x._row, k.istat_code) c
 WHERE s._row = c._row;
