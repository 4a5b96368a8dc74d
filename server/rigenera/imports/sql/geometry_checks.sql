-- The geometry of each staged row: present where the table needs one, not empty,
-- valid (with PostGIS's reason), of a type the table takes, inside the metro area
-- (a buffered comune piece that is its own box answers by the index alone; the
-- rest ask rigenera.in_metro_area, the rule of every other writer).
INSERT INTO _imp_err (_row, field, reason, value)
SELECT s._row, 'geometry', e.reason,
       CASE WHEN s.geom IS NOT NULL THEN GeometryType(s.geom) || ' ' ||
         ST_AsText(ST_PointOnSurface(ST_Envelope(s.geom)), 6) END
  FROM _imp_stage s
  CROSS JOIN LATERAL (
    SELECT CASE
      WHEN s.geom IS NULL THEN
        CASE WHEN {geom_required} THEN 'geometria mancante / geometry missing' END
      WHEN ST_IsEmpty(s.geom) THEN 'geometria vuota / empty geometry'
      WHEN NOT ST_IsValid(s.geom) THEN
        'geometria non valida / invalid geometry: ' || ST_IsValidReason(s.geom)
      WHEN NOT ({type_ok}) THEN
        format('tipo di geometria %%s non ammesso / geometry type %%s not allowed (%%s)',
               GeometryType(s.geom), GeometryType(s.geom), {allowed})
      WHEN {check_area} AND NOT (EXISTS (SELECT 1 FROM rigenera.comune_reach_pieces p
                                          WHERE p.geom ~ s.geom
                                            AND (p.is_box OR ST_Covers(p.geom, s.geom)))
                                 OR rigenera.in_metro_area(s.geom)) THEN
        'fuori dalla Città metropolitana di Milano / outside the metropolitan area'
    END AS reason) e
 WHERE e.reason IS NOT NULL;
