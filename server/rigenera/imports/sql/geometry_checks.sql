-- The geometry of each staged row: present where the table needs one, not empty,
-- valid (with PostGIS's reason), of a type the table takes, inside the metro area
-- (rigenera.in_metro_area's rule: covered by the buffered union of the comuni). The
-- area is a scalar sub-select, the same value for every row, so GEOS keeps it prepared
-- from one row to the next (0.95 s for 100,000 polygons; piece by piece, where the
-- cache flips between pieces, 3.3 s; a function call per row rebuilds it every time).
INSERT INTO _imp_err (_row, field, reason, value)
SELECT q._row, 'geometry', q.reason,
       CASE WHEN q.geom IS NOT NULL THEN GeometryType(q.geom) || ' ' ||
         ST_AsText(ST_PointOnSurface(ST_Envelope(q.geom)), 6) END
  FROM (SELECT s._row, s.geom, CASE
          WHEN s.geom IS NULL THEN
            CASE WHEN {geom_required} THEN 'geometria mancante / geometry missing' END
          WHEN ST_IsEmpty(s.geom) THEN 'geometria vuota / empty geometry'
          WHEN NOT ST_IsValid(s.geom) THEN
            'geometria non valida / invalid geometry: ' || ST_IsValidReason(s.geom)
          WHEN NOT ({type_ok}) THEN
            format('tipo di geometria %%s non ammesso / geometry type %%s not allowed (%%s)',
                   GeometryType(s.geom), GeometryType(s.geom), {allowed})
          WHEN {check_area} AND NOT coalesce(
                 ST_Covers((SELECT m.geom FROM rigenera.metro_area m), s.geom), true) THEN
            'fuori dalla Città metropolitana di Milano / outside the metropolitan area'
        END AS reason
          FROM _imp_stage s OFFSET 0) q
 WHERE q.reason IS NOT NULL;
